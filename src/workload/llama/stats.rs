//! What the load generator measured so far: counts from the server's answers and latency
//! histograms (hdrhistogram, µs, 3 significant digits).

use std::time::Instant;

use halo_collectors::model::{LatencyBucket, LlamaLoadReading, Percentiles};
use hdrhistogram::Histogram;

use super::stream::Outcome;

pub struct LoadStats {
    started: Instant,
    pub requests_ok: u64,
    pub requests_failed: u64,
    pub requests_in_flight: u64,
    pub tokens_predicted: u64,
    pub prompt_tokens: u64,
    pub draft_tokens: u64,
    pub draft_accepted: u64,
    /// Σ timings.predicted_n and Σ timings.predicted_ms: the server's own decode speed.
    pub predicted_n: u64,
    pub predicted_ms: f64,
    ttft_us: Histogram<u64>,
    inter_token_us: Histogram<u64>,
    pub last_error: Option<String>,
}

fn histogram() -> Histogram<u64> {
    // Constant, valid bounds (1 µs .. 1 h, 3 significant digits): creation cannot fail.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

impl LoadStats {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            requests_ok: 0,
            requests_failed: 0,
            requests_in_flight: 0,
            tokens_predicted: 0,
            prompt_tokens: 0,
            draft_tokens: 0,
            draft_accepted: 0,
            predicted_n: 0,
            predicted_ms: 0.0,
            ttft_us: histogram(),
            inter_token_us: histogram(),
            last_error: None,
        }
    }

    pub fn add(&mut self, outcome: &Outcome) {
        self.requests_ok += 1;
        self.tokens_predicted += outcome.tokens_predicted;
        let t = &outcome.timings;
        self.prompt_tokens += t.prompt_n + t.cache_n;
        self.draft_tokens += t.draft_n.unwrap_or(0);
        self.draft_accepted += t.draft_n_accepted.unwrap_or(0);
        self.predicted_n += t.predicted_n;
        self.predicted_ms += t.predicted_ms;
        if let Some(ttft) = outcome.ttft {
            self.ttft_us.saturating_record(u64::try_from(ttft.as_micros()).unwrap_or(u64::MAX));
        }
        for &(gap_us, tokens) in &outcome.gaps_us {
            self.inter_token_us.saturating_record_n(gap_us.max(1), tokens);
        }
    }

    pub fn elapsed_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub fn reading(&self, url: &str, preset: &str, concurrency: u32) -> LlamaLoadReading {
        let elapsed_s = self.elapsed_s();
        LlamaLoadReading {
            url: url.to_string(),
            preset: preset.to_string(),
            concurrency,
            elapsed_s,
            requests_ok: self.requests_ok,
            requests_failed: self.requests_failed,
            requests_in_flight: self.requests_in_flight,
            tokens_predicted: self.tokens_predicted,
            prompt_tokens: self.prompt_tokens,
            draft_tokens: self.draft_tokens,
            draft_accepted: self.draft_accepted,
            server_decode_tok_s: (self.predicted_ms > 0.0).then(|| {
                self.predicted_n.saturating_sub(self.requests_ok) as f64 / self.predicted_ms
                    * 1000.0
            }),
            aggregate_tok_s: (elapsed_s > 0.0).then(|| self.tokens_predicted as f64 / elapsed_s),
            ttft_ms: percentiles_ms(&self.ttft_us),
            inter_token_ms: percentiles_ms(&self.inter_token_us),
            last_error: self.last_error.clone(),
        }
    }
}

impl Default for LoadStats {
    fn default() -> Self {
        Self::new()
    }
}

fn percentiles_ms(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    let ms = |us: u64| Some(us as f64 / 1000.0);
    Percentiles {
        count: h.len(),
        p50: ms(h.value_at_quantile(0.50)),
        p90: ms(h.value_at_quantile(0.90)),
        p99: ms(h.value_at_quantile(0.99)),
        max: ms(h.max()),
        buckets: log_buckets(h),
    }
}

/// The histogram in buckets whose bounds double from 16 µs, without the empty ones at either end.
fn log_buckets(h: &Histogram<u64>) -> Vec<LatencyBucket> {
    let buckets: Vec<LatencyBucket> = h
        .iter_log(16, 2.0)
        .map(|v| LatencyBucket {
            upper_ms: v.value_iterated_to() as f64 / 1000.0,
            count: v.count_since_last_iteration(),
        })
        .collect();
    let first = buckets.iter().position(|b| b.count > 0).unwrap_or(buckets.len());
    let last = buckets.iter().rposition(|b| b.count > 0).map_or(first, |i| i + 1);
    buckets[first..last.max(first)].to_vec()
}

/// A few lines for people, printed when a run ends.
pub fn report(r: &LlamaLoadReading) -> String {
    let f = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.1}"));
    let mut out = format!(
        "load {} ×{} on {}: {} requests ok, {} failed, {} tokens in {:.1} s = {} tok/s\n",
        r.preset,
        r.concurrency,
        r.url,
        r.requests_ok,
        r.requests_failed,
        r.tokens_predicted,
        r.elapsed_s,
        f(r.aggregate_tok_s),
    );
    out += &format!(
        "  ttft ms        p50 {} p90 {} p99 {} ({} requests)\n",
        f(r.ttft_ms.p50),
        f(r.ttft_ms.p90),
        f(r.ttft_ms.p99),
        r.ttft_ms.count
    );
    out += &format!(
        "  inter-token ms p50 {} p90 {} p99 {} ({} tokens)\n",
        f(r.inter_token_ms.p50),
        f(r.inter_token_ms.p90),
        f(r.inter_token_ms.p99),
        r.inter_token_ms.count
    );
    if r.draft_tokens > 0 {
        out += &format!(
            "  speculative    {} of {} draft tokens accepted ({:.1} %)\n",
            r.draft_accepted,
            r.draft_tokens,
            r.draft_accepted as f64 / r.draft_tokens as f64 * 100.0
        );
    }
    if let Some(e) = &r.last_error {
        out += &format!("  last error: {e}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_double_and_hold_every_value() {
        let mut h = histogram();
        for (us, n) in [(70, 10), (45_000, 5), (90_000, 1)] {
            h.record_n(us, n).unwrap();
        }
        let buckets = log_buckets(&h);
        assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), 16);
        assert!(buckets.first().unwrap().count == 10 && buckets.last().unwrap().count == 1);
        assert!(
            buckets.first().unwrap().upper_ms >= 0.070 && buckets.first().unwrap().upper_ms < 0.140
        );
        assert!(buckets.last().unwrap().upper_ms >= 90.0);
        for pair in buckets.windows(2) {
            let ratio = pair[1].upper_ms / pair[0].upper_ms;
            assert!((1.9..2.1).contains(&ratio), "{buckets:?}");
        }
        assert!(log_buckets(&histogram()).is_empty());
    }
}
