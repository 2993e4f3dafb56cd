//! The harmonised view: among the figures different sources give for one key and period,
//! pick one by the dataflow's policy and say why; and the discrepancies between them.

use serde::Serialize;

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
    pub reason: String,
}

/// Pick the harmonised figure: figures without a value or flagged defective lose to any
/// sound one; then the policy's source priority; then the most recent release.
pub fn choose(policy: &Reconciliation, candidates: &[Candidate]) -> Option<Choice> {
    let rank = |c: &Candidate| {
        let priority = policy.priority.iter().position(|p| *p == c.source).unwrap_or(usize::MAX);
        (c.value.is_none(), c.defective, priority, std::cmp::Reverse(c.release_date), std::cmp::Reverse(c.release_id))
    };
    let (index, winner) = candidates.iter().enumerate().min_by_key(|(_, c)| rank(c))?;
    let reason = if candidates.len() == 1 {
        format!("only source: {}", winner.source)
    } else if candidates.iter().any(|c| c.source != winner.source)
        && policy.priority.contains(&winner.source)
        && !winner.defective
    {
        let others: Vec<&str> =
            candidates.iter().filter(|c| c.source != winner.source).map(|c| c.source.as_str()).collect();
        format!(
            "{} ranks first in the source priority ({}) over {}",
            winner.source,
            policy.priority.join(" > "),
            others.join(", ")
        )
    } else if candidates.iter().any(|c| c.defective) && !winner.defective {
        format!("{}: the other figures are flagged defective", winner.source)
    } else {
        format!("{}: most recent release ({})", winner.source, winner.release_date)
    };
    Some(Choice { index, reason })
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
    fn gaps_beyond_tolerance() {
        let c = vec![cand("A", 100.0, "2020-01-01"), cand("B", 110.0, "2020-01-01")];
        let g = discrepancies(&c, 5.0);
        assert_eq!(g.len(), 1);
        assert!((g[0].relative_gap_pct - 100.0 * 10.0 / 110.0).abs() < 1e-12);
        assert!(discrepancies(&c, 10.0).is_empty());
    }
}
