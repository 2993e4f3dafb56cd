//! Turns a table + formula into numeric arrays on the complete-case rows.

use crate::error::{GravityError, Result};
use crate::fe::Factor;
use crate::formula::{FeTerm, Formula, Term, Transform};
use crate::table::{Column, DataTable};

/// Model arrays on the rows that have every needed value.
#[derive(Debug, Clone)]
pub(crate) struct ModelFrame {
    pub y: Vec<f64>,
    pub x: Vec<Vec<f64>>,
    pub x_names: Vec<String>,
    pub fes: Vec<Factor>,
    pub clusters: Vec<Factor>,
    /// Input-table row of each frame row.
    pub rows: Vec<usize>,
    /// Input rows dropped for a missing or invalid value.
    pub missing_rows: Vec<usize>,
}

fn is_categorical(table: &DataTable, term: &Term) -> Result<bool> {
    let col = table.require(&term.variable)?;
    Ok(term.transform == Transform::Factor || matches!(col, Column::Categorical { .. }))
}

fn numeric_values(table: &DataTable, term: &Term) -> Result<Vec<f64>> {
    match table.require(&term.variable)? {
        Column::Numeric(v) => Ok(v.iter().map(|&x| term.apply(x)).collect()),
        Column::Categorical { .. } => Err(GravityError::NotNumeric(term.variable.clone())),
    }
}

/// Factor of one column on the given rows (levels sorted by value or label).
pub(crate) fn column_factor(table: &DataTable, name: &str, rows: &[usize]) -> Result<Factor> {
    match table.require(name)? {
        Column::Categorical { codes, levels } => {
            let keys: Vec<u32> = rows.iter().map(|&r| codes[r]).collect();
            Ok(Factor::from_keys(name.to_string(), &keys, |i| levels[keys[i] as usize].clone(), None))
        }
        Column::Numeric(v) => {
            let vals: Vec<f64> = rows.iter().map(|&r| v[r]).collect();
            let keys: Vec<u64> = vals.iter().map(|x| if *x == 0.0 { 0 } else { x.to_bits() }).collect();
            Ok(Factor::from_keys(name.to_string(), &keys, |i| format!("{}", vals[i]), Some(&|i| vals[i])))
        }
    }
}

pub(crate) fn term_factor(table: &DataTable, term: &FeTerm, rows: &[usize]) -> Result<Factor> {
    let mut f = column_factor(table, &term.variables[0], rows)?;
    for v in &term.variables[1..] {
        let g = column_factor(table, v, rows)?;
        f = f.interact(&g);
    }
    f.name = term.label();
    Ok(f)
}

fn present_mask(table: &DataTable, name: &str, mask: &mut [bool]) -> Result<()> {
    let col = table.require(name)?;
    for (i, m) in mask.iter_mut().enumerate() {
        if *m && !col.is_present(i) {
            *m = false;
        }
    }
    Ok(())
}

/// How categorical regressors and fixed effects enter the design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FeHandling {
    /// Fixed effects are absorbed (projected out).
    Absorb,
    /// Fixed effects become dummy columns (dense GLM).
    Dummies,
}

/// Dummy column name for a level of a categorical term.
fn dummy_name(term: &Term, level: &str) -> String {
    format!("{}::{}", term.variable, level)
}

