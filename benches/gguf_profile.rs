//! Time to profile a GGUF model from its header (the model source re-profiles whenever the
//! served file changes; `halo-top model` does it once). Target: under 5 ms for a header with
//! 1000 tensors. Prints figures; `cargo bench --bench gguf_profile`.
//!
//! The files are header-only (sparse), written here: 1000 tensors of a llama-like model of 110
//! layers, once with a small vocabulary and once with Qwen3's (151 936 token strings, 151 387
//! merges), which dominates real headers; plus the real Qwen3-30B-A3B Q4_K_M tensor list.

use std::path::Path;
use std::time::Instant;

use halo_collectors::gguf::profile_file;
use halo_collectors::gguf::writer::{SparseGguf, Value};

fn thousand_tensors(vocab: usize) -> SparseGguf {
    let mut g = SparseGguf::default();
    g.kv("general.architecture", Value::Str("llama".into()))
        .kv("llama.block_count", Value::U32(111))
        .kv("llama.embedding_length", Value::U32(4096))
        .kv("llama.attention.head_count", Value::U32(32))
        .kv("llama.attention.head_count_kv", Value::U32(8))
        .kv("tokenizer.ggml.tokens", Value::Strs((0..vocab).map(|i| format!("token{i}")).collect()))
        .kv("tokenizer.ggml.token_type", Value::I32s(vec![1; vocab]))
        .kv(
            "tokenizer.ggml.merges",
            Value::Strs((0..vocab).map(|i| format!("m{i} n{i}")).collect()),
        );
    g.tensor("token_embd.weight", &[4096, 32000], "q4_K");
    for l in 0..111 {
        for (name, dims, ty) in [
            ("attn_norm.weight", &[4096u64][..], "f32"),
            ("attn_q.weight", &[4096, 4096], "q4_K"),
            ("attn_k.weight", &[4096, 1024], "q4_K"),
            ("attn_v.weight", &[4096, 1024], "q6_K"),
            ("attn_output.weight", &[4096, 4096], "q4_K"),
            ("ffn_norm.weight", &[4096], "f32"),
            ("ffn_gate.weight", &[4096, 14336], "q4_K"),
            ("ffn_up.weight", &[4096, 14336], "q4_K"),
            ("ffn_down.weight", &[14336, 4096], "q6_K"),
        ] {
            g.tensor(&format!("blk.{l}.{name}"), dims, ty);
        }
    }
    assert_eq!(g.tensors.len(), 1000);
    g
}

/// Median and p90 wall time of profiling `path`, in ms (the file is in the page cache).
fn measure(path: &Path, runs: usize) -> (f64, f64) {
    profile_file(path).expect("profile");
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(profile_file(path).expect("profile"));
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    (ms[runs / 2], ms[runs * 9 / 10])
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let qwen_spec = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gguf/qwen3-30b-a3b-Q4_K_M.txt"),
    )
    .expect("fixture");
    let cases = [
        ("1000 tensors, 1000-token vocabulary", thousand_tensors(1000)),
        (
            "1000 tensors, Qwen3-size vocabulary (151 936 tokens + merges)",
            thousand_tensors(151_936),
        ),
        (
            "Qwen3-30B-A3B Q4_K_M header (579 tensors, full vocabulary)",
            SparseGguf::parse_spec(&qwen_spec).expect("spec"),
        ),
    ];
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "GGUF header profiling (load average {})",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    for (i, (what, spec)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("model{i}.gguf"));
        let size = spec.write(&path).expect("write");
        let header_bytes = size - spec.data_bytes();
        let (median, p90) = measure(&path, 200);
        println!(
            "  {what}: header {:.1} MB of a {:.1} GB file: median {median:.2} ms, p90 {p90:.2} ms",
            header_bytes as f64 / 1e6,
            size as f64 / 1e9
        );
    }
    println!("  target: under 5 ms for a header with 1000 tensors");
}
