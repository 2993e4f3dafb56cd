//! Profiles over the bundled bank: a country's corridors and totals are the bank's own bilateral
//! figures ranked and added up, net migration keeps each source apart, the forecast sits beside the
//! UN's projection, an earlier vintage knows less, and a region's profile carries the region it was
//! formed from and its place among the regions.

use std::collections::BTreeMap;
use std::sync::Arc;

use koshi_app::AppError;
use koshi_app::bank::{Figures, QueryRequest};
use koshi_app::profile::{CountryProfileRequest, RegionProfileRequest};

use crate::bundled;

fn observations(dataflow: &str, key: &str) -> Vec<koshi_app::bank::Observation> {
    let report = bundled()
        .query(&QueryRequest { dataflow: dataflow.into(), keys: vec![key.into()], ..QueryRequest::default() })
        .unwrap();
    let Figures::Observations(o) = report.items else { panic!("observations") };
    o
}

#[test]
fn a_country_profile_ranks_and_adds_up_the_bank_s_bilateral_stocks() {
    let profile = bundled().country_profile(&CountryProfileRequest::new("kaz")).unwrap();
    assert_eq!(profile.country, "KAZ");
    assert_eq!(profile.name.ru, "Казахстан");
    let year = profile.corridor_year.clone().expect("bilateral stocks for Kazakhstan");

    // Origins: every country's stock in Kazakhstan that year, largest first, as the bank holds them.
    let countries = bundled().catalogue().unwrap().country_codes();
    let mut expected: Vec<(String, f64)> = observations("MIG_STOCK", "KAZ.._T.STOCK")
        .into_iter()
        .filter(|o| o.time_period == year && countries.contains(&o.key[1]) && o.key[1] != "KAZ")
        .map(|o| (o.key[1].clone(), o.value_base.unwrap()))
        .collect();
    expected.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = expected.iter().map(|e| e.1).sum();
    assert_eq!(profile.top_origins.len(), 10);
    for (partner, (code, value)) in profile.top_origins.iter().zip(&expected) {
        assert_eq!(&partner.partner, code);
        assert_eq!(partner.value, *value);
        assert!((partner.share_pct - 100.0 * value / total).abs() < 1e-9);
        assert_eq!(partner.figure.source, "UN_DESA");
        assert_eq!(partner.figure.key, format!("KAZ.{code}._T.STOCK"));
    }
    assert_eq!(profile.top_origins[0].partner, "RUS");

    // Emigrants: Kazakhstan's natives in every other country, added up per year and release.
    let abroad = observations("MIG_STOCK", ".KAZ._T.STOCK");
    let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for o in abroad.iter().filter(|o| countries.contains(&o.key[0]) && o.key[0] != "KAZ") {
        let slot = sums.entry(o.time_period.clone()).or_default();
        slot.0 += o.value_base.unwrap();
        slot.1 += 1;
    }
    assert!(!profile.emigrant_stock.is_empty());
    for total in &profile.emigrant_stock {
        let (sum, parts) = sums[&total.period];
        assert_eq!(total.parts, parts, "{}", total.period);
        assert!((total.value - sum).abs() < 1e-6 * sum, "{}: {} vs {sum}", total.period, total.value);
    }
    assert_eq!(
        profile.top_destinations[0].value,
        abroad.iter().filter(|o| o.time_period == year).map(|o| o.value_base.unwrap()).fold(0.0, f64::max)
    );
}

#[test]
fn net_migration_keeps_each_source_apart_and_the_forecast_sits_beside_the_un() {
    let profile = bundled().country_profile(&CountryProfileRequest::new("KAZ")).unwrap();
    let sources: Vec<&str> = profile.net_migration.iter().map(|l| l.source.as_str()).collect();
    assert!(sources.contains(&"UN_WPP"), "{sources:?}");
    assert!(sources.iter().any(|s| s.starts_with("PAPER_")), "the papers' figures beside the UN's: {sources:?}");
    let un = profile.net_migration.iter().find(|l| l.source == "UN_WPP").unwrap();
    assert!(un.figures.windows(2).all(|w| w[0].period < w[1].period), "one figure a period, in order");
    assert!(un.figures.iter().all(|f| f.release.contains("World Population Prospects 2024")));
    let forecast = profile.forecast.as_ref().expect("74 years of history make a forecast");
    assert_eq!(forecast.horizon, 10);
    let ahead: Vec<_> = forecast.rows.iter().filter(|r| r.kind == koshi_app::forecast::RowKind::Forecast).collect();
    assert_eq!(ahead.len(), 10);
    assert!(
        ahead.iter().all(|r| r.lo95 <= r.lo80 && r.lo80 <= Some(r.mean) && Some(r.mean) <= r.hi80 && r.hi80 <= r.hi95)
    );
    assert!(ahead.iter().any(|r| r.un.is_some()), "the UN's projection is beside the forecast");
    assert!(forecast.rows.iter().any(|r| r.scenario.as_deref() == Some("zero-migration")));
}

