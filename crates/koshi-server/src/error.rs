//! One error shape for every answer that is not a success:
//! `{"error": {"status": 400, "code": "BAD_PARAMETER", "message": "…"}}`. Errors the handlers
//! raise are built here; errors raised below them (axum's 405, a body-limit rejection, a panic)
//! are rewritten into the same shape by [`json_errors`].

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use koshi_app::{AppError, ErrorKind};

use crate::{MAX_BODY_BYTES, MAX_URI_BYTES};

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub status: StatusCode,
    /// A stable machine-readable code: `BAD_PARAMETER`, `UNKNOWN_CODE`, `NOT_FOUND`, …
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }

    pub fn bad_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_PARAMETER", message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", message)
    }

    pub fn unknown_dataflow(id: &str) -> Self {
        Self::not_found("UNKNOWN_DATAFLOW", format!("unknown dataflow `{id}` (GET /api/dataflows lists them)"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "status": self.status.as_u16(), "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}

/// A use case's failure as an answer: its kind gives the status, its code the error code, and
/// the message gains the endpoint that lists what was mistyped.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let status = match e.kind() {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Rejected => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let code = e.code();
        let hint = match code {
            "UNKNOWN_DATAFLOW" => " (GET /api/dataflows lists them)",
            "UNKNOWN_CODE" | "BAD_KEY" => " (GET /api/codelists/{id} lists the codes)",
            "UNKNOWN_SOURCE" => " (GET /api/sources lists them)",
            "UNKNOWN_CODELIST" => " (GET /api/dataflows names each dimension's)",
            _ => "",
        };
        let message = match &e {
            // The catalogue's full list is long; the endpoint that lists it is enough here.
            AppError::Query(koshi_app::QueryError::UnknownDataflow { dataflow, .. }) => {
                format!("unknown dataflow `{dataflow}`")
            }
            AppError::NotFound { what, id, .. } => format!("unknown {what} `{id}`"),
            // Named as the parameter is spelled in the URL.
            AppError::Query(koshi_app::QueryError::AsOf(reason)) => format!("as_of: {reason}"),
            other => other.to_string(),
        };
        ApiError::new(status, code, format!("{message}{hint}"))
    }
}

/// Unknown routes.
pub async fn route_not_found(request: Request) -> ApiError {
    ApiError::not_found(
        "NOT_FOUND",
        format!(
            "no such endpoint `{}` (the API is under /api/: health, dataflows, data/{{dataflow}}, …)",
            request.uri().path()
        ),
    )
}

/// Refuse over-long URLs (414) and request bodies over their route's limit (413, the import's and
/// the job seekers' are larger: [`crate::vacancies::body_limit`]) before any handler runs.
pub async fn request_limits(request: Request, next: Next) -> Response {
    let uri_len = request.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "URI_TOO_LONG",
            format!("the URL is {uri_len} bytes, over the limit of {MAX_URI_BYTES}: ask for fewer codes per request"),
        )
        .into_response();
    }
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let limit = crate::vacancies::body_limit(request.uri().path());
    if declared.is_some_and(|n| n > limit as u64) {
        return body_too_large(limit).into_response();
    }
    next.run(request).await
}

fn body_too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "BODY_TOO_LARGE",
        format!("request bodies are limited to {limit} bytes (the API takes its parameters in the URL)"),
    )
}

/// Rewrite an error response that is not already JSON (axum's 405, a body-limit or
/// panic rejection) into the one error shape, keeping its status and headers (`Allow`).
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // SDMX routes answer errors as SDMX error messages, as their specification requires.
    let is_json = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"application/vnd.sdmx.error+xml")
    });
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let error = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = parts.headers.get(header::ALLOW).and_then(|v| v.to_str().ok()).unwrap_or("GET").to_string();
            ApiError::new(status, "METHOD_NOT_ALLOWED", format!("this endpoint answers {allowed} only"))
        }
        StatusCode::PAYLOAD_TOO_LARGE => body_too_large(MAX_BODY_BYTES),
        StatusCode::NOT_FOUND => ApiError::not_found("NOT_FOUND", "not found"),
        s if s.is_server_error() => ApiError::new(s, "INTERNAL", "the server failed on this request"),
        s => ApiError::new(s, "BAD_REQUEST", s.canonical_reason().unwrap_or("bad request")),
    };
    let rewritten = error.into_response();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    let (_, body) = rewritten.into_parts();
    Response::from_parts(parts, Body::new(body))
}
