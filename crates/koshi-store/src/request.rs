//! A data request as people and programs write it (key texts, dates, periods), checked against the
//! catalogue into a [`Query`]. The command line and the HTTP API both go through here, so a key, a
//! date or a period means the same thing everywhere and a mistake gets the same explanation.

use koshi_core::key::{KeyError, KeyFilter};
use koshi_core::observation::validate_time_period;
use koshi_core::structure::Dataflow;
use koshi_core::{Catalogue, Date};

use crate::Query;

/// The unchecked parts of a data request.
#[derive(Debug, Clone, Default)]
pub struct QueryText {
    /// Key texts in the grammar of [`koshi_core::key`]; several combine with AND.
    pub keys: Vec<String>,
    pub as_of: Option<String>,
    pub source: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub predecessors: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("unknown dataflow `{dataflow}` (there are {})", .known.join(", "))]
    UnknownDataflow { dataflow: String, known: Vec<String> },
    /// Not a `#[from]`: the key error is the whole message, not a cause to print again.
    #[error("key: {0}")]
    Key(KeyError),
    #[error("as of: {0}")]
    AsOf(String),
    #[error("unknown source `{0}`")]
    UnknownSource(String),
    #[error("{name}: `{text}` is not a period (YYYY, YYYY-MM, YYYY-MM-DD, YYYY-Qn, YYYY-Sn or A/B)")]
    Period { name: &'static str, text: String },
}

impl From<KeyError> for QueryError {
    fn from(e: KeyError) -> Self {
        QueryError::Key(e)
    }
}

impl QueryError {
    /// Whether the key names codes that do not exist (rather than being malformed).
    pub fn is_unknown_code(&self) -> bool {
        matches!(self, QueryError::Key(e) if e.problems().iter().any(|p| matches!(p, KeyError::UnknownCode { .. })))
    }
}

/// The dataflow called `id`, or an error that lists the dataflows there are.
pub fn dataflow_named<'c>(catalogue: &'c Catalogue, id: &str) -> Result<&'c Dataflow, QueryError> {
    catalogue.dataflow(id).ok_or_else(|| QueryError::UnknownDataflow {
        dataflow: id.to_string(),
        known: catalogue.dataflows.iter().map(|d| d.id.clone()).collect(),
    })
}

impl Query {
    /// Check every part of `text` against the catalogue: unknown dimensions, codes, sources and
    /// malformed dates or periods are errors, never an empty answer.
    pub fn checked(catalogue: &Catalogue, dataflow: &str, text: &QueryText) -> Result<Query, QueryError> {
        let df = dataflow_named(catalogue, dataflow)?;
        let keys: Vec<&str> = text.keys.iter().map(String::as_str).collect();
        let filters = KeyFilter::parse(catalogue, df, &keys)?.filters();
        let as_of =
            text.as_of.as_deref().map(Date::parse_loose).transpose().map_err(|e| QueryError::AsOf(e.to_string()))?;
        if let Some(source) = text.source.as_deref()
            && catalogue.source(source).is_none()
        {
            return Err(QueryError::UnknownSource(source.to_string()));
        }
        for (name, period) in [("from", &text.from), ("to", &text.to)] {
            if let Some(period) = period.as_deref()
                && validate_time_period(period).is_err()
            {
                return Err(QueryError::Period { name, text: period.to_string() });
            }
        }
        Ok(Query {
            dataflow: df.id.clone(),
            filters,
            as_of,
            source: text.source.clone(),
            period_from: text.from.clone(),
            period_to: text.to.clone(),
            include_predecessors: text.predecessors,
            include_withdrawn: false,
        })
    }
}
