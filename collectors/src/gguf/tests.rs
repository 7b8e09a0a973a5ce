//! Profiles of GGUF headers the tests write, checked against sums computed here by hand.

use std::path::Path;

use super::writer::{SparseGguf, Value};
use super::*;

/// Bytes of `elements` elements in ggml type `ty`, written out from ggml's block structs so the
/// check does not use the table under test.
fn ggml_bytes(ty: &str, elements: u64) -> u64 {
    let (block, bytes) = match ty {
        "f32" => (1, 4),
        "f16" => (1, 2),
        "q8_0" => (32, 2 + 32),                 // f16 scale + 32 int8
        "q4_0" => (32, 2 + 16),                 // f16 scale + 32 nibbles
        "q4_K" => (256, 2 + 2 + 12 + 128),      // d, dmin, 12 bytes of scales, 256 nibbles
        "q5_K" => (256, 2 + 2 + 12 + 32 + 128), // + 1 high bit per weight
        "q6_K" => (256, 128 + 64 + 16 + 2),     // low 4 bits, high 2 bits, int8 scales, d
        "q3_K" => (256, 32 + 64 + 12 + 2),
        "q2_K" => (256, 16 + 64 + 2 + 2),
        "iq4_xs" => (256, 2 + 2 + 4 + 128),
        "mxfp4" => (32, 1 + 16), // E8M0 exponent + 32 nibbles
        other => panic!("no hand-written size for {other}"),
    };
    assert_eq!(elements % block, 0);
    elements / block * bytes
}

/// A llama-style model: `layers` blocks, optional separate output head, optional MoE feed-forward.
struct Shape {
    arch: &'static str,
    layers: u64,
    dim: u64,
    heads: u64,
    kv_heads: u64,
    head_dim: u64,
    ffn: u64,
    vocab: u64,
    experts: Option<(u64, u64)>,
    tied: bool,
}

const SMALL_DENSE: Shape = Shape {
    arch: "llama",
    layers: 4,
    dim: 512,
    heads: 8,
    kv_heads: 2,
    head_dim: 64,
    ffn: 1536,
    vocab: 1024,
    experts: None,
    tied: false,
};

