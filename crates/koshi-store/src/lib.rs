//! The koshi data bank on SQLite.
//!
//! Writes happen one file at a time in one transaction ([`Bank::write_releases`]): a failed or
//! killed ingest leaves the bank as it was (SQLite WAL journal). A release is identified by its
//! dataflow, source and label; writing the same content again creates nothing, and changed
//! content creates a new release (a new vintage) beside the old one.

mod page;
mod query;
mod request;

use std::collections::HashMap;
use std::path::Path;

use koshi_core::validate::Severity;
use koshi_core::{Catalogue, Date, Observation};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};

pub use page::Generation;
pub use request::{QueryError, QueryText};
pub use query::{
    CheckFinding, DataflowSummary, DiscrepancyRow, HarmonisedRow, ObservationRow, Query, ReleaseInfo, SourceSummary,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("data bank: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("data bank structure: {0}")]
    Structure(#[from] koshi_core::structure::StructureError),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A defect found by validation before writing, stored with the release.
#[derive(Debug, Clone)]
pub struct BatchDefect {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    /// Index into the batch's observations, if the defect concerns one.
    pub observation: Option<usize>,
}

/// One release's figures: one dataflow, one source, one label.
#[derive(Debug, Clone)]
pub struct ReleaseBatch {
    pub dataflow: String,
    pub source: String,
    pub label: String,
    pub release_date: Date,
    pub origin: String,
    pub note: Option<String>,
    pub observations: Vec<Observation>,
    pub defects: Vec<BatchDefect>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum WriteOutcome {
    Created { release_id: i64, dataflow: String, source: String, label: String, observations: usize },
    Unchanged { release_id: i64, dataflow: String, source: String, label: String },
}

pub struct Bank {
    conn: Connection,
    catalogue: Catalogue,
}

const SCHEMA_VERSION: &str = "1";

impl Bank {
    /// Open (or create) the bank at `path`. Creating is idempotent.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::with_connection(conn)
    }

    pub fn open_in_memory() -> Result<Self> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(conn: Connection) -> Result<Self> {
        // WAL: readers never block the writer, and a killed writer leaves the last commit intact.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A large ingest touches the series and observation indexes all over: keep their pages
        // in memory (64 MB cache) rather than reading them back from the file each time.
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(include_str!("schema.sql"))?;
        let catalogue = Catalogue::standard()?;
        let mut bank = Bank { conn, catalogue };
        bank.sync_structure()?;
        Ok(bank)
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Write the catalogue's dataflows and sources into the bank (upsert).
    fn sync_structure(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?1)", [SCHEMA_VERSION])?;
        for df in &self.catalogue.dataflows {
            let dims: Vec<&str> = df.dimensions.iter().map(|d| d.id.as_str()).collect();
            tx.execute(
                "INSERT INTO dataflow(id, name_en, name_ru, name_kk, description, dimensions) VALUES (?1,?2,?3,?4,?5,?6)
                 ON CONFLICT(id) DO UPDATE SET name_en=excluded.name_en, name_ru=excluded.name_ru, name_kk=excluded.name_kk,
                 description=excluded.description, dimensions=excluded.dimensions",
                params![df.id, df.name.en, df.name.ru, df.name.kk, df.description, dims.join(".")],
            )?;
        }
        for s in &self.catalogue.sources {
            tx.execute(
                "INSERT INTO source(id, name_en, name_ru, name_kk, kind, url, file) VALUES (?1,?2,?3,?4,?5,?6,?7)
                 ON CONFLICT(id) DO UPDATE SET name_en=excluded.name_en, name_ru=excluded.name_ru, name_kk=excluded.name_kk,
                 kind=excluded.kind, url=excluded.url, file=excluded.file",
                params![s.id, s.name.en, s.name.ru, s.name.kk, s.kind, s.url, s.file],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Whether the bank holds no observation yet.
    pub fn is_empty(&self) -> Result<bool> {
        let any: Option<i64> = self.conn.query_row("SELECT 1 FROM observation LIMIT 1", [], |r| r.get(0)).optional()?;
        Ok(any.is_none())
    }

    /// Write several releases (typically everything one file holds) in one transaction.
    pub fn write_releases(&mut self, batches: &[ReleaseBatch]) -> Result<Vec<WriteOutcome>> {
        self.write_releases_with_progress(batches, &mut |_| {})
    }

    /// As [`Bank::write_releases`], calling `progress` with the number of observations written so far.
    pub fn write_releases_with_progress(
        &mut self,
        batches: &[ReleaseBatch],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<WriteOutcome>> {
        for b in batches {
            self.check_batch_refs(b)?;
        }
        let tx = self.conn.transaction()?;
        let mut outcomes = Vec::with_capacity(batches.len());
        let mut writer = Writer::new(&tx)?;
        let mut written = 0usize;
        for b in batches {
            outcomes.push(writer.write(b, &mut |n| progress(written + n))?);
            written += b.observations.len();
        }
        drop(writer);
        tx.commit()?;
        Ok(outcomes)
    }

    fn check_batch_refs(&self, b: &ReleaseBatch) -> Result<()> {
        let df = self
            .catalogue
            .dataflow(&b.dataflow)
            .ok_or_else(|| StoreError::Invalid(format!("unknown dataflow {}", b.dataflow)))?;
        if self.catalogue.source(&b.source).is_none() {
            return Err(StoreError::Invalid(format!("unknown source {}", b.source)));
        }
        if let Some(o) = b.observations.iter().find(|o| {
            *o.dataflow != *b.dataflow || *o.source != *b.source || o.key.len() != df.dimensions.len()
        }) {
            return Err(StoreError::Invalid(format!(
                "observation {} {} does not belong to release {}/{}/{}",
                o.dataflow,
                o.key_string(),
                b.dataflow,
                b.source,
                b.label
            )));
        }
        Ok(())
    }
}

/// Content hash of a release: the same figures in any order give the same hash. Each
/// observation is hashed on its own and the digests are added up, so no list of all
/// observations has to be built and sorted.
fn content_hash(b: &ReleaseBatch) -> String {
    let mut sum = [0u64; 4];
    let mut line = String::new();
    for o in &b.observations {
        use std::fmt::Write;
        line.clear();
        let _ = write!(
            line,
            "{}\t{}\t{}\t{:?}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            o.key_string(),
            o.time_period,
            o.definition,
            o.value.map(f64::to_bits),
            o.printed.as_deref().unwrap_or(""),
            o.unit,
            o.unit_mult,
            o.status.code(),
            o.citation.as_deref().unwrap_or(""),
            o.note.as_deref().unwrap_or(""),
            o.defects.join("|"),
            o.source
        );
        let digest = Sha256::digest(line.as_bytes());
        for (i, chunk) in digest.chunks(8).enumerate() {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            sum[i] = sum[i].wrapping_add(word);
        }
    }
    let mut h = Sha256::new();
    h.update(b.release_date.to_string());
    h.update(b.note.as_deref().unwrap_or(""));
    h.update((b.observations.len() as u64).to_le_bytes());
    for word in sum {
        h.update(word.to_le_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

struct Writer<'t> {
    tx: &'t Transaction<'t>,
    series_cache: HashMap<(String, String), i64>,
    definition_cache: HashMap<String, i64>,
}

impl<'t> Writer<'t> {
    fn new(tx: &'t Transaction<'t>) -> Result<Self> {
        Ok(Writer { tx, series_cache: HashMap::new(), definition_cache: HashMap::new() })
    }

    fn series_id(&mut self, dataflow: &str, key: &str) -> Result<i64> {
        if let Some(&id) = self.series_cache.get(&(dataflow.to_string(), key.to_string())) {
            return Ok(id);
        }
        let mut find = self.tx.prepare_cached("SELECT id FROM series WHERE dataflow_id = ?1 AND series_key = ?2")?;
        let id = match find.query_row(params![dataflow, key], |r| r.get(0)).optional()? {
            Some(id) => id,
            None => {
                let mut ins = self.tx.prepare_cached("INSERT INTO series(dataflow_id, series_key) VALUES (?1, ?2)")?;
                ins.execute(params![dataflow, key])?;
                self.tx.last_insert_rowid()
            }
        };
        self.series_cache.insert((dataflow.to_string(), key.to_string()), id);
        Ok(id)
    }

    fn definition_id(&mut self, text: &str) -> Result<i64> {
        if let Some(&id) = self.definition_cache.get(text) {
            return Ok(id);
        }
        self.tx.prepare_cached("INSERT OR IGNORE INTO definition(text) VALUES (?1)")?.execute([text])?;
        let id: i64 = self.tx.prepare_cached("SELECT id FROM definition WHERE text = ?1")?.query_row([text], |r| r.get(0))?;
        self.definition_cache.insert(text.to_string(), id);
        Ok(id)
    }

    fn write(&mut self, b: &ReleaseBatch, progress: &mut dyn FnMut(usize)) -> Result<WriteOutcome> {
        let hash = content_hash(b);
        let existing: Option<i64> = self
            .tx
            .prepare_cached(
                "SELECT id FROM release WHERE dataflow_id=?1 AND source_id=?2 AND label=?3 AND content_hash=?4",
            )?
            .query_row(params![b.dataflow, b.source, b.label, hash], |r| r.get(0))
            .optional()?;
        if let Some(release_id) = existing {
            return Ok(WriteOutcome::Unchanged {
                release_id,
                dataflow: b.dataflow.clone(),
                source: b.source.clone(),
                label: b.label.clone(),
            });
        }
        // A revision of an existing release stream must not predate what it revises.
        let latest_date: Option<String> = self
            .tx
            .query_row(
                "SELECT MAX(release_date) FROM release WHERE dataflow_id=?1 AND source_id=?2 AND label=?3",
                params![b.dataflow, b.source, b.label],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let mut release_date = b.release_date;
        if let Some(latest) = latest_date.as_deref().and_then(|d| d.parse::<Date>().ok())
            && release_date <= latest {
                release_date = today().max(Date::from_days_since_epoch(latest.days_since_epoch() + 1));
            }
        self.tx.execute(
            "INSERT INTO release(dataflow_id, source_id, label, release_date, ingested_at, origin, note, content_hash, observations)
             VALUES (?1,?2,?3,?4,datetime('now'),?5,?6,?7,?8)",
            params![
                b.dataflow,
                b.source,
                b.label,
                release_date.to_string(),
                b.origin,
                b.note,
                hash,
                b.observations.len() as i64
            ],
        )?;
        let release_id = self.tx.last_insert_rowid();
        let mut series_of = Vec::with_capacity(b.observations.len());
        {
            for (n, o) in b.observations.iter().enumerate() {
                let series = self.series_id(&o.dataflow, &o.key_string())?;
                let definition = self.definition_id(&o.definition)?;
                series_of.push(series);
                let mut ins = self.tx.prepare_cached(
                    "INSERT INTO observation(series_id, time_period, source_id, definition_id, release_id, value, printed,
                     unit, unit_mult, status, citation, note, defects) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
                )?;
                ins.execute(params![
                    series,
                    o.time_period,
                    o.source,
                    definition,
                    release_id,
                    o.value,
                    o.printed,
                    o.unit,
                    o.unit_mult,
                    o.status.code(),
                    o.citation,
                    o.note,
                    (!o.defects.is_empty()).then(|| o.defects.join("|")),
                ])?;
                if !o.defects.is_empty() {
                    for code in &o.defects {
                        self.tx.prepare_cached(
                            "INSERT INTO defect(release_id, series_id, time_period, rule, severity, message, origin)
                             VALUES (?1,?2,?3,?4,'warning',?5,'declared')",
                        )?
                        .execute(params![
                            release_id,
                            series,
                            o.time_period,
                            code,
                            format!(
                                "declared by the source file: {}{}",
                                code,
                                o.note.as_deref().map(|n| format!(" — {n}")).unwrap_or_default()
                            )
                        ])?;
                    }
                }
                if n % 65_536 == 0 {
                    progress(n);
                }
            }
        }
        for d in &b.defects {
            let (series, period) = match d.observation {
                Some(i) => (Some(series_of[i]), Some(b.observations[i].time_period.clone())),
                None => (None, None),
            };
            self.tx.prepare_cached(
                "INSERT INTO defect(release_id, series_id, time_period, rule, severity, message, origin)
                 VALUES (?1,?2,?3,?4,?5,?6,'validation')",
            )?
            .execute(params![release_id, series, period, d.rule, severity_name(d.severity), d.message])?;
        }
        progress(b.observations.len());
        Ok(WriteOutcome::Created {
            release_id,
            dataflow: b.dataflow.clone(),
            source: b.source.clone(),
            label: b.label.clone(),
            observations: b.observations.len(),
        })
    }
}

pub(crate) fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

/// Today's date (UTC), from the system clock.
pub fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Date::from_days_since_epoch(secs.div_euclid(86_400))
}
