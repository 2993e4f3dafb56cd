//! Validation rules over a batch of observations: duplicate keys, arithmetic identities,
//! magnitude plausibility. Each problem is a [`Defect`] pointing at the observation(s).

use std::collections::HashMap;

use serde::Serialize;

use crate::codelist::{Labels, Lang};
use crate::observation::Observation;
use crate::structure::{Dataflow, Identity, Plausibility};
use crate::translations::Translations;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, Serialize)]
pub struct Defect {
    /// Rule code: `DUPLICATE_KEY`, `IDENTITY_BROKEN`, `IMPLAUSIBLE_MAGNITUDE`, or a declared code.
    pub rule: String,
    pub severity: Severity,
    /// In English (the text the bank stores).
    pub message: String,
    /// The message in English, Russian and Kazakh.
    pub message_labels: Labels,
    /// Indexes into the checked slice of observations that the defect concerns.
    pub observations: Vec<usize>,
}

impl Defect {
    fn new(rule: &str, message: DefectMessage, observations: Vec<usize>) -> Self {
        let message_labels = message.labels(&|text: &str| Translations::shared().labels_or_english(text));
        Defect {
            rule: rule.into(),
            severity: Severity::Error,
            message: message_labels.en.clone(),
            message_labels,
            observations,
        }
    }
}

/// The message of a defect, with the figures, codes and texts it names: each kind renders
/// in English, Russian and Kazakh, and an English message reads back into its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DefectMessage {
    /// `DUPLICATE_KEY`: `subject` is the dataflow, key and period.
    DuplicateKey { subject: String, source: String, definition: String },
    /// `IDENTITY_BROKEN`: the stated result and what its terms add up to (numbers as
    /// [`fmt_num`] writes them).
    IdentityBroken {
        subject: String,
        source: String,
        result: String,
        stated: String,
        formula: String,
        computed: String,
    },
    /// `IMPLAUSIBLE_MAGNITUDE`: a figure above its reference figure.
    ImplausibleMagnitude {
        subject: String,
        value: String,
        area: String,
        reference_measure: String,
        limit: String,
        reference_dataflow: String,
    },
    /// A defect code a source file declares for a figure, with the figure's note.
    Declared { code: String, note: Option<String> },
}

/// How a declared defect's message begins (the data bank writes it so when it stores the
/// defects a source file declares).
const DECLARED: &str = "declared by the source file: ";

/// A number as [`fmt_num`] writes it, with the separators of `lang`: `1,234.5` in English,
/// `1 234,5` (no-break space) in Russian and Kazakh.
pub fn localise_number(english: &str, lang: Lang) -> String {
    match lang {
        Lang::En => english.to_string(),
        Lang::Ru | Lang::Kk => english
            .chars()
            .map(|c| match c {
                ',' => '\u{a0}',
                '.' => ',',
                other => other,
            })
            .collect(),
    }
}

impl DefectMessage {
    /// The message in `lang`; `translate` gives the labels of a stored text (a definition,
    /// a note) and `lang` picks from them.
    pub fn text(&self, lang: Lang, translate: &dyn Fn(&str) -> Labels) -> String {
        let n = |v: &str| localise_number(v, lang);
        match self {
            DefectMessage::DuplicateKey { subject, source, definition } => {
                let definition = translate(definition).get(lang).to_string();
                match lang {
                    Lang::En => format!("{subject} appears twice for source {source} ({definition})"),
                    Lang::Ru => format!("{subject} встречается дважды у источника {source} ({definition})"),
                    Lang::Kk => format!("{subject} {source} дереккөзінде екі рет кездеседі ({definition})"),
                }
            }
            DefectMessage::IdentityBroken { subject, source, result, stated, formula, computed } => {
                let (stated, computed) = (n(stated), n(computed));
                let but = match lang {
                    Lang::En => " but ",
                    Lang::Ru => ", но ",
                    Lang::Kk => ", бірақ ",
                };
                format!("{subject} ({source}): {result} = {stated}{but}{formula} = {computed}")
            }
            DefectMessage::ImplausibleMagnitude {
                subject,
                value,
                area,
                reference_measure,
                limit,
                reference_dataflow,
            } => {
                let (value, limit) = (n(value), n(limit));
                match lang {
                    Lang::En => format!(
                        "{subject}: {value} exceeds {area}'s {reference_measure} of {limit} ({reference_dataflow}); check the unit"
                    ),
                    Lang::Ru => format!(
                        "{subject}: {value} превышает {reference_measure} {area} ({limit}, {reference_dataflow}); проверьте единицу измерения"
                    ),
                    Lang::Kk => format!(
                        "{subject}: {value} мәні {area} үшін {reference_measure} көрсеткішінен ({limit}, {reference_dataflow}) асып түседі; өлшем бірлігін тексеріңіз"
                    ),
                }
            }
            DefectMessage::Declared { code, note } => {
                let head = match lang {
                    Lang::En => DECLARED,
                    Lang::Ru => "заявлено в файле источника: ",
                    Lang::Kk => "дереккөз файлында мәлімделген: ",
                };
                let note = note.as_deref().map(|n| format!(" — {}", translate(n).get(lang))).unwrap_or_default();
                format!("{head}{code}{note}")
            }
        }
    }

