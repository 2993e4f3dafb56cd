//! The regional vacancy database's API under `/api/vacancies`: the public search and a vacancy's
//! history; employers and regional officers posting and changing vacancies; officers importing
//! job portals' pages and employment centres' exports, coding uncertain titles and reporting job
//! seekers. The routes are the registry's ([`crate::registry`]: they need its users); each
//! handler here reads the request strictly, authenticates the caller as the registry's handlers
//! do, calls the use case and answers JSON. What a caller may do is decided by the application.
//!
//! An import's body is JSON, `{"data": "<the file's text>"}` for a JSON-LD page or a CSV, or
//! `{"data_base64": "<the file, base64>"}` for an XLSX workbook (or any file), with `"mapping":
//! "<TOML>"` for a table; what the file is comes in the query (`source`, `format`, `file_name`,
//! `as_of`, `snapshot`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post, put};
use koshi_app::coordination::{CoordinationRequest, Package};
use koshi_app::registry::{
    CodeRequest, DemandRequest, ImportFormat, MAX_IMPORT_BYTES, SeekersRequest, ShortageListRequest, ShortageRequest,
    VacancyChange, VacancyImport, VacancyInput, VacancySearch,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::params::{Params, boolean, non_negative, whole_number};
use crate::registry::{Body, Caller, PageParams, RecordId, actor, as_caller, created, id_param};
use crate::{MAX_BODY_BYTES, NoParams, Server, blocking};

const IMPORT_PATH: &str = "/api/vacancies/imports";
const SEEKERS_PATH: &str = "/api/vacancies/seekers";

/// The largest import body: the largest file the application reads, base64-encoded, and the
/// API's usual allowance for the rest (the mapping and the JSON around them).
pub(crate) const MAX_IMPORT_BODY_BYTES: usize = MAX_IMPORT_BYTES.div_ceil(3) * 4 + MAX_BODY_BYTES;
/// The largest body of job seekers' counts: the application's 100,000 rows at about 160 bytes.
pub(crate) const MAX_SEEKERS_BODY_BYTES: usize = 16 << 20;

/// How large a request body to `path` may be: the import's and the seekers' bodies may be larger
/// than the API's other bodies.
pub(crate) fn body_limit(path: &str) -> usize {
    match path {
        IMPORT_PATH => MAX_IMPORT_BODY_BYTES,
        SEEKERS_PATH => MAX_SEEKERS_BODY_BYTES,
        _ => MAX_BODY_BYTES,
    }
}

/// `POST /api/vacancies/imports`, with its body limit.
pub(crate) fn import_route() -> MethodRouter<Arc<Server>> {
    post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BODY_BYTES))
}

/// `PUT /api/vacancies/seekers`, with its body limit.
pub(crate) fn seekers_route() -> MethodRouter<Arc<Server>> {
    put(put_seekers).layer(DefaultBodyLimit::max(MAX_SEEKERS_BODY_BYTES))
}

fn bad_body(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "BAD_BODY", message)
}

/// One of the application's named values (`open`, `review` …), spelled as its JSON spells it.
fn named<T: DeserializeOwned>(name: &str, text: &str) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_string()))
        .map_err(|e| ApiError::bad_parameter(format!("{name}: {e}")))
}

fn given(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty())
}

// ---------------------------------------------------------------- reading

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchParams {
    region: Option<String>,
    occupation: Option<String>,
    q: Option<String>,
    status: Option<String>,
    coding: Option<String>,
    with_duplicates: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

impl SearchParams {
    fn search(self) -> Result<VacancySearch, ApiError> {
        let mut search = VacancySearch {
            region: self.region,
            occupation: self.occupation,
            q: self.q,
            with_duplicates: boolean("with_duplicates", self.with_duplicates.as_deref())?,
            after: self.after.as_deref().map(|a| id_param("after", a)).transpose()?,
            limit: self.limit.as_deref().map(|l| whole_number("limit", l)).transpose()?,
            ..VacancySearch::default()
        };
        if let Some(s) = given(self.status) {
            search.status = Some(named("status", &s)?);
        }
        if let Some(c) = given(self.coding) {
            search.coding = Some(named("coding", &c)?);
        }
        Ok(search)
    }
}

/// `GET /api/vacancies`: a page of vacancies; public.
pub(crate) async fn search(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(p): Params<SearchParams>,
) -> Result<Response, ApiError> {
    let search = p.search()?;
    as_caller(server, caller, move |r, a| r.vacancies(a, &search)).await
}

/// `GET /api/vacancies/{id}`: a vacancy with every state it has had; public.
pub(crate) async fn detail(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(NoParams {}): Params<NoParams>,
    RecordId(id): RecordId,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.vacancy(a, id)).await
}

