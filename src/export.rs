//! `halo-top export FILE --format csv|prom`: a session's followed series (the ones the soak
//! verdict judges and the report plots) for spreadsheets and for Prometheus.
//!
//! - `csv`: one row per snapshot, `t_s,seq,ts_unix_ms` and one column per series; an unknown
//!   value is an empty cell, never 0.
//! - `prom`: OpenMetrics text with a timestamp on every sample, what
//!   `promtool tsdb create-blocks-from openmetrics FILE DIR` backfills: one `# TYPE` per metric
//!   family with all its samples together, timestamps in seconds, `# EOF` at the end. A series
//!   key `temp_c.nvidia0` becomes `halo_top_temp_c{device="nvidia0"}`; limiters become
//!   `halo_top_limiter_engaged_percent{device,limiter}`, 0 where a device reported and the
//!   limiter was not engaged.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::report::load::{self, Loaded};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Prom,
}

pub fn run(path: &Path, format: Format, output: Option<&Path>) -> Result<ExitCode> {
    let loaded = load::load(path)?;
    let host = loaded.header().host.clone().unwrap_or_default();
    let text = match format {
        Format::Csv => csv(&loaded),
        Format::Prom => openmetrics(&loaded, &host),
    };
    match output {
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => {
            std::io::stdout().write_all(text.as_bytes()).context("cannot write to stdout")?;
        }
    }
    for p in &loaded.problems {
        let _ = writeln!(std::io::stderr(), "halo-top: {p}");
    }
    Ok(if loaded.corrupt_lines > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Every series key of the session, in first-seen order.
fn keys(loaded: &Loaded) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut keys = Vec::new();
    for r in &loaded.rows {
        for reading in &r.extract.readings {
            if seen.insert(reading.key.clone()) {
                keys.push(reading.key.clone());
            }
        }
    }
    keys
}

pub fn csv(loaded: &Loaded) -> String {
    let keys = keys(loaded);
    let mut out = String::from("t_s,seq,ts_unix_ms");
    for k in &keys {
        out.push(',');
        out += &csv_field(k);
    }
    out.push('\n');
    for r in &loaded.rows {
        let _ = write!(out, "{:.3},{},{}", r.mono_ms as f64 / 1000.0, r.seq, r.ts_unix_ms);
        for k in &keys {
            out.push(',');
            if let Some(v) = r.extract.value(k) {
                let _ = write!(out, "{v}");
            }
        }
        out.push('\n');
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// `temp_c.nvidia0` → (`halo_top_temp_c`, Some(`nvidia0`)).
fn metric_name(key: &str) -> (String, Option<&str>) {
    let (name, device) = match key.split_once('.') {
        Some((n, d)) => (n, Some(d)),
        None => (key, None),
    };
    let clean: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    (format!("halo_top_{clean}"), device)
}

fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

pub fn openmetrics(loaded: &Loaded, host: &str) -> String {
    // family → (help, labelset → its samples): OpenMetrics wants each family, and each series
    // within it, written together and in time order.
    let mut families: BTreeMap<String, (String, BTreeMap<String, String>)> = BTreeMap::new();
    let host = label_value(host);
    let limiter_family = "halo_top_limiter_engaged_percent";
    let mut limiters_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in &loaded.rows {
        for l in &r.extract.limiters {
            limiters_of.entry(&l.device).or_default().insert(&l.limiter);
        }
    }
    for r in &loaded.rows {
        let ts = r.ts_unix_ms as f64 / 1000.0;
        for reading in &r.extract.readings {
            let Some(v) = reading.value.filter(|v| v.is_finite()) else { continue };
            let (name, device) = metric_name(&reading.key);
            let labels = match device {
                Some(d) => format!("host=\"{host}\",device=\"{}\"", label_value(d)),
                None => format!("host=\"{host}\""),
            };
            let family = families.entry(name.clone()).or_insert_with(|| {
                let help = if reading.unit.is_empty() {
                    reading.label.clone()
                } else {
                    format!("{} ({})", reading.label, reading.unit)
                };
                (help, BTreeMap::new())
            });
            let _ = writeln!(
                family.1.entry(labels.clone()).or_default(),
                "{name}{{{labels}}} {v} {ts:.3}"
            );
        }
        for device in &r.extract.limiter_devices {
            let family = families.entry(limiter_family.to_string()).or_insert_with(|| {
                ("Share of the interval a limiter held the device back (%)".into(), BTreeMap::new())
            });
            for &limiter in limiters_of.get(device.as_str()).into_iter().flatten() {
                let percent: f64 = r
                    .extract
                    .limiters
                    .iter()
                    .filter(|l| &l.device == device && l.limiter == limiter)
                    .map(|l| l.percent)
                    .sum();
                let labels = format!(
                    "host=\"{host}\",device=\"{}\",limiter=\"{}\"",
                    label_value(device),
                    label_value(limiter)
                );
                let _ = writeln!(
                    family.1.entry(labels.clone()).or_default(),
                    "{limiter_family}{{{labels}}} {percent} {ts:.3}"
                );
            }
        }
    }
    let mut out = String::new();
    for (name, (help, series)) in families {
        let _ = writeln!(out, "# HELP {name} {}", help.replace('\n', " "));
        let _ = writeln!(out, "# TYPE {name} gauge");
        for lines in series.values() {
            out += lines;
        }
    }
    out += "# EOF\n";
    out
}
