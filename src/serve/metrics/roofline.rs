//! The roofline: the served model's fixed inputs (`model`) and the derived figures
//! (`derived.roofline`), all gauges.

use std::fmt;

use halo_collectors::Snapshot;
use prometheus_client::registry::Unit;

use super::{Metrics, ratio};

const GB: f64 = 1e9;

pub fn encode(s: &Snapshot, m: &mut Metrics<'_, '_>) -> fmt::Result {
    let bps = || Some(Unit::Other("bytes_per_second".into()));
    if let Some(model) = &s.model {
        let p = &model.profile;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        m.gauge(
            "halo_model_info",
            "The served model, from its GGUF header (always 1).",
            None,
            [(
                vec![
                    ("model", text(&p.name)),
                    ("architecture", text(&p.architecture)),
                    ("kv_cache_type_k", model.kv_cache_type_k.clone()),
                    ("kv_cache_type_v", model.kv_cache_type_v.clone()),
                ],
                Some(1.0),
            )],
        )?;
        m.single("halo_model_parameters", "Parameters.", None, Some(p.parameter_count as f64))?;
        m.single(
            "halo_model_weight",
            "All tensor data.",
            Some(Unit::Bytes),
            Some(p.weight_bytes as f64),
        )?;
        m.single(
            "halo_model_weight_per_step",
            "Weight bytes one decode step reads (dense + used experts' share).",
            Some(Unit::Bytes),
            Some(p.weight_bytes_per_step as f64),
        )?;
        m.single(
            "halo_memory_peak_bandwidth",
            "The platform's theoretical memory bandwidth (or --peak-bw).",
            bps(),
            model.peak_bandwidth_gbps.map(|g| g * GB),
        )?;
        m.single(
            "halo_memory_calibrated_bandwidth",
            "The best read bandwidth `halo-top calibrate` measured here.",
            bps(),
            model.calibrated_read_gbps.map(|g| g * GB),
        )?;
    }
    let r = &s.derived.roofline;
    m.single(
        "halo_roofline_bytes_per_step",
        "Bytes one decode step reads at the current load (weights + busy slots' KV cache).",
        None,
        r.bytes_per_step,
    )?;
    m.single(
        "halo_roofline_kv_bytes_per_step",
        "KV cache bytes one decode step reads at the current contexts.",
        None,
        r.kv_bytes_per_step,
    )?;
    m.single(
        "halo_roofline_decode_steps_per_second",
        "Decode steps (target-model llama_decode calls) per second.",
        None,
        r.decode_steps_per_s,
    )?;
    m.single(
        "halo_roofline_tokens_per_step",
        "Tokens one decode step produces (busy slots, more with speculative decoding).",
        None,
        r.tokens_per_step,
    )?;
    m.single(
        "halo_roofline_achieved_bandwidth",
        "Decode steps/s x bytes per step.",
        bps(),
        r.achieved_gbps.map(|g| g * GB),
    )?;
    m.single(
        "halo_roofline_utilisation_ratio",
        "Achieved bandwidth / peak bandwidth (0-1).",
        None,
        r.utilisation_of_peak_percent.map(ratio),
    )?;
    m.single(
        "halo_roofline_calibrated_utilisation_ratio",
        "Achieved bandwidth / calibrated practical ceiling (0-1).",
        None,
        r.utilisation_of_calibrated_percent.map(ratio),
    )?;
    m.single(
        "halo_roofline_ceiling_tokens_per_second",
        "Tokens/s the peak bandwidth allows at the current contexts and tokens per step.",
        None,
        r.ceiling_tok_s,
    )?;
    m.single(
        "halo_roofline_counter_dram_bandwidth",
        "DRAM reads + writes from the GPU's own counters (a floor when saturated).",
        bps(),
        r.counter_dram_gbps.map(|g| g * GB),
    )?;
    m.single(
        "halo_roofline_counter_dram_saturated",
        "1 when the GPU's DRAM counters sit at the top of their u16 range.",
        None,
        r.counter_dram_saturated.map(|b| if b { 1.0 } else { 0.0 }),
    )?;
    m.single(
        "halo_roofline_energy_per_token",
        "Energy per generated token: power / generated tokens/s.",
        Some(Unit::Joules),
        r.joules_per_token,
    )
}
