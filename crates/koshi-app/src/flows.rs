//! Flows estimated from stocks, and migration indices: origin–destination flows between two
//! years of bilateral migrant stocks (written to the bank as a release of `MIG_FLOW_EST`, or
//! estimated without writing), and the Bell et al. indices of an origin–destination table or
//! the arrivals, departures, net and effectiveness of regions. The estimators and indices live
//! in `koshi-flows`; here they get their inputs from the bank and their outputs into it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use koshi_core::observation::{ObsStatus, Text};
use koshi_core::structure::Dataflow;
use koshi_core::validate::fmt_num;
use koshi_core::{Date, Observation};
use koshi_flows::world::{StockSnapshot, period_stocks};
use koshi_flows::{
    DeathMethod, DemographicOptions, Matrix, StockDecrease, births_deaths_from_birthplace_totals, connectivity,
    demographic_accounting, distance, impact, intensity, rates_dennett, stock_difference,
};
use koshi_store::{Bank, Query, QueryText, ReleaseBatch, WriteOutcome, dataflow_named};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::error::{AppError, Result};

/// The dataflow estimated flows are written to.
pub const FLOW_DATAFLOW: &str = "MIG_FLOW_EST";
/// The source of estimated flows: koshi itself.
pub const FLOW_SOURCE: &str = "KOSHI_EST";
/// The bilateral stocks estimated from by default.
pub const DEFAULT_STOCKS: &str = "MIG_STOCK";
pub const DEFAULT_STOCKS_SOURCE: &str = "UN_DESA";
pub const DEFAULT_STOCKS_RELEASE: &str = "International Migrant Stock 2019";
pub const DEFAULT_POPULATION: &str = "POP";

// ---------------------------------------------------------------------------------------------
// Estimating flows from stocks

/// How flows are estimated from two years of stocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowMethod {
    /// Demographic accounting (Abel & Sander 2014).
    #[default]
    Demo,
    /// Stock differencing (Beine & Parsons 2015).
    Diff,
    /// A world total spread in proportion to the start stocks (Dennett 2015).
    Rates,
}

impl FlowMethod {
    pub const ALL: [FlowMethod; 3] = [FlowMethod::Demo, FlowMethod::Diff, FlowMethod::Rates];

    pub fn name(self) -> &'static str {
        match self {
            FlowMethod::Demo => "demo",
            FlowMethod::Diff => "diff",
            FlowMethod::Rates => "rates",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// Stock differencing: what a decrease of a bilateral stock means.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecreaseRule {
    /// A return flow (Beine & Parsons 2015).
    #[default]
    Return,
    /// Nothing: decreases are dropped (Bertoli & Fernández-Huertas Moraga 2015).
    Zero,
}

impl DecreaseRule {
    pub const ALL: [DecreaseRule; 2] = [DecreaseRule::Return, DecreaseRule::Zero];