#[test]
fn an_earlier_vintage_knows_less() {
    let mut request = CountryProfileRequest::new("KAZ");
    request.as_of = Some("2020-01-01".into());
    let then = bundled().country_profile(&request).unwrap();
    assert!(then.net_migration.iter().all(|l| l.source != "UN_WPP"), "WPP 2024 was released in July 2024");
    assert!(then.net_migration.iter().flat_map(|l| &l.figures).all(|f| f.release_date.as_str() <= "2020-01-01"));
    assert!(then.forecast.is_none(), "too short a history known then");
    assert!(!then.notes.is_empty());
}

#[test]
fn profiles_are_kept_until_the_bank_changes_and_bad_requests_are_named() {
    let a = bundled().country_profile(&CountryProfileRequest::new("BLR")).unwrap();
    let b = bundled().country_profile(&CountryProfileRequest::new("BLR")).unwrap();
    assert!(Arc::ptr_eq(&a, &b), "the second answer is the first, kept");
    for (code, field) in [("XXX", "country"), ("WLD", "country"), ("KZ-75", "country")] {
        match bundled().country_profile(&CountryProfileRequest::new(code)) {
            Err(AppError::Invalid { field: f, message }) => {
                assert_eq!(f, field);
                assert!(message.contains(code), "{message}");
            }
            other => panic!("{code}: {other:?}"),
        }
    }
    let mut too_many = CountryProfileRequest::new("KAZ");
    too_many.top = 500;
    assert!(matches!(bundled().country_profile(&too_many), Err(AppError::Invalid { .. })));
    for code in ["KAZ", "KZ-99", ""] {
        let request = RegionProfileRequest { region: code.into(), as_of: None };
        assert!(matches!(bundled().region_profile(&request), Err(AppError::Invalid { .. })), "{code}");
    }
}

#[test]
fn a_region_profile_carries_its_predecessor_and_its_place_among_the_regions() {
    let profile = bundled().region_profile(&RegionProfileRequest { region: "kz-61".into(), as_of: None }).unwrap();
    assert_eq!(profile.region, "KZ-61");
    assert_eq!(profile.predecessors.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(), ["KZ-YUZ"]);
    let net = profile.migration.iter().find(|m| m.measure == "NET").unwrap();
    let arr = profile.migration.iter().find(|m| m.measure == "ARR").unwrap();
    let dep = profile.migration.iter().find(|m| m.measure == "DEP").unwrap();
    assert!(net.annual.len() >= 2 && net.monthly.len() >= 12, "{} {}", net.annual.len(), net.monthly.len());
    for n in &net.annual {
        let a = arr.annual.iter().find(|f| f.period == n.period && f.key.starts_with("KZ-61.")).unwrap();
        let d = dep.annual.iter().find(|f| f.period == n.period && f.key.starts_with("KZ-61.")).unwrap();
        assert_eq!(n.value, a.value - d.value, "{}: the office's balance is arrivals less departures", n.period);
        assert!(n.reason.is_some(), "a harmonised figure says why it was chosen");
    }
    // The rank: how many regions had a larger balance that year, plus one.
    let everyone = observations("MIG_INT", "MEASURE=NET");
    for rank in &profile.net_rank {
        let own = net.annual.iter().find(|f| f.period == rank.period && f.key.starts_with("KZ-61.")).unwrap().value;
        let peers: Vec<f64> = everyone
            .iter()
            .filter(|o| o.time_period == rank.period && o.key[0].starts_with("KZ-"))
            .filter_map(|o| o.value_base)
            .collect();
        assert_eq!(rank.of, peers.len());
        assert_eq!(rank.rank, 1 + peers.iter().filter(|v| **v > own).count());
    }
    // The Bureau's populations on 1 January 2022 and 2023 give 2022 its rates; none is known on
    // 1 January 2025, so the later years have none, and the notes say why.
    let rate_years: Vec<&str> = profile.net_rate.iter().map(|v| v.period.as_str()).collect();
    assert!(rate_years.contains(&"2022") && !rate_years.contains(&"2024"), "{rate_years:?}");
    assert_eq!(profile.net_rate.len(), profile.gross_rate.len());
    assert!(profile.notes.iter().any(|n| n.contains("population")), "{:?}", profile.notes);
    assert_eq!(
        profile.notes.len(),
        profile.notes.iter().collect::<std::collections::BTreeSet<_>>().len(),
        "no note twice"
    );
}
