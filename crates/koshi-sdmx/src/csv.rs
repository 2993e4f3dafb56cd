//! SDMX-CSV 1.0 and 2.0 data messages: a streaming writer ([`CsvDataWriter`]) and a streaming
//! reader with diagnostics ([`read_csv`]).
//!
//! SDMX-CSV 1.0 starts every record with a `DATAFLOW` column (`AGENCY:ID(VERSION)`); 2.0 with
//! `STRUCTURE` (`dataflow`, `datastructure` or `dataprovision`), `STRUCTURE_ID` and, optionally,
//! `ACTION` (`I`, `A`, `R`, `D`, `M`). Then come the dimensions, `TIME_PERIOD`, `OBS_VALUE` and the
//! attributes. The reader also takes the forms a `labels=both` or `labels=name` request gives
//! (`ID: Name` headers, `CODE: Label` values, a name column after each component) and the
//! `SERIES_KEY`/`OBS_KEY` columns of a `keys=` request, and reduces them to ids.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::ops::ControlFlow;

use crate::{
    Action, ArtefactRef, DataSetHeader, DataStructure, DataWriter, Diagnostic, Position, ReadError, ReadLimits,
    ReadObservation, ReadReport, Series, Severity, Sink, Structures, WriteError,
};

/// Which SDMX-CSV version a message follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CsvVersion {
    /// SDMX-CSV 1.0: a `DATAFLOW` column, no action.
    V1,
    /// SDMX-CSV 2.0: `STRUCTURE`, `STRUCTURE_ID` and `ACTION` columns.
    V2,
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

/// Where a row's attribute value comes from, per attribute column.
const NONE: usize = usize::MAX;

/// Streams SDMX-CSV: the header row when it is made, one row per observation as series come,
/// nothing held.
///
/// V2 writes `STRUCTURE` (always `dataflow`), `STRUCTURE_ID` and `ACTION` (the data set's
/// [`Action::letter`]). Columns: the dimensions in DSD order (whatever the data set's
/// dimension at observation: CSV is always flat), `TIME_PERIOD`, `OBS_VALUE`, then every DSD
/// attribute (data-set, series and observation level) in DSD order. A series with no
/// observations is one row with empty `TIME_PERIOD` and `OBS_VALUE`. Values are written as
/// given, a missing value as an empty field; fields are quoted (RFC 4180) only when needed.
pub struct CsvDataWriter<W: Write> {
    out: csv::Writer<W>,
    version: CsvVersion,
    dimensions: Vec<String>,
    attributes: Vec<String>,
    /// The open data set: its structure id text, action letter and data-set attribute values.
    open: Option<OpenDataSet>,
    /// Per dimension: the index in the current series' key (`NONE` when absent).
    key_index: Vec<usize>,
    /// Per attribute: the index in the current series' attributes (`NONE` when absent).
    series_attr: Vec<usize>,
    /// Per attribute: the index in the current observation's attributes (`NONE` when absent).
    obs_attr: Vec<usize>,
}

struct OpenDataSet {
    structure_id: String,
    action: [u8; 1],
    delete: bool,
    /// Per attribute: the data-set level value.
    values: Vec<Option<String>>,
}

