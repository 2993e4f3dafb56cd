//! Ingestion: numbers as printed, Cyrillic and merged headers, every problem reported at once
//! with file, sheet, row and column, nothing written on error, flagged rows with
//! --allow-defects, idempotent re-ingest, and real files from the shared datasets.

use std::path::{Path, PathBuf};

use koshi_core::validate::Severity;
use koshi_ingest::{load_file, parse_mapping, IngestOptions, Input, LoadError, Mapping};
use koshi_store::{Bank, Query, WriteOutcome};

#[path = "ingest/fuzz.rs"]
mod fuzz;
#[path = "ingest/hardening.rs"]
mod hardening;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(path)
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
    let mut bank = Bank::open_in_memory().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("flows.csv");
    std::fs::write(&data, std::fs::read_to_string(fixture("printed.csv")).unwrap()).unwrap();
    let first = load(&mut bank, &data, &fixture("printed.toml"), false).unwrap();
    assert!(matches!(first.outcomes[0], WriteOutcome::Created { .. }));
    let again = load(&mut bank, &data, &fixture("printed.toml"), false).unwrap();
    assert!(matches!(again.outcomes[0], WriteOutcome::Unchanged { .. }));
    let observations = bank.counts().unwrap()["observation"];

    let changed = std::fs::read_to_string(&data).unwrap().replace("\"2 871\"", "\"2 872\"").replace("(-) 129", "(-) 128");
    std::fs::write(&data, changed).unwrap();
    let revised = load(&mut bank, &data, &fixture("printed.toml"), false).unwrap();
    assert!(matches!(revised.outcomes[0], WriteOutcome::Created { .. }));
    assert_eq!(bank.releases(Some("MIG_INT")).unwrap().len(), 2);
    assert!(bank.counts().unwrap()["observation"] > observations);
    let now = values(&bank, "MIG_INT", &[("REF_AREA", "KZ-11"), ("MEASURE", "ARR")]);
    assert_eq!(now[0].2, Some(2_872.0));
    let before = bank
        .query(&Query {
            dataflow: "MIG_INT".into(),
            filters: vec![("REF_AREA".into(), vec!["KZ-11".into()]), ("MEASURE".into(), vec!["ARR".into()])],
            as_of: Some("2018-01-01".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(before[0].value, Some(2_871.0), "as of the first release's date, the first figure");
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
    for (c, h) in ["Сальдо", "Прибыло", "Выбыло", "Сальдо", "Прибыло", "Выбыло"].iter().enumerate() {
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
    load_file(&mut bank, &m, "table2.xlsx", Input::Path(&path), &IngestOptions { allow_defects: true, ..Default::default() }, &mut |_| {}).unwrap();
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
