//! Demand indicators: stock and flows at month boundaries, seekers at mixed levels, totals, the
//! Beveridge rates, the matching function on synthetic panels, the mismatch index, and the
//! aggregate inflow path on Australia's Internet Vacancy Index.

use std::collections::HashMap;

use koshi_labour::demand::{
    Checked, CountRow, DemandConfig, DemandError, DemandTable, Input, LabourForce, MatchingObservation, Month,
    SeekerCount, SkipReason, Spell, TOTAL, beveridge, estimate_matching, indicators, indicators_from_flows,
    inflow_indicators, mismatch_from_parts, mismatch_index, month_flows,
};
use koshi_labour::generate::Rng;
use koshi_labour::vacancy::{Date, IscoCode, Region};
use proptest::prelude::*;

const IVI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/labour/vacancies_au_ivi/ivi_regional_anzsco2_2024-02_2025-01.csv"
);

fn date(text: &str) -> Date {
    Date::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn month(text: &str) -> Month {
    Month::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn isco(code: &str) -> IscoCode {
    IscoCode::parse(code).unwrap()
}

fn spell(region: Region, code: &str, posted: &str, ended: Option<&str>, filled: bool, openings: u32) -> Spell {
    Spell { region, occupation: isco(code), posted: date(posted), ended: ended.map(date), filled, openings }
}

fn config(level: usize, from: &str, to: &str) -> DemandConfig {
    DemandConfig { level, from: month(from), to: month(to) }
}

fn seekers(region: Region, occupation: Option<&str>, at: &str, count: u64) -> SeekerCount {
    SeekerCount { region, occupation: occupation.map(String::from), month: month(at), seekers: count }
}

#[test]
fn months_count_parse_and_print() {
    let feb = month("2024-02");
    assert_eq!(feb.first_day(), date("2024-02-01"));
    assert_eq!(feb.last_day(), date("2024-02-29"));
    assert_eq!(month("2023-02").last_day(), date("2023-02-28"));
    assert_eq!(month("2024-04").last_day(), date("2024-04-30"));
    assert_eq!(month("2024-12").last_day(), date("2024-12-31"));
    assert_eq!(month("2024-12").succ(), Some(month("2025-01")));
    assert_eq!(month("2025-01").pred(), Some(month("2024-12")));
    assert_eq!(month("2199-12").succ(), None);
    assert_eq!(month("1900-01").pred(), None);
    assert_eq!(Month::of(date("2024-03-31")), month("2024-03"));
    assert_eq!(Month::new(2024, 3).unwrap(), month("2024-03"));
    assert_eq!(month("2023-11").months_until(month("2024-02")), 3);
    assert!(month("2023-12") < month("2024-01"));
    assert_eq!(month("2024-03").to_string(), "2024-03");
    assert_eq!("2024-03".parse::<Month>().unwrap(), month("2024-03"));
    for bad in ["2024-3", "2024-13", "2024-00", "24-03", "2024/03", "2024-03-01", "", "2200-01", "２０２４-03"] {
        assert!(matches!(Month::parse(bad), Err(DemandError::BadMonth(_))), "{bad}");
    }
    assert!(Month::new(2024, 0).is_err());
    assert_eq!(serde_json::to_string(&feb).unwrap(), "\"2024-02\"");
    assert_eq!(serde_json::from_str::<Month>("\"2024-02\"").unwrap(), feb);
    assert!(serde_json::from_str::<Month>("\"2024-2\"").is_err());
}

/// The spells of the boundary example, all in Almaty (KZ-75), unit group 2512 unless said.
fn boundary_spells() -> Vec<Spell> {
    let almaty = Region::Almaty;
    vec![
        // 0: posted on January's last day, filled on February's first.
        spell(almaty, "2512", "2024-01-31", Some("2024-02-01"), true, 2),
        // 1: open since before the window.
        spell(almaty, "2512", "2023-11-10", None, false, 1),
        // 2: spans the whole window, withdrawn after it.
        spell(almaty, "2512", "2023-12-01", Some("2024-04-15"), false, 3),
        // 3: wholly before the window, ending on the last day before it.
        spell(almaty, "2512", "2023-05-01", Some("2023-12-31"), true, 5),
        // 4: posted and filled inside February.
        spell(almaty, "2512", "2024-02-10", Some("2024-02-20"), true, 1),
        // 5: posted and withdrawn on March's last day.
        spell(almaty, "2512", "2024-03-31", Some("2024-03-31"), false, 1),
        // 6: January to the first of March, filled.
        spell(almaty, "2512", "2024-01-15", Some("2024-03-01"), true, 1),
        // 7: after the window.
        spell(almaty, "2512", "2024-04-01", None, false, 4),
        // 8: ends before it was posted: reported, not counted.
        spell(almaty, "2512", "2024-02-10", Some("2024-02-09"), true, 9),
        // 9: another unit group of the same minor group, for the totals.
        spell(almaty, "2511", "2024-01-05", Some("2024-02-29"), true, 2),
        // 10: another region.
        spell(Region::Astana, "2512", "2024-01-01", None, false, 6),
        // 11: open at the end of December, filled in January.
        spell(almaty, "2512", "2023-12-20", Some("2024-01-10"), true, 1),
    ]
}

#[test]
fn stock_and_flows_at_month_boundaries() {
    let Checked { value: table, skipped } =
        indicators(&boundary_spells(), &[], &config(4, "2024-01", "2024-03")).unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!((skipped[0].input, skipped[0].index), (Input::Spell, 8));
    assert_eq!(
        skipped[0].reason,
        SkipReason::EndedBeforePosted { posted: date("2024-02-10"), ended: date("2024-02-09") }
    );
    assert_eq!(table.occupations(), ["2511", "2512", TOTAL]);
    assert_eq!(table.months(), [month("2024-01"), month("2024-02"), month("2024-03")]);
    assert_eq!(table.regions().len(), 20);
    assert_eq!(table.cells().count(), 20 * 3 * 3);

    // Spells 1, 2 and 11 are open at the end of December; spell 3 ended on December's last day.
    assert_eq!(table.stock_before(Region::Almaty, "2512"), Some(5));
    let get = |m: &str| table.get("KZ-75", "2512", month(m)).unwrap();
    // (stock, inflow, outflow, hires, ended spells, mean duration)
    let row = |m: &str| {
        let c = get(m);
        (c.stock, c.inflow, c.outflow, c.hires, c.ended_spells, c.mean_duration_days)
    };
    // January: spells 1, 2, 0 (posted on the last day) and 6 are open at its end; 11 ended after
    // 21 days.
    assert_eq!(row("2024-01"), (7, 3, 1, 1, 1, Some(21.0)));
    // February: spell 0 ends on day 1 (1 day), spell 4 in 10 days; both filled.
    assert_eq!(row("2024-02"), (5, 1, 3, 3, 2, Some(5.5)));
    // March: spell 6 after 46 days (leap February), spell 5 on the day it was posted.
    assert_eq!(row("2024-03"), (4, 1, 2, 1, 2, Some(23.0)));
    assert_eq!(get("2024-03").seekers, None);
    assert_eq!(get("2024-03").tightness, None);

    let other = |m: &str| table.get("KZ-75", "2511", month(m)).unwrap();
    assert_eq!((other("2024-01").stock, other("2024-02").stock, other("2024-02").outflow), (2, 0, 2));
    assert_eq!(other("2024-02").mean_duration_days, Some(55.0));
    // The region's total is the sum of its occupations.
    let total = |m: &str| table.get("KZ-75", TOTAL, m.parse().unwrap()).unwrap();
    assert_eq!((total("2024-01").stock, total("2024-01").inflow), (9, 5));
    assert_eq!((total("2024-02").outflow, total("2024-02").hires, total("2024-02").ended_spells), (5, 5, 3));
    assert_eq!(total("2024-02").mean_duration_days, Some((1.0 + 10.0 + 55.0) / 3.0));
    assert_eq!(table.stock_before(Region::Almaty, TOTAL), Some(5));
    // Astana, posted on the window's first day and still open.
    let astana: Vec<u64> = table.months().iter().map(|&m| table.get("71", "2512", m).unwrap().stock).collect();
    assert_eq!(astana, [6, 6, 6]);
    assert_eq!(table.get("KZ-75", "2512", month("2024-04")), None);
    assert_eq!(table.get("KZ-75", "9999", month("2024-01")), None);
    assert_eq!(table.get("KZ-99", "2512", month("2024-01")), None);
    // A region without vacancies is present, with zeros.
    assert_eq!(table.get("KZ-79", TOTAL, month("2024-02")).unwrap().stock, 0);
}

#[test]
fn levels_cut_the_codes() {
    let spells = boundary_spells();
    let table = indicators(&spells, &[], &config(2, "2024-01", "2024-03")).unwrap().value;
    assert_eq!(table.occupations(), ["25", TOTAL]);
    let four = indicators(&spells, &[], &config(4, "2024-01", "2024-03")).unwrap().value;
    for m in table.months() {
        let two_digit = table.get("KZ-75", "25", *m).unwrap();
        let total = four.get("KZ-75", TOTAL, *m).unwrap();
        assert_eq!((two_digit.stock, two_digit.inflow, two_digit.outflow), (total.stock, total.inflow, total.outflow));
    }
    let one = indicators(&spells, &[], &config(1, "2024-01", "2024-03")).unwrap().value;
    assert_eq!(one.occupations(), ["2", TOTAL]);
}

#[test]
fn bad_configurations_are_refused() {
    for level in [0, 5] {
        assert_eq!(
            indicators(&[], &[], &config(level, "2024-01", "2024-02")).unwrap_err(),
            DemandError::BadLevel(level)
        );
    }
    assert!(matches!(indicators(&[], &[], &config(4, "2024-02", "2024-01")), Err(DemandError::MonthOrder { .. })));
    assert_eq!(
        indicators(&[], &[], &config(4, "2000-01", "2050-01")).unwrap_err(),
        DemandError::TooManyMonths { months: 601, max: 600 }
    );
    let longest = indicators(&[], &[], &config(4, "2000-01", "2049-12")).unwrap().value;
    assert_eq!(longest.months().len(), 600);
    assert_eq!(longest.occupations(), [TOTAL]);
    let one_month = indicators(&[], &[], &config(3, "2024-05", "2024-05")).unwrap().value;
    assert_eq!(one_month.cells().count(), 20);
}

#[test]
fn seekers_come_from_the_level_or_finer_ones() {
    let spells = boundary_spells();
    let jan = "2024-01";
    let rows = vec![
        // 0, 1: unit groups of "25", summed.
        seekers(Region::Almaty, Some("2512"), jan, 10),
        seekers(Region::Almaty, Some("2511"), jan, 5),
        // 2, 3: "22" given at its own level and finer: the own level wins, 3 is reported.
        seekers(Region::Almaty, Some("22"), jan, 7),
        seekers(Region::Almaty, Some("2211"), jan, 3),
        // 4: the region's total.
        seekers(Region::Almaty, None, jan, 100),
        // 5: Astana has no total row: its total sums the coarsest rows given.
        seekers(Region::Astana, Some("25"), jan, 4),
        // 6: coarser than the table's level: counts only in Shymkent's total.
        seekers(Region::Shymkent, Some("7"), jan, 9),
        // 7: not a code.
        seekers(Region::Almaty, Some("25a"), jan, 1),
        // 8: the same as row 0.
        seekers(Region::Almaty, Some("2512"), jan, 11),
        // 9: outside the window.
        seekers(Region::Almaty, Some("2512"), "2023-12", 12),
        // 10: a February total of 0.
        seekers(Region::Almaty, None, "2024-02", 0),
    ];
    let Checked { value: table, skipped } = indicators(&spells, &rows, &config(2, "2024-01", "2024-03")).unwrap();
    assert_eq!(table.occupations(), ["22", "25", TOTAL]);
    let reasons: Vec<(usize, &SkipReason)> =
        skipped.iter().filter(|s| s.input == Input::Seekers).map(|s| (s.index, &s.reason)).collect();
    assert_eq!(
        reasons,
        [
            (3, &SkipReason::Superseded { digits: 4, used_digits: 2 }),
            (7, &SkipReason::BadOccupation { code: "25a".into() }),
            (8, &SkipReason::Duplicate),
            (9, &SkipReason::OutsideWindow { month: month("2023-12") }),
        ]
    );
    let cell = |region: &str, occupation: &str, m: &str| table.get(region, occupation, month(m)).unwrap();
    let almaty_25 = cell("KZ-75", "25", jan);
    assert_eq!(almaty_25.seekers, Some(15));
    assert_eq!(almaty_25.stock, 9);
    assert_eq!(almaty_25.tightness, Some(9.0 / 15.0));
    assert_eq!(almaty_25.seekers_per_vacancy, Some(15.0 / 9.0));
    let almaty_22 = cell("KZ-75", "22", jan);
    assert_eq!((almaty_22.seekers, almaty_22.stock), (Some(7), 0));
    assert_eq!((almaty_22.seekers_per_vacancy, almaty_22.tightness), (None, Some(0.0)));
    assert_eq!(cell("KZ-75", TOTAL, jan).seekers, Some(100));
    assert_eq!(cell("KZ-71", TOTAL, jan).seekers, Some(4));
    assert_eq!(cell("KZ-71", "25", jan).seekers, Some(4));
    assert_eq!(cell("KZ-79", TOTAL, jan).seekers, Some(9));
    assert_eq!(cell("KZ-79", "25", jan).seekers, None);
    let february = cell("KZ-75", TOTAL, "2024-02");
    assert_eq!((february.seekers, february.tightness), (Some(0), None));
    assert_eq!(february.seekers_per_vacancy, Some(0.0));
    assert_eq!(cell("KZ-75", TOTAL, "2024-03").seekers, None);

    // At the 4-digit level, row 3 is now a cell of its own and rows 0, 1 no longer add up.
    let Checked { value: fine, skipped } = indicators(&spells, &rows, &config(4, "2024-01", "2024-03")).unwrap();
    assert_eq!(fine.get("KZ-75", "2512", month(jan)).unwrap().seekers, Some(10));
    assert_eq!(fine.get("KZ-75", "2211", month(jan)).unwrap().seekers, Some(3));
    // The 2-digit row 2 is too coarse for a 4-digit cell and the total has its own row.
    assert!(skipped.iter().any(|s| s.index == 2 && s.reason == SkipReason::Superseded { digits: 2, used_digits: 0 }));
}

#[test]
fn cells_serialise_as_plain_numbers() {
    let table = indicators(&boundary_spells(), &[], &config(4, "2024-01", "2024-03")).unwrap().value;
    let cell = table.get("KZ-75", "2512", month("2024-02")).unwrap();
    let json = serde_json::to_value(cell).unwrap();
    assert_eq!(json["region"], "KZ-75");
    assert_eq!(json["occupation"], "2512");
    assert_eq!(json["month"], "2024-02");
    assert_eq!(json["stock"], 5);
    assert_eq!(json["mean_duration_days"], 5.5);
    assert!(json["seekers"].is_null());
    let all = serde_json::to_value(&table).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 20 * 3 * 3);
}

#[test]
fn beveridge_rates() {
    let table = indicators(&boundary_spells(), &[], &config(4, "2024-01", "2024-03")).unwrap().value;
    let row =
        |region, m: &str, labour_force, unemployed| LabourForce { region, month: month(m), labour_force, unemployed };
    let labour = [
        row(Region::Almaty, "2024-01", 1000.0, 50.0),
        row(Region::Almaty, "2023-12", 1000.0, 50.0),
        row(Region::Astana, "2024-02", 0.0, 0.0),
        row(Region::Astana, "2024-03", 100.0, 100.0),
        row(Region::Astana, "2024-01", 600.0, 30.0),
        row(Region::Almaty, "2024-01", 1000.0, 40.0),
    ];
    let Checked { value: points, skipped } = beveridge(&table, &labour);
    // In the order of Region::ALL, Astana before Almaty.
    assert_eq!(points.len(), 2);
    assert_eq!((points[0].region, points[0].vacancies), (Region::Astana, 6));
    assert!((points[0].vacancy_rate - 6.0 / 576.0).abs() < 1e-15);
    assert!((points[0].unemployment_rate - 0.05).abs() < 1e-15);
    // Almaty in January: 9 openings, 950 employed.
    assert_eq!((points[1].region, points[1].vacancies), (Region::Almaty, 9));
    assert!((points[1].unemployment_rate - 0.05).abs() < 1e-15);
    assert!((points[1].vacancy_rate - 9.0 / 959.0).abs() < 1e-15);
    let reasons: Vec<(usize, &SkipReason)> = skipped.iter().map(|s| (s.index, &s.reason)).collect();
    assert_eq!(
        reasons,
        [
            (1, &SkipReason::OutsideWindow { month: month("2023-12") }),
            (2, &SkipReason::BadNumber { field: "labour_force", value: 0.0 }),
            (3, &SkipReason::BadNumber { field: "unemployed", value: 100.0 }),
            (5, &SkipReason::Duplicate),
        ]
    );
}

const CODES: [&str; 4] = ["2512", "2511", "2149", "7231"];

fn spell_strategy() -> impl Strategy<Value = Spell> {
    (0usize..3, 0usize..CODES.len(), 0i32..420, prop::option::of(-3i32..200), any::<bool>(), 0u32..5).prop_map(
        |(region, code, posted, length, filled, openings)| {
            let posted = date("2023-10-01").add_days(posted).unwrap();
            Spell {
                region: [Region::Almaty, Region::Astana, Region::Ulytau][region],
                occupation: isco(CODES[code]),
                posted,
                ended: length.map(|l| posted.add_days(l).unwrap()),
                filled,
                openings,
            }
        },
    )
}

/// The stock by its definition, straight from the spells.
fn stock_by_definition(spells: &[Spell], region: Region, prefix: &str, level: usize, at: Month) -> u64 {
    let last = at.last_day();
    spells
        .iter()
        .filter(|s| s.ended.is_none_or(|e| e >= s.posted))
        .filter(|s| s.region == region && (prefix == TOTAL || s.occupation.prefix(level) == prefix))
        .filter(|s| s.posted <= last && s.ended.is_none_or(|e| e > last))
        .map(|s| u64::from(s.openings))
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn stock_follows_the_flows_and_totals_add_up(
        spells in prop::collection::vec(spell_strategy(), 0..60),
        level in 1usize..=4,
        start in 0i32..6,
        length in 1i32..8,
    ) {
        let from = month("2024-01").add_months(start).unwrap();
        let config = DemandConfig { level, from, to: from.add_months(length - 1).unwrap() };
        let Checked { value: table, skipped } = indicators(&spells, &[], &config).unwrap();
        let invalid: Vec<usize> =
            (0..spells.len()).filter(|&i| spells[i].ended.is_some_and(|e| e < spells[i].posted)).collect();
        prop_assert_eq!(skipped.iter().map(|s| s.index).collect::<Vec<_>>(), invalid);
        let codes = &table.occupations()[..table.occupations().len() - 1];
        for &region in table.regions() {
            for occupation in table.occupations() {
                let mut previous = table.stock_before(region, occupation).unwrap();
                let before = from.pred().unwrap();
                prop_assert_eq!(previous, stock_by_definition(&spells, region, occupation, level, before));
                for &m in table.months() {
                    let cell = table.cell(region, occupation, m).unwrap();
                    prop_assert_eq!(cell.stock, previous + cell.inflow - cell.outflow);
                    prop_assert_eq!(cell.stock, stock_by_definition(&spells, region, occupation, level, m));
                    prop_assert!(cell.hires <= cell.outflow);
                    previous = cell.stock;
                    if occupation == TOTAL {
                        let parts: Vec<_> = codes.iter().map(|c| table.cell(region, c, m).unwrap()).collect();
                        prop_assert_eq!(cell.inflow, parts.iter().map(|p| p.inflow).sum::<u64>());
                        prop_assert_eq!(cell.outflow, parts.iter().map(|p| p.outflow).sum::<u64>());
                        prop_assert_eq!(cell.hires, parts.iter().map(|p| p.hires).sum::<u64>());
                        prop_assert_eq!(cell.stock, parts.iter().map(|p| p.stock).sum::<u64>());
                        prop_assert_eq!(cell.ended_spells, parts.iter().map(|p| p.ended_spells).sum::<u64>());
                    }
                }
            }
        }
        // Every opening posted inside the window is an inflow of its month.
        let posted_inside: u64 = spells
            .iter()
            .filter(|s| s.ended.is_none_or(|e| e >= s.posted) && Month::of(s.posted) >= from && Month::of(s.posted) <= config.to)
            .map(|s| u64::from(s.openings))
            .sum();
        let inflow: u64 = table.cells().filter(|c| c.occupation == TOTAL).map(|c| c.inflow).sum();
        prop_assert_eq!(inflow, posted_inside);
    }
}

// ---------------------------------------------------------------------------------------------
// Matching function
// ---------------------------------------------------------------------------------------------

/// A panel from `ln h = ln φ_i + δ_t + α ln v + (1 − α) ln u + σ ε`, with every observation kept
/// with probability `keep`. Returns the observations and the true efficiencies.
fn synthetic_panel(
    seed: u64,
    alpha: f64,
    markets: usize,
    periods: usize,
    noise: f64,
    keep: f64,
) -> (Vec<MatchingObservation>, Vec<f64>) {
    let mut rng = Rng::new(seed);
    let log_efficiency: Vec<f64> = (0..markets).map(|i| -1.0 + 2.0 * i as f64 / (markets - 1) as f64).collect();
    let market_level: Vec<f64> = (0..markets).map(|_| rng.normal()).collect();
    let mut observations = Vec::new();
    for t in 0..periods {
        let time_effect = 0.2 * (t as f64 * 0.7).sin() - 0.01 * t as f64;
        for i in 0..markets {
            if !rng.chance(keep) {
                continue;
            }
            let ln_u = 5.0 + market_level[i] + 0.5 * rng.normal();
            let ln_v = 4.0 + 0.5 * market_level[i] + 0.3 * time_effect + 0.6 * rng.normal();
            let ln_h = log_efficiency[i] + time_effect + alpha * ln_v + (1.0 - alpha) * ln_u + noise * rng.normal();
            observations.push(MatchingObservation {
                market: format!("m{i:03}"),
                period: month("2020-01").add_months(t as i32).unwrap(),
                hires: ln_h.exp(),
                vacancies: ln_v.exp(),
                unemployed: ln_u.exp(),
            });
        }
    }
    (observations, log_efficiency.iter().map(|l| l.exp()).collect())
}

#[test]
fn matching_function_recovers_alpha_and_the_efficiency_ranking() {
    let (observations, truth) = synthetic_panel(11, 0.6, 40, 36, 0.05, 1.0);
    let fit = estimate_matching(&observations).unwrap();
    assert!((fit.alpha - 0.6).abs() < 0.02, "α = {}", fit.alpha);
    assert_eq!((fit.observations, fit.dropped_nonpositive, fit.periods, fit.components), (40 * 36, 0, 36, 1));
    assert_eq!(fit.efficiencies.len(), 40);
    let clustered = fit.std_error_clustered.unwrap();
    let iid = fit.std_error_iid.unwrap();
    assert!(clustered > 0.0 && clustered < 0.02 && iid > 0.0 && iid < 0.02, "{clustered} {iid}");
    assert!(fit.r_squared_within > 0.5 && fit.r_squared_within < 1.0, "{}", fit.r_squared_within);
    let mean: f64 = fit.efficiencies.iter().map(|e| e.efficiency).sum::<f64>() / 40.0;
    assert!((mean - 1.0).abs() < 1e-12);
    // Markets are named in the order of their true efficiency, which rises with the index.
    let mut by_estimate: Vec<&str> = fit.efficiencies.iter().map(|e| e.market.as_str()).collect();
    by_estimate.sort_by(|a, b| fit.efficiency(a).unwrap().efficiency.total_cmp(&fit.efficiency(b).unwrap().efficiency));
    let by_truth: Vec<String> = (0..truth.len()).map(|i| format!("m{i:03}")).collect();
    assert_eq!(by_estimate, by_truth);
}

#[test]
fn matching_function_is_exact_without_noise_on_an_unbalanced_panel() {
    let (observations, truth) = synthetic_panel(5, 0.6, 60, 48, 0.0, 0.7);
    let fit = estimate_matching(&observations).unwrap();
    assert!(fit.observations < 60 * 48);
    assert!((fit.alpha - 0.6).abs() < 1e-9, "α = {}", fit.alpha);
    assert!((fit.r_squared_within - 1.0).abs() < 1e-9);
    let mean_truth = truth.iter().sum::<f64>() / truth.len() as f64;
    for (i, phi) in truth.iter().enumerate() {
        let estimate = fit.efficiency(&format!("m{i:03}")).unwrap().efficiency;
        assert!((estimate - phi / mean_truth).abs() < 1e-8, "market {i}: {estimate} vs {}", phi / mean_truth);
    }
}

/// α and its standard errors computed directly on a balanced panel, where the two-way within
/// transformation is `x − x̄_i − x̄_t + x̄`.
#[test]
fn standard_errors_match_a_direct_computation_on_a_balanced_panel() {
    let (markets, periods) = (7, 5);
    let (observations, _) = synthetic_panel(8, 0.4, markets, periods, 0.3, 1.0);
    let fit = estimate_matching(&observations).unwrap();
    let at = |i: usize, t: usize| &observations[t * markets + i];
    let within = |f: &dyn Fn(&MatchingObservation) -> f64| {
        let value = |i, t| f(at(i, t));
        let market_mean: Vec<f64> =
            (0..markets).map(|i| (0..periods).map(|t| value(i, t)).sum::<f64>() / periods as f64).collect();
        let period_mean: Vec<f64> =
            (0..periods).map(|t| (0..markets).map(|i| value(i, t)).sum::<f64>() / markets as f64).collect();
        let mean = market_mean.iter().sum::<f64>() / markets as f64;
        (0..markets)
            .map(|i| (0..periods).map(|t| value(i, t) - market_mean[i] - period_mean[t] + mean).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    };
    let x = within(&|o| (o.vacancies / o.unemployed).ln());
    let y = within(&|o| (o.hires / o.unemployed).ln());
    let pairs = || x.iter().flatten().zip(y.iter().flatten());
    let sxx: f64 = x.iter().flatten().map(|v| v * v).sum();
    let alpha = pairs().map(|(a, b)| a * b).sum::<f64>() / sxx;
    assert!((fit.alpha - alpha).abs() < 1e-12, "{} vs {alpha}", fit.alpha);
    let n = (markets * periods) as f64;
    let sse: f64 = pairs().map(|(a, b)| (b - alpha * a).powi(2)).sum();
    let iid = (sse / (n - (markets + periods - 1) as f64 - 1.0) / sxx).sqrt();
    assert!((fit.std_error_iid.unwrap() - iid).abs() < 1e-12 * iid.max(1.0));
    let meat: f64 =
        x.iter().zip(&y).map(|(xs, ys)| xs.iter().zip(ys).map(|(a, b)| a * (b - alpha * a)).sum::<f64>().powi(2)).sum();
    let g = markets as f64;
    let correction = g / (g - 1.0) * (n - 1.0) / (n - periods as f64);
    let clustered = (correction * meat).sqrt() / sxx;
    assert!(
        (fit.std_error_clustered.unwrap() - clustered).abs() < 1e-12,
        "{:?} vs {clustered}",
        fit.std_error_clustered
    );
    let syy: f64 = y.iter().flatten().map(|v| v * v).sum();
    assert!((fit.r_squared_within - (1.0 - sse / syy)).abs() < 1e-12);
}

/// Markets that each live three months, one starting every month: the periods are linked only
/// through a long chain, the hard case for iterative fixed-effects solvers.
#[test]
fn matching_function_is_exact_on_a_thinly_linked_panel() {
    let mut rng = Rng::new(9);
    let markets = 300;
    let mut observations = Vec::new();
    let mut truth = Vec::new();
    for i in 0..markets {
        let log_efficiency = 0.5 * (i as f64 * 0.37).sin();
        truth.push(log_efficiency);
        for t in i..i + 3 {
            let (ln_u, ln_v) = (4.0 + rng.normal(), 3.0 + rng.normal());
            let ln_h = log_efficiency + 0.01 * t as f64 + 0.3 * (t as f64).cos() + 0.45 * ln_v + 0.55 * ln_u;
            observations.push(MatchingObservation {
                market: format!("m{i:03}"),
                period: month("2000-01").add_months(t as i32).unwrap(),
                hires: ln_h.exp(),
                vacancies: ln_v.exp(),
                unemployed: ln_u.exp(),
            });
        }
    }
    let fit = estimate_matching(&observations).unwrap();
    assert_eq!((fit.periods, fit.components), (markets + 2, 1));
    assert!((fit.alpha - 0.45).abs() < 1e-9, "α = {}", fit.alpha);
    let mean = truth.iter().map(|l| l.exp()).sum::<f64>() / markets as f64;
    for (i, l) in truth.iter().enumerate() {
        let estimate = fit.efficiency(&format!("m{i:03}")).unwrap().efficiency;
        assert!((estimate - l.exp() / mean).abs() < 1e-8, "market {i}: {estimate} vs {}", l.exp() / mean);
    }
}

#[test]
fn matching_function_drops_zeros_and_refuses_what_it_cannot_fit() {
    let (mut observations, _) = synthetic_panel(3, 0.5, 10, 12, 0.02, 1.0);
    observations[4].hires = 0.0;
    observations[17].unemployed = -1.0;
    let fit = estimate_matching(&observations).unwrap();
    assert_eq!((fit.dropped_nonpositive, fit.dropped.as_slice(), fit.observations), (2, &[4, 17][..], 118));

    let mut broken = observations.clone();
    broken[9].vacancies = f64::NAN;
    assert_eq!(estimate_matching(&broken).unwrap_err(), DemandError::NonFinite { index: 9, field: "vacancies" });

    let one_market: Vec<_> = observations.iter().filter(|o| o.market == "m000").cloned().collect();
    assert_eq!(estimate_matching(&one_market).unwrap_err(), DemandError::TooFewMarkets(1));
    let one_period: Vec<_> = observations.iter().filter(|o| o.period == month("2020-01")).cloned().collect();
    assert_eq!(estimate_matching(&one_period).unwrap_err(), DemandError::TooFewPeriods(1));

    // ln(v/u) that is a market effect plus a period effect leaves nothing to estimate α from.
    let additive: Vec<_> = observations
        .iter()
        .enumerate()
        .map(|(k, o)| {
            let market: f64 = o.market[1..].parse().unwrap();
            let period = month("2020-01").months_until(o.period) as f64;
            let vacancies = o.unemployed * (0.1 * market - 0.05 * period).exp();
            MatchingObservation { vacancies, hires: o.hires * (1.0 + k as f64 * 1e-3), ..o.clone() }
        })
        .collect();
    assert_eq!(estimate_matching(&additive).unwrap_err(), DemandError::NoVariation);
}

#[test]
fn unlinked_markets_form_components() {
    // Markets a, b in 2020 and c, d in 2021: two components, each with efficiencies averaging 1.
    let observation = |market: &str, m: &str, h: f64, v: f64, u: f64| MatchingObservation {
        market: market.into(),
        period: month(m),
        hires: h,
        vacancies: v,
        unemployed: u,
    };
    let mut observations = Vec::new();
    for (k, (first, second, months)) in
        [("a", "b", ["2020-01", "2020-02", "2020-03"]), ("c", "d", ["2021-01", "2021-02", "2021-03"])]
            .iter()
            .enumerate()
    {
        for (t, m) in months.iter().enumerate() {
            let v = 10.0 + t as f64 * 3.0 + k as f64;
            observations.push(observation(first, m, 5.0 + t as f64, v, 20.0));
            observations.push(observation(second, m, 9.0 + t as f64 * 0.5, v * (1.7 + 0.4 * t as f64), 25.0));
        }
    }
    let fit = estimate_matching(&observations).unwrap();
    assert_eq!(fit.components, 2);
    let phi = |m: &str| fit.efficiency(m).unwrap();
    assert_eq!((phi("a").component, phi("b").component, phi("c").component, phi("d").component), (0, 0, 1, 1));
    assert!((phi("a").efficiency + phi("b").efficiency - 2.0).abs() < 1e-12);
    assert!((phi("c").efficiency + phi("d").efficiency - 2.0).abs() < 1e-12);
    let across = mismatch_index(&fit, &[("a", 1.0, 1.0), ("c", 1.0, 1.0)]);
    assert!(matches!(across, Err(DemandError::NotComparable { .. })));
}

// ---------------------------------------------------------------------------------------------
// Mismatch index
// ---------------------------------------------------------------------------------------------

#[test]
fn mismatch_of_two_markets_by_hand() {
    // Equal efficiencies, α = 1/2: M = 1 − √(¼·½) − √(¾·½); the planner puts the unemployed where
    // the vacancies are, 1 and 3 of the 4.
    let m = mismatch_from_parts(0.5, &[("a", 1.0, 1.0, 2.0), ("b", 1.0, 3.0, 2.0)]).unwrap();
    assert!((m.index - (1.0 - 0.125f64.sqrt() - 0.375f64.sqrt())).abs() < 1e-15, "{}", m.index);
    assert!((m.index - 0.034074).abs() < 1e-6);
    assert!((m.markets[0].planner_unemployed - 1.0).abs() < 1e-12);
    assert!((m.markets[1].planner_unemployed - 3.0).abs() < 1e-12);
    assert!((m.unemployed_to_move - 1.0).abs() < 1e-12);
    assert_eq!((m.vacancies, m.unemployed), (4.0, 4.0));

    // Efficiencies 1 and 2 with α = 1/2: φ̄ = √(½ + 4·½) = √2.5, M = 1 − (1 + 2)·½ / √2.5, and the
    // planner's shares are ∝ φ²·v: 1/5 and 4/5.
    let m = mismatch_from_parts(0.5, &[("a", 1.0, 1.0, 1.0), ("b", 2.0, 1.0, 1.0)]).unwrap();
    assert!((m.efficiency_mean - 2.5f64.sqrt()).abs() < 1e-15);
    assert!((m.index - (1.0 - 1.5 / 2.5f64.sqrt())).abs() < 1e-15);
    assert!((m.index - 0.0513167).abs() < 1e-6);
    assert!((m.markets[0].planner_share - 0.2).abs() < 1e-15 && (m.markets[1].planner_share - 0.8).abs() < 1e-15);
    assert!((m.markets[1].planner_unemployed - 1.6).abs() < 1e-12);
    assert!((m.unemployed_to_move - 0.6).abs() < 1e-12);
    // The efficiencies' scale does not matter.
    let scaled = mismatch_from_parts(0.5, &[("a", 10.0, 1.0, 1.0), ("b", 20.0, 1.0, 1.0)]).unwrap();
    assert!((scaled.index - m.index).abs() < 1e-15);
    // α = 3/4 tells α from 1 − α: M = 1 − Σ (v_i/v)^¾ (u_i/u)^¼.
    let m = mismatch_from_parts(0.75, &[("a", 1.0, 1.0, 2.0), ("b", 1.0, 3.0, 2.0)]).unwrap();
    let expected = 1.0 - 0.5f64.powf(0.25) * (0.25f64.powf(0.75) + 0.75f64.powf(0.75));
    assert!((m.index - expected).abs() < 1e-15 && (m.index - 0.025000).abs() < 1e-5, "{}", m.index);

    assert_eq!(mismatch_from_parts(1.0, &[("a", 1.0, 1.0, 1.0)]).unwrap_err(), DemandError::AlphaOutOfRange(1.0));
    assert!(matches!(
        mismatch_from_parts(0.5, &[("a", 1.0, 1.0, 1.0), ("a", 1.0, 1.0, 1.0)]),
        Err(DemandError::DuplicateMarket(_))
    ));
    assert!(matches!(mismatch_from_parts(0.5, &[("a", 1.0, -1.0, 1.0)]), Err(DemandError::BadCount { .. })));
    assert_eq!(mismatch_from_parts(0.5, &[("a", 1.0, 0.0, 1.0)]).unwrap_err(), DemandError::NoTotal("vacancies"));
    // All the unemployed where there are no vacancies: every hire is lost.
    let m = mismatch_from_parts(0.5, &[("a", 1.0, 5.0, 0.0), ("b", 1.0, 0.0, 5.0)]).unwrap();
    assert!((m.index - 1.0).abs() < 1e-15);
}

#[test]
fn mismatch_with_a_fitted_matching_function() {
    let (observations, _) = synthetic_panel(21, 0.6, 12, 24, 0.05, 1.0);
    let fit = estimate_matching(&observations).unwrap();
    let period = month("2021-06");
    let now: Vec<(String, f64, f64)> = observations
        .iter()
        .filter(|o| o.period == period)
        .map(|o| (o.market.clone(), o.vacancies, o.unemployed))
        .collect();
    let observed = mismatch_index(&fit, &now).unwrap();
    assert!(observed.index > 0.0 && observed.index < 1.0, "{}", observed.index);
    assert_eq!(observed.alpha, fit.alpha);
    // Moving the unemployed as the planner would removes the mismatch.
    let planned: Vec<(String, f64, f64)> =
        observed.markets.iter().map(|m| (m.market.clone(), m.vacancies, m.planner_unemployed)).collect();
    let after = mismatch_index(&fit, &planned).unwrap();
    assert!(after.index.abs() < 1e-12, "{}", after.index);
    assert!(after.unemployed_to_move < 1e-9);
    assert_eq!(
        mismatch_index(&fit, &[("nowhere", 1.0, 1.0)]).unwrap_err(),
        DemandError::UnknownMarket("nowhere".into())
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mismatch_lies_in_the_unit_interval_and_vanishes_at_the_planner_allocation(
        alpha in 0.05f64..0.95,
        markets in prop::collection::vec((0.05f64..20.0, 0.01f64..1000.0, 0.01f64..1000.0), 1..12),
    ) {
        let parts: Vec<(String, f64, f64, f64)> =
            markets.iter().enumerate().map(|(i, &(phi, v, u))| (format!("m{i}"), phi, v, u)).collect();
        let m = mismatch_from_parts(alpha, &parts).unwrap();
        prop_assert!(m.index >= -1e-12 && m.index < 1.0, "{}", m.index);
        let shares: f64 = m.markets.iter().map(|r| r.planner_share).sum();
        prop_assert!((shares - 1.0).abs() < 1e-12);
        let planned: Vec<(String, f64, f64, f64)> =
            m.markets.iter().map(|r| (r.market.clone(), r.efficiency, r.vacancies, r.planner_unemployed)).collect();
        let best = mismatch_from_parts(alpha, &planned).unwrap();
        prop_assert!(best.index.abs() < 1e-12, "{}", best.index);
        prop_assert!(best.index <= m.index + 1e-12);
    }
}

// ---------------------------------------------------------------------------------------------
// Real data: Australia's Internet Vacancy Index, regional, ANZSCO major groups
// ---------------------------------------------------------------------------------------------

/// The IVI file's major-group rows as count rows, and its published totals by region and month.
fn ivi() -> (Vec<CountRow>, HashMap<(String, Month), f64>) {
    let mut reader = csv::Reader::from_path(IVI).unwrap_or_else(|e| panic!("{IVI}: {e}"));
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (date_at, level_at, region_at, code_at, value_at) = (
        column("date"),
        column("occupation_level"),
        column("vacancy_region"),
        column("anzsco_code"),
        column("job_ads_3mma"),
    );
    let mut rows = Vec::new();
    let mut totals = HashMap::new();
    for record in reader.records() {
        let record = record.unwrap();
        let m = Month::of(date(&record[date_at]));
        let value: f64 = record[value_at].parse().unwrap();
        match &record[level_at] {
            "1" => {
                totals.insert((record[region_at].to_string(), m), value);
            }
            "2" => rows.push(CountRow {
                region: record[region_at].to_string(),
                occupation: record[code_at].to_string(),
                month: m,
                inflow: value,
            }),
            _ => {}
        }
    }
    (rows, totals)
}

#[test]
fn ivi_major_groups_add_up_to_the_published_region_totals() {
    let (rows, totals) = ivi();
    assert_eq!(rows.len(), 37 * 8 * 12);
    let Checked { value: series, skipped } = inflow_indicators(&rows).unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(series.regions().len(), 37);
    assert_eq!(series.occupations(), ["1", "2", "3", "4", "5", "6", "7", "8", TOTAL]);
    assert_eq!(series.months().len(), 12);
    assert_eq!((series.months()[0], series.months()[11]), (month("2024-02"), month("2025-01")));
    assert_eq!(totals.len(), 37 * 12);
    for region in series.regions() {
        for &m in series.months() {
            let total = series.get(region, TOTAL, m).unwrap().inflow.unwrap();
            let published = totals[&(region.clone(), m)];
            // Eight values and the total, each rounded to 3 decimals.
            assert!((total - published).abs() <= 9.0 * 0.0005 + 1e-9, "{region} {m}: {total} vs {published}");
            let shares: f64 = series.occupations()[..8]
                .iter()
                .map(|o| series.get(region, o, m).unwrap().share_of_region.unwrap())
                .sum();
            assert!((shares - 1.0).abs() < 1e-12);
        }
    }
}

#[test]
fn ivi_figures_read_by_hand() {
    let (rows, _) = ivi();
    let series = inflow_indicators(&rows).unwrap().value;
    // Sydney, professionals (2): 13,507.667 in February 2024, 14,581.333 in April, 14,501.667 in May.
    let may = series.get("Sydney", "2", month("2024-05")).unwrap();
    assert_eq!(may.inflow, Some(14501.667));
    assert!((may.change_1m.unwrap() - (14501.667 / 14581.333 - 1.0)).abs() < 1e-12);
    assert!((may.change_3m.unwrap() - (14501.667 / 13507.667 - 1.0)).abs() < 1e-12);
    // Sydney's total in May 2024 is published as 48,048.333.
    assert!((may.share_of_region.unwrap() - 14501.667 / 48048.333).abs() < 1e-7);
    let february = series.get("Sydney", "2", month("2024-02")).unwrap();
    assert_eq!((february.change_1m, february.change_3m), (None, None));
    let march_total = series.get("Sydney", TOTAL, month("2024-03")).unwrap();
    assert!((march_total.inflow.unwrap() - 49266.0).abs() < 0.005);
    assert!((march_total.change_1m.unwrap() - (49266.0 / 44258.0 - 1.0)).abs() < 1e-6);
    assert_eq!(march_total.share_of_region, Some(1.0));
    // Perth, January 2025: managers 2,218.667, labourers 1,088.333, total 18,970.333.
    let perth = |code: &str| series.get("Perth", code, month("2025-01")).unwrap();
    assert_eq!(perth("1").inflow, Some(2218.667));
    assert_eq!(perth("8").inflow, Some(1088.333));
    assert!((perth(TOTAL).inflow.unwrap() - 18970.333).abs() < 0.005);
    assert!(series.get("Perth", "9", month("2025-01")).is_none());
    assert!(series.get("Perth", "1", month("2025-02")).is_none());
}

#[test]
fn inflow_rows_that_cannot_be_used_are_listed() {
    let row = |region: &str, occupation: &str, m: &str, inflow: f64| CountRow {
        region: region.into(),
        occupation: occupation.into(),
        month: month(m),
        inflow,
    };
    let rows = [
        row("A", "1", "2024-01", 10.0),
        row("A", "2", "2024-01", 30.0),
        row("A", "1", "2024-02", 20.0),
        row("A", "1", "2024-02", 25.0),
        row("", "1", "2024-02", 1.0),
        row("A", TOTAL, "2024-02", 1.0),
        row("A", "2", "2024-03", f64::NAN),
        row("B", "1", "2024-04", 0.0),
        row("B", "1", "2024-05", 7.0),
    ];
    let Checked { value: series, skipped } = inflow_indicators(&rows).unwrap();
    let reasons: Vec<usize> = skipped.iter().map(|s| s.index).collect();
    assert_eq!(reasons, [3, 4, 5, 6]);
    assert_eq!(series.months().len(), 5);
    assert_eq!(series.get("A", TOTAL, month("2024-01")).unwrap().inflow, Some(40.0));
    assert_eq!(series.get("A", "1", month("2024-01")).unwrap().share_of_region, Some(0.25));
    // Occupation 2 has no February row, so A's February total is unknown.
    assert_eq!(series.get("A", TOTAL, month("2024-02")).unwrap().inflow, None);
    assert_eq!(series.get("A", "1", month("2024-02")).unwrap().change_1m, Some(1.0));
    // Growth from zero is not a number.
    assert_eq!(series.get("B", "1", month("2024-05")).unwrap().change_1m, None);
    assert_eq!(series.get("B", TOTAL, month("2024-05")).unwrap().inflow, Some(7.0));
    let json = serde_json::to_value(&series).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2 * 3 * 5);
    assert!(inflow_indicators(&[]).unwrap().value.months().is_empty());
}

/// The monthly flows a database keeps give the same table as the spells they sum; flows after the
/// window are not read (their occupations are not on its axis); flows that end more openings
/// than were posted are refused, not clamped.
#[test]
fn the_table_from_monthly_flows_is_the_table_from_the_spells() {
    let r = Region::Almaty;
    let spells = vec![
        spell(r, "7212", "2025-11-20", Some("2026-01-10"), true, 3),
        spell(r, "7212", "2026-01-05", None, false, 2),
        spell(r, "2512", "2026-02-01", Some("2026-02-03"), false, 1),
        spell(r, "5120", "2026-06-01", None, false, 1),
    ];
    let c = config(4, "2025-12", "2026-03");
    let from_spells = indicators(&spells, &[], &c).unwrap().value;
    let flows = month_flows(&spells);
    assert!(flows.skipped.is_empty());
    // The developer posted and gone within February is one month's row.
    assert_eq!(flows.value.len(), 4, "{:?}", flows.value);
    let from_flows = indicators_from_flows(&flows.value, &[], &c).unwrap().value;
    let cells = |t: &DemandTable| t.cells().map(|c| format!("{c:?}")).collect::<Vec<_>>();
    assert_eq!(cells(&from_flows), cells(&from_spells));
    assert_eq!(from_flows.occupations(), ["2512", "7212", "_T"]);
    let jan = from_flows.get(r.as_str(), "7212", month("2026-01")).unwrap();
    assert_eq!((jan.stock, jan.inflow, jan.outflow, jan.hires), (2, 2, 3, 3));
    assert_eq!(from_flows.stock_before(r, "7212"), Some(3));

    let mut broken = flows.value.clone();
    broken.iter_mut().filter(|f| f.occupation == isco("7212")).for_each(|f| f.outflow += 10);
    let err = indicators_from_flows(&broken, &[], &c).unwrap_err();
    assert!(
        matches!(&err, DemandError::NegativeStock { series } if *series == format!("{}/7212", r.as_str())),
        "{err}"
    );
}
