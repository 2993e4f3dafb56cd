//! The regional vacancy database over HTTP on a real server (127.0.0.1): the public search,
//! bounded and paged; posting and changing vacancies, with who may do what and the dated
//! history; importing a job portal's page again and as a snapshot, and an employment centre's
//! export whose bad rows are all named with nothing written; the import's body limit; the coding
//! queue; job seekers' counts.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use koshi_app::registry::{Actor, EmployerRequest, Location, MAX_IMPORT_BYTES, NewUserRequest, RegistryConfig, Role};
use koshi_app::{App, AppConfig, Date, ManualClock};
use koshi_server::{MAX_BODY_BYTES, Server};
use serde_json::{Value, json};

use super::registry::{Auth, PASSWORD, Reply, call, session, token};

struct Running {
    _dir: tempfile::TempDir,
    addr: SocketAddr,
    server: Arc<Server>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A server with a registry (SQLite) and an empty bank, on 2 March 2026.
async fn start() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(Date { year: 2026, month: 3, day: 2 }));
    let location = Location::Sqlite(dir.path().join("registry.db"));
    let bank = dir.path().join("bank.db");
    let clock: Arc<dyn koshi_app::Clock> = clock;
    let server = tokio::task::spawn_blocking(move || {
        let app = App::open(&bank, AppConfig { clock, ..AppConfig::default() })
            .unwrap()
            .with_registry(&RegistryConfig::new(location))
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
    Running { _dir: dir, addr, server, task }
}

impl Auth {
    /// The same browser session without its CSRF token.
    fn without_csrf(&self) -> Auth {
        match self {
            Auth::Session { cookie, .. } => Auth::Session { cookie: cookie.clone(), csrf: None },
            other => panic!("not a session: {other:?}"),
        }
    }
}

impl Reply {
    /// The message of an error in the server's one shape (and a panic if it is not that shape).
    fn error(&self) -> String {
        let error = &self.body["error"];
        assert_eq!(error["status"].as_u64(), Some(u64::from(self.status.as_u16())), "{}", self.body);
        assert!(error["code"].is_string(), "{}", self.body);
        error["message"].as_str().unwrap_or_else(|| panic!("no error message: {}", self.body)).to_string()
    }

    fn ids(&self) -> Vec<i64> {
        let items = self.body["items"].as_array().unwrap_or_else(|| panic!("not a page: {}", self.body));
        items.iter().map(|v| v["id"].as_i64().unwrap()).collect()
    }
}

/// A request that declares a body of `length` bytes and sends none: the status line and what came back.
async fn declared_only(addr: SocketAddr, uri: &str, length: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {uri} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "no answer before the body: {}", String::from_utf8_lossy(&answer));
    String::from_utf8_lossy(&answer).into_owned()
}

/// Every byte of `text` but the unreserved ones percent-encoded, for a query string.
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Standard padded base64, as a client would send an XLSX workbook.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

struct People {
    admin: Auth,
    /// Shymkent's officer (KZ-79), signed in with a browser session.
    officer: Auth,
    /// Almaty's officer (KZ-75).
    other_officer: Auth,
    /// Employer A's user (Shymkent), signed in with a browser session.
    employer: Auth,
    /// Employer B's user (Shymkent too).
    other_employer: Auth,
    analyst: Auth,
}

async fn people(running: &Running) -> People {
    let server = Arc::clone(&running.server);
    tokio::task::spawn_blocking(move || {
        let r = server.app().registry().unwrap();
        let op = Actor::operator();
        let facts: koshi_app::registry::EmployerFacts = serde_json::from_value(json!({
            "employer": { "activity_group": "A" },
            "staff": [{ "category": "3", "local": true, "count": 100 }]
        }))
        .unwrap();
        let mut employers = Vec::new();
        for (name, bin) in [("ТОО «Шымкент Цемент»", "111111111111"), ("ТОО «Южный Монтаж»", "222222222222")]
        {
            let request =
                EmployerRequest { name: name.into(), bin: bin.into(), region: "KZ-79".into(), facts: facts.clone() };
            employers.push(r.create_employer(&op, &request).unwrap().id);
        }
        for (name, role, region, employer) in [
            ("admin", Role::Admin, None, None),
            ("officer79", Role::Officer, Some("KZ-79"), None),
            ("officer75", Role::Officer, Some("KZ-75"), None),
            ("a", Role::Employer, None, Some(employers[0])),
            ("b", Role::Employer, None, Some(employers[1])),
            ("analyst", Role::Analyst, None, None),
        ] {
            let user = NewUserRequest {
                name: name.into(),
                password: PASSWORD.into(),
                role,
                region: region.map(Into::into),
                employer,
            };
            r.create_user(&op, &user).unwrap();
        }
    })
    .await
    .unwrap();
    let addr = running.addr;
    People {
        admin: token(addr, "admin").await,
        officer: session(addr, "officer79").await,
        other_officer: token(addr, "officer75").await,
        employer: session(addr, "a").await,
        other_employer: token(addr, "b").await,
        analyst: token(addr, "analyst").await,
    }
}

