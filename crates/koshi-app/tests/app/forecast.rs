//! forecast use cases in process: forecasts with calibrated intervals, scenarios, the UN
//! comparison, regional reconciliation and the rolling-origin backtest, over the bundled bank.

use std::collections::BTreeSet;
use std::path::PathBuf;

use koshi_app::AppError;
use koshi_app::bank::{Figures, QueryRequest};
use koshi_app::forecast::{
    BUNDLED_SCENARIOS, BacktestRequest, ForecastReport, ForecastRequest, ForecastRow, Reconciliation, RowKind,
    ScenarioSource,
};

use crate::bundled;

const KAZ_NET: &str = "KAZ.WLD._T._T.NET";

fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/scenarios")
}

/// The current figure of one source for a fully specified key and period, in base units.
fn figure(key: &str, dataflow: &str, period: &str, source: &str) -> f64 {
    let report = bundled()
        .query(&QueryRequest {
            dataflow: dataflow.into(),
            keys: vec![key.into()],
            source: Some(source.into()),
            ..QueryRequest::default()
        })
        .unwrap();
    let Figures::Observations(rows) = report.items else { panic!("observations") };
    let row = rows
        .iter()
        .find(|r| r.time_period == period)
        .unwrap_or_else(|| panic!("no {dataflow} {key} {period} from {source}"));
    row.value_base.unwrap_or_else(|| panic!("no value in base units: {row:?}"))
}

fn forecast(request: ForecastRequest) -> ForecastReport {
    bundled().forecast(&request).unwrap_or_else(|e| panic!("{request:?}: {e}"))
}

fn rows<'a>(report: &'a ForecastReport, series: &str, kind: RowKind) -> Vec<&'a ForecastRow> {
    report.rows.iter().filter(|r| r.series == series && r.kind == kind).collect()
}

fn scenario_rows<'a>(report: &'a ForecastReport, series: &str, id: &str) -> Vec<&'a ForecastRow> {
    rows(report, series, RowKind::Scenario).into_iter().filter(|r| r.scenario.as_deref() == Some(id)).collect()
}

fn kaz_net(horizon: usize) -> ForecastRequest {
    ForecastRequest { dataflow: "MIG_EXT".into(), keys: vec![KAZ_NET.into()], horizon, ..ForecastRequest::default() }
}

#[test]
fn kazakhstan_net_migration_to_2030_beside_the_un_projection() {
    let report = forecast(ForecastRequest { compare_un: true, ..kaz_net(7) });
    let fc = rows(&report, KAZ_NET, RowKind::Forecast);
    let periods: Vec<&str> = fc.iter().map(|r| r.period.as_str()).collect();
    assert_eq!(periods, ["2024", "2025", "2026", "2027", "2028", "2029", "2030"]);
    for r in &fc {
        let (l95, l80, p, u80, u95) = (r.lo95.unwrap(), r.lo80.unwrap(), r.mean, r.hi80.unwrap(), r.hi95.unwrap());
        assert!(l95 < l80 && l80 < p && p < u80 && u80 < u95, "{r:?}");
        assert!(r.detail.starts_with("calibrated on"), "{r:?}");
    }
    // The UN figures are the bank's own, in persons.
    let un2030 = fc.last().unwrap().un.expect("the UN projects 2030");
    assert_eq!(un2030.median, Some(figure("KAZ.MED", "MIG_NET_PROJ", "2030", "UN_WPP")));
    assert_eq!(un2030.hi95, Some(figure("KAZ.U95", "MIG_NET_PROJ", "2030", "UN_WPP")));
    assert!((un2030.median.unwrap() - -6_269.0).abs() < 1.0);

    // History: the WPP release, as the harmonised view picked it.
    let hist = rows(&report, KAZ_NET, RowKind::History);
    assert_eq!(hist.len(), 5, "five history years by default");
    let last = hist.last().unwrap();
    assert_eq!(last.period, "2023");
    assert_eq!(last.model_or_source, "UN_WPP");
    assert_eq!(last.mean, figure(KAZ_NET, "MIG_EXT", "2023", "UN_WPP"));
    let series = &report.series[0];
    assert_eq!((series.history_from, series.history_to, series.years), (1950, 2023, 74));
    assert!(series.calibration.calibrated && !series.calibration.short_history);
    assert!(series.calibration.factors.iter().all(|f| *f >= 1.0));
    let notes = report.notes.join("\n");
    assert!(notes.contains("1950–2023") && notes.contains("World Population Prospects 2024"), "{notes}");
    assert!(notes.contains("Why they differ") && notes.contains("Bayesian hierarchical"), "{notes}");
}

