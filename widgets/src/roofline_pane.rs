//! Roofline: how much of the memory bandwidth decode uses. First the one number ("decode at
//! NN % of roofline"), then achieved GB/s against the peak and the calibrated ceiling, the GPU's
//! own DRAM counters beside the model-based figure, the decode ceiling and joules per token.

use halo_collectors::Snapshot;
use halo_collectors::model::RooflineFigures;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::chart::{Scale, TimeChart};
use crate::format;
use crate::pane::{PaneContext, llama_problem, no_data, source_problem};
use crate::theme::marker_symbol;

pub fn render(ctx: &PaneContext, area: Rect, buf: &mut Buffer) {
    let s = ctx.snapshot;
    let r = &s.derived.roofline;
    // Bytes per step come from the model section (a served model) or from halo-top's own
    // reference decoder, which counts them itself.
    let modelled = r.bytes_per_step.is_some();
    if !modelled && r.counter_dram_gbps.is_none() {
        no_data(&model_problem(s), area, buf, ctx.theme.dim());
        return;
    }
    let theme = ctx.theme;
    let mut lines = vec![headline(ctx, r)];
    if modelled {
        lines.push(Line::from(format!(
            "{} of {} peak",
            format::with_unit(r.achieved_gbps, "GB/s"),
            format::num(r.peak_gbps)
        )));
        if let Some(calibrated) = r.calibrated_gbps {
            lines.push(Line::from(format!(
                "{} of {} measured (┊)",
                format::percent(r.utilisation_of_calibrated_percent),
                format::sig3(calibrated),
            )));
        }
        lines.push(bar(ctx, r, area.width));
    }
    let mut dram = format!("counters {}", format::with_unit(r.counter_dram_gbps, "GB/s"));
    if r.counter_dram_saturated == Some(true) {
        dram += " (at the u16 top: a floor)";
    }
    if modelled {
        dram += &format!(", model {}", format::num(r.achieved_gbps));
    }
    lines.push(Line::from(dram));
    if modelled {
        let busy: Vec<u64> =
            s.derived.llama.iter().filter_map(|l| l.busy_sequence_tokens).collect();
        let reference = s.reference.as_ref().map(|r| r.context_tokens);
        let context = (!busy.is_empty()).then(|| busy.iter().sum::<u64>()).or(reference);
        lines.push(Line::from(format!(
            "ceiling {} at ctx {}",
            format::with_unit(r.ceiling_tok_s, "tok/s"),
            format::tokens(context),
        )));
    }
    let mut energy = format!("{} J/token", format::num(r.joules_per_token));
    if let Some(source) = &r.power_source {
        energy += &format!(" ({source})");
    }
    if modelled {
        energy = format!("{}/step · {energy}", format::bytes(r.bytes_per_step.map(|b| b as u64)));
    }
    lines.push(Line::from(energy));

    let text_height = (lines.len() as u16).min(area.height);
    let [text, chart_area] =
        Layout::vertical([Constraint::Length(text_height), Constraint::Fill(1)]).areas(area);
    for (line, y) in lines.into_iter().zip(text.top()..text.bottom()) {
        line.render(Rect { y, height: 1, ..text }, buf);
    }
    if chart_area.height >= 4 {
        let (model_style, model_marker) = theme.trace(0);
        let (counter_style, counter_marker) = theme.trace(1);
        let [legend, plot] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(chart_area);
        Line::from(vec![
            Span::styled(format!("{} ", marker_symbol(model_marker)), model_style),
            Span::styled("model GB/s  ", theme.dim()),
            Span::styled(format!("{} ", marker_symbol(counter_marker)), counter_style),
            Span::styled("counters GB/s", theme.dim()),
        ])
        .render(legend, buf);
        TimeChart::new(ctx.window, Scale::FromZero, theme.dim())
            .trace(&ctx.history.roofline_achieved_gbps, (model_style, model_marker))
            .trace(&ctx.history.counter_dram_gbps, (counter_style, counter_marker))
            .rule(r.peak_gbps, "peak", theme.dim())
            .rule(r.calibrated_gbps, "measured", theme.dim())
            .render(plot, buf);
    }
}

/// "decode at NN % of roofline", or why it is not known.
fn headline<'a>(ctx: &PaneContext, r: &RooflineFigures) -> Line<'a> {
    let s = ctx.snapshot;
    let percent = r.utilisation_of_peak_percent;
    let style = ctx.theme.roofline(percent).add_modifier(Modifier::BOLD);
    let mut spans =
        vec![Span::styled(format!("decode at {} of roofline", format::percent(percent)), style)];
    let why = match percent {
        Some(p) if p > 100.0 => Some("above the peak: check the model and --peak-bw".into()),
        Some(_) => None,
        None if r.bytes_per_step.is_none() => Some(model_problem(s)),
        None if r.peak_gbps.is_none() => Some("peak bandwidth unknown (--peak-bw)".into()),
        None if s.llama.is_empty() && s.reference.is_none() => Some(llama_problem(s)),
        None => Some("no decode rate yet".into()),
    };
    if let Some(why) = why {
        spans.push(Span::styled(format!(" · {why}"), ctx.theme.dim()));
    }
    Line::from(spans)
}

/// Why there is no model profile: the model source's status, or that it does not run.
fn model_problem(s: &Snapshot) -> String {
    match s.source("model").and_then(source_problem) {
        Some(problem) => format!("no model profile: {problem}"),
        None => "no model profile: start with --model FILE.gguf".into(),
    }
}

/// Achieved bandwidth as a bar against the peak, `┊` where the measured ceiling is.
fn bar<'a>(ctx: &PaneContext, r: &RooflineFigures, width: u16) -> Line<'a> {
    let cells = width.saturating_sub(2) as usize;
    let Some(peak) = r.peak_gbps.filter(|p| *p > 0.0) else { return Line::from("") };
    let mut bar: Vec<char> =
        format::bar(r.achieved_gbps.unwrap_or(0.0) / peak, cells).chars().collect();
    if let Some(c) = r.calibrated_gbps.map(|c| ((c / peak).clamp(0.0, 1.0) * cells as f64) as usize)
        && let Some(cell) = bar.get_mut(c)
        && *cell == ' '
    {
        *cell = '┊';
    }
    let style = ctx.theme.roofline(r.utilisation_of_peak_percent);
    Line::from(vec![
        Span::raw("▕"),
        Span::styled(bar.into_iter().collect::<String>(), style),
        Span::raw("▏"),
    ])
}
