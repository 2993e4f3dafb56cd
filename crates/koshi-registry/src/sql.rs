//! The little the two databases must share for the registry's statements to be written once:
//! positional parameters `$1, $2 …` (numbered in the order they first appear, which SQLite
//! reads as named parameters bound by position), whole numbers and text, and rows of cells.

use crate::error::{RegistryError, Result};

/// A statement's parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Param<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
}

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Param::Int(Some(v))
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(v: Option<i64>) -> Self {
        Param::Int(v)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Param::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Param::Text(v)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
}

/// One row of an answer, read by column index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row(pub(crate) Vec<Cell>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Cell> {
        self.0.get(i).ok_or_else(|| RegistryError::Corrupt(format!("a row has no column {i}")))
    }

    pub(crate) fn int(&self, i: usize) -> Result<i64> {
        self.opt_int(i)?.ok_or_else(|| RegistryError::Corrupt(format!("column {i} is empty where a number is kept")))
    }

    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(*v)),
            Cell::Text(t) => Err(RegistryError::Corrupt(format!("column {i} holds text `{t}` where a number is kept"))),
        }
    }

    pub(crate) fn text(&self, i: usize) -> Result<String> {
        self.opt_text(i)?.ok_or_else(|| RegistryError::Corrupt(format!("column {i} is empty where text is kept")))
    }

    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Text(t) => Ok(Some(t.clone())),
            Cell::Int(v) => Err(RegistryError::Corrupt(format!("column {i} holds the number {v} where text is kept"))),
        }
    }
}

/// A database connection inside a transaction.
pub(crate) trait Sql {
    /// Runs a statement; the number of rows it changed.
    fn exec(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64>;
    /// Runs a query; every row.
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>>;
    /// What to add to a `SELECT` that reads rows about to be changed, so that concurrent
    /// writers queue (PostgreSQL's `FOR UPDATE`; SQLite has one writer at a time already).
    fn lock_suffix(&self) -> &'static str;
}
