//! The real dashboard in a real terminal (tmux): what a person sees, the keys, and a clean
//! terminal afterwards whatever way it ends.

mod support;

use std::time::Duration;

use halo_top::session::Session;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::{Tmux, halo_top, run_ok, shell_quote};

const WAIT: Duration = Duration::from_secs(20);

fn bin() -> String {
    shell_quote(std::path::Path::new(env!("CARGO_BIN_EXE_halo-top")))
}

/// The value of a `MARKER=value` line the shell printed (lines the shell echoes as typed
/// start with the prompt, so they never match).
fn marker(screen: &str, name: &str) -> Option<String> {
    screen.lines().find_map(|l| l.strip_prefix(&format!("{name}="))).map(|c| c.trim().to_string())
}

fn exited(screen: &str) -> Option<String> {
    marker(screen, "EXIT")
}

/// After the command: its exit code, then whether the terminal modes are as before.
const AFTER: &str =
    "echo EXIT=$?; stty -g > after; cmp -s before after && echo TTY=clean || echo TTY=changed";

#[test]
fn live_dashboard_shows_the_host_pane_and_quits_clean() {
    let tmux = Tmux::start("live", 160, 45);
    let dir = tempfile::tempdir().unwrap();
    tmux.type_line(&format!("cd {}; stty -g > before; clear", shell_quote(dir.path())));
    tmux.type_line(&format!("{} --interval 300ms; {AFTER}", bin()));
    let screen = tmux.wait_for("the host pane with data", WAIT, |s| {
        s.contains("Host") && s.contains("host ok") && s.contains("PROCESS")
    });
    assert!(screen.contains("CPU") && screen.contains("Mem"), "{screen}");
    assert!(screen.contains("self "), "own CPU/RSS on the status line: {screen}");

    tmux.send(&["?"]);
    tmux.wait_for("the help overlay", WAIT, |s| s.contains("keys") && s.contains("quit"));
    tmux.send(&["?"]);
    tmux.send(&["p"]);
    tmux.wait_for("the pause marker", WAIT, |s| s.contains("PAUSED"));
    tmux.send(&["q"]);
    let screen = tmux.wait_for("the shell after quitting", WAIT, |s| marker(s, "TTY").is_some());
    assert_eq!(exited(&screen).as_deref(), Some("0"), "{screen}");
    assert_eq!(
        marker(&screen, "TTY").as_deref(),
        Some("clean"),
        "terminal modes were not restored:\n{screen}"
    );
    assert!(!screen.contains("PROCESS"), "the dashboard was left on screen:\n{screen}");
}

#[test]
fn signals_restore_the_terminal() {
    for signal in [Signal::SIGTERM, Signal::SIGHUP, Signal::SIGINT] {
        let tmux = Tmux::start(&format!("{signal}"), 200, 30);
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        tmux.type_line(&format!("cd {}; stty -g > before; clear", shell_quote(dir.path())));
        // In the foreground (a background job may not touch the terminal), under a known pid.
        tmux.type_line(&format!(
            "bash -c 'echo $$ > pid; exec {} --interval 300ms'; {AFTER}",
            bin()
        ));
        tmux.wait_for("the dashboard", WAIT, |s| s.contains("host ok"));
        let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        kill(Pid::from_raw(pid), signal).unwrap();
        let screen =
            tmux.wait_for("the shell after the signal", WAIT, |s| marker(s, "TTY").is_some());
        assert_eq!(exited(&screen).as_deref(), Some("0"), "{signal}:\n{screen}");
        assert_eq!(
            marker(&screen, "TTY").as_deref(),
            Some("clean"),
            "{signal} left the terminal changed:\n{screen}"
        );
        assert!(!screen.contains("PROCESS"), "{signal} left the dashboard on screen:\n{screen}");
    }
}

#[test]
fn recorded_session_replays_with_the_same_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.ndjson");
    run_ok(halo_top().args(["--interval", "250ms", "record", "--duration", "2s", "-o"]).arg(&path));
    let session = Session::read(&path).unwrap();
    let last = session.snapshots.last().unwrap();
    let host = last.host.as_ref().unwrap();
    let memory = format!(
        "Mem {}/{}",
        halo_widgets::format::bytes(host.memory.used_bytes),
        halo_widgets::format::bytes(host.memory.total_bytes)
    );
    let cpu = format!("CPU {:>6}", halo_widgets::format::percent(host.cpu.total_percent));

    let tmux = Tmux::start("replay", 160, 45);
    tmux.type_line(&format!("{} replay --speed 4 {}; echo EXIT=$?", bin(), shell_quote(&path)));
    // At the end of the file the dashboard stays on the last snapshot.
    let screen = tmux.wait_for("the end of the replay", WAIT, |s| s.contains("REPLAY 4x end"));
    assert!(screen.contains(&memory), "expected {memory:?} on screen:\n{screen}");
    assert!(screen.contains(&cpu), "expected {cpu:?} on screen:\n{screen}");
    tmux.send(&["q"]);
    let screen = tmux.wait_for("exit", WAIT, |s| exited(s).is_some());
    assert_eq!(exited(&screen).as_deref(), Some("0"), "{screen}");
}

