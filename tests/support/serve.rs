//! `halo-top serve` as a child process, and a bare HTTP/1.1 client for it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::halo_top;

/// A running `halo-top ... serve`; killed when dropped.
pub struct Served {
    child: Child,
    pub addr: SocketAddr,
}

impl Served {
    /// Starts `halo-top ARGS` (which must include `serve`) and waits for its address.
    pub fn start(args: &[&str]) -> Served {
        let mut child = halo_top()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start halo-top serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut seen = Vec::new();
        let addr = loop {
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("halo-top: serving http://") {
                        let addr = rest.split_whitespace().next().expect("an address");
                        break addr.parse().expect("a socket address");
                    }
                    seen.push(line);
                }
                Err(_) => panic!("halo-top serve did not start; stderr:\n{}", seen.join("\n")),
            }
        };
        Served { child, addr }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn get(&self, path: &str) -> Response {
        get(self.addr, path, &[])
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// The header lines, lower-cased.
    pub headers: String,
    pub body: String,
}

/// Sends `GET path` with `headers` (`"Name: value"`) and reads the whole response.
pub fn get(addr: SocketAddr, path: &str, headers: &[&str]) -> Response {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for h in headers {
        request += &format!("{h}\r\n");
    }
    request += "\r\n";
    raw(addr, request.as_bytes())
}

/// Sends `bytes` as they are and reads until the server closes.
pub fn raw(addr: SocketAddr, bytes: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("set a read timeout");
    stream.write_all(bytes).expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read the response");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Response { status, headers: head.to_lowercase(), body: dechunk(&head.to_lowercase(), body) }
}

fn dechunk(head: &str, body: &str) -> String {
    if !head.contains("transfer-encoding: chunked") {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || tail.len() < size {
            break;
        }
        out += &tail[..size];
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

/// A real llama-server with speculative decoding (the tiny target and its draft, written once
/// under cargo's target tmp dir), for the exporter's llama metrics.
pub fn speculative_llama_server() -> super::llama_bin::Server {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-tiny-models");
    let models = halo_top::synth::tiny::write(&dir).expect("write the tiny models");
    let draft = models.draft_f16.display().to_string();
    super::llama_bin::Server::start(
        &models.target_f16,
        &["--parallel", "2", "--metrics", "-md", &draft, "--spec-type", "draft-simple", "-td", "1"],
    )
}
