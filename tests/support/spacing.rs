//! How regularly a recorded session's snapshots came: the checks that "nothing blocked".

use halo_collectors::{Snapshot, SourceStatus};

#[derive(Debug)]
pub struct Spacing {
    pub snapshots: usize,
    /// Snapshots missing from the file (gaps in `seq`).
    pub seq_gaps: u64,
    /// Hub ticks skipped because the hub ran more than a whole interval late (`mono_ms` is the
    /// tick's scheduled time, so a skipped tick shows as a gap of two intervals or more).
    pub skipped_ticks: usize,
    /// The longest wall-clock time between two snapshots, in ms.
    pub max_wall_gap_ms: i64,
}

pub fn spacing(snapshots: &[Snapshot]) -> Spacing {
    let pairs = || snapshots.windows(2).map(|w| (&w[0], &w[1]));
    Spacing {
        snapshots: snapshots.len(),
        seq_gaps: pairs().map(|(a, b)| b.seq - a.seq - 1).sum(),
        skipped_ticks: pairs().filter(|(a, b)| b.mono_ms - a.mono_ms > a.interval_ms).count(),
        max_wall_gap_ms: pairs().map(|(a, b)| b.ts_unix_ms - a.ts_unix_ms).max().unwrap_or(0),
    }
}

impl Spacing {
    /// Every snapshot present, no tick skipped, and none later than `slack` intervals after the
    /// one before (the hub's own pace, whatever the sources do; `slack` covers the other
    /// engineers' builds on this machine's two cores).
    pub fn assert_kept(&self, interval_ms: u64, slack: f64, context: &str) {
        assert!(self.snapshots > 2, "{context}: too few snapshots: {self:?}");
        assert_eq!(self.seq_gaps, 0, "{context}: {self:?}");
        assert_eq!(self.skipped_ticks, 0, "{context}: {self:?}");
        assert!(
            (self.max_wall_gap_ms as f64) < interval_ms as f64 * slack,
            "{context}: a snapshot came {} ms after the one before at a {interval_ms} ms interval",
            self.max_wall_gap_ms
        );
    }
}

/// The status of source `name` in `snapshot`.
pub fn status<'a>(snapshot: &'a Snapshot, name: &str) -> Option<&'a SourceStatus> {
    snapshot.sources.iter().find(|s| s.name == name).map(|s| &s.status)
}
