//! The byte layouts of `struct gpu_metrics_vX_Y` (kernel `kgd_pp_interface.h`), as tables.
//!
//! The structs are not `__packed`: fields sit at their natural x86-64 alignment (u16 on 2, u32
//! on 4, u64 on 8) and the struct is padded to a multiple of its largest member. v1_0 and v2_0
//! put a u64 right after the 4-byte header, so bytes 4..8 are padding there. The kernel fills
//! the whole struct with 0xFF before writing the fields, so padding and unsupported fields read
//! as 0xFF. Both the decoder and the test packer read these tables; the packer reproduces a
//! real Strix Halo dump byte for byte from them (see `fixture_blobs`).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    U8,
    U16,
    U32,
    U64,
}

impl Kind {
    pub const fn bytes(self) -> usize {
        match self {
            Kind::U8 => 1,
            Kind::U16 => 2,
            Kind::U32 => 4,
            Kind::U64 => 8,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub offset: usize,
    pub kind: Kind,
    /// Array length (1 for a scalar).
    pub count: usize,
}

impl Field {
    pub const fn end(&self) -> usize {
        self.offset + self.kind.bytes() * self.count
    }
}

const fn f(name: &'static str, offset: usize, kind: Kind, count: usize) -> Field {
    Field { name, offset, kind, count }
}

use Kind::{U8, U16, U32, U64};

#[derive(Debug)]
pub struct Layout {
    pub format_revision: u8,
    pub content_revision: u8,
    /// `sizeof(struct gpu_metrics_vX_Y)`.
    pub size: usize,
    /// The fields, in chunks so that versions can share a prefix.
    pub chunks: &'static [&'static [Field]],
}

impl Layout {
    pub fn fields(&self) -> impl Iterator<Item = &'static Field> {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields().find(|f| f.name == name)
    }

    pub fn version(&self) -> String {
        format!("v{}_{}", self.format_revision, self.content_revision)
    }
}

const HEADER: &[Field] = &[
    f("structure_size", 0, U16, 1),
    f("format_revision", 2, U8, 1),
    f("content_revision", 3, U8, 1),
];

// ---- v1: discrete GPUs. Temperatures in °C, power in W. ----

const V1_0_BODY: &[Field] = &[
    f("system_clock_counter", 8, U64, 1),
    f("temperature_edge", 16, U16, 1),
    f("temperature_hotspot", 18, U16, 1),
    f("temperature_mem", 20, U16, 1),
    f("temperature_vrgfx", 22, U16, 1),
    f("temperature_vrsoc", 24, U16, 1),
    f("temperature_vrmem", 26, U16, 1),
    f("average_gfx_activity", 28, U16, 1),
    f("average_umc_activity", 30, U16, 1),
    f("average_mm_activity", 32, U16, 1),
    f("average_socket_power", 34, U16, 1),
    f("energy_accumulator", 36, U32, 1),
    f("average_gfxclk_frequency", 40, U16, 1),
    f("average_socclk_frequency", 42, U16, 1),
    f("average_uclk_frequency", 44, U16, 1),
    f("average_vclk0_frequency", 46, U16, 1),
    f("average_dclk0_frequency", 48, U16, 1),
    f("average_vclk1_frequency", 50, U16, 1),
    f("average_dclk1_frequency", 52, U16, 1),
    f("current_gfxclk", 54, U16, 1),
    f("current_socclk", 56, U16, 1),
    f("current_uclk", 58, U16, 1),
    f("current_vclk0", 60, U16, 1),
    f("current_dclk0", 62, U16, 1),
    f("current_vclk1", 64, U16, 1),
    f("current_dclk1", 66, U16, 1),
    f("throttle_status", 68, U32, 1),
    f("current_fan_speed", 72, U16, 1),
    f("pcie_link_width", 74, U8, 1),
    f("pcie_link_speed", 75, U8, 1),
];

