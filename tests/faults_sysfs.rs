//! A copy of the Strix Halo fixture trees, changed by the test while `halo-top record` reads it:
//! files vanish, become unreadable, hold garbage, block on read (a FIFO), then come back. The
//! statuses and the card's `problems` follow, every snapshot is written, nothing panics.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use halo_collectors::amdgpu::testing::{copy_tree, fixture_procfs, fixture_sysfs};
use halo_collectors::{Snapshot, SourceStatus};
use halo_top::session::Session;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::reliability::{self, Row};
use support::spacing::{spacing, status};

const INTERVAL_MS: i64 = 200;
const PHASE: Duration = Duration::from_millis(1600);
const DEVICE: &str = "devices/pci0000:00/0000:00:08.1/0000:c5:00.0";

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("a clock after 1970").as_millis() as i64
}

struct Tree {
    sys: PathBuf,
    proc: PathBuf,
}

impl Tree {
    fn dev(&self, rel: &str) -> PathBuf {
        self.sys.join(DEVICE).join(rel)
    }
}

/// The snapshots of one phase, leaving out the first three intervals (the change reaches the
/// next sample, which reaches the next merge).
fn window(snaps: &[Snapshot], (from, to): (i64, i64)) -> Vec<&Snapshot> {
    let w: Vec<_> = snaps
        .iter()
        .filter(|s| s.ts_unix_ms >= from + 3 * INTERVAL_MS && s.ts_unix_ms < to)
        .collect();
    assert!(w.len() >= 3, "too few snapshots in a phase: {}", w.len());
    w
}

fn card(s: &Snapshot) -> &halo_collectors::model::AmdgpuCard {
    &s.amdgpu.as_ref().unwrap_or_else(|| panic!("no amdgpu section at seq {}", s.seq)).cards[0]
}

fn problems_naming(s: &Snapshot, file: &str) -> Vec<String> {
    card(s).problems.iter().filter(|p| p.contains(file)).cloned().collect()
}

#[test]
fn vanishing_unreadable_garbage_and_blocking_sysfs_files_are_statuses_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tree { sys: dir.path().join("sys"), proc: dir.path().join("proc") };
    copy_tree(&fixture_sysfs("strix-halo-load"), &t.sys);
    copy_tree(&fixture_procfs("strix-halo-load"), &t.proc);
    // Read once, at discovery: garbage from the start.
    fs::write(t.dev("pp_dpm_sclk"), "0: fast\n1: faster *\n").unwrap();
    let files = [
        t.dev("gpu_metrics"),
        t.dev("gpu_busy_percent"),
        t.dev("mem_info_vram_used"),
        t.dev("hwmon/hwmon5/temp1_input"),
        t.proc.join("1502/fdinfo/20"),
        t.proc.join("stat"),
        t.proc.join("meminfo"),
    ];
    let originals: Vec<Vec<u8>> = files.iter().map(|f| fs::read(f).unwrap()).collect();
    let restore = || {
        for (f, bytes) in files.iter().zip(&originals) {
            let _ = fs::remove_file(f);
            fs::write(f, bytes).unwrap();
        }
    };

    // Without CAP_DAC_OVERRIDE, so that mode 000 denies reads to root as well.
    let path = dir.path().join("s.ndjson");
    let recorder = Command::new("setpriv")
        .args(["--inh-caps=-dac_override,-dac_read_search"])
        .args(["--bounding-set=-dac_override,-dac_read_search", "--"])
        .arg(env!("CARGO_BIN_EXE_halo-top"))
        .args(["--interval", &format!("{INTERVAL_MS}ms"), "--sysfs-root"])
        .arg(&t.sys)
        .arg("--procfs-root")
        .arg(&t.proc)
        .args(["record", "-o"])
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("setpriv (util-linux) runs halo-top");
    let mut phases = Vec::new();
    let mut phase = |change: &dyn Fn()| {
        let from = now_ms();
        change();
        std::thread::sleep(PHASE);
        phases.push((from, now_ms()));
    };
    phase(&|| {}); // 0: as found
    phase(&|| {
        // 1: vanish
        for f in &files[..5] {
            fs::remove_file(f).unwrap();
        }
        fs::remove_file(&files[6]).unwrap();
    });
    phase(&|| {
        // 2: unreadable
        restore();
        for f in &files[..3] {
            fs::set_permissions(f, fs::Permissions::from_mode(0o000)).unwrap();
        }
    });
    phase(&|| {
        // 3: garbage
        restore();
        fs::write(&files[0], [1u8, 2, 3]).unwrap();
        fs::write(&files[1], "lots\n").unwrap();
        fs::write(&files[2], b"\xff\xfe\n").unwrap();
        fs::write(&files[3], "hot\n").unwrap();
        fs::write(
            &files[4],
            "drm-driver: amdgpu\ndrm-total-vram: many KiB\ndrm-engine-gfx: -1 ns\n",
        )
        .unwrap();
        fs::write(&files[5], "cpu garbage\n").unwrap();
    });
    phase(&|| {
        // 4: a read that blocks: gpu_busy_percent becomes a FIFO with no writer
        restore();
        fs::remove_file(&files[1]).unwrap();
        assert!(Command::new("mkfifo").arg(&files[1]).status().unwrap().success());
    });
    // Unblock the stalled read (open for writing meets the blocked open for reading).
    {
        use std::io::Write;
        let mut w = fs::OpenOptions::new().write(true).open(&files[1]).unwrap();
        let _ = w.write_all(b"50\n");
    }
    phase(&restore); // 5: all back
    kill(Pid::from_raw(recorder.id() as i32), Signal::SIGINT).unwrap();
    let out = recorder.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let session = Session::read(&path).unwrap();
    let snaps = &session.snapshots;
    let spacing = spacing(snaps);
    eprintln!("{spacing:?}");
    spacing.assert_kept(INTERVAL_MS as u64, 2.0, "record over a changing tree");
    check_phases(snaps, &phases, &t);

    let rows = [
        (
            "pp_dpm_sclk holds garbage at discovery",
            1,
            "named under the card's problems; the rest of the card read",
        ),
        (
            "gpu_metrics, busy %, hwmon temp, fdinfo, meminfo vanish",
            6,
            "values n/a (a missing file is unsupported), source ok",
        ),
        (
            "gpu_metrics, busy %, mem_info_vram_used unreadable (mode 000)",
            3,
            "each named with 'Permission denied' under problems; values n/a",
        ),
        (
            "gpu_metrics truncated, garbage in busy %, VRAM, hwmon, fdinfo",
            5,
            "each named under problems; values n/a; no panic",
        ),
        ("/proc/stat holds garbage", 1, "host source failed naming the file; other sources ok"),
        (
            "a read that blocks (busy % is a FIFO with no writer)",
            1,
            "amdgpu source timed out; host and hub kept their interval",
        ),
        ("every file restored", 7, "source ok again, values back, no file problem left"),
    ];
    let rows: Vec<Row> = rows
        .iter()
        .map(|&(fault, tries, result)| Row { area: "sysfs/procfs", fault, tries, result })
        .collect();
    reliability::write("faults_sysfs", &rows);
}

