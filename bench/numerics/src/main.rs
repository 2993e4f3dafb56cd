//! Timing and accuracy of the shared numerics against their candidates; see run.sh.
#![allow(clippy::needless_range_loop, clippy::excessive_precision, clippy::neg_cmp_op_on_partial_ord)]

mod old;

use std::hint::black_box;
use std::time::Instant;

use faer::linalg::solvers::Solve;
use statrs::distribution::{ContinuousCDF, Normal};

fn read_pairs(path: &str) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .skip(1)
        .map(|l| {
            let (a, b) = l.split_once(',').expect("two columns");
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect()
}

/// The candidates timed in turn, `rounds` times (so that load from elsewhere hits all of them
/// alike); per candidate the fastest round, in nanoseconds per call of `per`.
fn race(rounds: usize, per: usize, candidates: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let mut best = vec![f64::INFINITY; candidates.len()];
    for _ in 0..rounds {
        for (b, f) in best.iter_mut().zip(candidates.iter_mut()) {
            let s = Instant::now();
            f();
            *b = b.min(s.elapsed().as_secs_f64() * 1e9 / per as f64);
        }
    }
    best
}

struct Xorshift(u64);
impl Xorshift {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn quantile_section(dir: &str) {
    let reference = read_pairs(&format!("{dir}/reference_quantile.csv"));
    let statrs_n = Normal::standard();
    type Q<'a> = (&'a str, Box<dyn Fn(f64) -> f64 + 'a>);
    let candidates: Vec<Q> = vec![
        ("acklam (old gravity+forecast)", Box::new(old::quantile_acklam)),
        ("koshi-numeric AS 241", Box::new(koshi_numeric::normal_quantile)),
        ("statrs 0.19 inverse_cdf", Box::new(move |p| statrs_n.inverse_cdf(p))),
    ];
    println!("## normal quantile\n");
    println!(
        "{} reference points (mpmath, 50 digits): p = 1e-1..1e-295, 0.001..0.999, 1-1e-4..1-1e-15.\n",
        reference.len()
    );
    println!(
        "| candidate | max rel error, 0.001 <= p <= 0.999 | max rel error, tails | max abs error, all | ns/call |"
    );
    println!("|---|---|---|---|---|");
    let mut rng = Xorshift(0x2545_f491_4f6c_dd1d);
    let ps: Vec<f64> = (0..1_000_000).map(|_| rng.next().max(1e-300)).collect();
    let mut loops: Vec<Box<dyn FnMut() + '_>> = candidates
        .iter()
        .map(|(_, f)| {
            let ps = &ps;
            Box::new(move || {
                black_box(ps.iter().map(|&p| f(black_box(p))).sum::<f64>());
            }) as Box<dyn FnMut()>
        })
        .collect();
    let times = race(7, ps.len(), &mut loops.iter_mut().map(|b| b.as_mut() as &mut dyn FnMut()).collect::<Vec<_>>());
    for ((name, f), ns) in candidates.iter().zip(times) {
        let (mut body, mut tail, mut abs) = (0.0f64, 0.0f64, 0.0f64);
        for &(p, z) in &reference {
            let got = f(p);
            let rel = if z == 0.0 { got.abs() } else { ((got - z) / z).abs() };
            abs = abs.max((got - z).abs());
            if (0.001..=0.999).contains(&p) { body = body.max(rel) } else { tail = tail.max(rel) }
        }
        println!("| {name} | {body:.2e} | {tail:.2e} | {abs:.2e} | {ns:.1} |");
    }
    println!();
}

fn cdf_section(dir: &str) {
    let reference = read_pairs(&format!("{dir}/reference_cdf.csv"));
    let statrs_n = Normal::standard();
    type C<'a> = (&'a str, Box<dyn Fn(f64) -> f64 + 'a>);
    let candidates: Vec<C> = vec![
        ("NR erfc (old gravity)", Box::new(old::normal_cdf_nr)),
        ("koshi-numeric (libm erfc)", Box::new(koshi_numeric::normal_cdf)),
        ("statrs 0.19 cdf", Box::new(move |x| statrs_n.cdf(x))),
    ];
    println!("## normal cdf (and so the two-sided p-value)\n");
    println!("{} reference points x = -37.5..8.5 step 1/16 (mpmath).\n", reference.len());
    println!("| candidate | max rel error, -8 <= x <= 8 | max rel error, x < -8 (deep tail) | ns/call |");
    println!("|---|---|---|---|");
    let mut rng = Xorshift(0x1234_5678_9abc_def1);
    let xs: Vec<f64> = (0..1_000_000).map(|_| 12.0 * rng.next() - 6.0).collect();
    let mut loops: Vec<Box<dyn FnMut() + '_>> = candidates
        .iter()
        .map(|(_, f)| {
            let xs = &xs;
            Box::new(move || {
                black_box(xs.iter().map(|&x| f(black_box(x))).sum::<f64>());
            }) as Box<dyn FnMut()>
        })
        .collect();
    let times = race(7, xs.len(), &mut loops.iter_mut().map(|b| b.as_mut() as &mut dyn FnMut()).collect::<Vec<_>>());
    for ((name, f), ns) in candidates.iter().zip(times) {
        let (mut body, mut deep) = (0.0f64, 0.0f64);
        for &(x, phi) in &reference {
            let rel = ((f(x) - phi) / phi).abs();
            if x.abs() <= 8.0 { body = body.max(rel) } else { deep = deep.max(rel) }
        }
        println!("| {name} | {body:.2e} | {deep:.2e} | {ns:.1} |");
    }
    println!();
}

/// B Bᵀ/k + I for a pseudo-random B: SPD and like a Gram or Newton Hessian.
fn spd(k: usize, seed: u64) -> Vec<f64> {
    let mut rng = Xorshift(seed);
    let b: Vec<f64> = (0..k * k).map(|_| rng.next() - 0.5).collect();
    let mut a = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            let d: f64 = (0..k).map(|l| b[i * k + l] * b[j * k + l]).sum();
            a[i * k + j] = d / k as f64 + if i == j { 1e-3 } else { 0.0 };
        }
    }
    a
}

