//! The source runner and the hub.
//!
//! Each source runs on its own task at its own period; its (possibly blocking) `sample` call
//! runs on the source's own thread under a timeout (see `sampler`), so a stalled read never
//! delays the other sources or the UI. Sources send their readings to the hub over a channel;
//! the hub alone owns the latest reading of every source, and every interval merges them into
//! one snapshot, derives, and publishes.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use halo_collectors::{Section, Snapshot, Source, SourceError, SourceState, SourceStatus};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{MissedTickBehavior, interval_at};

use crate::derive::derive;
use crate::feed::{Feed, FeedMode, Publisher};

mod sampler;
use sampler::Sampler;

/// One finished (or abandoned) sample.
struct Reading {
    source: usize,
    result: Result<Section, SourceError>,
    took: Duration,
    at: Instant,
}

/// What the hub remembers of a source.
struct Slot {
    name: String,
    status: SourceStatus,
    samples: u64,
    section: Option<Section>,
    last_sample: Option<Duration>,
    read_at: Option<Instant>,
}

/// Starts the sources and the hub. Snapshots appear on the returned feed every `interval`.
pub fn start(sources: Vec<Box<dyn Source>>, interval: Duration) -> (Feed, JoinHandle<()>) {
    let (publisher, feed) = Publisher::new(FeedMode::Live);
    let (tx, rx) = mpsc::channel(64);
    let started = Instant::now();
    let slots = sources
        .iter()
        .map(|s| Slot {
            name: s.name(),
            status: SourceStatus::Pending,
            samples: 0,
            section: None,
            last_sample: None,
            read_at: None,
        })
        .collect();
    for (index, source) in sources.into_iter().enumerate() {
        tokio::spawn(run_source(index, source, interval, tx.clone()));
    }
    let hub = tokio::spawn(run_hub(slots, rx, publisher, interval, started));
    (feed, hub)
}

async fn run_source(
    index: usize,
    source: Box<dyn Source>,
    interval: Duration,
    tx: mpsc::Sender<Reading>,
) {
    let period = source.period(interval);
    let timeout = source.timeout(period);
    let sampler = match Sampler::spawn(source, timeout) {
        Ok(sampler) => sampler,
        Err(e) => {
            let result = Err(SourceError::Failed(format!("cannot start its thread: {e}")));
            let _ = tx
                .send(Reading { source: index, result, took: Duration::ZERO, at: Instant::now() })
                .await;
            return;
        }
    };
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let started = Instant::now();
        let result = sampler.sample().await;
        let reading =
            Reading { source: index, result, took: started.elapsed(), at: Instant::now() };
        if tx.send(reading).await.is_err() {
            return; // the hub is gone
        }
    }
}

async fn run_hub(
    mut slots: Vec<Slot>,
    mut readings: mpsc::Receiver<Reading>,
    publisher: Publisher,
    interval: Duration,
    started: Instant,
) {
    // Sources sample at 0, T, 2T...; the hub merges half a period later, so that a source that
    // follows the interval has always just delivered a fresh reading.
    let mut ticker = interval_at((started + interval / 2).into(), interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut previous: Option<Snapshot> = None;
    let mut seq = 0;
    loop {
        tokio::select! {
            reading = readings.recv() => match reading {
                Some(r) => record(&mut slots[r.source], r),
                None => return,
            },
            tick = ticker.tick() => {
                let snapshot = merge(&slots, seq, tick.into_std(), started, interval, previous.as_ref());
                seq += 1;
                previous = Some(snapshot.clone());
                publisher.publish(snapshot);
            }
        }
    }
}

fn record(slot: &mut Slot, reading: Reading) {
    slot.samples += 1;
    slot.last_sample = Some(reading.took);
    match reading.result {
        Ok(section) => {
            slot.status = SourceStatus::Ok;
            slot.section = Some(section);
            slot.read_at = Some(reading.at);
        }
        Err(e) => {
            // A failed reading leaves no section: showing the previous values as current
            // would invent data.
            slot.status = match e {
                SourceError::Unavailable(reason) => SourceStatus::Unavailable { reason },
                SourceError::Failed(error) => SourceStatus::Failed { error },
            };
            slot.section = None;
            slot.read_at = None;
        }
    }
}

fn merge(
    slots: &[Slot],
    seq: u64,
    now: Instant,
    started: Instant,
    interval: Duration,
    previous: Option<&Snapshot>,
) -> Snapshot {
    let ts_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let mono_ms = u64::try_from(now.duration_since(started).as_millis()).unwrap_or(u64::MAX);
    let interval_ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
    let mut snapshot = Snapshot::new(seq, ts_unix_ms, mono_ms, interval_ms);
    for slot in slots {
        if let Some(section) = &slot.section {
            section.clone().apply_to(&mut snapshot);
        }
        snapshot.sources.push(SourceState {
            name: slot.name.clone(),
            status: slot.status.clone(),
            samples: slot.samples,
            last_sample_ms: slot.last_sample.map(|d| d.as_secs_f64() * 1000.0),
            age_ms: slot.read_at.map(|t| {
                u64::try_from(now.saturating_duration_since(t).as_millis()).unwrap_or(u64::MAX)
            }),
        });
    }
    derive(previous, &mut snapshot);
    snapshot
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo_collectors::model::HostSection;

    /// A source that answers from a script of results, optionally sleeping first.
    struct Scripted {
        name: &'static str,
        delay: Duration,
        fail: bool,
    }

    impl Source for Scripted {
        fn name(&self) -> String {
            self.name.into()
        }
        fn sample(&mut self) -> Result<Section, SourceError> {
            std::thread::sleep(self.delay);
            if self.fail {
                Err(SourceError::Unavailable("no such device".into()))
            } else {
                Ok(Section::Host(Box::new(HostSection {
                    uptime_s: Some(1.0),
                    ..Default::default()
                })))
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stalled_source_does_not_delay_the_others() {
        let interval = Duration::from_millis(100);
        let sources: Vec<Box<dyn Source>> = vec![
            Box::new(Scripted { name: "host", delay: Duration::ZERO, fail: false }),
            Box::new(Scripted { name: "stuck", delay: Duration::from_secs(3), fail: false }),
            Box::new(Scripted { name: "absent", delay: Duration::ZERO, fail: true }),
        ];
        let (feed, hub) = start(sources, interval);
        let mut all = feed.subscribe();
        let started = Instant::now();
        let mut last = None;
        for _ in 0..6 {
            last = Some(all.recv().await.unwrap());
        }
        let last = last.unwrap();
        // Six snapshots at 100 ms take ~0.55 s even though one source blocks for 3 s.
        assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
        assert_eq!(last.seq, 5);
        assert!(last.host.is_some());
        assert!(last.source("host").unwrap().status.is_ok());
        let stuck = &last.source("stuck").unwrap().status;
        assert!(
            matches!(stuck, SourceStatus::Failed { error } if error.contains("timed out") || error.contains("still running")),
            "{stuck:?}"
        );
        assert_eq!(
            last.source("absent").unwrap().status,
            SourceStatus::Unavailable { reason: "no such device".into() }
        );
        hub.abort();
    }
}
