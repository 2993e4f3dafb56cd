//! The JSON API: health, dataflows, data with SDMX keys and as-of, harmonised figures; paging,
//! limits, gzip and one error shape; the defect report cached per state of the bank; and, on a
//! real server over the bundled data, cheap requests answered while expensive ones run.

#[path = "server/gravity.rs"]
mod gravity;
#[path = "server/labour_pages.rs"]
mod labour_pages;
#[path = "server/observatory.rs"]
mod observatory;
#[path = "server/registry.rs"]
mod registry;
#[path = "server/sdmx.rs"]
mod sdmx;
#[path = "server/vacancies.rs"]
mod vacancies;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use koshi_app::bank::{DiscrepanciesRequest, QueryRequest, ReleasesRequest};
use koshi_core::{ObsStatus, Observation};
use koshi_server::{MAX_PAGE_SIZE, MAX_URI_BYTES, Server, ServerConfig};
use koshi_store::{Bank, ReleaseBatch};
use serde_json::Value;
use tower::ServiceExt;

fn observation(source: &str, period: &str, value: f64) -> Observation {
    Observation {
        dataflow: "MIG_EXT".into(),
        key: ["KAZ", "WLD", "_T", "_T", "NET"].iter().map(|s| (*s).into()).collect(),
        time_period: period.into(),
        value: Some(value),
        printed: None,
        unit: "PERS".into(),
        unit_mult: 0,
        status: ObsStatus::Normal,
        source: source.into(),
        definition: format!("{source} definition").into(),
        citation: Some("fixture".into()),
        note: None,
        defects: vec![],
    }
}

fn release(source: &str, label: &str, date: &str, observations: Vec<Observation>) -> ReleaseBatch {
    ReleaseBatch {
        dataflow: "MIG_EXT".into(),
        source: source.into(),
        label: label.into(),
        release_date: date.parse().unwrap(),
        origin: "fixture".into(),
        note: None,
        observations,
        defects: vec![],
    }
}

/// A small bank in a temporary file: two sources disagreeing on Kazakhstan's net migration in 2017.
struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    app: Arc<Server>,
}

fn fixture_with(config: ServerConfig) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    let mut bank = Bank::open(&path).unwrap();
    bank.write_releases(&[
        release("KZ_BNS", "r", "2018-03-01", vec![observation("KZ_BNS", "2017", -22_426.0)]),
        release("UN_WPP", "r", "2024-07-11", vec![observation("UN_WPP", "2017", 21_248.0)]),
    ])
    .unwrap();
    drop(bank);
    let app = Server::open(&path, &config).unwrap();
    Fixture { _dir: dir, path, app }
}

fn fixture() -> Fixture {
    fixture_with(ServerConfig::default())
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.bytes)))
    }
}

async fn send(app: &Arc<Server>, request: Request<Body>) -> Answer {
    let response = koshi_server::router(Arc::clone(app)).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, bytes }
}

async fn get(app: &Arc<Server>, uri: &str) -> (StatusCode, Value) {
    let answer = send(app, Request::get(uri).body(Body::empty()).unwrap()).await;
    (answer.status, answer.json())
}

