//! Labour-demand indicators by region × occupation × month, the Beveridge view, the matching
//! function and the mismatch index.
//!
//! Kazakhstan has "no mechanisms for assessing the demand for skilled labour" region by region.
//! This module turns vacancy records (one [`Spell`] per vacancy, coded on ISCO-08) and the counts of
//! job seekers registered at employment centres ([`SeekerCount`]) into a dense table of indicators
//! ([`indicators`] → [`DemandTable`]), and measures how well the unemployed and the vacancies meet,
//! following Şahin, A., Song, J., Topa, G. and Violante, G. L. (2014), "Mismatch Unemployment",
//! *American Economic Review* 104(11): 3529–3564.
//!
//! # Definitions
//!
//! Counts are of openings (positions), not of postings: a vacancy for three drivers counts three.
//! A spell is posted on day `p` and ended on day `e` (a hire or a withdrawal) or still open.
//!
//! * **Stock** of month `m`: the openings open at the end of its last day `L`, `p ≤ L` and (no `e`
//!   or `e > L`). A vacancy that ends on the last day of a month is not in that month's stock; one
//!   posted on it is. The stock at the end of the month before the window is
//!   [`DemandTable::stock_before`], so that inside the window, exactly,
//!   `stock(m) = stock(m − 1) + inflow(m) − outflow(m)`.
//! * **Inflow** of `m`: openings posted in `m`. **Outflow**: openings whose spell ended in `m`;
//!   **hires**: the part of the outflow whose end was a hire.
//! * **Mean duration** of `m`: the mean of `e − p` in days over the spells (each once, whatever its
//!   openings) that ended in `m`; `None` when none did. It is the duration of *completed* spells: the
//!   spells still open are censored, so in a month of rising demand it understates how long the
//!   vacancies now open will last.
//! * **Seekers** of a cell: the registered job seekers given at exactly the table's ISCO level; if
//!   none are given there, the sum of the rows at the coarsest finer level given (4-digit rows add
//!   up to a 2-digit cell). The region total `_T` takes the row without an occupation, else the
//!   coarsest occupation rows given. `None` when nothing is given. Rows not used anywhere are
//!   reported, not dropped silently.
//! * **Tightness** `θ = V / U` (stock over seekers) and its inverse, seekers per vacancy `U / V`.
//! * **Beveridge rates** ([`beveridge`]): unemployment rate `u = U / LF`; vacancy rate
//!   `v = V / (V + LF − U)`, vacancies over vacancies plus employment (the job-openings rate of
//!   JOLTS), with `V` the region's stock at the month's end.
//! * **Matching function** ([`estimate_matching`]): hires in market `i` and period `t` are
//!   `h = Φ_t φ_i v^α u^(1−α) e^ε` (constant returns), so
//!   `ln(h/u) = μ_i + δ_t + α ln(v/u) + ε`, estimated by OLS with both sets of fixed effects
//!   solved exactly. The market efficiency is `φ_i = exp(μ_i)`, normalised to mean 1.
//! * **Mismatch index** ([`mismatch_index`], Şahin et al. 2014, heterogeneous efficiency): for one
//!   period with markets `i`, vacancies `v_i` (total `v`) and unemployed `u_i` (total `u`),
//!   `M = 1 − Σ_i (φ_i / φ̄) (v_i / v)^α (u_i / u)^(1−α)` with `φ̄ = [Σ_i φ_i^(1/α) (v_i / v)]^α`.
//!   A planner who can move the unemployed freely between markets maximises hires
//!   `Σ_i φ_i v_i^α u_i^(1−α)` by `u*_i ∝ φ_i^(1/α) v_i`, which gives `h* = Φ φ̄ v^α u^(1−α)`; `M` is
//!   `1 − h / h*`, the fraction of hires lost to the misallocation of the unemployed.
//!
//! A region's vacancy counts can also come as published aggregates rather than records;
//! [`inflow_indicators`] derives growth and shares from such a series (it is tested on Australia's
//! Internet Vacancy Index, since Kazakhstan publishes no open vacancy microdata).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::vacancy::{Date, IscoCode, Region};

/// The longest window of months a table or series may span.
pub const MAX_MONTHS: usize = 600;
/// The occupation code of a region's total over all occupations.
pub const TOTAL: &str = "_T";

/// Input that cannot be used at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DemandError {
    #[error("`{0}` is not a month written YYYY-MM (years 1900 to 2199)")]
    BadMonth(String),
    #[error("ISCO level {0} is not 1 to 4 digits")]
    BadLevel(usize),
    #[error("the window starts at {from}, after its end {to}")]
    MonthOrder { from: Month, to: Month },
    #[error("the window spans {months} months; at most {max} are allowed")]
    TooManyMonths { months: usize, max: usize },
    #[error("observation {index}: {field} is not a finite number")]
    NonFinite { index: usize, field: &'static str },
    #[error(
        "the matching function needs at least 2 markets with positive hires, vacancies and unemployed; there are {0}"
    )]
    TooFewMarkets(usize),
    #[error(
        "the matching function needs at least 2 periods with positive hires, vacancies and unemployed; there are {0}"
    )]
    TooFewPeriods(usize),
    #[error("ln(v/u) does not vary once the market and period effects are removed")]
    NoVariation,
    #[error("the fixed-effects solve stopped at relative residual {residual:e} after {iterations} iterations")]
    NotConverged { iterations: usize, residual: f64 },
    #[error("the vacancy elasticity α = {0} is not inside (0, 1)")]
    AlphaOutOfRange(f64),
    #[error("market `{0}` is not in the fitted matching function")]
    UnknownMarket(String),
    #[error("market `{0}` appears twice")]
    DuplicateMarket(String),
    #[error(
        "markets `{first}` and `{second}` were never observed in linked periods, so their efficiencies are not comparable"
    )]
    NotComparable { first: String, second: String },
    #[error("market `{market}`: {field} {value} is not a finite, non-negative number")]
    BadCount { market: String, field: &'static str, value: f64 },
    #[error("the markets have no {0} in total")]
    NoTotal(&'static str),
    #[error("the flows of {series} end more openings than were posted (a negative stock)")]
    NegativeStock { series: String },
}

// ---------------------------------------------------------------------------------------------
// Months
// ---------------------------------------------------------------------------------------------

/// A calendar month, years 1900 to 2199 (those of [`Date`]). Ordered by time; written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: u16,
    month: u8,
}

impl Month {
    pub fn new(year: u16, month: u8) -> Result<Month, DemandError> {
        if (Date::MIN_YEAR..=Date::MAX_YEAR).contains(&year) && (1..=12).contains(&month) {
            Ok(Month { year, month })
        } else {
            Err(DemandError::BadMonth(format!("{year:04}-{month:02}")))
        }
    }

    /// The month a date lies in.
    pub fn of(date: Date) -> Month {
        Month { year: date.year(), month: date.month() }
    }

    /// Exactly `YYYY-MM`.
    pub fn parse(text: &str) -> Result<Month, DemandError> {
        let bad = || DemandError::BadMonth(crate::vacancy::clip(text, 40));
        let b = text.as_bytes();
        if b.len() != 7 || b[4] != b'-' || !b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let number = |digits: &[u8]| digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        Month::new(number(&b[..4]), number(&b[5..]) as u8).map_err(|_| bad())
    }

