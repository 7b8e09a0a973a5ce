//! A synthetic model made in memory from a size and a type (`1.5GB:q8_0`), with the shapes of
//! a real llama-family model: the embedded default workload, no file, ready in about a second.
//! Quantized blocks are random bytes with fixed, sane scales (writing blocks directly is ~50×
//! faster than quantizing random floats, and streams exactly like a real model).

use std::fmt;
use std::str::FromStr;

use anyhow::{Result, bail};
use candle_core::quantized::GgmlDType;

use super::llama::LlamaShape;
use super::rng::SplitMix64;
use crate::workload::reference::model::{Arch, Config, Model, RawTensor, RopeMode, TensorSource};

/// A size and a weight type, e.g. `1.5GB:q8_0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticSpec {
    pub bytes: u64,
    pub dtype: GgmlDType,
}

impl Default for SyntheticSpec {
    /// Well beyond any CPU cache (Strix Halo: 64 MB of L3), small enough to start at once.
    fn default() -> Self {
        SyntheticSpec { bytes: 1_500_000_000, dtype: GgmlDType::Q8_0 }
    }
}

impl FromStr for SyntheticSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (size, ty) = text.split_once(':').unwrap_or((text, "q8_0"));
        let size = size.trim().to_ascii_uppercase();
        let split = size.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(size.len());
        let (num, unit) = size.split_at(split);
        let scale = match unit {
            "" | "B" => 1.0,
            "KB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            "KIB" => 1024.0,
            "MIB" => 1024.0 * 1024.0,
            "GIB" => 1024.0 * 1024.0 * 1024.0,
            _ => {
                return Err(format!(
                    "{text:?}: unknown size unit {unit:?} (use MB, GB, MiB or GiB)"
                ));
            }
        };
        let num: f64 = num.parse().map_err(|_| format!("{text:?}: {num:?} is not a number"))?;
        let bytes = num * scale;
        if !(1e6..=1e12).contains(&bytes) {
            return Err(format!("{text:?}: the size must be between 1MB and 1000GB"));
        }
        let dtype = match ty.to_ascii_lowercase().as_str() {
            "q4_0" => GgmlDType::Q4_0,
            "q8_0" => GgmlDType::Q8_0,
            "f16" => GgmlDType::F16,
            "q4_k" => GgmlDType::Q4K,
            other => {
                return Err(format!(
                    "{text:?}: type {other:?} is not one of q4_0, q8_0, q4_k, f16"
                ));
            }
        };
        Ok(SyntheticSpec { bytes: bytes as u64, dtype })
    }
}

impl fmt::Display for SyntheticSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}GB:{}", self.bytes as f64 / 1e9, type_name(self.dtype))
    }
}

pub fn type_name(dtype: GgmlDType) -> &'static str {
    match dtype {
        GgmlDType::Q4_0 => "q4_0",
        GgmlDType::Q8_0 => "q8_0",
        GgmlDType::F16 => "f16",
        GgmlDType::F32 => "f32",
        GgmlDType::Q4K => "q4_K",
        GgmlDType::Q6K => "q6_K",
        _ => "other",
    }
}

/// Shapes of real models: (name, layers, n_embd, n_ff, heads, kv heads, vocab).
const FAMILIES: [(&str, usize, usize, usize, usize, usize, usize); 5] = [
    ("TinyLlama-1.1B", 22, 2048, 5632, 32, 4, 32000),
    ("Llama-3.2-3B", 28, 3072, 8192, 24, 8, 128256),
    ("Llama-3.1-8B", 32, 4096, 14336, 32, 8, 128256),
    ("Qwen2.5-32B", 64, 5120, 27648, 40, 8, 152064),
    ("Llama-3.1-70B", 80, 8192, 28672, 64, 8, 128256),
];

fn bytes_of(elements: usize, dtype: GgmlDType) -> u64 {
    (elements / dtype.block_size() * dtype.type_size()) as u64
}

