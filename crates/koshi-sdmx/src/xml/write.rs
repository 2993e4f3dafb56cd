//! The SDMX-ML writers: data (generic and structure-specific, three layouts), structures,
//! DSD-specific schemas and errors.

use std::io::{BufWriter, Write};

use super::{
    NS_COMMON, NS_GENERIC, NS_MESSAGE, NS_SS, NS_STRUCTURE, NS_XSI, XmlDataKind, structure_specific_namespace,
};
use crate::{
    ArtefactRef, Attachment, AttributeDef, Component, ContentConstraint, DataSetHeader, DataStructure, DataWriter,
    DataflowDef, Header, ItemScheme, Maintainable, Names, ObservationDimension, Series, StructureDetail, Structures,
    WriteError,
};

/// Escape text for an attribute value or element content: markup characters as entities,
/// white space that attribute normalisation would fold as character references, and
/// characters XML 1.0 cannot carry replaced by U+FFFD.
pub(crate) fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    let needs = text.chars().any(|c| matches!(c, '&' | '<' | '>' | '"' | '\'' | '\t' | '\n' | '\r') || !xml_char(c));
    if !needs {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if !xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// An XML name (NCName) as SDMX ids used as attribute names must be.
fn is_ncname(id: &str) -> bool {
    let mut chars = id.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A value usable as an `xs:ID` (the header's `structureID`).
fn xml_id(text: &str) -> String {
    let mut out: String = text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

/// A small indenting XML writer over a buffered output.
pub(crate) struct Xw<W: Write> {
    out: BufWriter<W>,
    depth: usize,
}

type Attrs<'a> = [(&'a str, &'a str)];

impl<W: Write> Xw<W> {
    pub(crate) fn new(out: W) -> Xw<W> {
        Xw { out: BufWriter::new(out), depth: 0 }
    }

    fn decl(&mut self) -> std::io::Result<()> {
        self.out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
    }

    fn indent(&mut self) -> std::io::Result<()> {
        self.out.write_all(b"\n")?;
        for _ in 0..self.depth {
            self.out.write_all(b"  ")?;
        }
        Ok(())
    }

    fn tag(&mut self, name: &str, attrs: &Attrs<'_>) -> std::io::Result<()> {
        self.indent()?;
        write!(self.out, "<{name}")?;
        for (k, v) in attrs {
            write!(self.out, " {k}=\"{}\"", escape(v))?;
        }
        Ok(())
    }

    pub(crate) fn start(&mut self, name: &str, attrs: &Attrs<'_>) -> std::io::Result<()> {
        self.tag(name, attrs)?;
        self.out.write_all(b">")?;
        self.depth += 1;
        Ok(())
    }

    pub(crate) fn empty(&mut self, name: &str, attrs: &Attrs<'_>) -> std::io::Result<()> {
        self.tag(name, attrs)?;
        self.out.write_all(b"/>")
    }

    pub(crate) fn end(&mut self, name: &str) -> std::io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        self.indent()?;
        write!(self.out, "</{name}>")
    }

    pub(crate) fn text(&mut self, name: &str, attrs: &Attrs<'_>, text: &str) -> std::io::Result<()> {
        self.tag(name, attrs)?;
        write!(self.out, ">{}</{name}>", escape(text))
    }

    fn finish(mut self) -> Result<W, WriteError> {
        self.out.write_all(b"\n")?;
        self.out.into_inner().map_err(|e| WriteError::Io(e.into_error()))
    }
}

fn write_header<W: Write>(w: &mut Xw<W>, header: &Header) -> std::io::Result<()> {
    w.start("message:Header", &[])?;
    w.text("message:ID", &[], &xml_id(&header.id))?;
    w.text("message:Test", &[], if header.test { "true" } else { "false" })?;
    w.text("message:Prepared", &[], &header.prepared)?;
    w.empty("message:Sender", &[("id", &header.sender)])?;
    if let Some(r) = &header.receiver {
        w.empty("message:Receiver", &[("id", r)])?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Data

/// Streams an SDMX-ML 2.1 data message (see [`XmlDataKind`]); each series goes out as it is
/// written.
pub struct XmlDataWriter<W: Write> {
    w: Xw<W>,
    kind: XmlDataKind,
    dsd: DataStructure,
    dataflow: ArtefactRef,
    dim_at_obs: ObservationDimension,
    structure_id: String,
    in_dataset: bool,
    /// The provider agency for `DataProvider` references.
    provider_agency: String,
}

impl<W: Write> XmlDataWriter<W> {
    pub fn new(
        out: W,
        kind: XmlDataKind,
        header: &Header,
        dsd: &DataStructure,
        dataflow: &ArtefactRef,
        dimension_at_observation: &ObservationDimension,
    ) -> Result<Self, WriteError> {
        check_dsd_names(dsd)?;
        if let ObservationDimension::Dimension(d) = dimension_at_observation
            && !dsd.dimensions.iter().any(|c| &c.id == d)
        {
            return Err(WriteError::Structure(format!("{} has no dimension {d}", dsd.artefact.reference)));
        }
        let mut w = Xw::new(out);
        let structure_id = xml_id(&format!("{}_{}_{}", dataflow.agency, dataflow.id, dataflow.version));
        let namespace = structure_specific_namespace(dataflow, dimension_at_observation);
        w.decl()?;
        match kind {
            XmlDataKind::Generic => w.start(
                "message:GenericData",
                &[
                    ("xmlns:message", NS_MESSAGE),
                    ("xmlns:common", NS_COMMON),
                    ("xmlns:generic", NS_GENERIC),
                    ("xmlns:xsi", NS_XSI),
                ],
            )?,
            XmlDataKind::StructureSpecific => w.start(
                "message:StructureSpecificData",
                &[
                    ("xmlns:message", NS_MESSAGE),
                    ("xmlns:common", NS_COMMON),
                    ("xmlns:data", NS_SS),
                    ("xmlns:xsi", NS_XSI),
                    ("xmlns:ns1", &namespace),
                ],
            )?,
        }
        write_header(&mut w, header)?;
        let dim = dimension_at_observation.id();
        match kind {
            XmlDataKind::Generic => {
                w.start("message:Structure", &[("structureID", &structure_id), ("dimensionAtObservation", dim)])?
            }
            XmlDataKind::StructureSpecific => w.start(
                "message:Structure",
                &[("structureID", &structure_id), ("namespace", &namespace), ("dimensionAtObservation", dim)],
            )?,
        }
        w.start("common:StructureUsage", &[])?;
        w.empty("Ref", &[("agencyID", &dataflow.agency), ("id", &dataflow.id), ("version", &dataflow.version)])?;
        w.end("common:StructureUsage")?;
        w.end("message:Structure")?;
        w.end("message:Header")?;
        Ok(XmlDataWriter {
            w,
            kind,
            dsd: dsd.clone(),
            dataflow: dataflow.clone(),
            dim_at_obs: dimension_at_observation.clone(),
            structure_id,
            in_dataset: false,
            provider_agency: dataflow.agency.clone(),
        })
    }

    fn attachment(&self, id: &str) -> Result<&Attachment, WriteError> {
        self.dsd
            .attribute(id)
            .map(|a| &a.attachment)
            .ok_or_else(|| WriteError::Structure(format!("{} has no attribute {id}", self.dsd.artefact.reference)))
    }

    fn check_key(&self, series: &Series) -> Result<(), WriteError> {
        for (d, _) in &series.key {
            if !self.dsd.dimensions.iter().any(|c| &c.id == d) {
                return Err(WriteError::Structure(format!("{} has no dimension {d}", self.dsd.artefact.reference)));
            }
        }
        Ok(())
    }
}

/// Attribute and dimension ids become XML names in structure-specific data and schemas.
fn check_dsd_names(dsd: &DataStructure) -> Result<(), WriteError> {
    let ids = dsd
        .dimensions
        .iter()
        .chain([&dsd.time_dimension, &dsd.primary_measure])
        .map(|c| &c.id)
        .chain(dsd.attributes.iter().map(|a| &a.component.id));
    for id in ids {
        if !is_ncname(id) {
            return Err(WriteError::Structure(format!("component id {id:?} is not an XML name")));
        }
    }
    Ok(())
}

fn pairs(v: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str()))
}

impl<W: Write> DataWriter for XmlDataWriter<W> {
    fn start_dataset(&mut self, header: &DataSetHeader) -> Result<(), WriteError> {
        if self.in_dataset {
            self.end_dataset()?;
        }
        if header.dimension_at_observation != self.dim_at_obs {
            return Err(WriteError::Structure(format!(
                "the message was started with dimensionAtObservation {}, not {}",
                self.dim_at_obs.id(),
                header.dimension_at_observation.id()
            )));
        }
        for (id, _) in &header.attributes {
            self.attachment(id)?;
        }
        let action = header.action.xml_name();
        let structure_id = self.structure_id.clone();
        let provider = header.provider.clone();
        let provider_agency = self.provider_agency.clone();
        let provider_ref = |p: &str| -> Vec<(&str, String)> {
            vec![
                ("agencyID", provider_agency.clone()),
                ("maintainableParentID", "DATA_PROVIDERS".into()),
                ("maintainableParentVersion", "1.0".into()),
                ("id", p.to_string()),
            ]
        };
        match self.kind {
            XmlDataKind::Generic => {
                self.w.start("message:DataSet", &[("structureRef", &structure_id), ("action", action)])?;
                if let Some(p) = &provider {
                    let r = provider_ref(p);
                    let r: Vec<(&str, &str)> = r.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    self.w.start("generic:DataProvider", &[])?;
                    self.w.empty("Ref", &r)?;
                    self.w.end("generic:DataProvider")?;
                }
                write_values(&mut self.w, "generic:Attributes", pairs(&header.attributes))?;
            }
            XmlDataKind::StructureSpecific => {
                let mut attrs: Vec<(&str, &str)> = vec![
                    ("data:structureRef", &structure_id),
                    ("xsi:type", "ns1:DataSetType"),
                    ("data:dataScope", "Dataflow"),
                    ("data:action", action),
                ];
                attrs.extend(pairs(&header.attributes));
                self.w.start("message:DataSet", &attrs)?;
                if let Some(p) = &provider {
                    let r = provider_ref(p);
                    let r: Vec<(&str, &str)> = r.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    self.w.start("DataProvider", &[])?;
                    self.w.empty("Ref", &r)?;
                    self.w.end("DataProvider")?;
                }
            }
        }
        self.in_dataset = true;
        Ok(())
    }

    fn write_series(&mut self, series: &Series) -> Result<(), WriteError> {
        if !self.in_dataset {
            return Err(WriteError::Structure("a series written outside a data set".into()));
        }
        self.check_key(series)?;
        // Series attributes the DSD attaches to observations go on every observation.
        let mut on_series: Vec<(&str, &str)> = Vec::new();
        let mut on_obs: Vec<(&str, &str)> = Vec::new();
        for (id, v) in pairs(&series.attributes) {
            match self.attachment(id)? {
                Attachment::Observation => on_obs.push((id, v)),
                _ => on_series.push((id, v)),
            }
        }
        for o in &series.observations {
            for (id, _) in &o.attributes {
                self.attachment(id)?;
            }
        }
        let time = self.dsd.time_dimension.id.clone();
        let measure = self.dsd.primary_measure.id.clone();
        let value_of = |v: &Option<String>| -> String {
            match v {
                Some(t) if !t.trim().is_empty() => t.trim().to_string(),
                _ => "NaN".to_string(),
            }
        };
        let w = &mut self.w;
        match (&self.kind, &self.dim_at_obs) {
            (XmlDataKind::Generic, ObservationDimension::TimePeriod) => {
                w.start("generic:Series", &[])?;
                write_values(w, "generic:SeriesKey", pairs(&series.key))?;
                write_values(w, "generic:Attributes", on_series.iter().copied())?;
                for o in &series.observations {
                    w.start("generic:Obs", &[])?;
                    w.empty("generic:ObsDimension", &[("value", &o.time_period)])?;
                    w.empty("generic:ObsValue", &[("value", &value_of(&o.value))])?;
                    write_values(w, "generic:Attributes", on_obs.iter().copied().chain(pairs(&o.attributes)))?;
                    w.end("generic:Obs")?;
                }
                w.end("generic:Series")?;
            }
            (XmlDataKind::Generic, ObservationDimension::Dimension(xs)) => {
                let (xs_code, rest) = split_key(series, xs);
                let obs_attrs = || on_series.iter().chain(on_obs.iter()).copied();
                if series.observations.is_empty() {
                    w.start("generic:Series", &[])?;
                    write_values(w, "generic:SeriesKey", rest.iter().copied())?;
                    w.start("generic:Obs", &[])?;
                    w.empty("generic:ObsDimension", &[("id", xs), ("value", xs_code)])?;
                    write_values(w, "generic:Attributes", obs_attrs())?;
                    w.end("generic:Obs")?;
                    w.end("generic:Series")?;
                }
                for o in &series.observations {
                    w.start("generic:Series", &[])?;
                    write_values(
                        w,
                        "generic:SeriesKey",
                        rest.iter().copied().chain([(time.as_str(), o.time_period.as_str())]),
                    )?;
                    w.start("generic:Obs", &[])?;
                    w.empty("generic:ObsDimension", &[("id", xs), ("value", xs_code)])?;
                    w.empty("generic:ObsValue", &[("value", &value_of(&o.value))])?;
                    write_values(w, "generic:Attributes", obs_attrs().chain(pairs(&o.attributes)))?;
                    w.end("generic:Obs")?;
                    w.end("generic:Series")?;
                }
            }
            (XmlDataKind::Generic, ObservationDimension::AllDimensions) => {
                let obs_attrs = || on_series.iter().chain(on_obs.iter()).copied();
                if series.observations.is_empty() {
                    w.start("generic:Obs", &[])?;
                    write_values(w, "generic:ObsKey", pairs(&series.key))?;
                    write_values(w, "generic:Attributes", obs_attrs())?;
                    w.end("generic:Obs")?;
                }
                for o in &series.observations {
                    w.start("generic:Obs", &[])?;
                    write_values(
                        w,
                        "generic:ObsKey",
                        pairs(&series.key).chain([(time.as_str(), o.time_period.as_str())]),
                    )?;
                    w.empty("generic:ObsValue", &[("value", &value_of(&o.value))])?;
                    write_values(w, "generic:Attributes", obs_attrs().chain(pairs(&o.attributes)))?;
                    w.end("generic:Obs")?;
                }
            }
            (XmlDataKind::StructureSpecific, ObservationDimension::TimePeriod) => {
                let attrs: Vec<(&str, &str)> = pairs(&series.key).chain(on_series.iter().copied()).collect();
                if series.observations.is_empty() {
                    w.empty("Series", &attrs)?;
                } else {
                    w.start("Series", &attrs)?;
                    for o in &series.observations {
                        let value = value_of(&o.value);
                        let attrs: Vec<(&str, &str)> =
                            [(time.as_str(), o.time_period.as_str()), (measure.as_str(), value.as_str())]
                                .into_iter()
                                .chain(on_obs.iter().copied())
                                .chain(pairs(&o.attributes))
                                .collect();
                        w.empty("Obs", &attrs)?;
                    }
                    w.end("Series")?;
                }
            }
            (XmlDataKind::StructureSpecific, ObservationDimension::Dimension(xs)) => {
                let (xs_code, rest) = split_key(series, xs);
                let obs_attrs = || on_series.iter().chain(on_obs.iter()).copied();
                if series.observations.is_empty() {
                    w.start("Series", &rest)?;
                    let attrs: Vec<(&str, &str)> = [(xs.as_str(), xs_code)].into_iter().chain(obs_attrs()).collect();
                    w.empty("Obs", &attrs)?;
                    w.end("Series")?;
                }
                for o in &series.observations {
                    let sattrs: Vec<(&str, &str)> =
                        rest.iter().copied().chain([(time.as_str(), o.time_period.as_str())]).collect();
                    w.start("Series", &sattrs)?;
                    let value = value_of(&o.value);
                    let attrs: Vec<(&str, &str)> = [(xs.as_str(), xs_code), (measure.as_str(), value.as_str())]
                        .into_iter()
                        .chain(obs_attrs())
                        .chain(pairs(&o.attributes))
                        .collect();
                    w.empty("Obs", &attrs)?;
                    w.end("Series")?;
                }
            }
            (XmlDataKind::StructureSpecific, ObservationDimension::AllDimensions) => {
                let base: Vec<(&str, &str)> =
                    pairs(&series.key).chain(on_series.iter().copied()).chain(on_obs.iter().copied()).collect();
                if series.observations.is_empty() {
                    w.empty("Obs", &base)?;
                }
                for o in &series.observations {
                    let value = value_of(&o.value);
                    let mut attrs = base.clone();
                    attrs.push((time.as_str(), o.time_period.as_str()));
                    attrs.push((measure.as_str(), value.as_str()));
                    attrs.extend(pairs(&o.attributes));
                    w.empty("Obs", &attrs)?;
                }
            }
        }
        Ok(())
    }

    fn end_dataset(&mut self) -> Result<(), WriteError> {
        if self.in_dataset {
            self.w.end("message:DataSet")?;
            self.in_dataset = false;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), WriteError> {
        self.end_dataset()?;
        let root = match self.kind {
            XmlDataKind::Generic => "message:GenericData",
            XmlDataKind::StructureSpecific => "message:StructureSpecificData",
        };
        self.w.end(root)?;
        let _ = &self.dataflow;
        let mut out = self.w.finish()?;
        out.flush()?;
        Ok(())
    }
}

/// The code of the cross-section dimension and the rest of the key.
fn split_key<'a>(series: &'a Series, xs: &str) -> (&'a str, Vec<(&'a str, &'a str)>) {
    let code = series.key.iter().find(|(d, _)| d == xs).map(|(_, c)| c.as_str()).unwrap_or("");
    let rest = pairs(&series.key).filter(|(d, _)| *d != xs).collect();
    (code, rest)
}

fn write_values<'a, W: Write>(
    w: &mut Xw<W>,
    element: &str,
    values: impl Iterator<Item = (&'a str, &'a str)>,
) -> std::io::Result<()> {
    let mut started = false;
    for (id, value) in values {
        if !started {
            w.start(element, &[])?;
            started = true;
        }
        w.empty("generic:Value", &[("id", id), ("value", value)])?;
    }
    if started {
        w.end(element)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Structures

const URN: &str = "urn:sdmx:org.sdmx.infomodel.";

fn maintainable_attrs(
    m: &Maintainable,
    urn: String,
    detail: StructureDetail,
    class: &str,
    structure_url: &dyn Fn(&str, &ArtefactRef) -> String,
    with_final: bool,
) -> Vec<(&'static str, String)> {
    let r = &m.reference;
    let mut a = vec![
        ("urn", urn),
        ("isExternalReference", (detail != StructureDetail::Full).to_string()),
        ("agencyID", r.agency.clone()),
        ("id", r.id.clone()),
        ("version", r.version.clone()),
    ];
    if with_final {
        a.push(("isFinal", m.is_final.to_string()));
    }
    if detail == StructureDetail::ReferenceStubs {
        a.push(("structureURL", structure_url(class, r)));
    }
    a
}

fn as_refs<'a>(a: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    a.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn write_names<W: Write>(w: &mut Xw<W>, names: &Names, descriptions: &Names, fallback: &str) -> std::io::Result<()> {
    if names.0.is_empty() {
        w.text("common:Name", &[("xml:lang", "en")], fallback)?;
    }
    for (lang, text) in &names.0 {
        w.text("common:Name", &[("xml:lang", lang)], text)?;
    }
    for (lang, text) in &descriptions.0 {
        w.text("common:Description", &[("xml:lang", lang)], text)?;
    }
    Ok(())
}

/// Writes an SDMX-ML 2.1 structure message with the non-empty parts of `structures`, in the
/// order the schema requires. `structure_url(class, artefact)` gives the `structureURL` of
/// reference stubs (`class` is `AgencyScheme`, `DataProviderScheme`, `Dataflow`, `Codelist`,
/// `ConceptScheme`, `DataStructure` or `ContentConstraint`).
pub fn write_structure<W: Write>(
    out: W,
    header: &Header,
    structures: &Structures,
    detail: StructureDetail,
    structure_url: &dyn Fn(&str, &ArtefactRef) -> String,
) -> Result<W, WriteError> {
    let mut w = Xw::new(out);
    w.decl()?;
    w.start(
        "message:Structure",
        &[
            ("xmlns:message", NS_MESSAGE),
            ("xmlns:structure", NS_STRUCTURE),
            ("xmlns:common", NS_COMMON),
            ("xmlns:xsi", NS_XSI),
        ],
    )?;
    write_header(&mut w, header)?;
    w.end("message:Header")?;
    w.start("message:Structures", &[])?;
    let full = detail == StructureDetail::Full;
    if !structures.agency_schemes.is_empty() || !structures.data_provider_schemes.is_empty() {
        w.start("structure:OrganisationSchemes", &[])?;
        for s in &structures.agency_schemes {
            item_scheme(&mut w, s, detail, structure_url, ItemKind::Agency)?;
        }
        for s in &structures.data_provider_schemes {
            item_scheme(&mut w, s, detail, structure_url, ItemKind::DataProvider)?;
        }
        w.end("structure:OrganisationSchemes")?;
    }
    if !structures.dataflows.is_empty() {
        w.start("structure:Dataflows", &[])?;
        for d in &structures.dataflows {
            dataflow(&mut w, d, detail, structure_url)?;
        }
        w.end("structure:Dataflows")?;
    }
    if !structures.codelists.is_empty() {
        w.start("structure:Codelists", &[])?;
        for s in &structures.codelists {
            item_scheme(&mut w, s, detail, structure_url, ItemKind::Code)?;
        }
        w.end("structure:Codelists")?;
    }
    if !structures.concept_schemes.is_empty() {
        w.start("structure:Concepts", &[])?;
        for s in &structures.concept_schemes {
            item_scheme(&mut w, s, detail, structure_url, ItemKind::Concept)?;
        }
        w.end("structure:Concepts")?;
    }
    if !structures.data_structures.is_empty() {
        w.start("structure:DataStructures", &[])?;
        for d in &structures.data_structures {
            data_structure(&mut w, d, detail, structure_url)?;
        }
        w.end("structure:DataStructures")?;
    }
    if !structures.constraints.is_empty() {
        w.start("structure:Constraints", &[])?;
        for c in &structures.constraints {
            constraint(&mut w, c, full, detail, structure_url)?;
        }
        w.end("structure:Constraints")?;
    }
    w.end("message:Structures")?;
    w.end("message:Structure")?;
    w.finish()
}

#[derive(Clone, Copy)]
enum ItemKind {
    Agency,
    DataProvider,
    Code,
    Concept,
}

fn item_scheme<W: Write>(
    w: &mut Xw<W>,
    s: &ItemScheme,
    detail: StructureDetail,
    structure_url: &dyn Fn(&str, &ArtefactRef) -> String,
    kind: ItemKind,
) -> std::io::Result<()> {
    let r = &s.artefact.reference;
    let (element, class, item_element, package) = match kind {
        ItemKind::Agency => ("structure:AgencyScheme", "AgencyScheme", "structure:Agency", "base"),
        ItemKind::DataProvider => {
            ("structure:DataProviderScheme", "DataProviderScheme", "structure:DataProvider", "base")
        }
        ItemKind::Code => ("structure:Codelist", "Codelist", "structure:Code", "codelist"),
        ItemKind::Concept => ("structure:ConceptScheme", "ConceptScheme", "structure:Concept", "conceptscheme"),
    };
    // The schema fixes isFinal to false for organisation schemes.
    let with_final = matches!(kind, ItemKind::Code | ItemKind::Concept);
    let attrs = maintainable_attrs(
        &s.artefact,
        format!("{URN}{package}.{class}={r}"),
        detail,
        class,
        structure_url,
        with_final,
    );
    w.start(element, &as_refs(&attrs))?;
    write_names(w, &s.artefact.names, &s.artefact.descriptions, &r.id)?;
    if detail == StructureDetail::Full {
        for item in &s.items {
            let urn = match kind {
                ItemKind::Agency if r.agency == "SDMX" => format!("{URN}base.Agency={}", item.id),
                ItemKind::Agency => format!("{URN}base.Agency={}.{}", r.agency, item.id),
                ItemKind::DataProvider => format!("{URN}base.DataProvider={r}.{}", item.id),
                ItemKind::Code => format!("{URN}codelist.Code={r}.{}", item.id),
                ItemKind::Concept => format!("{URN}conceptscheme.Concept={r}.{}", item.id),
            };
            w.start(item_element, &[("urn", &urn), ("id", &item.id)])?;
            write_names(w, &item.names, &item.descriptions, &item.id)?;
            if let (Some(p), ItemKind::Code | ItemKind::Concept) = (&item.parent, kind) {
                w.start("structure:Parent", &[])?;
                w.empty("Ref", &[("id", p)])?;
                w.end("structure:Parent")?;
            }
            w.end(item_element)?;
        }
    }
    w.end(element)
}

fn dataflow<W: Write>(
    w: &mut Xw<W>,
    d: &DataflowDef,
    detail: StructureDetail,
    structure_url: &dyn Fn(&str, &ArtefactRef) -> String,
) -> std::io::Result<()> {
    let r = &d.artefact.reference;
    let attrs = maintainable_attrs(
        &d.artefact,
        format!("{URN}datastructure.Dataflow={r}"),
        detail,
        "Dataflow",
        structure_url,
        true,
    );
    w.start("structure:Dataflow", &as_refs(&attrs))?;
    write_names(w, &d.artefact.names, &d.artefact.descriptions, &r.id)?;
    if detail == StructureDetail::Full {
        w.start("structure:Structure", &[])?;
        artefact_ref(w, &d.structure, "DataStructure", "datastructure")?;
        w.end("structure:Structure")?;
    }
    w.end("structure:Dataflow")
}

fn artefact_ref<W: Write>(w: &mut Xw<W>, r: &ArtefactRef, class: &str, package: &str) -> std::io::Result<()> {
    w.empty(
        "Ref",
        &[("agencyID", &r.agency), ("id", &r.id), ("version", &r.version), ("class", class), ("package", package)],
    )
}

fn concept_identity<W: Write>(w: &mut Xw<W>, c: &Component) -> std::io::Result<()> {
    w.start("structure:ConceptIdentity", &[])?;
    w.empty(
        "Ref",
        &[
            ("agencyID", &c.concept_scheme.agency),
            ("maintainableParentID", &c.concept_scheme.id),
            ("maintainableParentVersion", &c.concept_scheme.version),
            ("id", &c.concept),
            ("class", "Concept"),
            ("package", "conceptscheme"),
        ],
    )?;
    w.end("structure:ConceptIdentity")
}

fn enumeration<W: Write>(w: &mut Xw<W>, c: &Component) -> std::io::Result<()> {
    if let Some(cl) = &c.codelist {
        w.start("structure:LocalRepresentation", &[])?;
        w.start("structure:Enumeration", &[])?;
        artefact_ref(w, cl, "Codelist", "codelist")?;
        w.end("structure:Enumeration")?;
        w.end("structure:LocalRepresentation")?;
    }
    Ok(())
}

fn data_structure<W: Write>(
    w: &mut Xw<W>,
    d: &DataStructure,
    detail: StructureDetail,
    structure_url: &dyn Fn(&str, &ArtefactRef) -> String,
) -> std::io::Result<()> {
    let r = &d.artefact.reference;
    let dsd_urn = |class: &str, id: &str| format!("{URN}datastructure.{class}={r}.{id}");
    let attrs = maintainable_attrs(
        &d.artefact,
        format!("{URN}datastructure.DataStructure={r}"),
        detail,
        "DataStructure",
        structure_url,
        true,
    );
    w.start("structure:DataStructure", &as_refs(&attrs))?;
    write_names(w, &d.artefact.names, &d.artefact.descriptions, &r.id)?;
    if detail == StructureDetail::Full {
        w.start("structure:DataStructureComponents", &[])?;
        w.start(
            "structure:DimensionList",
            &[("urn", &dsd_urn("DimensionDescriptor", "DimensionDescriptor")), ("id", "DimensionDescriptor")],
        )?;
        for (i, dim) in d.dimensions.iter().enumerate() {
            let pos = (i + 1).to_string();
            w.start(
                "structure:Dimension",
                &[("urn", &dsd_urn("Dimension", &dim.id)), ("id", &dim.id), ("position", &pos)],
            )?;
            concept_identity(w, dim)?;
            enumeration(w, dim)?;
            w.end("structure:Dimension")?;
        }
        let t = &d.time_dimension;
        let pos = (d.dimensions.len() + 1).to_string();
        w.start(
            "structure:TimeDimension",
            &[("urn", &dsd_urn("TimeDimension", &t.id)), ("id", &t.id), ("position", &pos)],
        )?;
        concept_identity(w, t)?;
        w.start("structure:LocalRepresentation", &[])?;
        w.empty("structure:TextFormat", &[("textType", "ObservationalTimePeriod")])?;
        w.end("structure:LocalRepresentation")?;
        w.end("structure:TimeDimension")?;
        w.end("structure:DimensionList")?;
        if !d.attributes.is_empty() {
            w.start(
                "structure:AttributeList",
                &[("urn", &dsd_urn("AttributeDescriptor", "AttributeDescriptor")), ("id", "AttributeDescriptor")],
            )?;
            for a in &d.attributes {
                attribute(w, d, a, &dsd_urn("DataAttribute", &a.component.id))?;
            }
            w.end("structure:AttributeList")?;
        }
        let m = &d.primary_measure;
        w.start(
            "structure:MeasureList",
            &[("urn", &dsd_urn("MeasureDescriptor", "MeasureDescriptor")), ("id", "MeasureDescriptor")],
        )?;
        w.start("structure:PrimaryMeasure", &[("urn", &dsd_urn("PrimaryMeasure", &m.id)), ("id", &m.id)])?;
        concept_identity(w, m)?;
        enumeration(w, m)?;
        w.end("structure:PrimaryMeasure")?;
        w.end("structure:MeasureList")?;
        w.end("structure:DataStructureComponents")?;
    }
    w.end("structure:DataStructure")
}

fn attribute<W: Write>(w: &mut Xw<W>, d: &DataStructure, a: &AttributeDef, urn: &str) -> std::io::Result<()> {
    let status = if a.mandatory { "Mandatory" } else { "Conditional" };
    w.start("structure:Attribute", &[("urn", urn), ("id", &a.component.id), ("assignmentStatus", status)])?;
    concept_identity(w, &a.component)?;
    enumeration(w, &a.component)?;
    w.start("structure:AttributeRelationship", &[])?;
    match a.attachment {
        Attachment::DataSet => w.empty("structure:None", &[])?,
        Attachment::Series => {
            for dim in &d.dimensions {
                w.start("structure:Dimension", &[])?;
                w.empty("Ref", &[("id", &dim.id)])?;
                w.end("structure:Dimension")?;
            }
        }
        Attachment::Observation => {
            w.start("structure:PrimaryMeasure", &[])?;
            w.empty("Ref", &[("id", &d.primary_measure.id)])?;
            w.end("structure:PrimaryMeasure")?;
        }
    }
    w.end("structure:AttributeRelationship")?;
    w.end("structure:Attribute")
}

fn constraint<W: Write>(
    w: &mut Xw<W>,
    c: &ContentConstraint,
    full: bool,
    detail: StructureDetail,
    structure_url: &dyn Fn(&str, &ArtefactRef) -> String,
) -> std::io::Result<()> {
    let r = &c.artefact.reference;
    let mut attrs = maintainable_attrs(
        &c.artefact,
        format!("{URN}registry.ContentConstraint={r}"),
        detail,
        "ContentConstraint",
        structure_url,
        true,
    );
    attrs.push(("type", "Actual".into()));
    w.start("structure:ContentConstraint", &as_refs(&attrs))?;
    write_names(w, &c.artefact.names, &c.artefact.descriptions, &r.id)?;
    if full {
        w.start("structure:ConstraintAttachment", &[])?;
        w.start("structure:Dataflow", &[])?;
        artefact_ref(w, &c.dataflow, "Dataflow", "datastructure")?;
        w.end("structure:Dataflow")?;
        w.end("structure:ConstraintAttachment")?;
        w.start("structure:CubeRegion", &[("include", "true")])?;
        for (dim, codes) in &c.key_values {
            if codes.is_empty() {
                continue;
            }
            w.start("common:KeyValue", &[("id", dim)])?;
            for code in codes {
                w.text("common:Value", &[], code)?;
            }
            w.end("common:KeyValue")?;
        }
        if let Some((start, end)) = &c.time_range {
            w.start("common:KeyValue", &[("id", "TIME_PERIOD")])?;
            w.start("common:TimeRange", &[])?;
            w.text("common:StartPeriod", &[("isInclusive", "true")], start)?;
            w.text("common:EndPeriod", &[("isInclusive", "true")], end)?;
            w.end("common:TimeRange")?;
            w.end("common:KeyValue")?;
        }
        w.end("structure:CubeRegion")?;
    }
    w.end("structure:ContentConstraint")
}

// ---------------------------------------------------------------------------------------
// DSD-specific schema

/// Writes the XML schema of koshi's structure-specific data for `dsd` in one layout: its
/// target namespace is [`structure_specific_namespace`], and it types `DataSetType`,
/// `SeriesType` and `ObsType` as restrictions of the SDMX structure-specific base types.
/// It imports the SDMX namespaces without a location: validate it together with
/// `SDMXMessage.xsd` (a wrapper schema importing both).
pub fn write_dsd_schema<W: Write>(
    out: W,
    dsd: &DataStructure,
    dataflow: &ArtefactRef,
    dimension_at_observation: &ObservationDimension,
) -> Result<W, WriteError> {
    check_dsd_names(dsd)?;
    let ns = structure_specific_namespace(dataflow, dimension_at_observation);
    let mut w = Xw::new(out);
    w.decl()?;
    w.start(
        "xs:schema",
        &[
            ("xmlns:xs", "http://www.w3.org/2001/XMLSchema"),
            ("xmlns", &ns),
            ("xmlns:dsd", NS_SS),
            ("xmlns:common", NS_COMMON),
            ("targetNamespace", &ns),
            ("elementFormDefault", "qualified"),
            ("attributeFormDefault", "unqualified"),
        ],
    )?;
    w.empty("xs:import", &[("namespace", NS_SS)])?;
    w.empty("xs:import", &[("namespace", NS_COMMON)])?;
    let time = dsd.time_dimension.id.as_str();
    let measure = dsd.primary_measure.id.as_str();
    let not_dataset: Vec<&str> = dsd
        .attributes
        .iter()
        .filter(|a| a.attachment != Attachment::DataSet)
        .map(|a| a.component.id.as_str())
        .collect();
    let series_attrs: Vec<&str> =
        dsd.attributes.iter().filter(|a| a.attachment == Attachment::Series).map(|a| a.component.id.as_str()).collect();
    let all_attrs: Vec<&str> = dsd.attributes.iter().map(|a| a.component.id.as_str()).collect();
    let dims: Vec<&str> = dsd.dimensions.iter().map(|d| d.id.as_str()).collect();

    let (set_base, child, series_base, obs_base) = match dimension_at_observation {
        ObservationDimension::TimePeriod => {
            ("dsd:TimeSeriesDataSetType", "Series", "dsd:TimeSeriesType", "dsd:TimeSeriesObsType")
        }
        ObservationDimension::Dimension(_) => ("dsd:DataSetType", "Series", "dsd:SeriesType", "dsd:ObsType"),
        ObservationDimension::AllDimensions => ("dsd:DataSetType", "Obs", "dsd:SeriesType", "dsd:ObsType"),
    };
    // DataSetType
    restriction_start(&mut w, "DataSetType", set_base)?;
    w.start("xs:sequence", &[])?;
    w.empty("xs:element", &[("ref", "common:Annotations"), ("minOccurs", "0")])?;
    w.empty(
        "xs:element",
        &[
            ("name", "DataProvider"),
            ("type", "common:DataProviderReferenceType"),
            ("form", "unqualified"),
            ("minOccurs", "0"),
        ],
    )?;
    w.start("xs:choice", &[("minOccurs", "0")])?;
    let child_type = format!("{child}Type");
    w.empty(
        "xs:element",
        &[("name", child), ("type", &child_type), ("form", "unqualified"), ("maxOccurs", "unbounded")],
    )?;
    w.end("xs:choice")?;
    w.end("xs:sequence")?;
    for a in &all_attrs {
        xs_attribute(&mut w, a, "xs:string", "optional")?;
    }
    restriction_end(&mut w)?;

    // SeriesType
    match dimension_at_observation {
        ObservationDimension::TimePeriod | ObservationDimension::Dimension(_) => {
            let xs = match dimension_at_observation {
                ObservationDimension::Dimension(d) => Some(d.as_str()),
                _ => None,
            };
            restriction_start(&mut w, "SeriesType", series_base)?;
            w.start("xs:sequence", &[])?;
            w.empty("xs:element", &[("ref", "common:Annotations"), ("minOccurs", "0")])?;
            w.empty(
                "xs:element",
                &[
                    ("name", "Obs"),
                    ("type", "ObsType"),
                    ("form", "unqualified"),
                    ("minOccurs", "0"),
                    ("maxOccurs", "unbounded"),
                ],
            )?;
            w.end("xs:sequence")?;
            for d in dims.iter().filter(|d| Some(**d) != xs) {
                xs_attribute(&mut w, d, "xs:string", "required")?;
            }
            if xs.is_some() {
                xs_attribute(&mut w, time, "common:ObservationalTimePeriodType", "optional")?;
                // In cross-sections, series attributes depend on the whole key: they go on
                // the observations.
            } else {
                for a in &series_attrs {
                    xs_attribute(&mut w, a, "xs:string", "optional")?;
                }
            }
            restriction_end(&mut w)?;
        }
        ObservationDimension::AllDimensions => {}
    }

    // ObsType
    restriction_start(&mut w, "ObsType", obs_base)?;
    w.start("xs:sequence", &[])?;
    w.empty("xs:element", &[("ref", "common:Annotations"), ("minOccurs", "0")])?;
    w.end("xs:sequence")?;
    match dimension_at_observation {
        ObservationDimension::TimePeriod => {
            xs_attribute(&mut w, time, "common:ObservationalTimePeriodType", "required")?;
        }
        ObservationDimension::Dimension(xs) => {
            xs_attribute(&mut w, xs, "xs:string", "required")?;
            w.empty("xs:attribute", &[("name", "type"), ("type", "common:IDType"), ("use", "prohibited")])?;
            xs_attribute(&mut w, time, "common:ObservationalTimePeriodType", "prohibited")?;
        }
        ObservationDimension::AllDimensions => {
            for d in &dims {
                xs_attribute(&mut w, d, "xs:string", "required")?;
            }
            w.empty("xs:attribute", &[("name", "type"), ("type", "common:IDType"), ("use", "prohibited")])?;
            xs_attribute(&mut w, time, "common:ObservationalTimePeriodType", "optional")?;
        }
    }
    xs_attribute(&mut w, measure, "xs:double", "optional")?;
    for a in &not_dataset {
        xs_attribute(&mut w, a, "xs:string", "optional")?;
    }
    restriction_end(&mut w)?;
    w.end("xs:schema")?;
    w.finish()
}

fn restriction_start<W: Write>(w: &mut Xw<W>, name: &str, base: &str) -> std::io::Result<()> {
    w.start("xs:complexType", &[("name", name)])?;
    w.start("xs:complexContent", &[])?;
    w.start("xs:restriction", &[("base", base)])
}

fn restriction_end<W: Write>(w: &mut Xw<W>) -> std::io::Result<()> {
    w.end("xs:restriction")?;
    w.end("xs:complexContent")?;
    w.end("xs:complexType")
}

fn xs_attribute<W: Write>(w: &mut Xw<W>, name: &str, ty: &str, usage: &str) -> std::io::Result<()> {
    w.empty("xs:attribute", &[("name", name), ("type", ty), ("use", usage)])
}

// ---------------------------------------------------------------------------------------
// Errors

/// Writes an SDMX-ML 2.1 error message: `<message:Error><message:ErrorMessage code=…>` with
/// the message as English text.
pub fn write_error<W: Write>(out: W, code: u16, message: &str) -> Result<W, WriteError> {
    let mut w = Xw::new(out);
    w.decl()?;
    w.start("message:Error", &[("xmlns:message", NS_MESSAGE), ("xmlns:common", NS_COMMON)])?;
    w.start("message:ErrorMessage", &[("code", &code.to_string())])?;
    w.text("common:Text", &[("xml:lang", "en")], message)?;
    w.end("message:ErrorMessage")?;
    w.end("message:Error")?;
    w.finish()
}
