//! SDMX-CSV 1.0 and 2.0: every pysdmx reader sample read (counts checked against an
//! independent count of data rows), the malformed ones reported with record and column,
//! koshi's own messages written and read back, the writer's layout compared with pysdmx's,
//! and the reader fuzzed.

use std::ops::ControlFlow;
use std::sync::OnceLock;

use koshi_sdmx::csv::{CsvDataWriter, CsvVersion, codes, read_csv};
use koshi_sdmx::*;
use proptest::prelude::*;

const PYSDMX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference/sdmx/pysdmx/csv");

fn sample(path: &str) -> Vec<u8> {
    let full = format!("{PYSDMX}/{path}");
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// An independent count of data rows: non-blank lines after the header (no sample has a
/// line break inside a field).
fn data_rows(bytes: &[u8]) -> usize {
    String::from_utf8_lossy(bytes).lines().filter(|l| !l.trim().is_empty()).count().saturating_sub(1)
}

fn read_with(
    name: &str,
    bytes: &[u8],
    structures: &Structures,
    limits: ReadLimits,
) -> (ReadReport, Vec<ReadObservation>) {
    let mut seen = Vec::new();
    let mut sink = |o: ReadObservation| {
        seen.push(o);
        ControlFlow::Continue(())
    };
    let report = read_csv(name, bytes, limits, structures, &mut sink).expect("reading from memory cannot fail");
    (report, seen)
}

fn read(name: &str, bytes: &[u8], structures: &Structures) -> (ReadReport, Vec<ReadObservation>) {
    read_with(name, bytes, structures, ReadLimits::default())
}

fn key(o: &ReadObservation) -> Vec<(&str, &str)> {
    o.key.iter().map(|(d, c)| (d.as_str(), c.as_str())).collect()
}

fn attrs(o: &ReadObservation) -> Vec<(&str, &str)> {
    o.attributes.iter().map(|(d, c)| (d.as_str(), c.as_str())).collect()
}

pub(crate) fn maintainable(agency: &str, id: &str, version: &str) -> Maintainable {
    Maintainable {
        reference: ArtefactRef::new(agency, id, version),
        names: Names::en(id),
        descriptions: Names::default(),
        is_final: true,
    }
}

pub(crate) fn component(id: &str, codelist: Option<&str>) -> Component {
    Component {
        id: id.into(),
        concept_scheme: ArtefactRef::new("KOSHI", "CS", "1.0"),
        concept: id.into(),
        codelist: codelist.map(|c| ArtefactRef::new("KOSHI", c, "1.0")),
    }
}

pub(crate) fn attribute(id: &str, attachment: Attachment, codelist: Option<&str>) -> AttributeDef {
    AttributeDef { component: component(id, codelist), attachment, mandatory: false }
}

pub(crate) fn dsd(agency: &str, id: &str, dims: &[&str], attributes: Vec<AttributeDef>) -> DataStructure {
    DataStructure {
        artefact: maintainable(agency, id, "1.0"),
        dimensions: dims.iter().map(|d| component(d, None)).collect(),
        time_dimension: component("TIME_PERIOD", None),
        primary_measure: component("OBS_VALUE", None),
        attributes,
    }
}

/// BIS:BIS_DER(1.0) as pysdmx's datastructure.xml defines it (no code lists).
fn bis_der() -> DataStructure {
    use Attachment::*;
    let dims = [
        "FREQ",
        "DER_TYPE",
        "DER_INSTR",
        "DER_RISK",
        "DER_REP_CTY",
        "DER_SECTOR_CPY",
        "DER_CPC",
        "DER_SECTOR_UDL",
        "DER_CURR_LEG1",
        "DER_CURR_LEG2",
        "DER_ISSUE_MAT",
        "DER_RATING",
        "DER_EX_METHOD",
        "DER_BASIS",
    ];
    let attributes = [
        ("TIME_FORMAT", Series),
        ("OBS_STATUS", Observation),
        ("AVAILABILITY", Series),
        ("COLLECTION", Series),
        ("DECIMALS", DataSet),
        ("UNIT_MEASURE", DataSet),
        ("UNIT_MULT", DataSet),
        ("OBS_CONF", Observation),
        ("OBS_PRE_BREAK", Observation),
        ("TITLE_TS", Series),
    ];
    dsd("BIS", "BIS_DER", &dims, attributes.into_iter().map(|(a, at)| attribute(a, at, None)).collect())
}

/// MD:MD_TEST(1.0) of pysdmx's writer samples: ATT1 at series, ATT2 at observation level.
fn md_test() -> DataStructure {
    dsd(
        "MD",
        "MD_TEST",
        &["DIM1", "DIM2"],
        vec![attribute("ATT1", Attachment::Series, None), attribute("ATT2", Attachment::Observation, None)],
    )
}

pub(crate) fn with_dsds(dsds: Vec<DataStructure>) -> Structures {
    let dataflows = dsds
        .iter()
        .map(|d| DataflowDef {
            artefact: maintainable(&d.artefact.reference.agency, &d.artefact.reference.id, "1.0"),
            structure: d.artefact.reference.clone(),
        })
        .collect();
    Structures { data_structures: dsds, dataflows, ..Structures::default() }
}

// ---------------------------------------------------------------------------------------------
// The pysdmx reader samples
// ---------------------------------------------------------------------------------------------

const VALID: &[&str] = &[
    "sdmx10/reader/csv_labels_both.csv",
    "sdmx10/reader/data_v1.csv",
    "sdmx10/reader/data_v1_datetime.csv",
    "sdmx10/reader/data_v1_no_freq_cols.csv",
    "sdmx20/reader/csv_keys_both.csv",
    "sdmx20/reader/csv_labels_both.csv",
    "sdmx20/reader/csv_labels_name.csv",
    "sdmx20/reader/data_v2.csv",
    "sdmx20/reader/data_v2_datetime.csv",
    "sdmx20/reader/data_v2_merge_action.csv",
    "sdmx20/reader/data_v2_no_freq_cols.csv",
    "sdmx20/reader/data_v2_structures.csv",
    "sdmx20/reader/data_v2_structures_uppercase.csv",
    "sdmx20/reader/data_v2_three_actions.csv",
    "sdmx20/reader/data_v2_two_actions.csv",
    // The writer samples are SDMX-CSV too.
    "sdmx10/writer/csv_labels_both.csv",
    "sdmx10/writer/csv_labels_id.csv",
    "sdmx10/writer/reference.csv",
    "sdmx10/writer/reference_attch_atts.csv",
    "sdmx20/writer/csv_keys_both.csv",
    "sdmx20/writer/csv_keys_obs.csv",
    "sdmx20/writer/csv_keys_series.csv",
    "sdmx20/writer/csv_labels_both.csv",
    "sdmx20/writer/csv_labels_id.csv",
    "sdmx20/writer/csv_labels_name.csv",
    "sdmx20/writer/reference.csv",
    "sdmx20/writer/reference_partial_keys.csv",
    "sdmx20/writer/reference_with_action.csv",
];

/// data_v2_action_col.csv has an ACTION column in its header but not in its records (22
/// fields under 23 columns): pandas pads them, SDMX-CSV (RFC 4180) does not allow it.
const INVALID: &[&str] = &[
    "sdmx20/reader/data_v2_action_col.csv",
    "sdmx10/reader/data_v1_exception.csv",
    "sdmx20/reader/data_v2_exception.csv",
    "sdmx20/reader/data_v2_invalid_action.csv",
    "sdmx20/reader/data_v2_structures_exception.csv",
];

#[test]
fn every_valid_sample_reads_one_observation_per_data_row() {
    for path in VALID {
        let bytes = sample(path);
        let (report, seen) = read(path, &bytes, &Structures::default());
        assert!(!report.has_errors(), "{path}: {:#?}", report.diagnostics);
        let rows = data_rows(&bytes);
        assert!(rows > 0, "{path}");
        assert_eq!(report.observations as usize, rows, "{path}");
        assert_eq!(seen.len(), rows, "{path}");
        for (i, o) in seen.iter().enumerate() {
            assert_eq!(o.position.line, i as u64 + 2, "{path}: records are numbered from the header");
            assert_eq!(o.position.file, *path);
            assert!(o.dataset < report.datasets, "{path}");
        }
    }
}

#[test]
fn bis_der_v1_and_v2_keys_values_and_attributes() {
    let bytes = sample("sdmx10/reader/data_v1.csv");
    let (report, seen) = read("data_v1.csv", &bytes, &Structures::default());
    assert_eq!((report.observations, report.datasets), (1000, 1));
    let first = &seen[0];
    assert_eq!(first.structure, ArtefactRef::new("BIS", "BIS_DER", "1.0"));
    assert_eq!(first.action, Action::Information);
    assert_eq!(first.key.len(), 14);
    assert_eq!(first.key[0], ("FREQ".into(), "A".into()));
    assert_eq!(first.key[3], ("DER_RISKs".into(), "B".into()), "without the DSD the header is taken as it is");
    assert_eq!(first.key[13], ("DER_BASIS".into(), "C".into()));
    assert_eq!(first.time_period.as_deref(), Some("2002"));
    assert_eq!(first.value, None, "an empty OBS_VALUE is a missing value");
    assert_eq!(attrs(first), [("AVAILABILITY", "K"), ("COLLECTION", "S"), ("OBS_STATUS", "M"), ("OBS_CONF", "F")]);
    assert_eq!(seen[2].value.as_deref(), Some("14206.490766"));
    assert_eq!(seen[2].time_period.as_deref(), Some("2004"));
    let with_value = seen.iter().filter(|o| o.value.is_some()).count();
    let text = String::from_utf8_lossy(&bytes);
    let independent = text.lines().skip(1).filter(|l| !l.ends_with(',')).count();
    assert_eq!(with_value, independent);

    // 2.0, read against the DSD: the key in DSD order, the attributes known.
    let bytes = sample("sdmx20/reader/data_v2.csv");
    let structures = with_dsds(vec![bis_der()]);
    let (report, seen) = read("data_v2.csv", &bytes, &structures);
    assert!(!report.has_errors(), "{:#?}", report.diagnostics);
    assert_eq!(report.observations as usize, data_rows(&bytes));
    let dims: Vec<&str> = seen[0].key.iter().map(|(d, _)| d.as_str()).collect();
    assert_eq!(dims, bis_der().dimension_ids());
    assert_eq!(seen[2].value.as_deref(), Some("14206.490766"));
    assert_eq!(attrs(&seen[2]), [("AVAILABILITY", "K"), ("COLLECTION", "S"), ("OBS_STATUS", "A"), ("OBS_CONF", "F")]);

    // 1.0 against the DSD: its header says DER_RISKs, which the DSD does not have.
    let bytes = sample("sdmx10/reader/data_v1.csv");
    let (report, seen) = read("data_v1.csv", &bytes, &structures);
    assert!(seen.is_empty(), "every record has a value in the unknown column");
    let unknown: Vec<_> = report.diagnostics.iter().filter(|d| d.code == codes::UNKNOWN_COLUMN).collect();
    assert_eq!(unknown.len(), 1, "reported once per structure and column");
    assert_eq!(unknown[0].position.line, 2);
    assert_eq!(unknown[0].position.column.as_deref(), Some("DER_RISKs"));
    let missing: Vec<_> = report.diagnostics.iter().filter(|d| d.code == codes::MISSING_DIMENSION).collect();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].position.column.as_deref(), Some("DER_RISK"));
}