fn csv_error(error: csv::Error) -> WriteError {
    match error.into_kind() {
        csv::ErrorKind::Io(e) => WriteError::Io(e),
        other => WriteError::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

impl<W: Write> CsvDataWriter<W> {
    /// Write the header row for `dsd` and be ready for data sets of `dataflow`.
    pub fn new(out: W, version: CsvVersion, dsd: &DataStructure, dataflow: &ArtefactRef) -> Result<Self, WriteError> {
        let _ = dataflow; // Each data set names its dataflow in its header.
        let mut out = csv::WriterBuilder::new().buffer_capacity(64 * 1024).from_writer(out);
        let dimensions: Vec<String> = dsd.dimensions.iter().map(|d| d.id.clone()).collect();
        let attributes: Vec<String> = dsd.attributes.iter().map(|a| a.component.id.clone()).collect();
        match version {
            CsvVersion::V1 => out.write_field("DATAFLOW").map_err(csv_error)?,
            CsvVersion::V2 => {
                for f in ["STRUCTURE", "STRUCTURE_ID", "ACTION"] {
                    out.write_field(f).map_err(csv_error)?;
                }
            }
        }
        for d in &dimensions {
            out.write_field(d).map_err(csv_error)?;
        }
        out.write_field(&dsd.time_dimension.id).map_err(csv_error)?;
        out.write_field(&dsd.primary_measure.id).map_err(csv_error)?;
        for a in &attributes {
            out.write_field(a).map_err(csv_error)?;
        }
        out.write_record(std::iter::empty::<&[u8]>()).map_err(csv_error)?;
        let (nd, na) = (dimensions.len(), attributes.len());
        Ok(CsvDataWriter {
            out,
            version,
            dimensions,
            attributes,
            open: None,
            key_index: vec![NONE; nd],
            series_attr: vec![NONE; na],
            obs_attr: vec![NONE; na],
        })
    }

    fn attribute_column(&self, id: &str) -> Result<usize, WriteError> {
        self.attributes
            .iter()
            .position(|a| a == id)
            .ok_or_else(|| WriteError::Structure(format!("attribute {id} is not in the data structure")))
    }
}

impl<W: Write> DataWriter for CsvDataWriter<W> {
    fn start_dataset(&mut self, header: &DataSetHeader) -> Result<(), WriteError> {
        let mut values = vec![None; self.attributes.len()];
        for (id, value) in &header.attributes {
            let column = self.attribute_column(id)?;
            values[column] = Some(value.clone());
        }
        let letter = header.action.letter();
        self.open = Some(OpenDataSet {
            structure_id: header.dataflow.to_string(),
            action: [letter as u8],
            delete: header.action == Action::Delete,
            values,
        });
        Ok(())
    }

    fn write_series(&mut self, series: &Series) -> Result<(), WriteError> {
        let Some(open) = &self.open else {
            return Err(WriteError::Structure("a series written outside a data set".into()));
        };
        // The key: the fast path when it is in DSD order, else looked up.
        let in_order = series.key.len() == self.dimensions.len()
            && series.key.iter().zip(&self.dimensions).all(|((id, _), d)| id == d);
        if in_order {
            for (i, slot) in self.key_index.iter_mut().enumerate() {
                *slot = i;
            }
        } else {
            self.key_index.fill(NONE);
            for (k, (id, _)) in series.key.iter().enumerate() {
                let Some(i) = self.dimensions.iter().position(|d| d == id) else {
                    return Err(WriteError::Structure(format!("dimension {id} is not in the data structure")));
                };
                if self.key_index[i] != NONE {
                    return Err(WriteError::Structure(format!("dimension {id} given twice in a series key")));
                }
                self.key_index[i] = k;
            }
            if !open.delete
                && let Some(i) = self.key_index.iter().position(|&k| k == NONE)
            {
                return Err(WriteError::Structure(format!(
                    "the series key has no value for dimension {}",
                    self.dimensions[i]
                )));
            }
        }
        self.series_attr.fill(NONE);
        for (k, (id, _)) in series.attributes.iter().enumerate() {
            let column = self.attribute_column(id)?;
            self.series_attr[column] = k;
        }

        let rows = series.observations.len().max(1);
        for row in 0..rows {
            let obs = series.observations.get(row);
            self.obs_attr.fill(NONE);
            if let Some(obs) = obs {
                for (k, (id, _)) in obs.attributes.iter().enumerate() {
                    let column = self.attribute_column(id)?;
                    self.obs_attr[column] = k;
                }
            }
            let out = &mut self.out;
            match self.version {
                CsvVersion::V1 => out.write_field(&open.structure_id).map_err(csv_error)?,
                CsvVersion::V2 => {
                    out.write_field("dataflow").map_err(csv_error)?;
                    out.write_field(&open.structure_id).map_err(csv_error)?;
                    out.write_field(open.action).map_err(csv_error)?;
                }
            }
            for &k in &self.key_index {
                let code = series.key.get(k).map_or("", |(_, code)| code.as_str());
                out.write_field(code).map_err(csv_error)?;
            }
            match obs {
                Some(obs) => {
                    out.write_field(&obs.time_period).map_err(csv_error)?;
                    out.write_field(obs.value.as_deref().unwrap_or("")).map_err(csv_error)?;
                }
                None => {
                    out.write_field("").map_err(csv_error)?;
                    out.write_field("").map_err(csv_error)?;
                }
            }
            for column in 0..self.attributes.len() {
                let o = self.obs_attr[column];
                let s = self.series_attr[column];
                let value = if o != NONE {
                    obs.and_then(|obs| obs.attributes.get(o)).map_or("", |(_, v)| v.as_str())
                } else if s != NONE {
                    series.attributes.get(s).map_or("", |(_, v)| v.as_str())
                } else {
                    open.values[column].as_deref().unwrap_or("")
                };
                out.write_field(value).map_err(csv_error)?;
            }
            out.write_record(std::iter::empty::<&[u8]>()).map_err(csv_error)?;
        }
        Ok(())
    }

    fn end_dataset(&mut self) -> Result<(), WriteError> {
        self.open = None;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), WriteError> {
        self.out.flush()?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------

/// Diagnostic codes of the SDMX-CSV reader.
pub mod codes {
    /// The first column is neither `DATAFLOW` (1.0) nor `STRUCTURE` (2.0).
    pub const NOT_SDMX_CSV: &str = "NOT_SDMX_CSV";
    /// A 2.0 message without a `STRUCTURE_ID` column, or a record with an empty structure id.
    pub const MISSING_STRUCTURE_ID: &str = "MISSING_STRUCTURE_ID";
    /// A structure id that is not `AGENCY:ID(VERSION)`.
    pub const BAD_STRUCTURE_ID: &str = "BAD_STRUCTURE_ID";
    /// A `STRUCTURE` value other than `dataflow`, `datastructure` or `dataprovision`.
    pub const BAD_STRUCTURE_KIND: &str = "BAD_STRUCTURE_KIND";
    /// An `ACTION` value other than `I`, `A`, `R`, `D` or `M`.
    pub const BAD_ACTION: &str = "BAD_ACTION";
    /// A record with more or fewer fields than the header.
    pub const FIELD_COUNT: &str = "FIELD_COUNT";
    /// A header cell that is empty or repeats another.
    pub const BAD_COLUMN: &str = "BAD_COLUMN";
    /// A column that is no component of the record's data structure.
    pub const UNKNOWN_COLUMN: &str = "UNKNOWN_COLUMN";
    /// A dimension of the record's data structure without a column.
    pub const MISSING_DIMENSION: &str = "MISSING_DIMENSION";
    /// A record without a value for a dimension (only deletes may leave one empty).
    pub const MISSING_KEY_VALUE: &str = "MISSING_KEY_VALUE";
    /// A code that is not in the component's code list.
    pub const UNKNOWN_CODE: &str = "UNKNOWN_CODE";
    /// A field longer than [`ReadLimits::max_text`](crate::ReadLimits::max_text).
    pub const TEXT_TOO_LONG: &str = "TEXT_TOO_LONG";
    /// Bytes that are not UTF-8.
    pub const NOT_UTF8: &str = "NOT_UTF8";
    /// A message without a header row.
    pub const EMPTY: &str = "EMPTY";
    /// The last diagnostic when more were found than `max_diagnostics`: how many were left out.
    pub const TOO_MANY_DIAGNOSTICS: &str = "TOO_MANY_DIAGNOSTICS";
}

/// What `STRUCTURE` says the structure id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum StructureKind {
    Dataflow,
    DataStructure,
    DataProvision,
}

impl StructureKind {
    fn parse(text: &str) -> Option<StructureKind> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("dataflow") {
            Some(StructureKind::Dataflow)
        } else if t.eq_ignore_ascii_case("datastructure") {
            Some(StructureKind::DataStructure)
        } else if t.eq_ignore_ascii_case("dataprovision") {
            Some(StructureKind::DataProvision)
        } else {
            None
        }
    }
}

/// `AGENCY:ID(VERSION)`, optionally followed by `: Name` (labels=both).
fn parse_structure_id(text: &str) -> Option<ArtefactRef> {
    let text = text.trim();
    let (agency, rest) = text.split_once(':')?;
    let (id, rest) = rest.split_once('(')?;
    let (version, rest) = rest.split_once(')')?;
    let rest = rest.trim_start();
    if !(rest.is_empty() || rest.starts_with(':')) {
        return None;
    }
    let ok = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || matches!(c, ':' | '(' | ')' | ','));
    if ok(agency) && ok(id) && ok(version) { Some(ArtefactRef::new(agency, id, version)) } else { None }
}

/// `ID: Name` → `ID`.
fn strip_label(text: &str) -> &str {
    match text.split_once(": ") {
        Some((id, _)) => id.trim_end(),
        None => text,
    }
}

/// What a column holds for one structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// `STRUCTURE`, `STRUCTURE_ID`, `ACTION`, names and keys: read apart or ignored.
    Ignored,
    /// The dimension at this position of the layout's key.
    Dimension(usize),
    Time,
    Value,
    Attribute,
    /// Not in the structure: an error if it has a value.
    Unknown,
}