    pub fn year(self) -> u16 {
        self.year
    }

    /// 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// Months since January 1900, the index that month arithmetic works on.
    pub fn ordinal(self) -> i32 {
        (i32::from(self.year) - i32::from(Date::MIN_YEAR)) * 12 + i32::from(self.month) - 1
    }

    pub fn from_ordinal(ordinal: i32) -> Option<Month> {
        let year = i32::from(Date::MIN_YEAR) + ordinal.div_euclid(12);
        let year = u16::try_from(year).ok()?;
        Month::new(year, (ordinal.rem_euclid(12) + 1) as u8).ok()
    }

    /// The month `n` months later (earlier for a negative `n`), if it lies in the supported years.
    pub fn add_months(self, n: i32) -> Option<Month> {
        Month::from_ordinal(self.ordinal().checked_add(n)?)
    }

    pub fn succ(self) -> Option<Month> {
        self.add_months(1)
    }

    pub fn pred(self) -> Option<Month> {
        self.add_months(-1)
    }

    /// Months from `self` to `later` (negative when `later` is earlier).
    pub fn months_until(self, later: Month) -> i32 {
        later.ordinal() - self.ordinal()
    }

    pub fn first_day(self) -> Date {
        self.day(1)
    }

    pub fn last_day(self) -> Date {
        let days = match self.month {
            4 | 6 | 9 | 11 => 30,
            2 if Date::new(self.year, 2, 29).is_ok() => 29,
            2 => 28,
            _ => 31,
        };
        self.day(days)
    }

    fn day(self, day: u8) -> Date {
        // Year and month were checked on construction, and the day exists in the month.
        Date::new(self.year, self.month, day).expect("a day of a checked month")
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = DemandError;

    fn from_str(text: &str) -> Result<Month, DemandError> {
        Month::parse(text)
    }
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Month, D::Error> {
        let text = String::deserialize(d)?;
        Month::parse(&text).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// Diagnostics
// ---------------------------------------------------------------------------------------------

/// A result computed from the usable inputs, with every input that was not used and why.
#[derive(Debug, Clone, Serialize)]
pub struct Checked<T> {
    pub value: T,
    pub skipped: Vec<Skipped>,
}

/// One input left out of a computation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    pub input: Input,
    /// 0-based position in the slice passed in.
    pub index: usize,
    pub reason: SkipReason,
}

/// Which slice an input came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    Spell,
    Seekers,
    LabourForce,
    CountRow,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SkipReason {
    /// A spell that ends before it was posted.
    EndedBeforePosted { posted: Date, ended: Date },
    /// An occupation that is not 1 to 4 digits (or is the reserved total code).
    BadOccupation { code: String },
    /// A month outside the table's window.
    OutsideWindow { month: Month },
    /// The same region, occupation and month given before (the first is kept).
    Duplicate,
    /// Seekers given at `digits` digits, where the cell they would count in used the rows at
    /// `used_digits` (0: the row without an occupation).
    Superseded { digits: usize, used_digits: usize },
    /// A number that cannot be a count or rate (negative, not finite, unemployed ≥ labour force).
    BadNumber { field: &'static str, value: f64 },
    /// An empty region or occupation name.
    EmptyName { field: &'static str },
}

// ---------------------------------------------------------------------------------------------
// Indicators from vacancy spells
// ---------------------------------------------------------------------------------------------

/// One vacancy's life: where, what, when it was posted and when it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Spell {
    pub region: Region,
    pub occupation: IscoCode,
    pub posted: Date,
    /// The day it was filled or closed; `None` while open.
    pub ended: Option<Date>,
    /// Whether the end was a hire.
    pub filled: bool,
    pub openings: u32,
}

/// Job seekers registered at employment centres, as published: by region, occupation and month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeekerCount {
    pub region: Region,
    /// An ISCO-08 code of 1 to 4 digits; `None` for all occupations.
    pub occupation: Option<String>,
    pub month: Month,
    pub seekers: u64,
}

/// The shape of a [`DemandTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DemandConfig {
    /// ISCO-08 digits of the occupation axis, 1 to 4.
    pub level: usize,
    pub from: Month,
    /// The last month, included.
    pub to: Month,
}

impl DemandConfig {
    /// The number of months, if the configuration is valid.
    pub fn months(&self) -> Result<usize, DemandError> {
        if !(1..=4).contains(&self.level) {
            return Err(DemandError::BadLevel(self.level));
        }
        if self.from > self.to {
            return Err(DemandError::MonthOrder { from: self.from, to: self.to });
        }
        let months = self.from.months_until(self.to) as usize + 1;
        if months > MAX_MONTHS {
            return Err(DemandError::TooManyMonths { months, max: MAX_MONTHS });
        }
        Ok(months)
    }
}

/// The indicators of every region × occupation × month of a window, dense: every occupation met in
/// the spells or the seekers (cut to the level) for every one of the 20 regions, plus each region's
/// total `_T`. Serialises as the sequence of its [`Cell`]s.
#[derive(Debug, Clone)]
pub struct DemandTable {
    level: usize,
    months: Vec<Month>,
    /// The codes in order, then [`TOTAL`].
    occupations: Vec<String>,
    /// Per series (region × occupation), the stock at the end of the month before the window.
    stock_before: Vec<u64>,
    // The rest per series × month, month fastest.
    tallies: Vec<Tally>,
    seekers: Vec<Option<u64>>,
}

/// The counts of one cell side by side, so that a spell's end touches one cache line, not five.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    stock: u64,
    inflow: u64,
    outflow: u64,
    hires: u64,
    ended_spells: u64,
    duration_days: u64,
}

impl std::ops::AddAssign<&Tally> for Tally {
    fn add_assign(&mut self, other: &Tally) {
        self.stock += other.stock;
        self.inflow += other.inflow;
        self.outflow += other.outflow;
        self.hires += other.hires;
        self.ended_spells += other.ended_spells;
        self.duration_days += other.duration_days;
    }
}

/// The indicators of one region, occupation and month.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cell<'a> {
    pub region: Region,
    /// An ISCO-08 code at the table's level, or `_T`.
    pub occupation: &'a str,
    pub month: Month,
    /// Openings open at the end of the month.
    pub stock: u64,
    /// Openings posted in the month.
    pub inflow: u64,
    /// Openings whose spell ended in the month.
    pub outflow: u64,
    /// The part of the outflow that was filled.
    pub hires: u64,
    /// Spells that ended in the month (the denominator of the mean duration).
    pub ended_spells: u64,
    /// Mean days from posting to end of the spells that ended in the month.
    pub mean_duration_days: Option<f64>,
    pub seekers: Option<u64>,
    /// Seekers over stock; `None` when the stock is 0 or the seekers are not known.
    pub seekers_per_vacancy: Option<f64>,
    /// Stock over seekers (V/U); `None` when the seekers are not known or 0.
    pub tightness: Option<f64>,
}

