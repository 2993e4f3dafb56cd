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
    /// Not a figure: the source withdrew the figure its key, period, source and definition had
    /// (an SDMX delete). Stored as a release of its own, so what was known before stays known;
    /// a withdrawn figure is never an answer.
    #[serde(rename = "W")]
    Withdrawn,
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
            ObsStatus::Withdrawn => "W",
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
            "W" | "withdrawn" => ObsStatus::Withdrawn,
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

/// A period as SDMX writes it. Single periods are the same in both (`2017`, `2024-03`,
/// `2024-03-31`, `2019-Q4`, `2019-S1`); a range `A/B` becomes an SDMX time range, its start date
/// and a duration: `1991/2017` is `1991-01-01/P27Y`, `2017-01/2017-05` is `2017-01-01/P5M`,
/// `2020-01-15/2020-02-14` is `2020-01-15/P31D`. Text that is no period is given back as it is.
pub fn to_sdmx_period(period: &str) -> String {
    let Some((a, b)) = period.split_once('/') else { return period.to_string() };
    let (Ok(start), Ok(_)) = (period_start(a), period_start(b)) else { return period.to_string() };
    let (a, b) = (a.trim(), b.trim());
    let years = |t: &str| t.len() == 4;
    let months = |t: &str| t.len() == 7 && t.as_bytes()[4] == b'-' && t[5..].chars().all(|c| c.is_ascii_digit());
    if years(a) && years(b) {
        let (from, to) = (start.year, period_start(b).map(|d| d.year).unwrap_or(start.year));
        return format!("{start}/P{}Y", to - from + 1);
    }
    if months(a)
        && months(b)
        && let Ok(end) = period_start(b)
    {
        let count = (end.year - start.year) * 12 + i32::from(end.month) - i32::from(start.month) + 1;
        return format!("{start}/P{count}M");
    }
    match period_end(b) {
        Some(end) => format!("{start}/P{}D", end.days_since_epoch() - start.days_since_epoch() + 1),
        None => period.to_string(),
    }
}

/// The period koshi stores for an SDMX time period: the inverse of [`to_sdmx_period`]. A range
/// whose duration is whole years from the first of January, or whole months from the first of a
/// month, becomes `A/B` of years or months; days become `A/B` of dates. Anything else is given
/// back as it is (and is then refused as no period, with its text).
pub fn from_sdmx_period(text: &str) -> String {
    let t = text.trim();
    let Some((start, duration)) = t.split_once("/P") else {
        // SDMX also writes a year as `2017-A1`.
        return t.strip_suffix("-A1").filter(|y| y.len() == 4).map_or_else(|| t.to_string(), str::to_string);
    };
    let start_date = start.split('T').next().unwrap_or(start);
    let Ok(from) = Date::parse_loose(start_date) else { return t.to_string() };
    if start_date.len() != 10 || !duration.is_ascii() || duration.len() < 2 {
        return t.to_string();
    }
    let (count, unit) = duration.split_at(duration.len() - 1);
    let Ok(n) = count.parse::<i32>() else { return t.to_string() };
    if n < 1 {
        return t.to_string();
    }
    match unit {
        "Y" if from.month == 1 && from.day == 1 => format!("{}/{}", from.year, from.year + n - 1),
        "M" if from.day == 1 => {
            let last = i32::from(from.month) - 1 + n - 1;
            format!(
                "{}-{:02}/{}-{:02}",
                from.year,
                from.month,
                from.year + last.div_euclid(12),
                last.rem_euclid(12) + 1
            )
        }
        "D" => format!("{from}/{}", Date::from_days_since_epoch(from.days_since_epoch() + i64::from(n) - 1)),
        _ => t.to_string(),
    }
}

/// The last day of a single period (`2017` → 2017-12-31, `2024-02` → 2024-02-29).
fn period_end(text: &str) -> Option<Date> {
    let t = text.trim();
    let start = period_start(t).ok()?;
    let next = match t.len() {
        4 => Date::new(start.year + 1, 1, 1).ok()?,
        7 if t.as_bytes()[5] == b'Q' => {
            let month = start.month + 3;
            if month > 12 { Date::new(start.year + 1, 1, 1).ok()? } else { Date::new(start.year, month, 1).ok()? }
        }
        7 if t.as_bytes()[5] == b'S' => {
            if start.month > 6 {
                Date::new(start.year + 1, 1, 1).ok()?
            } else {
                Date::new(start.year, 7, 1).ok()?
            }
        }
        7 => {
            if start.month == 12 {
                Date::new(start.year + 1, 1, 1).ok()?
            } else {
                Date::new(start.year, start.month + 1, 1).ok()?
            }
        }
        10 => return Some(start),
        _ => return None,
    };
    Some(Date::from_days_since_epoch(next.days_since_epoch() - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_become_sdmx_time_ranges_and_back() {
        for (koshi, sdmx) in [
            ("1991/2017", "1991-01-01/P27Y"),
            ("2013/2017", "2013-01-01/P5Y"),
            ("2017-01/2017-05", "2017-01-01/P5M"),
            ("2016-11/2017-02", "2016-11-01/P4M"),
            ("2020-01-15/2020-02-14", "2020-01-15/P31D"),
            ("2017", "2017"),
            ("2024-03", "2024-03"),
            ("2019-Q4", "2019-Q4"),
        ] {
            assert_eq!(to_sdmx_period(koshi), sdmx, "{koshi}");
            assert_eq!(from_sdmx_period(sdmx), koshi, "{sdmx}");
        }
        // A range of quarters has no whole-year or whole-month form: it goes by days.
        assert_eq!(to_sdmx_period("2019-Q1/2019-Q2"), "2019-01-01/P181D");
        assert_eq!(from_sdmx_period("2019-01-01/P181D"), "2019-01-01/2019-06-30");
        assert_eq!(from_sdmx_period("2017-A1"), "2017");
        for odd in ["2017-03-05/P2Y", "2017/P", "soon/P3Y", "2017-01-01/P0Y"] {
            assert_eq!(from_sdmx_period(odd), odd, "kept as it is, to be refused with its text");
        }
    }

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
