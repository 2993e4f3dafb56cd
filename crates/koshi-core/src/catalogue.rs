//! The catalogue: every dataflow, source, code list and grouping the bank knows, assembled
//! from the structure files. [`Catalogue::standard`] uses the files compiled into koshi.

use std::collections::BTreeMap;

use crate::codelist::{
    Code, Codelist, Groups, Labels, Membership, RegionSplit, add_variants, field, labels_of, optional_date,
    parse_simple_codelist, read_csv,
};
use crate::date::Date;
use crate::geography::Geography;
use crate::structure::{
    Dataflow, Declarations, Source, StructureError, check_dataflows, check_sources, parse_dataflows, parse_sources,
};

/// The text of each structure file, by its path under `data/structure/`.
pub struct StructureTexts<'a> {
    pub files: Vec<(&'a str, &'a str)>,
}

macro_rules! structure_file {
    ($path:literal) => {
        ($path, include_str!(concat!("../../../data/structure/", $path)))
    };
}

/// The structure files shipped with koshi.
pub fn standard_texts() -> StructureTexts<'static> {
    StructureTexts {
        files: vec![
            structure_file!("dataflows.toml"),
            structure_file!("sources.toml"),
            structure_file!("codelists/countries.csv"),
            structure_file!("codelists/area_variants.csv"),
            structure_file!("codelists/group_names.csv"),
            structure_file!("codelists/groups.csv"),
            structure_file!("codelists/kz_regions.csv"),
            structure_file!("codelists/kz_region_splits.csv"),
            structure_file!("codelists/education.csv"),
            structure_file!("codelists/sex.csv"),
            structure_file!("codelists/age.csv"),
            structure_file!("codelists/age_variants.csv"),
            structure_file!("codelists/quantile.csv"),
            structure_file!("codelists/sex_variants.csv"),
            structure_file!("codelists/purpose.csv"),
            structure_file!("codelists/permit_category.csv"),
            structure_file!("codelists/refusal_ground.csv"),
            structure_file!("codelists/occupation.csv"),
            structure_file!("capitals/capitals.csv"),
            structure_file!("capitals/contiguity.csv"),
        ],
    }
}

/// The translations of the texts stored with the figures (`translations.toml`, read by
/// [`crate::translations::Translations`]). Not one of [`standard_texts`]: translations are
/// applied when figures are read, so changing one changes no stored structure and reloads no
/// data.
pub fn translations_text() -> (&'static str, &'static str) {
    structure_file!("translations.toml")
}

#[derive(Debug, Clone)]
pub struct Catalogue {
    pub dataflows: Vec<Dataflow>,
    pub sources: Vec<Source>,
    pub codelists: BTreeMap<String, Codelist>,
    pub groups: Groups,
    pub region_splits: Vec<RegionSplit>,
    /// Capitals and land borders of the countries.
    pub geography: Geography,
}

/// The MEASURE code list of a dataflow that has measures (`MEASURE:<dataflow>`).
fn add_measure_codelist(codelists: &mut BTreeMap<String, Codelist>, df: &Dataflow) {
    if df.measures.is_empty() {
        return;
    }
    let mut list = Codelist::new(&format!("MEASURE:{}", df.id));
    for m in &df.measures {
        list.push(Code::new(&m.code, Labels { en: m.en.clone(), ru: m.ru.clone(), kk: m.kk.clone() }));
    }
    codelists.insert(list.id.clone(), list);
}

impl Catalogue {
    pub fn standard() -> Result<Self, StructureError> {
        Self::from_texts(&standard_texts())
    }

