//! The decoder's own worker threads. A product job (one or more matrices, each with its
//! input) is split by rows; the calling thread takes the first share and the workers the
//! others. Workers wait by spinning briefly, then yielding, then sleeping: a decode step posts
//! a job every few microseconds, but a monitor must not burn a core while nothing runs, and
//! pure spinning collapses when another process competes for the core (candle's barrier pool
//! does; see shared/specs/candle-decoder.md, pitfall 4).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::matrix::{Activation, Matrix};

/// Matrices with their inputs; the rows of all of them are split as one range.
pub struct Job {
    pub parts: Vec<(Arc<Matrix>, Arc<Activation>)>,
}

impl Job {
    fn total_rows(&self) -> usize {
        self.parts.iter().map(|(m, _)| m.rows).sum()
    }

    /// Computes global rows `range` into `out` (`out.len() == range.len()`).
    fn compute(&self, range: std::ops::Range<usize>, out: &mut [f32]) {
        let mut first = 0;
        for (m, x) in &self.parts {
            let rows = first..first + m.rows;
            let (lo, hi) = (range.start.max(rows.start), range.end.min(rows.end));
            if lo < hi {
                m.dot_rows(x, lo - first..hi - first, &mut out[lo - range.start..hi - range.start]);
            }
            first += m.rows;
        }
    }
}

struct Shared {
    generation: AtomicU64,
    done: AtomicUsize,
    stop: AtomicBool,
    job: Mutex<Option<Arc<Job>>>,
    /// One output buffer per worker, written by it, read by the caller after `done`.
    outputs: Vec<Mutex<Vec<f32>>>,
    n_threads: usize,
}

pub struct Pool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

/// Rows of share `i` of `n`.
fn share(total: usize, i: usize, n: usize) -> std::ops::Range<usize> {
    total * i / n..total * (i + 1) / n
}

impl Pool {
    /// `n_threads` computing threads in all: the caller plus `n_threads - 1` workers.
    pub fn new(n_threads: usize) -> std::io::Result<Self> {
        let n_threads = n_threads.max(1);
        let shared = Arc::new(Shared {
            generation: AtomicU64::new(0),
            done: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            job: Mutex::new(None),
            outputs: (1..n_threads).map(|_| Mutex::new(Vec::new())).collect(),
            n_threads,
        });
        let mut workers = Vec::new();
        for w in 1..n_threads {
            let shared = shared.clone();
            let handle = std::thread::Builder::new()
                .name(format!("halo-ref-{w}"))
                .spawn(move || worker(&shared, w))?;
            workers.push(handle);
        }
        Ok(Pool { shared, workers })
    }

    pub fn n_threads(&self) -> usize {
        self.shared.n_threads
    }

    /// Runs the job and returns one output vector per part.
    pub fn run(&self, job: Job) -> anyhow::Result<Vec<Vec<f32>>> {
        let total = job.total_rows();
        let mut all = vec![0f32; total];
        let n = self.shared.n_threads;
        if job.parts.iter().any(|(m, _)| !m.splits()) {
            // candle's fallback types run whole, on candle's pool.
            return job.parts.iter().map(|(m, x)| m.forward(x)).collect();
        }
        if n == 1 {
            job.compute(0..total, &mut all);
        } else {
            let job = Arc::new(job);
            *lock(&self.shared.job) = Some(job.clone());
            self.shared.done.store(0, Ordering::Relaxed);
            self.shared.generation.fetch_add(1, Ordering::Release);
            let mine = share(total, 0, n);
            job.compute(mine.clone(), &mut all[mine]);
            wait_until(|| self.shared.done.load(Ordering::Acquire) == n - 1, &self.shared.stop);
            for w in 1..n {
                let range = share(total, w, n);
                all[range].copy_from_slice(&lock(&self.shared.outputs[w - 1]));
            }
            return Ok(split(&job, all));
        }
        Ok(split(&job, all))
    }
}

fn split(job: &Job, all: Vec<f32>) -> Vec<Vec<f32>> {
    let mut rest = all.as_slice();
    job.parts
        .iter()
        .map(|(m, _)| {
            let (head, tail) = rest.split_at(m.rows);
            rest = tail;
            head.to_vec()
        })
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Spin, then yield, then sleep until `ready()` or `stop`.
fn wait_until(ready: impl Fn() -> bool, stop: &AtomicBool) {
    let start = Instant::now();
    let mut spins = 0u32;
    while !ready() && !stop.load(Ordering::Relaxed) {
        spins += 1;
        if spins < 20_000 {
            std::hint::spin_loop();
        } else if start.elapsed() < Duration::from_millis(20) {
            std::thread::yield_now();
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

fn worker(shared: &Shared, w: usize) {
    let mut seen = 0u64;
    loop {
        wait_until(|| shared.generation.load(Ordering::Acquire) != seen, &shared.stop);
        if shared.stop.load(Ordering::Relaxed) {
            return;
        }
        seen = shared.generation.load(Ordering::Acquire);
        let job = lock(&shared.job).clone();
        if let Some(job) = job {
            let range = share(job.total_rows(), w, shared.n_threads);
            let mut out = lock(&shared.outputs[w - 1]);
            out.clear();
            out.resize(range.len(), 0.0);
            job.compute(range, &mut out);
        }
        shared.done.fetch_add(1, Ordering::Release);
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}
