//! The soak verdict: did the machine drift as it heated? Pure functions of the snapshots.
//!
//! For every followed series, over the time after warm-up: the mean of the first and of the last
//! window and the drift between them in %, a least-squares slope in %/hour with its 95 %
//! confidence interval, min and max; for every limiter, the share of time it held the device
//! back; and the snapshots missed (gaps in `seq`).
//!
//! A soak may run for hours, so the tracker keeps no series whole: per series it keeps running
//! sums (count, mean, min, max, the least-squares sums of `fit`), and the points of the only two
//! stretches the verdict looks at again, the first and the last `MAX_WINDOW_S` after warm-up.
//! Its memory stops growing five minutes after warm-up, and the verdict is the one every point
//! kept would give. (The report's plots need every point: they read the file, `report::traces`.)

use std::collections::{BTreeMap, VecDeque};

use halo_collectors::Snapshot;
use serde::{Deserialize, Serialize};

use super::fit::FitSums;
use super::metrics::{self, Extract, Kind};

/// The longest first/last window; shorter soaks use a quarter of the judged time each.
pub const MAX_WINDOW_S: f64 = 300.0;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub warmup_s: f64,
    /// Length of the first and of the last window.
    pub window_s: f64,
    /// From the end of warm-up to the last snapshot.
    pub judged_s: f64,
    pub snapshots: u64,
    /// Gaps in `seq`: snapshots the hub made that never reached the file.
    pub missed_snapshots: u64,
    #[serde(default)]
    pub metrics: Vec<MetricVerdict>,
    #[serde(default)]
    pub throttle: Vec<ThrottleVerdict>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricVerdict {
    pub key: String,
    pub label: String,
    pub unit: String,
    pub kind: Kind,
    /// Snapshots after warm-up with a value, and without one.
    pub samples: u64,
    pub missing: u64,
    pub first_window_mean: Option<f64>,
    pub last_window_mean: Option<f64>,
    /// last − first window mean, in the series' unit.
    pub change: Option<f64>,
    /// (last − first) ÷ first, in %.
    pub drift_percent: Option<f64>,
    pub slope_per_hour: Option<f64>,
    /// The slope relative to the mean, in %/hour.
    pub slope_percent_per_hour: Option<f64>,
    /// Half-width of the 95 % confidence interval of `slope_percent_per_hour`.
    pub slope_ci95_percent_per_hour: Option<f64>,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThrottleVerdict {
    pub device: String,
    pub limiter: String,
    /// Share of the judged time the limiter was engaged.
    pub percent_of_time: f64,
}

impl Verdict {
    pub fn metric(&self, key: &str) -> Option<&MetricVerdict> {
        self.metrics.iter().find(|m| m.key == key)
    }

    /// First-window to last-window change of decode tok/s, in %.
    pub fn decode_drift_percent(&self) -> Option<f64> {
        self.metric(metrics::DECODE).and_then(|m| m.drift_percent)
    }
}

/// One followed series, judged as it arrives.
#[derive(Debug, Clone)]
pub struct SeriesJudge {
    pub key: String,
    pub label: String,
    pub unit: &'static str,
    pub kind: Kind,
    /// The latest known value, warm-up included (progress lines show it).
    pub last_value: Option<f64>,
    warmup_s: f64,
    /// After warm-up: snapshots with a value and without one, and the values' sum, min, max.
    samples: u64,
    missing: u64,
    sum: f64,
    min: Option<f64>,
    max: Option<f64>,
    /// (hours since the end of warm-up, value).
    fit: FitSums,
    /// Known (time, value) of the first `MAX_WINDOW_S` after warm-up, and of the latest
    /// `MAX_WINDOW_S`: the first and last windows are no longer, whatever the soak's length.
    head: Vec<(f64, f64)>,
    tail: VecDeque<(f64, f64)>,
}

impl SeriesJudge {
    pub fn new(key: String, label: String, unit: &'static str, kind: Kind, warmup_s: f64) -> Self {
        Self {
            key,
            label,
            unit,
            kind,
            last_value: None,
            warmup_s,
            samples: 0,
            missing: 0,
            sum: 0.0,
            min: None,
            max: None,
            fit: FitSums::default(),
            head: Vec::new(),
            tail: VecDeque::new(),
        }
    }

    /// The value at `t_s` seconds since the session started; `None` where it was unknown.
    pub fn push(&mut self, t_s: f64, value: Option<f64>) {
        self.last_value = value.or(self.last_value);
        if t_s < self.warmup_s {
            return;
        }
        let Some(v) = value else {
            self.missing += 1;
            return;
        };
        self.samples += 1;
        self.sum += v;
        self.min = Some(self.min.map_or(v, |m| m.min(v)));
        self.max = Some(self.max.map_or(v, |m| m.max(v)));
        self.fit.push((t_s - self.warmup_s) / 3600.0, v);
        if t_s <= self.warmup_s + MAX_WINDOW_S {
            self.head.push((t_s, v));
        }
        self.tail.push_back((t_s, v));
        while self.tail.front().is_some_and(|&(t, _)| t < t_s - MAX_WINDOW_S) {
            self.tail.pop_front();
        }
    }

    /// The verdict with windows of `window_s` (at most `MAX_WINDOW_S`), the session ending at
    /// `end_s`.
    pub fn verdict(&self, window_s: f64, end_s: f64) -> MetricVerdict {
        let warmup_s = self.warmup_s;
        let (first, last) = if window_s > 0.0 {
            (
                window_mean(&self.head, warmup_s, warmup_s + window_s),
                window_mean(&self.tail, end_s - window_s, end_s),
            )
        } else {
            (None, None)
        };
        let change = first.zip(last).map(|(f, l)| l - f);
        let drift_percent = first.zip(change).and_then(|(f, c)| relative(c, f));
        let fit = self.fit.fit();
        let m = (self.samples > 0).then(|| self.sum / self.samples as f64);
        MetricVerdict {
            key: self.key.clone(),
            label: self.label.clone(),
            unit: self.unit.to_string(),
            kind: self.kind,
            samples: self.samples,
            missing: self.missing,
            first_window_mean: first,
            last_window_mean: last,
            change,
            drift_percent,
            slope_per_hour: fit.map(|f| f.slope),
            slope_percent_per_hour: fit.zip(m).and_then(|(f, m)| relative(f.slope, m)),
            slope_ci95_percent_per_hour: fit
                .and_then(|f| f.ci95_half_width())
                .zip(m)
                .and_then(|(w, m)| relative(w, m).map(f64::abs)),
            mean: m,
            min: self.min,
            max: self.max,
        }
    }
}

#[derive(Debug, Default)]
struct DeviceLimiters {
    /// Snapshots after warm-up in which the device reported its limiters.
    reports: u64,
    percent_sum: BTreeMap<String, f64>,
}

/// Gathers a session's snapshots, in order, and judges them.
#[derive(Debug)]
pub struct Tracker {
    warmup_s: f64,
    series: BTreeMap<String, SeriesJudge>,
    limiters: BTreeMap<String, DeviceLimiters>,
    snapshots: u64,
    missed: u64,
    last_seq: Option<u64>,
    last_t_s: f64,
}

impl Tracker {
    pub fn new(warmup_s: f64) -> Self {
        Self {
            warmup_s,
            series: BTreeMap::new(),
            limiters: BTreeMap::new(),
            snapshots: 0,
            missed: 0,
            last_seq: None,
            last_t_s: 0.0,
        }
    }

    pub fn push(&mut self, snapshot: &Snapshot) {
        self.push_extract(snapshot.seq, snapshot.mono_ms, metrics::extract(snapshot));
    }

    pub fn push_extract(&mut self, seq: u64, mono_ms: u64, x: Extract) {
        let t = mono_ms as f64 / 1000.0;
        self.snapshots += 1;
        if let Some(last) = self.last_seq {
            self.missed += seq.saturating_sub(last + 1);
        }
        self.last_seq = Some(seq);
        self.last_t_s = t;
        for r in x.readings {
            let warmup_s = self.warmup_s;
            // Looked up by reference first: a known key costs no allocation per snapshot.
            let series = match self.series.get_mut(&r.key) {
                Some(s) => s,
                None => self
                    .series
                    .entry(r.key.clone())
                    .or_insert_with(|| SeriesJudge::new(r.key, r.label, r.unit, r.kind, warmup_s)),
            };
            series.push(t, r.value);
        }
        if t < self.warmup_s {
            return;
        }
        for device in x.limiter_devices {
            self.limiters.entry(device).or_default().reports += 1;
        }
        for l in x.limiters {
            let d = self.limiters.entry(l.device).or_default();
            *d.percent_sum.entry(l.limiter).or_default() += l.percent;
        }
    }

    pub fn series(&self) -> impl Iterator<Item = &SeriesJudge> {
        self.series.values()
    }

    pub fn get(&self, key: &str) -> Option<&SeriesJudge> {
        self.series.get(key)
    }

    /// Seconds from the start of the session to the last snapshot.
    pub fn elapsed_s(&self) -> f64 {
        self.last_t_s
    }

    pub fn verdict(&self) -> Verdict {
        let judged_s = (self.last_t_s - self.warmup_s).max(0.0);
        let window_s = (judged_s / 4.0).min(MAX_WINDOW_S);
        let mut metrics: Vec<MetricVerdict> =
            self.series.values().map(|s| s.verdict(window_s, self.last_t_s)).collect();
        metrics.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
        let mut throttle = Vec::new();
        for (device, d) in &self.limiters {
            for (limiter, sum) in &d.percent_sum {
                throttle.push(ThrottleVerdict {
                    device: device.clone(),
                    limiter: limiter.clone(),
                    percent_of_time: sum / d.reports.max(1) as f64,
                });
            }
        }
        Verdict {
            warmup_s: self.warmup_s,
            window_s,
            judged_s,
            snapshots: self.snapshots,
            missed_snapshots: self.missed,
            metrics,
            throttle,
        }
    }
}

/// The mean of the values with `from ≤ t ≤ to`.
fn window_mean<'a>(
    points: impl IntoIterator<Item = &'a (f64, f64)>,
    from: f64,
    to: f64,
) -> Option<f64> {
    let inside = points.into_iter().filter(|&&(t, _)| t >= from && t <= to);
    let (sum, n) = inside.fold((0.0, 0usize), |(s, n), &(_, v)| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// `part` as % of `whole`; `None` when `whole` is (near) zero, where a % means nothing.
fn relative(part: f64, whole: f64) -> Option<f64> {
    (whole.abs() > 1e-12).then(|| part / whole * 100.0)
}

#[cfg(test)]
mod tests;
