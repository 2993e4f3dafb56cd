//! The work-permit registry's use cases: signing in, employers applying, regional officers
//! deciding by the rules ([`koshi_rules`]), permits extended, revoked and lapsing, the quota set
//! and consumed, the audit log kept and verified, and the monthly figures published.
//!
//! Every use case takes the [`Actor`] it acts for and checks here, not in the adapters, what that
//! actor may do; an employer asking for another's record and an officer for another region's get
//! "not found", never the data. Each write is one transaction with its audit entry: a decision,
//! its permit, the quota it consumes and the log are committed together or not at all.

mod auth;
mod cases;
mod codes;
mod demand;
mod publish;
mod vacancies;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use koshi_registry::{Options, Registry};
use koshi_rules::{Policy, Treaties};

pub use auth::{Actor, Credentials, Via};
pub use cases::*;
pub use demand::*;
pub use koshi_registry::audit::Break;
pub use koshi_registry::{ApplicationStatus, CodingState, Location, PermitStatus, Role, User, VacancyStatus};
pub use publish::{MonthlyRow, PERMIT_DATAFLOW, PublishReport, PublishRequest, REGISTRY_SOURCE};
pub use vacancies::*;

use crate::clock::Clock;
use crate::error::{AppError, Result};

/// Where the registry is and how it behaves.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    pub location: Location,
    /// SQLite: read connections beside the writer; PostgreSQL: connections in all.
    pub connections: usize,
    pub wait: Duration,
    /// How long a browser session lasts.
    pub session_secs: i64,
    /// Failed sign-ins allowed per name and per address in `sign_in_window_secs`.
    pub sign_in_limit: usize,
    pub sign_in_window_secs: i64,
}

impl RegistryConfig {
    pub fn new(location: Location) -> Self {
        RegistryConfig {
            location,
            connections: 4,
            wait: Duration::from_secs(30),
            session_secs: 8 * 3600,
            sign_in_limit: 5,
            sign_in_window_secs: 300,
        }
    }
}

/// The policy decisions are made by, and the treaties it reads.
pub(crate) struct Rules {
    pub(crate) name: String,
    pub(crate) policy: Policy,
    pub(crate) treaties: Treaties,
}

/// The registry's use cases over one store.
pub struct RegistryService {
    store: Registry,
    clock: Arc<dyn Clock>,
    rules: RwLock<Arc<Rules>>,
    limiter: auth::SignInLimiter,
    session_secs: i64,
}

/// The setting that holds an uploaded policy's TOML.
const POLICY_SETTING: &str = "policy";
const POLICY_NAME_SETTING: &str = "policy_name";

impl RegistryService {
    pub fn open(config: &RegistryConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        let store =
            Registry::open(&config.location, Options { connections: config.connections.max(1), wait: config.wait })?;
        let stored = store.read(&koshi_registry::Scope::System, |tx| {
            Ok::<_, AppError>((tx.setting(POLICY_SETTING)?, tx.setting(POLICY_NAME_SETTING)?))
        })?;
        let rules = match stored {
            (Some(text), name) => {
                let name = name.unwrap_or_else(|| "uploaded".to_string());
                cases::parse_rules(&name, &text)?
            }
            (None, _) => cases::shipped_rules("kz")?,
        };
        Ok(RegistryService {
            store,
            clock,
            rules: RwLock::new(Arc::new(rules)),
            limiter: auth::SignInLimiter::new(config.sign_in_limit.max(1), config.sign_in_window_secs.max(1)),
            session_secs: config.session_secs.max(60),
        })
    }

    /// Where the registry is kept (without a password).
    pub fn location(&self) -> String {
        self.store.location()
    }

    pub fn is_postgres(&self) -> bool {
        self.store.is_postgres()
    }

    fn now(&self) -> i64 {
        self.clock.unix_seconds()
    }

    fn today(&self) -> koshi_core::Date {
        day_of(self.now())
    }

    fn rules(&self) -> Arc<Rules> {
        Arc::clone(&self.rules.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

/// The UTC day of a moment in seconds since 1970.
pub(crate) fn day_of(seconds: i64) -> koshi_core::Date {
    koshi_core::Date::from_days_since_epoch(seconds.div_euclid(86_400))
}
