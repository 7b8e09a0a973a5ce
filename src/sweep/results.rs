//! Sweep files: NDJSON like session files.
//!
//! ```text
//! {"header":{"schema":1,...,"command":"sweep","sweep":{model, grid, ...}}}   line 1
//! {"point":{"key":"bench ctk=f16 ...","kind":"bench",...}}                   one point per line
//! ```
//!
//! The header has every field of a session header (so tools that read session headers read
//! this one, and dispatch on `command`), plus the sweep's settings. Each point is written as one
//! line, flushed and synced: a sweep killed mid-point loses that point only, and a cut last line
//! is dropped when the sweep resumes.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use halo_collectors::model::ModelProfile;
use serde::{Deserialize, Serialize};

use super::point::Point;
use crate::session::Header;

/// The `command` of a sweep file's header.
pub const COMMAND: &str = "sweep";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepHeader {
    #[serde(flatten)]
    pub session: Header,
    /// Missing in a session file's header: it is told apart by `command`.
    #[serde(default)]
    pub sweep: SweepInfo,
}

/// What a sweep ran, or what was imported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SweepInfo {
    /// The model as given on the command line (a relative path stays relative).
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub model_profile: Option<ModelProfile>,
    #[serde(default)]
    pub draft: Option<String>,
    #[serde(default)]
    pub grid: Option<String>,
    #[serde(default)]
    pub n_prompt: Option<u64>,
    #[serde(default)]
    pub n_gen: Option<u64>,
    #[serde(default)]
    pub repetitions: Option<u64>,
    #[serde(default)]
    pub timeout_s: Option<u64>,
    #[serde(default)]
    pub peak_gbps: Option<f64>,
    #[serde(default)]
    pub peak_source: Option<String>,
    #[serde(default)]
    pub calibrated_read_gbps: Option<f64>,
    /// `llama-bench --version`.
    #[serde(default)]
    pub llama_version: Option<String>,
    #[serde(default)]
    pub cpu_model: Option<String>,
    #[serde(default)]
    pub logical_cpus: Option<u32>,
    /// The files imported (`sweep --import`), by name.
    #[serde(default)]
    pub imported_from: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct HeaderLine {
    header: SweepHeader,
}

#[derive(Serialize, Deserialize)]
struct PointLine {
    point: Point,
}

/// A sweep file as read.
#[derive(Debug)]
pub struct SweepFile {
    pub path: PathBuf,
    pub header: SweepHeader,
    pub points: Vec<Point>,
    /// Lines that could not be read, named by file and line.
    pub problems: Vec<String>,
    /// Where a cut last line starts (a sweep killed mid-write): resuming truncates it.
    pub cut_at_byte: Option<u64>,
    /// Lines in the middle of the file that could not be read.
    pub corrupt_lines: usize,
}

/// Whether `path` is a sweep file (its header's `command`), for `report` to dispatch on.
pub fn is_sweep_file(path: &Path) -> bool {
    let Ok(file) = File::open(path) else { return false };
    let mut first = String::new();
    let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(file), &mut first);
    serde_json::from_str::<HeaderLine>(&first)
        .is_ok_and(|h| h.header.session.command.as_deref() == Some(COMMAND))
}

pub fn read(path: &Path) -> Result<SweepFile> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let name = path.display();
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().ok_or_else(|| anyhow::anyhow!("{name}: empty file"))?;
    let header = serde_json::from_str::<HeaderLine>(first)
        .map_err(|e| anyhow::anyhow!("{name}:1: not a halo-top sweep header: {e}"))?
        .header;
    if header.session.command.as_deref() != Some(COMMAND) {
        bail!(
            "{name}:1: a {} file, not a sweep (command {:?})",
            header.session.command.as_deref().unwrap_or("session"),
            header.session.command
        );
    }
    let mut file = SweepFile {
        path: path.to_path_buf(),
        header,
        points: Vec::new(),
        problems: Vec::new(),
        cut_at_byte: None,
        corrupt_lines: 0,
    };
    let mut offset = first.len() as u64;
    let mut rest = lines.enumerate().peekable();
    while let Some((i, line)) = rest.next() {
        let line_no = i + 2;
        let is_last = rest.peek().is_none();
        let start = offset;
        offset += line.len() as u64;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<PointLine>(line) {
            Ok(p) => file.points.push(p.point),
            Err(_) if is_last && !line.ends_with('\n') => {
                file.problems.push(format!("{name}:{line_no}: cut short (the sweep was interrupted while writing it); skipped"));
                file.cut_at_byte = Some(start);
            }
            Err(e) => {
                file.problems.push(format!("{name}:{line_no}: not a sweep point: {e}"));
                file.corrupt_lines += 1;
            }
        }
    }
    Ok(file)
}

