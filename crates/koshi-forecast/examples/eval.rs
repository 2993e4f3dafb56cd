// Scratch accuracy check of each model on the 826 series.
use koshi_forecast::{ModelKind, forecast, metrics, CombineMethod, combine};
use serde::Deserialize;
#[derive(Deserialize)]
struct S { ds: String, x: Vec<f64>, xx: Vec<f64>, h: usize }
fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/forecast/m3_m1_yearly.json");
    let data: Vec<S> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let models: Vec<ModelKind> = if args.is_empty() { ModelKind::ALL.to_vec() } else { args.iter().map(|a| a.parse().unwrap()).collect() };
    for m in models {
        let t = std::time::Instant::now();
        let mut acc: std::collections::BTreeMap<&str, (f64, f64, f64, usize)> = Default::default();
        let mut fails = 0;
        for s in &data {
            let f = match forecast(&s.x, s.h, m) { Ok(f) => f, Err(_) => { fails += 1; continue } };
            let iv = f.interval(0.95);
            let e = acc.entry(if s.ds == "M3" { "M3" } else { "M1" }).or_default();
            e.0 += metrics::smape(&s.xx, &f.mean);
            e.1 += metrics::mase(&s.x, &s.xx, &f.mean);
            e.2 += metrics::coverage(&s.xx, &iv.lower, &iv.upper);
            e.3 += 1;
        }
        let el = t.elapsed().as_secs_f64();
        for (k, (a, b, c, n)) in acc { let n = n as f64; println!("{m:12} {k} sMAPE {:.3} MASE {:.3} cov95 {:.3}", a / n, b / n, c / n); }
        println!("{m:12} time {el:.2}s fails {fails}");
    }
    let _ = (CombineMethod::Mean, combine);
}
