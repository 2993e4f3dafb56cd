//! Statistical data exchange in process: the structures generated from the catalogue, data
//! queries in every format, exports imported into an empty bank, and SDMX actions honoured.

use std::collections::BTreeMap;

use koshi_app::bank::{Figures, QueryRequest};
use koshi_app::load::{IngestOutcome, IngestRequest};
use koshi_app::sdmx::{
    AnswerLimits, DataDetail, DataFormat, DataRequest, References, StructureDetail, StructureRequest, StructureResource,
};
use koshi_app::{App, AppError, ErrorKind};

use crate::{bundled, fresh};

fn structure_request(resource: StructureResource, id: &str, references: References) -> StructureRequest {
    StructureRequest {
        resource,
        agency: "KOSHI".into(),
        id: id.into(),
        version: "latest".into(),
        references,
        detail: StructureDetail::Full,
    }
}

#[test]
fn structures_describe_every_dataflow_and_the_codes_present() {
    let app = bundled();
    let all = app.sdmx_structures().unwrap();
    let catalogue = app.catalogue().unwrap();
    assert_eq!(all.dataflows.len(), catalogue.dataflows.len());
    assert_eq!(all.data_structures.len(), catalogue.dataflows.len());
    let dsd = all.data_structures.iter().find(|d| d.artefact.reference.id == "DSD_MIG_EXT").unwrap();
    assert_eq!(dsd.dimension_ids(), ["REF_AREA", "COUNTERPART", "SEX", "EDUCATION", "MEASURE"]);
    for attribute in ["UNIT_MEASURE", "UNIT_MULT", "OBS_STATUS", "SOURCE", "DEFINITION", "RELEASE", "CITATION"] {
        assert!(dsd.attribute(attribute).is_some(), "{attribute}");
    }
    let area = all.codelists.iter().find(|c| c.artefact.reference.id == "CL_AREA").unwrap();
    let kaz = area.items.iter().find(|i| i.id == "KAZ").unwrap();
    assert_eq!(kaz.names.get("ru"), Some("Казахстан"));
    assert!(kaz.names.0.iter().any(|(lang, text)| lang == "kk" && !text.is_empty()));
    assert!(area.items.iter().any(|i| i.id == "_T"), "totals are codes of every dimension list");
    let measures = all.codelists.iter().find(|c| c.artefact.reference.id == "CL_MEASURE_MIG_EXT").unwrap();
    assert!(measures.items.iter().any(|i| i.id == "NET"));

    // The content constraint lists what the bank holds, not the whole code list.
    let constraint = all.constraints.iter().find(|c| c.artefact.reference.id == "CC_MIG_EXT").unwrap();
    let areas = &constraint.key_values.iter().find(|(d, _)| d == "REF_AREA").unwrap().1;
    assert!(areas.contains(&"KAZ".to_string()), "{areas:?}");
    assert!(areas.len() < area.items.len(), "only the codes present: {}", areas.len());
    let (first, last) = constraint.time_range.clone().unwrap();
    assert!(first.as_str() <= "1992" && last.as_str() >= "2020", "{first}–{last}");
    let sources = all.data_provider_schemes[0].items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>();
    assert!(sources.contains(&"KZ_BNS") && sources.contains(&"UN_DESA"), "{sources:?}");
}

