//! Throughput: decode and prefill tok/s of every llama-server over time, now and on average
//! over the window shown.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::chart::{Scale, TimeChart};
use crate::format;
use crate::history::ServerHistory;
use crate::pane::{PaneContext, llama_problem, no_data};
use crate::series::Series;
use crate::theme::marker_symbol;

/// The pane's title: with one server, its model.
pub fn title(ctx: &PaneContext) -> Option<String> {
    match ctx.history.servers.as_slice() {
        [one] => Some(one.label.clone()),
        _ => None,
    }
}

pub fn render(ctx: &PaneContext, area: Rect, buf: &mut Buffer) {
    let servers = &ctx.history.servers;
    if servers.is_empty() {
        no_data(&llama_problem(ctx.snapshot), area, buf, ctx.theme.dim());
        return;
    }
    let wide = area.width >= 72;
    let lines_per_server = if wide { 1 } else { 2 };
    let mut lines: Vec<Line> = Vec::new();
    for (i, server) in servers.iter().enumerate() {
        lines.extend(server_lines(ctx, server, i, wide));
    }
    // The server that is gone says why (its source's status).
    let any_server = servers.iter().any(|s| s.url != crate::history::REFERENCE_ROW);
    if ctx.snapshot.llama.is_empty() && any_server {
        lines.push(Line::styled(llama_problem(ctx.snapshot), ctx.theme.dim()));
    }
    let text_height = (lines.len() as u16).min(area.height.saturating_sub(4).max(lines_per_server));
    let charts_height = area.height - text_height;
    let both = charts_height >= 12;
    let [text, decode, prefill] = Layout::vertical([
        Constraint::Length(text_height),
        Constraint::Fill(3),
        Constraint::Fill(if both { 2 } else { 0 }),
    ])
    .areas(area);
    for (line, y) in lines.into_iter().zip(text.top()..text.bottom()) {
        line.render(Rect { y, height: 1, ..text }, buf);
    }
    chart(ctx, "decode tok/s", |s| &s.decode_tok_s, decode, buf);
    if both {
        chart(ctx, "prefill tok/s", |s| &s.prefill_tok_s, prefill, buf);
    }
}

fn server_lines<'a>(
    ctx: &PaneContext,
    server: &'a ServerHistory,
    i: usize,
    wide: bool,
) -> Vec<Line<'a>> {
    let (style, marker) = ctx.theme.trace(i);
    let several = ctx.history.servers.len() > 1;
    let span = format::span_ms(ctx.window.span_ms);
    let figures = |what: &str, series: &Series| {
        format!(
            "{what} {} tok/s ({span} avg {})",
            format::num(series.latest()),
            format::num(series.mean(ctx.window))
        )
    };
    let decode = figures("decode", &server.decode_tok_s);
    let prefill = figures("prefill", &server.prefill_tok_s);
    // With one server the title names it and there is one line on the chart.
    let head = if several {
        vec![
            Span::styled(format!("{} ", marker_symbol(marker)), style),
            Span::raw(format!("{} ", server.label)),
        ]
    } else {
        Vec::new()
    };
    if wide {
        let mut spans = head;
        spans.push(Span::raw(format!("{decode} · {prefill}")));
        vec![Line::from(spans)]
    } else {
        let mut first = head;
        first.push(Span::raw(decode));
        let indent = if several { "  " } else { "" };
        vec![Line::from(first), Line::from(format!("{indent}{prefill}"))]
    }
}

fn chart(
    ctx: &PaneContext,
    name: &str,
    series: fn(&ServerHistory) -> &Series,
    area: Rect,
    buf: &mut Buffer,
) {
    if area.height < 3 {
        return;
    }
    let [label, plot] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    Line::styled(name, ctx.theme.dim()).render(label, buf);
    let mut chart = TimeChart::new(ctx.window, Scale::FromZero, ctx.theme.dim());
    for (i, server) in ctx.history.servers.iter().enumerate() {
        chart = chart.trace(series(server), ctx.theme.trace(i));
    }
    chart.render(plot, buf);
}
