//! The sweep loop: one point at a time, each written as soon as it is measured, a point that is
//! already in the results file skipped, Ctrl-C stopping cleanly between (or inside) points.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use halo_collectors::gguf;
use halo_collectors::model::ModelProfile;

use super::grid::{Grid, Planned};
use super::point::{Point, PointKind};
use super::results::{SweepFile, SweepInfo};
use super::telemetry::{self, Recorder, Samples};
use super::{SweepArgs, bench, file_name, find_program, header, open_output, place, serve};
use crate::cli::Global;
use crate::model_report::{self, Bandwidth};
use crate::session::Header;

/// The `command` of the header of the session file `--session` writes.
const SESSION_COMMAND: &str = "sweep-session";

/// Everything a point needs besides its configuration.
struct PointContext {
    model: PathBuf,
    draft: Option<PathBuf>,
    profile: ModelProfile,
    bandwidth: Bandwidth,
    llama_bench: Option<PathBuf>,
    llama_server: Option<PathBuf>,
    args: SweepArgs,
}

pub async fn sweep(global: &Global, args: &SweepArgs, output: &Path) -> Result<ExitCode> {
    let Some(model) = global.roofline.model.clone() else {
        bail!(
            "which model? give the GGUF file to sweep: halo-top sweep --model FILE.gguf --grid '...'"
        );
    };
    let profile = gguf::profile_file(&model).context("cannot profile the model")?.profile;
    if let Some(draft) = &args.draft {
        gguf::profile_file(draft).context("cannot profile the draft model")?;
    }
    let grid = Grid::parse(&args.grid, args.draft.is_some())?;
    let plan = grid.plan(args.n_prompt, args.n_gen);
    let dir = args.llama_bin_dir.as_deref();
    let needs = |kind| plan.iter().any(|p| p.kind == kind);
    let llama_bench =
        needs(PointKind::Bench).then(|| find_program(dir, "llama-bench")).transpose()?;
    let llama_server =
        needs(PointKind::Serve).then(|| find_program(dir, "llama-server")).transpose()?;
    let bandwidth = model_report::bandwidth(global)?;

    let info = SweepInfo {
        model: Some(model.display().to_string()),
        model_profile: Some(profile.clone()),
        draft: args.draft.as_ref().map(|d| d.display().to_string()),
        grid: Some(args.grid.clone()),
        n_prompt: Some(args.n_prompt),
        n_gen: Some(args.n_gen),
        repetitions: Some(args.repetitions),
        timeout_s: Some(args.timeout.as_secs()),
        peak_gbps: bandwidth.peak_gbps,
        peak_source: bandwidth.peak_source.clone(),
        calibrated_read_gbps: bandwidth.calibrated_read_gbps,
        llama_version: llama_bench.as_deref().or(llama_server.as_deref()).and_then(version),
        cpu_model: cpu_model(&global.procfs_root),
        logical_cpus: std::thread::available_parallelism()
            .ok()
            .and_then(|n| u32::try_from(n.get()).ok()),
        imported_from: Vec::new(),
    };
    let new_header = header(global, info.clone());
    let (mut writer, existing) = open_output(output, &new_header, |f| same_sweep(f, &info))?;
    let done: Vec<String> = existing
        .iter()
        .flat_map(|f| &f.points)
        .filter(|p| !(args.retry_failed && p.failure.is_some()))
        .map(|p| p.key.clone())
        .collect();
    let todo: Vec<&Planned> = plan.iter().filter(|p| !done.contains(&p.key)).collect();
    if existing.is_some() {
        eprintln!(
            "halo-top: resuming {}: {} of {} points done, {} to run",
            output.display(),
            plan.len() - todo.len(),
            plan.len(),
            todo.len()
        );
    }

    // The snapshots' session file says it is a session, not the sweep's results, so that
    // `report` and `export` read it as the time series it is.
    let session_header =
        Header { command: Some(SESSION_COMMAND.into()), ..new_header.session.clone() };
    let session = args.session.as_deref().map(|p| (p, session_header));
    let recorder = Recorder::start(global, session)?;
    let cancel = Arc::new(AtomicBool::new(false));
    let mut shutdown = crate::shutdown::Shutdown::listen()?;
    let on_signal = cancel.clone();
    let listener = tokio::spawn(async move {
        let signal = shutdown.recv().await;
        eprintln!("halo-top: {signal}: stopping the current point");
        on_signal.store(true, Ordering::Relaxed);
    });

    let context = Arc::new(PointContext {
        model,
        draft: args.draft.clone(),
        profile,
        bandwidth,
        llama_bench,
        llama_server,
        args: args.clone(),
    });
    let total = plan.len();
    let mut interrupted = false;
    for planned in todo {
        let number = plan.iter().position(|p| p.key == planned.key).map_or(0, |i| i + 1);
        eprintln!("[{number}/{total}] {} ...", planned.key);
        let (context, job, flag, samples) =
            (context.clone(), planned.clone(), cancel.clone(), recorder.samples());
        let point = tokio::task::spawn_blocking(move || measure(&context, &job, &flag, &samples))
            .await
            .context("a point's measurement panicked")?;
        let Some(point) = point else {
            interrupted = true;
            break;
        };
        writer.write_point(&point)?;
        eprintln!("[{number}/{total}] {}", progress_line(&point));
        if cancel.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
    }
    listener.abort();
    recorder.stop().await?;
    if interrupted {
        eprintln!(
            "halo-top: interrupted; {} keeps every finished point: run the same command to resume",
            output.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Measures one point; `None` when the sweep was interrupted during it (nothing to record).
fn measure(
    c: &PointContext,
    planned: &Planned,
    cancel: &AtomicBool,
    samples: &Samples,
) -> Option<Point> {
    let mut point = Point::new(planned.key.clone(), planned.kind, planned.config.clone());
    let args = &c.args;
    let (start, end, prefill_windows, decode_windows, tokens_per_step) = match planned.kind {
        PointKind::Bench => {
            let bin = c.llama_bench.as_deref()?;
            let o =
                bench::run(bin, &c.model, &planned.config, args.repetitions, args.timeout, cancel);
            if o.cancelled {
                return None;
            }
            point.prefill = o.prefill;
            point.decode = o.decode;
            point.failure = o.failure;
            (o.started_unix_ms, o.ended_unix_ms, o.prefill_windows, o.decode_windows, 1.0)
        }
        PointKind::Serve => {
            let settings = serve::ServeSettings {
                llama_server: c.llama_server.as_deref()?,
                model: &c.model,
                draft: c.draft.as_deref(),
                rounds: args.repetitions,
                timeout: args.timeout,
            };
            let o = serve::run(&settings, &planned.config, cancel);
            if o.cancelled {
                return None;
            }
            point.prefill = o.prefill;
            point.decode = o.decode;
            point.serving = Some(o.serving);
            point.failure = o.failure;
            // Requests overlap, so prompt processing has no windows of its own: the rounds'
            // power goes to the generated tokens (see `place`).
            (o.started_unix_ms, o.ended_unix_ms, Vec::new(), o.round_windows, o.tokens_per_step)
        }
        PointKind::Imported => return None,
    };
    point.started_unix_ms = Some(start);
    point.wall_s = Some((end - start) as f64 / 1000.0);
    point.telemetry =
        Some(telemetry::summarize(&samples.now(), start, end, &prefill_windows, &decode_windows));
    place::place(&mut point, Some(&c.profile), &c.bandwidth, tokens_per_step);
    Some(point)
}

/// An existing results file continues this sweep only if it measured the same model with the
/// same test sizes; the grid may grow.
fn same_sweep(file: &SweepFile, info: &SweepInfo) -> Result<()> {
    let old = &file.header.sweep;
    let weights =
        |i: &SweepInfo| i.model_profile.as_ref().map(|p| (p.weight_bytes, p.file_size_bytes));
    let name = |m: &Option<String>| m.as_deref().map(|m| file_name(Path::new(m)));
    let mut differences = Vec::new();
    if name(&old.model) != name(&info.model) || weights(old) != weights(info) {
        differences.push(format!("model {:?}", old.model.as_deref().unwrap_or("none")));
    }
    if name(&old.draft) != name(&info.draft) {
        differences.push(format!("draft {:?}", old.draft.as_deref().unwrap_or("none")));
    }
    for (what, a, b) in [
        ("-p", old.n_prompt, info.n_prompt),
        ("-n", old.n_gen, info.n_gen),
        ("-r", old.repetitions, info.repetitions),
    ] {
        if a != b {
            differences.push(format!("{what} {}", a.map_or("none".into(), |v| v.to_string())));
        }
    }
    if differences.is_empty() {
        return Ok(());
    }
    bail!(
        "{} holds another sweep ({}): give another -o, or move it away to start over",
        file.path.display(),
        differences.join(", ")
    )
}

/// `llama-bench --version`'s first line.
fn version(program: &Path) -> Option<String> {
    let out = Command::new(program).arg("--version").output().ok()?;
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    text.lines().find(|l| l.starts_with("version")).map(|l| l.trim().to_string())
}

fn cpu_model(procfs_root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(procfs_root.join("cpuinfo")).ok()?;
    let line = text.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_string())
}

/// One line per finished point, for the person watching.
fn progress_line(p: &Point) -> String {
    let rate = |r: &Option<super::point::Rate>| match r {
        Some(r) => match r.stddev_tok_s {
            Some(s) => format!("{:.1} ± {s:.1}", r.mean_tok_s),
            None => format!("{:.1}", r.mean_tok_s),
        },
        None => "n/a".into(),
    };
    let mut line = format!(
        "{} kv {} depth {}: prefill {} tok/s, decode {} tok/s",
        p.kind.label(),
        p.config.kv_label(),
        p.config.depth_tokens,
        rate(&p.prefill),
        rate(&p.decode)
    );
    if let Some(np) = p.config.parallel {
        line +=
            &format!(" ({np} slots{})", if p.config.speculative { ", speculative" } else { "" });
    }
    if let Some(r) = &p.roofline {
        line += &format!(", {:.1} GB/s", r.achieved_gbps);
        if let Some(u) = r.utilisation_of_peak_percent {
            line += &format!(" = {u:.1} % of peak");
        }
    }
    if let Some(f) = &p.failure {
        line += &format!(" — FAILED ({:?}): {}", f.kind, f.message);
    }
    line
}
