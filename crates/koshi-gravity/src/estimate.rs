//! Estimation: IRLS for Poisson with absorbed fixed effects, OLS on logs, dense Poisson GLM.

use crate::error::{GravityError, Result};
use crate::fe::{Demeaner, Factor};
use crate::formula::{FeTerm, Formula, SmallSample, VcovSpec};
use crate::frame::{FeHandling, ModelFrame, build_frame};
use crate::numeric::{
    SymMatrix, cholesky, cholesky_inverse, cholesky_solve, independent_columns, ln_gamma, normal_quantile, submatrix,
    two_sided_p, weighted_gram,
};
use crate::result::{Coefficient, DropCounts, Estimator, FixedEffectEstimates, GravityFit};
use crate::separation::{DropReason, RectifierStatus, SeparationOptions, find_drops};
use crate::table::DataTable;
use crate::vcov::{self, VcovInput};

/// Settings for [`fit`]. `Default` gives ppmlhdfe/fixest-like behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// None: clustered by the first fixed effect (fixest's default) or hetero without fixed effects.
    pub vcov: Option<VcovSpec>,
    pub small_sample: SmallSample,
    /// IRLS stops when |ΔD| / (0.1 + |D|) < tol.
    pub tol: f64,
    pub max_iter: usize,
    /// Final relative tolerance of the fixed-effect projection (looser while IRLS is far off).
    pub inner_tol: f64,
    pub inner_max_iter: usize,
    pub separation: SeparationOptions,
    /// Columns whose residual norm (after the fixed effects and earlier columns) is below this
    /// fraction of their own norm are dropped as collinear.
    pub collinearity_tol: f64,
    /// Recover fixed-effect estimates (needed for push–pull).
    pub fixed_effects: bool,
    pub conf_level: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            vcov: None,
            small_sample: SmallSample::Fixest,
            tol: 1e-10,
            max_iter: 100,
            inner_tol: 1e-10,
            inner_max_iter: 50_000,
            separation: SeparationOptions::default(),
            collinearity_tol: 1e-9,
            fixed_effects: true,
            conf_level: 0.95,
        }
    }
}

/// Parses `formula` and fits PPML with absorbed fixed effects.
pub fn ppml(table: &DataTable, formula: &str, options: &FitOptions) -> Result<GravityFit> {
    fit(table, &Formula::parse(formula)?, Estimator::Ppml, options)
}

/// Parses `formula` and fits OLS of log(y) with absorbed fixed effects.
pub fn ols_log(table: &DataTable, formula: &str, options: &FitOptions) -> Result<GravityFit> {
    fit(table, &Formula::parse(formula)?, Estimator::OlsLog, options)
}

/// Parses `formula` and fits a dense Poisson GLM (fixed effects become dummies).
pub fn poisson_glm(table: &DataTable, formula: &str, options: &FitOptions) -> Result<GravityFit> {
    fit(table, &Formula::parse(formula)?, Estimator::PoissonGlm, options)
}

/// Result of the IRLS / least-squares core on the estimation sample.
struct CoreFit {
    beta: Vec<f64>,
    eta: Vec<f64>,
    fitted: Vec<f64>,
    x_tilde: Vec<Vec<f64>>,
    bread: SymMatrix,
    score_weight: Vec<f64>,
    deviance: f64,
    iterations: usize,
    converged: bool,
    kept: Vec<usize>,
    dispersion: f64,
}

