//! Tests of the shortage assessment: Washington's Occupations in Demand rule on the worked-example files,
//! the dated rules, the composite index on a hand example and on Australia's Internet Vacancy Index, local
//! adjustments, and the reasons in three languages.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use koshi_labour::Lang;
use koshi_labour::shortage::{
    Adjustment, Assessment, Clause, FrameFigures, IndicatorRow, ProjectionInput, ReasonDetail, ShortageError,
    ShortageRules, Status, WashingtonRule, apply_adjustments, parse_adjustments,
};
use koshi_labour::vacancy::Date;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shortage")
}

fn fixture(name: &str) -> String {
    let path = fixtures().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn date(text: &str) -> Date {
    Date::parse(text).expect("a date")
}

fn bundled() -> ShortageRules {
    let parsed = ShortageRules::bundled().expect("bundled rules parse");
    assert!(parsed.diagnostics.is_empty(), "bundled rules have problems: {:#?}", parsed.diagnostics);
    parsed.value
}

fn test_rules() -> ShortageRules {
    let parsed = ShortageRules::parse(&fixture("composite_rules.toml"), "composite_rules.toml").expect("parse");
    assert!(parsed.diagnostics.is_empty(), "{:#?}", parsed.diagnostics);
    parsed.value
}

/// Every reason of every assessment reads as a sentence in English, Russian and Kazakh.
fn assert_renders(assessments: &[Assessment]) {
    for a in assessments {
        assert!(!a.reasons.is_empty(), "{}/{} has no reason", a.area, a.occupation);
        for r in &a.reasons {
            let en = r.text(Lang::En);
            assert!(en.trim().len() > 10, "{}: empty English text", r.clause);
            for lang in [Lang::Ru, Lang::Kk] {
                let text = r.text(lang);
                assert!(!text.trim().is_empty(), "{}: empty {} text", r.clause, lang.code());
                assert_ne!(text, en, "{}: the {} text is the English one", r.clause, lang.code());
                let cyrillic = text.chars().filter(|c| ('\u{400}'..='\u{4ff}').contains(c)).count();
                assert!(cyrillic >= 5, "{}: the {} text is not Russian or Kazakh: {text}", r.clause, lang.code());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Worked examples of the Washington rule
// ---------------------------------------------------------------------------------------------

struct Example {
    file: String,
    id: String,
    clause: Clause,
    expected: Status,
    expected_rule: Option<Status>,
    on: Date,
    version_from: Date,
    input: ProjectionInput,
    adjustment: Option<Adjustment>,
}

fn toml_date(v: &toml::Value) -> Date {
    match v {
        toml::Value::Datetime(d) => date(&d.to_string()),
        toml::Value::String(s) => date(s),
        other => panic!("not a date: {other:?}"),
    }
}

fn toml_number(v: Option<&toml::Value>) -> Option<f64> {
    match v? {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        other => panic!("not a number: {other:?}"),
    }
}

fn text<'a>(t: &'a toml::Table, key: &str) -> &'a str {
    t.get(key).and_then(|v| v.as_str()).unwrap_or_else(|| panic!("`{key}` missing in {t:?}"))
}

fn status(text: &str) -> Status {
    Status::parse(text).unwrap_or_else(|| panic!("`{text}` is not a status"))
}

/// The worked examples of every `washington_*.toml` file.
fn examples() -> Vec<Example> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("fixtures folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("washington_")))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "worked-example files missing: {files:?}");
    let mut out = Vec::new();
    for path in files {
        let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let root: toml::Table = std::fs::read_to_string(&path).expect("read").parse().expect("TOML");
        let on = toml_date(&root["on"]);
        let version_from = toml_date(&root["version_from"]);
        let list = root["example"].as_array().expect("[[example]]");
        assert!(!list.is_empty(), "{file}: no examples");
        for item in list {
            let t = item.as_table().expect("example table");
            let id = text(t, "id").to_string();
            let clause = Clause::parse(text(t, "clause")).unwrap_or_else(|| panic!("{file}/{id}: unknown clause"));
            let frames_list = t["frames"].as_array().expect("frames");
            assert_eq!(frames_list.len(), 3, "{file}/{id}: three frames");
            let frame = |n: usize| {
                let f = frames_list[n].as_table().expect("frame table");
                let get = |k: &str| toml_number(f.get(k)).unwrap_or(f64::NAN);
                FrameFigures {
                    growth_rate: get("growth_rate"),
                    openings: get("openings"),
                    area_growth_rate: get("area_growth_rate"),
                    area_openings: get("area_openings"),
                }
            };
            let input = ProjectionInput {
                area: text(t, "area").to_string(),
                occupation: text(t, "occupation").to_string(),
                base_employment: toml_number(t.get("base_employment")),
                suppressed: t.get("suppressed").and_then(|v| v.as_bool()).unwrap_or(false),
                frames: [frame(0), frame(1), frame(2)],
            };
            let adjustment = t.get("adjustment").map(|v| {
                let a = v.as_table().expect("adjustment table");
                Adjustment {
                    area: input.area.clone(),
                    occupation: input.occupation.clone(),
                    status: status(text(a, "status")),
                    reason: text(a, "reason").to_string(),
                    by: text(a, "by").to_string(),
                    date: toml_date(&a["date"]),
                }
            });
            out.push(Example {
                file: file.clone(),
                id,
                clause,
                expected: status(text(t, "expected")),
                expected_rule: t.get("expected_rule").and_then(|v| v.as_str()).map(status),
                on,
                version_from,
                input,
                adjustment,
            });
        }
    }
    out
}

fn run(rules: &ShortageRules, ex: &Example) -> Assessment {
    let rule = rules.washington(ex.on).unwrap_or_else(|| panic!("{}: no rule on {}", ex.file, ex.on));
    assert_eq!(rule.from, ex.version_from, "{}: the rule version in force on {}", ex.file, ex.on);
    let mut out = rule.assess(std::slice::from_ref(&ex.input));
    assert_eq!(out.len(), 1);
    if let Some(adj) = &ex.adjustment {
        assert!(apply_adjustments(&mut out, std::slice::from_ref(adj)).is_empty());
    }
    out.remove(0)
}

#[test]
fn washington_worked_examples_pass() {
    let rules = bundled();
    let mut failures = Vec::new();
    for ex in examples() {
        let a = run(&rules, &ex);
        let here = format!("{}/{}", ex.file, ex.id);
        if a.status != ex.expected {
            failures.push(format!("{here}: expected {}, got {}", ex.expected, a.status));
        }
        if let Some(rule_status) = ex.expected_rule
            && a.rule_status != rule_status
        {
            failures.push(format!("{here}: expected rule status {rule_status}, got {}", a.rule_status));
        }
        if !a.cites(ex.clause) {
            failures.push(format!("{here}: no reason cites {}", ex.clause));
        }
        assert_eq!(a.rule.id, "wa-esd-oid");
        assert_eq!(a.rule.version_from, ex.version_from);
        assert!(a.rule.source.starts_with("https://fortress.wa.gov/esd/"), "{here}: source {}", a.rule.source);
        assert_renders(std::slice::from_ref(&a));
    }
    assert!(failures.is_empty(), "worked examples failing:\n{}", failures.join("\n"));
}

#[test]
fn worked_examples_cover_every_clause_of_the_rule() {
    let covered: BTreeSet<Clause> = examples().iter().map(|e| e.clause).collect();
    let rule: BTreeSet<Clause> = WashingtonRule::clauses().iter().copied().collect();
    let untested: Vec<_> = rule.difference(&covered).map(|c| c.id()).collect();
    let foreign: Vec<_> = covered.difference(&rule).map(|c| c.id()).collect();
    assert!(untested.is_empty(), "clauses without a worked example: {untested:?}");
    assert!(foreign.is_empty(), "examples of clauses the rule does not have: {foreign:?}");
    // Every clause the rule cites on the examples is one of its clauses.
    let rules = bundled();
    for ex in examples() {
        for r in run(&rules, &ex).reasons {
            assert!(rule.contains(&r.clause), "{}: cites {} outside the rule", ex.id, r.clause);
        }
    }
}

#[test]
fn washington_boundary_arithmetic_is_decimal() {
    // 0.9 × 0.02 is 0.018000000000000002 in floating point; the rule reads the decimals.
    let rules = bundled();
    let rule = rules.washington(date("2016-06-30")).expect("rule");
    let frame =
        |g: f64, o: f64| FrameFigures { growth_rate: g, openings: o, area_growth_rate: 0.02, area_openings: 1e4 };
    let neutral = frame(0.016, 50.0);
    let row = |occupation: &str, first: FrameFigures| ProjectionInput {
        area: "WA".into(),
        occupation: occupation.into(),
        base_employment: Some(50.0),
        suppressed: false,
        frames: [first, neutral, neutral],
    };
    let out = rule.assess(&[row("exact", frame(0.018, 8.0)), row("under", frame(0.018, 7.999_999))]);
    assert_eq!(out[0].status, Status::InDemand);
    assert_eq!(out[1].status, Status::Balanced);
    let share = out[0].figure_value("five_year.openings_share").expect("share");
    assert!((share - 0.0008).abs() < 1e-15);
    assert_eq!(out[0].figure_value("five_year.in_demand_growth_threshold"), Some(0.9 * 0.02));
    // The parameters carry their source and methodology year.
    for p in [&rule.min_base_employment, &rule.in_demand_growth_factor, &rule.not_in_demand_max_openings_share] {
        assert_eq!(p.methodology, "2016");
        assert!(p.address.starts_with("https://"), "{p:?}");
        assert!(!p.clause.is_empty());
    }
    assert_eq!(rule.in_demand_min_openings_share.value, 0.0008);
    assert_eq!(rule.not_in_demand_growth_factor.value, 0.7);
}

// ---------------------------------------------------------------------------------------------
// Dated rules
// ---------------------------------------------------------------------------------------------

#[test]
fn washington_versions_by_date() {
    let rules = bundled();
    assert_eq!(rules.washington.len(), 2);
    let v2013 = rules.washington(date("2014-06-30")).expect("2013 version");
    let v2016 = rules.washington(date("2016-01-01")).expect("2016 version");
    assert_eq!((v2013.from, v2013.source.methodology.as_str()), (date("2013-01-01"), "2013"));
    assert_eq!((v2016.from, v2016.source.methodology.as_str()), (date("2016-01-01"), "2016"));
    assert_eq!(rules.washington(date("2015-12-31")).map(|w| w.from), Some(date("2013-01-01")));
    assert!(rules.washington(date("2012-12-31")).is_none(), "no rule before the 2013 methodology");
    // Same thresholds in both.
    assert_eq!(v2013.in_demand_growth_factor.value, v2016.in_demand_growth_factor.value);
    assert_eq!(v2013.min_base_employment.value, 50.0);
}

#[test]
fn composite_versions_by_date() {
    let rules = test_rules();
    let first = rules.composite("dated", date("2021-06-30")).expect("first version");
    let second = rules.composite("dated", date("2024-01-01")).expect("second version");
    assert_eq!(first.from, date("2020-01-01"));
    assert_eq!(first.until, Some(date("2022-12-31")));
    assert_eq!(second.from, date("2023-01-01"));
    assert_eq!(rules.composite("dated", date("2022-12-31")).map(|c| c.from), Some(date("2020-01-01")));
    assert_eq!(rules.composite("dated", date("2023-01-01")).map(|c| c.from), Some(date("2023-01-01")));
    assert!(rules.composite("dated", date("2019-12-31")).is_none());
    assert!(rules.composite("no-such-id", date("2024-01-01")).is_none());
    // The two versions give different scores for the same rows.
    let rows = rows_ab(&[("x", Some(1.0), Some(1.0)), ("y", Some(2.0), Some(2.0))]);
    let s1 = first.assess(&rows)[0].figure_value("score");
    let s2 = second.assess(&rows)[0].figure_value("score");
    assert_ne!(s1, s2);
    // Bundled: the Kazakhstan adaptation of the 2007 index.
    let bundled = bundled();
    let kz = bundled.composite("kz-demand-decline", date("2025-01-31")).expect("bundled composite");
    assert_eq!(kz.source.methodology, "summer 2007");
    assert!(kz.adaptation.as_deref().is_some_and(|a| a.contains("project's adaptation")));
    assert!(bundled.composite("kz-demand-decline", date("2007-05-31")).is_none());
}

#[test]
fn overlapping_versions_are_refused() {
    let text = fixture("composite_rules.toml").replace("until = 2022-12-31", "until = 2023-06-30");
    match ShortageRules::parse(&text, "overlap.toml") {
        Err(ShortageError::Overlap { id, first, second, .. }) => {
            assert_eq!(id, "dated");
            assert_eq!((first, second), (date("2020-01-01"), date("2023-01-01")));
        }
        other => panic!("expected an overlap error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Composite index
// ---------------------------------------------------------------------------------------------

fn rows_ab(list: &[(&str, Option<f64>, Option<f64>)]) -> Vec<IndicatorRow> {
    list.iter()
        .map(|(occupation, a, b)| {
            let mut values = BTreeMap::new();
            if let Some(a) = a {
                values.insert("a".to_string(), *a);
            }
            if let Some(b) = b {
                values.insert("b".to_string(), *b);
            }
            IndicatorRow { area: "KZ-75".into(), occupation: occupation.to_string(), values }
        })
        .collect()
}

#[test]
fn composite_hand_example_splits_3_2_5() {
    let root: toml::Table = fixture("composite_ten.toml").parse().expect("TOML");
    let rules = test_rules();
    let config = rules.composite(text(&root, "config"), toml_date(&root["on"])).expect("config");
    let expected: Vec<&toml::Table> =
        root["row"].as_array().expect("[[row]]").iter().map(|r| r.as_table().expect("row")).collect();
    let rows: Vec<IndicatorRow> = expected
        .iter()
        .map(|r| {
            let values = ["a", "b"].map(|k| (k.to_string(), toml_number(r.get(k)).expect("value")));
            IndicatorRow { area: "KZ-75".into(), occupation: text(r, "occupation").into(), values: values.into() }
        })
        .collect();
    let out = config.assess(&rows);
    assert_eq!(out.len(), 10);
    for (a, e) in out.iter().zip(&expected) {
        let occupation = text(e, "occupation");
        assert_eq!(a.occupation, occupation);
        let score = toml_number(e.get("score_ninths")).expect("score") / 9.0;
        let got = a.figure_value("score").expect("score figure");
        assert!((got - score).abs() < 1e-12, "{occupation}: score {got}, expected {score}");
        assert_eq!(a.figure_value("score.rank"), toml_number(e.get("rank")), "{occupation}: rank");
        assert_eq!(a.status, status(text(e, "status")), "{occupation}: status");
        assert!(a.cites(Clause::RankShare) && a.cites(Clause::IndicatorRank));
        assert!(!a.cites(Clause::Renormalised));
    }
    let count = |s: Status| out.iter().filter(|a| a.status == s).count();
    assert_eq!((count(Status::InDemand), count(Status::Balanced), count(Status::NotInDemand)), (3, 2, 5));
    assert_renders(&out);
}

#[test]
fn weights_not_summing_to_one_name_the_configuration() {
    match ShortageRules::parse(&fixture("composite_bad_weights.toml"), "composite_bad_weights.toml") {
        Err(e @ ShortageError::WeightSum { .. }) => {
            let message = e.to_string();
            assert!(message.contains("weights-short-of-one"), "{message}");
            assert!(message.contains("0.9"), "{message}");
            assert!(message.contains("composite_bad_weights.toml"), "{message}");
        }
        other => panic!("expected a weight-sum error, got {other:?}"),
    }
    // Weights that sum to 1 are accepted.
    let text = fixture("composite_bad_weights.toml").replace(
        "weights = { a = { weight = 0.6 }, b = { weight = 0.3 } }",
        "weights = { a = { weight = 0.1 }, b = { weight = 0.9 } }",
    );
    assert!(ShortageRules::parse(&text, "ok.toml").is_ok());
    let three = "[sources.t]\npublisher = \"t\"\ntitle = \"t\"\naddress = \"t\"\nmethodology = \"t\"\n\
        [indicators.a]\ndirection = \"higher\"\nen = \"a\"\nru = \"а\"\nkk = \"а\"\n\
        [indicators.b]\ndirection = \"higher\"\nen = \"b\"\nru = \"б\"\nkk = \"б\"\n\
        [indicators.c]\ndirection = \"higher\"\nen = \"c\"\nru = \"в\"\nkk = \"в\"\n\
        [[composite]]\nid = \"x\"\ntitle = \"x\"\nfrom = 2020-01-01\nsource = \"t\"\nmin_indicators = 1\n\
        classify = { method = \"rank_share\", top = 0.3, bottom = 0.5 }\n\
        weights = { a = { weight = 0.7 }, b = { weight = 0.2 }, c = { weight = 0.1 } }\n";
    // 0.7 + 0.2 + 0.1 is 1 in decimals though not in binary floating point.
    let float_sum: f64 = [0.7, 0.2, 0.1].iter().sum();
    assert_ne!(float_sum, 1.0);
    assert!(ShortageRules::parse(three, "three.toml").is_ok(), "0.7 + 0.2 + 0.1 is 1");
    let short = three.replace("weight = 0.1 }", "weight = 0.09 }");
    assert!(matches!(ShortageRules::parse(&short, "short.toml"), Err(ShortageError::WeightSum { .. })));
}

#[test]
fn missing_indicator_renormalises_weights() {
    let rules = test_rules();
    let config = rules.composite("renormalise", date("2024-01-01")).expect("config");
    let rows = rows_ab(&[
        ("full-high", Some(10.0), Some(1.0)),
        ("full-low", Some(1.0), Some(9.0)),
        ("no-b", Some(5.0), None),
        ("b-nan", Some(7.0), Some(f64::NAN)),
        ("nothing", None, None),
    ]);
    let out = config.assess(&rows);
    let by = |occ: &str| out.iter().find(|a| a.occupation == occ).expect("assessment");
    let no_b = by("no-b");
    assert!(no_b.cites(Clause::Renormalised));
    assert_eq!(no_b.figure_value("a.weight"), Some(1.0));
    assert_eq!(no_b.figure_value("b.weight"), None);
    // A ranks among the four that have it: 1, 5, 7, 10 → "no-b" is second lowest: percentile 1/3.
    assert_eq!(no_b.figure_value("score"), Some(1.0 / 3.0));
    let renormalised = no_b.reasons.iter().find(|r| r.clause == Clause::Renormalised).expect("reason");
    match &renormalised.detail {
        ReasonDetail::Renormalised { missing, available, available_weight } => {
            assert_eq!(missing.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), ["b"]);
            assert_eq!((*available, *available_weight), (1, 0.5));
        }
        other => panic!("{other:?}"),
    }
    assert!(renormalised.text(Lang::En).contains("indicator B"));
    assert!(renormalised.text(Lang::Ru).contains("показатель B"));
    let nan = by("b-nan");
    assert!(nan.cites(Clause::NotFinite) && nan.cites(Clause::Renormalised));
    let full = by("full-high");
    assert!(!full.cites(Clause::Renormalised));
    assert_eq!(full.figure_value("a.weight"), Some(0.5));
    let nothing = by("nothing");
    assert_eq!(nothing.status, Status::InsufficientData);
    assert!(nothing.cites(Clause::TooFewIndicators));
    assert_eq!(nothing.figure_value("score"), None);
    // Four classified: in demand when rank/4 ≤ 0.3 (rank 1), not in demand when (rank − 1)/4 ≥ 0.5.
    assert_eq!(out.iter().filter(|a| a.status == Status::InDemand).count(), 1);
    assert_eq!(out.iter().filter(|a| a.status == Status::NotInDemand).count(), 2);
    // With a minimum of two indicators, "no-b" is insufficient data instead.
    let strict = rules.composite("hand-ten", date("2024-01-01")).expect("config");
    let out = strict.assess(&rows);
    let no_b = out.iter().find(|a| a.occupation == "no-b").expect("assessment");
    assert_eq!(no_b.status, Status::InsufficientData);
    assert!(no_b.cites(Clause::TooFewIndicators));
    assert_renders(&out);
}

#[test]
fn ties_share_their_average_rank() {
    let rules = test_rules();
    let config = rules.composite("renormalise", date("2024-01-01")).expect("config");
    // A alone (B missing for all): 5, 5, 3, 1.
    let rows =
        rows_ab(&[("p", Some(5.0), None), ("q", Some(5.0), None), ("r", Some(3.0), None), ("s", Some(1.0), None)]);
    let out = config.assess(&rows);
    let fig = |i: usize, name: &str| out[i].figure_value(name).expect(name);
    // Ascending ranks 3.5, 3.5, 2, 1 → percentiles 2.5/3, 2.5/3, 1/3, 0; shown in shortage order 1.5, 1.5, 3, 4.
    assert_eq!((fig(0, "a.rank"), fig(1, "a.rank"), fig(2, "a.rank"), fig(3, "a.rank")), (1.5, 1.5, 3.0, 4.0));
    assert_eq!(fig(0, "a.percentile"), 2.5 / 3.0);
    assert_eq!(fig(0, "score.rank"), 1.5);
    assert_eq!(fig(1, "score.rank"), 1.5);
    // Tied occupations get one status: rank 1.5 of 4 is 37.5 %, over the top 30 %, so both are balanced.
    assert_eq!(out[0].status, out[1].status);
    assert_eq!(out[0].status, Status::Balanced);
    assert_eq!((out[2].status, out[3].status), (Status::NotInDemand, Status::NotInDemand));
    // A repeated row is excluded and does not change the ranks.
    let mut with_repeat = rows.clone();
    with_repeat.push(rows[3].clone());
    let again = config.assess(&with_repeat);
    assert_eq!(again[4].status, Status::Excluded);
    assert!(again[4].cites(Clause::DuplicateRow));
    assert_eq!(again[0].figure_value("score.rank"), Some(1.5));
    assert_renders(&again);
}

#[test]
fn absolute_thresholds_classify_tightness() {
    let rules = test_rules();
    let config = rules.composite("tightness", date("2024-01-01")).expect("config");
    let rows: Vec<IndicatorRow> = [Some(0.5), Some(1.0), Some(2.0), Some(3.0), Some(3.5), None]
        .iter()
        .enumerate()
        .map(|(n, v)| IndicatorRow {
            area: "KZ-71".into(),
            occupation: format!("occ{n}"),
            values: v.map(|v| ("seekers_per_vacancy".to_string(), v)).into_iter().collect(),
        })
        .collect();
    let out = config.assess(&rows);
    let got: Vec<Status> = out.iter().map(|a| a.status).collect();
    use Status::*;
    assert_eq!(got, [InDemand, InDemand, Balanced, Balanced, NotInDemand, InsufficientData]);
    assert!(out[1].cites(Clause::Thresholds));
    assert_eq!(out[0].figure_value("score"), None, "no weights, no score");
    assert_renders(&out);
}

// ---------------------------------------------------------------------------------------------
// Real data: Australia's Internet Vacancy Index, regions × ANZSCO sub-major groups
// ---------------------------------------------------------------------------------------------

const IVI: &str = "../../../shared/data/labour/vacancies_au_ivi/ivi_regional_anzsco2_2024-02_2025-01.csv";

/// Per region × level-3 group: new ads (3-month average) in January 2025 and their growth since February 2024.
fn ivi_rows() -> Vec<IndicatorRow> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(IVI);
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (c_date, c_level, c_state, c_region, c_code, c_value) = (
        col("date"),
        col("occupation_level"),
        col("state"),
        col("vacancy_region"),
        col("anzsco_code"),
        col("job_ads_3mma"),
    );
    let mut by_key: BTreeMap<(String, String), (Option<f64>, Option<f64>)> = BTreeMap::new();
    for record in reader.records() {
        let r = record.expect("record");
        if &r[c_level] != "3" {
            continue;
        }
        let key = (format!("{}/{}", &r[c_state], &r[c_region]), r[c_code].to_string());
        let value: f64 = r[c_value].parse().expect("a number");
        let entry = by_key.entry(key).or_default();
        match &r[c_date] {
            "2024-02-01" => entry.0 = Some(value),
            "2025-01-01" => entry.1 = Some(value),
            _ => {}
        }
    }
    by_key
        .into_iter()
        .map(|((area, occupation), (first, last))| {
            let mut values = BTreeMap::new();
            let last = last.expect("January 2025 value");
            values.insert("vacancy_inflow".to_string(), last);
            if let Some(first) = first.filter(|f| *f > 0.0) {
                values.insert("vacancy_inflow_growth_12m".to_string(), last / first - 1.0);
            }
            IndicatorRow { area, occupation, values }
        })
        .collect()
}

#[test]
fn composite_on_australian_vacancy_index() {
    let rules = bundled();
    let config = rules.composite("kz-demand-decline", date("2025-01-31")).expect("bundled configuration");
    let rows = ivi_rows();
    assert_eq!(rows.len(), 37 * 48, "37 regions × 48 sub-major groups");
    let out = config.assess(&rows);
    let mut regions: BTreeMap<&str, Vec<&Assessment>> = BTreeMap::new();
    for a in &out {
        regions.entry(a.area.as_str()).or_default().push(a);
    }
    assert_eq!(regions.len(), 37);
    let mut insufficient = 0;
    let mut total_ties = 0;
    for (region, list) in &regions {
        let classified: Vec<&&Assessment> = list.iter().filter(|a| a.status != Status::InsufficientData).collect();
        insufficient += list.len() - classified.len();
        let n = classified.len() as f64;
        assert!(n >= 40.0, "{region}: only {n} classified");
        // Each status by its definition: in demand when rank / n ≤ 30 %, not in demand when the occupations
        // ranked above it are at least 50 % of n, balanced otherwise.
        for a in &classified {
            let rank = a.figure_value("score.rank").expect("rank");
            let expected = if rank / n <= 0.3 {
                Status::InDemand
            } else if (rank - 1.0) / n >= 0.5 {
                Status::NotInDemand
            } else {
                Status::Balanced
            };
            assert_eq!(a.status, expected, "{region}/{}: rank {rank} of {n}", a.occupation);
        }
        // The split is 30/20/50 within rounding, give or take a group of tied occupations that straddles a cut
        // (its members share one average rank and so one status).
        let ranks: Vec<f64> = classified.iter().map(|a| a.figure_value("score.rank").expect("rank")).collect();
        let straddling = |cut: f64| -> f64 {
            let mut groups: BTreeMap<u64, usize> = BTreeMap::new();
            for r in &ranks {
                *groups.entry((r * 2.0) as u64).or_default() += 1;
            }
            groups
                .iter()
                .filter(|&(&twice, &size)| {
                    let (first, last) = (
                        twice as f64 / 2.0 - (size as f64 - 1.0) / 2.0,
                        twice as f64 / 2.0 + (size as f64 - 1.0) / 2.0,
                    );
                    first <= cut && cut < last
                })
                .map(|(_, &size)| size as f64)
                .sum()
        };
        let (top_cut, bottom_cut) = (0.3 * n, 0.5 * n);
        let count = |s: Status| classified.iter().filter(|a| a.status == s).count() as f64;
        let (c_in, c_bal, c_not) = (count(Status::InDemand), count(Status::Balanced), count(Status::NotInDemand));
        assert!((c_in - 0.3 * n).abs() <= 1.0 + straddling(top_cut), "{region}: {c_in} in demand of {n}");
        assert!((c_not - 0.5 * n).abs() <= 1.0 + straddling(bottom_cut), "{region}: {c_not} not in demand of {n}");
        let slack = 1.0 + straddling(top_cut) + straddling(bottom_cut);
        assert!((c_bal - 0.2 * n).abs() <= slack, "{region}: {c_bal} balanced of {n}");
        if straddling(top_cut) + straddling(bottom_cut) == 0.0 {
            assert_eq!((c_in, c_not), ((0.3 * n).floor(), (0.5 * n).floor()), "{region}: no ties at the cuts");
        }
        // Monotone: a higher score never has a worse rank or a weaker status.
        let mut sorted = classified.clone();
        sorted.sort_by(|a, b| {
            let (x, y) = (a.figure_value("score").expect("score"), b.figure_value("score").expect("score"));
            y.total_cmp(&x)
        });
        let order = |s: Status| match s {
            Status::InDemand => 0,
            Status::Balanced => 1,
            _ => 2,
        };
        for pair in sorted.windows(2) {
            let (hi, lo) = (pair[0], pair[1]);
            let (s_hi, s_lo) =
                (hi.figure_value("score").unwrap_or(f64::NAN), lo.figure_value("score").unwrap_or(f64::NAN));
            let (r_hi, r_lo) =
                (hi.figure_value("score.rank").expect("rank"), lo.figure_value("score.rank").expect("rank"));
            assert!(order(hi.status) <= order(lo.status), "{region}: {} before {}", hi.occupation, lo.occupation);
            if s_hi > s_lo {
                assert!(r_hi < r_lo, "{region}: rank not monotone in score");
            } else {
                assert_eq!(r_hi, r_lo, "{region}: equal scores, unequal ranks");
            }
        }
        // With two indicators of equal (re-normalised) weight, equal sums of the two ranks are equal scores:
        // they must tie exactly, and a smaller sum must rank better.
        let sum_of_ranks = |a: &Assessment| -> u64 {
            let r = |name: &str| a.figure_value(name).expect(name);
            ((r("vacancy_inflow.rank") + r("vacancy_inflow_growth_12m.rank")) * 2.0) as u64
        };
        let mut ties = 0;
        for a in &classified {
            for b in &classified {
                let (ra, rb) = (a.figure_value("score.rank"), b.figure_value("score.rank"));
                match sum_of_ranks(a).cmp(&sum_of_ranks(b)) {
                    std::cmp::Ordering::Equal => {
                        assert_eq!(ra, rb, "{region}: {} and {} tie", a.occupation, b.occupation);
                        ties += usize::from(a.occupation != b.occupation);
                    }
                    std::cmp::Ordering::Less => assert!(ra < rb, "{region}: {} above {}", a.occupation, b.occupation),
                    std::cmp::Ordering::Greater => assert!(ra > rb),
                }
            }
        }
        total_ties += ties;
        // Only two of the configuration's five indicators exist here: every classified row says so.
        assert!(classified.iter().all(|a| a.cites(Clause::Renormalised)));
        assert!(classified.iter().all(|a| a.figure_value("vacancy_inflow.weight") == Some(0.5)));
    }
    assert!(total_ties > 0, "the data have tied scores, which the test relies on");
    // Groups with no ads in February 2024 have no growth: one indicator, under the minimum of two.
    let zero_feb = rows.iter().filter(|r| !r.values.contains_key("vacancy_inflow_growth_12m")).count();
    assert_eq!(insufficient, zero_feb);
    assert!(zero_feb > 0 && zero_feb < 20, "{zero_feb} groups without February ads");
    assert_renders(&out[..200]);
}

// ---------------------------------------------------------------------------------------------
// Local adjustments, serialisation, languages
// ---------------------------------------------------------------------------------------------

#[test]
fn local_adjustments_apply_in_date_order_and_stay_visible() {
    let parsed = parse_adjustments(&fixture("adjustments.toml"), "adjustments.toml").expect("parse");
    assert!(parsed.diagnostics.is_empty());
    let adjustments = parsed.value;
    assert_eq!(adjustments.len(), 3);
    let rules = bundled();
    let config = rules.composite("kz-demand-decline", date("2025-06-30")).expect("config");
    let rows: Vec<IndicatorRow> = [("2512", 120.0, 0.4, 0.3), ("7212", 80.0, 0.1, 1.5), ("5223", 300.0, -0.1, 4.0)]
        .iter()
        .map(|(occ, inflow, growth, spv)| IndicatorRow {
            area: "KZ-75".into(),
            occupation: occ.to_string(),
            values: [
                ("vacancy_inflow".to_string(), *inflow),
                ("vacancy_inflow_growth_12m".to_string(), *growth),
                ("seekers_per_vacancy".to_string(), *spv),
            ]
            .into(),
        })
        .collect();
    let mut out = config.assess(&rows);
    let before = out[0].status;
    let unmatched = apply_adjustments(&mut out, &adjustments);
    assert_eq!(unmatched, [2]);
    let a = &out[0];
    assert_eq!(a.rule_status, before);
    assert_eq!(a.status, Status::InDemand, "the later adjustment wins");
    assert_eq!(a.adjustments.len(), 2);
    assert_eq!(a.adjustments[0].from, before);
    assert_eq!(a.adjustments[1].from, Status::Balanced);
    assert_eq!(a.reasons.iter().filter(|r| r.clause == Clause::LocalAdjustment).count(), 2);
    assert!(a.reasons.last().expect("reason").text(Lang::Kk).contains("Жергілікті түзету"));
    assert_eq!(out[1].status, out[1].rule_status);
    assert_renders(&out);

    let bad = fixture("adjustments.toml").replace("status = \"balanced\"", "status = \"excluded\"");
    assert!(matches!(parse_adjustments(&bad, "bad.toml"), Err(ShortageError::BadValue { .. })));
}

#[test]
fn assessments_serialise_with_rule_figures_and_reasons() {
    let rules = bundled();
    let ex = examples().into_iter().find(|e| e.id == "both-provisional-balanced").expect("example");
    let a = run(&rules, &ex);
    let json = serde_json::to_value(&a).expect("JSON");
    assert_eq!(json["status"], "balanced");
    assert_eq!(json["rule_status"], "balanced");
    assert_eq!(json["area"], "WDA-05");
    assert_eq!(json["occupation"], "53-3032");
    assert_eq!(json["rule"]["id"], "wa-esd-oid");
    assert_eq!(json["rule"]["version_from"], "2016-01-01");
    assert_eq!(json["rule"]["methodology"], "2016");
    let figures = json["figures"].as_array().expect("figures");
    assert!(figures.iter().any(|f| f["name"] == "ten_year.openings_share" && f["value"] == 0.005));
    let reasons = json["reasons"].as_array().expect("reasons");
    let both = reasons.iter().find(|r| r["clause"] == "step2.both_balanced").expect("both");
    assert_eq!(both["detail"]["kind"], "both_balanced");
    for lang in ["en", "ru", "kk"] {
        assert!(both["text"][lang].as_str().is_some_and(|t| !t.is_empty()), "{lang}");
    }
    let statuses: Vec<String> =
        Status::ALL.iter().map(|s| serde_json::to_value(s).expect("JSON").as_str().unwrap_or("").into()).collect();
    assert_eq!(statuses, ["in_demand", "balanced", "not_in_demand", "excluded", "insufficient_data"]);
}

#[test]
fn every_reason_renders_in_three_languages() {
    // Every kind of reason, from the worked examples, the composite index and the thresholds.
    let rules = bundled();
    let mut all: Vec<Assessment> = examples().iter().map(|ex| run(&rules, ex)).collect();
    let tests = test_rules();
    let renorm = tests.composite("renormalise", date("2024-01-01")).expect("config");
    let mut rows = rows_ab(&[("x", Some(1.0), None), ("y", Some(2.0), Some(f64::INFINITY)), ("z", None, None)]);
    rows.push(rows[0].clone());
    all.extend(renorm.assess(&rows));
    let tight = tests.composite("tightness", date("2024-01-01")).expect("config");
    let row = |v: Option<f64>| IndicatorRow {
        area: "KZ-71".into(),
        occupation: format!("{v:?}"),
        values: v.map(|v| ("seekers_per_vacancy".to_string(), v)).into_iter().collect(),
    };
    all.extend(tight.assess(&[row(Some(0.5)), row(None)]));
    let scored = tests.composite("tightness-scored", date("2024-01-01")).expect("config");
    let mut lacking = rows_ab(&[("w", Some(3.0), None)]);
    lacking.push(row(Some(4.0)));
    lacking[1].values.insert("a".into(), 1.0);
    let lacking = scored.assess(&lacking);
    assert_eq!(lacking[0].status, Status::InsufficientData);
    assert_eq!(lacking[1].status, Status::NotInDemand);
    assert!(lacking[1].figure_value("score").is_some());
    all.extend(lacking);
    let kinds: BTreeSet<String> = all
        .iter()
        .flat_map(|a| &a.reasons)
        .map(|r| serde_json::to_value(&r.detail).expect("JSON")["kind"].as_str().unwrap_or("").to_string())
        .collect();
    let expected = [
        "suppressed",
        "base_employment",
        "unusable",
        "frame_test",
        "negative_area_growth",
        "provisional",
        "confirmed",
        "both_balanced",
        "neither_balanced",
        "duplicate",
        "not_finite",
        "indicator_rank",
        "renormalised",
        "too_few_indicators",
        "condition_missing",
        "rank_share",
        "condition",
        "threshold_outcome",
        "local_adjustment",
    ];
    for kind in expected {
        assert!(kinds.contains(kind), "no reason of kind {kind} was produced");
    }
    assert_eq!(kinds.len(), expected.len(), "a new kind of reason: {kinds:?}");
    assert_renders(&all);
    // Russian and Kazakh write decimals with a comma.
    let frame = all
        .iter()
        .flat_map(|a| &a.reasons)
        .find(|r| matches!(r.detail, ReasonDetail::FrameTest { growth_rate, .. } if growth_rate == 0.0139999))
        .expect("frame test");
    assert!(frame.text(Lang::En).contains("1.39999%"), "{}", frame.text(Lang::En));
    assert!(frame.text(Lang::Ru).contains("1,39999 %"), "{}", frame.text(Lang::Ru));
    assert!(frame.text(Lang::Kk).contains("1,39999 %"), "{}", frame.text(Lang::Kk));
}
