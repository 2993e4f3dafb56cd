//! The rules of foreign-labour quotas and work permits, as data, and an engine that applies them.
//! Pure: no files, database, network or clock; policies come in as text, the date and the quota
//! state as arguments.
//!
//! # The model
//!
//! * A [`Policy`] is read from TOML ([`parse_policy`]). Every **parameter** is a list of dated
//!   values: an effective period (`from`, optional `to`), a legal reference (act, article,
//!   address) and, where the sources do not settle it, an `uncertain = "why"` mark that every
//!   decision using it repeats. **Refusal grounds** carry their wording in English, Russian and
//!   Kazakh. **Rules** are instances of a small library of rule kinds ([`RuleKind`]: exemption,
//!   required finding, ban after a violation, overdue obligation, quota availability, minimum
//!   local share, maximum foreign share with sub-quotas, validity and extensions, fee table,
//!   tiered levy, obligation, deadline, weighted lottery), parameterised by parameter names, each
//!   with its own period, conditions (`when`), refusal ground and, when a treaty creates it, the
//!   treaty's id. Kazakhstan, Singapore and the US H-1B cap are three policy files of the same
//!   engine ([`shipped_policy`]).
//! * A [`Treaties`] registry says which agreements are in force on a date and which states they
//!   bind (accessions included); a rule that names a treaty is skipped, with the reason, while the
//!   treaty is not in force.
//! * [`decide`] applies the rules in order to a [`Request`] and its [`Facts`] on a date. An
//!   exemption ends the evaluation; otherwise every rule is applied so that a refusal lists every
//!   ground. The [`Decision`] has the outcome, the permit's term, fees, deadlines, what quota cells
//!   a grant would consume (the engine never changes the quota state: the registry consumes it in
//!   the transaction that records the decision), each rule's figures in three languages with its
//!   legal ground, and a summary.
//! * [`compute_quota`] sizes a national quota from the rate and the labour force of the base year
//!   and puts the published figures beside it; [`distribute`] shares it among regions and
//!   categories (pro rata to requests with largest remainders and a reserve: the project's
//!   assumption, the official formula having not been found); [`simulate`] runs one demand
//!   through two policies; [`draw`] is the seeded weighted lottery.
//!
//! The rules whose sources are uncertain are listed in `RULES.md`.

pub mod engine;
pub mod lottery;
pub mod policy;
pub mod quota;
pub mod text;
pub mod treaty;

pub use engine::{
    Consumption, Decision, Employer, Facts, LabourMarket, ObligationState, Outcome, Permit, QuotaCell, QuotaState,
    Refusal, Request, RequestKind, StaffGroup, Step, StepStatus, Violation, add_business_days, add_months, decide,
};
pub use koshi_core::Date;
pub use lottery::{LotteryEntry, LotteryResult, SeededRandom, draw};
pub use policy::{
    Dated, LegalRef, ParamError, Parameter, Policy, PolicyError, Problem, Rule, RuleKind, Value, parse_policy,
};
pub use quota::{
    Allocation, Comparison, Demand, DemandItem, Distribution, DistributionRules, QuotaComputation, QuotaError,
    RegionRequest, compute_quota, distribute, simulate,
};
pub use text::Text;
pub use treaty::{Party, Treaties, Treaty, parse_treaties};

/// The policy files compiled into the crate: (name, text).
pub const SHIPPED_POLICIES: &[(&str, &str)] = &[
    ("kz", include_str!("../policies/kz.toml")),
    ("sg", include_str!("../policies/sg.toml")),
    ("us_h1b", include_str!("../policies/us_h1b.toml")),
];

/// A shipped policy by name (`kz`, `sg`, `us_h1b`), parsed; `None` for an unknown name.
pub fn shipped_policy(name: &str) -> Option<Result<Policy, PolicyError>> {
    SHIPPED_POLICIES.iter().find(|(n, _)| *n == name).map(|(n, text)| parse_policy(&format!("{n}.toml"), text))
}
