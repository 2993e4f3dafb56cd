//! SDMX-JSON 1.0 data messages: [`JsonDataWriter`].
//!
//! The layout is the one ECB and OECD served as SDMX-JSON 1.0 and that Python's `sdmx1` reads:
//! `header`, `structure` (`dimensions` and `attributes`, each split into `dataSet`, `series`
//! and `observation` levels, every value listed once) and `dataSets`, whose series and
//! observations refer to the values by index. Where the final 1.0 schema asks for more
//! (`keyPosition`, an attribute's `relationship`, a data set's `links`), it is written too.

use std::collections::HashMap;
use std::io::Write;

use crate::{
    Action, ArtefactRef, Attachment, DataSetHeader, DataStructure, DataWriter, Header, ItemScheme,
    ObservationDimension, Series, WriteError,
};

/// The values one dimension or attribute takes, in the order first met.
#[derive(Default)]
struct Values {
    ids: Vec<String>,
    index: HashMap<String, usize>,
}

impl Values {
    fn index_of(&mut self, value: &str) -> usize {
        if let Some(&i) = self.index.get(value) {
            return i;
        }
        self.ids.push(value.to_string());
        self.index.insert(value.to_string(), self.ids.len() - 1);
        self.ids.len() - 1
    }
}

/// One observation held until `finish`: its observation-level key (indices), value and
/// observation-level attribute values (indices).
struct HeldObs {
    key: Vec<usize>,
    value: Option<String>,
    attributes: Vec<Option<usize>>,
}

struct HeldSeries {
    attributes: Vec<Option<usize>>,
    observations: Vec<HeldObs>,
}

struct HeldDataSet {
    action: Action,
    attributes: Vec<Option<usize>>,
    /// Series by their key text (`0:1:0`), in the order first met; empty in the flat layout.
    series: Vec<(String, HeldSeries)>,
    series_index: HashMap<String, usize>,
    /// The flat layout's observations.
    observations: Vec<HeldObs>,
}

/// Where each component goes in the message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    DataSet,
    Series,
    Observation,
}

/// SDMX-JSON 1.0 data message writer.
///
/// Codes are indices into each dimension's `values` (`{id, name}`), the names taken from the
/// code lists given, in `lang` (else the first name, else the id). Because the structure part
/// lists every value before the data, this writer keeps the series until
/// [`finish`](DataWriter::finish). Layouts: `TimePeriod` (series keyed by all the other
/// dimensions, observations by period), `AllDimensions` (flat observations keyed by every
/// dimension and the period; series attributes become observation attributes) and
/// `Dimension(id)` (series keyed by all dimensions but `id`, the period included). A missing
/// value (`None` or `NaN`) is `null`; a value that is a JSON number is written as that number,
/// any other text as a string.
pub struct JsonDataWriter<W: Write> {
    /// Taken by `finish`.
    out: Option<W>,
    header: Header,
    dataflow: ArtefactRef,
    structure: ArtefactRef,
    /// Dimension ids, the time dimension last.
    dimensions: Vec<String>,
    /// Code names per dimension (time: none).
    dimension_names: Vec<HashMap<String, String>>,
    dimension_values: Vec<Values>,
    /// Observation-level key positions (indices into `dimensions`); the others are series level.
    observation_dims: Vec<usize>,
    series_dims: Vec<usize>,
    attributes: Vec<String>,
    attribute_levels: Vec<Level>,
    attribute_coded: Vec<bool>,
    attribute_names: Vec<HashMap<String, String>>,
    attribute_values: Vec<Values>,
    primary_measure: String,
    flat: bool,
    /// Layout problem found at `new`, returned by the first write.
    pending: Option<String>,
    datasets: Vec<HeldDataSet>,
    open: bool,
}

fn names_of(codelist: &Option<ArtefactRef>, codelists: &[ItemScheme], lang: &str) -> HashMap<String, String> {
    let Some(reference) = codelist else { return HashMap::new() };
    let Some(scheme) = codelists.iter().find(|c| c.artefact.reference == *reference) else { return HashMap::new() };
    scheme.items.iter().filter_map(|i| Some((i.id.clone(), i.names.get(lang)?.to_string()))).collect()
}

