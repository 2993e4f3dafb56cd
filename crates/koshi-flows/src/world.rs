//! Assembling place-of-birth × residence stock tables from UN DESA-style
//! foreign-born stock tables (destination rows × origin columns) and total
//! populations. Parsing is the caller's job; this module only decides.

use std::collections::HashMap;

use crate::{FlowsError, Matrix};

/// One year of foreign-born stocks: for every destination row, the stock
/// born in each of `origins` (`None` = missing, e.g. UN `..`).
#[derive(Debug, Clone, Default)]
pub struct StockSnapshot {
    pub destinations: Vec<(String, Vec<Option<f64>>)>,
    /// Total population by region name (same unit as the stocks).
    pub population: HashMap<String, f64>,
}

/// Stock tables of one period over the regions usable in both years.
#[derive(Debug, Clone)]
pub struct PeriodStocks {
    pub regions: Vec<String>,
    /// Rows = birthplace, columns = residence; diagonal = native-born.
    pub start: Matrix,
    pub end: Matrix,
    /// Origins left out: no usable destination row or population in a year.
    pub excluded: Vec<String>,
    /// Destination rows skipped because they are not in `origins` (regional aggregates).
    pub aggregates_ignored: Vec<String>,
    /// Cells where foreign-born exceeded population and native-born was set to 0.
    pub native_born_clamped: usize,
}

fn usable(row: &[Option<f64>]) -> bool {
    row.iter().any(|v| v.is_some_and(|x| x > 0.0))
}

/// Builds the period's stock tables.
///
/// Rules: a destination row whose name is not an origin is an aggregate and
/// is ignored; a region is kept only if, in both years, it has a destination
/// row with some positive stock and a population (so countries that did not
/// yet report — e.g. South Sudan before 2010 — drop out of that period, and
/// the stocks born there drop with them); missing cells count as 0;
/// native-born = population − Σ foreign-born, floored at 0.
pub fn period_stocks(
    origins: &[String],
    start: &StockSnapshot,
    end: &StockSnapshot,
) -> Result<PeriodStocks, FlowsError> {
    let index: HashMap<&str, usize> = origins.iter().enumerate().map(|(i, o)| (o.as_str(), i)).collect();
    let mut aggregates_ignored = Vec::new();
    let mut rows_by_year: Vec<HashMap<usize, &Vec<Option<f64>>>> = Vec::new();
    for snapshot in [start, end] {
        let mut rows = HashMap::new();
        for (dest, values) in &snapshot.destinations {
            if values.len() != origins.len() {
                return Err(FlowsError::Dimension(format!(
                    "{dest}: {} values for {} origins",
                    values.len(),
                    origins.len()
                )));
            }
            match index.get(dest.as_str()) {
                Some(&i) => {
                    rows.insert(i, values);
                }
                None => {
                    if !aggregates_ignored.contains(dest) {
                        aggregates_ignored.push(dest.clone());
                    }
                }
            }
        }
        rows_by_year.push(rows);
    }
    let keep: Vec<usize> = (0..origins.len())
        .filter(|&i| {
            [start, end].iter().zip(&rows_by_year).all(|(snap, rows)| {
                rows.get(&i).is_some_and(|r| usable(r)) && snap.population.get(&origins[i]).is_some_and(|p| *p > 0.0)
            })
        })
        .collect();
    let excluded = (0..origins.len()).filter(|i| !keep.contains(i)).map(|i| origins[i].clone()).collect();
    let n = keep.len();
    let mut clamped = 0;
    let mut tables = Vec::with_capacity(2);
    for (snap, rows) in [start, end].iter().zip(&rows_by_year) {
        let mut t = Matrix::zeros(n, n);
        for (col, &residence) in keep.iter().enumerate() {
            let row = rows[&residence];
            let mut foreign = 0.0;
            for (r, &birthplace) in keep.iter().enumerate() {
                if r != col {
                    let v = row[birthplace].unwrap_or(0.0).max(0.0);
                    t[(r, col)] = v;
                    foreign += v;
                }
            }
            let native = snap.population[&origins[residence]] - foreign;
            if native < 0.0 {
                clamped += 1;
            }
            t[(col, col)] = native.max(0.0);
        }
        tables.push(t);
    }
    let end_table = tables.pop().unwrap_or_else(|| Matrix::zeros(n, n));
    let start_table = tables.pop().unwrap_or_else(|| Matrix::zeros(n, n));
    Ok(PeriodStocks {
        regions: keep.iter().map(|&i| origins[i].clone()).collect(),
        start: start_table,
        end: end_table,
        excluded,
        aggregates_ignored,
        native_born_clamped: clamped,
    })
}
