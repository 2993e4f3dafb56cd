//! The foreign-labour quota: the national quota sized from the policy's rate and the labour force
//! of its base year, shared among regions and categories from employers' requests, and two
//! policies compared on the same demand. The rules live in `koshi-rules` (pure: policies as
//! dated data, the decisions, the sizing and the distribution); here they get their inputs — the
//! labour force bundled with koshi, the policy and demand files — and their answers become reports.
//!
//! The labour force is the Bureau of National Statistics series (labour force survey, annual
//! averages, population 15 and older, thousand persons) in `data/bundled/`, compiled in: every
//! computation names the file, the line and the figure as printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use koshi_core::Date;
use koshi_core::validate::fmt_num;
use koshi_rules::{DistributionRules, ParamError, Policy, QuotaError, Treaties, Value};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::error::{AppError, Result};

pub use koshi_rules::quota::{PublishedComparison, SimulationTotals};
pub use koshi_rules::{
    Allocation, Comparison, Demand, DemandItem, Distribution, QuotaComputation, RegionRequest, SHIPPED_POLICIES,
};

/// The bundled labour-force file, as its source published it (`data/bundled/`).
pub const LABOUR_FORCE_FILE: &str = "data/bundled/kz_labour_force_by_region_2001_2025.csv";
const LABOUR_FORCE_CSV: &str = include_str!("../../../data/bundled/kz_labour_force_by_region_2001_2025.csv");

/// The region code of the national rows of the labour-force file.
const NATIONAL: &str = "KZ";

/// Where the labour force comes from, as every computation cites it.
pub const LABOUR_FORCE_CITATION: &str = "Bureau of National Statistics of the Republic of Kazakhstan, labour force \
survey, annual averages, population aged 15 and older, dynamic table «Рабочая сила» \
(https://stat.gov.kz/api/iblock/element/102800/file/ru/, published 2026-03-30); transcribed from \
makenerzhan-gif/kazakhstan-economic-data, data/unified/macro_dims_long.csv @ 118b85dca998148f3cd9de46fa9d9fb81ed0fa9d, \
variable LABOUR_FORCE_BY_REGION, item TOTAL";

/// The terms the labour force is used under.
pub const LABOUR_FORCE_LICENCE: &str = "official statistics of the Bureau of National Statistics (stat.gov.kz); the repository it was transcribed from has no licence file";

/// The most rows a requests table may have.
pub const MAX_REQUEST_ROWS: usize = 100_000;

/// The most applications a simulation runs (each application counted `times` times), for each policy.
pub const MAX_APPLICATIONS: u64 = koshi_rules::quota::MAX_SIMULATED_APPLICATIONS;

/// The largest policy, demand or requests file read.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Policies

/// Which policy: one shipped with koshi, or a file of the user's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyChoice {
    /// One of [`SHIPPED_POLICIES`] by name: `kz`, `sg`, `us_h1b`.
    Shipped(String),
    /// A policy file (TOML), read by the application: a whole policy (with a `[policy]` table,
    /// shaped as the shipped ones), or a variant of a shipped policy (`policy = "kz"` and
    /// `[overrides]` with the `legal`, `params`, `grounds` and `rules` that change).
    File(PathBuf),
}

impl Default for PolicyChoice {
    fn default() -> Self {
        PolicyChoice::Shipped("kz".into())
    }
}

/// The policy a report used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicySummary {
    /// How it was named: a shipped name or a file.
    pub argument: String,
    pub id: String,
    pub title: String,
    /// The shipped policy a variant file starts from.
    pub base: Option<String>,
}

/// The keys a variant file may have at its top level.
const VARIANT_KEYS: [&str; 4] = ["policy", "id", "title", "overrides"];