/// v1_1 moved the timestamp after a u64 energy accumulator and widened the link fields.
const V1_1_BODY: &[Field] = &[
    f("temperature_edge", 4, U16, 1),
    f("temperature_hotspot", 6, U16, 1),
    f("temperature_mem", 8, U16, 1),
    f("temperature_vrgfx", 10, U16, 1),
    f("temperature_vrsoc", 12, U16, 1),
    f("temperature_vrmem", 14, U16, 1),
    f("average_gfx_activity", 16, U16, 1),
    f("average_umc_activity", 18, U16, 1),
    f("average_mm_activity", 20, U16, 1),
    f("average_socket_power", 22, U16, 1),
    f("energy_accumulator", 24, U64, 1),
    f("system_clock_counter", 32, U64, 1),
    f("average_gfxclk_frequency", 40, U16, 1),
    f("average_socclk_frequency", 42, U16, 1),
    f("average_uclk_frequency", 44, U16, 1),
    f("average_vclk0_frequency", 46, U16, 1),
    f("average_dclk0_frequency", 48, U16, 1),
    f("average_vclk1_frequency", 50, U16, 1),
    f("average_dclk1_frequency", 52, U16, 1),
    f("current_gfxclk", 54, U16, 1),
    f("current_socclk", 56, U16, 1),
    f("current_uclk", 58, U16, 1),
    f("current_vclk0", 60, U16, 1),
    f("current_dclk0", 62, U16, 1),
    f("current_vclk1", 64, U16, 1),
    f("current_dclk1", 66, U16, 1),
    f("throttle_status", 68, U32, 1),
    f("current_fan_speed", 72, U16, 1),
    f("pcie_link_width", 74, U16, 1),
    f("pcie_link_speed", 76, U16, 1),
    f("padding", 78, U16, 1),
    f("gfx_activity_acc", 80, U32, 1),
    f("mem_activity_acc", 84, U32, 1),
    f("temperature_hbm", 88, U16, 4),
];
const V1_2_EXTRA: &[Field] = &[f("firmware_timestamp", 96, U64, 1)];
const V1_3_EXTRA: &[Field] = &[
    f("voltage_soc", 104, U16, 1),
    f("voltage_gfx", 106, U16, 1),
    f("voltage_mem", 108, U16, 1),
    f("padding1", 110, U16, 1),
    f("indep_throttle_status", 112, U64, 1),
];

// ---- v2: older APUs. Temperatures in centi-°C, activity in centi-%, power in mW. ----

const V2_0_BODY: &[Field] = &[
    f("system_clock_counter", 8, U64, 1),
    f("temperature_gfx", 16, U16, 1),
    f("temperature_soc", 18, U16, 1),
    f("temperature_core", 20, U16, 8),
    f("temperature_l3", 36, U16, 2),
    f("average_gfx_activity", 40, U16, 1),
    f("average_mm_activity", 42, U16, 1),
    f("average_socket_power", 44, U16, 1),
    f("average_cpu_power", 46, U16, 1),
    f("average_soc_power", 48, U16, 1),
    f("average_gfx_power", 50, U16, 1),
    f("average_core_power", 52, U16, 8),
    f("average_gfxclk_frequency", 68, U16, 1),
    f("average_socclk_frequency", 70, U16, 1),
    f("average_uclk_frequency", 72, U16, 1),
    f("average_fclk_frequency", 74, U16, 1),
    f("average_vclk_frequency", 76, U16, 1),
    f("average_dclk_frequency", 78, U16, 1),
    f("current_gfxclk", 80, U16, 1),
    f("current_socclk", 82, U16, 1),
    f("current_uclk", 84, U16, 1),
    f("current_fclk", 86, U16, 1),
    f("current_vclk", 88, U16, 1),
    f("current_dclk", 90, U16, 1),
    f("current_coreclk", 92, U16, 8),
    f("current_l3clk", 108, U16, 2),
    f("throttle_status", 112, U32, 1),
    f("fan_pwm", 116, U16, 1),
    f("padding", 118, U16, 1),
];

