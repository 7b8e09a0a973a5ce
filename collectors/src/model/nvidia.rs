use serde::{Deserialize, Serialize};

/// NVIDIA GPUs through NVML (e.g. an RTX 3090 used as a llama.cpp RPC peer).
/// Field names and units match the AMD section where the meaning is the same.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NvidiaSection {
    #[serde(default)]
    pub driver_version: Option<String>,
    /// The CUDA version the driver supports, e.g. `13.0`.
    #[serde(default)]
    pub cuda_driver_version: Option<String>,
    #[serde(default)]
    pub devices: Vec<NvidiaDevice>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NvidiaDevice {
    pub index: u32,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub uuid: Option<String>,
    /// `0000:01:00.0`, the form sysfs and lspci use.
    #[serde(default)]
    pub pci_bus_id: Option<String>,
    /// Linux runtime power management: `active` or `suspended`. A suspended GPU is not queried
    /// (any NVML call would wake it), so its live fields are `None`.
    #[serde(default)]
    pub runtime_status: Option<String>,
    /// Share of the last sample period in which a kernel ran.
    #[serde(default)]
    pub gpu_busy_percent: Option<f64>,
    /// Share of the last sample period in which device memory was read or written.
    #[serde(default)]
    pub memory_busy_percent: Option<f64>,
    #[serde(default)]
    pub vram_total_bytes: Option<u64>,
    #[serde(default)]
    pub vram_used_bytes: Option<u64>,
    /// Set aside by the driver and firmware; counted neither as used nor as free.
    #[serde(default)]
    pub vram_reserved_bytes: Option<u64>,
    #[serde(default)]
    pub sm_clock_mhz: Option<u32>,
    #[serde(default)]
    pub sm_clock_max_mhz: Option<u32>,
    #[serde(default)]
    pub graphics_clock_mhz: Option<u32>,
    #[serde(default)]
    pub graphics_clock_max_mhz: Option<u32>,
    #[serde(default)]
    pub memory_clock_mhz: Option<u32>,
    #[serde(default)]
    pub memory_clock_max_mhz: Option<u32>,
    #[serde(default)]
    pub power_w: Option<f64>,
    /// The enforced limit (the lowest of every limit that applies).
    #[serde(default)]
    pub power_limit_w: Option<f64>,
    /// Energy since the driver loaded, a counter: the derive step turns it into joules and
    /// mean watts per interval.
    #[serde(default)]
    pub energy_total_mj: Option<u64>,
    #[serde(default)]
    pub temp_c: Option<f64>,
    /// Clocks slow down at this temperature.
    #[serde(default)]
    pub temp_slowdown_c: Option<f64>,
    /// The GPU shuts down at this temperature.
    #[serde(default)]
    pub temp_shutdown_c: Option<f64>,
    /// Fan speed in % of maximum, one entry per fan; empty when the board has no fans
    /// (passively cooled data-centre cards).
    #[serde(default)]
    pub fan_percent: Vec<Option<f64>>,
    /// `P0` (fastest) to `P15`.
    #[serde(default)]
    pub performance_state: Option<String>,
    /// What holds the clocks down right now, e.g. `sw_power_cap`, `hw_thermal_slowdown`.
    /// Empty: nothing does; `None`: unknown.
    #[serde(default)]
    pub throttle_reasons: Option<Vec<String>>,
    #[serde(default)]
    pub pcie_gen: Option<u32>,
    #[serde(default)]
    pub pcie_width: Option<u32>,
    /// PCIe throughput over NVML's last 20 ms window, in KB/s as NVML reports it (the NVML
    /// documentation does not say whether its K is 1000 or 1024).
    #[serde(default)]
    pub pcie_tx_kb_per_s: Option<u64>,
    #[serde(default)]
    pub pcie_rx_kb_per_s: Option<u64>,
    #[serde(default)]
    pub processes: Vec<NvidiaProcess>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NvidiaProcess {
    pub pid: u32,
    #[serde(default)]
    pub name: Option<String>,
    /// `compute` (CUDA) or `graphics`.
    pub kind: String,
    #[serde(default)]
    pub vram_used_bytes: Option<u64>,
    /// SM utilisation of this process over the last sample, where the driver gives it.
    #[serde(default)]
    pub gpu_busy_percent: Option<f64>,
    #[serde(default)]
    pub memory_busy_percent: Option<f64>,
}

/// Per-interval figures of one NVIDIA device, from its counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NvidiaDerived {
    pub index: u32,
    #[serde(default)]
    pub uuid: Option<String>,
    /// Energy used since the previous snapshot.
    #[serde(default)]
    pub energy_j: Option<f64>,
    /// Mean power since the previous snapshot, from the energy counter (the instantaneous
    /// `power_w` can miss short peaks).
    #[serde(default)]
    pub mean_power_w: Option<f64>,
}
