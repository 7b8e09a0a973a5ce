//! The reference decoder as a workload: continuous greedy decode on its own threads, context
//! reset when full, an optional prompt phase at the start of every context, and a source that
//! publishes what the decoder measured into the snapshot.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use halo_collectors::model::{OpShareReading, ReferenceSection, Section};
use halo_collectors::{Source, SourceError};
use hdrhistogram::Histogram;

use super::bench::ModelChoice;
use super::decoder::{Decoder, OpTimes};
use crate::synth::memory::type_name;
use crate::synth::vocab::BOS_ID;

#[derive(Debug, Clone)]
pub struct WorkloadOptions {
    pub model: ModelChoice,
    pub threads: usize,
    /// Positions before the context is reset.
    pub max_context: usize,
    /// Prompt tokens fed at the start of each context (0: none).
    pub prompt_tokens: usize,
    /// What the roofline compares the decoder's GB/s with.
    pub bandwidth: crate::model_report::Bandwidth,
}

/// What the decoder thread has measured since the source last looked.
struct Window {
    decode_tokens: u64,
    decode_ns: u64,
    bytes: u64,
    times: OpTimes,
    latency_us: Histogram<u64>,
    prompt_tokens: u64,
    prompt_ns: u64,
}

impl Window {
    fn new() -> Self {
        Window {
            decode_tokens: 0,
            decode_ns: 0,
            bytes: 0,
            times: OpTimes::default(),
            latency_us: Histogram::new_with_bounds(1, 3_600_000_000, 3)
                .expect("1 µs .. 1 h are valid bounds"),
            prompt_tokens: 0,
            prompt_ns: 0,
        }
    }
}

#[derive(Default)]
struct Info {
    state: String,
    error: Option<String>,
    model_name: Option<String>,
    weight_type: Option<String>,
    weight_bytes: Option<u64>,
    tokens_total: u64,
    resets_total: u64,
    context_tokens: u64,
}

struct Shared {
    window: Mutex<Window>,
    info: Mutex<Info>,
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The running decoder thread; dropping or finishing it stops the thread.
pub struct ReferenceWorkload {
    source: ReferenceSource,
}

impl ReferenceWorkload {
    /// Starts the decoder thread (the model loads on it). A thread that cannot start shows up
    /// as the source's failure.
    pub fn start(options: WorkloadOptions) -> Self {
        let source = ReferenceSource::start(options.clone()).unwrap_or_else(|e| {
            let info = Info {
                error: Some(format!("cannot start the decoder thread: {e}")),
                ..Info::default()
            };
            ReferenceSource {
                options,
                shared: Arc::new(Shared {
                    window: Mutex::new(Window::new()),
                    info: Mutex::new(info),
                    stop: AtomicBool::new(true),
                }),
            }
        });
        ReferenceWorkload { source }
    }

    /// The source that publishes the decoder's figures.
    pub fn source(&self) -> ReferenceSource {
        ReferenceSource { options: self.source.options.clone(), shared: self.source.shared.clone() }
    }

    /// Stops the decoder and says what it did.
    pub fn finish(self) -> String {
        self.source.shared.stop.store(true, Ordering::Relaxed);
        let info = lock(&self.source.shared.info);
        format!(
            "reference decoder: {} tokens on {} threads ({})",
            info.tokens_total,
            self.source.options.threads,
            info.model_name.as_deref().unwrap_or("not loaded")
        )
    }
}

impl Drop for ReferenceWorkload {
    fn drop(&mut self) {
        self.source.shared.stop.store(true, Ordering::Relaxed);
    }
}

/// The `reference` source: reads what the decoder thread publishes.
pub struct ReferenceSource {
    options: WorkloadOptions,
    shared: Arc<Shared>,
}

impl ReferenceSource {
    fn start(options: WorkloadOptions) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            window: Mutex::new(Window::new()),
            info: Mutex::new(Info { state: "loading".into(), ..Info::default() }),
            stop: AtomicBool::new(false),
        });
        let (thread_shared, thread_options) = (shared.clone(), options.clone());
        std::thread::Builder::new().name("halo-ref-0".into()).spawn(move || {
            if let Err(e) = decode_loop(&thread_options, &thread_shared) {
                lock(&thread_shared.info).error = Some(format!("{e:#}"));
            }
        })?;
        Ok(ReferenceSource { options, shared })
    }
}

