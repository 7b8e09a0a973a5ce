//! What `halo-top serve` costs per scrape: the real binary with every collector on, scraped
//! over loopback. Prints figures; `cargo bench --bench serve_scrape`.
//!
//! 1. Encoding: CPU time to turn one snapshot into both text formats (done once per snapshot,
//!    whatever the number of scrapers), in this process.
//! 2. Back-to-back scrapes: response time, and the server's CPU per scrape (its CPU time
//!    from its process CPU clock, ns, less what it uses idle over the same time).
//! 3. 1,000 scrapes at 10/s (100 s): the server's extra CPU over the idle baseline.
//!
//! Machine: by default the Strix Halo fixture under load (`fixtures/*/strix-halo-load`, so the
//! host, amdgpu and model sources read a Strix Halo; NVIDIA reads the real driver if there is
//! one). `HALO_TOP_BENCH_ROOTS=real` reads this machine's /sys and /proc instead (a box with an
//! NVIDIA GPU). `HALO_TOP_BENCH_LLAMA=URL` adds a llama-server, watched and driven with
//! `--workload llama:chat`. `HALO_TOP_BENCH_SCRAPES=N` changes the 1,000.
//!
//! `cargo test --all-targets` runs this too, without `--bench`: then it only checks that every
//! step works, with a few scrapes, so that the test suite stays fast.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use halo_collectors::Snapshot;
use halo_collectors::gguf::writer::SparseGguf;
use halo_top::serve::metrics::{classic_from_openmetrics, openmetrics};
use nix::time::{ClockId, clock_gettime};

fn thread_cpu_ns() -> u64 {
    let t = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).expect("thread CPU clock");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

