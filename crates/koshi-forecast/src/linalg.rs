//! Dense linear algebra for the small systems in ARIMA and reconciliation.

/// Solves A x = b in place (the solution overwrites `b`); false if A is numerically singular
/// (a pivot at most 1e-13 times A's largest entry).
pub fn solve_in_place(a: &mut [f64], b: &mut [f64], n: usize) -> bool {
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
    koshi_numeric::lu_solve_in_place(a, n, b, 1, 1e-13 * scale)
}

/// Solves A x = b (A row-major n×n) by Gaussian elimination with partial pivoting.
/// Overwrites A and b; returns None if A is numerically singular.
pub fn solve(a: &mut [f64], b: &mut [f64], n: usize) -> Option<Vec<f64>> {
    solve_in_place(a, b, n).then(|| b[..n].to_vec())
}

/// Row-major dense matrix, just enough for reconciliation.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Matrix {
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self { rows, cols, data: vec![0.0; rows * cols] }
    }

    pub fn from_rows(rows: &[Vec<f64>]) -> Self {
        let cols = rows.first().map_or(0, Vec::len);
        Self { rows: rows.len(), cols, data: rows.iter().flatten().copied().collect() }
    }

    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.cols + j]
    }

    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.data[i * self.cols + j] = v;
    }

    pub fn transpose(&self) -> Matrix {
        let mut t = Matrix::zeros(self.cols, self.rows);
        for i in 0..self.rows {
            for j in 0..self.cols {
                t.set(j, i, self.get(i, j));
            }
        }
        t
    }

    pub fn mul(&self, other: &Matrix) -> Matrix {
        assert_eq!(self.cols, other.rows, "matrix dimensions");
        let mut out = Matrix::zeros(self.rows, other.cols);
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self.get(i, k);
                if a == 0.0 {
                    continue;
                }
                for j in 0..other.cols {
                    out.data[i * other.cols + j] += a * other.get(k, j);
                }
            }
        }
        out
    }

    /// Inverse by column-wise solves; None if singular.
    pub fn inverse(&self) -> Option<Matrix> {
        let n = self.rows;
        let mut inv = Matrix::zeros(n, n);
        for j in 0..n {
            let mut a = self.data.clone();
            let mut e = vec![0.0; n];
            e[j] = 1.0;
            let x = solve(&mut a, &mut e, n)?;
            for (i, xi) in x.iter().enumerate() {
                inv.set(i, j, *xi);
            }
        }
        Some(inv)
    }
}
