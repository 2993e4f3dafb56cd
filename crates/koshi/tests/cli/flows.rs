//! `koshi flows estimate` and `koshi indices` end to end.

use std::collections::HashMap;

use serde_json::Value;

use crate::{bundled_bank, figure, json, koshi, run};

fn f(v: &Value, field: &str) -> f64 {
    v[field].as_f64().unwrap_or_else(|| panic!("{field} in {v}"))
}

/// A bank of its own: these tests write releases.
fn own_bank() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bank.db");
    run(&db, &["load-bundled"]);
    (dir, db)
}

#[test]
fn demographic_accounting_1990_1995_is_written_once_and_honours_the_stock_margins() {
    let (_dir, db) = own_bank();
    let summary = json(&db, &["flows", "estimate", "--from", "1990", "--to", "1995", "--method", "demo"]);
    let s = &summary[0];
    assert_eq!(s["outcome"], "created");
    assert_eq!(s["period"], "1990/1995");
    assert!(s["definition"].as_str().unwrap().contains("demographic accounting"), "{s}");
    assert!(s["converged"].as_bool().unwrap());

    // The stored table, read back from the bank.
    let rows = json(&db, &["query", "MIG_FLOW_EST", "--from", "1990/1995", "--to", "1990/1995"]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len() as u64, s["observations"].as_u64().unwrap());
    assert!(rows.iter().all(|r| r["source"] == "KOSHI_EST" && r["status"] == "E" && r["time_period"] == "1990/1995"));
    let (mut inflow, mut outflow) = (HashMap::<String, f64>::new(), HashMap::<String, f64>::new());
    let mut world = 0.0;
    for r in rows {
        let v = f(r, "value");
        let (dest, orig) = (r["key"][0].as_str().unwrap().to_string(), r["key"][1].as_str().unwrap().to_string());
        assert!(v > 0.0 && dest != orig);
        *inflow.entry(dest).or_default() += v;
        *outflow.entry(orig).or_default() += v;
        world += v;
    }
    assert!((1e7..1e8).contains(&world), "world total of moves {world}");

    // Margins: each country's net migration from the stored flows equals what its stocks imply
    // (end residents − births − (start residents − deaths)), to 1e-6.
    let margins = s["margins"].as_array().unwrap();
    assert!(margins.len() > 200);
    for m in margins {
        let c = m["region"].as_str().unwrap();
        let net = inflow.get(c).copied().unwrap_or(0.0) - outflow.get(c).copied().unwrap_or(0.0);
        let stocks = (f(m, "residents_end") - f(m, "births")) - (f(m, "residents_start") - f(m, "deaths"));
        assert!((net - stocks).abs() <= 1e-6 * f(m, "residents_start").max(1.0), "{c}: flows {net} vs stocks {stocks}");
    }
    // Kazakhstan's residents are the bank's UN DESA populations of the same vintage.
    let kaz = margins.iter().find(|m| m["region"] == "KAZ").unwrap();
    let pop = |y: &str| {
        let rows = json(&db, &["query", "POP", "--key", "KAZ._T._T", "--source", "UN_DESA", "--as-of", "2019-09-17"]);
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["time_period"] == y)
            .map(|r| f(r, "value") * 10f64.powi(r["unit_mult"].as_i64().unwrap() as i32))
            .unwrap()
    };
    assert!((f(kaz, "residents_start") - pop("1990")).abs() < 1e-6 * pop("1990"));
    assert!((f(kaz, "residents_end") - pop("1995")).abs() < 1e-6 * pop("1995"));
    assert!(f(kaz, "net_from_flows") < -300_000.0, "the 1990s emigration from Kazakhstan: {kaz}");

    // Idempotent: the same estimate again creates nothing.
    let releases = |db: &std::path::Path| json(db, &["releases", "MIG_FLOW_EST"]).as_array().unwrap().len();
    let before = releases(&db);
    let again = json(&db, &["flows", "estimate", "--from", "1990", "--to", "1995", "--method", "demo"]);
    assert_eq!(again[0]["outcome"], "unchanged");
    assert_eq!(again[0]["release_id"], s["release_id"]);
    assert_eq!(releases(&db), before);

    // Another method is another release; indices then need to be told which.
    let diff = json(&db, &["flows", "estimate", "--from", "1990", "--to", "1995", "--method", "diff"]);
    assert_eq!(diff[0]["outcome"], "created");
    assert_eq!(releases(&db), before + 1);
    let ambiguous =
        koshi().arg("--db").arg(&db).args(["indices", "MIG_FLOW_EST", "--year", "1990/1995"]).output().unwrap();
    assert!(!ambiguous.status.success());
    assert!(String::from_utf8_lossy(&ambiguous.stderr).contains("--release"));
    let idx = json(&db, &["indices", "MIG_FLOW_EST", "--year", "1995", "--release", "demo"]);
    let get = |name: &str| {
        idx.as_array()
            .unwrap()
            .iter()
            .find(|r| r["index"] == name)
            .map(|r| f(r, "value"))
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert!((get("migrants") - world).abs() < 1e-6 * world);
    assert!((0.0..=100.0).contains(&get("effectiveness")));
    assert!((0.0..=1.0).contains(&get("connectivity")));
    assert!(get("distance_mean") > 100.0 && get("distance_decay") < 0.0);
}

