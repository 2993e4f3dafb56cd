//! Finding series by words in English, Russian or Kazakh ("Kazakhstan net migration", "чистая
//! миграция Казахстан"): each word is matched against the dataflows' names and the labels of the
//! codes the bank holds, and a hit is a dataflow with the codes that took the words, as a key the
//! data API reads.

use std::collections::BTreeMap;

use koshi_core::Labels;
use serde::{Deserialize, Serialize};

use crate::App;
use crate::error::{AppError, Result};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    pub q: String,
    /// At most this many hits (default 10, at most 50).
    pub limit: Option<usize>,
}

/// A code a query word chose.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chosen {
    pub dimension: String,
    pub code: String,
    pub label: Labels,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub dataflow: String,
    pub name: Labels,
    /// The key in the data API's grammar (`REF_AREA=KAZ,MEASURE=NET`); empty for the whole dataflow.
    pub key: String,
    pub codes: Vec<Chosen>,
    /// Higher is better: each word 2 when matched exactly and 1 by its stem, half a point more for
    /// each word a code (not only the dataflow's name) explains.
    pub score: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchReport {
    pub q: String,
    /// The words searched for, as normalised.
    pub words: Vec<String>,
    pub items: Vec<SearchHit>,
}

const STOP_WORDS: &[&str] = &[
    "of",
    "the",
    "in",
    "and",
    "by",
    "for",
    "to",
    "from",
    "в",
    "и",
    "по",
    "на",
    "из",
    "для",
    "с",
    "от",
    "және",
    "бойынша",
];

/// Lower-cased words of letters and digits (`ё` read as `е`), without the commonest joining words.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace('ё', "е")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .map(str::to_string)
        .collect()
}

/// How well a query word matches a label word: 2 when equal, 1 when they share a stem (the same
/// first letters, all but two of the shorter word's and at least four: inflected Russian and
/// Kazakh forms), 0 otherwise.
fn word_match(query: &str, label: &str) -> u8 {
    if query == label {
        return 2;
    }
    let (q, l): (Vec<char>, Vec<char>) = (query.chars().collect(), label.chars().collect());
    let k = q.len().min(l.len()).saturating_sub(2).min(6);
    if k >= 4 && q[..k] == l[..k] {
        return 1;
    }
    0
}

/// The words of `query` (by index) a set of labels matches, each with its strength.
fn matches(query: &[String], labels: &Labels) -> BTreeMap<usize, u8> {
    let mut found = BTreeMap::new();
    for text in [&labels.en, &labels.ru, &labels.kk] {
        let label_words = words(text);
        for (i, q) in query.iter().enumerate() {
            let best = label_words.iter().map(|w| word_match(q, w)).max().unwrap_or(0);
            if best > 0 {
                let entry = found.entry(i).or_insert(0);
                *entry = (*entry).max(best);
            }
        }
    }
    found
}

/// A code that takes query words, and how well: words taken, their strength, and (negated) how
/// many words its label has.
struct Candidate<'a> {
    rank: (usize, u8, isize),
    code: &'a koshi_core::codelist::Code,
    found: BTreeMap<usize, u8>,
}

impl App {
    /// The series whose dataflow names and code labels hold the words of `q`, best first.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchReport> {
        let limit = request.limit.unwrap_or(10);
        if limit == 0 || limit > 50 {
            return Err(AppError::invalid("limit", "between 1 and 50"));
        }
        let query = words(&request.q);
        if query.is_empty() || request.q.chars().count() > 200 {
            return Err(AppError::invalid("q", "one or more words, at most 200 characters"));
        }
        // The codes present take a pass over every series: once per state of the bank.
        let (_, present) =
            self.kept_lasting(&self.present, &(), |app| app.read_quick(|bank| Ok(bank.codes_present()?)))?;
        self.read_quick(|bank| {
            let catalogue = bank.catalogue();
            let mut hits = Vec::new();
            for df in &catalogue.dataflows {
                let Some(held) = present.get(&df.id) else { continue };
                // Words the dataflow's name holds; the codes may take them again (a code that
                // explains a word is more specific than the name).
                let by_name: BTreeMap<usize, u8> = matches(&query, &df.name);
                let mut taken: BTreeMap<usize, u8> = BTreeMap::new();
                let mut codes = Vec::new();
                let mut used_areas = false;
                for (d, dim) in df.dimensions.iter().enumerate() {
                    let Some(list) = catalogue.codelist_for(df, &dim.id) else { continue };
                    // An area word goes to the first area dimension (the reporting area).
                    if dim.codelist == "AREA" && used_areas {
                        continue;
                    }
                    // The best code of the dimension: most new words, then strongest, then the
                    // label with the fewest words besides them ("Kazakhstan" before "East
                    // Kazakhstan Region").
                    let mut best: Option<Candidate<'_>> = None;
                    for code in held.codes.get(d).into_iter().flatten().filter_map(|c| list.get(c)) {
                        let found: BTreeMap<usize, u8> =
                            matches(&query, &code.labels).into_iter().filter(|(i, _)| !taken.contains_key(i)).collect();
                        if found.is_empty() {
                            continue;
                        }
                        let candidate = Candidate {
                            rank: (found.len(), found.values().sum(), -(words(&code.labels.en).len() as isize)),
                            code,
                            found,
                        };
                        if best.as_ref().is_none_or(|b| candidate.rank > b.rank) {
                            best = Some(candidate);
                        }
                    }
                    if let Some(Candidate { code, found, .. }) = best {
                        taken.extend(found);
                        used_areas |= dim.codelist == "AREA";
                        codes.push(Chosen {
                            dimension: dim.id.clone(),
                            code: code.id.clone(),
                            label: code.labels.clone(),
                        });
                    }
                }
                let mut covered = by_name.clone();
                for (i, s) in &taken {
                    let entry = covered.entry(*i).or_insert(0);
                    *entry = (*entry).max(*s);
                }
                if covered.len() < query.len() {
                    continue;
                }
                let score = covered.values().map(|s| f64::from(*s)).sum::<f64>() + 0.5 * taken.len() as f64
                    - 0.01 * codes.len() as f64;
                let key = codes.iter().map(|c| format!("{}={}", c.dimension, c.code)).collect::<Vec<_>>().join(",");
                hits.push(SearchHit { dataflow: df.id.clone(), name: df.name.clone(), key, codes, score });
            }
            hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.dataflow.cmp(&b.dataflow)));
            hits.truncate(limit);
            Ok(SearchReport { q: request.q.clone(), words: query.clone(), items: hits })
        })
    }
}