    pub fn name(self) -> &'static str {
        match self {
            DecreaseRule::Return => "return",
            DecreaseRule::Zero => "zero",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// Estimate origin–destination flows between two years of bilateral stocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowEstimateRequest {
    /// Dataflow of bilateral stocks (REF_AREA = residence, COUNTERPART = birthplace).
    pub stocks: String,
    /// Source of the stocks.
    pub stocks_source: String,
    /// Release (label) of the stocks.
    pub stocks_release: String,
    /// Dataflow of total populations (REF_AREA, SEX=_T, AGE=_T).
    pub population: String,
    /// First stock year.
    pub from: i32,
    /// Second stock year (after `from`).
    pub to: i32,
    pub method: FlowMethod,
    /// Births by region over the period: a dataflow with a REF_AREA dimension (years
    /// `from`..`to`−1 or the period `from`/`to` are summed). Given together with `deaths`.
    pub births: Option<String>,
    /// Deaths by region over the period, like `births`.
    pub deaths: Option<String>,
    /// Stock differencing: what a decrease of a stock means.
    pub decrease: DecreaseRule,
    /// Rates: the world total of moves to spread (default: the demographic-accounting total).
    pub total: Option<f64>,
    /// Estimate and report, but write nothing.
    pub dry_run: bool,
}

impl FlowEstimateRequest {
    /// The default inputs (UN DESA stocks of 2019 and populations) for the period `from`/`to`,
    /// by demographic accounting.
    pub fn new(from: i32, to: i32) -> Self {
        FlowEstimateRequest {
            stocks: DEFAULT_STOCKS.into(),
            stocks_source: DEFAULT_STOCKS_SOURCE.into(),
            stocks_release: DEFAULT_STOCKS_RELEASE.into(),
            population: DEFAULT_POPULATION.into(),
            from,
            to,
            method: FlowMethod::default(),
            births: None,
            deaths: None,
            decrease: DecreaseRule::default(),
            total: None,
            dry_run: false,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.to <= self.from {
            return Err(AppError::invalid("to", format!("{} must be after the first year ({})", self.to, self.from)));
        }
        match (&self.births, &self.deaths) {
            (Some(_), None) => return Err(AppError::invalid("deaths", "births need deaths beside them")),
            (None, Some(_)) => return Err(AppError::invalid("births", "deaths need births beside them")),
            _ => {}
        }
        if let Some(t) = self.total
            && !(t.is_finite() && t > 0.0)
        {
            return Err(AppError::invalid("total", format!("{t} is not a number of moves above 0")));
        }
        Ok(())
    }
}

/// Progress of an estimate, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowProgress {
    /// Reading the stocks and populations.
    Inputs,
    /// Running the estimator.
    Estimating,
    /// Observations written so far of the release.
    Writing { written: usize, of: usize },
}

/// What became of the estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowEstimateOutcome {
    /// Written as a new release.
    Created,
    /// The bank already held this estimate: nothing written.
    Unchanged,
    /// Estimated only: nothing written.
    DryRun,
}

/// One region's margins: what the stocks say and what the estimated flows give.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Margin {
    pub region: String,
    pub residents_start: f64,
    pub residents_end: f64,
    pub births: f64,
    pub deaths: f64,
    pub outflow: f64,
    pub inflow: f64,
    /// (residents_end − births) − (residents_start − deaths): the net migration the stocks imply.
    pub net_from_stocks: f64,
    pub net_from_flows: f64,
}

/// One estimated flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    pub origin: String,
    pub destination: String,
    pub persons: f64,
}

/// An estimate of flows, and the release it was written as.
#[derive(Debug, Clone, Serialize)]
pub struct FlowEstimateReport {
    pub outcome: FlowEstimateOutcome,
    /// The release holding the estimate (none for a dry run).
    pub release_id: Option<i64>,
    pub dataflow: String,
    pub source: String,
    pub label: String,
    /// The release's date: that of its inputs (the later of the stocks' and the populations'
    /// releases), never after today.
    pub release_date: String,
    pub period: String,
    pub method: FlowMethod,
    /// The definition every stored figure carries: what was estimated, how, from what.
    pub definition: String,
    pub regions: usize,
    /// Countries left out: no stocks or population in both years.
    pub excluded: Vec<String>,
    /// Flows stored (the non-zero cells off the diagonal).
    pub observations: usize,
    pub total_movers: f64,
    /// IPF cycles (demographic accounting; 0 for the closed forms).
    pub iterations: usize,
    pub max_margin_error: f64,
    pub converged: bool,
    /// The largest flows, largest first.
    pub largest_flows: Vec<Flow>,
    pub margins: Vec<Margin>,
    pub notes: Vec<String>,
}

/// The stocks and populations of the period, as matrices of birthplace × residence.
struct Inputs {
    regions: Vec<String>,
    start: Matrix,
    end: Matrix,
    excluded: Vec<String>,
    notes: Vec<String>,
    /// The latest release date among the inputs.
    inputs_date: Option<Date>,
    inputs_text: String,
}

fn key_query(bank: &Bank, dataflow: &str, keys: &[&str], text: QueryText) -> Result<Query> {
    let text = QueryText { keys: keys.iter().map(|k| k.to_string()).collect(), ..text };
    Ok(Query::checked(bank.catalogue(), dataflow, &text)?)
}

