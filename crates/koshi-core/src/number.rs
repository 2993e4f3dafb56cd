//! Numbers as statistical sources print them.
//!
//! Agencies and papers print `2,871,300`, `464,8`, `1 265 000`, `-22,426`, `(-) 2,234`, `−5`,
//! `19.2%`, `12 400*`, `1.5E-3` and mark missing cells with `–`, `…`, `..` or `x`. The parser
//! turns such text into a value, says which missing-value mark a cell carries, and explains in
//! words what is wrong with text it cannot read, so the ingest report can point at the cell.
//!
//! # Every printed form has one reading
//!
//! | printed | reading |
//! |---|---|
//! | `2871300`, `2 871 300` (space, no-break space, thin space), `2'871'300` | 2871300 |
//! | `2,871,300` (several commas) | 2871300: commas group thousands, so the decimal mark is `.` |
//! | `1.265.000` (several dots) | 1265000: dots group thousands, so the decimal mark is `,` |
//! | `1,577.5` / `1.577,5` (both marks) | 1577.5: the last mark is the decimal one |
//! | `19.2`, `464,8`, `0,312`, `1234,567`, `1 234,5` (one mark that cannot group thousands) | a decimal point / comma |
//! | `1.234`, `1,234`, `12.500` (one mark, a 1–3 digit head without leading zero, three digits after) | **ambiguous** under [`DecimalMark::Auto`]: see below |
//! | `-5`, `−5` (U+2212), `–5`, `—5`, `(-) 5`, `(5)`; `+5` | −5; 5 |
//! | `1e3`, `1.5E-3`, `-2.5e+4`, `1,5e3` (scientific) | 1000, 0.0015, −25000, 1500: the mantissa has at most one mark, the decimal one |
//! | `12 400*`, `5,3¹`, `7†` | the figure; the footnote mark is kept in the `footnote` of [`Parsed::Value`] |
//! | `19.2%`, `19,2 %` | 19.2 with `percent` set in [`Parsed::Value`]: the sign is never dropped silently, the ingest checks that the unit is a percentage |
//!
//! Every reading is exact: the digits are handed to the correctly rounded decimal → `f64`
//! conversion, so the value is the `f64` nearest the printed decimal. A figure beyond the `f64`
//! range (`1e400`) is an error, never an infinity.
//!
//! # Missing-value marks ([`MissingMark`])
//!
//! | printed | kind | reading |
//! |---|---|---|
//! | empty cell | [`MissingMark::Empty`] | nothing printed |
//! | `-`, `–`, `—`, `−` alone | [`MissingMark::Nil`] | nil: no such cases (the phenomenon did not occur) |
//! | `…`, `...`, `..`, `.`, `n/a`, `N/A`, `NA`, `na`, `:` | [`MissingMark::NotAvailable`] | the figure exists but is not available |
//! | `x`, `X`, Cyrillic `х`, `Х` | [`MissingMark::NotApplicable`] | not applicable, or withheld as confidential (as CIS statistics offices print it) |
//!
//! `NaN`, `nan`, `inf`, `-Infinity` and the like are software artefacts, not printed figures:
//! they are an error ([`NumberErrorKind::NotAFigure`]). A mapping may still declare them as
//! missing for one file (`[file] missing = ["NaN"]`).
//!
//! # Ambiguous figures
//!
//! With [`DecimalMark::Auto`], `1.234` may be 1.234 (decimal point) or 1234 (dot grouping
//! thousands), and `1,234` may be 1234 or 1.234. Such a figure is read with a decimal point
//! (`1.234` → 1.234, `1,234` → 1234, as English-language sources print) and flagged:
//! `ambiguous` in [`Parsed::Value`] holds the reading with a decimal comma. The caller decides from
//! the other cells of the file ([`decimal_evidence`] classifies them) or asks for an explicit
//! mark. With [`DecimalMark::Dot`] or [`DecimalMark::Comma`] nothing is ambiguous.
//!
//! # The canonical printed form
//!
//! [`format_plain`] prints a value so that [`parse_number`] with [`DecimalMark::Dot`] reads it
//! back exactly: the shortest decimal that round-trips, no grouping, no exponent.

use std::fmt;

/// How the source separates decimals. `Auto` decides per cell (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DecimalMark {
    #[default]
    Auto,
    Dot,
    Comma,
}

