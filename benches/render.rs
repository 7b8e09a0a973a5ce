//! Render time of one full dashboard frame at 160×45: every pane, from the committed sessions.
//! Prints figures; `cargo bench --bench render`. Target: under 2 ms per frame.
//!
//! Two histories per session: the session as recorded (under a minute), and one filled to the
//! hour the dashboard keeps (3600 snapshots at 1 s, the session played over and over) shown with
//! the one-hour window, so every chart walks its longest series. "render" is the widgets drawing
//! into a buffer; "draw" is a whole `Terminal::draw` (render, diff against the previous frame,
//! escape codes written to a sink) with the snapshot changing every frame, as in the live loop.
//! Times are this thread's CPU time, so that the other programs on the machine do not count;
//! the median wall time is printed beside them.

use std::io::Sink;
use std::path::Path;
use std::time::Instant;

use halo_collectors::Snapshot;
use halo_collectors::model::FeedMode;
use halo_top::session::Session;
use halo_widgets::{History, Pane, Screen, Theme, View};
use nix::time::{ClockId, clock_gettime};
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;
use ratatui::{Terminal, TerminalOptions, Viewport};

const AREA: Rect = Rect { x: 0, y: 0, width: 160, height: 45 };

fn thread_cpu_ns() -> u64 {
    let t = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).expect("thread CPU clock");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

/// Median and p99 CPU time of `f` (this thread's, so that other programs taking the cores
/// do not count), and the median wall time, in µs.
fn measure(frames: usize, mut f: impl FnMut(usize)) -> (f64, f64, f64) {
    let mut cpu_us = Vec::with_capacity(frames);
    let mut wall_us = Vec::with_capacity(frames);
    for i in 0..frames {
        let (cpu, wall) = (thread_cpu_ns(), Instant::now());
        f(i);
        wall_us.push(wall.elapsed().as_secs_f64() * 1e6);
        cpu_us.push((thread_cpu_ns() - cpu) as f64 / 1000.0);
    }
    cpu_us.sort_by(f64::total_cmp);
    wall_us.sort_by(f64::total_cmp);
    (cpu_us[frames / 2], cpu_us[frames * 99 / 100], wall_us[frames / 2])
}

/// The session played `times` over, each pass later in session time, into one history.
fn history_of(snapshots: &[Snapshot], capacity: usize) -> (History, Vec<Snapshot>) {
    let span = snapshots.last().map_or(0, |s| s.mono_ms) + 1000;
    let mut history = History::new(capacity);
    let mut played = Vec::new();
    for pass in 0u64.. {
        for s in snapshots {
            if played.len() == capacity {
                return (history, played);
            }
            let mut s = s.clone();
            s.mono_ms += pass * span;
            history.push(&s);
            played.push(s);
        }
    }
    (history, played)
}

fn bench(name: &str, snapshots: &[Snapshot], capacity: usize, window_ms: u64) {
    let (history, played) = history_of(snapshots, capacity);
    let last = played.last().expect("a snapshot");
    let view = View { window_ms, focused: Pane::Roofline, ..View::default() };
    let mode = FeedMode::Live;
    let history = &history;
    let mode = &mode;
    let screen = |s| Screen { snapshot: Some(s), history, mode, view, theme: Theme::COLOR };
    let mut buffer = Buffer::empty(AREA);
    let frames = 1000;
    let (render_p50, render_p99, render_wall) = measure(frames, |_| {
        buffer.reset();
        (&screen(last)).render(AREA, &mut buffer);
        std::hint::black_box(&buffer);
    });
    let options = TerminalOptions { viewport: Viewport::Fixed(AREA) };
    let mut terminal =
        Terminal::with_options(CrosstermBackend::new(std::io::sink()), options).expect("terminal");
    // Alternate between the last two snapshots so every frame has cells to change.
    let two = &played[played.len().saturating_sub(2)..];
    let (draw_p50, draw_p99, draw_wall) = measure(frames, |i| {
        let s = &two[i % two.len()];
        draw(&mut terminal, &screen(s));
    });
    println!(
        "{name:<32} {:>4} snapshots, {:>4}s window: render {render_p50:>4.0} µs (p99 {render_p99:>4.0}, wall {render_wall:>4.0}) · draw {draw_p50:>4.0} µs (p99 {draw_p99:>4.0}, wall {draw_wall:>4.0})",
        played.len(),
        window_ms / 1000,
    );
}

fn draw(terminal: &mut Terminal<CrosstermBackend<Sink>>, screen: &Screen) {
    terminal.draw(|frame| frame.render_widget(screen, frame.area())).expect("draw");
}

fn main() {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "a full dashboard frame at 160×45, CPU time per frame, median (p99; median wall time)"
    );
    println!("1000 frames each; load average {}", load.trim());
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sessions");
    for name in ["strix-halo-decode", "strix-halo-speculative", "h200-matmul", "strix-halo-idle"] {
        let session = Session::read(&fixtures.join(format!("{name}.ndjson"))).expect("session");
        let recorded = session.snapshots.len();
        bench(name, &session.snapshots, recorded, 300_000);
        bench(&format!("{name} (an hour)"), &session.snapshots, 3600, 3_600_000);
    }
    println!("target: under 2000 µs per frame");
}
