//! Forecasts and backtests of annual series of the bank. The history is the harmonised view
//! (one figure per year, the reconciliation policy picks the source), read through the one key
//! grammar exactly as [`App::query`] reads it; the figures go to `koshi-forecast` (calibrated
//! intervals, scenarios, reconciliation of parts and totals, rolling-origin scores), and the
//! report says where every history year came from and how every interval was made.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use koshi_core::Date;
use koshi_core::validate::fmt_num;
use koshi_forecast::calibrate::{CalibrationConfig, calibrated_forecast};
use koshi_forecast::reconcile::{Hierarchy, ReconcileMethod, reconcile};
use koshi_forecast::scenario::Scenario;
use koshi_forecast::{Forecast, ForecastError, ModelKind};
use koshi_store::{Bank, Query, QueryText, dataflow_named};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::error::{AppError, Result};

/// The most periods a forecast or backtest runs over: far beyond any horizon a migration series
/// supports (the UN projects 76 years ahead), small enough that a typo cannot tie up the machine.
pub const MAX_STEPS: usize = 100;

/// The most series one request forecasts or backtests (each is several model fits).
pub const MAX_SERIES: usize = 200;

/// Below this many annual points there are no rolling origins to choose or calibrate a model
/// on: only the naive benchmark is used, and its intervals are marked as not calibrated.
pub const MIN_MODEL_HISTORY: usize = 8;

/// The scenarios shipped with koshi (`data/scenarios/`), by name: the file name without `.toml`.
pub const BUNDLED_SCENARIOS: [(&str, &str); 5] = [
    ("anti-chinese-sentiment", include_str!("../../../data/scenarios/anti-chinese-sentiment.toml")),
    ("brain-drain", include_str!("../../../data/scenarios/brain-drain.toml")),
    ("eaeu-liberalisation", include_str!("../../../data/scenarios/eaeu-liberalisation.toml")),
    ("return-to-balance", include_str!("../../../data/scenarios/return-to-balance.toml")),
    ("zero-migration", include_str!("../../../data/scenarios/zero-migration.toml")),
];

/// Where a scenario comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioSource {
    /// One of [`BUNDLED_SCENARIOS`], by name (`brain-drain`).
    Bundled(String),
    /// A scenario file (TOML) of the user's, read by the application.
    File(PathBuf),
}

/// How the forecasts of parts and their total are made to add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reconciliation {
    /// Weighted least squares with structural weights (the number of parts below a series).
    Wls,
    /// Ordinary least squares.
    Ols,
    /// MinT with the shrunk covariance of the in-sample residuals.
    Mint,
    /// The total is the sum of the parts' forecasts.
    BottomUp,
}

impl Reconciliation {
    /// `wls`, `ols`, `mint` or `bottom-up`.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "wls" => Ok(Reconciliation::Wls),
            "ols" => Ok(Reconciliation::Ols),
            "mint" => Ok(Reconciliation::Mint),
            "bottom-up" => Ok(Reconciliation::BottomUp),
            _ => Err(AppError::invalid("reconcile", format!("`{text}` is not wls, ols, mint or bottom-up"))),
        }
    }

    fn method(self) -> ReconcileMethod {
        match self {
            Reconciliation::Wls => ReconcileMethod::WlsStructural,
            Reconciliation::Ols => ReconcileMethod::Ols,
            Reconciliation::Mint => ReconcileMethod::MintShrink,
            Reconciliation::BottomUp => ReconcileMethod::BottomUp,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Reconciliation::Wls => "WLS with structural weights",
            Reconciliation::Ols => "OLS",
            Reconciliation::Mint => "MinT with shrunk residual covariance",
            Reconciliation::BottomUp => "bottom-up",
        }
    }
}

/// Point forecasts with calibrated 80% and 95% intervals for annual series of a dataflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastRequest {
    pub dataflow: String,
    /// Key texts in the one key grammar ([`koshi_core::key`]): a dotted SDMX key or
    /// `DIM=CODE[+CODE]` items joined by `,`. Several combine with AND. At least one.
    pub keys: Vec<String>,
    /// Periods to forecast after the last one of history (1 to [`MAX_STEPS`]).
    pub horizon: usize,
    /// auto|combo, ets, arima, theta, naive, drift (also stm, otm, dstm, dotm, ets_log, drift_log).
    pub model: String,
    /// Scenarios applied to the forecast of the series their rules match.
    pub scenarios: Vec<ScenarioSource>,
    /// First and last year of history to use (the forecast starts the year after the last).
    pub from: Option<i32>,
    pub to: Option<i32>,
    /// What was known on this date (`YYYY-MM-DD`): releases dated later are ignored.
    pub as_of: Option<String>,
    /// Put the UN's probabilistic projection (MIG_NET_PROJ, WPP 2024) beside a net migration forecast.
    pub compare_un: bool,
    /// Treat the matched series as parts of a total (their sum) and make the forecasts add up.
    pub reconcile: Option<Reconciliation>,
    /// History years shown before the forecast, per series.
    pub show_history: usize,
}

impl Default for ForecastRequest {
    fn default() -> Self {
        ForecastRequest {
            dataflow: String::new(),
            keys: Vec::new(),
            horizon: 5,
            model: "auto".into(),
            scenarios: Vec::new(),
            from: None,
            to: None,
            as_of: None,
            compare_un: false,
            reconcile: None,
            show_history: 5,
        }
    }
}

/// What a row of a forecast report is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    /// An observed year.
    History,
    /// The baseline forecast.
    Forecast,
    /// The forecast under a scenario's assumptions.
    Scenario,
}

/// The UN WPP 2024 projection of a year: median and the bounds of its 80% and 95% intervals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UnProjection {
    pub median: Option<f64>,
    pub lo80: Option<f64>,
    pub hi80: Option<f64>,
    pub lo95: Option<f64>,
    pub hi95: Option<f64>,
}

