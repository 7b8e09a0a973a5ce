use serde::{Deserialize, Serialize};

use super::AmdgpuDerived;
use super::LlamaRates;
use super::NvidiaDerived;
use super::RooflineFigures;

/// Figures derived from the raw sections by the hub's derive step, so that every consumer
/// shows the same number. Each is `None` until its inputs exist in two consecutive snapshots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// halo-top's own CPU use over the last interval, in % of one core.
    #[serde(default)]
    pub own_cpu_percent: Option<f64>,
    /// halo-top's own CPU time per snapshot over the last interval (its self-overhead).
    #[serde(default)]
    pub own_cpu_ms_per_sample: Option<f64>,
    /// Rates of each llama-server, matched to `Snapshot::llama` by URL and model id.
    #[serde(default)]
    pub llama: Vec<LlamaRates>,
    /// AMD GPU figures: throttle residency, energy, per-process engine busy %.
    #[serde(default)]
    pub amdgpu: AmdgpuDerived,
    /// Per NVIDIA device, energy and mean power over the last interval.
    #[serde(default)]
    pub nvidia: Vec<NvidiaDerived>,
    /// Bandwidth utilisation, decode ceiling and energy per token.
    #[serde(default)]
    pub roofline: RooflineFigures,
}