#[test]
fn actions_runs_and_merge() {
    let bytes = sample("sdmx20/reader/data_v2_three_actions.csv");
    let (report, seen) = read("three", &bytes, &Structures::default());
    assert!(!report.has_errors());
    let actions: Vec<_> = seen.iter().map(|o| (o.dataset, o.action)).collect();
    use Action::*;
    assert_eq!(actions, [(0, Delete), (1, Replace), (1, Replace), (2, Information)]);
    assert_eq!(report.datasets, 3);
    assert!(seen[0].key.is_empty(), "a delete may leave the key empty");
    assert_eq!(seen[0].value, None);
    assert_eq!(seen[1].structure, ArtefactRef::new("TEST", "TEST_MD", "1.0"));
    assert_eq!(key(&seen[1]), [("Id_1", "A"), ("Id_2", "A"), ("Me_1", "6")]);

    let bytes = sample("sdmx20/reader/data_v2_two_actions.csv");
    let (report, seen) = read("two", &bytes, &Structures::default());
    assert_eq!(seen.iter().map(|o| o.action).collect::<Vec<_>>(), [Delete, Replace, Replace]);
    assert_eq!(report.datasets, 2);

    let bytes = sample("sdmx20/reader/data_v2_merge_action.csv");
    let (_, seen) = read("merge", &bytes, &Structures::default());
    assert_eq!(seen.iter().map(|o| o.action).collect::<Vec<_>>(), [Merge]);

    let bytes = sample("sdmx20/writer/reference_with_action.csv");
    let (_, seen) = read("with_action", &bytes, &Structures::default());
    assert_eq!(seen[0].action, Replace);
    assert_eq!(seen[0].value.as_deref(), Some("nan"), "values are passed on as written");

    let bytes = sample("sdmx20/reader/data_v2.csv");
    let (_, seen) = read("no_action", &bytes, &Structures::default());
    assert!(seen.iter().all(|o| o.action == Information && o.dataset == 0));
}

