//! Reading SDMX-ML 2.1 structure messages: organisation schemes, code lists, concept
//! schemes, data structure definitions, dataflows and content constraints.

use std::io::BufRead;

use super::input::{Element, Ev, Input};
use crate::{
    ArtefactRef, Attachment, AttributeDef, Component, ContentConstraint, DataStructure, DataflowDef, Item, ItemScheme,
    Maintainable, Names, ReadError, ReadLimits, ReadReport, Severity, Structures,
};

#[derive(Clone, Copy, PartialEq)]
enum SchemeKind {
    Agency,
    DataProvider,
    Code,
    Concept,
}

#[derive(Clone, Copy, PartialEq)]
enum CompKind {
    Dimension,
    Time,
    Attribute,
    Measure,
}

struct CompBuild {
    kind: CompKind,
    component: Component,
    mandatory: bool,
    to_measure: bool,
    to_dims: bool,
}

struct DsdBuild {
    artefact: Maintainable,
    dimensions: Vec<Component>,
    time: Option<Component>,
    measure: Option<Component>,
    attributes: Vec<AttributeDef>,
}

#[derive(Default)]
struct State {
    scheme: Option<(SchemeKind, ItemScheme)>,
    item: Option<Item>,
    dataflow: Option<DataflowDef>,
    dsd: Option<DsdBuild>,
    component: Option<CompBuild>,
    constraint: Option<(ContentConstraint, bool)>,
    key_value: Option<(String, Vec<String>)>,
    period: (Option<String>, Option<String>),
    lang: String,
}

fn maintainable(e: &Element, input: &mut Input<impl BufRead>) -> Maintainable {
    let id = e.attr("id").unwrap_or_default().to_string();
    if id.is_empty() {
        input.error("MISSING_ID", &e.position, format!("a {} without an id", e.local));
    }
    Maintainable {
        reference: ArtefactRef::new(e.attr("agencyID").unwrap_or_default(), id, e.attr("version").unwrap_or("1.0")),
        names: Names::default(),
        descriptions: Names::default(),
        is_final: e.attr("isFinal") == Some("true"),
    }
}

fn ref_of(e: &Element) -> ArtefactRef {
    ArtefactRef::new(
        e.attr("agencyID").unwrap_or_default(),
        e.attr("id").unwrap_or_default(),
        e.attr("version").unwrap_or("1.0"),
    )
}

/// `urn:…=AG:ID(V)` and `urn:…=AG:ID(V).ITEM` → the artefact and the item.
pub(crate) fn parse_urn(urn: &str) -> Option<(ArtefactRef, Option<String>)> {
    let (_, rest) = urn.split_once('=')?;
    let (agency, rest) = rest.split_once(':')?;
    let (id, rest) = rest.split_once('(')?;
    let (version, rest) = rest.split_once(')')?;
    let item = rest.strip_prefix('.').map(str::to_string);
    Some((ArtefactRef::new(agency, id, version), item))
}

fn parent(path: &[String], up: usize) -> &str {
    path.len().checked_sub(up + 1).and_then(|i| path.get(i)).map(|s| s.as_str()).unwrap_or("")
}

/// Reads a structure message. Problems are diagnostics; what could be read is returned.
pub fn read_structure<R: BufRead>(
    file: &str,
    input: R,
    limits: ReadLimits,
) -> Result<(Structures, ReadReport), ReadError> {
    let mut input = Input::new(file, input, limits);
    let mut out = Structures::default();
    let mut path: Vec<String> = Vec::new();
    let mut st = State::default();
    let mut seen_root = false;
    while let Some(ev) = input.next()? {
        match ev {
            Ev::Start(e) => {
                if !seen_root {
                    seen_root = true;
                    if e.local != "Structure" {
                        input.error(
                            "NOT_STRUCTURE_MESSAGE",
                            &e.position,
                            format!("the root element is {}, not a structure message", e.local),
                        );
                        break;
                    }
                }
                start(&mut st, &path, &e, &mut input);
                path.push(e.local);
            }
            Ev::End { local, text } => {
                path.pop();
                end(&mut st, &path, &local, text, &mut out, &mut input);
            }
        }
    }
    if !seen_root && input.diagnostics.is_empty() {
        let position = input.position_at(0);
        input.error("MALFORMED_XML", &position, "no root element");
    }
    let report = ReadReport { observations: 0, datasets: 0, diagnostics: std::mem::take(&mut input.diagnostics) };
    Ok((out, report))
}

fn in_structures(path: &[String]) -> bool {
    path.iter().any(|p| p == "Structures")
}

