//! Statistical data exchange: the bank as an SDMX 2.1 data source. Structures (agencies and
//! data providers, code lists with en/ru/kk names, concepts, one data structure per dataflow,
//! dataflows, the codes actually present) are generated from the catalogue and the bank; data
//! queries in the terms of the SDMX REST API (flow, key, providers, periods, `updatedAfter`,
//! first/last N, layout, detail, vintage) are answered as SDMX-ML, SDMX-CSV or SDMX-JSON,
//! written series by series so that memory stays bounded by one series.
//!
//! What a data message holds: without a provider, the harmonised view (one figure per key and
//! period, its `SOURCE`, `DEFINITION` and `RELEASE` attributes saying whose figure it is);
//! with providers (sources), every figure of those sources, one data set per source and, where
//! one source gives a key and period under two definitions, per definition, so that no data
//! set repeats an observation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;

use koshi_core::Catalogue;
use koshi_core::observation::{ObsStatus, to_sdmx_period};
use koshi_sdmx::{
    Action, ArtefactRef, Attachment, AttributeDef, Component, ContentConstraint, DataSetHeader, DataStructure,
    DataWriter, DataflowDef, Header, Item, ItemScheme, Maintainable, Names, Obs, ObservationDimension, Series,
    Structures, WriteError,
};
use koshi_store::{Bank, Query, QueryText, dataflow_named};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::error::{AppError, Result};

/// The agency that maintains koshi's structures.
pub const AGENCY: &str = "KOSHI";
/// Every structure koshi generates has this version.
pub const VERSION: &str = "1.0";
/// The concept scheme all components draw from.
pub const CONCEPTS: &str = "KOSHI_CONCEPTS";
/// Series one data request over the API may return: more is refused (413) before anything is
/// sent, with a hint to narrow the key. An export has no such bound: it streams to a file.
pub const MAX_SERIES: usize = 100_000;
/// Observations one data request over the API may return; past it the answer is cut off with
/// an error (a client sees a failed transfer, never a short message passing for whole).
pub const MAX_OBSERVATIONS: usize = 5_000_000;

/// How much one data answer may hold (the API's bounds; none for an export).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerLimits {
    pub max_series: usize,
    pub max_observations: usize,
}

impl AnswerLimits {
    pub const API: AnswerLimits = AnswerLimits { max_series: MAX_SERIES, max_observations: MAX_OBSERVATIONS };
}

/// The observation-level attributes of every koshi data structure, in order: what a figure
/// carries besides its value.
pub const ATTRIBUTES: &[(&str, &str)] = &[
    ("UNIT_MEASURE", "Unit of measure"),
    ("UNIT_MULT", "Unit multiplier (power of ten)"),
    ("OBS_STATUS", "Observation status"),
    ("SOURCE", "Source of the figure"),
    ("DEFINITION", "What the source counts"),
    ("RELEASE", "Release (vintage) the figure was published in"),
    ("RELEASE_DATE", "Date the release states"),
    ("CITATION", "Where the figure is printed"),
    ("PRINTED", "The figure as its source printed it, where that differs from the value"),
    ("NOTE", "Note on the figure"),
    ("DEFECT", "Defects found or declared (codes joined by |)"),
    ("HARMONISED_REASON", "Why the harmonised view chose this figure"),
];

fn names(en: &str, ru: &str, kk: &str) -> Names {
    Names::en(en).with("ru", ru).with("kk", kk)
}

fn artefact(id: &str, names: Names) -> Maintainable {
    Maintainable {
        reference: ArtefactRef::new(AGENCY, id, VERSION),
        names,
        descriptions: Names::default(),
        is_final: true,
    }
}

fn item(id: &str, names: Names) -> Item {
    Item { id: id.to_string(), names, descriptions: Names::default(), parent: None }
}

/// The SDMX id of a catalogue code list (`AREA` → `CL_AREA`; a dataflow's measures
/// `MEASURE:MIG_EXT` → `CL_MEASURE_MIG_EXT`).
pub fn codelist_id(catalogue_id: &str) -> String {
    format!("CL_{}", catalogue_id.replace(':', "_"))
}

/// The SDMX id of a dataflow's data structure.
pub fn dsd_id(dataflow: &str) -> String {
    format!("DSD_{dataflow}")
}

fn concept(id: &str) -> (ArtefactRef, String) {
    (ArtefactRef::new(AGENCY, CONCEPTS, VERSION), id.to_string())
}

fn component(id: &str, codelist: Option<String>) -> Component {
    let (concept_scheme, concept) = concept(id);
    Component {
        id: id.to_string(),
        concept_scheme,
        concept,
        codelist: codelist.map(|c| ArtefactRef::new(AGENCY, c, VERSION)),
    }
}

/// The data structure of a catalogue dataflow: its dimensions in key order, the period, the
/// value and [`ATTRIBUTES`] at observation level.
pub fn data_structure(catalogue: &Catalogue, dataflow: &koshi_core::structure::Dataflow) -> DataStructure {
    let dimensions = dataflow
        .dimensions
        .iter()
        .map(|d| {
            let list = if d.codelist == "MEASURE" { format!("MEASURE:{}", dataflow.id) } else { d.codelist.clone() };
            let coded = catalogue.codelist(&list).is_some();
            component(&d.id, coded.then(|| codelist_id(&list)))
        })
        .collect();
    let attributes = ATTRIBUTES
        .iter()
        .map(|(id, _)| {
            let codelist = match *id {
                "UNIT_MEASURE" => Some("CL_UNIT".to_string()),
                "OBS_STATUS" => Some("CL_OBS_STATUS".to_string()),
                "SOURCE" => Some("CL_SOURCE".to_string()),
                _ => None,
            };
            AttributeDef { component: component(id, codelist), attachment: Attachment::Observation, mandatory: false }
        })
        .collect();
    DataStructure {
        artefact: artefact(
            &dsd_id(&dataflow.id),
            names(&format!("{}: data structure", dataflow.name.en), &dataflow.name.ru, &dataflow.name.kk),
        ),
        dimensions,
        time_dimension: component("TIME_PERIOD", None),
        primary_measure: component("OBS_VALUE", None),
        attributes,
    }
}

fn dataflow_def(dataflow: &koshi_core::structure::Dataflow) -> DataflowDef {
    let mut artefact = artefact(&dataflow.id, names(&dataflow.name.en, &dataflow.name.ru, &dataflow.name.kk));
    if !dataflow.description.trim().is_empty() {
        artefact.descriptions = Names::en(dataflow.description.clone());
    }
    DataflowDef { artefact, structure: ArtefactRef::new(AGENCY, dsd_id(&dataflow.id), VERSION) }
}

