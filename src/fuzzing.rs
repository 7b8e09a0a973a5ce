//! Entry point of the session fuzz target (`fuzz/fuzz_targets/session_ndjson.rs`), shared with
//! the test that replays its committed corpus (`tests/fuzz_corpora.rs`): a session file is
//! outside input (`replay`, `report` and `export` open files from anywhere), so every path that
//! reads one must return an error or a result, never panic, hang or allocate without bound.

use std::path::Path;

use crate::derive::derive;
use crate::session::SessionReader;
use crate::soak::summary;
use crate::{export, report};

/// Reads `path` the ways halo-top does: the index and the parallel loader of `report` and
/// `export` (verdict, CSV, OpenMetrics), and the streaming reader of `replay`, with the derive
/// step run over consecutive snapshots as the hub would.
pub fn session_file(path: &Path) {
    if let Ok(loaded) = report::load::load(path) {
        let verdict = loaded.tracker().verdict();
        let _ = summary::text(&verdict);
        serde_json::to_string(&verdict).expect("a verdict serialises");
        let _ = export::csv(&loaded);
        let _ = export::openmetrics(&loaded, "fuzz");
    }
    if let Ok(mut reader) = SessionReader::open(path) {
        let mut previous = None;
        while let Ok(Some(mut snapshot)) = reader.next_snapshot() {
            derive(previous.as_ref(), &mut snapshot);
            serde_json::to_string(&snapshot).expect("a snapshot serialises");
            previous = Some(snapshot);
        }
    }
}
