//! The data bank's use cases in process: the papers' tables with their citations, figures the
//! bank's own arithmetic derives, defects flagged and corrected as separate releases, real
//! cross-source discrepancies, the harmonised view, the one key grammar, as-of and ingest.

use koshi_app::bank::{DiscrepanciesRequest, Figures, HarmonisedFigure, Observation, QueryRequest};
use koshi_app::load::{IngestOutcome, IngestRequest};
use koshi_app::{AppError, ErrorKind};
use koshi_core::indicators;

use crate::bundled;

fn observations(request: QueryRequest) -> Vec<Observation> {
    match bundled().query(&request).unwrap_or_else(|e| panic!("{request:?}: {e}")).items {
        Figures::Observations(items) => items,
        Figures::Harmonised(_) => panic!("asked for observations"),
    }
}

fn of_source(dataflow: &str, key: &str, source: &str) -> QueryRequest {
    QueryRequest {
        dataflow: dataflow.into(),
        keys: vec![key.into()],
        source: Some(source.into()),
        ..QueryRequest::default()
    }
}

/// The current figure of one source for a fully specified key and period, in base units.
fn figure(key: &str, dataflow: &str, period: &str, source: &str) -> f64 {
    let rows = observations(of_source(dataflow, key, source));
    let row = rows
        .iter()
        .find(|r| r.time_period == period)
        .unwrap_or_else(|| panic!("no {dataflow} {key} {period} from {source}: {rows:?}"));
    row.value_base.unwrap_or_else(|| panic!("no value: {row:?}"))
}

#[test]
fn papers_table_2_is_shown_with_citations() {
    let rows = observations(of_source("MIG_EXT", "KAZ.CIS._T.ED5T8.", "PAPER_003"));
    assert_eq!(rows.len(), 3, "balance, arrived, left: {rows:#?}");
    for r in &rows {
        let citation = r.citation.as_deref().unwrap();
        assert!(citation.contains("003, Table 2"), "{citation}");
        assert!(citation.contains("original source: KZ_BNS"), "{citation}");
    }
}

#[test]
fn table_2_balances_come_out_of_the_banks_arithmetic() {
    // golden: CIS, higher: 2,125 − 10,173 = −8,048; and every other cell likewise.
    for partner in ["CIS", "NON_CIS"] {
        for education in ["ED5T8", "ED45", "ED34", "ED2"] {
            let key = |m: &str| format!("KAZ.{partner}._T.{education}.{m}");
            let arrived = figure(&key("ARR"), "MIG_EXT", "2017", "PAPER_003");
            let left = figure(&key("DEP"), "MIG_EXT", "2017", "PAPER_003");
            let stated = figure(&key("NET"), "MIG_EXT", "2017", "PAPER_003");
            assert_eq!(indicators::net_migration(arrived, left), stated, "{partner} {education}");
        }
    }
    assert_eq!(figure("KAZ.CIS._T.ED5T8.NET", "MIG_EXT", "2017", "PAPER_003"), -8_048.0);
}

