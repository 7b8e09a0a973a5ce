//! The HTTP side of `serve`: hyper's HTTP/1 server with the limits that keep a scraper or a
//! stranger from hurting the machine being watched.
//!
//! - at most [`Limits::connections`] connections at once; one more is answered `503` and closed;
//! - request headers must arrive within [`Limits::header_timeout`] and fit in
//!   [`Limits::header_bytes`];
//! - only `GET` and `HEAD`, and no request body at all (`413`): nothing here reads one;
//! - with a token, every path but `/health` needs `Authorization: Bearer TOKEN` (`401`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, broadcast};

use super::Exporter;

type Body = BoxBody<Bytes, Infallible>;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub connections: usize,
    pub header_timeout: Duration,
    pub header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // A Prometheus or two, a few dashboards and someone with curl.
        Self { connections: 32, header_timeout: Duration::from_secs(5), header_bytes: 16 * 1024 }
    }
}

pub struct Server {
    listener: TcpListener,
    exporter: Arc<Exporter>,
    token: Option<Arc<str>>,
    limits: Limits,
}

const OVER_LIMIT: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
content-length: 21\r\nconnection: close\r\n\r\ntoo many connections\n";

impl Server {
    pub async fn bind(
        addr: SocketAddr,
        exporter: Arc<Exporter>,
        token: Option<String>,
        limits: Limits,
    ) -> Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Server { listener, exporter, token: token.map(Arc::from), limits })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Accepts connections until the task is dropped.
    pub async fn run(self) -> Result<()> {
        let slots = Arc::new(Semaphore::new(self.limits.connections));
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_timeout)
            .max_buf_size(self.limits.header_bytes.max(8192));
        let builder = Arc::new(builder);
        loop {
            let (mut stream, _peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait, do not spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                tokio::spawn(async move {
                    let _ = stream.write_all(OVER_LIMIT).await;
                    let _ = stream.shutdown().await;
                });
                continue;
            };
            let (exporter, token, builder) =
                (self.exporter.clone(), self.token.clone(), builder.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let response = handle(&exporter, token.as_deref(), &request);
                    async move { Ok::<_, Infallible>(response) }
                });
                let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                drop(slot);
            });
        }
    }
}

fn full(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    full(status, "text/plain; charset=utf-8", body)
}

/// Compares in time that does not depend on where the first difference is.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given.iter().zip(expected).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

fn authorised(request: &Request<Incoming>, token: &str) -> bool {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else { return false };
    let value = value.as_bytes();
    value.len() > 7
        && value[..7].eq_ignore_ascii_case(b"bearer ")
        && same_secret(&value[7..], token.as_bytes())
}

fn has_body(request: &Request<Incoming>) -> bool {
    let headers = request.headers();
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    headers.contains_key(header::TRANSFER_ENCODING) || length.is_some_and(|l| l.trim() != "0")
}

pub fn handle(
    exporter: &Arc<Exporter>,
    token: Option<&str>,
    request: &Request<Incoming>,
) -> Response<Body> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    if has_body(request) {
        return text(StatusCode::PAYLOAD_TOO_LARGE, "this server takes no request body\n");
    }
    let path = request.uri().path();
    if path != "/health"
        && let Some(token) = token
        && !authorised(request, token)
    {
        let mut r = text(StatusCode::UNAUTHORIZED, "a bearer token is required\n");
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    }
    let latest = exporter.latest();
    match (path, latest) {
        ("/health", latest) => health(latest.as_deref()),
        ("/stream", latest) => stream(exporter, latest),
        ("/metrics" | "/snapshot", None) => {
            text(StatusCode::SERVICE_UNAVAILABLE, "no snapshot yet\n")
        }
        ("/metrics", Some(s)) => {
            let bodies = exporter.metrics(&s);
            if wants_openmetrics(request) {
                full(
                    StatusCode::OK,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    bodies.openmetrics,
                )
            } else {
                full(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", bodies.classic)
            }
        }
        ("/snapshot", Some(s)) => full(StatusCode::OK, "application/json", exporter.json(&s)),
        _ => text(StatusCode::NOT_FOUND, "try /metrics, /snapshot, /stream or /health\n"),
    }
}

/// Prometheus asks for OpenMetrics in its Accept header; curl and promtool do not.
fn wants_openmetrics(request: &Request<Incoming>) -> bool {
    request
        .headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"))
}

fn health(latest: Option<&halo_collectors::Snapshot>) -> Response<Body> {
    let Some(s) = latest else {
        return full(
            StatusCode::SERVICE_UNAVAILABLE,
            "application/json",
            "{\"status\":\"starting\"}\n",
        );
    };
    let age_ms = crate::record::unix_ms_now().saturating_sub(s.ts_unix_ms).max(0);
    // Three intervals without a snapshot means the hub has stopped.
    let fresh = age_ms <= i64::try_from(s.interval_ms.saturating_mul(3)).unwrap_or(i64::MAX);
    let (status, word) =
        if fresh { (StatusCode::OK, "ok") } else { (StatusCode::SERVICE_UNAVAILABLE, "stale") };
    let body = format!("{{\"status\":\"{word}\",\"seq\":{},\"age_ms\":{age_ms}}}\n", s.seq);
    full(status, "application/json", body)
}

/// The latest snapshot at once (if there is one yet), then every new one, a JSON object a
/// line. A client that falls behind by more than the feed's buffer skips snapshots (the gap
/// shows in `seq`).
fn stream(
    exporter: &Arc<Exporter>,
    latest: Option<Arc<halo_collectors::Snapshot>>,
) -> Response<Body> {
    let first = latest.as_ref().map(|s| exporter.json(s));
    let sent_seq = latest.map(|s| s.seq);
    let receiver = exporter.feed.subscribe();
    let exporter = exporter.clone();
    let rest = futures::stream::unfold(
        (receiver, exporter, sent_seq),
        |(mut receiver, exporter, mut sent_seq)| async move {
            loop {
                match receiver.recv().await {
                    Ok(s) if sent_seq.is_some_and(|sent| s.seq <= sent) => continue,
                    Ok(s) => {
                        sent_seq = Some(s.seq);
                        let line = exporter.json(&s);
                        return Some((line, (receiver, exporter, sent_seq)));
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    let lines =
        futures::stream::iter(first).chain(rest).map(|line| Ok::<_, Infallible>(Frame::data(line)));
    let mut response = Response::new(BodyExt::boxed(StreamBody::new(lines)));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
