// Scratch: accuracy of candidate combinations.
use koshi_forecast::{ModelKind, forecast, metrics, stats, ThetaVariant};
use serde::Deserialize;
#[derive(Deserialize)]
struct S { ds: String, x: Vec<f64>, xx: Vec<f64>, h: usize }
fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/forecast/m3_m1_yearly.json");
    let data: Vec<S> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let members = [ModelKind::Ets, ModelKind::Arima, ModelKind::AutoTheta, ModelKind::Drift, ModelKind::Theta(ThetaVariant::DynamicOptimized), ModelKind::Theta(ThetaVariant::Standard), ModelKind::Naive];
    let names = ["E", "A", "T", "R", "D", "S", "N", "Z"];
    let fcs: Vec<Vec<Vec<f64>>> = data.iter().map(|s| { let mut v: Vec<Vec<f64>> = members.iter().map(|&m| forecast(&s.x, s.h, m).unwrap().mean).collect(); v.push(koshi_forecast::ets::ets_with_spec(&s.x, s.h, "ZAN").unwrap().mean); v }).collect();
    let combos: Vec<&str> = vec!["Z","ZATR","ZAR","ZTR","ZATRD","ZADR","ZDR","ZAD","ZR","ZAT","E","A","T","R","D","S","EAT","EATR","EAR","ETR","ATR","EATRD","EADR","ER","AR","TR","DR","EDR","EAD","ADR"];
    for method in ["mean", "median"].into_iter().take(if std::env::args().count() > 1 { 1 } else { 2 }) {
        for c in &combos {
            let idx: Vec<usize> = c.chars().map(|ch| names.iter().position(|n| n.starts_with(ch)).unwrap()).collect();
            let mut acc = [[0.0; 3]; 2];
            for (s, f) in data.iter().zip(&fcs) {
                let comb: Vec<f64> = (0..s.h).map(|h| { let v: Vec<f64> = idx.iter().map(|&i| f[i][h]).collect(); if method == "mean" { stats::mean(&v) } else { stats::median(&v) } }).collect();
                let k = if s.ds == "M3" { 0 } else { 1 };
                acc[k][0] += metrics::smape(&s.xx, &comb); acc[k][1] += metrics::mase(&s.x, &s.xx, &comb); acc[k][2] += 1.0;
            }
            println!("{method:6} {c:6} M3 {:.3} {:.3}  M1 {:.3} {:.3}", acc[0][0]/acc[0][2], acc[0][1]/acc[0][2], acc[1][0]/acc[1][2], acc[1][1]/acc[1][2]);
        }
    }
}
