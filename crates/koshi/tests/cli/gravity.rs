//! `koshi gravity` as an adapter: the published fixest example through the CLI (JSON, CSV and
//! table), its error messages naming the flags, the help, and the same JSON document as the
//! HTTP API for each use case. The workflows themselves are tested in the application crate.

use crate::same_json::{assert_same, http};
use crate::{bundled_bank, json, koshi, run};

const TRADE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/gravity/fixest_trade.csv");

fn coef<'a>(v: &'a serde_json::Value, term: &str) -> &'a serde_json::Value {
    v["coefficients"].as_array().unwrap().iter().find(|c| c["term"] == term).unwrap_or_else(|| panic!("no {term}: {v}"))
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// `text` with everything but letters and digits percent-encoded, for a query string.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
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
}

#[test]
fn errors_name_the_flags() {
    let db = bundled_bank();
    let fails = |args: &[&str]| {
        let out = koshi().arg("--db").arg(db).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let base = ["gravity", "fit", "value ~ log(dist)", "--data", "LAB_MIG"];
    let bad = fails(&[&base[..], &["--counterfactual", "gdp=1 where counterpart=UZB"][..]].concat());
    assert!(bad.contains("--counterfactual") && bad.contains("`gdp` is not a numeric column"), "{bad}");
    let bad = fails(&[&base[..], &["--where", "measur=LAB_MIGRANTS"][..]].concat());
    assert!(bad.contains("--where") && bad.contains("no column `measur`"), "{bad}");
    let bad = fails(&["gravity", "fit", "value ~ log(dist)", "--data", "no-such-thing"]);
    assert!(bad.contains("--data no-such-thing: no such file") && bad.contains("koshi dataflows"), "{bad}");
}

#[test]
fn fit_on_a_dataflow_is_the_same_over_http() {
    let formula = "value ~ log(dist) + contig";
    let (filter, edit, within) = ("measure=LAB_MIGRANTS", "dist*=0.5 where counterpart=CHN", "counterpart=CHN,RUS");
    let v = assert_same(
        &[
            "gravity",
            "fit",
            formula,
            "--data",
            "LAB_MIG",
            "--where",
            filter,
            "--vcov",
            "hetero",
            "--counterfactual",
            edit,
            "--within",
            within,
            "--fixed-effects",
        ],
        &format!(
            "/api/gravity/fit?formula={}&data=LAB_MIG&where={}&vcov=hetero&counterfactual={}&within={}&fixed_effects=true",
            encode(formula),
            encode(filter),
            encode(edit),
            encode(within)
        ),
    );
    assert_eq!(v["counterfactual"].as_array().unwrap().len(), 3, "{v}");
    assert!(f(&coef(&v, "log(dist)")["std_error"]) > 0.0, "{v}");
}

#[test]
fn panel_is_the_same_over_http() {
    let v = assert_same(&["gravity", "panel"], "/api/gravity/panel");
    assert_eq!(v["rows"], 230 * 229 * 7);
    assert_eq!(v["eaeu_rows"], 12 + 20);
}

#[test]
fn push_pull_is_the_same_over_http() {
    let formula = "value ~ log(dist) | counterpart + ref_area + year";
    let filter = "ref_area=KAZ,RUS,UZB,KGZ and sex=_T and counterpart=KAZ,RUS,UZB,KGZ,CHN,TJK,TKM";
    let v = assert_same(
        &[
            "gravity",
            "push-pull",
            formula,
            "--data",
            "MIG_STOCK",
            "--where",
            filter,
            "--origin",
            "counterpart",
            "--destination",
            "ref_area",
            "--top",
            "5",
        ],
        &format!(
            "/api/gravity/push-pull?formula={}&data=MIG_STOCK&where={}&origin=counterpart&destination=ref_area&top=5",
            encode(formula),
            encode(filter)
        ),
    );
    assert_eq!(v["push"].as_array().unwrap().len(), 5, "{v}");
    assert_eq!(v["corridor"]["destination"], "KAZ");
    assert_eq!(v["corridor"]["partners"][2]["distance_to_capital_km"], 1_104.0, "paper 003, Table 4");
}

#[test]
fn potential_is_the_same_over_http() {
    let v = assert_same(
        &["gravity", "potential", "--a", "1", "--b", "1", "--c", "1.5", "--partners", "CHN,RUS,UZB"],
        "/api/gravity/potential?a=1&b=1&c=1.5&partners=CHN,RUS,UZB",
    );
    assert_eq!(v["elasticities"]["distance"], 1.5);
    assert_eq!(v["partners"].as_array().unwrap().len(), 3);
}

#[test]
fn http_fits_only_bank_data() {
    let (status, body) = http(&format!("/api/gravity/fit?formula={}&data={}", encode("Euros ~ log(dist_km)"), TRADE));
    assert_eq!(status.as_u16(), 404, "{body}");
    assert_eq!(body["error"]["code"], "UNKNOWN_DATAFLOW");
    let (status, body) = http("/api/gravity/fit?data=LAB_MIG");
    assert_eq!(status.as_u16(), 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("formula"), "{body}");
}

#[test]
fn help_teaches_with_examples() {
    let out = koshi().args(["gravity", "fit", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--counterfactual") && text.contains("undesa-panel") && text.contains("Examples:"), "{text}");
}