/// One year of one series: observed, forecast, or forecast under a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastRow {
    pub series: String,
    pub period: String,
    pub kind: RowKind,
    /// The scenario's id (scenario rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// History: the figure; forecasts: the point forecast. In base units (persons, not thousands).
    pub mean: f64,
    /// Bounds of the 80% and 95% intervals (forecasts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lo80: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hi80: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lo95: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hi95: Option<f64>,
    pub unit: String,
    /// History: the source; forecasts: the model.
    pub model_or_source: String,
    /// History: the release; forecasts: how the intervals were calibrated; scenarios: the label.
    pub detail: String,
    /// The UN projection of the same year (when compared and the UN projects it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub un: Option<UnProjection>,
}

/// Where some years of a history came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistorySource {
    pub source: String,
    pub release: String,
    pub release_date: String,
    pub years: Vec<i32>,
}

/// How the intervals of a series' forecast were made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Whether rolling-origin errors widened the intervals (false: model intervals × 1.5).
    pub calibrated: bool,
    /// Standardised rolling-origin errors behind the factors.
    pub scores: usize,
    /// Multiplier of the model's standard deviation, by step.
    pub factors: Vec<f64>,
    /// Too short a history to choose or calibrate a model: the naive forecast was used.
    pub short_history: bool,
}

/// A series forecast: its history and its model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastSeries {
    pub series: String,
    pub unit: String,
    /// First and last year of the history used, and how many years.
    pub history_from: i32,
    pub history_to: i32,
    pub years: usize,
    /// The fitted model.
    pub model: String,
    pub calibration: Calibration,
    /// Where the history came from (empty for a total made of other series).
    pub sources: Vec<HistorySource>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastReport {
    pub dataflow: String,
    /// The model asked for.
    pub model: String,
    pub horizon: usize,
    pub reconcile: Option<Reconciliation>,
    /// The series forecast, with the history and model of each.
    pub series: Vec<ForecastSeries>,
    /// History, forecast and scenario years of every series.
    pub rows: Vec<ForecastRow>,
    /// Where the figures came from, how the intervals were calibrated, and what was left out.
    pub notes: Vec<String>,
}

/// Rolling-origin evaluation of the forecasting models on annual series of a dataflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestRequest {
    pub dataflow: String,
    /// Key texts in the one key grammar; several combine with AND. At least one.
    pub keys: Vec<String>,
    /// Periods ahead forecast at each origin (1 to [`MAX_STEPS`]).
    pub horizon: usize,
    /// Forecast origins at the end of the history (1 to [`MAX_STEPS`]).
    pub origins: usize,
    /// Models to compare; none: naive, drift, ets, arima, theta and the combination.
    pub models: Vec<String>,
    /// First and last year of history to use.
    pub from: Option<i32>,
    pub to: Option<i32>,
    /// What was known on this date (`YYYY-MM-DD`).
    pub as_of: Option<String>,
}

impl Default for BacktestRequest {
    fn default() -> Self {
        BacktestRequest {
            dataflow: String::new(),
            keys: Vec::new(),
            horizon: 3,
            origins: 10,
            models: Vec::new(),
            from: None,
            to: None,
            as_of: None,
        }
    }
}

/// The scores of one model on one series, averaged over the origins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestRow {
    pub series: String,
    pub model: String,
    /// Origins scored.
    pub origins: usize,
    pub horizon: usize,
    /// sMAPE in per cent.
    pub smape: f64,
    /// Mean absolute error over the in-sample naive error (below 1 beats the naive forecast).
    pub mase: f64,
    /// Mean scaled interval score of the calibrated 95% interval (lower is better).
    pub msis95: f64,
    /// Share of outcomes inside the calibrated 80% and 95% intervals.
    pub coverage80: f64,
    pub coverage95: f64,
    /// Share of outcomes inside the model's own 95% interval, before calibration.
    pub coverage95_uncalibrated: f64,
}

/// The scores of one model on one series at one origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestOrigin {
    pub series: String,
    pub model: String,
    /// The first year forecast: the model saw the years before it only.
    pub period: String,
    /// Years forecast (the horizon, fewer at the end of the history).
    pub steps: usize,
    pub smape: f64,
    pub mase: f64,
    pub msis95: f64,
    pub coverage80: f64,
    pub coverage95: f64,
    pub coverage95_uncalibrated: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    pub dataflow: String,
    pub horizon: usize,
    /// Origins asked for.
    pub origins: usize,
    /// One row per series and model.
    pub rows: Vec<BacktestRow>,
    /// The scores behind each row, origin by origin.
    pub by_origin: Vec<BacktestOrigin>,
    pub notes: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Series from the bank

/// One annual series in base units, with where every year came from.
struct Series {
    key: Vec<String>,
    unit: String,
    years: Vec<i32>,
    values: Vec<f64>,
    /// (source, release label, release date) → years taken from it.
    provenance: BTreeMap<(String, String, String), Vec<i32>>,
    notes: Vec<String>,
}

impl Series {
    fn key_string(&self) -> String {
        self.key.join(".")
    }

