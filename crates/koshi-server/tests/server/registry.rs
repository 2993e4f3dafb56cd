//! The work-permit registry over HTTP on a real server (127.0.0.1), on SQLite and PostgreSQL:
//! 1,000 concurrent applications for 100 places, who may call what (every role on every
//! endpoint, own and other records), credentials missing, forged, expired or without their CSRF
//! token, and the OpenAPI description matching the routes.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use koshi_app::registry::{Actor, EmployerRequest, Location, NewUserRequest, RegistryConfig, Role, SetQuotaRequest};
use koshi_app::{App, AppConfig, Date, ManualClock};
use koshi_server::Server;
use serde_json::{Value, json};

#[path = "../../../koshi-registry/tests/support/postgres.rs"]
mod postgres_support;

pub(crate) const PASSWORD: &str = "correct horse battery";

#[derive(Clone, Copy, Debug)]
enum Backend {
    Sqlite,
    Postgres,
}

struct Running {
    _dir: tempfile::TempDir,
    addr: SocketAddr,
    server: Arc<Server>,
    clock: Arc<ManualClock>,
    task: tokio::task::JoinHandle<()>,
}

async fn start(backend: Backend) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(Date { year: 2026, month: 3, day: 2 }));
    let location = match backend {
        Backend::Sqlite => Location::Sqlite(dir.path().join("registry.db")),
        Backend::Postgres => {
            Location::Postgres(tokio::task::spawn_blocking(postgres_support::fresh_database).await.unwrap())
        }
    };
    let bank = dir.path().join("bank.db");
    let clock_for_app: Arc<dyn koshi_app::Clock> = clock.clone();
    let server = tokio::task::spawn_blocking(move || {
        let mut config = RegistryConfig::new(location);
        config.connections = 8;
        let app = App::open(&bank, AppConfig { clock: clock_for_app, ..AppConfig::default() })
            .unwrap()
            .with_registry(&config)
            .unwrap();
        Server::over(app, koshi_server::MAX_RESPONSE_BYTES)
    })
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = koshi_server::router(Arc::clone(&server));
    let task = tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    Running { _dir: dir, addr, server, clock, task }
}

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) set_cookie: Option<String>,
}

/// One request over its own TCP connection.
pub(crate) async fn call(addr: SocketAddr, method: Method, uri: &str, auth: &Auth, body: Option<Value>) -> Reply {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let mut builder = Request::builder().method(method).uri(uri).header(header::HOST, "127.0.0.1");
    match auth {
        Auth::None => {}
        Auth::Token(t) => builder = builder.header(header::AUTHORIZATION, format!("Bearer {t}")),
        Auth::Session { cookie, csrf } => {
            builder = builder.header(header::COOKIE, format!("koshi_session={cookie}"));
            if let Some(c) = csrf {
                builder = builder.header("x-csrf-token", c.as_str());
            }
        }
    }
    let request = match body {
        Some(b) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(http_body_util::Full::new(Bytes::from(b.to_string())))
            .unwrap(),
        None => builder.body(http_body_util::Full::new(Bytes::new())).unwrap(),
    };
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let set_cookie = response.headers().get(header::SET_COOKIE).map(|v| v.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({ "raw": String::from_utf8_lossy(&bytes) }));
    Reply { status, body, set_cookie }
}

#[derive(Clone, Debug)]
pub(crate) enum Auth {
    None,
    Token(String),
    Session { cookie: String, csrf: Option<String> },
}