/// Fits `formula` on `table` with the chosen estimator.
pub fn fit(table: &DataTable, formula: &Formula, estimator: Estimator, options: &FitOptions) -> Result<GravityFit> {
    let fe_handling = if estimator == Estimator::PoissonGlm { FeHandling::Dummies } else { FeHandling::Absorb };
    let absorbed = fe_handling == FeHandling::Absorb && !formula.fixed_effects.is_empty();
    let vcov_spec = match &options.vcov {
        Some(v) => v.clone(),
        None if absorbed => VcovSpec::Cluster(vec![formula.fixed_effects[0].clone()]),
        None => VcovSpec::Hetero,
    };
    let cluster_terms: Vec<FeTerm> = match &vcov_spec {
        VcovSpec::Cluster(t) => t.clone(),
        _ => Vec::new(),
    };
    let frame = build_frame(table, formula, &cluster_terms, fe_handling)?;
    let poisson = estimator != Estimator::OlsLog;
    if poisson && frame.y.iter().any(|&v| v < 0.0) {
        return Err(GravityError::NegativeResponse);
    }

    // Rows to drop before estimation.
    let mut dropped_rows: Vec<(usize, DropReason)> =
        frame.missing_rows.iter().map(|&r| (r, DropReason::Missing)).collect();
    let mut keep: Vec<usize> = Vec::with_capacity(frame.y.len());
    let mut pre: Vec<bool> = vec![true; frame.y.len()];
    if estimator == Estimator::OlsLog {
        for (i, &v) in frame.y.iter().enumerate() {
            if !(v > 0.0) {
                pre[i] = false;
                dropped_rows.push((frame.rows[i], DropReason::NonPositiveResponse));
            }
        }
    }
    let pre_idx: Vec<usize> = (0..frame.y.len()).filter(|&i| pre[i]).collect();
    let sub = subset_or_keep(frame, &pre_idx);
    let sep_opts = if estimator == Estimator::PoissonGlm {
        // Dummies are regressors here, so only the rectifier applies.
        SeparationOptions { fixed_effects: false, drop_singletons: false, ..options.separation }
    } else {
        options.separation
    };
    let (reasons, rectifier_status) = find_drops(&sub.y, &sub.x, &sub.fes, poisson, &sep_opts);
    let mut warnings = Vec::new();
    match rectifier_status {
        RectifierStatus::Inconclusive => warnings.push(format!(
            "separation check (iterated rectifier) inconclusive after {} iterations; no row dropped by it",
            sep_opts.rectifier_options.max_iter
        )),
        RectifierStatus::SkippedTooLarge => warnings.push(format!(
            "separation by regressors not checked (more than {} observations; only all-zero fixed-effect groups were dropped)",
            sep_opts.rectifier_max_rows.unwrap_or(0)
        )),
        RectifierStatus::NotNeeded | RectifierStatus::Concluded => {}
    }
    for (k, r) in reasons.iter().enumerate() {
        match r {
            Some(reason) => dropped_rows.push((sub.rows[k], *reason)),
            None => keep.push(k),
        }
    }
    let mut est = subset_or_keep(sub, &keep);
    if est.y.is_empty() {
        return Err(GravityError::NoObservations);
    }
    if estimator == Estimator::OlsLog {
        est.y.iter_mut().for_each(|v| *v = v.ln());
    }
    dropped_rows.sort_unstable_by_key(|(r, _)| *r);
    let mut dropped = DropCounts::default();
    for (_, r) in &dropped_rows {
        match r {
            DropReason::Missing => dropped.missing += 1,
            DropReason::FixedEffectAllZero => dropped.fixed_effect_all_zero += 1,
            DropReason::Singleton => dropped.singletons += 1,
            DropReason::Separated => dropped.separated += 1,
            DropReason::NonPositiveResponse => dropped.non_positive_response += 1,
        }
    }

    let core = if poisson { irls_poisson(&est, options)? } else { least_squares(&est, options)? };
    if !core.converged {
        warnings.push(format!("did not converge in {} iterations", core.iterations));
    }

    let names: Vec<String> = core.kept.iter().map(|&j| est.x_names[j].clone()).collect();
    let collinear: Vec<String> =
        (0..est.x_names.len()).filter(|j| !core.kept.contains(j)).map(|j| est.x_names[j].clone()).collect();

    let (vcov_matrix, vcov_k) = vcov::compute(
        &vcov_spec,
        options.small_sample,
        &VcovInput {
            bread: &core.bread,
            x_tilde: &core.x_tilde,
            score_weight: &core.score_weight,
            dispersion: core.dispersion,
            fixed_effects: &est.fes,
            clusters: &est.clusters,
        },
    );
    let zcrit = normal_quantile(0.5 + options.conf_level / 2.0);
    let coefficients: Vec<Coefficient> = names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let b = core.beta[j];
            let se = vcov_matrix.get(j, j).max(0.0).sqrt();
            let z = b / se;
            Coefficient {
                name: name.clone(),
                estimate: b,
                std_error: se,
                z,
                p_value: two_sided_p(z),
                ci_low: b - zcrit * se,
                ci_high: b + zcrit * se,
            }
        })
        .collect();

    let n = est.y.len() as f64;
    let n_params = vcov::n_params(names.len(), &est.fes);
    let squared_correlation = {
        let obs: &[f64] = &est.y;
        let (my, mf) = (mean(obs), mean(&core.fitted));
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (a, b) in obs.iter().zip(&core.fitted) {
            sxy += (a - my) * (b - mf);
            sxx += (a - my) * (a - my);
            syy += (b - mf) * (b - mf);
        }
        sxy * sxy / (sxx * syy)
    };
    let (log_likelihood, null_log_likelihood, null_deviance, pseudo_r2, adj_pseudo_r2) = if poisson {
        let ybar = mean(&est.y);
        let ll: f64 = est.y.iter().zip(&core.fitted).map(|(&y, &m)| poisson_ll(y, m)).sum();
        let ll0: f64 = est.y.iter().map(|&y| poisson_ll(y, ybar)).sum();
        let dev0 = poisson_deviance(&est.y, &vec![ybar; est.y.len()]);
        (ll, ll0, dev0, 1.0 - ll / ll0, 1.0 - (ll - n_params as f64) / ll0)
    } else {
        let ybar = mean(&est.y);
        let tss: f64 = est.y.iter().map(|v| (v - ybar) * (v - ybar)).sum();
        let rss = core.deviance;
        let ll = -0.5 * n * ((2.0 * std::f64::consts::PI).ln() + (rss / n).ln() + 1.0);
        let ll0 = -0.5 * n * ((2.0 * std::f64::consts::PI).ln() + (tss / n).ln() + 1.0);
        let r2 = 1.0 - rss / tss;
        (ll, ll0, tss, r2, 1.0 - (1.0 - r2) * (n - 1.0) / (n - n_params as f64))
    };

    let fixed_effects = if options.fixed_effects && !est.fes.is_empty() {
        recover_fixed_effects(&est, &core, options)
    } else {
        Vec::new()
    };
    Ok(GravityFit {
        estimator,
        formula: formula.clone(),
        coefficients,
        vcov: vcov_matrix,
        vcov_label: vcov_spec.to_string(),
        small_sample: options.small_sample,
        vcov_k,
        n_input: table.nrows(),
        n_obs: est.y.len(),
        dropped,
        dropped_rows,
        collinear,
        iterations: core.iterations,
        converged: core.converged,
        deviance: core.deviance,
        null_deviance,
        log_likelihood,
        null_log_likelihood,
        pseudo_r2,
        adj_pseudo_r2,
        squared_correlation,
        n_params,
        fixed_effects,
        warnings,
        rows: est.rows.clone(),
        fitted: core.fitted,
        linear_predictor: core.eta,
        response: est.y,
    })
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn poisson_ll(y: f64, mu: f64) -> f64 {
    let log_mu = if mu > 0.0 { mu.ln() } else { f64::NEG_INFINITY };
    let a = if y > 0.0 { y * log_mu } else { 0.0 };
    a - mu - ln_gamma(y + 1.0)
}

