use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::GpuMetrics;

/// What the amdgpu driver tells about every AMD GPU, and which processes use them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AmdgpuSection {
    /// One entry per `cardN` driven by amdgpu, in card order.
    #[serde(default)]
    pub cards: Vec<AmdgpuCard>,
    #[serde(default)]
    pub processes: GpuProcesses,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GpuKind {
    /// Integrated: shares the machine's DRAM (VRAM is a BIOS carve-out of it).
    Apu,
    Dgpu,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AmdgpuCard {
    /// `card1`: the index differs between machines and boots.
    pub card: String,
    #[serde(default)]
    pub identity: GpuIdentity,
    /// `power/runtime_status` (`active`, `suspended`, ...); `None` where the file is absent.
    #[serde(default)]
    pub runtime_status: Option<String>,
    /// The device was runtime-suspended, so nothing else was read: reading would wake it.
    #[serde(default)]
    pub asleep: bool,
    #[serde(default)]
    pub memory: GpuMemory,
    /// `gpu_busy_percent`.
    #[serde(default)]
    pub gpu_busy_percent: Option<f64>,
    /// `vcn_busy_percent` (video engine; recent kernels only).
    #[serde(default)]
    pub vcn_busy_percent: Option<f64>,
    /// `mem_busy_percent` (dGPUs only).
    #[serde(default)]
    pub mem_busy_percent: Option<f64>,
    /// `power_dpm_force_performance_level`: `auto`, `high`, `manual`, ...
    #[serde(default)]
    pub performance_level: Option<String>,
    #[serde(default)]
    pub clocks: DpmClocks,
    #[serde(default)]
    pub hwmon: GpuHwmon,
    #[serde(default)]
    pub metrics: Option<GpuMetrics>,
    /// The unified-memory picture (APUs only).
    #[serde(default)]
    pub unified_memory: Option<UnifiedMemory>,
    /// Files that exist but could not be read or made sense of, each naming the file and why.
    /// (A missing file is the kernel's way of saying "not supported here" and is not listed.)
    #[serde(default)]
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuIdentity {
    #[serde(default)]
    pub vendor_id: Option<u16>,
    #[serde(default)]
    pub device_id: Option<u16>,
    #[serde(default)]
    pub revision: Option<u8>,
    #[serde(default)]
    pub subsystem_vendor_id: Option<u16>,
    #[serde(default)]
    pub subsystem_device_id: Option<u16>,
    /// e.g. "AMD Radeon 8060S Graphics" (from the device id and revision).
    #[serde(default)]
    pub marketing_name: Option<String>,
    /// e.g. "Strix Halo".
    #[serde(default)]
    pub codename: Option<String>,
    #[serde(default)]
    pub kind: Option<GpuKind>,
    /// PCI address, e.g. `0000:c5:00.0` (equals `drm-pdev` in fdinfo).
    #[serde(default)]
    pub pci_bdf: Option<String>,
    /// e.g. `renderD128`.
    #[serde(default)]
    pub render_node: Option<String>,
    /// e.g. `hwmon5`.
    #[serde(default)]
    pub hwmon: Option<String>,
    #[serde(default)]
    pub vbios_version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuMemory {
    /// On an APU: the BIOS carve-out ("UMA frame buffer"), not the machine's memory.
    #[serde(default)]
    pub vram_total_bytes: Option<u64>,
    #[serde(default)]
    pub vram_used_bytes: Option<u64>,
    /// GTT: system RAM the GPU maps; the main pool for models on an APU.
    #[serde(default)]
    pub gtt_total_bytes: Option<u64>,
    #[serde(default)]
    pub gtt_used_bytes: Option<u64>,
    /// TTM's `pages_limit` × 4 KiB: the kernel will not allocate more GTT than this, even when
    /// `gtt_total` says more (the "GTT size ... TTM size ... unusual" case).
    #[serde(default)]
    pub ttm_limit_bytes: Option<u64>,
    /// min(gtt_total, ttm_limit): what can really be allocated.
    #[serde(default)]
    pub gtt_allocatable_bytes: Option<u64>,
}

/// DPM clock levels from `pp_dpm_*` (read at discovery and every few seconds: the current
/// clocks come from `gpu_metrics`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DpmClocks {
    #[serde(default)]
    pub sclk: Option<DpmClock>,
    #[serde(default)]
    pub mclk: Option<DpmClock>,
    #[serde(default)]
    pub fclk: Option<DpmClock>,
    #[serde(default)]
    pub socclk: Option<DpmClock>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DpmClock {
    /// Distinct levels, ascending (for a fine-grained clock: just min and max).
    pub levels_mhz: Vec<u32>,
    /// The starred level; `None` when no level is starred (the clock sits between levels).
    #[serde(default)]
    pub current_mhz: Option<u32>,
    #[serde(default)]
    pub min_mhz: Option<u32>,
    #[serde(default)]
    pub max_mhz: Option<u32>,
}

/// The card's own hwmon chip (`name` = `amdgpu`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuHwmon {
    /// `temp1_input` (whole degrees on SMU14).
    #[serde(default)]
    pub edge_temp_c: Option<f64>,
    /// Package power in W, decoded (see `power_centiwatt_quirk`).
    #[serde(default)]
    pub power_w: Option<f64>,
    /// The file's raw µW value.
    #[serde(default)]
    pub power_raw_uw: Option<u64>,
    /// `power1_average` or `power1_input`.
    #[serde(default)]
    pub power_file: Option<String>,
    /// SMU14 puts centiwatts in the low "mW" digits: 16020000 means 16.20 W, not 16.02 W.
    #[serde(default)]
    pub power_centiwatt_quirk: bool,
    /// `freq1_input` (Hz) in MHz.
    #[serde(default)]
    pub sclk_mhz: Option<f64>,
    /// `in0_input`; SMU14 reports 0, which means "not measured", so `None` then.
    #[serde(default)]
    pub vddgfx_mv: Option<u64>,
    #[serde(default)]
    pub vddnb_mv: Option<u64>,
}

/// The one pool of DRAM on an APU, split without double counting:
/// `pool = carve_out + MemTotal` and `MemTotal = gtt_used + host_used_excluding_gtt + available`
/// (GTT pages are ordinary RAM, so they are inside MemTotal − MemAvailable).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnifiedMemory {
    /// Carve-out + MemTotal: the DRAM the OS and the GPU can use together.
    #[serde(default)]
    pub pool_bytes: Option<u64>,
    #[serde(default)]
    pub carve_out_bytes: Option<u64>,
    #[serde(default)]
    pub carve_out_used_bytes: Option<u64>,
    #[serde(default)]
    pub gtt_used_bytes: Option<u64>,
    #[serde(default)]
    pub gtt_allocatable_bytes: Option<u64>,
    /// `MemAvailable`.
    #[serde(default)]
    pub host_available_bytes: Option<u64>,
    /// MemTotal − MemAvailable − GTT used: what the CPU side uses for itself.
    #[serde(default)]
    pub host_used_excluding_gtt_bytes: Option<u64>,
    /// Carve-out used + GTT used.
    #[serde(default)]
    pub gpu_used_bytes: Option<u64>,
    /// What the GPU could still allocate: free carve-out + min(MemAvailable, GTT headroom).
    #[serde(default)]
    pub gpu_headroom_bytes: Option<u64>,
    /// The process holding the most GPU memory on this card (the model server, usually).
    #[serde(default)]
    pub largest_process: Option<ProcessShare>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessShare {
    pub pid: u32,
    pub name: String,
    pub gpu_memory_bytes: u64,
    /// Share of `pool_bytes`.
    #[serde(default)]
    pub pool_percent: Option<f64>,
}

/// Processes with amdgpu DRM clients, from `/proc/PID/fdinfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuProcesses {
    /// One entry per (process, GPU), largest GPU memory first.
    #[serde(default)]
    pub clients: Vec<GpuProcess>,
    /// Processes whose file descriptors we may not read (other users' without root): they may
    /// use the GPU unseen.
    #[serde(default)]
    pub hidden_processes: u32,
    /// CLOCK_MONOTONIC (ns) right after the fdinfo reads: the time base of engine busy %.
    #[serde(default)]
    pub read_mono_ns: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuProcess {
    pub pid: u32,
    /// `comm`.
    pub name: String,
    /// `cmdline`, arguments joined by spaces (shortened).
    #[serde(default)]
    pub command: Option<String>,
    /// The card this client uses (from `drm-pdev`), e.g. `card1`.
    #[serde(default)]
    pub card: Option<String>,
    #[serde(default)]
    pub pci_bdf: Option<String>,
    /// The distinct DRM clients (`drm-client-id`) of this process on this GPU.
    #[serde(default)]
    pub client_ids: Vec<u64>,
    #[serde(default)]
    pub vram_bytes: Option<u64>,
    #[serde(default)]
    pub gtt_bytes: Option<u64>,
    /// Every memory region with something in it (`vram`, `gtt`, `cpu`, ...), summed over the
    /// clients: total, shared, resident and purgeable bytes.
    #[serde(default)]
    pub regions: BTreeMap<String, DrmRegion>,
    /// VRAM the kernel evicted to system memory (`amd-evicted-vram`).
    #[serde(default)]
    pub evicted_vram_bytes: Option<u64>,
    /// VRAM + GTT: on an APU both are the same DRAM, and a model usually lives in GTT.
    #[serde(default)]
    pub gpu_memory_bytes: Option<u64>,
    /// Cumulative busy time per engine (`drm-engine-<engine>`), summed over the clients. The
    /// kernel prints only non-zero engines, so an engine absent here was idle.
    #[serde(default)]
    pub engine_ns: BTreeMap<String, u64>,
    /// Has `/dev/kfd` open (ROCm/HIP).
    #[serde(default)]
    pub uses_kfd: bool,
    /// False for ROCm processes: they submit through KFD user queues, whose busy time fdinfo
    /// does not count, so their engine use is unknown (not 0).
    #[serde(default)]
    pub engine_time_visible: bool,
}

/// One memory region of a DRM client (`drm-total-<region>` and friends).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrmRegion {
    #[serde(default)]
    pub total_bytes: Option<u64>,
    #[serde(default)]
    pub shared_bytes: Option<u64>,
    #[serde(default)]
    pub resident_bytes: Option<u64>,
    #[serde(default)]
    pub purgeable_bytes: Option<u64>,
}

/// Per-interval AMD figures, computed by the hub's derive step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AmdgpuDerived {
    #[serde(default)]
    pub cards: Vec<AmdgpuCardDerived>,
    /// Engine busy % per GPU process, over the interval.
    #[serde(default)]
    pub processes: Vec<GpuProcessBusy>,
    /// The CPU temperature: k10temp's Tctl, or where k10temp is missing on an APU (kernels
    /// before its Strix Halo support), the `gpu_metrics` SoC temperature.
    #[serde(default)]
    pub cpu_temp_c: Option<f64>,
    #[serde(default)]
    pub cpu_temp_source: Option<CpuTempSource>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CpuTempSource {
    /// k10temp `Tctl`.
    Tctl,
    /// `gpu_metrics` `temperature_soc` of the APU (no k10temp on this kernel).
    GpuMetricsSoc,
}

impl CpuTempSource {
    pub fn label(self) -> &'static str {
        match self {
            CpuTempSource::Tctl => "Tctl",
            CpuTempSource::GpuMetricsSoc => "SoC (gpu_metrics; no k10temp)",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AmdgpuCardDerived {
    pub card: String,
    /// Time between the two `gpu_metrics` tables (their `system_clock_counter`).
    #[serde(default)]
    pub metrics_interval_s: Option<f64>,
    /// The table did not change since the previous snapshot (same `system_clock_counter`).
    #[serde(default)]
    pub metrics_stale: bool,
    /// Share of the interval each limiter was engaged, by limiter (`spl`, `fppt`, `sppt`,
    /// `thm_core`, `thm_gfx`, `thm_soc`, `prochot`).
    #[serde(default)]
    pub throttle_percent: BTreeMap<String, f64>,
    /// Energy drawn by the package over the interval (socket power × interval).
    #[serde(default)]
    pub energy_interval_j: Option<f64>,
    /// Sum of `energy_interval_j` since the session started.
    #[serde(default)]
    pub energy_session_j: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuProcessBusy {
    pub pid: u32,
    #[serde(default)]
    pub card: Option<String>,
    /// Busy % per engine over the interval; it can exceed 100 (several queues of one engine).
    #[serde(default)]
    pub engine_percent: BTreeMap<String, f64>,
}
