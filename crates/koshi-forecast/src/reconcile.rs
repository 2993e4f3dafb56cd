//! Hierarchical reconciliation: make forecasts of parts add up to forecasts of totals.
//!
//! With summing matrix S (all series × bottom series) and base forecasts ŷ (all series),
//! every linear method returns ỹ = S (S'W⁻¹S)⁻¹ S'W⁻¹ ŷ, except bottom-up (ỹ = S ŷ_bottom).

use serde::{Deserialize, Serialize};

use crate::error::{ForecastError, Result};
use crate::linalg::Matrix;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconcileMethod {
    BottomUp,
    /// W = I.
    Ols,
    /// W = diag(S·1): variance proportional to the number of bottom series below a node.
    WlsStructural,
    /// W = shrunk covariance of in-sample one-step residuals (Schäfer–Strimmer target: diagonal).
    MintShrink,
}

/// The aggregation structure: row i of `summing` says which bottom series add up to series i.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hierarchy {
    pub names: Vec<String>,
    /// m × b 0/1 matrix, one row per series in `names`.
    pub summing: Vec<Vec<f64>>,
}

impl Hierarchy {
    /// A total over `children` (e.g. the national figure over regions): rows = [total, children…].
    pub fn two_level(total: &str, children: &[&str]) -> Self {
        let b = children.len();
        let mut summing = vec![vec![1.0; b]];
        for i in 0..b {
            let mut row = vec![0.0; b];
            row[i] = 1.0;
            summing.push(row);
        }
        let mut names = vec![total.to_string()];
        names.extend(children.iter().map(|c| c.to_string()));
        Self { names, summing }
    }

    /// Builds S from named groups: each aggregate lists its bottom-level members.
    /// Row order: aggregates (in the given order), then bottom series.
    pub fn from_groups(bottom: &[&str], aggregates: &[(&str, Vec<&str>)]) -> Result<Self> {
        let mut names = Vec::new();
        let mut summing = Vec::new();
        for (name, members) in aggregates {
            let mut row = vec![0.0; bottom.len()];
            for m in members {
                let idx = bottom
                    .iter()
                    .position(|b| b == m)
                    .ok_or_else(|| ForecastError::Hierarchy(format!("`{m}` in `{name}` is not a bottom series")))?;
                row[idx] = 1.0;
            }
            names.push(name.to_string());
            summing.push(row);
        }
        for (i, b) in bottom.iter().enumerate() {
            let mut row = vec![0.0; bottom.len()];
            row[i] = 1.0;
            names.push(b.to_string());
            summing.push(row);
        }
        Ok(Self { names, summing })
    }

    pub fn n_series(&self) -> usize {
        self.summing.len()
    }

    pub fn n_bottom(&self) -> usize {
        self.summing.first().map_or(0, Vec::len)
    }

    /// Row index of each bottom series (rows of S that are unit vectors).
    fn bottom_rows(&self) -> Result<Vec<usize>> {
        (0..self.n_bottom())
            .map(|j| {
                self.summing
                    .iter()
                    .position(|row| row.iter().enumerate().all(|(k, v)| if k == j { *v == 1.0 } else { *v == 0.0 }))
                    .ok_or_else(|| ForecastError::Hierarchy(format!("bottom series {j} has no own row")))
            })
            .collect()
    }
}

/// Reconciles `base` (one forecast path per series, same order as `hierarchy.names`).
/// `residuals` (one in-sample residual series per node, equal lengths) is required only by MinT.
pub fn reconcile(
    hierarchy: &Hierarchy,
    base: &[Vec<f64>],
    method: ReconcileMethod,
    residuals: Option<&[Vec<f64>]>,
) -> Result<Vec<Vec<f64>>> {
    let m = hierarchy.n_series();
    let b = hierarchy.n_bottom();
    if base.len() != m || m == 0 || b == 0 {
        return Err(ForecastError::Hierarchy(format!("{} base forecasts for {m} series", base.len())));
    }
    let horizon = base[0].len();
    if base.iter().any(|f| f.len() != horizon) {
        return Err(ForecastError::Hierarchy("base forecasts differ in length".into()));
    }
    let s = Matrix::from_rows(&hierarchy.summing);
    let y = Matrix::from_rows(base);
    let bottom: Matrix = match method {
        ReconcileMethod::BottomUp => {
            let rows = hierarchy.bottom_rows()?;
            Matrix::from_rows(&rows.iter().map(|&r| base[r].clone()).collect::<Vec<_>>())
        }
        _ => {
            let w_inv_diag: Option<Vec<f64>>;
            let w_inv_full: Option<Matrix>;
            match method {
                ReconcileMethod::Ols => {
                    w_inv_diag = Some(vec![1.0; m]);
                    w_inv_full = None;
                }
                ReconcileMethod::WlsStructural => {
                    w_inv_diag =
                        Some(hierarchy.summing.iter().map(|r| 1.0 / r.iter().sum::<f64>().max(1e-12)).collect());
                    w_inv_full = None;
                }
                ReconcileMethod::MintShrink => {
                    let res = residuals.ok_or_else(|| ForecastError::Hierarchy("MinT needs residuals".into()))?;
                    if res.len() != m {
                        return Err(ForecastError::Hierarchy("one residual series per node required".into()));
                    }
                    w_inv_diag = None;
                    w_inv_full = Some(shrunk_covariance(res)?.inverse().ok_or(ForecastError::Singular)?);
                }
                ReconcileMethod::BottomUp => unreachable!(),
            }
            let st = s.transpose();
            let st_winv = match (&w_inv_diag, &w_inv_full) {
                (Some(d), _) => {
                    let mut out = st.clone();
                    for i in 0..out.rows {
                        for (j, dj) in d.iter().enumerate().take(out.cols) {
                            out.set(i, j, st.get(i, j) * dj);
                        }
                    }
                    out
                }
                (None, Some(w)) => st.mul(w),
                _ => unreachable!(),
            };
            let lhs = st_winv.mul(&s).inverse().ok_or(ForecastError::Singular)?;
            lhs.mul(&st_winv).mul(&y)
        }
    };
    let out = s.mul(&bottom);
    Ok((0..m).map(|i| (0..horizon).map(|h| out.get(i, h)).collect()).collect())
}