/// The kind of a missing-value mark (see the module docs for the printed forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MissingMark {
    /// An empty cell.
    Empty,
    /// `–`, `-`, `—`: nil, no such cases.
    Nil,
    /// `…`, `..`, `n/a`, `NA`, `:`: not available.
    NotAvailable,
    /// `x`, `X`, Cyrillic `х`/`Х`: not applicable or confidential.
    NotApplicable,
}

impl MissingMark {
    /// The mark a (trimmed) cell text is, if it is one.
    pub fn of(text: &str) -> Option<MissingMark> {
        Some(match text {
            "" => MissingMark::Empty,
            "-" | "–" | "—" | "−" => MissingMark::Nil,
            "…" | "..." | ".." | "." | "n/a" | "N/A" | "NA" | "na" | ":" => MissingMark::NotAvailable,
            "x" | "X" | "х" | "Х" => MissingMark::NotApplicable,
            _ => return None,
        })
    }

    /// What the mark says, in words for reports.
    pub fn reading(self) -> &'static str {
        match self {
            MissingMark::Empty => "empty (nothing printed)",
            MissingMark::Nil => "nil (no such cases)",
            MissingMark::NotAvailable => "not available",
            MissingMark::NotApplicable => "not applicable or confidential",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Value {
        value: f64,
        /// A stripped footnote mark such as `*` or `¹`.
        footnote: Option<String>,
        /// The figure was printed with a percent sign (`19.2%`); the value is the number printed (19.2).
        percent: bool,
        /// Under [`DecimalMark::Auto`], for a figure such as `1.234` or `1,234`: the reading with a
        /// decimal comma (`value` is the reading with a decimal point).
        ambiguous: Option<f64>,
    },
    /// A missing-value mark.
    Missing(MissingMark),
}

/// What one printed figure says about the file's decimal mark (see [`decimal_evidence`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Evidence {
    /// No `.` or `,` (whole numbers, space-grouped thousands), or no figure at all.
    NoSeparator,
    /// Only a decimal point reads it: `19.2`, `0.312`, `1,577.5`, `2,871,300`, `1.5e3`.
    DecimalDot,
    /// Only a decimal comma reads it: `464,8`, `0,312`, `1.577,5`, `1.265.000`, `1,5e3`.
    DecimalComma,
    /// `1.234`, `1,234`: either reading is possible.
    Ambiguous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberErrorKind {
    /// Text that is not a well-formed printed figure.
    Malformed,
    /// `NaN`, `inf`, `Infinity`: software output, not a printed figure.
    NotAFigure,
    /// A figure beyond the range of `f64` (`1e400`).
    OutOfRange,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct NumberError {
    pub text: String,
    pub reason: String,
    pub kind: NumberErrorKind,
    /// What a lenient reading gives (separators dropped), for sources whose defect is recorded.
    pub lenient: Option<f64>,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a number: {}", self.text, self.reason)
    }
}

/// The canonical plain form of a value: the shortest decimal that reads back to the same `f64`
/// (no grouping, no exponent, `.` as decimal point), e.g. `-2234`, `464.8`, `0.0015`.
/// [`parse_number`] with [`DecimalMark::Dot`] reads it back exactly.
pub fn format_plain(value: f64) -> String {
    format!("{value}")
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{00A0}' || c == '\u{202F}' || c == '\u{2009}'
}

fn is_footnote_char(c: char) -> bool {
    matches!(c, '*' | '†' | '‡' | '¹' | '²' | '³' | '⁴' | '⁵' | '⁶' | '⁷' | '⁸' | '⁹' | '⁰')
}

/// `NaN`, `inf`, `-Infinity`…: what software writes for a non-number.
fn is_software_artefact(t: &str) -> bool {
    let unsigned = t.trim_start_matches(['-', '+', '−']);
    ["nan", "inf", "infinity", "-nan", "+nan"].iter().any(|a| unsigned.eq_ignore_ascii_case(a))
}

/// A figure with its footnote, percent sign and sign taken off.
struct Stripped<'t> {
    body: &'t str,
    negative: bool,
    footnote: Option<String>,
    percent: bool,
}

