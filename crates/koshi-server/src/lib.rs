//! The JSON API of the data bank, and at `/` a dashboard page that reads it:
//!
//! - `GET /api/health` — liveness and counts;
//! - `GET /api/dataflows` — dataflows with their dimensions and sizes;
//! - `GET /api/data/{dataflow}?key=…&as_of=…&source=…&harmonised=true&from=…&to=…` — observations.
//!   `key` is SDMX-style: codes in dimension order joined by `.`, empty for any, `+` for
//!   several (`KAZ.WLD._T._T.NET+ARR`), or `DIM=CODE,DIM=CODE`.
//! - `GET /api/discrepancies?dataflow=…&tolerance=…`, `GET /api/releases?dataflow=…`,
//!   `GET /api/sources`, `GET /api/check`, `GET /api/codelists/{id}`.
//!
//! Every list comes a page at a time in one envelope, `{"total", "limit", "offset", "next",
//! "items"}`, in a stable order: `limit` defaults to [`DEFAULT_PAGE_SIZE`] and may not exceed
//! [`MAX_PAGE_SIZE`]; `next` is the URL of the following page (or null). Every error is
//! `{"error": {"status", "code", "message"}}`. Answers are gzipped when the client accepts it.
//!
//! Requests read the bank through a small pool of read-only connections (SQLite WAL), each on a
//! blocking thread, so a slow request holds one connection, not the bank; cheap endpoints have
//! connections of their own. The defect report, the discrepancies and the counts are computed
//! once per state of the bank ([`koshi_store::Generation`]).

mod cache;
mod error;
mod params;
mod pool;

use std::collections::HashMap;
use std::hash::Hash;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router, middleware};
use koshi_core::Catalogue;
use koshi_core::structure::Dataflow;
use koshi_store::{Bank, CheckFinding, DiscrepancyRow, Generation, Query, QueryError, QueryText, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;

use cache::GenerationCache;
pub use error::ApiError;
use params::{JsonBytes, Page, Paging, Params, Segment, boolean, non_negative};
use pool::BankPool;

/// Rows per page when the request gives no `limit`.
pub const DEFAULT_PAGE_SIZE: usize = 1_000;
/// The largest `limit` accepted; more is a 413 that says how to page.
pub const MAX_PAGE_SIZE: usize = 10_000;
/// The largest answer (uncompressed JSON) by default; a page over it is a 413 asking for a smaller `limit`.
pub const MAX_RESPONSE_BYTES: usize = 16_000_000;
/// Request bodies (the API reads none) over this are refused with a 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// URLs (path and query) longer than this are refused with a 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// How the server reads the bank.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Connections for the expensive requests (data, discrepancies, the defect report).
    pub readers: usize,
    /// Connections kept for the cheap ones (health, dataflows, sources, releases, code lists),
    /// so that they never wait behind an expensive request.
    pub quick_readers: usize,
    pub max_response_bytes: usize,
    /// How long a request waits for a free connection before a 503.
    pub pool_wait: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            readers: 3,
            quick_readers: 2,
            max_response_bytes: MAX_RESPONSE_BYTES,
            pool_wait: Duration::from_secs(30),
        }
    }
}

/// The server's state: the connection pools and the caches of slow answers.
pub struct App {
    readers: BankPool,
    quick: BankPool,
    max_response_bytes: usize,
    check: GenerationCache<(), Vec<CheckFinding>>,
    discrepancies: GenerationCache<(Option<String>, u64), Vec<DiscrepancyRow>>,
    counts: GenerationCache<(), HashMap<&'static str, i64>>,
    /// Sizes of large answers, so that later pages stop reading at their end.
    totals: GenerationCache<String, usize>,
}

