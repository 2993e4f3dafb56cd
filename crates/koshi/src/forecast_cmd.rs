//! `koshi forecast` and `koshi backtest`: annual series from the bank's harmonised view fed to
//! `koshi-forecast` (calibrated intervals, scenarios, reconciliation, rolling-origin scores).
//! This module only fetches figures, says where they came from, and prints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use koshi_core::Date;
use koshi_forecast::calibrate::{CalibrationConfig, calibrated_forecast};
use koshi_forecast::reconcile::{Hierarchy, ReconcileMethod, reconcile};
use koshi_forecast::scenario::Scenario;
use koshi_forecast::{Forecast, ModelKind, metrics};
use koshi_store::{Bank, Query};
use serde::Serialize;

use crate::output::{Format, Printable, num, print};

/// Below this many annual points there are no rolling origins to choose or calibrate a model
/// on: only the naive benchmark is used, and its intervals are marked as not calibrated.
const MIN_MODEL_HISTORY: usize = 8;

#[derive(clap::Args)]
#[command(
    long_about = "Point forecasts with calibrated 80% and 95% intervals for annual series of the bank.\n\n\
History: the harmonised view (one figure per year, the reconciliation policy picks the source), annual periods \
YYYY only; a year given only as twelve monthly counts is summed (counts, not rates). The output says which \
source and release every history year came from. Values are in base units (persons, not thousands).\n\n\
Models: auto (= combo: a validation-weighted combination of naive, drift, ETS, ARIMA, Theta and log-scale \
growth models), ets, arima, theta, naive, drift. Intervals are the model's, widened by the conformal quantile \
of its own rolling-origin errors (last 10 origins), so the stated 80/95% hold on past data. With fewer than 8 \
years the history is too short for that: the naive forecast is shown and the output says the intervals are \
not calibrated.\n\n\
Scenarios (--scenario FILE.toml, repeatable; see data/scenarios/): named assumptions applied to the forecast of \
matching series: multiplier, zero, constant, shift, path, quantile, converge_to, driver (elasticity × driver \
change). A rule matches by `series` (the dotted key) or `group`: DIM=CODE of any key code (MEASURE=NET, \
REF_AREA=KAZ), DIM=GROUP for a grouping the code belongs to (COUNTERPART=EAEU), or the dataflow id.",
    after_help = "Examples:\n  \
koshi forecast MIG_EXT --key KAZ.WLD._T._T.NET --horizon 7 --compare-un\n  \
koshi forecast MIG_EXT --key KAZ.WLD._T._T.NET --horizon 7 --model ets --scenario data/scenarios/brain-drain.toml\n  \
koshi forecast MIG_EXT --key KAZ.WLD._T._T.NET --from 2000 --horizon 5 --format json\n  \
koshi forecast MIG_EXT --key REF_AREA=KAZ+RUS+KGZ --key MEASURE=NET_RATE --horizon 3\n  \
koshi forecast MIG_INT --key .ARR --horizon 3 --reconcile        # regions that add up to Kazakhstan"
)]
pub struct Args {
    /// The dataflow (e.g. MIG_EXT, MIG_INT, MIG_STOCK).
    dataflow: String,
    /// Which series: a dotted SDMX key (KAZ.WLD._T._T.NET; empty part = any) or DIM=CODE[+CODE]; repeated keys combine with AND.
    #[arg(long, required = true)]
    key: Vec<String>,
    /// Periods to forecast after the last one of history (1 to 100).
    #[arg(long, default_value_t = 5, value_parser = steps_parser("the horizon"))]
    horizon: usize,
    /// auto|combo, ets, arima, theta, naive, drift (also stm, otm, dstm, dotm, ets_log, drift_log).
    #[arg(long, default_value = "auto")]
    model: String,
    /// A scenario file (TOML); its forecast is printed beside the baseline. Repeatable.
    #[arg(long)]
    scenario: Vec<PathBuf>,
    /// First year of history to use.
    #[arg(long)]
    from: Option<i32>,
    /// Last year of history to use (the forecast starts the year after).
    #[arg(long)]
    to: Option<i32>,
    /// Show the UN's probabilistic projection (MIG_NET_PROJ, WPP 2024: median, 80% and 95%) beside a
    /// net migration forecast, with a note on why they differ.
    #[arg(long)]
    compare_un: bool,
    /// Treat the matched series as parts of a total (their sum) and make the forecasts add up.
    #[arg(long)]
    reconcile: bool,
    /// How to reconcile: wls (structural weights), ols, mint (shrunk residual covariance), bottom-up.
    #[arg(long, value_enum, default_value_t = ReconcileArg::Wls)]
    reconcile_method: ReconcileArg,
    /// History years shown before the forecast (per series).
    #[arg(long, default_value_t = 5)]
    show_history: usize,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum ReconcileArg {
    Wls,
    Ols,
    Mint,
    BottomUp,
}

#[derive(clap::Args)]
#[command(
    long_about = "Rolling-origin evaluation of the forecasting models on annual series of the bank: at each of the \
last --origins years the model is fitted on the years before, forecasts up to --horizon years, and is scored \
against what happened. Intervals are calibrated exactly as `koshi forecast` does, using only the years before \
each origin.\n\nScores: sMAPE (%), MASE (mean absolute error over the in-sample naive error), MSIS (mean scaled \
interval score of the 95% interval; lower is better), coverage of the calibrated 80% and 95% intervals and of \
the model's own 95% interval before calibration.",
    after_help = "Examples:\n  \
koshi backtest MIG_EXT --key KAZ.WLD._T._T.NET\n  \
koshi backtest MIG_EXT --key KAZ.WLD._T._T.NET --model ets --model combo --horizon 5 --origins 15\n  \
koshi backtest MIG_EXT --key REF_AREA=KAZ+KGZ --key MEASURE=NET --format csv"
)]
pub struct BacktestArgs {
    /// The dataflow (e.g. MIG_EXT).
    dataflow: String,
    /// Which series: a dotted SDMX key or DIM=CODE[+CODE]; repeated keys combine with AND.
    #[arg(long, required = true)]
    key: Vec<String>,
    /// Periods ahead forecast at each origin (1 to 100).
    #[arg(long, default_value_t = 3, value_parser = steps_parser("the horizon"))]
    horizon: usize,
    /// Models to compare (repeatable); default: naive, drift, ets, arima, theta and the combination.
    #[arg(long)]
    model: Vec<String>,
    /// Number of forecast origins at the end of the history (1 to 100).
    #[arg(long, default_value_t = 10, value_parser = steps_parser("the number of origins"))]
    origins: usize,
    /// First year of history to use.
    #[arg(long)]
    from: Option<i32>,
    /// Last year of history to use.
    #[arg(long)]
    to: Option<i32>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

// ---------------------------------------------------------------------------------------------
// Series from the bank

/// One annual series in base units, with where every year came from.
pub(crate) struct Series {
    pub key: Vec<String>,
    pub unit: String,
    pub years: Vec<i32>,
    pub values: Vec<f64>,
    /// (source, release label, release date) → years taken from it.
    pub provenance: BTreeMap<(String, String, String), Vec<i32>>,
    pub notes: Vec<String>,
}

impl Series {
    pub fn key_string(&self) -> String {
        self.key.join(".")
    }