    /// The message in English, Russian and Kazakh.
    pub fn labels(&self, translate: &dyn Fn(&str) -> Labels) -> Labels {
        Labels {
            en: self.text(Lang::En, translate),
            ru: self.text(Lang::Ru, translate),
            kk: self.text(Lang::Kk, translate),
        }
    }

    /// The parts of an English message of defect `rule` (one stored earlier), if it is
    /// exactly a message [`DefectMessage::text`] writes.
    pub fn parse(rule: &str, english: &str) -> Option<DefectMessage> {
        let s = |t: &str| t.to_string();
        let message = if let Some(rest) = english.strip_prefix(DECLARED) {
            let (code, note) = match rest.split_once(" — ") {
                Some((code, note)) => (code, Some(s(note))),
                None => (rest, None),
            };
            if code != rule {
                return None;
            }
            DefectMessage::Declared { code: s(code), note }
        } else {
            match rule {
                "DUPLICATE_KEY" => {
                    let (subject, rest) = english.split_once(" appears twice for source ")?;
                    let (source, definition) = rest.strip_suffix(')')?.split_once(" (")?;
                    DefectMessage::DuplicateKey { subject: s(subject), source: s(source), definition: s(definition) }
                }
                "IDENTITY_BROKEN" => {
                    let (head, tail) = english.split_once("): ")?;
                    let (subject, source) = head.rsplit_once(" (")?;
                    let (result, rest) = tail.split_once(" = ")?;
                    let (stated, rest) = rest.split_once(" but ")?;
                    let (formula, computed) = rest.rsplit_once(" = ")?;
                    DefectMessage::IdentityBroken {
                        subject: s(subject),
                        source: s(source),
                        result: s(result),
                        stated: s(stated),
                        formula: s(formula),
                        computed: s(computed),
                    }
                }
                "IMPLAUSIBLE_MAGNITUDE" => {
                    let rest = english.strip_suffix("); check the unit")?;
                    let (rest, reference_dataflow) = rest.rsplit_once(" (")?;
                    let (rest, limit) = rest.rsplit_once(" of ")?;
                    let (rest, area_measure) = rest.rsplit_once(" exceeds ")?;
                    let (area, reference_measure) = area_measure.split_once("'s ")?;
                    let (subject, value) = rest.rsplit_once(": ")?;
                    DefectMessage::ImplausibleMagnitude {
                        subject: s(subject),
                        value: s(value),
                        area: s(area),
                        reference_measure: s(reference_measure),
                        limit: s(limit),
                        reference_dataflow: s(reference_dataflow),
                    }
                }
                _ => return None,
            }
        };
        let english_again = message.text(Lang::En, &|t: &str| crate::translations::untranslated(t));
        (english_again == english).then_some(message)
    }
}

