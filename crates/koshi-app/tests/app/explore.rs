//! Choosing and taking data away: the codes a dataflow's series use, labelled; and a download
//! whose CSV holds exactly the figures the query gives, with metadata and a README that cites the
//! sources and their terms. Too large a selection is refused, not cut.

use std::io::Read;

use koshi_app::AppError;
use koshi_app::bank::{Figures, QueryRequest};

use crate::bundled;

fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            (file.name().unwrap().to_string(), text)
        })
        .collect()
}

#[test]
fn a_dataflow_s_codes_are_those_its_series_use_with_their_labels() {
    let codes = bundled().dataflow_codes("MIG_INT").unwrap();
    let areas = &codes.dimensions[0];
    assert_eq!(areas.id, "REF_AREA");
    let ids: Vec<&str> = areas.codes.iter().map(|c| c.id.as_str()).collect();
    assert!(ids.contains(&"KZ-75") && ids.contains(&"KAZ"), "{ids:?}");
    assert!(!ids.contains(&"BLR"), "only codes the series use");
    assert_eq!(areas.codes.iter().find(|c| c.id == "KZ-75").unwrap().labels.ru, "город Алматы");
    let measures: Vec<&str> = codes.dimensions[1].codes.iter().map(|c| c.id.as_str()).collect();
    assert!(measures.contains(&"ARR") && measures.contains(&"NET"), "{measures:?}");
    assert_eq!(codes.first_period.as_deref(), Some("2000"));
    assert!(matches!(bundled().dataflow_codes("NOPE"), Err(AppError::NotFound { .. })));
}

#[test]
fn a_download_holds_the_query_s_figures_with_metadata_and_a_readme() {
    for harmonised in [false, true] {
        let request = QueryRequest {
            dataflow: "MIG_EXT".into(),
            keys: vec!["REF_AREA=KAZ+BLR,COUNTERPART=WLD,MEASURE=NET".into()],
            harmonised,
            ..QueryRequest::default()
        };
        let download = bundled().download(&request).unwrap();
        assert_eq!(download.file_name, "koshi-MIG_EXT-REF_AREA_KAZ_BLR_COUNTERPART_WLD_MEASURE_NET.zip");
        let files = unzip(&download.bytes);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.rsplit('/').next().unwrap()).collect();
        assert_eq!(names, ["data.csv", "metadata.json", "README.md"]);
        let mut csv = csv::Reader::from_reader(files[0].1.as_bytes());
        let header = csv.headers().unwrap().clone();
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
        let figures: Vec<(String, String, Option<f64>, String)> = match bundled().query(&request).unwrap().items {
            Figures::Observations(o) => {
                o.into_iter().map(|o| (o.key.join("."), o.time_period, o.value_base, o.source)).collect()
            }
            Figures::Harmonised(h) => {
                h.into_iter().map(|h| (h.key.join("."), h.time_period, h.value_base, h.source)).collect()
            }
        };
        assert_eq!(rows.len(), figures.len());
        assert_eq!(download.rows, figures.len());
        assert!(rows.len() > 100, "both countries' UN series: {}", rows.len());
        for (row, (key, period, value, source)) in rows.iter().zip(&figures) {
            let row_key = ["REF_AREA", "COUNTERPART", "SEX", "EDUCATION", "MEASURE"].map(|d| &row[column(d)]).join(".");
            assert_eq!(&row_key, key);
            assert_eq!(&row[column("time_period")], period);
            let cell = &row[column("value")];
            assert_eq!(
                if cell.is_empty() { None } else { Some(cell.parse::<f64>().unwrap()) },
                *value,
                "{key} {period}"
            );
            assert_eq!(&row[column("source")], source);
        }
        assert_eq!(&rows[0][column("REF_AREA_label")], "Belarus");
        if harmonised {
            assert!(
                rows.iter().all(|r| !r[column("defects_or_reason")].is_empty()),
                "every harmonised figure says why"
            );
        }
        let metadata: serde_json::Value = serde_json::from_str(&files[1].1).unwrap();
        assert_eq!(metadata["rows"], figures.len());
        assert_eq!(metadata["selection"]["harmonised"], harmonised);
        let sources: Vec<&str> =
            metadata["sources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert!(sources.contains(&"UN_WPP"), "{sources:?}");
        let readme = &files[2].1;
        assert!(readme.contains("CC BY 3.0 IGO") && readme.contains("How to cite"), "{readme}");
    }
}

#[test]
fn too_large_a_download_is_refused_with_what_to_do() {
    let request = QueryRequest { dataflow: "MIG_STOCK".into(), ..QueryRequest::default() };
    match bundled().download(&request) {
        Err(AppError::Invalid { field, message }) => {
            assert_eq!(field, "key");
            assert!(message.contains("380") && message.contains("fewer"), "{message}");
        }
        other => panic!("{:?}", other.map(|d| d.rows)),
    }
}
