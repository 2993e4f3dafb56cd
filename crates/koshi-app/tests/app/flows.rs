//! Flows estimated from stocks, and migration indices, in process.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use koshi_app::bank::{Figures, QueryRequest, ReleasesRequest};
use koshi_app::flows::{
    FlowEstimateOutcome, FlowEstimateRequest, FlowMethod, FlowProgress, IndexItems, IndicesKind, IndicesReport,
    IndicesRequest, RegionBalance,
};
use koshi_app::{App, AppConfig, AppError, Date, ErrorKind, FixedClock};
use koshi_core::{ObsStatus, Observation};
use koshi_store::{Bank, ReleaseBatch};

use crate::{TODAY, bundled, fresh};

/// A copy of the bundled bank of its own, for tests that write (others read the shared one).
fn copy_of_bundled() -> (tempfile::TempDir, App) {
    let source = bundled().path().to_path_buf();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("bank.db");
    std::fs::copy(&source, &target).unwrap();
    // Nobody writes the shared bank after its load: its WAL holds the last commits as they are.
    let wal = source.with_extension("db-wal");
    if wal.exists() {
        std::fs::copy(&wal, target.with_extension("db-wal")).unwrap();
    }
    let app = fresh(target);
    (dir, app)
}

/// Another application over the same bank file, on another day.
fn on_day(path: &Path, today: Date) -> App {
    App::open(path, AppConfig { clock: Arc::new(FixedClock(today)), ..AppConfig::default() }).unwrap()
}

fn observations(app: &App, request: QueryRequest) -> Vec<koshi_app::bank::Observation> {
    match app.query(&request).unwrap().items {
        Figures::Observations(rows) => rows,
        Figures::Harmonised(_) => panic!("asked for observations"),
    }
}

/// The current figure of one source for a fully specified key and period, in base units.
fn figure(app: &App, dataflow: &str, key: &str, period: &str, source: &str) -> f64 {
    let rows = observations(
        app,
        QueryRequest {
            dataflow: dataflow.into(),
            keys: vec![key.into()],
            source: Some(source.into()),
            from: Some(period.into()),
            to: Some(period.into()),
            ..Default::default()
        },
    );
    let row = rows
        .iter()
        .find(|r| r.time_period == period)
        .unwrap_or_else(|| panic!("no {dataflow} {key} {period} from {source}"));
    row.value_base.unwrap()
}

fn releases(app: &App) -> usize {
    app.releases(&ReleasesRequest { dataflow: Some("MIG_FLOW_EST".into()), page: None }).unwrap().total
}

fn index(report: &IndicesReport, name: &str) -> f64 {
    let IndexItems::Indices(items) = &report.items else { panic!("not an origin–destination report") };
    items.iter().find(|i| i.index == name).map(|i| i.value).unwrap_or_else(|| panic!("no index {name}"))
}

fn regions(report: &IndicesReport) -> &[RegionBalance] {
    let IndexItems::Regions(items) = &report.items else { panic!("not a regional report") };
    items
}

fn invalid_field(e: AppError) -> String {
    match e {
        AppError::Invalid { field, .. } => field,
        other => panic!("not an invalid request: {other}"),
    }
}

