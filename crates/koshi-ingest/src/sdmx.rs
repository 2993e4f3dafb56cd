//! SDMX messages in: SDMX-CSV 1.0 and 2.0, and SDMX-ML 2.1 generic and structure-specific
//! data, read through the same planner as every other file.
//!
//! The message is read whole with [`koshi_sdmx`] (every problem of the message listed with
//! its line), its observations become the rows of a table whose columns are the message's
//! components (`DATAFLOW`, the dimensions, `TIME_PERIOD`, `OBS_VALUE`, the attributes), and the
//! mapping plans them like a CSV file. koshi's own messages need no mapping: their components
//! are koshi's (`SOURCE`, `DEFINITION`, `RELEASE`, `RELEASE_DATE`, `UNIT_MEASURE` …), so the
//! mapping is implied. A message from elsewhere (the ECB's exchange rates) comes with a mapping
//! whose `column`s name its components.
//!
//! Actions are honoured in the message's order, as one transaction: `I`, `A`, `M` and `R` give
//! figures; `D` withdraws the figure of its key and period ([`koshi_core::ObsStatus::Withdrawn`]),
//! in a release of its own, so that what was known before stays known. A delete row with empty
//! dimensions withdraws every figure the bank holds under the key it does give.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Read};
use std::ops::ControlFlow;

use koshi_core::Catalogue;
use koshi_core::observation::from_sdmx_period;
use koshi_core::validate::Severity;
use koshi_sdmx::{Action, ReadLimits, ReadObservation, Structures};

use crate::ingest::{Diagnostic, IngestOptions, IngestPlan, ReferenceLookup, plan_ingest};
use crate::mapping::{FieldSpec, Mapping};
use crate::table::Input;
use crate::{IngestError, LoadError};

/// The attribute columns of koshi's data structures and the mapping field each one fills.
const KOSHI_ATTRIBUTES: &[(&str, &str)] = &[
    ("UNIT_MEASURE", "UNIT"),
    ("UNIT_MULT", "UNIT_MULT"),
    ("OBS_STATUS", "OBS_STATUS"),
    ("SOURCE", "SOURCE"),
    ("DEFINITION", "DEFINITION"),
    ("RELEASE", "RELEASE"),
    ("RELEASE_DATE", "RELEASE_DATE"),
    ("CITATION", "CITATION"),
    ("PRINTED", "PRINTED"),
    ("NOTE", "NOTE"),
    ("DEFECT", "DEFECT"),
];

/// Which kind of SDMX message a file holds, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdmxKind {
    Csv,
    Xml,
}

/// Whether a file is an SDMX message, and which kind: XML whose root is an SDMX data message,
/// or SDMX-CSV (2.0: a header starting `STRUCTURE,STRUCTURE_ID`; 1.0: a `DATAFLOW` column of
/// `AGENCY:ID(VERSION)` references).
pub fn sniff(head: &[u8]) -> Option<SdmxKind> {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('<') {
        let data_root =
            ["GenericData", "StructureSpecificData", "GenericTimeSeriesData", "StructureSpecificTimeSeriesData"];
        return data_root.iter().any(|r| text.contains(r)).then_some(SdmxKind::Xml);
    }
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split([',', ';', '\t'])
        .map(|c| c.trim().trim_matches('"').split('[').next().unwrap_or("").to_ascii_uppercase())
        .collect();
    let first_cell =
        |line: &str| line.split([',', ';', '\t']).next().unwrap_or("").trim().trim_matches('"').to_string();
    match header.first().map(String::as_str) {
        // SDMX-CSV 2.0: `STRUCTURE,STRUCTURE_ID,…`.
        Some("STRUCTURE") if header.get(1).is_some_and(|h| h == "STRUCTURE_ID") => Some(SdmxKind::Csv),
        // SDMX-CSV 1.0: `DATAFLOW,…` whose cells are `AGENCY:ID(VERSION)` (a table of one's own may
        // well have a `dataflow` column of plain ids).
        Some("DATAFLOW") => {
            lines.next().map(first_cell).filter(|cell| is_artefact_reference(cell)).map(|_| SdmxKind::Csv)
        }
        _ => None,
    }
}

/// `AGENCY:ID(VERSION)`, as SDMX-CSV names a dataflow.
fn is_artefact_reference(text: &str) -> bool {
    let Some((agency, rest)) = text.split_once(':') else { return false };
    let Some((id, version)) = rest.split_once('(') else { return false };
    !agency.is_empty() && !id.is_empty() && version.ends_with(')') && version.len() > 1
}

