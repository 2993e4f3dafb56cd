//! End to end: the `koshi` binary on a fresh bank with the bundled datasets — a few smoke tests
//! of the adapter (formats, errors, exit codes, a kill in the middle of an ingest), the same
//! JSON as the HTTP API, the README's examples and the architecture's invariants. The use
//! cases themselves are tested in process in the application crate.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

#[path = "../../../koshi-app/tests/support/process_dir.rs"]
mod process_dir;
use process_dir::process_dir;

mod architecture;
mod export;
mod flows;
mod forecast;
mod gravity;
mod quota;
mod readme;
mod registry;
mod report;
mod same_json;
mod structure;
mod vacancies;

pub(crate) fn koshi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_koshi"))
}

pub(crate) fn run(db: &Path, args: &[&str]) -> Output {
    let out = koshi().arg("--db").arg(db).args(args).output().expect("koshi runs");
    assert!(out.status.success(), "koshi {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// The JSON report of `args` (`--format json`).
pub(crate) fn document(db: &Path, args: &[&str]) -> serde_json::Value {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_slice(&run(db, &all).stdout).expect("JSON output")
}

/// The list of a list report (its `items`), or the report itself when it is not a list.
pub(crate) fn json(db: &Path, args: &[&str]) -> serde_json::Value {
    match document(db, args) {
        serde_json::Value::Object(mut fields) if fields.contains_key("items") && fields.contains_key("total") => {
            fields.remove("items").unwrap()
        }
        other => other,
    }
}

/// One bank with every bundled dataset, loaded once through the CLI for all tests.
pub(crate) fn bundled_bank() -> &'static Path {
    static BANK: OnceLock<PathBuf> = OnceLock::new();
    BANK.get_or_init(|| {
        let path = process_dir("cli-bundled-bank").join("bank.db");
        run(&path, &["load-bundled"]);
        path
    })
}

#[test]
fn loading_the_bundled_data_again_changes_nothing() {
    let report = document(bundled_bank(), &["load-bundled"]);
    assert_eq!(report["releases_created"], 0, "{report}");
    let outcomes = report["releases"].as_array().unwrap();
    assert!(outcomes.len() > 30);
    assert!(outcomes.iter().all(|o| o["outcome"] == "unchanged"), "{outcomes:#?}");
}

#[test]
fn papers_table_2_is_shown_with_citations() {
    let rows = json(bundled_bank(), &["query", "MIG_EXT", "--key", "KAZ.CIS._T.ED5T8.", "--source", "PAPER_003"]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3, "balance, arrived, left: {rows:#?}");
    for r in rows {
        let citation = r["citation"].as_str().unwrap();
        assert!(citation.contains("003, Table 2"), "{citation}");
        assert!(citation.contains("original source: KZ_BNS"), "{citation}");
    }
}

#[test]
fn output_formats_and_clear_errors() {
    let db = bundled_bank();
    let csv = String::from_utf8(run(db, &["dataflows", "--format", "csv"]).stdout).unwrap();
    assert!(csv.starts_with("id,name,dimensions,series,observations\n"), "{csv}");
    // CSV carries plain numbers and one unit per column: `value` as printed with its `unit_mult`, and
    // `value_base` in the unit itself, whatever multiplier the source printed in.
    let csv = String::from_utf8(
        run(
            db,
            &["query", "MIG_EXT", "--key", "KAZ.WLD._T._T.NET", "--from", "2017", "--to", "2017", "--format", "csv"],
        )
        .stdout,
    )
    .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}: {csv}"));
    let (source, value, mult, base) = (col("source"), col("value"), col("unit_mult"), col("value_base"));
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let by_source = |s: &str| records.iter().find(|r| &r[source] == s).unwrap_or_else(|| panic!("no {s} row: {csv}"));
    assert_eq!(&by_source("PAPER_003")[value], "-22426", "{csv}");
    assert_eq!(&by_source("UN_WPP")[value], "21.248", "{csv}");
    assert_eq!(&by_source("UN_WPP")[mult], "3", "{csv}");
    assert_eq!(&by_source("UN_WPP")[base], "21248", "{csv}");
    assert!(!csv.contains("\"-22,426\""), "no thousands separators in CSV: {csv}");
    let table = String::from_utf8(run(db, &["codelist", "EDUCATION"]).stdout).unwrap();
    assert!(table.contains("ED5T8") && table.contains("Высшее"), "{table}");
    let bad = koshi().arg("--db").arg(db).args(["query", "MIG_EXT", "--key", "NOPE=KAZ"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no dimension `NOPE`"));
    // An unknown code is named with near codes, never an empty answer with exit 0.
    let typo = koshi().arg("--db").arg(db).args(["query", "MIG_EXT", "--key", "KAZZ.WLD._T._T.NET"]).output().unwrap();
    assert!(!typo.status.success(), "{typo:?}");
    let message = String::from_utf8_lossy(&typo.stderr);
    assert!(
        message.contains("`KAZZ` is not a code of dimension REF_AREA") && message.contains("did you mean KAZ"),
        "{message}"
    );
    let far = koshi()
        .arg("--db")
        .arg(db)
        .args(["forecast", "MIG_EXT", "--key", "KAZ.WLD._T._T.NET", "--horizon", "1000"])
        .output()
        .unwrap();
    assert!(!far.status.success());
    assert!(String::from_utf8_lossy(&far.stderr).contains("from 1 to 100 periods, not 1000"), "{far:?}");
    for (args, says) in [
        (&["discrepancies", "NOPE"][..], "unknown dataflow `NOPE`"),
        (&["releases", "NOPE"][..], "unknown dataflow `NOPE`"),
        (&["discrepancies", "--tolerance=-5"][..], "not a percentage of 0 or more"),
        (&["gravity", "fit", "y ~ x", "--data", "none.csv", "--conf-level", "95"][..], "strictly between 0 and 1"),
    ] {
        let out = koshi().arg("--db").arg(db).args(args).output().unwrap();
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains(says), "{args:?}: {out:?}");
    }
}

/// A kill in the middle of an ingest leaves the bank exactly as it was.
#[test]
fn killing_an_ingest_leaves_the_bank_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bank.db");
    let mapping = dir.path().join("stock.toml");
    std::fs::write(
        &mapping,
        r#"
[release]
label = "synthetic stock"
date = "2020-01-01"
[fields]
DATAFLOW = { value = "MIG_STOCK" }
REF_AREA = { column = "dest", lookup = "code" }
COUNTERPART = { column = "orig", lookup = "code" }
SEX = { value = "_T" }
MEASURE = { value = "STOCK" }
TIME_PERIOD = { column = "year" }
OBS_VALUE = { column = "value" }
SOURCE = { value = "UN_DESA" }
DEFINITION = { value = "synthetic" }
UNIT = { value = "PERS" }
"#,
    )
    .unwrap();
    let catalogue = koshi_core::Catalogue::standard().unwrap();
    let countries = catalogue.country_codes();
    let small = dir.path().join("small.csv");
    std::fs::write(&small, "dest,orig,year,value\nKAZ,RUS,2020,100\nKAZ,UZB,2020,50\n").unwrap();
    run(&db, &["ingest", small.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()]);

    let big = dir.path().join("big.csv");
    let mut text = String::from("dest,orig,year,value\n");
    for year in 1990..2010 {
        for d in &countries {
            for o in countries.iter().take(200) {
                text.push_str(&format!("{d},{o},{year},{}\n", (year - 1989) * 7));
            }
        }
    }
    std::fs::write(&big, text).unwrap();

    let before = koshi_store::Bank::open(&db).unwrap().counts().unwrap();
    let mut child = koshi()
        .arg("--db")
        .arg(&db)
        .args(["ingest", big.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the writer has put pages into the WAL, then kill it without warning.
    let wal = dir.path().join("bank.db-wal");
    let start = std::time::Instant::now();
    let initial = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    loop {
        let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        if size > initial + 4 * 1024 * 1024 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the ingest finished before it could be killed");
        assert!(start.elapsed().as_secs() < 300, "the ingest never started writing");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let bank = koshi_store::Bank::open(&db).unwrap();
    assert_eq!(bank.counts().unwrap(), before, "the bank is as it was before the killed ingest");
    let integrity: String =
        rusqlite::Connection::open(&db).unwrap().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
}
