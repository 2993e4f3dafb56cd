//! The data bank: releases, as-of queries, idempotent writes, harmonised view, discrepancies,
//! the defect report, atomic multi-release writes, revisions, concurrent writers, the bundle
//! record and user-declared sources and dataflows.

use koshi_core::{Date, ObsStatus, Observation};
use std::path::Path;

use koshi_store::{Bank, Query, ReleaseBatch, StoreError, WriteOutcome};

#[path = "store/declarations.rs"]
mod declarations;
#[path = "store/revisions.rs"]
mod revisions;
#[path = "store/writers.rs"]
mod writers;

fn obs(key: &[&str], period: &str, value: f64, source: &str, definition: &str) -> Observation {
    Observation {
        dataflow: "MIG_EXT".into(),
        key: key.iter().map(|s| (*s).into()).collect(),
        time_period: period.into(),
        value: Some(value),
        printed: None,
        unit: "PERS".into(),
        unit_mult: 0,
        status: ObsStatus::Normal,
        source: source.into(),
        definition: definition.into(),
        citation: Some(format!("test fixture {period}").into()),
        note: None,
        defects: Vec::new(),
    }
}

fn batch(source: &str, label: &str, date: &str, observations: Vec<Observation>) -> ReleaseBatch {
    ReleaseBatch {
        dataflow: "MIG_EXT".into(),
        source: source.into(),
        label: label.into(),
        release_date: date.parse().unwrap(),
        origin: "test".into(),
        note: None,
        observations,
        defects: Vec::new(),
    }
}

const NET: [&str; 5] = ["KAZ", "WLD", "_T", "_T", "NET"];

fn net_query(as_of: Option<&str>) -> Query {
    Query {
        dataflow: "MIG_EXT".into(),
        filters: vec![("REF_AREA".into(), vec!["KAZ".into()]), ("MEASURE".into(), vec!["NET".into()])],
        as_of: as_of.map(|d| d.parse::<Date>().unwrap()),
        ..Default::default()
    }
}

#[test]
fn revisions_are_new_releases_and_as_of_answers_what_was_known() {
    let mut bank = Bank::open_in_memory().unwrap();
    let v1 = batch(
        "KZ_BNS",
        "Demographic yearbook",
        "2018-03-01",
        vec![obs(&NET, "2017", -22_426.0, "KZ_BNS", "permanent residence")],
    );
    let v2 = batch(
        "KZ_BNS",
        "Demographic yearbook",
        "2019-03-01",
        vec![obs(&NET, "2017", -22_000.0, "KZ_BNS", "permanent residence")],
    );
    bank.write_releases(&[v1]).unwrap();
    bank.write_releases(&[v2]).unwrap();
    let latest = bank.query(&net_query(None)).unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].value, Some(-22_000.0));
    let then = bank.query(&net_query(Some("2018-12-31"))).unwrap();
    assert_eq!(then[0].value, Some(-22_426.0));
    assert!(
        bank.query(&net_query(Some("2017-01-01"))).unwrap().is_empty(),
        "nothing was known before the first release"
    );
    assert_eq!(bank.releases(Some("MIG_EXT")).unwrap().len(), 2);
}

#[test]
fn identical_content_creates_nothing() {
    let mut bank = Bank::open_in_memory().unwrap();
    let b =
        batch("KZ_BNS", "yearbook", "2018-03-01", vec![obs(&NET, "2017", -22_426.0, "KZ_BNS", "permanent residence")]);
    let first = bank.write_releases(std::slice::from_ref(&b)).unwrap();
    let again = bank.write_releases(std::slice::from_ref(&b)).unwrap();
    assert!(matches!(first[0], WriteOutcome::Created { .. }));
    assert!(matches!(again[0], WriteOutcome::Unchanged { .. }), "{again:?}");
    assert_eq!(bank.counts().unwrap()["observation"], 1);
    assert_eq!(bank.counts().unwrap()["release"], 1);
}

