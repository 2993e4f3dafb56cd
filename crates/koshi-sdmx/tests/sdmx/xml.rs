//! SDMX-ML 2.1: every official ECB EXR sample and the real ECB, INSEE and BIS messages read
//! (observation counts checked against an independent count of `Obs` elements, a few values,
//! keys and attributes checked exactly), real structure messages read, koshi's own messages
//! written and read back in both kinds and all three layouts, hostile documents refused, and
//! the readers fuzzed.
//!
//! Set `KOSHI_SDMX_XML_OUT=DIR` to keep the written messages (and their DSD schemas) for
//! validation with `tests/validate_xsd.py`.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use koshi_sdmx::xml::{
    XmlDataKind, XmlDataWriter, read_data, read_structure, write_dsd_schema, write_error, write_structure,
};
use koshi_sdmx::*;
use proptest::prelude::*;

const SDMX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference/sdmx");

fn path(rel: &str) -> PathBuf {
    Path::new(SDMX).join(rel)
}

fn bytes(rel: &str) -> Vec<u8> {
    let p = path(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn structures(rel: &str) -> Structures {
    let (s, report) = read_structure(rel, &bytes(rel)[..], ReadLimits::default()).expect("read from memory");
    assert!(!report.has_errors(), "{rel}: {:?}", report.diagnostics);
    s
}

fn read_bytes(name: &str, data: &[u8], s: &Structures, limits: ReadLimits) -> (ReadReport, Vec<ReadObservation>) {
    let mut seen = Vec::new();
    let mut sink = |o: ReadObservation| {
        seen.push(o);
        ControlFlow::Continue(())
    };
    let report = read_data(name, data, limits, s, &mut sink).expect("reading from memory cannot fail");
    (report, seen)
}

fn read(rel: &str, s: &Structures) -> (ReadReport, Vec<ReadObservation>) {
    read_bytes(rel, &bytes(rel), s, ReadLimits::default())
}

/// An independent count: `Obs` elements in the text, whatever their prefix.
fn count_obs_elements(data: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(data);
    let mut n = 0;
    for (i, _) in text.match_indices('<') {
        let rest = &text[i + 1..];
        let name_end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(rest.len());
        let name = &rest[..name_end];
        if name == "Obs" || name.ends_with(":Obs") {
            n += 1;
        }
    }
    n
}

fn key(o: &ReadObservation) -> Vec<(&str, &str)> {
    o.key.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

fn attr<'a>(o: &'a ReadObservation, id: &str) -> Option<&'a str> {
    o.attributes.iter().find(|(a, _)| a == id).map(|(_, v)| v.as_str())
}

fn codes(report: &ReadReport) -> Vec<&'static str> {
    report.diagnostics.iter().map(|d| d.code).collect()
}

// ----------------------------------------------------------------------------------------
// The official ECB EXR samples

const EXR: [&str; 3] = ["ecb_exr_ng", "ecb_exr_rg", "ecb_exr_sg"];

/// The structures of a sample set. The `rg` structure message names its DSD `ECB_EXR_CG`
/// while its data messages refer to `ECB_EXR_RG`: the DSD is renamed to what the data say.
fn exr_structures(set: &str) -> Structures {
    let mut s = structures(&format!("samples/exr/{set}/{set}.xml"));
    if set == "ecb_exr_rg" {
        s.data_structures[0].artefact.reference.id = "ECB_EXR_RG".into();
    }
    s
}

/// The generic cross-sections of `rg` and `sg` misspell CURRENCY as `CURRENY` in every
/// observation (and pair some values with other periods than the other layouts do).
const MISSPELT: [&str; 2] =
    ["samples/exr/ecb_exr_rg/generic/ecb_exr_rg_xs.xml", "samples/exr/ecb_exr_sg/generic/ecb_exr_sg_xs.xml"];

fn exr_files(set: &str) -> Vec<String> {
    let mut out = Vec::new();
    for kind in ["generic", "structured"] {
        let dir = path(&format!("samples/exr/{set}/{kind}"));
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".xml"))
            .map(|n| format!("samples/exr/{set}/{kind}/{n}"))
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

#[test]
fn every_exr_sample_is_read_whole() {
    let mut files = 0;
    for set in EXR {
        let s = exr_structures(set);
        assert_eq!(s.data_structures.len(), 1, "{set}");
        for file in exr_files(set) {
            files += 1;
            let data = bytes(&file);
            let (report, obs) = read(&file, &s);
            if MISSPELT.contains(&file.as_str()) {
                assert_eq!(report.observations, count_obs_elements(&data), "{file}");
                assert!(obs.iter().all(|o| key(o).iter().any(|(d, _)| *d == "CURRENY")), "{file}");
                if set == "ecb_exr_rg" {
                    // The DSD is known: the misspelling is reported where it is.
                    let first = &report.diagnostics[0];
                    assert_eq!((first.code, first.position.line), ("UNKNOWN_DIMENSION", 89), "{file}");
                    assert!(codes(&report).contains(&"MISSING_DIMENSION"), "{file}");
                }
                continue;
            }
            assert!(!report.has_errors(), "{file}: {:?}", report.diagnostics);
            assert_eq!(report.observations, count_obs_elements(&data), "{file}");
            assert_eq!(obs.len() as u64, report.observations, "{file}");
            assert!(report.observations > 0, "{file}");
            assert_eq!(report.datasets, 1, "{file}");
            for o in &obs {
                assert_eq!(o.key.len(), 5, "{file}: {:?}", o.key);
                assert!(o.time_period.as_deref().is_some_and(|t| t.starts_with("2010-")), "{file}: {o:?}");
                assert!(o.value.is_some(), "{file}: {o:?}");
                assert!(o.position.line > 1, "{file}");
            }
        }
    }
    assert_eq!(files, 24);
}

