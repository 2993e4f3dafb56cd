//! A policy as dated data, read from TOML text: parameters whose every value has an effective
//! period, a legal reference and, where the sources are not sure, an `uncertain` mark; refusal
//! grounds with their wording; and the ordered rules, each an instance of a rule kind of the
//! library in [`RuleKind`] parameterised by the parameters' names.
//!
//! ```toml
//! [policy]
//! id = "KZ"
//! title = "Kazakhstan: foreign-labour quota and work permits"
//! currency = "KZT"
//! local_label = { en = "Kazakh", ru = "граждане Казахстана", kk = "Қазақстан азаматтары" }
//!
//! [legal.order279]
//! act = "MLSP Order No. 279 of 30.06.2023"
//! address = "https://adilet.zan.kz/eng/docs/V2300032977"
//!
//! [[params.min_local_share_1_2]]
//! from = 2012-03-11
//! value = 0.70
//! legal = { ref = "order279", article = "para 16" }
//!
//! [grounds.4]
//! legal = { ref = "order279", article = "para 16" }
//! en = "the conditions of Kazakhstani content in personnel are not met"
//! ru = "…"
//! kk = "…"
//!
//! [[rules]]
//! id = "LOCAL_CONTENT_1_2"
//! kind = "min_local_share"
//! categories = ["1", "2"]
//! min_share = "min_local_share_1_2"
//! ground = "4"
//! legal = { ref = "order279", article = "para 16" }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use koshi_core::Date;
use serde::Serialize;

use crate::text::Text;

/// Where a value comes from in law.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LegalRef {
    pub act: String,
    pub article: String,
    pub address: String,
}

impl fmt::Display for LegalRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.act)?;
        if !self.article.is_empty() {
            write!(f, ", {}", self.article)?;
        }
        if !self.address.is_empty() {
            write!(f, " ({})", self.address)?;
        }
        Ok(())
    }
}

/// A parameter value as the policy file writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Number(f64),
    Text(String),
    Bool(bool),
    List(Vec<Value>),
    Table(BTreeMap<String, Value>),
}

impl Value {
    pub fn as_number(&self) -> Option<f64> {
        if let Value::Number(n) = self { Some(*n) } else { None }
    }
    pub fn as_bool(&self) -> Option<bool> {
        if let Value::Bool(b) = self { Some(*b) } else { None }
    }
    pub fn as_table(&self) -> Option<&BTreeMap<String, Value>> {
        if let Value::Table(t) = self { Some(t) } else { None }
    }
    pub fn as_list(&self) -> Option<&[Value]> {
        if let Value::List(l) = self { Some(l) } else { None }
    }
    /// The texts of a list of texts (other items are skipped).
    pub fn texts(&self) -> Vec<String> {
        match self {
            Value::List(items) => {
                items.iter().filter_map(|v| if let Value::Text(t) = v { Some(t.clone()) } else { None }).collect()
            }
            Value::Text(t) => vec![t.clone()],
            _ => Vec::new(),
        }
    }
    /// Walks nested tables by keys: `fee[activity_group][category]`.
    pub fn lookup(&self, keys: &[String]) -> Option<&Value> {
        let mut here = self;
        for key in keys {
            here = here.as_table()?.get(key)?;
        }
        Some(here)
    }
    fn kind(&self) -> &'static str {
        match self {
            Value::Number(_) => "a number",
            Value::Text(_) => "text",
            Value::Bool(_) => "a boolean",
            Value::List(_) => "a list",
            Value::Table(_) => "a table",
        }
    }
}

/// A value with its effective period (both ends inclusive), legal reference and certainty.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dated<T> {
    pub from: Date,
    pub to: Option<Date>,
    pub value: T,
    pub legal: LegalRef,
    /// Why the sources do not settle this value; `None` when they do.
    pub uncertain: Option<String>,
    pub note: Option<String>,
}

impl<T> Dated<T> {
    pub fn covers(&self, date: Date) -> bool {
        self.from <= date && self.to.is_none_or(|to| date <= to)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    pub id: String,
    pub values: Vec<Dated<Value>>,
}

impl Parameter {
    /// The last day the parameter has a value for, when every value ends (a yearly figure set by
    /// each year's law, say); `None` when one is open-ended.
    pub fn known_until(&self) -> Option<Date> {
        if self.values.iter().any(|v| v.to.is_none()) {
            return None;
        }
        self.values.iter().filter_map(|v| v.to).max()
    }

    /// The value in force on `date`; when periods overlap the one that started last wins.
    pub fn on(&self, date: Date) -> Option<&Dated<Value>> {
        self.values.iter().filter(|v| v.covers(date)).max_by_key(|v| v.from)
    }
}

/// A refusal ground and its wording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ground {
    pub id: String,
    pub text: Text,
    pub legal: LegalRef,
}