#[test]
fn demographic_accounting_1990_1995_is_written_once_and_honours_the_stock_margins() {
    let (dir, app) = copy_of_bundled();
    let request = FlowEstimateRequest { method: FlowMethod::Demo, ..FlowEstimateRequest::new(1990, 1995) };

    // A dry run estimates and writes nothing.
    let generation = app.generation().unwrap();
    let dry = app.estimate_flows(&FlowEstimateRequest { dry_run: true, ..request.clone() }, &mut |_| {}).unwrap();
    assert_eq!(dry.outcome, FlowEstimateOutcome::DryRun);
    assert_eq!(dry.release_id, None);
    assert_eq!(app.generation().unwrap(), generation);
    assert_eq!(releases(&app), 0);

    let mut seen = Vec::new();
    let s = app.estimate_flows(&request, &mut |p| seen.push(p)).unwrap();
    assert_eq!(s.outcome, FlowEstimateOutcome::Created);
    assert!(s.release_id.is_some());
    assert_eq!(s.period, "1990/1995");
    assert!(s.definition.contains("demographic accounting"), "{}", s.definition);
    assert!(s.converged && s.iterations > 0);
    assert_eq!(seen.first(), Some(&FlowProgress::Inputs));
    assert!(seen.contains(&FlowProgress::Estimating));
    assert_eq!(seen.last(), Some(&FlowProgress::Writing { written: s.observations, of: s.observations }));
    // What the dry run said is what was written.
    assert_eq!((dry.observations, dry.total_movers, &dry.margins), (s.observations, s.total_movers, &s.margins));
    assert_eq!((&dry.label, &dry.definition, &dry.release_date), (&s.label, &s.definition, &s.release_date));
    // Dated by its inputs (the UN DESA 2019 release), which precede today.
    assert_eq!(s.release_date, "2019-09-17");

    // The stored table, read back from the bank.
    let rows = observations(
        &app,
        QueryRequest {
            dataflow: "MIG_FLOW_EST".into(),
            from: Some("1990/1995".into()),
            to: Some("1990/1995".into()),
            ..Default::default()
        },
    );
    assert_eq!(rows.len(), s.observations);
    let estimated = ObsStatus::Estimated.code();
    assert!(rows.iter().all(|r| r.source == "KOSHI_EST" && r.status == estimated && r.time_period == "1990/1995"));
    let (mut inflow, mut outflow) = (HashMap::<String, f64>::new(), HashMap::<String, f64>::new());
    let mut world = 0.0;
    for r in &rows {
        let v = r.value.unwrap();
        let (dest, orig) = (r.key[0].clone(), r.key[1].clone());
        assert!(v > 0.0 && dest != orig);
        *inflow.entry(dest).or_default() += v;
        *outflow.entry(orig).or_default() += v;
        world += v;
    }
    assert!((1e7..1e8).contains(&world), "world total of moves {world}");
    assert!((world - s.total_movers).abs() < 1e-6 * world);

    // Margins: each country's net migration from the stored flows equals what its stocks imply
    // (end residents − births − (start residents − deaths)), to 1e-6.
    assert!(s.margins.len() > 200);
    assert_eq!(s.margins.len(), s.regions);
    for m in &s.margins {
        let c = &m.region;
        let net = inflow.get(c).copied().unwrap_or(0.0) - outflow.get(c).copied().unwrap_or(0.0);
        let stocks = (m.residents_end - m.births) - (m.residents_start - m.deaths);
        assert!((net - stocks).abs() <= 1e-6 * m.residents_start.max(1.0), "{c}: flows {net} vs stocks {stocks}");
    }
    // Kazakhstan's residents are the bank's UN DESA populations of the same vintage.
    let kaz = s.margins.iter().find(|m| m.region == "KAZ").unwrap();
    let pop = |y: &str| {
        let rows = observations(
            &app,
            QueryRequest {
                dataflow: "POP".into(),
                keys: vec!["KAZ._T._T".into()],
                source: Some("UN_DESA".into()),
                as_of: Some("2019-09-17".into()),
                ..Default::default()
            },
        );
        rows.iter().find(|r| r.time_period == y).and_then(|r| r.value_base).unwrap()
    };
    assert!((kaz.residents_start - pop("1990")).abs() < 1e-6 * pop("1990"));
    assert!((kaz.residents_end - pop("1995")).abs() < 1e-6 * pop("1995"));
    assert!(kaz.net_from_flows < -300_000.0, "the 1990s emigration from Kazakhstan: {kaz:?}");
    assert!(s.largest_flows.windows(2).all(|w| w[0].persons >= w[1].persons));

    // Idempotent: the same estimate again creates nothing.
    let before = releases(&app);
    let again = app.estimate_flows(&request, &mut |_| {}).unwrap();
    assert_eq!(again.outcome, FlowEstimateOutcome::Unchanged);
    assert_eq!(again.release_id, s.release_id);
    assert_eq!(releases(&app), before);

    // Another method is another release; indices then need to be told which.
    let diff = app.estimate_flows(&FlowEstimateRequest { method: FlowMethod::Diff, ..request.clone() }, &mut |_| {});
    assert_eq!(diff.unwrap().outcome, FlowEstimateOutcome::Created);
    assert_eq!(releases(&app), before + 1);
    let period =
        IndicesRequest { dataflow: "MIG_FLOW_EST".into(), year: Some("1990/1995".into()), ..Default::default() };
    assert_eq!(invalid_field(app.indices(&period).unwrap_err()), "release");
    let idx =
        app.indices(&IndicesRequest { year: Some("1995".into()), release: Some("demo".into()), ..period }).unwrap();
    assert_eq!(idx.kind, IndicesKind::OriginDestination);
    assert_eq!(idx.period.as_deref(), Some("1990/1995"));
    assert_eq!(idx.total, idx.items.len());
    assert!((index(&idx, "migrants") - world).abs() < 1e-6 * world);
    assert!((0.0..=100.0).contains(&index(&idx, "effectiveness")));
    assert!((0.0..=1.0).contains(&index(&idx, "connectivity")));
    assert!(index(&idx, "distance_mean") > 100.0 && index(&idx, "distance_decay") < 0.0);

    // The release date comes from the application's clock, never after its today.
    let early = Date { year: 2019, month: 1, day: 1 };
    let earlier = on_day(&dir.path().join("bank.db"), early)
        .estimate_flows(&FlowEstimateRequest { dry_run: true, ..request }, &mut |_| {})
        .unwrap();
    assert_eq!(earlier.release_date, "2019-01-01");
}