/// Every code list the data structures use, with `_T` (total) and `_Z` (not applicable)
/// added to dimension lists: the bank accepts them in every dimension.
fn codelists(catalogue: &Catalogue, units: &BTreeSet<String>) -> Vec<ItemScheme> {
    let mut out = Vec::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    for df in &catalogue.dataflows {
        for d in &df.dimensions {
            used.insert(if d.codelist == "MEASURE" { format!("MEASURE:{}", df.id) } else { d.codelist.clone() });
        }
    }
    for id in used {
        let Some(list) = catalogue.codelist(&id) else { continue };
        let mut items: Vec<Item> =
            list.codes.iter().map(|c| item(&c.id, names(&c.labels.en, &c.labels.ru, &c.labels.kk))).collect();
        for (special, en, ru, kk) in
            [("_T", "Total", "Всего", "Барлығы"), ("_Z", "Not applicable", "Неприменимо", "Қолданылмайды")]
        {
            if !list.contains(special) {
                items.push(item(special, names(en, ru, kk)));
            }
        }
        let title = id.replace(':', " of ");
        out.push(ItemScheme { artefact: artefact(&codelist_id(&id), Names::en(format!("Codes: {title}"))), items });
    }
    let unit_names: HashMap<&str, (&str, &str, &str)> = HashMap::from([
        ("PERS", ("Persons", "Человек", "Адам")),
        ("PCT", ("Per cent", "Процент", "Пайыз")),
        ("PER_1000", ("Per 1,000 population", "На 1000 человек", "1000 адамға")),
        ("USD", ("US dollars", "Доллары США", "АҚШ доллары")),
        ("KZT", ("Tenge", "Тенге", "Теңге")),
        ("KM", ("Kilometres", "Километры", "Километр")),
        ("NUM", ("Number", "Количество", "Саны")),
    ]);
    let unit_items = units
        .iter()
        .map(|u| match unit_names.get(u.as_str()) {
            Some((en, ru, kk)) => item(u, names(en, ru, kk)),
            None => item(u, Names::en(u.clone())),
        })
        .collect();
    out.push(ItemScheme {
        artefact: artefact("CL_UNIT", names("Units of measure", "Единицы измерения", "Өлшем бірліктері")),
        items: unit_items,
    });
    let statuses = [
        (ObsStatus::Normal, "Normal value", "Обычное значение", "Қалыпты мән"),
        (ObsStatus::Estimated, "Estimated value", "Оценка", "Бағалау"),
        (ObsStatus::Provisional, "Provisional value", "Предварительное значение", "Алдын ала мән"),
        (ObsStatus::Break, "Break in series", "Разрыв ряда", "Қатардың үзілуі"),
        (ObsStatus::Missing, "Missing value", "Нет данных", "Дерек жоқ"),
        (ObsStatus::Forecast, "Forecast value", "Прогноз", "Болжам"),
        (ObsStatus::Withdrawn, "Withdrawn by its source", "Отозвано источником", "Дереккөз кері қайтарды"),
    ];
    out.push(ItemScheme {
        artefact: artefact("CL_OBS_STATUS", names("Observation status", "Статус наблюдения", "Бақылау мәртебесі")),
        items: statuses.iter().map(|(s, en, ru, kk)| item(s.code(), names(en, ru, kk))).collect(),
    });
    out.push(ItemScheme {
        artefact: artefact("CL_SOURCE", names("Sources", "Источники", "Дереккөздер")),
        items: catalogue.sources.iter().map(|s| item(&s.id, names(&s.name.en, &s.name.ru, &s.name.kk))).collect(),
    });
    out
}

fn concept_scheme(catalogue: &Catalogue) -> ItemScheme {
    let mut seen = BTreeSet::new();
    let mut items = Vec::new();
    for df in &catalogue.dataflows {
        for d in &df.dimensions {
            if seen.insert(d.id.clone()) {
                let en = d.id.replace('_', " ").to_lowercase();
                let mut en: Vec<char> = en.chars().collect();
                if let Some(first) = en.first_mut() {
                    *first = first.to_ascii_uppercase();
                }
                items.push(item(&d.id, Names::en(en.into_iter().collect::<String>())));
            }
        }
    }
    items.push(item("TIME_PERIOD", names("Time period", "Период", "Кезең")));
    items.push(item("OBS_VALUE", names("Observation value", "Значение", "Мән")));
    for (id, en) in ATTRIBUTES {
        items.push(item(id, Names::en(*en)));
    }
    ItemScheme {
        artefact: artefact(CONCEPTS, names("koshi concepts", "Понятия koshi", "koshi ұғымдары")), items
    }
}

/// Agencies: koshi, which maintains the structures, and every source; data providers: every
/// source (a provider reference in a data query selects its figures).
fn organisations(catalogue: &Catalogue) -> (ItemScheme, ItemScheme) {
    let sources: Vec<Item> =
        catalogue.sources.iter().map(|s| item(&s.id, names(&s.name.en, &s.name.ru, &s.name.kk))).collect();
    let mut agencies = vec![item(AGENCY, Names::en("koshi migration observatory"))];
    agencies.extend(sources.iter().cloned());
    let mut agency_scheme = artefact("AGENCIES", Names::en("Agencies"));
    agency_scheme.reference.agency = AGENCY.into();
    let mut provider_scheme = artefact("DATA_PROVIDERS", Names::en("Data providers: the bank's sources"));
    provider_scheme.reference.agency = AGENCY.into();
    (ItemScheme { artefact: agency_scheme, items: agencies }, ItemScheme { artefact: provider_scheme, items: sources })
}

/// Every structure the bank has, with content constraints listing the codes present.
pub fn all_structures(bank: &Bank) -> Result<Structures> {
    let catalogue = bank.catalogue();
    let mut units: BTreeSet<String> =
        catalogue.dataflows.iter().flat_map(|d| d.measures.iter().map(|m| m.unit.clone())).collect();
    let mut constraints = Vec::new();
    for (dataflow, present) in bank.codes_present()? {
        units.extend(present.units.iter().cloned());
        let Some(df) = catalogue.dataflow(&dataflow) else { continue };
        let key_values = df
            .dimensions
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.clone(), present.codes.get(i).map(|c| c.iter().cloned().collect()).unwrap_or_default()))
            .collect();
        let mut artefact = artefact(&format!("CC_{dataflow}"), Names::en(format!("Codes present in {dataflow}")));
        artefact.is_final = false;
        constraints.push(ContentConstraint {
            artefact,
            dataflow: ArtefactRef::new(AGENCY, &dataflow, VERSION),
            key_values,
            time_range: present.periods,
        });
    }
    let (agencies, providers) = organisations(catalogue);
    Ok(Structures {
        agency_schemes: vec![agencies],
        data_provider_schemes: vec![providers],
        dataflows: catalogue.dataflows.iter().map(dataflow_def).collect(),
        codelists: codelists(catalogue, &units),
        concept_schemes: vec![concept_scheme(catalogue)],
        data_structures: catalogue.dataflows.iter().map(|d| data_structure(catalogue, d)).collect(),
        constraints,
    })
}

