//! CPU time of one host sample on this machine's real /proc and /sys (the collector's share of
//! halo-top's per-sample cost). Prints figures; `cargo bench --bench host_sample`.
//! The whole-process figure (hub, derive, writer included) and RSS over 5 minutes come from
//! `benches/self-overhead.sh`.

use std::time::Instant;

use halo_collectors::host::{HostCollector, HostConfig};
use nix::time::{ClockId, clock_gettime};

fn thread_cpu_ns() -> u64 {
    let t = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).expect("thread CPU clock");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

fn main() {
    let mut host = HostCollector::new(HostConfig::default());
    host.read().expect("first host sample");
    let samples = 500;
    let mut cpu_us = Vec::with_capacity(samples);
    let wall = Instant::now();
    for _ in 0..samples {
        let before = thread_cpu_ns();
        let reading = host.read().expect("host sample");
        cpu_us.push((thread_cpu_ns() - before) as f64 / 1000.0);
        std::hint::black_box(reading);
    }
    let wall_us = wall.elapsed().as_secs_f64() * 1e6 / samples as f64;
    cpu_us.sort_by(f64::total_cmp);
    let pct = |p: f64| cpu_us[((cpu_us.len() - 1) as f64 * p) as usize];
    let processes = std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
                .count()
        })
        .unwrap_or(0);
    println!("host sample on this machine ({processes} processes, {samples} samples)");
    println!(
        "  CPU per sample: median {:.0} µs, p90 {:.0} µs, max {:.0} µs",
        pct(0.5),
        pct(0.9),
        pct(1.0)
    );
    println!("  wall per sample: mean {wall_us:.0} µs");
    println!("  target: under 2000 µs of CPU per sample for the whole process");
}
