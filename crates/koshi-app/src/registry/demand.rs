//! Labour demand from the vacancy database: indicators by region × occupation × month, the
//! shortage assessment by a dated, cited rule, and the adopted shortage list that the permit
//! decisions' labour-market test reads.

use std::collections::{BTreeMap, HashMap};

use koshi_labour::Lang;
use koshi_labour::demand::{DemandConfig, DemandTable, Month, MonthFlows, SeekerCount, TOTAL, indicators_from_flows};
use koshi_labour::shortage::{Adjustment, Assessment, ShortageRules, Status};
use koshi_labour::vacancy::{IscoCode, Region};
use koshi_registry::{Role, ShortageEntryRow, ShortageListRow};
use serde::{Deserialize, Serialize};

use super::RegistryService;
use super::auth::Actor;
use super::cases::{audit, json, not_found, parse_json};
use crate::error::{AppError, Result};

/// The most cells one page of indicators carries (the command line may ask for all at once).
pub const MAX_DEMAND_CELLS: usize = 50_000;
/// The most entries of a shortage list one page carries.
pub const MAX_SHORTAGE_PAGE: usize = 20_000;
/// The composite index a shortage list follows unless another is asked for.
pub const DEFAULT_SHORTAGE_RULE: &str = "kz-demand-decline";

