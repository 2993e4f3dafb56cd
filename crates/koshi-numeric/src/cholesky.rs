//! Cholesky factorisation `A = L Lᵀ` of symmetric positive definite row-major `n × n` systems.
//!
//! The factor is computed as `U = Lᵀ` row by row (`U_j = A_j − Σ_{k<j} U_kj U_k`, then scaled):
//! every inner loop is an update of one contiguous row (no reduction chain, so it runs at the
//! machine's throughput), the row being written stays in cache, and nothing is allocated.
//! `bench/numerics` compares it with the old code, nalgebra and faer.

/// In-place Cholesky factorisation of the symmetric positive definite `n × n` row-major `a`.
/// Only the lower triangle (diagonal included) is read. On success the lower triangle holds
/// `L` and the strict upper triangle `Lᵀ`. `false` if a pivot is not positive and finite: `a`
/// is then partly overwritten.
pub fn cholesky_in_place(a: &mut [f64], n: usize) -> bool {
    assert!(a.len() >= n * n, "cholesky of a {n}×{n} matrix from {} values", a.len());
    // Mirror the lower triangle into the upper one, where U = Lᵀ is built row by row.
    for i in 0..n {
        for j in 0..i {
            a[j * n + i] = a[i * n + j];
        }
    }
    for j in 0..n {
        let (done, rest) = a.split_at_mut(j * n);
        let row_j = &mut rest[j..n];
        // Two earlier rows per pass: half the loads and stores of row j.
        let mut k = 0;
        while k + 1 < j {
            let (u0, u1) = (&done[k * n + j..k * n + n], &done[(k + 1) * n + j..(k + 1) * n + n]);
            let (f0, f1) = (u0[0], u1[0]);
            for ((x, &a), &b) in row_j.iter_mut().zip(u0).zip(u1) {
                *x -= f0 * a + f1 * b;
            }
            k += 2;
        }
        if k < j {
            let u_k = &done[k * n + j..k * n + n];
            let f = u_k[0];
            for (x, &u) in row_j.iter_mut().zip(u_k) {
                *x -= f * u;
            }
        }
        let d = row_j[0];
        if !(d > 0.0 && d.is_finite()) {
            return false;
        }
        let d = d.sqrt();
        row_j[0] = d;
        let inv = 1.0 / d;
        row_j[1..].iter_mut().for_each(|x| *x *= inv);
    }
    for i in 0..n {
        for j in 0..i {
            a[i * n + j] = a[j * n + i];
        }
    }
    true
}

/// Solves `L Lᵀ x = b` in place (`b` becomes `x`) for a factor from [`cholesky_in_place`]
/// (only the lower triangle of `l` is read).
pub fn cholesky_solve_in_place(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let d = dot(&l[i * n..i * n + i], &b[..i]);
        b[i] = (b[i] - d) / l[i * n + i];
    }
    // Lᵀ x = y by columns of Lᵀ (= rows of L), so every access is contiguous.
    for i in (0..n).rev() {
        b[i] /= l[i * n + i];
        let xi = b[i];
        for (bk, &lik) in b[..i].iter_mut().zip(&l[i * n..i * n + i]) {
            *bk -= lik * xi;
        }
    }
}

/// `A⁻¹` (row-major `n × n`, symmetric) from the factor `L` of `A`.
pub fn cholesky_inverse(l: &[f64], n: usize) -> Vec<f64> {
    let mut inv = vec![0.0; n * n];
    let mut e = vec![0.0; n];
    for j in 0..n {
        e.iter_mut().for_each(|v| *v = 0.0);
        e[j] = 1.0;
        cholesky_solve_in_place(l, n, &mut e);
        for (i, &v) in e.iter().enumerate() {
            inv[i * n + j] = v;
        }
    }
    inv
}

/// Dot product with eight independent partial sums (lets the compiler keep several SIMD
/// additions in flight; the inner products of the factorisation are latency-bound otherwise).
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    let mut acc = [0.0; 8];
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A well-conditioned SPD test matrix: B Bᵀ + n·I for a fixed pseudo-random B.
    fn spd(n: usize) -> Vec<f64> {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut b = vec![0.0; n * n];
        for v in &mut b {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            *v = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
        }
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = dot(&b[i * n..i * n + n], &b[j * n..j * n + n]) + if i == j { n as f64 } else { 0.0 };
            }
        }
        a
    }

    #[test]
    fn factor_reproduces_the_matrix_and_solves() {
        for n in [1, 3, 5, 17, 64] {
            let a = spd(n);
            let mut l = a.clone();
            assert!(cholesky_in_place(&mut l, n));
            for i in 0..n {
                for j in 0..=i {
                    let llt = dot(&l[i * n..i * n + j + 1], &l[j * n..j * n + j + 1]);
                    assert!((llt - a[i * n + j]).abs() <= 1e-12 * a[i * n + i].abs(), "n={n} ({i},{j})");
                }
            }
            let x: Vec<f64> = (0..n).map(|i| i as f64 - 2.0).collect();
            let mut b: Vec<f64> = (0..n).map(|i| dot(&a[i * n..i * n + n], &x)).collect();
            cholesky_solve_in_place(&l, n, &mut b);
            for (got, want) in b.iter().zip(&x) {
                assert!((got - want).abs() < 1e-10, "n={n}: {got} vs {want}");
            }
            let inv = cholesky_inverse(&l, n);
            for i in 0..n {
                for j in 0..n {
                    let e: f64 = (0..n).map(|k| a[i * n + k] * inv[k * n + j]).sum();
                    assert!((e - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12, "n={n} ({i},{j}) {e}");
                }
            }
        }
    }

    #[test]
    fn small_system_by_hand() {
        let mut l = vec![4.0, 2.0, 0.0, 2.0, 5.0, 1.0, 0.0, 1.0, 3.0];
        assert!(cholesky_in_place(&mut l, 3));
        let mut x = vec![6.0, 8.0, 4.0];
        cholesky_solve_in_place(&l, 3, &mut x);
        let r = [4.0 * x[0] + 2.0 * x[1] - 6.0, 2.0 * x[0] + 5.0 * x[1] + x[2] - 8.0, x[1] + 3.0 * x[2] - 4.0];
        assert!(r.iter().all(|v| v.abs() < 1e-12), "{r:?}");
    }

    #[test]
    fn rejects_indefinite_and_nan() {
        let mut a = vec![1.0, 2.0, 2.0, 1.0];
        assert!(!cholesky_in_place(&mut a, 2));
        let mut a = vec![f64::NAN, 0.0, 0.0, 1.0];
        assert!(!cholesky_in_place(&mut a, 2));
    }
}