/// The structure resources of the REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StructureResource {
    Dataflow,
    Datastructure,
    Codelist,
    Conceptscheme,
    Agencyscheme,
    Dataproviderscheme,
    Contentconstraint,
}

impl StructureResource {
    pub const ALL: [StructureResource; 7] = [
        StructureResource::Dataflow,
        StructureResource::Datastructure,
        StructureResource::Codelist,
        StructureResource::Conceptscheme,
        StructureResource::Agencyscheme,
        StructureResource::Dataproviderscheme,
        StructureResource::Contentconstraint,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StructureResource::Dataflow => "dataflow",
            StructureResource::Datastructure => "datastructure",
            StructureResource::Codelist => "codelist",
            StructureResource::Conceptscheme => "conceptscheme",
            StructureResource::Agencyscheme => "agencyscheme",
            StructureResource::Dataproviderscheme => "dataproviderscheme",
            StructureResource::Contentconstraint => "contentconstraint",
        }
    }

    pub fn parse(text: &str) -> Option<StructureResource> {
        StructureResource::ALL.into_iter().find(|r| r.name() == text)
    }
}

/// Which related structures come with the ones asked for (`references`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum References {
    #[default]
    None,
    Parents,
    Parentsandsiblings,
    Children,
    Descendants,
    All,
    /// Only the related structures of one kind.
    Only(StructureResource),
}

impl References {
    pub fn parse(text: &str) -> Option<References> {
        Some(match text {
            "none" => References::None,
            "parents" => References::Parents,
            "parentsandsiblings" => References::Parentsandsiblings,
            "children" => References::Children,
            "descendants" => References::Descendants,
            "all" => References::All,
            other => References::Only(StructureResource::parse(other)?),
        })
    }
}

/// A structure query: `/{resource}/{agency}/{id}/{version}` with `references` and `detail`.
/// `all` (or empty) matches any agency, id or version, `latest` any version; `+` separates
/// several ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StructureRequest {
    pub resource: StructureResource,
    pub agency: String,
    pub id: String,
    pub version: String,
    pub references: References,
    pub detail: StructureDetail,
}

fn matches_part(pattern: &str, value: &str, latest_ok: bool) -> bool {
    pattern.is_empty()
        || pattern == "all"
        || pattern == "*"
        || (latest_ok && pattern == "latest")
        || pattern.split('+').any(|p| p == value)
}

fn selected(request: &StructureRequest, r: &ArtefactRef) -> bool {
    matches_part(&request.agency, &r.agency, false)
        && matches_part(&request.id, &r.id, false)
        && matches_part(&request.version, &r.version, true)
}

/// The part of `all` a structure query asks for: the matching artefacts of its resource and
/// the references it names. Nothing matching is `NotFound` (the REST API's 404).
pub fn select_structures(all: &Structures, request: &StructureRequest) -> Result<Structures> {
    let mut out = Structures::default();
    use StructureResource as R;
    match request.resource {
        R::Dataflow => {
            out.dataflows = all.dataflows.iter().filter(|d| selected(request, &d.artefact.reference)).cloned().collect()
        }
        R::Datastructure => {
            out.data_structures =
                all.data_structures.iter().filter(|d| selected(request, &d.artefact.reference)).cloned().collect()
        }
        R::Codelist => {
            out.codelists = all.codelists.iter().filter(|c| selected(request, &c.artefact.reference)).cloned().collect()
        }
        R::Conceptscheme => {
            out.concept_schemes =
                all.concept_schemes.iter().filter(|c| selected(request, &c.artefact.reference)).cloned().collect()
        }
        R::Agencyscheme => {
            out.agency_schemes =
                all.agency_schemes.iter().filter(|c| selected(request, &c.artefact.reference)).cloned().collect()
        }
        R::Dataproviderscheme => {
            out.data_provider_schemes =
                all.data_provider_schemes.iter().filter(|c| selected(request, &c.artefact.reference)).cloned().collect()
        }
        R::Contentconstraint => {
            out.constraints =
                all.constraints.iter().filter(|c| selected(request, &c.artefact.reference)).cloned().collect()
        }
    }
    if out.is_empty() {
        return Err(AppError::NotFound {
            what: request.resource.name(),
            id: format!("{}/{}/{}", or_all(&request.agency), or_all(&request.id), or_all(&request.version)),
            known: Vec::new(),
        });
    }
    add_references(all, &mut out, request.references);
    Ok(out)
}

fn or_all(part: &str) -> &str {
    if part.is_empty() { "all" } else { part }
}