fn poisson_deviance(y: &[f64], mu: &[f64]) -> f64 {
    2.0 * y.iter().zip(mu).map(|(&y, &m)| if y > 0.0 { y * (y / m).ln() - (y - m) } else { m }).sum::<f64>()
}

/// Subset without copying when every row is kept (the common case on large panels).
fn subset_or_keep(frame: ModelFrame, idx: &[usize]) -> ModelFrame {
    if idx.len() == frame.y.len() {
        let mut f = frame;
        f.missing_rows = Vec::new();
        f
    } else {
        subset_frame(&frame, idx)
    }
}

pub(crate) fn subset_frame(frame: &ModelFrame, idx: &[usize]) -> ModelFrame {
    ModelFrame {
        y: idx.iter().map(|&i| frame.y[i]).collect(),
        x: frame.x.iter().map(|c| idx.iter().map(|&i| c[i]).collect()).collect(),
        x_names: frame.x_names.clone(),
        fes: frame.fes.iter().map(|f| f.subset(idx)).collect(),
        clusters: frame.clusters.iter().map(|f| f.subset(idx)).collect(),
        rows: idx.iter().map(|&i| frame.rows[i]).collect(),
        missing_rows: Vec::new(),
    }
}

/// Projects every regressor with the given weights, warm-started from `alphas`.
fn project_columns(
    dm: &Demeaner,
    x: &[Vec<f64>],
    alphas: &mut [Vec<f64>],
    out: &mut [Vec<f64>],
    tol: f64,
    max_iter: usize,
) -> bool {
    let cols: Vec<&[f64]> = x.iter().map(|c| c.as_slice()).collect();
    dm.project_many(&cols, alphas, out, tol, max_iter).iter().all(|s| s.converged)
}

