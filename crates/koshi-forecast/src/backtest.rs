//! Rolling-origin evaluation: refit at each origin, forecast ahead, compare with what happened
//! ([`backtest`]); the same origins serve the interval calibration ([`crate::calibrate`]).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::calibrate::{CalibrationConfig, calibrated_forecast};
use crate::error::{ForecastError, Result};
use crate::{
    COMBINATION_MEMBERS, COMBINATION_METHOD, CombineMethod, Forecast, MemberCache, ModelKind, VALIDATION_MIN_TRAIN,
    VALIDATION_ORIGINS, forecast, metrics,
};

/// One origin of a rolling-origin backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OriginResult {
    /// Number of observations used for fitting (the forecast starts at this index).
    pub origin: usize,
    pub actual: Vec<f64>,
    pub forecast: Forecast,
}

/// Origins from `first_origin` to len−1, each forecasting up to `horizon` steps
/// (truncated at the end of the data).
pub fn rolling_origin(
    history: &[f64],
    horizon: usize,
    model: ModelKind,
    first_origin: usize,
) -> Result<Vec<OriginResult>> {
    if first_origin >= history.len() || first_origin < 2 {
        return Err(ForecastError::TooShort { len: history.len(), min: first_origin.max(2) + 1 });
    }
    if model == ModelKind::Combination {
        let cache = combination_cache(history, horizon, first_origin, history.len() - 1);
        return origins_from_cache(&cache, horizon, first_origin);
    }
    let mut out = Vec::new();
    for origin in first_origin..history.len() {
        let steps = horizon.min(history.len() - origin);
        let fc = forecast(&history[..origin], steps, model)?;
        out.push(OriginResult { origin, actual: history[origin..origin + steps].to_vec(), forecast: fc });
    }
    Ok(out)
}

/// Member fits of the default combination at every origin from `first_origin` (and the
/// validation origins before it) up to `last`.
pub(crate) fn combination_cache(history: &[f64], horizon: usize, first_origin: usize, last: usize) -> MemberCache<'_> {
    let lo = match COMBINATION_METHOD {
        CombineMethod::Validated => {
            first_origin.saturating_sub(VALIDATION_ORIGINS).max(VALIDATION_MIN_TRAIN.min(first_origin))
        }
        _ => first_origin,
    };
    MemberCache::build(history, &COMBINATION_MEMBERS, lo, last, horizon)
}

/// Rolling-origin combination forecasts read from a member cache.
pub(crate) fn origins_from_cache(
    cache: &MemberCache<'_>,
    horizon: usize,
    first_origin: usize,
) -> Result<Vec<OriginResult>> {
    let history = cache.history();
    let mut out = Vec::new();
    for origin in first_origin..history.len() {
        let steps = horizon.min(history.len() - origin);
        let fc = cache.combine_at(origin, steps, COMBINATION_METHOD)?;
        out.push(OriginResult { origin, actual: history[origin..origin + steps].to_vec(), forecast: fc });
    }
    Ok(out)
}

/// The scores of one origin of [`backtest`]: the model fitted on the observations before
/// `origin`, forecasting `steps` ahead, with intervals calibrated on that training part only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OriginScores {
    /// Number of observations used for fitting (the forecast starts at this index).
    pub origin: usize,
    /// Steps forecast (the horizon, truncated at the end of the data).
    pub steps: usize,
    /// sMAPE in per cent.
    pub smape: f64,
    /// Mean absolute error over the training part's naive error.
    pub mase: f64,
    /// Mean scaled interval score of the calibrated 95% interval.
    pub msis95: f64,
    /// Share of outcomes inside the calibrated 80% and 95% intervals.
    pub coverage80: f64,
    pub coverage95: f64,
    /// Share of outcomes inside the model's own 95% interval, before calibration.
    pub coverage95_uncalibrated: f64,
}

/// Rolling-origin scores of one model: per origin and their means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestSummary {
    pub model: ModelKind,
    pub origins: Vec<OriginScores>,
    /// Means over the origins (a score that is not finite at an origin, such as the MASE of a
    /// constant training part, counts as 0 in the sum, divided by every origin).
    pub smape: f64,
    pub mase: f64,
    pub msis95: f64,
    pub coverage80: f64,
    pub coverage95: f64,
    pub coverage95_uncalibrated: f64,
}

