//! The koshi application layer: every use case lives here once, as a typed request and a
//! serialisable report, and is called the same way by the command line, the HTTP server and
//! the tests. The adapters turn arguments or URLs into a request and a report into a table,
//! CSV or JSON; nothing here knows about flags, routes or terminals.
//!
//! [`App`] owns what the use cases share: the bank's file, a small pool of read connections
//! (so that one slow request does not hold the others), answers kept until the bank changes
//! (the defect report), and the clock ("today" is injected, so tests fix it). Writes open
//! their own connection and run in one transaction each. It is also the one place where,
//! once users exist, who may do what is checked and recorded.
//!
//! Use cases by module: [`bank`] (query, dataflows, sources, releases, code lists,
//! discrepancies, check), [`load`] (ingest, the bundled load, declarations), [`forecast`],
//! [`gravity`], [`flows`], [`sdmx`] (statistical data exchange).

pub mod bank;
mod cache;
pub mod changes;
pub mod clock;
pub mod coordination;
pub mod corridor;
pub mod download;
pub mod error;
pub mod explore;
pub mod flows;
pub mod forecast;
pub mod gravity;
pub mod indicators;
pub mod load;
pub mod monitor;
pub mod occupations;
mod pool;
pub mod profile;
pub mod quota;
pub mod regions;
pub mod registry;
pub mod sdmx;
pub mod search;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use koshi_core::Catalogue;
use koshi_store::Bank;

pub use clock::{Clock, FixedClock, ManualClock, SystemClock};
pub use error::{AppError, ErrorKind, Result};
pub use koshi_core::{Date, Labels};
pub use koshi_ingest::LoadError;
pub use koshi_store::{BundleState, DEFAULT_BUSY_TIMEOUT, Generation, QueryError};

use cache::GenerationCache;
use pool::BankPool;

/// How the application reaches the bank.
#[derive(Clone)]
pub struct AppConfig {
    /// Read connections for the expensive use cases (data, discrepancies, checks, models).
    pub readers: usize,
    /// Read connections kept for the cheap ones (health, dataflows, sources, releases, code
    /// lists), so that they never wait behind an expensive one.
    pub quick_readers: usize,
    /// How long a use case waits for a free read connection.
    pub pool_wait: Duration,
    /// How long a write waits for another writer holding the bank.
    pub busy_timeout: Duration,
    pub clock: Arc<dyn Clock>,
    /// An answer of a lasting kind (the defect report, the models' fits, …) that took at least
    /// this long to compute is also kept in the bank, for the next process.
    pub keep_in_bank_after: Duration,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            readers: 3,
            quick_readers: 2,
            pool_wait: Duration::from_secs(30),
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            clock: Arc::new(SystemClock),
            keep_in_bank_after: Duration::from_millis(100),
        }
    }
}

impl AppConfig {
    /// One connection of each kind: for a command that runs one use case and ends.
    pub fn single_use() -> Self {
        AppConfig { readers: 1, quick_readers: 1, ..AppConfig::default() }
    }
}

/// The application over one data bank file.
pub struct App {
    path: PathBuf,
    readers: BankPool,
    quick: BankPool,
    busy_timeout: Duration,
    clock: Arc<dyn Clock>,
    keep_in_bank_after: Duration,
    check: GenerationCache<String, Vec<bank::Finding>>,
    discrepancies: GenerationCache<(Option<String>, u64), Vec<bank::Discrepancy>>,
    counts: GenerationCache<(), bank::Counts>,
    /// Sizes of large answers, so that later pages stop reading at their end.
    totals: GenerationCache<String, usize>,
    /// The UN DESA bilateral panel the gravity use cases share.
    panels: GenerationCache<(), koshi_gravity::GravityPanel>,
    /// The SDMX structures (code lists, data structures, the codes present).
    sdmx: GenerationCache<(), koshi_sdmx::Structures>,
    /// The codes each dataflow's series use, for the search.
    present: GenerationCache<String, std::collections::BTreeMap<String, koshi_store::CodesPresent>>,
    /// The monitoring rules' alerts, by rule, since and as-of (all of them; pages are cut from it).
    alerts: GenerationCache<String, monitor::AlertsReport>,
    /// Indicator reports, by their request's JSON.
    indicator_reports: GenerationCache<String, indicators::IndicatorReport>,
    /// Profiles, by their request's JSON.
    country_profiles: GenerationCache<String, profile::CountryProfile>,
    region_profiles: GenerationCache<String, profile::RegionProfile>,
    /// Every region's figures of one measure, by their request's JSON.
    regions_maps: GenerationCache<String, regions::RegionsMap>,
    /// Gravity fits and push-pull rankings of the bank's data, by their request's JSON.
    gravity_fits: GenerationCache<String, gravity::FitReport>,
    push_pulls: GenerationCache<String, gravity::PushPullReport>,
    /// Estimated gravity models of the bank's data with the table they were fitted on, by model:
    /// a counterfactual scenario or push-pull of the same model reuses the estimate.
    estimates: GenerationCache<String, gravity::Estimate>,
    /// Forecast backtests, by their request's JSON.
    backtests: GenerationCache<String, forecast::BacktestReport>,
    /// Corridors, sets of corridors and vintage comparisons, by their request's JSON.
    corridors: GenerationCache<String, corridor::CorridorReport>,
    corridor_sets: GenerationCache<String, corridor::CorridorSet>,
    changes: GenerationCache<String, changes::ChangesReport>,
    /// What the latest releases changed, by how many.
    latest_changes: GenerationCache<String, Vec<changes::ReleaseChanges>>,
    /// The work-permit registry, when one is opened beside the bank.
    registry: Option<registry::RegistryService>,
}

