//! `koshi forecast` and `koshi backtest` end to end.

use std::path::PathBuf;

use serde_json::Value;

use crate::{bundled_bank, figure, json, koshi, run};

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/scenarios").join(name)
}

fn rows_of<'a>(rows: &'a Value, series: &str, kind: &str) -> Vec<&'a Value> {
    rows.as_array().unwrap().iter().filter(|r| r["series"] == series && r["kind"] == kind).collect()
}

fn f(v: &Value, field: &str) -> f64 {
    v[field].as_f64().unwrap_or_else(|| panic!("{field} in {v}"))
}

#[test]
fn kazakhstan_net_migration_to_2030_beside_the_un_projection() {
    let db = bundled_bank();
    let key = "KAZ.WLD._T._T.NET";
    let out = koshi()
        .arg("--db")
        .arg(db)
        .args(["forecast", "MIG_EXT", "--key", key, "--horizon", "7", "--compare-un", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes = String::from_utf8_lossy(&out.stderr);

    let fc = rows_of(&rows, key, "forecast");
    let periods: Vec<&str> = fc.iter().map(|r| r["period"].as_str().unwrap()).collect();
    assert_eq!(periods, ["2024", "2025", "2026", "2027", "2028", "2029", "2030"]);
    for r in &fc {
        let (l95, l80, p, u80, u95) =
            (f(r, "lower95"), f(r, "lower80"), f(r, "value"), f(r, "upper80"), f(r, "upper95"));
        assert!(l95 < l80 && l80 < p && p < u80 && u80 < u95, "{r}");
        assert!(r["detail"].as_str().unwrap().starts_with("calibrated on"), "{r}");
    }
    // The UN figures are the bank's own, in persons.
    let r2030 = fc.last().unwrap();
    assert_eq!(f(r2030, "un_median"), figure("KAZ.MED", "MIG_NET_PROJ", "2030", "UN_WPP"));
    assert_eq!(f(r2030, "un_upper95"), figure("KAZ.U95", "MIG_NET_PROJ", "2030", "UN_WPP"));
    assert!((f(r2030, "un_median") - -6_269.0).abs() < 1.0);

    // History: the WPP release, as the harmonised view picked it.
    let hist = rows_of(&rows, key, "history");
    let last = hist.last().unwrap();
    assert_eq!(last["period"], "2023");
    assert_eq!(last["model_or_source"], "UN_WPP");
    assert_eq!(f(last, "value"), figure(key, "MIG_EXT", "2023", "UN_WPP"));
    assert!(notes.contains("1950–2023") && notes.contains("World Population Prospects 2024"), "{notes}");
    assert!(notes.contains("Why they differ") && notes.contains("Bayesian hierarchical"), "{notes}");

    // The table says the same things to a reader.
    let table =
        String::from_utf8(run(db, &["forecast", "MIG_EXT", "--key", key, "--horizon", "7", "--compare-un"]).stdout)
            .unwrap();
    assert!(table.contains("UN median") && table.contains("Why they differ"), "{table}");
}

#[test]
fn scenario_files_change_the_forecast_as_they_say() {
    let db = bundled_bank();
    let key = "KAZ.WLD._T._T.NET";
    let brain = scenario("brain-drain.toml");
    let rows = json(
        db,
        &[
            "forecast",
            "MIG_EXT",
            "--key",
            key,
            "--horizon",
            "3",
            "--model",
            "ets",
            "--scenario",
            brain.to_str().unwrap(),
        ],
    );
    let base = rows_of(&rows, key, "forecast");
    let sc = rows_of(&rows, key, "scenario:brain-drain");
    assert_eq!(base.len(), 3);
    assert_eq!(sc.len(), 3);
    for (b, s) in base.iter().zip(&sc) {
        // 2017's higher-educated loss (−8,048 − 506, paper 003 Table 2) once more every year.
        assert!((f(s, "value") - (f(b, "value") - 8_554.0)).abs() < 1e-6, "{b} {s}");
    }
    assert_eq!(
        -8_554.0,
        figure("KAZ.CIS._T.ED5T8.NET", "MIG_EXT", "2017", "PAPER_003")
            + figure("KAZ.NON_CIS._T.ED5T8.NET", "MIG_EXT", "2017", "PAPER_003")
    );

    // Every shipped scenario parses, cites a paper and applies to Kazakhstan's net migration.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains("seeds/"), "{} cites no paper", file.display());
        let rows =
            json(db, &["forecast", "MIG_EXT", "--key", key, "--horizon", "2", "--scenario", file.to_str().unwrap()]);
        let id = file.file_stem().unwrap().to_str().unwrap();
        assert_eq!(rows_of(&rows, key, &format!("scenario:{id}")).len(), 2, "{}", file.display());
    }
    let zero = json(
        db,
        &[
            "forecast",
            "MIG_EXT",
            "--key",
            key,
            "--horizon",
            "2",
            "--scenario",
            dir.join("zero-migration.toml").to_str().unwrap(),
        ],
    );
    assert!(rows_of(&zero, key, "scenario:zero-migration").iter().all(|r| f(r, "value") == 0.0));
}

#[test]
fn regional_arrivals_add_up_to_the_national_total_and_say_the_history_is_short() {
    let db = bundled_bank();
    let out = koshi()
        .arg("--db")
        .arg(db)
        .args(["forecast", "MIG_INT", "--key", ".ARR", "--horizon", "3", "--reconcile", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let notes = String::from_utf8_lossy(&out.stderr);
    assert!(notes.contains("too short") && notes.contains("NOT calibrated"), "{notes}");
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    let total_name =
        rows.iter().map(|r| r["series"].as_str().unwrap()).find(|s| s.starts_with("KAZ.ARR")).expect("a total");
    let regions: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r["series"].as_str().unwrap()).filter(|s| s.starts_with("KZ-")).collect();
    assert_eq!(regions.len(), 20, "17 regions and 3 cities since 2022: {regions:?}");
    for year in ["2025", "2026", "2027"] {
        let at = |s: &str| {
            rows.iter()
                .find(|r| r["series"] == s && r["period"] == year && r["kind"] == "forecast")
                .map(|r| f(r, "value"))
                .unwrap()
        };
        let sum: f64 = regions.iter().map(|r| at(r)).sum();
        assert!((sum - at(total_name)).abs() <= 1e-6 * at(total_name), "{year}: {sum} vs {}", at(total_name));
    }
    // 2024 is built from the bank's twelve monthly figures of Astana.
    let months: f64 = (1..=12).map(|m| figure("KZ-71.ARR", "MIG_INT", &format!("2024-{m:02}"), "KZ_BNS")).sum();
    let h2024 =
        rows.iter().find(|r| r["series"] == "KZ-71.ARR" && r["period"] == "2024" && r["kind"] == "history").unwrap();
    assert_eq!(f(h2024, "value"), months);
    let h2023 = rows.iter().find(|r| r["series"] == "KZ-71.ARR" && r["period"] == "2023").unwrap();
    assert_eq!(f(h2023, "value"), figure("KZ-71.ARR", "MIG_INT", "2023", "KZ_BNS"));
}

#[test]
fn backtest_prints_accuracy_and_coverage() {
    let rows = json(
        bundled_bank(),
        &["backtest", "MIG_EXT", "--key", "KAZ.WLD._T._T.NET", "--model", "ets", "--model", "naive", "--origins", "8"],
    );
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for r in rows {
        assert_eq!(r["origins"], 8);
        for m in ["smape", "mase", "msis95"] {
            assert!(f(r, m).is_finite() && f(r, m) > 0.0, "{r}");
        }
        for c in ["coverage80", "coverage95", "coverage95_uncalibrated"] {
            assert!((0.0..=1.0).contains(&f(r, c)), "{r}");
        }
        assert!(f(r, "coverage95") >= f(r, "coverage80"), "{r}");
    }
    // Too short a history is refused with the reason.
    let out = koshi().arg("--db").arg(bundled_bank()).args(["backtest", "MIG_INT", "--key", ".ARR"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a backtest needs at least"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
