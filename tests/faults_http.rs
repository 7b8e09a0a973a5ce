//! Servers that misbehave where llama-servers should be (slow, hung, 100 MB, not UTF-8, cut
//! mid-body, not HTTP): each one's source fails with a clear error, and the soak and the
//! dashboard keep their interval, because no source can block the hub or the UI.

mod support;

use std::time::{Duration, Instant};

use halo_collectors::SourceStatus;
use halo_top::session::Session;
use support::fake_http::{FakeServer, Misbehaviour};
use support::reliability::{self, Row};
use support::spacing::{spacing, status};
use support::{Tmux, halo_top, marker, run_ok, shell_quote};

const INTERVAL_MS: u64 = 250;

fn servers() -> Vec<FakeServer> {
    Misbehaviour::ALL.iter().map(|&m| FakeServer::start(m)).collect()
}

fn urls(servers: &[FakeServer]) -> String {
    servers.iter().map(FakeServer::url).collect::<Vec<_>>().join(",")
}

/// Words the failure of each misbehaviour's source must contain.
fn expected_error(m: Misbehaviour) -> &'static [&'static str] {
    match m {
        Misbehaviour::Slow | Misbehaviour::Hangs => &["no complete answer within", "timed out"],
        Misbehaviour::Huge => &["larger than the"],
        Misbehaviour::InvalidUtf8 => &["not UTF-8"],
        Misbehaviour::ClosesMidBody => &["I/O error", "not the expected JSON", "timed out"],
        Misbehaviour::Garbage => &["not a valid HTTP response", "I/O error"],
    }
}

#[test]
fn soak_keeps_its_interval_while_servers_misbehave() {
    let servers = servers();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("soak.ndjson");
    let started = Instant::now();
    run_ok(
        halo_top()
            .args(["--interval", &format!("{INTERVAL_MS}ms"), "--llama", &urls(&servers)])
            .args(["soak", "--duration", "6s", "--warmup", "1s", "-o"])
            .arg(&path),
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "a 6 s soak took {took:?}: something blocked");

    let session = Session::read(&path).unwrap();
    assert!(session.footer.is_some(), "the soak ended cleanly, with its footer");
    let snapshots = &session.snapshots;
    let spacing = spacing(snapshots);
    eprintln!("soak with misbehaving servers: {spacing:?}, took {took:?}");
    spacing.assert_kept(INTERVAL_MS, 2.0, "soak");

    // After the first second every bad server's source has failed, saying why.
    for server in &servers {
        let name = format!("llama:{}", server.url());
        for s in snapshots.iter().filter(|s| s.mono_ms >= 1000) {
            match status(s, &name) {
                Some(SourceStatus::Failed { error }) => assert!(
                    expected_error(server.misbehaviour).iter().any(|w| error.contains(w)),
                    "{:?} at seq {}: {error}",
                    server.misbehaviour,
                    s.seq
                ),
                other => panic!("{:?} at seq {}: {other:?}", server.misbehaviour, s.seq),
            }
        }
    }
    // The 100 MB answer was capped, never held in memory.
    let rss_max = snapshots.iter().filter_map(|s| s.host.as_ref()?.own_process.rss_bytes).max();
    assert!(rss_max.unwrap() < 64 << 20, "halo-top's RSS reached {rss_max:?} bytes");
    assert!(snapshots.iter().all(|s| matches!(status(s, "host"), Some(SourceStatus::Ok))));

    let rows: Vec<Row> = servers
        .iter()
        .map(|s| Row {
            area: "HTTP (soak)",
            fault: s.misbehaviour.describe(),
            // One soak; the number of polls in it varies by one or two, and the table is
            // compared with the committed one.
            tries: 1,
            result: "in every snapshot of a 6 s soak at 250 ms: source failed with a clear \
                     error; no snapshot missed or late; RSS bounded",
        })
        .collect();
    reliability::write("faults_http_soak", &rows);
}

/// The `session HH:MM:SS` clock of the dashboard's header, in seconds.
fn session_clock(screen: &str) -> Option<u64> {
    let after = screen.split("session ").nth(1)?;
    let clock = after.split_whitespace().next()?;
    let mut parts = clock.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    Some(h * 3600 + m * 60 + s)
}

#[test]
fn dashboard_keeps_updating_while_servers_misbehave() {
    let servers = servers();
    let tmux = Tmux::start("misbehave", 200, 50);
    let dir = tempfile::tempdir().unwrap();
    tmux.type_line(&format!("cd {}; stty -g > before; clear", shell_quote(dir.path())));
    let bin = shell_quote(std::path::Path::new(env!("CARGO_BIN_EXE_halo-top")));
    tmux.type_line(&format!(
        "{bin} --interval {INTERVAL_MS}ms --llama {}; echo EXIT=$?; stty -g > after; \
         cmp -s before after && echo TTY=clean || echo TTY=changed",
        urls(&servers)
    ));
    let wait = Duration::from_secs(20);
    tmux.wait_for("the session clock", wait, |s| session_clock(s).is_some());

    // Watch the clock for 6 s: it must move on every second or so, never stall.
    let mut last = (session_clock(&tmux.capture()).unwrap(), Instant::now());
    let mut longest_stall = Duration::ZERO;
    let first = last.0;
    let watch_until = Instant::now() + Duration::from_secs(6);
    while Instant::now() < watch_until {
        std::thread::sleep(Duration::from_millis(100));
        let Some(clock) = session_clock(&tmux.capture()) else { continue };
        if clock != last.0 {
            assert!(clock > last.0, "the session clock went back");
            last = (clock, Instant::now());
        }
        longest_stall = longest_stall.max(last.1.elapsed());
    }
    eprintln!(
        "dashboard: session clock {first} s -> {} s, longest stall {longest_stall:?}",
        last.0
    );
    assert!(last.0 >= first + 4, "the clock moved from {first} s to {} s in 6 s", last.0);
    assert!(longest_stall < Duration::from_millis(2500), "the clock stalled {longest_stall:?}");

    // Quitting is not held up by the hung connections either.
    let asked = Instant::now();
    tmux.send(&["q"]);
    let screen = tmux.wait_for("the shell", wait, |s| marker(s, "TTY").is_some());
    assert!(asked.elapsed() < Duration::from_secs(3), "quitting took {:?}", asked.elapsed());
    assert_eq!(marker(&screen, "EXIT").as_deref(), Some("0"), "{screen}");
    assert_eq!(marker(&screen, "TTY").as_deref(), Some("clean"), "{screen}");

    reliability::write(
        "faults_http_dashboard",
        &[Row {
            area: "HTTP (dashboard)",
            fault: "all six misbehaving servers at once",
            tries: 1,
            result: "session clock kept moving (no stall over 2.5 s); quit at once; terminal restored",
        }],
    );
}
