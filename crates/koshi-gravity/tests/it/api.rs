use koshi_gravity::*;

#[test]
fn formula_parsing() {
    let f = Formula::parse("flow ~ log(dist) + contig | orig^year + dest^year + orig^dest").unwrap();
    assert_eq!(f.response.variable, "flow");
    assert_eq!(f.regressors.len(), 2);
    assert_eq!(f.regressors[0].transform, Transform::Log);
    assert_eq!(f.fixed_effects.len(), 3);
    assert_eq!(f.fixed_effects[2].variables, vec!["orig", "dest"]);
    assert_eq!(f.to_string(), "flow ~ log(dist) + contig | orig^year + dest^year + orig^dest");
    assert!(!Formula::parse("y ~ x - 1").unwrap().intercept);
    assert!(Formula::parse("y ~ x | a | b").is_err());
    assert!(Formula::parse("y x").is_err());
    assert!(Formula::parse("y ~ foo(x)").is_err());
}

#[test]
fn vcov_parsing() {
    assert_eq!(VcovSpec::parse("hetero").unwrap(), VcovSpec::Hetero);
    assert_eq!(VcovSpec::parse("iid").unwrap(), VcovSpec::Iid);
    let pair = VcovSpec::parse("cluster(pair)").unwrap();
    assert_eq!(pair, VcovSpec::Cluster(vec![FeTerm { variables: vec!["pair".into()] }]));
    let two = VcovSpec::parse("twoway(orig, dest)").unwrap();
    assert_eq!(two.to_string(), "cluster(orig, dest)");
    assert_eq!(VcovSpec::parse("~orig + dest").unwrap(), two);
    assert_eq!(VcovSpec::parse("cluster(orig^dest)").unwrap().to_string(), "cluster(orig^dest)");
    assert!(VcovSpec::parse("twoway(a)").is_err());
    assert!(VcovSpec::parse("bogus").is_err());
    assert_eq!(SmallSample::parse("stata").unwrap(), SmallSample::Stata);
}

fn small_panel() -> DataTable {
    let places = ["A", "B", "C", "D"];
    let (mut o, mut d, mut dist, mut flow) = (vec![], vec![], vec![], vec![]);
    let push = [3.0, 2.0, 1.0, 0.5];
    let pull = [0.2, 1.5, 0.7, 2.5];
    let mut k = 0.0;
    for (i, a) in places.iter().enumerate() {
        for (j, b) in places.iter().enumerate() {
            if i == j {
                continue;
            }
            k += 1.0;
            let dd = 50.0 + 37.0 * ((i * 7 + j * 3) % 5) as f64 + k;
            o.push(*a);
            d.push(*b);
            dist.push(dd);
            flow.push((push[i] + pull[j] - 1.1 * dd.ln() + 6.0).exp() * (1.0 + 0.1 * ((i + 2 * j) % 3) as f64));
        }
    }
    let mut t = DataTable::new();
    t.add_categorical("orig", &o).unwrap();
    t.add_categorical("dest", &d).unwrap();
    t.add_numeric("dist", dist).unwrap();
    t.add_numeric("flow", flow).unwrap();
    t
}

