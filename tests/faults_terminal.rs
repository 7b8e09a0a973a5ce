//! The dashboard in a real terminal (tmux) under a resize storm and at 0×0, and SIGTERM,
//! SIGHUP and SIGINT arriving in the middle of both (tests/dashboard.rs covers the signals in a
//! terminal of a normal size): the dashboard keeps drawing, and the terminal is restored.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::reliability::{self, Row};
use support::{Tmux, shell_quote};

const WAIT: Duration = Duration::from_secs(20);
const STORM_RESIZES: usize = 150;

/// A tiny xorshift with a fixed seed: the same storm every run.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Resizes the window `STORM_RESIZES` times, between 1×1 and 300×100, as fast as tmux goes.
fn storm(tmux: &Tmux) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..STORM_RESIZES {
        tmux.resize(1 + rng.below(300) as u16, 1 + rng.below(100) as u16);
    }
}

/// `session HH:MM:SS` in the header, in seconds.
fn session_clock(screen: &str) -> Option<u64> {
    let clock = screen.split("session ").nth(1)?.split_whitespace().next()?;
    let mut parts = clock.split(':').map(|p| p.parse::<u64>().ok());
    Some(parts.next()?? * 3600 + parts.next()?? * 60 + parts.next()??)
}

/// Starts the dashboard in the foreground under a known pid, after `before` (shell commands),
/// and returns the tmux and the pid.
fn start(name: &str, before: &str) -> (Tmux, i32, tempfile::TempDir) {
    let tmux = Tmux::start(name, 120, 40);
    let dir = tempfile::tempdir().expect("a temporary directory");
    tmux.type_line(&format!("cd {}; stty -g > before; clear", shell_quote(dir.path())));
    let bin = shell_quote(std::path::Path::new(env!("CARGO_BIN_EXE_halo-top")));
    tmux.type_line(&format!(
        "{before} bash -c 'echo $$ > pid; exec {bin} --interval 200ms'; echo $? > exit; \
         stty -g > after; cmp -s before after && echo clean > tty || echo changed > tty"
    ));
    let pid_file = dir.path().join("pid");
    let deadline = Instant::now() + WAIT;
    let pid = loop {
        if let Some(pid) =
            std::fs::read_to_string(&pid_file).ok().and_then(|s| s.trim().parse().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the dashboard never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    (tmux, pid, dir)
}

fn alive(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_ok()
}

/// Back at 120×40 the dashboard draws and its clock moves on.
fn assert_drawing(tmux: &Tmux, context: &str) {
    // Two sizes: tmux tells the program only about a change.
    tmux.resize(100, 30);
    tmux.resize(120, 40);
    let first = session_clock(
        &tmux.wait_for(context, WAIT, |s| s.contains("host ok") && session_clock(s).is_some()),
    )
    .expect("the clock was on screen");
    tmux.wait_for(&format!("{context}: the clock moving on"), WAIT, |s| {
        session_clock(s).is_some_and(|c| c >= first + 2)
    });
    // What assert_restored checks is off: on here, so the check can fail.
    assert!(tmux.alternate_on(), "{context}: the dashboard is not on the alternate screen");
}

/// The exit code and the terminal modes come back in files rather than on the screen: during a
/// resize storm tmux reflows the visible lines (down to one column wide), which can hide a line
/// printed there.
fn assert_restored(tmux: &Tmux, dir: &Path, context: &str) {
    let deadline = Instant::now() + WAIT;
    let tty = loop {
        if let Some(tty) =
            std::fs::read_to_string(dir.join("tty")).ok().filter(|t| t.ends_with('\n'))
        {
            break tty;
        }
        assert!(
            Instant::now() < deadline,
            "{context}: the shell never ran on:\n{}",
            tmux.capture()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let exit = std::fs::read_to_string(dir.join("exit")).expect("the exit code file");
    assert_eq!(exit.trim(), "0", "{context}: exit code");
    assert_eq!(tty.trim(), "clean", "{context}: terminal modes changed");
    assert!(!tmux.alternate_on(), "{context}: left on the alternate screen:\n{}", tmux.capture());
}

#[test]
fn resize_storm_then_quit() {
    let (tmux, pid, dir) = start("storm", "");
    tmux.wait_for("the dashboard", WAIT, |s| s.contains("host ok"));
    storm(&tmux);
    assert!(alive(pid), "the dashboard died in the resize storm");
    assert_drawing(&tmux, "after the storm");
    tmux.send(&["q"]);
    assert_restored(&tmux, dir.path(), "q after the storm");
    reliability::write(
        "faults_terminal_storm",
        &[Row {
            area: "terminal",
            fault: "resize storm (tmux resize-window, 1x1 to 300x100)",
            tries: STORM_RESIZES,
            result: "still drawing, clock moving; q quits; terminal restored",
        }],
    );
}

#[test]
fn zero_by_zero_terminal_then_a_real_size() {
    // The pty reports 0 rows and 0 columns (TIOCGWINSZ) when halo-top starts.
    let (tmux, pid, dir) = start("zero", "stty rows 0 cols 0;");
    std::thread::sleep(Duration::from_secs(2));
    assert!(alive(pid), "halo-top died in a 0x0 terminal");
    assert_drawing(&tmux, "after 0x0");
    tmux.send(&["q"]);
    assert_restored(&tmux, dir.path(), "q after 0x0");
    reliability::write(
        "faults_terminal_zero",
        &[Row {
            area: "terminal",
            fault: "started in a 0x0 terminal, then resized",
            tries: 1,
            result: "alive at 0x0; draws once resized; q quits; terminal restored",
        }],
    );
}

#[test]
fn signals_in_a_resize_storm_and_at_zero_by_zero_restore_the_terminal() {
    let signals = [Signal::SIGTERM, Signal::SIGHUP, Signal::SIGINT];
    for signal in signals {
        let (tmux, pid, dir) = start(&format!("storm-{signal}"), "");
        tmux.wait_for("the dashboard", WAIT, |s| s.contains("host ok"));
        std::thread::scope(|scope| {
            scope.spawn(|| storm(&tmux));
            std::thread::sleep(Duration::from_millis(300));
            kill(Pid::from_raw(pid), signal).unwrap();
        });
        tmux.resize(100, 30);
        assert_restored(&tmux, dir.path(), &format!("{signal} in a resize storm"));

        let (tmux, pid, dir) = start(&format!("zero-{signal}"), "stty rows 0 cols 0;");
        std::thread::sleep(Duration::from_secs(1));
        kill(Pid::from_raw(pid), signal).unwrap();
        tmux.resize(100, 30);
        assert_restored(&tmux, dir.path(), &format!("{signal} at 0x0"));
    }
    reliability::write(
        "faults_terminal_signals",
        &[
            Row {
                area: "terminal",
                fault: "SIGTERM, SIGHUP, SIGINT during a resize storm",
                tries: signals.len(),
                result: "exit 0; terminal modes restored; alternate screen left",
            },
            Row {
                area: "terminal",
                fault: "SIGTERM, SIGHUP, SIGINT in a 0x0 terminal",
                tries: signals.len(),
                result: "exit 0; terminal modes restored; alternate screen left",
            },
        ],
    );
}
