//! A ring of `(mono_ms, Option<f64>)` points and the views charts take of it. `None` is a
//! reading that failed or did not exist at that instant: it draws as a gap, never as zero.

use std::collections::VecDeque;

/// The stretch of session time a chart shows: `span_ms` up to `end_ms` (the snapshot on screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub end_ms: u64,
    pub span_ms: u64,
}

impl TimeWindow {
    pub fn start_ms(&self) -> u64 {
        self.end_ms.saturating_sub(self.span_ms)
    }

    pub fn contains(&self, t_ms: u64) -> bool {
        t_ms >= self.start_ms() && t_ms <= self.end_ms
    }
}

/// What one column of a chart holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bin {
    /// No sample fell here (samples are further apart than a column): the line goes across.
    Empty,
    /// Samples fell here and none had a value: the line breaks.
    Gap,
    /// The mean of the values that fell here.
    Value(f64),
}

/// A ring of `(mono_ms, value)` points.
#[derive(Debug, Clone, Default)]
pub struct Series {
    points: VecDeque<(u64, Option<f64>)>,
    capacity: usize,
}

impl Series {
    pub fn with_capacity(capacity: usize) -> Self {
        Self { points: VecDeque::with_capacity(capacity.min(4096)), capacity }
    }

    pub fn push(&mut self, mono_ms: u64, value: Option<f64>) {
        if self.points.len() == self.capacity {
            self.points.pop_front();
        }
        if self.capacity > 0 {
            self.points.push_back((mono_ms, value.filter(|v| v.is_finite())));
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

    /// The points inside `window`, oldest first (found from the newest end: the window is
    /// usually a small tail of the ring).
    pub fn in_window(&self, window: TimeWindow) -> impl Iterator<Item = (u64, Option<f64>)> + '_ {
        let start = window.start_ms();
        let newer = self.points.iter().rev().take_while(|(t, _)| *t >= start).count();
        let first = self.points.len() - newer;
        self.points.range(first..).copied().filter(move |(t, _)| *t <= window.end_ms)
    }

    /// The newest value, if the newest point has one.
    pub fn latest(&self) -> Option<f64> {
        self.points.back().and_then(|p| p.1)
    }

    /// The mean of the values inside `window`; `None` when there are none.
    pub fn mean(&self, window: TimeWindow) -> Option<f64> {
        mean(self.in_window(window).filter_map(|p| p.1))
    }

    /// The largest value inside `window`.
    pub fn max(&self, window: TimeWindow) -> Option<f64> {
        self.in_window(window).filter_map(|p| p.1).reduce(f64::max)
    }

    pub fn min(&self, window: TimeWindow) -> Option<f64> {
        self.in_window(window).filter_map(|p| p.1).reduce(f64::min)
    }

    /// `window` cut into `bins` equal columns, each the mean of its values (see [`Bin`]).
    pub fn bins(&self, window: TimeWindow, bins: usize) -> Vec<Bin> {
        let mut sums = vec![(0.0, 0u32, false); bins];
        if bins == 0 || window.span_ms == 0 {
            return Vec::new();
        }
        for (t, value) in self.in_window(window) {
            let i = bin_index(window, t, bins);
            let (sum, n, seen) = &mut sums[i];
            *seen = true;
            if let Some(v) = value {
                *sum += v;
                *n += 1;
            }
        }
        sums.into_iter()
            .map(|(sum, n, seen)| match (seen, n) {
                (false, _) => Bin::Empty,
                (true, 0) => Bin::Gap,
                (true, n) => Bin::Value(sum / f64::from(n)),
            })
            .collect()
    }
}

/// The column of `bins` that session time `t_ms` falls in. The window may reach back before
/// the session started: its columns stay empty, so a young session draws at the right end.
pub fn bin_index(window: TimeWindow, t_ms: u64, bins: usize) -> usize {
    let offset = (t_ms as f64 - (window.end_ms as f64 - window.span_ms as f64)).max(0.0);
    let i = (offset / window.span_ms.max(1) as f64 * bins as f64) as usize;
    i.min(bins.saturating_sub(1))
}

pub fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
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

    #[test]
    fn window_mean_and_extremes_ignore_gaps() {
        let mut s = Series::with_capacity(100);
        for t in 0..10u64 {
            s.push(t * 1000, if t == 5 { None } else { Some(t as f64) });
        }
        let w = TimeWindow { end_ms: 9000, span_ms: 3000 };
        assert_eq!(s.in_window(w).map(|p| p.0).collect::<Vec<_>>(), [6000, 7000, 8000, 9000]);
        assert_eq!(s.mean(w), Some(7.5));
        assert_eq!(s.max(w), Some(9.0));
        assert_eq!(s.min(TimeWindow { end_ms: 6000, span_ms: 2000 }), Some(4.0));
        assert_eq!(s.mean(TimeWindow { end_ms: 5000, span_ms: 0 }), None, "only the gap");
        s.push(10_000, Some(f64::NAN));
        assert_eq!(s.latest(), None, "not a number is not a reading");
    }

    #[test]
    fn bins_tell_missing_samples_from_gaps() {
        let mut s = Series::with_capacity(100);
        s.push(0, Some(2.0));
        s.push(1000, Some(4.0));
        s.push(4000, None);
        s.push(7000, Some(6.0));
        let bins = s.bins(TimeWindow { end_ms: 8000, span_ms: 8000 }, 8);
        assert_eq!(
            bins,
            [
                Bin::Value(2.0),
                Bin::Value(4.0),
                Bin::Empty,
                Bin::Empty,
                Bin::Gap,
                Bin::Empty,
                Bin::Empty,
                Bin::Value(6.0)
            ]
        );
        let two = s.bins(TimeWindow { end_ms: 8000, span_ms: 8000 }, 2);
        assert_eq!(two, [Bin::Value(3.0), Bin::Value(6.0)], "a gap beside values is averaged over");
        assert!(s.bins(TimeWindow { end_ms: 8000, span_ms: 8000 }, 0).is_empty());
        let young = s.bins(TimeWindow { end_ms: 8000, span_ms: 16_000 }, 4);
        assert_eq!(young, [Bin::Empty, Bin::Empty, Bin::Value(3.0), Bin::Value(6.0)]);
    }
}
