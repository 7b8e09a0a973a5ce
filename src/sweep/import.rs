//! llama-bench records grouped into points: a `pp` and a `tg` test of the same configuration
//! (same model, KV types, batch sizes, threads, depth...) make one point with a prefill and a
//! decode rate, the way a sweep's own bench points look (`sweep --import`).

use std::collections::BTreeMap;

use std::path::Path;

use anyhow::{Context, Result};
use halo_collectors::model::ModelProfile;

use super::bench_output::{self, BenchRecord, Format};
use super::point::{Config, Imported, Point, PointKind, Rate};
use super::results::SweepInfo;
use super::{SweepArgs, file_name, grid, header, open_output, place};
use crate::cli::Global;
use crate::model_report;

/// llama-bench's JSON and CSV write `flash_attn` as 1/0/-1, its markdown the same number.
fn flash_attn_name(value: &str) -> String {
    match value {
        "1" | "true" => "on".into(),
        "0" | "false" => "off".into(),
        "-1" => "auto".into(),
        other => other.to_string(),
    }
}

pub fn config_of(r: &BenchRecord) -> Config {
    Config {
        type_k: r.type_k.clone(),
        type_v: r.type_v.clone(),
        n_ubatch: r.n_ubatch,
        n_batch: r.n_batch,
        n_threads: r.n_threads,
        flash_attn: r.flash_attn.as_deref().map(flash_attn_name),
        n_gpu_layers: r.n_gpu_layers,
        depth_tokens: r.n_depth,
        n_prompt: None,
        n_gen: None,
        parallel: None,
        speculative: false,
        model: r.model_type.clone().or_else(|| r.model_filename.clone()),
    }
}

fn rate(r: &BenchRecord) -> Rate {
    // One repetition has no spread: llama-bench writes 0 for it, which is not a measurement.
    let stddev = r.stddev_ts.filter(|_| r.samples_ts.len() != 1);
    Rate { mean_tok_s: r.avg_ts, stddev_tok_s: stddev, samples_tok_s: r.samples_ts.clone() }
}

fn format_name(format: Option<Format>) -> String {
    match format {
        Some(Format::Json) => "json",
        Some(Format::Jsonl) => "jsonl",
        Some(Format::Csv) => "csv",
        Some(Format::Markdown) => "md",
        None => "?",
    }
    .into()
}

/// Points from the records of one file (`file_name`: its name, for the points' origin).
pub fn points(records: &[BenchRecord], file_name: &str, format: Option<Format>) -> Vec<Point> {
    // Group by everything that is not the test itself; BTreeMap keeps the file's order stable.
    let mut groups: BTreeMap<String, (usize, Vec<&BenchRecord>)> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        let mut config = config_of(r);
        config.model = r.model_type.clone();
        let identity = format!(
            "{} {:?} {:?} {:?} {:?}",
            grid::key(PointKind::Imported, &config),
            r.model_filename,
            r.model_size_bytes,
            r.backends,
            r.other.iter().filter(|(k, _)| !is_per_run(k)).collect::<Vec<_>>()
        );
        groups.entry(identity).or_insert((i, Vec::new())).1.push(r);
    }
    let mut ordered: Vec<(usize, Vec<&BenchRecord>)> = groups.into_values().collect();
    ordered.sort_by_key(|(first, _)| *first);

    let mut points = Vec::new();
    for (_, group) in ordered {
        // The i-th pp test pairs with the i-th tg test; combined pp+tg tests stand alone.
        let pp: Vec<&&BenchRecord> = group.iter().filter(|r| r.is_prefill()).collect();
        let tg: Vec<&&BenchRecord> = group.iter().filter(|r| r.is_decode()).collect();
        for i in 0..pp.len().max(tg.len()) {
            let (p, t) = (pp.get(i).copied(), tg.get(i).copied());
            let first = p.or(t);
            let Some(first) = first else { continue };
            let mut config = config_of(first);
            config.n_prompt = p.map(|r| r.n_prompt);
            config.n_gen = t.map(|r| r.n_gen);
            let members: Vec<&BenchRecord> = [p, t].into_iter().flatten().map(|r| &**r).collect();
            let mut point = Point::new(String::new(), PointKind::Imported, config);
            point.prefill = p.map(|r| rate(r));
            point.decode = t.map(|r| rate(r));
            point.imported = Some(origin(&members, file_name, format));
            points.push(point);
        }
        for r in group.iter().filter(|r| !r.is_prefill() && !r.is_decode()) {
            let mut config = config_of(r);
            config.n_prompt = Some(r.n_prompt);
            config.n_gen = Some(r.n_gen);
            let mut point = Point::new(String::new(), PointKind::Imported, config);
            point.combined = Some(rate(r));
            point.imported = Some(origin(&[r], file_name, format));
            point.notes.push(format!(
                "{}: a combined prompt+generation test, not placed on the roofline",
                r.test_name()
            ));
            points.push(point);
        }
    }
    for p in &mut points {
        let lines = p.imported.as_ref().map(|i| i.lines.clone()).unwrap_or_default();
        p.key =
            format!("import {file_name}:{lines:?} {}", grid::key(PointKind::Imported, &p.config));
    }
    points
}

