//! The JSON API of the data bank, and at `/` a dashboard page that reads it:
//!
//! - `GET /api/health` — liveness and counts;
//! - `GET /api/dataflows` — dataflows with their dimensions and sizes;
//! - `GET /api/data/{dataflow}?key=…&as_of=…&source=…&harmonised=true&from=…&to=…` — observations.
//!   `key` is SDMX-style: codes in dimension order joined by `.`, empty for any, `+` for
//!   several (`KAZ.WLD._T._T.NET+ARR`), or `DIM=CODE,DIM=CODE`.
//! - `GET /api/discrepancies?dataflow=…&tolerance=…`, `GET /api/releases?dataflow=…`,
//!   `GET /api/sources`, `GET /api/check`, `GET /api/codelists/{id}`.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query as QueryParams, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use koshi_core::Date;
use koshi_store::{Bank, Query};
use serde::Deserialize;
use serde_json::json;

pub type SharedBank = Arc<Mutex<Bank>>;

pub fn router(bank: SharedBank) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/api/health", get(health))
        .route("/api/dataflows", get(dataflows))
        .route("/api/data/{dataflow}", get(data))
        .route("/api/discrepancies", get(discrepancies))
        .route("/api/releases", get(releases))
        .route("/api/sources", get(sources))
        .route("/api/check", get(check))
        .route("/api/codelists/{id}", get(codelist))
        .with_state(bank)
}

#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}

