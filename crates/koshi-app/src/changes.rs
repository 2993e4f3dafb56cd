//! What changed: the harmonised view of a dataflow as it was known on a date beside the view now —
//! figures added, revised (with the change) and withdrawn, each side with its source and release —
//! and, for the home page, what each of the latest releases changed. The vintage control of the
//! data-quality page reads the same comparison.

use std::collections::BTreeMap;

use koshi_core::Date;
use serde::{Deserialize, Serialize};

use crate::bank::{HarmonisedFigure, ReleasesRequest};
use crate::error::{AppError, Result};
use crate::{App, PageRequest};

/// Compare a dataflow's harmonised view known on `since` with the view now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangesRequest {
    pub dataflow: String,
    /// Key texts in the one key grammar; several combine with AND.
    pub keys: Vec<String>,
    /// The vintage: what was known on this date (`YYYY-MM-DD`).
    pub since: String,
    pub page: Option<PageRequest>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A figure for a key and period the vintage did not have.
    Added,
    /// Another value, or the same value from another source or release.
    Revised,
    /// A figure the vintage had and the present view does not.
    Withdrawn,
}

/// One side of a change: the harmonised figure and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// In the unit itself.
    pub value: Option<f64>,
    pub source: String,
    pub release: String,
    pub release_date: String,
    pub reason: String,
}

