//! The JSON API, driven in-process (no socket): health, dataflows, data with SDMX keys and
//! as-of, harmonised figures, errors as JSON with the right status.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use koshi_core::{ObsStatus, Observation};
use koshi_store::{Bank, ReleaseBatch};
use tower::ServiceExt;

fn bank() -> Bank {
    let mut bank = Bank::open_in_memory().unwrap();
    let obs = |source: &str, value: f64| Observation {
        dataflow: "MIG_EXT".into(),
        key: ["KAZ", "WLD", "_T", "_T", "NET"].iter().map(|s| (*s).into()).collect(),
        time_period: "2017".into(),
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
    };
    let batch = |source: &str, date: &str, value: f64| ReleaseBatch {
        dataflow: "MIG_EXT".into(),
        source: source.into(),
        label: "r".into(),
        release_date: date.parse().unwrap(),
        origin: "fixture".into(),
        note: None,
        observations: vec![obs(source, value)],
        defects: vec![],
    };
    bank.write_releases(&[batch("KZ_BNS", "2018-03-01", -22_426.0), batch("UN_WPP", "2024-07-11", 21_248.0)]).unwrap();
    bank
}

async fn get(uri: &str) -> (StatusCode, serde_json::Value) {
    let app = koshi_server::router(Arc::new(Mutex::new(bank())));
    let response = app.oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn health_and_dataflows() {
    let (status, body) = get("/api/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["counts"]["observation"], 2);
    let (_, flows) = get("/api/dataflows").await;
    let ext = flows.as_array().unwrap().iter().find(|f| f["id"] == "MIG_EXT").unwrap();
    assert_eq!(ext["observations"], 2);
    assert_eq!(ext["name"]["ru"], "Внешняя миграция");
}

#[tokio::test]
async fn data_by_sdmx_key_by_filter_and_as_of() {
    let (status, body) = get("/api/data/MIG_EXT?key=KAZ.WLD._T._T.NET").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["observations"].as_array().unwrap().len(), 2);
    let (_, body) = get("/api/data/MIG_EXT?key=REF_AREA=KAZ&as_of=2020-01-01").await;
    let obs = body["observations"].as_array().unwrap();
    assert_eq!(obs.len(), 1, "WPP 2024 was not yet released in 2020");
    assert_eq!(obs[0]["source"], "KZ_BNS");
    let (_, body) = get("/api/data/MIG_EXT?key=..._T.NET+ARR&harmonised=true").await;
    let h = &body["observations"][0];
    assert_eq!(h["source"], "KZ_BNS");
    assert_eq!(h["candidates"], 2);
}

#[tokio::test]
async fn errors_are_json_with_the_right_status() {
    let (status, body) = get("/api/data/NO_SUCH").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].as_str().unwrap().contains("NO_SUCH"));
    let (status, body) = get("/api/data/MIG_EXT?key=KAZ.WLD").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("5 dimensions"), "{body}");
    let (status, _) = get("/api/data/MIG_EXT?as_of=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn discrepancies_and_check() {
    let (_, gaps) = get("/api/discrepancies?dataflow=MIG_EXT&tolerance=5").await;
    assert_eq!(gaps.as_array().unwrap().len(), 1);
    let (status, _) = get("/api/check").await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = get("/api/codelists/SEX").await;
    assert!(list["codes"].as_array().unwrap().iter().any(|c| c["id"] == "F"));
}

#[tokio::test]
async fn the_dashboard_page_is_served_in_three_languages() {
    let app = koshi_server::router(Arc::new(Mutex::new(bank())));
    let response = app.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    for needle in ["/api/dataflows", "/api/discrepancies", "Банк данных", "Деректер банкі", "Data bank"] {
        assert!(html.contains(needle), "{needle}");
    }
}