/// CPU time of the whole process `pid` so far (every thread, ended ones too), in ns: its
/// CLOCK_PROCESS_CPUTIME_ID, read from outside through clock_getcpuclockid.
fn process_cpu_ns(pid: u32) -> u64 {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("pid"));
    let clock = nix::time::clock_getcpuclockid(pid).expect("the server's CPU clock");
    let t = clock_gettime(clock).expect("read the server's CPU clock");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn scrape(addr: SocketAddr) -> (Duration, usize) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        .expect("bench setup");
    let mut body = Vec::with_capacity(32 * 1024);
    stream.read_to_end(&mut body).expect("read");
    assert!(body.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&body));
    (started.elapsed(), body.len())
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(dir: &Path) -> Server {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let spec = std::fs::read_to_string(repo.join("fixtures/gguf/qwen3-30b-a3b-Q4_K_M.txt"))
        .expect("model fixture");
    let model = dir.join("model.gguf");
    SparseGguf::parse_spec(&spec).expect("spec").write(&model).expect("write model");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_halo-top"));
    cmd.args(["--interval", "1s", "--config"]).arg(dir.join("none.toml"));
    cmd.arg("--model").arg(&model);
    if std::env::var("HALO_TOP_BENCH_ROOTS").as_deref() != Ok("real") {
        cmd.arg("--sysfs-root").arg(repo.join("fixtures/sysfs/strix-halo-load"));
        cmd.arg("--procfs-root").arg(repo.join("fixtures/procfs/strix-halo-load"));
    }
    // A llama-server to watch and drive (e.g. one on the tiny models the tests write).
    if let Ok(url) = std::env::var("HALO_TOP_BENCH_LLAMA") {
        cmd.args(["--llama", &url, "--workload", "llama:chat"]);
    }
    cmd.args(["serve", "--listen", "127.0.0.1:0"]);
    let mut child = cmd.stderr(Stdio::piped()).stdout(Stdio::null()).spawn().expect("serve");
    let mut stderr = child.stderr.take().expect("stderr");
    let mut seen = String::new();
    let addr = loop {
        let mut buf = [0u8; 256];
        let n = stderr.read(&mut buf).expect("stderr");
        assert!(n > 0, "serve exited: {seen}");
        seen += &String::from_utf8_lossy(&buf[..n]);
        // Wait for the whole line: a read may end in the middle of the address.
        if let Some(rest) = seen.split("serving http://").nth(1)
            && let Some((addr, _)) = rest.split_once(' ')
        {
            break addr.parse().expect("address");
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    Server { child, addr }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path());
    let pid = server.child.id();
    // Two snapshots, so every rate is defined and every section is in the output.
    std::thread::sleep(Duration::from_millis(2600));
    let (_, bytes) = scrape(server.addr);
    let snapshot: Snapshot = {
        let mut s = TcpStream::connect(server.addr).expect("bench setup");
        write!(s, "GET /snapshot HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
            .expect("bench setup");
        let mut text = String::new();
        s.read_to_string(&mut text).expect("bench setup");
        serde_json::from_str(text.split_once("\r\n\r\n").expect("body").1).expect("snapshot")
    };
    let sources: Vec<String> = snapshot
        .sources
        .iter()
        .map(|s| format!("{} {}", s.name, if s.status.is_ok() { "ok" } else { "not ok" }))
        .collect();
    println!("serve_scrape: sources {}", sources.join(", "));
    let (load1, _) = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
        .unwrap_or_default();
    println!("serve_scrape: load average (1 min) {load1}, {} CPUs", num_cpus());

    // 1. Encoding one snapshot (both formats), in this process.
    let snapshot = Arc::new(snapshot);
    let text = openmetrics(snapshot.clone(), "bench");
    let series = text.lines().filter(|l| !l.starts_with('#')).count();
    let mut encode_us: Vec<f64> = (0..if full { 500 } else { 20 })
        .map(|_| {
            let before = thread_cpu_ns();
            let open = openmetrics(snapshot.clone(), "bench");
            std::hint::black_box(classic_from_openmetrics(&open));
            (thread_cpu_ns() - before) as f64 / 1000.0
        })
        .collect();
    encode_us.sort_by(f64::total_cmp);
    println!(
        "encode one snapshot ({series} series, {bytes} bytes of response): median {:.0} µs, p90 {:.0} µs CPU",
        percentile(&encode_us, 0.5),
        percentile(&encode_us, 0.9)
    );

    // Idle baseline: the server collecting, nobody scraping.
    let idle_s = if full { 20.0 } else { 2.0 };
    let (cpu0, t0) = (process_cpu_ns(pid), Instant::now());
    std::thread::sleep(Duration::from_secs_f64(idle_s));
    let idle_ns_per_s = (process_cpu_ns(pid) - cpu0) as f64 / t0.elapsed().as_secs_f64();
    println!(
        "idle (collecting at 1 s, no scrapes): {:.2} ms CPU per second ({:.3} % of a core)",
        idle_ns_per_s / 1e6,
        idle_ns_per_s / 1e7
    );

    // 2. Back-to-back scrapes (a new connection each, as curl would).
    let n = if full { 1000 } else { 50 };
    let (cpu0, t0) = (process_cpu_ns(pid), Instant::now());
    let mut latency_us: Vec<f64> =
        (0..n).map(|_| scrape(server.addr).0.as_secs_f64() * 1e6).collect();
    let wall_s = t0.elapsed().as_secs_f64();
    let extra_ns = (process_cpu_ns(pid) - cpu0) as f64 - idle_ns_per_s * wall_s;
    latency_us.sort_by(f64::total_cmp);
    println!(
        "{n} back-to-back scrapes in {wall_s:.2} s: response p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs; server CPU {:.0} µs per scrape",
        percentile(&latency_us, 0.5),
        percentile(&latency_us, 0.99),
        latency_us[n - 1],
        extra_ns / n as f64 / 1000.0
    );

    // 3. Scrapes at 10/s, as a fast Prometheus would.
    let n: usize = std::env::var("HALO_TOP_BENCH_SCRAPES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 1000 } else { 10 });
    let (cpu0, t0) = (process_cpu_ns(pid), Instant::now());
    let mut latency_us = Vec::with_capacity(n);
    for i in 0..n {
        let due = t0 + Duration::from_millis(100 * i as u64);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        latency_us.push(scrape(server.addr).0.as_secs_f64() * 1e6);
    }
    let wall_s = t0.elapsed().as_secs_f64();
    let total_ns = (process_cpu_ns(pid) - cpu0) as f64;
    let extra_ns = total_ns - idle_ns_per_s * wall_s;
    latency_us.sort_by(f64::total_cmp);
    println!(
        "{n} scrapes at 10/s over {wall_s:.1} s: server CPU {:.1} ms in all, {:.1} ms above idle = {:.0} µs per scrape ({:.3} % of a core); response p50 {:.0} µs, p99 {:.0} µs",
        total_ns / 1e6,
        extra_ns / 1e6,
        extra_ns / n as f64 / 1000.0,
        extra_ns / wall_s / 1e7,
        percentile(&latency_us, 0.5),
        percentile(&latency_us, 0.99)
    );
    drop(server);
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