#[test]
fn scenario_files_change_the_forecast_as_they_say() {
    let brain = ForecastRequest {
        model: "ets".into(),
        scenarios: vec![ScenarioSource::Bundled("brain-drain".into())],
        ..kaz_net(3)
    };
    let report = forecast(brain.clone());
    let base = rows(&report, KAZ_NET, RowKind::Forecast);
    let sc = scenario_rows(&report, KAZ_NET, "brain-drain");
    assert_eq!((base.len(), sc.len()), (3, 3));
    for (b, s) in base.iter().zip(&sc) {
        // 2017's higher-educated loss (−8,048 − 506, paper 003 Table 2) once more every year.
        assert!((s.mean - (b.mean - 8_554.0)).abs() < 1e-6, "{b:?} {s:?}");
    }
    assert_eq!(
        -8_554.0,
        figure("KAZ.CIS._T.ED5T8.NET", "MIG_EXT", "2017", "PAPER_003")
            + figure("KAZ.NON_CIS._T.ED5T8.NET", "MIG_EXT", "2017", "PAPER_003")
    );
    // The file and the bundled name are the same scenario.
    let from_file = forecast(ForecastRequest {
        scenarios: vec![ScenarioSource::File(scenarios_dir().join("brain-drain.toml"))],
        ..brain
    });
    assert_eq!(from_file.rows, report.rows);

    // Every shipped scenario is bundled, parses, cites a paper and applies to Kazakhstan's net migration.
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenarios_dir()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let names: Vec<String> = files.iter().map(|f| f.file_stem().unwrap().to_str().unwrap().to_string()).collect();
    assert_eq!(names, BUNDLED_SCENARIOS.map(|(n, _)| n.to_string()));
    for (file, (name, text)) in files.iter().zip(BUNDLED_SCENARIOS) {
        assert_eq!(std::fs::read_to_string(file).unwrap(), text, "{name} is bundled as it is on disk");
        assert!(text.contains("seeds/"), "{name} cites no paper");
        let report = forecast(ForecastRequest { scenarios: vec![ScenarioSource::Bundled(name.into())], ..kaz_net(2) });
        assert_eq!(scenario_rows(&report, KAZ_NET, name).len(), 2, "{name}");
    }
    let zero =
        forecast(ForecastRequest { scenarios: vec![ScenarioSource::Bundled("zero-migration".into())], ..kaz_net(2) });
    assert!(scenario_rows(&zero, KAZ_NET, "zero-migration").iter().all(|r| r.mean == 0.0));

    // A name that is not bundled is refused with the names there are.
    let e = bundled()
        .forecast(&ForecastRequest { scenarios: vec![ScenarioSource::Bundled("no-such".into())], ..kaz_net(2) })
        .unwrap_err();
    assert!(matches!(&e, AppError::NotFound { what: "scenario", .. }) && e.to_string().contains("brain-drain"), "{e}");
}

