//! `halo-top sweep` end to end: real llama-bench and llama-server runs on the tiny generated
//! models, interrupted and resumed; failures recorded as data; telemetry from a Strix Halo
//! fixture tree; imports of real llama-bench output; the Pareto report checked against an
//! independent computation.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use halo_top::sweep::point::{FailureKind, Point, PointKind};
use halo_top::sweep::results;
use support::llama_bin::bin_dir;
use support::{halo_top, run_ok};

/// KV bytes per token of the tiny target (8 layers × 4 KV heads × 64 = 2048 elements each of K
/// and V): f16 2 bytes, q8_0 34 per 32, q4_0 18 per 32.
fn kv_bytes_per_token(kv_type: &str) -> f64 {
    let per_element = match kv_type {
        "f16" => 2.0,
        "q8_0" => 34.0 / 32.0,
        "q4_0" => 18.0 / 32.0,
        other => panic!("{other}"),
    };
    2.0 * 2048.0 * per_element
}

/// `halo-top` in `dir` with a config of its own (no calibration from this machine's user),
/// sampling every 200 ms unless told otherwise.
fn sweep_in(dir: &Path) -> Command {
    let mut cmd = halo_top();
    cmd.current_dir(dir)
        .env_remove("HALO_TOP_MODEL")
        .env("HALO_TOP_INTERVAL", "200ms")
        .args(["--config", "none.toml"])
        .env("HALO_TOP_LLAMA_BIN_DIR", bin_dir());
    cmd
}

fn models(dir: &Path) -> halo_top::synth::tiny::TinyModels {
    halo_top::synth::tiny::write(&dir.join("models")).expect("write the tiny models")
}

fn points(path: &Path) -> Vec<Point> {
    let file = results::read(path).expect("a readable sweep file");
    assert!(file.problems.is_empty(), "{:?}", file.problems);
    file.points
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The point numbers a report's Pareto table marks (`◆`), read from its markdown.
fn marked_in_report(report: &str, heading: &str) -> BTreeSet<usize> {
    let section = report.split(heading).nth(1).expect("the Pareto section");
    let table = section.split("\n## ").next().unwrap_or(section);
    table
        .lines()
        .filter(|l| l.starts_with('|') && l.contains('◆'))
        .map(|l| l.split('|').nth(2).and_then(|n| n.trim().parse().ok()).expect("a point number"))
        .collect()
}

/// The non-dominated points, computed pairwise (independently of the code under test): within
/// a depth, a point is dominated when another has no more KV cache and no lower rate, and is
/// strictly better in one.
fn non_dominated(points: &[Point], rate: fn(&Point) -> Option<f64>) -> BTreeSet<usize> {
    let candidates: Vec<(usize, u64, f64, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i + 1, p.config.depth_tokens, p.kv_cache_bytes?, rate(p)?)))
        .collect();
    candidates
        .iter()
        .filter(|a| {
            !candidates
                .iter()
                .any(|b| b.1 == a.1 && b.2 <= a.2 && b.3 >= a.3 && (b.2 < a.2 || b.3 > a.3))
        })
        .map(|a| a.0)
        .collect()
}

fn check_pareto(report_md: &Path, points: &[Point]) {
    let report = std::fs::read_to_string(report_md).expect("the report");
    let decode = |p: &Point| p.decode.as_ref().map(|r| r.mean_tok_s);
    let prefill = |p: &Point| p.prefill.as_ref().map(|r| r.mean_tok_s);
    let expected_decode = non_dominated(points, decode);
    assert!(!expected_decode.is_empty());
    assert_eq!(
        marked_in_report(&report, "## Pareto: KV cache memory vs decode tok/s"),
        expected_decode
    );
    assert_eq!(
        marked_in_report(&report, "## Pareto: KV cache memory vs prefill tok/s"),
        non_dominated(points, prefill)
    );
}

