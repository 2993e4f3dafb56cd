//! The registry's figures by month: workers covered by permits issued, extended, refused (by
//! ground), revoked and expired, by region, category and citizenship. Counted from the records,
//! never from personal data.

use std::collections::BTreeMap;

use koshi_core::Observation;
use koshi_core::observation::{ObsStatus, Text};
use koshi_registry::{ApplicationStatus, Filter, PermitStatus, Role};
use koshi_store::{Query, ReleaseBatch, WriteOutcome};
use serde::{Deserialize, Serialize};

use super::RegistryService;
use super::auth::Actor;
use crate::App;
use crate::error::{AppError, Result};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct MonthlyRow {
    /// `YYYY-MM`.
    pub month: String,
    pub region: String,
    pub category: String,
    pub nationality: String,
    /// `issued`, `extended`, `refused`, `revoked`, `expired`.
    pub measure: String,
    /// For `refused`: the ground; empty otherwise.
    pub ground: String,
    /// Workers.
    pub workers: i64,
}

fn month_of(seconds: i64) -> String {
    let d = super::day_of(seconds);
    format!("{:04}-{:02}", d.year, d.month)
}

impl RegistryService {
    /// The registry's monthly figures for `year` (all months with any), counted in one read
    /// transaction so that a decision made meanwhile is counted whole or not at all. For
    /// analysts, administrators and officers; the public reads them once published into the bank.
    pub fn monthly(&self, actor: &Actor, year: i32) -> Result<Vec<MonthlyRow>> {
        actor.require(&[Role::Admin, Role::Analyst, Role::Officer], "read the registry's figures")?;
        let prefix = format!("{year:04}-");
        let mut counts: BTreeMap<(String, String, String, String, String, String), i64> = BTreeMap::new();
        let mut add = |month: &str, region: &str, category: &str, nationality: &str, measure: &str, ground: &str, n| {
            let key = (
                month.to_string(),
                region.to_string(),
                category.to_string(),
                nationality.to_string(),
                measure.to_string(),
                ground.to_string(),
            );
            *counts.entry(key).or_insert(0) += n;
        };
        self.store.read(&koshi_registry::Scope::System, |tx| {
            let mut after = None;
            loop {
                let batch = tx.applications(&Filter { after, limit: koshi_registry::MAX_PAGE, ..Filter::default() })?;
                let Some(last) = batch.last() else { break };
                after = Some(last.id);
                for a in &batch {
                    let Some(decided) = a.decided_at else { continue };
                    let month = month_of(decided);
                    if !month.starts_with(&prefix) {
                        continue;
                    }
                    let mut count = |measure: &str, ground: &str| {
                        add(&month, &a.region, &a.category, &a.nationality, measure, ground, a.workers)
                    };
                    match (a.status, a.kind.as_str()) {
                        (ApplicationStatus::Granted, "extension") => count("extended", ""),
                        (ApplicationStatus::Granted, _) => count("issued", ""),
                        (ApplicationStatus::Refused, _) => {
                            for ground in a.grounds.as_deref().unwrap_or("").split(',').filter(|g| !g.is_empty()) {
                                count("refused", ground);
                            }
                        }
                        _ => {}
                    }
                }
            }
            let mut after = None;
            loop {
                let batch = tx.permits(&Filter { after, limit: koshi_registry::MAX_PAGE, ..Filter::default() })?;
                let Some(last) = batch.last() else { break };
                after = Some(last.id);
                for p in &batch {
                    let measure = match p.status {
                        PermitStatus::Revoked => "revoked",
                        PermitStatus::Expired => "expired",
                        PermitStatus::Active => continue,
                    };
                    let Some(closed) = p.closed_at else { continue };
                    let month = month_of(closed);
                    if month.starts_with(&prefix) {
                        add(&month, &p.region, &p.category, &p.nationality, measure, "", p.workers);
                    }
                }
            }
            Ok::<_, AppError>(())
        })?;
        Ok(counts
            .into_iter()
            .map(|((month, region, category, nationality, measure, ground), workers)| MonthlyRow {
                month,
                region,
                category,
                nationality,
                measure,
                ground,
                workers,
            })
            .collect())
    }
}

