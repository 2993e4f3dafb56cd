//! The shipped policies and treaties load; a broken policy is refused with every problem named by
//! file and key; the treaty registry answers "in force on"; distribution and simulation.

use std::collections::BTreeMap;

use koshi_rules::{
    Date, Demand, DemandItem, DistributionRules, Facts, PolicyError, QuotaCell, QuotaState, RegionRequest, Request,
    SHIPPED_POLICIES, StaffGroup, Treaties, distribute, parse_policy, shipped_policy, simulate,
};

fn date(text: &str) -> Date {
    text.parse().expect("date")
}

#[test]
fn shipped_policies_parse() {
    for (name, _) in SHIPPED_POLICIES {
        let policy = shipped_policy(name).expect("listed").unwrap_or_else(|e| panic!("{e}"));
        assert!(!policy.rules.is_empty(), "{name}");
    }
    assert!(shipped_policy("nowhere").is_none());
}

#[test]
fn kz_parameters_are_dated_with_legal_references() {
    let kz = shipped_policy("kz").expect("listed").expect("parses");
    let threshold = |d: &str| kz.param("branch_headcount_waiver", date(d)).expect("in force").value.as_number();
    assert_eq!(threshold("2023-06-30"), Some(30.0));
    assert_eq!(threshold("2023-07-01"), Some(10.0));
    let mci = |d: &str| kz.param("mci", date(d)).expect("in force").value.as_number();
    assert_eq!(mci("2017-05-01"), Some(2269.0));
    assert_eq!(mci("2018-05-01"), Some(2405.0));
    for parameter in kz.params.values() {
        for value in &parameter.values {
            assert!(!value.legal.act.is_empty(), "{} from {} has no act", parameter.id, value.from);
        }
    }
    // The uncertain rules carry their reason into every decision that uses them.
    let uncertain: Vec<&str> = kz.rules.iter().filter(|r| r.uncertain.is_some()).map(|r| r.id.as_str()).collect();
    for id in ["KZ_CN_ORIGIN_QUOTA", "PERMIT_FEE", "LOCAL_CONTENT_1_2", "QUOTA_PRIORITY_PROJECT"] {
        assert!(uncertain.contains(&id), "{id} should be marked uncertain");
    }
}

#[test]
fn a_broken_policy_lists_every_problem_with_file_and_key() {
    let text = r#"
[policy]
id = "X"
title = "x"
[legal.a]
act = "A"
[[params.rate]]
from = "2020-13-01"
value = 0.5
[[params.rate]]
from = 2021-01-01
value = "high"
legal = "nowhere"
[[rules]]
id = "R1"
kind = "min_local_share"
categories = ["1"]
min_share = "rate"
ground = "9"
legal = "a"
[[rules]]
id = "R2"
kind = "teleport"
legal = "a"
[[rules]]
id = "R3"
kind = "fee"
amounts = "missing_param"
label = { en = "x", ru = "x" }
legal = "a"
colour = "red"
"#;
    let Err(PolicyError::Invalid { file, problems }) = parse_policy("broken.toml", text) else {
        panic!("the policy should be refused")
    };
    assert_eq!(file, "broken.toml");
    let listed: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    let expect = [
        "`policy.currency`: is missing",
        "`params.rate[0].from`: `2020-13-01` is not a date",
        "`params.rate[0].legal`: is missing",
        "`params.rate[1].legal`: no `[legal.nowhere]` is defined",
        "`rules.R2.kind`: unknown rule kind `teleport`",
        "`rules.R3.label.kk`: is missing",
        "`rules.R1.ground`: no `[grounds.9]` is defined",
        "`params.rate (from 2021-01-01)`: rule `R1` needs a non-negative number here, found text",
    ];
    for needle in expect {
        assert!(listed.iter().any(|p| p.contains(needle)), "{needle:?} not among {listed:#?}");
    }
    let message = parse_policy("broken.toml", text).expect_err("refused").to_string();
    assert!(message.starts_with("broken.toml: "), "{message}");
    assert!(matches!(parse_policy("bad.toml", "[policy"), Err(PolicyError::Syntax { .. })));
}

#[test]
fn the_treaty_registry_answers_in_force_on_a_date() {
    let treaties = Treaties::standard().expect("loads");
    let eaeu = treaties.get("EAEU-2014").expect("EAEU");
    assert!(!eaeu.in_force_on(date("2014-12-31")));
    assert!(eaeu.in_force_on(date("2015-01-01")));
    assert!(eaeu.binds("KZ", date("2015-01-01")));
    assert!(!eaeu.binds("KG", date("2015-08-11")));
    assert!(eaeu.binds("KG", date("2015-08-12")));
    assert!(!eaeu.binds("UZ", date("2024-01-01")));
    let cu = treaties.get("CU-MIGRANT-WORKERS-2010").expect("2010 agreement");
    assert!(cu.in_force_on(date("2014-12-31")) && !cu.in_force_on(date("2015-01-01")));
    // Not found means never in force, and says so.
    let china = treaties.get("KZ-CN-2013").expect("KZ-CN");
    assert!(!china.in_force_on(date("2024-01-01")));
    assert!(china.uncertain.as_deref().is_some_and(|u| u.contains("NOT FOUND")));
    // The Kazakhstan–Belarus agreements of papers 000 and 004.
    for id in ["KZ-BY-MIGRATION-2019", "KZ-BY-FRIENDSHIP-1996", "KZ-BY-RESIDENTS-1996", "KZ-BY-ECONOMIC-2009"] {
        let t = treaties.get(id).unwrap_or_else(|| panic!("{id}"));
        assert!(t.source.contains("paper 00"), "{id} cites its paper");
    }
    assert_eq!(treaties.get("KZ-BY-MIGRATION-2019").and_then(|t| t.signed), Some(date("2019-10-25")));
}

