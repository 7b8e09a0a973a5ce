//! Thermal drift: temperatures, power and the GFX clock over the session, the limiters that
//! engaged (marked on the time axis), and how far decode tok/s has drifted from the first
//! minute (`r` starts a new baseline).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::chart::{Scale, Strip, TimeChart};
use crate::drift::Drift;
use crate::format;
use crate::limiters::{self, LimiterSet};
use crate::pane::{PaneContext, named_problem, no_data};
use crate::series::{Series, TimeWindow, bin_index};
use crate::theme::{Level, marker_symbol};

pub fn render(ctx: &PaneContext, area: Rect, buf: &mut Buffer) {
    let h = ctx.history;
    let theme = ctx.theme;
    let temps: Vec<(&str, &Series)> = [
        ("edge", &h.amd_edge_c),
        ("SoC", &h.amd_soc_c),
        ("Tctl", &h.tctl_c),
        ("NVIDIA", &h.nvidia_temp_c),
    ]
    .into_iter()
    .filter(|(_, s)| s.max(ctx.window).is_some())
    .collect();
    let powers: Vec<(&str, &Series)> =
        [("package", &h.package_power_w), ("NVIDIA", &h.nvidia_power_w)]
            .into_iter()
            .filter(|(_, s)| s.max(ctx.window).is_some())
            .collect();
    if temps.is_empty() && powers.is_empty() {
        let why: Vec<String> = ["amdgpu", "nvidia"]
            .iter()
            .filter_map(|name| named_problem(ctx.snapshot, name))
            .chain(std::iter::once("host: no Tctl (k10temp)".to_string()))
            .collect();
        no_data(
            &format!("no temperature or power readings: {}", why.join("; ")),
            area,
            buf,
            theme.dim(),
        );
        return;
    }

    let mut now: Vec<Span> = Vec::new();
    for (i, (name, series)) in temps.iter().enumerate() {
        let (style, marker) = theme.trace(i);
        let value = series.latest();
        now.push(Span::styled(format!("{} ", marker_symbol(marker)), style));
        now.push(Span::raw(format!("{name} ")));
        now.push(Span::styled(format::celsius(value), theme.temperature(value)));
        now.push(Span::raw("  "));
    }
    let mut power_line: Vec<Span> = powers
        .iter()
        .map(|(name, s)| Span::raw(format!("{name} {}  ", format::with_unit(s.latest(), "W"))))
        .collect();
    if let Some(mhz) = h.gfx_clock_mhz.latest() {
        power_line.push(Span::raw(format!("gfx {}", format::mhz(Some(mhz)))));
    }
    let mut lines = vec![Line::from(now), Line::from(power_line), drift_line(ctx)];
    let present = engaged_in_window(&h.limiters, ctx.window);
    lines.push(limiter_legend(ctx, present));

    let text_height = (lines.len() as u16).min(area.height);
    let [text, chart_area] =
        Layout::vertical([Constraint::Length(text_height), Constraint::Fill(1)]).areas(area);
    for (line, y) in lines.into_iter().zip(text.top()..text.bottom()) {
        line.render(Rect { y, height: 1, ..text }, buf);
    }
    let mut chart = TimeChart::new(ctx.window, Scale::Fit, theme.dim());
    for (i, (_, series)) in temps.iter().enumerate() {
        chart = chart.trace(series, theme.trace(i));
    }
    if let Some((_, series)) = powers.first() {
        chart = chart.strip(Strip::levels("power", series, ctx.window, theme.dim()));
    }
    if h.gfx_clock_mhz.max(ctx.window).is_some() {
        chart = chart.strip(Strip::levels("clock", &h.gfx_clock_mhz, ctx.window, theme.dim()));
    }
    chart = chart.strip(limiter_strip(&h.limiters, ctx.window, theme.level(Level::Critical)));
    chart.render(chart_area, buf);
}

fn drift_line<'a>(ctx: &PaneContext) -> Line<'a> {
    let h = ctx.history;
    let text = match h.drift.drift(&h.decode_tok_s_total, ctx.snapshot.mono_ms) {
        Drift::NoDecode => "decode drift: no decoding yet".to_string(),
        Drift::Forming { have_ms, need_ms } => format!(
            "decode drift: baseline {}/{}",
            format::span_ms(have_ms),
            format::span_ms(need_ms)
        ),
        Drift::Known { baseline_tok_s, recent_tok_s: None, .. } => format!(
            "decode drift n/a: idle in the last {} (baseline {} tok/s)",
            format::span_ms(h.drift.settings.recent_ms),
            format::sig3(baseline_tok_s)
        ),
        Drift::Known { baseline_tok_s, recent_tok_s: Some(recent), percent } => format!(
            "decode drift {:+.1}% ({} → {} tok/s)",
            percent.unwrap_or(0.0),
            format::sig3(baseline_tok_s),
            format::sig3(recent)
        ),
    };
    Line::from(vec![Span::raw(text), Span::styled(" (r resets)", ctx.theme.dim())])
}

/// Which limiters engaged in the window, and what they mean.
fn limiter_legend<'a>(ctx: &PaneContext, present: Option<LimiterSet>) -> Line<'a> {
    let mut spans = vec![Span::raw("limits ")];
    match present {
        None => spans.push(Span::styled("n/a: no throttle figures", ctx.theme.dim())),
        Some(0) => spans.push(Span::raw("none engaged")),
        Some(set) => {
            for limiter in limiters::members(set) {
                spans.push(Span::styled(
                    limiter.letter.to_string(),
                    ctx.theme.level(Level::Critical),
                ));
                spans.push(Span::raw(format!(" {}  ", limiter.what)));
            }
        }
    }
    Line::from(spans)
}

/// The union of the limiters engaged in the window; `None` when no snapshot in it could tell.
fn engaged_in_window(series: &Series, window: TimeWindow) -> Option<LimiterSet> {
    series.in_window(window).filter_map(|p| p.1).map(|v| v as LimiterSet).reduce(|a, b| a | b)
}

/// One column per slice of time: the letter of the first limiter engaged in it, `·` when none
/// was, blank when nothing could tell. Columns no sample fell in repeat the one before.
fn limiter_strip<'a>(series: &'a Series, window: TimeWindow, style: Style) -> Strip<'a> {
    let cells = move |columns: usize| {
        // Outer `None`: no sample in the column; inner `None`: samples that could not tell.
        let mut sets: Vec<Option<Option<LimiterSet>>> = vec![None; columns];
        if columns > 0 {
            for (t, value) in series.in_window(window) {
                let cell = &mut sets[bin_index(window, t, columns)];
                let bits = value.map(|v| v as LimiterSet);
                *cell = Some(match (*cell, bits) {
                    (Some(Some(a)), Some(b)) => Some(a | b),
                    (Some(a), b) => a.or(b),
                    (None, b) => b,
                });
            }
        }
        let mut held: Option<LimiterSet> = None;
        let mut started = false;
        sets.into_iter()
            .map(|cell| {
                if let Some(set) = cell {
                    held = set;
                    started = true;
                }
                match held {
                    _ if !started => (' ', Style::default()),
                    None => (' ', Style::default()),
                    Some(0) => ('·', Style::default()),
                    Some(bits) => (limiters::members(bits).next().map_or('?', |l| l.letter), style),
                }
            })
            .collect()
    };
    Strip { label: "limit".into(), cells: Box::new(cells) }
}