/// Which people a ratio counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StaffFilter {
    /// `Some(true)`: citizens only; `Some(false)`: foreigners only.
    pub local: Option<bool>,
    pub categories: Option<Vec<String>>,
    pub passes: Option<Vec<String>>,
    pub nationalities: Option<Vec<String>>,
    pub ict: Option<bool>,
    /// Only nationals of the employer's investor country.
    pub investor_nationals: bool,
}

/// When a rule applies; every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Condition {
    pub categories: Option<Vec<String>>,
    pub passes: Option<Vec<String>>,
    pub request_kinds: Option<Vec<String>>,
    pub nationalities: Option<Vec<String>>,
    pub employer_kinds: Option<Vec<String>>,
    pub sectors: Option<Vec<String>>,
    pub ict: Option<bool>,
    pub statuses_any: Option<Vec<String>>,
    pub statuses_none: Option<Vec<String>>,
    /// The worker is a national of the employer's investor country.
    pub investor_national: Option<bool>,
}

/// What a keyed parameter table is indexed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Selector {
    Category,
    ActivityGroup,
    Sector,
    Pass,
    WageLevel,
    Nationality,
    EmployerKind,
}

impl Selector {
    fn parse(text: &str) -> Option<Selector> {
        Some(match text {
            "category" => Selector::Category,
            "activity_group" => Selector::ActivityGroup,
            "sector" => Selector::Sector,
            "pass" => Selector::Pass,
            "wage_level" => Selector::WageLevel,
            "nationality" => Selector::Nationality,
            "employer_kind" => Selector::EmployerKind,
            _ => return None,
        })
    }
}

/// What a maximum share is a share of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareBase {
    /// counted ≤ share × everyone the base filter selects (the new worker included).
    Total,
    /// counted ≤ share × the citizens the base filter selects.
    Local,
}

/// The library of rule kinds. Fields that name parameters hold the parameter's id.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleKind {
    /// No quota, permit or ratio for the listed nationalities (parties of the rule's treaty on the
    /// date, when it names one) or for workers with one of the listed statuses.
    Exemption { nationalities: Option<String>, statuses: Option<String>, scope: Option<Text> },
    /// A fact of the request must hold (`documents_authentic`, `qualification_met`).
    RequiredFact { fact: String },
    /// No new permits for `months` after an established violation of a listed kind.
    BanAfterViolation { violations: String, months: String },
    /// Refused while an obligation of this kind is overdue and unmet.
    OverdueObligation { obligation: String },
    /// A place must be left in every matching cell of the quota line (each region of the request).
    QuotaAvailable { line: String },
    /// Citizens ≥ min_share of the staff in the categories (the new worker counted).
    MinLocalShare {
        categories: Vec<String>,
        min_share: String,
        waiver_employer_kinds: Vec<String>,
        waiver_headcount: Option<String>,
        outstaffed_counted: Option<String>,
    },
    /// counted ≤ share × base: dependency ceilings, sub-quotas, ICT ratios, investor-country caps.
    MaxForeignShare {
        share: String,
        keyed_by: Vec<Selector>,
        base: ShareBase,
        base_filter: StaffFilter,
        counted: StaffFilter,
        label: Option<Text>,
    },
    /// Initial terms and extension limits by category.
    Validity { table: String },
    /// A fee: an amount (or a multiplier of a unit such as the MCI) looked up by the selectors.
    Fee { amounts: String, unit: Option<String>, keyed_by: Vec<Selector>, per_region: bool, monthly: bool, label: Text },
    /// A monthly levy whose tier depends on the foreign share after the hire.
    TieredLevy { tiers: String, keyed_by: Vec<Selector>, counted: StaffFilter, label: Text },
    /// An obligation created by a grant, due `months` after the decision.
    Obligation { obligation: String, months: String, label: Text },
    /// Something to do within a number of business days of the decision.
    Deadline { business_days: String, label: Text },
    /// The labour-market test: refused when the adopted shortage list gives the occupation in
    /// the region a status listed in `statuses` and at least `min_seekers` local job seekers are
    /// registered for it.
    LabourMarketTest { statuses: String, min_seekers: String },
    /// The request enters a weighted selection; the weight is looked up by the selectors.
    WeightedLottery { weights: String, keyed_by: Vec<Selector>, cap: String },
}

