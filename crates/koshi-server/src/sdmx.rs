//! The SDMX 2.1 REST API (REST 1.5) under `/sdmx/rest/`: structure queries
//! (`/{resource}/{agency}/{id}/{version}?references=&detail=`), data queries
//! (`/data/{flow}/{key}/{provider}?startPeriod=&endPeriod=&updatedAfter=&firstNObservations=&
//! lastNObservations=&dimensionAtObservation=&detail=&asOf=`) and the DSD-specific schemas
//! structure-specific data validate against (`/schema/dataflow/{agency}/{id}/{version}`).
//!
//! The format follows the `Accept` header (or `format=`), answers carry `Vary: Accept` and an
//! `ETag` of the bank's state (a matching `If-None-Match` is a 304), data stream out series by
//! series, and errors are SDMX error messages with the status codes the specification gives
//! (404 no results, 400 syntax, 406 no such format, 413 too large, 501 not implemented).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use koshi_app::sdmx::{
    AnswerLimits, DataDetail, DataFormat, DataRequest, References, StructureDetail, StructureRequest, StructureResource,
};
use koshi_app::{AppError, ErrorKind};

use crate::Server;

const STRUCTURE_XML: &str = "application/vnd.sdmx.structure+xml;version=2.1";
const ERROR_XML: &str = "application/vnd.sdmx.error+xml;version=2.1";
const SCHEMA_XML: &str = "application/xml";
/// Bytes gathered before a chunk of a streamed answer is sent.
const CHUNK_BYTES: usize = 64 * 1024;

pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/sdmx/rest/data/{flow}", get(data))
        .route("/sdmx/rest/data/{flow}/{key}", get(data))
        .route("/sdmx/rest/data/{flow}/{key}/{provider}", get(data))
        .route("/sdmx/rest/schema/{context}/{agency}/{id}/{version}", get(schema))
        .route("/sdmx/rest/schema/{context}/{agency}/{id}", get(schema))
        .route("/sdmx/rest/{resource}", get(structure))
        .route("/sdmx/rest/{resource}/{agency}", get(structure))
        .route("/sdmx/rest/{resource}/{agency}/{id}", get(structure))
        .route("/sdmx/rest/{resource}/{agency}/{id}/{version}", get(structure))
        .route("/sdmx/rest/{resource}/{agency}/{id}/{version}/{item}", get(structure))
}

/// An SDMX error message: the SDMX code and the HTTP status the specification pairs with it.
#[derive(Debug)]
pub struct SdmxError {
    status: StatusCode,
    code: u16,
    message: String,
}

impl SdmxError {
    fn new(status: StatusCode, code: u16, message: impl Into<String>) -> Self {
        SdmxError { status, code, message: message.into() }
    }

    fn syntax(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 140, message)
    }

    fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, 501, message)
    }

    fn not_acceptable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_ACCEPTABLE, 406, message)
    }
}

impl From<AppError> for SdmxError {
    fn from(e: AppError) -> Self {
        let message = e.to_string();
        match e.kind() {
            ErrorKind::NotFound => SdmxError::new(StatusCode::NOT_FOUND, 100, format!("No results found: {message}")),
            ErrorKind::BadRequest | ErrorKind::Rejected => {
                SdmxError::new(StatusCode::BAD_REQUEST, 150, format!("Semantic error: {message}"))
            }
            ErrorKind::TooLarge => SdmxError::new(StatusCode::PAYLOAD_TOO_LARGE, 510, message),
            ErrorKind::Busy | ErrorKind::TooManyRequests => {
                SdmxError::new(StatusCode::SERVICE_UNAVAILABLE, 503, message)
            }
            ErrorKind::Unauthenticated => SdmxError::new(StatusCode::UNAUTHORIZED, 110, message),
            ErrorKind::Forbidden => SdmxError::new(StatusCode::FORBIDDEN, 130, message),
            ErrorKind::Conflict => SdmxError::new(StatusCode::CONFLICT, 150, format!("Semantic error: {message}")),
            ErrorKind::Internal => SdmxError::new(StatusCode::INTERNAL_SERVER_ERROR, 500, message),
        }
    }
}

