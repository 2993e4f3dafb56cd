//! Observations: one figure for one series key and period, with its unit, status, source,
//! definition and provenance.

use serde::{Deserialize, Serialize};

use crate::date::Date;

/// SDMX OBS_STATUS codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ObsStatus {
    #[default]
    #[serde(rename = "A")]
    Normal,
    #[serde(rename = "E")]
    Estimated,
    #[serde(rename = "P")]
    Provisional,
    #[serde(rename = "B")]
    Break,
    #[serde(rename = "M")]
    Missing,
    #[serde(rename = "F")]
    Forecast,
}

impl ObsStatus {
    pub fn code(self) -> &'static str {
        match self {
            ObsStatus::Normal => "A",
            ObsStatus::Estimated => "E",
            ObsStatus::Provisional => "P",
            ObsStatus::Break => "B",
            ObsStatus::Missing => "M",
            ObsStatus::Forecast => "F",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code.trim() {
            "" | "A" | "normal" => ObsStatus::Normal,
            "E" | "estimated" => ObsStatus::Estimated,
            "P" | "provisional" => ObsStatus::Provisional,
            "B" | "break" => ObsStatus::Break,
            "M" | "missing" => ObsStatus::Missing,
            "F" | "forecast" | "projected" => ObsStatus::Forecast,
            _ => return None,
        })
    }
}

/// Shared text: a bank holds millions of observations whose codes, units, sources and
/// definitions repeat, so they share one allocation each.
pub type Text = std::sync::Arc<str>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    pub dataflow: Text,
    /// Codes in the dataflow's dimension order.
    pub key: Vec<Text>,
    pub time_period: Text,
    /// The figure in `unit × 10^unit_mult`; `None` when the source marks it missing.
    pub value: Option<f64>,
    /// The text as the source printed it, kept when it differs from the plain value.
    pub printed: Option<String>,
    pub unit: Text,
    pub unit_mult: i32,
    pub status: ObsStatus,
    pub source: Text,
    pub definition: Text,
    pub citation: Option<Text>,
    pub note: Option<String>,
    /// Defect codes, declared by the source file or found by validation.
    pub defects: Vec<String>,
}

impl Observation {
    /// The value in base units (persons, dollars), so figures in thousands and in units compare.
    pub fn base_value(&self) -> Option<f64> {
        self.value.map(|v| scale_by_power_of_ten(v, self.unit_mult))
    }

    pub fn key_string(&self) -> String {
        self.key.join(".")
    }
}

/// `value × 10^power`, exact to the decimal digits of `value`: `-2.011` thousands is −2,011, where
/// `-2.011 * 1000.0` gives −2,011.0000000000002. The shortest decimal form of the value is shifted
/// and parsed again, so the result is the double nearest to the decimal figure the source printed.
pub fn scale_by_power_of_ten(value: f64, power: i32) -> f64 {
    if power == 0 || !value.is_finite() {
        return value;
    }
    let text = format!("{value:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    format!("{mantissa}e{}", exponent.saturating_add(power)).parse().unwrap_or(value * 10f64.powi(power))
}

/// Why a text is not a period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("`{0}` is not a period (YYYY, YYYY-MM, YYYY-MM-DD, YYYY-Qn, YYYY-Sn or A/B)")]
    Malformed(String),
    #[error("period `{0}` ends before it starts")]
    Reversed(String),
}

/// Check a period: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-Qn`, `YYYY-Sn`, or a range `A/B` of those.
pub fn validate_time_period(text: &str) -> Result<(), PeriodError> {
    let t = text.trim();
    if let Some((a, b)) = t.split_once('/') {
        validate_time_period(a)?;
        validate_time_period(b)?;
        if period_start(a)? > period_start(b)? {
            return Err(PeriodError::Reversed(t.to_string()));
        }
        return Ok(());
    }
    period_start(t).map(|_| ())
}

/// The first day of a period.
pub fn period_start(text: &str) -> Result<Date, PeriodError> {
    let t = text.trim();
    let bad = || PeriodError::Malformed(t.to_string());
    if let Some((a, _)) = t.split_once('/') {
        return period_start(a);
    }
    // Byte positions below are only meaningful for ASCII text (`€€7` has length 7 too).
    if !t.is_ascii() {
        return Err(bad());
    }
    if t.len() == 7 && (t.as_bytes()[5] == b'Q' || t.as_bytes()[5] == b'S') {
        let year: i32 = t[..4].parse().map_err(|_| bad())?;
        let n: u8 = t[6..].parse().map_err(|_| bad())?;
        let months_per = if t.as_bytes()[5] == b'Q' { 3 } else { 6 };
        let max = 12 / months_per;
        if n == 0 || n > max {
            return Err(bad());
        }
        return Date::new(year, (n - 1) * months_per + 1, 1).map_err(|_| bad());
    }
    if !(t.len() == 4 || t.len() == 7 || t.len() == 10) || !t[..4].chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    Date::parse_loose(t).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        for ok in ["2017", "2024-01", "2024-12-31", "2019-Q4", "2000/2017", "1991/2017"] {
            assert!(validate_time_period(ok).is_ok(), "{ok}");
        }
        for bad in ["17", "2024-13", "2024-Q5", "2017/2000", "year", "2024-1", "€€7", "2024-€1", "€€€€"] {
            assert!(validate_time_period(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod scale_tests {
    use super::scale_by_power_of_ten;

    #[test]
    fn scaling_keeps_the_printed_decimal_figure() {
        assert_eq!(scale_by_power_of_ten(-2.011, 3), -2011.0);
        assert_eq!(-2.011 * 1000.0, -2011.0000000000002); // what plain multiplication gives
        assert_eq!(scale_by_power_of_ten(16_383.881, 3), 16_383_881.0);
        assert_eq!(scale_by_power_of_ten(1_577.5, 6), 1_577_500_000.0);
        assert_eq!(scale_by_power_of_ten(2_871_300.0, -3), 2_871.3);
        assert_eq!(scale_by_power_of_ten(7.0, 0), 7.0);
        assert!(scale_by_power_of_ten(f64::NAN, 3).is_nan());
    }
}