/// Columns that differ between runs of the same configuration.
fn is_per_run(column: &str) -> bool {
    matches!(column, "test_time" | "avg_ns" | "stddev_ns")
}

fn origin(records: &[&BenchRecord], file_name: &str, format: Option<Format>) -> Imported {
    let first = records[0];
    let mut other = first.other.clone();
    other.retain(|k, _| !is_per_run(k));
    Imported {
        file: file_name.to_string(),
        lines: records.iter().map(|r| r.line).collect(),
        format: format_name(format),
        model_filename: first.model_filename.clone(),
        model_size_bytes: first.model_size_bytes,
        backends: first.backends.clone(),
        build_commit: first.build_commit.clone(),
        test_time: first.test_time.clone(),
        other,
    }
}

/// `--import`: llama-bench outputs → points (placed on the roofline with `--model`) → `output`.
pub fn import_files(global: &Global, args: &SweepArgs, output: &Path) -> Result<()> {
    let profile = match &global.roofline.model {
        Some(m) => Some(
            halo_collectors::gguf::profile_file(m).context("cannot profile the model")?.profile,
        ),
        None => None,
    };
    let bandwidth = model_report::bandwidth(global)?;
    let info = SweepInfo {
        model: global.roofline.model.as_ref().map(|m| m.display().to_string()),
        model_profile: profile.clone(),
        peak_gbps: bandwidth.peak_gbps,
        peak_source: bandwidth.peak_source.clone(),
        calibrated_read_gbps: bandwidth.calibrated_read_gbps,
        imported_from: args.import.iter().map(|p| file_name(p)).collect(),
        ..SweepInfo::default()
    };
    let name = |m: &Option<String>| m.as_deref().map(|m| file_name(Path::new(m)));
    let (mut writer, existing) = open_output(output, &header(global, info.clone()), |f| {
        if name(&f.header.sweep.model) != name(&info.model) {
            anyhow::bail!(
                "{} holds points placed for another model ({:?}): give another -o",
                output.display(),
                f.header.sweep.model.as_deref().unwrap_or("none")
            );
        }
        Ok(())
    })?;
    let have: Vec<String> =
        existing.iter().flat_map(|f| f.points.iter().map(|p| p.key.clone())).collect();
    let mut added = 0;
    for path in &args.import {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let parsed = bench_output::parse(&text).with_context(|| format!("{}", path.display()))?;
        for problem in &parsed.problems {
            eprintln!("halo-top: {}: {problem}", path.display());
        }
        let mut points = points(&parsed.records, &file_name(path), parsed.format);
        for point in &mut points {
            if have.contains(&point.key) {
                continue;
            }
            let on = match (global.roofline.model.as_deref(), profile.as_ref()) {
                (Some(model), Some(profile)) if same_model(point, model, profile) => Some(profile),
                _ => None,
            };
            place::place(point, on, &bandwidth, 1.0);
            writer.write_point(point)?;
            added += 1;
        }
        eprintln!(
            "halo-top: {}: {} llama-bench results → {} points",
            path.display(),
            parsed.records.len(),
            points.len()
        );
    }
    eprintln!("halo-top: {added} points added to {}", output.display());
    if profile.is_none() {
        eprintln!("halo-top: no --model given: rates only, not placed on the roofline");
    }
    Ok(())
}

