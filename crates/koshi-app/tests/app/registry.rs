//! The permit registry's workflows, each run on SQLite and on PostgreSQL: applying, deciding by
//! the rules with the quota consumed in the same transaction, extending, revoking, expiring,
//! who may see and do what, sign-in and credentials, and the audit chain.

use std::collections::BTreeMap;
use std::sync::Arc;

use koshi_app::bank::{Figures, QueryRequest};
use koshi_app::registry::{
    Actor, ApplicationStatus, Credentials, DecideRequest, EmployerRequest, ExtensionRequest, ForceRequest, ListRequest,
    NewUserRequest, PermitStatus, PublishRequest, RegistryConfig, RegistryService, RevokeRequest, Role,
    SetPolicyRequest, SetQuotaRequest, SignInRequest, SubmitRequest, TokenRequest, WorkerDetails,
};
use koshi_app::{App, AppConfig, AppError, Clock, Date, ManualClock};
use koshi_registry::Location;

#[path = "../../../koshi-registry/tests/support/postgres.rs"]
mod postgres_support;

const DAY: Date = Date { year: 2026, month: 3, day: 2 };

#[derive(Clone, Copy, Debug)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    pub(crate) clock: Arc<ManualClock>,
    /// An empty data bank with the registry beside it (the registry's figures are published there).
    pub(crate) app: App,
    pub(crate) admin: Actor,
    pub(crate) officer: Actor,
    pub(crate) other_officer: Actor,
    pub(crate) employer_a: Actor,
    pub(crate) employer_b: Actor,
    pub(crate) analyst: Actor,
    pub(crate) a: i64,
    pub(crate) b: i64,
    /// Where the registry is, to open it again.
    pub(crate) location: Location,
}

impl Fixture {
    pub(crate) fn registry(&self) -> &RegistryService {
        self.app.registry().expect("the registry is open")
    }

    /// The same bank and registry opened again, as a restarted process would.
    pub(crate) fn reopen(&self) -> App {
        App::open(&self._dir.path().join("bank.db"), AppConfig { clock: self.clock.clone(), ..AppConfig::default() })
            .and_then(|app| app.with_registry(&config(self.location.clone())))
            .expect("the bank and the registry open again")
    }
}

fn location(backend: Backend, dir: &tempfile::TempDir) -> Location {
    match backend {
        Backend::Sqlite => Location::Sqlite(dir.path().join("registry.db")),
        Backend::Postgres => Location::Postgres(postgres_support::fresh_database()),
    }
}

fn config(location: Location) -> RegistryConfig {
    let mut config = RegistryConfig::new(location);
    config.connections = 8;
    config
}

fn open(location: Location, clock: Arc<ManualClock>) -> RegistryService {
    RegistryService::open(&config(location), clock).expect("the registry opens")
}

const PASSWORD: &str = "correct horse battery";

fn facts(locals: u32) -> koshi_app::registry::EmployerFacts {
    serde_json::from_value(serde_json::json!({
        "employer": { "activity_group": "A" },
        "staff": [{ "category": "3", "local": true, "count": locals }, { "category": "4", "local": true, "count": locals }]
    }))
    .unwrap()
}

/// Signs a user in and returns the actor its session stands for (as a browser change would).
fn sign_in(registry: &RegistryService, name: &str) -> Actor {
    let report = registry
        .sign_in(&SignInRequest { name: name.into(), password: PASSWORD.into(), client: "127.0.0.1".into() })
        .unwrap();
    registry
        .authenticate(&Credentials::Session { secret: report.session_secret, csrf: Some(report.csrf_token) }, true)
        .unwrap()
}

fn user(registry: &RegistryService, name: &str, role: Role, region: Option<&str>, employer: Option<i64>) -> Actor {
    registry
        .create_user(
            &Actor::operator(),
            &NewUserRequest {
                name: name.into(),
                password: PASSWORD.into(),
                role,
                region: region.map(str::to_string),
                employer,
            },
        )
        .unwrap();
    sign_in(registry, name)
}

