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
            lower: self.mean.iter().zip(&self.sd).map(|(m, s)| m - z * s).collect(),
            upper: self.mean.iter().zip(&self.sd).map(|(m, s)| m + z * s).collect(),
        }
    }

    /// The q-quantile path of the probabilistic forecast (0 < q < 1).
    pub fn quantile(&self, q: f64) -> Vec<f64> {
        let z = stats::normal_quantile(q);
        self.mean.iter().zip(&self.sd).map(|(m, s)| m + z * s).collect()
    }

    /// In-sample one-step residuals (NaN where the model has no fitted value).
    pub fn residuals(&self, history: &[f64]) -> Vec<f64> {
        history.iter().zip(self.fitted.iter().chain(std::iter::repeat(&f64::NAN))).map(|(y, f)| y - f).collect()
    }
}

/// How members of a combination are pooled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CombineMethod {
    Mean,
    Median,
    /// Weights ∝ 1 / (scaled error of the member at the last few origins); see
    /// [`VALIDATION_ORIGINS`].
    Validated,
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
    /// Random walk with drift on the log scale (geometric growth); plain drift for
    /// series that are not strictly positive.
    LogDrift,
    /// Automatic ETS on the log scale; plain ETS for series that are not strictly positive.
    LogEts,
    /// The default combination ([`COMBINATION_MEMBERS`], pooled by [`COMBINATION_METHOD`]).
    Combination,
}

/// Members of the default combination: the benchmarks, the automatic models, the
/// dynamic optimised Theta and two geometric-growth models.
pub const COMBINATION_MEMBERS: [ModelKind; 8] = [
    ModelKind::Naive,
    ModelKind::Drift,
    ModelKind::Ets,
    ModelKind::Arima,
    ModelKind::AutoTheta,
    ModelKind::Theta(ThetaVariant::DynamicOptimized),
    ModelKind::LogDrift,
    ModelKind::LogEts,
];
pub const COMBINATION_METHOD: CombineMethod = CombineMethod::Validated;
/// Origins at the end of the history whose errors weight the members of a
/// [`CombineMethod::Validated`] combination (forecasts of 3, 2 and 1 steps).
pub const VALIDATION_ORIGINS: usize = 3;
/// Smallest training window of a validation origin.
pub const VALIDATION_MIN_TRAIN: usize = 6;

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
            ModelKind::LogDrift => "drift_log",
            ModelKind::LogEts => "ets_log",
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
            "drift_log" | "logdrift" => ModelKind::LogDrift,
            "ets_log" | "logets" => ModelKind::LogEts,
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
        ModelKind::LogDrift => on_log_scale(history, horizon, ModelKind::Drift),
        ModelKind::LogEts => on_log_scale(history, horizon, ModelKind::Ets),
        ModelKind::Combination => combine(history, horizon, &COMBINATION_MEMBERS, COMBINATION_METHOD),
    }
}

/// Fits `inner` to ln(y) and maps back: the mean is the back-transformed median path,
/// the sd its delta-method image. Falls back to `inner` on the original scale when
/// the series is not strictly positive.
fn on_log_scale(history: &[f64], horizon: usize, inner: ModelKind) -> Result<Forecast> {
    if history.iter().any(|v| v.is_nan() || *v <= 0.0) {
        return forecast(history, horizon, inner);
    }
    let logs: Vec<f64> = history.iter().map(|v| v.ln()).collect();
    let f = forecast(&logs, horizon, inner)?;
    let mean: Vec<f64> = f.mean.iter().map(|v| v.exp()).collect();
    Ok(Forecast {
        model: format!("log {}", f.model),
        sd: mean.iter().zip(&f.sd).map(|(m, s)| m * s).collect(),
        mean,
        fitted: f.fitted.iter().map(|v| v.exp()).collect(),
    })
}

/// Member forecasts at consecutive origins of one history, shared by the validation
/// weights, rolling-origin backtests and calibration of a combination.
pub struct MemberCache<'a> {
    history: &'a [f64],
    members: &'a [ModelKind],
    first: usize,
    /// `paths[o − first][m]`: member m fitted on `history[..o]`.
    paths: Vec<Vec<Option<Forecast>>>,
}

impl<'a> MemberCache<'a> {
    /// Fits every member at origins `first..=last` (clamped to the history), each
    /// forecasting `steps` ahead (at least [`VALIDATION_ORIGINS`]).
    pub fn build(history: &'a [f64], members: &'a [ModelKind], first: usize, last: usize, steps: usize) -> Self {
        let last = last.min(history.len());
        let first = first.min(last);
        let steps = steps.max(VALIDATION_ORIGINS).max(1);
        let paths = (first..=last)
            .map(|o| {
                members
                    .iter()
                    .map(|&m| forecast(&history[..o], steps, m).ok().filter(|f| f.mean.iter().all(|v| v.is_finite())))
                    .collect()
            })
            .collect();
        Self { history, members, first, paths }
    }