/// Signs in over HTTP; the session (cookie and CSRF token).
pub(crate) async fn session(addr: SocketAddr, name: &str) -> Auth {
    let reply = call(
        addr,
        Method::POST,
        "/api/registry/session",
        &Auth::None,
        Some(json!({ "name": name, "password": PASSWORD })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let cookie = reply.set_cookie.expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Secure"), "{cookie}");
    let secret = cookie.split(';').next().unwrap().trim_start_matches("koshi_session=").to_string();
    Auth::Session { cookie: secret, csrf: reply.body["csrf_token"].as_str().map(str::to_string) }
}

/// A token made by the user's own session, over HTTP.
pub(crate) async fn token(addr: SocketAddr, name: &str) -> Auth {
    let s = session(addr, name).await;
    let reply = call(addr, Method::POST, "/api/registry/tokens", &s, Some(json!({ "label": "test", "days": 2 }))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    Auth::Token(reply.body["token"].as_str().unwrap().to_string())
}

struct People {
    admin: Auth,
    officer: Auth,
    other_officer: Auth,
    employer: Auth,
    other_employer: Auth,
    analyst: Auth,
}

/// Employers A (KZ-79) and B (KZ-23), their users, officers of both regions, an administrator
/// and an analyst, and `places` places in each region for 2026.
async fn people(running: &Running, places: i64) -> People {
    let server = Arc::clone(&running.server);
    tokio::task::spawn_blocking(move || {
        let r = server.app().registry().unwrap();
        let op = Actor::operator();
        let facts: koshi_app::registry::EmployerFacts = serde_json::from_value(json!({
            "employer": { "activity_group": "A" },
            "staff": [{ "category": "3", "local": true, "count": 1_000_000 }]
        }))
        .unwrap();
        let a = r
            .create_employer(
                &op,
                &EmployerRequest {
                    name: "A".into(),
                    bin: "111111111111".into(),
                    region: "KZ-79".into(),
                    facts: facts.clone(),
                },
            )
            .unwrap()
            .id;
        let b = r
            .create_employer(
                &op,
                &EmployerRequest { name: "B".into(), bin: "222222222222".into(), region: "KZ-23".into(), facts },
            )
            .unwrap()
            .id;
        let cells = ["KZ-79", "KZ-23"]
            .iter()
            .map(|region| {
                serde_json::from_value(json!({ "region": region, "category": "*", "allocated": places })).unwrap()
            })
            .collect();
        r.set_quota(&op, &SetQuotaRequest { year: 2026, cells }).unwrap();
        for (name, role, region, employer) in [
            ("admin", Role::Admin, None, None),
            ("officer79", Role::Officer, Some("KZ-79"), None),
            ("officer23", Role::Officer, Some("KZ-23"), None),
            ("a", Role::Employer, None, Some(a)),
            ("b", Role::Employer, None, Some(b)),
            ("analyst", Role::Analyst, None, None),
        ] {
            r.create_user(
                &op,
                &NewUserRequest {
                    name: name.into(),
                    password: PASSWORD.into(),
                    role,
                    region: region.map(Into::into),
                    employer,
                },
            )
            .unwrap();
        }
    })
    .await
    .unwrap();
    let addr = running.addr;
    People {
        admin: token(addr, "admin").await,
        officer: session(addr, "officer79").await,
        other_officer: token(addr, "officer23").await,
        employer: session(addr, "a").await,
        other_employer: token(addr, "b").await,
        analyst: token(addr, "analyst").await,
    }
}

fn application(region: &str) -> Value {
    json!({
        "request": { "nationality": "UZ", "category": "3", "regions": [region], "term_months": 12 },
        "worker": { "name": "Aziz Karimov", "document": "AB1234567" }
    })
}

async fn thousand_applications_for_a_hundred_places(backend: Backend) {
    let running = start(backend).await;
    let p = people(&running, 100).await;
    let addr = running.addr;
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (employer, officer) = (p.other_employer.clone(), p.other_officer.clone());
            tokio::spawn(async move {
                let submitted =
                    call(addr, Method::POST, "/api/registry/applications", &employer, Some(application("KZ-23"))).await;
                assert_eq!(submitted.status, StatusCode::CREATED, "{}", submitted.body);
                let id = submitted.body["id"].as_i64().unwrap();
                let decided = call(
                    addr,
                    Method::POST,
                    &format!("/api/registry/applications/{id}/decision"),
                    &officer,
                    Some(json!({})),
                )
                .await;
                (decided.status, decided.body)
            })
        })
        .collect();
    let mut granted = 0;
    let mut refused_on_2 = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert!(!status.is_server_error(), "{status}: {body}");
        assert_eq!(status, StatusCode::OK, "{body}");
        match body["application"]["status"].as_str().unwrap() {
            "granted" => granted += 1,
            "refused" if body["application"]["grounds"] == json!(["2"]) => refused_on_2 += 1,
            other => panic!("unexpected outcome {other}: {body}"),
        }
    }
    assert_eq!((granted, refused_on_2), (100, 900));
    let quota = call(addr, Method::GET, "/api/registry/quota/2026", &Auth::None, None).await;
    let cell = quota.body["cells"].as_array().unwrap().iter().find(|c| c["region"] == "KZ-23").unwrap().clone();
    assert_eq!((cell["used"].as_i64(), cell["left"].as_i64()), (Some(100), Some(0)));
    let verified = call(addr, Method::GET, "/api/registry/audit/verification", &p.admin, None).await;
    assert_eq!(verified.body["valid"], json!(true), "{}", verified.body);
    // Each submission and decision is an entry (and the setup's).
    assert!(verified.body["entries"].as_u64().unwrap() >= 2_000);
    running.task.abort();
}

/// The expected answer of one call: allowed (2xx), or the refusal's status.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Ok,
    Status(u16),
}

