//! The work-permit registry's storage: users and their credentials, employers, the quota's
//! cells, applications, permits and an append-only, hash-chained audit log.
//!
//! Two databases hold it the same way: an SQLite file (the embedded default) and PostgreSQL
//! (production). Every statement is written once ([`Tx`]) in the SQL both understand; what
//! differs is how a transaction starts and what it locks. The rules (who may do what, what a
//! decision is) live in the application layer; this crate only keeps records, with three walls
//! of its own:
//!
//! * a quota cell can never be used beyond its allocation: [`Tx::consume`] changes nothing when
//!   the places are not free, and a `CHECK (used <= allocated)` refuses any statement that
//!   would over-use a cell;
//! * the audit log cannot be changed or deleted through SQL (triggers), each entry's hash covers
//!   the previous one ([`audit`]), and appends take the chain's head so they cannot fork;
//! * in PostgreSQL, row-level security (forced on the tables' owner) shows an employer only its
//!   own applications, permits and record, and an officer only its region's, whatever the
//!   application asks ([`Scope`]); connecting as a role that bypasses it is refused.

pub mod audit;
mod error;
mod group;
mod model;
mod pool;
mod postgres;
mod sql;
mod sqlite;
mod tx;
mod vacancy;
mod vacancy_month;

use std::path::Path;
use std::time::Duration;

pub use error::{RegistryError, Result};
pub use model::*;
pub use tx::{MAX_PAGE, Tx};
pub use vacancy::*;
pub use vacancy_month::VacancyMonthRow;

use crate::postgres::PgRegistry;
use crate::sqlite::SqliteRegistry;

/// The schema version this koshi writes.
pub const SCHEMA_VERSION: i64 = 3;

/// Where a registry is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(std::path::PathBuf),
    /// A `postgres://` address.
    Postgres(String),
}

impl Location {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; anything else a file path.
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres(text.to_string())
        } else {
            Location::Sqlite(text.into())
        }
    }
}

/// How many connections and how long to wait.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// SQLite: read connections beside the writer. PostgreSQL: connections in all.
    pub connections: usize,
    /// How long a write waits for the database or a connection before giving up.
    pub wait: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { connections: 4, wait: Duration::from_secs(30) }
    }
}

pub struct Registry {
    backend: Backend,
}

enum Backend {
    Sqlite(Box<SqliteRegistry>),
    Postgres(Box<PgRegistry>),
}

impl Registry {
    /// Opens (creating the schema if missing) the registry at `location`.
    pub fn open(location: &Location, options: Options) -> Result<Registry> {
        let backend = match location {
            Location::Sqlite(path) => {
                Backend::Sqlite(Box::new(SqliteRegistry::open(path, options.connections, options.wait)?))
            }
            Location::Postgres(url) => {
                Backend::Postgres(Box::new(PgRegistry::open(url, options.connections, options.wait)?))
            }
        };
        Ok(Registry { backend })
    }

    pub fn open_sqlite(path: &Path) -> Result<Registry> {
        Registry::open(&Location::Sqlite(path.to_path_buf()), Options::default())
    }

    /// Where the registry is (a PostgreSQL address without its password).
    pub fn location(&self) -> String {
        match &self.backend {
            Backend::Sqlite(s) => s.location(),
            Backend::Postgres(p) => p.location(),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Runs `f` in one write transaction acting for `scope`: committed if it returns `Ok`,
    /// rolled back (nothing written) if it returns `Err`.
    pub fn write<T, E: From<RegistryError>>(
        &self,
        scope: &Scope,
        f: impl FnOnce(&mut Tx<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        match &self.backend {
            Backend::Sqlite(s) => s.write(|sql| f(&mut Tx { sql })),
            Backend::Postgres(p) => p.write(scope, |sql| f(&mut Tx { sql })),
        }
    }

    /// Runs `f` in one read-only transaction acting for `scope` (a consistent snapshot).
    pub fn read<T, E: From<RegistryError>>(
        &self,
        scope: &Scope,
        f: impl FnOnce(&mut Tx<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(|sql| f(&mut Tx { sql })),
            Backend::Postgres(p) => p.read(scope, |sql| f(&mut Tx { sql })),
        }
    }

    /// The credential whose secret has this hash, with its user. It runs on every signed-in
    /// request, so it is one statement, on PostgreSQL outside a transaction (its tables have no
    /// row-level security; one statement sees one snapshot).
    pub fn credential(&self, secret_hash: &str) -> Result<Option<(Credential, User)>> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(|sql| Tx { sql }.credential(secret_hash)),
            Backend::Postgres(p) => p.autocommit(|sql| Tx { sql }.credential(secret_hash)),
        }
    }

    /// Walks the whole audit chain; the first broken entry, if any, and how many were checked.
    pub fn verify(&self) -> Result<(u64, Option<audit::Break>)> {
        let mut check = audit::ChainCheck::default();
        let mut after = 0;
        loop {
            let batch = self.read(&Scope::System, |tx| tx.audit(after, 5_000))?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for entry in &batch {
                if let Err(broken) = check.check(entry) {
                    return Ok((check.checked, Some(broken)));
                }
            }
        }
        let (seq, hash) = self.read(&Scope::System, |tx| tx.audit_head())?;
        Ok((check.checked, check.check_head(seq, &hash).err()))
    }
}

fn newer(location: &str, found: &str) -> RegistryError {
    RegistryError::NewerSchema {
        location: location.to_string(),
        found: found.to_string(),
        supported: SCHEMA_VERSION.to_string(),
    }
}

/// The first schema version with the vacancies' monthly sums: a registry opened from before it
/// gets them computed from its vacancies.
const MONTHLY_SUMS_SINCE: i64 = 3;

/// Checks the stored schema version and brings an older registry up to this one; the version
/// found.
pub(crate) fn check_version_sqlite(conn: &rusqlite::Connection, path: &Path) -> Result<i64> {
    conn.execute(
        "INSERT INTO registry_meta (key, value) VALUES ('schema_version', ?1) ON CONFLICT (key) DO NOTHING",
        [SCHEMA_VERSION.to_string()],
    )?;
    let found: String =
        conn.query_row("SELECT value FROM registry_meta WHERE key = 'schema_version'", [], |r| r.get(0))?;
    let version = match found.parse::<i64>() {
        Ok(v) if v <= SCHEMA_VERSION => v,
        _ => return Err(newer(&path.display().to_string(), &found)),
    };
    // An older registry has just been given the newer tables by the schema's `IF NOT EXISTS`.
    conn.execute("UPDATE registry_meta SET value = ?1 WHERE key = 'schema_version'", [SCHEMA_VERSION.to_string()])?;
    Ok(version)
}

pub(crate) fn check_version_pg(tx: &mut ::postgres::Transaction<'_>, location: &str) -> Result<i64> {
    tx.execute(
        "INSERT INTO registry_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO NOTHING",
        &[&SCHEMA_VERSION.to_string()],
    )?;
    let found: String = tx.query_one("SELECT value FROM registry_meta WHERE key = 'schema_version'", &[])?.get(0);
    let version = match found.parse::<i64>() {
        Ok(v) if v <= SCHEMA_VERSION => v,
        _ => return Err(newer(location, &found)),
    };
    tx.execute("UPDATE registry_meta SET value = $1 WHERE key = 'schema_version'", &[&SCHEMA_VERSION.to_string()])?;
    Ok(version)
}