/// `GET /api/vacancies/coding-queue`: the vacancies whose occupation waits for an officer.
pub(crate) async fn coding_queue(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(p): Params<PageParams>,
) -> Result<Response, ApiError> {
    let (after, limit) = p.read()?;
    as_caller(server, caller, move |r, a| r.coding_queue(a, after, limit)).await
}

// ---------------------------------------------------------------- writing

/// `POST /api/vacancies`: an employer or a regional officer posts a vacancy.
pub(crate) async fn post_vacancy(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Body(input): Body<VacancyInput>,
) -> Result<Response, ApiError> {
    Ok(created(as_caller(server, caller, move |r, a| r.post_vacancy(a, &input)).await?))
}

/// `POST /api/vacancies/{id}/changes`: filled, closed, reopened or new terms, as of a day.
pub(crate) async fn change(
    State(server): State<Arc<Server>>,
    caller: Caller,
    RecordId(id): RecordId,
    Body(change): Body<VacancyChange>,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.change_vacancy(a, id, &change)).await
}

/// `POST /api/vacancies/{id}/occupation`: an officer confirms or corrects the occupation.
pub(crate) async fn code(
    State(server): State<Arc<Server>>,
    caller: Caller,
    RecordId(id): RecordId,
    Body(request): Body<CodeRequest>,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.code_vacancy(a, id, &request)).await
}

/// `PUT /api/vacancies/seekers`: an officer reports the job seekers of its region.
async fn put_seekers(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Body(request): Body<SeekersRequest>,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.put_seekers(a, &request)).await
}

// ---------------------------------------------------------------- imports

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportParams {
    source: Option<String>,
    format: Option<String>,
    file_name: Option<String>,
    as_of: Option<String>,
    snapshot: Option<String>,
}

/// An import's body: the file as text or base64, and a table's mapping.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    /// The file's text: a JSON-LD page or document, a CSV or TSV.
    data: Option<String>,
    /// The file's bytes in base64 (standard alphabet, padded; line breaks are ignored).
    data_base64: Option<String>,
    /// For `format=table`: which column holds what (TOML).
    mapping: Option<String>,
}

/// `POST /api/vacancies/imports`: an officer imports a file of postings from one source.
async fn import(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(p): Params<ImportParams>,
    request: Request,
) -> Result<Response, ApiError> {
    let format = match p.format.as_deref().map(str::trim) {
        None | Some("") | Some("jsonld") => ImportFormat::Jsonld,
        Some("table") => ImportFormat::Table,
        Some(other) => return Err(ApiError::bad_parameter(format!("format: `{other}` is neither jsonld nor table"))),
    };
    let snapshot = boolean("snapshot", p.snapshot.as_deref())?;
    // Who asks is known before the body, which may be large, is read.
    let actor = actor(&server, caller).await?;
    let Body(body) = Body::<ImportBody>::from_request(request, &()).await?;
    let bytes = match (body.data, body.data_base64) {
        (Some(text), None) => text.into_bytes(),
        (None, Some(encoded)) => decode_base64(&encoded).map_err(|e| bad_body(format!("data_base64: {e}")))?,
        _ => return Err(bad_body("give the file either as `data` (its text) or as `data_base64` (base64)")),
    };
    let import = VacancyImport {
        source: p.source.unwrap_or_default(),
        file_name: p.file_name.unwrap_or_default(),
        format,
        mapping: body.mapping,
        as_of: given(p.as_of),
        snapshot,
    };
    blocking(move || {
        let registry = server.app().registry()?;
        Ok(Json(registry.import_vacancies(&actor, &import, &bytes)?).into_response())
    })
    .await
}

