//! Decode-rate drift: how today's decode tok/s compares with the first minute of decoding, the
//! live counterpart of the soak verdict. `r` in the dashboard restarts the baseline.
//!
//! Only samples that decoded (rate above zero) count on either side: an idle stretch says
//! nothing about how fast the machine decodes, and would drag both means towards zero.

use crate::series::{Series, TimeWindow, mean};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriftSettings {
    /// Session time of decoding that forms the baseline, from the first decoding sample.
    pub baseline_ms: u64,
    /// The recent stretch compared with it.
    pub recent_ms: u64,
}

impl Default for DriftSettings {
    fn default() -> Self {
        Self { baseline_ms: 60_000, recent_ms: 30_000 }
    }
}

#[derive(Debug, Clone, Default)]
pub struct DriftBaseline {
    pub settings: DriftSettings,
    /// Session time of the first decoding sample of the baseline.
    start_ms: Option<u64>,
    /// Samples before this session time do not count (set by a reset).
    not_before_ms: u64,
    sum: f64,
    count: u32,
    complete: bool,
}

/// What the thermal pane shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Drift {
    /// No decoding seen since the start or the last reset.
    NoDecode,
    /// The baseline is still forming: `have_ms` of `need_ms`.
    Forming { have_ms: u64, need_ms: u64 },
    /// `percent` = (recent ÷ baseline − 1) × 100.
    Known { baseline_tok_s: f64, recent_tok_s: Option<f64>, percent: Option<f64> },
}

impl DriftBaseline {
    pub fn new(settings: DriftSettings) -> Self {
        Self { settings, ..Self::default() }
    }

    /// Feeds the decode rate of one snapshot.
    pub fn push(&mut self, mono_ms: u64, decode_tok_s: Option<f64>) {
        let Some(rate) = decode_tok_s.filter(|r| *r > 0.0) else { return };
        if self.complete || mono_ms < self.not_before_ms {
            return;
        }
        let start = *self.start_ms.get_or_insert(mono_ms);
        if mono_ms.saturating_sub(start) > self.settings.baseline_ms {
            self.complete = true;
            return;
        }
        self.sum += rate;
        self.count += 1;
    }

    /// Starts a new baseline with the first decoding sample after `mono_ms`.
    pub fn reset(&mut self, mono_ms: u64) {
        *self = Self { not_before_ms: mono_ms.saturating_add(1), ..Self::new(self.settings) };
    }

    /// The drift at the end of `decode`, whose values fed this baseline.
    pub fn drift(&self, decode: &Series, now_ms: u64) -> Drift {
        let Some(start) = self.start_ms else { return Drift::NoDecode };
        if !self.complete || self.count == 0 {
            let have_ms = now_ms.saturating_sub(start).min(self.settings.baseline_ms);
            return Drift::Forming { have_ms, need_ms: self.settings.baseline_ms };
        }
        let baseline = self.sum / f64::from(self.count);
        let recent_window = TimeWindow { end_ms: now_ms, span_ms: self.settings.recent_ms };
        let recent = mean(decode.in_window(recent_window).filter_map(|p| p.1).filter(|r| *r > 0.0));
        Drift::Known {
            baseline_tok_s: baseline,
            recent_tok_s: recent,
            percent: recent.map(|r| (r / baseline - 1.0) * 100.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(baseline: &mut DriftBaseline, series: &mut Series, t_s: u64, rate: Option<f64>) {
        series.push(t_s * 1000, rate);
        baseline.push(t_s * 1000, rate);
    }

    #[test]
    fn baseline_forms_over_decoding_samples_then_drift_compares_the_recent_mean() {
        let settings = DriftSettings { baseline_ms: 10_000, recent_ms: 5_000 };
        let mut b = DriftBaseline::new(settings);
        let mut s = Series::with_capacity(1000);
        assert_eq!(b.drift(&s, 0), Drift::NoDecode);
        feed(&mut b, &mut s, 0, Some(0.0));
        feed(&mut b, &mut s, 1, None);
        assert_eq!(b.drift(&s, 1000), Drift::NoDecode, "idle and gaps do not start a baseline");
        for t in 2..=12 {
            feed(&mut b, &mut s, t, Some(50.0));
        }
        assert_eq!(b.drift(&s, 12_000), Drift::Forming { have_ms: 10_000, need_ms: 10_000 });
        for t in 13..=40 {
            feed(&mut b, &mut s, t, Some(if t > 35 { 45.0 } else { 48.0 }));
        }
        feed(&mut b, &mut s, 41, Some(0.0));
        let Drift::Known { baseline_tok_s, recent_tok_s, percent } = b.drift(&s, 41_000) else {
            panic!("the baseline is complete")
        };
        assert_eq!(baseline_tok_s, 50.0);
        assert_eq!(recent_tok_s, Some(45.0), "the idle sample is left out");
        assert!((percent.unwrap() + 10.0).abs() < 1e-9);

        b.reset(41_000);
        assert_eq!(b.drift(&s, 41_000), Drift::NoDecode);
        feed(&mut b, &mut s, 42, Some(45.0));
        assert_eq!(b.drift(&s, 44_000), Drift::Forming { have_ms: 2000, need_ms: 10_000 });
    }
}
