//! The dashboard's fleet: the remotes' snapshots and histories, which row is selected, and
//! which host's full dashboard is open. The local host stays in [`App`](super::app::App).

use std::sync::Arc;

use crossterm::event::KeyCode;
use halo_collectors::Snapshot;
use halo_widgets::History;
use halo_widgets::fleet_pane::HostStatus;
use tokio::time::Instant;

use crate::remote::{Link, Remote};

pub struct RemoteHost {
    pub remote: Remote,
    pub shown: Option<Arc<Snapshot>>,
    pub history: History,
    pub link: Link,
}

impl RemoteHost {
    pub fn status(&self, now: Instant) -> HostStatus {
        self.link.status(self.shown.as_ref().map(|s| s.interval_ms), now)
    }
}

/// Row 0 is the local host, row `i` the remote `i - 1`.
pub struct Fleet {
    pub remotes: Vec<RemoteHost>,
    pub selected: usize,
    /// The host whose dashboard is open; `None`: the fleet view.
    pub focused: Option<usize>,
}

impl Fleet {
    pub fn new(remotes: Vec<Remote>) -> Fleet {
        let remotes = remotes
            .into_iter()
            .map(|remote| RemoteHost {
                remote,
                shown: None,
                history: History::default(),
                link: Link::default(),
            })
            .collect();
        Fleet { remotes, selected: 0, focused: None }
    }

    pub fn rows(&self) -> usize {
        self.remotes.len() + 1
    }

    /// Takes what the remote tasks have received since the last call; `paused` keeps the
    /// numbers on screen as they are (the links still update).
    pub fn poll(&mut self, paused: bool) {
        for host in &mut self.remotes {
            host.link = host.remote.link.borrow().clone();
            if paused || !host.remote.latest.has_changed().unwrap_or(false) {
                continue;
            }
            if let Some(s) = host.remote.latest.borrow_and_update().clone() {
                host.history.push(&s);
                host.shown = Some(s);
            }
        }
    }

    /// Handles the fleet's keys; returns whether the key was one of them.
    pub fn on_key(&mut self, code: KeyCode) -> bool {
        match (self.focused, code) {
            (None, KeyCode::Up | KeyCode::Char('k')) => {
                self.selected = self.selected.saturating_sub(1)
            }
            (None, KeyCode::Down | KeyCode::Char('j')) => {
                self.selected = (self.selected + 1).min(self.rows() - 1)
            }
            (None, KeyCode::Enter | KeyCode::Char('f')) => self.focused = Some(self.selected),
            (Some(_), KeyCode::Esc | KeyCode::Char('f')) => self.focused = None,
            _ => return false,
        }
        true
    }
}
