//! The whole screen: header, the panes where [`layout`](crate::layout) puts them, the status
//! line, and the help overlay on top.

use halo_collectors::Snapshot;
use halo_collectors::model::FeedMode;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Widget, Wrap};

use crate::header::Header;
use crate::help::Help;
use crate::history::History;
use crate::layout::{self, Placement, View};
use crate::pane::{Pane, PaneContext};
use crate::status_line::StatusLine;
use crate::theme::Theme;
use crate::{
    devices_pane, host_pane, latency_pane, memory_pane, roofline_pane, speculative_pane,
    thermal_pane, throughput_pane,
};

/// Everything the screen shows, borrowed from the app for one frame.
pub struct Screen<'a> {
    pub snapshot: Option<&'a Snapshot>,
    pub history: &'a History,
    pub mode: &'a FeedMode,
    pub view: View,
    pub theme: Theme,
}

impl Screen<'_> {
    /// Where the panes are on a screen of `area` (the app maps mouse clicks with it).
    pub fn placement(&self, area: Rect) -> Placement {
        if layout::too_small(area) {
            return Placement::default();
        }
        layout::place(body(area), &self.view, self.snapshot)
    }
}

fn body(area: Rect) -> Rect {
    let [_, body, _] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1)])
            .areas(area);
    body
}

impl Widget for &Screen<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if layout::too_small(area) {
            let text = format!(
                "terminal too small: {}×{}, halo-top needs {}×{}",
                area.width,
                area.height,
                layout::MIN_WIDTH,
                layout::MIN_HEIGHT
            );
            Line::from(text).render(Rect { height: area.height.min(1), ..area }, buf);
            return;
        }
        let [header, _, status] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1)])
                .areas(area);
        Header { snapshot: self.snapshot, theme: self.theme }.render(header, buf);
        StatusLine {
            snapshot: self.snapshot,
            mode: self.mode,
            view: &self.view,
            theme: self.theme,
        }
        .render(status, buf);
        let placement = self.placement(area);
        match self.snapshot {
            None => {
                Paragraph::new("waiting for the first snapshot…")
                    .style(self.theme.dim())
                    .render(body(area), buf);
            }
            Some(snapshot) => {
                let ctx = PaneContext {
                    snapshot,
                    history: self.history,
                    window: self.history.window(snapshot, self.view.window_ms),
                    theme: self.theme,
                };
                for (pane, rect) in &placement.panes {
                    let focused = *pane == self.view.focused;
                    let zoomed = self.view.zoomed;
                    PaneView { pane: *pane, ctx, focused, zoomed }.render(*rect, buf);
                }
            }
        }
        self.hidden_line(&placement, buf);
        if self.view.show_help {
            Help { theme: self.theme }.render(area, buf);
        }
    }
}

/// One pane in its bordered box, numbered and titled; thick borders when focused.
pub struct PaneView<'a> {
    pub pane: Pane,
    pub ctx: PaneContext<'a>,
    pub focused: bool,
    pub zoomed: bool,
}

impl Widget for &PaneView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (pane, ctx, theme) = (self.pane, &self.ctx, self.ctx.theme);
        let detail = match pane {
            Pane::Throughput => throughput_pane::title(ctx),
            Pane::Host => host_pane::title(ctx),
            _ => None,
        };
        let mut title = format!(" {} {} ", pane.number(), pane.title());
        if let Some(detail) = detail {
            title = format!("{title}· {detail} ");
        }
        let mut block = Block::bordered()
            .title(Span::styled(title, theme.title()))
            .border_type(if self.focused { BorderType::Thick } else { BorderType::Plain });
        if self.focused {
            block = block.border_style(theme.focused_border());
            if self.zoomed {
                block = block.title_bottom(Line::from(" z: all panes ").right_aligned());
            }
        }
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        match pane {
            Pane::Throughput => throughput_pane::render(ctx, inner, buf),
            Pane::Roofline => roofline_pane::render(ctx, inner, buf),
            Pane::Thermal => thermal_pane::render(ctx, inner, buf),
            Pane::Speculative => speculative_pane::render(ctx, inner, buf),
            Pane::Memory => memory_pane::render(ctx, inner, buf),
            Pane::Latency => latency_pane::render(ctx, inner, buf),
            Pane::Devices => devices_pane::render(ctx, inner, buf),
            Pane::Host => host_pane::render(ctx, inner, buf),
        }
    }
}

impl Screen<'_> {
    /// `more: 4 Spec  5 Mem …` under a stacked or zoomed body.
    fn hidden_line(&self, placement: &Placement, buf: &mut Buffer) {
        let Some(line) = placement.hidden_line else { return };
        if placement.hidden.is_empty() {
            return;
        }
        buf.set_stringn(
            line.x,
            line.y,
            layout::hidden_prefix(),
            line.width as usize,
            self.theme.dim(),
        );
        for (pane, rect) in &placement.hidden {
            buf.set_stringn(
                rect.x,
                rect.y,
                layout::hidden_label(*pane),
                rect.width as usize,
                ratatui::style::Style::default(),
            );
        }
        let used = placement.hidden.last().map_or(line.x, |(_, r)| r.right());
        let hint = "  (Tab, 1-8: focus · z: zoom)";
        if used + hint.len() as u16 <= line.right() {
            Paragraph::new(hint)
                .style(self.theme.dim())
                .wrap(Wrap { trim: false })
                .render(Rect { x: used, width: line.right() - used, ..line }, buf);
        }
    }
}

#[cfg(test)]
mod tests;
