//! Iterative proportional fitting (IPF) for 2-way tables and for the
//! origin × destination × birthplace tables used by flows-from-stocks.
//!
//! The fitted table is the maximum-likelihood (minimum-discrimination)
//! solution of the log-linear model `log y_ij = a_i + b_j + log m_ij`:
//! zeros in the seed `m` are structural zeros, other seed values act as
//! offsets (e.g. a gravity prior `pop_i^a pop_j^b / dist_ij^c`).

use crate::newton::newton_scale;
use crate::{FlowsError, Matrix, Table3};

/// Stopping rule for IPF.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IpfOptions {
    /// Converged when every margin is within `tolerance` (absolute), or within
    /// 16 ulps of the largest target when that is coarser — the best double
    /// precision allows for world-sized tables (totals ~1e9).
    pub tolerance: f64,
    pub max_iterations: usize,
}

impl Default for IpfOptions {
    fn default() -> Self {
        Self { tolerance: 1e-8, max_iterations: 20_000 }
    }
}

/// How an iterative fit ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Convergence {
    /// Full IPF cycles (row + column scaling) performed; for composite
    /// estimators the largest count over the sub-fits.
    pub iterations: usize,
    /// Largest absolute difference between a fitted margin and its target.
    pub max_margin_error: f64,
    pub converged: bool,
}

impl Convergence {
    /// A closed-form result: nothing iterated, margins exact.
    pub const EXACT: Self = Self { iterations: 0, max_margin_error: 0.0, converged: true };

    /// Combines the reports of independent sub-fits (worst case wins).
    pub fn merge(self, other: Self) -> Self {
        Self {
            iterations: self.iterations.max(other.iterations),
            max_margin_error: self.max_margin_error.max(other.max_margin_error),
            converged: self.converged && other.converged,
        }
    }
}

/// A fitted 2-way table with its convergence report.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    pub table: Matrix,
    pub convergence: Convergence,
}

/// A fitted origin × destination × birthplace table with its report.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted3 {
    pub flows: Table3,
    pub convergence: Convergence,
}

/// How the `i = j` cells of each birthplace slice are treated by [`ipf3_birthplace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagonalTreatment {
    /// Quasi-independence ("stayer assumption", minimum migration): the
    /// diagonal is fixed at `min(start, end)` and only movers are fitted.
    FixedStayers,
    /// Independence (Azose & Raftery 2019 ingredient): the diagonal is fitted
    /// like any other cell.
    Fitted,
}

fn check_vector(name: &str, v: &[f64], len: usize) -> Result<(), FlowsError> {
    if v.len() != len {
        return Err(FlowsError::Dimension(format!("{name}: {} values, expected {len}", v.len())));
    }
    if let Some(x) = v.iter().find(|x| !x.is_finite() || **x < 0.0) {
        return Err(FlowsError::InvalidInput(format!("{name} contains {x}; must be finite and ≥ 0")));
    }
    Ok(())
}

/// 2-way IPF: scales `seed` so that its row sums equal `row_totals` and its
/// column sums equal `col_totals` (either may be `None` = unconstrained).
///
/// Model: `y_ij = α_i β_j m_ij`; iterate `α_i ← r_i / Σ_j β_j m_ij`,
/// `β_j ← c_j / Σ_i α_i m_ij`. Rows and columns whose target is zero are
/// set to zero up front and skipped, which is exact and keeps sparse
/// problems cheap.
pub fn ipf2(
    row_totals: Option<&[f64]>,
    col_totals: Option<&[f64]>,
    seed: &Matrix,
    options: &IpfOptions,
) -> Result<Fitted, FlowsError> {
    ipf2_impl(row_totals, col_totals, seed, false, options)
}