impl<W: Write> JsonDataWriter<W> {
    pub fn new(
        out: W,
        header: &Header,
        dsd: &DataStructure,
        dataflow: &ArtefactRef,
        codelists: &[ItemScheme],
        lang: &str,
        dimension_at_observation: &ObservationDimension,
    ) -> Self {
        let mut dimensions: Vec<String> = dsd.dimensions.iter().map(|d| d.id.clone()).collect();
        let mut dimension_names: Vec<_> =
            dsd.dimensions.iter().map(|d| names_of(&d.codelist, codelists, lang)).collect();
        dimensions.push(dsd.time_dimension.id.clone());
        dimension_names.push(HashMap::new());
        let time = dimensions.len() - 1;
        let mut pending = None;
        let (observation_dims, flat): (Vec<usize>, bool) = match dimension_at_observation {
            ObservationDimension::TimePeriod => (vec![time], false),
            ObservationDimension::AllDimensions => ((0..dimensions.len()).collect(), true),
            ObservationDimension::Dimension(id) => match dimensions.iter().position(|d| d == id) {
                Some(p) => (vec![p], false),
                None => {
                    pending = Some(format!("the dimension at observation {id} is not in the data structure"));
                    (vec![time], false)
                }
            },
        };
        let series_dims = (0..dimensions.len()).filter(|p| !observation_dims.contains(p)).collect();
        let time_series = *dimension_at_observation == ObservationDimension::TimePeriod;
        let attribute_levels = dsd
            .attributes
            .iter()
            .map(|a| match a.attachment {
                Attachment::DataSet => Level::DataSet,
                Attachment::Series if time_series => Level::Series,
                Attachment::Series | Attachment::Observation => Level::Observation,
            })
            .collect();
        JsonDataWriter {
            out: Some(out),
            header: header.clone(),
            dataflow: dataflow.clone(),
            structure: dsd.artefact.reference.clone(),
            dimension_values: dimensions.iter().map(|_| Values::default()).collect(),
            dimensions,
            dimension_names,
            observation_dims,
            series_dims,
            attributes: dsd.attributes.iter().map(|a| a.component.id.clone()).collect(),
            attribute_levels,
            attribute_coded: dsd.attributes.iter().map(|a| a.component.codelist.is_some()).collect(),
            attribute_names: dsd.attributes.iter().map(|a| names_of(&a.component.codelist, codelists, lang)).collect(),
            attribute_values: dsd.attributes.iter().map(|_| Values::default()).collect(),
            primary_measure: dsd.primary_measure.id.clone(),
            flat,
            pending,
            datasets: Vec::new(),
            open: false,
        }
    }

    fn attribute(&self, id: &str) -> Result<usize, WriteError> {
        self.attributes
            .iter()
            .position(|a| a == id)
            .ok_or_else(|| WriteError::Structure(format!("attribute {id} is not in the data structure")))
    }

    /// Attribute values at `level`, as indices into each attribute's values (`None` absent).
    fn attribute_indices(
        &mut self,
        level: Level,
        given: &[&[(String, String)]],
    ) -> Result<Vec<Option<usize>>, WriteError> {
        let columns: Vec<usize> = (0..self.attributes.len()).filter(|&a| self.attribute_levels[a] == level).collect();
        let mut out = vec![None; columns.len()];
        for list in given {
            for (id, value) in *list {
                let a = self.attribute(id)?;
                if let Some(slot) = columns.iter().position(|&c| c == a) {
                    out[slot] = Some(self.attribute_values[a].index_of(value));
                }
            }
        }
        Ok(out)
    }