#[test]
fn replay_of_a_corrupt_file_shows_the_line_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.ndjson");
    run_ok(halo_top().args(["--interval", "200ms", "record", "--duration", "1s", "-o"]).arg(&path));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "{garbage";
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();

    let tmux = Tmux::start("corrupt", 200, 30);
    tmux.type_line(&format!("{} replay {}; echo EXIT=$?", bin(), shell_quote(&path)));
    tmux.wait_for("the error on the status line", WAIT, |s| {
        s.contains("s.ndjson:3: malformed snapshot")
    });
    tmux.send(&["q"]);
    let screen = tmux.wait_for("exit", WAIT, |s| exited(s).is_some());
    assert_eq!(exited(&screen).as_deref(), Some("1"), "{screen}");
    assert!(
        screen.contains("s.ndjson:3"),
        "the error is printed after leaving the dashboard:\n{screen}"
    );
}

/// The session recorded on a real H200 (fixtures/sessions/README.md) replays with its load
/// visible: utilisation near 100 % and power in the hundreds of watts.
#[test]
fn recorded_gpu_session_shows_the_load() {
    let session = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/sessions/h200-matmul.ndjson");
    let tmux = Tmux::start("gpu", 200, 45);
    tmux.type_line(&format!(
        "{} replay --from 100s --speed 0.5 {}; echo EXIT=$?",
        bin(),
        shell_quote(&session)
    ));
    // The Devices pane's row (the pane sits at the left of its line).
    let is_row = |l: &str| l.contains("│H200 ") && l.contains("MHz");
    let screen = tmux.wait_for("the H200 row", WAIT, |s| s.lines().any(is_row));
    let row = screen.lines().find(|l| is_row(l)).unwrap();
    let words: Vec<&str> = row.split_whitespace().collect();
    // The row reads: │H200 100.0% 1011 MiB/140 GiB 1470/1980 MHz 691/700 W 56.0°C P0 ...
    let before = |unit: &str| {
        let i = words.iter().position(|w| *w == unit).unwrap();
        words[i - 1].split('/').next().unwrap().parse::<f64>().unwrap()
    };
    let busy: f64 =
        words.iter().find(|w| w.ends_with('%')).unwrap().trim_end_matches('%').parse().unwrap();
    let power = before("W");
    let clock = before("MHz");
    assert!(busy >= 90.0, "busy {busy} in {row}");
    assert!((500.0..=720.0).contains(&power), "power {power} W in {row}");
    assert!(clock >= 1000.0, "SM clock {clock} MHz in {row}");
    assert!(row.contains("sw_power_cap"), "the power cap holds the clocks down: {row}");
    tmux.send(&["q"]);
    let screen = tmux.wait_for("exit", WAIT, |s| exited(s).is_some());
    assert_eq!(exited(&screen).as_deref(), Some("0"), "{screen}");
}

/// The title line of a pane, `┏ N Title` when it has the focus (thick border), `┌ N Title` when
/// it has not.
fn focused(screen: &str, title: &str) -> bool {
    screen.contains(&format!("┏ {title}"))
}

