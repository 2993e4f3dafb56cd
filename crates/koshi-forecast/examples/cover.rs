// Scratch: coverage of calibrated intervals.
use koshi_forecast::{ModelKind, metrics, calibrate::{calibrated_forecast, CalibrationConfig}};
use rayon::prelude::*;
use serde::Deserialize;
#[derive(Deserialize)]
struct S { ds: String, x: Vec<f64>, xx: Vec<f64>, h: usize }
fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/forecast/m3_m1_yearly.json");
    let data: Vec<S> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model: ModelKind = args[0].parse().unwrap();
    let mut cfg = CalibrationConfig::default();
    cfg.origins = args.get(1).map(|a| a.parse().unwrap()).unwrap_or(6);
    cfg.fallback_factor = args.get(2).map(|a| a.parse().unwrap()).unwrap_or(1.5);
    let t = std::time::Instant::now();
    let r: Vec<(bool, f64, f64, f64)> = data.par_iter().map(|s| {
        let c = calibrated_forecast(&s.x, s.h, model, &cfg).unwrap();
        let iv = c.forecast.interval(0.95);
        let raw = koshi_forecast::forecast(&s.x, s.h, model).unwrap().interval(0.95);
        (s.ds == "M3", metrics::coverage(&s.xx, &iv.lower, &iv.upper), metrics::coverage(&s.xx, &raw.lower, &raw.upper), metrics::msis(&s.x, &s.xx, &iv.lower, &iv.upper, 0.05))
    }).collect();
    for ds in [true, false] {
        let v: Vec<_> = r.iter().filter(|x| x.0 == ds).collect();
        let n = v.len() as f64;
        println!("{} cov_cal {:.3} cov_raw {:.3} msis {:.2}", if ds { "M3" } else { "M1" }, v.iter().map(|x| x.1).sum::<f64>() / n, v.iter().map(|x| x.2).sum::<f64>() / n, v.iter().map(|x| x.3).sum::<f64>() / n);
    }
    println!("time {:.2}", t.elapsed().as_secs_f64());
}