/// A policy by name or from a file; `field` names the request field in errors.
pub fn load_policy(choice: &PolicyChoice, field: &str) -> Result<(Policy, PolicySummary)> {
    match choice {
        PolicyChoice::Shipped(name) => {
            let policy = shipped(name, field)?;
            let summary = PolicySummary {
                argument: name.clone(),
                id: policy.id.clone(),
                title: policy.title.clone(),
                base: None,
            };
            Ok((policy, summary))
        }
        PolicyChoice::File(path) => {
            let text = read_text(path)?;
            let name = path.display().to_string();
            let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            let (policy, base) = policy_from_text(&name, &stem, &text, field)?;
            let summary = PolicySummary { argument: name, id: policy.id.clone(), title: policy.title.clone(), base };
            Ok((policy, summary))
        }
    }
}

/// A policy from the text of a policy file named `name`: a whole policy, or a variant of a
/// shipped one (then also the base's name). A variant without an `id` is called `BASE~stem`.
pub(crate) fn policy_from_text(name: &str, stem: &str, text: &str, field: &str) -> Result<(Policy, Option<String>)> {
    let invalid = |e: koshi_rules::PolicyError| AppError::invalid(field, e.to_string());
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        AppError::invalid(field, format!("{name}{}: not valid TOML: {}", at_line(text, e.span()), e.message()))
    })?;
    let Some(toml::Value::String(base)) = table.get("policy") else {
        return Ok((koshi_rules::parse_policy(name, text).map_err(invalid)?, None));
    };
    // A variant: the shipped policy with what changes.
    if let Some(unknown) = table.keys().find(|k| !VARIANT_KEYS.contains(&k.as_str())) {
        return Err(AppError::invalid(
            field,
            format!(
                "{name}: unknown key `{unknown}` in a policy variant (it has {}; a whole policy has a [policy] table)",
                VARIANT_KEYS.join(", ")
            ),
        ));
    }
    let text_of = |key: &str| match table.get(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(AppError::invalid(field, format!("{name}: `{key}` must be text"))),
    };
    let (id, title) = (text_of("id")?, text_of("title")?);
    let base_policy = shipped(base, field)?;
    let overrides = match table.get("overrides") {
        None => toml::Table::new(),
        Some(toml::Value::Table(t)) => t.clone(),
        Some(_) => return Err(AppError::invalid(field, format!("{name}: `overrides` must be a table"))),
    };
    let overrides = toml::to_string(&overrides)
        .map_err(|e| AppError::invalid(field, format!("{name}: the overrides cannot be read: {e}")))?;
    let mut policy = base_policy.with_overrides(&format!("{name} [overrides]"), &overrides).map_err(invalid)?;
    policy.id = id.unwrap_or_else(|| format!("{}~{stem}", base_policy.id));
    policy.title = title.unwrap_or_else(|| format!("{} (variant {stem})", base_policy.title));
    Ok((policy, Some(base.clone())))
}

pub(crate) fn shipped(name: &str, field: &str) -> Result<Policy> {
    match koshi_rules::shipped_policy(name) {
        Some(Ok(policy)) => Ok(policy),
        Some(Err(e)) => Err(AppError::invalid(field, e.to_string())),
        None => Err(AppError::NotFound {
            what: "policy",
            id: name.to_string(),
            known: SHIPPED_POLICIES.iter().map(|(n, _)| n.to_string()).collect(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// The labour force

/// One year of the national labour force, as the bundled file prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabourForceSource {
    /// The source's id in the catalogue.
    pub source: String,
    pub citation: String,
    pub licence: String,
    pub file: String,
    /// The line of the file (1 = the header).
    pub line: usize,
    pub year: i32,
    /// The figure as printed, in the file's unit.
    pub printed: String,
    pub unit: String,
}

struct LabourForce {
    /// Persons, by year.
    persons: BTreeMap<i32, f64>,
    /// The line and the printed figure of each year.
    rows: BTreeMap<i32, (usize, String)>,
}

/// The national labour force from the bundled file, read once.
fn labour_force() -> Result<&'static LabourForce> {
    static PARSED: OnceLock<std::result::Result<LabourForce, String>> = OnceLock::new();
    PARSED
        .get_or_init(|| parse_labour_force(LABOUR_FORCE_CSV))
        .as_ref()
        .map_err(|message| AppError::Unanswerable(format!("{LABOUR_FORCE_FILE}: {message}")))
}

fn parse_labour_force(text: &str) -> std::result::Result<LabourForce, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| e.to_string())?.clone();
    let column = |name: &str| header.iter().position(|h| h == name).ok_or(format!("no column `{name}`"));
    let (year, region, lf) = (column("year")?, column("region_code")?, column("labour_force_thousand")?);
    let mut out = LabourForce { persons: BTreeMap::new(), rows: BTreeMap::new() };
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        if record.get(region) != Some(NATIONAL) {
            continue;
        }
        let printed = record.get(lf).unwrap_or("").trim().to_string();
        let y: i32 = record.get(year).unwrap_or("").trim().parse().map_err(|_| format!("line {line}: bad year"))?;
        let thousand: f64 = printed.parse().map_err(|_| format!("line {line}: bad figure `{printed}`"))?;
        out.persons.insert(y, thousand * 1000.0);
        out.rows.insert(y, (line, printed));
    }
    Ok(out)
}

