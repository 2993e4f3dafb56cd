//! Reading the data bank: observations (as of a date, harmonised, with predecessor regions),
//! dataflows, sources, releases, code lists, discrepancies between sources, the defect report
//! and the bank's health. The report types here are the API's schema; the store's rows stay
//! behind them.

use std::collections::BTreeMap;

use koshi_core::translations::untranslated;
use koshi_core::{Codelist, Labels, Translations};
use koshi_store::{
    Bank, BundleState, CheckFinding, DataflowSummary, DiscrepancyRow, Generation, HarmonisedRow, ObservationRow, Query,
    QueryText, ReleaseInfo, SourceSummary, dataflow_named,
};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, Result};
use crate::{App, Listing, PageRequest};

/// Observations of a dataflow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryRequest {
    pub dataflow: String,
    /// Key texts in the one key grammar ([`koshi_core::key`]): a dotted SDMX key or
    /// `DIM=CODE[+CODE]` items joined by `,`. Several combine with AND.
    pub keys: Vec<String>,
    /// What was known on this date (`YYYY-MM-DD`): releases dated later are ignored.
    pub as_of: Option<String>,
    /// Only this source's figures (not with `harmonised`).
    pub source: Option<String>,
    /// First and last period.
    pub from: Option<String>,
    pub to: Option<String>,
    /// One figure per key and period, chosen by the dataflow's reconciliation policy.
    pub harmonised: bool,
    /// Also the regions that ceased to exist and whose territory passed to the requested area.
    pub predecessors: bool,
    /// Only these rows of the answer (all when absent).
    pub page: Option<PageRequest>,
}

/// One source's figure under one definition, from one release.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    pub dataflow: String,
    pub key: Vec<String>,
    pub time_period: String,
    /// The figure as the source gives it, in `unit` × 10^`unit_mult`.
    pub value: Option<f64>,
    /// How the source printed it.
    pub printed: Option<String>,
    pub unit: String,
    pub unit_mult: i32,
    pub status: String,
    pub source: String,
    pub definition: String,
    /// The definition in English, Russian and Kazakh (English in all three when it has no
    /// translation).
    pub definition_labels: Labels,
    pub release_id: i64,
    pub release_label: String,
    pub release_date: String,
    pub release_revision: i64,
    pub citation: Option<String>,
    pub note: Option<String>,
    /// The note in English, Russian and Kazakh.
    pub note_labels: Option<Labels>,
    pub defects: Vec<String>,
    /// The predecessor region the figure belongs to (with `predecessors`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub territory: Option<String>,
    /// The figure in the unit itself (`value` × 10^`unit_mult`), so one column holds one unit.
    pub value_base: Option<f64>,
}

/// A stored text (a definition, a note) in English, Russian and Kazakh.
fn text_labels(english: &str) -> Labels {
    Translations::shared().labels_or_english(english)
}

impl From<ObservationRow> for Observation {
    fn from(o: ObservationRow) -> Self {
        let value_base = o.base_value();
        let definition_labels = text_labels(&o.definition);
        let note_labels = o.note.as_deref().map(text_labels);
        Observation {
            dataflow: o.dataflow,
            key: o.key,
            time_period: o.time_period,
            value: o.value,
            printed: o.printed,
            unit: o.unit,
            unit_mult: o.unit_mult,
            status: o.status,
            source: o.source,
            definition: o.definition,
            definition_labels,
            release_id: o.release_id,
            release_label: o.release_label,
            release_date: o.release_date,
            release_revision: o.release_revision,
            citation: o.citation,
            note: o.note,
            note_labels,
            defects: o.defects,
            territory: o.territory,
            value_base,
        }
    }
}

/// The one figure chosen for a key and period, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HarmonisedFigure {
    pub dataflow: String,
    pub key: Vec<String>,
    pub time_period: String,
    pub value: Option<f64>,
    pub unit: String,
    pub unit_mult: i32,
    pub status: String,
    pub source: String,
    pub definition: String,
    /// The definition in English, Russian and Kazakh.
    pub definition_labels: Labels,
    pub release_label: String,
    pub release_date: String,
    pub release_revision: i64,
    pub citation: Option<String>,
    /// Why this source's figure was chosen.
    pub reason: String,
    /// The reason in English, Russian and Kazakh.
    pub reason_labels: Labels,
    /// How many figures (sources × definitions) there were to choose from.
    pub candidates: usize,
    pub value_base: Option<f64>,
}