pub(crate) fn fixture(backend: Backend, places: i64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(DAY));
    let location = location(backend, &dir);
    let app = App::open(&dir.path().join("bank.db"), AppConfig { clock: clock.clone(), ..AppConfig::default() })
        .and_then(|app| app.with_registry(&config(location.clone())))
        .expect("the bank and the registry open");
    let registry = app.registry().unwrap();
    let op = Actor::operator();
    let a = registry
        .create_employer(
            &op,
            &EmployerRequest {
                name: "Shymkent Cement".into(),
                bin: "123456789012".into(),
                region: "KZ-79".into(),
                facts: facts(95),
            },
        )
        .unwrap()
        .id;
    let b = registry
        .create_employer(
            &op,
            &EmployerRequest {
                name: "Atyrau Builders".into(),
                bin: "210987654321".into(),
                region: "KZ-23".into(),
                facts: facts(95),
            },
        )
        .unwrap()
        .id;
    registry
        .set_quota(
            &op,
            &SetQuotaRequest {
                year: 2026,
                cells: vec![
                    serde_json::from_value(
                        serde_json::json!({ "region": "KZ-79", "category": "*", "allocated": places }),
                    )
                    .unwrap(),
                    serde_json::from_value(
                        serde_json::json!({ "region": "KZ-23", "category": "*", "allocated": places }),
                    )
                    .unwrap(),
                ],
            },
        )
        .unwrap();
    let admin = user(registry, "admin", Role::Admin, None, None);
    let officer = user(registry, "officer79", Role::Officer, Some("KZ-79"), None);
    let other_officer = user(registry, "officer23", Role::Officer, Some("KZ-23"), None);
    let employer_a = user(registry, "cement", Role::Employer, None, Some(a));
    let employer_b = user(registry, "builders", Role::Employer, None, Some(b));
    let analyst = user(registry, "analyst", Role::Analyst, None, None);
    Fixture { _dir: dir, clock, app, admin, officer, other_officer, employer_a, employer_b, analyst, a, b, location }
}

pub(crate) fn application(region: &str, nationality: &str) -> SubmitRequest {
    SubmitRequest {
        employer: None,
        request: serde_json::from_value(serde_json::json!({
            "nationality": nationality, "category": "3", "regions": [region], "term_months": 12
        }))
        .unwrap(),
        worker: WorkerDetails {
            name: "Aziz Karimov".into(),
            birth_date: Some(Date { year: 1990, month: 5, day: 4 }),
            document: "AB1234567".into(),
        },
    }
}

pub(crate) fn is_not_found(e: &AppError) -> bool {
    matches!(e, AppError::NotFound { .. })
}

fn grant_and_refuse(backend: Backend) {
    let f = fixture(backend, 2);
    let r = f.registry();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(r.submit(&f.employer_a, &application("KZ-79", "UZ")).unwrap().id);
    }
    let first = r.decide(&f.officer, ids[0], &DecideRequest::default()).unwrap();
    assert_eq!(first.application.status, ApplicationStatus::Granted, "{:?}", first.decision.summary);
    let permit = first.permit.expect("a grant issues a permit");
    assert_eq!(permit.valid_from, "2026-03-02");
    assert_eq!(permit.status, PermitStatus::Active);
    assert_eq!(
        r.decide(&f.officer, ids[1], &DecideRequest::default()).unwrap().application.status,
        ApplicationStatus::Granted
    );
    let third = r.decide(&f.officer, ids[2], &DecideRequest::default()).unwrap();
    assert_eq!(third.application.status, ApplicationStatus::Refused);
    assert_eq!(third.application.grounds, vec!["2".to_string()]);
    assert!(third.decision.summary.ru.contains('2') || !third.decision.summary.ru.is_empty());
    let quota = r.quota(&Actor::public(), 2026).unwrap();
    let cell = quota.cells.iter().find(|c| c.region == "KZ-79").unwrap();
    assert_eq!((cell.allocated, cell.used, cell.left), (2, 2, 0));
    // Deciding twice is refused, and changes nothing.
    assert!(matches!(r.decide(&f.officer, ids[0], &DecideRequest::default()), Err(AppError::Conflict(_))));
    assert_eq!(r.quota(&Actor::public(), 2026).unwrap().used, 2);
    // A refused finding refuses on its ground (documents not authentic: ground 1).
    let id = r.submit(&f.employer_a, &application("KZ-79", "UZ")).unwrap().id;
    let mut findings = DecideRequest::default();
    findings.findings.insert("documents_authentic".into(), false);
    let refused = r.decide(&f.officer, id, &findings).unwrap();
    assert!(refused.application.grounds.contains(&"1".to_string()), "{:?}", refused.application.grounds);
    // Revoking a permit gives its place back; the next application is granted.
    let revoked = r.revoke(&f.officer, permit.id, &RevokeRequest { reason: "the worker left".into() }).unwrap();
    assert_eq!(revoked.status, PermitStatus::Revoked);
    assert_eq!(r.quota(&Actor::public(), 2026).unwrap().cells.iter().find(|c| c.region == "KZ-79").unwrap().used, 1);
    let id = r.submit(&f.employer_a, &application("KZ-79", "UZ")).unwrap().id;
    assert_eq!(
        r.decide(&f.officer, id, &DecideRequest::default()).unwrap().application.status,
        ApplicationStatus::Granted
    );
    // A closed permit changes only by an administrator's forced action.
    assert!(matches!(
        r.revoke(&f.officer, permit.id, &RevokeRequest { reason: "again".into() }),
        Err(AppError::Conflict(_))
    ));
    let force = ForceRequest { status: PermitStatus::Expired, valid_until: None, reason: "recorded wrongly".into() };
    assert!(matches!(r.force(&f.officer, permit.id, &force), Err(AppError::Forbidden(_))));
    assert_eq!(r.force(&f.admin, permit.id, &force).unwrap().status, PermitStatus::Expired);
    let verified = r.verify(&f.admin).unwrap();
    assert!(verified.valid, "{:?}", verified.broken);
    assert!(verified.entries >= 10, "{}", verified.entries);
    let log = r.audit_log(&f.admin, None, Some(500)).unwrap();
    assert!(log.items.iter().any(|e| e.action == "force" && e.object == format!("permit/{}", permit.id)));
}

