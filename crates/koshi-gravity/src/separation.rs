//! Existence of the Poisson MLE: observations in all-zero fixed-effect groups, singletons, and
//! separation by regressors + fixed effects (iterated rectifier of Correia, Guimarães & Zylkin 2019).

use crate::fe::{Demeaner, Factor};
use crate::numeric::{cholesky_solve, independent_columns_factor, weighted_gram};

/// Why an input row was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// A needed value is missing or invalid (e.g. log of a non-positive number).
    Missing,
    /// Every observation of one of its fixed-effect groups has y = 0 (Poisson only).
    FixedEffectAllZero,
    /// Its fixed-effect group has a single observation.
    Singleton,
    /// Separated by a combination of regressors and fixed effects (its fitted mean goes to 0).
    Separated,
    /// Response not positive, so its log is undefined (OLS on logs).
    NonPositiveResponse,
}

/// Settings of the iterated rectifier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RectifierOptions {
    /// Values of the fitted certificate below this are treated as zero.
    pub zero_tol: f64,
    /// Weight ratio that pins the certificate to zero on y > 0 rows.
    pub pin_weight: f64,
    pub max_iter: usize,
}

impl Default for RectifierOptions {
    fn default() -> Self {
        Self { zero_tol: 1e-6, pin_weight: 1e7, max_iter: 200 }
    }
}

/// Which checks to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeparationOptions {
    /// Drop observations in fixed-effect groups whose y are all zero.
    pub fixed_effects: bool,
    /// Iterated rectifier on regressors + fixed effects.
    pub rectifier: bool,
    /// Skip the rectifier (with a warning in the fit) above this many observations.
    /// `None` (the default) always runs it: on the million-row benchmark panel it costs a
    /// fraction of the PPML fit itself.
    pub rectifier_max_rows: Option<usize>,
    pub drop_singletons: bool,
    pub rectifier_options: RectifierOptions,
}

impl Default for SeparationOptions {
    fn default() -> Self {
        Self {
            fixed_effects: true,
            rectifier: true,
            rectifier_max_rows: None,
            drop_singletons: true,
            rectifier_options: RectifierOptions::default(),
        }
    }
}

/// Outcome of the rectifier stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RectifierStatus {
    NotNeeded,
    Concluded,
    Inconclusive,
    SkippedTooLarge,
}

/// Returns, for each frame row, why it is dropped (None = kept), and what the rectifier did.
pub(crate) fn find_drops(
    y: &[f64],
    x: &[Vec<f64>],
    fes: &[Factor],
    poisson: bool,
    opts: &SeparationOptions,
) -> (Vec<Option<DropReason>>, RectifierStatus) {
    let n = y.len();
    let mut reason: Vec<Option<DropReason>> = vec![None; n];
    let mut active: Vec<usize> = (0..n).collect();
    let mut status = RectifierStatus::NotNeeded;
    loop {
        // Fixed-effect based drops, iterated because each drop can create new ones.
        loop {
            let mut changed = false;
            for f in fes {
                let mut count = vec![0u32; f.n_levels()];
                let mut ysum = vec![0.0f64; f.n_levels()];
                for &i in &active {
                    let c = f.codes[i] as usize;
                    count[c] += 1;
                    ysum[c] += y[i];
                }
                for &i in &active {
                    if reason[i].is_some() {
                        continue;
                    }
                    let c = f.codes[i] as usize;
                    if poisson && opts.fixed_effects && ysum[c] == 0.0 {
                        reason[i] = Some(DropReason::FixedEffectAllZero);
                        changed = true;
                    } else if opts.drop_singletons && count[c] == 1 {
                        reason[i] = Some(DropReason::Singleton);
                        changed = true;
                    }
                }
                active.retain(|&i| reason[i].is_none());
            }
            if !changed {
                break;
            }
        }
        if !(poisson && opts.rectifier) || active.is_empty() || !active.iter().any(|&i| y[i] == 0.0) {
            break;
        }
        if opts.rectifier_max_rows.is_some_and(|m| active.len() > m) {
            status = RectifierStatus::SkippedTooLarge;
            break;
        }
        let ys: Vec<f64> = active.iter().map(|&i| y[i]).collect();
        let xs: Vec<Vec<f64>> = x.iter().map(|c| active.iter().map(|&i| c[i]).collect()).collect();
        let fs: Vec<Factor> = fes.iter().map(|f| f.subset(&active)).collect();
        let Some(separated) = rectifier_separation(&ys, &xs, &fs, &opts.rectifier_options) else {
            status = RectifierStatus::Inconclusive;
            break;
        };
        status = RectifierStatus::Concluded;
        let mut any = false;
        for (k, &i) in active.iter().enumerate() {
            if separated[k] {
                reason[i] = Some(DropReason::Separated);
                any = true;
            }
        }
        if !any {
            break;
        }
        active.retain(|&i| reason[i].is_none());
    }
    (reason, status)
}