/// What a person does with a recorded Strix Halo decode session: every pane on a large
/// terminal, focus by number and Tab, zoom, help, the time window, pause, the drift baseline,
/// a smaller terminal and one too small, and quit.
#[test]
fn replayed_decode_session_focus_zoom_help_pause_and_quit() {
    let session = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/sessions/strix-halo-decode.ndjson");
    let tmux = Tmux::start("panes", 160, 45);
    let dir = tempfile::tempdir().unwrap();
    tmux.type_line(&format!("cd {}; stty -g > before; clear", shell_quote(dir.path())));
    tmux.type_line(&format!("{} replay --from 20s {}; {AFTER}", bin(), shell_quote(&session)));
    let screen = tmux.wait_for("the roofline headline", WAIT, |s| {
        s.contains("of roofline") && s.contains("REPLAY 1x")
    });
    for title in [
        "1 Throughput",
        "2 Roofline",
        "3 Thermal drift",
        "4 Speculative decoding",
        "5 Memory",
        "6 Latency",
        "7 Devices",
        "8 Host",
    ] {
        assert!(screen.contains(title), "{title} missing at 160x45:\n{screen}");
    }
    assert!(focused(&screen, "1 Throughput"), "{screen}");
    for text in
        ["decode at", "speculation off", "unified", "TTFT ms", "Radeon 8060S", "tiny-target-f16"]
    {
        assert!(screen.contains(text), "{text:?} missing:\n{screen}");
    }

    tmux.send(&["6"]);
    tmux.wait_for("the latency pane focused", WAIT, |s| focused(s, "6 Latency"));
    tmux.send(&["z"]);
    let zoomed = tmux.wait_for("the latency pane zoomed", WAIT, |s| s.contains("z: all panes"));
    assert!(!zoomed.contains("2 Roofline") && zoomed.contains("inter-token ms"), "{zoomed}");
    assert!(zoomed.contains("more: 1 Tok/s  2 Roof"), "the other panes are named:\n{zoomed}");
    tmux.send(&["?"]);
    let help = tmux.wait_for("the help overlay", WAIT, |s| s.contains("keys · ? or Esc closes"));
    for key in ["quit", "zoom", "time window", "drift baseline", "focus a pane"] {
        assert!(help.contains(key), "help lacks {key:?}:\n{help}");
    }
    tmux.send(&["Escape"]);
    tmux.wait_for("the help closed", WAIT, |s| !s.contains("keys · ?"));
    tmux.send(&["Escape"]);
    tmux.wait_for("all panes again", WAIT, |s| s.contains("2 Roofline") && focused(s, "6 Latency"));
    tmux.send(&["Tab"]);
    tmux.wait_for("Tab to the devices pane", WAIT, |s| focused(s, "7 Devices"));
    tmux.send(&["-"]);
    tmux.wait_for("a 2 minute window", WAIT, |s| s.contains("window 2m"));

    // In a replay, p (or Space) pauses the player; ← and → seek.
    tmux.send(&["p"]);
    let paused = tmux.wait_for("the replay paused", WAIT, |s| s.contains("REPLAY 1x paused"));
    let session_time =
        |s: &str| s.lines().next().and_then(|l| l.split("session ").nth(1)).map(str::to_string);
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(session_time(&tmux.capture()), session_time(&paused), "paused means frozen");
    assert!(paused.contains("decode drift: baseline"), "{paused}");
    tmux.send(&["r"]);
    tmux.wait_for("a new drift baseline", WAIT, |s| s.contains("decode drift: no decoding yet"));
    let at = replay_position(&paused).unwrap();
    tmux.send(&["Left"]);
    let back = tmux.wait_for("10 s back", WAIT, |s| replay_position(s) == Some(at - 10));
    assert!(back.contains("of roofline"), "{back}");
    tmux.send(&["Right"]);
    tmux.wait_for("10 s forward", WAIT, |s| replay_position(s) == Some(at));

    tmux.resize(80, 24);
    let small = tmux.wait_for("the stacked layout", WAIT, |s| s.contains("more: "));
    assert!(small.contains("paused") && small.contains("1 Throughput"), "{small}");
    tmux.resize(30, 8);
    tmux.wait_for("the too-small line", WAIT, |s| s.contains("terminal too small"));
    tmux.resize(160, 45);
    tmux.wait_for("all panes again", WAIT, |s| s.contains("8 Host"));
    tmux.send(&["q"]);
    let screen = tmux.wait_for("the shell after quitting", WAIT, |s| marker(s, "TTY").is_some());
    assert_eq!(exited(&screen).as_deref(), Some("0"), "{screen}");
    assert_eq!(marker(&screen, "TTY").as_deref(), Some("clean"), "{screen}");
}

/// The position `m:ss` the status line shows after `REPLAY ...x[ paused][ end] `, in seconds.
fn replay_position(screen: &str) -> Option<u64> {
    let line = screen.lines().find(|l| l.contains("REPLAY "))?;
    let clock = line.split_whitespace().find(|w| w.contains('/') && w.contains(':'))?;
    let (m, s) = clock.split('/').next()?.split_once(':')?;
    Some(m.parse::<u64>().ok()? * 60 + s.parse::<u64>().ok()?)
}

/// Pause, step, seek and speed, with the keys a person would press.
#[test]
fn replay_keys_pause_step_seek_and_change_speed() {
    let session = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/sessions/h200-matmul.ndjson");
    let tmux = Tmux::start("replay-keys", 200, 45);
    tmux.type_line(&format!("{} replay --from 20s {}; echo EXIT=$?", bin(), shell_quote(&session)));
    tmux.wait_for("the replay", WAIT, |s| s.contains("REPLAY 1x") && s.contains("/3:19"));
    tmux.send(&["Space"]);
    let screen = tmux.wait_for("pause", WAIT, |s| s.contains("REPLAY 1x paused"));
    let paused_at = replay_position(&screen).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(replay_position(&tmux.capture()), Some(paused_at), "paused means paused");

    tmux.send(&["."]);
    tmux.wait_for("one step", WAIT, |s| replay_position(s) == Some(paused_at + 1));
    tmux.send(&["Right"]);
    tmux.wait_for("10 s forward", WAIT, |s| replay_position(s) == Some(paused_at + 11));
    tmux.send(&["Left", "Left"]);
    tmux.wait_for("20 s back", WAIT, |s| replay_position(s) == Some(paused_at - 9));
    tmux.send(&["]", "]"]);
    tmux.wait_for("4x", WAIT, |s| s.contains("REPLAY 4x paused"));
    tmux.send(&["["]);
    tmux.wait_for("2x", WAIT, |s| s.contains("REPLAY 2x paused"));
    tmux.send(&["Space"]);
    tmux.wait_for("playing on", WAIT, |s| {
        !s.contains("paused") && replay_position(s).is_some_and(|p| p >= paused_at - 5)
    });
    tmux.send(&["q"]);
    let screen = tmux.wait_for("exit", WAIT, |s| exited(s).is_some());
    assert_eq!(exited(&screen).as_deref(), Some("0"), "{screen}");
}
