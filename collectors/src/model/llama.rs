//! What halo-top reads from llama.cpp's `llama-server`, and the load generator's own figures.
//!
//! Counters are kept raw (the server prints them as C++ doubles with 6 significant digits, so
//! they are `f64`); rates are derived from their deltas in the hub, never taken from the
//! server's windowed gauges, which every `/metrics` scrape resets.

use serde::{Deserialize, Serialize};

/// One serving llama-server: a `--llama URL`, or in router mode one loaded model behind it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlamaServer {
    /// The base URL as given with `--llama`.
    pub url: String,
    /// The URL is a router (`--models-dir`); this entry is one of its models.
    #[serde(default)]
    pub router: bool,
    /// Router mode: the model id this entry is for (`?model=ID&autoload=false`).
    #[serde(default)]
    pub model_id: Option<String>,
    /// When `/metrics` and `/slots` were read, in ms of a monotonic clock private to this
    /// halo-top process: live rates use its deltas rather than the snapshot's time.
    #[serde(default)]
    pub read_at_ms: Option<f64>,
    /// The `Process-Start-Time-Unix` header of `/metrics`. Despite its name it is
    /// CLOCK_MONOTONIC microseconds at server start, not a Unix time: only good for telling
    /// that the server restarted.
    #[serde(default)]
    pub process_start_us: Option<u64>,
    /// Restarts this halo-top saw (a new process start, or counters that went down since its
    /// previous reading), kept by the collector so that a restart during an outage counts too.
    #[serde(default)]
    pub restarts_seen: u64,
    #[serde(default)]
    pub props: Option<LlamaProps>,
    /// `None` when `/metrics` could not be read (see `issues`).
    #[serde(default)]
    pub metrics: Option<LlamaMetrics>,
    /// `None` when `/slots` was not read: disabled, failed, or skipped because the server sleeps
    /// (a GET /slots would wake it and reload the model).
    #[serde(default)]
    pub slots: Option<Vec<LlamaSlot>>,
    /// `tokens_predicted_total` plus the busy slots' `n_decoded`, read in one consistent pass
    /// (see [`generated_tokens`]); the counter alone while the server sleeps (no slot runs).
    /// `None` when either read failed or requests kept ending between the reads.
    #[serde(default)]
    pub generated_tokens: Option<f64>,
    /// `/v1/models` (or the router's `/models`).
    #[serde(default)]
    pub models: Vec<LlamaModelInfo>,
    /// Why parts of this reading are missing, e.g. `/metrics: HTTP 501 ... start it with
    /// --metrics`, or `sleeping: /slots not polled`.
    #[serde(default)]
    pub issues: Vec<String>,
}

impl LlamaServer {
    /// The key that matches an entry across snapshots.
    pub fn key(&self) -> (&str, Option<&str>) {
        (&self.url, self.model_id.as_deref())
    }
}

/// Tokens generated so far, exact at the time of the `/slots` read: the counter (which moves
/// only when a request ends) plus what the busy slots have decoded since their request began.
/// Only valid when no request ended between the two reads, which the collector checks.
pub fn generated_tokens(metrics: &LlamaMetrics, slots: &[LlamaSlot]) -> Option<f64> {
    let counted = metrics.tokens_predicted_total?;
    let in_flight: u64 =
        slots.iter().filter(|s| s.is_processing).map(|s| s.n_decoded.unwrap_or(0)).sum();
    Some(counted + in_flight as f64)
}