/// Every vacancy the public search lists, repeats and all.
async fn count(addr: SocketAddr) -> usize {
    let reply = call(addr, Method::GET, "/api/vacancies?with_duplicates=true&limit=500", &Auth::None, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.ids().len()
}

// ---------------------------------------------------------------- posting, searching, changing

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacancies_are_searched_by_anyone_and_changed_by_their_owners_only() {
    let running = start().await;
    let p = people(&running).await;
    let addr = running.addr;

    // The public searches without signing in, a bounded page at a time.
    let empty = call(addr, Method::GET, "/api/vacancies", &Auth::None, None).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert_eq!((&empty.body["items"], &empty.body["next_after"]), (&json!([]), &Value::Null), "{}", empty.body);
    for (uri, named) in [
        ("/api/vacancies?limit=501", "limit"),
        ("/api/vacancies?limit=0", "limit"),
        ("/api/vacancies?limit=many", "limit"),
        ("/api/vacancies?after=-1", "after"),
        ("/api/vacancies?status=vacant", "status"),
        ("/api/vacancies?coding=guessed", "coding"),
        ("/api/vacancies?with_duplicates=yes", "with_duplicates"),
        ("/api/vacancies?region=Atlantis", "region"),
        ("/api/vacancies?occupation=72121", "occupation"),
        ("/api/vacancies?colour=red", "colour"),
    ] {
        let reply = call(addr, Method::GET, uri, &Auth::None, None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}: {}", reply.body);
        assert!(reply.error().contains(named), "{uri}: {}", reply.body);
    }

    // Writing needs a user who may post, and a browser's CSRF token.
    let welder = json!({
        "title": "Электрогазосварщик", "region": "KZ-79", "occupation": "7212", "openings": 2,
        "wage_min": 350000, "posted": "2026-02-20"
    });
    for (who, auth, status) in [
        ("the public", Auth::None, StatusCode::UNAUTHORIZED),
        ("an analyst", p.analyst.clone(), StatusCode::FORBIDDEN),
        ("a session without its CSRF token", p.employer.without_csrf(), StatusCode::FORBIDDEN),
        ("another region's officer", p.other_officer.clone(), StatusCode::FORBIDDEN),
        ("a forged token", Auth::Token("koshi_forged".into()), StatusCode::UNAUTHORIZED),
    ] {
        let reply = call(addr, Method::POST, "/api/vacancies", &auth, Some(welder.clone())).await;
        assert_eq!(reply.status, status, "{who}: {}", reply.body);
        reply.error();
    }
    let unknown_field = call(addr, Method::POST, "/api/vacancies", &p.employer, Some(json!({ "titel": "x" }))).await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST, "{}", unknown_field.body);
    assert!(unknown_field.error().contains("titel"), "{}", unknown_field.body);
    assert_eq!(count(addr).await, 0);

    // An employer posts; the employer's name is its record's.
    let posted = call(addr, Method::POST, "/api/vacancies", &p.employer, Some(welder)).await;
    assert_eq!(posted.status, StatusCode::CREATED, "{}", posted.body);
    let id = posted.body["id"].as_i64().unwrap();
    assert_eq!(posted.body["record"]["employer_name"], json!("ТОО «Шымкент Цемент»"), "{}", posted.body);
    assert_eq!((&posted.body["status"], &posted.body["coding"]), (&json!("open"), &json!("given")));
    let cook = json!({ "title": "Повар", "region": "KZ-79", "posted": "2026-02-21" });
    let cook = call(addr, Method::POST, "/api/vacancies", &p.other_employer, Some(cook)).await;
    assert_eq!(cook.status, StatusCode::CREATED, "{}", cook.body);
    let cook = cook.body["id"].as_i64().unwrap();

    // Anyone finds it by its region (code or name) and by a word of its title.
    for (query, expected) in [
        ("region=KZ-79", vec![id, cook]),
        (&format!("region={}", enc("г. Шымкент")), vec![id, cook]),
        (&format!("q={}", enc("сварщ")), vec![id]),
        (&format!("region=KZ-79&q={}", enc("Электрогазосварщик")), vec![id]),
        ("region=KZ-75", vec![]),
        (&format!("q={}", enc("бухгалтер")), vec![]),
        ("occupation=72", vec![id]),
    ] {
        let found = call(addr, Method::GET, &format!("/api/vacancies?{query}"), &Auth::None, None).await;
        assert_eq!(found.status, StatusCode::OK, "{query}: {}", found.body);
        let mut ids = found.ids();
        ids.sort();
        assert_eq!(ids, expected, "{query}: {}", found.body);
    }
    // A page at a time.
    let first = call(addr, Method::GET, "/api/vacancies?limit=1", &Auth::None, None).await;
    assert_eq!(first.ids().len(), 1, "{}", first.body);
    let after = first.body["next_after"].as_i64().expect("a next page");
    let second = call(addr, Method::GET, &format!("/api/vacancies?limit=1&after={after}"), &Auth::None, None).await;
    assert_eq!(second.ids().len(), 1, "{}", second.body);
    assert_ne!(second.ids(), first.ids());
    assert_eq!(second.body["next_after"], Value::Null, "{}", second.body);

    // Another employer, another region's officer: no such vacancy; the region's officer fills it.
    let uri = format!("/api/vacancies/{id}/changes");
    let fill = json!({ "status": "filled", "as_of": "2026-02-27" });
    for (who, auth, status) in [
        ("another employer", &p.other_employer, StatusCode::NOT_FOUND),
        ("another region's officer", &p.other_officer, StatusCode::NOT_FOUND),
        ("the public", &Auth::None, StatusCode::UNAUTHORIZED),
        ("an analyst", &p.analyst, StatusCode::FORBIDDEN),
    ] {
        let reply = call(addr, Method::POST, &uri, auth, Some(fill.clone())).await;
        assert_eq!(reply.status, status, "{who}: {}", reply.body);
        reply.error();
    }
    let no_csrf = call(addr, Method::POST, &uri, &p.officer.without_csrf(), Some(fill.clone())).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN, "{}", no_csrf.body);
    let early = json!({ "status": "filled", "as_of": "2026-02-01" });
    let early = call(addr, Method::POST, &uri, &p.officer, Some(early)).await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST, "{}", early.body);
    assert!(early.error().contains("as_of"), "{}", early.body);
    let filled = call(addr, Method::POST, &uri, &p.officer, Some(fill)).await;
    assert_eq!(filled.status, StatusCode::OK, "{}", filled.body);
    assert_eq!((&filled.body["id"], &filled.body["status"]), (&json!(id), &json!("filled")), "{}", filled.body);

    // Its history, public: posted on the day it was posted, filled on the day asked.
    let detail = call(addr, Method::GET, &format!("/api/vacancies/{id}"), &Auth::None, None).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    assert_eq!(detail.body["vacancy"]["status"], json!("filled"), "{}", detail.body);
    let history = detail.body["history"].as_array().unwrap();
    let states: Vec<(&str, &str, &str)> = history
        .iter()
        .map(|s| (s["change"].as_str().unwrap(), s["as_of"].as_str().unwrap(), s["record"]["status"].as_str().unwrap()))
        .collect();
    assert_eq!(states, vec![("posted", "2026-02-20", "open"), ("filled", "2026-02-27", "filled")], "{}", detail.body);
    assert_eq!(history[1]["record"]["filled"], json!("2026-02-27"));
    let filled_only = call(addr, Method::GET, "/api/vacancies?status=filled", &Auth::None, None).await;
    assert_eq!(filled_only.ids(), vec![id], "{}", filled_only.body);

    // Unknown and malformed ids; the one error shape.
    let unknown = call(addr, Method::GET, "/api/vacancies/999999", &Auth::None, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    assert!(unknown.error().contains("999999"), "{}", unknown.body);
    for uri in ["/api/vacancies/abc", "/api/vacancies/0", "/api/vacancies/1?x=1"] {
        let reply = call(addr, Method::GET, uri, &Auth::None, None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}: {}", reply.body);
        reply.error();
    }
}

