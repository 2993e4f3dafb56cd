//! Gravity models for migration and trade flows.
//!
//! * PPML with any number of absorbed fixed effects (IRLS; the weighted least-squares step
//!   partials out the fixed effects by preconditioned conjugate gradients, warm-started between
//!   IRLS steps, with tolerances tightening as the deviance settles).
//! * Existence checks: all-zero fixed-effect groups, singletons, separation by regressors and
//!   fixed effects (iterated rectifier), collinear regressors — every drop is reported.
//! * Variance: iid, heteroskedasticity-robust, multi-way clustered, with fixest (default),
//!   Stata and statsmodels small-sample conventions.
//! * OLS on log flows and a dense Poisson GLM for comparison; push–pull rankings and
//!   counterfactual predictions.
//!
//! ```
//! use koshi_gravity::{DataTable, FitOptions, VcovSpec, ppml};
//! let mut t = DataTable::new();
//! t.add_categorical("orig", &["a", "a", "b", "b", "c", "c"]).unwrap();
//! t.add_categorical("dest", &["b", "c", "a", "c", "a", "b"]).unwrap();
//! t.add_numeric("dist", vec![1.0, 2.0, 1.0, 3.0, 2.0, 3.0]).unwrap();
//! t.add_numeric("flow", vec![10.0, 4.0, 12.0, 2.0, 5.0, 3.0]).unwrap();
//! let opts = FitOptions { vcov: Some(VcovSpec::parse("hetero").unwrap()), ..FitOptions::default() };
//! let fit = ppml(&t, "flow ~ log(dist) | orig + dest", &opts).unwrap();
//! assert!(fit.coefficient("log(dist)").unwrap().estimate < 0.0);
//! ```

mod error;
mod estimate;
mod fe;
mod formula;
mod frame;
mod numeric;
mod pushpull;
mod result;
mod separation;
mod table;
mod vcov;

pub use error::{GravityError, Result};
pub use estimate::{FitOptions, fit, ols_log, poisson_glm, ppml};
pub use fe::Factor;
pub use formula::{FeTerm, Formula, SmallSample, Term, Transform, VcovSpec};
pub use numeric::{SymMatrix, normal_cdf, normal_quantile};
pub use pushpull::{Counterfactual, PushPull, RankedEffect, counterfactual, push_pull};
pub use result::{Coefficient, DropCounts, Estimator, FixedEffectEstimates, GravityFit};
pub use separation::{DropReason, RectifierOptions, SeparationOptions};
pub use table::{Column, DataTable, MISSING_CODE};
