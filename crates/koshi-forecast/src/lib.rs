//! koshi-forecast: a pure forecasting engine for short annual series.
//!
//! * Models: naive, random walk with drift, automatic ETS, automatic ARIMA
//!   (Hyndman–Khandakar), Theta (STM/OTM/DSTM/DOTM, AutoTheta), and a combination.
//! * Intervals: model-based, then calibrated on rolling-origin errors ([`calibrate`]).
//! * [`backtest`], [`metrics`], hierarchical [`reconcile`], [`scenario`] primitives and a
//!   parallel [`batch`] API.
//!
//! The library does no IO; callers pass slices and get plain structs back.

pub mod arima;
pub mod backtest;
pub mod baseline;
pub mod batch;
pub mod calibrate;
pub mod error;
pub mod ets;
pub mod linalg;
pub mod metrics;
mod optim;
pub mod reconcile;
pub mod scenario;
pub mod stats;
pub mod theta;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use error::{ForecastError, Result};
pub use theta::ThetaVariant;

/// A point forecast with a per-step standard deviation of the forecast error.
///
/// Intervals and quantiles are Gaussian in `sd`; calibration rescales `sd`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Human-readable description of the fitted model, e.g. `ETS(A,Ad,N)`.
    pub model: String,
    pub mean: Vec<f64>,
    pub sd: Vec<f64>,
    /// One-step in-sample fitted values aligned with the history (NaN where undefined).
    pub fitted: Vec<f64>,
}

/// Lower and upper bounds of a central prediction interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub level: f64,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

impl Forecast {
    pub fn horizon(&self) -> usize {
        self.mean.len()
    }

    /// Central interval at `level` (e.g. 0.95).
    pub fn interval(&self, level: f64) -> Interval {
        let z = stats::z_for_level(level);
        Interval {
            level,
            lower: self
                .mean
                .iter()
                .zip(&self.sd)
                .map(|(m, s)| m - z * s)
                .collect(),
            upper: self
                .mean
                .iter()
                .zip(&self.sd)
                .map(|(m, s)| m + z * s)
                .collect(),
        }
    }

    /// The q-quantile path of the probabilistic forecast (0 < q < 1).
    pub fn quantile(&self, q: f64) -> Vec<f64> {
        let z = stats::normal_quantile(q);
        self.mean
            .iter()
            .zip(&self.sd)
            .map(|(m, s)| m + z * s)
            .collect()
    }

    /// In-sample one-step residuals (NaN where the model has no fitted value).
    pub fn residuals(&self, history: &[f64]) -> Vec<f64> {
        history
            .iter()
            .zip(self.fitted.iter().chain(std::iter::repeat(&f64::NAN)))
            .map(|(y, f)| y - f)
            .collect()
    }
}

/// How members of a combination are pooled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CombineMethod {
    Mean,
    Median,
}

/// Model choice for [`forecast`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Naive,
    /// Random walk with drift.
    Drift,
    /// Automatic non-seasonal ETS (AICc over A/M errors, N/A/Ad trends).
    Ets,
    /// Automatic non-seasonal ARIMA (Hyndman–Khandakar).
    Arima,
    /// A single Theta variant.
    Theta(ThetaVariant),
    /// Best Theta variant by in-sample MSE.
    AutoTheta,
    /// The default combination ([`COMBINATION_MEMBERS`], pooled by [`COMBINATION_METHOD`]).
    Combination,
}

/// Members of the default combination.
pub const COMBINATION_MEMBERS: [ModelKind; 4] = [
    ModelKind::Ets,
    ModelKind::Arima,
    ModelKind::AutoTheta,
    ModelKind::Drift,
];
pub const COMBINATION_METHOD: CombineMethod = CombineMethod::Mean;