#[test]
fn kazakhstan_regions_2023_arrivals_departures_net_and_effectiveness() {
    let app = bundled();
    let report =
        app.indices(&IndicesRequest { dataflow: "MIG_INT".into(), year: Some("2023".into()), ..Default::default() });
    let report = report.unwrap();
    assert_eq!(report.kind, IndicesKind::Regional);
    let rows = regions(&report);
    assert_eq!(rows.len(), 20, "17 regions and 3 cities");
    assert_eq!(report.total, 20);
    let (mut abs, mut turnover) = (0.0, 0.0);
    for r in rows {
        let arr = figure(app, "MIG_INT", &format!("{}.ARR", r.region), "2023", "KZ_BNS");
        let dep = figure(app, "MIG_INT", &format!("{}.DEP", r.region), "2023", "KZ_BNS");
        assert_eq!(r.arrivals, arr);
        assert_eq!(r.departures, dep);
        assert_eq!(r.net, arr - dep);
        assert!((r.effectiveness.unwrap() - 100.0 * (arr - dep) / (arr + dep)).abs() < 1e-9, "{r:?}");
        assert_eq!(r.net, figure(app, "MIG_INT", &format!("{}.NET", r.region), "2023", "KZ_BNS"));
        abs += (arr - dep).abs();
        turnover += arr + dep;
    }
    // The year's aggregate effectiveness over the regions.
    assert_eq!(report.years.len(), 1);
    assert_eq!(report.years[0].year, 2023);
    assert!((report.years[0].effectiveness - 100.0 * abs / turnover).abs() < 1e-9);
    assert!(!report.years[0].summed_from_months);
    // Astana gains, Turkistan region loses; Turkistan and Shymkent carry South Kazakhstan's territory.
    let by = |c: &str| rows.iter().find(|r| r.region == c).unwrap();
    assert!(by("KZ-71").effectiveness.unwrap() > 10.0);
    assert!(by("KZ-61").effectiveness.unwrap() < -10.0);
    assert!(by("KZ-61").territory.contains("KZ-YUZ"));

    // 2022: the year of the Abai, Zhetisu and Ulytau splits is marked on both sides.
    let y2022 =
        app.indices(&IndicesRequest { dataflow: "MIG_INT".into(), year: Some("2022".into()), ..Default::default() });
    let y2022 = y2022.unwrap();
    let t = |c: &str| regions(&y2022).iter().find(|r| r.region == c).unwrap().territory.clone();
    assert!(t("KZ-10").contains("created 2022-06-08 from KZ-63"), "{}", t("KZ-10"));
    assert!(t("KZ-63").contains("KZ-10 split off"), "{}", t("KZ-63"));
    assert!(t("KZ-35").contains("KZ-62"), "{}", t("KZ-35"));
    assert!(y2022.notes.iter().any(|n| n.starts_with("2022: territorial change")), "{:?}", y2022.notes);
    // 2024 comes from twelve monthly figures.
    let y2024 =
        app.indices(&IndicesRequest { dataflow: "MIG_INT".into(), year: Some("2024".into()), ..Default::default() });
    let y2024 = y2024.unwrap();
    assert!(y2024.years[0].summed_from_months);
    let astana = regions(&y2024).iter().find(|r| r.region == "KZ-71").unwrap();
    let months: f64 = (1..=12).map(|m| figure(app, "MIG_INT", "KZ-71.ARR", &format!("2024-{m:02}"), "KZ_BNS")).sum();
    assert_eq!(astana.arrivals, months);

    // A key narrows the regions read, in the one key grammar; every year without `year`.
    let two = app
        .indices(&IndicesRequest {
            dataflow: "MIG_INT".into(),
            keys: vec!["REF_AREA=KZ-71+KZ-75".into()],
            ..Default::default()
        })
        .unwrap();
    let rows = regions(&two);
    assert!(rows.iter().all(|r| r.region == "KZ-71" || r.region == "KZ-75"));
    assert_eq!(rows.len(), 2 * two.years.len());
    assert!(two.years.iter().map(|y| y.year).eq([2022, 2023, 2024]), "{:?}", two.years);
    let astana_2023 = rows.iter().find(|r| r.region == "KZ-71" && r.year == "2023").unwrap();
    assert_eq!(astana_2023, by("KZ-71"));
}

