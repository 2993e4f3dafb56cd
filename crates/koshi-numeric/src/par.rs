//! A parallel map over indices on scoped std threads, whose result does not depend on
//! scheduling.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Below this many items per thread the work runs on the calling thread.
const MIN_ITEMS_PER_THREAD: usize = 16;

/// The threads [`map_indices`] uses at most: `available_parallelism()`.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |p| p.get())
}

/// `(0..n).map(f).collect()`, with the items handed out dynamically to up to
/// `available_parallelism()` threads. Results come back in index order, and an error is the
/// one with the lowest index, so the outcome does not depend on scheduling.
pub fn map_indices<T, E, F>(n: usize, f: F) -> Result<Vec<T>, E>
where
    T: Send,
    E: Send,
    F: Fn(usize) -> Result<T, E> + Sync,
{
    map_indices_on(default_threads(), n, f)
}

/// As [`map_indices`] on at most `threads` threads (1 = on the calling thread).
pub fn map_indices_on<T, E, F>(threads: usize, n: usize, f: F) -> Result<Vec<T>, E>
where
    T: Send,
    E: Send,
    F: Fn(usize) -> Result<T, E> + Sync,
{
    let threads = threads.min(n / MIN_ITEMS_PER_THREAD).max(1);
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

/// Runs `a` on a scoped thread and `b` on the calling thread; both results.
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB,
    RA: Send,
{
    std::thread::scope(|scope| {
        let h = scope.spawn(a);
        let rb = b();
        (h.join().expect("worker thread panicked"), rb)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_reports_the_lowest_failing_index() {
        for threads in [1, 2, 4] {
            let ok: Result<Vec<usize>, usize> = map_indices_on(threads, 1000, |k| Ok(k * k));
            assert_eq!(ok.unwrap(), (0..1000).map(|k| k * k).collect::<Vec<_>>());
            let err: Result<Vec<usize>, usize> =
                map_indices_on(threads, 1000, |k| if k % 97 == 13 { Err(k) } else { Ok(k) });
            assert_eq!(err, Err(13));
        }
        let empty: Result<Vec<u8>, ()> = map_indices(0, |_| Ok(1));
        assert_eq!(join(|| 1 + 1, || "b"), (2, "b"));
        assert!(empty.unwrap().is_empty());
    }
}
