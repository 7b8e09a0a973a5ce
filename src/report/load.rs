//! Reading a whole session for a report or an export: the index first, then the snapshot lines
//! parsed on every core, each reduced at once to what the report follows (a 10 Hz hour is
//! 36 000 snapshots of a few KB: far too much to keep whole).

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};
use halo_collectors::Snapshot;

use crate::session::{Header, SessionIndex};
use crate::soak::metrics::{self, Extract};
use crate::soak::verdict::Tracker;

use super::traces::Traces;

/// What one snapshot contributes.
#[derive(Debug, Clone)]
pub struct Row {
    pub seq: u64,
    pub mono_ms: u64,
    pub ts_unix_ms: i64,
    pub extract: Extract,
}

pub struct Loaded {
    pub index: SessionIndex,
    pub rows: Vec<Row>,
    /// Lines that could not be read (each naming the file and line), and a cut last line.
    pub problems: Vec<String>,
    /// Lines that were corrupt (not counting a truncated last line, which `kill -9` leaves).
    pub corrupt_lines: usize,
}

impl Loaded {
    pub fn header(&self) -> &Header {
        &self.index.header
    }

    /// The warm-up the soak was given; a plain recording has none.
    pub fn warmup_s(&self) -> f64 {
        self.header().soak.as_ref().map_or(0.0, |s| s.warmup_ms as f64 / 1000.0)
    }

    pub fn tracker(&self) -> Tracker {
        let mut t = Tracker::new(self.warmup_s());
        for r in &self.rows {
            t.push_extract(r.seq, r.mono_ms, r.extract.clone());
        }
        t
    }

    pub fn traces(&self) -> Traces {
        let mut t = Traces::default();
        for r in &self.rows {
            t.push_extract(r.mono_ms, &r.extract);
        }
        t
    }
}

pub fn load(path: &Path) -> Result<Loaded> {
    let index = SessionIndex::open(path)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let per = index.len().div_ceil(threads).max(1);
    let ranges: Vec<_> =
        (0..index.len()).step_by(per).map(|s| s..(s + per).min(index.len())).collect();
    let parts: Vec<Result<(Vec<Row>, Vec<String>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .into_iter()
            .map(|range| {
                let index = &index;
                scope.spawn(move || -> Result<(Vec<Row>, Vec<String>)> {
                    let file = File::open(&index.path)
                        .with_context(|| format!("cannot open {}", index.path.display()))?;
                    let mut rows = Vec::with_capacity(range.len());
                    let mut problems = Vec::new();
                    index.for_each_in(&file, range, |s| match s {
                        Ok(s) => rows.push(row(&s)),
                        Err(e) => problems.push(format!("{e:#}")),
                    })?;
                    Ok((rows, problems))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a reader thread panicked"))))
            .collect()
    });
    let mut rows = Vec::with_capacity(index.len());
    let mut problems = Vec::new();
    for part in parts {
        let (r, p) = part?;
        rows.extend(r);
        problems.extend(p);
    }
    let corrupt_lines = problems.len();
    problems.extend(index.warnings.iter().cloned());
    Ok(Loaded { index, rows, problems, corrupt_lines })
}

fn row(s: &Snapshot) -> Row {
    Row { seq: s.seq, mono_ms: s.mono_ms, ts_unix_ms: s.ts_unix_ms, extract: metrics::extract(s) }
}
