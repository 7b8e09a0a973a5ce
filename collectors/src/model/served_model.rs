use serde::{Deserialize, Serialize};

/// The model llama-server is serving, profiled from its GGUF header, and the memory bandwidth
/// its decode is measured against: the two fixed inputs of the roofline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelSection {
    /// The GGUF file, as given (`--model`) or as llama-server reports it (`/props` model_path).
    pub path: String,
    pub profile: ModelProfile,
    /// KV cache element types (llama-server's `--cache-type-k/-v`; it does not report them, so
    /// they come from halo-top's own flags, `f16` by default).
    #[serde(default)]
    pub kv_cache_type_k: String,
    #[serde(default)]
    pub kv_cache_type_v: String,
    /// The platform's theoretical memory bandwidth (e.g. 256 GB/s on Strix Halo), or the
    /// `--peak-bw` override; `None` on a machine halo-top does not know.
    #[serde(default)]
    pub peak_bandwidth_gbps: Option<f64>,
    /// Where the peak comes from, e.g. "AMD Strix Halo (PCI 1002:1586): LPDDR5X-8000 x 256 bit".
    #[serde(default)]
    pub peak_bandwidth_source: Option<String>,
    /// The best read bandwidth `halo-top calibrate` measured on this machine, if it was run.
    #[serde(default)]
    pub calibrated_read_gbps: Option<f64>,
}

/// What a model's decode step reads, from its GGUF header alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelProfile {
    /// `general.architecture`, e.g. `llama`, `qwen3moe`, `gpt-oss`.
    pub architecture: Option<String>,
    /// `general.name`.
    pub name: Option<String>,
    pub file_size_bytes: u64,
    pub tensor_count: u64,
    pub parameter_count: u64,
    /// All tensor data.
    pub weight_bytes: u64,
    /// Tensors every decode step reads in full: attention, dense feed-forward, shared experts,
    /// routers, norms and the output head.
    pub dense_weight_bytes: u64,
    /// The output head (`output.weight`, or the token embedding table when they are tied); it
    /// is part of `dense_weight_bytes`.
    pub output_head_bytes: u64,
    /// The output head is the token embedding table (no `output.weight`): counted once.
    pub tied_embeddings: bool,
    /// Lookup tables (token embeddings) of which a step reads one row per token.
    pub lookup_table_bytes: u64,
    pub lookup_row_bytes: u64,
    /// Routed experts (`*_exps` tensors); a step reads `expert_used_count` of `expert_count`.
    pub expert_weight_bytes: u64,
    pub expert_count: Option<u64>,
    pub expert_used_count: Option<u64>,
    /// Weight bytes one decode step reads: dense + one row of each lookup table + the routed
    /// experts' share (all weights for an architecture halo-top does not understand).
    pub weight_bytes_per_step: u64,
    /// `{arch}.context_length`: the context the model was trained for.
    pub context_length: Option<u64>,
    /// The KV cache's shape; `None` when the header does not say (see `notes`).
    pub kv: Option<KvShape>,
    /// What the profile had to assume, in words.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// KV cache elements one token of context adds, summed over layers, split by how far back the
/// layers attend. Bytes follow from the cache types (f16: 2 bytes, q8_0: 34 per 32...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KvShape {
    /// Layers that attend to the whole context (and so read all of it every step).
    pub full_layers: u64,
    pub full_k_elements_per_token: u64,
    pub full_v_elements_per_token: u64,
    /// Sliding-window layers (gemma 2/3, gpt-oss): they keep and read at most
    /// `sliding_window_tokens` of context.
    pub window_layers: u64,
    pub window_k_elements_per_token: u64,
    pub window_v_elements_per_token: u64,
    pub sliding_window_tokens: Option<u64>,
}
