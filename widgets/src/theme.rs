//! Colours that carry meaning. With colour off (`NO_COLOR`) every threshold is still readable:
//! the numbers are always printed, and critical values are also bold.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

/// How worrying a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Normal,
    Warn,
    Critical,
    Unknown,
}

impl Theme {
    pub const COLOR: Theme = Theme { color: true };
    pub const PLAIN: Theme = Theme { color: false };

    pub fn level(&self, level: Level) -> Style {
        let style = Style::default();
        match (self.color, level) {
            (true, Level::Normal) => style.fg(Color::Green),
            (true, Level::Warn) => style.fg(Color::Yellow),
            (true, Level::Critical) => style.fg(Color::Red).add_modifier(Modifier::BOLD),
            (true, Level::Unknown) => style.fg(Color::DarkGray),
            (false, Level::Critical) => style.add_modifier(Modifier::BOLD),
            (false, _) => style,
        }
    }

    pub fn title(&self) -> Style {
        let style = Style::default().add_modifier(Modifier::BOLD);
        if self.color { style.fg(Color::Cyan) } else { style }
    }

    pub fn dim(&self) -> Style {
        if self.color { Style::default().fg(Color::DarkGray) } else { Style::default() }
    }

    pub fn highlight(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Black).bg(Color::Yellow)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }

    /// CPU, GPU and bandwidth utilisation.
    pub fn utilisation(&self, percent: Option<f64>) -> Style {
        self.level(match percent {
            None => Level::Unknown,
            Some(p) if p >= 90.0 => Level::Critical,
            Some(p) if p >= 60.0 => Level::Warn,
            Some(_) => Level::Normal,
        })
    }

    /// Temperatures: Strix Halo runs at 87–91 °C under sustained load and throttles near 100.
    pub fn temperature(&self, celsius: Option<f64>) -> Style {
        self.level(match celsius {
            None => Level::Unknown,
            Some(c) if c >= 95.0 => Level::Critical,
            Some(c) if c >= 80.0 => Level::Warn,
            Some(_) => Level::Normal,
        })
    }

    /// How close decode runs to the roofline. Public llama.cpp figures on Strix Halo sit at
    /// 65–90 % of the peak; above 100 % is impossible, so the inputs are wrong (a bug to look at).
    pub fn roofline(&self, percent: Option<f64>) -> Style {
        self.level(match percent {
            None => Level::Unknown,
            Some(p) if p > 100.0 => Level::Critical,
            Some(p) if p >= 65.0 => Level::Normal,
            Some(p) if p >= 30.0 => Level::Warn,
            Some(_) => Level::Unknown,
        })
    }

    /// The border of the focused pane: thick lines say it without colour, colour adds to it.
    pub fn focused_border(&self) -> Style {
        if self.color { Style::default().fg(Color::Yellow) } else { Style::default() }
    }

    /// The n-th line of a chart. Colour tells them apart where there is colour; the marker
    /// (braille, dot, half block, block) does without it.
    pub fn trace(&self, n: usize) -> (Style, Marker) {
        const COLORS: [Color; 4] = [Color::Cyan, Color::Magenta, Color::Yellow, Color::Green];
        const MARKERS: [Marker; 4] = [Marker::Braille, Marker::Dot, Marker::Bar, Marker::Block];
        let style = if self.color {
            Style::default().fg(COLORS[n % COLORS.len()])
        } else {
            Style::default()
        };
        (style, MARKERS[n % MARKERS.len()])
    }
}

/// The character a legend shows for a chart marker.
pub fn marker_symbol(marker: Marker) -> &'static str {
    match marker {
        Marker::Dot => "•",
        Marker::Bar => "▄",
        Marker::Block => "█",
        _ => "⠶",
    }
}
