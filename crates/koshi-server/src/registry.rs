//! The work-permit registry's API under `/api/registry/`, and the regional vacancy database's
//! under `/api/vacancies` (handlers in [`crate::vacancies`]). Every request is authenticated (a
//! session cookie with its CSRF token for browsers, `Authorization: Bearer` for machines, none for
//! the public) and handed to the application layer, which decides what the caller may do and
//! logs it. Request bodies are JSON read strictly; lists come a page at a time (`after`, `limit`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use koshi_app::registry::{
    Actor, Credentials, DecideRequest, EmployerFacts, EmployerRequest, ExtensionRequest, ForceRequest, ListRequest,
    NewUserRequest, PublishRequest, RegistryService, RevokeRequest, SetPolicyRequest, SetQuotaRequest, SignInRequest,
    SubmitRequest, TokenRequest,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::params::{Params, Segment, whole_number, year};
use crate::{NoParams, Server, blocking, vacancies};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "koshi_session";
/// The header a browser session sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

pub(crate) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/api/registry/openapi.json", get(openapi))
        .route("/api/registry/session", post(sign_in).delete(sign_out).get(me))
        .route("/api/registry/tokens", post(create_token))
        .route("/api/registry/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/api/registry/users", get(users).post(create_user))
        .route("/api/registry/users/{id}/disabled", post(disable_user).delete(enable_user))
        .route("/api/registry/employers", get(employers).post(create_employer))
        .route("/api/registry/employers/{id}", get(employer))
        .route("/api/registry/employers/{id}/facts", axum::routing::put(set_employer_facts))
        .route("/api/registry/policy", get(policy).put(set_policy))
        .route("/api/registry/quota/{year}", get(quota).put(set_quota))
        .route("/api/registry/applications", get(applications).post(submit))
        .route("/api/registry/applications/{id}", get(application))
        .route("/api/registry/applications/{id}/decision", post(decide))
        .route("/api/registry/applications/{id}/withdrawal", post(withdraw))
        .route("/api/registry/permits", get(permits))
        .route("/api/registry/permits/{id}", get(permit))
        .route("/api/registry/permits/{id}/extension", post(request_extension))
        .route("/api/registry/permits/{id}/revocation", post(revoke))
        .route("/api/registry/permits/{id}/forced-change", post(force))
        .route("/api/registry/expiry", post(expire))
        .route("/api/registry/audit", get(audit_log))
        .route("/api/registry/audit/verification", get(verify))
        .route("/api/registry/statistics/{year}", get(statistics))
        .route("/api/registry/statistics/{year}/publication", post(publish))
        .route("/api/vacancies", get(vacancies::search).post(vacancies::post_vacancy))
        .route("/api/vacancies/imports", vacancies::import_route())
        .route("/api/vacancies/coding-queue", get(vacancies::coding_queue))
        .route("/api/vacancies/seekers", vacancies::seekers_route())
        .route("/api/vacancies/{id}", get(vacancies::detail))
        .route("/api/vacancies/{id}/changes", post(vacancies::change))
        .route("/api/vacancies/{id}/occupation", post(vacancies::code))
        .route("/api/labour-demand", get(vacancies::labour_demand))
        .route("/api/labour-demand/coordination", get(vacancies::coordination))
        .route("/api/shortage/assessment", get(vacancies::assess_shortage))
        .route("/api/shortage/lists", post(vacancies::adopt_shortage_list))
        .route("/api/shortage/lists/latest", get(vacancies::shortage_list))
        .route("/api/shortage/publication", post(vacancies::publish_shortage_list))
}