/// Writes the model, returning the file and every tensor as (name, type, elements).
fn write_model(
    dir: &Path,
    s: &Shape,
    types: &dyn Fn(&str, u64) -> &'static str,
) -> (std::path::PathBuf, Vec<(String, &'static str, u64)>) {
    let mut g = SparseGguf::default();
    let a = s.arch;
    g.kv("general.architecture", Value::Str(a.into()))
        .kv("general.name", Value::Str(format!("test-{a}")))
        .kv(&format!("{a}.block_count"), Value::U32(s.layers as u32))
        .kv(&format!("{a}.context_length"), Value::U32(8192))
        .kv(&format!("{a}.embedding_length"), Value::U32(s.dim as u32))
        .kv(&format!("{a}.attention.head_count"), Value::U32(s.heads as u32))
        .kv(&format!("{a}.attention.head_count_kv"), Value::U32(s.kv_heads as u32))
        .kv(&format!("{a}.attention.key_length"), Value::U32(s.head_dim as u32))
        .kv(&format!("{a}.attention.value_length"), Value::U32(s.head_dim as u32))
        .kv("tokenizer.ggml.tokens", Value::Strs((0..s.vocab).map(|i| format!("tok{i}")).collect()))
        .kv("tokenizer.ggml.scores", Value::F32s(vec![0.0; s.vocab as usize]));
    if let Some((count, used)) = s.experts {
        g.kv(&format!("{a}.expert_count"), Value::U32(count as u32))
            .kv(&format!("{a}.expert_used_count"), Value::U32(used as u32));
    }
    let mut list = Vec::new();
    let mut add = |g: &mut SparseGguf, name: String, dims: &[u64], layer: u64| {
        let ty = types(&name, layer);
        g.tensor(&name, dims, ty);
        list.push((name, ty, dims.iter().product()));
    };
    add(&mut g, "token_embd.weight".into(), &[s.dim, s.vocab], 0);
    let (q, kv) = (s.heads * s.head_dim, s.kv_heads * s.head_dim);
    for l in 0..s.layers {
        let b = |t: &str| format!("blk.{l}.{t}");
        add(&mut g, b("attn_norm.weight"), &[s.dim], l);
        add(&mut g, b("attn_q.weight"), &[s.dim, q], l);
        add(&mut g, b("attn_k.weight"), &[s.dim, kv], l);
        add(&mut g, b("attn_v.weight"), &[s.dim, kv], l);
        add(&mut g, b("attn_output.weight"), &[q, s.dim], l);
        add(&mut g, b("ffn_norm.weight"), &[s.dim], l);
        match s.experts {
            None => {
                add(&mut g, b("ffn_gate.weight"), &[s.dim, s.ffn], l);
                add(&mut g, b("ffn_up.weight"), &[s.dim, s.ffn], l);
                add(&mut g, b("ffn_down.weight"), &[s.ffn, s.dim], l);
            }
            Some((n, _)) => {
                add(&mut g, b("ffn_gate_inp.weight"), &[s.dim, n], l);
                add(&mut g, b("ffn_gate_exps.weight"), &[s.dim, s.ffn, n], l);
                add(&mut g, b("ffn_up_exps.weight"), &[s.dim, s.ffn, n], l);
                add(&mut g, b("ffn_down_exps.weight"), &[s.ffn, s.dim, n], l);
            }
        }
    }
    add(&mut g, "output_norm.weight".into(), &[s.dim], 0);
    if !s.tied {
        add(&mut g, "output.weight".into(), &[s.dim, s.vocab], 0);
    }
    let path = dir.join(format!("{a}.gguf"));
    let size = g.write(&path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size);
    (path, list)
}

/// K-quant mix in the style of llama.cpp's Q4_K_M: norms f32, some layers' attn_v and ffn_down
/// in q6_K, the output head q6_K, the rest q4_K.
fn q4_k_m(name: &str, layer: u64) -> &'static str {
    if name.ends_with("norm.weight") || name.ends_with("gate_inp.weight") {
        "f32"
    } else if name == "output.weight"
        || ((name.contains("attn_v") || name.contains("ffn_down")) && layer.is_multiple_of(3))
    {
        "q6_K"
    } else {
        "q4_K"
    }
}

#[test]
fn dense_k_quant_model_bytes_per_step_equal_a_sum_over_its_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let (path, tensors) = write_model(dir.path(), &SMALL_DENSE, &q4_k_m);
    let p = profile_file(&path).unwrap();
    let m = &p.profile;

    let all: u64 = tensors.iter().map(|(_, ty, n)| ggml_bytes(ty, *n)).sum();
    let embedding = ggml_bytes("q4_K", 512 * 1024);
    let embedding_row = ggml_bytes("q4_K", 512);
    assert_eq!(m.weight_bytes, all);
    assert_eq!(m.weight_bytes_per_step, all - embedding + embedding_row);
    assert_eq!(m.lookup_row_bytes, embedding_row);
    assert_eq!(m.output_head_bytes, ggml_bytes("q6_K", 512 * 1024));
    assert!(!m.tied_embeddings);
    assert_eq!(m.expert_weight_bytes, 0);
    assert_eq!(m.parameter_count, tensors.iter().map(|t| t.2).sum::<u64>());
    assert_eq!(m.architecture.as_deref(), Some("llama"));
    assert_eq!(m.context_length, Some(8192));
    assert!(m.notes.is_empty(), "{:?}", m.notes);
    assert!(p.tensors.iter().any(|t| t.type_name == "q6_K" && t.name == "blk.3.attn_v.weight"));

    // KV per token: 4 layers × 2 KV heads × 64 for K, the same for V.
    let kv = m.kv.as_ref().unwrap();
    assert_eq!(
        (kv.full_layers, kv.full_k_elements_per_token, kv.full_v_elements_per_token),
        (4, 512, 512)
    );
    assert_eq!(kv.window_layers, 0);
}

