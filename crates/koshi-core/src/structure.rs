//! Dataflows, their dimensions and measures, identities, plausibility rules, reconciliation
//! policies, and the sources figures come from. Parsed from TOML text (no file access here).

use serde::{Deserialize, Serialize};

use crate::codelist::Labels;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
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

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    pub id: String,
    pub codelist: String,
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
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
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Identity {
    /// `result = plus − minus` (net migration = arrivals − departures).
    Balance { dimension: String, result: String, plus: String, minus: String },
    /// `result = Σ parts` (turnover = exports + imports; total = CIS + other countries).
    Sum { dimension: String, result: String, parts: Vec<String> },
}

/// A magnitude check against another dataflow's figure for the same area and period.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Plausibility {
    NotAbove { measures: Vec<String>, reference_dataflow: String, reference_measure: String },
}

/// How the harmonised view picks one figure among sources: the first source of `priority`
/// that has a figure wins; sources not listed come after, most recent release first.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reconciliation {
    #[serde(default)]
    pub priority: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub id: String,
    pub name: Labels,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
    /// The terms its figures may be reused under, as the source states them.
    #[serde(default)]
    pub licence: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StructureError {
    #[error("{file}: {message}")]
    Toml { file: String, message: String },
    #[error("{file}: dataflow {dataflow}: {message}")]
    Invalid { file: String, dataflow: String, message: String },
    #[error("{file}: source {id}: {message}")]
    InvalidSource { file: String, id: String, message: String },
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

/// Sources and dataflows declared by a user, in the shape of `sources.toml` and
/// `dataflows.toml` (`[[source]]` and `[[dataflow]]` tables, either may be absent).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Declarations {
    #[serde(default, rename = "source")]
    pub sources: Vec<Source>,
    #[serde(default, rename = "dataflow")]
    pub dataflows: Vec<Dataflow>,
}

impl Declarations {
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty() && self.dataflows.is_empty()
    }
}

pub fn parse_dataflows(file: &str, text: &str) -> Result<Vec<Dataflow>, StructureError> {
    let parsed: DataflowFile =
        toml::from_str(text).map_err(|e| StructureError::Toml { file: file.to_string(), message: e.to_string() })?;
    check_dataflows(file, &parsed.dataflow)?;
    Ok(parsed.dataflow)
}

pub fn parse_sources(file: &str, text: &str) -> Result<Vec<Source>, StructureError> {
    let parsed: SourceFile =
        toml::from_str(text).map_err(|e| StructureError::Toml { file: file.to_string(), message: e.to_string() })?;
    check_sources(file, &parsed.source)?;
    Ok(parsed.source)
}

/// Parse a user's declarations, checked as the bundled structure files are. References to code
/// lists and sources are checked when they join a catalogue ([`crate::Catalogue::add_declared`]).
pub fn parse_declarations(file: &str, text: &str) -> Result<Declarations, StructureError> {
    let parsed: Declarations =
        toml::from_str(text).map_err(|e| StructureError::Toml { file: file.to_string(), message: e.to_string() })?;
    if parsed.is_empty() {
        return Err(StructureError::Toml {
            file: file.to_string(),
            message: "declares no [[source]] and no [[dataflow]]".into(),
        });
    }
    check_sources(file, &parsed.sources)?;
    check_dataflows(file, &parsed.dataflows)?;
    Ok(parsed)
}

/// Ids are what keys, URLs and citations are built from: capitals, digits and `_`, starting
/// with a capital (`KZ_BNS`, `MIG_EXT`).
fn id_problem(id: &str) -> Option<String> {
    let mut chars = id.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && id.len() <= 64;
    (!well_formed)
        .then(|| format!("id `{id}` must be capitals, digits and `_`, start with a capital, at most 64 characters"))
}

/// Every source needs a well-formed id used once and an English name.
pub fn check_sources(file: &str, sources: &[Source]) -> Result<(), StructureError> {
    let mut seen = std::collections::HashSet::new();
    for s in sources {
        let invalid =
            |message: String| StructureError::InvalidSource { file: file.to_string(), id: s.id.clone(), message };
        if let Some(problem) = id_problem(&s.id) {
            return Err(invalid(problem));
        }
        if !seen.insert(s.id.as_str()) {
            return Err(invalid("declared twice".into()));
        }
        if s.name.en.trim().is_empty() {
            return Err(invalid("needs a name (name.en)".into()));
        }
    }
    Ok(())
}

/// Every dataflow needs a well-formed id used once, a name, distinct dimensions, measures for
/// a MEASURE dimension and identities over its own dimensions.
pub fn check_dataflows(file: &str, dataflows: &[Dataflow]) -> Result<(), StructureError> {
    let mut seen = std::collections::HashSet::new();
    for df in dataflows {
        let invalid =
            |message: String| StructureError::Invalid { file: file.to_string(), dataflow: df.id.clone(), message };
        if let Some(problem) = id_problem(&df.id) {
            return Err(invalid(problem));
        }
        if !seen.insert(df.id.as_str()) {
            return Err(invalid("declared twice".into()));
        }
        if df.name.en.trim().is_empty() {
            return Err(invalid("needs a name (name.en)".into()));
        }
        if df.dimensions.is_empty() {
            return Err(invalid("needs at least one dimension".into()));
        }
        let mut dims = std::collections::HashSet::new();
        for d in &df.dimensions {
            if let Some(problem) = id_problem(&d.id) {
                return Err(invalid(format!("dimension: {problem}")));
            }
            if !dims.insert(d.id.as_str()) {
                return Err(invalid(format!("dimension {} appears twice", d.id)));
            }
        }
        let has_measure_dim = df.dimensions.iter().any(|d| d.id == "MEASURE");
        if has_measure_dim && df.measures.is_empty() {
            return Err(invalid("a MEASURE dimension needs a list of measures".into()));
        }
        let mut measures = std::collections::HashSet::new();
        for m in &df.measures {
            if !measures.insert(m.code.as_str()) {
                return Err(invalid(format!("measure {} appears twice", m.code)));
            }
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
    Ok(())
}

impl Dataflow {
    pub fn dimension_index(&self, id: &str) -> Option<usize> {
        self.dimensions.iter().position(|d| d.id == id)
    }

    pub fn measure(&self, code: &str) -> Option<&Measure> {
        self.measures.iter().find(|m| m.code == code)
    }
}