/// What the request presents, read from its headers: the session cookie and CSRF token, or a
/// bearer token; whether it would change something; where it came from.
pub(crate) struct Caller {
    credentials: Credentials,
    changes: bool,
    client: String,
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let headers = &parts.headers;
        let bearer = match headers.get(header::AUTHORIZATION) {
            None => None,
            Some(v) => {
                let text = v.to_str().unwrap_or("");
                match text.strip_prefix("Bearer ") {
                    Some(token) => Some(token.trim().to_string()),
                    None => {
                        return Err(ApiError::new(
                            StatusCode::UNAUTHORIZED,
                            "UNAUTHENTICATED",
                            "the Authorization header must be `Bearer <token>`",
                        ));
                    }
                }
            }
        };
        let credentials = match (bearer, cookie(headers, SESSION_COOKIE)) {
            (Some(token), _) => Credentials::Token(token),
            (None, Some(secret)) => Credentials::Session {
                secret,
                csrf: headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string),
            },
            (None, None) => Credentials::None,
        };
        let changes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        Ok(Caller { credentials, changes, client })
    }
}

/// A JSON request body read strictly: the wrong content type, malformed JSON or an unknown field
/// is a 400 naming the place.
pub(crate) struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "BAD_BODY",
                "send the request body as JSON (Content-Type: application/json)",
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            ApiError::new(e.status(), "BAD_BODY", format!("the request body could not be read: {}", e.body_text()))
        })?;
        serde_json::from_slice(&bytes).map(Body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "BAD_BODY",
                format!("the JSON body, line {} column {}: {e}", e.line(), e.column()),
            )
        })
    }
}

/// Runs a use case as the caller: credentials checked first (forged or expired ones are refused
/// whatever the endpoint), then the use case, which checks what the actor may do.
pub(crate) async fn as_caller<T: serde::Serialize + Send + 'static>(
    server: Arc<Server>,
    caller: Caller,
    f: impl FnOnce(&RegistryService, &Actor) -> Result<T, koshi_app::AppError> + Send + 'static,
) -> Result<Response, ApiError> {
    blocking(move || {
        let registry = server.app().registry()?;
        let actor = registry.authenticate(&caller.credentials, caller.changes)?;
        Ok(Json(f(registry, &actor)?).into_response())
    })
    .await
}