fn decode_loop(opts: &WorkloadOptions, shared: &Shared) -> anyhow::Result<()> {
    let model = Arc::new(opts.model.load()?);
    {
        let mut info = lock(&shared.info);
        info.model_name = Some(model.name.clone());
        info.weight_type = Some(type_name(model.weight_type).to_string());
        info.weight_bytes = Some(model.weight_bytes as u64);
        info.state = "running".into();
    }
    let n_vocab = model.config.n_vocab as u32;
    let mut decoder =
        Decoder::new(model, opts.threads, opts.max_context.max(opts.prompt_tokens + 2))?;
    let mut token = BOS_ID;
    while !shared.stop.load(Ordering::Relaxed) {
        if decoder.pos + 1 >= decoder.max_ctx {
            decoder.reset();
            token = BOS_ID;
            lock(&shared.info).resets_total += 1;
        }
        if decoder.pos == 0 && opts.prompt_tokens > 0 {
            let start = Instant::now();
            for i in 0..opts.prompt_tokens {
                decoder.step(token)?;
                token = (300 + 7 * i as u32) % n_vocab;
            }
            let mut w = lock(&shared.window);
            w.prompt_tokens += opts.prompt_tokens as u64;
            w.prompt_ns += start.elapsed().as_nanos() as u64;
        }
        let start = Instant::now();
        let step = decoder.step(token)?;
        let ns = start.elapsed().as_nanos() as u64;
        token = step.token;
        {
            let mut w = lock(&shared.window);
            w.decode_tokens += 1;
            w.decode_ns += ns;
            w.bytes += step.bytes_read;
            w.times.add(&step.times);
            w.latency_us.saturating_record(ns / 1000);
        }
        let mut info = lock(&shared.info);
        info.tokens_total += 1;
        info.context_tokens = decoder.pos as u64;
    }
    Ok(())
}

impl Source for ReferenceSource {
    fn name(&self) -> String {
        "reference".into()
    }

    fn sample(&mut self) -> Result<Section, SourceError> {
        let info = lock(&self.shared.info);
        if let Some(e) = &info.error {
            return Err(SourceError::Failed(format!("reference decoder stopped: {e}")));
        }
        let mut section = ReferenceSection {
            state: info.state.clone(),
            model_name: info.model_name.clone(),
            model_source: self.options.model.describe(),
            weight_type: info.weight_type.clone(),
            weight_bytes: info.weight_bytes,
            threads: self.options.threads as u32,
            tokens_total: info.tokens_total,
            context_resets_total: info.resets_total,
            context_tokens: info.context_tokens,
            context_max_tokens: self.options.max_context as u64,
            peak_bandwidth_gbps: self.options.bandwidth.peak_gbps,
            calibrated_read_gbps: self.options.bandwidth.calibrated_read_gbps,
            ..ReferenceSection::default()
        };
        drop(info);
        let mut guard = lock(&self.shared.window);
        if guard.decode_tokens == 0 {
            // Nothing finished yet: keep accumulating, report unknown rates.
            return Ok(Section::Reference(Box::new(section)));
        }
        let w = std::mem::replace(&mut *guard, Window::new());
        drop(guard);
        let secs = w.decode_ns as f64 / 1e9;
        section.decode_tok_s = Some(w.decode_tokens as f64 / secs);
        section.prompt_tok_s =
            (w.prompt_tokens > 0).then(|| w.prompt_tokens as f64 / (w.prompt_ns as f64 / 1e9));
        let ms = |q: f64| Some(w.latency_us.value_at_quantile(q) as f64 / 1000.0);
        section.latency_ms_p50 = ms(0.5);
        section.latency_ms_p90 = ms(0.9);
        section.latency_ms_p99 = ms(0.99);
        section.latency_ms_max = Some(w.latency_us.max() as f64 / 1000.0);
        section.op_share = super::bench::OpShare::of(&w.times).map(|s| OpShareReading {
            matmul: s.matmul,
            attention: s.attention,
            norm_rope: s.norm_rope,
            other: s.other,
        });
        section.bytes_per_token = Some(w.bytes as f64 / w.decode_tokens as f64);
        section.effective_gb_s = Some(w.bytes as f64 / secs / 1e9);
        Ok(Section::Reference(Box::new(section)))
    }
}
