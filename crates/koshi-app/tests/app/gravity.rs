//! gravity use cases in process: published results on the fixest and Korean example files, the
//! UN DESA panel, push–pull with paper 003's Table 4 corridor, counterfactuals and the
//! potential index.

use koshi_app::gravity::{
    CorridorRequest, EstimatorChoice, FitReport, FitRequest, GravityData, GravityModel, PanelRequest, PotentialRequest,
    PushPullRequest,
};
use koshi_app::{AppError, ErrorKind, PageRequest};

use crate::bundled;

const TRADE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/gravity/fixest_trade.csv");
const KOREA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/gravity/korea_gravity.csv");
const PANEL_FORMULA: &str = "flow ~ log(dist) + contig + eaeu | orig^year + dest^year";

fn file(path: &str) -> GravityData {
    GravityData::File { path: path.into() }
}

fn estimate(report: &FitReport, term: &str) -> f64 {
    coefficient(report, term).estimate
}

fn coefficient<'a>(report: &'a FitReport, term: &str) -> &'a koshi_app::gravity::CoefficientRow {
    report.coefficients.iter().find(|c| c.term == term).unwrap_or_else(|| panic!("no {term}: {report:?}"))
}

fn invalid_field(e: &AppError) -> &str {
    match e {
        AppError::Invalid { field, .. } => field,
        other => panic!("not an invalid request: {other:?}"),
    }
}

#[test]
fn fixest_trade_example() {
    let app = bundled();
    let formula = "Euros ~ log(dist_km) | Origin + Destination + Product + Year";
    let mut model = GravityModel::new(formula, file(TRADE));
    model.vcov = Some("cluster(Origin)".into());
    let v = app.gravity_fit(&FitRequest::new(model.clone())).unwrap();
    let b = coefficient(&v, "log(dist_km)");
    // fixest's published example: -1.52787 (0.115678), clustered by origin.
    assert!((b.estimate - (-1.52787)).abs() < 5e-6, "{b:?}");
    assert!((b.std_error - 0.115678).abs() < 5e-7, "{b:?}");
    assert_eq!(v.summary.n_obs, 38_325);
    assert_eq!(v.summary.dropped.total, 0);
    assert!(v.summary.converged);
    assert!(v.summary.iterations > 1 && v.summary.deviance > 0.0 && v.summary.pseudo_r2 > 0.5);
    assert_eq!(v.summary.vcov, "cluster(Origin)");
    // The default vcov clusters by the first fixed effect: the same here.
    model.vcov = None;
    let default = app.gravity_fit(&FitRequest::new(model.clone())).unwrap();
    assert_eq!(default.summary.vcov, "cluster(Origin)");
    // OLS on logs drops nothing here (no zero flows) and gives a different, still negative, slope.
    model.estimator = EstimatorChoice::Ols;
    let ols = app.gravity_fit(&FitRequest::new(model)).unwrap();
    let b_ols = estimate(&ols, "log(dist_km)");
    assert!(b_ols < 0.0 && (b_ols - (-1.52787)).abs() > 0.01, "{b_ols}");
    assert!(ols.summary.is_ols());
}

#[test]
fn korea_2020_distance_decay() {
    let app = bundled();
    let mut model = GravityModel::new("flow ~ orig + dest + log(dist_cent)", file(KOREA));
    model.filter = Some("year=2020".into());
    model.estimator = EstimatorChoice::Poisson;
    let v = app.gravity_fit(&FitRequest::new(model)).unwrap();
    let b = estimate(&v, "log(dist_cent)");
    assert!((b - (-0.920)).abs() < 5e-4, "distance decay {b}");
    assert_eq!(v.summary.n_obs, 272, "17 intra-regional rows have log(0) and drop out");
    assert_eq!(v.summary.dropped.missing, 17);

    let mut hd = GravityModel::new("flow ~ log(dist_cent) | orig + dest", file(KOREA));
    hd.filter = Some("year=2020".into());
    let mut request = FitRequest::new(hd);
    request.fixed_effects = true;
    request.fitted = true;
    let r = app.gravity_fit(&request).unwrap();
    assert!((estimate(&r, "log(dist_cent)") - b).abs() < 1e-7);
    let fitted = r.fitted.as_ref().unwrap();
    assert_eq!((fitted.total, fitted.items.len()), (272, 272));
    assert_eq!(r.fixed_effects.as_ref().unwrap().len(), 17 + 17);
    // Fitted values a page at a time: the same rows.
    request.fitted_page = Some(PageRequest { offset: 270, limit: 10 });
    let page = app.gravity_fit(&request).unwrap();
    let page = page.fitted.unwrap();
    assert_eq!(page.total, 272);
    assert_eq!(page.items, fitted.items[270..]);
}

