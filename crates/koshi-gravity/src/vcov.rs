//! Sandwich variance estimators with the small-sample conventions of fixest, Stata and statsmodels.

use crate::fe::Factor;
use crate::formula::{SmallSample, VcovSpec};
use crate::numeric::SymMatrix;

pub(crate) struct VcovInput<'a> {
    /// (X̃'WX̃)⁻¹
    pub bread: &'a SymMatrix,
    /// Demeaned regressors.
    pub x_tilde: &'a [Vec<f64>],
    /// Score multiplier per observation: y − μ (Poisson) or the residual (OLS).
    pub score_weight: &'a [f64],
    /// Scale of the model-based variance (1 for Poisson, σ² for OLS).
    pub dispersion: f64,
    pub fixed_effects: &'a [Factor],
    pub clusters: &'a [Factor],
}

/// Number of parameters: coefficients plus fixed-effect levels with one restriction per extra
/// fixed effect (fixest's default approximation).
pub(crate) fn n_params(n_coef: usize, fes: &[Factor]) -> usize {
    if fes.is_empty() {
        return n_coef;
    }
    n_coef + fes.iter().map(Factor::n_levels).sum::<usize>() - (fes.len() - 1)
}

fn cluster_meat(x_tilde: &[Vec<f64>], score_weight: &[f64], cluster: &Factor) -> SymMatrix {
    let p = x_tilde.len();
    let g = cluster.n_levels();
    let mut sums = vec![0.0; g * p];
    for (j, col) in x_tilde.iter().enumerate() {
        for ((&c, &xv), &s) in cluster.codes.iter().zip(col).zip(score_weight) {
            sums[c as usize * p + j] += xv * s;
        }
    }
    let mut meat = SymMatrix::zeros(p);
    for row in sums.chunks_exact(p) {
        for a in 0..p {
            for b in 0..=a {
                meat.data[a * p + b] += row[a] * row[b];
            }
        }
    }
    for a in 0..p {
        for b in 0..a {
            meat.data[b * p + a] = meat.data[a * p + b];
        }
    }
    meat
}

fn hetero_meat(x_tilde: &[Vec<f64>], score_weight: &[f64]) -> SymMatrix {
    let p = x_tilde.len();
    let mut meat = SymMatrix::zeros(p);
    let s2: Vec<f64> = score_weight.iter().map(|s| s * s).collect();
    for a in 0..p {
        for b in 0..=a {
            let v: f64 = x_tilde[a].iter().zip(&x_tilde[b]).zip(&s2).map(|((x, y), s)| x * y * s).sum();
            meat.set(a, b, v);
            meat.set(b, a, v);
        }
    }
    meat
}

/// Returns the variance matrix and the K used for (n−1)/(n−K).
pub(crate) fn compute(spec: &VcovSpec, ssc: SmallSample, input: &VcovInput) -> (SymMatrix, usize) {
    let n = input.score_weight.len() as f64;
    let p = input.x_tilde.len();
    let k_full = n_params(p, input.fixed_effects);
    let kf = k_full as f64;
    match spec {
        VcovSpec::Iid => {
            let mut v = input.bread.clone();
            let adj = match ssc {
                SmallSample::Fixest | SmallSample::Statsmodels => (n - 1.0) / (n - kf),
                SmallSample::Stata | SmallSample::None => 1.0,
            };
            v.scale(input.dispersion * adj);
            (v, k_full)
        }
        VcovSpec::Hetero => {
            let meat = hetero_meat(input.x_tilde, input.score_weight);
            let mut v = SymMatrix::sandwich(input.bread, &meat);
            let adj = match ssc {
                SmallSample::Fixest | SmallSample::Statsmodels => n / (n - kf),
                SmallSample::Stata => n / (n - 1.0),
                SmallSample::None => 1.0,
            };
            v.scale(adj);
            (v, k_full)
        }
        VcovSpec::Cluster(_) => {
            let clusters = input.clusters;
            let m = clusters.len();
            let g_min = clusters.iter().map(Factor::n_levels).min().unwrap_or(1) as f64;
            // K without the fixed effects nested in a cluster variable (fixest "nested").
            let k_nested = {
                let fes = input.fixed_effects;
                let nested: Vec<bool> = fes.iter().map(|f| clusters.iter().any(|c| f.is_nested_in(c))).collect();
                if !fes.is_empty() && nested.iter().all(|&b| b) {
                    k_full - (fes.iter().map(Factor::n_levels).sum::<usize>() - (fes.len() - 1)) + 1
                } else {
                    let removed: usize =
                        fes.iter().zip(&nested).filter(|(_, n)| **n).map(|(f, _)| f.n_levels() - 1).sum();
                    k_full - removed
                }
            };
            let mut total = SymMatrix::zeros(p);
            for subset in 1u32..(1u32 << m) {
                let members: Vec<usize> = (0..m).filter(|j| subset & (1 << j) != 0).collect();
                let mut factor = clusters[members[0]].clone();
                for &j in &members[1..] {
                    factor = factor.interact(&clusters[j]);
                }
                let g = factor.n_levels() as f64;
                let sign = if members.len() % 2 == 1 { 1.0 } else { -1.0 };
                let cluster_adj = match ssc {
                    SmallSample::Fixest => g_min / (g_min - 1.0),
                    SmallSample::Stata | SmallSample::Statsmodels => g / (g - 1.0),
                    SmallSample::None => 1.0,
                };
                let meat = cluster_meat(input.x_tilde, input.score_weight, &factor);
                total.add_scaled(&meat, sign * cluster_adj);
            }
            let mut v = SymMatrix::sandwich(input.bread, &total);
            let (adj, k) = match ssc {
                SmallSample::Fixest => ((n - 1.0) / (n - k_nested as f64), k_nested),
                SmallSample::Statsmodels => ((n - 1.0) / (n - kf), k_full),
                SmallSample::Stata | SmallSample::None => (1.0, k_full),
            };
            v.scale(adj);
            (v, k)
        }
    }
}