    fn write_message(&self, out: &mut W) -> std::io::Result<()> {
        let mut w = std::io::BufWriter::with_capacity(64 * 1024, out);
        let h = &self.header;
        w.write_all(b"{\"header\":{\"id\":")?;
        string(&mut w, &h.id)?;
        write!(w, ",\"test\":{},\"prepared\":", h.test)?;
        let zoned = h.prepared.ends_with('Z') || h.prepared.get(19..).is_some_and(|t| t.contains(['+', '-']));
        if zoned {
            string(&mut w, &h.prepared)?;
        } else {
            string(&mut w, &format!("{}Z", h.prepared))?;
        }
        w.write_all(b",\"sender\":{\"id\":")?;
        string(&mut w, &h.sender)?;
        w.write_all(b"}")?;
        if let Some(receiver) = &h.receiver {
            w.write_all(b",\"receiver\":{\"id\":")?;
            string(&mut w, receiver)?;
            w.write_all(b"}")?;
        }
        w.write_all(b"},\"structure\":{\"links\":")?;
        let links = self.links();
        w.write_all(links.as_bytes())?;
        w.write_all(b",\"dimensions\":{\"dataSet\":[],\"series\":[")?;
        for (i, &p) in self.series_dims.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            self.write_dimension(&mut w, p)?;
        }
        w.write_all(b"],\"observation\":[")?;
        for (i, &p) in self.observation_dims.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            self.write_dimension(&mut w, p)?;
        }
        w.write_all(b"]},\"attributes\":{")?;
        for (i, (level, name)) in
            [(Level::DataSet, "dataSet"), (Level::Series, "series"), (Level::Observation, "observation")]
                .into_iter()
                .enumerate()
        {
            if i > 0 {
                w.write_all(b",")?;
            }
            write!(w, "\"{name}\":[")?;
            let mut first = true;
            for a in 0..self.attributes.len() {
                if self.attribute_levels[a] != level {
                    continue;
                }
                if !first {
                    w.write_all(b",")?;
                }
                first = false;
                self.write_attribute(&mut w, a, level)?;
            }
            w.write_all(b"]")?;
        }
        w.write_all(b"}},\"dataSets\":[")?;
        for (i, ds) in self.datasets.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            w.write_all(b"{\"action\":")?;
            string(&mut w, ds.action.xml_name())?;
            w.write_all(b",\"links\":")?;
            w.write_all(links.as_bytes())?;
            if !ds.attributes.is_empty() {
                w.write_all(b",\"attributes\":")?;
                indices(&mut w, &ds.attributes)?;
            }
            if self.flat {
                w.write_all(b",\"observations\":")?;
                observations(&mut w, &ds.observations)?;
            } else {
                w.write_all(b",\"series\":{")?;
                for (j, (key, series)) in ds.series.iter().enumerate() {
                    if j > 0 {
                        w.write_all(b",")?;
                    }
                    string(&mut w, key)?;
                    w.write_all(b":{\"attributes\":")?;
                    indices(&mut w, &series.attributes)?;
                    w.write_all(b",\"observations\":")?;
                    observations(&mut w, &series.observations)?;
                    w.write_all(b"}")?;
                }
                w.write_all(b"}")?;
            }
            w.write_all(b"}")?;
        }
        w.write_all(b"]}")?;
        w.flush()
    }

    fn links(&self) -> String {
        let urn = |class: &str, r: &ArtefactRef| format!("urn:sdmx:org.sdmx.infomodel.datastructure.{class}={r}");
        let mut s = String::from("[{\"rel\":\"dataflow\",\"urn\":");
        push_string(&mut s, &urn("Dataflow", &self.dataflow));
        s.push_str("},{\"rel\":\"structure\",\"urn\":");
        push_string(&mut s, &urn("DataStructure", &self.structure));
        s.push_str("}]");
        s
    }

    fn write_dimension(&self, w: &mut impl Write, p: usize) -> std::io::Result<()> {
        let id = &self.dimensions[p];
        w.write_all(b"{\"id\":")?;
        string(w, id)?;
        w.write_all(b",\"name\":")?;
        string(w, id)?;
        write!(w, ",\"keyPosition\":{p}")?;
        if p == self.dimensions.len() - 1 {
            w.write_all(b",\"role\":\"TIME_PERIOD\"")?;
        }
        w.write_all(b",\"values\":[")?;
        for (i, code) in self.dimension_values[p].ids.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            w.write_all(b"{\"id\":")?;
            string(w, code)?;
            w.write_all(b",\"name\":")?;
            string(w, self.dimension_names[p].get(code).unwrap_or(code))?;
            w.write_all(b"}")?;
        }
        w.write_all(b"]}")
    }

    fn write_attribute(&self, w: &mut impl Write, a: usize, level: Level) -> std::io::Result<()> {
        let id = &self.attributes[a];
        w.write_all(b"{\"id\":")?;
        string(w, id)?;
        w.write_all(b",\"name\":")?;
        string(w, id)?;
        w.write_all(b",\"relationship\":")?;
        match level {
            Level::DataSet => w.write_all(b"{\"none\":{}}")?,
            Level::Series => {
                w.write_all(b"{\"dimensions\":[")?;
                for (i, &p) in self.series_dims.iter().enumerate() {
                    if i > 0 {
                        w.write_all(b",")?;
                    }
                    string(w, &self.dimensions[p])?;
                }
                w.write_all(b"]}")?;
            }
            Level::Observation => {
                w.write_all(b"{\"primaryMeasure\":")?;
                string(w, &self.primary_measure)?;
                w.write_all(b"}")?;
            }
        }
        w.write_all(b",\"values\":[")?;
        for (i, value) in self.attribute_values[a].ids.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            // The schema's id pattern: free text goes as a name alone.
            let id_like = !value.is_empty()
                && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '$' | '-'));
            w.write_all(b"{")?;
            if self.attribute_coded[a] || id_like {
                w.write_all(b"\"id\":")?;
                string(w, value)?;
                w.write_all(b",")?;
            }
            w.write_all(b"\"name\":")?;
            string(w, self.attribute_names[a].get(value).unwrap_or(value))?;
            w.write_all(b"}")?;
        }
        w.write_all(b"]}")
    }
}