#[test]
fn distribution_is_pro_rata_with_largest_remainders_and_never_overallocates() {
    let requests = vec![
        RegionRequest { region: "KZ-23".into(), category: "3".into(), places: 5000 },
        RegionRequest { region: "KZ-75".into(), category: "3".into(), places: 3000 },
        RegionRequest { region: "KZ-79".into(), category: "4".into(), places: 1001 },
    ];
    let d = distribute(1000, &requests, DistributionRules { reserve_share: 0.05 });
    let allocated: u64 = d.allocations.iter().map(|a| a.allocated).sum();
    assert_eq!(d.reserve, 50);
    assert_eq!(allocated + d.reserve, 1000);
    let by_region: BTreeMap<&str, u64> = d.allocations.iter().map(|a| (a.region.as_str(), a.allocated)).collect();
    // 950 × 5000/9001 = 527.72, × 3000/9001 = 316.63, × 1001/9001 = 105.65 → 527+316+105 = 948, two remainders.
    assert_eq!(by_region["KZ-23"], 528);
    assert_eq!(by_region["KZ-75"], 316);
    assert_eq!(by_region["KZ-79"], 106);
    assert!(d.method.contains("assumption"));
    // Requests below the quota are met in full; the rest joins the reserve.
    let small = distribute(
        1000,
        &requests[..1].iter().map(|r| RegionRequest { places: 10, ..r.clone() }).collect::<Vec<_>>(),
        DistributionRules { reserve_share: 0.05 },
    );
    assert_eq!(small.allocations[0].allocated, 10);
    assert_eq!(small.reserve, 990);
}

#[test]
fn simulation_compares_two_policies_on_the_same_demand() {
    let kz = shipped_policy("kz").expect("listed").expect("parses");
    // Policy B: a 40% floor for categories 1–2.
    let b = kz
        .with_overrides(
            "b.toml",
            "[[params.min_local_share_1_2]]\nfrom = 2012-03-11\nvalue = 0.40\nlegal = { act = \"scenario\" }\n",
        )
        .expect("override parses");
    let facts = Facts {
        employer: koshi_rules::Employer { activity_group: Some("A".into()), ..Default::default() },
        staff: vec![
            StaffGroup { category: "2".into(), local: true, count: 5, ..Default::default() },
            StaffGroup { category: "2".into(), count: 2, nationality: Some("TR".into()), ..Default::default() },
            StaffGroup { category: "3".into(), local: true, count: 100, ..Default::default() },
        ],
        ..Facts::default()
    };
    let manager =
        Request { nationality: "TR".into(), category: "2".into(), regions: vec!["KZ-75".into()], ..Request::default() };
    let specialist =
        Request { nationality: "UZ".into(), category: "3".into(), regions: vec!["KZ-75".into()], ..Request::default() };
    let russian =
        Request { nationality: "RU".into(), category: "3".into(), regions: vec!["KZ-75".into()], ..Request::default() };
    let demand = Demand {
        date: Some(date("2024-03-01")),
        quota: QuotaState {
            cells: vec![QuotaCell {
                line: "general".into(),
                region: "KZ-75".into(),
                category: "*".into(),
                allocated: 5,
                used: 0,
            }],
        },
        items: vec![
            DemandItem { request: manager, facts: facts.clone(), times: 4 },
            DemandItem { request: specialist, facts: facts.clone(), times: 4 },
            DemandItem { request: russian, facts, times: 2 },
        ],
    };
    let comparison = simulate(&kz, &b, &Treaties::standard().expect("loads"), &demand, date("2024-03-01"));
    // A: a manager makes 5 of 8 = 62.5% < 70% and is refused; specialists (5 of 7 = 71.4% in categories
    // 1–2, 100 of 101 in 3–4) take 4 of the 5 places.
    assert_eq!(comparison.a.permits.get("KZ-75/2"), None);
    assert_eq!(comparison.a.permits["KZ-75/3"], 4);
    assert_eq!(comparison.a.refusals_by_ground["4"], 4);
    assert_eq!(comparison.a.exempt, 2);
    // B: managers pass at 40%, take 4 places; one specialist gets the last place, 3 refused on ground 2.
    assert_eq!(comparison.b.permits["KZ-75/2"], 4);
    assert_eq!(comparison.b.permits["KZ-75/3"], 1);
    assert_eq!(comparison.b.refusals_by_ground["2"], 3);
    assert!((comparison.a.fees - 4.0 * 179.0 * 3692.0).abs() < 0.5);
    assert!((comparison.b.fees - (4.0 * 158.0 + 179.0) * 3692.0).abs() < 0.5);
}
