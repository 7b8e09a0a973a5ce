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

/// The consumer side.
#[derive(Clone)]
pub struct Feed {
    pub latest: watch::Receiver<Option<Arc<Snapshot>>>,
    pub mode: watch::Receiver<FeedMode>,
    all: broadcast::Sender<Arc<Snapshot>>,
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
        let feed = Feed { latest: latest_rx, mode: mode_rx, all: all_tx.clone() };
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