impl DemandTable {
    /// ISCO-08 digits of the occupation codes.
    pub fn level(&self) -> usize {
        self.level
    }

    pub fn months(&self) -> &[Month] {
        &self.months
    }

    /// All 20 regions, in [`Region::ALL`] order.
    pub fn regions(&self) -> &'static [Region] {
        &Region::ALL
    }

    /// The occupation codes in order, and [`TOTAL`] last.
    pub fn occupations(&self) -> &[String] {
        &self.occupations
    }

    /// Every cell: region, then occupation (the total last), then month.
    pub fn cells(&self) -> impl Iterator<Item = Cell<'_>> + '_ {
        let months = self.months.len();
        let occupations = self.occupations.len();
        (0..Region::ALL.len() * occupations * months).map(move |at| {
            let series = at / months;
            self.cell_at(Region::ALL[series / occupations], series % occupations, at % months)
        })
    }

    /// The cell of a region (its ISO code `KZ-75`, or `75`), an occupation code at the table's level
    /// (or `_T`) and a month.
    pub fn get(&self, region_code: &str, occupation: &str, month: Month) -> Option<Cell<'_>> {
        self.cell(Region::from_code(region_code).ok()?, occupation, month)
    }

    pub fn cell(&self, region: Region, occupation: &str, month: Month) -> Option<Cell<'_>> {
        let column = self.column(occupation)?;
        let m = usize::try_from(self.months.first()?.months_until(month)).ok().filter(|&m| m < self.months.len())?;
        Some(self.cell_at(region, column, m))
    }

    /// Openings open at the end of the month before the window.
    pub fn stock_before(&self, region: Region, occupation: &str) -> Option<u64> {
        Some(self.stock_before[self.series(region, self.column(occupation)?)])
    }

    fn column(&self, occupation: &str) -> Option<usize> {
        let codes = &self.occupations[..self.occupations.len() - 1];
        if occupation == TOTAL {
            Some(codes.len())
        } else {
            codes.binary_search_by(|c| c.as_str().cmp(occupation)).ok()
        }
    }

    fn series(&self, region: Region, column: usize) -> usize {
        region as usize * self.occupations.len() + column
    }

    fn cell_at(&self, region: Region, column: usize, m: usize) -> Cell<'_> {
        let at = self.series(region, column) * self.months.len() + m;
        let tally = &self.tallies[at];
        let (stock, ended_spells, seekers) = (tally.stock, tally.ended_spells, self.seekers[at]);
        Cell {
            region,
            occupation: &self.occupations[column],
            month: self.months[m],
            stock,
            inflow: tally.inflow,
            outflow: tally.outflow,
            hires: tally.hires,
            ended_spells,
            mean_duration_days: (ended_spells > 0).then(|| tally.duration_days as f64 / ended_spells as f64),
            seekers,
            seekers_per_vacancy: seekers.filter(|_| stock > 0).map(|u| u as f64 / stock as f64),
            tightness: seekers.filter(|&u| u > 0).map(|u| stock as f64 / u as f64),
        }
    }
}

impl Serialize for DemandTable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.cells())
    }
}

/// The number a string of ASCII digits spells.
fn digits_value(digits: &[u8]) -> usize {
    digits.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0'))
}

/// A seekers row once checked: where it counts and at how many digits.
struct SeekerRow {
    index: usize,
    region: usize,
    month: usize,
    /// 0 for all occupations.
    digits: usize,
    /// The code's value at the table's level, when it has at least that many digits.
    column_code: Option<usize>,
    seekers: u64,
}

/// One month's flows of one region and ISCO-08 unit group, summed over the spells: what a
/// vacancy database keeps up to date as vacancies are written, so that the indicators of any window
/// follow from a few hundred thousand monthly sums instead of every vacancy ever posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MonthFlows {
    pub region: Region,
    pub occupation: IscoCode,
    pub month: Month,
    /// Openings posted in the month.
    pub inflow: u64,
    /// Openings whose spell ended in the month.
    pub outflow: u64,
    /// The part of the outflow that was a hire.
    pub hires: u64,
    /// Spells (not openings) that ended in the month.
    pub ended_spells: u64,
    /// The sum of their durations in days (end − posted).
    pub duration_days: u64,
}

/// What one spell adds to the months of its region and unit group: its inflow in the month it was
/// posted, and its outflow, hire, end and duration in the month it ended. `None` for a spell that
/// ends before it was posted, which counts nowhere.
pub fn spell_flows(spell: &Spell) -> Option<[Option<MonthFlows>; 2]> {
    if spell.ended.is_some_and(|e| e < spell.posted) {
        return None;
    }
    let openings = u64::from(spell.openings);
    let zero = MonthFlows {
        region: spell.region,
        occupation: spell.occupation,
        month: Month::of(spell.posted),
        inflow: 0,
        outflow: 0,
        hires: 0,
        ended_spells: 0,
        duration_days: 0,
    };
    let posted = MonthFlows { inflow: openings, ..zero };
    let ended = spell.ended.map(|end| MonthFlows {
        month: Month::of(end),
        outflow: openings,
        hires: if spell.filled { openings } else { 0 },
        ended_spells: 1,
        duration_days: (end.days() - spell.posted.days()) as u64,
        ..zero
    });
    Some([Some(posted), ended])
}

/// The spells summed by region, unit group and month (in that order); spells that end before
/// they were posted are listed in [`Checked::skipped`].
pub fn month_flows(spells: &[Spell]) -> Checked<Vec<MonthFlows>> {
    let mut sums: HashMap<(Region, IscoCode, Month), MonthFlows> = HashMap::new();
    let mut skipped = Vec::new();
    for (index, spell) in spells.iter().enumerate() {
        let Some(parts) = spell_flows(spell) else {
            if let Some(ended) = spell.ended {
                skipped.push(Skipped {
                    input: Input::Spell,
                    index,
                    reason: SkipReason::EndedBeforePosted { posted: spell.posted, ended },
                });
            }
            continue;
        };
        for part in parts.into_iter().flatten() {
            sums.entry((part.region, part.occupation, part.month))
                .and_modify(|sum| {
                    sum.inflow += part.inflow;
                    sum.outflow += part.outflow;
                    sum.hires += part.hires;
                    sum.ended_spells += part.ended_spells;
                    sum.duration_days += part.duration_days;
                })
                .or_insert(part);
        }
    }
    let mut value: Vec<MonthFlows> = sums.into_values().collect();
    value.sort_by_key(|f| (f.region, f.occupation, f.month));
    Checked { value, skipped }
}

/// The demand indicators of a window (see the module's definitions) from vacancy spells. Spells
/// that end before they were posted, and seekers rows that cannot be placed or are not used, are
/// listed in [`Checked::skipped`]; spells wholly outside the window count in no month.
pub fn indicators(
    spells: &[Spell],
    seekers: &[SeekerCount],
    config: &DemandConfig,
) -> Result<Checked<DemandTable>, DemandError> {
    let flows = month_flows(spells);
    let mut table = indicators_from_flows(&flows.value, seekers, config)?;
    table.skipped.extend(flows.skipped);
    table.skipped.sort_by_key(|s| (s.input as u8, s.index));
    Ok(table)
}

