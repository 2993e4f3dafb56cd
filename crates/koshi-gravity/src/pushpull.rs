//! Push–pull factors from origin/destination fixed effects and counterfactual predictions.

use crate::error::{GravityError, Result};
use crate::frame::regressors_at;
use crate::numeric::normal_quantile;
use crate::result::GravityFit;
use crate::table::DataTable;

/// One place's fixed effect, ranked (1 = strongest).
#[derive(Debug, Clone, PartialEq)]
pub struct RankedEffect {
    pub rank: usize,
    pub label: String,
    /// Fixed-effect estimate on the log scale.
    pub estimate: f64,
    /// exp(estimate − max estimate): strength relative to the strongest place.
    pub relative: f64,
}

/// Origins' push (origin FE) and destinations' pull (destination FE), strongest first.
#[derive(Debug, Clone, PartialEq)]
pub struct PushPull {
    pub push: Vec<RankedEffect>,
    pub pull: Vec<RankedEffect>,
}

fn ranked(fit: &GravityFit, name: &str) -> Result<Vec<RankedEffect>> {
    let fe = fit.fixed_effect(name).ok_or_else(|| {
        GravityError::Invalid(format!(
            "the fit has no fixed effect `{name}` (fit with fixed effects enabled and `| {name}`)"
        ))
    })?;
    let mut order: Vec<usize> = (0..fe.values.len()).collect();
    order.sort_by(|&a, &b| fe.values[b].total_cmp(&fe.values[a]));
    let top = order.first().map(|&i| fe.values[i]).unwrap_or(0.0);
    Ok(order
        .iter()
        .enumerate()
        .map(|(rank, &i)| RankedEffect {
            rank: rank + 1,
            label: fe.labels[i].clone(),
            estimate: fe.values[i],
            relative: (fe.values[i] - top).exp(),
        })
        .collect())
}

/// Push and pull rankings from a fit with origin and destination fixed effects.
/// The ranking does not depend on how the fixed effects are normalised.
pub fn push_pull(fit: &GravityFit, origin_fe: &str, destination_fe: &str) -> Result<PushPull> {
    Ok(PushPull { push: ranked(fit, origin_fe)?, pull: ranked(fit, destination_fe)? })
}

/// Predicted flows under a scenario, holding the fixed effects at their estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct Counterfactual {
    /// Input rows (same as the fit's estimation sample).
    pub rows: Vec<usize>,
    pub baseline: Vec<f64>,
    pub scenario: Vec<f64>,
    pub total_baseline: f64,
    pub total_scenario: f64,
    /// 100·(total_scenario / total_baseline − 1).
    pub percent_change: f64,
    /// Delta-method standard error of `percent_change` (coefficient uncertainty only).
    pub percent_change_se: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// Re-predicts the fitted flows with the regressors taken from `scenario` instead of `baseline`
/// (same rows, e.g. `baseline.with_numeric("dist", new_distances)`). Poisson fits only.
pub fn counterfactual(
    fit: &GravityFit,
    baseline: &DataTable,
    scenario: &DataTable,
    conf_level: f64,
) -> Result<Counterfactual> {
    counterfactual_within(fit, baseline, scenario, conf_level, None)
}

/// As [`counterfactual`], with totals, percent change and its standard error over the
/// estimation rows where `mask` is true (aligned with `fit.rows`), e.g. one corridor.
pub fn counterfactual_within(
    fit: &GravityFit,
    baseline: &DataTable,
    scenario: &DataTable,
    conf_level: f64,
    mask: Option<&[bool]>,
) -> Result<Counterfactual> {
    if fit.estimator == crate::result::Estimator::OlsLog {
        return Err(GravityError::Invalid("counterfactuals need a Poisson fit".into()));
    }
    if baseline.nrows() != scenario.nrows() {
        return Err(GravityError::Invalid("baseline and scenario tables differ in length".into()));
    }
    let n = fit.rows.len();
    if mask.is_some_and(|m| m.len() != n) {
        return Err(GravityError::Invalid("mask length differs from the estimation sample".into()));
    }
    let inside = |i: usize| mask.is_none_or(|m| m[i]);
    let names: Vec<String> = fit.coefficients.iter().map(|c| c.name.clone()).collect();
    let x0 = regressors_at(baseline, &fit.formula, &names, &fit.rows)?;
    let x1 = regressors_at(scenario, &fit.formula, &names, &fit.rows)?;
    let beta: Vec<f64> = fit.coefficients.iter().map(|c| c.estimate).collect();
    let mut scen = Vec::with_capacity(n);
    for i in 0..n {
        let delta: f64 = (0..beta.len()).map(|j| (x1[j][i] - x0[j][i]) * beta[j]).sum();
        if !delta.is_finite() {
            return Err(GravityError::Invalid(format!(
                "scenario value missing or invalid at input row {}",
                fit.rows[i]
            )));
        }
        scen.push(fit.fitted[i] * delta.exp());
    }
    let t0: f64 = (0..n).filter(|&i| inside(i)).map(|i| fit.fitted[i]).sum();
    let t1: f64 = (0..n).filter(|&i| inside(i)).map(|i| scen[i]).sum();
    if !(t0 > 0.0) {
        return Err(GravityError::Invalid("no fitted flow in the selected rows".into()));
    }
    let ratio = t1 / t0;
    // d ratio / dβ_j = ratio · (Σ μ¹x¹_j / T¹ − Σ μ⁰x⁰_j / T⁰)
    let grad: Vec<f64> = (0..beta.len())
        .map(|j| {
            let a: f64 = (0..n).filter(|&i| inside(i)).map(|i| scen[i] * x1[j][i]).sum::<f64>() / t1;
            let b: f64 = (0..n).filter(|&i| inside(i)).map(|i| fit.fitted[i] * x0[j][i]).sum::<f64>() / t0;
            100.0 * ratio * (a - b)
        })
        .collect();
    let mut var = 0.0;
    for a in 0..grad.len() {
        for b in 0..grad.len() {
            var += grad[a] * fit.vcov.get(a, b) * grad[b];
        }
    }
    let se = var.max(0.0).sqrt();
    let pct = 100.0 * (ratio - 1.0);
    let zc = normal_quantile(0.5 + conf_level / 2.0);
    Ok(Counterfactual {
        rows: fit.rows.clone(),
        baseline: fit.fitted.clone(),
        scenario: scen,
        total_baseline: t0,
        total_scenario: t1,
        percent_change: pct,
        percent_change_se: se,
        ci_low: pct - zc * se,
        ci_high: pct + zc * se,
    })
}
