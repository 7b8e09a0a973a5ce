//! From a GGUF header to what a decode step reads.
//!
//! Every tensor is one of four kinds, by llama.cpp's tensor names:
//! - lookup tables (`token_embd.weight` and the like): a step reads one row per token;
//! - routed experts (`*_exps.*`): a step reads `expert_used_count` of `expert_count` experts;
//! - the output head (`output.weight`, or `token_embd.weight` itself when there is no separate
//!   head: tied embeddings, counted once as the head);
//! - everything else (attention, dense feed-forward, shared experts, routers, norms): dense.
//!
//! Hyper-parameters follow the `{arch}.*` key convention that every llama.cpp architecture uses
//! (llama, qwen2, qwen3, qwen3moe, gemma, gpt-oss...), so an architecture halo-top has never
//! heard of still profiles; one without `{arch}.block_count` degrades to "every weight is read
//! every step" and says so in the notes.

use serde::Serialize;

use super::reader::{GgufHeader, MetaValue, TensorInfo};
use super::types::GgmlType;
use crate::model::{KvShape, ModelProfile};

/// How a decode step uses a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TensorRole {
    Dense,
    OutputHead,
    Lookup,
    Expert,
}

/// One tensor as the profile sees it (`halo-top model --json` lists them all).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TensorSummary {
    pub name: String,
    /// llama.cpp's name for the type (`q4_K`), or `type N` for one this build does not know.
    pub type_name: String,
    pub dims: Vec<u64>,
    pub elements: u64,
    pub bytes: u64,
    pub role: TensorRole,
}

/// Tables a step reads one row of (per token).
const LOOKUP_TABLES: &[&str] = &[
    "token_embd.weight",
    "position_embd.weight",
    "token_types.weight",
    "per_layer_token_embd.weight",
];

/// Sliding-window layouts llama.cpp hard-codes per architecture (`set_swa_pattern(n)`: in each
/// group of n layers the first n-1 use the window, the last attends to everything).
const SWA_PATTERNS: &[(&str, u64)] = &[("gemma2", 2), ("gemma3", 6), ("gpt-oss", 2)];

pub fn profile(header: &GgufHeader) -> (ModelProfile, Vec<TensorSummary>) {
    let meta = Meta {
        header,
        arch: header.metadata.get("general.architecture").and_then(MetaValue::as_str),
    };
    let mut notes = Vec::new();
    let tensors = summarize_tensors(header, &mut notes);

    let mut p = ModelProfile {
        architecture: meta.arch.map(str::to_string),
        name: meta.get("general.name").and_then(MetaValue::as_str).map(str::to_string),
        file_size_bytes: header.file_size_bytes,
        tensor_count: tensors.len() as u64,
        // Saturating: a corrupt header can list tensors whose sizes add up past u64 (found by
        // fuzzing); a saturated total is then far above the file's size, which the notes say.
        parameter_count: tensors.iter().fold(0, |sum, t| sum.saturating_add(t.elements)),
        weight_bytes: tensors.iter().fold(0, |sum, t| sum.saturating_add(t.bytes)),
        tied_embeddings: tensors
            .iter()
            .any(|t| t.role == TensorRole::OutputHead && t.name == "token_embd.weight"),
        expert_count: meta.arch_u64("expert_count").filter(|&n| n > 0),
        expert_used_count: meta.arch_u64("expert_used_count").filter(|&n| n > 0),
        context_length: meta.arch_u64("context_length"),
        ..ModelProfile::default()
    };
    for t in &tensors {
        match t.role {
            TensorRole::Dense => {
                p.dense_weight_bytes = p.dense_weight_bytes.saturating_add(t.bytes)
            }
            TensorRole::OutputHead => {
                p.dense_weight_bytes = p.dense_weight_bytes.saturating_add(t.bytes);
                p.output_head_bytes = p.output_head_bytes.saturating_add(t.bytes);
            }
            TensorRole::Lookup => {
                p.lookup_table_bytes = p.lookup_table_bytes.saturating_add(t.bytes);
                let rows = t.dims.iter().skip(1).fold(1u64, |n, &d| n.saturating_mul(d)).max(1);
                p.lookup_row_bytes = p.lookup_row_bytes.saturating_add(t.bytes / rows);
            }
            TensorRole::Expert => {
                p.expert_weight_bytes = p.expert_weight_bytes.saturating_add(t.bytes)
            }
        }
    }

    let data_bytes = header.file_size_bytes.saturating_sub(header.data_offset);
    if p.weight_bytes > data_bytes {
        notes.push(format!(
            "the file is {} bytes shorter than its tensors: an incomplete download?",
            p.weight_bytes - data_bytes
        ));
    }

    let understood = meta.arch.is_some() && meta.arch_u64("block_count").is_some();
    p.weight_bytes_per_step = if understood {
        // Saturating like the totals above: a corrupt header's sizes can add past u64.
        let experts = expert_share(&p, &mut notes);
        p.dense_weight_bytes.saturating_add(p.lookup_row_bytes).saturating_add(experts)
    } else {
        notes.push(match meta.arch {
            Some(arch) => format!("architecture {arch:?} has no {arch}.block_count: counted as dense, all weights read every step"),
            None => "no general.architecture: counted as dense, all weights read every step".into(),
        });
        p.weight_bytes
    };
    p.kv = if understood { kv_shape(&meta, &mut notes) } else { None };
    p.notes = notes;
    (p, tensors)
}

