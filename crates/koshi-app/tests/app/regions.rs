//! The regions' map and the regions' population over the bundled bank: every row of the Bureau's
//! population file is in the bank under the region it describes (South Kazakhstan before 2017,
//! Turkistan after), the map's published figures are the harmonised ones, and its rates are
//! recomputed from the inputs they list.

use std::collections::BTreeMap;

use koshi_app::AppError;
use koshi_app::bank::{Figures, QueryRequest};
use koshi_app::regions::{MAP_MEASURES, RegionsMapRequest};

use crate::bundled;

const POPULATION: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/kazakhstan/bns/population_by_region/kz_population_by_region_start_of_year_2000_2023.csv"
);

/// The file's region codes as ISO 3166-2: its `TRK` is South Kazakhstan (with Shymkent) before
/// 2017 and Turkistan after.
fn iso_code(code: &str, year: i32) -> String {
    if code == "TRK" && year < 2017 { "KZ-YUZ" } else { crate::bureau_region(code) }.to_string()
}

fn map(measure: &str) -> std::sync::Arc<koshi_app::regions::RegionsMap> {
    bundled().regions_map(&RegionsMapRequest { measure: measure.into(), as_of: None }).unwrap()
}

#[test]
fn every_row_of_the_bureau_s_population_file_is_in_the_bank_under_its_region() {
    let report = bundled()
        .query(&QueryRequest {
            dataflow: "POP".into(),
            keys: vec!["AGE=_T".into()],
            source: Some("KZ_BNS".into()),
            ..QueryRequest::default()
        })
        .unwrap();
    let Figures::Observations(observations) = report.items else { panic!("observations") };
    // (area, sex, 1 January) → the values the bank holds, from any release.
    let mut bank: BTreeMap<(String, String, String), Vec<f64>> = BTreeMap::new();
    for o in &observations {
        bank.entry((o.key[0].clone(), o.key[1].clone(), o.time_period.clone()))
            .or_default()
            .push(o.value_base.unwrap());
    }
    let text = std::fs::read_to_string(POPULATION).unwrap();
    let mut checked = 0;
    for (line, row) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let (year, code, sex, area, persons) = (f[0].parse::<i32>().unwrap(), f[1], f[4], f[5], f[6]);
        if area != "total" {
            continue;
        }
        let sex = match sex {
            "total" => "_T",
            "male" => "M",
            "female" => "F",
            other => panic!("line {}: sex {other}", line + 1),
        };
        let key = (iso_code(code, year), sex.to_string(), format!("{year}-01-01"));
        let values = bank.get(&key).unwrap_or_else(|| panic!("line {}: {key:?} is not in the bank", line + 1));
        assert!(values.contains(&persons.parse::<f64>().unwrap()), "line {}: {key:?} holds {values:?}", line + 1);
        checked += 1;
    }
    // The country and its 16 to 20 regions over 24 years, three sexes each.
    assert!(checked >= 1_200, "{checked} rows checked");
    // Shymkent's population is within South Kazakhstan's before 2017 and its own afterwards.
    assert!(bank.contains_key(&("KZ-YUZ".into(), "_T".into(), "2016-01-01".into())));
    assert!(!bank.contains_key(&("KZ-61".into(), "_T".into(), "2016-01-01".into())));
    assert!(bank.contains_key(&("KZ-61".into(), "_T".into(), "2017-01-01".into())));
}

#[test]
fn the_map_s_published_measures_are_the_harmonised_figures_of_every_region() {
    for measure in ["ARR", "DEP", "NET"] {
        let map = map(measure);
        let report = bundled()
            .query(&QueryRequest {
                dataflow: "MIG_INT".into(),
                keys: vec![format!("MEASURE={measure}")],
                harmonised: true,
                ..QueryRequest::default()
            })
            .unwrap();
        let Figures::Harmonised(harmonised) = report.items else { panic!("harmonised") };
        let expected: BTreeMap<(String, String), f64> = harmonised
            .iter()
            .filter(|h| h.key[0].starts_with("KZ-"))
            .map(|h| ((h.key[0].clone(), h.time_period.clone()), h.value_base.unwrap()))
            .collect();
        let got: BTreeMap<(String, String), f64> =
            map.figures.iter().map(|f| ((f.region.clone(), f.figure.period.clone()), f.figure.value)).collect();
        assert_eq!(got, expected, "{measure}");
        assert!(map.figures.iter().all(|f| f.inputs.is_empty() && f.figure.reason.is_some()));
        // Annual and monthly periods, each list in order, together every period of the figures.
        assert!(map.years.contains(&"2022".to_string()) && map.months.contains(&"2024-12".to_string()), "{measure}");
        let mut periods: Vec<String> = map.years.iter().chain(&map.months).cloned().collect();
        periods.sort();
        let mut seen: Vec<String> = got.keys().map(|(_, p)| p.clone()).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(periods, seen);
        assert!(map.years.windows(2).all(|w| w[0] < w[1]) && map.months.windows(2).all(|w| w[0] < w[1]));
    }
}

#[test]
fn the_map_s_rates_are_recomputed_from_the_inputs_they_list() {
    for measure in ["NET_RATE", "GROSS_RATE"] {
        let map = map(measure);
        assert_eq!(map.unit, "PER_1000");
        // The Bureau's populations on 1 January 2022 and 2023 give every current region a 2022 rate.
        let regions_2022 = map.figures.iter().filter(|f| f.figure.period == "2022").count();
        assert_eq!(regions_2022, 20, "{measure}: every region of the 2022 layout has a 2022 rate");
        for f in &map.figures {
            let input = |dataflow: &str, part: &str, period: &str| -> f64 {
                f.inputs
                    .iter()
                    .find(|i| i.dataflow == dataflow && i.key.split('.').any(|k| k == part) && i.period == period)
                    .unwrap_or_else(|| {
                        panic!("{measure} {} {}: no input {dataflow} {part} {period}", f.region, f.figure.period)
                    })
                    .value
            };
            let year: i32 = f.figure.period.parse().expect("rates are annual");
            let arrivals = input("MIG_INT", "ARR", &f.figure.period);
            let departures = input("MIG_INT", "DEP", &f.figure.period);
            let mean = (input("POP", &f.region, &format!("{year}-01-01"))
                + input("POP", &f.region, &format!("{}-01-01", year + 1)))
                / 2.0;
            let moves = if measure == "NET_RATE" { arrivals - departures } else { arrivals + departures };
            let expected = 1000.0 * moves / mean;
            assert!((f.figure.value - expected).abs() < 1e-9 * expected.abs().max(1.0), "{measure} {}", f.region);
            assert!(f.figure.source.contains("KZ_BNS"));
        }
        // No population on 1 January 2025: the later years' rates are absent and said to be.
        assert!(!map.figures.iter().any(|f| f.figure.period == "2024"));
        assert!(map.notes.iter().any(|n| n.contains("population")), "{:?}", map.notes);
    }
}

#[test]
fn a_map_of_an_unknown_measure_is_refused_naming_the_measures() {
    let err = bundled().regions_map(&RegionsMapRequest { measure: "STOCK".into(), as_of: None }).unwrap_err();
    assert!(matches!(err, AppError::Invalid { .. }), "{err:?}");
    for measure in MAP_MEASURES {
        assert!(err.to_string().contains(measure), "{err}");
    }
    // Lower case is the same request, kept once.
    let lower = bundled().regions_map(&RegionsMapRequest { measure: "net".into(), as_of: None }).unwrap();
    assert!(std::sync::Arc::ptr_eq(&lower, &map("NET")));
}