/// Parse one cell. `mark` forces the decimal separator; with `Auto` the reading follows the
/// table of the module docs, and ambiguous figures are flagged.
pub fn parse_number(text: &str, mark: DecimalMark) -> Result<Parsed, NumberError> {
    parse_inner(text, mark).map(|(parsed, _)| parsed)
}

/// What the printed form of `text` says about the decimal mark of its file, under the rules of
/// [`DecimalMark::Auto`]. Missing marks and text that is no figure give [`Evidence::NoSeparator`].
pub fn decimal_evidence(text: &str) -> Evidence {
    match parse_inner(text, DecimalMark::Auto) {
        Ok((_, evidence)) => evidence,
        Err(_) => Evidence::NoSeparator,
    }
}

fn parse_inner(text: &str, mark: DecimalMark) -> Result<(Parsed, Evidence), NumberError> {
    let t: &str = text.trim_matches(is_space);
    if let Some(missing) = MissingMark::of(t) {
        return Ok((Parsed::Missing(missing), Evidence::NoSeparator));
    }
    let err = |kind: NumberErrorKind, reason: &str, lenient: Option<f64>| NumberError {
        text: text.to_string(),
        reason: reason.to_string(),
        kind,
        lenient,
    };
    let malformed = |reason: &str, lenient: Option<f64>| err(NumberErrorKind::Malformed, reason, lenient);
    if is_software_artefact(t) {
        return Err(err(
            NumberErrorKind::NotAFigure,
            "NaN and infinities are written by software, they are not printed figures",
            None,
        ));
    }
    let stripped = strip(t).map_err(|reason| malformed(reason, None))?;
    let Stripped { body, negative, footnote, percent } = stripped;
    let sign = |v: f64| if negative { -v } else { v };
    let finite = |v: f64| {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(err(NumberErrorKind::OutOfRange, "beyond the range of a 64-bit floating-point number", None))
        }
    };

    let scientific = body.find(['e', 'E']).filter(|&pos| {
        let mantissa = &body[..pos];
        !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    });
    if let Some(pos) = scientific {
        let (value, evidence) = read_scientific(&body[..pos], &body[pos + 1..], mark)
            .map_err(|Malformed(reason)| malformed(&reason, None))?;
        let value = finite(value)?;
        return Ok((Parsed::Value { value: sign(value), footnote, percent, ambiguous: None }, evidence));
    }

    let lenient = lenient_reading(body).map(sign);
    if let Some(bad) =
        body.chars().find(|c| !(c.is_ascii_digit() || *c == ',' || *c == '.' || is_space(*c) || *c == '\''))
    {
        return Err(malformed(&format!("unexpected character `{bad}`"), None));
    }
    if !body.chars().next().is_some_and(|c| c.is_ascii_digit()) && !body.starts_with('.') && !body.starts_with(',') {
        return Err(malformed("does not start with a digit", None));
    }

    let (decimal, evidence) =
        decide_decimal_mark(body, mark).map_err(|Malformed(reason)| malformed(&reason, lenient))?;
    let value = finite(read_body(body, decimal).map_err(|Malformed(reason)| malformed(&reason, lenient))?)?;
    let ambiguous = if evidence == Evidence::Ambiguous && mark == DecimalMark::Auto {
        // `1.234` was read with a decimal point, so the other reading groups thousands; `1,234`
        // was read as grouped, so the other reading has a decimal comma.
        let other = if decimal.is_some() { None } else { Some(',') };
        Some(sign(finite(read_body(body, other).map_err(|Malformed(reason)| malformed(&reason, lenient))?)?))
    } else {
        None
    };
    Ok((Parsed::Value { value: sign(value), footnote, percent, ambiguous }, evidence))
}

/// Take off footnote marks, the percent sign and the sign: `(-) 2,234*` → `2,234`, negative.
fn strip(t: &str) -> Result<Stripped<'_>, &'static str> {
    let mut t = t;
    // Footnote marks after the figure: `12 400*`, `5,3¹`.
    let mut footnote = None;
    let trimmed_end = t.trim_end_matches(is_footnote_char);
    if trimmed_end.len() != t.len() {
        footnote = Some(t[trimmed_end.len()..].to_string());
        t = trimmed_end.trim_end_matches(is_space);
    }
    let mut percent = false;
    if let Some(stripped) = t.strip_suffix('%') {
        percent = true;
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
                return Err("two minus signs");
            }
            negative = true;
            t = t[c.len_utf8()..].trim_start_matches(is_space);
        } else if c == '+' {
            t = t[1..].trim_start_matches(is_space);
        }
    }
    if t.is_empty() {
        return Err(if percent || negative { "a sign without digits" } else { "no digits" });
    }
    Ok(Stripped { body: t, negative, footnote, percent })
}

