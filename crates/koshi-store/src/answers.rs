//! The bank's store of slow answers (table `kept_answer`): a use case's answer, as the bytes it
//! was serialised to, under its kind and request, valid only for the `stamp` it was kept with
//! (the state of the bank and the program that computed it). A cache: reading a row whose
//! stamp differs finds nothing, and rows may be deleted at any time.

use rusqlite::{OptionalExtension, params};

use crate::{Bank, Result};

/// At most this many answers of one kind are kept; the oldest go first.
/// (Enough for a profile of every country and region of the code lists.)
pub const MAX_KEPT_PER_KIND: usize = 320;

impl Bank {
    /// The answer kept for `kind` and `request` under `stamp`, if any.
    pub fn kept_answer(&self, kind: &str, request: &str, stamp: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .connection()
            .query_row(
                "SELECT body FROM kept_answer WHERE kind = ?1 AND request = ?2 AND stamp = ?3",
                params![kind, request, stamp],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Keep `body` as the answer for `kind` and `request` under `stamp` (replacing an earlier
    /// one), and forget the oldest of its kind beyond [`MAX_KEPT_PER_KIND`]; one transaction.
    pub fn keep_answer(&mut self, kind: &str, request: &str, stamp: &str, body: &[u8]) -> Result<()> {
        self.write(|bank| {
            let conn = bank.connection();
            conn.execute(
                "INSERT OR REPLACE INTO kept_answer(kind, request, stamp, body, kept_at)
                 VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                params![kind, request, stamp, body],
            )?;
            conn.execute(
                "DELETE FROM kept_answer WHERE kind = ?1 AND rowid NOT IN
                 (SELECT rowid FROM kept_answer WHERE kind = ?1 ORDER BY kept_at DESC, rowid DESC LIMIT ?2)",
                params![kind, MAX_KEPT_PER_KIND as i64],
            )?;
            Ok(())
        })
    }
}
