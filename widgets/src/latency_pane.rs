//! Latency: time to first token and inter-token latency from the load generator, as
//! percentiles and as histograms on a log scale.

use halo_collectors::model::{
    LatencyBucket, LlamaLoadReading, OpShareReading, Percentiles, ReferenceSection,
};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Row, Table, Widget};

use crate::format;
use crate::pane::{PaneContext, no_data, source_problem};

pub fn render(ctx: &PaneContext, area: Rect, buf: &mut Buffer) {
    let s = ctx.snapshot;
    if s.llama_load.is_none()
        && let Some(reference) = &s.reference
    {
        reference_lines(reference)
            .into_iter()
            .zip(area.top()..area.bottom())
            .for_each(|(line, y)| line.render(Rect { y, height: 1, ..area }, buf));
        return;
    }
    let Some(load) = &s.llama_load else {
        let why = match s.source("workload:llama").and_then(source_problem) {
            Some(problem) => format!("load generator: {problem}"),
            None => "no load generator running (--workload llama:chat)".into(),
        };
        no_data(&why, area, buf, ctx.theme.dim());
        return;
    };
    let [summary, table, histograms] = Layout::vertical([
        Constraint::Length(2 + u16::from(load.last_error.is_some())),
        Constraint::Length(3),
        Constraint::Fill(1),
    ])
    .areas(area);
    summary_lines(ctx, load)
        .into_iter()
        .zip(summary.top()..summary.bottom())
        .for_each(|(line, y)| line.render(Rect { y, height: 1, ..summary }, buf));
    percentile_table(ctx, load, table, buf);
    let with_buckets: Vec<(&str, &Percentiles)> =
        [("inter-token ms", &load.inter_token_ms), ("TTFT ms", &load.ttft_ms)]
            .into_iter()
            .filter(|(_, p)| !p.buckets.is_empty())
            .collect();
    if with_buckets.is_empty() {
        if load.inter_token_ms.count > 0 {
            Line::styled("histogram: not in this recording", ctx.theme.dim())
                .render(Rect { height: histograms.height.min(1), ..histograms }, buf);
        }
        return;
    }
    // Each histogram wants a label row, three bar rows and an axis row.
    let fit = (histograms.height / 5).max(1) as usize;
    let areas =
        Layout::vertical(vec![Constraint::Fill(1); fit.min(with_buckets.len())]).split(histograms);
    for ((name, percentiles), area) in with_buckets.into_iter().zip(areas.iter()) {
        histogram(ctx, name, &percentiles.buckets, *area, buf);
    }
}

/// halo-top's own decoder (`--workload reference`): the time of each decode step (one token)
/// and where it goes.
fn reference_lines<'a>(r: &ReferenceSection) -> Vec<Line<'a>> {
    let ms = |v: Option<f64>| format::num(v);
    let mut lines = vec![
        Line::from(format!("reference decoder, {} threads", r.threads)),
        Line::from(format!(
            "token ms: p50 {} p90 {} p99 {} max {}",
            ms(r.latency_ms_p50),
            ms(r.latency_ms_p90),
            ms(r.latency_ms_p99),
            ms(r.latency_ms_max)
        )),
    ];
    let share =
        |f: fn(&OpShareReading) -> f64| format::percent(r.op_share.as_ref().map(|o| f(o) * 100.0));
    lines.push(Line::from(format!(
        "time: matmul {} attention {} norm/rope {} other {}",
        share(|o| o.matmul),
        share(|o| o.attention),
        share(|o| o.norm_rope),
        share(|o| o.other)
    )));
    lines
}

fn summary_lines<'a>(ctx: &PaneContext, load: &LlamaLoadReading) -> Vec<Line<'a>> {
    let mut lines = vec![
        Line::from(format!(
            "{} ×{}: {} ok {} failed {} busy",
            load.preset,
            load.concurrency,
            load.requests_ok,
            load.requests_failed,
            load.requests_in_flight,
        )),
        Line::from(format!(
            "{} total, {} per stream",
            format::with_unit(load.aggregate_tok_s, "tok/s"),
            format::num(load.server_decode_tok_s),
        )),
    ];
    if let Some(error) = &load.last_error {
        lines.push(Line::styled(
            format!("last error: {error}"),
            ctx.theme.level(crate::theme::Level::Warn),
        ));
    }
    lines
}

fn percentile_table(ctx: &PaneContext, load: &LlamaLoadReading, area: Rect, buf: &mut Buffer) {
    let row = |name: &str, p: &Percentiles| {
        Row::new([
            name.to_string(),
            format::num(p.p50),
            format::num(p.p90),
            format::num(p.p99),
            format::num(p.max),
            p.count.to_string(),
        ])
    };
    let widths = [
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Fill(1),
    ];
    Table::new([row("TTFT ms", &load.ttft_ms), row("ITL ms", &load.inter_token_ms)], widths)
        .header(Row::new(["", "p50", "p90", "p99", "max", "n"]).style(ctx.theme.title()))
        .render(area, buf);
}

/// Vertical bars, one group of columns per bucket, heights relative to the fullest bucket.
fn histogram(
    ctx: &PaneContext,
    name: &str,
    buckets: &[LatencyBucket],
    area: Rect,
    buf: &mut Buffer,
) {
    const LEVELS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if area.height < 3 || area.width < 8 || buckets.is_empty() {
        return;
    }
    let [label, bars, axis] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1)])
            .areas(area);
    Line::styled(format!("{name}, log scale"), ctx.theme.dim()).render(label, buf);
    let per_bucket = (bars.width as usize / buckets.len()).max(1);
    let shown = buckets.len().min(bars.width as usize);
    let top = buckets.iter().map(|b| b.count).max().unwrap_or(1).max(1) as f64;
    let eighths = f64::from(bars.height) * 8.0;
    let style = ctx.theme.trace(0).0;
    for (i, bucket) in buckets.iter().take(shown).enumerate() {
        let mut height = (bucket.count as f64 / top * eighths).round() as u16;
        if bucket.count > 0 {
            height = height.max(1);
        }
        for row in 0..bars.height {
            let from_bottom = row * 8;
            let level = height.saturating_sub(from_bottom).min(8) as usize;
            let y = bars.bottom() - 1 - row;
            for dx in 0..per_bucket.saturating_sub(usize::from(per_bucket > 2)) {
                let x = bars.x + (i * per_bucket + dx) as u16;
                if x < bars.right() {
                    buf[(x, y)].set_char(LEVELS[level]).set_style(style);
                }
            }
        }
    }
    // The lowest bound, the top one, and one in the middle where they fit.
    let lower = buckets.first().map_or(0.0, |b| b.upper_ms / 2.0);
    let marks = [(0, lower), (shown.saturating_sub(1), buckets[shown - 1].upper_ms)];
    for (i, ms) in marks {
        let text = format::sig3(ms);
        let x = (bars.x as usize + i * per_bucket)
            .min(axis.right() as usize - text.len().min(axis.width as usize));
        buf.set_stringn(x as u16, axis.y, &text, axis.width as usize, Style::default());
    }
}