fn stock_inputs(bank: &Bank, a: &FlowEstimateRequest) -> Result<Inputs> {
    let (y0, y1) = (a.from.to_string(), a.to.to_string());
    let countries: BTreeSet<String> = bank.catalogue().country_codes().into_iter().collect();
    let df = dataflow_named(bank.catalogue(), &a.stocks)?;
    let (Some(di), Some(oi)) = (df.dimension_index("REF_AREA"), df.dimension_index("COUNTERPART")) else {
        return Err(AppError::invalid(
            "stocks",
            format!("{} has no REF_AREA and COUNTERPART: not a bilateral stock table", a.stocks),
        ));
    };
    let stock_text = QueryText { source: Some(a.stocks_source.clone()), ..Default::default() };
    let q = key_query(
        bank,
        &a.stocks,
        &["SEX=_T,MEASURE=STOCK"],
        QueryText { from: Some(y0.clone()), to: Some(y1.clone()), ..stock_text.clone() },
    )?;
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
            // Say which years the release has (read only on this error).
            let all = key_query(bank, &a.stocks, &["SEX=_T,MEASURE=STOCK"], stock_text.clone())?;
            let years: BTreeSet<String> = bank
                .query(&all)?
                .into_iter()
                .filter(|r| r.release_label == a.stocks_release)
                .map(|r| r.time_period)
                .collect();
            let there = if years.is_empty() {
                "it has no stocks at all".to_string()
            } else {
                format!("its years are {}", years.into_iter().collect::<Vec<_>>().join(", "))
            };
            return Err(AppError::Unanswerable(format!(
                "no {} stocks for {y} in {} release “{}” ({there})",
                a.stocks, a.stocks_source, a.stocks_release
            )));
        }
    }
    // Populations of the same vintage (what the stocks' source had published on their release
    // date: later revisions are not mixed in), else the harmonised figure.
    let pdf = dataflow_named(bank.catalogue(), &a.population)?;
    let pa = pdf
        .dimension_index("REF_AREA")
        .ok_or_else(|| AppError::invalid("population", format!("{} has no REF_AREA dimension", a.population)))?;
    let mut pq = key_query(
        bank,
        &a.population,
        &["SEX=_T,AGE=_T"],
        QueryText {
            from: Some(y0.clone()),
            to: Some(y1.clone()),
            source: Some(a.stocks_source.clone()),
            ..Default::default()
        },
    )?;
    pq.as_of = stock_date;
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
    Ok(Inputs {
        regions: period.regions,
        start: period.start,
        end: period.end,
        excluded: period.excluded,
        notes,
        inputs_date: stock_date.max(pop_date),
        inputs_text: format!("{} {} “{}” and {pop_release}", a.stocks, a.stocks_source, a.stocks_release),
    })
}