impl From<koshi_store::StoreError> for ApiError {
    fn from(e: koshi_store::StoreError) -> Self {
        match e {
            koshi_store::StoreError::Invalid(m) => ApiError::BadRequest(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Run a bank call off the async threads.
async fn with_bank<T: Send + 'static>(
    bank: SharedBank,
    f: impl FnOnce(&Bank) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || {
        let guard = bank.lock().map_err(|_| ApiError::Internal("the bank lock is poisoned".into()))?;
        f(&guard)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// The dashboard: one page in English, Russian and Kazakh that reads the API.
async fn dashboard() -> axum::response::Html<&'static str> {
    axum::response::Html(include_str!("../assets/index.html"))
}

async fn health(State(bank): State<SharedBank>) -> Result<Json<serde_json::Value>, ApiError> {
    let counts = with_bank(bank, |b| Ok(b.counts()?)).await?;
    Ok(Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION"), "counts": counts })))
}

async fn dataflows(State(bank): State<SharedBank>) -> Result<Json<serde_json::Value>, ApiError> {
    with_bank(bank, |b| {
        let summaries = b.dataflow_summaries()?;
        let out: Vec<_> = summaries
            .into_iter()
            .map(|s| {
                let df = b.catalogue().dataflow(&s.id);
                json!({
                    "id": s.id,
                    "name": df.map(|d| &d.name),
                    "description": df.map(|d| &d.description),
                    "dimensions": df.map(|d| d.dimensions.iter().map(|x| json!({"id": x.id, "codelist": x.codelist})).collect::<Vec<_>>()),
                    "measures": df.map(|d| d.measures.iter().map(|m| json!({"code": m.code, "unit": m.unit, "en": m.en, "ru": m.ru, "kk": m.kk})).collect::<Vec<_>>()),
                    "series": s.series,
                    "observations": s.observations,
                })
            })
            .collect();
        Ok(Json(json!(out)))
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
pub struct DataParams {
    pub key: Option<String>,
    pub as_of: Option<String>,
    pub source: Option<String>,
    #[serde(default)]
    pub harmonised: bool,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Include regions that ceased to exist and whose territory passed to the requested ones.
    #[serde(default)]
    pub predecessors: bool,
}

/// Turn an SDMX-style key (`A.B+C..D`) or `DIM=CODE,DIM=CODE` into filters.
pub fn parse_key(dimensions: &[String], key: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let key = key.trim();
    if key.is_empty() {
        return Ok(Vec::new());
    }
    if key.contains('=') {
        let mut filters: Vec<(String, Vec<String>)> = Vec::new();
        for part in key.split([',', ';', '&']).filter(|p| !p.trim().is_empty()) {
            let (dim, code) = part.split_once('=').ok_or_else(|| format!("`{part}` is not DIM=CODE"))?;
            let dim = dim.trim().to_string();
            if !dimensions.contains(&dim) {
                return Err(format!("no dimension `{dim}` (dimensions: {})", dimensions.join(", ")));
            }
            // In a query string `+` arrives as a space.
            let codes: Vec<String> = code.split(['+', ' ']).filter(|c| !c.is_empty()).map(|c| c.trim().to_string()).collect();
            match filters.iter_mut().find(|(d, _)| *d == dim) {
                Some((_, existing)) => existing.extend(codes),
                None => filters.push((dim, codes)),
            }
        }
        return Ok(filters);
    }
    let parts: Vec<&str> = key.split('.').collect();
    if parts.len() != dimensions.len() {
        return Err(format!(
            "key `{key}` has {} parts but the dataflow has {} dimensions ({})",
            parts.len(),
            dimensions.len(),
            dimensions.join(".")
        ));
    }
    Ok(dimensions
        .iter()
        .zip(parts)
        .filter(|(_, p)| !p.is_empty())
        .map(|(d, p)| (d.clone(), p.split(['+', ' ']).filter(|c| !c.is_empty()).map(String::from).collect()))
        .collect())
}

/// Build a store query from API or CLI parameters.
pub fn build_query(bank: &Bank, dataflow: &str, params: &DataParams) -> Result<Query, String> {
    let df = bank.catalogue().dataflow(dataflow).ok_or_else(|| format!("unknown dataflow `{dataflow}`"))?;
    let dims: Vec<String> = df.dimensions.iter().map(|d| d.id.clone()).collect();
    let filters = match &params.key {
        Some(k) => parse_key(&dims, k)?,
        None => Vec::new(),
    };
    let as_of = params
        .as_of
        .as_deref()
        .map(Date::parse_loose)
        .transpose()
        .map_err(|e| format!("as_of: {e}"))?;
    Ok(Query {
        dataflow: dataflow.to_string(),
        filters,
        as_of,
        source: params.source.clone(),
        period_from: params.from.clone(),
        period_to: params.to.clone(),
        include_predecessors: params.predecessors,
    })
}

async fn data(
    State(bank): State<SharedBank>,
    Path(dataflow): Path<String>,
    QueryParams(params): QueryParams<DataParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    with_bank(bank, move |b| {
        if b.catalogue().dataflow(&dataflow).is_none() {
            return Err(ApiError::NotFound(format!("unknown dataflow `{dataflow}`")));
        }
        let q = build_query(b, &dataflow, &params).map_err(ApiError::BadRequest)?;
        let dims: Vec<String> =
            b.catalogue().dataflow(&dataflow).map(|d| d.dimensions.iter().map(|x| x.id.clone()).collect()).unwrap_or_default();
        if params.harmonised {
            let rows = b.harmonised(&q)?;
            Ok(Json(json!({ "dataflow": dataflow, "dimensions": dims, "harmonised": true, "observations": rows })))
        } else {
            let rows = b.query(&q)?;
            Ok(Json(json!({ "dataflow": dataflow, "dimensions": dims, "harmonised": false, "observations": rows })))
        }
    })
    .await
}

#[derive(Debug, Deserialize)]
struct DiscrepancyParams {
    dataflow: Option<String>,
    tolerance: Option<f64>,
}

async fn discrepancies(
    State(bank): State<SharedBank>,
    QueryParams(p): QueryParams<DiscrepancyParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    with_bank(bank, move |b| Ok(Json(json!(b.discrepancies(p.dataflow.as_deref(), p.tolerance.unwrap_or(0.0))?)))).await
}

#[derive(Debug, Deserialize)]
struct ReleaseParams {
    dataflow: Option<String>,
}

async fn releases(State(bank): State<SharedBank>, QueryParams(p): QueryParams<ReleaseParams>) -> Result<Json<serde_json::Value>, ApiError> {
    with_bank(bank, move |b| Ok(Json(json!(b.releases(p.dataflow.as_deref())?)))).await
}

async fn sources(State(bank): State<SharedBank>) -> Result<Json<serde_json::Value>, ApiError> {
    with_bank(bank, |b| Ok(Json(json!(b.sources()?)))).await
}

async fn check(State(bank): State<SharedBank>) -> Result<Json<serde_json::Value>, ApiError> {
    with_bank(bank, |b| Ok(Json(json!(b.check()?)))).await
}

async fn codelist(State(bank): State<SharedBank>, Path(id): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    with_bank(bank, move |b| {
        let list = b.catalogue().codelist(&id).ok_or_else(|| ApiError::NotFound(format!("unknown code list `{id}`")))?;
        Ok(Json(json!(list)))
    })
    .await
}

/// Serve until Ctrl-C.
pub async fn serve(bank: Bank, addr: std::net::SocketAddr) -> std::io::Result<()> {
    let app = router(Arc::new(Mutex::new(bank)));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