/// The demand indicators of a window from monthly flows ([`month_flows`], or a database's running
/// sums of them). The flows of months before the window give its opening stock; those after it
/// are not read. The occupation axis holds every unit group (cut to the level) with flows up to the
/// window's end or with seekers.
///
/// The flows are read twice (once for the occupations present, once to count), each adding to one
/// dense array of cells; the stock follows from the flows by a running sum. Flows that would make
/// a stock negative (more openings ended than were ever posted) are an error, not a clamp.
pub fn indicators_from_flows(
    flows: &[MonthFlows],
    seekers: &[SeekerCount],
    config: &DemandConfig,
) -> Result<Checked<DemandTable>, DemandError> {
    let n_months = config.months()?;
    let level = config.level;
    let from = config.from.ordinal();
    let to = config.to.ordinal();
    let mut skipped = Vec::new();

    // Which codes occur, so that the occupation axis holds them and nothing else.
    let mut present = vec![false; 10usize.pow(level as u32)];
    let code_of = |f: &MonthFlows| digits_value(&f.occupation.as_str().as_bytes()[..level]);
    for f in flows.iter().filter(|f| f.month.ordinal() <= to) {
        present[code_of(f)] = true;
    }
    let seeker_rows = check_seekers(seekers, config, n_months, &mut skipped);
    for row in &seeker_rows {
        if let Some(code) = row.column_code {
            present[code] = true;
        }
    }

    let mut column_of = vec![usize::MAX; present.len()];
    let mut occupations = Vec::new();
    for (code, _) in present.iter().enumerate().filter(|(_, p)| **p) {
        column_of[code] = occupations.len();
        occupations.push(format!("{code:0level$}"));
    }
    let total_column = occupations.len();
    occupations.push(TOTAL.to_string());
    let n_columns = occupations.len();
    let n_series = Region::ALL.len() * n_columns;
    let n_cells = n_series * n_months;

    // Openings posted before the window less those ended before it, per series.
    let mut net_before = vec![0i128; n_series];
    let mut tallies = vec![Tally::default(); n_cells];
    for f in flows {
        let m = f.month.ordinal();
        if m > to {
            continue;
        }
        let series = f.region as usize * n_columns + column_of[code_of(f)];
        if m < from {
            net_before[series] += i128::from(f.inflow) - i128::from(f.outflow);
            continue;
        }
        let tally = &mut tallies[series * n_months + (m - from) as usize];
        tally.inflow += f.inflow;
        tally.outflow += f.outflow;
        tally.hires += f.hires;
        tally.ended_spells += f.ended_spells;
        tally.duration_days += f.duration_days;
    }

    // Every opening in the stock at a month's end was in it a month before or came in during the month.
    let mut stock_before = vec![0u64; n_series];
    for (series, (cells, &net)) in tallies.chunks_mut(n_months).zip(&net_before).enumerate() {
        let negative = || DemandError::NegativeStock { series: series_name(&occupations, series) };
        stock_before[series] = u64::try_from(net).map_err(|_| negative())?;
        let mut open = i128::from(stock_before[series]);
        for tally in cells {
            open += i128::from(tally.inflow) - i128::from(tally.outflow);
            tally.stock = u64::try_from(open).map_err(|_| negative())?;
        }
    }

    // Region totals: the sum of the region's occupations, cell by cell.
    for region in 0..Region::ALL.len() {
        let first = region * n_columns;
        let total_series = first + total_column;
        stock_before[total_series] = stock_before[first..total_series].iter().sum();
        let (occupations, total) =
            tallies[first * n_months..(total_series + 1) * n_months].split_at_mut(total_column * n_months);
        for series in occupations.chunks(n_months) {
            for (sum, part) in total.iter_mut().zip(series) {
                *sum += part;
            }
        }
    }

    let seekers = place_seekers(&seeker_rows, level, &column_of, n_columns, n_months, &mut skipped);
    skipped.sort_by_key(|s| (s.input as u8, s.index));
    let table = DemandTable {
        level,
        months: (0..n_months as i32).filter_map(|m| config.from.add_months(m)).collect(),
        occupations,
        stock_before,
        tallies,
        seekers,
    };
    Ok(Checked { value: table, skipped })
}

/// `region/occupation` of a series, for an error message.
fn series_name(occupations: &[String], series: usize) -> String {
    let region = Region::ALL[series / occupations.len()];
    format!("{}/{}", region.as_str(), occupations[series % occupations.len()])
}

/// The seekers rows that can be placed in the window; the others go to `skipped`.
fn check_seekers(
    seekers: &[SeekerCount],
    config: &DemandConfig,
    n_months: usize,
    skipped: &mut Vec<Skipped>,
) -> Vec<SeekerRow> {
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for (index, row) in seekers.iter().enumerate() {
        let mut skip = |reason| skipped.push(Skipped { input: Input::Seekers, index, reason });
        let code = row.occupation.as_deref().map(str::as_bytes);
        if let Some(code) = code
            && !((1..=4).contains(&code.len()) && code.iter().all(u8::is_ascii_digit))
        {
            skip(SkipReason::BadOccupation { code: crate::vacancy::clip(row.occupation.as_deref().unwrap_or(""), 40) });
            continue;
        }
        let month = config.from.months_until(row.month);
        if month < 0 || month as usize >= n_months {
            skip(SkipReason::OutsideWindow { month: row.month });
            continue;
        }
        if !seen.insert((row.region, row.occupation.as_deref(), row.month)) {
            skip(SkipReason::Duplicate);
            continue;
        }
        let digits = code.map_or(0, <[u8]>::len);
        rows.push(SeekerRow {
            index,
            region: row.region as usize,
            month: month as usize,
            digits,
            column_code: code.filter(|c| c.len() >= config.level).map(|c| digits_value(&c[..config.level])),
            seekers: row.seekers,
        });
    }
    rows
}

/// The seekers of every cell: the rows at the coarsest level given that is not coarser than the
/// cell's own (the region total's own level being 0).
fn place_seekers(
    rows: &[SeekerRow],
    level: usize,
    column_of: &[usize],
    n_columns: usize,
    n_months: usize,
    skipped: &mut Vec<Skipped>,
) -> Vec<Option<u64>> {
    // Sums per cell and number of digits (0 to 4).
    let mut by_cell: HashMap<usize, [Option<u64>; 5]> = HashMap::new();
    let total_cell = |row: &SeekerRow| (row.region * n_columns + n_columns - 1) * n_months + row.month;
    let occupation_cell =
        |row: &SeekerRow| row.column_code.map(|code| (row.region * n_columns + column_of[code]) * n_months + row.month);
    for row in rows {
        for cell in [Some(total_cell(row)), occupation_cell(row)].into_iter().flatten() {
            let sum = &mut by_cell.entry(cell).or_default()[row.digits];
            *sum = Some(sum.unwrap_or(0) + row.seekers);
        }
    }
    let chosen = |cell: usize| by_cell[&cell].iter().position(Option::is_some).unwrap_or(0);
    for row in rows {
        let total_digits = chosen(total_cell(row));
        let occupation_digits = occupation_cell(row).map(chosen);
        if total_digits != row.digits && occupation_digits != Some(row.digits) {
            let used_digits =
                if row.digits >= level { occupation_digits.unwrap_or(total_digits) } else { total_digits };
            skipped.push(Skipped {
                input: Input::Seekers,
                index: row.index,
                reason: SkipReason::Superseded { digits: row.digits, used_digits },
            });
        }
    }
    let mut seekers = vec![None; Region::ALL.len() * n_columns * n_months];
    for (&cell, sums) in &by_cell {
        seekers[cell] = sums.iter().find_map(|s| *s);
    }
    seekers
}