#[test]
fn structure_queries_follow_references() {
    let app = bundled();
    let alone =
        app.sdmx_structure(&structure_request(StructureResource::Dataflow, "MIG_EXT", References::None)).unwrap();
    assert_eq!(alone.dataflows.len(), 1);
    assert!(alone.data_structures.is_empty() && alone.codelists.is_empty());

    let all = app.sdmx_structure(&structure_request(StructureResource::Dataflow, "MIG_EXT", References::All)).unwrap();
    assert_eq!(all.data_structures.len(), 1, "its DSD");
    let lists: Vec<&str> = all.codelists.iter().map(|c| c.artefact.reference.id.as_str()).collect();
    for expected in ["CL_AREA", "CL_SEX", "CL_EDUCATION", "CL_MEASURE_MIG_EXT", "CL_OBS_STATUS", "CL_UNIT", "CL_SOURCE"]
    {
        assert!(lists.contains(&expected), "{expected} in {lists:?}");
    }
    assert_eq!(all.concept_schemes.len(), 1);
    assert!(all.constraints.iter().any(|c| c.artefact.reference.id == "CC_MIG_EXT"));

    let children =
        app.sdmx_structure(&structure_request(StructureResource::Dataflow, "MIG_EXT", References::Children)).unwrap();
    assert_eq!(children.data_structures.len(), 1);
    assert!(children.codelists.is_empty(), "children stop at the DSD");

    // A code list's parents: every DSD that uses it.
    let parents =
        app.sdmx_structure(&structure_request(StructureResource::Codelist, "CL_SEX", References::Parents)).unwrap();
    let dsds: Vec<&str> = parents.data_structures.iter().map(|d| d.artefact.reference.id.as_str()).collect();
    assert!(dsds.contains(&"DSD_MIG_EXT") && dsds.contains(&"DSD_MIG_STOCK"), "{dsds:?}");
    assert!(!dsds.contains(&"DSD_TRADE"), "TRADE has no SEX: {dsds:?}");

    let several = app
        .sdmx_structure(&structure_request(StructureResource::Codelist, "CL_SEX+CL_AREA", References::None))
        .unwrap();
    assert_eq!(several.codelists.len(), 2);
    let missing = app
        .sdmx_structure(&structure_request(StructureResource::Codelist, "CL_NOTHING", References::None))
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    let other_agency = app
        .sdmx_structure(&StructureRequest {
            agency: "ECB".into(),
            ..structure_request(StructureResource::Dataflow, "all", References::None)
        })
        .unwrap_err();
    assert_eq!(other_agency.kind(), ErrorKind::NotFound);
}

fn data(app: &App, request: &DataRequest) -> Result<String, AppError> {
    let mut out = Vec::new();
    app.sdmx_data(request, &mut out)?;
    Ok(String::from_utf8(out).unwrap())
}

/// SDMX-CSV rows as maps from column to cell.
fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader.records().map(|r| header.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect()).collect()
}