/// ‖A x − b‖∞ / (‖A‖∞ ‖x‖∞).
fn residual(a: &[f64], k: usize, x: &[f64], b: &[f64]) -> f64 {
    let mut r = 0.0f64;
    let mut an = 0.0f64;
    for i in 0..k {
        let ax: f64 = (0..k).map(|j| a[i * k + j] * x[j]).sum();
        r = r.max((ax - b[i]).abs());
        an = an.max((0..k).map(|j| a[i * k + j].abs()).sum());
    }
    r / (an * x.iter().fold(0.0f64, |m, v| m.max(v.abs())))
}

fn cholesky_section() {
    faer::set_global_parallelism(faer::Par::Seq);
    println!("## Cholesky factor + one solve of a k x k SPD system (row-major input, as the engines hold it)\n");
    println!("Microseconds per factor+solve (input copy or conversion included; fastest of 9 interleaved");
    println!("rounds), and the backward error ||Ax-b||/(||A|| ||x||). faer sequential (Par::Seq).\n");
    println!(
        "| k | old gravity | koshi-numeric | nalgebra 0.35 | faer 0.24 | residual old / koshi / nalgebra / faer |"
    );
    println!("|---|---|---|---|---|---|");
    for k in [5, 10, 20, 50, 100, 200, 500, 1000] {
        let a = spd(k, 0xdead_beef ^ k as u64);
        let b: Vec<f64> = (0..k).map(|i| (i as f64 * 0.37).sin()).collect();
        let reps = (2_000_000 / (k * k * k / 3 + 50)).clamp(3, 20_000);
        let mut res = [0.0f64; 4];
        let run = |which: usize| -> Vec<f64> {
            match which {
                0 => {
                    let l = old::cholesky_gravity(&a, k).unwrap();
                    old::cholesky_solve_gravity(&l, k, &b)
                }
                1 => {
                    let mut l = a.clone();
                    assert!(koshi_numeric::cholesky_in_place(&mut l, k));
                    let mut x = b.clone();
                    koshi_numeric::cholesky_solve_in_place(&l, k, &mut x);
                    x
                }
                2 => {
                    let m = nalgebra::DMatrix::from_row_slice(k, k, &a);
                    let c = m.cholesky().unwrap();
                    c.solve(&nalgebra::DVector::from_column_slice(&b)).as_slice().to_vec()
                }
                _ => {
                    let m = faer::Mat::<f64>::from_fn(k, k, |i, j| a[i * k + j]);
                    let llt = m.llt(faer::Side::Lower).unwrap();
                    let mut x = faer::Mat::<f64>::from_fn(k, 1, |i, _| b[i]);
                    llt.solve_in_place(x.as_mut());
                    (0..k).map(|i| x[(i, 0)]).collect()
                }
            }
        };
        for (w, r) in res.iter_mut().enumerate() {
            *r = residual(&a, k, &run(w), &b);
        }
        let block = (reps / 5).max(1);
        let mut c0 = || (0..block).for_each(|_| drop(black_box(run(0))));
        let mut c1 = || (0..block).for_each(|_| drop(black_box(run(1))));
        let mut c2 = || (0..block).for_each(|_| drop(black_box(run(2))));
        let mut c3 = || (0..block).for_each(|_| drop(black_box(run(3))));
        let t = race(9, block, &mut [&mut c0, &mut c1, &mut c2, &mut c3]);
        let us: Vec<f64> = t.iter().map(|ns| ns / 1e3).collect();
        println!(
            "| {k} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1e} / {:.1e} / {:.1e} / {:.1e} |",
            us[0], us[1], us[2], us[3], res[0], res[1], res[2], res[3]
        );
    }
    println!();
}

