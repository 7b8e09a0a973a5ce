//! llama-server (per `server`, the URL given with `--llama`; a router's models add `model`):
//! the server's own counters as counters, the rates derived from them as gauges, each slot
//! (`slot`), and the load generator's view (`--workload`).

use std::fmt;

use halo_collectors::Snapshot;
use halo_collectors::model::{LlamaMetrics, LlamaRates, LlamaServer, Percentiles};
use prometheus_client::registry::Unit;

use super::{Labels, Metrics};

fn server_labels(url: &str, model_id: Option<&str>) -> Labels {
    let mut labels = vec![("server", url.to_string())];
    if let Some(id) = model_id {
        labels.push(("model", id.to_string()));
    }
    labels
}

fn server(s: &LlamaServer) -> Labels {
    server_labels(&s.url, s.model_id.as_deref())
}

fn rates_labels(r: &LlamaRates) -> Labels {
    server_labels(&r.url, r.model_id.as_deref())
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

type Counter = (&'static str, &'static str, Option<Unit>, fn(&LlamaMetrics) -> Option<f64>);
type Rate = (&'static str, &'static str, fn(&LlamaRates) -> Option<f64>);

/// llama-server's `/metrics` counters, kept as the server counts them.
const COUNTERS: [Counter; 9] = [
    ("halo_llama_prompt_tokens", "Prompt tokens processed (cache hits excluded).", None, |m| {
        m.prompt_tokens_total
    }),
    ("halo_llama_prompt_cached_tokens", "Prompt tokens served from the cache.", None, |m| {
        m.prompt_tokens_cached_total
    }),
    ("halo_llama_prompt", "Time spent processing prompts.", Some(Unit::Seconds), |m| {
        m.prompt_seconds_total
    }),
    ("halo_llama_predicted_tokens", "Generated tokens of finished requests.", None, |m| {
        m.tokens_predicted_total
    }),
    (
        "halo_llama_predicted",
        "Slot-time spent generating (finished requests).",
        Some(Unit::Seconds),
        |m| m.tokens_predicted_seconds_total,
    ),
    ("halo_llama_decode_calls", "llama_decode() calls on the target model.", None, |m| {
        m.n_decode_total
    }),
    ("halo_llama_spec_draft_tokens", "Speculative: draft tokens proposed.", None, |m| {
        m.spec_draft_tokens_total
    }),
    ("halo_llama_spec_accepted_tokens", "Speculative: draft tokens accepted.", None, |m| {
        m.spec_accepted_tokens_total
    }),
    ("halo_llama_spec_drafts", "Speculative: verification steps that had a draft.", None, |m| {
        m.spec_drafts_total
    }),
];

/// Figures derived in the hub from two consecutive readings.
const RATES: [Rate; 13] = [
    ("halo_llama_prefill_tokens_per_second", "Prompt tokens processed per second.", |r| {
        r.prefill_tok_s
    }),
    ("halo_llama_prefill_busy_tokens_per_second", "Prompt speed while prefilling.", |r| {
        r.prefill_tok_s_busy
    }),
    (
        "halo_llama_decode_tokens_per_second",
        "Generated tokens per second, live (all slots).",
        |r| r.decode_tok_s,
    ),
    ("halo_llama_decode_steps_per_second", "llama_decode() calls per second.", |r| {
        r.decode_steps_s
    }),
    ("halo_llama_busy_slots_per_decode", "Busy slots per decode call over the interval.", |r| {
        r.busy_slots_per_decode
    }),
    ("halo_llama_busy_slots", "Slots busy now.", |r| r.busy_slots.map(f64::from)),
    (
        "halo_llama_busy_sequence_tokens",
        "Context tokens over busy slots: the KV cache a step reads.",
        |r| r.busy_sequence_tokens.map(|t| t as f64),
    ),
    ("halo_llama_spec_active", "1 when a slot decodes speculatively.", |r| r.spec_active.map(flag)),
    (
        "halo_llama_spec_acceptance_ratio",
        "Accepted / drafted over the interval (requests that ended).",
        |r| r.spec_acceptance,
    ),
    (
        "halo_llama_spec_acceptance_cumulative_ratio",
        "Accepted / drafted since the server started.",
        |r| r.spec_acceptance_cumulative,
    ),
    (
        "halo_llama_spec_mean_accept_length",
        "Tokens per verification step over the interval.",
        |r| r.spec_mean_accept_len,
    ),
    (
        "halo_llama_spec_mean_accept_length_cumulative",
        "Tokens per verification step since start.",
        |r| r.spec_mean_accept_len_cumulative,
    ),
    ("halo_llama_spec_draft_tokens_per_second", "Draft tokens proposed per second (lumpy).", |r| {
        r.spec_draft_tok_s
    }),
];

pub fn encode(s: &Snapshot, m: &mut Metrics<'_, '_>) -> fmt::Result {
    let servers = &s.llama;
    let text = |v: Option<&String>| v.cloned().unwrap_or_default();
    m.gauge(
        "halo_llama_server_info",
        "A llama-server and the model it serves (always 1).",
        None,
        servers.iter().map(|srv| {
            let props = srv.props.as_ref();
            let mut labels = server(srv);
            labels.extend([
                ("alias", text(props.and_then(|p| p.model_alias.as_ref()))),
                ("ftype", text(props.and_then(|p| p.model_ftype.as_ref()))),
                ("build", text(props.and_then(|p| p.build_info.as_ref()))),
            ]);
            (labels, Some(1.0))
        }),
    )?;
    m.gauge(
        "halo_llama_slots",
        "Slots (--parallel).",
        None,
        servers.iter().map(|srv| {
            (server(srv), srv.props.as_ref().and_then(|p| p.total_slots).map(f64::from))
        }),
    )?;
    m.gauge(
        "halo_llama_sleeping",
        "1 while the server sleeps (its model unloaded).",
        None,
        servers
            .iter()
            .map(|srv| (server(srv), srv.props.as_ref().and_then(|p| p.is_sleeping).map(flag))),
    )?;
    for (name, help, unit, read) in COUNTERS {
        let samples = servers.iter().map(|srv| (server(srv), srv.metrics.as_ref().and_then(read)));
        m.counter(name, help, unit, samples)?;
    }
    m.counter(
        "halo_llama_spec_accepted_at_position",
        "Speculative: verification steps whose draft token at `position` was accepted.",
        None,
        servers.iter().flat_map(|srv| {
            let per_position = srv.metrics.iter().flat_map(|m| &m.spec_accepted_per_position_total);
            per_position.enumerate().map(|(i, v)| {
                let mut l = server(srv);
                l.push(("position", i.to_string()));
                (l, Some(*v))
            })
        }),
    )?;
    let gauge = |read: fn(&LlamaMetrics) -> Option<f64>| {
        servers.iter().map(move |srv| (server(srv), srv.metrics.as_ref().and_then(read)))
    };
    m.gauge(
        "halo_llama_requests_processing",
        "Requests being processed.",
        None,
        gauge(|m| m.requests_processing),
    )?;
    m.gauge(
        "halo_llama_requests_deferred",
        "Requests waiting for a slot.",
        None,
        gauge(|m| m.requests_deferred),
    )?;
    m.gauge(
        "halo_llama_max_sequence_tokens",
        "Longest sequence seen.",
        None,
        gauge(|m| m.n_tokens_max),
    )?;
    m.counter(
        "halo_llama_restarts",
        "Server restarts halo-top has seen.",
        None,
        servers.iter().map(|srv| (server(srv), Some(srv.restarts_seen as f64))),
    )?;
    slots(servers, m)?;
    let rates = &s.derived.llama;
    for (name, help, read) in RATES {
        m.gauge(name, help, None, rates.iter().map(|r| (rates_labels(r), read(r))))?;
    }
    m.counter(
        "halo_llama_generated_tokens",
        "Generated tokens, in-flight requests included (counter + busy slots' n_decoded).",
        None,
        rates.iter().map(|r| (rates_labels(r), r.generated_tokens_total)),
    )?;
    m.gauge(
        "halo_llama_spec_acceptance_at_position_ratio",
        "Share of verification steps whose draft token at `position` was accepted.",
        None,
        rates.iter().flat_map(|r| {
            r.spec_acceptance_per_position.iter().enumerate().map(|(i, v)| {
                let mut l = rates_labels(r);
                l.push(("position", i.to_string()));
                (l, Some(*v))
            })
        }),
    )?;
    load(s, m)
}

/// Per slot: its context size, how much of it is in use, whether it is busy.
fn slots(servers: &[LlamaServer], m: &mut Metrics<'_, '_>) -> fmt::Result {
    type SlotField =
        (&'static str, &'static str, fn(&halo_collectors::model::LlamaSlot) -> Option<f64>);
    let fields: [SlotField; 4] = [
        ("halo_llama_slot_busy", "1 while the slot processes a request.", |s| {
            Some(flag(s.is_processing))
        }),
        ("halo_llama_slot_context_tokens", "The slot's context size.", |s| {
            s.n_ctx.map(|n| n as f64)
        }),
        (
            "halo_llama_slot_sequence_tokens",
            "The slot's current sequence (prompt + generated).",
            |s| s.sequence_tokens.map(|n| n as f64),
        ),
        (
            "halo_llama_slot_decoded_tokens",
            "Tokens generated by the slot's running request.",
            |s| s.n_decoded.map(|n| n as f64),
        ),
    ];
    for (name, help, read) in fields {
        let samples = servers.iter().flat_map(|srv| {
            srv.slots.iter().flatten().map(move |slot| {
                let mut l = server(srv);
                l.push(("slot", slot.id.to_string()));
                (l, read(slot))
            })
        });
        m.gauge(name, help, None, samples)?;
    }
    Ok(())
}

/// The load generator (`--workload`), labelled with its server and preset.
fn load(s: &Snapshot, m: &mut Metrics<'_, '_>) -> fmt::Result {
    let Some(l) = &s.llama_load else { return Ok(()) };
    let labels = || vec![("server", l.url.clone()), ("preset", l.preset.clone())];
    let with = |key: &'static str, value: &str| {
        let mut v = labels();
        v.push((key, value.to_string()));
        v
    };
    m.counter(
        "halo_load_requests",
        "Requests the load generator finished, by result.",
        None,
        [
            (with("result", "ok"), Some(l.requests_ok as f64)),
            (with("result", "failed"), Some(l.requests_failed as f64)),
        ],
    )?;
    m.gauge(
        "halo_load_requests_in_flight",
        "Requests in flight.",
        None,
        [(labels(), Some(l.requests_in_flight as f64))],
    )?;
    m.counter(
        "halo_load_predicted_tokens",
        "Tokens the server generated for the load generator.",
        None,
        [(labels(), Some(l.tokens_predicted as f64))],
    )?;
    m.gauge(
        "halo_load_tokens_per_second",
        "Generated tokens / wall time since the generator started.",
        None,
        [(labels(), l.aggregate_tok_s)],
    )?;
    let quantiles = |p: &Percentiles| {
        // Not `quantile`: Prometheus keeps that label for summaries.
        [("50", p.p50), ("90", p.p90), ("99", p.p99), ("100", p.max)]
            .map(|(q, ms)| (with("percentile", q), ms.map(|ms| ms / 1000.0)))
    };
    m.gauge(
        "halo_load_time_to_first_token",
        "Time to first token, by percentile over the generator's requests (100: the longest).",
        Some(Unit::Seconds),
        quantiles(&l.ttft_ms),
    )?;
    m.gauge(
        "halo_load_inter_token",
        "Time between streamed tokens, by percentile (100: the longest).",
        Some(Unit::Seconds),
        quantiles(&l.inter_token_ms),
    )
}
