//! Code lists with labels in English, Russian and Kazakh, the spellings sources use for each
//! code, validity periods (Kazakhstan's regions change), and groupings with membership dates.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::structure::StructureError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Labels {
    pub en: String,
    #[serde(default)]
    pub ru: String,
    #[serde(default)]
    pub kk: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ru,
    Kk,
}

impl Labels {
    /// The label in `lang`, falling back to English where a translation is missing.
    pub fn get(&self, lang: Lang) -> &str {
        let text = match lang {
            Lang::En => &self.en,
            Lang::Ru => &self.ru,
            Lang::Kk => &self.kk,
        };
        if text.is_empty() { &self.en } else { text }
    }
}

/// A language koshi has no labels in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language `{0}` (en, ru, kk)")]
pub struct UnknownLanguage(pub String);

impl std::str::FromStr for Lang {
    type Err = UnknownLanguage;
    fn from_str(s: &str) -> Result<Self, UnknownLanguage> {
        match s {
            "en" => Ok(Lang::En),
            "ru" => Ok(Lang::Ru),
            "kk" => Ok(Lang::Kk),
            other => Err(UnknownLanguage(other.to_string())),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Code {
    pub id: String,
    pub labels: Labels,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// Codes that replaced this one when it ceased to exist.
    pub successors: Vec<String>,
    /// Further properties: `alpha2`, `m49`, `isced`, `kind`.
    pub properties: BTreeMap<String, String>,
}

impl Code {
    pub fn new(id: &str, labels: Labels) -> Self {
        Code {
            id: id.to_string(),
            labels,
            valid_from: None,
            valid_to: None,
            successors: Vec::new(),
            properties: BTreeMap::new(),
        }
    }

    pub fn valid_on(&self, date: Date) -> bool {
        self.valid_from.is_none_or(|from| from <= date) && self.valid_to.is_none_or(|to| date <= to)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Codelist {
    pub id: String,
    pub codes: Vec<Code>,
    #[serde(skip)]
    by_id: HashMap<String, usize>,
    /// Normalised spelling → code id.
    #[serde(skip)]
    variants: HashMap<String, String>,
}

/// Lower-case, single-spaced, without surrounding punctuation: how spellings are compared.
pub fn normalise_name(text: &str) -> String {
    let lowered = text.trim().to_lowercase().replace(['’', '`', 'ʼ'], "'");
    lowered.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Codelist {
    pub fn new(id: &str) -> Self {
        Codelist { id: id.to_string(), ..Default::default() }
    }

    pub fn push(&mut self, code: Code) {
        for label in [&code.labels.en, &code.labels.ru, &code.labels.kk] {
            if !label.is_empty() {
                self.variants.entry(normalise_name(label)).or_insert_with(|| code.id.clone());
            }
        }
        self.by_id.insert(code.id.clone(), self.codes.len());
        self.codes.push(code);
    }

    pub fn add_variant(&mut self, variant: &str, code: &str) {
        self.variants.insert(normalise_name(variant), code.to_string());
    }

    pub fn get(&self, id: &str) -> Option<&Code> {
        self.by_id.get(id).map(|&i| &self.codes[i])
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// The code for `text`: the code itself, a label in any language, or a known spelling.
    pub fn resolve(&self, text: &str) -> Option<&str> {
        let t = text.trim();
        if let Some(code) = self.get(t) {
            return Some(&code.id);
        }
        self.variants.get(&normalise_name(t)).map(String::as_str)
    }

    /// The code whose property `name` (e.g. `m49`) equals `value`.
    pub fn by_property(&self, name: &str, value: &str) -> Option<&Code> {
        let wanted = value.trim().trim_start_matches('0');
        self.codes
            .iter()
            .find(|c| c.properties.get(name).is_some_and(|v| v.trim_start_matches('0') == wanted && !v.is_empty()))
    }
}

/// Membership of groupings (EAEU, CIS, Central Asia…) with dates.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Groups {
    pub memberships: Vec<Membership>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Membership {
    pub group: String,
    pub member: String,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

impl Groups {
    pub fn is_member(&self, group: &str, member: &str, on: Date) -> bool {
        self.memberships.iter().any(|m| {
            m.group == group
                && m.member == member
                && m.valid_from.is_none_or(|f| f <= on)
                && m.valid_to.is_none_or(|t| on <= t)
        })
    }

    pub fn members(&self, group: &str, on: Date) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .memberships
            .iter()
            .filter(|m| m.group == group && m.valid_from.is_none_or(|f| f <= on) && m.valid_to.is_none_or(|t| on <= t))
            .map(|m| m.member.as_str())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// A territorial change: part of `from` became `to` on `date`.
#[derive(Debug, Clone, Serialize)]
pub struct RegionSplit {
    pub date: Date,
    pub from: String,
    pub to: String,
    pub note: String,
}

// ---------- CSV readers for the code-list files ----------

pub(crate) fn read_csv(file: &str, text: &str) -> Result<Vec<BTreeMap<String, String>>, StructureError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| StructureError::Csv { file: file.into(), row: 1, message: e.to_string() })?
        .clone();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record =
            record.map_err(|e| StructureError::Csv { file: file.into(), row: i + 2, message: e.to_string() })?;
        rows.push(headers.iter().zip(record.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect());
    }
    Ok(rows)
}

pub(crate) fn field<'a>(row: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    row.get(name).map(String::as_str).unwrap_or("").trim()
}

pub(crate) fn optional_date(file: &str, row: usize, text: &str) -> Result<Option<Date>, StructureError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    Date::parse_loose(text).map(Some).map_err(|e| StructureError::Csv {
        file: file.into(),
        row,
        message: e.to_string(),
    })
}

pub(crate) fn labels_of(row: &BTreeMap<String, String>) -> Labels {
    Labels {
        en: field(row, "name_en").to_string(),
        ru: field(row, "name_ru").to_string(),
        kk: field(row, "name_kk").to_string(),
    }
}

/// A simple code list file: `code,name_en,name_ru,name_kk[,isced,variants]`.
pub fn parse_simple_codelist(id: &str, file: &str, text: &str) -> Result<Codelist, StructureError> {
    let mut list = Codelist::new(id);
    for row in read_csv(file, text)? {
        let mut code = Code::new(field(&row, "code"), labels_of(&row));
        if !field(&row, "isced").is_empty() {
            code.properties.insert("isced".into(), field(&row, "isced").into());
        }
        let variants: Vec<String> =
            field(&row, "variants").split('|').map(str::trim).filter(|v| !v.is_empty()).map(String::from).collect();
        let code_id = code.id.clone();
        list.push(code);
        for v in variants {
            list.add_variant(&v, &code_id);
        }
    }
    Ok(list)
}

/// Add `variant,code` rows to a code list; rows naming unknown codes are errors.
pub fn add_variants(list: &mut Codelist, file: &str, text: &str) -> Result<(), StructureError> {
    for (i, row) in read_csv(file, text)?.into_iter().enumerate() {
        let code = field(&row, "code");
        if !list.contains(code) {
            return Err(StructureError::Csv {
                file: file.into(),
                row: i + 2,
                message: format!("variant `{}` names unknown code `{code}`", field(&row, "variant")),
            });
        }
        list.add_variant(field(&row, "variant"), code);
    }
    Ok(())
}