#[test]
fn bad_requests_name_their_field() {
    let app = bundled();
    let model = || {
        let mut m = GravityModel::new("flow ~ log(dist_cent) | orig + dest", file(KOREA));
        m.filter = Some("year=2020".into());
        m
    };
    let fit = |m: GravityModel| app.gravity_fit(&FitRequest::new(m)).unwrap_err();
    let mut m = model();
    m.conf_level = 1.0;
    assert_eq!(invalid_field(&fit(m)), "conf_level");
    let mut m = model();
    m.vcov = Some("clusters(orig".into());
    assert_eq!(invalid_field(&fit(m)), "vcov");
    let mut m = model();
    m.small_sample = "sas".into();
    assert_eq!(invalid_field(&fit(m)), "small_sample");
    let mut m = model();
    m.formula = "flow log(dist)".into();
    assert_eq!(invalid_field(&fit(m)), "formula");
    let mut m = model();
    m.filter = Some("year=1800".into());
    assert_eq!(invalid_field(&fit(m)), "filter");
    let mut m = model();
    m.filter = Some("yaer=2020".into());
    let e = fit(m);
    assert!(e.to_string().contains("no column `yaer`"), "{e}");
    let e = fit(GravityModel::new("flow ~ log(dist)", file("/no/such/file.csv")));
    assert!(matches!(e, AppError::File { .. }), "{e:?}");
    let e = fit(GravityModel::new("value ~ log(dist)", GravityData::named("NO_SUCH", None)));
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e:?}");
    assert_eq!(e.code(), "UNKNOWN_DATAFLOW");
    let mut r = FitRequest::new(model());
    r.counterfactuals = vec!["dist_cent*=x".into()];
    assert_eq!(invalid_field(&app.gravity_fit(&r).unwrap_err()), "counterfactual");
    r.counterfactuals = vec!["dist_cent*=0.5 where orig=Seoul".into()];
    r.within = Some("dest".into());
    assert_eq!(invalid_field(&app.gravity_fit(&r).unwrap_err()), "within");
    let mut c = CorridorRequest { partners: vec![], ..CorridorRequest::default() };
    let potential = |c: &CorridorRequest| {
        app.gravity_potential(&PotentialRequest { corridor: c.clone(), fit_undesa: false }).unwrap_err()
    };
    assert_eq!(invalid_field(&potential(&c)), "partners");
    c = CorridorRequest { c: Some(f64::NAN), ..CorridorRequest::default() };
    assert_eq!(invalid_field(&potential(&c)), "c");
}

#[test]
fn a_bilateral_dataflow_gets_distances_and_borders_from_the_geography() {
    let app = bundled();
    let mut model = GravityModel::new("value ~ log(dist) + contig", GravityData::named("LAB_MIG", None));
    model.filter = Some("measure=LAB_MIGRANTS".into());
    model.vcov = Some("hetero".into());
    let mut request = FitRequest::new(model);
    request.fitted = true;
    let r = app.gravity_fit(&request).unwrap();
    // Kazakhstan's partners in LAB_MIG all border it: contig is constant and goes with the intercept.
    assert_eq!(r.summary.collinear, ["contig"]);
    assert!(r.summary.n_obs >= 4, "{:?}", r.summary);
    let catalogue = app.catalogue().unwrap();
    let km = catalogue.geography.distance_km("KAZ", "UZB").unwrap();
    assert!((km / 1_104.0 - 1.0).abs() < 0.02, "Astana–Tashkent {km} km");
    // The table's dist is the catalogue's great circle: selecting on that exact figure finds
    // the Uzbek row (Rust prints floats so that they read back to the same number).
    request.counterfactuals = vec!["dist*=0.5 where counterpart=CHN".to_string()];
    request.within = Some(format!("dist={km}"));
    request.fitted = false;
    let cf = app.gravity_fit(&request).unwrap();
    let rows = cf.counterfactual.unwrap();
    let scopes: Vec<&str> = rows.iter().map(|r| r.scope.as_str()).collect();
    assert_eq!(scopes, ["all rows".to_string(), "changed rows".into(), format!("within dist={km}")]);
    assert_eq!(rows[2].rows, 1, "{rows:?}");
    // Halving the distance multiplies the fitted flow by 0.5^β.
    let changed = &rows[1];
    assert_eq!(changed.rows, 1);
    let beta = estimate(&r, "log(dist)");
    assert!((changed.scenario / changed.baseline - 0.5f64.powf(beta)).abs() < 1e-9, "{changed:?}");
}

