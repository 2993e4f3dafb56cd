//! The occupation coder: a free-text job title to a 4-digit unit group with a confidence.
//!
//! Every lexicon phrase and every English unit-group title is a candidate. A title's words are
//! matched to a candidate's words (same stem; for Russian and Kazakh also a stem that differs by
//! its last one or two letters, or the tail of a compound such as "газоэлектросварщик"). Each word
//! weighs its rarity among unit groups (an inverse document frequency) times what it says (rank
//! and place of work weigh less). A candidate scores
//!
//! * coverage: the share of the title's weight that the candidate explains, times
//! * completeness²: the share of the candidate's own weight found in the title
//!   (for the long ILO titles, 0.7 × √completeness instead),
//!
//! and a unit group takes its best candidate. The scores become probabilities by a softmax against
//! a "nothing fits" baseline; the confidence of a group is its probability times its score, lowered
//! for a generic phrase and for each word the coder does not know. A confidence below
//! [`REVIEW_THRESHOLD`] sends the title to review. Everything is deterministic: ties are broken by
//! code.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::{Diagnostic, LabourError, Parsed, Problem};
use crate::isco::{Isco, Lang, Level};
use crate::lexicon::Lexicon;
use crate::text::{Kind, analyse, detect_language, is_cyrillic_word};

/// Below this confidence a coding needs review by an officer. Fixed before the labelled sample was
/// measured.
pub const REVIEW_THRESHOLD: f64 = 0.6;

/// Softmax temperature: how sharply a better score takes the probability.
const TEMPERATURE: f64 = 0.06;
/// The score of "no candidate fits".
const NONE_SCORE: f64 = 0.3;
/// Confidence factor of a generic phrase.
const WEAK_FACTOR: f64 = 0.5;
/// Confidence factor per word the coder does not know (at most three counted).
const UNKNOWN_FACTOR: f64 = 0.9;
/// Weight of the ILO unit-group titles against the lexicon.
const TITLE_FACTOR: f64 = 0.7;
/// Match quality of a stem that differs by its ending, and of a compound's tail.
const PREFIX_QUALITY: f64 = 0.95;
const COMPOUND_QUALITY: f64 = 0.8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Lexicon,
    Title,
}

#[derive(Debug, Clone)]
struct Term {
    kind: Kind,
    idf: f64,
}

impl Term {
    fn weight(&self) -> f64 {
        self.kind.factor() * self.idf
    }
}

#[derive(Debug, Clone)]
struct Phrase {
    /// Index of the unit group in the structure.
    group: usize,
    terms: Vec<u32>,
    weak: bool,
    source: Source,
    text: String,
}

/// Another unit group the title could be.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alternative {
    pub code: String,
    pub title_en: String,
    pub confidence: f64,
}

/// The coding of one job title.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coding {
    pub text: String,
    pub language: Lang,
    /// The best 4-digit unit group; none when no word of the title is known.
    pub code: Option<String>,
    pub title_en: Option<String>,
    /// In [0, 1]; about the chance that `code` is right.
    pub confidence: f64,
    /// Confidence that the code is right to 1, 2, 3 and 4 digits.
    pub confidence_by_level: [f64; 4],
    /// The deepest level (1 to 4) whose confidence reaches [`REVIEW_THRESHOLD`]; 0 if none.
    pub level: u8,
    /// Up to three other unit groups, best first.
    pub alternatives: Vec<Alternative>,
    pub needs_review: bool,
    /// The lexicon phrase or ILO title that decided.
    pub matched: Option<String>,
}

impl Coding {
    /// The code cut to a level ("7212" at level 2 is "72").
    pub fn code_at(&self, level: Level) -> Option<&str> {
        self.code.as_deref().map(|c| &c[..level.digits().min(c.len())])
    }
}

/// Codings split into those accepted automatically and those for review, each in input order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Triage {
    pub accepted: Vec<Coding>,
    pub review: Vec<Coding>,
}

/// The occupation coder, built from the structure and a lexicon.
#[derive(Debug, Clone)]
pub struct Coder {
    isco: Isco,
    terms: Vec<Term>,
    vocab: HashMap<String, u32>,
    /// Shortened stems (one or two letters off) → the longer terms they come from.
    extensions: HashMap<String, Vec<u32>>,
    phrases: Vec<Phrase>,
    postings: Vec<Vec<u32>>,
}

