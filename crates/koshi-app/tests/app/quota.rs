//! The foreign-labour quota in process: the national quota sized from the bundled labour force
//! reproduces the published quotas (quota_rules.md §1.3, written out below as the reference),
//! distributions stay within it, and two policies compared on the example demand give what the
//! rules say they should.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use koshi_app::quota::{
    self, LABOUR_FORCE_FILE, PolicyChoice, QuotaComputeReport, QuotaComputeRequest, QuotaSimulateRequest, RegionRequest,
};
use koshi_app::{AppError, ErrorKind};

use crate::bundled;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The source's own file, outside the repository.
fn shared_labour_force() -> PathBuf {
    root().join("../shared/data/kazakhstan/bns/labour_force_by_region/kz_labour_force_by_region_2001_2025.csv")
}

/// The national labour force (persons) read straight from the source's file, not through koshi.
fn labour_force_from_the_source() -> BTreeMap<i32, f64> {
    let text = std::fs::read_to_string(shared_labour_force()).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|cells| cells[1] == "KZ")
        .map(|cells| (cells[0].parse().unwrap(), cells[4].parse::<f64>().unwrap() * 1000.0))
        .collect()
}

fn compute(year: i32) -> QuotaComputeReport {
    bundled()
        .quota_compute(&QuotaComputeRequest { year, ..QuotaComputeRequest::default() })
        .unwrap_or_else(|e| panic!("{year}: {e}"))
}

/// The published national quotas that are rate × labour force (quota_rules.md §1.3): year, rate, figure.
const PUBLISHED: [(i32, f64, f64); 7] = [
    (2015, 0.007, 63_000.0),
    (2016, 0.007, 63_000.0),
    (2020, 0.0032, 29_292.0),
    (2021, 0.0031, 29_300.0),
    (2023, 0.0024, 22_200.0),
    (2024, 0.0023, 22_000.0),
    (2025, 0.0020, 19_400.0), // revised in 2025
];

#[test]
fn the_published_quotas_are_reproduced_within_3_percent_from_the_bundled_labour_force() {
    let source = labour_force_from_the_source();
    let mut table = vec!["year  rate     base  labour force  computed  published   gap".to_string()];
    for (year, rate, figure) in PUBLISHED {
        let r = compute(year);
        let c = &r.computation;
        assert_eq!(c.rate, rate, "{year}: the policy's rate is the published one");
        assert_eq!(c.base_year, year - 2, "{year}: the base is the labour force two years before");
        assert!(r.base.contains(&format!("labour force of {}", year - 2)), "{year}: {}", r.base);
        assert_eq!(r.labour_force_source.year, c.base_year);
        assert_eq!(c.labour_force, source[&c.base_year], "{year}: the source's figure for {}", c.base_year);
        assert_eq!(c.computed, (rate * source[&c.base_year]).round());
        let gap = 100.0 * (c.computed - figure) / figure;
        assert!(gap.abs() < 3.0, "{year}: computed {} is {gap:.2}% from the published {figure}", c.computed);
        // The report puts the same published figure beside it, as rate-based, with the same gap.
        let p = c.published.iter().find(|p| p.figure == figure).unwrap_or_else(|| panic!("{year}: {figure} listed"));
        assert!(p.rate_based, "{year}: {}", p.label);
        assert!((p.gap_percent - gap).abs() < 1e-9);
        table.push(format!(
            "{year}  {:.2}%  {}  {:>12.0}  {:>8.0}  {figure:>9.0}  {gap:+.2}%",
            rate * 100.0,
            c.base_year,
            c.labour_force,
            c.computed
        ));
    }
    eprintln!("{}", table.join("\n"));
}

#[test]
fn published_figures_that_are_not_rate_times_labour_force_are_said_so_not_forced() {
    for (year, figure) in [(2014, 108_000.0), (2025, 14_800.0)] {
        let r = compute(year);
        let p = r.computation.published.iter().find(|p| p.figure == figure).expect("listed");
        assert!(!p.rate_based, "{year} {figure}");
        assert!(p.note.as_deref().is_some_and(|n| !n.is_empty()), "{year} {figure} says why");
        // Indeed far from rate × labour force: forcing it would be wrong.
        assert!(p.gap_percent.abs() > 10.0, "{year} {figure}: {}", p.gap_percent);
        let said = format!("published {} (", koshi_core::validate::fmt_num(figure));
        assert!(
            r.notes.iter().any(|n| n.starts_with(&said) && n.contains("not rate × labour force")),
            "{year}: {:#?}",
            r.notes
        );
    }
}

