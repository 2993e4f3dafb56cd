//! Migration indices of the Bell et al. (2002) family, defined as migest
//! 2.0.5 computes them so published values can be reproduced. Flow tables are
//! origin × destination; their diagonal (non-migrants / intra-regional
//! moves) is ignored everywhere.

use crate::ipf::ipf2_impl;
use crate::{FlowsError, IpfOptions, Matrix};

/// Migration intensity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntensityIndices {
    /// Crude migration probability (Bell et al. 2002): `100 · M / P`.
    pub cmp: f64,
    /// Courgeau's (1973) k: `cmp / ln(n²)` for `n` regions.
    pub courgeau_k: f64,
}

/// Intensity from a migrant total `M`, population `P` (same unit) and `n` regions.
pub fn intensity(migrants: f64, population: f64, n_regions: usize) -> Result<IntensityIndices, FlowsError> {
    if population <= 0.0 || n_regions < 2 {
        return Err(FlowsError::InvalidInput("population must be > 0 and n_regions ≥ 2".into()));
    }
    let cmp = 100.0 * migrants / population;
    Ok(IntensityIndices { cmp, courgeau_k: cmp / ((n_regions * n_regions) as f64).ln() })
}

/// Impact of migration on the population distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImpactIndices {
    /// Migration effectiveness index (Shryock): `100 · Σ_i |in_i − out_i| / Σ_i (in_i + out_i)`.
    pub effectiveness: f64,
    /// Aggregate net migration rate (Bell et al. 2002): `100 · ½ Σ_i |net_i| / Σ_i P_i`.
    /// Its unit follows the population's: migest's Korea example passes
    /// populations in millions and so prints 375,133 (≈ 0.375 % with persons).
    pub anmr: f64,
    /// Index of preference (Bachi): `Σ_{i≠j} M_ij / (M · w_i · w_j)`, `w = P / ΣP`.
    pub preference: f64,
    /// Index of velocity (Bogue): `Σ_{i≠j} M_ij · ΣP / (P_i · P_j)`.
    pub velocity: f64,
}

fn off_diagonal(flows: &Matrix) -> Result<Matrix, FlowsError> {
    if !flows.is_square() {
        return Err(FlowsError::Dimension("flow table must be square".into()));
    }
    if flows.as_slice().iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(FlowsError::InvalidInput("flows must be finite and ≥ 0".into()));
    }
    let mut m = flows.clone();
    m.set_diagonal(0.0);
    Ok(m)
}

/// Effectiveness, ANMR, preference and velocity from flows and populations by region.
pub fn impact(flows: &Matrix, population: &[f64]) -> Result<ImpactIndices, FlowsError> {
    let m = off_diagonal(flows)?;
    let n = m.rows();
    if population.len() != n || population.iter().any(|p| p.is_nan() || *p <= 0.0) {
        return Err(FlowsError::InvalidInput("need one positive population per region".into()));
    }
    let inflow = m.col_sums();
    let outflow = m.row_sums();
    let abs_net: f64 = inflow.iter().zip(&outflow).map(|(i, o)| (i - o).abs()).sum();
    let turnover: f64 = inflow.iter().zip(&outflow).map(|(i, o)| i + o).sum();
    let pop_total: f64 = population.iter().sum();
    let migrants = m.sum();
    let mut preference = 0.0;
    let mut velocity = 0.0;
    for i in 0..n {
        for j in 0..n {
            let f = m[(i, j)];
            if f > 0.0 {
                let (wi, wj) = (population[i] / pop_total, population[j] / pop_total);
                preference += f / (migrants * wi * wj);
                velocity += f * pop_total / (population[i] * population[j]);
            }
        }
    }
    Ok(ImpactIndices {
        effectiveness: if turnover > 0.0 { 100.0 * abs_net / turnover } else { 0.0 },
        anmr: 100.0 * 0.5 * abs_net / pop_total,
        preference,
        velocity,
    })
}

