//! `koshi flows estimate` (origin–destination flows from bilateral stocks, written to the bank as
//! a release of MIG_FLOW_EST) and `koshi indices` (Bell et al. indices of an OD table; arrivals,
//! departures, net and effectiveness of regions). The estimators live in `koshi-flows`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use anyhow::{Context, Result, bail};
use koshi_core::observation::ObsStatus;
use koshi_core::{Date, Observation};
use koshi_flows::world::{StockSnapshot, period_stocks};
use koshi_flows::{
    DeathMethod, DemographicOptions, Matrix, StockDecrease, births_deaths_from_birthplace_totals, connectivity,
    demographic_accounting, distance, impact, intensity, rates_dennett, stock_difference,
};
use koshi_store::{Bank, Query, ReleaseBatch, WriteOutcome};
use serde::Serialize;

use crate::output::{Format, Printable, num, print};

const FLOW_DATAFLOW: &str = "MIG_FLOW_EST";
const FLOW_SOURCE: &str = "KOSHI_EST";
const CAPITALS_CSV: &str = include_str!("../../../data/structure/capitals/capitals.csv");

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
    #[arg(long, default_value = "MIG_STOCK")]
    stocks: String,
    /// Source of the stocks.
    #[arg(long, default_value = "UN_DESA")]
    stocks_source: String,
    /// Release (label) of the stocks.
    #[arg(long, default_value = "International Migrant Stock 2019")]
    stocks_release: String,
    /// Dataflow of total populations (REF_AREA, SEX=_T, AGE=_T).
    #[arg(long, default_value = "POP")]
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

pub fn run(db: &Path, args: &Args) -> Result<std::process::ExitCode> {
    match &args.command {
        Sub::Estimate(a) => estimate(db, a),
    }
}

// ---------------------------------------------------------------------------------------------
// koshi flows estimate

/// One region's margins: what the stocks say and what the estimated flows give.
#[derive(Debug, Clone, Serialize)]
struct Margin {
    region: String,
    residents_start: f64,
    residents_end: f64,
    births: f64,
    deaths: f64,
    outflow: f64,
    inflow: f64,
    /// (residents_end − births) − (residents_start − deaths): the net migration the stocks imply.
    net_from_stocks: f64,
    net_from_flows: f64,
}

#[derive(Debug, Clone, Serialize)]
struct EstimateSummary {
    outcome: String,
    release_id: Option<i64>,
    dataflow: String,
    source: String,
    label: String,
    period: String,
    method: String,
    definition: String,
    regions: usize,
    excluded: Vec<String>,
    observations: usize,
    total_movers: f64,
    iterations: usize,
    max_margin_error: f64,
    converged: bool,
    margins: Vec<Margin>,
}

struct Inputs {
    regions: Vec<String>,
    start: Matrix,
    end: Matrix,
    excluded: Vec<String>,
    notes: Vec<String>,
    release_date: Date,
    inputs_text: String,
}

