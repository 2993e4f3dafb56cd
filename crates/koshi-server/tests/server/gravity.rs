//! The gravity endpoints on a small bank: strict parameters, bank data only, fitted values a
//! page at a time, and a 413 for an answer over the server's limit.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use koshi_core::{ObsStatus, Observation};
use koshi_server::{Server, ServerConfig};
use koshi_store::{Bank, ReleaseBatch};
use serde_json::Value;
use tower::ServiceExt;

/// Arrivals in Kazakhstan, 2015–2020, from one source.
fn fixture(config: ServerConfig) -> (tempfile::TempDir, Arc<Server>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    let observations = (2015..=2020)
        .map(|year| Observation {
            dataflow: "MIG_EXT".into(),
            key: ["KAZ", "WLD", "_T", "_T", "ARR"].iter().map(|s| (*s).into()).collect(),
            time_period: year.to_string().into(),
            value: Some(10_000.0 + 1_500.0 * f64::from(year - 2015) + 300.0 * f64::from(year % 2)),
            printed: None,
            unit: "PERS".into(),
            unit_mult: 0,
            status: ObsStatus::Normal,
            source: "KZ_BNS".into(),
            definition: "fixture".into(),
            citation: Some("fixture".into()),
            note: None,
            defects: vec![],
        })
        .collect();
    let mut bank = Bank::open(&path).unwrap();
    bank.write_releases(&[ReleaseBatch {
        dataflow: "MIG_EXT".into(),
        source: "KZ_BNS".into(),
        label: "r".into(),
        release_date: "2021-03-01".parse().unwrap(),
        origin: "fixture".into(),
        note: None,
        observations,
        defects: vec![],
    }])
    .unwrap();
    drop(bank);
    let server = Server::open(&path, &config).unwrap();
    (dir, server)
}

async fn get(server: &Arc<Server>, uri: &str) -> (StatusCode, Value) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = koshi_server::router(Arc::clone(server)).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    (status, json)
}

const FIT: &str = "/api/gravity/fit?formula=value%20~%20year&data=MIG_EXT&vcov=hetero";

#[tokio::test]
async fn a_fit_on_bank_data_with_fitted_values_a_page_at_a_time() {
    let (_dir, server) = fixture(ServerConfig::default());
    let (status, body) = get(&server, FIT).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["n_obs"], 6);
    assert!(body["coefficients"][1]["estimate"].as_f64().unwrap() > 0.0, "arrivals grow: {body}");
    assert!(body.get("fitted").is_none(), "{body}");
    let (status, body) = get(&server, &format!("{FIT}&fitted=true&limit=2&offset=3")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["fitted"]["total"], 6);
    let rows: Vec<u64> =
        body["fitted"]["items"].as_array().unwrap().iter().map(|r| r["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, [4, 5]);
    let (status, body) = get(&server, &format!("{FIT}&fitted=true&limit=10001")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
}

#[tokio::test]
async fn parameters_are_strict_and_files_are_not_data() {
    let (_dir, server) = fixture(ServerConfig::default());
    for (uri, status, code) in [
        ("/api/gravity/fit?data=MIG_EXT", StatusCode::BAD_REQUEST, "BAD_PARAMETER"),
        ("/api/gravity/fit?formula=value%20~%20year&data=%2Fetc%2Fpasswd", StatusCode::NOT_FOUND, "UNKNOWN_DATAFLOW"),
        (&format!("{FIT}&limit=2"), StatusCode::BAD_REQUEST, "BAD_PARAMETER"),
        (&format!("{FIT}&estimator=gmm"), StatusCode::BAD_REQUEST, "BAD_PARAMETER"),
        (&format!("{FIT}&conf_level=1.5"), StatusCode::BAD_REQUEST, "BAD_PARAMETER"),
        (&format!("{FIT}&rectifier=maybe"), StatusCode::BAD_REQUEST, "BAD_PARAMETER"),
        (&format!("{FIT}&where=yaer%3D2016"), StatusCode::BAD_REQUEST, "BAD_PARAMETER"),
        (&format!("{FIT}&file=x.csv"), StatusCode::BAD_REQUEST, "BAD_PARAMETER"),
        (&format!("{FIT}&counterfactual=year%3Dx"), StatusCode::BAD_REQUEST, "BAD_PARAMETER"),
        ("/api/gravity/panel?out=panel.csv", StatusCode::BAD_REQUEST, "BAD_PARAMETER"),
        ("/api/gravity/panel", StatusCode::BAD_REQUEST, "UNANSWERABLE"),
        ("/api/gravity/potential?c=steep", StatusCode::BAD_REQUEST, "BAD_PARAMETER"),
        (
            "/api/gravity/push-pull?formula=value%20~%20year&data=MIG_EXT&top=-1",
            StatusCode::BAD_REQUEST,
            "BAD_PARAMETER",
        ),
    ] {
        let (got, body) = get(&server, uri).await;
        assert_eq!((got, body["error"]["code"].as_str()), (status, Some(code)), "{uri}: {body}");
    }
    // A counterfactual edit list: edits separated by `;`.
    let (status, body) = get(&server, &format!("{FIT}&counterfactual=year%2B%3D1%3B%20year%2B%3D1")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["edits"].as_array().unwrap().len(), 2, "{body}");
    assert_eq!(body["counterfactual"][0]["scope"], "all rows");
}

#[tokio::test]
async fn a_fit_over_the_answer_limit_is_a_413() {
    let (_dir, server) = fixture(ServerConfig { max_response_bytes: 600, ..ServerConfig::default() });
    let (status, body) = get(&server, &format!("{FIT}&fitted=true")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "RESPONSE_TOO_LARGE");
    assert!(body["error"]["message"].as_str().unwrap().contains("limit="), "{body}");
}
