use serde::{Deserialize, Serialize};

/// One decoded `gpu_metrics` table (the SMU's binary telemetry), whatever its format revision.
///
/// Every field is `None` where the table does not have it or the firmware left the
/// "not supported" sentinel (0xFFFF / 0xFFFFFFFF). Units are normalised across versions:
/// v1 (dGPU) reports °C and W, v2/v3 (APU) centi-°C and mW; here it is always °C and mW.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuMetrics {
    /// `format_revision`: 1 = dGPU, 2 = older APU, 3 = SMU14 APU (Strix Point/Halo).
    #[serde(default)]
    pub format_revision: u8,
    #[serde(default)]
    pub content_revision: u8,
    /// The driver's CLOCK_BOOTTIME at the read (ns): the time base of the throttle counters, and
    /// a way to tell a stale table (same value twice) from a fresh one.
    #[serde(default)]
    pub system_clock_counter_ns: Option<u64>,

    /// v1 `temperature_edge`; v2/v3 `temperature_gfx` (what hwmon calls `edge`).
    #[serde(default)]
    pub edge_temp_c: Option<f64>,
    /// v1 only (dGPU junction temperature).
    #[serde(default)]
    pub hotspot_temp_c: Option<f64>,
    /// v1 only (VRAM temperature).
    #[serde(default)]
    pub memory_temp_c: Option<f64>,
    /// v2/v3 `temperature_soc` (the APU's SoC sensor; the CPU-temperature fallback without k10temp).
    #[serde(default)]
    pub soc_temp_c: Option<f64>,
    /// Per CPU core. Strix Halo firmware leaves these 0, which means "not populated".
    #[serde(default)]
    pub core_temps_c: Vec<Option<f64>>,
    #[serde(default)]
    pub skin_temp_c: Option<f64>,

    #[serde(default)]
    pub gfx_activity_percent: Option<f64>,
    /// v1/v2 `average_mm_activity` (UVD/VCN), v3 `average_vcn_activity`.
    #[serde(default)]
    pub media_activity_percent: Option<f64>,
    /// v1 only: memory controller activity.
    #[serde(default)]
    pub memory_activity_percent: Option<f64>,
    /// v3: busy % per NPU column.
    #[serde(default)]
    pub npu_activity_percent: Vec<Option<f64>>,
    /// v3: C0 residency % per CPU core.
    #[serde(default)]
    pub core_c0_percent: Vec<Option<f64>>,

    /// v3 `average_dram_reads`. A u16 in MB/s, so it cannot show more than 65 534 MB/s of the
    /// platform's 256 GB/s: see `dram_bandwidth_saturated`.
    #[serde(default)]
    pub dram_read_mb_per_s: Option<u32>,
    #[serde(default)]
    pub dram_write_mb_per_s: Option<u32>,
    /// A DRAM figure sits at the u16 ceiling, so the real bandwidth may be higher.
    #[serde(default)]
    pub dram_bandwidth_saturated: bool,
    #[serde(default)]
    pub npu_read_mb_per_s: Option<u32>,
    #[serde(default)]
    pub npu_write_mb_per_s: Option<u32>,

    /// Package power used for PPT/STAPM: CPU + GPU + SoC on an APU, not the GPU alone.
    #[serde(default)]
    pub socket_power_mw: Option<u32>,
    #[serde(default)]
    pub apu_power_mw: Option<u32>,
    #[serde(default)]
    pub gfx_power_mw: Option<u32>,
    #[serde(default)]
    pub dgpu_power_mw: Option<u32>,
    /// v3 `average_all_core_power`, v2 `average_cpu_power`.
    #[serde(default)]
    pub cpu_cores_power_mw: Option<u32>,
    /// v2 only.
    #[serde(default)]
    pub soc_power_mw: Option<u32>,
    #[serde(default)]
    pub npu_power_mw: Option<u32>,
    /// v3 `average_sys_power` (Psys), kept only when below the socket power: it is
    /// board-dependent and reads garbage (63536 mW at 13 W socket) on the units seen so far.
    #[serde(default)]
    pub system_power_mw: Option<u32>,
    #[serde(default)]
    pub core_power_mw: Vec<Option<u32>>,
    /// Always the sentinel on Strix Halo (the driver does not copy it), hence `None` there.
    #[serde(default)]
    pub stapm_power_limit_mw: Option<u32>,
    #[serde(default)]
    pub current_stapm_power_limit_mw: Option<u32>,

    /// Time-filtered (average) clocks.
    #[serde(default)]
    pub gfxclk_mhz: Option<u16>,
    #[serde(default)]
    pub socclk_mhz: Option<u16>,
    /// Memory clock.
    #[serde(default)]
    pub uclk_mhz: Option<u16>,
    #[serde(default)]
    pub fclk_mhz: Option<u16>,
    #[serde(default)]
    pub vclk_mhz: Option<u16>,
    #[serde(default)]
    pub dclk_mhz: Option<u16>,
    #[serde(default)]
    pub vpeclk_mhz: Option<u16>,
    /// v3 `average_ipuclk_frequency`.
    #[serde(default)]
    pub npuclk_mhz: Option<u16>,
    /// v3 `average_mpipu_frequency`.
    #[serde(default)]
    pub mpnpuclk_mhz: Option<u16>,
    /// Target clock per CPU core.
    #[serde(default)]
    pub core_clocks_mhz: Vec<Option<u16>>,
    /// v3: CPU clock limit the firmware enforces now.
    #[serde(default)]
    pub core_max_clock_mhz: Option<u16>,
    /// v3: GFX clock limit the firmware enforces now.
    #[serde(default)]
    pub gfx_max_clock_mhz: Option<u16>,

    /// v1/v2 ASIC-dependent throttle bits.
    #[serde(default)]
    pub throttle_status: Option<u32>,
    /// v1_3 / v2_2+ ASIC-independent throttle bits.
    #[serde(default)]
    pub indep_throttle_status: Option<u64>,
    /// v3: cumulative "limiter engaged" counters (raw; the derive step turns them into %).
    #[serde(default)]
    pub throttle_residency: Option<ThrottleResidency>,

    /// v2_4 only.
    #[serde(default)]
    pub cpu_voltage_mv: Option<u16>,
    #[serde(default)]
    pub soc_voltage_mv: Option<u16>,
    #[serde(default)]
    pub gfx_voltage_mv: Option<u16>,
    #[serde(default)]
    pub cpu_current_ma: Option<u16>,
    #[serde(default)]
    pub soc_current_ma: Option<u16>,
    #[serde(default)]
    pub gfx_current_ma: Option<u16>,

    /// v1: fan speed (RPM).
    #[serde(default)]
    pub fan_rpm: Option<u16>,
    /// v1: PCIe link.
    #[serde(default)]
    pub pcie_link_width: Option<u16>,
    #[serde(default)]
    pub pcie_link_speed_gt_s: Option<f64>,
    /// v3: time constant of the firmware's averaging filter (µs; 1 000 000 seen).
    #[serde(default)]
    pub time_filter_us: Option<u32>,
}

/// Counters that the firmware bumps on every metrics update while a limiter is engaged
/// ("PM_TIMER cycles"). Monotonic; only their deltas mean something.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottleResidency {
    /// External PROCHOT signal.
    #[serde(default)]
    pub prochot: Option<u32>,
    /// Sustained power limit (STAPM).
    #[serde(default)]
    pub spl: Option<u32>,
    /// Fast package power tracking limit.
    #[serde(default)]
    pub fppt: Option<u32>,
    /// Slow package power tracking limit.
    #[serde(default)]
    pub sppt: Option<u32>,
    #[serde(default)]
    pub thm_core: Option<u32>,
    #[serde(default)]
    pub thm_gfx: Option<u32>,
    #[serde(default)]
    pub thm_soc: Option<u32>,
}

impl ThrottleResidency {
    /// (limiter name, counter) in a fixed order, for display and deltas.
    pub fn counters(&self) -> [(&'static str, Option<u32>); 7] {
        [
            ("spl", self.spl),
            ("fppt", self.fppt),
            ("sppt", self.sppt),
            ("thm_core", self.thm_core),
            ("thm_gfx", self.thm_gfx),
            ("thm_soc", self.thm_soc),
            ("prochot", self.prochot),
        ]
    }
}
