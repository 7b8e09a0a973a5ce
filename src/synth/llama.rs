//! Random llama-architecture weights and the GGUF file that holds them.
//!
//! Tensor names and shapes are llama.cpp's `LLM_ARCH_LLAMA` ones. Shapes here are candle's
//! `(out, in)` order; the GGUF writer reverses them into ggml's `ne` order. Every tensor in the
//! file must be one llama.cpp uses (its loader refuses extra tensors).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result};
use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};

use super::rng::SplitMix64;
use super::vocab::Vocabulary;

/// The hyper-parameters of a llama-architecture model.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaShape {
    pub n_layer: usize,
    pub n_embd: usize,
    /// Feed-forward width (per expert for MoE).
    pub n_ff: usize,
    pub n_head: usize,
    pub n_head_kv: usize,
    pub n_vocab: usize,
    pub n_ctx: usize,
    /// 0 for a dense model.
    pub n_expert: usize,
    pub n_expert_used: usize,
    pub rms_eps: f32,
    pub rope_freq_base: f32,
}

impl LlamaShape {
    pub fn head_dim(&self) -> usize {
        self.n_embd / self.n_head
    }
}

/// One weight tensor in f32, before it is stored in its file type.
pub struct Weight {
    pub name: String,
    /// candle order: `(out, in)`, experts first for MoE.
    pub dims: Vec<usize>,
    pub data: Vec<f32>,
}

impl Weight {
    /// Norm vectors and the MoE router stay F32 in every file type, as llama.cpp's own
    /// converters and llama-quantize leave them.
    fn stays_f32(&self) -> bool {
        self.dims.len() == 1 || self.name.ends_with("ffn_gate_inp.weight")
    }
}

/// Random weights: matrices N(0, 1/fan_in), embeddings N(0, 1), the output head 4× larger so
/// the logits are peaked (greedy decoding is then stable against rounding noise), norms 1.
/// Layers from `scaled_from_layer` on have `attn_output` and `ffn_down` scaled by
/// `extra_scale`: their contribution to the residual stream is small, which makes a draft
/// made of the first layers agree with the target often, but not always.
pub fn random_weights(
    shape: &LlamaShape,
    seed: u64,
    scaled_from_layer: usize,
    extra_scale: f32,
) -> Vec<Weight> {
    let mut rng = SplitMix64::new(seed);
    let mut out = Vec::new();
    let matrix = |rng: &mut SplitMix64, name: String, dims: Vec<usize>, scale: f32| {
        let fan_in = *dims.last().unwrap_or(&1) as f32;
        let n = dims.iter().product();
        let data = rng.normal_vec(n, scale / fan_in.sqrt());
        Weight { name, dims, data }
    };
    let (d, hd) = (shape.n_embd, shape.head_dim());
    let ones = |name: String, n: usize| Weight { name, dims: vec![n], data: vec![1.0; n] };

    out.push(matrix(
        &mut rng,
        "token_embd.weight".into(),
        vec![shape.n_vocab, d],
        (d as f32).sqrt(),
    ));
    for l in 0..shape.n_layer {
        let s = if l >= scaled_from_layer { extra_scale } else { 1.0 };
        let p = format!("blk.{l}");
        out.push(ones(format!("{p}.attn_norm.weight"), d));
        out.push(matrix(&mut rng, format!("{p}.attn_q.weight"), vec![shape.n_head * hd, d], 1.0));
        out.push(matrix(
            &mut rng,
            format!("{p}.attn_k.weight"),
            vec![shape.n_head_kv * hd, d],
            1.0,
        ));
        out.push(matrix(
            &mut rng,
            format!("{p}.attn_v.weight"),
            vec![shape.n_head_kv * hd, d],
            1.0,
        ));
        out.push(matrix(
            &mut rng,
            format!("{p}.attn_output.weight"),
            vec![d, shape.n_head * hd],
            s,
        ));
        out.push(ones(format!("{p}.ffn_norm.weight"), d));
        let f = shape.n_ff;
        if shape.n_expert == 0 {
            out.push(matrix(&mut rng, format!("{p}.ffn_gate.weight"), vec![f, d], 1.0));
            out.push(matrix(&mut rng, format!("{p}.ffn_up.weight"), vec![f, d], 1.0));
            out.push(matrix(&mut rng, format!("{p}.ffn_down.weight"), vec![d, f], s));
        } else {
            let e = shape.n_expert;
            out.push(matrix(&mut rng, format!("{p}.ffn_gate_inp.weight"), vec![e, d], 1.0));
            out.push(matrix(&mut rng, format!("{p}.ffn_gate_exps.weight"), vec![e, f, d], 1.0));
            out.push(matrix(&mut rng, format!("{p}.ffn_up_exps.weight"), vec![e, f, d], 1.0));
            out.push(matrix(&mut rng, format!("{p}.ffn_down_exps.weight"), vec![e, d, f], s));
        }
    }
    out.push(ones("output_norm.weight".into(), d));
    out.push(matrix(&mut rng, "output.weight".into(), vec![shape.n_vocab, d], 4.0));
    out
}

