//! Answers that are slow to compute (the defect report, discrepancies, counts, the size of a
//! large answer) kept until the bank changes: every entry belongs to one [`Generation`].

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use koshi_store::Generation;

/// Entries are few (one per distinct parameter set); past this many the cache starts afresh.
const MAX_ENTRIES: usize = 256;

/// The generation the entries belong to, and the entries.
type Entries<K, V> = (Option<Generation>, HashMap<K, Arc<V>>);

pub(crate) struct GenerationCache<K, V> {
    /// Past this many entries the cache starts afresh.
    max_entries: usize,
    /// The name its answers are kept under in the bank's store of slow answers, if they are.
    pub(crate) lasting: Option<&'static str>,
    /// Kept in the bank however quickly computed (answers that are quick only because another,
    /// kept in memory alone, was computed before them).
    pub(crate) keep_always: bool,
    entries: Mutex<Entries<K, V>>,
    /// Held while computing, so that concurrent requests for a cold entry compute it once.
    computing: Mutex<()>,
    computations: AtomicU64,
    /// Entries found in the bank's store of slow answers instead of computed.
    restorations: AtomicU64,
    /// One lock per key being computed (see [`GenerationCache::computing_key`]).
    computing_keys: Mutex<HashMap<K, Arc<Mutex<()>>>>,
}

impl<K: Eq + Hash, V> Default for GenerationCache<K, V> {
    fn default() -> Self {
        GenerationCache {
            max_entries: MAX_ENTRIES,
            lasting: None,
            keep_always: false,
            entries: Mutex::new((None, HashMap::new())),
            computing: Mutex::new(()),
            computations: AtomicU64::new(0),
            restorations: AtomicU64::new(0),
            computing_keys: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V> GenerationCache<K, V> {
    /// As [`GenerationCache::lasting`], every answer kept in the bank however quick.
    pub(crate) fn lasting_always(kind: &'static str) -> Self {
        GenerationCache { keep_always: true, ..GenerationCache::lasting(kind) }
    }

    /// A cache of at most `max_entries` entries (for large values).
    pub(crate) fn bounded(max_entries: usize) -> Self {
        GenerationCache { max_entries: max_entries.max(1), ..GenerationCache::default() }
    }

    /// A cache whose slow answers are also kept in the bank under `kind`, so that they outlive
    /// the process (see `App::kept_lasting`).
    pub(crate) fn lasting(kind: &'static str) -> Self {
        GenerationCache { lasting: Some(kind), ..GenerationCache::default() }
    }

    pub(crate) fn get(&self, generation: Generation, key: &K) -> Option<Arc<V>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        (entries.0 == Some(generation)).then(|| entries.1.get(key).cloned()).flatten()
    }

    /// As [`GenerationCache::insert`], for an entry read back from the bank, not computed.
    pub(crate) fn restore(&self, generation: Generation, key: K, value: Arc<V>) {
        self.insert(generation, key, value);
        self.computations.fetch_sub(1, Ordering::Relaxed);
        self.restorations.fetch_add(1, Ordering::Relaxed);
    }

    /// How many entries were read back from the bank since the server started.
    pub(crate) fn restorations(&self) -> u64 {
        self.restorations.load(Ordering::Relaxed)
    }

    pub(crate) fn insert(&self, generation: Generation, key: K, value: Arc<V>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.0 != Some(generation) || entries.1.len() >= self.max_entries {
            *entries = (Some(generation), HashMap::new());
        }
        entries.1.insert(key, value);
        self.computations.fetch_add(1, Ordering::Relaxed);
    }

    /// Taken before computing an entry; check [`GenerationCache::get`] again once held.
    pub(crate) fn computing(&self) -> MutexGuard<'_, ()> {
        self.computing.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Run `compute` holding the lock of `key` alone: concurrent callers of one cold entry compute
    /// it once (check [`GenerationCache::get`] again inside), while different entries are computed
    /// side by side.
    pub(crate) fn computing_key<T>(&self, key: &K, compute: impl FnOnce() -> T) -> T
    where
        K: Clone,
    {
        let lock = {
            let mut keys = self.computing_keys.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(keys.entry(key.clone()).or_default())
        };
        let result = {
            let _held = lock.lock().unwrap_or_else(PoisonError::into_inner);
            compute()
        };
        let mut keys = self.computing_keys.lock().unwrap_or_else(PoisonError::into_inner);
        // The last one out forgets the key's lock (the map holds one reference, this caller one).
        if keys.get(key).is_some_and(|held| Arc::ptr_eq(held, &lock) && Arc::strong_count(held) == 2) {
            keys.remove(key);
        }
        result
    }

    /// How many entries were computed since the server started.
    pub(crate) fn computations(&self) -> u64 {
        self.computations.load(Ordering::Relaxed)
    }
}