#[test]
fn the_labour_force_is_the_sources_file_and_every_figure_cites_its_line() {
    let bundled_copy = std::fs::read(root().join(LABOUR_FORCE_FILE)).unwrap();
    assert_eq!(bundled_copy, std::fs::read(shared_labour_force()).unwrap(), "the bundled copy is the source's file");
    let text = String::from_utf8(bundled_copy).unwrap();
    let r = compute(2024);
    let s = &r.labour_force_source;
    assert_eq!(s.source, "KZ_BNS");
    assert!(s.citation.contains("Bureau of National Statistics") && s.citation.contains("stat.gov.kz"));
    let line = text.lines().nth(s.line - 1).unwrap();
    assert!(line.starts_with("2022,KZ,"), "line {}: {line}", s.line);
    assert_eq!(line.split(',').nth(4), Some(s.printed.as_str()));
    assert!(r.notes.iter().any(|n| n.contains(&format!("line {}", s.line))));
}

#[test]
fn a_year_without_a_base_or_a_rate_is_unanswerable_and_says_what_there_is() {
    let app = bundled();
    // 2017 would be based on 2015, which the source's series lacks.
    let e = app.quota_compute(&QuotaComputeRequest { year: 2017, ..QuotaComputeRequest::default() }).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    assert!(e.to_string().contains("2015") && e.to_string().contains("2016–2025"), "{e}");
    // 2019 has no rate (the quota was set by economic activity).
    let e = app.quota_compute(&QuotaComputeRequest { year: 2019, ..QuotaComputeRequest::default() }).unwrap_err();
    assert!(e.to_string().contains("quota_rate") && e.to_string().contains("2020–2021"), "{e}");
    // Singapore sizes no quota from a labour force.
    let sg = QuotaComputeRequest { year: 2024, policy: PolicyChoice::Shipped("sg".into()), ..Default::default() };
    assert!(app.quota_compute(&sg).unwrap_err().to_string().contains("quota_rate"));
    let unknown = QuotaComputeRequest { policy: PolicyChoice::Shipped("kzz".into()), ..Default::default() };
    let e = app.quota_compute(&unknown).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains("kz, sg, us_h1b"), "{e}");
    let bad_share = QuotaComputeRequest { reserve_share: Some(1.5), requests: Some(Vec::new()), ..Default::default() };
    assert!(matches!(app.quota_compute(&bad_share), Err(AppError::Invalid { field, .. }) if field == "reserve_share"));
}

#[test]
fn requests_share_the_national_quota_with_a_reserve_and_never_more_than_asked() {
    let requests = quota::read_requests(&root().join("data/examples/quota_requests_2025.csv")).unwrap();
    assert_eq!(requests.len(), 27);
    let total: u64 = requests.iter().map(|r| r.places).sum();
    let r = bundled()
        .quota_compute(&QuotaComputeRequest { year: 2025, requests: Some(requests.clone()), ..Default::default() })
        .unwrap();
    let national = r.computation.computed as u64;
    let d = r.distribution.expect("distributed");
    assert_eq!(d.distribution.national, national);
    assert_eq!(d.requested, total);
    assert_eq!(d.reserve_share, 0.05, "the policy's reserve share");
    assert!(d.reserve_share_from.contains("quota_reserve_share"));
    let allocated: u64 = d.distribution.allocations.iter().map(|a| a.allocated).sum();
    assert_eq!(allocated, d.allocated);
    assert_eq!(allocated + d.distribution.reserve, national, "every place is allocated or in reserve");
    let available = national - (national as f64 * 0.05).floor() as u64;
    assert!(total > available, "the example asks for more than there is");
    assert_eq!(allocated, available);
    for a in &d.distribution.allocations {
        assert!(a.allocated <= a.requested);
        let share = available as f64 * a.requested as f64 / total as f64;
        assert!((a.allocated as f64 - share).abs() < 1.0, "{a:?}: pro rata {share}");
    }
    // The request's own reserve share wins; requests below the quota are met in full.
    let small = vec![RegionRequest { region: "KZ-23".into(), category: "3".into(), places: 100 }];
    let r = bundled()
        .quota_compute(&QuotaComputeRequest {
            year: 2024,
            requests: Some(small),
            reserve_share: Some(0.0),
            ..Default::default()
        })
        .unwrap();
    let d = r.distribution.unwrap();
    assert_eq!((d.reserve_share, d.distribution.allocations[0].allocated), (0.0, 100));
    assert_eq!(d.distribution.reserve, r.computation.computed as u64 - 100);
}

