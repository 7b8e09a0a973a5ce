//! The `?` overlay: every key, in one box.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::theme::Theme;

pub const KEYS: &[(&str, &str)] = &[
    ("q, Ctrl-C", "quit"),
    ("?", "show or hide this help"),
    ("p, Space", "pause: freeze the view (in a replay: pause the replay)"),
    ("Tab", "focus the next pane (Shift-Tab: the one before)"),
    ("1-8", "focus a pane by its number; a click focuses too"),
    ("z, Enter", "zoom: the focused pane full screen, or back"),
    ("+ -", "longer or shorter time window of the charts"),
    ("r", "restart the decode drift baseline from now"),
    ("Esc", "close this help, or leave the zoom"),
    ("↑↓ Enter", "fleet (--remote): select a host, open its dashboard"),
    ("f, Esc", "fleet: back from a host's dashboard to the fleet"),
    (".", "replay: one snapshot forward, paused"),
    ("← →", "replay: seek 10 s (with Shift: 1 min)"),
    ("[ ]", "replay: half or double speed"),
];

pub struct Help {
    pub theme: Theme,
}

impl Widget for &Help {
    fn render(self, area: Rect, buf: &mut Buffer) {
        // Keys are right-aligned in 9 columns, then two spaces, then the text, inside a border.
        let width =
            KEYS.iter().map(|(_, d)| 9 + 2 + d.chars().count() + 2).max().unwrap_or(0) as u16;
        let title = " keys · ? or Esc closes ";
        let height = KEYS.len() as u16 + 2;
        let popup = centered(area, width, height);
        Clear.render(popup, buf);
        let lines: Vec<Line> =
            KEYS.iter().map(|(key, what)| Line::from(format!("{key:>9}  {what}"))).collect();
        Paragraph::new(lines)
            .block(Block::bordered().title(title).title_style(self.theme.title()))
            .render(popup, buf);
    }
}

/// A `width`×`height` rectangle in the middle of `area`, clipped to it.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}