/// Standard base64 with its padding; ASCII white space (line breaks) is skipped.
fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !clean.len().is_multiple_of(4) {
        return Err(format!("{} characters, not a multiple of 4 (is the padding `=` missing?)", clean.len()));
    }
    let padding = clean.iter().rev().take_while(|&&b| b == b'=').count();
    if padding > 2 {
        return Err(format!("{padding} `=` at the end, at most 2"));
    }
    let digits = &clean[..clean.len() - padding];
    let mut out = Vec::with_capacity(digits.len() / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0u32);
    for (i, &c) in digits.iter().enumerate() {
        let v = value(c).ok_or_else(|| {
            let shown = if c.is_ascii_graphic() { format!("`{}`", c as char) } else { format!("byte {c:#04x}") };
            format!("{shown} at character {} is not base64", i + 1)
        })?;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_padded_text_and_names_what_is_wrong() {
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("Zg==").unwrap(), b"f");
        assert_eq!(decode_base64("Zm8=").unwrap(), b"fo");
        assert_eq!(decode_base64("Zm9v").unwrap(), b"foo");
        assert_eq!(decode_base64("Zm9v\r\nYmFy").unwrap(), b"foobar");
        assert_eq!(decode_base64("0YHQstCw0YDRidC40Lo=").unwrap(), "сварщик".as_bytes());
        assert!(decode_base64("Zm9").unwrap_err().contains("multiple of 4"));
        assert!(decode_base64("Zm9v!A==").unwrap_err().contains("`!` at character 5"));
        assert!(decode_base64("Z===").unwrap_err().contains("3 `=`"));
        assert!(decode_base64("Zg==Zg==").unwrap_err().contains("`=`"));
    }

    #[test]
    fn only_the_import_and_seekers_bodies_may_be_larger() {
        assert_eq!(body_limit("/api/vacancies/imports"), MAX_IMPORT_BODY_BYTES);
        // 64 MiB in base64 (4 characters for every 3 bytes begun), and 64 KiB.
        assert_eq!((MAX_IMPORT_BYTES, MAX_BODY_BYTES), (67_108_864, 65_536));
        assert_eq!(MAX_IMPORT_BODY_BYTES, 89_478_488 + 65_536);
        assert_eq!(body_limit("/api/vacancies/seekers"), MAX_SEEKERS_BODY_BYTES);
        for other in
            ["/api/vacancies", "/api/vacancies/1/changes", "/api/registry/applications", "/api/vacancies/imports/"]
        {
            assert_eq!(body_limit(other), MAX_BODY_BYTES, "{other}");
        }
    }
}

// ---------------------------------------------------------------- labour demand and shortage lists

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DemandParams {
    level: Option<String>,
    from: Option<String>,
    to: Option<String>,
    region: Option<String>,
    occupation: Option<String>,
    offset: Option<String>,
    limit: Option<String>,
}

