//! Flows-from-stocks estimation and migration indices for koshi.
//!
//! Pure computation: no IO. Stock tables are square matrices with
//! **rows = place of birth, columns = place of residence**; flow tables are
//! **rows = origin, columns = destination**. Every estimator returns its
//! table together with a [`Convergence`] report. See `METHODS.md` for the
//! formulas.

mod demographic;
mod indices;
mod ipf;
mod matrix;
mod net;
mod newton;
mod rates;
mod stock_diff;
pub mod world;

pub use demographic::{
    BirthplaceMatching, DeathMethod, DemographicEstimate, DemographicOptions, births_deaths_from_birthplace_totals,
    demographic_accounting,
};
pub use indices::{
    ConnectivityIndices, DistanceIndices, ImpactIndices, IntensityIndices, connectivity, distance, impact, intensity,
    weighted_median,
};
pub use ipf::{Convergence, DiagonalTreatment, Fitted, Fitted3, IpfOptions, ipf2, ipf3_birthplace, margin_error};
pub use matrix::{Matrix, Table3};
pub use net::{net_error, net_flows};
pub use rates::{rates_dennett, rates_rogers_von_rabenau};
pub use stock_diff::{StockDecrease, stock_difference};

/// Errors from the flows engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlowsError {
    #[error("dimension mismatch: {0}")]
    Dimension(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("inconsistent margins: row totals sum to {row_total}, column totals to {col_total}")]
    InconsistentMargins { row_total: f64, col_total: f64 },
    #[error("infeasible constraints: {0}")]
    Infeasible(String),
    #[error("matrix is singular")]
    Singular,
}
