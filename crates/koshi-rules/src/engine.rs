//! Deciding one request: the rules of the policy applied in order to the request and the facts
//! on a date. The engine reads the quota state and never changes it: a grant says which cells it
//! would consume, so the caller can consume them in the same transaction as it records the decision.

use std::collections::BTreeMap;

use koshi_core::Date;
use serde::{Deserialize, Serialize};

use crate::policy::{Condition, LegalRef, ParamError, Policy, Rule, RuleKind, Selector, ShareBase, StaffFilter, Value};
use crate::text::{self, Lang, Text};
use crate::treaty::Treaties;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    #[default]
    Issue,
    Extension,
    /// An entry into a capped selection (a lottery) rather than a permit application.
    Registration,
}

impl RequestKind {
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Issue => "issue",
            RequestKind::Extension => "extension",
            RequestKind::Registration => "registration",
        }
    }
}

/// What is asked: a permit (or its extension) for one worker, or several in the same position.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Request {
    pub kind: RequestKind,
    /// For an extension: which extension this would be (1 = the first).
    pub extension_number: u32,
    /// ISO 3166-1 alpha-2 code of the worker's citizenship.
    pub nationality: String,
    pub category: String,
    /// The pass or permit type where a policy has several (Singapore's WP / SPASS).
    pub pass: Option<String>,
    /// An intra-corporate transfer.
    pub ict: bool,
    /// Every region the permit is to cover (ISO 3166-2 codes).
    pub regions: Vec<String>,
    pub term_months: Option<u32>,
    /// The current permit's last day, for an extension.
    pub current_expiry: Option<Date>,
    /// Statuses that exemptions refer to (`business_immigrant`, `investment_priority_project` …).
    pub statuses: Vec<String>,
    /// Findings about the application (`documents_authentic`, `qualification_met`); one not
    /// given is taken as not contested.
    pub findings: BTreeMap<String, bool>,
    pub wage_level: Option<u32>,
    /// The investment project a worker is engaged for, when the quota line is per project.
    pub project: Option<String>,
    /// How many workers in the same position; 0 is read as 1.
    pub count: u32,
    /// The position's occupation (ISCO-08 unit group), for the labour-market test.
    pub occupation: Option<String>,
}