/// Every layout and kind of one sample set carries the same observations.
/// An observation's key, period and value.
type Row = (Vec<(String, String)>, Option<String>, Option<String>);

#[test]
fn exr_layouts_agree() {
    for set in EXR {
        let s = exr_structures(set);
        let mut reference: Option<Vec<Row>> = None;
        for file in exr_files(set).into_iter().filter(|f| !MISSPELT.contains(&f.as_str())) {
            let (_, obs) = read(&file, &s);
            let mut rows: Vec<_> =
                obs.iter().map(|o| (o.key.clone(), o.time_period.clone(), o.value.clone())).collect();
            rows.sort();
            match &reference {
                None => reference = Some(rows),
                Some(r) => assert_eq!(&rows, r, "{file}"),
            }
        }
    }
}

#[test]
fn exr_values_keys_and_attributes() {
    let s = structures("samples/exr/ecb_exr_ng/ecb_exr_ng.xml");
    let (_, obs) = read("samples/exr/ecb_exr_ng/generic/ecb_exr_ng_ts.xml", &s);
    let first = &obs[0];
    assert_eq!(
        key(first),
        [("FREQ", "M"), ("CURRENCY", "CHF"), ("CURRENCY_DENOM", "EUR"), ("EXR_TYPE", "SP00"), ("EXR_VAR", "E")]
    );
    assert_eq!(first.time_period.as_deref(), Some("2010-08"));
    assert_eq!(first.value.as_deref(), Some("1.3413"));
    assert_eq!(attr(first, "OBS_STATUS"), Some("A"));
    assert_eq!(attr(first, "DECIMALS"), Some("4"));
    assert_eq!(attr(first, "COLL_METHOD"), Some("Average of observations through period"));
    assert_eq!(first.structure, ArtefactRef::new("ECB", "ECB_EXR_NG", "1.0"));

    // Cross-section: the period comes from the series, the currency from the observation.
    let (_, xs) = read("samples/exr/ecb_exr_ng/structured/ecb_exr_ng_xs.xml", &s);
    let jpy = xs
        .iter()
        .find(|o| o.time_period.as_deref() == Some("2010-09") && key(o).contains(&("CURRENCY", "JPY")))
        .expect("JPY 2010-09");
    assert_eq!(jpy.value.as_deref(), Some("110.26"));
    assert_eq!(attr(jpy, "TITLE"), Some("ECB reference exchange rate, Japanese yen/Euro"));
    assert_eq!(key(jpy)[1], ("CURRENCY", "JPY"), "the key is in DSD order");

    // Groups: their attributes apply to the series they match.
    let s = exr_structures("ecb_exr_rg");
    for file in [
        "samples/exr/ecb_exr_rg/generic/ecb_exr_rg_ts_gf.xml",
        "samples/exr/ecb_exr_rg/structured/ecb_exr_rg_ts_gf.xml",
    ] {
        let (_, obs) = read(file, &s);
        let gbp = obs.iter().find(|o| key(o).contains(&("CURRENCY", "GBP"))).expect("GBP");
        assert_eq!(attr(gbp, "DECIMALS"), Some("5"), "{file}");
        assert_eq!(attr(gbp, "UNIT_MEASURE"), Some("GBP"), "{file}");
        assert_eq!(attr(gbp, "COLL_METHOD"), Some("Average of observations through period"), "{file}");
        assert_eq!(attr(gbp, "OBS_STATUS"), Some("A"), "{file}");
    }
}

// ----------------------------------------------------------------------------------------
// Real messages

#[test]
fn real_ecb_generic_data() {
    let s = structures("real-messages/ECB/EXR-dataflow-references-all.xml");
    let file = "real-messages/ECB/EXR-M.USD.EUR.SP00.A-generic.xml";
    let (report, obs) = read(file, &s);
    assert!(!report.has_errors(), "{:?}", report.diagnostics);
    assert_eq!(report.observations, count_obs_elements(&bytes(file)));
    assert_eq!(report.observations, 252);
    assert!(obs.iter().all(|o| key(o)
        == [("FREQ", "M"), ("CURRENCY", "USD"), ("CURRENCY_DENOM", "EUR"), ("EXR_TYPE", "SP00"), ("EXR_SUFFIX", "A")]));
    // Without structures the generic message reads all the same.
    let (report, _) = read(file, &Structures::default());
    assert!(!report.has_errors());
    assert_eq!(report.observations, 252);
}

#[test]
fn real_insee_generic_data() {
    let file = "real-messages/INSEE/CNA-2010-CONSO-SI-A17.xml";
    let (report, obs) = read(file, &Structures::default());
    assert!(!report.has_errors(), "{:?}", report.diagnostics);
    assert_eq!(report.observations, count_obs_elements(&bytes(file)));
    assert_eq!(obs.len(), 2);
    assert_eq!(attr(&obs[0], "IDBANK"), Some("001702690"));
    assert_eq!(key(&obs[0])[0], ("SECT-INST", "S13"));
}