impl From<HarmonisedRow> for HarmonisedFigure {
    fn from(h: HarmonisedRow) -> Self {
        let value_base = h.base_value();
        let definition_labels = text_labels(&h.definition);
        let reason_labels = Translations::shared().reason_labels(&h.reason).unwrap_or_else(|| untranslated(&h.reason));
        HarmonisedFigure {
            dataflow: h.dataflow,
            key: h.key,
            time_period: h.time_period,
            value: h.value,
            unit: h.unit,
            unit_mult: h.unit_mult,
            status: h.status,
            source: h.source,
            definition: h.definition,
            definition_labels,
            release_label: h.release_label,
            release_date: h.release_date,
            release_revision: h.release_revision,
            citation: h.citation,
            reason: h.reason,
            reason_labels,
            candidates: h.candidates,
            value_base,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Figures {
    Observations(Vec<Observation>),
    Harmonised(Vec<HarmonisedFigure>),
}

impl Figures {
    pub fn len(&self) -> usize {
        match self {
            Figures::Observations(v) => v.len(),
            Figures::Harmonised(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryReport {
    pub dataflow: String,
    pub dimensions: Vec<String>,
    pub harmonised: bool,
    /// Rows in the whole answer (the items are all of them, or the page asked for).
    pub total: usize,
    pub items: Figures,
}

/// A dataflow: what it holds, how its keys are built, how much is in the bank.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataflowInfo {
    pub id: String,
    /// In English, Russian and Kazakh.
    pub name: koshi_core::Labels,
    pub description: String,
    pub dimensions: Vec<DimensionInfo>,
    pub measures: Vec<MeasureInfo>,
    pub series: i64,
    pub observations: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionInfo {
    pub id: String,
    pub codelist: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasureInfo {
    pub code: String,
    pub unit: String,
    pub en: String,
    pub ru: String,
    pub kk: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceInfo {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub releases: i64,
    pub observations: i64,
}

impl From<SourceSummary> for SourceInfo {
    fn from(s: SourceSummary) -> Self {
        SourceInfo { id: s.id, name: s.name, kind: s.kind, releases: s.releases, observations: s.observations }
    }
}

/// Releases (vintages), optionally of one dataflow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReleasesRequest {
    pub dataflow: Option<String>,
    pub page: Option<PageRequest>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Release {
    pub id: i64,
    pub dataflow: String,
    pub source: String,
    pub label: String,
    pub release_date: String,
    /// 1, 2, 3 … within (dataflow, source, label); the highest is the current one.
    pub revision: i64,
    pub ingested_at: String,
    pub origin: String,
    pub observations: i64,
    pub note: Option<String>,
}

impl From<ReleaseInfo> for Release {
    fn from(r: ReleaseInfo) -> Self {
        Release {
            id: r.id,
            dataflow: r.dataflow,
            source: r.source,
            label: r.label,
            release_date: r.release_date,
            revision: r.revision,
            ingested_at: r.ingested_at,
            origin: r.origin,
            observations: r.observations,
            note: r.note,
        }
    }
}

/// Keys where sources or definitions disagree by more than a tolerance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiscrepanciesRequest {
    pub dataflow: Option<String>,
    /// Report gaps larger than this many per cent (0 or more).
    pub tolerance_pct: f64,
    pub page: Option<PageRequest>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Discrepancy {
    pub dataflow: String,
    pub key: Vec<String>,
    pub time_period: String,
    pub source_a: String,
    pub definition_a: String,
    /// `definition_a` in English, Russian and Kazakh.
    pub definition_a_labels: Labels,
    pub value_a: f64,
    pub citation_a: Option<String>,
    pub source_b: String,
    pub definition_b: String,
    /// `definition_b` in English, Russian and Kazakh.
    pub definition_b_labels: Labels,
    pub value_b: f64,
    pub citation_b: Option<String>,
    pub unit: String,
    pub relative_gap_pct: f64,
}

impl From<DiscrepancyRow> for Discrepancy {
    fn from(d: DiscrepancyRow) -> Self {
        let (definition_a_labels, definition_b_labels) = (text_labels(&d.definition_a), text_labels(&d.definition_b));
        Discrepancy {
            dataflow: d.dataflow,
            key: d.key,
            time_period: d.time_period,
            source_a: d.source_a,
            definition_a: d.definition_a,
            definition_a_labels,
            value_a: d.value_a,
            citation_a: d.citation_a,
            source_b: d.source_b,
            definition_b: d.definition_b,
            definition_b_labels,
            value_b: d.value_b,
            citation_b: d.citation_b,
            unit: d.unit,
            relative_gap_pct: d.relative_gap_pct,
        }
    }
}

/// A defect: declared by a source or found by a validation rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub severity: String,
    pub origin: String,
    pub dataflow: String,
    pub key: String,
    pub time_period: String,
    pub source: String,
    pub release: String,
    pub message: String,
    /// The message in English, Russian and Kazakh: a rule's message worded in each language,
    /// a declared defect with its note translated.
    pub message_labels: Labels,
}

impl From<CheckFinding> for Finding {
    fn from(f: CheckFinding) -> Self {
        let message_labels =
            Translations::shared().message_labels(&f.rule, &f.message).unwrap_or_else(|| untranslated(&f.message));
        Finding {
            rule: f.rule,
            severity: f.severity,
            origin: f.origin,
            dataflow: f.dataflow,
            key: f.key,
            time_period: f.time_period,
            source: f.source,
            release: f.release,
            message: f.message,
            message_labels,
        }
    }
}

/// A list computed once per state of the bank, with that state.
#[derive(Debug, Clone, Serialize)]
pub struct BankListing<T> {
    pub generation: Generation,
    pub total: usize,
    pub items: Vec<T>,
}

/// Rows per table.
pub type Counts = BTreeMap<String, i64>;

#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    /// `ok`, or `incomplete` when the bundled load never completed in this bank.
    pub status: &'static str,
    pub version: &'static str,
    pub bundle: BundleState,
    pub counts: Counts,
    pub generation: Generation,
}

/// The harmonised figures a checked query text selects, those with a value only: the inputs of
/// the indicators and the monitoring rules.
pub(crate) fn harmonised_values(bank: &Bank, dataflow: &str, text: &QueryText) -> Result<Vec<HarmonisedRow>> {
    let query = Query::checked(bank.catalogue(), dataflow, text)?;
    Ok(bank.harmonised(&query)?.into_iter().filter(|r| r.base_value().is_some()).collect())
}

fn known_dataflow(bank: &Bank, dataflow: Option<&str>) -> Result<()> {
    if let Some(id) = dataflow {
        dataflow_named(bank.catalogue(), id)?;
    }
    Ok(())
}

impl App {
    /// Observations (or harmonised figures) of a dataflow. Every part of the request is checked
    /// against the catalogue: an unknown code, source or a malformed date is an error naming
    /// it, never an empty answer.
    pub fn query(&self, request: &QueryRequest) -> Result<QueryReport> {
        self.read(|bank| {
            let text = QueryText {
                keys: request.keys.clone(),
                as_of: request.as_of.clone(),
                source: request.source.clone(),
                from: request.from.clone(),
                to: request.to.clone(),
                predecessors: request.predecessors,
            };
            if request.harmonised && request.source.is_some() {
                return Err(AppError::invalid(
                    "source",
                    "a harmonised answer chooses among all sources: ask for one source or for the harmonised view",
                ));
            }
            let query = Query::checked(bank.catalogue(), &request.dataflow, &text)?;
            let df = dataflow_named(bank.catalogue(), &request.dataflow)?;
            // The size of a paged answer is kept per selection, so later pages stop at their end.
            let generation = bank.generation()?;
            let selection = match request.page {
                Some(_) => Some(
                    serde_json::to_string(&QueryRequest { page: None, ..request.clone() })
                        .map_err(|e| AppError::Unanswerable(e.to_string()))?,
                ),
                None => None,
            };
            let known_total = selection.as_ref().and_then(|s| self.totals.get(generation, s)).map(|t| *t);
            // Only the rows of the page become report items.
            let (items, total) = if request.harmonised {
                let (items, total) = read_page(request.page, known_total, HarmonisedFigure::from, |visit| {
                    bank.for_each_harmonised(&query, visit)
                })?;
                (Figures::Harmonised(items), total)
            } else {
                let (items, total) =
                    read_page(request.page, known_total, Observation::from, |visit| bank.for_each_row(&query, visit))?;
                (Figures::Observations(items), total)
            };
            if let (None, Some(selection)) = (known_total, selection) {
                self.totals.insert(generation, selection, std::sync::Arc::new(total));
            }
            Ok(QueryReport {
                dataflow: df.id.clone(),
                dimensions: df.dimensions.iter().map(|d| d.id.clone()).collect(),
                harmonised: request.harmonised,
                total,
                items,
            })
        })
    }

    /// Every dataflow with its dimensions, measures and size.
    pub fn dataflows(&self, page: Option<PageRequest>) -> Result<Listing<DataflowInfo>> {
        self.read_quick(|bank| {
            let all: Vec<DataflowInfo> = bank
                .dataflow_summaries()?
                .into_iter()
                .filter_map(|s: DataflowSummary| {
                    let df = bank.catalogue().dataflow(&s.id)?;
                    Some(DataflowInfo {
                        id: s.id,
                        name: df.name.clone(),
                        description: df.description.clone(),
                        dimensions: df
                            .dimensions
                            .iter()
                            .map(|d| DimensionInfo { id: d.id.clone(), codelist: d.codelist.clone() })
                            .collect(),
                        measures: df
                            .measures
                            .iter()
                            .map(|m| MeasureInfo {
                                code: m.code.clone(),
                                unit: m.unit.clone(),
                                en: m.en.clone(),
                                ru: m.ru.clone(),
                                kk: m.kk.clone(),
                            })
                            .collect(),
                        series: s.series,
                        observations: s.observations,
                    })
                })
                .collect();
            Ok(Listing::of(&all, page))
        })
    }

    /// The sources (agencies, papers, users' own) with their releases and observations.
    pub fn sources(&self, page: Option<PageRequest>) -> Result<Listing<SourceInfo>> {
        self.read_quick(|bank| {
            let all: Vec<SourceInfo> = bank.sources()?.into_iter().map(SourceInfo::from).collect();
            Ok(Listing::of(&all, page))
        })
    }

    /// Releases, newest revision last within each stream.
    pub fn releases(&self, request: &ReleasesRequest) -> Result<Listing<Release>> {
        self.read_quick(|bank| {
            known_dataflow(bank, request.dataflow.as_deref())?;
            let all: Vec<Release> =
                bank.releases(request.dataflow.as_deref())?.into_iter().map(Release::from).collect();
            Ok(Listing::of(&all, request.page))
        })
    }

    /// A code list with its labels in English, Russian and Kazakh.
    pub fn codelist(&self, id: &str) -> Result<Codelist> {
        self.read_quick(|bank| {
            bank.catalogue().codelist(id).cloned().ok_or_else(|| AppError::NotFound {
                what: "code list",
                id: id.to_string(),
                known: bank.catalogue().codelists.keys().cloned().collect(),
            })
        })
    }

    /// Keys where sources or definitions disagree, computed once per state of the bank.
    pub fn discrepancies(&self, request: &DiscrepanciesRequest) -> Result<BankListing<Discrepancy>> {
        if !(request.tolerance_pct.is_finite() && request.tolerance_pct >= 0.0) {
            return Err(AppError::invalid(
                "tolerance",
                format!("{} is not a percentage of 0 or more", request.tolerance_pct),
            ));
        }
        self.read_quick(|bank| known_dataflow(bank, request.dataflow.as_deref()))?;
        let key = (request.dataflow.clone(), request.tolerance_pct.to_bits());
        let (generation, all, _) = self.cached(&self.discrepancies, false, key, |bank| {
            Ok(bank
                .discrepancies(request.dataflow.as_deref(), request.tolerance_pct)?
                .into_iter()
                .map(Discrepancy::from)
                .collect())
        })?;
        let page = request.page.unwrap_or(PageRequest { offset: 0, limit: usize::MAX });
        Ok(BankListing { generation, total: all.len(), items: page.slice(&all).to_vec() })
    }

    /// Every defect in the bank (declared by sources or found by the rules), computed once per
    /// state of the bank.
    pub fn check(&self, page: Option<PageRequest>) -> Result<BankListing<Finding>> {
        let (generation, all) = self.kept_lasting(&self.check, &(), |app| {
            app.read(|bank| Ok(bank.check()?.into_iter().map(Finding::from).collect()))
        })?;
        let page = page.unwrap_or(PageRequest { offset: 0, limit: usize::MAX });
        Ok(BankListing { generation, total: all.len(), items: page.slice(&all).to_vec() })
    }

    /// Whether the bank is complete, and what it holds.
    pub fn health(&self) -> Result<HealthReport> {
        let (generation, counts, _) = self.cached(&self.counts, true, (), |bank| {
            Ok(bank.counts()?.into_iter().map(|(table, n)| (table.to_string(), n)).collect())
        })?;
        let bundle = self.bundle_state()?;
        Ok(HealthReport {
            status: if bundle.is_complete() { "ok" } else { "incomplete" },
            version: env!("CARGO_PKG_VERSION"),
            bundle,
            counts: (*counts).clone(),
            generation,
        })
    }
}

/// The rows of `page` out of an answer read row by row, and the answer's total: counted by
/// reading to the end, unless already known (then reading stops at the end of the page).
fn read_page<R, T>(
    page: Option<PageRequest>,
    known_total: Option<usize>,
    item: impl Fn(R) -> T,
    scan: impl FnOnce(&mut dyn FnMut(R) -> bool) -> std::result::Result<(), koshi_store::StoreError>,
) -> Result<(Vec<T>, usize)> {
    let page = page.unwrap_or(PageRequest { offset: 0, limit: usize::MAX });
    let mut items = Vec::new();
    let mut seen = 0usize;
    scan(&mut |row| {
        if page.contains(seen) {
            items.push(item(row));
        }
        seen += 1;
        known_total.is_none() || seen < page.end()
    })?;
    Ok((items, known_total.unwrap_or(seen)))
}