struct Hit {
    term: u32,
    quality: f64,
}

impl Coder {
    /// The coder on the bundled structure, titles and lexicon.
    pub fn bundled() -> Result<Parsed<Coder>, LabourError> {
        let isco = Isco::bundled()?;
        let lexicon = Lexicon::bundled();
        let mut coder = Coder::new(isco.value, &lexicon.value);
        let mut diagnostics = isco.diagnostics;
        diagnostics.extend(lexicon.diagnostics);
        diagnostics.append(&mut coder.diagnostics);
        Ok(Parsed { value: coder.value, diagnostics })
    }

    /// Builds the coder. Lexicon codes that are not unit groups, phrases with no word left and
    /// phrases whose words already propose another group are reported and left out.
    pub fn new(isco: Isco, lexicon: &Lexicon) -> Parsed<Coder> {
        let mut diagnostics = Vec::new();
        let mut coder = Coder {
            isco,
            terms: Vec::new(),
            vocab: HashMap::new(),
            extensions: HashMap::new(),
            phrases: Vec::new(),
            postings: Vec::new(),
        };
        let mut seen: HashMap<Vec<u32>, usize> = HashMap::new();
        for entry in &lexicon.entries {
            let mut report =
                |problem| diagnostics.push(Diagnostic { file: "lexicon.txt".into(), line: entry.line, problem });
            let group = match coder.isco.get(&entry.code) {
                Some(g) if g.level == Level::Unit => g,
                Some(_) => {
                    report(Problem::NotAUnitGroup { code: entry.code.clone() });
                    continue;
                }
                None => {
                    report(Problem::UnknownCode { code: entry.code.clone() });
                    continue;
                }
            };
            let group_index = coder.index_of(&group.code.clone());
            let words = analyse(&entry.phrase);
            if words.is_empty() {
                report(Problem::EmptyPhrase { code: entry.code.clone(), phrase: entry.phrase.clone() });
                continue;
            }
            let mut terms: Vec<u32> = words.iter().map(|w| coder.intern(&w.stem, w.kind)).collect();
            terms.sort_unstable();
            terms.dedup();
            if let Some(&earlier) = seen.get(&terms) {
                let kept = &coder.isco.groups()[coder.phrases[earlier].group].code;
                if *kept != entry.code {
                    report(Problem::AmbiguousPhrase {
                        phrase: entry.phrase.clone(),
                        kept: kept.clone(),
                        skipped: entry.code.clone(),
                    });
                }
                continue;
            }
            seen.insert(terms.clone(), coder.phrases.len());
            coder.phrases.push(Phrase {
                group: group_index,
                terms,
                weak: entry.weak,
                source: Source::Lexicon,
                text: entry.phrase.clone(),
            });
        }
        let units: Vec<(usize, String)> = coder
            .isco
            .groups()
            .iter()
            .enumerate()
            .filter(|(_, g)| g.level == Level::Unit)
            .map(|(i, g)| (i, g.title_en.clone()))
            .collect();
        for (group, title) in units {
            let mut terms: Vec<u32> = analyse(&title).iter().map(|w| coder.intern(&w.stem, w.kind)).collect();
            terms.sort_unstable();
            terms.dedup();
            if !terms.is_empty() {
                coder.phrases.push(Phrase { group, terms, weak: false, source: Source::Title, text: title });
            }
        }
        coder.index_terms();
        Parsed { value: coder, diagnostics }
    }

    fn index_of(&self, code: &str) -> usize {
        self.isco.groups().iter().position(|g| g.code == code).unwrap_or(0)
    }

    fn intern(&mut self, stem: &str, kind: Kind) -> u32 {
        if let Some(&id) = self.vocab.get(stem) {
            return id;
        }
        let id = self.terms.len() as u32;
        self.terms.push(Term { kind, idf: 0.0 });
        self.vocab.insert(stem.to_string(), id);
        id
    }

