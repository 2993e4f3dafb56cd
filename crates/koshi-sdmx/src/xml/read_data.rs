//! Reading SDMX-ML 2.1 data messages, generic and structure-specific, in every layout.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::ops::ControlFlow;

use super::input::{Element, Ev, Input};
use super::read_structure::parse_urn;
use crate::{
    Action, ArtefactRef, DataStructure, Position, ReadError, ReadLimits, ReadObservation, ReadReport, Sink, Structures,
};

type Pairs = Vec<(String, String)>;

/// A structure the message header declares.
struct HeaderStructure {
    id: String,
    reference: ArtefactRef,
    is_dataflow: bool,
    dim_at_obs: String,
}

/// What the reader knows of a DSD: its components and the codes of its coded ones.
struct Known<'s> {
    dsd: &'s DataStructure,
    /// Dimension and attribute id → codes allowed, where the code list is known.
    codes: HashMap<&'s str, HashSet<&'s str>>,
}

impl<'s> Known<'s> {
    fn new(dsd: &'s DataStructure, structures: &'s Structures) -> Known<'s> {
        let mut codes = HashMap::new();
        let comps = dsd.dimensions.iter().chain(dsd.attributes.iter().map(|a| &a.component));
        for c in comps {
            if let Some(cl) = &c.codelist
                && let Some(list) = structures.codelists.iter().find(|l| &l.artefact.reference == cl)
                && !list.items.is_empty()
            {
                codes.insert(c.id.as_str(), list.items.iter().map(|i| i.id.as_str()).collect());
            }
        }
        Known { dsd, codes }
    }

    fn is_dimension(&self, id: &str) -> bool {
        self.dsd.dimensions.iter().any(|d| d.id == id)
    }

    fn is_time(&self, id: &str) -> bool {
        self.dsd.time_dimension.id == id
    }

    fn is_attribute(&self, id: &str) -> bool {
        self.dsd.attribute(id).is_some()
    }
}

struct DataSetCtx<'s> {
    action: Action,
    structure: ArtefactRef,
    provider: Option<String>,
    known: Option<Known<'s>>,
    /// Without a DSD, structure-specific data cannot be read.
    skip: bool,
    dim_at_obs: String,
    attributes: Pairs,
    groups: Vec<(Pairs, Pairs)>,
}

#[derive(Default)]
struct SeriesCtx {
    key: Pairs,
    time: Option<String>,
    attributes: Pairs,
    observations: usize,
    position: Option<Position>,
    checked: bool,
}

#[derive(Default)]
struct ObsCtx {
    key: Pairs,
    time: Option<String>,
    value: Option<String>,
    attributes: Pairs,
    position: Option<Position>,
}

#[derive(Default)]
struct GroupCtx {
    key: Pairs,
    attributes: Pairs,
}

struct Reader<'s, 'k, 'f, R: BufRead> {
    input: Input<R>,
    structures: &'s Structures,
    sink: &'k mut Sink<'f>,
    generic: bool,
    headers: Vec<HeaderStructure>,
    current_header: Option<HeaderStructure>,
    dataset: Option<DataSetCtx<'s>>,
    datasets: usize,
    series: Option<SeriesCtx>,
    obs: Option<ObsCtx>,
    group: Option<GroupCtx>,
    observations: u64,
    stopped: bool,
}

/// Reads a generic or structure-specific data message (see the module documentation of
/// [`crate::xml`]) and hands each observation to `sink`.
pub fn read_data<R: BufRead>(
    file: &str,
    input: R,
    limits: ReadLimits,
    structures: &Structures,
    sink: &mut Sink<'_>,
) -> Result<ReadReport, ReadError> {
    let mut reader = Reader {
        input: Input::new(file, input, limits),
        structures,
        sink,
        generic: true,
        headers: Vec::new(),
        current_header: None,
        dataset: None,
        datasets: 0,
        series: None,
        obs: None,
        group: None,
        observations: 0,
        stopped: false,
    };
    reader.run()?;
    Ok(ReadReport {
        observations: reader.observations,
        datasets: reader.datasets,
        diagnostics: std::mem::take(&mut reader.input.diagnostics),
    })
}

fn parent(path: &[String], up: usize) -> &str {
    path.len().checked_sub(up + 1).and_then(|i| path.get(i)).map(|s| s.as_str()).unwrap_or("")
}

