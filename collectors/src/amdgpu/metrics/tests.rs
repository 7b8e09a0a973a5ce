use std::path::PathBuf;

use super::fixture_blobs::{self, strix_halo_idle, strix_halo_load};
use super::layout::{V1_0, V2_0, V3_0};
use super::pack::Packer;
use super::{DecodeError, decode};

/// The real Strix Halo idle dump (jimw567/amdtop `tests/fixtures/gpu_metrics_v3_0.bin`), as
/// the hexdump quoted in the project's amdgpu spec.
const IDLE_DUMP: &str = "
00000000  08 01 03 00 ba 11 ba 11 00 00 00 00 00 00 00 00
00000010  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00000020  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00000030  00 00 00 00 00 00 00 00 00 00 00 00 00 00 03 00
00000040  07 00 03 00 05 00 0c 00 13 00 02 00 04 00 00 00
00000050  01 00 01 00 02 00 03 00 00 00 01 00 00 00 62 03
00000060  1a 01 00 00 00 00 ff ff 54 3a 99 d5 b6 18 00 00
00000070  b0 32 00 00 00 00 ff ff b0 32 00 00 00 00 00 00
00000080  00 00 00 00 c9 0c 00 00 81 00 c3 00 8a 00 83 00
00000090  b0 00 8d 00 83 00 83 00 7a 00 7a 00 7a 00 7e 00
000000a0  97 00 7a 00 f3 00 7a 00 30 f8 ff ff ff ff 58 02
000000b0  58 02 20 03 00 00 7d 06 20 03 e8 03 00 00 f6 06
000000c0  ed 0d ed 0d f6 06 ed 0d ed 0d f6 06 f6 06 dd 06
000000d0  dd 06 dd 06 bb 0d bb 0d dd 06 bb 0d dd 06 f1 0d
000000e0  54 0b ff ff 00 00 00 00 00 00 00 00 c9 09 07 00
000000f0  58 0e 02 00 5f 00 00 00 00 00 00 00 00 00 00 00
00000100  40 42 0f 00 ff ff ff ff
";

/// The spec's load blob (observed fields from a real capture, the rest synthetic).
const LOAD_DUMP: &str = "
00000000  08 01 03 00 7e 1b 76 18 00 00 00 00 00 00 00 00
00000010  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00000020  00 00 00 00 00 00 00 00 00 00 61 00 00 00 00 00
00000030  00 00 00 00 00 00 00 00 00 00 00 00 00 00 07 00
00000040  15 00 02 00 01 00 02 00 03 00 20 00 05 00 03 00
00000050  03 00 02 00 02 00 00 00 01 00 01 00 05 00 af ba
00000060  b7 05 00 00 00 00 ff ff 00 58 1d 0a 8c 03 00 00
00000070  65 58 01 00 00 00 ff ff 65 58 01 00 3e 16 01 00
00000080  00 00 00 00 33 12 00 00 e0 01 62 02 fa 00 e6 00
00000090  04 01 0e 01 d0 02 2c 01 fa 00 f0 00 e6 00 dc 00
000000a0  5a 00 78 00 6e 00 17 01 30 f8 ff ff ff ff 54 0b
000000b0  c0 05 20 03 00 00 d0 07 20 03 a9 03 00 00 14 14
000000c0  06 13 30 0c ae 0b ee 0c 48 0d 9c 13 10 0e e4 0c
000000d0  4e 0c b8 0b 86 0b 08 07 98 08 34 08 ac 0d 1e 14
000000e0  54 0b ff ff 00 00 00 00 6b 3d 0e 00 bb 06 5b 00
000000f0  06 da 4f 00 cf 2b 02 00 6e 0d 01 00 00 00 00 00
00000100  40 42 0f 00 ff ff ff ff
";

/// Parses `hexdump -C`-style lines (offset, then hex bytes).
fn from_hexdump(dump: &str) -> Vec<u8> {
    dump.lines()
        .filter(|l| !l.trim().is_empty())
        .flat_map(|l| l.split_whitespace().skip(1).map(|b| u8::from_str_radix(b, 16).unwrap()))
        .collect()
}