    fn provenance_text(&self) -> String {
        self.provenance
            .iter()
            .map(|((source, label, date), years)| format!("{source} “{label}” ({date}): {}", year_ranges(years)))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn sources(&self) -> Vec<HistorySource> {
        self.provenance
            .iter()
            .map(|((source, release, release_date), years)| HistorySource {
                source: source.clone(),
                release: release.clone(),
                release_date: release_date.clone(),
                years: years.clone(),
            })
            .collect()
    }
}

/// Per-series notes, each text once with the series it concerns.
fn series_notes(series: &[&Series]) -> Vec<String> {
    let mut by_text: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for s in series {
        for t in &s.notes {
            by_text.entry(t.as_str()).or_default().push(s.key_string());
        }
    }
    by_text
        .into_iter()
        .map(|(t, keys)| {
            if keys.len() > 3 {
                format!("{} series ({} … {}): {t}", keys.len(), keys[0], keys[keys.len() - 1])
            } else {
                format!("{}: {t}", keys.join(", "))
            }
        })
        .collect()
}

/// `1950–1960, 1962` from a sorted list of years.
fn year_ranges(years: &[i32]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < years.len() {
        let mut j = i;
        while j + 1 < years.len() && years[j + 1] == years[j] + 1 {
            j += 1;
        }
        parts.push(if i == j { years[i].to_string() } else { format!("{}–{}", years[i], years[j]) });
        i = j + 1;
    }
    parts.join(", ")
}

fn is_year(p: &str) -> Option<i32> {
    (p.len() == 4 && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse().ok()).flatten()
}

fn year_month(p: &str) -> Option<(i32, u32)> {
    let (y, m) = p.split_once('-')?;
    let m: u32 = (m.len() == 2).then(|| m.parse().ok()).flatten()?;
    Some((is_year(y)?, m)).filter(|(_, m)| (1..=12).contains(m))
}

/// What selects the history of a forecast or backtest.
struct Selection<'a> {
    dataflow: &'a str,
    keys: &'a [String],
    from: Option<i32>,
    to: Option<i32>,
    as_of: Option<&'a str>,
}

impl Selection<'_> {
    /// The bank query, built from the texts exactly as [`App::query`] builds it.
    fn query(&self, bank: &Bank) -> Result<Query> {
        let text = QueryText {
            keys: self.keys.to_vec(),
            as_of: self.as_of.map(str::to_string),
            from: self.from.map(|y| y.to_string()),
            to: self.to.map(|y| y.to_string()),
            ..QueryText::default()
        };
        Ok(Query::checked(bank.catalogue(), self.dataflow, &text)?)
    }

    fn check(&self) -> Result<()> {
        if self.keys.iter().all(|k| k.trim().is_empty()) {
            return Err(AppError::invalid("key", "name the series (a dotted key or DIM=CODE items)"));
        }
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(AppError::invalid("from", format!("the first year {from} is after the last year {to}")));
        }
        Ok(())
    }
}

/// Annual series per key from the harmonised view. Years given only as 12 monthly counts are
/// summed; ranges (`2010/2017`) are skipped; gaps cut the series to its last unbroken run.
fn load_series(bank: &Bank, selection: &Selection<'_>) -> Result<Vec<Series>> {
    let query = selection.query(bank)?;
    let rows = bank.harmonised(&query)?;
    /// A figure with the source and release it came from.
    type Sourced = (f64, (String, String, String));
    struct Acc {
        unit: String,
        annual: BTreeMap<i32, Sourced>,
        monthly: BTreeMap<i32, BTreeMap<u32, Sourced>>,
        skipped: BTreeSet<String>,
    }
    let mut by_key: BTreeMap<Vec<String>, Acc> = BTreeMap::new();
    for r in rows {
        let Some(v) = r.base_value() else { continue };
        let acc = by_key.entry(r.key.clone()).or_insert_with(|| Acc {
            unit: r.unit.clone(),
            annual: BTreeMap::new(),
            monthly: BTreeMap::new(),
            skipped: BTreeSet::new(),
        });
        let prov = (r.source.clone(), r.release_label.clone(), r.release_date.clone());
        if let Some(y) = is_year(&r.time_period) {
            acc.annual.insert(y, (v, prov));
        } else if let Some((y, m)) = year_month(&r.time_period) {
            acc.monthly.entry(y).or_default().insert(m, (v, prov));
        } else {
            acc.skipped.insert(r.time_period.clone());
        }
    }
    let mut out = Vec::new();
    for (key, acc) in by_key {
        let mut notes = Vec::new();
        let mut annual = acc.annual;
        // Counts add up over months; rates and shares do not.
        let additive = acc.unit == "PERS";
        for (y, months) in &acc.monthly {
            if annual.contains_key(y) {
                continue;
            }
            if additive && months.len() == 12 {
                let total: f64 = months.values().map(|(v, _)| v).sum();
                let prov = months.values().next().map(|(_, p)| p.clone()).unwrap_or_default();
                annual.insert(*y, (total, prov));
                notes.push(format!(
                    "{y} is the sum of its 12 monthly figures (a monthly release: its coverage may differ from the annual totals of other years)"
                ));
            } else {
                notes.push(format!(
                    "{y}: only {} monthly figure(s){}: not used",
                    months.len(),
                    if additive { "" } else { " of a rate" }
                ));
            }
        }
        if !acc.skipped.is_empty() {
            let list: Vec<&str> = acc.skipped.iter().map(String::as_str).collect();
            notes.push(format!("periods that are not single years skipped: {}", list.join(", ")));
        }
        let years: Vec<i32> = annual.keys().copied().collect();
        // The last unbroken run of years: a model needs equally spaced observations.
        let mut start = years.len().saturating_sub(1);
        while start > 0 && years[start - 1] + 1 == years[start] {
            start -= 1;
        }
        if start > 0 {
            notes.push(format!("gap before {}: years {} not used", years[start], year_ranges(&years[..start])));
        }
        let mut s =
            Series { key, unit: acc.unit, years: Vec::new(), values: Vec::new(), provenance: BTreeMap::new(), notes };
        for y in &years[start..] {
            let (v, prov) = &annual[y];
            s.years.push(*y);
            s.values.push(*v);
            s.provenance.entry(prov.clone()).or_default().push(*y);
        }
        if !s.years.is_empty() {
            out.push(s);
        }
    }
    if out.is_empty() {
        return Err(AppError::Unanswerable(format!(
            "no annual figures in {} for {}: the harmonised view of the bank has none for this key",
            selection.dataflow,
            selection.keys.join(" ")
        )));
    }
    if out.len() > MAX_SERIES {
        return Err(AppError::invalid(
            "key",
            format!("it matches {} series; at most {MAX_SERIES} are modelled in one request: narrow it", out.len()),
        ));
    }
    Ok(out)
}

