//! Running llama.cpp's programs for a point: output captured, stderr lines time-stamped (the
//! phases of a run are told apart by them), a time limit, cancellation by Ctrl-C, and failures
//! classified as data.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::point::{Failure, FailureKind};
use crate::record::unix_ms_now;

/// Lines of a log kept in a failure.
const LOG_TAIL_LINES: usize = 12;

/// A finished (or killed) program.
#[derive(Debug)]
pub struct Finished {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    /// Every stderr line with the wall time it arrived.
    pub stderr: Vec<(i64, String)>,
    pub timed_out: bool,
    pub cancelled: bool,
    pub started_unix_ms: i64,
    pub ended_unix_ms: i64,
}

impl Finished {
    pub fn log_tail(&self) -> Vec<String> {
        let skip = self.stderr.len().saturating_sub(LOG_TAIL_LINES);
        self.stderr.iter().skip(skip).map(|(_, l)| l.clone()).collect()
    }
}

/// Runs `command` to its end, killing it after `timeout` or when `cancel` is set.
pub fn run(
    mut command: Command,
    timeout: Duration,
    cancel: &AtomicBool,
) -> std::io::Result<Finished> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // Its own process group: Ctrl-C reaches halo-top only, which then stops the program itself
    // and knows the point was interrupted rather than crashed.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let started = Instant::now();
    let started_unix_ms = unix_ms_now();
    let mut child = command.spawn()?;
    let stdout = child.stdout.take().map(|mut out| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = out.read_to_string(&mut text);
            text
        })
    });
    let stderr_lines = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().map(|err| collect_lines(err, stderr_lines.clone()));
    let (status, timed_out, cancelled) = wait(&mut child, started, timeout, cancel);
    let stdout = stdout.and_then(|t| t.join().ok()).unwrap_or_default();
    if let Some(t) = stderr {
        let _ = t.join();
    }
    let stderr = std::mem::take(&mut *stderr_lines.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(Finished {
        status,
        stdout,
        stderr,
        timed_out,
        cancelled,
        started_unix_ms,
        ended_unix_ms: unix_ms_now(),
    })
}

/// Reads `stream` line by line into `lines`, stamping each with the time it arrived.
pub fn collect_lines(
    stream: impl Read + Send + 'static,
    lines: Arc<Mutex<Vec<(i64, String)>>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let reader = BufReader::new(stream);
        for line in reader.split(b'\n') {
            let Ok(line) = line else { return };
            let text = String::from_utf8_lossy(&line).trim_end().to_string();
            lines.lock().unwrap_or_else(|p| p.into_inner()).push((unix_ms_now(), text));
        }
    })
}