/// What reading a message gave: its table (see [`TableBuilder`]), its dataflows and every
/// problem its reader found.
struct Message {
    table: Table,
    dataflows: std::collections::BTreeSet<String>,
    diagnostics: Vec<Diagnostic>,
}

fn read_message(
    file_name: &str,
    input: Input<'_>,
    kind: SdmxKind,
    context: &SdmxContext<'_>,
    options: &IngestOptions,
) -> Result<Message, LoadError> {
    let limits = ReadLimits { max_diagnostics: options.limits.max_diagnostics, ..ReadLimits::default() };
    let max = options.limits.max_observations;
    let mut builder = TableBuilder::new(file_name);
    let mut diagnostics = Vec::new();
    let mut too_large = None;
    let mut sink = |o: ReadObservation| {
        if builder.rows.len() >= max {
            too_large = Some(o.position.line as usize);
            return ControlFlow::Break(());
        }
        builder.add(o, context, &mut diagnostics);
        ControlFlow::Continue(())
    };
    let reader: Box<dyn BufRead + '_> = match input {
        Input::Path(p) => Box::new(std::io::BufReader::with_capacity(
            1 << 16,
            std::fs::File::open(p).map_err(|e| LoadError::Io(format!("{file_name}: {e}")))?,
        )),
        Input::Bytes(b) => Box::new(b),
        Input::Rows(_) => return Err(LoadError::Io(format!("{file_name}: a table already read is no SDMX message"))),
    };
    let report = match kind {
        SdmxKind::Csv => {
            koshi_sdmx::csv::read_csv(file_name, reader as Box<dyn Read>, limits, context.structures, &mut sink)
        }
        SdmxKind::Xml => koshi_sdmx::xml::read_data(file_name, reader, limits, context.structures, &mut sink),
    }
    .map_err(|e| LoadError::Io(e.to_string()))?;
    if let Some(row) = too_large {
        return Err(LoadError::Ingest(IngestError::TooLarge {
            file: file_name.to_string(),
            row,
            limit: max,
            what: "observations",
            name: "max_observations",
        }));
    }
    let mut read_problems: Vec<Diagnostic> = report
        .diagnostics
        .iter()
        .map(|d| {
            let severity = match d.severity {
                koshi_sdmx::Severity::Error => Severity::Error,
                koshi_sdmx::Severity::Warning => Severity::Warning,
            };
            Diagnostic {
                severity,
                code: d.code.to_string(),
                file: file_name.to_string(),
                sheet: None,
                row: Some(d.position.line as usize),
                column: d.position.column.clone(),
                message: d.message.clone(),
            }
        })
        .collect();
    read_problems.append(&mut diagnostics);
    let dataflows = std::mem::take(&mut builder.dataflows);
    Ok(Message { table: builder.finish(), dataflows, diagnostics: read_problems })
}

/// The dataflow a data set names: its id, or a data structure's id without koshi's `DSD_`.
fn dataflow_of(o: &ReadObservation) -> String {
    o.structure.id.strip_prefix("DSD_").unwrap_or(&o.structure.id).to_string()
}

/// The message as a table: a header of component ids and one row per observation (deletes
/// of partial keys expanded over the series the bank holds), each numbered by the line it came
/// from, so that every problem the planner finds names the message's own line.
type Table = crate::table::Rows;

/// Builds the table while the message is read, so that the message itself is never held:
/// cells repeat (codes, sources, definitions, releases), so each distinct text is kept once.
/// Later rows of the same figure replace earlier ones: a message is applied in its order.
struct TableBuilder {
    file_name: String,
    columns: Vec<String>,
    column: HashMap<String, usize>,
    texts: std::collections::HashSet<std::sync::Arc<str>>,
    rows: Vec<(usize, Vec<std::sync::Arc<str>>)>,
    /// Rows by the hash of their figure's identity (every cell but value, status and
    /// citation); a hit is compared cell by cell, so a hash collision never merges two figures
    /// (the rows of colliding figures go to `collided`).
    by_identity: HashMap<u64, usize>,
    collided: HashMap<u64, Vec<usize>>,
    dataflows: std::collections::BTreeSet<String>,
    empty: std::sync::Arc<str>,
}

