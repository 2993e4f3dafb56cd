//! The SDMX 2.1 information model as koshi uses it: maintainable structures (agency and
//! data-provider schemes, code lists, concept schemes, data structure definitions, dataflows,
//! content constraints) and data (data sets of series of observations). Writers take these
//! types; readers produce them, with every problem as a [`Diagnostic`] at its [`Position`].

use serde::{Deserialize, Serialize};

/// Names in several languages, `(xml:lang, text)`, in the order they should be written
/// (English first). SDMX requires at least one name for every nameable artefact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Names(pub Vec<(String, String)>);

impl Names {
    pub fn en(text: impl Into<String>) -> Names {
        Names(vec![("en".into(), text.into())])
    }

    /// Add a name in `lang` unless `text` is empty.
    pub fn with(mut self, lang: &str, text: impl Into<String>) -> Names {
        let text = text.into();
        if !text.trim().is_empty() {
            self.0.push((lang.into(), text));
        }
        self
    }

    /// The name in `lang`, else the first one.
    pub fn get(&self, lang: &str) -> Option<&str> {
        self.0.iter().find(|(l, _)| l == lang).or_else(|| self.0.first()).map(|(_, t)| t.as_str())
    }
}

/// Which maintainable artefact: `agency:id(version)`, as in SDMX URNs and REST paths.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ArtefactRef {
    pub agency: String,
    pub id: String,
    pub version: String,
}

impl ArtefactRef {
    pub fn new(agency: impl Into<String>, id: impl Into<String>, version: impl Into<String>) -> ArtefactRef {
        ArtefactRef { agency: agency.into(), id: id.into(), version: version.into() }
    }
}

impl std::fmt::Display for ArtefactRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}({})", self.agency, self.id, self.version)
    }
}

/// Identification shared by every maintainable artefact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Maintainable {
    pub reference: ArtefactRef,
    pub names: Names,
    pub descriptions: Names,
    /// Final artefacts never change under the same version.
    pub is_final: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub id: String,
    pub names: Names,
    pub descriptions: Names,
    /// The parent code, for hierarchical code lists (a region's country).
    pub parent: Option<String>,
}

/// An agency scheme (`AGENCIES`), a data-provider scheme (`DATA_PROVIDERS`), a code list or a
/// concept scheme: a maintainable list of items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemScheme {
    pub artefact: Maintainable,
    pub items: Vec<Item>,
}

/// A component's concept and, where it is coded, its code list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Component {
    pub id: String,
    /// The concept: scheme and concept id.
    pub concept_scheme: ArtefactRef,
    pub concept: String,
    /// The code list its values come from; `None` for free text (or, for the time dimension
    /// and the primary measure, the representation the standard gives).
    pub codelist: Option<ArtefactRef>,
}

/// Where an attribute's value is attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Attachment {
    DataSet,
    /// To the series: the value is the same for every observation of a key.
    Series,
    Observation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributeDef {
    pub component: Component,
    pub attachment: Attachment,
    pub mandatory: bool,
}

/// A data structure definition: dimensions in key order, the time dimension
/// (`TIME_PERIOD`), the primary measure (`OBS_VALUE`) and the attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataStructure {
    pub artefact: Maintainable,
    pub dimensions: Vec<Component>,
    pub time_dimension: Component,
    pub primary_measure: Component,
    pub attributes: Vec<AttributeDef>,
}

impl DataStructure {
    pub fn dimension_ids(&self) -> Vec<&str> {
        self.dimensions.iter().map(|d| d.id.as_str()).collect()
    }

    pub fn attribute(&self, id: &str) -> Option<&AttributeDef> {
        self.attributes.iter().find(|a| a.component.id == id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataflowDef {
    pub artefact: Maintainable,
    pub structure: ArtefactRef,
}

/// The codes actually present in a dataflow's data (an `Actual` cube-region constraint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContentConstraint {
    pub artefact: Maintainable,
    pub dataflow: ArtefactRef,
    /// Dimension id → codes present, in DSD order.
    pub key_values: Vec<(String, Vec<String>)>,
    /// First and last period present.
    pub time_range: Option<(String, String)>,
}

/// Everything a structure message can carry. Writers write the non-empty parts in the order
/// the SDMX-ML 2.1 schema requires.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Structures {
    pub agency_schemes: Vec<ItemScheme>,
    pub data_provider_schemes: Vec<ItemScheme>,
    pub dataflows: Vec<DataflowDef>,
    pub codelists: Vec<ItemScheme>,
    pub concept_schemes: Vec<ItemScheme>,
    pub data_structures: Vec<DataStructure>,
    pub constraints: Vec<ContentConstraint>,
}

impl Structures {
    pub fn is_empty(&self) -> bool {
        self.agency_schemes.is_empty()
            && self.data_provider_schemes.is_empty()
            && self.dataflows.is_empty()
            && self.codelists.is_empty()
            && self.concept_schemes.is_empty()
            && self.data_structures.is_empty()
            && self.constraints.is_empty()
    }
}

/// How much of each structure a message carries (`detail` of the REST API).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StructureDetail {
    #[default]
    Full,
    /// Only id, agency, version and names: items, components and key values are left out.
    AllStubs,
    /// Id, agency, version, names and a URL (`structureURL`) where the whole artefact is served.
    ReferenceStubs,
}

/// The header every message starts with. There is no clock here: the caller says when the
/// message was prepared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    pub id: String,
    pub test: bool,
    /// `YYYY-MM-DDThh:mm:ss` (UTC).
    pub prepared: String,
    pub sender: String,
    pub receiver: Option<String>,
}