    fn provenance_text(&self) -> String {
        self.provenance
            .iter()
            .map(|((source, label, date), years)| format!("{source} “{label}” ({date}): {}", year_ranges(years)))
            .collect::<Vec<_>>()
            .join("; ")
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

/// Annual series per key from the harmonised view. Years given only as 12 monthly counts are
/// summed; ranges (`2010/2017`) are skipped; gaps cut the series to its last unbroken run.
pub(crate) fn load_series(
    bank: &Bank,
    dataflow: &str,
    keys: &[String],
    from: Option<i32>,
    to: Option<i32>,
) -> Result<Vec<Series>> {
    // The one key grammar (`koshi_core::key`): repeated keys combine with AND, codes are checked.
    let text = koshi_store::QueryText {
        keys: keys.to_vec(),
        from: from.map(|y| y.to_string()),
        to: to.map(|y| y.to_string()),
        ..Default::default()
    };
    let q = Query::checked(bank.catalogue(), dataflow, &text)?;
    let rows = bank.harmonised(&q)?;
    /// A figure with the source, release and citation it came from.
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
        bail!(
            "no annual figures in {dataflow} for {} (try `koshi query {dataflow} --key … --harmonised`)",
            keys.join(" ")
        );
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

fn parse_model(text: &str) -> Result<ModelKind> {
    let t = text.trim().to_ascii_lowercase();
    let t = if t == "combo" { "combination".to_string() } else { t };
    t.parse::<ModelKind>().map_err(|e| anyhow::anyhow!("{e} (use auto, combo, ets, arima, theta, naive or drift)"))
}

fn load_scenario(path: &Path) -> Result<Scenario> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: not a valid scenario", path.display()))
}

// ---------------------------------------------------------------------------------------------
// koshi forecast

/// One printed line: a history year, a forecast year or a scenario year of one series.
#[derive(Debug, Clone, Serialize)]
struct Row {
    series: String,
    period: String,
    /// `history`, `forecast` or `scenario:<id>`.
    kind: String,
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    lower80: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upper80: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lower95: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upper95: Option<f64>,
    unit: String,
    /// History: the source; forecasts: the model.
    model_or_source: String,
    /// History: the release; forecasts: whether the intervals are calibrated.
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    un_median: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    un_lower80: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    un_upper80: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    un_lower95: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    un_upper95: Option<f64>,
}

/// A fitted forecast of one series, with how it was made.
struct Fitted {
    forecast: Forecast,
    /// Calibration multipliers of the model sd, by step.
    factors: Vec<f64>,
    calibrated: bool,
    n_scores: usize,
    short: bool,
}

/// The most periods a forecast or backtest runs over: far beyond any horizon a migration series
/// supports (the UN projects 76 years ahead), small enough that a typo cannot tie up the machine.
const MAX_STEPS: usize = 100;

fn steps_parser(what: &'static str) -> impl Fn(&str) -> std::result::Result<usize, String> + Clone {
    move |text: &str| {
        let n: usize = text.trim().parse().map_err(|_| format!("`{text}` is not a whole number"))?;
        if n == 0 || n > MAX_STEPS {
            return Err(format!("{what} must be from 1 to {MAX_STEPS} periods, not {n}"));
        }
        Ok(n)
    }
}

fn fit(values: &[f64], horizon: usize, model: ModelKind) -> Result<Fitted> {
    let n = values.len();
    if n < 3 {
        bail!("only {n} year(s) of history: too short to forecast");
    }
    let short = n < MIN_MODEL_HISTORY;
    let model = if short && !matches!(model, ModelKind::Naive | ModelKind::Drift) { ModelKind::Naive } else { model };
    let cfg = CalibrationConfig::default();
    let c = calibrated_forecast(values, horizon, model, &cfg).with_context(|| format!("fitting {model}"))?;
    Ok(Fitted { calibrated: c.n_scores > 0, n_scores: c.n_scores, factors: c.factors, forecast: c.forecast, short })
}

fn forecast_rows(series: &str, unit: &str, first_year: i32, kind: &str, f: &Forecast, detail: &str) -> Vec<Row> {
    let i80 = f.interval(0.80);
    let i95 = f.interval(0.95);
    (0..f.horizon())
        .map(|h| Row {
            series: series.to_string(),
            period: (first_year + h as i32).to_string(),
            kind: kind.to_string(),
            value: f.mean[h],
            lower80: Some(i80.lower[h]),
            upper80: Some(i80.upper[h]),
            lower95: Some(i95.lower[h]),
            upper95: Some(i95.upper[h]),
            unit: unit.to_string(),
            model_or_source: f.model.clone(),
            detail: detail.to_string(),
            un_median: None,
            un_lower80: None,
            un_upper80: None,
            un_lower95: None,
            un_upper95: None,
        })
        .collect()
}

fn history_rows(s: &Series, show: usize) -> Vec<Row> {
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
            Row {
                series: s.key_string(),
                period: s.years[i].to_string(),
                kind: "history".into(),
                value: s.values[i],
                lower80: None,
                upper80: None,
                lower95: None,
                upper95: None,
                unit: s.unit.clone(),
                model_or_source: source,
                detail: label,
                un_median: None,
                un_lower80: None,
                un_upper80: None,
                un_lower95: None,
                un_upper95: None,
            }
        })
        .collect()
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

pub fn run(db: &Path, args: &Args) -> Result<std::process::ExitCode> {
    if args.horizon == 0 {
        bail!("--horizon must be at least 1");
    }
    let bank = Bank::open(db).with_context(|| format!("opening the data bank {}", db.display()))?;
    let model = parse_model(&args.model)?;
    let series = load_series(&bank, &args.dataflow, &args.key, args.from, args.to)?;
    let scenarios: Vec<Scenario> = args.scenario.iter().map(|p| load_scenario(p)).collect::<Result<_>>()?;
    let mut rows = Vec::new();
    let mut notes = Vec::new();

    if args.reconcile {
        reconciled(&bank, args, model, &series, &scenarios, &mut rows, &mut notes)?;
    } else {
        for s in &series {
            let key = s.key_string();
            let n = s.years.len();
            let first = s.years[n - 1] + 1;
            let fitted = match fit(&s.values, args.horizon, model) {
                Ok(f) => f,
                Err(e) => {
                    notes.push(format!("{key}: {e:#}"));
                    continue;
                }
            };
            let calib = calibration_text(&fitted, n);
            notes.push(format!(
                "{key}: history {}–{} ({n} years) from {}; {}; {}",
                s.years[0],
                s.years[n - 1],
                s.provenance_text(),
                fitted.forecast.model,
                calib
            ));
            notes.extend(series_notes(&[s]));
            rows.extend(history_rows(s, args.show_history));
            let mut frows = forecast_rows(&key, &s.unit, first, "forecast", &fitted.forecast, &calib);
            if args.compare_un {
                compare_un(&bank, &args.dataflow, s, &fitted, &mut frows, &mut notes)?;
            }
            rows.extend(frows);
            let groups = series_groups(&bank, &args.dataflow, &s.key, Date { year: first, month: 1, day: 1 });
            let group_refs: Vec<&str> = groups.iter().map(String::as_str).collect();
            for sc in &scenarios {
                if !sc.rules.iter().any(|r| r.matches(&key, &group_refs)) {
                    notes.push(format!("{key}: scenario `{}` has no rule for this series", sc.id));
                    continue;
                }
                let adjusted =
                    sc.apply(&key, &group_refs, &fitted.forecast).with_context(|| format!("scenario {}", sc.id))?;
                rows.extend(forecast_rows(
                    &key,
                    &s.unit,
                    first,
                    &format!("scenario:{}", sc.id),
                    &adjusted,
                    sc.label.as_deref().unwrap_or(""),
                ));
                if let Some(d) = &sc.description {
                    notes.push(format!("scenario `{}`: {}", sc.id, d.split_whitespace().collect::<Vec<_>>().join(" ")));
                }
            }
        }
    }
    if rows.is_empty() {
        for n in &notes {
            eprintln!("{n}");
        }
        bail!("nothing could be forecast");
    }
    print_rows(args.format, &rows, args.compare_un)?;
    crate::output::print_notes(args.format, &notes)?;
    Ok(std::process::ExitCode::SUCCESS)
}

fn print_rows(format: Format, rows: &[Row], un: bool) -> Result<()> {
    let mut columns = vec!["series", "period", "kind", "value", "lo80", "hi80", "lo95", "hi95"];
    if un {
        columns.extend(["UN median", "UN lo80", "UN hi80", "UN lo95", "UN hi95"]);
    }
    columns.extend(["unit", "model / source", "detail"]);
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut v = vec![
                r.series.clone(),
                r.period.clone(),
                r.kind.clone(),
                fig(Some(r.value)),
                fig(r.lower80),
                fig(r.upper80),
                fig(r.lower95),
                fig(r.upper95),
            ];
            if un {
                v.extend([
                    fig(r.un_median),
                    fig(r.un_lower80),
                    fig(r.un_upper80),
                    fig(r.un_lower95),
                    fig(r.un_upper95),
                ]);
            }
            v.extend([r.unit.clone(), r.model_or_source.clone(), r.detail.clone()]);
            v
        })
        .collect();
    print(format, &Printable { columns, rows: table, report: rows, items: rows })
}

