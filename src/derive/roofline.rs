//! The memory-bandwidth roofline. Decode is memory-bound: each step reads the active weights
//! once and every busy slot's KV cache at its context, so
//!
//! - bytes per step = weight bytes per step (dense + one embedding row + the used experts'
//!   share, from the GGUF profile) + Σ over busy slots of the KV bytes at that slot's context;
//! - achieved GB/s = decode steps/s × bytes per step (a step serves one token per busy slot,
//!   more when speculative decoding verifies several drafted tokens in it);
//! - utilisation = achieved ÷ peak (and ÷ the calibrated practical ceiling);
//! - ceiling tok/s = peak ÷ bytes per step × tokens per step.
//!
//! Everything here is a pure function of explicit inputs; [`derive`] only gathers them from
//! the snapshot.

use halo_collectors::Snapshot;
use halo_collectors::gguf::types::GgmlType;
use halo_collectors::model::{
    KvShape, LlamaRates, LlamaServer, ModelProfile, ModelSection, ReferenceSection, RooflineFigures,
};

/// KV bytes one token of context adds, for full-context and sliding-window layers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KvBytesPerToken {
    pub full: f64,
    pub window: f64,
    pub window_tokens: Option<u64>,
}

/// `None` when a cache type is not a ggml type.
pub fn kv_bytes_per_token(kv: &KvShape, type_k: &str, type_v: &str) -> Option<KvBytesPerToken> {
    let (k, v) = (GgmlType::from_name(type_k)?, GgmlType::from_name(type_v)?);
    let bytes = |elements_k: u64, elements_v: u64| {
        elements_k as f64 * k.bytes_per_element() + elements_v as f64 * v.bytes_per_element()
    };
    Some(KvBytesPerToken {
        full: bytes(kv.full_k_elements_per_token, kv.full_v_elements_per_token),
        window: bytes(kv.window_k_elements_per_token, kv.window_v_elements_per_token),
        window_tokens: kv.sliding_window_tokens,
    })
}

impl KvBytesPerToken {
    /// KV bytes one step reads for one slot at `context_tokens`: sliding-window layers read at
    /// most their window.
    pub fn read_at(&self, context_tokens: u64) -> f64 {
        let windowed = self.window_tokens.map_or(context_tokens, |w| context_tokens.min(w));
        self.full * context_tokens as f64 + self.window * windowed as f64
    }
}

/// Bytes one decode step reads with slots busy at `slot_contexts_tokens` (empty: one slot at
/// context 0, the weights alone). `kv` `None` (unknown KV shape) counts the weights only.
pub fn bytes_per_step(
    profile: &ModelProfile,
    kv: Option<&KvBytesPerToken>,
    slot_contexts_tokens: &[u64],
) -> f64 {
    let kv_bytes: f64 =
        kv.map_or(0.0, |kv| slot_contexts_tokens.iter().map(|&c| kv.read_at(c)).sum());
    profile.weight_bytes_per_step as f64 + kv_bytes
}

/// GB/s (10^9 bytes per second) moved at `steps_per_s`.
pub fn achieved_gbps(steps_per_s: f64, bytes_per_step: f64) -> f64 {
    steps_per_s * bytes_per_step / 1e9
}

/// Tokens/s a bandwidth allows: steps/s it can feed × tokens per step.
pub fn ceiling_tok_s(
    bandwidth_gbps: f64,
    bytes_per_step: f64,
    tokens_per_step: f64,
) -> Option<f64> {
    (bytes_per_step > 0.0).then(|| bandwidth_gbps * 1e9 / bytes_per_step * tokens_per_step)
}

pub fn percent_of(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole * 100.0)
}

/// The `gpu_metrics` DRAM counters (MB/s, already decoded by the AMD collector, which turns
/// the 0xFFFF sentinel into `None` and flags values at the top of the u16 range) as GB/s.
pub fn counter_dram_gbps(reads_mb_s: Option<u32>, writes_mb_s: Option<u32>) -> Option<f64> {
    Some((f64::from(reads_mb_s?) + f64::from(writes_mb_s?)) / 1000.0)
}

