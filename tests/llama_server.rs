//! The llama collector, the derive step and the load generator against real llama-servers on
//! tiny generated models: halo-top's numbers must match the server's own.
//!
//! Servers run one at a time (a lock), so that on 2 cores the decode-rate comparison measures
//! the server, not the other tests.

mod support;

use std::path::Path;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use halo_collectors::llama::{LlamaCollector, LlamaConfig};
use halo_collectors::model::{LlamaLoadReading, LlamaRates, LlamaServer};
use halo_collectors::{Snapshot, SourceError};
use halo_top::synth::{TinyModels, tiny};
use halo_top::workload::llama::{LoadConfig, LoadGenerator, Preset};
use serde_json::json;
use support::llama_bin::{Server, free_port};
use support::{halo_top, run_ok};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// The tiny models, written once per run of this binary (about 2 s) under cargo's target tmp.
fn models() -> &'static TinyModels {
    static MODELS: OnceLock<TinyModels> = OnceLock::new();
    MODELS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("llama-server-models");
        tiny::write(&dir).expect("writing the tiny models")
    })
}

/// A collector sampled by hand and derived the way the hub does.
struct Watch {
    collector: LlamaCollector,
    started: Instant,
    snapshots: Vec<Snapshot>,
}

impl Watch {
    fn new(url: &str, api_key: Option<&str>) -> Watch {
        let config = LlamaConfig {
            api_key: api_key.map(str::to_string),
            sample_budget: Duration::from_secs(2),
            ..LlamaConfig::new(url)
        };
        Watch { collector: LlamaCollector::new(config), started: Instant::now(), snapshots: vec![] }
    }

    fn sample(&mut self) -> Result<Vec<LlamaServer>, SourceError> {
        let result = self.collector.read();
        let seq = self.snapshots.len() as u64;
        let mono_ms = self.started.elapsed().as_millis() as u64;
        let mut snapshot = Snapshot::new(seq, 0, mono_ms, 100);
        if let Ok(servers) = &result {
            snapshot.llama = servers.clone();
        }
        halo_top::derive::derive(self.snapshots.last(), &mut snapshot);
        self.snapshots.push(snapshot);
        result
    }

    fn rates(&self) -> Vec<LlamaRates> {
        self.snapshots.iter().filter_map(|s| s.derived.llama.first().cloned()).collect()
    }

    fn last(&self) -> (&LlamaServer, &LlamaRates) {
        let s = self.snapshots.last().expect("a sample was taken");
        (&s.llama[0], &s.derived.llama[0])
    }

    /// Samples every `every` while the generator runs, then once more after it finished.
    fn during(&mut self, load: LoadGenerator, every: Duration) -> LlamaLoadReading {
        let expected = load_requests(&load);
        loop {
            std::thread::sleep(every);
            self.sample().expect("a reading while the load runs");
            let r = load.reading();
            if r.requests_ok + r.requests_failed >= expected {
                break;
            }
        }
        let reading = load.wait();
        self.sample().expect("a reading after the load");
        assert_eq!(reading.requests_failed, 0, "{reading:?}");
        reading
    }
}

fn load_requests(load: &LoadGenerator) -> u64 {
    load.max_requests().expect("a bounded load")
}

fn generator(
    url: &str,
    api_key: Option<&str>,
    concurrency: u32,
    requests: u64,
    tokens: u32,
) -> LoadGenerator {
    LoadGenerator::start(LoadConfig {
        max_requests: Some(requests),
        max_tokens: tokens,
        ..LoadConfig::preset(url, api_key.map(str::to_string), Preset::Chat, concurrency)
    })
}

/// Halo-top's decode rate over the intervals in which a slot was busy at both ends, weighted by
/// their length.
fn busy_decode_rate(watch: &Watch) -> f64 {
    let (mut tokens, mut seconds) = (0.0, 0.0);
    for pair in watch.snapshots.windows(2) {
        let busy = |s: &Snapshot| s.derived.llama.first().and_then(|r| r.busy_slots) >= Some(1);
        let rates = &pair[1].derived.llama[0];
        if busy(&pair[0]) && busy(&pair[1]) {
            let (rate, dt) =
                (rates.decode_tok_s.expect("decode rate"), rates.interval_s.expect("interval"));
            tokens += rate * dt;
            seconds += dt;
        }
    }
    assert!(seconds > 1.0, "too few busy intervals: {seconds} s");
    tokens / seconds
}

