//! The harmonised view: among the figures different sources give for one key and period,
//! pick one by the dataflow's policy and say why; and the discrepancies between them.

use serde::Serialize;

use crate::codelist::{Labels, Lang};
use crate::date::Date;
use crate::structure::Reconciliation;

/// One source's current figure for a key and period.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub source: String,
    pub definition: String,
    pub release_id: i64,
    pub release_date: Date,
    pub value: Option<f64>,
    pub unit: String,
    pub unit_mult: i32,
    pub defective: bool,
}

impl Candidate {
    pub fn base_value(&self) -> Option<f64> {
        self.value.map(|v| crate::observation::scale_by_power_of_ten(v, self.unit_mult))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub index: usize,
    /// Why the figure was chosen, in English (the text the bank has always given).
    pub reason: String,
    /// The same reason in English, Russian and Kazakh.
    pub reason_labels: Labels,
}

/// Why a harmonised figure was chosen: each of the reasons [`choose`] gives, with the
/// sources, priorities and dates it names, renderable in each language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// No other figure to choose from.
    OnlySource { source: String },
    /// The policy's source priority puts the source above the others'.
    Priority { source: String, priority: Vec<String>, others: Vec<String> },
    /// Every other figure is flagged defective.
    OthersDefective { source: String },
    /// Among figures the priority does not tell apart, the most recent release.
    MostRecent { source: String, release_date: Date },
}

const ONLY_SOURCE: &str = "only source: ";
const RANKS_FIRST: &str = " ranks first in the source priority (";
const OVER: &str = ") over ";
const OTHERS_DEFECTIVE: &str = ": the other figures are flagged defective";
const MOST_RECENT: &str = ": most recent release (";

impl Reason {
    /// The reason as a sentence in `lang`; codes and dates are the same in every language.
    pub fn text(&self, lang: Lang) -> String {
        match (self, lang) {
            (Reason::OnlySource { source }, Lang::En) => format!("{ONLY_SOURCE}{source}"),
            (Reason::OnlySource { source }, Lang::Ru) => format!("единственный источник: {source}"),
            (Reason::OnlySource { source }, Lang::Kk) => format!("жалғыз дереккөз: {source}"),
            (Reason::Priority { source, priority, others }, lang) => {
                let (priority, others) = (priority.join(" > "), others.join(", "));
                match lang {
                    Lang::En => format!("{source}{RANKS_FIRST}{priority}{OVER}{others}"),
                    Lang::Ru => format!(
                        "{source} стоит первым в порядке приоритета источников ({priority}) и предпочтён перед {others}"
                    ),
                    Lang::Kk => format!(
                        "{source} дереккөздердің басымдық ретінде ({priority}) бірінші тұр және {others} алдында таңдалды"
                    ),
                }
            }
            (Reason::OthersDefective { source }, Lang::En) => format!("{source}{OTHERS_DEFECTIVE}"),
            (Reason::OthersDefective { source }, Lang::Ru) => {
                format!("{source}: остальные значения помечены как дефектные")
            }
            (Reason::OthersDefective { source }, Lang::Kk) => format!("{source}: қалған мәндер ақаулы деп белгіленген"),
            (Reason::MostRecent { source, release_date }, Lang::En) => {
                format!("{source}{MOST_RECENT}{release_date})")
            }
            (Reason::MostRecent { source, release_date }, Lang::Ru) => {
                format!("{source}: самый последний выпуск ({release_date})")
            }
            (Reason::MostRecent { source, release_date }, Lang::Kk) => {
                format!("{source}: ең соңғы шығарылым ({release_date})")
            }
        }
    }

    /// The reason in English, Russian and Kazakh.
    pub fn labels(&self) -> Labels {
        Labels { en: self.text(Lang::En), ru: self.text(Lang::Ru), kk: self.text(Lang::Kk) }
    }

    /// The reason an English text gives (a reason stored or sent earlier), if it is exactly
    /// one [`Reason::text`] would write.
    pub fn parse(english: &str) -> Option<Reason> {
        let reason = if let Some(source) = english.strip_prefix(ONLY_SOURCE) {
            Reason::OnlySource { source: source.to_string() }
        } else if let Some((source, rest)) = english.split_once(RANKS_FIRST) {
            let (priority, others) = rest.rsplit_once(OVER)?;
            Reason::Priority {
                source: source.to_string(),
                priority: priority.split(" > ").map(String::from).collect(),
                others: others.split(", ").map(String::from).collect(),
            }
        } else if let Some(source) = english.strip_suffix(OTHERS_DEFECTIVE) {
            Reason::OthersDefective { source: source.to_string() }
        } else {
            let (source, date) = english.strip_suffix(')')?.split_once(MOST_RECENT)?;
            Reason::MostRecent { source: source.to_string(), release_date: date.parse().ok()? }
        };
        (reason.text(Lang::En) == english).then_some(reason)
    }
}