/// `/metrics` (Prometheus text, `llamacpp:` prefix). Every field is optional: metric sets differ
/// between llama.cpp versions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlamaMetrics {
    /// Prompt tokens decoded (cache hits excluded); moves when a prompt's last batch is done.
    pub prompt_tokens_total: Option<f64>,
    pub prompt_tokens_cached_total: Option<f64>,
    pub prompt_seconds_total: Option<f64>,
    /// Generated tokens, including accepted draft tokens. Moves only when a request ends.
    pub tokens_predicted_total: Option<f64>,
    /// Slot-seconds of generation (exceeds wall time with parallel slots). Request end only.
    pub tokens_predicted_seconds_total: Option<f64>,
    /// `llama_decode()` calls on the target: prompt batches and verification steps.
    pub n_decode_total: Option<f64>,
    /// Largest sequence length seen (TYPE counter, really a high-water mark).
    pub n_tokens_max: Option<f64>,
    /// Speculative: draft tokens proposed. Request end only.
    pub spec_draft_tokens_total: Option<f64>,
    /// Speculative: draft tokens accepted. Request end only.
    pub spec_accepted_tokens_total: Option<f64>,
    /// Speculative: verification steps that had a draft. Request end only.
    pub spec_drafts_total: Option<f64>,
    /// Speculative: verification steps whose draft token at position i was accepted; empty
    /// until the first speculative request ends.
    #[serde(default)]
    pub spec_accepted_per_position_total: Vec<f64>,
    /// Gauge, windowed since the previous scrape by anyone (every scrape resets it): raw only.
    pub prompt_tokens_per_s_gauge: Option<f64>,
    /// Gauge, windowed like the one above, per slot, only requests that ended: raw only.
    pub predicted_tokens_per_s_gauge: Option<f64>,
    /// Live gauge: slots busy at the time of the scrape.
    pub requests_processing: Option<f64>,
    /// Live gauge: tasks waiting for a free slot.
    pub requests_deferred: Option<f64>,
    /// Gauge: average busy slots per decode since the server started (cumulative).
    pub busy_slots_per_decode_avg: Option<f64>,
}

/// `/props`: the served model and the server's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlamaProps {
    pub model_path: Option<String>,
    /// `--alias`, else the `-m` path as given.
    pub model_alias: Option<String>,
    /// F16, Q8_0, Q4_0, ...
    pub model_ftype: Option<String>,
    pub build_info: Option<String>,
    pub total_slots: Option<u32>,
    /// Context per slot (`-c` is split across `--parallel` slots).
    pub n_ctx_per_slot: Option<u64>,
    pub is_sleeping: Option<bool>,
    pub endpoint_metrics: Option<bool>,
    pub endpoint_slots: Option<bool>,
    /// `router` for a router (`--models-dir`), absent for a plain server.
    pub role: Option<String>,
}

/// One entry of `/slots`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlamaSlot {
    pub id: u32,
    pub n_ctx: Option<u64>,
    /// Speculative decoding is active on this slot: the reliable sign that it is on at all.
    pub speculative: Option<bool>,
    pub is_processing: bool,
    /// After a request ends this still names the previous task.
    pub id_task: Option<i64>,
    /// The slot's current sequence length, prompt plus generated (`n_prompt_tokens`).
    pub sequence_tokens: Option<u64>,
    pub prompt_tokens_processed: Option<u64>,
    pub prompt_tokens_cached: Option<u64>,
    /// Tokens generated so far by the running request; 0 once it ended.
    pub n_decoded: Option<u64>,
    /// Tokens still to generate, -1 when unlimited.
    pub n_remain: Option<i64>,
    /// The running request's `n_predict`.
    pub n_predict: Option<i64>,
}

/// One model of `/v1/models` (or of a router's `/models`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlamaModelInfo {
    pub id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Router mode: unloaded, loading, loaded, sleeping, ...
    pub status: Option<String>,
    pub n_params: Option<u64>,
    pub size_bytes: Option<u64>,
    pub ftype: Option<String>,
    pub n_ctx: Option<u64>,
    pub n_ctx_train: Option<u64>,
    pub n_embd: Option<u64>,
    pub n_vocab: Option<u64>,
}

