//! The plausibility rules read reference figures from the bank: a reference that cannot be
//! read stops the ingest with an error; it is never taken for "no reference".

use std::path::Path;

use koshi_core::{Catalogue, ObsStatus, Observation};
use koshi_ingest::{IngestError, IngestOptions, Input, LoadError, load_file, parse_mapping, plan_ingest};
use koshi_store::{Bank, ReleaseBatch, StoreError};

use super::sqlite;

/// Kazakhstan's exports to Belarus: bilateral trade, checked against the reporter's GDP.
const TRADE: &str = r#"
[release]
label = "trade fixture"
date = "2012-03-01"

[fields]
DATAFLOW = { value = "TRADE" }
REF_AREA = { value = "KAZ" }
COUNTERPART = { value = "BLR" }
MEASURE = { value = "EXP" }
TIME_PERIOD = { column = "year" }
OBS_VALUE = { column = "exports" }
SOURCE = { value = "KZ_BNS" }
DEFINITION = { value = "exports of goods, fixture" }
UNIT = { value = "USD" }
UNIT_MULT = { value = "6" }
"#;

const EXPORTS: &str = "year,exports\n2011,900\n";

fn plan_with(reference: &koshi_ingest::ReferenceLookup<'_>) -> Result<koshi_ingest::IngestPlan, IngestError> {
    let catalogue = Catalogue::standard().unwrap();
    let mapping = parse_mapping("trade.toml", TRADE).unwrap();
    let input = Input::Bytes(EXPORTS.as_bytes());
    plan_ingest(&catalogue, &mapping, "trade.csv", input, &IngestOptions::default(), reference, &mut |_| {})
}

#[test]
fn a_reference_lookup_that_fails_fails_the_plan() {
    // The rule applies: no reference passes, a small one flags the figure.
    let plan = plan_with(&|_, _, _, _| Ok(None)).unwrap();
    assert!(plan.diagnostics.iter().all(|d| d.code != "IMPLAUSIBLE_MAGNITUDE"), "{:#?}", plan.diagnostics);
    let asked = std::cell::RefCell::new(Vec::new());
    let plan = plan_with(&|flow, measure, area, period| {
        asked.borrow_mut().push(format!("{flow}/{measure}/{area}/{period}"));
        Ok(Some(1.0e6))
    })
    .unwrap();
    assert_eq!(asked.into_inner(), ["MACRO/GDP/KAZ/2011"]);
    assert!(plan.diagnostics.iter().any(|d| d.code == "IMPLAUSIBLE_MAGNITUDE"), "{:#?}", plan.diagnostics);

    // A failing lookup is an error naming the file, not a plan without the check.
    let err = plan_with(&|_, _, _, _| Err(StoreError::Corrupt("a test failure".into()))).unwrap_err();
    assert!(matches!(&err, IngestError::Reference { source: StoreError::Corrupt(_), .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("trade.csv") && message.contains("a test failure"), "{message}");
    // Loading, it is the bank's failure (not the file's).
    assert!(matches!(LoadError::from(err), LoadError::Store(StoreError::Corrupt(_))));
}

fn gdp(value: f64) -> ReleaseBatch {
    ReleaseBatch {
        dataflow: "MACRO".into(),
        source: "WB_WDI".into(),
        label: "GDP fixture".into(),
        release_date: "2012-07-01".parse().unwrap(),
        origin: "test".into(),
        note: None,
        observations: vec![Observation {
            dataflow: "MACRO".into(),
            key: vec!["KAZ".into(), "GDP".into()],
            time_period: "2011".into(),
            value: Some(value),
            printed: None,
            unit: "USD".into(),
            unit_mult: 9,
            status: ObsStatus::Normal,
            source: "WB_WDI".into(),
            definition: "GDP, current US$".into(),
            citation: None,
            note: None,
            defects: Vec::new(),
        }],
        defects: Vec::new(),
    }
}

fn load_trade(path: &Path) -> Result<koshi_ingest::Loaded, LoadError> {
    let mut bank = Bank::open(path).unwrap();
    let mapping = parse_mapping("trade.toml", TRADE).unwrap();
    let input = Input::Bytes(EXPORTS.as_bytes());
    load_file(&mut bank, &mapping, "trade.csv", input, &IngestOptions::default(), &mut |_| {})
}

#[test]
fn a_damaged_reference_in_the_bank_stops_the_load_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    Bank::open(&path).unwrap().write_releases(&[gdp(0.5)]).unwrap();
    // The bank's reference is read: $900 million of exports exceed a GDP of $0.5 billion.
    let Err(LoadError::Rejected { plan, .. }) = load_trade(&path) else { panic!("an implausible figure is an error") };
    assert!(plan.diagnostics.iter().any(|d| d.code == "IMPLAUSIBLE_MAGNITUDE"), "{:#?}", plan.diagnostics);

    // The reference's release date damaged by other means: the load fails, it is not a load
    // without a reference (which would write the implausible figure unflagged).
    sqlite(&path).execute("UPDATE release SET release_date = 'July 2012' WHERE dataflow_id = 'MACRO'", []).unwrap();
    let err = load_trade(&path).expect_err("a damaged reference fails the load");
    assert!(matches!(&err, LoadError::Store(StoreError::Corrupt(_))), "{err:?}");
    assert!(err.to_string().contains("July 2012"), "{err}");
    let trade: i64 =
        sqlite(&path).query_row("SELECT COUNT(*) FROM release WHERE dataflow_id = 'TRADE'", [], |r| r.get(0)).unwrap();
    assert_eq!(trade, 0);
}