/// `1.5` + `E-3`: the mantissa has digits and at most one mark, which is the decimal one.
/// Why the digits of a figure do not read (the reason of a [`NumberErrorKind::Malformed`] error).
#[derive(Debug)]
struct Malformed(String);

impl From<&str> for Malformed {
    fn from(reason: &str) -> Self {
        Malformed(reason.to_string())
    }
}

impl From<String> for Malformed {
    fn from(reason: String) -> Self {
        Malformed(reason)
    }
}

fn read_scientific(mantissa: &str, exponent: &str, mark: DecimalMark) -> Result<(f64, Evidence), Malformed> {
    let exponent_digits = exponent.strip_prefix(['+', '-', '−']).unwrap_or(exponent);
    if exponent_digits.is_empty() || !exponent_digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the exponent after `e` must be a whole number".into());
    }
    let exponent_negative = exponent.starts_with(['-', '−']);
    let marks: Vec<char> = mantissa.chars().filter(|c| *c == '.' || *c == ',').collect();
    if let Some(bad) = mantissa.chars().find(|c| !(c.is_ascii_digit() || *c == '.' || *c == ',')) {
        return Err(format!("unexpected character `{bad}` in the mantissa of a scientific figure").into());
    }
    if !mantissa.bytes().any(|b| b.is_ascii_digit()) {
        return Err("no digits before the exponent".into());
    }
    let decimal = match (marks.as_slice(), mark) {
        ([], _) => None,
        ([c], DecimalMark::Auto) => Some(*c),
        (['.'], DecimalMark::Dot) | ([','], DecimalMark::Comma) => marks.first().copied(),
        ([c], _) => return Err(format!("`{c}` is not the file's decimal separator").into()),
        _ => return Err("a scientific figure has at most one decimal separator".into()),
    };
    let mut number: String = mantissa.chars().map(|c| if Some(c) == decimal { '.' } else { c }).collect();
    if number.ends_with('.') {
        number.pop();
    }
    number.push('e');
    if exponent_negative {
        number.push('-');
    }
    number.push_str(exponent_digits);
    let value: f64 = number.parse().map_err(|_| Malformed::from("not a scientific figure"))?;
    let evidence = match decimal {
        Some('.') => Evidence::DecimalDot,
        Some(_) => Evidence::DecimalComma,
        None => Evidence::NoSeparator,
    };
    Ok((value, evidence))
}

/// Which character is the decimal separator in `t`, if any, and what the form says about it.
fn decide_decimal_mark(t: &str, mark: DecimalMark) -> Result<(Option<char>, Evidence), Malformed> {
    let commas = t.matches(',').count();
    let dots = t.matches('.').count();
    let evidence = classify(t, commas, dots);
    match mark {
        DecimalMark::Dot => {
            if dots > 1 {
                return Err("more than one decimal point".into());
            }
            Ok(((dots == 1).then_some('.'), evidence))
        }
        DecimalMark::Comma => {
            if commas > 1 {
                return Err("more than one decimal comma".into());
            }
            Ok(((commas == 1).then_some(','), evidence))
        }
        DecimalMark::Auto => {
            let decimal = match evidence {
                Evidence::NoSeparator => None,
                Evidence::DecimalDot => (dots > 0).then_some('.'),
                Evidence::DecimalComma => (commas > 0).then_some(','),
                // Read with a decimal point; the caller gets the other reading too.
                Evidence::Ambiguous => (dots == 1).then_some('.'),
            };
            if commas > 0 && dots > 0 {
                let sep = decimal.unwrap_or('.');
                if (if sep == '.' { dots } else { commas }) > 1 {
                    return Err(format!("more than one `{sep}` although it is the decimal separator").into());
                }
            }
            Ok((decimal, evidence))
        }
    }
}

