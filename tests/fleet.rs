//! The fleet: two `halo-top serve` on loopback, each reading a different Strix Halo fixture
//! (one idle, one serving a model), and one dashboard with `--remote` to both, in tmux.

mod support;

use std::path::Path;
use std::time::Duration;

use halo_collectors::amdgpu::testing::{fixture_procfs, fixture_sysfs};
use support::serve::{Served, speculative_llama_server};
use support::{Tmux, shell_quote};

const WAIT: Duration = Duration::from_secs(30);

fn roots(scenario: &str) -> [String; 4] {
    [
        "--sysfs-root".into(),
        fixture_sysfs(scenario).display().to_string(),
        "--procfs-root".into(),
        fixture_procfs(scenario).display().to_string(),
    ]
}

fn serve(scenario: &str, listen: &str, extra: &[&str]) -> Served {
    let mut args = vec!["--interval".to_string(), "300ms".into()];
    args.extend(roots(scenario));
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend(["serve".into(), "--listen".into(), listen.into()]);
    Served::start(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The words of a fleet row after the remote's address: TOK/S, ROOF, CPU, CPU°C, GPU°C, the
/// power and its unit, ACCEPT, MEMORY, STATUS.
fn fields_after<'a>(row: &'a str, addr: &str) -> Vec<&'a str> {
    let rest = row.split_once(addr).map_or("", |(_, r)| r);
    rest.split_whitespace().filter(|w| *w != "│").collect()
}

/// The fleet row of the remote at `addr`.
fn row<'a>(screen: &'a str, addr: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(addr))
}

#[test]
fn fleet_view_follows_two_remotes_through_a_restart() {
    // The loaded box serves a model for real: a llama-server decoding speculatively, driven by
    // halo-top's own load generator.
    let llama = speculative_llama_server();
    let url = llama.url();
    let decoding = ["--llama", url.as_str(), "--workload", "llama:chat"];
    let idle = serve("strix-halo-idle", "127.0.0.1:0", &[]);
    let mut load = serve("strix-halo-load", "127.0.0.1:0", &decoding);
    let (idle_addr, load_addr) = (idle.addr.to_string(), load.addr.to_string());

    let bin = shell_quote(Path::new(env!("CARGO_BIN_EXE_halo-top")));
    // This machine: a box without an AMD GPU (its fixtures pair no-amdgpu with quiet).
    let local = format!(
        "--sysfs-root {} --procfs-root {}",
        shell_quote(&fixture_sysfs("no-amdgpu")),
        shell_quote(&fixture_procfs("quiet"))
    );
    let tmux = Tmux::start("fleet", 150, 30);
    tmux.type_line(&format!(
        "{bin} --interval 300ms {local} --remote http://{idle_addr} --remote http://{load_addr}"
    ));

    // Both remotes live, each with its own numbers: the idle box at 45 °C GPU and 13 W, the
    // loaded one at 70 °C and 88 W (their gpu_metrics and hwmon fixtures).
    let screen = tmux.wait_for("both remotes live with numbers", WAIT, |s| {
        row(s, &idle_addr).is_some_and(|r| r.contains("live") && r.contains("13 W"))
            && row(s, &load_addr).is_some_and(|r| r.contains("live") && r.contains("88 W"))
    });
    let idle_row = row(&screen, &idle_addr).unwrap();
    let load_row = row(&screen, &load_addr).unwrap();
    assert!(idle_row.contains("45.0°C") && idle_row.contains("39.4°C"), "{idle_row}");
    assert!(load_row.contains("70.0°C") && load_row.contains("78.1°C"), "{load_row}");
    // Decode tok/s, roofline % (the served model found through /props, the Strix Halo's
    // 256 GB/s) and speculative acceptance (once a request has ended) from the real server.
    let screen =
        tmux.wait_for("decode tok/s, roofline and acceptance of the loaded box", WAIT, |s| {
            row(s, &load_addr).is_some_and(|r| {
                let f = fields_after(r, &load_addr);
                f.len() > 7 && f[0] != "n/a" && f[1].ends_with('%') && f[7].ends_with('%')
            })
        });
    let fields = fields_after(row(&screen, &load_addr).unwrap(), &load_addr);
    let tok_s: f64 = fields[0].parse().unwrap();
    assert!(tok_s > 0.0, "{fields:?}");
    let accept: f64 = fields[7].trim_end_matches('%').parse().unwrap();
    assert!((0.0..=100.0).contains(&accept), "{fields:?}");
    assert_eq!(fields_after(row(&screen, &idle_addr).unwrap(), &idle_addr)[0], "n/a");
    assert!(screen.contains("Fleet: 3 hosts") && screen.contains("local"), "{screen}");

    // Open the loaded box's dashboard, then go back to the fleet.
    tmux.send(&["Down", "Down", "Enter"]);
    tmux.wait_for("the remote's full dashboard", WAIT, |s| {
        // The remote's own header (its fixture's host name) and its llama-server's model.
        s.contains("halo-top strix-halo") && s.contains("Throughput · tiny-target")
    });
    tmux.send(&["f"]);
    tmux.wait_for("the fleet again", WAIT, |s| s.contains("Fleet: 3 hosts"));

    // The loaded box goes away: stale at once, unreachable after 10 s, its numbers gone.
    load.kill();
    tmux.wait_for("the killed remote stale", WAIT, |s| {
        row(s, &load_addr).is_some_and(|r| r.contains("stale"))
    });
    let screen = tmux.wait_for("the killed remote unreachable", WAIT, |s| {
        row(s, &load_addr).is_some_and(|r| r.contains("UNREACHABLE"))
    });
    let gone = row(&screen, &load_addr).unwrap();
    assert!(!gone.contains("88 W") && !gone.contains("70.0°C"), "old numbers shown: {gone}");
    assert!(screen.contains("cannot connect"), "the reason is shown:\n{screen}");
    assert!(row(&screen, &idle_addr).unwrap().contains("live"), "{screen}");

    // It comes back on the same port: live again, with its numbers.
    let _load = serve("strix-halo-load", &load_addr, &decoding);
    tmux.wait_for("the remote live again", WAIT, |s| {
        row(s, &load_addr).is_some_and(|r| r.contains("live") && r.contains("88 W"))
    });
    tmux.send(&["q"]);
}