/// Model output has spurious decimals: round to whole units above 100.
fn fig(v: Option<f64>) -> String {
    match v {
        Some(x) if x.abs() >= 100.0 => num(Some(x.round())),
        Some(x) => num(Some((x * 100.0).round() / 100.0)),
        None => String::new(),
    }
}

/// Puts the UN WPP 2024 probabilistic projection beside the forecast and explains the gap.
fn compare_un(
    bank: &Bank,
    dataflow: &str,
    s: &Series,
    fitted: &Fitted,
    rows: &mut [Row],
    notes: &mut Vec<String>,
) -> Result<()> {
    let df = bank.catalogue().dataflow(dataflow).context("dataflow")?;
    let measure = df.dimension_index("MEASURE").and_then(|i| s.key.get(i)).map(String::as_str);
    let area = df.dimension_index("REF_AREA").and_then(|i| s.key.get(i)).cloned();
    let (Some("NET"), Some(area)) = (measure, area) else {
        bail!(
            "--compare-un compares net migration (MEASURE NET, e.g. MIG_EXT --key KAZ.WLD._T._T.NET) with MIG_NET_PROJ"
        )
    };
    let q = Query {
        dataflow: "MIG_NET_PROJ".into(),
        filters: vec![("REF_AREA".into(), vec![area.clone()])],
        source: Some("UN_WPP".into()),
        ..Default::default()
    };
    let mut proj: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut release = String::new();
    for r in bank.query(&q)? {
        if let Some(v) = r.base_value() {
            proj.insert((r.key[1].clone(), r.time_period.clone()), v);
            if r.key[1] == "MED" {
                release = format!("“{}” ({}) and its L80/U80/L95/U95 releases", r.release_label, r.release_date);
            }
        }
    }
    if proj.is_empty() {
        bail!("no UN projection for {area} in MIG_NET_PROJ (load the bundled data: koshi load-bundled)");
    }
    let get = |q: &str, p: &str| proj.get(&(q.to_string(), p.to_string())).copied();
    for r in rows.iter_mut() {
        r.un_median = get("MED", &r.period);
        r.un_lower80 = get("L80", &r.period);
        r.un_upper80 = get("U80", &r.period);
        r.un_lower95 = get("L95", &r.period);
        r.un_upper95 = get("U95", &r.period);
    }
    let Some(last) = rows.iter().rev().find(|r| r.un_median.is_some()) else {
        notes.push(format!("{area}: the UN projection does not cover the forecast years"));
        return Ok(());
    };
    let (p, l, u) = (last.value, last.lower95.unwrap_or(f64::NAN), last.upper95.unwrap_or(f64::NAN));
    let (m, ul, uu) =
        (last.un_median.unwrap_or(f64::NAN), last.un_lower95.unwrap_or(f64::NAN), last.un_upper95.unwrap_or(f64::NAN));
    let (ours, theirs) = (u - l, uu - ul);
    let first = s.years[0];
    let last_hist = s.years[s.years.len() - 1];
    let recent: Vec<f64> = s.values.iter().rev().take(10).copied().collect();
    let recent_mean = recent.iter().sum::<f64>() / recent.len() as f64;
    notes.push(format!(
        "UN comparison, {area} {}: koshi {} (95%: {} … {}) vs UN WPP 2024 median {} (95%: {} … {}); MIG_NET_PROJ from UN_WPP {release}.",
        last.period,
        fig(Some(p)),
        fig(Some(l)),
        fig(Some(u)),
        fig(Some(m)),
        fig(Some(ul)),
        fig(Some(uu))
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
        fig(Some(recent_mean)),
        fig(Some(lowest)),
        s.years[lowest_at],
        calibration_text(fitted, s.years.len()),
        if theirs > ours { format!("{:.1}× as wide as", theirs / ours) } else { format!("{:.1}× narrower than", ours / theirs) },
        fig(Some(theirs)),
        fig(Some(ours)),
    ));
    Ok(())
}

