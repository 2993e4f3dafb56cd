//! Small data sets with known separated observations, built from the cases described by
//! Correia, Guimarães & Zylkin (2019): separation by one regressor, by a linear combination of
//! regressors, by all-zero fixed-effect groups, jointly by a fixed effect and a regressor, by two
//! crossed fixed effects, quasi-complete separation by a continuous regressor, and a control
//! with no separation.

use koshi_gravity::*;

fn rows_with(fit: &GravityFit, reason: DropReason) -> Vec<usize> {
    fit.dropped_rows.iter().filter(|(_, r)| *r == reason).map(|(i, _)| *i).collect()
}

fn table(cols: &[(&str, Vec<f64>)], cats: &[(&str, Vec<&str>)]) -> DataTable {
    let mut t = DataTable::new();
    for (n, v) in cols {
        t.add_numeric(*n, v.clone()).unwrap();
    }
    for (n, v) in cats {
        t.add_categorical(*n, v).unwrap();
    }
    t
}

#[test]
fn single_regressor_separation() {
    let t = table(
        &[
            ("y", vec![0., 0., 1., 2., 3., 0., 4.]),
            ("x", vec![1., 1., 0., 0., 0., 0., 0.]),
            ("w", vec![0.3, 0.1, 0.7, 0.2, 0.9, 0.5, 0.4]),
        ],
        &[],
    );
    let fit = poisson_glm(&t, "y ~ x + w", &FitOptions::default()).unwrap();
    assert_eq!(rows_with(&fit, DropReason::Separated), vec![0, 1]);
    assert_eq!(fit.collinear, vec!["x".to_string()], "x is all zero once rows 0, 1 are gone");
    assert_eq!(fit.n_obs, 5);
    assert!(fit.converged);
}

#[test]
fn linear_combination_separation() {
    let t = table(
        &[
            ("y", vec![0., 0., 0., 1., 2., 3., 1., 5.]),
            ("x1", vec![2., 1., 0., 1., 3., 2., 0., 4.]),
            ("x2", vec![1., 1., 0., 1., 3., 2., 0., 4.]),
        ],
        &[],
    );
    let fit = poisson_glm(&t, "y ~ x1 + x2", &FitOptions::default()).unwrap();
    assert_eq!(rows_with(&fit, DropReason::Separated), vec![0]);
}

#[test]
fn all_zero_fixed_effect_group() {
    let t = table(
        &[("y", vec![0., 0., 0., 1., 2., 0., 3., 4., 1.]), ("x", vec![0.1, 0.5, 0.9, 0.3, 0.8, 0.2, 0.6, 0.4, 0.7])],
        &[("g", vec!["a", "a", "a", "b", "b", "b", "c", "c", "c"])],
    );
    let fit = ppml(&t, "y ~ x | g", &FitOptions::default()).unwrap();
    assert_eq!(rows_with(&fit, DropReason::FixedEffectAllZero), vec![0, 1, 2]);
    assert!(rows_with(&fit, DropReason::Separated).is_empty());
    assert_eq!(fit.n_obs, 6);
}

#[test]
fn fixed_effect_and_regressor_jointly_separate() {
    // In group A the zero is the only row with x = 0; elsewhere x = 0: z = D_A − x separates it.
    let t = table(
        &[
            ("y", vec![3., 2., 0., 1., 0., 2., 5., 2., 4., 0., 1.]),
            ("x", vec![1., 1., 0., 0., 0., 0., 0., 0., 0., 0., 0.]),
            ("w", vec![0.2, 0.9, 0.4, 0.1, 0.7, 0.3, 0.8, 0.6, 0.5, 0.35, 0.15]),
        ],
        &[("g", vec!["A", "A", "A", "B", "B", "B", "B", "C", "C", "C", "C"])],
    );
    let fit = ppml(&t, "y ~ x + w | g", &FitOptions::default()).unwrap();
    assert_eq!(rows_with(&fit, DropReason::Separated), vec![2]);
    assert!(rows_with(&fit, DropReason::FixedEffectAllZero).is_empty());
    assert_eq!(fit.collinear, vec!["x".to_string()]);
}

#[test]
fn crossed_fixed_effects_separate() {
    // Cells (r1,c1) and (r2,c2) positive, (r2,c1) zero, (r1,c2) empty: z = D_r2 − D_c2.
    let t = table(
        &[("y", vec![2., 3., 1., 4., 0., 0., 2., 1.]), ("x", vec![0.1, 0.8, 0.5, 0.3, 0.9, 0.2, 0.65, 0.4])],
        &[
            ("r", vec!["r1", "r1", "r2", "r2", "r2", "r2", "r3", "r3"]),
            ("c", vec!["c1", "c1", "c2", "c2", "c1", "c1", "c2", "c2"]),
        ],
    );
    let fit = ppml(&t, "y ~ x | r + c", &FitOptions::default()).unwrap();
    assert_eq!(rows_with(&fit, DropReason::Separated), vec![4, 5]);
    assert!(rows_with(&fit, DropReason::FixedEffectAllZero).is_empty());
}

#[test]
fn quasi_complete_separation_continuous() {
    let t = table(
        &[
            ("y", vec![1., 2., 3., 4., 0., 0., 0., 0.]),
            ("x", vec![0., 0., 0., 0., 0., 1., 2.5, 0.7]),
            ("w", vec![0.5, 0.1, 0.9, 0.3, 0.8, 0.2, 0.6, 0.4]),
        ],
        &[],
    );
    let fit = poisson_glm(&t, "y ~ x + w", &FitOptions::default()).unwrap();
    assert_eq!(rows_with(&fit, DropReason::Separated), vec![5, 6, 7]);
}

