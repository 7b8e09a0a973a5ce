use serde::{Deserialize, Serialize};

/// How close decode runs to the memory-bandwidth roofline, derived once per snapshot (see the
/// app's `derive::roofline`). Every figure is `None` until its inputs exist.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RooflineFigures {
    /// Bytes one decode step reads at the current load: the weights once, plus each busy slot's
    /// KV cache at its context (no slots known: the weights alone).
    #[serde(default)]
    pub bytes_per_step: Option<f64>,
    #[serde(default)]
    pub weight_bytes_per_step: Option<u64>,
    #[serde(default)]
    pub kv_bytes_per_step: Option<f64>,
    /// Decode steps (target-model `llama_decode` calls) per second.
    #[serde(default)]
    pub decode_steps_per_s: Option<f64>,
    /// Tokens one step produces: busy slots, more with speculative decoding.
    #[serde(default)]
    pub tokens_per_step: Option<f64>,
    /// decode steps/s × bytes per step.
    #[serde(default)]
    pub achieved_gbps: Option<f64>,
    #[serde(default)]
    pub peak_gbps: Option<f64>,
    #[serde(default)]
    pub utilisation_of_peak_percent: Option<f64>,
    /// The best read bandwidth `halo-top calibrate` measured here.
    #[serde(default)]
    pub calibrated_gbps: Option<f64>,
    #[serde(default)]
    pub utilisation_of_calibrated_percent: Option<f64>,
    /// Tokens/s the peak bandwidth allows at the current contexts and tokens per step.
    #[serde(default)]
    pub ceiling_tok_s: Option<f64>,
    /// DRAM reads + writes from the GPU's own counters (`gpu_metrics`), an independent figure.
    #[serde(default)]
    pub counter_dram_gbps: Option<f64>,
    /// The counters are u16 MB/s and stop near 64 GB/s: above that the figure is a floor.
    #[serde(default)]
    pub counter_dram_saturated: Option<bool>,
    /// Energy per generated token: power ÷ generated tokens/s.
    #[serde(default)]
    pub joules_per_token: Option<f64>,
    /// Which power reading `joules_per_token` uses, e.g. "socket" or "device".
    #[serde(default)]
    pub power_source: Option<String>,
}
