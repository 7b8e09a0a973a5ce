//! A serving point: llama-server started with `np` slots (and the draft model for speculation),
//! then rounds of `np` simultaneous streamed requests through the load generator's request code
//! (`workload::llama::stream`), each with a prompt of depth + n_prompt tokens and `n_gen`
//! generated tokens.
//!
//! Rates come from the server's own `timings` of each request: a round's decode rate is the sum
//! of its streams' rates (they decode side by side), its prefill rate the round's prompt tokens
//! over the longest prompt time. Prompts are random token ids, different for every request, and
//! the server runs without prompt caching, so no request reuses another's work.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::point::{Config, Failure, FailureKind, Rate, Serving};
use super::process;
use super::telemetry::Window;
use crate::record::unix_ms_now;
use crate::workload::llama::stream::{self, Outcome};

pub struct ServeSettings<'a> {
    pub llama_server: &'a Path,
    pub model: &'a Path,
    pub draft: Option<&'a Path>,
    pub rounds: u64,
    pub timeout: Duration,
}

#[derive(Debug, Default)]
pub struct ServeOutcome {
    pub prefill: Option<Rate>,
    pub decode: Option<Rate>,
    pub serving: Serving,
    /// Tokens each slot gets from one target-model decode step (1 without speculation).
    pub tokens_per_step: f64,
    /// Wall-clock windows (unix ms) of the measured rounds.
    pub round_windows: Vec<Window>,
    pub started_unix_ms: i64,
    pub ended_unix_ms: i64,
    pub failure: Option<Failure>,
    pub cancelled: bool,
}

/// Context per slot beyond prompt + generation: the BOS token and rounding.
const SLOT_MARGIN_TOKENS: u64 = 16;

pub fn arguments(s: &ServeSettings, config: &Config, port: u16) -> Vec<String> {
    let np = config.parallel.unwrap_or(1);
    let per_slot = prompt_tokens(config) + config.n_gen.unwrap_or(0) + SLOT_MARGIN_TOKENS;
    let mut args: Vec<String> = vec![
        "--host".into(),
        "127.0.0.1".into(),
        "--port".into(),
        port.to_string(),
        "-m".into(),
        s.model.display().to_string(),
        "-c".into(),
        (per_slot * np).to_string(),
        "-np".into(),
        np.to_string(),
        // Every request is measured from scratch: no prompt cache, no host-memory cache.
        "--no-cache-prompt".into(),
        "--cache-ram".into(),
        "0".into(),
    ];
    let mut add = |flag: &str, value: Option<String>| {
        if let Some(v) = value {
            args.push(flag.into());
            args.push(v);
        }
    };
    add("-ctk", config.type_k.clone());
    add("-ctv", config.type_v.clone());
    add("-ub", config.n_ubatch.map(|v| v.to_string()));
    add("-b", config.n_batch.map(|v| v.to_string()));
    add("-t", config.n_threads.map(|v| v.to_string()));
    add("-fa", config.flash_attn.clone());
    add("-ngl", config.n_gpu_layers.map(|v| v.to_string()));
    if config.speculative
        && let Some(draft) = s.draft
    {
        add("-md", Some(draft.display().to_string()));
        add("--spec-type", Some("draft-simple".into()));
        add("-td", config.n_threads.map(|v| v.to_string()));
    }
    args
}

/// Each request's prompt: the depth plus the prefill size.
pub fn prompt_tokens(config: &Config) -> u64 {
    (config.depth_tokens + config.n_prompt.unwrap_or(0)).max(1)
}

