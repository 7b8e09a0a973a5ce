//! The dashboard's state and what each key does. No terminal here, so it is tested directly.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use halo_collectors::Snapshot;
use halo_collectors::model::FeedMode;
use halo_widgets::fleet_pane::{FleetHost, FleetPane, HostStatus, LinkBanner};
use halo_widgets::{History, Screen, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use tokio::time::Instant;

use super::fleet::Fleet;

use crate::feed::ReplayCommand;

/// How far ← and → seek in a replay, and with Shift.
const SEEK_MS: i64 = 10_000;
const SEEK_FAR_MS: i64 = 60_000;

pub struct App {
    /// The snapshot on screen (frozen while paused).
    pub shown: Option<Arc<Snapshot>>,
    pub history: History,
    pub mode: FeedMode,
    pub paused: bool,
    pub show_help: bool,
    pub quit: bool,
    pub theme: Theme,
    /// The other machines (`--remote`), when there are any.
    pub fleet: Option<Fleet>,
    /// Replay keys pressed, for the event loop to send to the player.
    pub replay_commands: Vec<ReplayCommand>,
}

impl App {
    pub fn new(theme: Theme, mode: FeedMode) -> Self {
        Self {
            shown: None,
            history: History::default(),
            mode,
            paused: false,
            show_help: false,
            quit: false,
            theme,
            fleet: None,
            replay_commands: Vec::new(),
        }
    }

    /// A new snapshot arrived. While paused the view stays as it is.
    pub fn on_snapshot(&mut self, snapshot: Arc<Snapshot>) -> bool {
        if self.paused {
            return false;
        }
        // A replay sought backwards: the charts would otherwise mix two stretches of time.
        if self.shown.as_ref().is_some_and(|s| snapshot.mono_ms < s.mono_ms) {
            self.history = History::default();
        }
        self.history.push(&snapshot);
        self.shown = Some(snapshot);
        true
    }

    /// Returns whether the screen needs redrawing.
    pub fn on_key(&mut self, key: KeyEvent) -> bool {
        if key.kind == KeyEventKind::Release {
            return false;
        }
        if !self.show_help
            && let Some(fleet) = &mut self.fleet
            && fleet.on_key(key.code)
        {
            return true;
        }
        if matches!(self.mode, FeedMode::Replay(_))
            && let Some(command) = replay_command(key)
        {
            self.replay_commands.push(command);
            return true;
        }
        match (key.code, key.modifiers) {
            (KeyCode::Char('c'), KeyModifiers::CONTROL) | (KeyCode::Char('q'), _) => {
                self.quit = true
            }
            (KeyCode::Char('?'), _) => self.show_help = !self.show_help,
            (KeyCode::Esc, _) => self.show_help = false,
            (KeyCode::Char('p') | KeyCode::Char(' '), _) => self.paused = !self.paused,
            _ => return false,
        }
        true
    }

    pub fn take_replay_commands(&mut self) -> Vec<ReplayCommand> {
        std::mem::take(&mut self.replay_commands)
    }

    pub fn screen(&self) -> Screen<'_> {
        Screen {
            snapshot: self.shown.as_deref(),
            history: &self.history,
            mode: &self.mode,
            paused: self.paused,
            show_help: self.show_help,
            theme: self.theme,
        }
    }
}

impl App {
    /// Draws the fleet view, or the open host's dashboard (this machine's without remotes).
    pub fn draw(&self, frame: &mut Frame<'_>) {
        let area = frame.area();
        let Some(fleet) = &self.fleet else {
            frame.render_widget(&self.screen(), area);
            return;
        };
        let now = Instant::now();
        match fleet.focused {
            None => {
                let mut hosts = vec![FleetHost {
                    label: "local",
                    snapshot: self.shown.as_deref(),
                    status: HostStatus::Local,
                }];
                hosts.extend(fleet.remotes.iter().map(|r| FleetHost {
                    label: &r.remote.url.text,
                    snapshot: r.shown.as_deref(),
                    status: r.status(now),
                }));
                let pane = FleetPane { hosts: &hosts, selected: fleet.selected, theme: self.theme };
                frame.render_widget(&pane, area);
            }
            Some(0) => frame.render_widget(&self.screen(), area),
            Some(i) => {
                let Some(remote) = fleet.remotes.get(i - 1) else { return };
                let screen = Screen {
                    snapshot: remote.shown.as_deref(),
                    history: &remote.history,
                    mode: &FeedMode::Live,
                    paused: self.paused,
                    show_help: self.show_help,
                    theme: self.theme,
                };
                frame.render_widget(&screen, area);
                let status = remote.status(now);
                let banner = LinkBanner {
                    label: &remote.remote.url.text,
                    status: &status,
                    theme: self.theme,
                };
                frame.render_widget(&banner, Rect { height: area.height.min(1), ..area });
            }
        }
    }
}

