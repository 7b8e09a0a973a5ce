//! Number formatting shared by every pane. An unknown value always prints as `n/a`.

pub const NA: &str = "n/a";

pub fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| NA.into(), |v| format!("{v:.1}%"))
}

pub fn celsius(value: Option<f64>) -> String {
    value.map_or_else(|| NA.into(), |v| format!("{v:.1}°C"))
}

/// Binary units, three significant figures: `512 B`, `1.50 KiB`, `23.4 GiB`, `128 GiB`.
pub fn bytes(value: Option<u64>) -> String {
    let Some(v) = value else { return NA.into() };
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut scaled = v as f64;
    let mut unit = 0;
    while scaled >= 1024.0 && unit < UNITS.len() - 1 {
        scaled /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{v} B"),
        _ if scaled >= 100.0 => format!("{scaled:.0} {}", UNITS[unit]),
        _ if scaled >= 10.0 => format!("{scaled:.1} {}", UNITS[unit]),
        _ => format!("{scaled:.2} {}", UNITS[unit]),
    }
}

pub fn mhz(value: Option<f64>) -> String {
    match value {
        None => NA.into(),
        Some(v) if v >= 1000.0 => format!("{:.2} GHz", v / 1000.0),
        Some(v) => format!("{v:.0} MHz"),
    }
}

