//! Answers too large to hold at once, read one series at a time for callers that page through
//! them (the HTTP API): memory stays bounded by the largest series, not by the whole dataflow.
//! And a cheap fingerprint of the bank's content, for caches of answers that are slow to compute.

use rusqlite::params;
use serde::Serialize;

use crate::query::{HarmonisedRow, ObservationRow, Query};
use crate::{Bank, Result, StoreError};

/// Changes whenever a release (with its figures and defects) is written; reading it is one
/// query over the release and defect tables' rowids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Generation {
    pub releases: i64,
    pub last_release: i64,
    pub last_defect: i64,
}

impl Bank {
    pub fn generation(&self) -> Result<Generation> {
        Ok(self.connection().query_row(
            "SELECT COUNT(*), COALESCE(MAX(id), 0), (SELECT COALESCE(MAX(id), 0) FROM defect) FROM release",
            params![],
            |r| Ok(Generation { releases: r.get(0)?, last_release: r.get(1)?, last_defect: r.get(2)? }),
        )?)
    }

    /// The rows of [`Bank::query`], in the same order, handed to `visit` one by one; `visit`
    /// returns `false` to stop early.
    pub fn for_each_row(&self, q: &Query, visit: &mut dyn FnMut(ObservationRow) -> bool) -> Result<()> {
        let (q, territory) = self.with_predecessors(q);
        let area = self.catalogue().dataflow(&q.dataflow).and_then(|d| d.dimension_index("REF_AREA"));
        for single in self.series_queries(&q)? {
            for mut row in self.query(&single)? {
                if let (false, Some(i)) = (territory.is_empty(), area) {
                    row.territory = territory.get(&row.key[i]).cloned();
                }
                if !visit(row) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The rows of [`Bank::harmonised`], in the same order, as [`Bank::for_each_row`].
    pub fn for_each_harmonised(&self, q: &Query, visit: &mut dyn FnMut(HarmonisedRow) -> bool) -> Result<()> {
        let (q, _) = self.with_predecessors(q);
        for single in self.series_queries(&q)? {
            for row in self.harmonised(&single)? {
                if !visit(row) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// How many series match `q` (whether or not they hold a figure `q` would return): a cheap
    /// bound on the size of an answer before it is read.
    pub fn series_count(&self, q: &Query) -> Result<usize> {
        Ok(self.series_ids(&self.with_predecessors(q).0)?.len())
    }

    /// One fully keyed query per series matching `q`, in the order [`Bank::query`] returns keys.
    fn series_queries(&self, q: &Query) -> Result<impl Iterator<Item = Query> + use<>> {
        let df = self
            .catalogue()
            .dataflow(&q.dataflow)
            .ok_or_else(|| StoreError::Invalid(format!("unknown dataflow `{}`", q.dataflow)))?;
        let dimensions: Vec<String> = df.dimensions.iter().map(|d| d.id.clone()).collect();
        let mut series = self.series_ids(q)?;
        series.sort_by(|a, b| a.1.cmp(&b.1));
        let template = Query { filters: Vec::new(), include_predecessors: false, ..q.clone() };
        Ok(series.into_iter().map(move |(_, codes)| Query {
            filters: dimensions.iter().cloned().zip(codes).map(|(d, c)| (d, vec![c])).collect(),
            ..template.clone()
        }))
    }
}
