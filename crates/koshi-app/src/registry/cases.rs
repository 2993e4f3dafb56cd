use std::collections::BTreeMap;
use std::sync::Arc;

use koshi_core::Date;
use koshi_registry::{
    ApplicationRecord, ApplicationStatus, AuditEntry, CellKey, CredentialKind, DecisionRecord, EmployerRecord, Filter,
    NewApplication, NewAudit, NewCredential, NewEmployer, NewPermit, NewUser, PermitRecord, PermitStatus,
    QuotaCellRecord, Role, Tx, User, audit::secret_hash,
};
use koshi_rules::{Consumption, Decision, Facts, Outcome, QuotaCell, QuotaState, Request, RequestKind};
use serde::{Deserialize, Serialize};

use super::auth::{self, Actor, Credentials, Via};
use super::codes;
use super::{POLICY_NAME_SETTING, POLICY_SETTING, RegistryService, Rules};
use crate::error::{AppError, Result};

/// The most rows a registry listing gives at once.
pub const MAX_LIST: usize = 500;
/// The longest an API token may live.
pub const MAX_TOKEN_DAYS: u32 = 366;

// ---------------------------------------------------------------- requests and reports

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub name: String,
    pub password: String,
    /// The client's address, for the limit on failed sign-ins (set by the adapter).
    #[serde(skip)]
    pub client: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignInReport {
    pub user: User,
    /// The session's secret: the adapter puts it in a cookie and never shows it.
    #[serde(skip)]
    pub session_secret: String,
    /// Sent back in `X-CSRF-Token` with every request that changes something.
    pub csrf_token: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub name: String,
    pub password: String,
    pub role: Role,
    /// An officer's region.
    #[serde(default)]
    pub region: Option<String>,
    /// An employer user's employer.
    #[serde(default)]
    pub employer: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub label: String,
    /// Days until it expires (1–366; 90 if not given).
    #[serde(default)]
    pub days: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenReport {
    pub id: i64,
    /// Shown once: only its hash is kept.
    pub token: String,
    pub label: String,
    pub expires_at: i64,
}

/// What the rules need to know about an employer (its kind, staff, violations, obligations).
pub type EmployerFacts = Facts;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmployerRequest {
    pub name: String,
    /// The business identification number (12 digits).
    pub bin: String,
    pub region: String,
    #[serde(default)]
    pub facts: EmployerFacts,
}

#[derive(Debug, Clone, Serialize)]
pub struct EmployerView {
    pub id: i64,
    pub name: String,
    pub bin: String,
    pub region: String,
    pub facts: EmployerFacts,
    pub created_at: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaCellInput {
    #[serde(default = "general_line")]
    pub line: String,
    pub region: String,
    pub category: String,
    pub allocated: i64,
}

fn general_line() -> String {
    "general".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetQuotaRequest {
    pub year: i32,
    pub cells: Vec<QuotaCellInput>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuotaCellView {
    pub line: String,
    pub region: String,
    pub category: String,
    pub allocated: i64,
    pub used: i64,
    pub left: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuotaView {
    pub year: i32,
    pub allocated: i64,
    pub used: i64,
    pub cells: Vec<QuotaCellView>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPolicyRequest {
    pub name: String,
    /// The policy file (TOML), as `koshi_rules::parse_policy` reads it.
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyView {
    pub name: String,
    pub id: String,
    pub title: String,
    pub rules: usize,
    pub parameters: usize,
    /// Parameters whose values all end, with the last day each is known, earliest first: a yearly
    /// figure (the monthly calculation index of each budget law), which decisions after that day
    /// cannot do without until a policy carrying the next value is put in force, or one that ended
    /// on purpose (a treaty's).
    pub known_until: Vec<ParameterEnd>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParameterEnd {
    pub parameter: String,
    pub known_until: Date,
}

/// The worker's personal data: kept with the application, shown only to those who may see it,
/// and every reading is logged.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerDetails {
    pub name: String,
    #[serde(default)]
    pub birth_date: Option<Date>,
    #[serde(default)]
    pub document: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// The employer applying: an employer user's own (may be left out); required of the operator.
    #[serde(default)]
    pub employer: Option<i64>,
    pub request: Request,
    pub worker: WorkerDetails,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequest {
    #[serde(default)]
    pub term_months: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    /// The officer's findings (`documents_authentic`, `qualification_met` …); one not given is
    /// taken as not contested.
    #[serde(default)]
    pub findings: BTreeMap<String, bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRequest {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub employer: Option<i64>,
    /// Only records with a greater id (the previous page's `next_after`).
    #[serde(default)]
    pub after: Option<i64>,
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Ask again with `after` = this for the next page; absent on the last page.
    pub next_after: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApplicationView {
    pub id: i64,
    pub employer: i64,
    pub kind: String,
    pub status: ApplicationStatus,
    pub region: String,
    pub regions: Vec<String>,
    pub category: String,
    pub nationality: String,
    pub workers: i64,
    /// The permit an extension is for.
    pub permit: Option<i64>,
    pub submitted_at: i64,
    pub decided_at: Option<i64>,
    pub grounds: Vec<String>,
    /// The decision with its rules, figures and legal grounds (en/ru/kk).
    pub decision: Option<serde_json::Value>,
    /// Only in the view of one application, to those who may see it (and logged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<WorkerDetails>,
}

/// A permit as its readers see it (the quota cells it consumed are kept, not shown).
pub type PermitView = PermitRecord;

#[derive(Debug, Clone, Serialize)]
pub struct DecisionReport {
    pub application: ApplicationView,
    pub permit: Option<PermitView>,
    pub decision: Decision,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    pub reason: String,
}

/// A change to a closed permit, allowed only as this explicit, audited action.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForceRequest {
    pub status: PermitStatus,
    #[serde(default)]
    pub valid_until: Option<Date>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExpiryReport {
    pub date: Date,
    pub expired: Vec<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub entries: u64,
    pub valid: bool,
    /// The first broken entry.
    pub broken: Option<super::Break>,
}

// ---------------------------------------------------------------- helpers

/// A policy file's text (whole, or a variant of a shipped policy), read as the quota commands read it.
pub(crate) fn parse_rules(name: &str, text: &str) -> Result<Rules> {
    let (policy, _) = crate::quota::policy_from_text(&format!("{name}.toml"), name, text, "policy")?;
    Ok(Rules { name: name.to_string(), policy, treaties: shipped_treaties()? })
}

pub(crate) fn shipped_rules(name: &str) -> Result<Rules> {
    let policy = crate::quota::shipped(name, "policy")?;
    Ok(Rules { name: name.to_string(), policy, treaties: shipped_treaties()? })
}

fn shipped_treaties() -> Result<koshi_rules::Treaties> {
    koshi_rules::Treaties::standard().map_err(|e| AppError::invalid("treaties", e.to_string()))
}

pub(super) fn json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| AppError::Unanswerable(format!("cannot write a record: {e}")))
}

pub(super) fn parse_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| {
        AppError::Registry(koshi_registry::RegistryError::Corrupt(format!("a stored {what} does not read: {e}")))
    })
}

pub(super) fn audit(
    tx: &mut Tx<'_>,
    actor: &Actor,
    at: i64,
    action: &str,
    object: String,
    before: Option<String>,
    after: Option<String>,
) -> Result<AuditEntry> {
    Ok(tx.append_audit(&NewAudit {
        at,
        actor_id: actor.user_id(),
        actor: actor.audit_name(),
        action: action.to_string(),
        object,
        before,
        after,
    })?)
}

/// How one attempt at a decision ended when it did not: the quota's places went while they were
/// not held (try again holding them), or a failure to report.
enum Attempt {
    PlacesWent,
    Failed(AppError),
}

impl From<AppError> for Attempt {
    fn from(e: AppError) -> Self {
        Attempt::Failed(e)
    }
}

impl From<koshi_registry::RegistryError> for Attempt {
    fn from(e: koshi_registry::RegistryError) -> Self {
        Attempt::Failed(e.into())
    }
}

pub(super) fn text_field(field: &str, value: &str, max: usize) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(AppError::invalid(field, format!("at most {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(AppError::invalid(field, "must not contain control characters"));
    }
    Ok(trimmed.to_string())
}

pub(super) fn code_field(field: &str, value: &str) -> Result<String> {
    let v = text_field(field, value, 32)?;
    if !v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*' | ':' | '.')) {
        return Err(AppError::invalid(field, format!("`{v}` is not a code (letters, digits, - _ : . or *)")));
    }
    Ok(v)
}

pub(super) fn list_limit(limit: Option<usize>) -> Result<usize> {
    match limit {
        None => Ok(100),
        Some(0) => Err(AppError::invalid("limit", "must be at least 1")),
        Some(n) if n > MAX_LIST => Err(AppError::invalid("limit", format!("at most {MAX_LIST}"))),
        Some(n) => Ok(n),
    }
}

/// Whether the actor may see a record of this employer and region. Roles that never may are
/// refused before (forbidden); this says "not found" to the others.
fn may_see(actor: &Actor, employer: i64, region: &str) -> bool {
    if actor.is_operator() {
        return true;
    }
    match &actor.user {
        Some(u) => match u.role {
            Role::Admin => true,
            Role::Officer => u.region.as_deref() == Some(region),
            Role::Employer => u.employer == Some(employer),
            Role::Analyst => false,
        },
        None => false,
    }
}

pub(super) fn not_found(what: &'static str, id: i64) -> AppError {
    AppError::NotFound { what, id: id.to_string(), known: Vec::new() }
}

fn application_view(r: &ApplicationRecord, with_worker: bool) -> Result<ApplicationView> {
    let request: Request = parse_json("request", &r.request)?;
    Ok(ApplicationView {
        id: r.id,
        employer: r.employer,
        kind: r.kind.clone(),
        status: r.status,
        region: r.region.clone(),
        regions: request.regions,
        category: r.category.clone(),
        nationality: r.nationality.clone(),
        workers: r.workers,
        permit: r.permit,
        submitted_at: r.submitted_at,
        decided_at: r.decided_at,
        grounds: r
            .grounds
            .as_deref()
            .map(|g| g.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default(),
        decision: r.decision.as_deref().map(|d| parse_json("decision", d)).transpose()?,
        worker: if with_worker { Some(parse_json("worker", &r.worker)?) } else { None },
    })
}

fn employer_view(e: &EmployerRecord) -> Result<EmployerView> {
    Ok(EmployerView {
        id: e.id,
        name: e.name.clone(),
        bin: e.bin.clone(),
        region: e.region.clone(),
        facts: parse_json("employer's facts", &e.facts)?,
        created_at: e.created_at,
    })
}

fn quota_view(year: i32, cells: &[QuotaCellRecord]) -> QuotaView {
    let cells: Vec<QuotaCellView> = cells
        .iter()
        .map(|c| QuotaCellView {
            line: c.key.line.clone(),
            region: c.key.region.clone(),
            category: c.key.category.clone(),
            allocated: c.allocated,
            used: c.used,
            left: c.allocated - c.used,
        })
        .collect();
    QuotaView {
        year,
        allocated: cells.iter().map(|c| c.allocated).sum(),
        used: cells.iter().map(|c| c.used).sum(),
        cells,
    }
}

fn consumption_key(year: i32, c: &Consumption) -> CellKey {
    CellKey { year, line: c.line.clone(), region: c.region.clone(), category: c.category.clone() }
}

fn places(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| AppError::invalid("count", "too many places"))
}

// ---------------------------------------------------------------- use cases

impl RegistryService {
    // --- who is asking ---

    /// The actor a request's credentials stand for. No credentials: the public. Credentials that
    /// are unknown, expired, revoked or of a disabled user are refused, whatever is asked.
    /// `changes` says the request would change something: a session must then also show its
    /// CSRF token.
    pub fn authenticate(&self, credentials: &Credentials, changes: bool) -> Result<Actor> {
        let (secret, csrf, kind) = match credentials {
            Credentials::None => return Ok(Actor::public()),
            Credentials::Session { secret, csrf } => (secret, csrf.as_deref(), CredentialKind::Session),
            Credentials::Token(secret) => (secret, None, CredentialKind::Token),
        };
        let refused =
            || AppError::Unauthenticated("the credentials are not valid (unknown, expired or revoked)".into());
        if secret.is_empty() || secret.len() > 200 {
            return Err(refused());
        }
        let found = self.store.credential(&secret_hash(secret))?;
        let Some((credential, user)) = found else { return Err(refused()) };
        let now = self.now();
        if credential.kind != kind || credential.revoked_at.is_some() || credential.expires_at <= now || user.disabled {
            return Err(refused());
        }
        if kind == CredentialKind::Session && changes {
            let shown = csrf.map(secret_hash);
            if shown.is_none() || shown != credential.csrf_hash {
                return Err(AppError::Forbidden(
                    "a change made in a browser session needs the session's CSRF token (X-CSRF-Token)".into(),
                ));
            }
        }
        let via = match kind {
            CredentialKind::Session => Via::Session { credential: credential.id },
            CredentialKind::Token => Via::Token { credential: credential.id },
        };
        Ok(Actor { user: Some(user), via })
    }

    /// Signs in with a name and password; a new browser session.
    pub fn sign_in(&self, request: &SignInRequest) -> Result<SignInReport> {
        let now = self.now();
        let name_key = format!("name:{}", request.name.to_lowercase());
        let keys = [name_key.clone(), format!("client:{}", request.client)];
        self.limiter.check(&keys, now)?;
        let found = self.store.read(&koshi_registry::Scope::System, |tx| tx.user_by_name(&request.name))?;
        let valid = match &found {
            Some((user, hash)) => auth::verify_password(&request.password, hash) && !user.disabled,
            None => {
                // As long as a wrong password, so that names cannot be told apart by timing.
                let _ = auth::verify_password(&request.password, auth::decoy_hash());
                false
            }
        };
        let Some((user, _)) = found.filter(|_| valid) else {
            self.limiter.fail(&keys, now);
            let actor = Actor::public();
            let name = request.name.chars().take(100).collect::<String>();
            self.store.write(&koshi_registry::Scope::System, |tx| {
                audit(tx, &actor, now, "sign_in_failed", format!("user/{name}"), None, None)
            })?;
            return Err(AppError::Unauthenticated("the name or the password is wrong".into()));
        };
        self.limiter.succeed(&name_key);
        let secret = auth::new_secret("s_")?;
        let csrf = auth::new_secret("c_")?;
        let expires_at = now + self.session_secs;
        let actor = Actor { user: Some(user.clone()), via: Via::Anonymous };
        self.store.write(&koshi_registry::Scope::System, |tx| {
            let id = tx.insert_credential(&NewCredential {
                secret_hash: secret_hash(&secret),
                kind: CredentialKind::Session,
                user: user.id,
                label: "browser session".into(),
                csrf_hash: Some(secret_hash(&csrf)),
                created_at: now,
                expires_at,
            })?;
            audit(tx, &actor, now, "sign_in", format!("session/{id}"), None, None)?;
            Ok::<_, AppError>(())
        })?;
        Ok(SignInReport { user, session_secret: secret, csrf_token: csrf, expires_at })
    }

    /// Ends the actor's browser session (or revokes the token it came with).
    pub fn sign_out(&self, actor: &Actor) -> Result<()> {
        let credential = match actor.via {
            Via::Session { credential } | Via::Token { credential } => credential,
            _ => return Err(AppError::Unauthenticated("not signed in".into())),
        };
        let now = self.now();
        self.store.write(&actor.scope(), |tx| {
            tx.revoke_credential(credential, actor.user_id(), now)?;
            audit(tx, actor, now, "sign_out", format!("credential/{credential}"), None, None)?;
            Ok(())
        })
    }

    /// A new API token for the actor itself.
    pub fn create_token(&self, actor: &Actor, request: &TokenRequest) -> Result<TokenReport> {
        actor.require(&Role::ALL, "create API tokens")?;
        let user = actor.user.as_ref().ok_or_else(|| AppError::Forbidden("tokens belong to users".into()))?;
        let label = text_field("label", &request.label, 100)?;
        let days = request.days.unwrap_or(90);
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            return Err(AppError::invalid("days", format!("between 1 and {MAX_TOKEN_DAYS}")));
        }
        let token = auth::new_secret("koshi_")?;
        let now = self.now();
        let expires_at = now + i64::from(days) * 86_400;
        let id = self.store.write(&actor.scope(), |tx| {
            let id = tx.insert_credential(&NewCredential {
                secret_hash: secret_hash(&token),
                kind: CredentialKind::Token,
                user: user.id,
                label: label.clone(),
                csrf_hash: None,
                created_at: now,
                expires_at,
            })?;
            audit(tx, actor, now, "create_token", format!("credential/{id}"), None, Some(json(&label)?))?;
            Ok::<_, AppError>(id)
        })?;
        Ok(TokenReport { id, token, label, expires_at })
    }

    /// Revokes one of the actor's own tokens (an administrator: anyone's).
    pub fn revoke_token(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(&Role::ALL, "revoke API tokens")?;
        let owner = if actor.role() == Some(Role::Admin) || actor.is_operator() { None } else { actor.user_id() };
        let now = self.now();
        self.store.write(&actor.scope(), |tx| {
            if !tx.revoke_credential(id, owner, now)? {
                return Err(not_found("token", id));
            }
            audit(tx, actor, now, "revoke_token", format!("credential/{id}"), None, None)?;
            Ok(())
        })
    }

    // --- users ---

    pub fn create_user(&self, actor: &Actor, request: &NewUserRequest) -> Result<User> {
        actor.require(&[Role::Admin], "create users")?;
        let name = text_field("name", &request.name, 100)?;
        auth::check_password_strength(&request.password)?;
        if (request.role == Role::Officer) != request.region.is_some() {
            return Err(AppError::invalid("region", "an officer, and only an officer, has the region it decides for"));
        }
        if (request.role == Role::Employer) != request.employer.is_some() {
            return Err(AppError::invalid("employer", "an employer user, and only one, has its employer"));
        }
        let region = request.region.as_deref().map(|r| code_field("region", r)).transpose()?;
        if let Some(region) = &region {
            let today = self.today();
            codes::check_region("region", region, (today, today), false)?;
        }
        let password_hash = auth::hash_password(&request.password)?;
        let now = self.now();
        self.store.write(&actor.scope(), |tx| {
            if let Some(employer) = request.employer {
                tx.employer(employer)?.ok_or_else(|| not_found("employer", employer))?;
            }
            if tx.user_by_name(&name)?.is_some() {
                return Err(AppError::Conflict(format!("a user named `{name}` exists")));
            }
            let id = tx.insert_user(
                &NewUser { name: name.clone(), password_hash, role: request.role, region, employer: request.employer },
                now,
            )?;
            let user = tx.user(id)?.ok_or_else(|| not_found("user", id))?;
            audit(tx, actor, now, "create_user", format!("user/{id}"), None, Some(json(&user)?))?;
            Ok(user)
        })
    }

    /// Disables (or enables again) a user; disabling revokes every session and token.
    pub fn set_user_disabled(&self, actor: &Actor, id: i64, disabled: bool) -> Result<User> {
        actor.require(&[Role::Admin], "disable users")?;
        let now = self.now();
        self.store.write(&actor.scope(), |tx| {
            let before = tx.user(id)?.ok_or_else(|| not_found("user", id))?;
            tx.set_user_disabled(id, disabled)?;
            if disabled {
                tx.revoke_user_credentials(id, now)?;
            }
            let after = tx.user(id)?.ok_or_else(|| not_found("user", id))?;
            let action = if disabled { "disable_user" } else { "enable_user" };
            audit(tx, actor, now, action, format!("user/{id}"), Some(json(&before)?), Some(json(&after)?))?;
            Ok(after)
        })
    }

    pub fn users(&self, actor: &Actor, after: Option<i64>, limit: Option<usize>) -> Result<Page<User>> {
        actor.require(&[Role::Admin], "list users")?;
        let limit = list_limit(limit)?;
        let items = self.store.read(&actor.scope(), |tx| tx.users(after, limit))?;
        Ok(page(items, limit, |u| u.id))
    }

    /// The signed-in user.
    pub fn me(&self, actor: &Actor) -> Result<User> {
        actor.require(&Role::ALL, "see who is signed in")?;
        actor.user.clone().ok_or_else(|| AppError::Unauthenticated("not signed in".into()))
    }

    // --- employers ---

    pub fn create_employer(&self, actor: &Actor, request: &EmployerRequest) -> Result<EmployerView> {
        actor.require(&[Role::Admin], "register employers")?;
        let name = text_field("name", &request.name, 300)?;
        let bin = request.bin.trim().to_string();
        if bin.len() != 12 || !bin.chars().all(|c| c.is_ascii_digit()) {
            return Err(AppError::invalid("bin", "a business identification number has 12 digits"));
        }
        let region = code_field("region", &request.region)?;
        let today = self.today();
        codes::check_region("region", &region, (today, today), false)?;
        let mut facts = request.facts.clone();
        facts.quota = QuotaState::default();
        let facts_json = json(&facts)?;
        let now = self.now();
        self.store.write(&actor.scope(), |tx| {
            let id = tx.insert_employer(&NewEmployer { name, bin, region, facts: facts_json }, now)?;
            let record = tx.employer(id)?.ok_or_else(|| not_found("employer", id))?;
            audit(tx, actor, now, "create_employer", format!("employer/{id}"), None, Some(json(&record)?))?;
            employer_view(&record)
        })
    }

    /// Records what is known about an employer (staff, violations, obligations).
    pub fn set_employer_facts(&self, actor: &Actor, id: i64, facts: &EmployerFacts) -> Result<EmployerView> {
        actor.require(&[Role::Admin, Role::Officer], "change an employer's record")?;
        let mut facts = facts.clone();
        facts.quota = QuotaState::default();
        let facts_json = json(&facts)?;
        let now = self.now();
        self.store.write(&actor.scope(), |tx| {
            let before = tx.employer(id)?.ok_or_else(|| not_found("employer", id))?;
            tx.set_employer_facts(id, &facts_json)?;
            let after = tx.employer(id)?.ok_or_else(|| not_found("employer", id))?;
            audit(
                tx,
                actor,
                now,
                "set_employer_facts",
                format!("employer/{id}"),
                Some(before.facts),
                Some(after.facts.clone()),
            )?;
            employer_view(&after)
        })
    }

    pub fn employer(&self, actor: &Actor, id: i64) -> Result<EmployerView> {
        actor.require(&[Role::Admin, Role::Officer, Role::Employer], "see employers")?;
        if actor.role() == Some(Role::Employer) && actor.user.as_ref().and_then(|u| u.employer) != Some(id) {
            return Err(not_found("employer", id));
        }
        let record = self.store.read(&actor.scope(), |tx| tx.employer(id))?.ok_or_else(|| not_found("employer", id))?;
        employer_view(&record)
    }

    pub fn employers(&self, actor: &Actor, after: Option<i64>, limit: Option<usize>) -> Result<Page<EmployerView>> {
        actor.require(&[Role::Admin, Role::Officer], "list employers")?;
        let limit = list_limit(limit)?;
        let records = self.store.read(&actor.scope(), |tx| tx.employers(after, limit))?;
        let items = records.iter().map(employer_view).collect::<Result<Vec<_>>>()?;
        Ok(page(items, limit, |e| e.id))
    }

    // --- the quota and the policy ---

    /// Sets a year's cells (one transaction). A cell cannot be given fewer places than it has
    /// used.
    pub fn set_quota(&self, actor: &Actor, request: &SetQuotaRequest) -> Result<QuotaView> {
        actor.require(&[Role::Admin], "set the quota")?;
        if !(2000..=2100).contains(&request.year) {
            return Err(AppError::invalid("year", "between 2000 and 2100"));
        }
        if request.cells.is_empty() || request.cells.len() > 10_000 {
            return Err(AppError::invalid("cells", "between 1 and 10,000 cells"));
        }
        let mut keys = Vec::with_capacity(request.cells.len());
        for (i, c) in request.cells.iter().enumerate() {
            if c.allocated < 0 {
                return Err(AppError::invalid(format!("cells[{i}].allocated"), "must not be negative"));
            }
            keys.push((
                CellKey {
                    year: request.year,
                    line: code_field(&format!("cells[{i}].line"), &c.line)?,
                    region: {
                        let field = format!("cells[{i}].region");
                        let region = code_field(&field, &c.region)?;
                        let year = (
                            Date { year: request.year, month: 1, day: 1 },
                            Date { year: request.year, month: 12, day: 31 },
                        );
                        codes::check_region(&field, &region, year, true)?;
                        region
                    },
                    category: code_field(&format!("cells[{i}].category"), &c.category)?,
                },
                c.allocated,
            ));
        }
        let now = self.now();
        self.store.write(&actor.scope(), |tx| {
            let before = tx.quota_cells(request.year, true)?;
            for (key, allocated) in &keys {
                if let Some(cell) = before.iter().find(|c| &c.key == key)
                    && cell.used > *allocated
                {
                    return Err(AppError::Conflict(format!(
                        "{}/{}/{}: {} places are used already, more than {allocated}",
                        key.line, key.region, key.category, cell.used
                    )));
                }
                tx.set_quota(key, *allocated)?;
            }
            let after = tx.quota_cells(request.year, false)?;
            let view = quota_view(request.year, &after);
            audit(
                tx,
                actor,
                now,
                "set_quota",
                format!("quota/{}", request.year),
                Some(json(&quota_view(request.year, &before))?),
                Some(json(&view)?),
            )?;
            Ok(view)
        })
    }

    /// A year's quota: allocated, used and left by cell. Open to everyone.
    pub fn quota(&self, actor: &Actor, year: i32) -> Result<QuotaView> {
        let cells = self.store.read(&actor.scope(), |tx| tx.quota_cells(year, false))?;
        Ok(quota_view(year, &cells))
    }

    pub fn policy(&self) -> PolicyView {
        let rules = self.rules();
        PolicyView {
            name: rules.name.clone(),
            id: rules.policy.id.clone(),
            title: rules.policy.title.clone(),
            rules: rules.policy.rules.len(),
            parameters: rules.policy.params.len(),
            known_until: rules
                .policy
                .known_until()
                .into_iter()
                .map(|(parameter, known_until)| ParameterEnd { parameter, known_until })
                .collect(),
        }
    }

    /// Puts a policy file in force for the decisions to come.
    pub fn set_policy(&self, actor: &Actor, request: &SetPolicyRequest) -> Result<PolicyView> {
        actor.require(&[Role::Admin], "set the policy")?;
        let name = code_field("name", &request.name)?;
        if request.text.len() > 2_000_000 {
            return Err(AppError::invalid("text", "a policy file is at most 2 MB"));
        }
        let rules = parse_rules(&name, &request.text)?;
        let now = self.now();
        let before = self.policy();
        self.store.write(&actor.scope(), |tx| {
            tx.set_setting(POLICY_SETTING, &request.text)?;
            tx.set_setting(POLICY_NAME_SETTING, &name)?;
            audit(
                tx,
                actor,
                now,
                "set_policy",
                format!("policy/{name}"),
                Some(json(&before)?),
                Some(json(&request.text)?),
            )?;
            Ok::<_, AppError>(())
        })?;
        *self.rules.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(rules);
        Ok(self.policy())
    }

    // --- applications ---

    fn check_request(request: &Request, today: Date) -> Result<Request> {
        let mut r = request.clone();
        if r.kind != RequestKind::Issue {
            return Err(AppError::invalid("request.kind", "apply for an extension on the permit itself"));
        }
        r.nationality = text_field("request.nationality", &r.nationality, 2)?;
        if r.nationality.len() != 2 || !r.nationality.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(AppError::invalid("request.nationality", "an ISO 3166-1 alpha-2 code such as CN"));
        }
        codes::check_citizenship("request.nationality", &r.nationality)?;
        r.category = code_field("request.category", &r.category)?;
        if r.regions.is_empty() || r.regions.len() > 20 {
            return Err(AppError::invalid("request.regions", "between 1 and 20 regions"));
        }
        for (i, region) in r.regions.iter_mut().enumerate() {
            let field = format!("request.regions[{i}]");
            *region = code_field(&field, region)?;
            codes::check_region(&field, region, (today, today), false)?;
        }
        if let Some(code) = &r.occupation {
            let code = code.trim().to_string();
            let known =
                super::vacancies::coder()?.isco().get(&code).is_some_and(|g| g.level == koshi_labour::Level::Unit);
            if !known {
                return Err(AppError::invalid("request.occupation", format!("`{code}` is not an ISCO-08 unit group")));
            }
            r.occupation = Some(code);
        }
        if r.count > 10_000 {
            return Err(AppError::invalid("request.count", "at most 10,000 workers in one application"));
        }
        if r.term_months.is_some_and(|m| m == 0 || m > 120) {
            return Err(AppError::invalid("request.term_months", "between 1 and 120"));
        }
        // Findings are the officer's, made when deciding.
        r.findings.clear();
        r.current_expiry = None;
        r.extension_number = 0;
        Ok(r)
    }

    fn check_worker(worker: &WorkerDetails) -> Result<WorkerDetails> {
        Ok(WorkerDetails {
            name: text_field("worker.name", &worker.name, 200)?,
            birth_date: worker.birth_date,
            document: if worker.document.trim().is_empty() {
                String::new()
            } else {
                text_field("worker.document", &worker.document, 64)?
            },
        })
    }

    /// An employer applies for a permit.
    pub fn submit(&self, actor: &Actor, request: &SubmitRequest) -> Result<ApplicationView> {
        actor.require(&[Role::Employer], "apply for permits")?;
        let employer = match (&actor.user, request.employer) {
            (Some(u), asked) => {
                let own = u.employer.ok_or_else(|| AppError::Forbidden("this user has no employer".into()))?;
                if asked.is_some_and(|a| a != own) {
                    return Err(AppError::Forbidden("an employer applies only for itself".into()));
                }
                own
            }
            (None, Some(asked)) => asked,
            (None, None) => return Err(AppError::invalid("employer", "the employer applying")),
        };
        let checked = Self::check_request(&request.request, self.today())?;
        let worker = Self::check_worker(&request.worker)?;
        let now = self.now();
        let new = NewApplication {
            employer,
            kind: RequestKind::Issue.name().to_string(),
            region: checked.regions[0].clone(),
            category: checked.category.clone(),
            nationality: checked.nationality.clone(),
            workers: places(checked.workers())?,
            permit: None,
            request: json(&checked)?,
            worker: json(&worker)?,
            submitted_at: now,
            submitted_by: actor.user_id().unwrap_or(0),
        };
        self.store.write(&actor.scope(), |tx| {
            tx.employer(employer)?.ok_or_else(|| not_found("employer", employer))?;
            let id = tx.insert_application(&new)?;
            let record = tx.application(id, false)?.ok_or_else(|| not_found("application", id))?;
            let view = application_view(&record, false)?;
            audit(tx, actor, now, "submit", format!("application/{id}"), None, Some(json(&view)?))?;
            Ok(view)
        })
    }

    /// An employer asks for its active permit to be extended.
    pub fn request_extension(&self, actor: &Actor, permit: i64, request: &ExtensionRequest) -> Result<ApplicationView> {
        actor.require(&[Role::Employer], "apply for extensions")?;
        if request.term_months.is_some_and(|m| m == 0 || m > 120) {
            return Err(AppError::invalid("term_months", "between 1 and 120"));
        }
        let now = self.now();
        self.store.write(&actor.scope(), |tx| {
            let p = tx.permit(permit, true)?.filter(|p| may_see(actor, p.employer, &p.region));
            let p = p.ok_or_else(|| not_found("permit", permit))?;
            if p.status != PermitStatus::Active {
                return Err(AppError::Conflict(format!("permit {permit} is {}, not active", p.status.name())));
            }
            let original =
                tx.application(p.application, false)?.ok_or_else(|| not_found("application", p.application))?;
            let mut r: Request = parse_json("request", &original.request)?;
            r.kind = RequestKind::Extension;
            r.extension_number = u32::try_from(p.extensions + 1).unwrap_or(u32::MAX);
            r.current_expiry = Some(
                Date::parse_loose(&p.valid_until)
                    .map_err(|e| AppError::Registry(koshi_registry::RegistryError::Corrupt(e.to_string())))?,
            );
            r.term_months = request.term_months.or(r.term_months);
            r.findings.clear();
            let id = tx.insert_application(&NewApplication {
                employer: p.employer,
                kind: RequestKind::Extension.name().to_string(),
                region: p.region.clone(),
                category: p.category.clone(),
                nationality: p.nationality.clone(),
                workers: p.workers,
                permit: Some(p.id),
                request: json(&r)?,
                worker: original.worker.clone(),
                submitted_at: now,
                submitted_by: actor.user_id().unwrap_or(0),
            })?;
            let record = tx.application(id, false)?.ok_or_else(|| not_found("application", id))?;
            let view = application_view(&record, false)?;
            audit(tx, actor, now, "request_extension", format!("application/{id}"), None, Some(json(&view)?))?;
            Ok(view)
        })
    }

    /// An employer withdraws its pending application.
    pub fn withdraw(&self, actor: &Actor, id: i64) -> Result<ApplicationView> {
        actor.require(&[Role::Employer], "withdraw applications")?;
        let now = self.now();
        self.store.write(&actor.scope(), |tx| {
            let record = tx.application(id, true)?.filter(|a| may_see(actor, a.employer, &a.region));
            let record = record.ok_or_else(|| not_found("application", id))?;
            if !tx.withdraw_application(id, now, actor.user_id().unwrap_or(0))? {
                return Err(AppError::Conflict(format!("application {id} is {}, not pending", record.status.name())));
            }
            let after = tx.application(id, false)?.ok_or_else(|| not_found("application", id))?;
            let view = application_view(&after, false)?;
            audit(
                tx,
                actor,
                now,
                "withdraw",
                format!("application/{id}"),
                Some(json(&application_view(&record, false)?)?),
                Some(json(&view)?),
            )?;
            Ok(view)
        })
    }

    /// One application with the worker's personal data; the reading is logged.
    pub fn application(&self, actor: &Actor, id: i64) -> Result<ApplicationView> {
        actor.require(&[Role::Admin, Role::Officer, Role::Employer], "see applications")?;
        let now = self.now();
        self.store.write(&actor.scope(), |tx| {
            let record = tx.application(id, false)?.filter(|a| may_see(actor, a.employer, &a.region));
            let record = record.ok_or_else(|| not_found("application", id))?;
            audit(tx, actor, now, "read_personal_data", format!("application/{id}"), None, None)?;
            application_view(&record, true)
        })
    }

    /// Applications the actor may see, newest last, without personal data.
    pub fn applications(&self, actor: &Actor, request: &ListRequest) -> Result<Page<ApplicationView>> {
        actor.require(&[Role::Admin, Role::Officer, Role::Employer], "list applications")?;
        if let Some(s) = &request.status
            && ApplicationStatus::parse(s).is_none()
        {
            return Err(AppError::invalid("status", "pending, granted, refused, exempt or withdrawn"));
        }
        let filter = self.scoped_filter(actor, request)?;
        let records = self.store.read(&actor.scope(), |tx| tx.applications(&filter))?;
        let items = records.iter().map(|r| application_view(r, false)).collect::<Result<Vec<_>>>()?;
        Ok(page(items, filter.limit, |a| a.id))
    }

    /// The list filter with the actor's own walls put in (an employer's own, an officer's region).
    fn scoped_filter(&self, actor: &Actor, request: &ListRequest) -> Result<Filter> {
        let mut filter = Filter {
            employer: request.employer,
            region: request.region.clone(),
            status: request.status.clone(),
            after: request.after,
            limit: list_limit(request.limit)?,
        };
        if let Some(u) = &actor.user {
            match u.role {
                Role::Employer => {
                    if filter.employer.is_some_and(|e| Some(e) != u.employer) {
                        return Err(AppError::Forbidden("an employer sees only its own records".into()));
                    }
                    filter.employer = u.employer;
                }
                Role::Officer => {
                    if filter.region.as_ref().is_some_and(|r| Some(r) != u.region.as_ref()) {
                        return Err(AppError::Forbidden("an officer sees only its own region's records".into()));
                    }
                    filter.region = u.region.clone();
                }
                _ => {}
            }
        }
        Ok(filter)
    }

    /// A regional officer decides a pending application by the policy in force: in one
    /// transaction the decision is recorded, the permit issued or extended, the quota consumed
    /// and the log appended.
    pub fn decide(&self, actor: &Actor, id: i64, request: &DecideRequest) -> Result<DecisionReport> {
        actor.require(&[Role::Officer], "decide applications")?;
        for key in request.findings.keys() {
            code_field("findings", key)?;
        }
        // First without holding the year's quota cells, which every grant in a region shares: a
        // refusal needs no place, and a grant takes its places with a conditional update in the
        // transaction's last statements, so the cells are held only from there to the commit.
        // A grant whose places went meanwhile is rolled back and decided again holding the cells.
        match self.decide_once(actor, id, request, false) {
            Err(Attempt::PlacesWent) => match self.decide_once(actor, id, request, true) {
                Err(Attempt::PlacesWent) => {
                    Err(AppError::Conflict("the quota cells changed while they were held; decide again".into()))
                }
                Err(Attempt::Failed(e)) => Err(e),
                Ok(report) => Ok(report),
            },
            Err(Attempt::Failed(e)) => Err(e),
            Ok(report) => Ok(report),
        }
    }

    fn decide_once(
        &self,
        actor: &Actor,
        id: i64,
        request: &DecideRequest,
        hold_cells: bool,
    ) -> std::result::Result<DecisionReport, Attempt> {
        let rules = self.rules();
        let now = self.now();
        let today = super::day_of(now);
        self.store.write(&actor.scope(), |tx| {
            let record = tx.application(id, true)?.filter(|a| may_see(actor, a.employer, &a.region));
            let record = record.ok_or_else(|| not_found("application", id))?;
            if record.status != ApplicationStatus::Pending {
                return Err(AppError::Conflict(format!("application {id} is {} already", record.status.name())).into());
            }
            let employer = tx.employer(record.employer)?.ok_or_else(|| not_found("employer", record.employer))?;
            let mut facts: Facts = parse_json("employer's facts", &employer.facts)?;
            // The employer's record lists its staff other than the workers on this registry's
            // active permits; those are counted from the permits themselves.
            facts.staff.extend(active_permit_staff(tx, record.employer)?);
            let cells = tx.quota_cells(today.year, hold_cells)?;
            facts.quota = QuotaState {
                cells: cells
                    .iter()
                    .map(|c| QuotaCell {
                        line: c.key.line.clone(),
                        region: c.key.region.clone(),
                        category: c.key.category.clone(),
                        allocated: c.allocated.max(0) as u64,
                        used: c.used.max(0) as u64,
                    })
                    .collect(),
            };
            let mut req: Request = parse_json("request", &record.request)?;
            req.findings.extend(request.findings.iter().map(|(k, v)| (k.clone(), *v)));
            facts.labour_market = match &req.occupation {
                Some(occupation) => super::vacancies::labour_market_facts(tx, &record.region, occupation)?,
                None => None,
            };
            let decision = koshi_rules::decide(&rules.policy, &rules.treaties, &req, &facts, today);
            let status = match decision.outcome {
                Outcome::Granted => ApplicationStatus::Granted,
                Outcome::Refused => ApplicationStatus::Refused,
                Outcome::Exempt => ApplicationStatus::Exempt,
                Outcome::Lottery | Outcome::Undetermined => {
                    return Err(AppError::Unanswerable(format!(
                        "the policy `{}` gives no decision for this application on {today} ({}): {}",
                        rules.name,
                        decision.outcome.name(),
                        decision.summary.en
                    ))
                    .into());
                }
            };
            let mut permit = None;
            if status == ApplicationStatus::Granted {
                let term = decision.permit.as_ref().ok_or_else(|| {
                    AppError::Unanswerable(format!("the policy `{}` grants without a term: nothing issued", rules.name))
                })?;
                permit = Some(match record.permit {
                    None => tx.insert_permit(&NewPermit {
                        application: record.id,
                        employer: record.employer,
                        region: record.region.clone(),
                        category: record.category.clone(),
                        nationality: record.nationality.clone(),
                        workers: record.workers,
                        quota_year: today.year,
                        valid_from: term.valid_from.to_string(),
                        valid_until: term.valid_until.to_string(),
                        consumes: json(&decision.consumes)?,
                        issued_at: now,
                    })?,
                    Some(pid) => {
                        let mut p = tx.permit(pid, true)?.ok_or_else(|| not_found("permit", pid))?;
                        if p.status != PermitStatus::Active {
                            return Err(
                                AppError::Conflict(format!("permit {pid} is {}, not active", p.status.name())).into()
                            );
                        }
                        p.valid_until = term.valid_until.to_string();
                        p.extensions += 1;
                        tx.update_permit(&p)?;
                        p
                    }
                });
            }
            let grounds = decision.ground_ids().join(",");
            let decided = DecisionRecord {
                status,
                decided_at: now,
                decided_by: actor.user_id().unwrap_or(0),
                decision: json(&decision)?,
                grounds: if grounds.is_empty() { None } else { Some(grounds) },
            };
            let after = tx
                .record_decision(id, &decided)?
                .ok_or_else(|| AppError::Conflict(format!("application {id} was decided meanwhile")))?;
            if status == ApplicationStatus::Granted {
                for c in &decision.consumes {
                    if !tx.consume(&consumption_key(today.year, c), places(c.places)?)? {
                        // Read without holding the cells, the places went meanwhile: nothing
                        // is written and the decision is made again. Held, they cannot go.
                        return Err(if hold_cells {
                            AppError::Conflict(format!(
                                "quota cell {}/{}/{} has no {} places left; decide again",
                                c.line, c.region, c.category, c.places
                            ))
                            .into()
                        } else {
                            Attempt::PlacesWent
                        });
                    }
                }
            }
            let view = application_view(&after, false)?;
            let summary = serde_json::json!({
                "status": status,
                "grounds": view.grounds,
                "permit": permit.as_ref().map(|p| p.id),
                "consumed": decision.consumes,
                "policy": rules.name,
            });
            audit(
                tx,
                actor,
                now,
                "decide",
                format!("application/{id}"),
                Some(json(&serde_json::json!({ "status": "pending" }))?),
                Some(json(&summary)?),
            )?;
            Ok(DecisionReport { application: view, permit, decision })
        })
    }

    // --- permits ---

    pub fn permit(&self, actor: &Actor, id: i64) -> Result<PermitView> {
        actor.require(&[Role::Admin, Role::Officer, Role::Employer], "see permits")?;
        let p = self.store.read(&actor.scope(), |tx| tx.permit(id, false))?;
        p.filter(|p| may_see(actor, p.employer, &p.region)).ok_or_else(|| not_found("permit", id))
    }

    pub fn permits(&self, actor: &Actor, request: &ListRequest) -> Result<Page<PermitView>> {
        actor.require(&[Role::Admin, Role::Officer, Role::Employer], "list permits")?;
        if let Some(s) = &request.status
            && PermitStatus::parse(s).is_none()
        {
            return Err(AppError::invalid("status", "active, revoked or expired"));
        }
        let filter = self.scoped_filter(actor, request)?;
        let records = self.store.read(&actor.scope(), |tx| tx.permits(&filter))?;
        Ok(page(records, filter.limit, |p| p.id))
    }

    /// Revokes an active permit and gives its places back to the quota it came from.
    pub fn revoke(&self, actor: &Actor, id: i64, request: &RevokeRequest) -> Result<PermitView> {
        actor.require(&[Role::Admin, Role::Officer], "revoke permits")?;
        let reason = text_field("reason", &request.reason, 500)?;
        let now = self.now();
        self.store.write(&actor.scope(), |tx| {
            let p = tx.permit(id, true)?.filter(|p| may_see(actor, p.employer, &p.region));
            let mut p = p.ok_or_else(|| not_found("permit", id))?;
            if p.status != PermitStatus::Active {
                return Err(AppError::Conflict(format!(
                    "permit {id} is {}: a closed permit changes only by a forced action",
                    p.status.name()
                )));
            }
            let before = p.clone();
            let consumed: Vec<Consumption> = parse_json("permit's consumption", &p.consumes)?;
            for c in &consumed {
                tx.release(&consumption_key(p.quota_year, c), places(c.places)?)?;
            }
            p.status = PermitStatus::Revoked;
            p.closed_at = Some(now);
            p.closed_reason = Some(reason.clone());
            tx.update_permit(&p)?;
            let view = p.clone();
            audit(tx, actor, now, "revoke", format!("permit/{id}"), Some(json(&before)?), Some(json(&view)?))?;
            Ok(view)
        })
    }

    /// Changes a closed (revoked or expired) permit: an administrator's explicit, audited action.
    pub fn force(&self, actor: &Actor, id: i64, request: &ForceRequest) -> Result<PermitView> {
        actor.require(&[Role::Admin], "force a change to a closed permit")?;
        let reason = text_field("reason", &request.reason, 500)?;
        let now = self.now();
        self.store.write(&actor.scope(), |tx| {
            let mut p = tx.permit(id, true)?.ok_or_else(|| not_found("permit", id))?;
            if p.status == PermitStatus::Active {
                return Err(AppError::Conflict(format!("permit {id} is active: revoke it instead")));
            }
            let before = p.clone();
            p.status = request.status;
            if let Some(until) = request.valid_until {
                p.valid_until = until.to_string();
            }
            if request.status == PermitStatus::Active {
                p.closed_at = None;
                p.closed_reason = None;
            } else {
                p.closed_at = Some(now);
                p.closed_reason = Some(reason.clone());
            }
            tx.update_permit(&p)?;
            let view = p.clone();
            let after = serde_json::json!({ "permit": view, "reason": reason });
            audit(tx, actor, now, "force", format!("permit/{id}"), Some(json(&before)?), Some(json(&after)?))?;
            Ok(view)
        })
    }

    /// Marks active permits whose term has ended as expired (their places are not given back:
    /// the quota counts the year's permits).
    pub fn expire(&self, actor: &Actor) -> Result<ExpiryReport> {
        actor.require(&[Role::Admin], "expire permits")?;
        let now = self.now();
        let today = super::day_of(now);
        let mut expired = Vec::new();
        loop {
            let batch = self.store.write(&actor.scope(), |tx| {
                let lapsed = tx.lapsed_permits(&today.to_string(), 500)?;
                let mut ids = Vec::with_capacity(lapsed.len());
                for mut p in lapsed {
                    let before = p.clone();
                    p.status = PermitStatus::Expired;
                    p.closed_at = Some(now);
                    p.closed_reason = Some(format!("its term ended on {}", p.valid_until));
                    tx.update_permit(&p)?;
                    audit(tx, actor, now, "expire", format!("permit/{}", p.id), Some(json(&before)?), Some(json(&p)?))?;
                    ids.push(p.id);
                }
                Ok::<_, AppError>(ids)
            })?;
            if batch.is_empty() {
                break;
            }
            expired.extend(batch);
        }
        Ok(ExpiryReport { date: today, expired })
    }

    /// Records in the audit log that `actor` published `year`'s figures as the bank's release
    /// `release_id`.
    pub(crate) fn record_publication(
        &self,
        actor: &Actor,
        year: i32,
        release_id: i64,
        figures: usize,
        withdrawn: usize,
    ) -> Result<AuditEntry> {
        actor.require(&[Role::Admin], "publish the registry's figures")?;
        let now = self.now();
        let after = serde_json::json!({ "release": release_id, "figures": figures, "withdrawn": withdrawn });
        self.store.write(&actor.scope(), |tx| {
            audit(tx, actor, now, "publish", format!("statistics/{year}"), None, Some(after.to_string()))
        })
    }

    // --- the audit log ---

    pub fn audit_log(&self, actor: &Actor, after: Option<i64>, limit: Option<usize>) -> Result<Page<AuditEntry>> {
        actor.require(&[Role::Admin], "read the audit log")?;
        let limit = list_limit(limit)?;
        let items = self.store.read(&actor.scope(), |tx| tx.audit(after.unwrap_or(0), limit))?;
        Ok(page(items, limit, |e| e.seq))
    }

    /// Walks the chain; names the first broken entry.
    pub fn verify(&self, actor: &Actor) -> Result<VerifyReport> {
        actor.require(&[Role::Admin], "verify the audit log")?;
        let (entries, broken) = self.store.verify()?;
        Ok(VerifyReport { entries, valid: broken.is_none(), broken })
    }
}

/// The foreign workers on an employer's active permits, as staff groups.
fn active_permit_staff(tx: &mut Tx<'_>, employer: i64) -> Result<Vec<koshi_rules::StaffGroup>> {
    Ok(tx
        .active_workers(employer)?
        .into_iter()
        .map(|(category, nationality, count)| koshi_rules::StaffGroup {
            category,
            local: false,
            count: u32::try_from(count.max(0)).unwrap_or(u32::MAX),
            nationality: Some(nationality),
            ..koshi_rules::StaffGroup::default()
        })
        .collect())
}

fn page<T>(items: Vec<T>, limit: usize, id: impl Fn(&T) -> i64) -> Page<T> {
    let next_after = if items.len() >= limit { items.last().map(id) } else { None };
    Page { items, next_after }
}
