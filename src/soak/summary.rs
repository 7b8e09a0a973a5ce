//! The verdict for people: plain text (printed at the end of a soak and by `report`) and
//! markdown (the report file).
//!
//! Precision: a soak's drift is small — the published Strix Halo reference is −0.08 % over an
//! hour — so percentages below 1 keep two significant digits and at least three decimals
//! (`-0.080 %`, `-0.0040 %`), never rounded to `0.0 %`.

use std::fmt::Write;

use super::verdict::{MetricVerdict, Verdict};

/// A percentage with the precision a drift needs, signed.
pub fn pct(v: f64) -> String {
    // Rounding noise of a constant series (1e-15) is no drift.
    let v = if v.abs() < 1e-9 { 0.0 } else { v };
    let a = v.abs();
    let decimals = if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else if a == 0.0 {
        3
    } else {
        // Two significant digits, at least three decimals, at most six.
        (1 - a.log10().floor() as i32).clamp(3, 6) as usize
    };
    format!("{v:+.decimals$}")
}

pub fn opt_pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{} %", pct(v)))
}

/// A value in its unit's usual precision.
pub fn value(v: Option<f64>, unit: &str) -> String {
    let Some(v) = v else { return "n/a".into() };
    match unit {
        "MHz" => format!("{v:.0}"),
        "tok/s" if v.abs() < 100.0 => format!("{v:.2}"),
        _ => format!("{v:.1}"),
    }
}

/// `1h02m03s`, `4m05s`, `7.5s`.
pub fn duration(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{seconds:.1}s");
    }
    let s = seconds.round() as u64;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 { format!("{h}h{m:02}m{s:02}s") } else { format!("{m}m{s:02}s") }
}

/// `decode (tok/s)`; a unitless series (load average) without the parentheses.
fn label(m: &MetricVerdict) -> String {
    if m.unit.is_empty() { m.label.clone() } else { format!("{} ({})", m.label, m.unit) }
}

fn slope(m: &MetricVerdict) -> String {
    match (m.slope_percent_per_hour, m.slope_ci95_percent_per_hour) {
        (Some(s), Some(ci)) => format!("{} ± {}", pct(s), pct(ci).trim_start_matches('+')),
        (Some(s), None) => pct(s),
        _ => "n/a".into(),
    }
}

fn head(v: &Verdict) -> String {
    format!(
        "{} judged after a {} warm-up, first and last windows of {}; {} snapshots, {} missed",
        duration(v.judged_s),
        duration(v.warmup_s),
        duration(v.window_s),
        v.snapshots,
        v.missed_snapshots
    )
}

/// Rows worth showing: the series that had a value after warm-up.
fn shown(v: &Verdict) -> impl Iterator<Item = &MetricVerdict> {
    v.metrics.iter().filter(|m| m.samples > 0)
}

/// A series' cells: label, first and last window means, drift, slope, min, max.
fn cells(m: &MetricVerdict) -> [String; 7] {
    [
        label(m),
        value(m.first_window_mean, &m.unit),
        value(m.last_window_mean, &m.unit),
        opt_pct(m.drift_percent),
        slope(m),
        value(m.min, &m.unit),
        value(m.max, &m.unit),
    ]
}

/// Labels of the series that had no value after warm-up.
fn without_readings(v: &Verdict) -> String {
    let empty: Vec<&str> =
        v.metrics.iter().filter(|m| m.samples == 0).map(|m| m.label.as_str()).collect();
    empty.join(", ")
}

pub fn text(v: &Verdict) -> String {
    let mut out = format!("verdict: {}\n", head(v));
    let w = shown(v).map(|m| label(m).chars().count()).max().unwrap_or(0).max(6);
    let header = ["series", "first", "last", "drift", "slope %/h (95 % CI)", "min", "max"];
    let rows = std::iter::once((header.map(String::from), "samples".to_string())).chain(
        shown(v).map(|m| {
            let samples = if m.missing > 0 {
                format!("{}+{}?", m.samples, m.missing)
            } else {
                m.samples.to_string()
            };
            (cells(m), samples)
        }),
    );
    for ([l, first, last, drift, slope, min, max], samples) in rows {
        let _ = writeln!(
            out,
            "  {l:<w$} {first:>9} {last:>9} {drift:>10} {slope:>22} {min:>9} {max:>9} {samples:>8}"
        );
    }
    let empty = without_readings(v);
    if !empty.is_empty() {
        let _ = writeln!(out, "  no readings after warm-up: {empty}");
    }
    if v.throttle.is_empty() {
        out += "  throttle residency: no limiter engaged (or none reported)\n";
    } else {
        out += "  throttle residency (share of the judged time):\n";
        for t in &v.throttle {
            let _ = writeln!(
                out,
                "    {:<10} {:<24} {:>7.2} %",
                t.device, t.limiter, t.percent_of_time
            );
        }
    }
    out
}