/// The years of the bundled national labour force, as ranges (`2001–2014, 2016–2025`).
fn year_ranges(years: impl IntoIterator<Item = i32>) -> String {
    let mut ranges: Vec<(i32, i32)> = Vec::new();
    for y in years {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == y => *end = y,
            _ => ranges.push((y, y)),
        }
    }
    ranges.iter().map(|(a, b)| if a == b { a.to_string() } else { format!("{a}–{b}") }).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------------------------------------
// koshi quota compute

/// Size the national quota of a year and, given employers' requests, share it among regions
/// and categories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaComputeRequest {
    /// The quota year.
    pub year: i32,
    pub policy: PolicyChoice,
    /// Employers' requested places by region and category; without them only the national
    /// figure is sized.
    pub requests: Option<Vec<RegionRequest>>,
    /// The share kept back for redistribution during the year (0 to 1); by default the
    /// policy's `quota_reserve_share` for the year, or none.
    pub reserve_share: Option<f64>,
}

impl Default for QuotaComputeRequest {
    fn default() -> Self {
        QuotaComputeRequest { year: 2024, policy: PolicyChoice::default(), requests: None, reserve_share: None }
    }
}

/// The national quota, where its figures come from, and its distribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaComputeReport {
    pub policy: PolicySummary,
    /// Rate × labour force of the base year, beside the published figures.
    pub computation: QuotaComputation,
    /// Which year's labour force is the base, and why.
    pub base: String,
    pub labour_force_source: LabourForceSource,
    pub distribution: Option<DistributionReport>,
    pub notes: Vec<String>,
}

/// The national figure shared among the requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DistributionReport {
    pub reserve_share: f64,
    /// Where the reserve share comes from (the request, or the policy with its legal reference).
    pub reserve_share_from: String,
    /// Places requested in all.
    pub requested: u64,
    /// Places allocated in all.
    pub allocated: u64,
    #[serde(flatten)]
    pub distribution: Distribution,
}

impl QuotaComputeRequest {
    fn validate(&self) -> Result<()> {
        if !(1900..=2100).contains(&self.year) {
            return Err(AppError::invalid("year", format!("must be a year from 1900 to 2100, not {}", self.year)));
        }
        if let Some(share) = self.reserve_share
            && !(share.is_finite() && (0.0..1.0).contains(&share))
        {
            return Err(AppError::invalid("reserve_share", format!("must be from 0 to below 1, not {share}")));
        }
        if let Some(requests) = &self.requests {
            check_requests(requests)?;
        }
        Ok(())
    }
}

fn check_requests(requests: &[RegionRequest]) -> Result<()> {
    if requests.len() > MAX_REQUEST_ROWS {
        return Err(AppError::TooLarge(format!(
            "{} requests: at most {MAX_REQUEST_ROWS} rows (MAX_REQUEST_ROWS)",
            requests.len()
        )));
    }
    if let Some((i, _)) =
        requests.iter().enumerate().find(|(_, r)| r.region.trim().is_empty() || r.category.trim().is_empty())
    {
        return Err(AppError::invalid("requests", format!("request {} has no region or no category", i + 1)));
    }
    Ok(())
}

