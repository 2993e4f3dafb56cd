//! Finding series by words in the three languages over the bundled bank: the same question in
//! English, Russian and Kazakh finds the same series, whose key the data API reads back.

use koshi_app::AppError;
use koshi_app::bank::QueryRequest;
use koshi_app::search::SearchRequest;

use crate::bundled;

fn first(q: &str) -> (String, String) {
    let report = bundled().search(&SearchRequest { q: q.into(), limit: None }).unwrap();
    let hit = report.items.first().unwrap_or_else(|| panic!("nothing found for {q}: {report:?}"));
    (hit.dataflow.clone(), hit.key.clone())
}

#[test]
fn net_migration_of_kazakhstan_in_three_languages() {
    let english = first("Kazakhstan net migration");
    assert_eq!(english.0, "MIG_EXT", "{english:?}");
    assert!(english.1.contains("REF_AREA=KAZ") && english.1.contains("MEASURE=NET"), "{english:?}");
    assert_eq!(first("чистая миграция Казахстан"), english);
    assert_eq!(first("Қазақстан көші-қон сальдосы"), english);
    // The key reads back as figures.
    let figures = bundled()
        .query(&QueryRequest { dataflow: english.0.clone(), keys: vec![english.1.clone()], ..QueryRequest::default() })
        .unwrap();
    assert!(figures.total > 0);
}

#[test]
fn regions_and_trade_by_their_names() {
    let (dataflow, key) = first("Almaty arrivals");
    assert_eq!(dataflow, "MIG_INT");
    assert!(key.contains("REF_AREA=KZ-75") && key.contains("MEASURE=ARR"), "{key}");
    let (dataflow, key) = first("Belarus exports");
    assert_eq!(dataflow, "TRADE", "{key}");
    assert!(key.contains("REF_AREA=BLR") && key.contains("MEASURE=EXP"), "{key}");
    assert!(bundled().search(&SearchRequest { q: "zzzz qqqq".into(), limit: None }).unwrap().items.is_empty());
    assert!(matches!(bundled().search(&SearchRequest { q: "  ".into(), limit: None }), Err(AppError::Invalid { .. })));
}