/// Add the structures related to those in `out`. Children: a dataflow's DSD; a DSD's code
/// lists and concept scheme; a constraint's dataflow. Parents: the dataflows using a DSD, the
/// DSDs using a code list or concept scheme, the constraints on a dataflow. Descendants and
/// `all` follow children to the end (`all` also takes parents).
fn add_references(all: &Structures, out: &mut Structures, references: References) {
    use StructureResource as R;
    let (parents, children, deep) = match references {
        References::None => return,
        References::Parents => (true, false, false),
        References::Parentsandsiblings => (true, true, false),
        References::Children => (false, true, false),
        References::Descendants => (false, true, true),
        References::All => (true, true, true),
        References::Only(_) => (true, true, true),
    };
    let mut related = Structures::default();
    let dsd_refs: BTreeSet<ArtefactRef> = out.data_structures.iter().map(|d| d.artefact.reference.clone()).collect();
    let flow_refs: BTreeSet<ArtefactRef> = out.dataflows.iter().map(|d| d.artefact.reference.clone()).collect();
    let list_refs: BTreeSet<ArtefactRef> = out.codelists.iter().map(|c| c.artefact.reference.clone()).collect();
    let concept_refs: BTreeSet<ArtefactRef> =
        out.concept_schemes.iter().map(|c| c.artefact.reference.clone()).collect();
    let mut wanted_dsds: BTreeSet<ArtefactRef> = BTreeSet::new();
    let mut wanted_flows: BTreeSet<ArtefactRef> = BTreeSet::new();
    if children {
        wanted_dsds.extend(out.dataflows.iter().map(|d| d.structure.clone()));
        wanted_flows.extend(out.constraints.iter().map(|c| c.dataflow.clone()));
    }
    if parents {
        for d in &all.data_structures {
            let uses = d.dimensions.iter().chain(d.attributes.iter().map(|a| &a.component)).any(|c| {
                c.codelist.as_ref().is_some_and(|l| list_refs.contains(l)) || concept_refs.contains(&c.concept_scheme)
            });
            if uses {
                wanted_dsds.insert(d.artefact.reference.clone());
            }
        }
        for f in &all.dataflows {
            if dsd_refs.contains(&f.structure) {
                wanted_flows.insert(f.artefact.reference.clone());
            }
        }
        let flows: BTreeSet<&ArtefactRef> = flow_refs.iter().chain(wanted_flows.iter()).collect();
        related.constraints = all.constraints.iter().filter(|c| flows.contains(&c.dataflow)).cloned().collect();
    }
    related.dataflows = all
        .dataflows
        .iter()
        .filter(|f| wanted_flows.contains(&f.artefact.reference) && !flow_refs.contains(&f.artefact.reference))
        .cloned()
        .collect();
    if deep {
        // A dataflow reached as a child or parent brings its DSD along.
        wanted_dsds.extend(related.dataflows.iter().map(|d| d.structure.clone()));
    }
    related.data_structures = all
        .data_structures
        .iter()
        .filter(|d| wanted_dsds.contains(&d.artefact.reference) && !dsd_refs.contains(&d.artefact.reference))
        .cloned()
        .collect();
    if children && (deep || !out.data_structures.is_empty()) {
        let mut lists = BTreeSet::new();
        let mut schemes = BTreeSet::new();
        for d in out.data_structures.iter().chain(related.data_structures.iter()) {
            for c in d.dimensions.iter().chain(d.attributes.iter().map(|a| &a.component)) {
                if let Some(l) = &c.codelist {
                    lists.insert(l.clone());
                }
                schemes.insert(c.concept_scheme.clone());
            }
            schemes.insert(d.time_dimension.concept_scheme.clone());
        }
        related.codelists = all
            .codelists
            .iter()
            .filter(|c| lists.contains(&c.artefact.reference) && !list_refs.contains(&c.artefact.reference))
            .cloned()
            .collect();
        related.concept_schemes = all
            .concept_schemes
            .iter()
            .filter(|c| schemes.contains(&c.artefact.reference) && !concept_refs.contains(&c.artefact.reference))
            .cloned()
            .collect();
    }
    if references == References::All {
        related.agency_schemes = all.agency_schemes.clone();
        related.data_provider_schemes = all.data_provider_schemes.clone();
    }
    if let References::Only(kind) = references {
        let keep = |r: R| r == kind;
        if !keep(R::Dataflow) {
            related.dataflows.clear();
        }
        if !keep(R::Datastructure) {
            related.data_structures.clear();
        }
        if !keep(R::Codelist) {
            related.codelists.clear();
        }
        if !keep(R::Conceptscheme) {
            related.concept_schemes.clear();
        }
        if !keep(R::Contentconstraint) {
            related.constraints.clear();
        }
        if keep(R::Agencyscheme) {
            related.agency_schemes = all.agency_schemes.clone();
        }
        if keep(R::Dataproviderscheme) {
            related.data_provider_schemes = all.data_provider_schemes.clone();
        }
    }
    let agencies: Vec<ItemScheme> =
        related.agency_schemes.into_iter().filter(|a| !out_has(&out.agency_schemes, a)).collect();
    out.agency_schemes.extend(agencies);
    let providers: Vec<ItemScheme> =
        related.data_provider_schemes.into_iter().filter(|a| !out_has(&out.data_provider_schemes, a)).collect();
    out.data_provider_schemes.extend(providers);
    out.dataflows.extend(related.dataflows);
    out.data_structures.extend(related.data_structures);
    out.codelists.extend(related.codelists);
    out.concept_schemes.extend(related.concept_schemes);
    for c in related.constraints {
        if !out.constraints.iter().any(|o| o.artefact.reference == c.artefact.reference) {
            out.constraints.push(c);
        }
    }
}

fn out_has(list: &[ItemScheme], scheme: &ItemScheme) -> bool {
    list.iter().any(|s| s.artefact.reference == scheme.artefact.reference)
}

/// How much of the data a message carries (`detail` of a data query).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataDetail {
    #[default]
    Full,
    /// Values without attributes.
    Dataonly,
    /// Series keys only.
    Serieskeysonly,
    /// Series keys and attributes, no observations.
    Nodata,
}

impl DataDetail {
    pub fn parse(text: &str) -> Option<DataDetail> {
        Some(match text {
            "full" => DataDetail::Full,
            "dataonly" => DataDetail::Dataonly,
            "serieskeysonly" => DataDetail::Serieskeysonly,
            "nodata" => DataDetail::Nodata,
            _ => return None,
        })
    }
}

/// The formats a data message can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataFormat {
    GenericXml,
    StructureSpecificXml,
    Csv1,
    Csv2,
    Json,
    /// Not SDMX: one CSV row per figure with its key, period, value and attributes by name.
    PlainCsv,
    /// Not SDMX: a JSON array of figures, each an object of its key, period, value and attributes.
    PlainJson,
}

impl DataFormat {
    pub fn media_type(self) -> &'static str {
        use koshi_sdmx::media;
        match self {
            DataFormat::GenericXml => media::GENERIC_DATA_ML,
            DataFormat::StructureSpecificXml => media::STRUCTURE_SPECIFIC_DATA_ML,
            DataFormat::Csv1 => media::DATA_CSV_1,
            DataFormat::Csv2 => media::DATA_CSV_2,
            DataFormat::Json => media::DATA_JSON_1,
            DataFormat::PlainCsv => "text/csv; charset=utf-8",
            DataFormat::PlainJson => "application/json",
        }
    }
}

/// A data query in the terms of the SDMX REST API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataRequest {
    /// `MIG_EXT`, `KOSHI,MIG_EXT` or `KOSHI,MIG_EXT,1.0`.
    pub flow: String,
    /// A dotted key: codes joined by `+`, an empty part for any; `all` (or empty) for every key.
    pub key: String,
    /// Sources whose figures to give (empty: the harmonised view, unless `all_sources`).
    pub providers: Vec<String>,
    /// Every source's figures (what an export for another bank needs).
    pub all_sources: bool,
    pub start_period: Option<String>,
    pub end_period: Option<String>,
    /// Only figures of releases the bank received after this instant (`YYYY-MM-DD` or
    /// `YYYY-MM-DDThh:mm:ss`, UTC).
    pub updated_after: Option<String>,
    pub first_n: Option<usize>,
    pub last_n: Option<usize>,
    /// `TIME_PERIOD` (default), a dimension id, or `AllDimensions`.
    pub dimension_at_observation: Option<String>,
    pub detail: DataDetail,
    /// What was known on this date (the vintage: releases dated later are ignored).
    pub as_of: Option<String>,
    pub format: DataFormat,
    /// Language of names in SDMX-JSON (`en`, `ru`, `kk`).
    pub lang: String,
    /// Bounds on the answer (the API's); `None` for an export.
    pub limits: Option<AnswerLimits>,
}

impl DataRequest {
    pub fn new(flow: &str, format: DataFormat) -> DataRequest {
        DataRequest {
            flow: flow.to_string(),
            key: String::new(),
            providers: Vec::new(),
            all_sources: false,
            start_period: None,
            end_period: None,
            updated_after: None,
            first_n: None,
            last_n: None,
            dimension_at_observation: None,
            detail: DataDetail::Full,
            as_of: None,
            format,
            lang: "en".into(),
            limits: None,
        }
    }
}