impl RuleKind {
    pub fn name(&self) -> &'static str {
        match self {
            RuleKind::Exemption { .. } => "exemption",
            RuleKind::RequiredFact { .. } => "required_fact",
            RuleKind::BanAfterViolation { .. } => "ban_after_violation",
            RuleKind::OverdueObligation { .. } => "overdue_obligation",
            RuleKind::QuotaAvailable { .. } => "quota_available",
            RuleKind::MinLocalShare { .. } => "min_local_share",
            RuleKind::MaxForeignShare { .. } => "max_foreign_share",
            RuleKind::Validity { .. } => "validity",
            RuleKind::Fee { .. } => "fee",
            RuleKind::TieredLevy { .. } => "tiered_levy",
            RuleKind::Obligation { .. } => "obligation",
            RuleKind::Deadline { .. } => "deadline",
            RuleKind::WeightedLottery { .. } => "weighted_lottery",
            RuleKind::LabourMarketTest { .. } => "labour_market_test",
        }
    }

    /// The parameters a rule of this kind reads.
    fn parameters(&self) -> Vec<&str> {
        match self {
            RuleKind::Exemption { nationalities, statuses, .. } => {
                nationalities.iter().chain(statuses.iter()).map(String::as_str).collect()
            }
            RuleKind::RequiredFact { .. } | RuleKind::OverdueObligation { .. } | RuleKind::QuotaAvailable { .. } => {
                Vec::new()
            }
            RuleKind::BanAfterViolation { violations, months } => vec![violations, months],
            RuleKind::MinLocalShare { min_share, waiver_headcount, outstaffed_counted, .. } => {
                let mut all = vec![min_share.as_str()];
                all.extend(waiver_headcount.iter().chain(outstaffed_counted.iter()).map(String::as_str));
                all
            }
            RuleKind::MaxForeignShare { share, .. } => vec![share],
            RuleKind::Validity { table } => vec![table],
            RuleKind::Fee { amounts, unit, .. } => {
                let mut all = vec![amounts.as_str()];
                all.extend(unit.iter().map(String::as_str));
                all
            }
            RuleKind::TieredLevy { tiers, .. } => vec![tiers],
            RuleKind::Obligation { months, .. } => vec![months],
            RuleKind::Deadline { business_days, .. } => vec![business_days],
            RuleKind::WeightedLottery { weights, cap, .. } => vec![weights, cap],
            RuleKind::LabourMarketTest { statuses, min_seekers } => vec![statuses, min_seekers],
        }
    }
}

/// One rule of a policy: a kind with its data, when it applies and on what legal ground.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub id: String,
    pub kind: RuleKind,
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// The treaty that creates the rule: it applies only while the treaty is in force.
    pub treaty: Option<String>,
    pub when: Condition,
    /// The refusal ground a failure of this rule is.
    pub ground: Option<String>,
    pub legal: LegalRef,
    pub uncertain: Option<String>,
    /// A rule written to test the engine, not law.
    pub hypothetical: bool,
}

impl Rule {
    pub fn in_effect(&self, date: Date) -> bool {
        self.from.is_none_or(|f| f <= date) && self.to.is_none_or(|t| date <= t)
    }
}

/// A whole policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// The name it was read under (a file name), used in messages.
    pub name: String,
    pub id: String,
    pub title: String,
    pub currency: String,
    /// What the policy calls its own citizens, as used in ratio figures ("7 Kazakh of 11").
    pub local_label: Text,
    pub legal: BTreeMap<String, LegalRef>,
    pub params: BTreeMap<String, Parameter>,
    pub grounds: BTreeMap<String, Ground>,
    pub rules: Vec<Rule>,
}

impl Policy {
    /// The parameters whose values all end, with the last day each is known, earliest first:
    /// asked about a later day, a rule that reads one is undetermined until the policy carries
    /// the next value.
    pub fn known_until(&self) -> Vec<(String, Date)> {
        let mut ends: Vec<(String, Date)> =
            self.params.values().filter_map(|p| Some((p.id.clone(), p.known_until()?))).collect();
        ends.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        ends
    }
}

/// One thing wrong in a policy, named by its key path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{key}`: {message}")]
pub struct Problem {
    pub key: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("{file}: not valid TOML: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: {count} problem(s): {list}", count = problems.len(), list = list_problems(problems))]
    Invalid { file: String, problems: Vec<Problem> },
}

fn list_problems(problems: &[Problem]) -> String {
    problems.iter().map(Problem::to_string).collect::<Vec<_>>().join("; ")
}

/// Reads a policy from its TOML text; `name` (a file name) appears in every message.
pub fn parse_policy(name: &str, text: &str) -> Result<Policy, PolicyError> {
    let table = parse_table(name, text)?;
    let mut reader = Reader::new(name);
    let policy = reader.policy(&table);
    reader.finish(policy)
}

impl Policy {
    /// The policy with parameters replaced and rules added or replaced (same id) by `text`,
    /// written like a policy file's `legal`, `params`, `grounds` and `rules`.
    pub fn with_overrides(&self, name: &str, text: &str) -> Result<Policy, PolicyError> {
        let table = parse_table(name, text)?;
        let mut reader = Reader::new(name);
        reader.legal = self.legal.clone();
        reader.check_keys(&table, &["legal", "params", "grounds", "rules"], "");
        let mut policy = self.clone();
        reader.legal_refs(&table);
        policy.legal = reader.legal.clone();
        for (id, parameter) in reader.params(&table) {
            policy.params.insert(id, parameter);
        }
        for (id, ground) in reader.grounds(&table) {
            policy.grounds.insert(id, ground);
        }
        for rule in reader.rules(&table) {
            match policy.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(existing) => *existing = rule,
                None => policy.rules.push(rule),
            }
        }
        reader.check_references(&policy);
        reader.finish(policy)
    }

    /// The value of a parameter on a date.
    pub fn param(&self, id: &str, date: Date) -> Result<&Dated<Value>, ParamError> {
        let parameter = self.params.get(id).ok_or_else(|| ParamError::Unknown { param: id.to_string() })?;
        parameter.on(date).ok_or_else(|| ParamError::NoValue { param: id.to_string(), date })
    }
}