/// Joules per generated token; `None` while nothing is generated.
pub fn joules_per_token(power_w: f64, generated_tok_s: f64) -> Option<f64> {
    (generated_tok_s > 0.0).then(|| power_w / generated_tok_s)
}

/// Everything the roofline needs from one snapshot.
#[derive(Debug, Clone, Default)]
pub struct RooflineInputs<'a> {
    pub model: Option<&'a ModelSection>,
    /// Target-model decode steps per second.
    pub decode_steps_per_s: Option<f64>,
    /// Tokens generated per second, over all slots.
    pub generated_tok_s: Option<f64>,
    /// The context length of every slot busy generating.
    pub busy_slot_contexts_tokens: Vec<u64>,
    pub dram_reads_mb_s: Option<u32>,
    pub dram_writes_mb_s: Option<u32>,
    /// The counters sit near their u16 ceiling (65.5 GB/s), so the figure is a lower bound.
    pub dram_saturated: Option<bool>,
    pub power_w: Option<f64>,
    pub power_source: Option<String>,
}

pub fn compute(inputs: &RooflineInputs) -> RooflineFigures {
    let mut f = RooflineFigures::default();
    f.counter_dram_gbps = counter_dram_gbps(inputs.dram_reads_mb_s, inputs.dram_writes_mb_s);
    f.counter_dram_saturated = f.counter_dram_gbps.and(inputs.dram_saturated);
    if let (Some(power_w), Some(tok_s)) = (inputs.power_w, inputs.generated_tok_s) {
        f.joules_per_token = joules_per_token(power_w, tok_s);
        f.power_source = f.joules_per_token.and(inputs.power_source.clone());
    }
    let Some(model) = inputs.model else { return f };
    let profile = &model.profile;
    f.peak_gbps = model.peak_bandwidth_gbps;
    f.calibrated_gbps = model.calibrated_read_gbps;

    let kv = profile
        .kv
        .as_ref()
        .and_then(|kv| kv_bytes_per_token(kv, &model.kv_cache_type_k, &model.kv_cache_type_v));
    let slots = &inputs.busy_slot_contexts_tokens;
    let bytes = bytes_per_step(profile, kv.as_ref(), slots);
    f.weight_bytes_per_step = Some(profile.weight_bytes_per_step);
    f.kv_bytes_per_step = kv.map(|_| bytes - profile.weight_bytes_per_step as f64);
    f.bytes_per_step = Some(bytes);

    // Without a step counter, assume one token per busy slot per step (no speculation).
    let busy = slots.len().max(1) as f64;
    f.decode_steps_per_s = inputs.decode_steps_per_s.or(inputs.generated_tok_s.map(|t| t / busy));
    f.tokens_per_step = match (inputs.generated_tok_s, f.decode_steps_per_s) {
        (Some(tok_s), Some(steps)) if steps > 0.0 => Some(tok_s / steps),
        _ => (!slots.is_empty()).then_some(busy),
    };
    if let Some(steps) = f.decode_steps_per_s {
        let achieved = achieved_gbps(steps, bytes);
        f.achieved_gbps = Some(achieved);
        f.utilisation_of_peak_percent = f.peak_gbps.and_then(|p| percent_of(achieved, p));
        f.utilisation_of_calibrated_percent =
            f.calibrated_gbps.and_then(|c| percent_of(achieved, c));
    }
    f.ceiling_tok_s =
        f.peak_gbps.and_then(|p| ceiling_tok_s(p, bytes, f.tokens_per_step.unwrap_or(1.0)));
    f
}