#[test]
fn brain_drain_balance_and_the_2017_balance() {
    let key = |m: &str| format!("KAZ.WLD._T.ED5T8.{m}");
    let left = figure(&key("DEP"), "MIG_EXT", "2000/2017", "PAPER_003");
    let arrived = figure(&key("ARR"), "MIG_EXT", "2000/2017", "PAPER_003");
    assert_eq!((left, arrived), (171_434.0, 82_957.0));
    assert_eq!(indicators::net_migration(arrived, left), -88_477.0);
    assert_eq!(figure(&key("ACC_NET"), "MIG_EXT", "2000/2017", "PAPER_003"), -88_477.0);

    // 002: January–May 2017 arrivals 7,204, departures 10,975, balance −3,771.
    let jan_may = "2017-01/2017-05";
    let a = figure("KAZ.WLD._T._T.ARR", "MIG_EXT", jan_may, "PAPER_002");
    let d = figure("KAZ.WLD._T._T.DEP", "MIG_EXT", jan_may, "PAPER_002");
    assert_eq!((a, d), (7_204.0, 10_975.0));
    assert_eq!(indicators::net_migration(a, d), figure("KAZ.WLD._T._T.NET", "MIG_EXT", jan_may, "PAPER_002"));
    assert_eq!(indicators::net_migration(a, d), -3_771.0);

    // 003: external balance −2,234 (2013) → −22,426 (2017); intensity 1.43 → 2.09 per 1,000.
    assert_eq!(figure("KAZ.WLD._T._T.NET", "MIG_EXT", "2013", "PAPER_003"), -2_234.0);
    assert_eq!(figure("KAZ.WLD._T._T.NET", "MIG_EXT", "2017", "PAPER_003"), -22_426.0);
    assert_eq!(figure("KAZ.WLD._T._T.INTENSITY", "MIG_EXT", "2013", "PAPER_003"), 1.43);
    assert_eq!(figure("KAZ.WLD._T._T.INTENSITY", "MIG_EXT", "2017", "PAPER_003"), 2.09);
    // 002: population 16,009,597 at the 2009 census.
    assert_eq!(figure("KAZ._T._T", "POP", "2009", "PAPER_002"), 16_009_597.0);
}

#[test]
fn table_1_stock_shares_from_stock_and_population() {
    let round1 = |x: f64| (x * 10.0).round() / 10.0;
    // 2000: the paper's stock over the UN mid-year population (the paper cites the UN).
    let kz_2000 = indicators::share_pct(
        figure("KAZ.WLD._T.STOCK", "MIG_STOCK", "2000", "PAPER_003"),
        figure("KAZ._T._T", "POP", "2000", "UN_DESA"),
    );
    assert_eq!(kz_2000.map(round1), Some(19.2));
    // 2017: over the national estimate at 1 June 2017 printed in 002.
    let kz_2017 = indicators::share_pct(
        figure("KAZ.WLD._T.STOCK", "MIG_STOCK", "2017", "PAPER_003"),
        figure("KAZ._T._T", "POP", "2017-06-01", "PAPER_002"),
    );
    assert_eq!(kz_2017.map(round1), Some(20.2));
    let cn_2000 = indicators::share_pct(
        figure("CHN.WLD._T.STOCK", "MIG_STOCK", "2000", "PAPER_003"),
        figure("CHN._T._T", "POP", "2000", "UN_DESA"),
    );
    assert_eq!(cn_2000.map(round1), Some(0.0));
    let cn_2017 = indicators::share_pct(
        figure("CHN.WLD._T.STOCK", "MIG_STOCK", "2017", "PAPER_003"),
        figure("CHN._T._T", "POP", "2017", "PAPER_003"),
    );
    assert_eq!(cn_2017.map(round1), Some(0.1));
    assert_eq!(figure("KAZ.WLD._T.SHARE_POP", "MIG_STOCK", "2017", "PAPER_003"), 20.2);
}

