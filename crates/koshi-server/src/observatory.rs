//! The observatory's profile pages and their API, and the same pages as self-contained
//! printable reports (`koshi report`):
//!
//! - `GET /country?code=KAZ&lang=ru&as_of=…` and `GET /region?code=KZ-75&lang=kk&as_of=…`: the
//!   pages; the address holds the view, so it is a permalink.
//! - `GET /vacancies?region=KZ-79&occupation=72&q=…&after=…&id=…` and
//!   `GET /shortage?region=…&status=…&month=YYYY-MM&level=1|2&occ=…&measure=…`: the vacancy
//!   search and the adopted shortage list with the map of labour-market tightness, reading
//!   `/api/vacancies`, `/api/shortage/lists/latest` and `/api/labour-demand`.
//! - `GET /api/profiles/country/{code}?as_of=…&horizon=…&top=…` and
//!   `GET /api/profiles/region/{code}?as_of=…`: the application's profile reports.
//!
//! A report is the page with Apache ECharts, the page's script and style and every API answer
//! the page would ask for written into it, so it opens and prints without koshi running.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use koshi_app::profile::{CountryProfileRequest, RegionProfileRequest};
use koshi_app::regions::RegionsMapRequest;
use koshi_app::{App, AppError};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::params::{JsonBytes, Params, Segment, report_json, whole_number};
use crate::{Server, asset, blocking};

pub const OBSERVATORY_JS_PATH: &str = "/assets/observatory.js";
pub const OBSERVATORY_CSS_PATH: &str = "/assets/observatory.css";
pub const OBSERVATORY_WORDS_PATH: &str = "/assets/observatory-i18n.json";

/// What every observatory page shares (words, provenance, permalinks, tables).
pub const OBSERVATORY_JS: &str = include_str!("../assets/observatory.js");
const OBSERVATORY_CSS: &str = include_str!("../assets/observatory.css");
/// The interface's words in English, Russian and Kazakh.
pub const OBSERVATORY_WORDS: &str = include_str!("../assets/observatory-i18n.json");
/// A page: the head all pages share (`page-head.html`, the title, `page-assets.html`: the style
/// sheet, ECharts and the pages' script) and the page's own body, joined when compiled.
macro_rules! page {
    ($title:literal, $body:literal) => {
        concat!(
            include_str!("../assets/page-head.html"),
            "<title>koshi — ",
            $title,
            "</title>\n",
            include_str!("../assets/page-assets.html"),
            include_str!(concat!("../assets/", $body))
        )
    };
}

const COUNTRY_PAGE: &str = page!("country profile", "country.html");
const REGION_PAGE: &str = page!("region profile", "region.html");
const EXPLORER_PAGE: &str = page!("data explorer", "explorer.html");
const QUALITY_PAGE: &str = page!("data quality", "quality.html");
const CORRIDORS_PAGE: &str = page!("corridors and flows", "corridors.html");
const MODELS_PAGE: &str = page!("models", "models.html");
/// The vacancy search (measure 21: the public told of employment opportunities).
const VACANCIES_PAGE: &str = page!("vacancies", "vacancies.html");
/// The adopted shortage list and the map of labour-market tightness by region.
const SHORTAGE_PAGE: &str = page!("shortage list and labour-market tightness", "shortage.html");

/// Every observatory page, with its path and text (for the server and the tests).
pub const PAGES: &[(&str, &str)] = &[
    ("/country", COUNTRY_PAGE),
    ("/region", REGION_PAGE),
    ("/explorer", EXPLORER_PAGE),
    ("/quality", QUALITY_PAGE),
    ("/corridors", CORRIDORS_PAGE),
    ("/models", MODELS_PAGE),
    ("/vacancies", VACANCIES_PAGE),
    ("/shortage", SHORTAGE_PAGE),
];

pub(crate) async fn script(headers: axum::http::HeaderMap) -> Response {
    asset(&headers, "text/javascript; charset=utf-8", "no-cache", OBSERVATORY_JS)
}

pub(crate) async fn style(headers: axum::http::HeaderMap) -> Response {
    asset(&headers, "text/css; charset=utf-8", "no-cache", OBSERVATORY_CSS)
}

