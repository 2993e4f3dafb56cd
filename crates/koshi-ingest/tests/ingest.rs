//! Ingestion: numbers as printed, Cyrillic and merged headers, every problem reported at once
//! with file, sheet, row and column, nothing written on error, flagged rows with
//! --allow-defects, idempotent re-ingest, and real files from the shared datasets.

use std::path::{Path, PathBuf};

use koshi_core::validate::Severity;
use koshi_ingest::{IngestOptions, Input, LoadError, Mapping, load_file, parse_mapping};
use koshi_store::{Bank, Query, WriteOutcome};

#[path = "ingest/bundle.rs"]
mod bundle;
#[path = "ingest/declared.rs"]
mod declared;
#[path = "ingest/fuzz.rs"]
mod fuzz;
#[path = "ingest/hardening.rs"]
mod hardening;
#[path = "ingest/labour.rs"]
mod labour;
#[path = "ingest/paths.rs"]
mod paths;
#[path = "ingest/reference.rs"]
mod reference;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(path)
}

/// A connection of the test's own to a bank file, beside the bank's.
fn sqlite(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn mapping(path: &Path) -> Mapping {
    parse_mapping(&path.display().to_string(), &std::fs::read_to_string(path).unwrap()).unwrap()
}

fn load(bank: &mut Bank, data: &Path, map: &Path, allow_defects: bool) -> Result<koshi_ingest::Loaded, LoadError> {
    let m = mapping(map);
    let name = data.file_name().unwrap().to_string_lossy().to_string();
    load_file(bank, &m, &name, Input::Path(data), &IngestOptions { allow_defects, ..Default::default() }, &mut |_| {})
}

fn values(bank: &Bank, dataflow: &str, filters: &[(&str, &str)]) -> Vec<(String, String, Option<f64>)> {
    let q = Query {
        dataflow: dataflow.into(),
        filters: filters.iter().map(|(d, c)| (d.to_string(), vec![c.to_string()])).collect(),
        ..Default::default()
    };
    bank.query(&q).unwrap().into_iter().map(|r| (r.key.join("."), r.time_period, r.value)).collect()
}

#[test]
fn numbers_as_printed_under_cyrillic_headers() {
    let mut bank = Bank::open_in_memory().unwrap();
    let loaded = load(&mut bank, &fixture("printed.csv"), &fixture("printed.toml"), false).unwrap();
    assert!(loaded.plan.diagnostics.iter().all(|d| d.severity != Severity::Error), "{:#?}", loaded.plan.diagnostics);
    let got = values(&bank, "MIG_INT", &[]);
    let expect = [
        ("KZ-11.ARR", Some(2_871.0)),
        ("KZ-11.DEP", Some(3_000.0)),
        ("KZ-11.NET", Some(-129.0)),
        ("KZ-19.ARR", Some(464.8)),
        ("KZ-19.NET", None),
        ("KZ-75.ARR", Some(1_265_000.0)),
        ("KZ-75.DEP", Some(1_265_000.0)),
        ("KZ-61.ARR", Some(12_400.0)),
        ("KZ-61.NET", None),
    ];
    for (key, value) in expect {
        let found = got.iter().find(|(k, _, _)| k == key).unwrap_or_else(|| panic!("{key} missing from {got:?}"));
        assert_eq!(found.2, value, "{key}");
    }
    // The printed text is kept beside the value.
    let rows = bank.query(&Query { dataflow: "MIG_INT".into(), ..Default::default() }).unwrap();
    let net = rows.iter().find(|r| r.key.join(".") == "KZ-11.NET").unwrap();
    assert_eq!(net.printed.as_deref(), Some("(-) 129"));
    assert!(net.citation.as_deref().unwrap().contains("row 2"), "{:?}", net.citation);
}

#[test]
fn every_problem_is_reported_at_once_and_nothing_is_written() {
    let mut bank = Bank::open_in_memory().unwrap();
    let err = load(&mut bank, &fixture("broken.csv"), &fixture("broken.toml"), false).unwrap_err();
    let LoadError::Rejected { plan, errors, .. } = err else { panic!("expected a rejection, got {err}") };
    let text: Vec<String> = plan.diagnostics.iter().map(|d| d.to_string()).collect();
    let has = |needle: &str| text.iter().any(|t| t.contains(needle));
    assert!(has("row 3, column \"region\": `Atlantis`"), "{text:#?}");
    assert!(has("row 4, column \"year\""), "{text:#?}");
    assert!(has("row 5, column \"arrivals\": `15,77.5` is not a number"), "{text:#?}");
    assert!(has("IDENTITY_BROKEN") && text.iter().any(|t| t.contains("row 6")), "{text:#?}");
    assert!(errors >= 4, "{errors}");
    assert_eq!(bank.counts().unwrap()["observation"], 0, "a file with errors writes nothing");
    assert_eq!(bank.counts().unwrap()["release"], 0);
}

#[test]
fn allow_defects_stores_the_rows_flagged() {
    let mut bank = Bank::open_in_memory().unwrap();
    load(&mut bank, &fixture("broken.csv"), &fixture("broken.toml"), true).unwrap();
    let rows = bank.query(&Query { dataflow: "MIG_INT".into(), ..Default::default() }).unwrap();
    let flagged: Vec<_> = rows.iter().filter(|r| !r.defects.is_empty()).collect();
    assert!(flagged.iter().any(|r| r.defects.contains(&"MALFORMED_NUMBER".to_string()) && r.value == Some(1577.5)));
    assert!(flagged.iter().any(|r| r.defects.contains(&"UNKNOWN_CODE".to_string()) && r.key[0] == "Atlantis"));
    assert!(flagged.iter().any(|r| r.defects.contains(&"IDENTITY_BROKEN".to_string()) && r.key[0] == "KZ-10"));
    let clean = rows.iter().find(|r| r.key.join(".") == "KZ-11.ARR").unwrap();
    assert!(clean.defects.is_empty());
    assert!(bank.check().unwrap().iter().any(|f| f.rule == "MALFORMED_NUMBER"));
}

#[test]
fn missing_columns_are_listed_together() {
    let mut bank = Bank::open_in_memory().unwrap();
    let err = load(&mut bank, &fixture("broken.csv"), &fixture("wrong_columns.toml"), false).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("\"oblast\"") && msg.contains("\"period\""), "{msg}");
}