/// A llama-server child, killed on drop.
struct Server {
    child: Child,
    log: Arc<Mutex<Vec<(i64, String)>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log(&self) -> Vec<(i64, String)> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

pub fn run(s: &ServeSettings, config: &Config, cancel: &AtomicBool) -> ServeOutcome {
    let started = Instant::now();
    let mut o = ServeOutcome {
        started_unix_ms: unix_ms_now(),
        tokens_per_step: 1.0,
        ..ServeOutcome::default()
    };
    let result = serve(s, config, cancel, started, &mut o);
    o.ended_unix_ms = unix_ms_now();
    o.cancelled = cancel.load(Ordering::Relaxed);
    if let Err(failure) = result {
        o.failure = Some(failure);
    }
    o
}

fn error(message: String, log_tail: Vec<String>) -> Failure {
    Failure { kind: FailureKind::Error, message, log_tail }
}

fn serve(
    s: &ServeSettings,
    config: &Config,
    cancel: &AtomicBool,
    started: Instant,
    o: &mut ServeOutcome,
) -> Result<(), Failure> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| error(format!("no free loopback port: {e}"), Vec::new()))?
        .port();
    let mut command = Command::new(s.llama_server);
    command
        .args(arguments(s, config, port))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // Its own process group: Ctrl-C reaches halo-top only, which then stops the server itself.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|e| {
        error(format!("cannot start {}: {e}", s.llama_server.display()), Vec::new())
    })?;
    let log = Arc::new(Mutex::new(Vec::new()));
    if let Some(stderr) = child.stderr.take() {
        process::collect_lines(stderr, log.clone());
    }
    let mut server = Server { child, log };
    let url = format!("http://127.0.0.1:{port}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(2)))
        .timeout_global(Some(s.timeout))
        .build()
        .into();

    // Up and healthy, or the reason it is not.
    let died = |server: &mut Server, timed_out: bool| -> Failure {
        let status = if timed_out {
            let _ = server.child.kill();
            server.child.wait().ok()
        } else {
            server.child.try_wait().ok().flatten()
        };
        let log = server.log();
        process::classify("llama-server", status, timed_out, s.timeout, &log).unwrap_or_else(|| {
            error(
                "llama-server stopped answering".into(),
                log.iter().rev().take(12).rev().map(|l| l.1.clone()).collect(),
            )
        })
    };
    loop {
        if let Ok(Some(_)) = server.child.try_wait() {
            return Err(died(&mut server, false));
        }
        if started.elapsed() > s.timeout {
            return Err(died(&mut server, true));
        }
        if cancel.load(Ordering::Relaxed) {
            return Ok(());
        }
        if agent.get(format!("{url}/health")).call().is_ok_and(|r| r.status() == 200) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let n_vocab = vocabulary_size(&agent, &url).map_err(|e| error(e, Vec::new()))?;

    // A short warm-up request (not measured), as llama-bench warms up.
    let np = config.parallel.unwrap_or(1);
    let prompt_len = prompt_tokens(config);
    let n_gen = config.n_gen.unwrap_or(16).max(2);
    let warmup = random_prompt(n_vocab, 8, u64::MAX);
    stream::run(&agent, &request(&url, &warmup, 4)).map_err(|e| {
        let f = died(&mut server, false);
        error(format!("warm-up request failed: {e}"), f.log_tail)
    })?;

    let mut decode_samples = Vec::new();
    let mut prefill_samples = Vec::new();
    let mut per_stream = Vec::new();
    let mut ttft_ms = Vec::new();
    let mut last_error = None;
    o.serving.prompt_tokens = prompt_len;
    for round in 0..s.rounds {
        if cancel.load(Ordering::Relaxed) {
            return Ok(());
        }
        if started.elapsed() > s.timeout {
            return Err(died(&mut server, true));
        }
        let prompts: Vec<Vec<i64>> =
            (0..np).map(|i| random_prompt(n_vocab, prompt_len as usize, round * np + i)).collect();
        let begin = unix_ms_now();
        let results: Vec<Result<Outcome, String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = prompts
                .iter()
                .map(|p| {
                    let (agent, url) = (&agent, &url);
                    scope.spawn(move || stream::run(agent, &request(url, p, n_gen as u32)))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("request thread panicked".into())))
                .collect()
        });
        let end = unix_ms_now();
        o.round_windows.push((begin, end));
        o.serving.rounds += 1;
        o.serving.measured_s += (end - begin) as f64 / 1000.0;
        let mut round_decode = 0.0;
        let mut round_prompt_tokens = 0;
        let mut round_prompt_ms: f64 = 0.0;
        let mut complete = true;
        for result in results {
            match result {
                Ok(outcome) => {
                    let t = &outcome.timings;
                    o.serving.requests_ok += 1;
                    o.serving.tokens_generated += outcome.tokens_predicted;
                    o.serving.draft_tokens += t.draft_n.unwrap_or(0);
                    o.serving.draft_accepted += t.draft_n_accepted.unwrap_or(0);
                    if let Some(ttft) = outcome.ttft {
                        ttft_ms.push(ttft.as_secs_f64() * 1000.0);
                    }
                    // As the load generator counts it: the first token comes with the prompt.
                    if t.predicted_ms > 0.0 && t.predicted_n > 1 {
                        let rate = (t.predicted_n - 1) as f64 / t.predicted_ms * 1000.0;
                        per_stream.push(rate);
                        round_decode += rate;
                    } else {
                        complete = false;
                    }
                    round_prompt_tokens += t.prompt_n;
                    round_prompt_ms = round_prompt_ms.max(t.prompt_ms);
                }
                Err(e) => {
                    o.serving.requests_failed += 1;
                    complete = false;
                    last_error = Some(e);
                }
            }
        }
        if complete {
            decode_samples.push(round_decode);
            if round_prompt_ms > 0.0 {
                prefill_samples.push(round_prompt_tokens as f64 / round_prompt_ms * 1000.0);
            }
        }
    }
    o.decode = Rate::from_samples(decode_samples);
    o.prefill = Rate::from_samples(prefill_samples);
    o.serving.per_stream_decode = Rate::from_samples(per_stream);
    ttft_ms.sort_by(f64::total_cmp);
    o.serving.ttft_ms_median = ttft_ms.get(ttft_ms.len() / 2).copied();
    if config.speculative {
        let (drafted, accepted) = (o.serving.draft_tokens, o.serving.draft_accepted);
        o.serving.acceptance = (drafted > 0).then(|| accepted as f64 / drafted as f64);
        // Each verification step yields its accepted drafts plus one token of its own; the
        // first token of each request comes with its prompt, not from a decode step. Counted
        // from what the server generated, as a request may end early (end of generation).
        let generated = o.serving.tokens_generated.saturating_sub(o.serving.requests_ok);
        let steps = generated.saturating_sub(accepted);
        if steps > 0 {
            o.tokens_per_step = generated as f64 / steps as f64;
        }
    }
    if let Some(e) = last_error {
        let died_now = matches!(server.child.try_wait(), Ok(Some(_)));
        return Err(if died_now {
            died(&mut server, false)
        } else {
            error(
                format!(
                    "{} of {} requests failed: {e}",
                    o.serving.requests_failed,
                    o.serving.rounds * np
                ),
                Vec::new(),
            )
        });
    }
    Ok(())
}