/// What a data message held.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DataSummary {
    pub dataflow: String,
    pub datasets: usize,
    pub series: usize,
    pub observations: usize,
}

/// One figure on its way into a message.
struct Figure {
    period: String,
    value: Option<f64>,
    attributes: Vec<(String, String)>,
    /// The source whose data set it goes into (empty for the harmonised view).
    source: String,
    /// A withdrawal (with `updatedAfter`): it goes into a data set whose action is `Delete`.
    withdrawn: bool,
}

/// The dataflow id a flow reference names, checked against the agency and version koshi uses.
fn flow_id(flow: &str) -> Result<String> {
    let parts: Vec<&str> = flow.split(',').map(str::trim).collect();
    let bad = || {
        AppError::invalid("flow", format!("`{flow}` is not a dataflow reference (ID, AGENCY,ID or AGENCY,ID,VERSION)"))
    };
    let (agency, id, version) = match parts.as_slice() {
        [id] => (AGENCY, *id, VERSION),
        [agency, id] => (*agency, *id, VERSION),
        [agency, id, version] => (*agency, *id, *version),
        _ => return Err(bad()),
    };
    let agency_ok = agency == AGENCY || agency == "all" || agency.is_empty();
    let version_ok = version == VERSION || version == "latest" || version == "all" || version.is_empty();
    if !agency_ok || !version_ok || id.is_empty() {
        return Err(AppError::NotFound { what: "dataflow", id: flow.to_string(), known: Vec::new() });
    }
    Ok(id.to_string())
}

/// An SDMX key as the bank's key grammar (`+` within a part, an empty part for any).
fn key_text(key: &str, dimensions: usize) -> Result<Option<String>> {
    let key = key.trim();
    if key.is_empty() || key == "all" || key == "*" {
        return Ok(None);
    }
    let parts = key.split('.').count();
    if parts != dimensions {
        return Err(AppError::invalid(
            "key",
            format!(
                "`{key}` has {parts} parts; the dataflow has {dimensions} dimensions (an empty part selects any code)"
            ),
        ));
    }
    Ok(Some(key.to_string()))
}

fn format_value(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { "NaN".into() }
}

impl App {
    /// Every SDMX structure of the bank (cached until the bank changes).
    pub fn sdmx_structures(&self) -> Result<std::sync::Arc<Structures>> {
        let (_, structures, _) = self.cached(&self.sdmx, true, (), all_structures)?;
        Ok(structures)
    }

    /// Answer a structure query.
    pub fn sdmx_structure(&self, request: &StructureRequest) -> Result<Structures> {
        let all = self.sdmx_structures()?;
        select_structures(&all, request)
    }

    /// The data structure a dataflow follows, and its reference.
    pub fn sdmx_data_structure(&self, flow: &str) -> Result<(DataStructure, ArtefactRef)> {
        let id = flow_id(flow)?;
        self.read_quick(|bank| {
            let df = dataflow_named(bank.catalogue(), &id)?;
            Ok((data_structure(bank.catalogue(), df), ArtefactRef::new(AGENCY, &df.id, VERSION)))
        })
    }

    /// The header of a message prepared now.
    pub fn sdmx_header(&self, id: &str) -> Header {
        Header {
            id: id.to_string(),
            test: false,
            prepared: self.clock.now_utc(),
            sender: AGENCY.into(),
            receiver: None,
        }
    }

    /// Answer a data query into `out`, series by series. Nothing is written when the query is
    /// wrong or finds no data (an error, `NotFound` for no data), so the adapter can still
    /// answer with an error.
    pub fn sdmx_data(&self, request: &DataRequest, out: &mut dyn Write) -> Result<DataSummary> {
        let id = flow_id(&request.flow)?;
        if let (Some(f), Some(l)) = (request.first_n, request.last_n)
            && (f == 0 || l == 0)
        {
            return Err(AppError::invalid("firstNObservations", "must be at least 1"));
        }
        if request.first_n == Some(0) || request.last_n == Some(0) {
            return Err(AppError::invalid("firstNObservations/lastNObservations", "must be at least 1"));
        }
        let updated_after = request.updated_after.as_deref().map(parse_instant).transpose()?;
        self.read(|bank| {
            let catalogue = bank.catalogue();
            let df = dataflow_named(catalogue, &id)?.clone();
            let dsd = data_structure(catalogue, &df);
            let flow_ref = ArtefactRef::new(AGENCY, &df.id, VERSION);
            let layout = match request.dimension_at_observation.as_deref() {
                None | Some("") | Some("TIME_PERIOD") => ObservationDimension::TimePeriod,
                Some("AllDimensions") => ObservationDimension::AllDimensions,
                Some(d) if df.dimension_index(d).is_some() => ObservationDimension::Dimension(d.to_string()),
                Some(d) => {
                    return Err(AppError::invalid(
                        "dimensionAtObservation",
                        format!("`{d}` is not TIME_PERIOD, AllDimensions or a dimension of {}", df.id),
                    ));
                }
            };
            for p in &request.providers {
                if catalogue.source(p).is_none() {
                    return Err(AppError::NotFound {
                        what: "data provider",
                        id: p.clone(),
                        known: catalogue.sources.iter().map(|s| s.id.clone()).collect(),
                    });
                }
            }
            let text = QueryText {
                keys: key_text(&request.key, df.dimensions.len())?.into_iter().collect(),
                as_of: request.as_of.clone(),
                source: None,
                from: request.start_period.clone(),
                to: request.end_period.clone(),
                predecessors: false,
            };
            let query = Query::checked(catalogue, &df.id, &text)?;
            if let Some(limits) = request.limits {
                let series = bank.series_count(&query)?;
                if series > limits.max_series {
                    return Err(AppError::TooLarge(format!(
                        "the query matches {series} series, more than the {} one answer may hold: narrow the key \
                         (a code per dimension) or ask for parts of it",
                        limits.max_series
                    )));
                }
            }
            // When each release reached the bank, for `updatedAfter`.
            let received: HashMap<(String, String, i64), String> = match updated_after {
                Some(_) => bank
                    .releases(Some(&df.id))?
                    .into_iter()
                    .map(|r| ((r.source, r.label, r.revision), r.ingested_at))
                    .collect(),
                None => HashMap::new(),
            };
            let fresh = |source: &str, label: &str, revision: i64| match &updated_after {
                None => true,
                Some(after) => received
                    .get(&(source.to_string(), label.to_string(), revision))
                    .is_some_and(|at| at.replace(' ', "T").as_str() > after.as_str()),
            };
            let attributes = request.detail == DataDetail::Full;
            let mut stream = SeriesStream {
                request,
                dsd: &dsd,
                flow_ref: &flow_ref,
                layout: &layout,
                dimensions: df.dimensions.iter().map(|d| d.id.clone()).collect(),
                writer: None,
                out: Some(out),
                app: self,
                open: None,
                pending: BTreeMap::new(),
                summary: DataSummary { dataflow: df.id.clone(), ..DataSummary::default() },
                current: None,
                error: None,
            };
            if request.providers.is_empty() && !request.all_sources {
                bank.for_each_harmonised(&query, &mut |row| {
                    if !fresh(&row.source, &row.release_label, row.release_revision) {
                        return true;
                    }
                    let attrs = if attributes {
                        let mut a = common_attributes(
                            &row.unit,
                            row.unit_mult,
                            &row.status,
                            &row.source,
                            &row.definition,
                            &row.release_label,
                            &row.release_date,
                            row.citation.as_deref(),
                        );
                        a.push(("HARMONISED_REASON".into(), row.reason.clone()));
                        a
                    } else {
                        Vec::new()
                    };
                    stream.push(
                        row.key,
                        Figure {
                            period: row.time_period,
                            value: row.value,
                            attributes: attrs,
                            source: String::new(),
                            withdrawn: false,
                        },
                    )
                })?;
            } else {
                // One source at a time, so that each source's data set streams whole.
                let sources: Vec<String> = if request.all_sources {
                    let mut sources: Vec<String> = bank.releases(Some(&df.id))?.into_iter().map(|r| r.source).collect();
                    sources.sort();
                    sources.dedup();
                    sources
                } else {
                    request.providers.clone()
                };
                for source in sources {
                    // What changed since a date includes what was withdrawn.
                    let query =
                        Query { source: Some(source), include_withdrawn: updated_after.is_some(), ..query.clone() };
                    bank.for_each_row(&query, &mut |row| {
                        if !fresh(&row.source, &row.release_label, row.release_revision) {
                            return true;
                        }
                        let attrs = if attributes {
                            let mut a = common_attributes(
                                &row.unit,
                                row.unit_mult,
                                &row.status,
                                &row.source,
                                &row.definition,
                                &row.release_label,
                                &row.release_date,
                                row.citation.as_deref(),
                            );
                            if let Some(p) = &row.printed {
                                a.push(("PRINTED".into(), p.clone()));
                            }
                            if let Some(n) = &row.note {
                                a.push(("NOTE".into(), n.clone()));
                            }
                            if !row.defects.is_empty() {
                                a.push(("DEFECT".into(), row.defects.join("|")));
                            }
                            a
                        } else {
                            Vec::new()
                        };
                        let withdrawn = row.status == ObsStatus::Withdrawn.code();
                        let figure = Figure {
                            period: row.time_period,
                            value: row.value,
                            attributes: attrs,
                            source: row.source,
                            withdrawn,
                        };
                        stream.push(row.key, figure)
                    })?;
                    if let Some(e) = stream.error.take() {
                        return Err(e);
                    }
                }
            }
            stream.finish()
        })
    }
}