/// How the columns map to one structure's components.
struct Layout {
    roles: Vec<Role>,
    /// The code list each column's values must come from (index into `Reader::code_sets`).
    code_set: Vec<Option<usize>>,
    /// Key positions → column, in DSD order (or column order without a DSD).
    key_columns: Vec<usize>,
    has_dsd: bool,
    /// Unknown columns already reported for this structure.
    reported_unknown: Vec<bool>,
}

struct Columns {
    /// Column ids (labels stripped), as the header gives them.
    ids: Vec<String>,
    /// Whether a column's values may carry `: Label`.
    labelled: Vec<bool>,
    /// Columns that carry components (not structure, action, key or name columns).
    component: Vec<bool>,
    structure: Option<usize>,
    structure_id: usize,
    action: Option<usize>,
}

struct Diagnostics {
    list: Vec<Diagnostic>,
    max: usize,
    left_out: u64,
    left_out_error: bool,
    first_left_out: Option<Position>,
}

impl Diagnostics {
    fn push(&mut self, severity: Severity, code: &'static str, position: Position, message: String) {
        if self.list.len() < self.max {
            self.list.push(Diagnostic { severity, code, position, message });
        } else {
            self.left_out += 1;
            self.left_out_error |= severity == Severity::Error;
            if self.first_left_out.is_none() {
                self.first_left_out = Some(position);
            }
        }
    }

