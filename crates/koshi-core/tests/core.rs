//! Integration tests of the domain core: the shipped catalogue, code resolution, groupings,
//! territorial changes, number parsing on a table of printed forms.

use koshi_core::number::{DecimalMark, Parsed, parse_number};
use koshi_core::{Catalogue, Date, Lang};

fn catalogue() -> Catalogue {
    Catalogue::standard().expect("the shipped structure files load")
}

#[test]
fn shipped_catalogue_has_the_dataflows_and_code_lists() {
    let c = catalogue();
    for id in ["MIG_STOCK", "MIG_EXT", "MIG_INT", "MIG_NET_PROJ", "POP", "TRADE", "LAB_MIG"] {
        assert!(c.dataflow(id).is_some(), "dataflow {id}");
    }
    let area = c.codelist("AREA").unwrap();
    assert!(area.codes.len() > 250, "{} areas", area.codes.len());
    let kaz = area.get("KAZ").unwrap();
    assert_eq!(kaz.properties["m49"], "398");
    assert_eq!(kaz.labels.get(Lang::Ru), "Казахстан");
    assert!(!kaz.labels.get(Lang::Kk).is_empty());
}

#[test]
fn source_spellings_resolve_to_codes() {
    let c = catalogue();
    let area = c.codelist("AREA").unwrap();
    for (text, code) in [
        ("Kazakhstan", "KAZ"),
        ("Russian Federation", "RUS"),
        ("Россия", "RUS"),
        ("China", "CHN"),
        ("Bolivia (Plurinational State of)", "BOL"),
        ("Aqmola", "KZ-11"),
        ("Акмолинская", "KZ-11"),
        ("Abay", "KZ-10"),
        ("Ulutay", "KZ-62"),
    ] {
        assert_eq!(area.resolve(text), Some(code), "{text}");
    }
    assert_eq!(area.resolve("Caribbean"), None, "regional aggregates are not countries");
    assert_eq!(area.by_property("m49", "398").map(|c| c.id.as_str()), Some("KAZ"));
    let edu = c.codelist("EDUCATION").unwrap();
    assert_eq!(edu.resolve("среднее специальное"), Some("ED45"));
    assert_eq!(edu.resolve("Higher"), Some("ED5T8"));
}

#[test]
fn eaeu_membership_follows_accession_dates() {
    let c = catalogue();
    let d = |s: &str| s.parse::<Date>().unwrap();
    assert!(!c.groups.is_member("EAEU", "KAZ", d("2014-12-31")));
    assert!(c.groups.is_member("EAEU", "KAZ", d("2015-01-01")));
    assert!(!c.groups.is_member("EAEU", "ARM", d("2015-01-01")));
    assert!(c.groups.is_member("EAEU", "ARM", d("2015-01-02")));
    assert!(!c.groups.is_member("EAEU", "KGZ", d("2015-08-11")));
    assert!(c.groups.is_member("EAEU", "KGZ", d("2015-08-12")));
    assert_eq!(c.groups.members("EAEU", d("2020-01-01")), vec!["ARM", "BLR", "KAZ", "KGZ", "RUS"]);
    assert_eq!(c.groups.members("CA5", d("2020-01-01")).len(), 5);
    assert_eq!(c.groups.members("ESCAP_NCA", d("2020-01-01")).len(), 9);
}

#[test]
fn south_kazakhstan_maps_to_its_successors_after_2018() {
    let c = catalogue();
    let d = |s: &str| s.parse::<Date>().unwrap();
    assert_eq!(c.current_equivalents("KZ-YUZ", d("2017-01-01")), vec!["KZ-YUZ"]);
    assert_eq!(c.current_equivalents("KZ-YUZ", d("2020-01-01")), vec!["KZ-61", "KZ-79"]);
    let abai = c.codelist("AREA").unwrap().get("KZ-10").unwrap();
    assert!(!abai.valid_on(d("2021-01-01")) && abai.valid_on(d("2023-01-01")));
}