impl IntoResponse for SdmxError {
    fn into_response(self) -> Response {
        let body = koshi_app::sdmx::error_message(self.code, &self.message);
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ERROR_XML));
        response
    }
}

/// The query string as pairs, every name checked against those the resource knows.
fn parameters(uri: &Uri, known: &[&str]) -> Result<HashMap<String, String>, SdmxError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|e| SdmxError::syntax(format!("the query string cannot be read: {e}")))?;
    let mut out = HashMap::new();
    for (name, value) in pairs {
        if !known.contains(&name.as_str()) {
            return Err(SdmxError::syntax(format!(
                "unknown parameter `{name}` (this resource takes {})",
                known.join(", ")
            )));
        }
        if out.insert(name.clone(), value).is_some() {
            return Err(SdmxError::syntax(format!("parameter `{name}` is given twice")));
        }
    }
    Ok(out)
}

/// The media types an `Accept` header lists, best first (by `q`, then by order).
fn accepted(headers: &HeaderMap) -> Vec<String> {
    let Some(text) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return vec!["*/*".into()];
    };
    let mut types: Vec<(f32, usize, String)> = text
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut params = part.split(';').map(str::trim);
            let media = params.next()?.to_ascii_lowercase();
            if media.is_empty() {
                return None;
            }
            let mut q = 1.0f32;
            let mut rest = Vec::new();
            for p in params {
                match p.split_once('=') {
                    Some(("q", v)) => q = v.trim().parse().unwrap_or(0.0),
                    Some((k, v)) => rest.push(format!("{}={}", k.trim().to_ascii_lowercase(), v.trim())),
                    None => {}
                }
            }
            let full = if rest.is_empty() { media } else { format!("{media};{}", rest.join(";")) };
            (q > 0.0).then_some((q, i, full))
        })
        .collect();
    types.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    types.into_iter().map(|(_, _, t)| t).collect()
}

fn data_format(headers: &HeaderMap, format: Option<&str>) -> Result<DataFormat, SdmxError> {
    if let Some(f) = format {
        return match f {
            "genericdata" => Ok(DataFormat::GenericXml),
            "structurespecificdata" => Ok(DataFormat::StructureSpecificXml),
            "csvdata" | "csv" | "sdmx-csv" => Ok(DataFormat::Csv1),
            "csvdata2" | "sdmx-csv-2" => Ok(DataFormat::Csv2),
            "jsondata" | "json" | "sdmx-json" => Ok(DataFormat::Json),
            other => Err(SdmxError::not_acceptable(format!(
                "format `{other}` is not served (genericdata, structurespecificdata, csvdata, csvdata2, jsondata)"
            ))),
        };
    }
    for media in accepted(headers) {
        let (base, params) = media.split_once(';').unwrap_or((media.as_str(), ""));
        let version = params.split(';').find_map(|p| p.strip_prefix("version=")).unwrap_or("");
        let found = match base {
            "application/vnd.sdmx.genericdata+xml" if matches!(version, "" | "2.1") => Some(DataFormat::GenericXml),
            "application/vnd.sdmx.structurespecificdata+xml" if matches!(version, "" | "2.1") => {
                Some(DataFormat::StructureSpecificXml)
            }
            "application/vnd.sdmx.data+csv" if matches!(version, "" | "1.0" | "1.0.0") => Some(DataFormat::Csv1),
            "application/vnd.sdmx.data+csv" if matches!(version, "2.0" | "2.0.0") => Some(DataFormat::Csv2),
            "application/vnd.sdmx.data+json" if matches!(version, "" | "1.0" | "1.0.0") => Some(DataFormat::Json),
            "text/csv" => Some(DataFormat::Csv1),
            "application/json" => Some(DataFormat::Json),
            "application/xml" | "text/xml" | "*/*" | "application/*" => Some(DataFormat::GenericXml),
            _ => None,
        };
        if let Some(f) = found {
            return Ok(f);
        }
    }
    Err(SdmxError::not_acceptable(
        "none of the accepted media types is served: data come as application/vnd.sdmx.genericdata+xml;version=2.1, \
         application/vnd.sdmx.structurespecificdata+xml;version=2.1, application/vnd.sdmx.data+csv;version=1.0.0 or \
         2.0.0, application/vnd.sdmx.data+json;version=1.0.0",
    ))
}

