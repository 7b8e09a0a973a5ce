//! The llama-server collector: `/health`, `/props`, `/metrics`, `/slots` and `/v1/models` of one
//! server (or of every loaded model of a router), read over HTTP with short timeouts.
//!
//! Behaviour of the server that shapes this code (observed on a real server):
//! - While loading, every endpoint answers 503; `/health` is the only always-public endpoint.
//! - `/metrics` exists only with `--metrics` (501 otherwise); `/slots` can be off (501).
//! - `tokens_predicted_total` moves only when a request ends, so the live token count is that
//!   counter plus the busy slots' `n_decoded`. `/metrics` and `/slots` are two requests, and a
//!   request may end between them; reading `/metrics` again after `/slots` and retrying when the
//!   counter moved gives a pair in which no request ended, so the sum is exact.
//! - GET `/slots` wakes a server that sleeps (`--sleep-idle-seconds`) and reloads its model, so
//!   it is skipped while `/props` says `is_sleeping`.
//! - Router mode (`--models-dir`): `/props` says `role: router`; each loaded model of `/models`
//!   is read with `?model=ID&autoload=false`, without which a GET would load the model.

pub(crate) mod http;
pub(crate) mod json;
pub(crate) mod prometheus;

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use http::{Http, HttpError, Reply};

use crate::gguf::ServedModelPath;
use crate::model::{
    LlamaMetrics, LlamaModelInfo, LlamaProps, LlamaServer, Section, generated_tokens,
};
use crate::source::{Source, SourceError};

/// The URL probed when no `--llama` is given.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// `/v1/models` rarely changes; it is read again this often (and after a restart).
const MODELS_EVERY: Duration = Duration::from_secs(30);

/// Retries of the `/metrics`, `/slots`, `/metrics` pass when requests keep ending between reads.
const CONSISTENT_TRIES: usize = 3;

#[derive(Debug, Clone)]
pub struct LlamaConfig {
    pub url: String,
    pub api_key: Option<String>,
    /// Nothing at the URL is "unavailable", not a failure: for the default URL, which is only a
    /// guess.
    pub quiet_probe: bool,
    /// All HTTP calls of one sample must finish within this.
    pub sample_budget: Duration,
    /// Largest response body accepted.
    pub body_cap_bytes: u64,
    /// Where to report the model file this server serves (`/props` `model_path`), for the
    /// roofline's model source.
    pub served_model_path: Option<ServedModelPath>,
}

impl LlamaConfig {
    /// `url` without a scheme (`127.0.0.1:8080`) means plain HTTP.
    pub fn new(url: &str) -> Self {
        let url = url.trim().trim_end_matches('/');
        let url = if url.contains("://") { url.to_string() } else { format!("http://{url}") };
        Self {
            url,
            api_key: None,
            quiet_probe: false,
            sample_budget: Duration::from_millis(700),
            body_cap_bytes: 2 * 1024 * 1024,
            served_model_path: None,
        }
    }
}

pub struct LlamaCollector {
    config: LlamaConfig,
    http: Http,
    models: Vec<LlamaModelInfo>,
    models_at: Option<Instant>,
    process_start_us: Option<u64>,
    restarts: HashMap<Option<String>, RestartWatch>,
}

/// What tells a restart of one serving instance: its process start and counters, as last seen.
#[derive(Default)]
struct RestartWatch {
    process_start_us: Option<u64>,
    tokens_predicted_total: Option<f64>,
    n_decode_total: Option<f64>,
    seen: u64,
}

impl RestartWatch {
    fn update(&mut self, server: &LlamaServer) -> u64 {
        let metrics = server.metrics.as_ref();
        let tokens = metrics.and_then(|m| m.tokens_predicted_total);
        let n_decode = metrics.and_then(|m| m.n_decode_total);
        let went_down = |before: Option<f64>, now: Option<f64>| matches!((before, now), (Some(b), Some(n)) if n < b);
        let new_process = matches!((self.process_start_us, server.process_start_us), (Some(a), Some(b)) if a != b);
        if new_process
            || went_down(self.tokens_predicted_total, tokens)
            || went_down(self.n_decode_total, n_decode)
        {
            self.seen += 1;
        }
        if server.process_start_us.is_some() {
            self.process_start_us = server.process_start_us;
        }
        if metrics.is_some() {
            self.tokens_predicted_total = tokens;
            self.n_decode_total = n_decode;
        }
        self.seen
    }
}

