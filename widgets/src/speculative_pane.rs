//! Speculative decoding: how many drafted tokens the target accepts (per interval and since
//! start, per draft position), tokens per verification step, draft tok/s, and what drafting
//! gains against the same server without drafts, when that rate is known.

use halo_collectors::model::LlamaRates;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::chart::{Scale, TimeChart};
use crate::format;
use crate::history::ServerHistory;
use crate::pane::{PaneContext, llama_problem, no_data};
use crate::theme::marker_symbol;

pub fn render(ctx: &PaneContext, area: Rect, buf: &mut Buffer) {
    let s = ctx.snapshot;
    if s.derived.llama.is_empty() {
        no_data(&llama_problem(s), area, buf, ctx.theme.dim());
        return;
    }
    let speculative: Vec<&LlamaRates> =
        s.derived.llama.iter().filter(|r| r.spec_active == Some(true)).collect();
    let Some(first) = speculative.first() else {
        let unknown = s.derived.llama.iter().any(|r| r.spec_active.is_none());
        let text = if unknown {
            let issues: Vec<&str> =
                s.llama.iter().flat_map(|l| &l.issues).map(String::as_str).collect();
            format!("speculation unknown: /slots not read ({})", issues.join("; "))
        } else {
            "speculation off (no server runs a draft model)".to_string()
        };
        Line::from(text).render(Rect { height: 1.min(area.height), ..area }, buf);
        return;
    };
    let history = ctx.history.server(&first.url, first.model_id.as_deref());
    let mut lines = vec![
        Line::from(format!(
            "accepted {} total · {} now",
            format::percent(first.spec_acceptance_cumulative.map(|a| a * 100.0)),
            format::percent(first.spec_acceptance.map(|a| a * 100.0)),
        )),
        Line::from(format!(
            "{} tok/step total · {} now",
            format::num(first.spec_mean_accept_len_cumulative),
            format::num(first.spec_mean_accept_len),
        )),
        // The draft counter moves only when a request ends: the window's mean says more.
        Line::from(format!(
            "draft {} tok/s ({} avg {})",
            format::num(first.spec_draft_tok_s),
            format::span_ms(ctx.window.span_ms),
            format::num(history.and_then(|h| h.spec_draft_tok_s.mean(ctx.window))),
        )),
        Line::from(net_effect(first, history)),
    ];
    if speculative.len() > 1 {
        lines.push(Line::styled(
            format!("(the first of {} speculative servers)", speculative.len()),
            ctx.theme.dim(),
        ));
    }
    let positions = &first.spec_acceptance_per_position;
    let bars_height = positions.len().min(8) as u16;
    let text_height = (lines.len() as u16).min(area.height);
    let [text, bars, chart_area] = Layout::vertical([
        Constraint::Length(text_height),
        Constraint::Length(bars_height),
        Constraint::Fill(1),
    ])
    .areas(area);
    for (line, y) in lines.into_iter().zip(text.top()..text.bottom()) {
        line.render(Rect { y, height: 1, ..text }, buf);
    }
    for ((i, share), y) in positions.iter().enumerate().zip(bars.top()..bars.bottom()) {
        position_bar(ctx, i + 1, *share, Rect { y, height: 1, ..bars }, buf);
    }
    if let Some(history) = history
        && chart_area.height >= 4
    {
        let (now_style, now_marker) = ctx.theme.trace(0);
        let (total_style, total_marker) = ctx.theme.trace(1);
        let [legend, plot] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(chart_area);
        Line::from(vec![
            Span::styled(format!("{} ", marker_symbol(now_marker)), now_style),
            Span::styled("accepted % per interval  ", ctx.theme.dim()),
            Span::styled(format!("{} ", marker_symbol(total_marker)), total_style),
            Span::styled("since start", ctx.theme.dim()),
        ])
        .render(legend, buf);
        TimeChart::new(ctx.window, Scale::Fixed(0.0, 100.0), ctx.theme.dim())
            .dots(&history.spec_acceptance_percent, (now_style, now_marker))
            .trace(&history.spec_acceptance_cumulative_percent, (total_style, total_marker))
            .render(plot, buf);
    }
}

/// Decode tok/s now against the same server's rate without drafts, when it ran without them in
/// this session; otherwise says that it is not known.
fn net_effect(rates: &LlamaRates, history: Option<&ServerHistory>) -> String {
    match (rates.decode_tok_s, history.and_then(|h| h.no_draft_decode_tok_s)) {
        (Some(now), Some((without, _))) if without > 0.0 => format!(
            "vs no drafts ×{:.2}: {} vs {} tok/s",
            now / without,
            format::sig3(now),
            format::sig3(without),
        ),
        _ => "vs no drafts: n/a (not seen)".to_string(),
    }
}

/// `pos 1 ▕██████▌   ▏ 74.3%`
fn position_bar(ctx: &PaneContext, position: usize, share: f64, area: Rect, buf: &mut Buffer) {
    let label = format!("pos {position} ");
    let value = format!(" {}", format::percent(Some(share * 100.0)));
    let cells = (area.width as usize).saturating_sub(label.len() + value.len() + 2);
    let bar = format!("▕{}▏", format::bar(share, cells));
    Line::from(vec![Span::raw(label), Span::styled(bar, ctx.theme.trace(0).0), Span::raw(value)])
        .render(area, buf);
}
