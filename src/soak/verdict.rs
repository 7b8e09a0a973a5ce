//! The soak verdict: did the machine drift as it heated? Pure functions of the snapshots.
//!
//! For every followed series, over the time after warm-up: the mean of the first and of the last
//! window and the drift between them in %, a least-squares slope in %/hour with its 95 %
//! confidence interval, min and max; for every limiter, the share of time it held the device
//! back; and the snapshots missed (gaps in `seq`).
//!
//! Consecutive samples of a temperature or a token rate are not independent (a 1 s series of a
//! quantity that moves over minutes), and the textbook slope interval assumes they are, which
//! would make it far too narrow. The interval here is widened by the lag-1 autocorrelation of
//! the residuals (the effective sample size n·(1−ρ)/(1+ρ) of an AR(1) process).

use std::collections::BTreeMap;

use halo_collectors::Snapshot;
use serde::{Deserialize, Serialize};

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

/// One followed series with every point of the session (warm-up included, for plots).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    pub key: String,
    pub label: String,
    pub unit: &'static str,
    pub kind: Kind,
    /// (seconds since the session started, value); `None` where the value was unknown.
    pub points: Vec<(f64, Option<f64>)>,
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
    series: BTreeMap<String, SeriesData>,
    limiters: BTreeMap<String, DeviceLimiters>,
    /// (time, device, limiter) wherever a limiter was engaged: the plots' throttle marks.
    pub throttle_marks: Vec<(f64, String, String)>,
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
            throttle_marks: Vec::new(),
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
            self.series
                .entry(r.key.clone())
                .or_insert_with(|| SeriesData {
                    key: r.key,
                    label: r.label,
                    unit: r.unit,
                    kind: r.kind,
                    points: Vec::new(),
                })
                .points
                .push((t, r.value));
        }
        for l in &x.limiters {
            self.throttle_marks.push((t, l.device.clone(), l.limiter.clone()));
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

    pub fn series(&self) -> impl Iterator<Item = &SeriesData> {
        self.series.values()
    }

    pub fn get(&self, key: &str) -> Option<&SeriesData> {
        self.series.get(key)
    }

    /// Seconds from the start of the session to the last snapshot.
    pub fn elapsed_s(&self) -> f64 {
        self.last_t_s
    }

    pub fn verdict(&self) -> Verdict {
        let judged_s = (self.last_t_s - self.warmup_s).max(0.0);
        let window_s = (judged_s / 4.0).min(MAX_WINDOW_S);
        let mut metrics: Vec<MetricVerdict> = self
            .series
            .values()
            .map(|s| judge(s, self.warmup_s, window_s, self.last_t_s))
            .collect();
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

/// The verdict on one series.
pub fn judge(s: &SeriesData, warmup_s: f64, window_s: f64, end_s: f64) -> MetricVerdict {
    let judged: Vec<(f64, Option<f64>)> =
        s.points.iter().copied().filter(|&(t, _)| t >= warmup_s).collect();
    let known: Vec<(f64, f64)> = judged.iter().filter_map(|&(t, v)| Some((t, v?))).collect();
    let window_mean = |from: f64, to: f64| {
        mean(known.iter().filter(|&&(t, _)| t >= from && t <= to).map(|&(_, v)| v))
    };
    let (first, last) = if window_s > 0.0 {
        (window_mean(warmup_s, warmup_s + window_s), window_mean(end_s - window_s, end_s))
    } else {
        (None, None)
    };
    let change = first.zip(last).map(|(f, l)| l - f);
    let drift_percent = first.zip(change).and_then(|(f, c)| relative(c, f));
    // Time in hours from the end of warm-up: the slope comes out per hour.
    let hours: Vec<(f64, f64)> = known.iter().map(|&(t, v)| ((t - warmup_s) / 3600.0, v)).collect();
    let fit = linear_fit(&hours);
    let m = mean(known.iter().map(|&(_, v)| v));
    MetricVerdict {
        key: s.key.clone(),
        label: s.label.clone(),
        unit: s.unit.to_string(),
        kind: s.kind,
        samples: known.len() as u64,
        missing: (judged.len() - known.len()) as u64,
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
        min: known.iter().map(|&(_, v)| v).reduce(f64::min),
        max: known.iter().map(|&(_, v)| v).reduce(f64::max),
    }
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// `part` as % of `whole`; `None` when `whole` is (near) zero, where a % means nothing.
fn relative(part: f64, whole: f64) -> Option<f64> {
    (whole.abs() > 1e-12).then(|| part / whole * 100.0)
}

/// A least-squares line through points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub slope: f64,
    pub intercept: f64,
    /// Standard error of the slope, widened for autocorrelated residuals.
    pub slope_se: f64,
    /// Lag-1 autocorrelation of the residuals (clamped to [0, 0.99]).
    pub rho: f64,
    /// Points, and the effective number of independent ones.
    pub n: usize,
    pub n_eff: f64,
}

impl Fit {
    /// Half-width of the 95 % interval of the slope; `None` with under three effective points.
    pub fn ci95_half_width(&self) -> Option<f64> {
        let dof = self.n_eff - 2.0;
        (dof >= 1.0).then(|| t_975(dof) * self.slope_se)
    }
}

/// Ordinary least squares of y on x; `None` for fewer than 3 points or a constant x.
pub fn linear_fit(points: &[(f64, f64)]) -> Option<Fit> {
    let n = points.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let my = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let residuals: Vec<f64> = points.iter().map(|p| p.1 - (intercept + slope * p.0)).collect();
    let ssr: f64 = residuals.iter().map(|r| r * r).sum();
    let lagged: f64 = residuals.windows(2).map(|w| w[0] * w[1]).sum();
    // Negative autocorrelation would narrow the interval; we never claim more than OLS does.
    let rho = if ssr > 0.0 { (lagged / ssr).clamp(0.0, 0.99) } else { 0.0 };
    let n_eff = (nf * (1.0 - rho) / (1.0 + rho)).max(2.0).min(nf);
    let se_ols = (ssr / (nf - 2.0) / sxx).sqrt();
    let slope_se = se_ols * ((nf - 2.0) / (n_eff - 2.0).max(f64::MIN_POSITIVE)).sqrt();
    Some(Fit { slope, intercept, slope_se, rho, n, n_eff })
}

/// The 97.5 % quantile of Student's t with `dof` degrees of freedom: exact table values for
/// 1–4, then the Cornish–Fisher expansion around the normal quantile (error < 0.002 from 5).
pub fn t_975(dof: f64) -> f64 {
    const TABLE: [f64; 4] = [12.706, 4.303, 3.182, 2.776];
    if dof < 5.0 {
        let i = (dof.floor().max(1.0) as usize) - 1;
        return TABLE[i.min(3)];
    }
    let z: f64 = 1.959_964;
    let (z3, z5, z7, z9) = (z.powi(3), z.powi(5), z.powi(7), z.powi(9));
    z + (z3 + z) / (4.0 * dof)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * dof.powi(2))
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * dof.powi(3))
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / (92160.0 * dof.powi(4))
}

#[cfg(test)]
mod tests;