/// [`ipf2`] with an optional structural-zero diagonal, so callers need not
/// copy the seed just to blank its diagonal.
pub(crate) fn ipf2_impl(
    row_totals: Option<&[f64]>,
    col_totals: Option<&[f64]>,
    seed: &Matrix,
    zero_diagonal: bool,
    options: &IpfOptions,
) -> Result<Fitted, FlowsError> {
    check_seed(seed)?;
    let fit = ipf2_compact(row_totals, col_totals, Some(seed), seed.rows(), seed.cols(), zero_diagonal, options)?;
    Ok(Fitted { table: fit.expand(seed.rows(), seed.cols()), convergence: fit.convergence })
}

pub(crate) fn check_seed(seed: &Matrix) -> Result<(), FlowsError> {
    if let Some(v) = seed.as_slice().iter().find(|x| !x.is_finite() || **x < 0.0) {
        return Err(FlowsError::InvalidInput(format!("seed contains {v}; must be finite and ≥ 0")));
    }
    Ok(())
}

/// A 2-way fit restricted to the rows and columns that can hold mass
/// (positive target, or unconstrained); every other cell is zero.
pub(crate) struct CompactFit {
    pub rows: Vec<usize>,
    pub cols: Vec<usize>,
    /// `rows.len() × cols.len()`, row-major.
    pub values: Vec<f64>,
    /// `max_margin_error` is that of the full table.
    pub convergence: Convergence,
}

impl CompactFit {
    pub fn expand(&self, n_rows: usize, n_cols: usize) -> Matrix {
        let mut table = Matrix::zeros(n_rows, n_cols);
        let nc = self.cols.len();
        for (a, &i) in self.rows.iter().enumerate() {
            let dst = table.row_mut(i);
            for (b, &j) in self.cols.iter().enumerate() {
                dst[j] = self.values[a * nc + b];
            }
        }
        table
    }

    /// Adds the fitted cells into `out` (same full shape).
    pub fn add_into(&self, out: &mut Matrix) {
        let nc = self.cols.len();
        for (a, &i) in self.rows.iter().enumerate() {
            let dst = out.row_mut(i);
            for (b, &j) in self.cols.iter().enumerate() {
                dst[j] += self.values[a * nc + b];
            }
        }
    }
}