#[test]
fn a_real_sweep_is_measured_placed_interrupted_and_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let m = models(dir.path());
    let profile = halo_collectors::gguf::profile_file(&m.target_f16).unwrap().profile;
    let args = [
        "--peak-bw",
        "100",
        "sweep",
        "--model",
        "models/tiny-target-f16.gguf",
        "--grid",
        "kv=f16,q8_0,q4_0 depth=0,256 np=1,2 t=1",
        "-p",
        "32",
        "-n",
        "16",
        "-r",
        "1",
        "-o",
        "s.ndjson",
    ];
    let results = dir.path().join("s.ndjson");

    // Interrupted with Ctrl-C once a few points are written.
    let mut child = sweep_in(dir.path())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let written = || results::read(&results).map_or(0, |f| f.points.len());
    while written() < 3 {
        assert!(Instant::now() < deadline, "no points written");
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended early");
        std::thread::sleep(Duration::from_millis(50));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("run the same command to resume"), "{}", stderr(&out));
    let done = points(&results).len();
    assert!((3..18).contains(&done), "{done} points before the interruption");
    let before = std::fs::read(&results).unwrap();

    // Resumed: only the missing points run; what was written stays as it was.
    let out = run_ok(sweep_in(dir.path()).args(args));
    assert!(
        stderr(&out).contains(&format!("resuming s.ndjson: {done} of 18 points done")),
        "{}",
        stderr(&out)
    );
    let after = std::fs::read(&results).unwrap();
    assert!(after.starts_with(&before), "earlier points were rewritten");
    let points = points(&results);
    assert_eq!(points.len(), 18);
    let keys: BTreeSet<&str> = points.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys.len(), 18, "no point measured twice");

    let with_telemetry =
        points.iter().filter(|p| p.telemetry.as_ref().is_some_and(|t| t.snapshots >= 1)).count();
    assert!(with_telemetry * 2 >= points.len(), "{with_telemetry} of 18 points saw a snapshot");
    for p in &points {
        let c = &p.config;
        assert_eq!(p.failure, None, "{}", p.key);
        let decode = p.decode.as_ref().unwrap_or_else(|| panic!("{}: no decode rate", p.key));
        assert!(
            decode.mean_tok_s > 0.0 && p.prefill.as_ref().unwrap().mean_tok_s > 0.0,
            "{}",
            p.key
        );
        // A point shorter than the snapshot interval (a loaded machine delays snapshots too)
        // may hold no snapshot: then its telemetry is unknown, never made up.
        let telemetry = p.telemetry.as_ref().unwrap();
        assert_eq!(
            telemetry.snapshots >= 1,
            telemetry.load_average_max.is_some(),
            "{}: {telemetry:?}",
            p.key
        );
        // Placed on the roofline from the GGUF profile, independently recomputed here.
        let kv = kv_bytes_per_token(c.type_k.as_deref().unwrap());
        let slots = c.parallel.unwrap_or(1) as f64;
        let start = match p.kind {
            PointKind::Serve => c.depth_tokens + 32,
            _ => c.depth_tokens,
        };
        let r = p.roofline.as_ref().unwrap();
        assert_eq!(r.decode_context_tokens, start + 8);
        let bytes = profile.weight_bytes_per_step as f64 + slots * kv * (start + 8) as f64;
        assert!(
            (r.bytes_per_step - bytes).abs() < 1.0,
            "{}: {} vs {bytes}",
            p.key,
            r.bytes_per_step
        );
        assert_eq!(p.kv_cache_bytes, Some(slots * kv * (start + 16) as f64), "{}", p.key);
        let steps = decode.mean_tok_s / slots;
        assert!((r.achieved_gbps - steps * bytes / 1e9).abs() < 1e-6);
        assert!(
            (r.utilisation_of_peak_percent.unwrap() - r.achieved_gbps).abs() < 1e-6,
            "of 100 GB/s"
        );
        if p.kind == PointKind::Serve {
            let serving = p.serving.as_ref().unwrap();
            assert_eq!(serving.requests_ok, c.parallel.unwrap(), "{}", p.key);
            assert_eq!(serving.prompt_tokens, start);
        }
    }
    assert_eq!(points.iter().filter(|p| p.kind == PointKind::Bench).count(), 6);

    let report = dir.path().join("s-report");
    for file in [
        "report.md",
        "points.csv",
        "depth-decode.svg",
        "roofline.png",
        "pareto-decode.svg",
        "pareto-prefill.png",
    ] {
        assert!(report.join(file).is_file(), "{file} missing");
    }
    check_pareto(&report.join("report.md"), &points);
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(!md.contains(&dir.path().display().to_string()), "no machine paths in the report");

    // A cut last line (killed while writing) is dropped on resume; nothing is left to run.
    let mut f = std::fs::OpenOptions::new().append(true).open(&results).unwrap();
    std::io::Write::write_all(&mut f, b"{\"point\":{\"key\":\"bench ctk=").unwrap();
    drop(f);
    let out = run_ok(sweep_in(dir.path()).args(args));
    assert!(stderr(&out).contains("18 of 18 points done, 0 to run"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&results).unwrap(), after);
}

