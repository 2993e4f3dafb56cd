//! A few read-only connections to the bank file. SQLite in WAL mode lets readers run side by
//! side (and beside a writer), so a slow request holds one connection, not the whole bank.

use std::path::Path;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use koshi_store::Bank;

use crate::error::{AppError, Result};

pub(crate) struct BankPool {
    idle: Mutex<Vec<Bank>>,
    returned: Condvar,
    /// How long a caller waits for a free connection before it is told the bank is busy.
    wait: Duration,
}

impl BankPool {
    /// Open `size` (at least one) read-only connections to the bank at `path`.
    pub(crate) fn open(path: &Path, size: usize, wait: Duration) -> Result<Self> {
        let mut idle = Vec::with_capacity(size);
        for _ in 0..size.max(1) {
            let mut bank = Bank::open_read_only(path)?;
            bank.expect_bundle(koshi_ingest::bundled::fingerprint());
            idle.push(bank);
        }
        Ok(BankPool { idle: Mutex::new(idle), returned: Condvar::new(), wait })
    }

    /// Run `f` on a connection, inside one read transaction. Blocks until a connection is free
    /// (at most the pool's wait).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Bank) -> Result<T>) -> Result<T> {
        let mut lease = self.take()?;
        let bank = lease.bank.as_mut().expect("a lease holds its connection until dropped");
        // Sources and dataflows another process declared since this connection last looked.
        bank.refresh_declarations()?;
        bank.read_snapshot(f)
    }

    fn take(&self) -> Result<Lease<'_>> {
        let deadline = Instant::now() + self.wait;
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(bank) = idle.pop() {
                return Ok(Lease { pool: self, bank: Some(bank) });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(AppError::Busy { waited: self.wait });
            }
            idle = self.returned.wait_timeout(idle, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }
}

/// A connection out of the pool; it goes back when dropped, even if the caller panicked.
struct Lease<'p> {
    pool: &'p BankPool,
    bank: Option<Bank>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(bank) = self.bank.take() {
            self.pool.idle.lock().unwrap_or_else(PoisonError::into_inner).push(bank);
            self.pool.returned.notify_one();
        }
    }
}