/// Core of [`ipf2`] on an `n_rows × n_cols` seed (`None` = all ones, never
/// materialised), already checked to be finite and non-negative.
pub(crate) fn ipf2_compact(
    row_totals: Option<&[f64]>,
    col_totals: Option<&[f64]>,
    seed: Option<&Matrix>,
    n_rows: usize,
    n_cols: usize,
    zero_diagonal: bool,
    options: &IpfOptions,
) -> Result<CompactFit, FlowsError> {
    if let Some(r) = row_totals {
        check_vector("row totals", r, n_rows)?;
    }
    if let Some(c) = col_totals {
        check_vector("column totals", c, n_cols)?;
    }
    // Totals equal up to rounding are accepted; that residue cannot be fitted away.
    let mut irreducible = 0.0;
    if let (Some(r), Some(c)) = (row_totals, col_totals) {
        let (sr, sc) = (r.iter().sum::<f64>(), c.iter().sum::<f64>());
        if (sr - sc).abs() > 1e-9 * sr.abs().max(sc.abs()).max(1.0) {
            return Err(FlowsError::InconsistentMargins { row_total: sr, col_total: sc });
        }
        irreducible = (sr - sc).abs();
    }

    let active_rows: Vec<usize> = (0..n_rows).filter(|&i| row_totals.is_none_or(|r| r[i] > 0.0)).collect();
    let active_cols: Vec<usize> = (0..n_cols).filter(|&j| col_totals.is_none_or(|c| c[j] > 0.0)).collect();
    let (nr, nc) = (active_rows.len(), active_cols.len());

    // Compact working copy restricted to rows/columns that can hold mass.
    let mut work = vec![0.0; nr * nc];
    for (a, &i) in active_rows.iter().enumerate() {
        let dst = &mut work[a * nc..(a + 1) * nc];
        match seed {
            Some(m) => {
                let src = m.row(i);
                for (d, &j) in dst.iter_mut().zip(&active_cols) {
                    *d = src[j];
                }
            }
            None => dst.iter_mut().for_each(|d| *d = 1.0),
        }
        if zero_diagonal && let Ok(b) = active_cols.binary_search(&i) {
            dst[b] = 0.0;
        }
    }
    let row_target: Option<Vec<f64>> = row_totals.map(|r| active_rows.iter().map(|&i| r[i]).collect());
    let col_target: Option<Vec<f64>> = col_totals.map(|c| active_cols.iter().map(|&j| c[j]).collect());
    let scale = row_target.iter().chain(col_target.iter()).flat_map(|v| v.iter().copied()).fold(1.0_f64, f64::max);
    let threshold = options.tolerance.max(16.0 * f64::EPSILON * scale) + irreducible;

    let mut convergence = Convergence { iterations: 0, max_margin_error: 0.0, converged: false };
    match (&row_target, &col_target) {
        (Some(rt), Some(ct)) => {
            convergence =
                fit_both(&mut work, nc, rt, ct, threshold, options.max_iterations).map_err(|(is_row, k, t)| {
                    let (what, idx) = if is_row { ("row", active_rows[k]) } else { ("column", active_cols[k]) };
                    FlowsError::Infeasible(format!("{what} {idx} has target {t} but no admissible cell"))
                })?;
        }
        (Some(rt), None) => {
            for (a, &t) in rt.iter().enumerate() {
                let row = &mut work[a * nc..(a + 1) * nc];
                let s: f64 = row.iter().sum();
                if s <= 0.0 {
                    return Err(FlowsError::Infeasible(format!(
                        "row {} has target {t} but no admissible cell",
                        active_rows[a]
                    )));
                }
                row.iter_mut().for_each(|v| *v *= t / s);
            }
            convergence = Convergence { iterations: 1, max_margin_error: 0.0, converged: true };
        }
        (None, Some(ct)) => {
            let mut col_sums = vec![0.0; nc];
            for a in 0..nr {
                for (s, v) in col_sums.iter_mut().zip(&work[a * nc..(a + 1) * nc]) {
                    *s += v;
                }
            }
            for (b, (&t, &s)) in ct.iter().zip(&col_sums).enumerate() {
                if s <= 0.0 {
                    return Err(FlowsError::Infeasible(format!(
                        "column {} has target {t} but no admissible cell",
                        active_cols[b]
                    )));
                }
            }
            let factors: Vec<f64> = ct.iter().zip(&col_sums).map(|(t, s)| t / s).collect();
            for a in 0..nr {
                for (v, f) in work[a * nc..(a + 1) * nc].iter_mut().zip(&factors) {
                    *v *= f;
                }
            }
            convergence = Convergence { iterations: 1, max_margin_error: 0.0, converged: true };
        }
        (None, None) => convergence.converged = true,
    }
    // The true error of the full table: inactive rows/columns are zero with zero target.
    convergence.max_margin_error =
        compact_margin_error(&work, nc, row_target.as_deref(), col_target.as_deref(), None, None);
    Ok(CompactFit { rows: active_rows, cols: active_cols, values: work, convergence })
}

/// Margin error of a compact table whose rows/columns also carry fixed
/// extra mass (`row_extra[a]`, `col_extra[b]`, e.g. stayers).
fn compact_margin_error(
    work: &[f64],
    nc: usize,
    row_target: Option<&[f64]>,
    col_target: Option<&[f64]>,
    row_extra: Option<&[f64]>,
    col_extra: Option<&[f64]>,
) -> f64 {
    let mut err: f64 = 0.0;
    if let Some(rt) = row_target {
        for (a, &t) in rt.iter().enumerate() {
            let s: f64 = work[a * nc..(a + 1) * nc].iter().sum::<f64>() + row_extra.map_or(0.0, |e| e[a]);
            err = err.max((s - t).abs());
        }
    }
    if let Some(ct) = col_target {
        let mut sums: Vec<f64> = col_extra.map_or_else(|| vec![0.0; nc], <[f64]>::to_vec);
        for row in work.chunks_exact(nc.max(1)) {
            for (s, v) in sums.iter_mut().zip(row) {
                *s += v;
            }
        }
        for (s, t) in sums.iter().zip(ct) {
            err = err.max((s - t).abs());
        }
    }
    err
}