// ---------------------------------------------------------------- imports

/// A job portal's page with `postings` (identifier, title, employer) in Shymkent, posted on 10
/// February 2026, and `padding` bytes of comment.
fn portal_page(postings: &[(&str, &str, &str)], padding: usize) -> String {
    let items: Vec<Value> = postings
        .iter()
        .map(|(id, title, employer)| {
            json!({
                "@context": "https://schema.org",
                "@type": "JobPosting",
                "identifier": { "@type": "PropertyValue", "name": "Портал", "value": id },
                "title": title,
                "datePosted": "2026-02-10",
                "hiringOrganization": { "@type": "Organization", "name": employer },
                "jobLocation": { "@type": "Place", "address": {
                    "@type": "PostalAddress", "addressLocality": "Шымкент", "addressRegion": "г. Шымкент",
                    "addressCountry": "KZ"
                } },
                "employmentType": "FULL_TIME"
            })
        })
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"ru\"><head><meta charset=\"utf-8\"><title>Вакансии</title>\n\
         <script type=\"application/ld+json\">\n{}\n</script>\n</head><body><!-- {} --></body></html>\n",
        serde_json::to_string_pretty(&items).unwrap(),
        "x".repeat(padding)
    )
}

const PORTAL: [(&str, &str, &str); 2] = [
    ("KP-1", "Электрогазосварщик", "ТОО «Южный Монтаж»"),
    ("KP-2", "Медицинская сестра", "ГКП «Городская поликлиника № 5»"),
];