/// Waits for `child`, killing it past `timeout` or on `cancel`: (status, timed out, cancelled).
pub fn wait(
    child: &mut Child,
    started: Instant,
    timeout: Duration,
    cancel: &AtomicBool,
) -> (Option<ExitStatus>, bool, bool) {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (Some(status), false, false),
            Ok(None) => {}
            Err(_) => return (None, false, false),
        }
        let timed_out = started.elapsed() > timeout;
        let cancelled = cancel.load(Ordering::Relaxed);
        if timed_out || cancelled {
            let _ = child.kill();
            return (child.wait().ok(), timed_out, cancelled);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Why a program that ended like this failed, or `None` when it succeeded. `what` names it
/// (`llama-bench`, `llama-server`).
pub fn classify(
    what: &str,
    status: Option<ExitStatus>,
    timed_out: bool,
    timeout: Duration,
    log: &[(i64, String)],
) -> Option<Failure> {
    use std::os::unix::process::ExitStatusExt;
    let tail = {
        let skip = log.len().saturating_sub(LOG_TAIL_LINES);
        log.iter().skip(skip).map(|(_, l)| l.clone()).collect::<Vec<_>>()
    };
    let failure = |kind, message: String| Some(Failure { kind, message, log_tail: tail.clone() });
    if timed_out {
        return failure(
            FailureKind::Timeout,
            format!("{what} ran past the {} s limit and was killed", timeout.as_secs()),
        );
    }
    let oom_line = log.iter().map(|(_, l)| l).find(|l| is_allocation_failure(l));
    let status = status?;
    if status.success() {
        return None;
    }
    if let Some(line) = oom_line {
        return failure(FailureKind::Oom, format!("{what}: {}", line.trim()));
    }
    match status.signal() {
        // SIGKILL that halo-top did not send: the kernel's OOM killer, as a rule.
        Some(9) => failure(
            FailureKind::Oom,
            format!("{what} was killed (SIGKILL; the kernel's OOM killer, see dmesg)"),
        ),
        Some(signal) => failure(
            FailureKind::Crash,
            format!("{what} crashed (signal {signal}{})", signal_name(signal)),
        ),
        None => {
            // The first complaint in the tail is the cause ("quantized V cache requires
            // flash_attn"); the lines after it are its consequences ("failed to create context").
            let cause = tail
                .iter()
                .map(|l| l.trim())
                .find(|l| CAUSE_WORDS.iter().any(|w| l.contains(w)))
                .unwrap_or("no error message");
            failure(
                FailureKind::Error,
                format!("{what} exited with status {}: {cause}", status.code().unwrap_or(-1)),
            )
        }
    }
}

/// Words of the lines that say why a program gave up.
const CAUSE_WORDS: &[&str] =
    &["requires", "error", "failed", "invalid", "unsupported", "not supported", "unknown"];

/// The messages llama.cpp and its backends print when an allocation fails.
fn is_allocation_failure(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    [
        "failed to allocate",
        "unable to allocate",
        "out of memory",
        "cudamalloc failed",
        "erroroutofdevicememory",
        "std::bad_alloc",
        "hipmalloc failed",
    ]
    .iter()
    .any(|m| l.contains(m))
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        6 => ", SIGABRT",
        11 => ", SIGSEGV",
        7 => ", SIGBUS",
        4 => ", SIGILL",
        8 => ", SIGFPE",
        15 => ", SIGTERM",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    fn run_sh(script: &str, timeout: Duration) -> (Finished, Option<Failure>) {
        let done = run(sh(script), timeout, &AtomicBool::new(false)).unwrap();
        let failure = classify("prog", done.status, done.timed_out, timeout, &done.stderr);
        (done, failure)
    }

    #[test]
    fn captures_output_and_stamps_stderr_lines() {
        let (done, failure) =
            run_sh("echo out; echo one >&2; echo two >&2", Duration::from_secs(10));
        assert_eq!(failure, None);
        assert_eq!(done.stdout, "out\n");
        let lines: Vec<&str> = done.stderr.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(lines, ["one", "two"]);
        assert!(done.stderr[0].0 >= done.started_unix_ms && done.stderr[1].0 <= done.ended_unix_ms);
    }

    #[test]
    fn failures_are_classified() {
        let (_, f) = run_sh("sleep 5", Duration::from_millis(200));
        assert_eq!(f.unwrap().kind, FailureKind::Timeout);
        let (_, f) = run_sh(
            "echo 'ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer of size 9' >&2; exit 1",
            Duration::from_secs(10),
        );
        let f = f.unwrap();
        assert_eq!(f.kind, FailureKind::Oom);
        assert!(f.message.contains("failed to allocate"), "{}", f.message);
        let (_, f) = run_sh("kill -SEGV $$", Duration::from_secs(10));
        let f = f.unwrap();
        assert_eq!(f.kind, FailureKind::Crash);
        assert!(f.message.contains("SIGSEGV"), "{}", f.message);
        let (_, f) = run_sh(
            "echo 'x: quantized V cache requires flash_attn' >&2; echo 'main: error: bad thing' >&2; exit 3",
            Duration::from_secs(10),
        );
        let f = f.unwrap();
        assert_eq!(f.kind, FailureKind::Error);
        assert!(
            f.message.contains("status 3") && f.message.contains("requires flash_attn"),
            "{}",
            f.message
        );
        assert_eq!(
            f.log_tail,
            ["x: quantized V cache requires flash_attn", "main: error: bad thing"]
        );
    }

    #[test]
    fn cancel_kills_the_program() {
        let cancel = AtomicBool::new(true);
        let done = run(sh("sleep 5"), Duration::from_secs(10), &cancel).unwrap();
        assert!(done.cancelled && !done.timed_out);
    }
}