#[test]
fn data_queries_answer_the_harmonised_view_and_each_source() {
    let app = bundled();
    let mut request = DataRequest::new("MIG_EXT", DataFormat::Csv2);
    request.key = "KAZ.WLD._T._T.NET".into();
    let rows = csv_rows(&data(app, &request).unwrap());
    let harmonised = app
        .query(&QueryRequest {
            dataflow: "MIG_EXT".into(),
            keys: vec!["KAZ.WLD._T._T.NET".into()],
            harmonised: true,
            ..QueryRequest::default()
        })
        .unwrap();
    let Figures::Harmonised(figures) = harmonised.items else { panic!("harmonised") };
    assert_eq!(rows.len(), figures.len());
    for (row, figure) in rows.iter().zip(&figures) {
        // Ranges of periods (`2017-01/2017-05`) travel as SDMX time ranges (`2017-01-01/P5M`).
        assert_eq!(koshi_core::observation::from_sdmx_period(&row["TIME_PERIOD"]), figure.time_period);
        assert_eq!(row["OBS_VALUE"].parse::<f64>().ok(), figure.value, "{row:?}");
        assert_eq!(row["SOURCE"], figure.source);
        assert_eq!(row["RELEASE"], figure.release_label);
        assert_eq!(row["HARMONISED_REASON"], figure.reason);
        assert_eq!(row["STRUCTURE_ID"], "KOSHI:MIG_EXT(1.0)");
        assert_eq!(row["ACTION"], "I");
    }

    // One source through the provider, periods, first and last observations.
    request.providers = vec!["UN_WPP".into()];
    let wpp = csv_rows(&data(app, &request).unwrap());
    assert!(!wpp.is_empty() && wpp.iter().all(|r| r["SOURCE"] == "UN_WPP"));
    request.start_period = Some("2000".into());
    request.end_period = Some("2009".into());
    let decade = csv_rows(&data(app, &request).unwrap());
    assert_eq!(decade.len(), 10, "{decade:?}");
    request.last_n = Some(3);
    let last = csv_rows(&data(app, &request).unwrap());
    assert_eq!(last.iter().map(|r| r["TIME_PERIOD"].as_str()).collect::<Vec<_>>(), ["2007", "2008", "2009"]);
    request.last_n = None;
    request.first_n = Some(2);
    let first = csv_rows(&data(app, &request).unwrap());
    assert_eq!(first.iter().map(|r| r["TIME_PERIOD"].as_str()).collect::<Vec<_>>(), ["2000", "2001"]);

    // Detail: values without attributes; series keys without observations.
    let mut bare = DataRequest::new("MIG_EXT", DataFormat::Csv1);
    bare.key = "KAZ.WLD._T._T.NET".into();
    bare.detail = DataDetail::Dataonly;
    let rows = csv_rows(&data(app, &bare).unwrap());
    assert!(rows.iter().all(|r| r["SOURCE"].is_empty() && !r["OBS_VALUE"].is_empty()));
    assert_eq!(rows[0]["DATAFLOW"], "KOSHI:MIG_EXT(1.0)");
    bare.detail = DataDetail::Serieskeysonly;
    let keys = csv_rows(&data(app, &bare).unwrap());
    assert_eq!(keys.len(), 1, "one series, no observations: {keys:?}");

    // Nothing found is NotFound (the REST API's 404) and writes nothing; wrong requests are refused.
    let mut none = DataRequest::new("MIG_EXT", DataFormat::GenericXml);
    none.key = "KAZ.WLD._T._T.NET".into();
    none.start_period = Some("2090".into());
    let mut out = Vec::new();
    assert_eq!(app.sdmx_data(&none, &mut out).unwrap_err().kind(), ErrorKind::NotFound);
    assert!(out.is_empty(), "no half message");
    none.start_period = None;
    none.updated_after = Some("2999-01-01".into());
    assert_eq!(app.sdmx_data(&none, &mut out).unwrap_err().kind(), ErrorKind::NotFound);
    none.updated_after = Some("2000-01-01".into());
    assert!(app.sdmx_data(&none, &mut out).is_ok(), "every release came in after 2000");
    // The API's bounds: too many series is refused before anything is written; too many
    // observations stops the answer with an error.
    let mut bounded = DataRequest::new("MIG_EXT", DataFormat::Csv2);
    bounded.limits = Some(AnswerLimits { max_series: 1, max_observations: 1_000 });
    let mut out = Vec::new();
    assert_eq!(app.sdmx_data(&bounded, &mut out).unwrap_err().kind(), ErrorKind::TooLarge);
    assert!(out.is_empty());
    bounded.key = "KAZ.WLD._T._T.NET".into();
    bounded.limits = Some(AnswerLimits { max_series: 1, max_observations: 5 });
    assert_eq!(app.sdmx_data(&bounded, &mut Vec::new()).unwrap_err().kind(), ErrorKind::TooLarge);
    bounded.limits = Some(AnswerLimits::API);
    assert!(app.sdmx_data(&bounded, &mut Vec::new()).is_ok());

    let mut wrong = DataRequest::new("MIG_EXT", DataFormat::Csv2);
    wrong.key = "KAZ.NET".into();
    assert_eq!(app.sdmx_data(&wrong, &mut Vec::new()).unwrap_err().kind(), ErrorKind::BadRequest);
    wrong.key = "KAZ.WLD._T._T.NETT".into();
    assert_eq!(app.sdmx_data(&wrong, &mut Vec::new()).unwrap_err().kind(), ErrorKind::BadRequest);
    wrong.key = String::new();
    wrong.providers = vec!["NOBODY".into()];
    assert_eq!(app.sdmx_data(&wrong, &mut Vec::new()).unwrap_err().kind(), ErrorKind::NotFound);
}

