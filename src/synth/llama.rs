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

/// The architectures the synthetic models can take: llama itself, and the two Qwen
/// generations llama.cpp treats as their own architectures (NEOX RoPE; qwen2 adds Q/K/V
/// biases, qwen3 RMS norms on each Q and K head).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Llama,
    Qwen2,
    Qwen3,
}

impl Family {
    pub fn arch(self) -> &'static str {
        match self {
            Family::Llama => "llama",
            Family::Qwen2 => "qwen2",
            Family::Qwen3 => "qwen3",
        }
    }

    /// The tensors this family adds to a llama layer: random biases (qwen2) or per-head norm
    /// weights around 1 (qwen3), so a decoder that ignored them would produce other tokens.
    pub fn extra_weights(self, shape: &LlamaShape, seed: u64) -> Vec<Weight> {
        let mut rng = SplitMix64::new(seed ^ 0x5EED);
        let hd = shape.head_dim();
        let mut out = Vec::new();
        for l in 0..shape.n_layer {
            let mut vector = |name: String, n: usize, mean: f32, std: f32| {
                let data = rng.normal_vec(n, std).into_iter().map(|v| v + mean).collect();
                out.push(Weight { name, dims: vec![n], data });
            };
            match self {
                Family::Llama => {}
                Family::Qwen2 => {
                    vector(format!("blk.{l}.attn_q.bias"), shape.n_head * hd, 0.0, 0.5);
                    vector(format!("blk.{l}.attn_k.bias"), shape.n_head_kv * hd, 0.0, 0.5);
                    vector(format!("blk.{l}.attn_v.bias"), shape.n_head_kv * hd, 0.0, 0.5);
                }
                Family::Qwen3 => {
                    vector(format!("blk.{l}.attn_q_norm.weight"), hd, 1.0, 0.2);
                    vector(format!("blk.{l}.attn_k_norm.weight"), hd, 1.0, 0.2);
                }
            }
        }
        out
    }
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
    family_metadata(Family::Llama, shape, name, dtype)
}

/// [`model_metadata`] for any [`Family`] (keys prefixed with its architecture name).
pub fn family_metadata(
    family: Family,
    shape: &LlamaShape,
    name: &str,
    dtype: GgmlDType,
) -> Vec<(String, Value)> {
    let u = |n: usize| Value::U32(n as u32);
    let a = family.arch();
    let mut m = vec![
        ("general.architecture".to_string(), Value::String(a.into())),
        ("general.name".into(), Value::String(name.into())),
        ("general.file_type".into(), Value::U32(file_type(dtype))),
        ("general.quantization_version".into(), Value::U32(2)),
        (format!("{a}.vocab_size"), u(shape.n_vocab)),
        (format!("{a}.context_length"), u(shape.n_ctx)),
        (format!("{a}.embedding_length"), u(shape.n_embd)),
        (format!("{a}.block_count"), u(shape.n_layer)),
        (format!("{a}.feed_forward_length"), u(shape.n_ff)),
        (format!("{a}.attention.head_count"), u(shape.n_head)),
        (format!("{a}.attention.head_count_kv"), u(shape.n_head_kv)),
        // Must equal the head dimension for arch llama ("invalid n_rot" otherwise).
        (format!("{a}.rope.dimension_count"), u(shape.head_dim())),
        (format!("{a}.attention.layer_norm_rms_epsilon"), Value::F32(shape.rms_eps)),
        (format!("{a}.rope.freq_base"), Value::F32(shape.rope_freq_base)),
    ];
    if shape.n_expert > 0 {
        m.push((format!("{a}.expert_count"), u(shape.n_expert)));
        m.push((format!("{a}.expert_used_count"), u(shape.n_expert_used)));
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
    write_family_gguf(path, Family::Llama, shape, name, vocab, weights, dtype)
}

/// [`write_gguf`] for any [`Family`]; `weights` must include its [`Family::extra_weights`].
pub fn write_family_gguf(
    path: &Path,
    family: Family,
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
    let mut metadata = family_metadata(family, shape, name, dtype);
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
