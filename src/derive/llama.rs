//! Rates of each llama-server, from the deltas of its counters between two readings.
//!
//! Never from the server's throughput gauges: every `/metrics` scrape (by anyone) resets their
//! window. Counters that move only when a request ends (`tokens_predicted_total`, the
//! `spec_decode_*` family) give lumpy rates, so the live decode rate uses the collector's
//! `generated_tokens` (the counter plus the busy slots' `n_decoded`, read consistently).
//!
//! A restart (counters going down, or a new `Process-Start-Time-Unix`) gives no rates for that
//! interval rather than a negative one or a spike.

use halo_collectors::Snapshot;
use halo_collectors::model::{LlamaMetrics, LlamaRates, LlamaServer};

pub fn derive(previous: Option<&Snapshot>, current: &mut Snapshot) {
    let fallback_dt_s = previous.map(|p| current.mono_ms.saturating_sub(p.mono_ms) as f64 / 1000.0);
    current.derived.llama = current
        .llama
        .iter()
        .map(|server| {
            let before = previous.and_then(|p| p.llama.iter().find(|s| s.key() == server.key()));
            let rates_before = previous.and_then(|p| {
                p.derived
                    .llama
                    .iter()
                    .find(|r| (r.url.as_str(), r.model_id.as_deref()) == server.key())
            });
            rates(before, rates_before, server, fallback_dt_s)
        })
        .collect();
}

fn ratio(numerator: Option<f64>, denominator: Option<f64>) -> Option<f64> {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d > 0.0 && n >= 0.0 => Some(n / d),
        _ => None,
    }
}

/// `now − before` of one field, `None` when either is unknown.
fn delta(before: Option<f64>, now: Option<f64>) -> Option<f64> {
    Some(now? - before?)
}

/// Figures that need one reading only.
fn instant_figures(server: &LlamaServer) -> LlamaRates {
    let metrics = server.metrics.as_ref();
    let busy = server.slots.as_ref().map(|slots| slots.iter().filter(|s| s.is_processing));
    let m = |f: fn(&LlamaMetrics) -> Option<f64>| metrics.and_then(f);
    let drafts = m(|m| m.spec_drafts_total);
    LlamaRates {
        url: server.url.clone(),
        model_id: server.model_id.clone(),
        generated_tokens_total: server.generated_tokens,
        busy_slots: busy.clone().map(|b| b.count() as u32),
        busy_sequence_tokens: busy.map(|b| b.filter_map(|s| s.sequence_tokens).sum()),
        spec_active: server
            .slots
            .as_ref()
            .map(|slots| slots.iter().any(|s| s.speculative == Some(true))),
        spec_acceptance_cumulative: ratio(
            m(|m| m.spec_accepted_tokens_total),
            m(|m| m.spec_draft_tokens_total),
        ),
        spec_mean_accept_len_cumulative: ratio(m(|m| m.spec_accepted_tokens_total), drafts)
            .map(|a| 1.0 + a),
        spec_acceptance_per_position: metrics
            .filter(|_| drafts.is_some_and(|d| d > 0.0))
            .map(|m| {
                m.spec_accepted_per_position_total
                    .iter()
                    .filter_map(|&at| ratio(Some(at), drafts))
                    .collect()
            })
            .unwrap_or_default(),
        ..LlamaRates::default()
    }
}

fn restarted(before: &LlamaServer, now: &LlamaServer) -> bool {
    if let (Some(a), Some(b)) = (before.process_start_us, now.process_start_us)
        && a != b
    {
        return true;
    }
    let (Some(a), Some(b)) = (&before.metrics, &now.metrics) else { return false };
    let went_down =
        |f: fn(&LlamaMetrics) -> Option<f64>| matches!((f(a), f(b)), (Some(x), Some(y)) if y < x);
    went_down(|m| m.tokens_predicted_total)
        || went_down(|m| m.n_decode_total)
        || went_down(|m| m.prompt_tokens_total)
        || went_down(|m| m.spec_draft_tokens_total)
}

