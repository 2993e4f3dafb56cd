//! Theta models in the state-space form of Fiorucci et al. (2016): standard (STM),
//! optimised (OTM) and their dynamic variants (DSTM, DOTM). AutoTheta picks the
//! variant with the smallest in-sample MSE.
//!
//! With level ℓ (SES of y), trend intercept A and slope B (OLS on time 1..t):
//!   μ_t = ℓ_{t−1} + (1 − 1/θ)[(1−α)^{t−1} A + (1 − (1−α)^t)/α · B]
//!   ŷ_{n+h} = ℓ_n + (1 − 1/θ)[(1−α)^n A_n + ((1 − (1−α)^{n+1})/α + h − 1) B_n]
//! which is exactly "SES of the theta line, recombined with the extrapolated trend line".

use serde::{Deserialize, Serialize};

use crate::error::{Result, check_series};
use crate::optim::BoxNelderMead;
use crate::{Forecast, stats};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThetaVariant {
    /// θ = 2, fixed trend line.
    Standard,
    /// θ estimated, fixed trend line.
    Optimized,
    /// θ = 2, trend line re-estimated at every step.
    DynamicStandard,
    /// θ estimated, trend line re-estimated at every step.
    DynamicOptimized,
}

impl ThetaVariant {
    pub const ALL: [ThetaVariant; 4] = [
        ThetaVariant::Standard,
        ThetaVariant::Optimized,
        ThetaVariant::DynamicStandard,
        ThetaVariant::DynamicOptimized,
    ];

    fn dynamic(self) -> bool {
        matches!(self, ThetaVariant::DynamicStandard | ThetaVariant::DynamicOptimized)
    }

    fn optimised_theta(self) -> bool {
        matches!(self, ThetaVariant::Optimized | ThetaVariant::DynamicOptimized)
    }

    pub fn short_name(self) -> &'static str {
        match self {
            ThetaVariant::Standard => "STM",
            ThetaVariant::Optimized => "OTM",
            ThetaVariant::DynamicStandard => "DSTM",
            ThetaVariant::DynamicOptimized => "DOTM",
        }
    }
}

/// Parameters and final states of a fitted theta model.
#[derive(Debug, Clone, PartialEq)]
pub struct ThetaFit {
    pub variant: ThetaVariant,
    pub alpha: f64,
    pub theta: f64,
    pub initial_level: f64,
    pub mse: f64,
    pub level: f64,
    pub intercept: f64,
    pub slope: f64,
    pub fitted: Vec<f64>,
    pub n: usize,
}

const ALPHA_MIN: f64 = 0.1;
const ALPHA_MAX: f64 = 0.99;
const THETA_MIN: f64 = 1.0;
const THETA_MAX: f64 = 1e10;
const LEVEL_BOUND: f64 = 1e10;
/// One-step errors ignored by the objective while the trend estimates settle.
const BURN_IN: usize = 3;

/// Errors skipped at the start: `BURN_IN` when enough observations remain, else none.
fn burn_in(n: usize) -> usize {
    if n > BURN_IN + 1 { BURN_IN } else { 0 }
}

/// Runs the recursion; returns (sum of squared errors, final level, final A, final B) and
/// optionally writes one-step fitted values.
fn run(
    y: &[f64],
    alpha: f64,
    theta: f64,
    level0: f64,
    dynamic: bool,
    fitted: Option<&mut Vec<f64>>,
) -> (f64, f64, f64, f64) {
    let n = y.len();
    let burn_in = burn_in(n);
    let (a_full, b_full) = stats::linear_trend(y);
    let weight = 1.0 - 1.0 / theta;
    let mut level = level0;
    let mut sse = 0.0;
    let mut decay = 1.0; // (1-α)^{t-1}
    // Running sums for the dynamic OLS trend on y_1..y_t.
    let (mut sum_y, mut sum_ty) = (0.0, 0.0);
    let (mut a, mut b) = if dynamic { (y[0], 0.0) } else { (a_full, b_full) };
    let mut out = fitted;
    for t in 1..=n {
        let mu = level + weight * (decay * a + (1.0 - decay * (1.0 - alpha)) / alpha * b);
        let yt = y[t - 1];
        if let Some(f) = out.as_deref_mut() {
            f.push(mu);
        }
        if t > burn_in {
            sse += (yt - mu).powi(2);
        }
        level = alpha * yt + (1.0 - alpha) * level;
        decay *= 1.0 - alpha;
        if dynamic {
            sum_y += yt;
            sum_ty += t as f64 * yt;
            if t >= 2 {
                let tf = t as f64;
                let t_mean = (tf + 1.0) / 2.0;
                let sxx = tf * (tf * tf - 1.0) / 12.0;
                b = (sum_ty - t_mean * sum_y) / sxx;
                a = sum_y / tf - b * t_mean;
            } else {
                a = yt;
                b = 0.0;
            }
        }
    }
    (sse, level, a, b)
}

