//! A time chart: series over a [`TimeWindow`] on a braille canvas, with a value axis on the
//! left, the time axis below (`-5m … now`), and labelled horizontal rules (a peak, a ceiling).
//!
//! Each column of the plot is the mean of the samples that fell in it; a column whose samples
//! had no value breaks the line, and columns no sample fell in are bridged (samples further
//! apart than a column).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::Widget;
use ratatui::widgets::canvas::{Canvas, Line as CanvasLine, Points};

use crate::format;
use crate::series::{Bin, Series, TimeWindow};

/// One line of the chart.
pub struct Trace<'a> {
    pub series: &'a Series,
    pub style: Style,
    pub marker: Marker,
    /// Draw only the samples, not lines between them (figures that exist only now and then).
    pub dots: bool,
}

/// A horizontal line at a fixed value, labelled at its right end.
pub struct Rule {
    pub value: f64,
    pub label: String,
    pub style: Style,
}

/// Where the value axis starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// From zero up to the largest value (rates, bandwidth, power).
    FromZero,
    /// Around the values shown (temperatures, clocks).
    Fit,
    /// Fixed bounds (percentages).
    Fixed(f64, f64),
}

/// A one-row band under the plot, on the same time axis: one symbol per column.
pub struct Strip<'a> {
    pub label: String,
    /// Given the number of columns, the symbol and style of each.
    pub cells: Box<dyn Fn(usize) -> Vec<(char, Style)> + 'a>,
}

impl<'a> Strip<'a> {
    /// The series as block heights (`▁`…`█`) from its lowest to its highest value in the window;
    /// a column without a value is blank.
    pub fn levels(label: &str, series: &'a Series, window: TimeWindow, style: Style) -> Self {
        const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
        let (lo, hi) = (series.min(window), series.max(window));
        let cells = move |columns: usize| {
            let mut held: Option<f64> = None;
            series
                .bins(window, columns)
                .into_iter()
                .map(|bin| {
                    match bin {
                        Bin::Value(v) => held = Some(v),
                        Bin::Gap => held = None,
                        Bin::Empty => {}
                    }
                    let symbol = match (held, lo, hi) {
                        (Some(v), Some(lo), Some(hi)) if hi > lo => {
                            LEVELS[((v - lo) / (hi - lo) * 7.0).round().clamp(0.0, 7.0) as usize]
                        }
                        (Some(_), _, _) => LEVELS[3],
                        _ => ' ',
                    };
                    (symbol, style)
                })
                .collect()
        };
        Strip { label: label.to_string(), cells: Box::new(cells) }
    }
}

pub struct TimeChart<'a> {
    pub window: TimeWindow,
    pub traces: Vec<Trace<'a>>,
    pub rules: Vec<Rule>,
    pub strips: Vec<Strip<'a>>,
    pub scale: Scale,
    pub axis_style: Style,
}

impl<'a> TimeChart<'a> {
    pub fn new(window: TimeWindow, scale: Scale, axis_style: Style) -> Self {
        Self {
            window,
            traces: Vec::new(),
            rules: Vec::new(),
            strips: Vec::new(),
            scale,
            axis_style,
        }
    }

    pub fn strip(mut self, strip: Strip<'a>) -> Self {
        self.strips.push(strip);
        self
    }

    pub fn trace(mut self, series: &'a Series, (style, marker): (Style, Marker)) -> Self {
        self.traces.push(Trace { series, style, marker, dots: false });
        self
    }

    pub fn dots(mut self, series: &'a Series, (style, marker): (Style, Marker)) -> Self {
        self.traces.push(Trace { series, style, marker, dots: true });
        self
    }

    pub fn rule(mut self, value: Option<f64>, label: impl Into<String>, style: Style) -> Self {
        if let Some(value) = value.filter(|v| v.is_finite()) {
            self.rules.push(Rule { value, label: label.into(), style });
        }
        self
    }

    /// The value range: the traces' values in the window and the rules, padded.
    fn bounds(&self) -> (f64, f64) {
        let values = self
            .traces
            .iter()
            .flat_map(|t| [t.series.min(self.window), t.series.max(self.window)])
            .flatten()
            .chain(self.rules.iter().map(|r| r.value));
        let (lo, hi) =
            values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        match self.scale {
            Scale::Fixed(lo, hi) => (lo, hi),
            _ if !lo.is_finite() => (0.0, 1.0),
            Scale::FromZero => (lo.min(0.0), nice_ceiling(hi.max(f64::MIN_POSITIVE) * 1.1)),
            Scale::Fit => {
                let pad = ((hi - lo) * 0.15).max(hi.abs() * 0.02).max(1.0);
                ((lo - pad).floor(), (hi + pad).ceil())
            }
        }
    }
}

/// The next "round" number at or above `v`: 1, 2, 2.5, 5 × 10^k.
pub fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let base = 10f64.powf(v.log10().floor());
    [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .iter()
        .map(|m| m * base)
        .find(|n| *n >= v)
        .unwrap_or(10.0 * base)
}

