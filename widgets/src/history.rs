//! Short histories of the values drawn as charts, kept by the app and read by the panes.
//! Points are `Option<f64>` so a gap in the data draws as a gap, not as a drop to zero.

use std::collections::VecDeque;

use halo_collectors::Snapshot;

/// A ring of `(mono_ms, value)` points.
#[derive(Debug, Clone, Default)]
pub struct Series {
    points: VecDeque<(u64, Option<f64>)>,
    capacity: usize,
}

impl Series {
    pub fn with_capacity(capacity: usize) -> Self {
        Self { points: VecDeque::with_capacity(capacity), capacity }
    }

    pub fn push(&mut self, mono_ms: u64, value: Option<f64>) {
        if self.points.len() == self.capacity {
            self.points.pop_front();
        }
        if self.capacity > 0 {
            self.points.push_back((mono_ms, value));
        }
    }

    pub fn points(
        &self,
    ) -> impl DoubleEndedIterator<Item = (u64, Option<f64>)> + ExactSizeIterator + '_ {
        self.points.iter().copied()
    }

    /// The last `n` values, oldest first.
    pub fn last_values(&self, n: usize) -> impl Iterator<Item = Option<f64>> + '_ {
        self.points.iter().skip(self.points.len().saturating_sub(n)).map(|p| p.1)
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// Every charted series. One point per snapshot.
#[derive(Debug, Clone)]
pub struct History {
    pub cpu_total_percent: Series,
    pub memory_used_bytes: Series,
    pub tctl_c: Series,
}

impl History {
    /// Keeps `capacity` snapshots (an hour at 1 s is 3600).
    pub fn new(capacity: usize) -> Self {
        Self {
            cpu_total_percent: Series::with_capacity(capacity),
            memory_used_bytes: Series::with_capacity(capacity),
            tctl_c: Series::with_capacity(capacity),
        }
    }

    pub fn push(&mut self, snapshot: &Snapshot) {
        let t = snapshot.mono_ms;
        let host = snapshot.host.as_ref();
        self.cpu_total_percent.push(t, host.and_then(|h| h.cpu.total_percent));
        self.memory_used_bytes.push(t, host.and_then(|h| h.memory.used_bytes).map(|b| b as f64));
        self.tctl_c.push(t, host.and_then(|h| h.tctl_c));
    }
}

impl Default for History {
    fn default() -> Self {
        Self::new(3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_the_newest_points_and_gaps() {
        let mut s = Series::with_capacity(3);
        for (t, v) in [(0, Some(1.0)), (1, None), (2, Some(3.0)), (3, Some(4.0))] {
            s.push(t, v);
        }
        assert_eq!(s.points().collect::<Vec<_>>(), [(1, None), (2, Some(3.0)), (3, Some(4.0))]);
        assert_eq!(s.last_values(2).collect::<Vec<_>>(), [Some(3.0), Some(4.0)]);
        assert_eq!(s.last_values(10).count(), 3);
    }
}
