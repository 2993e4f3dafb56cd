//! The JSON API of the data bank, and at `/` a dashboard page that reads it (at `/registry`, the
//! permit registry's pages):
//!
//! - `GET /api/health` — liveness and counts;
//! - `GET /api/dataflows` — dataflows with their dimensions and sizes;
//! - `GET /api/data/{dataflow}?key=…&as_of=…&source=…&harmonised=true&from=…&to=…` — observations.
//!   `key` is SDMX-style: codes in dimension order joined by `.`, empty for any, `+` for
//!   several (`KAZ.WLD._T._T.NET+ARR`), or `DIM=CODE,DIM=CODE`.
//! - `GET /api/alerts?rule=…&since=…&as_of=…` — the monitoring rules' alerts, latest first;
//! - `GET /api/search?q=…` — series found by words in English, Russian or Kazakh;
//! - `GET /api/indicators`, `GET /api/indicators/{id}/{dataflow}?key=…&from=…&to=…&as_of=…` —
//!   indicators computed from the harmonised figures, each value with its input figures;
//! - `GET /api/discrepancies?dataflow=…&tolerance=…`, `GET /api/releases?dataflow=…`,
//!   `GET /api/sources`, `GET /api/check`, `GET /api/codelists/{id}`.
//!
//! Every list comes a page at a time in one envelope, `{"total", "limit", "offset", "next",
//! "items"}`, in a stable order: `limit` defaults to [`DEFAULT_PAGE_SIZE`] and may not exceed
//! [`MAX_PAGE_SIZE`]; `next` is the URL of the following page (or null). Every error is
//! `{"error": {"status", "code", "message"}}`. Answers are gzipped when the client accepts it.
//!
//! The server is an adapter: each handler reads its parameters strictly into the application
//! layer's request ([`koshi_app`]), calls the use case on a blocking thread and answers its
//! report as JSON, lists a page at a time. The application reads the bank through a small pool
//! of read-only connections (SQLite WAL), so a slow request holds one connection, not the bank;
//! it computes the defect report, the discrepancies and the counts once per state of the bank.

mod error;
mod flows;
mod forecast;
mod gravity;
mod index;
pub mod observatory;
mod params;
mod registry;
mod sdmx;
mod vacancies;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router, middleware};
use koshi_app::bank::{DiscrepanciesRequest, QueryRequest, ReleasesRequest};
use koshi_app::indicators::IndicatorRequest;
use koshi_app::monitor::AlertsRequest;
use koshi_app::search::SearchRequest;
use koshi_app::{App, AppConfig, AppError, PageRequest};
use serde::{Deserialize, Serialize};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;

pub use error::ApiError;
pub use index::{ENDPOINTS, Endpoint};
use params::{JsonBytes, NoHead, Page, Paging, Params, Segment, boolean, non_negative};

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
#[derive(Clone)]
pub struct ServerConfig {
    /// Connections for the expensive requests (data, discrepancies, the defect report, models).
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

/// The server's state: the application and the answer limit.
pub struct Server {
    app: App,
    max_response_bytes: usize,
}

impl Server {
    /// Open the application on the bank at `path` (which must exist or be creatable).
    pub fn open(path: &Path, config: &ServerConfig) -> Result<Arc<Server>, AppError> {
        let app_config = AppConfig {
            readers: config.readers,
            quick_readers: config.quick_readers,
            pool_wait: config.pool_wait,
            ..AppConfig::default()
        };
        Ok(Self::over(App::open(path, app_config)?, config.max_response_bytes))
    }

