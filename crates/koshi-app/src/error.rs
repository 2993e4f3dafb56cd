//! What can go wrong in a use case, typed, with the kind of failure each adapter needs: the HTTP
//! server turns [`ErrorKind`] into a status and [`AppError::code`] into its stable error code,
//! the command line into an exit status. Messages name the request's fields, never a flag or
//! a URL: the adapters add those.

use std::time::Duration;

use koshi_store::{QueryError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A data request that does not hold (key, source, as-of date, period, dataflow).
    #[error(transparent)]
    Query(#[from] QueryError),
    /// Something named that does not exist (a code list, a series).
    #[error("unknown {what} `{id}`{}", known_list(.known))]
    NotFound { what: &'static str, id: String, known: Vec<String> },
    /// A request field out of its range or malformed.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The data cannot answer the request (too short a series, no such corridor in the bank).
    #[error("{0}")]
    Unanswerable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Load(#[from] koshi_ingest::LoadError),
    #[error(transparent)]
    Gravity(#[from] koshi_gravity::GravityError),
    #[error(transparent)]
    Forecast(#[from] koshi_forecast::ForecastError),
    #[error(transparent)]
    Flows(#[from] koshi_flows::FlowsError),
    /// Every read connection stayed busy.
    #[error("every data bank connection stayed busy for {:.0} s: try again shortly", .waited.as_secs_f64())]
    Busy { waited: Duration },
    #[error("{path}: {source}")]
    File { path: String, source: std::io::Error },
    /// The answer would be larger than the limit named in the message.
    #[error("{0}")]
    TooLarge(String),
    /// A message could not be written (the output went away, or the data do not fit it).
    #[error(transparent)]
    Write(koshi_sdmx::WriteError),
    /// No valid credentials: missing where they are needed, expired, revoked or forged.
    #[error("{0}")]
    Unauthenticated(String),
    /// Signed in, but the role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request clashes with the record's state (decided already, a name taken).
    #[error("{0}")]
    Conflict(String),
    /// Too many failed sign-ins: wait before trying again.
    #[error("too many failed sign-ins for this name or address: try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error(transparent)]
    Registry(koshi_registry::RegistryError),
}

impl From<koshi_registry::RegistryError> for AppError {
    fn from(e: koshi_registry::RegistryError) -> Self {
        match e {
            koshi_registry::RegistryError::Constraint(message) => AppError::Conflict(message),
            other => AppError::Registry(other),
        }
    }
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() { String::new() } else { format!(" (there are {})", known.join(", ")) }
}

/// How a failure should be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is wrong: fix it and ask again.
    BadRequest,
    /// It names something that does not exist.
    NotFound,
    /// The input (a file) has errors; nothing was written.
    Rejected,
    /// Try again later: another writer or other requests hold the bank.
    Busy,
    /// The answer would exceed a limit: narrow the request.
    TooLarge,
    /// No valid credentials.
    Unauthenticated,
    /// The credentials do not allow it.
    Forbidden,
    /// The record's state does not allow it now.
    Conflict,
    /// Slow down.
    TooManyRequests,
    /// A failure of the system, not of the request.
    Internal,
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid { field: field.into(), message: message.into() }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            AppError::Query(QueryError::UnknownDataflow { .. }) | AppError::NotFound { .. } => ErrorKind::NotFound,
            AppError::Query(_) | AppError::Invalid { .. } | AppError::Unanswerable(_) => ErrorKind::BadRequest,
            AppError::Gravity(_) | AppError::Forecast(_) | AppError::Flows(_) => ErrorKind::BadRequest,
            AppError::Store(StoreError::Busy { .. }) | AppError::Busy { .. } => ErrorKind::Busy,
            AppError::Store(StoreError::Invalid(_)) => ErrorKind::BadRequest,
            AppError::Load(koshi_ingest::LoadError::Store(StoreError::Busy { .. })) => ErrorKind::Busy,
            AppError::Load(koshi_ingest::LoadError::Store(_)) => ErrorKind::Internal,
            AppError::Load(_) => ErrorKind::Rejected,
            AppError::File { .. } => ErrorKind::BadRequest,
            AppError::Store(_) => ErrorKind::Internal,
            AppError::TooLarge(_) => ErrorKind::TooLarge,
            AppError::Write(_) => ErrorKind::Internal,
            AppError::Unauthenticated(_) => ErrorKind::Unauthenticated,
            AppError::Forbidden(_) => ErrorKind::Forbidden,
            AppError::Conflict(_) => ErrorKind::Conflict,
            AppError::TooManyAttempts { .. } => ErrorKind::TooManyRequests,
            AppError::Registry(koshi_registry::RegistryError::Busy { .. }) => ErrorKind::Busy,
            AppError::Registry(_) => ErrorKind::Internal,
        }
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Query(QueryError::UnknownDataflow { .. }) => "UNKNOWN_DATAFLOW",
            e @ AppError::Query(QueryError::Key(_)) if e.is_unknown_code() => "UNKNOWN_CODE",
            AppError::Query(QueryError::Key(_)) => "BAD_KEY",
            AppError::Query(QueryError::UnknownSource(_)) => "UNKNOWN_SOURCE",
            AppError::Query(_) | AppError::Invalid { .. } => "BAD_PARAMETER",
            AppError::NotFound { what: "code list", .. } => "UNKNOWN_CODELIST",
            AppError::NotFound { .. } => "NOT_FOUND",
            AppError::Unanswerable(_) => "UNANSWERABLE",
            AppError::Gravity(_) | AppError::Forecast(_) | AppError::Flows(_) => "MODEL_FAILED",
            AppError::Busy { .. } => "BUSY",
            AppError::File { .. } => "BAD_FILE",
            AppError::TooLarge(_) => "TOO_LARGE",
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::Conflict(_) => "CONFLICT",
            AppError::TooManyAttempts { .. } => "TOO_MANY_ATTEMPTS",
            e => match e.kind() {
                ErrorKind::Busy => "BUSY",
                ErrorKind::Rejected => "REJECTED",
                ErrorKind::BadRequest => "BAD_REQUEST",
                _ => "INTERNAL",
            },
        }
    }

    fn is_unknown_code(&self) -> bool {
        matches!(self, AppError::Query(q) if q.is_unknown_code())
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;