fn walls(backend: Backend) {
    let f = fixture(backend, 5);
    let r = f.registry();
    let mine = r.submit(&f.employer_a, &application("KZ-79", "UZ")).unwrap().id;
    let theirs = r.submit(&f.employer_b, &application("KZ-23", "UZ")).unwrap().id;
    // Own and region: seen, with the worker's data; the reading is logged.
    let seen = r.application(&f.employer_a, mine).unwrap();
    assert_eq!(seen.worker.as_ref().unwrap().document, "AB1234567");
    assert!(r.application(&f.officer, mine).is_ok());
    assert!(r.application(&f.admin, mine).is_ok());
    let log = r.audit_log(&f.admin, None, Some(500)).unwrap();
    assert_eq!(log.items.iter().filter(|e| e.action == "read_personal_data").count(), 3);
    // Another employer's or region's: not found, never the data.
    assert!(is_not_found(&r.application(&f.employer_a, theirs).unwrap_err()));
    assert!(is_not_found(&r.application(&f.officer, theirs).unwrap_err()));
    assert!(is_not_found(&r.decide(&f.officer, theirs, &DecideRequest::default()).unwrap_err()));
    assert!(is_not_found(&r.withdraw(&f.employer_a, theirs).unwrap_err()));
    // Roles that never may: forbidden; the public: sign in.
    assert!(matches!(r.application(&f.analyst, mine), Err(AppError::Forbidden(_))));
    assert!(matches!(r.decide(&f.employer_a, mine, &DecideRequest::default()), Err(AppError::Forbidden(_))));
    assert!(matches!(r.decide(&f.admin, mine, &DecideRequest::default()), Err(AppError::Forbidden(_))));
    assert!(matches!(r.submit(&f.officer, &application("KZ-79", "UZ")), Err(AppError::Forbidden(_))));
    assert!(matches!(r.application(&Actor::public(), mine), Err(AppError::Unauthenticated(_))));
    assert!(matches!(
        r.set_quota(&f.officer, &SetQuotaRequest { year: 2026, cells: vec![] }),
        Err(AppError::Forbidden(_))
    ));
    // An employer applies only for itself.
    let mut for_other = application("KZ-79", "UZ");
    for_other.employer = Some(f.b);
    assert!(matches!(r.submit(&f.employer_a, &for_other), Err(AppError::Forbidden(_))));
    // Lists carry only what the actor may see.
    let listed = r.applications(&f.employer_a, &ListRequest::default()).unwrap();
    assert_eq!(listed.items.iter().map(|a| a.id).collect::<Vec<_>>(), vec![mine]);
    assert!(listed.items.iter().all(|a| a.worker.is_none()));
    let listed = r.applications(&f.other_officer, &ListRequest::default()).unwrap();
    assert_eq!(listed.items.iter().map(|a| a.id).collect::<Vec<_>>(), vec![theirs]);
    assert_eq!(r.applications(&f.admin, &ListRequest::default()).unwrap().items.len(), 2);
    let asked_other = ListRequest { employer: Some(f.b), ..ListRequest::default() };
    assert!(matches!(r.applications(&f.employer_a, &asked_other), Err(AppError::Forbidden(_))));
    assert!(r.employer(&f.employer_a, f.a).is_ok());
    assert!(is_not_found(&r.employer(&f.employer_a, f.b).unwrap_err()));
    // Withdrawing: own pending only.
    assert_eq!(r.withdraw(&f.employer_a, mine).unwrap().status, ApplicationStatus::Withdrawn);
    assert!(matches!(r.withdraw(&f.employer_a, mine), Err(AppError::Conflict(_))));
}

