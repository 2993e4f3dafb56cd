//! fixest-style formulas (`y ~ log(x) + z | fe1 + fe2^fe3`) and variance specifications.

use crate::error::{GravityError, Result};
use std::fmt;

/// Transformation applied to a variable in a formula term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    Identity,
    Log,
    Log1p,
    Exp,
    Sqrt,
    /// `factor(x)` / `i(x)`: treat as categorical (dummies) even if numeric.
    Factor,
}

/// One term: a variable with an optional transformation, e.g. `log(dist)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub variable: String,
    pub transform: Transform,
}

impl Term {
    pub fn label(&self) -> String {
        match self.transform {
            Transform::Identity => self.variable.clone(),
            Transform::Log => format!("log({})", self.variable),
            Transform::Log1p => format!("log1p({})", self.variable),
            Transform::Exp => format!("exp({})", self.variable),
            Transform::Sqrt => format!("sqrt({})", self.variable),
            Transform::Factor => format!("factor({})", self.variable),
        }
    }

    pub(crate) fn apply(&self, x: f64) -> f64 {
        match self.transform {
            Transform::Identity | Transform::Factor => x,
            // log of a non-positive value is missing (row dropped), as in fixest.
            Transform::Log => {
                if x > 0.0 {
                    x.ln()
                } else {
                    f64::NAN
                }
            }
            Transform::Log1p => {
                if x > -1.0 {
                    x.ln_1p()
                } else {
                    f64::NAN
                }
            }
            Transform::Exp => x.exp(),
            Transform::Sqrt => {
                if x >= 0.0 {
                    x.sqrt()
                } else {
                    f64::NAN
                }
            }
        }
    }
}

/// A fixed-effect term: one variable or an interaction `a^b^c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeTerm {
    pub variables: Vec<String>,
}

impl FeTerm {
    pub fn label(&self) -> String {
        self.variables.join("^")
    }
}

/// A parsed model formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formula {
    pub response: Term,
    pub regressors: Vec<Term>,
    /// Whether an intercept is wanted (only used when there are no fixed effects).
    pub intercept: bool,
    pub fixed_effects: Vec<FeTerm>,
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

fn parse_term(raw: &str) -> Result<Term> {
    let s = raw.trim();
    if let Some(open) = s.find('(') {
        if !s.ends_with(')') {
            return Err(GravityError::Formula(format!("unbalanced parentheses in `{s}`")));
        }
        let func = s[..open].trim();
        let inner = s[open + 1..s.len() - 1].trim();
        let transform = match func {
            "log" | "ln" => Transform::Log,
            "log1p" => Transform::Log1p,
            "exp" => Transform::Exp,
            "sqrt" => Transform::Sqrt,
            "factor" | "i" | "C" => Transform::Factor,
            "I" => return parse_term(inner),
            other => return Err(GravityError::Formula(format!("unsupported function `{other}`"))),
        };
        if !is_identifier(inner) {
            return Err(GravityError::Formula(format!("expected a column name inside `{s}`")));
        }
        return Ok(Term { variable: inner.to_string(), transform });
    }
    if !is_identifier(s) {
        return Err(GravityError::Formula(format!("invalid term `{s}`")));
    }
    Ok(Term { variable: s.to_string(), transform: Transform::Identity })
}

/// Splits on `+`/`-` outside parentheses, returning (sign, text) pairs.
fn split_terms(s: &str) -> Result<Vec<(bool, String)>> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    let mut positive = true;
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                current.push(c);
            }
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(GravityError::Formula("unbalanced parentheses".into()));
                }
                current.push(c);
            }
            '+' | '-' if depth == 0 => {
                if !current.trim().is_empty() {
                    out.push((positive, current.trim().to_string()));
                }
                current.clear();
                positive = c == '+';
            }
            _ => current.push(c),
        }
    }
    if depth != 0 {
        return Err(GravityError::Formula("unbalanced parentheses".into()));
    }
    if !current.trim().is_empty() {
        out.push((positive, current.trim().to_string()));
    }
    Ok(out)
}

