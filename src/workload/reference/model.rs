//! The model: hyper-parameters from GGUF metadata and the weights as [`Matrix`]es, from a GGUF
//! file or from any other source of raw ggml tensors (the in-memory synthetic model).

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use candle_core::Device;
use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::quantized::{GgmlDType, QStorage, QTensor};

use super::matrix::Matrix;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Llama,
    /// Biases on Q, K, V.
    Qwen2,
    /// RMS norms on each head of Q and K.
    Qwen3,
    Qwen3Moe,
}

/// How RoPE pairs dimensions: llama.cpp's NORM rotates (2i, 2i+1) and is what arch llama
/// uses; NEOX rotates (i, i + d/2), for the Qwen families (HF's half-split layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopeMode {
    Norm,
    Neox,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub arch: Arch,
    pub n_layer: usize,
    pub n_embd: usize,
    pub n_ff: usize,
    pub n_head: usize,
    pub n_head_kv: usize,
    pub head_dim: usize,
    pub n_vocab: usize,
    pub n_ctx_train: usize,
    pub rms_eps: f32,
    pub rope_base: f32,
    pub rope: RopeMode,
    pub n_expert: usize,
    pub n_expert_used: usize,
}

impl Config {
    pub fn from_metadata(md: &HashMap<String, Value>) -> Result<Self> {
        let arch_name = md
            .get("general.architecture")
            .context("no general.architecture")?
            .to_string()
            .context("general.architecture is not a string")?
            .clone();
        let arch = match arch_name.as_str() {
            "llama" => Arch::Llama,
            "qwen2" => Arch::Qwen2,
            "qwen3" => Arch::Qwen3,
            "qwen3moe" => Arch::Qwen3Moe,
            other => {
                bail!("architecture {other:?} is not supported (llama, qwen2, qwen3, qwen3moe)")
            }
        };
        let get = |key: &str| md.get(&format!("{arch_name}.{key}"));
        let int = |key: &str| -> Result<usize> {
            let v = get(key).with_context(|| format!("no {arch_name}.{key}"))?;
            Ok(v.to_u64().or_else(|_| v.to_u32().map(u64::from))? as usize)
        };
        let opt_int = |key: &str| get(key).and_then(|v| v.to_u32().ok().map(|x| x as usize));
        let float =
            |key: &str, default: f32| get(key).and_then(|v| v.to_f32().ok()).unwrap_or(default);
        let n_embd = int("embedding_length")?;
        let n_head = int("attention.head_count")?;
        let n_expert = opt_int("expert_count").unwrap_or(0);
        let n_ff = if n_expert > 0 {
            opt_int("expert_feed_forward_length").map_or_else(|| int("feed_forward_length"), Ok)?
        } else {
            int("feed_forward_length")?
        };
        let n_vocab = match md.get("tokenizer.ggml.tokens") {
            Some(Value::Array(tokens)) => tokens.len(),
            _ => int("vocab_size")?,
        };
        Ok(Config {
            arch,
            n_layer: int("block_count")?,
            n_embd,
            n_ff,
            n_head,
            n_head_kv: opt_int("attention.head_count_kv").unwrap_or(n_head),
            head_dim: opt_int("attention.key_length").unwrap_or(n_embd / n_head.max(1)),
            n_vocab,
            n_ctx_train: opt_int("context_length").unwrap_or(2048),
            rms_eps: float("attention.layer_norm_rms_epsilon", 1e-6),
            rope_base: float("rope.freq_base", 10000.0),
            rope: if arch == Arch::Llama { RopeMode::Norm } else { RopeMode::Neox },
            n_expert,
            n_expert_used: opt_int("expert_used_count").unwrap_or(0),
        })
    }
}

/// A tensor as ggml stores it: type, candle-order dims, raw blocks.
pub struct RawTensor {
    pub dtype: GgmlDType,
    pub dims: Vec<usize>,
    pub bytes: Vec<u8>,
}

/// Where weights come from: a GGUF file or the synthetic generator.
pub trait TensorSource {
    fn tensor(&mut self, name: &str) -> Result<Option<RawTensor>>;
}

pub struct Expert {
    pub gate: Arc<Matrix>,
    pub up: Arc<Matrix>,
    pub down: Arc<Matrix>,
}