#[test]
fn no_separation_keeps_everything() {
    let t = table(
        &[
            ("y", vec![0., 1., 3., 0., 2., 5., 1., 0., 4., 2., 0., 3.]),
            ("x", vec![0.2, 0.5, 1.1, 0.9, 0.4, 1.5, 0.3, 0.8, 1.2, 0.6, 0.1, 1.0]),
        ],
        &[("g", vec!["a", "a", "a", "b", "b", "b", "c", "c", "c", "d", "d", "d"])],
    );
    let fit = ppml(&t, "y ~ x | g", &FitOptions::default()).unwrap();
    assert_eq!(fit.dropped.total(), 0);
    assert!(fit.converged);
}

#[test]
fn singletons_are_dropped_and_reported() {
    let t = table(
        &[("y", vec![1., 2., 3., 4., 2., 7.]), ("x", vec![0.1, 0.4, 0.3, 0.9, 0.5, 0.2])],
        &[("g", vec!["a", "a", "b", "b", "b", "c"])],
    );
    let fit = ppml(&t, "y ~ x | g", &FitOptions::default()).unwrap();
    assert_eq!(rows_with(&fit, DropReason::Singleton), vec![5]);
}

#[test]
fn pairs_with_a_single_positive_year_are_not_separated() {
    // Origin-year, destination-year and pair effects; several pairs are positive in one year only.
    // No certificate exists (the lone positive cell pins the pair effect), so nothing may go.
    let (mut o, mut d, mut yr, mut x, mut y) = (vec![], vec![], vec![], vec![], vec![]);
    let mut k = 0u32;
    for i in 0..4 {
        for j in 0..4 {
            if i == j {
                continue;
            }
            for t in 0..4 {
                k += 1;
                let sparse_pair = (i + j) % 3 == 0;
                let value =
                    if sparse_pair { if t == (i + j) % 4 { 3.0 } else { 0.0 } } else { 1.0 + ((k * 7) % 5) as f64 };
                o.push(format!("o{i}"));
                d.push(format!("d{j}"));
                yr.push(t as f64);
                x.push(((k * 13) % 11) as f64 / 10.0);
                y.push(value);
            }
        }
    }
    let mut t = DataTable::new();
    t.add_categorical("o", &o).unwrap();
    t.add_categorical("d", &d).unwrap();
    t.add_numeric("year", yr).unwrap();
    t.add_numeric("x", x).unwrap();
    t.add_numeric("y", y).unwrap();
    let fit = ppml(&t, "y ~ x | o^year + d^year + o^d", &FitOptions::default()).unwrap();
    assert!(rows_with(&fit, DropReason::Separated).is_empty(), "{:?}", fit.dropped);
    assert!(fit.warnings.is_empty(), "{:?}", fit.warnings);
}

#[test]
fn rectifier_size_limit_is_reported() {
    let t = table(
        &[
            ("y", vec![0., 0., 1., 2., 3., 0., 4.]),
            ("x", vec![1., 1., 0., 0., 0., 0., 0.]),
            ("w", vec![0.3, 0.1, 0.7, 0.2, 0.9, 0.5, 0.4]),
        ],
        &[],
    );
    let mut opts = FitOptions::default();
    opts.separation.rectifier_max_rows = Some(3);
    let fit = poisson_glm(&t, "y ~ w", &opts).unwrap();
    assert_eq!(fit.warnings.len(), 1, "{:?}", fit.warnings);
    assert!(fit.warnings[0].contains("not checked"));
}

/// A 300,000-row panel (above the size where the rectifier used to be skipped) with three
/// high-dimensional fixed effects and separation planted on a few zero rows: the default
/// options find exactly those rows.
#[test]
fn planted_separation_in_a_large_panel() {
    let (no, nd, ny) = (60usize, 60usize, 90usize);
    let mut o = Vec::new();
    let mut d = Vec::new();
    let mut yr = Vec::new();
    let mut y = Vec::new();
    let mut x = Vec::new();
    let mut w = Vec::new();
    let mut planted = Vec::new();
    let mut state = 12345u64;
    let mut rnd = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for i in 0..no {
        for j in 0..nd {
            if i == j {
                continue;
            }
            for t in 0..ny {
                let row = y.len();
                let zero = rnd() < 0.3;
                // x = 1 only on a handful of zero rows: they are separated (x → −∞ fits them).
                let plant = zero && (i * 131 + j * 37 + t * 11) % 997 == 5;
                if plant {
                    planted.push(row);
                }
                o.push(format!("o{i}"));
                d.push(format!("d{j}"));
                yr.push(format!("{t}"));
                y.push(if zero { 0.0 } else { (1.0 + 10.0 * rnd()).round() });
                x.push(if plant { 1.0 } else { 0.0 });
                w.push(rnd());
            }
        }
    }
    assert!(y.len() > 300_000 && !planted.is_empty());
    let mut t = DataTable::new();
    t.add_categorical("o", &o).unwrap();
    t.add_categorical("d", &d).unwrap();
    t.add_categorical("year", &yr).unwrap();
    t.add_numeric("y", y).unwrap();
    t.add_numeric("x", x).unwrap();
    t.add_numeric("w", w).unwrap();
    let fit =
        ppml(&t, "y ~ x + w | o^year + d^year + o^d", &FitOptions { fixed_effects: false, ..FitOptions::default() })
            .unwrap();
    assert!(fit.warnings.is_empty(), "{:?}", fit.warnings);
    assert_eq!(rows_with(&fit, DropReason::Separated), planted);
    assert_eq!(fit.collinear, vec!["x".to_string()]);
}