fn start(st: &mut State, path: &[String], e: &Element, input: &mut Input<impl BufRead>) {
    if !in_structures(path) {
        return;
    }
    let up = parent(path, 0);
    match e.local.as_str() {
        "AgencyScheme" | "DataProviderScheme" | "Codelist" | "ConceptScheme" if st.scheme.is_none() => {
            let kind = match e.local.as_str() {
                "AgencyScheme" => SchemeKind::Agency,
                "DataProviderScheme" => SchemeKind::DataProvider,
                "Codelist" => SchemeKind::Code,
                _ => SchemeKind::Concept,
            };
            st.scheme = Some((kind, ItemScheme { artefact: maintainable(e, input), items: Vec::new() }));
        }
        "Agency" | "DataProvider" | "Code" | "Concept" if st.scheme.is_some() && st.item.is_none() => {
            st.item = Some(Item {
                id: e.attr("id").unwrap_or_default().to_string(),
                names: Names::default(),
                descriptions: Names::default(),
                parent: None,
            });
        }
        "Dataflow" if up == "Dataflows" => {
            st.dataflow =
                Some(DataflowDef { artefact: maintainable(e, input), structure: ArtefactRef::new("", "", "") });
        }
        "DataStructure" if up == "DataStructures" => {
            st.dsd = Some(DsdBuild {
                artefact: maintainable(e, input),
                dimensions: Vec::new(),
                time: None,
                measure: None,
                attributes: Vec::new(),
            });
        }
        "ContentConstraint" if up == "Constraints" => {
            st.constraint = Some((
                ContentConstraint {
                    artefact: maintainable(e, input),
                    dataflow: ArtefactRef::new("", "", ""),
                    key_values: Vec::new(),
                    time_range: None,
                },
                true,
            ));
        }
        "CubeRegion" => {
            if let Some((_, include)) = &mut st.constraint {
                *include = e.attr("include") != Some("false");
            }
        }
        "KeyValue" if st.constraint.is_some() && up == "CubeRegion" => {
            st.key_value = Some((e.attr("id").unwrap_or_default().to_string(), Vec::new()));
        }
        "Dimension" | "TimeDimension" | "Attribute" | "PrimaryMeasure"
            if st.dsd.is_some() && matches!(up, "DimensionList" | "AttributeList" | "MeasureList") =>
        {
            let kind = match e.local.as_str() {
                "Dimension" => CompKind::Dimension,
                "TimeDimension" => CompKind::Time,
                "Attribute" => CompKind::Attribute,
                _ => CompKind::Measure,
            };
            st.component = Some(CompBuild {
                kind,
                component: Component {
                    id: e.attr("id").unwrap_or_default().to_string(),
                    concept_scheme: ArtefactRef::new("", "", ""),
                    concept: String::new(),
                    codelist: None,
                },
                mandatory: e.attr("assignmentStatus") == Some("Mandatory"),
                to_measure: false,
                to_dims: false,
            });
        }
        "Dimension" | "Group" | "AttachmentGroup" if up == "AttributeRelationship" => {
            if let Some(c) = &mut st.component {
                c.to_dims = true;
            }
        }
        "PrimaryMeasure" if up == "AttributeRelationship" => {
            if let Some(c) = &mut st.component {
                c.to_measure = true;
            }
        }
        "Ref" => {
            let p1 = parent(path, 0);
            let p2 = parent(path, 1);
            match (p1, p2) {
                ("ConceptIdentity", _) => {
                    if let Some(c) = &mut st.component {
                        c.component.concept_scheme = ArtefactRef::new(
                            e.attr("agencyID").unwrap_or_default(),
                            e.attr("maintainableParentID").unwrap_or_default(),
                            e.attr("maintainableParentVersion").unwrap_or("1.0"),
                        );
                        c.component.concept = e.attr("id").unwrap_or_default().to_string();
                    }
                }
                ("Enumeration", _) => {
                    if let Some(c) = &mut st.component {
                        c.component.codelist = Some(ref_of(e));
                    }
                }
                ("Structure", "Dataflow") => {
                    if let Some(d) = &mut st.dataflow {
                        d.structure = ref_of(e);
                    }
                }
                ("Parent", _) => {
                    if let Some(i) = &mut st.item {
                        i.parent = e.attr("id").map(str::to_string);
                    }
                }
                ("Dataflow", "ConstraintAttachment") => {
                    if let Some((c, _)) = &mut st.constraint {
                        c.dataflow = ref_of(e);
                    }
                }
                _ => {}
            }
        }
        "Name" | "Description" => {
            st.lang = e.attr_exact("xml:lang").unwrap_or("en").to_string();
        }
        _ => {}
    }
}

