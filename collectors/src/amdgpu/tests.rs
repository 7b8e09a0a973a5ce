//! The collector on the fixture trees, and on broken copies of them.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::testing::{
    FixtureCopy, fixture_blobs, fixture_procfs, fixture_sysfs, write, write_bytes,
};
use super::{AmdgpuCollector, AmdgpuConfig};
use crate::model::{AmdgpuCard, AmdgpuSection, GpuKind};
use crate::source::SourceError;

const GIB: u64 = 1 << 30;
const IDLE_METRICS: &str = "class/drm/card1/device/gpu_metrics";

fn collector(sysfs: &Path, procfs: &Path) -> AmdgpuCollector {
    AmdgpuCollector::new(AmdgpuConfig { sysfs_root: sysfs.into(), procfs_root: procfs.into() })
}

fn sample(sysfs_scenario: &str, procfs_scenario: &str) -> AmdgpuSection {
    collector(&fixture_sysfs(sysfs_scenario), &fixture_procfs(procfs_scenario)).read().unwrap()
}

fn only_card(section: &AmdgpuSection) -> &AmdgpuCard {
    assert_eq!(section.cards.len(), 1);
    &section.cards[0]
}

#[test]
fn strix_halo_idle() {
    let s = sample("strix-halo-idle", "strix-halo-idle");
    let card = only_card(&s);
    assert!(card.problems.is_empty(), "{:?}", card.problems);
    assert_eq!(card.runtime_status.as_deref(), Some("active"));
    assert_eq!(card.identity.kind, Some(GpuKind::Apu));
    assert_eq!(card.gpu_busy_percent, Some(0.0), "0 % is a real reading");
    assert_eq!(card.mem_busy_percent, None, "absent on APUs");
    assert_eq!(card.performance_level.as_deref(), Some("auto"));
    assert_eq!(card.memory.vram_total_bytes, Some(512 << 20));
    assert_eq!(card.memory.gtt_allocatable_bytes, Some(120 * GIB));
    let sclk = card.clocks.sclk.as_ref().unwrap();
    assert_eq!((sclk.current_mhz, sclk.levels_mhz.as_slice()), (Some(600), [600, 2900].as_slice()));
    assert_eq!(card.clocks.mclk.as_ref().unwrap().current_mhz, None, "idle uclk is between levels");
    assert_eq!(card.hwmon.edge_temp_c, Some(45.0));
    assert_eq!(card.hwmon.power_w, Some(12.97), "12097000 µW is 12.97 W on SMU14");
    let m = card.metrics.as_ref().unwrap();
    assert_eq!((m.edge_temp_c, m.socket_power_mw), (Some(45.38), Some(12_976)));
    assert_eq!(s.processes.clients.len(), 1);
    assert_eq!(s.processes.clients[0].name, "gnome-shell");
}

#[test]
fn strix_halo_load_decodes_the_spec_values_and_finds_llama_server() {
    let s = sample("strix-halo-load", "strix-halo-load");
    let card = only_card(&s);
    assert!(card.problems.is_empty(), "{:?}", card.problems);
    assert_eq!(card.gpu_busy_percent, Some(97.0));
    let m = card.metrics.as_ref().unwrap();
    assert_eq!((m.edge_temp_c, m.gfx_activity_percent), (Some(70.38), Some(97.0)));
    assert_eq!((m.dram_read_mb_per_s, m.dram_write_mb_per_s), (Some(47_791), Some(1463)));
    assert_eq!(m.stapm_power_limit_mw, None);
    let fclk = card.clocks.fclk.as_ref().unwrap();
    assert_eq!((fclk.current_mhz, fclk.max_mhz), (Some(2000), Some(2000)));
    let llama = &s.processes.clients[0];
    assert_eq!((llama.name.as_str(), llama.gtt_bytes), ("llama-server", Some(29_971_892 * 1024)));
    let budget = card.unified_memory.as_ref().unwrap();
    let share = budget.largest_process.as_ref().unwrap();
    assert_eq!((share.pid, share.gpu_memory_bytes), (4242, (29_971_892 + 395_148) * 1024));
    assert_eq!(budget.host_available_bytes, Some(94_012_332 * 1024));
    assert_eq!(budget.pool_bytes, Some(131_155_886 * 1024 + (512 << 20)));
}

#[test]
fn uma_first_and_rocm() {
    let s = sample("strix-halo-uma64g", "strix-halo-uma64g");
    let card = only_card(&s);
    assert_eq!(card.card, "card0");
    assert_eq!(card.memory.vram_total_bytes, Some(64 * GIB));
    let budget = card.unified_memory.as_ref().unwrap();
    assert_eq!(budget.largest_process.as_ref().unwrap().name, "llama-server");
    // Free carve-out (23 GiB) + GTT headroom (31 GiB − 500 MiB, within MemAvailable).
    assert_eq!(
        budget.gpu_headroom_bytes,
        Some((64 * GIB - 44_023_414_784) + (33_285_996_544 - (500 << 20)))
    );
    let ollama = s.processes.clients.iter().find(|p| p.pid == 5151).unwrap();
    assert!(ollama.uses_kfd && !ollama.engine_time_visible);
}

