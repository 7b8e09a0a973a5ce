//! Decoding a `gpu_metrics` blob into [`GpuMetrics`].

use super::layout::{self, Field, Kind, Layout};
use crate::model::{GpuMetrics, ThrottleResidency};

/// Why a blob could not be decoded. The messages are shown to people, after the file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty")]
    Empty,
    #[error("{0} bytes is too short for a gpu_metrics header")]
    NoHeader(usize),
    #[error("unknown gpu_metrics format v{format}_{content} ({size} bytes)")]
    UnknownRevision { format: u8, content: u8, size: usize },
    #[error("header says {declared} bytes but {version} is {expected} bytes")]
    SizeMismatch { version: String, declared: usize, expected: usize },
    #[error("truncated: {got} of {expected} bytes of {version}")]
    Truncated { version: String, got: usize, expected: usize },
}

/// Values near the u16 ceiling of the DRAM bandwidth fields may be clipped (firmware behaviour
/// above 65.5 GB/s is unverified; the platform peak is 256 GB/s).
pub const DRAM_SATURATION_MB_PER_S: u32 = 65_000;

/// Decodes a blob read from `gpu_metrics`. Extra bytes after the declared structure are
/// ignored (newer kernels may append), a short blob is an error, never a partial decode.
pub fn decode(bytes: &[u8]) -> Result<GpuMetrics, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() < 4 {
        return Err(DecodeError::NoHeader(bytes.len()));
    }
    let declared = usize::from(u16::from_le_bytes([bytes[0], bytes[1]]));
    let (format, content) = (bytes[2], bytes[3]);
    let layout = layout::find(format, content).ok_or(DecodeError::UnknownRevision {
        format,
        content,
        size: bytes.len(),
    })?;
    if declared != layout.size {
        return Err(DecodeError::SizeMismatch {
            version: layout.version(),
            declared,
            expected: layout.size,
        });
    }
    if bytes.len() < layout.size {
        return Err(DecodeError::Truncated {
            version: layout.version(),
            got: bytes.len(),
            expected: layout.size,
        });
    }
    let blob = Blob { bytes: &bytes[..layout.size], layout };
    Ok(match format {
        1 => v1(&blob),
        2 => v2(&blob),
        _ => v3(&blob),
    })
}

/// Field access by name through the layout table. A field the version lacks, or one holding
/// the all-ones "not supported" sentinel, is `None`.
struct Blob<'a> {
    bytes: &'a [u8],
    layout: &'static Layout,
}

impl Blob<'_> {
    fn raw(&self, field: &Field, index: usize) -> Option<u64> {
        let width = field.kind.bytes();
        let start = field.offset + index * width;
        let b = self.bytes.get(start..start + width)?;
        let value = match field.kind {
            Kind::U8 => u64::from(b[0]),
            Kind::U16 => u64::from(u16::from_le_bytes([b[0], b[1]])),
            Kind::U32 => u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Kind::U64 => u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        };
        let sentinel = match field.kind {
            Kind::U8 => u64::from(u8::MAX),
            Kind::U16 => u64::from(u16::MAX),
            Kind::U32 => u64::from(u32::MAX),
            Kind::U64 => u64::MAX,
        };
        (value != sentinel).then_some(value)
    }

    fn get(&self, name: &str) -> Option<u64> {
        self.raw(self.layout.field(name)?, 0)
    }

    fn array(&self, name: &str) -> Vec<Option<u64>> {
        match self.layout.field(name) {
            Some(field) => (0..field.count).map(|i| self.raw(field, i)).collect(),
            None => Vec::new(),
        }
    }

    fn u16(&self, name: &str) -> Option<u16> {
        self.get(name).and_then(|v| u16::try_from(v).ok())
    }

    fn u32(&self, name: &str) -> Option<u32> {
        self.get(name).and_then(|v| u32::try_from(v).ok())
    }

    /// A centi-unit (centi-°C, centi-%) as a float.
    fn centi(&self, name: &str) -> Option<f64> {
        self.get(name).map(|v| v as f64 / 100.0)
    }

    /// A centi-°C temperature; 0 means "sensor not populated" on APUs.
    fn centi_temp(&self, name: &str) -> Option<f64> {
        self.get(name).filter(|v| *v != 0).map(|v| v as f64 / 100.0)
    }
}

