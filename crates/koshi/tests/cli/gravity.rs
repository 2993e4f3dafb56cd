//! `koshi gravity` end to end: published results through the CLI, the UN DESA panel, push–pull
//! with paper 003's Table 4 corridor, counterfactuals and the potential index.

use crate::{bundled_bank, json, koshi, run};

const TRADE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/gravity/fixest_trade.csv");
const KOREA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/gravity/korea_gravity.csv");
const PANEL_FORMULA: &str = "flow ~ log(dist) + contig + eaeu | orig^year + dest^year";

fn coef<'a>(v: &'a serde_json::Value, term: &str) -> &'a serde_json::Value {
    v["coefficients"].as_array().unwrap().iter().find(|c| c["term"] == term).unwrap_or_else(|| panic!("no {term}: {v}"))
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn fixest_trade_example_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    let formula = "Euros ~ log(dist_km) | Origin + Destination + Product + Year";
    let v = json(&db, &["gravity", "fit", formula, "--data", TRADE, "--vcov", "cluster(Origin)"]);
    let b = coef(&v, "log(dist_km)");
    assert!((f(&b["estimate"]) - (-1.52787)).abs() < 5e-6, "{b}");
    assert!((f(&b["std_error"]) - 0.115678).abs() < 5e-7, "{b}");
    assert_eq!(v["n_obs"], 38_325);
    assert_eq!(v["dropped"]["total"], 0);
    assert_eq!(v["converged"], true);
    assert!(f(&v["iterations"]) > 1.0 && f(&v["deviance"]) > 0.0 && f(&v["pseudo_r2"]) > 0.5);
    // The same fit as CSV and as a table.
    let csv = String::from_utf8(
        run(&db, &["gravity", "fit", formula, "--data", TRADE, "--vcov", "cluster(Origin)", "--format", "csv"]).stdout,
    )
    .unwrap();
    // CSV is for programs: the full-precision figures of the JSON, not the table's rounding.
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("term,estimate,std_error,z,p_value,ci_low,ci_high"), "{csv}");
    let cells: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    assert_eq!(cells[0], "log(dist_km)", "{csv}");
    assert_eq!(cells[1].parse::<f64>().ok(), b["estimate"].as_f64(), "{csv}");
    assert_eq!(cells[2].parse::<f64>().ok(), b["std_error"].as_f64(), "{csv}");
    let table = String::from_utf8(run(&db, &["gravity", "fit", formula, "--data", TRADE]).stdout).unwrap();
    assert!(table.contains("Observations: 38325 used of 38325 rows") && table.contains("cluster(Origin)"), "{table}");
    // OLS on logs drops nothing here (no zero flows) and gives a different, still negative, slope.
    let ols = json(&db, &["gravity", "fit", formula, "--data", TRADE, "--estimator", "ols"]);
    let b_ols = f(&coef(&ols, "log(dist_km)")["estimate"]);
    assert!(b_ols < 0.0 && (b_ols - (-1.52787)).abs() > 0.01, "{b_ols}");
}

#[test]
fn korea_2020_distance_decay_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    let args = [
        "gravity",
        "fit",
        "flow ~ orig + dest + log(dist_cent)",
        "--data",
        KOREA,
        "--where",
        "year=2020",
        "--estimator",
        "poisson",
    ];
    let v = json(&db, &args);
    let b = f(&coef(&v, "log(dist_cent)")["estimate"]);
    assert!((b - (-0.920)).abs() < 5e-4, "distance decay {b}");
    assert_eq!(v["n_obs"], 272, "17 intra-regional rows have log(0) and drop out");
    assert_eq!(v["dropped"]["missing"], 17);
    let hd = json(
        &db,
        &[
            "gravity",
            "fit",
            "flow ~ log(dist_cent) | orig + dest",
            "--data",
            KOREA,
            "--where",
            "year=2020",
            "--fixed-effects",
            "--fitted",
        ],
    );
    assert!((f(&coef(&hd, "log(dist_cent)")["estimate"]) - b).abs() < 1e-7);
    assert_eq!(hd["fitted"].as_array().unwrap().len(), 272);
    assert_eq!(hd["fixed_effects"].as_array().unwrap().len(), 17 + 17);
}