impl Formula {
    /// Parses `y ~ x1 + log(x2) + factor(k) | fe1 + fe2^fe3`. `0`/`-1` drops the intercept.
    pub fn parse(text: &str) -> Result<Formula> {
        let (lhs, rhs) = text.split_once('~').ok_or_else(|| GravityError::Formula("missing `~`".into()))?;
        let response = parse_term(lhs)?;
        if response.transform == Transform::Factor {
            return Err(GravityError::Formula("the response cannot be a factor".into()));
        }
        let mut parts = rhs.split('|');
        let main = parts.next().unwrap_or("");
        let fe_part = parts.next();
        if parts.next().is_some() {
            return Err(GravityError::Formula("at most one `|` is allowed".into()));
        }
        let mut regressors = Vec::new();
        let mut intercept = true;
        for (positive, t) in split_terms(main)? {
            match (positive, t.as_str()) {
                (true, "1") => intercept = true,
                (true, "0") | (false, "1") => intercept = false,
                (false, _) => return Err(GravityError::Formula(format!("cannot subtract `{t}`"))),
                (true, _) => {
                    let term = parse_term(&t)?;
                    if !regressors.contains(&term) {
                        regressors.push(term);
                    }
                }
            }
        }
        let mut fixed_effects = Vec::new();
        if let Some(fe) = fe_part {
            for (positive, t) in split_terms(fe)? {
                if !positive {
                    return Err(GravityError::Formula("fixed effects cannot be subtracted".into()));
                }
                if t == "0" {
                    continue;
                }
                let variables: Vec<String> = t.split('^').map(|v| v.trim().to_string()).collect();
                if variables.iter().any(|v| !is_identifier(v)) {
                    return Err(GravityError::Formula(format!("invalid fixed effect `{t}`")));
                }
                fixed_effects.push(FeTerm { variables });
            }
        }
        if regressors.is_empty() && fixed_effects.is_empty() && !intercept {
            return Err(GravityError::Formula("the model has no regressors".into()));
        }
        Ok(Formula { response, regressors, intercept, fixed_effects })
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rhs: Vec<String> = self.regressors.iter().map(Term::label).collect();
        write!(f, "{} ~ {}", self.response.label(), if rhs.is_empty() { "1".to_string() } else { rhs.join(" + ") })?;
        if !self.fixed_effects.is_empty() {
            let fes: Vec<String> = self.fixed_effects.iter().map(FeTerm::label).collect();
            write!(f, " | {}", fes.join(" + "))?;
        }
        Ok(())
    }
}

/// Which variance estimator to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VcovSpec {
    /// Model-based (inverse information).
    Iid,
    /// Heteroskedasticity-robust sandwich.
    Hetero,
    /// One- or multi-way clustered; each entry is a variable or an interaction (`a^b`).
    Cluster(Vec<FeTerm>),
}

impl VcovSpec {
    /// Parses `iid`, `hetero` (`robust`, `hc1`), `cluster(a)`, `cluster(a, b)`, `cluster(a^b)`,
    /// `twoway(a, b)`, or fixest's `~a + b`.
    pub fn parse(text: &str) -> Result<VcovSpec> {
        let s = text.trim();
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "iid" | "standard" | "classical" => return Ok(VcovSpec::Iid),
            "hetero" | "robust" | "hc1" | "hc0" | "white" => return Ok(VcovSpec::Hetero),
            _ => {}
        }
        let list = if let Some(rest) = s.strip_prefix('~') {
            rest.to_string()
        } else if let Some(open) = s.find('(') {
            let name = s[..open].trim().to_ascii_lowercase();
            if !s.ends_with(')') || !matches!(name.as_str(), "cluster" | "twoway" | "cl" | "crv1") {
                return Err(GravityError::VcovSpec(format!("cannot parse `{s}`")));
            }
            let inner = s[open + 1..s.len() - 1].to_string();
            if name == "twoway" && inner.split([',', '+']).filter(|p| !p.trim().is_empty()).count() != 2 {
                return Err(GravityError::VcovSpec("twoway() needs exactly two variables".into()));
            }
            inner
        } else {
            return Err(GravityError::VcovSpec(format!("cannot parse `{s}`")));
        };
        let mut terms = Vec::new();
        for part in list.split([',', '+']) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let variables: Vec<String> = part.split('^').map(|v| v.trim().to_string()).collect();
            if variables.iter().any(|v| !is_identifier(v)) {
                return Err(GravityError::VcovSpec(format!("invalid cluster variable `{part}`")));
            }
            terms.push(FeTerm { variables });
        }
        if terms.is_empty() {
            return Err(GravityError::VcovSpec("no cluster variable given".into()));
        }
        Ok(VcovSpec::Cluster(terms))
    }
}

impl fmt::Display for VcovSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VcovSpec::Iid => write!(f, "iid"),
            VcovSpec::Hetero => write!(f, "hetero"),
            VcovSpec::Cluster(t) => {
                let names: Vec<String> = t.iter().map(FeTerm::label).collect();
                write!(f, "cluster({})", names.join(", "))
            }
        }
    }
}

/// Small-sample conventions for the variance (same point estimates, different scale factors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmallSample {
    /// fixest `ssc()` defaults: (n−1)/(n−K) with K counting fixed effects not nested in the
    /// clusters, times G_min/(G_min−1) when clustered; hetero uses n/(n−K). Default.
    #[default]
    Fixest,
    /// Stata ppmlhdfe/reghdfe asymptotic: robust n/(n−1); clustered G/(G−1) per dimension.
    Stata,
    /// statsmodels with `use_correction`: robust n/(n−K) (HC1); clustered (n−1)/(n−K)·G/(G−1), K with all FEs.
    Statsmodels,
    /// No correction (HC0 / plain CRV).
    None,
}

impl SmallSample {
    pub fn parse(text: &str) -> Result<SmallSample> {
        match text.trim().to_ascii_lowercase().as_str() {
            "fixest" | "default" | "pyfixest" => Ok(SmallSample::Fixest),
            "stata" | "ppmlhdfe" | "reghdfe" => Ok(SmallSample::Stata),
            "statsmodels" => Ok(SmallSample::Statsmodels),
            "none" | "hc0" => Ok(SmallSample::None),
            other => Err(GravityError::VcovSpec(format!("unknown small-sample convention `{other}`"))),
        }
    }
}
