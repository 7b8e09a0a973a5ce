use super::*;
use crate::soak::fit::linear_fit;

/// splitmix64 and Box–Muller: reproducible Gaussian noise without a dependency.
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn gauss(&mut self) -> f64 {
        let (u1, u2) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

type Points = Vec<(f64, Option<f64>)>;

/// The verdict on one decode series, fed point by point as a soak feeds it.
fn judge(points: &Points, warmup_s: f64, window_s: f64, end_s: f64) -> MetricVerdict {
    let mut s = SeriesJudge::new(
        "decode_tok_s".into(),
        "decode".into(),
        "tok/s",
        Kind::Throughput,
        warmup_s,
    );
    for &(t, v) in points {
        s.push(t, v);
    }
    s.verdict(window_s, end_s)
}

/// A 1 Hz hour of `base` tok/s falling linearly by `percent_per_hour`, plus white noise.
fn soak_hour(base: f64, percent_per_hour: f64, sigma: f64, seed: u64) -> Points {
    let mut noise = Noise(seed);
    (0..3600)
        .map(|i| {
            let t = i as f64;
            let trend = base * (1.0 + percent_per_hour / 100.0 * t / 3600.0);
            (t, Some(trend + sigma * noise.gauss()))
        })
        .collect()
}

#[test]
fn an_exact_line_gives_its_slope_and_drift() {
    // 100 → 90 over an hour, no noise, no warm-up: windows of 5 min centred 2.5 min in and out.
    let s: Points =
        (0..=3600).map(|i| (i as f64, Some(100.0 - 10.0 * i as f64 / 3600.0))).collect();
    let v = judge(&s, 0.0, 300.0, 3600.0);
    assert_eq!(v.samples, 3601);
    assert!((v.slope_per_hour.unwrap() + 10.0).abs() < 1e-9);
    assert!((v.slope_percent_per_hour.unwrap() + 10.0 / 95.0 * 100.0).abs() < 1e-9);
    assert!(v.slope_ci95_percent_per_hour.unwrap() < 1e-6);
    assert!((v.first_window_mean.unwrap() - (100.0 - 10.0 * 150.0 / 3600.0)).abs() < 1e-9);
    assert!((v.change.unwrap() + 10.0 * 3300.0 / 3600.0).abs() < 1e-9);
    assert_eq!((v.min.unwrap(), v.max.unwrap()), (90.0, 100.0));
}

#[test]
fn the_published_strix_halo_drift_is_resolved_not_rounded_away() {
    // −0.08 %/h on 50 tok/s with 0.2 tok/s of sample noise (0.4 %): the fit finds it, and its
    // interval excludes zero.
    let s = soak_hour(50.0, -0.08, 0.2, 7);
    let v = judge(&s, 120.0, 300.0, 3599.0);
    let slope = v.slope_percent_per_hour.unwrap();
    let ci = v.slope_ci95_percent_per_hour.unwrap();
    assert!((slope + 0.08).abs() < ci, "slope {slope} ± {ci}");
    assert!(ci < 0.06, "interval {ci} too wide to tell −0.08 from 0");
    assert!(slope + ci < 0.0, "the drift is significant: {slope} ± {ci}");
    // Windows 300 s wide, centres 3180 s apart: −0.08 %/h × 0.883 h.
    let drift = v.drift_percent.unwrap();
    assert!((drift + 0.0707).abs() < 0.02, "drift {drift}");
}

#[test]
fn the_interval_holds_its_coverage_on_autocorrelated_noise() {
    // AR(1) noise (ρ = 0.9), as a thermally driven series has. The plain OLS interval would
    // cover the true slope about half the time; the widened one about 95 %.
    let (runs, mut covered, mut naive_covered) = (300, 0, 0);
    for seed in 0..runs {
        let mut noise = Noise(1000 + seed);
        let mut e = 0.0;
        let points: Vec<(f64, f64)> = (0..600)
            .map(|i| {
                e = 0.9 * e + noise.gauss();
                (i as f64 / 3600.0, 20.0 - 3.0 * i as f64 / 3600.0 + e)
            })
            .collect();
        let fit = linear_fit(&points).unwrap();
        let half = fit.ci95_half_width().unwrap();
        covered += usize::from((fit.slope + 3.0).abs() <= half);
        let naive = fit.slope_se * ((fit.n_eff - 2.0) / (fit.n as f64 - 2.0)).sqrt() * 1.964;
        naive_covered += usize::from((fit.slope + 3.0).abs() <= naive);
    }
    let rate = covered as f64 / runs as f64;
    let naive_rate = naive_covered as f64 / runs as f64;
    assert!((0.88..=0.99).contains(&rate), "coverage {rate}");
    assert!(naive_rate < 0.75, "plain OLS coverage {naive_rate} should be poor here");
}

#[test]
fn flat_noisy_series_has_an_interval_around_zero() {
    let s = soak_hour(40.0, 0.0, 1.0, 3);
    let v = judge(&s, 0.0, 300.0, 3599.0);
    let (slope, ci) = (v.slope_percent_per_hour.unwrap(), v.slope_ci95_percent_per_hour.unwrap());
    assert!(slope.abs() < ci, "{slope} ± {ci}");
}

#[test]
fn gaps_and_warmup_are_counted_not_invented() {
    let mut points: Vec<(f64, Option<f64>)> = (0..20).map(|i| (i as f64, Some(10.0))).collect();
    points[15].1 = None;
    let v = judge(&points, 10.0, 2.5, 19.0);
    assert_eq!((v.samples, v.missing), (9, 1));
    assert_eq!(v.drift_percent, Some(0.0));
    // Too few points: no slope, and no interval, rather than a made-up one.
    let v = judge(&vec![(0.0, Some(1.0)), (1.0, Some(2.0))], 0.0, 0.5, 1.0);
    assert_eq!(v.slope_per_hour, None);
    assert_eq!(v.slope_ci95_percent_per_hour, None);
    // A zero baseline has no % drift, but its change in units is still there.
    let v = judge(&vec![(0.0, Some(0.0)), (1.0, Some(0.0)), (2.0, Some(5.0))], 0.0, 0.5, 2.0);
    assert_eq!(v.drift_percent, None);
    assert_eq!(v.change, Some(5.0));
}

#[test]
fn tracker_counts_missed_snapshots_and_throttle_residency() {
    let mut t = Tracker::new(2.0);
    for (seq, limited) in [(0, true), (1, true), (2, false), (3, true), (6, false), (7, false)] {
        let x = Extract::gpu_temperature(Some(50.0 + seq as f64), limited);
        t.push_extract(seq, seq * 1000, x);
    }
    let v = t.verdict();
    assert_eq!((v.snapshots, v.missed_snapshots), (6, 2));
    assert_eq!(v.judged_s, 5.0);
    // After warm-up (t ≥ 2 s): 4 reports, one at 40 % → 10 % of the time.
    assert_eq!(v.throttle.len(), 1);
    assert!((v.throttle[0].percent_of_time - 10.0).abs() < 1e-9);
    let temp = v.metric("temp_c.gpu").unwrap();
    assert_eq!(temp.min, Some(52.0));
}

#[test]
fn a_long_soak_keeps_only_its_two_windows() {
    // Three hours at 1 Hz after a 10-minute warm-up: the judge holds 5 minutes at each end, and
    // the windows' means are those of the exact line 100 → 70.
    let (warmup, end) = (600.0, 600.0 + 3.0 * 3600.0);
    let line = |t: f64| 100.0 - 10.0 * (t - warmup) / 3600.0;
    let mut s = SeriesJudge::new("x".into(), "x".into(), "tok/s", Kind::Throughput, warmup);
    for i in 0..=(end as u64) {
        s.push(i as f64, Some(line(i as f64)));
    }
    assert_eq!((s.head.len(), s.tail.len()), (301, 301));
    let v = s.verdict(MAX_WINDOW_S, end);
    assert_eq!(v.samples, 3 * 3600 + 1);
    assert!((v.first_window_mean.unwrap() - line(warmup + 150.0)).abs() < 1e-9);
    assert!((v.last_window_mean.unwrap() - line(end - 150.0)).abs() < 1e-9);
    assert!((v.slope_per_hour.unwrap() + 10.0).abs() < 1e-9);
    assert_eq!((v.min, v.max), (Some(70.0), Some(100.0)));
}