/// The caller's actor, its credentials checked: for a handler that must know who asks before it
/// reads a large body.
pub(crate) async fn actor(server: &Arc<Server>, caller: Caller) -> Result<Actor, ApiError> {
    let server = Arc::clone(server);
    blocking(move || Ok(server.app().registry()?.authenticate(&caller.credentials, caller.changes)?)).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    region: Option<String>,
    employer: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

impl ListParams {
    fn request(self) -> Result<ListRequest, ApiError> {
        Ok(ListRequest {
            status: self.status,
            region: self.region,
            employer: self.employer.as_deref().map(|e| id_param("employer", e)).transpose()?,
            after: self.after.as_deref().map(|a| id_param("after", a)).transpose()?,
            limit: self.limit.as_deref().map(|l| whole_number("limit", l)).transpose()?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageParams {
    after: Option<String>,
    limit: Option<String>,
}

impl PageParams {
    /// `after` (an id) and `limit`, read strictly.
    pub(crate) fn read(&self) -> Result<(Option<i64>, Option<usize>), ApiError> {
        let after = self.after.as_deref().map(|a| id_param("after", a)).transpose()?;
        let limit = self.limit.as_deref().map(|l| whole_number("limit", l)).transpose()?;
        Ok((after, limit))
    }
}

pub(crate) fn id_param(name: &str, text: &str) -> Result<i64, ApiError> {
    let n = whole_number(name, text)?;
    i64::try_from(n).map_err(|_| ApiError::bad_parameter(format!("{name}: `{text}` is too large")))
}

/// A record's id in the path (`…/{id}`): a whole number from 1, or a JSON 400.
pub(crate) struct RecordId(pub(crate) i64);

impl<S: Send + Sync> FromRequestParts<S> for RecordId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Segment(text) = Segment::<String>::from_request_parts(parts, state).await?;
        text.parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(RecordId)
            .ok_or_else(|| ApiError::bad_parameter(format!("`{text}` is not an id (a whole number from 1)")))
    }
}

// ---------------------------------------------------------------- sign-in

async fn sign_in(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(NoParams {}): Params<NoParams>,
    Body(mut request): Body<SignInRequest>,
) -> Result<Response, ApiError> {
    request.client = caller.client.clone();
    blocking(move || {
        let registry = server.app().registry()?;
        let report = registry.sign_in(&request)?;
        let max_age = (report.expires_at - server.app().clock_seconds()).max(0);
        let cookie = format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}",
            report.session_secret
        );
        let mut response = Json(&report).into_response();
        response.headers_mut().insert(
            header::SET_COOKIE,
            HeaderValue::from_str(&cookie).map_err(|_| ApiError::internal("a session cookie could not be written"))?,
        );
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(response)
    })
    .await
}

async fn sign_out(State(server): State<Arc<Server>>, caller: Caller) -> Result<Response, ApiError> {
    let mut response =
        as_caller(server, caller, |r, a| r.sign_out(a).map(|()| serde_json::json!({"signed_out": true}))).await?;
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("koshi_session=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

async fn me(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    as_caller(server, caller, |r, a| r.me(a)).await
}

async fn create_token(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Body(request): Body<TokenRequest>,
) -> Result<Response, ApiError> {
    Ok(created(as_caller(server, caller, move |r, a| r.create_token(a, &request)).await?))
}

async fn revoke_token(
    State(server): State<Arc<Server>>,
    caller: Caller,
    RecordId(id): RecordId,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.revoke_token(a, id).map(|()| serde_json::json!({"revoked": id}))).await
}

// ---------------------------------------------------------------- users and employers

async fn users(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(p): Params<PageParams>,
) -> Result<Response, ApiError> {
    let (after, limit) = p.read()?;
    as_caller(server, caller, move |r, a| r.users(a, after, limit)).await
}

async fn create_user(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Body(request): Body<NewUserRequest>,
) -> Result<Response, ApiError> {
    let response = as_caller(server, caller, move |r, a| r.create_user(a, &request)).await?;
    Ok(created(response))
}

async fn disable_user(
    State(server): State<Arc<Server>>,
    caller: Caller,
    RecordId(id): RecordId,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.set_user_disabled(a, id, true)).await
}

async fn enable_user(
    State(server): State<Arc<Server>>,
    caller: Caller,
    RecordId(id): RecordId,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.set_user_disabled(a, id, false)).await
}

async fn employers(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(p): Params<PageParams>,
) -> Result<Response, ApiError> {
    let (after, limit) = p.read()?;
    as_caller(server, caller, move |r, a| r.employers(a, after, limit)).await
}

async fn create_employer(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Body(request): Body<EmployerRequest>,
) -> Result<Response, ApiError> {
    Ok(created(as_caller(server, caller, move |r, a| r.create_employer(a, &request)).await?))
}

async fn employer(
    State(server): State<Arc<Server>>,
    caller: Caller,
    RecordId(id): RecordId,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.employer(a, id)).await
}

async fn set_employer_facts(
    State(server): State<Arc<Server>>,
    caller: Caller,
    RecordId(id): RecordId,
    Body(facts): Body<EmployerFacts>,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.set_employer_facts(a, id, &facts)).await
}

// ---------------------------------------------------------------- policy and quota

async fn policy(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    as_caller(server, caller, |r, _| Ok(r.policy())).await
}

async fn set_policy(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Body(request): Body<SetPolicyRequest>,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.set_policy(a, &request)).await
}

