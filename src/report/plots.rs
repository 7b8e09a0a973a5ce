//! The report's plots, one per family of series, each as SVG and PNG: values over the session's
//! time, the warm-up shaded grey, and the times a limiter held a device back shaded red.
//!
//! Long series are thinned to the minimum and maximum of each of ~1000 buckets, so an hour at
//! 10 Hz draws as fast as a minute and a one-sample dip still shows.

use std::path::Path;
use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::traces::{SeriesData, Traces};
use crate::soak::metrics::Kind;

const SIZE: (u32, u32) = (1000, 420);
const MAX_POINTS: usize = 2000;
const FONT: &str = "sans-serif";

/// One plot: series of one family and unit.
pub struct Chart<'a> {
    /// File name without extension.
    pub stem: String,
    pub title: String,
    pub unit: &'static str,
    pub series: Vec<&'a SeriesData>,
}

/// The plots a session has data for, in a fixed order.
pub fn charts(traces: &Traces) -> Vec<Chart<'_>> {
    let families = [
        (Kind::Throughput, "throughput", "Token rates"),
        (Kind::Clock, "clocks", "Clocks"),
        (Kind::Temperature, "temperatures", "Temperatures"),
        (Kind::Power, "power", "Power"),
        (Kind::Efficiency, "efficiency", "Roofline utilisation and draft acceptance"),
        (Kind::Host, "", ""),
    ];
    let mut charts: Vec<Chart> = Vec::new();
    for (kind, stem, title) in families {
        for s in traces.series().filter(|s| s.kind == kind && s.known_values().next().is_some()) {
            // Host series (CPU busy %, load average) differ in unit: one plot each.
            let (stem, title) = if kind == Kind::Host {
                (s.key.replace('_', "-"), s.label.clone())
            } else {
                (stem.to_string(), title.to_string())
            };
            match charts.iter_mut().find(|c| c.stem == stem) {
                Some(c) => c.series.push(s),
                None => charts.push(Chart { stem, title, unit: s.unit, series: vec![s] }),
            }
        }
    }
    charts
}

/// Writes `STEM.svg` and `STEM.png` for every chart; returns the stems.
pub fn draw_all(
    traces: &Traces,
    interval_s: f64,
    warmup_s: f64,
    dir: &Path,
) -> Result<Vec<String>> {
    register_font();
    let spans = throttle_spans(traces, interval_s);
    let mut stems = Vec::new();
    for chart in charts(traces) {
        let svg = dir.join(format!("{}.svg", chart.stem));
        draw(SVGBackend::new(&svg, SIZE).into_drawing_area(), &chart, &spans, warmup_s)
            .map_err(|e| anyhow!("cannot draw {}: {e}", svg.display()))?;
        let png = dir.join(format!("{}.png", chart.stem));
        draw(BitMapBackend::new(&png, SIZE).into_drawing_area(), &chart, &spans, warmup_s)
            .map_err(|e| anyhow!("cannot draw {}: {e}", png.display()))?;
        stems.push(chart.stem);
    }
    Ok(stems)
}

/// Bitmaps need a real font; DejaVu Sans is built in, so no system font is needed.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is a known-good TTF shipped in the `dejavu` crate; if it ever failed to
        // load, drawing text would report the error.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