    /// Inverse document frequencies over unit groups, postings, and the shortened stems.
    fn index_terms(&mut self) {
        let mut groups_of: Vec<Vec<usize>> = vec![Vec::new(); self.terms.len()];
        self.postings = vec![Vec::new(); self.terms.len()];
        for (p, phrase) in self.phrases.iter().enumerate() {
            for &t in &phrase.terms {
                groups_of[t as usize].push(phrase.group);
                self.postings[t as usize].push(p as u32);
            }
        }
        let units = self.isco.count(Level::Unit).max(1) as f64;
        for (term, groups) in self.terms.iter_mut().zip(groups_of.iter_mut()) {
            groups.sort_unstable();
            groups.dedup();
            term.idf = (1.0 + units / groups.len().max(1) as f64).ln();
        }
        let mut extensions: HashMap<String, Vec<u32>> = HashMap::new();
        for (stem, &id) in &self.vocab {
            let chars: Vec<char> = stem.chars().collect();
            let (max_cut, min_left) = if is_cyrillic_word(stem) { (2, 4) } else { (3, 5) };
            for cut in 1..=max_cut {
                if chars.len() >= cut + min_left {
                    extensions.entry(chars[..chars.len() - cut].iter().collect()).or_default().push(id);
                }
            }
        }
        for ids in extensions.values_mut() {
            ids.sort_unstable();
        }
        self.extensions = extensions;
    }

    /// The structure the coder codes to.
    pub fn isco(&self) -> &Isco {
        &self.isco
    }

    /// The terms a word of a title can stand for, best first.
    fn hits(&self, stem: &str) -> Vec<Hit> {
        if let Some(&id) = self.vocab.get(stem) {
            return vec![Hit { term: id, quality: 1.0 }];
        }
        let chars: Vec<char> = stem.chars().collect();
        let cyrillic = is_cyrillic_word(stem);
        let (max_cut, min_left) = if cyrillic { (2, 4) } else { (3, 5) };
        let mut hits: Vec<Hit> = Vec::new();
        // The stem is longer than a known one ...
        for cut in 1..=max_cut {
            if chars.len() >= cut + min_left {
                let shorter: String = chars[..chars.len() - cut].iter().collect();
                if let Some(&id) = self.vocab.get(&shorter) {
                    hits.push(Hit { term: id, quality: PREFIX_QUALITY });
                }
            }
        }
        // ... or shorter.
        if let Some(ids) = self.extensions.get(stem) {
            hits.extend(ids.iter().map(|&id| Hit { term: id, quality: PREFIX_QUALITY }));
        }
        // The tail of a Russian compound: газоэлектросварщик → сварщик.
        if hits.is_empty() && cyrillic {
            for start in 2..chars.len().saturating_sub(4) {
                let tail: String = chars[start..].iter().collect();
                if let Some(&id) = self.vocab.get(&tail)
                    && self.terms[id as usize].kind == Kind::Content
                {
                    hits.push(Hit { term: id, quality: COMPOUND_QUALITY });
                    break;
                }
            }
        }
        hits.sort_by_key(|h| h.term);
        hits.dedup_by_key(|h| h.term);
        hits
    }

    /// Codes one free-text job title (English, Russian or Kazakh).
    pub fn code(&self, text: &str) -> Coding {
        let language = detect_language(text);
        let empty = Coding {
            text: text.to_string(),
            language,
            code: None,
            title_en: None,
            confidence: 0.0,
            confidence_by_level: [0.0; 4],
            level: 0,
            alternatives: Vec::new(),
            needs_review: true,
            matched: None,
        };
        let words = analyse(text);
        let mut unknown = 0usize;
        let mut word_hits: Vec<Vec<Hit>> = Vec::with_capacity(words.len());
        let mut weights: Vec<f64> = Vec::with_capacity(words.len());
        for word in &words {
            let hits = self.hits(&word.stem);
            let weight = hits
                .iter()
                .map(|h| word.kind.factor() * self.terms[h.term as usize].idf * h.quality)
                .fold(0.0, f64::max);
            if hits.is_empty() && word.kind == Kind::Content {
                unknown += 1;
            }
            weights.push(weight);
            word_hits.push(hits);
        }
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return empty;
        }

        let mut candidates: Vec<u32> =
            word_hits.iter().flatten().flat_map(|h| self.postings[h.term as usize].iter().copied()).collect();
        candidates.sort_unstable();
        candidates.dedup();