#[test]
fn kazakhstan_regions_2023_arrivals_departures_net_and_effectiveness() {
    let db = bundled_bank();
    let rows = json(db, &["indices", "MIG_INT", "--year", "2023"]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 20, "17 regions and 3 cities");
    for r in rows {
        let region = r["region"].as_str().unwrap();
        let arr = figure(&format!("{region}.ARR"), "MIG_INT", "2023", "KZ_BNS");
        let dep = figure(&format!("{region}.DEP"), "MIG_INT", "2023", "KZ_BNS");
        assert_eq!(f(r, "arrivals"), arr);
        assert_eq!(f(r, "departures"), dep);
        assert_eq!(f(r, "net"), arr - dep);
        assert!((f(r, "effectiveness") - 100.0 * (arr - dep) / (arr + dep)).abs() < 1e-9, "{r}");
        assert_eq!(f(r, "net"), figure(&format!("{region}.NET"), "MIG_INT", "2023", "KZ_BNS"));
    }
    // Astana gains, Turkistan region loses; Turkistan and Shymkent carry South Kazakhstan's territory.
    let by = |c: &str| rows.iter().find(|r| r["region"] == c).unwrap();
    assert!(f(by("KZ-71"), "effectiveness") > 10.0);
    assert!(f(by("KZ-61"), "effectiveness") < -10.0);
    assert!(by("KZ-61")["territory"].as_str().unwrap().contains("KZ-YUZ"));

    // 2022: the year of the Abai, Zhetisu and Ulytau splits is marked on both sides.
    let y2022 = json(db, &["indices", "MIG_INT", "--year", "2022"]);
    let y2022 = y2022.as_array().unwrap();
    let t = |c: &str| y2022.iter().find(|r| r["region"] == c).unwrap()["territory"].as_str().unwrap().to_string();
    assert!(t("KZ-10").contains("created 2022-06-08 from KZ-63"), "{}", t("KZ-10"));
    assert!(t("KZ-63").contains("KZ-10 split off"), "{}", t("KZ-63"));
    assert!(t("KZ-35").contains("KZ-62"), "{}", t("KZ-35"));
    // 2024 comes from twelve monthly figures.
    let y2024 = json(db, &["indices", "MIG_INT", "--year", "2024"]);
    let astana = y2024.as_array().unwrap().iter().find(|r| r["region"] == "KZ-71").unwrap();
    let months: f64 = (1..=12).map(|m| figure("KZ-71.ARR", "MIG_INT", &format!("2024-{m:02}"), "KZ_BNS")).sum();
    assert_eq!(f(astana, "arrivals"), months);
}
