//! Rolling-origin evaluation: refit at each origin, forecast ahead, compare with what happened.

use serde::{Deserialize, Serialize};

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

/// Summary of a backtest over all origins (means of per-origin scores).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestSummary {
    pub model: ModelKind,
    pub origins: Vec<OriginResult>,
    pub smape: f64,
    pub mase: f64,
    /// Share of outcomes inside the 95% interval.
    pub coverage95: f64,
    pub msis95: f64,
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

/// Runs a rolling-origin backtest and scores it (MASE/MSIS scaled on each origin's own history).
pub fn backtest(history: &[f64], horizon: usize, model: ModelKind, first_origin: usize) -> Result<BacktestSummary> {
    let origins = rolling_origin(history, horizon, model, first_origin)?;
    let k = origins.len() as f64;
    let (mut smape, mut mase, mut cov, mut msis) = (0.0, 0.0, 0.0, 0.0);
    for o in &origins {
        let train = &history[..o.origin];
        let iv = o.forecast.interval(0.95);
        smape += metrics::smape(&o.actual, &o.forecast.mean);
        mase += metrics::mase(train, &o.actual, &o.forecast.mean);
        cov += metrics::coverage(&o.actual, &iv.lower, &iv.upper);
        msis += metrics::msis(train, &o.actual, &iv.lower, &iv.upper, 0.05);
    }
    Ok(BacktestSummary { model, origins, smape: smape / k, mase: mase / k, coverage95: cov / k, msis95: msis / k })
}
