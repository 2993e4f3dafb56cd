//! Monitoring: the rules of `data/monitoring/alerts.toml` evaluated over the bank's harmonised
//! figures — a balance turning negative, a change on the previous period past a threshold, a
//! series leaving the band of its recent past (a CUSUM chart calibrated for a stated false-alarm
//! rate) — each alert with its figures, the source and release they came from, and its message
//! in English, Russian and Kazakh.

use std::collections::BTreeMap;

use koshi_core::Labels;
use koshi_core::monitor::{Cusum, Direction, cusum_alarms, follows, relative_change_pct, sign_turn};
use koshi_store::{Bank, HarmonisedRow, QueryText};
use serde::{Deserialize, Serialize};

use crate::bank::harmonised_values;
use crate::error::{AppError, Result};
use crate::{App, PageRequest};

/// The rules shipped with koshi.
const RULES_FILE: &str = "data/monitoring/alerts.toml";
const RULES_TEXT: &str = include_str!("../../../data/monitoring/alerts.toml");

/// How often a watched series is observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Annual,
    Monthly,
}

impl Frequency {
    fn matches(self, period: &str) -> bool {
        let b = period.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        match self {
            Frequency::Annual => b.len() == 4 && digits(0..4),
            Frequency::Monthly => b.len() == 7 && digits(0..4) && b[4] == b'-' && digits(5..7),
        }
    }
}

/// What a rule watches for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Watch {
    SignTurn { direction: Direction },
    Change { above: Option<f64>, below: Option<f64> },
    Cusum { window: usize, k: f64, arl0: f64 },
}

/// One monitoring rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    pub id: String,
    pub dataflow: String,
    /// Key text in the one key grammar.
    pub key: String,
    pub frequency: Frequency,
    pub watch: Watch,
    pub en: String,
    pub ru: String,
    pub kk: String,
}

/// A rule as the file writes it: every kind's fields, the kind saying which apply.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    id: String,
    dataflow: String,
    key: String,
    frequency: Frequency,
    kind: String,
    direction: Option<Direction>,
    above: Option<f64>,
    below: Option<f64>,
    window: Option<usize>,
    k: Option<f64>,
    arl0: Option<f64>,
    en: String,
    ru: String,
    kk: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rule: Vec<RuleEntry>,
}

/// The shipped rules, read and checked (ids unique, each kind with its fields and no other's,
/// thresholds and charts that make sense, a message in every language).
pub fn shipped_rules() -> Result<Vec<AlertRule>> {
    let file: RulesFile =
        toml::from_str(RULES_TEXT).map_err(|e| AppError::invalid("rules", format!("{RULES_FILE}: {e}")))?;
    let mut seen = std::collections::BTreeSet::new();
    let mut rules = Vec::with_capacity(file.rule.len());
    for r in file.rule {
        let bad = |m: &str| AppError::invalid("rules", format!("{RULES_FILE}: rule {}: {m}", r.id));
        if !seen.insert(r.id.clone()) {
            return Err(bad("the id is used twice"));
        }
        let (sign, change, chart) = (
            r.direction.is_some(),
            r.above.is_some() || r.below.is_some(),
            r.window.is_some() || r.k.is_some() || r.arl0.is_some(),
        );
        let watch = match (r.kind.as_str(), sign, change, chart) {
            ("sign_turn", true, false, false) => Watch::SignTurn { direction: r.direction.unwrap_or(Direction::Down) },
            ("change", false, true, false) => Watch::Change { above: r.above, below: r.below },
            ("cusum", false, false, true) => {
                let (Some(window), Some(k), Some(arl0)) = (r.window, r.k, r.arl0) else {
                    return Err(bad("a CUSUM needs window, k and arl0"));
                };
                if window < 4 || Cusum::calibrated(k, arl0).is_none() || arl0 > 2_000.0 {
                    return Err(bad("a CUSUM needs a window of at least 4, k > 0 and arl0 between 1 and 2,000"));
                }
                Watch::Cusum { window, k, arl0 }
            }
            ("sign_turn" | "change" | "cusum", ..) => {
                return Err(bad(
                    "a sign_turn rule has `direction`, a change rule `above` and/or `below`, a cusum rule \
                     `window`, `k` and `arl0`, and none has another kind's",
                ));
            }
            (other, ..) => return Err(bad(&format!("unknown kind `{other}` (sign_turn, change or cusum)"))),
        };
        for (lang, text) in [("en", &r.en), ("ru", &r.ru), ("kk", &r.kk)] {
            if text.trim().is_empty() {
                return Err(bad(&format!("no {lang} message")));
            }
        }
        rules.push(AlertRule {
            id: r.id,
            dataflow: r.dataflow,
            key: r.key,
            frequency: r.frequency,
            watch,
            en: r.en,
            ru: r.ru,
            kk: r.kk,
        });
    }
    Ok(rules)
}