#[test]
fn trade_tables_defects_are_flagged_and_corrected_as_a_separate_release() {
    let findings = bundled().check(None).unwrap();
    assert_eq!(findings.total, findings.items.len());
    let has = |rule: &str, key: &str, period: &str| {
        findings.items.iter().any(|f| f.rule == rule && f.key == key && f.time_period == period)
    };
    assert!(has("UNIT_MISLABELLED", "BLR.KAZ.EXP", "2010"));
    assert!(
        has("IMPLAUSIBLE_MAGNITUDE", "BLR.KAZ.EXP", "2010"),
        "the bank finds it by itself: 464.8 billion > Belarus's GDP"
    );
    assert!(has("COLUMNS_SWAPPED", "BLR.KAZ.EXP", "2014"));
    assert!(has("MALFORMED_NUMBER", "RUS.GDP", "2017"));

    // Current view: the corrected release, in millions; as of 2021 the paper as printed.
    let exports_2010 = |as_of: Option<&str>| {
        let request = QueryRequest { as_of: as_of.map(String::from), ..of_source("TRADE", "BLR.KAZ.EXP", "PAPER_000") };
        let rows = observations(request);
        let row = rows.into_iter().find(|r| r.time_period == "2010").unwrap();
        (row.value_base.unwrap(), row.release_label)
    };
    assert_eq!(exports_2010(None), (464.8e6, "corrected".to_string()));
    assert_eq!(exports_2010(Some("2021-01-01")), (464.8e9, "as-printed".to_string()));
    // 2014's swapped cells are put right in the corrected release.
    assert_eq!(figure("BLR.KAZ.EXP", "TRADE", "2014", "PAPER_000"), 879.4e6);
    assert_eq!(figure("RUS.GDP", "MACRO", "2017", "PAPER_003"), 1_577.5e9);
}

#[test]
fn the_defect_report_is_computed_once_per_state_of_the_bank() {
    let app = bundled();
    let first = app.check(None).unwrap();
    let computed = app.check_computations();
    let again = app.check(None).unwrap();
    assert_eq!(app.check_computations(), computed, "the second report came from the cache");
    assert_eq!((again.generation, again.items), (first.generation, first.items));
}

#[test]
fn a_real_cross_source_discrepancy_surfaces() {
    let gaps = bundled()
        .discrepancies(&DiscrepanciesRequest { dataflow: Some("MIG_STOCK".into()), ..DiscrepanciesRequest::default() })
        .unwrap();
    let kz = gaps
        .items
        .iter()
        .find(|g| g.key == ["KAZ", "WLD", "_T", "STOCK"] && g.time_period == "2000")
        .unwrap_or_else(|| panic!("{:#?}", gaps.items));
    let pair = [kz.value_a, kz.value_b];
    assert!(pair.contains(&2_871_300.0) && pair.contains(&2_874_194.0), "{kz:?}");
    assert!(kz.definition_a != kz.definition_b || kz.source_a != kz.source_b);
    let net = bundled()
        .discrepancies(&DiscrepanciesRequest { dataflow: Some("MIG_EXT".into()), tolerance_pct: 10.0, page: None })
        .unwrap();
    assert!(net.items.iter().any(|g| g.time_period == "2017" && g.key == ["KAZ", "WLD", "_T", "_T", "NET"]));
    let bad = bundled().discrepancies(&DiscrepanciesRequest { tolerance_pct: -1.0, ..DiscrepanciesRequest::default() });
    assert_eq!(bad.unwrap_err().kind(), ErrorKind::BadRequest);
}

#[test]
fn harmonised_view_says_which_source_won() {
    let request = QueryRequest {
        dataflow: "MIG_EXT".into(),
        keys: vec!["KAZ.WLD._T._T.NET".into()],
        harmonised: true,
        from: Some("2017".into()),
        to: Some("2017".into()),
        ..QueryRequest::default()
    };
    let rows: Vec<HarmonisedFigure> = match bundled().query(&request).unwrap().items {
        Figures::Harmonised(rows) => rows,
        Figures::Observations(_) => panic!("asked for the harmonised view"),
    };
    let year = rows.iter().find(|r| r.time_period == "2017").unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(year.candidates, 2);
    assert_eq!(year.source, "UN_WPP", "WPP outranks a paper in MIG_EXT's policy");
    assert!(year.reason.contains("priority"));
    assert_eq!(year.value_base, Some(21_248.0));
}

