//! Monitoring rules over the bundled bank: each alert's figures are the harmonised view's, the
//! sign and change rules fire where the figures say they must, a chart without enough history
//! says so instead of judging, and the filters hold.

use koshi_app::AppError;
use koshi_app::bank::{Figures, QueryRequest};
use koshi_app::monitor::{AlertsRequest, shipped_rules};

use crate::bundled;

/// The harmonised figure of a key at a period, in the unit itself.
fn figure(dataflow: &str, key: &str, period: &str) -> f64 {
    let report = bundled()
        .query(&QueryRequest {
            dataflow: dataflow.into(),
            keys: vec![key.into()],
            from: Some(period.into()),
            to: Some(period.into()),
            harmonised: true,
            ..QueryRequest::default()
        })
        .unwrap();
    let Figures::Harmonised(rows) = report.items else { panic!("harmonised figures") };
    let row = rows.iter().find(|r| r.time_period == period).unwrap_or_else(|| panic!("{key} {period}"));
    row.value_base.unwrap()
}

#[test]
fn the_shipped_rules_read() {
    let rules = shipped_rules().unwrap();
    assert!(rules.len() >= 6, "{rules:#?}");
    assert!(rules.iter().all(|r| !r.ru.is_empty() && !r.kk.is_empty() && r.en.contains("{area}")));
}

#[test]
fn sign_and_change_alerts_rest_on_the_banks_figures() {
    let report = bundled().alerts(&AlertsRequest::default()).unwrap();
    assert!(report.series > 20 && report.total > 0, "{report:#?}");
    let find = |rule: &str, key: &str, period: &str| {
        report
            .items
            .iter()
            .find(|a| a.rule == rule && a.key == key && a.period == period)
            .unwrap_or_else(|| panic!("no {rule} alert for {key} at {period}"))
    };
    // The balance went from positive in 2022 to negative in 2023 (UN WPP 2024).
    let turned = find("KAZ_EXTERNAL_BALANCE_NEGATIVE", "KAZ.WLD._T._T.NET", "2023");
    assert_eq!(turned.value, figure("MIG_EXT", "KAZ.WLD._T._T.NET", "2023"));
    assert_eq!(turned.previous, Some(figure("MIG_EXT", "KAZ.WLD._T._T.NET", "2022")));
    assert!(turned.value < 0.0 && turned.previous.unwrap() > 0.0);
    assert!(turned.message.ru.contains("Казахстан") && turned.message.en.starts_with("Kazakhstan"), "{turned:?}");
    // No negative turn is listed where the balance did not turn.
    for a in report.items.iter().filter(|a| a.rule == "KAZ_EXTERNAL_BALANCE_NEGATIVE") {
        assert!(a.value < 0.0 && a.previous.unwrap() >= 0.0, "{a:?}");
    }
    // Almaty's departures: 2023 on 2022, from the bank's own figures.
    let (before, after) = (figure("MIG_INT", "KZ-75.DEP", "2022"), figure("MIG_INT", "KZ-75.DEP", "2023"));
    let up = find("REGION_DEPARTURES_UP_20", "KZ-75.DEP", "2023");
    assert_eq!((up.previous, up.value), (Some(before), after));
    assert!((up.change_pct.unwrap() - (after / before - 1.0) * 100.0).abs() < 1e-9);
    assert!(up.change_pct.unwrap() >= 20.0);
    for a in report.items.iter().filter(|a| a.rule == "REGION_DEPARTURES_UP_20") {
        assert!(a.change_pct.unwrap() >= 20.0, "{a:?}");
    }
    // Latest first.
    assert!(report.items.windows(2).all(|w| w[0].period >= w[1].period));
}

#[test]
fn a_chart_without_enough_history_says_so() {
    let report = bundled()
        .alerts(&AlertsRequest { rule: Some("REGION_MONTHLY_DEPARTURES_BAND".into()), ..Default::default() })
        .unwrap();
    assert_eq!(report.rules, 1);
    assert_eq!(report.total, 0, "{report:#?}");
    assert!(
        report.notes.iter().any(|n| n.contains("KZ-75.DEP") && n.contains("needs at least 13")),
        "{:?}",
        report.notes
    );
}

#[test]
fn filters_and_unknown_rules() {
    let all = bundled().alerts(&AlertsRequest::default()).unwrap();
    let recent = bundled().alerts(&AlertsRequest { since: Some("2020".into()), ..Default::default() }).unwrap();
    assert!(recent.total < all.total && recent.items.iter().all(|a| a.period.as_str() >= "2020"));
    let page = bundled()
        .alerts(&AlertsRequest { page: Some(koshi_app::PageRequest { offset: 1, limit: 2 }), ..Default::default() })
        .unwrap();
    assert_eq!((page.total, page.items.len()), (all.total, 2));
    assert_eq!(page.items[0], all.items[1]);
    let unknown = bundled().alerts(&AlertsRequest { rule: Some("NO_SUCH_RULE".into()), ..Default::default() });
    assert!(
        matches!(&unknown, Err(AppError::Invalid { field, message }) if field == "rule" && message.contains("REGION_DEPARTURES_UP_20")),
        "{unknown:?}"
    );
    // What was known before the 2024 revision of the UN's estimates had no 2023 figure.
    let then = bundled()
        .alerts(&AlertsRequest {
            as_of: Some("2020-01-01".into()),
            rule: Some("KAZ_EXTERNAL_BALANCE_NEGATIVE".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(then.items.iter().all(|a| a.period.as_str() < "2020"), "{:?}", then.items);
}