fn structure_format(headers: &HeaderMap, format: Option<&str>) -> Result<(), SdmxError> {
    if let Some(f) = format {
        return if f == "structure" || f == "sdmx-2.1" {
            Ok(())
        } else {
            Err(SdmxError::not_acceptable(format!("format `{f}` is not served for structures (structure)")))
        };
    }
    let ok = accepted(headers).iter().any(|m| {
        let (base, params) = m.split_once(';').unwrap_or((m.as_str(), ""));
        let version = params.split(';').find_map(|p| p.strip_prefix("version=")).unwrap_or("");
        (base == "application/vnd.sdmx.structure+xml" && matches!(version, "" | "2.1"))
            || matches!(base, "application/xml" | "text/xml" | "*/*" | "application/*")
    });
    if ok { Ok(()) } else { Err(SdmxError::not_acceptable(format!("structures are served as {STRUCTURE_XML}"))) }
}

/// The answer's entity tag: the bank's state and what was asked, in what format.
fn entity_tag(server: &Server, uri: &Uri, variant: &str) -> Result<String, SdmxError> {
    let generation = server.app().generation().map_err(SdmxError::from)?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    uri.to_string().hash(&mut hasher);
    variant.hash(&mut hasher);
    Ok(format!(
        "\"{}-{}-{}-{:016x}\"",
        generation.releases,
        generation.last_release,
        generation.last_defect,
        hasher.finish()
    ))
}

/// A 304 when the client holds this state already.
fn not_modified(headers: &HeaderMap, etag: &str) -> Option<Response> {
    let held = headers.get(header::IF_NONE_MATCH)?.to_str().ok()?;
    held.split(',').any(|t| t.trim() == etag || t.trim() == "*").then(|| {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().insert(header::ETAG, HeaderValue::from_str(etag).unwrap_or(HeaderValue::from_static("\"\"")));
        r.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
        r
    })
}

fn with_headers(mut response: Response, media_type: &str, etag: &str) -> Response {
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
    response
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SdmxError> + Send + 'static,
) -> Result<T, SdmxError> {
    tokio::task::spawn_blocking(f).await.map_err(|_| {
        SdmxError::new(StatusCode::INTERNAL_SERVER_ERROR, 500, "the request failed on a bug in the server")
    })?
}