#[test]
fn one_key_grammar_dotted_and_named_parts_mean_the_same_and_repeated_keys_intersect() {
    let with_keys = |keys: &[&str]| {
        observations(QueryRequest {
            dataflow: "MIG_EXT".into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
            source: Some("PAPER_003".into()),
            ..QueryRequest::default()
        })
    };
    let dotted = with_keys(&["KAZ.CIS._T.ED5T8.NET+ARR"]);
    assert_eq!(dotted.len(), 2, "{dotted:?}");
    assert_eq!(with_keys(&["REF_AREA=KAZ,COUNTERPART=CIS,EDUCATION=ED5T8,MEASURE=NET+ARR"]), dotted);
    // Mixed forms, one dimension constrained twice: the codes both allow.
    assert_eq!(with_keys(&["KAZ.CIS._T.ED5T8.", "MEASURE=NET+ARR", "MEASURE=ARR+NET+DEP"]), dotted);
    // Constraints no code satisfies at once are a mistake, said as such.
    let contradictory = bundled()
        .query(&QueryRequest {
            dataflow: "MIG_EXT".into(),
            keys: vec!["MEASURE=NET".into(), "MEASURE=ARR".into()],
            ..QueryRequest::default()
        })
        .unwrap_err();
    assert_eq!(contradictory.kind(), ErrorKind::BadRequest);
    assert!(contradictory.to_string().contains("combine with AND"), "{contradictory}");
    // A mistyped code is an error naming it and near codes, never an empty answer.
    let typo = bundled()
        .query(&QueryRequest {
            dataflow: "MIG_EXT".into(),
            keys: vec!["KAZZ.WLD._T._T.NET".into()],
            ..QueryRequest::default()
        })
        .unwrap_err();
    assert_eq!((typo.kind(), typo.code()), (ErrorKind::BadRequest, "UNKNOWN_CODE"));
    assert!(typo.to_string().contains("did you mean KAZ"), "{typo}");
    let unknown = bundled().query(&QueryRequest { dataflow: "NOPE".into(), ..QueryRequest::default() }).unwrap_err();
    assert_eq!((unknown.kind(), unknown.code()), (ErrorKind::NotFound, "UNKNOWN_DATAFLOW"));
}

#[test]
fn a_page_of_an_answer_is_that_slice_of_the_whole_with_its_total() {
    let whole = bundled()
        .query(&QueryRequest {
            dataflow: "MIG_STOCK".into(),
            keys: vec!["REF_AREA=KAZ".into()],
            ..QueryRequest::default()
        })
        .unwrap();
    assert!(whole.total > 100, "{}", whole.total);
    let Figures::Observations(all) = &whole.items else { panic!() };
    for (offset, limit) in [(0, 7), (5, 50), (whole.total - 3, 10), (whole.total + 5, 10)] {
        let page = Some(koshi_app::PageRequest { offset, limit });
        let part = bundled()
            .query(&QueryRequest {
                dataflow: "MIG_STOCK".into(),
                keys: vec!["REF_AREA=KAZ".into()],
                page,
                ..QueryRequest::default()
            })
            .unwrap();
        assert_eq!(part.total, whole.total);
        let Figures::Observations(items) = part.items else { panic!() };
        let end = (offset + limit).min(all.len());
        assert_eq!(items, all[offset.min(end)..end].to_vec(), "offset {offset}, limit {limit}");
    }
}