/// The unqualified attributes of a structure-specific element (its components).
fn unqualified(e: &Element) -> impl Iterator<Item = (&str, &str)> {
    e.attrs.iter().filter(|(k, _)| !k.contains(':') && k != "xmlns").map(|(k, v)| (k.as_str(), v.as_str()))
}

impl<'s, 'k, 'f, R: BufRead> Reader<'s, 'k, 'f, R> {
    fn run(&mut self) -> Result<(), ReadError> {
        let mut path: Vec<String> = Vec::new();
        let mut seen_root = false;
        while !self.stopped {
            let Some(ev) = self.input.next()? else { break };
            match ev {
                Ev::Start(e) => {
                    if !seen_root {
                        seen_root = true;
                        match e.local.as_str() {
                            "GenericData" | "GenericTimeSeriesData" => self.generic = true,
                            "StructureSpecificData" | "StructureSpecificTimeSeriesData" => self.generic = false,
                            other => {
                                self.input.error(
                                    "NOT_DATA_MESSAGE",
                                    &e.position,
                                    format!("the root element is {other}, not a data message"),
                                );
                                break;
                            }
                        }
                    }
                    self.start(&path, &e);
                    path.push(e.local);
                }
                Ev::End { local, text } => {
                    path.pop();
                    self.end(&path, &local, text);
                }
            }
        }
        if !seen_root && self.input.diagnostics.is_empty() {
            let position = self.input.position_at(0);
            self.input.error("MALFORMED_XML", &position, "no root element");
        }
        Ok(())
    }

    fn start(&mut self, path: &[String], e: &Element) {
        let depth = path.len();
        let up = parent(path, 0);
        // The header.
        if depth >= 1 && path.get(1).map(|s| s.as_str()) == Some("Header") {
            if depth == 2 && e.local == "Structure" {
                self.current_header = Some(HeaderStructure {
                    id: e.attr("structureID").unwrap_or_default().to_string(),
                    reference: ArtefactRef::new("", "", ""),
                    is_dataflow: false,
                    dim_at_obs: e.attr("dimensionAtObservation").unwrap_or("TIME_PERIOD").to_string(),
                });
            } else if e.local == "Ref"
                && let Some(h) = &mut self.current_header
            {
                h.reference = ArtefactRef::new(
                    e.attr("agencyID").unwrap_or_default(),
                    e.attr("id").unwrap_or_default(),
                    e.attr("version").unwrap_or("1.0"),
                );
                h.is_dataflow = match e.attr("class") {
                    Some(c) => c == "Dataflow",
                    None => up == "StructureUsage",
                };
            }
            return;
        }
        if depth == 1 && e.local == "DataSet" {
            self.start_dataset(e);
            return;
        }
        let Some(ds) = &self.dataset else { return };
        if ds.skip {
            return;
        }
        if e.local == "Ref" && up == "DataProvider" {
            if let Some(ds) = &mut self.dataset {
                ds.provider = e.attr("id").map(str::to_string);
            }
            return;
        }
        if self.generic {
            self.start_generic(path, e);
        } else {
            self.start_ss(path, e);
        }
    }

