//! `halo-top serve`: the collectors without a dashboard, and what they see over HTTP.
//!
//! - `/metrics`: Prometheus metrics (OpenMetrics when the scraper asks for it, else the
//!   classic text format 0.0.4), see [`metrics`];
//! - `/snapshot`: the latest snapshot as JSON (the schema of `snapshot --json`);
//! - `/stream`: every snapshot as it is taken, one JSON object a line (NDJSON), for other
//!   halo-top instances (`--remote`);
//! - `/health`: `200` while snapshots are fresh, `503` before the first one or when they stop.
//!
//! The server only ever reads the feed: it runs no command and opens no file on request.

mod http;
pub mod metrics;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use halo_collectors::Snapshot;
use hyper::body::Bytes;

use crate::cli::Global;
use crate::feed::Feed;
use crate::shutdown::Shutdown;
use crate::{hub, sources, workload};

pub use http::{Limits, Server};

/// Runs the collectors and serves them on `listen` until SIGINT, SIGTERM or SIGHUP.
pub async fn run(
    global: &Global,
    listen: SocketAddr,
    token: Option<String>,
    limits: Limits,
) -> Result<()> {
    let mut shutdown = Shutdown::listen()?;
    let mut sources = sources::build(global)?;
    // `--workload` drives a llama-server while serving, as it does for the dashboard.
    let load = workload::start(global);
    sources.extend(load.as_ref().map(workload::Running::source));
    let (feed, _hub) = hub::start(sources, global.interval);
    let host = std::fs::read_to_string(global.procfs_root.join("sys/kernel/hostname"))
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    if token.is_none() && !listen.ip().is_loopback() {
        eprintln!(
            "halo-top: warning: serving on {listen} without --token: anyone who can reach it \
             can read this machine's metrics and process list"
        );
    }
    let server = Server::bind(listen, Exporter::new(feed, host), token, limits)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    // Tests and scripts read the port from this line when they ask for port 0.
    eprintln!(
        "halo-top: serving http://{} (/metrics /snapshot /stream /health)",
        server.local_addr()
    );
    let result = tokio::select! {
        result = server.run() => result,
        signal = shutdown.recv() => {
            eprintln!("halo-top: {signal}, stopping");
            Ok(())
        }
    };
    if let Some(load) = load {
        eprint!("{}", load.finish());
    }
    result
}

/// What the handlers read: the feed, and each response body made once per snapshot however
/// many clients ask for it.
pub struct Exporter {
    pub feed: Feed,
    /// The `host` label when a snapshot has no host name (the host source failed).
    fallback_host: String,
    metrics: Cached<MetricsBodies>,
    json: Cached<Bytes>,
}

/// A response body and the snapshot it was made from.
struct Cached<T>(Mutex<Option<(Arc<Snapshot>, T)>>);

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Self(Mutex::new(None))
    }
}

impl<T: Clone> Cached<T> {
    fn get(&self, snapshot: &Arc<Snapshot>, make: impl FnOnce() -> T) -> T {
        let mut cache = match self.0.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((made_from, body)) = &*cache
            && Arc::ptr_eq(made_from, snapshot)
        {
            return body.clone();
        }
        let body = make();
        *cache = Some((snapshot.clone(), body.clone()));
        body
    }
}

/// `/metrics` in both text formats, made from one encoding.
#[derive(Clone)]
pub struct MetricsBodies {
    pub openmetrics: Bytes,
    pub classic: Bytes,
}

impl Exporter {
    pub fn new(feed: Feed, fallback_host: String) -> Arc<Self> {
        Arc::new(Self { feed, fallback_host, metrics: Cached::default(), json: Cached::default() })
    }

    pub fn latest(&self) -> Option<Arc<Snapshot>> {
        self.feed.latest.borrow().clone()
    }

    /// The metrics of `snapshot` in both formats.
    pub fn metrics(&self, snapshot: &Arc<Snapshot>) -> MetricsBodies {
        self.metrics.get(snapshot, || {
            let open = metrics::openmetrics(snapshot.clone(), &self.fallback_host);
            let classic = metrics::classic_from_openmetrics(&open);
            MetricsBodies { openmetrics: Bytes::from(open), classic: Bytes::from(classic) }
        })
    }

    pub fn json(&self, snapshot: &Arc<Snapshot>) -> Bytes {
        self.json.get(snapshot, || snapshot_json_line(snapshot))
    }
}

/// A snapshot as one line of JSON with its newline (the `/stream` framing).
pub fn snapshot_json_line(snapshot: &Snapshot) -> Bytes {
    // Serialising plain data with string keys cannot fail.
    let mut line = serde_json::to_vec(snapshot).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}
