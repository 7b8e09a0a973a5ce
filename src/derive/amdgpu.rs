//! AMD figures per interval: throttle residency %, package energy, per-process engine busy %,
//! and the CPU temperature with its fallback.

use std::collections::BTreeMap;

use halo_collectors::Snapshot;
use halo_collectors::model::{
    AmdgpuCard, AmdgpuCardDerived, AmdgpuDerived, CpuTempSource, GpuKind, GpuProcess,
    GpuProcessBusy, GpuProcesses,
};

/// The length of one throttle-residency tick. The firmware headers say only that the counters
/// are "incremented on every metrics table update [PM_TIMER cycles]" while the limiter is
/// engaged; the update period is not published. 1 ms is assumed (unverified): a figure above
/// 100 % would mean the ticks are shorter than that. The raw counters stay in the snapshot.
pub const THROTTLE_TICK_NS: f64 = 1_000_000.0;

pub fn derive(previous: Option<&Snapshot>, current: &mut Snapshot) {
    let prev = previous.and_then(|p| p.amdgpu.as_ref().map(|a| (p, a)));
    let mut out = AmdgpuDerived::default();
    if let Some(amd) = &current.amdgpu {
        let wall_s = previous.map(|p| current.mono_ms.saturating_sub(p.mono_ms) as f64 / 1000.0);
        for card in &amd.cards {
            let before = prev.and_then(|(snap, a)| {
                let card = a.cards.iter().find(|c| c.card == card.card)?;
                let derived = snap.derived.amdgpu.cards.iter().find(|d| d.card == card.card);
                Some((card, derived))
            });
            out.cards.push(card_figures(card, before, wall_s));
        }
        if let Some((_, before)) = prev {
            out.processes = process_busy(&before.processes, &amd.processes);
        }
    }
    (out.cpu_temp_c, out.cpu_temp_source) = cpu_temperature(current);
    current.derived.amdgpu = out;
}

fn card_figures(
    card: &AmdgpuCard,
    before: Option<(&AmdgpuCard, Option<&AmdgpuCardDerived>)>,
    wall_s: Option<f64>,
) -> AmdgpuCardDerived {
    let mut out = AmdgpuCardDerived { card: card.card.clone(), ..Default::default() };
    let Some((prev, prev_derived)) = before else { return out };
    let now_metrics = card.metrics.as_ref();
    let prev_metrics = prev.metrics.as_ref();

    let clock = |m: Option<&halo_collectors::model::GpuMetrics>| m?.system_clock_counter_ns;
    if let (Some(now_ns), Some(prev_ns)) = (clock(now_metrics), clock(prev_metrics)) {
        out.metrics_stale = now_ns == prev_ns;
        let dt_ns = now_ns.checked_sub(prev_ns).filter(|dt| *dt > 0);
        out.metrics_interval_s = dt_ns.map(|dt| dt as f64 / 1e9);
        let residency = |m: Option<&halo_collectors::model::GpuMetrics>| m?.throttle_residency;
        if let (Some(dt_ns), Some(now), Some(prev)) =
            (dt_ns, residency(now_metrics), residency(prev_metrics))
        {
            for ((limiter, now), (_, prev)) in now.counters().into_iter().zip(prev.counters()) {
                // A counter that went down was reset (driver reload): no figure this time.
                if let Some(ticks) = now.zip(prev).and_then(|(n, p)| n.checked_sub(p)) {
                    let percent = ticks as f64 * THROTTLE_TICK_NS / dt_ns as f64 * 100.0;
                    out.throttle_percent.insert(limiter.to_string(), percent);
                }
            }
        }
    }

    // Energy: the mean of the two package-power readings over the wall time between snapshots.
    let power_w = |c: &AmdgpuCard| {
        c.metrics
            .as_ref()
            .and_then(|m| m.socket_power_mw)
            .map(|mw| f64::from(mw) / 1000.0)
            .or(c.hwmon.power_w)
    };
    out.energy_interval_j = match (power_w(card), power_w(prev), wall_s) {
        (Some(now), Some(before), Some(dt)) if dt > 0.0 => Some((now + before) / 2.0 * dt),
        _ => None,
    };
    let session_before = prev_derived.and_then(|d| d.energy_session_j);
    out.energy_session_j = match (session_before, out.energy_interval_j) {
        (Some(sum), Some(more)) => Some(sum + more),
        (sum, more) => sum.or(more),
    };
    out
}

/// Engine busy % per process from the fdinfo ns counters. Only clients present in both
/// samples count: a new client's counter says nothing about this interval.
fn process_busy(before: &GpuProcesses, now: &GpuProcesses) -> Vec<GpuProcessBusy> {
    let Some(dt_ns) = now
        .read_mono_ns
        .zip(before.read_mono_ns)
        .and_then(|(n, b)| n.checked_sub(b))
        .filter(|dt| *dt > 0)
    else {
        return Vec::new();
    };
    let same = |a: &GpuProcess, b: &GpuProcess| {
        a.pid == b.pid && a.pci_bdf == b.pci_bdf && a.client_ids == b.client_ids
    };
    now.clients
        .iter()
        .filter(|p| p.engine_time_visible)
        .filter_map(|p| {
            let prev = before.clients.iter().find(|b| same(b, p))?;
            let engines: BTreeMap<String, f64> = p
                .engine_ns
                .keys()
                .chain(prev.engine_ns.keys())
                .filter_map(|engine| {
                    let ns_now = p.engine_ns.get(engine).copied().unwrap_or(0);
                    let ns_before = prev.engine_ns.get(engine).copied().unwrap_or(0);
                    let busy = ns_now.checked_sub(ns_before)?;
                    Some((engine.clone(), busy as f64 / dt_ns as f64 * 100.0))
                })
                .collect();
            Some(GpuProcessBusy { pid: p.pid, card: p.card.clone(), engine_percent: engines })
        })
        .collect()
}

/// k10temp's Tctl when the host has it; otherwise, on an APU, the `gpu_metrics` SoC sensor
/// (k10temp learned Strix Halo only in Aug 2025, so older kernels have no Tctl there).
fn cpu_temperature(s: &Snapshot) -> (Option<f64>, Option<CpuTempSource>) {
    if let Some(tctl) = s.host.as_ref().and_then(|h| h.tctl_c) {
        return (Some(tctl), Some(CpuTempSource::Tctl));
    }
    let soc = s.amdgpu.as_ref().and_then(|a| {
        a.cards
            .iter()
            .filter(|c| c.identity.kind == Some(GpuKind::Apu))
            .find_map(|c| c.metrics.as_ref()?.soc_temp_c)
    });
    match soc {
        Some(t) => (Some(t), Some(CpuTempSource::GpuMetricsSoc)),
        None => (None, None),
    }
}

#[cfg(test)]
mod tests;
