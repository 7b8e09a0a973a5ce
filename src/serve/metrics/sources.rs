//! The snapshot itself and the state of every source.

use std::fmt;

use halo_collectors::Snapshot;
use halo_collectors::model::SourceStatus;
use prometheus_client::registry::Unit;

use super::Metrics;

/// The states a source can be in, as the `state` label of `halo_source_state`.
const STATES: [&str; 4] = ["pending", "ok", "unavailable", "failed"];

fn state_name(status: &SourceStatus) -> &'static str {
    match status {
        SourceStatus::Pending => "pending",
        SourceStatus::Ok => "ok",
        SourceStatus::Unavailable { .. } => "unavailable",
        SourceStatus::Failed { .. } => "failed",
    }
}

pub fn encode(s: &Snapshot, m: &mut Metrics<'_, '_>) -> fmt::Result {
    m.gauge(
        "halo_build_info",
        "The halo-top version serving these metrics (always 1).",
        None,
        [(vec![("version", env!("CARGO_PKG_VERSION").to_string())], Some(1.0))],
    )?;
    m.single(
        "halo_snapshot_timestamp",
        "Wall-clock time of the snapshot these metrics come from (Unix time).",
        Some(Unit::Seconds),
        Some(s.ts_unix_ms as f64 / 1000.0),
    )?;
    m.single(
        "halo_snapshot_interval",
        "Time between snapshots.",
        Some(Unit::Seconds),
        Some(s.interval_ms as f64 / 1000.0),
    )?;
    m.counter(
        "halo_snapshots",
        "Snapshots taken since halo-top started (seq + 1).",
        None,
        [(Vec::new(), Some(s.seq as f64 + 1.0))],
    )?;
    // A state set: one sample per state, 1 for the current one.
    m.gauge(
        "halo_source_state",
        "1 for the state each source is in (pending, ok, unavailable, failed), else 0.",
        None,
        s.sources.iter().flat_map(|src| {
            let now = state_name(&src.status);
            STATES.iter().map(move |state| {
                let labels = vec![("source", src.name.clone()), ("state", state.to_string())];
                (labels, Some(if *state == now { 1.0 } else { 0.0 }))
            })
        }),
    )?;
    m.counter(
        "halo_source_samples",
        "Samples a source has completed, successful or not.",
        None,
        s.sources.iter().map(|src| (vec![("source", src.name.clone())], Some(src.samples as f64))),
    )?;
    m.gauge(
        "halo_source_last_sample_duration",
        "How long a source's last sample took.",
        Some(Unit::Seconds),
        s.sources.iter().map(|src| {
            (vec![("source", src.name.clone())], src.last_sample_ms.map(|ms| ms / 1000.0))
        }),
    )?;
    m.gauge(
        "halo_source_reading_age",
        "Age of a source's reading at the time of the snapshot.",
        Some(Unit::Seconds),
        s.sources.iter().map(|src| {
            (vec![("source", src.name.clone())], src.age_ms.map(|ms| ms as f64 / 1000.0))
        }),
    )
}
