//! The registry in an SQLite file: one writer connection (writes queue for it in the process and
//! share its commits, see [`crate::group`]; across processes they queue for the file's write
//! lock), a few read connections beside it (WAL), and every commit durable (`synchronous = FULL`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::{RegistryError, Result};
use crate::group::{Group, WriterConnection};
use crate::pool::Pool;
use crate::sql::{Cell, Param, Row, Sql};
use crate::tx::Tx;

const SCHEMA: &str = include_str!("schema_sqlite.sql");

pub(crate) struct SqliteRegistry {
    path: PathBuf,
    // Fields drop in this order: the read-only connections close before the writer, so that the
    // writer, closing last, copies the write-ahead log into the database and removes it. (Were a
    // read-only connection last, the log would stay, and the next process would copy all of it
    // again on its first commit: a cost that grows with every import.)
    readers: Pool<Connection>,
    writer: Group<SqliteWriter>,
}

impl SqliteRegistry {
    pub(crate) fn open(path: &Path, readers: usize, busy_timeout: Duration) -> Result<Self> {
        let writer = Connection::open(path)?;
        writer.busy_timeout(busy_timeout)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        // A decision is only made once it is on disk.
        writer.pragma_update(None, "synchronous", "FULL")?;
        writer.pragma_update(None, "foreign_keys", "ON")?;
        // A large import touches index pages all over the file: keep up to 256 MiB of them (the
        // default is 2 MiB), read the file through the memory map rather than copies, and give
        // the write-ahead log back to the disk once it has been copied. (Measured on 26,204
        // postings into a registry of 500,000: 18.9 s before, 13.0 s after.)
        writer.pragma_update(None, "cache_size", -262_144)?;
        writer.pragma_update(None, "mmap_size", 4_i64 << 30)?;
        writer.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        with_busy(busy_timeout, || writer.execute_batch("BEGIN IMMEDIATE"))?;
        let done = writer
            .execute_batch(SCHEMA)
            .and_then(|_| add_employer_keys(&writer))
            .map_err(RegistryError::from)
            .and_then(|_| crate::check_version_sqlite(&writer, path))
            .and_then(|found| {
                if found < crate::MONTHLY_SUMS_SINCE {
                    Tx { sql: &mut SqliteSql { conn: &writer } }.rebuild_vacancy_months()?;
                }
                Ok(())
            });
        match done {
            Ok(()) => writer.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = writer.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
        let mut pool = Vec::new();
        for _ in 0..readers.max(1) {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
            )?;
            conn.busy_timeout(busy_timeout)?;
            conn.pragma_update(None, "cache_size", -16_384)?;
            pool.push(conn);
        }
        Ok(SqliteRegistry {
            path: path.to_path_buf(),
            readers: Pool::new(pool, busy_timeout),
            writer: Group::new(SqliteWriter { conn: writer, busy_timeout }),
        })
    }

    pub(crate) fn location(&self) -> String {
        self.path.display().to_string()
    }

    /// Runs `f` as one atomic write, returning once it is durably committed (group commit).
    pub(crate) fn write<T, E: From<RegistryError>>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        self.writer.write(|w: &mut SqliteWriter| f(&mut SqliteSql { conn: &w.conn }))
    }

    pub(crate) fn read<T, E: From<RegistryError>>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T, E>) -> Result<T, E> {
        let conn = self.readers.take()?;
        let begin = || -> Result<()> {
            if !conn.is_autocommit() {
                // A reader whose caller panicked inside its transaction.
                conn.execute_batch("ROLLBACK")?;
            }
            Ok(conn.execute_batch("BEGIN")?)
        };
        begin()?;
        let mut sql = SqliteSql { conn: &conn };
        let value = f(&mut sql);
        conn.execute_batch("COMMIT").map_err(RegistryError::from)?;
        value
    }
}

/// The writer connection.
struct SqliteWriter {
    conn: Connection,
    busy_timeout: Duration,
}

impl WriterConnection for SqliteWriter {
    fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn begin(&mut self) -> Result<()> {
        with_busy(self.busy_timeout, || self.conn.execute_batch("BEGIN IMMEDIATE"))
    }

    fn in_stray_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }
}

/// Runs `f`, turning SQLite's "busy" (another process held the file past the busy timeout)
/// into [`RegistryError::Busy`].
/// The vacancy's employer keys (schema 3) in a registry created before them, and their indexes.
fn add_employer_keys(conn: &Connection) -> rusqlite::Result<()> {
    let mut columns = conn.prepare("SELECT name FROM pragma_table_info('vacancy')")?;
    let names: Vec<String> = columns.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    for column in ["employer_bin", "employer_name"] {
        if !names.iter().any(|n| n == column) {
            conn.execute_batch(&format!("ALTER TABLE vacancy ADD COLUMN {column} TEXT"))?;
        }
    }
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS vacancy_by_employer_bin ON vacancy (region, employer_bin, posted); \
         CREATE INDEX IF NOT EXISTS vacancy_by_employer_name ON vacancy (region, employer_name, posted);",
    )
}

fn with_busy<T>(waited: Duration, f: impl FnOnce() -> rusqlite::Result<T>) -> Result<T> {
    f().map_err(|e| match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => RegistryError::Busy { waited },
        _ => e.into(),
    })
}

struct SqliteSql<'c> {
    conn: &'c Connection,
}

fn bind(params: &[Param<'_>]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|p| match p {
            Param::Int(Some(v)) => rusqlite::types::Value::Integer(*v),
            Param::Text(Some(t)) => rusqlite::types::Value::Text((*t).to_string()),
            Param::Int(None) | Param::Text(None) => rusqlite::types::Value::Null,
        })
        .collect()
}

impl Sql for SqliteSql<'_> {
    fn exec(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let changed = stmt.execute(rusqlite::params_from_iter(bind(params)))?;
        Ok(changed as u64)
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(bind(params)))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(columns);
            for i in 0..columns {
                cells.push(match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Cell::Null,
                    rusqlite::types::ValueRef::Integer(v) => Cell::Int(v),
                    rusqlite::types::ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                    other => {
                        return Err(RegistryError::Corrupt(format!(
                            "column {i} holds a {:?} value koshi never writes",
                            other.data_type()
                        )));
                    }
                });
            }
            out.push(Row(cells));
        }
        Ok(out)
    }

    fn lock_suffix(&self) -> &'static str {
        ""
    }
}
