//! Research harness: per-series forecasts of model variants on the M3/M1 yearly series,
//! written as JSON lines for offline comparison of combinations.
use koshi_forecast::{ModelKind, ThetaVariant, arima, ets, forecast, Forecast};
use rayon::prelude::*;
use serde::Deserialize;
use std::io::Write;

#[derive(Deserialize)]
struct Series { id: String, ds: String, h: usize, x: Vec<f64>, xx: Vec<f64> }

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data: Vec<Series> = serde_json::from_str(&std::fs::read_to_string(&args[0]).unwrap()).unwrap();
    let out = &args[1];
    let rows: Vec<String> = data.par_iter().map(|s| {
        let (x, h) = (&s.x[..], s.h);
        let mut v: Vec<(&str, koshi_forecast::Result<Forecast>)> = vec![
            ("naive", forecast(x, h, ModelKind::Naive)),
            ("drift", forecast(x, h, ModelKind::Drift)),
            ("ets", forecast(x, h, ModelKind::Ets)),
            ("ets_zan", ets::ets_with_options(x, h, "ZAN", None)),
            ("ets_zad", ets::ets_with_options(x, h, "ZAN", Some(true))),
            ("ets_aad", ets::ets_with_options(x, h, "AAN", Some(true))),
            ("arima", forecast(x, h, ModelKind::Arima)),
            ("arima_d1", arima::auto_arima_fit_max_d(x, 1).map(|f| f.forecast(h))),
            ("theta", forecast(x, h, ModelKind::AutoTheta)),
            ("ldrift", logged(x, h, ModelKind::Drift)),
            ("ltheta", logged(x, h, ModelKind::AutoTheta)),
            ("lets", logged(x, h, ModelKind::Ets)),
            ("larima", logged(x, h, ModelKind::Arima)),
        ];
        for t in ThetaVariant::ALL { v.push((t.short_name(), forecast(x, h, ModelKind::Theta(t)))); }
        let mut m = serde_json::Map::new();
        m.insert("id".into(), s.id.clone().into());
        m.insert("ds".into(), s.ds.clone().into());
        m.insert("x".into(), serde_json::to_value(&s.x).unwrap());
        m.insert("xx".into(), serde_json::to_value(&s.xx).unwrap());
        for (name, f) in v {
            let val = match f { Ok(f) => serde_json::json!({"mean": f.mean, "sd": f.sd, "model": f.model}), Err(e) => serde_json::json!({"err": e.to_string()}) };
            m.insert(name.into(), val);
        }
        serde_json::Value::Object(m).to_string()
    }).collect();
    let mut f = std::fs::File::create(out).unwrap();
    for r in rows { writeln!(f, "{r}").unwrap(); }
}

fn logged(x: &[f64], h: usize, m: ModelKind) -> koshi_forecast::Result<Forecast> {
    if x.iter().any(|v| *v <= 0.0) { return forecast(x, h, m); }
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let mut f = forecast(&lx, h, m)?;
    f.mean = f.mean.iter().map(|v| v.exp()).collect();
    Ok(f)
}