/// Fits one theta variant by minimising in-sample MSE over (ℓ₀, α[, θ]).
pub fn fit_theta(y: &[f64], variant: ThetaVariant) -> Result<ThetaFit> {
    check_series(y, 3)?;
    let dynamic = variant.dynamic();
    // Objective: squared one-step errors after the burn-in, relative to the mean absolute
    // value so that the stopping tolerance means the same at every scale.
    let scale = (y.iter().map(|v| v.abs()).sum::<f64>() / y.len() as f64).max(1e-10);
    let optimised_theta = variant.optimised_theta();
    let objective = |p: &[f64]| {
        let theta = if optimised_theta { p[2] } else { 2.0 };
        run(y, p[1], theta, p[0], dynamic, None).0 / scale
    };
    // Start: ℓ₀ = y₁/2, α = 0.5, θ = 2 (Fiorucci et al. 2016).
    let mut x0 = vec![y[0] / 2.0, 0.5];
    let mut lower = vec![-LEVEL_BOUND, ALPHA_MIN];
    let mut upper = vec![LEVEL_BOUND, ALPHA_MAX];
    if optimised_theta {
        x0.push(2.0);
        lower.push(THETA_MIN);
        upper.push(THETA_MAX);
    }
    let nm = BoxNelderMead { max_iter: 1000, f_std_tol: 1e-4, rel_step: 0.05, zero_step: 1e-4 };
    let (best, _) = nm.minimize(objective, &x0, &lower, &upper);
    let level0 = best[0];
    let alpha = best[1];
    let theta = if optimised_theta { best[2] } else { 2.0 };
    let mut fitted = Vec::with_capacity(y.len());
    let (sse, level, a, b) = run(y, alpha, theta, level0, dynamic, Some(&mut fitted));
    Ok(ThetaFit {
        variant,
        alpha,
        theta,
        initial_level: level0,
        mse: sse / (y.len() - burn_in(y.len())) as f64,
        level,
        intercept: a,
        slope: b,
        fitted,
        n: y.len(),
    })
}

impl ThetaFit {
    pub fn point_forecast(&self, horizon: usize) -> Vec<f64> {
        let weight = 1.0 - 1.0 / self.theta;
        if self.variant.dynamic() {
            // The dynamic models keep updating the level and the trend line with their own
            // forecasts: each step's forecast enters ℓ, Ȳ, A and B as if it were observed.
            let alpha = self.alpha;
            let (mut level, mut a, mut b) = (self.level, self.intercept, self.slope);
            let mut mean_y = a + b * (self.n as f64 + 1.0) / 2.0;
            let mut decay = (1.0 - alpha).powi(self.n as i32);
            return (1..=horizon)
                .map(|h| {
                    let t = (self.n + h) as f64;
                    let mu = level + weight * (decay * a + (1.0 - decay * (1.0 - alpha)) / alpha * b);
                    level = alpha * mu + (1.0 - alpha) * level;
                    decay *= 1.0 - alpha;
                    b = ((t - 2.0) * b + 6.0 * (mu - mean_y) / t) / (t + 1.0);
                    mean_y = ((t - 1.0) * mean_y + mu) / t;
                    a = mean_y - b * (t + 1.0) / 2.0;
                    mu
                })
                .collect();
        }
        let decay_n = (1.0 - self.alpha).powi(self.n as i32);
        (1..=horizon)
            .map(|h| {
                self.level
                    + weight
                        * (decay_n * self.intercept
                            + ((1.0 - decay_n * (1.0 - self.alpha)) / self.alpha + h as f64 - 1.0) * self.slope)
            })
            .collect()
    }

