//! Sessions written for the tests of this module.

use std::path::Path;

use halo_collectors::model::{HostSection, MemoryReading};
use halo_collectors::{SCHEMA, Snapshot};

use super::{Footer, Header, SessionWriter};

pub fn header() -> Header {
    Header {
        schema: SCHEMA,
        halo_top_version: "test".into(),
        host: Some("strix".into()),
        interval_ms: 1000,
        sources: vec!["host".into()],
        started_unix_ms: 1_800_000_000_000,
        command: Some("record".into()),
        soak: None,
    }
}

pub fn snapshot(seq: u64) -> Snapshot {
    let mut s = Snapshot::new(seq, 1_800_000_000_000 + seq as i64 * 1000, seq * 1000, 1000);
    s.host = Some(HostSection {
        uptime_s: Some(100.5 + seq as f64),
        memory: MemoryReading { total_bytes: Some(128 << 30), ..Default::default() },
        ..Default::default()
    });
    s
}

pub fn write_session(path: &Path, n: u64, footer: bool) -> Vec<Snapshot> {
    let mut w = SessionWriter::create(path, &header()).unwrap();
    let snaps: Vec<_> = (0..n).map(snapshot).collect();
    for s in &snaps {
        w.write_snapshot(s).unwrap();
    }
    if footer {
        w.finish(&Footer {
            snapshots: n,
            stop_reason: Some("duration".into()),
            ..Default::default()
        })
        .unwrap();
    }
    snaps
}

/// Replaces line 3 (the second snapshot) with a line cut inside a value.
pub fn corrupt_line_3(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "{\"schema\":1,\"seq\":garbage";
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}