#[test]
fn undesa_panel_size_and_distance_elasticity() {
    let db = bundled_bank();
    let s = json(db, &["gravity", "panel"]);
    let s = &s[0];
    // 230 countries with coordinates and UN DESA data, all ordered pairs, 7 years.
    assert_eq!(s["origins"], 230);
    assert_eq!(s["destinations"], 230);
    assert_eq!(s["years"], serde_json::json!([1990, 1995, 2000, 2005, 2010, 2015, 2019]));
    assert_eq!(s["rows"], 230 * 229 * 7);
    // EAEU at mid-year: 2015 without Kyrgyzstan (joined in August) 4·3, 2019 5·4 ordered pairs.
    assert_eq!(s["eaeu_rows"], 12 + 20);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("panel.csv");
    run(db, &["gravity", "panel", "--out", out.to_str().unwrap()]);
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 1 + 230 * 229 * 7);
    let kaz_uzb = text.lines().find(|l| l.starts_with("UZB,KAZ,2019,")).unwrap();
    let cells: Vec<&str> = kaz_uzb.split(',').collect();
    assert_eq!(cells[3], "294395", "UN DESA 2019: Uzbek-born in Kazakhstan");
    let km: f64 = cells[4].parse().unwrap();
    // Paper 003's Table 4 prints 1,104 km from Kazakhstan's capital to Uzbekistan.
    assert!((km / 1_104.0 - 1.0).abs() < 0.02, "Astana–Tashkent great circle {km} km");
    assert_eq!(cells[5], "1", "land border");

    let v = json(db, &["gravity", "fit", PANEL_FORMULA, "--data", "undesa-panel"]);
    let dist = f(&coef(&v, "log(dist)")["estimate"]);
    assert!((-2.0..-0.5).contains(&dist), "distance elasticity {dist}");
    assert!(f(&coef(&v, "contig")["estimate"]) > 0.0);
    assert!(f(&v["n_obs"]) > 300_000.0);
}

#[test]
fn push_pull_shows_table_4_corridor() {
    let db = bundled_bank();
    let v = json(
        db,
        &[
            "gravity",
            "push-pull",
            "flow ~ log(dist) + contig | orig + dest + year",
            "--data",
            "undesa-panel",
            "--corridor",
            "KAZ",
        ],
    );
    let push = v["push"].as_array().unwrap();
    assert_eq!(push[0]["rank"], 1);
    assert!(f(&push[0]["estimate"]) >= f(&push[1]["estimate"]));
    let c = &v["corridor"];
    assert_eq!(c["destination"], "KAZ");
    let partners = c["partners"].as_array().unwrap();
    let names: Vec<&str> = partners.iter().map(|p| p["partner"].as_str().unwrap()).collect();
    assert_eq!(names, ["CHN", "RUS", "UZB", "KGZ"]);
    let row = |p: &str| partners.iter().find(|r| r["partner"] == p).unwrap();
    // Paper 003, Table 4, as stored in the bank.
    let expect = [
        ("CHN", 1386.4, 11_713.0, 3_662.0, 12_237.7, 1_533.0),
        ("RUS", 144.5, 11_209.0, 2_280.0, 1_577.5, 7_600.0),
        ("UZB", 32.4, 3_012.0, 1_104.0, 48.7, 2_203.0),
        ("KGZ", 6.2, 14_733.0, 948.0, 7.6, 980.0),
    ];
    for (p, pop, lab, dist, gdp, border) in expect {
        let r = row(p);
        assert!((f(&r["population_mln"]) - pop).abs() < 1e-6, "{r}");
        assert_eq!(f(&r["labour_migrants"]), lab, "{r}");
        assert_eq!(f(&r["distance_to_capital_km"]), dist, "{r}");
        assert!((f(&r["gdp_bn_usd"]) - gdp).abs() < 1e-6, "{r}");
        assert_eq!(f(&r["border_km"]), border, "{r}");
        assert!(r["push_rank"].as_u64().unwrap() >= 1, "{r}");
    }
    // Russia's and Uzbekistan's push into the world exceed Kyrgyzstan's (larger diasporas).
    assert!(f(&row("RUS")["push"]) > f(&row("KGZ")["push"]));
    // The potential index uses the fitted distance elasticity; shares add up to 100.
    let total: f64 = partners.iter().map(|r| f(&r["potential_share_pct"])).sum();
    assert!((total - 100.0).abs() < 1e-9);
    let c_el = f(&c["elasticities"]["distance"]);
    assert!((c_el + f(&coef(&v, "log(dist)")["estimate"])).abs() < 1e-12);
    assert!(c["destination_pull"]["rank"].as_u64().is_some());
}

