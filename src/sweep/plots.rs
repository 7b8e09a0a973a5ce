//! The sweep report's plots, each as SVG and PNG: tok/s against context depth per configuration (decode and
//! prefill), every point on the roofline (achieved GB/s against bytes per step, under the peak),
//! the share of the peak per point, and the two Pareto views (KV cache against tok/s, the
//! front drawn as a line).

use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::point::Point;
use super::report::{self, decode_tok_s, prefill_tok_s};
use super::results::SweepFile;

const SIZE: (u32, u32) = (1000, 520);
const FONT: &str = "sans-serif";

/// A plot written to the report directory as `STEM.svg` and `STEM.png`.
pub struct Plot {
    pub stem: String,
    pub title: String,
}

/// Draws one plot on any backend (SVG and bitmap share the code).
trait Draw {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Draws every plot the points have data for.
pub fn draw_all(file: &SweepFile, dir: &Path) -> Result<Vec<Plot>> {
    register_font();
    let points = &file.points;
    let mut plots = Vec::new();
    let decode = decode_tok_s as fn(&Point) -> Option<f64>;
    let prefill = prefill_tok_s as fn(&Point) -> Option<f64>;
    let mut wanted: Vec<(&str, &str, Box<dyn DrawAny + '_>)> = Vec::new();
    for (stem, title, rate) in [
        ("depth-decode", "Decode tok/s vs context depth", decode),
        ("depth-prefill", "Prefill tok/s vs context depth", prefill),
    ] {
        if points.iter().any(|p| rate(p).is_some()) {
            wanted.push((stem, title, Box::new(DepthPlot { title, points, rate })));
        }
    }
    if points.iter().any(|p| p.roofline.is_some()) {
        let sweep = &file.header.sweep;
        wanted.push((
            "roofline",
            "Decode on the bandwidth roofline",
            Box::new(RooflinePlot {
                points,
                peak: sweep.peak_gbps,
                calibrated: sweep.calibrated_read_gbps,
            }),
        ));
        if points
            .iter()
            .any(|p| p.roofline.as_ref().is_some_and(|r| r.utilisation_of_peak_percent.is_some()))
        {
            wanted.push((
                "roofline-percent",
                "Share of the peak bandwidth per point",
                Box::new(PercentPlot { points }),
            ));
        }
    }
    for (stem, title, rate) in [
        ("pareto-decode", "KV cache vs decode tok/s (front per depth)", decode),
        ("pareto-prefill", "KV cache vs prefill tok/s (front per depth)", prefill),
    ] {
        if points.iter().any(|p| p.kv_cache_bytes.is_some() && rate(p).is_some()) {
            wanted.push((stem, title, Box::new(ParetoPlot { title, points, rate })));
        }
    }
    for (stem, title, plot) in wanted {
        let svg = dir.join(format!("{stem}.svg"));
        plot.svg(&svg).map_err(|e| anyhow!("cannot draw {}: {e}", svg.display()))?;
        let png = dir.join(format!("{stem}.png"));
        plot.png(&png).map_err(|e| anyhow!("cannot draw {}: {e}", png.display()))?;
        plots.push(Plot { stem: stem.to_string(), title: title.to_string() });
    }
    Ok(plots)
}

/// A [`Draw`] made object-safe for the two backends used.
trait DrawAny {
    fn svg(&self, path: &Path) -> Result<(), String>;
    fn png(&self, path: &Path) -> Result<(), String>;
}

impl<T: Draw> DrawAny for T {
    fn svg(&self, path: &Path) -> Result<(), String> {
        self.draw(SVGBackend::new(path, SIZE).into_drawing_area()).map_err(|e| e.to_string())
    }
    fn png(&self, path: &Path) -> Result<(), String> {
        self.draw(BitMapBackend::new(path, SIZE).into_drawing_area()).map_err(|e| e.to_string())
    }
}

/// Text needs a font to be measured; DejaVu Sans is built in, so no system font is needed.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

/// `lo..hi` padded so that points do not sit on the frame.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.05).max(1e-9);
    ((lo - pad).max(0.0), hi + pad)
}

fn bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.filter(|v| v.is_finite()).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((a, b)) => Some((a.min(v), b.max(v))),
    })
}