        // Best candidate per unit group: (score, weak, phrase).
        let mut best: HashMap<usize, (f64, bool, u32)> = HashMap::new();
        for p in candidates {
            let phrase = &self.phrases[p as usize];
            let mut phrase_weight = 0.0;
            let mut found_weight = 0.0;
            let mut explained = vec![0.0f64; words.len()];
            for &t in &phrase.terms {
                let term_weight = self.terms[t as usize].weight();
                phrase_weight += term_weight;
                let found = word_hits
                    .iter()
                    .enumerate()
                    .filter_map(|(i, hits)| hits.iter().find(|h| h.term == t).map(|h| (i, h.quality)))
                    .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
                if let Some((i, quality)) = found {
                    found_weight += term_weight * quality;
                    explained[i] = explained[i].max(quality);
                }
            }
            let completeness = if phrase_weight > 0.0 { found_weight / phrase_weight } else { 0.0 };
            let cover = explained.iter().zip(&weights).map(|(q, w)| q * w).sum::<f64>() / total;
            let score = match phrase.source {
                Source::Lexicon => cover * completeness * completeness,
                Source::Title => TITLE_FACTOR * cover * completeness.sqrt(),
            };
            if score <= 0.0 {
                continue;
            }
            let entry = best.entry(phrase.group).or_insert((score, phrase.weak, p));
            let better = score > entry.0 + 1e-12 || ((score - entry.0).abs() <= 1e-12 && entry.1 && !phrase.weak);
            if better {
                *entry = (score, phrase.weak, p);
            }
        }
        if best.is_empty() {
            return empty;
        }

        let groups = self.isco.groups();
        let mut ranked: Vec<(usize, f64, bool, u32)> = best.into_iter().map(|(g, (s, w, p))| (g, s, w, p)).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| groups[a.0].code.cmp(&groups[b.0].code)));
        let top_score = ranked[0].1;
        let exp = |s: f64| ((s - top_score) / TEMPERATURE).exp();
        let norm: f64 = ranked.iter().map(|r| exp(r.1)).sum::<f64>() + exp(NONE_SCORE);
        let unknown_factor = UNKNOWN_FACTOR.powi(unknown.min(3) as i32);
        let confidence_of = |score: f64, weak: bool, probability: f64| {
            let weak_factor = if weak { WEAK_FACTOR } else { 1.0 };
            (probability * score * weak_factor * unknown_factor).clamp(0.0, 1.0)
        };

        let (top_group, _, top_weak, top_phrase) = ranked[0];
        let top_code = groups[top_group].code.clone();
        let mut confidence_by_level = [0.0; 4];
        for level in Level::ALL {
            let prefix = &top_code[..level.digits()];
            let mass: f64 =
                ranked.iter().filter(|r| groups[r.0].code.starts_with(prefix)).map(|r| exp(r.1)).sum::<f64>() / norm;
            confidence_by_level[level.digits() - 1] = confidence_of(top_score, top_weak, mass);
        }
        let confidence = confidence_by_level[3];
        let level = Level::ALL
            .iter()
            .rev()
            .find(|l| confidence_by_level[l.digits() - 1] >= REVIEW_THRESHOLD)
            .map_or(0, |l| l.digits() as u8);
        let alternatives = ranked
            .iter()
            .skip(1)
            .take(3)
            .map(|&(g, s, w, _)| Alternative {
                code: groups[g].code.clone(),
                title_en: groups[g].title_en.clone(),
                confidence: confidence_of(s, w, exp(s) / norm),
            })
            .collect();
        Coding {
            code: Some(top_code),
            title_en: Some(groups[top_group].title_en.clone()),
            confidence,
            confidence_by_level,
            level,
            alternatives,
            needs_review: confidence < REVIEW_THRESHOLD,
            matched: Some(self.phrases[top_phrase as usize].text.clone()),
            ..empty
        }
    }

    /// Codes many titles and splits them into accepted codings and a review queue.
    pub fn triage<I, S>(&self, texts: I) -> Triage
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut triage = Triage::default();
        for text in texts {
            let coding = self.code(text.as_ref());
            if coding.needs_review {
                triage.review.push(coding);
            } else {
                triage.accepted.push(coding);
            }
        }
        triage
    }
}