/// The replay keys: Space (or p) pause, `.` step, ←/→ seek, `[`/`]` speed.
fn replay_command(key: KeyEvent) -> Option<ReplayCommand> {
    let far = key.modifiers.contains(KeyModifiers::SHIFT);
    Some(match key.code {
        KeyCode::Char(' ') | KeyCode::Char('p') => ReplayCommand::TogglePause,
        KeyCode::Char('.') => ReplayCommand::Step,
        KeyCode::Left => ReplayCommand::Seek(if far { -SEEK_FAR_MS } else { -SEEK_MS }),
        KeyCode::Right => ReplayCommand::Seek(if far { SEEK_FAR_MS } else { SEEK_MS }),
        KeyCode::Char('[') => ReplayCommand::Speed(0.5),
        KeyCode::Char(']') => ReplayCommand::Speed(2.0),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(app: &mut App, code: KeyCode, modifiers: KeyModifiers) -> bool {
        app.on_key(KeyEvent::new(code, modifiers))
    }

    #[test]
    fn keys() {
        let mut app = App::new(Theme::PLAIN, FeedMode::Live);
        assert!(press(&mut app, KeyCode::Char('?'), KeyModifiers::NONE));
        assert!(app.show_help);
        assert!(press(&mut app, KeyCode::Esc, KeyModifiers::NONE));
        assert!(!app.show_help);
        assert!(!press(&mut app, KeyCode::Char('x'), KeyModifiers::NONE));
        assert!(!app.quit);
        press(&mut app, KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert!(app.quit);
    }

    #[test]
    fn fleet_keys_open_a_host_and_go_back() {
        let mut app = App::new(Theme::PLAIN, FeedMode::Live);
        app.fleet = Some(Fleet::new(Vec::new()));
        let focused = |app: &App| app.fleet.as_ref().unwrap().focused;
        // One row (this machine): the selection stays on it.
        assert!(press(&mut app, KeyCode::Down, KeyModifiers::NONE));
        assert_eq!(app.fleet.as_ref().unwrap().selected, 0);
        press(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(focused(&app), Some(0));
        // With the help open, Esc closes the help and stays on the host.
        press(&mut app, KeyCode::Char('?'), KeyModifiers::NONE);
        press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
        assert!(!app.show_help);
        assert_eq!(focused(&app), Some(0));
        press(&mut app, KeyCode::Char('f'), KeyModifiers::NONE);
        assert_eq!(focused(&app), None);
        press(&mut app, KeyCode::Char('q'), KeyModifiers::NONE);
        assert!(app.quit);
    }

    #[test]
    fn pause_freezes_the_view() {
        let mut app = App::new(Theme::PLAIN, FeedMode::Live);
        assert!(app.on_snapshot(Arc::new(Snapshot::new(0, 0, 0, 1000))));
        press(&mut app, KeyCode::Char('p'), KeyModifiers::NONE);
        assert!(!app.on_snapshot(Arc::new(Snapshot::new(1, 0, 1000, 1000))));
        assert_eq!(app.shown.as_ref().unwrap().seq, 0);
        press(&mut app, KeyCode::Char('p'), KeyModifiers::NONE);
        assert!(app.on_snapshot(Arc::new(Snapshot::new(2, 0, 2000, 1000))));
        assert_eq!(app.shown.as_ref().unwrap().seq, 2);
    }

    #[test]
    fn replay_keys_become_commands_and_seeking_back_restarts_the_charts() {
        let replay = FeedMode::Replay(halo_collectors::model::ReplayState {
            speed: 1.0,
            ..Default::default()
        });
        let mut app = App::new(Theme::PLAIN, replay);
        press(&mut app, KeyCode::Char(' '), KeyModifiers::NONE);
        press(&mut app, KeyCode::Char('.'), KeyModifiers::NONE);
        press(&mut app, KeyCode::Left, KeyModifiers::NONE);
        press(&mut app, KeyCode::Right, KeyModifiers::SHIFT);
        press(&mut app, KeyCode::Char('['), KeyModifiers::NONE);
        press(&mut app, KeyCode::Char(']'), KeyModifiers::NONE);
        assert_eq!(
            app.take_replay_commands(),
            [
                ReplayCommand::TogglePause,
                ReplayCommand::Step,
                ReplayCommand::Seek(-10_000),
                ReplayCommand::Seek(60_000),
                ReplayCommand::Speed(0.5),
                ReplayCommand::Speed(2.0),
            ]
        );
        assert!(!app.paused, "in a replay the player pauses, not the view");
        // Live, the same keys are not replay commands.
        let mut live = App::new(Theme::PLAIN, FeedMode::Live);
        press(&mut live, KeyCode::Left, KeyModifiers::NONE);
        assert!(live.take_replay_commands().is_empty());

        for t in [1000, 2000, 3000] {
            app.on_snapshot(Arc::new(Snapshot::new(t / 1000, 0, t, 1000)));
        }
        assert_eq!(app.history.tctl_c.points().count(), 3);
        app.on_snapshot(Arc::new(Snapshot::new(0, 0, 500, 1000)));
        assert_eq!(app.history.tctl_c.points().count(), 1, "history restarted after seeking back");
    }
}