/// `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ss[Z|+00:00]` as a comparable UTC text.
fn parse_instant(text: &str) -> Result<String> {
    let t = text.trim().trim_end_matches('Z').trim_end_matches("+00:00");
    let bad = || {
        AppError::invalid(
            "updatedAfter",
            format!("`{text}` is not a date or a UTC date and time (YYYY-MM-DDThh:mm:ss)"),
        )
    };
    let (date, time) = t.split_once('T').unwrap_or((t, "00:00:00"));
    date.parse::<koshi_core::Date>().map_err(|_| bad())?;
    let time_ok = time.len() >= 5
        && time.split(':').all(|p| {
            let whole = p.split('.').next().unwrap_or("");
            !whole.is_empty() && whole.len() <= 2 && whole.chars().all(|c| c.is_ascii_digit())
        });
    if !time_ok {
        return Err(bad());
    }
    // A date alone means "after that day began": every release received on or after it.
    if !t.contains('T') {
        return Ok(date.to_string());
    }
    Ok(format!("{date}T{time}"))
}

#[allow(clippy::too_many_arguments)]
fn common_attributes(
    unit: &str,
    unit_mult: i32,
    status: &str,
    source: &str,
    definition: &str,
    release: &str,
    release_date: &str,
    citation: Option<&str>,
) -> Vec<(String, String)> {
    let mut a = vec![
        ("UNIT_MEASURE".to_string(), unit.to_string()),
        ("UNIT_MULT".to_string(), unit_mult.to_string()),
        ("OBS_STATUS".to_string(), status.to_string()),
        ("SOURCE".to_string(), source.to_string()),
        ("DEFINITION".to_string(), definition.to_string()),
        ("RELEASE".to_string(), release.to_string()),
        ("RELEASE_DATE".to_string(), release_date.to_string()),
    ];
    if let Some(c) = citation {
        a.push(("CITATION".to_string(), c.to_string()));
    }
    a
}

/// A data set of a message: its source (empty for the harmonised view), whether it withdraws
/// figures (action `Delete`), and its slot (see [`SeriesStream`]).
type DataSetKey = (String, bool, usize);

/// Rows of the bank, in key order, gathered into series and written as they complete. The
/// writer is made at the first series, so a query without data writes nothing. A data set is
/// (source, slot): a source's figures go into slot 0, and where the source gives one key and
/// period under several definitions, the second into slot 1 and so on, so that no data set
/// repeats an observation. Sources come one after another; slot 0 streams, the rare further
/// slots wait until their source is done.
struct SeriesStream<'a> {
    request: &'a DataRequest,
    dsd: &'a DataStructure,
    flow_ref: &'a ArtefactRef,
    layout: &'a ObservationDimension,
    dimensions: Vec<String>,
    writer: Option<Box<dyn DataWriter + 'a>>,
    out: Option<&'a mut dyn Write>,
    app: &'a App,
    /// The data set being written.
    open: Option<DataSetKey>,
    pending: BTreeMap<DataSetKey, Vec<Series>>,
    summary: DataSummary,
    /// The series being gathered: its key and its figures.
    current: Option<(Vec<String>, Vec<Figure>)>,
    error: Option<AppError>,
}

impl<'a> SeriesStream<'a> {
    fn push(&mut self, key: Vec<String>, figure: Figure) -> bool {
        let next_series = self
            .current
            .as_ref()
            .is_some_and(|(k, figures)| *k != key || figures.first().is_some_and(|f| f.source != figure.source));
        if next_series && let Err(e) = self.flush_current() {
            self.error = Some(e);
            return false;
        }
        let (_, figures) = self.current.get_or_insert_with(|| (key, Vec::new()));
        figures.push(figure);
        true
    }

