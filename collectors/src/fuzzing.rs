//! Entry points of the fuzz targets (`fuzz/`), one per parser of outside input, shared with the
//! tests that replay the committed corpora and crash inputs (`tests/fuzz_corpora.rs`), so that a
//! finding stays fixed. Each takes arbitrary bytes and must return without panicking, hanging
//! or allocating without bound; where a parser's result has a property that must hold whatever
//! the input, it is asserted here, so the fuzzer reports its breach as a crash.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::Source;
use crate::amdgpu::{self, AmdgpuCollector, AmdgpuConfig};
use crate::gguf;
use crate::host::{HostCollector, HostConfig, procfs};
use crate::llama;

/// A lossy text view: files and HTTP bodies reach the text parsers as `&str` after the same
/// conversion (`String::from_utf8_lossy` in the readers, ureq's UTF-8 check in the client).
fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The binary `gpu_metrics` table (v1, v2, v3 of any content revision).
pub fn gpu_metrics(data: &[u8]) {
    if let Ok(metrics) = amdgpu::metrics::decode(data) {
        // What the decoder hands on must serialise: it goes into every session line.
        serde_json::to_string(&metrics).expect("decoded gpu_metrics serialise");
    }
}

/// The text files of sysfs and procfs, parser by parser; the first byte picks the parser.
pub fn kernel_text(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else { return };
    let text = text(rest);
    match which % 10 {
        0 => check_dpm(amdgpu::text::parse_dpm(&text, true)),
        1 => check_dpm(amdgpu::text::parse_dpm(&text, false)),
        2 => {
            if let Some(client) = amdgpu::fdinfo::parse(&text) {
                let _ = client.total_bytes("vram");
            }
        }
        3 => {
            let _ = amdgpu::fdinfo::parse_size(&text);
            let _ = crate::sysfs::parse_u64(&text);
        }
        4 => {
            let (total, per_cpu) = procfs::parse_stat(&text);
            if let Some(total) = total {
                for cpu in &per_cpu {
                    check_percent(cpu.percent_since(&total));
                    check_percent(total.percent_since(cpu));
                }
            }
        }
        5 => {
            let _ = procfs::meminfo_bytes(&text, "MemAvailable");
            let _ = amdgpu::budget::parse_meminfo(&text);
        }
        6 => {
            let _ = procfs::parse_loadavg(&text);
            let _ = procfs::parse_uptime(&text);
        }
        7 => {
            let _ = procfs::cpu_model(&text);
        }
        8 => {
            let _ = procfs::parse_proc_stat(&text);
        }
        _ => {
            let raw =
                u64::from_le_bytes(rest.get(..8).and_then(|b| b.try_into().ok()).unwrap_or([0; 8]));
            let _ = amdgpu::hwmon::decode_smu14_power_w(raw);
        }
    }
}

fn check_dpm(clock: Result<crate::model::DpmClock, String>) {
    if let Ok(clock) = clock {
        assert!(clock.levels_mhz.windows(2).all(|w| w[0] < w[1]), "levels sorted and unique");
        assert_eq!(clock.min_mhz, clock.levels_mhz.first().copied());
        assert_eq!(clock.max_mhz, clock.levels_mhz.last().copied());
    }
}

fn check_percent(p: Option<f64>) {
    if let Some(p) = p {
        assert!((0.0..=100.0).contains(&p), "a CPU percentage of {p}");
    }
}

/// A copy of the Strix Halo load fixture trees (sysfs and procfs), made once per process, in
/// which one file at a time is replaced by the input.
struct Tree {
    _dir: tempfile::TempDir,
    sysfs: PathBuf,
    procfs: PathBuf,
    /// Every regular file of both trees, in a stable order.
    files: Vec<PathBuf>,
}

static TREE: Mutex<Option<Tree>> = Mutex::new(None);

fn regular_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.is_dir() {
            regular_files(&path, out);
        } else if meta.is_file() {
            out.push(path);
        }
    }
}

/// The whole amdgpu and host collectors over a fixture tree in which one file (chosen by the
/// first two bytes) holds the input: every sysfs/procfs read path, from discovery to fdinfo.
pub fn kernel_tree(data: &[u8]) {
    let [hi, lo, content @ ..] = data else { return };
    let mut guard = TREE.lock().unwrap_or_else(|e| e.into_inner());
    let tree = guard.get_or_insert_with(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let sysfs = dir.path().join("sys");
        let procfs = dir.path().join("proc");
        amdgpu::testing::copy_tree(&amdgpu::testing::fixture_sysfs("strix-halo-load"), &sysfs);
        amdgpu::testing::copy_tree(&amdgpu::testing::fixture_procfs("strix-halo-load"), &procfs);
        let mut files = Vec::new();
        regular_files(&sysfs, &mut files);
        regular_files(&procfs, &mut files);
        Tree { _dir: dir, sysfs, procfs, files }
    });
    let file = &tree.files[usize::from(u16::from_be_bytes([*hi, *lo])) % tree.files.len()];
    let original = std::fs::read(file).expect("the fixture copy is readable");
    std::fs::write(file, content).expect("the fixture copy is writable");

    let mut amd = AmdgpuCollector::new(AmdgpuConfig {
        sysfs_root: tree.sysfs.clone(),
        procfs_root: tree.procfs.clone(),
    });
    let mut host = HostCollector::new(HostConfig {
        sysfs_root: tree.sysfs.clone(),
        procfs_root: tree.procfs.clone(),
        ..HostConfig::default()
    });
    // Twice: the second sample computes the per-interval figures from the first.
    // What the collectors hand on must serialise: it goes into every session line.
    for seq in 0..2 {
        let mut snapshot = crate::Snapshot::new(seq, 0, seq * 1000, 1000);
        if let Ok(section) = amd.sample() {
            section.apply_to(&mut snapshot);
        }
        if let Ok(section) = host.sample() {
            section.apply_to(&mut snapshot);
        }
        serde_json::to_string(&snapshot).expect("a snapshot serialises");
    }
    std::fs::write(file, original).expect("the fixture copy is writable");
}

/// llama-server's `/metrics` (Prometheus text).
pub fn prometheus(data: &[u8]) {
    let _ = llama::prometheus::parse(&text(data));
}

/// llama-server's JSON answers; the first byte picks `/props`, `/slots`, `/models` or an error
/// body.
pub fn llama_json(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else { return };
    let body = text(rest);
    match which % 4 {
        0 => drop(llama::json::props(&body)),
        1 => drop(llama::json::slots(&body)),
        2 => drop(llama::json::models(&body)),
        _ => {
            let reply = llama::Reply { status: 500, body, process_start_us: None };
            let _ = llama::http::describe_status(&reply);
        }
    }
}

/// One temporary file per process for the readers that take a path.
static SCRATCH: Mutex<Option<tempfile::NamedTempFile>> = Mutex::new(None);

/// Writes `data` to the scratch file and runs `f` on its path.
pub fn with_file<T>(data: &[u8], f: impl FnOnce(&Path) -> T) -> T {
    let mut guard = SCRATCH.lock().unwrap_or_else(|e| e.into_inner());
    let file = guard.get_or_insert_with(|| tempfile::NamedTempFile::new().expect("a scratch file"));
    std::fs::write(file.path(), data).expect("the scratch file is writable");
    f(file.path())
}

/// A GGUF file's header, and the model profile computed from it.
pub fn gguf_header(data: &[u8]) {
    with_file(data, |path| {
        if let Ok(profile) = gguf::profile_file(path) {
            serde_json::to_string(&profile).expect("a model profile serialises");
        }
    });
}
