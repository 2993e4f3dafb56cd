//! Origin–destination tables that reproduce given net migration totals.

use crate::{Convergence, Fitted, FlowsError, IpfOptions, Matrix};

/// Largest `|inflow_i − outflow_i − net_i|` of a flow table.
pub fn net_error(flows: &Matrix, net: &[f64]) -> f64 {
    let inflow = flows.col_sums();
    let outflow = flows.row_sums();
    let diag = flows.diagonal();
    (0..net.len()).map(|i| ((inflow[i] - diag[i]) - (outflow[i] - diag[i]) - net[i]).abs()).fold(0.0, f64::max)
}

/// Flows `y_ij` (diagonal zero) closest to a prior `seed` in the entropy sense
/// — minimising `Σ y log(y/m) − y + m` — subject to
/// `Σ_j y_ji − Σ_j y_ij = net_i` and, optionally, `Σ y = total`.
///
/// The optimum has the multiplicative form `y_ij = λ m_ij a_j / a_i`
/// (migest's `cm_net` / `net_matrix_ipf`). Each sweep solves region `k`'s
/// constraint `a_k P_k − Q_k / a_k = net_k` exactly — the positive root of a
/// quadratic — then rescales `λ` to the total: cyclic coordinate ascent on
/// the convex dual, the IPF analogue for net margins. Zeros in `seed` are
/// structural zeros.
pub fn net_flows(net: &[f64], seed: &Matrix, total: Option<f64>, options: &IpfOptions) -> Result<Fitted, FlowsError> {
    let n = net.len();
    if seed.rows() != n || seed.cols() != n {
        return Err(FlowsError::Dimension(format!("seed {}×{} for {n} net totals", seed.rows(), seed.cols())));
    }
    if net.iter().any(|v| !v.is_finite()) || seed.as_slice().iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(FlowsError::InvalidInput("net totals must be finite, seed finite and ≥ 0".into()));
    }
    let scale = net.iter().fold(1.0_f64, |m, v| m.max(v.abs())).max(total.unwrap_or(0.0));
    let net_sum: f64 = net.iter().sum();
    if net_sum.abs() > 1e-9 * scale * n as f64 {
        return Err(FlowsError::InvalidInput(format!("net totals sum to {net_sum}, not 0")));
    }
    if let Some(t) = total
        && (!t.is_finite() || t < 0.0)
    {
        return Err(FlowsError::InvalidInput(format!("total {t}")));
    }
    let mut m = seed.clone();
    m.set_diagonal(0.0);
    let mut a = vec![1.0; n];
    let mut lambda = 1.0;
    let threshold = options.tolerance.max(16.0 * f64::EPSILON * scale);
    let mut convergence = Convergence { iterations: 0, max_margin_error: f64::INFINITY, converged: false };
    for iteration in 1..=options.max_iterations.max(1) {
        for k in 0..n {
            // inflow_k = a_k · P, outflow_k = Q / a_k
            let p: f64 = lambda * (0..n).map(|i| m[(i, k)] / a[i]).sum::<f64>();
            let q: f64 = lambda * m.row(k).iter().zip(&a).map(|(v, aj)| v * aj).sum::<f64>();
            let d = net[k];
            a[k] = match (p > 0.0, q > 0.0) {
                (true, true) => (d + (d * d + 4.0 * p * q).sqrt()) / (2.0 * p),
                (true, false) if d > 0.0 => d / p,
                (false, true) if d < 0.0 => -q / d,
                _ if d == 0.0 => a[k],
                _ => {
                    return Err(FlowsError::Infeasible(format!(
                        "region {k} needs net {d} but its admissible flows are one-directional"
                    )));
                }
            };
        }
        if let Some(t) = total {
            let current: f64 =
                (0..n).map(|i| m.row(i).iter().zip(&a).map(|(v, aj)| v * aj / a[i]).sum::<f64>()).sum::<f64>() * lambda;
            if current > 0.0 {
                lambda *= t / current;
            }
        }
        let flows = materialise(&m, &a, lambda);
        let mut err = net_error(&flows, net);
        if let Some(t) = total {
            err = err.max((flows.sum() - t).abs());
        }
        convergence = Convergence { iterations: iteration, max_margin_error: err, converged: err <= threshold };
        if convergence.converged {
            return Ok(Fitted { table: flows, convergence });
        }
    }
    Ok(Fitted { table: materialise(&m, &a, lambda), convergence })
}

fn materialise(m: &Matrix, a: &[f64], lambda: f64) -> Matrix {
    let n = a.len();
    let mut y = Matrix::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            y[(i, j)] = lambda * m[(i, j)] * a[j] / a[i];
        }
    }
    y
}