fn obs(dataflow: &str, key: &[&str], period: &str, value: f64, source: &str) -> Observation {
    Observation {
        dataflow: dataflow.into(),
        key: key.iter().map(|s| (*s).into()).collect(),
        time_period: period.into(),
        value: Some(value),
        printed: None,
        unit: "PERS".into(),
        unit_mult: 0,
        status: ObsStatus::Normal,
        source: source.into(),
        definition: "fixture".into(),
        citation: Some("fixture".into()),
        note: None,
        defects: vec![],
    }
}

/// Write a release; its figures are defined by its label (so two labels are two definitions,
/// both current).
fn write(path: &Path, dataflow: &str, source: &str, label: &str, mut observations: Vec<Observation>) {
    for o in &mut observations {
        o.definition = format!("{label} definition").into();
    }
    let batch = ReleaseBatch {
        dataflow: dataflow.into(),
        source: source.into(),
        label: label.into(),
        release_date: Date { year: 2020, month: 1, day: 1 },
        origin: "fixture".into(),
        note: None,
        observations,
        defects: vec![],
    };
    Bank::open(path).unwrap().write_releases(&[batch]).unwrap();
}

#[test]
fn indices_of_a_small_table_measure_distance_between_the_catalogues_capitals() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    let app = fresh(path.clone());
    let places = ["KAZ", "RUS", "UZB", "KGZ"];
    let geography = app.catalogue().unwrap().geography;
    let km = |o: usize, d: usize| geography.distance_km(places[o], places[d]).unwrap();
    // Origin and destination effects times distance^−1.5.
    let flow = |o: usize, d: usize| (1e9 * (o + 1) as f64 * (d + 2) as f64 * km(o, d).powf(-1.5)).round();
    let table = |scale: f64| {
        let mut out = Vec::new();
        for (o, origin) in places.iter().enumerate() {
            for (d, destination) in places.iter().enumerate() {
                if o != d {
                    out.push(obs("MIG_FLOW_EST", &[destination, origin], "2010/2015", scale * flow(o, d), "KOSHI_EST"));
                }
            }
        }
        out
    };
    write(&path, "MIG_FLOW_EST", "KOSHI_EST", "fixture a", table(1.0));
    let request = IndicesRequest { dataflow: "MIG_FLOW_EST".into(), year: Some("2015".into()), ..Default::default() };
    let report = app.indices(&request).unwrap();
    let (mut moves, mut moved_km) = (0.0, 0.0);
    for o in 0..places.len() {
        for d in (0..places.len()).filter(|d| *d != o) {
            moves += flow(o, d);
            moved_km += flow(o, d) * km(o, d);
        }
    }
    assert_eq!(index(&report, "migrants"), moves);
    let mean = moved_km / moves;
    assert!((index(&report, "distance_mean") - mean).abs() < 1e-9 * mean, "{report:?}");
    assert!((index(&report, "distance_decay") + 1.5).abs() < 0.01, "{report:?}");
    assert_eq!(index(&report, "connectivity"), 1.0);
    // No populations in this bank: intensity and impact are skipped and said so.
    assert!(report.items.len() > 10);
    assert!(report.notes.iter().any(|n| n.contains("no POP figure for 2010")), "{:?}", report.notes);

    // A key narrows the table: three places.
    let three = app.indices(&IndicesRequest {
        keys: vec!["REF_AREA=KAZ+RUS+UZB,COUNTERPART=KAZ+RUS+UZB".into()],
        ..request.clone()
    });
    let expected: f64 =
        (0..3).flat_map(|o| (0..3).map(move |d| (o, d))).filter(|(o, d)| o != d).map(|(o, d)| flow(o, d)).sum();
    assert_eq!(index(&three.unwrap(), "migrants"), expected);

    // Two releases of one period must not mix: one is chosen by its label.
    write(&path, "MIG_FLOW_EST", "KOSHI_EST", "fixture b", table(2.0));
    let e = app.indices(&request).unwrap_err();
    assert!(e.to_string().contains("fixture a") && e.to_string().contains("fixture b"), "{e}");
    assert_eq!(invalid_field(e), "release");
    let b = app.indices(&IndicesRequest { release: Some("fixture b".into()), ..request.clone() }).unwrap();
    assert_eq!(index(&b, "migrants"), 2.0 * moves);
    // …or by a period that is not there.
    let e = app.indices(&IndicesRequest { year: Some("2014".into()), ..request }).unwrap_err();
    assert!(e.to_string().contains("2010/2015"), "{e}");
}

