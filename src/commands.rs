//! What each subcommand does, wired from the pieces in the other modules.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use halo_collectors::{SCHEMA, Snapshot, SourceStatus};

use crate::cli::{Cli, Command, Global};
use crate::feed::Feed;
use crate::remote::{Remote, RemoteUrl};
use crate::session::Header;
use crate::synth::memory::SyntheticSpec;
use crate::{
    calibrate, export, hub, model_report, record, replay, report, serve, soak, sources, tui,
    workload,
};

pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        None => {
            let mut sources = sources::build(&cli.global)?;
            let load = workload::start(&cli.global);
            sources.extend(load.as_ref().map(workload::Running::source));
            let (feed, _hub) = hub::start(sources, cli.global.interval);
            tui::run(feed, remotes(&cli.global)?).await?;
            if let Some(load) = load {
                eprint!("{}", load.finish());
            }
        }
        Some(Command::Serve { listen, token, max_connections }) => {
            let limits =
                serve::Limits { connections: max_connections as usize, ..Default::default() };
            serve::run(&cli.global, listen, token, limits).await?
        }
        Some(Command::Snapshot { json }) => {
            let snapshot = settled_snapshot(&cli.global).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&*snapshot)?);
            } else {
                print!("{}", summary(&snapshot));
            }
        }
        Some(Command::Record { output, duration }) => {
            let mut sources = sources::build(&cli.global)?;
            let load = workload::start(&cli.global);
            sources.extend(load.as_ref().map(workload::Running::source));
            let header = header(&cli.global, sources.iter().map(|s| s.name()).collect(), "record");
            let (feed, _hub) = hub::start(sources, cli.global.interval);
            let footer = record::record(&feed, header, &output, duration).await?;
            eprintln!(
                "halo-top: wrote {} snapshots to {} ({} missed, stopped by {})",
                footer.snapshots,
                output.display(),
                footer.missed,
                footer.stop_reason.as_deref().unwrap_or("?")
            );
            if let Some(load) = load {
                eprint!("{}", load.finish());
            }
        }
        Some(Command::Bench { synthetic, threads, tokens, prompt, stream, json }) => {
            use crate::workload::reference::bench;
            let model = match (synthetic, cli.global.roofline.model.clone()) {
                (Some(spec), _) => bench::ModelChoice::Synthetic(spec),
                (None, Some(path)) => bench::ModelChoice::File(path),
                (None, None) => bench::ModelChoice::Synthetic(SyntheticSpec::default()),
            };
            let threads = threads
                .map_or_else(crate::workload::reference::threads::default_threads, usize::from);
            let options = bench::BenchOptions { model, threads, tokens, warmup: 4, prompt, stream };
            let calibrated =
                model_report::bandwidth(&cli.global).ok().and_then(|b| b.calibrated_read_gbps);
            let report = tokio::task::spawn_blocking(move || bench::run(&options))
                .await??
                .with_calibrated(calibrated);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", bench::text(&report));
            }
        }
        Some(Command::Synth { output, synthetic }) => {
            let name = crate::synth::memory::write_gguf(synthetic, &output)?;
            eprintln!("halo-top: wrote {name} to {}", output.display());
        }
        Some(Command::Model { file, json, decode_tok_s, context }) => {
            let Some(file) = file.or_else(|| cli.global.roofline.model.clone()) else {
                bail!("which model? give a GGUF file: halo-top model FILE.gguf");
            };
            model_report::run(&cli.global, &file, json, decode_tok_s, context)?;
        }
        Some(Command::Calibrate { array_mib, max_threads, reps }) => {
            calibrate::run(cli.global.roofline.config.as_deref(), array_mib, max_threads, reps)?;
        }
        Some(Command::Sweep(args)) => return crate::sweep::run(&cli.global, &args).await,
        Some(Command::Soak { output, duration, warmup, max_drift, progress }) => {
            let args = soak::SoakArgs {
                output,
                duration,
                warmup,
                max_drift_percent: max_drift,
                progress_every: progress,
            };
            return soak::run(&cli.global, args).await;
        }
        Some(Command::Report { file, out }) => {
            // A sweep's results file gets the sweep's report (table, Pareto fronts, plots).
            if crate::sweep::results::is_sweep_file(&file) {
                return crate::sweep::report::run(&file, out.as_deref());
            }
            return report::run(&file, out.as_deref());
        }
        Some(Command::Export { file, format, output }) => {
            if crate::sweep::results::is_sweep_file(&file) {
                return crate::sweep::report::export(&file, format, output.as_deref());
            }
            return export::run(&file, format, output.as_deref());
        }
        Some(Command::Replay { file, speed, from }) => {
            let replay = replay::start(&file, speed, from.unwrap_or_default())?;
            let mode = replay.feed.mode.clone();
            tui::run(replay.feed, remotes(&cli.global)?).await?;
            for warning in &replay.warnings {
                eprintln!("halo-top: {warning}");
            }
            if let halo_collectors::model::FeedMode::Replay(state) = &*mode.borrow()
                && let Some(error) = &state.error
            {
                eprintln!("halo-top: {error}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The `--remote` machines, each followed by its own task.
fn remotes(global: &Global) -> Result<Vec<Remote>> {
    let token = &global.fleet.remote_token;
    global
        .fleet
        .remotes
        .iter()
        .map(|url| Ok(Remote::start(RemoteUrl::parse(url)?, token.clone())))
        .collect()
}

/// The thread count of the reference decoder when this command runs it.
pub fn reference_threads(cli: &Cli) -> Option<usize> {
    use crate::workload::reference::threads::default_threads;
    let pick = |t: Option<u16>| t.map_or_else(default_threads, usize::from);
    match (&cli.command, &cli.global.workload) {
        (Some(Command::Bench { threads, .. }), _) => Some(pick(*threads)),
        (Some(Command::Replay { .. }), _) => None,
        (_, Some(workload::Workload::Reference { .. })) => Some(pick(cli.global.workload_threads)),
        _ => None,
    }
}

pub(crate) fn header(global: &Global, sources: Vec<String>, command: &str) -> Header {
    Header {
        schema: SCHEMA,
        halo_top_version: env!("CARGO_PKG_VERSION").into(),
        host: std::fs::read_to_string(global.procfs_root.join("sys/kernel/hostname"))
            .ok()
            .map(|h| h.trim().to_string()),
        interval_ms: u64::try_from(global.interval.as_millis()).unwrap_or(u64::MAX),
        sources,
        started_unix_ms: record::unix_ms_now(),
        command: Some(command.into()),
        soak: None,
    }
}

/// The first snapshot in which every source has finished two samples (so its rates exist),
/// or has settled on being unavailable.
async fn settled_snapshot(global: &Global) -> Result<Arc<Snapshot>> {
    let (mut feed, hub) = hub::start(sources::build(global)?, global.interval);
    let wait = global.interval * 4 + Duration::from_secs(5);
    let snapshot = tokio::time::timeout(wait, first_settled(&mut feed))
        .await
        .with_context(|| format!("no complete snapshot within {} s", wait.as_secs()))??;
    hub.abort();
    Ok(snapshot)
}

async fn first_settled(feed: &mut Feed) -> Result<Arc<Snapshot>> {
    loop {
        feed.latest.changed().await.context("the hub stopped")?;
        let Some(s) = feed.latest.borrow_and_update().clone() else { continue };
        let settled = s.sources.iter().all(|src| match src.status {
            SourceStatus::Pending => false,
            SourceStatus::Ok => src.samples >= 2,
            SourceStatus::Unavailable { .. } | SourceStatus::Failed { .. } => src.samples >= 1,
        });
        if settled {
            if s.sources.is_empty() {
                bail!("no sources are configured");
            }
            return Ok(s);
        }
    }
}

/// A few lines for people; `--json` has everything.
fn summary(s: &Snapshot) -> String {
    use halo_widgets::format::{bytes, celsius, percent};
    let mut out = String::new();
    if let Some(h) = &s.host {
        let m = &h.memory;
        out += &format!("host     {}\n", h.host_name.as_deref().unwrap_or("n/a"));
        out += &format!(
            "cpu      {} of {} logical CPUs\n",
            percent(h.cpu.total_percent),
            h.cpu.logical_cpus.map_or("n/a".into(), |n| n.to_string())
        );
        out += &format!(
            "memory   {} used of {}, {} available\n",
            bytes(m.used_bytes),
            bytes(m.total_bytes),
            bytes(m.available_bytes)
        );
        out += &format!("tctl     {}\n", celsius(h.tctl_c));
    }
    out += &crate::amdgpu_summary::summary(s);
    for d in s.nvidia.iter().flat_map(|n| &n.devices) {
        let name = d.name.as_deref().unwrap_or("NVIDIA GPU");
        let watts = d.power_w.map_or("n/a".into(), |w| format!("{w:.0} W"));
        out += &format!(
            "nvidia   {name}: {} busy, {} of {} VRAM, {watts}, {}\n",
            percent(d.gpu_busy_percent),
            bytes(d.vram_used_bytes),
            bytes(d.vram_total_bytes),
            celsius(d.temp_c)
        );
    }
    if let Some(m) = &s.model {
        let r = &s.derived.roofline;
        let gbps = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.1} GB/s"));
        out += &format!(
            "model    {} ({}), {} read per decode step\n",
            m.profile.name.as_deref().unwrap_or("unnamed"),
            m.profile.architecture.as_deref().unwrap_or("unknown"),
            r.bytes_per_step.map_or("n/a".into(), |b| format!("{:.2} GB", b / 1e9))
        );
        out += &format!(
            "roofline {} achieved of {} peak ({}), ceiling {}\n",
            gbps(r.achieved_gbps),
            gbps(r.peak_gbps),
            percent(r.utilisation_of_peak_percent),
            r.ceiling_tok_s.map_or("n/a".into(), |t| format!("{t:.1} tok/s"))
        );
    }
    out += &llama_summary(s);
    if let Some(r) = &s.reference {
        let f =
            |v: Option<f64>, unit: &str| v.map_or("n/a".to_string(), |v| format!("{v:.2}{unit}"));
        out += &format!(
            "decoder  {} on {} threads ({}): {} decode, {} effective, p50 {}\n",
            r.model_name.as_deref().unwrap_or(&r.model_source),
            r.threads,
            r.state,
            f(r.decode_tok_s, " tok/s"),
            f(r.effective_gb_s, " GB/s"),
            f(r.latency_ms_p50, " ms")
        );
    }
    for src in &s.sources {
        let state = match &src.status {
            SourceStatus::Ok => "ok".to_string(),
            SourceStatus::Pending => "pending".to_string(),
            SourceStatus::Unavailable { reason } => format!("unavailable: {reason}"),
            SourceStatus::Failed { error } => format!("failed: {error}"),
        };
        out += &format!("source   {:<8} {state}\n", src.name);
    }
    out
}

/// The llama lines of the summary: one block per server, then the load generator.
fn llama_summary(s: &Snapshot) -> String {
    let num =
        |v: Option<f64>, digits: usize| v.map_or("n/a".to_string(), |v| format!("{v:.digits$}"));
    let pct = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{:.1} %", v * 100.0));
    let mut out = String::new();
    for server in &s.llama {
        let props = server.props.clone().unwrap_or_default();
        let model = server
            .model_id
            .clone()
            .or(props.model_alias.clone())
            .or(props.model_path.clone())
            .unwrap_or_else(|| "n/a".into());
        out += &format!(
            "llama    {} {model} ({}, {} slots × {} ctx, build {})\n",
            server.url,
            props.model_ftype.as_deref().unwrap_or("n/a"),
            props.total_slots.map_or("n/a".into(), |n| n.to_string()),
            props.n_ctx_per_slot.map_or("n/a".into(), |n| n.to_string()),
            props.build_info.as_deref().unwrap_or("n/a"),
        );
        let rates = s
            .derived
            .llama
            .iter()
            .find(|r| (r.url.as_str(), r.model_id.as_deref()) == server.key())
            .cloned()
            .unwrap_or_default();
        out += &format!(
            "  decode {} tok/s, {} steps/s, prefill {} tok/s, {} slots busy{}\n",
            num(rates.decode_tok_s, 1),
            num(rates.decode_steps_s, 1),
            num(rates.prefill_tok_s, 1),
            rates.busy_slots.map_or("n/a".into(), |n| n.to_string()),
            if rates.restarted { ", RESTARTED" } else { "" },
        );
        let m = server.metrics.clone().unwrap_or_default();
        out += &format!(
            "  tokens {} generated, {} prompt\n",
            num(rates.generated_tokens_total, 0),
            num(m.prompt_tokens_total, 0),
        );
        match rates.spec_active {
            Some(true) => {
                out += &format!(
                    "  spec   acceptance {} (since start {}), mean len {}, draft {} tok/s\n",
                    pct(rates.spec_acceptance),
                    pct(rates.spec_acceptance_cumulative),
                    num(rates.spec_mean_accept_len_cumulative, 2),
                    num(rates.spec_draft_tok_s, 1),
                )
            }
            Some(false) => out += "  spec   off\n",
            None => {}
        }
        for issue in &server.issues {
            out += &format!("  note   {issue}\n");
        }
    }
    if let Some(load) = &s.llama_load {
        out += &format!(
            "load     {} ×{}: {} ok, {} failed, {} tokens, {} tok/s, ttft p50 {} ms, inter-token p50 {} ms\n",
            load.preset,
            load.concurrency,
            load.requests_ok,
            load.requests_failed,
            load.tokens_predicted,
            num(load.aggregate_tok_s, 1),
            num(load.ttft_ms.p50, 1),
            num(load.inter_token_ms.p50, 2),
        );
    }
    out
}
