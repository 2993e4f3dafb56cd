//! Accuracy measures as used in the M competitions.

/// sMAPE in percent: mean of 200|y−f|/(|y|+|f|); a 0/0 term counts as 0.
pub fn smape(actual: &[f64], forecast: &[f64]) -> f64 {
    let terms: Vec<f64> = actual
        .iter()
        .zip(forecast)
        .map(|(y, f)| {
            let den = y.abs() + f.abs();
            if den == 0.0 { 0.0 } else { 200.0 * (y - f).abs() / den }
        })
        .collect();
    terms.iter().sum::<f64>() / terms.len() as f64
}

/// Mean absolute first difference of the history: the (non-seasonal) MASE scale.
pub fn mase_scale(history: &[f64]) -> f64 {
    let d: Vec<f64> = history.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    d.iter().sum::<f64>() / d.len().max(1) as f64
}

/// MASE: mean absolute error scaled by the in-sample naive MAE.
pub fn mase(history: &[f64], actual: &[f64], forecast: &[f64]) -> f64 {
    let mae = actual.iter().zip(forecast).map(|(y, f)| (y - f).abs()).sum::<f64>() / actual.len() as f64;
    mae / mase_scale(history)
}

/// Mean scaled interval score (M4) for a central interval of level 1 − alpha.
pub fn msis(history: &[f64], actual: &[f64], lower: &[f64], upper: &[f64], alpha: f64) -> f64 {
    let mut total = 0.0;
    for ((y, l), u) in actual.iter().zip(lower).zip(upper) {
        total += (u - l) + (2.0 / alpha) * ((l - y).max(0.0) + (y - u).max(0.0));
    }
    total / actual.len() as f64 / mase_scale(history)
}

/// Share of outcomes inside [lower, upper].
pub fn coverage(actual: &[f64], lower: &[f64], upper: &[f64]) -> f64 {
    let inside = actual.iter().zip(lower).zip(upper).filter(|((y, l), u)| l <= y && y <= u).count();
    inside as f64 / actual.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert!((smape(&[100.0], &[50.0]) - 200.0 * 50.0 / 150.0).abs() < 1e-12);
        // scale = mean(|2|,|4|) = 3; MAE = 3 → MASE 1.
        assert!((mase(&[1.0, 3.0, 7.0], &[10.0], &[7.0]) - 1.0).abs() < 1e-12);
        assert_eq!(coverage(&[1.0, 5.0], &[0.0, 0.0], &[2.0, 2.0]), 0.5);
        // Width 2, miss by 3 at alpha 0.05: (2 + 40·3)/scale(1).
        assert!((msis(&[0.0, 1.0], &[5.0], &[0.0], &[2.0], 0.05) - 122.0).abs() < 1e-9);
    }
}
