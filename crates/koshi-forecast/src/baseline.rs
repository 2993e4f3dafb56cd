//! Naive and random walk with drift: the benchmarks every automatic model must beat.

use crate::error::{Result, check_series};
use crate::{Forecast, stats};

/// Last value carried forward; sd grows with sqrt(h) (random walk).
pub fn naive(y: &[f64], horizon: usize) -> Result<Forecast> {
    check_series(y, 1)?;
    let last = *y.last().expect("checked non-empty");
    let d = stats::diff(y);
    let sigma = if d.is_empty() { 0.0 } else { (d.iter().map(|v| v * v).sum::<f64>() / d.len() as f64).sqrt() };
    let mut fitted = vec![f64::NAN];
    fitted.extend_from_slice(&y[..y.len() - 1]);
    Ok(Forecast {
        model: "Naive".into(),
        mean: vec![last; horizon],
        sd: (1..=horizon).map(|h| sigma * (h as f64).sqrt()).collect(),
        fitted,
    })
}

/// Random walk with drift: slope of the line joining first and last observation.
pub fn drift(y: &[f64], horizon: usize) -> Result<Forecast> {
    check_series(y, 2)?;
    let n = y.len();
    let d = stats::diff(y);
    let slope = stats::mean(&d);
    let last = y[n - 1];
    let resid_var =
        if d.len() > 1 { d.iter().map(|v| (v - slope).powi(2)).sum::<f64>() / (d.len() - 1) as f64 } else { 0.0 };
    let sigma = resid_var.sqrt();
    let t = (n - 1) as f64;
    let mut fitted = vec![f64::NAN];
    fitted.extend(y[..n - 1].iter().map(|v| v + slope));
    Ok(Forecast {
        model: "RWD".into(),
        mean: (1..=horizon).map(|h| last + slope * h as f64).collect(),
        // Includes drift-estimation uncertainty, as in the textbook formula.
        sd: (1..=horizon).map(|h| sigma * (h as f64 * (1.0 + h as f64 / t)).sqrt()).collect(),
        fitted,
    })
}