fn assert_no_negative_rates(watch: &Watch) {
    for r in watch.rates() {
        for v in [r.decode_tok_s, r.prefill_tok_s, r.decode_steps_s, r.spec_draft_tok_s] {
            assert!(v.is_none_or(|v| v >= 0.0), "{r:?}");
        }
    }
}

#[test]
fn totals_and_decode_rate_match_the_server() {
    let _serial = serial();
    let m = models();
    let server = Server::start(&m.target_f16, &["--parallel", "1", "--metrics"]);
    let mut watch = Watch::new(&server.url(), None);
    watch.sample().unwrap();
    let load = generator(&server.url(), None, 1, 1, 768);
    let reading = watch.during(load, Duration::from_millis(100));

    let (last, rates) = watch.last();
    let counter = last.metrics.as_ref().unwrap().tokens_predicted_total;
    assert_eq!(reading.tokens_predicted, 768);
    assert_eq!(counter, Some(768.0), "the server counted what the generator asked for");
    assert_eq!(rates.generated_tokens_total, counter, "halo-top's total is the server's");

    let ours = busy_decode_rate(&watch);
    let theirs = reading.server_decode_tok_s.unwrap();
    eprintln!("decode: halo-top {ours:.1} tok/s, server timings {theirs:.1} tok/s");
    assert!((ours / theirs - 1.0).abs() < 0.05, "halo-top {ours:.1} vs server {theirs:.1}");
    assert_no_negative_rates(&watch);
    assert!(rates.spec_active == Some(false));
    assert_eq!(last.props.as_ref().unwrap().total_slots, Some(1));
    assert_eq!(last.models[0].n_params, Some(26_257_920));
}

#[test]
fn two_slots_count_every_token_once() {
    let _serial = serial();
    let m = models();
    let server = Server::start(&m.target_f16, &["-c", "4096", "--parallel", "2", "--metrics"]);
    let mut watch = Watch::new(&server.url(), None);
    watch.sample().unwrap();
    let reading =
        watch.during(generator(&server.url(), None, 2, 4, 160), Duration::from_millis(100));

    let (last, rates) = watch.last();
    assert_eq!(reading.tokens_predicted, 640);
    assert_eq!(last.metrics.as_ref().unwrap().tokens_predicted_total, Some(640.0));
    assert_eq!(rates.generated_tokens_total, Some(640.0));
    let all = watch.rates();
    assert!(all.iter().any(|r| r.busy_slots == Some(2)), "both slots were seen busy");
    let shared = all.iter().filter_map(|r| r.busy_slots_per_decode).fold(0.0, f64::max);
    assert!(shared > 1.2, "busy slots per decode {shared}");
    assert!(all.iter().filter_map(|r| r.prefill_tok_s).any(|v| v > 0.0));
    assert_eq!(last.slots.as_ref().unwrap()[1].n_ctx, Some(2048), "-c is split across slots");
    assert_no_negative_rates(&watch);
    let ttft = reading.ttft_ms;
    assert_eq!(ttft.count, 4);
    assert!(reading.inter_token_ms.count >= 600, "{:?}", reading.inter_token_ms);
}

#[test]
fn speculative_acceptance_matches_the_responses() {
    let _serial = serial();
    let m = models();
    let draft = m.draft_f16.to_str().unwrap();
    let server = Server::start(
        &m.target_f16,
        &["--parallel", "1", "--metrics", "-md", draft, "--spec-type", "draft-simple"]
            .into_iter()
            .chain(["--spec-draft-n-max", "4", "-td", "1"])
            .collect::<Vec<_>>(),
    );
    let mut watch = Watch::new(&server.url(), None);
    watch.sample().unwrap();
    let reading =
        watch.during(generator(&server.url(), None, 1, 3, 128), Duration::from_millis(150));

    let (last, rates) = watch.last();
    assert_eq!(rates.spec_active, Some(true));
    assert!(reading.draft_tokens > 0, "{reading:?}");
    let from_responses = reading.draft_accepted as f64 / reading.draft_tokens as f64;
    assert_eq!(rates.spec_acceptance_cumulative, Some(from_responses));
    let metrics = last.metrics.as_ref().unwrap();
    assert_eq!(metrics.spec_draft_tokens_total, Some(reading.draft_tokens as f64));
    assert_eq!(metrics.tokens_predicted_total, Some(384.0));
    assert_eq!(rates.generated_tokens_total, Some(384.0));
    // Per position: non-increasing, and Σ share × steps = accepted.
    let per_pos = &rates.spec_acceptance_per_position;
    assert_eq!(per_pos.len(), 4);
    assert!(per_pos.windows(2).all(|w| w[0] >= w[1]), "{per_pos:?}");
    let steps = metrics.spec_drafts_total.unwrap();
    let accepted: f64 = per_pos.iter().map(|p| p * steps).sum();
    assert!((accepted - reading.draft_accepted as f64).abs() < 1e-6);
    let mean_len = rates.spec_mean_accept_len_cumulative.unwrap();
    assert!((1.0..=5.0).contains(&mean_len), "{mean_len}");
    let all = watch.rates();
    assert!(all.iter().filter_map(|r| r.spec_acceptance).all(|a| (0.0..=1.0).contains(&a)));
    assert!(all.iter().filter_map(|r| r.spec_draft_tok_s).any(|v| v > 0.0));
    eprintln!(
        "speculative: acceptance {:.3} ({}/{}), mean len {mean_len:.2}, per position {per_pos:.3?}",
        from_responses, reading.draft_accepted, reading.draft_tokens
    );
    assert_no_negative_rates(&watch);
}

