//! Memory: the APU's unified-memory budget (carve-out, GTT used of what can be allocated, the
//! host's own use, what is available, the serving process's share), NVIDIA VRAM, and how full
//! each llama-server slot's KV cache is.

use halo_collectors::Snapshot;
use halo_collectors::model::{AmdgpuCard, UnifiedMemory};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::format;
use crate::pane::{PaneContext, named_problem, no_data};
use crate::theme::Theme;

/// The budget bar's parts: (symbol, what), in the order drawn.
const PARTS: [(char, &str); 4] =
    [('█', "GTT"), ('▓', "host"), ('▒', "carve-out"), ('░', "available")];

pub fn render(ctx: &PaneContext, area: Rect, buf: &mut Buffer) {
    let s = ctx.snapshot;
    let theme = ctx.theme;
    let width = area.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    let apu =
        s.amdgpu.iter().flat_map(|a| &a.cards).find_map(|c| Some((c, c.unified_memory.as_ref()?)));
    match apu {
        Some((card, unified)) => lines.extend(unified_lines(card, unified, width, theme)),
        None => lines.extend(host_lines(s, width, theme)),
    }
    for card in s.amdgpu.iter().flat_map(|a| &a.cards).filter(|c| c.unified_memory.is_none()) {
        let name = card
            .identity
            .marketing_name
            .as_deref()
            .map_or_else(|| card.card.clone(), format::short_gpu_name);
        lines.push(gauge_line(
            &name,
            card.memory.vram_used_bytes,
            card.memory.vram_total_bytes,
            width,
            theme,
        ));
    }
    for device in s.nvidia.iter().flat_map(|n| &n.devices) {
        let name = device
            .name
            .as_deref()
            .map_or_else(|| format!("NVIDIA #{}", device.index), format::short_gpu_name);
        if device.runtime_status.as_deref() == Some("suspended") {
            lines.push(Line::from(format!("{name} asleep (not read: it would wake)")));
            continue;
        }
        lines.push(gauge_line(
            &name,
            device.vram_used_bytes,
            device.vram_total_bytes,
            width,
            theme,
        ));
    }
    lines.extend(kv_lines(s, width, theme));
    if lines.is_empty() {
        let why: Vec<String> =
            ["host", "amdgpu", "nvidia"].iter().filter_map(|n| named_problem(s, n)).collect();
        no_data(&why.join("; "), area, buf, theme.dim());
        return;
    }
    for (line, y) in lines.into_iter().zip(area.top()..area.bottom()) {
        line.render(Rect { y, height: 1, ..area }, buf);
    }
}

fn unified_lines<'a>(
    card: &AmdgpuCard,
    u: &UnifiedMemory,
    width: usize,
    theme: Theme,
) -> Vec<Line<'a>> {
    let name = card
        .identity
        .marketing_name
        .as_deref()
        .map_or_else(|| card.card.clone(), format::short_gpu_name);
    let mut lines = vec![Line::from(format!("unified {} · {name}", format::bytes(u.pool_bytes)))];
    let amounts = [
        u.gtt_used_bytes,
        u.host_used_excluding_gtt_bytes,
        u.carve_out_bytes,
        u.host_available_bytes,
    ];
    if let Some(pool) = u.pool_bytes.filter(|p| *p > 0) {
        let cells = width.saturating_sub(2);
        let mut bar = String::new();
        let mut drawn = 0usize;
        let mut so_far = 0u64;
        for ((symbol, _), amount) in PARTS.iter().zip(amounts) {
            so_far += amount.unwrap_or(0);
            let until = ((so_far as f64 / pool as f64) * cells as f64).round() as usize;
            let until = until.min(cells);
            bar.extend(std::iter::repeat_n(*symbol, until.saturating_sub(drawn)));
            drawn = drawn.max(until);
        }
        bar.extend(std::iter::repeat_n(' ', cells - drawn));
        let gtt_share = u.gtt_used_bytes.map(|g| g as f64 / pool as f64 * 100.0);
        lines.push(Line::from(vec![
            Span::raw("▕"),
            Span::styled(bar, theme.utilisation(gtt_share)),
            Span::raw("▏"),
        ]));
    }
    let allocatable = if width >= 40 { " allocatable" } else { "" };
    lines.push(Line::from(format!(
        "█ GTT {} of {}{allocatable}",
        format::bytes(u.gtt_used_bytes),
        format::bytes(u.gtt_allocatable_bytes)
    )));
    lines.push(Line::from(format!(
        "▓ host {}  ░ available {}",
        format::bytes(u.host_used_excluding_gtt_bytes),
        format::bytes(u.host_available_bytes)
    )));
    lines.push(Line::from(format!(
        "▒ carve-out {} ({} used)",
        format::bytes(u.carve_out_bytes),
        format::bytes(u.carve_out_used_bytes)
    )));
    if let Some(p) = &u.largest_process {
        lines.push(Line::from(format!(
            "{} {} ({} of pool)",
            p.name,
            format::bytes(Some(p.gpu_memory_bytes)),
            format::percent(p.pool_percent)
        )));
    }
    lines
}

