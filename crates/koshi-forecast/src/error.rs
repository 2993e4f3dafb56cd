use thiserror::Error;

/// Everything that can go wrong while fitting or forecasting.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ForecastError {
    #[error("series too short: {len} observations, need at least {min}")]
    TooShort { len: usize, min: usize },
    #[error("series contains non-finite values")]
    NonFinite,
    #[error("horizon must be at least 1")]
    ZeroHorizon,
    #[error("ETS fit failed: {0}")]
    Ets(String),
    #[error("model fit failed: {0}")]
    Fit(String),
    #[error("unknown model `{0}`")]
    UnknownModel(String),
    #[error("invalid scenario: {0}")]
    Scenario(String),
    #[error("invalid hierarchy: {0}")]
    Hierarchy(String),
    #[error("singular matrix in reconciliation")]
    Singular,
}

pub type Result<T> = std::result::Result<T, ForecastError>;

/// Rejects empty or non-finite input early so every model can assume clean data.
pub(crate) fn check_series(y: &[f64], min: usize) -> Result<()> {
    if y.len() < min {
        return Err(ForecastError::TooShort { len: y.len(), min });
    }
    if y.iter().any(|v| !v.is_finite()) {
        return Err(ForecastError::NonFinite);
    }
    Ok(())
}
