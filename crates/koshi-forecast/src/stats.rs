//! Small numeric helpers shared by the models.

pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    x.iter().sum::<f64>() / x.len() as f64
}

pub fn variance(x: &[f64]) -> f64 {
    let m = mean(x);
    if x.len() < 2 {
        return 0.0;
    }
    x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64
}

pub fn diff(x: &[f64]) -> Vec<f64> {
    x.windows(2).map(|w| w[1] - w[0]).collect()
}

/// Inverse of the standard normal CDF, and the two-sided critical value for a central
/// interval of a level (0.95 -> 1.96); both from `koshi-numeric`.
pub use koshi_numeric::{normal_quantile, z_for_level};

/// Empirical quantile with linear interpolation (type 7); `sorted` must be ascending.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

pub fn median(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, 0.5)
}

/// OLS intercept and slope of `y` against time 1..=n (intercept at time 0).
pub fn linear_trend(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    if y.len() < 2 {
        return (y.first().copied().unwrap_or(0.0), 0.0);
    }
    let t_mean = (n + 1.0) / 2.0;
    let y_mean = mean(y);
    let mut sxy = 0.0;
    let mut sxx = 0.0;
    for (i, v) in y.iter().enumerate() {
        let dt = (i + 1) as f64 - t_mean;
        sxy += dt * (v - y_mean);
        sxx += dt * dt;
    }
    let slope = sxy / sxx;
    (y_mean - slope * t_mean, slope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_known_values() {
        assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-8);
        assert!((normal_quantile(0.5)).abs() < 1e-12);
        assert!((normal_quantile(0.01) + 2.326347874040841).abs() < 1e-8);
    }

    #[test]
    fn trend_of_line_is_exact() {
        let y: Vec<f64> = (1..=10).map(|t| 3.0 + 2.0 * t as f64).collect();
        let (a, b) = linear_trend(&y);
        assert!((a - 3.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
    }
}