/// Covariance shrunk towards its diagonal with the Schäfer–Strimmer intensity;
/// NaN residuals (e.g. before the first fitted value) are dropped column-wise.
pub fn shrunk_covariance(residuals: &[Vec<f64>]) -> Result<Matrix> {
    let m = residuals.len();
    let t_len = residuals.iter().map(Vec::len).min().unwrap_or(0);
    // Keep time points where every node has a residual.
    let times: Vec<usize> = (0..t_len).filter(|&t| residuals.iter().all(|r| r[t].is_finite())).collect();
    let n = times.len();
    if n < 3 {
        return Err(ForecastError::Hierarchy("too few complete residuals for MinT".into()));
    }
    let x: Vec<Vec<f64>> = residuals.iter().map(|r| times.iter().map(|&t| r[t]).collect()).collect();
    let means: Vec<f64> = x.iter().map(|r| r.iter().sum::<f64>() / n as f64).collect();
    let c: Vec<Vec<f64>> = x.iter().zip(&means).map(|(r, mu)| r.iter().map(|v| v - mu).collect()).collect();
    let sd: Vec<f64> =
        c.iter().map(|r| (r.iter().map(|v| v * v).sum::<f64>() / (n - 1) as f64).sqrt().max(1e-12)).collect();
    // Standardised residuals for the shrinkage intensity on correlations.
    let z: Vec<Vec<f64>> = c.iter().zip(&sd).map(|(r, s)| r.iter().map(|v| v / s).collect()).collect();
    let (mut num, mut den) = (0.0, 0.0);
    let nf = n as f64;
    for i in 0..m {
        for j in 0..m {
            if i == j {
                continue;
            }
            let w: Vec<f64> = (0..n).map(|t| z[i][t] * z[j][t]).collect();
            let w_bar = w.iter().sum::<f64>() / nf;
            let r_ij = w_bar * nf / (nf - 1.0);
            let var_r = nf / (nf - 1.0).powi(3) * w.iter().map(|v| (v - w_bar).powi(2)).sum::<f64>();
            num += var_r;
            den += r_ij * r_ij;
        }
    }
    let lambda = if den > 0.0 { (num / den).clamp(0.0, 1.0) } else { 1.0 };
    let mut cov = Matrix::zeros(m, m);
    for i in 0..m {
        for j in 0..m {
            let s_ij = (0..n).map(|t| c[i][t] * c[j][t]).sum::<f64>() / (nf - 1.0);
            cov.set(i, j, if i == j { s_ij } else { (1.0 - lambda) * s_ij });
        }
    }
    Ok(cov)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ols_on_two_level_splits_the_gap_equally() {
        // total forecast 10, children 3 + 4 = 7: gap 3 spread by OLS.
        let h = Hierarchy::two_level("KZ", &["A", "B"]);
        let out = reconcile(&h, &[vec![10.0], vec![3.0], vec![4.0]], ReconcileMethod::Ols, None).unwrap();
        // OLS: bottoms get +1 each, total becomes 9 (= 10 − 1).
        assert!((out[1][0] - 4.0).abs() < 1e-12 && (out[2][0] - 5.0).abs() < 1e-12 && (out[0][0] - 9.0).abs() < 1e-12);
        let bu = reconcile(&h, &[vec![10.0], vec![3.0], vec![4.0]], ReconcileMethod::BottomUp, None).unwrap();
        assert_eq!(bu[0][0], 7.0);
    }
}
