//! The key grammar: data-driven cases (text → filters, or the kind of error), suggestions for
//! unknown codes, and fuzzing (no text makes it panic; the canonical form parses back).

use std::sync::OnceLock;

use koshi_core::Catalogue;
use koshi_core::key::{KeyError, KeyFilter};
use proptest::prelude::*;

use super::number::config;

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| Catalogue::standard().unwrap())
}

fn parse(dataflow: &str, texts: &[&str]) -> Result<KeyFilter, KeyError> {
    let c = catalogue();
    KeyFilter::parse(c, c.dataflow(dataflow).unwrap(), texts)
}

type Filters = &'static [(&'static str, &'static [&'static str])];

/// Text(s) → the filters they select.
const SELECTS: &[(&str, &[&str], Filters)] = &[
    (
        "MIG_EXT",
        &["KAZ.WLD._T._T.NET+ARR"],
        &[
            ("REF_AREA", &["KAZ"]),
            ("COUNTERPART", &["WLD"]),
            ("SEX", &["_T"]),
            ("EDUCATION", &["_T"]),
            ("MEASURE", &["NET", "ARR"]),
        ],
    ),
    ("MIG_INT", &[".ARR"], &[("MEASURE", &["ARR"])]),
    ("MIG_STOCK", &[".KAZ.."], &[("COUNTERPART", &["KAZ"])]),
    ("MIG_EXT", &["REF_AREA=KAZ+KGZ;MEASURE=NET"], &[("REF_AREA", &["KAZ", "KGZ"]), ("MEASURE", &["NET"])]),
    // In a URL query string `+` arrives as a space.
    ("MIG_EXT", &["REF_AREA=KAZ KGZ,MEASURE=NET"], &[("REF_AREA", &["KAZ", "KGZ"]), ("MEASURE", &["NET"])]),
    ("MIG_EXT", &["KAZ KGZ....NET"], &[("REF_AREA", &["KAZ", "KGZ"]), ("MEASURE", &["NET"])]),
    // Several texts, and mixed forms, combine with AND.
    ("MIG_EXT", &["REF_AREA=KAZ+KGZ", "KAZ...."], &[("REF_AREA", &["KAZ"])]),
    ("MIG_EXT", &["REF_AREA=KAZ+KGZ+RUS", "REF_AREA=RUS+KAZ"], &[("REF_AREA", &["KAZ", "RUS"])]),
    ("MIG_EXT", &["REF_AREA=KAZ", "MEASURE=NET"], &[("REF_AREA", &["KAZ"]), ("MEASURE", &["NET"])]),
    ("MIG_EXT", &["REF_AREA=KAZ+KAZ"], &[("REF_AREA", &["KAZ"])]),
    ("MIG_EXT", &[" REF_AREA = KAZ , "], &[("REF_AREA", &["KAZ"])]),
    // `_T` and `_Z` are valid in every dimension, as the catalogue has them.
    ("MIG_EXT", &["_Z.WLD..."], &[("REF_AREA", &["_Z"]), ("COUNTERPART", &["WLD"])]),
    ("MIG_EXT", &[""], &[]),
    ("MIG_EXT", &["...."], &[]),
    ("MIG_EXT", &[], &[]),
];

#[test]
fn key_texts_select_the_codes_they_name() {
    for (dataflow, texts, expected) in SELECTS {
        let filter = parse(dataflow, texts).unwrap_or_else(|e| panic!("{texts:?}: {e}"));
        let expected: Vec<(String, Vec<String>)> =
            expected.iter().map(|(d, codes)| (d.to_string(), codes.iter().map(|c| c.to_string()).collect())).collect();
        assert_eq!(filter.filters(), expected, "{texts:?}");
        let again = parse(dataflow, &[&filter.to_string()]).unwrap();
        assert_eq!(again, filter, "{texts:?} → `{filter}`");
    }
}

#[derive(Debug, PartialEq)]
enum Kind {
    UnknownDimension,
    UnknownCode,
    WrongPartCount,
    NotDimensionEqualsCode,
    NoCode,
    EmptyIntersection,
}

fn kind(e: &KeyError) -> Kind {
    match e {
        KeyError::UnknownDimension { .. } => Kind::UnknownDimension,
        KeyError::UnknownCode { .. } => Kind::UnknownCode,
        KeyError::WrongPartCount { .. } => Kind::WrongPartCount,
        KeyError::NotDimensionEqualsCode { .. } => Kind::NotDimensionEqualsCode,
        KeyError::NoCode { .. } => Kind::NoCode,
        KeyError::EmptyIntersection { .. } => Kind::EmptyIntersection,
        KeyError::Several(_) => panic!("one problem expected: {e}"),
    }
}

