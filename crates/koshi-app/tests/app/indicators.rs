//! Indicators as derived figures over the bundled bank: each value's lineage names the very
//! figures it was computed from, net migration computed from arrivals and departures equals the
//! statistics office's own published balance, a rate without a population says so, and the
//! catalogue knows which dataflows each indicator applies to.

use koshi_app::AppError;
use koshi_app::bank::{Figures, QueryRequest};
use koshi_app::indicators::IndicatorRequest;

use crate::bundled;

fn request(indicator: &str, dataflow: &str, keys: &[&str]) -> IndicatorRequest {
    IndicatorRequest {
        indicator: indicator.into(),
        dataflow: dataflow.into(),
        keys: keys.iter().map(|k| k.to_string()).collect(),
        ..IndicatorRequest::default()
    }
}

#[test]
fn net_migration_from_arrivals_and_departures_equals_the_published_balance() {
    let net = bundled().indicator(&request("NET", "MIG_INT", &[])).unwrap();
    assert_eq!(net.dimensions, vec!["REF_AREA"]);
    assert!(net.total >= 20 * 14, "every region, two years and twelve months: {}", net.total);
    let published = bundled()
        .query(&QueryRequest {
            dataflow: "MIG_INT".into(),
            keys: vec!["MEASURE=NET".into()],
            harmonised: true,
            ..QueryRequest::default()
        })
        .unwrap();
    let Figures::Harmonised(published) = published.items else { panic!("harmonised") };
    let mut compared = 0;
    for value in &net.items {
        // The lineage: the region's arrivals and departures of the same period, from the bank.
        assert_eq!(value.inputs.len(), 2);
        assert_eq!(value.inputs[0].key, format!("{}.ARR", value.key));
        assert_eq!(value.inputs[1].key, format!("{}.DEP", value.key));
        assert!(value.inputs.iter().all(|i| i.period == value.period && !i.release.is_empty()));
        assert_eq!(value.value, value.inputs[0].value - value.inputs[1].value);
        if let Some(p) = published.iter().find(|p| p.key[0] == value.key && p.time_period == value.period) {
            assert_eq!(Some(value.value), p.value_base, "{} {}", value.key, value.period);
            compared += 1;
        }
    }
    assert!(compared >= 20, "the BNS publishes the balance beside arrivals and departures: {compared} compared");
}

#[test]
fn effectiveness_and_growth_follow_their_formulas() {
    let eff = bundled().indicator(&request("EFFECTIVENESS", "MIG_INT", &["REF_AREA=KZ-75"])).unwrap();
    let value = eff.items.iter().find(|v| v.period == "2023").unwrap();
    let (arr, dep) = (value.inputs[0].value, value.inputs[1].value);
    assert!((value.value - 100.0 * (arr - dep) / (arr + dep)).abs() < 1e-12);
    let growth = bundled().indicator(&request("DEP_GROWTH", "MIG_INT", &["REF_AREA=KZ-75"])).unwrap();
    let y2023 = growth.items.iter().find(|v| v.period == "2023").unwrap();
    assert_eq!((y2023.inputs[0].period.as_str(), y2023.inputs[1].period.as_str()), ("2022", "2023"));
    assert!((y2023.value - (y2023.inputs[1].value / y2023.inputs[0].value - 1.0) * 100.0).abs() < 1e-9);
    // Months follow months: February on January, never on the year before.
    let feb = growth.items.iter().find(|v| v.period == "2024-02").unwrap();
    assert_eq!(feb.inputs[0].period, "2024-01");
    assert!(growth.items.iter().all(|v| v.period != "2024-01"), "January 2024 has no December 2023 before it");
}

#[test]
fn trade_turnover_keeps_the_papers_figures_as_its_lineage() {
    let turnover =
        bundled().indicator(&request("TRADE_TURNOVER", "TRADE", &["REF_AREA=BLR", "COUNTERPART=KAZ"])).unwrap();
    let y2010 = turnover.items.iter().find(|v| v.period == "2010").unwrap();
    assert_eq!(y2010.value, 464.8e6 + 405.8e6);
    assert!(y2010.inputs.iter().all(|i| i.source == "PAPER_000"), "{y2010:?}");
}

#[test]
fn a_rate_without_a_population_says_so() {
    let rate = bundled().indicator(&request("NET_RATE", "MIG_INT", &["REF_AREA=KZ-75"])).unwrap();
    assert!(rate.notes.iter().any(|n| n.contains("KZ-75 2023")), "{:?}", rate.notes);
    for v in &rate.items {
        let population = v.inputs.iter().filter(|i| i.dataflow == "POP").map(|i| i.value).sum::<f64>()
            / v.inputs.iter().filter(|i| i.dataflow == "POP").count() as f64;
        assert!((v.value - 1000.0 * (v.inputs[0].value - v.inputs[1].value) / population).abs() < 1e-9);
    }
}

#[test]
fn the_catalogue_and_its_refusals() {
    let all = bundled().indicators().unwrap();
    let net = all.iter().find(|i| i.id == "NET").unwrap();
    assert!(net.dataflows.contains(&"MIG_INT".to_string()) && net.dataflows.contains(&"MIG_EXT".to_string()));
    assert!(!net.dataflows.contains(&"TRADE".to_string()));
    assert!(all.iter().all(|i| !i.name.ru.is_empty() && !i.name.kk.is_empty()));
    let refused = |r: Result<_, AppError>, field: &str| match r {
        Err(AppError::Invalid { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected a refusal of {field}: {other:?}"),
    };
    refused(bundled().indicator(&request("NO_SUCH", "MIG_INT", &[])).map(|_| ()), "indicator");
    refused(bundled().indicator(&request("NET", "TRADE", &[])).map(|_| ()), "dataflow");
}