#[test]
fn sources_side_by_side_harmonised_by_priority_with_a_reason() {
    let mut bank = Bank::open_in_memory().unwrap();
    bank.write_releases(&[
        batch(
            "UN_WPP",
            "WPP 2024",
            "2024-07-11",
            vec![obs(&NET, "2017", 21_248.0, "UN_WPP", "net international migration")],
        ),
        batch("KZ_BNS", "yearbook", "2018-03-01", vec![obs(&NET, "2017", -22_426.0, "KZ_BNS", "permanent residence")]),
    ])
    .unwrap();
    assert_eq!(bank.query(&net_query(None)).unwrap().len(), 2, "both sources' figures are kept");
    let h = bank.harmonised(&net_query(None)).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].source, "KZ_BNS", "MIG_EXT's policy ranks the national office first");
    assert_eq!(h[0].candidates, 2);
    assert!(h[0].reason.contains("priority"), "{}", h[0].reason);

    let gaps = bank.discrepancies(Some("MIG_EXT"), 5.0).unwrap();
    assert_eq!(gaps.len(), 1);
    assert!(gaps[0].relative_gap_pct > 100.0);
    assert!(bank.discrepancies(Some("MIG_EXT"), 500.0).unwrap().is_empty());
}

#[test]
fn a_write_refused_before_it_starts_leaves_the_bank_as_it_was() {
    let mut bank = Bank::open_in_memory().unwrap();
    let good = batch("KZ_BNS", "a", "2018-03-01", vec![obs(&NET, "2017", 1.0, "KZ_BNS", "d")]);
    let mut bad = batch("KZ_BNS", "b", "2018-03-01", vec![obs(&NET, "2016", 1.0, "KZ_BNS", "d")]);
    bad.dataflow = "NO_SUCH_FLOW".into();
    assert!(bank.write_releases(&[good, bad]).is_err());
    assert_eq!(bank.counts().unwrap()["release"], 0);
    assert_eq!(bank.counts().unwrap()["observation"], 0);
}

/// A connection of the test's own to a bank file, beside the bank's.
fn sqlite(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// The committed content of a bank file: the schema and every row of every table, sorted.
fn dump(path: &Path) -> Vec<(String, Vec<String>)> {
    let conn = sqlite(path);
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.push("sqlite_master".into());
    tables
        .into_iter()
        .map(|table| {
            let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
            let columns = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |r| {
                    (0..columns).map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}"))).collect()
                })
                .unwrap()
                .map(|row: Result<Vec<String>, _>| row.unwrap().join("\t"))
                .collect();
            rows.sort();
            (table, rows)
        })
        .collect()
}