    fn start_dataset(&mut self, e: &Element) {
        self.datasets += 1;
        let action = match e.attr("action") {
            None => Action::Information,
            Some(a) => Action::from_xml_name(a).unwrap_or_else(|| {
                self.input.error("BAD_ACTION", &e.position, format!("unknown action {a:?}"));
                Action::Information
            }),
        };
        let structure_ref = e.attr("structureRef").unwrap_or_default();
        let header = self
            .headers
            .iter()
            .find(|h| h.id == structure_ref)
            .or_else(|| if self.headers.len() == 1 { self.headers.first() } else { None });
        let (structure, dsd, dim_at_obs) = match header {
            Some(h) => {
                let dsd_ref = if h.is_dataflow {
                    self.structures.dataflows.iter().find(|d| d.artefact.reference == h.reference).map(|d| &d.structure)
                } else {
                    Some(&h.reference)
                };
                let dsd = dsd_ref.and_then(|r| {
                    let dsds = &self.structures.data_structures;
                    dsds.iter().find(|d| &d.artefact.reference == r).or_else(|| {
                        dsds.iter().find(|d| d.artefact.reference.agency == r.agency && d.artefact.reference.id == r.id)
                    })
                });
                (h.reference.clone(), dsd, h.dim_at_obs.clone())
            }
            None => {
                self.input.error(
                    "UNKNOWN_STRUCTURE_REF",
                    &e.position,
                    format!("the data set refers to structure {structure_ref:?}, which the header does not declare"),
                );
                (ArtefactRef::new("", "", ""), None, "TIME_PERIOD".to_string())
            }
        };
        let skip = !self.generic && dsd.is_none();
        if skip {
            self.input.error(
                "NO_STRUCTURE",
                &e.position,
                format!("structure-specific data of {structure} cannot be read without its data structure definition"),
            );
        }
        let known = dsd.map(|d| Known::new(d, self.structures));
        let mut attributes = Vec::new();
        if !self.generic {
            for (k, v) in unqualified(e) {
                if matches!(
                    k,
                    "action"
                        | "structureRef"
                        | "dataScope"
                        | "setID"
                        | "reportingBeginDate"
                        | "reportingEndDate"
                        | "validFromDate"
                        | "validToDate"
                        | "publicationYear"
                        | "publicationPeriod"
                        | "REPORTING_YEAR_START_DAY"
                ) {
                    continue;
                }
                attributes.push((k.to_string(), v.to_string()));
            }
        }
        let mut ds = DataSetCtx {
            action,
            structure,
            provider: None,
            known,
            skip,
            dim_at_obs,
            attributes: Vec::new(),
            groups: Vec::new(),
        };
        for (k, v) in &attributes {
            self.check_attribute(&ds, k, v, &e.position);
        }
        ds.attributes = attributes;
        self.dataset = Some(ds);
    }

    fn check_attribute(&mut self, ds: &DataSetCtx<'_>, id: &str, value: &str, position: &Position) {
        if let Some(k) = &ds.known {
            if !k.is_attribute(id) {
                self.input.error(
                    "UNKNOWN_ATTRIBUTE",
                    position,
                    format!("{} has no attribute {id}", k.dsd.artefact.reference),
                );
            } else {
                self.check_code(k, id, value, position);
            }
        }
    }

    fn check_dimension(&mut self, ds: &DataSetCtx<'_>, id: &str, value: &str, position: &Position) {
        if let Some(k) = &ds.known {
            if k.is_time(id) {
                return;
            }
            if !k.is_dimension(id) {
                self.input.error(
                    "UNKNOWN_DIMENSION",
                    position,
                    format!("{} has no dimension {id}", k.dsd.artefact.reference),
                );
            } else {
                self.check_code(k, id, value, position);
            }
        }
    }

    fn check_code(&mut self, k: &Known<'_>, id: &str, value: &str, position: &Position) {
        if let Some(codes) = k.codes.get(id)
            && !codes.contains(value)
        {
            self.input.error("UNKNOWN_CODE", position, format!("{value:?} is not a code of {id}'s code list"));
        }
    }

    /// A structure-specific component of a group, series or observation, sorted into key,
    /// time, value and attributes.
    fn ss_component(&mut self, id: &str, value: &str, position: &Position, target: &mut ObsCtx) {
        let Some(ds) = self.dataset.take() else { return };
        let measure = ds.known.as_ref().map(|k| k.dsd.primary_measure.id.as_str()).unwrap_or("OBS_VALUE");
        let time = ds.known.as_ref().map(|k| k.dsd.time_dimension.id.as_str()).unwrap_or("TIME_PERIOD");
        if id == time {
            target.time = Some(value.to_string());
        } else if id == measure {
            target.value = Some(value.to_string()).filter(|v| !v.is_empty());
        } else if id == "type" || id == "REPORTING_YEAR_START_DAY" {
        } else if ds.known.as_ref().is_some_and(|k| k.is_dimension(id)) {
            self.check_dimension(&ds, id, value, position);
            target.key.push((id.to_string(), value.to_string()));
        } else if ds.known.as_ref().is_some_and(|k| k.is_attribute(id)) {
            self.check_attribute(&ds, id, value, position);
            target.attributes.push((id.to_string(), value.to_string()));
        } else {
            if let Some(k) = &ds.known {
                self.input.error(
                    "UNKNOWN_COMPONENT",
                    position,
                    format!("{} has no dimension or attribute {id}", k.dsd.artefact.reference),
                );
            }
            target.attributes.push((id.to_string(), value.to_string()));
        }
        self.dataset = Some(ds);
    }

