//! The koshi data bank on SQLite.
//!
//! Writes happen one file at a time in one transaction ([`Bank::write_releases`]): a failed or
//! killed ingest leaves the bank as it was (SQLite WAL journal). Several writes can be made one
//! transaction with [`Bank::atomically`] (the bundled load is). Every write transaction starts
//! with `BEGIN IMMEDIATE`, so a second writer queues for the write lock (up to the bank's busy
//! timeout) instead of failing when it first tries to write, and one that gives up returns
//! [`StoreError::Busy`] having written nothing.
//!
//! A release is identified by its dataflow, source and label (its *stream*); writing the
//! stream's latest content again creates nothing, and changed content creates a new release
//! (a new vintage) beside the old one. A release keeps the date its source states (never an
//! invented one) and gets the next revision number of its stream (1, 2, 3 …) and the time
//! it was ingested. See [`Bank::query`] for how as-of and "latest" use them.

mod answers;
mod declare;
mod page;
mod query;
mod request;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use koshi_core::validate::Severity;
use koshi_core::{Catalogue, Date, Observation};
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use sha2::{Digest, Sha256};

pub use answers::MAX_KEPT_PER_KIND;
pub use declare::{DeclareOutcome, Declared};
pub use page::Generation;
pub use query::{
    CheckFinding, CodesPresent, DataflowSummary, DiscrepancyRow, HarmonisedRow, ObservationRow, Query, ReleaseInfo,
    SourceSummary,
};
pub use request::{QueryError, QueryText, dataflow_named};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("data bank: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("data bank structure: {0}")]
    Structure(#[from] koshi_core::structure::StructureError),
    #[error(
        "the data bank is busy: another writer has held it for the {:.1} s this writer waited; nothing was written \
(try again when the other writer has finished, or allow a longer busy timeout)",
        .waited.as_secs_f64()
    )]
    Busy { waited: Duration },
    #[error(
        "data bank {path}: schema version {found} is newer than this koshi understands ({supported}); use a newer koshi"
    )]
    NewerSchema { path: String, found: String, supported: String },
    #[error("{0}")]
    Invalid(String),
    /// The bank holds something this koshi never writes (a date that does not parse, an
    /// unknown status code, half a record): the file was changed by other means or damaged.
    #[error("the data bank is damaged: {0}")]
    Corrupt(String),
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

/// What the bank records about the datasets bundled with koshi.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BundleState {
    /// No bundled load ever completed here (the bank may still hold other figures, or part of
    /// a bundle written by a koshi older than the record).
    NotLoaded,
    /// Every bundled dataset with this fingerprint is in the bank, written in one transaction.
    Complete { fingerprint: String, completed_at: String },
    /// A bundle was completed, but not the one this koshi ships (see [`Bank::expect_bundle`]).
    Stale { loaded: String, current: String, completed_at: String },
}

impl BundleState {
    pub fn is_complete(&self) -> bool {
        matches!(self, BundleState::Complete { .. })
    }
}

pub struct Bank {
    conn: Connection,
    catalogue: Catalogue,
    busy_timeout: Duration,
    /// The fingerprint of the bundle this program ships, when it has told the bank.
    expected_bundle: Option<String>,
    /// The last row of the `declaration` table joined to the catalogue.
    declarations_seen: i64,
    /// `PRAGMA data_version` when declarations were last looked for.
    data_version_seen: Option<i64>,
}

/// Schema 2 added the release revision, the declarations table and the bundle record; schema 3
/// the store of slow answers (`kept_answer`).
const SCHEMA_VERSION: &str = "3";

/// How long a writer waits for another writer to finish before giving up ([`StoreError::Busy`]).
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

