//! The dashboard's state and what each key and click does. No terminal here, so it is tested
//! directly.

use std::sync::Arc;

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use halo_collectors::Snapshot;
use halo_collectors::model::FeedMode;
use halo_widgets::fleet_pane::{FleetHost, FleetPane, HostStatus, LinkBanner};
use halo_widgets::{History, Pane, Screen, Theme, View};
use ratatui::Frame;
use ratatui::layout::Rect;
use tokio::time::Instant;

use super::fleet::Fleet;

use crate::feed::ReplayCommand;

/// The time windows `+` and `-` step through.
const WINDOWS_MS: [u64; 7] = [30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000];

/// How far ← and → seek in a replay, and with Shift.
const SEEK_MS: i64 = 10_000;
const SEEK_FAR_MS: i64 = 60_000;

pub struct App {
    /// The snapshot on screen (frozen while paused).
    pub shown: Option<Arc<Snapshot>>,
    pub history: History,
    pub mode: FeedMode,
    pub view: View,
    pub quit: bool,
    pub theme: Theme,
    /// The other machines (`--remote`), when there are any.
    pub fleet: Option<Fleet>,
    /// The size of the last frame drawn, to find the pane under a click.
    pub area: Rect,
    /// Replay keys pressed, for the event loop to send to the player.
    pub replay_commands: Vec<ReplayCommand>,
}

impl App {
    pub fn new(theme: Theme, mode: FeedMode) -> Self {
        Self {
            shown: None,
            history: History::default(),
            mode,
            view: View::default(),
            quit: false,
            theme,
            fleet: None,
            area: Rect::default(),
            replay_commands: Vec::new(),
        }
    }

