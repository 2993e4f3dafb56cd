//! `koshi gravity`: gravity models of migration on a CSV file, a dataflow of the bank or the
//! UN DESA bilateral panel built from the bank. The use cases live in `koshi_app::gravity`
//! (and the models in `koshi-gravity`); this module turns arguments into requests and prints
//! the reports.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use koshi_app::gravity::{
    CoefficientRow, CorridorRequest, CorridorRow, Elasticities, EstimatorChoice, FitReport, FitRequest, FitSummary,
    GravityData, GravityModel, PANEL_NAME, PanelRequest, PotentialRequest, PushPullRequest, RankRow,
};
use koshi_app::{App, AppError};

use crate::output::{Format, Printable, print, print_json, with_flags};

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  koshi gravity fit 'trade ~ log(dist) | orig + dest + year' --data trade.csv --vcov 'cluster(orig)'
  koshi gravity fit 'flow ~ log(dist) + contig + eaeu | orig^year + dest^year' --data undesa-panel
  koshi gravity fit 'flow ~ log(dist) + contig + eaeu | orig^year + dest^year' --data undesa-panel \\
      --counterfactual 'eaeu=1 where orig=UZB and dest=KAZ,RUS,KGZ,ARM,BLR' --within dest=KAZ
  koshi gravity panel --out panel.csv
  koshi gravity push-pull 'flow ~ log(dist) + contig | orig + dest + year' --data undesa-panel --corridor KAZ
  koshi gravity potential --corridor KAZ --fit-undesa")]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Fit a gravity model (PPML with absorbed fixed effects, OLS on logs, or a Poisson GLM).
    ///
    /// The formula is fixest's: `y ~ x1 + log(x2) | fe1 + fe2^fe3`; terms may be wrapped in
    /// log(), log1p(), exp(), sqrt() or factor(). Rows with missing values are dropped, then
    /// (Poisson) rows in all-zero fixed-effect groups, singletons and rows separated by the
    /// regressors; every drop is counted in the output.
    #[command(after_help = "\
Data (--data):
  FILE            a CSV (TSV if it ends in .tsv) with a header row; numeric columns are detected
  undesa-panel    UN DESA bilateral migrant stocks (1990–2019) from the bank: columns orig, dest,
                  year, pair, flow, dist (km between capitals), contig, pop_o, pop_d, eaeu
  DATAFLOW        a dataflow of the bank (e.g. MIG_STOCK) as a long table: one lower-case column per
                  dimension, period, year, value (+ dist and contig when it has REF_AREA and
                  COUNTERPART); choose a source with --source

Counterfactuals (--counterfactual, repeatable, applied in order to one scenario):
  VAR=VALUE | VAR*=FACTOR | VAR+=DELTA  [where COL=V1,V2 [and COL!=V3 ...]]
  e.g. 'eaeu=1 where orig=UZB and dest=KAZ,RUS'   'dist*=0.8 where orig=CHN and dest=KAZ'
  The fixed effects stay at their estimates; the change in total predicted flows is reported
  for all rows, the changed rows and --within, with delta-method standard errors.