/// Which alerts to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertsRequest {
    /// Only this rule's alerts.
    pub rule: Option<String>,
    /// Only alerts at this period or later (`2020`, `2024-03`; compared as text).
    pub since: Option<String>,
    /// What was known on this date (`YYYY-MM-DD`).
    pub as_of: Option<String>,
    pub page: Option<PageRequest>,
}

/// One alert: which rule fired on which series at which period, on what figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub rule: String,
    pub kind: String,
    pub dataflow: String,
    /// The series key, dotted.
    pub key: String,
    pub area: String,
    pub period: String,
    /// The figure at the period, in the unit itself.
    pub value: f64,
    /// The figure of the period before (sign and change rules).
    pub previous: Option<f64>,
    pub change_pct: Option<f64>,
    /// CUSUM: the statistic at the alarm and the decision interval `h` it passed (standard
    /// deviations), the way it moved, the baseline (mean and standard deviation of the window,
    /// outliers set aside), and where the run began.
    pub statistic: Option<f64>,
    pub decision_interval: Option<f64>,
    pub direction: Option<Direction>,
    pub baseline_mean: Option<f64>,
    pub baseline_sd: Option<f64>,
    pub change_began: Option<String>,
    /// The message, with the area's name, in English, Russian and Kazakh.
    pub message: Labels,
    pub source: String,
    pub release: String,
    pub release_date: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsReport {
    pub rules: usize,
    /// Series watched.
    pub series: usize,
    /// Alerts in all (the items are all of them, or the page asked for), latest first.
    pub total: usize,
    pub items: Vec<Alert>,
    /// Rules or series that could not be judged, and why.
    pub notes: Vec<String>,
}