#[test]
fn old_kernel_without_if7_fields_and_a_ttm_cap_below_gtt() {
    let s = sample("strix-halo-old-kernel", "quiet");
    let card = only_card(&s);
    assert!(card.problems.is_empty(), "{:?}", card.problems);
    assert_eq!(card.vcn_busy_percent, None);
    let mclk = card.clocks.mclk.as_ref().unwrap();
    assert_eq!(
        (mclk.levels_mhz.as_slice(), mclk.current_mhz),
        ([400, 800, 937].as_slice(), Some(937))
    );
    // gttsize=122880 says 120 GiB, TTM will hand out 16313192 pages: ≈ 62.2 GiB.
    assert_eq!(card.memory.gtt_total_bytes, Some(128_849_018_880));
    assert_eq!(card.memory.gtt_allocatable_bytes, Some(66_818_834_432));
    let m = card.metrics.as_ref().unwrap();
    assert_eq!((m.uclk_mhz, m.throttle_residency), (None, None));
}

#[test]
fn an_older_apu_with_v2_metrics() {
    let s = sample("renoir-v2", "quiet");
    let card = only_card(&s);
    assert!(card.problems.is_empty(), "{:?}", card.problems);
    assert_eq!(card.identity.codename.as_deref(), Some("Renoir"));
    assert_eq!(card.identity.kind, Some(GpuKind::Apu));
    assert_eq!(card.metrics.as_ref().unwrap().gfx_activity_percent, Some(45.5));
    assert_eq!(card.hwmon.power_w, Some(15.25), "no centiwatt quirk before SMU14");
    assert_eq!(card.hwmon.vddgfx_mv, Some(1125));
    assert!(card.unified_memory.is_some());
}

#[test]
fn a_suspended_dgpu_is_left_asleep() {
    let copy = FixtureCopy::new("navi31-suspended");
    // Were anything read, this garbage would show up as a problem.
    write(&copy.sysfs, "class/drm/card0/device/gpu_busy_percent", "garbage\n");
    write(&copy.sysfs, "class/drm/card0/device/pp_dpm_sclk", "garbage\n");
    let mut amd = collector(&copy.sysfs, &fixture_procfs("quiet"));
    let s = amd.read().unwrap();
    let card = only_card(&s);
    assert!(card.asleep);
    assert_eq!(card.runtime_status.as_deref(), Some("suspended"));
    assert_eq!(
        (card.metrics.as_ref(), card.gpu_busy_percent, card.hwmon.edge_temp_c),
        (None, None, None)
    );
    assert!(card.problems.is_empty(), "{:?}", card.problems);
    assert_eq!(card.identity.codename.as_deref(), Some("Navi 31"));
    assert_eq!(card.identity.kind, Some(GpuKind::Dgpu));

    // Once it is awake, everything is read, including its v1 metrics.
    write(&copy.sysfs, "class/drm/card0/device/power/runtime_status", "active\n");
    write(&copy.sysfs, "class/drm/card0/device/gpu_busy_percent", "0\n");
    let s = collector(&copy.sysfs, &fixture_procfs("quiet")).read().unwrap();
    let card = only_card(&s);
    assert!(!card.asleep);
    let m = card.metrics.as_ref().unwrap();
    assert_eq!(
        (m.format_revision, m.hotspot_temp_c, m.socket_power_mw),
        (1, Some(48.0), Some(27_000))
    );
    assert_eq!(card.hwmon.power_w, Some(27.0));
    assert_eq!(card.unified_memory, None, "a dGPU has its own memory");
}

#[test]
fn no_amdgpu_card_is_unavailable_with_the_reason() {
    for root in [fixture_sysfs("no-amdgpu"), fixture_sysfs("does-not-exist")] {
        let err = collector(&root, &fixture_procfs("quiet")).read().unwrap_err();
        let expected = format!("no amdgpu card under {}", root.join("class/drm").display());
        assert_eq!(err, SourceError::Unavailable(expected));
    }
}

#[test]
fn missing_files_are_none_without_complaint() {
    let copy = FixtureCopy::new("strix-halo-idle");
    let dev = copy.sysfs.join("class/drm/card1/device");
    for file in [
        "gpu_metrics",
        "gpu_busy_percent",
        "mem_info_gtt_used",
        "pp_dpm_sclk",
        "hwmon/hwmon5/power1_average",
    ] {
        std::fs::remove_file(dev.join(file)).unwrap();
    }
    let s = collector(&copy.sysfs, &copy.procfs).read().unwrap();
    let card = only_card(&s);
    assert!(card.problems.is_empty(), "{:?}", card.problems);
    assert_eq!(
        (card.metrics.as_ref(), card.gpu_busy_percent, card.memory.gtt_used_bytes),
        (None, None, None)
    );
    assert_eq!(card.clocks.sclk, None);
    assert_eq!(card.hwmon.power_file.as_deref(), Some("power1_input"), "falls back to the input");
    let budget = card.unified_memory.as_ref().unwrap();
    assert_eq!(budget.gpu_used_bytes, None, "unknown GTT use makes the total unknown, not smaller");
}

