//! The counterfactual edit language and row selections over a [`DataTable`]:
//!
//! ```text
//! VAR=VALUE | VAR*=FACTOR | VAR+=DELTA  [where COL=V1,V2 [and COL!=V3 ...]]
//! ```
//!
//! e.g. `eaeu=1 where orig=UZB and dest=KAZ,RUS` or `dist*=0.8 where orig=CHN`. A selection
//! alone (`orig!=KAZ and dest=RUS,KAZ`) keeps the rows matching every condition. Pure: no IO.

use std::collections::HashSet;

use crate::error::GravityError;
use crate::table::{Column, DataTable};

/// What is wrong with an edit or a selection.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    #[error("condition `{part}`: expected COL=V1,V2 or COL!=V")]
    BadCondition { part: String },
    #[error("`{text}`: more than one `where`")]
    SeveralWheres { text: String },
    #[error("`{text}`: expected VAR=VALUE, VAR*=FACTOR or VAR+=DELTA, optionally followed by `where COL=V`")]
    BadAssignment { text: String },
    #[error("`{text}`: `{value}` is not a number")]
    NotANumber { text: String, value: String },
    #[error("no column `{column}` in the data")]
    UnknownColumn { column: String },
    #[error("no row has {column} = {values}")]
    NoRowHas { column: String, values: String },
    #[error("column `{column}` is numeric; `{value}` is not a number")]
    NotNumericValue { column: String, value: String },
    #[error("`{text}`: `{variable}` is not a numeric column of the data")]
    NotNumericVariable { text: String, variable: String },
    #[error(transparent)]
    Table(#[from] GravityError),
}

pub type ScenarioResult<T> = std::result::Result<T, ScenarioError>;

/// How an edit changes its variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditOp {
    /// `VAR=VALUE`
    Set,
    /// `VAR*=FACTOR`
    Scale,
    /// `VAR+=DELTA`
    Add,
}

/// `COL=V1,V2` (any of the values) or `COL!=V1,V2` (none of them).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub column: String,
    pub negate: bool,
    pub values: Vec<String>,
}

/// One edit of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// The edit as written.
    pub text: String,
    pub variable: String,
    pub op: EditOp,
    pub value: f64,
    pub conditions: Vec<Condition>,
}

/// Splits on a whole word (case-insensitive), e.g. ` and `.
fn split_keyword<'a>(text: &'a str, word: &str) -> Vec<&'a str> {
    // ASCII lower-casing keeps the byte offsets of the text.
    let lower = text.to_ascii_lowercase();
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

/// Conditions joined by `and`: `orig=UZB and dest=KAZ,RUS and year!=1990`.
pub fn parse_conditions(text: &str) -> ScenarioResult<Vec<Condition>> {
    let mut out = Vec::new();
    for part in split_keyword(text, "and") {
        let part = part.trim();
        let bad = || ScenarioError::BadCondition { part: part.to_string() };
        let (column, negate, values) = if let Some((c, v)) = part.split_once("!=") {
            (c, true, v)
        } else if let Some((c, v)) = part.split_once('=') {
            (c, false, v)
        } else {
            return Err(bad());
        };
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
        if column.trim().is_empty() || values.is_empty() {
            return Err(bad());
        }
        out.push(Condition { column: column.trim().to_string(), negate, values });
    }
    Ok(out)
}

/// One edit: `VAR=VALUE`, `VAR*=FACTOR` or `VAR+=DELTA`, optionally `where` conditions.
pub fn parse_edit(text: &str) -> ScenarioResult<Edit> {
    let parts = split_keyword(text, "where");
    if parts.len() > 2 {
        return Err(ScenarioError::SeveralWheres { text: text.to_string() });
    }
    let assign = parts[0].trim();
    let (lhs, op, rhs) = if let Some((l, r)) = assign.split_once("*=") {
        (l, EditOp::Scale, r)
    } else if let Some((l, r)) = assign.split_once("+=") {
        (l, EditOp::Add, r)
    } else if let Some((l, r)) = assign.split_once('=') {
        (l, EditOp::Set, r)
    } else {
        return Err(ScenarioError::BadAssignment { text: text.to_string() });
    };
    if lhs.trim().is_empty() {
        return Err(ScenarioError::BadAssignment { text: text.to_string() });
    }
    let value: f64 = rhs
        .trim()
        .parse()
        .map_err(|_| ScenarioError::NotANumber { text: text.to_string(), value: rhs.trim().to_string() })?;
    let conditions = if parts.len() == 2 { parse_conditions(parts[1])? } else { Vec::new() };
    Ok(Edit { text: text.to_string(), variable: lhs.trim().to_string(), op, value, conditions })
}

