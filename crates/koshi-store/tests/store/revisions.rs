//! Revisions: a release keeps the date its source states, gets the next revision of its
//! stream, and as-of queries see it from that date on.

use koshi_core::{Date, ObsStatus, Observation};
use koshi_store::{Bank, Query, WriteOutcome};

/// The system date: the bank stamps each release with the time it was written.
fn today() -> Date {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    Date::from_days_since_epoch(secs.div_euclid(86_400))
}

use super::{NET, batch, net_query, obs, sqlite};

fn yesterday() -> Date {
    Date::from_days_since_epoch(today().days_since_epoch() - 1)
}

fn bulletin(date: Date, value: f64) -> koshi_store::ReleaseBatch {
    batch(
        "KZ_BNS",
        "monthly bulletin",
        &date.to_string(),
        vec![obs(&NET, "2025", value, "KZ_BNS", "permanent residence")],
    )
}

fn values(bank: &Bank, q: &Query) -> Vec<f64> {
    bank.query(q).unwrap().iter().filter_map(|r| r.value).collect()
}

#[test]
fn same_day_revisions_are_all_dated_today_and_as_of_today_sees_the_third() {
    let mut bank = Bank::open_in_memory().unwrap();
    for value in [-100.0, -200.0, -300.0] {
        let outcome = bank.write_releases(&[bulletin(today(), value)]).unwrap();
        assert!(matches!(outcome[0], WriteOutcome::Created { .. }), "{outcome:?}");
    }
    let releases = bank.releases(Some("MIG_EXT")).unwrap();
    assert_eq!(releases.len(), 3);
    for (i, r) in releases.iter().enumerate() {
        assert_eq!(r.release_date, today().to_string(), "no invented date: {r:?}");
        assert_eq!(r.revision, i as i64 + 1, "{r:?}");
        assert!(r.ingested_at.starts_with(&today().to_string()), "{r:?}");
    }
    let today_text = today().to_string();
    assert_eq!(values(&bank, &net_query(Some(&today_text))), [-300.0], "as of today: the third revision");
    assert_eq!(values(&bank, &net_query(None)), [-300.0]);
    let row = &bank.query(&net_query(None)).unwrap()[0];
    assert_eq!(row.release_revision, 3);
    assert!(values(&bank, &net_query(Some(&yesterday().to_string()))).is_empty(), "nothing was known yesterday");
}

#[test]
fn the_query_the_harmonised_view_and_discrepancies_use_the_newest_revision() {
    let mut bank = Bank::open_in_memory().unwrap();
    bank.write_releases(&[batch(
        "UN_WPP",
        "WPP 2024",
        "2024-07-11",
        vec![obs(&NET, "2025", -1_000.0, "UN_WPP", "net international migration")],
    )])
    .unwrap();
    for value in [-100.0, -200.0, -300.0] {
        bank.write_releases(&[bulletin(today(), value)]).unwrap();
    }
    let q = Query { source: Some("KZ_BNS".into()), ..net_query(None) };
    assert_eq!(values(&bank, &q), [-300.0]);

    let h = bank.harmonised(&net_query(Some(&today().to_string()))).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!((h[0].source.as_str(), h[0].value, h[0].release_revision), ("KZ_BNS", Some(-300.0), 3), "{h:?}");
    assert_eq!(h[0].candidates, 2);

    let gaps = bank.discrepancies(Some("MIG_EXT"), 1.0).unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    let national = if gaps[0].source_a == "KZ_BNS" { gaps[0].value_a } else { gaps[0].value_b };
    assert_eq!(national, -300.0, "{gaps:?}");
}

