//! `halo-top model FILE`: a GGUF model's profile and its decode ceiling at the peak bandwidth,
//! and the bandwidth limits every roofline figure is measured against.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use halo_collectors::gguf::{self, TensorSummary};
use halo_collectors::model::{ModelProfile, ModelSection};
use halo_collectors::platform;
use halo_widgets::format::bytes;
use serde::Serialize;

use crate::cli::Global;
use crate::config;
use crate::derive::roofline::{self, KvBytesPerToken};

/// Contexts the ceiling table shows: a short chat, and 8K, 32K, 128K.
const CONTEXTS: [u64; 4] = [512, 8192, 32768, 131072];

/// The bandwidths a decode rate is compared with.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Bandwidth {
    pub peak_gbps: Option<f64>,
    pub peak_source: Option<String>,
    pub calibrated_read_gbps: Option<f64>,
}

/// `--peak-bw`, else the platform's known peak, else the config file's `peak_bandwidth_gbps`;
/// the calibrated ceiling from the config file.
pub fn bandwidth(global: &Global) -> Result<Bandwidth> {
    let config = config::load(config::path(global.roofline.config.as_deref()).as_deref())?;
    let (peak_gbps, peak_source) = if let Some(gbps) = global.roofline.peak_bw {
        (Some(gbps), Some("--peak-bw".to_string()))
    } else if let Some(known) = platform::identify(&global.sysfs_root) {
        (Some(known.peak_bandwidth_gbps), Some(known.describe()))
    } else {
        (config.peak_bandwidth_gbps, config.peak_bandwidth_gbps.map(|_| "config file".to_string()))
    };
    Ok(Bandwidth {
        peak_gbps,
        peak_source,
        calibrated_read_gbps: config.calibration.map(|c| c.best_read_gbps),
    })
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    section: &'a ModelSection,
    /// KV bytes one token of context adds (full-context and sliding-window layers).
    kv_bytes_per_token: Option<KvPerToken>,
    ceilings: Vec<Ceiling>,
    measured: Option<Measured>,
    tensors: &'a [TensorSummary],
}

#[derive(Debug, Serialize)]
struct KvPerToken {
    full_layers_bytes: f64,
    window_layers_bytes: f64,
    sliding_window_tokens: Option<u64>,
}

/// One stream at one context.
#[derive(Debug, Serialize)]
struct Ceiling {
    context_tokens: u64,
    bytes_per_step: f64,
    tok_s_at_peak: Option<f64>,
    tok_s_at_calibrated: Option<f64>,
    beyond_trained_context: bool,
}

#[derive(Debug, Serialize)]
struct Measured {
    decode_tok_s: f64,
    context_tokens: u64,
    bytes_per_step: f64,
    achieved_gbps: f64,
    utilisation_of_peak_percent: Option<f64>,
    utilisation_of_calibrated_percent: Option<f64>,
}

pub fn run(
    global: &Global,
    file: &Path,
    json: bool,
    decode_tok_s: Option<f64>,
    context: u64,
) -> Result<()> {
    let profiled = gguf::profile_file(file).with_context(|| "cannot profile the model")?;
    let bw = bandwidth(global)?;
    let section = ModelSection {
        path: file.display().to_string(),
        profile: profiled.profile,
        kv_cache_type_k: global.roofline.cache_type_k.clone(),
        kv_cache_type_v: global.roofline.cache_type_v.clone(),
        peak_bandwidth_gbps: bw.peak_gbps,
        peak_bandwidth_source: bw.peak_source,
        calibrated_read_gbps: bw.calibrated_read_gbps,
    };
    let p = &section.profile;
    let kv = p.kv.as_ref().and_then(|kv| {
        roofline::kv_bytes_per_token(kv, &section.kv_cache_type_k, &section.kv_cache_type_v)
    });
    let at = |ctx: u64| roofline::bytes_per_step(p, kv.as_ref(), &[ctx]);
    let ceilings = CONTEXTS
        .iter()
        .map(|&ctx| Ceiling {
            context_tokens: ctx,
            bytes_per_step: at(ctx),
            tok_s_at_peak: bw.peak_gbps.and_then(|g| roofline::ceiling_tok_s(g, at(ctx), 1.0)),
            tok_s_at_calibrated: bw
                .calibrated_read_gbps
                .and_then(|g| roofline::ceiling_tok_s(g, at(ctx), 1.0)),
            beyond_trained_context: p.context_length.is_some_and(|n| ctx > n),
        })
        .collect();
    let measured = decode_tok_s.map(|tok_s| {
        let bytes = at(context);
        let achieved = roofline::achieved_gbps(tok_s, bytes);
        Measured {
            decode_tok_s: tok_s,
            context_tokens: context,
            bytes_per_step: bytes,
            achieved_gbps: achieved,
            utilisation_of_peak_percent: bw
                .peak_gbps
                .and_then(|g| roofline::percent_of(achieved, g)),
            utilisation_of_calibrated_percent: bw
                .calibrated_read_gbps
                .and_then(|g| roofline::percent_of(achieved, g)),
        }
    });
    let report = Report {
        section: &section,
        kv_bytes_per_token: kv.map(|k| KvPerToken {
            full_layers_bytes: k.full,
            window_layers_bytes: k.window,
            sliding_window_tokens: k.window_tokens,
        }),
        ceilings,
        measured,
        tensors: &profiled.tensors,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text(&report, kv.as_ref()));
    }
    Ok(())
}