/// Figures derived for one [`LlamaServer`] from two consecutive readings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlamaRates {
    pub url: String,
    #[serde(default)]
    pub model_id: Option<String>,
    /// Seconds between the two readings.
    pub interval_s: Option<f64>,
    /// The server restarted between the two readings (counters went down or the process start
    /// changed): no rates for this interval.
    #[serde(default)]
    pub restarted: bool,
    /// Prompt tokens decoded per second (from `prompt_tokens_total`).
    pub prefill_tok_s: Option<f64>,
    /// Prompt speed while prefilling: tokens per second of prompt processing.
    pub prefill_tok_s_busy: Option<f64>,
    /// Generated tokens per second, live: from the busy slots' `n_decoded` and the counter
    /// (see [`LlamaServer::generated_tokens_live`]).
    pub decode_tok_s: Option<f64>,
    /// Per-slot generation speed of the requests that ended in the interval (Δtokens over
    /// Δslot-seconds); `None` when none ended.
    pub decode_tok_s_per_slot_finished: Option<f64>,
    /// Tokens generated in this session's view of the server: counter plus in-flight tokens.
    pub generated_tokens_total: Option<f64>,
    /// `llama_decode()` calls per second.
    pub decode_steps_s: Option<f64>,
    /// Busy slots per decode call over the interval (from the cumulative average).
    pub busy_slots_per_decode: Option<f64>,
    /// Slots busy now (from `/slots`).
    pub busy_slots: Option<u32>,
    /// Σ sequence length over busy slots: the KV cache each decode step reads.
    pub busy_sequence_tokens: Option<u64>,
    /// Speculative decoding is on (some slot is speculative); `None` when `/slots` is unknown.
    pub spec_active: Option<bool>,
    /// Accepted / drafted over the interval. The counters move only when a request ends, so
    /// this is `None` in intervals in which none ended.
    pub spec_acceptance: Option<f64>,
    /// Accepted / drafted since the server started.
    pub spec_acceptance_cumulative: Option<f64>,
    /// Tokens produced per verification step, 1 + accepted / steps (the server's "mean len"),
    /// over the interval.
    pub spec_mean_accept_len: Option<f64>,
    pub spec_mean_accept_len_cumulative: Option<f64>,
    /// Share of verification steps whose draft token at position i was accepted, since start.
    #[serde(default)]
    pub spec_acceptance_per_position: Vec<f64>,
    /// Draft tokens proposed per second; lumpy, as its counter moves when a request ends.
    pub spec_draft_tok_s: Option<f64>,
}

/// The load generator's view (`--workload llama:PRESET`): what it sent and what the server
/// answered. Token counts come from the server's responses, never from counting SSE events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlamaLoadReading {
    pub url: String,
    pub preset: String,
    pub concurrency: u32,
    pub elapsed_s: f64,
    pub requests_ok: u64,
    pub requests_failed: u64,
    pub requests_in_flight: u64,
    /// Σ `tokens_predicted` of finished requests.
    pub tokens_predicted: u64,
    /// Σ prompt tokens of finished requests (evaluated plus cached).
    pub prompt_tokens: u64,
    /// Σ `timings.draft_n` / `draft_n_accepted` of finished requests.
    pub draft_tokens: u64,
    pub draft_accepted: u64,
    /// The server's own decode speed over the finished requests, from their `timings`:
    /// Σ(predicted_n − 1) / Σ predicted_ms (the first token comes with the prompt).
    pub server_decode_tok_s: Option<f64>,
    /// Σ tokens_predicted / wall time since the generator started.
    pub aggregate_tok_s: Option<f64>,
    pub ttft_ms: Percentiles,
    pub inter_token_ms: Percentiles,
    #[serde(default)]
    pub last_error: Option<String>,
}

/// Percentiles of a latency histogram; `None` before the first value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
    /// The histogram itself, for the dashboard: counts in log-spaced buckets (each upper bound
    /// twice the one before), from the first non-empty bucket to the last.
    #[serde(default)]
    pub buckets: Vec<LatencyBucket>,
}

/// One bucket of a latency histogram: the values above the previous bucket's bound, up to
/// `upper_ms`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyBucket {
    pub upper_ms: f64,
    pub count: u64,
}