#[test]
fn reingesting_identical_content_creates_nothing_and_changes_create_a_release() {
    let dir = tempfile::tempdir().unwrap();
    let mut bank = Bank::open(&dir.path().join("bank.db")).unwrap();
    let data = dir.path().join("flows.csv");
    std::fs::write(&data, std::fs::read_to_string(fixture("printed.csv")).unwrap()).unwrap();
    let first = load(&mut bank, &data, &fixture("printed.toml"), false).unwrap();
    assert!(matches!(first.outcomes[0], WriteOutcome::Created { .. }));
    let again = load(&mut bank, &data, &fixture("printed.toml"), false).unwrap();
    assert!(matches!(again.outcomes[0], WriteOutcome::Unchanged { .. }));
    let observations = bank.counts().unwrap()["observation"];

    let changed =
        std::fs::read_to_string(&data).unwrap().replace("\"2 871\"", "\"2 872\"").replace("(-) 129", "(-) 128");
    std::fs::write(&data, changed).unwrap();
    let revised = load(&mut bank, &data, &fixture("printed.toml"), false).unwrap();
    assert!(matches!(revised.outcomes[0], WriteOutcome::Created { .. }));
    assert_eq!(bank.releases(Some("MIG_INT")).unwrap().len(), 2);
    assert!(bank.counts().unwrap()["observation"] > observations);
    let now = values(&bank, "MIG_INT", &[("REF_AREA", "KZ-11"), ("MEASURE", "ARR")]);
    assert_eq!(now[0].2, Some(2_872.0));
    // The revision states the same release date as the first: from that date on it is the
    // current figure (revision 2), and the first figure stays in the bank under revision 1.
    let as_of = |date: &str| {
        bank.query(&Query {
            dataflow: "MIG_INT".into(),
            filters: vec![("REF_AREA".into(), vec!["KZ-11".into()]), ("MEASURE".into(), vec!["ARR".into()])],
            as_of: Some(date.parse().unwrap()),
            ..Default::default()
        })
        .unwrap()
    };
    assert!(as_of("2017-12-31").is_empty());
    let current = as_of("2018-01-01");
    assert_eq!(
        (current[0].value, current[0].release_revision, current[0].release_date.as_str()),
        (Some(2_872.0), 2, "2018-01-01")
    );
    let first: f64 = sqlite(&dir.path().join("bank.db"))
        .query_row(
            "SELECT o.value FROM observation o JOIN release r ON r.id = o.release_id JOIN series s ON s.id = o.series_id
             WHERE r.revision = 1 AND s.series_key = 'KZ-11.ARR'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(first, 2_871.0, "revisions never overwrite");
}

#[test]
fn xlsx_with_merged_group_headers_and_a_title_row() {
    use rust_xlsxwriter::{Format, Workbook};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("table2.xlsx");
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("Таблица 2").unwrap();
    let merged = Format::new();
    sheet.write_string(0, 0, "Миграция населения в возрасте 15 лет и старше по уровню образования").unwrap();
    sheet.write_string(1, 0, "Уровень образования").unwrap();
    sheet.merge_range(1, 1, 1, 3, "Страны СНГ", &merged).unwrap();
    sheet.merge_range(1, 4, 1, 6, "Другие страны", &merged).unwrap();
    for (c, h) in ["Сальдо", "Прибыло", "Выбыло", "Сальдо", "Прибыло", "Выбыло"].iter().enumerate()
    {
        sheet.write_string(2, c as u16 + 1, *h).unwrap();
    }
    let rows: [(&str, [&str; 6]); 2] = [
        ("Высшее", ["-8 048", "2 125", "10 173", "-506", "611", "1 117"]),
        ("Среднее специальное", ["-5 675", "2 580", "8 255", "-552", "284", "836"]),
    ];
    for (r, (label, cells)) in rows.iter().enumerate() {
        sheet.write_string(3 + r as u32, 0, *label).unwrap();
        for (c, v) in cells.iter().enumerate() {
            sheet.write_string(3 + r as u32, c as u16 + 1, *v).unwrap();
        }
    }
    sheet.write_number(5, 0, 0.0).unwrap(); // a stray numeric cell in the label column
    wb.save(&path).unwrap();

    let map_text = r#"
skip_unknown_codes = false
[file]
format = "xlsx"
sheet = "Таблица 2"
skip_rows = 1
header_rows = 2

[release]
label = "fixture: xlsx"
date = "2018-06-01"

[fields]
DATAFLOW = { value = "MIG_EXT" }
REF_AREA = { value = "KAZ" }
COUNTERPART = { melt = true, map = { "Страны СНГ / Сальдо" = "CIS", "Страны СНГ / Прибыло" = "CIS", "Страны СНГ / Выбыло" = "CIS", "Другие страны / Сальдо" = "NON_CIS", "Другие страны / Прибыло" = "NON_CIS", "Другие страны / Выбыло" = "NON_CIS" } }
MEASURE = { melt = true, map = { "Страны СНГ / Сальдо" = "NET", "Страны СНГ / Прибыло" = "ARR", "Страны СНГ / Выбыло" = "DEP", "Другие страны / Сальдо" = "NET", "Другие страны / Прибыло" = "ARR", "Другие страны / Выбыло" = "DEP" } }
SEX = { value = "_T" }
EDUCATION = { column = "Уровень образования" }
TIME_PERIOD = { value = "2017" }
OBS_VALUE = { melt = true }
SOURCE = { value = "KZ_BNS" }
DEFINITION = { value = "fixture" }
UNIT = { value = "PERS" }

[melt]
from = "Страны СНГ / Сальдо"
"#;
    let m = parse_mapping("inline.toml", map_text).unwrap();
    let mut bank = Bank::open_in_memory().unwrap();
    let result = load_file(&mut bank, &m, "table2.xlsx", Input::Path(&path), &IngestOptions::default(), &mut |_| {});
    // The stray `0` in the label column is not an education level: reported with sheet, row and column letter.
    let LoadError::Rejected { plan, .. } = result.unwrap_err() else { panic!("expected rejection") };
    let text: Vec<String> = plan.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(
        text.iter().any(|t| t.contains("sheet \"Таблица 2\", row 6, column A (\"Уровень образования\")")),
        "{text:#?}"
    );
    // With the stray row allowed as a defect, the merged headers resolve correctly.
    load_file(
        &mut bank,
        &m,
        "table2.xlsx",
        Input::Path(&path),
        &IngestOptions { allow_defects: true, ..Default::default() },
        &mut |_| {},
    )
    .unwrap();
    let got = values(&bank, "MIG_EXT", &[("COUNTERPART", "CIS"), ("EDUCATION", "ED5T8")]);
    let find = |measure: &str| got.iter().find(|(k, _, _)| k.ends_with(measure)).unwrap().2;
    assert_eq!(find("NET"), Some(-8_048.0));
    assert_eq!(find("ARR"), Some(2_125.0));
    assert_eq!(find("DEP"), Some(10_173.0));
    let other = values(&bank, "MIG_EXT", &[("COUNTERPART", "NON_CIS"), ("EDUCATION", "ED45")]);
    assert!(other.iter().any(|(k, _, v)| k.ends_with("DEP") && *v == Some(836.0)), "{other:?}");
}

#[test]
fn real_kazakhstan_internal_migration_file() {
    let mut bank = Bank::open_in_memory().unwrap();
    let map = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/bundled/mappings/kz_internal_migration_2024.toml");
    let loaded = load(&mut bank, &shared("kazakhstan/internal_migration_2024.csv"), &map, false).unwrap();
    assert_eq!(loaded.plan.rows_read, 240);
    assert_eq!(loaded.plan.observations, 720);
    assert!(loaded.plan.diagnostics.is_empty(), "{:#?}", loaded.plan.diagnostics);
    // Astana, January 2024: 22,750 arrived, 17,201 left, +5,549.
    let astana = values(&bank, "MIG_INT", &[("REF_AREA", "KZ-71")]);
    let jan: Vec<_> = astana.iter().filter(|(_, p, _)| p == "2024-01").collect();
    assert_eq!(jan.len(), 3);
    assert!(jan.iter().any(|(k, _, v)| k.ends_with("ARR") && *v == Some(22_750.0)));
    assert!(jan.iter().any(|(k, _, v)| k.ends_with("NET") && *v == Some(5_549.0)));
}

#[test]
fn real_un_desa_stock_matrix_skips_regional_aggregates() {
    let mut bank = Bank::open_in_memory().unwrap();
    let map = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/bundled/mappings/undesa_od_2019.toml");
    let loaded = load(&mut bank, &shared("undesa/migrant_stock_od_2019.csv"), &map, false).unwrap();
    assert_eq!(loaded.plan.rows_read, 1_659);
    assert_eq!(loaded.plan.rows_skipped, 5 * 7, "five aggregate rows in each of seven years");
    // Kazakhstan 1990: the row sum over origins is 3,192,260 (data/README.md).
    let kz: f64 = values(&bank, "MIG_STOCK", &[("REF_AREA", "KAZ")])
        .iter()
        .filter(|(_, p, _)| p == "1990")
        .filter_map(|(_, _, v)| *v)
        .sum();
    assert_eq!(kz, 3_192_260.0);
}

/// Plan a bundled dataset against the shipped catalogue, with no bank to compare against.
fn plan_bundled(ds: &koshi_ingest::bundled::BundledDataset) -> koshi_ingest::IngestPlan {
    let catalogue = koshi_core::Catalogue::standard().unwrap();
    let mapping = parse_mapping(ds.mapping_name, ds.mapping).unwrap();
    let bytes = ds.bytes().unwrap();
    let no_reference = |_: &str, _: &str, _: &str, _: &str| Ok(None);
    koshi_ingest::plan_ingest(
        &catalogue,
        &mapping,
        ds.file_name,
        Input::Bytes(&bytes),
        &IngestOptions::default(),
        &no_reference,
        &mut |_| {},
    )
    .unwrap_or_else(|e| panic!("{}: {e}", ds.file_name))
}

#[test]
fn ambiguous_figures_of_the_bundled_papers_follow_their_files_evidence() {
    let all = koshi_ingest::bundled::datasets();
    let find = |id: &str| plan_bundled(all.iter().find(|d| d.id == id).unwrap());
    let printed_as = |plan: &koshi_ingest::IngestPlan, text: &str| -> Vec<Option<f64>> {
        plan.batches
            .iter()
            .flat_map(|b| &b.observations)
            .filter(|o| o.printed.as_deref() == Some(text))
            .map(|o| o.value)
            .collect()
    };
    // Paper 002 prints `16,009,597` (commas group thousands): `10,975` people, `28.200` thousand.
    let p002 = find("paper-002");
    assert_eq!(printed_as(&p002, "10,975"), vec![Some(10_975.0)]);
    let thousands: Vec<_> = p002
        .batches
        .iter()
        .flat_map(|b| &b.observations)
        .filter(|o| o.time_period.as_ref() == "2017-09")
        .map(|o| o.value)
        .collect();
    assert!(thousands.contains(&Some(28.2)) && thousands.contains(&Some(11.9)), "{thousands:?}");
    // Paper 003 prints `2,871,300` and `19.2`: `508,034` is half a million.
    let p003 = find("paper-003");
    assert_eq!(printed_as(&p003, "508,034"), vec![Some(508_034.0)]);
    for plan in [&p002, &p003] {
        assert!(
            plan.diagnostics.iter().any(|d| d.code == "DECIMAL_MARK_INFERRED" && d.message.contains("decimal point"))
        );
    }
    // Paper 000 prints decimal commas only, none ambiguous.
    let p000 = find("paper-000");
    assert_eq!(printed_as(&p000, "464,8"), vec![Some(464.8), Some(464.8)]);
    assert!(!p000.diagnostics.iter().any(|d| d.code.contains("AMBIGUOUS") || d.code == "DECIMAL_MARK_INFERRED"));
}

// ---------- Numbers as printed: every form one reading or one clear error ----------

/// Load a small MIG_INT table `region,year,value` through an inline mapping.
fn load_values(csv: &str, unit: &str, file_extra: &str) -> Result<koshi_ingest::Loaded, LoadError> {
    load_values_with(csv, unit, file_extra, "")
}

/// As [`load_values`], with top-level mapping keys (`aggregate = true`).
fn load_values_with(csv: &str, unit: &str, file_extra: &str, top: &str) -> Result<koshi_ingest::Loaded, LoadError> {
    let m = values_mapping(unit, file_extra, top);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("figures.csv");
    std::fs::write(&path, csv).unwrap();
    let mut bank = Bank::open_in_memory().unwrap();
    load_file(&mut bank, &m, "figures.csv", Input::Path(&path), &IngestOptions::default(), &mut |_| {})
}

/// The mapping of a small MIG_INT table `region,year,value` (see [`load_values_with`]).
fn values_mapping(unit: &str, file_extra: &str, top: &str) -> Mapping {
    let map_text = format!(
        r#"
{top}
[file]
format = "csv"
{file_extra}

[release]
label = "fixture: figures"
date = "2018-01-01"

[fields]
DATAFLOW = {{ value = "MIG_INT" }}
REF_AREA = {{ column = "region" }}
MEASURE = {{ value = "{measure}" }}
TIME_PERIOD = {{ column = "year" }}
OBS_VALUE = {{ column = "value" }}
SOURCE = {{ value = "KZ_BNS" }}
DEFINITION = {{ value = "fixture" }}
UNIT = {{ value = "{unit}" }}
"#,
        measure = if unit == "PCT" { "INTENSITY" } else { "ARR" },
    );
    parse_mapping("figures.toml", &map_text).unwrap()
}

fn rejected(result: Result<koshi_ingest::Loaded, LoadError>) -> Vec<String> {
    match result {
        Err(LoadError::Rejected { plan, .. }) => plan.diagnostics.iter().map(|d| d.to_string()).collect(),
        Err(e) => panic!("expected a rejection, got {e}"),
        Ok(l) => panic!("expected a rejection, got {:#?}", l.plan.diagnostics),
    }
}

/// Value by region from a loaded plan.
fn planned(loaded: &koshi_ingest::Loaded) -> Vec<(String, Option<f64>, Option<String>)> {
    loaded
        .plan
        .batches
        .iter()
        .flat_map(|b| &b.observations)
        .map(|o| (o.key[0].to_string(), o.value, o.printed.clone()))
        .collect()
}

fn value_of(loaded: &koshi_ingest::Loaded, region: &str) -> Option<f64> {
    planned(loaded).into_iter().find(|(r, _, _)| r == region).unwrap_or_else(|| panic!("{region}")).1
}

#[test]
fn nan_in_a_value_column_is_an_error_unless_the_mapping_declares_it() {
    let csv = "region,year,value\nKZ-11,2017,120\nKZ-19,2017,NaN\n";
    let text = rejected(load_values(csv, "PERS", ""));
    assert!(
        text.iter().any(|t| t.contains("error[MALFORMED_NUMBER]: figures.csv, row 3, column \"value\": `NaN`")
            && t.contains("missing = [\"NaN\"]")),
        "{text:#?}"
    );
    let loaded = load_values(csv, "PERS", "missing = [\"NaN\"]").unwrap();
    assert_eq!(value_of(&loaded, "KZ-19"), None);
    assert_eq!(value_of(&loaded, "KZ-11"), Some(120.0));
    let notes: Vec<String> = loaded.plan.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(
        notes.iter().any(|n| n.contains("MISSING_MARK") && n.contains("1 cell `NaN` declared missing")),
        "{notes:#?}"
    );
}

#[test]
fn missing_marks_are_stored_as_missing_and_said_once_per_kind() {
    let csv = "region,year,value\nKZ-11,2017,x\nKZ-19,2017,–\nKZ-75,2017,–\nKZ-61,2017,-\nKZ-71,2017,5\nKZ-79,2017,х\nKZ-62,2017,\n";
    let loaded = load_values(csv, "PERS", "").unwrap();
    for region in ["KZ-11", "KZ-19", "KZ-75", "KZ-61", "KZ-79", "KZ-62"] {
        assert_eq!(value_of(&loaded, region), None, "{region}");
    }
    let statuses: Vec<_> =
        loaded.plan.batches[0].observations.iter().map(|o| (o.key[0].to_string(), o.status)).collect();
    assert!(statuses.iter().all(|(r, s)| (*s == koshi_core::ObsStatus::Missing) == (r != "KZ-71")), "{statuses:?}");
    let notes: Vec<String> = loaded.plan.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(notes.len(), 3, "{notes:#?}");
    assert!(notes.iter().any(|n| n.contains("row 8, column \"value\": 1 empty cell, stored as missing")), "{notes:#?}");
    assert!(notes.iter().any(|n| n.starts_with("note[MISSING_MARK]: figures.csv, row 2, column \"value\": 2 cells (`x` 1, `х` 1) read as not applicable or confidential, stored as missing")), "{notes:#?}");
    assert!(
        notes.iter().any(|n| n.contains(
            "row 3, column \"value\": 3 cells (`-` 1, `–` 2) read as nil (no such cases), stored as missing"
        )),
        "{notes:#?}"
    );
}

#[test]
fn percent_sign_in_a_level_is_an_error_and_kept_in_a_percentage() {
    let csv = "region,year,value\nKZ-11,2017,120\nKZ-19,2017,5%\n";
    let text = rejected(load_values(csv, "PERS", ""));
    assert!(
        text.iter().any(|t| t.starts_with("error[PERCENT_IN_LEVEL]: figures.csv, row 3, column \"value\": `5%`")
            && t.contains("PERS")),
        "{text:#?}"
    );
    let loaded = load_values(csv, "PCT", "").unwrap();
    assert_eq!(value_of(&loaded, "KZ-19"), Some(5.0));
    let printed = planned(&loaded).into_iter().find(|(r, _, _)| r == "KZ-19").unwrap().2;
    assert_eq!(printed.as_deref(), Some("5%"), "the printed text keeps the sign");
}

#[test]
fn one_dot_and_one_comma_with_no_other_evidence_are_refused_as_ambiguous() {
    let csv = "region,year,value\nKZ-11,2017,\"1.234\"\nKZ-19,2017,\"1,234\"\nKZ-75,2017,120\n";
    let text = rejected(load_values(csv, "PERS", ""));
    let ambiguous: Vec<&String> = text.iter().filter(|t| t.contains("AMBIGUOUS_NUMBER")).collect();
    assert_eq!(ambiguous.len(), 2, "{text:#?}");
    assert!(ambiguous[0].contains("row 2, column \"value\": `1.234` is ambiguous: 1234 if `.` groups thousands, 1.234 if it is the decimal mark"), "{text:#?}");
    assert!(
        ambiguous[1].contains("row 3, column \"value\": `1,234` is ambiguous: 1234 if `,` groups thousands, 1.234"),
        "{text:#?}"
    );
    assert!(ambiguous.iter().all(|t| t.contains("decimal = \"dot\" or decimal = \"comma\"")), "{text:#?}");
    // An explicit mark decides.
    let loaded = load_values(csv, "PERS", "decimal = \"comma\"").unwrap();
    assert_eq!(value_of(&loaded, "KZ-11"), Some(1234.0));
    assert_eq!(value_of(&loaded, "KZ-19"), Some(1.234));
}

#[test]
fn contradicting_evidence_leaves_ambiguous_figures_refused() {
    let csv = "region,year,value\nKZ-11,2017,\"1,234\"\nKZ-19,2017,\"464,8\"\nKZ-75,2017,19.2\n";
    let text = rejected(load_values(csv, "PERS", ""));
    assert!(
        text.iter()
            .any(|t| t.contains("AMBIGUOUS_NUMBER") && t.contains("row 2") && t.contains("point both ways (`19.2`")),
        "{text:#?}"
    );
}

#[test]
fn ambiguous_figures_follow_the_evidence_of_the_other_figures() {
    // A decimal comma elsewhere (`464,8`): `1,234` is 1.234 and `12.500` is 12500.
    let csv = "region,year,value\nKZ-11,2017,\"1,234\"\nKZ-19,2017,\"464,8\"\nKZ-75,2017,12.500\n";
    let loaded = load_values(csv, "PERS", "").unwrap();
    assert_eq!(value_of(&loaded, "KZ-11"), Some(1.234));
    assert_eq!(value_of(&loaded, "KZ-75"), Some(12_500.0));
    assert_eq!(value_of(&loaded, "KZ-19"), Some(464.8));
    let printed = planned(&loaded).into_iter().find(|(r, _, _)| r == "KZ-75").unwrap().2;
    assert_eq!(printed.as_deref(), Some("12.500"));
    let notes: Vec<String> = loaded.plan.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(
        notes.iter().any(|n| n.starts_with(
            "note[DECIMAL_MARK_INFERRED]: figures.csv, row 2, column \"value\": 2 figures such as `1,234`"
        ) && n.contains("decimal comma")),
        "{notes:#?}"
    );
    // Thousands grouped by commas elsewhere (`2,871,300`): `1,234` is 1234 and `12.500` is 12.5.
    let csv = "region,year,value\nKZ-11,2017,\"1,234\"\nKZ-19,2017,\"2,871,300\"\nKZ-75,2017,12.500\n";
    let loaded = load_values(csv, "PERS", "").unwrap();
    assert_eq!(value_of(&loaded, "KZ-11"), Some(1234.0));
    assert_eq!(value_of(&loaded, "KZ-75"), Some(12.5));
    assert!(
        loaded
            .plan
            .diagnostics
            .iter()
            .any(|d| d.code == "DECIMAL_MARK_INFERRED" && d.message.contains("decimal point"))
    );
}

#[test]
fn scientific_notation_reads_exactly() {
    let csv = "region,year,value\nKZ-11,2017,1e3\nKZ-19,2017,1.5E-3\nKZ-75,2017,-2.5e+4\n";
    let loaded = load_values(csv, "PERS", "").unwrap();
    assert_eq!(value_of(&loaded, "KZ-11"), Some(1000.0));
    assert_eq!(value_of(&loaded, "KZ-19"), Some(0.0015));
    assert_eq!(value_of(&loaded, "KZ-75"), Some(-25_000.0));
    let loaded = load_values("region,year,value\nKZ-11,2017,\"1,5e3\"\n", "PERS", "decimal = \"comma\"").unwrap();
    assert_eq!(value_of(&loaded, "KZ-11"), Some(1500.0));
}

#[test]
fn summed_rows_refuse_ambiguous_figures_and_percent_signs_and_note_missing_marks() {
    // `aggregate = true` with constant attributes: the microdata path sums cells as rows stream.
    let csv = "region,year,value\nKZ-11,2017,\"1,234\"\nKZ-11,2017,5%\nKZ-19,2017,x\nKZ-19,2017,1e3\nKZ-19,2017,NaN\n";
    let text = rejected(load_values_with(csv, "PERS", "", "aggregate = true"));
    assert!(
        text.iter().any(|t| t.starts_with(
            "error[AMBIGUOUS_NUMBER]: figures.csv, row 2, column \"value\": `1,234` is ambiguous (1234 or 1.234)"
        )),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|t| t.starts_with("error[PERCENT_IN_LEVEL]: figures.csv, row 3, column \"value\": `5%`")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|t| t.starts_with("error[MALFORMED_NUMBER]: figures.csv, row 6, column \"value\": `NaN`")),
        "{text:#?}"
    );
    let csv = "region,year,value\nKZ-19,2017,x\nKZ-19,2017,1e3\nKZ-19,2017,NaN\nKZ-19,2017,7\n";
    let loaded = load_values_with(csv, "PERS", "missing = [\"NaN\"]", "aggregate = true").unwrap();
    assert_eq!(value_of(&loaded, "KZ-19"), Some(1007.0));
    let notes: Vec<String> = loaded.plan.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(
        notes.iter().any(|n| n.contains(
            "row 2, column \"value\": 1 cell `x` read as not applicable or confidential, left out of the sums"
        )),
        "{notes:#?}"
    );
    assert!(notes.iter().any(|n| n.contains("row 4, column \"value\": 1 cell `NaN` declared missing")), "{notes:#?}");
    // A key whose every row is a missing mark is missing, not a sum of 0.
    let csv = "region,year,value\nKZ-19,2017,x\nKZ-19,2017,–\nKZ-11,2017,4\n";
    let loaded = load_values_with(csv, "PERS", "", "aggregate = true").unwrap();
    assert_eq!(value_of(&loaded, "KZ-19"), None);
    assert_eq!(value_of(&loaded, "KZ-11"), Some(4.0));
}