fn gb(bytes: f64) -> String {
    format!("{:.2} GB", bytes / 1e9)
}

/// Model sizes as llama.cpp prints them (`3.80 GiB`).
fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / (1u64 << 30) as f64)
}

fn text(r: &Report, kv: Option<&KvBytesPerToken>) -> String {
    let s = r.section;
    let p: &ModelProfile = &s.profile;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "model      {} ({}), {:.2} B parameters, {} tensors",
        p.name.as_deref().unwrap_or("unnamed"),
        p.architecture.as_deref().unwrap_or("unknown architecture"),
        p.parameter_count as f64 / 1e9,
        p.tensor_count
    );
    let _ = writeln!(out, "file       {} ({})", s.path, gib(p.file_size_bytes));
    let _ = writeln!(
        out,
        "weights    {} ({}) in {}",
        gib(p.weight_bytes),
        gb(p.weight_bytes as f64),
        types_line(r.tensors)
    );
    let _ = writeln!(
        out,
        "  dense    {} read every step, output head {}{}",
        bytes(Some(p.dense_weight_bytes)),
        bytes(Some(p.output_head_bytes)),
        if p.tied_embeddings { " (tied to the token embeddings: counted once)" } else { "" }
    );
    if p.lookup_table_bytes > 0 {
        let _ = writeln!(
            out,
            "  lookup   {} token embeddings, one row ({}) read per token",
            bytes(Some(p.lookup_table_bytes)),
            bytes(Some(p.lookup_row_bytes))
        );
    }
    if p.expert_weight_bytes > 0 {
        let used = match (p.expert_used_count, p.expert_count) {
            (Some(u), Some(n)) => format!("{u} of {n} used per token"),
            _ => "expert counts unknown: all counted".into(),
        };
        let _ = writeln!(out, "  experts  {} ({used})", bytes(Some(p.expert_weight_bytes)));
    }
    let _ = writeln!(
        out,
        "per step   {} of weights ({})",
        gb(p.weight_bytes_per_step as f64),
        bytes(Some(p.weight_bytes_per_step))
    );
    match (kv, &p.kv) {
        (Some(kv), Some(shape)) => {
            let mut line = format!(
                "  + KV     {} per token of context ({}/{} cache, {} layers",
                bytes(Some(kv.full.round() as u64)),
                s.kv_cache_type_k,
                s.kv_cache_type_v,
                shape.full_layers
            );
            if let Some(w) = kv.window_tokens {
                let _ = write!(
                    line,
                    "; {} more per token up to {w} tokens in {} sliding-window layers",
                    bytes(Some(kv.window.round() as u64)),
                    shape.window_layers
                );
            }
            let _ = writeln!(out, "{line})");
        }
        _ => {
            let _ = writeln!(out, "  + KV     unknown (not counted)");
        }
    }
    if let Some(n) = p.context_length {
        let _ = writeln!(out, "context    trained for {n} tokens");
    }

    let peak = match (s.peak_bandwidth_gbps, &s.peak_bandwidth_source) {
        (Some(g), Some(src)) => format!("{g:.0} GB/s peak ({src})"),
        (Some(g), None) => format!("{g:.0} GB/s peak"),
        _ => "unknown peak bandwidth (pass --peak-bw GBPS)".into(),
    };
    let _ = writeln!(out, "\ndecode ceiling, one stream, at {peak}:");
    let calibrated = s
        .calibrated_read_gbps
        .map(|c| format!("   at {c:.1} GB/s (calibrated)"))
        .unwrap_or_default();
    let _ = writeln!(out, "   context   bytes/step      tok/s{calibrated}");
    let rate = |v: Option<f64>| v.map_or("n/a".into(), |t| format!("{t:.1}"));
    for c in &r.ceilings {
        let mut line = format!(
            "{:>10}   {:>10}   {:>8}",
            c.context_tokens,
            gb(c.bytes_per_step),
            rate(c.tok_s_at_peak)
        );
        if s.calibrated_read_gbps.is_some() {
            let _ = write!(line, "   {:>8}", rate(c.tok_s_at_calibrated));
        }
        if c.beyond_trained_context {
            line += "   (beyond the trained context)";
        }
        let _ = writeln!(out, "{line}");
    }
    if let Some(m) = &r.measured {
        let pct =
            |v: Option<f64>, of: &str| v.map(|v| format!(", {v:.1} % of {of}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "\nat {:.1} tok/s and context {}: {} per step, {:.1} GB/s achieved{}{}",
            m.decode_tok_s,
            m.context_tokens,
            gb(m.bytes_per_step),
            m.achieved_gbps,
            pct(m.utilisation_of_peak_percent, "peak"),
            pct(m.utilisation_of_calibrated_percent, "calibrated")
        );
    }
    for note in &p.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// `q4_K 193 · q6_K 33 · f32 65`, most bytes first.
fn types_line(tensors: &[TensorSummary]) -> String {
    let mut by_type: Vec<(&str, u64, u64)> = Vec::new();
    for t in tensors {
        match by_type.iter_mut().find(|(name, _, _)| *name == t.type_name) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 += t.bytes;
            }
            None => by_type.push((&t.type_name, 1, t.bytes)),
        }
    }
    by_type.sort_by_key(|t| std::cmp::Reverse(t.2));
    by_type.iter().map(|(name, count, _)| format!("{name} ×{count}")).collect::<Vec<_>>().join(", ")
}