impl Bank {
    /// Open (or create) the bank at `path`. Creating is idempotent; a bank of an older schema
    /// is migrated.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_busy_timeout(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// As [`Bank::open`], waiting at most `busy_timeout` for another writer (opening may have
    /// to write: creating or migrating the schema).
    pub fn open_with_busy_timeout(path: &Path, busy_timeout: Duration) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::with_connection(conn, busy_timeout, &path.display().to_string())
    }

    /// Open the bank at `path` (creating or migrating it first if needed) for reading only:
    /// the connection refuses writes. Readers of a WAL bank run beside each other and beside a writer.
    pub fn open_read_only(path: &Path) -> Result<Self> {
        let bank = Self::open(path)?;
        bank.conn.pragma_update(None, "query_only", true)?;
        // The bundled SQLite (STAT4) re-plans a statement whenever its parameters change:
        // series-by-series reading prepared every lookup again, twice as slow.
        bank.conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        Ok(bank)
    }

    /// Run `f` inside one read transaction, so that everything it reads comes from the same
    /// state of the bank. The snapshot is released however `f` ends, a panic included.
    pub fn read_snapshot<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Bank) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        struct Release<'a>(&'a Connection);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                // Nothing was written: ending the transaction either way only releases the snapshot.
                if !self.0.is_autocommit() {
                    let _ = self.0.execute_batch("ROLLBACK");
                }
            }
        }
        self.conn.execute_batch("BEGIN").map_err(StoreError::from)?;
        let _release = Release(&self.conn);
        f(self)
    }

    pub fn open_in_memory() -> Result<Self> {
        Self::with_connection(Connection::open_in_memory()?, DEFAULT_BUSY_TIMEOUT, ":memory:")
    }

    fn with_connection(conn: Connection, busy_timeout: Duration, path: &str) -> Result<Self> {
        conn.busy_timeout(busy_timeout)?;
        // WAL: readers never block the writer, and a killed writer leaves the last commit intact.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A large ingest touches the series and observation indexes all over: keep their pages
        // in memory (64 MB cache) rather than reading them back from the file each time.
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        let catalogue = Catalogue::standard()?;
        let mut bank = Bank {
            conn,
            catalogue,
            busy_timeout,
            expected_bundle: None,
            declarations_seen: 0,
            data_version_seen: None,
        };
        bank.prepare_schema(path)?;
        bank.load_declarations()?;
        Ok(bank)
    }

    /// Create or migrate the schema and store the bundled structure, writing only when
    /// something is missing or out of date (so opening a current bank takes no write lock).
    fn prepare_schema(&mut self, path: &str) -> Result<()> {
        let structure = structure_fingerprint();
        let current = |conn: &Connection| -> Result<(Option<String>, Option<String>)> {
            let has_meta: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta')",
                [],
                |r| r.get(0),
            )?;
            if !has_meta {
                return Ok((None, None));
            }
            let get = |key: &str| -> Result<Option<String>> {
                Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
            };
            Ok((get("schema_version")?, get("structure_fingerprint")?))
        };
        let up_to_date = |(version, fingerprint): &(Option<String>, Option<String>)| {
            version.as_deref() == Some(SCHEMA_VERSION) && fingerprint.as_deref() == Some(structure.as_str())
        };
        let found = current(&self.conn)?;
        check_version(path, found.0.as_deref())?;
        if up_to_date(&found) {
            return Ok(());
        }
        self.write(|bank| {
            // Another process may have done it while this one waited for the lock.
            let found = current(&bank.conn)?;
            check_version(path, found.0.as_deref())?;
            if up_to_date(&found) {
                return Ok(());
            }
            if lacks_revisions(&bank.conn)? {
                migrate_from_1(&bank.conn)?;
            }
            bank.conn.execute_batch(include_str!("schema.sql"))?;
            bank.sync_structure()?;
            bank.conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?1), ('structure_fingerprint', ?2)",
                params![SCHEMA_VERSION, structure],
            )?;
            Ok(())
        })
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// How long a write waits for another writer before giving up with [`StoreError::Busy`].
    pub fn set_busy_timeout(&mut self, timeout: Duration) -> Result<()> {
        self.conn.busy_timeout(timeout)?;
        self.busy_timeout = timeout;
        Ok(())
    }

    pub fn busy_timeout(&self) -> Duration {
        self.busy_timeout
    }

    /// Write the bundled dataflows and sources into the bank (upsert).
    fn sync_structure(&mut self) -> Result<()> {
        for df in &self.catalogue.dataflows {
            upsert_dataflow(&self.conn, df)?;
        }
        for s in &self.catalogue.sources {
            upsert_source(&self.conn, s)?;
        }
        Ok(())
    }

    /// Whether the bank holds no observation yet.
    pub fn is_empty(&self) -> Result<bool> {
        let any: Option<i64> = self.conn.query_row("SELECT 1 FROM observation LIMIT 1", [], |r| r.get(0)).optional()?;
        Ok(any.is_none())
    }

    /// Run `work` as one transaction: everything it writes (through [`Bank::write_releases`],
    /// [`Bank::declare`] …, which nest as savepoints) is committed together, or nothing is
    /// when it fails. Reads inside see the uncommitted writes. The write lock is taken first,
    /// so other writers queue behind the whole of `work`.
    pub fn atomically<T, E: From<StoreError>>(
        &mut self,
        work: impl FnOnce(&mut Bank) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let outermost = self.conn.is_autocommit();
        self.begin().map_err(E::from)?;
        // Declarations change the in-memory catalogue: put it back if the transaction is undone.
        let (catalogue, seen) = (self.catalogue.clone(), self.declarations_seen);
        match work(self) {
            Ok(value) => {
                if let Err(e) = self.finish(outermost) {
                    (self.catalogue, self.declarations_seen) = (catalogue, seen);
                    return Err(E::from(e));
                }
                Ok(value)
            }
            Err(e) => {
                self.undo(outermost);
                (self.catalogue, self.declarations_seen) = (catalogue, seen);
                Err(e)
            }
        }
    }

    /// A write transaction that does not touch the catalogue (see [`Bank::atomically`]).
    fn write<T>(&mut self, work: impl FnOnce(&mut Bank) -> Result<T>) -> Result<T> {
        let outermost = self.conn.is_autocommit();
        self.begin()?;
        match work(self) {
            Ok(value) => {
                self.finish(outermost)?;
                Ok(value)
            }
            Err(e) => {
                self.undo(outermost);
                Err(e)
            }
        }
    }

    /// `BEGIN IMMEDIATE` outside a transaction: the write lock is taken (or waited for) before
    /// anything is read, so the transaction never has to upgrade a read to a write (which
    /// SQLite refuses at once with SQLITE_BUSY, whatever the busy timeout). Inside one, a
    /// savepoint.
    fn begin(&mut self) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("SAVEPOINT koshi_write")?;
            return Ok(());
        }
        let start = Instant::now();
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| busy_or(e, start))
    }

    fn finish(&mut self, outermost: bool) -> Result<()> {
        if !outermost {
            self.conn.execute_batch("RELEASE koshi_write")?;
            return Ok(());
        }
        let start = Instant::now();
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            self.undo(true);
            return Err(busy_or(e, start));
        }
        Ok(())
    }

    fn undo(&mut self, outermost: bool) {
        // A failed rollback leaves nothing to do: SQLite has already rolled back, or will
        // when the connection closes.
        let sql = if outermost { "ROLLBACK" } else { "ROLLBACK TO koshi_write; RELEASE koshi_write" };
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch(sql);
        }
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
        self.write(|bank| {
            let mut outcomes = Vec::with_capacity(batches.len());
            let mut writer = Writer::new(&bank.conn);
            let mut written = 0usize;
            for b in batches {
                outcomes.push(writer.write(b, &mut |n| progress(written + n))?);
                written += b.observations.len();
            }
            Ok(outcomes)
        })
    }

    fn check_batch_refs(&self, b: &ReleaseBatch) -> Result<()> {
        let df = self
            .catalogue
            .dataflow(&b.dataflow)
            .ok_or_else(|| StoreError::Invalid(format!("unknown dataflow {}", b.dataflow)))?;
        if self.catalogue.source(&b.source).is_none() {
            return Err(StoreError::Invalid(format!("unknown source {}", b.source)));
        }
        if let Some(o) = b
            .observations
            .iter()
            .find(|o| *o.dataflow != *b.dataflow || *o.source != *b.source || o.key.len() != df.dimensions.len())
        {
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

    /// Tell the bank the fingerprint of the bundle this program ships, so that
    /// [`Bank::bundle_state`] can say whether the one it holds is stale.
    pub fn expect_bundle(&mut self, fingerprint: &str) {
        self.expected_bundle = Some(fingerprint.to_string());
    }

    /// Whether the bundled datasets are completely in the bank, and which bundle.
    pub fn bundle_state(&self) -> Result<BundleState> {
        let get = |key: &str| -> Result<Option<String>> {
            Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
        };
        // Both are written by one statement ([`Bank::record_bundle_complete`]): one without
        // the other is damage, not a bundle completed at an unknown time.
        let (loaded, completed_at) = match (get("bundle_fingerprint")?, get("bundle_completed_at")?) {
            (None, None) => return Ok(BundleState::NotLoaded),
            (Some(loaded), Some(completed_at)) => (loaded, completed_at),
            (loaded, _) => {
                return Err(StoreError::Corrupt(match loaded {
                    Some(loaded) => format!("the bundle {loaded} is recorded without its completion time"),
                    None => "a bundle completion time is recorded without its bundle".to_string(),
                }));
            }
        };
        Ok(match &self.expected_bundle {
            Some(current) if *current != loaded => {
                BundleState::Stale { loaded, current: current.clone(), completed_at }
            }
            _ => BundleState::Complete { fingerprint: loaded, completed_at },
        })
    }

    /// Record that the bundle with `fingerprint` is completely written. Meant to be called
    /// inside the [`Bank::atomically`] that writes it, so the record commits with the figures.
    pub fn record_bundle_complete(&mut self, fingerprint: &str) -> Result<()> {
        self.write(|bank| {
            bank.conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('bundle_fingerprint', ?1),
                 ('bundle_completed_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                [fingerprint],
            )?;
            Ok(())
        })
    }
}

fn check_version(path: &str, found: Option<&str>) -> Result<()> {
    match found {
        None | Some("1") | Some("2") | Some(SCHEMA_VERSION) => Ok(()),
        Some(other) => Err(StoreError::NewerSchema {
            path: path.to_string(),
            found: other.to_string(),
            supported: SCHEMA_VERSION.to_string(),
        }),
    }
}

/// A busy database becomes [`StoreError::Busy`] with the time waited; anything else stays.
fn busy_or(e: rusqlite::Error, start: Instant) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreError::Busy { waited: start.elapsed() },
        _ => StoreError::Sqlite(e),
    }
}