#[test]
fn moe_reads_only_the_used_experts() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape { arch: "qwen3moe", experts: Some((16, 4)), ffn: 256, ..SMALL_DENSE };
    let (path, tensors) = write_model(dir.path(), &shape, &q4_k_m);
    let m = profile_file(&path).unwrap().profile;

    let bytes = |keep: &dyn Fn(&str) -> bool| -> u64 {
        tensors.iter().filter(|(n, _, _)| keep(n)).map(|(_, ty, n)| ggml_bytes(ty, *n)).sum()
    };
    let experts = bytes(&|n| n.contains("_exps"));
    let dense = bytes(&|n| !n.contains("_exps") && n != "token_embd.weight");
    assert_eq!(m.expert_weight_bytes, experts);
    assert_eq!(m.dense_weight_bytes, dense);
    assert_eq!((m.expert_count, m.expert_used_count), (Some(16), Some(4)));
    assert_eq!(m.weight_bytes_per_step, dense + experts / 4 + ggml_bytes("q4_K", 512));
    assert!(m.weight_bytes_per_step < m.weight_bytes / 2);
}

#[test]
fn tied_embeddings_are_read_once_as_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape { arch: "gemma", tied: true, ..SMALL_DENSE };
    let (path, tensors) = write_model(dir.path(), &shape, &|name, _| {
        if name.ends_with("norm.weight") { "f32" } else { "q8_0" }
    });
    let m = profile_file(&path).unwrap().profile;
    let all: u64 = tensors.iter().map(|(_, ty, n)| ggml_bytes(ty, *n)).sum();
    assert!(m.tied_embeddings);
    assert_eq!(m.output_head_bytes, ggml_bytes("q8_0", 512 * 1024));
    assert_eq!(m.lookup_table_bytes, 0);
    // Every tensor once: the embedding table is the head, its row is part of that read.
    assert_eq!(m.weight_bytes_per_step, all);
}

#[test]
fn gpt_oss_mxfp4_experts_and_sliding_window_layers() {
    let dir = tempfile::tempdir().unwrap();
    let shape =
        Shape { arch: "gpt-oss", layers: 6, experts: Some((32, 4)), ffn: 256, ..SMALL_DENSE };
    let types = |name: &str, _| {
        if name.contains("_exps") {
            "mxfp4"
        } else if name.ends_with("norm.weight") || name.contains("gate_inp") {
            "f32"
        } else {
            "q8_0"
        }
    };
    let (path, tensors) = write_model(dir.path(), &shape, &types);
    let mut with_window = GgufHeader::read(&path).unwrap();
    assert_eq!(with_window.tensors.len(), tensors.len());
    with_window.metadata.insert("gpt-oss.attention.sliding_window".into(), MetaValue::Uint(128));
    let (m, _) = profile(&with_window);
    let experts: u64 =
        tensors.iter().filter(|t| t.0.contains("_exps")).map(|(_, ty, n)| ggml_bytes(ty, *n)).sum();
    assert_eq!(m.expert_weight_bytes, experts);
    assert_eq!(m.weight_bytes_per_step - m.dense_weight_bytes - m.lookup_row_bytes, experts / 8);
    let kv = m.kv.unwrap();
    // llama.cpp's pattern for gpt-oss: even layers use the window, odd layers see everything.
    assert_eq!((kv.window_layers, kv.full_layers), (3, 3));
    assert_eq!(kv.sliding_window_tokens, Some(128));
    assert_eq!(kv.window_k_elements_per_token, 3 * 2 * 64);
}

#[test]
fn per_layer_kv_heads_and_hybrid_layers() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_model(dir.path(), &SMALL_DENSE, &q4_k_m);
    let mut header = GgufHeader::read(&path).unwrap();
    header.metadata.insert(
        "llama.attention.head_count_kv".into(),
        MetaValue::Array { len: 4, numbers: vec![2.0, 0.0, 4.0, 2.0] },
    );
    let kv = profile(&header).0.kv.unwrap();
    assert_eq!((kv.full_layers, kv.full_k_elements_per_token), (3, (2 + 4 + 2) * 64));

    header.metadata.insert("llama.full_attention_interval".into(), MetaValue::Uint(2));
    let kv = profile(&header).0.kv.unwrap();
    assert_eq!(
        (kv.full_layers, kv.full_k_elements_per_token),
        (1, 2 * 64),
        "layer 1 has no KV, layer 3 has"
    );
}

