//! Slow answers kept in the bank: a second process over the same bank reads the answer the first
//! one computed instead of computing it again, the very same answer; after a load, or when the
//! kept answer belongs to another program or state, it is computed afresh.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use koshi_app::load::IngestRequest;
use koshi_app::{App, AppConfig, FixedClock, LastingAnswers};

use crate::TODAY;

/// An application that keeps every slow answer in the bank, however quick it was.
fn open(path: &Path) -> App {
    App::open(
        path,
        AppConfig { clock: Arc::new(FixedClock(TODAY)), keep_in_bank_after: Duration::ZERO, ..AppConfig::default() },
    )
    .unwrap()
}

fn counts(app: &App, kind: &str) -> LastingAnswers {
    app.lasting_answers().into_iter().find(|a| a.kind == kind).unwrap()
}

fn ingest(app: &App, file: &str, mapping: Option<&str>) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/examples");
    app.ingest(
        &IngestRequest {
            file: format!("{root}/{file}").into(),
            mapping: mapping.map(|m| format!("{root}/{m}").into()),
            structure: None,
            allow_defects: false,
            dry_run: false,
        },
        &mut |_| {},
    )
    .unwrap();
}

#[test]
fn a_slow_answer_outlives_the_process_for_the_same_bank_and_program_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    let first = open(&path);
    ingest(&first, "kz_external_migration.xlsx", Some("kz_external_migration.toml"));
    let computed = first.latest_changes(1).unwrap();
    let report = first.check(None).unwrap();
    assert_eq!(counts(&first, "latest_changes"), LastingAnswers { kind: "latest_changes", computed: 1, restored: 0 });
    assert_eq!(counts(&first, "check").computed, 1);

    // Another process over the same bank: the same answers, read back, none computed.
    let second = open(&path);
    assert_eq!(*second.latest_changes(1).unwrap(), *computed);
    assert_eq!(second.check(None).unwrap().items, report.items);
    assert_eq!(counts(&second, "latest_changes"), LastingAnswers { kind: "latest_changes", computed: 0, restored: 1 });
    assert_eq!(counts(&second, "check"), LastingAnswers { kind: "check", computed: 0, restored: 1 });

    // A load changes the state of the bank: what was kept for the earlier state is not used.
    ingest(&second, "mig_ext_kaz.sdmx.csv", None);
    let after = open(&path);
    let changed = after.latest_changes(1).unwrap();
    assert_eq!(counts(&after, "latest_changes").computed, 1);
    assert_ne!(*changed, *computed, "the latest release is now another one");

    // A kept answer stamped by another program (an earlier build) is not used either.
    let connection = rusqlite::Connection::open(&path).unwrap();
    let stamped = connection.execute("UPDATE kept_answer SET stamp = stamp || '-another-build'", []).unwrap();
    assert!(stamped >= 2, "the answers were kept: {stamped}");
    let rebuilt = open(&path);
    assert_eq!(*rebuilt.latest_changes(1).unwrap(), *changed);
    assert_eq!(counts(&rebuilt, "latest_changes"), LastingAnswers { kind: "latest_changes", computed: 1, restored: 0 });

    // An answer quicker than the application's threshold stays in memory only.
    let quick = tempfile::tempdir().unwrap();
    let quick_path = quick.path().join("bank.db");
    let patient = App::open(
        &quick_path,
        AppConfig {
            clock: Arc::new(FixedClock(TODAY)),
            keep_in_bank_after: Duration::from_secs(3600),
            ..AppConfig::default()
        },
    )
    .unwrap();
    ingest(&patient, "kz_external_migration.xlsx", Some("kz_external_migration.toml"));
    patient.latest_changes(1).unwrap();
    let kept: i64 = rusqlite::Connection::open(&quick_path)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM kept_answer", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 0);
}

#[test]
fn the_bundled_bank_s_slow_answers_read_back_equal_to_those_computed() {
    let path = crate::bundled().path().to_path_buf();
    let computing = open(&path);
    let reading = open(&path);
    let profile = koshi_app::profile::CountryProfileRequest::new("KAZ");
    let alerts = koshi_app::monitor::AlertsRequest::default();
    let backtest = koshi_app::forecast::BacktestRequest {
        dataflow: "MIG_EXT".into(),
        keys: vec!["KAZ.WLD._T._T.NET".into()],
        horizon: 5,
        ..koshi_app::forecast::BacktestRequest::default()
    };
    // Computed by one process (kept in the bank however quick), read back by another.
    let computed = (
        computing.country_profile(&profile).unwrap(),
        computing.alerts(&alerts).unwrap(),
        computing.backtest(&backtest).unwrap(),
        computing.dataflow_codes("MIG_EXT").unwrap(),
    );
    let read = (
        reading.country_profile(&profile).unwrap(),
        reading.alerts(&alerts).unwrap(),
        reading.backtest(&backtest).unwrap(),
        reading.dataflow_codes("MIG_EXT").unwrap(),
    );
    assert!(computed.0.forecast.is_some(), "the profile carries a forecast with its intervals");
    assert_eq!(*read.0, *computed.0);
    assert_eq!(read.1, computed.1);
    assert_eq!(read.2, computed.2);
    assert_eq!(read.3, computed.3);
    for kind in ["country_profile", "alerts", "backtest", "codes_present"] {
        let c = counts(&reading, kind);
        assert_eq!((c.computed, c.restored), (0, 1), "{kind}");
    }
}
