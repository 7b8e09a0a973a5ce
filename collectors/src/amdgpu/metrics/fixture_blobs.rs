//! Test support: the `gpu_metrics` blobs of the fixture trees, as field values.
//!
//! `fixture_blobs_are_what_the_packer_makes` checks every committed blob against these; run it
//! with `HALO_TOP_WRITE_FIXTURES=1` to rewrite them after changing a value here.

use super::layout::{V1_3, V2_2, V3_0};
use super::pack::Packer;

/// Strix Halo at idle: a verbatim real dump (jimw567/amdtop fixture), reproduced field by field.
pub fn strix_halo_idle() -> Vec<u8> {
    Packer::new(&V3_0)
        .set_all(&[
            ("temperature_gfx", 4538),
            ("temperature_soc", 4538),
            ("temperature_skin", 0),
            ("average_gfx_activity", 0),
            ("average_vcn_activity", 0),
            ("average_dram_reads", 866),
            ("average_dram_writes", 282),
            ("average_ipu_reads", 0),
            ("average_ipu_writes", 0),
            ("system_clock_counter", 27_173_546_703_444),
            ("average_socket_power", 12_976),
            ("average_ipu_power", 0),
            ("average_apu_power", 12_976),
            ("average_gfx_power", 0),
            ("average_dgpu_power", 0),
            ("average_all_core_power", 3273),
            ("average_sys_power", 63_536),
            ("average_gfxclk_frequency", 600),
            ("average_socclk_frequency", 600),
            ("average_vpeclk_frequency", 800),
            ("average_ipuclk_frequency", 0),
            ("average_fclk_frequency", 1661),
            ("average_vclk_frequency", 800),
            ("average_uclk_frequency", 1000),
            ("average_mpipu_frequency", 0),
            ("current_core_maxfreq", 3569),
            ("current_gfx_maxfreq", 2900),
            ("throttle_residency_prochot", 0),
            ("throttle_residency_spl", 0),
            ("throttle_residency_fppt", 461_257),
            ("throttle_residency_sppt", 134_744),
            ("throttle_residency_thm_core", 95),
            ("throttle_residency_thm_gfx", 0),
            ("throttle_residency_thm_soc", 0),
            ("time_filter_alphavalue", 1_000_000),
        ])
        .set_array("temperature_core", &[0; 16])
        .set_array("average_ipu_activity", &[0; 8])
        .set_array("average_core_c0_activity", &[3, 7, 3, 5, 12, 19, 2, 4, 0, 1, 1, 2, 3, 0, 1, 0])
        .set_array(
            "average_core_power",
            &[129, 195, 138, 131, 176, 141, 131, 131, 122, 122, 122, 126, 151, 122, 243, 122],
        )
        .set_array(
            "current_coreclk",
            &[
                1782, 3565, 3565, 1782, 3565, 3565, 1782, 1782, 1757, 1757, 1757, 3515, 3515, 1757,
                3515, 1757,
            ],
        )
        .finish()
}

/// The load fields of the spec's §10.2 (observed: temperatures, C0, DRAM bandwidth, all-core
/// power, NPU zeros, throttle counters, max core clock; synthetic: the rest).
fn strix_halo_load_packer() -> Packer {
    Packer::new(&V3_0)
        .set_all(&[
            ("temperature_gfx", 7038),
            ("temperature_soc", 6262),
            ("temperature_skin", 0),
            ("average_gfx_activity", 97),
            ("average_vcn_activity", 0),
            ("average_dram_reads", 47_791),
            ("average_dram_writes", 1463),
            ("average_ipu_reads", 0),
            ("average_ipu_writes", 0),
            ("system_clock_counter", 3_900_000_000_000),
            ("average_socket_power", 88_165),
            ("average_ipu_power", 0),
            ("average_apu_power", 88_165),
            ("average_gfx_power", 71_230),
            ("average_dgpu_power", 0),
            ("average_all_core_power", 4659),
            ("average_sys_power", 63_536),
            ("average_gfxclk_frequency", 2900),
            ("average_socclk_frequency", 1472),
            ("average_vpeclk_frequency", 800),
            ("average_ipuclk_frequency", 0),
            ("average_fclk_frequency", 2000),
            ("average_vclk_frequency", 800),
            ("average_uclk_frequency", 937),
            ("average_mpipu_frequency", 0),
            ("current_core_maxfreq", 5150),
            ("current_gfx_maxfreq", 2900),
            ("throttle_residency_prochot", 0),
            ("throttle_residency_spl", 933_227),
            ("throttle_residency_fppt", 5_965_499),
            ("throttle_residency_sppt", 5_233_158),
            ("throttle_residency_thm_core", 142_287),
            ("throttle_residency_thm_gfx", 68_974),
            ("throttle_residency_thm_soc", 0),
            ("time_filter_alphavalue", 1_000_000),
        ])
        .set_array("temperature_core", &[0; 16])
        .set_array("average_ipu_activity", &[0; 8])
        .set_array("average_core_c0_activity", &[7, 21, 2, 1, 2, 3, 32, 5, 3, 3, 2, 2, 0, 1, 1, 5])
        .set_array(
            "average_core_power",
            &[480, 610, 250, 230, 260, 270, 720, 300, 250, 240, 230, 220, 90, 120, 110, 279],
        )
        .set_array(
            "current_coreclk",
            &[
                5140, 4870, 3120, 2990, 3310, 3400, 5020, 3600, 3300, 3150, 3000, 2950, 1800, 2200,
                2100, 3500,
            ],
        )
}