fn check_phases(snaps: &[Snapshot], phases: &[(i64, i64)], t: &Tree) {
    let amd_ok = |s: &Snapshot| matches!(status(s, "amdgpu"), Some(SourceStatus::Ok));
    let host_ok = |s: &Snapshot| matches!(status(s, "host"), Some(SourceStatus::Ok));
    let sclk = t.dev("pp_dpm_sclk").display().to_string();
    for s in snaps {
        if let Some(a) = &s.amdgpu {
            assert!(a.cards[0].problems.iter().any(|p| p.contains(&sclk)), "seq {}", s.seq);
        }
    }
    for s in window(snaps, phases[0]) {
        assert!(amd_ok(s) && host_ok(s), "as found, seq {}", s.seq);
        assert!(card(s).metrics.is_some() && card(s).gpu_busy_percent == Some(97.0));
        assert_eq!(card(s).problems.len(), 1, "only pp_dpm_sclk: {:?}", card(s).problems);
    }
    for s in window(snaps, phases[1]) {
        assert!(amd_ok(s) && host_ok(s), "vanished, seq {}", s.seq);
        let c = card(s);
        assert!(c.metrics.is_none() && c.gpu_busy_percent.is_none(), "seq {}", s.seq);
        assert_eq!(c.problems.len(), 1, "a missing file is not a problem: {:?}", c.problems);
        assert_eq!(
            s.host.as_ref().expect("a host section").memory.total_bytes,
            None,
            "meminfo gone"
        );
    }
    for s in window(snaps, phases[2]) {
        assert!(amd_ok(s), "unreadable, seq {}", s.seq);
        for file in ["gpu_metrics", "gpu_busy_percent", "mem_info_vram_used"] {
            let named = problems_naming(s, &format!("{DEVICE}/{file}"));
            assert!(
                named.iter().any(|p| p.contains("Permission denied")),
                "{file} at seq {}: {:?}",
                s.seq,
                card(s).problems
            );
        }
        assert!(card(s).metrics.is_none() && card(s).memory.vram_used_bytes.is_none());
    }
    for s in window(snaps, phases[3]) {
        assert!(amd_ok(s), "garbage, seq {}", s.seq);
        for file in ["gpu_metrics", "gpu_busy_percent", "mem_info_vram_used", "temp1_input"] {
            assert!(!problems_naming(s, file).is_empty(), "{file}: {:?}", card(s).problems);
        }
        match status(s, "host") {
            Some(SourceStatus::Failed { error }) => assert!(error.contains("stat"), "{error}"),
            other => panic!("host with a garbage /proc/stat: {other:?}"),
        }
    }
    let stalled = window(snaps, phases[4]);
    assert!(
        stalled.iter().all(|s| matches!(status(s, "amdgpu"), Some(SourceStatus::Failed { .. }))),
        "a blocked read fails the amdgpu source"
    );
    assert!(stalled.iter().all(|s| host_ok(s)), "the host source goes on");
    for s in window(snaps, phases[5]) {
        assert!(amd_ok(s) && host_ok(s), "restored, seq {}", s.seq);
        assert!(card(s).metrics.is_some() && card(s).gpu_busy_percent == Some(97.0));
        assert_eq!(card(s).problems.len(), 1, "{:?}", card(s).problems);
    }
}
