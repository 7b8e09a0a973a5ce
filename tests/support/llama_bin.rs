//! The real llama.cpp binaries (installed by `.ci/install-llama-server`, found through
//! HALO_TOP_LLAMA_BIN_DIR, which scripts/test exports) and a minimal HTTP client for
//! llama-server on loopback.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The directory of llama-server, llama-completion, llama-bench. Fails (never skips) without it.
pub fn bin_dir() -> PathBuf {
    let dir = std::env::var_os("HALO_TOP_LLAMA_BIN_DIR").unwrap_or_else(|| {
        panic!(
            "HALO_TOP_LLAMA_BIN_DIR is not set: this test needs llama.cpp's llama-server. \
             Run the tests with scripts/test, which installs it (.ci/install-llama-server) \
             and exports the variable."
        )
    });
    let dir = PathBuf::from(dir);
    assert!(
        dir.join("llama-server").is_file(),
        "HALO_TOP_LLAMA_BIN_DIR={} holds no llama-server",
        dir.display()
    );
    dir
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// A llama-server child on a free loopback port, killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Server {
    /// Starts llama-server on `model` with `extra` arguments and waits until /health is ok.
    pub fn start(model: &Path, extra: &[&str]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = model.with_extension(format!("server-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("create the server log");
        let child = Command::new(bin_dir().join("llama-server"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "-t", "1", "-c", "2048"])
            .arg("-m")
            .arg(model)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("spawn llama-server");
        let mut server = Server { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("llama-server exited ({status}) on {}:\n{}", model.display(), server.log());
            }
            if let Ok((200, _)) = server.try_request("GET", "/health", None) {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "llama-server never became healthy:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts llama-server with `--host 127.0.0.1 --port PORT -t 1` and exactly `args`, without
    /// waiting for it (router mode, a restart on the same port, the loading window).
    pub fn spawn(port: u16, args: &[&str], log: &Path) -> Server {
        let log_file = std::fs::File::create(log).expect("create the server log");
        let child = Command::new(bin_dir().join("llama-server"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "-t", "1"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("spawn llama-server");
        Server { child, port, log: log.to_path_buf() }
    }

    /// Waits until /health answers 200 (60 s at most).
    pub fn wait_healthy(mut self) -> Server {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !matches!(self.try_request("GET", "/health", None), Ok((200, _))) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("llama-server exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "llama-server never became healthy:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// GETs JSON; panics with the server's log on any failure.
    pub fn get(&self, path: &str) -> serde_json::Value {
        match self.try_request("GET", path, None) {
            Ok((200, text)) => serde_json::from_str(&text).expect("JSON reply"),
            other => panic!("GET {path}: {other:?}\n{}", self.log()),
        }
    }

    /// POSTs JSON and returns the parsed reply; panics with the server's log on any failure.
    pub fn post(&self, path: &str, body: &serde_json::Value) -> serde_json::Value {
        match self.try_request("POST", path, Some(&body.to_string())) {
            Ok((200, text)) => serde_json::from_str(&text).expect("JSON reply"),
            other => panic!("POST {path}: {other:?}\n{}", self.log()),
        }
    }

    fn try_request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        let body = body.unwrap_or("");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply)?;
        let status = reply.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = reply.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        Ok((status, body))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
