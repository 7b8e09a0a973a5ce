//! One streamed `/completion` request: time to first token, gaps between tokens, and the
//! server's own counts from the final event.
//!
//! SSE events are not tokens: a token whose text is an incomplete UTF-8 sequence gets no event
//! of its own, so `tokens_predicted` can jump by several between events. Tokens are counted from
//! `tokens_predicted` and the final `timings`, and each gap between events is spread over the
//! tokens it delivered.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// What one finished request measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub ttft: Option<Duration>,
    /// (gap between two events in µs, tokens that event delivered).
    pub gaps_us: Vec<(u64, u64)>,
    pub tokens_predicted: u64,
    pub timings: Timings,
}

/// The final event's `timings` (llama-server's own measurements).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Timings {
    #[serde(default)]
    pub cache_n: u64,
    #[serde(default)]
    pub prompt_n: u64,
    #[serde(default)]
    pub prompt_ms: f64,
    #[serde(default)]
    pub predicted_n: u64,
    #[serde(default)]
    pub predicted_ms: f64,
    pub predicted_per_second: Option<f64>,
    /// Present only when the request drafted tokens.
    pub draft_n: Option<u64>,
    pub draft_n_accepted: Option<u64>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    stop: bool,
    tokens_predicted: Option<u64>,
    timings: Option<Timings>,
}

/// The parts of a request the generator varies.
pub struct Request<'a> {
    pub url: &'a str,
    pub api_key: Option<&'a str>,
    pub prompt_tokens: &'a [i64],
    pub max_tokens: u32,
}

/// Sends one streamed completion and reads it to its final event.
pub fn run(agent: &ureq::Agent, request: &Request) -> Result<Outcome, String> {
    let url = format!("{}/completion", request.url);
    let body = serde_json::json!({
        "prompt": request.prompt_tokens,
        "n_predict": request.max_tokens,
        // Fixed lengths even from models that would stop early (random tiny ones do).
        "ignore_eos": true,
        "temperature": 0.0,
        "stream": true,
    })
    .to_string();
    let mut call = agent.post(&url).header("Content-Type", "application/json");
    if let Some(key) = request.api_key {
        call = call.header("Authorization", format!("Bearer {key}"));
    }
    let started = Instant::now();
    let mut response = call.send(body.as_str()).map_err(|e| format!("POST {url}: {e}"))?;
    let status = response.status().as_u16();
    if status != 200 {
        let text = response.body_mut().read_to_string().unwrap_or_default();
        return Err(format!("POST {url}: HTTP {status}: {}", text.trim()));
    }
    read_events(BufReader::new(response.into_body().into_reader()), started)
        .map_err(|e| format!("POST {url}: {e}"))
}

/// Reads SSE lines until the event with `stop: true`.
pub fn read_events(reader: impl BufRead, started: Instant) -> Result<Outcome, String> {
    let mut outcome = Outcome::default();
    let mut tokens_seen = 0;
    let mut last_event = started;
    for line in reader.lines() {
        let line = line.map_err(|e| format!("stream broken: {e}"))?;
        let Some(data) = line.strip_prefix("data: ") else { continue };
        if data.trim() == "[DONE]" {
            break;
        }
        let event: Event = serde_json::from_str(data).map_err(|e| {
            format!("bad event ({e}): {}", data.chars().take(80).collect::<String>())
        })?;
        let now = Instant::now();
        if event.stop {
            let timings = event.timings.unwrap_or_default();
            outcome.tokens_predicted = event.tokens_predicted.unwrap_or(timings.predicted_n);
            outcome.timings = timings;
            return Ok(outcome);
        }
        let Some(tokens) = event.tokens_predicted else { continue };
        let new_tokens = tokens.saturating_sub(tokens_seen);
        if new_tokens == 0 {
            continue;
        }
        if tokens_seen == 0 {
            outcome.ttft = Some(now - started);
        } else {
            let gap_us = u64::try_from((now - last_event).as_micros()).unwrap_or(u64::MAX);
            outcome.gaps_us.push((gap_us / new_tokens, new_tokens));
        }
        tokens_seen = tokens;
        last_event = now;
    }
    Err("the stream ended without a final event".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> String {
        let path = format!("{}/fixtures/llama-server/{rel}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap()
    }

    /// The captured stream, without its receive-time prefixes and omitted-lines marker.
    fn sse_lines(rel: &str) -> String {
        fixture(rel)
            .lines()
            .filter_map(|l| l.split_once("] ").map(|(_, rest)| rest))
            .filter(|l| l.starts_with("data: "))
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    #[test]
    fn counts_tokens_from_the_server_not_from_events() {
        let text = sse_lines("b-speculative/completion_stream.sse.txt");
        let outcome = read_events(text.as_bytes(), Instant::now()).unwrap();
        // 9 events kept in the capture, 64 tokens by the server's count.
        assert_eq!(outcome.tokens_predicted, 64);
        assert!(outcome.ttft.is_some());
        let timings = &outcome.timings;
        assert_eq!(timings.predicted_n, 64);
        assert_eq!(timings.draft_n, Some(95));
        assert_eq!(timings.draft_n_accepted, Some(39));
        // Events 6 → 63 are one gap in the trimmed capture: spread over 57 tokens.
        let tokens_in_gaps: u64 = outcome.gaps_us.iter().map(|(_, n)| n).sum();
        assert_eq!(tokens_in_gaps, 63);
    }

    #[test]
    fn a_stream_without_a_final_event_is_an_error() {
        let text = "data: {\"tokens_predicted\":1,\"stop\":false}\n\n";
        assert!(read_events(text.as_bytes(), Instant::now()).unwrap_err().contains("final"));
        let garbage = "data: <html>\n";
        assert!(read_events(garbage.as_bytes(), Instant::now()).unwrap_err().contains("bad event"));
    }

    #[test]
    fn draft_fields_are_present_only_with_speculation() {
        let timings = |rel: &str| {
            let text = fixture(rel);
            let event: Event = serde_json::from_str(&text[text.find("\n{").unwrap()..]).unwrap();
            assert!(event.stop);
            event.timings.unwrap()
        };
        let plain = timings("a-target-parallel2/completion_nonstream.txt");
        assert_eq!(plain.draft_n, None);
        assert!(plain.predicted_per_second.unwrap() > 0.0);
        let spec = timings("b-speculative/completion_nonstream.txt");
        assert_eq!((spec.draft_n, spec.draft_n_accepted), (Some(214), Some(72)));
        // predicted_per_second = (predicted_n − 1) / predicted_ms: the first token is free.
        let rate = (spec.predicted_n - 1) as f64 / spec.predicted_ms * 1000.0;
        assert!((rate - spec.predicted_per_second.unwrap()).abs() < 0.01);
    }
}