fn stock_inputs(bank: &Bank, a: &EstimateArgs) -> Result<Inputs> {
    let (y0, y1) = (a.from.to_string(), a.to.to_string());
    let countries: BTreeSet<String> = bank.catalogue().country_codes().into_iter().collect();
    let q = Query {
        dataflow: a.stocks.clone(),
        filters: vec![("SEX".into(), vec!["_T".into()]), ("MEASURE".into(), vec!["STOCK".into()])],
        source: Some(a.stocks_source.clone()),
        period_from: Some(y0.clone()),
        period_to: Some(y1.clone()),
        ..Default::default()
    };
    let df = bank.catalogue().dataflow(&a.stocks).with_context(|| format!("unknown dataflow {}", a.stocks))?;
    let (Some(di), Some(oi)) = (df.dimension_index("REF_AREA"), df.dimension_index("COUNTERPART")) else {
        bail!("{} has no REF_AREA and COUNTERPART: not a bilateral stock table", a.stocks)
    };
    let mut cells: HashMap<String, BTreeMap<(String, String), f64>> = HashMap::new();
    let mut stock_date: Option<Date> = None;
    for r in bank.query(&q)? {
        if r.release_label != a.stocks_release || !(r.time_period == y0 || r.time_period == y1) {
            continue;
        }
        let (d, o) = (&r.key[di], &r.key[oi]);
        if !countries.contains(d) || !countries.contains(o) {
            continue;
        }
        if let Some(v) = r.base_value() {
            cells.entry(r.time_period.clone()).or_default().insert((d.clone(), o.clone()), v);
            stock_date = r.release_date.parse().ok();
        }
    }
    for y in [&y0, &y1] {
        if !cells.contains_key(y) {
            bail!(
                "no {} stocks for {y} in {} release “{}” (stock years there: see `koshi query {} --key REF_AREA=KAZ --source {}`)",
                a.stocks,
                a.stocks_source,
                a.stocks_release,
                a.stocks,
                a.stocks_source
            );
        }
    }
    // Populations of the same vintage (what the stocks' source had published on their release
    // date: later revisions are not mixed in), else the harmonised figure.
    let pq = Query {
        dataflow: a.population.clone(),
        filters: vec![("SEX".into(), vec!["_T".into()]), ("AGE".into(), vec!["_T".into()])],
        period_from: Some(y0.clone()),
        period_to: Some(y1.clone()),
        as_of: stock_date,
        source: Some(a.stocks_source.clone()),
        ..Default::default()
    };
    let pdf = bank.catalogue().dataflow(&a.population).with_context(|| format!("unknown dataflow {}", a.population))?;
    let pa = pdf.dimension_index("REF_AREA").context("population dataflow without REF_AREA")?;
    let mut pop: HashMap<String, HashMap<String, f64>> = HashMap::new();
    let mut pop_release = String::new();
    let mut pop_date: Option<Date> = None;
    for r in bank.query(&pq)? {
        if r.source == a.stocks_source
            && r.release_label.starts_with(&a.stocks_release)
            && (r.time_period == y0 || r.time_period == y1)
            && let Some(v) = r.base_value()
        {
            pop.entry(r.time_period.clone()).or_default().insert(r.key[pa].clone(), v);
            pop_release = format!("{} {} “{}”", a.population, r.source, r.release_label);
            pop_date = r.release_date.parse().ok();
        }
    }
    if pop.len() < 2 {
        let pq = Query { as_of: None, source: None, ..pq };
        for r in bank.harmonised(&pq)? {
            if let (Some(v), true) = (r.base_value(), r.time_period == y0 || r.time_period == y1) {
                pop.entry(r.time_period.clone()).or_default().insert(r.key[pa].clone(), v);
                pop_release = format!("{} (harmonised)", a.population);
                pop_date = pop_date.max(r.release_date.parse().ok());
            }
        }
    }
    let mut origins: BTreeSet<String> = BTreeSet::new();
    for c in cells.values() {
        for (d, o) in c.keys() {
            origins.insert(d.clone());
            origins.insert(o.clone());
        }
    }
    let origins: Vec<String> = origins.into_iter().collect();
    let index: HashMap<&str, usize> = origins.iter().enumerate().map(|(i, o)| (o.as_str(), i)).collect();
    let snapshot = |y: &str| {
        let mut rows: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
        for ((d, o), v) in &cells[y] {
            rows.entry(d.clone()).or_insert_with(|| vec![None; origins.len()])[index[o.as_str()]] = Some(*v);
        }
        StockSnapshot { destinations: rows.into_iter().collect(), population: pop.get(y).cloned().unwrap_or_default() }
    };
    let period = period_stocks(&origins, &snapshot(&y0), &snapshot(&y1))?;
    let mut notes = Vec::new();
    if period.native_born_clamped > 0 {
        notes.push(format!(
            "{} residence column(s) with more foreign-born than population: native-born set to 0",
            period.native_born_clamped
        ));
    }
    let release_date = stock_date.max(pop_date).unwrap_or(Date { year: a.to, month: 12, day: 31 });
    Ok(Inputs {
        regions: period.regions,
        start: period.start,
        end: period.end,
        excluded: period.excluded,
        notes,
        release_date,
        inputs_text: format!("{} {} “{}” and {pop_release}", a.stocks, a.stocks_source, a.stocks_release),
    })
}

