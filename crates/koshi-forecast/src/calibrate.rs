//! Interval calibration from rolling-origin errors (split-conformal in spirit).
//!
//! Model intervals on short annual series are too narrow (95% intervals hold 69–84%).
//! We refit the model at the last few origins of the history, standardise each
//! h-step error by the model's own h-step sd, and take a conformal quantile of these
//! scores. The sd of the final forecast is multiplied, step by step, by
//! `max(1, quantile / z)`, so any level or quantile read from the result is calibrated.

use serde::{Deserialize, Serialize};

use crate::backtest::{OriginResult, combination_cache, origins_from_cache, rolling_origin};
use crate::error::Result;
use crate::{COMBINATION_METHOD, Forecast, ModelKind, forecast, stats};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationConfig {
    /// Number of rolling origins at the end of the history.
    pub origins: usize,
    /// Smallest training window used at an origin.
    pub min_train: usize,
    /// Level the calibration targets (scores are matched at this level).
    pub level: f64,
    /// Lower bound on the sd multiplier (1 = never narrower than the model's own interval).
    pub min_factor: f64,
    /// Multiplier used when the history is too short for any calibration origin.
    pub fallback_factor: f64,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        Self { origins: 10, min_train: 6, level: 0.95, min_factor: 1.0, fallback_factor: 1.5 }
    }
}

/// A forecast whose sd has been rescaled, with the evidence used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibratedForecast {
    pub forecast: Forecast,
    /// Multiplier applied to the model sd at each step.
    pub factors: Vec<f64>,
    /// Number of standardised errors behind the factors.
    pub n_scores: usize,
}

/// Standardised absolute errors |y − ŷ| / sd, grouped by forecast step (index 0 = one step ahead).
pub fn rolling_scores(history: &[f64], horizon: usize, model: ModelKind, cfg: &CalibrationConfig) -> Vec<Vec<f64>> {
    let n = history.len();
    let mut scores = vec![Vec::new(); horizon];
    let first = first_calibration_origin(n, cfg);
    if first >= n {
        return scores;
    }
    let Ok(origins) = rolling_origin(history, horizon, model, first) else {
        return scores;
    };
    add_scores(&mut scores, &origins);
    scores
}

fn first_calibration_origin(n: usize, cfg: &CalibrationConfig) -> usize {
    n.saturating_sub(cfg.origins).max(cfg.min_train)
}

fn add_scores(scores: &mut [Vec<f64>], origins: &[OriginResult]) {
    for o in origins {
        for (step, (y, (m, s))) in o.actual.iter().zip(o.forecast.mean.iter().zip(&o.forecast.sd)).enumerate() {
            if s.is_finite() && *s > 0.0 {
                scores[step].push((y - m).abs() / s);
            }
        }
    }
}

/// Conformal quantile: the ⌈(m+1)·level⌉-th smallest score; beyond the sample, the
/// maximum stretched by the share of probability mass the sample cannot see.
fn conformal_quantile(scores: &mut [f64], level: f64) -> Option<f64> {
    if scores.is_empty() {
        return None;
    }
    scores.sort_by(f64::total_cmp);
    let m = scores.len();
    let rank = ((m as f64 + 1.0) * level).ceil() as usize;
    if rank <= m {
        Some(scores[rank - 1])
    } else {
        let max = scores[m - 1];
        Some(max * (1.0 + (rank - m) as f64 / (m as f64 + 1.0)))
    }
}

/// Per-step sd multipliers from grouped scores. Steps share one pooled factor (scores
/// are already standardised per step); a step whose own scores demand more gets more.
pub fn factors_from_scores(scores: &[Vec<f64>], cfg: &CalibrationConfig) -> (Vec<f64>, usize) {
    let z = stats::z_for_level(cfg.level);
    let mut pooled: Vec<f64> = scores.iter().flatten().copied().collect();
    let n_scores = pooled.len();
    let pooled_factor = conformal_quantile(&mut pooled, cfg.level).map_or(cfg.fallback_factor, |q| q / z);
    let mut factors = Vec::with_capacity(scores.len());
    let mut running = cfg.min_factor.max(pooled_factor);
    for step_scores in scores {
        // Own-step evidence only when there is enough of it to be meaningful.
        if step_scores.len() >= 5 {
            let mut s = step_scores.clone();
            if let Some(q) = conformal_quantile(&mut s, cfg.level) {
                running = running.max(q / z);
            }
        }
        factors.push(running);
    }
    (factors, n_scores)
}