/// A parameter asked for that the policy cannot answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("the policy has no parameter `{param}`")]
    Unknown { param: String },
    #[error("parameter `{param}` has no value in force on {date}")]
    NoValue { param: String, date: Date },
    #[error("parameter `{param}` has no entry for {keys:?} on {date}")]
    NoEntry { param: String, keys: Vec<String>, date: Date },
    #[error("parameter `{param}` on {date}: expected {expected}")]
    Shape { param: String, date: Date, expected: &'static str },
}

fn parse_table(name: &str, text: &str) -> Result<toml::Table, PolicyError> {
    text.parse::<toml::Table>().map_err(|e| PolicyError::Syntax {
        file: name.to_string(),
        message: e.to_string().lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join(" "),
    })
}

/// Converts TOML into a parameter value; dates become text.
pub(crate) fn value_from_toml(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::Text(s.clone()),
        toml::Value::Integer(i) => Value::Number(*i as f64),
        toml::Value::Float(f) => Value::Number(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::Text(d.to_string()),
        toml::Value::Array(items) => Value::List(items.iter().map(value_from_toml).collect()),
        toml::Value::Table(t) => Value::Table(t.iter().map(|(k, v)| (k.clone(), value_from_toml(v))).collect()),
    }
}

/// Walks the TOML and collects every problem rather than stopping at the first.
pub(crate) struct Reader {
    file: String,
    problems: Vec<Problem>,
    legal: BTreeMap<String, LegalRef>,
}