/// Every figure of a dataflow in the bank, as comparable text.
fn figures(app: &App, dataflow: &str) -> Vec<String> {
    let report = app.query(&QueryRequest { dataflow: dataflow.into(), ..QueryRequest::default() }).unwrap();
    let Figures::Observations(items) = report.items else { panic!("observations") };
    let mut out: Vec<String> = items
        .iter()
        .map(|o| {
            format!(
                "{} {} {:?} {:?} {} {} {} {} {} {} {} {:?} {:?} {:?}",
                o.key.join("."),
                o.time_period,
                o.value,
                o.printed,
                o.unit,
                o.unit_mult,
                o.status,
                o.source,
                o.definition,
                o.release_label,
                o.release_date,
                o.citation,
                o.note,
                o.defects,
            )
        })
        .collect();
    out.sort();
    out
}

fn releases(app: &App, dataflow: &str) -> Vec<(String, String, String, i64)> {
    let list = app.releases(&koshi_app::bank::ReleasesRequest { dataflow: Some(dataflow.into()), page: None }).unwrap();
    let mut out: Vec<_> =
        list.items.iter().map(|r| (r.source.clone(), r.label.clone(), r.release_date.clone(), r.revision)).collect();
    out.sort();
    out
}

fn ingest(app: &App, file: &std::path::Path) -> koshi_app::load::IngestReport {
    app.ingest(
        &IngestRequest { file: file.into(), mapping: None, structure: None, allow_defects: false, dry_run: false },
        &mut |_| {},
    )
    .unwrap()
}

#[test]
fn an_export_imported_into_an_empty_bank_gives_the_same_figures_and_releases() {
    let source = bundled();
    let dir = tempfile::tempdir().unwrap();
    for (format, name) in [
        (DataFormat::Csv2, "mig_ext.csv"),
        (DataFormat::Csv1, "mig_ext_v1.csv"),
        (DataFormat::StructureSpecificXml, "mig_ext.xml"),
        (DataFormat::GenericXml, "mig_ext_generic.xml"),
    ] {
        let mut request = DataRequest::new("MIG_EXT", format);
        request.all_sources = true;
        let path = dir.path().join(name);
        std::fs::write(&path, data(source, &request).unwrap()).unwrap();
        let target = fresh(dir.path().join(format!("{name}.db")));
        let report = ingest(&target, &path);
        assert_eq!(
            report.outcome,
            IngestOutcome::Written,
            "{name}: {:?}",
            &report.diagnostics[..report.diagnostics.len().min(5)]
        );
        assert_eq!(figures(&target, "MIG_EXT"), figures(source, "MIG_EXT"), "{name}");
        assert_eq!(releases(&target, "MIG_EXT"), releases(source, "MIG_EXT"), "{name}");
        // The same message again changes nothing.
        let again = ingest(&target, &path);
        assert!(again.releases.iter().all(|r| matches!(r, koshi_app::load::WriteOutcome::Unchanged { .. })), "{name}");
    }
}

const HEADER: &str = "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,MEASURE,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,UNIT_MULT,\
OBS_STATUS,SOURCE,DEFINITION,RELEASE,RELEASE_DATE";

fn value(app: &App, key: &str, period: &str, as_of: Option<&str>) -> Option<Option<f64>> {
    let report = app
        .query(&QueryRequest {
            dataflow: "MIG_INT".into(),
            keys: vec![key.into()],
            as_of: as_of.map(String::from),
            from: Some(period.into()),
            to: Some(period.into()),
            ..QueryRequest::default()
        })
        .unwrap();
    let Figures::Observations(items) = report.items else { panic!("observations") };
    items.first().map(|o| o.value)
}

