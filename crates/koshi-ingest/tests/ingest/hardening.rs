//! Ragged rows, sheet and file bounds, bounded memory on junk: each test reproduces a file
//! that used to load wrong values, abort the process or grow without bound.

use std::io::Write;

use koshi_core::validate::Severity;
use koshi_ingest::ingest::IngestLimits;
use koshi_ingest::table::{TableError, TableLimits};
use koshi_ingest::{IngestError, IngestOptions, Input, LoadError, Mapping, load_file, parse_mapping, plan_ingest};
use koshi_store::Bank;

use super::{fixture, mapping, values};

const FLOWS_MAPPING: &str = r#"
[file]
format = "csv"
@FILE@

[release]
label = "fixture: ragged"
date = "2018-01-01"

[fields]
DATAFLOW = { value = "MIG_INT" }
REF_AREA = { column = "region" }
MEASURE = { value = "ARR" }
TIME_PERIOD = { column = "year" }
OBS_VALUE = { column = "arrivals" }
SOURCE = { value = "KZ_BNS" }
DEFINITION = { value = "fixture" }
UNIT = { value = "PERS" }
"#;

fn flows_mapping(file_options: &str) -> Mapping {
    parse_mapping("ragged.toml", &FLOWS_MAPPING.replace("@FILE@", file_options)).unwrap()
}

fn options(allow_defects: bool, limits: IngestLimits) -> IngestOptions {
    IngestOptions { allow_defects, limits, ..Default::default() }
}

fn plan(
    m: &Mapping,
    name: &str,
    bytes: &[u8],
    options: &IngestOptions,
) -> Result<koshi_ingest::IngestPlan, IngestError> {
    let bank = Bank::open_in_memory().unwrap();
    plan_ingest(bank.catalogue(), m, name, Input::Bytes(bytes), options, &|_, _, _, _| Ok(None), &mut |_| {})
}

fn texts(plan: &koshi_ingest::IngestPlan) -> Vec<String> {
    plan.diagnostics.iter().map(|d| d.to_string()).collect()
}

#[test]
fn ragged_csv_rows_are_errors_naming_file_row_and_counts() {
    // An unquoted `12 345,6` splits in two; a short row lost its value.
    let csv = "region,year,arrivals\nAqmola,2017,100\nAbay,2017,12 345,6\nAqtobe,2017\nAtyrau,2017,(-) 2,234\n";
    let mut bank = Bank::open_in_memory().unwrap();
    let m = flows_mapping("");
    let err =
        load_file(&mut bank, &m, "ragged.csv", Input::Bytes(csv.as_bytes()), &IngestOptions::default(), &mut |_| {})
            .unwrap_err();
    let LoadError::Rejected { plan, errors, .. } = err else { panic!("expected a rejection, got {err}") };
    let text = texts(&plan);
    let ragged: Vec<&String> = text.iter().filter(|t| t.contains("RAGGED_ROW")).collect();
    assert_eq!(ragged.len(), 3, "{text:#?}");
    assert!(
        ragged[0].contains("ragged.csv, row 3") && ragged[0].contains("expected 3 fields as the header has, found 4")
    );
    assert!(ragged[1].contains("row 4") && ragged[1].contains("expected 3 fields as the header has, found 2"));
    assert!(ragged[2].contains("row 5") && ragged[2].contains("found 4"));
    assert_eq!(errors, 3);
    assert_eq!(bank.counts().unwrap()["observation"], 0);

    // With --allow-defects the good row is stored; the ragged ones never, not even flagged.
    let allowed = IngestOptions { allow_defects: true, ..Default::default() };
    let loaded = load_file(&mut bank, &m, "ragged.csv", Input::Bytes(csv.as_bytes()), &allowed, &mut |_| {}).unwrap();
    assert_eq!(loaded.plan.error_count(), 3);
    let got = values(&bank, "MIG_INT", &[]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].2, Some(100.0));
}

