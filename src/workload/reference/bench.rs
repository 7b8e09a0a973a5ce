//! `halo-top bench`: load a model, decode a fixed number of tokens, print what it measured.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use hdrhistogram::Histogram;
use serde::Serialize;

use super::decoder::{Decoder, OpTimes};
use super::model::Model;
use super::stream;
use crate::synth::memory::{self, SyntheticSpec};

/// Where the weights come from.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelChoice {
    File(PathBuf),
    Synthetic(SyntheticSpec),
}

impl ModelChoice {
    /// `SIZE:TYPE` is synthetic; anything else is a file.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.ends_with(".gguf") || std::path::Path::new(text).exists() {
            return Ok(ModelChoice::File(text.into()));
        }
        text.parse().map(ModelChoice::Synthetic)
    }

    pub fn load(&self) -> Result<Model> {
        match self {
            ModelChoice::File(path) => Model::from_gguf(path),
            ModelChoice::Synthetic(spec) => memory::build(*spec),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ModelChoice::File(path) => path.display().to_string(),
            ModelChoice::Synthetic(spec) => format!("--synthetic {spec}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub model: ModelChoice,
    pub threads: usize,
    pub tokens: usize,
    pub warmup: usize,
    /// Prompt tokens fed before decoding, for a prefill figure (0: none).
    pub prompt: usize,
    /// Also measure STREAM read bandwidth with the same threads.
    pub stream: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpShare {
    pub matmul: f64,
    pub attention: f64,
    pub norm_rope: f64,
    pub other: f64,
}

impl OpShare {
    pub fn of(t: &OpTimes) -> Option<OpShare> {
        let total = (t.matmul_ns + t.attention_ns + t.norm_rope_ns + t.other_ns) as f64;
        (total > 0.0).then(|| OpShare {
            matmul: t.matmul_ns as f64 / total,
            attention: t.attention_ns as f64 / total,
            norm_rope: t.norm_rope_ns as f64 / total,
            other: t.other_ns as f64 / total,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub model: String,
    pub source: String,
    pub weight_type: String,
    pub weight_bytes: u64,
    pub threads: usize,
    pub load_s: f64,
    pub tokens: usize,
    pub decode_tok_s: f64,
    /// Prompt tokens fed one per step (no batched prefill), when asked for.
    pub prefill_tok_s: Option<f64>,
    /// Bytes read per token as the kernels stream them.
    pub bytes_per_token: f64,
    /// The same with weights counted at their GGUF size (what llama.cpp reads; differs from
    /// `bytes_per_token` only for types candle repacks, Q4_K).
    pub file_bytes_per_token: f64,
    pub effective_gb_s: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p90: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_max: f64,
    pub op_share: Option<OpShare>,
    pub stream_read_gb_s: Option<f64>,
    pub fraction_of_stream: Option<f64>,
    /// The best read bandwidth `halo-top calibrate` stored, and the decoder's share of it.
    pub calibrated_read_gb_s: Option<f64>,
    pub fraction_of_calibrated: Option<f64>,
}

impl BenchReport {
    pub fn with_calibrated(mut self, read_gb_s: Option<f64>) -> Self {
        self.calibrated_read_gb_s = read_gb_s;
        self.fraction_of_calibrated = read_gb_s.map(|c| self.effective_gb_s / c);
        self
    }
}

pub fn run(opts: &BenchOptions) -> Result<BenchReport> {
    let start = Instant::now();
    let model = Arc::new(opts.model.load()?);
    let load_s = start.elapsed().as_secs_f64();
    let max_ctx = (opts.prompt + opts.tokens + opts.warmup + 2).max(16);
    let mut decoder = Decoder::new(model.clone(), opts.threads, max_ctx)?;

    let mut token = crate::synth::vocab::BOS_ID;
    for _ in 0..opts.warmup {
        token = decoder.step(token)?.token;
    }
    decoder.reset();

    let mut prefill_tok_s = None;
    token = crate::synth::vocab::BOS_ID;
    if opts.prompt > 0 {
        let t = Instant::now();
        for i in 0..opts.prompt {
            decoder.step(token)?;
            token = (300 + i as u32 * 7) % model.config.n_vocab as u32;
        }
        prefill_tok_s = Some(opts.prompt as f64 / t.elapsed().as_secs_f64());
    }

    let mut hist = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?;
    let (mut times, mut bytes) = (OpTimes::default(), 0u64);
    let t = Instant::now();
    for _ in 0..opts.tokens {
        let step_start = Instant::now();
        let s = decoder.step(token)?;
        hist.saturating_record(step_start.elapsed().as_micros() as u64);
        token = s.token;
        times.add(&s.times);
        bytes += s.bytes_read;
    }
    let decode_s = t.elapsed().as_secs_f64();
    drop(decoder);

    let n = opts.tokens.max(1) as f64;
    let decode_tok_s = opts.tokens as f64 / decode_s;
    let bytes_per_token = bytes as f64 / n;
    let effective_gb_s = bytes as f64 / decode_s / 1e9;
    let stream_read_gb_s = opts.stream.then(|| stream::read_gb_s(opts.threads, 1 << 30, 10));
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    Ok(BenchReport {
        model: model.name.clone(),
        source: opts.model.describe(),
        weight_type: memory::type_name(model.weight_type).to_string(),
        weight_bytes: model.weight_bytes as u64,
        threads: opts.threads,
        load_s,
        tokens: opts.tokens,
        decode_tok_s,
        prefill_tok_s,
        bytes_per_token,
        file_bytes_per_token: bytes_per_token - model.weight_bytes as f64
            + model.weight_file_bytes as f64,
        effective_gb_s,
        latency_ms_p50: ms(0.5),
        latency_ms_p90: ms(0.9),
        latency_ms_p99: ms(0.99),
        latency_ms_max: hist.max() as f64 / 1000.0,
        op_share: OpShare::of(&times),
        stream_read_gb_s,
        fraction_of_stream: stream_read_gb_s.map(|s| effective_gb_s / s),
        calibrated_read_gb_s: None,
        fraction_of_calibrated: None,
    })
}

/// The report for people.
pub fn text(r: &BenchReport) -> String {
    let mut out = format!(
        "model      {} ({}, {:.1} MB of weights as streamed)\nsource     {}\nthreads    {}\nload       {:.2} s\n",
        r.model,
        r.weight_type,
        r.weight_bytes as f64 / 1e6,
        r.source,
        r.threads,
        r.load_s
    );
    out += &format!("decode     {:.2} tok/s over {} tokens\n", r.decode_tok_s, r.tokens);
    if let Some(p) = r.prefill_tok_s {
        out += &format!("prompt     {p:.2} tok/s (one token per step, no batched prefill)\n");
    }
    out += &format!(
        "traffic    {:.1} MB/token read (weights as the kernels stream them, norms, KV) = {:.2} GB/s effective\n",
        r.bytes_per_token / 1e6,
        r.effective_gb_s
    );
    out += &format!(
        "latency    p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms\n",
        r.latency_ms_p50, r.latency_ms_p90, r.latency_ms_p99, r.latency_ms_max
    );
    if let Some(s) = &r.op_share {
        out += &format!(
            "time       matmul {:.1} %  attention {:.1} %  norm/rope {:.1} %  other {:.1} %\n",
            s.matmul * 100.0,
            s.attention * 100.0,
            s.norm_rope * 100.0,
            s.other * 100.0
        );
    }
    match (r.calibrated_read_gb_s, r.fraction_of_calibrated) {
        (Some(c), Some(f)) => {
            out += &format!(
                "calibrated read ceiling {c:.2} GB/s: decoder at {:.0} % of it\n",
                f * 100.0
            )
        }
        _ => out += "calibrated read ceiling n/a (run `halo-top calibrate`, or use --stream)\n",
    }
    if let (Some(s), Some(f)) = (r.stream_read_gb_s, r.fraction_of_stream) {
        out += &format!(
            "ceiling    STREAM read {s:.2} GB/s with {} threads: decoder at {:.0} % of it\n",
            r.threads,
            f * 100.0
        );
    }
    out
}
