//! The collector against error bodies and a tiny local TCP server that misbehaves on purpose
//! (garbage, slow and oversized answers); the real server is in `tests/llama_server.rs`.

use super::test_capture::capture;
use super::*;

#[test]
fn error_bodies_read_as_reasons() {
    let cases = [
        ("c-no-metrics/metrics_without_flag.txt", 501, "Start it with `--metrics`"),
        ("e-api-key/metrics_no_key_401.txt", 401, "Invalid API Key"),
        ("d-router/metrics_no_model_param.txt", 400, "model name is missing"),
        ("d-router/metrics_unloaded_autoload_false.txt", 400, "model is not loaded"),
        ("a-target-parallel2/health_during_load.txt", 503, "Loading model"),
        ("g-extras/metrics_during_model_load.txt", 503, "Loading model"),
        ("g-extras/slots_fail_on_no_slot_busy.txt", 503, "no slot available"),
        ("c-no-metrics/slots_with_no_slots_flag.txt", 501, "slots endpoint"),
    ];
    for (path, status, words) in cases {
        let reply = capture(path);
        assert_eq!(reply.status, status, "{path}");
        let reason = http::describe_status(&reply);
        assert!(reason.starts_with(&format!("HTTP {status} (")), "{reason}");
        assert!(reason.contains(words), "{path}: {reason}");
    }
    let garbage = Reply { status: 500, body: "<html>\nboom".into(), process_start_us: None };
    assert_eq!(http::describe_status(&garbage), "HTTP 500: \"<html>\"");
}

#[test]
fn a_url_without_a_scheme_is_http() {
    assert_eq!(LlamaConfig::new("127.0.0.1:8080/").url, "http://127.0.0.1:8080");
    assert_eq!(LlamaConfig::new("https://box:8443").url, "https://box:8443");
}

#[test]
fn model_ids_are_encoded_for_the_query() {
    assert_eq!(percent_encode("tiny-moe-f16"), "tiny-moe-f16");
    assert_eq!(percent_encode("a b/c&d"), "a%20b%2Fc%26d");
}

#[test]
fn nothing_listening_is_a_failure_or_quietly_unavailable() {
    // A port that was just free: bind, note it, drop.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let mut loud = LlamaCollector::new(LlamaConfig::new(&url));
    let err = loud.read().unwrap_err();
    assert!(
        matches!(&err, SourceError::Failed(e) if e.contains("connection refused") && e.contains(&url)),
        "{err:?}"
    );
    let mut quiet =
        LlamaCollector::new(LlamaConfig { quiet_probe: true, ..LlamaConfig::new(&url) });
    let err = quiet.read().unwrap_err();
    assert!(
        matches!(&err, SourceError::Unavailable(e) if e.starts_with(&format!("no llama-server at {url}"))),
        "{err:?}"
    );
    assert_eq!(quiet.name(), format!("llama:{url}"));
}

/// A misbehaving HTTP server on a free loopback port: `answer(path)` gives the raw bytes to
/// send and how long to wait first. Each connection serves one request and closes.
struct FakeServer {
    url: String,
}

type Answer = (Vec<u8>, std::time::Duration);

impl FakeServer {
    fn start(answer: impl Fn(&str) -> Answer + Send + Sync + 'static) -> FakeServer {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answer = std::sync::Arc::new(answer);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let answer = answer.clone();
                // One thread per connection, so a slow answer does not hold up the next one.
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).is_err() {
                        return;
                    }
                    let mut header = String::new();
                    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                        header.clear();
                    }
                    let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
                    let (bytes, delay) = answer(&path);
                    std::thread::sleep(delay);
                    let _ = stream.write_all(&bytes);
                });
            }
        });
        FakeServer { url }
    }
}

