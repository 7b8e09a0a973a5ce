//! The top line: which machine, how long it has been up, the interval and the session time.

use halo_collectors::Snapshot;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::format;
use crate::theme::Theme;

pub struct Header<'a> {
    pub snapshot: Option<&'a Snapshot>,
    pub theme: Theme,
}

impl Widget for &Header<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let host = self.snapshot.and_then(|s| s.host.as_ref());
        let name = host.and_then(|h| h.host_name.clone()).unwrap_or_else(|| format::NA.into());
        let mut spans =
            vec![Span::styled("halo-top", self.theme.title()), Span::raw(format!(" {name}"))];
        match self.snapshot {
            None => spans.push(Span::styled("  waiting for the first snapshot…", self.theme.dim())),
            Some(s) => {
                let uptime = format::duration_s(host.and_then(|h| h.uptime_s));
                let session = format::duration_s(Some(s.mono_ms as f64 / 1000.0));
                spans.push(Span::raw(format!(
                    "  up {uptime}  every {}  session {session}",
                    format::interval_ms(s.interval_ms)
                )));
                if let Some(kernel) = host.and_then(|h| h.kernel_release.as_deref()) {
                    spans.push(Span::styled(format!("  Linux {kernel}"), self.theme.dim()));
                }
            }
        }
        Line::from(spans).render(area, buf);
    }
}
