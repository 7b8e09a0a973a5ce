//! An hour at 1 Hz (3600 snapshots) and at 10 Hz (36 000), generated from a real snapshot (the
//! H200 fixture under full load, host section and all) into temporary files. Prints the time to
//! open and index each (target < 300 ms), to start a replay 30 min in (first snapshot on the
//! feed), and to write the report (target < 2 s). `cargo bench --bench session_scale`.

use std::path::Path;
use std::time::{Duration, Instant};

use halo_collectors::Snapshot;
use halo_top::report;
use halo_top::session::{Footer, Header, SessionIndex, SessionReader, SessionWriter};

const SNAPSHOTS: u64 = 36_000;
const INTERVAL_MS: u64 = 100;

fn main() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sessions/h200-matmul.ndjson");
    let mut reader = SessionReader::open(&fixture).expect("the H200 fixture");
    let header = reader.header().clone();
    // A snapshot under full load (100 s in): every NVIDIA field and the host's processes.
    let base: Snapshot = reader.by_ref().nth(100).expect("100 snapshots").expect("readable");
    let dir = tempfile::tempdir().expect("a temp dir");
    println!("load average before: {}", load_average());

    for (name, snapshots, interval_ms) in [("1 Hz", 3_600, 1000), ("10 Hz", SNAPSHOTS, INTERVAL_MS)]
    {
        let path = dir.path().join(format!("hour-{interval_ms}ms.ndjson"));
        let bytes = generate(&path, &header, &base, snapshots, interval_ms);
        println!("an hour at {name}: {snapshots} snapshots, {:.0} MB", bytes as f64 / 1e6);
        let open = best_and_median(7, || {
            let index = SessionIndex::open(&path).expect("index");
            assert_eq!(index.len() as u64, snapshots);
        });
        println!(
            "  open + index:           best {:>7.1} ms, median {:>7.1} ms (target < 300 ms)",
            open.0, open.1
        );
        let start = best_and_median(5, || {
            let r = halo_top::replay::start(&path, 1.0, Duration::from_secs(1800)).expect("replay");
            while r.feed.latest.borrow().is_none() {
                std::thread::sleep(Duration::from_micros(200));
            }
        });
        println!(
            "  replay, first snapshot: best {:>7.1} ms, median {:>7.1} ms (30 min in)",
            start.0, start.1
        );
        let out = dir.path().join(format!("report-{interval_ms}"));
        let rep = best_and_median(3, || {
            let loaded = report::load::load(&path).expect("load");
            assert!(loaded.problems.is_empty());
            report::write(&loaded, &out).expect("report");
        });
        println!(
            "  report (text, md, SVG+PNG): best {:>7.1} ms, median {:>7.1} ms (target < 2000 ms)",
            rep.0, rep.1
        );
        let parse = best_and_median(3, || {
            report::load::load(&path).expect("load");
        });
        println!(
            "    of which reading and parsing: best {:>7.1} ms, median {:>7.1} ms",
            parse.0, parse.1
        );
    }
    println!("load average after: {}", load_average());
}

/// Writes `snapshots` copies of `base`, renumbered, with a slow drift; returns the file's size.
fn generate(
    path: &Path,
    header: &Header,
    base: &Snapshot,
    snapshots: u64,
    interval_ms: u64,
) -> u64 {
    let mut header = header.clone();
    header.interval_ms = interval_ms;
    let mut writer = SessionWriter::create(path, &header).expect("create");
    for seq in 0..snapshots {
        let mut s = base.clone();
        s.seq = seq;
        s.mono_ms = seq * interval_ms;
        s.ts_unix_ms = header.started_unix_ms + s.mono_ms as i64;
        // A slow drift and some wobble, so the fit and the plots have work to do.
        let hours = s.mono_ms as f64 / 3.6e6;
        for d in s.nvidia.iter_mut().flat_map(|n| &mut n.devices) {
            d.power_w = d.power_w.map(|w| w * (1.0 - 0.01 * hours) + (seq % 13) as f64 * 0.3);
            d.temp_c = d.temp_c.map(|c| c + 5.0 * hours + (seq % 7) as f64 * 0.1);
        }
        writer.write_snapshot(&s).expect("write");
    }
    writer.finish(&Footer { snapshots, ..Default::default() }).expect("finish");
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn best_and_median(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    (ms[0], ms[runs / 2])
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}
