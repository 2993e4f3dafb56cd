//! The labour market (LAB_MKT): a period built from two columns by a template, and the Bureau's
//! labour files read by their bundled mappings without a problem, one observation per figure.

use koshi_core::validate::Severity;
use koshi_ingest::{IngestOptions, Input, LoadError, load_file, parse_mapping};
use koshi_store::Bank;

use super::plan_bundled;

/// A quarterly table whose period is two columns, `year` and `quarter` (Q1–Q4, or Y for the year).
fn quarterly_mapping(period: &str) -> String {
    format!(
        r#"
[file]
format = "csv"

[release]
label = "fixture: quarters"
date = "2024-03-01"

[fields]
DATAFLOW = {{ value = "LAB_MKT" }}
REF_AREA = {{ column = "region", lookup = "code" }}
OCCUPATION = {{ value = "_T" }}
MEASURE = {{ value = "UNE_RATE" }}
TIME_PERIOD = {period}
OBS_VALUE = {{ column = "rate" }}
SOURCE = {{ value = "KZ_BNS" }}
DEFINITION = {{ value = "fixture" }}
UNIT = {{ value = "PCT" }}
"#
    )
}

const QUARTERS: &str = "year,quarter,region,rate\n2001,Q1,KAZ,12.7\n2001, Q2 ,KZ-11,9.8\n2001,Y,KAZ,10.4\n";

fn load(period: &str, csv: &str) -> Result<koshi_ingest::Loaded, LoadError> {
    let mapping = parse_mapping("quarters.toml", &quarterly_mapping(period)).unwrap();
    let mut bank = Bank::open_in_memory().unwrap();
    load_file(&mut bank, &mapping, "quarters.csv", Input::Bytes(csv.as_bytes()), &IngestOptions::default(), &mut |_| {})
}

#[test]
fn a_template_builds_the_period_from_two_columns() {
    let loaded = load(r#"{ template = "{year}-{quarter}", map = { "2001-Y" = "2001" } }"#, QUARTERS).unwrap();
    let got: Vec<(String, String, Option<f64>)> = loaded.plan.batches[0]
        .observations
        .iter()
        .map(|o| (o.key[0].to_string(), o.time_period.to_string(), o.value))
        .collect();
    assert_eq!(
        got,
        [
            ("KAZ".to_string(), "2001-Q1".to_string(), Some(12.7)),
            ("KZ-11".to_string(), "2001-Q2".to_string(), Some(9.8)),
            ("KAZ".to_string(), "2001".to_string(), Some(10.4)),
        ],
        "cells are trimmed, the map applies to the built text"
    );
    // A built text that is no period is the row's error, naming the first column of the template.
    let Err(LoadError::Rejected { plan, .. }) = load(r#"{ template = "{year}-{quarter}" }"#, QUARTERS) else {
        panic!("2001-Y is no period")
    };
    let errors: Vec<String> =
        plan.diagnostics.iter().filter(|d| d.severity == Severity::Error).map(|d| d.to_string()).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("BAD_PERIOD") && errors[0].contains("row 4, column \"year\""), "{errors:#?}");
}

#[test]
fn a_template_naming_a_column_not_in_the_header_is_a_clear_error() {
    let err = load(r#"{ template = "{year}-{qtr}" }"#, QUARTERS).unwrap_err().to_string();
    assert!(
        err.contains("field TIME_PERIOD: template \"{year}-{qtr}\" names column \"qtr\", which is not in the header"),
        "{err}"
    );
    assert!(err.contains("the header has \"year\", \"quarter\", \"region\", \"rate\""), "{err}");
}

/// Rows of a bundled CSV file (after its header).
fn rows(ds: &koshi_ingest::bundled::BundledDataset) -> usize {
    let bytes = ds.bytes().unwrap();
    csv::Reader::from_reader(bytes.as_slice()).records().count()
}

#[test]
fn the_bureau_s_labour_files_read_cleanly_one_observation_per_figure() {
    let all = koshi_ingest::bundled::datasets();
    // (dataset, figures per row, what the source's SOURCE.md says the file holds)
    let expected = [
        ("kz-labour-force", 3, 435),
        ("kz-unemployment-rate-regions", 1, 2_002),
        ("kz-unemployment-rate-national", 1, 102),
        ("kz-jobseekers", 1, 361),
        ("kz-wage-occupation-2022", 11, 21),
        ("kz-wage-national", 1, 14),
    ];
    for (id, per_row, file_rows) in expected {
        let ds = all.iter().find(|d| d.id == id).unwrap_or_else(|| panic!("{id} is bundled"));
        assert_eq!(rows(ds), file_rows, "{id}");
        let plan = plan_bundled(ds);
        assert!(plan.diagnostics.iter().all(|d| d.severity == Severity::Info), "{id}: {:#?}", plan.diagnostics);
        assert_eq!((plan.rows_read, plan.rows_skipped), (file_rows, 0), "{id}");
        assert_eq!(plan.observations, per_row * file_rows, "{id}");
        assert_eq!(plan.batches.len(), 1, "{id}: one release");
        let batch = &plan.batches[0];
        assert!(batch.observations.iter().all(|o| &*o.dataflow == "LAB_MKT" && o.value.is_some()), "{id}");
        assert!(batch.observations.iter().all(|o| o.citation.as_deref().unwrap().contains("original source: Bureau")));
    }
}
