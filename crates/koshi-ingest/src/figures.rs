//! The value cells of one file taken together: missing-value marks counted by kind and reported,
//! and figures such as `1,234` that read either way under `decimal = "auto"` decided from the
//! evidence of the file's other figures, or refused.
//!
//! A mapping has one value field (`OBS_VALUE`): one column, or a block of melted columns that
//! all hold figures of the same table. That field is the scope of the evidence: under `auto`,
//! every unambiguous figure of the file votes for a decimal point (`19.2`, `1,577.5`,
//! `2,871,300`) or a decimal comma (`464,8`, `1.577,5`, `1.265.000`). Ambiguous figures follow
//! a one-sided vote (with one note saying so); with no vote, or votes both ways, each ambiguous
//! figure is an `AMBIGUOUS_NUMBER` error asking for `decimal = "dot"` or `"comma"`.

use std::collections::{BTreeMap, BTreeSet};

use koshi_core::number::{Evidence, MissingMark, NumberError, NumberErrorKind, format_plain};

/// Why a value cell holds no figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum MissingKind {
    /// A mark the number parser knows (`–`, `..`, `x`, empty).
    Mark(MissingMark),
    /// Text the mapping lists under `[file] missing`.
    Declared,
}

#[derive(Default)]
struct MissingCount {
    cells: usize,
    spellings: BTreeMap<String, usize>,
    first: (usize, Option<usize>),
    columns: BTreeSet<usize>,
}

/// One figure such as `1,234`, kept until the end of the file decides it.
pub(crate) struct AmbiguousCell {
    pub row: usize,
    pub column: Option<usize>,
    /// Where the figure went, if it was stored.
    pub observation: Option<usize>,
    pub text: String,
    /// The reading with a decimal point (`1,234` → 1234, `1.234` → 1.234), stored meanwhile.
    pub dot: f64,
    /// The reading with a decimal comma.
    pub comma: f64,
}

#[derive(Default)]
struct Votes {
    cells: usize,
    example: Option<String>,
}

#[derive(Default)]
pub(crate) struct FigureTally {
    missing: BTreeMap<MissingKind, MissingCount>,
    dot: Votes,
    comma: Votes,
    ambiguous: Vec<AmbiguousCell>,
    /// Ambiguous figures of rows that are not stored (kept only to be reported), and those
    /// beyond [`MAX_UNSTORED`], counted only: memory stays bounded on a file of junk.
    unstored: usize,
    unstored_dropped: usize,
}

/// Ambiguous figures of unstored rows kept for their diagnostics (as many as are ever listed).
const MAX_UNSTORED: usize = 10_000;

