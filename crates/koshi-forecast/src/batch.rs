//! Forecasting many series in parallel (rayon); results keep the input order.

use rayon::prelude::*;

use crate::calibrate::{
    CalibrationConfig, blend_factors, calibrated_forecast, factors_from_scores, forecast_with_scores, pooled_factors,
};
use crate::error::Result;
use crate::{Forecast, ModelKind, forecast};

/// Forecasts every series with `model`; one result per input series.
pub fn forecast_many<S: AsRef<[f64]> + Sync>(series: &[S], horizon: usize, model: ModelKind) -> Vec<Result<Forecast>> {
    series.par_iter().map(|y| forecast(y.as_ref(), horizon, model)).collect()
}

/// As [`forecast_many`], with calibrated intervals: each series' factors from its own
/// rolling-origin errors are blended ([`blend_factors`]) with factors from the errors
/// of all series in the batch pooled by step.
pub fn forecast_many_calibrated<S: AsRef<[f64]> + Sync>(
    series: &[S],
    horizon: usize,
    model: ModelKind,
    cfg: &CalibrationConfig,
) -> Vec<Result<Forecast>> {
    let fits: Vec<Result<(Forecast, Vec<Vec<f64>>)>> =
        series.par_iter().map(|y| forecast_with_scores(y.as_ref(), horizon, model, cfg)).collect();
    let scores: Vec<Vec<Vec<f64>>> = fits.iter().filter_map(|r| r.as_ref().ok().map(|(_, s)| s.clone())).collect();
    let pooled = pooled_factors(&scores, horizon, cfg);
    fits.into_iter()
        .map(|r| {
            r.map(|(mut fc, scores)| {
                let (own, _) = factors_from_scores(&scores, cfg);
                for (s, f) in fc.sd.iter_mut().zip(blend_factors(&own, &pooled)) {
                    *s *= f;
                }
                fc
            })
        })
        .collect()
}

/// As [`forecast_many_calibrated`] with each series calibrated on its own errors only.
pub fn forecast_many_calibrated_own<S: AsRef<[f64]> + Sync>(
    series: &[S],
    horizon: usize,
    model: ModelKind,
    cfg: &CalibrationConfig,
) -> Vec<Result<Forecast>> {
    series.par_iter().map(|y| calibrated_forecast(y.as_ref(), horizon, model, cfg).map(|c| c.forecast)).collect()
}
