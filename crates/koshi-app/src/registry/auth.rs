//! Who is asking: passwords (argon2), browser sessions with a CSRF token, API tokens, and a
//! limit on failed sign-ins. Secrets are random 256-bit values; only their SHA-256 is stored.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use koshi_registry::{Role, Scope, User};
use serde::Serialize;

use crate::error::{AppError, Result};

/// What a request presents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    #[default]
    None,
    /// A browser session's cookie and, for a request that changes something, its CSRF token.
    Session { secret: String, csrf: Option<String> },
    /// `Authorization: Bearer …`.
    Token(String),
}

/// How the actor was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// No credentials: the public.
    Anonymous,
    Session {
        credential: i64,
    },
    Token {
        credential: i64,
    },
    /// The operator at the command line, with the registry's files or database in hand.
    Operator,
}

/// The person (or machine) a use case acts for; every registry use case takes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub user: Option<User>,
    pub via: Via,
}

impl Actor {
    pub fn public() -> Self {
        Actor { user: None, via: Via::Anonymous }
    }

    /// The command-line operator: may set the registry up (users, employers, the quota).
    pub fn operator() -> Self {
        Actor { user: None, via: Via::Operator }
    }

    pub fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|u| u.role)
    }

    pub fn is_operator(&self) -> bool {
        self.via == Via::Operator
    }

    /// The name written in the audit log.
    pub fn audit_name(&self) -> String {
        match (&self.user, self.via) {
            (Some(u), Via::Token { credential }) => format!("{} (token {credential})", u.name),
            (Some(u), _) => u.name.clone(),
            (None, Via::Operator) => "operator (command line)".to_string(),
            (None, _) => "public".to_string(),
        }
    }

    pub(crate) fn user_id(&self) -> Option<i64> {
        self.user.as_ref().map(|u| u.id)
    }

    /// What the database is told this actor may see.
    pub(crate) fn scope(&self) -> Scope {
        match &self.user {
            None if self.is_operator() => Scope::System,
            None => Scope::Public,
            Some(u) => match u.role {
                Role::Admin => Scope::Admin,
                Role::Analyst => Scope::Analyst,
                Role::Officer => Scope::Officer { region: u.region.clone().unwrap_or_default() },
                Role::Employer => Scope::Employer { employer: u.employer.unwrap_or(-1) },
            },
        }
    }

    /// Refuses unless the actor has one of `roles` (the operator has every role's rights).
    pub(crate) fn require(&self, roles: &[Role], what: &str) -> Result<()> {
        if self.is_operator() {
            return Ok(());
        }
        match self.role() {
            None => Err(AppError::Unauthenticated(format!("sign in to {what}"))),
            Some(r) if roles.contains(&r) => Ok(()),
            Some(r) => Err(AppError::Forbidden(format!("a user with the {} role may not {what}", r.name()))),
        }
    }
}

/// A new random secret, 256 bits as 64 hex digits, with a prefix saying what it is.
pub(crate) fn new_secret(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Unanswerable(format!("the system gave no random numbers: {e}")))?;
    let mut out = String::with_capacity(prefix.len() + 64);
    out.push_str(prefix);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    Ok(out)
}

pub(crate) fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| AppError::Unanswerable(format!("the system gave no random numbers: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::invalid("password", e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::invalid("password", e.to_string()))
}

pub(crate) fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash to compare against when the user does not exist, so that a wrong name takes as long as
/// a wrong password.
pub(crate) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("a password nobody has").unwrap_or_default())
}

pub(crate) const MIN_PASSWORD: usize = 12;

pub(crate) fn check_password_strength(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AppError::invalid("password", format!("at least {MIN_PASSWORD} characters")));
    }
    if password.len() > 1024 {
        return Err(AppError::invalid("password", "at most 1,024 bytes"));
    }
    Ok(())
}

/// Failed sign-ins counted per name and per client address in a sliding window; past the limit,
/// sign-in is refused until the window passes (even with the right password).
pub(crate) struct SignInLimiter {
    failures: Mutex<HashMap<String, Vec<i64>>>,
    pub(crate) limit: usize,
    pub(crate) window_secs: i64,
}

/// The most keys kept; older ones are dropped first, so the table cannot grow without bound.
const MAX_TRACKED: usize = 100_000;

impl SignInLimiter {
    pub(crate) fn new(limit: usize, window_secs: i64) -> Self {
        SignInLimiter { failures: Mutex::new(HashMap::new()), limit, window_secs }
    }

    /// Refuses if any of `keys` has had `limit` failures in the window before `now`.
    pub(crate) fn check(&self, keys: &[String], now: i64) -> Result<()> {
        let map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        for key in keys {
            if let Some(times) = map.get(key) {
                let recent: Vec<i64> = times.iter().copied().filter(|t| now - t < self.window_secs).collect();
                if recent.len() >= self.limit {
                    let oldest = recent.iter().min().copied().unwrap_or(now);
                    let retry = (oldest + self.window_secs - now).max(1) as u64;
                    return Err(AppError::TooManyAttempts { retry_after_secs: retry });
                }
            }
        }
        Ok(())
    }

    pub(crate) fn fail(&self, keys: &[String], now: i64) {
        let mut map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_TRACKED {
            let window = self.window_secs;
            map.retain(|_, times| times.iter().any(|t| now - t < window));
        }
        for key in keys {
            let times = map.entry(key.clone()).or_default();
            times.retain(|t| now - t < self.window_secs);
            times.push(now);
        }
    }

    pub(crate) fn succeed(&self, name_key: &str) {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner).remove(name_key);
    }
}
