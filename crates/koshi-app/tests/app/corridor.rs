//! Corridors: the migrants each way are the bank's bilateral stocks, the risk view's shares are
//! computed from the figures it lists, what the bank lacks is named with its source, and a set of
//! countries gives every bilateral stock among them.

use koshi_app::AppError;
use koshi_app::corridor::{CorridorRequest, CorridorSetRequest};

use crate::bundled;

fn corridor(a: &str, b: &str) -> std::sync::Arc<koshi_app::corridor::CorridorReport> {
    bundled().corridor(&CorridorRequest { a: a.into(), b: b.into(), as_of: None }).unwrap()
}

#[test]
fn a_corridor_shows_the_migrants_each_way_and_every_bilateral_figure() {
    let c = corridor("kaz", "BLR");
    assert_eq!((c.a.as_str(), c.b.as_str()), ("KAZ", "BLR"));
    let born_kaz_in_blr = c.a_in_b.iter().find(|s| s.period == "2019").unwrap();
    assert_eq!(born_kaz_in_blr.key, "BLR.KAZ._T.STOCK");
    assert_eq!(born_kaz_in_blr.source, "UN_DESA");
    let born_blr_in_kaz = c.b_in_a.iter().find(|s| s.period == "2019").unwrap();
    assert_eq!(born_blr_in_kaz.value, 72_245.0, "the same figure as the country profile's origins");
    // Paper 000's trade table, both directions, is among the bilateral figures.
    let trade: Vec<_> = c.bilateral.iter().filter(|l| l.dataflow == "TRADE").collect();
    assert!(trade.iter().any(|l| l.reporter == "KAZ") && trade.iter().any(|l| l.reporter == "BLR"), "{trade:?}");
    assert!(c.bilateral.iter().any(|l| l.dataflow == "DIASPORA"));
}

#[test]
fn the_risk_view_computes_its_shares_from_the_figures_it_lists_and_names_what_is_missing() {
    let c = corridor("KAZ", "BLR");
    let viewpoints: Vec<(&str, &str)> = c.risk.iter().map(|v| (v.viewpoint, v.origin.as_str())).collect();
    assert_eq!(
        viewpoints,
        [
            ("migrants", "KAZ"),
            ("departure", "KAZ"),
            ("arrival", "KAZ"),
            ("migrants", "BLR"),
            ("departure", "BLR"),
            ("arrival", "BLR")
        ]
    );
    for v in &c.risk {
        for i in &v.indicators {
            match (i.value, i.missing) {
                (Some(value), None) if i.unit == "PCT" && i.inputs.len() == 2 && i.id != "STOCK_GROWTH" => {
                    let expected = 100.0 * i.inputs[0].value / i.inputs[1].value;
                    assert!((value - expected).abs() < 1e-9, "{} {}: {value} vs {expected}", v.viewpoint, i.id);
                }
                (Some(_), None) => assert!(!i.inputs.is_empty(), "{}", i.id),
                (None, Some(source)) => assert!(!source.is_empty()),
                (None, None) => assert!(
                    i.inputs.len() < 2 || i.id == "STOCK_GROWTH",
                    "{} {} has inputs but no value",
                    v.viewpoint,
                    i.id
                ),
                (Some(_), Some(_)) => panic!("{}: both a value and a missing source", i.id),
            }
        }
    }
    let arrival = c.risk.iter().find(|v| v.viewpoint == "arrival" && v.origin == "BLR").unwrap();
    let share = arrival.indicators.iter().find(|i| i.id == "IMMIGRANTS_PCT_POP").unwrap();
    assert_eq!(share.inputs[1].key, "KAZ._T._T", "Kazakhstan's population is the denominator");
    assert!(share.value.unwrap() > 0.1 && share.value.unwrap() < 1.0, "{:?}", share.value);
    assert!(c.risk.iter().flat_map(|v| &v.indicators).any(|i| i.id == "REMITTANCES_PCT_GDP" && i.missing.is_some()));
}

#[test]
fn a_set_of_countries_gives_every_bilateral_stock_among_them() {
    let set = bundled()
        .corridor_set(&CorridorSetRequest {
            countries: vec!["KAZ".into(), "rus".into(), "UZB".into()],
            year: None,
            as_of: None,
        })
        .unwrap();
    assert_eq!(set.year.as_deref(), Some("2019"));
    assert_eq!(set.links.len(), 6, "every ordered pair: {:?}", set.links);
    assert!(set.links.windows(2).all(|w| w[0].persons >= w[1].persons));
    let rus_in_kaz = set.links.iter().find(|l| l.origin == "RUS" && l.destination == "KAZ").unwrap();
    assert_eq!(rus_in_kaz.persons, 2_458_414.0);
    assert!(set.places.iter().all(|p| p.capital.is_some()));
    for bad in [vec!["KAZ".to_string()], vec!["KAZ".into(), "XXX".into()], (0..13).map(|i| format!("K{i}")).collect()] {
        assert!(
            matches!(
                bundled().corridor_set(&CorridorSetRequest { countries: bad.clone(), year: None, as_of: None }),
                Err(AppError::Invalid { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        bundled().corridor_set(&CorridorSetRequest {
            countries: vec!["KAZ".into(), "RUS".into()],
            year: Some("1066".into()),
            as_of: None
        }),
        Err(AppError::Invalid { .. })
    ));
    assert!(bundled().corridor(&CorridorRequest { a: "KAZ".into(), b: "KAZ".into(), as_of: None }).is_err());
}