/// A directory whose llama-bench and llama-server are the real ones under a 6 GiB address-space
/// limit, so that an impossible KV cache fails to allocate on any machine (whatever its
/// overcommit policy) instead of being faulted in.
fn limited_bin_dir(dir: &Path) -> PathBuf {
    let bins = dir.join("bin");
    std::fs::create_dir_all(&bins).expect("a bin dir");
    for name in ["llama-bench", "llama-server"] {
        let script = format!(
            "#!/bin/sh\nulimit -v 6000000\nexec '{}' \"$@\"\n",
            bin_dir().join(name).display()
        );
        let path = bins.join(name);
        std::fs::write(&path, script).expect("write the wrapper");
        let mut perms = std::fs::metadata(&path).expect("the wrapper").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&path, perms).expect("make the wrapper executable");
    }
    bins
}

#[test]
fn failures_are_recorded_as_data() {
    let dir = tempfile::tempdir().unwrap();
    models(dir.path());
    let bins = limited_bin_dir(dir.path());
    // A quantized V cache without flash attention is refused; 20M tokens of KV cache cannot
    // be allocated.
    let out = run_ok(sweep_in(dir.path()).env("HALO_TOP_LLAMA_BIN_DIR", &bins).args([
        "sweep",
        "--model",
        "models/tiny-target-f16.gguf",
        "--grid",
        "kv=q4_0 fa=off,on depth=0,20000000 np=1 t=1",
        "-p",
        "16",
        "-n",
        "8",
        "-r",
        "1",
        "-o",
        "f.ndjson",
    ]));
    let points = points(&dir.path().join("f.ndjson"));
    assert_eq!(points.len(), 8, "every point recorded, failed or not: {}", stderr(&out));
    let kind = |p: &Point| p.failure.as_ref().map(|f| f.kind);
    for p in &points {
        let fa_off = p.config.flash_attn.as_deref() == Some("off");
        let huge = p.config.depth_tokens > 1_000_000;
        let expected = match (fa_off, huge) {
            (true, _) => Some(FailureKind::Error),
            (false, true) => Some(FailureKind::Oom),
            (false, false) => None,
        };
        assert_eq!(kind(p), expected, "{}: {:?}", p.key, p.failure);
        if let Some(f) = &p.failure {
            assert!(!f.log_tail.is_empty(), "{}: the log travels with the failure", p.key);
            if fa_off {
                assert!(
                    f.message.contains("flash_attn")
                        || f.log_tail.iter().any(|l| l.contains("flash_attn")),
                    "{f:?}"
                );
            }
        } else {
            assert!(p.decode.is_some(), "{}", p.key);
        }
    }
    let md = std::fs::read_to_string(dir.path().join("f-report/report.md")).unwrap();
    assert!(md.contains("## Failures") && md.contains("Oom"), "{md}");

    // Past the time limit: killed and recorded as a timeout.
    let out = run_ok(sweep_in(dir.path()).args([
        "sweep",
        "--model",
        "models/tiny-target-f16.gguf",
        "--grid",
        "depth=60000 t=1",
        "--timeout",
        "2s",
        "-o",
        "t.ndjson",
    ]));
    let points = self::points(&dir.path().join("t.ndjson"));
    assert_eq!(points.len(), 1, "{}", stderr(&out));
    assert_eq!(kind(&points[0]), Some(FailureKind::Timeout), "{:?}", points[0].failure);
    assert!(points[0].wall_s.unwrap() < 30.0);
}

#[test]
fn telemetry_of_a_strix_halo_fixture_lands_in_every_point() {
    let dir = tempfile::tempdir().unwrap();
    models(dir.path());
    let root = env!("CARGO_MANIFEST_DIR");
    let out = run_ok(sweep_in(dir.path()).args([
        "--sysfs-root",
        &format!("{root}/fixtures/sysfs/strix-halo-load"),
        "--procfs-root",
        &format!("{root}/fixtures/procfs/strix-halo-load"),
        "--interval",
        "100ms",
        "sweep",
        "--model",
        "models/tiny-target-Q4_0.gguf",
        "--grid",
        "depth=0 t=1",
        "-p",
        "64",
        "-n",
        "96",
        "-r",
        "3",
        "-o",
        "h.ndjson",
        "--session",
        "h-session.ndjson",
    ]));
    let points = points(&dir.path().join("h.ndjson"));
    // Every snapshot of the sweep is also a session that the session tools read.
    let mut export = sweep_in(dir.path());
    let csv = run_ok(export.args(["export", "h-session.ndjson", "--format", "csv"])).stdout;
    let rows = String::from_utf8_lossy(&csv).lines().count();
    assert!(rows > 2, "a header and the snapshots: {rows} lines");
    let p = &points[0];
    let t = p.telemetry.as_ref().unwrap_or_else(|| panic!("{}", stderr(&out)));
    // The fixture's gpu_metrics: temperatures, the GFX clock and socket power are all there.
    assert!(t.peak_temp_c.is_some() && t.peak_temp_sensor.is_some(), "{t:?}");
    assert!(t.gpu_clock_max_mhz.is_some() && t.mean_power_w.is_some(), "{t:?}");
    assert_eq!(t.power_source.as_deref(), Some("amdgpu socket"));
    let w =
        t.decode_power_w.unwrap_or_else(|| panic!("no snapshot inside the generation runs: {t:?}"));
    let j = p.decode_joules_per_token.unwrap();
    assert!((j - w / p.decode.as_ref().unwrap().mean_tok_s).abs() < 1e-9);
    // The fixture is a Strix Halo: its known peak is the roofline's.
    assert_eq!(p.roofline.as_ref().unwrap().peak_gbps, Some(256.0));
}