#[test]
fn bis_generic_and_structure_specific_agree() {
    let s = structures("pysdmx/xml/BIS_DER-datastructure.xml");
    let mut all = Vec::new();
    for file in [
        "pysdmx/xml/BIS_DER-generic-ts.xml",
        "pysdmx/xml/BIS_DER-structurespecific-ts.xml",
        "pysdmx/xml/BIS_DER-structurespecific-flat.xml",
    ] {
        let (report, obs) = read(file, &s);
        assert!(!report.has_errors(), "{file}: {:?}", &report.diagnostics[..report.diagnostics.len().min(3)]);
        assert_eq!(report.observations, count_obs_elements(&bytes(file)), "{file}");
        assert_eq!(report.observations, 1000, "{file}");
        let mut rows: Vec<_> = obs.iter().map(|o| (o.key.clone(), o.time_period.clone(), o.value.clone())).collect();
        rows.sort();
        all.push(rows);
    }
    assert_eq!(all[0], all[1]);
    assert_eq!(all[0], all[2]);
}

#[test]
fn structure_specific_without_its_dsd_is_an_error() {
    let (report, obs) = read("pysdmx/xml/BIS_DER-structurespecific-ts.xml", &Structures::default());
    assert!(obs.is_empty());
    assert_eq!(codes(&report), ["NO_STRUCTURE"]);
    assert!(report.diagnostics[0].position.line > 1);
}

#[test]
fn real_structure_messages() {
    let s = structures("real-messages/ECB/ECB_EXR1-datastructure.xml");
    let dsd = &s.data_structures[0];
    assert_eq!(dsd.artefact.reference, ArtefactRef::new("ECB", "ECB_EXR1", "1.0"));
    assert_eq!(dsd.dimension_ids(), ["FREQ", "CURRENCY", "CURRENCY_DENOM", "EXR_TYPE", "EXR_SUFFIX"]);
    assert_eq!(dsd.attributes.len(), 24);
    assert_eq!(dsd.time_dimension.id, "TIME_PERIOD");
    assert_eq!(dsd.primary_measure.id, "OBS_VALUE");
    assert_eq!(dsd.dimensions[1].codelist, Some(ArtefactRef::new("ECB", "CL_CURRENCY", "1.0")));
    assert_eq!(dsd.attribute("TIME_FORMAT").map(|a| (&a.attachment, a.mandatory)), Some((&Attachment::Series, true)));
    assert_eq!(dsd.attribute("OBS_STATUS").map(|a| &a.attachment), Some(&Attachment::Observation));

    let s = structures("real-messages/ECB/EXR-dataflow-references-all.xml");
    assert_eq!(s.codelists.len(), 11);
    assert_eq!(s.codelists.iter().map(|c| c.items.len()).sum::<usize>(), 1824);
    assert_eq!(s.concept_schemes[0].items.len(), 340);
    assert_eq!(s.dataflows.len(), 1);
    assert_eq!(s.dataflows[0].structure, ArtefactRef::new("ECB", "ECB_EXR1", "1.0"));
    assert_eq!(s.constraints.len(), 1);
    assert!(s.constraints[0].key_values.iter().any(|(d, v)| d == "FREQ" && v.len() == 5));

    let s = structures("real-messages/ESTAT/apro_mk_cola-structure.xml");
    assert_eq!((s.codelists.len(), s.codelists.iter().map(|c| c.items.len()).sum::<usize>()), (6, 73));
    assert_eq!(s.data_structures[0].dimensions.len(), 4);
    assert_eq!(s.data_structures[0].attributes.len(), 2);
    assert_eq!(s.concept_schemes[0].items.len(), 9);

    let s = structures("real-messages/IMF/ECOFIN_DSD-structure.xml");
    assert_eq!((s.codelists.len(), s.codelists.iter().map(|c| c.items.len()).sum::<usize>()), (12, 12));
    assert_eq!(s.data_structures[0].dimensions.len(), 5);
    assert_eq!(s.data_structures[0].attributes.len(), 5);
    assert_eq!(s.concept_schemes.iter().map(|c| c.items.len()).sum::<usize>(), 141);
    assert_eq!(s.dataflows.len(), 1);
    assert_eq!(s.constraints.len(), 2);

    let s = structures("real-messages/INSEE/IPI-2010-A21-structure.xml");
    assert_eq!((s.codelists.len(), s.codelists.iter().map(|c| c.items.len()).sum::<usize>()), (3, 62));
    assert_eq!(s.data_structures[0].dimensions.len(), 3);
    assert_eq!(s.data_structures[0].attributes.len(), 11);
    assert_eq!(s.concept_schemes[0].items.len(), 97);
    assert_eq!(s.dataflows.len(), 1);

    let s = structures("real-messages/ECB/orgscheme.xml");
    assert_eq!(s.agency_schemes.len(), 2);
    assert_eq!(
        s.agency_schemes[1].items.iter().find(|a| a.id == "ECB").and_then(|a| a.names.get("en")),
        Some("European Central Bank")
    );
}

// ----------------------------------------------------------------------------------------
// koshi's own messages

