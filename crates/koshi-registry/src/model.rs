//! The registry's records as the store reads and writes them. Structured parts the rules need
//! (a request, a decision, an employer's facts) travel as JSON text: the store keeps them, the
//! application layer gives them their types.

use serde::{Deserialize, Serialize};

/// What a user may do is decided by the application layer from the role; the store only keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The ministry's administrator: sets the quota and the policy, manages users.
    Admin,
    /// A regional officer: decides the applications of one region.
    Officer,
    /// An employer: applies, and sees only its own applications and permits.
    Employer,
    /// An analyst: reads aggregates.
    Analyst,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Officer, Role::Employer, Role::Analyst];

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Officer => "officer",
            Role::Employer => "employer",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == text)
    }
}

/// Who a transaction acts for. PostgreSQL's row-level security reads it; SQLite has no such
/// wall, the application's checks being the only one there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The registry's own work (expiry, publishing, verification, setting up).
    System,
    Admin,
    Officer {
        region: String,
    },
    Employer {
        employer: i64,
    },
    Analyst,
    /// Nobody signed in: published aggregates only.
    Public,
}

impl Scope {
    pub(crate) fn role_name(&self) -> &'static str {
        match self {
            Scope::System => "system",
            Scope::Admin => "admin",
            Scope::Officer { .. } => "officer",
            Scope::Employer { .. } => "employer",
            Scope::Analyst => "analyst",
            Scope::Public => "public",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// An officer's region.
    pub region: Option<String>,
    /// An employer user's employer.
    pub employer: Option<i64>,
    pub disabled: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub region: Option<String>,
    pub employer: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// A browser session (a cookie, with a CSRF token).
    Session,
    /// An API token for a machine.
    Token,
}

impl CredentialKind {
    pub fn name(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::Token => "token",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credential {
    pub id: i64,
    pub kind: CredentialKind,
    pub user: i64,
    pub label: String,
    #[serde(skip)]
    pub csrf_hash: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewCredential {
    /// SHA-256 of the secret, hex.
    pub secret_hash: String,
    pub kind: CredentialKind,
    pub user: i64,
    pub label: String,
    pub csrf_hash: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmployerRecord {
    pub id: i64,
    pub name: String,
    pub bin: String,
    pub region: String,
    /// JSON: what the rules need to know about the employer.
    pub facts: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewEmployer {
    pub name: String,
    pub bin: String,
    pub region: String,
    pub facts: String,
}

/// One cell of a year's quota: a line (general, a project, an origin sub-quota), a region and a
/// category.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CellKey {
    pub year: i32,
    pub line: String,
    pub region: String,
    pub category: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotaCellRecord {
    #[serde(flatten)]
    pub key: CellKey,
    pub allocated: i64,
    pub used: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Pending,
    Granted,
    Refused,
    /// The worker needs no permit (the rules' exemption): nothing is issued or consumed.
    Exempt,
    Withdrawn,
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 5] = [
        ApplicationStatus::Pending,
        ApplicationStatus::Granted,
        ApplicationStatus::Refused,
        ApplicationStatus::Exempt,
        ApplicationStatus::Withdrawn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ApplicationStatus::Pending => "pending",
            ApplicationStatus::Granted => "granted",
            ApplicationStatus::Refused => "refused",
            ApplicationStatus::Exempt => "exempt",
            ApplicationStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApplicationRecord {
    pub id: i64,
    pub employer: i64,
    /// `issue` or `extension`.
    pub kind: String,
    pub region: String,
    pub category: String,
    pub nationality: String,
    pub workers: i64,
    pub permit: Option<i64>,
    /// JSON: the request as the rules read it.
    pub request: String,
    /// JSON: the worker's personal data.
    pub worker: String,
    pub status: ApplicationStatus,
    pub submitted_at: i64,
    pub submitted_by: i64,
    pub decided_at: Option<i64>,
    pub decided_by: Option<i64>,
    /// JSON: the decision with its rules, figures and legal grounds.
    pub decision: Option<String>,
    /// The refusal grounds, comma-separated.
    pub grounds: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewApplication {
    pub employer: i64,
    pub kind: String,
    pub region: String,
    pub category: String,
    pub nationality: String,
    pub workers: i64,
    pub permit: Option<i64>,
    pub request: String,
    pub worker: String,
    pub submitted_at: i64,
    pub submitted_by: i64,
}

/// A decision recorded on a pending application.
#[derive(Debug, Clone)]
pub struct DecisionRecord {
    pub status: ApplicationStatus,
    pub decided_at: i64,
    pub decided_by: i64,
    pub decision: String,
    pub grounds: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermitStatus {
    Active,
    Revoked,
    Expired,
}

impl PermitStatus {
    pub const ALL: [PermitStatus; 3] = [PermitStatus::Active, PermitStatus::Revoked, PermitStatus::Expired];

    pub fn name(self) -> &'static str {
        match self {
            PermitStatus::Active => "active",
            PermitStatus::Revoked => "revoked",
            PermitStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PermitRecord {
    pub id: i64,
    pub application: i64,
    pub employer: i64,
    pub region: String,
    pub category: String,
    pub nationality: String,
    pub workers: i64,
    pub quota_year: i32,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    pub valid_until: String,
    pub extensions: i64,
    pub status: PermitStatus,
    /// JSON: the quota cells consumed, `[{line, region, category, places}]` (kept for a
    /// revocation to give them back; not shown).
    #[serde(skip_serializing)]
    pub consumes: String,
    pub issued_at: i64,
    pub closed_at: Option<i64>,
    pub closed_reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewPermit {
    pub application: i64,
    pub employer: i64,
    pub region: String,
    pub category: String,
    pub nationality: String,
    pub workers: i64,
    pub quota_year: i32,
    pub valid_from: String,
    pub valid_until: String,
    pub consumes: String,
    pub issued_at: i64,
}

/// Which applications or permits to list, and from where (keyset paging by id).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub employer: Option<i64>,
    pub region: Option<String>,
    /// An application's or a permit's status name.
    pub status: Option<String>,
    /// Only ids greater than this.
    pub after: Option<i64>,
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone)]
pub struct NewAudit {
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub before: Option<String>,
    pub after: Option<String>,
}