const DATAFLOW: usize = 0;
const TIME: usize = 1;
const VALUE: usize = 2;
const STATUS: usize = 3;
const CITATION: usize = 4;

impl TableBuilder {
    fn new(file_name: &str) -> Self {
        let columns: Vec<String> =
            ["DATAFLOW", "TIME_PERIOD", "OBS_VALUE", "OBS_STATUS", "CITATION"].iter().map(|c| c.to_string()).collect();
        let column = columns.iter().enumerate().map(|(i, c)| (c.clone(), i)).collect();
        TableBuilder {
            file_name: file_name.to_string(),
            columns,
            column,
            texts: Default::default(),
            rows: Vec::new(),
            by_identity: HashMap::new(),
            collided: HashMap::new(),
            dataflows: Default::default(),
            empty: "".into(),
        }
    }

    fn column(&mut self, id: &str) -> usize {
        if let Some(&i) = self.column.get(id) {
            return i;
        }
        self.columns.push(id.to_string());
        self.column.insert(id.to_string(), self.columns.len() - 1);
        self.columns.len() - 1
    }

    fn text(&mut self, text: &str) -> std::sync::Arc<str> {
        if let Some(t) = self.texts.get(text) {
            return t.clone();
        }
        let t: std::sync::Arc<str> = text.into();
        self.texts.insert(t.clone());
        t
    }

    fn set(&mut self, row: &mut Vec<std::sync::Arc<str>>, column: usize, text: &str) {
        if row.len() <= column {
            row.resize(column + 1, self.empty.clone());
        }
        // Values and citations rarely repeat: keeping them for sharing would only cost.
        row[column] = if matches!(column, VALUE | CITATION) { text.into() } else { self.text(text) };
    }

    fn add(&mut self, o: ReadObservation, context: &SdmxContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
        let dataflow = dataflow_of(&o);
        let mut row = Vec::with_capacity(self.columns.len());
        self.set(&mut row, DATAFLOW, &dataflow);
        self.dataflows.insert(dataflow);
        for (id, code) in &o.key {
            let c = self.column(id);
            self.set(&mut row, c, code);
        }
        // SDMX time ranges (`1991-01-01/P27Y`) are stored as koshi's ranges (`1991/2017`).
        let period = o.time_period.as_deref().map(from_sdmx_period).unwrap_or_default();
        self.set(&mut row, TIME, &period);
        let value = o.value.as_deref().filter(|v| *v != "NaN").unwrap_or("");
        self.set(&mut row, VALUE, value);
        for (id, v) in &o.attributes {
            let c = self.column(id);
            self.set(&mut row, c, v);
        }
        if row.get(CITATION).is_none_or(|c| c.is_empty()) {
            let here = format!("{}, line {}", self.file_name, o.position.line);
            self.set(&mut row, CITATION, &here);
        }
        let line = o.position.line as usize;
        if o.action == Action::Delete {
            self.set(&mut row, STATUS, "W");
            self.set(&mut row, VALUE, "");
            for expanded in expand_delete(&row, &self.columns, &o, context, diagnostics, &self.file_name) {
                self.push(line, expanded);
            }
        } else {
            self.push(line, row);
        }
    }

    fn identity_hash(row: &[std::sync::Arc<str>]) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for (i, cell) in row.iter().enumerate() {
            if !matches!(i, VALUE | STATUS | CITATION) && !cell.is_empty() {
                (i, &**cell).hash(&mut h);
            }
        }
        h.finish()
    }

    fn same_figure(a: &[std::sync::Arc<str>], b: &[std::sync::Arc<str>]) -> bool {
        fn cell(r: &[std::sync::Arc<str>], i: usize) -> &str {
            r.get(i).map_or("", |c| c)
        }
        (0..a.len().max(b.len())).filter(|i| !matches!(*i, VALUE | STATUS | CITATION)).all(|i| cell(a, i) == cell(b, i))
    }

    fn push(&mut self, line: usize, row: Vec<std::sync::Arc<str>>) {
        let hash = Self::identity_hash(&row);
        let next = self.rows.len();
        let same = match self.by_identity.get(&hash) {
            None => {
                self.by_identity.insert(hash, next);
                None
            }
            Some(&first) if Self::same_figure(&self.rows[first].1, &row) => Some(first),
            Some(_) => {
                let others = self.collided.entry(hash).or_default();
                let found = others.iter().copied().find(|&i| Self::same_figure(&self.rows[i].1, &row));
                if found.is_none() {
                    others.push(next);
                }
                found
            }
        };
        match same {
            Some(i) => self.rows[i] = (line, row),
            None => self.rows.push((line, row)),
        }
    }

    fn finish(self) -> Table {
        Table { columns: self.columns, rows: self.rows }
    }
}