impl App {
    /// Open the pools on the bank at `path` (which must exist or be creatable).
    pub fn open(path: &Path, config: &ServerConfig) -> Result<Arc<App>, StoreError> {
        Ok(Arc::new(App {
            readers: BankPool::open(path, config.readers, config.pool_wait)?,
            quick: BankPool::open(path, config.quick_readers, config.pool_wait)?,
            max_response_bytes: config.max_response_bytes,
            check: GenerationCache::default(),
            discrepancies: GenerationCache::default(),
            counts: GenerationCache::default(),
            totals: GenerationCache::default(),
        }))
    }

    /// How many times the defect report was computed since the server started.
    pub fn check_computations(&self) -> u64 {
        self.check.computations()
    }

    /// The cached answer for `key` if the bank has not changed since it was computed, else
    /// computed now on a connection of `pool` (once, however many requests ask at the same time).
    /// Also says whether it came from the cache.
    fn cached<K: Eq + Hash, V>(
        &self,
        cache: &GenerationCache<K, V>,
        pool: &BankPool,
        key: K,
        compute: impl FnOnce(&Bank) -> Result<V, ApiError>,
    ) -> Result<(Generation, Arc<V>, bool), ApiError> {
        let generation = self.quick.read(|b| Ok(b.generation()?))?;
        if let Some(hit) = cache.get(generation, &key) {
            return Ok((generation, hit, true));
        }
        let _computing = cache.computing();
        pool.read(|bank| {
            let generation = bank.generation()?;
            if let Some(hit) = cache.get(generation, &key) {
                return Ok((generation, hit, true));
            }
            let value = Arc::new(compute(bank)?);
            cache.insert(generation, key, Arc::clone(&value));
            Ok((generation, value, false))
        })
    }
}

pub fn router(app: Arc<App>) -> Router {
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
        .fallback(error::route_not_found)
        .with_state(app)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::new())
        .layer(middleware::from_fn(error::json_errors))
        .layer(middleware::from_fn(error::request_limits))
        .layer(CompressionLayer::new())
}

/// Run a bank call off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        ApiError::internal(if e.is_panic() {
            "the request failed on a bug in the server"
        } else {
            "the request was cancelled"
        })
    })?
}

/// The dashboard: one page in English, Russian and Kazakh that reads the API.
async fn dashboard() -> axum::response::Html<&'static str> {
    axum::response::Html(include_str!("../assets/index.html"))
}

/// Endpoints without parameters refuse unknown ones like the others.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

/// Endpoints that take only paging parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageParams {
    limit: Option<String>,
    offset: Option<String>,
}

impl PageParams {
    fn paging(&self) -> Result<Paging, ApiError> {
        Paging::parse(self.limit.as_deref(), self.offset.as_deref())
    }
}

async fn health(
    State(app): State<Arc<App>>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(move || {
        let (generation, counts, _) = app.cached(&app.counts, &app.quick, (), |b| Ok(b.counts()?))?;
        // A bank whose bundled load never completed is served, but says so.
        let bundle = app.quick.read(|b| Ok(b.bundle_state()?))?;
        let status = if bundle.is_complete() { "ok" } else { "incomplete" };
        Ok(Json(json!({
            "status": status,
            "version": env!("CARGO_PKG_VERSION"),
            "bundle": bundle,
            "counts": *counts,
            "generation": generation,
        })))
    })
    .await
}

