//! Dense row-major 2-way tables and birthplace-sliced 3-way tables.

use crate::FlowsError;

/// Dense `rows × cols` table of `f64`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self { rows, cols, data: vec![0.0; rows * cols] }
    }

    pub fn filled(rows: usize, cols: usize, value: f64) -> Self {
        Self { rows, cols, data: vec![value; rows * cols] }
    }

    /// Builds from row-major values; errors if the length does not match.
    pub fn from_row_major(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self, FlowsError> {
        if data.len() != rows * cols {
            return Err(FlowsError::Dimension(format!("{} values for a {rows}×{cols} matrix", data.len())));
        }
        Ok(Self { rows, cols, data })
    }

    /// Builds from column-major values (R's `m[] <- c(...)` order).
    pub fn from_col_major(rows: usize, cols: usize, data: &[f64]) -> Result<Self, FlowsError> {
        if data.len() != rows * cols {
            return Err(FlowsError::Dimension(format!("{} values for a {rows}×{cols} matrix", data.len())));
        }
        let mut m = Self::zeros(rows, cols);
        for c in 0..cols {
            for r in 0..rows {
                m[(r, c)] = data[c * rows + r];
            }
        }
        Ok(m)
    }

    /// Builds from nested rows; errors on ragged input.
    pub fn from_rows<R: AsRef<[f64]>>(rows: &[R]) -> Result<Self, FlowsError> {
        let n_rows = rows.len();
        let n_cols = rows.first().map_or(0, |r| r.as_ref().len());
        let mut data = Vec::with_capacity(n_rows * n_cols);
        for r in rows {
            let r = r.as_ref();
            if r.len() != n_cols {
                return Err(FlowsError::Dimension("ragged rows".into()));
            }
            data.extend_from_slice(r);
        }
        Ok(Self { rows: n_rows, cols: n_cols, data })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn is_square(&self) -> bool {
        self.rows == self.cols
    }

    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }

    pub fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    pub fn row_mut(&mut self, r: usize) -> &mut [f64] {
        &mut self.data[r * self.cols..(r + 1) * self.cols]
    }

    pub fn row_sums(&self) -> Vec<f64> {
        (0..self.rows).map(|r| self.row(r).iter().sum()).collect()
    }

    pub fn col_sums(&self) -> Vec<f64> {
        let mut sums = vec![0.0; self.cols];
        for r in 0..self.rows {
            for (s, v) in sums.iter_mut().zip(self.row(r)) {
                *s += v;
            }
        }
        sums
    }

    pub fn sum(&self) -> f64 {
        self.data.iter().sum()
    }

    pub fn diagonal(&self) -> Vec<f64> {
        (0..self.rows.min(self.cols)).map(|i| self[(i, i)]).collect()
    }

    /// Sum of the off-diagonal cells (total movers in an OD table).
    pub fn off_diagonal_sum(&self) -> f64 {
        self.sum() - self.diagonal().iter().sum::<f64>()
    }

    pub fn set_diagonal(&mut self, value: f64) {
        for i in 0..self.rows.min(self.cols) {
            self[(i, i)] = value;
        }
    }

    pub fn transpose(&self) -> Self {
        let mut t = Self::zeros(self.cols, self.rows);
        for r in 0..self.rows {
            for c in 0..self.cols {
                t[(c, r)] = self[(r, c)];
            }
        }
        t
    }

    pub fn map(&self, f: impl Fn(f64) -> f64) -> Self {
        Self { rows: self.rows, cols: self.cols, data: self.data.iter().map(|&v| f(v)).collect() }
    }

    /// Element-wise `self - other`.
    pub fn sub(&self, other: &Self) -> Result<Self, FlowsError> {
        self.same_shape(other)?;
        let data = self.data.iter().zip(&other.data).map(|(a, b)| a - b).collect();
        Ok(Self { rows: self.rows, cols: self.cols, data })
    }

    /// Element-wise `self + other`.
    pub fn add(&self, other: &Self) -> Result<Self, FlowsError> {
        self.same_shape(other)?;
        let data = self.data.iter().zip(&other.data).map(|(a, b)| a + b).collect();
        Ok(Self { rows: self.rows, cols: self.cols, data })
    }

    pub fn max_abs_diff(&self, other: &Self) -> f64 {
        self.data.iter().zip(&other.data).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)
    }

    pub(crate) fn same_shape(&self, other: &Self) -> Result<(), FlowsError> {
        if self.rows != other.rows || self.cols != other.cols {
            return Err(FlowsError::Dimension(format!("{}×{} vs {}×{}", self.rows, self.cols, other.rows, other.cols)));
        }
        Ok(())
    }
}

impl std::ops::Index<(usize, usize)> for Matrix {
    type Output = f64;
    fn index(&self, (r, c): (usize, usize)) -> &f64 {
        &self.data[r * self.cols + c]
    }
}

impl std::ops::IndexMut<(usize, usize)> for Matrix {
    fn index_mut(&mut self, (r, c): (usize, usize)) -> &mut f64 {
        &mut self.data[r * self.cols + c]
    }
}

/// 3-way table `origin × destination × birthplace`, stored as one
/// `origin × destination` slice per birthplace so each slice is contiguous.
#[derive(Debug, Clone, PartialEq)]
pub struct Table3 {
    slices: Vec<Matrix>,
}

impl Table3 {
    pub fn zeros(n_orig: usize, n_dest: usize, n_birthplace: usize) -> Self {
        Self { slices: vec![Matrix::zeros(n_orig, n_dest); n_birthplace] }
    }

    pub fn from_slices(slices: Vec<Matrix>) -> Result<Self, FlowsError> {
        if let Some(first) = slices.first() {
            for s in &slices {
                first.same_shape(s)?;
            }
        }
        Ok(Self { slices })
    }

    pub fn n_birthplaces(&self) -> usize {
        self.slices.len()
    }

    /// The `origin × destination` table of people born in `birthplace`.
    pub fn birthplace(&self, birthplace: usize) -> &Matrix {
        &self.slices[birthplace]
    }

    pub fn birthplace_mut(&mut self, birthplace: usize) -> &mut Matrix {
        &mut self.slices[birthplace]
    }

    pub fn slices(&self) -> &[Matrix] {
        &self.slices
    }

    pub fn get(&self, orig: usize, dest: usize, birthplace: usize) -> f64 {
        self.slices[birthplace][(orig, dest)]
    }

    /// Collapses over birthplace to an `origin × destination` table.
    pub fn sum_over_birthplace(&self) -> Matrix {
        let Some(first) = self.slices.first() else { return Matrix::zeros(0, 0) };
        let mut total = Matrix::zeros(first.rows(), first.cols());
        for s in &self.slices {
            for (t, v) in total.as_mut_slice().iter_mut().zip(s.as_slice()) {
                *t += v;
            }
        }
        total
    }
}
