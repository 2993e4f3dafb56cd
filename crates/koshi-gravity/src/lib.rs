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
//! * Bilateral panels from flow vectors (zero-filled, great-circle distances, contiguity,
//!   populations) and a gravitational potential index per partner.
//!
//! ```
//! use koshi_gravity::{DataTable, FitOptions, VcovSpec, ppml, push_pull};
//! let mut t = DataTable::new();
//! let places = ["a", "b", "c", "d"];
//! let (mut o, mut d, mut dist, mut flow) = (vec![], vec![], vec![], vec![]);
//! for (i, a) in places.iter().enumerate() {
//!     for (j, b) in places.iter().enumerate().filter(|(j, _)| *j != i) {
//!         let km = 100.0 + 40.0 * ((3 * i + j) % 4) as f64;
//!         o.push(*a);
//!         d.push(*b);
//!         dist.push(km);
//!         flow.push((8.0 - 0.9 * km.ln() + i as f64 * 0.3 + ((i * j) % 3) as f64 * 0.2).exp());
//!     }
//! }
//! t.add_categorical("orig", &o).unwrap();
//! t.add_categorical("dest", &d).unwrap();
//! t.add_numeric("dist", dist).unwrap();
//! t.add_numeric("flow", flow).unwrap();
//! let opts = FitOptions { vcov: Some(VcovSpec::parse("hetero").unwrap()), ..FitOptions::default() };
//! let fit = ppml(&t, "flow ~ log(dist) | orig + dest", &opts).unwrap();
//! println!("{fit}");
//! assert!(fit.coefficient("log(dist)").unwrap().estimate < 0.0);
//! let ranks = push_pull(&fit, "orig", "dest").unwrap();
//! assert_eq!(ranks.push.len(), 4);
//! ```

// `!(x > 0.0)` is used on purpose: it is also true for NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::needless_range_loop, clippy::excessive_precision)]

mod error;
mod estimate;
mod fe;
mod formula;
mod frame;
mod numeric;
mod panel;
mod potential;
mod pushpull;
mod result;
mod scenario;
mod separation;
mod table;
mod vcov;

pub use error::{GravityError, Result};
pub use estimate::{FitOptions, fit, ols_log, poisson_glm, ppml};
pub use fe::Factor;
pub use formula::{FeTerm, Formula, SmallSample, Term, Transform, VcovSpec};
pub use numeric::{SymMatrix, normal_cdf, normal_quantile};
pub use panel::{
    BilateralFlow, EARTH_RADIUS_KM, GravityPanel, LatLon, PanelInputs, PanelOptions, build_panel, great_circle_km,
};
pub use potential::{PartnerMass, Potential, PotentialElasticities, gravitational_potential};
pub use pushpull::{Counterfactual, PushPull, RankedEffect, counterfactual, counterfactual_within, push_pull};
pub use result::{Coefficient, DropCounts, Estimator, FixedEffectEstimates, GravityFit};
pub use scenario::{
    Condition, Edit, EditOp, ScenarioError, ScenarioResult, apply_edits, parse_conditions, parse_edit, rows_matching,
};
pub use separation::{DropReason, RectifierOptions, SeparationOptions};
pub use table::{Column, DataTable, MISSING_CODE};