/// Whether the bank has a release table of schema 1 (without revisions).
fn lacks_revisions(conn: &Connection) -> Result<bool> {
    let columns: i64 = conn.query_row("SELECT COUNT(*) FROM pragma_table_info('release')", [], |r| r.get(0))?;
    let revision: i64 =
        conn.query_row("SELECT COUNT(*) FROM pragma_table_info('release') WHERE name = 'revision'", [], |r| r.get(0))?;
    Ok(columns > 0 && revision == 0)
}

/// Schema 1 → 2: releases get their revision within their stream (1, 2, 3 … in the order they
/// were written). Schema 1 dated a revision after the release it revised, inventing a date
/// (up to days in the future) when the stated one was not later; such a date, later than the
/// day the revision was ingested, becomes that day (the stated date was not kept), so as-of
/// queries from then on see it.
fn migrate_from_1(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "ALTER TABLE release ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
         UPDATE release SET revision = (
           SELECT COUNT(*) FROM release earlier
           WHERE earlier.dataflow_id = release.dataflow_id AND earlier.source_id = release.source_id
             AND earlier.label = release.label AND earlier.id <= release.id);
         UPDATE release SET release_date = date(ingested_at)
           WHERE revision > 1 AND date(ingested_at) IS NOT NULL AND release_date > date(ingested_at);",
    )?;
    Ok(())
}