    fn into_list(mut self) -> Vec<Diagnostic> {
        if let Some(position) = self.first_left_out.take() {
            let severity = if self.left_out_error { Severity::Error } else { Severity::Warning };
            self.list.push(Diagnostic {
                severity,
                code: codes::TOO_MANY_DIAGNOSTICS,
                position,
                message: format!("{} more problems, from here on, are not listed", self.left_out),
            });
        }
        self.list
    }
}

struct Reader<'s> {
    file: String,
    limits: ReadLimits,
    structures: &'s Structures,
    header: Columns,
    /// Code sets of the code lists met so far, by code list.
    code_sets: Vec<HashSet<&'s str>>,
    code_set_index: HashMap<&'s ArtefactRef, usize>,
    layouts: Vec<Layout>,
    layout_index: HashMap<(StructureKind, ArtefactRef), usize>,
    diagnostics: Diagnostics,
}

impl<'s> Reader<'s> {
    fn position(&self, record: u64, column: Option<usize>) -> Position {
        Position { file: self.file.clone(), line: record, column: column.map(|c| self.header.ids[c].clone()) }
    }

    fn error(&mut self, code: &'static str, record: u64, column: Option<usize>, message: String) {
        let position = self.position(record, column);
        self.diagnostics.push(Severity::Error, code, position, message);
    }

