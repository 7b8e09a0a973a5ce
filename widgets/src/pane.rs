//! The panes of the dashboard, what every pane is given to draw itself, and the "no data: why"
//! every pane shows until its data exists.

use halo_collectors::Snapshot;
use halo_collectors::model::{SourceState, SourceStatus};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Paragraph, Widget, Wrap};

use crate::history::History;
use crate::series::TimeWindow;
use crate::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Throughput,
    Roofline,
    Thermal,
    Speculative,
    Memory,
    Latency,
    Devices,
    Host,
}

impl Pane {
    /// In the order of their numbers (key `1` focuses the first).
    pub const ALL: [Pane; 8] = [
        Pane::Throughput,
        Pane::Roofline,
        Pane::Thermal,
        Pane::Speculative,
        Pane::Memory,
        Pane::Latency,
        Pane::Devices,
        Pane::Host,
    ];

    /// The key that focuses it.
    pub fn number(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0) + 1
    }

    pub fn from_number(n: usize) -> Option<Pane> {
        n.checked_sub(1).and_then(|i| Pane::ALL.get(i).copied())
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Throughput => "Throughput",
            Pane::Roofline => "Roofline",
            Pane::Thermal => "Thermal drift",
            Pane::Speculative => "Speculative decoding",
            Pane::Memory => "Memory",
            Pane::Latency => "Latency",
            Pane::Devices => "Devices",
            Pane::Host => "Host",
        }
    }

    /// For the tab bar of small terminals.
    pub fn short(self) -> &'static str {
        match self {
            Pane::Throughput => "Tok/s",
            Pane::Roofline => "Roof",
            Pane::Thermal => "Therm",
            Pane::Speculative => "Spec",
            Pane::Memory => "Mem",
            Pane::Latency => "Lat",
            Pane::Devices => "Dev",
            Pane::Host => "Host",
        }
    }

    pub fn next(self) -> Pane {
        Pane::ALL[self.number() % Pane::ALL.len()]
    }

    pub fn previous(self) -> Pane {
        Pane::ALL[(self.number() + Pane::ALL.len() - 2) % Pane::ALL.len()]
    }
}

/// What a pane draws from: the snapshot on screen, the history before it, the time window of
/// the charts, the theme.
#[derive(Clone, Copy)]
pub struct PaneContext<'a> {
    pub snapshot: &'a Snapshot,
    pub history: &'a History,
    pub window: TimeWindow,
    pub theme: Theme,
}

/// Writes `no data: {why}` in `area`.
pub fn no_data(why: &str, area: Rect, buf: &mut Buffer, style: Style) {
    Paragraph::new(format!("no data: {why}"))
        .style(style)
        .wrap(Wrap { trim: true })
        .render(area, buf);
}

/// Why a source gives nothing: its status in words, `None` while it is fine.
pub fn source_problem(source: &SourceState) -> Option<String> {
    match &source.status {
        SourceStatus::Ok => None,
        SourceStatus::Pending => Some("waiting for the first reading".into()),
        SourceStatus::Unavailable { reason } => Some(reason.clone()),
        SourceStatus::Failed { error } => Some(format!("failed: {error}")),
    }
}

/// Why there is no llama-server reading: each llama source's problem, or that none is watched.
pub fn llama_problem(snapshot: &Snapshot) -> String {
    let problems: Vec<String> = snapshot
        .sources
        .iter()
        .filter(|s| s.name.starts_with("llama:"))
        .filter_map(source_problem)
        .collect();
    let text = problems.join("; ");
    match text.as_str() {
        "" => "no llama-server watched (--llama URL)".into(),
        _ if text.starts_with("no llama-server") => text,
        _ => format!("no llama-server: {text}"),
    }
}

/// Why a named source gives nothing (`amdgpu`, `nvidia`, `host`, `model`).
pub fn named_problem(snapshot: &Snapshot, name: &str) -> Option<String> {
    match snapshot.source(name) {
        None => Some(format!("{name}: not running")),
        Some(s) => source_problem(s).map(|p| format!("{name}: {p}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_cycling() {
        for (i, pane) in Pane::ALL.iter().enumerate() {
            assert_eq!(pane.number(), i + 1);
            assert_eq!(Pane::from_number(i + 1), Some(*pane));
            assert_eq!(pane.next().previous(), *pane);
        }
        assert_eq!(Pane::Host.next(), Pane::Throughput);
        assert_eq!(Pane::Throughput.previous(), Pane::Host);
        assert_eq!(Pane::from_number(0), None);
        assert_eq!(Pane::from_number(9), None);
    }

    #[test]
    fn llama_problems_come_from_the_source_status() {
        let mut s = Snapshot::new(0, 0, 0, 1000);
        assert_eq!(llama_problem(&s), "no llama-server watched (--llama URL)");
        s.sources.push(SourceState {
            name: "llama:http://127.0.0.1:8080".into(),
            status: SourceStatus::Unavailable { reason: "connection refused".into() },
            samples: 1,
            last_sample_ms: None,
            age_ms: None,
        });
        assert_eq!(llama_problem(&s), "no llama-server: connection refused");
        assert_eq!(named_problem(&s, "nvidia").as_deref(), Some("nvidia: not running"));
    }
}
