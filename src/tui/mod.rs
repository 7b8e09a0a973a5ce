//! The interactive dashboard: one loop that waits for a snapshot, a key or a signal, and
//! redraws only when something changed, at most ~15 times a second.

mod app;
mod fleet;
mod terminal;

use std::time::Duration;

use anyhow::Result;
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use halo_widgets::Theme;
use tokio::time::Instant;

use crate::feed::Feed;
use crate::remote::Remote;
use crate::shutdown::Shutdown;
use app::App;
use fleet::Fleet;

const MIN_FRAME_GAP: Duration = Duration::from_millis(66);

/// How often the fleet view looks at the remotes (their snapshots and how old they are).
const FLEET_POLL: Duration = Duration::from_millis(250);

/// Colour unless `NO_COLOR` is set to anything non-empty (no-color.org).
pub fn theme_from_env() -> Theme {
    match std::env::var_os("NO_COLOR") {
        Some(v) if !v.is_empty() => Theme::PLAIN,
        _ => Theme::COLOR,
    }
}

/// Runs the dashboard on `feed` until the user quits or a termination signal arrives. With
/// `remotes` it opens on the fleet view, this machine beside them.
pub async fn run(mut feed: Feed, remotes: Vec<Remote>) -> Result<()> {
    let mut shutdown = Shutdown::listen()?;
    let (mut terminal, _restore) = terminal::enter()?;
    let mut app = App::new(theme_from_env(), feed.mode.borrow().clone());
    if !remotes.is_empty() {
        app.fleet = Some(Fleet::new(remotes));
    }
    let mut fleet_poll = tokio::time::interval(FLEET_POLL);
    if let Some(s) = feed.latest.borrow_and_update().clone() {
        app.on_snapshot(s);
    }
    let mut events = EventStream::new();
    let mut dirty = true;
    let mut next_frame = Instant::now();
    while !app.quit {
        if dirty && Instant::now() >= next_frame {
            let frame = terminal.draw(|frame| app.draw(frame))?;
            app.area = frame.area;
            dirty = false;
            next_frame = Instant::now() + MIN_FRAME_GAP;
        }
        let redraw_due = async {
            if dirty {
                tokio::time::sleep_until(next_frame).await
            } else {
                std::future::pending().await
            }
        };
        tokio::select! {
            changed = feed.latest.changed() => {
                if changed.is_err() { break; }
                if let Some(s) = feed.latest.borrow_and_update().clone() {
                    dirty |= app.on_snapshot(s);
                }
            }
            changed = feed.mode.changed() => {
                if changed.is_err() { break; }
                app.mode = feed.mode.borrow_and_update().clone();
                dirty = true;
            }
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => {
                    dirty |= app.on_key(key);
                    for command in app.take_replay_commands() {
                        if let Some(control) = &feed.control {
                            // The player is gone only when the replay thread ended: nothing to do.
                            let _ = control.send(command);
                        }
                    }
                }
                Some(Ok(Event::Mouse(mouse))) => dirty |= app.on_mouse(mouse),
                Some(Ok(Event::Resize(..))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            _ = fleet_poll.tick(), if app.fleet.is_some() => {
                if let Some(fleet) = &mut app.fleet {
                    fleet.poll(app.view.paused);
                    // Ages and link states move with the clock.
                    dirty = true;
                }
            }
            _ = shutdown.recv() => break,
            () = redraw_due => {}
        }
    }
    Ok(())
}