#[test]
fn undesa_panel_size_and_distance_elasticity() {
    let app = bundled();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("panel.csv");
    let s = app.gravity_panel(&PanelRequest { out: Some(out.clone()) }).unwrap();
    // 230 countries with coordinates and UN DESA data, all ordered pairs, 7 years.
    assert_eq!((s.origins, s.destinations), (230, 230));
    assert_eq!(s.years, [1990, 1995, 2000, 2005, 2010, 2015, 2019]);
    assert_eq!(s.rows, 230 * 229 * 7);
    // EAEU at mid-year: 2015 without Kyrgyzstan (joined in August) 4·3, 2019 5·4 ordered pairs.
    assert_eq!(s.eaeu_rows, 12 + 20);
    assert_eq!(s.written_to.as_deref(), Some(out.to_str().unwrap()));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 1 + 230 * 229 * 7);
    let kaz_uzb = text.lines().find(|l| l.starts_with("UZB,KAZ,2019,")).unwrap();
    let cells: Vec<&str> = kaz_uzb.split(',').collect();
    assert_eq!(cells[3], "294395", "UN DESA 2019: Uzbek-born in Kazakhstan");
    let km: f64 = cells[4].parse().unwrap();
    // Paper 003's Table 4 prints 1,104 km from Kazakhstan's capital to Uzbekistan.
    assert!((km / 1_104.0 - 1.0).abs() < 0.02, "Astana–Tashkent great circle {km} km");
    assert_eq!(cells[5], "1", "land border");
    // Without a file nothing is written and the summary is the same.
    let again = app.gravity_panel(&PanelRequest::default()).unwrap();
    assert_eq!(again.written_to, None);
    assert_eq!(again.rows, s.rows);
    // Built once for this state of the bank, however many gravity requests use it.
    assert_eq!(app.panel_computations(), 1);

    let v = app.gravity_fit(&FitRequest::new(GravityModel::new(PANEL_FORMULA, GravityData::UndesaPanel))).unwrap();
    let dist = estimate(&v, "log(dist)");
    assert!((-2.0..-0.5).contains(&dist), "distance elasticity {dist}");
    assert!(estimate(&v, "contig") > 0.0);
    assert!(v.summary.n_obs > 300_000);
}

#[test]
fn push_pull_shows_table_4_corridor() {
    let app = bundled();
    let model = GravityModel::new("flow ~ log(dist) + contig | orig + dest + year", GravityData::UndesaPanel);
    let v = app.gravity_push_pull(&PushPullRequest::new(model)).unwrap();
    assert_eq!(v.push.len(), 20);
    assert_eq!(v.push[0].rank, 1);
    assert!(v.push[0].estimate >= v.push[1].estimate);
    assert!(v.origins >= 200 && v.destinations >= 200);
    let c = &v.corridor;
    assert_eq!(c.destination, "KAZ");
    let names: Vec<&str> = c.partners.iter().map(|p| p.partner.as_str()).collect();
    assert_eq!(names, ["CHN", "RUS", "UZB", "KGZ"]);
    let row = |p: &str| c.partners.iter().find(|r| r.partner == p).unwrap();
    // Paper 003, Table 4, as stored in the bank.
    let expect = [
        ("CHN", 1386.4, 11_713.0, 3_662.0, 12_237.7, 1_533.0),
        ("RUS", 144.5, 11_209.0, 2_280.0, 1_577.5, 7_600.0),
        ("UZB", 32.4, 3_012.0, 1_104.0, 48.7, 2_203.0),
        ("KGZ", 6.2, 14_733.0, 948.0, 7.6, 980.0),
    ];
    for (p, pop, lab, dist, gdp, border) in expect {
        let r = row(p);
        assert!((r.population_mln.unwrap() - pop).abs() < 1e-6, "{r:?}");
        assert_eq!(r.labour_migrants, Some(lab), "{r:?}");
        assert_eq!(r.distance_to_capital_km, Some(dist), "{r:?}");
        assert!((r.gdp_bn_usd.unwrap() - gdp).abs() < 1e-6, "{r:?}");
        assert_eq!(r.border_km, Some(border), "{r:?}");
        assert!(r.push_rank.unwrap() >= 1, "{r:?}");
        // The great circle between capitals is within a few per cent of the paper's distance.
        assert!((r.great_circle_km.unwrap() / dist - 1.0).abs() < 0.03, "{r:?}");
    }
    // Russia's and Uzbekistan's push into the world exceed Kyrgyzstan's (larger diasporas).
    assert!(row("RUS").push.unwrap() > row("KGZ").push.unwrap());
    // The potential index uses the fitted distance elasticity; shares add up to 100.
    let total: f64 = c.partners.iter().map(|r| r.potential_share_pct.unwrap()).sum();
    assert!((total - 100.0).abs() < 1e-9);
    assert!((c.elasticities.distance + estimate_pp(&v, "log(dist)")).abs() < 1e-12);
    assert!(c.destination_pull.is_some());
}