    pub fn history(&self) -> &'a [f64] {
        self.history
    }

    fn at(&self, origin: usize) -> Option<&[Option<Forecast>]> {
        origin.checked_sub(self.first).and_then(|i| self.paths.get(i)).map(Vec::as_slice)
    }

    /// Inverse-error weights of the members at `origin` from their forecasts at the
    /// previous [`VALIDATION_ORIGINS`] origins, scored against `history[..origin]`
    /// (mean absolute error over the steps seen, scaled as MASE). `None` when there is
    /// no usable validation origin or a member failed at one.
    fn validation_weights(&self, origin: usize) -> Option<Vec<f64>> {
        let lo = origin.saturating_sub(VALIDATION_ORIGINS).max(VALIDATION_MIN_TRAIN);
        if lo >= origin {
            return None;
        }
        let mut err = vec![0.0; self.members.len()];
        for o in lo..origin {
            let paths = self.at(o)?;
            let train = &self.history[..o];
            let scale = metrics::mase_scale(train);
            let scale = if scale > 0.0 && scale.is_finite() { scale } else { 1.0 };
            let actual = &self.history[o..origin];
            for (e, p) in err.iter_mut().zip(paths) {
                let p = p.as_ref()?;
                let mae = actual.iter().zip(&p.mean).map(|(y, f)| (y - f).abs()).sum::<f64>() / actual.len() as f64;
                *e += mae / scale;
            }
        }
        Some(err.iter().map(|e| 1.0 / e.max(1e-9)).collect())
    }

    /// The combination at `origin` forecasting `horizon` steps (≤ the cached steps).
    pub fn combine_at(&self, origin: usize, horizon: usize, method: CombineMethod) -> Result<Forecast> {
        let fits = self.at(origin).ok_or_else(|| ForecastError::Fit(format!("origin {origin} not cached")))?;
        let weights = match method {
            CombineMethod::Validated => self.validation_weights(origin),
            _ => None,
        };
        let history = &self.history[..origin];
        let chosen: Vec<(&Forecast, f64)> = fits
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.as_ref().map(|f| (f, weights.as_ref().map_or(1.0, |w| w[i]))))
            .collect();
        pool_members(history, horizon, &chosen, method)
    }
}

/// Pools member forecasts (with weights for [`CombineMethod::Validated`]).
fn pool_members(history: &[f64], horizon: usize, fits: &[(&Forecast, f64)], method: CombineMethod) -> Result<Forecast> {
    if fits.is_empty() {
        return Err(ForecastError::Fit("no combination member could be fitted".into()));
    }
    let pool = |values: &[(f64, f64)]| -> f64 {
        match method {
            CombineMethod::Median => stats::median(&values.iter().map(|v| v.0).collect::<Vec<_>>()),
            _ => {
                let wsum: f64 = values.iter().map(|v| v.1).sum();
                values.iter().map(|(v, w)| v * w).sum::<f64>() / wsum
            }
        }
    };
    let mean = (0..horizon).map(|h| pool(&fits.iter().map(|(f, w)| (f.mean[h], *w)).collect::<Vec<_>>())).collect();
    // Member errors are highly correlated: the sd is the (weighted) mean member sd.
    let sd = (0..horizon)
        .map(|h| {
            let v: Vec<(f64, f64)> = fits.iter().map(|(f, w)| (f.sd[h], *w)).filter(|(s, _)| s.is_finite()).collect();
            if v.is_empty() {
                f64::NAN
            } else {
                let wsum: f64 = v.iter().map(|x| x.1).sum();
                v.iter().map(|(s, w)| s * w).sum::<f64>() / wsum
            }
        })
        .collect();
    let fitted = (0..history.len())
        .map(|t| {
            let vals: Vec<(f64, f64)> = fits
                .iter()
                .filter_map(|(f, w)| f.fitted.get(t).map(|v| (*v, *w)))
                .filter(|(v, _)| v.is_finite())
                .collect();
            if vals.is_empty() { f64::NAN } else { pool(&vals) }
        })
        .collect();
    let names: Vec<&str> = fits.iter().map(|(f, _)| f.model.as_str()).collect();
    Ok(Forecast { model: format!("{:?}({})", method, names.join(", ")), mean, sd, fitted })
}

/// Forecasts with each member and pools them. A member that fails is skipped; the
/// combination fails only if all do. [`CombineMethod::Validated`] also refits the
/// members at the last [`VALIDATION_ORIGINS`] origins to weight them.
pub fn combine(history: &[f64], horizon: usize, members: &[ModelKind], method: CombineMethod) -> Result<Forecast> {
    crate::error::check_series(history, 1)?;
    let n = history.len();
    let first = match method {
        CombineMethod::Validated => n.saturating_sub(VALIDATION_ORIGINS),
        _ => n,
    };
    let cache = MemberCache::build(history, members, first, n, horizon);
    cache.combine_at(n, horizon, method)
}
