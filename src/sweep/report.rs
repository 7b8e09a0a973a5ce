//! A sweep file rendered: `report.md` (the settings, a table of every point, the Pareto fronts,
//! failures, the plots), `points.csv` (the table for spreadsheets), and the plots as SVG. The
//! points table is also printed. `halo-top report FILE` dispatches here for sweep files
//! ([`results::is_sweep_file`]); `halo-top sweep --report FILE` does the same, and
//! `halo-top export FILE --format csv` writes the CSV alone.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::pareto;
use super::plots;
use super::point::{Point, Rate};
use super::results::{self, SweepFile};

pub fn run(path: &Path, out: Option<&Path>) -> Result<ExitCode> {
    let file = results::read(path)?;
    let dir = out.map_or_else(|| default_dir(path), Path::to_path_buf);
    let written = write(&file, &dir)?;
    print!("{}", points_table(&file.points));
    for p in &file.problems {
        eprintln!("halo-top: {p}");
    }
    println!("report: {} ({})", dir.join("report.md").display(), written.join(", "));
    Ok(if file.corrupt_lines > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// `halo-top export SWEEP --format csv`: the points as `points.csv` has them, to `output` or
/// stdout. Prometheus text is for time series, which a sweep's points are not.
pub fn export(
    path: &Path,
    format: crate::export::Format,
    output: Option<&Path>,
) -> Result<ExitCode> {
    if !matches!(format, crate::export::Format::Csv) {
        anyhow::bail!(
            "{} is a sweep's results: it exports as --format csv only (its --session file holds \
             the time series)",
            path.display()
        );
    }
    let file = results::read(path)?;
    let text = csv(&file.points);
    match output {
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => print!("{text}"),
    }
    for p in &file.problems {
        eprintln!("halo-top: {p}");
    }
    Ok(if file.corrupt_lines > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// `sweep.ndjson` → `sweep-report/`.
pub fn default_dir(path: &Path) -> PathBuf {
    let stem = path.file_stem().map_or("sweep".into(), |s| s.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}-report"))
}

/// Writes the report into `dir`; returns the names of the files written.
pub fn write(file: &SweepFile, dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let save = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))
    };
    let plots = plots::draw_all(file, dir)?;
    save("report.md", markdown(file, &plots))?;
    save("points.csv", csv(&file.points))?;
    let mut written = vec!["report.md".to_string(), "points.csv".to_string()];
    written
        .extend(plots.iter().flat_map(|p| [format!("{}.svg", p.stem), format!("{}.png", p.stem)]));
    Ok(written)
}

fn rate(r: &Option<Rate>) -> String {
    match r {
        Some(Rate { mean_tok_s, stddev_tok_s: Some(s), .. }) => format!("{mean_tok_s:.1} ± {s:.1}"),
        Some(r) => format!("{:.1}", r.mean_tok_s),
        None => "n/a".into(),
    }
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.digits$}"))
}

fn mib(bytes: Option<f64>) -> String {
    bytes.map_or("n/a".into(), |b| format!("{:.2}", b / 1_048_576.0))
}

/// The decode rate the Pareto view ranks (`None`: not a candidate).
pub fn decode_tok_s(p: &Point) -> Option<f64> {
    p.decode.as_ref().map(|r| r.mean_tok_s)
}

pub fn prefill_tok_s(p: &Point) -> Option<f64> {
    p.prefill.as_ref().map(|r| r.mean_tok_s)
}

/// Point numbers (1-based, file order) on the Pareto front of `rate`, within each depth.
pub fn front(points: &[Point], rate: fn(&Point) -> Option<f64>) -> Vec<usize> {
    let candidates: Vec<(usize, (u64, f64, f64))> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i + 1, (p.config.depth_tokens, p.kv_cache_bytes?, rate(p)?))))
        .collect();
    let items: Vec<(u64, f64, f64)> = candidates.iter().map(|c| c.1).collect();
    pareto::fronts_by_depth(&items).into_iter().map(|i| candidates[i].0).collect()
}

/// The table of every point, numbered in file order.
pub fn points_table(points: &[Point]) -> String {
    let mut t = String::from(
        "| # | kind | KV k/v | ub | t | np | depth | prefill tok/s | decode tok/s | bytes/step MB \
         | GB/s | % peak | KV MiB | J/tok | peak °C | clock MHz | load | result |\n\
         |--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n",
    );
    for (i, p) in points.iter().enumerate() {
        let c = &p.config;
        let opt = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
        let r = p.roofline.as_ref();
        let tel = p.telemetry.as_ref();
        let clock = tel.and_then(|t| t.gpu_clock_max_mhz.or(t.cpu_clock_max_mhz));
        let result = match &p.failure {
            Some(f) => format!("**{:?}**", f.kind).to_lowercase(),
            None => "ok".into(),
        };
        let np = match (c.parallel, c.speculative) {
            (Some(n), true) => format!("{n} +spec"),
            (n, _) => opt(n),
        };
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            i + 1,
            p.kind.label(),
            c.kv_label(),
            opt(c.n_ubatch),
            opt(c.n_threads),
            np,
            c.depth_tokens,
            rate(&p.prefill),
            rate(&p.decode),
            num(r.map(|r| r.bytes_per_step / 1e6), 2),
            num(r.map(|r| r.achieved_gbps), 2),
            num(r.and_then(|r| r.utilisation_of_peak_percent), 1),
            mib(p.kv_cache_bytes),
            num(p.decode_joules_per_token, 3),
            num(tel.and_then(|t| t.peak_temp_c), 0),
            num(clock, 0),
            num(tel.and_then(|t| t.load_average_max), 1),
            result
        );
    }
    t
}