fn request<'a>(url: &'a str, prompt: &'a [i64], max_tokens: u32) -> stream::Request<'a> {
    stream::Request { url, api_key: None, prompt_tokens: prompt, max_tokens }
}

/// `n_vocab` from `/v1/models`, so that random prompts stay inside the vocabulary.
fn vocabulary_size(agent: &ureq::Agent, url: &str) -> Result<u64, String> {
    let models_url = format!("{url}/v1/models");
    let text = agent
        .get(&models_url)
        .call()
        .and_then(|mut r| r.body_mut().read_to_string())
        .map_err(|e| format!("GET {models_url}: {e}"))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("GET {models_url}: not JSON ({e})"))?;
    value["data"][0]["meta"]["n_vocab"]
        .as_u64()
        .filter(|&n| n > 16)
        .ok_or_else(|| format!("GET {models_url}: no data[0].meta.n_vocab in the answer"))
}

/// `len` token ids from a deterministic generator seeded by `seed`, avoiding the first ids
/// (special tokens in most vocabularies).
fn random_prompt(n_vocab: u64, len: usize, seed: u64) -> Vec<i64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x2545_F491_4F6C_DD1D;
    let span = n_vocab - 16;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (16 + state % span) as i64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_arguments_size_the_context_for_every_slot() {
        let config = Config {
            type_k: Some("q8_0".into()),
            type_v: Some("q8_0".into()),
            depth_tokens: 1024,
            n_prompt: Some(64),
            n_gen: Some(32),
            parallel: Some(2),
            speculative: true,
            n_threads: Some(2),
            ..Config::default()
        };
        let s = ServeSettings {
            llama_server: Path::new("llama-server"),
            model: Path::new("t.gguf"),
            draft: Some(Path::new("d.gguf")),
            rounds: 1,
            timeout: Duration::from_secs(5),
        };
        let args = arguments(&s, &config, 8080).join(" ");
        assert_eq!(
            args,
            "--host 127.0.0.1 --port 8080 -m t.gguf -c 2272 -np 2 --no-cache-prompt --cache-ram 0 \
             -ctk q8_0 -ctv q8_0 -t 2 -md d.gguf --spec-type draft-simple -td 2"
        );
    }

    #[test]
    fn prompts_differ_and_stay_in_the_vocabulary() {
        let a = random_prompt(1058, 500, 0);
        let b = random_prompt(1058, 500, 1);
        assert_ne!(a, b);
        assert!(a.iter().chain(&b).all(|&t| (16..1058).contains(&t)));
        assert_eq!(a, random_prompt(1058, 500, 0));
    }
}