async fn dataflows(
    State(app): State<Arc<App>>,
    uri: Uri,
    Params(p): Params<PageParams>,
) -> Result<JsonBytes, ApiError> {
    let paging = p.paging()?;
    blocking(move || {
        let out: Vec<serde_json::Value> = app.quick.read(|b| {
            Ok(b.dataflow_summaries()?
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
                .collect())
        })?;
        Page::of(&uri, paging, &out).to_json(app.max_response_bytes)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataRequest {
    key: Option<String>,
    as_of: Option<String>,
    source: Option<String>,
    harmonised: Option<String>,
    from: Option<String>,
    to: Option<String>,
    predecessors: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// What describes a page of observations.
#[derive(Serialize)]
struct DataHead<'a> {
    dataflow: &'a str,
    dimensions: Vec<&'a str>,
    harmonised: bool,
}

async fn data(
    State(app): State<Arc<App>>,
    Segment(dataflow): Segment<String>,
    uri: Uri,
    Params(p): Params<DataRequest>,
) -> Result<JsonBytes, ApiError> {
    let paging = Paging::parse(p.limit.as_deref(), p.offset.as_deref())?;
    let harmonised = boolean("harmonised", p.harmonised.as_deref())?;
    let predecessors = boolean("predecessors", p.predecessors.as_deref())?;
    blocking(move || {
        app.readers.read(|bank| {
            let df = bank.catalogue().dataflow(&dataflow).ok_or_else(|| ApiError::unknown_dataflow(&dataflow))?;
            let query = data_query(bank.catalogue(), df, &p, predecessors)?;
            let head = DataHead {
                dataflow: &df.id,
                dimensions: df.dimensions.iter().map(|d| d.id.as_str()).collect(),
                harmonised,
            };
            let generation = bank.generation()?;
            let selection = params::selection_key(&uri);
            let known_total = app.totals.get(generation, &selection).map(|t| *t);
            let (json, total) = if harmonised {
                let (items, total) = read_page(paging, known_total, |visit| bank.for_each_harmonised(&query, visit))?;
                (Page::with_head(head, &uri, paging, total, &items).to_json(app.max_response_bytes), total)
            } else {
                let (items, total) = read_page(paging, known_total, |visit| bank.for_each_row(&query, visit))?;
                (Page::with_head(head, &uri, paging, total, &items).to_json(app.max_response_bytes), total)
            };
            if known_total.is_none() {
                app.totals.insert(generation, selection, Arc::new(total));
            }
            json
        })
    })
    .await
}

/// The rows of `paging` out of an answer read row by row, and the answer's total: counted by
/// reading to the end, unless already known (then reading stops at the end of the page).
fn read_page<T>(
    paging: Paging,
    known_total: Option<usize>,
    scan: impl FnOnce(&mut dyn FnMut(T) -> bool) -> Result<(), StoreError>,
) -> Result<(Vec<T>, usize), ApiError> {
    let mut items = Vec::new();
    let mut seen = 0usize;
    scan(&mut |row| {
        if paging.contains(seen) {
            items.push(row);
        }
        seen += 1;
        known_total.is_none() || seen < paging.end()
    })?;
    Ok((items, known_total.unwrap_or(seen)))
}

/// A store query from the request, every parameter checked by the one request grammar the CLI
/// uses too: an unknown code, source or a malformed date is a 400 naming it, never an empty answer.
fn data_query(catalogue: &Catalogue, df: &Dataflow, p: &DataRequest, predecessors: bool) -> Result<Query, ApiError> {
    let text = QueryText {
        keys: p.key.iter().cloned().collect(),
        as_of: p.as_of.clone(),
        source: p.source.clone(),
        from: p.from.clone(),
        to: p.to.clone(),
        predecessors,
    };
    Query::checked(catalogue, &df.id, &text).map_err(|e| match &e {
        QueryError::UnknownDataflow { dataflow, .. } => ApiError::unknown_dataflow(dataflow),
        QueryError::Key(_) => {
            let code = if e.is_unknown_code() { "UNKNOWN_CODE" } else { "BAD_KEY" };
            ApiError::new(StatusCode::BAD_REQUEST, code, format!("{e} (GET /api/codelists/{{id}} lists the codes)"))
        }
        QueryError::UnknownSource(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "UNKNOWN_SOURCE",
            format!("source: {e} (GET /api/sources lists them)"),
        ),
        QueryError::AsOf(reason) => ApiError::bad_parameter(format!("as_of: {reason}")),
        QueryError::Period { .. } => ApiError::bad_parameter(e.to_string()),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiscrepancyParams {
    dataflow: Option<String>,
    tolerance: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// What describes a page of a cached list.
#[derive(Serialize)]
struct CachedHead {
    generation: Generation,
    /// Whether the list came from the cache (computed by an earlier request on the same state of the bank).
    cached: bool,
}

async fn discrepancies(
    State(app): State<Arc<App>>,
    uri: Uri,
    Params(p): Params<DiscrepancyParams>,
) -> Result<JsonBytes, ApiError> {
    let paging = Paging::parse(p.limit.as_deref(), p.offset.as_deref())?;
    let tolerance = p.tolerance.as_deref().map(|t| non_negative("tolerance", t)).transpose()?.unwrap_or(0.0);
    blocking(move || {
        if let Some(id) = p.dataflow.as_deref() {
            app.quick.read(|b| known_dataflow(b, id))?;
        }
        let key = (p.dataflow.clone(), tolerance.to_bits());
        let (generation, rows, cached) = app.cached(&app.discrepancies, &app.readers, key, |b| {
            Ok(b.discrepancies(p.dataflow.as_deref(), tolerance)?)
        })?;
        let head = CachedHead { generation, cached };
        Page::with_head(head, &uri, paging, rows.len(), paging.slice(&rows)).to_json(app.max_response_bytes)
    })
    .await
}

fn known_dataflow(bank: &Bank, id: &str) -> Result<(), ApiError> {
    match bank.catalogue().dataflow(id) {
        Some(_) => Ok(()),
        None => Err(ApiError::unknown_dataflow(id)),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseParams {
    dataflow: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

async fn releases(
    State(app): State<Arc<App>>,
    uri: Uri,
    Params(p): Params<ReleaseParams>,
) -> Result<JsonBytes, ApiError> {
    let paging = Paging::parse(p.limit.as_deref(), p.offset.as_deref())?;
    blocking(move || {
        let rows = app.quick.read(|b| {
            if let Some(id) = p.dataflow.as_deref() {
                known_dataflow(b, id)?;
            }
            Ok(b.releases(p.dataflow.as_deref())?)
        })?;
        Page::of(&uri, paging, &rows).to_json(app.max_response_bytes)
    })
    .await
}

async fn sources(State(app): State<Arc<App>>, uri: Uri, Params(p): Params<PageParams>) -> Result<JsonBytes, ApiError> {
    let paging = p.paging()?;
    blocking(move || {
        let rows = app.quick.read(|b| Ok(b.sources()?))?;
        Page::of(&uri, paging, &rows).to_json(app.max_response_bytes)
    })
    .await
}

async fn check(State(app): State<Arc<App>>, uri: Uri, Params(p): Params<PageParams>) -> Result<JsonBytes, ApiError> {
    let paging = p.paging()?;
    blocking(move || {
        let (generation, findings, cached) = app.cached(&app.check, &app.readers, (), |b| Ok(b.check()?))?;
        let head = CachedHead { generation, cached };
        Page::with_head(head, &uri, paging, findings.len(), paging.slice(&findings)).to_json(app.max_response_bytes)
    })
    .await
}

async fn codelist(
    State(app): State<Arc<App>>,
    Segment(id): Segment<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    blocking(move || {
        app.quick.read(|b| {
            let list = b.catalogue().codelist(&id).ok_or_else(|| {
                ApiError::not_found(
                    "UNKNOWN_CODELIST",
                    format!("unknown code list `{id}` (GET /api/dataflows names each dimension's)"),
                )
            })?;
            Ok(Json(json!(list)).into_response())
        })
    })
    .await
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("serving the API: {0}")]
    Io(#[from] std::io::Error),
}

/// Serve the bank at `db` until Ctrl-C.
pub async fn serve(db: &Path, addr: SocketAddr) -> Result<(), ServeError> {
    let app = App::open(db, &ServerConfig::default())?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, router(app))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