/// One Pareto table: every candidate, by depth, the front marked `◆`.
pub fn pareto_table(points: &[Point], rate: fn(&Point) -> Option<f64>, what: &str) -> String {
    let on_front = front(points, rate);
    let mut rows: Vec<(u64, usize, &Point)> = points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.kv_cache_bytes.is_some() && rate(p).is_some())
        .map(|(i, p)| (p.config.depth_tokens, i + 1, p))
        .collect();
    if rows.is_empty() {
        return format!(
            "No point has both a KV cache size and a {what} rate (give --model to place imports).\n"
        );
    }
    rows.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.2.kv_cache_bytes.unwrap_or(0.0).total_cmp(&b.2.kv_cache_bytes.unwrap_or(0.0)))
    });
    let mut t = format!(
        "| depth | # | configuration | KV MiB | {what} tok/s | front |\n|--:|--:|---|--:|--:|:-:|\n"
    );
    for (depth, n, p) in rows {
        let _ = writeln!(
            t,
            "| {depth} | {n} | {} | {} | {} | {} |",
            p.config.series_label(p.kind),
            mib(p.kv_cache_bytes),
            num(rate(p), 1),
            if on_front.contains(&n) { "◆" } else { "" }
        );
    }
    t
}

fn markdown(file: &SweepFile, plots: &[plots::Plot]) -> String {
    let h = &file.header;
    let s = &h.sweep;
    let name = super::file_name(&file.path);
    let mut md = format!("# halo-top sweep: {name}\n\n");
    if let Some(model) = &s.model {
        let p = s.model_profile.as_ref();
        let _ = writeln!(
            md,
            "- model `{}`{}: {} weights read per decode step{}",
            super::file_name(Path::new(model)),
            p.and_then(|p| p.architecture.clone()).map(|a| format!(" ({a})")).unwrap_or_default(),
            p.map_or("n/a".into(), |p| format!("{:.1} MB", p.weight_bytes_per_step as f64 / 1e6)),
            s.draft
                .as_deref()
                .map(|d| format!("; draft `{}`", super::file_name(Path::new(d))))
                .unwrap_or_default()
        );
    } else {
        md += "- no model profile: rates only, not placed on the roofline\n";
    }
    if let Some(grid) = &s.grid {
        let _ = writeln!(
            md,
            "- grid `{grid}`, -p {} -n {}, {} repetition(s), {} s limit per point",
            num(s.n_prompt.map(|v| v as f64), 0),
            num(s.n_gen.map(|v| v as f64), 0),
            num(s.repetitions.map(|v| v as f64), 0),
            num(s.timeout_s.map(|v| v as f64), 0)
        );
    }
    if !s.imported_from.is_empty() {
        let _ = writeln!(md, "- imported from {}", s.imported_from.join(", "));
    }
    let _ = writeln!(
        md,
        "- host `{}`, {} ({} logical CPUs), {}",
        h.session.host.as_deref().unwrap_or("n/a"),
        s.cpu_model.as_deref().unwrap_or("CPU n/a"),
        s.logical_cpus.map_or("n/a".into(), |n| n.to_string()),
        s.llama_version.as_deref().unwrap_or("llama.cpp version n/a")
    );
    let _ = writeln!(
        md,
        "- peak bandwidth {} ({}), calibrated {}",
        num(s.peak_gbps, 1).replace("n/a", "unknown") + " GB/s",
        s.peak_source.as_deref().unwrap_or("no source: pass --peak-bw"),
        s.calibrated_read_gbps.map_or("not measured".into(), |c| format!("{c:.1} GB/s"))
    );
    let loads: Vec<f64> =
        file.points.iter().filter_map(|p| p.telemetry.as_ref()?.load_average_max).collect();
    if let Some(max) = loads.iter().copied().reduce(f64::max) {
        let mean = loads.iter().sum::<f64>() / loads.len() as f64;
        let _ = writeln!(
            md,
            "- 1-minute load average during the points: mean of the peaks {mean:.1}, highest {max:.1} \
             (other programs competing for the CPUs lower the rates)"
        );
    }
    let failed = file.points.iter().filter(|p| p.failure.is_some()).count();
    let _ = writeln!(md, "- {} points, {failed} failed\n", file.points.len());

    md += "## Points\n\nRates are means ± sample standard deviations over the repetitions; serving \
           rates are summed over the slots. Bytes per step, GB/s and % of peak place decode on \
           the memory-bandwidth roofline at the mean decode context; KV MiB is the cache the \
           decode context occupies (all slots); J/tok is decode energy per token (n/a without a \
           power sensor); clock is the highest GPU clock, else CPU clock.\n\n";
    md += &points_table(&file.points);
    md += "\n## Pareto: KV cache memory vs decode tok/s\n\nWithin each depth, ◆ marks the \
           configurations no other beats on both (less KV memory, more tokens/s).\n\n";
    md += &pareto_table(&file.points, decode_tok_s, "decode");
    md += "\n## Pareto: KV cache memory vs prefill tok/s\n\n";
    md += &pareto_table(&file.points, prefill_tok_s, "prefill");
    if !plots.is_empty() {
        md += "\n## Plots\n\nEach plot is also written as SVG.\n\n";
        for p in plots {
            let _ = writeln!(md, "### {}\n\n![{}]({}.png)\n", p.title, p.title, p.stem);
        }
    }
    let failures: Vec<(usize, &Point)> = file
        .points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.failure.is_some())
        .map(|(i, p)| (i + 1, p))
        .collect();
    if !failures.is_empty() {
        md += "\n## Failures\n\n";
        for (n, p) in failures {
            if let Some(f) = &p.failure {
                let _ = writeln!(
                    md,
                    "- #{n} `{}`: {:?}: {}",
                    p.key,
                    f.kind,
                    f.message.replace('\n', " ")
                );
            }
        }
    }
    let notes: Vec<String> = file
        .points
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.notes.iter().map(move |n| format!("#{}: {n}", i + 1)))
        .collect();
    if !notes.is_empty() {
        md += "\n## Notes\n\n";
        for n in notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    if !file.problems.is_empty() {
        md += "\n## Problems reading the file\n\n";
        let full = file.path.display().to_string();
        for p in &file.problems {
            let _ = writeln!(md, "- {}", p.replace(&full, &name));
        }
    }
    md
}

