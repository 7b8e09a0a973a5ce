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
    }
}
