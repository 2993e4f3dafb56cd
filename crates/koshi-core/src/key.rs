//! One grammar for series keys: which codes of which dimensions a query, a forecast or an API
//! call selects, checked against the dataflow and its code lists.
//!
//! # Grammar
//!
//! A key text is one of two forms:
//!
//! ```text
//! dotted   := part ( "." part )*             one part per dimension, in the dataflow's order
//! part     := "" | codes                     an empty part accepts any code
//! named    := item ( ("," | ";") item )*
//! item     := DIM "=" codes
//! codes    := CODE ( ("+" | " ") CODE )*     `+` is "or"; a space counts as `+`, because in
//!                                            a URL query string `+` arrives as a space
//! ```
//!
//! `KAZ.WLD._T._T.NET+ARR` (MIG_EXT: REF_AREA.COUNTERPART.SEX.EDUCATION.MEASURE), `.ARR`
//! (MIG_INT: any region, arrivals), `REF_AREA=KAZ+KGZ;MEASURE=NET`. A text containing `=` is
//! of the named form, any other text is dotted; an empty text selects everything.
//!
//! # Several constraints: AND
//!
//! Several key texts (repeated `key` arguments) and several items of one text all apply at
//! once: for each dimension the accepted codes are the **intersection** of every constraint on
//! it. `REF_AREA=KAZ+KGZ` with `KAZ..` accepts KAZ only. An intersection that leaves no code is
//! an error naming the dimension, never a silently empty answer. (To accept more codes, use
//! `+` within one constraint.)
//!
//! # Validation
//!
//! Every dimension must be one of the dataflow's, and every code one of its dimension's code
//! list, or `_T` (total) or `_Z` (not applicable), which the catalogue accepts for every
//! dimension ([`Catalogue::is_valid_code`]). An unknown code is reported with its dimension,
//! its code list and up to three near codes: the spelling it resolves to (`Россия` → RUS),
//! codes whose id is within a small edit distance (`KAZZ` → KAZ), labels in English, Russian
//! or Kazakh that contain the text. All problems of the texts are reported together.
//!
//! The canonical form ([`KeyFilter`]'s `Display`) is the dotted key with codes in the order
//! they were first given; parsing it gives the same filter back.

use std::fmt;

use crate::catalogue::Catalogue;
use crate::codelist::{Codelist, normalise_name};
use crate::structure::Dataflow;

/// The codes a key accepts, per dimension of one dataflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFilter {
    dataflow: String,
    dimensions: Vec<String>,
    /// Per dimension, in the dataflow's order: `None` accepts any code.
    accepted: Vec<Option<Vec<String>>>,
}

/// A code suggested for an unknown one, with its English label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("{dataflow} has no dimension `{dimension}` (its dimensions: {}){}", .dimensions.join(", "),
        .suggestion.as_ref().map(|s| format!("; did you mean {s}?")).unwrap_or_default())]
    UnknownDimension { dimension: String, dataflow: String, dimensions: Vec<String>, suggestion: Option<String> },
    #[error("`{code}` is not a code of dimension {dimension} (code list {codelist}){}", did_you_mean(.suggestions))]
    UnknownCode { code: String, dimension: String, codelist: String, suggestions: Vec<Suggestion> },
    #[error("key `{key}` has {parts} part(s) but {dataflow} has {} dimension(s): {}", .dimensions.len(), .dimensions.join("."))]
    WrongPartCount { key: String, parts: usize, dataflow: String, dimensions: Vec<String> },
    #[error("`{part}` is not DIM=CODE (in a key with `=`, every item names its dimension)")]
    NotDimensionEqualsCode { part: String },
    #[error("`{part}` names no code for dimension {dimension}")]
    NoCode { part: String, dimension: String },
    #[error("no code of dimension {dimension} satisfies every constraint on it ({}): constraints combine with AND, \
             use `+` within one constraint for OR", .constraints.iter().map(|c| c.join("+")).collect::<Vec<_>>().join(" and "))]
    EmptyIntersection { dimension: String, constraints: Vec<Vec<String>> },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<KeyError>),
}

impl KeyError {
    /// Each single problem (a [`KeyError::Several`] flattened).
    pub fn problems(&self) -> Vec<&KeyError> {
        match self {
            KeyError::Several(all) => all.iter().flat_map(KeyError::problems).collect(),
            one => vec![one],
        }
    }
}

fn did_you_mean(suggestions: &[Suggestion]) -> String {
    if suggestions.is_empty() {
        return String::new();
    }
    let each: Vec<String> = suggestions
        .iter()
        .map(|s| if s.label.is_empty() { s.code.clone() } else { format!("{} ({})", s.code, s.label) })
        .collect();
    format!("; did you mean {}?", each.join(", "))
}

/// Unknown codes that get suggestions; the others are named only.
const MAX_SUGGESTED: usize = 10;