/// Breaks one file of a copy of the idle tree and returns the card's problems.
fn problems_with(rel: &str, content: &[u8]) -> (AmdgpuCard, Vec<String>) {
    let copy = FixtureCopy::new("strix-halo-idle");
    write_bytes(&copy.sysfs, rel, content);
    let s = collector(&copy.sysfs, &copy.procfs).read().unwrap();
    let card = only_card(&s).clone();
    let problems = card.problems.clone();
    (card, problems)
}

#[test]
fn every_bad_blob_is_a_problem_naming_the_file() {
    let idle = fixture_blobs::strix_halo_idle();
    let mut unknown = idle.clone();
    unknown[2] = 9;
    let mut oversized = idle.clone();
    oversized.extend_from_slice(&[0; 36]);
    let cases: [(&[u8], &str); 4] = [
        (b"", "gpu_metrics: empty"),
        (&idle[..100], "gpu_metrics: truncated: 100 of 264 bytes of v3_0"),
        (&unknown, "gpu_metrics: unknown gpu_metrics format v9_0 (264 bytes)"),
        (&oversized, "gpu_metrics: 300 bytes, 36 more than v3_0 has: the extra bytes were ignored"),
    ];
    for (blob, expected) in cases {
        let (card, problems) = problems_with(IDLE_METRICS, blob);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].ends_with(expected), "{problems:?}");
        // The rest of the card is still read.
        assert_eq!(card.gpu_busy_percent, Some(0.0));
        assert_eq!(card.metrics.is_some(), expected.contains("ignored"));
    }
}

#[test]
fn empty_and_garbage_text_files_are_problems() {
    let (card, problems) = problems_with("class/drm/card1/device/gpu_busy_percent", b"");
    assert_eq!(card.gpu_busy_percent, None);
    assert!(problems[0].ends_with("gpu_busy_percent: empty file"), "{problems:?}");

    let (card, problems) = problems_with(
        "class/drm/card1/device/pp_dpm_sclk",
        b"0: 600Mhz *\n1: turbo\n2: 2900Mhz \n",
    );
    assert_eq!(card.clocks.sclk, None);
    assert!(card.clocks.mclk.is_some(), "one bad file spoils only itself");
    assert!(
        problems[0].ends_with("pp_dpm_sclk: line 2 \"1: turbo\" is not a DPM level"),
        "{problems:?}"
    );

    let (_, problems) = problems_with("class/drm/card1/device/pp_dpm_fclk", b"\n");
    assert!(problems[0].ends_with("pp_dpm_fclk: empty file"), "{problems:?}");

    let (card, problems) = problems_with("class/drm/card1/device/mem_info_vram_used", b"0x\n");
    assert_eq!(card.memory.vram_used_bytes, None);
    assert!(problems[0].contains("mem_info_vram_used: not a number"), "{problems:?}");
}

/// Runs `f` on a thread that cannot read `paths`. chmod 000 alone does not stop root (the tests
/// run as root here), so the thread also drops the capabilities that bypass file modes; the
/// precondition is checked, so this cannot pass without a real permission error.
fn with_access_denied<T: Send>(paths: &[&Path], f: impl FnOnce() -> T + Send) -> T {
    let modes: Vec<_> = paths.iter().map(|p| std::fs::metadata(p).unwrap().permissions()).collect();
    for path in paths {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let result = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                if nix::unistd::geteuid().is_root() {
                    for cap in
                        [caps::Capability::CAP_DAC_OVERRIDE, caps::Capability::CAP_DAC_READ_SEARCH]
                    {
                        caps::drop(None, caps::CapSet::Effective, cap).expect("drop a capability");
                    }
                }
                for path in paths {
                    let denied = if path.is_dir() {
                        std::fs::read_dir(path).err()
                    } else {
                        std::fs::read(path).err()
                    };
                    assert_eq!(
                        denied.map(|e| e.kind()),
                        Some(std::io::ErrorKind::PermissionDenied),
                        "could not make {} unreadable",
                        path.display()
                    );
                }
                f()
            })
            .join()
            .unwrap()
    });
    for (path, mode) in paths.iter().zip(modes) {
        std::fs::set_permissions(path, mode).unwrap();
    }
    result
}

#[test]
fn eacces_on_gpu_metrics_is_a_problem_and_other_users_processes_are_hidden() {
    let copy = FixtureCopy::new("strix-halo-load");
    let blob = copy.sys_file("class/drm/card1/device/gpu_metrics");
    let systemd_fds = copy.procfs.join("1/fd");
    let s = with_access_denied(&[&blob, &systemd_fds], || {
        collector(&copy.sysfs, &copy.procfs).read().unwrap()
    });
    let card = only_card(&s);
    assert_eq!(card.metrics, None);
    assert_eq!(card.problems.len(), 1, "{:?}", card.problems);
    assert!(card.problems[0].contains("gpu_metrics: Permission denied"), "{:?}", card.problems);
    assert_eq!(card.gpu_busy_percent, Some(97.0));
    assert_eq!(s.processes.hidden_processes, 1, "pid 1's fds cannot be read");
    assert_eq!(s.processes.clients[0].name, "llama-server");
}