fn lifecycle(backend: Backend) {
    let f = fixture(backend, 5);
    let r = f.registry();
    let id = r.submit(&f.employer_a, &application("KZ-79", "UZ")).unwrap().id;
    let permit = r.decide(&f.officer, id, &DecideRequest::default()).unwrap().permit.unwrap();
    assert_eq!(permit.valid_until, "2027-03-01", "{permit:?}");
    // The employer asks for an extension; the officer decides it; the term moves on.
    let ext = r.request_extension(&f.employer_a, permit.id, &ExtensionRequest::default()).unwrap();
    assert_eq!(ext.kind, "extension");
    assert!(is_not_found(&r.request_extension(&f.employer_b, permit.id, &ExtensionRequest::default()).unwrap_err()));
    let decided = r.decide(&f.officer, ext.id, &DecideRequest::default()).unwrap();
    assert_eq!(decided.application.status, ApplicationStatus::Granted, "{:?}", decided.decision.summary.en);
    let extended = decided.permit.unwrap();
    assert_eq!(extended.id, permit.id);
    assert_eq!(extended.extensions, 1);
    assert!(extended.valid_until > permit.valid_until, "{} vs {}", extended.valid_until, permit.valid_until);
    // An extension consumes no new place.
    assert_eq!(r.quota(&Actor::public(), 2026).unwrap().used, 1);
    // Past its term, the permit expires; its place stays used (the year's permits count).
    f.clock.advance(3 * 366 * 86_400);
    let expired = r.expire(&f.admin).unwrap();
    assert_eq!(expired.expired, vec![permit.id]);
    assert_eq!(r.permit(&f.employer_a, permit.id).unwrap().status, PermitStatus::Expired);
    assert_eq!(r.quota(&Actor::public(), 2026).unwrap().used, 1);
    assert!(r.expire(&f.admin).unwrap().expired.is_empty());
    // The sessions made at the start have expired meanwhile.
    let session =
        r.sign_in(&SignInRequest { name: "cement".into(), password: PASSWORD.into(), client: "c".into() }).unwrap();
    f.clock.advance(9 * 3600);
    let creds = Credentials::Session { secret: session.session_secret, csrf: Some(session.csrf_token) };
    assert!(matches!(r.authenticate(&creds, false), Err(AppError::Unauthenticated(_))));
    // The monthly figures count the workers decided and closed.
    let rows = r.monthly(&f.analyst, 2026).unwrap();
    assert!(rows.iter().any(|m| m.month == "2026-03" && m.measure == "issued" && m.workers == 1), "{rows:?}");
    assert!(rows.iter().any(|m| m.month == "2026-03" && m.measure == "extended" && m.workers == 1), "{rows:?}");
    assert!(matches!(r.monthly(&f.employer_a, 2026), Err(AppError::Forbidden(_))));
}

