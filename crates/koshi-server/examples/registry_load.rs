//! Load on the permit registry over loopback HTTP: officers deciding applications as fast as
//! they are answered, each decision durably committed with its permit, its quota and its audit
//! entry. Prints decisions per second and latency percentiles.
//!
//! `cargo run --release -p koshi-server --example registry_load -- [sqlite|postgres://…] [decisions] [clients]`
//! (`KOSHI_LOAD_CONNECTIONS` sets the registry's pool size)
//!
//! The server runs in this process on 127.0.0.1 (a port of its own); the clients talk to it over
//! TCP, one keep-alive connection each. Bounded: at most `decisions` (default 5,000) and 120 s.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{Method, Request, header};
use http_body_util::BodyExt;
use koshi_app::registry::{
    Actor, EmployerRequest, Location, NewUserRequest, RegistryConfig, Role, SetQuotaRequest, SignInRequest,
    SubmitRequest, TokenRequest,
};
use koshi_app::{App, AppConfig};
use koshi_server::Server;
use serde_json::json;

const PASSWORD: &str = "a long enough passphrase";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let backend = args.first().cloned().unwrap_or_else(|| "sqlite".into());
    let decisions: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let clients: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(32);
    let dir = tempfile::tempdir().unwrap();
    let location = if backend == "sqlite" {
        Location::Sqlite(dir.path().join("registry.db"))
    } else {
        // A database of its own for each run, on the cluster the address names.
        let name = format!("koshi_load_{}", std::process::id());
        let mut client = postgres::Client::connect(&backend, postgres::NoTls).unwrap();
        client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        drop(client);
        let slash = backend.rfind('/').unwrap();
        Location::Postgres(format!("{}/{name}", &backend[..slash]))
    };
    let mut config = RegistryConfig::new(location);
    // SQLite: readers beside the one writer (every request's credential is a read); PostgreSQL:
    // the registry's default pool, which measured best on 2 cores (4: 653/s, 8: 624/s, 32: 515/s).
    if let Some(n) = std::env::var("KOSHI_LOAD_CONNECTIONS").ok().and_then(|c| c.parse().ok()) {
        config.connections = n;
    } else if backend == "sqlite" {
        config.connections = 16;
    }
    let app = App::open(&dir.path().join("bank.db"), AppConfig::default()).unwrap().with_registry(&config).unwrap();
    let (officer_token, ids) = setup(&app, decisions);
    let server = Server::over(app, koshi_server::MAX_RESPONSE_BYTES);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = koshi_server::router(Arc::clone(&server));
        let serving = tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
        });
        let ids = Arc::new(ids);
        let next = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + Duration::from_secs(120);
        let started = Instant::now();
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                let (ids, next, token) = (Arc::clone(&ids), Arc::clone(&next), officer_token.clone());
                tokio::spawn(async move { client(addr, &ids, &next, &token, deadline).await })
            })
            .collect();
        let mut latencies = Vec::new();
        let mut outcomes = std::collections::BTreeMap::new();
        for w in workers {
            let (l, o) = w.await.unwrap();
            latencies.extend(l);
            for (k, v) in o {
                *outcomes.entry(k).or_insert(0) += v;
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort_unstable();
        let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
        println!(
            "backend={} decisions={} clients={} seconds={:.2} decisions_per_s={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} outcomes={:?}",
            if backend == "sqlite" { "sqlite" } else { "postgres" },
            latencies.len(),
            clients,
            elapsed,
            latencies.len() as f64 / elapsed,
            pct(0.5),
            pct(0.99),
            pct(1.0),
            outcomes
        );
        serving.abort();
        let _ = serving.await;
        // The synchronous PostgreSQL clients are used and closed off the async threads.
        tokio::task::spawn_blocking(move || {
            let verify = server.app().registry().unwrap().verify(&Actor::operator()).unwrap();
            assert!(verify.valid, "the audit chain broke under load");
            println!("audit chain: {} entries, intact", verify.entries);
        })
        .await
        .unwrap();
    });
}

/// An employer with many local staff, a quota for half the applications, an officer, and the
/// applications submitted (not timed).
fn setup(app: &App, n: usize) -> (String, Vec<i64>) {
    let r = app.registry().unwrap();
    let op = Actor::operator();
    let facts = serde_json::from_value(json!({
        "employer": { "activity_group": "A" },
        "staff": [{ "category": "3", "local": true, "count": 100_000_000 }]
    }))
    .unwrap();
    let employer = r
        .create_employer(
            &op,
            &EmployerRequest { name: "Load".into(), bin: "999999999999".into(), region: "KZ-75".into(), facts },
        )
        .unwrap()
        .id;
    let year = app.today().year;
    let cell = serde_json::from_value(json!({ "region": "KZ-75", "category": "*", "allocated": n / 2 })).unwrap();
    r.set_quota(&op, &SetQuotaRequest { year, cells: vec![cell] }).unwrap();
    for (name, role, region, emp) in [
        ("officer", Role::Officer, Some("KZ-75".to_string()), None),
        ("employer", Role::Employer, None, Some(employer)),
    ] {
        r.create_user(
            &op,
            &NewUserRequest { name: name.into(), password: PASSWORD.into(), role, region, employer: emp },
        )
        .unwrap();
    }
    let actor = |name: &str| {
        let s =
            r.sign_in(&SignInRequest { name: name.into(), password: PASSWORD.into(), client: "load".into() }).unwrap();
        let creds = koshi_app::registry::Credentials::Session { secret: s.session_secret, csrf: Some(s.csrf_token) };
        r.authenticate(&creds, true).unwrap()
    };
    let (officer, employer_actor) = (actor("officer"), actor("employer"));
    let token = r.create_token(&officer, &TokenRequest { label: "load".into(), days: Some(1) }).unwrap().token;
    let request: SubmitRequest = serde_json::from_value(json!({
        "request": { "nationality": "UZ", "category": "3", "regions": ["KZ-75"], "term_months": 12 },
        "worker": { "name": "Load Worker" }
    }))
    .unwrap();
    let ids = (0..n).map(|_| r.submit(&employer_actor, &request).unwrap().id).collect();
    (token, ids)
}

async fn client(
    addr: SocketAddr,
    ids: &[i64],
    next: &AtomicUsize,
    token: &str,
    deadline: Instant,
) -> (Vec<Duration>, Vec<(String, usize)>) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let mut latencies = Vec::new();
    let mut outcomes: std::collections::BTreeMap<String, usize> = Default::default();
    loop {
        let i = next.fetch_add(1, Ordering::SeqCst);
        if i >= ids.len() || Instant::now() > deadline {
            break;
        }
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/registry/applications/{}/decision", ids[i]))
            .header(header::HOST, "127.0.0.1")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(http_body_util::Full::new(Bytes::from_static(b"{}")))
            .unwrap();
        let started = Instant::now();
        let response = sender.send_request(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        latencies.push(started.elapsed());
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let key = if status.is_success() {
            value["application"]["status"].as_str().unwrap_or("?").to_string()
        } else {
            format!("http {status}")
        };
        *outcomes.entry(key).or_insert(0) += 1;
    }
    (latencies, outcomes.into_iter().collect())
}
