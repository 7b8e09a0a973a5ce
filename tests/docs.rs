//! `docs/`: the Grafana dashboard queries only metrics the exporter really writes, and the
//! Prometheus scrape config is one Prometheus accepts.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use halo_collectors::amdgpu::testing::{FixtureCopy, fixture_blobs};
use halo_top::serve::metrics::openmetrics;
use halo_top::session::Session;
use serde_json::Value;
use support::serve::{Served, speculative_llama_server};

fn docs() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")
}

/// Metric names in a PromQL expression (every halo-top metric starts with `halo_`).
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(start) = rest.find("halo_") {
        let tail = &rest[start..];
        let end =
            tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        names.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

/// Every `expr` of every panel target, and the template variables' queries.
fn queries(dashboard: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            out.push(target["expr"].as_str().expect("expr").to_string());
        }
    }
    for variable in dashboard["templating"]["list"].as_array().expect("templating") {
        if let Some(q) = variable["query"]["query"].as_str() {
            out.push(q.to_string());
        }
    }
    out
}

/// The sample names (`name` or `name{...}`) in exposition text.
fn exported(text: &str, into: &mut BTreeSet<String>) {
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let end = line.find(['{', ' ']).unwrap_or(line.len());
        into.insert(line[..end].to_string());
    }
}

fn metrics_until(served: &Served, what: &str, timeout: Duration) -> String {
    metrics_until_all(served, &[what], timeout)
}

/// `/metrics` once it has samples of every family in `all`.
fn metrics_until_all(served: &Served, all: &[&str], timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let r = served.get("/metrics");
        if r.status == 200 && all.iter().all(|m| r.body.contains(&format!("\n{m}{{"))) {
            return r.body;
        }
        assert!(Instant::now() < deadline, "not all of {all:?} in /metrics:\n{}", r.body);
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The exporter's output for every section: a real `serve` on a Strix Halo fixture whose
/// `gpu_metrics` moves on (so throttle residency is derived), with a calibration and a real
/// llama-server decoding speculatively under `--workload` (its model found through `/props`,
/// so the roofline is derived); and the recorded H200 session for NVIDIA.
fn exporter_output() -> BTreeSet<String> {
    let copy = FixtureCopy::new("strix-halo-load");
    let config = copy.dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[calibration]\nmeasured_unix_ms = 1795000000000\narray_mib = 512\nbest_read_gbps = 215.0\n\
         best_read_threads = 16\nbest_triad_gbps = 200.0\nruns = []\n",
    )
    .expect("docs test setup");
    let paths = [&copy.sysfs, &copy.procfs, &config].map(|p| p.display().to_string());
    let llama = speculative_llama_server();
    let url = llama.url();
    let served = Served::start(&[
        "--llama",
        &url,
        "--workload",
        "llama:chat",
        "--interval",
        "500ms",
        "--sysfs-root",
        &paths[0],
        "--procfs-root",
        &paths[1],
        "--config",
        &paths[2],
        "serve",
        "--listen",
        "127.0.0.1:0",
    ]);
    let mut names = BTreeSet::new();
    // Acceptance exists once a speculative request has ended.
    exported(
        &metrics_until_all(
            &served,
            &[
                "halo_llama_spec_acceptance_cumulative_ratio",
                "halo_roofline_utilisation_ratio",
                "halo_roofline_calibrated_utilisation_ratio",
                "halo_roofline_energy_per_token_joules",
            ],
            Duration::from_secs(60),
        ),
        &mut names,
    );
    // The table moves on once: the next snapshot has throttle residency for one interval.
    let next = fixture_blobs::strix_halo_load_next(&[
        ("system_clock_counter", 3_901_000_000_000),
        ("throttle_residency_sppt", 5_233_258),
    ]);
    let blob = copy.sys_file("class/drm/card1/device/gpu_metrics");
    std::fs::write(blob.with_extension("new"), next).expect("docs test setup");
    std::fs::rename(blob.with_extension("new"), &blob).expect("docs test setup");
    exported(
        &metrics_until(&served, "halo_amdgpu_throttle_ratio", Duration::from_secs(20)),
        &mut names,
    );

    let h200 = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sessions/h200-matmul.ndjson");
    let session = Session::read(&h200).expect("docs test setup");
    let loaded = session.snapshots.iter().max_by_key(|s| {
        s.nvidia.as_ref().and_then(|n| n.devices.first()?.power_w).unwrap_or(0.0) as u64
    });
    exported(&openmetrics(Arc::new(loaded.expect("docs test setup").clone()), "h200"), &mut names);
    names
}

#[test]
fn every_metric_the_grafana_dashboard_queries_is_exported() {
    let text =
        std::fs::read_to_string(docs().join("grafana-dashboard.json")).expect("docs test setup");
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is valid JSON");
    let queried: BTreeSet<String> =
        queries(&dashboard).iter().flat_map(|q| metric_names(q)).collect();
    assert!(queried.len() >= 15, "the dashboard queries too little: {queried:?}");
    let exported = exporter_output();
    let missing: Vec<&String> = queried.iter().filter(|m| !exported.contains(*m)).collect();
    assert!(missing.is_empty(), "queried but never exported: {missing:?}\nexported: {exported:?}");
}

#[test]
fn the_scrape_config_is_valid() {
    // promtool resolves the token file against the config's directory: give it one.
    let dir = tempfile::tempdir().expect("docs test setup");
    std::fs::copy(docs().join("prometheus.yml"), dir.path().join("prometheus.yml"))
        .expect("docs test setup");
    std::fs::write(dir.path().join("halo-top.token"), "s3cret\n").expect("docs test setup");
    let out = Command::new("promtool")
        .args(["check", "config"])
        .arg(dir.path().join("prometheus.yml"))
        .output()
        .expect("promtool is installed (scripts/test installs Debian's prometheus package)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every query of the dashboard is valid PromQL: promtool checks them as recording rules
/// (the `$host` variable stands for any host). The rules file is JSON, which is YAML too.
#[test]
fn the_dashboard_queries_are_valid_promql() {
    let text = std::fs::read_to_string(docs().join("grafana-dashboard.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).unwrap();
    let rules: Vec<Value> = queries(&dashboard)
        .iter()
        .filter(|q| !q.starts_with("label_values("))
        .enumerate()
        .map(|(i, q)| serde_json::json!({"record": format!("halo:query_{i}"), "expr": q.replace("$host", ".*")}))
        .collect();
    let file = serde_json::json!({"groups": [{"name": "grafana-dashboard", "rules": rules}]});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.yml");
    std::fs::write(&path, file.to_string()).unwrap();
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&path)
        .output()
        .expect("promtool is installed (scripts/test installs Debian's prometheus package)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