/// Pick the harmonised figure: figures without a value or flagged defective lose to any
/// sound one; then the policy's source priority; then the most recent release.
pub fn choose(policy: &Reconciliation, candidates: &[Candidate]) -> Option<Choice> {
    let rank = |c: &Candidate| {
        let priority = policy.priority.iter().position(|p| *p == c.source).unwrap_or(usize::MAX);
        (c.value.is_none(), c.defective, priority, std::cmp::Reverse(c.release_date), std::cmp::Reverse(c.release_id))
    };
    let (index, winner) = candidates.iter().enumerate().min_by_key(|(_, c)| rank(c))?;
    let source = winner.source.clone();
    let reason = if candidates.len() == 1 {
        Reason::OnlySource { source }
    } else if candidates.iter().any(|c| c.source != winner.source)
        && policy.priority.contains(&winner.source)
        && !winner.defective
    {
        let others = candidates.iter().filter(|c| c.source != winner.source).map(|c| c.source.clone()).collect();
        Reason::Priority { source, priority: policy.priority.clone(), others }
    } else if candidates.iter().any(|c| c.defective) && !winner.defective {
        Reason::OthersDefective { source }
    } else {
        Reason::MostRecent { source, release_date: winner.release_date }
    };
    let reason_labels = reason.labels();
    Some(Choice { index, reason: reason_labels.en.clone(), reason_labels })
}

#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    pub a: usize,
    pub b: usize,
    /// |a − b| / max(|a|, |b|), in per cent.
    pub relative_gap_pct: f64,
    pub absolute_gap: f64,
}

/// Pairs of figures from different sources or definitions whose relative gap exceeds
/// `tolerance_pct`. Figures in different units are not compared.
pub fn discrepancies(candidates: &[Candidate], tolerance_pct: f64) -> Vec<Gap> {
    let mut gaps = Vec::new();
    for a in 0..candidates.len() {
        for b in a + 1..candidates.len() {
            let (ca, cb) = (&candidates[a], &candidates[b]);
            if ca.source == cb.source && ca.definition == cb.definition {
                continue;
            }
            if ca.unit != cb.unit {
                continue;
            }
            let (Some(va), Some(vb)) = (ca.base_value(), cb.base_value()) else { continue };
            let scale = va.abs().max(vb.abs());
            if scale == 0.0 {
                continue;
            }
            let rel = 100.0 * (va - vb).abs() / scale;
            if rel > tolerance_pct {
                gaps.push(Gap { a, b, relative_gap_pct: rel, absolute_gap: va - vb });
            }
        }
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(source: &str, value: f64, date: &str) -> Candidate {
        Candidate {
            source: source.into(),
            definition: "d".into(),
            release_id: 1,
            release_date: date.parse().unwrap(),
            value: Some(value),
            unit: "PERS".into(),
            unit_mult: 0,
            defective: false,
        }
    }

    #[test]
    fn priority_then_recency() {
        let policy = Reconciliation { priority: vec!["KZ_BNS".into(), "UN_WPP".into()] };
        let c = vec![cand("UN_WPP", 10.0, "2024-07-01"), cand("KZ_BNS", 12.0, "2018-01-01")];
        let choice = choose(&policy, &c).unwrap();
        assert_eq!(choice.index, 1);
        assert!(choice.reason.contains("ranks first"), "{}", choice.reason);
        let c = vec![cand("X", 10.0, "2020-01-01"), cand("X", 11.0, "2021-01-01")];
        assert_eq!(choose(&policy, &c).unwrap().index, 1);
    }

    #[test]
    fn every_reason_reads_the_same_in_english_and_is_given_in_russian_and_kazakh() {
        let policy = Reconciliation { priority: vec!["KZ_BNS".into(), "UN_WPP".into()] };
        let mut defective = cand("KZ_BNS", 12.0, "2018-01-01");
        defective.defective = true;
        let cases = [
            (vec![cand("UN_WPP", 10.0, "2024-07-01")], "only source: UN_WPP"),
            (
                vec![
                    cand("UN_WPP", 10.0, "2024-07-01"),
                    cand("KZ_BNS", 12.0, "2018-01-01"),
                    cand("UN_WPP", 9.0, "2023-07-01"),
                ],
                "KZ_BNS ranks first in the source priority (KZ_BNS > UN_WPP) over UN_WPP, UN_WPP",
            ),
            (vec![cand("X", 10.0, "2024-07-01"), defective], "X: the other figures are flagged defective"),
            (vec![cand("X", 10.0, "2020-01-01"), cand("X", 11.0, "2021-01-01")], "X: most recent release (2021-01-01)"),
        ];
        for (candidates, english) in cases {
            let choice = choose(&policy, &candidates).unwrap();
            assert_eq!(choice.reason, english);
            assert_eq!(choice.reason_labels.en, english);
            for other in [&choice.reason_labels.ru, &choice.reason_labels.kk] {
                assert!(!other.is_empty() && other != english, "{english}: {other}");
            }
            let parsed = Reason::parse(english).unwrap_or_else(|| panic!("{english} does not parse"));
            assert_eq!(parsed.labels(), choice.reason_labels);
        }
        let labels =
            choose(&policy, &[cand("X", 10.0, "2020-01-01"), cand("X", 11.0, "2021-01-01")]).unwrap().reason_labels;
        assert_eq!(labels.ru, "X: самый последний выпуск (2021-01-01)");
        assert_eq!(labels.kk, "X: ең соңғы шығарылым (2021-01-01)");
        for text in ["", "only source", "X: most recent release (soon)", "X ranks first in the source priority (X)"] {
            assert_eq!(Reason::parse(text), None, "{text}");
        }
    }

    #[test]
    fn gaps_beyond_tolerance() {
        let c = vec![cand("A", 100.0, "2020-01-01"), cand("B", 110.0, "2020-01-01")];
        let g = discrepancies(&c, 5.0);
        assert_eq!(g.len(), 1);
        assert!((g[0].relative_gap_pct - 100.0 * 10.0 / 110.0).abs() < 1e-12);
        assert!(discrepancies(&c, 10.0).is_empty());
    }
}