/// Births or deaths by region over the period from a dataflow of the bank.
fn vital(
    bank: &Bank,
    field: &str,
    dataflow: &str,
    regions: &[String],
    (from, to): (i32, i32),
    notes: &mut Vec<String>,
) -> Result<Vec<f64>> {
    let df = dataflow_named(bank.catalogue(), dataflow)?;
    let ai = df
        .dimension_index("REF_AREA")
        .ok_or_else(|| AppError::invalid(field, format!("{dataflow} has no REF_AREA dimension")))?;
    let q = key_query(bank, dataflow, &[], QueryText::default())?;
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

/// The estimate and the release that would hold it.
struct Estimate {
    report: FlowEstimateReport,
    batch: ReleaseBatch,
}

fn estimate(
    bank: &Bank,
    a: &FlowEstimateRequest,
    today: Date,
    progress: &mut dyn FnMut(FlowProgress),
) -> Result<Estimate> {
    progress(FlowProgress::Inputs);
    let inputs = stock_inputs(bank, a)?;
    let mut notes = inputs.notes.clone();
    let n = inputs.regions.len();
    let residents_start = inputs.start.col_sums();
    let residents_end = inputs.end.col_sums();
    let (births, deaths, vital_text, death_method) = match (&a.births, &a.deaths) {
        (Some(b), Some(d)) => (
            vital(bank, "births", b, &inputs.regions, (a.from, a.to), &mut notes)?,
            vital(bank, "deaths", d, &inputs.regions, (a.from, a.to), &mut notes)?,
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
    progress(FlowProgress::Estimating);
    let demo = || {
        let options = DemographicOptions { death_method, ..Default::default() };
        demographic_accounting(&inputs.start, &inputs.end, Some(&births), Some(&deaths), None, &options)
    };
    let (flows, convergence, method_text, margins_apply) = match a.method {
        FlowMethod::Demo => {
            let est = demo()?;
            let text = format!(
                "demographic accounting (Abel & Sander 2014: closed world, birthplace totals rescaled, stayers fixed at the minimum, one IPF per birthplace); {vital_text}"
            );
            (est.od_flows, Some(est.convergence), text, true)
        }
        FlowMethod::Diff => {
            let (decrease, text) = match a.decrease {
                DecreaseRule::Return => (
                    StockDecrease::Return,
                    "stock differencing: increases are flows, decreases are return flows (Beine & Parsons 2015)",
                ),
                DecreaseRule::Zero => (
                    StockDecrease::Zero,
                    "stock differencing: increases are flows, decreases dropped (Bertoli & Fernández-Huertas Moraga 2015)",
                ),
            };
            // Stocks are birthplace × residence: birthplace is the origin row.
            (stock_difference(&inputs.start, &inputs.end, decrease, false)?, None, text.to_string(), false)
        }
        FlowMethod::Rates => {
            let (total, how) = match a.total {
                Some(t) => (t, format!("{t} given")),
                None => {
                    let t = demo()?.total_movers();
                    (t, format!("{} from demographic accounting", fmt_num(t.round())))
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
    let method_name = a.method.name();
    let label = format!("{method_name} {period} from {} {} “{}”", a.stocks, a.stocks_source, a.stocks_release);
    let citation: Text = format!("koshi flows estimate --method {method_name} --from {} --to {}", a.from, a.to).into();
    let text = |s: &str| -> Text { s.into() };
    let (df, src, per, pers, def) =
        (text(FLOW_DATAFLOW), text(FLOW_SOURCE), text(&period), text("PERS"), text(&definition));
    let codes: Vec<Text> = inputs.regions.iter().map(|r| text(r)).collect();
    let mut observations = Vec::new();
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
            fmt_num(worst_net.round())
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
    let mut top: Vec<(usize, usize, f64)> = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .filter(|(i, j)| i != j)
        .map(|(i, j)| (i, j, flows[(i, j)]))
        .collect();
    top.sort_by(|x, y| y.2.total_cmp(&x.2));
    let largest_flows: Vec<Flow> = top
        .iter()
        .take(10)
        .map(|&(i, j, v)| Flow {
            origin: inputs.regions[i].clone(),
            destination: inputs.regions[j].clone(),
            persons: v,
        })
        .collect();
    notes.push(format!(
        "largest flows: {}",
        largest_flows
            .iter()
            .take(5)
            .map(|f| format!("{}→{} {}", f.origin, f.destination, fmt_num(f.persons.round())))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if let Some(k) = inputs.regions.iter().position(|r| r == "KAZ") {
        notes.push(format!(
            "Kazakhstan: {} left, {} arrived, net {} (stocks imply {})",
            fmt_num(margins[k].outflow.round()),
            fmt_num(margins[k].inflow.round()),
            fmt_num(margins[k].net_from_flows.round()),
            fmt_num(margins[k].net_from_stocks.round())
        ));
    }
    // Dated by its inputs (what was known when they were published); a release cannot be
    // dated after the day it is made.
    let release_date = inputs.inputs_date.map_or(today, |d| d.min(today));
    let batch = ReleaseBatch {
        dataflow: FLOW_DATAFLOW.into(),
        source: FLOW_SOURCE.into(),
        label: label.clone(),
        release_date,
        origin: format!("koshi flows estimate ({})", env!("CARGO_PKG_VERSION")),
        note: Some(definition.clone()),
        observations,
        defects: Vec::new(),
    };
    let report = FlowEstimateReport {
        outcome: FlowEstimateOutcome::DryRun,
        release_id: None,
        dataflow: FLOW_DATAFLOW.into(),
        source: FLOW_SOURCE.into(),
        label,
        release_date: release_date.to_string(),
        period,
        method: a.method,
        definition,
        regions: n,
        excluded: inputs.excluded,
        observations: batch.observations.len(),
        total_movers: flows.off_diagonal_sum(),
        iterations: convergence.map_or(0, |c| c.iterations),
        max_margin_error: convergence.map_or(0.0, |c| c.max_margin_error),
        converged: convergence.is_none_or(|c| c.converged),
        largest_flows,
        margins,
        notes,
    };
    Ok(Estimate { report, batch })
}

// ---------------------------------------------------------------------------------------------
// Migration indices

/// Migration indices of a dataflow: an origin–destination table, or regional arrivals and
/// departures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IndicesRequest {
    /// An origin–destination dataflow (REF_AREA = destination, COUNTERPART = origin) or one of
    /// arrivals (ARR) and departures (DEP) by REF_AREA.
    pub dataflow: String,
    /// Key texts in the one key grammar ([`koshi_core::key`]) narrowing the figures read
    /// (e.g. `REF_AREA=KZ-71+KZ-75`); several combine with AND.
    pub keys: Vec<String>,
    /// The period: a year (`2023`), or for origin–destination tables a range (`1990/1995`) or
    /// its end year. Required for origin–destination tables; regional indices without it cover
    /// every year.
    pub year: Option<String>,
    /// Only this source's figures (default: the harmonised view; origin–destination tables:
    /// the only release of the period).
    pub source: Option<String>,
    /// Origin–destination tables with several releases for the period: the release whose label
    /// contains this text.
    pub release: Option<String>,
}

/// Which kind of indices a report holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicesKind {
    /// Bell et al. indices of an origin–destination table.
    OriginDestination,
    /// Arrivals, departures, net and effectiveness by region and year.
    Regional,
}

/// One index of an origin–destination table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexValue {
    pub index: String,
    pub value: f64,
    pub meaning: String,
}

/// A region's arrivals, departures, net and effectiveness in one year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionBalance {
    pub region: String,
    pub name: String,
    pub year: String,
    pub arrivals: f64,
    pub departures: f64,
    pub net: f64,
    /// 100 × net / (arrivals + departures).
    pub effectiveness: Option<f64>,
    /// Territorial changes that bear on the figure (splits, successors, a ceased code).
    pub territory: String,
}

/// The aggregate effectiveness of a year over the regions (the country itself left out).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearEffectiveness {
    pub year: i32,
    /// 100 × Σ|net| / Σ(arrivals + departures) over the regions.
    pub effectiveness: f64,
    /// Where the year's figures came from.
    pub sources: Vec<String>,
    /// Whether the annual figures are sums of twelve monthly ones.
    pub summed_from_months: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum IndexItems {
    Indices(Vec<IndexValue>),
    Regions(Vec<RegionBalance>),
}

impl IndexItems {
    pub fn len(&self) -> usize {
        match self {
            IndexItems::Indices(v) => v.len(),
            IndexItems::Regions(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicesReport {
    pub dataflow: String,
    pub kind: IndicesKind,
    /// Origin–destination tables: the period of the table.
    pub period: Option<String>,
    /// Regional indices: each year's aggregate effectiveness.
    pub years: Vec<YearEffectiveness>,
    pub total: usize,
    pub items: IndexItems,
    pub notes: Vec<String>,
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

fn listed(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    items.into_iter().map(|s| s.as_ref().to_string()).collect::<Vec<_>>().join(", ")
}

fn od_indices(bank: &Bank, df: &Dataflow, req: &IndicesRequest) -> Result<IndicesReport> {
    let (di, oi) = (df.dimension_index("REF_AREA").unwrap_or(0), df.dimension_index("COUNTERPART").unwrap_or(1));
    let keys: Vec<&str> = req.keys.iter().map(String::as_str).collect();
    let q = key_query(bank, &df.id, &keys, QueryText { source: req.source.clone(), ..Default::default() })?;
    // One table: rows of one source and release (several methods' estimates must not mix).
    let rows: Vec<SourcedRow> = bank
        .query(&q)?
        .into_iter()
        .filter(|r| req.release.as_ref().is_none_or(|t| r.release_label.contains(t.as_str())))
        .filter_map(|r| {
            r.base_value().map(|v| (r.key, r.time_period, v, format!("{} “{}”", r.source, r.release_label)))
        })
        .collect();
    let periods: BTreeSet<String> = rows.iter().map(|r| r.1.clone()).collect();
    let Some(year) = &req.year else {
        return Err(AppError::invalid("year", format!("required for {}; it has periods {}", df.id, listed(&periods))));
    };
    let chosen: Vec<&String> =
        periods.iter().filter(|p| *p == year || p.rsplit_once('/').is_some_and(|(_, end)| end == year)).collect();
    let period = match chosen.as_slice() {
        [p] => (*p).clone(),
        [] => {
            return Err(AppError::invalid(
                "year",
                format!(
                    "no period {year} in {}{} (there are {})",
                    df.id,
                    req.release.as_ref().map(|t| format!(" releases labelled “…{t}…”")).unwrap_or_default(),
                    if periods.is_empty() { "none".to_string() } else { listed(&periods) }
                ),
            ));
        }
        many => return Err(AppError::invalid("year", format!("{year} matches several periods: {}", listed(many)))),
    };
    // Countries and regions only: aggregates (WLD, CIS…) would count moves twice.
    let area = bank
        .catalogue()
        .codelist("AREA")
        .ok_or_else(|| AppError::Unanswerable("the catalogue has no AREA code list".into()))?;
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
        return Err(AppError::Unanswerable(format!("no origin–destination figures in {} for {period}", df.id)));
    }
    if sources.len() > 1 {
        return Err(AppError::invalid(
            "release",
            format!(
                "{} {period} has several releases; choose one by a text of its label (or by its source):\n  {}",
                df.id,
                sources.iter().cloned().collect::<Vec<_>>().join("\n  ")
            ),
        ));
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
        out.push(IndexValue { index: index.into(), value, meaning: meaning.into() })
    };
    push("migrants", total, "total moves between places (diagonal excluded)");

    // Populations at the start of the period.
    let start = period.split('/').next().unwrap_or(&period).to_string();
    let pq = key_query(
        bank,
        DEFAULT_POPULATION,
        &["SEX=_T,AGE=_T"],
        QueryText { from: Some(start.clone()), to: Some(start.clone()), ..Default::default() },
    )?;
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
        notes.push(format!("populations: {DEFAULT_POPULATION} {start} (harmonised)"));
    } else {
        notes.push(format!(
            "{} of {n} places have no {DEFAULT_POPULATION} figure for {start}: intensity and impact indices skipped",
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
    // Distances between capitals, over the places that have one (countries).
    let geography = &bank.catalogue().geography;
    let located: Vec<usize> = (0..n).filter(|&i| geography.capital(&places[i]).is_some()).collect();
    if located.len() >= 3 {
        let k = located.len();
        let mut d = Matrix::zeros(k, k);
        let mut sub = Matrix::zeros(k, k);
        for (a, &i) in located.iter().enumerate() {
            for (b, &j) in located.iter().enumerate() {
                sub[(a, b)] = m[(i, j)];
                // Neighbouring capitals can be very close; 1 km keeps the decay's log finite.
                d[(a, b)] =
                    if a == b { 0.0 } else { geography.distance_km(&places[i], &places[j]).unwrap_or(0.0).max(1.0) };
            }
        }
        match distance(&sub, &d) {
            Ok(di) => {
                push("distance_mean", di.mean, "mean distance moved (km between capitals)");
                push("distance_median", di.median, "median distance moved (km)");
                push("distance_decay", di.decay, "β of flows ∝ distance^β with origin and destination effects");
            }
            // A table the decay cannot be fitted to still has its other indices.
            Err(e) => notes.push(format!("distance indices skipped: {e}")),
        }
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
    Ok(IndicesReport {
        dataflow: df.id.clone(),
        kind: IndicesKind::OriginDestination,
        period: Some(period),
        years: Vec::new(),
        total: out.len(),
        items: IndexItems::Indices(out),
        notes,
    })
}

fn regional_indices(bank: &Bank, df: &Dataflow, req: &IndicesRequest, today: Date) -> Result<IndicesReport> {
    let ai = df.dimension_index("REF_AREA").unwrap_or(0);
    let mi = df
        .dimension_index("MEASURE")
        .ok_or_else(|| AppError::invalid("dataflow", format!("{} has no MEASURE dimension", df.id)))?;
    let measures = if df.measure("NET").is_some() { "MEASURE=ARR+DEP+NET" } else { "MEASURE=ARR+DEP" };
    let mut keys: Vec<&str> = req.keys.iter().map(String::as_str).collect();
    keys.push(measures);
    let q = key_query(bank, &df.id, &keys, QueryText { source: req.source.clone(), ..Default::default() })?;
    let rows = rows_of(bank, &q, req.source.is_none())?;
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
    let wanted: Option<i32> = match &req.year {
        Some(y) => {
            Some(y.trim().parse().map_err(|_| AppError::invalid("year", format!("`{y}` is not a year like 2023")))?)
        }
        None => None,
    };
    let area = bank
        .catalogue()
        .codelist("AREA")
        .ok_or_else(|| AppError::Unanswerable("the catalogue has no AREA code list".into()))?;
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
            net_mismatch.push(format!("{region} {y}: stated {} vs {}", fmt_num(stated), fmt_num(net)));
        }
        let year_end = Date { year: *y, month: 12, day: 31 };
        let year_start = Date { year: *y, month: 1, day: 1 };
        let mut territory = Vec::new();
        // A code that ceased since: today's regions carry its territory.
        let current = bank.catalogue().current_equivalents(region, today);
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
        out.push(RegionBalance {
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
        return Err(AppError::Unanswerable(format!(
            "no arrivals and departures in {}{}",
            df.id,
            wanted.map(|y| format!(" for {y}")).unwrap_or_default()
        )));
    }
    let mut years = Vec::new();
    for (y, (abs, turnover)) in &by_year {
        let from: Vec<String> = sources.get(y).map(|s| s.iter().cloned().collect()).unwrap_or_default();
        let summed = summed_years.contains(y);
        let effectiveness = if *turnover > 0.0 { 100.0 * abs / turnover } else { 0.0 };
        notes.push(format!(
            "{y}: aggregate effectiveness {effectiveness:.2} (100 × Σ|net| / Σ(arrivals + departures) over regions); from {}{}",
            from.join("; "),
            if summed { "; annual figures are sums of 12 monthly ones" } else { "" }
        ));
        years.push(YearEffectiveness { year: *y, effectiveness, sources: from, summed_from_months: summed });
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
    Ok(IndicesReport {
        dataflow: df.id.clone(),
        kind: IndicesKind::Regional,
        period: None,
        years,
        total: out.len(),
        items: IndexItems::Regions(out),
        notes,
    })
}

impl App {
    /// Estimate origin–destination flows between two years of bilateral stocks and, unless it
    /// is a dry run, write them as a release of [`FLOW_DATAFLOW`] (source [`FLOW_SOURCE`]): the
    /// inputs are read and the release written in one transaction. The same estimate again
    /// writes nothing; changed inputs make a new revision.
    pub fn estimate_flows(
        &self,
        request: &FlowEstimateRequest,
        progress: &mut dyn FnMut(FlowProgress),
    ) -> Result<FlowEstimateReport> {
        request.validate()?;
        let today = self.today();
        if request.dry_run {
            return self.read(|bank| Ok(estimate(bank, request, today, progress)?.report));
        }
        let mut bank = self.writer()?;
        bank.atomically(|bank| {
            let Estimate { mut report, batch } = estimate(bank, request, today, progress)?;
            let of = batch.observations.len();
            progress(FlowProgress::Writing { written: 0, of });
            let outcome = bank
                .write_releases_with_progress(std::slice::from_ref(&batch), &mut |written| {
                    progress(FlowProgress::Writing { written, of })
                })?
                .pop();
            (report.outcome, report.release_id) = match outcome {
                Some(WriteOutcome::Created { release_id, .. }) => (FlowEstimateOutcome::Created, Some(release_id)),
                Some(WriteOutcome::Unchanged { release_id, .. }) => (FlowEstimateOutcome::Unchanged, Some(release_id)),
                None => return Err(AppError::Unanswerable("the estimate's release was not written".into())),
            };
            Ok(report)
        })
    }

    /// Migration indices of an origin–destination table (intensity, impact, spatial focusing,
    /// distance between capitals) or of regional arrivals and departures (net and effectiveness
    /// by region and year, with the territorial changes that bear on them).
    pub fn indices(&self, request: &IndicesRequest) -> Result<IndicesReport> {
        let today = self.today();
        self.read(|bank| {
            let df = dataflow_named(bank.catalogue(), &request.dataflow)?;
            let has = |d: &str| df.dimension_index(d).is_some();
            if has("REF_AREA") && has("COUNTERPART") {
                od_indices(bank, df, request)
            } else if has("REF_AREA") && df.measure("ARR").is_some() && df.measure("DEP").is_some() {
                regional_indices(bank, df, request, today)
            } else {
                Err(AppError::invalid(
                    "dataflow",
                    format!(
                        "{}: indices need an origin–destination table (REF_AREA and COUNTERPART) or arrivals and departures by region",
                        df.id
                    ),
                ))
            }
        })
    }
}
