//! CPU time of one AMD sample on the Strix Halo load fixture (`fixtures/sysfs/strix-halo-load`
//! and its procfs: one APU, four processes with GPU fds). Prints figures;
//! `cargo bench --bench amd_sample`. Target: under 300 µs of CPU for a full sample.
//!
//! "Full" is a fresh collector: discovery, the `pp_dpm_*` levels, the walk of every process's
//! fds, then the per-sample reads. A running collector redoes discovery every 10 s and the fd
//! walk every 5 s; in between a sample is the per-sample reads only ("steady").

use halo_collectors::amdgpu::testing::{fixture_procfs, fixture_sysfs};
use halo_collectors::amdgpu::{AmdgpuCollector, AmdgpuConfig};
use nix::time::{ClockId, clock_gettime};

fn thread_cpu_ns() -> u64 {
    let t = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).expect("thread CPU clock");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

/// Median and p90 CPU time of `f`, in µs.
fn measure(samples: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut cpu_us: Vec<f64> = (0..samples)
        .map(|_| {
            let before = thread_cpu_ns();
            f();
            (thread_cpu_ns() - before) as f64 / 1000.0
        })
        .collect();
    cpu_us.sort_by(f64::total_cmp);
    (cpu_us[samples / 2], cpu_us[samples * 9 / 10])
}

fn main() {
    let samples = 1000;
    let config = AmdgpuConfig {
        sysfs_root: fixture_sysfs("strix-halo-load"),
        procfs_root: fixture_procfs("strix-halo-load"),
    };
    let check = AmdgpuCollector::new(config.clone()).read().expect("a sample of the load fixture");
    assert_eq!(check.cards.len(), 1);
    assert_eq!(check.processes.clients.len(), 3);

    let (full_median, full_p90) = measure(samples, || {
        let mut amd = AmdgpuCollector::new(config.clone());
        std::hint::black_box(amd.read().expect("amdgpu sample"));
    });
    let mut amd = AmdgpuCollector::new(config.clone());
    amd.read().expect("first sample");
    let (steady_median, steady_p90) = measure(samples, || {
        std::hint::black_box(amd.read().expect("amdgpu sample"));
    });
    println!("amdgpu collector on the strix-halo-load fixture ({samples} samples each)");
    println!(
        "  full sample (discovery, pp_dpm, fd walk, reads): median {full_median:.0} µs, p90 {full_p90:.0} µs"
    );
    println!(
        "  steady sample (per-sample reads only):           median {steady_median:.0} µs, p90 {steady_p90:.0} µs"
    );
    println!("  target: a full sample under 300 µs of CPU");
}
