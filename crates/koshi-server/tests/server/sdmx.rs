//! The SDMX REST API in process: formats by Accept and format=, the figures of the bank in
//! SDMX-CSV, ETag and 304, streaming across chunks, and SDMX error messages with the
//! specification's status codes (a real client reads a real server in `tests/sdmx1/`).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use super::{fixture, real_bank, send};

const CSV2: &str = "application/vnd.sdmx.data+csv;version=2.0.0";
const GENERIC: &str = "application/vnd.sdmx.genericdata+xml;version=2.1";
const STRUCTURE: &str = "application/vnd.sdmx.structure+xml;version=2.1";

fn get(uri: &str, accept: &str) -> Request<Body> {
    Request::get(uri).header(header::ACCEPT, accept).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn data_come_in_the_format_asked_for_with_the_banks_figures() {
    let f = fixture();
    let answer = send(&f.app, get("/sdmx/rest/data/MIG_EXT/KAZ.WLD._T._T.NET/KOSHI,KZ_BNS+KOSHI,UN_WPP", CSV2)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers[header::CONTENT_TYPE], CSV2);
    assert!(answer.headers[header::VARY].to_str().unwrap().starts_with("Accept"));
    let text = String::from_utf8(answer.bytes.to_vec()).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert!(
        rows[0].starts_with(
            "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,COUNTERPART,SEX,EDUCATION,MEASURE,TIME_PERIOD,OBS_VALUE"
        )
    );
    assert_eq!(rows.len(), 3, "one figure per source: {text}");
    assert!(rows.iter().any(|r| r.contains(",2017,-22426,") && r.contains("KZ_BNS")), "{text}");
    assert!(rows.iter().any(|r| r.contains(",2017,21248,") && r.contains("UN_WPP")), "{text}");

    // Without a provider: the harmonised figure, which says whose it is.
    let harmonised = send(&f.app, get("/sdmx/rest/data/MIG_EXT/KAZ.WLD._T._T.NET?format=csvdata2", "*/*")).await;
    let text = String::from_utf8(harmonised.bytes.to_vec()).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");

    // Generic SDMX-ML by default; JSON and CSV 1.0 by Accept; a 406 for what is not served.
    let xml = send(&f.app, get("/sdmx/rest/data/MIG_EXT", "*/*")).await;
    assert_eq!(xml.headers[header::CONTENT_TYPE], GENERIC);
    assert!(String::from_utf8_lossy(&xml.bytes).contains("<generic:ObsValue value=\"-22426\""));
    for (accept, expected) in [
        ("application/vnd.sdmx.data+json;version=1.0.0", "application/vnd.sdmx.data+json;version=1.0.0"),
        ("text/csv", "application/vnd.sdmx.data+csv;version=1.0.0"),
        (
            "text/html;q=0.9, application/vnd.sdmx.structurespecificdata+xml;version=2.1",
            "application/vnd.sdmx.structurespecificdata+xml;version=2.1",
        ),
    ] {
        let answer = send(&f.app, get("/sdmx/rest/data/MIG_EXT", accept)).await;
        assert_eq!(answer.status, StatusCode::OK, "{accept}");
        assert_eq!(answer.headers[header::CONTENT_TYPE], expected, "{accept}");
    }
    let refused = send(&f.app, get("/sdmx/rest/data/MIG_EXT", "text/html")).await;
    assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn an_unchanged_answer_is_a_304_and_a_change_makes_a_new_tag() {
    let f = fixture();
    let first = send(&f.app, get("/sdmx/rest/data/MIG_EXT", CSV2)).await;
    let tag = first.headers[header::ETAG].to_str().unwrap().to_string();
    let again = Request::get("/sdmx/rest/data/MIG_EXT")
        .header(header::ACCEPT, CSV2)
        .header(header::IF_NONE_MATCH, &tag)
        .body(Body::empty())
        .unwrap();
    let answer = send(&f.app, again).await;
    assert_eq!(answer.status, StatusCode::NOT_MODIFIED);
    assert!(answer.bytes.is_empty());
    let other_format = send(&f.app, get("/sdmx/rest/data/MIG_EXT", GENERIC)).await;
    assert_ne!(other_format.headers[header::ETAG].to_str().unwrap(), tag, "the tag names the format");

    let mut bank = koshi_store::Bank::open(&f.path).unwrap();
    bank.write_releases(&[super::release(
        "KZ_BNS",
        "r2",
        "2019-03-01",
        vec![super::observation("KZ_BNS", "2018", -1.0)],
    )])
    .unwrap();
    let changed = send(&f.app, get("/sdmx/rest/data/MIG_EXT", CSV2)).await;
    assert_ne!(changed.headers[header::ETAG].to_str().unwrap(), tag, "a write changes the tag");
}

#[tokio::test]
async fn errors_are_sdmx_error_messages_with_the_specifications_status() {
    let f = fixture();
    for (uri, accept, status, code) in [
        ("/sdmx/rest/data/MIG_EXT/KAZ.WLD._T._T.NET?startPeriod=2090", GENERIC, StatusCode::NOT_FOUND, "100"),
        ("/sdmx/rest/data/NOTHING", GENERIC, StatusCode::NOT_FOUND, "100"),
        ("/sdmx/rest/data/MIG_EXT/KAZ.NET", GENERIC, StatusCode::BAD_REQUEST, "150"),
        ("/sdmx/rest/data/MIG_EXT?color=red", GENERIC, StatusCode::BAD_REQUEST, "140"),
        ("/sdmx/rest/data/MIG_EXT?lastNObservations=0", GENERIC, StatusCode::BAD_REQUEST, "140"),
        ("/sdmx/rest/data/MIG_EXT?includeHistory=true", GENERIC, StatusCode::NOT_IMPLEMENTED, "501"),
        ("/sdmx/rest/metadataflow", STRUCTURE, StatusCode::NOT_IMPLEMENTED, "501"),
        ("/sdmx/rest/codelist/KOSHI/CL_NOTHING", STRUCTURE, StatusCode::NOT_FOUND, "100"),
        ("/sdmx/rest/codelist/KOSHI/CL_SEX?references=cousins", STRUCTURE, StatusCode::BAD_REQUEST, "140"),
    ] {
        let answer = send(&f.app, get(uri, accept)).await;
        assert_eq!(answer.status, status, "{uri}: {}", String::from_utf8_lossy(&answer.bytes));
        assert_eq!(answer.headers[header::CONTENT_TYPE], "application/vnd.sdmx.error+xml;version=2.1", "{uri}");
        let text = String::from_utf8_lossy(&answer.bytes);
        assert!(text.contains(&format!("code=\"{code}\"")), "{uri}: {text}");
    }
}

#[tokio::test]
async fn structures_answer_with_their_references() {
    let f = fixture();
    let answer = send(&f.app, get("/sdmx/rest/dataflow/KOSHI/MIG_EXT/latest?references=all", STRUCTURE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers[header::CONTENT_TYPE], STRUCTURE);
    let text = String::from_utf8_lossy(&answer.bytes);
    for part in ["DSD_MIG_EXT", "CL_AREA", "Казахстан", "KOSHI_CONCEPTS", "CC_MIG_EXT"] {
        assert!(text.contains(part), "{part} missing");
    }
    let schema = send(&f.app, get("/sdmx/rest/schema/dataflow/KOSHI/MIG_EXT/1.0", "*/*")).await;
    assert_eq!(schema.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&schema.bytes).contains("xs:schema"));
}

#[tokio::test]
async fn a_large_answer_streams_across_chunks_whole() {
    // Every figure of a bundled dataflow: far more than one chunk of the stream.
    let app = koshi_server::Server::open(real_bank(), &koshi_server::ServerConfig::default()).unwrap();
    let answer = send(&app, get("/sdmx/rest/data/MIG_STOCK/all/all", CSV2)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.bytes.len() > 4 * 64 * 1024, "{} bytes", answer.bytes.len());
    let rows = answer.bytes.iter().filter(|b| **b == b'\n').count() - 1;
    let expected = app
        .app()
        .query(&koshi_app::bank::QueryRequest { dataflow: "MIG_STOCK".into(), harmonised: true, ..Default::default() })
        .unwrap()
        .total;
    assert_eq!(rows, expected, "every harmonised figure, once");

    // The same answer gzipped, as clients ask: whole, and the same bytes once inflated.
    let zipped = Request::get("/sdmx/rest/data/MIG_STOCK/all/all")
        .header(header::ACCEPT, CSV2)
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let zipped = send(&app, zipped).await;
    assert_eq!(zipped.status, StatusCode::OK);
    assert_eq!(zipped.headers[header::CONTENT_ENCODING], "gzip");
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&zipped.bytes[..]), &mut inflated).unwrap();
    assert_eq!(inflated, answer.bytes.to_vec());
}
