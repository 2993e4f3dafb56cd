//! A few connections shared by the requests of a process; a connection goes back when its
//! lease is dropped, even if the caller panicked.

use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{RegistryError, Result};

pub(crate) struct Pool<C> {
    idle: Mutex<Vec<C>>,
    returned: Condvar,
    wait: Duration,
}

impl<C> Pool<C> {
    pub(crate) fn new(connections: Vec<C>, wait: Duration) -> Self {
        Pool { idle: Mutex::new(connections), returned: Condvar::new(), wait }
    }

    /// A connection, waiting at most the pool's wait for one to come back.
    pub(crate) fn take(&self) -> Result<Lease<'_, C>> {
        let deadline = Instant::now() + self.wait;
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(conn) = idle.pop() {
                return Ok(Lease { pool: self, conn: Some(conn) });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(RegistryError::Busy { waited: self.wait });
            }
            idle = self.returned.wait_timeout(idle, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }
}

pub(crate) struct Lease<'p, C> {
    pool: &'p Pool<C>,
    conn: Option<C>,
}

impl<C> Deref for Lease<'_, C> {
    type Target = C;
    fn deref(&self) -> &C {
        self.conn.as_ref().expect("a lease holds its connection until dropped")
    }
}

impl<C> DerefMut for Lease<'_, C> {
    fn deref_mut(&mut self) -> &mut C {
        self.conn.as_mut().expect("a lease holds its connection until dropped")
    }
}

impl<C> Drop for Lease<'_, C> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.idle.lock().unwrap_or_else(PoisonError::into_inner).push(conn);
            self.pool.returned.notify_one();
        }
    }
}