/// Projects the working response and the regressors together (one pass over the codes).
#[allow(clippy::too_many_arguments)]
fn project_with_response(
    dm: &Demeaner,
    z: &[f64],
    x: &[Vec<f64>],
    alpha_z: &mut Vec<f64>,
    alpha_x: &mut [Vec<f64>],
    z_tilde: &mut Vec<f64>,
    x_tilde: &mut [Vec<f64>],
    tol: f64,
    max_iter: usize,
) -> crate::fe::ProjectionStats {
    let mut cols: Vec<&[f64]> = vec![z];
    cols.extend(x.iter().map(|c| c.as_slice()));
    let mut alphas: Vec<Vec<f64>> =
        std::iter::once(std::mem::take(alpha_z)).chain(alpha_x.iter_mut().map(std::mem::take)).collect();
    let mut outs: Vec<Vec<f64>> =
        std::iter::once(std::mem::take(z_tilde)).chain(x_tilde.iter_mut().map(std::mem::take)).collect();
    let stats = dm.project_many(&cols, &mut alphas, &mut outs, tol, max_iter);
    let mut a_iter = alphas.into_iter();
    let mut o_iter = outs.into_iter();
    *alpha_z = a_iter.next().unwrap_or_default();
    *z_tilde = o_iter.next().unwrap_or_default();
    for ((a, o), (ad, od)) in a_iter.zip(o_iter).zip(alpha_x.iter_mut().zip(x_tilde.iter_mut())) {
        *ad = a;
        *od = o;
    }
    stats[0]
}

/// Chooses a linearly independent subset of regressors given the fixed effects.
fn independent_after_projection(x: &[Vec<f64>], x_tilde: &[Vec<f64>], w: Option<&[f64]>, tol: f64) -> Vec<usize> {
    let candidates: Vec<usize> = (0..x.len())
        .filter(|&j| {
            let raw = crate::numeric::weighted_dot(&x[j], &x[j], w);
            let res = crate::numeric::weighted_dot(&x_tilde[j], &x_tilde[j], w);
            raw > 0.0 && res > tol * raw
        })
        .collect();
    let gram = weighted_gram(&candidates.iter().map(|&j| x_tilde[j].clone()).collect::<Vec<_>>(), w);
    independent_columns(&gram, tol).into_iter().map(|k| candidates[k]).collect()
}

