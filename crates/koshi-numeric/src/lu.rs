//! Gaussian elimination with partial pivoting for general square row-major systems.

/// Solves `A X = B` in place for `A` `n × n` and `B` `n × m` (both row-major): `B` becomes `X`
/// and `A` is overwritten by its eliminated form. `false` (with `A`, `B` partly overwritten)
/// if a pivot's magnitude is at most `min_pivot`: callers choose the singularity threshold,
/// usually a small multiple of the largest entry of `A`.
pub fn lu_solve_in_place(a: &mut [f64], n: usize, b: &mut [f64], m: usize, min_pivot: f64) -> bool {
    assert!(a.len() >= n * n && b.len() >= n * m, "solve of a {n}×{n} system with {m} right-hand sides");
    for col in 0..n {
        let mut pivot = col;
        for i in col + 1..n {
            if a[i * n + col].abs() > a[pivot * n + col].abs() {
                pivot = i;
            }
        }
        #[allow(clippy::neg_cmp_op_on_partial_ord)] // also true for NaN, on purpose
        if !(a[pivot * n + col].abs() > min_pivot) {
            return false;
        }
        if pivot != col {
            for k in 0..n {
                a.swap(pivot * n + k, col * n + k);
            }
            for k in 0..m {
                b.swap(pivot * m + k, col * m + k);
            }
        }
        let diag = a[col * n + col];
        let (upper, lower) = a.split_at_mut((col + 1) * n);
        let pivot_row = &upper[col * n + col..col * n + n];
        let (b_upper, b_lower) = b.split_at_mut((col + 1) * m);
        let b_pivot = &b_upper[col * m..col * m + m];
        for r in 0..n - col - 1 {
            let row = &mut lower[r * n..r * n + n];
            let factor = row[col] / diag;
            if factor == 0.0 {
                continue;
            }
            for (x, &p) in row[col..].iter_mut().zip(pivot_row) {
                *x -= factor * p;
            }
            for (x, &p) in b_lower[r * m..r * m + m].iter_mut().zip(b_pivot) {
                *x -= factor * p;
            }
        }
    }
    for row in (0..n).rev() {
        let d = a[row * n + row];
        for k in 0..m {
            let mut s = b[row * m + k];
            for j in row + 1..n {
                s -= a[row * n + j] * b[j * m + k];
            }
            b[row * m + k] = s / d;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_with_pivoting_and_several_right_hand_sides() {
        // The first pivot is zero: only row exchange makes this solvable.
        let a = [0.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0];
        let x = [1.0, -2.0, 0.5, 3.0, 0.25, -1.0];
        let mut b = vec![0.0; 6];
        for i in 0..3 {
            for k in 0..2 {
                b[i * 2 + k] = (0..3).map(|j| a[i * 3 + j] * x[j * 2 + k]).sum();
            }
        }
        let mut aw = a.to_vec();
        assert!(lu_solve_in_place(&mut aw, 3, &mut b, 2, 1e-14));
        for (got, want) in b.iter().zip(&x) {
            assert!((got - want).abs() < 1e-13, "{got} vs {want}");
        }
    }

    #[test]
    fn reports_singular() {
        let mut a = vec![1.0, 2.0, 2.0, 4.0];
        let mut b = vec![1.0, 2.0];
        assert!(!lu_solve_in_place(&mut a, 2, &mut b, 1, 1e-13 * 4.0));
        let mut a = vec![f64::NAN, 0.0, 0.0, 1.0];
        assert!(!lu_solve_in_place(&mut a, 2, &mut b, 1, 0.0));
    }
}