/// Regions (the matched series) and their total (their sum), forecast separately and then
/// reconciled so the parts add up to the whole.
fn reconciled(
    bank: &Bank,
    args: &Args,
    model: ModelKind,
    series: &[Series],
    scenarios: &[Scenario],
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
) -> Result<()> {
    if series.len() < 2 {
        bail!(
            "--reconcile needs several series that add up to a total (e.g. MIG_INT --key .ARR: every region's arrivals)"
        );
    }
    if series.iter().any(|s| s.unit != series[0].unit) || series[0].unit != "PERS" {
        bail!("--reconcile adds the series up: they must all be counts (unit PERS)");
    }
    // Common years only: the total must be the sum of the same years of every part.
    let common: BTreeSet<i32> = series
        .iter()
        .map(|s| s.years.iter().copied().collect::<BTreeSet<_>>())
        .reduce(|a, b| a.intersection(&b).copied().collect())
        .unwrap_or_default();
    let years: Vec<i32> = common.into_iter().collect();
    if years.is_empty() {
        bail!("the series share no year");
    }
    let df = bank.catalogue().dataflow(&args.dataflow).context("dataflow")?;
    let area_dim = df.dimension_index("REF_AREA");
    // The total is named after the country when every part is a Kazakh region.
    let all_kz = area_dim.is_some_and(|i| series.iter().all(|s| s.key[i].starts_with("KZ-")));
    let total_name = match area_dim {
        Some(i) => {
            let mut k = series[0].key.clone();
            k[i] = if all_kz { "KAZ".into() } else { "TOTAL".into() };
            format!("{} (sum of {} series)", k.join("."), series.len())
        }
        None => format!("total of {} series", series.len()),
    };
    let parts: Vec<Vec<f64>> = series
        .iter()
        .map(|s| years.iter().map(|y| s.values[s.years.iter().position(|x| x == y).expect("common year")]).collect())
        .collect();
    let total: Vec<f64> = (0..years.len()).map(|t| parts.iter().map(|p| p[t]).sum()).collect();
    let n = years.len();
    let first = years[n - 1] + 1;
    let mut fits = vec![fit(&total, args.horizon, model).with_context(|| total_name.to_string())?];
    for (s, p) in series.iter().zip(&parts) {
        fits.push(fit(p, args.horizon, model).with_context(|| s.key_string())?);
    }
    let names: Vec<String> = std::iter::once(total_name.clone()).chain(series.iter().map(Series::key_string)).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let hierarchy = Hierarchy::two_level(name_refs[0], &name_refs[1..]);
    let base: Vec<Vec<f64>> = fits.iter().map(|f| f.forecast.mean.clone()).collect();
    let method = match args.reconcile_method {
        ReconcileArg::Wls => ReconcileMethod::WlsStructural,
        ReconcileArg::Ols => ReconcileMethod::Ols,
        ReconcileArg::Mint => ReconcileMethod::MintShrink,
        ReconcileArg::BottomUp => ReconcileMethod::BottomUp,
    };
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
    let reconciled = reconcile(&hierarchy, &base, method, residuals.as_deref()).context("reconciling")?;
    let short = fits.iter().any(|f| f.short);
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
        match method {
            ReconcileMethod::WlsStructural => "WLS with structural weights",
            ReconcileMethod::Ols => "OLS",
            ReconcileMethod::MintShrink => "MinT with shrunk residual covariance",
            ReconcileMethod::BottomUp => "bottom-up",
        }
    ));
    for (i, (name, f)) in names.iter().zip(&fits).enumerate() {
        let mut adjusted = f.forecast.clone();
        adjusted.model = format!("{} reconciled", f.forecast.model);
        adjusted.mean = reconciled[i].clone();
        let calib = calibration_text(f, n);
        // History rows of the parts come with their provenance; the total's are sums.
        if i == 0 {
            let from = n.saturating_sub(args.show_history);
            for t in from..n {
                rows.push(Row {
                    series: name.clone(),
                    period: years[t].to_string(),
                    kind: "history".into(),
                    value: total[t],
                    lower80: None,
                    upper80: None,
                    lower95: None,
                    upper95: None,
                    unit: "PERS".into(),
                    model_or_source: "sum of the series below".into(),
                    detail: String::new(),
                    un_median: None,
                    un_lower80: None,
                    un_upper80: None,
                    un_lower95: None,
                    un_upper95: None,
                });
            }
        } else {
            let s = &series[i - 1];
            rows.extend(
                history_rows(s, args.show_history)
                    .into_iter()
                    .filter(|r| years.iter().any(|y| y.to_string() == r.period)),
            );
        }
        rows.extend(forecast_rows(name, "PERS", first, "forecast", &adjusted, &calib));
        let group_key: Vec<String> = if i == 0 { Vec::new() } else { series[i - 1].key.clone() };
        let groups = series_groups(bank, &args.dataflow, &group_key, Date { year: first, month: 1, day: 1 });
        let refs: Vec<&str> = groups.iter().map(String::as_str).collect();
        for sc in scenarios {
            if sc.rules.iter().any(|r| r.matches(name, &refs)) {
                let a = sc.apply(name, &refs, &adjusted).with_context(|| format!("scenario {}", sc.id))?;
                rows.extend(forecast_rows(
                    name,
                    "PERS",
                    first,
                    &format!("scenario:{}", sc.id),
                    &a,
                    sc.label.as_deref().unwrap_or(""),
                ));
            }
        }
    }
    if !scenarios.is_empty() {
        notes.push("scenarios are applied after reconciliation: a scenario that changes some regions only breaks the adding-up on purpose".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// koshi backtest

#[derive(Debug, Clone, Serialize)]
struct BacktestRow {
    series: String,
    model: String,
    origins: usize,
    horizon: usize,
    smape: f64,
    mase: f64,
    msis95: f64,
    coverage80: f64,
    coverage95: f64,
    coverage95_uncalibrated: f64,
}

/// Rolling-origin scores of one model, with intervals calibrated on each origin's past only.
fn backtest_model(y: &[f64], horizon: usize, origins: usize, model: ModelKind) -> Result<BacktestRow> {
    let n = y.len();
    let cfg = CalibrationConfig::default();
    let first = n.saturating_sub(origins).max(cfg.min_train);
    if first >= n {
        bail!("{n} years of history: a backtest needs at least {} (training {} + 1)", cfg.min_train + 1, cfg.min_train);
    }
    let origin_list: Vec<usize> = (first..n).collect();
    // Origins are independent: spread them over the cores.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(origin_list.len()).max(1);
    let chunks: Vec<&[usize]> = origin_list.chunks(origin_list.len().div_ceil(threads)).collect();
    let results: Vec<Result<Vec<[f64; 6]>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                let cfg = cfg.clone();
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|&o| {
                            let steps = horizon.min(n - o);
                            let (train, actual) = (&y[..o], &y[o..o + steps]);
                            let raw = koshi_forecast::forecast(train, steps, model)?;
                            let c = calibrated_forecast(train, steps, model, &cfg)?;
                            let f = &c.forecast;
                            let (i80, i95, r95) = (f.interval(0.80), f.interval(0.95), raw.interval(0.95));
                            Ok([
                                metrics::smape(actual, &f.mean),
                                metrics::mase(train, actual, &f.mean),
                                metrics::msis(train, actual, &i95.lower, &i95.upper, 0.05),
                                metrics::coverage(actual, &i80.lower, &i80.upper),
                                metrics::coverage(actual, &i95.lower, &i95.upper),
                                metrics::coverage(actual, &r95.lower, &r95.upper),
                            ])
                        })
                        .collect::<koshi_forecast::Result<Vec<_>>>()
                        .map_err(anyhow::Error::from)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("backtest thread panicked"))))
            .collect()
    });
    let mut scores = Vec::new();
    for r in results {
        scores.extend(r?);
    }
    let k = scores.len() as f64;
    let mean = |i: usize| scores.iter().map(|s| s[i]).filter(|v| v.is_finite()).sum::<f64>() / k;
    Ok(BacktestRow {
        series: String::new(),
        model: model.name().to_string(),
        origins: scores.len(),
        horizon,
        smape: mean(0),
        mase: mean(1),
        msis95: mean(2),
        coverage80: mean(3),
        coverage95: mean(4),
        coverage95_uncalibrated: mean(5),
    })
}

