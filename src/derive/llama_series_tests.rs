//! The derive step over the real 1 s series of a two-slot server (`metrics_timeseries.tsv` and
//! `slots_timeseries.tsv` of `fixtures/llama-server/`), paired the way the collector pairs its
//! reads: `/metrics`, `/slots`, `/metrics`, with a live total only when the counter did not
//! move in between.

use halo_collectors::Snapshot;
use halo_collectors::model::{LlamaMetrics, LlamaServer, LlamaSlot, generated_tokens};

use super::derive;

fn rows(rel: &str) -> Vec<std::collections::HashMap<String, String>> {
    let path = format!("{}/fixtures/llama-server/{rel}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .map(|l| {
            header.iter().map(|h| h.to_string()).zip(l.split('\t').map(String::from)).collect()
        })
        .collect()
}

fn metrics(row: &std::collections::HashMap<String, String>) -> (f64, LlamaMetrics) {
    let f = |name: &str| row.get(name).map(|v| v.parse::<f64>().unwrap());
    let per_pos = (0..)
        .map_while(|i| {
            f(&format!("spec_decode_num_accepted_tokens_per_pos_total{{position=\"{i}\"}}"))
        })
        .collect();
    let m = LlamaMetrics {
        prompt_tokens_total: f("prompt_tokens_total"),
        prompt_seconds_total: f("prompt_seconds_total"),
        tokens_predicted_total: f("tokens_predicted_total"),
        tokens_predicted_seconds_total: f("tokens_predicted_seconds_total"),
        n_decode_total: f("n_decode_total"),
        spec_draft_tokens_total: f("spec_decode_num_draft_tokens_total"),
        spec_accepted_tokens_total: f("spec_decode_num_accepted_tokens_total"),
        spec_drafts_total: f("spec_decode_num_drafts_total"),
        spec_accepted_per_position_total: per_pos,
        busy_slots_per_decode_avg: f("n_busy_slots_per_decode"),
        ..LlamaMetrics::default()
    };
    (f("t_rel").unwrap(), m)
}

/// The slot reads, grouped by time.
fn slot_reads(rel: &str) -> Vec<(f64, Vec<LlamaSlot>)> {
    let mut reads: Vec<(f64, Vec<LlamaSlot>)> = Vec::new();
    for row in rows(rel) {
        let num = |name: &str| row[name].parse::<i64>().unwrap();
        let t: f64 = row["t_rel"].parse().unwrap();
        let slot = LlamaSlot {
            id: num("slot") as u32,
            is_processing: row["is_processing"] == "True",
            id_task: Some(num("id_task")),
            n_decoded: Some(num("n_decoded") as u64),
            n_remain: Some(num("n_remain")),
            sequence_tokens: Some(num("n_prompt_tokens") as u64),
            ..LlamaSlot::default()
        };
        match reads.last_mut() {
            Some((last, slots)) if *last == t => slots.push(slot),
            _ => reads.push((t, vec![slot])),
        }
    }
    reads
}

/// Derived rates over the series, and the readings.
fn derive_series(scenario: &str) -> Vec<Snapshot> {
    let metrics: Vec<_> =
        rows(&format!("{scenario}/metrics_timeseries.tsv")).iter().map(metrics).collect();
    let mut snapshots: Vec<Snapshot> = Vec::new();
    for (seq, (t, slots)) in
        slot_reads(&format!("{scenario}/slots_timeseries.tsv")).into_iter().enumerate()
    {
        let before = metrics.iter().rfind(|(mt, _)| *mt < t).unwrap().1.clone();
        // The last slot read has no scrape after it; the server was idle by then, so the one
        // before stands for both.
        let after = metrics.iter().find(|(mt, _)| *mt > t).map_or(before.clone(), |m| m.1.clone());
        let consistent = before.tokens_predicted_total == after.tokens_predicted_total;
        let server = LlamaServer {
            url: "capture".into(),
            read_at_ms: Some(t * 1000.0),
            generated_tokens: if consistent { generated_tokens(&after, &slots) } else { None },
            metrics: Some(after),
            slots: Some(slots),
            ..LlamaServer::default()
        };
        let mut snapshot = Snapshot::new(seq as u64, 0, (t * 1000.0) as u64, 1000);
        snapshot.llama = vec![server];
        derive(snapshots.last(), &mut snapshot);
        snapshots.push(snapshot);
    }
    snapshots
}

#[test]
fn real_series_give_exact_totals_and_no_spikes() {
    // (scenario, tokens at the start, tokens at the end). Two slots of this model decode at
    // most ~260 tok/s each (llama-bench tg128 263); a request counted twice, or a dip and its
    // catch-up, would show as 700+ tok/s in one interval.
    for (scenario, first, last) in
        [("a-target-parallel2", 469.0, 2368.0), ("b-speculative", 424.0, 2112.0)]
    {
        let max_tok_s = 400.0;
        let series = derive_series(scenario);
        let rates: Vec<_> = series.iter().map(|s| s.derived.llama[0].clone()).collect();
        assert_eq!(rates[0].generated_tokens_total, Some(first), "{scenario}");
        assert_eq!(rates.last().unwrap().generated_tokens_total, Some(last), "{scenario}");
        let decode: Vec<f64> = rates.iter().filter_map(|r| r.decode_tok_s).collect();
        // Scrapes 1 s apart lose the pairs around each request end (the collector retries at
        // once instead); the rest have rates.
        assert!(decode.len() >= rates.len() / 2, "{scenario}: {decode:?}");
        for rate in &decode {
            assert!((0.0..max_tok_s).contains(rate), "{scenario}: {decode:?}");
        }
        // A request ended between two scrapes: that pair has no live total, never a dip.
        assert!(rates.iter().any(|r| r.generated_tokens_total.is_none()), "{scenario}");
        eprintln!("{scenario}: decode tok/s per interval {decode:.0?}");
    }
}

#[test]
fn real_speculative_series_per_position_shares_fall_with_position() {
    let series = derive_series("b-speculative");
    let r = &series.last().unwrap().derived.llama[0];
    // 489, 347, 238, 172 of 859 steps.
    let expected: Vec<f64> = [489.0, 347.0, 238.0, 172.0].iter().map(|a| a / 859.0).collect();
    assert_eq!(r.spec_acceptance_per_position, expected);
    assert_eq!(r.spec_acceptance_cumulative, Some(1246.0 / 3427.0));
}