/// IPF sweeps before a slow fit is handed to Newton's method.
const NEWTON_AFTER: usize = 50;
/// Largest number of active columns for the dense Newton solve (nc² memory).
const NEWTON_MAX_COLS: usize = 2048;

/// Both margins: plain IPF sweeps first (most fits converge within a few
/// dozen and are left exactly as IPF computes them); a fit still short of
/// the threshold after [`NEWTON_AFTER`] sweeps is finished by Newton's
/// method on the dual (same fixed point, same stopping rule), falling back
/// to further sweeps if Newton fails. `iterations` counts sweeps plus
/// Newton steps.
fn fit_both(
    work: &mut [f64],
    nc: usize,
    rt: &[f64],
    ct: &[f64],
    threshold: f64,
    max_iterations: usize,
) -> Result<Convergence, (bool, usize, f64)> {
    let sparse = work.iter().filter(|v| **v > 0.0).count() * 2 < work.len();
    let sweeps = |work: &mut [f64], limit: usize| {
        if sparse {
            fit_both_margins_sparse(work, nc, rt, ct, threshold, limit)
        } else {
            fit_both_margins(work, nc, rt, ct, threshold, limit)
        }
    };
    let max_iterations = max_iterations.max(1);
    let mut report = sweeps(work, max_iterations.min(NEWTON_AFTER))?;
    if report.converged || report.iterations >= max_iterations {
        return Ok(report);
    }
    if nc <= NEWTON_MAX_COLS {
        let newton = newton_scale(work, nc, rt, ct, threshold, max_iterations - report.iterations);
        report.iterations += newton.steps;
        if newton.converged {
            report.converged = true;
            return Ok(report);
        }
    }
    if report.iterations < max_iterations {
        let rest = sweeps(work, max_iterations - report.iterations)?;
        report.iterations += rest.iterations;
        report.converged = rest.converged;
    }
    Ok(report)
}

/// Core IPF loop with both margins, fused so each cycle is one sweep over
/// the table: column factors are applied lazily while the next row sums are
/// taken. Errors name the first row (`true`) or column with no admissible cell.
fn fit_both_margins(
    work: &mut [f64],
    nc: usize,
    row_target: &[f64],
    col_target: &[f64],
    threshold: f64,
    max_iterations: usize,
) -> Result<Convergence, (bool, usize, f64)> {
    let mut col_factor = vec![1.0; nc];
    let mut col_sums = vec![0.0; nc];
    let mut report = Convergence { iterations: 0, max_margin_error: f64::INFINITY, converged: false };
    for iteration in 1..=max_iterations.max(1) {
        col_sums.iter_mut().for_each(|c| *c = 0.0);
        // Row error of the previous cycle's (column-scaled) state.
        let mut err: f64 = 0.0;
        for (a, &t) in row_target.iter().enumerate() {
            let row = &mut work[a * nc..(a + 1) * nc];
            let s: f64 = row.iter().zip(&col_factor).map(|(v, f)| v * f).sum();
            if s <= 0.0 {
                return Err((true, a, t));
            }
            err = err.max((s - t).abs());
            let rf = t / s;
            for ((v, f), c) in row.iter_mut().zip(&col_factor).zip(col_sums.iter_mut()) {
                *v *= f * rf;
                *c += *v;
            }
        }
        update_col_factors(&mut col_factor, &col_sums, col_target)?;
        report.iterations = iteration;
        if iteration > 1 && err <= threshold {
            report.converged = true;
            break;
        }
    }
    // Leave the table column-exact.
    for row in work.chunks_exact_mut(nc.max(1)) {
        for (v, f) in row.iter_mut().zip(&col_factor) {
            *v *= f;
        }
    }
    Ok(report)
}

