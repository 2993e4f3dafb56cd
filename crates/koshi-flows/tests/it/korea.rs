//! Korea 2020 indices as printed in the migest 2.0.5 documentation
//! (korea_reg / korea_pop / korea_dist, here read from korea_gravity.csv).

use koshi_flows::*;

const KOREA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/gravity/korea_gravity.csv");

struct Korea {
    flows: Matrix,
    distance: Matrix,
    /// Populations in millions, the unit of the data set.
    population_millions: Vec<f64>,
}

fn load(year: &str) -> Korea {
    let mut reader = csv::Reader::from_path(KOREA).expect("korea_gravity.csv (shared/ beside the repo)");
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (o, d, y, f, dist, pop) =
        (col("orig"), col("dest"), col("year"), col("flow"), col("dist_cent"), col("orig_pop"));
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).filter(|r| &r[y] == year).collect();
    let mut regions: Vec<String> = records.iter().map(|r| r[o].to_string()).collect();
    regions.sort();
    regions.dedup();
    let n = regions.len();
    let ix = |name: &str| regions.iter().position(|r| r == name).unwrap();
    let mut flows = Matrix::zeros(n, n);
    let mut distance = Matrix::zeros(n, n);
    let mut population_millions = vec![0.0; n];
    for r in &records {
        let (i, j) = (ix(&r[o]), ix(&r[d]));
        flows[(i, j)] = r[f].parse().unwrap();
        distance[(i, j)] = r[dist].parse().unwrap();
        population_millions[i] = r[pop].parse().unwrap();
    }
    Korea { flows, distance, population_millions }
}

fn round_to(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

#[test]
fn korea_2020_intensity() {
    let k = load("2020");
    assert_eq!(k.flows.rows(), 17);
    let persons: f64 = k.population_millions.iter().sum::<f64>() * 1e6;
    let i = intensity(k.flows.off_diagonal_sum(), persons, 17).unwrap();
    assert_eq!(round_to(i.cmp, 2), 4.89, "cmp {}", i.cmp);
    assert_eq!(round_to(i.courgeau_k, 3), 0.863, "k {}", i.courgeau_k);
}

#[test]
fn korea_2020_impact() {
    let k = load("2020");
    // Populations in millions, as migest's example passes them.
    let i = impact(&k.flows, &k.population_millions).unwrap();
    assert_eq!(round_to(i.effectiveness, 2), 7.67, "mei {}", i.effectiveness);
    assert_eq!(i.anmr.round(), 375_133.0, "anmr {}", i.anmr);
    assert_eq!(i.preference.round(), 375.0, "preference {}", i.preference);
    assert_eq!(i.velocity.round(), 18_339_531.0, "velocity {}", i.velocity);
    // With persons the ANMR is the textbook percentage.
    let persons: Vec<f64> = k.population_millions.iter().map(|p| p * 1e6).collect();
    let i = impact(&k.flows, &persons).unwrap();
    assert_eq!(round_to(i.anmr, 3), 0.375);
}

#[test]
fn korea_2020_connectivity() {
    let k = load("2020");
    let c = connectivity(&k.flows).unwrap();
    assert_eq!(c.connectivity, 1.0);
    assert_eq!(round_to(c.inequality_equal, 3), 0.541, "{c:?}");
    assert_eq!(round_to(c.inequality_sim, 3), 0.281, "{c:?}");
    assert_eq!(round_to(c.gini_total, 3), 0.709, "{c:?}");
    assert_eq!(round_to(c.mwg_mean, 4), 0.0379, "{c:?}");
    assert_eq!(round_to(c.cv_as_migest_prints, 1), 17.9, "{c:?}");
    assert_eq!(round_to(c.acv, 2), 3.43, "{c:?}");
}

#[test]
fn korea_2020_distance() {
    let k = load("2020");
    let d = distance(&k.flows, &k.distance).unwrap();
    assert_eq!(d.mean.round(), 113.0, "{d:?}");
    assert_eq!(round_to(d.median, 1), 74.8, "{d:?}");
    assert_eq!(round_to(d.decay, 3), -0.920, "{d:?}");
}