fn irls_poisson(est: &ModelFrame, opts: &FitOptions) -> Result<CoreFit> {
    let n = est.y.len();
    let y = &est.y;
    let ybar = mean(y);
    let mut mu: Vec<f64> = y.iter().map(|&v| (v + ybar) / 2.0).collect();
    let mut eta: Vec<f64> = mu.iter().map(|m| m.ln()).collect();
    let n_fe_coef: usize = est.fes.iter().map(Factor::n_levels).sum();

    // Collinearity is decided once, with the starting weights.
    let (kept, mut alpha_x) = {
        let dm = Demeaner::new(&est.fes, Some(&mu), n);
        let mut alphas = vec![vec![0.0; n_fe_coef]; est.x.len()];
        let mut xt = vec![vec![0.0; n]; est.x.len()];
        // The screen needs x̃ to ~1e-6 relative only; IRLS refines from this warm start.
        project_columns(&dm, &est.x, &mut alphas, &mut xt, opts.inner_tol.max(1e-7), opts.inner_max_iter);
        let kept = independent_after_projection(&est.x, &xt, Some(&mu), opts.collinearity_tol);
        let alphas: Vec<Vec<f64>> = kept.iter().map(|&j| alphas[j].clone()).collect();
        (kept, alphas)
    };
    let x: Vec<Vec<f64>> = kept.iter().map(|&j| est.x[j].clone()).collect();
    let p = x.len();
    if p == 0 {
        return Err(GravityError::NoRegressors);
    }
    let mut alpha_z = vec![0.0; n_fe_coef];
    let mut x_tilde = vec![vec![0.0; n]; p];
    let mut z = vec![0.0; n];
    let mut z_tilde = vec![0.0; n];
    let mut beta = vec![0.0; p];
    let mut deviance = poisson_deviance(y, &mu);
    // Loose projections while far from the optimum, tightened as the deviance settles.
    let mut inner_tol = opts.inner_tol.max(1e-5);
    let mut converged = false;
    let mut iterations = 0;
    for iter in 1..=opts.max_iter {
        iterations = iter;
        for i in 0..n {
            z[i] = eta[i] + (y[i] - mu[i]) / mu[i];
        }
        let dm = Demeaner::new(&est.fes, Some(&mu), n);
        project_with_response(
            &dm,
            &z,
            &x,
            &mut alpha_z,
            &mut alpha_x,
            &mut z_tilde,
            &mut x_tilde,
            inner_tol,
            opts.inner_max_iter,
        );
        let gram = weighted_gram(&x_tilde, Some(&mu));
        let chol = cholesky(&gram).ok_or_else(|| GravityError::Numerical("X'WX is not positive definite".into()))?;
        let rhs: Vec<f64> = x_tilde.iter().map(|c| crate::numeric::weighted_dot(c, &z_tilde, Some(&mu))).collect();
        let beta_new = cholesky_solve(&chol, p, &rhs);
        // η = z − residual of the weighted regression of z̃ on X̃.
        let mut eta_new: Vec<f64> = z.iter().zip(&z_tilde).map(|(zi, zt)| zi - zt).collect();
        for (j, col) in x_tilde.iter().enumerate() {
            let b = beta_new[j];
            eta_new.iter_mut().zip(col).for_each(|(e, c)| *e += b * c);
        }
        let mut mu_new: Vec<f64> = eta_new.iter().map(|e| e.clamp(-700.0, 700.0).exp()).collect();
        let mut dev_new = poisson_deviance(y, &mu_new);
        // Step-halving when the deviance blows up.
        let mut halvings = 0;
        while (!dev_new.is_finite() || (iter > 1 && dev_new > deviance * (1.0 + 1e-6) + 1e-10)) && halvings < 30 {
            for (e, old) in eta_new.iter_mut().zip(&eta) {
                *e = 0.5 * (*e + old);
            }
            mu_new = eta_new.iter().map(|e| e.clamp(-700.0, 700.0).exp()).collect();
            dev_new = poisson_deviance(y, &mu_new);
            halvings += 1;
        }
        let crit = (dev_new - deviance).abs() / (0.1 + dev_new.abs());
        beta = beta_new;
        eta = eta_new;
        mu = mu_new;
        deviance = dev_new;
        if crit < opts.tol && inner_tol <= opts.inner_tol {
            converged = true;
            break;
        }
        inner_tol = (crit * 1e-3).clamp(opts.inner_tol, inner_tol);
    }
    // Variance pieces at the final weights.
    let dm = Demeaner::new(&est.fes, Some(&mu), n);
    project_columns(&dm, &x, &mut alpha_x, &mut x_tilde, opts.inner_tol, opts.inner_max_iter);
    let gram = weighted_gram(&x_tilde, Some(&mu));
    let chol = cholesky(&gram).ok_or_else(|| GravityError::Numerical("X'WX is not positive definite".into()))?;
    let bread = cholesky_inverse(&chol, p);
    let score_weight: Vec<f64> = y.iter().zip(&mu).map(|(a, b)| a - b).collect();
    Ok(CoreFit {
        beta,
        eta,
        fitted: mu,
        x_tilde,
        bread,
        score_weight,
        deviance,
        iterations,
        converged,
        kept,
        dispersion: 1.0,
    })
}

