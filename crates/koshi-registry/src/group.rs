//! Group commit for SQLite's one writer connection. (PostgreSQL writes run on pooled
//! connections side by side; grouping them on one connection was measured slower there.)
//!
//! Writes that arrive while another holds the writer connection join its transaction, each in a
//! savepoint of its own (a failed write is rolled back alone), and the last of them (or the
//! [`MAX_BATCH`]th) commits for all; the others wait for that commit before they answer. One
//! flush to disk then covers many writes, while every write stays all or nothing and is
//! acknowledged only once durable. If the commit fails, every write of the batch fails.
//!
//! One writer also serialises the audit chain's appends without a lock held across a flush.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use crate::error::{RegistryError, Result};

/// The most writes one commit covers.
pub(crate) const MAX_BATCH: usize = 256;

/// What the group needs of a connection.
pub(crate) trait WriterConnection: Send {
    /// Runs statements without parameters (`BEGIN`, `SAVEPOINT …`, `COMMIT`).
    fn batch(&mut self, sql: &str) -> Result<()>;
    /// Starts the batch's transaction.
    fn begin(&mut self) -> Result<()>;
    /// A transaction left open by a writer that panicked, with no batch recorded open.
    fn in_stray_transaction(&self) -> bool;
}

struct Writer<C> {
    conn: C,
    open: bool,
    /// The number of the open (or last) batch.
    batch: u64,
    /// Writes that succeeded in the open batch.
    members: usize,
}

/// What became of the batches.
#[derive(Default)]
struct Commits {
    /// Every batch up to this one has ended (committed, or failed as listed).
    done: u64,
    failed: Vec<(u64, String)>,
}

pub(crate) struct Group<C> {
    writer: Mutex<Writer<C>>,
    /// Writers waiting for the connection: while there are some, a writer leaves the
    /// transaction open for them.
    queued: AtomicUsize,
    commits: Mutex<Commits>,
    committed: Condvar,
}

impl<C: WriterConnection> Group<C> {
    pub(crate) fn new(conn: C) -> Self {
        Group {
            writer: Mutex::new(Writer { conn, open: false, batch: 0, members: 0 }),
            queued: AtomicUsize::new(0),
            commits: Mutex::new(Commits::default()),
            committed: Condvar::new(),
        }
    }

    /// Runs `f` on the writer connection as one atomic write and returns once it is committed.
    pub(crate) fn write<T, E: From<RegistryError>>(&self, f: impl FnOnce(&mut C) -> Result<T, E>) -> Result<T, E> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut w = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.queued.fetch_sub(1, Ordering::SeqCst);
        if !w.open {
            if w.conn.in_stray_transaction() {
                w.conn.batch("ROLLBACK")?;
            }
            w.conn.begin()?;
            w.open = true;
            w.batch += 1;
            w.members = 0;
        }
        let batch = w.batch;
        w.conn.batch("SAVEPOINT write")?;
        let result = f(&mut w.conn);
        match &result {
            Ok(_) => {
                w.conn.batch("RELEASE write")?;
                w.members += 1;
            }
            Err(_) => {
                w.conn.batch("ROLLBACK TO write")?;
                w.conn.batch("RELEASE write")?;
            }
        }
        if self.queued.load(Ordering::SeqCst) == 0 || w.members >= MAX_BATCH {
            let committed = self.commit(&mut w);
            drop(w);
            return match (result, committed) {
                (Ok(value), Ok(())) => Ok(value),
                (Ok(_), Err(e)) => Err(e.into()),
                (Err(e), _) => Err(e),
            };
        }
        drop(w);
        let value = result?;
        self.wait_for(batch)?;
        Ok(value)
    }

    /// Commits the open batch and tells its waiting writers.
    fn commit(&self, w: &mut Writer<C>) -> Result<()> {
        if !w.open {
            return Ok(());
        }
        w.open = false;
        let outcome = w.conn.batch("COMMIT").map_err(|e| {
            let _ = w.conn.batch("ROLLBACK");
            e.to_string()
        });
        let mut commits = self.commits.lock().unwrap_or_else(PoisonError::into_inner);
        commits.done = w.batch;
        if let Err(message) = &outcome {
            commits.failed.push((w.batch, message.clone()));
            if commits.failed.len() > 64 {
                commits.failed.remove(0);
            }
        }
        drop(commits);
        self.committed.notify_all();
        outcome.map_err(failed)
    }

    /// Waits until `batch` has ended. A batch whose last writer went away without committing
    /// (it panicked) is committed by the first of its waiters to notice.
    fn wait_for(&self, batch: u64) -> Result<()> {
        let mut commits = self.commits.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if commits.done >= batch {
                return match commits.failed.iter().find(|(b, _)| *b == batch) {
                    None => Ok(()),
                    Some((_, message)) => Err(failed(message.clone())),
                };
            }
            let (guard, timeout) = self
                .committed
                .wait_timeout(commits, Duration::from_millis(200))
                .unwrap_or_else(PoisonError::into_inner);
            commits = guard;
            if timeout.timed_out() {
                drop(commits);
                let mut w = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
                if w.open && w.batch == batch && self.queued.load(Ordering::SeqCst) == 0 {
                    let _ = self.commit(&mut w);
                }
                drop(w);
                commits = self.commits.lock().unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}

fn failed(message: String) -> RegistryError {
    RegistryError::CommitFailed(message)
}
