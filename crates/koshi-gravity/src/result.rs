//! Plain result structs (no serde; the CLI formats them) and a text table.

use crate::formula::{Formula, SmallSample};
use crate::numeric::SymMatrix;
use crate::separation::DropReason;
use std::fmt;

/// Which estimator produced a fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimator {
    /// Poisson pseudo-maximum likelihood with absorbed fixed effects.
    Ppml,
    /// OLS of log(y) on the regressors with absorbed fixed effects (y > 0 rows only).
    OlsLog,
    /// Plain Poisson GLM: categorical regressors and fixed effects as dummy columns.
    PoissonGlm,
}

impl fmt::Display for Estimator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Estimator::Ppml => "PPML (HDFE)",
            Estimator::OlsLog => "OLS on log(y) (HDFE)",
            Estimator::PoissonGlm => "Poisson GLM",
        })
    }
}

/// One row of the coefficient table.
#[derive(Debug, Clone, PartialEq)]
pub struct Coefficient {
    pub name: String,
    pub estimate: f64,
    pub std_error: f64,
    pub z: f64,
    pub p_value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// Counts of input rows not used, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DropCounts {
    pub missing: usize,
    pub fixed_effect_all_zero: usize,
    pub singletons: usize,
    pub separated: usize,
    pub non_positive_response: usize,
}

impl DropCounts {
    pub fn total(&self) -> usize {
        self.missing + self.fixed_effect_all_zero + self.singletons + self.separated + self.non_positive_response
    }
}

/// Estimated fixed effects of one dimension (identified up to normalisation: every dimension
/// after the first has its first level set to 0).
#[derive(Debug, Clone, PartialEq)]
pub struct FixedEffectEstimates {
    pub name: String,
    pub labels: Vec<String>,
    pub values: Vec<f64>,
}

/// A fitted gravity model.
#[derive(Debug, Clone)]
pub struct GravityFit {
    pub estimator: Estimator,
    pub formula: Formula,
    pub coefficients: Vec<Coefficient>,
    /// Variance matrix of the coefficients (same order).
    pub vcov: SymMatrix,
    /// e.g. `cluster(Origin)`.
    pub vcov_label: String,
    pub small_sample: SmallSample,
    /// K used in the (n−1)/(n−K) factor.
    pub vcov_k: usize,
    pub n_input: usize,
    pub n_obs: usize,
    pub dropped: DropCounts,
    /// (input row, reason) for every input row not used.
    pub dropped_rows: Vec<(usize, DropReason)>,
    /// Regressors removed as collinear (with the fixed effects or each other).
    pub collinear: Vec<String>,
    pub iterations: usize,
    pub converged: bool,
    /// Poisson deviance, or residual sum of squares for OLS.
    pub deviance: f64,
    pub null_deviance: f64,
    /// Poisson log-likelihood (with the log y! term), or Gaussian for OLS.
    pub log_likelihood: f64,
    pub null_log_likelihood: f64,
    /// 1 − LL/LL₀ (Poisson) or R² (OLS).
    pub pseudo_r2: f64,
    /// 1 − (LL − K)/LL₀ (fixest's adjusted pseudo R²) or adjusted R² (OLS).
    pub adj_pseudo_r2: f64,
    /// Squared correlation of y and fitted values.
    pub squared_correlation: f64,
    /// Number of parameters including fixed effects.
    pub n_params: usize,
    pub fixed_effects: Vec<FixedEffectEstimates>,
    /// Conditions the user should know about (non-convergence, inconclusive checks).
    pub warnings: Vec<String>,
    /// Input row of each used observation.
    pub rows: Vec<usize>,
    /// Fitted mean μ (Poisson) or fitted log y (OLS), aligned with `rows`.
    pub fitted: Vec<f64>,
    /// Linear predictor η, aligned with `rows`.
    pub linear_predictor: Vec<f64>,
    /// Response aligned with `rows` (log y for OLS).
    pub response: Vec<f64>,
}

impl GravityFit {
    pub fn coefficient(&self, name: &str) -> Option<&Coefficient> {
        self.coefficients.iter().find(|c| c.name == name)
    }

    pub fn fixed_effect(&self, name: &str) -> Option<&FixedEffectEstimates> {
        self.fixed_effects.iter().find(|f| f.name == name)
    }
}

impl fmt::Display for GravityFit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {}", self.estimator, self.formula)?;
        writeln!(f, "Observations: {} (of {} input rows)", self.n_obs, self.n_input)?;
        let d = &self.dropped;
        if d.total() > 0 {
            writeln!(
                f,
                "Dropped: {} missing, {} in all-zero FE groups, {} singletons, {} separated, {} non-positive y",
                d.missing, d.fixed_effect_all_zero, d.singletons, d.separated, d.non_positive_response
            )?;
        }
        if !self.collinear.is_empty() {
            writeln!(f, "Collinear, removed: {}", self.collinear.join(", "))?;
        }
        writeln!(f, "Standard errors: {} ({:?} small-sample convention)", self.vcov_label, self.small_sample)?;
        let w = self.coefficients.iter().map(|c| c.name.len()).max().unwrap_or(8).max(8);
        writeln!(
            f,
            "{:<w$} {:>12} {:>11} {:>9} {:>10} {:>12} {:>12}",
            "", "Estimate", "Std. Error", "z", "Pr(>|z|)", "CI low", "CI high"
        )?;
        for c in &self.coefficients {
            writeln!(
                f,
                "{:<w$} {:>12.6} {:>11.6} {:>9.3} {:>10.3e} {:>12.6} {:>12.6}",
                c.name, c.estimate, c.std_error, c.z, c.p_value, c.ci_low, c.ci_high
            )?;
        }
        match self.estimator {
            Estimator::OlsLog => writeln!(
                f,
                "R2: {:.6}  adj. R2: {:.6}  RSS: {:.6e}",
                self.pseudo_r2, self.adj_pseudo_r2, self.deviance
            )?,
            _ => writeln!(
                f,
                "Log-likelihood: {:.4e}  pseudo R2: {:.6}  adj. pseudo R2: {:.6}  sq. cor.: {:.6}  deviance: {:.6e}",
                self.log_likelihood, self.pseudo_r2, self.adj_pseudo_r2, self.squared_correlation, self.deviance
            )?,
        }
        for w in &self.warnings {
            writeln!(f, "Warning: {w}")?;
        }
        write!(f, "Iterations: {}{}", self.iterations, if self.converged { "" } else { " (NOT converged)" })
    }
}