#[test]
fn without_metrics_the_reading_says_why() {
    let _serial = serial();
    let m = models();
    let server = Server::start(&m.target_f16, &["--parallel", "1"]);
    let mut watch = Watch::new(&server.url(), None);
    let read = watch.sample().unwrap();
    let entry = &read[0];
    assert_eq!(entry.metrics, None);
    assert_eq!(entry.generated_tokens, None);
    assert!(entry.slots.is_some(), "the rest is still read");
    assert!(entry.issues.iter().any(|i| i.contains("--metrics")), "{:?}", entry.issues);
    // The endpoint itself answers 501, as /props announced.
    let raw = halo_collectors::llama::Http::new(&server.url(), None, 1 << 20)
        .get("/metrics", Duration::from_secs(2))
        .unwrap();
    assert_eq!(raw.status, 501);
}

#[test]
fn an_api_key_is_needed_and_used() {
    let _serial = serial();
    let m = models();
    let server =
        Server::start(&m.target_f16, &["--parallel", "1", "--metrics", "--api-key", "sekrit"]);
    let error = Watch::new(&server.url(), None).sample().unwrap_err();
    assert!(
        matches!(&error, SourceError::Failed(e) if e.contains("HTTP 401") && e.contains("--llama-api-key")),
        "{error:?}"
    );
    let error = Watch::new(&server.url(), Some("wrong")).sample().unwrap_err();
    assert!(matches!(&error, SourceError::Failed(e) if e.contains("not accepted")), "{error:?}");

    let mut watch = Watch::new(&server.url(), Some("sekrit"));
    watch.sample().unwrap();
    let reading =
        watch.during(generator(&server.url(), Some("sekrit"), 1, 1, 16), Duration::from_millis(50));
    assert_eq!(reading.tokens_predicted, 16);
    assert_eq!(watch.last().1.generated_tokens_total, Some(16.0));
}