/// Whether an imported point was measured on `model` (its file name, else its size within
/// llama-bench's rounding), so that it is placed on that model's roofline and no other.
pub fn same_model(point: &mut Point, model: &Path, profile: &ModelProfile) -> bool {
    let Some(origin) = &point.imported else { return false };
    if let Some(name) = &origin.model_filename
        && file_name(Path::new(name)) == file_name(model)
    {
        return true;
    }
    let described = point.config.model.clone().unwrap_or_else(|| "a model".into());
    match origin.model_size_bytes {
        // The markdown table rounds sizes to two decimals of MiB or GiB.
        Some(size)
            if (size as f64 - profile.weight_bytes as f64).abs()
                <= profile.weight_bytes as f64 * 0.005 =>
        {
            true
        }
        Some(size) => {
            point.notes.push(format!(
                "measured on {described} of {:.2} MiB, not on {} ({:.2} MiB): not placed on its roofline",
                size as f64 / 1_048_576.0,
                file_name(model),
                profile.weight_bytes as f64 / 1_048_576.0
            ));
            false
        }
        None => {
            point.notes.push(format!(
                "the file does not name the model: taken to be {}",
                file_name(model)
            ));
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(p: u64, n: u64, depth: u64, ctk: Option<&str>, ts: f64, line: usize) -> BenchRecord {
        BenchRecord {
            n_prompt: p,
            n_gen: n,
            n_depth: depth,
            avg_ts: ts,
            stddev_ts: Some(1.0),
            samples_ts: vec![ts - 1.0, ts + 1.0],
            type_k: ctk.map(str::to_string),
            model_type: Some("llama ?B F16".into()),
            flash_attn: Some("-1".into()),
            line,
            ..BenchRecord::default()
        }
    }

    #[test]
    fn pp_and_tg_of_one_configuration_make_one_point() {
        let records = [
            record(512, 0, 0, Some("f16"), 1000.0, 2),
            record(0, 128, 0, Some("f16"), 100.0, 3),
            record(512, 0, 0, Some("q8_0"), 900.0, 4),
            record(0, 128, 0, Some("q8_0"), 110.0, 5),
            record(512, 0, 4096, Some("q8_0"), 800.0, 6),
            record(512, 128, 0, None, 300.0, 7),
        ];
        let points = points(&records, "old.md", Some(Format::Markdown));
        assert_eq!(points.len(), 4);
        let p = &points[0];
        assert_eq!((p.config.n_prompt, p.config.n_gen), (Some(512), Some(128)));
        assert_eq!(p.prefill.as_ref().unwrap().mean_tok_s, 1000.0);
        assert_eq!(p.decode.as_ref().unwrap().mean_tok_s, 100.0);
        assert_eq!(p.config.flash_attn.as_deref(), Some("auto"));
        assert_eq!(p.imported.as_ref().unwrap().lines, [2, 3]);
        assert_eq!(points[1].config.type_k.as_deref(), Some("q8_0"));
        let deep = &points[2];
        assert_eq!((deep.config.depth_tokens, deep.decode.is_none()), (4096, true));
        assert_eq!(points[3].combined.as_ref().unwrap().mean_tok_s, 300.0);
        let mut keys: Vec<&str> = points.iter().map(|p| p.key.as_str()).collect();
        keys.dedup();
        assert_eq!(keys.len(), 4);
    }
}