const MAPPING: &str = "[columns]\nsource_id = \"id\"\ntitle = \"title\"\nemployer = \"employer\"\n\
                       region = \"region\"\nposted = \"posted\"\n";

fn import_uri(source: &str, format: &str, as_of: &str, snapshot: bool) -> String {
    format!("/api/vacancies/imports?source={source}&format={format}&file_name=upload&as_of={as_of}&snapshot={snapshot}")
}

fn report(reply: &Reply) -> [u64; 6] {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let b = &reply.body;
    ["read", "inserted", "updated", "unchanged", "closed", "duplicates"].map(|k| b[k].as_u64().unwrap_or(u64::MAX))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officers_import_pages_and_exports_and_a_bad_export_writes_nothing() {
    let running = start().await;
    let p = people(&running).await;
    let addr = running.addr;
    let page = json!({ "data": portal_page(&PORTAL, 0) });
    let uri = import_uri("kz-portal", "jsonld", "2026-02-28", false);

    // Only a signed-in officer or administrator imports; another region's postings are refused.
    for (who, auth, status) in [
        ("the public", &Auth::None, StatusCode::UNAUTHORIZED),
        ("an employer", &p.other_employer, StatusCode::FORBIDDEN),
        ("an analyst", &p.analyst, StatusCode::FORBIDDEN),
        ("another region's officer", &p.other_officer, StatusCode::BAD_REQUEST),
    ] {
        let reply = call(addr, Method::POST, &uri, auth, Some(page.clone())).await;
        assert_eq!(reply.status, status, "{who}: {}", reply.body);
        reply.error();
    }
    let no_csrf = call(addr, Method::POST, &uri, &p.officer.without_csrf(), Some(page.clone())).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN, "{}", no_csrf.body);
    assert_eq!(count(addr).await, 0);

    // The region's officer imports the page; the same page again changes nothing.
    let first = call(addr, Method::POST, &uri, &p.officer, Some(page.clone())).await;
    assert_eq!(report(&first), [2, 2, 0, 0, 0, 0], "{}", first.body);
    assert_eq!(first.body["source"], json!("kz-portal"));
    let again = call(addr, Method::POST, &uri, &p.officer, Some(page)).await;
    assert_eq!(report(&again), [2, 0, 0, 2, 0, 0], "{}", again.body);
    assert_eq!(count(addr).await, 2);

    // A snapshot without the nurse closes the nurse on the snapshot's day. The page is padded
    // past the API's usual body limit, which this route's is above.
    let snapshot = json!({ "data": portal_page(&PORTAL[..1], 2 * MAX_BODY_BYTES) });
    assert!(snapshot.to_string().len() > MAX_BODY_BYTES);
    let snapshot_uri = import_uri("kz-portal", "jsonld", "2026-03-01", true);
    let closed = call(addr, Method::POST, &snapshot_uri, &p.officer, Some(snapshot.clone())).await;
    assert_eq!(report(&closed), [1, 0, 0, 1, 1, 0], "{}", closed.body);
    let nurse = call(addr, Method::GET, &format!("/api/vacancies?q={}", enc("медицинская")), &Auth::None, None).await;
    let nurse = &nurse.body["items"][0];
    assert_eq!((&nurse["status"], &nurse["record"]["closed"]), (&json!("closed"), &json!("2026-03-01")), "{nurse}");
    // Other routes keep the usual limit.
    let big = call(addr, Method::POST, "/api/vacancies", &p.officer, Some(snapshot)).await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", big.body);
    assert!(big.error().contains(&MAX_BODY_BYTES.to_string()), "{}", big.body);
    // The import's limit: the largest file base64-encoded and the usual allowance, no more.
    let limit = MAX_IMPORT_BYTES.div_ceil(3) * 4 + MAX_BODY_BYTES;
    let over = declared_only(addr, &uri, limit + 1).await;
    assert!(over.starts_with("HTTP/1.1 413"), "{over}");
    assert!(over.contains("BODY_TOO_LARGE") && over.contains(&limit.to_string()), "{over}");

    // A centre's export through a mapping, with two bad rows: both named with their columns,
    // nothing written.
    let csv = "id,title,employer,region,posted\n\
               C-1,Бухгалтер,ТОО «Альфа»,г. Шымкент,01.02.2026\n\
               C-2,Повар,ТОО «Бета»,Марс,01.02.2026\n\
               C-3,Продавец,ТОО «Гамма»,г. Шымкент,31.02.2026\n\
               C-4,Водитель автобуса,ТОО «Дельта»,KZ-79,2026-02-03\n";
    let before = count(addr).await;
    let table_uri = import_uri("centre-shymkent", "table", "2026-02-28", true);
    let bad = call(addr, Method::POST, &table_uri, &p.officer, Some(json!({ "data": csv, "mapping": MAPPING }))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    let message = bad.error();
    for needle in ["row 3, column `region`", "row 4, column `posted`", "2 problem(s)"] {
        assert!(message.contains(needle), "{needle} not in {message}");
    }
    assert!(!message.contains("row 2,") && !message.contains("row 5,"), "{message}");
    assert_eq!(count(addr).await, before);

    // The export mended, as base64 (as a workbook would be sent).
    let mended = csv.replace("Марс", "г. Шымкент").replace("31.02.2026", "28.02.2026");
    let body = json!({ "data_base64": base64(mended.as_bytes()), "mapping": MAPPING });
    let table = call(addr, Method::POST, &table_uri, &p.officer, Some(body)).await;
    assert_eq!(report(&table), [4, 4, 0, 0, 0, 0], "{}", table.body);
    assert_eq!(count(addr).await, before + 4);

    // Malformed requests, each a 400 that says what is wrong.
    for (uri, body, named) in [
        (table_uri.clone(), json!({ "data": csv }), "mapping"),
        (uri.clone(), json!({}), "data"),
        (uri.clone(), json!({ "data": "x", "data_base64": "eA==" }), "data_base64"),
        (uri.clone(), json!({ "data_base64": "eA=" }), "data_base64"),
        (uri.clone(), json!({ "data": "x", "file": "y" }), "file"),
        (import_uri("kz-portal", "xml", "2026-02-28", false), json!({ "data": "x" }), "format"),
        (uri.replace("snapshot=false", "snapshot=maybe"), json!({ "data": "x" }), "snapshot"),
        (uri.replace("source=kz-portal", "source="), json!({ "data": "x" }), "source"),
    ] {
        let reply = call(addr, Method::POST, &uri, &p.officer, Some(body)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}: {}", reply.body);
        assert!(reply.error().contains(named), "{uri}: {named} not in {}", reply.body);
    }
    assert_eq!(count(addr).await, before + 4);
}

// ---------------------------------------------------------------- coding and seekers

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncertain_titles_wait_in_the_officers_queue_until_coded() {
    let running = start().await;
    let p = people(&running).await;
    let addr = running.addr;
    let vague = json!({ "title": VAGUE_TITLE, "region": "KZ-79", "posted": "2026-02-20" });
    let vague = call(addr, Method::POST, "/api/vacancies", &p.officer, Some(vague)).await;
    assert_eq!(vague.status, StatusCode::CREATED, "{}", vague.body);
    assert_eq!(vague.body["coding"], json!("review"), "{}", vague.body);
    let id = vague.body["id"].as_i64().unwrap();
    let clear = json!({ "title": "Водитель автобуса", "region": "KZ-79", "posted": "2026-02-20" });
    let clear = call(addr, Method::POST, "/api/vacancies", &p.officer, Some(clear)).await;
    assert_eq!(clear.body["coding"], json!("auto"), "{}", clear.body);

    let queue = "/api/vacancies/coding-queue";
    for (who, auth, status) in [
        ("the public", &Auth::None, StatusCode::UNAUTHORIZED),
        ("an employer", &p.employer, StatusCode::FORBIDDEN),
        ("an analyst", &p.analyst, StatusCode::FORBIDDEN),
    ] {
        let reply = call(addr, Method::GET, queue, auth, None).await;
        assert_eq!(reply.status, status, "{who}: {}", reply.body);
        reply.error();
    }
    let mine = call(addr, Method::GET, queue, &p.officer, None).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(mine.ids(), vec![id], "{}", mine.body);
    assert_eq!(call(addr, Method::GET, queue, &p.admin, None).await.ids(), vec![id]);
    assert_eq!(call(addr, Method::GET, queue, &p.other_officer, None).await.ids(), Vec::<i64>::new());
    let too_many = call(addr, Method::GET, &format!("{queue}?limit=501"), &p.officer, None).await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST, "{}", too_many.body);
    assert!(too_many.error().contains("limit"), "{}", too_many.body);
    let waiting = call(addr, Method::GET, "/api/vacancies?coding=review", &Auth::None, None).await;
    assert_eq!(waiting.ids(), vec![id], "{}", waiting.body);

    // Coding it: the region's officer only, an ISCO-08 unit group only.
    let uri = format!("/api/vacancies/{id}/occupation");
    let code = json!({ "occupation": "2421" });
    for (who, auth, body, status) in [
        ("another region's officer", &p.other_officer, code.clone(), StatusCode::NOT_FOUND),
        ("an employer", &p.other_employer, code.clone(), StatusCode::FORBIDDEN),
        ("a session without its CSRF token", &p.officer.without_csrf(), code.clone(), StatusCode::FORBIDDEN),
        ("no such unit group", &p.officer, json!({ "occupation": "9999" }), StatusCode::BAD_REQUEST),
        ("no occupation", &p.officer, json!({}), StatusCode::BAD_REQUEST),
    ] {
        let reply = call(addr, Method::POST, &uri, auth, Some(body)).await;
        assert_eq!(reply.status, status, "{who}: {}", reply.body);
        reply.error();
    }
    assert_eq!(call(addr, Method::GET, queue, &p.officer, None).await.ids(), vec![id]);
    let coded = call(addr, Method::POST, &uri, &p.officer, Some(code)).await;
    assert_eq!(coded.status, StatusCode::OK, "{}", coded.body);
    assert_eq!((&coded.body["coding"], &coded.body["record"]["occupation"]), (&json!("confirmed"), &json!("2421")));
    let after = call(addr, Method::GET, queue, &p.officer, None).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    assert_eq!(after.ids(), Vec::<i64>::new(), "{}", after.body);
}