#[test]
fn several_structures_in_one_message() {
    for path in ["sdmx20/reader/data_v2_structures.csv", "sdmx20/reader/data_v2_structures_uppercase.csv"] {
        let bytes = sample(path);
        let (report, seen) = read(path, &bytes, &Structures::default());
        assert!(!report.has_errors(), "{path}: {:#?}", report.diagnostics);
        let structures: Vec<_> = seen.iter().map(|o| o.structure.to_string()).collect();
        assert_eq!(structures, ["ESTAT:DF_A(1.6.0)", "ESTAT:DSD_B(1.7.0)", "ESTAT:DPA_C(1.8.0)"]);
        assert_eq!(seen.iter().map(|o| o.dataset).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(
            key(&seen[1]),
            [
                ("DIM_A1B1", "DIMVAL_A1B1"),
                ("DIM_B2", "DIMVAL_B2"),
                ("MEAS_A1B1C1", "MEASVAL_A1B1C1"),
                ("ATTR_B1", "ATTRVAL_B1")
            ]
        );
    }
}

#[test]
fn labels_and_names_reduce_to_ids() {
    let structures = with_dsds(vec![md_test()]);
    let expect = |path: &str, structures: &Structures| {
        let bytes = sample(path);
        let (report, seen) = read(path, &bytes, structures);
        assert!(!report.has_errors(), "{path}: {:#?}", report.diagnostics);
        assert_eq!(seen.len(), 1, "{path}");
        let o = &seen[0];
        assert_eq!(o.structure, ArtefactRef::new("MD", "MD_TEST", "1.0"), "{path}");
        assert_eq!(key(o), [("DIM1", "A"), ("DIM2", "B")], "{path}");
        assert_eq!(o.time_period.as_deref(), Some("2020"), "{path}");
        assert_eq!(o.value.as_deref(), Some("1"), "{path}");
        assert_eq!(attrs(o), [("ATT1", "C"), ("ATT2", "D")], "{path}");
    };
    for path in [
        "sdmx20/reader/csv_labels_both.csv",
        "sdmx20/reader/csv_labels_name.csv",
        "sdmx20/reader/csv_keys_both.csv",
        "sdmx20/writer/csv_labels_both.csv",
        "sdmx20/writer/csv_labels_name.csv",
        "sdmx20/writer/csv_keys_both.csv",
        "sdmx20/writer/csv_keys_obs.csv",
        "sdmx20/writer/csv_keys_series.csv",
        "sdmx20/writer/csv_labels_id.csv",
    ] {
        expect(path, &structures);
    }
    // 1.0 names a dataflow: MD:MD_TEST(1.0) resolves to the DSD through the dataflow.
    for path in
        ["sdmx10/reader/csv_labels_both.csv", "sdmx10/writer/csv_labels_both.csv", "sdmx10/writer/csv_labels_id.csv"]
    {
        expect(path, &structures);
    }

    // Without a structure, labels still go.
    let bytes = sample("sdmx10/reader/data_v1_no_freq_cols.csv");
    let (_, seen) = read("no_freq", &bytes, &Structures::default());
    assert_eq!(seen[0].structure, ArtefactRef::new("WB", "GCI", "1.0"));
    assert_eq!(key(&seen[0]), [("REF_AREA", "GHA"), ("INDICATOR", "GCI"), ("SUB_INDICATOR", "RANK"), ("FREQ", "A")]);
    assert_eq!((seen[0].time_period.as_deref(), seen[0].value.as_deref()), (Some("2008"), Some("102")));

    // A value with a colon but no label stays whole.
    let bytes = sample("sdmx20/reader/data_v2_datetime.csv");
    let (_, seen) = read("datetime", &bytes, &Structures::default());
    assert_eq!(attrs(&seen[0]), [("EMBARGO_TIME", "2025-12-19T14:30:00Z")]);
}

#[test]
fn malformed_samples_give_positioned_errors() {
    for path in INVALID {
        let bytes = sample(path);
        let (report, seen) = read(path, &bytes, &Structures::default());
        assert!(report.has_errors(), "{path}");
        for d in &report.diagnostics {
            assert_eq!(d.position.file, *path);
            assert!(d.position.line >= 1);
            assert!(d.position.column.is_some(), "{path}: {d:?}");
        }
        let first = &report.diagnostics[0];
        match *path {
            "sdmx10/reader/data_v1_exception.csv" | "sdmx20/reader/data_v2_exception.csv" => {
                assert_eq!((first.code, first.position.line), (codes::NOT_SDMX_CSV, 1));
                assert_eq!(first.position.column.as_deref(), Some("FREQ"));
                assert!(seen.is_empty());
            }
            "sdmx20/reader/data_v2_action_col.csv" => {
                assert_eq!(report.diagnostics.len(), data_rows(&bytes), "one per record");
                for (i, d) in report.diagnostics.iter().enumerate() {
                    assert_eq!((d.code, d.position.line), (codes::FIELD_COUNT, i as u64 + 2));
                    assert_eq!(d.position.column.as_deref(), Some("OBS_VALUE"), "the first column without a field");
                }
                assert!(seen.is_empty());
            }
            "sdmx20/reader/data_v2_invalid_action.csv" => {
                assert_eq!((first.code, first.position.line), (codes::BAD_ACTION, 2));
                assert_eq!(first.position.column.as_deref(), Some("ACTION"));
                assert!(seen.is_empty());
            }
            "sdmx20/reader/data_v2_structures_exception.csv" => {
                assert_eq!(report.diagnostics.len(), 1);
                assert_eq!((first.code, first.position.line), (codes::BAD_STRUCTURE_KIND, 4));
                assert_eq!(first.position.column.as_deref(), Some("STRUCTURE"));
                assert_eq!(seen.len(), 2, "the other records are read");
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn every_problem_is_reported_and_the_list_capped() {
    let text = "STRUCTURE,STRUCTURE_ID,ACTION,DIM1,DIM2,TIME_PERIOD,OBS_VALUE,ATT1,ATT2\n\
                datastructure,MD:MD_TEST(1.0),X,A,B,2020,1,,\n\
                datastructure,MD:MD_TEST(1.0),I,A,B,2020\n\
                ,MD:MD_TEST(1.0),I,A,B,2020,1,,\n\
                datastructure,,I,A,B,2020,1,,\n\
                datastructure,MD_TEST,I,A,B,2020,1,,\n\
                datastructure,MD:MD_TEST(1.0),I,,B,2020,1,,\n\
                datastructure,MD:MD_TEST(1.0),D,,B,2020,,,\n\
                datastructure,MD:MD_TEST(1.0),I,A,B,2020,1,,,extra\n\
                datastructure,MD:MD_TEST(1.0),I,A,\"B, quoted \"\"x\"\"\",2021,,C,\n";
    let structures = with_dsds(vec![md_test()]);
    let (report, seen) = read("bad.csv", text.as_bytes(), &structures);
    let found: Vec<_> =
        report.diagnostics.iter().map(|d| (d.code, d.position.line, d.position.column.as_deref())).collect();
    assert_eq!(
        found,
        [
            (codes::BAD_ACTION, 2, Some("ACTION")),
            (codes::FIELD_COUNT, 3, Some("OBS_VALUE")),
            (codes::BAD_STRUCTURE_KIND, 4, Some("STRUCTURE")),
            (codes::MISSING_STRUCTURE_ID, 5, Some("STRUCTURE_ID")),
            (codes::BAD_STRUCTURE_ID, 6, Some("STRUCTURE_ID")),
            (codes::MISSING_KEY_VALUE, 7, Some("DIM1")),
            (codes::FIELD_COUNT, 9, None),
        ]
    );
    assert_eq!(seen.len(), 2);
    assert_eq!((seen[0].action, key(&seen[0])), (Action::Delete, vec![("DIM2", "B")]));
    assert_eq!(key(&seen[1]), [("DIM1", "A"), ("DIM2", "B, quoted \"x\"")]);
    assert_eq!((seen[1].value.as_deref(), attrs(&seen[1])), (None, vec![("ATT1", "C")]));

    let limits = ReadLimits { max_diagnostics: 3, ..ReadLimits::default() };
    let (report, _) = read_with("bad.csv", text.as_bytes(), &structures, limits);
    assert_eq!(report.diagnostics.len(), 4);
    let last = &report.diagnostics[3];
    assert_eq!((last.code, last.severity, last.position.line), (codes::TOO_MANY_DIAGNOSTICS, Severity::Error, 5));
    assert!(last.message.starts_with("4 more"), "{}", last.message);

    let limits = ReadLimits { max_text: 11, ..ReadLimits::default() };
    let (report, seen) = read_with(
        "long.csv",
        b"DATAFLOW,D,TIME_PERIOD,OBS_VALUE\nA:B(1.0),ABCDEFGHIJKL,2020,1\n",
        &Structures::default(),
        limits,
    );
    assert!(seen.is_empty());
    assert_eq!(report.diagnostics[0].code, codes::TEXT_TOO_LONG);
    assert_eq!(report.diagnostics[0].position.column.as_deref(), Some("D"));
}

#[test]
fn codes_outside_their_code_list_are_errors() {
    let mut md = md_test();
    md.dimensions[0].codelist = Some(ArtefactRef::new("KOSHI", "CL_DIM1", "1.0"));
    md.attributes[1].component.codelist = Some(ArtefactRef::new("KOSHI", "CL_ATT2", "1.0"));
    let mut structures = with_dsds(vec![md]);
    structures.codelists = vec![codelist("CL_DIM1", &["A", "B"]), codelist("CL_ATT2", &["D"])];
    let text = "STRUCTURE,STRUCTURE_ID,ACTION,DIM1,DIM2,TIME_PERIOD,OBS_VALUE,ATT1,ATT2\n\
                dataflow,MD:MD_TEST(1.0),I,A,B,2020,1,C,D\n\
                dataflow,MD:MD_TEST(1.0),I,Z,B,2020,1,C,E\n\
                dataflow,MD:MD_TEST(1.0),I,B,B,2020,1,C,\n";
    let (report, seen) = read("codes.csv", text.as_bytes(), &structures);
    let found: Vec<_> =
        report.diagnostics.iter().map(|d| (d.code, d.position.line, d.position.column.as_deref())).collect();
    assert_eq!(found, [(codes::UNKNOWN_CODE, 3, Some("DIM1")), (codes::UNKNOWN_CODE, 3, Some("ATT2"))]);
    assert_eq!(seen.len(), 2);
}

pub(crate) fn codelist(id: &str, codes: &[&str]) -> ItemScheme {
    ItemScheme {
        artefact: maintainable("KOSHI", id, "1.0"),
        items: codes
            .iter()
            .map(|c| Item {
                id: c.to_string(),
                names: Names::en(format!("name of {c}")),
                descriptions: Names::default(),
                parent: None,
            })
            .collect(),
    }
}

#[test]
fn a_sink_can_stop_the_read() {
    let bytes = sample("sdmx10/reader/data_v1.csv");
    let mut n = 0;
    let mut sink = |_: ReadObservation| {
        n += 1;
        if n == 10 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    };
    let report = read_csv("v1", &bytes[..], ReadLimits::default(), &Structures::default(), &mut sink).unwrap();
    assert_eq!((n, report.observations), (10, 10));
}

// ---------------------------------------------------------------------------------------------
// Writing and reading back
// ---------------------------------------------------------------------------------------------

pub(crate) fn migration_dsd() -> DataStructure {
    let mut d = dsd(
        "KOSHI",
        "MIGRATION",
        &["FREQ", "ORIGIN", "DESTINATION"],
        vec![
            attribute("UNIT_MULT", Attachment::DataSet, None),
            attribute("TITLE", Attachment::Series, None),
            attribute("OBS_STATUS", Attachment::Observation, Some("CL_OBS_STATUS")),
        ],
    );
    d.dimensions[1].codelist = Some(ArtefactRef::new("KOSHI", "CL_AREA", "1.0"));
    d.dimensions[2].codelist = Some(ArtefactRef::new("KOSHI", "CL_AREA", "1.0"));
    d
}

pub(crate) fn migration_structures() -> Structures {
    let mut s = with_dsds(vec![migration_dsd()]);
    s.codelists = vec![codelist("CL_AREA", &["DE", "FR", "IT"]), codelist("CL_OBS_STATUS", &["A", "E", "M"])];
    s
}

pub(crate) fn obs(period: &str, value: Option<&str>, status: Option<&str>) -> Obs {
    Obs {
        time_period: period.into(),
        value: value.map(str::to_string),
        attributes: status.map(|s| vec![("OBS_STATUS".to_string(), s.to_string())]).unwrap_or_default(),
    }
}

pub(crate) fn series(origin: &str, destination: &str, title: Option<&str>, observations: Vec<Obs>) -> Series {
    Series {
        key: vec![
            ("FREQ".into(), "A".into()),
            ("ORIGIN".into(), origin.into()),
            ("DESTINATION".into(), destination.into()),
        ],
        attributes: title.map(|t| vec![("TITLE".to_string(), t.to_string())]).unwrap_or_default(),
        observations,
    }
}

/// Two data sets: information with several series (missing values, attributes at every
/// level, a series without observations), then a delete.
pub(crate) fn migration_data() -> Vec<(DataSetHeader, Vec<Series>)> {
    let dataflow = ArtefactRef::new("KOSHI", "MIGRATION", "1.0");
    let header = |action, attributes: Vec<(String, String)>| DataSetHeader {
        dataflow: dataflow.clone(),
        structure: dataflow.clone(),
        action,
        provider: None,
        dimension_at_observation: ObservationDimension::TimePeriod,
        attributes,
    };
    vec![
        (
            header(Action::Information, vec![("UNIT_MULT".into(), "3".into())]),
            vec![
                series(
                    "DE",
                    "FR",
                    Some("Germany to France"),
                    vec![
                        obs("2019", Some("12.5"), Some("A")),
                        obs("2020", None, Some("M")),
                        obs("2021", Some("14"), None),
                    ],
                ),
                series(
                    "DE",
                    "IT",
                    Some("Quoted \"title\", with comma\nand a line break"),
                    vec![obs("2020", Some("3"), Some("E"))],
                ),
                series("FR", "DE", None, vec![]),
            ],
        ),
        (
            header(Action::Delete, vec![]),
            vec![series("DE", "FR", None, vec![obs("2020", None, None)]), series("DE", "IT", None, vec![])],
        ),
    ]
}

fn write(version: CsvVersion, data: &[(DataSetHeader, Vec<Series>)]) -> Vec<u8> {
    let dsd = migration_dsd();
    let dataflow = ArtefactRef::new("KOSHI", "MIGRATION", "1.0");
    let mut out = Vec::new();
    let mut writer: Box<dyn DataWriter + '_> =
        Box::new(CsvDataWriter::new(&mut out, version, &dsd, &dataflow).unwrap());
    for (header, series) in data {
        writer.start_dataset(header).unwrap();
        for s in series {
            writer.write_series(s).unwrap();
        }
        writer.end_dataset().unwrap();
    }
    writer.finish().unwrap();
    out
}

/// What a reader should give for `data`: one observation per observation or key-only series.
/// A read observation's data set, action, key, period, value and attributes.
type Row = (usize, Action, Vec<(String, String)>, Option<String>, Option<String>, Vec<(String, String)>);

fn expected(data: &[(DataSetHeader, Vec<Series>)], version: CsvVersion) -> Vec<Row> {
    let dsd = migration_dsd();
    let mut out = Vec::new();
    for (i, (header, all)) in data.iter().enumerate() {
        let (dataset, action) = match version {
            CsvVersion::V1 => (0, Action::Information),
            CsvVersion::V2 => (i, header.action),
        };
        for s in all {
            let rows: Vec<Option<&Obs>> =
                if s.observations.is_empty() { vec![None] } else { s.observations.iter().map(Some).collect() };
            for o in rows {
                let mut attributes = Vec::new();
                for a in &dsd.attributes {
                    let id = &a.component.id;
                    let found = o
                        .and_then(|o| o.attributes.iter().find(|(k, _)| k == id))
                        .or_else(|| s.attributes.iter().find(|(k, _)| k == id))
                        .or_else(|| header.attributes.iter().find(|(k, _)| k == id));
                    if let Some((k, v)) = found {
                        attributes.push((k.clone(), v.clone()));
                    }
                }
                out.push((
                    dataset,
                    action,
                    s.key.clone(),
                    o.map(|o| o.time_period.clone()),
                    o.and_then(|o| o.value.clone()),
                    attributes,
                ));
            }
        }
    }
    out
}

#[test]
fn round_trip_v1_and_v2() {
    let data = migration_data();
    for version in [CsvVersion::V1, CsvVersion::V2] {
        let bytes = write(version, &data);
        for structures in [migration_structures(), Structures::default()] {
            let (report, seen) = read("round trip", &bytes, &structures);
            assert!(
                !report.has_errors(),
                "{version:?}: {:#?}\n{}",
                report.diagnostics,
                String::from_utf8_lossy(&bytes)
            );
            let got: Vec<_> = seen
                .iter()
                .map(|o| {
                    (o.dataset, o.action, o.key.clone(), o.time_period.clone(), o.value.clone(), o.attributes.clone())
                })
                .collect();
            assert_eq!(got, expected(&data, version), "{version:?}");
            assert!(seen.iter().all(|o| o.structure == ArtefactRef::new("KOSHI", "MIGRATION", "1.0")));
        }
    }
    let v2 = String::from_utf8(write(CsvVersion::V2, &data)).unwrap();
    let mut lines = v2.lines();
    assert_eq!(
        lines.next(),
        Some("STRUCTURE,STRUCTURE_ID,ACTION,FREQ,ORIGIN,DESTINATION,TIME_PERIOD,OBS_VALUE,UNIT_MULT,TITLE,OBS_STATUS")
    );
    assert_eq!(lines.next(), Some("dataflow,KOSHI:MIGRATION(1.0),I,A,DE,FR,2019,12.5,3,Germany to France,A"));
    assert!(v2.contains("\ndataflow,KOSHI:MIGRATION(1.0),I,A,FR,DE,,,3,,\n"), "a key alone: {v2}");
    assert!(v2.contains("\ndataflow,KOSHI:MIGRATION(1.0),D,A,DE,IT,,,,,\n"), "a whole series deleted: {v2}");
    let v1 = String::from_utf8(write(CsvVersion::V1, &data)).unwrap();
    assert!(v1.starts_with("DATAFLOW,FREQ,ORIGIN,DESTINATION,TIME_PERIOD,OBS_VALUE,UNIT_MULT,TITLE,OBS_STATUS\nKOSHI:MIGRATION(1.0),A,DE,FR,2019,12.5,3,"));
}

#[test]
fn the_writer_checks_keys_and_attributes() {
    let dsd = migration_dsd();
    let dataflow = ArtefactRef::new("KOSHI", "MIGRATION", "1.0");
    let data = migration_data();
    let mut out = Vec::new();
    let mut writer = CsvDataWriter::new(&mut out, CsvVersion::V2, &dsd, &dataflow).unwrap();
    assert!(matches!(writer.write_series(&data[0].1[0]), Err(WriteError::Structure(_))), "outside a data set");
    writer.start_dataset(&data[0].0).unwrap();
    let mut bad = data[0].1[0].clone();
    bad.key.push(("SEX".into(), "F".into()));
    assert!(matches!(writer.write_series(&bad), Err(WriteError::Structure(_))));
    let mut bad = data[0].1[0].clone();
    bad.key.remove(1);
    assert!(matches!(writer.write_series(&bad), Err(WriteError::Structure(_))), "a partial key outside a delete");
    let mut bad = data[0].1[0].clone();
    bad.attributes.push(("NOTE".into(), "x".into()));
    assert!(matches!(writer.write_series(&bad), Err(WriteError::Structure(_))));
    // A key given out of DSD order is put in order.
    let mut shuffled = data[0].1[0].clone();
    shuffled.key.reverse();
    writer.write_series(&shuffled).unwrap();
    Box::new(writer).finish().unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.lines().nth(1).unwrap().starts_with("dataflow,KOSHI:MIGRATION(1.0),I,A,DE,FR,2019,12.5"), "{out}");
}

#[test]
fn v2_layout_matches_the_pysdmx_writer() {
    // pysdmx's reference_partial_keys.csv: MD_TEST, a key-only row with the series attribute,
    // then two observations with the observation attribute.
    let dsd = md_test();
    let dataflow = ArtefactRef::new("MD", "MD_TEST", "1.0");
    let header = DataSetHeader {
        dataflow: dataflow.clone(),
        structure: dataflow.clone(),
        action: Action::Information,
        provider: None,
        dimension_at_observation: ObservationDimension::TimePeriod,
        attributes: vec![],
    };
    let key = vec![("DIM1".to_string(), "A".to_string()), ("DIM2".to_string(), "B".to_string())];
    let att = |id: &str, v: &str| vec![(id.to_string(), v.to_string())];
    let mut out = Vec::new();
    let mut writer: Box<dyn DataWriter + '_> =
        Box::new(CsvDataWriter::new(&mut out, CsvVersion::V2, &dsd, &dataflow).unwrap());
    writer.start_dataset(&header).unwrap();
    writer.write_series(&Series { key: key.clone(), attributes: att("ATT1", "C"), observations: vec![] }).unwrap();
    writer
        .write_series(&Series {
            key,
            attributes: vec![],
            observations: vec![
                Obs { time_period: "2020".into(), value: Some("1".into()), attributes: att("ATT2", "D") },
                Obs { time_period: "2021".into(), value: Some("2".into()), attributes: att("ATT2", "E") },
            ],
        })
        .unwrap();
    writer.end_dataset().unwrap();
    writer.finish().unwrap();

    let records = |bytes: &[u8]| -> Vec<Vec<String>> {
        let mut r = ::csv::ReaderBuilder::new().has_headers(false).from_reader(bytes);
        r.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
    };
    let ours = records(&out);
    let theirs = records(&sample("sdmx20/writer/reference_partial_keys.csv"));
    assert_eq!(ours[0], theirs[0], "the header");
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(&theirs).skip(1) {
        // pysdmx names the DSD (datastructure), koshi the dataflow.
        assert_eq!((a[0].as_str(), b[0].as_str()), ("dataflow", "datastructure"));
        assert_eq!(a[1..], b[1..]);
    }

    // BIS_DER with an action: the dimensions, TIME_PERIOD and OBS_VALUE where pysdmx has them.
    let theirs = records(&sample("sdmx20/writer/reference_with_action.csv"));
    let dsd = bis_der();
    let mut out = Vec::new();
    Box::new(CsvDataWriter::new(&mut out, CsvVersion::V2, &dsd, &dataflow).unwrap()).finish().unwrap();
    let ours = records(&out);
    let n = 3 + dsd.dimensions.len() + 2;
    assert_eq!(ours[0][..n], theirs[0][..n]);
}

// ---------------------------------------------------------------------------------------------
// Fuzzing
// ---------------------------------------------------------------------------------------------

fn samples() -> &'static Vec<Vec<u8>> {
    static ALL: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<Vec<u8>> = VALID.iter().chain(INVALID).map(|p| sample(p)).collect();
        // Keep the big one small enough for thousands of cases.
        for s in &mut all {
            if s.len() > 8_000 {
                let cut = s[..8_000].iter().rposition(|&b| b == b'\n').unwrap_or(8_000);
                s.truncate(cut + 1);
            }
        }
        all.push(write(CsvVersion::V2, &migration_data()));
        all.push(write(CsvVersion::V1, &migration_data()));
        all
    })
}

fn check_read(bytes: &[u8]) {
    let limits = ReadLimits { max_diagnostics: 20, max_text: 64, max_depth: 8 };
    let records = bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1;
    for structures in [Structures::default(), with_dsds(vec![md_test(), bis_der()]), migration_structures()] {
        let mut n = 0u64;
        let mut sink = |o: ReadObservation| {
            assert!(o.position.line >= 2 && o.position.line <= records, "{o:?}");
            n += 1;
            ControlFlow::Continue(())
        };
        let report = read_csv("fuzz.csv", bytes, limits, &structures, &mut sink).unwrap();
        assert_eq!(report.observations, n);
        assert!(report.diagnostics.len() <= limits.max_diagnostics + 1);
        for d in &report.diagnostics {
            assert_eq!(d.position.file, "fuzz.csv");
            assert!(d.position.line >= 1 && d.position.line <= records, "{d:?}");
            assert!(!d.message.is_empty());
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = prop::sample::select(vec![b',', b'"', b'\n', b'\r', b':', b' ', b'(', b')', 0xff, b'D', b'X']);
    prop_oneof![
        (any::<usize>(), special.clone()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), special).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), 1..200usize).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    match *m {
        Mutation::Flip(i, b) => {
            let i = i % bytes.len();
            bytes[i] = b;
        }
        Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
        Mutation::Delete(i) => {
            bytes.remove(i % bytes.len());
        }
        Mutation::Duplicate(i, n) => {
            let i = i % bytes.len();
            let end = (i + n).min(bytes.len());
            let piece = bytes[i..end].to_vec();
            bytes.splice(i..i, piece);
        }
    }
}

proptest! {
    // The default case count (256), or PROPTEST_CASES.

    #[test]
    fn fuzz_sdmx_csv_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2_000)) {
        check_read(&bytes);
    }

    #[test]
    fn fuzz_sdmx_csv_header_and_cells(
        v2 in any::<bool>(),
        cells in prop::collection::vec(prop::collection::vec("[A-Za-z0-9_:() ,\"\n-]{0,12}", 1..8), 1..8),
    ) {
        let mut text = String::from(if v2 { "STRUCTURE,STRUCTURE_ID,ACTION,DIM1,DIM2,TIME_PERIOD,OBS_VALUE,ATT1,ATT2\n" } else { "DATAFLOW,DIM1,DIM2,TIME_PERIOD,OBS_VALUE,ATT1,ATT2\n" });
        for row in &cells {
            text.push_str(&row.join(","));
            text.push('\n');
        }
        check_read(text.as_bytes());
    }

    #[test]
    fn fuzz_sdmx_csv_mutated_samples(which in any::<prop::sample::Index>(), mutations in prop::collection::vec(mutation(), 1..8)) {
        let all = samples();
        let mut bytes = all[which.index(all.len())].clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        check_read(&bytes);
    }
}