#[test]
fn regional_arrivals_add_up_to_the_national_total_and_say_the_history_is_short() {
    let report = forecast(ForecastRequest {
        dataflow: "MIG_INT".into(),
        keys: vec![".ARR".into()],
        horizon: 3,
        reconcile: Some(Reconciliation::Wls),
        ..ForecastRequest::default()
    });
    let notes = report.notes.join("\n");
    assert!(notes.contains("too short") && notes.contains("NOT calibrated"), "{notes}");
    let total_name = report.rows.iter().map(|r| r.series.as_str()).find(|s| s.starts_with("KAZ.ARR")).expect("a total");
    let regions: BTreeSet<&str> =
        report.rows.iter().map(|r| r.series.as_str()).filter(|s| s.starts_with("KZ-")).collect();
    assert_eq!(regions.len(), 20, "17 regions and 3 cities since 2022: {regions:?}");
    for year in ["2025", "2026", "2027"] {
        let at = |s: &str| {
            report
                .rows
                .iter()
                .find(|r| r.series == s && r.period == year && r.kind == RowKind::Forecast)
                .map(|r| r.mean)
                .unwrap()
        };
        let sum: f64 = regions.iter().map(|r| at(r)).sum();
        assert!((sum - at(total_name)).abs() <= 1e-6 * at(total_name), "{year}: {sum} vs {}", at(total_name));
    }
    // 2024 is built from the bank's twelve monthly figures of Astana.
    let months: f64 = (1..=12).map(|m| figure("KZ-71.ARR", "MIG_INT", &format!("2024-{m:02}"), "KZ_BNS")).sum();
    let h2024 = report
        .rows
        .iter()
        .find(|r| r.series == "KZ-71.ARR" && r.period == "2024" && r.kind == RowKind::History)
        .unwrap();
    assert_eq!(h2024.mean, months);
    let h2023 = report.rows.iter().find(|r| r.series == "KZ-71.ARR" && r.period == "2023").unwrap();
    assert_eq!(h2023.mean, figure("KZ-71.ARR", "MIG_INT", "2023", "KZ_BNS"));
    assert!(report.series.iter().all(|s| s.calibration.short_history && !s.calibration.calibrated));
}

#[test]
fn keys_follow_the_one_key_grammar_as_the_query_does() {
    // Repeated keys combine with AND; dotted and DIM=CODE forms mix.
    let keys = vec!["REF_AREA=KAZ+KGZ".to_string(), ".WLD._T._T.NET".to_string()];
    let report =
        forecast(ForecastRequest { dataflow: "MIG_EXT".into(), keys: keys.clone(), horizon: 2, ..Default::default() });
    let forecast_series: BTreeSet<String> = report.series.iter().map(|s| s.series.clone()).collect();
    let query = bundled()
        .query(&QueryRequest { dataflow: "MIG_EXT".into(), keys, harmonised: true, ..QueryRequest::default() })
        .unwrap();
    let Figures::Harmonised(figures) = query.items else { panic!("harmonised") };
    let queried: BTreeSet<String> = figures.iter().map(|f| f.key.join(".")).collect();
    assert_eq!(forecast_series, queried);
    assert!(forecast_series.contains(KAZ_NET) && forecast_series.iter().all(|s| s.ends_with(".WLD._T._T.NET")));
    assert!(forecast_series.len() >= 2, "{forecast_series:?}");

    // A mistyped code is the query's error, naming it, never an empty forecast.
    let e = bundled().forecast(&ForecastRequest { keys: vec!["KAZZ.WLD._T._T.NET".into()], ..kaz_net(2) }).unwrap_err();
    assert_eq!(e.code(), "UNKNOWN_CODE", "{e}");
    assert!(e.to_string().contains("KAZZ"), "{e}");
}

#[test]
fn limits_are_the_applications() {
    let invalid = |request: ForecastRequest, field: &str| {
        let e = bundled().forecast(&request).unwrap_err();
        assert!(matches!(&e, AppError::Invalid { field: f, .. } if f == field), "{field}: {e}");
    };
    invalid(kaz_net(0), "horizon");
    invalid(kaz_net(101), "horizon");
    invalid(ForecastRequest { model: "bogus".into(), ..kaz_net(3) }, "model");
    invalid(ForecastRequest { keys: vec![], ..kaz_net(3) }, "key");
    invalid(
        ForecastRequest { dataflow: "MIG_INT".into(), keys: vec!["KZ-71.ARR".into()], compare_un: true, ..kaz_net(3) },
        "compare_un",
    );
    invalid(ForecastRequest { reconcile: Some(Reconciliation::Ols), ..kaz_net(3) }, "reconcile");
    let e = bundled().backtest(&BacktestRequest { origins: 0, ..backtest_kaz() }).unwrap_err();
    assert!(matches!(&e, AppError::Invalid { field, .. } if field == "origins"), "{e}");
}

fn backtest_kaz() -> BacktestRequest {
    BacktestRequest { dataflow: "MIG_EXT".into(), keys: vec![KAZ_NET.into()], ..BacktestRequest::default() }
}