fn m(agency: &str, id: &str) -> Maintainable {
    Maintainable {
        reference: ArtefactRef::new(agency, id, "1.0"),
        names: Names::en(format!("{id} <name> & more")).with("fr", format!("{id} (fr)")),
        descriptions: Names::en("A description"),
        is_final: true,
    }
}

fn comp(id: &str, codelist: Option<&str>) -> Component {
    Component {
        id: id.into(),
        concept_scheme: ArtefactRef::new("KOSHI", "CS_MIG", "1.0"),
        concept: id.into(),
        codelist: codelist.map(|c| ArtefactRef::new("KOSHI", c, "1.0")),
    }
}

fn codelist(id: &str, codes: &[&str]) -> ItemScheme {
    ItemScheme {
        artefact: m("KOSHI", id),
        items: codes
            .iter()
            .map(|c| Item {
                id: c.to_string(),
                names: Names::en(format!("code {c}")),
                descriptions: Names::default(),
                parent: None,
            })
            .collect(),
    }
}

fn koshi_dsd() -> DataStructure {
    DataStructure {
        artefact: m("KOSHI", "DSD_MIG_EXT"),
        dimensions: vec![
            comp("FREQ", Some("CL_FREQ")),
            comp("REF_AREA", Some("CL_AREA")),
            comp("FLOW", Some("CL_FLOW")),
        ],
        time_dimension: comp("TIME_PERIOD", None),
        primary_measure: comp("OBS_VALUE", None),
        attributes: vec![
            AttributeDef {
                component: comp("UNIT_MEASURE", Some("CL_UNIT")),
                attachment: Attachment::Series,
                mandatory: true,
            },
            AttributeDef { component: comp("TITLE", None), attachment: Attachment::Series, mandatory: false },
            AttributeDef {
                component: comp("OBS_STATUS", Some("CL_OBS_STATUS")),
                attachment: Attachment::Observation,
                mandatory: false,
            },
            AttributeDef { component: comp("SOURCE", None), attachment: Attachment::DataSet, mandatory: false },
        ],
    }
}

fn koshi_structures() -> Structures {
    let dataflow = ArtefactRef::new("KOSHI", "MIG_EXT", "1.0");
    let mut concepts = codelist(
        "CS_MIG",
        &["FREQ", "REF_AREA", "FLOW", "TIME_PERIOD", "OBS_VALUE", "UNIT_MEASURE", "TITLE", "OBS_STATUS", "SOURCE"],
    );
    concepts.items[1].parent = None;
    let mut areas = codelist("CL_AREA", &["FR", "FR10", "DE"]);
    areas.items[1].parent = Some("FR".into());
    Structures {
        agency_schemes: vec![ItemScheme {
            artefact: Maintainable { is_final: false, ..m("SDMX", "AGENCIES") },
            items: vec![Item {
                id: "KOSHI".into(),
                names: Names::en("koshi"),
                descriptions: Names::default(),
                parent: None,
            }],
        }],
        data_provider_schemes: vec![ItemScheme {
            artefact: Maintainable { is_final: false, ..m("KOSHI", "DATA_PROVIDERS") },
            items: vec![Item {
                id: "INSEE".into(),
                names: Names::en("Insee"),
                descriptions: Names::default(),
                parent: None,
            }],
        }],
        dataflows: vec![DataflowDef {
            artefact: m("KOSHI", "MIG_EXT"),
            structure: ArtefactRef::new("KOSHI", "DSD_MIG_EXT", "1.0"),
        }],
        codelists: vec![
            codelist("CL_FREQ", &["A", "M"]),
            areas,
            codelist("CL_FLOW", &["IN", "OUT"]),
            codelist("CL_UNIT", &["PS"]),
            codelist("CL_OBS_STATUS", &["A", "P", "M"]),
        ],
        concept_schemes: vec![concepts],
        data_structures: vec![koshi_dsd()],
        constraints: vec![ContentConstraint {
            artefact: m("KOSHI", "CC_MIG_EXT"),
            dataflow,
            key_values: vec![("FREQ".into(), vec!["A".into()]), ("REF_AREA".into(), vec!["FR".into(), "DE".into()])],
            time_range: Some(("2019".into(), "2021".into())),
        }],
    }
}

fn header() -> Header {
    Header {
        id: "KOSHI-1".into(),
        test: false,
        prepared: "2024-05-01T12:00:00".into(),
        sender: "KOSHI".into(),
        receiver: None,
    }
}

fn series(area: &str, flow: &str, obs: &[(&str, Option<&str>)]) -> Series {
    Series {
        key: vec![("FREQ".into(), "A".into()), ("REF_AREA".into(), area.into()), ("FLOW".into(), flow.into())],
        attributes: vec![
            ("UNIT_MEASURE".into(), "PS".into()),
            ("TITLE".into(), format!("Flow \"{flow}\" <{area}> & co")),
        ],
        observations: obs
            .iter()
            .map(|(t, v)| Obs {
                time_period: t.to_string(),
                value: v.map(str::to_string),
                attributes: vec![("OBS_STATUS".into(), if v.is_some() { "A" } else { "M" }.into())],
            })
            .collect(),
    }
}

fn koshi_series() -> Vec<Series> {
    vec![
        series("FR", "IN", &[("2019", Some("1200")), ("2020", Some("980.5")), ("2021", None)]),
        series("DE", "OUT", &[("2019", Some("-3")), ("2020", Some("0"))]),
        series("FR10", "OUT", &[]),
    ]
}