pub fn run_backtest(db: &Path, args: &BacktestArgs) -> Result<std::process::ExitCode> {
    if args.horizon == 0 || args.origins == 0 {
        bail!("--horizon and --origins must be at least 1");
    }
    let bank = Bank::open(db).with_context(|| format!("opening the data bank {}", db.display()))?;
    let models: Vec<ModelKind> = if args.model.is_empty() {
        ModelKind::ALL.to_vec()
    } else {
        args.model.iter().map(|m| parse_model(m)).collect::<Result<_>>()?
    };
    let series = load_series(&bank, &args.dataflow, &args.key, args.from, args.to)?;
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for s in &series {
        let key = s.key_string();
        let n = s.years.len();
        notes.push(format!(
            "{key}: history {}–{} ({n} years) from {}",
            s.years[0],
            s.years[n - 1],
            s.provenance_text()
        ));
        notes.extend(series_notes(&[s]));
        for &m in &models {
            match backtest_model(&s.values, args.horizon, args.origins, m) {
                Ok(mut r) => {
                    r.series = key.clone();
                    rows.push(r);
                }
                Err(e) => notes.push(format!("{key} {m}: {e:#}")),
            }
        }
    }
    if rows.is_empty() {
        for n in &notes {
            eprintln!("{n}");
        }
        bail!("no backtest could be run");
    }
    notes.push(
        "sMAPE in %; MASE and MSIS scaled by the in-sample naive error (below 1 beats the naive forecast); coverage = share of outcomes \
inside the interval (target 0.80 and 0.95)"
            .into(),
    );
    let pct = |v: f64| format!("{:.0}%", 100.0 * v);
    let table = rows
        .iter()
        .map(|r| {
            vec![
                r.series.clone(),
                r.model.clone(),
                r.origins.to_string(),
                r.horizon.to_string(),
                format!("{:.2}", r.smape),
                format!("{:.3}", r.mase),
                format!("{:.2}", r.msis95),
                pct(r.coverage80),
                pct(r.coverage95),
                pct(r.coverage95_uncalibrated),
            ]
        })
        .collect();
    print(
        args.format,
        &Printable {
            columns: vec![
                "series",
                "model",
                "origins",
                "horizon",
                "sMAPE",
                "MASE",
                "MSIS95",
                "cover80",
                "cover95",
                "cover95 uncalibrated",
            ],
            rows: table,
            report: &rows,
            items: &rows,
        },
    )?;
    crate::output::print_notes(args.format, &notes)?;
    Ok(std::process::ExitCode::SUCCESS)
}
