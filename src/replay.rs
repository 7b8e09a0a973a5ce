//! Replay: a session file published into the same channels as the live hub, paced by the
//! recorded `mono_ms` and the chosen speed, and steered from the dashboard (pause, step, seek,
//! speed).
//!
//! The file is indexed first (line offsets and `mono_ms`, no snapshot parsed: an hour at 10 Hz
//! in well under a second), so the first snapshot shows at once and a seek is a binary search
//! plus one line read. A player thread sleeps until the next snapshot is due or a command comes.

use std::fs::File;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::feed::{Feed, FeedMode, Publisher, ReplayCommand, ReplayState};
use crate::session::SessionIndex;

const MIN_SPEED: f64 = 1.0 / 64.0;
const MAX_SPEED: f64 = 1024.0;

/// A started replay.
pub struct Replay {
    pub feed: Feed,
    pub player: JoinHandle<()>,
    /// What the index noticed that is not an error: a cut last line, as `kill -9` leaves.
    pub warnings: Vec<String>,
}

/// Opens and indexes `path` (errors in the header come back at once) and starts playing it from
/// `from` into the session (by its `mono_ms`).
pub fn start(path: &Path, speed: f64, from: Duration) -> Result<Replay> {
    let index = SessionIndex::open(path)?;
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let from_ms = u64::try_from(from.as_millis()).unwrap_or(u64::MAX);
    let state = ReplayState { speed, duration_ms: index.duration_ms(), ..Default::default() };
    let warnings = index.warnings.clone();
    let (publisher, mut feed) = Publisher::new(FeedMode::Replay(state.clone()));
    let (tx, commands) = std::sync::mpsc::channel();
    feed.control = Some(tx);
    // Past the end: show the last snapshot rather than nothing.
    let next = index.position_at(from_ms).min(index.len().saturating_sub(1));
    let player = Player { index, file, publisher, commands, state, next, shown_ms: None };
    let player = std::thread::Builder::new()
        .name("replay".into())
        .spawn(move || player.run())
        .context("cannot start the replay thread")?;
    Ok(Replay { feed, player, warnings })
}

struct Player {
    index: SessionIndex,
    file: File,
    publisher: Publisher,
    commands: Receiver<ReplayCommand>,
    state: ReplayState,
    /// The entry to publish next.
    next: usize,
    /// `mono_ms` of the snapshot last published.
    shown_ms: Option<u64>,
}

impl Player {
    fn run(mut self) {
        // The first snapshot at once, whatever the pacing.
        self.publish_next();
        let mut last_publish = Instant::now();
        loop {
            let at_end = self.next >= self.index.len();
            if at_end != self.state.ended {
                self.state.ended = at_end;
                self.update_mode();
            }
            let command = if self.state.paused || at_end {
                // Nothing to play: wait for an order (and end with the dashboard).
                match self.commands.recv() {
                    Ok(c) => Some(c),
                    Err(_) => return,
                }
            } else {
                let due = last_publish + self.gap_to_next();
                match self.commands.recv_timeout(due.saturating_duration_since(Instant::now())) {
                    Ok(c) => Some(c),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            };
            match command {
                None => {
                    // Keep to the recording's pace even when a publish ran late.
                    let due = last_publish + self.gap_to_next();
                    last_publish = due.max(Instant::now() - Duration::from_secs(1));
                    self.publish_next();
                }
                Some(c) => {
                    self.apply(c);
                    last_publish = Instant::now();
                }
            }
        }
    }

    /// Wall time between the snapshot shown and the next one, at the current speed.
    fn gap_to_next(&self) -> Duration {
        let next_ms = self.index.entries.get(self.next).map_or(0, |e| e.mono_ms);
        let gap_ms = self.shown_ms.map_or(0, |shown| next_ms.saturating_sub(shown));
        Duration::from_secs_f64(gap_ms as f64 / 1000.0 / self.state.speed)
    }

    fn apply(&mut self, command: ReplayCommand) {
        match command {
            ReplayCommand::TogglePause => self.state.paused = !self.state.paused,
            ReplayCommand::Step => {
                self.state.paused = true;
                self.publish_next();
            }
            ReplayCommand::Seek(delta_ms) => {
                let here = self.shown_ms.unwrap_or(0);
                let target = here.saturating_add_signed(delta_ms);
                // Forward: never stay on the same snapshot; at the end, show the last one.
                let mut at = self.index.position_at(target);
                if delta_ms > 0 && at < self.index.len() && self.index.entries[at].mono_ms <= here {
                    at += 1;
                }
                self.next = at.min(self.index.len().saturating_sub(1));
                self.publish_next();
            }
            ReplayCommand::Speed(factor) => {
                self.state.speed = (self.state.speed * factor).clamp(MIN_SPEED, MAX_SPEED);
            }
        }
        self.update_mode();
    }

    fn publish_next(&mut self) {
        let Some(entry) = self.index.entries.get(self.next).copied() else { return };
        self.next += 1;
        self.shown_ms = Some(entry.mono_ms);
        self.state.position_ms = entry.mono_ms;
        match self.index.read(&self.file, self.next - 1) {
            Ok(snapshot) => self.publisher.publish(snapshot),
            // A corrupt line is shown with its line number; playing goes on past it.
            Err(e) => self.state.error = Some(format!("{e:#}")),
        }
        self.update_mode();
    }

    fn update_mode(&self) {
        let state = self.state.clone();
        self.publisher.set_mode(|mode| *mode = FeedMode::Replay(state));
    }
}