impl App {
    /// The national quota of a year: the policy's rate (`quota_rate`) times the labour force of
    /// the base year (`quota_base_lag` years earlier) from the bundled Bureau of National
    /// Statistics series, beside every published figure (those that are not rate × labour force
    /// are marked so, never forced to match); with requests, its distribution among regions and
    /// categories.
    pub fn quota_compute(&self, request: &QuotaComputeRequest) -> Result<QuotaComputeReport> {
        request.validate()?;
        let (policy, summary) = load_policy(&request.policy, "policy")?;
        let lf = labour_force()?;
        let computation = koshi_rules::compute_quota(&policy, request.year, &lf.persons)
            .map_err(|e| quota_error(e, &policy, request.year, lf))?;
        let date = Date { year: request.year, month: 1, day: 1 };
        let lag = request.year - computation.base_year;
        let base = format!(
            "the labour force of {}, {} before the quota year (parameter quota_base_lag = {lag}{})",
            computation.base_year,
            match lag {
                0 => "the quota year itself, not a year".to_string(),
                1 => "the year".to_string(),
                n => format!("{n} years"),
            },
            if policy.param("quota_base_lag", date).is_ok_and(|p| p.uncertain.is_some()) {
                ", marked uncertain: see the notes"
            } else {
                ""
            }
        );
        let (line, printed) = lf.rows.get(&computation.base_year).cloned().unwrap_or_default();
        let labour_force_source = LabourForceSource {
            source: "KZ_BNS".into(),
            citation: LABOUR_FORCE_CITATION.into(),
            licence: LABOUR_FORCE_LICENCE.into(),
            file: LABOUR_FORCE_FILE.into(),
            line,
            year: computation.base_year,
            printed,
            unit: "thousand persons".into(),
        };
        let mut notes = vec![format!(
            "{} × {} persons (labour force {}, {LABOUR_FORCE_FILE} line {line}) = {}",
            percent(computation.rate),
            fmt_num(computation.labour_force),
            computation.base_year,
            fmt_num(computation.computed)
        )];
        for p in computation.published.iter().filter(|p| !p.rate_based) {
            notes.push(format!(
                "published {} ({}) is not rate × labour force{}",
                fmt_num(p.figure),
                p.label,
                p.note.as_deref().map(|n| format!(": {n}")).unwrap_or_default()
            ));
        }
        if computation.published.is_empty() {
            notes.push(format!("the policy lists no published figure for {}", request.year));
        }
        notes.extend(computation.uncertain.iter().map(|u| format!("uncertain: {u}")));
        let distribution = match &request.requests {
            None => None,
            Some(requests) => {
                let (reserve_share, reserve_share_from) = match request.reserve_share {
                    Some(share) => (share, "the request".to_string()),
                    None => match policy.param("quota_reserve_share", date) {
                        Ok(p) => {
                            let share = p.value.as_number().filter(|s| s.is_finite() && (0.0..1.0).contains(s));
                            let Some(share) = share else {
                                return Err(AppError::invalid(
                                    "policy",
                                    format!(
                                        "{}: quota_reserve_share is not a share from 0 to below 1",
                                        summary.argument
                                    ),
                                ));
                            };
                            let mut from = format!("the policy's quota_reserve_share, {}", p.legal);
                            if let Some(u) = &p.uncertain {
                                from.push_str(&format!("; uncertain: {u}"));
                            }
                            (share, from)
                        }
                        Err(_) => (0.0, "none: the policy has no quota_reserve_share for the year".to_string()),
                    },
                };
                let national = computation.computed.max(0.0) as u64;
                let d = koshi_rules::distribute(national, requests, DistributionRules { reserve_share });
                let requested = d.allocations.iter().map(|a| a.requested).fold(0u64, u64::saturating_add);
                let allocated = d.allocations.iter().map(|a| a.allocated).sum();
                notes.push(format!(
                    "distributed: {} of the {} places requested; {} kept in reserve ({}%: {reserve_share_from})",
                    fmt_num(allocated as f64),
                    fmt_num(requested as f64),
                    fmt_num(d.reserve as f64),
                    reserve_share * 100.0
                ));
                notes.push(format!("method: {}", d.method));
                Some(DistributionReport { reserve_share, reserve_share_from, requested, allocated, distribution: d })
            }
        };
        notes.push(format!("labour force: {LABOUR_FORCE_CITATION}"));
        Ok(QuotaComputeReport { policy: summary, computation, base, labour_force_source, distribution, notes })
    }
}

fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    let text = format!("{p:.4}");
    format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
}

/// The sizing failure said with what would answer it.
fn quota_error(e: QuotaError, policy: &Policy, year: i32, lf: &LabourForce) -> AppError {
    match e {
        QuotaError::NoLabourForce { year, base_year } => AppError::Unanswerable(format!(
            "no national labour force for {base_year}, the base of the {year} quota, in {LABOUR_FORCE_FILE}: it has {}{}",
            year_ranges(lf.persons.keys().copied()),
            if base_year == 2015 { " (the source's series lacks 2015)" } else { "" }
        )),
        QuotaError::Param(ParamError::Unknown { param }) => AppError::Unanswerable(format!(
            "policy {} has no parameter `{param}`: it does not size its quota from the labour force",
            policy.id
        )),
        QuotaError::Param(ParamError::NoValue { param, .. }) => {
            let with_rate = (1990..=2100).filter(|y| {
                policy
                    .param(&param, Date { year: *y, month: 1, day: 1 })
                    .is_ok_and(|p| matches!(p.value, Value::Number(_)))
            });
            AppError::Unanswerable(format!(
                "policy {} has no `{param}` in force in {year}; it has one for {}",
                policy.id,
                year_ranges(with_rate)
            ))
        }
        other => AppError::invalid("policy", format!("{}: {other}", policy.id)),
    }
}

// ---------------------------------------------------------------------------------------------
// koshi quota simulate

/// Two policies compared on the same demand: the same applications, in the same order, each
/// policy with its own copy of the quota.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaSimulateRequest {
    pub policy_a: PolicyChoice,
    pub policy_b: PolicyChoice,
    pub demand: Demand,
    /// The day the applications are decided (`YYYY-MM-DD`); by default the demand's own date,
    /// else today.
    pub date: Option<String>,
}

/// What each policy made of the demand, and the differences line by line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaSimulateReport {
    pub date: Date,
    /// Applications decided under each policy.
    pub applications: u64,
    pub policy_a: PolicySummary,
    pub policy_b: PolicySummary,
    pub comparison: Comparison,
    /// Every figure of both policies side by side: permits by region/category, exempt,
    /// refused, undetermined, refusals by ground, fees.
    pub rows: Vec<SimulationRow>,
    pub notes: Vec<String>,
}

/// One figure of both policies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimulationRow {
    /// `permits`, `exempt`, `refused`, `undetermined`, `refusals`, `fees`.
    pub measure: String,
    /// The region/category of permits, the ground of refusals, the currency of fees.
    pub key: String,
    pub a: f64,
    pub b: f64,
    /// b − a.
    pub difference: f64,
    /// The ground's wording (refusals), in English.
    pub label: String,
}

