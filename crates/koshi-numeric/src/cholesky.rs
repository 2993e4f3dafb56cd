//! Cholesky factorisation `A = L Lᵀ` of symmetric positive definite row-major `n × n` systems.
//!
//! Left-looking, row by row, every inner product over contiguous memory ([`dot`]): for the
//! sizes the engines use (5 to a few thousand) this is as fast as the general crates measured
//! in `bench/numerics`, with no allocation.

/// In-place Cholesky factorisation of the symmetric positive definite `n × n` row-major `a`:
/// the lower triangle is read and overwritten by `L`; the strict upper triangle is left as it
/// was. `false` if a pivot is not positive and finite: `a` is then partly overwritten.
pub fn cholesky_in_place(a: &mut [f64], n: usize) -> bool {
    assert!(a.len() >= n * n, "cholesky of a {n}×{n} matrix from {} values", a.len());
    for i in 0..n {
        for j in 0..=i {
            let (head, tail) = a.split_at_mut(i * n);
            let row_i = &tail[..n];
            let row_j: &[f64] = if j == i { row_i } else { &head[j * n..j * n + n] };
            let v = tail[j] - dot(&row_i[..j], &row_j[..j]);
            if j == i {
                if !(v > 0.0 && v.is_finite()) {
                    return false;
                }
                tail[i] = v.sqrt();
            } else {
                tail[j] = v / head[j * n + j];
            }
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

/// Dot product with four independent partial sums (lets the compiler use SIMD).
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    let mut acc = [0.0; 4];
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
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