/// `3d 04:12:09`, `04:12:09`: uptime and session time.
pub fn duration_s(value: Option<f64>) -> String {
    let Some(v) = value.filter(|v| v.is_finite() && *v >= 0.0) else { return NA.into() };
    let total = v as u64;
    let (days, rest) = (total / 86_400, total % 86_400);
    let clock = format!("{:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    if days > 0 { format!("{days}d {clock}") } else { clock }
}

/// `250ms`, `1s`, `1.5s`, `2m`.
pub fn interval_ms(ms: u64) -> String {
    match ms {
        _ if ms.is_multiple_of(60_000) && ms > 0 => format!("{}m", ms / 60_000),
        _ if ms.is_multiple_of(1000) => format!("{}s", ms / 1000),
        _ if ms > 1000 => format!("{:.1}s", ms as f64 / 1000.0),
        _ => format!("{ms}ms"),
    }
}

/// Three significant figures, no unit: `0.068`, `4.52`, `45.3`, `812`, `12345`.
pub fn sig3(value: f64) -> String {
    let magnitude = value.abs();
    match magnitude {
        m if !m.is_finite() => NA.into(),
        m if m >= 100.0 || m == 0.0 => format!("{value:.0}"),
        m if m >= 10.0 => format!("{value:.1}"),
        m if m >= 1.0 => format!("{value:.2}"),
        _ => format!("{value:.3}"),
    }
}

/// [`sig3`], or `n/a`.
pub fn num(value: Option<f64>) -> String {
    value.map_or_else(|| NA.into(), sig3)
}

/// A value with its unit, `n/a` when unknown: `45.3 tok/s`, `189 GB/s`.
pub fn with_unit(value: Option<f64>, unit: &str) -> String {
    value.map_or_else(|| NA.into(), |v| format!("{} {unit}", sig3(v)))
}

/// A token count: `950`, `4096`, `12.3K`, `1.20M`.
pub fn tokens(value: Option<u64>) -> String {
    match value {
        None => NA.into(),
        Some(v) if v < 10_000 => v.to_string(),
        Some(v) if v < 1_000_000 => format!("{}K", sig3(v as f64 / 1000.0)),
        Some(v) => format!("{}M", sig3(v as f64 / 1e6)),
    }
}

/// A bar `cells` wide filled to `share` (0 to 1) in half cells: `██████▌   `.
pub fn bar(share: f64, cells: usize) -> String {
    let filled = if share.is_finite() { share.clamp(0.0, 1.0) * cells as f64 } else { 0.0 };
    (0..cells)
        .map(|i| match i as f64 {
            i if i + 1.0 <= filled => '█',
            i if i + 0.5 <= filled => '▌',
            _ => ' ',
        })
        .collect()
}

/// A GPU's name without the vendor words every card has: `RTX 3090`, `H200`, `Radeon 8060S`.
pub fn short_gpu_name(name: &str) -> String {
    let mut short = name.to_string();
    for noise in ["NVIDIA ", "GeForce ", "AMD ", " Graphics"] {
        short = short.replace(noise, "");
    }
    if short.trim().is_empty() { name.to_string() } else { short.trim().to_string() }
}

/// A span of session time for axis labels and the time window: `30s`, `1m`, `2m30s`, `1h`.
pub fn span_ms(ms: u64) -> String {
    let s = ms / 1000;
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, min, 0) => format!("{min}m"),
        (0, min, sec) => format!("{min}m{sec:02}s"),
        (h, 0, _) => format!("{h}h"),
        (h, min, _) => format!("{h}h{min:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_is_na_and_zero_is_zero() {
        assert_eq!(percent(None), "n/a");
        assert_eq!(percent(Some(0.0)), "0.0%");
        assert_eq!(bytes(None), "n/a");
        assert_eq!(bytes(Some(0)), "0 B");
        assert_eq!(celsius(Some(0.0)), "0.0°C");
    }

    #[test]
    fn binary_units() {
        assert_eq!(bytes(Some(512)), "512 B");
        assert_eq!(bytes(Some(1536)), "1.50 KiB");
        assert_eq!(bytes(Some(128 << 30)), "128 GiB");
        assert_eq!(bytes(Some(23_400_000_000)), "21.8 GiB");
    }

    #[test]
    fn clocks_and_durations() {
        assert_eq!(mhz(Some(2900.0)), "2.90 GHz");
        assert_eq!(mhz(Some(600.0)), "600 MHz");
        assert_eq!(
            duration_s(Some(3.0 * 86400.0 + 4.0 * 3600.0 + 12.0 * 60.0 + 9.0)),
            "3d 04:12:09"
        );
        assert_eq!(duration_s(Some(61.0)), "00:01:01");
        assert_eq!(duration_s(Some(f64::NAN)), "n/a");
        assert_eq!(interval_ms(1000), "1s");
        assert_eq!(interval_ms(250), "250ms");
        assert_eq!(interval_ms(1500), "1.5s");
        assert_eq!(interval_ms(120_000), "2m");
        assert_eq!(span_ms(30_000), "30s");
        assert_eq!(span_ms(150_000), "2m30s");
        assert_eq!(span_ms(3_600_000), "1h");
        assert_eq!(span_ms(5_400_000), "1h30m");
    }

    #[test]
    fn significant_figures_and_token_counts() {
        assert_eq!(sig3(0.0681), "0.068");
        assert_eq!(sig3(4.524), "4.52");
        assert_eq!(sig3(45.34), "45.3");
        assert_eq!(sig3(812.4), "812");
        assert_eq!(sig3(0.0), "0");
        assert_eq!(with_unit(None, "tok/s"), "n/a");
        assert_eq!(with_unit(Some(0.0), "tok/s"), "0 tok/s");
        assert_eq!(tokens(Some(4096)), "4096");
        assert_eq!(tokens(Some(12_345)), "12.3K");
        assert_eq!(tokens(Some(1_200_000)), "1.20M");
        assert_eq!(bar(0.55, 10), "█████▌    ");
        assert_eq!(short_gpu_name("NVIDIA GeForce RTX 3090"), "RTX 3090");
        assert_eq!(short_gpu_name("AMD Radeon 8060S Graphics"), "Radeon 8060S");
        assert_eq!(short_gpu_name("NVIDIA"), "NVIDIA");
        assert_eq!(bar(2.0, 3), "███");
        assert_eq!(bar(f64::NAN, 2), "  ");
    }
}
