//! The machine: CPU, memory, load, temperatures, and halo-top's own process.

use std::fmt;

use halo_collectors::Snapshot;
use prometheus_client::registry::Unit;

use super::{Metrics, ratio};

pub fn encode(s: &Snapshot, m: &mut Metrics<'_, '_>) -> fmt::Result {
    let Some(h) = &s.host else { return Ok(()) };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    m.gauge(
        "halo_host_info",
        "The machine's identity (always 1).",
        None,
        [(
            vec![
                ("os", text(&h.os_name)),
                ("kernel", text(&h.kernel_release)),
                ("cpu_model", text(&h.cpu_model)),
            ],
            Some(1.0),
        )],
    )?;
    m.single(
        "halo_host_uptime",
        "Time since the machine booted.",
        Some(Unit::Seconds),
        h.uptime_s,
    )?;
    m.single(
        "halo_host_cpu_busy_ratio",
        "Busy share of all logical CPUs over the last interval (0-1).",
        None,
        h.cpu.total_percent.map(ratio),
    )?;
    m.gauge(
        "halo_host_cpu_core_busy_ratio",
        "Busy share of one logical CPU over the last interval (0-1).",
        None,
        h.cpu
            .per_core_percent
            .iter()
            .enumerate()
            .map(|(i, p)| (vec![("cpu", i.to_string())], p.map(ratio))),
    )?;
    m.gauge(
        "halo_host_cpu_frequency_hertz",
        "Current cpufreq target of one logical CPU.",
        None,
        h.cpu
            .freq_mhz
            .iter()
            .enumerate()
            .map(|(i, f)| (vec![("cpu", i.to_string())], f.map(|mhz| mhz * 1e6))),
    )?;
    m.single("halo_host_logical_cpus", "Logical CPUs.", None, h.cpu.logical_cpus.map(f64::from))?;
    let load = h.load_average;
    m.single("halo_host_load1", "Load average over 1 minute.", None, load.map(|l| l.one))?;
    m.single("halo_host_load5", "Load average over 5 minutes.", None, load.map(|l| l.five))?;
    m.single("halo_host_load15", "Load average over 15 minutes.", None, load.map(|l| l.fifteen))?;
    let mem = &h.memory;
    let bytes = |v: Option<u64>| v.map(|b| b as f64);
    m.single("halo_host_memory_total", "MemTotal.", Some(Unit::Bytes), bytes(mem.total_bytes))?;
    m.single(
        "halo_host_memory_available",
        "MemAvailable: what can be allocated without swapping.",
        Some(Unit::Bytes),
        bytes(mem.available_bytes),
    )?;
    m.single(
        "halo_host_memory_used",
        "MemTotal - MemAvailable.",
        Some(Unit::Bytes),
        bytes(mem.used_bytes),
    )?;
    m.single("halo_host_swap_total", "SwapTotal.", Some(Unit::Bytes), bytes(mem.swap_total_bytes))?;
    m.single(
        "halo_host_swap_used",
        "SwapTotal - SwapFree.",
        Some(Unit::Bytes),
        bytes(mem.swap_used_bytes),
    )?;
    m.single(
        "halo_host_cpu_temperature",
        "CPU package control temperature (k10temp Tctl).",
        Some(Unit::Celsius),
        h.tctl_c,
    )?;
    m.gauge(
        "halo_host_temperature",
        "Every hwmon temperature sensor.",
        Some(Unit::Celsius),
        h.temperatures
            .iter()
            .map(|t| (vec![("chip", t.chip.clone()), ("sensor", t.label.clone())], Some(t.temp_c))),
    )?;
    let own = &h.own_process;
    m.counter(
        "halo_top_cpu",
        "CPU time used by halo-top itself (all threads).",
        Some(Unit::Seconds),
        [(Vec::new(), own.cpu_time_ns.map(|ns| ns as f64 / 1e9))],
    )?;
    m.single(
        "halo_top_resident_memory",
        "halo-top's own resident memory.",
        Some(Unit::Bytes),
        bytes(own.rss_bytes),
    )?;
    m.single(
        "halo_top_cpu_busy_ratio",
        "halo-top's own CPU use over the last interval, as a share of one core.",
        None,
        s.derived.own_cpu_percent.map(ratio),
    )?;
    m.single(
        "halo_top_cpu_per_snapshot",
        "halo-top's own CPU time per snapshot over the last interval.",
        Some(Unit::Seconds),
        s.derived.own_cpu_ms_per_sample.map(|ms| ms / 1000.0),
    )
}