pub(crate) fn upsert_dataflow(conn: &Connection, df: &koshi_core::structure::Dataflow) -> Result<()> {
    let dims: Vec<&str> = df.dimensions.iter().map(|d| d.id.as_str()).collect();
    conn.prepare_cached(
        "INSERT INTO dataflow(id, name_en, name_ru, name_kk, description, dimensions) VALUES (?1,?2,?3,?4,?5,?6)
         ON CONFLICT(id) DO UPDATE SET name_en=excluded.name_en, name_ru=excluded.name_ru, name_kk=excluded.name_kk,
         description=excluded.description, dimensions=excluded.dimensions",
    )?
    .execute(params![df.id, df.name.en, df.name.ru, df.name.kk, df.description, dims.join(".")])?;
    Ok(())
}

pub(crate) fn upsert_source(conn: &Connection, s: &koshi_core::structure::Source) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO source(id, name_en, name_ru, name_kk, kind, url, file) VALUES (?1,?2,?3,?4,?5,?6,?7)
         ON CONFLICT(id) DO UPDATE SET name_en=excluded.name_en, name_ru=excluded.name_ru, name_kk=excluded.name_kk,
         kind=excluded.kind, url=excluded.url, file=excluded.file",
    )?
    .execute(params![s.id, s.name.en, s.name.ru, s.name.kk, s.kind, s.url, s.file])?;
    Ok(())
}