    pub fn forecast(&self, horizon: usize) -> Forecast {
        let sigma = self.mse.sqrt();
        // SES-style variance growth; calibration corrects the level later.
        let sd = (1..=horizon).map(|h| sigma * (1.0 + (h as f64 - 1.0) * self.alpha * self.alpha).sqrt()).collect();
        Forecast {
            model: format!("Theta({})", self.variant.short_name()),
            mean: self.point_forecast(horizon),
            sd,
            fitted: self.fitted.clone(),
        }
    }
}

pub fn theta(y: &[f64], horizon: usize, variant: ThetaVariant) -> Result<Forecast> {
    Ok(fit_theta(y, variant)?.forecast(horizon))
}

/// Fits all four variants, keeps the one with the smallest in-sample MSE.
pub fn auto_theta_fit(y: &[f64]) -> Result<ThetaFit> {
    let mut best: Option<ThetaFit> = None;
    for variant in ThetaVariant::ALL {
        let fit = fit_theta(y, variant)?;
        if best.as_ref().is_none_or(|b| fit.mse < b.mse) {
            best = Some(fit);
        }
    }
    Ok(best.expect("four variants fitted"))
}

pub fn auto_theta(y: &[f64], horizon: usize) -> Result<Forecast> {
    Ok(auto_theta_fit(y)?.forecast(horizon))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The closed form must equal the definition: SES (started at θℓ₀) of the theta line
    /// Z = θy + (1−θ)(A+Bt), divided by θ, plus (1−1/θ) times the extrapolated trend line.
    #[test]
    fn closed_form_matches_theta_line_definition() {
        let y = [10.0, 12.0, 11.5, 14.0, 15.2, 15.0, 17.3, 18.1, 18.0, 20.5];
        let (alpha, theta, level0) = (0.4, 2.7, 4.0);
        let n = y.len();
        let (a, b) = stats::linear_trend(&y);
        // SES of the theta line with s₀ = θℓ₀ (trend line's own SES starts at 0, as in the state-space form).
        let mut s = theta * level0;
        for (i, v) in y.iter().enumerate() {
            let z = theta * v + (1.0 - theta) * (a + b * (i + 1) as f64);
            s = alpha * z + (1.0 - alpha) * s;
        }
        let fit = ThetaFit {
            variant: ThetaVariant::Optimized,
            alpha,
            theta,
            initial_level: level0,
            mse: 0.0,
            level: run(&y, alpha, theta, level0, false, None).1,
            intercept: a,
            slope: b,
            fitted: vec![],
            n,
        };
        let closed = fit.point_forecast(3);
        for h in 1..=3 {
            let trend = a + b * (n + h) as f64;
            // m_n: SES of the trend line started at 0.
            let mut m = 0.0;
            for i in 0..n {
                m = alpha * (a + b * (i + 1) as f64) + (1.0 - alpha) * m;
            }
            let direct = s / theta + (1.0 - 1.0 / theta) * trend;
            // s/θ = ℓ_n + (1/θ−1)m_n, so ŷ = ℓ_n + (1−1/θ)(L_{n+h} − m_n).
            let expected = fit.level + (1.0 - 1.0 / theta) * (trend - m);
            assert!((direct - expected).abs() < 1e-9, "definition identity broken");
            assert!((closed[h - 1] - expected).abs() < 1e-9, "h={h}: {} vs {}", closed[h - 1], expected);
        }
    }

    /// Standard theta on a straight line reproduces the line (SES lag and trend cancel).
    #[test]
    fn dynamic_theta_tracks_a_line() {
        let y: Vec<f64> = (1..=20).map(|t| 5.0 + 3.0 * t as f64).collect();
        let fit = fit_theta(&y, ThetaVariant::DynamicOptimized).unwrap();
        let fc = fit.point_forecast(3);
        for (h, f) in fc.iter().enumerate() {
            let truth = 5.0 + 3.0 * (21 + h) as f64;
            assert!((f - truth).abs() < 0.5, "h={h} {f} vs {truth}");
        }
    }
}