// ---------------------------------------------------------------------------------------------
// Beveridge view
// ---------------------------------------------------------------------------------------------

/// A region's labour force and unemployed in a month (from the labour force survey).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LabourForce {
    pub region: Region,
    pub month: Month,
    pub labour_force: f64,
    pub unemployed: f64,
}

/// One point of a region's Beveridge curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BeveridgePoint {
    pub region: Region,
    pub month: Month,
    /// The region's stock of openings at the month's end (all occupations).
    pub vacancies: u64,
    pub labour_force: f64,
    pub unemployed: f64,
    /// `V / (V + LF − U)`: vacancies over vacancies plus employment.
    pub vacancy_rate: f64,
    /// `U / LF`.
    pub unemployment_rate: f64,
}

/// The Beveridge points of the regions and months that have both a table cell and a labour-force
/// row. Rows outside the table's window, duplicated, or with a labour force that is not positive or
/// unemployed that are negative or not below the labour force are skipped and listed.
pub fn beveridge(table: &DemandTable, labour: &[LabourForce]) -> Checked<Vec<BeveridgePoint>> {
    let mut points = Vec::new();
    let mut skipped = Vec::new();
    let mut seen = HashSet::new();
    for (index, row) in labour.iter().enumerate() {
        let mut skip = |reason| skipped.push(Skipped { input: Input::LabourForce, index, reason });
        if !(row.labour_force.is_finite() && row.labour_force > 0.0) {
            skip(SkipReason::BadNumber { field: "labour_force", value: row.labour_force });
            continue;
        }
        if !(row.unemployed.is_finite() && row.unemployed >= 0.0 && row.unemployed < row.labour_force) {
            skip(SkipReason::BadNumber { field: "unemployed", value: row.unemployed });
            continue;
        }
        let Some(cell) = table.cell(row.region, TOTAL, row.month) else {
            skip(SkipReason::OutsideWindow { month: row.month });
            continue;
        };
        if !seen.insert((row.region, row.month)) {
            skip(SkipReason::Duplicate);
            continue;
        }
        let vacancies = cell.stock as f64;
        let employed = row.labour_force - row.unemployed;
        points.push(BeveridgePoint {
            region: row.region,
            month: row.month,
            vacancies: cell.stock,
            labour_force: row.labour_force,
            unemployed: row.unemployed,
            vacancy_rate: vacancies / (vacancies + employed),
            unemployment_rate: row.unemployed / row.labour_force,
        });
    }
    points.sort_by_key(|p| (p.region, p.month));
    Checked { value: points, skipped }
}

// ---------------------------------------------------------------------------------------------
// Matching function
// ---------------------------------------------------------------------------------------------

/// Hires, vacancies and unemployed of one market (a region, an occupation, or both) in one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchingObservation {
    pub market: String,
    pub period: Month,
    pub hires: f64,
    pub vacancies: f64,
    pub unemployed: f64,
}

/// The fitted matching function `ln(h/u) = μ_i + δ_t + α ln(v/u) + ε`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchingFit {
    /// The elasticity of hires with respect to vacancies.
    pub alpha: f64,
    /// Standard error of α robust to heteroskedasticity and to correlation within a market
    /// (clustered by market, with the small-sample factor `G/(G−1) · (N−1)/(N−K)`, `K` = 1 + the
    /// period effects; the market effects are nested in the clusters). `None` with too few
    /// clusters or degrees of freedom.
    pub std_error_clustered: Option<f64>,
    /// Conventional standard error under homoskedastic independent errors, for comparison.
    pub std_error_iid: Option<f64>,
    /// Observations used.
    pub observations: usize,
    /// Observations left out because hires, vacancies or unemployed were ≤ 0 (their logarithm does
    /// not exist), and their positions.
    pub dropped_nonpositive: usize,
    pub dropped: Vec<usize>,
    pub periods: usize,
    /// Sets of markets linked through shared periods; efficiencies compare only within one.
    pub components: usize,
    /// R² of α·ln(v/u) on ln(h/u) once both sets of effects are removed (1 if nothing is left).
    pub r_squared_within: f64,
    /// Every market's efficiency, by market name.
    pub efficiencies: Vec<MarketEfficiency>,
}

/// A market's matching efficiency `φ_i = exp(μ_i)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarketEfficiency {
    pub market: String,
    /// Normalised so that the efficiencies of the markets of one component average 1.
    pub efficiency: f64,
    pub observations: usize,
    pub component: usize,
}

impl MatchingFit {
    pub fn efficiency(&self, market: &str) -> Option<&MarketEfficiency> {
        self.efficiencies.binary_search_by(|e| e.market.as_str().cmp(market)).ok().map(|i| &self.efficiencies[i])
    }
}

/// The observations as indices of markets and periods, for the fixed-effects algebra.
struct Panel {
    market: Vec<u32>,
    period: Vec<u32>,
    market_size: Vec<f64>,
    period_size: Vec<f64>,
}

impl Panel {
    fn subtract_market_means(&self, w: &mut [f64]) {
        let mut means = vec![0.0; self.market_size.len()];
        for (value, &i) in w.iter().zip(&self.market) {
            means[i as usize] += value;
        }
        for (mean, size) in means.iter_mut().zip(&self.market_size) {
            *mean /= size;
        }
        for (value, &i) in w.iter_mut().zip(&self.market) {
            *value -= means[i as usize];
        }
    }

    fn sum_by_period(&self, w: &[f64]) -> Vec<f64> {
        let mut sums = vec![0.0; self.period_size.len()];
        for (value, &t) in w.iter().zip(&self.period) {
            sums[t as usize] += value;
        }
        sums
    }

    /// `D_t' M_i D_t δ`: the period effects' normal matrix once the market effects are
    /// concentrated out, applied without forming it.
    fn apply(&self, delta: &[f64], scratch: &mut [f64]) -> Vec<f64> {
        for (value, &t) in scratch.iter_mut().zip(&self.period) {
            *value = delta[t as usize];
        }
        self.subtract_market_means(scratch);
        self.sum_by_period(scratch)
    }