pub enum Ffn {
    Dense(Expert),
    Moe { router: Arc<Matrix>, experts: Vec<Expert> },
}

pub struct Layer {
    pub attn_norm: Vec<f32>,
    pub wq: Arc<Matrix>,
    pub wk: Arc<Matrix>,
    pub wv: Arc<Matrix>,
    pub wo: Arc<Matrix>,
    pub bias_qkv: Option<[Vec<f32>; 3]>,
    pub qk_norm: Option<[Vec<f32>; 2]>,
    pub ffn_norm: Vec<f32>,
    pub ffn: Ffn,
}

pub struct Model {
    pub config: Config,
    pub name: String,
    /// The type of most matrices (the attention Q projection's), for display.
    pub weight_type: GgmlDType,
    pub embed: Matrix,
    pub layers: Vec<Layer>,
    pub output_norm: Vec<f32>,
    pub output: Arc<Matrix>,
    /// Bytes of all weight matrices as our kernels (or candle's) stream them.
    pub weight_bytes: usize,
    /// The same matrices' bytes in the GGUF file (differs for Q4_K, which candle repacks).
    pub weight_file_bytes: usize,
}

impl Model {
    pub fn load(config: Config, name: String, src: &mut dyn TensorSource) -> Result<Self> {
        let matrix = |src: &mut dyn TensorSource, name: &str| -> Result<Arc<Matrix>> {
            let t = src.tensor(name)?.with_context(|| format!("tensor {name} is missing"))?;
            Ok(Arc::new(to_matrix(t).with_context(|| format!("tensor {name}"))?))
        };
        let mut layers = Vec::with_capacity(config.n_layer);
        for l in 0..config.n_layer {
            let p = format!("blk.{l}");
            let bias_qkv = match config.arch {
                Arch::Qwen2 => Some([
                    vector(src, &format!("{p}.attn_q.bias"))?,
                    vector(src, &format!("{p}.attn_k.bias"))?,
                    vector(src, &format!("{p}.attn_v.bias"))?,
                ]),
                _ => None,
            };
            let qk_norm = match config.arch {
                Arch::Qwen3 | Arch::Qwen3Moe => Some([
                    vector(src, &format!("{p}.attn_q_norm.weight"))?,
                    vector(src, &format!("{p}.attn_k_norm.weight"))?,
                ]),
                _ => None,
            };
            let ffn = if config.n_expert > 0 {
                let router = matrix(src, &format!("{p}.ffn_gate_inp.weight"))?;
                let [gate, up, down] = ["gate", "up", "down"].map(|w| {
                    let name = format!("{p}.ffn_{w}_exps.weight");
                    src.tensor(&name)?.with_context(|| format!("tensor {name} is missing"))
                });
                let (gate, up, down) =
                    (split_experts(gate?)?, split_experts(up?)?, split_experts(down?)?);
                let experts: Vec<Expert> = gate
                    .into_iter()
                    .zip(up)
                    .zip(down)
                    .map(|((gate, up), down)| Expert { gate, up, down })
                    .collect();
                Ffn::Moe { router, experts }
            } else {
                Ffn::Dense(Expert {
                    gate: matrix(src, &format!("{p}.ffn_gate.weight"))?,
                    up: matrix(src, &format!("{p}.ffn_up.weight"))?,
                    down: matrix(src, &format!("{p}.ffn_down.weight"))?,
                })
            };
            layers.push(Layer {
                attn_norm: vector(src, &format!("{p}.attn_norm.weight"))?,
                wq: matrix(src, &format!("{p}.attn_q.weight"))?,
                wk: matrix(src, &format!("{p}.attn_k.weight"))?,
                wv: matrix(src, &format!("{p}.attn_v.weight"))?,
                wo: matrix(src, &format!("{p}.attn_output.weight"))?,
                bias_qkv,
                qk_norm,
                ffn_norm: vector(src, &format!("{p}.ffn_norm.weight"))?,
                ffn,
            });
        }
        let embed_raw =
            src.tensor("token_embd.weight")?.context("tensor token_embd.weight is missing")?;
        // Models with tied embeddings (many Qwen) have no output.weight: the head is token_embd.
        let output = match src.tensor("output.weight")? {
            Some(t) => to_matrix(t).context("tensor output.weight")?,
            None => to_matrix(RawTensor {
                dtype: embed_raw.dtype,
                dims: embed_raw.dims.clone(),
                bytes: embed_raw.bytes.clone(),
            })?,
        };
        let embed = to_matrix(embed_raw).context("tensor token_embd.weight")?;
        let weight_type = layers.first().map_or(output.dtype, |l| l.wq.dtype);
        let total = |size: fn(&Matrix) -> usize| {
            let expert = |e: &Expert| size(&e.gate) + size(&e.up) + size(&e.down);
            let layer = |l: &Layer| {
                let ffn = match &l.ffn {
                    Ffn::Dense(e) => expert(e),
                    Ffn::Moe { router, experts } => {
                        size(router) + experts.iter().map(expert).sum::<usize>()
                    }
                };
                [&l.wq, &l.wk, &l.wv, &l.wo].iter().map(|m| size(m)).sum::<usize>() + ffn
            };
            size(&output) + layers.iter().map(layer).sum::<usize>()
        };
        let (bytes, file_bytes) = (total(Matrix::streamed_bytes), total(Matrix::file_bytes));
        Ok(Model {
            config,
            name,
            weight_type,
            embed,
            layers,
            output_norm: vector(src, "output_norm.weight")?,
            output: Arc::new(output),
            weight_bytes: bytes,
            weight_file_bytes: file_bytes,
        })
    }