/// Bytes of routed experts one step reads.
fn expert_share(p: &ModelProfile, notes: &mut Vec<String>) -> u64 {
    if p.expert_weight_bytes == 0 {
        return 0;
    }
    match (p.expert_count, p.expert_used_count) {
        // `count > 0`: a header with expert_count 0 would divide by zero.
        (Some(count), Some(used)) if used <= count && count > 0 => {
            (u128::from(p.expert_weight_bytes) * u128::from(used) / u128::from(count)) as u64
        }
        _ => {
            notes.push("expert tensors without a valid expert_count/expert_used_count: all experts counted".into());
            p.expert_weight_bytes
        }
    }
}

fn summarize_tensors(header: &GgufHeader, notes: &mut Vec<String>) -> Vec<TensorSummary> {
    let has_output = header.tensors.iter().any(|t| t.name == "output.weight");
    // Sizes from the offsets, for types this build does not know: the distance to the next
    // tensor's data (padding included, at most alignment - 1 bytes too many).
    let mut by_offset: Vec<u64> = header.tensors.iter().map(|t| t.offset).collect();
    by_offset.sort_unstable();
    let data_bytes = header.file_size_bytes.saturating_sub(header.data_offset);
    let size_from_offsets = |t: &TensorInfo| {
        let next = by_offset.partition_point(|&o| o <= t.offset);
        by_offset.get(next).copied().unwrap_or(data_bytes).saturating_sub(t.offset)
    };

    let mut unknown_types = Vec::new();
    let tensors = header
        .tensors
        .iter()
        .map(|t| {
            let elements = t.elements().unwrap_or(0);
            let known = GgmlType::from_id(t.type_id);
            let bytes = known.and_then(|ty| ty.bytes_for(elements)).unwrap_or_else(|| {
                unknown_types.push(t.type_id);
                size_from_offsets(t)
            });
            let role = if t.name.contains("_exps") {
                TensorRole::Expert
            } else if t.name == "output.weight" || (!has_output && t.name == "token_embd.weight") {
                TensorRole::OutputHead
            } else if LOOKUP_TABLES.contains(&t.name.as_str()) {
                TensorRole::Lookup
            } else {
                TensorRole::Dense
            };
            TensorSummary {
                name: t.name.clone(),
                type_name: known
                    .map_or_else(|| format!("type {}", t.type_id), |ty| ty.name.to_string()),
                dims: t.dims.clone(),
                elements,
                bytes,
                role,
            }
        })
        .collect();
    unknown_types.sort_unstable();
    unknown_types.dedup();
    if !unknown_types.is_empty() {
        notes.push(format!(
            "tensor types {unknown_types:?} are unknown to this build (or do not fit their dims): their sizes come from the data offsets"
        ));
    }
    tensors
}

/// Reads hyper-parameters under `general.*` and `{arch}.*`.
struct Meta<'a> {
    header: &'a GgufHeader,
    arch: Option<&'a str>,
}

impl Meta<'_> {
    fn get(&self, key: &str) -> Option<&MetaValue> {
        self.header.metadata.get(key)
    }

    fn arch_key(&self, key: &str) -> Option<&MetaValue> {
        self.get(&format!("{}.{key}", self.arch?))
    }

    fn arch_u64(&self, key: &str) -> Option<u64> {
        self.arch_key(key)?.as_u64()
    }

    /// A per-layer hyper-parameter: a scalar for every layer, or an array with one per layer.
    fn per_layer(&self, key: &str, layers: u64) -> Option<Vec<u64>> {
        match self.arch_key(key)? {
            MetaValue::Array { len, numbers }
                if *len == layers && numbers.len() as u64 == layers =>
            {
                numbers
                    .iter()
                    .map(|&x| (x >= 0.0 && x.fract() == 0.0).then_some(x as u64))
                    .collect()
            }
            value => value.as_u64().map(|v| vec![v; layers as usize]),
        }
    }
}

