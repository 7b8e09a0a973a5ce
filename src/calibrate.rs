//! `halo-top calibrate`: a STREAM-style measurement of the memory bandwidth this machine
//! actually delivers, for 1..N threads.
//!
//! Method (after McCalpin's STREAM): three f64 arrays far larger than the caches, split into
//! one contiguous slice per thread; each thread allocates and first-touches its own slices, so
//! the pages sit where that thread runs. A barrier brackets every kernel run and the wall time
//! between the barriers counts; the best of `reps` runs is kept. "read" sums one array with 16
//! independent accumulators (the access pattern of a decode step: streaming reads); "triad" is
//! `a = b + s·c`, counted as 24 bytes per element like STREAM (the write-allocate read of `a`
//! is real traffic but not counted).

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::config::{self, Calibration, CalibrationRun};
use crate::record::unix_ms_now;

/// Bandwidth at one thread count.
pub fn measure_threads(array_bytes: usize, threads: usize, reps: usize) -> CalibrationRun {
    let elements = array_bytes / 8 / threads;
    let barrier = Barrier::new(threads);
    // Each worker times its own kernel runs: a timing thread of its own would compete with the
    // workers for the cores and could be scheduled only after they finish.
    let per_thread: Vec<Vec<(Duration, Duration)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut a = vec![0.0f64; elements];
                    let b = vec![1.0f64; elements];
                    let c = vec![2.0f64; elements];
                    a.fill(0.5); // first touch of every page of `a` by this thread
                    (0..reps)
                        .map(|_| {
                            barrier.wait();
                            let start = Instant::now();
                            black_box(sum(black_box(&b)));
                            let read = start.elapsed();
                            barrier.wait();
                            let start = Instant::now();
                            triad(black_box(&mut a), &b, &c, 3.0);
                            (read, start.elapsed())
                        })
                        .collect()
                })
            })
            .collect();
        workers.into_iter().filter_map(|w| w.join().ok()).collect()
    });
    // A run lasts as long as its slowest thread; the best run counts.
    let best = |pick: fn(&(Duration, Duration)) -> Duration| {
        (0..reps)
            .map(|rep| {
                per_thread
                    .iter()
                    .filter_map(|t| t.get(rep).map(pick))
                    .max()
                    .unwrap_or(Duration::MAX)
            })
            .min()
            .unwrap_or(Duration::MAX)
    };
    let bytes = (elements * threads * 8) as f64;
    CalibrationRun {
        threads: threads as u64,
        read_gbps: bytes / best(|t| t.0).as_secs_f64() / 1e9,
        triad_gbps: 3.0 * bytes / best(|t| t.1).as_secs_f64() / 1e9,
    }
}

fn sum(xs: &[f64]) -> f64 {
    let mut acc = [0.0f64; 16];
    let chunks = xs.chunks_exact(16);
    let tail: f64 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (a, x) in acc.iter_mut().zip(chunk) {
            *a += x;
        }
    }
    acc.iter().sum::<f64>() + tail
}

fn triad(a: &mut [f64], b: &[f64], c: &[f64], s: f64) {
    for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
        *a = b + s * c;
    }
}

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_string())
}

pub fn run(
    config_path: Option<&std::path::Path>,
    array_mib: u64,
    max_threads: Option<u64>,
    reps: u64,
) -> Result<()> {
    let Some(path) = config::path(config_path) else {
        bail!("no config file location: set --config, XDG_CONFIG_HOME or HOME");
    };
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max_threads = max_threads.map_or(cpus, |n| n as usize);
    let array_bytes = usize::try_from(array_mib << 20)?;
    let load = load_average();
    println!(
        "halo-top calibrate: 3 arrays of {array_mib} MiB, best of {reps} runs, 1..{max_threads} threads ({cpus} logical CPUs, load average {})",
        load.map_or("n/a".into(), |l| format!("{l:.2}"))
    );
    println!("threads   read GB/s   triad GB/s");
    let mut runs = Vec::new();
    for threads in 1..=max_threads {
        let run = measure_threads(array_bytes, threads, reps as usize);
        println!("{:>7}   {:>9.1}   {:>10.1}", run.threads, run.read_gbps, run.triad_gbps);
        runs.push(run);
    }
    let best_read = runs.iter().max_by(|a, b| a.read_gbps.total_cmp(&b.read_gbps));
    let best_triad = runs.iter().map(|r| r.triad_gbps).fold(0.0, f64::max);
    let Some(best_read) = best_read.cloned() else { bail!("no thread count was measured") };
    let calibration = Calibration {
        measured_unix_ms: unix_ms_now(),
        host: std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string()),
        cpu: cpu_model(),
        array_mib,
        best_read_gbps: best_read.read_gbps,
        best_read_threads: best_read.threads,
        best_triad_gbps: best_triad,
        load_average: load,
        runs,
    };
    config::save_calibration(&path, &calibration)?;
    println!(
        "best read {:.1} GB/s with {} thread{}: saved to {} as the practical ceiling",
        best_read.read_gbps,
        best_read.threads,
        if best_read.threads == 1 { "" } else { "s" },
        path.display()
    );
    if load.is_some_and(|l| l > 0.5) {
        println!(
            "note: other programs were running (load average {:.2}); the figures are lower than on an idle machine",
            load.unwrap_or(0.0)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_compute_what_they_say() {
        let xs: Vec<f64> = (0..1000).map(f64::from).collect();
        assert_eq!(sum(&xs), 499_500.0);
        let mut a = vec![0.0; 3];
        triad(&mut a, &[1.0, 2.0, 3.0], &[1.0, 1.0, 2.0], 3.0);
        assert_eq!(a, [4.0, 5.0, 9.0]);
    }

    #[test]
    fn a_small_measurement_gives_plausible_figures() {
        let run = measure_threads(8 << 20, 2, 2);
        assert_eq!(run.threads, 2);
        for gbps in [run.read_gbps, run.triad_gbps] {
            assert!(gbps.is_finite() && gbps > 0.1 && gbps < 10_000.0, "{run:?}");
        }
    }
}
