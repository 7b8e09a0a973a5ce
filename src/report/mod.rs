//! `halo-top report FILE [--out DIR]`: a session's verdict as text and markdown, and its plots.
//!
//! Works on any session file: a soak with its footer, a soak cut short by `kill -9` (the verdict
//! is recomputed from the snapshots, with the warm-up from the header), a plain recording. A
//! corrupt line is skipped and named with its line number; the report is still written, and the
//! exit status is 1 so that a script notices.

pub mod load;
pub mod plots;
pub mod traces;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::soak::metrics;
use crate::soak::summary;
use crate::soak::verdict::Verdict;
use load::Loaded;
use traces::Traces;

pub fn run(path: &Path, out: Option<&Path>) -> Result<ExitCode> {
    let dir = out.map_or_else(|| default_dir(path), Path::to_path_buf);
    let loaded = load::load(path)?;
    let written = write(&loaded, &dir)?;
    let tracker = loaded.tracker();
    let mut stdout = std::io::stdout();
    let _ = write!(stdout, "{}", summary::text(&tracker.verdict()));
    for p in &loaded.problems {
        let _ = writeln!(std::io::stderr(), "halo-top: {p}");
    }
    let _ =
        writeln!(stdout, "report: {} ({})", dir.join("report.md").display(), written.join(", "));
    Ok(if loaded.corrupt_lines > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// `soak.ndjson` → `soak-report/`.
fn default_dir(path: &Path) -> PathBuf {
    let stem = path.file_stem().map_or("session".into(), |s| s.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}-report"))
}

/// Writes `verdict.txt`, `report.md` and the plots into `dir`; returns the file names.
pub fn write(loaded: &Loaded, dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let verdict = loaded.tracker().verdict();
    let traces = loaded.traces();
    let interval_s = loaded.header().interval_ms as f64 / 1000.0;
    let stems = plots::draw_all(&traces, interval_s, loaded.warmup_s(), dir)?;
    let save = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))
    };
    save("verdict.txt", summary::text(&verdict))?;
    save("report.md", markdown(loaded, &traces, &verdict, &stems))?;
    let mut written = vec!["verdict.txt".to_string(), "report.md".to_string()];
    written.extend(stems.iter().flat_map(|s| [format!("{s}.svg"), format!("{s}.png")]));
    Ok(written)
}

fn markdown(loaded: &Loaded, traces: &Traces, verdict: &Verdict, stems: &[String]) -> String {
    let h = loaded.header();
    let name = loaded.index.path.file_name().map_or("session".into(), |n| n.to_string_lossy());
    let mut md = format!("# halo-top report: {name}\n\n");
    let started = UNIX_EPOCH + Duration::from_millis(u64::try_from(h.started_unix_ms).unwrap_or(0));
    let _ = writeln!(
        md,
        "- host `{}`, halo-top {}, `{}`, started {} UTC, one snapshot every {}",
        h.host.as_deref().unwrap_or("n/a"),
        h.halo_top_version,
        h.command.as_deref().unwrap_or("?"),
        humantime::format_rfc3339_seconds(started),
        summary::duration(h.interval_ms as f64 / 1000.0)
    );
    if let Some(plan) = &h.soak {
        let _ = writeln!(
            md,
            "- soak: workload `{}`, planned {}, warm-up {}{}",
            plan.workload,
            summary::duration(plan.duration_ms as f64 / 1000.0),
            summary::duration(plan.warmup_ms as f64 / 1000.0),
            plan.max_drift_percent.map_or(String::new(), |m| format!(", --max-drift {m} %"))
        );
    }
    let _ = writeln!(md, "- sources: {}", h.sources.join(", "));
    match &loaded.index.footer {
        Some(f) => {
            let _ = writeln!(
                md,
                "- ended cleanly ({}), {} snapshots written, {} missed by the writer",
                f.stop_reason.as_deref().unwrap_or("?"),
                f.snapshots,
                f.missed
            );
        }
        None => {
            md += "- **no footer**: the recording was cut short (killed, or still running); \
                   the verdict below is computed from the snapshots in the file\n";
        }
    }
    if let Some(load) = traces.get(metrics::LOAD) {
        let values: Vec<f64> = load.known_values().collect();
        if !values.is_empty() {
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let max = values.iter().copied().fold(f64::MIN, f64::max);
            let _ = writeln!(
                md,
                "- load average (1 min) while recording: mean {mean:.2}, max {max:.2} \
                 (other programs competing for the CPUs show here)"
            );
        }
    }
    md += "\n## Verdict\n\n";
    md += &summary::markdown(verdict);
    md += "\n## Plots\n\nShaded grey: warm-up (left out of the verdict); shaded red: a limiter \
           engaged. Each plot is also written as SVG.\n\n";
    for stem in stems {
        let _ = writeln!(md, "![{stem}]({stem}.png)\n");
    }
    let missing: Vec<&str> = [
        (metrics::DECODE, "decode tok/s"),
        ("roofline_utilisation_percent", "roofline utilisation (no --model given)"),
        ("spec_acceptance_percent", "draft acceptance (no speculative decoding)"),
    ]
    .into_iter()
    .filter(|(key, _)| traces.get(key).is_none_or(|s| s.known_values().next().is_none()))
    .map(|(_, what)| what)
    .collect();
    if !missing.is_empty() {
        let _ = writeln!(md, "Not in this session: {}.\n", missing.join("; "));
    }
    if !loaded.problems.is_empty() {
        md += "## Problems reading the file\n\n";
        // Named by the file's name only: the report may be committed, the path is this machine's.
        let full = loaded.index.path.display().to_string();
        for p in &loaded.problems {
            let _ = writeln!(md, "- {}", p.replace(&full, &name));
        }
    }
    md
}
