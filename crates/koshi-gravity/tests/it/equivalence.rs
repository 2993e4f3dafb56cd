//! Absorbed fixed effects must give the same coefficients as explicit dummy columns.

use koshi_gravity::*;
use proptest::prelude::*;

fn tight() -> FitOptions {
    FitOptions { tol: 1e-13, inner_tol: 1e-13, max_iter: 200, vcov: Some(VcovSpec::Hetero), ..FitOptions::default() }
}

/// A random origin × destination × year panel with two regressors.
fn panel(n_orig: usize, n_dest: usize, n_year: usize, seed: u64, zero_share: f64) -> DataTable {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut uniform = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64) / ((1u64 << 53) as f64)
    };
    let (mut o, mut d, mut yr, mut x1, mut x2, mut y) = (vec![], vec![], vec![], vec![], vec![], vec![]);
    let push: Vec<f64> = (0..n_orig).map(|_| uniform() * 2.0).collect();
    let pull: Vec<f64> = (0..n_dest).map(|_| uniform() * 2.0).collect();
    for i in 0..n_orig {
        for j in 0..n_dest {
            for t in 0..n_year {
                let a = uniform() * 2.0 - 1.0;
                let b = uniform() * 3.0;
                let mu = (push[i] + pull[j] + 0.1 * t as f64 + 0.7 * a - 0.4 * b).exp();
                let v = if uniform() < zero_share { 0.0 } else { mu * (0.3 + 1.4 * uniform()) };
                o.push(format!("o{i}"));
                d.push(format!("d{j}"));
                yr.push(2000.0 + t as f64);
                x1.push(a);
                x2.push(b);
                y.push(v);
            }
        }
    }
    let mut t = DataTable::new();
    t.add_categorical("orig", &o).unwrap();
    t.add_categorical("dest", &d).unwrap();
    t.add_numeric("year", yr).unwrap();
    t.add_numeric("x1", x1).unwrap();
    t.add_numeric("x2", x2).unwrap();
    t.add_numeric("y", y).unwrap();
    t
}

fn assert_same(a: &GravityFit, b: &GravityFit, tol: f64) {
    for name in ["x1", "x2"] {
        let (ca, cb) = (a.coefficient(name).unwrap(), b.coefficient(name).unwrap());
        let scale = ca.estimate.abs().max(1.0);
        assert!((ca.estimate - cb.estimate).abs() <= tol * scale, "{name}: {} vs {}", ca.estimate, cb.estimate);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn ppml_hdfe_equals_dummy_glm(n_orig in 3usize..6, n_dest in 3usize..6, n_year in 2usize..4, seed in 0u64..1_000_000, zeros in 0.0f64..0.25) {
        let t = panel(n_orig, n_dest, n_year, seed, zeros);
        let hd = ppml(&t, "y ~ x1 + x2 | orig + dest + year", &tight()).unwrap();
        let glm = poisson_glm(&t, "y ~ x1 + x2 | orig + dest + year", &tight()).unwrap();
        // Singletons are fitted exactly by their own effect: dropping them leaves β unchanged.
        prop_assert_eq!(hd.n_obs + hd.dropped.singletons, glm.n_obs);
        assert_same(&hd, &glm, 1e-8);
        // Interacted fixed effects (origin-year and destination-year).
        let hd2 = ppml(&t, "y ~ x1 + x2 | orig^year + dest^year", &tight()).unwrap();
        let glm2 = poisson_glm(&t, "y ~ x1 + x2 | orig^year + dest^year", &tight()).unwrap();
        prop_assert_eq!(hd2.n_obs + hd2.dropped.singletons, glm2.n_obs, "{:?} {:?} {:?} {:?}", hd2.dropped, glm2.dropped, hd2.warnings, glm2.warnings);
        assert_same(&hd2, &glm2, 1e-8);
    }
}

#[test]
fn ols_hdfe_equals_dummy_ols() {
    let t = panel(5, 4, 3, 42, 0.1);
    let hd = ols_log(&t, "y ~ x1 + x2 | orig + dest", &tight()).unwrap();
    let dense = ols_log(&t, "y ~ x1 + x2 + orig + dest", &tight()).unwrap();
    assert_eq!(hd.n_obs, dense.n_obs);
    assert!(hd.dropped.non_positive_response > 0);
    assert_same(&hd, &dense, 1e-9);
    // Same iid standard errors once K counts the dummies.
    let iid = FitOptions { vcov: Some(VcovSpec::Iid), ..tight() };
    let a = ols_log(&t, "y ~ x1 + x2 | orig + dest", &iid).unwrap();
    let b = ols_log(&t, "y ~ x1 + x2 + orig + dest", &iid).unwrap();
    let (sa, sb) = (a.coefficient("x1").unwrap().std_error, b.coefficient("x1").unwrap().std_error);
    assert!((sa - sb).abs() < 1e-9 * sb, "{sa} vs {sb}");
}

#[test]
fn hetero_se_equal_between_hdfe_and_glm_without_correction() {
    let t = panel(4, 5, 3, 7, 0.0);
    let opts = FitOptions { small_sample: SmallSample::None, ..tight() };
    let hd = ppml(&t, "y ~ x1 + x2 | orig + dest + year", &opts).unwrap();
    let glm = poisson_glm(&t, "y ~ x1 + x2 | orig + dest + year", &opts).unwrap();
    let (a, b) = (hd.coefficient("x1").unwrap().std_error, glm.coefficient("x1").unwrap().std_error);
    assert!((a - b).abs() < 1e-7 * b, "{a} vs {b}");
}

#[test]
fn stata_and_statsmodels_conventions_match_dense_glm() {
    let t = panel(5, 4, 3, 11, 0.0);
    for (ssc, vcov) in [
        (SmallSample::Statsmodels, "cluster(orig)"),
        (SmallSample::Statsmodels, "hetero"),
        (SmallSample::Stata, "cluster(orig)"),
        (SmallSample::Stata, "twoway(orig, dest)"),
        (SmallSample::Stata, "hetero"),
    ] {
        let opts = FitOptions { small_sample: ssc, vcov: Some(VcovSpec::parse(vcov).unwrap()), ..tight() };
        let hd = ppml(&t, "y ~ x1 + x2 | orig + dest + year", &opts).unwrap();
        let glm = poisson_glm(&t, "y ~ x1 + x2 | orig + dest + year", &opts).unwrap();
        assert_eq!(hd.vcov_k, glm.vcov_k, "{ssc:?} {vcov}");
        for name in ["x1", "x2"] {
            let (a, b) = (hd.coefficient(name).unwrap().std_error, glm.coefficient(name).unwrap().std_error);
            assert!((a - b).abs() < 1e-7 * b, "{ssc:?} {vcov} {name}: {a} vs {b}");
        }
    }
}