    /// A new snapshot arrived. While paused the view stays as it is.
    pub fn on_snapshot(&mut self, snapshot: Arc<Snapshot>) -> bool {
        if self.view.paused {
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
        // The fleet's keys first, but Esc closes the help or a zoomed pane before it leaves a host.
        let esc_for_view = key.code == KeyCode::Esc && self.view.zoomed;
        if !self.view.show_help
            && !esc_for_view
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
        let view = &mut self.view;
        match (key.code, key.modifiers) {
            (KeyCode::Char('c'), KeyModifiers::CONTROL) | (KeyCode::Char('q'), _) => {
                self.quit = true
            }
            (KeyCode::Char('?'), _) => view.show_help = !view.show_help,
            (KeyCode::Esc, _) if view.show_help => view.show_help = false,
            (KeyCode::Esc, _) if view.zoomed => view.zoomed = false,
            (KeyCode::Char('p' | ' '), _) => view.paused = !view.paused,
            (KeyCode::Tab, _) => view.focused = view.focused.next(),
            (KeyCode::BackTab, _) => view.focused = view.focused.previous(),
            (KeyCode::Char(c @ '1'..='9'), _) => {
                match c.to_digit(10).and_then(|n| Pane::from_number(n as usize)) {
                    Some(pane) => view.focused = pane,
                    None => return false,
                }
            }
            (KeyCode::Char('z') | KeyCode::Enter, _) => view.zoomed = !view.zoomed,
            (KeyCode::Char('+' | '='), _) => view.window_ms = step_window(view.window_ms, 1),
            (KeyCode::Char('-' | '_'), _) => view.window_ms = step_window(view.window_ms, -1),
            (KeyCode::Char('r'), _) => {
                let now = self.shown.as_ref().map_or(0, |s| s.mono_ms);
                self.history.reset_drift(now);
            }
            _ => return false,
        }
        true
    }

    /// A left click focuses the pane under it (or named under it on the "more:" line).
    pub fn on_mouse(&mut self, mouse: MouseEvent) -> bool {
        let fleet_list = self.fleet.as_ref().is_some_and(|f| f.focused.is_none());
        if fleet_list || mouse.kind != MouseEventKind::Down(MouseButton::Left) {
            return false;
        }
        let placement = self.screen().placement(self.area);
        match placement.pane_at(mouse.column, mouse.row) {
            Some(pane) if pane != self.view.focused => {
                self.view.focused = pane;
                true
            }
            _ => false,
        }
    }

    pub fn take_replay_commands(&mut self) -> Vec<ReplayCommand> {
        std::mem::take(&mut self.replay_commands)
    }

    pub fn screen(&self) -> Screen<'_> {
        Screen {
            snapshot: self.shown.as_deref(),
            history: &self.history,
            mode: &self.mode,
            view: self.view,
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
                    view: self.view,
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

/// The next longer (`+1`) or shorter (`-1`) window, staying at the ends.
fn step_window(current_ms: u64, direction: i32) -> u64 {
    let at = WINDOWS_MS.iter().position(|w| *w >= current_ms).unwrap_or(WINDOWS_MS.len() - 1);
    let next =
        if direction > 0 { (at + 1).min(WINDOWS_MS.len() - 1) } else { at.saturating_sub(1) };
    WINDOWS_MS[next]
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

    fn press(app: &mut App, code: KeyCode) -> bool {
        app.on_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn keys() {
        let mut app = App::new(Theme::PLAIN, FeedMode::Live);
        assert!(press(&mut app, KeyCode::Char('?')));
        assert!(app.view.show_help);
        assert!(press(&mut app, KeyCode::Esc));
        assert!(!app.view.show_help);
        assert!(!press(&mut app, KeyCode::Esc), "nothing to close");
        assert!(!press(&mut app, KeyCode::Char('x')));
        assert!(!app.quit);
        app.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        assert!(app.quit);
    }

    #[test]
    fn fleet_keys_open_a_host_and_go_back() {
        let mut app = App::new(Theme::PLAIN, FeedMode::Live);
        app.fleet = Some(Fleet::new(Vec::new()));
        let focused = |app: &App| app.fleet.as_ref().unwrap().focused;
        // One row (this machine): the selection stays on it.
        assert!(press(&mut app, KeyCode::Down));
        assert_eq!(app.fleet.as_ref().unwrap().selected, 0);
        press(&mut app, KeyCode::Enter);
        assert_eq!(focused(&app), Some(0));
        // With the help open, Esc closes the help and stays on the host.
        press(&mut app, KeyCode::Char('?'));
        press(&mut app, KeyCode::Esc);
        assert!(!app.view.show_help);
        assert_eq!(focused(&app), Some(0));
        // Zoomed, Esc unzooms and stays on the host; then it leaves it.
        press(&mut app, KeyCode::Char('z'));
        press(&mut app, KeyCode::Esc);
        assert!(!app.view.zoomed);
        assert_eq!(focused(&app), Some(0));
        press(&mut app, KeyCode::Esc);
        assert_eq!(focused(&app), None);
        press(&mut app, KeyCode::Char('q'));
        assert!(app.quit);
    }

    #[test]
    fn focus_zoom_and_window() {
        let mut app = App::new(Theme::PLAIN, FeedMode::Live);
        assert_eq!(app.view.focused, Pane::Throughput);
        press(&mut app, KeyCode::Tab);
        assert_eq!(app.view.focused, Pane::Roofline);
        press(&mut app, KeyCode::BackTab);
        press(&mut app, KeyCode::BackTab);
        assert_eq!(app.view.focused, Pane::Host);
        press(&mut app, KeyCode::Char('6'));
        assert_eq!(app.view.focused, Pane::Latency);
        assert!(!press(&mut app, KeyCode::Char('9')), "no ninth pane");
        press(&mut app, KeyCode::Char('z'));
        assert!(app.view.zoomed);
        press(&mut app, KeyCode::Esc);
        assert!(!app.view.zoomed);
        press(&mut app, KeyCode::Enter);
        assert!(app.view.zoomed);
        assert_eq!(app.view.window_ms, 300_000);
        press(&mut app, KeyCode::Char('-'));
        assert_eq!(app.view.window_ms, 120_000);
        for _ in 0..10 {
            press(&mut app, KeyCode::Char('+'));
        }
        assert_eq!(app.view.window_ms, 3_600_000);
        for _ in 0..10 {
            press(&mut app, KeyCode::Char('-'));
        }
        assert_eq!(app.view.window_ms, 30_000);
    }

    #[test]
    fn pause_freezes_the_view() {
        let mut app = App::new(Theme::PLAIN, FeedMode::Live);
        assert!(app.on_snapshot(Arc::new(Snapshot::new(0, 0, 0, 1000))));
        press(&mut app, KeyCode::Char('p'));
        assert!(!app.on_snapshot(Arc::new(Snapshot::new(1, 0, 1000, 1000))));
        assert_eq!(app.shown.as_ref().unwrap().seq, 0);
        press(&mut app, KeyCode::Char('p'));
        assert!(app.on_snapshot(Arc::new(Snapshot::new(2, 0, 2000, 1000))));
        assert_eq!(app.shown.as_ref().unwrap().seq, 2);
    }

    #[test]
    fn a_click_focuses_the_pane_under_it() {
        let mut app = App::new(Theme::PLAIN, FeedMode::Live);
        app.on_snapshot(Arc::new(Snapshot::new(0, 0, 0, 1000)));
        app.area = Rect::new(0, 0, 160, 45);
        let placement = app.screen().placement(app.area);
        let (_, host) = placement.panes.iter().find(|(p, _)| *p == Pane::Host).unwrap();
        let click =
            |kind, column, row| MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE };
        assert!(!app.on_mouse(click(MouseEventKind::Moved, host.x + 2, host.y + 2)));
        assert!(app.on_mouse(click(
            MouseEventKind::Down(MouseButton::Left),
            host.x + 2,
            host.y + 2
        )));
        assert_eq!(app.view.focused, Pane::Host);
        assert!(!app.on_mouse(click(MouseEventKind::Down(MouseButton::Left), 0, 0)), "the header");
    }

    #[test]
    fn replay_keys_become_commands_and_seeking_back_restarts_the_charts() {
        let replay = FeedMode::Replay(halo_collectors::model::ReplayState {
            speed: 1.0,
            ..Default::default()
        });
        let mut app = App::new(Theme::PLAIN, replay);
        let shift = |app: &mut App, code| app.on_key(KeyEvent::new(code, KeyModifiers::SHIFT));
        press(&mut app, KeyCode::Char(' '));
        press(&mut app, KeyCode::Char('.'));
        press(&mut app, KeyCode::Left);
        shift(&mut app, KeyCode::Right);
        press(&mut app, KeyCode::Char('['));
        press(&mut app, KeyCode::Char(']'));
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
        assert!(!app.view.paused, "in a replay the player pauses, not the view");
        press(&mut app, KeyCode::Char('z'));
        assert!(app.view.zoomed, "the other keys work in a replay too");
        // Live, the same keys are not replay commands.
        let mut live = App::new(Theme::PLAIN, FeedMode::Live);
        press(&mut live, KeyCode::Left);
        assert!(live.take_replay_commands().is_empty());

        for t in [1000, 2000, 3000] {
            app.on_snapshot(Arc::new(Snapshot::new(t / 1000, 0, t, 1000)));
        }
        assert_eq!(app.history.tctl_c.points().count(), 3);
        app.on_snapshot(Arc::new(Snapshot::new(0, 0, 500, 1000)));
        assert_eq!(app.history.tctl_c.points().count(), 1, "history restarted after seeking back");
    }
}