#[test]
fn push_pull_ranks_origins_and_destinations() {
    let t = small_panel();
    let fit = ppml(&t, "flow ~ log(dist) | orig + dest", &FitOptions::default()).unwrap();
    let pp = push_pull(&fit, "orig", "dest").unwrap();
    let push: Vec<&str> = pp.push.iter().map(|e| e.label.as_str()).collect();
    let pull: Vec<&str> = pp.pull.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(push, vec!["A", "B", "C", "D"]);
    assert_eq!(pull, vec!["D", "B", "C", "A"]);
    assert_eq!(pp.push[0].rank, 1);
    assert!((pp.push[0].relative - 1.0).abs() < 1e-12);
    // FE estimates reproduce the linear predictor.
    let o = fit.fixed_effect("orig").unwrap();
    let d = fit.fixed_effect("dest").unwrap();
    let b = fit.coefficient("log(dist)").unwrap().estimate;
    let dist = match t.column("dist").unwrap() {
        Column::Numeric(v) => v.clone(),
        _ => unreachable!(),
    };
    let labels = |c: &str| match t.column(c).unwrap() {
        Column::Categorical { codes, levels } => codes.iter().map(|&k| levels[k as usize].clone()).collect::<Vec<_>>(),
        _ => unreachable!(),
    };
    let (ol, dl) = (labels("orig"), labels("dest"));
    for (k, &row) in fit.rows.iter().enumerate() {
        let oi = o.labels.iter().position(|l| *l == ol[row]).unwrap();
        let di = d.labels.iter().position(|l| *l == dl[row]).unwrap();
        let eta = o.values[oi] + d.values[di] + b * dist[row].ln();
        assert!((eta - fit.linear_predictor[k]).abs() < 1e-7, "row {row}: {eta} vs {}", fit.linear_predictor[k]);
    }
    assert!(push_pull(&fit, "nope", "dest").is_err());
}

#[test]
fn counterfactual_distance_shock() {
    let t = small_panel();
    let fit = ppml(
        &t,
        "flow ~ log(dist) | orig + dest",
        &FitOptions { vcov: Some(VcovSpec::Hetero), ..FitOptions::default() },
    )
    .unwrap();
    let b = fit.coefficient("log(dist)").unwrap().estimate;
    let dist = match t.column("dist").unwrap() {
        Column::Numeric(v) => v.clone(),
        _ => unreachable!(),
    };
    let same = counterfactual(&fit, &t, &t, 0.95).unwrap();
    assert!(same.percent_change.abs() < 1e-12);
    let scen = t.with_numeric("dist", dist.iter().map(|d| d * 0.8).collect()).unwrap();
    let cf = counterfactual(&fit, &t, &scen, 0.95).unwrap();
    let expected = 100.0 * (0.8f64.powf(b) - 1.0);
    assert!((cf.percent_change - expected).abs() < 1e-9, "{} vs {expected}", cf.percent_change);
    // d/dβ of 100(0.8^β − 1) = 100·0.8^β·ln 0.8
    let se_b = fit.coefficient("log(dist)").unwrap().std_error;
    let expected_se = (100.0 * 0.8f64.powf(b) * 0.8f64.ln()).abs() * se_b;
    assert!(
        (cf.percent_change_se - expected_se).abs() < 1e-9 * expected_se.max(1.0),
        "{} vs {expected_se}",
        cf.percent_change_se
    );
    assert!(cf.ci_low < cf.percent_change && cf.percent_change < cf.ci_high);
}

#[test]
fn errors_on_bad_input() {
    let t = small_panel();
    assert!(matches!(ppml(&t, "flow ~ log(nope) | orig", &FitOptions::default()), Err(GravityError::UnknownColumn(_))));
    let mut neg = t.clone();
    neg.add_numeric("flow", vec![-1.0; t.nrows()]).unwrap();
    assert!(matches!(
        ppml(&neg, "flow ~ log(dist) | orig", &FitOptions::default()),
        Err(GravityError::NegativeResponse)
    ));
    let mut bad = DataTable::new();
    bad.add_numeric("a", vec![1.0, 2.0]).unwrap();
    assert!(bad.add_numeric("b", vec![1.0]).is_err());
}

#[test]
fn great_circle_distances() {
    // A quarter of a meridian, and London–Paris (≈ 343.5 km with R = 6,371 km).
    assert!(
        (great_circle_km(LatLon { lat: 0.0, lon: 0.0 }, LatLon { lat: 90.0, lon: 0.0 })
            - std::f64::consts::FRAC_PI_2 * EARTH_RADIUS_KM)
            .abs()
            < 1e-9
    );
    let lp = great_circle_km(LatLon { lat: 51.5074, lon: -0.1278 }, LatLon { lat: 48.8566, lon: 2.3522 });
    assert!((lp - 343.5).abs() < 1.0, "{lp}");
    assert_eq!(great_circle_km(LatLon { lat: 10.0, lon: 20.0 }, LatLon { lat: 10.0, lon: 20.0 }), 0.0);
    assert!(
        (great_circle_km(LatLon { lat: 0.0, lon: 0.0 }, LatLon { lat: 0.0, lon: 180.0 })
            - std::f64::consts::PI * EARTH_RADIUS_KM)
            .abs()
            < 1e-6
    );
}

