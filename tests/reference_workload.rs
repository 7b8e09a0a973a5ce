//! The reference decoder through the real binary: `bench`, `synth`, and `--workload reference`
//! feeding the snapshot.

mod support;

use support::{halo_top, run_ok};

#[test]
fn bench_reports_tokens_bandwidth_and_op_shares() {
    let out = run_ok(halo_top().args([
        "bench",
        "--synthetic",
        "60MB:q4_0",
        "--threads",
        "1",
        "--tokens",
        "8",
        "--prompt",
        "4",
        "--json",
    ]));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(r["weight_type"], "q4_0");
    assert!(r["model"].as_str().unwrap().contains("TinyLlama"), "{r}");
    assert!(r["decode_tok_s"].as_f64().unwrap() > 0.0);
    assert!(r["prefill_tok_s"].as_f64().unwrap() > 0.0);
    // Every token reads all weights once (plus norms and KV): within a few % of the weights.
    let (per_token, weights) =
        (r["bytes_per_token"].as_f64().unwrap(), r["weight_bytes"].as_f64().unwrap());
    assert!(per_token > weights && per_token < weights * 1.05, "{per_token} vs {weights}");
    let share = &r["op_share"];
    let sum: f64 = ["matmul", "attention", "norm_rope", "other"]
        .iter()
        .map(|k| share[k].as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-6, "{share}");
    assert!(r["latency_ms_p50"].as_f64().unwrap() <= r["latency_ms_max"].as_f64().unwrap());
}

#[test]
fn bench_rejects_a_bad_model_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.gguf");
    std::fs::write(&bad, b"GGUF but not really").unwrap();
    let out =
        halo_top().args(["bench", "--model"]).arg(&bad).args(["--threads", "1"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.gguf"), "{err}");
    let out = halo_top().args(["bench", "--synthetic", "1GB:q3_k"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("q3_k"));
}

#[test]
fn synth_writes_a_file_bench_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.gguf");
    run_ok(halo_top().arg("synth").arg(&file).args(["--synthetic", "40MB:q8_0"]));
    let out = run_ok(halo_top().args(["bench", "--model"]).arg(&file).args([
        "--threads",
        "1",
        "--tokens",
        "4",
        "--json",
    ]));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["weight_type"], "q8_0");
    assert!(r["decode_tok_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn workload_reference_feeds_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.ndjson");
    run_ok(
        halo_top()
            .args([
                "--interval",
                "500ms",
                "--workload",
                "reference=60MB:q8_0",
                "--workload-threads",
                "1",
                "--workload-context",
                "32",
            ])
            .args(["record", "--duration", "4s", "-o"])
            .arg(&path),
    );
    let session = halo_top::session::Session::read(&path).unwrap();
    let last = session.snapshots.last().expect("snapshots");
    let r = last.reference.as_ref().expect("a reference section");
    assert_eq!(
        (r.threads, r.state.as_str(), r.weight_type.as_deref()),
        (1, "running", Some("q8_0"))
    );
    assert!(r.tokens_total > 0, "{r:?}");
    assert_eq!(r.context_max_tokens, 32, "--workload-context");
    assert!(r.context_tokens <= 32, "{r:?}");
    assert!(r.decode_tok_s.unwrap() > 0.0, "{r:?}");
    assert!(r.effective_gb_s.unwrap() > 0.0, "{r:?}");
    assert!(r.op_share.is_some() && r.latency_ms_p99.is_some(), "{r:?}");
    assert!(last.source("reference").unwrap().status.is_ok());
    // Without the flag nothing loads the machine.
    let out = run_ok(halo_top().args(["--interval", "300ms", "snapshot", "--json"]));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(s["reference"].is_null());
}
