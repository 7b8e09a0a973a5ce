use serde::{Deserialize, Serialize};

/// halo-top's own reference decoder (`--workload reference`): a llama-family decode loop on
/// the CPU whose bytes per token are counted from what its kernels stream.
///
/// Rates and percentiles cover the tokens decoded since the previous sample; they are `None`
/// while the model loads or when no token finished in that window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReferenceSection {
    /// `loading`, `running`.
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub model_name: Option<String>,
    /// `--synthetic 1.5GB:q8_0` or the GGUF path.
    #[serde(default)]
    pub model_source: String,
    /// The type of most matrices, e.g. `q8_0`.
    #[serde(default)]
    pub weight_type: Option<String>,
    /// Bytes of all weight matrices as the kernels stream them.
    #[serde(default)]
    pub weight_bytes: Option<u64>,
    /// Decoder threads (ours; candle's pool, used only for types without our kernels, is set
    /// to the same count).
    #[serde(default)]
    pub threads: u32,
    #[serde(default)]
    pub tokens_total: u64,
    /// Times the context filled up and was reset.
    #[serde(default)]
    pub context_resets_total: u64,
    #[serde(default)]
    pub context_tokens: u64,
    #[serde(default)]
    pub context_max_tokens: u64,
    #[serde(default)]
    pub decode_tok_s: Option<f64>,
    /// Prompt tokens per second, fed one token per step, when a prompt phase is configured.
    #[serde(default)]
    pub prompt_tok_s: Option<f64>,
    #[serde(default)]
    pub latency_ms_p50: Option<f64>,
    #[serde(default)]
    pub latency_ms_p90: Option<f64>,
    #[serde(default)]
    pub latency_ms_p99: Option<f64>,
    #[serde(default)]
    pub latency_ms_max: Option<f64>,
    /// Shares of decode time per class of operation (they sum to 1).
    #[serde(default)]
    pub op_share: Option<OpShareReading>,
    /// Bytes read per decoded token: weights as the kernels stream them (for Q4_K, which
    /// candle repacks on x86, 4/3 of the file's bytes), norms, the embedding row, KV.
    #[serde(default)]
    pub bytes_per_token: Option<f64>,
    /// `bytes_per_token × decode_tok_s`, in 1e9 bytes per second.
    #[serde(default)]
    pub effective_gb_s: Option<f64>,
    /// The bandwidths the roofline compares it with (`--peak-bw`, the known platform or the
    /// config file; the calibrated read ceiling), resolved when the workload started.
    #[serde(default)]
    pub peak_bandwidth_gbps: Option<f64>,
    #[serde(default)]
    pub calibrated_read_gbps: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpShareReading {
    /// Weight products (activation quantization included).
    pub matmul: f64,
    pub attention: f64,
    pub norm_rope: f64,
    /// Embedding lookup, residual adds, SwiGLU, expert routing, argmax.
    pub other: f64,
}