/// The family whose full size at `spec.dtype` is nearest below 1.25 × the size (else the
/// smallest), with as many layers as make up the size (at least one).
pub fn shape_for(spec: SyntheticSpec) -> (String, LlamaShape) {
    let shape = |f: &(&str, usize, usize, usize, usize, usize, usize)| LlamaShape {
        n_layer: f.1,
        n_embd: f.2,
        n_ff: f.3,
        n_head: f.4,
        n_head_kv: f.5,
        n_vocab: f.6,
        n_ctx: 4096,
        n_expert: 0,
        n_expert_used: 0,
        rms_eps: 1e-5,
        rope_freq_base: 10000.0,
    };
    let layer_bytes = |s: &LlamaShape| {
        let hd = s.head_dim();
        let attn = s.n_embd * (2 * s.n_head * hd + 2 * s.n_head_kv * hd);
        bytes_of(attn + 3 * s.n_embd * s.n_ff, spec.dtype)
    };
    let head_bytes = |s: &LlamaShape| 2 * bytes_of(s.n_vocab * s.n_embd, spec.dtype);
    let fits = |f: &&(&str, usize, usize, usize, usize, usize, usize)| {
        let s = shape(f);
        (head_bytes(&s) + s.n_layer as u64 * layer_bytes(&s)) as f64 <= 1.25 * spec.bytes as f64
    };
    let family = FAMILIES.iter().rev().find(fits).unwrap_or(&FAMILIES[0]);
    let mut s = shape(family);
    // Only the output head is streamed per token, not the embedding table: size by that.
    let head = head_bytes(&s) / 2;
    s.n_layer =
        (spec.bytes.saturating_sub(head) as f64 / layer_bytes(&s) as f64).round().max(1.0) as usize;
    (format!("synthetic {}-shaped, {} layers, {}", family.0, s.n_layer, type_name(spec.dtype)), s)
}

pub fn config_for(s: &LlamaShape) -> Config {
    Config {
        arch: Arch::Llama,
        n_layer: s.n_layer,
        n_embd: s.n_embd,
        n_ff: s.n_ff,
        n_head: s.n_head,
        n_head_kv: s.n_head_kv,
        head_dim: s.head_dim(),
        n_vocab: s.n_vocab,
        n_ctx_train: s.n_ctx,
        rms_eps: s.rms_eps,
        rope_base: s.rope_freq_base,
        rope: RopeMode::Norm,
        n_expert: 0,
        n_expert_used: 0,
    }
}

/// Builds the synthetic model for `spec`.
pub fn build(spec: SyntheticSpec) -> Result<Model> {
    let (name, shape) = shape_for(spec);
    let mut src = SyntheticSource { shape: shape.clone(), dtype: spec.dtype };
    Model::load(config_for(&shape), name, &mut src)
}

/// Writes the synthetic model for `spec` as a GGUF file llama.cpp loads (an SPM vocabulary of
/// the family's size), for comparisons on the very same weights.
pub fn write_gguf(spec: SyntheticSpec, path: &std::path::Path) -> Result<String> {
    use anyhow::Context;
    use candle_core::quantized::gguf_file::{self, Value};
    use candle_core::quantized::{QStorage, QTensor};

    let (name, shape) = shape_for(spec);
    let mut src = SyntheticSource { shape: shape.clone(), dtype: spec.dtype };
    let mut names = vec!["token_embd.weight".to_string()];
    for l in 0..shape.n_layer {
        for t in [
            "attn_norm",
            "attn_q",
            "attn_k",
            "attn_v",
            "attn_output",
            "ffn_norm",
            "ffn_gate",
            "ffn_up",
            "ffn_down",
        ] {
            names.push(format!("blk.{l}.{t}.weight"));
        }
    }
    names.extend(["output_norm.weight".to_string(), "output.weight".to_string()]);
    let mut tensors = Vec::with_capacity(names.len());
    for n in &names {
        let t = src.tensor(n)?.with_context(|| format!("no synthetic tensor {n}"))?;
        let storage = QStorage::from_data(
            std::borrow::Cow::Owned(t.bytes),
            &candle_core::Device::Cpu,
            t.dtype,
        )?;
        tensors.push(QTensor::new(storage, t.dims.as_slice())?);
    }
    let mut metadata = super::llama::model_metadata(&shape, &name, spec.dtype);
    metadata.extend(super::vocab::Vocabulary::spm_sized(shape.n_vocab).metadata());
    let md: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let ts: Vec<(&str, &QTensor)> = names.iter().map(String::as_str).zip(&tensors).collect();
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    gguf_file::write(&mut w, &md, &ts).with_context(|| format!("writing {}", path.display()))?;
    std::io::Write::flush(&mut w).with_context(|| format!("writing {}", path.display()))?;
    Ok(name)
}

/// Generates each tensor when the loader asks for it, seeded by its name.
pub struct SyntheticSource {
    pub shape: LlamaShape,
    pub dtype: GgmlDType,
}