#[test]
fn panel_is_rectangular_with_zeros_and_attributes() {
    let flows = vec![
        BilateralFlow { origin: "A".into(), destination: "B".into(), year: 2000, value: 5.0 },
        BilateralFlow { origin: "B".into(), destination: "C".into(), year: 2010, value: 7.0 },
        BilateralFlow { origin: "A".into(), destination: "A".into(), year: 2000, value: 99.0 },
        BilateralFlow { origin: "A".into(), destination: "X".into(), year: 2000, value: 1.0 },
    ];
    let mut inputs = PanelInputs::default();
    for (c, lat, lon) in [("A", 0.0, 0.0), ("B", 0.0, 1.0), ("C", 1.0, 0.0)] {
        inputs.coordinates.insert(c.into(), (lat, lon));
    }
    inputs.contiguous.insert(("B".into(), "A".into()));
    inputs.population.insert(("A".into(), 2000), 10.0);
    inputs.member_since.insert("A".into(), 2005);
    inputs.member_since.insert("B".into(), 2000);
    let p = build_panel(&flows, &inputs, PanelOptions::default()).unwrap();
    // Origins {A, B} × destinations {B, C} minus B→B, × years {2000, 2010}.
    assert_eq!(p.len(), 3 * 2);
    assert_eq!(p.without_coordinates, vec!["X".to_string()]);
    assert_eq!(p.filled_zeros, 4);
    assert_eq!(p.flow.iter().sum::<f64>(), 12.0);
    let i = (0..p.len()).find(|&i| p.origin[i] == "A" && p.destination[i] == "B" && p.year[i] == 2000).unwrap();
    assert_eq!((p.flow[i], p.contig[i], p.pop_orig[i], p.both_members[i]), (5.0, 1.0, 10.0, 0.0));
    assert!(p.pop_dest[i].is_nan());
    assert!((p.dist[i] - great_circle_km(LatLon { lat: 0.0, lon: 0.0 }, LatLon { lat: 0.0, lon: 1.0 })).abs() < 1e-12);
    let j = (0..p.len()).find(|&i| p.origin[i] == "A" && p.destination[i] == "B" && p.year[i] == 2010).unwrap();
    assert_eq!(p.both_members[j], 1.0);
    let t = p.to_table().unwrap();
    assert_eq!(t.nrows(), 6);
    let dup = [flows[0].clone(), flows[0].clone()];
    assert!(build_panel(&dup, &inputs, PanelOptions::default()).is_err());
}

#[test]
fn potential_index_ranks_partners() {
    let partners = [
        PartnerMass { partner: "near_small".into(), population: 6.2, gdp: 7.6, distance_km: 948.0 },
        PartnerMass { partner: "far_big".into(), population: 1386.4, gdp: 12237.7, distance_km: 3662.0 },
    ];
    let e = PotentialElasticities { population: 0.5, gdp: 1.0, distance: 1.2 };
    let p = gravitational_potential(&partners, e).unwrap();
    assert_eq!(p[0].partner, "far_big");
    let want = 1386.4f64.powf(0.5) * 12237.7 / 3662.0f64.powf(1.2);
    assert!((p[0].index / want - 1.0).abs() < 1e-12);
    assert_eq!(p[0].relative, 100.0);
    assert!((p[0].share_pct + p[1].share_pct - 100.0).abs() < 1e-12);
    let bad = [PartnerMass { partner: "x".into(), population: 0.0, gdp: 1.0, distance_km: 1.0 }];
    assert!(gravitational_potential(&bad, e).is_err());
}