/// A diagnostic the finishing step asks for: (code, row, column, message).
pub(crate) type Note = (&'static str, usize, Option<usize>, String);

/// What the end of the file decides.
#[derive(Default)]
pub(crate) struct Finished {
    /// Info notes: missing marks per kind, the decimal mark inferred.
    pub notes: Vec<Note>,
    /// Observation index → the value it takes and the printed text to keep.
    pub revalued: Vec<(usize, f64, String)>,
    /// Ambiguous figures nothing decides: the error, and the observation to flag if stored.
    pub unresolved: Vec<(Note, Option<usize>)>,
    /// Further undecided figures of unstored rows, counted only.
    pub unresolved_unlisted: usize,
}

impl FigureTally {
    pub fn missing(&mut self, kind: MissingKind, text: &str, row: usize, column: Option<usize>) {
        let count = self.missing.entry(kind).or_default();
        if count.cells == 0 {
            count.first = (row, column);
        }
        count.cells += 1;
        *count.spellings.entry(text.trim().to_string()).or_default() += 1;
        count.columns.extend(column);
    }

    /// Count what an unambiguous figure says about the decimal mark.
    pub fn evidence(&mut self, evidence: Evidence, text: &str) {
        let votes = match evidence {
            Evidence::DecimalDot => &mut self.dot,
            Evidence::DecimalComma => &mut self.comma,
            Evidence::NoSeparator | Evidence::Ambiguous => return,
        };
        votes.cells += 1;
        if votes.example.is_none() {
            votes.example = Some(text.trim().to_string());
        }
    }

    pub fn ambiguous(&mut self, cell: AmbiguousCell) {
        if cell.observation.is_none() {
            if self.unstored == MAX_UNSTORED {
                self.unstored_dropped += 1;
                return;
            }
            self.unstored += 1;
        }
        self.ambiguous.push(cell);
    }

    /// Notes on missing marks, and the fate of every ambiguous figure. `aggregate`: the figures
    /// are summed (a missing mark adds nothing) rather than stored one by one.
    pub fn finish(self, aggregate: bool, melted: bool) -> Finished {
        let mut out = Finished::default();
        for (kind, count) in &self.missing {
            let spellings = if count.spellings.len() == 1 {
                format!("`{}`", count.spellings.keys().next().map(String::as_str).unwrap_or(""))
            } else {
                let each: Vec<String> = count.spellings.iter().map(|(s, n)| format!("`{s}` {n}")).collect();
                format!("({})", each.join(", "))
            };
            let cells = if count.cells == 1 { "cell" } else { "cells" };
            let reading = match kind {
                MissingKind::Mark(m) => format!("read as {}", m.reading()),
                MissingKind::Declared => "declared missing by the mapping's [file] missing".to_string(),
            };
            let columns = if melted && count.columns.len() > 1 {
                format!(" in {} of the melted columns", count.columns.len())
            } else {
                String::new()
            };
            let stored = if aggregate { "left out of the sums" } else { "stored as missing" };
            let message = if *kind == MissingKind::Mark(MissingMark::Empty) {
                format!("{} empty {cells}{columns}, {stored}", count.cells)
            } else {
                format!("{} {cells} {spellings}{columns} {reading}, {stored}", count.cells)
            };
            out.notes.push(("MISSING_MARK", count.first.0, count.first.1, message));
        }

        let Some(first) = self.ambiguous.first() else { return out };
        let decided = match (self.dot.cells, self.comma.cells) {
            (d, 0) if d > 0 => Some('.'),
            (0, c) if c > 0 => Some(','),
            _ => None,
        };
        match decided {
            Some(mark) => {
                let (votes, name) =
                    if mark == '.' { (&self.dot, "a decimal point") } else { (&self.comma, "a decimal comma") };
                let example = votes.example.as_deref().unwrap_or("");
                let value = if mark == '.' { first.dot } else { first.comma };
                let n = self.ambiguous.len();
                let figures = if n == 1 { "figure" } else { "figures" };
                out.notes.push((
                    "DECIMAL_MARK_INFERRED",
                    first.row,
                    first.column,
                    format!(
                        "{n} {figures} such as `{}` could be read with a decimal point or a decimal comma; the file's \
                         other figures use {name} ({} such as `{example}`, none the other way), so they are read so \
                         (`{}` = {}); set decimal = \"{}\" in the mapping's [file] to say it explicitly",
                        first.text,
                        votes.cells,
                        first.text,
                        format_plain(value),
                        if mark == '.' { "dot" } else { "comma" },
                    ),
                ));
                if mark == ',' {
                    out.revalued
                        .extend(self.ambiguous.into_iter().filter_map(|c| Some((c.observation?, c.comma, c.text))));
                }
            }
            None => {
                out.unresolved_unlisted = self.unstored_dropped;
                let why = match (&self.dot.example, &self.comma.example) {
                    (Some(d), Some(c)) => format!(
                        "the file's other figures point both ways (`{d}` has a decimal point, `{c}` a decimal comma)"
                    ),
                    _ => "no other figure of the file shows which mark is decimal".to_string(),
                };
                for cell in self.ambiguous {
                    let (grouped, decimal) = if cell.text.contains('.') {
                        (format_plain(cell.comma), format_plain(cell.dot))
                    } else {
                        (format_plain(cell.dot), format_plain(cell.comma))
                    };
                    let sep = if cell.text.contains('.') { '.' } else { ',' };
                    let message = format!(
                        "`{}` is ambiguous: {grouped} if `{sep}` groups thousands, {decimal} if it is the decimal \
                         mark, and {why}; set decimal = \"dot\" or decimal = \"comma\" in the mapping's [file]",
                        cell.text.trim()
                    );
                    out.unresolved.push((("AMBIGUOUS_NUMBER", cell.row, cell.column, message), cell.observation));
                }
            }
        }
        out
    }
}

/// A number error as the ingest reports it: software non-numbers get the way to declare them.
pub(crate) fn number_error_message(e: &NumberError) -> String {
    match e.kind {
        NumberErrorKind::NotAFigure => format!(
            "{e}; if it means a missing value in this file, list it under [file] missing = [\"{}\"] in the mapping",
            e.text.trim()
        ),
        NumberErrorKind::Malformed | NumberErrorKind::OutOfRange => e.to_string(),
    }
}

/// An ambiguous figure where rows are summed as they are read: too late to wait for the evidence.
pub(crate) fn summed_ambiguous_message(text: &str, dot: f64, comma: f64) -> String {
    format!(
        "`{}` is ambiguous ({} or {}) and the rows are summed as they are read; set decimal = \"dot\" or \
         decimal = \"comma\" in the mapping's [file]",
        text.trim(),
        format_plain(dot),
        format_plain(comma)
    )
}

/// The unit code of percentages (`data/structure/dataflows.toml`).
pub(crate) const PERCENT_UNIT: &str = "PCT";

pub(crate) fn percent_in_level_message(text: &str, unit: &str) -> String {
    format!(
        "`{}` carries a percent sign but its unit is {}, not a percentage ({PERCENT_UNIT}): the figure would be \
         stored without its sign",
        text.trim(),
        if unit.is_empty() { "not given" } else { unit }
    )
}
