//! A bench point: one `llama-bench -p P -n N -d DEPTH ... -o json --progress` run, which gives a
//! prompt-processing test and a generation test at the same depth (llama-bench fills the depth
//! once and restores it for every repetition and for the second test).
//!
//! `--progress` makes llama-bench announce each phase on stderr (`benchmark 1/2: prompt run
//! 1/3`, `... generation run 1/3`, `depth run`, `warmup`); the lines are time-stamped as they
//! arrive, so the timed runs' windows are known and the power drawn during them can be told
//! apart from model loading and depth filling.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::bench_output::{self, BenchRecord};
use super::point::{Config, Failure, FailureKind, Rate};
use super::process::{self, Finished};
use super::telemetry::Window;

/// What one llama-bench run gave.
#[derive(Debug, Default)]
pub struct BenchOutcome {
    pub prefill: Option<Rate>,
    pub decode: Option<Rate>,
    pub records: Vec<BenchRecord>,
    /// Wall-clock windows (unix ms) of the timed prompt and generation runs.
    pub prefill_windows: Vec<Window>,
    pub decode_windows: Vec<Window>,
    pub started_unix_ms: i64,
    pub ended_unix_ms: i64,
    pub failure: Option<Failure>,
    pub cancelled: bool,
}

/// llama-bench's arguments for `config` (an axis not in the grid is left to its default).
pub fn arguments(model: &Path, config: &Config, repetitions: u64) -> Vec<String> {
    let mut args: Vec<String> = vec!["-m".into(), model.display().to_string()];
    let mut add = |flag: &str, value: Option<String>| {
        if let Some(v) = value {
            args.push(flag.into());
            args.push(v);
        }
    };
    add("-p", config.n_prompt.map(|v| v.to_string()));
    add("-n", config.n_gen.map(|v| v.to_string()));
    add("-d", Some(config.depth_tokens.to_string()));
    add("-ctk", config.type_k.clone());
    add("-ctv", config.type_v.clone());
    add("-ub", config.n_ubatch.map(|v| v.to_string()));
    add("-b", config.n_batch.map(|v| v.to_string()));
    add("-t", config.n_threads.map(|v| v.to_string()));
    add("-fa", config.flash_attn.clone());
    add("-ngl", config.n_gpu_layers.map(|v| v.to_string()));
    add("-r", Some(repetitions.to_string()));
    args.extend(["-o".into(), "json".into(), "--progress".into()]);
    args
}

pub fn run(
    llama_bench: &Path,
    model: &Path,
    config: &Config,
    repetitions: u64,
    timeout: Duration,
    cancel: &AtomicBool,
) -> BenchOutcome {
    let mut command = Command::new(llama_bench);
    command.args(arguments(model, config, repetitions));
    let done = match process::run(command, timeout, cancel) {
        Ok(done) => done,
        Err(e) => {
            return BenchOutcome {
                failure: Some(Failure {
                    kind: FailureKind::Error,
                    message: format!("cannot start {}: {e}", llama_bench.display()),
                    log_tail: Vec::new(),
                }),
                ..BenchOutcome::default()
            };
        }
    };
    outcome(&done, timeout)
}

/// Reads a finished run: its JSON on stdout (complete tests even from a run that died), its
/// phases from the progress lines, and how it failed.
pub fn outcome(done: &Finished, timeout: Duration) -> BenchOutcome {
    let mut o = BenchOutcome {
        started_unix_ms: done.started_unix_ms,
        ended_unix_ms: done.ended_unix_ms,
        cancelled: done.cancelled,
        ..BenchOutcome::default()
    };
    o.failure =
        process::classify("llama-bench", done.status, done.timed_out, timeout, &done.stderr);
    match bench_output::parse(&done.stdout) {
        Ok(parsed) => o.records = parsed.records,
        Err(e) if o.failure.is_none() => {
            o.failure = Some(Failure {
                kind: FailureKind::Error,
                message: format!(
                    "llama-bench exited cleanly but its JSON could not be read: {e:#}"
                ),
                log_tail: done.log_tail(),
            });
        }
        Err(_) => {}
    }
    let rate = |r: &BenchRecord| {
        // One repetition has no spread: llama-bench writes 0, which is not a measurement.
        let stddev = r.stddev_ts.filter(|_| r.samples_ts.len() != 1);
        Rate { mean_tok_s: r.avg_ts, stddev_tok_s: stddev, samples_tok_s: r.samples_ts.clone() }
    };
    o.prefill = o.records.iter().find(|r| r.is_prefill()).map(rate);
    o.decode = o.records.iter().find(|r| r.is_decode()).map(rate);
    (o.prefill_windows, o.decode_windows) = phase_windows(&done.stderr, done.ended_unix_ms);
    o
}

/// The windows of the timed `prompt run` and `generation run` phases: from each announcement to
/// the next progress line (or the end of the run).
pub fn phase_windows(stderr: &[(i64, String)], ended_unix_ms: i64) -> (Vec<Window>, Vec<Window>) {
    let progress: Vec<(i64, &str)> = stderr
        .iter()
        .filter_map(|(t, l)| l.strip_prefix("llama-bench: benchmark ").map(|rest| (*t, rest)))
        .collect();
    let (mut prefill, mut decode) = (Vec::new(), Vec::new());
    for (i, (start, line)) in progress.iter().enumerate() {
        let end = progress.get(i + 1).map_or(ended_unix_ms, |next| next.0);
        let phase = line.split_once(": ").map_or("", |(_, p)| p);
        if phase.starts_with("prompt run") {
            prefill.push((*start, end));
        } else if phase.starts_with("generation run") {
            decode.push((*start, end));
        }
    }
    (prefill, decode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_pass_only_the_axes_given() {
        let config = Config {
            type_k: Some("q8_0".into()),
            depth_tokens: 8192,
            n_prompt: Some(512),
            n_gen: Some(128),
            n_threads: Some(2),
            ..Config::default()
        };
        let args = arguments(Path::new("m.gguf"), &config, 3).join(" ");
        assert_eq!(args, "-m m.gguf -p 512 -n 128 -d 8192 -ctk q8_0 -t 2 -r 3 -o json --progress");
    }

    #[test]
    fn windows_follow_the_progress_lines() {
        let lines: Vec<(i64, String)> = [
            (100, "llama-bench: benchmark 1/2: starting"),
            (150, "llama-bench: benchmark 1/2: warmup prompt run"),
            (200, "llama-bench: benchmark 1/2: depth run 1/2"),
            (300, "llama-bench: benchmark 1/2: prompt run 1/2"),
            (400, "llama-bench: benchmark 1/2: depth run 2/2 (cached)"),
            (410, "llama-bench: benchmark 1/2: prompt run 2/2"),
            (500, "some log line"),
            (520, "llama-bench: benchmark 2/2: starting"),
            (600, "llama-bench: benchmark 2/2: generation run 1/2"),
            (700, "llama-bench: benchmark 2/2: generation run 2/2"),
        ]
        .into_iter()
        .map(|(t, l)| (t, l.to_string()))
        .collect();
        let (prefill, decode) = phase_windows(&lines, 800);
        assert_eq!(prefill, [(300, 400), (410, 520)]);
        assert_eq!(decode, [(600, 700), (700, 800)]);
    }
}
