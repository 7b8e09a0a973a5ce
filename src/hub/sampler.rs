//! A source's own sampling thread.
//!
//! Each source keeps one long-lived thread for its blocking `sample` calls rather than taking
//! whichever thread of tokio's blocking pool is free. Why: glibc spreads threads over several
//! malloc arenas, and a collector that moved between pool threads left its per-sample garbage in
//! all of them; RSS crept up through the hour-long soak while the heap stayed flat (issue 11,
//! `docs/reliability.md`). With one thread per source each arena sees one repeating pattern and
//! settles. A stalled read still holds only its own thread: the async side stops waiting at the
//! timeout and reports the source as still running until the read returns.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::Duration;

use halo_collectors::{Section, Source, SourceError};
use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<Section, SourceError>>;

/// The async side of a source's thread.
pub struct Sampler {
    requests: SyncSender<Reply>,
    /// Set when a request is sent, cleared by the thread when `sample` returns.
    busy: Arc<AtomicBool>,
    timeout: Duration,
}

impl Sampler {
    /// Moves `source` onto a thread of its own; the thread ends when the `Sampler` is dropped
    /// (after any sample in progress returns).
    pub fn spawn(source: Box<dyn Source>, timeout: Duration) -> std::io::Result<Self> {
        let (requests, incoming) = mpsc::sync_channel(1);
        let busy = Arc::new(AtomicBool::new(false));
        let thread_busy = busy.clone();
        std::thread::Builder::new()
            .name(format!("halo-{}", source.name()))
            .spawn(move || serve(source, &incoming, &thread_busy))?;
        Ok(Self { requests, busy, timeout })
    }

    /// One sample, or why there is none: the previous one is still running, this one timed out,
    /// or the collector panicked.
    pub async fn sample(&self) -> Result<Section, SourceError> {
        let timeout_ms = self.timeout.as_millis();
        if self.busy.swap(true, Ordering::AcqRel) {
            return Err(SourceError::Failed(format!(
                "previous sample still running after {timeout_ms} ms"
            )));
        }
        let (reply, answer) = oneshot::channel();
        // Not busy, so the thread has taken every earlier request: a full or closed channel, or
        // a reply dropped unanswered, means the thread is gone (and will stay gone, not busy).
        let stopped = || {
            self.busy.store(false, Ordering::Release);
            Err(SourceError::Failed("collector thread has stopped".into()))
        };
        if self.requests.try_send(reply).is_err() {
            return stopped();
        }
        match tokio::time::timeout(self.timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => stopped(),
            Err(_) => Err(SourceError::Failed(format!("timed out after {timeout_ms} ms"))),
        }
    }
}

fn serve(mut source: Box<dyn Source>, incoming: &Receiver<Reply>, busy: &AtomicBool) {
    let mut panicked = false;
    while let Ok(reply) = incoming.recv() {
        let result = if panicked {
            Err(SourceError::Failed("collector panicked earlier".into()))
        } else {
            catch_unwind(AssertUnwindSafe(|| source.sample())).unwrap_or_else(|panic| {
                // Its state may be half-updated: it is not asked again.
                panicked = true;
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(SourceError::Failed(format!("collector panicked: {message}")))
            })
        };
        busy.store(false, Ordering::Release);
        // The async side may have stopped waiting (timeout): nobody to tell, which is fine.
        let _ = reply.send(result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Panics on its first sample, which must not take the dashboard down with it.
    struct Panicky;

    impl Source for Panicky {
        fn name(&self) -> String {
            "panicky".into()
        }
        fn sample(&mut self) -> Result<Section, SourceError> {
            panic!("boom")
        }
    }

    fn failure(result: Result<Section, SourceError>) -> String {
        match result {
            Err(SourceError::Failed(error)) => error,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_panicking_collector_is_reported_and_not_asked_again() {
        // Generous: with RUST_BACKTRACE set, printing the panic's backtrace takes seconds.
        let sampler = Sampler::spawn(Box::new(Panicky), Duration::from_secs(120)).unwrap();
        assert_eq!(failure(sampler.sample().await), "collector panicked: boom");
        assert_eq!(failure(sampler.sample().await), "collector panicked earlier");
    }
}