/// Half a unit of the last printed digit, in base units: how far a correctly rounded figure
/// may be from the exact one.
pub fn rounding_allowance(obs: &Observation) -> f64 {
    let decimals = obs
        .printed
        .as_deref()
        .and_then(|p| {
            let p = p.trim().trim_end_matches('%');
            // The decimal separator is the last `.` or a `,` followed by other than 3 digits.
            let pos = p.rfind('.').or_else(|| p.rfind(',').filter(|&i| p.len() - i - 1 != 3))?;
            Some(p[pos + 1..].chars().take_while(char::is_ascii_digit).count() as i32)
        })
        .unwrap_or(0);
    0.5 * 10f64.powi(obs.unit_mult - decimals)
}

/// Identity key: everything but the dimension the identity runs along.
fn identity_group_key(obs: &Observation, dim_index: usize) -> (Vec<&str>, &str, &str, &str) {
    let rest: Vec<&str> = obs.key.iter().enumerate().filter(|(i, _)| *i != dim_index).map(|(_, c)| &**c).collect();
    (rest, &*obs.time_period, &*obs.source, &*obs.definition)
}

/// Duplicate keys and identities within one batch (one release's worth of observations).
pub fn check_batch(dataflows: &[Dataflow], observations: &[Observation]) -> Vec<Defect> {
    let mut defects = Vec::new();
    defects.extend(check_duplicates(observations));
    for df in dataflows {
        let of_flow: Vec<usize> = (0..observations.len()).filter(|&i| *observations[i].dataflow == *df.id).collect();
        if of_flow.is_empty() {
            continue;
        }
        for identity in &df.identities {
            defects.extend(check_identity(df, identity, observations, &of_flow));
        }
    }
    defects
}

fn check_duplicates(observations: &[Observation]) -> Vec<Defect> {
    use std::hash::BuildHasher;
    // Keyed by a 64-bit hash of the key (collisions are compared in full): a batch can hold
    // millions of observations, and a map of full keys would double the memory.
    let hasher = std::collections::hash_map::RandomState::new();
    fn identity(o: &Observation) -> (&str, &[crate::observation::Text], &str, &str, &str) {
        (&o.dataflow, o.key.as_slice(), &o.time_period, &o.source, &o.definition)
    }
    let mut seen: HashMap<u64, Vec<u32>> = HashMap::with_capacity(observations.len());
    let mut defects = Vec::new();
    for (i, o) in observations.iter().enumerate() {
        let slot = seen.entry(hasher.hash_one(identity(o))).or_default();
        if let Some(&first) = slot.iter().find(|&&j| identity(&observations[j as usize]) == identity(o)) {
            let message = DefectMessage::DuplicateKey {
                subject: format!("{} {} {}", o.dataflow, o.key_string(), o.time_period),
                source: o.source.to_string(),
                definition: o.definition.to_string(),
            };
            defects.push(Defect::new("DUPLICATE_KEY", message, vec![first as usize, i]));
        } else {
            slot.push(i as u32);
        }
    }
    defects
}

fn check_identity(df: &Dataflow, identity: &Identity, obs: &[Observation], of_flow: &[usize]) -> Vec<Defect> {
    let (dimension, result, terms): (&str, &str, Vec<(&str, f64)>) = match identity {
        Identity::Balance { dimension, result, plus, minus } => {
            (dimension, result, vec![(plus.as_str(), 1.0), (minus.as_str(), -1.0)])
        }
        Identity::Sum { dimension, result, parts } => {
            (dimension, result, parts.iter().map(|p| (p.as_str(), 1.0)).collect())
        }
    };
    let Some(dim_index) = df.dimension_index(dimension) else { return Vec::new() };
    let mut groups: HashMap<_, HashMap<&str, usize>> = HashMap::new();
    for &i in of_flow {
        let code = &*obs[i].key[dim_index];
        groups.entry(identity_group_key(&obs[i], dim_index)).or_default().insert(code, i);
    }
    let mut defects = Vec::new();
    for members in groups.values() {
        let Some(&result_index) = members.get(result) else { continue };
        let Some(stated) = obs[result_index].base_value() else { continue };
        let mut computed = 0.0;
        let mut allowance = rounding_allowance(&obs[result_index]);
        let mut involved = vec![result_index];
        let mut complete = true;
        for (code, sign) in &terms {
            match members.get(code).and_then(|&i| obs[i].base_value().map(|v| (i, v))) {
                Some((i, v)) => {
                    computed += sign * v;
                    allowance += rounding_allowance(&obs[i]);
                    involved.push(i);
                }
                None => complete = false,
            }
        }
        if !complete {
            continue;
        }
        let gap = stated - computed;
        if gap.abs() > allowance + 1e-9 * stated.abs().max(computed.abs()) {
            let o = &obs[result_index];
            let formula = terms
                .iter()
                .enumerate()
                .map(|(n, (c, s))| {
                    format!(
                        "{}{c}",
                        if n == 0 {
                            ""
                        } else if *s < 0.0 {
                            " − "
                        } else {
                            " + "
                        }
                    )
                })
                .collect::<String>();
            let message = DefectMessage::IdentityBroken {
                subject: format!("{} {} {}", o.dataflow, o.key_string(), o.time_period),
                source: o.source.to_string(),
                result: result.to_string(),
                stated: fmt_num(stated),
                formula,
                computed: fmt_num(computed),
            };
            defects.push(Defect::new("IDENTITY_BROKEN", message, involved));
        }
    }
    defects
}

