use thiserror::Error;

/// Everything that can go wrong when specifying or fitting a gravity model.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum GravityError {
    #[error("formula error: {0}")]
    Formula(String),
    #[error("variance specification error: {0}")]
    VcovSpec(String),
    #[error("unknown column `{0}`")]
    UnknownColumn(String),
    #[error("column `{name}` has {got} rows, table has {expected}")]
    LengthMismatch { name: String, expected: usize, got: usize },
    #[error("duplicate column `{0}`")]
    DuplicateColumn(String),
    #[error("column `{0}` must be numeric here")]
    NotNumeric(String),
    #[error("no observations left after dropping missing, separated and singleton rows")]
    NoObservations,
    #[error("no regressor left after removing collinear variables")]
    NoRegressors,
    #[error("the dependent variable has negative values; Poisson needs y >= 0")]
    NegativeResponse,
    #[error("numerical failure: {0}")]
    Numerical(String),
    #[error("fit did not converge in {0} iterations")]
    NotConverged(usize),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, GravityError>;