/// Fills `derived.roofline` from this snapshot: the model section (bytes per step), the
/// llama-server serving it (decode steps/s, generated tok/s, the context of each busy slot),
/// the APU's DRAM counters, and the power of the device doing the work. Runs after the llama,
/// AMD and NVIDIA derive steps, whose figures it reads.
pub fn derive(_previous: Option<&Snapshot>, current: &mut Snapshot) {
    let mut inputs = RooflineInputs { model: current.model.as_ref(), ..RooflineInputs::default() };
    let served = served_by(current).is_some();
    if !served {
        inputs.generated_tok_s = current.reference.as_ref().and_then(|r| r.decode_tok_s);
    }
    if let Some((server, rates)) = served_by(current) {
        inputs.decode_steps_per_s = rates.decode_steps_s;
        inputs.generated_tok_s = rates.decode_tok_s;
        inputs.busy_slot_contexts_tokens = server
            .slots
            .iter()
            .flatten()
            .filter(|slot| slot.is_processing)
            .filter_map(|slot| slot.sequence_tokens)
            .collect();
    }
    // The APU's counters and package power; a Strix Halo decodes on its iGPU, and the socket
    // power covers the CPU cores and memory controller that take part.
    let apu = current.amdgpu.iter().flat_map(|a| &a.cards).find_map(|c| c.metrics.as_ref());
    if let Some(m) = apu {
        inputs.dram_reads_mb_s = m.dram_read_mb_per_s;
        inputs.dram_writes_mb_s = m.dram_write_mb_per_s;
        inputs.dram_saturated = Some(m.dram_bandwidth_saturated);
        inputs.power_w = m.socket_power_mw.map(|mw| f64::from(mw) / 1000.0);
        inputs.power_source = inputs.power_w.map(|_| "amdgpu socket".to_string());
    }
    // Without an APU reading, the NVIDIA cards' mean power over the interval (from their
    // energy counters).
    let nvidia_w: Vec<f64> = current.derived.nvidia.iter().filter_map(|d| d.mean_power_w).collect();
    if inputs.power_w.is_none() && !nvidia_w.is_empty() {
        inputs.power_w = Some(nvidia_w.iter().sum());
        inputs.power_source = Some("nvidia".to_string());
    }
    let mut figures = compute(&inputs);
    // No llama-server decoding: halo-top's own decoder (`--workload reference`) is the decode
    // on the roofline. It counts the bytes its kernels stream per token itself, exactly.
    if !served && let Some(reference) = &current.reference {
        apply_reference(&mut figures, reference);
    }
    current.derived.roofline = figures;
}

/// One token per step, `bytes_per_token` read per step; the peak and calibrated ceiling the
/// model section has, else those the workload resolved at its start.
fn apply_reference(f: &mut RooflineFigures, r: &ReferenceSection) {
    f.peak_gbps = f.peak_gbps.or(r.peak_bandwidth_gbps);
    f.calibrated_gbps = f.calibrated_gbps.or(r.calibrated_read_gbps);
    f.weight_bytes_per_step = r.weight_bytes;
    f.kv_bytes_per_step = None;
    f.bytes_per_step = r.bytes_per_token;
    f.decode_steps_per_s = r.decode_tok_s;
    f.tokens_per_step = Some(1.0);
    f.achieved_gbps = r.decode_tok_s.zip(r.bytes_per_token).map(|(s, b)| achieved_gbps(s, b));
    f.utilisation_of_peak_percent =
        f.achieved_gbps.zip(f.peak_gbps).and_then(|(a, p)| percent_of(a, p));
    f.utilisation_of_calibrated_percent =
        f.achieved_gbps.zip(f.calibrated_gbps).and_then(|(a, c)| percent_of(a, c));
    f.ceiling_tok_s =
        f.peak_gbps.zip(r.bytes_per_token).and_then(|(p, b)| ceiling_tok_s(p, b, 1.0));
}

/// The llama-server whose model the model section describes: the one reporting that path,
/// else the first with rates (a `--model` given for a server that reports another path).
fn served_by(s: &Snapshot) -> Option<(&LlamaServer, &LlamaRates)> {
    let model_path = s.model.as_ref().map(|m| m.path.as_str());
    let pairs = || {
        s.llama.iter().filter_map(|server| {
            Some((server, s.derived.llama.iter().find(|r| r.url == server.url)?))
        })
    };
    pairs()
        .find(|(server, _)| {
            server
                .props
                .as_ref()
                .and_then(|p| p.model_path.as_deref())
                .is_some_and(|p| Some(p) == model_path)
        })
        .or_else(|| pairs().next())
}

#[cfg(test)]
mod tests;