/// Which indicators to compute.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DemandRequest {
    /// ISCO-08 digits, 1 to 4 (2 by default).
    pub level: Option<usize>,
    /// First and last month, `YYYY-MM` (the 12 months up to this month by default).
    pub from: Option<String>,
    pub to: Option<String>,
    pub region: Option<String>,
    /// An ISCO-08 code at the level, or `_T`.
    pub occupation: Option<String>,
    /// Cells to pass over (region, then occupation, then month order); 0 by default.
    pub offset: Option<usize>,
    /// Cells to answer: at most [`MAX_DEMAND_CELLS`], which is the default; on the command line
    /// every cell by default.
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemandCellView {
    pub region: String,
    pub occupation: String,
    pub month: String,
    pub stock: u64,
    pub inflow: u64,
    pub outflow: u64,
    pub hires: u64,
    pub mean_duration_days: Option<f64>,
    pub seekers: Option<u64>,
    pub seekers_per_vacancy: Option<f64>,
    pub tightness: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemandReport {
    pub level: usize,
    pub from: String,
    pub to: String,
    /// Vacancies read (repeats of another posting are not counted).
    pub vacancies: usize,
    /// Of them, without an occupation or a readable region or date: left out of every cell.
    pub uncoded: usize,
    /// Inputs the computation could not use, with the reason.
    pub skipped: usize,
    /// Cells of the whole answer, of which this page holds `cells` from `offset` on.
    pub total_cells: usize,
    pub offset: usize,
    /// The offset of the next page, if there is one.
    pub next_offset: Option<usize>,
    pub cells: Vec<DemandCellView>,
}

/// A shortage assessment of every occupation in every region.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShortageRequest {
    /// The composite index's id (`kz-demand-decline` by default).
    pub rule: Option<String>,
    /// The reference month, `YYYY-MM` (the last complete month by default).
    pub month: Option<String>,
    /// ISCO-08 digits, 1 to 4 (4 by default).
    pub level: Option<usize>,
    /// Officials' adjustments, applied after the rule and shown as such.
    pub adjustments: Vec<AdjustmentInput>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInput {
    pub region: String,
    pub occupation: String,
    pub status: Status,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AssessmentView {
    pub region: String,
    pub occupation: String,
    pub status: Status,
    /// The rule's own status, before any adjustment.
    pub rule_status: Status,
    pub seekers: Option<u64>,
    pub vacancies: u64,
    pub figures: BTreeMap<String, f64>,
    pub reasons: BTreeMap<&'static str, Vec<String>>,
    pub adjusted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShortageReport {
    /// The adopted list's id, once adopted.
    pub list: Option<i64>,
    pub rule: koshi_labour::shortage::RuleRef,
    pub month: String,
    pub level: usize,
    pub counts: BTreeMap<&'static str, usize>,
    pub assessments: Vec<AssessmentView>,
}

/// A published list's entries.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShortageListRequest {
    /// The list (the newest adopted by default).
    pub list: Option<i64>,
    pub region: Option<String>,
    pub occupation: Option<String>,
    pub status: Option<Status>,
    /// The entries after this one, `REGION/CODE` (a page's `next_after`).
    pub after: Option<String>,
    /// Entries per page: 1 to 20,000 (1,000 by default).
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShortageListView {
    pub list: ShortageListRow,
    pub entries: Vec<serde_json::Value>,
    /// Where the next page starts (`after`), if there is one.
    pub next_after: Option<String>,
}

fn month_field(field: &str, text: &str) -> Result<Month> {
    Month::parse(text.trim()).map_err(|e| AppError::invalid(field, e.to_string()))
}

fn region_field(text: &str) -> Result<Region> {
    super::vacancies::parse_region(text).map_err(|e| AppError::invalid("region", e))
}

fn level_field(level: Option<usize>, default: usize) -> Result<usize> {
    let level = level.unwrap_or(default);
    if !(1..=4).contains(&level) {
        return Err(AppError::invalid("level", "ISCO-08 digits: 1, 2, 3 or 4"));
    }
    Ok(level)
}

/// The bundled shortage rules, read once (they are compiled in).
fn shortage_rules() -> Result<&'static ShortageRules> {
    static RULES: std::sync::OnceLock<std::result::Result<ShortageRules, String>> = std::sync::OnceLock::new();
    RULES
        .get_or_init(|| ShortageRules::bundled().map(|c| c.value).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| AppError::Unanswerable(format!("the shortage rules: {e}")))
}

struct Inputs {
    flows: Vec<MonthFlows>,
    seekers: Vec<SeekerCount>,
    vacancies: usize,
    uncoded: usize,
}

impl RegistryService {
    /// The vacancies' monthly sums up to `to` (kept as vacancies are written, repeats left out)
    /// and the seekers' counts of `[from, to]`.
    fn demand_inputs(&self, actor: &Actor, from: Month, to: Month) -> Result<Inputs> {
        self.store.read(&actor.scope(), |tx| {
            let (vacancies, uncoded) = tx.vacancy_month_totals()?;
            let mut inputs = Inputs {
                flows: Vec::new(),
                seekers: Vec::new(),
                vacancies: usize::try_from(vacancies).unwrap_or(0),
                uncoded: usize::try_from(uncoded).unwrap_or(0),
            };
            let count =
                |n: i64| u64::try_from(n).map_err(|_| AppError::Unanswerable(format!("a negative monthly sum {n}")));
            for row in tx.vacancy_months(&to.to_string())? {
                let parsed = (
                    Region::from_code(&row.region).ok(),
                    row.occupation.as_deref().and_then(|o| IscoCode::parse(o).ok()),
                    Month::parse(&row.month).ok(),
                );
                let (Some(region), Some(occupation), Some(month)) = parsed else {
                    // Coded vacancies whose region or code koshi no longer reads.
                    if row.occupation.is_some() {
                        inputs.uncoded += usize::try_from(row.vacancies).unwrap_or(0);
                    }
                    continue;
                };
                inputs.flows.push(MonthFlows {
                    region,
                    occupation,
                    month,
                    inflow: count(row.inflow)?,
                    outflow: count(row.outflow)?,
                    hires: count(row.hires)?,
                    ended_spells: count(row.ended)?,
                    duration_days: count(row.duration_days)?,
                });
            }
            for c in tx.seeker_counts(None, &from.to_string(), &to.to_string())? {
                if c.education != "_T" {
                    continue;
                }
                let (Ok(region), Ok(month)) = (Region::from_code(&c.region), Month::parse(&c.month)) else { continue };
                inputs.seekers.push(SeekerCount {
                    region,
                    occupation: (c.occupation != TOTAL).then(|| c.occupation.clone()),
                    month,
                    seekers: u64::try_from(c.seekers).unwrap_or(0),
                });
            }
            Ok(inputs)
        })
    }

    fn this_month(&self) -> Result<Month> {
        let today = self.today();
        Month::new(today.year as u16, today.month).map_err(|e| AppError::Unanswerable(e.to_string()))
    }

    /// Vacancy stock and inflow, seekers per vacancy, tightness and duration by region ×
    /// occupation × month; public (aggregates).
    pub fn labour_demand(&self, actor: &Actor, request: &DemandRequest) -> Result<DemandReport> {
        let level = level_field(request.level, 2)?;
        let to = match &request.to {
            Some(t) => month_field("to", t)?,
            None => self.this_month()?,
        };
        let from = match &request.from {
            Some(f) => month_field("from", f)?,
            None => to.add_months(-11).unwrap_or(to),
        };
        let region = request.region.as_deref().map(region_field).transpose()?;
        let occupation = request.occupation.as_deref().map(str::trim).map(str::to_string);
        if let Some(o) = &occupation
            && o != TOTAL
            && (o.len() != level || !o.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(AppError::invalid(
                "occupation",
                format!("`{o}` is not `_T` nor an ISCO-08 code of {level} digits"),
            ));
        }
        let config = DemandConfig { level, from, to };
        config.months().map_err(|e| AppError::invalid("from", e.to_string()))?;
        let inputs = self.demand_inputs(actor, from, to)?;
        let table = indicators_from_flows(&inputs.flows, &inputs.seekers, &config)
            .map_err(|e| AppError::invalid("from", e.to_string()))?;
        let offset = request.offset.unwrap_or(0);
        let most = if actor.is_operator() { usize::MAX } else { MAX_DEMAND_CELLS };
        let limit = request.limit.unwrap_or(most);
        if limit == 0 || limit > most {
            return Err(AppError::invalid("limit", format!("cells per page: 1 to {most}")));
        }
        let mut cells = Vec::new();
        let mut total_cells = 0;
        for c in table.value.cells() {
            if region.is_some_and(|r| r != c.region) || occupation.as_deref().is_some_and(|o| o != c.occupation) {
                continue;
            }
            total_cells += 1;
            if total_cells <= offset || cells.len() == limit {
                continue;
            }
            cells.push(DemandCellView {
                region: c.region.as_str().to_string(),
                occupation: c.occupation.to_string(),
                month: c.month.to_string(),
                stock: c.stock,
                inflow: c.inflow,
                outflow: c.outflow,
                hires: c.hires,
                mean_duration_days: c.mean_duration_days,
                seekers: c.seekers,
                seekers_per_vacancy: c.seekers_per_vacancy,
                tightness: c.tightness,
            });
        }
        let next = offset.saturating_add(cells.len());
        Ok(DemandReport {
            level,
            from: from.to_string(),
            to: to.to_string(),
            vacancies: inputs.vacancies,
            uncoded: inputs.uncoded,
            skipped: table.skipped.len(),
            total_cells,
            offset,
            next_offset: (next < total_cells).then_some(next),
            cells,
        })
    }

    /// The shortage assessment of every occupation in every region for a month, by a composite
    /// index whose weights and thresholds are dated, cited data; nothing is stored.
    pub fn assess_shortage(&self, actor: &Actor, request: &ShortageRequest) -> Result<ShortageReport> {
        let level = level_field(request.level, 4)?;
        let month = match &request.month {
            Some(m) => month_field("month", m)?,
            None => {
                self.this_month()?.pred().ok_or_else(|| AppError::Unanswerable("no month before this one".into()))?
            }
        };
        let rules = shortage_rules()?;
        let id = request.rule.as_deref().unwrap_or(DEFAULT_SHORTAGE_RULE);
        let on = month.last_day();
        let index = rules.composite(id, on).ok_or_else(|| AppError::NotFound {
            what: "shortage rule",
            id: format!("{id} on {on}"),
            known: rules.composite_ids().iter().map(|s| s.to_string()).collect(),
        })?;
        let from = month.add_months(-12).ok_or_else(|| AppError::invalid("month", "too early"))?;
        let inputs = self.demand_inputs(actor, from, month)?;
        let table = indicators_from_flows(&inputs.flows, &inputs.seekers, &DemandConfig { level, from, to: month })
            .map_err(|e| AppError::invalid("month", e.to_string()))?
            .value;
        let rows = indicator_rows(&table, month, from);
        let mut assessments = index.assess(&rows);
        let today = super::vacancies::to_labour_date(self.today())?;
        let adjustments = request
            .adjustments
            .iter()
            .map(|a| {
                let region = region_field(&a.region)?;
                if a.reason.trim().is_empty() {
                    return Err(AppError::invalid("adjustments.reason", "say why the list is adjusted"));
                }
                Ok(Adjustment {
                    area: region.as_str().to_string(),
                    occupation: a.occupation.trim().to_string(),
                    status: a.status,
                    reason: a.reason.trim().to_string(),
                    by: actor.audit_name(),
                    date: today,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let unmatched = koshi_labour::shortage::apply_adjustments(&mut assessments, &adjustments);
        if let Some(&i) = unmatched.first() {
            let a = &adjustments[i];
            return Err(AppError::invalid(
                "adjustments",
                format!("no occupation {} is assessed in {} for {month}", a.occupation, a.area),
            ));
        }
        let seekers: HashMap<(String, String), (Option<u64>, u64)> = rows
            .iter()
            .map(|r| {
                let s = r.values.get("seekers").map(|v| *v as u64);
                let v = r.values.get("vacancy_stock").map_or(0, |v| *v as u64);
                ((r.area.clone(), r.occupation.clone()), (s, v))
            })
            .collect();
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        let views = assessments
            .iter()
            .map(|a| {
                *counts.entry(a.status.as_str()).or_default() += 1;
                let (seekers, vacancies) =
                    seekers.get(&(a.area.clone(), a.occupation.clone())).copied().unwrap_or((None, 0));
                assessment_view(a, seekers, vacancies)
            })
            .collect();
        Ok(ShortageReport {
            list: None,
            rule: index.rule_ref(),
            month: month.to_string(),
            level,
            counts,
            assessments: views,
        })
    }

    /// An administrator adopts the assessment as the shortage list the labour-market test
    /// reads, in one transaction with its audit entry.
    pub fn adopt_shortage_list(&self, actor: &Actor, request: &ShortageRequest) -> Result<ShortageReport> {
        actor.require(&[Role::Admin], "adopt shortage lists")?;
        let mut report = self.assess_shortage(actor, request)?;
        let now = self.now();
        let entries: Vec<ShortageEntryRow> = report
            .assessments
            .iter()
            .map(|a| {
                Ok(ShortageEntryRow {
                    list: 0,
                    region: a.region.clone(),
                    occupation: a.occupation.clone(),
                    status: a.status.as_str().to_string(),
                    seekers: a.seekers.map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
                    vacancies: Some(i64::try_from(a.vacancies).unwrap_or(i64::MAX)),
                    detail: json(a)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let summary = json(&serde_json::json!({
            "rule": report.rule, "month": report.month, "level": report.level, "counts": report.counts,
            "adjustments": request.adjustments,
        }))?;
        let id = self.store.write(&actor.scope(), |tx| {
            let list = ShortageListRow {
                id: 0,
                rule: report.rule.id.clone(),
                as_of: report.month.clone(),
                adopted_at: now,
                adopted_by: actor.audit_name(),
                summary: summary.clone(),
            };
            let id = tx.insert_shortage_list(&list, &entries)?;
            audit(tx, actor, now, "adopt_shortage_list", format!("shortage_list/{id}"), None, Some(summary.clone()))?;
            Ok::<_, AppError>(id)
        })?;
        report.list = Some(id);
        Ok(report)
    }

    /// An adopted list's entries (the newest by default); public.
    pub fn shortage_list(&self, actor: &Actor, request: &ShortageListRequest) -> Result<ShortageListView> {
        let region = request.region.as_deref().map(region_field).transpose()?.map(|r| r.as_str().to_string());
        let limit = request.limit.unwrap_or(1_000);
        if !(1..=MAX_SHORTAGE_PAGE).contains(&limit) {
            return Err(AppError::invalid("limit", format!("entries per page: 1 to {MAX_SHORTAGE_PAGE}")));
        }
        let after = match request.after.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => Some(a.split_once('/').ok_or_else(|| {
                AppError::invalid("after", format!("`{a}` is not REGION/CODE, the `next_after` of a page"))
            })?),
            None => None,
        };
        self.store.read(&actor.scope(), |tx| {
            let list = match request.list {
                Some(id) => tx.shortage_list(id)?.ok_or_else(|| not_found("shortage list", id))?,
                None => tx.latest_shortage_list()?.ok_or_else(|| AppError::NotFound {
                    what: "shortage list",
                    id: "latest".into(),
                    known: Vec::new(),
                })?,
            };
            let mut rows = tx.shortage_entries(
                list.id,
                region.as_deref(),
                request.occupation.as_deref(),
                request.status.map(Status::as_str),
                after,
                limit + 1,
            )?;
            let more = rows.len() > limit;
            rows.truncate(limit);
            let next_after = rows.last().filter(|_| more).map(|e| format!("{}/{}", e.region, e.occupation));
            let entries = rows
                .iter()
                .map(|e| parse_json::<serde_json::Value>("shortage entry", &e.detail))
                .collect::<Result<Vec<_>>>()?;
            Ok(ShortageListView { list, entries, next_after })
        })
    }
}

fn assessment_view(a: &Assessment, seekers: Option<u64>, vacancies: u64) -> AssessmentView {
    AssessmentView {
        region: a.area.clone(),
        occupation: a.occupation.clone(),
        status: a.status,
        rule_status: a.rule_status,
        seekers,
        vacancies,
        figures: a.figures.iter().map(|f| (f.name.clone(), f.value)).collect(),
        reasons: [("en", Lang::En), ("ru", Lang::Ru), ("kk", Lang::Kk)]
            .into_iter()
            .map(|(code, lang)| (code, a.reason_texts(lang)))
            .collect(),
        adjusted: !a.adjustments.is_empty(),
    }
}

/// The composite index's inputs for every region × occupation of `month`, from the table of
/// `[from, month]` (13 months, so that 12-month changes can be taken).
fn indicator_rows(table: &DemandTable, month: Month, from: Month) -> Vec<koshi_labour::shortage::IndicatorRow> {
    let mut rows = Vec::new();
    for region in table.regions() {
        for occupation in table.occupations() {
            if occupation == TOTAL {
                continue;
            }
            let (Some(now), Some(then)) =
                (table.cell(*region, occupation, month), table.cell(*region, occupation, from))
            else {
                continue;
            };
            // An occupation with no vacancy and no seeker in the region is not assessed there.
            if now.stock == 0 && now.inflow == 0 && now.seekers.unwrap_or(0) == 0 {
                continue;
            }
            let mut values = BTreeMap::new();
            values.insert("vacancy_stock".to_string(), now.stock as f64);
            values.insert("vacancy_inflow".to_string(), now.inflow as f64);
            if then.inflow > 0 {
                values.insert("vacancy_inflow_growth_12m".to_string(), now.inflow as f64 / then.inflow as f64 - 1.0);
            }
            if let Some(s) = now.seekers {
                values.insert("seekers".to_string(), s as f64);
                if now.stock > 0 {
                    values.insert("seekers_per_vacancy".to_string(), s as f64 / now.stock as f64);
                }
                if let Some(before) = then.seekers
                    && before > 0
                {
                    values.insert("registered_seekers_change".to_string(), s as f64 / before as f64 - 1.0);
                }
            }
            if let Some(d) = now.mean_duration_days {
                values.insert("mean_vacancy_duration".to_string(), d);
            }
            rows.push(koshi_labour::shortage::IndicatorRow {
                area: region.as_str().to_string(),
                occupation: occupation.clone(),
                values,
            });
        }
    }
    rows
}

/// The dataflow adopted shortage lists are published to.
pub const SHORTAGE_DATAFLOW: &str = "LAB_SHORTAGE";
/// The vacancy database as a source of the bank.
pub const VACANCY_SOURCE: &str = "KOSHI_VACANCIES";

/// What a shortage list's publication wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ShortagePublication {
    pub list: i64,
    pub dataflow: String,
    pub source: String,
    pub label: String,
    pub period: String,
    /// `created` or `unchanged`.
    pub outcome: String,
    pub release_id: i64,
    pub figures: usize,
    pub audit_seq: i64,
}

/// `OC0`…`OC9` for an ISCO-08 code's major group.
fn major_group(occupation: &str) -> Option<String> {
    occupation.chars().next().filter(char::is_ascii_digit).map(|d| format!("OC{d}"))
}

impl crate::App {
    /// Publishes an adopted shortage list (the newest by default) into the bank as a release of
    /// `LAB_SHORTAGE`: by region and major group (and in total), the occupations in demand,
    /// balanced and not in demand, the vacancies in the first and the seekers in the last.
    pub fn publish_shortage_list(&self, actor: &Actor, list: Option<i64>) -> Result<ShortagePublication> {
        use koshi_core::Observation;
        use koshi_core::observation::{ObsStatus, Text};
        actor.require(&[Role::Admin], "publish shortage lists")?;
        let registry = self.registry()?;
        // Every entry, page by page: a publication of part of a list would be wrong, not short.
        let first = ShortageListRequest { list, limit: Some(MAX_SHORTAGE_PAGE), ..Default::default() };
        let mut view = registry.shortage_list(actor, &first)?;
        while let Some(after) = view.next_after.take() {
            let next = ShortageListRequest { list: Some(view.list.id), after: Some(after), ..first.clone() };
            let page = registry.shortage_list(actor, &next)?;
            view.entries.extend(page.entries);
            view.next_after = page.next_after;
        }
        let catalogue = self.catalogue()?;
        let dataflow = catalogue.dataflow(SHORTAGE_DATAFLOW).ok_or_else(|| {
            AppError::Unanswerable(format!("the bank does not know the dataflow {SHORTAGE_DATAFLOW}"))
        })?;
        let areas = catalogue
            .codelist_for(dataflow, "REF_AREA")
            .ok_or_else(|| AppError::Unanswerable(format!("{SHORTAGE_DATAFLOW}: no code list for REF_AREA")))?;
        let mut figures: BTreeMap<(String, String, &'static str), f64> = BTreeMap::new();
        let mut problems = Vec::new();
        for entry in &view.entries {
            let text = |field: &str| entry[field].as_str().unwrap_or_default().to_string();
            let (region, occupation, status) = (text("region"), text("occupation"), text("status"));
            if !areas.contains(&region) {
                problems.push(format!("region `{region}` is not in the bank's code list"));
                continue;
            }
            let Some(group) = major_group(&occupation) else {
                problems.push(format!("occupation `{occupation}` is not an ISCO-08 code"));
                continue;
            };
            let measure = match status.as_str() {
                "in_demand" => "OCC_IN_DEMAND",
                "balanced" => "OCC_BALANCED",
                "not_in_demand" => "OCC_NOT_IN_DEMAND",
                _ => continue,
            };
            let vacancies = entry["vacancies"].as_f64().unwrap_or(0.0);
            let seekers = entry["seekers"].as_f64().unwrap_or(0.0);
            for g in [group, "_T".to_string()] {
                *figures.entry((region.clone(), g.clone(), measure)).or_insert(0.0) += 1.0;
                for other in
                    ["OCC_IN_DEMAND", "OCC_BALANCED", "OCC_NOT_IN_DEMAND", "VAC_IN_DEMAND", "SEEKERS_NOT_IN_DEMAND"]
                {
                    figures.entry((region.clone(), g.clone(), other)).or_insert(0.0);
                }
                if measure == "OCC_IN_DEMAND" {
                    *figures.entry((region.clone(), g.clone(), "VAC_IN_DEMAND")).or_insert(0.0) += vacancies;
                }
                if measure == "OCC_NOT_IN_DEMAND" {
                    *figures.entry((region.clone(), g.clone(), "SEEKERS_NOT_IN_DEMAND")).or_insert(0.0) += seekers;
                }
            }
        }
        if !problems.is_empty() {
            problems.sort();
            problems.dedup();
            return Err(AppError::invalid(
                "list",
                format!("the list cannot be published, nothing written: {}", problems.join("; ")),
            ));
        }
        let list = &view.list;
        let summary: serde_json::Value = serde_json::from_str(&list.summary).unwrap_or_default();
        let rule = summary["rule"]["id"].as_str().unwrap_or(&list.rule).to_string();
        let version = summary["rule"]["version_from"].as_str().unwrap_or("").to_string();
        let definition: Text = format!(
            "shortage list {} adopted {} by {}: occupations (ISCO-08 unit groups) assessed by rule {rule} (version of \
             {version}) on the vacancies and registered job seekers of {}",
            list.id,
            super::day_of(list.adopted_at),
            list.adopted_by,
            list.as_of
        )
        .into();
        let today = self.today();
        let citation: Text =
            format!("koshi regional vacancy database, shortage list {} published {today}", list.id).into();
        let label = format!("shortage list {}", list.id);
        let observations: Vec<Observation> = figures
            .iter()
            .map(|((region, group, measure), value)| Observation {
                dataflow: SHORTAGE_DATAFLOW.into(),
                key: vec![Text::from(region.as_str()), Text::from(group.as_str()), Text::from(*measure)],
                time_period: list.as_of.as_str().into(),
                value: Some(*value),
                printed: None,
                unit: if *measure == "SEEKERS_NOT_IN_DEMAND" { "PERS".into() } else { "NUM".into() },
                unit_mult: 0,
                status: ObsStatus::Normal,
                source: VACANCY_SOURCE.into(),
                definition: definition.clone(),
                citation: Some(citation.clone()),
                note: None,
                defects: Vec::new(),
            })
            .collect();
        let batch = koshi_store::ReleaseBatch {
            dataflow: SHORTAGE_DATAFLOW.to_string(),
            source: VACANCY_SOURCE.to_string(),
            label: label.clone(),
            release_date: today,
            origin: format!("koshi shortage list publication ({})", env!("CARGO_PKG_VERSION")),
            note: Some(format!("published by {}", actor.audit_name())),
            observations,
            defects: Vec::new(),
        };
        let outcome = self.writer()?.write_releases(std::slice::from_ref(&batch))?;
        let (outcome, release_id) = match outcome.first() {
            Some(koshi_store::WriteOutcome::Created { release_id, .. }) => ("created", *release_id),
            Some(koshi_store::WriteOutcome::Unchanged { release_id, .. }) => ("unchanged", *release_id),
            None => return Err(AppError::Unanswerable("the bank wrote no release".to_string())),
        };
        // The release is written first, so the log never records a publication that did not happen.
        let entry = registry.record_shortage_publication(actor, list.id, release_id, figures.len())?;
        Ok(ShortagePublication {
            list: list.id,
            dataflow: SHORTAGE_DATAFLOW.into(),
            source: VACANCY_SOURCE.into(),
            label,
            period: list.as_of.clone(),
            outcome: outcome.into(),
            release_id,
            figures: figures.len(),
            audit_seq: entry.seq,
        })
    }
}

impl RegistryService {
    pub(crate) fn record_shortage_publication(
        &self,
        actor: &Actor,
        list: i64,
        release_id: i64,
        figures: usize,
    ) -> Result<koshi_registry::AuditEntry> {
        let now = self.now();
        let after = serde_json::json!({ "release": release_id, "figures": figures, "dataflow": SHORTAGE_DATAFLOW });
        self.store.write(&actor.scope(), |tx| {
            audit(tx, actor, now, "publish", format!("shortage_list/{list}"), None, Some(after.to_string()))
        })
    }
}
