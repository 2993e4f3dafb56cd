//! Small dense linear algebra for the p×p systems of the regressors. The Cholesky factorisation
//! and the normal distribution come from `koshi-numeric` (re-exported here under their old names).

/// Symmetric matrix stored row-major, dimension `n`.
#[derive(Debug, Clone, PartialEq)]
pub struct SymMatrix {
    pub n: usize,
    pub data: Vec<f64>,
}

impl SymMatrix {
    pub fn zeros(n: usize) -> Self {
        Self { n, data: vec![0.0; n * n] }
    }
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.n + j]
    }
    #[inline]
    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.data[i * self.n + j] = v;
    }
    pub fn add_scaled(&mut self, other: &SymMatrix, scale: f64) {
        for (a, b) in self.data.iter_mut().zip(&other.data) {
            *a += scale * b;
        }
    }
    pub fn scale(&mut self, s: f64) {
        self.data.iter_mut().for_each(|v| *v *= s);
    }
    /// A·B·A for symmetric A, B.
    pub fn sandwich(a: &SymMatrix, b: &SymMatrix) -> SymMatrix {
        let n = a.n;
        let mut tmp = vec![0.0; n * n];
        for i in 0..n {
            for k in 0..n {
                let aik = a.get(i, k);
                for j in 0..n {
                    tmp[i * n + j] += aik * b.get(k, j);
                }
            }
        }
        let mut out = SymMatrix::zeros(n);
        for i in 0..n {
            for k in 0..n {
                let t = tmp[i * n + k];
                for j in 0..n {
                    out.data[i * n + j] += t * a.get(k, j);
                }
            }
        }
        out
    }
}

/// Cross product X'WX of column-major columns (w = None means unit weights).
pub fn weighted_gram(cols: &[Vec<f64>], w: Option<&[f64]>) -> SymMatrix {
    let p = cols.len();
    let mut g = SymMatrix::zeros(p);
    for i in 0..p {
        for j in 0..=i {
            let v = weighted_dot(&cols[i], &cols[j], w);
            g.set(i, j, v);
            g.set(j, i, v);
        }
    }
    g
}

pub fn weighted_dot(a: &[f64], b: &[f64], w: Option<&[f64]>) -> f64 {
    match w {
        Some(w) => a.iter().zip(b).zip(w).map(|((x, y), w)| x * y * w).sum(),
        None => a.iter().zip(b).map(|(x, y)| x * y).sum(),
    }
}

/// Cholesky factor L (row-major lower triangle, zero above) of a positive definite matrix.
pub fn cholesky(a: &SymMatrix) -> Option<Vec<f64>> {
    let n = a.n;
    let mut l = a.data.clone();
    if !koshi_numeric::cholesky_in_place(&mut l, n) {
        return None;
    }
    for i in 0..n {
        l[i * n + i + 1..(i + 1) * n].iter_mut().for_each(|v| *v = 0.0);
    }
    Some(l)
}

/// Solves `L Lᵀ x = b` for the factor from [`cholesky`].
pub fn cholesky_solve(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut x = b.to_vec();
    koshi_numeric::cholesky_solve_in_place(l, n, &mut x);
    x
}

/// `A⁻¹` from the factor of `A`.
pub fn cholesky_inverse(l: &[f64], n: usize) -> SymMatrix {
    SymMatrix { n, data: koshi_numeric::cholesky_inverse(l, n) }
}

/// Greedy column selection: keeps column j when its squared norm after projecting out the kept
/// columns is above `tol` times its own squared norm (incremental Cholesky, O(p^3)).
pub fn independent_columns(gram: &SymMatrix, tol: f64) -> Vec<usize> {
    independent_columns_factor(gram, tol).0
}

/// As [`independent_columns`], also returning the Cholesky factor (row-major, k×k) of the kept
/// block, so callers solve with exactly the factor that passed the test.
pub fn independent_columns_factor(gram: &SymMatrix, tol: f64) -> (Vec<usize>, Vec<f64>) {
    let n = gram.n;
    let mut kept: Vec<usize> = Vec::new();
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for j in 0..n {
        let diag = gram.get(j, j);
        if !(diag > 0.0) || !diag.is_finite() {
            continue;
        }
        let k = kept.len();
        let mut row = vec![0.0; k + 1];
        for r in 0..k {
            let mut s = gram.get(j, kept[r]);
            for c in 0..r {
                s -= row[c] * rows[r][c];
            }
            row[r] = s / rows[r][r];
        }
        let schur = diag - row[..k].iter().map(|v| v * v).sum::<f64>();
        if schur > tol * diag {
            row[k] = schur.sqrt();
            rows.push(row);
            kept.push(j);
        }
    }
    let k = kept.len();
    let mut l = vec![0.0; k * k];
    for (r, row) in rows.iter().enumerate() {
        l[r * k..r * k + row.len()].copy_from_slice(row);
    }
    (kept, l)
}

pub fn submatrix(a: &SymMatrix, idx: &[usize]) -> SymMatrix {
    let mut s = SymMatrix::zeros(idx.len());
    for (i, &a_i) in idx.iter().enumerate() {
        for (j, &a_j) in idx.iter().enumerate() {
            s.set(i, j, a.get(a_i, a_j));
        }
    }
    s
}

pub use koshi_numeric::{normal_cdf, normal_quantile, two_sided_p};

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~1e-15 relative).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.5203681218851,
        -1259.1392167224028,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507343278686905,
        -0.13857109526572012,
        9.984_369_578_019_572e-6,
        1.5056327351493116e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = COEF[0];
    let t = x + G + 0.5;
    for (i, c) in COEF.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}
