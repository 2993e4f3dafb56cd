//! Parallel map and fork–join on rayon's pool, with results that do not depend on scheduling.
//!
//! `bench/numerics` measured rayon against the scoped-thread map flows carried before: as fast
//! or faster from tiny to heavy jobs (its pool is started once; the old map spawned threads on
//! every call), so the engines share rayon's pool through these two functions and forecast's
//! `par_iter`. The pool's size is rayon's (`RAYON_NUM_THREADS`, else the available cores), and
//! `ThreadPool::install` confines a call to a chosen pool.

use rayon::prelude::*;

/// `(0..n).map(f).collect()`, spread over rayon's pool. Results come back in index order, and an
/// error is the one with the lowest index, so the outcome does not depend on scheduling (every
/// index is evaluated, also after an error).
pub fn map_indices<T, E, F>(n: usize, f: F) -> Result<Vec<T>, E>
where
    T: Send,
    E: Send,
    F: Fn(usize) -> Result<T, E> + Sync + Send,
{
    let all: Vec<Result<T, E>> = (0..n).into_par_iter().map(f).collect();
    all.into_iter().collect()
}

/// Runs `a` and `b`, possibly in parallel; both results.
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    rayon::join(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_reports_the_lowest_failing_index() {
        for threads in [1, 2, 4] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let ok: Result<Vec<usize>, usize> = map_indices(1000, |k| Ok(k * k));
                assert_eq!(ok.unwrap(), (0..1000).map(|k| k * k).collect::<Vec<_>>());
                let err: Result<Vec<usize>, usize> = map_indices(1000, |k| if k % 97 == 13 { Err(k) } else { Ok(k) });
                assert_eq!(err, Err(13));
            });
        }
        let empty: Result<Vec<u8>, ()> = map_indices(0, |_| Ok(1));
        assert!(empty.unwrap().is_empty());
        assert_eq!(join(|| 1 + 1, || "b"), (2, "b"));
    }
}
