//! The audit log's hash chain: each entry's hash is the SHA-256 of its fields and of the
//! previous entry's hash, so changing, removing or inserting an entry breaks every hash after it.

use sha2::{Digest, Sha256};

use crate::model::AuditEntry;

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry. Every field is length-prefixed, so no two different entries print the
/// same bytes.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    seq: i64,
    at: i64,
    actor_id: Option<i64>,
    actor: &str,
    action: &str,
    object: &str,
    before: Option<&str>,
    after: Option<&str>,
    prev_hash: &str,
) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(&seq.to_le_bytes());
    field(&at.to_le_bytes());
    match actor_id {
        Some(id) => field(&id.to_le_bytes()),
        None => field(b""),
    }
    field(actor.as_bytes());
    field(action.as_bytes());
    field(object.as_bytes());
    for part in [before, after] {
        match part {
            Some(text) => {
                field(b"+");
                field(text.as_bytes());
            }
            None => field(b"-"),
        }
    }
    field(prev_hash.as_bytes());
    hex(&h.finalize())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// SHA-256 of a secret, hex: what is stored of a session or token.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Where a chain first goes wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Break {
    pub seq: i64,
    pub reason: String,
}

/// Checks entries in order, carrying the state between batches.
#[derive(Debug, Clone)]
pub struct ChainCheck {
    expected_seq: i64,
    prev_hash: String,
    pub checked: u64,
}

impl Default for ChainCheck {
    fn default() -> Self {
        ChainCheck { expected_seq: 1, prev_hash: GENESIS.to_string(), checked: 0 }
    }
}

impl ChainCheck {
    /// Checks the next entry; the first break found.
    pub fn check(&mut self, e: &AuditEntry) -> Result<(), Break> {
        if e.seq != self.expected_seq {
            return Err(Break {
                seq: self.expected_seq,
                reason: format!("entry {} is missing (the next entry found is {})", self.expected_seq, e.seq),
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(Break {
                seq: e.seq,
                reason: "its link to the previous entry does not match that entry's hash".to_string(),
            });
        }
        let computed = entry_hash(
            e.seq,
            e.at,
            e.actor_id,
            &e.actor,
            &e.action,
            &e.object,
            e.before.as_deref(),
            e.after.as_deref(),
            &e.prev_hash,
        );
        if computed != e.hash {
            return Err(Break {
                seq: e.seq,
                reason: "its content does not match its hash (it was changed)".to_string(),
            });
        }
        self.expected_seq += 1;
        self.prev_hash = e.hash.clone();
        self.checked += 1;
        Ok(())
    }

    /// Checks that the chain's recorded head is the last entry checked.
    pub fn check_head(&self, head_seq: i64, head_hash: &str) -> Result<(), Break> {
        if head_seq != self.expected_seq - 1 {
            return Err(Break {
                seq: self.expected_seq.min(head_seq + 1),
                reason: format!("the chain's head says {head_seq} entries but {} were found", self.expected_seq - 1),
            });
        }
        if head_hash != self.prev_hash {
            return Err(Break { seq: head_seq, reason: "the chain's head does not match the last entry".to_string() });
        }
        Ok(())
    }
}
