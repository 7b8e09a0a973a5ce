//! The channels every consumer reads: a `watch` of the latest snapshot (dashboard, exporter) and
//! a `broadcast` of every snapshot (loggers). The live hub and replay both publish through a
//! [`Publisher`], so no consumer knows which one feeds it.

use std::sync::Arc;

use halo_collectors::Snapshot;
pub use halo_collectors::model::{FeedMode, ReplayState};
use tokio::sync::{broadcast, watch};

/// Snapshots a slow logger may fall behind by before it starts missing some. At 1 s intervals
/// this is over a minute of slack; a logger that lags further records a gap, never blocks.
const BROADCAST_CAPACITY: usize = 128;

/// What the dashboard asks of a replay (the live hub takes no orders).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReplayCommand {
    TogglePause,
    /// Show the next snapshot and stay paused.
    Step,
    /// Jump by this many ms of session time (negative: back).
    Seek(i64),
    /// Multiply the speed by this factor.
    Speed(f64),
}

/// The consumer side.
#[derive(Clone)]
pub struct Feed {
    pub latest: watch::Receiver<Option<Arc<Snapshot>>>,
    pub mode: watch::Receiver<FeedMode>,
    all: broadcast::Sender<Arc<Snapshot>>,
    /// Set by a replay: where the dashboard's replay keys go.
    pub control: Option<std::sync::mpsc::Sender<ReplayCommand>>,
}

impl Feed {
    /// Every snapshot from now on. A receiver that lags gets `RecvError::Lagged(n)`.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Snapshot>> {
        self.all.subscribe()
    }
}

/// The producer side.
pub struct Publisher {
    latest: watch::Sender<Option<Arc<Snapshot>>>,
    all: broadcast::Sender<Arc<Snapshot>>,
    mode: watch::Sender<FeedMode>,
}

impl Publisher {
    pub fn new(mode: FeedMode) -> (Publisher, Feed) {
        let (latest_tx, latest_rx) = watch::channel(None);
        let (all_tx, _) = broadcast::channel(BROADCAST_CAPACITY);
        let (mode_tx, mode_rx) = watch::channel(mode);
        let feed = Feed { latest: latest_rx, mode: mode_rx, all: all_tx.clone(), control: None };
        (Publisher { latest: latest_tx, all: all_tx, mode: mode_tx }, feed)
    }

    pub fn publish(&self, snapshot: Snapshot) {
        let snapshot = Arc::new(snapshot);
        // No receivers is fine: nobody may be logging.
        let _ = self.all.send(snapshot.clone());
        self.latest.send_replace(Some(snapshot));
    }

    pub fn set_mode(&self, update: impl FnOnce(&mut FeedMode)) {
        self.mode.send_modify(update);
    }

    pub fn mode(&self) -> FeedMode {
        self.mode.borrow().clone()
    }
}