#[test]
fn declared_repairs_pad_short_rows_and_drop_empty_extra_fields() {
    let csv = "region,year,arrivals\nAqmola,2017,100,,\nAqtobe,2017\nAbay,2017,12 345,6\n";
    let m = flows_mapping("short_rows = \"pad\"\nextra_fields = \"drop_empty\"");
    let p = plan(&m, "repaired.csv", csv.as_bytes(), &IngestOptions::default()).unwrap();
    let text = texts(&p);
    // Extra fields that hold text are never repaired.
    assert_eq!(p.error_count(), 1, "{text:#?}");
    let ragged: Vec<&String> = text.iter().filter(|t| t.contains("RAGGED_ROW")).collect();
    assert!(ragged.len() == 1 && ragged[0].contains("row 4") && ragged[0].contains("found 4"), "{text:#?}");
    // The padded cell is said to be read as missing.
    assert!(text.iter().any(|t| t.contains("MISSING_MARK") && t.contains("row 3")), "{text:#?}");
    let obs: Vec<_> = p.batches.iter().flat_map(|b| &b.observations).collect();
    assert_eq!(obs.len(), 2);
    assert_eq!(obs[0].value, Some(100.0));
    assert_eq!(obs[1].value, None, "a padded field is empty, read as missing");

    // Without the declaration, a trailing separator is an error that names the repair.
    let p = plan(
        &flows_mapping(""),
        "trailing.csv",
        b"region,year,arrivals\nAqmola,2017,100,\n",
        &IngestOptions::default(),
    )
    .unwrap();
    assert!(
        texts(&p)[0].contains("found 4; the extra fields are empty") && texts(&p)[0].contains("drop_empty"),
        "{:?}",
        texts(&p)
    );

    let unknown = FLOWS_MAPPING.replace("@FILE@", "short_rows = \"guess\"");
    assert!(parse_mapping("bad.toml", &unknown).is_err());
}

#[test]
fn every_bundled_dataset_loads_without_errors() {
    let loaded = &super::bundle::bundled_bank().loaded;
    assert_eq!(loaded.len(), koshi_ingest::bundled::datasets().len());
    for l in loaded {
        let errors: Vec<String> =
            l.plan.diagnostics.iter().filter(|d| d.severity == Severity::Error).map(|d| d.to_string()).collect();
        assert!(errors.is_empty() && l.plan.error_count() == 0, "{}: {errors:#?}", l.file);
        assert!(l.plan.observations > 0, "{}", l.file);
    }
}

#[test]
fn wrong_column_names_are_listed_with_the_header() {
    let mut bank = Bank::open_in_memory().unwrap();
    let m = mapping(&fixture("wrong_columns.toml"));
    let err = load_file(
        &mut bank,
        &m,
        "broken.csv",
        Input::Path(&fixture("broken.csv")),
        &IngestOptions::default(),
        &mut |_| {},
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("the header has \"region\", \"year\", \"arrivals\", \"departures\", \"net\""), "{msg}");
}

fn xlsx_mapping(sheet: &str) -> Mapping {
    let text = FLOWS_MAPPING
        .replace("format = \"csv\"", &format!("format = \"xlsx\"\nsheet = \"{sheet}\""))
        .replace("@FILE@", "");
    parse_mapping("sheet.toml", &text).unwrap()
}

/// A small workbook: the header and one row, plus whatever `extra` writes.
fn workbook(extra: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("Data").unwrap();
    for (c, h) in ["region", "year", "arrivals"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "Aqmola").unwrap();
    sheet.write_number(1, 1, 2017.0).unwrap();
    sheet.write_number(1, 2, 100.0).unwrap();
    extra(sheet);
    wb.save_to_buffer().unwrap()
}

#[test]
fn a_far_sheet_cell_costs_nothing_and_is_reported() {
    // One cell at XFD1048576: the dense used range would take 512 GB.
    let bytes = workbook(|s| {
        s.write_string(1_048_575, 16_383, "far").unwrap();
    });
    assert!(bytes.len() < 16_000, "{}", bytes.len());
    let p = plan(&xlsx_mapping("Data"), "far.xlsx", &bytes, &IngestOptions::default()).unwrap();
    let text = texts(&p);
    assert_eq!(p.error_count(), 1, "{text:#?}");
    assert!(text[0].contains("RAGGED_ROW") && text[0].contains("sheet \"Data\", row 1048576"), "{text:#?}");
    assert!(text[0].contains("cell XFD1048576") && text[0].contains("expected 3 fields"), "{text:#?}");
    assert_eq!(p.observations, 1);
    assert_eq!(p.batches[0].observations[0].value, Some(100.0));

    // Beyond lowered sheet bounds, the whole sheet is refused naming the limit.
    let limits =
        IngestLimits { table: TableLimits { max_rows: 1_000, ..TableLimits::DEFAULT }, ..IngestLimits::DEFAULT };
    let err = plan(&xlsx_mapping("Data"), "far.xlsx", &bytes, &options(false, limits)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, IngestError::Table(TableError::Limit { .. })), "{msg}");
    assert!(
        msg.contains("far.xlsx, sheet \"Data\"") && msg.contains("row 1048576") && msg.contains("max_rows"),
        "{msg}"
    );
}

#[test]
fn a_missing_sheet_is_named_with_the_sheets_there_are() {
    let bytes = workbook(|_| {});
    let err = plan(&xlsx_mapping("Table 1"), "book.xlsx", &bytes, &IngestOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("no sheet \"Table 1\"; the workbook has \"Data\""), "{msg}");
}