/// What the separators of a figure body say about the decimal mark (see [`Evidence`]).
fn classify(t: &str, commas: usize, dots: usize) -> Evidence {
    if commas > 0 && dots > 0 {
        // Both: the last one is the decimal separator (`1,577.5`, `1.577,5`).
        if t.rfind('.') > t.rfind(',') { Evidence::DecimalDot } else { Evidence::DecimalComma }
    } else if dots > 1 {
        Evidence::DecimalComma // `1.265.000`: dots group thousands
    } else if commas > 1 {
        Evidence::DecimalDot // `2,871,300`: commas group thousands
    } else if dots == 1 || commas == 1 {
        let sep = if dots == 1 { '.' } else { ',' };
        let pos = t.find(sep).unwrap_or(0);
        let (head, tail) = (&t[..pos], &t[pos + 1..]);
        // Only a 1–3 digit head without leading zero followed by exactly three digits could be
        // a thousands group; `0,312`, `1234,567` and `12 345,678` cannot.
        let could_group = tail.len() == 3
            && tail.bytes().all(|b| b.is_ascii_digit())
            && (1..=3).contains(&head.len())
            && head.bytes().all(|b| b.is_ascii_digit())
            && !head.starts_with('0');
        if could_group {
            Evidence::Ambiguous
        } else if sep == '.' {
            Evidence::DecimalDot
        } else {
            Evidence::DecimalComma
        }
    } else {
        Evidence::NoSeparator
    }
}

/// The value of a figure body read with `decimal` as its decimal separator.
fn read_body(t: &str, decimal: Option<char>) -> Result<f64, Malformed> {
    let (int_part, frac_part) = match decimal {
        Some(sep) => match t.rfind(sep) {
            Some(pos) => (&t[..pos], Some(&t[pos + 1..])),
            None => (t, None),
        },
        None => (t, None),
    };
    let mut number = check_thousands_groups(int_part, decimal)?;
    if let Some(frac) = frac_part {
        if frac.is_empty() || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err("digits expected after the decimal separator".into());
        }
        number.push('.');
        number.push_str(frac);
    }
    number.parse().map_err(|_| "no digits".into())
}

