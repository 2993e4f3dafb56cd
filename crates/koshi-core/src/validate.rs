//! Validation rules over a batch of observations: duplicate keys, arithmetic identities,
//! magnitude plausibility. Each problem is a [`Defect`] pointing at the observation(s).

use std::collections::HashMap;

use serde::Serialize;

use crate::observation::Observation;
use crate::structure::{Dataflow, Identity, Plausibility};

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
    pub message: String,
    /// Indexes into the checked slice of observations that the defect concerns.
    pub observations: Vec<usize>,
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
            defects.push(Defect {
                rule: "DUPLICATE_KEY".into(),
                severity: Severity::Error,
                message: format!(
                    "{} {} {} appears twice for source {} ({})",
                    o.dataflow,
                    o.key_string(),
                    o.time_period,
                    o.source,
                    o.definition
                ),
                observations: vec![first as usize, i],
            });
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
            defects.push(Defect {
                rule: "IDENTITY_BROKEN".into(),
                severity: Severity::Error,
                message: format!(
                    "{} {} {} ({}): {result} = {} but {formula} = {}",
                    o.dataflow,
                    o.key_string(),
                    o.time_period,
                    o.source,
                    fmt_num(stated),
                    fmt_num(computed)
                ),
                observations: involved,
            });
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
                defects.push(Defect {
                        rule: "IMPLAUSIBLE_MAGNITUDE".into(),
                        severity: Severity::Error,
                        message: format!(
                            "{} {} {}: {} exceeds {area}'s {reference_measure} of {} ({reference_dataflow}); check the unit",
                            o.dataflow,
                            o.key_string(),
                            o.time_period,
                            fmt_num(value),
                            fmt_num(limit)
                        ),
                        observations: vec![i],
                    });
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