/// A delete with dimensions left empty (or without a period) withdraws every figure the bank
/// holds under the key it gives: one row per matching series (and period, when none is given,
/// the periods are those of the bank's figures under that series).
fn expand_delete(
    row: &[std::sync::Arc<str>],
    columns: &[String],
    o: &ReadObservation,
    context: &SdmxContext<'_>,
    diagnostics: &mut Vec<Diagnostic>,
    file_name: &str,
) -> Vec<Vec<std::sync::Arc<str>>> {
    let dataflow = dataflow_of(o);
    let Some(df) = context.catalogue.dataflow(&dataflow) else { return vec![row.to_vec()] };
    let given: HashMap<&str, &str> =
        o.key.iter().filter(|(_, c)| !c.is_empty()).map(|(d, c)| (d.as_str(), c.as_str())).collect();
    let whole_key = df.dimensions.iter().all(|d| given.contains_key(d.id.as_str()));
    if whole_key && o.time_period.as_deref().is_some_and(|t| !t.is_empty()) {
        return vec![row.to_vec()];
    }
    let mut out = Vec::new();
    for series in (context.series_of)(&dataflow) {
        // series: the key codes, then the periods held.
        let (key, periods) = series.split_at(df.dimensions.len());
        let matches = df.dimensions.iter().zip(key).all(|(d, c)| given.get(d.id.as_str()).is_none_or(|g| g == c));
        if !matches {
            continue;
        }
        let wanted: Vec<&String> = match o.time_period.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => periods.iter().filter(|p| p.as_str() == t).collect(),
            None => periods.iter().collect(),
        };
        for period in wanted {
            let mut r = row.to_vec();
            let mut put = |column: usize, text: &str| {
                if r.len() <= column {
                    r.resize(column + 1, "".into());
                }
                r[column] = text.into();
            };
            for (d, code) in df.dimensions.iter().zip(key) {
                if let Some(i) = columns.iter().position(|h| *h == d.id) {
                    put(i, code);
                }
            }
            put(TIME, period);
            out.push(r);
        }
    }
    if out.is_empty() {
        diagnostics.push(Diagnostic {
            severity: Severity::Info,
            code: "DELETE_MATCHES_NOTHING".into(),
            file: file_name.to_string(),
            sheet: None,
            row: Some(o.position.line as usize),
            column: None,
            message: "a delete that matches no figure in the bank: nothing to withdraw".into(),
        });
    }
    out
}

/// The mapping koshi's own messages imply: each component to the field of its name.
fn implied_mapping(header: &[String], catalogue: &Catalogue, dataflow: &str) -> Mapping {
    let mut fields = BTreeMap::new();
    let column = |c: &str, lookup: Option<&str>| FieldSpec {
        column: Some(c.to_string()),
        lookup: lookup.map(String::from),
        ..FieldSpec::default()
    };
    fields.insert("DATAFLOW".to_string(), column("DATAFLOW", None));
    if let Some(df) = catalogue.dataflow(dataflow) {
        for d in &df.dimensions {
            if header.contains(&d.id) {
                fields.insert(d.id.clone(), column(&d.id, Some("code")));
            }
        }
    }
    fields.insert("TIME_PERIOD".to_string(), column("TIME_PERIOD", None));
    fields.insert("OBS_VALUE".to_string(), column("OBS_VALUE", None));
    for (component, field) in KOSHI_ATTRIBUTES {
        if header.iter().any(|h| h == component) {
            fields.insert(field.to_string(), column(component, None));
        }
    }
    Mapping {
        file: Default::default(),
        release: Default::default(),
        fields,
        melt: None,
        skip: Vec::new(),
        skip_unknown_codes: false,
        aggregate: false,
        sources: Vec::new(),
    }
}

/// What planning an SDMX message needs from the bank: its catalogue, the structures of its
/// dataflows, the series it holds (to expand deletes of partial keys) and its reference figures.
pub struct SdmxContext<'a> {
    pub catalogue: &'a Catalogue,
    pub structures: &'a Structures,
    /// For a dataflow, each series the bank holds a figure of: its key codes, then its periods.
    pub series_of: &'a dyn Fn(&str) -> Vec<Vec<String>>,
    pub reference: &'a ReferenceLookup<'a>,
}