pub(crate) async fn words(headers: axum::http::HeaderMap) -> Response {
    asset(&headers, "application/json", "no-cache", OBSERVATORY_WORDS)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountryParams {
    as_of: Option<String>,
    horizon: Option<String>,
    top: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegionParams {
    as_of: Option<String>,
}

fn country_request(code: String, p: CountryParams) -> Result<CountryProfileRequest, ApiError> {
    let mut request = CountryProfileRequest::new(&code);
    request.as_of = p.as_of;
    if let Some(h) = p.horizon.as_deref() {
        request.horizon = whole_number("horizon", h)?;
    }
    if let Some(top) = p.top.as_deref() {
        request.top = whole_number("top", top)?;
    }
    Ok(request)
}

pub(crate) async fn country_profile(
    State(server): State<Arc<Server>>,
    Segment(code): Segment<String>,
    Params(p): Params<CountryParams>,
) -> Result<JsonBytes, ApiError> {
    let request = country_request(code, p)?;
    blocking(move || {
        let profile = server.app.country_profile(&request)?;
        report_json(&profile, server.max_response_bytes, "ask for a shorter horizon or fewer partners")
    })
    .await
}

pub(crate) async fn region_profile(
    State(server): State<Arc<Server>>,
    Segment(code): Segment<String>,
    Params(p): Params<RegionParams>,
) -> Result<JsonBytes, ApiError> {
    let request = RegionProfileRequest { region: code, as_of: p.as_of };
    blocking(move || {
        let profile = server.app.region_profile(&request)?;
        report_json(&profile, server.max_response_bytes, "the profile of one region is bounded; this is a bug")
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegionsMapParams {
    measure: Option<String>,
    as_of: Option<String>,
}

/// Every region's figure of one measure (`NET` unless asked), by year and month: the map.
pub(crate) async fn regions_map(
    State(server): State<Arc<Server>>,
    Params(p): Params<RegionsMapParams>,
) -> Result<JsonBytes, ApiError> {
    let request = RegionsMapRequest { measure: p.measure.unwrap_or_else(|| "NET".into()), as_of: p.as_of };
    blocking(move || {
        let map = server.app.regions_map(&request)?;
        report_json(&map, server.max_response_bytes, "every region's figures of one measure are bounded; this is a bug")
    })
    .await
}

/// The address the page asks for a profile (the same in the page's script).
fn profile_url(kind: &str, code: &str, as_of: Option<&str>) -> String {
    match as_of {
        Some(date) => format!("/api/profiles/{kind}/{code}?as_of={date}"),
        None => format!("/api/profiles/{kind}/{code}"),
    }
}

/// What a printable report is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportSubject {
    /// ISO 3166-1 alpha-3.
    Country(String),
    /// ISO 3166-2 (KZ-75).
    Region(String),
}

/// A page of a report with the answers it reads written into it.
#[derive(Serialize)]
struct Embedded(std::collections::BTreeMap<String, serde_json::Value>);

fn value<T: Serialize>(v: &T) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(v).map_err(|e| AppError::Unanswerable(format!("writing the report: {e}")))
}

/// A self-contained HTML profile (charts included, no network needed) that prints well, in
/// the language asked (`en`, `ru`, `kk`; the reader can switch).
pub fn report(app: &App, subject: &ReportSubject, as_of: Option<&str>, lang: &str) -> Result<String, AppError> {
    if !["en", "ru", "kk"].contains(&lang) {
        return Err(AppError::invalid("lang", format!("`{lang}` is not en, ru or kk")));
    }
    let mut answers = std::collections::BTreeMap::new();
    answers.insert(
        OBSERVATORY_WORDS_PATH.to_string(),
        serde_json::from_str(OBSERVATORY_WORDS).map_err(|e| AppError::Unanswerable(e.to_string()))?,
    );
    answers.insert("/api/codelists/AREA".to_string(), value(&app.codelist("AREA")?)?);
    let (page, code) = match subject {
        ReportSubject::Country(code) => {
            let mut request = CountryProfileRequest::new(code);
            request.as_of = as_of.map(str::to_string);
            let profile = app.country_profile(&request)?;
            answers.insert(profile_url("country", &profile.country, as_of), value(&profile)?);
            (COUNTRY_PAGE, profile.country.clone())
        }
        ReportSubject::Region(code) => {
            let request = RegionProfileRequest { region: code.clone(), as_of: as_of.map(str::to_string) };
            let profile = app.region_profile(&request)?;
            // Every measure the map offers, so that the report switches between them offline.
            let suffix = as_of.map(|d| format!("&as_of={d}")).unwrap_or_default();
            for measure in koshi_app::regions::MAP_MEASURES {
                let request = RegionsMapRequest { measure: measure.to_string(), as_of: as_of.map(str::to_string) };
                answers.insert(
                    format!("/api/profiles/regions?measure={measure}{suffix}"),
                    value(&app.regions_map(&request)?)?,
                );
            }
            answers.insert(
                crate::KZ_REGIONS_PATH.to_string(),
                serde_json::from_str(crate::KZ_REGIONS_GEOJSON).map_err(|e| AppError::Unanswerable(e.to_string()))?,
            );
            answers.insert(profile_url("region", &profile.region, as_of), value(&profile)?);
            (REGION_PAGE, profile.region.clone())
        }
    };
    let embedded = serde_json::to_string(&Embedded(answers))
        .map_err(|e| AppError::Unanswerable(e.to_string()))?
        // Written inside a <script>: no sequence in the data may close it.
        .replace("</", "<\\/");
    let view = serde_json::json!({ "code": code, "lang": lang, "as_of": as_of });
    let head = format!(
        "<style>{OBSERVATORY_CSS}</style>\n<script>{}</script>\n<script>window.KOSHI_VIEW = {view};\nwindow.KOSHI_EMBEDDED = {embedded};</script>\n<script>{OBSERVATORY_JS}</script>",
        crate::ECHARTS_JS
    );
    let page = page
        .replace(
            &format!("<link rel=\"stylesheet\" href=\"{OBSERVATORY_CSS_PATH}\">\n<script src=\"{}\"></script>\n<script src=\"{OBSERVATORY_JS_PATH}\"></script>", crate::ECHARTS_PATH),
            &head,
        );
    if !page.contains("window.KOSHI_EMBEDDED") {
        return Err(AppError::Unanswerable("the page's head is not the one the report fills in".into()));
    }
    Ok(page)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DownloadParams {
    key: Option<String>,
    as_of: Option<String>,
    source: Option<String>,
    harmonised: Option<String>,
    from: Option<String>,
    to: Option<String>,
    predecessors: Option<String>,
}

/// `GET /api/download/{dataflow}?key=…`: the selection of `/api/data` as one ZIP file (data.csv,
/// metadata.json, README.md with the citation and the sources' terms).
pub(crate) async fn download(
    State(server): State<Arc<Server>>,
    Segment(dataflow): Segment<String>,
    Params(p): Params<DownloadParams>,
) -> Result<Response, ApiError> {
    let request = koshi_app::bank::QueryRequest {
        dataflow,
        keys: p.key.into_iter().collect(),
        as_of: p.as_of,
        source: p.source,
        from: p.from,
        to: p.to,
        harmonised: crate::params::boolean("harmonised", p.harmonised.as_deref())?,
        predecessors: crate::params::boolean("predecessors", p.predecessors.as_deref())?,
        page: None,
    };
    blocking(move || {
        let file = server.app.download(&request)?;
        let disposition = format!("attachment; filename=\"{}\"", file.file_name);
        Ok((
            [
                (axum::http::header::CONTENT_TYPE, "application/zip".to_string()),
                (axum::http::header::CONTENT_DISPOSITION, disposition),
            ],
            file.bytes,
        )
            .into_response())
    })
    .await
}

/// `GET /api/dataflows/{dataflow}/codes`: each dimension's codes that the series use, labelled.
pub(crate) async fn dataflow_codes(
    State(server): State<Arc<Server>>,
    Segment(dataflow): Segment<String>,
    Params(crate::NoParams {}): Params<crate::NoParams>,
) -> Result<JsonBytes, ApiError> {
    blocking(move || {
        let codes = server.app.dataflow_codes(&dataflow)?;
        report_json(&codes, server.max_response_bytes, "a dataflow's codes are bounded by its code lists")
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangesParams {
    since: Option<String>,
    key: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// What describes a page of changes.
#[derive(Serialize)]
struct ChangesHead {
    dataflow: String,
    since: String,
    counts: koshi_app::changes::ChangeCounts,
}

/// `GET /api/changes/{dataflow}?since=YYYY-MM-DD&key=…`: the harmonised view known on `since`
/// against the view now — added, revised and withdrawn figures, each side with its release.
pub(crate) async fn changes(
    State(server): State<Arc<Server>>,
    Segment(dataflow): Segment<String>,
    uri: axum::http::Uri,
    Params(p): Params<ChangesParams>,
) -> Result<JsonBytes, ApiError> {
    let paging = crate::params::Paging::parse(p.limit.as_deref(), p.offset.as_deref())?;
    let since = p.since.ok_or_else(|| ApiError::bad_parameter("since: the vintage's date (YYYY-MM-DD) is needed"))?;
    let request = koshi_app::changes::ChangesRequest {
        dataflow,
        keys: p.key.into_iter().collect(),
        since,
        page: crate::page_request(paging),
    };
    blocking(move || {
        let report = server.app.changes(&request)?;
        let head = ChangesHead { dataflow: report.dataflow, since: report.since, counts: report.counts };
        crate::params::Page::with_head(head, &uri, paging, report.total, &report.items)
            .to_json(server.max_response_bytes)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LatestChangesParams {
    latest: Option<String>,
}

/// `GET /api/changes?latest=5`: what each of the latest releases changed in its dataflow.
pub(crate) async fn latest_changes(
    State(server): State<Arc<Server>>,
    Params(p): Params<LatestChangesParams>,
) -> Result<JsonBytes, ApiError> {
    let latest = p.latest.as_deref().map(|t| whole_number("latest", t)).transpose()?.unwrap_or(5);
    blocking(move || {
        let changes = server.app.latest_changes(latest)?;
        report_json(&*changes, server.max_response_bytes, "ask for fewer releases")
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CorridorParams {
    as_of: Option<String>,
}

/// `GET /api/corridors/{a}/{b}?as_of=…`: two countries' corridor and its risk view.
pub(crate) async fn corridor(
    State(server): State<Arc<Server>>,
    Segment((a, b)): Segment<(String, String)>,
    Params(p): Params<CorridorParams>,
) -> Result<JsonBytes, ApiError> {
    let request = koshi_app::corridor::CorridorRequest { a, b, as_of: p.as_of };
    blocking(move || {
        let report = server.app.corridor(&request)?;
        report_json(&report, server.max_response_bytes, "one corridor's figures are bounded; this is a bug")
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CorridorSetParams {
    countries: Option<String>,
    year: Option<String>,
    as_of: Option<String>,
}

/// `GET /api/corridors?countries=KAZ,RUS,UZB&year=…&as_of=…`: the bilateral stocks among a set.
pub(crate) async fn corridor_set(
    State(server): State<Arc<Server>>,
    Params(p): Params<CorridorSetParams>,
) -> Result<JsonBytes, ApiError> {
    let countries = p
        .countries
        .ok_or_else(|| ApiError::bad_parameter("countries: 2 to 12 ISO alpha-3 codes joined by commas (KAZ,RUS,UZB)"))?
        .split(',')
        .map(str::to_string)
        .collect();
    let request = koshi_app::corridor::CorridorSetRequest { countries, year: p.year, as_of: p.as_of };
    blocking(move || {
        let set = server.app.corridor_set(&request)?;
        report_json(&set, server.max_response_bytes, "at most 12 countries")
    })
    .await
}

pub(crate) const WORLD_PATH: &str = "/assets/world-countries-110m.geojson";
/// The world's countries (Natural Earth via world-atlas, `data/geo/world_countries_110m/`).
pub(crate) const WORLD_GEOJSON: &str = include_str!("../../../data/geo/world_countries_110m/countries-110m.geojson");

pub(crate) async fn world(headers: axum::http::HeaderMap) -> Response {
    asset(&headers, "application/geo+json", "public, max-age=86400", WORLD_GEOJSON)
}

/// What the pages ask for first, asked once when the server starts so that the first visitor
/// finds the slow answers (the defect report, the discrepancies, what changed, the models'
/// fits) already worked out. Each is an ordinary request through the router.
pub const WARM_URLS: &[&str] = &[
    "/api/check?limit=1000",
    "/api/discrepancies?tolerance=1&limit=200",
    "/api/alerts?limit=20",
    "/api/changes?latest=3",
    "/api/changes?latest=5",
    "/api/profiles/country/KAZ",
    "/api/profiles/regions?measure=NET",
    "/api/corridors?countries=KAZ,RUS,UZB,KGZ,TJK,CHN,BLR,UKR,DEU",
    "/api/corridors/KAZ/RUS",
    "/api/corridors/KAZ/BLR",
    "/api/corridors/KAZ/CHN",
    "/api/gravity/fit?formula=flow%20~%20log(dist)%20%2B%20contig%20%2B%20eaeu%20%7C%20orig%5Eyear%20%2B%20dest%5Eyear&data=undesa-panel",
    "/api/gravity/push-pull?formula=flow%20~%20log(dist)%20%2B%20contig%20%7C%20orig%20%2B%20dest%20%2B%20year&data=undesa-panel&corridor=KAZ",
    "/api/backtest/MIG_EXT?key=KAZ.WLD._T._T.NET&horizon=5",
    // The models page's counterfactual scenarios (models.html), the first one shown by default.
    "/api/gravity/fit?formula=flow%20~%20log(dist)%20%2B%20contig%20%2B%20eaeu%20%7C%20orig%5Eyear%20%2B%20dest%5Eyear&data=undesa-panel&counterfactual=eaeu%3D0%20where%20eaeu%3D1&within=dest%3DKAZ%20and%20year%3D2019",
    "/api/gravity/fit?formula=flow%20~%20log(dist)%20%2B%20contig%20%2B%20eaeu%20%7C%20orig%5Eyear%20%2B%20dest%5Eyear&data=undesa-panel&counterfactual=eaeu%3D0%20where%20eaeu%3D1&within=orig%3DKAZ%20and%20year%3D2019",
    "/api/gravity/fit?formula=flow%20~%20log(dist)%20%2B%20contig%20%2B%20eaeu%20%7C%20orig%5Eyear%20%2B%20dest%5Eyear&data=undesa-panel&counterfactual=eaeu%3D1%20where%20orig%3DUZB%20and%20dest%3DKAZ%2CRUS%2CKGZ%2CARM%2CBLR%20and%20year%3D2019&within=dest%3DKAZ%20and%20year%3D2019",
    "/api/gravity/fit?formula=flow%20~%20log(dist)%20%2B%20contig%20%2B%20eaeu%20%7C%20orig%5Eyear%20%2B%20dest%5Eyear&data=undesa-panel&counterfactual=contig%3D0%20where%20contig%3D1&within=dest%3DKAZ%20and%20year%3D2019",
];

/// How often the server looks whether the bank changed.
const BANK_WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// Ask for [`WARM_URLS`] again each time the bank's state changes from `warmed` (every write
/// changes it), for as long as the server runs.
pub async fn keep_warm(server: Arc<Server>, router: axum::Router, warmed: Option<koshi_app::Generation>) {
    // Then every profile, one after another with a pause between them, beside the visitors.
    warm_profiles(&server, &router).await;
    let mut warmed = warmed;
    loop {
        let app = Arc::clone(&server);
        let now = tokio::task::spawn_blocking(move || app.app.generation().ok()).await.ok().flatten();
        if now.is_some() && now != warmed {
            warm_up(router.clone()).await;
            warm_profiles(&server, &router).await;
            warmed = now;
        }
        tokio::time::sleep(BANK_WATCH_INTERVAL).await;
    }
}

/// Ask for the profile of every country and region of the AREA code list (as the pages do), so
/// that any country's or region's first visitor finds it worked out (kept in the bank too, when
/// slow, for the next start).
async fn warm_profiles(server: &Arc<Server>, router: &axum::Router) {
    let app = Arc::clone(server);
    let urls = tokio::task::spawn_blocking(move || -> Vec<String> {
        let Ok(catalogue) = app.app.catalogue() else { return Vec::new() };
        let mut urls: Vec<String> =
            catalogue.country_codes().into_iter().map(|c| format!("/api/profiles/country/{c}")).collect();
        if let Some(area) = catalogue.codelist("AREA") {
            urls.extend(
                area.codes
                    .iter()
                    .filter(|c| matches!(c.properties.get("kind").map(String::as_str), Some("kz_region" | "kz_city")))
                    .map(|c| format!("/api/profiles/region/{}", c.id)),
            );
        }
        urls
    })
    .await
    .unwrap_or_default();
    for url in &urls {
        ask_for(router, std::iter::once(url.as_str())).await;
        // A pause between profiles leaves most of the machine to the visitors.
        tokio::time::sleep(PROFILE_WARM_PAUSE).await;
    }
}

/// The pause between two profiles worked out in the background.
const PROFILE_WARM_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// Ask for [`WARM_URLS`] one after another (errors are left for the real requests to report).
pub async fn warm_up(router: axum::Router) {
    ask_for(&router, WARM_URLS.iter().copied()).await;
}

/// Ask the router for each URL in turn, as a visitor would.
async fn ask_for<'a>(router: &axum::Router, urls: impl Iterator<Item = &'a str>) {
    use tower::ServiceExt;
    for url in urls {
        let Ok(request) = axum::http::Request::get(url).body(axum::body::Body::empty()) else { continue };
        let Ok(response) = router.clone().oneshot(request).await;
        // The body is read to its end so that a streamed answer is computed too.
        let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
    }
}