fn end(
    st: &mut State,
    path: &[String],
    local: &str,
    text: String,
    out: &mut Structures,
    input: &mut Input<impl BufRead>,
) {
    if !in_structures(path) {
        return;
    }
    let up = parent(path, 0);
    match local {
        "Name" | "Description" => {
            let lang = std::mem::take(&mut st.lang);
            let names = if let Some(item) = &mut st.item {
                Some(if local == "Name" { &mut item.names } else { &mut item.descriptions })
            } else if st.component.is_some() {
                None
            } else {
                let artefact = if let Some((_, s)) = &mut st.scheme {
                    Some(&mut s.artefact)
                } else if let Some(d) = &mut st.dataflow {
                    Some(&mut d.artefact)
                } else if let Some(d) = &mut st.dsd {
                    Some(&mut d.artefact)
                } else {
                    st.constraint.as_mut().map(|(c, _)| &mut c.artefact)
                };
                artefact.map(|a| if local == "Name" { &mut a.names } else { &mut a.descriptions })
            };
            if let Some(n) = names {
                n.0.push((lang, text));
            }
        }
        "URN" => {
            let p1 = parent(path, 0);
            let p2 = parent(path, 1);
            if let Some((r, item)) = parse_urn(&text) {
                match (p1, p2) {
                    ("ConceptIdentity", _) => {
                        if let Some(c) = &mut st.component {
                            c.component.concept_scheme = r;
                            c.component.concept = item.unwrap_or_default();
                        }
                    }
                    ("Enumeration", _) => {
                        if let Some(c) = &mut st.component {
                            c.component.codelist = Some(r);
                        }
                    }
                    ("Structure", "Dataflow") => {
                        if let Some(d) = &mut st.dataflow {
                            d.structure = r;
                        }
                    }
                    ("Dataflow", "ConstraintAttachment") => {
                        if let Some((c, _)) = &mut st.constraint {
                            c.dataflow = r;
                        }
                    }
                    _ => {}
                }
            }
        }
        "Agency" | "DataProvider" | "Code" | "Concept" if st.item.is_some() && st.scheme.is_some() => {
            if let (Some(item), Some((_, s))) = (st.item.take(), &mut st.scheme) {
                s.items.push(item);
            }
        }
        "AgencyScheme" | "DataProviderScheme" | "Codelist" | "ConceptScheme" if st.item.is_none() => {
            if let Some((kind, s)) = st.scheme.take() {
                match kind {
                    SchemeKind::Agency => out.agency_schemes.push(s),
                    SchemeKind::DataProvider => out.data_provider_schemes.push(s),
                    SchemeKind::Code => out.codelists.push(s),
                    SchemeKind::Concept => out.concept_schemes.push(s),
                }
            }
        }
        "Dataflow" if up == "Dataflows" => {
            if let Some(d) = st.dataflow.take() {
                out.dataflows.push(d);
            }
        }
        "Dimension" | "TimeDimension" | "Attribute" | "PrimaryMeasure"
            if matches!(up, "DimensionList" | "AttributeList" | "MeasureList") =>
        {
            if let (Some(mut c), Some(d)) = (st.component.take(), &mut st.dsd) {
                // A component without an id takes its concept's.
                if c.component.id.is_empty() {
                    c.component.id = c.component.concept.clone();
                }
                match c.kind {
                    CompKind::Dimension => d.dimensions.push(c.component),
                    CompKind::Time => d.time = Some(c.component),
                    CompKind::Measure => d.measure = Some(c.component),
                    CompKind::Attribute => {
                        let attachment = if c.to_measure {
                            Attachment::Observation
                        } else if c.to_dims {
                            Attachment::Series
                        } else {
                            Attachment::DataSet
                        };
                        d.attributes.push(AttributeDef { component: c.component, attachment, mandatory: c.mandatory });
                    }
                }
            }
        }
        "DataStructure" if up == "DataStructures" => {
            if let Some(d) = st.dsd.take() {
                let r = d.artefact.reference.clone();
                let default = |id: &str| Component {
                    id: id.into(),
                    concept_scheme: ArtefactRef::new("", "", ""),
                    concept: id.into(),
                    codelist: None,
                };
                let position = input.position_at(0);
                let time_dimension = d.time.unwrap_or_else(|| {
                    input.diagnose(
                        Severity::Warning,
                        "NO_TIME_DIMENSION",
                        position.clone(),
                        format!("{r} has no time dimension: TIME_PERIOD assumed"),
                    );
                    default("TIME_PERIOD")
                });
                let primary_measure = d.measure.unwrap_or_else(|| default("OBS_VALUE"));
                out.data_structures.push(DataStructure {
                    artefact: d.artefact,
                    dimensions: d.dimensions,
                    time_dimension,
                    primary_measure,
                    attributes: d.attributes,
                });
            }
        }
        "Value" if st.key_value.is_some() => {
            if let Some((_, values)) = &mut st.key_value {
                values.push(text);
            }
        }
        "StartPeriod" => st.period.0 = Some(text),
        "EndPeriod" => st.period.1 = Some(text),
        "KeyValue" if up == "CubeRegion" => {
            let kv = st.key_value.take();
            let period = std::mem::take(&mut st.period);
            if let Some((c, true)) = &mut st.constraint {
                if let (Some(a), Some(b)) = period {
                    c.time_range = Some((a, b));
                }
                if let Some((id, values)) = kv
                    && !values.is_empty()
                {
                    c.key_values.push((id, values));
                }
            }
        }
        "ContentConstraint" if up == "Constraints" => {
            if let Some((c, _)) = st.constraint.take() {
                out.constraints.push(c);
            }
        }
        _ => {}
    }
}