async fn who_may_call_what(backend: Backend) {
    let running = start(backend).await;
    let p = people(&running, 10).await;
    let addr = running.addr;
    // A's application and permit (KZ-79), B's application (KZ-23).
    let mine = call(addr, Method::POST, "/api/registry/applications", &p.employer, Some(application("KZ-79"))).await;
    let mine = mine.body["id"].as_i64().unwrap();
    let granted =
        call(addr, Method::POST, &format!("/api/registry/applications/{mine}/decision"), &p.officer, Some(json!({})))
            .await;
    let permit = granted.body["permit"]["id"].as_i64().unwrap();
    let theirs =
        call(addr, Method::POST, "/api/registry/applications", &p.other_employer, Some(application("KZ-23"))).await;
    let theirs = theirs.body["id"].as_i64().unwrap();
    let pending = call(addr, Method::POST, "/api/registry/applications", &p.employer, Some(application("KZ-79"))).await;
    let pending = pending.body["id"].as_i64().unwrap();

    use Expect::{Ok as Y, Status as N};
    const UNAUTH: Expect = N(401);
    const FORBID: Expect = N(403);
    const GONE: Expect = N(404);
    // (method, uri, body, [public, admin, officer (own region), other officer, employer (own), other employer, analyst])
    let app_uri = format!("/api/registry/applications/{mine}");
    let permit_uri = format!("/api/registry/permits/{permit}");
    let matrix: Vec<(Method, String, Option<Value>, [Expect; 7])> = vec![
        (Method::GET, "/api/registry/quota/2026".into(), None, [Y, Y, Y, Y, Y, Y, Y]),
        (Method::GET, "/api/registry/policy".into(), None, [Y, Y, Y, Y, Y, Y, Y]),
        (Method::GET, "/api/registry/session".into(), None, [UNAUTH, Y, Y, Y, Y, Y, Y]),
        (Method::GET, app_uri.clone(), None, [UNAUTH, Y, Y, GONE, Y, GONE, FORBID]),
        (Method::GET, "/api/registry/applications".into(), None, [UNAUTH, Y, Y, Y, Y, Y, FORBID]),
        (Method::GET, permit_uri.clone(), None, [UNAUTH, Y, Y, GONE, Y, GONE, FORBID]),
        (Method::GET, "/api/registry/permits".into(), None, [UNAUTH, Y, Y, Y, Y, Y, FORBID]),
        (Method::GET, "/api/registry/users".into(), None, [UNAUTH, Y, FORBID, FORBID, FORBID, FORBID, FORBID]),
        (Method::GET, "/api/registry/employers".into(), None, [UNAUTH, Y, Y, Y, FORBID, FORBID, FORBID]),
        (Method::GET, "/api/registry/employers/1".into(), None, [UNAUTH, Y, Y, Y, Y, GONE, FORBID]),
        (Method::GET, "/api/registry/audit".into(), None, [UNAUTH, Y, FORBID, FORBID, FORBID, FORBID, FORBID]),
        (
            Method::GET,
            "/api/registry/audit/verification".into(),
            None,
            [UNAUTH, Y, FORBID, FORBID, FORBID, FORBID, FORBID],
        ),
        (Method::GET, "/api/registry/statistics/2026".into(), None, [UNAUTH, Y, Y, Y, FORBID, FORBID, Y]),
        (
            Method::POST,
            "/api/registry/statistics/2026/publication".into(),
            None,
            [UNAUTH, Y, FORBID, FORBID, FORBID, FORBID, FORBID],
        ),
        (
            Method::POST,
            "/api/registry/applications".into(),
            Some(application("KZ-79")),
            [UNAUTH, FORBID, FORBID, FORBID, Y, Y, FORBID],
        ),
        (
            Method::POST,
            format!("/api/registry/applications/{theirs}/withdrawal"),
            None,
            [UNAUTH, FORBID, FORBID, FORBID, GONE, Y, FORBID],
        ),
        (
            Method::POST,
            format!("/api/registry/applications/{pending}/decision"),
            Some(json!({})),
            [UNAUTH, FORBID, Y, GONE, FORBID, FORBID, FORBID],
        ),
        (
            Method::POST,
            format!("{permit_uri}/extension"),
            Some(json!({})),
            [UNAUTH, FORBID, FORBID, FORBID, Y, GONE, FORBID],
        ),
        (
            Method::PUT,
            "/api/registry/quota/2027".into(),
            Some(json!({ "cells": [{ "region": "KZ-79", "category": "*", "allocated": 5 }] })),
            [UNAUTH, Y, FORBID, FORBID, FORBID, FORBID, FORBID],
        ),
        (
            Method::PUT,
            "/api/registry/employers/2/facts".into(),
            Some(json!({ "staff": [{ "category": "3", "local": true, "count": 1000000 }] })),
            [UNAUTH, Y, Y, Y, FORBID, FORBID, FORBID],
        ),
        (Method::POST, "/api/registry/expiry".into(), None, [UNAUTH, Y, FORBID, FORBID, FORBID, FORBID, FORBID]),
        (
            Method::POST,
            format!("{permit_uri}/revocation"),
            Some(json!({ "reason": "test" })),
            // The officer may revoke too, but the administrator has revoked it just before.
            [UNAUTH, Y, N(409), GONE, FORBID, FORBID, FORBID],
        ),
        (
            Method::POST,
            format!("{permit_uri}/forced-change"),
            Some(json!({ "status": "expired", "reason": "test" })),
            [UNAUTH, Y, FORBID, FORBID, FORBID, FORBID, FORBID],
        ),
    ];
    let actors = [&Auth::None, &p.admin, &p.officer, &p.other_officer, &p.employer, &p.other_employer, &p.analyst];
    let names = ["public", "admin", "officer", "other officer", "employer", "other employer", "analyst"];
    let mut failures = Vec::new();
    for (method, uri, body, expected) in &matrix {
        // Refusals first, so that a success (a withdrawal, a revocation) does not change what
        // the others would be told; then the allowed calls; then those refused for the state
        // the allowed calls left.
        let mut order: Vec<usize> = (0..actors.len()).collect();
        order.sort_by_key(|&i| match expected[i] {
            N(409) => 2,
            Y => 1,
            _ => 0,
        });
        for i in order {
            let reply = call(addr, method.clone(), uri, actors[i], body.clone()).await;
            let ok = match expected[i] {
                Y => reply.status.is_success(),
                N(code) => reply.status.as_u16() == code,
            };
            // A refusal never carries the record.
            if !reply.status.is_success() {
                assert!(reply.body["error"]["code"].is_string(), "{method} {uri} as {}: {}", names[i], reply.body);
                assert!(reply.body.get("worker").is_none() && reply.body.get("items").is_none());
            }
            if !ok {
                failures.push(format!(
                    "{method} {uri} as {}: expected {:?}, got {} {}",
                    names[i], expected[i], reply.status, reply.body
                ));
            }
        }
        // Missing, forged and expired credentials on every endpoint.
        for forged in
            [Auth::Token("koshi_forged".into()), Auth::Session { cookie: "s_forged".into(), csrf: Some("c_x".into()) }]
        {
            let reply = call(addr, method.clone(), uri, &forged, body.clone()).await;
            if reply.status != StatusCode::UNAUTHORIZED {
                failures.push(format!("{method} {uri} with forged credentials: {} {}", reply.status, reply.body));
            }
        }
        // A browser session without its CSRF token may read but not change.
        if let Auth::Session { cookie, .. } = &p.employer
            && *method != Method::GET
        {
            let no_csrf = Auth::Session { cookie: cookie.clone(), csrf: None };
            let reply = call(addr, method.clone(), uri, &no_csrf, body.clone()).await;
            if reply.status != StatusCode::FORBIDDEN {
                failures.push(format!("{method} {uri} without the CSRF token: {} {}", reply.status, reply.body));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Sessions and tokens expire.
    running.clock.advance(3 * 86_400);
    for auth in [&p.admin, &p.officer, &p.employer] {
        let reply = call(addr, Method::GET, "/api/registry/session", auth, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    }
    running.task.abort();
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod registry_sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name(super::Backend::Sqlite).await })*
        }
        mod registry_postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name(super::Backend::Postgres).await })*
        }
    };
}

