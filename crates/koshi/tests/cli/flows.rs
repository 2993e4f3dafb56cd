//! `koshi flows estimate` and `koshi indices` as adapters: flags into the request, the report
//! out as a table, CSV or the whole JSON document, the request's fields named as flags in
//! errors, and the same documents as the API. The use cases themselves are tested in the
//! application crate.

use crate::same_json::assert_same;
use crate::{bundled_bank, document, json, koshi, run};

fn fails(db: &std::path::Path, args: &[&str]) -> String {
    let out = koshi().arg("--db").arg(db).args(args).output().unwrap();
    assert!(!out.status.success(), "koshi {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn flows_estimate_writes_a_release_that_indices_then_read() {
    // A bank of its own: this test writes releases.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bank.db");
    run(&db, &["load-bundled"]);

    let dry = document(&db, &["flows", "estimate", "--from", "1990", "--to", "1995", "--dry-run"]);
    assert_eq!(dry["outcome"], "dry_run");
    assert!(dry["release_id"].is_null());
    let s = document(&db, &["flows", "estimate", "--from", "1990", "--to", "1995", "--method", "demo"]);
    assert_eq!(s["outcome"], "created");
    assert_eq!(s["method"], "demo");
    assert_eq!(s["total_movers"], dry["total_movers"]);
    assert!(s["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().starts_with("Kazakhstan:")), "{s}");
    let stored = json(&db, &["query", "MIG_FLOW_EST", "--from", "1990/1995", "--to", "1990/1995"]);
    assert_eq!(stored.as_array().unwrap().len() as u64, s["observations"].as_u64().unwrap());

    // The table says what happened; CSV is one row per country's margins.
    let table = String::from_utf8(run(&db, &["flows", "estimate", "--from", "1990", "--to", "1995"]).stdout).unwrap();
    assert!(table.contains("unchanged") && table.contains("world total of moves"), "{table}");
    let csv = String::from_utf8(
        run(&db, &["flows", "estimate", "--from", "1990", "--to", "1995", "--dry-run", "--format", "csv"]).stdout,
    )
    .unwrap();
    assert!(csv.starts_with("region,residents_start,residents_end,births,deaths"), "{csv}");
    assert_eq!(csv.lines().count() as u64, 1 + s["regions"].as_u64().unwrap());

    // Two methods' estimates of one period: indices ask for --release.
    run(&db, &["flows", "estimate", "--from", "1990", "--to", "1995", "--method", "diff"]);
    assert!(fails(&db, &["indices", "MIG_FLOW_EST", "--year", "1990/1995"]).contains("--release"));
    let idx = document(&db, &["indices", "MIG_FLOW_EST", "--year", "1995", "--release", "demo"]);
    assert_eq!(idx["kind"], "origin_destination");
    assert_eq!(idx["period"], "1990/1995");
    let migrants = idx["items"].as_array().unwrap().iter().find(|i| i["index"] == "migrants").unwrap();
    let world = s["total_movers"].as_f64().unwrap();
    assert!((migrants["value"].as_f64().unwrap() - world).abs() < 1e-6 * world);
    let table = String::from_utf8(run(&db, &["indices", "MIG_FLOW_EST", "--year", "1995", "--release", "demo"]).stdout)
        .unwrap();
    assert!(table.contains("distance_decay") && table.contains("• populations: POP 1990"), "{table}");
}

#[test]
fn request_errors_name_the_flags() {
    let db = bundled_bank();
    assert!(fails(db, &["flows", "estimate", "--from", "1995", "--to", "1990"]).contains("--to"));
    assert!(
        fails(db, &["flows", "estimate", "--from", "1990", "--to", "1995", "--stocks", "POP"]).contains("--stocks")
    );
    assert!(fails(db, &["indices", "MIG_INT", "--year", "20x3"]).contains("--year"));
    let unknown = fails(db, &["indices", "MIG_INT", "--key", "REF_AREA=KZ-711"]);
    assert!(unknown.contains("KZ-711"), "{unknown}");
}

#[test]
fn indices_and_the_estimate_dry_run_answer_the_same_over_http() {
    let regional = assert_same(&["indices", "MIG_INT", "--year", "2023"], "/api/indices/MIG_INT?year=2023");
    assert_eq!(regional["kind"], "regional");
    assert_eq!(regional["total"], 20);
    let two = assert_same(
        &["indices", "MIG_INT", "--key", "REF_AREA=KZ-71+KZ-75"],
        "/api/indices/MIG_INT?key=REF_AREA%3DKZ-71%2BKZ-75",
    );
    assert_eq!(two["total"].as_u64().unwrap(), 2 * two["years"].as_array().unwrap().len() as u64);
    let estimate = assert_same(
        &["flows", "estimate", "--from", "2010", "--to", "2015", "--method", "diff", "--dry-run"],
        "/api/flows/estimate?from=2010&to=2015&method=diff",
    );
    assert_eq!(estimate["outcome"], "dry_run");
    assert_eq!(estimate["period"], "2010/2015");
    // The API has no way to write.
    let (status, body) = crate::same_json::http("/api/flows/estimate?from=2010&to=2015&dry_run=false");
    assert_eq!(status, axum::http::StatusCode::BAD_REQUEST, "{body}");
}
