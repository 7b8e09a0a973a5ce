//! The devices pane: every GPU side by side (busy %, memory, clocks, power, temperature,
//! performance state and what throttles it), one row each.

use halo_collectors::Snapshot;
use halo_collectors::model::{AmdgpuCard, AmdgpuCardDerived, NvidiaDevice, SourceStatus};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Row, Table, Widget};

use crate::format;
use crate::pane::{PaneContext, no_data};

/// GPU sources, in the order the pane lists them.
const GPU_SOURCES: [&str; 2] = ["amdgpu", "nvidia"];

/// Rows this pane needs to show everything (its header included, borders not).
pub fn wanted_height(snapshot: &Snapshot) -> u16 {
    rows(snapshot).len() as u16 + 1
}

struct DeviceRow {
    name: String,
    busy_percent: Option<f64>,
    memory_used_bytes: Option<u64>,
    memory_total_bytes: Option<u64>,
    clock_mhz: Option<u32>,
    clock_max_mhz: Option<u32>,
    power_w: Option<f64>,
    power_limit_w: Option<f64>,
    temp_c: Option<f64>,
    state: String,
}

fn nvidia_row(d: &NvidiaDevice) -> DeviceRow {
    let mut state = d.performance_state.clone().unwrap_or_default();
    if d.runtime_status.as_deref() == Some("suspended") {
        state = "asleep".into();
    }
    if let Some(reasons) = &d.throttle_reasons {
        let active: Vec<&str> =
            reasons.iter().map(String::as_str).filter(|r| *r != "gpu_idle").collect();
        if !active.is_empty() {
            state = format!("{state} {}", active.join(","));
        }
    }
    DeviceRow {
        name: d
            .name
            .as_deref()
            .map_or_else(|| format!("NVIDIA #{}", d.index), format::short_gpu_name),
        busy_percent: d.gpu_busy_percent,
        memory_used_bytes: d.vram_used_bytes,
        memory_total_bytes: d.vram_total_bytes,
        clock_mhz: d.sm_clock_mhz,
        clock_max_mhz: d.sm_clock_max_mhz,
        power_w: d.power_w,
        power_limit_w: d.power_limit_w,
        temp_c: d.temp_c,
        state,
    }
}

/// An AMD card. On an APU the GPU's memory is GTT in system RAM, so the memory column is GTT
/// used of what the GPU may allocate; on a dGPU it is VRAM. Busy %, clock, power and edge
/// temperature prefer `gpu_metrics` (the SMU's own averages) over the sysfs text files.
fn amdgpu_row(card: &AmdgpuCard, derived: Option<&AmdgpuCardDerived>) -> DeviceRow {
    let m = card.metrics.as_ref();
    let apu = card.unified_memory.is_some();
    let (used, total) = if apu {
        (card.memory.gtt_used_bytes, card.memory.gtt_allocatable_bytes)
    } else {
        (card.memory.vram_used_bytes, card.memory.vram_total_bytes)
    };
    let socket_w = m.and_then(|m| m.socket_power_mw).map(|mw| f64::from(mw) / 1000.0);
    let mut state = if card.asleep {
        "asleep".to_string()
    } else {
        card.performance_level.clone().unwrap_or_default()
    };
    if let Some(d) = derived {
        let engaged: Vec<&str> = d
            .throttle_percent
            .iter()
            .filter(|(_, pct)| **pct > 0.0)
            .map(|(name, _)| name.as_str())
            .collect();
        if !engaged.is_empty() {
            state = format!("{state} {}", engaged.join(","));
        }
    }
    DeviceRow {
        name: card
            .identity
            .marketing_name
            .as_deref()
            .map_or_else(|| format!("AMD {}", card.card), format::short_gpu_name),
        busy_percent: m.and_then(|m| m.gfx_activity_percent).or(card.gpu_busy_percent),
        memory_used_bytes: used,
        memory_total_bytes: total,
        clock_mhz: m.and_then(|m| m.gfxclk_mhz).map(u32::from).or(card
            .clocks
            .sclk
            .as_ref()
            .and_then(|c| c.current_mhz)),
        clock_max_mhz: card.clocks.sclk.as_ref().and_then(|c| c.max_mhz),
        power_w: socket_w.or(card.hwmon.power_w),
        power_limit_w: None,
        temp_c: m.and_then(|m| m.edge_temp_c).or(card.hwmon.edge_temp_c),
        state,
    }
}

fn rows(s: &Snapshot) -> Vec<DeviceRow> {
    let amd = s.amdgpu.iter().flat_map(|a| &a.cards).map(|card| {
        let derived = s.derived.amdgpu.cards.iter().find(|d| d.card == card.card);
        amdgpu_row(card, derived)
    });
    amd.chain(s.nvidia.iter().flat_map(|n| n.devices.iter().map(nvidia_row))).collect()
}

/// `now/max unit`, `now unit`, or `n/a` when neither is known.
fn pair<T: Copy>(
    now: Option<T>,
    max: Option<T>,
    unit: &str,
    show: impl Fn(Option<T>) -> String,
) -> String {
    match (now, max) {
        (None, None) => format::NA.to_string(),
        (_, None) => format!("{}{unit}", show(now)),
        _ => format!("{}/{}{unit}", show(now), show(max)),
    }
}

pub fn render(ctx: &PaneContext, area: Rect, buf: &mut Buffer) {
    let snapshot = ctx.snapshot;
    let rows = rows(snapshot);
    if rows.is_empty() {
        let why: Vec<String> = GPU_SOURCES
            .iter()
            .filter_map(|name| {
                let status = &snapshot.source(name)?.status;
                Some(match status {
                    SourceStatus::Unavailable { reason } => format!("{name}: {reason}"),
                    SourceStatus::Failed { error } => format!("{name} failed: {error}"),
                    SourceStatus::Pending => format!("{name}: waiting for the first reading"),
                    SourceStatus::Ok => format!("{name}: no devices"),
                })
            })
            .collect();
        let text = if why.is_empty() { "no GPU sources".to_string() } else { why.join("; ") };
        no_data(&text, area, buf, ctx.theme.dim());
        return;
    }
    let theme = ctx.theme;
    let table_rows = rows.iter().map(|r| {
        let mhz = |v: Option<u32>| v.map_or_else(|| format::NA.to_string(), |m| m.to_string());
        let watts =
            |v: Option<f64>| v.map_or_else(|| format::NA.to_string(), |w| format!("{w:.0}"));
        Row::new([
            r.name.clone(),
            format::percent(r.busy_percent),
            pair(r.memory_used_bytes, r.memory_total_bytes, "", format::bytes),
            pair(r.clock_mhz, r.clock_max_mhz, " MHz", mhz),
            pair(r.power_w, r.power_limit_w, " W", watts),
            format::celsius(r.temp_c),
            r.state.clone(),
        ])
        .style(theme.utilisation(r.busy_percent))
    });
    // Names as wide as the longest (within reason); what is left goes to the state.
    let name_width = rows.iter().map(|r| r.name.chars().count()).max().unwrap_or(6).clamp(6, 20);
    let widths = [
        Constraint::Length(name_width as u16),
        Constraint::Length(6),
        Constraint::Length(16),
        Constraint::Length(13),
        Constraint::Length(9),
        Constraint::Length(7),
        Constraint::Fill(1),
    ];
    Table::new(table_rows, widths)
        .header(
            Row::new(["DEVICE", "BUSY", "MEMORY", "CLOCK", "POWER", "TEMP", "STATE"])
                .style(theme.title()),
        )
        .render(area, buf);
}