fn string(w: &mut impl Write, s: &str) -> std::io::Result<()> {
    serde_json::to_writer(w, s).map_err(std::io::Error::other)
}

fn push_string(out: &mut String, s: &str) {
    // Serialising a str cannot fail.
    if let Ok(text) = serde_json::to_string(s) {
        out.push_str(&text);
    }
}

fn indices(w: &mut impl Write, list: &[Option<usize>]) -> std::io::Result<()> {
    w.write_all(b"[")?;
    for (i, v) in list.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        match v {
            Some(v) => write!(w, "{v}")?,
            None => w.write_all(b"null")?,
        }
    }
    w.write_all(b"]")
}

fn observations(w: &mut impl Write, list: &[HeldObs]) -> std::io::Result<()> {
    w.write_all(b"{")?;
    for (i, obs) in list.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        w.write_all(b"\"")?;
        for (j, k) in obs.key.iter().enumerate() {
            if j > 0 {
                w.write_all(b":")?;
            }
            write!(w, "{k}")?;
        }
        w.write_all(b"\":[")?;
        match obs.value.as_deref() {
            None => w.write_all(b"null")?,
            Some(v) if v.eq_ignore_ascii_case("nan") => w.write_all(b"null")?,
            Some(v) if is_json_number(v) => w.write_all(v.as_bytes())?,
            Some(v) => string(w, v)?,
        }
        for v in &obs.attributes {
            match v {
                Some(v) => write!(w, ",{v}")?,
                None => w.write_all(b",null")?,
            }
        }
        w.write_all(b"]")?;
    }
    w.write_all(b"}")
}

/// Whether `s` is a number as JSON writes one (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.first() == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(c) if c.is_ascii_digit() => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

impl<W: Write> DataWriter for JsonDataWriter<W> {
    fn start_dataset(&mut self, header: &DataSetHeader) -> Result<(), WriteError> {
        if let Some(problem) = &self.pending {
            return Err(WriteError::Structure(problem.clone()));
        }
        let attributes: &[(String, String)] = &header.attributes;
        let attributes = self.attribute_indices(Level::DataSet, &[attributes])?;
        // Data-set attributes given at a lower level have no place in this layout.
        for (id, _) in &header.attributes {
            let a = self.attribute(id)?;
            if self.attribute_levels[a] != Level::DataSet {
                return Err(WriteError::Structure(format!("attribute {id} is not attached to the data set")));
            }
        }
        self.datasets.push(HeldDataSet {
            action: header.action,
            attributes,
            series: Vec::new(),
            series_index: HashMap::new(),
            observations: Vec::new(),
        });
        self.open = true;
        Ok(())
    }

