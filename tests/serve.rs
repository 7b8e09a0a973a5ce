//! `halo-top serve` end to end: the real binary on a loopback port, read over real HTTP.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use halo_collectors::Snapshot;
use halo_collectors::amdgpu::testing::{fixture_procfs, fixture_sysfs};
use support::serve::{Served, get, raw, speculative_llama_server};

/// The collectors' flags for a fixture Strix Halo (`idle` or `load`), 200 ms apart.
fn machine(scenario: &str) -> Vec<String> {
    let scenario = format!("strix-halo-{scenario}");
    vec![
        "--interval".into(),
        "200ms".into(),
        "--sysfs-root".into(),
        fixture_sysfs(&scenario).display().to_string(),
        "--procfs-root".into(),
        fixture_procfs(&scenario).display().to_string(),
    ]
}

fn serve(args: &[String], extra: &[&str]) -> Served {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(["serve", "--listen", "127.0.0.1:0"]);
    all.extend(extra);
    Served::start(&all)
}

/// Waits until `/metrics` answers 200 (the first snapshot is taken).
fn metrics(served: &Served, headers: &[&str]) -> support::serve::Response {
    for _ in 0..100 {
        let r = get(served.addr, "/metrics", headers);
        if r.status == 200 {
            return r;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no metrics within 10 s");
}

/// `promtool check metrics` (Debian's `prometheus` package; scripts/test installs it): the
/// exporter's output passes Prometheus' own linter. Fails when promtool is missing.
fn promtool_check(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is installed (scripts/test installs Debian's prometheus package)");
    child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write to promtool");
    let out = child.wait_with_output().expect("promtool ran");
    assert!(
        out.status.success(),
        "promtool check metrics failed ({}):\n{}{}\non:\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn metrics_snapshot_stream_and_health() {
    let args = machine("load");
    let served = serve(&args, &[]);

    let classic = metrics(&served, &[]);
    assert!(classic.headers.contains("content-type: text/plain; version=0.0.4"), "{classic:?}");
    // The fixture's MemTotal (131155886 kB) and its gpu_metrics table (spec section 10).
    for line in [
        r#"halo_host_memory_total_bytes{host="strix-halo"} 134303627264.0"#,
        r#"halo_amdgpu_socket_power_watts{host="strix-halo",device="card1"} 88.165"#,
        r#"halo_amdgpu_gpu_busy_ratio{host="strix-halo",device="card1"} 0.97"#,
        r#"halo_amdgpu_throttle_residency_ticks_total{host="strix-halo",device="card1",limiter="sppt"} 5233158.0"#,
    ] {
        assert!(classic.body.contains(line), "no {line} in:\n{}", classic.body);
    }
    assert!(classic.body.contains("# TYPE halo_top_cpu_seconds_total counter"), "{}", classic.body);
    promtool_check(&classic.body);

    let open = metrics(&served, &["Accept: application/openmetrics-text;version=1.0.0,*/*;q=0.1"]);
    assert!(open.headers.contains("content-type: application/openmetrics-text; version=1.0.0"));
    assert!(open.body.ends_with("# EOF\n"), "{}", open.body);
    assert!(open.body.contains("# TYPE halo_top_cpu_seconds counter"));

    let snapshot = served.get("/snapshot");
    assert_eq!(snapshot.status, 200);
    assert!(snapshot.headers.contains("content-type: application/json"));
    let snapshot: Snapshot = serde_json::from_str(&snapshot.body).expect("a snapshot");
    assert_eq!(snapshot.host.unwrap().host_name.as_deref(), Some("strix-halo"));
    assert_eq!(snapshot.amdgpu.unwrap().cards[0].card, "card1");

    let health = served.get("/health");
    assert_eq!(health.status, 200, "{health:?}");
    assert!(health.body.contains("\"status\":\"ok\""));

    // /stream: one snapshot a line, as they are taken.
    let mut stream = TcpStream::connect(served.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(stream, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    let mut seqs = Vec::new();
    let mut line = String::new();
    while seqs.len() < 3 {
        line.clear();
        reader.read_line(&mut line).expect("a /stream line");
        // Chunk sizes and blank lines sit between the snapshots.
        if let Ok(s) = serde_json::from_str::<Snapshot>(line.trim()) {
            seqs.push(s.seq);
        }
    }
    assert!(seqs.windows(2).all(|w| w[1] > w[0]), "{seqs:?}");
}

#[test]
fn rejects_what_it_does_not_serve() {
    let args = machine("load");
    let served = serve(&args, &[]);
    metrics(&served, &[]);
    let post = raw(
        served.addr,
        b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(post.status, 405);
    let body = raw(
        served.addr,
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    );
    assert_eq!(body.status, 413);
    assert_eq!(served.get("/etc/passwd").status, 404);
    assert_eq!(served.get("/metrics/../../etc/passwd").status, 404);
    let garbage = raw(served.addr, b"\x00\x01 garbage that is not HTTP\r\n\r\n");
    assert!(garbage.status == 400 || garbage.status == 0, "{garbage:?}");
    let huge =
        format!("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(64 * 1024));
    let huge = raw(served.addr, huge.as_bytes());
    assert!(huge.status == 431 || huge.status == 400 || huge.status == 0, "{huge:?}");
    // Still serving after all that.
    assert_eq!(served.get("/metrics").status, 200);
}

#[test]
fn token_and_connection_limit() {
    let args = machine("load");
    let served = serve(&args, &["--token", "s3cret", "--max-connections", "2"]);
    for _ in 0..100 {
        if served.get("/health").status == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(served.get("/health").status, 200, "/health needs no token");
    let denied = served.get("/metrics");
    assert_eq!(denied.status, 401);
    assert!(denied.headers.contains("www-authenticate: bearer"));
    assert_eq!(get(served.addr, "/snapshot", &["Authorization: Bearer wrong"]).status, 401);
    assert_eq!(get(served.addr, "/metrics", &["Authorization: Bearer s3cret"]).status, 200);

    // Two clients hold the two connections open; a third is refused, then served once one
    // leaves. (A connection just closed by the client may hold its slot a moment longer: the
    // server lets go of it after the socket, so a 503 here is retried.)
    let hold = || {
        for _ in 0..50 {
            let mut s = TcpStream::connect(served.addr).unwrap();
            write!(s, "GET /stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n\r\n")
                .unwrap();
            let mut first = String::new();
            let mut reader = BufReader::new(s.try_clone().unwrap());
            reader.read_line(&mut first).unwrap();
            if first.contains("200") {
                return s;
            }
            assert!(first.contains("503"), "{first}");
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no connection slot came free");
    };
    let first = hold();
    let _second = hold();
    let refused = served.get("/health");
    assert_eq!(refused.status, 503, "{refused:?}");
    drop(first);
    let mut served_again = false;
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(100));
        if served.get("/health").status == 200 {
            served_again = true;
            break;
        }
    }
    assert!(served_again, "the connection slot was not given back");
}

/// llama-server's counters, the rates derived from them, every slot and the load generator,
/// from a real server decoding speculatively under `--workload`: present, and promtool-clean.
#[test]
fn llama_server_metrics_under_load() {
    let llama = speculative_llama_server();
    let url = llama.url();
    let mut args = machine("load");
    args.extend(["--llama".into(), url.clone(), "--workload".into(), "llama:chat".into()]);
    let served = serve(&args, &[]);
    // Acceptance is known once a speculative request has ended.
    let mut body = String::new();
    for _ in 0..600 {
        body = get(served.addr, "/metrics", &[]).body;
        if body.contains("halo_llama_spec_acceptance_cumulative_ratio{")
            && body.contains("halo_llama_decode_tokens_per_second{")
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let server = format!(r#"host="strix-halo",server="{url}""#);
    for family in [
        "halo_llama_server_info",
        "halo_llama_decode_tokens_per_second",
        "halo_llama_spec_acceptance_cumulative_ratio",
        "halo_llama_predicted_tokens_total",
        "halo_llama_generated_tokens_total",
        "halo_llama_decode_calls_total",
    ] {
        assert!(body.contains(&format!("{family}{{{server}")), "no {family} in:\n{body}");
    }
    assert!(body.contains(&format!(r#"halo_llama_slot_busy{{{server},slot="1"}}"#)), "{body}");
    assert!(body.contains(r#"halo_load_requests_total{host="strix-halo",server="#), "{body}");
    promtool_check(&body);
}