/// Tok/s against depth, one line per configuration.
struct DepthPlot<'a> {
    title: &'a str,
    points: &'a [Point],
    rate: fn(&Point) -> Option<f64>,
}

impl Draw for DepthPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (title, points, rate) = (self.title, self.points, self.rate);
        let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        for p in points {
            let Some(v) = rate(p) else { continue };
            let label = p.config.series_label(p.kind);
            let xy = (p.config.depth_tokens as f64, v);
            match series.iter_mut().find(|s| s.0 == label) {
                Some(s) => s.1.push(xy),
                None => series.push((label, vec![xy])),
            }
        }
        let (x0, x1) =
            bounds(series.iter().flat_map(|s| s.1.iter().map(|p| p.0))).unwrap_or((0.0, 1.0));
        let (_, y1) =
            bounds(series.iter().flat_map(|s| s.1.iter().map(|p| p.1))).unwrap_or((0.0, 1.0));
        let (x0, x1) = padded(x0, x1.max(x0 + 1.0));
        let mut c =
            frame(&root, title, (x0..x1, 0.0..y1 * 1.1), ("context depth (tokens)", "tok/s"))?;
        for (i, (label, mut xy)) in series.into_iter().enumerate() {
            xy.sort_by(|a, b| a.0.total_cmp(&b.0));
            let style = ShapeStyle::from(Palette99::pick(i).to_rgba()).stroke_width(2);
            c.draw_series(LineSeries::new(xy.iter().copied(), style))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
            c.draw_series(xy.iter().map(|&p| Circle::new(p, 3, style.filled())))?;
        }
        legend(&mut c)?;
        root.present()
    }
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Every plot's frame: a white page, the title above, the axes with their names.
fn frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    (x, y): (Range<f64>, Range<f64>),
    (x_desc, y_desc): (&str, &str),
) -> Result<Chart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let mut c = ChartBuilder::on(root)
        .caption(title, (FONT, 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(x, y)?;
    c.configure_mesh().x_desc(x_desc).y_desc(y_desc).label_style((FONT, 13)).draw()?;
    Ok(c)
}

fn legend<'a, DB: DrawingBackend + 'a, X, Y>(
    c: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> DrawResult<DB>
where
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
{
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
}

/// Achieved GB/s against bytes per step, under the peak and the calibrated ceiling.
struct RooflinePlot<'a> {
    points: &'a [Point],
    peak: Option<f64>,
    calibrated: Option<f64>,
}

impl Draw for RooflinePlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (points, peak, calibrated) = (self.points, self.peak, self.calibrated);
        let placed: Vec<(usize, &Point, f64, f64)> = points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                p.roofline.as_ref().map(|r| (i + 1, p, r.bytes_per_step / 1e6, r.achieved_gbps))
            })
            .collect();
        let (x0, x1) = bounds(placed.iter().map(|p| p.2)).unwrap_or((1.0, 10.0));
        let top =
            bounds(placed.iter().map(|p| p.3).chain(peak).chain(calibrated)).map_or(1.0, |b| b.1);
        let (x0, x1) = padded(x0, x1.max(x0 * 1.01));
        let mut c = frame(
            &root,
            "Decode on the bandwidth roofline",
            (x0..x1, 0.0..top * 1.12),
            ("bytes read per decode step (MB)", "achieved GB/s"),
        )?;
        for (value, name, color) in [(peak, "peak", RED), (calibrated, "calibrated ceiling", BLUE)]
        {
            if let Some(v) = value {
                let style = ShapeStyle::from(color.mix(0.7)).stroke_width(2);
                c.draw_series(LineSeries::new([(x0, v), (x1, v)], style))?
                    .label(format!("{name} {v:.0} GB/s"))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
            }
        }
        let kinds: Vec<String> = {
            let mut k: Vec<String> = placed.iter().map(|p| p.1.config.kv_label()).collect();
            k.sort();
            k.dedup();
            k
        };
        for (i, kv) in kinds.iter().enumerate() {
            let style = ShapeStyle::from(Palette99::pick(i).to_rgba()).filled();
            let mine: Vec<&(usize, &Point, f64, f64)> =
                placed.iter().filter(|p| &p.1.config.kv_label() == kv).collect();
            c.draw_series(mine.iter().map(|p| Circle::new((p.2, p.3), 4, style)))?
                .label(format!("KV {kv}"))
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, style));
            // Each point's number (as in the report's table), just above right of its marker.
            let font = (FONT, 11).into_font().color(&BLACK.mix(0.7));
            c.draw_series(mine.iter().map(|p| {
                EmptyElement::at((p.2, p.3)) + Text::new(p.0.to_string(), (5, -14), font.clone())
            }))?;
        }
        legend(&mut c)?;
        root.present()
    }
}