#[test]
fn bad_request_and_demand_files_are_named_with_their_line() {
    let e = quota::parse_requests("r.csv", "region,category,places\nKZ-23,3,10\nKZ-75,2,ten\n").unwrap_err();
    assert!(matches!(&e, AppError::Invalid { field, .. } if field == "requests"));
    assert!(e.to_string().contains("r.csv, line 3") && e.to_string().contains("places"), "{e}");
    let e = quota::parse_requests("r.csv", "# a comment\nregion,places\nKZ-23,10\n").unwrap_err();
    assert!(e.to_string().contains("r.csv, line 2") && e.to_string().contains("category"), "{e}");
    let e = quota::parse_requests("r.csv", "region,category,places\nKZ-23,3\n").unwrap_err();
    assert!(e.to_string().contains("r.csv, line 2"), "{e}");

    let toml = "date = \"2025-03-01\"\n\n[[items]]\ntimes = 2\nrequest = { nationality = \"TR\", categroy = \"3\" }\n";
    let e = quota::parse_demand("d.toml", toml, false).unwrap_err();
    assert!(matches!(&e, AppError::Invalid { field, .. } if field == "demand"));
    assert!(e.to_string().contains("d.toml, line 5") && e.to_string().contains("categroy"), "{e}");
    let e = quota::parse_demand("d.toml", "date = 2025-03-01\n", false).unwrap_err();
    assert!(e.to_string().contains("line 1") && e.to_string().contains("\"2025-03-01\""), "{e}");
    let e = quota::parse_demand("d.json", "{\"date\": \"2025-03-01\",\n \"items\": [{\"times\": \"x\"}]}", true)
        .unwrap_err();
    assert!(e.to_string().contains("d.json, line 2"), "{e}");
    let e = quota::read_demand(&root().join("data/examples/no_such_demand.toml")).unwrap_err();
    assert!(matches!(e, AppError::File { .. }), "{e}");
}

fn example_simulation(date: Option<&str>) -> koshi_app::quota::QuotaSimulateReport {
    let demand = quota::read_demand(&root().join("data/examples/quota_demand.toml")).unwrap();
    bundled()
        .quota_simulate(&QuotaSimulateRequest {
            policy_a: PolicyChoice::Shipped("kz".into()),
            policy_b: PolicyChoice::File(root().join("data/examples/kz_local_content_80.toml")),
            demand,
            date: date.map(str::to_string),
        })
        .unwrap()
}

