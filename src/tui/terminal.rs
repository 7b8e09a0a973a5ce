//! Entering and leaving the full-screen terminal, and making sure we always leave it: on quit,
//! on error, on a signal, and on a panic in any task.

use std::io::{self, Stdout};

use crossterm::cursor::Show;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Puts the terminal in raw mode on the alternate screen. Pair with [`restore`]; the guard
/// returned restores on drop, so an early `?` return leaves the terminal clean too.
pub fn enter() -> io::Result<(Tui, RestoreGuard)> {
    install_panic_hook();
    enable_raw_mode()?;
    let guard = RestoreGuard;
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    Ok((terminal, guard))
}

/// Leaves raw mode and the alternate screen. Safe to call more than once.
pub fn restore() {
    let _ = execute!(io::stdout(), DisableMouseCapture, LeaveAlternateScreen, Show);
    let _ = disable_raw_mode();
}

pub struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// A panic in any thread or task restores the terminal first (so the report is readable),
/// prints the report with the default hook, and ends the process with a failure code: a
/// dashboard with a dead collector task would otherwise go on showing stale numbers.
fn install_panic_hook() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        default_hook(info);
        std::process::exit(101);
    }));
}