fn rates(
    before: Option<&LlamaServer>,
    rates_before: Option<&LlamaRates>,
    now: &LlamaServer,
    fallback_dt_s: Option<f64>,
) -> LlamaRates {
    let mut out = instant_figures(now);
    let Some(before) = before else { return out };
    // The same reading again (the source had nothing newer): the same rates as before.
    if now.read_at_ms.is_some() && now.read_at_ms == before.read_at_ms {
        return rates_before.cloned().unwrap_or(out);
    }
    let dt_s = match (before.read_at_ms, now.read_at_ms) {
        (Some(a), Some(b)) if b > a => Some((b - a) / 1000.0),
        _ => fallback_dt_s.filter(|dt| *dt > 0.0),
    };
    out.interval_s = dt_s;
    if restarted(before, now) {
        out.restarted = true;
        return out;
    }
    let (Some(b), Some(n)) = (&before.metrics, &now.metrics) else {
        return out;
    };
    let d = |f: fn(&LlamaMetrics) -> Option<f64>| delta(f(b), f(n));
    let per_s = |x: Option<f64>| ratio(x, dt_s);

    out.prefill_tok_s = per_s(d(|m| m.prompt_tokens_total));
    out.prefill_tok_s_busy = ratio(d(|m| m.prompt_tokens_total), d(|m| m.prompt_seconds_total));
    out.decode_tok_s = per_s(delta(before.generated_tokens, now.generated_tokens));
    out.decode_tok_s_per_slot_finished =
        ratio(d(|m| m.tokens_predicted_total), d(|m| m.tokens_predicted_seconds_total));
    out.decode_steps_s = per_s(d(|m| m.n_decode_total));
    // The gauge is a cumulative average; times n_decode it is a cumulative sum of busy slots.
    let busy_slot_sum = |m: &LlamaMetrics| Some(m.busy_slots_per_decode_avg? * m.n_decode_total?);
    out.busy_slots_per_decode =
        ratio(delta(busy_slot_sum(b), busy_slot_sum(n)), d(|m| m.n_decode_total));
    out.spec_acceptance =
        ratio(d(|m| m.spec_accepted_tokens_total), d(|m| m.spec_draft_tokens_total));
    out.spec_mean_accept_len =
        ratio(d(|m| m.spec_accepted_tokens_total), d(|m| m.spec_drafts_total)).map(|a| 1.0 + a);
    out.spec_draft_tok_s = per_s(d(|m| m.spec_draft_tokens_total));
    out
}