#[test]
fn a_write_failing_in_the_middle_of_its_transaction_leaves_the_bank_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    {
        // A bank with content: a release, its series, definition and a defect.
        let mut bank = Bank::open(&path).unwrap();
        let mut earlier = batch("KZ_BNS", "earlier", "2017-03-01", vec![obs(&NET, "2016", 7.0, "KZ_BNS", "d")]);
        earlier.observations[0].defects.push("DECLARED_BY_FILE".into());
        bank.write_releases(&[earlier]).unwrap();
    }
    // Closed, so the file holds every commit (the WAL is checkpointed and removed).
    let bytes = std::fs::read(&path).unwrap();
    let before = dump(&path);
    let mut bank = Bank::open(&path).unwrap();
    let (counts, releases, generation) =
        (bank.counts().unwrap(), bank.releases(None).unwrap(), bank.generation().unwrap());

    // The first batch brings a new series, definition, release and defect; the second holds
    // the same figure twice, which violates the observation key when its second row is inserted.
    let arr = ["KAZ", "WLD", "_T", "_T", "ARR"];
    let mut flagged = obs(&arr, "2017", 2.0, "KZ_BNS", "a new definition");
    flagged.defects.push("DECLARED_BY_FILE".into());
    let good = batch("KZ_BNS", "a", "2018-03-01", vec![obs(&NET, "2017", 1.0, "KZ_BNS", "a new definition"), flagged]);
    let twice = obs(&NET, "2015", 1.0, "UN_WPP", "yet another definition");
    let bad = batch("UN_WPP", "b", "2018-03-01", vec![twice.clone(), twice]);
    let mut progress = Vec::new();
    let err = bank.write_releases_with_progress(&[good.clone(), bad], &mut |n| progress.push(n)).unwrap_err();
    assert!(
        matches!(&err, StoreError::Sqlite(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation)),
        "{err:?}"
    );
    // It failed inside the transaction: the whole first batch had been written by then.
    assert!(progress.contains(&good.observations.len()), "{progress:?}");

    // The bank's own connection sees what was there before, and nothing else.
    assert_eq!(bank.counts().unwrap(), counts);
    assert_eq!(format!("{:?}", bank.releases(None).unwrap()), format!("{releases:?}"));
    assert_eq!(bank.generation().unwrap(), generation);
    // The committed content is unchanged, row for row.
    assert_eq!(dump(&path), before);
    // No transaction was left open: another writer gets the lock at once …
    let mut other = Bank::open(&path).unwrap();
    other.set_busy_timeout(std::time::Duration::from_millis(50)).unwrap();
    other.atomically(|_| Ok::<_, StoreError>(())).unwrap();
    drop(other);
    // … and the file, once closed, is the very file it was, byte for byte.
    drop(bank);
    assert!(std::fs::read(&path).unwrap() == bytes, "the bank file changed");

    // The bank takes writes afterwards, and they are committed.
    let mut bank = Bank::open(&path).unwrap();
    assert!(matches!(bank.write_releases(&[good]).unwrap()[0], WriteOutcome::Created { .. }));
    let committed: i64 = sqlite(&path).query_row("SELECT COUNT(*) FROM release", [], |r| r.get(0)).unwrap();
    assert_eq!(committed, counts["release"] + 1);
}

#[test]
fn check_finds_broken_identities_in_the_current_figures() {
    let mut bank = Bank::open_in_memory().unwrap();
    let arr = ["KAZ", "WLD", "_T", "_T", "ARR"];
    let dep = ["KAZ", "WLD", "_T", "_T", "DEP"];
    bank.write_releases(&[batch(
        "KZ_BNS",
        "yearbook",
        "2018-03-01",
        vec![
            obs(&arr, "2017", 7_204.0, "KZ_BNS", "d"),
            obs(&dep, "2017", 10_975.0, "KZ_BNS", "d"),
            obs(&NET, "2017", -3_000.0, "KZ_BNS", "d"),
        ],
    )])
    .unwrap();
    let findings = bank.check().unwrap();
    assert!(findings.iter().any(|f| f.rule == "IDENTITY_BROKEN" && f.message.contains("-3,771")), "{findings:#?}");
}

#[test]
fn the_bank_file_reopens_with_its_contents() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    {
        let mut bank = Bank::open(&path).unwrap();
        bank.write_releases(&[batch("KZ_BNS", "a", "2018-03-01", vec![obs(&NET, "2017", 5.0, "KZ_BNS", "d")])])
            .unwrap();
    }
    let bank = Bank::open(&path).unwrap();
    assert_eq!(bank.query(&net_query(None)).unwrap()[0].value, Some(5.0));
    assert!(!bank.is_empty().unwrap());
}

#[test]
fn a_region_series_joins_its_predecessors_history() {
    let mut bank = Bank::open_in_memory().unwrap();
    let internal = |region: &str, period: &str, value: f64| Observation {
        dataflow: "MIG_INT".into(),
        key: vec![region.into(), "NET".into()],
        ..obs(&NET, period, value, "KZ_BNS", "moves between regions")
    };
    let mut b = batch(
        "KZ_BNS",
        "yearbook",
        "2020-03-01",
        vec![
            internal("KZ-YUZ", "2017", -12_000.0),
            internal("KZ-61", "2019", -15_000.0),
            internal("KZ-79", "2019", 4_000.0),
        ],
    );
    b.dataflow = "MIG_INT".into();
    bank.write_releases(&[b]).unwrap();
    let query = |predecessors: bool| Query {
        dataflow: "MIG_INT".into(),
        filters: vec![("REF_AREA".into(), vec!["KZ-61".into()])],
        include_predecessors: predecessors,
        ..Default::default()
    };
    assert_eq!(bank.query(&query(false)).unwrap().len(), 1);
    let joined = bank.query(&query(true)).unwrap();
    assert_eq!(joined.len(), 2, "{joined:#?}");
    let old = joined.iter().find(|r| r.key[0] == "KZ-YUZ").unwrap();
    let note = old.territory.as_deref().unwrap();
    assert!(note.contains("KZ-61") && note.contains("KZ-79") && note.contains("2018"), "{note}");
    assert!(joined.iter().find(|r| r.key[0] == "KZ-61").unwrap().territory.is_none());
}

