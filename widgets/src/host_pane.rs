//! The host pane: CPU (total, per core, history), memory, temperatures and top processes.

use halo_collectors::model::HostSection;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{LineGauge, Paragraph, Row, Sparkline, Table, Widget, Wrap};

use crate::format;
use crate::history::History;
use crate::pane::{PaneContext, named_problem, no_data};
use crate::theme::Theme;

/// The pane's title: the CPU model.
pub fn title(ctx: &PaneContext) -> Option<String> {
    ctx.snapshot.host.as_ref()?.cpu_model.clone()
}

pub fn render(ctx: &PaneContext, area: Rect, buf: &mut Buffer) {
    let Some(host) = &ctx.snapshot.host else {
        let why = named_problem(ctx.snapshot, "host").unwrap_or_else(|| "host: no reading".into());
        no_data(&why, area, buf, ctx.theme.dim());
        return;
    };
    HostPane { host, history: ctx.history, theme: ctx.theme }.render(area, buf);
}

struct HostPane<'a> {
    host: &'a HostSection,
    history: &'a History,
    theme: Theme,
}

impl Widget for &HostPane<'_> {
    fn render(self, inner: Rect, buf: &mut Buffer) {
        let host = self.host;
        let [cpu, cores, chart, memory, temps, procs] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(if inner.height >= 16 { 3 } else { 0 }),
            Constraint::Length(1),
            Constraint::Length(2),
            Constraint::Fill(1),
        ])
        .areas(inner);
        self.cpu_line(host, cpu, buf);
        self.cores_line(host, cores, buf);
        let history: Vec<Option<u64>> = self
            .history
            .cpu_total_percent
            .last_values(chart.width as usize)
            .map(|v| v.map(|p| p.round() as u64))
            .collect();
        Sparkline::default()
            .data(&history)
            .max(100)
            .style(self.theme.dim())
            .absent_value_symbol("·")
            .render(chart, buf);
        self.memory_line(host, memory, buf);
        self.temperatures(host, temps, buf);
        self.processes(host, procs, buf);
    }
}

impl HostPane<'_> {
    fn cpu_line(&self, host: &HostSection, area: Rect, buf: &mut Buffer) {
        let total = host.cpu.total_percent;
        let [gauge, rest] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(area);
        LineGauge::default()
            .ratio(total.map_or(0.0, |p| (p / 100.0).clamp(0.0, 1.0)))
            .label(format!("CPU {:>6}", format::percent(total)))
            .filled_style(self.theme.utilisation(total))
            .render(gauge, buf);
        let load = host.load_average.map_or_else(
            || format::NA.to_string(),
            |l| format!("{:.2} {:.2} {:.2}", l.one, l.five, l.fifteen),
        );
        let freqs: Vec<f64> = host.cpu.freq_mhz.iter().flatten().copied().collect();
        let max_freq = freqs.iter().copied().reduce(f64::max);
        Line::from(format!(" load {load}  max {}", format::mhz(max_freq))).render(rest, buf);
    }

    /// One character per logical CPU, its height the CPU's busy share.
    fn cores_line(&self, host: &HostSection, area: Rect, buf: &mut Buffer) {
        const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
        let mut spans = vec![Span::raw("cores ")];
        for p in &host.cpu.per_core_percent {
            let symbol = match p {
                None => '·',
                Some(p) => BARS[((p / 100.0 * 7.0).round() as usize).min(7)],
            };
            spans.push(Span::styled(symbol.to_string(), self.theme.utilisation(*p)));
        }
        if host.cpu.per_core_percent.is_empty() {
            spans.push(Span::raw(format::NA));
        }
        Line::from(spans).render(area, buf);
    }

    fn memory_line(&self, host: &HostSection, area: Rect, buf: &mut Buffer) {
        let m = &host.memory;
        let share = m
            .used_bytes
            .zip(m.total_bytes)
            .filter(|(_, t)| *t > 0)
            .map(|(u, t)| u as f64 / t as f64 * 100.0);
        let [gauge, rest] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(area);
        LineGauge::default()
            .ratio(share.map_or(0.0, |p| (p / 100.0).clamp(0.0, 1.0)))
            .label(format!("Mem {}/{}", format::bytes(m.used_bytes), format::bytes(m.total_bytes)))
            .filled_style(self.theme.utilisation(share))
            .render(gauge, buf);
        Line::from(format!(
            " avail {}  swap {}/{}",
            format::bytes(m.available_bytes),
            format::bytes(m.swap_used_bytes),
            format::bytes(m.swap_total_bytes)
        ))
        .render(rest, buf);
    }

    fn temperatures(&self, host: &HostSection, area: Rect, buf: &mut Buffer) {
        let mut spans = vec![
            Span::raw("Tctl "),
            Span::styled(format::celsius(host.tctl_c), self.theme.temperature(host.tctl_c)),
        ];
        for t in host.temperatures.iter().filter(|t| !(t.chip == "k10temp" && t.label == "Tctl")) {
            spans.push(Span::styled(format!("  {} {} ", t.chip, t.label), self.theme.dim()));
            spans.push(Span::styled(
                format::celsius(Some(t.temp_c)),
                self.theme.temperature(Some(t.temp_c)),
            ));
        }
        Paragraph::new(Line::from(spans)).wrap(Wrap { trim: true }).render(area, buf);
    }

    fn processes(&self, host: &HostSection, area: Rect, buf: &mut Buffer) {
        let rows = host.top_processes.iter().map(|p| {
            Row::new([
                p.pid.to_string(),
                p.name.clone(),
                format::percent(p.cpu_percent),
                format::bytes(p.rss_bytes),
            ])
            .style(self.theme.utilisation(p.cpu_percent.map(|c| c.min(100.0))))
        });
        let widths = [
            Constraint::Length(8),
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(10),
        ];
        Table::new(rows, widths)
            .header(Row::new(["PID", "PROCESS", "CPU", "RSS"]).style(self.theme.title()))
            .render(area, buf);
    }
}