/// v2_1 put the timestamp after the activity fields, so the struct is naturally aligned.
const V2_1_BODY: &[Field] = &[
    f("temperature_gfx", 4, U16, 1),
    f("temperature_soc", 6, U16, 1),
    f("temperature_core", 8, U16, 8),
    f("temperature_l3", 24, U16, 2),
    f("average_gfx_activity", 28, U16, 1),
    f("average_mm_activity", 30, U16, 1),
    f("system_clock_counter", 32, U64, 1),
    f("average_socket_power", 40, U16, 1),
    f("average_cpu_power", 42, U16, 1),
    f("average_soc_power", 44, U16, 1),
    f("average_gfx_power", 46, U16, 1),
    f("average_core_power", 48, U16, 8),
    f("average_gfxclk_frequency", 64, U16, 1),
    f("average_socclk_frequency", 66, U16, 1),
    f("average_uclk_frequency", 68, U16, 1),
    f("average_fclk_frequency", 70, U16, 1),
    f("average_vclk_frequency", 72, U16, 1),
    f("average_dclk_frequency", 74, U16, 1),
    f("current_gfxclk", 76, U16, 1),
    f("current_socclk", 78, U16, 1),
    f("current_uclk", 80, U16, 1),
    f("current_fclk", 82, U16, 1),
    f("current_vclk", 84, U16, 1),
    f("current_dclk", 86, U16, 1),
    f("current_coreclk", 88, U16, 8),
    f("current_l3clk", 104, U16, 2),
    f("throttle_status", 108, U32, 1),
    f("fan_pwm", 112, U16, 1),
    f("padding", 114, U16, 3),
];
const V2_2_EXTRA: &[Field] = &[f("indep_throttle_status", 120, U64, 1)];
const V2_3_EXTRA: &[Field] = &[
    f("average_temperature_gfx", 128, U16, 1),
    f("average_temperature_soc", 130, U16, 1),
    f("average_temperature_core", 132, U16, 8),
    f("average_temperature_l3", 148, U16, 2),
];
const V2_4_EXTRA: &[Field] = &[
    f("average_cpu_voltage", 152, U16, 1),
    f("average_soc_voltage", 154, U16, 1),
    f("average_gfx_voltage", 156, U16, 1),
    f("average_cpu_current", 158, U16, 1),
    f("average_soc_current", 160, U16, 1),
    f("average_gfx_current", 162, U16, 1),
];

// ---- v3_0: SMU14 APUs (Strix Point, Strix Halo, Krackan). Units as v2, activity in %. ----

const V3_0_BODY: &[Field] = &[
    f("temperature_gfx", 4, U16, 1),
    f("temperature_soc", 6, U16, 1),
    f("temperature_core", 8, U16, 16),
    f("temperature_skin", 40, U16, 1),
    f("average_gfx_activity", 42, U16, 1),
    f("average_vcn_activity", 44, U16, 1),
    f("average_ipu_activity", 46, U16, 8),
    f("average_core_c0_activity", 62, U16, 16),
    f("average_dram_reads", 94, U16, 1),
    f("average_dram_writes", 96, U16, 1),
    f("average_ipu_reads", 98, U16, 1),
    f("average_ipu_writes", 100, U16, 1),
    f("system_clock_counter", 104, U64, 1),
    f("average_socket_power", 112, U32, 1),
    f("average_ipu_power", 116, U16, 1),
    f("average_apu_power", 120, U32, 1),
    f("average_gfx_power", 124, U32, 1),
    f("average_dgpu_power", 128, U32, 1),
    f("average_all_core_power", 132, U32, 1),
    f("average_core_power", 136, U16, 16),
    f("average_sys_power", 168, U16, 1),
    f("stapm_power_limit", 170, U16, 1),
    f("current_stapm_power_limit", 172, U16, 1),
    f("average_gfxclk_frequency", 174, U16, 1),
    f("average_socclk_frequency", 176, U16, 1),
    f("average_vpeclk_frequency", 178, U16, 1),
    f("average_ipuclk_frequency", 180, U16, 1),
    f("average_fclk_frequency", 182, U16, 1),
    f("average_vclk_frequency", 184, U16, 1),
    f("average_uclk_frequency", 186, U16, 1),
    f("average_mpipu_frequency", 188, U16, 1),
    f("current_coreclk", 190, U16, 16),
    f("current_core_maxfreq", 222, U16, 1),
    f("current_gfx_maxfreq", 224, U16, 1),
    f("throttle_residency_prochot", 228, U32, 1),
    f("throttle_residency_spl", 232, U32, 1),
    f("throttle_residency_fppt", 236, U32, 1),
    f("throttle_residency_sppt", 240, U32, 1),
    f("throttle_residency_thm_core", 244, U32, 1),
    f("throttle_residency_thm_gfx", 248, U32, 1),
    f("throttle_residency_thm_soc", 252, U32, 1),
    f("time_filter_alphavalue", 256, U32, 1),
];

