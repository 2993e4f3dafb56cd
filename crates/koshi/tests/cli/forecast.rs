//! `koshi forecast` and `koshi backtest` as a reader meets them: the table, CSV, the argument
//! checks, and the same document as the HTTP API. The figures are tested in the application's
//! own tests (`crates/koshi-app/tests/app/forecast.rs`).

use std::path::PathBuf;

use serde_json::Value;

use crate::same_json::assert_same;
use crate::{bundled_bank, document, koshi, run};

const KAZ_NET: &str = "KAZ.WLD._T._T.NET";

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/scenarios").join(name)
}

fn failure(args: &[&str]) -> String {
    let out = koshi().arg("--db").arg(bundled_bank()).args(args).output().unwrap();
    assert!(!out.status.success(), "koshi {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn forecast_prints_a_table_with_the_un_projection_and_the_notes() {
    let table = String::from_utf8(
        run(bundled_bank(), &["forecast", "MIG_EXT", "--key", KAZ_NET, "--horizon", "7", "--compare-un"]).stdout,
    )
    .unwrap();
    assert!(table.contains("UN median") && table.contains("Why they differ"), "{table}");
    assert!(table.contains("2030") && table.contains("forecast") && table.contains("history"), "{table}");
}

#[test]
fn forecast_csv_is_the_rows_and_json_the_whole_report() {
    let brain = scenario("brain-drain.toml");
    let args = ["forecast", "MIG_EXT", "--key", KAZ_NET, "--horizon", "2", "--scenario", brain.to_str().unwrap()];
    let mut csv_args = args.to_vec();
    csv_args.extend(["--format", "csv"]);
    let csv = String::from_utf8(run(bundled_bank(), &csv_args).stdout).unwrap();
    let header = csv.lines().next().unwrap();
    for column in ["series", "period", "kind", "scenario", "mean", "lo95", "hi95", "unit"] {
        assert!(header.split(',').any(|c| c == column), "{column} in {header}");
    }
    assert_eq!(csv.lines().count(), 1 + 5 + 2 + 2, "header, 5 history, 2 forecast, 2 scenario years:\n{csv}");

    let report = document(bundled_bank(), &args);
    for field in ["dataflow", "model", "horizon", "series", "rows", "notes"] {
        assert!(report.get(field).is_some(), "{field} in {report}");
    }
    // A bundled scenario may be named instead of its file.
    let named = document(
        bundled_bank(),
        &["forecast", "MIG_EXT", "--key", KAZ_NET, "--horizon", "2", "--scenario", "brain-drain"],
    );
    assert_eq!(named, report);
}

#[test]
fn arguments_out_of_range_are_refused_with_the_reason() {
    let e = failure(&["forecast", "MIG_EXT", "--key", KAZ_NET, "--horizon", "0"]);
    assert!(e.contains("the horizon must be from 1 to 100 periods, not 0"), "{e}");
    let e = failure(&["backtest", "MIG_EXT", "--key", KAZ_NET, "--origins", "101"]);
    assert!(e.contains("the number of origins must be from 1 to 100 periods, not 101"), "{e}");
    let e = failure(&["forecast", "MIG_EXT", "--key", KAZ_NET, "--model", "bogus"]);
    assert!(e.contains("--model") && e.contains("use auto, combo"), "{e}");
    let e = failure(&["forecast", "MIG_INT", "--key", "KZ-71.ARR", "--compare-un"]);
    assert!(e.contains("--compare-un") && e.contains("net migration"), "{e}");
    let e = failure(&["backtest", "MIG_INT", "--key", ".ARR"]);
    assert!(e.contains("a backtest needs at least"), "{e}");
}

#[test]
fn backtest_prints_accuracy_and_coverage() {
    let table = String::from_utf8(
        run(bundled_bank(), &["backtest", "MIG_EXT", "--key", KAZ_NET, "--model", "naive", "--origins", "4"]).stdout,
    )
    .unwrap();
    assert!(table.contains("sMAPE") && table.contains("cover95 uncalibrated") && table.contains("naive"), "{table}");
}

#[test]
fn forecasts_answer_the_same_over_http() {
    let brain = scenario("brain-drain.toml");
    let report = assert_same(
        &[
            "forecast",
            "MIG_EXT",
            "--key",
            KAZ_NET,
            "--horizon",
            "3",
            "--compare-un",
            "--scenario",
            brain.to_str().unwrap(),
        ],
        &format!("/api/forecast/MIG_EXT?key={KAZ_NET}&horizon=3&compare_un=true&scenario=brain-drain"),
    );
    let rows = report["rows"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["kind"] == "scenario" && r["scenario"] == "brain-drain"), "{report}");
    assert!(rows.iter().any(|r| r["un"]["median"].is_number()), "{report}");
    let reconciled = assert_same(
        &["forecast", "MIG_INT", "--key", ".ARR", "--horizon", "2", "--reconcile", "--reconcile-method", "bottom-up"],
        "/api/forecast/MIG_INT?key=.ARR&horizon=2&reconcile=bottom-up",
    );
    assert_eq!(reconciled["reconcile"], Value::from("bottom-up"));
}

#[test]
fn backtests_answer_the_same_over_http() {
    let report = assert_same(
        &["backtest", "MIG_EXT", "--key", KAZ_NET, "--model", "ets", "--model", "naive", "--origins", "5"],
        &format!("/api/backtest/MIG_EXT?key={KAZ_NET}&model=ets,naive&origins=5"),
    );
    assert_eq!(report["rows"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(report["by_origin"].as_array().unwrap().len(), 10, "{report}");
}