/// Iterated rectifier: repeatedly regress u on (X, FE) with y > 0 rows pinned to zero, replacing
/// u by max(fitted, 0) on y = 0 rows. At the fixed point the fit is a non-negative certificate
/// whose positive entries are the separated observations.
pub(crate) fn rectifier_separation(
    y: &[f64],
    x: &[Vec<f64>],
    fes: &[Factor],
    opts: &RectifierOptions,
) -> Option<Vec<bool>> {
    let n = y.len();
    let is_zero: Vec<bool> = y.iter().map(|&v| v == 0.0).collect();
    let w: Vec<f64> = is_zero.iter().map(|&z| if z { 1.0 } else { opts.pin_weight }).collect();
    let demeaner = Demeaner::new(fes, Some(&w), n);
    let proj_tol = 1e-13;
    let proj_iter = 100_000;
    // Regressors scaled to unit max so the tolerance means the same for every column.
    let mut x_tilde: Vec<Vec<f64>> = Vec::with_capacity(x.len());
    for col in x {
        let scale = col.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let scaled: Vec<f64> = if scale > 0.0 { col.iter().map(|v| v / scale).collect() } else { col.clone() };
        let mut alpha = vec![0.0; demeaner.n_coef()];
        let mut out = vec![0.0; n];
        demeaner.project(&scaled, &mut alpha, &mut out, proj_tol, proj_iter);
        x_tilde.push(out);
    }
    let gram_all = weighted_gram(&x_tilde, Some(&w));
    let (keep, factor) = independent_columns_factor(&gram_all, 1e-9);
    let x_tilde: Vec<Vec<f64>> = keep.iter().map(|&j| x_tilde[j].clone()).collect();
    let chol = if keep.is_empty() { None } else { Some(factor) };

    let mut u: Vec<f64> = is_zero.iter().map(|&z| if z { 1.0 } else { 0.0 }).collect();
    let mut alpha_u = vec![0.0; demeaner.n_coef()];
    let mut u_tilde = vec![0.0; n];
    let mut fitted = vec![0.0; n];
    let mut fitted_raw = vec![0.0; n];
    for _ in 0..opts.max_iter {
        demeaner.project(&u, &mut alpha_u, &mut u_tilde, proj_tol, proj_iter);
        // fitted = u − residual, residual = ũ − X̃γ
        let mut resid = u_tilde.clone();
        if let Some(l) = &chol {
            let b: Vec<f64> =
                x_tilde.iter().map(|c| c.iter().zip(&u_tilde).zip(&w).map(|((a, b), w)| a * b * w).sum()).collect();
            let gamma = cholesky_solve(l, x_tilde.len(), &b);
            for (j, col) in x_tilde.iter().enumerate() {
                resid.iter_mut().zip(col).for_each(|(r, c)| *r -= gamma[j] * c);
            }
        }
        // The pinning is only approximate: y > 0 rows keep fitted values of order 1/pin_weight.
        // That leakage is the noise level of the whole fit, so values within a small multiple of
        // it count as zero (otherwise the loop chases noise, the projections of ever smaller u
        // never meet their relative tolerance, and a million-row panel takes many minutes).
        let mut leak = 0.0f64;
        for i in 0..n {
            let f = u[i] - resid[i];
            fitted_raw[i] = f;
            if !is_zero[i] {
                leak = leak.max(f.abs());
            }
        }
        let zero_tol = opts.zero_tol.max(10.0 * leak);
        let mut min_on_zero = f64::INFINITY;
        let mut max_on_zero = 0.0f64;
        for i in 0..n {
            let f = if is_zero[i] && fitted_raw[i].abs() >= zero_tol { fitted_raw[i] } else { 0.0 };
            fitted[i] = f;
            if is_zero[i] {
                min_on_zero = min_on_zero.min(f);
                max_on_zero = max_on_zero.max(f);
            }
        }
        // A certificate: non-negative on y = 0 rows (zero on y > 0 rows up to the leakage). With
        // u starting at 1, a fit that is zero everywhere means nothing is separated.
        // A large leakage means the pinning failed (ill-conditioning): no conclusion from this step.
        if leak <= 1e-4 && (min_on_zero >= 0.0 || max_on_zero == 0.0) {
            return Some((0..n).map(|i| is_zero[i] && fitted[i] > 0.0).collect());
        }
        for i in 0..n {
            u[i] = if is_zero[i] { fitted[i].max(0.0) } else { 0.0 };
        }
    }
    // No certificate within the iteration budget: report nothing rather than guess.
    None
}