/// Which rows satisfy every condition.
pub fn rows_matching(table: &DataTable, conditions: &[Condition]) -> ScenarioResult<Vec<bool>> {
    let mut mask = vec![true; table.nrows()];
    for c in conditions {
        let col = table.column(&c.column).ok_or_else(|| ScenarioError::UnknownColumn { column: c.column.clone() })?;
        let hit: Vec<bool> = match col {
            Column::Categorical { codes, levels } => {
                let wanted: HashSet<u32> =
                    levels.iter().enumerate().filter(|(_, l)| c.values.contains(l)).map(|(k, _)| k as u32).collect();
                if wanted.is_empty() && !c.negate {
                    return Err(ScenarioError::NoRowHas { column: c.column.clone(), values: c.values.join(",") });
                }
                codes.iter().map(|k| wanted.contains(k)).collect()
            }
            Column::Numeric(v) => {
                let wanted: Vec<f64> = c
                    .values
                    .iter()
                    .map(|s| {
                        s.parse::<f64>()
                            .map_err(|_| ScenarioError::NotNumericValue { column: c.column.clone(), value: s.clone() })
                    })
                    .collect::<ScenarioResult<_>>()?;
                v.iter().map(|x| wanted.contains(x)).collect()
            }
        };
        for (m, h) in mask.iter_mut().zip(hit) {
            *m &= h != c.negate;
        }
    }
    Ok(mask)
}

/// The table with the edits applied in order, and which rows any edit changed.
pub fn apply_edits(table: &DataTable, edits: &[Edit]) -> ScenarioResult<(DataTable, Vec<bool>)> {
    let mut scenario = table.clone();
    let mut changed = vec![false; table.nrows()];
    for edit in edits {
        let Some(Column::Numeric(values)) = scenario.column(&edit.variable) else {
            return Err(ScenarioError::NotNumericVariable { text: edit.text.clone(), variable: edit.variable.clone() });
        };
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
    Ok((scenario, changed))
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
        assert_eq!(parse_edit("dist+=-1").unwrap().op, EditOp::Add);
        assert!(matches!(parse_edit("dist"), Err(ScenarioError::BadAssignment { .. })));
        assert!(matches!(parse_edit("dist=x"), Err(ScenarioError::NotANumber { .. })));
        assert!(matches!(parse_edit("=1"), Err(ScenarioError::BadAssignment { .. })));
        assert!(matches!(parse_edit("a=1 where b=1 where c=2"), Err(ScenarioError::SeveralWheres { .. })));
        assert!(matches!(parse_conditions("orig"), Err(ScenarioError::BadCondition { .. })));
        assert!(matches!(parse_conditions("orig="), Err(ScenarioError::BadCondition { .. })));
    }

    fn table() -> DataTable {
        let mut t = DataTable::new();
        t.add_categorical("orig", &["A", "A", "B", "C"]).unwrap();
        t.add_numeric("year", vec![2000.0, 2010.0, 2000.0, 2010.0]).unwrap();
        t.add_numeric("x", vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        t
    }

    #[test]
    fn selections_and_edits() {
        let t = table();
        assert_eq!(rows_matching(&t, &parse_conditions("orig=A,C").unwrap()).unwrap(), [true, true, false, true]);
        assert_eq!(
            rows_matching(&t, &parse_conditions("orig!=A and year=2000").unwrap()).unwrap(),
            [false, false, true, false]
        );
        assert!(matches!(rows_matching(&t, &parse_conditions("orig=Z").unwrap()), Err(ScenarioError::NoRowHas { .. })));
        assert!(matches!(
            rows_matching(&t, &parse_conditions("year=late").unwrap()),
            Err(ScenarioError::NotNumericValue { .. })
        ));
        assert!(matches!(
            rows_matching(&t, &parse_conditions("dest=A").unwrap()),
            Err(ScenarioError::UnknownColumn { .. })
        ));
        let edits = [parse_edit("x*=10 where orig=A").unwrap(), parse_edit("x+=1 where year=2010").unwrap()];
        let (s, changed) = apply_edits(&t, &edits).unwrap();
        assert_eq!(s.column("x"), Some(&Column::Numeric(vec![10.0, 21.0, 3.0, 5.0])));
        assert_eq!(changed, [true, true, false, true]);
        assert!(matches!(
            apply_edits(&t, &[parse_edit("orig=1").unwrap()]),
            Err(ScenarioError::NotNumericVariable { .. })
        ));
        let sub = t.subset(&[true, false, false, true]).unwrap();
        assert_eq!(sub.nrows(), 2);
        assert_eq!(sub.column("x"), Some(&Column::Numeric(vec![1.0, 4.0])));
    }
}
