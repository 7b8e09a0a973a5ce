//! Replay: a session file published into the same channels as the live hub, paced by the
//! recorded `mono_ms` and the chosen speed.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use halo_collectors::Snapshot;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::feed::{Feed, FeedMode, Publisher, ReplayState};
use crate::session::SessionReader;

/// Opens `path` (errors in the header come back at once) and starts playing it from `from`
/// into the session (by its `mono_ms`).
pub fn start(path: &Path, speed: f64, from: Duration) -> Result<(Feed, JoinHandle<()>)> {
    let reader = SessionReader::open(path)?;
    let state = ReplayState { speed, paused: false, ended: false, error: None };
    let (publisher, feed) = Publisher::new(FeedMode::Replay(state));
    // Reading and parsing happen on a blocking thread, a few snapshots ahead of the player.
    let (tx, rx) = mpsc::channel(64);
    let from_ms = u64::try_from(from.as_millis()).unwrap_or(u64::MAX);
    tokio::task::spawn_blocking(move || read_ahead(reader, from_ms, tx));
    let player = tokio::spawn(play(rx, publisher));
    Ok((feed, player))
}

enum Item {
    Snapshot(Box<Snapshot>),
    Problem(String),
}

fn read_ahead(mut reader: SessionReader, from_ms: u64, tx: mpsc::Sender<Item>) {
    loop {
        let item = match reader.next_snapshot() {
            Ok(Some(s)) if s.mono_ms < from_ms => continue,
            Ok(Some(s)) => Item::Snapshot(Box::new(s)),
            Ok(None) => break,
            Err(e) => Item::Problem(format!("{e:#}")),
        };
        let stop = matches!(item, Item::Problem(_));
        if tx.blocking_send(item).is_err() || stop {
            return;
        }
    }
    for warning in reader.warnings() {
        if tx.blocking_send(Item::Problem(warning.clone())).is_err() {
            return;
        }
    }
}

async fn play(mut items: mpsc::Receiver<Item>, publisher: Publisher) {
    let mut previous_mono_ms: Option<u64> = None;
    while let Some(item) = items.recv().await {
        match item {
            Item::Snapshot(snapshot) => {
                if let Some(prev) = previous_mono_ms {
                    let speed = match publisher.mode() {
                        FeedMode::Replay(state) => state.speed,
                        FeedMode::Live => 1.0,
                    };
                    let gap_ms = snapshot.mono_ms.saturating_sub(prev) as f64 / speed;
                    tokio::time::sleep(Duration::from_secs_f64(gap_ms / 1000.0)).await;
                }
                previous_mono_ms = Some(snapshot.mono_ms);
                publisher.publish(*snapshot);
            }
            Item::Problem(problem) => publisher.set_mode(|mode| {
                if let FeedMode::Replay(state) = mode {
                    state.error = Some(problem);
                }
            }),
        }
    }
    publisher.set_mode(|mode| {
        if let FeedMode::Replay(state) = mode {
            state.ended = true;
        }
    });
    // Keep the channels open so the dashboard goes on showing the last snapshot.
    std::future::pending::<()>().await;
}