#[test]
fn unknown_architecture_counts_every_weight_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.gguf");
    let mut g = SparseGguf::default();
    g.kv("general.architecture", Value::Str("mystery".into()))
        .tensor("token_embd.weight", &[256, 1000], "q8_0")
        .tensor("w.weight", &[256, 256], "f16");
    g.write(&path).unwrap();
    let m = profile_file(&path).unwrap().profile;
    assert_eq!(m.weight_bytes_per_step, m.weight_bytes);
    assert_eq!(m.weight_bytes, ggml_bytes("q8_0", 256_000) + ggml_bytes("f16", 65536));
    assert_eq!(m.kv, None);
    assert!(
        m.notes.iter().any(|n| n.contains("mystery") && n.contains("all weights")),
        "{:?}",
        m.notes
    );
}

#[test]
fn a_type_this_build_does_not_know_is_sized_from_the_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.gguf");
    let mut g = SparseGguf::default();
    g.kv("general.architecture", Value::Str("llama".into())).kv("llama.block_count", Value::U32(1));
    g.tensor("a.weight", &[256, 4], "q4_K");
    g.tensors.push(writer::TensorSpec {
        name: "b.weight".into(),
        dims: vec![256, 4],
        type_id: 99,
        bytes: 640,
    });
    g.tensor("c.weight", &[32], "f32");
    g.write(&path).unwrap();
    let p = profile_file(&path).unwrap();
    let b = p.tensors.iter().find(|t| t.name == "b.weight").unwrap();
    assert_eq!((b.type_name.as_str(), b.bytes), ("type 99", 640));
    assert!(p.profile.notes.iter().any(|n| n.contains("[99]")), "{:?}", p.profile.notes);
    let c = p.tensors.iter().find(|t| t.name == "c.weight").unwrap();
    assert_eq!(c.bytes, 128);
}

#[test]
fn bad_files_give_errors_that_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.gguf");
    let err = profile_file(&missing).unwrap_err().to_string();
    assert!(err.contains("missing.gguf"), "{err}");

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello world, not a model").unwrap();
    let err = profile_file(&text).unwrap_err().to_string();
    assert!(err.contains("notes.txt") && err.contains("not a GGUF file"), "{err}");

    // A real header cut short, and one whose string length is garbage.
    let (path, _) = write_model(dir.path(), &SMALL_DENSE, &q4_k_m);
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.gguf");
    std::fs::write(&cut, &bytes[..5000]).unwrap();
    let err = profile_file(&cut).unwrap_err().to_string();
    assert!(err.contains("cut.gguf") && err.contains("past the end"), "{err}");

    let mut garbage = bytes[..4096].to_vec();
    garbage[24..32].copy_from_slice(&u64::MAX.to_le_bytes()); // the first key's length
    let bad = dir.path().join("bad.gguf");
    std::fs::write(&bad, &garbage).unwrap();
    let err = profile_file(&bad).unwrap_err().to_string();
    assert!(err.contains("bad.gguf") && err.contains("implausible"), "{err}");

    let empty = dir.path().join("empty.gguf");
    std::fs::write(&empty, b"").unwrap();
    assert!(profile_file(&empty).unwrap_err().to_string().contains("empty.gguf"));
}

#[test]
fn a_file_shorter_than_its_tensors_is_noted() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_model(dir.path(), &SMALL_DENSE, &q4_k_m);
    let full = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(full - 1000).unwrap();
    let m = profile_file(&path).unwrap().profile;
    assert!(m.notes.iter().any(|n| n.contains("incomplete download")), "{:?}", m.notes);
}

#[test]
fn spec_text_describes_a_model() {
    let spec = "# a comment\nkv general.architecture str llama\nkv llama.block_count u32 1\n\
                kv tokenizer.ggml.tokens str[] 3\ntensor token_embd.weight q4_K 256 3 # trailing\n";
    let g = writer::SparseGguf::parse_spec(spec).unwrap();
    assert_eq!(g.tensors.len(), 1);
    assert_eq!(g.metadata[2].1, Value::Strs(vec!["t0".into(), "t1".into(), "t2".into()]));
    let err = writer::SparseGguf::parse_spec("tensor x q4_K 100").unwrap_err();
    assert!(err.contains("line 1") && err.contains("whole blocks"), "{err}");
    assert!(writer::SparseGguf::parse_spec("kv a u32 x").is_err());
}