/// Spatial connectivity, inequality and focusing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnectivityIndices {
    /// Share of the `n(n−1)` off-diagonal flows that are non-zero (Bell's I_mc).
    pub connectivity: f64,
    /// Bell's I_mi against equal flows: `½ Σ |f/F − 1/N|` over the `N = n(n−1)` flows.
    pub inequality_equal: f64,
    /// Bell's I_mi against the quasi-independence fit `flow ~ orig + dest`
    /// (Poisson GLM on rounded off-diagonal flows = zero-diagonal IPF): `½ Σ |f/F − f̂/F̂|`.
    pub inequality_sim: f64,
    /// Total-flows Gini (Plane & Mulligan 1997, corrected denominator as in
    /// migest): `Σ_{a,b} |f_a − f_b| / (2 (N − 1) F)` over the `N` off-diagonal flows.
    pub gini_total: f64,
    /// Rows Gini / total Gini with Plane & Mulligan's common denominator
    /// `2n(n−1)F`: share of pairwise differences found within origin rows.
    pub gini_orig_standardized: f64,
    /// Same for destination columns.
    pub gini_dest_standardized: f64,
    /// Migration-weighted out-migration Gini `Σ_i G^O_i w_i / n`, with
    /// `G^O_i = Σ_{j,l≠i} |M_ij − M_il| / (2(n−2) out_i)`. As in the
    /// `migration.indices` package used by migest, `w_i` is region i's share
    /// of **in**-migration.
    pub mwg_orig: f64,
    /// Migration-weighted in-migration Gini, `w_j` = region j's share of
    /// **out**-migration (same cross-weighting as `migration.indices`).
    pub mwg_dest: f64,
    /// `(mwg_orig + mwg_dest) / 2`.
    pub mwg_mean: f64,
    /// Coefficient of variation of all `n²` cells (diagonal as 0):
    /// `sqrt(Σ (m − m̄)² / (L(L−1))) / m̄`, `L = n²`.
    pub cv: f64,
    /// The value migest prints as `cv`, whose code divides by the mean
    /// inside the square root: `sqrt(Σ (m − m̄)² / (L(L−1)) / m̄)` (not scale-free).
    pub cv_as_migest_prints: f64,
    /// Aggregated system-wide CV (Rogers & Sweeney 1998): `Σ_j (in_j/F) CV^in_j +
    /// Σ_i (out_i/F) CV^out_i`, CVs with population s.d. over the `n−1` off-diagonal cells.
    pub acv: f64,
}

fn pairwise_abs_sum(values: &[f64]) -> f64 {
    // Σ_a Σ_b |x_a − x_b| = 2 Σ_k (2k − N + 1) x_(k) on sorted values.
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    2.0 * v.iter().enumerate().map(|(k, x)| (2.0 * k as f64 - n + 1.0) * x).sum::<f64>()
}

fn population_cv(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if mean == 0.0 {
        return 0.0;
    }
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt() / mean
}

/// Connectivity, inequality, Gini and CV indices of a flow table (n ≥ 3).
pub fn connectivity(flows: &Matrix) -> Result<ConnectivityIndices, FlowsError> {
    let m = off_diagonal(flows)?;
    let n = m.rows();
    if n < 3 {
        return Err(FlowsError::InvalidInput("need at least 3 regions".into()));
    }
    let total = m.sum();
    if total <= 0.0 {
        return Err(FlowsError::InvalidInput("no flows".into()));
    }
    let cells: Vec<f64> =
        (0..n).flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j))).map(|c| m[c]).collect();
    let n_flows = cells.len() as f64;
    let connectivity = cells.iter().filter(|v| **v > 0.0).count() as f64 / n_flows;
    let inequality_equal = 0.5 * cells.iter().map(|f| (f / total - 1.0 / n_flows).abs()).sum::<f64>();

    // Quasi-independence fit on rounded flows, as the Poisson GLM does.
    let rounded = m.map(f64::round);
    let fit = ipf2_impl(
        Some(&rounded.row_sums()),
        Some(&rounded.col_sums()),
        &Matrix::filled(n, n, 1.0),
        true,
        &IpfOptions::default(),
    )?
    .table;
    let fit_total = fit.sum();
    let mut inequality_sim = 0.0;
    for i in 0..n {
        for j in 0..n {
            if i != j {
                inequality_sim += (m[(i, j)] / total - fit[(i, j)] / fit_total).abs();
            }
        }
    }
    inequality_sim *= 0.5;

    let all_pairs = pairwise_abs_sum(&cells);
    let gini_total = all_pairs / (2.0 * (n_flows - 1.0) * total);
    let rows: Vec<Vec<f64>> = (0..n).map(|i| (0..n).filter(|&j| j != i).map(|j| m[(i, j)]).collect()).collect();
    let cols: Vec<Vec<f64>> = (0..n).map(|j| (0..n).filter(|&i| i != j).map(|i| m[(i, j)]).collect()).collect();
    let row_pairs: Vec<f64> = rows.iter().map(|r| pairwise_abs_sum(r)).collect();
    let col_pairs: Vec<f64> = cols.iter().map(|c| pairwise_abs_sum(c)).collect();
    let (outflow, inflow) = (m.row_sums(), m.col_sums());
    let nf = n as f64;
    let field_gini = |pairs: f64, margin: f64| if margin > 0.0 { pairs / (2.0 * (nf - 2.0) * margin) } else { 0.0 };
    let mwg_orig = (0..n).map(|i| field_gini(row_pairs[i], outflow[i]) * inflow[i] / total).sum::<f64>() / nf;
    let mwg_dest = (0..n).map(|j| field_gini(col_pairs[j], inflow[j]) * outflow[j] / total).sum::<f64>() / nf;

    let all_cells = m.as_slice();
    let l = all_cells.len() as f64;
    let mean = total / l;
    let ss = all_cells.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (l * (l - 1.0));
    let acv = (0..n).map(|j| inflow[j] / total * population_cv(&cols[j])).sum::<f64>()
        + (0..n).map(|i| outflow[i] / total * population_cv(&rows[i])).sum::<f64>();

    Ok(ConnectivityIndices {
        connectivity,
        inequality_equal,
        inequality_sim,
        gini_total,
        gini_orig_standardized: row_pairs.iter().sum::<f64>() / all_pairs,
        gini_dest_standardized: col_pairs.iter().sum::<f64>() / all_pairs,
        mwg_orig,
        mwg_dest,
        mwg_mean: 0.5 * (mwg_orig + mwg_dest),
        cv: ss.sqrt() / mean,
        cv_as_migest_prints: (ss / mean).sqrt(),
        acv,
    })
}

