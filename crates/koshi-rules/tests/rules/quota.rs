//! Quota sizing against real data: rate × labour force of the base year reproduces the published
//! national quotas. The labour force is the Bureau of National Statistics series (LFS annual
//! averages, thousand persons) in ../shared/data/kazakhstan/bns/labour_force_by_region/; the
//! engine gets the numbers, the test reads the file.

use std::collections::BTreeMap;
use std::path::Path;

use koshi_rules::{compute_quota, shipped_policy};

/// National labour force by year, in persons.
fn labour_force() -> BTreeMap<i32, f64> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/kazakhstan/bns/labour_force_by_region/kz_labour_force_by_region_2001_2025.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("column {name}"));
    let (year, region, lf) = (column("year"), column("region_code"), column("labour_force_thousand"));
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|cells| cells[region] == "KZ")
        .map(|cells| (cells[year].parse().expect("year"), cells[lf].parse::<f64>().expect("number") * 1000.0))
        .collect()
}

#[test]
fn rate_times_labour_force_reproduces_the_published_quotas_within_3_percent() {
    let kz = shipped_policy("kz").expect("listed").expect("parses");
    let lf = labour_force();
    let mut table = vec!["year  rate    base  labour force   computed  published  gap %   rate-based".to_string()];
    let mut within = Vec::new();
    let mut not_rate_based = Vec::new();
    for year in [2014, 2015, 2016, 2020, 2021, 2023, 2024, 2025] {
        let q = compute_quota(&kz, year, &lf).unwrap_or_else(|e| panic!("{year}: {e}"));
        assert_eq!(q.base_year, year - 2, "the base is the labour force two years before");
        for p in &q.published {
            table.push(format!(
                "{year}  {:.2}%  {}  {:>12.0}  {:>9.0}  {:>9.0}  {:>+6.2}  {}",
                q.rate * 100.0,
                q.base_year,
                q.labour_force,
                q.computed,
                p.figure,
                p.gap_percent,
                if p.rate_based { "yes" } else { "no: " }.to_string() + p.note.as_deref().unwrap_or("")
            ));
            if p.rate_based {
                assert!(p.gap_percent.abs() < 3.0, "{year} {}: gap {:.2}%", p.label, p.gap_percent);
                within.push(year);
            } else {
                not_rate_based.push((year, p.figure));
                // Said, not forced: these figures are far from rate × labour force.
                assert!(p.note.is_some(), "{year} {} says why it is not rate-based", p.figure);
            }
        }
    }
    eprintln!("{}", table.join("\n"));
    for year in [2015, 2016, 2020, 2021, 2023, 2024, 2025] {
        assert!(within.contains(&year), "{year} reproduced");
    }
    assert!(not_rate_based.contains(&(2014, 108_000.0)) && not_rate_based.contains(&(2025, 14_800.0)));
}

/// Which base year fits: two years before (Y−2) fits every year within 3%; the year before (Y−1)
/// cannot be checked for 2016 (the 2015 labour force is missing from the series) and fits 2021
/// only at 2.9%; the quota year itself misses 2023 by 3.1%.
#[test]
fn the_base_two_years_before_fits_best() {
    let lf = labour_force();
    let published = [
        (2015, 0.007, 63_000.0),
        (2016, 0.007, 63_000.0),
        (2020, 0.0032, 29_292.0),
        (2021, 0.0031, 29_300.0),
        (2023, 0.0024, 22_200.0),
        (2024, 0.0023, 22_000.0),
        (2025, 0.0020, 19_400.0),
    ];
    let mut report = Vec::new();
    for lag in 0..=2 {
        let gaps: Vec<Option<f64>> = published
            .iter()
            .map(|(year, rate, figure)| lf.get(&(year - lag)).map(|l| 100.0 * (rate * l - figure) / figure))
            .collect();
        let known: Vec<f64> = gaps.iter().flatten().map(|g| g.abs()).collect();
        let mean = known.iter().sum::<f64>() / known.len() as f64;
        let worst = known.iter().cloned().fold(0.0, f64::max);
        report.push((lag, mean, worst, gaps.iter().filter(|g| g.is_none()).count()));
    }
    eprintln!("base lag, mean |gap| %, worst |gap| %, years without data: {report:.2?}");
    let (_, mean_two, worst_two, missing_two) = report[2];
    assert_eq!(missing_two, 0);
    assert!(worst_two < 3.0);
    assert!(report.iter().all(|(_, mean, _, _)| mean_two <= *mean + 1e-9));
}