impl SyntheticSource {
    fn dims(&self, name: &str) -> Option<Vec<usize>> {
        let s = &self.shape;
        let (d, hd) = (s.n_embd, s.head_dim());
        // "blk.3.attn_q.weight" → "attn_q", "output_norm.weight" → "output_norm".
        let kind = name.split('.').rev().nth(1).unwrap_or("");
        Some(match kind {
            "token_embd" | "output" => vec![s.n_vocab, d],
            "attn_norm" | "ffn_norm" | "output_norm" => vec![d],
            "attn_q" => vec![s.n_head * hd, d],
            "attn_k" | "attn_v" => vec![s.n_head_kv * hd, d],
            "attn_output" => vec![d, s.n_head * hd],
            "ffn_gate" | "ffn_up" => vec![s.n_ff, d],
            "ffn_down" => vec![d, s.n_ff],
            _ => return None,
        })
    }
}

impl TensorSource for SyntheticSource {
    fn tensor(&mut self, name: &str) -> Result<Option<RawTensor>> {
        let Some(dims) = self.dims(name) else { return Ok(None) };
        if dims.len() == 1 {
            let bytes = vec![1f32; dims[0]].iter().flat_map(|v| v.to_le_bytes()).collect();
            return Ok(Some(RawTensor { dtype: GgmlDType::F32, dims, bytes }));
        }
        let (rows, cols) = (dims[0], dims[1]);
        let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let mut rng = SplitMix64::new(seed);
        let n_bytes = bytes_of(rows * cols, self.dtype) as usize;
        let mut bytes = vec![0u8; n_bytes.div_ceil(8) * 8];
        for chunk in bytes.chunks_exact_mut(8) {
            chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
        }
        bytes.truncate(n_bytes);
        // Scales that keep every matrix product near unit variance: uniform random quants
        // have a std of about 74 (Q8_0) or 4.6 (Q4_0 nibbles minus 8).
        let fan_in = (cols as f32).sqrt();
        match self.dtype {
            GgmlDType::Q8_0 | GgmlDType::Q4_0 => {
                let (block, q_std) =
                    if self.dtype == GgmlDType::Q8_0 { (34, 74.0) } else { (18, 4.6) };
                let d = half::f16::from_f32(1.0 / (q_std * fan_in)).to_le_bytes();
                for b in bytes.chunks_exact_mut(block) {
                    b[..2].copy_from_slice(&d);
                }
            }
            GgmlDType::F16 => {
                // Random sign and mantissa, magnitude in [2^-6, 2^-5): about 1/sqrt(2048).
                for h in bytes.chunks_exact_mut(2) {
                    let bits = (u16::from_le_bytes([h[0], h[1]]) & 0x83FF) | 0x2400;
                    h.copy_from_slice(&bits.to_le_bytes());
                }
            }
            GgmlDType::Q4K => {
                // Super-blocks of 256: f16 d and dmin, 12 bytes of 6-bit scales and mins
                // (random), 128 bytes of nibbles (random).
                let d = half::f16::from_f32(1.0 / (4.6 * 32.0 * fan_in)).to_le_bytes();
                let dmin = half::f16::from_f32(8.0 / (4.6 * 32.0 * fan_in)).to_le_bytes();
                for b in bytes.chunks_exact_mut(144) {
                    b[..2].copy_from_slice(&d);
                    b[2..4].copy_from_slice(&dmin);
                }
            }
            other => bail!("synthetic weights of type {other:?} are not supported"),
        }
        Ok(Some(RawTensor { dtype: self.dtype, dims, bytes }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes_and_types() {
        let s: SyntheticSpec = "1.5GB:q8_0".parse().unwrap();
        assert_eq!((s.bytes, s.dtype), (1_500_000_000, GgmlDType::Q8_0));
        let s: SyntheticSpec = "512MiB:Q4_0".parse().unwrap();
        assert_eq!((s.bytes, s.dtype), (512 << 20, GgmlDType::Q4_0));
        assert!("1.5XB:q8_0".parse::<SyntheticSpec>().is_err());
        assert!("1GB:q5_1".parse::<SyntheticSpec>().is_err());
        assert!("0GB".parse::<SyntheticSpec>().is_err());
    }

    #[test]
    fn picks_a_real_family_and_lands_near_the_size() {
        let spec: SyntheticSpec = "1.5GB:q8_0".parse().unwrap();
        let (name, shape) = shape_for(spec);
        assert!(name.contains("TinyLlama"), "{name}");
        assert_eq!((shape.n_embd, shape.n_ff, shape.n_head_kv), (2048, 5632, 4));
        let (name, shape) = shape_for("8GB:q8_0".parse().unwrap());
        assert!(name.contains("Llama-3.1-8B"), "{name}");
        assert!((28..=36).contains(&shape.n_layer), "{}", shape.n_layer);
    }
}