/// The codes and groupings a series belongs to, for scenario rules.
fn series_groups(bank: &Bank, dataflow: &str, key: &[String], on: Date) -> Vec<String> {
    let mut groups = vec![dataflow.to_string()];
    let Some(df) = bank.catalogue().dataflow(dataflow) else { return groups };
    let names: BTreeSet<&str> = bank.catalogue().groups.memberships.iter().map(|m| m.group.as_str()).collect();
    for (dim, code) in df.dimensions.iter().zip(key) {
        groups.push(format!("{}={code}", dim.id));
        if dim.codelist == "AREA" {
            for g in &names {
                if bank.catalogue().groups.is_member(g, code, on) {
                    groups.push(format!("{}={g}", dim.id));
                }
            }
        }
    }
    groups
}

fn parse_model(field: &str, text: &str) -> Result<ModelKind> {
    let t = text.trim().to_ascii_lowercase();
    let t = if t == "combo" { "combination".to_string() } else { t };
    t.parse::<ModelKind>()
        .map_err(|e| AppError::invalid(field, format!("{e} (use auto, combo, ets, arima, theta, naive or drift)")))
}

fn check_steps(field: &str, n: usize) -> Result<()> {
    if n == 0 || n > MAX_STEPS {
        return Err(AppError::invalid(field, format!("must be from 1 to {MAX_STEPS} periods, not {n}")));
    }
    Ok(())
}