    /// The period effects δ of the two-way fixed-effects projection of `w`, by conjugate gradients
    /// (preconditioned by the period sizes) on the concentrated normal equations. The system is
    /// singular (a constant moves between μ and δ) but consistent, which conjugate gradients
    /// handle; the projection it gives is unique.
    fn period_effects(&self, w: &[f64]) -> Result<Vec<f64>, DemandError> {
        const TOLERANCE: f64 = 1e-13;
        let n = self.period_size.len();
        let mut scratch = w.to_vec();
        self.subtract_market_means(&mut scratch);
        let rhs = self.sum_by_period(&scratch);
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let rhs_norm = dot(&rhs, &rhs).sqrt();
        let mut delta = vec![0.0; n];
        if rhs_norm == 0.0 {
            return Ok(delta);
        }
        let mut residual = rhs.clone();
        let precondition = |r: &[f64]| r.iter().zip(&self.period_size).map(|(r, s)| r / s).collect::<Vec<_>>();
        let mut z = precondition(&residual);
        let mut direction = z.clone();
        let mut rz = dot(&residual, &z);
        let max_iterations = 20 * n + 1000;
        let mut iterations = 0;
        while dot(&residual, &residual).sqrt() > TOLERANCE * rhs_norm && iterations < max_iterations {
            let applied = self.apply(&direction, &mut scratch);
            let curvature = dot(&direction, &applied);
            if curvature <= 0.0 {
                break;
            }
            let step = rz / curvature;
            for k in 0..n {
                delta[k] += step * direction[k];
                residual[k] -= step * applied[k];
            }
            z = precondition(&residual);
            let rz_next = dot(&residual, &z);
            let beta = rz_next / rz;
            rz = rz_next;
            for k in 0..n {
                direction[k] = z[k] + beta * direction[k];
            }
            iterations += 1;
        }
        // The recurrence drifts from the true residual; judge by the true one.
        let applied = self.apply(&delta, &mut scratch);
        let true_residual = rhs.iter().zip(&applied).map(|(b, a)| (b - a) * (b - a)).sum::<f64>().sqrt() / rhs_norm;
        if true_residual > 1e-9 {
            return Err(DemandError::NotConverged { iterations, residual: true_residual });
        }
        Ok(delta)
    }

    /// `w` less its two-way fixed-effects fit, given the period effects.
    fn residual(&self, w: &[f64], delta: &[f64]) -> Vec<f64> {
        let mut out: Vec<f64> = w.iter().zip(&self.period).map(|(value, &t)| value - delta[t as usize]).collect();
        self.subtract_market_means(&mut out);
        out
    }
}

/// Labels markets and periods linked by observations with the same component number, numbered in
/// the order of the markets.
fn components(panel: &Panel) -> (Vec<usize>, usize) {
    let n_markets = panel.market_size.len();
    let mut parent: Vec<usize> = (0..n_markets + panel.period_size.len()).collect();
    fn root(parent: &mut [usize], mut node: usize) -> usize {
        while parent[node] != node {
            parent[node] = parent[parent[node]];
            node = parent[node];
        }
        node
    }
    for (&i, &t) in panel.market.iter().zip(&panel.period) {
        let (a, b) = (root(&mut parent, i as usize), root(&mut parent, n_markets + t as usize));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut label = HashMap::new();
    let of_market: Vec<usize> = (0..n_markets)
        .map(|i| {
            let r = root(&mut parent, i);
            let next = label.len();
            *label.entry(r).or_insert(next)
        })
        .collect();
    (of_market, label.len())
}

/// Estimates the matching function `ln(h/u) = μ_i + δ_t + α ln(v/u) + ε` by OLS with market and
/// period fixed effects (see [`MatchingFit`] for what is reported). The effects are removed
/// exactly (Frisch–Waugh–Lovell: α is the slope between the residuals of `ln(h/u)` and `ln(v/u)`
/// from the two-way projection), whatever the balance of the panel.
pub fn estimate_matching(observations: &[MatchingObservation]) -> Result<MatchingFit, DemandError> {
    let mut dropped = Vec::new();
    let mut used = Vec::with_capacity(observations.len());
    for (index, o) in observations.iter().enumerate() {
        for (field, value) in [("hires", o.hires), ("vacancies", o.vacancies), ("unemployed", o.unemployed)] {
            if !value.is_finite() {
                return Err(DemandError::NonFinite { index, field });
            }
        }
        if o.hires > 0.0 && o.vacancies > 0.0 && o.unemployed > 0.0 {
            used.push(o);
        } else {
            dropped.push(index);
        }
    }

    // Markets numbered as first met (one hash per observation), then renumbered by name.
    let mut first_met: HashMap<&str, u32> = HashMap::new();
    let mut market: Vec<u32> = used
        .iter()
        .map(|o| {
            let next = first_met.len() as u32;
            *first_met.entry(o.market.as_str()).or_insert(next)
        })
        .collect();
    let mut names: Vec<&str> = first_met.keys().copied().collect();
    names.sort_unstable();
    let mut by_name = vec![0u32; names.len()];
    for (rank, name) in names.iter().enumerate() {
        by_name[first_met[name] as usize] = rank as u32;
    }
    for i in &mut market {
        *i = by_name[*i as usize];
    }
    let months: BTreeSet<Month> = used.iter().map(|o| o.period).collect();
    if names.len() < 2 {
        return Err(DemandError::TooFewMarkets(names.len()));
    }
    if months.len() < 2 {
        return Err(DemandError::TooFewPeriods(months.len()));
    }
    let first = months.first().map_or(0, |m| m.ordinal());
    let mut period_of = vec![u32::MAX; (months.last().map_or(0, |m| m.ordinal()) - first + 1) as usize];
    for (t, m) in months.iter().enumerate() {
        period_of[(m.ordinal() - first) as usize] = t as u32;
    }

    let mut panel = Panel {
        market,
        period: used.iter().map(|o| period_of[(o.period.ordinal() - first) as usize]).collect(),
        market_size: vec![0.0; names.len()],
        period_size: vec![0.0; months.len()],
    };
    for (&i, &t) in panel.market.iter().zip(&panel.period) {
        panel.market_size[i as usize] += 1.0;
        panel.period_size[t as usize] += 1.0;
    }
    let x: Vec<f64> = used.iter().map(|o| (o.vacancies / o.unemployed).ln()).collect();
    let y: Vec<f64> = used.iter().map(|o| (o.hires / o.unemployed).ln()).collect();

    let delta_x = panel.period_effects(&x)?;
    let delta_y = panel.period_effects(&y)?;
    let x_within = panel.residual(&x, &delta_x);
    let y_within = panel.residual(&y, &delta_y);
    let sxx: f64 = x_within.iter().map(|v| v * v).sum();
    let x_mean = x.iter().sum::<f64>() / x.len() as f64;
    let x_spread: f64 = x.iter().map(|v| (v - x_mean) * (v - x_mean)).sum();
    // What is left of ln(v/u) must be more than the rounding of the projection.
    if !(sxx > 1e-20 * x.len() as f64 && sxx > 1e-14 * x_spread) {
        return Err(DemandError::NoVariation);
    }
    let alpha = x_within.iter().zip(&y_within).map(|(a, b)| a * b).sum::<f64>() / sxx;
    let errors: Vec<f64> = y_within.iter().zip(&x_within).map(|(y, x)| y - alpha * x).collect();
    let sse: f64 = errors.iter().map(|e| e * e).sum();
    let syy: f64 = y_within.iter().map(|v| v * v).sum();

    let (component_of, n_components) = components(&panel);
    let n = used.len() as f64;
    let (n_markets, n_periods) = (names.len() as f64, months.len() as f64);
    let all_parameters = 1.0 + n_markets + n_periods - n_components as f64;
    let std_error_iid = (n > all_parameters).then(|| (sse / (n - all_parameters) / sxx).sqrt());
    let mut score = vec![0.0; names.len()];
    for ((x, e), &i) in x_within.iter().zip(&errors).zip(&panel.market) {
        score[i as usize] += x * e;
    }
    let meat: f64 = score.iter().map(|s| s * s).sum();
    let outside_clusters = 1.0 + n_periods - n_components as f64;
    let std_error_clustered = (n > outside_clusters).then(|| {
        let correction = n_markets / (n_markets - 1.0) * (n - 1.0) / (n - outside_clusters);
        (correction * meat).sqrt() / sxx
    });

    // μ_i from z = ln(h/u) − α ln(v/u), whose period effects are δ_y − α δ_x by linearity.
    let mut mu = vec![0.0; names.len()];
    for ((&i, &t), (x, y)) in panel.market.iter().zip(&panel.period).zip(x.iter().zip(&y)) {
        let t = t as usize;
        mu[i as usize] += y - alpha * x - (delta_y[t] - alpha * delta_x[t]);
    }
    for (m, size) in mu.iter_mut().zip(&panel.market_size) {
        *m /= size;
    }
    let mut efficiency = vec![0.0; names.len()];
    for component in 0..n_components {
        let members: Vec<usize> = (0..names.len()).filter(|&i| component_of[i] == component).collect();
        let top = members.iter().map(|&i| mu[i]).fold(f64::NEG_INFINITY, f64::max);
        let mean = members.iter().map(|&i| (mu[i] - top).exp()).sum::<f64>() / members.len() as f64;
        for &i in &members {
            efficiency[i] = (mu[i] - top).exp() / mean;
        }
    }
    let efficiencies = names
        .iter()
        .enumerate()
        .map(|(i, name)| MarketEfficiency {
            market: name.to_string(),
            efficiency: efficiency[i],
            observations: panel.market_size[i] as usize,
            component: component_of[i],
        })
        .collect();

    Ok(MatchingFit {
        alpha,
        std_error_clustered,
        std_error_iid,
        observations: used.len(),
        dropped_nonpositive: dropped.len(),
        dropped,
        periods: months.len(),
        components: n_components,
        r_squared_within: if syy > 0.0 { 1.0 - sse / syy } else { 1.0 },
        efficiencies,
    })
}

// ---------------------------------------------------------------------------------------------
// Mismatch index
// ---------------------------------------------------------------------------------------------

/// The mismatch of one period's allocation of the unemployed across markets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    pub alpha: f64,
    /// `M = 1 − h/h*`: the fraction of hires lost because the unemployed are not where the planner
    /// would put them (0 = none lost).
    pub index: f64,
    /// The efficiency of the planner's allocation, `φ̄ = [Σ φ_i^(1/α) v_i/v]^α`, on the scale of the
    /// markets' efficiencies.
    pub efficiency_mean: f64,
    pub vacancies: f64,
    pub unemployed: f64,
    /// Unemployed who would have to change market to reach the planner's allocation:
    /// `Σ max(u_i − u*_i, 0)`.
    pub unemployed_to_move: f64,
    pub markets: Vec<MarketMismatch>,
}

