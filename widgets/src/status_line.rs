//! The bottom line: every source's state, the feed (live, replay, paused) and halo-top's own
//! CPU and memory use.

use halo_collectors::Snapshot;
use halo_collectors::model::{FeedMode, SourceStatus};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::format;
use crate::theme::{Level, Theme};

pub struct StatusLine<'a> {
    pub snapshot: Option<&'a Snapshot>,
    pub mode: &'a FeedMode,
    /// The view is frozen by the user (`p`).
    pub paused: bool,
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
        if self.paused {
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
            for source in &s.sources {
                let (text, level) = match &source.status {
                    SourceStatus::Ok => (format!("{} ok", source.name), Level::Normal),
                    SourceStatus::Pending => (format!("{} …", source.name), Level::Unknown),
                    SourceStatus::Unavailable { reason } => {
                        (format!("{} unavailable ({reason})", source.name), Level::Unknown)
                    }
                    SourceStatus::Failed { error } => {
                        (format!("{} FAILED ({error})", source.name), Level::Critical)
                    }
                };
                spans.push(Span::styled("│", theme.dim()));
                spans.push(Span::styled(text, theme.level(level)));
            }
        }
        Line::from(spans).render(area, buf);
    }
}

fn trim_speed(speed: f64) -> String {
    let text = format!("{speed:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
