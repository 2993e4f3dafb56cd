//! Reading request parameters strictly (an unknown or malformed parameter is a 400 naming it,
//! never an empty answer) and answering a page of a list in one envelope:
//! `{"total": …, "limit": …, "offset": …, "next": "/api/…?…&offset=…" | null, "items": […]}`.

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// The query string, deserialized with every failure answered as a JSON 400.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri).map(|q| Params(q.0)).map_err(|e| ApiError::bad_parameter(e.body_text()))
    }
}

/// Path segments, with a malformed one answered as a JSON 400.
pub struct Segment<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Segment<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Segment(p.0))
            .map_err(|e| ApiError::bad_parameter(e.body_text()))
    }
}

/// Which rows of a list: `limit` (default [`DEFAULT_PAGE_SIZE`], at most [`MAX_PAGE_SIZE`]) from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub limit: usize,
    pub offset: usize,
}

impl Paging {
    pub fn parse(limit: Option<&str>, offset: Option<&str>) -> Result<Self, ApiError> {
        let limit = match limit {
            Some(text) => whole_number("limit", text)?,
            None => DEFAULT_PAGE_SIZE,
        };
        if limit > MAX_PAGE_SIZE {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "LIMIT_TOO_LARGE",
                format!(
                    "limit={limit} is over the maximum of {MAX_PAGE_SIZE} rows per answer: ask for limit={MAX_PAGE_SIZE} \
                     or less and follow `next` (or raise offset= by limit) for the following pages"
                ),
            ));
        }
        let offset = offset.map(|text| whole_number("offset", text)).transpose()?.unwrap_or(0);
        Ok(Paging { limit, offset })
    }

    /// The index just past this page.
    pub fn end(&self) -> usize {
        self.offset.saturating_add(self.limit)
    }
}

/// A count such as a limit, a horizon or a number of places.
pub fn whole_number(name: &str, text: &str) -> Result<usize, ApiError> {
    text.trim()
        .parse::<usize>()
        .map_err(|_| ApiError::bad_parameter(format!("{name}: `{text}` is not a whole number (0, 1, 2, …)")))
}

/// A year of four digits (1000 to 9999).
pub fn year(name: &str, text: &str) -> Result<i32, ApiError> {
    let t = text.trim();
    (t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()))
        .then(|| t.parse::<i32>().ok())
        .flatten()
        .filter(|y| *y >= 1000)
        .ok_or_else(|| ApiError::bad_parameter(format!("{name}: `{text}` is not a year such as 2010")))
}

/// A number ≥ 0 such as a tolerance in per cent.
pub fn non_negative(name: &str, text: &str) -> Result<f64, ApiError> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(ApiError::bad_parameter(format!("{name}: `{text}` is not a number ≥ 0 (such as 5 or 2.5)"))),
    }
}

pub fn boolean(name: &str, text: Option<&str>) -> Result<bool, ApiError> {
    match text.map(str::trim) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_parameter(format!("{name}: `{other}` is neither true nor false"))),
    }
}

/// The URL of the page after `paging` (same path and parameters), if there are rows after it.
pub fn next_page(uri: &Uri, paging: Paging, total: usize) -> Option<String> {
    if paging.limit == 0 || paging.end() >= total {
        return None;
    }
    let mut pairs = selection(uri);
    pairs.push(("limit".into(), paging.limit.to_string()));
    pairs.push(("offset".into(), paging.end().to_string()));
    Some(format!("{}?{}", uri.path(), serde_urlencoded::to_string(&pairs).unwrap_or_default()))
}

/// The decoded query parameters but `limit` and `offset`, in their order.
fn selection(uri: &Uri) -> Vec<(String, String)> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    pairs.into_iter().filter(|(name, _)| name != "limit" && name != "offset").collect()
}

/// One page of a list, with whatever describes the list (`head`, e.g. the dataflow) beside it.
#[derive(Serialize)]
pub struct Page<'a, H: Serialize, T: Serialize> {
    #[serde(flatten)]
    pub head: H,
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    pub next: Option<String>,
    pub items: &'a [T],
}

/// No description beside a list.
#[derive(Serialize)]
pub struct NoHead {}

impl<'a, H: Serialize, T: Serialize> Page<'a, H, T> {
    pub fn with_head(head: H, uri: &Uri, paging: Paging, total: usize, items: &'a [T]) -> Self {
        Page { head, total, limit: paging.limit, offset: paging.offset, next: next_page(uri, paging, total), items }
    }

    /// The page as JSON, refused with a 413 if it is over `max_bytes`.
    pub fn to_json(&self, max_bytes: usize) -> Result<JsonBytes, ApiError> {
        let bytes = serde_json::to_vec(self).map_err(|e| ApiError::internal(format!("writing the answer: {e}")))?;
        if bytes.len() > max_bytes {
            // Suggest a limit that would fit, assuming rows of about the same size.
            let fitting = (self.items.len() as u128 * max_bytes as u128 / bytes.len() as u128).max(1);
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RESPONSE_TOO_LARGE",
                format!(
                    "this page would be {} bytes, over the limit of {max_bytes} bytes per answer: ask for fewer rows \
                     with limit={fitting} and page on with offset= (or follow `next`)",
                    bytes.len()
                ),
            ));
        }
        Ok(JsonBytes(bytes))
    }
}

/// A whole report as JSON, refused with a 413 that gives `advice` if it is over `max_bytes`.
pub fn report_json<T: Serialize>(report: &T, max_bytes: usize, advice: &str) -> Result<JsonBytes, ApiError> {
    let bytes = serde_json::to_vec(report).map_err(|e| ApiError::internal(format!("writing the answer: {e}")))?;
    if bytes.len() > max_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RESPONSE_TOO_LARGE",
            format!(
                "this answer would be {} bytes, over the limit of {max_bytes} bytes per answer: {advice}",
                bytes.len()
            ),
        ));
    }
    Ok(JsonBytes(bytes))
}

/// A JSON document already serialized.
pub struct JsonBytes(pub Vec<u8>);

impl IntoResponse for JsonBytes {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_defaults_bounds_and_slices() {
        assert_eq!(Paging::parse(None, None).unwrap(), Paging { limit: DEFAULT_PAGE_SIZE, offset: 0 });
        assert_eq!(Paging::parse(Some("10000"), Some("5")).unwrap(), Paging { limit: 10_000, offset: 5 });
        assert_eq!(Paging::parse(Some("10001"), None).unwrap_err().status, StatusCode::PAYLOAD_TOO_LARGE);
        for bad in ["-1", "", "1e3", "0x10", "2.0"] {
            assert_eq!(Paging::parse(Some(bad), None).unwrap_err().code, "BAD_PARAMETER", "{bad}");
        }
        assert_eq!(Paging { limit: usize::MAX, offset: 1 }.end(), usize::MAX);
    }

    #[test]
    fn the_next_page_keeps_the_selection_and_moves_the_offset() {
        let uri: Uri = "/api/data/MIG_EXT?key=KAZ.WLD._T._T.NET+ARR&%6Cimit=10&offset=20".parse().unwrap();
        let paging = Paging { limit: 10, offset: 20 };
        assert_eq!(
            next_page(&uri, paging, 31).as_deref(),
            Some("/api/data/MIG_EXT?key=KAZ.WLD._T._T.NET+ARR&limit=10&offset=30")
        );
        assert_eq!(next_page(&uri, paging, 30), None);
        assert_eq!(next_page(&uri, Paging { limit: 0, offset: 0 }, 30), None);
    }
}