/// A hash of the bundled structure files: when it changes, opening stores the new structure.
fn structure_fingerprint() -> String {
    let mut h = Sha256::new();
    h.update(SCHEMA_VERSION);
    for (path, text) in koshi_core::catalogue::standard_texts().files {
        h.update((path.len() as u64).to_le_bytes());
        h.update(path);
        h.update((text.len() as u64).to_le_bytes());
        h.update(text);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
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
        // A SHA-256 digest is exactly four 8-byte words.
        let (words, _) = digest.as_chunks::<8>();
        for (i, word) in words.iter().enumerate() {
            sum[i] = sum[i].wrapping_add(u64::from_le_bytes(*word));
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

struct Writer<'c> {
    tx: &'c Connection,
    series_cache: HashMap<(String, String), i64>,
    definition_cache: HashMap<String, i64>,
}

impl<'c> Writer<'c> {
    fn new(tx: &'c Connection) -> Self {
        Writer { tx, series_cache: HashMap::new(), definition_cache: HashMap::new() }
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
        let id: i64 =
            self.tx.prepare_cached("SELECT id FROM definition WHERE text = ?1")?.query_row([text], |r| r.get(0))?;
        self.definition_cache.insert(text.to_string(), id);
        Ok(id)
    }

    fn write(&mut self, b: &ReleaseBatch, progress: &mut dyn FnMut(usize)) -> Result<WriteOutcome> {
        let hash = content_hash(b);
        // The stream's latest revision: the same content again is nothing new. (Content equal
        // to an older revision is written again: it reverts the later ones.)
        let latest: Option<(i64, i64, String)> = self
            .tx
            .prepare_cached(
                "SELECT id, revision, content_hash FROM release WHERE dataflow_id=?1 AND source_id=?2 AND label=?3
                 ORDER BY revision DESC LIMIT 1",
            )?
            .query_row(params![b.dataflow, b.source, b.label], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        if let Some((release_id, _, latest_hash)) = &latest
            && *latest_hash == hash
        {
            return Ok(WriteOutcome::Unchanged {
                release_id: *release_id,
                dataflow: b.dataflow.clone(),
                source: b.source.clone(),
                label: b.label.clone(),
            });
        }
        // The stated date is kept as it is; the revision orders releases of one stream.
        let revision = latest.map_or(1, |(_, revision, _)| revision + 1);
        self.tx.execute(
            "INSERT INTO release(dataflow_id, source_id, label, release_date, revision, ingested_at, origin, note,
             content_hash, observations)
             VALUES (?1,?2,?3,?4,?5,strftime('%Y-%m-%d %H:%M:%f', 'now'),?6,?7,?8,?9)",
            params![
                b.dataflow,
                b.source,
                b.label,
                b.release_date.to_string(),
                revision,
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
            self.tx
                .prepare_cached(
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