    fn flush_current(&mut self) -> Result<()> {
        let Some((key, mut figures)) = self.current.take() else { return Ok(()) };
        let source = figures.first().map(|f| f.source.clone()).unwrap_or_default();
        figures.sort_by(|a, b| a.period.cmp(&b.period));
        // The n-th figure of a period goes into slot n; withdrawals into data sets of their own.
        let mut slots: BTreeMap<(bool, usize), Vec<Figure>> = BTreeMap::new();
        let mut seen: HashMap<(bool, String), usize> = HashMap::new();
        for f in figures {
            let n = seen.entry((f.withdrawn, f.period.clone())).or_insert(0);
            slots.entry((f.withdrawn, *n)).or_default().push(f);
            *n += 1;
        }
        for ((withdrawn, slot), mut figures) in slots {
            if let Some(n) = self.request.first_n {
                figures.truncate(n);
            }
            if let Some(n) = self.request.last_n {
                let drop = figures.len().saturating_sub(n);
                figures.drain(..drop);
            }
            let with_obs = matches!(self.request.detail, DataDetail::Full | DataDetail::Dataonly);
            // Ranges of periods are SDMX time ranges in SDMX formats, `A/B` in the plain ones.
            let sdmx_periods = !matches!(self.request.format, DataFormat::PlainCsv | DataFormat::PlainJson);
            let observations: Vec<Obs> = if with_obs {
                figures
                    .into_iter()
                    .map(|f| Obs {
                        time_period: if sdmx_periods { to_sdmx_period(&f.period) } else { f.period },
                        value: f.value.map(format_value),
                        attributes: f.attributes,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let series = Series {
                key: self.dimensions.iter().cloned().zip(key.iter().cloned()).collect(),
                attributes: Vec::new(),
                observations,
            };
            self.summary.series += 1;
            self.summary.observations += series.observations.len();
            if let Some(limits) = self.request.limits
                && self.summary.observations > limits.max_observations
            {
                return Err(AppError::TooLarge(format!(
                    "the answer holds more than {} observations: narrow the key or the periods",
                    limits.max_observations
                )));
            }
            self.write((source.clone(), withdrawn, slot), series)?;
        }
        Ok(())
    }

    fn write(&mut self, set: DataSetKey, series: Series) -> Result<()> {
        if self.writer.is_none() {
            self.start_writer()?;
        }
        match &self.open {
            Some(open) if *open == set => self.writer_mut()?.write_series(&series)?,
            Some(open) if open.0 == set.0 => self.pending.entry(set).or_default().push(series),
            _ => {
                self.close_source()?;
                self.start_dataset(&set)?;
                self.writer_mut()?.write_series(&series)?;
            }
        }
        Ok(())
    }

    /// End the open data set and write the source's waiting ones.
    fn close_source(&mut self) -> Result<()> {
        if self.open.take().is_none() {
            return Ok(());
        }
        self.writer_mut()?.end_dataset()?;
        for (set, series) in std::mem::take(&mut self.pending) {
            self.start_dataset(&set)?;
            for s in &series {
                self.writer_mut()?.write_series(s)?;
            }
            self.writer_mut()?.end_dataset()?;
            self.open = None;
        }
        Ok(())
    }

    fn writer_mut(&mut self) -> Result<&mut Box<dyn DataWriter + 'a>> {
        self.writer.as_mut().ok_or_else(|| AppError::Unanswerable("the data message was closed".into()))
    }

    fn start_dataset(&mut self, set: &DataSetKey) -> Result<()> {
        let header = DataSetHeader {
            dataflow: self.flow_ref.clone(),
            structure: self.dsd.artefact.reference.clone(),
            action: if set.1 { Action::Delete } else { Action::Information },
            // Whose figures a data set holds is said by every observation's SOURCE attribute; the
            // data set's own DataProvider reference is left out because common clients (Python's
            // sdmx1) refuse a data message that has one.
            provider: None,
            dimension_at_observation: self.layout.clone(),
            attributes: Vec::new(),
        };
        self.open = Some(set.clone());
        self.summary.datasets += 1;
        self.writer_mut()?.start_dataset(&header)?;
        Ok(())
    }

    fn start_writer(&mut self) -> Result<()> {
        let out = self.out.take().ok_or_else(|| AppError::Unanswerable("the data message was closed".into()))?;
        let header = self.app.sdmx_header(&format!("KOSHI_{}", self.summary.dataflow));
        let writer: Box<dyn DataWriter + 'a> = match self.request.format {
            DataFormat::GenericXml | DataFormat::StructureSpecificXml => {
                let kind = if self.request.format == DataFormat::GenericXml {
                    koshi_sdmx::xml::XmlDataKind::Generic
                } else {
                    koshi_sdmx::xml::XmlDataKind::StructureSpecific
                };
                Box::new(koshi_sdmx::xml::XmlDataWriter::new(out, kind, &header, self.dsd, self.flow_ref, self.layout)?)
            }
            DataFormat::Csv1 | DataFormat::Csv2 => {
                let version = if self.request.format == DataFormat::Csv1 {
                    koshi_sdmx::csv::CsvVersion::V1
                } else {
                    koshi_sdmx::csv::CsvVersion::V2
                };
                Box::new(koshi_sdmx::csv::CsvDataWriter::new(out, version, self.dsd, self.flow_ref)?)
            }
            DataFormat::Json => {
                let structures = self.app.sdmx_structures()?;
                let lists: Vec<ItemScheme> = structures
                    .codelists
                    .iter()
                    .filter(|c| self.dsd.dimensions.iter().any(|d| d.codelist.as_ref() == Some(&c.artefact.reference)))
                    .cloned()
                    .collect();
                Box::new(koshi_sdmx::json::JsonDataWriter::new(
                    out,
                    &header,
                    self.dsd,
                    self.flow_ref,
                    &lists,
                    &self.request.lang,
                    self.layout,
                ))
            }
            DataFormat::PlainCsv => Box::new(PlainWriter::csv(out, self.dsd)?),
            DataFormat::PlainJson => Box::new(PlainWriter::json(out)?),
        };
        self.writer = Some(writer);
        Ok(())
    }

    fn finish(mut self) -> Result<DataSummary> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.flush_current()?;
        if self.writer.is_none() {
            return Err(AppError::NotFound {
                what: "data for the query",
                id: self.request.key.clone(),
                known: Vec::new(),
            });
        }
        self.close_source()?;
        let writer = self.writer.take().ok_or_else(|| AppError::Unanswerable("the data message was closed".into()))?;
        writer.finish()?;
        Ok(self.summary)
    }
}

impl From<WriteError> for AppError {
    fn from(e: WriteError) -> Self {
        AppError::Write(e)
    }
}

pub use koshi_sdmx::StructureDetail;

/// The plain (not SDMX) export formats: a flat CSV with a fixed header, or a JSON array.
struct PlainWriter<'a> {
    csv: Option<csv::Writer<&'a mut dyn Write>>,
    json: Option<&'a mut dyn Write>,
    /// The CSV's attribute columns, in header order.
    columns: Vec<String>,
    first: bool,
}

