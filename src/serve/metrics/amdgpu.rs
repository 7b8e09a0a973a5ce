//! AMD GPUs (amdgpu sysfs, hwmon, `gpu_metrics`). `device` is the DRM card (`card1`);
//! `halo_amdgpu_device_info` maps it to the marketing name, codename and PCI address.

use std::fmt;

use halo_collectors::Snapshot;
use halo_collectors::model::AmdgpuCard;
use prometheus_client::registry::Unit;

use super::{Labels, Metrics, ratio};

fn device(card: &AmdgpuCard) -> Labels {
    vec![("device", card.card.clone())]
}

fn mhz(v: Option<u16>) -> Option<f64> {
    v.map(|m| f64::from(m) * 1e6)
}

fn milliwatts(v: Option<u32>) -> Option<f64> {
    v.map(|mw| f64::from(mw) / 1000.0)
}

fn bytes(v: Option<u64>) -> Option<f64> {
    v.map(|b| b as f64)
}

/// One gauge family per field: (name, help, unit, reading).
type Field = (&'static str, &'static str, Option<Unit>, fn(&AmdgpuCard) -> Option<f64>);

fn fields() -> Vec<Field> {
    vec![
        (
            "halo_amdgpu_asleep",
            "1 while the GPU is runtime-suspended (then it is not read).",
            None,
            |c| Some(if c.asleep { 1.0 } else { 0.0 }),
        ),
        ("halo_amdgpu_gpu_busy_ratio", "gpu_busy_percent (0-1).", None, |c| {
            c.gpu_busy_percent.map(ratio)
        }),
        (
            "halo_amdgpu_vram_total",
            "VRAM (on an APU: the BIOS carve-out).",
            Some(Unit::Bytes),
            |c| bytes(c.memory.vram_total_bytes),
        ),
        ("halo_amdgpu_vram_used", "VRAM in use.", Some(Unit::Bytes), |c| {
            bytes(c.memory.vram_used_bytes)
        }),
        ("halo_amdgpu_gtt_total", "GTT: system RAM the GPU maps.", Some(Unit::Bytes), |c| {
            bytes(c.memory.gtt_total_bytes)
        }),
        ("halo_amdgpu_gtt_used", "GTT in use.", Some(Unit::Bytes), |c| {
            bytes(c.memory.gtt_used_bytes)
        }),
        (
            "halo_amdgpu_gtt_allocatable",
            "min(GTT total, TTM pages limit).",
            Some(Unit::Bytes),
            |c| bytes(c.memory.gtt_allocatable_bytes),
        ),
        (
            "halo_amdgpu_unified_gpu_used",
            "APU: carve-out used + GTT used.",
            Some(Unit::Bytes),
            |c| bytes(c.unified_memory.as_ref()?.gpu_used_bytes),
        ),
        (
            "halo_amdgpu_unified_gpu_headroom",
            "APU: what the GPU could still allocate.",
            Some(Unit::Bytes),
            |c| bytes(c.unified_memory.as_ref()?.gpu_headroom_bytes),
        ),
        (
            "halo_amdgpu_edge_temperature",
            "GPU edge temperature (hwmon, else gpu_metrics).",
            Some(Unit::Celsius),
            |c| c.hwmon.edge_temp_c.or(c.metrics.as_ref()?.edge_temp_c),
        ),
        (
            "halo_amdgpu_hotspot_temperature",
            "dGPU junction temperature.",
            Some(Unit::Celsius),
            |c| c.metrics.as_ref()?.hotspot_temp_c,
        ),
        (
            "halo_amdgpu_soc_temperature",
            "APU SoC temperature (gpu_metrics).",
            Some(Unit::Celsius),
            |c| c.metrics.as_ref()?.soc_temp_c,
        ),
        (
            "halo_amdgpu_power_watts",
            "hwmon package power (SMU14 centiwatt quirk decoded).",
            None,
            |c| c.hwmon.power_w,
        ),
        (
            "halo_amdgpu_socket_power_watts",
            "gpu_metrics socket power: CPU + GPU + SoC on an APU.",
            None,
            |c| milliwatts(c.metrics.as_ref()?.socket_power_mw),
        ),
        ("halo_amdgpu_gfx_power_watts", "gpu_metrics graphics power.", None, |c| {
            milliwatts(c.metrics.as_ref()?.gfx_power_mw)
        }),
        ("halo_amdgpu_cpu_cores_power_watts", "gpu_metrics power of all CPU cores.", None, |c| {
            milliwatts(c.metrics.as_ref()?.cpu_cores_power_mw)
        }),
        (
            "halo_amdgpu_gfx_activity_ratio",
            "gpu_metrics average graphics activity (0-1).",
            None,
            |c| c.metrics.as_ref()?.gfx_activity_percent.map(ratio),
        ),
        ("halo_amdgpu_gfx_clock_hertz", "gpu_metrics average graphics clock.", None, |c| {
            mhz(c.metrics.as_ref()?.gfxclk_mhz)
        }),
        ("halo_amdgpu_memory_clock_hertz", "gpu_metrics average memory clock (UCLK).", None, |c| {
            mhz(c.metrics.as_ref()?.uclk_mhz)
        }),
        ("halo_amdgpu_fabric_clock_hertz", "gpu_metrics average fabric clock (FCLK).", None, |c| {
            mhz(c.metrics.as_ref()?.fclk_mhz)
        }),
        (
            "halo_amdgpu_dram_bandwidth_saturated",
            "1 when a gpu_metrics DRAM figure sits at its u16 ceiling.",
            None,
            |c| {
                let m = c.metrics.as_ref()?;
                m.dram_read_mb_per_s?;
                Some(if m.dram_bandwidth_saturated { 1.0 } else { 0.0 })
            },
        ),
    ]
}

