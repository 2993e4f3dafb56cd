//! The command line and the HTTP API are two adapters over one use case: `koshi … --format json`
//! and the endpoint answer the same document. The API's list answers add their paging fields
//! (`limit`, `offset`, `next`), which are set aside before comparing.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::{bundled_bank, run};

fn server() -> &'static Arc<koshi_server::Server> {
    static SERVER: OnceLock<Arc<koshi_server::Server>> = OnceLock::new();
    SERVER.get_or_init(|| koshi_server::Server::open(bundled_bank(), &koshi_server::ServerConfig::default()).unwrap())
}

/// The API's answer to `GET uri` on the bundled bank, its status and its JSON.
pub(crate) fn http(uri: &str) -> (StatusCode, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let request = Request::get(uri).body(Body::empty()).unwrap();
        let response = koshi_server::router(Arc::clone(server())).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
        (status, json)
    })
}

/// The CLI's JSON document for `args` on the bundled bank.
pub(crate) fn cli(args: &[&str]) -> Value {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_slice(&run(bundled_bank(), &all).stdout).expect("JSON output")
}

/// Assert that `koshi <args> --format json` and `GET <uri>` give the same document (paging
/// fields aside), and return it.
pub(crate) fn assert_same(args: &[&str], uri: &str) -> Value {
    let from_cli = cli(args);
    let (status, mut from_http) = http(uri);
    assert_eq!(status, StatusCode::OK, "{uri}: {from_http}");
    if let Value::Object(fields) = &mut from_http {
        for paging in ["limit", "offset", "next"] {
            fields.remove(paging);
        }
    }
    if from_cli != from_http {
        let cli_text = serde_json::to_string_pretty(&from_cli).unwrap();
        let http_text = serde_json::to_string_pretty(&from_http).unwrap();
        let first_difference = cli_text.lines().zip(http_text.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "koshi {args:?} and GET {uri} differ from line {}:\nCLI:  {}\nHTTP: {}",
            first_difference + 1,
            cli_text.lines().nth(first_difference).unwrap_or("(end)"),
            http_text.lines().nth(first_difference).unwrap_or("(end)"),
        );
    }
    from_cli
}

#[test]
fn the_data_banks_use_cases_answer_the_same_over_http() {
    let limit = "limit=10000";
    let dataflows = assert_same(&["dataflows"], &format!("/api/dataflows?{limit}"));
    assert!(dataflows["total"].as_u64().unwrap() >= 10, "{dataflows}");
    assert_same(&["sources"], &format!("/api/sources?{limit}"));
    assert_same(&["releases", "MIG_EXT"], &format!("/api/releases?dataflow=MIG_EXT&{limit}"));
    assert_same(&["codelist", "SEX"], "/api/codelists/SEX");
    let query = assert_same(
        &["query", "MIG_EXT", "--key", "KAZ.WLD._T._T.NET", "--as-of", "2024-01-01"],
        &format!("/api/data/MIG_EXT?key=KAZ.WLD._T._T.NET&as_of=2024-01-01&{limit}"),
    );
    assert!(query["total"].as_u64().unwrap() >= 3, "{query}");
    assert_same(
        &["query", "MIG_EXT", "--key", "KAZ.WLD._T._T.NET", "--harmonised"],
        &format!("/api/data/MIG_EXT?key=KAZ.WLD._T._T.NET&harmonised=true&{limit}"),
    );
    let with_predecessors = assert_same(
        &["query", "MIG_INT", "--key", "KZ-61.NET", "--predecessors"],
        &format!("/api/data/MIG_INT?key=KZ-61.NET&predecessors=true&{limit}"),
    );
    assert!(with_predecessors["total"].as_u64().unwrap() >= 14, "{with_predecessors}");
    assert_same(
        &["discrepancies", "MIG_STOCK", "--tolerance", "5"],
        &format!("/api/discrepancies?dataflow=MIG_STOCK&tolerance=5&{limit}"),
    );
    let alerts = assert_same(&["alerts", "--since", "2016"], &format!("/api/alerts?since=2016&{limit}"));
    assert!(alerts["total"].as_u64().unwrap() > 0, "{alerts}");
    let net = assert_same(
        &["indicator", "NET", "MIG_INT", "--key", "REF_AREA=KZ-75"],
        &format!("/api/indicators/NET/MIG_INT?key=REF_AREA=KZ-75&{limit}"),
    );
    assert!(net["total"].as_u64().unwrap() >= 14, "{net}");
    let found = assert_same(&["search", "Almaty", "arrivals"], "/api/search?q=Almaty%20arrivals&limit=10");
    assert_eq!(found["items"][0]["dataflow"], "MIG_INT", "{found}");
    let check = assert_same(&["check"], &format!("/api/check?{limit}"));
    assert!(check["total"].as_u64().unwrap() > 0, "the bundled data has declared defects: {check}");
}

#[test]
fn a_mistyped_code_is_the_same_error_on_both_sides() {
    let out = crate::koshi()
        .arg("--db")
        .arg(bundled_bank())
        .args(["query", "MIG_EXT", "--key", "KAZZ.WLD._T._T.NET"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let (status, body) = http("/api/data/MIG_EXT?key=KAZZ.WLD._T._T.NET");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "UNKNOWN_CODE");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("KAZZ") && message.contains("KAZ"), "{message}");
    assert!(stderr.contains("KAZZ") && stderr.contains("KAZ"), "{stderr}");
}