/// The SDMX codes valid in every dimension: total, not applicable.
const SPECIAL_CODES: [&str; 2] = ["_T", "_Z"];

impl KeyFilter {
    /// A filter accepting every series of `dataflow`.
    pub fn any(dataflow: &Dataflow) -> Self {
        KeyFilter {
            dataflow: dataflow.id.clone(),
            dimensions: dataflow.dimensions.iter().map(|d| d.id.clone()).collect(),
            accepted: vec![None; dataflow.dimensions.len()],
        }
    }

    /// Parse and check key texts against `dataflow`; all texts apply at once (AND).
    pub fn parse(catalogue: &Catalogue, dataflow: &Dataflow, texts: &[&str]) -> Result<KeyFilter, KeyError> {
        let mut filter = KeyFilter::any(dataflow);
        let mut problems = Vec::new();
        // Every constraint per dimension, to name them if they leave nothing.
        let mut constraints: Vec<Vec<Vec<String>>> = vec![Vec::new(); dataflow.dimensions.len()];
        // Suggestions scan a whole code list: only for the first few unknown codes.
        let mut unknown = 0;
        for text in texts {
            for (dim, codes) in constraints_of(dataflow, text, &mut problems) {
                let mut known = Vec::new();
                for code in codes {
                    match check_code(catalogue, dataflow, dim, &code, unknown < MAX_SUGGESTED) {
                        Ok(()) => known.push(code),
                        Err(e) => {
                            unknown += 1;
                            problems.push(e);
                        }
                    }
                }
                if known.is_empty() {
                    continue; // every code was unknown: already reported
                }
                dedup_in_order(&mut known);
                constraints[dim].push(known.clone());
                filter.accepted[dim] = Some(match filter.accepted[dim].take() {
                    None => known,
                    Some(mut before) => {
                        before.retain(|c| known.contains(c));
                        before
                    }
                });
            }
        }
        for (dim, accepted) in filter.accepted.iter().enumerate() {
            if accepted.as_ref().is_some_and(Vec::is_empty) {
                problems.push(KeyError::EmptyIntersection {
                    dimension: filter.dimensions[dim].clone(),
                    constraints: constraints[dim].clone(),
                });
            }
        }
        match problems.len() {
            0 => Ok(filter),
            1 => Err(problems.remove(0)),
            _ => Err(KeyError::Several(problems)),
        }
    }

    pub fn dataflow(&self) -> &str {
        &self.dataflow
    }

    /// The accepted codes of a dimension; `None` when any code is accepted.
    pub fn codes(&self, dimension: &str) -> Option<&[String]> {
        let i = self.dimensions.iter().position(|d| d == dimension)?;
        self.accepted[i].as_deref()
    }

    /// Whether no dimension is constrained.
    pub fn is_any(&self) -> bool {
        self.accepted.iter().all(Option::is_none)
    }

    /// Dimension id → accepted codes, for the constrained dimensions in the dataflow's order
    /// (the shape of `koshi_store::Query::filters`).
    pub fn filters(&self) -> Vec<(String, Vec<String>)> {
        self.dimensions.iter().zip(&self.accepted).filter_map(|(d, codes)| Some((d.clone(), codes.clone()?))).collect()
    }

    /// Whether a series key (codes in dimension order) is selected.
    pub fn matches(&self, key: &[&str]) -> bool {
        key.len() == self.accepted.len()
            && key
                .iter()
                .zip(&self.accepted)
                .all(|(code, accepted)| accepted.as_ref().is_none_or(|a| a.iter().any(|c| c == code)))
    }
}

/// The canonical dotted form: `KAZ.WLD._T._T.NET+ARR`, `.ARR`.
impl fmt::Display for KeyFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, accepted) in self.accepted.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            if let Some(codes) = accepted {
                f.write_str(&codes.join("+"))?;
            }
        }
        Ok(())
    }
}

fn dedup_in_order(codes: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    codes.retain(|c| seen.insert(c.clone()));
}

fn split_codes(text: &str) -> Vec<String> {
    text.split(['+', ' ']).map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect()
}

