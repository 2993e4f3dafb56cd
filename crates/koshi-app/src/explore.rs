//! What a dataflow holds, for choosing by labels instead of typing keys: each dimension's codes
//! that the bank's series use, with their labels in English, Russian and Kazakh, the units and
//! the first and last period.

use koshi_core::Labels;
use serde::Serialize;

use crate::App;
use crate::error::{AppError, Result};

/// A code a dataflow's series use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeHeld {
    pub id: String,
    pub labels: Labels,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionHeld {
    pub id: String,
    pub codelist: String,
    pub codes: Vec<CodeHeld>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataflowCodes {
    pub dataflow: String,
    pub name: Labels,
    pub dimensions: Vec<DimensionHeld>,
    pub units: Vec<String>,
    pub first_period: Option<String>,
    pub last_period: Option<String>,
}

impl App {
    /// The codes of each dimension that a dataflow's series use (computed once per state of the bank).
    pub fn dataflow_codes(&self, dataflow: &str) -> Result<DataflowCodes> {
        let (_, present) =
            self.kept_lasting(&self.present, &(), |app| app.read_quick(|bank| Ok(bank.codes_present()?)))?;
        let catalogue = self.catalogue()?;
        let df = catalogue.dataflow(dataflow).ok_or_else(|| AppError::NotFound {
            what: "dataflow",
            id: dataflow.to_string(),
            known: catalogue.dataflows.iter().map(|d| d.id.clone()).collect(),
        })?;
        let held = present.get(&df.id);
        let dimensions = df
            .dimensions
            .iter()
            .enumerate()
            .map(|(d, dim)| {
                let list = catalogue.codelist_for(df, &dim.id);
                let codes =
                    held.and_then(|h| h.codes.get(d))
                        .into_iter()
                        .flatten()
                        .map(|code| CodeHeld {
                            id: code.clone(),
                            labels: list
                                .and_then(|l| l.get(code))
                                .map(|c| c.labels.clone())
                                .unwrap_or_else(|| Labels { en: code.clone(), ru: code.clone(), kk: code.clone() }),
                        })
                        .collect();
                DimensionHeld { id: dim.id.clone(), codelist: dim.codelist.clone(), codes }
            })
            .collect();
        Ok(DataflowCodes {
            dataflow: df.id.clone(),
            name: df.name.clone(),
            dimensions,
            units: held.map(|h| h.units.iter().cloned().collect()).unwrap_or_default(),
            first_period: held.and_then(|h| h.periods.as_ref().map(|p| p.0.clone())),
            last_period: held.and_then(|h| h.periods.as_ref().map(|p| p.1.clone())),
        })
    }
}