#[test]
fn sdmx_actions_are_honoured_in_order_and_a_delete_keeps_what_was_known() {
    let dir = tempfile::tempdir().unwrap();
    let app = fresh(dir.path().join("bank.db"));
    let row = |action: &str, area: &str, measure: &str, period: &str, value: &str, release: &str, date: &str| {
        format!(
            "dataflow,KOSHI:MIG_INT(1.0),{action},{area},{measure},{period},{value},PERS,0,A,KZ_BNS,\
             registered moves between regions,{release},{date}"
        )
    };
    let first = [
        HEADER.to_string(),
        row("I", "KZ-75", "ARR", "2020", "100", "r1", "2021-01-01"),
        row("I", "KZ-75", "DEP", "2020", "40", "r1", "2021-01-01"),
        row("I", "KZ-71", "ARR", "2020", "70", "r1", "2021-01-01"),
        row("I", "KZ-71", "ARR", "2021", "75", "r1", "2021-01-01"),
    ]
    .join("\n");
    let path = dir.path().join("first.csv");
    std::fs::write(&path, first).unwrap();
    assert_eq!(ingest(&app, &path).outcome, IngestOutcome::Written);
    assert_eq!(value(&app, "KZ-75.ARR", "2020", None), Some(Some(100.0)));

    // A second message: withdraw one figure, merge a new value, replace one, then delete
    // KZ-71 wholly by a partial key, then put one KZ-71 figure back (applied in that order).
    let second = [
        HEADER.to_string(),
        row("D", "KZ-75", "ARR", "2020", "", "r2", "2022-01-01"),
        row("M", "KZ-75", "DEP", "2020", "41", "r2", "2022-01-01"),
        row("R", "KZ-75", "NET", "2020", "-41", "r2", "2022-01-01"),
        row("D", "KZ-71", "", "", "", "r2", "2022-01-01"),
        row("A", "KZ-71", "ARR", "2021", "76", "r2", "2022-01-01"),
    ]
    .join("\n");
    let path = dir.path().join("second.csv");
    std::fs::write(&path, second).unwrap();
    let report = ingest(&app, &path);
    assert_eq!(report.outcome, IngestOutcome::Written, "{:?}", report.diagnostics);
    assert_eq!(value(&app, "KZ-75.ARR", "2020", None), None, "withdrawn");
    assert_eq!(value(&app, "KZ-75.DEP", "2020", None), Some(Some(41.0)), "merged");
    assert_eq!(value(&app, "KZ-75.NET", "2020", None), Some(Some(-41.0)), "replaced (inserted)");
    assert_eq!(value(&app, "KZ-71.ARR", "2020", None), None, "withdrawn by the partial key");
    assert_eq!(value(&app, "KZ-71.ARR", "2021", None), Some(Some(76.0)), "the later row of the message wins");
    // What was known before the delete is still known.
    assert_eq!(value(&app, "KZ-75.ARR", "2020", Some("2021-06-30")), Some(Some(100.0)));
    assert_eq!(value(&app, "KZ-71.ARR", "2020", Some("2021-06-30")), Some(Some(70.0)));
    // The delete is a release of its own beside the first: nothing was overwritten.
    let streams = releases(&app, "MIG_INT");
    assert_eq!(streams.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(), ["r1", "r2"], "{streams:?}");

    // What changed since the first message: the second's figures, and its withdrawals as a Delete.
    let first_in = app
        .releases(&koshi_app::bank::ReleasesRequest { dataflow: Some("MIG_INT".into()), page: None })
        .unwrap()
        .items
        .iter()
        .find(|r| r.label == "r1")
        .unwrap()
        .ingested_at
        .replace(' ', "T");
    let mut changed = DataRequest::new("MIG_INT", DataFormat::Csv2);
    changed.providers = vec!["KZ_BNS".into()];
    changed.updated_after = Some(first_in);
    let rows = csv_rows(&data(&app, &changed).unwrap());
    let mut seen: Vec<String> = rows
        .iter()
        .map(|r| format!("{} {}.{} {} {}", r["ACTION"], r["REF_AREA"], r["MEASURE"], r["TIME_PERIOD"], r["OBS_VALUE"]))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            "D KZ-71.ARR 2020 ",
            "D KZ-75.ARR 2020 ",
            "I KZ-71.ARR 2021 76",
            "I KZ-75.DEP 2020 41",
            "I KZ-75.NET 2020 -41"
        ]
    );

    // Bad actions and codes are all reported, with their lines and columns, and nothing is written.
    let bad = [
        HEADER.to_string(),
        row("X", "KZ-75", "ARR", "2022", "1", "r3", "2023-01-01"),
        row("I", "KZ-99", "ARR", "2022", "1", "r3", "2023-01-01"),
        row("I", "KZ-75", "ARR", "2022", "one", "r3", "2023-01-01"),
    ]
    .join("\n");
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, bad).unwrap();
    let report = ingest(&app, &path);
    assert_eq!(report.outcome, IngestOutcome::Rejected);
    let at = |row: usize, column: &str| {
        report.diagnostics.iter().any(|d| d.row == Some(row) && d.column.as_deref() == Some(column))
    };
    assert!(
        at(2, "ACTION") && at(3, "REF_AREA") && at(4, "OBS_VALUE"),
        "every problem at once: {:?}",
        report.diagnostics
    );
    assert_eq!(releases(&app, "MIG_INT").len(), 2, "nothing written");
}

