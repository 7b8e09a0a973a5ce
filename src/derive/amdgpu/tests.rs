//! The derive step on two real polls of the collector over a fixture copy that changes in
//! between, the way the counters of a running machine do.

use halo_collectors::Snapshot;
use halo_collectors::amdgpu::testing::{
    FixtureCopy, fixture_blobs, fixture_procfs, fixture_sysfs, write_bytes,
};
use halo_collectors::amdgpu::{AmdgpuCollector, AmdgpuConfig};
use halo_collectors::model::{CpuTempSource, HostSection};

use super::derive;

const LOAD_METRICS: &str = "devices/pci0000:00/0000:00:08.1/0000:c5:00.0/gpu_metrics";

fn poll(amd: &mut AmdgpuCollector, seq: u64, mono_ms: u64) -> Snapshot {
    let mut s = Snapshot::new(seq, 0, mono_ms, 1000);
    s.amdgpu = Some(amd.read().unwrap());
    s
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn throttle_percentages_from_two_polls() {
    let copy = FixtureCopy::new("strix-halo-load");
    let mut amd = AmdgpuCollector::new(AmdgpuConfig {
        sysfs_root: copy.sysfs.clone(),
        procfs_root: copy.procfs.clone(),
    });
    let mut first = poll(&mut amd, 0, 0);
    derive(None, &mut first);
    let card = &first.derived.amdgpu.cards[0];
    assert!(card.throttle_percent.is_empty(), "one table gives no rate");
    assert_eq!(card.energy_interval_j, None);

    // One second later (system_clock_counter +1e9 ns) with more residency on some limiters.
    let next = fixture_blobs::strix_halo_load_next(&[
        ("system_clock_counter", 3_901_000_000_000),
        ("throttle_residency_sppt", 5_233_258), // +100 ticks
        ("throttle_residency_spl", 933_227 + 1000), // +1000: engaged all second
        ("throttle_residency_thm_gfx", 68_974 + 250),
        ("throttle_residency_thm_core", 142_287 + 50),
    ]);
    write_bytes(&copy.sysfs, LOAD_METRICS, &next);
    let mut second = poll(&mut amd, 1, 1000);
    derive(Some(&first), &mut second);
    let card = &second.derived.amdgpu.cards[0];
    assert!(!card.metrics_stale);
    assert!(close(card.metrics_interval_s, 1.0));
    let pct = |limiter: &str| card.throttle_percent.get(limiter).copied();
    assert!(close(pct("sppt"), 10.0), "{:?}", card.throttle_percent);
    assert!(close(pct("spl"), 100.0));
    assert!(close(pct("thm_gfx"), 25.0));
    assert!(close(pct("thm_core"), 5.0));
    assert!(close(pct("fppt"), 0.0), "0 % is a reading: the counter was there and did not move");
    assert!(close(pct("thm_soc"), 0.0) && close(pct("prochot"), 0.0));
    assert!(close(card.energy_interval_j, 88.165), "88.165 W for 1 s");
    assert!(close(card.energy_session_j, 88.165));

    // The same table again: stale, so no residency figure, but energy keeps adding up.
    let mut third = poll(&mut amd, 2, 2000);
    derive(Some(&second), &mut third);
    let card = &third.derived.amdgpu.cards[0];
    assert!(card.metrics_stale);
    assert!(card.throttle_percent.is_empty());
    assert!(close(card.energy_session_j, 2.0 * 88.165));

    // A counter that went backwards (driver reloaded) gives no figure for that limiter.
    let reset = fixture_blobs::strix_halo_load_next(&[
        ("system_clock_counter", 3_902_000_000_000),
        ("throttle_residency_sppt", 12),
        ("throttle_residency_spl", 933_227 + 1000), // unchanged since the second poll
    ]);
    write_bytes(&copy.sysfs, LOAD_METRICS, &reset);
    let mut fourth = poll(&mut amd, 3, 3000);
    derive(Some(&third), &mut fourth);
    let card = &fourth.derived.amdgpu.cards[0];
    assert_eq!(card.throttle_percent.get("sppt"), None);
    assert!(close(card.throttle_percent.get("spl").copied(), 0.0));
}

#[test]
fn engine_busy_from_fdinfo_deltas() {
    let copy = FixtureCopy::new("strix-halo-load");
    let mut amd = AmdgpuCollector::new(AmdgpuConfig {
        sysfs_root: copy.sysfs.clone(),
        procfs_root: copy.procfs.clone(),
    });
    let first = poll(&mut amd, 0, 0);
    // t1 = t0 + 1 s: llama-server's compute counter +962 ms, gfx unchanged.
    for fd in ["7", "8"] {
        let path = copy.procfs.join("4242/fdinfo").join(fd);
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text
            .replace("drm-engine-compute:\t25285118630 ns", "drm-engine-compute:\t26247118630 ns");
        std::fs::write(&path, text).unwrap();
    }
    let mut second = poll(&mut amd, 1, 1000);
    // The collector stamps its own CLOCK_MONOTONIC; a test cannot wait a second per poll, so
    // it sets the 1.000 s the fixture's counters describe.
    let t0 = first.amdgpu.as_ref().unwrap().processes.read_mono_ns.unwrap();
    second.amdgpu.as_mut().unwrap().processes.read_mono_ns = Some(t0 + 1_000_000_000);
    derive(Some(&first), &mut second);
    let busy = &second.derived.amdgpu.processes;
    let llama = busy.iter().find(|p| p.pid == 4242).unwrap();
    assert!(close(llama.engine_percent.get("compute").copied(), 96.2), "{llama:?}");
    assert!(close(llama.engine_percent.get("gfx").copied(), 0.0));
    assert_eq!(llama.card.as_deref(), Some("card1"));
    let shell = busy.iter().find(|p| p.pid == 1830).unwrap();
    assert!(close(shell.engine_percent.get("gfx").copied(), 0.0));
}

#[test]
fn rocm_processes_get_no_engine_figure() {
    let mut amd = AmdgpuCollector::new(AmdgpuConfig {
        sysfs_root: fixture_sysfs("strix-halo-uma64g"),
        procfs_root: fixture_procfs("strix-halo-uma64g"),
    });
    let first = poll(&mut amd, 0, 0);
    let mut second = poll(&mut amd, 1, 1000);
    let t0 = first.amdgpu.as_ref().unwrap().processes.read_mono_ns.unwrap();
    second.amdgpu.as_mut().unwrap().processes.read_mono_ns = Some(t0 + 1_000_000_000);
    derive(Some(&first), &mut second);
    let pids: Vec<u32> = second.derived.amdgpu.processes.iter().map(|p| p.pid).collect();
    assert_eq!(pids, [4242], "ollama (KFD) has no visible engine time: unknown, not 0");
}

#[test]
fn cpu_temperature_is_tctl_else_the_apu_soc_sensor() {
    let mut amd = AmdgpuCollector::new(AmdgpuConfig {
        sysfs_root: fixture_sysfs("strix-halo-old-kernel"),
        procfs_root: fixture_procfs("quiet"),
    });
    let mut s = poll(&mut amd, 0, 0);
    s.host = Some(HostSection::default());
    derive(None, &mut s);
    assert_eq!(s.derived.amdgpu.cpu_temp_c, Some(62.62));
    assert_eq!(s.derived.amdgpu.cpu_temp_source, Some(CpuTempSource::GpuMetricsSoc));

    s.host = Some(HostSection { tctl_c: Some(78.125), ..HostSection::default() });
    derive(None, &mut s);
    assert_eq!(s.derived.amdgpu.cpu_temp_c, Some(78.125));
    assert_eq!(s.derived.amdgpu.cpu_temp_source, Some(CpuTempSource::Tctl));

    let mut nothing = Snapshot::new(0, 0, 0, 1000);
    derive(None, &mut nothing);
    assert_eq!(
        (nothing.derived.amdgpu.cpu_temp_c, nothing.derived.amdgpu.cpu_temp_source),
        (None, None)
    );
}