impl Request {
    pub fn workers(&self) -> u64 {
        u64::from(self.count.max(1))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Employer {
    /// `company`, `branch`, `rep_office`, `university` … as the policy's conditions name them.
    pub kind: String,
    /// Total employees; the staff groups' sum when not given.
    pub headcount: Option<u32>,
    pub activity_group: Option<String>,
    pub sector: Option<String>,
    /// The country whose investor owns the employer, for investor-country caps.
    pub investor_country: Option<String>,
}

impl Default for Employer {
    fn default() -> Self {
        Employer { kind: "company".into(), headcount: None, activity_group: None, sector: None, investor_country: None }
    }
}

/// A group of the employer's current staff.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaffGroup {
    pub category: String,
    /// Citizens of the policy's country.
    pub local: bool,
    pub count: u32,
    pub pass: Option<String>,
    pub nationality: Option<String>,
    pub ict: bool,
    /// Engaged through an outstaffing contract.
    pub outstaffed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Violation {
    pub kind: String,
    pub established: Date,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObligationState {
    pub kind: String,
    pub due: Date,
    #[serde(default)]
    pub fulfilled: bool,
}

/// Places of one quota line in one region and category (`*` for all).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaCell {
    pub line: String,
    pub region: String,
    pub category: String,
    pub allocated: u64,
    #[serde(default)]
    pub used: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaState {
    pub cells: Vec<QuotaCell>,
}

impl QuotaState {
    /// Records a grant's consumption (for simulations; the registry does this in its transaction).
    pub fn consume(&mut self, consumption: &[Consumption]) {
        for c in consumption {
            if let Some(cell) =
                self.cells.iter_mut().find(|x| x.line == c.line && x.region == c.region && x.category == c.category)
            {
                cell.used = cell.used.saturating_add(c.places);
            }
        }
    }
}

/// What is known about the employer and the world when the request is decided.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Facts {
    pub employer: Employer,
    pub staff: Vec<StaffGroup>,
    pub violations: Vec<Violation>,
    pub obligations: Vec<ObligationState>,
    pub quota: QuotaState,
    /// The state of the labour market for the request's occupation in its (first) region.
    pub labour_market: Option<LabourMarket>,
}

/// What the adopted shortage list says about one occupation in one region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabourMarket {
    /// Which list, as people name it (`shortage list 3 of 2026-11-30 (washington_2013)`).
    pub list: String,
    /// `in_demand`, `balanced`, `not_in_demand`, `excluded`, `insufficient_data`, `unlisted`.
    pub status: String,
    pub local_seekers: Option<u64>,
    pub vacancies: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Outside the mechanism: no quota, no permit.
    Exempt,
    Granted,
    Refused,
    /// Entered into a weighted selection.
    Lottery,
    /// A parameter needed is not defined for the date; nothing can be said.
    Undetermined,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Exempt => "exempt",
            Outcome::Granted => "granted",
            Outcome::Refused => "refused",
            Outcome::Lottery => "lottery",
            Outcome::Undetermined => "undetermined",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Passed,
    Failed,
    Exempt,
    /// Applied without a pass/fail: a fee, a term, a deadline.
    Applied,
    /// Looked at and found not to apply (a waiver, a treaty not in force).
    NotApplicable,
    Undetermined,
}

/// One rule as applied: what it found, with the figures, in plain words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub rule: String,
    pub kind: &'static str,
    pub status: StepStatus,
    pub figures: Text,
    pub legal: LegalRef,
    pub treaty: Option<String>,
    /// The rule's and its parameters' uncertainty marks.
    pub uncertain: Vec<String>,
    pub hypothetical: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refusal {
    pub ground: String,
    pub rule: String,
    pub text: Text,
    pub legal: LegalRef,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Permit {
    pub term_months: u32,
    pub valid_from: Date,
    pub valid_until: Date,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeeLine {
    pub rule: String,
    pub label: Text,
    pub amount: f64,
    pub currency: String,
    pub monthly: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadlineLine {
    pub rule: String,
    pub label: Text,
    pub due: Date,
}

/// A quota cell a grant would use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consumption {
    pub line: String,
    pub region: String,
    pub category: String,
    pub places: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub policy: String,
    pub date: Date,
    pub outcome: Outcome,
    pub permit: Option<Permit>,
    pub fees: Vec<FeeLine>,
    /// One-off fees summed (monthly levies are listed, not summed).
    pub fee_total: f64,
    pub deadlines: Vec<DeadlineLine>,
    pub refusals: Vec<Refusal>,
    pub consumes: Vec<Consumption>,
    pub lottery_weight: Option<f64>,
    pub steps: Vec<Step>,
    pub summary: Text,
}

impl Decision {
    pub fn ground_ids(&self) -> Vec<&str> {
        self.refusals.iter().map(|r| r.ground.as_str()).collect()
    }
}

/// Decides `request` under `policy` on `date`. Pure: the same arguments give the same decision.
pub fn decide(policy: &Policy, treaties: &Treaties, request: &Request, facts: &Facts, date: Date) -> Decision {
    let mut run = Run { policy, request, facts, date, decision: Decision::empty(policy, date) };
    for rule in &policy.rules {
        if !rule.in_effect(date) || !run.matches(&rule.when) {
            continue;
        }
        if let Some(id) = &rule.treaty {
            let in_force = treaties.get(id).is_some_and(|t| t.in_force_on(date));
            if !in_force {
                let known = treaties.get(id).is_some();
                let figures = Text::build(|l| match (l, known) {
                    (Lang::En, true) => format!("treaty {id} is not in force on {date}: the rule does not apply"),
                    (Lang::En, false) => format!("treaty {id} is not in the registry: the rule does not apply"),
                    (Lang::Ru, true) => format!("договор {id} не действует на {date}: правило не применяется"),
                    (Lang::Ru, false) => format!("договора {id} нет в реестре: правило не применяется"),
                    (Lang::Kk, true) => format!("{id} шарты {date} күні күшінде емес: ереже қолданылмайды"),
                    (Lang::Kk, false) => format!("{id} шарты тізілімде жоқ: ереже қолданылмайды"),
                });
                run.step(rule, StepStatus::NotApplicable, figures, Vec::new());
                continue;
            }
        }
        let exempt = run.apply(rule, treaties);
        if exempt {
            break;
        }
    }
    run.finish()
}

impl Decision {
    fn empty(policy: &Policy, date: Date) -> Self {
        Decision {
            policy: policy.id.clone(),
            date,
            outcome: Outcome::Granted,
            permit: None,
            fees: Vec::new(),
            fee_total: 0.0,
            deadlines: Vec::new(),
            refusals: Vec::new(),
            consumes: Vec::new(),
            lottery_weight: None,
            steps: Vec::new(),
            summary: Text::default(),
        }
    }
}

struct Run<'a> {
    policy: &'a Policy,
    request: &'a Request,
    facts: &'a Facts,
    date: Date,
    decision: Decision,
}

fn contains(list: &Option<Vec<String>>, value: &str) -> bool {
    list.as_ref().is_none_or(|l| l.iter().any(|x| x.eq_ignore_ascii_case(value)))
}

fn undetermined(error: &ParamError) -> Text {
    Text::build(|l| match l {
        Lang::En => format!("cannot be decided: {error}"),
        Lang::Ru => format!("невозможно решить: {error}"),
        Lang::Kk => format!("шешу мүмкін емес: {error}"),
    })
}

/// `months` after `date`, the day clamped to the month's end.
pub fn add_months(date: Date, months: i64) -> Date {
    // Clamped so that absurd parameters (a ban of 10^300 months) cannot overflow.
    let index = i64::from(date.year) * 12 + i64::from(date.month) - 1 + months.clamp(-1_200_000, 1_200_000);
    let year = index.div_euclid(12) as i32;
    let month = (index.rem_euclid(12) + 1) as u8;
    (1..=date.day).rev().find_map(|day| Date::new(year, month, day).ok()).unwrap_or(date)
}

pub fn add_days(date: Date, days: i64) -> Date {
    Date::from_days_since_epoch(date.days_since_epoch() + days)
}

/// `days` business days after `date`, Saturdays and Sundays skipped (public holidays are not known here).
pub fn add_business_days(date: Date, days: u32) -> Date {
    let mut day = date.days_since_epoch();
    let mut left = days;
    while left > 0 {
        day += 1;
        // 1970-01-01 was a Thursday: weekday 0 = Monday.
        let weekday = (day + 3).rem_euclid(7);
        if weekday < 5 {
            left -= 1;
        }
    }
    Date::from_days_since_epoch(day)
}

impl Run<'_> {
    fn matches(&self, when: &Condition) -> bool {
        let r = self.request;
        let e = &self.facts.employer;
        contains(&when.categories, &r.category)
            && when.passes.as_ref().is_none_or(|l| r.pass.as_ref().is_some_and(|p| l.iter().any(|x| x == p)))
            && contains(&when.request_kinds, r.kind.name())
            && contains(&when.nationalities, &r.nationality)
            && contains(&when.employer_kinds, &e.kind)
            && when.sectors.as_ref().is_none_or(|l| e.sector.as_ref().is_some_and(|s| l.iter().any(|x| x == s)))
            && when.ict.is_none_or(|ict| ict == r.ict)
            && when.statuses_any.as_ref().is_none_or(|l| l.iter().any(|s| r.statuses.contains(s)))
            && when.statuses_none.as_ref().is_none_or(|l| !l.iter().any(|s| r.statuses.contains(s)))
            && when.investor_national.is_none_or(|want| want == self.is_investor_national())
    }

    fn is_investor_national(&self) -> bool {
        self.facts.employer.investor_country.as_ref().is_some_and(|c| c.eq_ignore_ascii_case(&self.request.nationality))
    }

    fn step(&mut self, rule: &Rule, status: StepStatus, figures: Text, mut uncertain: Vec<String>) {
        if let Some(why) = &rule.uncertain {
            uncertain.insert(0, why.clone());
        }
        uncertain.dedup();
        self.decision.steps.push(Step {
            rule: rule.id.clone(),
            kind: rule.kind.name(),
            status,
            figures,
            legal: rule.legal.clone(),
            treaty: rule.treaty.clone(),
            uncertain,
            hypothetical: rule.hypothetical,
        });
    }

    fn refuse(&mut self, rule: &Rule, figures: Text, uncertain: Vec<String>) {
        self.step(rule, StepStatus::Failed, figures, uncertain);
        let ground_id = rule.ground.clone().unwrap_or_else(|| rule.id.clone());
        let (text, legal) = match self.policy.grounds.get(&ground_id) {
            Some(g) => (g.text.clone(), g.legal.clone()),
            None => (Text::new(rule.id.clone(), rule.id.clone(), rule.id.clone()), rule.legal.clone()),
        };
        if !self.decision.refusals.iter().any(|r| r.ground == ground_id) {
            self.decision.refusals.push(Refusal { ground: ground_id, rule: rule.id.clone(), text, legal });
        }
    }

    fn param(&self, id: &str) -> Result<(&Value, Vec<String>), ParamError> {
        let dated = self.policy.param(id, self.date)?;
        Ok((&dated.value, dated.uncertain.iter().cloned().collect()))
    }

    fn number(&self, id: &str) -> Result<(f64, Vec<String>), ParamError> {
        let (value, uncertain) = self.param(id)?;
        let n =
            value.as_number().ok_or(ParamError::Shape { param: id.into(), date: self.date, expected: "a number" })?;
        Ok((n, uncertain))
    }

    fn select(&self, selector: Selector) -> String {
        let r = self.request;
        let e = &self.facts.employer;
        match selector {
            Selector::Category => r.category.clone(),
            Selector::ActivityGroup => e.activity_group.clone().unwrap_or_default(),
            Selector::Sector => e.sector.clone().unwrap_or_default(),
            Selector::Pass => r.pass.clone().unwrap_or_default(),
            Selector::WageLevel => r.wage_level.map(|w| w.to_string()).unwrap_or_default(),
            Selector::Nationality => r.nationality.clone(),
            Selector::EmployerKind => e.kind.clone(),
        }
    }

    /// A parameter value looked up by the request's selectors.
    fn keyed(&self, id: &str, keyed_by: &[Selector]) -> Result<(&Value, Vec<String>), ParamError> {
        let (value, uncertain) = self.param(id)?;
        let keys: Vec<String> = keyed_by.iter().map(|s| self.select(*s)).collect();
        let found =
            value.lookup(&keys).ok_or_else(|| ParamError::NoEntry { param: id.into(), keys, date: self.date })?;
        Ok((found, uncertain))
    }

    fn keyed_number(&self, id: &str, keyed_by: &[Selector]) -> Result<(f64, Vec<String>), ParamError> {
        let (value, uncertain) = self.keyed(id, keyed_by)?;
        let n =
            value.as_number().ok_or(ParamError::Shape { param: id.into(), date: self.date, expected: "a number" })?;
        Ok((n, uncertain))
    }

    fn filter_matches(&self, filter: &StaffFilter, group: &StaffGroup) -> bool {
        // `{category}` in a filter stands for the requested worker's category.
        let category_matches = filter.categories.as_ref().is_none_or(|l| {
            l.iter().any(|c| *c == group.category || (c == "{category}" && group.category == self.request.category))
        });
        filter.local.is_none_or(|l| l == group.local)
            && category_matches
            && filter.passes.as_ref().is_none_or(|l| group.pass.as_ref().is_some_and(|p| l.contains(p)))
            && filter.nationalities.as_ref().is_none_or(|l| group.nationality.as_ref().is_some_and(|n| l.contains(n)))
            && filter.ict.is_none_or(|ict| ict == group.ict)
            && (!filter.investor_nationals
                || (group.nationality.as_ref())
                    .zip(self.facts.employer.investor_country.as_ref())
                    .is_some_and(|(n, c)| n.eq_ignore_ascii_case(c)))
    }

    /// The requested workers as a staff group.
    fn newcomers(&self) -> StaffGroup {
        let r = self.request;
        StaffGroup {
            category: r.category.clone(),
            local: false,
            count: r.count.max(1),
            pass: r.pass.clone(),
            nationality: Some(r.nationality.clone()),
            ict: r.ict,
            outstaffed: false,
        }
    }

    /// Staff the filter selects, and the newcomers too when they match and this is a new hire.
    fn count(&self, filter: &StaffFilter, with_newcomers: bool) -> u64 {
        let current: u64 =
            self.facts.staff.iter().filter(|g| self.filter_matches(filter, g)).map(|g| u64::from(g.count)).sum();
        let newcomers = self.newcomers();
        let add = with_newcomers && self.is_new_hire() && self.filter_matches(filter, &newcomers);
        current + if add { u64::from(newcomers.count) } else { 0 }
    }

    /// An extension keeps a worker already counted in the staff; an issue adds one.
    fn is_new_hire(&self) -> bool {
        self.request.kind != RequestKind::Extension
    }

    fn headcount(&self) -> u64 {
        match self.facts.employer.headcount {
            Some(h) => u64::from(h),
            None => self.facts.staff.iter().map(|g| u64::from(g.count)).sum(),
        }
    }

    /// Applies one rule; returns true when the request is exempt and evaluation stops.
    fn apply(&mut self, rule: &Rule, treaties: &Treaties) -> bool {
        let result = match &rule.kind {
            RuleKind::Exemption { nationalities, statuses, scope } => {
                self.exemption(rule, treaties, nationalities.as_deref(), statuses.as_deref(), scope.as_ref())
            }
            RuleKind::RequiredFact { fact } => {
                self.required_fact(rule, fact);
                Ok(false)
            }
            RuleKind::BanAfterViolation { violations, months } => self.ban(rule, violations, months).map(|_| false),
            RuleKind::OverdueObligation { obligation } => {
                self.overdue(rule, obligation);
                Ok(false)
            }
            RuleKind::QuotaAvailable { line } => {
                self.quota(rule, line);
                Ok(false)
            }
            RuleKind::MinLocalShare {
                categories,
                min_share,
                waiver_employer_kinds,
                waiver_headcount,
                outstaffed_counted,
            } => self
                .min_local_share(
                    rule,
                    categories,
                    min_share,
                    waiver_employer_kinds,
                    waiver_headcount.as_deref(),
                    outstaffed_counted.as_deref(),
                )
                .map(|_| false),
            RuleKind::MaxForeignShare { share, keyed_by, base, base_filter, counted, label } => self
                .max_foreign_share(rule, share, keyed_by, *base, base_filter, counted, label.as_ref())
                .map(|_| false),
            RuleKind::Validity { table } => self.validity(rule, table).map(|_| false),
            RuleKind::Fee { amounts, unit, keyed_by, per_region, monthly, label } => {
                self.fee(rule, amounts, unit.as_deref(), keyed_by, *per_region, *monthly, label).map(|_| false)
            }
            RuleKind::TieredLevy { tiers, keyed_by, counted, label } => {
                self.levy(rule, tiers, keyed_by, counted, label).map(|_| false)
            }
            RuleKind::Obligation { obligation, months, label } => {
                self.obligation(rule, obligation, months, label).map(|_| false)
            }
            RuleKind::Deadline { business_days, label } => self.deadline(rule, business_days, label).map(|_| false),
            RuleKind::WeightedLottery { weights, keyed_by, cap } => {
                self.lottery(rule, weights, keyed_by, cap).map(|_| false)
            }
            RuleKind::LabourMarketTest { statuses, min_seekers } => {
                self.labour_market_test(rule, statuses, min_seekers).map(|_| false)
            }
        };
        match result {
            Ok(exempt) => exempt,
            Err(error) => {
                self.step(rule, StepStatus::Undetermined, undetermined(&error), Vec::new());
                false
            }
        }
    }

    fn exemption(
        &mut self,
        rule: &Rule,
        treaties: &Treaties,
        nationalities: Option<&str>,
        statuses: Option<&str>,
        scope: Option<&Text>,
    ) -> Result<bool, ParamError> {
        let nationality = &self.request.nationality;
        let mut uncertain = Vec::new();
        let mut reason = None;
        if let Some(id) = nationalities {
            let (list, u) = self.param(id)?;
            uncertain.extend(u);
            let listed = list.texts().iter().any(|c| c.eq_ignore_ascii_case(nationality));
            // A treaty's rule covers a state only from the day it is bound (accession).
            let bound =
                rule.treaty.as_ref().is_none_or(|t| treaties.get(t).is_some_and(|t| t.binds(nationality, self.date)));
            if listed && bound {
                reason = Some(Text::build(|l| match l {
                    Lang::En => format!("citizen of {nationality}: listed in `{id}`"),
                    Lang::Ru => format!("гражданин {nationality}: входит в перечень `{id}`"),
                    Lang::Kk => format!("{nationality} азаматы: `{id}` тізіміне енген"),
                }));
            } else if listed {
                let treaty = rule.treaty.clone().unwrap_or_default();
                let figures = Text::build(|l| match l {
                    Lang::En => format!("{nationality} is not yet bound by {treaty} on {}", self.date),
                    Lang::Ru => format!("{nationality} на {} ещё не связан договором {treaty}", self.date),
                    Lang::Kk => format!("{nationality} {} күні {treaty} шартына әлі қосылмаған", self.date),
                });
                self.step(rule, StepStatus::NotApplicable, figures, uncertain);
                return Ok(false);
            }
        }
        if reason.is_none()
            && let Some(id) = statuses
        {
            let (list, u) = self.param(id)?;
            uncertain.extend(u);
            if let Some(status) = list.texts().into_iter().find(|s| self.request.statuses.contains(s)) {
                reason = Some(Text::build(|l| match l {
                    Lang::En => format!("status `{status}` is on the exemption list `{id}`"),
                    Lang::Ru => format!("статус `{status}` входит в перечень исключений `{id}`"),
                    Lang::Kk => format!("`{status}` мәртебесі `{id}` ерекшеліктер тізіміне енген"),
                }));
            }
        }
        let Some(reason) = reason else { return Ok(false) };
        let scope = scope.cloned().unwrap_or_else(|| {
            Text::new("no quota, no permit", "квота и разрешение не требуются", "квота мен рұқсат талап етілмейді")
        });
        self.step(rule, StepStatus::Exempt, reason.join(" → ", &scope), uncertain);
        self.decision.outcome = Outcome::Exempt;
        Ok(true)
    }

    fn required_fact(&mut self, rule: &Rule, fact: &str) {
        match self.request.findings.get(fact) {
            Some(false) => {
                let figures = Text::build(|l| match l {
                    Lang::En => format!("finding `{fact}`: does not hold"),
                    Lang::Ru => format!("проверка `{fact}`: не выполнена"),
                    Lang::Kk => format!("`{fact}` тексерісі: орындалмады"),
                });
                self.refuse(rule, figures, Vec::new());
            }
            found => {
                let contested = found.is_none();
                let figures = Text::build(|l| match (l, contested) {
                    (Lang::En, false) => format!("finding `{fact}`: holds"),
                    (Lang::En, true) => format!("finding `{fact}`: not contested"),
                    (Lang::Ru, false) => format!("проверка `{fact}`: выполнена"),
                    (Lang::Ru, true) => format!("проверка `{fact}`: не оспаривается"),
                    (Lang::Kk, false) => format!("`{fact}` тексерісі: орындалды"),
                    (Lang::Kk, true) => format!("`{fact}` тексерісі: дау жоқ"),
                });
                self.step(rule, StepStatus::Passed, figures, Vec::new());
            }
        }
    }

    fn labour_market_test(&mut self, rule: &Rule, statuses: &str, min_seekers: &str) -> Result<(), ParamError> {
        let (list, mut uncertain) = self.param(statuses)?;
        let refusing = list.texts();
        let (min, u) = self.number(min_seekers)?;
        uncertain.extend(u);
        let Some(occupation) = self.request.occupation.clone() else {
            let figures = Text::build(|l| match l {
                Lang::En => "no occupation given: the labour-market test is not made".to_string(),
                Lang::Ru => "профессия не указана: проверка рынка труда не проводится".to_string(),
                Lang::Kk => "кәсіп көрсетілмеген: еңбек нарығы тексерілмейді".to_string(),
            });
            self.step(rule, StepStatus::NotApplicable, figures, uncertain);
            return Ok(());
        };
        let region = self.request.regions.first().cloned().unwrap_or_default();
        let Some(market) = self.facts.labour_market.clone() else {
            let figures = Text::build(|l| match l {
                Lang::En => format!("no shortage list covers occupation {occupation} in {region}: test not applied"),
                Lang::Ru => {
                    format!("нет перечня дефицитных профессий для {occupation} в {region}: проверка не применяется")
                }
                Lang::Kk => format!(
                    "{region} өңіріндегі {occupation} кәсібі үшін тапшы кәсіптер тізбесі жоқ: тексеру қолданылмайды"
                ),
            });
            self.step(rule, StepStatus::NotApplicable, figures, uncertain);
            return Ok(());
        };
        let seekers = market.local_seekers.unwrap_or(0);
        let status = market.status.as_str();
        let fails = refusing.iter().any(|s| s == status) && (seekers as f64) >= min;
        let list_name = &market.list;
        let figures = Text::build(|l| match (l, fails) {
            (Lang::En, true) => format!(
                "occupation {occupation} in {region}: `{status}` on {list_name}, {seekers} local job seekers registered \
                 (at least {min} make local candidates available)"
            ),
            (Lang::En, false) => format!(
                "occupation {occupation} in {region}: `{status}` on {list_name}, {seekers} local job seekers registered"
            ),
            (Lang::Ru, true) => format!(
                "профессия {occupation} в {region}: «{status}» в {list_name}, зарегистрировано местных соискателей: \
                 {seekers} (от {min} — местные кандидаты есть)"
            ),
            (Lang::Ru, false) => format!(
                "профессия {occupation} в {region}: «{status}» в {list_name}, зарегистрировано местных соискателей: {seekers}"
            ),
            (Lang::Kk, true) => format!(
                "{region} өңіріндегі {occupation} кәсібі: {list_name} бойынша «{status}», тіркелген жергілікті \
                 жұмыс іздеушілер: {seekers} ({min} және одан көп — жергілікті үміткерлер бар)"
            ),
            (Lang::Kk, false) => format!(
                "{region} өңіріндегі {occupation} кәсібі: {list_name} бойынша «{status}», тіркелген жергілікті жұмыс іздеушілер: {seekers}"
            ),
        });
        if fails {
            self.refuse(rule, figures, uncertain);
        } else {
            self.step(rule, StepStatus::Passed, figures, uncertain);
        }
        Ok(())
    }

    fn ban(&mut self, rule: &Rule, kinds: &str, months: &str) -> Result<(), ParamError> {
        let (list, mut uncertain) = self.param(kinds)?;
        let kinds = list.texts();
        let (months, u) = self.number(months)?;
        uncertain.extend(u);
        let months = months as i64;
        let active: Vec<(String, Date, Date)> = (self.facts.violations.iter())
            .filter(|v| kinds.contains(&v.kind) && v.established <= self.date)
            .map(|v| (v.kind.clone(), v.established, add_months(v.established, months)))
            .filter(|(_, _, until)| self.date < *until)
            .collect();
        if active.is_empty() {
            let figures = Text::build(|l| match l {
                Lang::En => format!("no violation established in the last {months} months"),
                Lang::Ru => format!("за последние {months} мес. нарушений не установлено"),
                Lang::Kk => format!("соңғы {months} айда бұзушылық анықталмаған"),
            });
            self.step(rule, StepStatus::Passed, figures, uncertain);
        } else {
            let figures = active.iter().fold(Text::default(), |acc, (kind, established, until)| {
                let one = Text::build(|l| match l {
                    Lang::En => format!(
                        "violation `{kind}` established {established}: no permits for {months} months, until {until}"
                    ),
                    Lang::Ru => format!(
                        "нарушение `{kind}` установлено {established}: разрешения не выдаются {months} мес., до {until}"
                    ),
                    Lang::Kk => format!(
                        "`{kind}` бұзушылығы {established} анықталды: {months} ай бойы, {until} дейін рұқсат берілмейді"
                    ),
                });
                acc.join("; ", &one)
            });
            self.refuse(rule, figures, uncertain);
        }
        Ok(())
    }

    fn overdue(&mut self, rule: &Rule, kind: &str) {
        let overdue: Vec<Date> = (self.facts.obligations.iter())
            .filter(|o| o.kind == kind && !o.fulfilled && o.due < self.date)
            .map(|o| o.due)
            .collect();
        if let Some(due) = overdue.first() {
            let figures = Text::build(|l| match l {
                Lang::En => format!("obligation `{kind}` due {due} is not fulfilled"),
                Lang::Ru => format!("обязательство `{kind}` со сроком {due} не исполнено"),
                Lang::Kk => format!("мерзімі {due} `{kind}` міндеттемесі орындалмаған"),
            });
            self.refuse(rule, figures, Vec::new());
        } else {
            let figures = Text::build(|l| match l {
                Lang::En => format!("no overdue obligation `{kind}`"),
                Lang::Ru => format!("просроченных обязательств `{kind}` нет"),
                Lang::Kk => format!("мерзімі өткен `{kind}` міндеттемесі жоқ"),
            });
            self.step(rule, StepStatus::Passed, figures, Vec::new());
        }
    }

    fn quota(&mut self, rule: &Rule, line: &str) {
        let line = line.replace("{project}", self.request.project.as_deref().unwrap_or(""));
        let category = &self.request.category;
        let places = self.request.workers();
        let regions: Vec<String> =
            if self.request.regions.is_empty() { vec!["*".to_string()] } else { self.request.regions.clone() };
        let mut lines = Text::default();
        let mut short = false;
        let mut used_cells: BTreeMap<usize, u64> = BTreeMap::new();
        for region in &regions {
            let matching: Vec<usize> = (0..self.facts.quota.cells.len())
                .filter(|&i| {
                    let c = &self.facts.quota.cells[i];
                    c.line == line
                        && (c.region == *region || c.region == "*")
                        && (c.category == *category || c.category == "*")
                })
                .collect();
            if matching.is_empty() {
                short = true;
                let one = Text::build(|l| match l {
                    Lang::En => format!("{line}, {region}, category {category}: no places allocated"),
                    Lang::Ru => format!("{line}, {region}, категория {category}: мест не выделено"),
                    Lang::Kk => format!("{line}, {region}, {category} санат: орын бөлінбеген"),
                });
                lines = lines.join("; ", &one);
            }
            for i in matching {
                *used_cells.entry(i).or_insert(0) += places;
            }
        }
        for (&i, &wanted) in &used_cells {
            let cell = &self.facts.quota.cells[i];
            let left = cell.allocated.saturating_sub(cell.used);
            let enough = left >= wanted;
            short |= !enough;
            let (allocated, used, region, cat) = (cell.allocated, cell.used, &cell.region, &cell.category);
            let one = Text::build(|l| {
                let (a, u, f) =
                    (text::amount(allocated as f64, l), text::amount(used as f64, l), text::amount(left as f64, l));
                let need = text::amount(wanted as f64, l);
                match l {
                    Lang::En => format!(
                        "{line}, {region}, category {cat}: {a} allocated, {u} used, {f} left {} {need} needed",
                        text::sign(enough, true)
                    ),
                    Lang::Ru => format!(
                        "{line}, {region}, категория {cat}: выделено {a}, использовано {u}, осталось {f} {} нужно {need}",
                        text::sign(enough, true)
                    ),
                    Lang::Kk => format!(
                        "{line}, {region}, {cat} санат: бөлінгені {a}, пайдаланылғаны {u}, қалғаны {f} {} қажеті {need}",
                        text::sign(enough, true)
                    ),
                }
            });
            lines = lines.join("; ", &one);
        }
        if short {
            self.refuse(rule, lines, Vec::new());
        } else {
            self.step(rule, StepStatus::Passed, lines, Vec::new());
            for (i, places) in used_cells {
                let cell = &self.facts.quota.cells[i];
                self.decision.consumes.push(Consumption {
                    line: cell.line.clone(),
                    region: cell.region.clone(),
                    category: cell.category.clone(),
                    places,
                });
            }
        }
    }

    fn min_local_share(
        &mut self,
        rule: &Rule,
        categories: &[String],
        min_share: &str,
        waiver_kinds: &[String],
        waiver_headcount: Option<&str>,
        outstaffed_counted: Option<&str>,
    ) -> Result<(), ParamError> {
        let (min, mut uncertain) = self.number(min_share)?;
        let kind = self.facts.employer.kind.clone();
        if waiver_kinds.contains(&kind)
            && let Some(threshold) = waiver_headcount
        {
            let (limit, u) = self.number(threshold)?;
            uncertain.extend(u);
            let headcount = self.headcount();
            if headcount as f64 <= limit {
                let figures = Text::build(|l| {
                    let (h, t) = (text::amount(headcount as f64, l), text::amount(limit, l));
                    match l {
                        Lang::En => format!("waived: {kind} of a foreign legal entity with {h} employees ≤ {t}"),
                        Lang::Ru => {
                            format!("не применяется: {kind} иностранного юридического лица, работников {h} ≤ {t}")
                        }
                        Lang::Kk => {
                            format!("қолданылмайды: шетелдік заңды тұлғаның {kind}, қызметкерлер саны {h} ≤ {t}")
                        }
                    }
                });
                self.step(rule, StepStatus::NotApplicable, figures, uncertain);
                return Ok(());
            }
            // Said beside the figures, so the date boundary is visible in the answer.
            let note = Text::build(|l| {
                let (h, t) = (text::amount(headcount as f64, l), text::amount(limit, l));
                match l {
                    Lang::En => format!("not waived: {h} employees > {t}"),
                    Lang::Ru => format!("исключение не действует: работников {h} > {t}"),
                    Lang::Kk => format!("ерекшелік қолданылмайды: қызметкерлер {h} > {t}"),
                }
            });
            return self.local_share_figures(rule, categories, min, outstaffed_counted, uncertain, Some(note));
        }
        self.local_share_figures(rule, categories, min, outstaffed_counted, uncertain, None)
    }

    fn local_share_figures(
        &mut self,
        rule: &Rule,
        categories: &[String],
        min: f64,
        outstaffed_counted: Option<&str>,
        mut uncertain: Vec<String>,
        note: Option<Text>,
    ) -> Result<(), ParamError> {
        let count_outstaffed = match outstaffed_counted {
            Some(id) => {
                let (value, u) = self.param(id)?;
                uncertain.extend(u);
                value.as_bool().ok_or(ParamError::Shape {
                    param: id.into(),
                    date: self.date,
                    expected: "true or false",
                })?
            }
            None => false,
        };
        let in_group = |g: &StaffGroup| categories.contains(&g.category) && (count_outstaffed || !g.outstaffed);
        let local: u64 = self
            .facts
            .staff
            .iter()
            .filter(|g| in_group(g) && g.local && !g.outstaffed)
            .map(|g| u64::from(g.count))
            .sum();
        let mut total: u64 = self.facts.staff.iter().filter(|g| in_group(g)).map(|g| u64::from(g.count)).sum();
        let newcomers = self.newcomers();
        if self.is_new_hire() && categories.contains(&newcomers.category) {
            total += u64::from(newcomers.count);
        }
        let label = self.policy.local_label.clone();
        let cats = categories.to_vec();
        let figures = if total == 0 {
            Text::build(|l| match l {
                Lang::En => format!("no staff in {}", text::categories(&cats, l)),
                Lang::Ru => format!("{}: работников нет", text::categories(&cats, l)),
                Lang::Kk => format!("{}: қызметкер жоқ", text::categories(&cats, l)),
            })
        } else {
            let share = local as f64 / total as f64;
            let holds = share + 1e-12 >= min;
            Text::build(|l| {
                let (lo, to) = (text::amount(local as f64, l), text::amount(total as f64, l));
                let (s, m, sign) = (text::percent(share, l), text::decimal(min * 100.0, 1, l), text::sign(holds, true));
                let cats = text::categories(&cats, l);
                let label = label.get(l);
                match l {
                    Lang::En => format!("{lo} {label} of {to} in {cats} = {s}% {sign} {m}%"),
                    Lang::Ru => format!("{cats}: всего {to}, из них {label} — {lo} = {s}% {sign} {m}%"),
                    Lang::Kk => format!("{cats}: барлығы {to}, оның ішінде {label} — {lo} = {s}% {sign} {m}%"),
                }
            })
        };
        let figures = match note {
            Some(note) => note.join("; ", &figures),
            None => figures,
        };
        let holds = total == 0 || (local as f64 / total as f64) + 1e-12 >= min;
        if holds {
            self.step(rule, StepStatus::Passed, figures, uncertain);
        } else {
            self.refuse(rule, figures, uncertain);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn max_foreign_share(
        &mut self,
        rule: &Rule,
        share_param: &str,
        keyed_by: &[Selector],
        base: ShareBase,
        base_filter: &StaffFilter,
        counted: &StaffFilter,
        label: Option<&Text>,
    ) -> Result<(), ParamError> {
        let label =
            label.cloned().unwrap_or_else(|| Text::new("foreign share", "доля иностранцев", "шетелдіктер үлесі"));
        if self.is_new_hire() && !self.filter_matches(counted, &self.newcomers()) {
            let figures = Text::build(|l| match l {
                Lang::En => format!("{}: the worker is not counted in it", label.en),
                Lang::Ru => format!("{}: работник в ней не учитывается", label.ru),
                Lang::Kk => format!("{}: қызметкер онда есептелмейді", label.get(l)),
            });
            self.step(rule, StepStatus::NotApplicable, figures, Vec::new());
            return Ok(());
        }
        let (share, uncertain) = self.keyed_number(share_param, keyed_by)?;
        let foreign = self.count(counted, true);
        let (holds, figures) = match base {
            ShareBase::Total => {
                let total = self.count(base_filter, true);
                let others = total.saturating_sub(foreign) as f64;
                let ceiling = if share < 1.0 { (share * others / (1.0 - share) + 1e-9).floor() } else { f64::INFINITY };
                let ratio = if total == 0 { 0.0 } else { foreign as f64 / total as f64 };
                let holds = ratio <= share + 1e-12;
                let figures = Text::build(|l| {
                    let (f, t, r, s) = (
                        text::amount(foreign as f64, l),
                        text::amount(total as f64, l),
                        text::percent(ratio, l),
                        text::decimal(share * 100.0, 2, l),
                    );
                    let sign = text::sign(holds, false);
                    let max = if ceiling.is_finite() { text::amount(ceiling, l) } else { "∞".into() };
                    match l {
                        Lang::En => {
                            format!("{}: {f} of {t} = {r}% {sign} {s}% (at most {max} with the others)", label.en)
                        }
                        Lang::Ru => {
                            format!("{}: {f} из {t} = {r}% {sign} {s}% (не более {max} при остальных)", label.ru)
                        }
                        Lang::Kk => {
                            format!("{}: {t} ішінде {f} = {r}% {sign} {s}% (қалғандарымен ең көбі {max})", label.kk)
                        }
                    }
                });
                (holds, figures)
            }
            ShareBase::Local => {
                let locals = self.count(&StaffFilter { local: Some(true), ..base_filter.clone() }, false);
                let limit = share * locals as f64;
                let holds = foreign as f64 <= limit + 1e-9;
                let cats: Vec<String> = (base_filter.categories.clone().unwrap_or_default().into_iter())
                    .map(|c| if c == "{category}" { self.request.category.clone() } else { c })
                    .collect();
                let local_label = self.policy.local_label.clone();
                let figures = Text::build(|l| {
                    let (f, n, s, lim) = (
                        text::amount(foreign as f64, l),
                        text::amount(locals as f64, l),
                        text::decimal(share * 100.0, 2, l),
                        text::decimal(limit, 1, l),
                    );
                    let sign = text::sign(holds, false);
                    let cats =
                        if cats.is_empty() { String::new() } else { format!(" ({})", text::categories(&cats, l)) };
                    match l {
                        Lang::En => format!("{}: {f} {sign} {s}% of {n} {}{cats} = {lim}", label.en, local_label.en),
                        Lang::Ru => format!("{}: {f} {sign} {s}% от {n} ({}){cats} = {lim}", label.ru, local_label.ru),
                        Lang::Kk => {
                            format!("{}: {f} {sign} {n} ({}){cats} санының {s}% = {lim}", label.kk, local_label.kk)
                        }
                    }
                });
                (holds, figures)
            }
        };
        if holds {
            self.step(rule, StepStatus::Passed, figures, uncertain);
        } else {
            self.refuse(rule, figures, uncertain);
        }
        Ok(())
    }

    fn validity(&mut self, rule: &Rule, table: &str) -> Result<(), ParamError> {
        let (entry, uncertain) = self.keyed(table, &[Selector::Category])?;
        let shape = || ParamError::Shape {
            param: table.into(),
            date: self.date,
            expected: "{ initial = [months], extension = [months], max_extensions = n }",
        };
        let months_list = |key: &str| -> Vec<u32> {
            entry
                .lookup(&[key.to_string()])
                .and_then(Value::as_list)
                .unwrap_or(&[])
                .iter()
                .filter_map(Value::as_number)
                .filter(|n| *n >= 1.0 && *n <= 1200.0)
                .map(|n| n as u32)
                .collect()
        };
        let category = self.request.category.clone();
        let (choices, from) = match self.request.kind {
            RequestKind::Registration => return Ok(()),
            RequestKind::Issue => (months_list("initial"), self.date),
            RequestKind::Extension => {
                let max = entry.lookup(&["max_extensions".to_string()]).and_then(Value::as_number);
                let number = self.request.extension_number.max(1);
                if let Some(max) = max
                    && f64::from(number) > max
                {
                    let figures = Text::build(|l| {
                        let m = text::amount(max, l);
                        match (l, max < 1.0) {
                            (Lang::En, true) => format!("category {category}: no extension is provided"),
                            (Lang::En, false) => {
                                format!("category {category}: extension no. {number} requested, at most {m} allowed")
                            }
                            (Lang::Ru, true) => format!("категория {category}: продление не предусмотрено"),
                            (Lang::Ru, false) => format!(
                                "категория {category}: запрошено продление № {number}, допускается не более {m}"
                            ),
                            (Lang::Kk, true) => format!("{category} санат: ұзарту көзделмеген"),
                            (Lang::Kk, false) => {
                                format!("{category} санат: № {number} ұзарту сұралды, ең көбі {m} рет рұқсат")
                            }
                        }
                    });
                    self.refuse(rule, figures, uncertain);
                    return Ok(());
                }
                let from = self.request.current_expiry.map(|d| add_days(d, 1)).unwrap_or(self.date);
                (months_list("extension"), from)
            }
        };
        if choices.is_empty() {
            return Err(shape());
        }
        let wanted = self.request.term_months;
        let term = match wanted {
            Some(w) if choices.contains(&w) => w,
            Some(w) => choices.iter().copied().filter(|c| *c <= w).max().unwrap_or(choices[0]),
            None => choices[0],
        };
        let until = add_days(add_months(from, i64::from(term)), -1);
        let list = choices.iter().map(u32::to_string).collect::<Vec<_>>().join("/");
        let figures = Text::build(|l| match l {
            Lang::En => format!("category {category}: {term} months (allowed {list}), {from} to {until}"),
            Lang::Ru => format!("категория {category}: {term} мес. (допускается {list}), с {from} по {until}"),
            Lang::Kk => format!("{category} санат: {term} ай (рұқсат етілгені {list}), {from} бастап {until} дейін"),
        });
        self.step(rule, StepStatus::Applied, figures, uncertain);
        self.decision.permit = Some(Permit { term_months: term, valid_from: from, valid_until: until });
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn fee(
        &mut self,
        rule: &Rule,
        amounts: &str,
        unit: Option<&str>,
        keyed_by: &[Selector],
        per_region: bool,
        monthly: bool,
        label: &Text,
    ) -> Result<(), ParamError> {
        let (multiplier, mut uncertain) = self.keyed_number(amounts, keyed_by)?;
        let (unit_value, unit_name) = match unit {
            Some(id) => {
                let (v, u) = self.number(id)?;
                uncertain.extend(u);
                (Some(v), id.to_uppercase())
            }
            None => (None, String::new()),
        };
        let regions = if per_region { self.request.regions.len().max(1) as f64 } else { 1.0 };
        let workers = self.request.workers() as f64;
        let each = multiplier * unit_value.unwrap_or(1.0);
        let amount = each * regions * workers;
        let currency = self.policy.currency.clone();
        let figures = Text::build(|l| {
            let mut s = match unit_value {
                Some(u) => format!(
                    "{} {unit_name} × {} {currency} = {} {currency}",
                    text::decimal(multiplier, 2, l),
                    text::amount(u, l),
                    text::amount(each, l)
                ),
                None => format!("{} {currency}", text::decimal(each, 2, l)),
            };
            if regions > 1.0 {
                s = match l {
                    Lang::En => format!("{s} × {regions} regions"),
                    Lang::Ru => format!("{s} × {regions} региона(ов)"),
                    Lang::Kk => format!("{s} × {regions} өңір"),
                };
            }
            if workers > 1.0 {
                s = format!("{s} × {workers}");
            }
            let per = match (l, monthly) {
                (_, false) => "",
                (Lang::En, true) => " a month",
                (Lang::Ru, true) => " в месяц",
                (Lang::Kk, true) => " айына",
            };
            format!("{}: {s}{per}", label.get(l))
        });
        self.step(rule, StepStatus::Applied, figures, uncertain);
        self.decision.fees.push(FeeLine {
            rule: rule.id.clone(),
            label: label.clone(),
            amount,
            currency: self.policy.currency.clone(),
            monthly,
        });
        Ok(())
    }

    fn levy(
        &mut self,
        rule: &Rule,
        tiers: &str,
        keyed_by: &[Selector],
        counted: &StaffFilter,
        label: &Text,
    ) -> Result<(), ParamError> {
        let (list, uncertain) = self.keyed(tiers, keyed_by)?;
        let shape = ParamError::Shape { param: tiers.into(), date: self.date, expected: "a list of { up_to, amount }" };
        let bands: Vec<(f64, f64)> = list
            .as_list()
            .ok_or(shape.clone())?
            .iter()
            .map(|b| Some((b.lookup(&["up_to".into()])?.as_number()?, b.lookup(&["amount".into()])?.as_number()?)))
            .collect::<Option<_>>()
            .ok_or(shape)?;
        let foreign = self.count(counted, true);
        let total = self.count(&StaffFilter::default(), true);
        let share = if total == 0 { 0.0 } else { foreign as f64 / total as f64 };
        let Some(tier) = bands.iter().position(|(up_to, _)| share <= up_to + 1e-12) else {
            let figures = Text::build(|l| match l {
                Lang::En => format!("{}: share {}% is above every tier", label.en, text::percent(share, l)),
                Lang::Ru => format!("{}: доля {}% выше всех ступеней", label.ru, text::percent(share, l)),
                Lang::Kk => format!("{}: үлес {}% барлық сатыдан жоғары", label.kk, text::percent(share, l)),
            });
            self.step(rule, StepStatus::NotApplicable, figures, uncertain);
            return Ok(());
        };
        let (up_to, amount) = bands[tier];
        let currency = self.policy.currency.clone();
        let tier_no = tier + 1;
        let figures = Text::build(|l| {
            let (f, t, s, u, a) = (
                text::amount(foreign as f64, l),
                text::amount(total as f64, l),
                text::percent(share, l),
                text::decimal(up_to * 100.0, 2, l),
                text::amount(amount, l),
            );
            match l {
                Lang::En => format!("{}: {f} of {t} = {s}% ≤ {u}% (tier {tier_no}): {a} {currency} a month", label.en),
                Lang::Ru => {
                    format!("{}: {f} из {t} = {s}% ≤ {u}% (ступень {tier_no}): {a} {currency} в месяц", label.ru)
                }
                Lang::Kk => {
                    format!("{}: {t} ішінде {f} = {s}% ≤ {u}% ({tier_no}-саты): айына {a} {currency}", label.kk)
                }
            }
        });
        self.step(rule, StepStatus::Applied, figures, uncertain);
        self.decision.fees.push(FeeLine {
            rule: rule.id.clone(),
            label: label.clone(),
            amount: amount * self.request.workers() as f64,
            currency,
            monthly: true,
        });
        Ok(())
    }

    fn obligation(&mut self, rule: &Rule, kind: &str, months: &str, label: &Text) -> Result<(), ParamError> {
        let (months, uncertain) = self.number(months)?;
        let due = add_months(self.date, months as i64);
        let figures = Text::build(|l| match l {
            Lang::En => format!("{} (`{kind}`): within {months} months, by {due}", label.en),
            Lang::Ru => format!("{} (`{kind}`): в течение {months} мес., до {due}", label.ru),
            Lang::Kk => format!("{} (`{kind}`): {months} ай ішінде, {due} дейін", label.kk),
        });
        self.step(rule, StepStatus::Applied, figures, uncertain);
        self.decision.deadlines.push(DeadlineLine { rule: rule.id.clone(), label: label.clone(), due });
        Ok(())
    }

    fn deadline(&mut self, rule: &Rule, days: &str, label: &Text) -> Result<(), ParamError> {
        let (days, mut uncertain) = self.number(days)?;
        let days = days.min(3650.0) as u32;
        let due = add_business_days(self.date, days);
        uncertain.push("business days count Monday to Friday; public holidays are not known to the engine".into());
        let figures = Text::build(|l| match l {
            Lang::En => format!("{}: within {days} business days, by {due}", label.en),
            Lang::Ru => format!("{}: в течение {days} рабочих дней, до {due}", label.ru),
            Lang::Kk => format!("{}: {days} жұмыс күні ішінде, {due} дейін", label.kk),
        });
        self.step(rule, StepStatus::Applied, figures, uncertain);
        self.decision.deadlines.push(DeadlineLine { rule: rule.id.clone(), label: label.clone(), due });
        Ok(())
    }

    fn lottery(&mut self, rule: &Rule, weights: &str, keyed_by: &[Selector], cap: &str) -> Result<(), ParamError> {
        let (weight, mut uncertain) = self.keyed_number(weights, keyed_by)?;
        let (cap, u) = self.number(cap)?;
        uncertain.extend(u);
        let figures = Text::build(|l| {
            let (w, c) = (text::decimal(weight, 2, l), text::amount(cap, l));
            match l {
                Lang::En => format!("enters the selection for {c} places with weight {w}"),
                Lang::Ru => format!("участвует в отборе на {c} мест с весом {w}"),
                Lang::Kk => format!("{c} орынға іріктеуге {w} салмағымен қатысады"),
            }
        });
        self.step(rule, StepStatus::Applied, figures, uncertain);
        self.decision.lottery_weight = Some(weight);
        Ok(())
    }

    fn finish(mut self) -> Decision {
        let d = &mut self.decision;
        if d.outcome != Outcome::Exempt {
            d.outcome = if !d.refusals.is_empty() {
                Outcome::Refused
            } else if d.steps.iter().any(|s| s.status == StepStatus::Undetermined) {
                Outcome::Undetermined
            } else if d.lottery_weight.is_some() {
                Outcome::Lottery
            } else {
                Outcome::Granted
            };
        }
        if d.outcome != Outcome::Granted && d.outcome != Outcome::Lottery {
            // Nothing is consumed or charged unless granted.
            d.permit = None;
            d.fees.clear();
            d.deadlines.clear();
            d.consumes.clear();
        }
        d.fee_total = d.fees.iter().filter(|f| !f.monthly).map(|f| f.amount).sum();
        d.summary = summary(d, self.policy);
        self.decision
    }
}

fn summary(d: &Decision, policy: &Policy) -> Text {
    let currency = &policy.currency;
    match d.outcome {
        Outcome::Exempt => {
            let why = d.steps.last().map(|s| s.figures.clone()).unwrap_or_default();
            let legal = d.steps.last().map(|s| s.legal.to_string()).unwrap_or_default();
            Text::build(|l| match l {
                Lang::En => format!("Exempt: {} [{legal}]", why.en),
                Lang::Ru => format!("Не требуется: {} [{legal}]", why.ru),
                Lang::Kk => format!("Талап етілмейді: {} [{legal}]", why.kk),
            })
        }
        Outcome::Refused => {
            let list = |l: Lang| {
                d.refusals
                    .iter()
                    .map(|r| format!("{} — {} [{}]", r.ground, r.text.get(l), r.legal))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            Text::build(|l| match l {
                Lang::En => format!("Refused on ground(s): {}", list(l)),
                Lang::Ru => format!("Отказано по основанию(ям): {}", list(l)),
                Lang::Kk => format!("Бас тартылды, негіз(дер): {}", list(l)),
            })
        }
        Outcome::Granted => {
            let term = d.permit.as_ref().map(|p| (p.term_months, p.valid_until));
            Text::build(|l| {
                let fee = text::amount(d.fee_total, l);
                match (l, term) {
                    (Lang::En, Some((m, u))) => format!("Granted for {m} months, until {u}; fee {fee} {currency}"),
                    (Lang::En, None) => format!("Granted; fee {fee} {currency}"),
                    (Lang::Ru, Some((m, u))) => format!("Выдано на {m} мес., до {u}; сбор {fee} {currency}"),
                    (Lang::Ru, None) => format!("Выдано; сбор {fee} {currency}"),
                    (Lang::Kk, Some((m, u))) => format!("{m} айға, {u} дейін берілді; алым {fee} {currency}"),
                    (Lang::Kk, None) => format!("Берілді; алым {fee} {currency}"),
                }
            })
        }
        Outcome::Lottery => {
            let w = d.lottery_weight.unwrap_or(0.0);
            Text::build(|l| match l {
                Lang::En => format!("Entered into the weighted selection with weight {}", text::decimal(w, 2, l)),
                Lang::Ru => format!("Включено во взвешенный отбор с весом {}", text::decimal(w, 2, l)),
                Lang::Kk => format!("{} салмағымен өлшенген іріктеуге енгізілді", text::decimal(w, 2, l)),
            })
        }
        Outcome::Undetermined => Text::new(
            "Undetermined: a parameter is missing for the date",
            "Не определено: нет параметра на эту дату",
            "Анықталмады: осы күнге параметр жоқ",
        ),
    }
}
