//! Minimal deterministic parallel map over indices (scoped std threads).

use std::sync::atomic::{AtomicUsize, Ordering};

/// Below this many items per thread the work runs on the calling thread.
const MIN_ITEMS_PER_THREAD: usize = 16;

/// `(0..n).map(f).collect()`, with the items handed out dynamically to up
/// to `available_parallelism()` threads. Results come back in index order,
/// and an error is the one with the lowest index, so the outcome does not
/// depend on scheduling.
pub(crate) fn map_indices<T, E, F>(n: usize, f: F) -> Result<Vec<T>, E>
where
    T: Send,
    E: Send,
    F: Fn(usize) -> Result<T, E> + Sync,
{
    let cores = std::thread::available_parallelism().map_or(1, |p| p.get());
    let threads = cores.min(n / MIN_ITEMS_PER_THREAD).max(1);
    if threads == 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            if k >= n {
                break done;
            }
            done.push((k, f(k)));
        }
    };
    let parts: Vec<Vec<(usize, Result<T, E>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut parts = vec![work()];
        parts.extend(handles.into_iter().map(|h| h.join().expect("worker thread panicked")));
        parts
    });
    let mut slots: Vec<Option<Result<T, E>>> = (0..n).map(|_| None).collect();
    for (k, r) in parts.into_iter().flatten() {
        slots[k] = Some(r);
    }
    slots.into_iter().map(|r| r.expect("every index is processed")).collect()
}