Examples:
  koshi gravity fit 'trade ~ log(dist) | orig + dest + year' --data trade.csv --vcov 'cluster(orig)'
  koshi gravity fit 'flow ~ log(dist) + contig | orig^year + dest^year' --data undesa-panel --estimator ols
  koshi gravity fit 'flow ~ log(dist) | orig + dest' --data undesa-panel --fixed-effects --format json
  koshi gravity fit 'flow ~ orig + dest + log(dist_cent)' --data korea.csv --where year=2020 --estimator poisson")]
    Fit(FitArgs),
    /// Build the UN DESA bilateral panel (origin × destination × year, zeros filled) from the bank.
    ///
    /// Flows: UN DESA International Migrant Stock 2019 (MIG_STOCK), between countries only.
    /// Distance: great-circle km between capitals (data/structure/capitals, GeoNames), a proxy that
    /// ignores where people live. Contiguity: GeoNames land borders. Populations: UN DESA (POP).
    /// eaeu = 1 when both countries are EAEU members at mid-year.
    #[command(
        after_help = "Examples:\n  koshi gravity panel                 # summary\n  koshi gravity panel --out panel.csv # the panel as CSV"
    )]
    Panel {
        /// Write the panel to this CSV file.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Push of origins and pull of destinations from a fit's fixed effects, ranked, with a corridor
    /// table in the layout of paper 003's Table 4.
    #[command(after_help = "\
The push of an origin is its origin fixed effect (log scale), the pull of a destination its
destination fixed effect; `relative` is exp(effect − strongest effect). The corridor table shows
the paper's figures for the destination's partners (PAPER_003: population, labour migrants,
distance to the capital, GDP, border length), the partner's push from the fit and the
gravitational potential index (see `koshi gravity potential --help`).

Examples:
  koshi gravity push-pull 'flow ~ log(dist) + contig | orig + dest + year' --data undesa-panel
  koshi gravity push-pull 'flow ~ log(dist) + contig | orig + dest + year' --data undesa-panel --corridor KAZ --format json")]
    PushPull(PushPullArgs),
    /// Gravitational potential of migration between a destination and its partners.
    #[command(after_help = "\
P_j = pop_j^a · GDP_j^b / dist_j^c, population in millions, GDP in billions of US dollars and the
distance to the destination's capital in km, all as printed in paper 003's Table 4 (PAPER_003).
Elasticities: --a, --b, --c (default 1, 1, 2: Newton's form), or --fit-undesa to estimate a and c by
PPML on the UN DESA panel (flow ~ log(pop_o) + log(dist) + contig | dest^year; c = −β_dist);
b cannot be estimated from the bank (no GDP panel) and stays as given. Reported: the index, its
share of the partners' total and its size relative to the largest (= 100).

Examples:
  koshi gravity potential
  koshi gravity potential --corridor KAZ --partners CHN,RUS,UZB,KGZ --c 1.5
  koshi gravity potential --fit-undesa --format json")]
    Potential(PotentialArgs),
}

#[derive(clap::Args)]
struct DataArgs {
    /// A CSV file, `undesa-panel`, or a dataflow of the bank.
    #[arg(long)]
    data: String,
    /// With a dataflow: only this source's figures.
    #[arg(long)]
    source: Option<String>,
    /// Keep only rows matching, e.g. 'year=2020' or 'orig!=KAZ and dest=RUS,KAZ'.
    #[arg(long = "where")]
    filter: Option<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum EstimatorArg {
    /// Poisson pseudo-maximum likelihood with absorbed fixed effects.
    Ppml,
    /// OLS of log(y) with absorbed fixed effects (y > 0 only).
    Ols,
    /// Plain Poisson GLM: fixed effects become dummy columns (small data only).
    Poisson,
}

#[derive(clap::Args)]
struct ModelArgs {
    /// Model formula, e.g. 'flow ~ log(dist) + contig | orig^year + dest^year'.
    formula: String,
    #[command(flatten)]
    data: DataArgs,
    #[arg(long, value_enum, default_value = "ppml")]
    estimator: EstimatorArg,
    /// iid, hetero, cluster(var) or cluster(a, b); default: clustered by the first fixed effect.
    #[arg(long)]
    vcov: Option<String>,
    /// Small-sample convention of the standard errors: fixest, stata or statsmodels.
    #[arg(long, default_value = "fixest")]
    small_sample: String,
    /// Confidence level of the intervals (strictly between 0 and 1).
    #[arg(long, default_value_t = 0.95, value_parser = confidence_level)]
    conf_level: f64,
    /// Skip the check for separation by regressors (the fixed-effect checks still run).
    #[arg(long)]
    no_rectifier: bool,
}

#[derive(clap::Args)]
struct FitArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Also report the fixed-effect estimates.
    #[arg(long)]
    fixed_effects: bool,
    /// Also report fitted values (input row, observed, fitted).
    #[arg(long)]
    fitted: bool,
    /// Scenario edit (repeatable), e.g. 'eaeu=1 where orig=UZB and dest=KAZ'.
    #[arg(long = "counterfactual")]
    counterfactuals: Vec<String>,
    /// Also report the counterfactual change within these rows, e.g. 'dest=KAZ'.
    #[arg(long)]
    within: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(clap::Args)]
struct CorridorArgs {
    /// Destination whose partners are shown (Table 4 of paper 003: Kazakhstan).
    #[arg(long, default_value = "KAZ")]
    corridor: String,
    /// Partners, comma-separated.
    #[arg(long, default_value = "CHN,RUS,UZB,KGZ", value_delimiter = ',')]
    partners: Vec<String>,
    /// Population elasticity a of the potential index.
    #[arg(long)]
    a: Option<f64>,
    /// GDP elasticity b of the potential index.
    #[arg(long)]
    b: Option<f64>,
    /// Distance elasticity c of the potential index.
    #[arg(long)]
    c: Option<f64>,
}

#[derive(clap::Args)]
struct PushPullArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Fixed effect holding the origins.
    #[arg(long, default_value = "orig")]
    origin: String,
    /// Fixed effect holding the destinations.
    #[arg(long, default_value = "dest")]
    destination: String,
    /// Show only the strongest N origins and destinations.
    #[arg(long, default_value_t = 20)]
    top: usize,
    #[command(flatten)]
    corridor: CorridorArgs,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(clap::Args)]
