//! A least-squares line, fitted from running sums, with a slope interval that allows for
//! autocorrelated residuals.
//!
//! A soak runs for hours, so its drift fits cannot keep every point: the sums below are updated
//! one point at a time, in constant memory, and give the same line, residual sum of squares and
//! lag-1 residual autocorrelation as a two-pass fit over the kept points would (checked against
//! one in the tests). The points are taken relative to the first one, which keeps the cancellation
//! in `Σy² − (Σy)²/n` small: a temperature of 60 °C varying by 0.1 °C is summed as values near 0.
//!
//! Consecutive samples of a temperature or a token rate are not independent (a 1 s series of a
//! quantity that moves over minutes), and the textbook slope interval assumes they are, which
//! would make it far too narrow. The interval here is widened by the lag-1 autocorrelation of
//! the residuals (the effective sample size n·(1−ρ)/(1+ρ) of an AR(1) process).

/// A least-squares line through points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub slope: f64,
    pub intercept: f64,
    /// Standard error of the slope, widened for autocorrelated residuals.
    pub slope_se: f64,
    /// Lag-1 autocorrelation of the residuals (clamped to [0, 0.99]).
    pub rho: f64,
    /// Points, and the effective number of independent ones.
    pub n: usize,
    pub n_eff: f64,
}

impl Fit {
    /// Half-width of the 95 % interval of the slope; `None` with under three effective points.
    pub fn ci95_half_width(&self) -> Option<f64> {
        let dof = self.n_eff - 2.0;
        (dof >= 1.0).then(|| t_975(dof) * self.slope_se)
    }
}

/// Running sums of points (x, y), shifted by the first point, and of products of consecutive
/// points, from which the residuals' lag-1 products are expanded.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FitSums {
    origin: Option<(f64, f64)>,
    prev: Option<(f64, f64)>,
    n: usize,
    x: f64,
    y: f64,
    xx: f64,
    xy: f64,
    yy: f64,
    /// Over consecutive pairs (i, i+1): Σ yᵢyᵢ₊₁, Σ (xᵢyᵢ₊₁ + xᵢ₊₁yᵢ), Σ xᵢxᵢ₊₁,
    /// Σ (yᵢ + yᵢ₊₁), Σ (xᵢ + xᵢ₊₁).
    lag_yy: f64,
    lag_xy: f64,
    lag_xx: f64,
    lag_y: f64,
    lag_x: f64,
}

impl FitSums {
    pub fn push(&mut self, x: f64, y: f64) {
        let (x0, y0) = *self.origin.get_or_insert((x, y));
        let (x, y) = (x - x0, y - y0);
        if let Some((px, py)) = self.prev {
            self.lag_yy += py * y;
            self.lag_xy += px * y + x * py;
            self.lag_xx += px * x;
            self.lag_y += py + y;
            self.lag_x += px + x;
        }
        self.prev = Some((x, y));
        self.n += 1;
        self.x += x;
        self.y += y;
        self.xx += x * x;
        self.xy += x * y;
        self.yy += y * y;
    }

    /// The line; `None` for fewer than 3 points or a constant x.
    pub fn fit(&self) -> Option<Fit> {
        let (n, (x0, y0)) = (self.n, self.origin?);
        if n < 3 {
            return None;
        }
        let nf = n as f64;
        let sxx = self.xx - self.x * self.x / nf;
        if sxx <= 0.0 {
            return None;
        }
        let sxy = self.xy - self.x * self.y / nf;
        let syy = self.yy - self.y * self.y / nf;
        let slope = sxy / sxx;
        let a = (self.y - slope * self.x) / nf;
        // A residual sum this small next to the spread of y is rounding, not noise: a line the
        // points lie on exactly has no residuals, and no autocorrelation to estimate.
        let ssr = syy - slope * sxy;
        let ssr = if ssr > syy * 1e-12 { ssr } else { 0.0 };
        let pairs = (n - 1) as f64;
        let lagged = self.lag_yy - a * self.lag_y - slope * self.lag_xy
            + a * a * pairs
            + a * slope * self.lag_x
            + slope * slope * self.lag_xx;
        // Negative autocorrelation would narrow the interval; we never claim more than OLS does.
        let rho = if ssr > 0.0 { (lagged / ssr).clamp(0.0, 0.99) } else { 0.0 };
        let n_eff = (nf * (1.0 - rho) / (1.0 + rho)).max(2.0).min(nf);
        let se_ols = (ssr / (nf - 2.0) / sxx).sqrt();
        let slope_se = se_ols * ((nf - 2.0) / (n_eff - 2.0).max(f64::MIN_POSITIVE)).sqrt();
        let intercept = a + y0 - slope * x0;
        Some(Fit { slope, intercept, slope_se, rho, n, n_eff })
    }
}

