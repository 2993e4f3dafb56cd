//! `koshi flows estimate` (origin–destination flows from bilateral stocks, written to the bank as
//! a release of MIG_FLOW_EST) and `koshi indices` (Bell et al. indices of an OD table; arrivals,
//! departures, net and effectiveness of regions): arguments into the application's requests,
//! its reports into a table, CSV or JSON. The use cases live in `koshi_app::flows`.

use anyhow::Result;
use koshi_app::App;
use koshi_app::flows::{
    self, DecreaseRule, FlowEstimateOutcome, FlowEstimateReport, FlowEstimateRequest, FlowMethod, FlowProgress,
    IndexItems, IndicesReport, IndicesRequest,
};

use crate::output::{Format, Printable, num, print, print_json, print_notes, with_flags};

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  koshi flows estimate --from 2010 --to 2015\n  \
koshi flows estimate --from 1990 --to 1995 --method diff --format json\n  koshi indices MIG_FLOW_EST --year 2010/2015")]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Estimate origin–destination flows between two stock years and write them to the bank (MIG_FLOW_EST).
    #[command(
        long_about = "Estimate who moved where between two years of bilateral migrant stocks (place of birth × \
residence) and write the origin–destination table into the bank as a release of MIG_FLOW_EST (source KOSHI_EST, \
period FROM/TO, the method and its inputs in every figure's definition). Running the same estimate again writes \
nothing; changed inputs create a new release.\n\n\
Inputs: MIG_STOCK from UN_DESA, release “International Migrant Stock 2019” (countries only; regional aggregates \
are left out), populations from POP in the matching UN DESA release. Native-born = population − foreign-born. A \
country is used only if it has stocks and a population in both years.\n\n\
Methods:\n  demo   demographic accounting (Abel & Sander 2014): births and deaths removed, birthplace totals matched \
in a closed world, stayers fixed at the minimum, one IPF per birthplace. Without --births/--deaths, natural change of \
each birthplace is its change in total (no emigrant deaths).\n  diff   stock differencing: increases of a bilateral \
stock are flows, decreases are return flows (Beine & Parsons 2015); --decrease zero drops them.\n  rates  Dennett \
(2015): a world total (--total, default: the demographic-accounting total) spread in proportion to the start stocks.",
        after_help = "Examples:\n  koshi flows estimate --from 2010 --to 2015\n  koshi flows estimate --from 1990 --to 1995 --method diff\n  \
koshi flows estimate --from 2015 --to 2019 --method rates --total 40000000\n  \
koshi flows estimate --from 2010 --to 2015 --births BIRTHS --deaths DEATHS   # dataflows with REF_AREA counts\n  \
koshi query MIG_FLOW_EST --key KAZ.RUS             # then read the table, or: koshi indices MIG_FLOW_EST --year 2010/2015"
    )]
    Estimate(EstimateArgs),
}