const fn layout(
    format_revision: u8,
    content_revision: u8,
    size: usize,
    chunks: &'static [&'static [Field]],
) -> Layout {
    Layout { format_revision, content_revision, size, chunks }
}

pub static V1_0: Layout = layout(1, 0, 80, &[HEADER, V1_0_BODY]);
pub static V1_1: Layout = layout(1, 1, 96, &[HEADER, V1_1_BODY]);
pub static V1_2: Layout = layout(1, 2, 104, &[HEADER, V1_1_BODY, V1_2_EXTRA]);
pub static V1_3: Layout = layout(1, 3, 120, &[HEADER, V1_1_BODY, V1_2_EXTRA, V1_3_EXTRA]);
pub static V2_0: Layout = layout(2, 0, 120, &[HEADER, V2_0_BODY]);
pub static V2_1: Layout = layout(2, 1, 120, &[HEADER, V2_1_BODY]);
pub static V2_2: Layout = layout(2, 2, 128, &[HEADER, V2_1_BODY, V2_2_EXTRA]);
pub static V2_3: Layout = layout(2, 3, 152, &[HEADER, V2_1_BODY, V2_2_EXTRA, V2_3_EXTRA]);
pub static V2_4: Layout =
    layout(2, 4, 168, &[HEADER, V2_1_BODY, V2_2_EXTRA, V2_3_EXTRA, V2_4_EXTRA]);
pub static V3_0: Layout = layout(3, 0, 264, &[HEADER, V3_0_BODY]);

/// Every layout this decoder knows. v1_4 and later (MI300-class datacenter parts) are not here.
pub static LAYOUTS: [&Layout; 10] =
    [&V1_0, &V1_1, &V1_2, &V1_3, &V2_0, &V2_1, &V2_2, &V2_3, &V2_4, &V3_0];

pub fn find(format_revision: u8, content_revision: u8) -> Option<&'static Layout> {
    LAYOUTS
        .iter()
        .copied()
        .find(|l| l.format_revision == format_revision && l.content_revision == content_revision)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a C compiler does with these structs on x86-64, checked field by field.
    #[test]
    fn layouts_are_naturally_aligned_without_overlaps() {
        for layout in LAYOUTS {
            let mut end: usize = 0;
            let mut largest: usize = 1;
            for field in layout.fields() {
                let align = field.kind.bytes();
                largest = largest.max(align);
                // The next free byte rounded up to this field's alignment is where C puts it.
                let expected = end.next_multiple_of(align);
                assert_eq!(field.offset, expected, "{} {}", layout.version(), field.name);
                end = field.end();
            }
            assert_eq!(layout.size, end.next_multiple_of(largest), "{} size", layout.version());
        }
    }

    #[test]
    fn sizes_match_the_kernel() {
        let sizes: Vec<_> = LAYOUTS.iter().map(|l| (l.version(), l.size)).collect();
        let expected = [
            ("v1_0", 80),
            ("v1_1", 96),
            ("v1_2", 104),
            ("v1_3", 120),
            ("v2_0", 120),
            ("v2_1", 120),
            ("v2_2", 128),
            ("v2_3", 152),
            ("v2_4", 168),
            ("v3_0", 264),
        ];
        let expected: Vec<_> = expected.iter().map(|(v, s)| (v.to_string(), *s)).collect();
        assert_eq!(sizes, expected);
    }

    #[test]
    fn v3_padding_is_where_the_real_dump_has_0xff() {
        let mut covered = [false; 264];
        for field in V3_0.fields() {
            covered[field.offset..field.end()].iter_mut().for_each(|c| *c = true);
        }
        let padding: Vec<usize> = (0..264).filter(|i| !covered[*i]).collect();
        assert_eq!(padding, [102, 103, 118, 119, 226, 227, 260, 261, 262, 263]);
    }

    #[test]
    fn finds_by_revision() {
        assert_eq!(find(3, 0).map(|l| l.size), Some(264));
        assert_eq!(find(2, 2).map(|l| l.size), Some(128));
        assert!(find(3, 1).is_none());
        assert!(find(1, 4).is_none());
    }
}
