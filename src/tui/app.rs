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
        }
    }

    /// A new snapshot arrived. While paused the view stays as it is.
    pub fn on_snapshot(&mut self, snapshot: Arc<Snapshot>) -> bool {
        if self.paused {
            return false;
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
        match (key.code, key.modifiers) {
            (KeyCode::Char('c'), KeyModifiers::CONTROL) | (KeyCode::Char('q'), _) => {
                self.quit = true
            }
            (KeyCode::Char('?'), _) => self.show_help = !self.show_help,
            (KeyCode::Esc, _) => self.show_help = false,
            (KeyCode::Char('p'), _) => self.paused = !self.paused,
            _ => return false,
        }
        true
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
}