#[test]
fn speculative_serving_points_count_drafted_tokens() {
    let dir = tempfile::tempdir().unwrap();
    models(dir.path());
    run_ok(sweep_in(dir.path()).args([
        "sweep",
        "--model",
        "models/tiny-target-f16.gguf",
        "--draft",
        "models/tiny-draft-f16.gguf",
        "--grid",
        "np=1 spec=0,1 t=1",
        "-p",
        "16",
        "-n",
        "48",
        "-r",
        "1",
        "-o",
        "d.ndjson",
    ]));
    let points = points(&dir.path().join("d.ndjson"));
    assert_eq!(points.len(), 3);
    let serve: Vec<&Point> = points.iter().filter(|p| p.kind == PointKind::Serve).collect();
    let (plain, spec) = (serve[0], serve[1]);
    assert!(!plain.config.speculative && spec.config.speculative);
    assert_eq!(plain.serving.as_ref().unwrap().draft_tokens, 0);
    assert_eq!(plain.roofline.as_ref().unwrap().tokens_per_step, 1.0);
    let s = spec.serving.as_ref().unwrap();
    assert!(s.draft_tokens > 0 && s.acceptance.is_some(), "{s:?}");
    // The load generator ignores end-of-generation: one request of -n 48 tokens.
    assert_eq!((s.requests_ok, s.tokens_generated), (1, 48), "{s:?}");
    let expected = 47.0 / (47.0 - s.draft_accepted as f64);
    assert!((spec.roofline.as_ref().unwrap().tokens_per_step - expected).abs() < 1e-9);
}