impl App {
    /// Runs the same demand through two policies and compares the permits granted by region and
    /// category, the exemptions, the refusals by ground and the fees.
    pub fn quota_simulate(&self, request: &QuotaSimulateRequest) -> Result<QuotaSimulateReport> {
        let applications =
            request.demand.items.iter().map(|i| u64::from(i.times.max(1))).fold(0u64, u64::saturating_add);
        if applications > MAX_APPLICATIONS {
            return Err(AppError::TooLarge(format!(
                "the demand makes {applications} applications: at most {MAX_APPLICATIONS} are simulated (MAX_APPLICATIONS)"
            )));
        }
        let date = match &request.date {
            Some(text) => Date::parse_loose(text)
                .map_err(|e| AppError::invalid("date", format!("`{text}` is not a date YYYY-MM-DD: {e}")))?,
            None => request.demand.date.unwrap_or_else(|| self.today()),
        };
        let (a, summary_a) = load_policy(&request.policy_a, "policy_a")?;
        let (b, summary_b) = load_policy(&request.policy_b, "policy_b")?;
        let treaties =
            Treaties::standard().map_err(|e| AppError::Unanswerable(format!("the shipped treaties: {e}")))?;
        // The request's date decides; the demand's own date only when the request gives none.
        let demand = Demand { date: Some(date), ..request.demand.clone() };
        let comparison = koshi_rules::simulate(&a, &b, &treaties, &demand, date);
        let rows = comparison_rows(&comparison, &a, &b);
        let mut notes = vec![
            format!("A = {} ({}: {})", summary_a.argument, summary_a.id, summary_a.title),
            format!("B = {} ({}: {})", summary_b.argument, summary_b.id, summary_b.title),
            format!(
                "{applications} applications decided on {date} under each policy, in the demand's order, each policy \
consuming its own copy of the quota"
            ),
        ];
        if a.currency != b.currency {
            notes.push(format!("fees are in different currencies: {} (A), {} (B)", a.currency, b.currency));
        }
        Ok(QuotaSimulateReport {
            date,
            applications,
            policy_a: summary_a,
            policy_b: summary_b,
            comparison,
            rows,
            notes,
        })
    }
}

fn comparison_rows(c: &Comparison, a: &Policy, b: &Policy) -> Vec<SimulationRow> {
    let row = |measure: &str, key: &str, x: f64, y: f64, label: String| SimulationRow {
        measure: measure.into(),
        key: key.into(),
        a: x,
        b: y,
        difference: y - x,
        label,
    };
    let mut rows = Vec::new();
    let mut cells: Vec<&String> = c.a.permits.keys().chain(c.b.permits.keys()).collect();
    cells.sort();
    cells.dedup();
    for cell in cells {
        let (x, y) = (c.a.permits.get(cell).copied().unwrap_or(0), c.b.permits.get(cell).copied().unwrap_or(0));
        rows.push(row("permits", cell, x as f64, y as f64, String::new()));
    }
    let total = |t: &SimulationTotals| t.permits.values().sum::<u64>() as f64;
    rows.push(row("permits", "total", total(&c.a), total(&c.b), "workers under permits granted".into()));
    rows.push(row(
        "exempt",
        "",
        c.a.exempt as f64,
        c.b.exempt as f64,
        "applications outside the quota and permits".into(),
    ));
    rows.push(row("refused", "", c.a.refused as f64, c.b.refused as f64, "applications refused".into()));
    if c.a.undetermined + c.b.undetermined > 0 {
        rows.push(row(
            "undetermined",
            "",
            c.a.undetermined as f64,
            c.b.undetermined as f64,
            "a parameter needed has no value on the date".into(),
        ));
    }
    let mut grounds: Vec<&String> = c.a.refusals_by_ground.keys().chain(c.b.refusals_by_ground.keys()).collect();
    grounds.sort();
    grounds.dedup();
    for ground in grounds {
        let label =
            a.grounds.get(ground).or_else(|| b.grounds.get(ground)).map(|g| g.text.en.clone()).unwrap_or_default();
        let (x, y) = (
            c.a.refusals_by_ground.get(ground).copied().unwrap_or(0),
            c.b.refusals_by_ground.get(ground).copied().unwrap_or(0),
        );
        rows.push(row("refusals", ground, x as f64, y as f64, label));
    }
    let currency = if a.currency == b.currency { a.currency.clone() } else { format!("{}/{}", a.currency, b.currency) };
    rows.push(row("fees", &currency, c.a.fees, c.b.fees, "one-off fees of the permits granted".into()));
    rows
}

// ---------------------------------------------------------------------------------------------
// Reading the files

fn read_text(path: &Path) -> Result<String> {
    let file_error = |source: std::io::Error| AppError::File { path: path.display().to_string(), source };
    let size = std::fs::metadata(path).map_err(file_error)?.len();
    if size > MAX_INPUT_BYTES {
        return Err(AppError::TooLarge(format!(
            "{}: {size} bytes; at most {MAX_INPUT_BYTES} are read (MAX_INPUT_BYTES)",
            path.display()
        )));
    }
    std::fs::read_to_string(path).map_err(file_error)
}