    fn start_ss(&mut self, path: &[String], e: &Element) {
        let depth = path.len();
        match (depth, e.local.as_str()) {
            (2, "Group") => {
                let mut o = ObsCtx::default();
                for (k, v) in unqualified(e) {
                    self.ss_component(k, v, &e.position, &mut o);
                }
                if let Some(ds) = &mut self.dataset {
                    ds.groups.push((o.key, o.attributes));
                }
            }
            (2, "Series") => {
                let mut o = ObsCtx::default();
                for (k, v) in unqualified(e) {
                    self.ss_component(k, v, &e.position, &mut o);
                }
                self.series = Some(SeriesCtx {
                    key: o.key,
                    time: o.time,
                    attributes: o.attributes,
                    position: Some(e.position.clone()),
                    ..SeriesCtx::default()
                });
            }
            (2 | 3, "Obs") => {
                let mut o = ObsCtx { position: Some(e.position.clone()), ..ObsCtx::default() };
                for (k, v) in unqualified(e) {
                    self.ss_component(k, v, &e.position, &mut o);
                }
                self.obs = Some(o);
            }
            _ => {}
        }
    }

    fn start_generic(&mut self, path: &[String], e: &Element) {
        let depth = path.len();
        let up = parent(path, 0);
        match (depth, e.local.as_str()) {
            (2, "Group") => self.group = Some(GroupCtx::default()),
            (2, "Series") => {
                self.series = Some(SeriesCtx { position: Some(e.position.clone()), ..SeriesCtx::default() })
            }
            (2 | 3, "Obs") => self.obs = Some(ObsCtx { position: Some(e.position.clone()), ..ObsCtx::default() }),
            (_, "ObsDimension") => {
                let Some(ds) = self.dataset.take() else { return };
                let id = e.attr("id").unwrap_or(&ds.dim_at_obs).to_string();
                let value = e.attr("value").unwrap_or_default().to_string();
                let time = ds.known.as_ref().map(|k| k.dsd.time_dimension.id.as_str()).unwrap_or("TIME_PERIOD");
                let is_time = id == time;
                if !is_time {
                    self.check_dimension(&ds, &id, &value, &e.position);
                }
                self.dataset = Some(ds);
                if let Some(o) = &mut self.obs {
                    if is_time {
                        o.time = Some(value);
                    } else {
                        o.key.push((id, value));
                    }
                }
            }
            (_, "ObsValue") => {
                if let Some(o) = &mut self.obs {
                    o.value = e.attr("value").map(str::to_string).filter(|v| !v.is_empty());
                }
            }
            (_, "Value") => {
                let (Some(id), Some(value)) = (e.attr("id"), e.attr("value")) else {
                    self.input.error("MISSING_VALUE", &e.position, "a generic:Value needs an id and a value");
                    return;
                };
                let (id, value) = (id.to_string(), value.to_string());
                let Some(ds) = self.dataset.take() else { return };
                let time = ds.known.as_ref().map(|k| k.dsd.time_dimension.id.clone()).unwrap_or("TIME_PERIOD".into());
                let owner = parent(path, 1);
                match up {
                    "SeriesKey" | "ObsKey" | "GroupKey" => {
                        self.check_dimension(&ds, &id, &value, &e.position);
                        if id == time {
                            match up {
                                "SeriesKey" => {
                                    if let Some(s) = &mut self.series {
                                        s.time = Some(value);
                                    }
                                }
                                "ObsKey" => {
                                    if let Some(o) = &mut self.obs {
                                        o.time = Some(value);
                                    }
                                }
                                _ => {}
                            }
                        } else {
                            match up {
                                "SeriesKey" => {
                                    self.series.iter_mut().for_each(|s| s.key.push((id.clone(), value.clone())))
                                }
                                "ObsKey" => self.obs.iter_mut().for_each(|o| o.key.push((id.clone(), value.clone()))),
                                _ => self.group.iter_mut().for_each(|g| g.key.push((id.clone(), value.clone()))),
                            }
                        }
                        self.dataset = Some(ds);
                    }
                    "Attributes" => {
                        self.check_attribute(&ds, &id, &value, &e.position);
                        let mut ds = ds;
                        match owner {
                            "DataSet" => ds.attributes.push((id, value)),
                            "Group" => {
                                self.group.iter_mut().for_each(|g| g.attributes.push((id.clone(), value.clone())))
                            }
                            "Series" => {
                                self.series.iter_mut().for_each(|s| s.attributes.push((id.clone(), value.clone())))
                            }
                            "Obs" => self.obs.iter_mut().for_each(|o| o.attributes.push((id.clone(), value.clone()))),
                            _ => {}
                        }
                        self.dataset = Some(ds);
                    }
                    _ => self.dataset = Some(ds),
                }
            }
            _ => {}
        }
    }