impl From<&HarmonisedFigure> for Side {
    fn from(h: &HarmonisedFigure) -> Self {
        Side {
            value: h.value_base,
            source: h.source.clone(),
            release: h.release_label.clone(),
            release_date: h.release_date.clone(),
            reason: h.reason.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub key: String,
    pub period: String,
    pub kind: ChangeKind,
    pub then: Option<Side>,
    pub now: Option<Side>,
    /// `100 × (now − then) / |then|`, for a revised value.
    pub change_pct: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeCounts {
    pub added: usize,
    pub revised: usize,
    pub withdrawn: usize,
    pub unchanged: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangesReport {
    pub dataflow: String,
    pub since: String,
    pub counts: ChangeCounts,
    /// Changes in all (the items are all of them, or the page asked for).
    pub total: usize,
    /// Largest relative revisions first, then additions and withdrawals by key and period.
    pub items: Vec<Change>,
}

/// What one of the latest releases changed in its dataflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseChanges {
    pub release_id: i64,
    pub dataflow: String,
    pub source: String,
    pub label: String,
    pub release_date: String,
    pub revision: i64,
    /// The view the day before the release against the view now.
    pub counts: ChangeCounts,
    /// The largest revisions and first additions, at most five.
    pub examples: Vec<Change>,
}

type View = BTreeMap<(String, String), HarmonisedFigure>;

impl App {
    fn harmonised_view(&self, dataflow: &str, keys: &[String], as_of: Option<String>) -> Result<View> {
        let figures = self.harmonised_of(dataflow, keys, &as_of)?;
        Ok(figures.into_iter().map(|h| ((h.key.join("."), h.time_period.clone()), h)).collect())
    }

    /// The harmonised view known on `since` against the view now, key by key (all changes kept
    /// until the bank changes; pages are cut from them).
    pub fn changes(&self, request: &ChangesRequest) -> Result<ChangesReport> {
        let whole = ChangesRequest { page: None, ..request.clone() };
        let all = self.kept(&self.changes, &whole, |app| app.compute_changes(&whole))?;
        let items = match request.page {
            Some(p) => p.slice(&all.items).to_vec(),
            None => all.items.clone(),
        };
        Ok(ChangesReport {
            dataflow: all.dataflow.clone(),
            since: all.since.clone(),
            counts: all.counts.clone(),
            total: all.total,
            items,
        })
    }

    fn compute_changes(&self, request: &ChangesRequest) -> Result<ChangesReport> {
        let since = Date::parse_loose(&request.since)
            .map_err(|e| AppError::invalid("since", format!("`{}`: {e}", request.since)))?;
        let then = self.harmonised_view(&request.dataflow, &request.keys, Some(since.to_string()))?;
        let now = self.harmonised_view(&request.dataflow, &request.keys, None)?;
        let (counts, mut items) = compare(&then, &now);
        // Revisions first (they change what was known), largest first; then additions, then
        // withdrawals, by key and period.
        let rank = |c: &Change| match c.kind {
            ChangeKind::Revised => 0,
            ChangeKind::Added => 1,
            ChangeKind::Withdrawn => 2,
        };
        let size = |c: &Change| c.change_pct.map(f64::abs).unwrap_or(0.0);
        items.sort_by(|a, b| {
            rank(a)
                .cmp(&rank(b))
                .then_with(|| size(b).total_cmp(&size(a)))
                .then_with(|| a.key.cmp(&b.key))
                .then_with(|| a.period.cmp(&b.period))
        });
        let total = items.len();
        let items = match request.page {
            Some(p) => p.slice(&items).to_vec(),
            None => items,
        };
        Ok(ChangesReport { dataflow: request.dataflow.clone(), since: since.to_string(), counts, total, items })
    }

    /// What each of the `latest` most recent releases changed: its dataflow's view the day before
    /// it against the view now (later releases of the same dataflow count in too).
    /// Kept until the bank changes.
    pub fn latest_changes(&self, latest: usize) -> Result<std::sync::Arc<Vec<ReleaseChanges>>> {
        if latest == 0 || latest > 20 {
            return Err(AppError::invalid("latest", "between 1 and 20 releases"));
        }
        Ok(self.kept_lasting(&self.latest_changes, &latest, |app| app.compute_latest_changes(latest))?.1)
    }

    fn compute_latest_changes(&self, latest: usize) -> Result<Vec<ReleaseChanges>> {
        let mut releases = self.releases(&ReleasesRequest::default())?.items;
        releases.sort_by(|a, b| b.release_date.cmp(&a.release_date).then(b.id.cmp(&a.id)));
        let mut out = Vec::new();
        // Releases of one dataflow on one day share their comparison.
        let mut compared: BTreeMap<(String, String), ChangesReport> = BTreeMap::new();
        for r in releases.into_iter().take(latest) {
            let slot = (r.dataflow.clone(), r.release_date.clone());
            if !compared.contains_key(&slot) {
                let date = Date::parse_loose(&r.release_date)
                    .map_err(|e| AppError::Unanswerable(format!("release {}: {e}", r.id)))?;
                let before = Date::from_days_since_epoch(date.days_since_epoch() - 1);
                let report = self.changes(&ChangesRequest {
                    dataflow: r.dataflow.clone(),
                    keys: Vec::new(),
                    since: before.to_string(),
                    page: Some(PageRequest { offset: 0, limit: 5 }),
                })?;
                compared.insert(slot.clone(), report);
            }
            let report = compared[&slot].clone();
            out.push(ReleaseChanges {
                release_id: r.id,
                dataflow: r.dataflow,
                source: r.source,
                label: r.label,
                release_date: r.release_date,
                revision: r.revision,
                counts: report.counts,
                examples: report.items,
            });
        }
        Ok(out)
    }
}

/// The changes between two views of the same keys.
fn compare(then: &View, now: &View) -> (ChangeCounts, Vec<Change>) {
    let mut counts = ChangeCounts::default();
    let mut items = Vec::new();
    for ((key, period), n) in now {
        match then.get(&(key.clone(), period.clone())) {
            None => {
                counts.added += 1;
                items.push(Change {
                    key: key.clone(),
                    period: period.clone(),
                    kind: ChangeKind::Added,
                    then: None,
                    now: Some(n.into()),
                    change_pct: None,
                });
            }
            Some(t) => {
                let same = t.value_base == n.value_base
                    && t.source == n.source
                    && t.release_label == n.release_label
                    && t.release_date == n.release_date
                    && t.release_revision == n.release_revision;
                if same {
                    counts.unchanged += 1;
                    continue;
                }
                counts.revised += 1;
                let change_pct = match (t.value_base, n.value_base) {
                    (Some(a), Some(b)) if a != 0.0 => Some(100.0 * (b - a) / a.abs()),
                    _ => None,
                };
                items.push(Change {
                    key: key.clone(),
                    period: period.clone(),
                    kind: ChangeKind::Revised,
                    then: Some(t.into()),
                    now: Some(n.into()),
                    change_pct,
                });
            }
        }
    }
    for ((key, period), t) in then {
        if !now.contains_key(&(key.clone(), period.clone())) {
            counts.withdrawn += 1;
            items.push(Change {
                key: key.clone(),
                period: period.clone(),
                kind: ChangeKind::Withdrawn,
                then: Some(t.into()),
                now: None,
                change_pct: None,
            });
        }
    }
    (counts, items)
}