impl Widget for &TimeChart<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.height < 2 || area.width < 12 {
            return;
        }
        // Strips only where the plot keeps at least two rows.
        let strips =
            if area.height >= 3 + self.strips.len() as u16 { &self.strips[..] } else { &[] };
        let (lo, hi) = self.bounds();
        let labels = [format::sig3(hi), format::sig3(lo)];
        let label_width = labels
            .iter()
            .map(|l| l.chars().count())
            .chain(strips.iter().map(|s| s.label.chars().count()))
            .max()
            .unwrap_or(1)
            .min(area.width as usize / 3) as u16;
        let plot = Rect {
            x: area.x + label_width + 1,
            y: area.y,
            width: area.width - label_width - 1,
            height: area.height - 1 - strips.len() as u16,
        };
        for (strip, y) in strips.iter().zip(plot.bottom()..) {
            buf.set_stringn(area.x, y, &strip.label, label_width as usize, self.axis_style);
            for ((symbol, style), x) in
                (strip.cells)(plot.width as usize).into_iter().zip(plot.left()..plot.right())
            {
                buf[(x, y)].set_char(symbol).set_style(style);
            }
        }
        // Value axis: the top and bottom values, a vertical line.
        buf.set_stringn(area.x, plot.y, &labels[0], label_width as usize, self.axis_style);
        let bottom = plot.bottom() - 1;
        let low = &labels[1];
        buf.set_stringn(
            area.x + label_width - low.chars().count() as u16,
            bottom,
            low,
            label_width as usize,
            self.axis_style,
        );
        for y in plot.top()..plot.bottom() + strips.len() as u16 {
            buf[(plot.x - 1, y)].set_symbol("│").set_style(self.axis_style);
        }
        self.time_axis(area, plot, buf);

        // Two braille dots per column: bin at that resolution.
        let bins = plot.width as usize * 2;
        let traces: Vec<(Vec<Bin>, &Trace)> =
            self.traces.iter().map(|t| (t.series.bins(self.window, bins), t)).collect();
        Canvas::default()
            .background_color(Color::Reset)
            .x_bounds([0.0, bins as f64])
            .y_bounds([lo, hi])
            .paint(|ctx| {
                for (bins, trace) in &traces {
                    ctx.marker(trace.marker);
                    let color = trace.style.fg.unwrap_or(Color::Reset);
                    let mut previous: Option<(f64, f64)> = None;
                    let mut lone = Vec::new();
                    for (i, bin) in bins.iter().enumerate() {
                        let x = i as f64 + 0.5;
                        match bin {
                            Bin::Empty => {}
                            Bin::Gap => previous = None,
                            Bin::Value(v) => {
                                match previous {
                                    Some((px, py)) if !trace.dots => ctx.draw(&CanvasLine {
                                        x1: px,
                                        y1: py,
                                        x2: x,
                                        y2: *v,
                                        color,
                                    }),
                                    _ => lone.push((x, *v)),
                                }
                                previous = Some((x, *v));
                            }
                        }
                    }
                    ctx.draw(&Points { coords: &lone, color });
                    ctx.layer();
                }
            })
            .render(plot, buf);

        // Rules go on the empty cells of their row, the label at the right end.
        for rule in &self.rules {
            if !(lo..=hi).contains(&rule.value) || hi <= lo {
                continue;
            }
            let from_top = (hi - rule.value) / (hi - lo) * f64::from(plot.height - 1);
            let y = plot.y + from_top.round() as u16;
            for x in plot.left()..plot.right() {
                let cell = &mut buf[(x, y)];
                if cell.symbol() == " " || cell.symbol() == "⠀" {
                    cell.set_symbol("┄").set_style(rule.style);
                }
            }
            let width = rule.label.chars().count() as u16;
            if width < plot.width {
                buf.set_string(plot.right() - width, y, &rule.label, rule.style);
            }
        }
    }
}

impl TimeChart<'_> {
    /// `-5m` under the left end, `now` under the right end, the middle when there is room.
    fn time_axis(&self, area: Rect, plot: Rect, buf: &mut Buffer) {
        let y = area.bottom() - 1;
        let left = format!("-{}", format::span_ms(self.window.span_ms));
        let right = "now";
        let mut spans = vec![(plot.x, left.clone())];
        let middle = format!("-{}", format::span_ms(self.window.span_ms / 2));
        if plot.width as usize > left.len() + middle.len() + right.len() + 6 {
            let x = plot.x + plot.width / 2 - middle.chars().count() as u16 / 2;
            spans.push((x, middle));
        }
        spans.push((plot.right().saturating_sub(right.len() as u16), right.to_string()));
        for (x, text) in spans {
            Line::styled(text, self.axis_style)
                .render(Rect { x, y, width: area.right().saturating_sub(x), height: 1 }, buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::render;
    use crate::theme::Theme;

    #[test]
    fn round_numbers_for_the_axis() {
        assert_eq!(nice_ceiling(0.7), 0.8);
        assert_eq!(nice_ceiling(1.3), 1.5);
        assert_eq!(nice_ceiling(2.2), 2.5);
        assert_eq!(nice_ceiling(280.0), 300.0);
        assert_eq!(nice_ceiling(256.0 * 1.1), 300.0);
        assert_eq!(nice_ceiling(81.0), 100.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
    }

    #[test]
    fn a_gap_breaks_the_line_and_a_rule_is_labelled() {
        let mut s = Series::with_capacity(100);
        for t in 0..=60u64 {
            let v = match t {
                20..=29 => None,
                _ => Some(50.0 + (t % 10) as f64),
            };
            s.push(t * 1000, v);
        }
        let window = TimeWindow { end_ms: 60_000, span_ms: 60_000 };
        let chart = TimeChart::new(window, Scale::FromZero, Style::default())
            .trace(&s, Theme::PLAIN.trace(0))
            .rule(Some(80.0), "peak 80", Style::default());
        insta::assert_snapshot!(render(40, 8, &chart));
    }

    #[test]
    fn empty_series_and_tiny_areas_do_not_panic() {
        let s = Series::with_capacity(10);
        let window = TimeWindow { end_ms: 0, span_ms: 60_000 };
        let chart =
            TimeChart::new(window, Scale::Fit, Style::default()).trace(&s, Theme::PLAIN.trace(1));
        for (w, h) in [(0, 0), (1, 1), (12, 2), (13, 3), (40, 10)] {
            render(w, h, &chart);
        }
    }
}