pub fn markdown(v: &Verdict) -> String {
    let mut out = format!("{}.\n\n", head(v));
    out += "| series | first window | last window | drift | slope %/h (95 % CI) | min | max | samples (missing) |\n";
    out += "|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for m in shown(v) {
        let _ = writeln!(out, "| {} | {} ({}) |", cells(m).join(" | "), m.samples, m.missing);
    }
    let empty = without_readings(v);
    if !empty.is_empty() {
        let _ = writeln!(out, "\nNo readings after warm-up: {empty}.");
    }
    out += "\nThrottle residency (share of the judged time):\n\n";
    if v.throttle.is_empty() {
        out += "no limiter engaged (or none reported).\n";
    } else {
        out += "| device | limiter | % of time |\n|---|---|---:|\n";
        for t in &v.throttle {
            let _ = writeln!(out, "| {} | {} | {:.2} |", t.device, t.limiter, t.percent_of_time);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soak::metrics::Extract;

    #[test]
    fn small_drifts_keep_their_digits() {
        assert_eq!(pct(-0.08), "-0.080");
        assert_eq!(pct(-0.0707), "-0.071");
        assert_eq!(pct(0.004), "+0.0040");
        assert_eq!(pct(0.0), "+0.000");
        assert_eq!(pct(-3e-14), "+0.000");
        assert_eq!(pct(-1.234), "-1.23");
        assert_eq!(pct(12.34), "+12.3");
        assert_eq!(opt_pct(None), "n/a");
    }

    /// A minute of a GPU warming 1 °C every 10 s, limited at 40 % every other snapshot, one
    /// reading lost, after a 10 s warm-up. By hand: windows of 50/4 = 12.5 s, means 51.6 (t 10–22)
    /// and 55.4 (t 48–60); 360 °C/h over a mean of 53.51 °C; 26 of 51 reports at 40 %.
    fn warming_gpu() -> Verdict {
        let mut t = super::super::verdict::Tracker::new(10.0);
        for i in 0..=60u64 {
            let value = (i != 30).then_some(50.0 + i as f64 / 10.0);
            t.push_extract(i, i * 1000, Extract::gpu_temperature(value, i % 2 == 0));
        }
        t.verdict()
    }

    #[test]
    fn text_and_markdown_tables() {
        let v = warming_gpu();
        assert_eq!(
            text(&v),
            "verdict: 50.0s judged after a 10.0s warm-up, first and last windows of 12.5s; \
             61 snapshots, 0 missed
  series       first      last      drift    slope %/h (95 % CI)       min       max  samples
  GPU (°C)      51.6      55.4    +7.36 %         +672.8 ± 0.000      51.0      56.0    50+1?
  throttle residency (share of the judged time):
    card1      thm_gfx                    20.39 %
"
        );
        let md = markdown(&v);
        assert!(
            md.contains(
                "| GPU (°C) | 51.6 | 55.4 | +7.36 % | +672.8 ± 0.000 | 51.0 | 56.0 | 50 (1) |"
            ),
            "{md}"
        );
        assert!(md.contains("| card1 | thm_gfx | 20.39 |"), "{md}");
    }

    #[test]
    fn durations_and_values() {
        assert_eq!(duration(7.46), "7.5s");
        assert_eq!(duration(245.0), "4m05s");
        assert_eq!(duration(3723.0), "1h02m03s");
        assert_eq!(value(Some(47.333), "tok/s"), "47.33");
        assert_eq!(value(Some(1469.6), "MHz"), "1470");
        assert_eq!(value(None, "W"), "n/a");
    }
}