/// [`fit_both_margins`] over the non-zero cells only (compressed rows), for
/// seeds that are mostly structural zeros such as world stock tables.
fn fit_both_margins_sparse(
    work: &mut [f64],
    nc: usize,
    row_target: &[f64],
    col_target: &[f64],
    threshold: f64,
    max_iterations: usize,
) -> Result<Convergence, (bool, usize, f64)> {
    let nr = row_target.len();
    let mut row_start = Vec::with_capacity(nr + 1);
    let mut cols: Vec<u32> = Vec::new();
    let mut vals: Vec<f64> = Vec::new();
    row_start.push(0);
    for a in 0..nr {
        for (b, &v) in work[a * nc..(a + 1) * nc].iter().enumerate() {
            if v > 0.0 {
                cols.push(b as u32);
                vals.push(v);
            }
        }
        row_start.push(vals.len());
    }
    let mut col_factor = vec![1.0; nc];
    let mut col_sums = vec![0.0; nc];
    let mut report = Convergence { iterations: 0, max_margin_error: f64::INFINITY, converged: false };
    for iteration in 1..=max_iterations.max(1) {
        col_sums.iter_mut().for_each(|c| *c = 0.0);
        let mut err: f64 = 0.0;
        for (a, &t) in row_target.iter().enumerate() {
            let range = row_start[a]..row_start[a + 1];
            let (rv, rc) = (&mut vals[range.clone()], &cols[range]);
            let s: f64 = rv.iter().zip(rc).map(|(v, &b)| v * col_factor[b as usize]).sum();
            if s <= 0.0 {
                return Err((true, a, t));
            }
            err = err.max((s - t).abs());
            let rf = t / s;
            for (v, &b) in rv.iter_mut().zip(rc) {
                *v *= col_factor[b as usize] * rf;
                col_sums[b as usize] += *v;
            }
        }
        update_col_factors(&mut col_factor, &col_sums, col_target)?;
        report.iterations = iteration;
        if iteration > 1 && err <= threshold {
            report.converged = true;
            break;
        }
    }
    work.iter_mut().for_each(|v| *v = 0.0);
    for a in 0..nr {
        for p in row_start[a]..row_start[a + 1] {
            let b = cols[p] as usize;
            work[a * nc + b] = vals[p] * col_factor[b];
        }
    }
    Ok(report)
}

/// Largest absolute difference between the table's margins and the targets.
pub fn margin_error(table: &Matrix, row_totals: Option<&[f64]>, col_totals: Option<&[f64]>) -> f64 {
    let mut err: f64 = 0.0;
    if let Some(r) = row_totals {
        for (s, t) in table.row_sums().iter().zip(r) {
            err = err.max((s - t).abs());
        }
    }
    if let Some(c) = col_totals {
        for (s, t) in table.col_sums().iter().zip(c) {
            err = err.max((s - t).abs());
        }
    }
    err
}

/// 3-way IPF of origin × destination × birthplace flows from two stock
/// tables (rows = birthplace, columns = residence), one birthplace at a time.
///
/// For birthplace `k`: row margin `Σ_j y_ijk = start[k][i]`, column margin
/// `Σ_i y_ijk = end[k][j]`. Under [`DiagonalTreatment::FixedStayers`] the
/// model is `log y_ijk = α_ik + β_jk + δ_ijk·I(i=j) + log m_ijk` (migest's
/// `ipf3_qi`): stayers `min(start, end)` are fixed and the movers fitted with
/// a zero-diagonal seed. With [`DiagonalTreatment::Fitted`] it is plain
/// independence (`ipf3`). `seed` defaults to 1 everywhere.
pub fn ipf3_birthplace(
    start: &Matrix,
    end: &Matrix,
    seed: Option<&Table3>,
    diagonal: DiagonalTreatment,
    options: &IpfOptions,
) -> Result<Fitted3, FlowsError> {
    start.same_shape(end)?;
    if !start.is_square() {
        return Err(FlowsError::Dimension("stock tables must be square".into()));
    }
    let n = start.rows();
    if let Some(s) = seed
        && (s.n_birthplaces() != n || s.slices().first().is_some_and(|m| m.rows() != n || m.cols() != n))
    {
        return Err(FlowsError::Dimension("seed must be n × n × n".into()));
    }
    if let Some(s) = seed {
        s.slices().iter().try_for_each(check_seed)?;
    }
    let mut slices = Vec::with_capacity(n);
    let mut convergence = Convergence::EXACT;
    for k in 0..n {
        let base = seed.map(|s| s.birthplace(k));
        let slice = fit_birthplace_compact(start.row(k), end.row(k), base, diagonal, options)?;
        convergence = convergence.merge(slice.fit.convergence);
        slices.push(slice.expand());
    }
    Ok(Fitted3 { flows: Table3::from_slices(slices)?, convergence })
}

