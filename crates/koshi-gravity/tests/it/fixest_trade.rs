use super::common::{close, read_csv};
use koshi_gravity::*;

const TRADE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/gravity/fixest_trade.csv");
const FORMULA: &str = "Euros ~ log(dist_km) | Origin + Destination + Product + Year";

fn fit_with(vcov: &str) -> GravityFit {
    let table = read_csv(TRADE);
    let opts = FitOptions { vcov: Some(VcovSpec::parse(vcov).unwrap()), ..FitOptions::default() };
    ppml(&table, FORMULA, &opts).expect("fit")
}

/// Published: fixest walkthrough vignette; hetero from pyfixest 0.60.
#[test]
fn fixest_trade_matches_published_results() {
    let fit = fit_with("cluster(Origin)");
    println!("{fit}");
    let b = fit.coefficient("log(dist_km)").unwrap();
    println!("beta = {:.10}, SE(cluster Origin) = {:.8}, K = {}", b.estimate, b.std_error, fit.vcov_k);
    assert_eq!(fit.n_obs, 38_325);
    assert_eq!(fit.dropped.total(), 0);
    assert!(fit.converged);
    // β printed as −1.52787 (fixest) and −1.527874 (pyfixest): must round to both.
    assert!(close(b.estimate, -1.527874, 5e-7), "beta {}", b.estimate);
    assert!(close(b.std_error, 0.115678, 5e-7), "SE origin {}", b.std_error);

    let two = fit_with("twoway(Origin, Destination)");
    let se2 = two.coefficient("log(dist_km)").unwrap().std_error;
    println!("SE(twoway Origin, Destination) = {se2:.8}, K = {}", two.vcov_k);
    assert!(close(se2, 0.130734, 5e-7), "SE twoway {se2}");

    let prod = fit_with("cluster(Product)");
    let se3 = prod.coefficient("log(dist_km)").unwrap().std_error;
    println!("SE(cluster Product) = {se3:.8}, K = {}", prod.vcov_k);
    assert!(close(se3, 0.098294, 5e-7), "SE product {se3}");

    let het = fit_with("hetero");
    let se4 = het.coefficient("log(dist_km)").unwrap().std_error;
    println!("SE(hetero) = {se4:.8}, K = {}", het.vcov_k);
    assert!(close(se4, 0.021847, 5e-7), "SE hetero {se4}");

    println!(
        "loglik = {:.6e}, adj pseudo R2 = {:.8}, squared cor = {:.8}",
        fit.log_likelihood, fit.adj_pseudo_r2, fit.squared_correlation
    );
    assert!(close(fit.log_likelihood / 1e11, -7.025, 5e-4), "loglik {}", fit.log_likelihood);
    assert!(close(fit.adj_pseudo_r2, 0.764032, 5e-7), "adj pseudo R2 {}", fit.adj_pseudo_r2);
    assert!(close(fit.squared_correlation, 0.612021, 5e-7), "sq cor {}", fit.squared_correlation);
}