/// The official SDMX samples of the ECB's exchange rates (`../shared/reference/sdmx/samples/exr`).
fn exr_sample(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/sdmx/samples/exr").join(path)
}

fn example(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/examples").join(name)
}

#[test]
fn another_agencys_message_comes_in_through_its_structure_and_a_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let app = fresh(dir.path().join("bank.db"));
    app.declare_dataflows(&example("ecb_exr.toml")).unwrap();
    let request = |file: &str, structure: Option<&str>| IngestRequest {
        file: exr_sample(file),
        mapping: Some(example("ecb_exr_mapping.toml")),
        structure: structure.map(exr_sample),
        allow_defects: false,
        dry_run: false,
    };
    // Structure-specific data cannot be read without their data structure.
    let blind = app.ingest(&request("ecb_exr_ng/structured/ecb_exr_ng_ts.xml", None), &mut |_| {}).unwrap();
    assert_eq!(blind.outcome, IngestOutcome::Rejected);
    assert!(blind.diagnostics.iter().any(|d| d.code == "NO_STRUCTURE"), "{:?}", blind.diagnostics);

    let report = app
        .ingest(&request("ecb_exr_ng/structured/ecb_exr_ng_ts.xml", Some("ecb_exr_ng/ecb_exr_ng.xml")), &mut |_| {})
        .unwrap();
    assert_eq!(report.outcome, IngestOutcome::Written, "{:?}", report.diagnostics);
    assert_eq!(report.observations, 12, "4 currencies × 3 months, as in the sample");
    let rate = |area: &str, period: &str| {
        let report = app
            .query(&QueryRequest {
                dataflow: "FX_EUR".into(),
                keys: vec![format!("{area}.EXR")],
                from: Some(period.into()),
                to: Some(period.into()),
                ..QueryRequest::default()
            })
            .unwrap();
        let Figures::Observations(items) = report.items else { panic!("observations") };
        assert_eq!(items.len(), 1, "{area} {period}");
        (items[0].value, items[0].source.clone(), items[0].unit.clone())
    };
    assert_eq!(rate("CHE", "2010-08"), (Some(1.3413), "ECB".to_string(), "NCU_PER_EUR".to_string()));
    assert_eq!(rate("JPN", "2010-10").0, Some(113.67));
    assert_eq!(rate("GBR", "2010-09").0, Some(0.83987));

    // The same message again writes nothing.
    let again = app
        .ingest(&request("ecb_exr_ng/structured/ecb_exr_ng_ts.xml", Some("ecb_exr_ng/ecb_exr_ng.xml")), &mut |_| {})
        .unwrap();
    assert!(again.releases.iter().all(|r| matches!(r, koshi_app::load::WriteOutcome::Unchanged { .. })));

    // The same figures as generic data (which describe themselves) and in the flat layout read
    // the same; each message is its own citation, so each is a revision of the release.
    for file in ["ecb_exr_ng/generic/ecb_exr_ng_ts.xml", "ecb_exr_ng/structured/ecb_exr_ng_flat.xml"] {
        let other = app.ingest(&request(file, Some("ecb_exr_ng/ecb_exr_ng.xml")), &mut |_| {}).unwrap();
        assert_eq!(other.outcome, IngestOutcome::Written, "{file}: {:?}", other.diagnostics);
        assert_eq!(other.observations, 12, "{file}");
        assert_eq!(rate("CHE", "2010-08").0, Some(1.3413), "{file}");
        assert_eq!(rate("JPN", "2010-10").0, Some(113.67), "{file}");
    }
}
