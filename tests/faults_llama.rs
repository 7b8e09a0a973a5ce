//! A real llama-server killed (SIGKILL) and restarted on the same port, three times, while
//! `halo-top record` watches it and drives the llama:chat load: the source says it is down
//! within two intervals, comes back after the restart, and no rate goes negative or spikes.

mod support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use halo_collectors::{Snapshot, SourceStatus};
use halo_top::session::Session;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::halo_top;
use support::llama_bin::{Server, free_port};
use support::reliability::{self, Row};
use support::spacing::{spacing, status};

const INTERVAL_MS: i64 = 250;
const CYCLES: usize = 3;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("a clock after 1970").as_millis() as i64
}

fn is_ok(snapshot: &Snapshot, source: &str) -> bool {
    matches!(status(snapshot, source), Some(SourceStatus::Ok))
}

fn wait_for_lines(path: &Path, lines: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read(path).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) < lines {
        assert!(Instant::now() < deadline, "{} never reached {lines} lines", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn killed_and_restarted_llama_server_is_down_then_back_and_rates_stay_sane() {
    let models_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fault-models");
    let models = halo_top::synth::tiny::write(&models_dir).expect("writing the tiny models");
    let model = models.target_q8_0.to_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let args = ["-m", model.as_str(), "-c", "2048", "--parallel", "1", "--metrics"];
    let start = |n: usize| Server::spawn(port, &args, &dir.path().join(format!("{n}.log")));
    let url = format!("http://127.0.0.1:{port}");
    let source = format!("llama:{url}");

    let mut server = Some(start(0).wait_healthy());
    let path = dir.path().join("s.ndjson");
    let recorder: Child = halo_top()
        .args(["--interval", &format!("{INTERVAL_MS}ms"), "--llama", &url])
        .args(["--workload", "llama:chat", "record", "-o"])
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_lines(&path, 2);
    // (kill time, time the new server answered /health), wall clock ms.
    let mut outages = Vec::new();
    for cycle in 1..=CYCLES {
        std::thread::sleep(Duration::from_millis(2500)); // decoding under load
        let killed_at = now_ms();
        drop(server.take()); // SIGKILL, then reaped
        std::thread::sleep(Duration::from_millis(1500)); // down for six intervals
        server = Some(start(cycle).wait_healthy());
        outages.push((killed_at, now_ms()));
    }
    std::thread::sleep(Duration::from_millis(2500));
    kill(Pid::from_raw(recorder.id() as i32), Signal::SIGINT).unwrap();
    let out = recorder.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let session = Session::read(&path).unwrap();
    let snaps = &session.snapshots;
    let spacing = spacing(snaps);
    eprintln!("{spacing:?}");
    spacing.assert_kept(INTERVAL_MS as u64, 2.0, "record while llama-server restarts");

    let before_first_kill: Vec<f64> = snaps
        .iter()
        .filter(|s| s.ts_unix_ms < outages[0].0)
        .filter_map(|s| s.derived.llama.first()?.decode_tok_s)
        .filter(|&r| r > 0.0)
        .collect();
    assert!(before_first_kill.len() >= 3, "decoding before the first kill: {before_first_kill:?}");
    let mut sorted = before_first_kill.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];

    for (n, &(killed_at, healthy_at)) in outages.iter().enumerate() {
        let context = format!("outage {n}");
        let down = snaps
            .iter()
            .find(|s| s.ts_unix_ms > killed_at && !is_ok(s, &source))
            .unwrap_or_else(|| panic!("{context}: never reported down"));
        let noticed_ms = down.ts_unix_ms - killed_at;
        let back = snaps
            .iter()
            .find(|s| s.ts_unix_ms > healthy_at && is_ok(s, &source))
            .unwrap_or_else(|| panic!("{context}: never reported back"));
        let recovered_ms = back.ts_unix_ms - healthy_at;
        eprintln!("{context}: down after {noticed_ms} ms, back {recovered_ms} ms after /health ok");
        assert!(noticed_ms <= 2 * INTERVAL_MS, "{context}: down noticed after {noticed_ms} ms");
        assert!(recovered_ms <= 2 * INTERVAL_MS, "{context}: back after {recovered_ms} ms");
        // Between two intervals after the kill and the restart: down, every snapshot.
        for s in snaps
            .iter()
            .filter(|s| s.ts_unix_ms >= killed_at + 2 * INTERVAL_MS && s.ts_unix_ms < healthy_at)
        {
            assert!(!is_ok(s, &source), "{context}: ok at seq {} while down", s.seq);
            assert!(s.llama.is_empty(), "{context}: values shown for a dead server");
        }
    }

    // Rates: never negative; decode never more than 3x the steady median before the kills.
    let mut restarts_flagged = 0;
    for s in snaps {
        for r in &s.derived.llama {
            restarts_flagged += usize::from(r.restarted);
            for (name, value) in [
                ("decode", r.decode_tok_s),
                ("prefill", r.prefill_tok_s),
                ("decode steps", r.decode_steps_s),
                ("draft", r.spec_draft_tok_s),
            ] {
                if let Some(v) = value {
                    assert!(v >= 0.0 && v.is_finite(), "{name} {v} at seq {}", s.seq);
                }
            }
            if let Some(v) = r.decode_tok_s {
                assert!(v <= 3.0 * median, "decode spiked to {v} (median {median}) at {}", s.seq);
            }
        }
    }
    let after_last: Vec<f64> = snaps
        .iter()
        .filter(|s| s.ts_unix_ms > outages[CYCLES - 1].1 + 1000)
        .filter_map(|s| s.derived.llama.first()?.decode_tok_s)
        .collect();
    eprintln!(
        "decode median before {median:.1} tok/s; after the last restart {after_last:?}; \
         restarts flagged {restarts_flagged}"
    );
    assert!(after_last.iter().any(|&r| r > 0.0), "decoding resumed after the last restart");

    reliability::write(
        "faults_llama",
        &[Row {
            area: "llama-server",
            fault: "real server killed (SIGKILL) mid-session, restarted on its port",
            tries: CYCLES,
            result: "down within 2 intervals; back within 2 intervals of /health; \
                     decoding resumed; no negative rate, none over 3x the median",
        }],
    );
}