pub fn encode(s: &Snapshot, m: &mut Metrics<'_, '_>) -> fmt::Result {
    let Some(amd) = &s.amdgpu else { return Ok(()) };
    let cards = &amd.cards;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    m.gauge(
        "halo_amdgpu_device_info",
        "An AMD GPU's identity (always 1).",
        None,
        cards.iter().map(|c| {
            let id = &c.identity;
            let kind = id.kind.map(|k| format!("{k:?}").to_lowercase()).unwrap_or_default();
            let mut labels = device(c);
            labels.extend([
                ("name", text(&id.marketing_name)),
                ("codename", text(&id.codename)),
                ("kind", kind),
                ("pci_bus_id", text(&id.pci_bdf)),
            ]);
            (labels, Some(1.0))
        }),
    )?;
    for (name, help, unit, read) in fields() {
        m.gauge(name, help, unit, cards.iter().map(|c| (device(c), read(c))))?;
    }
    m.gauge(
        "halo_amdgpu_dram_bandwidth",
        "DRAM traffic from gpu_metrics (a u16 of MB/s: a floor near 65 GB/s), by direction.",
        Some(Unit::Other("bytes_per_second".into())),
        cards.iter().flat_map(|c| {
            let metrics = c.metrics.as_ref();
            let at = |dir: &str, mb: Option<u32>| {
                let mut l = device(c);
                l.push(("direction", dir.to_string()));
                (l, mb.map(|mb| f64::from(mb) * 1e6))
            };
            [
                at("read", metrics.and_then(|m| m.dram_read_mb_per_s)),
                at("write", metrics.and_then(|m| m.dram_write_mb_per_s)),
            ]
        }),
    )?;
    m.counter(
        "halo_amdgpu_throttle_residency_ticks",
        "gpu_metrics v3 limiter counters: ticks while each limiter was engaged (raw).",
        None,
        cards.iter().flat_map(|c| {
            let residency = c.metrics.as_ref().and_then(|m| m.throttle_residency);
            residency.into_iter().flat_map(|r| r.counters()).map(|(limiter, ticks)| {
                let mut l = device(c);
                l.push(("limiter", limiter.to_string()));
                (l, ticks.map(f64::from))
            })
        }),
    )?;
    let derived = &s.derived.amdgpu.cards;
    m.gauge(
        "halo_amdgpu_throttle_ratio",
        "Share of the last interval each limiter was engaged (0-1, from the counters).",
        None,
        derived.iter().flat_map(|d| {
            d.throttle_percent.iter().map(|(limiter, percent)| {
                let labels = vec![("device", d.card.clone()), ("limiter", limiter.clone())];
                (labels, Some(ratio(*percent)))
            })
        }),
    )?;
    m.counter(
        "halo_amdgpu_package_energy",
        "Package energy since halo-top started (socket power x interval, summed).",
        Some(Unit::Joules),
        derived.iter().map(|d| (vec![("device", d.card.clone())], d.energy_session_j)),
    )?;
    m.single(
        "halo_cpu_temperature",
        "CPU temperature: k10temp Tctl, or on an APU without k10temp the gpu_metrics SoC sensor.",
        Some(Unit::Celsius),
        s.derived.amdgpu.cpu_temp_c,
    )
}