/// Text(s) → the kind of error and words its message must contain.
const REFUSES: &[(&str, &[&str], Kind, &[&str])] = &[
    (
        "MIG_EXT",
        &["KAZ.WLD"],
        Kind::WrongPartCount,
        &["`KAZ.WLD` has 2 part(s)", "5 dimension(s): REF_AREA.COUNTERPART.SEX.EDUCATION.MEASURE"],
    ),
    ("MIG_INT", &["..ARR"], Kind::WrongPartCount, &["REF_AREA.MEASURE"]),
    (
        "MIG_EXT",
        &["SXE=M"],
        Kind::UnknownDimension,
        &["no dimension `SXE`", "REF_AREA, COUNTERPART, SEX, EDUCATION, MEASURE", "did you mean SEX"],
    ),
    (
        "MIG_EXT",
        &["REF_AREA=KAZ", "REF_AREA=RUS"],
        Kind::EmptyIntersection,
        &["dimension REF_AREA", "KAZ and RUS", "AND"],
    ),
    ("MIG_EXT", &["REF_AREA=KAZ;REF_AREA=RUS"], Kind::EmptyIntersection, &["REF_AREA"]),
    ("MIG_EXT", &["KAZ....", "RUS...."], Kind::EmptyIntersection, &["REF_AREA"]),
    ("MIG_EXT", &["REF_AREA="], Kind::NoCode, &["`REF_AREA=` names no code"]),
    ("MIG_EXT", &["REF_AREA=KAZ,KGZ"], Kind::NotDimensionEqualsCode, &["`KGZ` is not DIM=CODE"]),
    (
        "MIG_EXT",
        &["REF_AREA=KAZZ"],
        Kind::UnknownCode,
        &["`KAZZ` is not a code of dimension REF_AREA (code list AREA)", "did you mean KAZ (Kazakhstan)"],
    ),
    ("MIG_EXT", &["....NETT"], Kind::UnknownCode, &["`NETT`", "dimension MEASURE", "MEASURE:MIG_EXT", "NET"]),
    ("MIG_EXT", &["SEX=W"], Kind::UnknownCode, &["`W` is not a code of dimension SEX (code list SEX)"]),
];

#[test]
fn bad_keys_are_refused_with_what_is_wrong() {
    for (dataflow, texts, expected, words) in REFUSES {
        let e = parse(dataflow, texts).expect_err(&format!("{texts:?} must be refused"));
        assert_eq!(kind(&e), *expected, "{texts:?}: {e}");
        let message = e.to_string();
        for w in *words {
            assert!(message.contains(w), "{texts:?}: `{message}` lacks `{w}`");
        }
        assert!(!message.contains("--"), "messages name no command-line flag: {message}");
    }
}

#[test]
fn every_problem_of_a_key_is_reported_at_once() {
    let e = parse("MIG_EXT", &["REF_AREA=ZZZ;SEX=Q;NOPE=1", "KAZ"]).unwrap_err();
    let kinds: Vec<Kind> = e.problems().into_iter().map(kind).collect();
    assert_eq!(kinds, vec![Kind::UnknownDimension, Kind::UnknownCode, Kind::UnknownCode, Kind::WrongPartCount], "{e}");
}

