//! The aggregate fast path (rows counted into cells keyed by interned codes) and the general
//! row path give the same plan on the same file: the same observations, field by field, in
//! the same releases, with the same diagnostics and defects.

use koshi_core::{Catalogue, Date};
use koshi_ingest::{IngestOptions, IngestPlan, Input, Mapping, bundled, parse_mapping, plan_ingest};

use super::{fixture, values_mapping};

fn plan(
    catalogue: &Catalogue,
    mapping: &Mapping,
    name: &str,
    bytes: &[u8],
    allow_defects: bool,
    general: bool,
) -> IngestPlan {
    let options = IngestOptions {
        allow_defects,
        general_path_only: general,
        today: Some(Date { year: 2025, month: 6, day: 30 }),
        ..Default::default()
    };
    plan_ingest(catalogue, mapping, name, Input::Bytes(bytes), &options, &|_, _, _, _| Ok(None), &mut |_| {})
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Everything a plan holds, one line per item, in an order that does not depend on the path:
/// the releases with their observations (every field) and defects, the diagnostics, the counts.
fn lines(plan: &IngestPlan) -> Vec<String> {
    let mut out = vec![format!(
        "rows read {}, skipped {}, observations {}, errors {}, diagnostics dropped {}",
        plan.rows_read,
        plan.rows_skipped,
        plan.observations,
        plan.error_count(),
        plan.diagnostics_dropped
    )];
    let mut batches: Vec<_> = plan.batches.iter().collect();
    batches.sort_by(|a, b| (&a.dataflow, &a.source, &a.label).cmp(&(&b.dataflow, &b.source, &b.label)));
    for b in batches {
        out.push(format!(
            "release {} {} {:?} dated {} from {:?}, note {:?}, {} observations",
            b.dataflow,
            b.source,
            b.label,
            b.release_date,
            b.origin,
            b.note,
            b.observations.len()
        ));
        let mut observations: Vec<String> = b.observations.iter().map(|o| format!("  {o:?}")).collect();
        observations.sort();
        out.extend(observations);
        // A defect names its observation by index, which depends on the order: by key instead.
        let mut defects: Vec<String> = b
            .defects
            .iter()
            .map(|d| {
                let o = d.observation.map(|i| (b.observations[i].key_string(), b.observations[i].time_period.clone()));
                format!("  defect {} {:?} {:?} at {o:?}", d.rule, d.severity, d.message)
            })
            .collect();
        defects.sort();
        out.extend(defects);
    }
    let mut diagnostics: Vec<String> = plan.diagnostics.iter().map(|d| format!("{d:?}")).collect();
    diagnostics.sort();
    out.extend(diagnostics);
    out
}

/// Plan the file on both paths and compare; the number of observations. The fast path must
/// apply, except where rows with errors are stored flagged (it leaves those to the general path).
fn same_on_both_paths(
    catalogue: &Catalogue,
    mapping: &Mapping,
    name: &str,
    bytes: &[u8],
    allow_defects: bool,
) -> IngestPlan {
    let fast = plan(catalogue, mapping, name, bytes, allow_defects, false);
    let general = plan(catalogue, mapping, name, bytes, allow_defects, true);
    assert_eq!(fast.fast_path, !allow_defects, "{name}: whether the fast path applies (allow_defects {allow_defects})");
    assert!(!general.fast_path, "{name}: the general path was not forced");
    let (fast_lines, general_lines) = (lines(&fast), lines(&general));
    for (i, (f, g)) in fast_lines.iter().zip(&general_lines).enumerate() {
        assert_eq!(f, g, "{name} (allow_defects {allow_defects}): line {i} differs, fast path left, general right");
    }
    assert_eq!(fast_lines.len(), general_lines.len(), "{name}: {fast_lines:#?}\n{general_lines:#?}");
    fast
}

/// A mapping made an aggregating one (`aggregate = true` before its first table).
fn aggregating(name: &str, text: &str) -> Mapping {
    parse_mapping(name, &format!("aggregate = true\n{text}")).unwrap()
}

#[test]
fn bundled_files_read_the_same_on_both_paths() {
    let catalogue = Catalogue::standard().unwrap();
    let mut compared = Vec::new();
    for ds in bundled::datasets() {
        // The fast path takes no melted columns and no KEY column.
        if ds.mapping.contains("melt = true") || ds.mapping.contains("KEY =") {
            continue;
        }
        let mapping = aggregating(ds.mapping_name, ds.mapping);
        let bytes = ds.bytes().unwrap();
        let observations = same_on_both_paths(&catalogue, &mapping, ds.file_name, &bytes, false).observations;
        assert!(observations > 0, "{}", ds.file_name);
        compared.push((ds.file_name, observations));
    }
    assert!(compared.len() >= 4, "several bundled files: {compared:?}");
}

/// A fixture with melted columns, read one value column at a time (the fast path takes no melt).
fn unmelted(path: &str, measure_map: &str, column: &str, measure: &str) -> Mapping {
    let text = std::fs::read_to_string(fixture(path)).unwrap();
    let melt = text.find("[melt]").unwrap();
    let text = text[..melt]
        .replace(measure_map, &format!("MEASURE = {{ value = \"{measure}\" }}"))
        .replace("OBS_VALUE = { melt = true }", &format!("OBS_VALUE = {{ column = \"{column}\" }}"));
    aggregating(path, &text)
}

#[test]
fn the_fixtures_read_the_same_on_both_paths() {
    let catalogue = Catalogue::standard().unwrap();
    let printed = std::fs::read(fixture("printed.csv")).unwrap();
    let printed_measures =
        r#"MEASURE = { melt = true, map = { "Прибыло" = "ARR", "Выбыло" = "DEP", "Сальдо" = "NET" } }"#;
    for (column, measure) in [("Прибыло", "ARR"), ("Выбыло", "DEP"), ("Сальдо", "NET")] {
        let mapping = unmelted("printed.toml", printed_measures, column, measure);
        for allow_defects in [false, true] {
            same_on_both_paths(&catalogue, &mapping, "printed.csv", &printed, allow_defects);
        }
    }
    let broken = std::fs::read(fixture("broken.csv")).unwrap();
    let broken_measures = r#"MEASURE = { melt = true, map = { arrivals = "ARR", departures = "DEP", net = "NET" } }"#;
    for (column, measure) in [("arrivals", "ARR"), ("departures", "DEP"), ("net", "NET")] {
        let mapping = unmelted("broken.toml", broken_measures, column, measure);
        for allow_defects in [false, true] {
            same_on_both_paths(&catalogue, &mapping, "broken.csv", &broken, allow_defects);
        }
    }
    // Summed figures: missing marks, ambiguous numbers, percent signs, exponents.
    let figures = "region,year,value\nKZ-11,2017,\"1,234\"\nKZ-11,2017,5%\nKZ-19,2017,x\nKZ-19,2017,1e3\n\
                   KZ-19,2017,NaN\nKZ-75,2017,–\nKZ-75,2017,x\nKZ-61,2017,\"464,8\"\nKZ-61,2017,12.500\n";
    for (unit, file_extra) in
        [("PERS", ""), ("PERS", "missing = [\"NaN\"]"), ("PCT", ""), ("PERS", "decimal = \"comma\"")]
    {
        let mapping = values_mapping(unit, file_extra, "aggregate = true");
        for allow_defects in [false, true] {
            same_on_both_paths(&catalogue, &mapping, "figures.csv", figures.as_bytes(), allow_defects);
        }
    }
}

#[test]
fn a_registration_extract_counts_the_same_on_both_paths() {
    // The benchmark's extract (one row per registered person), with a few broken rows.
    let mapping_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/databank/registrations.toml");
    let mapping = parse_mapping(mapping_path, &std::fs::read_to_string(mapping_path).unwrap()).unwrap();
    let regions = ["Astana", "Almaty", "Shymkent", "Aqmola", "Turkistan"];
    let citizenships = ["UZB", "RUS", "CHN", "KGZ", "TJK"];
    let purposes = ["work", "study", "family", "private", "tourism"];
    let mut state = 20_261_123u64;
    let mut pick = |items: &[&'static str]| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        items[(state >> 33) as usize % items.len()]
    };
    let mut csv = String::from("date,region,citizenship,sex,age,purpose\n");
    for row in 0..3_000 {
        let (year, month, day) =
            (pick(&["2022", "2023", "2024"]), pick(&["01", "02", "07", "12"]), pick(&["01", "15"]));
        let date = if row % 997 == 13 { "2024-13-40".to_string() } else { format!("{year}-{month}-{day}") };
        let region = if row % 50 == 0 { "Atlantis" } else { pick(&regions) };
        let citizenship = match row % 400 {
            0 => "XXX",
            7 => "",
            _ => pick(&citizenships),
        };
        let age = if row % 1_301 == 7 { "abc" } else { pick(&["3", "16", "30", "45", "62", "63", "80"]) };
        let (sex, purpose) = (pick(&["F", "M", "M"]), pick(&purposes));
        csv.push_str(&format!("{date},{region},{citizenship},{sex},{age},{purpose}\n"));
    }
    let catalogue = Catalogue::standard().unwrap();
    let plan = same_on_both_paths(&catalogue, &mapping, "registrations.csv", csv.as_bytes(), false);
    assert!(plan.observations > 100, "{}", plan.observations);
    // The broken rows are there, each reported: an unknown region, citizenship, age and date.
    let reported = |code: &str| plan.diagnostics.iter().filter(|d| d.code == code).count();
    assert_eq!(reported("UNKNOWN_CODE"), 60 + 8 + 8 + 3, "{:#?}", plan.diagnostics);
    assert_eq!(reported("BAD_PERIOD"), 3, "{:#?}", plan.diagnostics);
    same_on_both_paths(&catalogue, &mapping, "registrations.csv", csv.as_bytes(), true);
}