/// Magnitude plausibility: figures that must not exceed a reference figure (bilateral trade
/// above the reporter's GDP). `reference` gives the reference value in base units for an area
/// and period.
pub fn check_plausibility(
    df: &Dataflow,
    observations: &[Observation],
    reference: &dyn Fn(&str, &str, &str, &str) -> Option<f64>,
) -> Vec<Defect> {
    let mut defects = Vec::new();
    let (Some(area_index), Some(measure_index)) = (df.dimension_index("REF_AREA"), df.dimension_index("MEASURE"))
    else {
        return defects;
    };
    for rule in &df.plausibility {
        let Plausibility::NotAbove { measures, reference_dataflow, reference_measure } = rule;
        for (i, o) in observations.iter().enumerate() {
            if *o.dataflow != *df.id || !measures.iter().any(|m| **m == *o.key[measure_index]) {
                continue;
            }
            let Some(value) = o.base_value() else { continue };
            let area = &o.key[area_index];
            if let Some(limit) = reference(reference_dataflow, reference_measure, area, &o.time_period)
                && value.abs() > limit
            {
                let message = DefectMessage::ImplausibleMagnitude {
                    subject: format!("{} {} {}", o.dataflow, o.key_string(), o.time_period),
                    value: fmt_num(value),
                    area: area.to_string(),
                    reference_measure: reference_measure.to_string(),
                    limit: fmt_num(limit),
                    reference_dataflow: reference_dataflow.to_string(),
                };
                defects.push(Defect::new("IMPLAUSIBLE_MAGNITUDE", message, vec![i]));
            }
        }
    }
    defects
}

