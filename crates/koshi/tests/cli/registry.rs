//! `koshi registry` as an adapter: the operator sets the registry up beside the bank, a bad
//! quota file is refused whole with every problem named by line and column, and `verify` walks
//! the audit chain; the server killed in a burst of decisions recovers whole, on SQLite and on
//! PostgreSQL. The use cases themselves are tested in the application crate.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{document, koshi, run};

fn quota_file(dir: &Path, text: &str) -> String {
    let path = dir.join("quota.csv");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_bad_quota_file_writes_nothing_and_names_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bank.db");
    let good = quota_file(dir.path(), "line,region,category,allocated\ngeneral,KZ-79,*,147\n");
    run(&db, &["registry", "set-quota", "--year", "2026", "--file", &good]);
    assert!(dir.path().join("bank.registry.db").exists(), "the registry lives beside the bank");
    let bad = quota_file(
        dir.path(),
        "line,region,category,allocated\ngeneral,KZ-79,*,12x\ngeneral,KZ-75,*,5\ngeneral,KZ-71\n",
    );
    let out = koshi()
        .arg("--db")
        .arg(&db)
        .args(["registry", "set-quota", "--year", "2026", "--file", &bad])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 problem(s), nothing written"), "{stderr}");
    assert!(stderr.contains("line 2, column `allocated`"), "{stderr}");
    assert!(stderr.contains("line 4"), "{stderr}");
    // The cells are as the good file left them: KZ-75 was not added, KZ-79 kept its 147.
    let quota = document(&db, &["registry", "quota", "--year", "2026"]);
    let cells = quota["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1, "{quota}");
    assert_eq!(cells[0]["allocated"], 147);
    // A cell the application refuses (a region that ceased in 2018) is named by its line too.
    let gone = quota_file(dir.path(), "line,region,category,allocated\ngeneral,KZ-75,*,5\ngeneral,KZ-YUZ,*,5\n");
    let out = koshi()
        .arg("--db")
        .arg(&db)
        .args(["registry", "set-quota", "--year", "2026", "--file", &gone])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3, column `region`") && stderr.contains("KZ-YUZ"), "{stderr}");
    // One write went in (the refused file wrote nothing, not even a log entry): one entry.
    let verified = document(&db, &["registry", "verify"]);
    assert_eq!((verified["entries"].as_u64(), verified["valid"].as_bool()), (Some(1), Some(true)), "{verified}");
}

// ---------------------------------------------------------------- a crash in a burst of decisions

#[path = "../../../koshi-registry/tests/support/postgres.rs"]
mod postgres_support;

const PASSWORD: &str = "correct horse battery staple";

/// One HTTP/1.1 exchange on a connection of its own: status, headers and JSON body; `None` when
/// the server is gone (refused, reset, or cut off in the middle of the answer).
fn http(addr: &str, method: &str, path: &str, session: Option<&Session>, body: Option<&Value>) -> Option<Reply> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    if let Some(s) = session {
        request.push_str(&format!("Cookie: koshi_session={}\r\nX-CSRF-Token: {}\r\n", s.secret, s.csrf));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))?
        .parse()
        .ok()?;
    if body.len() != length {
        return None;
    }
    Some(Reply { status, head: head.to_string(), body: serde_json::from_str(body).ok()? })
}

struct Reply {
    status: u16,
    head: String,
    body: Value,
}

struct Session {
    secret: String,
    csrf: String,
}

fn sign_in(addr: &str, name: &str) -> Session {
    let reply = http(addr, "POST", "/api/registry/session", None, Some(&json!({ "name": name, "password": PASSWORD })))
        .expect("the server answers");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let cookie = reply
        .head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .expect("a session cookie");
    let secret = cookie.split(';').next().unwrap().trim_start_matches("koshi_session=").to_string();
    Session { secret, csrf: reply.body["csrf_token"].as_str().unwrap().to_string() }
}