/// Milliseconds of a monotonic clock shared by every collector of this process.
fn clock_ms() -> f64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// A reading of one endpoint that may be absent for a reason that is not a fault.
enum Part<T> {
    Read(T),
    Absent(String),
}

impl LlamaCollector {
    pub fn new(config: LlamaConfig) -> Self {
        let http = Http::new(&config.url, config.api_key.clone(), config.body_cap_bytes);
        Self {
            config,
            http,
            models: Vec::new(),
            models_at: None,
            process_start_us: None,
            restarts: HashMap::new(),
        }
    }

    fn get(&self, path: &str, deadline: Instant) -> Result<Reply, SourceError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(SourceError::Failed(format!(
                "GET {}: not started, the sample's {} ms budget is spent",
                self.http.url(path),
                self.config.sample_budget.as_millis()
            )));
        }
        self.http.get(path, left).map_err(|e| SourceError::Failed(e.to_string()))
    }

    /// A 200 answer, or a failure that says what came instead.
    fn get_ok(&self, path: &str, deadline: Instant) -> Result<Reply, SourceError> {
        let reply = self.get(path, deadline)?;
        self.expect_ok(path, reply)
    }

    fn expect_ok(&self, path: &str, reply: Reply) -> Result<Reply, SourceError> {
        let url = self.http.url(path);
        let status = http::describe_status(&reply);
        match reply.status {
            200 => Ok(reply),
            401 => Err(SourceError::Failed(format!(
                "GET {url}: {status} ({})",
                if self.config.api_key.is_some() {
                    "the API key given is not accepted"
                } else {
                    "give the server's key with --llama-api-key or HALO_TOP_LLAMA_API_KEY"
                }
            ))),
            // Loading (or, in router mode, a model still loading): not a fault.
            503 => Err(SourceError::Unavailable(format!("{url}: {status}"))),
            _ => Err(SourceError::Failed(format!("GET {url}: {status}"))),
        }
    }

    /// `/health`: is a llama-server there, and has it loaded its model?
    fn health(&self, deadline: Instant) -> Result<(), SourceError> {
        let url = &self.config.url;
        let reply = match self.get("/health", deadline) {
            Ok(reply) => reply,
            Err(e) if self.config.quiet_probe => {
                return Err(SourceError::Unavailable(format!("no llama-server at {url} ({e})")));
            }
            Err(e) => return Err(e),
        };
        match reply.status {
            200 => Ok(()),
            503 => Err(SourceError::Unavailable(format!(
                "{url} is not ready: {}",
                http::describe_status(&reply)
            ))),
            _ if self.config.quiet_probe => Err(SourceError::Unavailable(format!(
                "no llama-server at {url} (GET /health: {})",
                http::describe_status(&reply)
            ))),
            _ => Err(SourceError::Failed(format!(
                "GET {url}/health: {}",
                http::describe_status(&reply)
            ))),
        }
    }

    fn props(&self, query: &str, deadline: Instant) -> Result<LlamaProps, SourceError> {
        let path = format!("/props{query}");
        let reply = self.get_ok(&path, deadline)?;
        json::props(&reply.body)
            .map_err(|e| SourceError::Failed(format!("GET {}: {e}", self.http.url(&path))))
    }

    /// `/metrics` and its process-start header; absent (not a fault) when the server has no
    /// `--metrics`.
    fn metrics(
        &self,
        query: &str,
        deadline: Instant,
    ) -> Result<Part<(LlamaMetrics, Option<u64>)>, SourceError> {
        let path = format!("/metrics{query}");
        let reply = self.get(&path, deadline)?;
        if reply.status == 501 {
            return Ok(Part::Absent(format!(
                "/metrics: {} (prefill, totals and speculative figures need it)",
                http::describe_status(&reply)
            )));
        }
        let reply = self.expect_ok(&path, reply)?;
        let metrics = prometheus::parse(&reply.body)
            .map_err(|e| SourceError::Failed(format!("GET {}: {e}", self.http.url(&path))))?;
        Ok(Part::Read((metrics, reply.process_start_us)))
    }

    fn slots(
        &self,
        query: &str,
        deadline: Instant,
    ) -> Result<Part<Vec<crate::model::LlamaSlot>>, SourceError> {
        let path = format!("/slots{query}");
        let reply = self.get(&path, deadline)?;
        if reply.status == 501 {
            return Ok(Part::Absent(format!("/slots: {}", http::describe_status(&reply))));
        }
        let reply = self.expect_ok(&path, reply)?;
        json::slots(&reply.body)
            .map(Part::Read)
            .map_err(|e| SourceError::Failed(format!("GET {}: {e}", self.http.url(&path))))
    }

    /// `/props`, `/metrics` and `/slots` of one serving instance into `server`.
    fn read_instance(
        &self,
        server: &mut LlamaServer,
        query: &str,
        props: Option<LlamaProps>,
        deadline: Instant,
    ) -> Result<(), SourceError> {
        let props = match props {
            Some(props) => props,
            None => self.props(query, deadline)?,
        };
        if let (Some(sink), Some(path)) = (&self.config.served_model_path, &props.model_path)
            && let Ok(mut reported) = sink.lock()
        {
            *reported = Some(path.clone());
        }
        let sleeping = props.is_sleeping == Some(true);
        let want_metrics = props.endpoint_metrics != Some(false);
        let want_slots = props.endpoint_slots != Some(false);
        server.props = Some(props);

        let mut before = None;
        if want_metrics {
            match self.metrics(query, deadline)? {
                Part::Read(m) => before = Some(m),
                Part::Absent(why) => server.issues.push(why),
            }
        } else {
            server.issues.push("/metrics: disabled (start llama-server with --metrics)".into());
        }
        if sleeping {
            server.issues.push("sleeping: /slots not polled (a GET would wake the server)".into());
            if let Some((m, start)) = before {
                server.generated_tokens = m.tokens_predicted_total;
                server.metrics = Some(m);
                server.process_start_us = start;
            }
            server.read_at_ms = Some(clock_ms());
            return Ok(());
        }
        if !want_slots {
            server.issues.push("/slots: disabled (--no-slots)".into());
        }
        for _ in 0..CONSISTENT_TRIES {
            let slots = if want_slots {
                match self.slots(query, deadline)? {
                    Part::Read(s) => Some(s),
                    Part::Absent(why) => {
                        server.issues.push(why);
                        None
                    }
                }
            } else {
                None
            };
            server.read_at_ms = Some(clock_ms());
            let Some(slots) = slots else {
                // Nothing to reconcile: keep the metrics as read.
                if let Some((m, start)) = before {
                    server.metrics = Some(m);
                    server.process_start_us = start;
                }
                return Ok(());
            };
            let Some(counted_before) = before.as_ref().map(|(m, _)| m.tokens_predicted_total)
            else {
                server.slots = Some(slots);
                return Ok(());
            };
            let Part::Read((m2, start)) = self.metrics(query, deadline)? else {
                server.slots = Some(slots);
                return Ok(());
            };
            let consistent = counted_before == m2.tokens_predicted_total;
            if consistent {
                server.generated_tokens = generated_tokens(&m2, &slots);
            }
            server.slots = Some(slots);
            server.metrics = Some(m2.clone());
            server.process_start_us = start;
            if consistent {
                return Ok(());
            }
            before = Some((m2, start));
        }
        server.issues.push(format!(
            "requests kept ending between /metrics and /slots ({CONSISTENT_TRIES} tries): \
             no live token count this time"
        ));
        Ok(())
    }

    fn refresh_models(&mut self, server: &mut LlamaServer, deadline: Instant) {
        let restarted = server.process_start_us.is_some()
            && self.process_start_us.is_some()
            && server.process_start_us != self.process_start_us;
        let stale = self.models_at.is_none_or(|t| t.elapsed() >= MODELS_EVERY);
        if stale || restarted {
            match self.get_ok("/v1/models", deadline).and_then(|r| {
                json::models(&r.body).map_err(|e| {
                    SourceError::Failed(format!("GET {}: {e}", self.http.url("/v1/models")))
                })
            }) {
                Ok(models) => {
                    self.models = models;
                    self.models_at = Some(Instant::now());
                }
                Err(e) => server.issues.push(e.to_string()),
            }
        }
        if server.process_start_us.is_some() {
            self.process_start_us = server.process_start_us;
        }
        server.models = self.models.clone();
    }

    fn read_router(&mut self, deadline: Instant) -> Result<Vec<LlamaServer>, SourceError> {
        let reply = self.get_ok("/models", deadline)?;
        let models = json::models(&reply.body)
            .map_err(|e| SourceError::Failed(format!("GET {}: {e}", self.http.url("/models"))))?;
        let url = self.config.url.clone();
        let entry = |model_id: Option<String>| LlamaServer {
            url: url.clone(),
            router: true,
            model_id,
            models: models.clone(),
            ..LlamaServer::default()
        };
        let loaded: Vec<String> = models
            .iter()
            .filter(|m| m.status.as_deref() == Some("loaded"))
            .map(|m| m.id.clone())
            .collect();
        if loaded.is_empty() {
            let mut idle = entry(None);
            idle.issues.push("router: no model is loaded (halo-top never loads one)".into());
            return Ok(vec![idle]);
        }
        let mut servers = Vec::new();
        for id in loaded {
            let query = format!("?model={}&autoload=false", percent_encode(&id));
            let mut server = entry(Some(id));
            match self.read_instance(&mut server, &query, None, deadline) {
                Ok(()) => {}
                // Unloaded since /models said loaded (400 "model is not loaded"): say so.
                Err(SourceError::Failed(e) | SourceError::Unavailable(e)) => server.issues.push(e),
            }
            server.restarts_seen =
                self.restarts.entry(server.model_id.clone()).or_default().update(&server);
            servers.push(server);
        }
        Ok(servers)
    }

    /// Reads the server once: one entry, or one per loaded model of a router.
    pub fn read(&mut self) -> Result<Vec<LlamaServer>, SourceError> {
        let deadline = Instant::now() + self.config.sample_budget;
        self.health(deadline)?;
        let props = self.props("", deadline)?;
        if props.role.as_deref() == Some("router") {
            return self.read_router(deadline);
        }
        let mut server = LlamaServer { url: self.config.url.clone(), ..LlamaServer::default() };
        self.read_instance(&mut server, "", Some(props), deadline)?;
        self.refresh_models(&mut server, deadline);
        server.restarts_seen = self.restarts.entry(None).or_default().update(&server);
        Ok(vec![server])
    }
}

