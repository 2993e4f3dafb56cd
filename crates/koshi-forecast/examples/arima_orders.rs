use koshi_forecast::{arima, metrics};
use serde::Deserialize;
#[derive(Deserialize)]
struct S { ds: String, x: Vec<f64>, xx: Vec<f64>, h: usize }
fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/forecast/m3_m1_yearly.json");
    let data: Vec<S> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut counts: std::collections::BTreeMap<String, (usize, f64)> = Default::default();
    for s in data.iter().filter(|s| s.ds == "M3") {
        let fit = arima::auto_arima_fit(&s.x).unwrap();
        let f = fit.forecast(s.h);
        let e = counts.entry(f.model.clone()).or_default();
        e.0 += 1; e.1 += metrics::smape(&s.xx, &f.mean);
    }
    for (k, (n, sm)) in counts { println!("{k:30} {n:4} {:.2}", sm / n as f64); }
}
