//! The contract between a collector and the app's source runner.

use std::time::Duration;

use crate::model::Section;

/// Why a sample produced no section.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The thing to read does not exist here (no GPU, no driver, no server). Not a fault.
    #[error("{0}")]
    Unavailable(String),
    /// The thing exists but reading it failed (bad data, permission denied, I/O error).
    #[error("{0}")]
    Failed(String),
}

/// A collector. `sample` may block (file reads, HTTP with its own timeout); the runner calls it
/// off the async threads, at most one call at a time, and gives up waiting after `timeout`.
pub trait Source: Send + 'static {
    /// Unique name of this source in the snapshot's status list, e.g. `host` or `llama:URL`.
    fn name(&self) -> String;

    /// How often to sample, given the hub's interval. Most sources follow the interval.
    fn period(&self, interval: Duration) -> Duration {
        interval
    }

    /// How long one sample may take before it counts as failed. A sample must finish before
    /// the next one is due, or readings pile up behind a stalled read.
    fn timeout(&self, period: Duration) -> Duration {
        period.mul_f64(0.8)
    }

    /// Takes one reading.
    fn sample(&mut self) -> Result<Section, SourceError>;
}