#[derive(clap::Args)]
struct EstimateArgs {
    /// Dataflow of bilateral stocks (REF_AREA = residence, COUNTERPART = birthplace).
    #[arg(long, default_value = flows::DEFAULT_STOCKS)]
    stocks: String,
    /// Source of the stocks.
    #[arg(long, default_value = flows::DEFAULT_STOCKS_SOURCE)]
    stocks_source: String,
    /// Release (label) of the stocks.
    #[arg(long, default_value = flows::DEFAULT_STOCKS_RELEASE)]
    stocks_release: String,
    /// Dataflow of total populations (REF_AREA, SEX=_T, AGE=_T).
    #[arg(long, default_value = flows::DEFAULT_POPULATION)]
    population: String,
    /// First stock year.
    #[arg(long)]
    from: i32,
    /// Second stock year.
    #[arg(long)]
    to: i32,
    #[arg(long, value_enum, default_value_t = Method::Demo)]
    method: Method,
    /// Births by region over the period: a dataflow with a REF_AREA dimension (years FROM..TO−1 or the period FROM/TO are summed).
    #[arg(long, requires = "deaths")]
    births: Option<String>,
    /// Deaths by region over the period, like --births.
    #[arg(long, requires = "births")]
    deaths: Option<String>,
    /// diff: what a decrease of a stock means.
    #[arg(long, value_enum, default_value_t = Decrease::Return)]
    decrease: Decrease,
    /// rates: the world total of moves to spread.
    #[arg(long)]
    total: Option<f64>,
    /// Estimate and report, but write nothing.
    #[arg(long)]
    dry_run: bool,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Method {
    Demo,
    Diff,
    Rates,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Decrease {
    Return,
    Zero,
}

#[derive(clap::Args)]
#[command(
    long_about = "Migration indices of the Bell et al. (2002) family.\n\n\
An origin–destination dataflow (REF_AREA = destination, COUNTERPART = origin, e.g. MIG_FLOW_EST): intensity (crude \
migration probability, Courgeau's k), impact (effectiveness, aggregate net migration rate, preference, velocity), \
spatial focusing (connectivity, inequality, Gini, mean weighted Gini, coefficients of variation) and distance (mean, \
median, decay; great-circle km between capitals). Populations: POP at the start of the period (harmonised).\n\n\
A regional dataflow with arrivals and departures (MIG_INT): per region and year arrivals, departures, net = arrivals − \
departures and effectiveness = 100·net/(arrivals + departures), and the country's aggregate effectiveness. A year \
given only as twelve months is summed. Territorial changes are read from the code lists: South Kazakhstan region \
(KZ-YUZ, to 2018-06-18) is shown with its successors (Turkistan region, Shymkent); Abai, Zhetisu and Ulytau regions \
(from 2022-06-08) and the regions they were split from are marked, since their figures are not comparable across \
the split.",
    after_help = "Examples:\n  koshi indices MIG_FLOW_EST --year 2010/2015\n  koshi indices MIG_FLOW_EST --year 1995 --format json\n  \
koshi indices MIG_INT --year 2023\n  koshi indices MIG_INT --format csv          # every year"
)]
pub struct IndicesArgs {
    /// The dataflow: an OD table (MIG_FLOW_EST) or regional arrivals/departures (MIG_INT).
    dataflow: String,
    /// Narrow the figures read: a dotted SDMX key or DIM=CODE[+CODE…] items (e.g. REF_AREA=KZ-71+KZ-75);
    /// repeated keys combine with AND.
    #[arg(long)]
    key: Vec<String>,
    /// The period: a year (2023), or for OD tables a range (1990/1995) or its end year.
    #[arg(long)]
    year: Option<String>,
    /// Only this source's figures (default: the harmonised view; OD tables: the only release of the period).
    #[arg(long)]
    source: Option<String>,
    /// OD tables with several releases for the period (e.g. demo and diff estimates): the release
    /// whose label contains this text.
    #[arg(long)]
    release: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

impl From<Method> for FlowMethod {
    fn from(m: Method) -> Self {
        match m {
            Method::Demo => FlowMethod::Demo,
            Method::Diff => FlowMethod::Diff,
            Method::Rates => FlowMethod::Rates,
        }
    }
}

impl From<Decrease> for DecreaseRule {
    fn from(d: Decrease) -> Self {
        match d {
            Decrease::Return => DecreaseRule::Return,
            Decrease::Zero => DecreaseRule::Zero,
        }
    }
}

pub fn run(app: &App, args: &Args) -> Result<std::process::ExitCode> {
    match &args.command {
        Sub::Estimate(a) => estimate(app, a),
    }
}

// ---------------------------------------------------------------------------------------------
// koshi flows estimate

fn estimate(app: &App, a: &EstimateArgs) -> Result<std::process::ExitCode> {
    let request = FlowEstimateRequest {
        stocks: a.stocks.clone(),
        stocks_source: a.stocks_source.clone(),
        stocks_release: a.stocks_release.clone(),
        population: a.population.clone(),
        from: a.from,
        to: a.to,
        method: a.method.into(),
        births: a.births.clone(),
        deaths: a.deaths.clone(),
        decrease: a.decrease.into(),
        total: a.total,
        dry_run: a.dry_run,
    };
    let bar = crate::progress_bar(0, "reading the stocks and populations");
    let report = app
        .estimate_flows(&request, &mut |p| match p {
            FlowProgress::Inputs => bar.set_message("reading the stocks and populations"),
            FlowProgress::Estimating => bar.set_message(format!("estimating ({})", request.method.name())),
            FlowProgress::Writing { written, of } => {
                bar.set_message("writing the release");
                bar.set_length(of as u64);
                bar.set_position(written as u64);
            }
        })
        .map_err(|e| with_flags(e, &[], &[]));
    bar.finish_and_clear();
    let report = report?;
    match a.format {
        Format::Json => print_json(&report)?,
        Format::Csv => {
            print(
                a.format,
                &Printable { columns: Vec::new(), rows: Vec::new(), report: &report, items: &report.margins },
            )?;
            print_notes(a.format, &report.notes)?;
        }
        Format::Table => {
            print(
                a.format,
                &Printable {
                    columns: vec!["", "estimate"],
                    rows: summary_rows(&report),
                    report: &report,
                    items: &report.margins,
                },
            )?;
            print_notes(a.format, &report.notes)?;
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn summary_rows(r: &FlowEstimateReport) -> Vec<Vec<String>> {
    let outcome = match r.outcome {
        FlowEstimateOutcome::Created => "created",
        FlowEstimateOutcome::Unchanged => "unchanged",
        FlowEstimateOutcome::DryRun => "dry run (nothing written)",
    };
    let convergence = match r.method {
        FlowMethod::Demo => format!(
            "{} iterations, largest margin error {:.2e}, {}",
            r.iterations,
            r.max_margin_error,
            if r.converged { "converged" } else { "NOT converged" }
        ),
        _ => "closed form".into(),
    };
    vec![
        vec!["outcome".into(), outcome.into()],
        vec!["release".into(), r.release_id.map(|id| id.to_string()).unwrap_or_default()],
        vec!["release date".into(), r.release_date.clone()],
        vec!["dataflow / source".into(), format!("{} / {}", r.dataflow, r.source)],
        vec!["label".into(), r.label.clone()],
        vec!["period".into(), r.period.clone()],
        vec!["countries".into(), format!("{} ({} left out)", r.regions, r.excluded.len())],
        vec!["flows stored".into(), r.observations.to_string()],
        vec!["world total of moves".into(), num(Some(r.total_movers.round()))],
        vec!["convergence".into(), convergence],
        vec!["definition".into(), r.definition.clone()],
    ]
}

// ---------------------------------------------------------------------------------------------
// koshi indices

pub fn run_indices(app: &App, args: &IndicesArgs) -> Result<std::process::ExitCode> {
    let request = IndicesRequest {
        dataflow: args.dataflow.clone(),
        keys: args.key.clone(),
        year: args.year.clone(),
        source: args.source.clone(),
        release: args.release.clone(),
    };
    let report = app.indices(&request).map_err(|e| with_flags(e, &[("keys", "--key")], &["dataflow"]))?;
    print_indices(args.format, &report)?;
    Ok(std::process::ExitCode::SUCCESS)
}

fn fmt_index(v: f64) -> String {
    if v.abs() >= 1000.0 { num(Some(v.round())) } else { format!("{v:.4}") }
}

fn print_indices(format: Format, report: &IndicesReport) -> Result<()> {
    if format == Format::Json {
        return print_json(report);
    }
    match &report.items {
        IndexItems::Indices(items) => {
            let rows = items.iter().map(|r| vec![r.index.clone(), fmt_index(r.value), r.meaning.clone()]).collect();
            print(format, &Printable { columns: vec!["index", "value", "meaning"], rows, report, items })?;
        }
        IndexItems::Regions(items) => {
            let rows = items
                .iter()
                .map(|r| {
                    vec![
                        r.region.clone(),
                        r.name.clone(),
                        r.year.clone(),
                        num(Some(r.arrivals)),
                        num(Some(r.departures)),
                        num(Some(r.net)),
                        r.effectiveness.map(|e| format!("{e:.2}")).unwrap_or_default(),
                        r.territory.clone(),
                    ]
                })
                .collect();
            print(
                format,
                &Printable {
                    columns: vec![
                        "region",
                        "name",
                        "year",
                        "arrivals",
                        "departures",
                        "net",
                        "effectiveness",
                        "territory",
                    ],
                    rows,
                    report,
                    items,
                },
            )?;
        }
    }
    print_notes(format, &report.notes)
}