/// More layers than any model has (the largest today have a few hundred). A corrupt header's
/// `block_count` of millions would otherwise cost seconds and gigabytes in the per-layer walk
/// below (found by the gguf_header fuzzer: 33 554 481 layers took 7 s).
const MAX_LAYERS: u64 = 16_384;

fn kv_shape(meta: &Meta, notes: &mut Vec<String>) -> Option<KvShape> {
    let layers = meta.arch_u64("block_count")?;
    if layers > MAX_LAYERS {
        notes.push(format!(
            "block_count {layers} is beyond any real model (at most {MAX_LAYERS} accepted): the KV cache is not counted"
        ));
        return None;
    }
    let Some(heads) = meta.per_layer("attention.head_count", layers) else {
        notes.push("no attention.head_count: the KV cache is not counted".into());
        return None;
    };
    if meta.arch_key("attention.kv_lora_rank").is_some() {
        notes.push("multi-head latent attention (kv_lora_rank): its compressed KV cache is not modelled, not counted".into());
        return None;
    }
    let kv_heads =
        meta.per_layer("attention.head_count_kv", layers).unwrap_or_else(|| heads.clone());
    let embedding = meta.arch_u64("embedding_length");
    let window = meta.arch_u64("attention.sliding_window").filter(|&w| w > 0);
    let swa = window.and_then(|_| sliding_layers(meta, layers, notes));
    // Hybrid models (qwen3-next, qwen3.5) keep a KV cache only in every n-th layer; the others
    // are recurrent.
    let full_attention_interval = meta.arch_u64("full_attention_interval").filter(|&n| n > 0);

    let mut shape =
        KvShape { sliding_window_tokens: window.filter(|_| swa.is_some()), ..KvShape::default() };
    for il in 0..layers as usize {
        if kv_heads[il] == 0
            || full_attention_interval.is_some_and(|n| !(il as u64 + 1).is_multiple_of(n))
        {
            continue;
        }
        let head_dim = embedding.zip(Some(heads[il]).filter(|&h| h > 0)).map(|(e, h)| e / h);
        let (Some(k_len), Some(v_len)) = (
            meta.arch_u64("attention.key_length").or(head_dim),
            meta.arch_u64("attention.value_length").or(head_dim),
        ) else {
            notes.push("no attention.key_length and no embedding_length/head_count: the KV cache is not counted".into());
            return None;
        };
        // Saturating: a corrupt header's head counts and lengths can multiply past u64.
        let (k, v) = (kv_heads[il].saturating_mul(k_len), kv_heads[il].saturating_mul(v_len));
        if swa.as_ref().is_some_and(|s| s[il]) {
            shape.window_layers += 1;
            shape.window_k_elements_per_token = shape.window_k_elements_per_token.saturating_add(k);
            shape.window_v_elements_per_token = shape.window_v_elements_per_token.saturating_add(v);
        } else {
            shape.full_layers += 1;
            shape.full_k_elements_per_token = shape.full_k_elements_per_token.saturating_add(k);
            shape.full_v_elements_per_token = shape.full_v_elements_per_token.saturating_add(v);
        }
    }
    Some(shape)
}

/// Which layers use the sliding window, when the model has one.
fn sliding_layers(meta: &Meta, layers: u64, notes: &mut Vec<String>) -> Option<Vec<bool>> {
    let pattern = match meta.arch_key("attention.sliding_window_pattern") {
        Some(MetaValue::Array { numbers, .. }) if numbers.len() as u64 == layers => {
            return Some(numbers.iter().map(|&x| x != 0.0).collect());
        }
        Some(value) => value.as_u64(),
        None => meta
            .arch
            .and_then(|a| SWA_PATTERNS.iter().find(|(name, _)| *name == a))
            .map(|&(_, n)| n),
    };
    match pattern {
        Some(n) if n > 0 => Some((0..layers).map(|il| il % n < n - 1).collect()),
        _ => {
            notes.push("a sliding window with no known layer pattern: every layer counted at the full context".into());
            None
        }
    }
}
