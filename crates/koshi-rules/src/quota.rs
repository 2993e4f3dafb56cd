//! Sizing the national quota from a rate and the labour force, distributing it among regions and
//! categories, and comparing two policies on the same demand.

use std::collections::BTreeMap;

use koshi_core::Date;
use serde::{Deserialize, Serialize};

use crate::engine::{Facts, Outcome, QuotaState, Request, decide};
use crate::policy::{LegalRef, ParamError, Policy, Value};
use crate::treaty::Treaties;

/// One published national figure for a year and whether it is meant to be rate × labour force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedComparison {
    pub figure: f64,
    pub label: String,
    /// False where the source's figure is not rate × labour force (another line or basis).
    pub rate_based: bool,
    /// (computed − published) / published, in percent.
    pub gap_percent: f64,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaComputation {
    pub year: i32,
    pub rate: f64,
    /// The year whose labour force is the base.
    pub base_year: i32,
    pub labour_force: f64,
    pub computed: f64,
    pub published: Vec<PublishedComparison>,
    pub legal: LegalRef,
    pub uncertain: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QuotaError {
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("no labour force is given for {base_year}, the base of the {year} quota")]
    NoLabourForce { year: i32, base_year: i32 },
    #[error("parameter `{param}`: {message}")]
    Shape { param: String, message: String },
}

/// Parameters of quota sizing read from the policy: `quota_rate` (share of the labour force),
/// `quota_base_lag` (how many years before the quota year the base labour force is) and
/// `quota_published` (the figures as published: `[{ figure, label, rate_based, note }]`).
pub fn compute_quota(
    policy: &Policy,
    year: i32,
    labour_force: &BTreeMap<i32, f64>,
) -> Result<QuotaComputation, QuotaError> {
    let date = Date { year, month: 1, day: 1 };
    let rate = policy.param("quota_rate", date)?;
    let rate_value = rate
        .value
        .as_number()
        .ok_or(QuotaError::Shape { param: "quota_rate".into(), message: "expected a number".into() })?;
    let lag = policy.param("quota_base_lag", date)?;
    let lag_value = lag
        .value
        .as_number()
        .ok_or(QuotaError::Shape { param: "quota_base_lag".into(), message: "expected a number".into() })?;
    let base_year = year - lag_value as i32;
    let lf = *labour_force.get(&base_year).ok_or(QuotaError::NoLabourForce { year, base_year })?;
    let computed = (rate_value * lf).round();
    let mut uncertain: Vec<String> = rate.uncertain.iter().chain(lag.uncertain.iter()).cloned().collect();
    let mut published = Vec::new();
    if let Ok(p) = policy.param("quota_published", date) {
        uncertain.extend(p.uncertain.iter().cloned());
        for item in p.value.as_list().unwrap_or(&[]) {
            let get = |k: &str| item.lookup(&[k.to_string()]);
            let Some(figure) = get("figure").and_then(Value::as_number) else { continue };
            let label = get("label").map(|v| v.texts().join(" ")).unwrap_or_default();
            let rate_based = get("rate_based").and_then(Value::as_bool).unwrap_or(true);
            let note = get("note").map(|v| v.texts().join(" "));
            let gap_percent = if figure == 0.0 { 0.0 } else { 100.0 * (computed - figure) / figure };
            published.push(PublishedComparison { figure, label, rate_based, gap_percent, note });
        }
    }
    Ok(QuotaComputation {
        year,
        rate: rate_value,
        base_year,
        labour_force: lf,
        computed,
        published,
        legal: rate.legal.clone(),
        uncertain,
    })
}

