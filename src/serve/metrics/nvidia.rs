//! NVIDIA GPUs (NVML). `device` is the NVML index; `halo_nvidia_device_info` maps it to the
//! name, UUID and PCI bus id.

use std::fmt;

use halo_collectors::Snapshot;
use halo_collectors::model::NvidiaDevice;
use prometheus_client::registry::Unit;

use super::{Labels, Metrics, ratio};

fn mhz(v: Option<u32>) -> Option<f64> {
    v.map(|m| f64::from(m) * 1e6)
}

fn bytes(v: Option<u64>) -> Option<f64> {
    v.map(|b| b as f64)
}

fn device(d: &NvidiaDevice) -> Labels {
    vec![("device", d.index.to_string())]
}

pub fn encode(s: &Snapshot, m: &mut Metrics<'_, '_>) -> fmt::Result {
    let Some(nvidia) = &s.nvidia else { return Ok(()) };
    let devices = &nvidia.devices;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    m.gauge(
        "halo_nvidia_device_info",
        "An NVIDIA GPU's identity and driver (always 1).",
        None,
        devices.iter().map(|d| {
            let mut labels = device(d);
            labels.extend([
                ("name", text(&d.name)),
                ("uuid", text(&d.uuid)),
                ("pci_bus_id", text(&d.pci_bus_id)),
                ("driver_version", text(&nvidia.driver_version)),
            ]);
            (labels, Some(1.0))
        }),
    )?;
    // One gauge family per field: (name, help, unit, reading).
    type Field = (&'static str, &'static str, Option<Unit>, fn(&NvidiaDevice) -> Option<f64>);
    let fields: [Field; 17] = [
        (
            "halo_nvidia_suspended",
            "1 while the GPU sleeps under runtime PM (then it is not queried).",
            None,
            |d| d.runtime_status.as_deref().map(|s| if s == "suspended" { 1.0 } else { 0.0 }),
        ),
        (
            "halo_nvidia_gpu_busy_ratio",
            "Share of the last sample period in which a kernel ran (0-1).",
            None,
            |d| d.gpu_busy_percent.map(ratio),
        ),
        (
            "halo_nvidia_memory_busy_ratio",
            "Share of the last sample period in which device memory was read or written (0-1).",
            None,
            |d| d.memory_busy_percent.map(ratio),
        ),
        ("halo_nvidia_vram_total", "Device memory.", Some(Unit::Bytes), |d| {
            bytes(d.vram_total_bytes)
        }),
        ("halo_nvidia_vram_used", "Device memory in use.", Some(Unit::Bytes), |d| {
            bytes(d.vram_used_bytes)
        }),
        (
            "halo_nvidia_vram_reserved",
            "Device memory set aside by the driver and firmware.",
            Some(Unit::Bytes),
            |d| bytes(d.vram_reserved_bytes),
        ),
        ("halo_nvidia_sm_clock_hertz", "SM clock.", None, |d| mhz(d.sm_clock_mhz)),
        ("halo_nvidia_sm_clock_max_hertz", "Maximum SM clock.", None, |d| mhz(d.sm_clock_max_mhz)),
        (
            "halo_nvidia_graphics_clock_hertz",
            "Graphics clock.",
            None,
            |d| mhz(d.graphics_clock_mhz),
        ),
        ("halo_nvidia_memory_clock_hertz", "Memory clock.", None, |d| mhz(d.memory_clock_mhz)),
        ("halo_nvidia_power_watts", "Power draw (NVML's instantaneous reading).", None, |d| {
            d.power_w
        }),
        ("halo_nvidia_power_limit_watts", "Enforced power limit.", None, |d| d.power_limit_w),
        ("halo_nvidia_temperature", "GPU temperature.", Some(Unit::Celsius), |d| d.temp_c),
        (
            "halo_nvidia_temperature_slowdown",
            "Temperature at which clocks slow down.",
            Some(Unit::Celsius),
            |d| d.temp_slowdown_c,
        ),
        ("halo_nvidia_performance_state", "P-state: 0 (fastest) to 15.", None, |d| {
            d.performance_state.as_deref()?.strip_prefix('P')?.parse().ok()
        }),
        ("halo_nvidia_pcie_link_generation", "Current PCIe generation.", None, |d| {
            d.pcie_gen.map(f64::from)
        }),
        ("halo_nvidia_pcie_link_width", "Current PCIe lanes.", None, |d| {
            d.pcie_width.map(f64::from)
        }),
    ];
    for (name, help, unit, read) in fields {
        m.gauge(name, help, unit, devices.iter().map(|d| (device(d), read(d))))?;
    }
    // NVML reports PCIe throughput in "KB/s" without saying whether K is 1000 or 1024; the
    // NVML headers use 1024 for every other KB, so this does too.
    m.gauge(
        "halo_nvidia_pcie_throughput",
        "PCIe throughput over NVML's last 20 ms window, by direction.",
        Some(Unit::Other("bytes_per_second".into())),
        devices.iter().flat_map(|d| {
            let at = |dir: &str| {
                let mut l = device(d);
                l.push(("direction", dir.to_string()));
                l
            };
            [
                (at("tx"), d.pcie_tx_kb_per_s.map(|k| k as f64 * 1024.0)),
                (at("rx"), d.pcie_rx_kb_per_s.map(|k| k as f64 * 1024.0)),
            ]
        }),
    )?;
    m.gauge(
        "halo_nvidia_fan_ratio",
        "Fan speed as a share of its maximum (0-1).",
        None,
        devices.iter().flat_map(|d| {
            d.fan_percent.iter().enumerate().map(|(i, p)| {
                let mut l = device(d);
                l.push(("fan", i.to_string()));
                (l, p.map(ratio))
            })
        }),
    )?;
    m.gauge(
        "halo_nvidia_throttle_reason_active",
        "1 for each reason that holds the clocks down now (none listed: nothing does).",
        None,
        devices.iter().flat_map(|d| {
            d.throttle_reasons.iter().flatten().map(|reason| {
                let mut l = device(d);
                l.push(("reason", reason.clone()));
                (l, Some(1.0))
            })
        }),
    )?;
    m.counter(
        "halo_nvidia_energy",
        "Energy used since the driver loaded.",
        Some(Unit::Joules),
        devices.iter().map(|d| (device(d), d.energy_total_mj.map(|mj| mj as f64 / 1000.0))),
    )?;
    m.gauge(
        "halo_nvidia_mean_power_watts",
        "Mean power over the last interval, from the energy counter.",
        None,
        s.derived.nvidia.iter().map(|d| (vec![("device", d.index.to_string())], d.mean_power_w)),
    )
}