/// % of the peak per point, as bars numbered like the report's table.
struct PercentPlot<'a> {
    points: &'a [Point],
}

impl Draw for PercentPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let points = self.points;
        let bars: Vec<(usize, f64)> = points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((i + 1, p.roofline.as_ref()?.utilisation_of_peak_percent?)))
            .collect();
        let n = points.len().max(1);
        let top = bounds(bars.iter().map(|b| b.1)).map_or(1.0, |b| b.1);
        let mut c = frame(
            &root,
            "Share of the peak bandwidth per point",
            (0.5f64..n as f64 + 0.5, 0.0..top * 1.15),
            ("point # (see the table)", "% of peak"),
        )?;
        c.draw_series(bars.iter().map(|&(i, v)| {
            let x = i as f64;
            Rectangle::new([(x - 0.35, 0.0), (x + 0.35, v)], BLUE.mix(0.6).filled())
        }))?;
        root.present()
    }
}

/// KV cache (MiB) against tok/s; each depth's front joined by a line.
struct ParetoPlot<'a> {
    title: &'a str,
    points: &'a [Point],
    rate: fn(&Point) -> Option<f64>,
}

impl Draw for ParetoPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (title, points, rate) = (self.title, self.points, self.rate);
        let on_front = report::front(points, rate);
        let all: Vec<(usize, u64, f64, f64)> = points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                Some((i + 1, p.config.depth_tokens, p.kv_cache_bytes? / 1_048_576.0, rate(p)?))
            })
            .collect();
        let (x0, x1) = bounds(all.iter().map(|p| p.2)).unwrap_or((0.0, 1.0));
        let (_, y1) = bounds(all.iter().map(|p| p.3)).unwrap_or((0.0, 1.0));
        let (x0, x1) = padded(x0, x1.max(x0 * 1.01 + 1e-6));
        let mut c = frame(&root, title, (x0..x1, 0.0..y1 * 1.12), ("KV cache (MiB)", "tok/s"))?;
        let mut depths: Vec<u64> = all.iter().map(|p| p.1).collect();
        depths.sort_unstable();
        depths.dedup();
        for (i, depth) in depths.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let mine: Vec<&(usize, u64, f64, f64)> = all.iter().filter(|p| p.1 == *depth).collect();
            c.draw_series(mine.iter().map(|p| {
                let on = on_front.contains(&p.0);
                Circle::new(
                    (p.2, p.3),
                    if on { 6 } else { 3 },
                    if on { color.filled() } else { color.stroke_width(1) },
                )
            }))?
            .label(format!("depth {depth}"))
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
            let mut front: Vec<(f64, f64)> =
                mine.iter().filter(|p| on_front.contains(&p.0)).map(|p| (p.2, p.3)).collect();
            front.sort_by(|a, b| a.0.total_cmp(&b.0));
            c.draw_series(LineSeries::new(front, ShapeStyle::from(color).stroke_width(1)))?;
            // Each point's number (as in the report's table), just above right of its marker.
            let font = (FONT, 11).into_font().color(&BLACK.mix(0.7));
            c.draw_series(mine.iter().map(|p| {
                EmptyElement::at((p.2, p.3)) + Text::new(p.0.to_string(), (5, -14), font.clone())
            }))?;
        }
        legend(&mut c)?;
        root.present()
    }
}