/// The integer part with separators removed, after checking that separators split it into
/// groups of three digits (`2,871,300` yes, `15,77` no).
fn check_thousands_groups(int_part: &str, decimal: Option<char>) -> Result<String, Malformed> {
    let separators: &[char] = &[',', '.', ' ', '\u{00A0}', '\u{202F}', '\u{2009}', '\''];
    let groups: Vec<&str> =
        int_part.split(|c| (separators.contains(&c) || is_space(c)) && Some(c) != decimal).collect();
    if groups.len() > 1 {
        if groups[0].is_empty() || groups[0].len() > 3 {
            return Err(format!("digit group `{}` before a thousands separator", groups[0]).into());
        }
        if let Some(bad) = groups[1..].iter().find(|g| g.len() != 3) {
            return Err(
                format!("thousands separators must split the digits into groups of three, found `{bad}`").into()
            );
        }
        let kinds: std::collections::BTreeSet<char> =
            int_part.chars().filter(|c| separators.contains(c) || is_space(*c)).collect();
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
    s.parse().ok().filter(|v: &f64| v.is_finite())
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

    fn value(value: f64) -> Parsed {
        Parsed::Value { value, footnote: None, percent: false, ambiguous: None }
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
            assert!(matches!(parse_number(t, DecimalMark::Auto), Ok(Parsed::Missing(_))), "{t:?}");
        }
    }

    #[test]
    fn missing_marks_have_a_kind() {
        let kind = |t: &str| match parse_number(t, DecimalMark::Auto) {
            Ok(Parsed::Missing(m)) => m,
            other => panic!("{t:?}: {other:?}"),
        };
        assert_eq!(kind(""), MissingMark::Empty);
        assert_eq!(kind("   "), MissingMark::Empty);
        for t in ["–", "-", "—", "−"] {
            assert_eq!(kind(t), MissingMark::Nil, "{t}");
        }
        for t in ["…", "...", "..", "n/a", "NA", ":"] {
            assert_eq!(kind(t), MissingMark::NotAvailable, "{t}");
        }
        for t in ["x", "X", "х", "Х"] {
            assert_eq!(kind(t), MissingMark::NotApplicable, "{t}");
        }
    }

    #[test]
    fn software_non_numbers_are_errors() {
        for t in ["NaN", "nan", "-nan", "inf", "-inf", "Infinity", "-Infinity", "+INF"] {
            let e = parse_number(t, DecimalMark::Auto).unwrap_err();
            assert_eq!(e.kind, NumberErrorKind::NotAFigure, "{t}");
        }
    }

    #[test]
    fn percent_sign_is_a_flag_not_dropped() {
        for (t, expected) in [("5%", 5.0), ("19,2 %", 19.2), ("-0.5%", -0.5)] {
            match parse_number(t, DecimalMark::Auto) {
                Ok(Parsed::Value { value, percent, .. }) => {
                    assert_eq!(value, expected, "{t}");
                    assert!(percent, "{t}");
                }
                other => panic!("{t}: {other:?}"),
            }
        }
        assert!(matches!(parse_number("5", DecimalMark::Auto), Ok(Parsed::Value { percent: false, .. })));
        assert!(parse_number("%", DecimalMark::Auto).is_err());
    }

    #[test]
    fn scientific_notation() {
        assert_eq!(parse_number("1e3", DecimalMark::Auto), Ok(value(1000.0)));
        assert_eq!(parse_number("1.5E-3", DecimalMark::Auto), Ok(value(0.0015)));
        assert_eq!(parse_number("-2.5e+4", DecimalMark::Auto), Ok(value(-25_000.0)));
        assert_eq!(parse_number("1,5e3", DecimalMark::Comma), Ok(value(1500.0)));
        assert_eq!(parse_number("1,5e3", DecimalMark::Auto), Ok(value(1500.0)));
        assert_eq!(parse_number("1.234e2", DecimalMark::Auto), Ok(value(123.4)), "no ambiguity with an exponent");
        for bad in ["1e", "e3", "1e3.5", "1,5e3x", "1.5e3", "1,000.5e3"] {
            let mark = if bad == "1.5e3" { DecimalMark::Comma } else { DecimalMark::Auto };
            assert!(parse_number(bad, mark).is_err(), "{bad}");
        }
        let e = parse_number("1e400", DecimalMark::Auto).unwrap_err();
        assert_eq!(e.kind, NumberErrorKind::OutOfRange);
    }

    #[test]
    fn ambiguous_figures_are_flagged_with_both_readings() {
        let read = |t: &str| match parse_number(t, DecimalMark::Auto) {
            Ok(Parsed::Value { value, ambiguous, .. }) => (value, ambiguous),
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(read("1.234"), (1.234, Some(1234.0)));
        assert_eq!(read("1,234"), (1234.0, Some(1.234)));
        assert_eq!(read("12.500"), (12.5, Some(12_500.0)));
        assert_eq!(read("-1,234"), (-1234.0, Some(-1.234)));
        for t in ["0.312", "0,312", "1234.567", "19.2", "464,8", "2,871,300", "1.577,5", "1 234,567"] {
            assert_eq!(read(t).1, None, "{t} is not ambiguous");
        }
        assert_eq!(read("0,312").0, 0.312);
        assert_eq!(read("1234,567").0, 1234.567);
        assert_eq!(read("1 234,567").0, 1234.567);
        assert_eq!(decimal_evidence("1,234"), Evidence::Ambiguous);
        assert_eq!(decimal_evidence("19.2"), Evidence::DecimalDot);
        assert_eq!(decimal_evidence("2,871,300"), Evidence::DecimalDot);
        assert_eq!(decimal_evidence("1,577.5"), Evidence::DecimalDot);
        assert_eq!(decimal_evidence("464,8"), Evidence::DecimalComma);
        assert_eq!(decimal_evidence("1.265.000"), Evidence::DecimalComma);
        assert_eq!(decimal_evidence("1.577,5"), Evidence::DecimalComma);
        assert_eq!(decimal_evidence("1 265 000"), Evidence::NoSeparator);
        assert_eq!(decimal_evidence("–"), Evidence::NoSeparator);
        // Forced marks are never ambiguous.
        assert_eq!(parse_number("1,234", DecimalMark::Dot), Ok(value(1234.0)));
        assert_eq!(parse_number("1.234", DecimalMark::Comma), Ok(value(1234.0)));
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
        assert_eq!(parse_number("2,871", DecimalMark::Comma), Ok(value(2.871)));
        assert_eq!(parse_number("2,871", DecimalMark::Dot), Ok(value(2871.0)));
    }
}
