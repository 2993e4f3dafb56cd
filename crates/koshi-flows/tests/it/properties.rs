//! Property tests: IPF margins, non-negativity, stock-differencing identities.

use koshi_flows::*;
use proptest::prelude::*;

fn square(n: usize, lo: f64, hi: f64) -> impl Strategy<Value = Matrix> {
    prop::collection::vec(lo..hi, n * n).prop_map(move |v| Matrix::from_row_major(n, n, v).unwrap())
}

fn stock_pair() -> impl Strategy<Value = (Matrix, Matrix)> {
    (2usize..7).prop_flat_map(|n| (square(n, 0.0, 1000.0), square(n, 0.0, 1000.0)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn ipf2_meets_margins(n_rows in 1usize..8, n_cols in 1usize..8, seed_vals in prop::collection::vec(0.1f64..10.0, 64), rows in prop::collection::vec(0.0f64..1000.0, 8), col_weights in prop::collection::vec(0.01f64..1.0, 8)) {
        let seed = Matrix::from_row_major(n_rows, n_cols, seed_vals[..n_rows * n_cols].to_vec()).unwrap();
        let row_totals = &rows[..n_rows];
        let total: f64 = row_totals.iter().sum();
        let w: f64 = col_weights[..n_cols].iter().sum();
        let col_totals: Vec<f64> = col_weights[..n_cols].iter().map(|c| total * c / w).collect();
        let fit = ipf2(Some(row_totals), Some(&col_totals), &seed, &IpfOptions::default()).unwrap();
        prop_assert!(fit.convergence.converged);
        prop_assert!(margin_error(&fit.table, Some(row_totals), Some(&col_totals)) <= 1e-6 * total.max(1.0));
        prop_assert!(fit.table.as_slice().iter().all(|v| *v >= 0.0));
    }

    #[test]
    fn demographic_accounting_flows_nonnegative_and_margins_hold((s1, s2) in stock_pair(), stayers in any::<bool>()) {
        let options = DemographicOptions { stayer_assumption: stayers, keep_birthplace_detail: true, ..Default::default() };
        let est = demographic_accounting(&s1, &s2, None, None, None, &options).unwrap();
        prop_assert!(est.od_flows.as_slice().iter().all(|v| *v >= 0.0));
        let detail = est.by_birthplace.unwrap();
        let scale = s1.sum().max(s2.sum()).max(1.0);
        for k in 0..s1.rows() {
            let err = margin_error(detail.birthplace(k), Some(est.adjusted_start.row(k)), Some(est.adjusted_end.row(k)));
            prop_assert!(err <= 1e-6 * scale, "birthplace {} error {}", k, err);
        }
    }

    #[test]
    fn stock_difference_identities((s1, s2) in stock_pair()) {
        let n = s1.rows();
        let zero = stock_difference(&s1, &s2, StockDecrease::Zero, false).unwrap();
        let ret = stock_difference(&s1, &s2, StockDecrease::Return, false).unwrap();
        let mut delta = s2.sub(&s1).unwrap();
        delta.set_diagonal(0.0);
        for i in 0..n {
            for j in 0..n {
                prop_assert!(zero[(i, j)] >= 0.0 && ret[(i, j)] >= 0.0);
                // zero − (decreases as returns) reproduces the stock change.
                prop_assert!((zero[(i, j)] - (ret[(j, i)] - zero[(j, i)]) - delta[(i, j)]).abs() < 1e-9);
                // Return adds exactly the decreases of the transposed cell.
                prop_assert!((ret[(i, j)] - zero[(i, j)] - (-delta[(j, i)]).max(0.0)).abs() < 1e-9);
            }
            prop_assert_eq!(zero[(i, i)], 0.0);
        }
        // Σ zero − Σ decreases = Σ Δ.
        let decreases: f64 = delta.as_slice().iter().map(|d| (-d).max(0.0)).sum();
        prop_assert!((zero.sum() - decreases - delta.sum()).abs() < 1e-6);
    }

    #[test]
    fn net_flows_meet_net_totals(n in 3usize..7, seed_vals in prop::collection::vec(0.1f64..10.0, 49), raw_net in prop::collection::vec(-50.0f64..50.0, 7)) {
        let seed = Matrix::from_row_major(n, n, seed_vals[..n * n].to_vec()).unwrap();
        let mean = raw_net[..n].iter().sum::<f64>() / n as f64;
        let net: Vec<f64> = raw_net[..n].iter().map(|v| v - mean).collect();
        let fit = net_flows(&net, &seed, None, &IpfOptions { tolerance: 1e-10, max_iterations: 100_000 }).unwrap();
        prop_assert!(fit.convergence.converged, "{:?}", fit.convergence);
        prop_assert!(net_error(&fit.table, &net) < 1e-6);
        prop_assert!(fit.table.as_slice().iter().all(|v| *v >= 0.0));
    }
}
