//! The Prometheus exposition of a snapshot, through `prometheus-client`.
//!
//! Every scrape encodes the latest snapshot with a [`Collector`] that writes const metrics: the
//! snapshot already holds every value (counters as their running totals, derived figures as
//! gauges), so nothing is accumulated here. A value that is `None` in the snapshot is left out;
//! it is never written as 0.
//!
//! Names follow the Prometheus conventions: a `halo_` prefix, base units as suffixes
//! (`_bytes`, `_seconds`, `_celsius`, `_watts`, `_hertz`, `_joules`), `_ratio` for shares
//! (0–1, not %), `_total` on counters. Every sample carries `host`; per-device figures add
//! `device`, llama-server figures `server` (and `slot`).
//!
//! Adding a section: a file here with `pub fn encode(s: &Snapshot, m: &mut Metrics)`, one line
//! in [`SECTIONS`], its metrics listed in the README.

mod amdgpu;
mod host;
mod llama;
mod nvidia;
mod roofline;
mod sources;

use std::borrow::Cow;
use std::fmt::{self, Write};
use std::sync::Arc;

use halo_collectors::Snapshot;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

/// One section's metrics.
type Section = fn(&Snapshot, &mut Metrics<'_, '_>) -> fmt::Result;

/// Every section of the snapshot the exporter covers, in output order.
const SECTIONS: &[Section] = &[
    sources::encode,
    host::encode,
    amdgpu::encode,
    nvidia::encode,
    llama::encode,
    roofline::encode,
];

/// The labels of one sample, after `host` (which every sample has).
pub type Labels = Vec<(&'static str, String)>;

/// A value 0–100 as a Prometheus ratio (0–1).
pub fn ratio(percent: f64) -> f64 {
    percent / 100.0
}

/// Writes metric families into the encoder, adding the `host` label to every sample.
pub struct Metrics<'e, 'h> {
    encoder: DescriptorEncoder<'e>,
    host: &'h str,
}

impl Metrics<'_, '_> {
    /// A gauge family; samples whose value is `None` are left out, and a family with no sample
    /// left is not written at all.
    pub fn gauge(
        &mut self,
        name: &str,
        help: &str,
        unit: Option<Unit>,
        samples: impl IntoIterator<Item = (Labels, Option<f64>)>,
    ) -> fmt::Result {
        self.family(name, help, unit, MetricType::Gauge, samples)
    }

    /// A counter family (`_total` is appended to the sample names).
    pub fn counter(
        &mut self,
        name: &str,
        help: &str,
        unit: Option<Unit>,
        samples: impl IntoIterator<Item = (Labels, Option<f64>)>,
    ) -> fmt::Result {
        self.family(name, help, unit, MetricType::Counter, samples)
    }

    /// A gauge of one sample with no labels but `host`.
    pub fn single(
        &mut self,
        name: &str,
        help: &str,
        unit: Option<Unit>,
        value: Option<f64>,
    ) -> fmt::Result {
        self.gauge(name, help, unit, [(Vec::new(), value)])
    }

    fn family(
        &mut self,
        name: &str,
        help: &str,
        unit: Option<Unit>,
        kind: MetricType,
        samples: impl IntoIterator<Item = (Labels, Option<f64>)>,
    ) -> fmt::Result {
        let known: Vec<(Labels, f64)> = samples
            .into_iter()
            .filter_map(|(labels, v)| v.filter(|v| v.is_finite()).map(|v| (labels, v)))
            .collect();
        if known.is_empty() {
            return Ok(());
        }
        let mut family = self.encoder.encode_descriptor(name, help, unit.as_ref(), kind)?;
        for (labels, value) in known {
            let mut set: Vec<(Cow<'_, str>, Cow<'_, str>)> =
                vec![(Cow::Borrowed("host"), Cow::Borrowed(self.host))];
            set.extend(labels.into_iter().map(|(k, v)| (Cow::Borrowed(k), Cow::Owned(v))));
            let mut sample = family.encode_family(&set)?;
            match kind {
                MetricType::Counter => sample.encode_counter::<NoLabelSet, _, f64>(&value, None)?,
                _ => sample.encode_gauge(&value)?,
            }
        }
        Ok(())
    }
}

/// Encodes one snapshot at scrape time.
#[derive(Debug)]
struct SnapshotCollector {
    snapshot: Arc<Snapshot>,
    host: String,
}

impl Collector for SnapshotCollector {
    fn encode(&self, encoder: DescriptorEncoder) -> fmt::Result {
        let mut metrics = Metrics { encoder, host: &self.host };
        for section in SECTIONS {
            section(&self.snapshot, &mut metrics)?;
        }
        Ok(())
    }
}

/// The `host` label of a snapshot: its host name, else `fallback` (the name read at start).
pub fn host_label(snapshot: &Snapshot, fallback: &str) -> String {
    snapshot.host.as_ref().and_then(|h| h.host_name.clone()).unwrap_or_else(|| fallback.to_string())
}

/// The snapshot in the OpenMetrics 1.0 text format (`# EOF` at the end).
pub fn openmetrics(snapshot: Arc<Snapshot>, fallback_host: &str) -> String {
    let host = host_label(&snapshot, fallback_host);
    let mut registry = Registry::default();
    registry.register_collector(Box::new(SnapshotCollector { snapshot, host }));
    let mut text = String::with_capacity(16 * 1024);
    // Writing into a String cannot fail, and our collector only fails when the writer does.
    let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
    text
}

/// The same metrics in the classic Prometheus text format 0.0.4, for clients that do not ask
/// for OpenMetrics (curl, `promtool check metrics`, older scrapers). The two differ only in the
/// metadata: 0.0.4 names a counter family with its `_total` suffix and has no `# UNIT` or
/// `# EOF` lines. Samples are written identically.
pub fn classic_from_openmetrics(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut counters: Vec<&str> = Vec::new();
    // Counter families are known from their TYPE line, which follows HELP: find them first.
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ")
            && let Some(name) = rest.strip_suffix(" counter")
        {
            counters.push(name);
        }
    }
    for line in openmetrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let meta = line.strip_prefix("# HELP ").map(|r| ("# HELP ", r));
        let meta = meta.or_else(|| line.strip_prefix("# TYPE ").map(|r| ("# TYPE ", r)));
        match meta {
            Some((tag, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                let suffix = if counters.contains(&name) { "_total" } else { "" };
                let _ = writeln!(out, "{tag}{name}{suffix} {tail}");
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
