//! Research harness: single-threaded time and accuracy of one model on the M3/M1 yearly series.
use koshi_forecast::{ModelKind, forecast, metrics};
use serde::Deserialize;
use std::time::Instant;

#[derive(Deserialize)]
struct Series {
    ds: String,
    h: usize,
    x: Vec<f64>,
    xx: Vec<f64>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data: Vec<Series> = serde_json::from_str(&std::fs::read_to_string(&args[0]).unwrap()).unwrap();
    let model: ModelKind = args[1].parse().unwrap();
    let reps: usize = args.get(2).map_or(1, |r| r.parse().unwrap());
    let start = Instant::now();
    let mut fcs = Vec::new();
    for _ in 0..reps {
        fcs = data.iter().map(|s| forecast(&s.x, s.h, model).unwrap()).collect();
    }
    let secs = start.elapsed().as_secs_f64() / reps as f64;
    for ds in ["M3", "M1"] {
        let (mut sm, mut ma, mut n) = (0.0, 0.0, 0.0);
        for (s, f) in data.iter().zip(&fcs).filter(|(s, _)| s.ds == ds) {
            sm += metrics::smape(&s.xx, &f.mean);
            ma += metrics::mase(&s.x, &s.xx, &f.mean);
            n += 1.0;
        }
        print!("{ds} {:.4} {:.4}  ", sm / n, ma / n);
    }
    println!("{model}: {secs:.3} s");
}