fn credentials(backend: Backend) {
    let f = fixture(backend, 5);
    let r = f.registry();
    let attempt = |password: &str, client: &str| {
        r.sign_in(&SignInRequest { name: "cement".into(), password: password.into(), client: client.into() })
    };
    // Wrong passwords, then the limit: even the right password waits.
    for _ in 0..5 {
        assert!(matches!(attempt("wrong password!", "10.0.0.1"), Err(AppError::Unauthenticated(_))));
    }
    assert!(matches!(attempt(PASSWORD, "10.0.0.2"), Err(AppError::TooManyAttempts { .. })));
    f.clock.advance(301);
    let session = attempt(PASSWORD, "10.0.0.2").unwrap();
    // A change in a browser session needs its CSRF token.
    let no_csrf = Credentials::Session { secret: session.session_secret.clone(), csrf: None };
    assert!(r.authenticate(&no_csrf, false).is_ok());
    assert!(matches!(r.authenticate(&no_csrf, true), Err(AppError::Forbidden(_))));
    let wrong_csrf = Credentials::Session { secret: session.session_secret.clone(), csrf: Some("c_00".into()) };
    assert!(matches!(r.authenticate(&wrong_csrf, true), Err(AppError::Forbidden(_))));
    // Forged and unknown credentials.
    for forged in
        [Credentials::Token("koshi_0123".into()), Credentials::Session { secret: "s_forged".into(), csrf: None }]
    {
        assert!(matches!(r.authenticate(&forged, false), Err(AppError::Unauthenticated(_))));
    }
    // A session's secret is not a token, nor the reverse.
    assert!(r.authenticate(&Credentials::Token(session.session_secret.clone()), false).is_err());
    // API tokens: work without CSRF, stop when revoked or expired.
    let token = r.create_token(&f.employer_a, &TokenRequest { label: "payroll system".into(), days: Some(1) }).unwrap();
    let creds = Credentials::Token(token.token.clone());
    let actor = r.authenticate(&creds, true).unwrap();
    assert_eq!(actor.user.as_ref().unwrap().name, "cement");
    assert!(r.submit(&actor, &application("KZ-79", "UZ")).is_ok());
    f.clock.advance(86_401);
    assert!(matches!(r.authenticate(&creds, false), Err(AppError::Unauthenticated(_))));
    let token = r.create_token(&f.employer_a, &TokenRequest { label: "second".into(), days: None }).unwrap();
    assert!(is_not_found(&r.revoke_token(&f.employer_b, token.id).unwrap_err()));
    r.revoke_token(&f.employer_a, token.id).unwrap();
    assert!(matches!(r.authenticate(&Credentials::Token(token.token), false), Err(AppError::Unauthenticated(_))));
    // A disabled user's sessions stop at once.
    let session = attempt(PASSWORD, "10.0.0.3").unwrap();
    let creds = Credentials::Session { secret: session.session_secret, csrf: None };
    r.set_user_disabled(&f.admin, f.employer_a.user.as_ref().unwrap().id, true).unwrap();
    assert!(matches!(r.authenticate(&creds, false), Err(AppError::Unauthenticated(_))));
    assert!(matches!(attempt(PASSWORD, "10.0.0.4"), Err(AppError::Unauthenticated(_))));
    // Weak passwords and duplicate names are refused.
    let weak = NewUserRequest {
        name: "x".into(),
        password: "short".into(),
        role: Role::Analyst,
        region: None,
        employer: None,
    };
    assert!(matches!(r.create_user(&f.admin, &weak), Err(AppError::Invalid { .. })));
    let dup = NewUserRequest {
        name: "analyst".into(),
        password: PASSWORD.into(),
        role: Role::Analyst,
        region: None,
        employer: None,
    };
    assert!(matches!(r.create_user(&f.admin, &dup), Err(AppError::Conflict(_))));
}