    fn dsd_for(&self, kind: StructureKind, reference: &ArtefactRef) -> Option<&'s DataStructure> {
        let structures = self.structures;
        let dsd_ref = match kind {
            StructureKind::Dataflow => {
                &structures.dataflows.iter().find(|f| f.artefact.reference == *reference)?.structure
            }
            StructureKind::DataStructure => reference,
            StructureKind::DataProvision => return None,
        };
        structures.data_structures.iter().find(|d| d.artefact.reference == *dsd_ref)
    }

    fn code_set(&mut self, codelist: &Option<ArtefactRef>) -> Option<usize> {
        let structures = self.structures;
        let reference = codelist.as_ref()?;
        let scheme = structures.codelists.iter().find(|c| c.artefact.reference == *reference)?;
        let key = &scheme.artefact.reference;
        if let Some(&i) = self.code_set_index.get(key) {
            return Some(i);
        }
        self.code_sets.push(scheme.items.iter().map(|i| i.id.as_str()).collect());
        self.code_set_index.insert(key, self.code_sets.len() - 1);
        Some(self.code_sets.len() - 1)
    }

    /// The layout of `reference`, made (and its header problems reported) the first time.
    fn layout(&mut self, kind: StructureKind, reference: &ArtefactRef, record: u64) -> usize {
        if let Some(&i) = self.layout_index.get(&(kind, reference.clone())) {
            return i;
        }
        let n = self.header.ids.len();
        let mut roles = vec![Role::Ignored; n];
        let mut code_set = vec![None; n];
        let mut key_columns = Vec::new();
        let dsd = self.dsd_for(kind, reference);
        match dsd {
            Some(dsd) => {
                for c in 0..n {
                    if !self.header.component[c] {
                        continue;
                    }
                    let id = self.header.ids[c].as_str();
                    roles[c] = if id == dsd.time_dimension.id {
                        Role::Time
                    } else if id == dsd.primary_measure.id {
                        Role::Value
                    } else if let Some(p) = dsd.dimensions.iter().position(|d| d.id == id) {
                        code_set[c] = self.code_set(&dsd.dimensions[p].codelist);
                        Role::Dimension(p)
                    } else if let Some(a) = dsd.attribute(id) {
                        code_set[c] = self.code_set(&a.component.codelist);
                        Role::Attribute
                    } else {
                        Role::Unknown
                    };
                }
                for (p, d) in dsd.dimensions.iter().enumerate() {
                    match roles.iter().position(|r| *r == Role::Dimension(p)) {
                        Some(c) => key_columns.push(c),
                        None => self.missing_dimension(&d.id, reference, record),
                    }
                }
                if !roles.contains(&Role::Time) {
                    self.missing_dimension(&dsd.time_dimension.id, reference, record);
                }
            }
            None => {
                // Without the structure: dimensions up to TIME_PERIOD or OBS_VALUE, then attributes.
                let mut past_key = false;
                for (c, role) in roles.iter_mut().enumerate() {
                    if !self.header.component[c] {
                        continue;
                    }
                    *role = match self.header.ids[c].as_str() {
                        "TIME_PERIOD" => {
                            past_key = true;
                            Role::Time
                        }
                        "OBS_VALUE" => {
                            past_key = true;
                            Role::Value
                        }
                        _ if past_key => Role::Attribute,
                        _ => {
                            key_columns.push(c);
                            Role::Dimension(key_columns.len() - 1)
                        }
                    };
                }
            }
        }
        self.layouts.push(Layout {
            roles,
            code_set,
            key_columns,
            has_dsd: dsd.is_some(),
            reported_unknown: vec![false; n],
        });
        let i = self.layouts.len() - 1;
        self.layout_index.insert((kind, reference.clone()), i);
        i
    }

    fn missing_dimension(&mut self, id: &str, reference: &ArtefactRef, record: u64) {
        let position = Position { file: self.file.clone(), line: record, column: Some(id.to_string()) };
        self.diagnostics.push(
            Severity::Error,
            codes::MISSING_DIMENSION,
            position,
            format!("the data structure of {reference} has a dimension {id}, but the message has no column for it"),
        );
    }
}