/// What a data set does to the receiver's data (SDMX-ML `action`, SDMX-CSV `ACTION`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub enum Action {
    /// SDMX-CSV `I`: data for information (a whole picture of what the sender holds).
    #[default]
    Information,
    /// `A` (SDMX-ML `Append`): add or update these observations.
    Append,
    /// `R` (SDMX-ML `Replace`): replace these observations.
    Replace,
    /// `D` (SDMX-ML `Delete`): withdraw these observations (or whole series).
    Delete,
    /// `M` (SDMX-CSV 2.0 `Merge`): update these observations, keeping the others.
    Merge,
}

impl Action {
    /// The SDMX-CSV letter.
    pub fn letter(self) -> char {
        match self {
            Action::Information => 'I',
            Action::Append => 'A',
            Action::Replace => 'R',
            Action::Delete => 'D',
            Action::Merge => 'M',
        }
    }

    pub fn from_letter(text: &str) -> Option<Action> {
        Some(match text.trim() {
            "I" | "i" => Action::Information,
            "A" | "a" => Action::Append,
            "R" | "r" => Action::Replace,
            "D" | "d" => Action::Delete,
            "M" | "m" => Action::Merge,
            _ => return None,
        })
    }

    /// The SDMX-ML 2.1 `action` attribute (its schema knows `Append`, `Replace`, `Delete` and
    /// `Information`; a merge is written as `Replace`).
    pub fn xml_name(self) -> &'static str {
        match self {
            Action::Information => "Information",
            Action::Append => "Append",
            Action::Replace | Action::Merge => "Replace",
            Action::Delete => "Delete",
        }
    }

    pub fn from_xml_name(text: &str) -> Option<Action> {
        Some(match text.trim() {
            "Information" => Action::Information,
            "Append" => Action::Append,
            "Replace" => Action::Replace,
            "Delete" => Action::Delete,
            _ => return None,
        })
    }
}

/// How observations are grouped in a data message (`dimensionAtObservation`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub enum ObservationDimension {
    /// Time series: one series per key, its observations by period.
    #[default]
    TimePeriod,
    /// Cross-sections: the observations of a series vary by this dimension (the period is
    /// then a series value).
    Dimension(String),
    /// A flat list: every observation carries its whole key.
    AllDimensions,
}

impl ObservationDimension {
    /// The SDMX-ML `dimensionAtObservation` value.
    pub fn id(&self) -> &str {
        match self {
            ObservationDimension::TimePeriod => "TIME_PERIOD",
            ObservationDimension::Dimension(d) => d,
            ObservationDimension::AllDimensions => "AllDimensions",
        }
    }
}

/// The start of one data set: which structure it follows, what it does, who provides it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataSetHeader {
    /// The dataflow the data belong to (SDMX-CSV `STRUCTURE_ID`, SDMX-ML `structureRef`).
    pub dataflow: ArtefactRef,
    /// The data structure the dataflow uses (SDMX-ML needs it to reference the structure).
    pub structure: ArtefactRef,
    pub action: Action,
    /// The data provider (`agency:DATA_PROVIDERS(1.0).ID`'s last part).
    pub provider: Option<String>,
    pub dimension_at_observation: ObservationDimension,
    /// Attributes attached to the whole data set.
    pub attributes: Vec<(String, String)>,
}

/// One observation: its period, its value as text (`None` or `NaN` when missing; SDMX
/// values use a dot and no grouping) and its observation-level attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Obs {
    pub time_period: String,
    pub value: Option<String>,
    pub attributes: Vec<(String, String)>,
}

/// One series: its key (dimension id, code) in DSD order, its series-level attributes and its
/// observations in period order. Writers choose the layout (time series, cross-section or
/// flat) from the data set header; the series is always given whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub key: Vec<(String, String)>,
    pub attributes: Vec<(String, String)>,
    pub observations: Vec<Obs>,
}

/// Where in a message something is: a line and column for XML, a record (1-based, the header
/// is record 1) and a column name for CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Position {
    /// The message's name as the caller gave it (a file name, a URL).
    pub file: String,
    pub line: u64,
    pub column: Option<String>,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, line {}", self.file, self.line)?;
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Severity {
    Warning,
    Error,
}

/// A problem found while reading a message. Readers collect them and go on where they can,
/// so one read lists every problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable upper-case code (`UNKNOWN_DIMENSION`, `BAD_ACTION`, `DTD_REFUSED` …).
    pub code: &'static str,
    pub position: Position,
    pub message: String,
}

/// One observation as a reader found it, with everything a receiver needs to store it:
/// the data set it came in (index, header), its whole key, period, value text and the
/// attributes that apply to it at every level (data set, series, observation), and where it
/// was in the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadObservation {
    pub dataset: usize,
    pub action: Action,
    /// The dataflow (or, when a message names only a DSD, the DSD) the data set follows.
    pub structure: ArtefactRef,
    pub provider: Option<String>,
    /// (dimension id, code) in the order the message gave them.
    pub key: Vec<(String, String)>,
    /// `None` for a series-level delete (a whole series withdrawn).
    pub time_period: Option<String>,
    pub value: Option<String>,
    pub attributes: Vec<(String, String)>,
    pub position: Position,
}

/// What a reader did: how many observations it passed on and every problem it found. A read
/// with an error diagnostic must not be stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReadReport {
    pub observations: u64,
    pub datasets: usize,
    pub diagnostics: Vec<Diagnostic>,
}

impl ReadReport {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }
}

/// Limits that bound a reader whatever the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Diagnostics kept; later ones are counted only.
    pub max_diagnostics: usize,
    /// Characters in one value, code, attribute or name.
    pub max_text: usize,
    /// XML element nesting depth.
    pub max_depth: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits { max_diagnostics: 10_000, max_text: 32_767, max_depth: 64 }
    }
}