fn layouts() -> [ObservationDimension; 3] {
    [
        ObservationDimension::TimePeriod,
        ObservationDimension::Dimension("REF_AREA".into()),
        ObservationDimension::AllDimensions,
    ]
}

fn write_message(kind: XmlDataKind, dim: &ObservationDimension, action: Action, provider: Option<&str>) -> Vec<u8> {
    let dataflow = ArtefactRef::new("KOSHI", "MIG_EXT", "1.0");
    let mut out = Vec::new();
    let mut w: Box<dyn DataWriter + '_> =
        Box::new(XmlDataWriter::new(&mut out, kind, &header(), &koshi_dsd(), &dataflow, dim).expect("header"));
    w.start_dataset(&DataSetHeader {
        dataflow: dataflow.clone(),
        structure: ArtefactRef::new("KOSHI", "DSD_MIG_EXT", "1.0"),
        action,
        provider: provider.map(str::to_string),
        dimension_at_observation: dim.clone(),
        attributes: vec![("SOURCE".into(), "Insee & Destatis".into())],
    })
    .expect("data set");
    for s in koshi_series() {
        w.write_series(&s).expect("series");
    }
    w.end_dataset().expect("end");
    w.finish().expect("finish");
    out
}

fn keep(name: &str, data: &[u8]) {
    if let Some(dir) = std::env::var_os("KOSHI_SDMX_XML_OUT") {
        std::fs::create_dir_all(&dir).expect("output directory");
        std::fs::write(Path::new(&dir).join(name), data).expect("write");
    }
}

fn kind_name(kind: XmlDataKind) -> &'static str {
    match kind {
        XmlDataKind::Generic => "generic",
        XmlDataKind::StructureSpecific => "ss",
    }
}

fn layout_name(dim: &ObservationDimension) -> &'static str {
    match dim {
        ObservationDimension::TimePeriod => "ts",
        ObservationDimension::Dimension(_) => "xs",
        ObservationDimension::AllDimensions => "flat",
    }
}

#[test]
fn data_round_trips_in_every_kind_and_layout() {
    let s = koshi_structures();
    let dataflow = ArtefactRef::new("KOSHI", "MIG_EXT", "1.0");
    for kind in [XmlDataKind::Generic, XmlDataKind::StructureSpecific] {
        for dim in layouts() {
            let name = format!("data-{}-{}.xml", kind_name(kind), layout_name(&dim));
            let data = write_message(kind, &dim, Action::Replace, Some("INSEE"));
            keep(&name, &data);
            if kind == XmlDataKind::StructureSpecific {
                let schema = write_dsd_schema(Vec::new(), &koshi_dsd(), &dataflow, &dim).expect("schema");
                keep(&format!("schema-{}.xsd", layout_name(&dim)), &schema);
            }
            let (report, obs) = read_bytes(&name, &data, &s, ReadLimits::default());
            assert!(!report.has_errors(), "{name}: {:?}", report.diagnostics);
            let timed: Vec<_> = obs.iter().filter(|o| o.time_period.is_some()).collect();
            assert_eq!(timed.len(), 5, "{name}");
            for o in &obs {
                assert_eq!(o.action, Action::Replace, "{name}");
                assert_eq!(o.provider.as_deref(), Some("INSEE"), "{name}");
                assert_eq!(o.structure, dataflow, "{name}");
                assert_eq!(attr(o, "SOURCE"), Some("Insee & Destatis"), "{name}");
                assert_eq!(attr(o, "UNIT_MEASURE"), Some("PS"), "{name}");
            }
            let fr2020 = timed
                .iter()
                .find(|o| o.time_period.as_deref() == Some("2020") && key(o).contains(&("REF_AREA", "FR")))
                .expect("FR 2020");
            assert_eq!(key(fr2020), [("FREQ", "A"), ("REF_AREA", "FR"), ("FLOW", "IN")], "{name}");
            assert_eq!(fr2020.value.as_deref(), Some("980.5"), "{name}");
            assert_eq!(attr(fr2020, "TITLE"), Some("Flow \"IN\" <FR> & co"), "{name}");
            assert_eq!(attr(fr2020, "OBS_STATUS"), Some("A"), "{name}");
            let fr2021 = timed.iter().find(|o| o.time_period.as_deref() == Some("2021")).expect("2021");
            assert_eq!(fr2021.value.as_deref(), Some("NaN"), "{name}: a missing value is written NaN");
            // The series without observations: its key alone (time series) or an
            // observation without period (cross-section, flat).
            let empty: Vec<_> = obs.iter().filter(|o| o.time_period.is_none()).collect();
            match dim {
                ObservationDimension::TimePeriod => assert!(empty.is_empty(), "{name}"),
                _ => {
                    assert_eq!(empty.len(), 1, "{name}");
                    assert_eq!(key(empty[0]), [("FREQ", "A"), ("REF_AREA", "FR10"), ("FLOW", "OUT")], "{name}");
                }
            }
        }
    }
}