    /// Serve an application already open.
    pub fn over(app: App, max_response_bytes: usize) -> Arc<Server> {
        Arc::new(Server { app, max_response_bytes })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// How many times the defect report was computed since the server started.
    pub fn check_computations(&self) -> u64 {
        self.app.check_computations()
    }
}

pub fn router(server: Arc<Server>) -> Router {
    // The observatory's pages, each a compiled-in file served as it is.
    let pages = observatory::PAGES
        .iter()
        .fold(Router::new(), |router, (path, page)| router.route(path, get(|| async { axum::response::Html(*page) })));
    pages
        .route("/", get(dashboard))
        .route("/registry", get(registry_pages))
        .route(observatory::OBSERVATORY_JS_PATH, get(observatory::script))
        .route(observatory::OBSERVATORY_CSS_PATH, get(observatory::style))
        .route(observatory::OBSERVATORY_WORDS_PATH, get(observatory::words))
        .route("/api/profiles/country/{code}", get(observatory::country_profile))
        .route("/api/profiles/region/{code}", get(observatory::region_profile))
        .route("/api/profiles/regions", get(observatory::regions_map))
        .route("/api/download/{dataflow}", get(observatory::download))
        .route("/api/dataflows/{dataflow}/codes", get(observatory::dataflow_codes))
        .route("/api/changes", get(observatory::latest_changes))
        .route("/api/corridors", get(observatory::corridor_set))
        .route("/api/corridors/{a}/{b}", get(observatory::corridor))
        .route(observatory::WORLD_PATH, get(observatory::world))
        .route("/api/changes/{dataflow}", get(observatory::changes))
        .route(ECHARTS_PATH, get(echarts))
        .route(KZ_REGIONS_PATH, get(kz_regions))
        .route("/api", get(index::index))
        .route("/api/health", get(health))
        .route("/api/dataflows", get(dataflows))
        .route("/api/data/{dataflow}", get(data))
        .route("/api/discrepancies", get(discrepancies))
        .route("/api/alerts", get(alerts))
        .route("/api/search", get(search))
        .route("/api/indicators", get(indicators))
        .route("/api/indicators/{id}/{dataflow}", get(indicator))
        .route("/api/releases", get(releases))
        .route("/api/sources", get(sources))
        .route("/api/check", get(check))
        .route("/api/codelists/{id}", get(codelist))
        .route("/api/occupations", get(occupations))
        .route("/api/indices/{dataflow}", get(flows::indices))
        .route("/api/flows/estimate", get(flows::estimate))
        .route("/api/gravity/fit", get(gravity::fit))
        .route("/api/gravity/panel", get(gravity::panel))
        .route("/api/gravity/push-pull", get(gravity::push_pull))
        .route("/api/gravity/potential", get(gravity::potential))
        .route("/api/forecast/{dataflow}", get(forecast::forecast))
        .route("/api/backtest/{dataflow}", get(forecast::backtest))
        .merge(sdmx::routes())
        .merge(registry::routes())
        .fallback(error::route_not_found)
        .with_state(server)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::new())
        .layer(middleware::from_fn(error::json_errors))
        .layer(middleware::from_fn(error::request_limits))
        .layer(CompressionLayer::new())
}

/// Run a use case off the async threads.
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

/// Where the pages load Apache ECharts from (the version in the path, so it is cached for good).
pub const ECHARTS_PATH: &str = "/assets/echarts-6.1.0.min.js";

/// Apache ECharts (Apache-2.0, `assets/vendor/echarts/`), compiled in: the pages chart offline.
async fn echarts(headers: axum::http::HeaderMap) -> Response {
    asset(&headers, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", ECHARTS_JS)
}

/// Apache ECharts' minified build, compiled into koshi.
pub(crate) const ECHARTS_JS: &str = include_str!("../assets/vendor/echarts/echarts.min.js");

/// A file compiled into the server, with its type and how long browsers may keep it; gzipped
/// for a browser that accepts it, compressed once per file instead of on every request (the
/// map and the chart library are large: compressing them per request cost more than serving).
pub(crate) fn asset(
    request: &axum::http::HeaderMap,
    content_type: &'static str,
    cache: &'static str,
    body: &'static str,
) -> Response {
    use axum::http::header;
    let gzip = request.get_all(header::ACCEPT_ENCODING).iter().any(|v| {
        v.to_str().is_ok_and(|text| {
            text.split(',').any(|part| {
                let mut pieces = part.split(';').map(str::trim);
                pieces.next() == Some("gzip") && !pieces.any(|p| p.replace(' ', "") == "q=0")
            })
        })
    });
    let headers =
        [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, cache), (header::VARY, "accept-encoding")];
    if gzip {
        (headers, [(header::CONTENT_ENCODING, "gzip")], gzipped(body)).into_response()
    } else {
        (headers, body).into_response()
    }
}

/// The gzip form of a compiled-in file, made the first time it is asked for and kept for the
/// life of the process (a handful of files, so kept as static bytes).
fn gzipped(body: &'static str) -> &'static [u8] {
    use std::collections::HashMap;
    use std::io::Write;
    use std::sync::{Mutex, OnceLock, PoisonError};
    static MADE: OnceLock<Mutex<HashMap<usize, &'static [u8]>>> = OnceLock::new();
    let made = MADE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut made = made.lock().unwrap_or_else(PoisonError::into_inner);
    made.entry(body.as_ptr() as usize).or_insert_with(|| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing into memory cannot fail.
        encoder.write_all(body.as_bytes()).expect("gzip into memory");
        Box::leak(encoder.finish().expect("gzip into memory").into_boxed_slice())
    })
}

/// Where the pages load the map of Kazakhstan's regions from.
pub const KZ_REGIONS_PATH: &str = "/assets/kz-regions-2022.geojson";

/// Kazakhstan's 20 first-level units of the 2022 layout (`data/geo/kz_adm1_2022/`, largely
/// OpenStreetMap-derived: maps drawn from it credit "© OpenStreetMap contributors, ODbL 1.0").
async fn kz_regions(headers: axum::http::HeaderMap) -> Response {
    asset(&headers, "application/geo+json", "public, max-age=86400", KZ_REGIONS_GEOJSON)
}

/// The 20 regions of Kazakhstan in the layout of 2022 (`data/geo/kz_adm1_2022/`).
pub(crate) const KZ_REGIONS_GEOJSON: &str = include_str!("../../../data/geo/kz_adm1_2022/kz_adm1_2022.geojson");

/// The permit registry's pages: the public quota, sign-in, the employer's applications and the
/// regional officer's queue, in English, Russian and Kazakh, reading `/api/registry/`.
async fn registry_pages() -> axum::response::Html<&'static str> {
    axum::response::Html(include_str!("../assets/registry.html"))
}