#[test]
fn the_example_variant_trades_local_content_refusals_for_quota_refusals() {
    let r = example_simulation(None);
    assert_eq!(r.date.to_string(), "2025-03-01", "the demand's date");
    assert_eq!(r.applications, 12 + 15 + 5 + 8 + 2);
    assert_eq!((r.policy_a.id.as_str(), r.policy_b.id.as_str()), ("KZ", "KZ_LC80"));
    assert_eq!(r.policy_b.base.as_deref(), Some("kz"));
    let (a, b) = (&r.comparison.a, &r.comparison.b);
    // A (90% floor): the contractor's 420 citizens of 468 = 89.7% fail; the welders take 15 of the 22 places.
    assert_eq!(a.permits.get("KZ-23/3"), None);
    assert_eq!(a.permits["KZ-23/4"], 15);
    assert_eq!(a.refusals_by_ground["4"], 12);
    // B (80% floor): the contractor's 12 specialists pass and use 12 places: 10 welders fit, 5 are refused on ground 2.
    assert_eq!(b.permits["KZ-23/3"], 12);
    assert_eq!(b.permits["KZ-23/4"], 10);
    assert_eq!(b.refusals_by_ground["2"], 5);
    assert_eq!(b.refusals_by_ground.get("4"), None);
    for t in [a, b] {
        assert_eq!(t.permits["KZ-75/2"], 5, "the Almaty heads of department");
        assert_eq!(t.exempt, 8, "Kyrgyz workers: the Eurasian Economic Union");
        assert_eq!(t.refusals_by_ground["1"], 2, "documents not authentic");
    }
    assert_eq!((a.refused, b.refused), (14, 7));
    // Fees: MCI 3,932 in 2025 × the group B (category 3: 202, category 4: 225) and group A (category 2: 158) rates.
    let mci = 3932.0;
    assert!((a.fees - (15.0 * 225.0 + 5.0 * 158.0) * mci).abs() < 0.5, "{}", a.fees);
    assert!((b.fees - (12.0 * 202.0 + 10.0 * 225.0 + 5.0 * 158.0) * mci).abs() < 0.5, "{}", b.fees);
    // The rows put both side by side.
    let row = |measure: &str, key: &str| r.rows.iter().find(|x| x.measure == measure && x.key == key).unwrap();
    assert_eq!((row("permits", "total").a, row("permits", "total").b), (20.0, 27.0));
    assert_eq!(row("refusals", "4").difference, -12.0);
    assert!(row("refusals", "2").label.contains("quota"));
    assert_eq!(row("fees", "KZT").difference, b.fees - a.fees);
}

#[test]
fn before_the_variant_takes_effect_both_policies_decide_alike() {
    let r = example_simulation(Some("2024-03-01"));
    assert_eq!(r.date.to_string(), "2024-03-01");
    assert_eq!(r.comparison.a.permits, r.comparison.b.permits);
    assert_eq!(r.comparison.a.refusals_by_ground, r.comparison.b.refusals_by_ground);
    assert!(r.rows.iter().all(|x| x.difference == 0.0), "{:#?}", r.rows);
}

#[test]
fn a_demand_too_large_is_refused_before_it_runs() {
    let mut demand = quota::read_demand(&root().join("data/examples/quota_demand.toml")).unwrap();
    demand.items[0].times = u32::MAX;
    let e = bundled()
        .quota_simulate(&QuotaSimulateRequest {
            policy_a: PolicyChoice::Shipped("kz".into()),
            policy_b: PolicyChoice::Shipped("kz".into()),
            demand,
            date: None,
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    assert!(e.to_string().contains("MAX_APPLICATIONS"), "{e}");
}

#[test]
fn a_variant_file_is_checked_like_a_policy() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        PolicyChoice::File(path)
    };
    let bad_key = write("v1.toml", "policy = \"kz\"\ncolour = \"red\"\n");
    let e = quota::load_policy(&bad_key, "policy_b").unwrap_err();
    assert!(matches!(&e, AppError::Invalid { field, .. } if field == "policy_b"));
    assert!(e.to_string().contains("colour"), "{e}");
    let bad_param = write("v2.toml", "policy = \"kz\"\n[overrides.params.min_local_share_3_4]\nvalue = 0.8\n");
    assert!(quota::load_policy(&bad_param, "policy_b").unwrap_err().to_string().contains("min_local_share_3_4"));
    let unnamed = write("lower.toml", "policy = \"kz\"\n");
    let (policy, summary) = quota::load_policy(&unnamed, "policy_b").unwrap();
    assert_eq!(policy.id, "KZ~lower");
    assert_eq!(summary.base.as_deref(), Some("kz"));
    let syntax = write("v3.toml", "policy = \"kz\"\n\n[overrides\n");
    assert!(quota::load_policy(&syntax, "policy_a").unwrap_err().to_string().contains("line 3"));
}

#[test]
fn files_and_tables_beyond_the_limits_are_refused_naming_the_limit() {
    let mut text = String::from("region,category,places\n");
    for _ in 0..=quota::MAX_REQUEST_ROWS {
        text.push_str("KZ-23,3,1\n");
    }
    let e = quota::parse_requests("big.csv", &text).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    assert!(e.to_string().contains("MAX_REQUEST_ROWS"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.toml");
    std::fs::File::create(&path).unwrap().set_len(quota::MAX_INPUT_BYTES + 1).unwrap();
    let e = quota::read_demand(&path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    assert!(e.to_string().contains("MAX_INPUT_BYTES"), "{e}");
}