impl App {
    /// Open (creating if missing, migrating if older) the bank at `path`.
    pub fn open(path: &Path, config: AppConfig) -> Result<App> {
        // Opening writable first creates or migrates the schema, waiting for other writers.
        drop(Bank::open_with_busy_timeout(path, config.busy_timeout)?);
        Ok(App {
            path: path.to_path_buf(),
            readers: BankPool::open(path, config.readers, config.pool_wait)?,
            quick: BankPool::open(path, config.quick_readers, config.pool_wait)?,
            busy_timeout: config.busy_timeout,
            clock: config.clock,
            keep_in_bank_after: config.keep_in_bank_after,
            check: GenerationCache::lasting("check"),
            discrepancies: GenerationCache::default(),
            counts: GenerationCache::default(),
            totals: GenerationCache::default(),
            panels: GenerationCache::default(),
            sdmx: GenerationCache::default(),
            present: GenerationCache::lasting("codes_present"),
            alerts: GenerationCache::lasting("alerts"),
            indicator_reports: GenerationCache::default(),
            country_profiles: GenerationCache::lasting("country_profile"),
            region_profiles: GenerationCache::default(),
            regions_maps: GenerationCache::default(),
            latest_changes: GenerationCache::lasting("latest_changes"),
            corridors: GenerationCache::default(),
            corridor_sets: GenerationCache::default(),
            changes: GenerationCache::default(),
            gravity_fits: GenerationCache::lasting_always("gravity_fit"),
            push_pulls: GenerationCache::lasting_always("push_pull"),
            estimates: GenerationCache::bounded(4),
            backtests: GenerationCache::lasting("backtest"),
            registry: None,
        })
    }

    /// Opens the work-permit registry beside the bank (creating it if missing).
    pub fn with_registry(mut self, config: &registry::RegistryConfig) -> Result<App> {
        self.registry = Some(registry::RegistryService::open(config, Arc::clone(&self.clock))?);
        Ok(self)
    }