fn u16s(values: Vec<Option<u64>>) -> Vec<Option<u16>> {
    values.into_iter().map(|v| v.and_then(|v| u16::try_from(v).ok())).collect()
}

fn u32s(values: Vec<Option<u64>>) -> Vec<Option<u32>> {
    values.into_iter().map(|v| v.and_then(|v| u32::try_from(v).ok())).collect()
}

fn header(blob: &Blob) -> GpuMetrics {
    GpuMetrics {
        format_revision: blob.layout.format_revision,
        content_revision: blob.layout.content_revision,
        system_clock_counter_ns: blob.get("system_clock_counter"),
        throttle_status: blob.u32("throttle_status"),
        indep_throttle_status: blob.get("indep_throttle_status"),
        ..GpuMetrics::default()
    }
}

/// dGPUs: whole °C, whole W, activity in %.
fn v1(blob: &Blob) -> GpuMetrics {
    let celsius = |name| blob.get(name).map(|v| v as f64);
    let percent = |name| blob.get(name).map(|v| (v as f64).min(100.0));
    GpuMetrics {
        edge_temp_c: celsius("temperature_edge"),
        hotspot_temp_c: celsius("temperature_hotspot"),
        memory_temp_c: celsius("temperature_mem"),
        gfx_activity_percent: percent("average_gfx_activity"),
        memory_activity_percent: percent("average_umc_activity"),
        media_activity_percent: percent("average_mm_activity"),
        socket_power_mw: blob.u32("average_socket_power").map(|w| w.saturating_mul(1000)),
        gfxclk_mhz: blob.u16("average_gfxclk_frequency"),
        socclk_mhz: blob.u16("average_socclk_frequency"),
        uclk_mhz: blob.u16("average_uclk_frequency"),
        vclk_mhz: blob.u16("average_vclk0_frequency"),
        dclk_mhz: blob.u16("average_dclk0_frequency"),
        fan_rpm: blob.u16("current_fan_speed"),
        pcie_link_width: blob.u16("pcie_link_width"),
        // In 0.1 GT/s.
        pcie_link_speed_gt_s: blob.get("pcie_link_speed").map(|v| v as f64 / 10.0),
        ..header(blob)
    }
}

/// Older APUs: centi-°C, activity in centi-%, power in mW.
fn v2(blob: &Blob) -> GpuMetrics {
    let centi_percent = |name| blob.centi(name).map(|v| v.min(100.0));
    GpuMetrics {
        edge_temp_c: blob.centi_temp("temperature_gfx"),
        soc_temp_c: blob.centi_temp("temperature_soc"),
        core_temps_c: centi_temps(blob.array("temperature_core")),
        gfx_activity_percent: centi_percent("average_gfx_activity"),
        media_activity_percent: centi_percent("average_mm_activity"),
        socket_power_mw: blob.u32("average_socket_power"),
        cpu_cores_power_mw: blob.u32("average_cpu_power"),
        soc_power_mw: blob.u32("average_soc_power"),
        gfx_power_mw: blob.u32("average_gfx_power"),
        core_power_mw: u32s(blob.array("average_core_power")),
        gfxclk_mhz: blob.u16("average_gfxclk_frequency"),
        socclk_mhz: blob.u16("average_socclk_frequency"),
        uclk_mhz: blob.u16("average_uclk_frequency"),
        fclk_mhz: blob.u16("average_fclk_frequency"),
        vclk_mhz: blob.u16("average_vclk_frequency"),
        dclk_mhz: blob.u16("average_dclk_frequency"),
        core_clocks_mhz: u16s(blob.array("current_coreclk")),
        cpu_voltage_mv: blob.u16("average_cpu_voltage"),
        soc_voltage_mv: blob.u16("average_soc_voltage"),
        gfx_voltage_mv: blob.u16("average_gfx_voltage"),
        cpu_current_ma: blob.u16("average_cpu_current"),
        soc_current_ma: blob.u16("average_soc_current"),
        gfx_current_ma: blob.u16("average_gfx_current"),
        ..header(blob)
    }
}