/// Births or deaths by region over the period from a dataflow of the bank.
fn vital(
    bank: &Bank,
    dataflow: &str,
    regions: &[String],
    from: i32,
    to: i32,
    notes: &mut Vec<String>,
) -> Result<Vec<f64>> {
    let df = bank.catalogue().dataflow(dataflow).with_context(|| format!("unknown dataflow {dataflow}"))?;
    let ai = df.dimension_index("REF_AREA").with_context(|| format!("{dataflow} has no REF_AREA"))?;
    let q = Query { dataflow: dataflow.into(), ..Default::default() };
    let range = format!("{from}/{to}");
    let mut by_region: HashMap<String, f64> = HashMap::new();
    for r in bank.harmonised(&q)? {
        let in_period = r.time_period == range || r.time_period.parse::<i32>().is_ok_and(|y| (from..to).contains(&y));
        if let (true, Some(v)) = (in_period, r.base_value()) {
            *by_region.entry(r.key[ai].clone()).or_default() += v;
        }
    }
    let missing: Vec<&str> = regions.iter().filter(|r| !by_region.contains_key(*r)).map(String::as_str).collect();
    if !missing.is_empty() {
        notes.push(format!(
            "{dataflow}: no figure for {} region(s), taken as 0 ({}…)",
            missing.len(),
            missing.iter().take(5).copied().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(regions.iter().map(|r| by_region.get(r).copied().unwrap_or(0.0)).collect())
}

fn estimate(db: &Path, a: &EstimateArgs) -> Result<std::process::ExitCode> {
    if a.to <= a.from {
        bail!("--to ({}) must be after --from ({})", a.to, a.from);
    }
    let mut bank = Bank::open(db).with_context(|| format!("opening the data bank {}", db.display()))?;
    let inputs = stock_inputs(&bank, a)?;
    let mut notes = inputs.notes.clone();
    let n = inputs.regions.len();
    let residents_start = inputs.start.col_sums();
    let residents_end = inputs.end.col_sums();
    let (births, deaths, vital_text, death_method) = match (&a.births, &a.deaths) {
        (Some(b), Some(d)) => (
            vital(&bank, b, &inputs.regions, a.from, a.to, &mut notes)?,
            vital(&bank, d, &inputs.regions, a.from, a.to, &mut notes)?,
            format!("births from {b}, deaths from {d}, deaths in proportion to stocks"),
            DeathMethod::Proportion,
        ),
        _ => {
            let (b, d) = births_deaths_from_birthplace_totals(&inputs.start, &inputs.end);
            (
                b,
                d,
                "natural change of each birthplace = change in its total, deaths among the native-born".into(),
                DeathMethod::NativeBorn,
            )
        }
    };
    let demo = || {
        let options = DemographicOptions { death_method, ..Default::default() };
        demographic_accounting(&inputs.start, &inputs.end, Some(&births), Some(&deaths), None, &options)
    };
    let (flows, convergence, method_text, margins_apply) = match a.method {
        Method::Demo => {
            let est = demo().context("demographic accounting")?;
            let text = format!(
                "demographic accounting (Abel & Sander 2014: closed world, birthplace totals rescaled, stayers fixed at the minimum, one IPF per birthplace); {vital_text}"
            );
            (est.od_flows, Some(est.convergence), text, true)
        }
        Method::Diff => {
            let (decrease, text) = match a.decrease {
                Decrease::Return => (
                    StockDecrease::Return,
                    "stock differencing: increases are flows, decreases are return flows (Beine & Parsons 2015)",
                ),
                Decrease::Zero => (
                    StockDecrease::Zero,
                    "stock differencing: increases are flows, decreases dropped (Bertoli & Fernández-Huertas Moraga 2015)",
                ),
            };
            // Stocks are birthplace × residence: birthplace is the origin row.
            (stock_difference(&inputs.start, &inputs.end, decrease, false)?, None, text.to_string(), false)
        }
        Method::Rates => {
            let (total, how) = match a.total {
                Some(t) => (t, format!("{t} given")),
                None => {
                    let t = demo().context("demographic accounting for the world total")?.total_movers();
                    (t, format!("{} from demographic accounting", num(Some(t.round()))))
                }
            };
            (
                rates_dennett(&inputs.start, total)?,
                None,
                format!(
                    "rates (Dennett 2015): a world total of moves ({how}) spread in proportion to the start stocks"
                ),
                false,
            )
        }
    };
    let period = format!("{}/{}", a.from, a.to);
    let definition = format!(
        "persons who moved from the origin (COUNTERPART) to the destination (REF_AREA) between mid-{} and mid-{}, estimated by koshi: {method_text}; inputs {}; {n} countries",
        a.from, a.to, inputs.inputs_text
    );
    let method_name = match a.method {
        Method::Demo => "demo",
        Method::Diff => "diff",
        Method::Rates => "rates",
    };
    let label = format!("{method_name} {period} from {} {} “{}”", a.stocks, a.stocks_source, a.stocks_release);
    let citation: koshi_core::observation::Text =
        format!("koshi flows estimate --method {method_name} --from {} --to {}", a.from, a.to).into();
    let mut observations = Vec::new();
    let text = |s: &str| -> koshi_core::observation::Text { s.into() };
    let (df, src, per, pers, def) =
        (text(FLOW_DATAFLOW), text(FLOW_SOURCE), text(&period), text("PERS"), text(&definition));
    let codes: Vec<koshi_core::observation::Text> = inputs.regions.iter().map(|r| text(r)).collect();
    for i in 0..n {
        for j in 0..n {
            let v = flows[(i, j)];
            // Zero cells are implied: only moves are stored.
            if i != j && v > 0.0 {
                observations.push(Observation {
                    dataflow: df.clone(),
                    key: vec![codes[j].clone(), codes[i].clone()],
                    time_period: per.clone(),
                    value: Some(v),
                    printed: None,
                    unit: pers.clone(),
                    unit_mult: 0,
                    status: ObsStatus::Estimated,
                    source: src.clone(),
                    definition: def.clone(),
                    citation: Some(citation.clone()),
                    note: None,
                    defects: Vec::new(),
                });
            }
        }
    }
    let outflow = flows.row_sums();
    let inflow = flows.col_sums();
    let margins: Vec<Margin> = (0..n)
        .map(|r| Margin {
            region: inputs.regions[r].clone(),
            residents_start: residents_start[r],
            residents_end: residents_end[r],
            births: births[r],
            deaths: deaths[r],
            outflow: outflow[r] - flows[(r, r)],
            inflow: inflow[r] - flows[(r, r)],
            net_from_stocks: (residents_end[r] - births[r]) - (residents_start[r] - deaths[r]),
            net_from_flows: inflow[r] - outflow[r],
        })
        .collect();
    let worst_net = margins.iter().map(|m| (m.net_from_flows - m.net_from_stocks).abs()).fold(0.0, f64::max);
    if margins_apply {
        notes.push(format!("every country's net migration from the flows equals the stocks' net of births and deaths within {worst_net:.2e} persons"));
    } else {
        notes.push(format!(
            "{method_name} is not fitted to the stock margins: largest gap between a country's net migration from the flows and from the stocks {} persons",
            num(Some(worst_net.round()))
        ));
    }
    if !inputs.excluded.is_empty() {
        notes.push(format!(
            "{} countries left out (no stocks or population in both years): {}",
            inputs.excluded.len(),
            inputs.excluded.iter().take(12).cloned().collect::<Vec<_>>().join(", ")
                + if inputs.excluded.len() > 12 { ", …" } else { "" }
        ));
    }
    let batch = ReleaseBatch {
        dataflow: FLOW_DATAFLOW.into(),
        source: FLOW_SOURCE.into(),
        label: label.clone(),
        release_date: inputs.release_date,
        origin: format!("koshi flows estimate ({})", env!("CARGO_PKG_VERSION")),
        note: Some(definition.clone()),
        observations,
        defects: Vec::new(),
    };
    let observations = batch.observations.len();
    let (outcome, release_id) = if a.dry_run {
        ("dry run (nothing written)".to_string(), None)
    } else {
        match bank.write_releases(&[batch])?.pop() {
            Some(WriteOutcome::Created { release_id, .. }) => ("created".into(), Some(release_id)),
            Some(WriteOutcome::Unchanged { release_id, .. }) => ("unchanged".into(), Some(release_id)),
            None => bail!("nothing was written"),
        }
    };
    let mut top: Vec<(usize, usize, f64)> = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .filter(|(i, j)| i != j)
        .map(|(i, j)| (i, j, flows[(i, j)]))
        .collect();
    top.sort_by(|x, y| y.2.total_cmp(&x.2));
    notes.push(format!(
        "largest flows: {}",
        top.iter()
            .take(5)
            .map(|(i, j, v)| format!("{}→{} {}", inputs.regions[*i], inputs.regions[*j], num(Some(v.round()))))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if let Some(k) = inputs.regions.iter().position(|r| r == "KAZ") {
        notes.push(format!(
            "Kazakhstan: {} left, {} arrived, net {} (stocks imply {})",
            num(Some(margins[k].outflow.round())),
            num(Some(margins[k].inflow.round())),
            num(Some(margins[k].net_from_flows.round())),
            num(Some(margins[k].net_from_stocks.round()))
        ));
    }
    let summary = EstimateSummary {
        outcome,
        release_id,
        dataflow: FLOW_DATAFLOW.into(),
        source: FLOW_SOURCE.into(),
        label,
        period,
        method: method_name.into(),
        definition,
        regions: n,
        excluded: inputs.excluded.clone(),
        observations,
        total_movers: flows.off_diagonal_sum(),
        iterations: convergence.map_or(0, |c| c.iterations),
        max_margin_error: convergence.map_or(0.0, |c| c.max_margin_error),
        converged: convergence.is_none_or(|c| c.converged),
        margins,
    };
    let rows = vec![
        vec!["outcome".into(), summary.outcome.clone()],
        vec!["release".into(), summary.release_id.map(|r| r.to_string()).unwrap_or_default()],
        vec!["dataflow / source".into(), format!("{} / {}", summary.dataflow, summary.source)],
        vec!["label".into(), summary.label.clone()],
        vec!["period".into(), summary.period.clone()],
        vec!["countries".into(), format!("{} ({} left out)", n, summary.excluded.len())],
        vec!["flows stored".into(), observations.to_string()],
        vec!["world total of moves".into(), num(Some(summary.total_movers.round()))],
        vec![
            "convergence".into(),
            match convergence {
                Some(c) => format!(
                    "{} iterations, largest margin error {:.2e}, {}",
                    c.iterations,
                    c.max_margin_error,
                    if c.converged { "converged" } else { "NOT converged" }
                ),
                None => "closed form".into(),
            },
        ],
        vec!["definition".into(), summary.definition.clone()],
    ];
    print(
        a.format,
        &Printable {
            columns: vec!["", "estimate"],
            rows,
            report: std::slice::from_ref(&summary),
            items: std::slice::from_ref(&summary),
        },
    )?;
    crate::output::print_notes(a.format, &notes)?;
    Ok(std::process::ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------------------------
// koshi indices

#[derive(Debug, Clone, Serialize)]
struct IndexRow {
    index: String,
    value: f64,
    meaning: String,
}

#[derive(Debug, Clone, Serialize)]
struct RegionRow {
    region: String,
    name: String,
    year: String,
    arrivals: f64,
    departures: f64,
    net: f64,
    effectiveness: Option<f64>,
    territory: String,
}

pub fn run_indices(db: &Path, args: &IndicesArgs) -> Result<std::process::ExitCode> {
    let bank = Bank::open(db).with_context(|| format!("opening the data bank {}", db.display()))?;
    let df = bank
        .catalogue()
        .dataflow(&args.dataflow)
        .with_context(|| format!("unknown dataflow `{}`", args.dataflow))?
        .clone();
    let has = |d: &str| df.dimension_index(d).is_some();
    if has("REF_AREA") && has("COUNTERPART") {
        od_indices(&bank, &df, args)
    } else if has("REF_AREA") && df.measure("ARR").is_some() && df.measure("DEP").is_some() {
        regional_indices(&bank, &df, args)
    } else {
        bail!(
            "{}: indices need an origin–destination table (REF_AREA and COUNTERPART) or arrivals and departures by region",
            df.id
        )
    }
}

/// Key, period, value in base units, and where the figure came from.
type SourcedRow = (Vec<String>, String, f64, String);

fn rows_of(bank: &Bank, q: &Query, harmonised: bool) -> Result<Vec<SourcedRow>> {
    Ok(if harmonised {
        bank.harmonised(q)?
            .into_iter()
            .filter_map(|r| {
                r.base_value().map(|v| (r.key, r.time_period, v, format!("{} “{}”", r.source, r.release_label)))
            })
            .collect()
    } else {
        bank.query(q)?
            .into_iter()
            .filter_map(|r| {
                r.base_value().map(|v| (r.key, r.time_period, v, format!("{} “{}”", r.source, r.release_label)))
            })
            .collect()
    })
}

fn great_circle_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

fn od_indices(bank: &Bank, df: &koshi_core::structure::Dataflow, args: &IndicesArgs) -> Result<std::process::ExitCode> {
    let (di, oi) = (df.dimension_index("REF_AREA").unwrap_or(0), df.dimension_index("COUNTERPART").unwrap_or(1));
    let q = Query { dataflow: df.id.clone(), source: args.source.clone(), ..Default::default() };
    // One table: rows of one source and release (several methods' estimates must not mix).
    let rows: Vec<(Vec<String>, String, f64, String)> = bank
        .query(&q)?
        .into_iter()
        .filter(|r| args.release.as_ref().is_none_or(|t| r.release_label.contains(t.as_str())))
        .filter_map(|r| {
            r.base_value().map(|v| (r.key, r.time_period, v, format!("{} “{}”", r.source, r.release_label)))
        })
        .collect();
    let periods: BTreeSet<String> = rows.iter().map(|r| r.1.clone()).collect();
    let Some(year) = &args.year else {
        bail!("--year is required; {} has periods {}", df.id, periods.iter().cloned().collect::<Vec<_>>().join(", "));
    };
    let chosen: Vec<&String> =
        periods.iter().filter(|p| *p == year || p.rsplit_once('/').is_some_and(|(_, end)| end == year)).collect();
    let period = match chosen.as_slice() {
        [p] => (*p).clone(),
        [] => bail!(
            "no period {year} in {} (there are {})",
            df.id,
            periods.iter().cloned().collect::<Vec<_>>().join(", ")
        ),
        many => {
            bail!("{year} matches several periods: {}", many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))
        }
    };
    // Countries and regions only: aggregates (WLD, CIS…) would count moves twice.
    let area = bank.catalogue().codelist("AREA").context("AREA code list")?;
    let is_place = |c: &str| area.get(c).is_some_and(|code| code.properties.get("kind").is_some_and(|k| k != "group"));
    let mut cells: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut sources = BTreeSet::new();
    for (key, p, v, src) in rows {
        if p == period && is_place(&key[di]) && is_place(&key[oi]) && key.len() == df.dimensions.len() {
            // Other dimensions (SEX, MEASURE) must be totals or counts of people.
            let others_total =
                key.iter().enumerate().all(|(i, c)| i == di || i == oi || c == "_T" || c == "STOCK" || c == "PERS");
            if others_total {
                *cells.entry((key[oi].clone(), key[di].clone())).or_default() += v;
                sources.insert(src);
            }
        }
    }
    if cells.is_empty() {
        bail!("no origin–destination figures in {} for {period}", df.id);
    }
    if sources.len() > 1 {
        bail!(
            "{} {period} has several releases; choose one with --release TEXT (or --source):\n  {}",
            df.id,
            sources.iter().cloned().collect::<Vec<_>>().join("\n  ")
        );
    }
    let places: Vec<String> =
        cells.keys().flat_map(|(o, d)| [o.clone(), d.clone()]).collect::<BTreeSet<_>>().into_iter().collect();
    let idx: HashMap<&str, usize> = places.iter().enumerate().map(|(i, p)| (p.as_str(), i)).collect();
    let n = places.len();
    let mut m = Matrix::zeros(n, n);
    for ((o, d), v) in &cells {
        m[(idx[o.as_str()], idx[d.as_str()])] = v.max(0.0);
    }
    m.set_diagonal(0.0);
    let total = m.sum();
    let mut out = Vec::new();
    let mut notes = vec![format!(
        "{} {period}: {n} places, {} flows from {}",
        df.id,
        cells.len(),
        sources.into_iter().collect::<Vec<_>>().join("; ")
    )];
    let mut push = |index: &str, value: f64, meaning: &str| {
        out.push(IndexRow { index: index.into(), value, meaning: meaning.into() })
    };
    push("migrants", total, "total moves between places (diagonal excluded)");

    // Populations at the start of the period.
    let start = period.split('/').next().unwrap_or(&period).to_string();
    let pq = Query {
        dataflow: "POP".into(),
        filters: vec![("SEX".into(), vec!["_T".into()]), ("AGE".into(), vec!["_T".into()])],
        period_from: Some(start.clone()),
        period_to: Some(start.clone()),
        ..Default::default()
    };
    let pop: HashMap<String, f64> = bank
        .harmonised(&pq)?
        .into_iter()
        .filter(|r| r.time_period == start)
        .filter_map(|r| r.base_value().map(|v| (r.key[0].clone(), v)))
        .collect();
    let with_pop: Vec<usize> = (0..n).filter(|&i| pop.get(&places[i]).is_some_and(|p| *p > 0.0)).collect();
    if with_pop.len() == n {
        let p: Vec<f64> = places.iter().map(|c| pop[c]).collect();
        let ptotal: f64 = p.iter().sum();
        let i = intensity(total, ptotal, n)?;
        push("cmp", i.cmp, "crude migration probability: 100 × migrants / population (%)");
        push("courgeau_k", i.courgeau_k, "Courgeau's k: CMP / ln(n²)");
        let im = impact(&m, &p)?;
        push("effectiveness", im.effectiveness, "migration effectiveness: 100 × Σ|in − out| / Σ(in + out)");
        push("anmr", im.anmr, "aggregate net migration rate: 100 × ½Σ|net| / population (%)");
        push("preference", im.preference, "index of preference (Bachi)");
        push("velocity", im.velocity, "index of velocity (Bogue)");
        notes.push(format!("populations: POP {start} (harmonised)"));
    } else {
        notes.push(format!(
            "{} of {n} places have no POP figure for {start}: intensity and impact indices skipped",
            n - with_pop.len()
        ));
        let inflow = m.col_sums();
        let outflow = m.row_sums();
        let abs: f64 = inflow.iter().zip(&outflow).map(|(a, b)| (a - b).abs()).sum();
        let turnover: f64 = inflow.iter().zip(&outflow).map(|(a, b)| a + b).sum();
        if turnover > 0.0 {
            push("effectiveness", 100.0 * abs / turnover, "migration effectiveness: 100 × Σ|in − out| / Σ(in + out)");
        }
    }
    let c = connectivity(&m)?;
    push("connectivity", c.connectivity, "share of possible flows that are non-zero");
    push("inequality_equal", c.inequality_equal, "½Σ|share − equal share|");
    push("inequality_sim", c.inequality_sim, "½Σ|share − share under independence|");
    push("gini_total", c.gini_total, "Gini of all flows");
    push("gini_orig_standardized", c.gini_orig_standardized, "share of the Gini within origins");
    push("gini_dest_standardized", c.gini_dest_standardized, "share of the Gini within destinations");
    push("mwg_mean", c.mwg_mean, "mean weighted Gini (Bell et al.)");
    push("cv", c.cv, "coefficient of variation of flows");
    push("acv", c.acv, "aggregate coefficient of variation");
    // Distances between capitals, when every place has one (countries).
    let capitals: HashMap<&str, (f64, f64)> = CAPITALS_CSV
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Some((*f.first()?, (f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))
        })
        .collect();
    // Distances between capitals, over the places that have one (countries).
    let located: Vec<usize> = (0..n).filter(|&i| capitals.contains_key(places[i].as_str())).collect();
    if located.len() >= 3 {
        let k = located.len();
        let mut d = Matrix::zeros(k, k);
        let mut sub = Matrix::zeros(k, k);
        for (a, &i) in located.iter().enumerate() {
            for (b, &j) in located.iter().enumerate() {
                sub[(a, b)] = m[(i, j)];
                // Neighbouring capitals can be very close; 1 km keeps the decay's log finite.
                d[(a, b)] = if a == b {
                    0.0
                } else {
                    great_circle_km(capitals[places[i].as_str()], capitals[places[j].as_str()]).max(1.0)
                };
            }
        }
        let di = distance(&sub, &d)?;
        push("distance_mean", di.mean, "mean distance moved (km between capitals)");
        push("distance_median", di.median, "median distance moved (km)");
        push("distance_decay", di.decay, "β of flows ∝ distance^β with origin and destination effects");
        if k < n {
            let moved: f64 = sub.sum();
            notes.push(format!(
                "distance indices over the {k} of {n} places with a capital in data/structure/capitals ({:.2}% of moves)",
                100.0 * moved / total
            ));
        }
    } else {
        notes.push("distance indices skipped: the places have no capitals in data/structure/capitals".into());
    }
    let table = out.iter().map(|r| vec![r.index.clone(), fmt_index(r.value), r.meaning.clone()]).collect();
    print(
        args.format,
        &Printable { columns: vec!["index", "value", "meaning"], rows: table, report: &out, items: &out },
    )?;
    crate::output::print_notes(args.format, &notes)?;
    Ok(std::process::ExitCode::SUCCESS)
}

fn fmt_index(v: f64) -> String {
    if v.abs() >= 1000.0 { num(Some(v.round())) } else { format!("{v:.4}") }
}

fn regional_indices(
    bank: &Bank,
    df: &koshi_core::structure::Dataflow,
    args: &IndicesArgs,
) -> Result<std::process::ExitCode> {
    let ai = df.dimension_index("REF_AREA").unwrap_or(0);
    let mi = df.dimension_index("MEASURE").context("MEASURE dimension")?;
    let q = Query {
        dataflow: df.id.clone(),
        filters: vec![("MEASURE".into(), vec!["ARR".into(), "DEP".into(), "NET".into()])],
        source: args.source.clone(),
        ..Default::default()
    };
    let rows = rows_of(bank, &q, args.source.is_none())?;
    // (region, year) → measure → value; months summed when a year has no annual figure.
    let mut annual: BTreeMap<(String, i32), BTreeMap<String, f64>> = BTreeMap::new();
    let mut monthly: BTreeMap<(String, i32, String), BTreeMap<String, f64>> = BTreeMap::new();
    let mut sources: BTreeMap<i32, BTreeSet<String>> = BTreeMap::new();
    for (key, p, v, src) in rows {
        let (region, measure) = (key[ai].clone(), key[mi].clone());
        if let Ok(y) = p.parse::<i32>() {
            annual.entry((region, y)).or_default().insert(measure, v);
            sources.entry(y).or_default().insert(src);
        } else if let Some((y, m)) = p.split_once('-').and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.to_string())))
        {
            monthly.entry((region, y, measure)).or_default().insert(m, v);
            sources.entry(y).or_default().insert(src);
        }
    }
    let mut summed_years = BTreeSet::new();
    for ((region, y, measure), months) in monthly {
        let entry = annual.entry((region, y)).or_default();
        if !entry.contains_key(&measure) && months.len() == 12 {
            entry.insert(measure, months.values().sum());
            summed_years.insert(y);
        }
    }
    let wanted: Option<i32> = match &args.year {
        Some(y) => Some(y.parse().with_context(|| format!("--year {y}: a year like 2023"))?),
        None => None,
    };
    let area = bank.catalogue().codelist("AREA").context("AREA code list")?;
    let splits = &bank.catalogue().region_splits;
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut net_mismatch = Vec::new();
    let mut by_year: BTreeMap<i32, (f64, f64)> = BTreeMap::new();
    for ((region, y), m) in &annual {
        if wanted.is_some_and(|w| w != *y) {
            continue;
        }
        let (Some(&arr), Some(&dep)) = (m.get("ARR"), m.get("DEP")) else { continue };
        let net = koshi_core::indicators::net_migration(arr, dep);
        if let Some(&stated) = m.get("NET")
            && (stated - net).abs() > 0.5
        {
            net_mismatch.push(format!("{region} {y}: stated {} vs {}", num(Some(stated)), num(Some(net))));
        }
        let year_end = Date { year: *y, month: 12, day: 31 };
        let year_start = Date { year: *y, month: 1, day: 1 };
        let mut territory = Vec::new();
        // A code that ceased before the year ended: today's regions carry its territory.
        let now = koshi_store::today();
        let current = bank.catalogue().current_equivalents(region, now);
        if current != [region.clone()] {
            territory.push(format!("ceased; territory now in {}", current.join(" + ")));
        }
        for s in splits.iter().filter(|s| s.from == *region || s.to == *region) {
            if s.date > year_end {
                if s.from == *region {
                    territory.push(format!("before the {} split: included {}", s.date, s.to));
                }
            } else if s.date >= year_start {
                territory.push(if s.to == *region {
                    format!("created {} from {}: {y} not comparable with earlier years", s.date, s.from)
                } else {
                    format!("{} split off on {}: {y} not comparable with earlier years", s.to, s.date)
                });
            } else if s.to == *region && s.from != *region && !area.get(&s.from).is_some_and(|c| c.valid_on(year_end)) {
                territory.push(format!("successor of {} since {}", s.from, s.date));
            }
        }
        out.push(RegionRow {
            region: region.clone(),
            name: area.get(region).map(|c| c.labels.en.clone()).unwrap_or_default(),
            year: y.to_string(),
            arrivals: arr,
            departures: dep,
            net,
            effectiveness: koshi_core::indicators::effectiveness(arr, dep),
            territory: territory.join("; "),
        });
        if region != "KAZ" {
            let e = by_year.entry(*y).or_default();
            e.0 += net.abs();
            e.1 += arr + dep;
        }
    }
    if out.is_empty() {
        bail!("no arrivals and departures in {}{}", df.id, wanted.map(|y| format!(" for {y}")).unwrap_or_default());
    }
    for (y, (abs, turnover)) in &by_year {
        notes.push(format!(
            "{y}: aggregate effectiveness {:.2} (100 × Σ|net| / Σ(arrivals + departures) over regions); from {}{}",
            100.0 * abs / turnover,
            sources.get(y).map(|s| s.iter().cloned().collect::<Vec<_>>().join("; ")).unwrap_or_default(),
            if summed_years.contains(y) { "; annual figures are sums of 12 monthly ones" } else { "" }
        ));
    }
    for y in by_year.keys() {
        let in_year: Vec<String> = splits
            .iter()
            .filter(|s| s.date.year == *y && s.from != s.to)
            .map(|s| format!("{}→{}", s.from, s.to))
            .collect();
        if !in_year.is_empty() {
            notes.push(format!(
                "{y}: territorial change ({}): moves between a new region and the one it left count as inter-regional from then on, so totals are not comparable across it",
                in_year.join(", ")
            ));
        }
    }
    if !net_mismatch.is_empty() {
        notes.push(format!("stated balance differs from arrivals − departures: {}", net_mismatch.join(", ")));
    }
    let table = out
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
        args.format,
        &Printable {
            columns: vec!["region", "name", "year", "arrivals", "departures", "net", "effectiveness", "territory"],
            rows: table,
            report: &out,
            items: &out,
        },
    )?;
    crate::output::print_notes(args.format, &notes)?;
    Ok(std::process::ExitCode::SUCCESS)
}