fn type_name(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "text",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a number",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

impl Reader {
    pub(crate) fn new(file: &str) -> Self {
        Reader { file: file.to_string(), problems: Vec::new(), legal: BTreeMap::new() }
    }

    pub(crate) fn problem(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem { key: key.into(), message: message.into() });
    }

    pub(crate) fn finish<T>(self, value: T) -> Result<T, PolicyError> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(PolicyError::Invalid { file: self.file, problems: self.problems })
        }
    }

    pub(crate) fn check_keys(&mut self, table: &toml::Table, allowed: &[&str], path: &str) {
        for key in table.keys() {
            if !allowed.contains(&key.as_str()) {
                self.problem(join(path, key), format!("unknown key; expected one of {}", allowed.join(", ")));
            }
        }
    }

    pub(crate) fn text(&mut self, table: &toml::Table, key: &str, path: &str, required: bool) -> Option<String> {
        match table.get(key) {
            Some(toml::Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(toml::Value::String(_)) => {
                self.problem(join(path, key), "is empty");
                None
            }
            Some(other) => {
                self.problem(join(path, key), format!("expected text, found {}", type_name(other)));
                None
            }
            None if required => {
                self.problem(join(path, key), "is missing");
                None
            }
            None => None,
        }
    }

    pub(crate) fn date(&mut self, table: &toml::Table, key: &str, path: &str, required: bool) -> Option<Date> {
        let text = match table.get(key) {
            Some(toml::Value::Datetime(d)) => d.to_string(),
            Some(toml::Value::String(s)) => s.clone(),
            Some(other) => {
                self.problem(join(path, key), format!("expected a date YYYY-MM-DD, found {}", type_name(other)));
                return None;
            }
            None => {
                if required {
                    self.problem(join(path, key), "is missing (a date YYYY-MM-DD)");
                }
                return None;
            }
        };
        match text.parse::<Date>() {
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(join(path, key), e.to_string());
                None
            }
        }
    }

    pub(crate) fn boolean(&mut self, table: &toml::Table, key: &str, path: &str) -> Option<bool> {
        match table.get(key) {
            Some(toml::Value::Boolean(b)) => Some(*b),
            Some(other) => {
                self.problem(join(path, key), format!("expected true or false, found {}", type_name(other)));
                None
            }
            None => None,
        }
    }

    pub(crate) fn texts(&mut self, table: &toml::Table, key: &str, path: &str) -> Option<Vec<String>> {
        match table.get(key) {
            Some(toml::Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        toml::Value::String(s) => out.push(s.clone()),
                        toml::Value::Integer(n) => out.push(n.to_string()),
                        other => self.problem(
                            format!("{}[{i}]", join(path, key)),
                            format!("expected text, found {}", type_name(other)),
                        ),
                    }
                }
                Some(out)
            }
            Some(other) => {
                self.problem(join(path, key), format!("expected a list of texts, found {}", type_name(other)));
                None
            }
            None => None,
        }
    }

    fn table<'t>(&mut self, table: &'t toml::Table, key: &str, path: &str) -> Option<&'t toml::Table> {
        match table.get(key) {
            Some(toml::Value::Table(t)) => Some(t),
            Some(other) => {
                self.problem(join(path, key), format!("expected a table, found {}", type_name(other)));
                None
            }
            None => None,
        }
    }

    /// `{ en = …, ru = …, kk = … }`, all three required.
    fn text3(&mut self, table: &toml::Table, key: &str, path: &str, required: bool) -> Option<Text> {
        let Some(inner) = self.table(table, key, path) else {
            if required && !table.contains_key(key) {
                self.problem(join(path, key), "is missing (a table with en, ru and kk)");
            }
            return None;
        };
        let here = join(path, key);
        self.languages(inner, &here)
    }

    fn languages(&mut self, table: &toml::Table, path: &str) -> Option<Text> {
        let en = self.text(table, "en", path, true);
        let ru = self.text(table, "ru", path, true);
        let kk = self.text(table, "kk", path, true);
        Some(Text { en: en?, ru: ru?, kk: kk? })
    }

    /// `legal = "id"`, `legal = { ref = "id", article = "…" }` or `{ act, article, address }`.
    pub(crate) fn legal_ref(&mut self, table: &toml::Table, path: &str, required: bool) -> LegalRef {
        let key = join(path, "legal");
        match table.get("legal") {
            Some(toml::Value::String(id)) => self.named_legal(id, &key),
            Some(toml::Value::Table(t)) => {
                self.check_keys(t, &["ref", "act", "article", "address"], &key);
                let mut base = match self.text(t, "ref", &key, false) {
                    Some(id) => self.named_legal(&id, &join(&key, "ref")),
                    None => LegalRef::default(),
                };
                if let Some(act) = self.text(t, "act", &key, false) {
                    base.act = act;
                }
                if let Some(article) = self.text(t, "article", &key, false) {
                    base.article = article;
                }
                if let Some(address) = self.text(t, "address", &key, false) {
                    base.address = address;
                }
                if base.act.is_empty() {
                    self.problem(key, "names no act (give `ref` or `act`)");
                }
                base
            }
            Some(other) => {
                self.problem(key, format!("expected a reference id or a table, found {}", type_name(other)));
                LegalRef::default()
            }
            None => {
                if required {
                    self.problem(key, "is missing: every value needs its legal reference");
                }
                LegalRef::default()
            }
        }
    }

    fn named_legal(&mut self, id: &str, key: &str) -> LegalRef {
        match self.legal.get(id) {
            Some(found) => found.clone(),
            None => {
                self.problem(key, format!("no `[legal.{id}]` is defined"));
                LegalRef::default()
            }
        }
    }

    fn policy(&mut self, root: &toml::Table) -> Policy {
        self.check_keys(root, &["policy", "legal", "params", "grounds", "rules"], "");
        let empty = toml::Table::new();
        let head = match self.table(root, "policy", "") {
            Some(t) => t,
            None => {
                if !root.contains_key("policy") {
                    self.problem("policy", "is missing");
                }
                &empty
            }
        };
        self.check_keys(head, &["id", "title", "currency", "local_label"], "policy");
        let id = self.text(head, "id", "policy", true).unwrap_or_default();
        let title = self.text(head, "title", "policy", true).unwrap_or_default();
        let currency = self.text(head, "currency", "policy", true).unwrap_or_default();
        let local_label = self
            .text3(head, "local_label", "policy", false)
            .unwrap_or_else(|| Text::new("local", "местные работники", "жергілікті қызметкерлер"));
        self.legal_refs(root);
        let params = self.params(root);
        let grounds = self.grounds(root);
        let rules = self.rules(root);
        let policy = Policy {
            name: self.file.clone(),
            id,
            title,
            currency,
            local_label,
            legal: self.legal.clone(),
            params,
            grounds,
            rules,
        };
        self.check_references(&policy);
        policy
    }

    fn legal_refs(&mut self, root: &toml::Table) {
        let Some(table) = self.table(root, "legal", "") else { return };
        for (id, entry) in table {
            let path = join("legal", id);
            let Some(t) = entry.as_table() else {
                self.problem(path, "expected a table with act, article, address");
                continue;
            };
            self.check_keys(t, &["act", "article", "address"], &path);
            let act = self.text(t, "act", &path, true).unwrap_or_default();
            let article = self.text(t, "article", &path, false).unwrap_or_default();
            let address = self.text(t, "address", &path, false).unwrap_or_default();
            self.legal.insert(id.clone(), LegalRef { act, article, address });
        }
    }

    fn params(&mut self, root: &toml::Table) -> BTreeMap<String, Parameter> {
        let mut out = BTreeMap::new();
        let Some(table) = self.table(root, "params", "") else { return out };
        for (id, entry) in table {
            let path = join("params", id);
            let Some(items) = entry.as_array() else {
                self.problem(path, "expected a list of dated values (`[[params.ID]]`)");
                continue;
            };
            let mut values = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let here = format!("{path}[{i}]");
                let Some(t) = item.as_table() else {
                    self.problem(here, "expected a table with from, value and legal");
                    continue;
                };
                self.check_keys(t, &["from", "to", "value", "legal", "uncertain", "note"], &here);
                let from = self.date(t, "from", &here, true);
                let to = self.date(t, "to", &here, false);
                let legal = self.legal_ref(t, &here, true);
                let uncertain = self.text(t, "uncertain", &here, false);
                let note = self.text(t, "note", &here, false);
                let value = match t.get("value") {
                    Some(v) => Some(value_from_toml(v)),
                    None => {
                        self.problem(join(&here, "value"), "is missing");
                        None
                    }
                };
                if let (Some(f), Some(t)) = (from, to)
                    && t < f
                {
                    self.problem(join(&here, "to"), format!("{t} is before `from` {f}"));
                }
                if let (Some(from), Some(value)) = (from, value) {
                    values.push(Dated { from, to, value, legal, uncertain, note });
                }
            }
            for (a, first) in values.iter().enumerate() {
                for second in &values[a + 1..] {
                    let overlap = first.covers(second.from) || second.covers(first.from);
                    if overlap && first.from == second.from {
                        self.problem(path.clone(), format!("two values start on {}", first.from));
                    }
                }
            }
            out.insert(id.clone(), Parameter { id: id.clone(), values });
        }
        out
    }

    fn grounds(&mut self, root: &toml::Table) -> BTreeMap<String, Ground> {
        let mut out = BTreeMap::new();
        let Some(table) = self.table(root, "grounds", "") else { return out };
        for (id, entry) in table {
            let path = join("grounds", id);
            let Some(t) = entry.as_table() else {
                self.problem(path, "expected a table with en, ru, kk and legal");
                continue;
            };
            self.check_keys(t, &["en", "ru", "kk", "legal"], &path);
            let legal = self.legal_ref(t, &path, true);
            if let Some(text) = self.languages(t, &path) {
                out.insert(id.clone(), Ground { id: id.clone(), text, legal });
            }
        }
        out
    }

    fn rules(&mut self, root: &toml::Table) -> Vec<Rule> {
        let mut out = Vec::new();
        let Some(value) = root.get("rules") else { return out };
        let Some(items) = value.as_array() else {
            self.problem("rules", "expected a list of rules (`[[rules]]`)");
            return out;
        };
        let mut seen = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("rules[{i}]");
            let Some(t) = item.as_table() else {
                self.problem(path, "expected a table");
                continue;
            };
            if let Some(rule) = self.rule(t, &path) {
                if !seen.insert(rule.id.clone()) {
                    self.problem(join(&path, "id"), format!("rule `{}` is defined twice", rule.id));
                }
                out.push(rule);
            }
        }
        out
    }

    fn rule(&mut self, t: &toml::Table, path: &str) -> Option<Rule> {
        let id = self.text(t, "id", path, true);
        let path = match &id {
            Some(id) => format!("rules.{id}"),
            None => path.to_string(),
        };
        let path = path.as_str();
        let common = ["id", "kind", "from", "to", "treaty", "when", "ground", "legal", "uncertain", "hypothetical"];
        let kind_name = self.text(t, "kind", path, true);
        let from = self.date(t, "from", path, false);
        let to = self.date(t, "to", path, false);
        let treaty = self.text(t, "treaty", path, false);
        let ground = self.text(t, "ground", path, false);
        let legal = self.legal_ref(t, path, true);
        let uncertain = self.text(t, "uncertain", path, false);
        let hypothetical = self.boolean(t, "hypothetical", path).unwrap_or(false);
        let when = match self.table(t, "when", path) {
            Some(w) => self.condition(w, &join(path, "when")),
            None => Condition::default(),
        };
        let (kind, extra): (Option<RuleKind>, &[&str]) = match kind_name.as_deref() {
            Some("exemption") => {
                let nationalities = self.text(t, "nationalities", path, false);
                let statuses = self.text(t, "statuses", path, false);
                if nationalities.is_none() && statuses.is_none() {
                    self.problem(path, "an exemption needs `nationalities` or `statuses` (parameter ids)");
                }
                let scope = self.text3(t, "scope", path, false);
                (Some(RuleKind::Exemption { nationalities, statuses, scope }), &["nationalities", "statuses", "scope"])
            }
            Some("required_fact") => {
                (self.text(t, "fact", path, true).map(|fact| RuleKind::RequiredFact { fact }), &["fact"])
            }
            Some("ban_after_violation") => {
                let violations = self.text(t, "violations", path, true);
                let months = self.text(t, "months", path, true);
                (
                    violations
                        .zip(months)
                        .map(|(violations, months)| RuleKind::BanAfterViolation { violations, months }),
                    &["violations", "months"],
                )
            }
            Some("overdue_obligation") => (
                self.text(t, "obligation", path, true).map(|obligation| RuleKind::OverdueObligation { obligation }),
                &["obligation"],
            ),
            Some("quota_available") => {
                (self.text(t, "line", path, true).map(|line| RuleKind::QuotaAvailable { line }), &["line"])
            }
            Some("min_local_share") => {
                let categories = self.texts(t, "categories", path);
                if categories.is_none() {
                    self.problem(join(path, "categories"), "is missing (a list of categories)");
                }
                let min_share = self.text(t, "min_share", path, true);
                let waiver_employer_kinds = self.texts(t, "waiver_employer_kinds", path).unwrap_or_default();
                let waiver_headcount = self.text(t, "waiver_headcount", path, false);
                let outstaffed_counted = self.text(t, "outstaffed_counted", path, false);
                (
                    categories.zip(min_share).map(|(categories, min_share)| RuleKind::MinLocalShare {
                        categories,
                        min_share,
                        waiver_employer_kinds,
                        waiver_headcount,
                        outstaffed_counted,
                    }),
                    &["categories", "min_share", "waiver_employer_kinds", "waiver_headcount", "outstaffed_counted"],
                )
            }
            Some("max_foreign_share") => {
                let share = self.text(t, "share", path, true);
                let keyed_by = self.selectors(t, path);
                let base = match self.text(t, "base", path, false).as_deref() {
                    None | Some("total") => ShareBase::Total,
                    Some("local") => ShareBase::Local,
                    Some(other) => {
                        self.problem(join(path, "base"), format!("`{other}`: expected `total` or `local`"));
                        ShareBase::Total
                    }
                };
                let base_filter = self.filter(t, "base_filter", path);
                let counted = self.filter(t, "counted", path);
                let label = self.text3(t, "label", path, false);
                (
                    share.map(|share| RuleKind::MaxForeignShare { share, keyed_by, base, base_filter, counted, label }),
                    &["share", "keyed_by", "base", "base_filter", "counted", "label"],
                )
            }
            Some("validity") => {
                (self.text(t, "table", path, true).map(|table| RuleKind::Validity { table }), &["table"])
            }
            Some("fee") => {
                let amounts = self.text(t, "amounts", path, true);
                let unit = self.text(t, "unit", path, false);
                let keyed_by = self.selectors(t, path);
                let per_region = self.boolean(t, "per_region", path).unwrap_or(false);
                let monthly = self.boolean(t, "monthly", path).unwrap_or(false);
                let label = self.text3(t, "label", path, true);
                (
                    amounts.zip(label).map(|(amounts, label)| RuleKind::Fee {
                        amounts,
                        unit,
                        keyed_by,
                        per_region,
                        monthly,
                        label,
                    }),
                    &["amounts", "unit", "keyed_by", "per_region", "monthly", "label"],
                )
            }
            Some("tiered_levy") => {
                let tiers = self.text(t, "tiers", path, true);
                let keyed_by = self.selectors(t, path);
                let counted = self.filter(t, "counted", path);
                let label = self.text3(t, "label", path, true);
                (
                    tiers.zip(label).map(|(tiers, label)| RuleKind::TieredLevy { tiers, keyed_by, counted, label }),
                    &["tiers", "keyed_by", "counted", "label"],
                )
            }
            Some("obligation") => {
                let obligation = self.text(t, "obligation", path, true);
                let months = self.text(t, "months", path, true);
                let label = self.text3(t, "label", path, true);
                (
                    obligation.zip(months).zip(label).map(|((obligation, months), label)| RuleKind::Obligation {
                        obligation,
                        months,
                        label,
                    }),
                    &["obligation", "months", "label"],
                )
            }
            Some("deadline") => {
                let business_days = self.text(t, "business_days", path, true);
                let label = self.text3(t, "label", path, true);
                (
                    business_days.zip(label).map(|(business_days, label)| RuleKind::Deadline { business_days, label }),
                    &["business_days", "label"],
                )
            }
            Some("weighted_lottery") => {
                let weights = self.text(t, "weights", path, true);
                let cap = self.text(t, "cap", path, true);
                let keyed_by = self.selectors(t, path);
                (
                    weights.zip(cap).map(|(weights, cap)| RuleKind::WeightedLottery { weights, keyed_by, cap }),
                    &["weights", "keyed_by", "cap"],
                )
            }
            Some("labour_market_test") => {
                let statuses = self.text(t, "statuses", path, true);
                let min_seekers = self.text(t, "min_seekers", path, true);
                (
                    statuses
                        .zip(min_seekers)
                        .map(|(statuses, min_seekers)| RuleKind::LabourMarketTest { statuses, min_seekers }),
                    &["statuses", "min_seekers"],
                )
            }
            Some(other) => {
                self.problem(
                    join(path, "kind"),
                    format!(
                        "unknown rule kind `{other}`; expected one of exemption, required_fact, ban_after_violation, \
                         overdue_obligation, quota_available, min_local_share, max_foreign_share, validity, fee, \
                         tiered_levy, obligation, deadline, weighted_lottery, labour_market_test"
                    ),
                );
                (None, &[])
            }
            None => (None, &[]),
        };
        if kind.is_some() {
            let allowed: Vec<&str> = common.iter().chain(extra.iter()).copied().collect();
            self.check_keys(t, &allowed, path);
        }
        Some(Rule { id: id?, kind: kind?, from, to, treaty, when, ground, legal, uncertain, hypothetical })
    }

    fn selectors(&mut self, t: &toml::Table, path: &str) -> Vec<Selector> {
        let names = self.texts(t, "keyed_by", path).unwrap_or_default();
        let mut out = Vec::new();
        for name in names {
            match Selector::parse(&name) {
                Some(s) => out.push(s),
                None => self.problem(
                    join(path, "keyed_by"),
                    format!("`{name}`: expected category, activity_group, sector, pass, wage_level, nationality or employer_kind"),
                ),
            }
        }
        out
    }

    fn filter(&mut self, t: &toml::Table, key: &str, path: &str) -> StaffFilter {
        let Some(f) = self.table(t, key, path) else { return StaffFilter::default() };
        let here = join(path, key);
        self.check_keys(f, &["local", "categories", "passes", "nationalities", "ict", "investor_nationals"], &here);
        StaffFilter {
            local: self.boolean(f, "local", &here),
            categories: self.texts(f, "categories", &here),
            passes: self.texts(f, "passes", &here),
            nationalities: self.texts(f, "nationalities", &here),
            ict: self.boolean(f, "ict", &here),
            investor_nationals: self.boolean(f, "investor_nationals", &here).unwrap_or(false),
        }
    }

    fn condition(&mut self, w: &toml::Table, path: &str) -> Condition {
        self.check_keys(
            w,
            &[
                "categories",
                "passes",
                "request_kinds",
                "nationalities",
                "employer_kinds",
                "sectors",
                "ict",
                "statuses_any",
                "statuses_none",
                "investor_national",
            ],
            path,
        );
        Condition {
            categories: self.texts(w, "categories", path),
            passes: self.texts(w, "passes", path),
            request_kinds: self.texts(w, "request_kinds", path),
            nationalities: self.texts(w, "nationalities", path),
            employer_kinds: self.texts(w, "employer_kinds", path),
            sectors: self.texts(w, "sectors", path),
            ict: self.boolean(w, "ict", path),
            statuses_any: self.texts(w, "statuses_any", path),
            statuses_none: self.texts(w, "statuses_none", path),
            investor_national: self.boolean(w, "investor_national", path),
        }
    }

    /// Every parameter and ground a rule names must exist, with values of the right shape.
    fn check_references(&mut self, policy: &Policy) {
        for rule in &policy.rules {
            let path = format!("rules.{}", rule.id);
            for param in rule.kind.parameters() {
                match policy.params.get(param) {
                    None => self
                        .problem(path.clone(), format!("names parameter `{param}`, which `[params]` does not define")),
                    Some(p) if p.values.is_empty() => {
                        self.problem(path.clone(), format!("parameter `{param}` has no values"))
                    }
                    Some(_) => {}
                }
            }
            if let Some(ground) = &rule.ground
                && !policy.grounds.contains_key(ground)
            {
                self.problem(join(&path, "ground"), format!("no `[grounds.{ground}]` is defined"));
            }
            let numbers: Vec<&str> = match &rule.kind {
                RuleKind::BanAfterViolation { months, .. } => vec![months],
                RuleKind::MinLocalShare { min_share, waiver_headcount, .. } => {
                    let mut all = vec![min_share.as_str()];
                    all.extend(waiver_headcount.iter().map(String::as_str));
                    all
                }
                RuleKind::Fee { unit: Some(unit), .. } => vec![unit],
                RuleKind::Obligation { months, .. } => vec![months],
                RuleKind::Deadline { business_days, .. } => vec![business_days],
                RuleKind::WeightedLottery { cap, .. } => vec![cap],
                RuleKind::LabourMarketTest { min_seekers, .. } => vec![min_seekers],
                _ => Vec::new(),
            };
            for param in numbers {
                let Some(p) = policy.params.get(param) else { continue };
                for v in &p.values {
                    if v.value.as_number().is_none_or(|n| !n.is_finite() || n < 0.0) {
                        self.problem(
                            format!("params.{param} (from {})", v.from),
                            format!("rule `{}` needs a non-negative number here, found {}", rule.id, v.value.kind()),
                        );
                    }
                }
            }
        }
    }
}
