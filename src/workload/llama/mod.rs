//! The llama load generator: `concurrency` threads, each streaming `/completion` requests to one
//! llama-server back to back, measuring time to first token and inter-token latency, and
//! counting tokens from the server's own answers.
//!
//! Presets follow the shapes used by published Strix Halo llama.cpp workload tests: chat (a
//! short question, a long answer), code (2K in, 2K out) and summarize (8K in, 256 out). Prompts
//! are exact token counts: a deterministic filler text is tokenized once by the server
//! (`/tokenize`) and each request sends a different slice of its tokens, so no two requests
//! share a prefix the prompt cache could reuse.

mod stats;
pub mod stream;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use halo_collectors::model::LlamaLoadReading;
use halo_collectors::{Section, Source, SourceError};
use serde::Deserialize;

pub use stats::{LoadStats, report};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// About 30 tokens in, 1000 out.
    Chat,
    /// 2048 in, 2048 out.
    Code,
    /// 8192 in, 256 out.
    Summarize,
}

impl Preset {
    pub fn name(self) -> &'static str {
        match self {
            Preset::Chat => "chat",
            Preset::Code => "code",
            Preset::Summarize => "summarize",
        }
    }

    /// (prompt tokens, generated tokens)
    pub fn shape(self) -> (u32, u32) {
        match self {
            Preset::Chat => (30, 1000),
            Preset::Code => (2048, 2048),
            Preset::Summarize => (8192, 256),
        }
    }
}

impl FromStr for Preset {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "chat" => Ok(Preset::Chat),
            "code" => Ok(Preset::Code),
            "summarize" => Ok(Preset::Summarize),
            _ => Err(format!("unknown llama preset {text:?} (chat, code or summarize)")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub url: String,
    pub api_key: Option<String>,
    /// A name for reports (the preset's).
    pub name: String,
    pub prompt_tokens: u32,
    pub max_tokens: u32,
    pub concurrency: u32,
    /// Stop after this many requests in all; `None` runs until stopped.
    pub max_requests: Option<u64>,
}

impl LoadConfig {
    pub fn preset(url: &str, api_key: Option<String>, preset: Preset, concurrency: u32) -> Self {
        let (prompt_tokens, max_tokens) = preset.shape();
        Self {
            url: url.trim_end_matches('/').to_string(),
            api_key,
            name: preset.name().into(),
            prompt_tokens,
            max_tokens,
            concurrency: concurrency.max(1),
            max_requests: None,
        }
    }
}

struct Shared {
    config: LoadConfig,
    stats: Mutex<LoadStats>,
    stop: AtomicBool,
    issued: AtomicU64,
    /// The filler text's tokens, fetched by the first worker that needs them.
    filler: Mutex<Option<Arc<Vec<i64>>>>,
    agent: ureq::Agent,
}

impl Shared {
    fn stats(&self) -> MutexGuard<'_, LoadStats> {
        // A worker that panicked mid-update leaves numbers that are still worth showing.
        self.stats.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn reading(&self) -> LlamaLoadReading {
        let c = &self.config;
        self.stats().reading(&c.url, &c.name, c.concurrency)
    }
}

pub struct LoadGenerator {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl LoadGenerator {
    /// Starts the worker threads. A server that is not up yet is not an error: workers retry,
    /// and failures show in the readings.
    pub fn start(config: LoadConfig) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(2)))
            // Generous: an 8K prompt on a big model takes a while before the first byte.
            .timeout_per_read(Some(Duration::from_secs(600)))
            .build()
            .into();
        let shared = Arc::new(Shared {
            stats: Mutex::new(LoadStats::new()),
            stop: AtomicBool::new(false),
            issued: AtomicU64::new(0),
            filler: Mutex::new(None),
            agent,
            config,
        });
        let workers = (0..shared.config.concurrency)
            .map(|_| {
                let shared = shared.clone();
                std::thread::spawn(move || worker(&shared))
            })
            .collect();
        Self { shared, workers }
    }

    pub fn reading(&self) -> LlamaLoadReading {
        self.shared.reading()
    }

    pub fn max_requests(&self) -> Option<u64> {
        self.shared.config.max_requests
    }

    /// Asks the workers to stop after their current request.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }

    /// Waits for the workers (they end after `max_requests`, or after [`stop`](Self::stop)).
    pub fn wait(self) -> LlamaLoadReading {
        for worker in self.workers {
            let _ = worker.join();
        }
        self.shared.reading()
    }

    /// A source that puts the generator's figures into every snapshot.
    pub fn source(&self) -> Box<dyn Source> {
        Box::new(LoadSource { shared: self.shared.clone() })
    }
}

struct LoadSource {
    shared: Arc<Shared>,
}

impl Source for LoadSource {
    fn name(&self) -> String {
        "workload:llama".into()
    }

    fn sample(&mut self) -> Result<Section, SourceError> {
        Ok(Section::LlamaLoad(Box::new(self.shared.reading())))
    }
}

