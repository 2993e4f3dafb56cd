//! Reading the bank: observations as of a date, the harmonised view, discrepancies between
//! sources, releases, sources, dataflows and the defect report.

use std::collections::{BTreeMap, HashMap};

use koshi_core::observation::ObsStatus;
use koshi_core::reconcile::{self, Candidate};
use koshi_core::structure::Dataflow;
use koshi_core::validate;
use koshi_core::{Date, Observation};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::{Bank, Result, StoreError, severity_name};

/// Which observations to return.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub dataflow: String,
    /// Dimension id → accepted codes (an empty list or a missing dimension accepts all).
    pub filters: Vec<(String, Vec<String>)>,
    /// What was known on this date: only releases dated on or before it count (see
    /// [`Bank::query`] for revisions).
    pub as_of: Option<Date>,
    /// Only this source's figures.
    pub source: Option<String>,
    /// Periods from/to (inclusive, compared as text: `2010` ≤ `2010-05` ≤ `2011`).
    pub period_from: Option<String>,
    pub period_to: Option<String>,
    /// Also return the series of regions that ceased to exist and whose territory passed to the
    /// requested REF_AREA codes (so a series at today's boundaries joins its history).
    pub include_predecessors: bool,
    /// Also return the figures whose latest state is withdrawn (status `W`), as withdrawals:
    /// what changed since a date includes what was deleted.
    pub include_withdrawn: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObservationRow {
    pub dataflow: String,
    pub key: Vec<String>,
    pub time_period: String,
    pub value: Option<f64>,
    pub printed: Option<String>,
    pub unit: String,
    pub unit_mult: i32,
    pub status: String,
    pub source: String,
    pub definition: String,
    pub release_id: i64,
    pub release_label: String,
    pub release_date: String,
    /// The release's revision within its stream (dataflow, source, label): 1, 2, 3 …
    pub release_revision: i64,
    pub citation: Option<String>,
    pub note: Option<String>,
    pub defects: Vec<String>,
    /// Set on rows of a predecessor region returned by `include_predecessors`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub territory: Option<String>,
}

impl ObservationRow {
    pub fn base_value(&self) -> Option<f64> {
        self.value.map(|v| koshi_core::observation::scale_by_power_of_ten(v, self.unit_mult))
    }