impl ModelKind {
    /// Every automatic model, for comparisons and backtests.
    pub const ALL: [ModelKind; 6] = [
        ModelKind::Naive,
        ModelKind::Drift,
        ModelKind::Ets,
        ModelKind::Arima,
        ModelKind::AutoTheta,
        ModelKind::Combination,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Naive => "naive",
            ModelKind::Drift => "drift",
            ModelKind::Ets => "ets",
            ModelKind::Arima => "arima",
            ModelKind::Theta(ThetaVariant::Standard) => "stm",
            ModelKind::Theta(ThetaVariant::Optimized) => "otm",
            ModelKind::Theta(ThetaVariant::DynamicStandard) => "dstm",
            ModelKind::Theta(ThetaVariant::DynamicOptimized) => "dotm",
            ModelKind::AutoTheta => "theta",
            ModelKind::Combination => "combination",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = ForecastError;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "naive" => ModelKind::Naive,
            "drift" | "rwd" | "rw-drift" => ModelKind::Drift,
            "ets" | "autoets" => ModelKind::Ets,
            "arima" | "autoarima" => ModelKind::Arima,
            "theta" | "autotheta" => ModelKind::AutoTheta,
            "stm" => ModelKind::Theta(ThetaVariant::Standard),
            "otm" => ModelKind::Theta(ThetaVariant::Optimized),
            "dstm" => ModelKind::Theta(ThetaVariant::DynamicStandard),
            "dotm" => ModelKind::Theta(ThetaVariant::DynamicOptimized),
            "combination" | "comb" | "auto" => ModelKind::Combination,
            other => return Err(ForecastError::UnknownModel(other.to_string())),
        })
    }
}

/// Fits `model` to `history` and forecasts `horizon` steps with model-based sd.
pub fn forecast(history: &[f64], horizon: usize, model: ModelKind) -> Result<Forecast> {
    if horizon == 0 {
        return Err(ForecastError::ZeroHorizon);
    }
    match model {
        ModelKind::Naive => baseline::naive(history, horizon),
        ModelKind::Drift => baseline::drift(history, horizon),
        ModelKind::Ets => ets::auto_ets(history, horizon),
        ModelKind::Arima => arima::auto_arima(history, horizon),
        ModelKind::Theta(v) => theta::theta(history, horizon, v),
        ModelKind::AutoTheta => theta::auto_theta(history, horizon),
        ModelKind::Combination => {
            combine(history, horizon, &COMBINATION_MEMBERS, COMBINATION_METHOD)
        }
    }
}

/// Forecasts with each member and pools them. A member that fails is skipped; the
/// combination fails only if all do. The sd is the mean member sd (errors of the
/// members are highly correlated, so averaging variances would understate it).
pub fn combine(
    history: &[f64],
    horizon: usize,
    members: &[ModelKind],
    method: CombineMethod,
) -> Result<Forecast> {
    let mut fits = Vec::with_capacity(members.len());
    let mut last_err = None;
    for &m in members {
        match forecast(history, horizon, m) {
            Ok(f) if f.mean.iter().all(|v| v.is_finite()) => fits.push(f),
            Ok(_) => last_err = Some(ForecastError::Fit(format!("{m} gave non-finite forecasts"))),
            Err(e) => last_err = Some(e),
        }
    }
    if fits.is_empty() {
        return Err(last_err.unwrap_or(ForecastError::Fit("no members".into())));
    }
    let pool = |values: Vec<f64>| -> f64 {
        match method {
            CombineMethod::Mean => stats::mean(&values),
            CombineMethod::Median => stats::median(&values),
        }
    };
    let mean = (0..horizon)
        .map(|h| pool(fits.iter().map(|f| f.mean[h]).collect()))
        .collect();
    let sd = (0..horizon)
        .map(|h| {
            stats::mean(
                &fits
                    .iter()
                    .map(|f| f.sd[h])
                    .filter(|s| s.is_finite())
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let fitted = (0..history.len())
        .map(|t| {
            let vals: Vec<f64> = fits
                .iter()
                .filter_map(|f| f.fitted.get(t).copied())
                .filter(|v| v.is_finite())
                .collect();
            if vals.is_empty() {
                f64::NAN
            } else {
                pool(vals)
            }
        })
        .collect();
    let names: Vec<&str> = fits.iter().map(|f| f.model.as_str()).collect();
    Ok(Forecast {
        model: format!("{:?}({})", method, names.join(", ")),
        mean,
        sd,
        fitted,
    })
}