async fn structure(
    State(server): State<Arc<Server>>,
    Path(segments): Path<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, SdmxError> {
    let params = parameters(&uri, &["references", "detail", "format"])?;
    let name = segments.get("resource").map(String::as_str).unwrap_or("");
    let Some(resource) = StructureResource::parse(name) else {
        return Err(if KNOWN_BUT_NOT_SERVED.contains(&name) {
            SdmxError::not_implemented(format!("the `{name}` resource is not implemented"))
        } else {
            SdmxError::syntax(format!(
                "unknown resource `{name}` (dataflow, datastructure, codelist, conceptscheme, agencyscheme, \
                 dataproviderscheme, contentconstraint, data, schema)"
            ))
        });
    };
    if segments.contains_key("item") {
        return Err(SdmxError::not_implemented("item queries (a fifth path segment) are not implemented"));
    }
    structure_format(&headers, params.get("format").map(String::as_str))?;
    let references = match params.get("references") {
        None => References::None,
        Some(r) => References::parse(r).ok_or_else(|| {
            SdmxError::syntax(format!(
                "references=`{r}` is not none, parents, parentsandsiblings, children, descendants, all or a resource"
            ))
        })?,
    };
    let detail = match params.get("detail").map(String::as_str) {
        None | Some("full") => StructureDetail::Full,
        Some("allstubs") => StructureDetail::AllStubs,
        Some("referencestubs") => StructureDetail::ReferenceStubs,
        Some(d @ ("referencepartial" | "allcompletestubs" | "referencecompletestubs")) => {
            return Err(SdmxError::not_implemented(format!(
                "detail={d} is not implemented (full, allstubs, referencestubs)"
            )));
        }
        Some(d) => return Err(SdmxError::syntax(format!("detail=`{d}` is not a structure detail"))),
    };
    let part = |k: &str| segments.get(k).cloned().unwrap_or_default();
    let request = StructureRequest {
        resource,
        agency: part("agency"),
        id: part("id"),
        version: part("version"),
        references,
        detail,
    };
    let etag = entity_tag(&server, &uri, "structure")?;
    if let Some(r) = not_modified(&headers, &etag) {
        return Ok(r);
    }
    let base = format!("{}/sdmx/rest", origin(&headers));
    let body = blocking(move || {
        let structures = server.app().sdmx_structure(&request)?;
        Ok(server.app().sdmx_structure_message(&structures, request.detail, &base)?)
    })
    .await?;
    Ok(with_headers(body.into_response(), STRUCTURE_XML, &etag))
}

/// Resources of the specification this service does not serve (a 501, not a 400).
const KNOWN_BUT_NOT_SERVED: &[&str] = &[
    "metadata",
    "availableconstraint",
    "hierarchicalcodelist",
    "categoryscheme",
    "categorisation",
    "organisationunitscheme",
    "dataconsumerscheme",
    "provisionagreement",
    "metadatastructure",
    "metadataflow",
    "structureset",
    "process",
    "reportingtaxonomy",
    "attachmentconstraint",
    "organisationscheme",
    "structure",
    "actualconstraint",
    "allowedconstraint",
    "conceptschemes",
];

/// Where the client reached the server, for the URLs of reference stubs.
fn origin(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    format!("http://{host}")
}

const DATA_PARAMETERS: &[&str] = &[
    "startPeriod",
    "endPeriod",
    "updatedAfter",
    "firstNObservations",
    "lastNObservations",
    "dimensionAtObservation",
    "detail",
    "includeHistory",
    "asOf",
    "format",
    "lang",
];

fn count(name: &str, text: &str) -> Result<usize, SdmxError> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(SdmxError::syntax(format!("{name}=`{text}` is not a whole number of at least 1"))),
    }
}