impl Source for LlamaCollector {
    fn name(&self) -> String {
        format!("llama:{}", self.config.url)
    }

    fn sample(&mut self) -> Result<Section, SourceError> {
        self.read().map(Section::Llama)
    }
}

/// Percent-encodes a model id for a query string (ids are file names; keep it safe).
fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod test_capture {
    //! Reads a capture of `fixtures/llama-server/`: comment lines, status line, headers, body.
    use super::Reply;

    pub fn capture(rel: &str) -> Reply {
        let path = format!("{}/../fixtures/llama-server/{rel}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let start = text.find("HTTP/1.1 ").unwrap_or_else(|| panic!("{path}: no status line"));
        let response = &text[start..];
        let (head, body) = response.split_once("\n\n").unwrap_or((response, ""));
        let mut lines = head.lines();
        let status = lines.next().unwrap()[9..12].parse().unwrap();
        let process_start_us = lines
            .filter_map(|l| l.split_once(": "))
            .find(|(k, _)| k.eq_ignore_ascii_case("Process-Start-Time-Unix"))
            .map(|(_, v)| v.trim().parse().unwrap());
        // A capture holding several responses (a poll series) ends this one at the next marker.
        let body = body.split("\n\n--- ").next().unwrap_or("").to_string();
        Reply { status, body, process_start_us }
    }
}

#[cfg(test)]
mod tests;
