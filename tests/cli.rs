//! The command line end to end, on this machine's real /proc and /sys.

mod support;

use halo_top::session::Session;
use support::{halo_top, run_ok};

#[test]
fn snapshot_json_has_real_host_readings_and_statuses() {
    let out = run_ok(halo_top().args(["--interval", "300ms", "snapshot", "--json"]));
    let snapshot: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let host = &snapshot["host"];
    assert!(host["memory"]["total_bytes"].as_u64().unwrap() > 0);
    // Taken after two samples, so the CPU rate is defined.
    let cpu = host["cpu"]["total_percent"].as_f64().expect("cpu % after two samples");
    assert!((0.0..=100.0).contains(&cpu));
    assert!(host["cpu"]["logical_cpus"].as_u64().unwrap() >= 1);
    assert!(!host["top_processes"].as_array().unwrap().is_empty());
    assert!(snapshot["derived"]["own_cpu_ms_per_sample"].as_f64().is_some());
    let sources = snapshot["sources"].as_array().unwrap();
    for source in sources {
        let state = source["status"]["state"].as_str().unwrap();
        assert_ne!(state, "pending", "{source}");
        if state == "unavailable" {
            assert!(!source["status"]["reason"].as_str().unwrap().is_empty(), "{source}");
        }
    }
    assert!(sources.iter().any(|s| s["name"] == "host" && s["status"]["state"] == "ok"));
}

#[test]
fn snapshot_of_a_fixture_tree_reads_only_that_tree() {
    let dir = tempfile::tempdir().unwrap();
    let proc = dir.path().join("proc");
    std::fs::create_dir_all(proc.join("sys/kernel")).unwrap();
    std::fs::write(proc.join("stat"), "cpu  10 0 10 80 0 0 0 0\ncpu0 10 0 10 80 0 0 0 0\n")
        .unwrap();
    std::fs::write(proc.join("meminfo"), "MemTotal: 2048 kB\nMemAvailable: 1024 kB\n").unwrap();
    std::fs::write(proc.join("sys/kernel/hostname"), "fixture-box\n").unwrap();
    let out = run_ok(
        halo_top()
            .args(["--interval", "200ms", "snapshot", "--json"])
            .arg("--procfs-root")
            .arg(&proc)
            .arg("--sysfs-root")
            .arg(dir.path().join("sys")),
    );
    let snapshot: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let host = &snapshot["host"];
    assert_eq!(host["host_name"], "fixture-box");
    assert_eq!(host["memory"]["used_bytes"], 1024 * 1024);
    assert_eq!(
        host["memory"]["swap_total_bytes"],
        serde_json::Value::Null,
        "missing is null, not 0"
    );
    assert_eq!(
        host["cpu"]["total_percent"],
        serde_json::Value::Null,
        "static counters: no time passed"
    );
    assert_eq!(host["temperatures"], serde_json::json!([]));
}

#[test]
fn snapshot_with_a_missing_procfs_says_why() {
    let out = run_ok(halo_top().args([
        "--interval",
        "200ms",
        "snapshot",
        "--json",
        "--procfs-root",
        "/nonexistent/proc",
    ]));
    let snapshot: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(snapshot["host"], serde_json::Value::Null);
    let status = &snapshot["sources"][0]["status"];
    assert_eq!(status["state"], "failed");
    assert!(status["error"].as_str().unwrap().contains("/nonexistent/proc/stat"), "{status}");
}

#[test]
fn record_writes_a_session_that_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.ndjson");
    let out = run_ok(
        halo_top().args(["--interval", "250ms", "record", "--duration", "2s", "-o"]).arg(&path),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stopped by duration"), "{stderr}");
    let session = Session::read(&path).unwrap();
    assert_eq!(session.header.interval_ms, 250);
    assert_eq!(session.header.sources[0], "host");
    let n = session.snapshots.len();
    assert!((6..=9).contains(&n), "2 s at 250 ms gives ~8 snapshots, got {n}");
    assert_eq!(session.footer.as_ref().unwrap().snapshots, n as u64);
    for pair in session.snapshots.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1, "no gaps");
        assert!(pair[1].mono_ms > pair[0].mono_ms);
    }
    assert!(session.snapshots.last().unwrap().host.as_ref().unwrap().cpu.total_percent.is_some());
}

#[test]
fn record_stops_cleanly_on_sigterm_with_a_footer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.ndjson");
    let child =
        halo_top().args(["--interval", "200ms", "record", "-o"]).arg(&path).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1200));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let session = Session::read(&path).unwrap();
    assert_eq!(session.footer.unwrap().stop_reason.as_deref(), Some("signal SIGTERM"));
    assert!(!session.snapshots.is_empty());
}

#[test]
fn bad_arguments_and_files_give_clear_errors() {
    let out = halo_top().args(["replay", "/nonexistent/s.ndjson"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/s.ndjson"), "{stderr}");

    let out = halo_top().args(["--interval", "soon"]).output().unwrap();
    assert!(!out.status.success());

    let out = halo_top().env("HALO_TOP_INTERVAL", "1ms").arg("snapshot").output().unwrap();
    assert!(!out.status.success(), "flags are read from HALO_TOP_* too");
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 50ms"));
}

#[test]
fn help_reads_as_a_manual() {
    let out = run_ok(halo_top().arg("--help"));
    let help = String::from_utf8_lossy(&out.stdout);
    for word in [
        "snapshot",
        "record",
        "replay",
        "--interval",
        "--sysfs-root",
        "--procfs-root",
        "HALO_TOP_INTERVAL",
        "n/a",
    ] {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
}
