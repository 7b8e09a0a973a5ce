//! A STREAM-style read probe: the memory read bandwidth this machine gives to `threads`
//! threads, the ceiling the decoder's effective bandwidth is compared with.
//!
//! Each thread allocates and first-touches its own slice (so it lives on the thread's NUMA
//! node), then sums it with 16 independent accumulators (the compiler vectorizes the loop into
//! four AVX f64 adds: one read stream, no stores). A barrier brackets every repetition; each
//! thread keeps its best repetition, and the slowest of those sets the figure.

use std::sync::Barrier;
use std::time::Instant;

/// Read bandwidth in GB/s (1e9 bytes/s) over `total_bytes` split across `threads`.
pub fn read_gb_s(threads: usize, total_bytes: usize, reps: usize) -> f64 {
    let threads = threads.max(1);
    let per_thread = (total_bytes / threads / 8).max(16) / 16 * 16;
    let barrier = Barrier::new(threads);
    let best: Vec<f64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let data = vec![1.0 + t as f64; per_thread];
                    let mut best = f64::INFINITY;
                    let mut check = 0.0;
                    for _ in 0..reps.max(1) {
                        barrier.wait();
                        let start = Instant::now();
                        check += sum(&data);
                        best = best.min(start.elapsed().as_secs_f64());
                        barrier.wait();
                    }
                    std::hint::black_box(check);
                    best
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(f64::INFINITY)).collect()
    });
    let slowest = best.iter().fold(0f64, |m, &s| m.max(s));
    (threads * per_thread * 8) as f64 / slowest / 1e9
}

fn sum(data: &[f64]) -> f64 {
    let mut acc = [0f64; 16];
    for chunk in data.chunks_exact(16) {
        for i in 0..16 {
            acc[i] += chunk[i];
        }
    }
    acc.iter().sum()
}