/// Endpoints without parameters refuse unknown ones like the others.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoParams {}

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

fn page_request(paging: Paging) -> Option<PageRequest> {
    Some(PageRequest { offset: paging.offset, limit: paging.limit })
}

async fn health(
    State(server): State<Arc<Server>>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<koshi_app::bank::HealthReport>, ApiError> {
    blocking(move || Ok(Json(server.app.health()?))).await
}

async fn dataflows(
    State(server): State<Arc<Server>>,
    uri: Uri,
    Params(p): Params<PageParams>,
) -> Result<JsonBytes, ApiError> {
    let paging = p.paging()?;
    blocking(move || {
        let list = server.app.dataflows(page_request(paging))?;
        Page::with_head(NoHead {}, &uri, paging, list.total, &list.items).to_json(server.max_response_bytes)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataParams {
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
    dimensions: &'a [String],
    harmonised: bool,
}

async fn data(
    State(server): State<Arc<Server>>,
    Segment(dataflow): Segment<String>,
    uri: Uri,
    Params(p): Params<DataParams>,
) -> Result<JsonBytes, ApiError> {
    let paging = Paging::parse(p.limit.as_deref(), p.offset.as_deref())?;
    let request = QueryRequest {
        dataflow,
        keys: p.key.into_iter().collect(),
        as_of: p.as_of,
        source: p.source,
        from: p.from,
        to: p.to,
        harmonised: boolean("harmonised", p.harmonised.as_deref())?,
        predecessors: boolean("predecessors", p.predecessors.as_deref())?,
        page: page_request(paging),
    };
    blocking(move || {
        let report = server.app.query(&request)?;
        let head =
            DataHead { dataflow: &report.dataflow, dimensions: &report.dimensions, harmonised: report.harmonised };
        match &report.items {
            koshi_app::bank::Figures::Observations(items) => {
                Page::with_head(head, &uri, paging, report.total, items).to_json(server.max_response_bytes)
            }
            koshi_app::bank::Figures::Harmonised(items) => {
                Page::with_head(head, &uri, paging, report.total, items).to_json(server.max_response_bytes)
            }
        }
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiscrepancyParams {
    dataflow: Option<String>,
    tolerance: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// What describes a page of a list computed once per state of the bank.
#[derive(Serialize)]
struct GenerationHead {
    generation: koshi_app::Generation,
}

async fn discrepancies(
    State(server): State<Arc<Server>>,
    uri: Uri,
    Params(p): Params<DiscrepancyParams>,
) -> Result<JsonBytes, ApiError> {
    let paging = Paging::parse(p.limit.as_deref(), p.offset.as_deref())?;
    let tolerance_pct = p.tolerance.as_deref().map(|t| non_negative("tolerance", t)).transpose()?.unwrap_or(0.0);
    let request = DiscrepanciesRequest { dataflow: p.dataflow, tolerance_pct, page: page_request(paging) };
    blocking(move || {
        let list = server.app.discrepancies(&request)?;
        let head = GenerationHead { generation: list.generation };
        Page::with_head(head, &uri, paging, list.total, &list.items).to_json(server.max_response_bytes)
    })
    .await
}

async fn indicators(
    State(server): State<Arc<Server>>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    blocking(move || Ok(axum::Json(server.app.indicators()?).into_response())).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorParams {
    key: Option<String>,
    from: Option<String>,
    to: Option<String>,
    as_of: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// What describes a page of an indicator's values.
#[derive(Serialize)]
struct IndicatorHead {
    indicator: String,
    name: koshi_app::Labels,
    formula: String,
    unit: String,
    dataflow: String,
    dimensions: Vec<String>,
    notes: Vec<String>,
}

async fn indicator(
    State(server): State<Arc<Server>>,
    axum::extract::Path((id, dataflow)): axum::extract::Path<(String, String)>,
    uri: Uri,
    Params(p): Params<IndicatorParams>,
) -> Result<JsonBytes, ApiError> {
    let paging = Paging::parse(p.limit.as_deref(), p.offset.as_deref())?;
    let request = IndicatorRequest {
        indicator: id,
        dataflow,
        keys: p.key.into_iter().collect(),
        from: p.from,
        to: p.to,
        as_of: p.as_of,
        page: page_request(paging),
    };
    blocking(move || {
        let r = server.app.indicator(&request)?;
        let head = IndicatorHead {
            indicator: r.indicator,
            name: r.name,
            formula: r.formula,
            unit: r.unit,
            dataflow: r.dataflow,
            dimensions: r.dimensions,
            notes: r.notes,
        };
        Page::with_head(head, &uri, paging, r.total, &r.items).to_json(server.max_response_bytes)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    q: Option<String>,
    limit: Option<String>,
}

async fn search(State(server): State<Arc<Server>>, Params(p): Params<SearchParams>) -> Result<Response, ApiError> {
    let limit = p.limit.as_deref().map(|l| params::whole_number("limit", l)).transpose()?;
    let request = SearchRequest { q: p.q.unwrap_or_default(), limit };
    blocking(move || Ok(axum::Json(server.app.search(&request)?).into_response())).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertParams {
    rule: Option<String>,
    since: Option<String>,
    as_of: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// What the monitoring rules say: alerts latest first, and the rules' notes.
#[derive(Serialize)]
struct AlertsHead {
    rules: usize,
    series: usize,
    notes: Vec<String>,
}

async fn alerts(
    State(server): State<Arc<Server>>,
    uri: Uri,
    Params(p): Params<AlertParams>,
) -> Result<JsonBytes, ApiError> {
    let paging = Paging::parse(p.limit.as_deref(), p.offset.as_deref())?;
    let request = AlertsRequest { rule: p.rule, since: p.since, as_of: p.as_of, page: page_request(paging) };
    blocking(move || {
        let report = server.app.alerts(&request)?;
        let head = AlertsHead { rules: report.rules, series: report.series, notes: report.notes };
        Page::with_head(head, &uri, paging, report.total, &report.items).to_json(server.max_response_bytes)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseParams {
    dataflow: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

async fn releases(
    State(server): State<Arc<Server>>,
    uri: Uri,
    Params(p): Params<ReleaseParams>,
) -> Result<JsonBytes, ApiError> {
    let paging = Paging::parse(p.limit.as_deref(), p.offset.as_deref())?;
    let request = ReleasesRequest { dataflow: p.dataflow, page: page_request(paging) };
    blocking(move || {
        let list = server.app.releases(&request)?;
        Page::with_head(NoHead {}, &uri, paging, list.total, &list.items).to_json(server.max_response_bytes)
    })
    .await
}

async fn sources(
    State(server): State<Arc<Server>>,
    uri: Uri,
    Params(p): Params<PageParams>,
) -> Result<JsonBytes, ApiError> {
    let paging = p.paging()?;
    blocking(move || {
        let list = server.app.sources(page_request(paging))?;
        Page::with_head(NoHead {}, &uri, paging, list.total, &list.items).to_json(server.max_response_bytes)
    })
    .await
}

async fn check(
    State(server): State<Arc<Server>>,
    uri: Uri,
    Params(p): Params<PageParams>,
) -> Result<JsonBytes, ApiError> {
    let paging = p.paging()?;
    blocking(move || {
        let list = server.app.check(page_request(paging))?;
        let head = GenerationHead { generation: list.generation };
        Page::with_head(head, &uri, paging, list.total, &list.items).to_json(server.max_response_bytes)
    })
    .await
}

async fn codelist(
    State(server): State<Arc<Server>>,
    Segment(id): Segment<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    blocking(move || Ok(Json(server.app.codelist(&id)?).into_response())).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OccupationsParams {
    level: Option<String>,
    under: Option<String>,
    q: Option<String>,
}

/// `GET /api/occupations`: ISCO-08 groups with English, Russian and Kazakh titles; public.
async fn occupations(
    State(server): State<Arc<Server>>,
    Params(p): Params<OccupationsParams>,
) -> Result<Response, ApiError> {
    let level = match p.level.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        Some(l) => Some(l.parse::<usize>().map_err(|_| {
            ApiError::from(AppError::invalid("level", format!("`{l}` is not a whole number of ISCO-08 digits")))
        })?),
        None => None,
    };
    let request = koshi_app::occupations::OccupationsRequest { level, under: p.under, q: p.q };
    blocking(move || Ok(Json(server.app.occupations(&request)?).into_response())).await
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("serving the API: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server was shared before it started")]
    Shared,
}

/// The server over the bank at `db`, and the permit registry when one is given. Opening
/// connects to the databases with blocking clients (PostgreSQL's among them): call it before the
/// runtime starts, or on a blocking thread.
pub fn open(db: &Path, registry: Option<&koshi_app::registry::RegistryConfig>) -> Result<Arc<Server>, ServeError> {
    let server = Server::open(db, &ServerConfig::default())?;
    let Some(config) = registry else { return Ok(server) };
    let inner = Arc::try_unwrap(server).map_err(|_| ServeError::Shared)?;
    Ok(Server::over(inner.app.with_registry(config)?, inner.max_response_bytes))
}

/// Serve until Ctrl-C. What the pages ask for first (`observatory::WARM_URLS`) is worked out
/// before the server listens, so that no visitor waits for it: after a load that is the defect
/// report, the models' fits and the like (seconds); after a restart they are read back from the
/// bank. Then they are worked out again whenever the bank changes. `ready` is called once the
/// server listens.
pub async fn serve(server: Arc<Server>, addr: SocketAddr, ready: impl FnOnce()) -> Result<(), ServeError> {
    let app = router(Arc::clone(&server));
    let generation = {
        let server = Arc::clone(&server);
        tokio::task::spawn_blocking(move || server.app.generation().ok()).await.ok().flatten()
    };
    observatory::warm_up(app.clone()).await;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    ready();
    tokio::spawn(observatory::keep_warm(server, app.clone(), generation));
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
