//! Research harness: rolling-origin validation errors of candidate members per series.
use koshi_forecast::{ModelKind, arima, ets, forecast, Forecast};
use rayon::prelude::*;
use serde::Deserialize;
use std::io::Write;

#[derive(Deserialize)]
struct Series { id: String, x: Vec<f64> }

fn logged(x: &[f64], h: usize, m: ModelKind) -> koshi_forecast::Result<Forecast> {
    if x.iter().any(|v| *v <= 0.0) { return forecast(x, h, m); }
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let mut f = forecast(&lx, h, m)?;
    f.mean = f.mean.iter().map(|v| v.exp()).collect();
    Ok(f)
}

fn members(x: &[f64], h: usize) -> Vec<(&'static str, Option<Vec<f64>>)> {
    let ok = |r: koshi_forecast::Result<Forecast>| r.ok().map(|f| f.mean);
    vec![
        ("naive", ok(forecast(x, h, ModelKind::Naive))),
        ("drift", ok(forecast(x, h, ModelKind::Drift))),
        ("ets", ok(forecast(x, h, ModelKind::Ets))),
        ("ets_zan", ok(ets::ets_with_options(x, h, "ZAN", None))),
        ("arima", ok(forecast(x, h, ModelKind::Arima))),
        ("arima_d1", ok(arima::auto_arima_fit_max_d(x, 1).map(|f| f.forecast(h)))),
        ("theta", ok(forecast(x, h, ModelKind::AutoTheta))),
        ("DOTM", ok(forecast(x, h, ModelKind::Theta(koshi_forecast::ThetaVariant::DynamicOptimized)))),
        ("ldrift", ok(logged(x, h, ModelKind::Drift))),
        ("lets", ok(logged(x, h, ModelKind::Ets))),
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data: Vec<Series> = serde_json::from_str(&std::fs::read_to_string(&args[0]).unwrap()).unwrap();
    let v: usize = args[2].parse().unwrap();
    let rows: Vec<String> = data.par_iter().map(|s| {
        let n = s.x.len();
        let mut origins = Vec::new();
        for o in n.saturating_sub(v).max(6)..n {
            let steps = 6.min(n - o);
            let ms = members(&s.x[..o], steps);
            let mut m = serde_json::Map::new();
            m.insert("o".into(), o.into());
            for (name, f) in ms { m.insert(name.into(), serde_json::to_value(f).unwrap()); }
            origins.push(serde_json::Value::Object(m));
        }
        serde_json::json!({"id": s.id, "val": origins}).to_string()
    }).collect();
    let mut f = std::fs::File::create(&args[1]).unwrap();
    for r in rows { writeln!(f, "{r}").unwrap(); }
}