/// Times (in minutes) when any limiter was engaged, merged into spans.
fn throttle_spans(traces: &Traces, interval_s: f64) -> Vec<(f64, f64)> {
    let half = interval_s / 2.0;
    let mut times: Vec<f64> = traces.throttle_marks.iter().map(|m| m.0).collect();
    times.sort_by(f64::total_cmp);
    let mut spans: Vec<(f64, f64)> = Vec::new();
    for t in times {
        match spans.last_mut() {
            Some(last) if t - half <= last.1 + interval_s * 0.01 => last.1 = last.1.max(t + half),
            _ => spans.push((t - half, t + half)),
        }
    }
    spans.into_iter().map(|(a, b)| (a.max(0.0) / 60.0, b / 60.0)).collect()
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    chart: &Chart,
    throttle: &[(f64, f64)],
    warmup_s: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let lines: Vec<Vec<Vec<(f64, f64)>>> =
        chart.series.iter().map(|s| thin(&s.points, MAX_POINTS)).collect();
    let all = lines.iter().flatten().flatten();
    let (mut x1, mut y0, mut y1) = (0.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in all {
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !y0.is_finite() {
        (y0, y1) = (0.0, 1.0);
    }
    let pad = ((y1 - y0) * 0.08).max(y1.abs() * 0.001).max(0.5);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let x1 = x1.max(1.0 / 60.0);
    let mut c = ChartBuilder::on(&root)
        .caption(&chart.title, (FONT, 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..x1, y0..y1)?;
    c.configure_mesh()
        .x_desc("minutes since start")
        .y_desc(chart.unit)
        .label_style((FONT, 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    if warmup_s > 0.0 {
        let w = (warmup_s / 60.0).min(x1);
        c.draw_series([Rectangle::new([(0.0, y0), (w, y1)], BLACK.mix(0.08).filled())])?
            .label("warm-up")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 16, y + 5)], BLACK.mix(0.15).filled())
            });
    }
    if !throttle.is_empty() {
        c.draw_series(
            throttle
                .iter()
                .map(|&(a, b)| Rectangle::new([(a, y0), (b, y1)], RED.mix(0.18).filled())),
        )?
        .label("limiter engaged")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], RED.mix(0.3).filled()));
    }
    for (i, (series, segments)) in chart.series.iter().zip(&lines).enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let style = ShapeStyle::from(color).stroke_width(2);
        let mut labelled = false;
        for segment in segments {
            // A lone value between gaps (acceptance moves only when a request ends) is a dot.
            let drawn = if segment.len() == 1 {
                c.draw_series(segment.iter().map(|&p| Circle::new(p, 3, style.filled())))?
            } else {
                c.draw_series(LineSeries::new(segment.iter().copied(), style))?
            };
            if !labelled {
                drawn
                    .label(series.label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
                labelled = true;
            }
        }
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    root.present()
}

/// Points in minutes, split where values are unknown (gaps stay gaps), thinned to about `max`
/// points by keeping each bucket's minimum and maximum in time order.
pub fn thin(points: &[(f64, Option<f64>)], max: usize) -> Vec<Vec<(f64, f64)>> {
    let mut segments: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for &(t, v) in points {
        match v {
            Some(v) if v.is_finite() => current.push((t / 60.0, v)),
            _ if !current.is_empty() => segments.push(std::mem::take(&mut current)),
            _ => {}
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    let total: usize = segments.iter().map(Vec::len).sum();
    if total <= max {
        return segments;
    }
    segments
        .into_iter()
        .map(|seg| {
            let buckets = (max / 2 * seg.len() / total).max(1);
            let per = seg.len().div_ceil(buckets);
            let mut out = Vec::with_capacity(buckets * 2);
            for chunk in seg.chunks(per) {
                let lo = chunk.iter().min_by(|a, b| a.1.total_cmp(&b.1));
                let hi = chunk.iter().max_by(|a, b| a.1.total_cmp(&b.1));
                if let (Some(&lo), Some(&hi)) = (lo, hi) {
                    if lo.0 <= hi.0 {
                        out.extend([lo, hi]);
                    } else {
                        out.extend([hi, lo]);
                    }
                }
            }
            out.dedup();
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_extremes_and_gaps() {
        let mut points: Vec<(f64, Option<f64>)> =
            (0..10_000).map(|i| (i as f64, Some((i % 7) as f64))).collect();
        points[5000].1 = Some(-100.0); // a one-sample dip
        points[7000].1 = None; // a gap
        let segs = thin(&points, 2000);
        assert_eq!(segs.len(), 2);
        let n: usize = segs.iter().map(Vec::len).sum();
        assert!(n <= 2100, "{n} points");
        assert!(segs[0].iter().any(|p| p.1 == -100.0), "the dip survives");
        assert!(segs.iter().all(|s| s.windows(2).all(|w| w[0].0 <= w[1].0)), "time order");
        assert_eq!(thin(&[(0.0, None)], 10).len(), 0);
    }
}
