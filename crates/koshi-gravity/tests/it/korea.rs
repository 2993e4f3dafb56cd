use super::common::read_csv;
use koshi_gravity::*;

const KOREA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/gravity/korea_gravity.csv");

/// migest documentation: Poisson GLM `flow ~ orig + dest + log(dist)` on Korea 2020 gives a
/// distance decay of −0.920. It is reproduced with the centroid distance `dist_cent`; the 17
/// intra-regional rows (distance 0) drop out because log(0) is undefined.
#[test]
fn korea_2020_distance_decay() {
    let mut t = read_csv(KOREA);
    let year = match t.column("year") {
        Some(Column::Numeric(v)) => v.clone(),
        _ => panic!("year column"),
    };
    let flow = match t.column("flow") {
        Some(Column::Numeric(v)) => v.clone(),
        _ => panic!("flow column"),
    };
    // Other years become missing responses.
    let flow_2020: Vec<f64> = flow.iter().zip(&year).map(|(f, y)| if *y == 2020.0 { *f } else { f64::NAN }).collect();
    let n_2020 = flow_2020.iter().filter(|v| v.is_finite()).count();
    t.add_numeric("flow", flow_2020).unwrap();
    let fit = poisson_glm(&t, "flow ~ orig + dest + log(dist_cent)", &FitOptions::default()).expect("fit");
    let b = fit.coefficient("log(dist_cent)").unwrap().estimate;
    println!("Korea 2020 GLM: log(dist_cent) = {b:.6}, n = {} of {n_2020} rows of 2020", fit.n_obs);
    assert_eq!(n_2020, 289);
    assert_eq!(fit.n_obs, 272, "17 intra-regional rows excluded");
    assert!((b - (-0.920)).abs() < 5e-4, "distance decay {b}");
    // The same coefficient with origin and destination absorbed.
    let hd = ppml(&t, "flow ~ log(dist_cent) | orig + dest", &FitOptions::default()).expect("ppml");
    let b2 = hd.coefficient("log(dist_cent)").unwrap().estimate;
    assert!((b - b2).abs() < 1e-8, "GLM {b} vs PPML-HDFE {b2}");
}