#[test]
fn a_ceased_region_is_placed_by_the_applications_today() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    let app = fresh(path.clone());
    write(
        &path,
        "MIG_INT",
        "KZ_BNS",
        "fixture 2017",
        vec![
            obs("MIG_INT", &["KZ-YUZ", "ARR"], "2017", 30_000.0, "KZ_BNS"),
            obs("MIG_INT", &["KZ-YUZ", "DEP"], "2017", 50_000.0, "KZ_BNS"),
            obs("MIG_INT", &["KZ-YUZ", "NET"], "2017", -20_000.0, "KZ_BNS"),
        ],
    );
    let request = IndicesRequest { dataflow: "MIG_INT".into(), year: Some("2017".into()), ..Default::default() };
    // Today (2026): South Kazakhstan region has ceased; Turkistan region and Shymkent carry it.
    const { assert!(TODAY.year > 2018) };
    let now = app.indices(&request).unwrap();
    let yuz = &regions(&now)[0];
    assert_eq!((yuz.region.as_str(), yuz.net, yuz.effectiveness), ("KZ-YUZ", -20_000.0, Some(-25.0)));
    assert!(yuz.territory.contains("ceased; territory now in KZ-61 + KZ-79"), "{}", yuz.territory);
    assert!(yuz.territory.contains("before the 2018-06-19 split"), "{}", yuz.territory);
    // On a day in 2017 it still exists.
    let then = on_day(&path, Date { year: 2017, month: 6, day: 1 }).indices(&request).unwrap();
    let yuz = &regions(&then)[0];
    assert!(!yuz.territory.contains("ceased"), "{}", yuz.territory);
    assert!(yuz.territory.contains("before the 2018-06-19 split"), "{}", yuz.territory);
}

