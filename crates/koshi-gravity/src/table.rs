//! A minimal columnar table: named numeric and categorical columns of equal length.

use crate::error::{GravityError, Result};
use std::collections::HashMap;

/// Code marking a missing categorical value.
pub const MISSING_CODE: u32 = u32::MAX;

/// One column of a [`DataTable`].
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Numbers; `NaN` marks a missing value.
    Numeric(Vec<f64>),
    /// Codes into `levels`; [`MISSING_CODE`] marks a missing value.
    Categorical { codes: Vec<u32>, levels: Vec<String> },
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Categorical { codes, .. } => codes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when row `i` holds a usable value.
    pub fn is_present(&self, i: usize) -> bool {
        match self {
            Column::Numeric(v) => v[i].is_finite(),
            Column::Categorical { codes, .. } => codes[i] != MISSING_CODE,
        }
    }
}

/// Columnar input table. Build it column by column; all columns must have the same length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataTable {
    nrows: Option<usize>,
    names: Vec<String>,
    columns: Vec<Column>,
}

fn is_missing_token(s: &str) -> bool {
    matches!(s, "" | "NA" | "NaN" | "nan" | "null" | "NULL" | ".")
}

impl DataTable {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn nrows(&self) -> usize {
        self.nrows.unwrap_or(0)
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.names.iter().position(|n| n == name).map(|i| &self.columns[i])
    }

    pub(crate) fn require(&self, name: &str) -> Result<&Column> {
        self.column(name).ok_or_else(|| GravityError::UnknownColumn(name.to_string()))
    }

    /// Adds (or replaces) a column.
    pub fn add_column(&mut self, name: impl Into<String>, column: Column) -> Result<()> {
        let name = name.into();
        let len = column.len();
        match self.nrows {
            Some(n) if n != len && !(self.names.len() == 1 && self.names[0] == name) => {
                return Err(GravityError::LengthMismatch { name, expected: n, got: len });
            }
            _ => self.nrows = Some(len),
        }
        if let Some(i) = self.names.iter().position(|n| *n == name) {
            self.columns[i] = column;
        } else {
            self.names.push(name);
            self.columns.push(column);
        }
        Ok(())
    }

    pub fn add_numeric(&mut self, name: impl Into<String>, values: Vec<f64>) -> Result<()> {
        self.add_column(name, Column::Numeric(values))
    }

    /// Adds a categorical column from labels; empty / "NA" labels are missing.
    pub fn add_categorical<S: AsRef<str>>(&mut self, name: impl Into<String>, values: &[S]) -> Result<()> {
        let mut index: HashMap<&str, u32> = HashMap::new();
        let mut levels = Vec::new();
        let mut codes = Vec::with_capacity(values.len());
        for v in values {
            let v = v.as_ref();
            if is_missing_token(v) {
                codes.push(MISSING_CODE);
                continue;
            }
            let next = levels.len() as u32;
            let code = *index.entry(v).or_insert_with(|| {
                levels.push(v.to_string());
                next
            });
            codes.push(code);
        }
        self.add_column(name, Column::Categorical { codes, levels })
    }

    /// Adds a categorical column from integer codes and their labels.
    pub fn add_categorical_codes(
        &mut self,
        name: impl Into<String>,
        codes: Vec<u32>,
        levels: Vec<String>,
    ) -> Result<()> {
        let name = name.into();
        if let Some(&bad) = codes.iter().find(|&&c| c != MISSING_CODE && c as usize >= levels.len()) {
            return Err(GravityError::Invalid(format!("column `{name}`: code {bad} has no level label")));
        }
        self.add_column(name, Column::Categorical { codes, levels })
    }

    /// Adds a column from text, numeric when every present value parses as a number,
    /// categorical otherwise (the way a CSV reader would want it).
    pub fn add_inferred<S: AsRef<str>>(&mut self, name: impl Into<String>, values: &[S]) -> Result<()> {
        let mut numbers = Vec::with_capacity(values.len());
        for v in values {
            let v = v.as_ref().trim();
            if is_missing_token(v) {
                numbers.push(f64::NAN);
            } else if let Ok(x) = v.parse::<f64>() {
                numbers.push(x);
            } else {
                return self.add_categorical(name, values);
            }
        }
        self.add_numeric(name, numbers)
    }

    /// The rows where `mask` is true, in order (categorical levels kept).
    pub fn subset(&self, mask: &[bool]) -> Result<DataTable> {
        if mask.len() != self.nrows() {
            return Err(GravityError::LengthMismatch { name: "mask".into(), expected: self.nrows(), got: mask.len() });
        }
        let mut t = DataTable::new();
        for (name, column) in self.names.iter().zip(&self.columns) {
            let kept = match column {
                Column::Numeric(v) => {
                    Column::Numeric(v.iter().zip(mask).filter(|(_, m)| **m).map(|(x, _)| *x).collect())
                }
                Column::Categorical { codes, levels } => Column::Categorical {
                    codes: codes.iter().zip(mask).filter(|(_, m)| **m).map(|(c, _)| *c).collect(),
                    levels: levels.clone(),
                },
            };
            t.add_column(name.clone(), kept)?;
        }
        Ok(t)
    }

    /// A copy of the table with one numeric column replaced (for counterfactual scenarios).
    pub fn with_numeric(&self, name: &str, values: Vec<f64>) -> Result<DataTable> {
        let mut t = self.clone();
        if !matches!(t.require(name)?, Column::Numeric(_)) {
            return Err(GravityError::NotNumeric(name.to_string()));
        }
        t.add_numeric(name.to_string(), values)?;
        Ok(t)
    }
}