/// One market in a [`Mismatch`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarketMismatch {
    pub market: String,
    pub efficiency: f64,
    pub vacancies: f64,
    pub unemployed: f64,
    pub vacancy_share: f64,
    pub unemployed_share: f64,
    /// The planner's share of the unemployed, `φ_i^(1/α) v_i / Σ φ_j^(1/α) v_j`.
    pub planner_share: f64,
    /// The planner's count, `planner_share × u`.
    pub planner_unemployed: f64,
}

/// The mismatch index of one period, with the efficiencies and α of a fitted matching function.
/// `markets` holds each market's `(name, vacancies, unemployed)`; every market must be in the fit
/// and in one of its components (efficiencies of unlinked components are not comparable).
pub fn mismatch_index<S: AsRef<str>>(fit: &MatchingFit, markets: &[(S, f64, f64)]) -> Result<Mismatch, DemandError> {
    let mut parts = Vec::with_capacity(markets.len());
    let mut component: Option<(usize, &str)> = None;
    for (name, vacancies, unemployed) in markets {
        let name = name.as_ref();
        let fitted = fit.efficiency(name).ok_or_else(|| DemandError::UnknownMarket(name.to_string()))?;
        match component {
            Some((c, first)) if c != fitted.component => {
                return Err(DemandError::NotComparable { first: first.to_string(), second: name.to_string() });
            }
            Some(_) => {}
            None => component = Some((fitted.component, name)),
        }
        parts.push((name, fitted.efficiency, *vacancies, *unemployed));
    }
    mismatch_from_parts(fit.alpha, &parts)
}

/// The mismatch index from α and each market's `(name, efficiency φ_i, vacancies, unemployed)`;
/// the efficiencies' scale does not matter.
pub fn mismatch_from_parts<S: AsRef<str>>(alpha: f64, markets: &[(S, f64, f64, f64)]) -> Result<Mismatch, DemandError> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(DemandError::AlphaOutOfRange(alpha));
    }
    let mut names = HashSet::new();
    for (name, efficiency, vacancies, unemployed) in markets {
        let name = name.as_ref();
        if !names.insert(name) {
            return Err(DemandError::DuplicateMarket(name.to_string()));
        }
        let bad = |field, value| DemandError::BadCount { market: name.to_string(), field, value };
        if !(efficiency.is_finite() && *efficiency > 0.0) {
            return Err(bad("efficiency", *efficiency));
        }
        for (field, value) in [("vacancies", *vacancies), ("unemployed", *unemployed)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(bad(field, value));
            }
        }
    }
    let v: f64 = markets.iter().map(|m| m.2).sum();
    let u: f64 = markets.iter().map(|m| m.3).sum();
    if v <= 0.0 {
        return Err(DemandError::NoTotal("vacancies"));
    }
    if u <= 0.0 {
        return Err(DemandError::NoTotal("unemployed"));
    }
    // φ^(1/α) overflows for small α; scale by the largest efficiency and put it back at the end.
    let top = markets.iter().map(|m| m.1.ln()).fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = markets.iter().map(|m| ((m.1.ln() - top) / alpha).exp() * m.2).collect();
    let weight_total: f64 = weights.iter().sum();
    let efficiency_mean = top.exp() * (weight_total / v).powf(alpha);
    let achieved: f64 = markets
        .iter()
        .map(|(_, phi, vi, ui)| phi / efficiency_mean * (vi / v).powf(alpha) * (ui / u).powf(1.0 - alpha))
        .sum();
    let rows: Vec<MarketMismatch> = markets
        .iter()
        .zip(&weights)
        .map(|((name, phi, vi, ui), w)| MarketMismatch {
            market: name.as_ref().to_string(),
            efficiency: *phi,
            vacancies: *vi,
            unemployed: *ui,
            vacancy_share: vi / v,
            unemployed_share: ui / u,
            planner_share: w / weight_total,
            planner_unemployed: w / weight_total * u,
        })
        .collect();
    Ok(Mismatch {
        alpha,
        index: 1.0 - achieved,
        efficiency_mean,
        vacancies: v,
        unemployed: u,
        unemployed_to_move: rows.iter().map(|r| (r.unemployed - r.planner_unemployed).max(0.0)).sum(),
        markets: rows,
    })
}