struct PotentialArgs {
    #[command(flatten)]
    corridor: CorridorArgs,
    /// Estimate a and c by PPML on the UN DESA panel.
    #[arg(long)]
    fit_undesa: bool,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(app: &App, args: &Args) -> Result<std::process::ExitCode> {
    match &args.command {
        Sub::Fit(a) => fit_cmd(app, a)?,
        Sub::Panel { out, format } => panel_cmd(app, out.as_deref(), *format)?,
        Sub::PushPull(a) => push_pull_cmd(app, a)?,
        Sub::Potential(a) => potential_cmd(app, a)?,
    }
    Ok(std::process::ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------------------------
// Arguments → requests

/// The use case's error, with its request field named by the flag that set it.
/// Gravity's request fields as its flags: the formula is positional, the filter is `--where`.
fn flagged(e: AppError) -> anyhow::Error {
    with_flags(e, &[("formula", "the formula"), ("filter", "--where")], &[])
}

fn data_source(app: &App, d: &DataArgs) -> Result<GravityData> {
    if Path::new(&d.data).is_file() {
        return Ok(GravityData::File { path: PathBuf::from(&d.data) });
    }
    if d.data != PANEL_NAME && app.catalogue()?.dataflow(&d.data).is_none() {
        bail!(
            "--data {}: no such file, and not `{PANEL_NAME}` or a dataflow of the bank (see `koshi dataflows`)",
            d.data
        );
    }
    Ok(GravityData::named(&d.data, d.source.clone()))
}

fn model(app: &App, m: &ModelArgs) -> Result<GravityModel> {
    Ok(GravityModel {
        formula: m.formula.clone(),
        data: data_source(app, &m.data)?,
        filter: m.data.filter.clone(),
        estimator: match m.estimator {
            EstimatorArg::Ppml => EstimatorChoice::Ppml,
            EstimatorArg::Ols => EstimatorChoice::Ols,
            EstimatorArg::Poisson => EstimatorChoice::Poisson,
        },
        vcov: m.vcov.clone(),
        small_sample: m.small_sample.clone(),
        conf_level: m.conf_level,
        rectifier: !m.no_rectifier,
    })
}

fn corridor(c: &CorridorArgs) -> CorridorRequest {
    CorridorRequest {
        destination: c.corridor.clone(),
        partners: c.partners.iter().map(|p| p.trim().to_string()).collect(),
        a: c.a,
        b: c.b,
        c: c.c,
    }
}

// ---------------------------------------------------------------------------------------------
// Fitting

fn fit_cmd(app: &App, a: &FitArgs) -> Result<()> {
    let request = FitRequest {
        model: model(app, &a.model)?,
        fixed_effects: a.fixed_effects,
        fitted: a.fitted,
        fitted_page: None,
        counterfactuals: a.counterfactuals.clone(),
        within: a.within.clone(),
    };
    let report = app.gravity_fit(&request).map_err(flagged)?;
    match a.format {
        Format::Json => print_json(&report)?,
        // One table per CSV: the most specific one asked for.
        Format::Csv => print_main_table(Format::Csv, &report)?,
        Format::Table => {
            print_summary(&report.summary);
            print_coefficients(Format::Table, &report.coefficients)?;
            if report.fixed_effects.is_some() {
                println!();
                print_fixed_effects(Format::Table, &report)?;
            }
            if report.fitted.is_some() {
                println!();
                print_fitted(Format::Table, &report)?;
            }
            if report.counterfactual.is_some() {
                println!("\nCounterfactual: {}", report.edits.join("; "));
                print_counterfactual(Format::Table, &report)?;
            }
        }
    }
    Ok(())
}

fn print_main_table(format: Format, report: &FitReport) -> Result<()> {
    if report.counterfactual.is_some() {
        print_counterfactual(format, report)
    } else if report.fitted.is_some() {
        print_fitted(format, report)
    } else if report.fixed_effects.is_some() {
        print_fixed_effects(format, report)
    } else {
        print_coefficients(format, &report.coefficients)
    }
}

fn print_summary(s: &FitSummary) {
    let d = &s.dropped;
    println!("{}: {}", s.estimator, s.formula);
    println!("Observations: {} used of {} rows", s.n_obs, s.n_input);
    if d.total > 0 {
        println!(
            "Dropped: {} missing, {} in all-zero fixed-effect groups, {} singletons, {} separated, {} non-positive y",
            d.missing, d.fixed_effect_all_zero, d.singletons, d.separated, d.non_positive_response
        );
    }
    if !s.collinear.is_empty() {
        println!("Collinear, removed: {}", s.collinear.join(", "));
    }
    println!("Standard errors: {} ({} small-sample convention)", s.vcov, s.small_sample);
    if s.is_ols() {
        println!("R²: {:.6}  adj. R²: {:.6}  RSS: {:.6e}", s.pseudo_r2, s.adj_pseudo_r2, s.deviance)
    } else {
        println!(
            "Deviance: {:.6e}  pseudo R²: {:.6}  adj. pseudo R²: {:.6}  squared correlation: {:.6}",
            s.deviance, s.pseudo_r2, s.adj_pseudo_r2, s.squared_correlation
        )
    }
    println!("Iterations: {}{}", s.iterations, if s.converged { "" } else { " (NOT converged)" });
    for w in &s.warnings {
        println!("Warning: {w}");
    }
    println!();
}

fn print_coefficients(format: Format, items: &[CoefficientRow]) -> Result<()> {
    let rows = items
        .iter()
        .map(|c| {
            vec![
                c.term.clone(),
                format!("{:.6}", c.estimate),
                format!("{:.6}", c.std_error),
                format!("{:.3}", c.z),
                format!("{:.3e}", c.p_value),
                format!("{:.6}", c.ci_low),
                format!("{:.6}", c.ci_high),
            ]
        })
        .collect();
    print(
        format,
        &Printable {
            columns: vec!["term", "estimate", "std_error", "z", "p_value", "ci_low", "ci_high"],
            rows,
            report: items,
            items,
        },
    )
}

fn print_fixed_effects(format: Format, report: &FitReport) -> Result<()> {
    let items = report.fixed_effects.as_deref().unwrap_or_default();
    let rows =
        items.iter().map(|r| vec![r.fixed_effect.clone(), r.level.clone(), format!("{:.6}", r.estimate)]).collect();
    print(format, &Printable { columns: vec!["fixed_effect", "level", "estimate"], rows, report, items })
}

fn print_fitted(format: Format, report: &FitReport) -> Result<()> {
    let items = report.fitted.as_ref().map(|l| l.items.as_slice()).unwrap_or_default();
    let rows =
        items.iter().map(|r| vec![r.row.to_string(), format!("{}", r.observed), format!("{:.6}", r.fitted)]).collect();
    print(format, &Printable { columns: vec!["row", "observed", "fitted"], rows, report, items })
}

fn print_counterfactual(format: Format, report: &FitReport) -> Result<()> {
    let items = report.counterfactual.as_deref().unwrap_or_default();
    let rows = items
        .iter()
        .map(|r| {
            vec![
                r.scope.clone(),
                r.rows.to_string(),
                format!("{:.1}", r.baseline),
                format!("{:.1}", r.scenario),
                format!("{:.3}", r.percent_change),
                format!("{:.3}", r.std_error),
                format!("{:.3}", r.ci_low),
                format!("{:.3}", r.ci_high),
            ]
        })
        .collect();
    print(
        format,
        &Printable {
            columns: vec!["scope", "rows", "baseline", "scenario", "percent_change", "std_error", "ci_low", "ci_high"],
            rows,
            report,
            items,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Panel

fn panel_cmd(app: &App, out: Option<&Path>, format: Format) -> Result<()> {
    let s = app.gravity_panel(&PanelRequest { out: out.map(Path::to_path_buf) }).map_err(flagged)?;
    if let Some(path) = &s.written_to {
        eprintln!("wrote {} rows to {path}", s.rows);
    }
    let rows = vec![
        vec!["rows".into(), s.rows.to_string()],
        vec!["origins × destinations".into(), format!("{} × {}", s.origins, s.destinations)],
        vec!["years".into(), s.years.iter().map(|y| y.to_string()).collect::<Vec<_>>().join(" ")],
        vec!["positive stocks".into(), s.positive.to_string()],
        vec!["zeros filled".into(), s.filled_zeros.to_string()],
        vec!["contiguous rows".into(), s.contiguous_rows.to_string()],
        vec!["EAEU rows".into(), s.eaeu_rows.to_string()],
        vec!["no coordinates".into(), s.without_coordinates.join(" ")],
        vec!["source".into(), s.source.clone()],
        vec!["distance".into(), s.distance.clone()],
    ];
    print(format, &Printable { columns: vec!["item", "value"], rows, report: &s, items: std::slice::from_ref(&s) })
}

// ---------------------------------------------------------------------------------------------
// Push–pull and the corridor (paper 003, Table 4)

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(
        || "–".into(),
        |x| if digits == 0 { crate::output::num(Some(x.round())) } else { format!("{x:.digits$}") },
    )
}

fn print_corridor<R: serde::Serialize + ?Sized>(
    format: Format,
    report: &R,
    rows: &[CorridorRow],
    e: Elasticities,
    dest: &str,
) -> Result<()> {
    if format == Format::Table {
        println!(
            "Corridor to {dest} (paper 003, Table 4 figures; potential P = pop^{:.3} · GDP^{:.3} / dist^{:.3}):",
            e.population, e.gdp, e.distance
        );
    }
    let table = rows
        .iter()
        .map(|r| {
            vec![
                r.partner.clone(),
                r.name.clone(),
                opt(r.population_mln, 1),
                opt(r.labour_migrants, 0),
                opt(r.distance_to_capital_km, 0),
                opt(r.gdp_bn_usd, 1),
                opt(r.border_km, 0),
                opt(r.great_circle_km, 0),
                opt(r.push, 3),
                r.push_rank.map_or("–".into(), |k| k.to_string()),
                opt(r.potential_share_pct, 1),
                opt(r.potential_relative, 1),
            ]
        })
        .collect();
    print(
        format,
        &Printable {
            columns: vec![
                "partner",
                "name",
                "population_mln",
                "labour_migrants",
                "distance_to_capital_km",
                "gdp_bn_usd",
                "border_km",
                "great_circle_km",
                "push",
                "push_rank",
                "potential_share_pct",
                "potential_relative",
            ],
            rows: table,
            report,
            items: rows,
        },
    )
}

fn push_pull_cmd(app: &App, a: &PushPullArgs) -> Result<()> {
    let request = PushPullRequest {
        model: model(app, &a.model)?,
        origin: a.origin.clone(),
        destination: a.destination.clone(),
        top: a.top,
        corridor: corridor(&a.corridor),
    };
    let report = app.gravity_push_pull(&request).map_err(flagged)?;
    let c = &report.corridor;
    match a.format {
        Format::Json => print_json(&report)?,
        Format::Csv => print_corridor(Format::Csv, &report, &c.partners, c.elasticities, &c.destination)?,
        Format::Table => {
            print_summary(&report.summary);
            print_coefficients(Format::Table, &report.coefficients)?;
            println!();
            let ranks: Vec<&RankRow> = report.push.iter().chain(&report.pull).collect();
            let rows = ranks
                .iter()
                .map(|r| {
                    vec![
                        r.side.clone(),
                        r.rank.to_string(),
                        r.place.clone(),
                        format!("{:.4}", r.estimate),
                        format!("{:.4}", r.relative),
                    ]
                })
                .collect();
            print(
                Format::Table,
                &Printable {
                    columns: vec!["side", "rank", "place", "estimate", "relative"],
                    rows,
                    report: &report,
                    items: &ranks,
                },
            )?;
            if let Some(p) = c.destination_pull {
                println!(
                    "\nPull of {}: rank {} of {} (estimate {:.4})",
                    c.destination, p.rank, report.destinations, p.estimate
                );
            }
            println!();
            print_corridor(Format::Table, &report, &c.partners, c.elasticities, &c.destination)?;
        }
    }
    Ok(())
}

fn potential_cmd(app: &App, a: &PotentialArgs) -> Result<()> {
    let request = PotentialRequest { corridor: corridor(&a.corridor), fit_undesa: a.fit_undesa };
    let report = app.gravity_potential(&request).map_err(flagged)?;
    if a.format == Format::Json {
        return print_json(&report);
    }
    if let (Some(f), Format::Table) = (&report.fit, a.format) {
        println!("Elasticities from {} (N = {}):", f.formula, f.n_obs);
        print_coefficients(Format::Table, &f.coefficients)?;
        println!();
    }
    print_corridor(a.format, &report, &report.partners, report.elasticities, &report.destination)
}

fn confidence_level(text: &str) -> std::result::Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v < 1.0 => Ok(v),
        _ => Err(format!("`{text}` is not a confidence level strictly between 0 and 1 (e.g. 0.95)")),
    }
}