/// Plan an SDMX message: read it, turn it into rows, plan them through `mapping` (or, for
/// koshi's own messages, the mapping they imply). Nothing is written.
pub fn plan_sdmx(
    context: &SdmxContext<'_>,
    mapping: Option<&Mapping>,
    file_name: &str,
    input: Input<'_>,
    kind: SdmxKind,
    options: &IngestOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<IngestPlan, LoadError> {
    let message = read_message(file_name, input, kind, context, options)?;
    let mut diagnostics = message.diagnostics;
    // A plan of no figures whose error diagnostics say why. Problems of the message itself do
    // not stop the planning: the rows that could be read are planned too, so that one read
    // lists every problem (and the plan, holding errors, is not written).
    let rejected = |diagnostics: Vec<Diagnostic>| IngestPlan { diagnostics, ..IngestPlan::default() };
    if message.table.rows.is_empty() {
        // Nothing could be read: the message's own problems say why (or it holds no data).
        return Ok(rejected(diagnostics));
    }
    let table = message.table;
    let dataflows = message.dataflows;
    let mapping = match mapping {
        Some(m) => {
            let mut m = m.clone();
            m.file = Default::default();
            m.file.decimal = koshi_core::number::DecimalMark::Dot;
            m
        }
        None => {
            let problem = |code: &str, message: String| Diagnostic {
                severity: Severity::Error,
                code: code.into(),
                file: file_name.to_string(),
                sheet: None,
                row: None,
                column: None,
                message,
            };
            if dataflows.len() > 1 {
                let list: Vec<&str> = dataflows.iter().map(|s| s.as_str()).collect();
                diagnostics.push(problem(
                    "SEVERAL_DATAFLOWS",
                    format!("the message holds data of {}: import one dataflow per message", list.join(", ")),
                ));
                return Ok(rejected(diagnostics));
            }
            let Some(dataflow) = dataflows.iter().next() else {
                return Ok(IngestPlan { diagnostics, ..IngestPlan::default() });
            };
            if context.catalogue.dataflow(dataflow).is_none() {
                diagnostics.push(problem(
                    "NEEDS_MAPPING",
                    format!(
                        "the message's dataflow `{dataflow}` is not one of the bank's: give a mapping whose fields name \
                         the message's components (a `column` per dimension, and the SOURCE)"
                    ),
                ));
                return Ok(rejected(diagnostics));
            }
            if !table.columns.iter().any(|h| h == "SOURCE") {
                diagnostics.push(problem(
                    "NEEDS_MAPPING",
                    "the message has no SOURCE attribute: give a mapping that names the source of its figures".into(),
                ));
                return Ok(rejected(diagnostics));
            }
            let mut m = implied_mapping(&table.columns, context.catalogue, dataflow);
            m.file.decimal = koshi_core::number::DecimalMark::Dot;
            m
        }
    };
    let mut plan =
        plan_ingest(context.catalogue, &mapping, file_name, Input::Rows(&table), options, context.reference, progress)?;
    // The columns are the message's components, named as its reader names them.
    for d in &mut plan.diagnostics {
        if let Some(column) = &mut d.column {
            *column = column.trim_matches('"').to_string();
        }
    }
    diagnostics.append(&mut plan.diagnostics);
    plan.diagnostics = diagnostics;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdmx_messages_are_told_from_tables_of_ones_own() {
        assert_eq!(
            sniff(b"STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA\ndataflow,KOSHI:MIG_INT(1.0),I,KZ-75"),
            Some(SdmxKind::Csv)
        );
        assert_eq!(sniff(b"\xef\xbb\xbfDATAFLOW,REF_AREA\nKOSHI:MIG_INT(1.0),KZ-75"), Some(SdmxKind::Csv));
        assert_eq!(sniff(b"dataflow,key,time_period\nMIG_EXT,KAZ.WLD,2017"), None, "a paper's long layout");
        assert_eq!(sniff(b"<?xml version=\"1.0\"?>\n<message:GenericData xmlns:message=\"x\">"), Some(SdmxKind::Xml));
        assert_eq!(sniff(b"<?xml version=\"1.0\"?>\n<workbook/>"), None);
        assert_eq!(sniff(b"Year,Region,Value\n2017,KZ-75,1"), None);
    }
}