#[test]
fn workbook_parts_that_decompress_beyond_the_limit_are_refused_before_reading() {
    // Shared strings that compress a thousandfold (the 1 MB workbook whose string expands to
    // 1 GiB, scaled down with the limit).
    let bytes = workbook(|s| {
        for r in 0..64u32 {
            s.write_string(10 + r, 0, format!("{r}{}", "x".repeat(32_000))).unwrap();
        }
    });
    assert!(bytes.len() < 100_000, "{}", bytes.len());
    let limits = IngestLimits {
        table: TableLimits { max_part_bytes: 1 << 20, ..TableLimits::DEFAULT },
        ..IngestLimits::DEFAULT
    };
    let err = plan(&xlsx_mapping("Data"), "bomb.xlsx", &bytes, &options(false, limits)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, IngestError::Table(TableError::Limit { .. })), "{msg}");
    assert!(msg.contains("bomb.xlsx") && msg.contains("sharedstrings.xml") && msg.contains("max_part_bytes"), "{msg}");

    let limits = IngestLimits {
        table: TableLimits { max_decompressed_bytes: 1 << 20, ..TableLimits::DEFAULT },
        ..IngestLimits::DEFAULT
    };
    let msg = plan(&xlsx_mapping("Data"), "bomb.xlsx", &bytes, &options(false, limits)).unwrap_err().to_string();
    assert!(msg.contains("max_decompressed_bytes"), "{msg}");

    let limits = IngestLimits {
        table: TableLimits { max_xlsx_file_bytes: 1_000, ..TableLimits::DEFAULT },
        ..IngestLimits::DEFAULT
    };
    let msg = plan(&xlsx_mapping("Data"), "bomb.xlsx", &bytes, &options(false, limits)).unwrap_err().to_string();
    assert!(msg.contains("max_xlsx_file_bytes"), "{msg}");
}

#[test]
fn cells_and_records_beyond_their_limits_are_refused() {
    let limits =
        IngestLimits { table: TableLimits { max_cell_chars: 100, ..TableLimits::DEFAULT }, ..IngestLimits::DEFAULT };
    let bytes = workbook(|s| {
        s.write_string(2, 0, "я".repeat(101)).unwrap();
    });
    let msg = plan(&xlsx_mapping("Data"), "long.xlsx", &bytes, &options(true, limits)).unwrap_err().to_string();
    assert!(msg.contains("long.xlsx, sheet \"Data\": row 3, column A") && msg.contains("max_cell_chars"), "{msg}");
    let csv = format!("region,year,arrivals\nAqmola,2017,{}\n", "1".repeat(101));
    let msg = plan(&flows_mapping(""), "long.csv", csv.as_bytes(), &options(true, limits)).unwrap_err().to_string();
    assert!(msg.contains("long.csv: row 2, column C") && msg.contains("max_cell_chars"), "{msg}");
    // Exactly at the limit (in characters, not bytes) is accepted.
    let csv = format!("region,year,arrivals\n{},2017,1\n", "я".repeat(100));
    assert!(plan(&flows_mapping(""), "ok.csv", csv.as_bytes(), &options(true, limits)).is_ok());

    // One record without an end is not buffered whole.
    let limits = IngestLimits {
        table: TableLimits { max_record_bytes: 1_000, ..TableLimits::DEFAULT },
        ..IngestLimits::DEFAULT
    };
    let csv = format!("region,year,arrivals\nAqmola,2017,\"{}\"\n", "1 ".repeat(2 << 20));
    let msg = plan(&flows_mapping(""), "endless.csv", csv.as_bytes(), &options(true, limits)).unwrap_err().to_string();
    assert!(msg.contains("endless.csv: row 2") && msg.contains("max_record_bytes"), "{msg}");

    let limits =
        IngestLimits { table: TableLimits { max_columns: 10, ..TableLimits::DEFAULT }, ..IngestLimits::DEFAULT };
    let csv = format!("region,year,arrivals\nAqmola,2017,1{}\n", ",".repeat(20));
    let msg = plan(&flows_mapping(""), "wide.csv", csv.as_bytes(), &options(true, limits)).unwrap_err().to_string();
    assert!(msg.contains("wide.csv: row 2: 23 fields") && msg.contains("max_columns"), "{msg}");
}

/// `rows` rows of text that resolves to nothing: unknown regions, bad periods, bad numbers.
fn junk_csv(rows: usize, cell_len: usize) -> Vec<u8> {
    let mut out = b"region,year,arrivals\n".to_vec();
    for i in 0..rows {
        let filler = "q".repeat(cell_len);
        writeln!(out, "zz{i}{filler},y{i},v{i}").unwrap();
    }
    out
}