/// A small job: a few hundred flops, like one cell's or one series' bookkeeping.
fn small_job(i: usize, work: usize) -> f64 {
    let mut s = i as f64;
    for j in 0..work {
        s = (s * 1.000_001 + j as f64).sqrt();
    }
    s
}

fn par_section() {
    use rayon::prelude::*;
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    println!("## parallel map over 10,000 jobs ({threads} threads)\n");
    println!("Milliseconds for the whole map (fastest of 9 interleaved rounds), results in index order.\n");
    println!(
        "| work per job | sequential | old flows map (scoped threads) | koshi-numeric map_indices (rayon) | rayon par_iter().map().collect() |"
    );
    println!("|---|---|---|---|---|");
    let n = 10_000;
    for work in [10, 100, 1_000, 10_000] {
        let mut seq = || drop(black_box((0..n).map(|i| small_job(i, work)).collect::<Vec<_>>()));
        let mut old_map = || {
            let v: Result<Vec<f64>, ()> = old::map_indices_scoped(n, |i| Ok(small_job(i, work)));
            drop(black_box(v.unwrap()));
        };
        let mut ours = || {
            let v: Result<Vec<f64>, ()> = koshi_numeric::map_indices(n, |i| Ok(small_job(i, work)));
            drop(black_box(v.unwrap()));
        };
        let mut ray = || drop(black_box((0..n).into_par_iter().map(|i| small_job(i, work)).collect::<Vec<_>>()));
        let t = race(9, 1, &mut [&mut seq, &mut old_map, &mut ours, &mut ray]);
        // The same outputs, in the same order.
        let a: Vec<f64> = (0..n).map(|i| small_job(i, work)).collect();
        let b: Vec<f64> = old::map_indices_scoped::<_, (), _>(n, |i| Ok(small_job(i, work))).unwrap();
        let c: Vec<f64> = koshi_numeric::map_indices::<_, (), _>(n, |i| Ok(small_job(i, work))).unwrap();
        assert!(a == b && a == c);
        println!(
            "| {work} sqrt steps | {:.3} | {:.3} | {:.3} | {:.3} |",
            t[0] / 1e6,
            t[1] / 1e6,
            t[2] / 1e6,
            t[3] / 1e6
        );
    }
    println!();
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "bench/numerics".into());
    // NUMERICS_ONLY=quantile|cdf|cholesky|par runs one section.
    let only = std::env::var("NUMERICS_ONLY").unwrap_or_default();
    let on = |s: &str| only.is_empty() || only == s;
    if on("quantile") {
        quantile_section(&dir);
    }
    if on("cdf") {
        cdf_section(&dir);
    }
    if on("cholesky") {
        cholesky_section();
    }
    if on("par") {
        par_section();
    }
}
