//! A remote halo-top (`--remote URL`): a task that follows the remote's `/stream` and keeps its
//! latest snapshot and the state of the link, reconnecting every second while it is gone.
//!
//! Plain HTTP only: for another network put the remote behind an SSH tunnel or a TLS proxy.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use halo_collectors::Snapshot;
use halo_widgets::fleet_pane::HostStatus;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

/// How long a connection attempt, or the response to the request, may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time between connection attempts while the remote is gone.
const RETRY_EVERY: Duration = Duration::from_secs(1);
/// A remote gone this long is unreachable; before that it is stale (a restart takes seconds).
pub const UNREACHABLE_AFTER: Duration = Duration::from_secs(10);
/// A snapshot is a few tens of KB; a line this long is not one.
const MAX_LINE_BYTES: usize = 16 << 20;

/// `http://HOST:PORT[/PREFIX]`, checked once at start so that a typo fails at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    pub text: String,
    authority: String,
    host: String,
    port: u16,
    prefix: String,
}

impl RemoteUrl {
    pub fn parse(text: &str) -> Result<RemoteUrl> {
        let text = text.trim();
        let uri: Uri = text.parse().with_context(|| format!("{text:?} is not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => bail!(
                "{text}: https is not supported; reach the remote through an SSH tunnel or a \
                 TLS proxy and give its http:// address"
            ),
            _ => bail!("{text}: give an http:// URL, e.g. http://strix2:9464"),
        }
        let authority = uri.authority().ok_or_else(|| anyhow!("{text}: no host"))?;
        let prefix = uri.path().trim_end_matches('/').to_string();
        Ok(RemoteUrl {
            text: text.to_string(),
            authority: authority.as_str().to_string(),
            host: authority.host().trim_matches(['[', ']']).to_string(),
            port: authority.port_u16().unwrap_or(9464),
            prefix,
        })
    }
}

/// What the dashboard knows about the link to a remote.
#[derive(Debug, Clone, Default)]
pub struct Link {
    pub connected: bool,
    pub last_snapshot_at: Option<Instant>,
    /// When the link last went down (`None` while it is up).
    pub down_since: Option<Instant>,
    /// The last reason it went down, naming the URL.
    pub error: Option<String>,
}

impl Link {
    /// Live, stale or unreachable at `now`, given the remote's snapshot interval.
    pub fn status(&self, interval_ms: Option<u64>, now: Instant) -> HostStatus {
        let age = self.last_snapshot_at.map(|t| now.saturating_duration_since(t));
        let late = |age: Duration| {
            // Two and a half intervals: one missed snapshot is jitter, two are not.
            let interval = Duration::from_millis(interval_ms.unwrap_or(1000));
            age > interval.mul_f64(2.5)
        };
        let error = || self.error.clone().unwrap_or_else(|| "no connection".into());
        match (self.connected, age) {
            (false, None) if self.error.is_some() => HostStatus::Unreachable { error: error() },
            (false, _)
                if self.down_since.is_some_and(|t| now.duration_since(t) >= UNREACHABLE_AFTER) =>
            {
                HostStatus::Unreachable { error: error() }
            }
            (_, None) => HostStatus::Connecting,
            (false, Some(age)) => HostStatus::Stale { age_s: age.as_secs_f64() },
            (true, Some(age)) if late(age) => HostStatus::Stale { age_s: age.as_secs_f64() },
            (true, Some(_)) => HostStatus::Live,
        }
    }
}

/// A followed remote. Dropping it stops the task.
pub struct Remote {
    pub url: RemoteUrl,
    pub latest: watch::Receiver<Option<Arc<Snapshot>>>,
    pub link: watch::Receiver<Link>,
    task: JoinHandle<()>,
}

impl Drop for Remote {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Remote {
    pub fn start(url: RemoteUrl, token: Option<String>) -> Remote {
        let (latest_tx, latest) = watch::channel(None);
        let (link_tx, link) = watch::channel(Link::default());
        let task = tokio::spawn(keep_following(url.clone(), token, latest_tx, link_tx));
        Remote { url, latest, link, task }
    }
}

async fn keep_following(
    url: RemoteUrl,
    token: Option<String>,
    latest: watch::Sender<Option<Arc<Snapshot>>>,
    link: watch::Sender<Link>,
) {
    loop {
        let error = match follow(&url, token.as_deref(), &latest, &link).await {
            Ok(()) => anyhow!("the stream ended"),
            Err(e) => e,
        };
        link.send_modify(|l| {
            l.connected = false;
            l.error = Some(format!("{}: {error:#}", url.text));
            l.down_since.get_or_insert_with(Instant::now);
        });
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

/// Connects, asks for `/stream`, and publishes every snapshot until the stream breaks.
async fn follow(
    url: &RemoteUrl,
    token: Option<&str>,
    latest: &watch::Sender<Option<Arc<Snapshot>>>,
    link: &watch::Sender<Link>,
) -> Result<()> {
    let stream = timeout(CONNECT_TIMEOUT, TcpStream::connect((url.host.as_str(), url.port)))
        .await
        .map_err(|_| anyhow!("no answer to connect within {} s", CONNECT_TIMEOUT.as_secs()))?
        .context("cannot connect")?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    // Drives the connection; dropped (and stopped) when this function returns.
    let _connection = AbortOnDrop(tokio::spawn(connection));
    let mut request = Request::get(format!("{}/stream", url.prefix))
        .header(header::HOST, &url.authority)
        .header(header::ACCEPT, "application/x-ndjson")
        .body(Empty::<Bytes>::new())?;
    if let Some(token) = token {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .context("the remote token is not a valid header value")?;
        request.headers_mut().insert(header::AUTHORIZATION, value);
    }
    let response = timeout(CONNECT_TIMEOUT, sender.send_request(request))
        .await
        .map_err(|_| anyhow!("no response within {} s", CONNECT_TIMEOUT.as_secs()))??;
    match response.status() {
        StatusCode::OK => {}
        StatusCode::UNAUTHORIZED => bail!("HTTP 401: wrong or missing --remote-token"),
        status => bail!("HTTP {status} for /stream (is it halo-top serve?)"),
    }
    link.send_modify(|l| {
        l.connected = true;
        l.error = None;
    });
    let mut body = response.into_body();
    let mut pending: Vec<u8> = Vec::new();
    let mut read_timeout = Duration::from_secs(10);
    loop {
        let frame = timeout(read_timeout, body.frame())
            .await
            .map_err(|_| anyhow!("no data for {} s", read_timeout.as_secs()))?;
        let Some(frame) = frame else { bail!("the remote closed the stream") };
        let Ok(data) = frame?.into_data() else { continue };
        pending.extend_from_slice(&data);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let snapshot: Snapshot =
                serde_json::from_slice(&line).context("malformed snapshot in /stream")?;
            // The remote sends one a interval: silence for four of them is a broken link.
            read_timeout = Duration::from_millis(snapshot.interval_ms.saturating_mul(4))
                .max(Duration::from_secs(5));
            latest.send_replace(Some(Arc::new(snapshot)));
            link.send_modify(|l| {
                l.last_snapshot_at = Some(Instant::now());
                l.down_since = None;
            });
        }
        if pending.len() > MAX_LINE_BYTES {
            bail!("a /stream line longer than {} MiB", MAX_LINE_BYTES >> 20);
        }
    }
}

struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests;
