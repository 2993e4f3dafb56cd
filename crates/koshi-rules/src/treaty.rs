//! The treaty registry: which international agreements exist, between whom, and from when to
//! when they are in force. Rules that a treaty creates name it and apply only while it is in force.

use koshi_core::Date;
use serde::Serialize;

use crate::policy::{PolicyError, Reader};

/// A state party and the date it became bound (accession), when later than entry into force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Party {
    /// ISO 3166-1 alpha-2 code.
    pub country: String,
    pub from: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Treaty {
    pub id: String,
    pub title: String,
    pub parties: Vec<Party>,
    pub subject: String,
    pub signed: Option<Date>,
    pub ratification_act: Option<String>,
    /// `None` when entry into force is not known: the treaty is then never treated as in force.
    pub in_force_from: Option<Date>,
    /// The first day it no longer applies.
    pub terminated: Option<Date>,
    pub source: String,
    pub uncertain: Option<String>,
    /// Written to exercise the engine; no such treaty is claimed to exist.
    pub hypothetical: bool,
}

impl Treaty {
    pub fn in_force_on(&self, date: Date) -> bool {
        self.in_force_from.is_some_and(|from| from <= date) && self.terminated.is_none_or(|end| date < end)
    }

    /// Whether `country` is bound by the treaty on `date` (in force, and acceded by then).
    pub fn binds(&self, country: &str, date: Date) -> bool {
        self.in_force_on(date)
            && self.parties.iter().any(|p| p.country.eq_ignore_ascii_case(country) && p.from.is_none_or(|f| f <= date))
    }
}

/// The registry the decisions consult.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Treaties {
    pub treaties: Vec<Treaty>,
}

const STANDARD: &str = include_str!("../policies/treaties.toml");

impl Treaties {
    /// The treaties shipped with the crate (`policies/treaties.toml`).
    pub fn standard() -> Result<Treaties, PolicyError> {
        parse_treaties("treaties.toml", STANDARD)
    }

    pub fn get(&self, id: &str) -> Option<&Treaty> {
        self.treaties.iter().find(|t| t.id == id)
    }

    /// The registry with `more` added; a treaty with an id already present replaces it.
    pub fn with(&self, more: Treaties) -> Treaties {
        let mut out = self.clone();
        for treaty in more.treaties {
            match out.treaties.iter_mut().find(|t| t.id == treaty.id) {
                Some(existing) => *existing = treaty,
                None => out.treaties.push(treaty),
            }
        }
        out
    }
}

/// Reads `[[treaty]]` tables.
pub fn parse_treaties(name: &str, text: &str) -> Result<Treaties, PolicyError> {
    let root = text
        .parse::<toml::Table>()
        .map_err(|e| PolicyError::Syntax { file: name.to_string(), message: e.to_string().replace('\n', " ") })?;
    let mut reader = Reader::new(name);
    reader.check_keys(&root, &["treaty"], "");
    let mut treaties = Vec::new();
    let items = match root.get("treaty") {
        Some(toml::Value::Array(items)) => items.as_slice(),
        Some(_) => {
            reader.problem("treaty", "expected a list of treaties (`[[treaty]]`)");
            &[]
        }
        None => &[],
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("treaty[{i}]");
        let Some(t) = item.as_table() else {
            reader.problem(path, "expected a table");
            continue;
        };
        reader.check_keys(
            t,
            &[
                "id",
                "title",
                "parties",
                "subject",
                "signed",
                "ratification_act",
                "in_force_from",
                "terminated",
                "source",
                "uncertain",
                "hypothetical",
            ],
            &path,
        );
        let id = reader.text(t, "id", &path, true);
        let title = reader.text(t, "title", &path, true);
        let subject = reader.text(t, "subject", &path, true).unwrap_or_default();
        let signed = reader.date(t, "signed", &path, false);
        let ratification_act = reader.text(t, "ratification_act", &path, false);
        let in_force_from = reader.date(t, "in_force_from", &path, false);
        let terminated = reader.date(t, "terminated", &path, false);
        let source = reader.text(t, "source", &path, true).unwrap_or_default();
        let uncertain = reader.text(t, "uncertain", &path, false);
        let hypothetical = reader.boolean(t, "hypothetical", &path).unwrap_or(false);
        if in_force_from.is_none() && uncertain.is_none() {
            reader.problem(format!("{path}.in_force_from"), "is missing; say why under `uncertain`");
        }
        let mut parties = Vec::new();
        match t.get("parties") {
            Some(toml::Value::Array(list)) => {
                for (j, p) in list.iter().enumerate() {
                    let here = format!("{path}.parties[{j}]");
                    match p {
                        toml::Value::String(code) => parties.push(Party { country: code.clone(), from: None }),
                        toml::Value::Table(pt) => {
                            reader.check_keys(pt, &["country", "from"], &here);
                            let country = reader.text(pt, "country", &here, true);
                            let from = reader.date(pt, "from", &here, false);
                            if let Some(country) = country {
                                parties.push(Party { country, from });
                            }
                        }
                        _ => reader.problem(here, "expected a country code or { country, from }"),
                    }
                }
            }
            _ => reader.problem(format!("{path}.parties"), "is missing (a list of country codes)"),
        }
        if let (Some(id), Some(title)) = (id, title) {
            treaties.push(Treaty {
                id,
                title,
                parties,
                subject,
                signed,
                ratification_act,
                in_force_from,
                terminated,
                source,
                uncertain,
                hypothetical,
            });
        }
    }
    reader.finish(Treaties { treaties })
}