/// SMU14 APUs (Strix Halo): centi-°C, activity in % (PMFW newer than 0x5d4600, as on every
/// Strix Halo seen), power in mW.
fn v3(blob: &Blob) -> GpuMetrics {
    let percent = |v: Option<u64>| v.map(|v| (v as f64).min(100.0));
    let dram_read = blob.u32("average_dram_reads");
    let dram_write = blob.u32("average_dram_writes");
    let socket = blob.u32("average_socket_power");
    let counter = |limiter: &str| blob.u32(&format!("throttle_residency_{limiter}"));
    let residency = ThrottleResidency {
        prochot: counter("prochot"),
        spl: counter("spl"),
        fppt: counter("fppt"),
        sppt: counter("sppt"),
        thm_core: counter("thm_core"),
        thm_gfx: counter("thm_gfx"),
        thm_soc: counter("thm_soc"),
    };
    // Kernels before driver-IF 7 leave all of them at the sentinel.
    let has_residency = residency.counters().iter().any(|(_, v)| v.is_some());
    GpuMetrics {
        edge_temp_c: blob.centi_temp("temperature_gfx"),
        soc_temp_c: blob.centi_temp("temperature_soc"),
        core_temps_c: centi_temps(blob.array("temperature_core")),
        skin_temp_c: blob.centi_temp("temperature_skin"),
        gfx_activity_percent: percent(blob.get("average_gfx_activity")),
        media_activity_percent: percent(blob.get("average_vcn_activity")),
        npu_activity_percent: blob.array("average_ipu_activity").into_iter().map(percent).collect(),
        core_c0_percent: blob.array("average_core_c0_activity").into_iter().map(percent).collect(),
        dram_read_mb_per_s: dram_read,
        dram_write_mb_per_s: dram_write,
        dram_bandwidth_saturated: [dram_read, dram_write]
            .iter()
            .any(|v| v.is_some_and(|v| v >= DRAM_SATURATION_MB_PER_S)),
        npu_read_mb_per_s: blob.u32("average_ipu_reads"),
        npu_write_mb_per_s: blob.u32("average_ipu_writes"),
        socket_power_mw: socket,
        npu_power_mw: blob.u32("average_ipu_power"),
        apu_power_mw: blob.u32("average_apu_power"),
        gfx_power_mw: blob.u32("average_gfx_power"),
        dgpu_power_mw: blob.u32("average_dgpu_power"),
        cpu_cores_power_mw: blob.u32("average_all_core_power"),
        core_power_mw: u32s(blob.array("average_core_power")),
        system_power_mw: blob
            .u32("average_sys_power")
            .filter(|sys| socket.is_some_and(|socket| *sys < socket)),
        stapm_power_limit_mw: blob.u32("stapm_power_limit"),
        current_stapm_power_limit_mw: blob.u32("current_stapm_power_limit"),
        gfxclk_mhz: blob.u16("average_gfxclk_frequency"),
        socclk_mhz: blob.u16("average_socclk_frequency"),
        vpeclk_mhz: blob.u16("average_vpeclk_frequency"),
        npuclk_mhz: blob.u16("average_ipuclk_frequency"),
        fclk_mhz: blob.u16("average_fclk_frequency"),
        vclk_mhz: blob.u16("average_vclk_frequency"),
        uclk_mhz: blob.u16("average_uclk_frequency"),
        mpnpuclk_mhz: blob.u16("average_mpipu_frequency"),
        core_clocks_mhz: u16s(blob.array("current_coreclk")),
        core_max_clock_mhz: blob.u16("current_core_maxfreq"),
        gfx_max_clock_mhz: blob.u16("current_gfx_maxfreq"),
        throttle_residency: has_residency.then_some(residency),
        time_filter_us: blob.u32("time_filter_alphavalue"),
        ..header(blob)
    }
}

fn centi_temps(values: Vec<Option<u64>>) -> Vec<Option<f64>> {
    values.into_iter().map(|v| v.filter(|v| *v != 0).map(|v| v as f64 / 100.0)).collect()
}