async fn data(
    State(server): State<Arc<Server>>,
    Path(segments): Path<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, SdmxError> {
    let params = parameters(&uri, DATA_PARAMETERS)?;
    let format = data_format(&headers, params.get("format").map(String::as_str))?;
    if params.get("includeHistory").is_some_and(|v| v == "true") {
        return Err(SdmxError::not_implemented(
            "includeHistory=true is not implemented: ask for one vintage at a time with asOf",
        ));
    }
    let flow = segments.get("flow").cloned().unwrap_or_default();
    let mut request = DataRequest::new(&flow, format);
    request.limits = Some(AnswerLimits::API);
    request.key = segments.get("key").cloned().unwrap_or_default();
    if let Some(provider) = segments.get("provider")
        && !matches!(provider.as_str(), "" | "all")
    {
        // `AGENCY,ID` or `ID`, several joined by `+`.
        request.providers = provider
            .split('+')
            .map(|p| p.rsplit(',').next().unwrap_or(p).trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
    }
    request.start_period = params.get("startPeriod").cloned();
    request.end_period = params.get("endPeriod").cloned();
    request.updated_after = params.get("updatedAfter").cloned();
    request.first_n = params.get("firstNObservations").map(|t| count("firstNObservations", t)).transpose()?;
    request.last_n = params.get("lastNObservations").map(|t| count("lastNObservations", t)).transpose()?;
    request.dimension_at_observation = params.get("dimensionAtObservation").cloned();
    request.detail = match params.get("detail") {
        None => DataDetail::Full,
        Some(d) => DataDetail::parse(d).ok_or_else(|| {
            SdmxError::syntax(format!("detail=`{d}` is not full, dataonly, serieskeysonly or nodata"))
        })?,
    };
    request.as_of = params.get("asOf").map(|a| a.get(..10).unwrap_or(a).to_string());
    if let Some(lang) = params.get("lang") {
        request.lang = lang.clone();
    }
    let etag = entity_tag(&server, &uri, format.media_type())?;
    if let Some(r) = not_modified(&headers, &etag) {
        return Ok(r);
    }
    let body = stream(move |out| server.app().sdmx_data(&request, out).map(|_| ())).await?;
    Ok(with_headers(Response::new(body), format.media_type(), &etag))
}

async fn schema(
    State(server): State<Arc<Server>>,
    Path(segments): Path<HashMap<String, String>>,
    uri: Uri,
) -> Result<Response, SdmxError> {
    let params = parameters(&uri, &["dimensionAtObservation", "explicitMeasure"])?;
    let context = segments.get("context").map(String::as_str).unwrap_or("");
    if context != "dataflow" && context != "datastructure" {
        return Err(SdmxError::not_implemented(format!(
            "schemas are served for a dataflow or a datastructure context, not `{context}`"
        )));
    }
    let agency = segments.get("agency").cloned().unwrap_or_default();
    let mut id = segments.get("id").cloned().unwrap_or_default();
    if context == "datastructure" {
        id = id.strip_prefix("DSD_").unwrap_or(&id).to_string();
    }
    let version = segments.get("version").cloned().unwrap_or_else(|| "latest".into());
    let flow = format!("{agency},{id},{version}");
    let at = params.get("dimensionAtObservation").cloned();
    let body = blocking(move || Ok(server.app().sdmx_schema(&flow, at.as_deref())?)).await?;
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(SCHEMA_XML));
    Ok(response)
}

/// Run a writing use case on a blocking thread and stream what it writes. An error before the
/// first chunk is an SDMX error answer; after it the connection is cut (the status is sent).
async fn stream(
    write: impl FnOnce(&mut dyn Write) -> Result<(), AppError> + Send + 'static,
) -> Result<Body, SdmxError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, SdmxError>>(4);
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter { tx: tx.clone(), buffer: Vec::with_capacity(CHUNK_BYTES) };
        let result = write(&mut out).map_err(SdmxError::from).and_then(|()| {
            out.send().map_err(|_| SdmxError::new(StatusCode::INTERNAL_SERVER_ERROR, 500, "the client went away"))
        });
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
    let first = match rx.recv().await {
        Some(Ok(bytes)) => bytes,
        Some(Err(e)) => return Err(e),
        None => Bytes::new(),
    };
    // The chunks after the first; an error mid-stream ends the body with an error (the client
    // sees a cut connection rather than a truncated message passing for whole).
    let rest = futures_util::stream::unfold(rx, |mut rx| async move {
        let item = rx.recv().await?;
        let chunk = item.map_err(|e| std::io::Error::other(format!("the answer failed midway: {}", e.message)));
        Some((chunk, rx))
    });
    let first = futures_util::stream::iter((!first.is_empty()).then_some(Ok::<_, std::io::Error>(first)));
    // Fused: the gzip layer polls once more after the end, which an unfused stream may not take.
    Ok(Body::from_stream(first.chain(rest).fuse()))
}

/// A writer that sends what it gathers in chunks down a channel.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, SdmxError>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