/// Many officers decide at once for a cell with fewer places than applications: exactly the
/// places are granted, every other application refused on ground 2, the chain intact.
fn no_over_allocation(backend: Backend) {
    let f = fixture(backend, 100);
    let r = f.registry();
    // Enough local staff that the local-content rule never refuses: only the quota can.
    r.set_employer_facts(&f.admin, f.b, &facts(100_000)).unwrap();
    let ids: Vec<i64> = (0..400).map(|_| r.submit(&f.employer_b, &application("KZ-23", "UZ")).unwrap().id).collect();
    let outcomes: Vec<(ApplicationStatus, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = ids
            .chunks(50)
            .map(|chunk| {
                s.spawn(|| {
                    chunk
                        .iter()
                        .map(|&id| {
                            let d = r.decide(&f.other_officer, id, &DecideRequest::default()).unwrap();
                            (d.application.status, d.application.grounds)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let granted = outcomes.iter().filter(|(s, _)| *s == ApplicationStatus::Granted).count();
    let refused_2 =
        outcomes.iter().filter(|(s, g)| *s == ApplicationStatus::Refused && g == &vec!["2".to_string()]).count();
    assert_eq!((granted, refused_2), (100, 300));
    let cell = r.quota(&Actor::public(), 2026).unwrap();
    assert_eq!(cell.cells.iter().find(|c| c.region == "KZ-23").unwrap().used, 100);
    let permits = r.permits(&f.admin, &ListRequest { limit: Some(500), ..ListRequest::default() }).unwrap();
    assert_eq!(permits.items.len(), 100);
    assert!(r.verify(&f.admin).unwrap().valid);
}

/// The bank's current registry figures for 2026: key (dotted) and month → workers.
fn published(app: &App) -> BTreeMap<(String, String), f64> {
    let report = app
        .query(&QueryRequest {
            dataflow: "LAB_PERMIT_REG".into(),
            source: Some("KOSHI_REGISTRY".into()),
            from: Some("2026-01".into()),
            to: Some("2026-12".into()),
            ..QueryRequest::default()
        })
        .unwrap();
    let Figures::Observations(rows) = report.items else { panic!("one source's figures, not harmonised") };
    rows.into_iter().map(|o| ((o.key.join("."), o.time_period), o.value.unwrap())).collect()
}

/// The monthly figures published into the bank: what the registry counts, under the bank's
/// codes (citizenship as alpha-3); only an administrator publishes; publishing the same figures
/// again writes nothing; a figure the registry no longer counts is withdrawn, the old revision
/// still answering as of its date.
fn publication(backend: Backend) {
    let f = fixture(backend, 2);
    let r = f.registry();
    let ids: Vec<i64> = (0..3).map(|_| r.submit(&f.employer_a, &application("KZ-79", "UZ")).unwrap().id).collect();
    for id in &ids {
        r.decide(&f.officer, *id, &DecideRequest::default()).unwrap();
    }
    let chinese = r.submit(&f.employer_b, &application("KZ-23", "CN")).unwrap().id;
    let permit = r.decide(&f.other_officer, chinese, &DecideRequest::default()).unwrap().permit.unwrap();
    let request = PublishRequest { year: 2026 };
    for actor in [&f.officer, &f.analyst, &f.employer_a] {
        assert!(matches!(f.app.publish_registry_figures(actor, &request), Err(AppError::Forbidden(_))));
    }
    assert!(matches!(f.app.publish_registry_figures(&Actor::public(), &request), Err(AppError::Unauthenticated(_))));
    assert!(published(&f.app).is_empty(), "a refused publication writes nothing");

    let first = f.app.publish_registry_figures(&f.admin, &request).unwrap();
    assert_eq!((first.outcome.as_str(), first.revision, first.figures, first.withdrawn), ("created", Some(1), 3, 0));
    let expected: BTreeMap<(String, String), f64> =
        [("KZ-79.UZB.3.ISSUED._Z", 2.0), ("KZ-79.UZB.3.REFUSED.2", 1.0), ("KZ-23.CHN.3.ISSUED._Z", 1.0)]
            .into_iter()
            .map(|(k, v)| ((k.to_string(), "2026-03".to_string()), v))
            .collect();
    assert_eq!(published(&f.app), expected);
    // The registry's own count, by measure, equals the bank's.
    let monthly = r.monthly(&f.analyst, 2026).unwrap();
    assert_eq!(monthly.iter().map(|m| m.workers).sum::<i64>(), 4);
    let again = f.app.publish_registry_figures(&f.admin, &request).unwrap();
    assert_eq!((again.outcome.as_str(), again.release_id, again.audit_seq), ("unchanged", first.release_id, None));

    // In April the permit is revoked, then forced back to active: the revocation was published
    // in between, and is withdrawn by the next publication.
    f.clock.advance(40 * 86_400);
    r.revoke(&f.other_officer, permit.id, &RevokeRequest { reason: "the worker left".into() }).unwrap();
    let second = f.app.publish_registry_figures(&f.admin, &request).unwrap();
    assert_eq!((second.outcome.as_str(), second.revision, second.withdrawn), ("created", Some(2), 0));
    assert_eq!(published(&f.app).get(&("KZ-23.CHN.3.REVOKED._Z".into(), "2026-04".into())), Some(&1.0));
    r.force(
        &f.admin,
        permit.id,
        &ForceRequest { status: PermitStatus::Active, valid_until: None, reason: "revoked in error".into() },
    )
    .unwrap();
    f.clock.advance(86_400);
    let third = f.app.publish_registry_figures(&f.admin, &request).unwrap();
    assert_eq!((third.outcome.as_str(), third.revision, third.withdrawn), ("created", Some(3), 1));
    assert_eq!(published(&f.app), expected, "the revocation no longer counts");
    // What the bank knew on the day of the second publication is still answered.
    let then = f
        .app
        .query(&QueryRequest {
            dataflow: "LAB_PERMIT_REG".into(),
            keys: vec!["KZ-23.CHN.3.REVOKED._Z".into()],
            as_of: Some(second.release_date.clone()),
            ..QueryRequest::default()
        })
        .unwrap();
    assert_eq!(then.total, 1);
    // Each publication is in the audit log, and the chain holds.
    let log = r.audit_log(&f.admin, None, Some(500)).unwrap();
    let publications = log.items.iter().filter(|e| e.action == "publish").count();
    assert_eq!(publications, 3);
    assert!(r.verify(&f.admin).unwrap().valid);
}

/// Regions and citizenships are checked against the bank's code lists before anything is
/// written, so a published figure can always be coded.
#[test]
fn codes_the_bank_does_not_know_are_refused() {
    let f = fixture(Backend::Sqlite, 2);
    let r = f.registry();
    let refused = |result: Result<_, AppError>, field: &str| match result {
        Err(AppError::Invalid { field: f, message }) => assert_eq!(f, field, "{message}"),
        other => panic!("expected a refusal naming {field}, got {other:?}"),
    };
    refused(r.submit(&f.employer_a, &application("KZ-79", "XX")).map(|_| ()), "request.nationality");
    refused(r.submit(&f.employer_a, &application("KZ-99", "UZ")).map(|_| ()), "request.regions[0]");
    // South Kazakhstan region ceased in 2018: not a region to work in today.
    refused(r.submit(&f.employer_a, &application("KZ-YUZ", "UZ")).map(|_| ()), "request.regions[0]");
    let cell = |region: &str| SetQuotaRequest {
        year: 2026,
        cells: vec![
            serde_json::from_value(serde_json::json!({ "region": region, "category": "*", "allocated": 5 })).unwrap(),
        ],
    };
    refused(r.set_quota(&f.admin, &cell("KZ-YUZ")).map(|_| ()), "cells[0].region");
    refused(
        r.create_employer(
            &f.admin,
            &EmployerRequest {
                name: "Nowhere".into(),
                bin: "111111111111".into(),
                region: "KZ-00".into(),
                facts: facts(1),
            },
        )
        .map(|_| ()),
        "region",
    );
    assert_eq!(r.applications(&f.admin, &ListRequest::default()).unwrap().items.len(), 0, "nothing was written");
    // A region that existed during the quota's year is accepted (Shymkent from 2018-06-19).
    let mut y2018 = cell("KZ-79");
    y2018.year = 2018;
    r.set_quota(&f.admin, &y2018).unwrap();
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name(super::Backend::Sqlite) })*
        }
        mod postgres {
            $(#[test] fn $name() { super::$name(super::Backend::Postgres) })*
        }
    };
}

on_both!(grant_and_refuse, walls, lifecycle, credentials, no_over_allocation, publication);

#[test]
fn sqlite_tampering_is_named() {
    let f = fixture(Backend::Sqlite, 3);
    let id = f.registry().submit(&f.employer_a, &application("KZ-79", "UZ")).unwrap().id;
    f.registry().decide(&f.officer, id, &DecideRequest::default()).unwrap();
    let path = f._dir.path().join("registry.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    // The log refuses changes through SQL…
    assert!(conn.execute("UPDATE audit SET action = 'nothing' WHERE seq = 3", []).is_err());
    // …so a tamperer removes the guard first; the chain still tells.
    conn.execute_batch("DROP TRIGGER audit_no_update").unwrap();
    conn.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 4", []).unwrap();
    let report = f.registry().verify(&f.admin).unwrap();
    assert!(!report.valid);
    assert_eq!(report.broken.unwrap().seq, 4);
}

#[test]
fn postgres_tampering_is_named_and_rows_stay_apart_without_the_application() {
    let url = postgres_support::fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(DAY));
    let r = open(Location::Postgres(url.clone()), Arc::clone(&clock));
    let op = Actor::operator();
    let a = r
        .create_employer(
            &op,
            &EmployerRequest { name: "A".into(), bin: "111111111111".into(), region: "KZ-79".into(), facts: facts(95) },
        )
        .unwrap()
        .id;
    let b = r
        .create_employer(
            &op,
            &EmployerRequest { name: "B".into(), bin: "222222222222".into(), region: "KZ-23".into(), facts: facts(95) },
        )
        .unwrap()
        .id;
    let ua = user(&r, "a", Role::Employer, None, Some(a));
    let ub = user(&r, "b", Role::Employer, None, Some(b));
    let theirs = r.submit(&ub, &application("KZ-23", "UZ")).unwrap().id;
    let _ = ua;
    // The store asked directly, with no application check in between: the database refuses.
    let store =
        koshi_registry::Registry::open(&Location::Postgres(url.clone()), koshi_registry::Options::default()).unwrap();
    let as_a = koshi_registry::Scope::Employer { employer: a };
    assert!(store.read(&as_a, |tx| tx.application(theirs, false)).unwrap().is_none());
    assert!(
        store
            .read(&as_a, |tx| tx.permits(&koshi_registry::Filter { limit: 10, ..Default::default() }))
            .unwrap()
            .is_empty()
    );
    assert!(store.read(&as_a, |tx| tx.employer(b)).unwrap().is_none());
    assert!(
        store
            .read(&koshi_registry::Scope::Employer { employer: b }, |tx| tx.application(theirs, false))
            .unwrap()
            .is_some()
    );
    let officer = koshi_registry::Scope::Officer { region: "KZ-79".into() };
    assert!(store.read(&officer, |tx| tx.application(theirs, false)).unwrap().is_none());
    // Writing a row for another employer is refused by row-level security.
    let forged = koshi_registry::NewApplication {
        employer: b,
        kind: "issue".into(),
        region: "KZ-23".into(),
        category: "3".into(),
        nationality: "UZ".into(),
        workers: 1,
        permit: None,
        request: "{}".into(),
        worker: "{}".into(),
        submitted_at: 0,
        submitted_by: 0,
    };
    let err = store.write(&as_a, |tx| tx.insert_application(&forged)).unwrap_err();
    assert!(err.is_row_security(), "{err}");
    // Tampering: the owner can switch the guard off; the chain still names the entry.
    let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    assert!(client.execute("UPDATE audit SET actor = 'x' WHERE seq = 2", &[]).is_err());
    client
        .batch_execute("ALTER TABLE audit DISABLE TRIGGER audit_no_change; UPDATE audit SET actor = 'x' WHERE seq = 2")
        .unwrap();
    let report = r.verify(&op).unwrap();
    assert_eq!(report.broken.map(|b| b.seq), Some(2));
    drop(dir);
    let _ = clock.unix_seconds();
}

#[test]
fn the_policy_in_force_is_set_by_an_administrator_and_survives_a_restart() {
    let f = fixture(Backend::Sqlite, 3);
    assert_eq!(f.registry().policy().id, "KZ");
    // The shipped policy knows the monthly calculation index as far as its last budget law, and
    // says so (beside parameters that ended on purpose, a treaty's say), earliest end first.
    let ends = f.registry().policy().known_until;
    assert!(
        ends.iter().any(|e| e.parameter == "mci" && e.known_until == Date { year: 2026, month: 12, day: 31 }),
        "{ends:?}"
    );
    assert!(ends.windows(2).all(|w| w[0].known_until <= w[1].known_until), "{ends:?}");
    assert!(!ends.iter().any(|e| e.parameter == "fee_mci"), "open-ended parameters are not listed: {ends:?}");
    let variant = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/examples/kz_local_content_80.toml"),
    )
    .unwrap();
    let request = SetPolicyRequest { name: "kz_80".into(), text: variant };
    assert!(matches!(f.registry().set_policy(&f.officer, &request), Err(AppError::Forbidden(_))));
    let set = f.registry().set_policy(&f.admin, &request).unwrap();
    assert_ne!(set.id, "KZ", "a variant gets its own id: {set:?}");
    let broken = SetPolicyRequest { name: "broken".into(), text: "this is = not [a policy".into() };
    assert!(matches!(f.registry().set_policy(&f.admin, &broken), Err(AppError::Invalid { .. })));
    assert_eq!(f.registry().policy().id, set.id, "a refused policy changes nothing");
    let reopened = open(Location::Sqlite(f._dir.path().join("registry.db")), Arc::clone(&f.clock));
    assert_eq!(reopened.policy().id, set.id);
}