/// sMAPE and MASE of the naive forecast (the last value carried forward) from `origin`.
fn naive_scores(y: &[f64], origin: usize, steps: usize) -> (f64, f64) {
    let f = y[origin - 1];
    let actual = &y[origin..origin + steps];
    let smape = actual.iter().map(|a| 200.0 * (a - f).abs() / (a.abs() + f.abs())).sum::<f64>() / steps as f64;
    let train = &y[..origin];
    let scale = train.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (train.len() - 1) as f64;
    let mae = actual.iter().map(|a| (a - f).abs()).sum::<f64>() / steps as f64;
    (smape, mae / scale)
}

#[test]
fn backtest_scores_are_the_hand_computed_ones() {
    let report = bundled()
        .backtest(&BacktestRequest { models: vec!["ets".into(), "naive".into()], origins: 8, ..backtest_kaz() })
        .unwrap();
    assert_eq!(report.rows.len(), 2);
    for r in &report.rows {
        assert_eq!((r.origins, r.horizon), (8, 3), "{r:?}");
        for c in [r.coverage80, r.coverage95, r.coverage95_uncalibrated] {
            assert!((0.0..=1.0).contains(&c), "{r:?}");
        }
        assert!(r.coverage95 >= r.coverage80, "{r:?}");
    }

    // The history, as the harmonised view gives it: 1950–2023, one figure a year.
    let query = bundled()
        .query(&QueryRequest {
            dataflow: "MIG_EXT".into(),
            keys: vec![KAZ_NET.into()],
            harmonised: true,
            ..QueryRequest::default()
        })
        .unwrap();
    let Figures::Harmonised(figures) = query.items else { panic!("harmonised") };
    let annual: Vec<(i32, f64)> =
        figures.iter().filter_map(|f| Some((f.time_period.parse::<i32>().ok()?, f.value_base?))).collect();
    let years: Vec<i32> = annual.iter().map(|a| a.0).collect();
    assert_eq!(years, (1950..=2023).collect::<Vec<_>>());
    let y: Vec<f64> = annual.iter().map(|a| a.1).collect();

    // The naive model at the last 8 origins (2016 … 2023), by hand.
    let naive: Vec<_> = report.by_origin.iter().filter(|o| o.model == "naive").collect();
    let periods: Vec<&str> = naive.iter().map(|o| o.period.as_str()).collect();
    assert_eq!(periods, ["2016", "2017", "2018", "2019", "2020", "2021", "2022", "2023"]);
    let (mut smape_sum, mut mase_sum) = (0.0, 0.0);
    for o in &naive {
        let origin = (o.period.parse::<i32>().unwrap() - 1950) as usize;
        let steps = 3.min(y.len() - origin);
        assert_eq!(o.steps, steps);
        let (smape, mase) = naive_scores(&y, origin, steps);
        assert!((o.smape - smape).abs() < 1e-9 * smape.max(1.0), "{} sMAPE {} vs {smape}", o.period, o.smape);
        assert!((o.mase - mase).abs() < 1e-9 * mase.max(1.0), "{} MASE {} vs {mase}", o.period, o.mase);
        smape_sum += smape;
        mase_sum += mase;
    }
    let naive_row = report.rows.iter().find(|r| r.model == "naive").unwrap();
    assert!((naive_row.smape - smape_sum / 8.0).abs() < 1e-9 * naive_row.smape, "{naive_row:?}");
    assert!((naive_row.mase - mase_sum / 8.0).abs() < 1e-9 * naive_row.mase, "{naive_row:?}");
    // One figure worked through: from 2023 the naive forecast is 2022's figure against 2023's.
    let (y22, y23) = (figure(KAZ_NET, "MIG_EXT", "2022", "UN_WPP"), figure(KAZ_NET, "MIG_EXT", "2023", "UN_WPP"));
    let last = naive.last().unwrap();
    assert!((last.smape - 200.0 * (y23 - y22).abs() / (y23.abs() + y22.abs())).abs() < 1e-9, "{last:?}");

    // Too short a history is refused with the reason.
    let e = bundled()
        .backtest(&BacktestRequest {
            dataflow: "MIG_INT".into(),
            keys: vec![".ARR".into()],
            ..BacktestRequest::default()
        })
        .unwrap_err();
    assert!(e.to_string().contains("a backtest needs at least"), "{e}");
}