/// A fitted birthplace slice: the compact movers (or full independence)
/// fit plus, under [`DiagonalTreatment::FixedStayers`], the stayers.
pub(crate) struct BirthplaceSlice {
    pub fit: CompactFit,
    pub stayers: Option<Vec<f64>>,
    n: usize,
}

impl BirthplaceSlice {
    pub fn expand(&self) -> Matrix {
        let mut table = self.fit.expand(self.n, self.n);
        if let Some(st) = &self.stayers {
            for (i, s) in st.iter().enumerate() {
                table[(i, i)] = *s;
            }
        }
        table
    }
}

/// One birthplace slice without materialising the `n × n` table; the
/// seed (`None` = all ones) must already be validated. Used by the
/// demographic-accounting estimator, which only needs the movers.
pub(crate) fn fit_birthplace_compact(
    start_row: &[f64],
    end_row: &[f64],
    seed: Option<&Matrix>,
    diagonal: DiagonalTreatment,
    options: &IpfOptions,
) -> Result<BirthplaceSlice, FlowsError> {
    let n = start_row.len();
    match diagonal {
        DiagonalTreatment::Fitted => {
            let fit = ipf2_compact(Some(start_row), Some(end_row), seed, n, n, false, options)?;
            Ok(BirthplaceSlice { fit, stayers: None, n })
        }
        DiagonalTreatment::FixedStayers => {
            let stayers: Vec<f64> = start_row.iter().zip(end_row).map(|(a, b)| a.min(*b)).collect();
            let movers_out: Vec<f64> = start_row.iter().zip(&stayers).map(|(a, s)| a - s).collect();
            let movers_in: Vec<f64> = end_row.iter().zip(&stayers).map(|(b, s)| b - s).collect();
            let mut fit = if movers_out.iter().all(|&x| x == 0.0) && movers_in.iter().all(|&x| x == 0.0) {
                CompactFit { rows: vec![], cols: vec![], values: vec![], convergence: Convergence::EXACT }
            } else {
                ipf2_compact(Some(&movers_out), Some(&movers_in), seed, n, n, true, options)?
            };
            // Error of the full slice (stayers on the diagonal) against the
            // stock margins; rows/columns without movers hold exactly their stayers.
            let nc = fit.cols.len();
            let rt: Vec<f64> = fit.rows.iter().map(|&i| start_row[i]).collect();
            let ct: Vec<f64> = fit.cols.iter().map(|&j| end_row[j]).collect();
            let re: Vec<f64> = fit.rows.iter().map(|&i| stayers[i]).collect();
            let ce: Vec<f64> = fit.cols.iter().map(|&j| stayers[j]).collect();
            fit.convergence.max_margin_error =
                compact_margin_error(&fit.values, nc, Some(&rt), Some(&ct), Some(&re), Some(&ce));
            Ok(BirthplaceSlice { fit, stayers: Some(stayers), n })
        }
    }
}