/// One row per point, every figure in its own column.
fn csv(points: &[Point]) -> String {
    let mut out = String::from(
        "number,key,kind,type_k,type_v,n_ubatch,n_batch,n_threads,flash_attn,n_gpu_layers,depth_tokens,\
         n_prompt,n_gen,parallel,speculative,prefill_tok_s,prefill_stddev,decode_tok_s,decode_stddev,\
         bytes_per_step,achieved_gbps,utilisation_of_peak_percent,kv_cache_bytes,decode_joules_per_token,\
         peak_temp_c,gpu_clock_max_mhz,cpu_clock_max_mhz,mean_power_w,load_average_max,failure\n",
    );
    let f = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    let u = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    for (i, p) in points.iter().enumerate() {
        let c = &p.config;
        let r = p.roofline.as_ref();
        let t = p.telemetry.as_ref();
        let fields = [
            (i + 1).to_string(),
            format!("\"{}\"", p.key.replace('"', "\"\"")),
            p.kind.label().into(),
            s(&c.type_k),
            s(&c.type_v),
            u(c.n_ubatch),
            u(c.n_batch),
            u(c.n_threads),
            s(&c.flash_attn),
            c.n_gpu_layers.map_or(String::new(), |v| v.to_string()),
            c.depth_tokens.to_string(),
            u(c.n_prompt),
            u(c.n_gen),
            u(c.parallel),
            c.speculative.to_string(),
            f(p.prefill.as_ref().map(|r| r.mean_tok_s)),
            f(p.prefill.as_ref().and_then(|r| r.stddev_tok_s)),
            f(p.decode.as_ref().map(|r| r.mean_tok_s)),
            f(p.decode.as_ref().and_then(|r| r.stddev_tok_s)),
            f(r.map(|r| r.bytes_per_step)),
            f(r.map(|r| r.achieved_gbps)),
            f(r.and_then(|r| r.utilisation_of_peak_percent)),
            f(p.kv_cache_bytes),
            f(p.decode_joules_per_token),
            f(t.and_then(|t| t.peak_temp_c)),
            f(t.and_then(|t| t.gpu_clock_max_mhz)),
            f(t.and_then(|t| t.cpu_clock_max_mhz)),
            f(t.and_then(|t| t.mean_power_w)),
            f(t.and_then(|t| t.load_average_max)),
            p.failure.as_ref().map_or(String::new(), |f| format!("{:?}", f.kind).to_lowercase()),
        ];
        out += &fields.join(",");
        out.push('\n');
    }
    out
}