fn http(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

const PROPS: &str =
    r#"{"total_slots":2,"is_sleeping":false,"endpoint_metrics":true,"endpoint_slots":true}"#;

/// A server that answers like llama-server, except on the `bad` path.
fn server_with(bad: &'static str, bad_answer: Answer) -> FakeServer {
    let metrics = capture("b-speculative/metrics_3_final.txt").body;
    let slots = capture("b-speculative/slots_busy.txt").body;
    FakeServer::start(move |path| {
        let now = std::time::Duration::ZERO;
        if path.starts_with(bad) {
            return bad_answer.clone();
        }
        match path {
            "/health" => (http("200 OK", r#"{"status":"ok"}"#), now),
            "/props" => (http("200 OK", PROPS), now),
            "/metrics" => (http("200 OK", &metrics), now),
            "/slots" => (http("200 OK", &slots), now),
            _ => (
                http(
                    "404 Not Found",
                    r#"{"error":{"code":404,"message":"File Not Found","type":"not_found_error"}}"#,
                ),
                now,
            ),
        }
    })
}

fn collector(url: &str) -> LlamaCollector {
    LlamaCollector::new(LlamaConfig {
        sample_budget: Duration::from_millis(300),
        body_cap_bytes: 256 * 1024,
        ..LlamaConfig::new(url)
    })
}

fn failure(result: Result<Vec<LlamaServer>, SourceError>) -> String {
    match result {
        Err(SourceError::Failed(e)) => e,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn a_well_behaved_fake_reads_fully_and_pairs_the_counts() {
    let server = server_with("/never", (Vec::new(), Duration::ZERO));
    let mut c = collector(&server.url);
    let read = c.read().unwrap();
    let entry = &read[0];
    assert_eq!(entry.slots.as_ref().unwrap().len(), 2);
    // 2112 counted plus 42 + 62 in flight in the captured slots.
    assert_eq!(entry.generated_tokens, Some(2112.0 + 42.0 + 62.0));
    assert_eq!(entry.process_start_us, None, "this fake sends no header");
    assert!(
        entry.issues.iter().any(|i| i.contains("/v1/models") && i.contains("404")),
        "{:?}",
        entry.issues
    );
}

#[test]
fn garbage_metrics_fail_with_the_line_and_the_url() {
    let server = server_with("/metrics", (http("200 OK", "<html>\n<b>oops</b>"), Duration::ZERO));
    let error = failure(collector(&server.url).read());
    assert!(error.contains(&format!("{}/metrics", server.url)), "{error}");
    assert!(error.contains("not Prometheus text: line 1"), "{error}");
}

#[test]
fn garbage_json_and_non_http_answers_fail_with_reasons() {
    let server = server_with("/slots", (http("200 OK", "{\"slots\": tru"), Duration::ZERO));
    let error = failure(collector(&server.url).read());
    assert!(error.contains("/slots") && error.contains("not the expected JSON"), "{error}");

    let server = server_with("/health", (b"SSH-2.0-OpenSSH_9.2\r\n".to_vec(), Duration::ZERO));
    let error = failure(collector(&server.url).read());
    assert!(error.contains("/health") && error.contains("HTTP"), "{error}");
}

#[test]
fn a_slow_answer_times_out_within_the_budget_and_the_next_sample_recovers() {
    let slow = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = slow.clone();
    let metrics = capture("a-target-parallel2/metrics_3_final.txt").body;
    let server = FakeServer::start(move |path| {
        let delay = if flag.load(std::sync::atomic::Ordering::SeqCst) && path == "/metrics" {
            Duration::from_millis(1500)
        } else {
            Duration::ZERO
        };
        let body = match path {
            "/health" => r#"{"status":"ok"}"#,
            "/props" => PROPS,
            "/metrics" => metrics.as_str(),
            "/slots" => "[]",
            _ => "{\"data\":[]}",
        };
        (http("200 OK", body), delay)
    });
    let mut c = collector(&server.url);
    let started = Instant::now();
    let error = failure(c.read());
    assert!(started.elapsed() < Duration::from_millis(800), "{:?}", started.elapsed());
    assert!(error.contains("/metrics") && error.contains("no complete answer within"), "{error}");
    slow.store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(c.read().is_ok(), "the collector keeps going");
}

#[test]
fn an_oversized_body_is_cut_at_the_cap() {
    let huge = format!("[{}]", vec!["{\"id\":0}"; 60_000].join(","));
    let server = server_with("/slots", (http("200 OK", &huge), Duration::ZERO));
    let error = failure(collector(&server.url).read());
    assert!(
        error.contains("/slots") && error.contains("larger than the 262144 byte cap"),
        "{error}"
    );
}

#[test]
fn loading_is_unavailable_and_a_missing_key_says_how_to_give_one() {
    let loading = r#"{"error":{"message":"Loading model","type":"unavailable_error","code":503}}"#;
    let server = server_with("/health", (http("503 Service Unavailable", loading), Duration::ZERO));
    match collector(&server.url).read() {
        Err(SourceError::Unavailable(reason)) => {
            assert!(reason.contains("not ready") && reason.contains("Loading model"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    let denied =
        r#"{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}"#;
    let server = server_with("/props", (http("401 Unauthorized", denied), Duration::ZERO));
    let error = failure(collector(&server.url).read());
    assert!(error.contains("Invalid API Key") && error.contains("--llama-api-key"), "{error}");
}

#[test]
fn metrics_disabled_is_a_partial_reading_that_says_why() {
    let no_metrics = capture("c-no-metrics/metrics_without_flag.txt").body;
    let server =
        server_with("/metrics", (http("501 Not Implemented", &no_metrics), Duration::ZERO));
    let read = collector(&server.url).read().unwrap();
    let entry = &read[0];
    assert_eq!(entry.metrics, None);
    assert_eq!(entry.generated_tokens, None, "no counter, no exact total");
    assert!(entry.slots.is_some());
    assert!(
        entry.issues.iter().any(|i| i.contains("HTTP 501") && i.contains("--metrics")),
        "{:?}",
        entry.issues
    );
}