#[test]
fn every_cell_of_the_bundled_files_reads_or_is_explained() {
    use koshi_core::number::{DecimalMark, Parsed, format_plain, parse_number};
    let mut cells = 0usize;
    let mut figures = 0usize;
    for ds in koshi_ingest::bundled::datasets() {
        let bytes = ds.bytes().unwrap();
        let delimiter = if ds.file_name.ends_with(".txt") { b'\t' } else { b',' };
        let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(bytes.as_slice());
        for record in reader.records() {
            for text in record.unwrap().iter() {
                cells += 1;
                for mark in [DecimalMark::Auto, DecimalMark::Dot, DecimalMark::Comma] {
                    if let Ok(Parsed::Value { value, .. }) = parse_number(text, mark) {
                        figures += usize::from(mark == DecimalMark::Auto);
                        assert!(value.is_finite(), "{}: {text:?}", ds.file_name);
                        let plain = format_plain(value);
                        match parse_number(&plain, DecimalMark::Dot) {
                            Ok(Parsed::Value { value: again, .. }) => {
                                assert_eq!(again.to_bits(), value.to_bits(), "{}: {text:?} → {plain}", ds.file_name)
                            }
                            other => panic!("{}: {text:?} → {plain:?} → {other:?}", ds.file_name),
                        }
                    }
                }
            }
        }
    }
    assert!(cells > 500_000 && figures > 400_000, "{cells} cells, {figures} figures");
}

#[test]
fn ambiguous_figures_of_rejected_rows_are_all_counted() {
    // Rows that cannot be stored (unknown region) keep a bounded list of their ambiguous figures;
    // every one still counts as an error.
    let rows = 10_050;
    let mut csv = String::from("region,year,value\n");
    for _ in 0..rows {
        csv.push_str("Atlantis,2017,\"1,234\"\n");
    }
    let Err(LoadError::Rejected { errors, .. }) = load_values(&csv, "PERS", "") else { panic!("expected a rejection") };
    assert_eq!(errors, 2 * rows, "an unknown code and an ambiguous figure per row");
}
