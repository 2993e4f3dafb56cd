//! Speed and accuracy of koshi's automatic models on the 826 M3/M1 yearly series,
//! plus a throughput run on bootstrapped series.
//!
//! `cargo run --release -p koshi-forecast --example bench_m3m1 -- [DATA_JSON] [--scale N] [--scale-models ets,theta]`
//! Prints one `RESULT` line per model and dataset for bench/forecast/run.sh to collect.

use std::time::Instant;

use koshi_forecast::calibrate::CalibrationConfig;
use koshi_forecast::{ModelKind, Result, forecast, metrics};
use rayon::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct Series {
    ds: String,
    h: usize,
    x: Vec<f64>,
    xx: Vec<f64>,
}

fn run<F: Fn(&Series) -> Result<koshi_forecast::Forecast> + Sync>(
    data: &[Series],
    threads: usize,
    f: F,
) -> (f64, Vec<koshi_forecast::Forecast>) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let start = Instant::now();
    let out: Vec<_> = pool.install(|| data.par_iter().map(|s| f(s).expect("forecast failed")).collect());
    (start.elapsed().as_secs_f64(), out)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let default_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/forecast/m3_m1_yearly.json");
    let path = args.iter().find(|a| a.ends_with(".json")).cloned().unwrap_or(default_path.into());
    let scale: usize = args.iter().position(|a| a == "--scale").map_or(100_000, |i| args[i + 1].parse().unwrap());
    let scale_models: Vec<ModelKind> = args
        .iter()
        .position(|a| a == "--scale-models")
        .map_or("ets,theta,arima".to_string(), |i| args[i + 1].clone())
        .split(',')
        .map(|m| m.parse().unwrap())
        .collect();
    let data: Vec<Series> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("koshi bench: {} series, {cores} cores", data.len());
    // Warm-up so that allocation and page faults do not land in the first model's time.
    let _ = run(&data[..50], 1, |s| forecast(&s.x, s.h, ModelKind::Ets));

    let cfg = CalibrationConfig::default();
    let models = [
        ModelKind::Naive,
        ModelKind::Drift,
        ModelKind::Ets,
        ModelKind::Arima,
        ModelKind::AutoTheta,
        ModelKind::Combination,
    ];
    for model in models {
        let (t1, fcs) = run(&data, 1, |s| forecast(&s.x, s.h, model));
        let (tn, _) = run(&data, cores, |s| forecast(&s.x, s.h, model));
        report(&data, model.name(), &fcs, t1, tn);
    }
    // Calibrated intervals: own rolling-origin errors blended with the pooled errors of the batch.
    let histories: Vec<&[f64]> = data.iter().map(|s| s.x.as_slice()).collect();
    let calibrated = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let start = Instant::now();
        let out: Vec<koshi_forecast::Forecast> = pool.install(|| {
            koshi_forecast::batch::forecast_many_calibrated(&histories, data[0].h, ModelKind::Combination, &cfg)
                .into_iter()
                .map(|r| r.expect("forecast failed"))
                .collect()
        });
        (start.elapsed().as_secs_f64(), out)
    };
    let (t1, fcs) = calibrated(1);
    let (tn, _) = calibrated(cores);
    report(&data, "combination_calibrated", &fcs, t1, tn);

    // Throughput: bootstrap `scale` series from the 826 histories, each rescaled by a
    // pseudo-random factor so that no two fits are identical.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let boot: Vec<Vec<f64>> = (0..scale)
        .map(|_| {
            let s = &data[(next() % data.len() as u64) as usize];
            let factor = 0.5 + (next() % 1000) as f64 / 1000.0;
            s.x.iter().map(|v| v * factor).collect()
        })
        .collect();
    for model in scale_models {
        let start = Instant::now();
        let out = koshi_forecast::batch::forecast_many(&boot, 6, model);
        let secs = start.elapsed().as_secs_f64();
        let failed = out.iter().filter(|r| r.is_err()).count();
        println!("SCALE model={} series={scale} threads={cores} seconds={secs:.2} failed={failed}", model.name());
    }
}

fn report(data: &[Series], name: &str, fcs: &[koshi_forecast::Forecast], t1: f64, tn: f64) {
    for ds in ["M3", "M1"] {
        let (mut smape, mut mase, mut cov, mut msis, mut n) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (s, f) in data.iter().zip(fcs).filter(|(s, _)| s.ds == ds) {
            let iv = f.interval(0.95);
            smape += metrics::smape(&s.xx, &f.mean);
            mase += metrics::mase(&s.x, &s.xx, &f.mean);
            cov += metrics::coverage(&s.xx, &iv.lower, &iv.upper);
            msis += metrics::msis(&s.x, &s.xx, &iv.lower, &iv.upper, 0.05);
            n += 1.0;
        }
        println!(
            "RESULT impl=koshi model={name} ds={ds} smape={:.3} mase={:.3} cov95={:.3} msis={:.2} secs_1thread={t1:.3} secs_all={tn:.3}",
            smape / n,
            mase / n,
            cov / n,
            msis / n
        );
    }
}
