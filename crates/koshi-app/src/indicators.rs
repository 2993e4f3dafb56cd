//! Indicators as derived figures with their lineage: net and gross migration, migration
//! effectiveness, net and gross rates per 1,000 of the mean population, change on the previous
//! period, trade turnover and balance — computed from the bank's harmonised figures when asked
//! (so a new release of an input is in the next answer), by every dimension the inputs have,
//! each value with its formula and the input figures (source, release) it was computed from.

use std::collections::BTreeMap;

use koshi_core::Labels;
use koshi_core::indicators;
use koshi_store::{Bank, HarmonisedRow, QueryText};
use serde::{Deserialize, Serialize};

use crate::bank::harmonised_values;
use crate::error::{AppError, Result};
use crate::{App, PageRequest};

/// How an indicator is computed from a dataflow's measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Formula {
    /// `a − b`
    Difference(&'static str, &'static str),
    /// `a + b`
    Sum(&'static str, &'static str),
    /// `100 × (a − b) / (a + b)`
    Effectiveness(&'static str, &'static str),
    /// `1000 × (a − b) / mean population`
    NetRate(&'static str, &'static str),
    /// `1000 × (a + b) / mean population`
    GrossRate(&'static str, &'static str),
    /// `100 × (x_t − x_{t−1}) / |x_{t−1}|` for one measure
    Growth(&'static str),
}

/// An indicator koshi computes.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorInfo {
    pub id: &'static str,
    pub name: Labels,
    /// The formula in words.
    pub formula: &'static str,
    /// The dataflows it applies to (those with the measures it needs).
    pub dataflows: Vec<String>,
    pub unit: &'static str,
    #[serde(skip)]
    rule: Formula,
}

pub(crate) fn labels(en: &str, ru: &str, kk: &str) -> Labels {
    Labels { en: en.into(), ru: ru.into(), kk: kk.into() }
}

fn defined() -> Vec<IndicatorInfo> {
    let info = |id, name, formula, unit, rule| IndicatorInfo { id, name, formula, dataflows: Vec::new(), unit, rule };
    vec![
        info(
            "NET",
            labels("Net migration", "Сальдо миграции", "Көші-қон сальдосы"),
            "arrivals − departures",
            "PERS",
            Formula::Difference("ARR", "DEP"),
        ),
        info(
            "GROSS",
            labels("Gross migration (turnover)", "Миграционный оборот", "Көші-қон айналымы"),
            "arrivals + departures",
            "PERS",
            Formula::Sum("ARR", "DEP"),
        ),
        info(
            "EFFECTIVENESS",
            labels("Migration effectiveness", "Результативность миграции", "Көші-қон нәтижелілігі"),
            "100 × (arrivals − departures) / (arrivals + departures)",
            "PCT",
            Formula::Effectiveness("ARR", "DEP"),
        ),
        info(
            "NET_RATE",
            labels(
                "Net migration rate per 1,000",
                "Коэффициент миграционного прироста на 1000 человек",
                "1000 адамға шаққандағы көші-қон өсімінің коэффициенті",
            ),
            "1000 × (arrivals − departures) / mean population of the year",
            "PER_1000",
            Formula::NetRate("ARR", "DEP"),
        ),
        info(
            "GROSS_RATE",
            labels(
                "Migration intensity per 1,000",
                "Интенсивность миграции на 1000 человек",
                "1000 адамға шаққандағы көші-қон қарқындылығы",
            ),
            "1000 × (arrivals + departures) / mean population of the year",
            "PER_1000",
            Formula::GrossRate("ARR", "DEP"),
        ),
        info(
            "DEP_GROWTH",
            labels(
                "Departures, change on the previous period",
                "Выбытие, изменение к предыдущему периоду",
                "Кету, алдыңғы кезеңге өзгеріс",
            ),
            "100 × (departures − departures of the previous period) / departures of the previous period",
            "PCT",
            Formula::Growth("DEP"),
        ),
        info(
            "ARR_GROWTH",
            labels(
                "Arrivals, change on the previous period",
                "Прибытие, изменение к предыдущему периоду",
                "Келу, алдыңғы кезеңге өзгеріс",
            ),
            "100 × (arrivals − arrivals of the previous period) / arrivals of the previous period",
            "PCT",
            Formula::Growth("ARR"),
        ),
        info(
            "TRADE_TURNOVER",
            labels("Trade turnover", "Товарооборот", "Тауар айналымы"),
            "exports + imports",
            "USD",
            Formula::Sum("EXP", "IMP"),
        ),
        info(
            "TRADE_BALANCE",
            labels("Trade balance", "Сальдо торговли", "Сауда сальдосы"),
            "exports − imports",
            "USD",
            Formula::Difference("EXP", "IMP"),
        ),
    ]
}