#[test]
fn a_router_is_read_per_loaded_model_and_never_made_to_load_one() {
    let _serial = serial();
    let m = models();
    let dir = tempfile::tempdir().unwrap();
    let models_dir = dir.path().join("router-models");
    std::fs::create_dir(&models_dir).unwrap();
    std::os::unix::fs::symlink(&m.target_f16, models_dir.join("tiny-target-f16.gguf")).unwrap();
    let dir_arg = models_dir.to_str().unwrap();
    let server = Server::spawn(
        free_port(),
        &["--models-dir", dir_arg, "-c", "2048", "--parallel", "1", "--metrics"],
        &dir.path().join("router.log"),
    )
    .wait_healthy();
    let mut watch = Watch::new(&server.url(), None);

    let idle = watch.sample().unwrap();
    assert_eq!(idle.len(), 1);
    assert!(idle[0].router && idle[0].model_id.is_none() && idle[0].metrics.is_none());
    assert!(
        idle[0].issues.iter().any(|i| i.contains("no model is loaded")),
        "{:?}",
        idle[0].issues
    );
    // The router answers chunked, which the support client does not read: use ureq.
    let listed: serde_json::Value = serde_json::from_str(
        &ureq::get(format!("{}/models", server.url()))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(listed["data"][0]["status"]["value"], "unloaded", "halo-top loaded nothing");

    let body =
        json!({"model": "tiny-target-f16", "prompt": "hi", "n_predict": 8, "ignore_eos": true});
    let reply: serde_json::Value = serde_json::from_str(
        &ureq::post(format!("{}/completion", server.url()))
            .header("Content-Type", "application/json")
            .send(body.to_string().as_str())
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(reply["tokens_predicted"], 8);
    let loaded = watch.sample().unwrap();
    assert_eq!(loaded.len(), 1);
    let entry = &loaded[0];
    assert_eq!(entry.model_id.as_deref(), Some("tiny-target-f16"));
    assert_eq!(entry.metrics.as_ref().unwrap().tokens_predicted_total, Some(8.0), "{entry:?}");
    assert!(entry.slots.is_some());
    assert!(entry.props.as_ref().unwrap().model_path.as_ref().unwrap().contains("tiny-target-f16"));
}

#[test]
fn restarts_and_outages_are_statuses_and_the_collector_keeps_going() {
    let _serial = serial();
    let m = models();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let model = m.target_f16.to_str().unwrap();
    let args = ["-m", model, "-c", "2048", "--parallel", "1", "--metrics"];
    let start = |name: &str| Server::spawn(port, &args, &dir.path().join(name));
    let mut watch = Watch::new(&format!("http://127.0.0.1:{port}"), None);

    let first = start("a.log").wait_healthy();
    let prompt = json!({"prompt": "hello", "n_predict": 16, "ignore_eos": true});
    first.post("/completion", &prompt);
    watch.sample().unwrap();
    assert_eq!(watch.last().1.generated_tokens_total, Some(16.0));

    // A quick restart between two samples: counters went down, the start header changed.
    drop(first);
    let second = start("b.log").wait_healthy();
    watch.sample().unwrap();
    let (entry, rates) = watch.last();
    assert!(rates.restarted);
    assert_eq!(rates.decode_tok_s, None, "no rate across a restart");
    assert_eq!(entry.restarts_seen, 1);

    // A slower one, sampled throughout: refused, maybe 503 while loading, then back.
    drop(second);
    let refused = watch.sample().unwrap_err();
    assert!(
        matches!(&refused, SourceError::Failed(e) if e.contains("connection refused")),
        "{refused:?}"
    );
    let _third = start("c.log");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        match watch.sample() {
            Ok(_) => break,
            Err(SourceError::Failed(e)) if e.contains("connection refused") => seen.push("refused"),
            Err(SourceError::Unavailable(e)) if e.contains("Loading model") => seen.push("loading"),
            Err(other) => panic!("unexpected while starting: {other:?}"),
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(2));
    }
    eprintln!(
        "while starting: {} refused, {} loading",
        seen.iter().filter(|s| **s == "refused").count(),
        seen.iter().filter(|s| **s == "loading").count()
    );
    watch.sample().unwrap();
    assert_eq!(watch.last().0.restarts_seen, 2);
    assert_no_negative_rates(&watch);
}

#[test]
fn a_sleeping_server_is_not_woken() {
    let _serial = serial();
    let m = models();
    let server = Server::start(
        &m.target_f16,
        &["--parallel", "1", "--metrics", "--sleep-idle-seconds", "1"],
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.get("/props")["is_sleeping"] != true {
        assert!(Instant::now() < deadline, "the server never went to sleep");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut watch = Watch::new(&server.url(), None);
    let read = watch.sample().unwrap();
    assert_eq!(read[0].slots, None);
    assert!(read[0].issues.iter().any(|i| i.starts_with("sleeping")), "{:?}", read[0].issues);
    assert_eq!(read[0].generated_tokens, Some(0.0), "asleep, nothing runs");
    assert_eq!(server.get("/props")["is_sleeping"], true, "halo-top did not wake it");
}

#[test]
fn snapshot_and_record_with_a_workload_end_to_end() {
    let _serial = serial();
    let m = models();
    let draft = m.draft_f16.to_str().unwrap();
    let server = Server::start(
        &m.target_f16,
        &[
            "-c",
            "4096",
            "--parallel",
            "2",
            "--metrics",
            "-md",
            draft,
            "--spec-type",
            "draft-simple",
        ],
    );
    let url = server.url();
    let out =
        run_ok(halo_top().args(["--interval", "300ms", "--llama", &url, "snapshot", "--json"]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["llama"][0]["url"], url.as_str());
    assert_eq!(json["llama"][0]["props"]["total_slots"], 2);
    assert_eq!(json["derived"]["llama"][0]["spec_active"], true);
    let source = format!("llama:{url}");
    assert!(
        json["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == source.as_str() && s["status"]["state"] == "ok")
    );

    let out = run_ok(halo_top().args(["--interval", "300ms", "--llama", &url, "snapshot"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("llama    {url} ")), "{text}");
    assert!(text.contains("  decode ") && text.contains("  spec   acceptance"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("load.ndjson");
    let out = run_ok(
        halo_top()
            .args(["--interval", "500ms", "--llama", &url, "--workload", "llama:chat"])
            .args(["--concurrency", "2", "record", "--duration", "3s", "-o"])
            .arg(&path),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("load chat ×2 on {url}")), "{stderr}");
    let session = halo_top::session::Session::read(&path).unwrap();
    assert!(session.header.sources.contains(&"workload:llama".to_string()));
    let last = session.snapshots.last().unwrap();
    let load = last.llama_load.as_ref().unwrap();
    assert_eq!(load.requests_in_flight + load.requests_ok, 2, "{load:?}");
    assert_eq!(last.derived.llama[0].busy_slots, Some(2));
    assert!(last.derived.llama[0].decode_tok_s.unwrap() > 0.0);
}

/// The committed session (fixtures/sessions/llama-speculative-chat.ndjson, see
/// fixtures/README.md) replays, and its figures agree with each other.
#[test]
fn the_recorded_speculative_session_is_consistent() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/sessions/llama-speculative-chat.ndjson");
    let session = halo_top::session::Session::read(&path).unwrap();
    assert!(session.warnings.is_empty(), "{:?}", session.warnings);
    let last = session.snapshots.last().unwrap();
    let (load, rates) = (last.llama_load.as_ref().unwrap(), &last.derived.llama[0]);
    assert!(load.requests_ok >= 3 && load.requests_failed == 0, "{load:?}");
    assert_eq!(rates.spec_active, Some(true));
    let from_responses = load.draft_accepted as f64 / load.draft_tokens as f64;
    assert_eq!(rates.spec_acceptance_cumulative, Some(from_responses));
    // Finished requests are in the counter; halo-top's total adds the ones in flight.
    let counted = last.llama[0].metrics.as_ref().unwrap().tokens_predicted_total.unwrap();
    assert_eq!(counted, load.tokens_predicted as f64);
    assert!(rates.generated_tokens_total.unwrap() >= counted);
    let decode: Vec<f64> =
        session.snapshots.iter().filter_map(|s| s.derived.llama.first()?.decode_tok_s).collect();
    assert!(decode.len() + 1 >= session.snapshots.len(), "a rate for every interval");
    assert!(decode.iter().all(|&r| r > 0.0), "{decode:?}");
}

/// The roofline end to end: halo-top finds the served model through `/props` `model_path`,
/// profiles it, and turns the server's decode steps into achieved bandwidth.
#[test]
fn roofline_follows_the_served_model() {
    let _serial = serial();
    let server = Server::start(&models().target_f16, &["--parallel", "1", "--metrics"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.ndjson");
    run_ok(
        halo_top()
            .args(["--interval", "500ms", "--config"])
            .arg(dir.path().join("config.toml"))
            .args([
                "--llama",
                &server.url(),
                "--workload",
                "llama:chat",
                "record",
                "--duration",
                "6s",
                "-o",
            ])
            .arg(&path),
    );
    let session = halo_top::session::Session::read(&path).unwrap();
    let with_model: Vec<&Snapshot> =
        session.snapshots.iter().filter(|s| s.model.is_some()).collect();
    assert!(!with_model.is_empty(), "the model was never found through /props");
    let model = with_model[0].model.as_ref().unwrap();
    assert_eq!(Path::new(&model.path), models().target_f16.as_path(), "the file the server serves");
    let weights = model.profile.weight_bytes_per_step as f64;

    let decoding: Vec<&Snapshot> = with_model
        .iter()
        .copied()
        .filter(|s| s.derived.roofline.decode_steps_per_s.is_some_and(|steps| steps > 10.0))
        .collect();
    assert!(!decoding.is_empty(), "no interval with decode steps");
    for s in decoding {
        let r = &s.derived.roofline;
        let rates = &s.derived.llama[0];
        let bytes = r.bytes_per_step.unwrap();
        // Weights once per step plus the KV cache of the busy slot at its sequence length.
        assert!(bytes > weights, "{bytes} vs {weights}");
        assert_eq!(r.decode_steps_per_s, rates.decode_steps_s);
        let achieved = r.achieved_gbps.unwrap();
        assert!((achieved - r.decode_steps_per_s.unwrap() * bytes / 1e9).abs() < 1e-9);
        // The tiny model is 52 MB; a step every few ms reads a few GB/s: a sanity band.
        assert!((0.1..100.0).contains(&achieved), "achieved {achieved} GB/s");
        assert!(r.ceiling_tok_s.is_some() || r.peak_gbps.is_none());
    }
}
