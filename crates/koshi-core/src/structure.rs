//! Dataflows, their dimensions and measures, identities, plausibility rules, reconciliation
//! policies, and the sources figures come from. Parsed from TOML text (no file access here).

use serde::Deserialize;

use crate::codelist::Labels;

#[derive(Debug, Clone, Deserialize)]
pub struct Dataflow {
    pub id: String,
    pub name: Labels,
    #[serde(default)]
    pub description: String,
    pub dimensions: Vec<Dimension>,
    #[serde(default)]
    pub measures: Vec<Measure>,
    #[serde(default)]
    pub identities: Vec<Identity>,
    #[serde(default)]
    pub plausibility: Vec<Plausibility>,
    #[serde(default)]
    pub reconciliation: Reconciliation,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Dimension {
    pub id: String,
    pub codelist: String,
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Measure {
    pub code: String,
    pub unit: String,
    pub en: String,
    #[serde(default)]
    pub ru: String,
    #[serde(default)]
    pub kk: String,
}

/// An arithmetic identity between codes of one dimension, all other dimensions equal.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Identity {
    /// `result = plus − minus` (net migration = arrivals − departures).
    Balance { dimension: String, result: String, plus: String, minus: String },
    /// `result = Σ parts` (turnover = exports + imports; total = CIS + other countries).
    Sum { dimension: String, result: String, parts: Vec<String> },
}

/// A magnitude check against another dataflow's figure for the same area and period.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Plausibility {
    NotAbove { measures: Vec<String>, reference_dataflow: String, reference_measure: String },
}

/// How the harmonised view picks one figure among sources: the first source of `priority`
/// that has a figure wins; sources not listed come after, most recent release first.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Reconciliation {
    #[serde(default)]
    pub priority: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Source {
    pub id: String,
    pub name: Labels,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StructureError {
    #[error("{file}: {message}")]
    Toml { file: String, message: String },
    #[error("{file}: dataflow {dataflow}: {message}")]
    Invalid { file: String, dataflow: String, message: String },
    #[error("{file}, row {row}: {message}")]
    Csv { file: String, row: usize, message: String },
}

#[derive(Deserialize)]
struct DataflowFile {
    dataflow: Vec<Dataflow>,
}

#[derive(Deserialize)]
struct SourceFile {
    source: Vec<Source>,
}

pub fn parse_dataflows(file: &str, text: &str) -> Result<Vec<Dataflow>, StructureError> {
    let parsed: DataflowFile = toml::from_str(text)
        .map_err(|e| StructureError::Toml { file: file.to_string(), message: e.to_string() })?;
    for df in &parsed.dataflow {
        let invalid = |message: String| StructureError::Invalid {
            file: file.to_string(),
            dataflow: df.id.clone(),
            message,
        };
        let has_measure_dim = df.dimensions.iter().any(|d| d.id == "MEASURE");
        if has_measure_dim && df.measures.is_empty() {
            return Err(invalid("a MEASURE dimension needs a list of measures".into()));
        }
        for identity in &df.identities {
            let dim = match identity {
                Identity::Balance { dimension, .. } | Identity::Sum { dimension, .. } => dimension,
            };
            if !df.dimensions.iter().any(|d| &d.id == dim) {
                return Err(invalid(format!("identity on unknown dimension {dim}")));
            }
        }
    }
    Ok(parsed.dataflow)
}

pub fn parse_sources(file: &str, text: &str) -> Result<Vec<Source>, StructureError> {
    let parsed: SourceFile = toml::from_str(text)
        .map_err(|e| StructureError::Toml { file: file.to_string(), message: e.to_string() })?;
    Ok(parsed.source)
}

impl Dataflow {
    pub fn dimension_index(&self, id: &str) -> Option<usize> {
        self.dimensions.iter().position(|d| d.id == id)
    }

    pub fn measure(&self, code: &str) -> Option<&Measure> {
        self.measures.iter().find(|m| m.code == code)
    }
}