    /// The row as an observation. A status code the bank does not know is corruption (the
    /// bank writes [`ObsStatus::code`]): an error, never a default.
    pub fn to_observation(&self) -> Result<Observation> {
        let status = ObsStatus::from_code(&self.status).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "observation {} {} {} (release {}) has the unknown status `{}`",
                self.dataflow,
                self.key.join("."),
                self.time_period,
                self.release_id,
                self.status
            ))
        })?;
        Ok(Observation {
            dataflow: self.dataflow.as_str().into(),
            key: self.key.iter().map(|c| c.as_str().into()).collect(),
            time_period: self.time_period.as_str().into(),
            value: self.value,
            printed: self.printed.clone(),
            unit: self.unit.as_str().into(),
            unit_mult: self.unit_mult,
            status,
            source: self.source.as_str().into(),
            definition: self.definition.as_str().into(),
            citation: self.citation.as_deref().map(Into::into),
            note: self.note.clone(),
            defects: self.defects.clone(),
        })
    }

    /// The row as a figure to reconcile. The bank writes release dates from a [`Date`]
    /// (`YYYY-MM-DD`, also what the schema 1 migration's `date()` yields), so one that does
    /// not parse is corruption: an error, never a stand-in date that would rank the release
    /// as the oldest.
    fn candidate(&self) -> Result<Candidate> {
        let release_date = self.release_date.parse::<Date>().map_err(|e| {
            StoreError::Corrupt(format!(
                "release {} has the unreadable release date `{}`: {e}",
                self.release_id, self.release_date
            ))
        })?;
        Ok(Candidate {
            source: self.source.clone(),
            definition: self.definition.clone(),
            release_id: self.release_id,
            release_date,
            value: self.value,
            unit: self.unit.clone(),
            unit_mult: self.unit_mult,
            defective: !self.defects.is_empty(),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HarmonisedRow {
    pub dataflow: String,
    pub key: Vec<String>,
    pub time_period: String,
    pub value: Option<f64>,
    pub unit: String,
    pub unit_mult: i32,
    pub status: String,
    pub source: String,
    pub definition: String,
    pub release_label: String,
    pub release_date: String,
    pub release_revision: i64,
    pub citation: Option<String>,
    /// Why this source's figure was chosen.
    pub reason: String,
    /// How many figures (sources × definitions) there were to choose from.
    pub candidates: usize,
}

impl HarmonisedRow {
    /// The figure in the unit itself (`value` × 10^`unit_mult`), exact to its printed digits.
    pub fn base_value(&self) -> Option<f64> {
        self.value.map(|v| koshi_core::observation::scale_by_power_of_ten(v, self.unit_mult))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DiscrepancyRow {
    pub dataflow: String,
    pub key: Vec<String>,
    pub time_period: String,
    pub source_a: String,
    pub definition_a: String,
    pub value_a: f64,
    pub citation_a: Option<String>,
    pub source_b: String,
    pub definition_b: String,
    pub value_b: f64,
    pub citation_b: Option<String>,
    pub unit: String,
    pub relative_gap_pct: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReleaseInfo {
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

#[derive(Debug, Clone, Serialize)]
pub struct SourceSummary {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub releases: i64,
    pub observations: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DataflowSummary {
    pub id: String,
    pub name: String,
    pub dimensions: String,
    pub series: i64,
    pub observations: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckFinding {
    pub rule: String,
    pub severity: String,
    pub origin: String,
    pub dataflow: String,
    pub key: String,
    pub time_period: String,
    pub source: String,
    pub release: String,
    pub message: String,
}

/// The status of a withdrawn figure ([`ObsStatus::Withdrawn`]).
const WITHDRAWN: &str = "W";

const OBS_SELECT: &str = "SELECT s.series_key, o.time_period, o.value, o.printed, o.unit, o.unit_mult, o.status,
    o.source_id, d.text, o.release_id, r.label, r.release_date, o.citation, o.note, o.defects, r.revision
    FROM observation o JOIN release r ON r.id = o.release_id JOIN definition d ON d.id = o.definition_id
    JOIN series s ON s.id = o.series_id";

impl Bank {
    pub(crate) fn series_ids(&self, q: &Query) -> Result<Vec<(i64, Vec<String>)>> {
        let df = self
            .catalogue()
            .dataflow(&q.dataflow)
            .ok_or_else(|| StoreError::Invalid(format!("unknown dataflow `{}`", q.dataflow)))?;
        let mut wanted: Vec<Option<&Vec<String>>> = vec![None; df.dimensions.len()];
        for (dim, codes) in &q.filters {
            let i = df.dimension_index(dim).ok_or_else(|| {
                let dims: Vec<&str> = df.dimensions.iter().map(|d| d.id.as_str()).collect();
                StoreError::Invalid(format!("dataflow {} has no dimension `{dim}` (it has {})", df.id, dims.join(", ")))
            })?;
            if !codes.is_empty() {
                wanted[i] = Some(codes);
            }
        }
        // A fully specified key is one index lookup.
        if wanted.iter().all(|w| w.is_some_and(|c| c.len() == 1)) {
            let key: Vec<String> = wanted.iter().map(|w| w.map(|c| c[0].clone()).unwrap_or_default()).collect();
            let id: Option<i64> = self
                .connection()
                .prepare_cached("SELECT id FROM series WHERE dataflow_id=?1 AND series_key=?2")?
                .query_row(params![df.id, key.join(".")], |r| r.get(0))
                .optional()?;
            return Ok(id.map(|id| vec![(id, key)]).unwrap_or_default());
        }
        let mut stmt = self.connection().prepare_cached("SELECT id, series_key FROM series WHERE dataflow_id=?1")?;
        let rows = stmt.query_map([&df.id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, key) = row?;
            let codes: Vec<String> = key.split('.').map(String::from).collect();
            let keep = codes.len() == wanted.len()
                && codes.iter().zip(&wanted).all(|(c, w)| w.is_none_or(|accepted| accepted.contains(c)));
            if keep {
                out.push((id, codes));
            }
        }
        Ok(out)
    }

    /// All stored figures for the matching series, every release (no as-of filtering).
    fn raw_rows(&self, q: &Query) -> Result<Vec<ObservationRow>> {
        let series = self.series_ids(q)?;
        let sql = format!("{OBS_SELECT} WHERE o.series_id = ?1");
        let mut stmt = self.connection().prepare_cached(&sql)?;
        let mut out = Vec::new();
        for (id, _) in series {
            let rows = stmt.query_map([id], |r| {
                Ok(ObservationRow {
                    dataflow: q.dataflow.clone(),
                    key: r.get::<_, String>(0)?.split('.').map(String::from).collect(),
                    time_period: r.get(1)?,
                    value: r.get(2)?,
                    printed: r.get(3)?,
                    unit: r.get(4)?,
                    unit_mult: r.get(5)?,
                    status: r.get(6)?,
                    source: r.get(7)?,
                    definition: r.get(8)?,
                    release_id: r.get(9)?,
                    release_label: r.get(10)?,
                    release_date: r.get(11)?,
                    citation: r.get(12)?,
                    note: r.get(13)?,
                    defects: r
                        .get::<_, Option<String>>(14)?
                        .map(|d| d.split('|').map(String::from).collect())
                        .unwrap_or_default(),
                    territory: None,
                    release_revision: r.get(15)?,
                })
            })?;
            for row in rows {
                let row = row?;
                if q.source.as_ref().is_some_and(|s| *s != row.source) {
                    continue;
                }
                if q.as_of.is_some_and(|d| row.release_date.as_str() > d.to_string().as_str()) {
                    continue;
                }
                if q.period_from.as_ref().is_some_and(|f| row.time_period.as_str() < f.as_str()) {
                    continue;
                }
                if q.period_to
                    .as_ref()
                    .is_some_and(|t| row.time_period.as_str() > t.as_str() && !row.time_period.starts_with(t.as_str()))
                {
                    continue;
                }
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Each source's and definition's figure for each key and period, from the latest release
    /// dated on or before `as_of` (or the latest of all).
    ///
    /// Releases count from their stated date on: `as_of` sees a release dated on or before it.
    /// Among the visible releases of one stream (dataflow, source, label) the highest revision
    /// supersedes the others, whatever their dates: a revision that states an earlier date
    /// than the release it revises is seen from its stated date on and, once both are
    /// visible, replaces it. Between streams, the latest is the one with the latest
    /// (release date, revision, id).
    pub fn query(&self, q: &Query) -> Result<Vec<ObservationRow>> {
        let (q, territory) = self.with_predecessors(q);
        let mut rows = self.raw_rows(&q)?;
        if !territory.is_empty() {
            let area = self.catalogue().dataflow(&q.dataflow).and_then(|d| d.dimension_index("REF_AREA"));
            for row in &mut rows {
                if let Some(i) = area {
                    row.territory = territory.get(&row.key[i]).cloned();
                }
            }
        }
        // Within a stream, the highest revision; then between streams, the latest release.
        type Figure = (Vec<String>, String, String, String);
        let mut current: BTreeMap<(Figure, String), ObservationRow> = BTreeMap::new();
        for row in rows {
            let k = (
                (row.key.clone(), row.time_period.clone(), row.source.clone(), row.definition.clone()),
                row.release_label.clone(),
            );
            let replace = current
                .get(&k)
                .is_none_or(|cur| (row.release_revision, row.release_id) > (cur.release_revision, cur.release_id));
            if replace {
                current.insert(k, row);
            }
        }
        let mut latest: BTreeMap<Figure, ObservationRow> = BTreeMap::new();
        for ((k, _), row) in current {
            let replace = latest.get(&k).is_none_or(|cur| {
                (row.release_date.as_str(), row.release_revision, row.release_id)
                    > (cur.release_date.as_str(), cur.release_revision, cur.release_id)
            });
            if replace {
                latest.insert(k, row);
            }
        }
        // A withdrawn figure is the current state of its key, and no figure.
        Ok(latest.into_values().filter(|row| q.include_withdrawn || row.status != WITHDRAWN).collect())
    }

    /// The query with predecessor regions added to its REF_AREA filter, and a note for each.
    pub(crate) fn with_predecessors(&self, q: &Query) -> (Query, HashMap<String, String>) {
        let mut notes = HashMap::new();
        if !q.include_predecessors {
            return (q.clone(), notes);
        }
        let mut q = q.clone();
        for (dim, codes) in &mut q.filters {
            if dim != "REF_AREA" {
                continue;
            }
            let mut added = Vec::new();
            for code in codes.iter() {
                for p in self.catalogue().predecessors(code) {
                    let until = p.valid_to.map(|d| format!(" until {d}")).unwrap_or_default();
                    notes.insert(
                        p.id.clone(),
                        format!(
                            "predecessor of {code}: {}{until}, its territory passed to {}",
                            p.labels.en,
                            p.successors.join(" and ")
                        ),
                    );
                    added.push(p.id.clone());
                }
            }
            for a in added {
                if !codes.contains(&a) {
                    codes.push(a);
                }
            }
        }
        (q, notes)
    }

    /// One figure per key and period, chosen by the dataflow's reconciliation policy.
    pub fn harmonised(&self, q: &Query) -> Result<Vec<HarmonisedRow>> {
        let df = self
            .catalogue()
            .dataflow(&q.dataflow)
            .cloned()
            .ok_or_else(|| StoreError::Invalid(format!("unknown dataflow `{}`", q.dataflow)))?;
        // A withdrawn figure is no candidate.
        let rows = self.query(&Query { include_withdrawn: false, ..q.clone() })?;
        let mut groups: BTreeMap<(Vec<String>, String), Vec<ObservationRow>> = BTreeMap::new();
        for row in rows {
            groups.entry((row.key.clone(), row.time_period.clone())).or_default().push(row);
        }
        let mut out = Vec::new();
        for ((key, period), rows) in groups {
            let candidates: Vec<Candidate> = rows.iter().map(ObservationRow::candidate).collect::<Result<_>>()?;
            let Some(choice) = reconcile::choose(&df.reconciliation, &candidates) else { continue };
            let w = &rows[choice.index];
            out.push(HarmonisedRow {
                dataflow: df.id.clone(),
                key,
                time_period: period,
                value: w.value,
                unit: w.unit.clone(),
                unit_mult: w.unit_mult,
                status: w.status.clone(),
                source: w.source.clone(),
                definition: w.definition.clone(),
                release_label: w.release_label.clone(),
                release_date: w.release_date.clone(),
                release_revision: w.release_revision,
                citation: w.citation.clone(),
                reason: choice.reason,
                candidates: rows.len(),
            });
        }
        Ok(out)
    }

    /// Keys where different sources or definitions disagree by more than `tolerance_pct`.
    pub fn discrepancies(&self, dataflow: Option<&str>, tolerance_pct: f64) -> Result<Vec<DiscrepancyRow>> {
        // Find the contested (series, period) pairs in SQL, then compare their current figures.
        let mut stmt = self.connection().prepare(
            "SELECT s.dataflow_id, s.series_key FROM observation o JOIN series s ON s.id = o.series_id
             WHERE (?1 IS NULL OR s.dataflow_id = ?1)
             GROUP BY o.series_id, o.time_period
             HAVING COUNT(DISTINCT o.source_id || '|' || o.definition_id) > 1",
        )?;
        let contested: Vec<(String, String)> =
            stmt.query_map([dataflow], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<std::result::Result<_, _>>()?;
        let mut keys: Vec<(String, String)> = contested;
        keys.sort();
        keys.dedup();
        let mut out = Vec::new();
        for (df_id, key) in keys {
            let Some(df) = self.catalogue().dataflow(&df_id) else { continue };
            let filters =
                df.dimensions.iter().zip(key.split('.')).map(|(d, c)| (d.id.clone(), vec![c.to_string()])).collect();
            let rows = self.query(&Query { dataflow: df_id.clone(), filters, ..Default::default() })?;
            let mut by_period: BTreeMap<&str, Vec<&ObservationRow>> = BTreeMap::new();
            for r in &rows {
                by_period.entry(r.time_period.as_str()).or_default().push(r);
            }
            for (period, group) in by_period {
                let candidates: Vec<Candidate> = group.iter().map(|r| r.candidate()).collect::<Result<_>>()?;
                for gap in reconcile::discrepancies(&candidates, tolerance_pct) {
                    let (a, b) = (group[gap.a], group[gap.b]);
                    // A gap is only ever between two figures with values.
                    let (Some(value_a), Some(value_b)) = (a.base_value(), b.base_value()) else { continue };
                    out.push(DiscrepancyRow {
                        dataflow: df_id.clone(),
                        key: a.key.clone(),
                        time_period: period.to_string(),
                        source_a: a.source.clone(),
                        definition_a: a.definition.clone(),
                        value_a,
                        citation_a: a.citation.clone(),
                        source_b: b.source.clone(),
                        definition_b: b.definition.clone(),
                        value_b,
                        citation_b: b.citation.clone(),
                        unit: a.unit.clone(),
                        relative_gap_pct: gap.relative_gap_pct,
                    });
                }
            }
        }
        Ok(out)
    }

    pub fn releases(&self, dataflow: Option<&str>) -> Result<Vec<ReleaseInfo>> {
        let mut stmt = self.connection().prepare(
            "SELECT id, dataflow_id, source_id, label, release_date, revision, ingested_at, origin, observations, note
             FROM release WHERE (?1 IS NULL OR dataflow_id = ?1) ORDER BY dataflow_id, source_id, release_date, revision, id",
        )?;
        let rows = stmt.query_map([dataflow], |r| {
            Ok(ReleaseInfo {
                id: r.get(0)?,
                dataflow: r.get(1)?,
                source: r.get(2)?,
                label: r.get(3)?,
                release_date: r.get(4)?,
                revision: r.get(5)?,
                ingested_at: r.get(6)?,
                origin: r.get(7)?,
                observations: r.get(8)?,
                note: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    pub fn sources(&self) -> Result<Vec<SourceSummary>> {
        let mut stmt = self.connection().prepare(
            "SELECT s.id, s.name_en, s.kind, COUNT(r.id), COALESCE(SUM(r.observations), 0)
             FROM source s LEFT JOIN release r ON r.source_id = s.id GROUP BY s.id ORDER BY s.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SourceSummary {
                id: r.get(0)?,
                name: r.get(1)?,
                kind: r.get(2)?,
                releases: r.get(3)?,
                observations: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    pub fn dataflow_summaries(&self) -> Result<Vec<DataflowSummary>> {
        let mut stmt = self.connection().prepare(
            "SELECT d.id, d.name_en, d.dimensions,
               (SELECT COUNT(*) FROM series s WHERE s.dataflow_id = d.id),
               (SELECT COALESCE(SUM(observations), 0) FROM release r WHERE r.dataflow_id = d.id)
             FROM dataflow d ORDER BY d.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DataflowSummary {
                id: r.get(0)?,
                name: r.get(1)?,
                dimensions: r.get(2)?,
                series: r.get(3)?,
                observations: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The defect report: defects declared by source files and found at ingest, plus the
    /// validation rules run again over the current figures of every dataflow.
    pub fn check(&self) -> Result<Vec<CheckFinding>> {
        let mut findings = Vec::new();
        let mut stmt = self.connection().prepare(
            "SELECT d.rule, d.severity, d.origin, r.dataflow_id, COALESCE(s.series_key, ''), COALESCE(d.time_period, ''),
               r.source_id, r.label || ' (' || r.release_date || ')', d.message
             FROM defect d JOIN release r ON r.id = d.release_id LEFT JOIN series s ON s.id = d.series_id
             ORDER BY r.dataflow_id, s.series_key, d.time_period, d.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(CheckFinding {
                rule: r.get(0)?,
                severity: r.get(1)?,
                origin: r.get(2)?,
                dataflow: r.get(3)?,
                key: r.get(4)?,
                time_period: r.get(5)?,
                source: r.get(6)?,
                release: r.get(7)?,
                message: r.get(8)?,
            })
        })?;
        for row in rows {
            findings.push(row?);
        }
        let mut seen: std::collections::HashSet<(String, String, String, String, String)> = findings
            .iter()
            .map(|f| (f.rule.clone(), f.dataflow.clone(), f.key.clone(), f.time_period.clone(), f.source.clone()))
            .collect();
        for df in self.catalogue().dataflows.clone() {
            let current = self.query(&Query { dataflow: df.id.clone(), ..Default::default() })?;
            if current.is_empty() {
                continue;
            }
            let observations: Vec<Observation> =
                current.iter().map(ObservationRow::to_observation).collect::<Result<_>>()?;
            let mut defects = validate::check_batch(std::slice::from_ref(&df), &observations);
            defects.extend(self.plausibility(&df, &observations)?);
            for d in defects {
                let o = &current[d.observations[0]];
                let k = (d.rule.clone(), df.id.clone(), o.key.join("."), o.time_period.clone(), o.source.clone());
                if !seen.insert(k) {
                    continue;
                }
                findings.push(CheckFinding {
                    rule: d.rule,
                    severity: severity_name(d.severity).into(),
                    origin: "check".into(),
                    dataflow: df.id.clone(),
                    key: o.key.join("."),
                    time_period: o.time_period.clone(),
                    source: o.source.clone(),
                    release: format!("{} ({})", o.release_label, o.release_date),
                    message: d.message,
                });
            }
        }
        Ok(findings)
    }

    /// The plausibility rules over `observations`, against reference figures in this bank. A
    /// reference that cannot be read fails the whole check (it is not "no reference").
    fn plausibility(&self, df: &Dataflow, observations: &[Observation]) -> Result<Vec<validate::Defect>> {
        let failure = std::cell::RefCell::new(None);
        let defects = validate::check_plausibility(df, observations, &|flow, measure, area, period| {
            if failure.borrow().is_some() {
                return None;
            }
            self.reference_value(flow, measure, area, period).unwrap_or_else(|e| {
                *failure.borrow_mut() = Some(e);
                None
            })
        });
        match failure.into_inner() {
            Some(e) => Err(e),
            None => Ok(defects),
        }
    }

    /// A reference figure in base units (e.g. MACRO/GDP of an area in a period), harmonised;
    /// `None` when the bank holds none. Reading it can fail (a database error, a dataflow the
    /// catalogue does not know): that is an error, not an absent reference.
    pub fn reference_value(&self, dataflow: &str, measure: &str, area: &str, period: &str) -> Result<Option<f64>> {
        let df = self
            .catalogue()
            .dataflow(dataflow)
            .ok_or_else(|| StoreError::Invalid(format!("unknown reference dataflow `{dataflow}`")))?;
        let mut filters = vec![("REF_AREA".to_string(), vec![area.to_string()])];
        if df.dimension_index("MEASURE").is_some() {
            filters.push(("MEASURE".to_string(), vec![measure.to_string()]));
        }
        let rows = self.harmonised(&Query { dataflow: dataflow.into(), filters, ..Default::default() })?;
        Ok(rows
            .iter()
            .filter(|r| r.time_period == period || r.time_period.starts_with(&format!("{period}-")))
            .find_map(HarmonisedRow::base_value))
    }

    /// How many sources and dataflows users have declared in the bank (see [`Bank::declare`]).
    pub fn declaration_count(&self) -> Result<i64> {
        Ok(self.connection().query_row("SELECT COUNT(*) FROM declaration", [], |r| r.get(0))?)
    }

    /// Counts per table, for the health endpoint and tests.
    pub fn counts(&self) -> Result<HashMap<&'static str, i64>> {
        let mut out = HashMap::new();
        for table in ["release", "series", "observation", "defect"] {
            let n: i64 = self.connection().query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
            out.insert(table, n);
        }
        Ok(out)
    }
}

/// The codes, units and periods present in one dataflow's figures, for the SDMX content
/// constraints: per dimension (in key order) the codes of the series that hold a figure.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CodesPresent {
    pub codes: Vec<std::collections::BTreeSet<String>>,
    pub units: std::collections::BTreeSet<String>,
    /// First and last period (as text: `1990` sorts before `1990-05`).
    pub periods: Option<(String, String)>,
}

impl Bank {
    /// [`CodesPresent`] for every dataflow that holds figures, by dataflow id.
    pub fn codes_present(&self) -> Result<BTreeMap<String, CodesPresent>> {
        let mut out: BTreeMap<String, CodesPresent> = BTreeMap::new();
        let mut stmt = self.connection().prepare(
            "SELECT s.dataflow_id, s.series_key FROM series s
             WHERE EXISTS (SELECT 1 FROM observation o WHERE o.series_id = s.id)",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (dataflow, key) = row?;
            let entry = out.entry(dataflow).or_default();
            for (i, code) in key.split('.').enumerate() {
                if entry.codes.len() <= i {
                    entry.codes.resize_with(i + 1, Default::default);
                }
                entry.codes[i].insert(code.to_string());
            }
        }
        let mut stmt = self.connection().prepare(
            "SELECT s.dataflow_id, o.unit, MIN(o.time_period), MAX(o.time_period) FROM observation o
             JOIN series s ON s.id = o.series_id GROUP BY s.dataflow_id, o.unit",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
        })?;
        for row in rows {
            let (dataflow, unit, first, last) = row?;
            let entry = out.entry(dataflow).or_default();
            entry.units.insert(unit);
            entry.periods = Some(match entry.periods.take() {
                None => (first, last),
                Some((f, l)) => (f.min(first), l.max(last)),
            });
        }
        Ok(out)
    }
}

impl Bank {
    /// Each series of `dataflow` the bank holds figures of: its key codes followed by the
    /// periods of its figures (sorted), for withdrawing every figure under a partial key.
    pub fn series_with_periods(&self, dataflow: &str) -> Result<Vec<Vec<String>>> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT s.series_key, o.time_period FROM series s JOIN observation o ON o.series_id = s.id
             WHERE s.dataflow_id = ?1 GROUP BY s.series_key, o.time_period ORDER BY s.series_key, o.time_period",
        )?;
        let rows = stmt.query_map([dataflow], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out: Vec<Vec<String>> = Vec::new();
        let mut last_key = String::new();
        for row in rows {
            let (key, period) = row?;
            if out.is_empty() || key != last_key {
                out.push(key.split('.').map(String::from).collect());
                last_key = key;
            }
            if let Some(series) = out.last_mut() {
                series.push(period);
            }
        }
        Ok(out)
    }
}