fn least_squares(est: &ModelFrame, opts: &FitOptions) -> Result<CoreFit> {
    let n = est.y.len();
    let n_fe_coef: usize = est.fes.iter().map(Factor::n_levels).sum();
    let dm = Demeaner::new(&est.fes, None, n);
    let mut alphas = vec![vec![0.0; n_fe_coef]; est.x.len()];
    let mut xt_all = vec![vec![0.0; n]; est.x.len()];
    project_columns(&dm, &est.x, &mut alphas, &mut xt_all, opts.inner_tol, opts.inner_max_iter);
    let kept = independent_after_projection(&est.x, &xt_all, None, opts.collinearity_tol);
    if kept.is_empty() {
        return Err(GravityError::NoRegressors);
    }
    let x_tilde: Vec<Vec<f64>> = kept.iter().map(|&j| xt_all[j].clone()).collect();
    let mut alpha_y = vec![0.0; n_fe_coef];
    let mut y_tilde = vec![0.0; n];
    let stats = dm.project(&est.y, &mut alpha_y, &mut y_tilde, opts.inner_tol, opts.inner_max_iter);
    let p = x_tilde.len();
    let gram_all = weighted_gram(&xt_all, None);
    let gram = submatrix(&gram_all, &kept);
    let chol = cholesky(&gram).ok_or_else(|| GravityError::Numerical("X'X is not positive definite".into()))?;
    let rhs: Vec<f64> = x_tilde.iter().map(|c| crate::numeric::weighted_dot(c, &y_tilde, None)).collect();
    let beta = cholesky_solve(&chol, p, &rhs);
    let mut resid = y_tilde.clone();
    for (j, col) in x_tilde.iter().enumerate() {
        resid.iter_mut().zip(col).for_each(|(r, c)| *r -= beta[j] * c);
    }
    let fitted: Vec<f64> = est.y.iter().zip(&resid).map(|(y, e)| y - e).collect();
    let rss: f64 = resid.iter().map(|e| e * e).sum();
    let bread = cholesky_inverse(&chol, p);
    Ok(CoreFit {
        beta,
        eta: fitted.clone(),
        fitted,
        x_tilde,
        bread,
        score_weight: resid,
        deviance: rss,
        iterations: stats.iterations,
        converged: stats.converged,
        kept,
        // RSS/(n−1): the fixest iid factor (n−1)/(n−K) then yields the usual σ² = RSS/(n−K).
        dispersion: rss / (n as f64 - 1.0),
    })
}

/// Solves D α = η − Xβ for the fixed-effect estimates and normalises them.
fn recover_fixed_effects(est: &ModelFrame, core: &CoreFit, opts: &FitOptions) -> Vec<FixedEffectEstimates> {
    let n = est.y.len();
    let mut target = core.eta.clone();
    for (j, &col) in core.kept.iter().enumerate() {
        let b = core.beta[j];
        target.iter_mut().zip(&est.x[col]).for_each(|(t, x)| *t -= b * x);
    }
    let dm = Demeaner::new(&est.fes, None, n);
    let mut alpha = vec![0.0; dm.n_coef()];
    let mut resid = vec![0.0; n];
    dm.project(&target, &mut alpha, &mut resid, (opts.inner_tol * 1e-2).max(1e-14), opts.inner_max_iter * 4);
    let mut out = Vec::with_capacity(est.fes.len());
    let mut offset = 0;
    let mut shift_total = 0.0;
    for (k, f) in est.fes.iter().enumerate() {
        let mut values = alpha[offset..offset + f.n_levels()].to_vec();
        if k > 0 {
            let shift = values[0];
            values.iter_mut().for_each(|v| *v -= shift);
            shift_total += shift;
        }
        offset += f.n_levels();
        out.push(FixedEffectEstimates { name: f.name.clone(), labels: f.labels.clone(), values });
    }
    if let Some(first) = out.first_mut() {
        first.values.iter_mut().for_each(|v| *v += shift_total);
    }
    out
}