    /// The work-permit registry.
    pub fn registry(&self) -> Result<&registry::RegistryService> {
        self.registry
            .as_ref()
            .ok_or_else(|| AppError::Unanswerable("no work-permit registry is open beside this data bank".to_string()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Now by the application's clock, in seconds since 1970 (UTC).
    pub fn clock_seconds(&self) -> i64 {
        self.clock.unix_seconds()
    }

    /// Today by the application's clock.
    pub fn today(&self) -> Date {
        self.clock.today()
    }

    /// The catalogue (dataflows, code lists, sources, geography) as the bank knows it now,
    /// with every declaration made so far.
    pub fn catalogue(&self) -> Result<Catalogue> {
        self.quick.read(|bank| Ok(bank.catalogue().clone()))
    }

    /// How many times the defect report was computed since the application started.
    pub fn check_computations(&self) -> u64 {
        self.check.computations()
    }

    /// For each kind of answer kept in the bank (the slow ones): how many were computed and how
    /// many read back from the bank since the application started.
    pub fn lasting_answers(&self) -> Vec<LastingAnswers> {
        let counts = |kind: Option<&'static str>, computed: u64, restored: u64| LastingAnswers {
            kind: kind.unwrap_or_default(),
            computed,
            restored,
        };
        vec![
            counts(self.check.lasting, self.check.computations(), self.check.restorations()),
            counts(self.gravity_fits.lasting, self.gravity_fits.computations(), self.gravity_fits.restorations()),
            counts(self.push_pulls.lasting, self.push_pulls.computations(), self.push_pulls.restorations()),
            counts(self.latest_changes.lasting, self.latest_changes.computations(), self.latest_changes.restorations()),
            counts(self.backtests.lasting, self.backtests.computations(), self.backtests.restorations()),
            counts(self.alerts.lasting, self.alerts.computations(), self.alerts.restorations()),
            counts(self.present.lasting, self.present.computations(), self.present.restorations()),
            counts(
                self.country_profiles.lasting,
                self.country_profiles.computations(),
                self.country_profiles.restorations(),
            ),
        ]
    }

    /// How many times the UN DESA bilateral panel was built since the application started.
    pub fn panel_computations(&self) -> u64 {
        self.panels.computations()
    }

    /// The state of the bank now: every write changes it.
    pub fn generation(&self) -> Result<Generation> {
        self.quick.read(|bank| Ok(bank.generation()?))
    }

    /// Run a read on one of the expensive use cases' connections.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Bank) -> Result<T>) -> Result<T> {
        self.readers.read(f)
    }

    /// Run a read on one of the cheap use cases' connections.
    pub(crate) fn read_quick<T>(&self, f: impl FnOnce(&Bank) -> Result<T>) -> Result<T> {
        self.quick.read(f)
    }

    /// A writable connection of its own, for one write use case.
    pub(crate) fn writer(&self) -> Result<Bank> {
        Ok(Bank::open_with_busy_timeout(&self.path, self.busy_timeout)?)
    }

    /// The cached answer for `key` if the bank has not changed since it was computed, else
    /// computed now on a connection of `pool` (once, however many callers ask at the same
    /// time). Also says whether it came from the cache.
    fn cached<K: Eq + std::hash::Hash, V>(
        &self,
        cache: &GenerationCache<K, V>,
        quick: bool,
        key: K,
        compute: impl FnOnce(&Bank) -> Result<V>,
    ) -> Result<(Generation, Arc<V>, bool)> {
        let generation = self.generation()?;
        if let Some(hit) = cache.get(generation, &key) {
            return Ok((generation, hit, true));
        }
        let _computing = cache.computing();
        let pool = if quick { &self.quick } else { &self.readers };
        pool.read(|bank| {
            let generation = bank.generation()?;
            if let Some(hit) = cache.get(generation, &key) {
                return Ok((generation, hit, true));
            }
            let value = Arc::new(compute(bank)?);
            cache.insert(generation, key, Arc::clone(&value));
            Ok((generation, value, false))
        })
    }
}

impl App {
    /// The answer kept for `request` if the bank has not changed since, or computed now (once,
    /// however many ask at the same time). Unlike [`App::cached`] no read connection is held
    /// while computing: for use cases made of other use cases, which take their own.
    pub(crate) fn kept<R: serde::Serialize, V>(
        &self,
        cache: &GenerationCache<String, V>,
        request: &R,
        compute: impl FnOnce(&App) -> Result<V>,
    ) -> Result<Arc<V>> {
        let key = serde_json::to_string(request).map_err(|e| AppError::Unanswerable(e.to_string()))?;
        let generation = self.generation()?;
        if let Some(hit) = cache.get(generation, &key) {
            return Ok(hit);
        }
        // Concurrent callers of one cold answer compute it once; other answers side by side.
        let lock = key.clone();
        cache.computing_key(&lock, || {
            if let Some(hit) = cache.get(generation, &key) {
                return Ok(hit);
            }
            let value = Arc::new(compute(self)?);
            cache.insert(generation, key, Arc::clone(&value));
            Ok(value)
        })
    }
}

/// How long keeping an answer in the bank waits for a writer (a load) before giving up: it is
/// only a cache.
const KEEP_IN_BANK_WAIT: Duration = Duration::from_millis(250);

/// A fingerprint of the running program (its executable's bytes): an answer kept by another build
/// may have been computed differently, so it is not reused. `None` if the file cannot be read.
fn program_fingerprint() -> Option<&'static str> {
    use sha2::{Digest, Sha256};
    static FINGERPRINT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    FINGERPRINT
        .get_or_init(|| {
            let bytes = std::fs::read(std::env::current_exe().ok()?).ok()?;
            let digest = Sha256::digest(&bytes);
            Some(digest.iter().take(12).map(|b| format!("{b:02x}")).collect())
        })
        .as_deref()
}