fn worker(shared: &Shared) {
    let config = &shared.config;
    while !shared.stop.load(Ordering::Relaxed) {
        let index = shared.issued.fetch_add(1, Ordering::Relaxed);
        if config.max_requests.is_some_and(|max| index >= max) {
            return;
        }
        shared.stats().requests_in_flight += 1;
        let result = filler_tokens(shared).and_then(|filler| {
            let prompt = prompt_slice(&filler, index, config.prompt_tokens as usize);
            stream::run(
                &shared.agent,
                &stream::Request {
                    url: &config.url,
                    api_key: config.api_key.as_deref(),
                    prompt_tokens: prompt,
                    max_tokens: config.max_tokens,
                },
            )
        });
        let mut stats = shared.stats();
        stats.requests_in_flight -= 1;
        match result {
            Ok(outcome) => stats.add(&outcome),
            Err(e) => {
                stats.requests_failed += 1;
                stats.last_error = Some(e);
                drop(stats);
                // The server may be loading or restarting: don't hammer it.
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }
}

/// `prompt_tokens` tokens of the filler, starting at a different place for each request.
fn prompt_slice(filler: &[i64], index: u64, prompt_tokens: usize) -> &[i64] {
    let n = prompt_tokens.min(filler.len());
    let starts = (filler.len() - n + 1) as u64;
    let start = (index.wrapping_mul(7919) % starts) as usize;
    &filler[start..start + n]
}

/// Deterministic text, long enough for any preset's prompt plus room to vary its start.
fn filler_text(prompt_tokens: u32) -> String {
    const WORDS: [&str; 32] = [
        "the",
        "memory",
        "bandwidth",
        "of",
        "unified",
        "system",
        "decides",
        "how",
        "fast",
        "a",
        "large",
        "model",
        "writes",
        "tokens",
        "while",
        "cache",
        "grows",
        "with",
        "context",
        "and",
        "every",
        "step",
        "reads",
        "weights",
        "once",
        "from",
        "lpddr5x",
        "at",
        "full",
        "speed",
        "under",
        "load",
    ];
    let mut state: u32 = 0x2545_f491;
    let words = prompt_tokens as usize + 1024;
    let mut text = String::with_capacity(words * 7);
    for i in 0..words {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        text.push_str(WORDS[(state >> 27) as usize]);
        text.push_str(if i % 17 == 16 { ". " } else { " " });
    }
    text
}

#[derive(Deserialize)]
struct Tokenized {
    tokens: Vec<i64>,
}

fn filler_tokens(shared: &Shared) -> Result<Arc<Vec<i64>>, String> {
    let mut cached = shared.filler.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(tokens) = cached.as_ref() {
        return Ok(tokens.clone());
    }
    let config = &shared.config;
    let url = format!("{}/tokenize", config.url);
    let body = serde_json::json!({ "content": filler_text(config.prompt_tokens) }).to_string();
    let mut call = shared.agent.post(&url).header("Content-Type", "application/json");
    if let Some(key) = &config.api_key {
        call = call.header("Authorization", format!("Bearer {key}"));
    }
    let mut response = call.send(body.as_str()).map_err(|e| format!("POST {url}: {e}"))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .map_err(|e| format!("POST {url}: {e}"))?;
    if status != 200 {
        return Err(format!("POST {url}: HTTP {status}: {}", text.trim()));
    }
    let tokenized: Tokenized =
        serde_json::from_str(&text).map_err(|e| format!("POST {url}: unexpected answer ({e})"))?;
    if tokenized.tokens.len() < config.prompt_tokens as usize {
        return Err(format!(
            "POST {url}: the filler text gave only {} tokens, {} needed",
            tokenized.tokens.len(),
            config.prompt_tokens
        ));
    }
    let tokens = Arc::new(tokenized.tokens);
    *cached = Some(tokens.clone());
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_their_published_shapes() {
        assert_eq!("chat".parse::<Preset>().unwrap().shape(), (30, 1000));
        assert_eq!("code".parse::<Preset>().unwrap().shape(), (2048, 2048));
        assert_eq!("summarize".parse::<Preset>().unwrap().shape(), (8192, 256));
        assert!("haiku".parse::<Preset>().is_err());
    }

    #[test]
    fn prompts_are_exact_length_and_start_in_different_places() {
        let filler: Vec<i64> = (0..5000).collect();
        let a = prompt_slice(&filler, 0, 30);
        let b = prompt_slice(&filler, 1, 30);
        assert_eq!((a.len(), b.len()), (30, 30));
        assert_ne!(a[0], b[0]);
        assert_eq!(prompt_slice(&filler[..10], 3, 30).len(), 10, "never past the end");
        assert!(filler_text(100).split_whitespace().count() >= 1100);
        assert_eq!(filler_text(10), filler_text(10), "deterministic");
    }
}