    /// Loads a GGUF file.
    pub fn from_gguf(path: &Path) -> Result<Self> {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut reader = BufReader::new(file);
        let content = Content::read(&mut reader)
            .with_context(|| format!("{} is not a GGUF file", path.display()))?;
        let config = Config::from_metadata(&content.metadata)
            .with_context(|| format!("reading {}", path.display()))?;
        let name = match content.metadata.get("general.name") {
            Some(Value::String(s)) => s.clone(),
            _ => path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        };
        let mut src = GgufSource { content, reader };
        Model::load(config, name, &mut src).with_context(|| format!("loading {}", path.display()))
    }
}

struct GgufSource {
    content: Content,
    reader: BufReader<File>,
}

impl TensorSource for GgufSource {
    fn tensor(&mut self, name: &str) -> Result<Option<RawTensor>> {
        if !self.content.tensor_infos.contains_key(name) {
            return Ok(None);
        }
        let t = self.content.tensor(&mut self.reader, name, &Device::Cpu)?;
        Ok(Some(RawTensor {
            dtype: t.dtype(),
            dims: t.shape().dims().to_vec(),
            bytes: t.data()?.into_owned(),
        }))
    }
}

fn to_matrix(t: RawTensor) -> Result<Matrix> {
    let (rows, cols) = match t.dims.as_slice() {
        [rows, cols] => (*rows, *cols),
        [cols] => (1, *cols),
        other => bail!("expected a matrix, got dims {other:?}"),
    };
    match t.dtype {
        GgmlDType::Q4_0 | GgmlDType::Q8_0 | GgmlDType::Q4K | GgmlDType::F16 | GgmlDType::F32 => {
            Matrix::from_ggml_bytes(t.dtype, rows, cols, &t.bytes)
        }
        dtype => {
            let storage =
                QStorage::from_data(std::borrow::Cow::Owned(t.bytes), &Device::Cpu, dtype)?;
            Matrix::from_qtensor(QTensor::new(storage, (rows, cols))?)
        }
    }
}

/// A 3-D expert tensor `(n_expert, rows, cols)` as one matrix per expert.
fn split_experts(t: RawTensor) -> Result<Vec<Arc<Matrix>>> {
    let [n, rows, cols] = t.dims[..] else { bail!("expert tensor with dims {:?}", t.dims) };
    let per = t.bytes.len() / n.max(1);
    t.bytes
        .chunks_exact(per)
        .map(|b| {
            to_matrix(RawTensor { dtype: t.dtype, dims: vec![rows, cols], bytes: b.to_vec() })
                .map(Arc::new)
        })
        .collect()
}

/// A norm weight or bias, as f32.
fn vector(src: &mut dyn TensorSource, name: &str) -> Result<Vec<f32>> {
    let t = src.tensor(name)?.with_context(|| format!("tensor {name} is missing"))?;
    to_matrix(t)?.row(0).with_context(|| format!("tensor {name}"))
}