/// A title the coder proposes an occupation for without enough confidence.
const VAGUE_TITLE: &str = "Специалист";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officers_report_job_seekers_of_their_own_region_only() {
    let running = start().await;
    let p = people(&running).await;
    let addr = running.addr;
    let uri = "/api/vacancies/seekers";
    let row = |region: &str, occupation: &str, seekers: i64| json!({ "region": region, "occupation": occupation, "month": "2026-02", "seekers": seekers });
    let body = |rows: Vec<Value>| json!({ "source": "centre-shymkent", "rows": rows });

    // Another region's row is named; nothing is written.
    let elsewhere =
        call(addr, Method::PUT, uri, &p.officer, Some(body(vec![row("KZ-79", "_T", 10), row("KZ-75", "_T", 3)]))).await;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST, "{}", elsewhere.body);
    let message = elsewhere.error();
    assert!(message.contains("row 2, column `region`") && message.contains("KZ-75"), "{message}");
    assert!(!message.contains("row 1,"), "{message}");
    for (who, auth, status) in [
        ("the public", &Auth::None, StatusCode::UNAUTHORIZED),
        ("an employer", &p.other_employer, StatusCode::FORBIDDEN),
        ("a session without its CSRF token", &p.officer.without_csrf(), StatusCode::FORBIDDEN),
    ] {
        let reply = call(addr, Method::PUT, uri, auth, Some(body(vec![row("KZ-79", "_T", 10)]))).await;
        assert_eq!(reply.status, status, "{who}: {}", reply.body);
        reply.error();
    }

    // The officer's own region; a second report of the same cell replaces the first.
    let own = body(vec![row("KZ-79", "7212", 37), row("KZ-79", "_T", 5120)]);
    let reported = call(addr, Method::PUT, uri, &p.officer, Some(own)).await;
    assert_eq!(reported.status, StatusCode::OK, "{}", reported.body);
    assert_eq!((&reported.body["rows"], &reported.body["replaced"]), (&json!(2), &json!(0)), "{}", reported.body);
    let again = call(addr, Method::PUT, uri, &p.officer, Some(body(vec![row("KZ-79", "7212", 40)]))).await;
    assert_eq!((again.status, &again.body["replaced"]), (StatusCode::OK, &json!(1)), "{}", again.body);
    let admin = call(addr, Method::PUT, uri, &p.admin, Some(body(vec![row("KZ-75", "_T", 7)]))).await;
    assert_eq!(admin.status, StatusCode::OK, "{}", admin.body);
}