fn suggestions(dataflow: &str, text: &str) -> Vec<String> {
    match parse(dataflow, &[text]) {
        Err(KeyError::UnknownCode { suggestions, .. }) => suggestions.into_iter().map(|s| s.code).collect(),
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn unknown_codes_get_near_codes_suggested() {
    assert_eq!(suggestions("MIG_EXT", "REF_AREA=KAZZ")[0], "KAZ");
    assert_eq!(suggestions("MIG_EXT", "REF_AREA=kaz")[0], "KAZ", "ids compare case-insensitively");
    assert_eq!(suggestions("MIG_EXT", "REF_AREA=KZA")[0], "KAZ", "a swap of neighbours is one edit");
    assert_eq!(suggestions("MIG_EXT", "REF_AREA=Россия")[0], "RUS", "a spelling the code list knows");
    assert!(
        suggestions("MIG_EXT", "REF_AREA=Kazakh").contains(&"KAZ".to_string()),
        "an English label containing the text"
    );
    assert!(
        suggestions("MIG_EXT", "REF_AREA=Қазақ").contains(&"KAZ".to_string()),
        "a Kazakh label containing the text"
    );
    // Nothing is near `ZZZ` but three-letter codes two edits away; never more than three.
    let zzz = suggestions("MIG_EXT", "REF_AREA=ZZZ");
    assert!(!zzz.is_empty() && zzz.len() <= 3, "{zzz:?}");
    assert!(zzz.iter().all(|c| c.len() == 3 && c.contains('Z')), "{zzz:?}");
    let e = parse("MIG_EXT", &["REF_AREA=ZZZ"]).unwrap_err().to_string();
    assert!(e.starts_with("`ZZZ` is not a code of dimension REF_AREA (code list AREA); did you mean "), "{e}");
    assert!(suggestions("MIG_EXT", "REF_AREA=QQQQQQQQQQQQ").is_empty());
}

#[test]
fn no_shipped_code_contains_a_character_of_the_grammar() {
    for (id, list) in &catalogue().codelists {
        for code in &list.codes {
            assert!(!code.id.contains(['.', '+', ',', ';', '=', ' ']) && !code.id.is_empty(), "{id}: `{}`", code.id);
        }
    }
}

/// Random but valid constraints: per dimension nothing, or one to three codes of its list.
fn valid_filter(seed_df: usize, seeds: &[(bool, Vec<usize>)]) -> (String, Vec<(String, Vec<String>)>) {
    let c = catalogue();
    let df = &c.dataflows[seed_df % c.dataflows.len()];
    let mut filters = Vec::new();
    for (d, (constrained, picks)) in df.dimensions.iter().zip(seeds) {
        if !constrained || picks.is_empty() {
            continue;
        }
        let list = c.codelist_for(df, &d.id).unwrap();
        let mut codes: Vec<String> = Vec::new();
        for p in picks {
            let code =
                if p.is_multiple_of(17) { "_T".to_string() } else { list.codes[p % list.codes.len()].id.clone() };
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        filters.push((d.id.clone(), codes));
    }
    (df.id.clone(), filters)
}

/// The filters printed in one of the grammar's forms, possibly split over several texts.
fn texts_for(dataflow: &str, filters: &[(String, Vec<String>)], form: usize) -> Vec<String> {
    let df = catalogue().dataflow(dataflow).unwrap();
    let or = if form.is_multiple_of(2) { "+" } else { " " };
    match form % 4 {
        0 | 1 => {
            let parts: Vec<String> = df
                .dimensions
                .iter()
                .map(|d| filters.iter().find(|(id, _)| *id == d.id).map(|(_, c)| c.join(or)).unwrap_or_default())
                .collect();
            vec![parts.join(".")]
        }
        2 => {
            let sep = if form % 8 < 4 { "," } else { ";" };
            vec![filters.iter().map(|(d, c)| format!("{d}={}", c.join(or))).collect::<Vec<_>>().join(sep)]
        }
        _ => filters.iter().map(|(d, c)| format!("{d}={}", c.join(or))).collect(),
    }
}

fn grammar_like() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec![
            "KAZ",
            "RUS",
            "WLD",
            "_T",
            "_Z",
            "NET",
            "ARR",
            "M",
            "F",
            "REF_AREA",
            "MEASURE",
            "SEX",
            "X",
            "Россия",
            ".",
            "+",
            " ",
            ",",
            ";",
            "=",
            "==",
            "..",
            "",
            "kaz",
            "KZ-11",
        ]),
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_key_grammar_never_panics_and_prints_canonically(
        df in 0..64usize,
        texts in proptest::collection::vec(prop_oneof![any::<String>(), grammar_like()], 0..4),
    ) {
        let c = catalogue();
        let dataflow = &c.dataflows[df % c.dataflows.len()];
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        match KeyFilter::parse(c, dataflow, &refs) {
            Ok(filter) => {
                for (dim, codes) in filter.filters() {
                    prop_assert!(!codes.is_empty());
                    for code in &codes {
                        prop_assert!(c.is_valid_code(dataflow, &dim, code), "{dim}={code}");
                    }
                }
                let again = KeyFilter::parse(c, dataflow, &[&filter.to_string()]);
                prop_assert_eq!(again.as_ref(), Ok(&filter), "`{}`", filter);
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn fuzz_key_grammar_every_form_of_a_valid_key_selects_its_codes(
        df in 0..64usize,
        seeds in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<usize>(), 1..4)), 8),
        form in 0..8usize,
    ) {
        let (dataflow, expected) = valid_filter(df, &seeds);
        let texts = texts_for(&dataflow, &expected, form);
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let filter = parse(&dataflow, &refs).map_err(|e| TestCaseError::fail(format!("{texts:?}: {e}")))?;
        prop_assert_eq!(filter.filters(), expected.clone(), "{:?}", texts);
        let canonical = filter.to_string();
        prop_assert_eq!(parse(&dataflow, &[&canonical]), Ok(filter.clone()), "`{}`", canonical);
        // The same constraints given twice change nothing (AND of equal sets).
        let mut twice = refs.clone();
        twice.extend(refs.iter().copied());
        prop_assert_eq!(parse(&dataflow, &twice), Ok(filter));
    }
}