#[test]
fn an_ingest_holds_at_most_max_observations() {
    let limits = IngestLimits { max_observations: 50, ..IngestLimits::DEFAULT };
    let junk = junk_csv(1_000, 0);
    let err = plan(&flows_mapping(""), "junk.csv", &junk, &options(true, limits)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, IngestError::TooLarge { limit: 50, .. }), "{msg}");
    assert!(
        msg.contains("junk.csv: stopped at row 52: more than 50 observations (IngestLimits::max_observations)"),
        "{msg}"
    );
    assert!(msg.contains("nothing was written") && msg.contains("Split the file"), "{msg}");
    // At the limit it loads.
    let junk = junk_csv(50, 0);
    assert_eq!(plan(&flows_mapping(""), "junk.csv", &junk, &options(true, limits)).unwrap().observations, 50);

    // Observations whose own text (here long unresolved codes) exceeds the text budget.
    let limits = IngestLimits { max_text_bytes: 100_000, ..IngestLimits::DEFAULT };
    let junk = junk_csv(1_000, 500);
    let msg = plan(&flows_mapping(""), "junk.csv", &junk, &options(true, limits)).unwrap_err().to_string();
    assert!(msg.contains("max_text_bytes"), "{msg}");

    // The aggregating (counting) path has the same bound.
    let counting = parse_mapping("bench.toml", include_str!("../../../../bench/databank/registrations.toml")).unwrap();
    let mut extract = b"date,region,citizenship,sex,age,purpose\n".to_vec();
    for (i, region) in ["Abay", "Aqmola", "Aqtobe", "Atyrau"].iter().enumerate() {
        for month in 1..=12 {
            writeln!(extract, "2024-{month:02}-0{},{region},UZB,M,30,work", 1 + i % 9).unwrap();
        }
    }
    let limits = IngestLimits { max_observations: 20, ..IngestLimits::DEFAULT };
    let err = plan(&counting, "extract.csv", &extract, &options(false, limits)).unwrap_err();
    assert!(matches!(err, IngestError::TooLarge { limit: 20, .. }), "{err}");
    assert_eq!(plan(&counting, "extract.csv", &extract, &IngestOptions::default()).unwrap().observations, 48);
}

#[test]
fn diagnostics_on_junk_are_capped_counted_by_severity_and_short() {
    let limits = IngestLimits { max_diagnostics: 100, max_message_chars: 200, ..IngestLimits::DEFAULT };
    let junk = junk_csv(2_000, 5_000);
    let p = plan(&flows_mapping(""), "junk.csv", &junk, &options(false, limits)).unwrap();
    assert_eq!(p.diagnostics.len(), 100);
    // Three errors a row: region, period, value.
    assert_eq!(p.diagnostics.len() + p.diagnostics_dropped, 6_000);
    assert_eq!(p.error_count(), 6_000);
    assert!(p.diagnostics.iter().all(|d| d.message.chars().count() <= 201), "{:?}", p.diagnostics[0].message.len());
    assert_eq!(p.observations, 0);

    // Dropped notes are not errors: a table of unknown aggregates skipped stays writable.
    let m = FLOWS_MAPPING.replace("[file]", "skip_unknown_codes = true\n[file]").replace("@FILE@", "");
    let m = parse_mapping("skip.toml", &m).unwrap();
    let mut csv = "region,year,arrivals\nAqmola,2017,100\n".to_string();
    for i in 0..50 {
        csv.push_str(&format!("Aggregate {i},2017,1\n"));
    }
    let limits = IngestLimits { max_diagnostics: 10, ..IngestLimits::DEFAULT };
    let p = plan(&m, "skip.csv", csv.as_bytes(), &options(false, limits)).unwrap();
    assert_eq!(p.diagnostics.len() + p.diagnostics_dropped, 50);
    assert_eq!(p.error_count(), 0);
    assert!(p.writable());
    assert_eq!(p.observations, 1);
}

#[test]
fn an_empty_header_row_is_an_error_not_a_panic() {
    // skip_rows lands on a blank sheet row: the header has no columns, and a melt has none to take.
    let text = r#"
[file]
format = "xlsx"
skip_rows = 3
[fields]
DATAFLOW = { value = "MIG_INT" }
REF_AREA = { value = "KZ-11" }
MEASURE = { melt = true }
TIME_PERIOD = { value = "2017" }
OBS_VALUE = { melt = true }
SOURCE = { value = "KZ_BNS" }
DEFINITION = { value = "fixture" }
UNIT = { value = "PERS" }
[melt]
"#;
    let m = parse_mapping("melt.toml", text).unwrap();
    let bytes = workbook(|s| {
        s.write_string(5, 0, "after the blank row").unwrap();
    });
    let err = plan(&m, "blank.xlsx", &bytes, &IngestOptions::default()).unwrap_err();
    assert!(err.to_string().contains("the header is empty"), "{err}");
}