/// Appends points, one synced line each.
pub struct SweepWriter {
    file: File,
    path: PathBuf,
}

impl SweepWriter {
    /// Creates (or replaces) `path` and writes the header.
    pub fn create(path: &Path, header: &SweepHeader) -> Result<Self> {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = SweepWriter { file, path: path.to_path_buf() };
        w.write_line(&HeaderLine { header: header.clone() })?;
        Ok(w)
    }

    /// Opens an existing sweep file to add points, first cutting off a partial last line.
    pub fn append(existing: &SweepFile) -> Result<Self> {
        let path = &existing.path;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {} to add points", path.display()))?;
        if let Some(at) = existing.cut_at_byte {
            file.set_len(at).with_context(|| format!("cannot truncate {}", path.display()))?;
        }
        Ok(SweepWriter { file, path: path.clone() })
    }

    pub fn write_point(&mut self, point: &Point) -> Result<()> {
        self.write_line(&PointLine { point: point.clone() })
    }

    fn write_line(&mut self, value: &impl Serialize) -> Result<()> {
        let mut line = serde_json::to_vec(value).context("cannot serialize a sweep line")?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .with_context(|| format!("cannot write to {}", self.path.display()))?;
        // A point can take minutes to measure: never lose one to a power cut.
        self.file.sync_data().with_context(|| format!("cannot sync {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::point::{Config, PointKind};

    fn header() -> SweepHeader {
        SweepHeader {
            session: Header {
                schema: halo_collectors::SCHEMA,
                halo_top_version: "0".into(),
                host: None,
                interval_ms: 1000,
                sources: vec![],
                started_unix_ms: 0,
                command: Some(COMMAND.into()),
                soak: None,
            },
            sweep: SweepInfo { grid: Some("depth=0".into()), ..SweepInfo::default() },
        }
    }

    fn point(depth: u64) -> Point {
        Point::new(
            format!("k{depth}"),
            PointKind::Bench,
            Config { depth_tokens: depth, ..Config::default() },
        )
    }

    #[test]
    fn round_trip_and_resume_after_a_cut_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ndjson");
        let mut w = SweepWriter::create(&path, &header()).unwrap();
        w.write_point(&point(0)).unwrap();
        w.write_point(&point(1)).unwrap();
        drop(w);
        assert!(is_sweep_file(&path));
        // A sweep killed while writing its third point.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"point\":{\"key\":\"k2\",\"ki").unwrap();
        drop(f);
        let file = read(&path).unwrap();
        assert_eq!(file.points, [point(0), point(1)]);
        assert_eq!(file.header, header());
        assert!(file.problems[0].contains("s.ndjson:4: cut short"), "{:?}", file.problems);
        let mut w = SweepWriter::append(&file).unwrap();
        w.write_point(&point(2)).unwrap();
        let file = read(&path).unwrap();
        assert_eq!(file.points, [point(0), point(1), point(2)]);
        assert!(file.problems.is_empty(), "{:?}", file.problems);
    }

    #[test]
    fn bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.ndjson");
        std::fs::write(&path, "").unwrap();
        assert!(format!("{:#}", read(&path).unwrap_err()).contains("x.ndjson: empty"));
        std::fs::write(&path, "{\"header\":{\"schema\":1,\"halo_top_version\":\"0\",\"interval_ms\":1,\"started_unix_ms\":0,\"command\":\"record\"}}\n").unwrap();
        assert!(format!("{:#}", read(&path).unwrap_err()).contains("not a sweep"));
        assert!(!is_sweep_file(&path));
        let mut text = serde_json::to_string(&HeaderLine { header: header() }).unwrap();
        text += "\ngarbage\n{\"point\":";
        text += &serde_json::to_string(&point(5)).unwrap();
        text += "}\n";
        std::fs::write(&path, text).unwrap();
        let file = read(&path).unwrap();
        assert_eq!((file.points.len(), file.corrupt_lines), (1, 1));
        assert!(file.problems[0].contains("x.ndjson:2: not a sweep point"), "{:?}", file.problems);
        assert!(
            format!("{:#}", read(&dir.path().join("missing")).unwrap_err()).contains("missing")
        );
    }
}