/// The dataflow the registry's monthly figures are published to.
pub const PERMIT_DATAFLOW: &str = "LAB_PERMIT_REG";
/// The registry as a source of the bank.
pub const REGISTRY_SOURCE: &str = "KOSHI_REGISTRY";
/// The GROUND code of a figure that is not a refusal.
const NOT_A_REFUSAL: &str = "_Z";

/// Publish a year's monthly figures into the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishRequest {
    pub year: i32,
}

/// What a publication wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishReport {
    pub dataflow: String,
    pub source: String,
    /// The release stream: one per year, each publication a revision of it.
    pub label: String,
    pub release_date: String,
    /// `created` (a new revision) or `unchanged` (the bank already holds these figures).
    pub outcome: String,
    pub release_id: i64,
    pub revision: Option<i64>,
    /// Figures in the publication.
    pub figures: usize,
    /// Figures published before that the registry no longer counts (a forced change, say),
    /// published as withdrawn so that the bank's current view equals the registry's.
    pub withdrawn: usize,
    /// The audit entry recording the publication (none when nothing changed).
    pub audit_seq: Option<i64>,
}

/// The figure a bank observation stands for: key (in the dataflow's order) and month.
type FigureKey = (Vec<String>, String);

impl App {
    /// Publish the registry's monthly figures for `year` into the bank as a revision of the
    /// release stream `permit registry YEAR` of `LAB_PERMIT_REG` (administrators only), so the
    /// monitoring, forecasts and SDMX read them like any other source's. Figures published
    /// before and no longer counted are withdrawn; publishing unchanged figures writes nothing.
    /// The publication is recorded in the registry's audit log.
    pub fn publish_registry_figures(&self, actor: &Actor, request: &PublishRequest) -> Result<PublishReport> {
        actor.require(&[Role::Admin], "publish the registry's figures")?;
        let year = request.year;
        if !(1990..=2100).contains(&year) {
            return Err(AppError::invalid("year", format!("{year} is not a year the registry can hold")));
        }
        let registry = self.registry()?;
        let rows = registry.monthly(actor, year)?;
        let catalogue = self.catalogue()?;
        let dataflow = catalogue
            .dataflow(PERMIT_DATAFLOW)
            .ok_or_else(|| AppError::Unanswerable(format!("the bank does not know the dataflow {PERMIT_DATAFLOW}")))?;
        let list = |dimension: &str| {
            catalogue.codelist_for(dataflow, dimension).ok_or_else(|| {
                AppError::Unanswerable(format!("{PERMIT_DATAFLOW}: no code list for the dimension {dimension}"))
            })
        };
        let (areas, categories, grounds) = (list("REF_AREA")?, list("CATEGORY")?, list("GROUND")?);

        // Every figure mapped to the bank's codes; every code the bank does not know is named.
        let mut figures: BTreeMap<FigureKey, i64> = BTreeMap::new();
        let mut problems = Vec::new();
        for row in &rows {
            let citizenship = areas.by_property("alpha2", &row.nationality).map(|c| c.id.clone());
            let ground = if row.ground.is_empty() { NOT_A_REFUSAL } else { row.ground.as_str() };
            let mut unknown = |what: &str, code: &str| {
                problems.push(format!("{} {}: {what} `{code}` is not in the bank's code list", row.month, row.measure))
            };
            if !areas.contains(&row.region) {
                unknown("region", &row.region);
            }
            if citizenship.is_none() {
                unknown("citizenship", &row.nationality);
            }
            if !categories.contains(&row.category) {
                unknown("category", &row.category);
            }
            if !grounds.contains(ground) {
                unknown("refusal ground", ground);
            }
            let Some(citizenship) = citizenship else { continue };
            let key = vec![
                row.region.clone(),
                citizenship,
                row.category.clone(),
                row.measure.to_ascii_uppercase(),
                ground.to_string(),
            ];
            *figures.entry((key, row.month.clone())).or_insert(0) += row.workers;
        }
        if !problems.is_empty() {
            problems.sort();
            problems.dedup();
            return Err(AppError::invalid(
                "year",
                format!("{} figure(s) cannot be published, nothing written: {}", problems.len(), problems.join("; ")),
            ));
        }

        let label = format!("permit registry {year}");
        let today = self.today();
        let query = Query {
            dataflow: PERMIT_DATAFLOW.to_string(),
            source: Some(REGISTRY_SOURCE.to_string()),
            period_from: Some(format!("{year:04}-01")),
            period_to: Some(format!("{year:04}-12")),
            ..Query::default()
        };
        let published: BTreeMap<FigureKey, Option<f64>> = self.read_quick(|bank| {
            Ok(bank
                .query(&query)?
                .into_iter()
                .filter(|row| row.release_label == label)
                .map(|row| ((row.key, row.time_period), row.value))
                .collect())
        })?;
        let unchanged = published.len() == figures.len()
            && figures.iter().all(|(k, &v)| published.get(k).copied().flatten() == Some(v as f64));
        let vanished: Vec<&FigureKey> = published.keys().filter(|k| !figures.contains_key(*k)).collect();

        // The same text in every publication: a figure is its key, period, source and definition,
        // so a later publication revises (or withdraws) the earlier one's figures.
        let definition: Text = "foreign workers covered by the work-permit registry's decisions, by month of decision \
             (issued, extended, refused by ground) or of closing (revoked, expired), counted from the registry's records"
            .into();
        let citation: Text = format!("koshi work-permit registry, figures for {year} published {today}").into();
        let text = |s: &str| -> Text { s.into() };
        let observation = |(key, month): &FigureKey, value: Option<f64>, status: ObsStatus| Observation {
            dataflow: text(PERMIT_DATAFLOW),
            key: key.iter().map(|k| text(k)).collect(),
            time_period: text(month),
            value,
            printed: None,
            unit: text("PERS"),
            unit_mult: 0,
            status,
            source: text(REGISTRY_SOURCE),
            definition: definition.clone(),
            citation: Some(citation.clone()),
            note: None,
            defects: Vec::new(),
        };
        let mut observations: Vec<Observation> =
            figures.iter().map(|(k, &v)| observation(k, Some(v as f64), ObsStatus::Normal)).collect();
        observations.extend(vanished.iter().map(|k| observation(k, None, ObsStatus::Withdrawn)));
        let report = |outcome: &str, release_id, revision, audit_seq| PublishReport {
            dataflow: PERMIT_DATAFLOW.to_string(),
            source: REGISTRY_SOURCE.to_string(),
            label: label.clone(),
            release_date: today.to_string(),
            outcome: outcome.to_string(),
            release_id,
            revision,
            figures: figures.len(),
            withdrawn: vanished.len(),
            audit_seq,
        };
        if unchanged && !published.is_empty() {
            let release_id = self.read_quick(|bank| {
                Ok(bank
                    .releases(Some(PERMIT_DATAFLOW))?
                    .into_iter()
                    .filter(|r| r.label == label && r.source == REGISTRY_SOURCE)
                    .map(|r| r.id)
                    .max())
            })?;
            if let Some(release_id) = release_id {
                return Ok(report("unchanged", release_id, None, None));
            }
        }
        let batch = ReleaseBatch {
            dataflow: PERMIT_DATAFLOW.to_string(),
            source: REGISTRY_SOURCE.to_string(),
            label: label.clone(),
            release_date: today,
            origin: format!("koshi registry publish ({})", env!("CARGO_PKG_VERSION")),
            note: Some(format!("published by {}", actor.audit_name())),
            observations,
            defects: Vec::new(),
        };
        let outcome = self.writer()?.write_releases(std::slice::from_ref(&batch))?;
        let (outcome_name, release_id) = match outcome.first() {
            Some(WriteOutcome::Created { release_id, .. }) => ("created", *release_id),
            Some(WriteOutcome::Unchanged { release_id, .. }) => ("unchanged", *release_id),
            None => return Err(AppError::Unanswerable("the bank wrote no release".to_string())),
        };
        let revision = self.read_quick(|bank| {
            Ok(bank.releases(Some(PERMIT_DATAFLOW))?.into_iter().find(|r| r.id == release_id).map(|r| r.revision))
        })?;
        // The bank and the registry are two stores: the release is written first, so the log
        // never records a publication that did not happen (publishing again is harmless).
        let entry = registry.record_publication(actor, year, release_id, figures.len(), vanished.len())?;
        Ok(report(outcome_name, release_id, revision, Some(entry.seq)))
    }
}