/// Read the header row: the version, the structure columns and the component columns.
fn read_header(cells: &[String], diagnostics: &mut Diagnostics, file: &str, max_text: usize) -> Option<Columns> {
    let pos = |column: Option<&str>| Position { file: file.to_string(), line: 1, column: column.map(str::to_string) };
    if let Some(c) = cells.iter().position(|c| c.chars().count() > max_text) {
        let column = format!("{}", c + 1);
        let message = format!("header cell {column} is longer than {max_text} characters");
        diagnostics.push(Severity::Error, codes::TEXT_TOO_LONG, pos(Some(&column)), message);
        return None;
    }
    let first = cells.first().map(|c| c.trim()).unwrap_or("");
    let version = if first.eq_ignore_ascii_case("DATAFLOW") {
        CsvVersion::V1
    } else if first.eq_ignore_ascii_case("STRUCTURE") {
        CsvVersion::V2
    } else {
        diagnostics.push(
            Severity::Error,
            codes::NOT_SDMX_CSV,
            pos(Some(first)),
            format!(
                "the first column is {first:?}: SDMX-CSV 1.0 starts with DATAFLOW, 2.0 with STRUCTURE and STRUCTURE_ID"
            ),
        );
        return None;
    };
    let n = cells.len();
    let mut ids = Vec::with_capacity(n);
    let mut labelled = Vec::with_capacity(n);
    for cell in cells {
        let cell = cell.trim();
        ids.push(strip_label(cell).to_string());
        labelled.push(cell.contains(": "));
    }
    let mut component = vec![true; n];
    component[0] = false;
    let (mut structure, mut structure_id, mut action) = (None, None, None);
    match version {
        CsvVersion::V1 => structure_id = Some(0),
        CsvVersion::V2 => {
            structure = Some(0);
            let mut names = false;
            for (c, id) in ids.iter().enumerate().skip(1) {
                let upper = id.to_ascii_uppercase();
                match upper.as_str() {
                    "STRUCTURE_ID" if structure_id.is_none() => structure_id = Some(c),
                    "ACTION" if action.is_none() => action = Some(c),
                    "STRUCTURE_NAME" => names = true,
                    "SERIES_KEY" | "OBS_KEY" => {}
                    _ => continue,
                }
                component[c] = false;
            }
            // labels=name: every component column is followed by a column of its labels.
            if names {
                let mut label_next = false;
                for flag in component.iter_mut() {
                    if *flag {
                        if label_next {
                            *flag = false;
                        }
                        label_next = !label_next;
                    }
                }
            }
        }
    }
    let Some(structure_id) = structure_id else {
        diagnostics.push(
            Severity::Error,
            codes::MISSING_STRUCTURE_ID,
            pos(None),
            "an SDMX-CSV 2.0 message needs a STRUCTURE_ID column".into(),
        );
        return None;
    };
    let mut seen = HashSet::new();
    let mut ok = true;
    for (c, id) in ids.iter().enumerate() {
        if !component[c] {
            continue;
        }
        if id.is_empty() {
            diagnostics.push(
                Severity::Error,
                codes::BAD_COLUMN,
                pos(Some("")),
                format!("column {} has no name", c + 1),
            );
            ok = false;
        } else if !seen.insert(id.as_str()) {
            diagnostics.push(Severity::Error, codes::BAD_COLUMN, pos(Some(id)), format!("column {id} appears twice"));
            ok = false;
        }
    }
    ok.then_some(Columns { ids, labelled, component, structure, structure_id, action })
}

fn cells_of(record: &csv::ByteRecord) -> Result<Vec<String>, usize> {
    let mut cells = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        match std::str::from_utf8(field) {
            Ok(s) => cells.push(s.to_string()),
            Err(_) => return Err(i),
        }
    }
    Ok(cells)
}