#[test]
fn series_delete_without_observations() {
    let s = koshi_structures();
    for kind in [XmlDataKind::Generic, XmlDataKind::StructureSpecific] {
        let data = write_message(kind, &ObservationDimension::TimePeriod, Action::Delete, None);
        let (report, obs) = read_bytes("delete", &data, &s, ReadLimits::default());
        assert!(!report.has_errors(), "{:?}", report.diagnostics);
        let deletes: Vec<_> = obs.iter().filter(|o| o.time_period.is_none()).collect();
        assert_eq!(deletes.len(), 1);
        assert_eq!(deletes[0].action, Action::Delete);
        assert_eq!(key(deletes[0])[1], ("REF_AREA", "FR10"));
        assert!(obs.iter().all(|o| o.provider.is_none()));
    }
}

#[test]
fn writer_refuses_data_that_do_not_fit_the_structure() {
    let dataflow = ArtefactRef::new("KOSHI", "MIG_EXT", "1.0");
    let dim = ObservationDimension::TimePeriod;
    let mut w =
        XmlDataWriter::new(Vec::new(), XmlDataKind::Generic, &header(), &koshi_dsd(), &dataflow, &dim).expect("header");
    w.start_dataset(&DataSetHeader {
        dataflow: dataflow.clone(),
        structure: ArtefactRef::new("KOSHI", "DSD_MIG_EXT", "1.0"),
        action: Action::Information,
        provider: None,
        dimension_at_observation: dim.clone(),
        attributes: vec![],
    })
    .expect("data set");
    let mut bad = series("FR", "IN", &[]);
    bad.key.push(("SEX".into(), "F".into()));
    assert!(matches!(w.write_series(&bad), Err(WriteError::Structure(_))));
    let mut bad = series("FR", "IN", &[]);
    bad.attributes.push(("NOPE".into(), "x".into()));
    assert!(matches!(w.write_series(&bad), Err(WriteError::Structure(_))));
    let xs = ObservationDimension::Dimension("SEX".into());
    assert!(XmlDataWriter::new(Vec::new(), XmlDataKind::Generic, &header(), &koshi_dsd(), &dataflow, &xs).is_err());
}

#[test]
fn structures_round_trip() {
    let s = koshi_structures();
    let url = |class: &str, r: &ArtefactRef| {
        format!("https://koshi.example/sdmx/structure/{}/{}/{}/{}", class.to_lowercase(), r.agency, r.id, r.version)
    };
    for (detail, name) in [
        (StructureDetail::Full, "full"),
        (StructureDetail::AllStubs, "allstubs"),
        (StructureDetail::ReferenceStubs, "referencestubs"),
    ] {
        let data = write_structure(Vec::new(), &header(), &s, detail, &url).expect("write");
        keep(&format!("structure-{name}.xml"), &data);
        let (back, report) = read_structure(name, &data[..], ReadLimits::default()).expect("read");
        assert!(!report.has_errors(), "{name}: {:?}", report.diagnostics);
        let text = String::from_utf8_lossy(&data);
        match detail {
            StructureDetail::Full => {
                assert_eq!(back, s);
                assert!(!text.contains("structureURL"));
            }
            _ => {
                assert_eq!(back.codelists.len(), 5);
                assert!(back.codelists.iter().all(|c| c.items.is_empty()));
                assert_eq!(back.codelists[0].artefact, s.codelists[0].artefact);
                assert!(text.contains("isExternalReference=\"true\""));
                assert_eq!(
                    text.contains("structureURL=\"https://koshi.example/sdmx/structure/codelist/KOSHI/CL_FREQ/1.0\""),
                    detail == StructureDetail::ReferenceStubs
                );
            }
        }
    }
}

#[test]
fn error_messages() {
    let data = write_error(Vec::new(), 100, "No results <found> & \"nothing\" here").expect("write");
    keep("error-100.xml", &data);
    let text = String::from_utf8(data).expect("utf-8");
    assert!(text.contains("<message:ErrorMessage code=\"100\">"));
    assert!(text.contains(
        "<common:Text xml:lang=\"en\">No results &lt;found&gt; &amp; &quot;nothing&quot; here</common:Text>"
    ));
}

#[test]
fn data_are_checked_against_the_structure() {
    let s = koshi_structures();
    let data =
        String::from_utf8(write_message(XmlDataKind::Generic, &ObservationDimension::TimePeriod, Action::Append, None))
            .expect("utf-8")
            .replacen("id=\"REF_AREA\" value=\"DE\"", "id=\"REF_AREA\" value=\"XX\"", 1)
            .replacen("id=\"FLOW\" value=\"IN\"", "id=\"FLOWS\" value=\"IN\"", 1)
            .replacen("id=\"TITLE\"", "id=\"TITEL\"", 1);
    let (report, obs) = read_bytes("checked", data.as_bytes(), &s, ReadLimits::default());
    let mut found = codes(&report);
    found.sort();
    found.dedup();
    assert_eq!(found, ["MISSING_DIMENSION", "UNKNOWN_ATTRIBUTE", "UNKNOWN_CODE", "UNKNOWN_DIMENSION"]);
    assert!(report.diagnostics.iter().all(|d| d.position.line > 10 && d.position.column.is_some()));
    let bad_code = report.diagnostics.iter().find(|d| d.code == "UNKNOWN_CODE").expect("code");
    let line = data.lines().position(|l| l.contains("value=\"XX\"")).expect("line") as u64 + 1;
    assert_eq!(bad_code.position.line, line);
    assert_eq!(obs.len(), 5);

    // Structure-specific: an unknown component.
    let data = String::from_utf8(write_message(
        XmlDataKind::StructureSpecific,
        &ObservationDimension::TimePeriod,
        Action::Append,
        None,
    ))
    .expect("utf-8")
    .replacen("OBS_STATUS=", "OBS_STATE=", 1);
    let (report, _) = read_bytes("checked", data.as_bytes(), &s, ReadLimits::default());
    assert_eq!(codes(&report), ["UNKNOWN_COMPONENT"]);
}

