//! The bottom line: every source's state, the feed (live, replay, paused) and halo-top's own
//! CPU and memory use.

use halo_collectors::Snapshot;
use halo_collectors::model::{FeedMode, SourceStatus};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::format;
use crate::layout::View;
use crate::theme::{Level, Theme};

pub struct StatusLine<'a> {
    pub snapshot: Option<&'a Snapshot>,
    pub mode: &'a FeedMode,
    /// Whether the view is frozen (`p`), and the charts' time window.
    pub view: &'a View,
    pub theme: Theme,
}

impl Widget for &StatusLine<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let mut spans = Vec::new();
        match self.mode {
            FeedMode::Live => {}
            FeedMode::Replay(r) => {
                let mut label = format!("REPLAY {}x", trim_speed(r.speed));
                if r.paused {
                    label.push_str(" paused");
                }
                if r.ended {
                    label.push_str(" end");
                }
                if r.duration_ms > 0 {
                    let clock = |ms: u64| format!("{}:{:02}", ms / 60_000, ms / 1000 % 60);
                    label += &format!(" {}/{}", clock(r.position_ms), clock(r.duration_ms));
                }
                spans.push(Span::styled(label, theme.highlight()));
                spans.push(Span::raw(" "));
                if let Some(error) = &r.error {
                    spans.push(Span::styled(format!("{error} "), theme.level(Level::Critical)));
                }
            }
        }
        if self.view.paused {
            spans.push(Span::styled("PAUSED", theme.highlight()));
            spans.push(Span::raw(" "));
        }
        if let Some(s) = self.snapshot {
            let own_rss = s.host.as_ref().and_then(|h| h.own_process.rss_bytes);
            spans.push(Span::raw(format!(
                "self {} {} ",
                format::percent(s.derived.own_cpu_percent),
                format::bytes(own_rss)
            )));
            spans.push(Span::styled("│ ", theme.dim()));
            spans.push(Span::raw(format!(
                "every {} · window {} ",
                format::interval_ms(s.interval_ms),
                format::span_ms(self.view.window_ms)
            )));
            for source in &s.sources {
                let name = source.name.replace("llama:http://", "llama:");
                let (text, level) = match &source.status {
                    SourceStatus::Ok => (format!("{name} ok"), Level::Normal),
                    SourceStatus::Pending => (format!("{name} …"), Level::Unknown),
                    SourceStatus::Unavailable { reason } => {
                        (format!("{name} unavailable ({})", shortened(reason)), Level::Unknown)
                    }
                    SourceStatus::Failed { error } => {
                        (format!("{name} FAILED ({})", shortened(error)), Level::Critical)
                    }
                };
                spans.push(Span::styled("│ ", theme.dim()));
                spans.push(Span::styled(format!("{text} "), theme.level(level)));
            }
        }
        Line::from(spans).render(area, buf);
    }
}

/// A reason short enough to leave room for the other sources (the panes give it in full).
fn shortened(reason: &str) -> String {
    const MAX: usize = 40;
    if reason.chars().count() <= MAX {
        return reason.to_string();
    }
    let cut: String = reason.chars().take(MAX - 1).collect();
    format!("{cut}…")
}

fn trim_speed(speed: f64) -> String {
    let text = format!("{speed:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