#[cfg(test)]
#[path = "llama_series_tests.rs"]
mod series_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use halo_collectors::model::LlamaSlot;

    fn server(read_at_ms: f64, metrics: LlamaMetrics, slots: Vec<LlamaSlot>) -> LlamaServer {
        let generated_tokens = halo_collectors::model::generated_tokens(&metrics, &slots);
        LlamaServer {
            url: "http://127.0.0.1:8080".into(),
            read_at_ms: Some(read_at_ms),
            process_start_us: Some(1_626_633_750),
            metrics: Some(metrics),
            slots: Some(slots),
            generated_tokens,
            ..LlamaServer::default()
        }
    }

    fn snap(seq: u64, servers: Vec<LlamaServer>) -> Snapshot {
        let mut s = Snapshot::new(seq, 0, seq * 1000, 1000);
        s.llama = servers;
        s
    }

    fn busy(id: u32, n_decoded: u64, speculative: bool) -> LlamaSlot {
        LlamaSlot {
            id,
            is_processing: true,
            n_decoded: Some(n_decoded),
            sequence_tokens: Some(30 + n_decoded),
            speculative: Some(speculative),
            ..LlamaSlot::default()
        }
    }

    fn idle(id: u32) -> LlamaSlot {
        LlamaSlot { id, n_decoded: Some(0), speculative: Some(true), ..LlamaSlot::default() }
    }

    fn counters(tokens: f64, seconds: f64, n_decode: f64) -> LlamaMetrics {
        LlamaMetrics {
            tokens_predicted_total: Some(tokens),
            tokens_predicted_seconds_total: Some(seconds),
            n_decode_total: Some(n_decode),
            prompt_tokens_total: Some(100.0),
            prompt_seconds_total: Some(0.1),
            ..LlamaMetrics::default()
        }
    }

    /// Derives a series of readings in order, as the hub does.
    fn series(readings: Vec<LlamaServer>) -> Vec<LlamaRates> {
        let mut previous: Option<Snapshot> = None;
        let mut out = Vec::new();
        for (seq, server) in readings.into_iter().enumerate() {
            let mut current = snap(seq as u64, vec![server]);
            derive(previous.as_ref(), &mut current);
            out.push(current.derived.llama[0].clone());
            previous = Some(current);
        }
        out
    }

    #[test]
    fn live_decode_rate_stays_smooth_when_a_request_ends() {
        let rates = series(vec![
            server(0.0, counters(320.0, 1.7, 131.0), vec![busy(0, 100, false), busy(1, 50, false)]),
            server(
                1000.0,
                counters(320.0, 1.7, 231.0),
                vec![busy(0, 200, false), busy(1, 150, false)],
            ),
            // Slot 0's request (250 tokens) ended: the counter jumped by 250, its n_decoded went
            // to 0; slot 1 went on. 150 new tokens in all, not +250 or −200.
            server(2000.0, counters(570.0, 4.2, 331.0), vec![idle(0), busy(1, 250, false)]),
        ]);
        assert_eq!(rates[0].decode_tok_s, None, "one reading gives no rate");
        assert_eq!(rates[0].generated_tokens_total, Some(470.0));
        assert_eq!(rates[1].decode_tok_s, Some(200.0));
        assert_eq!(rates[2].decode_tok_s, Some(150.0));
        assert_eq!(rates[2].generated_tokens_total, Some(820.0));
        assert_eq!(rates[1].decode_tok_s_per_slot_finished, None, "no request ended");
        assert_eq!(rates[2].decode_tok_s_per_slot_finished, Some(100.0));
        assert_eq!(rates[2].decode_steps_s, Some(100.0));
        assert_eq!(rates[2].busy_slots, Some(1));
        assert_eq!(rates[2].busy_sequence_tokens, Some(280));
        assert_eq!(rates[1].prefill_tok_s, Some(0.0), "0 is a reading");
    }

    #[test]
    fn a_restart_gives_no_rates() {
        let mut restarted = server(2000.0, counters(10.0, 0.1, 5.0), vec![busy(0, 3, false)]);
        restarted.process_start_us = Some(1_700_000_000);
        let mut same_start = server(3000.0, counters(5.0, 0.05, 2.0), vec![]);
        same_start.process_start_us = Some(1_700_000_000);
        let rates = series(vec![
            server(0.0, counters(900.0, 9.0, 800.0), vec![busy(0, 10, false)]),
            server(1000.0, counters(900.0, 9.0, 900.0), vec![busy(0, 110, false)]),
            restarted,
            // Counters that go down without a header change are a restart too.
            same_start,
        ]);
        assert!(!rates[1].restarted);
        for r in &rates[2..] {
            assert!(r.restarted);
            assert_eq!(r.decode_tok_s, None);
            assert_eq!(r.decode_steps_s, None);
        }
    }

    #[test]
    fn the_same_reading_twice_keeps_the_rates() {
        let a = server(0.0, counters(0.0, 0.0, 0.0), vec![busy(0, 0, false)]);
        let b = server(500.0, counters(0.0, 0.0, 50.0), vec![busy(0, 50, false)]);
        let rates = series(vec![a, b.clone(), b]);
        assert_eq!(rates[1].decode_tok_s, Some(100.0));
        assert_eq!(rates[2], rates[1]);
    }

    #[test]
    fn speculative_figures_from_the_counters() {
        // b-speculative/metrics_timeseries.tsv rows at t=9.0 and t=10.0 (one request ended).
        let spec = |draft: f64, acc: f64, drafts: f64, pos: [f64; 4]| LlamaMetrics {
            spec_draft_tokens_total: Some(draft),
            spec_accepted_tokens_total: Some(acc),
            spec_drafts_total: Some(drafts),
            spec_accepted_per_position_total: pos.to_vec(),
            ..counters(1088.0, 11.3273, 425.0)
        };
        let rates = series(vec![
            server(0.0, spec(499.0, 189.0, 126.0, [76.0, 48.0, 38.0, 27.0]), vec![idle(0)]),
            server(1000.0, spec(1613.0, 677.0, 405.0, [264.0, 187.0, 137.0, 89.0]), vec![idle(0)]),
        ]);
        let r = &rates[1];
        assert_eq!(r.spec_active, Some(true));
        assert_eq!(r.spec_acceptance, Some(488.0 / 1114.0));
        assert_eq!(r.spec_mean_accept_len, Some(1.0 + 488.0 / 279.0));
        assert_eq!(r.spec_draft_tok_s, Some(1114.0));
        assert_eq!(r.spec_acceptance_cumulative, Some(677.0 / 1613.0));
        assert_eq!(r.spec_mean_accept_len_cumulative, Some(1.0 + 677.0 / 405.0));
        let per_pos: Vec<f64> = [264.0, 187.0, 137.0, 89.0].iter().map(|p| p / 405.0).collect();
        assert_eq!(r.spec_acceptance_per_position, per_pos);
        // No draft at all: acceptance is unknown, not 0.
        let none = series(vec![server(0.0, counters(1.0, 1.0, 1.0), vec![])]);
        assert_eq!(none[0].spec_acceptance_cumulative, None);
        assert_eq!(none[0].spec_active, Some(false));
    }

    #[test]
    fn busy_slots_per_decode_over_the_interval() {
        // a-target-parallel2 rows t=9.0 and t=10.0: n_decode 1324 → 1353, avg 1.75151 → 1.75018.
        let with_avg = |n: f64, avg: f64| LlamaMetrics {
            busy_slots_per_decode_avg: Some(avg),
            ..counters(1088.0, 7.99, n)
        };
        let rates = series(vec![
            server(0.0, with_avg(1324.0, 1.75151), vec![]),
            server(1000.0, with_avg(1353.0, 1.75018), vec![]),
        ]);
        let per_decode = rates[1].busy_slots_per_decode.unwrap();
        // (1.75018·1353 − 1.75151·1324) / 29 ≈ 1.69: fewer busy slots as requests finished.
        assert!((per_decode - 1.689).abs() < 0.01, "{per_decode}");
    }

    #[test]
    fn inconsistent_or_missing_readings_give_no_rate_never_a_negative_one() {
        let mut lost = server(1000.0, counters(320.0, 1.7, 200.0), vec![idle(0)]);
        lost.generated_tokens = None; // the collector could not pair /metrics and /slots
        let mut no_metrics = server(2000.0, counters(0.0, 0.0, 0.0), vec![busy(0, 5, false)]);
        no_metrics.metrics = None;
        no_metrics.generated_tokens = None;
        let rates = series(vec![
            server(0.0, counters(320.0, 1.7, 131.0), vec![busy(0, 100, false)]),
            lost,
            no_metrics,
        ]);
        assert_eq!(rates[1].decode_tok_s, None);
        assert_eq!(rates[1].decode_steps_s, Some(69.0));
        assert_eq!(rates[2].decode_tok_s, None);
        assert_eq!(rates[2].decode_steps_s, None);
        assert_eq!(rates[2].busy_slots, Some(1));
    }
}
