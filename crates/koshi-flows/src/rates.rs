//! Rate-based flows-from-stocks approaches.

use crate::{FlowsError, Matrix};

/// Dennett (2015): distribute a known global flow total in proportion to
/// the start stocks, `y_ij = M · P_ij / Σ_{k≠l} P_kl` (diagonal excluded).
pub fn rates_dennett(start: &Matrix, global_flow_total: f64) -> Result<Matrix, FlowsError> {
    if !start.is_square() {
        return Err(FlowsError::Dimension("stock table must be square".into()));
    }
    let mut p = start.clone();
    p.set_diagonal(0.0);
    let total = p.sum();
    if total <= 0.0 {
        return Err(FlowsError::InvalidInput("no off-diagonal stock".into()));
    }
    Ok(p.map(|v| global_flow_total * v / total))
}

/// Rogers & von Rabenau (1971): residence transition matrix `G` solving
/// `start · G = end`, flows `y_ij = G_ij · Σ_k start_ki` (people living in
/// `i` at the start times the transition share), diagonal zero. Flows can be
/// negative: the method does not constrain `G`.
pub fn rates_rogers_von_rabenau(start: &Matrix, end: &Matrix) -> Result<Matrix, FlowsError> {
    start.same_shape(end)?;
    if !start.is_square() {
        return Err(FlowsError::Dimension("stock tables must be square".into()));
    }
    let g = solve(start, end)?;
    let residents = start.col_sums();
    let n = g.rows();
    let mut flows = Matrix::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            if i != j {
                flows[(i, j)] = g[(i, j)] * residents[i];
            }
        }
    }
    Ok(flows)
}

/// Solves `a · x = b` by Gaussian elimination with partial pivoting.
fn solve(a: &Matrix, b: &Matrix) -> Result<Matrix, FlowsError> {
    let n = a.rows();
    let mut a = a.clone();
    let mut x = b.clone();
    let scale = a.as_slice().iter().fold(0.0_f64, |m, v| m.max(v.abs())).max(1.0);
    let m = x.cols();
    if koshi_numeric::lu_solve_in_place(a.as_mut_slice(), n, x.as_mut_slice(), m, 1e-14 * scale) {
        Ok(x)
    } else {
        Err(FlowsError::Singular)
    }
}