/// The line (from 1) of a byte offset of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// `, line N` for a byte span of `text`.
fn at_line(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    span.map(|s| format!(", line {}", line_of(text, s.start))).unwrap_or_default()
}

/// Whether `text` starts like a TOML date (`2025-03-01`).
fn looks_like_date(text: &str) -> bool {
    let b = text.trim_start().as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

/// A demand file (the request field `demand`): JSON when its name ends in `.json`, TOML otherwise.
pub fn read_demand(path: &Path) -> Result<Demand> {
    let text = read_text(path)?;
    let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    parse_demand(&path.display().to_string(), &text, json)
}

/// A demand from its text; errors name `name` and the line.
pub fn parse_demand(name: &str, text: &str, json: bool) -> Result<Demand> {
    if json {
        return serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            let message = message.rfind(" at line ").map(|i| message[..i].to_string()).unwrap_or(message);
            AppError::invalid("demand", format!("{name}, line {}, column {}: {message}", e.line(), e.column()))
        });
    }
    toml::from_str(text).map_err(|e: toml::de::Error| {
        let mut message = e.message().trim().to_string();
        if e.span().is_some_and(|s| text.get(s).is_some_and(looks_like_date)) {
            message = "a date is written as text here, in quotes: \"2025-03-01\"".into();
        }
        AppError::invalid("demand", format!("{name}{}: {message}", at_line(text, e.span())))
    })
}

/// Employers' requests (the request field `requests`): a CSV file with the columns
/// `region,category,places` (lines starting with `#` are comments).
pub fn read_requests(path: &Path) -> Result<Vec<RegionRequest>> {
    let text = read_text(path)?;
    parse_requests(&path.display().to_string(), &text)
}

/// Requests from CSV text; errors name `name` and the line.
pub fn parse_requests(name: &str, text: &str) -> Result<Vec<RegionRequest>> {
    let bad = |line: u64, message: String| AppError::invalid("requests", format!("{name}, line {line}: {message}"));
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).comment(Some(b'#')).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| bad(1, e.to_string()))?.clone();
    let header_line = reader.position().line().saturating_sub(1).max(1);
    for column in ["region", "category", "places"] {
        if !header.iter().any(|h| h == column) {
            return Err(bad(
                header_line,
                format!("no column `{column}`: the header names region, category and places"),
            ));
        }
    }
    let mut out = Vec::new();
    for record in reader.deserialize::<RegionRequest>() {
        let request = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            let message = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => match err.field() {
                    Some(i) => format!("column `{}`: {}", header.get(i as usize).unwrap_or("?"), err.kind()),
                    None => err.kind().to_string(),
                },
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                    format!("{len} fields where the header has {expected_len}")
                }
                _ => e.to_string(),
            };
            bad(line, message)
        })?;
        out.push(request);
        if out.len() > MAX_REQUEST_ROWS {
            return Err(AppError::TooLarge(format!("{name}: more than {MAX_REQUEST_ROWS} rows (MAX_REQUEST_ROWS)")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_labour_force_reads_with_its_lines() {
        let lf = labour_force().unwrap();
        assert_eq!(lf.persons.get(&2020).copied(), Some(9_180_845.0));
        assert!(!lf.persons.contains_key(&2015), "2015 is missing from the source");
        let (line, printed) = &lf.rows[&2022];
        assert_eq!(printed, "9429.809");
        assert_eq!(LABOUR_FORCE_CSV.lines().nth(line - 1).map(|l| l.starts_with("2022,KZ,")), Some(true));
        assert_eq!(year_ranges(lf.persons.keys().copied()), "2001–2014, 2016–2025");
    }

    #[test]
    fn percentages_print_without_trailing_zeros() {
        assert_eq!(percent(0.0023), "0.23%");
        assert_eq!(percent(0.007), "0.7%");
        assert_eq!(percent(0.0075), "0.75%");
    }
}