// ----------------------------------------------------------------------------------------
// Hostile and broken documents

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<message:GenericData xmlns:message="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"><message:Header><message:ID>&lol9;</message:ID></message:Header></message:GenericData>"#;

const EXTERNAL_ENTITY: &str = r#"<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<mes:Structure xmlns:mes="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"><mes:Structures><str:Codelists xmlns:str="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"><str:Codelist id="CL" agencyID="X"><com:Name xmlns:com="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common">&xxe;</com:Name></str:Codelist></str:Codelists></mes:Structures></mes:Structure>"#;

#[test]
fn doctypes_are_refused() {
    let (report, obs) =
        read_bytes("lolz.xml", BILLION_LAUGHS.as_bytes(), &Structures::default(), ReadLimits::default());
    assert!(obs.is_empty());
    assert_eq!(codes(&report), ["DTD_REFUSED"]);
    assert_eq!(report.diagnostics[0].position.line, 2);
    let (s, report) = read_structure("xxe.xml", EXTERNAL_ENTITY.as_bytes(), ReadLimits::default()).expect("read");
    assert_eq!(codes(&report), ["DTD_REFUSED"]);
    assert!(s.is_empty());
    // An undeclared entity without a DOCTYPE is not resolved either.
    let doc = EXTERNAL_ENTITY.replace("<!DOCTYPE foo [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>", "");
    let (s, report) = read_structure("xxe.xml", doc.as_bytes(), ReadLimits::default()).expect("read");
    assert_eq!(codes(&report), ["BAD_ENTITY"]);
    assert!(s.codelists.is_empty());
}

#[test]
fn malformed_and_oversized_documents_are_diagnosed() {
    let s = structures("samples/exr/ecb_exr_ng/ecb_exr_ng.xml");
    let good = String::from_utf8(bytes("samples/exr/ecb_exr_ng/generic/ecb_exr_ng_ts.xml")).expect("utf-8");
    // Truncated.
    let (report, _) = read_bytes("cut.xml", &good.as_bytes()[..good.len() / 2], &s, ReadLimits::default());
    assert_eq!(codes(&report), ["MALFORMED_XML"]);
    // A mismatched end tag, at its line.
    let bad = good.replacen("</generic:Obs>", "</generic:Ob>", 1);
    let line = bad.lines().position(|l| l.contains("</generic:Ob>")).expect("line") as u64 + 1;
    let (report, _) = read_bytes("bad.xml", bad.as_bytes(), &s, ReadLimits::default());
    assert_eq!(codes(&report), ["MALFORMED_XML"]);
    assert_eq!(report.diagnostics[0].position.line, line);
    // Too deep, too long.
    let limits = ReadLimits { max_depth: 5, ..ReadLimits::default() };
    let (report, _) = read_bytes("deep.xml", good.as_bytes(), &s, limits);
    assert_eq!(codes(&report), ["TOO_DEEP"]);
    let limits = ReadLimits { max_text: 20, ..ReadLimits::default() };
    let (report, _) = read_bytes("long.xml", good.as_bytes(), &s, limits);
    assert!(codes(&report).contains(&"TEXT_TOO_LONG"));
    // Not a data message; empty input.
    let (report, _) = read("real-messages/ECB/orgscheme.xml", &s);
    assert_eq!(codes(&report), ["NOT_DATA_MESSAGE"]);
    let (report, _) = read_bytes("empty.xml", b"", &s, ReadLimits::default());
    assert_eq!(codes(&report), ["MALFORMED_XML"]);
    // Diagnostics are bounded.
    let limits = ReadLimits { max_diagnostics: 2, ..ReadLimits::default() };
    let many = good.replace("id=\"EXR_VAR\"", "id=\"EXR_VARIANT\"");
    let (report, _) = read_bytes("many.xml", many.as_bytes(), &s, limits);
    assert_eq!(report.diagnostics.len(), 2);
}

#[test]
fn the_sink_can_stop_reading() {
    let s = structures("pysdmx/xml/BIS_DER-datastructure.xml");
    let mut n = 0;
    let mut sink = |_: ReadObservation| {
        n += 1;
        if n == 10 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    };
    let report =
        read_data("bis", &bytes("pysdmx/xml/BIS_DER-generic-ts.xml")[..], ReadLimits::default(), &s, &mut sink)
            .expect("read");
    assert_eq!(report.observations, 10);
}

// ----------------------------------------------------------------------------------------
// Fuzzing