/// Distance profile of migration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DistanceIndices {
    /// Flow-weighted mean distance `Σ f_ij d_ij / Σ f_ij` over `i ≠ j`.
    pub mean: f64,
    /// Flow-weighted median distance, interpolated (see [`weighted_median`]).
    pub median: f64,
    /// Distance-decay `β` of the doubly constrained gravity model
    /// `E[round(f_ij)] = A_i B_j d_ij^β` (Poisson GLM `flow ~ orig + dest + log(dist)`, `i ≠ j`).
    pub decay: f64,
}

/// Weighted median with linear interpolation between the mid-points of the
/// sorted values' cumulative weights (`c_k − w_k/2`), the convention of R's
/// `matrixStats::weightedMedian(interpolate = TRUE)`. Non-positive weights are dropped.
pub fn weighted_median(values: &[f64], weights: &[f64]) -> Option<f64> {
    let mut pairs: Vec<(f64, f64)> =
        values.iter().zip(weights).filter(|(_, w)| **w > 0.0).map(|(v, w)| (*v, *w)).collect();
    if pairs.is_empty() {
        return None;
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    let mut cumulative = 0.0;
    let mut previous_mid = 0.0;
    for (k, &(x, w)) in pairs.iter().enumerate() {
        cumulative += w / total;
        let mid = cumulative - w / total / 2.0;
        if mid >= 0.5 {
            if k == 0 {
                return Some(x);
            }
            let x_prev = pairs[k - 1].0;
            return Some(x + (0.5 - mid) / (mid - previous_mid) * (x - x_prev));
        }
        previous_mid = mid;
    }
    pairs.last().map(|p| p.0)
}

/// Mean and median migration distance and distance decay.
pub fn distance(flows: &Matrix, distances: &Matrix) -> Result<DistanceIndices, FlowsError> {
    let m = off_diagonal(flows)?;
    m.same_shape(distances)?;
    let n = m.rows();
    let mut values = Vec::with_capacity(n * n);
    let mut weights = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let d = distances[(i, j)];
                if !d.is_finite() || d <= 0.0 {
                    return Err(FlowsError::InvalidInput(format!("distance {i}→{j} is {d}; must be > 0")));
                }
                values.push(d);
                weights.push(m[(i, j)]);
            }
        }
    }
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return Err(FlowsError::InvalidInput("no flows".into()));
    }
    let mean = values.iter().zip(&weights).map(|(d, w)| d * w).sum::<f64>() / total;
    let median = weighted_median(&values, &weights).unwrap_or(f64::NAN);
    Ok(DistanceIndices { mean, median, decay: distance_decay(&m, distances)? })
}

/// Fits `β` by solving the Poisson score equation
/// `Σ f̂_ij(β) ln d_ij = Σ f_ij ln d_ij`, where `f̂(β)` is the zero-diagonal
/// IPF of the seed `d^β` to the observed margins (the orig/dest fixed
/// effects). The left side increases in `β`, so bisection is safe.
fn distance_decay(m: &Matrix, distances: &Matrix) -> Result<f64, FlowsError> {
    let n = m.rows();
    let observed = m.map(f64::round);
    let rows = observed.row_sums();
    let cols = observed.col_sums();
    let log_d = distances.map(|d| if d > 0.0 { d.ln() } else { 0.0 });
    let target: f64 =
        (0..n).flat_map(|i| (0..n).map(move |j| (i, j))).filter(|(i, j)| i != j).map(|c| observed[c] * log_d[c]).sum();
    let options = IpfOptions { tolerance: 1e-13, max_iterations: 100_000 };
    let score = |beta: f64| -> Result<f64, FlowsError> {
        let seed = log_d.map(|l| (beta * l).exp());
        let fit = ipf2_impl(Some(&rows), Some(&cols), &seed, true, &options)?.table;
        Ok((0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .filter(|(i, j)| i != j)
            .map(|c| fit[c] * log_d[c])
            .sum::<f64>()
            - target)
    };
    let (mut lo, mut hi) = (-20.0_f64, 20.0_f64);
    if score(lo)? > 0.0 || score(hi)? < 0.0 {
        return Err(FlowsError::Infeasible("distance decay outside [−20, 20]".into()));
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if score(mid)? > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
        if hi - lo < 1e-10 {
            break;
        }
    }
    Ok(0.5 * (lo + hi))
}