/// Reads SDMX-CSV 1.0 or 2.0 (told apart by the first header cell, `DATAFLOW` or `STRUCTURE`,
/// in any case), streaming: one [`ReadObservation`] per record, handed to `sink` as it is read.
///
/// A data set is a run of records with the same structure and action (`dataset` counts them
/// from 0). The action comes from `ACTION` (1.0, and 2.0 without that column or with it
/// empty: [`Action::Information`]); the key is (dimension id, code) pairs; `ID: Name` header
/// cells and `CODE: Label` values are reduced to their ids.
///
/// When `structures` holds the record's data structure (a dataflow reference resolves to its
/// DSD through `structures.dataflows`; a datastructure reference directly), the columns are
/// matched to it: a column it does not have (with a value), a dimension without a column, a
/// code not in a coded component's code list (when `structures` has that code list) are
/// errors naming record and column, and the key is in DSD order. Without the DSD, every column
/// between the structure columns and `TIME_PERIOD` (or `OBS_VALUE`, whichever comes first) is
/// taken as a dimension and the later ones as attributes.
///
/// Always errors: a record with a different number of fields than the header, an invalid
/// `ACTION`, a missing structure id, an unknown `STRUCTURE` kind, a field longer than
/// `limits.max_text`. An empty `OBS_VALUE` is a missing value (in a delete, the whole
/// observation withdrawn); an empty `TIME_PERIOD` a series-level row. Records with an error are
/// not passed on. Every problem is reported; past `limits.max_diagnostics` they are only
/// counted, in one last [`codes::TOO_MANY_DIAGNOSTICS`] diagnostic.
pub fn read_csv<R: Read>(
    file: &str,
    input: R,
    limits: ReadLimits,
    structures: &Structures,
    sink: &mut Sink<'_>,
) -> Result<ReadReport, ReadError> {
    let io_error = |e: csv::Error| -> ReadError {
        let source = match e.into_kind() {
            csv::ErrorKind::Io(e) => e,
            other => std::io::Error::other(format!("{other:?}")),
        };
        ReadError::Io { file: file.to_string(), source }
    };
    let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
    let mut diagnostics = Diagnostics {
        list: Vec::new(),
        max: limits.max_diagnostics,
        left_out: 0,
        left_out_error: false,
        first_left_out: None,
    };
    let mut report = ReadReport::default();
    let mut record = csv::ByteRecord::new();

    // The header row.
    if !csv.read_byte_record(&mut record).map_err(io_error)? {
        diagnostics.push(
            Severity::Error,
            codes::EMPTY,
            Position { file: file.to_string(), line: 1, column: None },
            "the message is empty: SDMX-CSV needs a header row".into(),
        );
        report.diagnostics = diagnostics.into_list();
        return Ok(report);
    }
    let header = match cells_of(&record) {
        Ok(mut cells) => {
            if let Some(first) = cells.first_mut()
                && let Some(rest) = first.strip_prefix('\u{feff}')
            {
                *first = rest.to_string();
            }
            read_header(&cells, &mut diagnostics, file, limits.max_text)
        }
        Err(_) => {
            diagnostics.push(
                Severity::Error,
                codes::NOT_UTF8,
                Position { file: file.to_string(), line: 1, column: None },
                "the header row is not UTF-8".into(),
            );
            None
        }
    };
    let Some(header) = header else {
        report.diagnostics = diagnostics.into_list();
        return Ok(report);
    };

    let mut reader = Reader {
        file: file.to_string(),
        limits,
        structures,
        header,
        code_sets: Vec::new(),
        code_set_index: HashMap::new(),
        layouts: Vec::new(),
        layout_index: HashMap::new(),
        diagnostics,
    };
    let width = reader.header.ids.len();
    let mut number: u64 = 1;
    // The current data set: structure kind, reference, action; and the last structure cell read.
    let mut current: Option<(StructureKind, ArtefactRef, Action)> = None;
    let mut last_structure: Option<(StructureKind, String, ArtefactRef)> = None;

    while csv.read_byte_record(&mut record).map_err(io_error)? {
        number += 1;
        if record.len() != width {
            let (column, message) = if record.len() < width {
                (Some(record.len()), format!("the record has {} fields, the header {width}", record.len()))
            } else {
                (None, format!("the record has {} fields, the header only {width}", record.len()))
            };
            reader.error(codes::FIELD_COUNT, number, column, message);
            continue;
        }
        let mut cells: Vec<&str> = Vec::with_capacity(width);
        let mut bad = false;
        for (c, field) in record.iter().enumerate() {
            match std::str::from_utf8(field) {
                Ok(s) => cells.push(s),
                Err(_) => {
                    reader.error(codes::NOT_UTF8, number, Some(c), "the field is not UTF-8".into());
                    bad = true;
                    cells.push("");
                }
            }
        }
        for (c, cell) in cells.iter().enumerate() {
            if cell.len() > reader.limits.max_text && cell.chars().count() > reader.limits.max_text {
                let max = reader.limits.max_text;
                reader.error(
                    codes::TEXT_TOO_LONG,
                    number,
                    Some(c),
                    format!("the field is longer than {max} characters"),
                );
                bad = true;
            }
        }
        if bad {
            continue;
        }

        // Structure and action.
        let kind = match reader.header.structure {
            None => Some(StructureKind::Dataflow),
            Some(c) => {
                let kind = StructureKind::parse(cells[c]);
                if kind.is_none() {
                    let text = cells[c];
                    reader.error(
                        codes::BAD_STRUCTURE_KIND,
                        number,
                        Some(c),
                        format!("STRUCTURE is {text:?}: it must be dataflow, datastructure or dataprovision"),
                    );
                }
                kind
            }
        };
        let id_column = reader.header.structure_id;
        let id_text = cells[id_column].trim();
        let reference = match &last_structure {
            Some((k, text, r)) if Some(*k) == kind && text == id_text => Some(r.clone()),
            _ => {
                if id_text.is_empty() {
                    reader.error(
                        codes::MISSING_STRUCTURE_ID,
                        number,
                        Some(id_column),
                        "the structure id is empty".into(),
                    );
                    None
                } else {
                    let reference = parse_structure_id(id_text);
                    if reference.is_none() {
                        reader.error(
                            codes::BAD_STRUCTURE_ID,
                            number,
                            Some(id_column),
                            format!("the structure id {id_text:?} is not AGENCY:ID(VERSION)"),
                        );
                    }
                    reference
                }
            }
        };
        let action = match reader.header.action {
            None => Some(Action::Information),
            Some(c) => {
                let text = strip_label(cells[c].trim());
                if text.is_empty() {
                    Some(Action::Information)
                } else {
                    let action = Action::from_letter(text);
                    if action.is_none() {
                        reader.error(
                            codes::BAD_ACTION,
                            number,
                            Some(c),
                            format!("ACTION is {text:?}: it must be I, A, R, D or M"),
                        );
                    }
                    action
                }
            }
        };
        let (Some(kind), Some(reference), Some(action)) = (kind, reference, action) else { continue };
        if last_structure.as_ref().is_none_or(|(k, text, _)| *k != kind || text != id_text) {
            last_structure = Some((kind, id_text.to_string(), reference.clone()));
        }
        let layout = reader.layout(kind, &reference, number);

        // The components.
        let mut bad = false;
        let mut key = Vec::with_capacity(reader.layouts[layout].key_columns.len());
        let mut time_period = None;
        let mut value = None;
        let mut attributes = Vec::new();
        let delete = action == Action::Delete;
        for position in 0..reader.layouts[layout].key_columns.len() {
            let c = reader.layouts[layout].key_columns[position];
            let code = value_of(&reader.header, &cells, c);
            if code.is_empty() {
                if reader.layouts[layout].has_dsd && !delete {
                    let id = &reader.header.ids[c];
                    let message = format!("no value for dimension {id} (only a delete may leave it empty)");
                    reader.error(codes::MISSING_KEY_VALUE, number, Some(c), message);
                    bad = true;
                }
                continue;
            }
            bad |= check_code(&mut reader, layout, c, code, number);
            key.push((reader.header.ids[c].clone(), code.to_string()));
        }
        for c in 0..width {
            let role = reader.layouts[layout].roles[c];
            let text = value_of(&reader.header, &cells, c);
            match role {
                Role::Ignored | Role::Dimension(_) => {}
                Role::Time => time_period = (!text.is_empty()).then(|| text.to_string()),
                Role::Value => value = (!text.is_empty()).then(|| text.to_string()),
                Role::Attribute => {
                    if !text.is_empty() {
                        bad |= check_code(&mut reader, layout, c, text, number);
                        attributes.push((reader.header.ids[c].clone(), text.to_string()));
                    }
                }
                Role::Unknown => {
                    if !text.is_empty() && !reader.layouts[layout].reported_unknown[c] {
                        reader.layouts[layout].reported_unknown[c] = true;
                        let message = format!("column {} is not a component of {reference}", reader.header.ids[c]);
                        reader.error(codes::UNKNOWN_COLUMN, number, Some(c), message);
                    }
                    bad |= !text.is_empty();
                }
            }
        }
        if bad {
            continue;
        }
        if current.as_ref().is_none_or(|(k, r, a)| *k != kind || *r != reference || *a != action) {
            report.datasets += 1;
            current = Some((kind, reference.clone(), action));
        }
        let observation = ReadObservation {
            dataset: report.datasets - 1,
            action,
            structure: reference,
            provider: None,
            key,
            time_period,
            value,
            attributes,
            position: Position { file: reader.file.clone(), line: number, column: None },
        };
        report.observations += 1;
        if sink(observation) == ControlFlow::Break(()) {
            break;
        }
    }
    report.diagnostics = reader.diagnostics.into_list();
    Ok(report)
}

/// A field's value: `CODE: Label` reduced to `CODE` in labelled columns.
fn value_of<'a>(header: &Columns, cells: &[&'a str], c: usize) -> &'a str {
    let cell = cells[c];
    if header.labelled[c] { strip_label(cell) } else { cell }
}

/// Whether `code` is outside the code list of column `c` (reported).
fn check_code(reader: &mut Reader<'_>, layout: usize, c: usize, code: &str, record: u64) -> bool {
    let Some(set) = reader.layouts[layout].code_set[c] else { return false };
    if reader.code_sets[set].contains(code) {
        return false;
    }
    let message = format!("{code:?} is not a code of the code list of {}", reader.header.ids[c]);
    reader.error(codes::UNKNOWN_CODE, record, Some(c), message);
    true
}
