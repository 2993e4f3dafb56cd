//! A few read-only connections to the bank file. SQLite in WAL mode lets readers run side by
//! side (and beside a writer), so a slow request holds one connection, not the whole bank.

use std::path::Path;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use koshi_store::{Bank, StoreError};
use rusqlite::config::DbConfig;

use crate::error::ApiError;

pub struct BankPool {
    idle: Mutex<Vec<Bank>>,
    returned: Condvar,
    /// How long a request waits for a free connection before it is told the server is busy.
    wait: Duration,
}

impl BankPool {
    /// Open `size` connections to the bank at `path`; they refuse writes.
    pub fn open(path: &Path, size: usize, wait: Duration) -> Result<Self, StoreError> {
        let mut idle = Vec::with_capacity(size);
        for _ in 0..size.max(1) {
            let bank = Bank::open(path)?;
            let conn = bank.connection();
            conn.pragma_update(None, "query_only", true)?;
            // The bundled SQLite (STAT4) re-plans a statement whenever its parameters change:
            // series-by-series reading prepared every lookup again, twice as slow.
            conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
            idle.push(bank);
        }
        Ok(BankPool { idle: Mutex::new(idle), returned: Condvar::new(), wait })
    }

    /// Run `f` on a connection, inside one read transaction so that everything it reads comes
    /// from the same state of the bank. Blocks: call it from a blocking thread.
    pub fn read<T>(&self, f: impl FnOnce(&Bank) -> Result<T, ApiError>) -> Result<T, ApiError> {
        let lease = self.take()?;
        let bank = lease.bank.as_ref().expect("a lease holds its connection until dropped");
        bank.connection().execute_batch("BEGIN").map_err(StoreError::from)?;
        let out = f(bank);
        // Nothing was written: ending the transaction either way only releases the snapshot.
        bank.connection().execute_batch("COMMIT").map_err(StoreError::from)?;
        out
    }

    fn take(&self) -> Result<Lease<'_>, ApiError> {
        let deadline = Instant::now() + self.wait;
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(bank) = idle.pop() {
                return Ok(Lease { pool: self, bank: Some(bank) });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "BUSY",
                    format!("every bank connection stayed busy for {} s: try again shortly", self.wait.as_secs()),
                ));
            }
            idle = self.returned.wait_timeout(idle, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }
}

/// A connection out of the pool; it goes back when dropped, even if the request panicked.
struct Lease<'p> {
    pool: &'p BankPool,
    bank: Option<Bank>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(bank) = self.bank.take() {
            // A panic between BEGIN and COMMIT must not leave the connection on an old snapshot.
            if !bank.connection().is_autocommit() {
                let _ = bank.connection().execute_batch("ROLLBACK");
            }
            self.pool.idle.lock().unwrap_or_else(PoisonError::into_inner).push(bank);
            self.pool.returned.notify_one();
        }
    }
}