pub fn strix_halo_load() -> Vec<u8> {
    strix_halo_load_packer().finish()
}

/// The load table one poll later: 1 s on, with more throttle residency (the spec's
/// `--set throttle_residency_sppt=5233258 --set system_clock_counter=3901000000000`, plus more
/// limiters so that several percentages are checked at once).
pub fn strix_halo_load_next(extra: &[(&str, u64)]) -> Vec<u8> {
    strix_halo_load_packer().set_all(extra).finish()
}

/// A kernel before the driver-IF 7 update: the fields it added stay at the sentinel.
pub fn strix_halo_old_kernel() -> Vec<u8> {
    let sentinel16 = u64::from(u16::MAX);
    let sentinel32 = u64::from(u32::MAX);
    let limiters = ["prochot", "spl", "fppt", "sppt", "thm_core", "thm_gfx", "thm_soc"];
    let mut packer = strix_halo_load_packer().set_all(&[
        ("average_uclk_frequency", sentinel16),
        ("average_mpipu_frequency", sentinel16),
        ("average_ipu_reads", sentinel16),
        ("average_ipu_writes", sentinel16),
        ("average_sys_power", sentinel16),
    ]);
    for limiter in limiters {
        packer = packer.set(&format!("throttle_residency_{limiter}"), sentinel32);
    }
    packer.finish()
}

/// A Renoir-class APU (SMU12) emitting v2_2: activity in centi-%.
pub fn renoir() -> Vec<u8> {
    Packer::new(&V2_2)
        .set_all(&[
            ("temperature_gfx", 5125),
            ("temperature_soc", 4975),
            ("average_gfx_activity", 4550),
            ("average_mm_activity", 0),
            ("system_clock_counter", 1_234_000_000_000),
            ("average_socket_power", 15_250),
            ("average_cpu_power", 6125),
            ("average_soc_power", 2750),
            ("average_gfx_power", 5375),
            ("average_gfxclk_frequency", 1600),
            ("average_socclk_frequency", 1000),
            ("average_uclk_frequency", 1600),
            ("average_fclk_frequency", 1600),
            ("average_vclk_frequency", 0),
            ("average_dclk_frequency", 0),
            ("throttle_status", 0),
            ("indep_throttle_status", 0),
        ])
        .set_array("temperature_core", &[5300, 5250, 5400, 5100, 5200, 5150, 5350, 5050])
        .set_array("average_core_power", &[800, 750, 700, 760, 820, 690, 710, 730])
        .set_array("current_coreclk", &[3900, 3850, 4000, 3700, 3950, 3600, 3800, 3750])
        .finish()
}

/// A Navi 31 (RX 7900 XTX) dGPU emitting v1_3: whole °C and whole W.
pub fn navi31() -> Vec<u8> {
    Packer::new(&V1_3)
        .set_all(&[
            ("temperature_edge", 41),
            ("temperature_hotspot", 48),
            ("temperature_mem", 52),
            ("average_gfx_activity", 3),
            ("average_umc_activity", 1),
            ("average_mm_activity", 0),
            ("average_socket_power", 27),
            ("energy_accumulator", 987_654_321),
            ("system_clock_counter", 5_000_000_000_000),
            ("average_gfxclk_frequency", 45),
            ("average_socclk_frequency", 500),
            ("average_uclk_frequency", 96),
            ("current_fan_speed", 0),
            ("pcie_link_width", 16),
            ("pcie_link_speed", 160),
            ("throttle_status", 0),
            ("indep_throttle_status", 0),
        ])
        .finish()
}

/// Where each committed blob lives, relative to `fixtures/`, and what it must contain.
pub fn committed() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("sysfs/strix-halo-idle/class/drm/card1/device/gpu_metrics", strix_halo_idle()),
        (
            "sysfs/strix-halo-load/devices/pci0000:00/0000:00:08.1/0000:c5:00.0/gpu_metrics",
            strix_halo_load(),
        ),
        ("sysfs/strix-halo-uma64g/class/drm/card0/device/gpu_metrics", strix_halo_load()),
        ("sysfs/strix-halo-old-kernel/class/drm/card1/device/gpu_metrics", strix_halo_old_kernel()),
        ("sysfs/renoir-v2/class/drm/card0/device/gpu_metrics", renoir()),
        ("sysfs/navi31-suspended/class/drm/card0/device/gpu_metrics", navi31()),
    ]
}
