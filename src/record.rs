//! `halo-top record`: every snapshot to a session file, no dashboard. `soak` records the same
//! way and watches the snapshots go by through an [`Observer`].

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use halo_collectors::Snapshot;
use tokio::sync::broadcast::error::RecvError;

use crate::feed::Feed;
use crate::session::{Footer, Header, SessionWriter};
use crate::shutdown::Shutdown;

pub fn unix_ms_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Sees every snapshot written, and completes the footer.
pub trait Observer {
    fn snapshot(&mut self, _snapshot: &Snapshot) {}
    /// How often [`Observer::tick`] runs, if at all.
    fn tick_every(&self) -> Option<Duration> {
        None
    }
    fn tick(&mut self) {}
    /// Whether SIGHUP stops the recording. A headless soak keeps going when its terminal closes.
    fn stops_on_hangup(&self) -> bool {
        true
    }
    /// Called once recording stopped, before the footer is written.
    fn finish(&mut self, _footer: &mut Footer) {}
}

struct Plain;
impl Observer for Plain {}

/// Writes every snapshot of `feed` to `path` until `duration` has passed or a signal arrives.
pub async fn record(
    feed: &Feed,
    header: Header,
    path: &Path,
    duration: Option<Duration>,
) -> Result<Footer> {
    record_with(feed, header, path, duration, &mut Plain).await
}

pub async fn record_with(
    feed: &Feed,
    header: Header,
    path: &Path,
    duration: Option<Duration>,
    observer: &mut impl Observer,
) -> Result<Footer> {
    let mut snapshots = feed.subscribe();
    let mut writer = SessionWriter::create(path, &header)?;
    let mut shutdown = Shutdown::listen()?;
    let deadline = duration.map(|d| tokio::time::Instant::now() + d);
    let until_deadline = async {
        match deadline {
            Some(t) => tokio::time::sleep_until(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(until_deadline);
    let tick_every = observer.tick_every();
    let mut ticker = tokio::time::interval(tick_every.unwrap_or(Duration::from_secs(3600)));
    ticker.tick().await; // the first tick is immediate
    let mut missed = 0;
    let stop_reason = loop {
        tokio::select! {
            received = snapshots.recv() => match received {
                Ok(snapshot) => {
                    writer.write_snapshot(&snapshot)?;
                    observer.snapshot(&snapshot);
                }
                // We fell behind (a slow disk): the gap shows in `seq` and in the footer.
                Err(RecvError::Lagged(n)) => missed += n,
                Err(RecvError::Closed) => break "feed closed".to_string(),
            },
            () = &mut until_deadline => break "duration".to_string(),
            signal = shutdown.recv() => {
                if signal == "SIGHUP" && !observer.stops_on_hangup() {
                    continue;
                }
                break format!("signal {signal}");
            }
            _ = ticker.tick(), if tick_every.is_some() => observer.tick(),
        }
    };
    let mut footer = Footer {
        ended_unix_ms: unix_ms_now(),
        snapshots: writer.written(),
        missed,
        stop_reason: Some(stop_reason),
        verdict: None,
    };
    observer.finish(&mut footer);
    writer.finish(&footer)?;
    Ok(footer)
}