impl Formula {
    fn measures(self) -> Vec<&'static str> {
        match self {
            Formula::Difference(a, b)
            | Formula::Sum(a, b)
            | Formula::Effectiveness(a, b)
            | Formula::NetRate(a, b)
            | Formula::GrossRate(a, b) => vec![a, b],
            Formula::Growth(a) => vec![a],
        }
    }
}

/// Compute an indicator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IndicatorRequest {
    pub indicator: String,
    pub dataflow: String,
    /// Key texts narrowing the inputs (`REF_AREA=KZ-75`), the measure dimension left out.
    pub keys: Vec<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub as_of: Option<String>,
    pub page: Option<PageRequest>,
}

/// A figure an indicator value was computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    pub dataflow: String,
    pub key: String,
    pub period: String,
    /// In the unit itself.
    pub value: f64,
    pub source: String,
    pub release: String,
    pub release_date: String,
}

/// One value of an indicator, with its lineage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorValue {
    /// The series key without the measure (dotted, the dataflow's order).
    pub key: String,
    pub period: String,
    pub value: f64,
    pub inputs: Vec<Input>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndicatorReport {
    pub indicator: String,
    pub name: Labels,
    pub formula: String,
    pub unit: String,
    pub dataflow: String,
    /// The dimensions of `key`, in order.
    pub dimensions: Vec<String>,
    pub total: usize,
    pub items: Vec<IndicatorValue>,
    /// What could not be computed, and why.
    pub notes: Vec<String>,
}

fn input(row: &HarmonisedRow) -> Input {
    Input {
        dataflow: row.dataflow.clone(),
        key: row.key.join("."),
        period: row.time_period.clone(),
        value: row.base_value().unwrap_or(f64::NAN),
        source: row.source.clone(),
        release: row.release_label.clone(),
        release_date: row.release_date.clone(),
    }
}

impl App {
    /// The indicators koshi computes, with the dataflows each applies to.
    pub fn indicators(&self) -> Result<Vec<IndicatorInfo>> {
        let catalogue = self.catalogue()?;
        Ok(catalogue_with_dataflows(&catalogue))
    }