impl App {
    /// As [`App::kept`], for answers slow enough to outlive the process: one missing from memory
    /// is looked for in the bank's store of slow answers (kept for this state of the bank by this
    /// same program) before it is computed, and one that took long to compute is stored there.
    /// Concurrent callers of a cold answer compute it once. Also says which state of the bank
    /// the answer belongs to.
    pub(crate) fn kept_lasting<R, V>(
        &self,
        cache: &GenerationCache<String, V>,
        request: &R,
        compute: impl FnOnce(&App) -> Result<V>,
    ) -> Result<(Generation, Arc<V>)>
    where
        R: serde::Serialize,
        V: serde::Serialize + serde::de::DeserializeOwned,
    {
        let key = serde_json::to_string(request).map_err(|e| AppError::Unanswerable(e.to_string()))?;
        let generation = self.generation()?;
        if let Some(hit) = cache.get(generation, &key) {
            return Ok((generation, hit));
        }
        let lock = key.clone();
        cache.computing_key(&lock, || self.keep_or_compute(cache, generation, key, compute))
    }

    /// The rest of [`App::kept_lasting`], once the key's lock is held.
    fn keep_or_compute<V>(
        &self,
        cache: &GenerationCache<String, V>,
        generation: Generation,
        key: String,
        compute: impl FnOnce(&App) -> Result<V>,
    ) -> Result<(Generation, Arc<V>)>
    where
        V: serde::Serialize + serde::de::DeserializeOwned,
    {
        if let Some(hit) = cache.get(generation, &key) {
            return Ok((generation, hit));
        }
        let stamp = match (cache.lasting, program_fingerprint()) {
            (Some(kind), Some(program)) => Some((
                kind,
                format!("{}.{}.{}/{program}", generation.releases, generation.last_release, generation.last_defect),
            )),
            _ => None,
        };
        if let Some((kind, stamp)) = &stamp {
            // An unreadable or outdated body is only a miss: the answer is computed again.
            let body = self.read_quick(|bank| Ok(bank.kept_answer(kind, &key, stamp)?))?;
            if let Some(value) = body.and_then(|b| serde_json::from_slice::<V>(&b).ok()) {
                let value = Arc::new(value);
                cache.restore(generation, key, Arc::clone(&value));
                return Ok((generation, value));
            }
        }
        let started = std::time::Instant::now();
        let value = Arc::new(compute(self)?);
        cache.insert(generation, key.clone(), Arc::clone(&value));
        if let Some((kind, stamp)) = stamp.filter(|_| cache.keep_always || started.elapsed() >= self.keep_in_bank_after)
        {
            // Best effort: a busy bank (a load under way) or a value JSON cannot carry (a NaN)
            // leaves it in memory only.
            if let Ok(body) = serde_json::to_vec(&*value)
                && serde_json::from_slice::<V>(&body).is_ok()
            {
                let _ = self.writer().and_then(|mut bank| {
                    bank.set_busy_timeout(KEEP_IN_BANK_WAIT)?;
                    Ok(bank.keep_answer(kind, &key, &stamp, &body)?)
                });
            }
        }
        Ok((generation, value))
    }
}

/// How one kind of slow answer was obtained since the application started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LastingAnswers {
    pub kind: &'static str,
    pub computed: u64,
    pub restored: u64,
}

/// Which rows of a long answer: `limit` rows from `offset` (in the answer's stable order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PageRequest {
    pub offset: usize,
    pub limit: usize,
}

impl PageRequest {
    /// Whether the row at `index` belongs to this page.
    pub fn contains(&self, index: usize) -> bool {
        index >= self.offset && index - self.offset < self.limit
    }

    /// The index just past this page.
    pub fn end(&self) -> usize {
        self.offset.saturating_add(self.limit)
    }

    /// The rows of this page out of a whole list.
    pub fn slice<'a, T>(&self, all: &'a [T]) -> &'a [T] {
        let start = self.offset.min(all.len());
        &all[start..self.end().min(all.len())]
    }
}

/// A list answer: how many items there are in all, and those asked for (all of them unless
/// the request gave a page).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Listing<T> {
    pub total: usize,
    pub items: Vec<T>,
}

impl<T: Clone> Listing<T> {
    fn of(all: &[T], page: Option<PageRequest>) -> Self {
        let items = match page {
            Some(p) => p.slice(all).to_vec(),
            None => all.to_vec(),
        };
        Listing { total: all.len(), items }
    }
}
