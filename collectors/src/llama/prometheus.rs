//! `/metrics`: Prometheus text exposition, parsed with `nom-openmetrics`, mapped by name.
//!
//! llama-server prints values with C++ `ostream` defaults (6 significant digits), so big counters
//! arrive as `1.23457e+06`; they parse as f64 and carry that resolution. Every metric is
//! optional: the set differs between llama.cpp versions, so each is looked up by name.

use crate::model::LlamaMetrics;

const PREFIX: &str = "llamacpp:";

/// Parses a `/metrics` body. Fails (with the line where parsing stopped) on anything that is not
/// Prometheus text, and on text that has no `llamacpp:` metric at all.
pub fn parse(text: &str) -> Result<LlamaMetrics, String> {
    // The parser wants every sample line terminated by a newline.
    let owned;
    let text = if text.ends_with('\n') {
        text
    } else {
        owned = format!("{text}\n");
        &owned
    };
    // Family by family, so that an error can say on which line the text stopped making sense.
    let mut families = Vec::new();
    let mut rest = text;
    while !rest.trim().is_empty() {
        match nom_openmetrics::parser::family(rest) {
            Ok((after, family)) => {
                families.push(family);
                rest = after;
            }
            Err(_) => {
                let line_no = text[..text.len() - rest.len()].matches('\n').count() + 1;
                return Err(format!(
                    "not Prometheus text: line {line_no}: {}",
                    super::http::excerpt(rest)
                ));
            }
        }
    }
    let mut metrics = LlamaMetrics::default();
    let mut per_position: Vec<(usize, f64)> = Vec::new();
    let mut known = 0;
    for sample in families.iter().flat_map(|f| f.samples.iter()) {
        let Some(name) = sample.name().strip_prefix(PREFIX) else { continue };
        let value = Some(sample.number());
        let field = match name {
            "prompt_tokens_total" => &mut metrics.prompt_tokens_total,
            "prompt_tokens_cached_total" => &mut metrics.prompt_tokens_cached_total,
            "prompt_seconds_total" => &mut metrics.prompt_seconds_total,
            "tokens_predicted_total" => &mut metrics.tokens_predicted_total,
            "tokens_predicted_seconds_total" => &mut metrics.tokens_predicted_seconds_total,
            "n_decode_total" => &mut metrics.n_decode_total,
            "n_tokens_max" => &mut metrics.n_tokens_max,
            "spec_decode_num_draft_tokens_total" => &mut metrics.spec_draft_tokens_total,
            "spec_decode_num_accepted_tokens_total" => &mut metrics.spec_accepted_tokens_total,
            "spec_decode_num_drafts_total" => &mut metrics.spec_drafts_total,
            "prompt_tokens_seconds" => &mut metrics.prompt_tokens_per_s_gauge,
            "predicted_tokens_seconds" => &mut metrics.predicted_tokens_per_s_gauge,
            "requests_processing" => &mut metrics.requests_processing,
            "requests_deferred" => &mut metrics.requests_deferred,
            "n_busy_slots_per_decode" => &mut metrics.busy_slots_per_decode_avg,
            "spec_decode_num_accepted_tokens_per_pos_total" => {
                let position = sample
                    .labels()
                    .iter()
                    .find(|l| l.name == "position")
                    .and_then(|l| l.value.parse::<usize>().ok());
                if let Some(position) = position {
                    per_position.push((position, sample.number()));
                    known += 1;
                }
                continue;
            }
            _ => continue, // a metric of another llama.cpp version
        };
        *field = value;
        known += 1;
    }
    if known == 0 {
        return Err("no llamacpp: metrics in the body".into());
    }
    per_position.sort_by_key(|(position, _)| *position);
    // Positions are 0..n_max-1; a gap would misplace the values, so keep only a clean run.
    if per_position.iter().enumerate().all(|(i, (p, _))| i == *p) {
        metrics.spec_accepted_per_position_total =
            per_position.into_iter().map(|(_, v)| v).collect();
    }
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llama::test_capture::capture;

    #[test]
    fn parses_the_speculative_capture_in_full() {
        let reply = capture("b-speculative/metrics_3_final.txt");
        let m = parse(&reply.body).unwrap();
        assert_eq!(m.prompt_tokens_total, Some(154.0));
        assert_eq!(m.prompt_tokens_cached_total, Some(45.0));
        assert_eq!(m.prompt_seconds_total, Some(0.127207));
        assert_eq!(m.tokens_predicted_total, Some(2112.0));
        assert_eq!(m.tokens_predicted_seconds_total, Some(25.7968));
        assert_eq!(m.n_decode_total, Some(586.0));
        assert_eq!(m.n_tokens_max, Some(1051.0));
        assert_eq!(m.spec_draft_tokens_total, Some(3427.0));
        assert_eq!(m.spec_accepted_tokens_total, Some(1246.0));
        assert_eq!(m.spec_drafts_total, Some(859.0));
        assert_eq!(m.prompt_tokens_per_s_gauge, Some(0.0), "0 is a reading");
        assert_eq!(m.requests_processing, Some(0.0));
        assert_eq!(m.requests_deferred, Some(0.0));
        assert_eq!(m.busy_slots_per_decode_avg, Some(1.47782));
        assert_eq!(m.spec_accepted_per_position_total, [489.0, 347.0, 238.0, 172.0]);
        // Σ per position = accepted total (spec 2.2).
        let sum: f64 = m.spec_accepted_per_position_total.iter().sum();
        assert_eq!(Some(sum), m.spec_accepted_tokens_total);
        assert_eq!(reply.process_start_us, Some(1650065923));
    }

    #[test]
    fn without_a_draft_the_spec_counters_are_zero_and_per_position_is_absent() {
        let m = parse(&capture("a-target-parallel2/metrics_3_final.txt").body).unwrap();
        assert_eq!(m.spec_draft_tokens_total, Some(0.0));
        assert!(m.spec_accepted_per_position_total.is_empty());
        assert!(m.tokens_predicted_total.unwrap() > 0.0);
    }

    #[test]
    fn parses_every_metrics_capture() {
        for path in [
            "a-target-parallel2/metrics_0_startup.txt",
            "a-target-parallel2/metrics_1_after_completion.txt",
            "a-target-parallel2/metrics_2_immediate_rescrape.txt",
            "d-router/metrics_model_param.txt",
            "e-api-key/metrics_with_key.txt",
            "g-extras/metrics_while_sleeping_1.txt",
        ] {
            let m = parse(&capture(path).body).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(m.tokens_predicted_total.is_some(), "{path}");
            assert!(m.busy_slots_per_decode_avg.is_some(), "{path}");
        }
        // The gauge window resets per scrape: 1 ms apart, the rate is gone, counters equal.
        let first = parse(&capture("a-target-parallel2/metrics_1_after_completion.txt").body);
        let again = parse(&capture("a-target-parallel2/metrics_2_immediate_rescrape.txt").body);
        let (first, again) = (first.unwrap(), again.unwrap());
        assert!(first.predicted_tokens_per_s_gauge.unwrap() > 0.0);
        assert_eq!(again.predicted_tokens_per_s_gauge, Some(0.0));
        assert_eq!(first.tokens_predicted_total, again.tokens_predicted_total);
    }

    #[test]
    fn scientific_notation_parses() {
        let text = "# TYPE llamacpp:tokens_predicted_total counter\n\
                    llamacpp:tokens_predicted_total 1.23457e+06\n\
                    llamacpp:n_decode_total 2e+06\n\
                    llamacpp:prompt_seconds_total 3.5e-05";
        let m = parse(text).unwrap();
        assert_eq!(m.tokens_predicted_total, Some(1_234_570.0));
        assert_eq!(m.n_decode_total, Some(2_000_000.0));
        assert_eq!(m.prompt_seconds_total, Some(0.000035));
    }

    #[test]
    fn garbage_is_an_error_naming_the_line() {
        let err = parse("llamacpp:tokens_predicted_total 12\n<html>oops</html>\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(parse("").is_err());
        let err = parse("other_metric 1\n").unwrap_err();
        assert!(err.contains("no llamacpp"), "{err}");
        // A JSON error body where text was expected.
        assert!(parse(&capture("c-no-metrics/metrics_without_flag.txt").body).is_err());
    }
}