/// llama.cpp's `llama_ftype` for `general.file_type` (display only).
fn file_type(dtype: GgmlDType) -> u32 {
    match dtype {
        GgmlDType::F32 => 0,
        GgmlDType::F16 => 1,
        GgmlDType::Q4_0 => 2,
        GgmlDType::Q8_0 => 7,
        GgmlDType::Q4K => 14,
        GgmlDType::Q6K => 18,
        _ => 0,
    }
}

/// The `general.*` and `llama.*` metadata. llama.cpp's `get_key` rejects a key of the wrong
/// type, so integers are U32 and eps/freq_base F32.
pub fn model_metadata(shape: &LlamaShape, name: &str, dtype: GgmlDType) -> Vec<(String, Value)> {
    let u = |n: usize| Value::U32(n as u32);
    let mut m = vec![
        ("general.architecture".to_string(), Value::String("llama".into())),
        ("general.name".into(), Value::String(name.into())),
        ("general.file_type".into(), Value::U32(file_type(dtype))),
        ("general.quantization_version".into(), Value::U32(2)),
        ("llama.vocab_size".into(), u(shape.n_vocab)),
        ("llama.context_length".into(), u(shape.n_ctx)),
        ("llama.embedding_length".into(), u(shape.n_embd)),
        ("llama.block_count".into(), u(shape.n_layer)),
        ("llama.feed_forward_length".into(), u(shape.n_ff)),
        ("llama.attention.head_count".into(), u(shape.n_head)),
        ("llama.attention.head_count_kv".into(), u(shape.n_head_kv)),
        // Must equal the head dimension for arch llama ("invalid n_rot" otherwise).
        ("llama.rope.dimension_count".into(), u(shape.head_dim())),
        ("llama.attention.layer_norm_rms_epsilon".into(), Value::F32(shape.rms_eps)),
        ("llama.rope.freq_base".into(), Value::F32(shape.rope_freq_base)),
    ];
    if shape.n_expert > 0 {
        m.push(("llama.expert_count".into(), u(shape.n_expert)));
        m.push(("llama.expert_used_count".into(), u(shape.n_expert_used)));
    }
    m
}

/// Stores `weights` in `dtype` (norms and router in F32) and writes a GGUF file llama.cpp loads.
pub fn write_gguf(
    path: &Path,
    shape: &LlamaShape,
    name: &str,
    vocab: &Vocabulary,
    weights: &[Weight],
    dtype: GgmlDType,
) -> Result<()> {
    let mut tensors = Vec::with_capacity(weights.len());
    for w in weights {
        let t = Tensor::from_slice(&w.data, w.dims.as_slice(), &Device::Cpu)?;
        let ty = if w.stays_f32() { GgmlDType::F32 } else { dtype };
        let q = QTensor::quantize(&t, ty)
            .with_context(|| format!("quantizing {} to {ty:?}", w.name))?;
        tensors.push((w.name.as_str(), q));
    }
    let mut metadata = model_metadata(shape, name, dtype);
    metadata.extend(vocab.metadata());
    let metadata_refs: Vec<(&str, &Value)> =
        metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, q)| (*k, q)).collect();
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut writer = BufWriter::new(file);
    gguf_file::write(&mut writer, &metadata_refs, &tensor_refs)
        .with_context(|| format!("writing {}", path.display()))?;
    std::io::Write::flush(&mut writer).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