#[test]
fn requests_are_checked_before_anything_is_read() {
    let app = bundled();
    let estimate =
        |r: FlowEstimateRequest| app.estimate_flows(&FlowEstimateRequest { dry_run: true, ..r }, &mut |_| {});
    let period = FlowEstimateRequest::new(1990, 1995);
    assert_eq!(invalid_field(estimate(FlowEstimateRequest::new(1995, 1990)).unwrap_err()), "to");
    assert_eq!(invalid_field(estimate(FlowEstimateRequest::new(1995, 1995)).unwrap_err()), "to");
    let births_only = FlowEstimateRequest { births: Some("POP".into()), ..period.clone() };
    assert_eq!(invalid_field(estimate(births_only).unwrap_err()), "deaths");
    let negative = FlowEstimateRequest { method: FlowMethod::Rates, total: Some(-1.0), ..period.clone() };
    assert_eq!(invalid_field(estimate(negative).unwrap_err()), "total");
    let unknown = estimate(FlowEstimateRequest { stocks: "MIG_STOCKS".into(), ..period.clone() }).unwrap_err();
    assert_eq!((unknown.kind(), unknown.code()), (ErrorKind::NotFound, "UNKNOWN_DATAFLOW"));
    let not_bilateral = estimate(FlowEstimateRequest { stocks: "POP".into(), ..period.clone() }).unwrap_err();
    assert_eq!(invalid_field(not_bilateral), "stocks");
    let source = estimate(FlowEstimateRequest { stocks_source: "UN_DESSA".into(), ..period.clone() }).unwrap_err();
    assert_eq!(source.code(), "UNKNOWN_SOURCE");
    // A year the release does not have: the years it has are named.
    let missing = estimate(FlowEstimateRequest::new(1991, 1995)).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::BadRequest);
    assert!(missing.to_string().contains("1991") && missing.to_string().contains("1990, 1995"), "{missing}");

    let indices = |r: IndicesRequest| app.indices(&r);
    let int = IndicesRequest { dataflow: "MIG_INT".into(), ..Default::default() };
    let bad_key = indices(IndicesRequest { keys: vec!["REF_AREA=KZ-711".into()], ..int.clone() }).unwrap_err();
    assert_eq!(bad_key.code(), "UNKNOWN_CODE");
    let bad_source = indices(IndicesRequest { source: Some("KZ_BNZ".into()), ..int.clone() }).unwrap_err();
    assert_eq!(bad_source.code(), "UNKNOWN_SOURCE");
    assert_eq!(
        invalid_field(indices(IndicesRequest { year: Some("20x3".into()), ..int.clone() }).unwrap_err()),
        "year"
    );
    let none = indices(IndicesRequest { year: Some("1900".into()), ..int }).unwrap_err();
    assert_eq!(none.code(), "UNANSWERABLE");
    let pop = indices(IndicesRequest { dataflow: "POP".into(), ..Default::default() }).unwrap_err();
    assert_eq!(invalid_field(pop), "dataflow");
    let od = indices(IndicesRequest { dataflow: "MIG_FLOW_EST".into(), ..Default::default() }).unwrap_err();
    assert_eq!(invalid_field(od), "year");
    assert_eq!(
        indices(IndicesRequest { dataflow: "MIG_FLOWS".into(), ..Default::default() }).unwrap_err().code(),
        "UNKNOWN_DATAFLOW"
    );
}