/// Builds the model frame. `intercept` adds a constant column (only when nothing is absorbed).
pub(crate) fn build_frame(
    table: &DataTable,
    formula: &Formula,
    cluster_terms: &[FeTerm],
    fe_handling: FeHandling,
) -> Result<ModelFrame> {
    let n_all = table.nrows();
    let y_all = numeric_values(table, &formula.response)?;
    let mut mask: Vec<bool> = y_all.iter().map(|v| v.is_finite()).collect();
    let mut numeric_terms: Vec<(usize, Vec<f64>)> = Vec::new();
    for (t_idx, term) in formula.regressors.iter().enumerate() {
        if is_categorical(table, term)? {
            present_mask(table, &term.variable, &mut mask)?;
        } else {
            let v = numeric_values(table, term)?;
            for (m, x) in mask.iter_mut().zip(&v) {
                if !x.is_finite() {
                    *m = false;
                }
            }
            numeric_terms.push((t_idx, v));
        }
    }
    for term in formula.fixed_effects.iter().chain(cluster_terms) {
        for v in &term.variables {
            present_mask(table, v, &mut mask)?;
        }
    }
    let rows: Vec<usize> = (0..n_all).filter(|&i| mask[i]).collect();
    let missing_rows: Vec<usize> = (0..n_all).filter(|&i| !mask[i]).collect();
    let y: Vec<f64> = rows.iter().map(|&r| y_all[r]).collect();

    let absorb = fe_handling == FeHandling::Absorb && !formula.fixed_effects.is_empty();
    let intercept = !absorb && formula.intercept;
    let mut x = Vec::new();
    let mut x_names = Vec::new();
    if intercept {
        x.push(vec![1.0; rows.len()]);
        x_names.push("(Intercept)".to_string());
    }
    // A full set of dummies only when nothing else spans the constant.
    let mut full_dummies_allowed = !intercept && !absorb;
    let mut add_dummies = |f: &Factor, term: &Term, x: &mut Vec<Vec<f64>>, names: &mut Vec<String>| {
        let start = if full_dummies_allowed { 0 } else { 1 };
        full_dummies_allowed = false;
        for level in start..f.n_levels() {
            x.push(f.codes.iter().map(|&c| if c as usize == level { 1.0 } else { 0.0 }).collect());
            names.push(dummy_name(term, &f.labels[level]));
        }
    };
    let mut numeric_iter = numeric_terms.into_iter().peekable();
    for (t_idx, term) in formula.regressors.iter().enumerate() {
        if numeric_iter.peek().map(|(i, _)| *i) == Some(t_idx) {
            let (_, v) = numeric_iter.next().expect("peeked");
            x.push(rows.iter().map(|&r| v[r]).collect());
            x_names.push(term.label());
        } else {
            let f = column_factor(table, &term.variable, &rows)?;
            add_dummies(&f, term, &mut x, &mut x_names);
        }
    }
    let mut fes = Vec::new();
    for term in &formula.fixed_effects {
        let f = term_factor(table, term, &rows)?;
        if absorb {
            fes.push(f);
        } else {
            let as_term = Term { variable: term.label(), transform: Transform::Factor };
            add_dummies(&f, &as_term, &mut x, &mut x_names);
        }
    }
    let mut clusters = Vec::new();
    for term in cluster_terms {
        clusters.push(term_factor(table, term, &rows)?);
    }
    Ok(ModelFrame { y, x, x_names, fes, clusters, rows, missing_rows })
}

/// Re-evaluates named regressor columns of a fitted model on given input rows (for scenarios).
pub(crate) fn regressors_at(
    table: &DataTable,
    formula: &Formula,
    names: &[String],
    rows: &[usize],
) -> Result<Vec<Vec<f64>>> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        if name == "(Intercept)" {
            out.push(vec![1.0; rows.len()]);
            continue;
        }
        if let Some(term) =
            formula.regressors.iter().find(|t| t.label() == *name && !matches!(t.transform, Transform::Factor))
        {
            let v = numeric_values(table, term)?;
            out.push(rows.iter().map(|&r| v[r]).collect());
            continue;
        }
        // Dummy columns: `variable::level`.
        let (var, level) =
            name.split_once("::").ok_or_else(|| GravityError::Invalid(format!("cannot rebuild regressor `{name}`")))?;
        let term = FeTerm { variables: var.split('^').map(str::to_string).collect() };
        let f = term_factor(table, &term, rows)?;
        out.push(f.codes.iter().map(|&c| if f.labels[c as usize] == level { 1.0 } else { 0.0 }).collect());
    }
    Ok(out)
}
