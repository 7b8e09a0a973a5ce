//! The fuzz targets' committed corpora (`fuzz/corpus/<target>/`, minimised) and crash inputs
//! (`fuzz/regressions/<target>/`), fed through the same entry points the fuzzers call, so that
//! every input a fuzzer found interesting, and every crash it found and we fixed, is checked on
//! every test run. The long fuzzing itself runs by hand (fuzz/README.md), not here.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use halo_collectors::fuzzing;
use support::reliability::{self, Row};

/// What a fuzz target calls with the fuzzer's bytes.
type EntryPoint = fn(&[u8]);

/// (target, entry point), as in `fuzz/fuzz_targets/`.
fn targets() -> Vec<(&'static str, EntryPoint)> {
    vec![
        ("gpu_metrics", fuzzing::gpu_metrics),
        ("kernel_text", fuzzing::kernel_text),
        ("kernel_tree", fuzzing::kernel_tree),
        ("prometheus", fuzzing::prometheus),
        ("llama_json", fuzzing::llama_json),
        ("gguf_header", fuzzing::gguf_header),
        ("session_ndjson", |data| fuzzing::with_file(data, halo_top::fuzzing::session_file)),
    ]
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn every_corpus_and_crash_input_passes_through_its_parser() {
    let mut rows = Vec::new();
    let mut summary = Vec::new();
    for (target, run) in targets() {
        let corpus = files(&fuzz_dir().join("corpus").join(target));
        let crashes = files(&fuzz_dir().join("regressions").join(target));
        assert!(!corpus.is_empty(), "fuzz/corpus/{target} is empty");
        let mut slowest = Duration::ZERO;
        for file in corpus.iter().chain(&crashes) {
            let data = std::fs::read(file).unwrap();
            let started = Instant::now();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}: {} panicked", file.display());
            slowest = slowest.max(started.elapsed());
        }
        // Not a benchmark: a bound far above any input's time, so that a hang is a failure.
        assert!(slowest < Duration::from_secs(5), "{target}: an input took {slowest:?}");
        summary.push(format!(
            "{target}: {} corpus + {} crash inputs, slowest {slowest:?}",
            corpus.len(),
            crashes.len()
        ));
        rows.push((target, corpus.len() + crashes.len(), crashes.len()));
    }
    eprintln!("{}", summary.join("\n"));
    let faults: Vec<String> = rows
        .iter()
        .map(|(target, _, crashes)| {
            format!("{target}: committed corpus and {crashes} crash inputs")
        })
        .collect();
    let rows: Vec<Row> = rows
        .iter()
        .zip(&faults)
        .map(|(&(_, tries, _), fault)| Row {
            area: "fuzz corpus",
            fault,
            tries,
            result: "no panic, hang or unbounded allocation",
        })
        .collect();
    reliability::write("fuzz_corpora", &rows);
}

/// How the seed corpora were made (run by hand, before fuzzing: `cargo test --release --test
/// fuzz_corpora -- --ignored`): from the repository's fixtures, each input prefixed with the
/// selector byte its target reads first where it has one. The fuzzers then grow and minimise
/// `fuzz/corpus/`.
#[test]
#[ignore = "writes fuzz/seeds/; run by hand"]
fn write_seed_corpora() {
    let seeds = fuzz_dir().join("seeds");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut n = 0;
    let mut put = |target: &str, prefix: &[u8], data: &[u8]| {
        let dir = seeds.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        let mut bytes = prefix.to_vec();
        bytes.extend_from_slice(data);
        std::fs::write(dir.join(format!("seed-{n:04}")), bytes).unwrap();
        n += 1;
    };
    let walk = |root: &Path| {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                let meta = std::fs::symlink_metadata(&p).unwrap();
                if meta.is_dir() {
                    stack.push(p);
                } else if meta.is_file() {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    };
    use halo_collectors::amdgpu::testing::fixture_blobs;
    for (_, blob) in fixture_blobs::committed() {
        put("gpu_metrics", &[], &blob);
    }
    for file in walk(&fixtures.join("sysfs")).iter().chain(&walk(&fixtures.join("procfs"))) {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let data = std::fs::read(file).unwrap();
        let parent = file.parent().unwrap().file_name().unwrap().to_string_lossy().to_string();
        let selector: &[u8] = match name.as_str() {
            "pp_dpm_sclk" => &[0],
            n if n.starts_with("pp_dpm_") => &[1],
            _ if parent == "fdinfo" => &[2],
            "stat" if parent == "strix-halo-load" || parent == "quiet" => &[4],
            "meminfo" => &[5],
            "loadavg" | "uptime" => &[6],
            "cpuinfo" => &[7],
            "stat" => &[8],
            "gpu_metrics" => {
                put("gpu_metrics", &[], &data);
                continue;
            }
            _ => continue,
        };
        put("kernel_text", selector, &data);
    }
    put("kernel_text", &[3], b"395148 KiB");
    put("kernel_text", &[9], &88_200_000u64.to_le_bytes());
    for i in 0u16..200 {
        put("kernel_tree", &i.to_be_bytes(), b"1\n");
    }
    for file in walk(&fixtures.join("llama-server")) {
        let text = std::fs::read(&file).unwrap();
        // A capture: comment lines, status line, headers, a blank line, the body.
        let Some(at) = text.windows(2).position(|w| w == b"\n\n") else { continue };
        let body = &text[at + 2..];
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("metrics") {
            put("prometheus", &[], body);
        } else if name.starts_with("props") {
            put("llama_json", &[0], body);
        } else if name.starts_with("slots") {
            put("llama_json", &[1], body);
        } else if name.starts_with("models") || name.contains("v1_models") {
            put("llama_json", &[2], body);
        } else if body.trim_ascii_start().starts_with(b"{") {
            put("llama_json", &[3], body);
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    for spec in walk(&fixtures.join("gguf")) {
        // Without the tokenizer arrays (hundreds of KB of made-up strings): the header's shape
        // is what matters.
        let text: String = std::fs::read_to_string(&spec)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("kv tokenizer."))
            .map(|l| format!("{l}\n"))
            .collect();
        let gguf = halo_collectors::gguf::writer::SparseGguf::parse_spec(&text).unwrap();
        let path = tmp.path().join("m.gguf");
        gguf.write(&path).unwrap();
        let header = halo_collectors::gguf::GgufHeader::read(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        put("gguf_header", &[], &bytes[..header.data_offset as usize]);
    }
    for session in walk(&fixtures.join("sessions")) {
        let text = std::fs::read_to_string(&session).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // The header, three snapshots, and the footer if there is one.
        let mut cut: Vec<&str> = lines.iter().take(4).copied().collect();
        if lines.last().is_some_and(|l| l.starts_with("{\"footer\"")) {
            cut.push(lines[lines.len() - 1]);
        }
        put("session_ndjson", &[], (cut.join("\n") + "\n").as_bytes());
    }
}