/// Rolling-origin evaluation of `model` at the last `origins` origins of `history` (none
/// with fewer than `cfg.min_train` observations before it), each forecasting up to `horizon`
/// steps. Intervals are calibrated exactly as [`calibrated_forecast`] does for a forecast,
/// using only the observations before each origin. Origins run in parallel.
pub fn backtest(
    history: &[f64],
    horizon: usize,
    model: ModelKind,
    origins: usize,
    cfg: &CalibrationConfig,
) -> Result<BacktestSummary> {
    if horizon == 0 {
        return Err(ForecastError::ZeroHorizon);
    }
    let n = history.len();
    let first = n.saturating_sub(origins).max(cfg.min_train);
    if first >= n {
        return Err(ForecastError::TooShort { len: n, min: cfg.min_train + 1 });
    }
    let scored: Vec<OriginScores> = (first..n)
        .into_par_iter()
        .map(|origin| {
            let steps = horizon.min(n - origin);
            let (train, actual) = (&history[..origin], &history[origin..origin + steps]);
            let raw = forecast(train, steps, model)?;
            let calibrated = calibrated_forecast(train, steps, model, cfg)?;
            let f = &calibrated.forecast;
            let (i80, i95, r95) = (f.interval(0.80), f.interval(0.95), raw.interval(0.95));
            Ok(OriginScores {
                origin,
                steps,
                smape: metrics::smape(actual, &f.mean),
                mase: metrics::mase(train, actual, &f.mean),
                msis95: metrics::msis(train, actual, &i95.lower, &i95.upper, 0.05),
                coverage80: metrics::coverage(actual, &i80.lower, &i80.upper),
                coverage95: metrics::coverage(actual, &i95.lower, &i95.upper),
                coverage95_uncalibrated: metrics::coverage(actual, &r95.lower, &r95.upper),
            })
        })
        .collect::<Result<_>>()?;
    let k = scored.len() as f64;
    let mean = |score: fn(&OriginScores) -> f64| scored.iter().map(score).filter(|v| v.is_finite()).sum::<f64>() / k;
    Ok(BacktestSummary {
        model,
        smape: mean(|o| o.smape),
        mase: mean(|o| o.mase),
        msis95: mean(|o| o.msis95),
        coverage80: mean(|o| o.coverage80),
        coverage95: mean(|o| o.coverage95),
        coverage95_uncalibrated: mean(|o| o.coverage95_uncalibrated),
        origins: scored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_scores_by_hand() {
        let y = [1.0, 2.0, 4.0, 7.0, 11.0, 16.0, 22.0, 29.0];
        let b = backtest(&y, 2, ModelKind::Naive, 2, &CalibrationConfig::default()).unwrap();
        assert_eq!(b.origins.iter().map(|o| (o.origin, o.steps)).collect::<Vec<_>>(), [(6, 2), (7, 1)]);
        // Origin 6: 16 carried forward against 22 and 29; naive scale of 1…16 is 15/5 = 3.
        let smape6 = (200.0 * 6.0 / 38.0 + 200.0 * 13.0 / 45.0) / 2.0;
        let mase6 = (6.0 + 13.0) / 2.0 / 3.0;
        // Origin 7: 22 against 29; scale 21/6 = 3.5.
        let smape7 = 200.0 * 7.0 / 51.0;
        let mase7 = 7.0 / 3.5;
        assert!((b.origins[0].smape - smape6).abs() < 1e-12 && (b.origins[0].mase - mase6).abs() < 1e-12);
        assert!((b.smape - (smape6 + smape7) / 2.0).abs() < 1e-12);
        assert!((b.mase - (mase6 + mase7) / 2.0).abs() < 1e-12);
        // Too short for a single origin after the minimum training window.
        assert!(matches!(
            backtest(&y[..6], 2, ModelKind::Naive, 2, &CalibrationConfig::default()),
            Err(ForecastError::TooShort { len: 6, min: 7 })
        ));
    }
}
