//! A soak whose disk fills up: on a 64 KiB tmpfs (in a mount namespace of its own, so nothing
//! stays mounted) and under a file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored as a service
//! manager may set it). halo-top stops with an error naming the file and the cause, and the
//! file up to that point indexes, replays and reports.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use halo_top::replay;
use halo_top::session::{Session, SessionIndex};
use support::reliability::{self, Row};
use support::{halo_top, shell_quote};

/// Runs `script` in bash, with `$BIN` the halo-top binary, and returns (exit status, stderr).
fn bash(script: &str) -> (Option<i32>, String) {
    let out = Command::new("bash")
        .args(["-c", script])
        .env("BIN", env!("CARGO_BIN_EXE_halo-top"))
        .output()
        .expect("run bash");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The soak's command line: 100 ms, long enough that the disk fills first.
const SOAK: &str = r#""$BIN" --interval 100ms soak --duration 2m --warmup 1s --progress 1s -o"#;

/// What must hold of the file a full disk cut short.
fn check_cut_file(path: &Path, context: &str) -> usize {
    let index = SessionIndex::open(path).unwrap_or_else(|e| panic!("{context}: {e:#}"));
    assert!(index.footer.is_none(), "{context}: no room was left for a footer");
    assert!(index.len() >= 3, "{context}: only {} snapshots", index.len());
    let session = Session::read(path).unwrap_or_else(|e| panic!("{context}: {e:#}"));
    let seqs: Vec<u64> = session.snapshots.iter().map(|s| s.seq).collect();
    assert_eq!(seqs, (0..seqs.len() as u64).collect::<Vec<_>>(), "{context}: every snapshot");
    assert!(session.warnings.len() <= 1, "{context}: {:?}", session.warnings);

    let report = path.with_extension("report");
    let out = halo_top()
        .arg("report")
        .arg(path)
        .arg("--out")
        .arg(&report)
        .output()
        .expect("run halo-top report");
    assert!(out.status.success(), "{context}: {}", String::from_utf8_lossy(&out.stderr));
    let md = std::fs::read_to_string(report.join("report.md")).expect("read report.md");
    assert!(md.contains("no footer"), "{context}:\n{md}");

    let r = replay::start(path, 1024.0, Duration::ZERO).expect("start the replay");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let halo_collectors::model::FeedMode::Replay(state) = r.feed.mode.borrow().clone() else {
            panic!("not a replay")
        };
        if state.ended {
            let last = r.feed.latest.borrow().clone().expect("a snapshot played");
            assert_eq!(last.seq as usize + 1, index.len(), "{context}: played to the end");
            break;
        }
        assert!(Instant::now() < deadline, "{context}: the replay never ended");
        std::thread::sleep(Duration::from_millis(10));
    }
    index.len()
}

#[test]
fn soak_on_a_full_tmpfs_fails_clearly_and_keeps_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let kept = dir.path().join("kept.ndjson");
    // The file is copied out before the namespace, and its mount, go away.
    let (code, stderr) = bash(&format!(
        "unshare --mount --propagation private bash -c 'mount -t tmpfs -o size=64k tmpfs {mnt} \
         || exit 90; {SOAK} {mnt}/s.ndjson; echo \"exit=$?\" >&2; cp {mnt}/s.ndjson {kept}'",
        mnt = shell_quote(&mnt),
        kept = shell_quote(&kept)
    ));
    assert_ne!(code, Some(90), "cannot mount a tmpfs here (needs root): {stderr}");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("exit=1"), "halo-top exits 1 on a full disk:\n{stderr}");
    assert!(stderr.contains("cannot write to") && stderr.contains("s.ndjson"), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let n = check_cut_file(&kept, "tmpfs");
    eprintln!("tmpfs: {n} snapshots kept; stderr:\n{stderr}");
    reliability::write(
        "faults_disk_tmpfs",
        &[Row {
            area: "disk",
            fault: "soak on a 64 KiB tmpfs that fills up (ENOSPC)",
            tries: 1,
            result: "exit 1 naming the file and 'No space left on device'; every snapshot \
                     before it indexes, replays and reports",
        }],
    );
}

#[test]
fn soak_over_a_file_size_limit_fails_clearly_and_keeps_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.ndjson");
    let (code, stderr) =
        bash(&format!("trap '' XFSZ; ulimit -f 48; {SOAK} {}", shell_quote(&path)));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("cannot write to") && stderr.contains("s.ndjson"), "{stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(std::fs::metadata(&path).unwrap().len() <= 48 * 1024);
    let n = check_cut_file(&path, "RLIMIT_FSIZE");
    eprintln!("RLIMIT_FSIZE: {n} snapshots kept");
    reliability::write(
        "faults_disk_fsize",
        &[Row {
            area: "disk",
            fault: "soak over a 48 KiB file-size limit (RLIMIT_FSIZE, EFBIG)",
            tries: 1,
            result: "exit 1 naming the file and 'File too large'; every snapshot before it \
                     indexes, replays and reports",
        }],
    );
}