#[test]
fn imports_of_every_format_land_on_the_roofline() {
    let dir = tempfile::tempdir().unwrap();
    models(dir.path());
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/llama-bench");
    let import = |names: &[&str], extra: &[&str]| {
        let mut cmd = sweep_in(dir.path());
        cmd.args(["--peak-bw", "100"]).args(extra).arg("sweep");
        for n in names {
            cmd.arg("--import").arg(fixtures.join(n));
        }
        cmd
    };
    let all = ["kv-types.json", "kv-types.csv", "kv-types.md", "defaults.md", "defaults.jsonl"];
    let out =
        run_ok(import(&all, &["--model", "models/tiny-target-f16.gguf"]).args(["-o", "i.ndjson"]));
    let points = points(&dir.path().join("i.ndjson"));
    // 8 points from each kv-types file; defaults.md: 2 pp/tg and 2 combined per model (2
    // models); defaults.jsonl: 1.
    assert_eq!(points.len(), 8 * 3 + 8 + 1, "{}", stderr(&out));
    let from = |file: &str| -> Vec<&Point> {
        points.iter().filter(|p| p.imported.as_ref().unwrap().file == file).collect()
    };
    let shape =
        |p: &&Point| (p.config.type_k.clone(), p.config.type_v.clone(), p.config.depth_tokens);
    let json = from("kv-types.json");
    assert_eq!(
        json.iter().map(shape).collect::<Vec<_>>(),
        from("kv-types.csv").iter().map(shape).collect::<Vec<_>>()
    );
    assert_eq!(
        json.iter().map(shape).collect::<Vec<_>>(),
        from("kv-types.md").iter().map(shape).collect::<Vec<_>>()
    );
    for p in
        from("kv-types.json").into_iter().chain(from("kv-types.csv")).chain(from("kv-types.md"))
    {
        assert!(p.prefill.is_some() && p.decode.is_some(), "{}", p.key);
        let c = &p.config;
        let kv = (kv_bytes_per_token(c.type_k.as_deref().unwrap())
            + kv_bytes_per_token(c.type_v.as_deref().unwrap()))
            / 2.0;
        assert_eq!(p.kv_cache_bytes, Some(kv * (c.depth_tokens + 8) as f64), "{}", p.key);
        assert!(p.roofline.is_some(), "{}", p.key);
    }
    // Without KV columns: llama-bench's default f16 is assumed, and said so.
    let defaults = from("defaults.md");
    let f16 = defaults
        .iter()
        .find(|p| p.config.model.as_deref() == Some("llama ?B F16") && p.decode.is_some())
        .unwrap();
    assert_eq!(
        (f16.config.type_k.clone(), f16.kv_cache_bytes),
        (None, Some(kv_bytes_per_token("f16") * 8.0))
    );
    assert!(f16.notes.iter().any(|n| n.contains("f16 assumed")), "{:?}", f16.notes);
    // Results of other models are kept, but not placed on this model's roofline.
    let q4 = defaults.iter().find(|p| p.config.model.as_deref() == Some("llama ?B Q4_0")).unwrap();
    assert!(
        q4.roofline.is_none() && q4.notes.iter().any(|n| n.contains("not placed")),
        "{:?}",
        q4.notes
    );
    let q8 = from("defaults.jsonl")[0];
    assert!(q8.roofline.is_none() && q8.decode.is_some());
    let combined = defaults.iter().filter(|p| p.combined.is_some()).count();
    assert_eq!(combined, 4);
    check_pareto(&dir.path().join("i-report/report.md"), &points);
    // `halo-top report` knows a sweep file from a session and renders the same report.
    let mut report = sweep_in(dir.path());
    run_ok(report.args(["report", "i.ndjson", "--out", "via-report"]));
    check_pareto(&dir.path().join("via-report/report.md"), &points);
    // `halo-top export` writes the same CSV as the report's; Prometheus text is refused.
    let mut export = sweep_in(dir.path());
    let csv = run_ok(export.args(["export", "i.ndjson", "--format", "csv"])).stdout;
    assert_eq!(csv, std::fs::read(dir.path().join("i-report/points.csv")).unwrap());
    let out = sweep_in(dir.path()).args(["export", "i.ndjson", "--format", "prom"]).output();
    let out = out.unwrap();
    assert!(
        !out.status.success() && stderr(&out).contains("--format csv only"),
        "{}",
        stderr(&out)
    );

    // Importing the same files again adds nothing; without --model, rates only.
    let out =
        run_ok(import(&all, &["--model", "models/tiny-target-f16.gguf"]).args(["-o", "i.ndjson"]));
    assert!(stderr(&out).contains("0 points added"), "{}", stderr(&out));
    run_ok(import(&["kv-types.md"], &[]).args(["-o", "plain.ndjson"]));
    let plain = self::points(&dir.path().join("plain.ndjson"));
    assert!(
        plain
            .iter()
            .all(|p| p.roofline.is_none() && p.kv_cache_bytes.is_none() && p.decode.is_some())
    );
}

#[test]
fn bad_input_is_named_and_nothing_recorded_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let fail = |args: &[&str]| {
        let out = sweep_in(dir.path()).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        stderr(&out)
    };
    assert!(fail(&["sweep", "--grid", "depth=0"]).contains("--model"));
    assert!(fail(&["sweep", "--model", "missing.gguf"]).contains("missing.gguf"));
    assert!(fail(&["sweep", "--import", "nope.json"]).contains("nope.json"));
    std::fs::write(dir.path().join("garbage.md"), "| a |\n|---|\n| b |\n").unwrap();
    assert!(fail(&["sweep", "--import", "garbage.md"]).contains("garbage.md"));
    // An existing file that is not a sweep is never appended to or replaced.
    std::fs::write(dir.path().join("notes.ndjson"), "my notes\n").unwrap();
    let err = fail(&[
        "sweep",
        "--import",
        &format!("{}/fixtures/llama-bench/defaults.jsonl", env!("CARGO_MANIFEST_DIR")),
        "-o",
        "notes.ndjson",
    ]);
    assert!(err.contains("notes.ndjson"), "{err}");
    assert_eq!(std::fs::read_to_string(dir.path().join("notes.ndjson")).unwrap(), "my notes\n");
    assert!(fail(&["sweep", "--report", "notes.ndjson"]).contains("notes.ndjson"));
}
