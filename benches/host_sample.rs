//! CPU time of one host sample on this machine's real /proc and /sys (the collector's share of
//! halo-top's per-sample cost). Prints figures; `cargo bench --bench host_sample`.
//! The whole-process figure (hub, derive, writer included) and RSS over 5 minutes come from
//! `benches/self-overhead.sh`.

use std::time::Instant;

use halo_collectors::host::{HostCollector, HostConfig, ProcessTable};
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
    let samples = 500;
    let mut host = HostCollector::new(HostConfig::default());
    host.read().expect("first host sample");
    // In a tight loop the collector skips the process scan (it runs every 2 s), so this is the
    // cost of everything else: /proc/stat, meminfo, hwmon, cpufreq, own usage.
    let (base_median, base_p90) = measure(samples, || {
        std::hint::black_box(host.read().expect("host sample"));
    });
    let mut table = ProcessTable::new(8);
    let procfs = std::path::Path::new("/proc");
    table.sample(procfs, Instant::now());
    let (scan_median, scan_p90) = measure(samples, || {
        std::hint::black_box(table.sample(procfs, Instant::now()));
    });
    let processes = std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
                .count()
        })
        .unwrap_or(0);
    println!("host collector on this machine ({processes} processes, {samples} samples each)");
    println!("  sample without process scan: median {base_median:.0} µs, p90 {base_p90:.0} µs");
    println!("  process scan:                median {scan_median:.0} µs, p90 {scan_p90:.0} µs");
    println!(
        "  average per sample at a 1 s interval (scan every 2 s): {:.0} µs",
        base_median + scan_median / 2.0
    );
    println!(
        "  target: under 2000 µs of CPU per sample for the whole process (benches/self-overhead.sh)"
    );
}
