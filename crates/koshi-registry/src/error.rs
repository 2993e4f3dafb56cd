use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("registry (SQLite): {0}")]
    Sqlite(rusqlite::Error),
    #[error("registry (PostgreSQL): {0}")]
    Postgres(postgres::Error),
    /// A uniqueness or check constraint refused the write (a name taken, a cell over-used).
    #[error("registry: {0}")]
    Constraint(String),
    #[error(
        "the registry is busy: another writer held it for the {:.1} s this one waited; nothing was written",
        .waited.as_secs_f64()
    )]
    Busy { waited: Duration },
    #[error("registry: a commit failed and nothing of its writes was kept: {0}")]
    CommitFailed(String),
    #[error("the registry holds something koshi never writes: {0}")]
    Corrupt(String),
    #[error("registry {location}: schema version {found} is newer than this koshi understands ({supported})")]
    NewerSchema { location: String, found: String, supported: String },
    #[error(
        "the PostgreSQL role `{role}` is a superuser or bypasses row-level security, so the database could not \
keep employers apart; connect as an ordinary role (NOSUPERUSER NOBYPASSRLS) that owns the registry's tables"
    )]
    PrivilegedRole { role: String },
    #[error("registry: {0}")]
    Io(#[from] std::io::Error),
}

impl From<rusqlite::Error> for RegistryError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => RegistryError::Constraint(e.to_string()),
            _ => RegistryError::Sqlite(e),
        }
    }
}

impl From<postgres::Error> for RegistryError {
    fn from(e: postgres::Error) -> Self {
        use postgres::error::SqlState;
        match e.code() {
            Some(c) if *c == SqlState::UNIQUE_VIOLATION || *c == SqlState::CHECK_VIOLATION => {
                let message = e.as_db_error().map(|d| d.message().to_string()).unwrap_or_else(|| e.to_string());
                RegistryError::Constraint(message)
            }
            _ => RegistryError::Postgres(e),
        }
    }
}

impl RegistryError {
    /// A row-level security refusal (PostgreSQL): the database itself refused the row.
    pub fn is_row_security(&self) -> bool {
        matches!(self, RegistryError::Postgres(e)
            if e.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE))
    }
}

pub type Result<T, E = RegistryError> = std::result::Result<T, E>;