fn fuzz_corpus() -> &'static [(Vec<u8>, Structures)] {
    static CORPUS: std::sync::OnceLock<Vec<(Vec<u8>, Structures)>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(|| {
        let ng = structures("samples/exr/ecb_exr_ng/ecb_exr_ng.xml");
        let rg = exr_structures("ecb_exr_rg");
        let mut out = vec![
            (bytes("samples/exr/ecb_exr_ng/generic/ecb_exr_ng_ts.xml"), ng.clone()),
            (bytes("samples/exr/ecb_exr_ng/generic/ecb_exr_ng_xs.xml"), ng.clone()),
            (bytes("samples/exr/ecb_exr_ng/structured/ecb_exr_ng_flat.xml"), ng.clone()),
            (bytes("samples/exr/ecb_exr_rg/structured/ecb_exr_rg_ts_gf.xml"), rg.clone()),
            (bytes("samples/exr/ecb_exr_rg/generic/ecb_exr_rg_ts_gf.xml"), rg),
            (bytes("real-messages/INSEE/CNA-2010-CONSO-SI-A17.xml"), Structures::default()),
        ];
        out.push((bytes("real-messages/ECB/orgscheme.xml"), ng.clone()));
        out.push((bytes("pysdmx/xml/error-150.xml"), ng));
        out
    })
}

fn check_fuzzed(data: &[u8], s: &Structures) {
    let limits = ReadLimits { max_depth: 32, max_text: 4096, max_diagnostics: 100 };
    let (report, _) = read_bytes("fuzz.xml", data, s, limits);
    for d in &report.diagnostics {
        assert!(d.position.line >= 1 && d.position.column.is_some(), "{d:?}");
    }
    let (_, report) = read_structure("fuzz.xml", data, limits).expect("read from memory");
    for d in &report.diagnostics {
        assert!(d.position.line >= 1 && d.position.column.is_some(), "{d:?}");
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippet = prop_oneof![
        Just(b"<".to_vec()),
        Just(b"&".to_vec()),
        Just(b"&amp;".to_vec()),
        Just(b"&#0;".to_vec()),
        Just(b"&#x110000;".to_vec()),
        Just(b"<!DOCTYPE x>".to_vec()),
        Just(b"<![CDATA[x]]>".to_vec()),
        Just(b"<Obs/>".to_vec()),
        Just(b"<generic:Obs>".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just("é\u{10FFFF}".as_bytes().to_vec()),
        proptest::collection::vec(any::<u8>(), 0..16),
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), snippet).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<usize>(), 0usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(data: &mut Vec<u8>, m: &Mutation) {
    if data.is_empty() {
        return;
    }
    match m {
        Mutation::Flip(i, b) => {
            let i = i % data.len();
            data[i] = *b;
        }
        Mutation::Insert(i, s) => {
            let i = i % (data.len() + 1);
            data.splice(i..i, s.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let i = i % data.len();
            let end = (i + n).min(data.len());
            data.drain(i..end);
        }
        Mutation::Truncate(i) => {
            let i = i % data.len();
            data.truncate(i);
        }
    }
}

/// 256 cases unless `PROPTEST_CASES` asks for more (CI runs 4000).
fn fuzz_cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), ..ProptestConfig::default() })]

    #[test]
    fn fuzz_sdmx_xml_mutated_messages(which in any::<usize>(), mutations in proptest::collection::vec(mutation(), 1..6)) {
        let corpus = fuzz_corpus();
        let (original, s) = &corpus[which % corpus.len()];
        let mut data = original.clone();
        for m in &mutations {
            apply(&mut data, m);
        }
        check_fuzzed(&data, s);
    }

    #[test]
    fn fuzz_sdmx_xml_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_fuzzed(&data, &fuzz_corpus()[0].1);
    }

    #[test]
    fn fuzz_sdmx_xml_arbitrary_text_in_a_message(text in "\\PC{0,64}", attr_text in "\\PC{0,32}") {
        // Anything koshi writes reads back as it was written.
        let dataflow = ArtefactRef::new("KOSHI", "MIG_EXT", "1.0");
        for kind in [XmlDataKind::Generic, XmlDataKind::StructureSpecific] {
            let dim = ObservationDimension::TimePeriod;
            let mut out = Vec::new();
            let mut w = XmlDataWriter::new(&mut out, kind, &header(), &koshi_dsd(), &dataflow, &dim).expect("header");
            w.start_dataset(&DataSetHeader {
                dataflow: dataflow.clone(),
                structure: ArtefactRef::new("KOSHI", "DSD_MIG_EXT", "1.0"),
                action: Action::Information,
                provider: None,
                dimension_at_observation: dim.clone(),
                attributes: vec![("SOURCE".into(), attr_text.clone())],
            }).expect("data set");
            let mut sr = series("FR", "IN", &[("2020", Some("1"))]);
            sr.attributes[1].1 = text.clone();
            w.write_series(&sr).expect("series");
            Box::new(w).finish().expect("finish");
            let (report, obs) = read_bytes("text", &out, &Structures::default(), ReadLimits::default());
            let _ = report;
            if kind == XmlDataKind::Generic {
                prop_assert_eq!(obs.len(), 1);
                let expect = |t: &str| t.chars().map(|c| if matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}') { c } else { '\u{FFFD}' }).collect::<String>();
                let (title, source) = (expect(&text), expect(&attr_text));
                prop_assert_eq!(attr(&obs[0], "TITLE"), Some(title.as_str()));
                prop_assert_eq!(attr(&obs[0], "SOURCE"), Some(source.as_str()));
            }
        }
    }
}