/// Every page of a list from `first` on, following `next`; checks that each page says the same total.
async fn all_pages(app: &Arc<Server>, first: &str) -> (usize, Vec<Value>) {
    let mut items = Vec::new();
    let mut uri = first.to_string();
    let mut total = None;
    for _ in 0..10_000 {
        let (status, page) = get(app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {page}");
        let page_total = page["total"].as_u64().unwrap() as usize;
        assert_eq!(*total.get_or_insert(page_total), page_total, "the total changed between pages at {uri}");
        assert_eq!(page["offset"].as_u64().unwrap() as usize, items.len(), "{uri}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => uri = next.to_string(),
            None => return (page_total, items),
        }
    }
    panic!("paging from {first} did not end");
}

#[tokio::test]
async fn health_and_dataflows() {
    let f = fixture();
    let (status, body) = get(&f.app, "/api/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["counts"]["observation"], 2);
    // Figures written without the bundled datasets: served, and health says the bundle is missing.
    assert_eq!(body["status"], "incomplete", "{body}");
    assert_eq!(body["bundle"]["state"], "not_loaded", "{body}");
    let (_, flows) = get(&f.app, "/api/dataflows").await;
    let ext = flows["items"].as_array().unwrap().iter().find(|f| f["id"] == "MIG_EXT").unwrap();
    assert_eq!(ext["observations"], 2);
    assert_eq!(ext["name"]["ru"], "Внешняя миграция");
    assert_eq!(flows["total"].as_u64().unwrap() as usize, flows["items"].as_array().unwrap().len());
}

#[tokio::test]
async fn data_by_sdmx_key_by_filter_and_as_of() {
    let f = fixture();
    let (status, body) = get(&f.app, "/api/data/MIG_EXT?key=KAZ.WLD._T._T.NET").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    assert_eq!(body["total"], 2);
    assert_eq!(body["dimensions"][0], "REF_AREA");
    let (_, body) = get(&f.app, "/api/data/MIG_EXT?key=REF_AREA=KAZ&as_of=2020-01-01").await;
    let obs = body["items"].as_array().unwrap();
    assert_eq!(obs.len(), 1, "WPP 2024 was not yet released in 2020");
    assert_eq!(obs[0]["source"], "KZ_BNS");
    let (_, body) = get(&f.app, "/api/data/MIG_EXT?key=..._T.NET+ARR&harmonised=true").await;
    let h = &body["items"][0];
    assert_eq!(h["source"], "KZ_BNS");
    assert_eq!(h["candidates"], 2);
}

/// Asserts the one error shape and returns the message.
fn assert_error(uri: &str, answer: &Answer, status: StatusCode, code: &str) -> String {
    assert_eq!(answer.status, status, "{uri}: {:?}", String::from_utf8_lossy(&answer.bytes));
    let content_type = answer.headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string());
    assert_eq!(content_type.as_deref(), Some("application/json"), "{uri}");
    let body = answer.json();
    let error = &body["error"];
    assert_eq!(error["status"], status.as_u16(), "{uri}: {body}");
    assert_eq!(error["code"], code, "{uri}: {body}");
    let message = error["message"].as_str().unwrap_or_else(|| panic!("{uri}: no message in {body}")).to_string();
    assert!(!message.is_empty(), "{uri}");
    message
}

#[tokio::test]
async fn every_error_has_the_same_json_shape() {
    let f = fixture();
    let bad = StatusCode::BAD_REQUEST;
    let cases: &[(&str, StatusCode, &str, &str)] = &[
        ("/api/data/NO_SUCH", StatusCode::NOT_FOUND, "UNKNOWN_DATAFLOW", "NO_SUCH"),
        ("/api/discrepancies?dataflow=NOPE", StatusCode::NOT_FOUND, "UNKNOWN_DATAFLOW", "NOPE"),
        ("/api/releases?dataflow=NOPE", StatusCode::NOT_FOUND, "UNKNOWN_DATAFLOW", "NOPE"),
        ("/api/codelists/NOPE", StatusCode::NOT_FOUND, "UNKNOWN_CODELIST", "NOPE"),
        ("/api/nothing", StatusCode::NOT_FOUND, "NOT_FOUND", "/api/nothing"),
        ("/nothing/at/all", StatusCode::NOT_FOUND, "NOT_FOUND", "/nothing"),
        ("/api/data/MIG_EXT?key=KAZ.WLD", bad, "BAD_KEY", "5 dimension(s)"),
        ("/api/data/MIG_EXT?key=PLANET=EARTH", bad, "BAD_KEY", "PLANET"),
        ("/api/data/MIG_EXT?key=REF_AREA=ZZZ", bad, "UNKNOWN_CODE", "`ZZZ`"),
        ("/api/data/MIG_EXT?key=KAZZ.WLD._T._T.NET", bad, "UNKNOWN_CODE", "did you mean KAZ"),
        ("/api/data/MIG_EXT?key=REF_AREA=Kazakhstan", bad, "UNKNOWN_CODE", "did you mean KAZ"),
        ("/api/data/MIG_EXT?as_of=yesterday", bad, "BAD_PARAMETER", "as_of"),
        ("/api/data/MIG_EXT?as_of=2020-13-45", bad, "BAD_PARAMETER", "as_of"),
        ("/api/data/MIG_EXT?as_of=2021-02-29", bad, "BAD_PARAMETER", "as_of"),
        ("/api/data/MIG_EXT?from=20x7", bad, "BAD_PARAMETER", "from"),
        ("/api/data/MIG_EXT?to=%E2%82%AC%E2%82%AC7", bad, "BAD_PARAMETER", "to"),
        ("/api/data/MIG_EXT?source=NOPE", bad, "UNKNOWN_SOURCE", "NOPE"),
        ("/api/data/MIG_EXT?harmonised=yes", bad, "BAD_PARAMETER", "harmonised"),
        ("/api/data/MIG_EXT?limit=-1", bad, "BAD_PARAMETER", "limit"),
        ("/api/data/MIG_EXT?limit=abc", bad, "BAD_PARAMETER", "limit"),
        ("/api/data/MIG_EXT?offset=-5", bad, "BAD_PARAMETER", "offset"),
        ("/api/data/MIG_EXT?lmit=10", bad, "BAD_PARAMETER", "lmit"),
        ("/api/data/MIG_EXT?limit=1&limit=2", bad, "BAD_PARAMETER", "limit"),
        ("/api/data/%FF", bad, "BAD_PARAMETER", "UTF-8"),
        ("/api/discrepancies?tolerance=abc", bad, "BAD_PARAMETER", "tolerance"),
        ("/api/discrepancies?tolerance=-1", bad, "BAD_PARAMETER", "tolerance"),
        ("/api/discrepancies?tolerance=NaN", bad, "BAD_PARAMETER", "tolerance"),
        ("/api/releases?limit=1.5", bad, "BAD_PARAMETER", "limit"),
        ("/api/check?offset=x", bad, "BAD_PARAMETER", "offset"),
        ("/api/sources?limit=", bad, "BAD_PARAMETER", "limit"),
        ("/api/health?verbose=1", bad, "BAD_PARAMETER", "verbose"),
        ("/api/data/MIG_EXT?limit=10001", StatusCode::PAYLOAD_TOO_LARGE, "LIMIT_TOO_LARGE", "limit=10000"),
        ("/api/check?limit=1000000", StatusCode::PAYLOAD_TOO_LARGE, "LIMIT_TOO_LARGE", "offset"),
    ];
    for (uri, status, code, needle) in cases {
        let answer = send(&f.app, Request::get(*uri).body(Body::empty()).unwrap()).await;
        let message = assert_error(uri, &answer, *status, code);
        assert!(message.contains(needle), "{uri}: `{message}` does not mention `{needle}`");
    }
    let answer = send(&f.app, Request::post("/api/health").body(Body::empty()).unwrap()).await;
    let message = assert_error("POST /api/health", &answer, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
    assert!(message.contains("GET"), "{message}");
    assert!(answer.headers.contains_key(header::ALLOW));
}

#[tokio::test]
async fn request_body_and_url_limits_are_json_errors() {
    let f = fixture();
    let long = format!("/api/data/MIG_EXT?key=REF_AREA={}", "KAZ+".repeat(MAX_URI_BYTES / 4 + 1));
    let answer = send(&f.app, Request::get(&long).body(Body::empty()).unwrap()).await;
    assert_error("a long URL", &answer, StatusCode::URI_TOO_LONG, "URI_TOO_LONG");
    // Just under the limit is read (and answered on its merits).
    let fits = format!("/api/data/MIG_EXT?key=REF_AREA={}", "KAZ+".repeat((MAX_URI_BYTES - 40) / 4));
    let (status, _) = get(&f.app, &fits).await;
    assert_eq!(status, StatusCode::OK);

    let body = vec![b'x'; 200 * 1024];
    let request =
        Request::get("/api/health").header(header::CONTENT_LENGTH, body.len()).body(Body::from(body)).unwrap();
    let answer = send(&f.app, request).await;
    assert_error("a large body", &answer, StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE");
}

#[tokio::test]
async fn an_answer_over_the_size_limit_is_a_413_that_says_how_to_page() {
    // Two rows of this bank do not fit in 1,000 bytes; one does.
    let f = fixture_with(ServerConfig { max_response_bytes: 1_000, ..ServerConfig::default() });
    let answer = send(&f.app, Request::get("/api/data/MIG_EXT").body(Body::empty()).unwrap()).await;
    let message = assert_error("a large page", &answer, StatusCode::PAYLOAD_TOO_LARGE, "RESPONSE_TOO_LARGE");
    assert!(message.contains("limit=1"), "{message}");
    let (status, body) = get(&f.app, "/api/data/MIG_EXT?limit=1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn gzip_when_the_client_accepts_it() {
    let bank = real_bank();
    let app = Server::open(bank, &ServerConfig::default()).unwrap();
    let uri = "/api/data/MIG_STOCK?key=REF_AREA=KAZ+UZB&limit=2000";
    let plain = send(&app, Request::get(uri).body(Body::empty()).unwrap()).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(!plain.headers.contains_key(header::CONTENT_ENCODING));
    let request = Request::get(uri).header(header::ACCEPT_ENCODING, "gzip").body(Body::empty()).unwrap();
    let gzipped = send(&app, request).await;
    assert_eq!(gzipped.status, StatusCode::OK);
    assert_eq!(gzipped.headers.get(header::CONTENT_ENCODING).unwrap(), "gzip");
    assert!(gzipped.bytes.len() * 4 < plain.bytes.len(), "{} vs {} bytes", gzipped.bytes.len(), plain.bytes.len());
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzipped.bytes[..]), &mut unzipped).unwrap();
    let unzipped: Value = serde_json::from_slice(&unzipped).unwrap();
    assert_eq!(unzipped, plain.json());
    assert_eq!(unzipped["items"].as_array().unwrap().len(), 2000);
}

/// The bundled datasets loaded once into a bank under the target directory.
fn real_bank() -> &'static Path {
    static BANK: OnceLock<PathBuf> = OnceLock::new();
    BANK.get_or_init(|| {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("koshi-server-tests-bundled.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let mut bank = Bank::open(&path).unwrap();
        koshi_ingest::load_bundled(&mut bank, &mut |_, _, _| std::ops::ControlFlow::Continue(())).unwrap();
        path
    })
}

/// Through JSON text, as the answers are (the text's numbers parse back as the API's do).
fn as_json(value: &impl serde::Serialize) -> Value {
    serde_json::from_slice(&serde_json::to_vec(value).unwrap()).unwrap()
}

#[tokio::test]
async fn pages_concatenate_to_the_whole_answer() {
    let path = real_bank();
    let app = Server::open(path, &ServerConfig::default()).unwrap();
    let whole_of = |harmonised: bool| {
        let request = QueryRequest {
            dataflow: "MIG_STOCK".into(),
            keys: vec!["REF_AREA=KAZ+UZB".into()],
            harmonised,
            ..QueryRequest::default()
        };
        as_json(&app.app().query(&request).unwrap())["items"].as_array().unwrap().clone()
    };
    let whole = whole_of(false);
    assert!(whole.len() > 2_500, "{} rows: not enough to page", whole.len());
    let (total, items) = all_pages(&app, "/api/data/MIG_STOCK?key=REF_AREA=KAZ+UZB&limit=1000").await;
    assert_eq!(total, whole.len());
    assert_eq!(items, whole);
    // The same answer through pages of another size (the parameter name percent-encoded), now that the total is cached.
    let (total, items) = all_pages(&app, "/api/data/MIG_STOCK?%6Cimit=777&key=REF_AREA=KAZ+UZB").await;
    assert_eq!((total, &items), (whole.len(), &whole));

    let harmonised = whole_of(true);
    let (total, items) = all_pages(&app, "/api/data/MIG_STOCK?key=REF_AREA=KAZ+UZB&harmonised=true&limit=500").await;
    assert_eq!((total, &items), (harmonised.len(), &harmonised));

    let releases = as_json(&app.app().releases(&ReleasesRequest::default()).unwrap());
    let (total, items) = all_pages(&app, "/api/releases?limit=3").await;
    assert_eq!((total, &items), (releases["items"].as_array().unwrap().len(), releases["items"].as_array().unwrap()));
    let (_, items) = all_pages(&app, "/api/sources?limit=2").await;
    assert_eq!(items, as_json(&app.app().sources(None).unwrap())["items"].as_array().unwrap().clone());
    let (_, items) = all_pages(&app, "/api/discrepancies?tolerance=1&limit=50").await;
    let gaps = as_json(
        &app.app()
            .discrepancies(&DiscrepanciesRequest { tolerance_pct: 1.0, ..DiscrepanciesRequest::default() })
            .unwrap(),
    );
    assert_eq!(&items, gaps["items"].as_array().unwrap());

    // Past the end: an empty page with the total, and no next page.
    let (status, page) = get(&app, &format!("/api/data/MIG_STOCK?key=REF_AREA=KAZ+UZB&offset={}", whole.len())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((page["items"].as_array().unwrap().len(), page["total"].as_u64().unwrap() as usize), (0, whole.len()));
    assert!(page["next"].is_null());
    // limit=0 counts.
    let (_, page) = get(&app, "/api/data/MIG_STOCK?key=REF_AREA=KAZ+UZB&limit=0").await;
    assert_eq!((page["items"].as_array().unwrap().len(), page["total"].as_u64().unwrap() as usize), (0, whole.len()));
}

#[tokio::test]
async fn a_whole_dataflow_comes_a_page_at_a_time() {
    let app = Server::open(real_bank(), &ServerConfig::default()).unwrap();
    let (status, page) = get(&app, "/api/data/MIG_STOCK").await;
    assert_eq!(status, StatusCode::OK);
    let total = page["total"].as_u64().unwrap() as usize;
    assert!(total > 100_000, "MIG_STOCK has {total} rows");
    assert_eq!(page["items"].as_array().unwrap().len(), koshi_server::DEFAULT_PAGE_SIZE);
    assert_eq!(page["next"], "/api/data/MIG_STOCK?limit=1000&offset=1000");
    let (status, page) = get(&app, &format!("/api/data/MIG_STOCK?limit={MAX_PAGE_SIZE}&offset={}", total - 10)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"].as_array().unwrap().len(), 10);
    assert!(page["next"].is_null());
}

#[tokio::test]
async fn the_defect_report_is_computed_once_per_state_of_the_bank() {
    let f = fixture();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let app = Arc::clone(&f.app);
            tokio::spawn(async move { get(&app, "/api/check").await })
        })
        .collect();
    let mut first = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        first.push(body);
    }
    assert_eq!(f.app.check_computations(), 1, "four requests on a cold cache computed the report once");
    assert!(first.iter().all(|b| b == &first[0]), "the four answers are one report");
    let (_, again) = get(&f.app, "/api/check").await;
    assert_eq!(again, first[0]);
    assert_eq!(f.app.check_computations(), 1);

    // A new release (with a declared defect) changes the bank: the report is computed again and shows it.
    let mut writer = Bank::open(&f.path).unwrap();
    let mut flagged = observation("KZ_BNS", "2018", -30_000.0);
    flagged.defects = vec!["TOTAL_MISMATCH".into()];
    writer.write_releases(&[release("KZ_BNS", "r2", "2019-03-01", vec![flagged])]).unwrap();
    let (status, after) = get(&f.app, "/api/check").await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(after["generation"], again["generation"]);
    assert!(after["items"].as_array().unwrap().iter().any(|d| d["rule"] == "TOTAL_MISMATCH"), "{after}");
    assert_eq!(f.app.check_computations(), 2);
}

#[tokio::test]
async fn discrepancies_check_and_codelists() {
    let f = fixture();
    let (_, gaps) = get(&f.app, "/api/discrepancies?dataflow=MIG_EXT&tolerance=5").await;
    assert_eq!(gaps["items"].as_array().unwrap().len(), 1);
    assert_eq!(gaps["total"], 1);
    // The defect report lists a defect a source declared, with its key, period, source and release.
    let mut flagged = observation("KZ_BNS", "2016", -12_000.0);
    flagged.defects = vec!["TOTAL_MISMATCH".into()];
    Bank::open(&f.path).unwrap().write_releases(&[release("KZ_BNS", "r0", "2017-03-01", vec![flagged])]).unwrap();
    let (status, check) = get(&f.app, "/api/check").await;
    assert_eq!(status, StatusCode::OK, "{check}");
    let declared: Vec<&Value> =
        check["items"].as_array().unwrap().iter().filter(|d| d["rule"] == "TOTAL_MISMATCH").collect();
    assert_eq!(declared.len(), 1, "{check}");
    let d = declared[0];
    assert_eq!(
        (&d["key"], &d["time_period"], &d["source"]),
        (&"KAZ.WLD._T._T.NET".into(), &"2016".into(), &"KZ_BNS".into()),
        "{d}"
    );
    assert_eq!(check["total"], check["items"].as_array().unwrap().len());
    let (_, list) = get(&f.app, "/api/codelists/SEX").await;
    assert!(list["codes"].as_array().unwrap().iter().any(|c| c["id"] == "F"));
}

#[tokio::test]
async fn the_dashboard_page_is_served_in_three_languages() {
    let f = fixture();
    let answer = send(&f.app, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = String::from_utf8(answer.bytes.to_vec()).unwrap();
    for needle in ["/api/dataflows", "/api/discrepancies", ".items", "Банк данных", "Деректер банкі", "Data bank"]
    {
        assert!(html.contains(needle), "{needle}");
    }
    // The chart library the page loads is koshi's own copy, cached for good, and gzipped on request.
    assert!(html.contains(koshi_server::ECHARTS_PATH));
    let script = send(
        &f.app,
        Request::get(koshi_server::ECHARTS_PATH).header(header::ACCEPT_ENCODING, "gzip").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(script.headers["cache-control"].to_str().unwrap().contains("immutable"));
    assert_eq!(script.headers["content-encoding"], "gzip");
    assert!(script.bytes.len() < 500_000, "{} bytes gzipped", script.bytes.len());
}

/// GET over a real TCP connection.
async fn http_get(addr: SocketAddr, uri: &str) -> (StatusCode, Bytes) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let request =
        Request::get(uri).header(header::HOST, "127.0.0.1").body(http_body_util::Empty::<Bytes>::new()).unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    (status, response.into_body().collect().await.unwrap().to_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cheap_request_does_not_wait_behind_expensive_ones() {
    let app = Server::open(real_bank(), &ServerConfig::default()).unwrap();
    // Count the requests the server is working on, to send the cheap one once the expensive ones run.
    let in_flight = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&in_flight);
    let router =
        koshi_server::router(app).layer(axum::middleware::from_fn(move |request, next: axum::middleware::Next| {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                let response = next.run(request).await;
                counter.fetch_sub(1, Ordering::SeqCst);
                response
            }
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let finished = Arc::new(AtomicUsize::new(0));
    // Seconds each on a cold cache, and as many as there are connections for expensive requests.
    let expensive: [&'static str; 3] =
        ["/api/check", "/api/data/MIG_STOCK?limit=10000", "/api/data/MIG_STOCK?limit=5000&harmonised=true"];
    let tasks: Vec<_> = expensive
        .into_iter()
        .map(|uri| {
            let finished = Arc::clone(&finished);
            tokio::spawn(async move {
                let (status, body) = http_get(addr, uri).await;
                (uri, status, body.len(), finished.fetch_add(1, Ordering::SeqCst))
            })
        })
        .collect();
    let mut waits = 0;
    while in_flight.load(Ordering::SeqCst) < expensive.len() {
        waits += 1;
        assert!(waits < 6_000, "the expensive requests never reached the server");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Give them a moment to reach the bank before the cheap request is sent.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, body) = http_get(addr, "/api/health").await;
    let health_place = finished.fetch_add(1, Ordering::SeqCst);
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let health: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((&health["status"], &health["bundle"]["state"]), (&"ok".into(), &"complete".into()), "{health}");
    for task in tasks {
        let (uri, status, bytes, place) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert!(bytes > 1_000, "{uri}");
        assert!(place > health_place, "{uri} finished before /api/health (places {place} and {health_place})");
    }
    assert_eq!(health_place, 0);
    server.abort();
}

/// The index at `/api` lists each endpoint's parameters: every listed one is accepted where it is
/// listed, and every endpoint refuses one it does not list.
#[tokio::test]
async fn the_api_index_lists_every_endpoint_with_the_parameters_it_takes() {
    let f = fixture();
    let (status, index) = get(&f.app, "/api").await;
    assert_eq!(status, StatusCode::OK, "{index}");
    assert!(index["keys"].as_str().unwrap().contains("DIM=CODE"), "{index}");
    let listed = index["endpoints"].as_array().unwrap();
    assert_eq!(listed.len(), koshi_server::ENDPOINTS.len());
    assert!(listed.len() >= 17, "{index}");
    for endpoint in koshi_server::ENDPOINTS {
        let path = endpoint.path.replace("{dataflow}", "MIG_EXT").replace("{id}", "SEX").replace("{indicator}", "NET");
        let (status, body) = get(&f.app, &format!("{path}?not_a_parameter=1")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("not_a_parameter"), "{path}: {message}");
        for parameter in endpoint.parameters {
            let (status, body) = get(&f.app, &format!("{path}?{parameter}=x")).await;
            let message = body["error"]["message"].as_str().unwrap_or("");
            assert!(
                status != StatusCode::NOT_FOUND || body["error"]["code"] != "NOT_FOUND",
                "{path} is not an endpoint: {body}"
            );
            assert!(!message.contains("unknown field"), "{path} does not take `{parameter}`: {message}");
        }
    }
}