impl App {
    /// Evaluate the monitoring rules over the bank's harmonised figures.
    pub fn alerts(&self, request: &AlertsRequest) -> Result<AlertsReport> {
        let rules = shipped_rules()?;
        let chosen: Vec<&AlertRule> =
            rules.iter().filter(|r| request.rule.as_ref().is_none_or(|id| &r.id == id)).collect();
        if let Some(id) = &request.rule
            && chosen.is_empty()
        {
            return Err(AppError::invalid(
                "rule",
                format!(
                    "no rule `{id}`; the rules are {}",
                    rules.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        // Every alert of the selection, worked out once per state of the bank; pages are cut from it.
        let key = (request.rule.clone(), request.since.clone(), request.as_of.clone());
        let (_, all) = self.kept_lasting(&self.alerts, &key, |app| {
            app.read(|bank| {
                let mut alerts = Vec::new();
                let mut notes = Vec::new();
                let mut watched = 0;
                for rule in chosen.iter().copied() {
                    let series = series_of(bank, rule, request.as_of.as_deref())?;
                    if series.is_empty() {
                        notes.push(format!("{}: no {:?} series in the bank", rule.id, rule.frequency).to_lowercase());
                    }
                    watched += series.len();
                    for (key, rows) in &series {
                        evaluate(bank, rule, key, rows, &mut alerts, &mut notes);
                    }
                }
                if let Some(since) = &request.since {
                    alerts.retain(|a| a.period.as_str() >= since.as_str());
                }
                alerts
                    .sort_by(|a, b| b.period.cmp(&a.period).then_with(|| a.rule.cmp(&b.rule)).then(a.key.cmp(&b.key)));
                Ok(AlertsReport { rules: chosen.len(), series: watched, total: alerts.len(), items: alerts, notes })
            })
        })?;
        let page = request.page.unwrap_or(PageRequest { offset: 0, limit: usize::MAX });
        Ok(AlertsReport {
            rules: all.rules,
            series: all.series,
            total: all.total,
            items: page.slice(&all.items).to_vec(),
            notes: all.notes.clone(),
        })
    }
}

/// The chart calibrated for a rule's baseline window, simulated once per process.
fn chart_for(k: f64, arl0: f64, window: usize) -> Option<Cusum> {
    type Charts = std::sync::Mutex<BTreeMap<(u64, u64, usize), Option<Cusum>>>;
    static CHARTS: std::sync::OnceLock<Charts> = std::sync::OnceLock::new();
    let charts = CHARTS.get_or_init(Charts::default);
    let key = (k.to_bits(), arl0.to_bits(), window);
    if let Some(chart) = charts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key) {
        return *chart;
    }
    let chart = Cusum::calibrated_for_window(k, arl0, window);
    charts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, chart);
    chart
}

/// The rule's series at its frequency, each in period order.
fn series_of(bank: &Bank, rule: &AlertRule, as_of: Option<&str>) -> Result<BTreeMap<Vec<String>, Vec<HarmonisedRow>>> {
    let text = QueryText { keys: vec![rule.key.clone()], as_of: as_of.map(str::to_string), ..QueryText::default() };
    let mut series: BTreeMap<Vec<String>, Vec<HarmonisedRow>> = BTreeMap::new();
    for row in harmonised_values(bank, &rule.dataflow, &text)? {
        if rule.frequency.matches(&row.time_period) {
            series.entry(row.key.clone()).or_default().push(row);
        }
    }
    for rows in series.values_mut() {
        rows.sort_by(|a, b| a.time_period.cmp(&b.time_period));
    }
    Ok(series)
}

fn evaluate(
    bank: &Bank,
    rule: &AlertRule,
    key: &[String],
    rows: &[HarmonisedRow],
    alerts: &mut Vec<Alert>,
    notes: &mut Vec<String>,
) {
    let area = key.first().cloned().unwrap_or_default();
    let names = bank.catalogue().codelist("AREA").and_then(|l| l.get(&area)).map(|c| c.labels.clone());
    let name = |lang: fn(&Labels) -> &str| names.as_ref().map_or(area.clone(), |n| lang(n).to_string());
    let message = Labels {
        en: rule.en.replace("{area}", &name(|l| &l.en)),
        ru: rule.ru.replace("{area}", &name(|l| &l.ru)),
        kk: rule.kk.replace("{area}", &name(|l| &l.kk)),
    };
    let value = |r: &HarmonisedRow| r.base_value().unwrap_or(f64::NAN);
    let alert = |row: &HarmonisedRow| Alert {
        rule: rule.id.clone(),
        kind: match rule.watch {
            Watch::SignTurn { .. } => "sign_turn",
            Watch::Change { .. } => "change",
            Watch::Cusum { .. } => "cusum",
        }
        .to_string(),
        dataflow: rule.dataflow.clone(),
        key: key.join("."),
        area: area.clone(),
        period: row.time_period.clone(),
        value: value(row),
        previous: None,
        change_pct: None,
        statistic: None,
        decision_interval: None,
        direction: None,
        baseline_mean: None,
        baseline_sd: None,
        change_began: None,
        message: message.clone(),
        source: row.source.clone(),
        release: row.release_label.clone(),
        release_date: row.release_date.clone(),
    };
    match &rule.watch {
        Watch::SignTurn { direction } => {
            for pair in rows.windows(2) {
                if follows(&pair[0].time_period, &pair[1].time_period)
                    && sign_turn(value(&pair[0]), value(&pair[1])) == Some(*direction)
                {
                    alerts.push(Alert {
                        previous: Some(value(&pair[0])),
                        direction: Some(*direction),
                        ..alert(&pair[1])
                    });
                }
            }
        }
        Watch::Change { above, below } => {
            for pair in rows.windows(2) {
                if !follows(&pair[0].time_period, &pair[1].time_period) {
                    continue;
                }
                let Some(change) = relative_change_pct(value(&pair[0]), value(&pair[1])) else { continue };
                let direction = if above.is_some_and(|a| change >= a) {
                    Direction::Up
                } else if below.is_some_and(|b| change <= b) {
                    Direction::Down
                } else {
                    continue;
                };
                alerts.push(Alert {
                    previous: Some(value(&pair[0])),
                    change_pct: Some(change),
                    direction: Some(direction),
                    ..alert(&pair[1])
                });
            }
        }
        Watch::Cusum { window, k, arl0 } => {
            if rows.len() <= *window {
                notes.push(format!(
                    "{} {}: {} values, a baseline of {window} needs at least {}",
                    rule.id,
                    key.join("."),
                    rows.len(),
                    window + 1
                ));
                return;
            }
            let Some(chart) = chart_for(*k, *arl0, *window) else { return };
            let values: Vec<f64> = rows.iter().map(value).collect();
            for alarm in cusum_alarms(&values, *window, chart) {
                alerts.push(Alert {
                    statistic: Some(alarm.statistic),
                    decision_interval: Some(chart.h),
                    direction: Some(alarm.direction),
                    baseline_mean: Some(alarm.baseline_mean),
                    baseline_sd: Some(alarm.baseline_sd),
                    change_began: Some(rows[alarm.run_start].time_period.clone()),
                    ..alert(&rows[alarm.index])
                });
            }
        }
    }
}
