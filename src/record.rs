//! `halo-top record`: every snapshot to a session file, no dashboard.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
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

/// Writes every snapshot of `feed` to `path` until `duration` has passed or a signal arrives.
pub async fn record(
    feed: &Feed,
    header: Header,
    path: &Path,
    duration: Option<Duration>,
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
    let mut missed = 0;
    let stop_reason = loop {
        tokio::select! {
            received = snapshots.recv() => match received {
                Ok(snapshot) => writer.write_snapshot(&snapshot)?,
                // We fell behind (a slow disk): the gap shows in `seq` and in the footer.
                Err(RecvError::Lagged(n)) => missed += n,
                Err(RecvError::Closed) => break "feed closed".to_string(),
            },
            () = &mut until_deadline => break "duration".to_string(),
            signal = shutdown.recv() => break format!("signal {signal}"),
        }
    };
    let footer = Footer {
        ended_unix_ms: unix_ms_now(),
        snapshots: writer.written(),
        missed,
        stop_reason: Some(stop_reason),
    };
    writer.finish(&footer)?;
    Ok(footer)
}