// ---------------------------------------------------------------- the whole chain

fn example(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/labour/vacancies/examples/");
    std::fs::read_to_string(format!("{path}{name}")).unwrap()
}

/// The acceptance of the vacancy database, over HTTP on a running server: a job portal's
/// JSON-LD page and an employment centre's CSV in; the centre's repeat of a portal posting joined
/// and titles coded; the indicators; a shortage list adopted; a permit application for an
/// occupation in demand granted and one for an occupation with many local seekers refused on
/// the labour-market test, with the reason the employer reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postings_in_shortage_list_out_and_the_permit_decisions_follow_it() {
    let running = start().await;
    let p = people(&running).await;
    let addr = running.addr;
    {
        let server = Arc::clone(&running.server);
        tokio::task::spawn_blocking(move || {
            let cells =
                vec![serde_json::from_value(json!({ "region": "KZ-79", "category": "*", "allocated": 10 })).unwrap()];
            let r = server.app().registry().unwrap();
            r.set_quota(&Actor::operator(), &koshi_app::registry::SetQuotaRequest { year: 2026, cells }).unwrap();
        })
        .await
        .unwrap();
    }
    // The portal's page and the centre's export.
    let page = call(
        addr,
        Method::POST,
        &import_uri("national-portal", "jsonld", "2026-02-28", false),
        &p.officer,
        Some(json!({ "data": example("portal_shymkent.html") })),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let centre = call(
        addr,
        Method::POST,
        "/api/vacancies/imports?source=centre-shymkent&format=table&file_name=centre_shymkent.csv&as_of=2026-02-28",
        &p.officer,
        Some(json!({ "data": example("centre_shymkent.csv"), "mapping": example("centre_export.toml") })),
    )
    .await;
    assert_eq!(centre.status, StatusCode::OK, "{}", centre.body);
    assert_eq!((centre.body["inserted"].as_u64(), centre.body["duplicates"].as_u64()), (Some(4), Some(1)));
    // Ten developers' vacancies posted by an employer, coded from their titles.
    for day in 11..=20 {
        let body = json!({ "title": "Программист", "region": "KZ-79", "posted": format!("2026-02-{day}"), "wage_min": 500000 });
        let v = call(addr, Method::POST, "/api/vacancies", &p.employer, Some(body)).await;
        assert_eq!(v.status, StatusCode::CREATED, "{}", v.body);
        assert_eq!(v.body["record"]["occupation"], "2514", "{}", v.body);
    }
    // The centre's job seekers: welders doubled in a year.
    let mut rows = Vec::new();
    for (occupation, now) in [("7212", 400), ("2514", 1), ("8331", 10), ("2411", 50), ("5223", 100), ("2221", 5)] {
        let before = if occupation == "7212" { now / 2 } else { now };
        for (month, seekers) in [("2026-02", now), ("2025-02", before)] {
            rows.push(json!({ "region": "KZ-79", "occupation": occupation, "month": month, "seekers": seekers }));
        }
    }
    let seekers = call(
        addr,
        Method::PUT,
        "/api/vacancies/seekers",
        &p.officer,
        Some(json!({ "source": "centre-shymkent", "rows": rows })),
    )
    .await;
    assert_eq!(seekers.status, StatusCode::OK, "{}", seekers.body);
    // The indicators, public.
    let demand = call(
        addr,
        Method::GET,
        "/api/labour-demand?level=4&from=2026-01&to=2026-02&region=KZ-79&occupation=7212",
        &Auth::None,
        None,
    )
    .await;
    assert_eq!(demand.status, StatusCode::OK, "{}", demand.body);
    let feb = demand.body["cells"].as_array().unwrap().iter().find(|c| c["month"] == "2026-02").unwrap().clone();
    assert_eq!((feb["stock"].as_u64(), feb["inflow"].as_u64(), feb["seekers"].as_u64()), (Some(2), Some(2), Some(400)));
    // No list yet: the public is told so; an officer may not adopt one; an administrator does.
    let none = call(addr, Method::GET, "/api/shortage/lists/latest", &Auth::None, None).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.body);
    let month = json!({ "month": "2026-02" });
    let refused = call(addr, Method::POST, "/api/shortage/lists", &p.officer, Some(month.clone())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let adopted = call(addr, Method::POST, "/api/shortage/lists", &p.admin, Some(month)).await;
    assert_eq!(adopted.status, StatusCode::CREATED, "{}", adopted.body);
    let list = adopted.body["list"].as_i64().unwrap();
    let status_of = |body: &Value, occupation: &str| -> String {
        let entries = body["entries"].as_array().unwrap();
        let e = entries.iter().find(|e| e["occupation"] == occupation).unwrap_or_else(|| panic!("{body}"));
        e["status"].as_str().unwrap().to_string()
    };
    let latest = call(addr, Method::GET, "/api/shortage/lists/latest?region=KZ-79", &Auth::None, None).await;
    assert_eq!(latest.status, StatusCode::OK, "{}", latest.body);
    assert_eq!(latest.body["list"]["id"].as_i64(), Some(list));
    assert_eq!(status_of(&latest.body, "2514"), "in_demand");
    assert_eq!(status_of(&latest.body, "7212"), "not_in_demand");
    // The list published into the bank by an administrator, and read back as statistics.
    let forbidden = call(addr, Method::POST, "/api/shortage/publication", &p.officer, None).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "{}", forbidden.body);
    let published = call(addr, Method::POST, "/api/shortage/publication", &p.admin, None).await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    assert_eq!(published.body["list"].as_i64(), Some(list));
    let data =
        call(addr, Method::GET, "/api/data/LAB_SHORTAGE?key=KZ-79.OC7.OCC_NOT_IN_DEMAND", &Auth::None, None).await;
    assert_eq!(data.status, StatusCode::OK, "{}", data.body);
    assert!(data.body.to_string().contains("2026-02"), "{}", data.body);
    // Two applications of the same employer, decided by the region's officer.
    let apply = |occupation: &str, category: &str| {
        json!({
            "request": { "nationality": "UZ", "category": category, "regions": ["KZ-79"], "term_months": 12, "occupation": occupation },
            "worker": { "name": "Aziz Karimov", "birth_date": "1990-05-04", "document": "AB1234567" }
        })
    };
    let mut decided = Vec::new();
    for (occupation, category) in [("7212", "4"), ("2514", "3")] {
        let submitted =
            call(addr, Method::POST, "/api/registry/applications", &p.employer, Some(apply(occupation, category)))
                .await;
        assert_eq!(submitted.status, StatusCode::CREATED, "{}", submitted.body);
        let id = submitted.body["id"].as_i64().unwrap();
        let decision =
            call(addr, Method::POST, &format!("/api/registry/applications/{id}/decision"), &p.officer, Some(json!({})))
                .await;
        assert_eq!(decision.status, StatusCode::OK, "{}", decision.body);
        decided.push(id);
    }
    // What the employer reads: the welder refused for local candidates, with the figures; the
    // developer granted, the test passed.
    let welder =
        call(addr, Method::GET, &format!("/api/registry/applications/{}", decided[0]), &p.employer, None).await;
    assert_eq!(welder.body["status"], "refused", "{}", welder.body);
    assert_eq!(welder.body["grounds"], json!(["local_candidates"]));
    let steps = welder.body["decision"]["steps"].as_array().unwrap();
    let test = steps.iter().find(|s| s["rule"] == "LABOUR_MARKET_TEST").unwrap();
    assert_eq!(test["status"], "failed", "{test}");
    let figures_ru = test["figures"]["ru"].as_str().unwrap();
    assert!(figures_ru.contains("400") && figures_ru.contains(&format!("shortage list {list}")), "{figures_ru}");
    let refusal = &welder.body["decision"]["refusals"][0];
    assert!(refusal["text"]["en"].as_str().unwrap().contains("local job seekers"), "{refusal}");
    let developer =
        call(addr, Method::GET, &format!("/api/registry/applications/{}", decided[1]), &p.employer, None).await;
    assert_eq!(developer.body["status"], "granted", "{}", developer.body);
    assert!(
        developer.body["permit"].is_i64() || developer.body["decision"]["permit"].is_object(),
        "{}",
        developer.body
    );
}