/// Without an APU: the host's RAM.
fn host_lines<'a>(s: &Snapshot, width: usize, theme: Theme) -> Vec<Line<'a>> {
    let Some(host) = &s.host else { return Vec::new() };
    let m = &host.memory;
    vec![
        gauge_line("RAM", m.used_bytes, m.total_bytes, width, theme),
        Line::from(format!("available {}", format::bytes(m.available_bytes))),
    ]
}

/// `name ▕████   ▏ used/total`
fn gauge_line<'a>(
    name: &str,
    used: Option<u64>,
    total: Option<u64>,
    width: usize,
    theme: Theme,
) -> Line<'a> {
    let share = used.zip(total).filter(|(_, t)| *t > 0).map(|(u, t)| u as f64 / t as f64);
    let figures = format!(" {}/{}", format::bytes(used), format::bytes(total));
    let name: String = name.chars().take(width / 3).collect();
    let cells = width.saturating_sub(name.chars().count() + figures.chars().count() + 3);
    Line::from(vec![
        Span::raw(format!("{name} ▕")),
        Span::styled(
            format::bar(share.unwrap_or(0.0), cells),
            theme.utilisation(share.map(|s| s * 100.0)),
        ),
        Span::raw(format!("▏{figures}")),
    ])
}

/// One line per slot: tokens of context in use of the slot's `n_ctx`.
fn kv_lines<'a>(s: &Snapshot, width: usize, theme: Theme) -> Vec<Line<'a>> {
    let several = s.llama.len() > 1;
    let mut lines = Vec::new();
    for server in &s.llama {
        let Some(slots) = &server.slots else { continue };
        if lines.is_empty() {
            lines.push(Line::styled("KV cache per slot, tokens", Style::default()));
        }
        for slot in slots {
            let prefix = if several {
                format!("{} #{}", server.url.trim_start_matches("http://"), slot.id)
            } else {
                format!("slot {}", slot.id)
            };
            // An idle slot's numbers describe its last request, not what it holds now.
            let used = slot.sequence_tokens.filter(|_| slot.is_processing);
            let share =
                used.zip(slot.n_ctx).filter(|(_, c)| *c > 0).map(|(u, c)| u as f64 / c as f64);
            let figures = match used {
                Some(_) => format!(" {}/{}", format::tokens(used), format::tokens(slot.n_ctx)),
                None => format!(" idle of {}", format::tokens(slot.n_ctx)),
            };
            let cells = width.saturating_sub(prefix.chars().count() + figures.chars().count() + 3);
            lines.push(Line::from(vec![
                Span::raw(format!("{prefix} ▕")),
                Span::styled(
                    format::bar(share.unwrap_or(0.0), cells),
                    theme.utilisation(share.map(|s| s * 100.0)),
                ),
                Span::raw(format!("▏{figures}")),
            ]));
        }
    }
    lines
}
