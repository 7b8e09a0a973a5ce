//! `halo-top sweep`: llama-bench and llama-server configurations measured one at a time while
//! the collectors watch the machine, each point placed on the memory-bandwidth roofline, written
//! to an NDJSON results file that an interrupted sweep resumes, and rendered as a table, Pareto
//! fronts and plots. `--import` reads existing llama-bench output into the same form.
//!
//! - [`grid`]: the grid text → the points to run;
//! - [`bench`], [`serve`]: one point with llama-bench, or llama-server + requests;
//! - [`process`]: running those programs, failures as data;
//! - [`telemetry`]: the hub's snapshots → each point's power, temperatures, clocks;
//! - [`place`]: the roofline figures of a point;
//! - [`bench_output`], [`import`]: llama-bench's output in any format → points;
//! - [`results`]: the NDJSON file; [`report`], [`plots`], [`pareto`]: rendering.

mod args;
pub mod bench;
pub mod bench_output;
pub mod grid;
pub mod import;
pub mod pareto;
pub mod place;
pub mod plots;
pub mod point;
pub mod process;
pub mod report;
pub mod results;
mod run;
pub mod serve;
pub mod telemetry;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

pub use args::SweepArgs;

use crate::cli::Global;
use crate::session::Header;
use results::{COMMAND, SweepFile, SweepHeader, SweepInfo, SweepWriter};

/// Runs the sweep, the import or the report that `args` asks for.
pub async fn run(global: &Global, args: &SweepArgs) -> Result<ExitCode> {
    if let Some(file) = &args.report {
        return report::run(file, args.report_dir.as_deref());
    }
    if !args.import.is_empty() {
        let output = args.output.clone().unwrap_or_else(|| "llama-bench-import.ndjson".into());
        import::import_files(global, args, &output)?;
        return report::run(&output, args.report_dir.as_deref());
    }
    let output = args.output.clone().unwrap_or_else(|| "sweep.ndjson".into());
    let code = run::sweep(global, args, &output).await?;
    let report = report::run(&output, args.report_dir.as_deref())?;
    Ok(if code == ExitCode::SUCCESS { report } else { code })
}

/// The file's name only: paths of this machine stay out of results that may be shared.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// A header for a new sweep file.
pub fn header(global: &Global, sweep: SweepInfo) -> SweepHeader {
    SweepHeader {
        session: Header {
            schema: halo_collectors::SCHEMA,
            halo_top_version: env!("CARGO_PKG_VERSION").into(),
            host: std::fs::read_to_string(global.procfs_root.join("sys/kernel/hostname"))
                .ok()
                .map(|h| h.trim().to_string()),
            interval_ms: u64::try_from(global.interval.as_millis()).unwrap_or(u64::MAX),
            sources: telemetry::sources(global).iter().map(|s| s.name()).collect(),
            started_unix_ms: crate::record::unix_ms_now(),
            command: Some(COMMAND.into()),
            soak: None,
        },
        sweep,
    }
}

/// Opens `output` to add points: an existing sweep file (checked by `compatible`) is kept and
/// appended to; a missing one is created with `header`.
pub fn open_output(
    output: &Path,
    header: &SweepHeader,
    compatible: impl Fn(&SweepFile) -> Result<()>,
) -> Result<(SweepWriter, Option<SweepFile>)> {
    if !output.exists() {
        return Ok((SweepWriter::create(output, header)?, None));
    }
    let existing = results::read(output).with_context(|| {
        format!("{} exists and is not a sweep file to add to: give another -o", output.display())
    })?;
    if existing.corrupt_lines > 0 {
        bail!(
            "{} has lines that cannot be read ({}): fix or move it before adding to it",
            output.display(),
            existing.problems.join("; ")
        );
    }
    compatible(&existing)?;
    Ok((SweepWriter::append(&existing)?, Some(existing)))
}

/// `dir/NAME` if it is a file, else NAME found on PATH.
pub fn find_program(dir: Option<&Path>, name: &str) -> Result<PathBuf> {
    if let Some(dir) = dir {
        let path = dir.join(name);
        if path.is_file() {
            return Ok(path);
        }
        bail!("{} not found in {} (--llama-bin-dir)", name, dir.display());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()).ok_or_else(|| {
        anyhow::anyhow!("{name} not found on PATH: install llama.cpp or give --llama-bin-dir DIR")
    })
}