/// `GET /api/labour-demand`: vacancy stock and flows, seekers and tightness by region ×
/// occupation × month; public.
pub(crate) async fn labour_demand(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(p): Params<DemandParams>,
) -> Result<Response, ApiError> {
    let request = DemandRequest {
        level: p.level.as_deref().map(|l| whole_number("level", l)).transpose()?,
        from: given(p.from),
        to: given(p.to),
        region: given(p.region),
        occupation: given(p.occupation),
        offset: p.offset.as_deref().map(|o| whole_number("offset", o)).transpose()?,
        limit: p.limit.as_deref().map(|l| whole_number("limit", l)).transpose()?,
    };
    as_caller(server, caller, move |r, a| r.labour_demand(a, &request)).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssessParams {
    rule: Option<String>,
    month: Option<String>,
    level: Option<String>,
}

impl AssessParams {
    fn request(self) -> Result<ShortageRequest, ApiError> {
        Ok(ShortageRequest {
            rule: given(self.rule),
            month: given(self.month),
            level: self.level.as_deref().map(|l| whole_number("level", l)).transpose()?,
            adjustments: Vec::new(),
        })
    }
}

/// `GET /api/shortage/assessment`: the shortage assessment of a month by a rule, not stored; public.
pub(crate) async fn assess_shortage(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(p): Params<AssessParams>,
) -> Result<Response, ApiError> {
    let request = p.request()?;
    as_caller(server, caller, move |r, a| r.assess_shortage(a, &request)).await
}

/// `POST /api/shortage/lists`: an administrator adopts the assessment (with adjustments) as the
/// list the permit decisions' labour-market test reads.
pub(crate) async fn adopt_shortage_list(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Body(request): Body<ShortageRequest>,
) -> Result<Response, ApiError> {
    Ok(created(as_caller(server, caller, move |r, a| r.adopt_shortage_list(a, &request)).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListParams {
    list: Option<String>,
    region: Option<String>,
    occupation: Option<String>,
    status: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

/// `GET /api/shortage/lists/latest` (or `?list=ID`): an adopted list's entries; public.
pub(crate) async fn shortage_list(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(p): Params<ListParams>,
) -> Result<Response, ApiError> {
    let mut request = ShortageListRequest {
        list: p.list.as_deref().map(|l| id_param("list", l)).transpose()?,
        region: given(p.region),
        occupation: given(p.occupation),
        status: None,
        after: given(p.after),
        limit: p.limit.as_deref().map(|l| whole_number("limit", l)).transpose()?,
    };
    if let Some(s) = given(p.status) {
        request.status = Some(named("status", &s)?);
    }
    as_caller(server, caller, move |r, a| r.shortage_list(a, &request)).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CoordinationParams {
    month: Option<String>,
    level: Option<String>,
    flows_year: Option<String>,
    decay: Option<String>,
    transport: Option<String>,
    housing_per_month: Option<String>,
    housing_months: Option<String>,
    microcredit: Option<String>,
    currency: Option<String>,
    package_source: Option<String>,
}

/// `GET /api/labour-demand/coordination?month=YYYY-MM`: for each occupation group, surplus
/// regions' seekers sent to shortage regions along the modelled internal-migration routes; public.
pub(crate) async fn coordination(
    State(server): State<Arc<Server>>,
    Params(p): Params<CoordinationParams>,
) -> Result<Response, ApiError> {
    let month = given(p.month).ok_or_else(|| ApiError::bad_parameter("month: required, YYYY-MM"))?;
    let amount = |name: &str, text: Option<String>| -> Result<Option<f64>, ApiError> {
        given(text).map(|t| non_negative(name, &t)).transpose()
    };
    let amounts = [
        amount("transport", p.transport)?,
        amount("housing_per_month", p.housing_per_month)?,
        amount("housing_months", p.housing_months)?,
        amount("microcredit", p.microcredit)?,
    ];
    let source = given(p.package_source);
    // A package is asked for by any of its amounts or its source; the amounts not given are 0.
    let package = (amounts.iter().any(Option::is_some) || source.is_some()).then(|| Package {
        currency: given(p.currency).unwrap_or_else(|| "KZT".to_string()),
        transport: amounts[0].unwrap_or(0.0),
        housing_per_month: amounts[1].unwrap_or(0.0),
        housing_months: amounts[2].unwrap_or(0.0),
        microcredit: amounts[3].unwrap_or(0.0),
        source: source.unwrap_or_default(),
    });
    let request = CoordinationRequest {
        month,
        level: p.level.as_deref().map(|l| whole_number("level", l)).transpose()?,
        flows_year: given(p.flows_year),
        decay: p.decay.as_deref().map(|d| non_negative("decay", d)).transpose()?,
        package,
    };
    blocking(move || Ok(Json(server.app().coordination(&request)?).into_response())).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PublishParams {
    list: Option<String>,
}

/// `POST /api/shortage/publication?list=ID`: an administrator publishes an adopted list (the
/// newest by default) into the bank as a release of `LAB_SHORTAGE`.
pub(crate) async fn publish_shortage_list(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(p): Params<PublishParams>,
) -> Result<Response, ApiError> {
    let list = p.list.as_deref().map(|l| id_param("list", l)).transpose()?;
    let actor = actor(&server, caller).await?;
    blocking(move || Ok(Json(server.app().publish_shortage_list(&actor, list)?).into_response())).await
}
