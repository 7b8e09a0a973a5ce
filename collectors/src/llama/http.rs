//! A small blocking HTTP client for llama-server: short timeouts, a cap on body size, the API
//! key on every request, and errors that name the URL and say what went wrong.

use std::time::Duration;

use serde::Deserialize;

/// What came back from one GET.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// `Process-Start-Time-Unix` (only `/metrics` sends it): CLOCK_MONOTONIC µs at server start.
    pub process_start_us: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HttpError {
    /// Nothing listens there (or the host is unreachable).
    #[error("cannot connect to {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("GET {url}: no complete answer within {ms} ms")]
    Timeout { url: String, ms: u128 },
    #[error("GET {url}: response body larger than the {cap} byte cap")]
    TooLarge { url: String, cap: u64 },
    #[error("GET {url}: {detail}")]
    Other { url: String, detail: String },
}

pub struct Http {
    agent: ureq::Agent,
    base: String,
    api_key: Option<String>,
    body_cap: u64,
}

impl Http {
    pub fn new(base_url: &str, api_key: Option<String>, body_cap: u64) -> Self {
        let agent = ureq::Agent::config_builder()
            // Error statuses are answers too (401, 501, 503 all mean something here).
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_millis(500)))
            .max_redirects(0)
            .build()
            .into();
        Self { agent, base: base_url.trim_end_matches('/').to_string(), api_key, body_cap }
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.base, path_and_query)
    }

    /// GET `path_and_query`; the whole exchange, body included, must finish within `timeout`.
    pub fn get(&self, path_and_query: &str, timeout: Duration) -> Result<Reply, HttpError> {
        let url = self.url(path_and_query);
        let mut request = self.agent.get(&url).config().timeout_global(Some(timeout)).build();
        if let Some(key) = &self.api_key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        let mut response = request.call().map_err(|e| classify(&url, timeout, self.body_cap, e))?;
        let status = response.status().as_u16();
        let process_start_us = response
            .headers()
            .get("Process-Start-Time-Unix")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = response
            .body_mut()
            .with_config()
            .limit(self.body_cap)
            .read_to_string()
            .map_err(|e| classify(&url, timeout, self.body_cap, e))?;
        Ok(Reply { status, body, process_start_us })
    }
}

fn classify(url: &str, timeout: Duration, cap: u64, error: ureq::Error) -> HttpError {
    let url = url.to_string();
    match error {
        ureq::Error::Timeout(_) => HttpError::Timeout { url, ms: timeout.as_millis() },
        ureq::Error::BodyExceedsLimit(_) => HttpError::TooLarge { url, cap },
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
            HttpError::Connect { url, detail: error.to_string() }
        }
        ureq::Error::Io(e) => match e.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                HttpError::Connect { url, detail: "connection refused".into() }
            }
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                HttpError::Timeout { url, ms: timeout.as_millis() }
            }
            std::io::ErrorKind::InvalidData => {
                HttpError::Other { url, detail: format!("body is not UTF-8 text ({e})") }
            }
            _ => HttpError::Other { url, detail: format!("I/O error: {e}") },
        },
        ureq::Error::Protocol(e) => {
            HttpError::Other { url, detail: format!("not a valid HTTP response ({e})") }
        }
        other => HttpError::Other { url, detail: other.to_string() },
    }
}

/// llama-server's error body: `{"error":{"code":N,"message":"…","type":"…"}}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

/// `HTTP 501 (not_supported_error): This server does not support metrics endpoint...`, or the
/// start of the body when it is not llama-server's error JSON.
pub fn describe_status(reply: &Reply) -> String {
    match serde_json::from_str::<ErrorBody>(&reply.body) {
        Ok(ErrorBody { error: ErrorDetail { message, kind } }) => format!(
            "HTTP {} ({}): {}",
            reply.status,
            kind.as_deref().unwrap_or("error"),
            message.as_deref().unwrap_or("no message")
        ),
        Err(_) => format!("HTTP {}: {}", reply.status, excerpt(&reply.body)),
    }
}

/// The first line of a body, cut short, for error messages.
pub fn excerpt(body: &str) -> String {
    let line = body.trim_start().lines().next().unwrap_or("");
    let cut: String = line.chars().take(80).collect();
    if cut.is_empty() {
        "empty body".into()
    } else if cut.len() < line.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}