/// The (dimension index, codes) constraints of one key text; problems go to `problems`.
fn constraints_of(df: &Dataflow, text: &str, problems: &mut Vec<KeyError>) -> Vec<(usize, Vec<String>)> {
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let dimension_ids = || df.dimensions.iter().map(|d| d.id.clone()).collect::<Vec<_>>();
    let mut out = Vec::new();
    if text.contains('=') {
        for part in text.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
            let Some((dim, codes)) = part.split_once('=') else {
                problems.push(KeyError::NotDimensionEqualsCode { part: part.to_string() });
                continue;
            };
            let dim = dim.trim();
            let Some(i) = df.dimension_index(dim) else {
                let ids = dimension_ids();
                let suggestion = nearest_dimension(dim, &ids);
                problems.push(KeyError::UnknownDimension {
                    dimension: dim.to_string(),
                    dataflow: df.id.clone(),
                    dimensions: ids,
                    suggestion,
                });
                continue;
            };
            let codes = split_codes(codes);
            if codes.is_empty() {
                problems.push(KeyError::NoCode { part: part.to_string(), dimension: dim.to_string() });
                continue;
            }
            out.push((i, codes));
        }
        return out;
    }
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != df.dimensions.len() {
        problems.push(KeyError::WrongPartCount {
            key: text.to_string(),
            parts: parts.len(),
            dataflow: df.id.clone(),
            dimensions: dimension_ids(),
        });
        return out;
    }
    for (i, part) in parts.iter().enumerate() {
        let codes = split_codes(part);
        if !codes.is_empty() {
            out.push((i, codes));
        }
    }
    out
}

fn check_code(
    catalogue: &Catalogue,
    df: &Dataflow,
    dim: usize,
    code: &str,
    with_suggestions: bool,
) -> Result<(), KeyError> {
    let dimension = &df.dimensions[dim];
    if SPECIAL_CODES.contains(&code) {
        return Ok(());
    }
    let list = catalogue.codelist_for(df, &dimension.id);
    if list.is_some_and(|l| l.contains(code)) {
        return Ok(());
    }
    Err(KeyError::UnknownCode {
        code: code.to_string(),
        dimension: dimension.id.clone(),
        codelist: list.map(|l| l.id.clone()).unwrap_or_else(|| dimension.codelist.clone()),
        suggestions: list.filter(|_| with_suggestions).map(|l| suggest(l, code)).unwrap_or_default(),
    })
}

/// Up to three codes near `text`: the code it spells (a label or known spelling), ids within a
/// small edit distance (case-insensitive), then labels containing it.
pub fn suggest(list: &Codelist, text: &str) -> Vec<Suggestion> {
    const MAX: usize = 3;
    // (kind of match, edits, letters not shared, code): the spelling a list knows, then ids by
    // edit distance (among equals, the one sharing more letters: `KZA` is KAZ before DZA), then labels.
    let mut ranked: Vec<(usize, usize, usize, &str)> = Vec::new();
    if let Some(id) = list.resolve(text) {
        ranked.push((0, 0, 0, id));
    }
    let wanted = text.to_uppercase();
    let tolerance = (wanted.chars().count().div_ceil(2)).clamp(1, 3);
    let needle = normalise_name(text);
    for code in &list.codes {
        let id = code.id.to_uppercase();
        let distance = edit_distance(&wanted, &id);
        if distance <= tolerance {
            ranked.push((1, distance, letters_not_shared(&wanted, &id), &code.id));
        } else if needle.chars().count() >= 3
            && [&code.labels.en, &code.labels.ru, &code.labels.kk].iter().any(|l| normalise_name(l).contains(&needle))
        {
            ranked.push((2, 0, 0, &code.id));
        }
    }
    ranked.sort_unstable();
    let mut out: Vec<Suggestion> = Vec::new();
    for (_, _, _, id) in ranked {
        if out.len() == MAX {
            break;
        }
        if !out.iter().any(|s| s.code == id) {
            let label = list.get(id).map(|c| c.labels.en.clone()).unwrap_or_default();
            out.push(Suggestion { code: id.to_string(), label });
        }
    }
    out
}

fn nearest_dimension(text: &str, ids: &[String]) -> Option<String> {
    let wanted = text.to_uppercase();
    ids.iter()
        .map(|id| (edit_distance(&wanted, id), id))
        .filter(|(d, id)| *d <= 2 || (wanted.len() >= 3 && id.starts_with(&wanted)))
        .min()
        .map(|(_, id)| id.clone())
}

/// How many letters of `a` find no partner in `b` (as multisets).
fn letters_not_shared(a: &str, b: &str) -> usize {
    let mut rest: Vec<char> = b.chars().collect();
    a.chars()
        .filter(|c| match rest.iter().position(|r| r == c) {
            Some(i) => {
                rest.swap_remove(i);
                false
            }
            None => true,
        })
        .count()
}

/// Edits (insertions, deletions, substitutions, swaps of neighbours) turning `a` into `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Texts far apart in length cannot be near: skip the table.
    if a.len().abs_diff(b.len()) > 3 {
        return a.len().abs_diff(b.len());
    }
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1).min(rows[i][j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("KAZ", "KAZ"), 0);
        assert_eq!(edit_distance("KAZZ", "KAZ"), 1);
        assert_eq!(edit_distance("KZA", "KAZ"), 1);
        assert_eq!(edit_distance("ZZZ", "ZAF"), 2);
        assert_eq!(edit_distance("", "AB"), 2);
    }
}