    fn end(&mut self, path: &[String], local: &str, text: String) {
        let depth = path.len();
        if depth == 2 && path.get(1).map(|s| s.as_str()) == Some("Header") && local == "Structure" {
            if let Some(h) = self.current_header.take() {
                self.headers.push(h);
            }
            return;
        }
        if local == "URN"
            && let Some(h) = &mut self.current_header
            && let Some((r, _)) = parse_urn(&text)
        {
            h.is_dataflow = text.contains(".Dataflow=");
            h.reference = r;
            return;
        }
        match (depth, local) {
            (1, "DataSet") => {
                self.dataset = None;
                self.series = None;
            }
            (2, "Group") => {
                if let (Some(g), Some(ds)) = (self.group.take(), &mut self.dataset) {
                    ds.groups.push((g.key, g.attributes));
                }
            }
            (2, "Series") => {
                if let Some(s) = self.series.take()
                    && s.observations == 0
                    && self.dataset.as_ref().is_some_and(|d| d.action == Action::Delete && !d.skip)
                {
                    let position = s.position.clone().unwrap_or_else(|| self.input.position_at(0));
                    self.emit(&s, ObsCtx { position: Some(position), ..ObsCtx::default() }, true);
                }
            }
            (2 | 3, "Obs") => {
                if let Some(o) = self.obs.take() {
                    let mut series = self.series.take();
                    if depth == 3 {
                        if let Some(s) = &mut series {
                            s.observations += 1;
                            if self.dataset.as_ref().is_some_and(|d| !d.skip) {
                                self.emit_in(s, o);
                            }
                        }
                    } else if self.dataset.as_ref().is_some_and(|d| !d.skip) {
                        let mut flat = SeriesCtx::default();
                        self.emit_in(&mut flat, o);
                    }
                    self.series = series;
                }
            }
            _ => {}
        }
    }

    fn emit_in(&mut self, s: &mut SeriesCtx, o: ObsCtx) {
        let check = !s.checked;
        s.checked = true;
        self.emit(s, o, check);
    }

    fn emit(&mut self, s: &SeriesCtx, o: ObsCtx, check: bool) {
        let Some(ds) = &self.dataset else { return };
        let position = o.position.clone().unwrap_or_else(|| Position { file: String::new(), line: 0, column: None });
        let mut key: Pairs = s.key.iter().cloned().chain(o.key).collect();
        let mut missing = Vec::new();
        if let Some(k) = &ds.known {
            let order = |id: &str| k.dsd.dimensions.iter().position(|d| d.id == id).unwrap_or(usize::MAX);
            key.sort_by_key(|(d, _)| order(d));
            if check {
                for d in &k.dsd.dimensions {
                    if !key.iter().any(|(id, _)| id == &d.id) {
                        missing.push(d.id.clone());
                    }
                }
            }
        }
        let mut attributes: Pairs = ds.attributes.clone();
        for (gkey, gattrs) in &ds.groups {
            if gkey.iter().all(|kv| key.contains(kv)) {
                attributes.extend(gattrs.iter().cloned());
            }
        }
        attributes.extend(s.attributes.iter().cloned());
        attributes.extend(o.attributes);
        let observation = ReadObservation {
            dataset: self.datasets.saturating_sub(1),
            action: ds.action,
            structure: ds.structure.clone(),
            provider: ds.provider.clone(),
            key,
            time_period: o.time.or_else(|| s.time.clone()),
            value: o.value,
            attributes,
            position: position.clone(),
        };
        for d in missing {
            self.input.error("MISSING_DIMENSION", &position, format!("no value for dimension {d}"));
        }
        self.observations += 1;
        if let ControlFlow::Break(()) = (self.sink)(observation) {
            self.stopped = true;
        }
    }
}