async fn quota(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Segment(y): Segment<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let y = year("year", &y)?;
    as_caller(server, caller, move |r, a| r.quota(a, y)).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaBody {
    cells: Vec<koshi_app::registry::QuotaCellInput>,
}

async fn set_quota(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Segment(y): Segment<String>,
    Body(body): Body<QuotaBody>,
) -> Result<Response, ApiError> {
    let y = year("year", &y)?;
    as_caller(server, caller, move |r, a| r.set_quota(a, &SetQuotaRequest { year: y, cells: body.cells })).await
}

// ---------------------------------------------------------------- applications and permits

async fn applications(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(p): Params<ListParams>,
) -> Result<Response, ApiError> {
    let request = p.request()?;
    as_caller(server, caller, move |r, a| r.applications(a, &request)).await
}

async fn submit(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Body(request): Body<SubmitRequest>,
) -> Result<Response, ApiError> {
    Ok(created(as_caller(server, caller, move |r, a| r.submit(a, &request)).await?))
}

async fn application(
    State(server): State<Arc<Server>>,
    caller: Caller,
    RecordId(id): RecordId,
) -> Result<Response, ApiError> {
    let mut response = as_caller(server, caller, move |r, a| r.application(a, id)).await?;
    // Personal data: not to be kept by caches.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn decide(
    State(server): State<Arc<Server>>,
    caller: Caller,
    RecordId(id): RecordId,
    Body(request): Body<DecideRequest>,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.decide(a, id, &request)).await
}

async fn withdraw(
    State(server): State<Arc<Server>>,
    caller: Caller,
    RecordId(id): RecordId,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.withdraw(a, id)).await
}

async fn permits(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(p): Params<ListParams>,
) -> Result<Response, ApiError> {
    let request = p.request()?;
    as_caller(server, caller, move |r, a| r.permits(a, &request)).await
}

async fn permit(
    State(server): State<Arc<Server>>,
    caller: Caller,
    RecordId(id): RecordId,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.permit(a, id)).await
}

async fn request_extension(
    State(server): State<Arc<Server>>,
    caller: Caller,
    RecordId(id): RecordId,
    Body(request): Body<ExtensionRequest>,
) -> Result<Response, ApiError> {
    Ok(created(as_caller(server, caller, move |r, a| r.request_extension(a, id, &request)).await?))
}

async fn revoke(
    State(server): State<Arc<Server>>,
    caller: Caller,
    RecordId(id): RecordId,
    Body(request): Body<RevokeRequest>,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.revoke(a, id, &request)).await
}

async fn force(
    State(server): State<Arc<Server>>,
    caller: Caller,
    RecordId(id): RecordId,
    Body(request): Body<ForceRequest>,
) -> Result<Response, ApiError> {
    as_caller(server, caller, move |r, a| r.force(a, id, &request)).await
}

async fn expire(State(server): State<Arc<Server>>, caller: Caller) -> Result<Response, ApiError> {
    as_caller(server, caller, |r, a| r.expire(a)).await
}

// ---------------------------------------------------------------- audit and figures

async fn audit_log(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(p): Params<PageParams>,
) -> Result<Response, ApiError> {
    let (after, limit) = p.read()?;
    as_caller(server, caller, move |r, a| r.audit_log(a, after, limit)).await
}

async fn verify(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    as_caller(server, caller, |r, a| r.verify(a)).await
}

async fn statistics(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Segment(y): Segment<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let y = year("year", &y)?;
    as_caller(server, caller, move |r, a| r.monthly(a, y)).await
}

/// Publishes the year's figures into the bank (a revision of the dataflow `LAB_PERMIT_REG`).
async fn publish(
    State(server): State<Arc<Server>>,
    caller: Caller,
    Segment(y): Segment<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let y = year("year", &y)?;
    blocking(move || {
        let app = server.app();
        let actor = app.registry()?.authenticate(&caller.credentials, caller.changes)?;
        Ok(Json(app.publish_registry_figures(&actor, &PublishRequest { year: y })?).into_response())
    })
    .await
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        include_str!("../assets/registry-openapi.json"),
    )
        .into_response()
}

pub(crate) fn created(mut response: Response) -> Response {
    *response.status_mut() = StatusCode::CREATED;
    response
}