fn estimate_pp(v: &koshi_app::gravity::PushPullReport, term: &str) -> f64 {
    v.coefficients.iter().find(|c| c.term == term).unwrap().estimate
}

#[test]
fn potential_index_follows_its_formula() {
    let app = bundled();
    let corridor = CorridorRequest { a: Some(1.0), b: Some(1.0), c: Some(2.0), ..CorridorRequest::default() };
    let v = app.gravity_potential(&PotentialRequest { corridor, fit_undesa: false }).unwrap();
    assert!(v.fit.is_none());
    let p = |code: &str| v.partners.iter().find(|r| r.partner == code).unwrap().potential.unwrap();
    // P = pop · GDP / dist² with Table 4's figures.
    assert!((p("CHN") - 1386.4 * 12_237.7 / 3_662.0f64.powi(2)).abs() < 1e-9);
    assert!((p("KGZ") - 6.2 * 7.6 / 948.0f64.powi(2)).abs() < 1e-12);
    let top = v.partners.iter().max_by(|a, b| a.potential.unwrap().total_cmp(&b.potential.unwrap())).unwrap();
    assert_eq!(top.partner, "CHN");
    assert_eq!(top.potential_relative, Some(100.0));
    // A stronger distance decay favours the nearer partners.
    let corridor = CorridorRequest { a: Some(1.0), b: Some(1.0), c: Some(3.0), ..CorridorRequest::default() };
    let steeper = app.gravity_potential(&PotentialRequest { corridor, fit_undesa: false }).unwrap();
    let share = |r: &koshi_app::gravity::PotentialReport, code: &str| {
        r.partners.iter().find(|p| p.partner == code).unwrap().potential_share_pct.unwrap()
    };
    assert!(share(&steeper, "KGZ") > share(&v, "KGZ"));
}

#[test]
fn counterfactual_eaeu_membership_for_uzbekistan() {
    let app = bundled();
    let mut request = FitRequest::new(GravityModel::new(PANEL_FORMULA, GravityData::UndesaPanel));
    request.counterfactuals = vec!["eaeu=1 where orig=UZB and dest=KAZ,RUS,KGZ,ARM,BLR and year=2019".into()];
    request.within = Some("dest=KAZ and year=2019".into());
    let v = app.gravity_fit(&request).unwrap();
    let eaeu = estimate(&v, "eaeu");
    let cf = v.counterfactual.as_ref().unwrap();
    let changed = cf.iter().find(|r| r.scope == "changed rows").unwrap();
    assert_eq!(changed.rows, 5);
    // All changed rows get exp(β) times their fitted flow.
    let ratio = changed.scenario / changed.baseline;
    assert!((ratio - eaeu.exp()).abs() < 1e-9 * ratio, "{ratio} vs exp({eaeu})");
    assert!(changed.std_error > 0.0 && changed.ci_low < changed.percent_change);
    let all = cf.iter().find(|r| r.scope == "all rows").unwrap();
    assert!(all.percent_change > 0.0 && all.percent_change < changed.percent_change);
    assert!(cf.iter().any(|r| r.scope == "within dest=KAZ and year=2019"));

    request.counterfactuals = vec!["gdp=1 where orig=UZB".into()];
    let e = app.gravity_fit(&request).unwrap_err();
    assert_eq!(invalid_field(&e), "counterfactual");
    assert!(e.to_string().contains("`gdp` is not a numeric column"), "{e}");
}

#[test]
fn potential_elasticities_fitted_on_the_undesa_panel() {
    let app = bundled();
    let corridor = CorridorRequest { b: Some(0.5), ..CorridorRequest::default() };
    let v = app.gravity_potential(&PotentialRequest { corridor, fit_undesa: true }).unwrap();
    let fit = v.fit.as_ref().unwrap();
    assert_eq!(fit.formula, koshi_app::gravity::POTENTIAL_FIT_FORMULA);
    assert!(fit.n_obs > 300_000, "{}", fit.n_obs);
    let beta = |term: &str| fit.coefficients.iter().find(|c| c.term == term).unwrap().estimate;
    // a = β of log(pop_o), c = −β of log(dist); b stays as given (no GDP panel in the bank).
    assert_eq!(v.elasticities.population, beta("log(pop_o)"));
    assert_eq!(v.elasticities.distance, -beta("log(dist)"));
    assert_eq!(v.elasticities.gdp, 0.5);
    assert!(v.elasticities.population > 0.0 && v.elasticities.distance > 0.0, "{:?}", v.elasticities);
    let total: f64 = v.partners.iter().map(|r| r.potential_share_pct.unwrap()).sum();
    assert!((total - 100.0).abs() < 1e-9);
}