/// New column factors target / sum; a column with nothing left to scale is an error
/// `(false, column, target)`, as the row and column fits report it.
fn update_col_factors(col_factor: &mut [f64], col_sums: &[f64], col_target: &[f64]) -> Result<(), (bool, usize, f64)> {
    for (b, ((f, &c), &t)) in col_factor.iter_mut().zip(col_sums).zip(col_target).enumerate() {
        if c <= 0.0 {
            return Err((false, b, t));
        }
        *f = t / c;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two dense blocks joined by a weak link: plain IPF needs thousands of
    /// sweeps (second singular value near 1), like the world stock tables.
    fn weakly_coupled(n: usize, link: f64) -> (Matrix, Vec<f64>, Vec<f64>) {
        let mut m = Matrix::zeros(n, n);
        let h = n / 2;
        for i in 0..n {
            for j in 0..n {
                let same = (i < h) == (j < h);
                let v = 1.0 + ((i * 7 + j * 13) % 11) as f64;
                m[(i, j)] = if same {
                    v * 1e6
                } else if (i + j) % 3 == 0 {
                    link * v
                } else {
                    0.0
                };
            }
        }
        let mut rows = m.row_sums();
        let mut cols = m.col_sums();
        // Shift mass between the blocks: the weak link has to carry it.
        rows[0] += 5e3;
        rows[n - 1] -= 5e3;
        cols[1] -= 2e3;
        cols[n - 2] += 2e3;
        (m, rows, cols)
    }

    #[test]
    fn newton_reaches_the_ipf_fixed_point() {
        let (seed, rows, cols) = weakly_coupled(40, 2e3);
        let options = IpfOptions::default();
        let fast = ipf2(Some(&rows), Some(&cols), &seed, &options).unwrap();
        assert!(fast.convergence.converged, "{:?}", fast.convergence);
        assert!(fast.convergence.iterations <= NEWTON_AFTER + 10, "{:?}", fast.convergence);

        // Reference: plain sweeps only, run to the same stopping rule.
        let mut work = seed.as_slice().to_vec();
        let threshold = 16.0 * f64::EPSILON * rows.iter().chain(&cols).fold(1.0_f64, |a, &b| a.max(b))
            + (rows.iter().sum::<f64>() - cols.iter().sum::<f64>()).abs();
        let plain = fit_both_margins(&mut work, 40, &rows, &cols, threshold, 1_000_000).unwrap();
        assert!(plain.converged && plain.iterations > 10 * NEWTON_AFTER, "{plain:?}");
        for (a, b) in fast.table.as_slice().iter().zip(&work) {
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}");
        }
        assert!(fast.convergence.max_margin_error <= threshold);
    }

    #[test]
    fn newton_handles_sparse_tables_and_zero_margins() {
        let (mut seed, _, _) = weakly_coupled(30, 5.0);
        for i in 0..30 {
            for j in 0..30 {
                if (i * j) % 4 == 1 {
                    seed[(i, j)] = 0.0;
                }
            }
        }
        // Re-derive consistent margins for the thinned pattern, then perturb.
        let mut rows = seed.row_sums();
        let mut cols = seed.col_sums();
        rows[3] += 1e3;
        rows[20] -= 1e3;
        rows[7] = 0.0;
        cols[7] = 0.0;
        let fix = rows.iter().sum::<f64>() - cols.iter().sum::<f64>();
        cols[0] += fix;
        let fit = ipf2(Some(&rows), Some(&cols), &seed, &IpfOptions::default()).unwrap();
        assert!(fit.convergence.converged, "{:?}", fit.convergence);
        assert!(fit.convergence.max_margin_error <= 1e-5, "{:?}", fit.convergence);
        for i in 0..30 {
            for j in 0..30 {
                if seed[(i, j)] == 0.0 || i == 7 || j == 7 {
                    assert_eq!(fit.table[(i, j)], 0.0);
                }
            }
        }
    }

    #[test]
    fn cholesky_solves_spd_system() {
        let a = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let mut l = a;
        assert!(crate::newton::cholesky(&mut l, 3));
        let mut x = [1.0, 2.0, 3.0];
        crate::newton::cholesky_solve(&l, 3, &mut x);
        for i in 0..3 {
            let ax: f64 = (0..3).map(|j| a[i * 3 + j] * x[j]).sum();
            assert!((ax - [1.0, 2.0, 3.0][i]).abs() < 1e-12);
        }
    }
}