/// A number with thousands separators and at most 6 significant decimals, for messages.
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let s = format!("{}", v.abs() as i64);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if v < 0.0 { format!("-{out}") } else { out }
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;
    use crate::observation::ObsStatus;

    fn obs(dataflow: &str, key: &str, value: f64, definition: &str) -> Observation {
        Observation {
            dataflow: dataflow.into(),
            key: key.split('.').map(Into::into).collect(),
            time_period: "2017".into(),
            value: Some(value),
            printed: None,
            unit: "PERS".into(),
            unit_mult: 0,
            status: ObsStatus::Normal,
            source: "PAPER_003".into(),
            definition: definition.into(),
            citation: None,
            note: None,
            defects: Vec::new(),
        }
    }

    /// Each defect's message in the three languages, and read back from its English text.
    fn assert_rendered(defect: &Defect) {
        let labels = &defect.message_labels;
        assert_eq!(labels.en, defect.message);
        for other in [&labels.ru, &labels.kk] {
            assert!(!other.is_empty() && *other != labels.en, "{}: {other}", labels.en);
        }
        let parsed = DefectMessage::parse(&defect.rule, &defect.message)
            .unwrap_or_else(|| panic!("{} does not read back: {}", defect.rule, defect.message));
        assert_eq!(parsed.labels(&|t: &str| Translations::shared().labels_or_english(t)), *labels);
    }

    #[test]
    fn found_defects_are_worded_in_english_russian_and_kazakh() {
        let catalogue = Catalogue::standard().unwrap();
        let mig_ext = catalogue.dataflow("MIG_EXT").unwrap().clone();
        let definition = "external migration balance (arrivals minus departures)";
        let batch = vec![
            obs("MIG_EXT", "KAZ.WLD._T._T.ARR", 7_204.0, definition),
            obs("MIG_EXT", "KAZ.WLD._T._T.ARR", 7_204.0, definition),
            obs("MIG_EXT", "KAZ.WLD._T._T.DEP", 10_975.0, definition),
            obs("MIG_EXT", "KAZ.WLD._T._T.NET", -3_000.5, definition),
        ];
        let defects = check_batch(std::slice::from_ref(&mig_ext), &batch);
        let rules: Vec<&str> = defects.iter().map(|d| d.rule.as_str()).collect();
        assert!(rules.contains(&"DUPLICATE_KEY") && rules.contains(&"IDENTITY_BROKEN"), "{defects:#?}");
        for d in &defects {
            assert_rendered(d);
        }
        let duplicate = defects.iter().find(|d| d.rule == "DUPLICATE_KEY").unwrap();
        assert_eq!(
            duplicate.message_labels.ru,
            "MIG_EXT KAZ.WLD._T._T.ARR 2017 встречается дважды у источника PAPER_003 \
             (сальдо внешней миграции (прибывшие минус выбывшие))"
        );
        let identity = defects.iter().find(|d| d.rule == "IDENTITY_BROKEN").unwrap();
        assert!(identity.message.contains("= -3000.5 but ARR − DEP = -3,771"), "{}", identity.message);
        assert!(
            identity.message_labels.kk.contains("= -3000,5, бірақ ARR − DEP = -3\u{a0}771"),
            "{:?}",
            identity.message_labels
        );

        let trade = catalogue.dataflow("TRADE").unwrap().clone();
        let mut exports =
            obs("TRADE", "BLR.KAZ.EXP", 464.8, "exports of goods of Belarus to Kazakhstan (Belarus as reporter)");
        exports.unit = "USD".into();
        exports.unit_mult = 9;
        let defects = check_plausibility(&trade, &[exports], &|_, _, _, _| Some(57e9));
        assert_eq!(defects.len(), 1, "{defects:#?}");
        assert_rendered(&defects[0]);
        assert_eq!(
            defects[0].message,
            "TRADE BLR.KAZ.EXP 2017: 464,800,000,000 exceeds BLR's GDP of 57,000,000,000 (MACRO); check the unit"
        );
        assert_eq!(
            defects[0].message_labels.ru,
            "TRADE BLR.KAZ.EXP 2017: 464\u{a0}800\u{a0}000\u{a0}000 превышает GDP BLR (57\u{a0}000\u{a0}000\u{a0}000, MACRO); \
             проверьте единицу измерения"
        );
    }

    #[test]
    fn a_message_reads_back_only_when_it_is_one_koshi_writes() {
        let declared = DefectMessage::parse("OTHER", "declared by the source file: OTHER — Footnote 5.").unwrap();
        assert_eq!(declared, DefectMessage::Declared { code: "OTHER".into(), note: Some("Footnote 5.".into()) });
        let bare = DefectMessage::parse("OTHER", "declared by the source file: OTHER").unwrap();
        assert_eq!(bare, DefectMessage::Declared { code: "OTHER".into(), note: None });
        for (rule, text) in [
            ("UNIT_MISLABELLED", "declared by the source file: OTHER — Footnote 5."),
            ("DUPLICATE_KEY", "X appears twice"),
            ("IDENTITY_BROKEN", "X (S): A = 1 and B = 2"),
            ("IMPLAUSIBLE_MAGNITUDE", "X: 1 exceeds Y; check the unit"),
            ("SOMETHING_ELSE", "anything"),
        ] {
            assert_eq!(DefectMessage::parse(rule, text), None, "{rule}: {text}");
        }
        assert_eq!(localise_number("-1,234,567.25", Lang::Ru), "-1\u{a0}234\u{a0}567,25");
        assert_eq!(localise_number("0.5", Lang::Kk), "0,5");
        assert_eq!(localise_number("1,000", Lang::En), "1,000");
    }
}