#[test]
fn a_vocabulary_larger_than_the_read_buffer_is_skipped_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vocab.gguf");
    let mut g = SparseGguf::default();
    // ~3 MB of strings of varying length: many straddle the 1 MiB buffer boundaries.
    let tokens: Vec<String> = (0..200_000).map(|i| "x".repeat(i % 23)).collect();
    g.kv("general.architecture", Value::Str("llama".into()))
        .kv("tokenizer.ggml.tokens", Value::Strs(tokens))
        .kv("llama.block_count", Value::U32(1))
        .tensor("token_embd.weight", &[256, 10], "q8_0");
    g.write(&path).unwrap();
    let header = GgufHeader::read(&path).unwrap();
    assert_eq!(
        header.metadata["tokenizer.ggml.tokens"],
        MetaValue::Array { len: 200_000, numbers: vec![] }
    );
    assert_eq!(header.metadata["llama.block_count"], MetaValue::Uint(1));
    assert_eq!(header.tensors[0].name, "token_embd.weight");
    assert_eq!(header.tensors[0].dims, [256, 10]);
}

/// From the gguf_header fuzz target: a header whose tensors' sizes add up past u64. The totals
/// saturate (release builds would have wrapped them to small, wrong numbers), so no total is
/// below one of its parts, and the notes say the file is shorter than its tensors.
#[test]
fn tensor_sizes_that_add_past_u64_saturate() {
    let crash = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions/gguf_header/crash-8297c276a013c08f11e3de095ca171d4bf562c82");
    let p = profile_file(&crash).unwrap();
    let most_elements = p.tensors.iter().map(|t| t.elements).max().unwrap();
    let most_bytes = p.tensors.iter().map(|t| t.bytes).max().unwrap();
    assert!(p.profile.parameter_count >= most_elements, "{}", p.profile.parameter_count);
    assert!(p.profile.weight_bytes >= most_bytes, "{}", p.profile.weight_bytes);
    assert!(p.profile.dense_weight_bytes <= p.profile.weight_bytes);
}

/// A corrupt header claiming 33 554 481 layers (found by the fuzzer: it took 7 s and 5 GB of
/// per-layer vectors) is profiled without its KV cache, with a note saying why.
#[test]
fn an_implausible_layer_count_is_noted_not_walked() {
    let slow = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions/gguf_header/timeout-fd543725d0f96e2cc21765d0b1c63407a5168e53");
    let p = profile_file(&slow).unwrap();
    assert!(p.profile.kv.is_none());
    let notes = &p.profile.notes;
    assert!(notes.iter().any(|n| n.contains("block_count 33554481")), "{notes:?}");
}

/// Dense + lookup + expert bytes per step that add past u64 (a fuzzer's header) saturate
/// instead of wrapping into a small, wrong figure.
#[test]
fn bytes_per_step_that_add_past_u64_saturate() {
    let crash = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions/gguf_header/crash-9d3404eca7b40fa37a22846c6266b6b02d88f581");
    let p = profile_file(&crash).unwrap().profile;
    assert!(p.weight_bytes_per_step >= p.dense_weight_bytes, "{p:?}");
    assert!(p.weight_bytes_per_step >= p.lookup_row_bytes, "{p:?}");
}

/// KV elements per token that multiply and add past u64 (a fuzzer's header) saturate.
#[test]
fn kv_elements_that_add_past_u64_saturate() {
    let crash = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions/gguf_header/crash-dcb16d858dfb73efc7a72e84435f168624bc7e33");
    let p = profile_file(&crash).unwrap().profile;
    let kv = p.kv.expect("a KV shape, however implausible");
    assert_eq!(kv.full_v_elements_per_token, u64::MAX, "{kv:?}");
}
