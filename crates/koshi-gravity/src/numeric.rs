//! Small dense linear algebra and distribution functions (no external numeric crates needed:
//! the dense systems here are p×p with p = number of regressors).

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

/// Cholesky factor L (row-major lower triangle) of a positive definite matrix.
pub fn cholesky(a: &SymMatrix) -> Option<Vec<f64>> {
    let n = a.n;
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let mut d = a.get(j, j);
        for k in 0..j {
            d -= l[j * n + k] * l[j * n + k];
        }
        if !(d > 0.0) || !d.is_finite() {
            return None;
        }
        let djj = d.sqrt();
        l[j * n + j] = djj;
        for i in j + 1..n {
            let mut s = a.get(i, j);
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            l[i * n + j] = s / djj;
        }
    }
    Some(l)
}

pub fn cholesky_solve(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut y = b.to_vec();
    for i in 0..n {
        let mut s = y[i];
        for k in 0..i {
            s -= l[i * n + k] * y[k];
        }
        y[i] = s / l[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in i + 1..n {
            s -= l[k * n + i] * y[k];
        }
        y[i] = s / l[i * n + i];
    }
    y
}

pub fn cholesky_inverse(l: &[f64], n: usize) -> SymMatrix {
    let mut inv = SymMatrix::zeros(n);
    let mut e = vec![0.0; n];
    for j in 0..n {
        e.iter_mut().for_each(|v| *v = 0.0);
        e[j] = 1.0;
        let col = cholesky_solve(l, n, &e);
        for i in 0..n {
            inv.set(i, j, col[i]);
        }
    }
    inv
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

/// Complementary error function, |relative error| < 1.2e-7 (Chebyshev fit, Numerical Recipes form).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.26551223
            + t * (1.00002368
                + t * (0.37409196
                    + t * (0.09678418
                        + t * (-0.18628806
                            + t * (0.27886807
                                + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Standard normal CDF.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Two-sided p-value of a z statistic.
pub fn two_sided_p(z: f64) -> f64 {
    if !z.is_finite() {
        return if z.is_nan() { f64::NAN } else { 0.0 };
    }
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

/// Standard normal quantile (Acklam's rational approximation, ~1e-9 relative).
pub fn normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383577518672690e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let plow = 0.02425;
    if p < plow {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - plow {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

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
