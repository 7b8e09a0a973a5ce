//! The dashboard's state and what each key does. No terminal here, so it is tested directly.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use halo_collectors::Snapshot;
use halo_collectors::model::FeedMode;
use halo_widgets::{History, Screen, Theme};

pub struct App {
    /// The snapshot on screen (frozen while paused).
    pub shown: Option<Arc<Snapshot>>,
    pub history: History,
    pub mode: FeedMode,
    pub paused: bool,
    pub show_help: bool,
    pub quit: bool,
    pub theme: Theme,
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