/// Planning writes nothing; writing stores the figures; a file with errors is a report listing
/// every problem, with nothing written.
#[test]
fn ingest_plans_then_writes_and_a_bad_file_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = crate::fresh(dir.path().join("bank.db"));
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/examples");
    let request = IngestRequest {
        file: format!("{root}/kz_external_migration.xlsx").into(),
        mapping: Some(format!("{root}/kz_external_migration.toml").into()),
        structure: None,
        allow_defects: false,
        dry_run: true,
    };
    let planned = app.ingest(&request, &mut |_| {}).unwrap();
    assert_eq!(planned.outcome, IngestOutcome::Planned);
    assert!(planned.observations > 100, "{planned:?}");
    assert!(planned.releases.is_empty());
    assert_eq!(app.health().unwrap().counts["observation"], 0, "a dry run writes nothing");

    let written = app.ingest(&IngestRequest { dry_run: false, ..request.clone() }, &mut |_| {}).unwrap();
    assert_eq!(written.outcome, IngestOutcome::Written);
    assert_eq!(written.observations, planned.observations);
    assert_eq!(app.health().unwrap().counts["observation"], written.observations as i64);
    let again = app.ingest(&IngestRequest { dry_run: false, ..request.clone() }, &mut |_| {}).unwrap();
    assert!(
        again.releases.iter().all(|r| matches!(r, koshi_app::load::WriteOutcome::Unchanged { .. })),
        "the same content again creates nothing: {:?}",
        again.releases
    );

    let broken = concat!(env!("CARGO_MANIFEST_DIR"), "/../koshi-ingest/tests/fixtures");
    let rejected = app
        .ingest(
            &IngestRequest {
                file: format!("{broken}/broken.csv").into(),
                mapping: Some(format!("{broken}/broken.toml").into()),
                structure: None,
                allow_defects: false,
                dry_run: false,
            },
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(rejected.outcome, IngestOutcome::Rejected);
    assert!(rejected.errors >= 2, "every problem at once: {:?}", rejected.diagnostics);
    assert!(rejected.diagnostics.iter().all(|d| d.file.ends_with("broken.csv")));
    assert!(rejected.diagnostics.iter().any(|d| d.row.is_some() && d.column.is_some()), "{:?}", rejected.diagnostics);
    assert_eq!(app.health().unwrap().counts["observation"], written.observations as i64, "nothing more written");

    let missing = app.ingest(&IngestRequest { file: dir.path().join("none.csv"), ..request }, &mut |_| {}).unwrap_err();
    assert!(matches!(missing, AppError::File { .. }), "{missing}");
}

#[test]
fn health_says_the_bundle_is_complete_and_counts_the_bank() {
    let health = bundled().health().unwrap();
    assert_eq!(health.status, "ok");
    assert!(health.bundle.is_complete(), "{:?}", health.bundle);
    assert!(health.counts["observation"] > 500_000, "{:?}", health.counts);
}

/// A running application (a server) sees sources and dataflows another process declared, without
/// a restart, and its figures once ingested.
#[test]
fn declarations_made_by_another_process_are_seen_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    let serving = crate::fresh(path.clone());
    assert!(serving.sources(None).unwrap().items.iter().all(|s| s.id != "KZ_MINTRUD_ALA"));
    let file = dir.path().join("permits.toml");
    std::fs::write(
        &file,
        r#"
[[dataflow]]
id = "MIG_PERMITS"
name = { en = "Residence permits issued" }
dimensions = [{ id = "REF_AREA", codelist = "AREA" }, { id = "MEASURE", codelist = "MEASURE" }]
measures = [{ code = "ISSUED", unit = "PERS", en = "Permits issued" }]
"#,
    )
    .unwrap();
    // Another process: an application of its own on the same file.
    let other = crate::fresh(path.clone());
    other
        .declare_source(&koshi_app::load::SourceDeclaration {
            id: "KZ_MINTRUD_ALA".into(),
            name: "Ministry of Labour, Almaty office".into(),
            kind: "ministry".into(),
            ..Default::default()
        })
        .unwrap();
    other.declare_dataflows(&file).unwrap();
    drop(other);
    assert!(serving.sources(None).unwrap().items.iter().any(|s| s.id == "KZ_MINTRUD_ALA"));
    assert!(serving.dataflows(None).unwrap().items.iter().any(|d| d.id == "MIG_PERMITS"));
    assert_eq!(serving.codelist("MEASURE:MIG_PERMITS").unwrap().codes[0].id, "ISSUED");
    let empty = serving
        .query(&QueryRequest {
            dataflow: "MIG_PERMITS".into(),
            keys: vec!["KAZ.ISSUED".into()],
            ..QueryRequest::default()
        })
        .unwrap();
    assert_eq!(empty.total, 0);
}