// ---------------------------------------------------------------------------------------------
// Published inflow series
// ---------------------------------------------------------------------------------------------

/// A published count of newly posted vacancies for a region, occupation and month (any region and
/// occupation names, e.g. another country's series).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountRow {
    pub region: String,
    pub occupation: String,
    pub month: Month,
    pub inflow: f64,
}

/// Inflow by region × occupation × month with each region's total `_T`; serialises as the sequence
/// of its [`InflowCell`]s.
#[derive(Debug, Clone)]
pub struct InflowSeries {
    regions: Vec<String>,
    /// Sorted, then [`TOTAL`].
    occupations: Vec<String>,
    months: Vec<Month>,
    /// Per region × occupation × month, month fastest; `None` where no row was given.
    values: Vec<Option<f64>>,
}

/// The inflow of one region, occupation and month, and how it moved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InflowCell<'a> {
    pub region: &'a str,
    pub occupation: &'a str,
    pub month: Month,
    pub inflow: Option<f64>,
    /// `x_t / x_(t−1) − 1`; `None` without both months or when the earlier is 0.
    pub change_1m: Option<f64>,
    /// `x_t / x_(t−3) − 1`, likewise.
    pub change_3m: Option<f64>,
    /// The inflow over the region's total that month.
    pub share_of_region: Option<f64>,
}

impl InflowSeries {
    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    /// The occupations in order, and [`TOTAL`] last.
    pub fn occupations(&self) -> &[String] {
        &self.occupations
    }

    /// Every month from the first to the last given.
    pub fn months(&self) -> &[Month] {
        &self.months
    }

    pub fn get(&self, region: &str, occupation: &str, month: Month) -> Option<InflowCell<'_>> {
        let r = self.regions.binary_search_by(|x| x.as_str().cmp(region)).ok()?;
        let codes = &self.occupations[..self.occupations.len() - 1];
        let o = if occupation == TOTAL {
            codes.len()
        } else {
            codes.binary_search_by(|x| x.as_str().cmp(occupation)).ok()?
        };
        let m = usize::try_from(self.months.first()?.months_until(month)).ok().filter(|&m| m < self.months.len())?;
        Some(self.cell_at(r, o, m))
    }

    /// Every cell: region, then occupation (the total last), then month.
    pub fn cells(&self) -> impl Iterator<Item = InflowCell<'_>> + '_ {
        let (n_o, n_m) = (self.occupations.len(), self.months.len());
        (0..self.regions.len() * n_o * n_m).map(move |at| self.cell_at(at / (n_o * n_m), at / n_m % n_o, at % n_m))
    }

    fn value(&self, r: usize, o: usize, m: usize) -> Option<f64> {
        self.values[(r * self.occupations.len() + o) * self.months.len() + m]
    }

    fn cell_at(&self, r: usize, o: usize, m: usize) -> InflowCell<'_> {
        let inflow = self.value(r, o, m);
        let change = |lag: usize| {
            let earlier = self.value(r, o, m.checked_sub(lag)?)?;
            (earlier > 0.0).then_some(inflow? / earlier - 1.0)
        };
        let total = self.value(r, self.occupations.len() - 1, m);
        InflowCell {
            region: &self.regions[r],
            occupation: &self.occupations[o],
            month: self.months[m],
            inflow,
            change_1m: change(1),
            change_3m: change(3),
            share_of_region: total.filter(|&t| t > 0.0).and_then(|t| Some(inflow? / t)),
        }
    }
}

impl Serialize for InflowSeries {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.cells())
    }
}

/// The inflow series of published counts, with growth, shares and region totals. A region's total
/// in a month is the sum over the occupations the region has rows for, and `None` if any of them
/// lacks that month. Rows with an empty name, the reserved occupation `_T`, an inflow that is
/// negative or not finite, or a repeated region × occupation × month are skipped and listed.
pub fn inflow_indicators(rows: &[CountRow]) -> Result<Checked<InflowSeries>, DemandError> {
    let mut skipped = Vec::new();
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let mut skip = |reason| skipped.push(Skipped { input: Input::CountRow, index, reason });
        if row.region.is_empty() {
            skip(SkipReason::EmptyName { field: "region" });
        } else if row.occupation.is_empty() {
            skip(SkipReason::EmptyName { field: "occupation" });
        } else if row.occupation == TOTAL {
            skip(SkipReason::BadOccupation { code: row.occupation.clone() });
        } else if !(row.inflow.is_finite() && row.inflow >= 0.0) {
            skip(SkipReason::BadNumber { field: "inflow", value: row.inflow });
        } else if !seen.insert((row.region.as_str(), row.occupation.as_str(), row.month)) {
            skip(SkipReason::Duplicate);
        } else {
            kept.push(row);
        }
    }
    let regions: Vec<String> =
        kept.iter().map(|r| r.region.as_str()).collect::<BTreeSet<_>>().into_iter().map(String::from).collect();
    let mut occupations: Vec<String> =
        kept.iter().map(|r| r.occupation.as_str()).collect::<BTreeSet<_>>().into_iter().map(String::from).collect();
    occupations.push(TOTAL.to_string());
    let months: Vec<Month> = match (kept.iter().map(|r| r.month).min(), kept.iter().map(|r| r.month).max()) {
        (Some(first), Some(last)) => {
            let span = first.months_until(last) as usize + 1;
            if span > MAX_MONTHS {
                return Err(DemandError::TooManyMonths { months: span, max: MAX_MONTHS });
            }
            (0..span as i32).filter_map(|m| first.add_months(m)).collect()
        }
        _ => Vec::new(),
    };
    let region_index: HashMap<&str, usize> = regions.iter().enumerate().map(|(i, r)| (r.as_str(), i)).collect();
    let occupation_index: HashMap<&str, usize> = occupations.iter().enumerate().map(|(i, o)| (o.as_str(), i)).collect();
    let (n_o, n_m) = (occupations.len(), months.len());
    let mut values = vec![None; regions.len() * n_o * n_m];
    let mut reported = vec![false; regions.len() * n_o];
    for row in &kept {
        let series = region_index[row.region.as_str()] * n_o + occupation_index[row.occupation.as_str()];
        values[series * n_m + months[0].months_until(row.month) as usize] = Some(row.inflow);
        reported[series] = true;
    }
    for r in 0..regions.len() {
        for m in 0..n_m {
            values[((r + 1) * n_o - 1) * n_m + m] = (0..n_o - 1)
                .filter(|&o| reported[r * n_o + o])
                .map(|o| values[(r * n_o + o) * n_m + m])
                .sum::<Option<f64>>();
        }
    }
    Ok(Checked { value: InflowSeries { regions, occupations, months, values }, skipped })
}
