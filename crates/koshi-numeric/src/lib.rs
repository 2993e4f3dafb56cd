//! The numerics the engines share, each written once.
//!
//! - [`normal`]: the standard normal distribution: cdf, two-sided p-value and quantile, all
//!   to about one unit in the last place (AS 241 for the quantile, musl's erfc for the cdf).
//! - [`cholesky`]: factorisation and solves of symmetric positive definite row-major systems.
//! - [`lu`]: Gaussian elimination with partial pivoting for general square systems.
//! - [`par`]: a parallel map over indices and a fork–join on rayon's pool, whose results do not
//!   depend on scheduling.
//!
//! Pure: std plus `libm` and `rayon`; no IO, no koshi crate. `bench/numerics` measures these against the
//! crates that could replace them.

pub mod cholesky;
pub mod lu;
pub mod normal;
pub mod par;

pub use cholesky::{cholesky_in_place, cholesky_inverse, cholesky_solve_in_place, dot};
pub use lu::lu_solve_in_place;
pub use normal::{erfc, normal_cdf, normal_quantile, two_sided_p, z_for_level};
pub use par::{join, map_indices};
