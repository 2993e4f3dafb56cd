//! Numbers as statistical sources print them.
//!
//! Agencies and papers print `2,871,300`, `464,8`, `1 265 000`, `-22,426`, `(-) 2,234`, `−5`,
//! `19.2%`, `12 400*` and mark missing cells with `–`, `-`, `…`, `..` or `x`. The parser turns
//! such text into a value, says when the cell is a missing-value mark, and explains in words
//! what is wrong with text it cannot read, so the ingest report can point at the cell.

use std::fmt;

/// How the source separates decimals. `Auto` decides per cell (see [`parse_number`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DecimalMark {
    #[default]
    Auto,
    Dot,
    Comma,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A number; `footnote` keeps a stripped footnote mark such as `*` or `¹`.
    Value { value: f64, footnote: Option<String> },
    /// A missing-value mark (`–`, `..`, `…`, empty cell).
    Missing,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct NumberError {
    pub text: String,
    pub reason: String,
    /// What a lenient reading gives (separators dropped), for sources whose defect is recorded.
    pub lenient: Option<f64>,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a number: {}", self.text, self.reason)
    }
}

const MISSING_MARKS: &[&str] = &[
    "", "-", "–", "—", "−", "…", "...", "..", ".", "x", "X", "n/a", "N/A", "NA", "na", ":", "NaN",
];

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{00A0}' || c == '\u{202F}' || c == '\u{2009}'
}

fn is_footnote_char(c: char) -> bool {
    matches!(c, '*' | '†' | '‡' | '¹' | '²' | '³' | '⁴' | '⁵' | '⁶' | '⁷' | '⁸' | '⁹' | '⁰')
}

/// Parse one cell. `mark` forces the decimal separator; with `Auto` a single comma followed by
/// exactly three digits is a thousands separator (`2,871`) and any other single comma is a
/// decimal comma (`464,8`).
pub fn parse_number(text: &str, mark: DecimalMark) -> Result<Parsed, NumberError> {
    let original = text;
    let err = |reason: &str, lenient: Option<f64>| NumberError {
        text: original.to_string(),
        reason: reason.to_string(),
        lenient,
    };
    let mut t: &str = text.trim_matches(is_space);
    if MISSING_MARKS.contains(&t) {
        return Ok(Parsed::Missing);
    }

    // Footnote marks after the figure: `12 400*`, `5,3¹`, `(a)`.
    let mut footnote = None;
    let trimmed_end = t.trim_end_matches(is_footnote_char);
    if trimmed_end.len() != t.len() {
        footnote = Some(t[trimmed_end.len()..].to_string());
        t = trimmed_end.trim_end_matches(is_space);
    }
    if let Some(stripped) = t.strip_suffix('%') {
        t = stripped.trim_end_matches(is_space);
    }

    // Sign: `-`, `−` (U+2212), `–` used as minus, `(-) 2,234`, `(2,234)`, `+5,175`.
    let mut negative = false;
    if let Some(rest) = t.strip_prefix("(-)").or_else(|| t.strip_prefix("(−)")) {
        negative = true;
        t = rest.trim_start_matches(is_space);
    } else if t.starts_with('(') && t.ends_with(')') && t.len() > 2 {
        negative = true;
        t = t[1..t.len() - 1].trim_matches(is_space);
    }
    if let Some(c) = t.chars().next() {
        if matches!(c, '-' | '−' | '–' | '—') {
            if negative {
                return Err(err("two minus signs", None));
            }
            negative = true;
            t = t[c.len_utf8()..].trim_start_matches(is_space);
        } else if c == '+' {
            t = t[1..].trim_start_matches(is_space);
        }
    }
    if t.is_empty() {
        return Err(err("a sign without digits", None));
    }

    let lenient = lenient_reading(t).map(|v| if negative { -v } else { v });
    if let Some(bad) = t.chars().find(|c| !(c.is_ascii_digit() || *c == ',' || *c == '.' || is_space(*c) || *c == '\'')) {
        return Err(err(&format!("unexpected character `{bad}`"), None));
    }
    if !t.chars().next().is_some_and(|c| c.is_ascii_digit()) && !t.starts_with('.') && !t.starts_with(',') {
        return Err(err("does not start with a digit", None));
    }

    let decimal = decide_decimal_mark(t, mark).map_err(|reason| err(&reason, lenient))?;
    let (int_part, frac_part) = match decimal {
        Some(sep) => match t.rfind(sep) {
            Some(pos) => (&t[..pos], Some(&t[pos + 1..])),
            None => (t, None),
        },
        None => (t, None),
    };
    let digits = check_thousands_groups(int_part, decimal).map_err(|reason| err(&reason, lenient))?;
    let mut number = digits;
    if let Some(frac) = frac_part {
        if frac.is_empty() || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(err("digits expected after the decimal separator", lenient));
        }
        number.push('.');
        number.push_str(frac);
    }
    let value: f64 = number.parse().map_err(|_| err("no digits", lenient))?;
    Ok(Parsed::Value { value: if negative { -value } else { value }, footnote })
}