/// A scenario by name or from a file.
pub fn load_scenario(source: &ScenarioSource) -> Result<Scenario> {
    let (name, text) = match source {
        ScenarioSource::Bundled(name) => {
            let Some((_, text)) = BUNDLED_SCENARIOS.iter().find(|(n, _)| n == name) else {
                return Err(AppError::NotFound {
                    what: "scenario",
                    id: name.clone(),
                    known: BUNDLED_SCENARIOS.iter().map(|(n, _)| n.to_string()).collect(),
                });
            };
            (name.clone(), text.to_string())
        }
        ScenarioSource::File(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|source| AppError::File { path: path.display().to_string(), source })?;
            (path.display().to_string(), text)
        }
    };
    toml::from_str(&text).map_err(|e| AppError::invalid("scenario", format!("{name}: not a valid scenario: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Forecasts

/// A fitted forecast of one series, with how it was made.
struct Fitted {
    forecast: Forecast,
    /// Calibration multipliers of the model sd, by step.
    factors: Vec<f64>,
    calibrated: bool,
    n_scores: usize,
    short: bool,
}

impl Fitted {
    fn calibration(&self) -> Calibration {
        Calibration {
            calibrated: self.calibrated,
            scores: self.n_scores,
            factors: self.factors.clone(),
            short_history: self.short,
        }
    }
}

/// Why one series got no forecast (said in the report's notes, or as the error of a
/// reconciliation that needs every series).
#[derive(Debug, thiserror::Error)]
enum FitError {
    #[error("only {0} year(s) of history: too short to forecast")]
    TooShort(usize),
    #[error("fitting {model}: {source}")]
    Model { model: ModelKind, source: koshi_forecast::ForecastError },
}

/// The forecast policy: the model asked for with intervals calibrated on its own rolling-origin
/// errors; below [`MIN_MODEL_HISTORY`] years the naive forecast (or drift if asked for).
fn fit(values: &[f64], horizon: usize, model: ModelKind) -> std::result::Result<Fitted, FitError> {
    let n = values.len();
    if n < 3 {
        return Err(FitError::TooShort(n));
    }
    let short = n < MIN_MODEL_HISTORY;
    let model = if short && !matches!(model, ModelKind::Naive | ModelKind::Drift) { ModelKind::Naive } else { model };
    let c = calibrated_forecast(values, horizon, model, &CalibrationConfig::default())
        .map_err(|source| FitError::Model { model, source })?;
    Ok(Fitted { calibrated: c.n_scores > 0, n_scores: c.n_scores, factors: c.factors, forecast: c.forecast, short })
}

fn calibration_text(f: &Fitted, n: usize) -> String {
    if f.short {
        format!(
            "history of {n} years is too short for model choice or calibration: naive forecast, model intervals ×1.5, NOT calibrated"
        )
    } else if f.calibrated {
        format!("calibrated on {} rolling-origin errors", f.n_scores)
    } else {
        "not calibrated (no rolling-origin errors): model intervals ×1.5".into()
    }
}

fn forecast_rows(
    series: &str,
    unit: &str,
    first_year: i32,
    scenario: Option<&str>,
    f: &Forecast,
    detail: &str,
) -> Vec<ForecastRow> {
    let i80 = f.interval(0.80);
    let i95 = f.interval(0.95);
    (0..f.horizon())
        .map(|h| ForecastRow {
            series: series.to_string(),
            period: (first_year + h as i32).to_string(),
            kind: if scenario.is_some() { RowKind::Scenario } else { RowKind::Forecast },
            scenario: scenario.map(str::to_string),
            mean: f.mean[h],
            lo80: Some(i80.lower[h]),
            hi80: Some(i80.upper[h]),
            lo95: Some(i95.lower[h]),
            hi95: Some(i95.upper[h]),
            unit: unit.to_string(),
            model_or_source: f.model.clone(),
            detail: detail.to_string(),
            un: None,
        })
        .collect()
}

fn history_row(series: &str, period: i32, value: f64, unit: &str, source: String, release: String) -> ForecastRow {
    ForecastRow {
        series: series.to_string(),
        period: period.to_string(),
        kind: RowKind::History,
        scenario: None,
        mean: value,
        lo80: None,
        hi80: None,
        lo95: None,
        hi95: None,
        unit: unit.to_string(),
        model_or_source: source,
        detail: release,
        un: None,
    }
}

fn history_rows(s: &Series, show: usize) -> Vec<ForecastRow> {
    let from = s.years.len().saturating_sub(show);
    let mut release_of: BTreeMap<i32, (String, String)> = BTreeMap::new();
    for ((source, label, _), years) in &s.provenance {
        for y in years {
            release_of.insert(*y, (source.clone(), label.clone()));
        }
    }
    (from..s.years.len())
        .map(|i| {
            let (source, label) = release_of.get(&s.years[i]).cloned().unwrap_or_default();
            history_row(&s.key_string(), s.years[i], s.values[i], &s.unit, source, label)
        })
        .collect()
}

/// Model output has spurious decimals: round to whole units above 100.
fn fig(v: f64) -> String {
    if v.abs() >= 100.0 { fmt_num(v.round()) } else { fmt_num((v * 100.0).round() / 100.0) }
}

/// The UN WPP 2024 projection of one area: (quantile, period) → persons, and its release.
struct UnFigures {
    area: String,
    figures: BTreeMap<(String, String), f64>,
    release: String,
}

impl UnFigures {
    fn at(&self, period: &str) -> Option<UnProjection> {
        let get = |q: &str| self.figures.get(&(q.to_string(), period.to_string())).copied();
        let p =
            UnProjection { median: get("MED"), lo80: get("L80"), hi80: get("U80"), lo95: get("L95"), hi95: get("U95") };
        (p.median.is_some() || p.lo95.is_some() || p.hi95.is_some()).then_some(p)
    }
}

/// The UN projection for the area of a net migration series, through the key grammar.
fn un_projection(bank: &Bank, dataflow: &str, key: &[String], as_of: Option<&str>) -> Result<UnFigures> {
    let df = dataflow_named(bank.catalogue(), dataflow)?;
    let measure = df.dimension_index("MEASURE").and_then(|i| key.get(i)).map(String::as_str);
    let area = df.dimension_index("REF_AREA").and_then(|i| key.get(i)).cloned();
    let (Some("NET"), Some(area)) = (measure, area) else {
        return Err(AppError::invalid(
            "compare_un",
            "the UN comparison is for net migration (MEASURE NET, e.g. MIG_EXT KAZ.WLD._T._T.NET), set against MIG_NET_PROJ",
        ));
    };
    let text = QueryText {
        keys: vec![format!("REF_AREA={area}")],
        as_of: as_of.map(str::to_string),
        source: Some("UN_WPP".into()),
        ..QueryText::default()
    };
    let query = Query::checked(bank.catalogue(), "MIG_NET_PROJ", &text)?;
    let proj = dataflow_named(bank.catalogue(), "MIG_NET_PROJ")?;
    let quantile_dim = proj.dimensions.iter().position(|d| d.id != "REF_AREA").unwrap_or(1);
    let mut figures = BTreeMap::new();
    let mut release = String::new();
    for r in bank.query(&query)? {
        if let (Some(v), Some(q)) = (r.base_value(), r.key.get(quantile_dim)) {
            if q == "MED" {
                release = format!("“{}” ({}) and its L80/U80/L95/U95 releases", r.release_label, r.release_date);
            }
            figures.insert((q.clone(), r.time_period.clone()), v);
        }
    }
    if figures.is_empty() {
        return Err(AppError::Unanswerable(format!(
            "no UN projection for {area} in MIG_NET_PROJ (the bundled datasets hold it)"
        )));
    }
    Ok(UnFigures { area, figures, release })
}

/// Puts the UN projection beside the forecast rows of one series and explains the gap.
fn compare_un(s: &Series, fitted: &Fitted, un: &UnFigures, rows: &mut [ForecastRow], notes: &mut Vec<String>) {
    for r in rows.iter_mut() {
        r.un = un.at(&r.period);
    }
    let area = &un.area;
    let Some((last, theirs_at)) = rows.iter().rev().find_map(|r| r.un.filter(|u| u.median.is_some()).map(|u| (r, u)))
    else {
        notes.push(format!("{area}: the UN projection does not cover the forecast years"));
        return;
    };
    let (p, l, u) = (last.mean, last.lo95.unwrap_or(f64::NAN), last.hi95.unwrap_or(f64::NAN));
    let nan = |v: Option<f64>| v.unwrap_or(f64::NAN);
    let (m, ul, uu) = (nan(theirs_at.median), nan(theirs_at.lo95), nan(theirs_at.hi95));
    let (ours, theirs) = (u - l, uu - ul);
    let first = s.years[0];
    let last_hist = s.years[s.years.len() - 1];
    let recent: Vec<f64> = s.values.iter().rev().take(10).copied().collect();
    let recent_mean = recent.iter().sum::<f64>() / recent.len() as f64;
    notes.push(format!(
        "UN comparison, {area} {}: koshi {} (95%: {} … {}) vs UN WPP 2024 median {} (95%: {} … {}); MIG_NET_PROJ from UN_WPP {}.",
        last.period,
        fig(p),
        fig(l),
        fig(u),
        fig(m),
        fig(ul),
        fig(uu),
        un.release,
    ));
    let (lowest_at, lowest) =
        s.values.iter().enumerate().fold((0, f64::INFINITY), |a, (i, v)| if *v < a.1 { (i, *v) } else { a });
    let widen = fitted.factors.iter().copied().fold(1.0, f64::max);
    notes.push(format!(
        "Why they differ: koshi extrapolates this one series ({} fitted to {first}–{last_hist}; mean of the last {} years {}); its \
intervals are the model's error variance over the whole record (which includes {} in {}), widened ×{widen:.2} where its own \
rolling-origin errors over the last years demanded ({}). The UN projection is not an extrapolation of this series alone: WPP \
2024 projects net migration with a Bayesian hierarchical model pooled across countries, whose median tends towards a \
long-run level and whose bands reflect migration volatility across countries and periods. Medians close together mean both \
read the recent record as roughly balanced; the UN 95% band is {} the koshi band ({} vs {} wide).",
        fitted.forecast.model,
        recent.len(),
        fig(recent_mean),
        fig(lowest),
        s.years[lowest_at],
        calibration_text(fitted, s.years.len()),
        if theirs > ours { format!("{:.1}× as wide as", theirs / ours) } else { format!("{:.1}× narrower than", ours / theirs) },
        fig(theirs),
        fig(ours),
    ));
}

/// Everything a forecast reads from the bank, read in one snapshot.
struct ForecastInput {
    series: Vec<Series>,
    /// Per series, the codes and groupings its scenario rules may name.
    groups: Vec<Vec<String>>,
    /// The total's groupings when reconciling.
    total_groups: Vec<String>,
    /// The name of the total when reconciling.
    total_name: Option<String>,
    /// Per series, the UN projection when compared.
    un: Vec<Option<UnFigures>>,
}

/// The years every series has.
fn common_years(series: &[Series]) -> Vec<i32> {
    series
        .iter()
        .map(|s| s.years.iter().copied().collect::<BTreeSet<_>>())
        .reduce(|a, b| a.intersection(&b).copied().collect())
        .unwrap_or_default()
        .into_iter()
        .collect()
}

fn scenario_note(sc: &Scenario) -> Option<String> {
    sc.description
        .as_ref()
        .map(|d| format!("scenario `{}`: {}", sc.id, d.split_whitespace().collect::<Vec<_>>().join(" ")))
}

impl App {
    /// Point forecasts with calibrated 80% and 95% intervals for the annual series the keys
    /// select, with scenario paths, the UN projection beside net migration, or the parts and
    /// their total reconciled, as the request asks.
    pub fn forecast(&self, request: &ForecastRequest) -> Result<ForecastReport> {
        check_steps("horizon", request.horizon)?;
        let model = parse_model("model", &request.model)?;
        let selection = Selection {
            dataflow: &request.dataflow,
            keys: &request.keys,
            from: request.from,
            to: request.to,
            as_of: request.as_of.as_deref(),
        };
        selection.check()?;
        let scenarios: Vec<Scenario> = request.scenarios.iter().map(load_scenario).collect::<Result<_>>()?;
        if request.reconcile.is_some() && request.compare_un {
            return Err(AppError::invalid(
                "compare_un",
                "the UN comparison is of one national series: it does not apply to reconciled parts",
            ));
        }
        let input = self.read(|bank| {
            let series = load_series(bank, &selection)?;
            // Group memberships as of the first forecast year (of the common years when reconciling).
            let common_last = common_years(&series).last().copied();
            let on = |s: &Series| {
                let last = match (request.reconcile, common_last) {
                    (Some(_), Some(y)) => y,
                    _ => s.years[s.years.len() - 1],
                };
                Date { year: last + 1, month: 1, day: 1 }
            };
            let groups = series.iter().map(|s| series_groups(bank, &request.dataflow, &s.key, on(s))).collect();
            let (total_name, total_groups) = if request.reconcile.is_some() {
                let df = dataflow_named(bank.catalogue(), &request.dataflow)?;
                let area_dim = df.dimension_index("REF_AREA");
                // The total is named after the country when every part is a Kazakh region.
                let all_kz = area_dim.is_some_and(|i| series.iter().all(|s| s.key[i].starts_with("KZ-")));
                let name = match area_dim {
                    Some(i) => {
                        let mut k = series[0].key.clone();
                        k[i] = if all_kz { "KAZ".into() } else { "TOTAL".into() };
                        format!("{} (sum of {} series)", k.join("."), series.len())
                    }
                    None => format!("total of {} series", series.len()),
                };
                let last = common_last.unwrap_or_default();
                let groups = series_groups(bank, &request.dataflow, &[], Date { year: last + 1, month: 1, day: 1 });
                (Some(name), groups)
            } else {
                (None, Vec::new())
            };
            let un = if request.compare_un {
                series
                    .iter()
                    .map(|s| un_projection(bank, &request.dataflow, &s.key, request.as_of.as_deref()).map(Some))
                    .collect::<Result<_>>()?
            } else {
                series.iter().map(|_| None).collect()
            };
            Ok(ForecastInput { series, groups, total_groups, total_name, un })
        })?;
        let mut report = ForecastReport {
            dataflow: request.dataflow.clone(),
            model: model.name().to_string(),
            horizon: request.horizon,
            reconcile: request.reconcile,
            series: Vec::new(),
            rows: Vec::new(),
            notes: Vec::new(),
        };
        match request.reconcile {
            Some(how) => reconciled(request, how, model, &input, &scenarios, &mut report)?,
            None => separately(request, model, &input, &scenarios, &mut report)?,
        }
        if report.rows.is_empty() {
            return Err(AppError::Unanswerable(format!("nothing could be forecast: {}", report.notes.join("; "))));
        }
        Ok(report)
    }

    /// Rolling-origin scores of the models on the annual series the keys select: at each of the
    /// last `origins` years the model is fitted on the years before, forecasts up to `horizon`
    /// years, and is scored against what happened, with intervals calibrated exactly as
    /// [`App::forecast`] calibrates them, on the years before each origin only.
    /// Kept until the bank changes.
    pub fn backtest(&self, request: &BacktestRequest) -> Result<BacktestReport> {
        Ok(BacktestReport::clone(&self.kept_lasting(&self.backtests, request, |app| app.compute_backtest(request))?.1))
    }

    fn compute_backtest(&self, request: &BacktestRequest) -> Result<BacktestReport> {
        check_steps("horizon", request.horizon)?;
        check_steps("origins", request.origins)?;
        let models: Vec<ModelKind> = if request.models.is_empty() {
            ModelKind::ALL.to_vec()
        } else {
            request.models.iter().map(|m| parse_model("model", m)).collect::<Result<_>>()?
        };
        let selection = Selection {
            dataflow: &request.dataflow,
            keys: &request.keys,
            from: request.from,
            to: request.to,
            as_of: request.as_of.as_deref(),
        };
        selection.check()?;
        let series = self.read(|bank| load_series(bank, &selection))?;
        let cfg = CalibrationConfig::default();
        let mut report = BacktestReport {
            dataflow: request.dataflow.clone(),
            horizon: request.horizon,
            origins: request.origins,
            rows: Vec::new(),
            by_origin: Vec::new(),
            notes: Vec::new(),
        };
        for s in &series {
            let key = s.key_string();
            let n = s.years.len();
            report.notes.push(format!(
                "{key}: history {}–{} ({n} years) from {}",
                s.years[0],
                s.years[n - 1],
                s.provenance_text()
            ));
            report.notes.extend(series_notes(&[s]));
            for &m in &models {
                match koshi_forecast::backtest::backtest(&s.values, request.horizon, m, request.origins, &cfg) {
                    Ok(b) => {
                        report.rows.push(BacktestRow {
                            series: key.clone(),
                            model: m.name().to_string(),
                            origins: b.origins.len(),
                            horizon: request.horizon,
                            smape: b.smape,
                            mase: b.mase,
                            msis95: b.msis95,
                            coverage80: b.coverage80,
                            coverage95: b.coverage95,
                            coverage95_uncalibrated: b.coverage95_uncalibrated,
                        });
                        report.by_origin.extend(b.origins.iter().map(|o| BacktestOrigin {
                            series: key.clone(),
                            model: m.name().to_string(),
                            period: s.years[o.origin].to_string(),
                            steps: o.steps,
                            smape: o.smape,
                            mase: o.mase,
                            msis95: o.msis95,
                            coverage80: o.coverage80,
                            coverage95: o.coverage95,
                            coverage95_uncalibrated: o.coverage95_uncalibrated,
                        }));
                    }
                    Err(ForecastError::TooShort { .. }) => report.notes.push(format!(
                        "{key} {m}: {n} years of history: a backtest needs at least {} (training {} + 1)",
                        cfg.min_train + 1,
                        cfg.min_train
                    )),
                    Err(e) => report.notes.push(format!("{key} {m}: {e}")),
                }
            }
        }
        if report.rows.is_empty() {
            return Err(AppError::Unanswerable(format!("no backtest could be run: {}", report.notes.join("; "))));
        }
        report.notes.push(
            "sMAPE in %; MASE and MSIS scaled by the in-sample naive error (below 1 beats the naive forecast); coverage = share of outcomes \
inside the interval (target 0.80 and 0.95)"
                .into(),
        );
        Ok(report)
    }
}

/// Every series forecast on its own.
fn separately(
    request: &ForecastRequest,
    model: ModelKind,
    input: &ForecastInput,
    scenarios: &[Scenario],
    report: &mut ForecastReport,
) -> Result<()> {
    for (i, s) in input.series.iter().enumerate() {
        let key = s.key_string();
        let n = s.years.len();
        let first = s.years[n - 1] + 1;
        let fitted = match fit(&s.values, request.horizon, model) {
            Ok(f) => f,
            Err(e) => {
                report.notes.push(format!("{key}: {e}"));
                continue;
            }
        };
        let calib = calibration_text(&fitted, n);
        report.notes.push(format!(
            "{key}: history {}–{} ({n} years) from {}; {}; {}",
            s.years[0],
            s.years[n - 1],
            s.provenance_text(),
            fitted.forecast.model,
            calib
        ));
        report.notes.extend(series_notes(&[s]));
        report.series.push(ForecastSeries {
            series: key.clone(),
            unit: s.unit.clone(),
            history_from: s.years[0],
            history_to: s.years[n - 1],
            years: n,
            model: fitted.forecast.model.clone(),
            calibration: fitted.calibration(),
            sources: s.sources(),
        });
        report.rows.extend(history_rows(s, request.show_history));
        let mut frows = forecast_rows(&key, &s.unit, first, None, &fitted.forecast, &calib);
        if let Some(un) = &input.un[i] {
            compare_un(s, &fitted, un, &mut frows, &mut report.notes);
        }
        report.rows.extend(frows);
        let group_refs: Vec<&str> = input.groups[i].iter().map(String::as_str).collect();
        for sc in scenarios {
            if !sc.rules.iter().any(|r| r.matches(&key, &group_refs)) {
                report.notes.push(format!("{key}: scenario `{}` has no rule for this series", sc.id));
                continue;
            }
            let adjusted = sc
                .apply(&key, &group_refs, &fitted.forecast)
                .map_err(|e| AppError::invalid("scenario", format!("{}: {e}", sc.id)))?;
            report.rows.extend(forecast_rows(
                &key,
                &s.unit,
                first,
                Some(&sc.id),
                &adjusted,
                sc.label.as_deref().unwrap_or(""),
            ));
            report.notes.extend(scenario_note(sc));
        }
    }
    Ok(())
}

/// Regions (the matched series) and their total (their sum), forecast separately and then
/// reconciled so the parts add up to the whole.
fn reconciled(
    request: &ForecastRequest,
    how: Reconciliation,
    model: ModelKind,
    input: &ForecastInput,
    scenarios: &[Scenario],
    report: &mut ForecastReport,
) -> Result<()> {
    let series = &input.series;
    if series.len() < 2 {
        return Err(AppError::invalid(
            "reconcile",
            "reconciling needs several series that add up to a total (e.g. MIG_INT .ARR: every region's arrivals)",
        ));
    }
    if series.iter().any(|s| s.unit != series[0].unit) || series[0].unit != "PERS" {
        return Err(AppError::invalid(
            "reconcile",
            "reconciling adds the series up: they must all be counts (unit PERS)",
        ));
    }
    // Common years only: the total must be the sum of the same years of every part.
    let years = common_years(series);
    if years.is_empty() {
        return Err(AppError::Unanswerable("the series share no year: they cannot be added up".into()));
    }
    let total_name = input.total_name.clone().unwrap_or_else(|| format!("total of {} series", series.len()));
    let parts: Vec<Vec<f64>> = series
        .iter()
        .map(|s| years.iter().map(|y| s.values[s.years.iter().position(|x| x == y).expect("common year")]).collect())
        .collect();
    let total: Vec<f64> = (0..years.len()).map(|t| parts.iter().map(|p| p[t]).sum()).collect();
    let n = years.len();
    let first = years[n - 1] + 1;
    let unanswerable = |name: &str, e: FitError| AppError::Unanswerable(format!("{name}: {e}"));
    let mut fits = vec![fit(&total, request.horizon, model).map_err(|e| unanswerable(&total_name, e))?];
    for (s, p) in series.iter().zip(&parts) {
        fits.push(fit(p, request.horizon, model).map_err(|e| unanswerable(&s.key_string(), e))?);
    }
    let names: Vec<String> = std::iter::once(total_name.clone()).chain(series.iter().map(Series::key_string)).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let hierarchy = Hierarchy::two_level(name_refs[0], &name_refs[1..]);
    let base: Vec<Vec<f64>> = fits.iter().map(|f| f.forecast.mean.clone()).collect();
    let method = how.method();
    let residuals: Option<Vec<Vec<f64>>> = (method == ReconcileMethod::MintShrink).then(|| {
        let all: Vec<&Vec<f64>> = std::iter::once(&total).chain(parts.iter()).collect();
        // Residuals where every series has a fitted value (the first year has none).
        fits.iter()
            .zip(&all)
            .map(|(f, y)| {
                f.forecast.residuals(y).into_iter().skip(1).map(|r| if r.is_finite() { r } else { 0.0 }).collect()
            })
            .collect()
    });
    let adjusted_means = reconcile(&hierarchy, &base, method, residuals.as_deref())?;
    let short = fits.iter().any(|f| f.short);
    let notes = &mut report.notes;
    notes.push(format!(
        "{}: history {} ({n} years) at common years of {} series; {}",
        total_name,
        year_ranges(&years),
        series.len(),
        series[0].provenance_text()
    ));
    if short {
        notes.push(format!(
            "History too short: {n} annual figures per series ({}). That is not enough to choose a model, estimate a trend or calibrate \
intervals on past errors, so every series uses the naive forecast (last value carried forward) with model intervals ×1.5, \
marked NOT calibrated. Treat these as a bookkeeping exercise in adding up, not as a forecast of change.",
            year_ranges(&years)
        ));
    }
    notes.extend(series_notes(&series.iter().collect::<Vec<_>>()));
    notes.push(format!(
        "Reconciled ({}): the regions' forecasts add up to the total in every year; intervals are each series' own, moved with its point forecast.",
        how.describe()
    ));
    for (i, (name, f)) in names.iter().zip(&fits).enumerate() {
        let mut adjusted = f.forecast.clone();
        adjusted.model = format!("{} reconciled", f.forecast.model);
        adjusted.mean = adjusted_means[i].clone();
        let calib = calibration_text(f, n);
        // History rows of the parts come with their provenance; the total's are sums.
        if i == 0 {
            for t in n.saturating_sub(request.show_history)..n {
                report.rows.push(history_row(
                    name,
                    years[t],
                    total[t],
                    "PERS",
                    "sum of the series below".into(),
                    String::new(),
                ));
            }
        } else {
            let s = &series[i - 1];
            report.rows.extend(
                history_rows(s, request.show_history)
                    .into_iter()
                    .filter(|r| years.iter().any(|y| y.to_string() == r.period)),
            );
        }
        report.series.push(ForecastSeries {
            series: name.clone(),
            unit: "PERS".into(),
            history_from: years[0],
            history_to: years[n - 1],
            years: n,
            model: adjusted.model.clone(),
            calibration: f.calibration(),
            sources: if i == 0 { Vec::new() } else { series[i - 1].sources() },
        });
        report.rows.extend(forecast_rows(name, "PERS", first, None, &adjusted, &calib));
        let groups = if i == 0 { &input.total_groups } else { &input.groups[i - 1] };
        let refs: Vec<&str> = groups.iter().map(String::as_str).collect();
        for sc in scenarios {
            if sc.rules.iter().any(|r| r.matches(name, &refs)) {
                let a = sc
                    .apply(name, &refs, &adjusted)
                    .map_err(|e| AppError::invalid("scenario", format!("{}: {e}", sc.id)))?;
                report.rows.extend(forecast_rows(
                    name,
                    "PERS",
                    first,
                    Some(&sc.id),
                    &a,
                    sc.label.as_deref().unwrap_or(""),
                ));
            }
        }
    }
    if !scenarios.is_empty() {
        report.notes.push("scenarios are applied after reconciliation: a scenario that changes some regions only breaks the adding-up on purpose".into());
    }
    Ok(())
}