/// Ordinary least squares of y on x; `None` for fewer than 3 points or a constant x.
pub fn linear_fit(points: &[(f64, f64)]) -> Option<Fit> {
    let mut sums = FitSums::default();
    for &(x, y) in points {
        sums.push(x, y);
    }
    sums.fit()
}

/// The 97.5 % quantile of Student's t with `dof` degrees of freedom: exact table values for
/// 1–4, then the Cornish–Fisher expansion around the normal quantile (error < 0.002 from 5).
pub fn t_975(dof: f64) -> f64 {
    const TABLE: [f64; 4] = [12.706, 4.303, 3.182, 2.776];
    if dof < 5.0 {
        let i = (dof.floor().max(1.0) as usize) - 1;
        return TABLE[i.min(3)];
    }
    let z: f64 = 1.959_964;
    let (z3, z5, z7, z9) = (z.powi(3), z.powi(5), z.powi(7), z.powi(9));
    z + (z3 + z) / (4.0 * dof)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * dof.powi(2))
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * dof.powi(3))
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / (92160.0 * dof.powi(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two-pass fit the running sums must agree with: mean, line, residuals, then their
    /// sum of squares and lag-1 products.
    fn two_pass(points: &[(f64, f64)]) -> (f64, f64, f64, f64, f64) {
        let nf = points.len() as f64;
        let mx = points.iter().map(|p| p.0).sum::<f64>() / nf;
        let my = points.iter().map(|p| p.1).sum::<f64>() / nf;
        let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let slope = sxy / sxx;
        let intercept = my - slope * mx;
        let r: Vec<f64> = points.iter().map(|p| p.1 - (intercept + slope * p.0)).collect();
        let ssr: f64 = r.iter().map(|r| r * r).sum();
        let lagged: f64 = r.windows(2).map(|w| w[0] * w[1]).sum();
        (slope, intercept, sxx, ssr, lagged / ssr)
    }

    #[test]
    fn running_sums_agree_with_a_two_pass_fit() {
        // A 55 °C series over an hour at 1 Hz, warming 2 °C/h, with AR(1) noise of 0.3 °C, and
        // x starting well away from 0: the shifted sums must not lose digits to either offset.
        let mut state = 42u64;
        let mut e = 0.0;
        let points: Vec<(f64, f64)> = (0..3600)
            .map(|i| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let u = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                e = 0.8 * e + 0.3 * u;
                let x = 5.0 + i as f64 / 3600.0;
                (x, 55.0 + 2.0 * x + e)
            })
            .collect();
        let fit = linear_fit(&points).unwrap();
        let (slope, intercept, sxx, ssr, rho) = two_pass(&points);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1e-12);
        assert!(close(fit.slope, slope), "{} vs {slope}", fit.slope);
        assert!(close(fit.intercept, intercept), "{} vs {intercept}", fit.intercept);
        assert!(close(fit.rho, rho.clamp(0.0, 0.99)), "{} vs {rho}", fit.rho);
        let se = (ssr / 3598.0 / sxx).sqrt();
        let widened = se * (3598.0 / (fit.n_eff - 2.0)).sqrt();
        assert!((fit.slope_se - widened).abs() <= 1e-6 * widened, "{} vs {widened}", fit.slope_se);
        assert!(rho > 0.5, "the noise is autocorrelated: ρ = {rho}");
    }

    #[test]
    fn too_few_points_or_one_x_give_no_line() {
        assert_eq!(linear_fit(&[]), None);
        assert_eq!(linear_fit(&[(0.0, 1.0), (1.0, 2.0)]), None);
        assert_eq!(linear_fit(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]), None);
    }

    #[test]
    fn student_t_quantiles() {
        for (dof, t) in [
            (1.0, 12.706),
            (3.0, 3.182),
            (5.0, 2.571),
            (10.0, 2.228),
            (30.0, 2.042),
            (1000.0, 1.962),
        ] {
            assert!((t_975(dof) - t).abs() < 0.003, "t({dof}) = {} not {t}", t_975(dof));
        }
    }
}