impl<'a> PlainWriter<'a> {
    fn csv(out: &'a mut dyn Write, dsd: &DataStructure) -> std::result::Result<Self, WriteError> {
        let mut csv = csv::Writer::from_writer(out);
        let columns: Vec<String> = ATTRIBUTES.iter().map(|(id, _)| id.to_string()).collect();
        let header: Vec<&str> = dsd
            .dimensions
            .iter()
            .map(|d| d.id.as_str())
            .chain(["TIME_PERIOD", "OBS_VALUE"])
            .chain(columns.iter().map(String::as_str))
            .collect();
        csv.write_record(&header).map_err(csv_error)?;
        Ok(PlainWriter { csv: Some(csv), json: None, columns, first: true })
    }

    fn json(out: &'a mut dyn Write) -> std::result::Result<Self, WriteError> {
        out.write_all(b"[")?;
        Ok(PlainWriter { csv: None, json: Some(out), columns: Vec::new(), first: true })
    }
}

fn csv_error(e: csv::Error) -> WriteError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => WriteError::Io(io),
        other => WriteError::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

impl DataWriter for PlainWriter<'_> {
    fn start_dataset(&mut self, _: &DataSetHeader) -> std::result::Result<(), WriteError> {
        Ok(())
    }

    fn write_series(&mut self, series: &Series) -> std::result::Result<(), WriteError> {
        for obs in &series.observations {
            if let Some(csv) = self.csv.as_mut() {
                let mut record: Vec<&str> = series.key.iter().map(|(_, c)| c.as_str()).collect();
                record.push(&obs.time_period);
                record.push(obs.value.as_deref().unwrap_or(""));
                for column in &self.columns {
                    record.push(obs.attributes.iter().find(|(id, _)| id == column).map_or("", |(_, v)| v.as_str()));
                }
                csv.write_record(&record).map_err(csv_error)?;
            } else if let Some(out) = self.json.as_mut() {
                let mut object = serde_json::Map::new();
                for (dim, code) in &series.key {
                    object.insert(dim.clone(), code.clone().into());
                }
                object.insert("TIME_PERIOD".into(), obs.time_period.clone().into());
                let value =
                    obs.value.as_deref().and_then(|v| v.parse::<f64>().ok()).and_then(serde_json::Number::from_f64);
                object.insert("OBS_VALUE".into(), value.map_or(serde_json::Value::Null, serde_json::Value::Number));
                for (id, v) in &obs.attributes {
                    let v = if id == "UNIT_MULT" {
                        v.parse::<i64>().map_or_else(|_| v.clone().into(), Into::into)
                    } else {
                        v.clone().into()
                    };
                    object.insert(id.clone(), v);
                }
                if !self.first {
                    out.write_all(b",\n")?;
                }
                self.first = false;
                serde_json::to_writer(&mut **out, &object).map_err(|e| WriteError::Io(e.into()))?;
            }
        }
        Ok(())
    }

    fn end_dataset(&mut self) -> std::result::Result<(), WriteError> {
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> std::result::Result<(), WriteError> {
        if let Some(mut csv) = self.csv.take() {
            csv.flush()?;
        }
        if let Some(out) = self.json.take() {
            out.write_all(b"]\n")?;
            out.flush()?;
        }
        Ok(())
    }
}

/// An SDMX-ML error message.
pub fn error_message(code: u16, message: &str) -> Vec<u8> {
    koshi_sdmx::xml::write_error(Vec::new(), code, message).unwrap_or_else(|_| message.as_bytes().to_vec())
}

impl App {
    /// A structure message holding `structures` at `detail`; stubs point at `base` (the REST
    /// API's root URL).
    pub fn sdmx_structure_message(
        &self,
        structures: &Structures,
        detail: StructureDetail,
        base: &str,
    ) -> Result<Vec<u8>> {
        let header = self.sdmx_header("KOSHI_STRUCTURE");
        let url = |class: &str, r: &ArtefactRef| {
            let resource = match class {
                "Codelist" => "codelist",
                "DataStructure" => "datastructure",
                "Dataflow" => "dataflow",
                "ConceptScheme" => "conceptscheme",
                "AgencyScheme" => "agencyscheme",
                "DataProviderScheme" => "dataproviderscheme",
                _ => "contentconstraint",
            };
            format!("{base}/{resource}/{}/{}/{}", r.agency, r.id, r.version)
        };
        Ok(koshi_sdmx::xml::write_structure(Vec::new(), &header, structures, detail, &url)?)
    }

    /// The XML schema that structure-specific data of `flow` validate against, for the layout
    /// `dimension_at_observation` (`TIME_PERIOD` by default).
    pub fn sdmx_schema(&self, flow: &str, dimension_at_observation: Option<&str>) -> Result<Vec<u8>> {
        let (dsd, flow_ref) = self.sdmx_data_structure(flow)?;
        let layout = match dimension_at_observation {
            None | Some("") | Some("TIME_PERIOD") => ObservationDimension::TimePeriod,
            Some("AllDimensions") => ObservationDimension::AllDimensions,
            Some(d) if dsd.dimensions.iter().any(|c| c.id == d) => ObservationDimension::Dimension(d.to_string()),
            Some(d) => {
                return Err(AppError::invalid(
                    "dimensionAtObservation",
                    format!("`{d}` is not a dimension of {}", flow_ref.id),
                ));
            }
        };
        Ok(koshi_sdmx::xml::write_dsd_schema(Vec::new(), &dsd, &flow_ref, &layout)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updated_after_accepts_dates_and_instants_and_refuses_others() {
        assert_eq!(parse_instant("2026-12-01T10:00:00Z").unwrap(), "2026-12-01T10:00:00");
        assert_eq!(parse_instant("2026-12-01").unwrap(), "2026-12-01");
        assert!(parse_instant("yesterday").is_err());
        assert!(parse_instant("2026-12-01Tnoon").is_err());
    }

    #[test]
    fn keys_must_have_one_part_per_dimension() {
        assert_eq!(key_text("all", 3).unwrap(), None);
        assert_eq!(key_text("KAZ..NET", 3).unwrap().as_deref(), Some("KAZ..NET"));
        assert!(key_text("KAZ.NET", 3).is_err());
    }

    #[test]
    fn flow_references_name_koshi_structures() {
        assert_eq!(flow_id("MIG_EXT").unwrap(), "MIG_EXT");
        assert_eq!(flow_id("KOSHI,MIG_EXT,1.0").unwrap(), "MIG_EXT");
        assert_eq!(flow_id("KOSHI,MIG_EXT,latest").unwrap(), "MIG_EXT");
        assert!(matches!(flow_id("ECB,EXR,1.0"), Err(AppError::NotFound { .. })));
    }
}