on_both!(thousand_applications_for_a_hundred_places, who_may_call_what);

#[tokio::test]
async fn the_openapi_description_lists_every_registry_route() {
    let running = start(Backend::Sqlite).await;
    let doc = call(running.addr, Method::GET, "/api/registry/openapi.json", &Auth::None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], json!("3.0.3"));
    let paths = doc.body["paths"].as_object().unwrap();
    let source = include_str!("../../src/registry.rs");
    let routes: Vec<&str> = source
        .lines()
        .filter_map(|l| l.trim().strip_prefix(".route(\""))
        .map(|l| l.split('"').next().unwrap())
        .filter(|r| *r != "/api/registry/openapi.json")
        .collect();
    assert!(routes.len() >= 20, "{routes:?}");
    for route in &routes {
        assert!(paths.contains_key(*route), "{route} is served but not described");
    }
    for path in paths.keys() {
        assert!(routes.contains(&path.as_str()), "{path} is described but not served");
        // Every described path answers something other than "no such endpoint".
        let uri = path.replace("{id}", "1").replace("{year}", "2026");
        let reply = call(running.addr, Method::GET, &uri, &Auth::None, None).await;
        assert_ne!(
            reply.body["error"]["message"].as_str().map(|m| m.starts_with("no such endpoint")),
            Some(true),
            "{uri}"
        );
    }
    running.task.abort();
}