/// Employers' requested places in one region and category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionRequest {
    pub region: String,
    pub category: String,
    pub places: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Allocation {
    pub region: String,
    pub category: String,
    pub requested: u64,
    pub allocated: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DistributionRules {
    /// Share of the national quota kept back for redistribution during the year.
    pub reserve_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    pub national: u64,
    pub reserve: u64,
    pub allocations: Vec<Allocation>,
    pub method: String,
}

/// The method's statement, carried with every distribution.
pub const DISTRIBUTION_METHOD: &str = "project assumption (the official formula was not found): a reserve is kept back, \
     the rest shared pro rata to employers' requests by region and category, whole places by largest remainder \
     (ties to the earlier region and category), never more than requested; what is not requested joins the reserve";

/// Shares `national` places among the requests, keeping a reserve. Never allocates more than the
/// national figure nor more than a cell requested.
pub fn distribute(national: u64, requests: &[RegionRequest], rules: DistributionRules) -> Distribution {
    let share = if rules.reserve_share.is_finite() { rules.reserve_share.clamp(0.0, 1.0) } else { 0.0 };
    let mut reserve = ((national as f64) * share).floor() as u64;
    let available = national - reserve.min(national);
    let mut merged: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in requests {
        let cell = merged.entry((r.region.clone(), r.category.clone())).or_insert(0);
        *cell = cell.saturating_add(r.places);
    }
    let total: u128 = merged.values().map(|&p| u128::from(p)).sum();
    let mut allocations: Vec<Allocation> = merged
        .iter()
        .map(|((region, category), &requested)| Allocation {
            region: region.clone(),
            category: category.clone(),
            requested,
            allocated: 0,
        })
        .collect();
    if total <= u128::from(available) {
        for a in &mut allocations {
            a.allocated = a.requested;
        }
    } else {
        // Exact integer shares: floor(available × requested / total), then the remainders.
        let mut remainders: Vec<(u128, usize)> = Vec::new();
        let mut given: u64 = 0;
        for (i, a) in allocations.iter_mut().enumerate() {
            let product = u128::from(available) * u128::from(a.requested);
            // `total` exceeds `available` here, so it is not zero.
            a.allocated = product.checked_div(total).unwrap_or(0) as u64;
            given += a.allocated;
            remainders.push((product.checked_rem(total).unwrap_or(0), i));
        }
        remainders.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
        let mut left = available - given;
        for (_, i) in remainders {
            if left == 0 {
                break;
            }
            if allocations[i].allocated < allocations[i].requested {
                allocations[i].allocated += 1;
                left -= 1;
            }
        }
    }
    let allocated: u64 = allocations.iter().map(|a| a.allocated).sum();
    reserve += available - allocated;
    Distribution { national, reserve, allocations, method: DISTRIBUTION_METHOD.to_string() }
}

/// One application of the demand, repeated `times`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DemandItem {
    pub request: Request,
    pub facts: Facts,
    pub times: u32,
}

/// Applications in the order they arrive, and the quota each policy starts from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Demand {
    pub date: Option<Date>,
    pub quota: QuotaState,
    pub items: Vec<DemandItem>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SimulationTotals {
    pub policy: String,
    /// Permits granted by "region/category".
    pub permits: BTreeMap<String, u64>,
    pub exempt: u64,
    pub refused: u64,
    pub undetermined: u64,
    pub refusals_by_ground: BTreeMap<String, u64>,
    pub fees: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub a: SimulationTotals,
    pub b: SimulationTotals,
}

/// The most applications a simulation runs, so a demand file cannot make it run for ever.
pub const MAX_SIMULATED_APPLICATIONS: u64 = 1_000_000;

/// Runs the same demand through two policies, each with its own copy of the quota, consuming
/// places as grants are made.
pub fn simulate(policy_a: &Policy, policy_b: &Policy, treaties: &Treaties, demand: &Demand, date: Date) -> Comparison {
    Comparison { a: run(policy_a, treaties, demand, date), b: run(policy_b, treaties, demand, date) }
}

fn run(policy: &Policy, treaties: &Treaties, demand: &Demand, date: Date) -> SimulationTotals {
    let date = demand.date.unwrap_or(date);
    let mut quota = demand.quota.clone();
    let mut totals = SimulationTotals { policy: policy.id.clone(), ..Default::default() };
    let mut done: u64 = 0;
    for item in &demand.items {
        for _ in 0..item.times.max(1) {
            if done >= MAX_SIMULATED_APPLICATIONS {
                return totals;
            }
            done += 1;
            let facts = Facts { quota: quota.clone(), ..item.facts.clone() };
            let decision = decide(policy, treaties, &item.request, &facts, date);
            match decision.outcome {
                Outcome::Granted | Outcome::Lottery => {
                    let regions = if item.request.regions.is_empty() {
                        vec!["*".to_string()]
                    } else {
                        item.request.regions.clone()
                    };
                    for region in regions {
                        *totals.permits.entry(format!("{region}/{}", item.request.category)).or_insert(0) +=
                            item.request.workers();
                    }
                    totals.fees += decision.fee_total;
                    quota.consume(&decision.consumes);
                }
                Outcome::Exempt => totals.exempt += 1,
                Outcome::Refused => {
                    totals.refused += 1;
                    for ground in decision.ground_ids() {
                        *totals.refusals_by_ground.entry(ground.to_string()).or_insert(0) += 1;
                    }
                }
                Outcome::Undetermined => totals.undetermined += 1,
            }
        }
    }
    totals
}