#[test]
fn the_packer_reproduces_the_real_idle_dump_byte_for_byte() {
    let real = from_hexdump(IDLE_DUMP);
    assert_eq!(real.len(), 264);
    assert_eq!(strix_halo_idle(), real);
}

#[test]
fn the_packer_reproduces_the_spec_load_blob() {
    assert_eq!(strix_halo_load(), from_hexdump(LOAD_DUMP));
}

#[test]
fn fixture_blobs_are_what_the_packer_makes() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let write = std::env::var_os("HALO_TOP_WRITE_FIXTURES").is_some();
    for (path, blob) in fixture_blobs::committed() {
        let path = fixtures.join(path);
        if write {
            std::fs::write(&path, &blob).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{}: {e} (HALO_TOP_WRITE_FIXTURES=1 writes it)", path.display())
        });
        assert!(committed == blob, "{} differs from the packer's output", path.display());
    }
}

#[test]
fn decodes_the_idle_dump() {
    let m = decode(&strix_halo_idle()).unwrap();
    assert_eq!((m.format_revision, m.content_revision), (3, 0));
    assert_eq!(m.system_clock_counter_ns, Some(27_173_546_703_444));
    assert_eq!(m.edge_temp_c, Some(45.38));
    assert_eq!(m.soc_temp_c, Some(45.38));
    assert_eq!(m.core_temps_c, vec![None; 16], "0 °C cores are unpopulated, not 0");
    assert_eq!(m.skin_temp_c, None);
    assert_eq!(m.gfx_activity_percent, Some(0.0));
    assert_eq!(m.socket_power_mw, Some(12_976));
    assert_eq!(m.gfx_power_mw, Some(0), "0 W gfx (power-gated) is a real reading");
    assert_eq!(m.cpu_cores_power_mw, Some(3273));
    assert_eq!(m.system_power_mw, None, "63536 mW Psys at 13 W socket is garbage");
    assert_eq!(m.stapm_power_limit_mw, None);
    assert_eq!(m.dram_read_mb_per_s, Some(866));
    assert_eq!((m.gfxclk_mhz, m.fclk_mhz, m.uclk_mhz), (Some(600), Some(1661), Some(1000)));
    assert_eq!(m.core_clocks_mhz[1], Some(3565));
    let t = m.throttle_residency.unwrap();
    assert_eq!(
        (t.fppt, t.sppt, t.thm_core, t.spl),
        (Some(461_257), Some(134_744), Some(95), Some(0))
    );
    assert_eq!(m.time_filter_us, Some(1_000_000));
}

#[test]
fn decodes_the_load_blob_as_the_spec_expects() {
    let m = decode(&strix_halo_load()).unwrap();
    assert_eq!(m.edge_temp_c, Some(70.38));
    assert_eq!(m.soc_temp_c, Some(62.62));
    assert_eq!(m.gfx_activity_percent, Some(97.0));
    assert_eq!(m.socket_power_mw, Some(88_165));
    assert_eq!(m.gfx_power_mw, Some(71_230));
    assert_eq!(m.cpu_cores_power_mw, Some(4659));
    assert_eq!((m.dram_read_mb_per_s, m.dram_write_mb_per_s), (Some(47_791), Some(1463)));
    assert!(!m.dram_bandwidth_saturated);
    assert_eq!(
        (m.gfxclk_mhz, m.socclk_mhz, m.fclk_mhz, m.uclk_mhz),
        (Some(2900), Some(1472), Some(2000), Some(937))
    );
    assert_eq!((m.stapm_power_limit_mw, m.current_stapm_power_limit_mw), (None, None));
    assert_eq!((m.npu_activity_percent[0], m.npuclk_mhz), (Some(0.0), Some(0)));
    assert_eq!(m.core_clocks_mhz.iter().flatten().max(), Some(&5140));
}

#[test]
fn saturated_dram_bandwidth_is_flagged_and_the_sentinel_is_not_a_value() {
    let near = Packer::new(&V3_0).set("average_dram_reads", 65_534).finish();
    let m = decode(&near).unwrap();
    assert_eq!(m.dram_read_mb_per_s, Some(65_534));
    assert!(m.dram_bandwidth_saturated);
    let sentinel = Packer::new(&V3_0).finish();
    let m = decode(&sentinel).unwrap();
    assert_eq!(m.dram_read_mb_per_s, None, "0xFFFF is 'not supported', never 65.5 GB/s");
    assert!(!m.dram_bandwidth_saturated);
    assert_eq!(m.throttle_residency, None);
    assert_eq!(m.system_clock_counter_ns, None);
}

