//! What changed between vintages: the view known on a date against the view now is exactly the
//! difference of the two as-of answers; the correction release of a paper's trade table shows as
//! revisions from its as-printed figures; the latest releases are listed newest first.

use std::collections::BTreeMap;

use koshi_app::AppError;
use koshi_app::bank::{Figures, QueryRequest};
use koshi_app::changes::{ChangeKind, ChangesRequest};

use crate::bundled;

fn view(dataflow: &str, as_of: Option<&str>) -> BTreeMap<(String, String), (Option<f64>, String, String)> {
    let report = bundled()
        .query(&QueryRequest {
            dataflow: dataflow.into(),
            as_of: as_of.map(str::to_string),
            harmonised: true,
            ..QueryRequest::default()
        })
        .unwrap();
    let Figures::Harmonised(h) = report.items else { panic!("harmonised") };
    h.into_iter().map(|h| ((h.key.join("."), h.time_period), (h.value_base, h.source, h.release_label))).collect()
}

#[test]
fn the_changes_are_the_difference_of_the_two_as_of_answers() {
    for (dataflow, since) in [("TRADE", "2026-11-22"), ("MIG_INT", "2025-02-28"), ("MACRO", "2020-06-01")] {
        let report = bundled()
            .changes(&ChangesRequest { dataflow: dataflow.into(), since: since.into(), ..ChangesRequest::default() })
            .unwrap();
        let then = view(dataflow, Some(since));
        let now = view(dataflow, None);
        let added: Vec<_> = now.keys().filter(|k| !then.contains_key(*k)).collect();
        let withdrawn: Vec<_> = then.keys().filter(|k| !now.contains_key(*k)).collect();
        let revised: Vec<_> =
            now.iter().filter(|(k, v)| then.get(*k).is_some_and(|t| t != *v)).map(|(k, _)| k).collect();
        assert_eq!(report.counts.added, added.len(), "{dataflow}");
        assert_eq!(report.counts.withdrawn, withdrawn.len(), "{dataflow}");
        assert_eq!(report.counts.revised, revised.len(), "{dataflow}");
        assert_eq!(report.counts.unchanged + report.counts.revised + report.counts.added, now.len(), "{dataflow}");
        assert_eq!(report.total, report.items.len());
        for change in &report.items {
            let k = (change.key.clone(), change.period.clone());
            match change.kind {
                ChangeKind::Revised => {
                    assert_eq!(change.then.as_ref().unwrap().value, then[&k].0);
                    assert_eq!(change.now.as_ref().unwrap().value, now[&k].0);
                }
                ChangeKind::Added => assert!(added.contains(&&k)),
                ChangeKind::Withdrawn => assert!(withdrawn.contains(&&k)),
            }
        }
    }
}

#[test]
fn the_correction_of_a_paper_s_trade_table_is_a_set_of_revisions() {
    let report = bundled()
        .changes(&ChangesRequest { dataflow: "TRADE".into(), since: "2026-11-22".into(), ..ChangesRequest::default() })
        .unwrap();
    assert!(report.counts.revised > 0, "{:?}", report.counts);
    let first = &report.items[0];
    assert_eq!(first.kind, ChangeKind::Revised);
    assert_eq!(first.then.as_ref().unwrap().release, "as-printed");
    assert_eq!(first.now.as_ref().unwrap().release, "corrected");
    // The largest revisions come first.
    let sizes: Vec<f64> = report.items.iter().filter_map(|c| c.change_pct.map(f64::abs)).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
    // Known after the correction, nothing changed since.
    let after = bundled()
        .changes(&ChangesRequest { dataflow: "TRADE".into(), since: "2026-11-23".into(), ..ChangesRequest::default() })
        .unwrap();
    assert_eq!((after.counts.added, after.counts.revised, after.counts.withdrawn), (0, 0, 0));
    assert!(matches!(
        bundled().changes(&ChangesRequest {
            dataflow: "TRADE".into(),
            since: "last week".into(),
            ..ChangesRequest::default()
        }),
        Err(AppError::Invalid { .. })
    ));
}

#[test]
fn the_latest_releases_are_listed_newest_first_with_what_they_changed() {
    // The papers' corrections, three of the labour market's releases (2026), the 2024 internal migration release …
    let latest = bundled().latest_changes(7).unwrap();
    assert_eq!(latest.len(), 7);
    assert!(latest.windows(2).all(|w| w[0].release_date >= w[1].release_date));
    let trade = latest.iter().find(|r| r.dataflow == "TRADE").expect("the trade correction is among the latest");
    assert!(trade.counts.revised > 0 && trade.examples.len() <= 5);
    let internal = latest.iter().find(|r| r.dataflow == "MIG_INT").expect("the 2024 internal migration release");
    assert!(internal.counts.added >= 20 * 12, "a year of months for 20 regions: {:?}", internal.counts);
    let labour: Vec<&str> =
        latest.iter().filter(|r| r.dataflow == "LAB_MKT").map(|r| r.release_date.as_str()).collect();
    assert_eq!(labour, ["2026-09-01", "2026-03-30", "2026-03-01"], "the quarterly rate, the labour force, the wage");
    // The national quarterly rate adds 2024-Q1 to 2026-Q2 to the quarters of the table by region.
    assert_eq!(latest.iter().find(|r| r.dataflow == "LAB_MKT").unwrap().counts.added, 10);
    assert!(std::sync::Arc::ptr_eq(&latest, &bundled().latest_changes(7).unwrap()), "kept");
    assert!(bundled().latest_changes(0).is_err() && bundled().latest_changes(21).is_err());
}
