//! World run on UN DESA International Migrant Stock 2019: bilateral flows
//! for every period 1990–2019 by demographic accounting.

use std::collections::HashMap;

use koshi_flows::world::{StockSnapshot, period_stocks};
use koshi_flows::*;

const STOCKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/undesa/migrant_stock_od_2019.csv");
const POPULATION: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/undesa/population_totals_2019.csv");
const YEARS: [&str; 7] = ["1990", "1995", "2000", "2005", "2010", "2015", "2019"];

fn parse_cell(s: &str) -> Option<f64> {
    // UN DESA marks missing values with ".." and "-".
    s.trim().replace(',', "").parse().ok()
}

fn load() -> (Vec<String>, HashMap<String, StockSnapshot>) {
    let mut reader = csv::Reader::from_path(STOCKS).expect("UN DESA stock CSV (shared/ beside the repo)");
    let origins: Vec<String> = reader.headers().unwrap().iter().skip(2).map(str::to_string).collect();
    let mut snapshots: HashMap<String, StockSnapshot> = HashMap::new();
    for record in reader.records() {
        let record = record.unwrap();
        let values = record.iter().skip(2).map(parse_cell).collect();
        snapshots.entry(record[0].to_string()).or_default().destinations.push((record[1].to_string(), values));
    }
    let mut reader = csv::Reader::from_path(POPULATION).unwrap();
    let headers = reader.headers().unwrap().clone();
    for record in reader.records() {
        let record = record.unwrap();
        for (col, year) in headers.iter().enumerate().skip(1) {
            if let (Some(snap), Some(p)) = (snapshots.get_mut(year), parse_cell(&record[col])) {
                snap.population.insert(record[0].to_string(), p);
            }
        }
    }
    (origins, snapshots)
}

#[test]
fn world_flows_every_period() {
    let (origins, snapshots) = load();
    assert_eq!(origins.len(), 232);
    let options = DemographicOptions {
        death_method: DeathMethod::NativeBorn,
        keep_birthplace_detail: true,
        ..Default::default()
    };
    let mut totals = Vec::new();
    for w in YEARS.windows(2) {
        let period = period_stocks(&origins, &snapshots[w[0]], &snapshots[w[1]]).unwrap();
        assert_eq!(period.aggregates_ignored.len(), 5, "{:?}", period.aggregates_ignored);
        let n = period.regions.len();
        assert!(n >= 220, "{}–{}: only {n} regions", w[0], w[1]);

        // No births/deaths series here: natural change per birthplace is taken
        // from the change in birthplace totals and assigned to the native-born.
        let (births, deaths) = births_deaths_from_birthplace_totals(&period.start, &period.end);
        let est =
            demographic_accounting(&period.start, &period.end, Some(&births), Some(&deaths), None, &options).unwrap();

        // Margins checked independently of the estimator's own report: 1e-6
        // absolute, or 1e-14 relative for margins above 1e8 (native-born
        // stocks ~1e9, where 1e-6 is below double-precision resolution).
        let detail = est.by_birthplace.as_ref().unwrap();
        let mut worst: f64 = 0.0;
        let mut worst_small: f64 = 0.0;
        for k in 0..n {
            let slice = detail.birthplace(k);
            assert!(slice.as_slice().iter().all(|v| *v >= 0.0));
            let margins = slice
                .row_sums()
                .into_iter()
                .zip(est.adjusted_start.row(k).iter().copied())
                .chain(slice.col_sums().into_iter().zip(est.adjusted_end.row(k).iter().copied()));
            for (fitted, target) in margins {
                let err = (fitted - target).abs();
                assert!(
                    err <= 1e-6_f64.max(1e-14 * target),
                    "{}–{}: birthplace {k} margin {target} off by {err}",
                    w[0],
                    w[1]
                );
                worst = worst.max(err);
                if target < 1e8 {
                    worst_small = worst_small.max(err);
                }
            }
        }
        assert!(worst_small <= 1e-6);
        assert!(est.convergence.converged, "{:?}", est.convergence);
        // Accounting: residence totals are the populations less deaths (start)
        // or births (end), and birthplace totals agree between the two tables.
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-9 * y.abs().max(1.0));
        assert!(close(&est.adjusted_start.add(&est.deaths).unwrap().col_sums(), &period.start.col_sums()));
        assert!(close(&est.adjusted_end.add(&est.births).unwrap().col_sums(), &period.end.col_sums()));
        assert!(close(&est.adjusted_start.row_sums(), &est.adjusted_end.row_sums()));

        if let Some(r) = est.rescale_convergence {
            assert!(r.converged, "{r:?}");
            // Plain IPF needs 2,000–5,000 sweeps here; the Newton finish a few steps.
            assert!(r.iterations <= 100, "{r:?}");
        }
        let movers = est.total_movers();
        let world_pop = period.start.sum();
        eprintln!(
            "{}–{}: {n} countries (excluded {:?}), movers {:.1} M = {:.2}% of world population; margin error {worst:.2e} (margins < 1e8: {worst_small:.2e}), rescale {:?}",
            w[0],
            w[1],
            period.excluded,
            movers / 1e6,
            100.0 * movers / world_pop,
            est.rescale_convergence
        );
        // Abel & Cohen (2019) estimates are tens of millions per five years
        // (0.5–1.3 % of world population, depending on method).
        assert!((10e6..100e6).contains(&movers), "{}–{}: {movers}", w[0], w[1]);
        assert!((0.3..2.0).contains(&(100.0 * movers / world_pop)));
        totals.push(movers);
    }
    assert_eq!(totals.len(), 6);
}

#[test]
fn world_closed_rescale_without_births_deaths() {
    // The no-births/deaths variant: migest's closed-world rescale. Population
    // growth is pushed onto the native-born, then birthplace totals are
    // rescaled by IPF; reported for comparison, margins must still hold.
    let (origins, snapshots) = load();
    let period = period_stocks(&origins, &snapshots["2010"], &snapshots["2015"]).unwrap();
    let options = DemographicOptions { keep_birthplace_detail: true, ..Default::default() };
    let est = demographic_accounting(&period.start, &period.end, None, None, None, &options).unwrap();
    let detail = est.by_birthplace.as_ref().unwrap();
    let worst = (0..period.regions.len())
        .map(|k| margin_error(detail.birthplace(k), Some(est.adjusted_start.row(k)), Some(est.adjusted_end.row(k))))
        .fold(0.0, f64::max);
    eprintln!(
        "2010–2015 closed rescale, no births/deaths: movers {:.1} M, margin error {worst:.2e}, rescale {:?}",
        est.total_movers() / 1e6,
        est.rescale_convergence
    );
    assert!(worst <= 1e-5, "{worst} {:?}", est.convergence);
    assert!(est.total_movers() > 0.0);
}