#[test]
fn old_kernel_fields_are_none() {
    let m = decode(&fixture_blobs::strix_halo_old_kernel()).unwrap();
    assert_eq!(m.uclk_mhz, None);
    assert_eq!(m.throttle_residency, None);
    assert_eq!(m.npu_read_mb_per_s, None);
    assert_eq!(m.edge_temp_c, Some(70.38));
}

#[test]
fn decodes_v2_in_centi_percent() {
    let m = decode(&fixture_blobs::renoir()).unwrap();
    assert_eq!((m.format_revision, m.content_revision), (2, 2));
    assert_eq!(m.gfx_activity_percent, Some(45.5));
    assert_eq!(m.edge_temp_c, Some(51.25));
    assert_eq!(m.core_temps_c.len(), 8);
    assert_eq!(m.core_temps_c[2], Some(54.0));
    assert_eq!(m.socket_power_mw, Some(15_250));
    assert_eq!(m.cpu_cores_power_mw, Some(6125));
    assert_eq!(m.fan_rpm, None);
    assert_eq!(m.indep_throttle_status, Some(0));

    // v2_0 has the timestamp at offset 8, after 4 bytes of padding.
    let v2_0 = Packer::new(&V2_0)
        .set("system_clock_counter", 42)
        .set("average_gfx_activity", 10_000)
        .finish();
    let m = decode(&v2_0).unwrap();
    assert_eq!(&v2_0[4..8], &[0xFF; 4]);
    assert_eq!((m.system_clock_counter_ns, m.gfx_activity_percent), (Some(42), Some(100.0)));
}

#[test]
fn decodes_v1_in_whole_degrees_and_watts() {
    let m = decode(&fixture_blobs::navi31()).unwrap();
    assert_eq!((m.format_revision, m.content_revision), (1, 3));
    assert_eq!(
        (m.edge_temp_c, m.hotspot_temp_c, m.memory_temp_c),
        (Some(41.0), Some(48.0), Some(52.0))
    );
    assert_eq!(m.socket_power_mw, Some(27_000));
    assert_eq!(m.gfx_activity_percent, Some(3.0));
    assert_eq!((m.pcie_link_width, m.pcie_link_speed_gt_s), (Some(16), Some(16.0)));
    assert_eq!(m.fan_rpm, Some(0));
    assert_eq!(m.system_clock_counter_ns, Some(5_000_000_000_000));

    let v1_0 = Packer::new(&V1_0).set("pcie_link_speed", 80).set("temperature_edge", 60).finish();
    let m = decode(&v1_0).unwrap();
    assert_eq!((m.pcie_link_speed_gt_s, m.edge_temp_c), (Some(8.0), Some(60.0)));
}

#[test]
fn bad_blobs_are_clear_errors() {
    assert_eq!(decode(&[]), Err(DecodeError::Empty));
    assert_eq!(decode(&[8, 1]), Err(DecodeError::NoHeader(2)));

    let idle = strix_halo_idle();
    let err = decode(&idle[..100]).unwrap_err();
    assert_eq!(err.to_string(), "truncated: 100 of 264 bytes of v3_0");

    let mut unknown = idle.clone();
    unknown[3] = 7;
    assert_eq!(
        decode(&unknown).unwrap_err().to_string(),
        "unknown gpu_metrics format v3_7 (264 bytes)"
    );

    let mut wrong_size = idle.clone();
    wrong_size[0] = 0x00;
    assert_eq!(
        decode(&wrong_size).unwrap_err().to_string(),
        "header says 256 bytes but v3_0 is 264 bytes"
    );

    // Extra bytes after the declared structure are ignored.
    let mut oversized = idle.clone();
    oversized.extend_from_slice(&[0xAB; 40]);
    assert_eq!(decode(&oversized), decode(&idle));
}