    /// One indicator over a dataflow's harmonised figures, by every dimension but the measure.
    pub fn indicator(&self, request: &IndicatorRequest) -> Result<IndicatorReport> {
        let all = self.indicators()?;
        let info = all.iter().find(|i| i.id == request.indicator).ok_or_else(|| {
            AppError::invalid(
                "indicator",
                format!(
                    "no indicator `{}`; the indicators are {}",
                    request.indicator,
                    all.iter().map(|i| i.id).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        if !info.dataflows.contains(&request.dataflow) {
            return Err(AppError::invalid(
                "dataflow",
                format!(
                    "{} is computed from {}; it applies to {}",
                    info.id,
                    info.rule.measures().join(" and "),
                    if info.dataflows.is_empty() {
                        "no dataflow in the bank".to_string()
                    } else {
                        info.dataflows.join(", ")
                    }
                ),
            ));
        }
        // Kept per request until the bank changes (the pages ask for the same ones again and again).
        // Every value is kept (pages are cut from it), so every page of one selection shares it.
        let whole = IndicatorRequest { page: None, ..request.clone() };
        let key = serde_json::to_string(&whole).map_err(|e| AppError::Unanswerable(e.to_string()))?;
        let (_, report, _) = self.cached(&self.indicator_reports, false, key, |bank| compute(bank, info, &whole))?;
        let page = request.page.unwrap_or(PageRequest { offset: 0, limit: usize::MAX });
        Ok(IndicatorReport { items: page.slice(&report.items).to_vec(), ..IndicatorReport::clone(&report) })
    }
}

fn catalogue_with_dataflows(catalogue: &koshi_core::Catalogue) -> Vec<IndicatorInfo> {
    let mut all = defined();
    for info in &mut all {
        info.dataflows = catalogue
            .dataflows
            .iter()
            .filter(|d| d.dimension_index("MEASURE").is_some())
            .filter(|d| info.rule.measures().iter().all(|m| d.measure(m).is_some()))
            .map(|d| d.id.clone())
            .collect();
    }
    all
}

/// The mean population of `area` in `year`: the mean of the populations on 1 January of the
/// year and of the next, or else the year's own (mid-year) figure; with the figures used.
fn mean_population(
    population: &BTreeMap<(String, String), HarmonisedRow>,
    area: &str,
    year: &str,
) -> Option<(f64, Vec<Input>)> {
    let next = year.parse::<i32>().ok().map(|y| format!("{}-01-01", y + 1))?;
    let start = population.get(&(area.to_string(), format!("{year}-01-01")));
    let end = population.get(&(area.to_string(), next));
    if let (Some(s), Some(e)) = (start, end) {
        return Some(((s.base_value()? + e.base_value()?) / 2.0, vec![input(s), input(e)]));
    }
    let mid = population.get(&(area.to_string(), year.to_string()))?;
    Some((mid.base_value()?, vec![input(mid)]))
}

fn compute(bank: &Bank, info: &IndicatorInfo, request: &IndicatorRequest) -> Result<IndicatorReport> {
    let df = bank
        .catalogue()
        .dataflow(&request.dataflow)
        .ok_or_else(|| AppError::invalid("dataflow", format!("unknown dataflow {}", request.dataflow)))?;
    let measure_at =
        df.dimension_index("MEASURE").ok_or_else(|| AppError::invalid("dataflow", "no MEASURE dimension"))?;
    // Where REF_AREA is in a key once the measure is taken out.
    let area_at = df.dimension_index("REF_AREA").map(|i| if i > measure_at { i - 1 } else { i });
    let area_of = |key: &[String]| area_at.map(|i| key[i].clone()).unwrap_or_default();
    let measures = info.rule.measures();
    let mut keys = request.keys.clone();
    keys.push(format!("MEASURE={}", measures.join("+")));
    // The inputs by (key without the measure, period) and measure.
    type Cell = BTreeMap<&'static str, HarmonisedRow>;
    let mut cells: BTreeMap<(Vec<String>, String), Cell> = BTreeMap::new();
    let text = QueryText {
        keys,
        as_of: request.as_of.clone(),
        from: request.from.clone(),
        to: request.to.clone(),
        ..QueryText::default()
    };
    for row in harmonised_values(bank, &request.dataflow, &text)? {
        let Some(m) = measures.iter().copied().find(|m| *m == row.key[measure_at]) else { continue };
        let mut key = row.key.clone();
        key.remove(measure_at);
        cells.entry((key, row.time_period.clone())).or_default().insert(m, row);
    }
    let needs_population = matches!(info.rule, Formula::NetRate(..) | Formula::GrossRate(..));
    let population: BTreeMap<(String, String), HarmonisedRow> = if needs_population {
        let areas: std::collections::BTreeSet<String> =
            cells.keys().filter(|_| area_at.is_some()).map(|(k, _)| area_of(k)).collect();
        let text = QueryText {
            keys: vec![
                format!("REF_AREA={}", areas.iter().cloned().collect::<Vec<_>>().join("+")),
                "SEX=_T".into(),
                "AGE=_T".into(),
            ],
            as_of: request.as_of.clone(),
            ..QueryText::default()
        };
        if areas.is_empty() {
            BTreeMap::new()
        } else {
            harmonised_values(bank, "POP", &text)?
                .into_iter()
                .map(|r| ((r.key[0].clone(), r.time_period.clone()), r))
                .collect()
        }
    } else {
        BTreeMap::new()
    };

    let mut items = Vec::new();
    let mut notes = Vec::new();
    let mut missing_population = std::collections::BTreeSet::new();
    let mut sub_annual = 0usize;
    let mut previous: BTreeMap<Vec<String>, (String, HarmonisedRow)> = BTreeMap::new();
    for ((key, period), cell) in &cells {
        let pair = |a: &str, b: &str| Some((cell.get(a)?, cell.get(b)?));
        let (value, inputs) = match info.rule {
            Formula::Difference(a, b) | Formula::Sum(a, b) | Formula::Effectiveness(a, b) => {
                let Some((x, y)) = pair(a, b) else { continue };
                let (xv, yv) = (x.base_value().unwrap_or(f64::NAN), y.base_value().unwrap_or(f64::NAN));
                let value = match info.rule {
                    Formula::Difference(..) => Some(indicators::net_migration(xv, yv)),
                    Formula::Sum(..) => Some(xv + yv),
                    _ => indicators::effectiveness(xv, yv),
                };
                let Some(value) = value else { continue };
                (value, vec![input(x), input(y)])
            }
            Formula::NetRate(a, b) | Formula::GrossRate(a, b) => {
                let Some((x, y)) = pair(a, b) else { continue };
                let area = area_of(key);
                // A rate per 1,000 of the year's mean population is a yearly figure.
                if !(period.len() == 4 && period.bytes().all(|b| b.is_ascii_digit())) {
                    sub_annual += 1;
                    continue;
                }
                let Some((mean, mut pop_inputs)) = mean_population(&population, &area, period) else {
                    missing_population.insert(format!("{area} {period}"));
                    continue;
                };
                let (xv, yv) = (x.base_value().unwrap_or(f64::NAN), y.base_value().unwrap_or(f64::NAN));
                let count = if matches!(info.rule, Formula::NetRate(..)) { xv - yv } else { xv + yv };
                let Some(rate) = indicators::per_thousand(count, mean) else { continue };
                let mut inputs = vec![input(x), input(y)];
                inputs.append(&mut pop_inputs);
                (rate, inputs)
            }
            Formula::Growth(a) => {
                let Some(row) = cell.get(a) else { continue };
                let before = previous.insert(key.clone(), (period.clone(), row.clone()));
                let Some((before_period, before_row)) = before else { continue };
                if !koshi_core::monitor::follows(&before_period, period) {
                    continue;
                }
                let Some(change) = koshi_core::monitor::relative_change_pct(
                    before_row.base_value().unwrap_or(f64::NAN),
                    row.base_value().unwrap_or(f64::NAN),
                ) else {
                    continue;
                };
                (change, vec![input(&before_row), input(row)])
            }
        };
        items.push(IndicatorValue { key: key.join("."), period: period.clone(), value, inputs });
    }
    if !missing_population.is_empty() {
        notes.push(format!(
            "no population on 1 January of the year and the next, nor for the year, for {} key-period(s): {}",
            missing_population.len(),
            missing_population.iter().take(12).cloned().collect::<Vec<_>>().join(", ")
                + if missing_population.len() > 12 { ", …" } else { "" }
        ));
    }
    if sub_annual > 0 {
        notes.push(format!(
            "rates per 1,000 of the mean population are computed for years only: {sub_annual} monthly or quarterly key-period(s) left out"
        ));
    }
    let page = request.page.unwrap_or(PageRequest { offset: 0, limit: usize::MAX });
    let mut dimensions: Vec<String> = df.dimensions.iter().map(|d| d.id.clone()).collect();
    dimensions.remove(measure_at);
    Ok(IndicatorReport {
        indicator: info.id.to_string(),
        name: info.name.clone(),
        formula: info.formula.to_string(),
        unit: info.unit.to_string(),
        dataflow: request.dataflow.clone(),
        dimensions,
        total: items.len(),
        items: page.slice(&items).to_vec(),
        notes,
    })
}