/// Printed form → expected value (None = missing mark); `!` marks text that must be rejected.
const PRINTED_FORMS: &[(&str, Option<f64>)] = &[
    ("464,8", Some(464.8)),
    ("2,871,300", Some(2_871_300.0)),
    ("1 265 000", Some(1_265_000.0)),
    ("-22,426", Some(-22_426.0)),
    ("(-) 2,234", Some(-2_234.0)),
    ("–", None),
    ("-", None),
    ("…", None),
    ("3,635,168", Some(3_635_168.0)),
    ("0.0", Some(0.0)),
    ("12,400¹", Some(12_400.0)),
    ("1,386.4", Some(1_386.4)),
];

#[test]
fn printed_forms_table() {
    for (text, expected) in PRINTED_FORMS {
        let got = parse_number(text, DecimalMark::Auto).unwrap_or_else(|e| panic!("{text}: {e}"));
        match (got, expected) {
            (Parsed::Value { value, .. }, Some(v)) => assert!((value - v).abs() < 1e-9, "{text}: {value} ≠ {v}"),
            (Parsed::Missing(_), None) => {}
            (got, _) => panic!("{text}: got {got:?}, expected {expected:?}"),
        }
    }
    for bad in ["15,77.5", "1,2,3", "12 34", "abc", "1.2.3,4,5"] {
        assert!(parse_number(bad, DecimalMark::Auto).is_err(), "{bad} must be rejected");
    }
}

#[test]
fn declared_structure_is_checked_like_the_bundled_one_and_joins_all_or_nothing() {
    use koshi_core::structure::{parse_declarations, parse_sources};
    let duplicate =
        "[[source]]\nid = \"X_ONE\"\nname = { en = \"a\" }\n[[source]]\nid = \"X_ONE\"\nname = { en = \"b\" }\n";
    let err = parse_sources("sources.toml", duplicate).unwrap_err().to_string();
    assert!(err.contains("sources.toml") && err.contains("X_ONE") && err.contains("declared twice"), "{err}");

    let mut c = catalogue();
    let before = (c.sources.len(), c.dataflows.len(), c.codelists.len());
    // A good source and a dataflow naming an unknown code list: neither joins.
    let text = "[[source]]\nid = \"X_AGENCY\"\nname = { en = \"An agency\" }\n\
        [[dataflow]]\nid = \"X_FLOW\"\nname = { en = \"A flow\" }\n\
        dimensions = [{ id = \"REF_AREA\", codelist = \"AREA\" }, { id = \"MEASURE\", codelist = \"MEASURE\" }, { id = \"COLOUR\", codelist = \"COLOURS\" }]\n\
        measures = [{ code = \"N\", unit = \"PERS\", en = \"number\" }]\n";
    let declared = parse_declarations("mine.toml", text).unwrap();
    let err = c.add_declared("mine.toml", &declared).unwrap_err().to_string();
    assert!(err.contains("mine.toml") && err.contains("X_FLOW") && err.contains("unknown code list COLOURS"), "{err}");
    assert_eq!((c.sources.len(), c.dataflows.len(), c.codelists.len()), before);

    let fixed =
        parse_declarations("mine.toml", &text.replace(", { id = \"COLOUR\", codelist = \"COLOURS\" }", "")).unwrap();
    c.add_declared("mine.toml", &fixed).unwrap();
    assert!(c.source("X_AGENCY").is_some());
    let flow = c.dataflow("X_FLOW").unwrap().clone();
    assert!(c.is_valid_code(&flow, "MEASURE", "N") && c.is_valid_code(&flow, "REF_AREA", "KAZ"));
    // Declaring it again clashes with itself, now in the catalogue.
    assert!(c.add_declared("mine.toml", &fixed).unwrap_err().to_string().contains("already taken"));
}

#[path = "core/number.rs"]
mod number;

#[path = "core/key.rs"]
mod key;
