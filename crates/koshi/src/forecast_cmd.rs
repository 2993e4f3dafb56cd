//! `koshi forecast` and `koshi backtest`: the command-line adapter of the application's
//! forecast and backtest use cases (`koshi_app::forecast`). Arguments become the request, the
//! report becomes a table, CSV (its rows) or JSON (the whole report).

use std::path::PathBuf;

use anyhow::Result;
use koshi_app::App;
use koshi_app::forecast::{
    BacktestReport, BacktestRequest, ForecastReport, ForecastRequest, MAX_STEPS, Reconciliation, RowKind,
    ScenarioSource,
};

use crate::output::{Format, Printable, num, print, print_json, with_flags};

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
    /// A scenario file (TOML), or the name of a bundled one (brain-drain); its forecast is printed beside the baseline. Repeatable.
    #[arg(long)]
    scenario: Vec<String>,
    /// First year of history to use.
    #[arg(long)]
    from: Option<i32>,
    /// Last year of history to use (the forecast starts the year after).
    #[arg(long)]
    to: Option<i32>,
    /// What was known on this date (YYYY-MM-DD): releases dated later are ignored.
    #[arg(long)]
    as_of: Option<String>,
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
    /// What was known on this date (YYYY-MM-DD): releases dated later are ignored.
    #[arg(long)]
    as_of: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn steps_parser(what: &'static str) -> impl Fn(&str) -> std::result::Result<usize, String> + Clone {
    move |text: &str| {
        let n: usize = text.trim().parse().map_err(|_| format!("`{text}` is not a whole number"))?;
        if n == 0 || n > MAX_STEPS {
            return Err(format!("{what} must be from 1 to {MAX_STEPS} periods, not {n}"));
        }
        Ok(n)
    }
}

/// A scenario argument: a file when it names one (or looks like a path), else a bundled name.
fn scenario_source(text: &str) -> ScenarioSource {
    let path = PathBuf::from(text);
    if path.exists() || text.ends_with(".toml") || text.contains(std::path::MAIN_SEPARATOR) || text.contains('/') {
        ScenarioSource::File(path)
    } else {
        ScenarioSource::Bundled(text.to_string())
    }
}

/// The request `koshi forecast` makes.
pub fn forecast_request(args: &Args) -> ForecastRequest {
    ForecastRequest {
        dataflow: args.dataflow.clone(),
        keys: args.key.clone(),
        horizon: args.horizon,
        model: args.model.clone(),
        scenarios: args.scenario.iter().map(|s| scenario_source(s)).collect(),
        from: args.from,
        to: args.to,
        as_of: args.as_of.clone(),
        compare_un: args.compare_un,
        reconcile: args.reconcile.then_some(match args.reconcile_method {
            ReconcileArg::Wls => Reconciliation::Wls,
            ReconcileArg::Ols => Reconciliation::Ols,
            ReconcileArg::Mint => Reconciliation::Mint,
            ReconcileArg::BottomUp => Reconciliation::BottomUp,
        }),
        show_history: args.show_history,
    }
}

pub fn run(app: &App, args: &Args) -> Result<std::process::ExitCode> {
    let report = app.forecast(&forecast_request(args)).map_err(flagged)?;
    print_forecast(args.format, &report, args.compare_un)?;
    crate::output::print_notes(args.format, &report.notes)?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// The application names request fields; on the command line they are flags.
/// Forecasting's request fields as its flags (repeated keys are `--key`).
fn flagged(e: koshi_app::AppError) -> anyhow::Error {
    with_flags(e, &[("keys", "--key")], &["dataflow"])
}

fn print_forecast(format: Format, report: &ForecastReport, un: bool) -> Result<()> {
    if format == Format::Json {
        return print_json(report);
    }
    let mut columns = vec!["series", "period", "kind", "value", "lo80", "hi80", "lo95", "hi95"];
    if un {
        columns.extend(["UN median", "UN lo80", "UN hi80", "UN lo95", "UN hi95"]);
    }
    columns.extend(["unit", "model / source", "detail"]);
    let table: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|r| {
            let kind = match (r.kind, &r.scenario) {
                (RowKind::History, _) => "history".to_string(),
                (RowKind::Forecast, _) => "forecast".to_string(),
                (RowKind::Scenario, Some(id)) => format!("scenario:{id}"),
                (RowKind::Scenario, None) => "scenario".to_string(),
            };
            let mut v = vec![
                r.series.clone(),
                r.period.clone(),
                kind,
                fig(Some(r.mean)),
                fig(r.lo80),
                fig(r.hi80),
                fig(r.lo95),
                fig(r.hi95),
            ];
            if un {
                let u = r.un.as_ref();
                v.extend([
                    fig(u.and_then(|u| u.median)),
                    fig(u.and_then(|u| u.lo80)),
                    fig(u.and_then(|u| u.hi80)),
                    fig(u.and_then(|u| u.lo95)),
                    fig(u.and_then(|u| u.hi95)),
                ]);
            }
            v.extend([r.unit.clone(), r.model_or_source.clone(), r.detail.clone()]);
            v
        })
        .collect();
    print(format, &Printable { columns, rows: table, report, items: &report.rows })
}

/// Model output has spurious decimals: round to whole units above 100.
fn fig(v: Option<f64>) -> String {
    match v {
        Some(x) if x.abs() >= 100.0 => num(Some(x.round())),
        Some(x) => num(Some((x * 100.0).round() / 100.0)),
        None => String::new(),
    }
}

/// The request `koshi backtest` makes.
pub fn backtest_request(args: &BacktestArgs) -> BacktestRequest {
    BacktestRequest {
        dataflow: args.dataflow.clone(),
        keys: args.key.clone(),
        horizon: args.horizon,
        origins: args.origins,
        models: args.model.clone(),
        from: args.from,
        to: args.to,
        as_of: args.as_of.clone(),
    }
}

pub fn run_backtest(app: &App, args: &BacktestArgs) -> Result<std::process::ExitCode> {
    let report = app.backtest(&backtest_request(args)).map_err(flagged)?;
    print_backtest(args.format, &report)?;
    crate::output::print_notes(args.format, &report.notes)?;
    Ok(std::process::ExitCode::SUCCESS)
}

fn print_backtest(format: Format, report: &BacktestReport) -> Result<()> {
    let pct = |v: f64| format!("{:.0}%", 100.0 * v);
    let table = report
        .rows
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
        format,
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
            report,
            items: &report.rows,
        },
    )
}