    fn write_series(&mut self, series: &Series) -> Result<(), WriteError> {
        if !self.open {
            return Err(WriteError::Structure("a series written outside a data set".into()));
        }
        let time = self.dimensions.len() - 1;
        // The series key as codes by dimension position (the period filled per observation).
        let mut codes: Vec<Option<&str>> = vec![None; self.dimensions.len()];
        for (id, code) in &series.key {
            match self.dimensions[..time].iter().position(|d| d == id) {
                Some(p) if codes[p].is_none() => codes[p] = Some(code),
                Some(_) => return Err(WriteError::Structure(format!("dimension {id} given twice in a series key"))),
                None => return Err(WriteError::Structure(format!("dimension {id} is not in the data structure"))),
            }
        }
        if let Some(p) = codes[..time].iter().position(Option::is_none) {
            let id = &self.dimensions[p];
            return Err(WriteError::Structure(format!("the series key has no value for dimension {id}")));
        }
        let series_level = self.attribute_indices(Level::Series, &[&series.attributes])?;
        let series_dims = self.series_dims.clone();
        let observation_dims = self.observation_dims.clone();
        let index_key = |writer: &mut Self, dims: &[usize], codes: &[Option<&str>]| -> Vec<usize> {
            dims.iter().map(|&p| writer.dimension_values[p].index_of(codes[p].unwrap_or(""))).collect()
        };
        let key_text = |key: &[usize]| key.iter().map(usize::to_string).collect::<Vec<_>>().join(":");

        if series.observations.is_empty() && !self.flat && !series_dims.contains(&time) {
            // A key alone: a series with no observations.
            let key = index_key(self, &series_dims, &codes);
            let text = key_text(&key);
            let ds = self.datasets.last_mut().ok_or_else(|| WriteError::Structure("no data set".into()))?;
            if !ds.series_index.contains_key(&text) {
                ds.series_index.insert(text.clone(), ds.series.len());
                ds.series.push((text, HeldSeries { attributes: series_level, observations: Vec::new() }));
            }
            return Ok(());
        }
        for obs in &series.observations {
            codes[time] = Some(&obs.time_period);
            let obs_attributes: &[&[(String, String)]] = if self.flat || series_dims.contains(&time) {
                &[&series.attributes, &obs.attributes]
            } else {
                &[&obs.attributes]
            };
            let attributes = self.attribute_indices(Level::Observation, obs_attributes)?;
            for (id, _) in &obs.attributes {
                let a = self.attribute(id)?;
                if self.attribute_levels[a] != Level::Observation {
                    return Err(WriteError::Structure(format!("attribute {id} is not attached to the observation")));
                }
            }
            let key = index_key(self, &observation_dims, &codes);
            let held = HeldObs { key, value: obs.value.clone(), attributes };
            if self.flat {
                let ds = self.datasets.last_mut().ok_or_else(|| WriteError::Structure("no data set".into()))?;
                ds.observations.push(held);
                continue;
            }
            let skey = index_key(self, &series_dims, &codes);
            let text = key_text(&skey);
            let ds = self.datasets.last_mut().ok_or_else(|| WriteError::Structure("no data set".into()))?;
            let i = match ds.series_index.get(&text) {
                Some(&i) => i,
                None => {
                    ds.series_index.insert(text.clone(), ds.series.len());
                    ds.series.push((text, HeldSeries { attributes: series_level.clone(), observations: Vec::new() }));
                    ds.series.len() - 1
                }
            };
            ds.series[i].1.observations.push(held);
        }
        Ok(())
    }

    fn end_dataset(&mut self) -> Result<(), WriteError> {
        self.open = false;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), WriteError> {
        if let Some(problem) = &self.pending {
            return Err(WriteError::Structure(problem.clone()));
        }
        let Some(mut out) = self.out.take() else { return Ok(()) };
        self.write_message(&mut out)?;
        out.flush()?;
        Ok(())
    }
}