/// Every item of a paged list (`after`, `limit`).
fn all(addr: &str, path: &str, session: &Session) -> Vec<Value> {
    let mut items = Vec::new();
    let mut after = 0;
    loop {
        let reply = http(addr, "GET", &format!("{path}?limit=500&after={after}"), Some(session), None).unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        let page = reply.body["items"].as_array().unwrap().clone();
        let Some(last) = page.last() else { return items };
        after = last["id"].as_i64().unwrap();
        items.extend(page);
    }
}

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(bank: &Path, registry: &str, log: &Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = koshi()
        .arg("--db")
        .arg(bank)
        .args(["--registry", registry, "serve", "--addr", &addr])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while http(&addr, "GET", "/api/registry/policy", None, None).is_none() {
        let said = || std::fs::read_to_string(log).unwrap_or_default();
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the server stopped ({status}): {}", said());
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the server did not start: {}", said());
        std::thread::sleep(Duration::from_millis(100));
    }
    Server { child, addr }
}

/// The registry killed with SIGKILL while eight officers decide applications for a region whose
/// quota is smaller than the demand: after a restart no permit is half-issued (every granted
/// application has its permit and every permit its granted application), the quota's used places
/// equal the workers on active permits, the audit chain verifies, and deciding the rest ends at
/// exactly the quota, every other application refused on ground 2.
fn crash_during_a_burst(registry: &str) {
    const PLACES: usize = 60;
    const APPLICATIONS: usize = 150;
    let dir = tempfile::tempdir().unwrap();
    let bank = crate::bundled_bank();
    let year = koshi_core::Date::from_days_since_epoch(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 / 86_400,
    )
    .year
    .to_string();
    let setup = |args: &[&str]| {
        let out = koshi()
            .arg("--db")
            .arg(bank)
            .args(["--registry", registry, "registry"])
            .args(args)
            .env("KOSHI_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let facts = dir.path().join("facts.json");
    std::fs::write(
        &facts,
        json!({ "employer": { "activity_group": "A" }, "staff": [{ "category": "3", "local": true, "count": 100000 }] })
            .to_string(),
    )
    .unwrap();
    let facts = facts.display().to_string();
    setup(&[
        "add-employer",
        "--name",
        "Shymkent Cement",
        "--bin",
        "123456789012",
        "--region",
        "KZ-79",
        "--facts",
        &facts,
    ]);
    setup(&["add-user", "--name", "admin", "--role", "admin"]);
    setup(&["add-user", "--name", "officer", "--role", "officer", "--region", "KZ-79"]);
    setup(&["add-user", "--name", "cement", "--role", "employer", "--employer", "1"]);
    // The shipped policy knows the monthly calculation index (which the fee needs) up to the last
    // budget law it carries; the test runs on any date with that index carried on.
    let variant = dir.path().join("kz_test.toml");
    std::fs::write(
        &variant,
        "policy = \"kz\"\nid = \"KZ_TEST\"\n\n[[overrides.params.mci]]\nfrom = 2016-01-01\nvalue = 4325\nlegal = \"budget_law\"\n",
    )
    .unwrap();
    setup(&["set-policy", "--file", &variant.display().to_string()]);
    let quota = quota_file(dir.path(), &format!("line,region,category,allocated\ngeneral,KZ-79,*,{PLACES}\n"));
    setup(&["set-quota", "--year", &year, "--file", &quota]);

    let server = serve(bank, registry, &dir.path().join("first.log"));
    let addr = server.addr.clone();
    let employer = sign_in(&addr, "cement");
    let application = json!({
        "request": { "nationality": "UZ", "category": "3", "regions": ["KZ-79"], "term_months": 12 },
        "worker": { "name": "Aziz Karimov", "document": "AB1234567" }
    });
    let ids: Vec<i64> = (0..APPLICATIONS)
        .map(|_| {
            let reply = http(&addr, "POST", "/api/registry/applications", Some(&employer), Some(&application)).unwrap();
            assert_eq!(reply.status, 201, "{}", reply.body);
            reply.body["id"].as_i64().unwrap()
        })
        .collect();

    // The burst: eight officers' sessions decide side by side; the server is killed once a
    // fifth of the applications have answers.
    let answered = Arc::new(AtomicUsize::new(0));
    let deciders: Vec<_> = (0..8)
        .map(|k| {
            let (addr, answered) = (addr.clone(), Arc::clone(&answered));
            let mine: Vec<i64> = ids.iter().copied().skip(k).step_by(8).collect();
            let officer = sign_in(&addr, "officer");
            std::thread::spawn(move || {
                for id in mine {
                    let path = format!("/api/registry/applications/{id}/decision");
                    match http(&addr, "POST", &path, Some(&officer), Some(&json!({}))) {
                        Some(reply) => {
                            assert!(reply.status < 500, "{}: {}", reply.status, reply.body);
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                        None => return,
                    }
                }
            })
        })
        .collect();
    while answered.load(Ordering::SeqCst) < APPLICATIONS / 5 {
        std::thread::sleep(Duration::from_millis(2));
    }
    drop(server); // SIGKILL
    for d in deciders {
        d.join().unwrap();
    }
    let before_restart = answered.load(Ordering::SeqCst);
    assert!(before_restart < APPLICATIONS, "the kill came after the burst ({before_restart} answers)");

    let server = serve(bank, registry, &dir.path().join("second.log"));
    let addr = server.addr.clone();
    let admin = sign_in(&addr, "admin");
    let check = |stage: &str| -> (usize, usize) {
        let applications = all(&addr, "/api/registry/applications", &admin);
        let permits = all(&addr, "/api/registry/permits", &admin);
        assert_eq!(applications.len(), APPLICATIONS, "{stage}");
        let granted: Vec<i64> =
            applications.iter().filter(|a| a["status"] == "granted").map(|a| a["id"].as_i64().unwrap()).collect();
        let mut from_permits: Vec<i64> = permits.iter().map(|p| p["application"].as_i64().unwrap()).collect();
        from_permits.sort_unstable();
        assert_eq!(granted, from_permits, "{stage}: every grant has its permit and every permit its grant");
        let on_permits: i64 =
            permits.iter().filter(|p| p["status"] == "active").map(|p| p["workers"].as_i64().unwrap()).sum();
        let quota = http(&addr, "GET", &format!("/api/registry/quota/{year}"), None, None).unwrap().body;
        let cell = &quota["cells"][0];
        assert_eq!(
            cell["used"].as_i64(),
            Some(on_permits),
            "{stage}: the quota's used places are the permits' workers"
        );
        assert_eq!(cell["allocated"].as_i64(), Some(PLACES as i64), "{stage}");
        let refused = applications.iter().filter(|a| a["status"] == "refused").count();
        for a in applications.iter().filter(|a| a["status"] == "refused") {
            assert_eq!(a["grounds"], json!(["2"]), "{stage}: {a}");
        }
        let verified =
            http(&addr, "GET", "/api/registry/audit/verification", Some(&admin), None).expect("the server answers");
        assert_eq!(verified.body["valid"], true, "{stage}: {}", verified.body);
        (granted.len(), refused)
    };
    let (granted, refused) = check("after the restart");
    assert!(granted + refused <= before_restart + 8, "at most the answered and the in-flight decisions were made");

    // The rest are decided after the restart: exactly the quota is granted.
    let officer = sign_in(&addr, "officer");
    for id in ids {
        let reply =
            http(&addr, "POST", &format!("/api/registry/applications/{id}/decision"), Some(&officer), Some(&json!({})))
                .unwrap();
        assert!(reply.status == 200 || reply.status == 409, "{}: {}", reply.status, reply.body);
    }
    assert_eq!(check("after the rest were decided"), (PLACES, APPLICATIONS - PLACES));
    drop(server);
    // The command line walks the same chain.
    let out = koshi().arg("--db").arg(bank).args(["--registry", registry, "registry", "verify"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn sqlite_registry_killed_in_a_burst_of_decisions_recovers_whole() {
    let dir = tempfile::tempdir().unwrap();
    crash_during_a_burst(&dir.path().join("registry.db").display().to_string());
}

#[test]
fn postgres_registry_killed_in_a_burst_of_decisions_recovers_whole() {
    crash_during_a_burst(&postgres_support::fresh_database());
}