/// Per-step factors from the standardised rolling-origin errors of many series pooled
/// together (a global calibration: short series have too few errors of their own to
/// estimate a 95% quantile). Non-decreasing in the step.
pub fn pooled_factors(per_series: &[Vec<Vec<f64>>], horizon: usize, cfg: &CalibrationConfig) -> Vec<f64> {
    let z = stats::z_for_level(cfg.level);
    let mut running = cfg.min_factor;
    (0..horizon)
        .map(|h| {
            let mut s: Vec<f64> = per_series.iter().filter_map(|sc| sc.get(h)).flatten().copied().collect();
            if let Some(q) = conformal_quantile(&mut s, cfg.level) {
                running = running.max(q / z);
            }
            running
        })
        .collect()
}

/// Blend of a series' own factors with pooled ones (geometric mean per step): the
/// pooled errors stabilise the few own errors of a short series without discarding them.
pub fn blend_factors(own: &[f64], pooled: &[f64]) -> Vec<f64> {
    own.iter().enumerate().map(|(h, a)| pooled.get(h).map_or(*a, |b| (a * b).sqrt())).collect()
}

/// Forecast with sd calibrated on the series' own rolling-origin errors.
pub fn calibrated_forecast(
    history: &[f64],
    horizon: usize,
    model: ModelKind,
    cfg: &CalibrationConfig,
) -> Result<CalibratedForecast> {
    let (mut fc, scores) = forecast_with_scores(history, horizon, model, cfg)?;
    let (factors, n_scores) = factors_from_scores(&scores, cfg);
    for (s, f) in fc.sd.iter_mut().zip(&factors) {
        *s *= f;
    }
    Ok(CalibratedForecast { forecast: fc, factors, n_scores })
}

/// The uncalibrated forecast and its standardised rolling-origin errors by step.
pub fn forecast_with_scores(
    history: &[f64],
    horizon: usize,
    model: ModelKind,
    cfg: &CalibrationConfig,
) -> Result<(Forecast, Vec<Vec<f64>>)> {
    let (fc, scores) = if model == ModelKind::Combination {
        // One set of member fits serves the forecast, its weights and its calibration.
        crate::error::check_series(history, 1)?;
        let n = history.len();
        let first = first_calibration_origin(n, cfg);
        let cache = combination_cache(history, horizon, first.min(n), n);
        let fc = cache.combine_at(n, horizon, COMBINATION_METHOD)?;
        let mut scores = vec![Vec::new(); horizon];
        if first < n
            && let Ok(origins) = origins_from_cache(&cache, horizon, first)
        {
            add_scores(&mut scores, &origins);
        }
        (fc, scores)
    } else {
        (forecast(history, horizon, model)?, rolling_scores(history, horizon, model, cfg))
    };
    Ok((fc, scores))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conformal_quantile_ranks() {
        let mut s: Vec<f64> = (1..=19).map(f64::from).collect();
        // ⌈20·0.95⌉ = 19 → the largest.
        assert_eq!(conformal_quantile(&mut s, 0.95), Some(19.0));
        let mut s: Vec<f64> = (1..=39).map(f64::from).collect();
        assert_eq!(conformal_quantile(&mut s, 0.95), Some(38.0));
        let mut s = vec![2.0; 9];
        // rank 10 > 9: stretched maximum.
        assert!((conformal_quantile(&mut s, 0.95).unwrap() - 2.0 * 1.1).abs() < 1e-12);
    }

    #[test]
    fn factors_never_shrink_intervals_below_model() {
        let scores = vec![vec![0.1; 10], vec![0.2; 10]];
        let (f, n) = factors_from_scores(&scores, &CalibrationConfig::default());
        assert_eq!(n, 20);
        assert!(f.iter().all(|&v| v == 1.0));
    }
}