#[test]
fn a_revision_stating_an_earlier_date_is_seen_from_that_date_and_replaces_what_it_revises() {
    let mut bank = Bank::open_in_memory().unwrap();
    let first = batch("KZ_BNS", "yearbook", "2020-03-01", vec![obs(&NET, "2019", -10.0, "KZ_BNS", "d")]);
    let revised = batch("KZ_BNS", "yearbook", "2019-06-01", vec![obs(&NET, "2019", -20.0, "KZ_BNS", "d")]);
    bank.write_releases(&[first]).unwrap();
    bank.write_releases(&[revised]).unwrap();
    let releases = bank.releases(Some("MIG_EXT")).unwrap();
    let second = releases.iter().find(|r| r.revision == 2).unwrap();
    assert_eq!(second.release_date, "2019-06-01", "the stated date is kept");

    assert!(values(&bank, &net_query(Some("2019-05-31"))).is_empty(), "before its stated date nobody knew it");
    assert_eq!(values(&bank, &net_query(Some("2019-12-31"))), [-20.0], "from its stated date on");
    assert_eq!(values(&bank, &net_query(Some("2020-03-01"))), [-20.0], "the later revision replaces the first");
    assert_eq!(values(&bank, &net_query(Some(&today().to_string()))), [-20.0]);
    assert_eq!(values(&bank, &net_query(None)), [-20.0]);
}

#[test]
fn content_equal_to_an_older_revision_is_a_new_revision_that_reverts_the_later_one() {
    let mut bank = Bank::open_in_memory().unwrap();
    let a = bulletin(today(), -100.0);
    let b = bulletin(today(), -200.0);
    bank.write_releases(std::slice::from_ref(&a)).unwrap();
    bank.write_releases(&[b]).unwrap();
    let back = bank.write_releases(std::slice::from_ref(&a)).unwrap();
    assert!(matches!(back[0], WriteOutcome::Created { .. }), "{back:?}");
    assert_eq!(values(&bank, &net_query(None)), [-100.0]);
    // The latest content again is nothing new.
    assert!(matches!(bank.write_releases(&[a]).unwrap()[0], WriteOutcome::Unchanged { .. }));
    assert_eq!(bank.releases(None).unwrap().len(), 3);
}

/// A bank written by the schema-1 code: revisions dated after each other, the last ones in the
/// future of the day they were ingested.
fn schema_1_bank(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(include_str!("../fixtures/schema_v1.sql")).unwrap();
    conn.execute_batch(
        "INSERT INTO meta VALUES ('schema_version', '1');
         INSERT INTO dataflow VALUES ('MIG_EXT', 'External migration', '', '', '', 'REF_AREA.COUNTERPART.SEX.EDUCATION.MEASURE');
         INSERT INTO source VALUES ('KZ_BNS', 'Bureau of National Statistics', '', '', 'national statistics office', NULL, NULL);
         INSERT INTO definition VALUES (1, 'permanent residence');
         INSERT INTO series VALUES (1, 'MIG_EXT', 'KAZ.WLD._T._T.NET');
         INSERT INTO release VALUES
           (1, 'MIG_EXT', 'KZ_BNS', 'yearbook', '2018-03-01', '2024-01-01 09:00:00', 'a.csv', NULL, 'h1', 1),
           (2, 'MIG_EXT', 'KZ_BNS', 'bulletin', '2024-05-01', '2024-05-01 10:00:00', 'b.csv', NULL, 'h2', 1),
           (3, 'MIG_EXT', 'KZ_BNS', 'bulletin', '2024-05-02', '2024-05-01 10:01:00', 'b.csv', NULL, 'h3', 1),
           (4, 'MIG_EXT', 'KZ_BNS', 'yearbook', '2019-03-01', '2024-01-02 09:00:00', 'a.csv', NULL, 'h4', 1),
           (5, 'MIG_EXT', 'KZ_BNS', 'bulletin', '2024-05-03', '2024-05-01 10:02:00', 'b.csv', NULL, 'h5', 1);
         INSERT INTO observation VALUES
           (1, '2017', 'KZ_BNS', 1, 1, -1.0, NULL, 'PERS', 0, 'A', NULL, NULL, NULL),
           (1, '2017', 'KZ_BNS', 1, 4, -4.0, NULL, 'PERS', 0, 'A', NULL, NULL, NULL),
           (1, '2024-04', 'KZ_BNS', 1, 2, -2.0, NULL, 'PERS', 0, 'A', NULL, NULL, NULL),
           (1, '2024-04', 'KZ_BNS', 1, 3, -3.0, NULL, 'PERS', 0, 'A', NULL, NULL, NULL),
           (1, '2024-04', 'KZ_BNS', 1, 5, -5.0, NULL, 'PERS', 0, 'A', NULL, NULL, NULL);",
    )
    .unwrap();
}

