//! The roofline end to end: `halo-top model` on header-only GGUF files with the real shapes and
//! quantization types of published models, `halo-top calibrate`, and the model in snapshots.

mod support;

use std::path::{Path, PathBuf};

use halo_collectors::gguf::writer::SparseGguf;
use serde_json::Value;
use support::{halo_top, run_ok};

const GIB: f64 = (1u64 << 30) as f64;

/// Writes the sparse GGUF a fixture describes; returns its path and the spec.
fn sparse_model(dir: &Path, fixture: &str) -> (PathBuf, SparseGguf) {
    let spec_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gguf").join(fixture);
    let text = std::fs::read_to_string(&spec_path).expect("fixture");
    let spec = SparseGguf::parse_spec(&text).expect("valid fixture");
    let path = dir.join(fixture.replace(".txt", ".gguf"));
    spec.write(&path).expect("write the sparse model");
    (path, spec)
}

fn model_json(dir: &Path, file: &Path, args: &[&str]) -> Value {
    let out = run_ok(
        halo_top()
            .arg("model")
            .arg(file)
            .arg("--json")
            .arg("--config")
            .arg(dir.join("no-config.toml"))
            .args(args),
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

/// Independent of the profiler's classification: every tensor once, except that the token
/// embedding table contributes one row and routed experts their used share.
fn expected_bytes_per_step(spec: &SparseGguf, used_share: f64) -> f64 {
    spec.tensors
        .iter()
        .map(|t| match t.name.as_str() {
            "token_embd.weight" => (t.bytes / t.dims[1]) as f64,
            n if n.contains("_exps") => t.bytes as f64 * used_share,
            _ => t.bytes as f64,
        })
        .sum()
}

#[test]
fn llama_2_7b_q4_k_m_at_the_published_strix_halo_rate_is_about_75_percent() {
    let dir = tempfile::tempdir().unwrap();
    let (file, spec) = sparse_model(dir.path(), "llama-2-7b-Q4_K_M.txt");
    // llama-bench's tg128 generates 128 tokens from an empty context: 64 on average.
    let report = model_json(
        dir.path(),
        &file,
        &["--peak-bw", "256", "--decode-tok-s", "47.3", "--context", "64"],
    );
    let p = &report["profile"];
    // llama.cpp prints "3.80 GiB" and "6.74 B" for this file.
    let weight_gib = p["weight_bytes"].as_f64().unwrap() / GIB;
    assert_eq!(format!("{weight_gib:.2}"), "3.80", "{weight_gib}");
    assert_eq!(format!("{:.2}", p["parameter_count"].as_f64().unwrap() / 1e9), "6.74");
    assert_eq!(format!("{:.2}", p["file_size_bytes"].as_f64().unwrap() / GIB), "3.80");
    assert_eq!(p["tensor_count"], 291);
    assert_eq!(p["weight_bytes_per_step"].as_f64().unwrap(), expected_bytes_per_step(&spec, 1.0));
    // 32 layers × 32 KV heads × 128 × (K + V) × 2 bytes of f16.
    assert_eq!(report["kv_bytes_per_token"]["full_layers_bytes"], 524288.0);

    let m = &report["measured"];
    let util = m["utilisation_of_peak_percent"].as_f64().unwrap();
    assert!((72.0..=78.0).contains(&util), "about 75 % expected, got {util:.1} %");
    eprintln!(
        "Llama-2-7B Q4_K_M at 47.3 tok/s: {:.2} GB/step, {:.1} GB/s, {util:.1} % of 256 GB/s",
        m["bytes_per_step"].as_f64().unwrap() / 1e9,
        m["achieved_gbps"].as_f64().unwrap()
    );

    let ceilings = report["ceilings"].as_array().unwrap();
    let contexts: Vec<u64> =
        ceilings.iter().map(|c| c["context_tokens"].as_u64().unwrap()).collect();
    assert_eq!(contexts, [512, 8192, 32768, 131072]);
    let rates: Vec<f64> = ceilings.iter().map(|c| c["tok_s_at_peak"].as_f64().unwrap()).collect();
    assert!(rates.windows(2).all(|w| w[1] < w[0]), "a longer context reads more KV: {rates:?}");
    assert_eq!(ceilings[3]["beyond_trained_context"], true, "Llama 2 was trained for 4096");
}

#[test]
fn qwen3_30b_a3b_q4_k_m_at_the_published_strix_halo_rate_is_about_67_percent() {
    let dir = tempfile::tempdir().unwrap();
    let (file, spec) = sparse_model(dir.path(), "qwen3-30b-a3b-Q4_K_M.txt");
    let report = model_json(
        dir.path(),
        &file,
        &["--peak-bw", "256", "--decode-tok-s", "86.1", "--context", "64"],
    );
    let p = &report["profile"];
    // llama.cpp prints "17.28 GiB" and "30.53 B"; the published file is 18 556 685 824 bytes.
    assert_eq!(format!("{:.2}", p["weight_bytes"].as_f64().unwrap() / GIB), "17.28");
    assert_eq!(format!("{:.2}", p["parameter_count"].as_f64().unwrap() / 1e9), "30.53");
    let file_size = p["file_size_bytes"].as_f64().unwrap();
    assert!((file_size / 18_556_685_824.0 - 1.0).abs() < 0.001, "{file_size}");
    assert_eq!((p["expert_count"].as_u64(), p["expert_used_count"].as_u64()), (Some(128), Some(8)));
    assert_eq!(
        p["weight_bytes_per_step"].as_f64().unwrap().round(),
        expected_bytes_per_step(&spec, 8.0 / 128.0).round()
    );

    let util = report["measured"]["utilisation_of_peak_percent"].as_f64().unwrap();
    assert!((64.0..=70.0).contains(&util), "about 67 % expected, got {util:.1} %");
    eprintln!(
        "Qwen3-30B-A3B Q4_K_M at 86.1 tok/s: {:.2} GB/step, {util:.1} % of 256 GB/s",
        report["measured"]["bytes_per_step"].as_f64().unwrap() / 1e9
    );
}

#[test]
fn model_text_output_and_a_known_platform_from_sysfs() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = sparse_model(dir.path(), "qwen3-30b-a3b-Q4_K_M.txt");
    // A machine that is a Strix Halo: its GPU's PCI id gives the peak.
    let card = dir.path().join("sys/class/drm/card1/device");
    std::fs::create_dir_all(&card).unwrap();
    std::fs::write(card.join("vendor"), "0x1002\n").unwrap();
    std::fs::write(card.join("device"), "0x1586\n").unwrap();
    let out = run_ok(
        halo_top()
            .arg("model")
            .arg(&file)
            .arg("--sysfs-root")
            .arg(dir.path().join("sys"))
            .arg("--config")
            .arg(dir.path().join("none.toml"))
            .args(["--decode-tok-s", "86.1", "--context", "64"]),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    eprintln!("{text}");
    assert!(text.contains("Qwen3-30B-A3B (qwen3moe)"), "{text}");
    assert!(text.contains("8 of 128 used per token"), "{text}");
    assert!(text.contains("256 GB/s peak (AMD Strix Halo (PCI 1002:1586)"), "{text}");
    assert!(text.contains("131072") && text.contains("beyond the trained context"), "{text}");
    assert!(text.contains("% of peak"), "{text}");
}

#[test]
fn model_of_a_bad_file_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.gguf");
    std::fs::write(&bad, b"GGUF\x03\x00\x00\x00").unwrap();
    let out = halo_top().arg("model").arg(&bad).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.gguf"), "{stderr}");
}

#[test]
fn calibrate_measures_every_thread_count_and_the_model_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("halo/config.toml");
    let out = run_ok(
        halo_top()
            .args([
                "calibrate",
                "--array-mib",
                "64",
                "--max-threads",
                "2",
                "--reps",
                "2",
                "--config",
            ])
            .arg(&config),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    eprintln!("{text}");
    let rows: Vec<Vec<f64>> = text
        .lines()
        .filter_map(|l| {
            l.split_whitespace().map(|w| w.parse::<f64>().ok()).collect::<Option<Vec<_>>>()
        })
        .filter(|row| row.len() == 3)
        .collect();
    assert_eq!(rows.iter().map(|r| r[0]).collect::<Vec<_>>(), [1.0, 2.0], "{text}");
    assert!(rows.iter().all(|r| r[1] > 0.0 && r[2] > 0.0), "{text}");

    let saved: toml::Table = toml::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let best = saved["calibration"]["best_read_gbps"].as_float().unwrap();
    assert!(rows.iter().any(|r| (r[1] - best).abs() < 0.06), "{best} not in {rows:?}");

    let (file, _) = sparse_model(dir.path(), "llama-2-7b-Q4_K_M.txt");
    let out = run_ok(
        halo_top().arg("model").arg(&file).arg("--peak-bw").arg("256").arg("--config").arg(&config),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("(calibrated)"));
}

#[test]
fn snapshot_carries_the_model_and_its_roofline() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = sparse_model(dir.path(), "llama-2-7b-Q4_K_M.txt");
    let out = run_ok(
        halo_top()
            .args([
                "--interval",
                "300ms",
                "snapshot",
                "--json",
                "--peak-bw",
                "256",
                "--cache-type-k",
                "q8_0",
                "--model",
            ])
            .arg(&file)
            .arg("--config")
            .arg(dir.path().join("none.toml")),
    );
    let snapshot: Value = serde_json::from_slice(&out.stdout).unwrap();
    let model = &snapshot["model"];
    assert_eq!(model["profile"]["architecture"], "llama");
    assert_eq!(model["kv_cache_type_k"], "q8_0");
    let roofline = &snapshot["derived"]["roofline"];
    assert_eq!(roofline["peak_gbps"], 256.0);
    assert_eq!(
        roofline["bytes_per_step"],
        model["profile"]["weight_bytes_per_step"].as_f64().unwrap()
    );
    // No llama-server rates in this snapshot: nothing achieved, and it says so with null, not 0.
    assert_eq!(roofline["achieved_gbps"], Value::Null);
    let sources = snapshot["sources"].as_array().unwrap();
    assert!(
        sources.iter().any(|s| s["name"] == "model" && s["status"]["state"] == "ok"),
        "{sources:?}"
    );

    // A model file that is not there: the source fails and names it; the rest still runs.
    let out = run_ok(
        halo_top()
            .args(["--interval", "300ms", "snapshot", "--json", "--model"])
            .arg(dir.path().join("gone.gguf")),
    );
    let snapshot: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(snapshot["model"], Value::Null);
    let model_source = snapshot["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "model")
        .unwrap()
        .clone();
    assert_eq!(model_source["status"]["state"], "failed");
    assert!(model_source["status"]["error"].as_str().unwrap().contains("gone.gguf"));
    assert!(snapshot["host"].is_object());
}