#[test]
fn damage_in_the_bank_is_an_error_never_a_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    let mut bank = Bank::open(&path).unwrap();
    let gdp = |value: f64| Observation {
        dataflow: "MACRO".into(),
        key: vec!["KAZ".into(), "GDP".into()],
        unit: "USD".into(),
        ..obs(&NET, "2011", value, "WB_WDI", "GDP, current US$")
    };
    let mut reference = batch("WB_WDI", "WDI", "2012-07-01", vec![gdp(190.0)]);
    reference.dataflow = "MACRO".into();
    bank.write_releases(&[reference]).unwrap();
    bank.write_releases(&[batch("KZ_BNS", "a", "2018-03-01", vec![obs(&NET, "2017", 5.0, "KZ_BNS", "d")])]).unwrap();
    // Exports checked against the GDP by the plausibility rule of TRADE.
    let exports = Observation {
        dataflow: "TRADE".into(),
        key: vec!["KAZ".into(), "BLR".into(), "EXP".into()],
        unit: "USD".into(),
        unit_mult: 6,
        ..obs(&NET, "2011", 900.0, "KZ_BNS", "exports of goods")
    };
    let mut trade = batch("KZ_BNS", "trade", "2012-03-01", vec![exports]);
    trade.dataflow = "TRADE".into();
    bank.write_releases(&[trade]).unwrap();
    assert_eq!(bank.reference_value("MACRO", "GDP", "KAZ", "2011").unwrap(), Some(190.0));
    assert_eq!(bank.reference_value("MACRO", "GDP", "KAZ", "1990").unwrap(), None, "no figure is no reference");
    assert!(bank.reference_value("NO_SUCH_FLOW", "GDP", "KAZ", "2011").is_err());
    assert!(bank.check().is_ok());

    // A release date that is no date: harmonising and reference figures fail.
    sqlite(&path).execute("UPDATE release SET release_date = 'July 2012' WHERE dataflow_id = 'MACRO'", []).unwrap();
    let damaged = |e: StoreError| match e {
        StoreError::Corrupt(message) => message,
        other => panic!("expected damage, got {other:?}"),
    };
    let message = damaged(bank.reference_value("MACRO", "GDP", "KAZ", "2011").unwrap_err());
    assert!(message.contains("July 2012"), "{message}");
    let macro_flow = Query { dataflow: "MACRO".into(), ..Default::default() };
    assert!(damaged(bank.harmonised(&macro_flow).unwrap_err()).contains("July 2012"));
    // The check reads the reference for the exports: it fails, it does not pass them unchecked.
    assert!(damaged(bank.check().unwrap_err()).contains("July 2012"));
    sqlite(&path).execute("UPDATE release SET release_date = '2012-07-01' WHERE dataflow_id = 'MACRO'", []).unwrap();
    assert!(bank.check().is_ok());

    // A status code the bank never writes: the check fails rather than reading it as normal.
    sqlite(&path).execute("UPDATE observation SET status = 'Q'", []).unwrap();
    let message = damaged(bank.check().unwrap_err());
    assert!(message.contains("unknown status `Q`"), "{message}");

    // Half a bundle record.
    sqlite(&path).execute("INSERT INTO meta(key, value) VALUES ('bundle_fingerprint', 'abc')", []).unwrap();
    let message = damaged(bank.bundle_state().unwrap_err());
    assert!(message.contains("abc") && message.contains("completion time"), "{message}");
}
