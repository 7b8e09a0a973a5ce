use serde::{Deserialize, Serialize};

/// The machine itself: what `top` and `sensors` would show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostSection {
    #[serde(default)]
    pub host_name: Option<String>,
    #[serde(default)]
    pub os_name: Option<String>,
    #[serde(default)]
    pub kernel_release: Option<String>,
    #[serde(default)]
    pub cpu_model: Option<String>,
    #[serde(default)]
    pub uptime_s: Option<f64>,
    #[serde(default)]
    pub cpu: CpuReading,
    #[serde(default)]
    pub load_average: Option<LoadAverage>,
    #[serde(default)]
    pub memory: MemoryReading,
    /// AMD's control temperature from k10temp (the CPU package), when the driver exposes it.
    #[serde(default)]
    pub tctl_c: Option<f64>,
    /// Every hwmon temperature sensor, in a stable order.
    #[serde(default)]
    pub temperatures: Vec<TemperatureSensor>,
    /// The busiest processes by CPU and the largest by RSS (the union of both top lists).
    #[serde(default)]
    pub top_processes: Vec<ProcessReading>,
    /// halo-top's own process (always the real one, whatever root the collectors read).
    #[serde(default)]
    pub own_process: OwnProcess,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuReading {
    /// Busy share of all logical CPUs since the previous sample (`None` on the first sample).
    #[serde(default)]
    pub total_percent: Option<f64>,
    /// Per logical CPU, in `cpuN` order.
    #[serde(default)]
    pub per_core_percent: Vec<Option<f64>>,
    /// `scaling_cur_freq` per logical CPU (the cpufreq driver's current target), in MHz.
    #[serde(default)]
    pub freq_mhz: Vec<Option<f64>>,
    #[serde(default)]
    pub logical_cpus: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoadAverage {
    pub one: f64,
    pub five: f64,
    pub fifteen: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryReading {
    #[serde(default)]
    pub total_bytes: Option<u64>,
    /// `MemAvailable`: what can be allocated without swapping.
    #[serde(default)]
    pub available_bytes: Option<u64>,
    /// total − available.
    #[serde(default)]
    pub used_bytes: Option<u64>,
    #[serde(default)]
    pub swap_total_bytes: Option<u64>,
    #[serde(default)]
    pub swap_used_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperatureSensor {
    /// The hwmon chip's `name` (k10temp, amdgpu, nvme, ...).
    pub chip: String,
    /// `tempN_label`, or `tempN` when the driver gives no label.
    pub label: String,
    pub temp_c: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessReading {
    pub pid: u32,
    pub name: String,
    /// Share of one CPU since the previous sample (`None` for a process seen for the first time).
    #[serde(default)]
    pub cpu_percent: Option<f64>,
    #[serde(default)]
    pub rss_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OwnProcess {
    /// Cumulative CPU time of the whole halo-top process (all threads), a counter: the derive
    /// step turns it into % and ms per sample.
    #[serde(default)]
    pub cpu_time_ns: Option<u64>,
    #[serde(default)]
    pub rss_bytes: Option<u64>,
}
