//! Non-seasonal ETS (error A/M, trend N/A/Ad) via augurs-ets: MLE per model, AICc selection.

use augurs_core::{Fit, Predict};
use augurs_ets::AutoETS;

use crate::error::{ForecastError, Result, check_series};
use crate::{Forecast, stats};

/// Fits all admissible non-seasonal ETS models and forecasts with the AICc-best one.
pub fn auto_ets(y: &[f64], horizon: usize) -> Result<Forecast> {
    ets_with_spec(y, horizon, "ZZN")
}

/// Automatic ETS restricted by a three-letter spec such as `"ZAN"` (trend required) or `"AAN"`.
pub fn ets_with_spec(y: &[f64], horizon: usize, spec: &str) -> Result<Forecast> {
    ets_with_options(y, horizon, spec, None)
}

/// As [`ets_with_spec`], optionally fixing the trend to damped (`Some(true)`) or undamped.
pub fn ets_with_options(y: &[f64], horizon: usize, spec: &str, damped: Option<bool>) -> Result<Forecast> {
    check_series(y, 3)?;
    let mut spec = AutoETS::new(1, spec).map_err(|e| ForecastError::Ets(e.to_string()))?;
    if let Some(d) = damped {
        spec = spec.damped(d).map_err(|e| ForecastError::Ets(e.to_string()))?;
    }
    let fit = spec.fit(y).map_err(|e| ForecastError::Ets(e.to_string()))?;
    let level = 0.95;
    let pred = fit.predict(horizon, level).map_err(|e| ForecastError::Ets(e.to_string()))?;
    let z = stats::z_for_level(level);
    let sd = match &pred.intervals {
        Some(iv) => iv.lower.iter().zip(&iv.upper).map(|(l, u)| ((u - l) / (2.0 * z)).max(0.0)).collect(),
        None => vec![f64::NAN; horizon],
    };
    let fitted = fit.predict_in_sample(None).map(|f| f.point).unwrap_or_default();
    let mt = fit.model().model_type();
    Ok(Forecast {
        model: format!(
            "ETS({}{}{})",
            mt.error,
            if fit.model().damped() { format!("{}d", mt.trend) } else { mt.trend.to_string() },
            mt.season
        ),
        mean: pred.point,
        sd,
        fitted,
    })
}
