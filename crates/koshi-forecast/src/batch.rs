//! Forecasting many series in parallel (rayon); results keep the input order.

use rayon::prelude::*;

use crate::calibrate::{CalibrationConfig, calibrated_forecast};
use crate::error::Result;
use crate::{Forecast, ModelKind, forecast};

/// Forecasts every series with `model`; one result per input series.
pub fn forecast_many<S: AsRef<[f64]> + Sync>(
    series: &[S],
    horizon: usize,
    model: ModelKind,
) -> Vec<Result<Forecast>> {
    series
        .par_iter()
        .map(|y| forecast(y.as_ref(), horizon, model))
        .collect()
}

/// As [`forecast_many`], with intervals calibrated on each series' rolling-origin errors.
pub fn forecast_many_calibrated<S: AsRef<[f64]> + Sync>(
    series: &[S],
    horizon: usize,
    model: ModelKind,
    cfg: &CalibrationConfig,
) -> Vec<Result<Forecast>> {
    series
        .par_iter()
        .map(|y| calibrated_forecast(y.as_ref(), horizon, model, cfg).map(|c| c.forecast))
        .collect()
}