    pub fn from_texts(texts: &StructureTexts<'_>) -> Result<Self, StructureError> {
        let get = |path: &str| -> Result<&str, StructureError> {
            texts
                .files
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, t)| *t)
                .ok_or_else(|| StructureError::Toml { file: path.into(), message: "structure file missing".into() })
        };
        let dataflows = parse_dataflows("dataflows.toml", get("dataflows.toml")?)?;
        let sources = parse_sources("sources.toml", get("sources.toml")?)?;

        let mut area = Codelist::new("AREA");
        let countries = "codelists/countries.csv";
        for row in read_csv(countries, get(countries)?)? {
            let mut code = Code::new(field(&row, "alpha3"), labels_of(&row));
            code.properties.insert("kind".into(), "country".into());
            code.properties.insert("alpha2".into(), field(&row, "alpha2").into());
            code.properties.insert("m49".into(), field(&row, "m49").into());
            area.push(code);
        }
        let group_names = "codelists/group_names.csv";
        for row in read_csv(group_names, get(group_names)?)? {
            let mut code = Code::new(field(&row, "code"), labels_of(&row));
            code.properties.insert("kind".into(), "group".into());
            code.properties.insert("description".into(), field(&row, "description").into());
            area.push(code);
        }
        let regions = "codelists/kz_regions.csv";
        for (i, row) in read_csv(regions, get(regions)?)?.into_iter().enumerate() {
            let mut code = Code::new(field(&row, "code"), labels_of(&row));
            code.valid_from = optional_date(regions, i + 2, field(&row, "valid_from"))?;
            code.valid_to = optional_date(regions, i + 2, field(&row, "valid_to"))?;
            code.successors = field(&row, "successors").split_whitespace().map(String::from).collect();
            code.properties.insert("kind".into(), format!("kz_{}", field(&row, "kind")));
            let id = code.id.clone();
            area.push(code);
            for v in field(&row, "variants").split('|').map(str::trim).filter(|v| !v.is_empty()) {
                area.add_variant(v, &id);
            }
        }
        let variants = "codelists/area_variants.csv";
        add_variants(&mut area, variants, get(variants)?)?;

        let mut groups = Groups::default();
        let group_file = "codelists/groups.csv";
        for (i, row) in read_csv(group_file, get(group_file)?)?.into_iter().enumerate() {
            let (group, member) = (field(&row, "group"), field(&row, "member"));
            for c in [group, member] {
                if !area.contains(c) {
                    return Err(StructureError::Csv {
                        file: group_file.into(),
                        row: i + 2,
                        message: format!("unknown area `{c}`"),
                    });
                }
            }
            groups.memberships.push(Membership {
                group: group.into(),
                member: member.into(),
                valid_from: optional_date(group_file, i + 2, field(&row, "valid_from"))?,
                valid_to: optional_date(group_file, i + 2, field(&row, "valid_to"))?,
            });
        }
        let splits_file = "codelists/kz_region_splits.csv";
        let mut region_splits = Vec::new();
        for (i, row) in read_csv(splits_file, get(splits_file)?)?.into_iter().enumerate() {
            let date =
                optional_date(splits_file, i + 2, field(&row, "date"))?.unwrap_or(Date { year: 1, month: 1, day: 1 });
            region_splits.push(RegionSplit {
                date,
                from: field(&row, "from").into(),
                to: field(&row, "to").into(),
                note: field(&row, "note").into(),
            });
        }

        let mut codelists = BTreeMap::new();
        codelists.insert("AREA".to_string(), area);
        for (id, path) in [
            ("EDUCATION", "codelists/education.csv"),
            ("SEX", "codelists/sex.csv"),
            ("AGE", "codelists/age.csv"),
            ("QUANTILE", "codelists/quantile.csv"),
            ("PURPOSE", "codelists/purpose.csv"),
            ("PERMIT_CATEGORY", "codelists/permit_category.csv"),
            ("REFUSAL_GROUND", "codelists/refusal_ground.csv"),
            ("OCCUPATION", "codelists/occupation.csv"),
        ] {
            codelists.insert(id.to_string(), parse_simple_codelist(id, path, get(path)?)?);
        }
        for (id, path) in [("AGE", "codelists/age_variants.csv"), ("SEX", "codelists/sex_variants.csv")] {
            if let Some(list) = codelists.get_mut(id) {
                add_variants(list, path, get(path)?)?;
            }
        }
        for df in &dataflows {
            add_measure_codelist(&mut codelists, df);
        }
        let (capitals, borders) = ("capitals/capitals.csv", "capitals/contiguity.csv");
        let geography = Geography::parse(capitals, get(capitals)?, borders, get(borders)?)?;
        let catalogue = Catalogue { dataflows, sources, codelists, groups, region_splits, geography };
        catalogue.check_references("dataflows.toml", &catalogue.dataflows)?;
        Ok(catalogue)
    }

    /// Add the sources and dataflows a user declared, checked as the bundled ones are: ids
    /// well formed and new to the catalogue, names given, every dimension's code list known,
    /// reconciliation and plausibility naming known sources and dataflows. Either all of them
    /// join the catalogue or, on the first problem, none.
    pub fn add_declared(&mut self, file: &str, declarations: &Declarations) -> Result<(), StructureError> {
        check_sources(file, &declarations.sources)?;
        check_dataflows(file, &declarations.dataflows)?;
        for s in &declarations.sources {
            if let Some(existing) = self.source(&s.id) {
                return Err(StructureError::InvalidSource {
                    file: file.into(),
                    id: s.id.clone(),
                    message: format!(
                        "the id is already taken by the source \"{}\"; choose another id",
                        existing.name.en
                    ),
                });
            }
        }
        for df in &declarations.dataflows {
            if let Some(existing) = self.dataflow(&df.id) {
                return Err(StructureError::Invalid {
                    file: file.into(),
                    dataflow: df.id.clone(),
                    message: format!(
                        "the id is already taken by the dataflow \"{}\"; choose another id",
                        existing.name.en
                    ),
                });
            }
        }
        let mut next = self.clone();
        next.sources.extend(declarations.sources.iter().cloned());
        next.dataflows.extend(declarations.dataflows.iter().cloned());
        for df in &declarations.dataflows {
            add_measure_codelist(&mut next.codelists, df);
        }
        next.check_references(file, &declarations.dataflows)?;
        *self = next;
        Ok(())
    }

    fn check_references(&self, file: &str, dataflows: &[Dataflow]) -> Result<(), StructureError> {
        for df in dataflows {
            let invalid =
                |message: String| StructureError::Invalid { file: file.into(), dataflow: df.id.clone(), message };
            for d in &df.dimensions {
                if self.codelist_for(df, &d.id).is_none() {
                    let known: Vec<&str> =
                        self.codelists.keys().filter(|k| !k.contains(':')).map(String::as_str).collect();
                    return Err(invalid(format!(
                        "dimension {} uses unknown code list {} (there are {} and MEASURE)",
                        d.id,
                        d.codelist,
                        known.join(", ")
                    )));
                }
            }
            for s in &df.reconciliation.priority {
                if self.source(s).is_none() {
                    return Err(invalid(format!("reconciliation names unknown source {s}")));
                }
            }
            for p in &df.plausibility {
                let crate::structure::Plausibility::NotAbove { reference_dataflow, .. } = p;
                if self.dataflow(reference_dataflow).is_none() {
                    return Err(invalid(format!("plausibility names unknown dataflow {reference_dataflow}")));
                }
            }
        }
        Ok(())
    }

    pub fn dataflow(&self, id: &str) -> Option<&Dataflow> {
        self.dataflows.iter().find(|d| d.id == id)
    }

    /// Codes that ceased to exist and whose territory passed (in whole or in part) to `code`,
    /// nearest first: South Kazakhstan region (KZ-YUZ) for Turkistan region and Shymkent.
    pub fn predecessors(&self, code: &str) -> Vec<&crate::codelist::Code> {
        let Some(area) = self.codelist("AREA") else { return Vec::new() };
        let mut out: Vec<&crate::codelist::Code> = Vec::new();
        let mut frontier = vec![code.to_string()];
        while let Some(c) = frontier.pop() {
            for candidate in &area.codes {
                if candidate.successors.contains(&c) && !out.iter().any(|o| o.id == candidate.id) {
                    out.push(candidate);
                    frontier.push(candidate.id.clone());
                }
            }
        }
        out
    }

    /// The ISO 3166-1 alpha-3 codes of the AREA code list (countries, not groups or regions).
    pub fn country_codes(&self) -> Vec<String> {
        self.codelist("AREA")
            .map(|area| {
                area.codes
                    .iter()
                    .filter(|c| c.properties.get("kind").map(String::as_str) == Some("country"))
                    .map(|c| c.id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }

    pub fn codelist(&self, id: &str) -> Option<&Codelist> {
        self.codelists.get(id)
    }

    /// The code list a dimension of a dataflow draws from (MEASURE lists are per dataflow).
    pub fn codelist_for(&self, df: &Dataflow, dimension: &str) -> Option<&Codelist> {
        let dim = df.dimensions.iter().find(|d| d.id == dimension)?;
        if dim.codelist == "MEASURE" {
            self.codelists.get(&format!("MEASURE:{}", df.id))
        } else {
            self.codelists.get(&dim.codelist)
        }
    }

    /// Whether `code` is a valid code of the dimension; the special codes `_T` (total) and
    /// `_Z` (not applicable) are valid everywhere.
    pub fn is_valid_code(&self, df: &Dataflow, dimension: &str, code: &str) -> bool {
        code == "_T" || code == "_Z" || self.codelist_for(df, dimension).is_some_and(|l| l.contains(code))
    }

    /// Codes that carry a region's territory on `date`, following successors of codes that
    /// ceased to exist (South Kazakhstan → Turkistan region + Shymkent after 2018).
    pub fn current_equivalents(&self, code: &str, date: Date) -> Vec<String> {
        let Some(area) = self.codelist("AREA") else { return vec![code.to_string()] };
        let mut out = Vec::new();
        let mut stack = vec![code.to_string()];
        let mut guard = 0;
        while let Some(c) = stack.pop() {
            guard += 1;
            if guard > 64 {
                break;
            }
            match area.get(&c) {
                Some(entry)
                    if !entry.valid_on(date)
                        && !entry.successors.is_empty()
                        && entry.valid_to.is_some_and(|t| t < date) =>
                {
                    stack.extend(entry.successors.iter().cloned());
                }
                _ => out.push(c),
            }
        }
        out.sort();
        out.dedup();
        out
    }
}