#[test]
fn potential_index_follows_its_formula() {
    let db = bundled_bank();
    let v = json(db, &["gravity", "potential", "--a", "1", "--b", "1", "--c", "2"]);
    let partners = v["partners"].as_array().unwrap();
    let p = |code: &str| f(&partners.iter().find(|r| r["partner"] == code).unwrap()["potential"]);
    // P = pop · GDP / dist² with Table 4's figures.
    assert!((p("CHN") - 1386.4 * 12_237.7 / 3_662.0f64.powi(2)).abs() < 1e-9);
    assert!((p("KGZ") - 6.2 * 7.6 / 948.0f64.powi(2)).abs() < 1e-12);
    let top = partners.iter().max_by(|a, b| f(&a["potential"]).total_cmp(&f(&b["potential"]))).unwrap();
    assert_eq!(top["partner"], "CHN");
    assert_eq!(f(&top["potential_relative"]), 100.0);
}

#[test]
fn counterfactual_eaeu_membership_for_uzbekistan() {
    let db = bundled_bank();
    let v = json(
        db,
        &[
            "gravity",
            "fit",
            PANEL_FORMULA,
            "--data",
            "undesa-panel",
            "--counterfactual",
            "eaeu=1 where orig=UZB and dest=KAZ,RUS,KGZ,ARM,BLR and year=2019",
            "--within",
            "dest=KAZ and year=2019",
        ],
    );
    let eaeu = f(&coef(&v, "eaeu")["estimate"]);
    let cf = v["counterfactual"].as_array().unwrap();
    let changed = cf.iter().find(|r| r["scope"] == "changed rows").unwrap();
    assert_eq!(changed["rows"], 5);
    // All changed rows get exp(β) times their fitted flow.
    let ratio = f(&changed["scenario"]) / f(&changed["baseline"]);
    assert!((ratio - eaeu.exp()).abs() < 1e-9 * ratio, "{ratio} vs exp({eaeu})");
    let se = f(&changed["std_error"]);
    assert!(se > 0.0 && f(&changed["ci_low"]) < f(&changed["percent_change"]));
    let all = cf.iter().find(|r| r["scope"] == "all rows").unwrap();
    assert!(f(&all["percent_change"]) > 0.0 && f(&all["percent_change"]) < f(&changed["percent_change"]));
    assert!(cf.iter().any(|r| r["scope"] == "within dest=KAZ and year=2019"));

    let bad = koshi()
        .arg("--db")
        .arg(db)
        .args(["gravity", "fit", PANEL_FORMULA, "--data", "undesa-panel", "--counterfactual", "gdp=1 where orig=UZB"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("`gdp` is not a numeric column"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

#[test]
fn help_teaches_with_examples() {
    let out = koshi().args(["gravity", "fit", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--counterfactual") && text.contains("undesa-panel") && text.contains("Examples:"), "{text}");
}