#[test]
fn a_bank_of_schema_1_is_migrated_when_it_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    schema_1_bank(&path);
    let mut bank = Bank::open(&path).unwrap();
    let version: String =
        sqlite(&path).query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0)).unwrap();
    assert_eq!(version, "3");
    let releases = bank.releases(Some("MIG_EXT")).unwrap();
    let of = |id: i64| releases.iter().find(|r| r.id == id).unwrap();
    let revisions: Vec<(i64, i64, &str)> =
        [1, 4, 2, 3, 5].iter().map(|&id| (id, of(id).revision, of(id).release_date.as_str())).collect();
    assert_eq!(
        revisions,
        [(1, 1, "2018-03-01"), (4, 2, "2019-03-01"), (2, 1, "2024-05-01"), (3, 2, "2024-05-01"), (5, 3, "2024-05-01")],
        "revisions numbered in writing order; dates invented in the future of their ingest become the ingest day"
    );
    let monthly = |as_of: &str| Query { period_from: Some("2024-04".into()), ..net_query(Some(as_of)) };
    assert_eq!(values(&bank, &monthly("2024-05-01")), [-5.0], "as of the day of the revisions: the last one");
    assert_eq!(values(&bank, &Query { period_to: Some("2017".into()), ..net_query(Some("2018-12-31")) }), [-1.0]);

    // The migrated bank takes new revisions, numbered on.
    let next =
        batch("KZ_BNS", "bulletin", "2024-05-01", vec![obs(&NET, "2024-04", -6.0, "KZ_BNS", "permanent residence")]);
    bank.write_releases(&[next]).unwrap();
    drop(bank);
    let bank = Bank::open(&path).unwrap();
    let last = bank.releases(Some("MIG_EXT")).unwrap().into_iter().max_by_key(|r| r.id).unwrap();
    assert_eq!((last.revision, last.release_date.as_str()), (4, "2024-05-01"));
    assert_eq!(values(&bank, &monthly("2024-05-01")), [-6.0]);
    let integrity: String = sqlite(&path).query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
}

#[test]
fn a_bank_of_a_newer_schema_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    drop(Bank::open(&path).unwrap());
    sqlite(&path).execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'", []).unwrap();
    let err = Bank::open(&path).err().expect("a newer schema is refused").to_string();
    assert!(err.contains("schema version 99") && err.contains("newer koshi"), "{err}");
}

#[test]
fn a_withdrawn_figure_is_no_answer_but_what_was_known_stays_known() {
    let mut bank = Bank::open_in_memory().unwrap();
    let figure = obs(&NET, "2017", -22_426.0, "KZ_BNS", "permanent residence");
    let other = obs(&NET, "2016", -21_000.0, "KZ_BNS", "permanent residence");
    bank.write_releases(&[batch("KZ_BNS", "yearbook", "2018-03-01", vec![figure.clone(), other])]).unwrap();
    let withdrawn = Observation { value: None, status: ObsStatus::Withdrawn, ..figure };
    bank.write_releases(&[batch("KZ_BNS", "withdrawal", "2019-03-01", vec![withdrawn])]).unwrap();
    let periods = |q: &Query| bank.query(q).unwrap().into_iter().map(|r| r.time_period).collect::<Vec<_>>();
    assert_eq!(periods(&net_query(None)), ["2016"], "the withdrawn figure is no answer");
    assert_eq!(periods(&net_query(Some("2018-12-31"))), ["2016", "2017"], "before the withdrawal it was known");
    let with = Query { include_withdrawn: true, ..net_query(None) };
    let rows = bank.query(&with).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows.iter().find(|r| r.time_period == "2017").unwrap().status,
        "W",
        "asked for, it comes as a withdrawal"
    );
    assert_eq!(bank.harmonised(&with).unwrap().len(), 1, "a withdrawal is never a harmonised candidate");
    assert_eq!(bank.releases(Some("MIG_EXT")).unwrap().len(), 2, "nothing overwritten");
}