/// Which character is the decimal separator in `t`, if any.
fn decide_decimal_mark(t: &str, mark: DecimalMark) -> Result<Option<char>, String> {
    let commas = t.matches(',').count();
    let dots = t.matches('.').count();
    match mark {
        DecimalMark::Dot => {
            if dots > 1 {
                return Err("more than one decimal point".into());
            }
            Ok((dots == 1).then_some('.'))
        }
        DecimalMark::Comma => {
            if commas > 1 {
                return Err("more than one decimal comma".into());
            }
            Ok((commas == 1).then_some(','))
        }
        DecimalMark::Auto => {
            if commas > 0 && dots > 0 {
                // Both: the last one is the decimal separator (`1,577.5`, `1.577,5`).
                let last_comma = t.rfind(',').unwrap_or(0);
                let last_dot = t.rfind('.').unwrap_or(0);
                let sep = if last_dot > last_comma { '.' } else { ',' };
                let count = if sep == '.' { dots } else { commas };
                if count > 1 {
                    return Err(format!("more than one `{sep}` although it is the decimal separator"));
                }
                Ok(Some(sep))
            } else if dots > 1 {
                Ok(None) // `1.265.000`: dots as thousands separators
            } else if dots == 1 {
                let after = &t[t.find('.').unwrap_or(0) + 1..];
                let before = &t[..t.find('.').unwrap_or(0)];
                // `2.871` alone is ambiguous; a group of exactly three digits after a short head
                // is read as a decimal point, as in English-language sources.
                let _ = (after, before);
                Ok(Some('.'))
            } else if commas == 1 {
                let after = &t[t.find(',').unwrap_or(0) + 1..];
                if after.len() == 3 && after.chars().all(|c| c.is_ascii_digit()) {
                    Ok(None)
                } else {
                    Ok(Some(','))
                }
            } else {
                Ok(None)
            }
        }
    }
}

/// The integer part with separators removed, after checking that separators split it into
/// groups of three digits (`2,871,300` yes, `15,77` no).
fn check_thousands_groups(int_part: &str, decimal: Option<char>) -> Result<String, String> {
    let separators: &[char] = &[',', '.', ' ', '\u{00A0}', '\u{202F}', '\u{2009}', '\''];
    let groups: Vec<&str> = int_part.split(|c| separators.contains(&c) && Some(c) != decimal).collect();
    if groups.len() > 1 {
        if groups[0].is_empty() || groups[0].len() > 3 {
            return Err(format!("digit group `{}` before a thousands separator", groups[0]));
        }
        if let Some(bad) = groups[1..].iter().find(|g| g.len() != 3) {
            return Err(format!(
                "thousands separators must split the digits into groups of three, found `{bad}`"
            ));
        }
        let kinds: std::collections::BTreeSet<char> =
            int_part.chars().filter(|c| separators.contains(c)).collect();
        if kinds.len() > 1 && !kinds.iter().all(|c| is_space(*c)) {
            return Err("mixed thousands separators".into());
        }
    }
    let digits: String = groups.concat();
    if digits.is_empty() && decimal.is_none() {
        return Err("no digits".into());
    }
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("unexpected character".into());
    }
    Ok(if digits.is_empty() { "0".into() } else { digits })
}

/// The reading a person would guess for a malformed figure: every separator but the last
/// `.` dropped (`15,77.5` → 1577.5).
fn lenient_reading(t: &str) -> Option<f64> {
    let last_dot = t.rfind('.');
    let mut s = String::new();
    for (i, c) in t.char_indices() {
        if c.is_ascii_digit() {
            s.push(c);
        } else if Some(i) == last_dot {
            s.push('.');
        }
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(t: &str) -> f64 {
        match parse_number(t, DecimalMark::Auto) {
            Ok(Parsed::Value { value, .. }) => value,
            other => panic!("{t}: {other:?}"),
        }
    }

    #[test]
    fn printed_forms() {
        assert_eq!(v("464,8"), 464.8);
        assert_eq!(v("2,871,300"), 2_871_300.0);
        assert_eq!(v("1 265 000"), 1_265_000.0);
        assert_eq!(v("1\u{00A0}265\u{00A0}000"), 1_265_000.0);
        assert_eq!(v("-22,426"), -22_426.0);
        assert_eq!(v("(-) 2,234"), -2_234.0);
        assert_eq!(v("−3,771"), -3_771.0);
        assert_eq!(v("+5,175"), 5_175.0);
        assert_eq!(v("19.2"), 19.2);
        assert_eq!(v("19.2%"), 19.2);
        assert_eq!(v("1,577.5"), 1_577.5);
        assert_eq!(v("1.577,5"), 1_577.5);
        assert_eq!(v("12 400*"), 12_400.0);
        assert_eq!(v("0,0"), 0.0);
    }

    #[test]
    fn missing_marks() {
        for t in ["–", "-", "…", "..", "", "  ", "x"] {
            assert_eq!(parse_number(t, DecimalMark::Auto), Ok(Parsed::Missing), "{t:?}");
        }
    }

    #[test]
    fn malformed_figure_is_explained_with_a_lenient_reading() {
        let e = parse_number("15,77.5", DecimalMark::Auto).unwrap_err();
        assert!(e.reason.contains("groups of three"), "{}", e.reason);
        assert_eq!(e.lenient, Some(1577.5));
        assert!(parse_number("12a4", DecimalMark::Auto).is_err());
        assert!(parse_number("--5", DecimalMark::Auto).is_err());
    }

    #[test]
    fn forced_marks() {
        assert_eq!(parse_number("2,871", DecimalMark::Comma), Ok(Parsed::Value { value: 2.871, footnote: None }));
        assert_eq!(parse_number("2,871", DecimalMark::Dot), Ok(Parsed::Value { value: 2871.0, footnote: None }));
    }
}
