//! Scenario primitives: deterministic "what-if" adjustments of a base forecast.
//!
//! Every assumption maps a [`Forecast`] (mean + sd per step) to another one, so a
//! scenario keeps its own uncertainty band. Assumptions can start at a later step
//! (`from_step`, 0-based) and are applied in order.

use serde::{Deserialize, Serialize};

use crate::Forecast;
use crate::error::{ForecastError, Result};

/// One assumption about a series' future.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Assumption {
    /// Scale the forecast (and its uncertainty), e.g. 0.67 for "−33% migration".
    Multiplier {
        factor: f64,
        #[serde(default)]
        from_step: usize,
    },
    /// Zero flow from `from_step` on (no uncertainty).
    Zero {
        #[serde(default)]
        from_step: usize,
    },
    /// Hold a constant level (no uncertainty).
    Constant {
        value: f64,
        #[serde(default)]
        from_step: usize,
    },
    /// Add a fixed amount every step.
    Shift {
        delta: f64,
        #[serde(default)]
        from_step: usize,
    },
    /// An explicit path; steps beyond the path keep its last value.
    Path {
        values: Vec<f64>,
        #[serde(default)]
        from_step: usize,
    },
    /// Replace the mean by the q-quantile of the probabilistic forecast (e.g. 0.9 = "high").
    Quantile { q: f64 },
    /// Move linearly from the base forecast to `target`, reaching it after `years` steps.
    ConvergeTo {
        target: f64,
        years: usize,
        #[serde(default)]
        from_step: usize,
    },
    /// Driver-based: y × (1 + change)^elasticity, with `change` the relative change of the
    /// driver (0.1 = +10%) per step (a single value applies to every step).
    Driver {
        #[serde(default)]
        name: String,
        elasticity: f64,
        change: Vec<f64>,
        #[serde(default)]
        from_step: usize,
    },
}

impl Assumption {
    /// Applies this assumption to a forecast.
    pub fn apply(&self, base: &Forecast) -> Result<Forecast> {
        let mut out = base.clone();
        let h = base.mean.len();
        match self {
            Assumption::Multiplier { factor, from_step } => {
                for k in *from_step..h {
                    out.mean[k] *= factor;
                    out.sd[k] *= factor.abs();
                }
            }
            Assumption::Zero { from_step } => {
                for k in *from_step..h {
                    out.mean[k] = 0.0;
                    out.sd[k] = 0.0;
                }
            }
            Assumption::Constant { value, from_step } => {
                for k in *from_step..h {
                    out.mean[k] = *value;
                    out.sd[k] = 0.0;
                }
            }
            Assumption::Shift { delta, from_step } => {
                for k in *from_step..h {
                    out.mean[k] += delta;
                }
            }
            Assumption::Path { values, from_step } => {
                let last = *values.last().ok_or_else(|| ForecastError::Scenario("empty path".into()))?;
                for k in *from_step..h {
                    out.mean[k] = values.get(k - from_step).copied().unwrap_or(last);
                    out.sd[k] = 0.0;
                }
            }
            Assumption::Quantile { q } => {
                if !(0.0 < *q && *q < 1.0) {
                    return Err(ForecastError::Scenario(format!("quantile {q} outside (0, 1)")));
                }
                out.mean = base.quantile(*q);
            }
            Assumption::ConvergeTo { target, years, from_step } => {
                let years = (*years).max(1) as f64;
                for k in *from_step..h {
                    let w = (((k - from_step) + 1) as f64 / years).min(1.0);
                    out.mean[k] = (1.0 - w) * base.mean[k] + w * target;
                    out.sd[k] = (1.0 - w) * base.sd[k];
                }
            }
            Assumption::Driver { elasticity, change, from_step, .. } => {
                let last = *change.last().ok_or_else(|| ForecastError::Scenario("driver change is empty".into()))?;
                for k in *from_step..h {
                    let c = change.get(k - from_step).copied().unwrap_or(last);
                    if c <= -1.0 {
                        return Err(ForecastError::Scenario(format!(
                            "driver change {c} would make the driver non-positive"
                        )));
                    }
                    let factor = (1.0 + c).powf(*elasticity);
                    out.mean[k] *= factor;
                    out.sd[k] *= factor;
                }
            }
        }
        out.model = format!("{} + {}", base.model, self.label());
        Ok(out)
    }

    fn label(&self) -> String {
        match self {
            Assumption::Multiplier { factor, .. } => format!("×{factor}"),
            Assumption::Zero { .. } => "zero".into(),
            Assumption::Constant { value, .. } => format!("constant {value}"),
            Assumption::Shift { delta, .. } => format!("shift {delta:+}"),
            Assumption::Path { .. } => "path".into(),
            Assumption::Quantile { q } => format!("q{q}"),
            Assumption::ConvergeTo { target, years, .. } => format!("→{target} in {years}y"),
            Assumption::Driver { name, elasticity, .. } => format!("driver {name} (ε={elasticity})"),
        }
    }
}

/// Assumptions for one series key, a group of series, or (neither given) every series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRule {
    #[serde(default)]
    pub series: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    pub assumptions: Vec<Assumption>,
}

/// A named scenario, as written in TOML:
///
/// ```toml
/// id = "low-migration"
/// label = "−33% migration"
/// [[rules]]
/// group = "cis"
/// assumptions = [{ kind = "multiplier", factor = 0.67 }]
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub rules: Vec<ScenarioRule>,
}

impl ScenarioRule {
    pub fn matches(&self, key: &str, groups: &[&str]) -> bool {
        match (&self.series, &self.group) {
            (None, None) => true,
            (Some(s), None) => s == key,
            (None, Some(g)) => groups.contains(&g.as_str()),
            (Some(s), Some(g)) => s == key && groups.contains(&g.as_str()),
        }
    }
}

impl Scenario {
    /// Applies every matching rule, in file order, to the base forecast of `key`
    /// (which belongs to `groups`). A series no rule matches is returned unchanged.
    pub fn apply(&self, key: &str, groups: &[&str], base: &Forecast) -> Result<Forecast> {
        let mut out = base.clone();
        for rule in self.rules.iter().filter(|r| r.matches(key, groups)) {
            for a in &rule.assumptions {
                out = a.apply(&out)?;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Forecast {
        Forecast { model: "m".into(), mean: vec![100.0, 110.0, 120.0, 130.0], sd: vec![10.0; 4], fitted: vec![] }
    }

    #[test]
    fn primitives() {
        let b = base();
        let m = Assumption::Multiplier { factor: 0.5, from_step: 1 }.apply(&b).unwrap();
        assert_eq!(m.mean, vec![100.0, 55.0, 60.0, 65.0]);
        let c = Assumption::ConvergeTo { target: 0.0, years: 2, from_step: 0 }.apply(&b).unwrap();
        assert_eq!(c.mean, vec![50.0, 0.0, 0.0, 0.0]);
        let d = Assumption::Driver { name: "gdp".into(), elasticity: 2.0, change: vec![0.1], from_step: 0 }
            .apply(&b)
            .unwrap();
        assert!((d.mean[0] - 121.0).abs() < 1e-9);
        let q = Assumption::Quantile { q: 0.975 }.apply(&b).unwrap();
        assert!((q.mean[0] - (100.0 + 19.599639845)).abs() < 1e-6);
        let p = Assumption::Path { values: vec![1.0, 2.0], from_step: 1 }.apply(&b).unwrap();
        assert_eq!(p.mean, vec![100.0, 1.0, 2.0, 2.0]);
    }
}
