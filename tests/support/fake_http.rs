//! A misbehaving HTTP server on loopback, standing where a llama-server would: every request,
//! whatever its path, gets the same bad answer. Each connection has its own thread, so a hung
//! one never holds up the next; all of them stop when the server is dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Headers at once, then the body one byte every 200 ms.
    Slow,
    /// Accepts the connection and never answers.
    Hangs,
    /// A 100 MB body (Content-Length says so, and it is sent).
    Huge,
    /// 200 OK with a body that is not UTF-8.
    InvalidUtf8,
    /// Promises 5000 bytes, sends 100, closes.
    ClosesMidBody,
    /// Not HTTP at all.
    Garbage,
}

impl Misbehaviour {
    pub const ALL: [Misbehaviour; 6] = [
        Misbehaviour::Slow,
        Misbehaviour::Hangs,
        Misbehaviour::Huge,
        Misbehaviour::InvalidUtf8,
        Misbehaviour::ClosesMidBody,
        Misbehaviour::Garbage,
    ];

    /// For the reliability table.
    pub fn describe(self) -> &'static str {
        match self {
            Misbehaviour::Slow => "answers slowly (body 1 byte / 200 ms)",
            Misbehaviour::Hangs => "accepts and never answers",
            Misbehaviour::Huge => "sends a 100 MB body",
            Misbehaviour::InvalidUtf8 => "sends a body that is not UTF-8",
            Misbehaviour::ClosesMidBody => "closes mid-body (100 of 5000 bytes)",
            Misbehaviour::Garbage => "answers with bytes that are not HTTP",
        }
    }
}

pub struct FakeServer {
    pub port: u16,
    pub misbehaviour: Misbehaviour,
    stop: Arc<AtomicBool>,
}

impl FakeServer {
    pub fn start(misbehaviour: Misbehaviour) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("a local address").port();
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let stopping = stopping.clone();
                        std::thread::spawn(move || serve(stream, misbehaviour, &stopping));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeServer { port, misbehaviour, stop }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads the request head (up to the blank line), so the client is waiting on the answer.
fn read_request(stream: &mut TcpStream) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 << 10 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
}

fn serve(mut stream: TcpStream, misbehaviour: Misbehaviour, stop: &AtomicBool) {
    read_request(&mut stream);
    let deadline = Instant::now() + Duration::from_secs(120);
    let alive = || !stop.load(Ordering::Relaxed) && Instant::now() < deadline;
    let ok = |len: usize| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
        )
    };
    match misbehaviour {
        Misbehaviour::Slow => {
            if stream.write_all(ok(1000).as_bytes()).is_err() {
                return;
            }
            while alive() && stream.write_all(b" ").is_ok() {
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        Misbehaviour::Hangs => {
            while alive() {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Misbehaviour::Huge => {
            const TOTAL: usize = 100 << 20;
            let chunk = vec![b'7'; 64 << 10];
            if stream.write_all(ok(TOTAL).as_bytes()).is_err() {
                return;
            }
            let mut sent = 0;
            while sent < TOTAL && alive() && stream.write_all(&chunk).is_ok() {
                sent += chunk.len();
            }
        }
        Misbehaviour::InvalidUtf8 => {
            let body: &[u8] = b"{\"status\": \"\xff\xfe\xc3\x28 not utf-8\"}\n";
            let _ = stream.write_all(ok(body.len()).as_bytes());
            let _ = stream.write_all(body);
        }
        Misbehaviour::ClosesMidBody => {
            let _ = stream.write_all(ok(5000).as_bytes());
            let _ = stream.write_all(&[b' '; 100]);
        }
        Misbehaviour::Garbage => {
            let _ = stream.write_all(b"\x00\x01 hello, this is not HTTP\r\n\r\n\xff\xff");
        }
    }
}
