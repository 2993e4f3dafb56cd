//! `koshi source add` and `koshi dataflow add`: a ministry's own file ingests once its source
//! is declared.

use crate::{json, koshi, run};

const MAPPING: &str = r#"
[release]
label = "work permits 2024"
date = "2025-02-10"

[fields]
DATAFLOW = { value = "MIG_INT" }
REF_AREA = { column = "region", lookup = "code" }
MEASURE = { value = "ARR" }
TIME_PERIOD = { column = "year" }
OBS_VALUE = { column = "issued" }
SOURCE = { value = "KZ_MINTRUD_ALA" }
DEFINITION = { value = "foreign workers given a permit in the year (the ministry's own count)" }
UNIT = { value = "PERS" }
"#;

#[test]
fn a_ministry_file_ingests_after_koshi_source_add_and_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bank.db");
    let data = dir.path().join("permits.csv");
    let mapping = dir.path().join("permits.toml");
    std::fs::write(&data, "region,year,issued\nKZ-75,2024,1204\nKZ-71,2024,388\n").unwrap();
    std::fs::write(&mapping, MAPPING).unwrap();
    let ingest = || {
        koshi()
            .arg("--db")
            .arg(&db)
            .args(["ingest", data.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()])
            .output()
            .unwrap()
    };

    let before = ingest();
    assert_eq!(before.status.code(), Some(2), "{}", String::from_utf8_lossy(&before.stderr));
    let stderr = String::from_utf8_lossy(&before.stderr);
    assert!(stderr.contains("UNKNOWN_SOURCE") && stderr.contains("KZ_MINTRUD_ALA"), "{stderr}");

    let add = [
        "source",
        "add",
        "--id",
        "KZ_MINTRUD_ALA",
        "--name",
        "Ministry of Labour, Almaty office",
        "--name-ru",
        "Министерство труда, управление по Алматы",
        "--kind",
        "ministry",
        "--url",
        "https://www.gov.kz",
    ];
    let declared = json(&db, &add);
    assert_eq!(declared[0]["outcome"], "created", "{declared}");
    assert_eq!(declared[0]["kind"], "source");
    assert_eq!(json(&db, &add)[0]["outcome"], "unchanged", "declaring it again does nothing");
    let sources = json(&db, &["sources"]);
    assert!(
        sources.as_array().unwrap().iter().any(|s| s["id"] == "KZ_MINTRUD_ALA" && s["kind"] == "ministry"),
        "{sources}"
    );

    let after = ingest();
    assert!(after.status.success(), "{}", String::from_utf8_lossy(&after.stderr));
    let rows = json(&db, &["query", "MIG_INT", "--source", "KZ_MINTRUD_ALA"]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert!(rows.iter().any(|r| r["key"][0] == "KZ-75" && r["value"] == 1204.0));

    // A bundled id is refused with a clear error.
    let clash = koshi()
        .arg("--db")
        .arg(&db)
        .args(["source", "add", "--id", "KZ_BNS", "--name", "x", "--kind", "ministry"])
        .output()
        .unwrap();
    assert!(!clash.status.success());
    assert!(
        String::from_utf8_lossy(&clash.stderr).contains("already taken"),
        "{}",
        String::from_utf8_lossy(&clash.stderr)
    );
}

#[test]
fn koshi_dataflow_add_declares_a_dataflow_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bank.db");
    let file = dir.path().join("permits.toml");
    std::fs::write(
        &file,
        r#"
[[dataflow]]
id = "MIG_PERMITS"
name = { en = "Residence permits issued" }
dimensions = [{ id = "REF_AREA", codelist = "AREA" }, { id = "MEASURE", codelist = "MEASURE" }]
measures = [{ code = "ISSUED", unit = "PERS", en = "Permits issued" }]
"#,
    )
    .unwrap();
    let out =
        String::from_utf8(run(&db, &["dataflow", "add", file.to_str().unwrap(), "--format", "csv"]).stdout).unwrap();
    assert_eq!(out, "outcome,kind,id,name\ncreated,dataflow,MIG_PERMITS,Residence permits issued\n");
    let flows = json(&db, &["dataflows"]);
    assert!(
        flows.as_array().unwrap().iter().any(|d| d["id"] == "MIG_PERMITS"
            && d["dimensions"] == serde_json::json!([{"id": "REF_AREA", "codelist": "AREA"}, {"id": "MEASURE", "codelist": "MEASURE"}])),
        "{flows}"
    );
    let measures = json(&db, &["codelist", "MEASURE:MIG_PERMITS"]);
    assert_eq!(measures["codes"][0]["id"], "ISSUED", "{measures}");
}

/// `koshi serve` on a bank holding part of the bundle (a load by an older koshi, or files
/// ingested by hand) finishes the bundle before serving, and says so.
#[test]
fn serve_finishes_an_incomplete_bundle_and_says_so() {
    use std::io::{BufRead, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bank.db");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let paper = root.join("data/papers/paper_002.csv");
    let mapping = root.join("data/bundled/mappings/papers.toml");
    run(&db, &["ingest", paper.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()]);
    let mut bank = koshi_store::Bank::open(&db).unwrap();
    assert_eq!(koshi_ingest::bundle_state(&mut bank).unwrap(), koshi_store::BundleState::NotLoaded);
    drop(bank);

    let mut child = koshi()
        .arg("--db")
        .arg(&db)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = Vec::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        // The server says it is ready once it listens (after working out the pages' first answers).
        let serving = line.contains("serving the koshi dashboard");
        said.push(line);
        if serving {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let said = said.join("\n");
    assert!(said.contains("not completely in") && said.contains("finishing"), "{said}");
    assert!(said.contains("the bundle is complete"), "{said}");
    assert!(said.contains("ready in") && said.contains("serving the koshi dashboard"), "{said}");
    let mut bank = koshi_store::Bank::open(&db).unwrap();
    assert!(koshi_ingest::bundle_state(&mut bank).unwrap().is_complete());
}

/// A second writer waits for the first, and one that must give up says why and that nothing
/// was written.
#[test]
fn an_ingest_that_cannot_get_the_bank_says_another_writer_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bank.db");
    run(
        &db,
        &[
            "source",
            "add",
            "--id",
            "KZ_MINTRUD_ALA",
            "--name",
            "Ministry of Labour, Almaty office",
            "--kind",
            "ministry",
        ],
    );
    let data = dir.path().join("permits.csv");
    let mapping = dir.path().join("permits.toml");
    std::fs::write(&data, "region,year,issued\nKZ-75,2024,1204\n").unwrap();
    std::fs::write(&mapping, MAPPING).unwrap();

    // Another writer, holding the bank's write lock.
    let other = rusqlite::Connection::open(&db).unwrap();
    other.execute_batch("BEGIN IMMEDIATE; INSERT INTO definition(text) VALUES ('held');").unwrap();
    let out = koshi()
        .arg("--db")
        .arg(&db)
        .args(["--busy-timeout", "0.3", "ingest", data.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("another writer") && stderr.contains("nothing was written"), "{stderr}");
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(json(&db, &["releases"]).as_array().unwrap().len(), 0);
    run(&db, &["ingest", data.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()]);
    assert_eq!(json(&db, &["releases"]).as_array().unwrap().len(), 1);
}
