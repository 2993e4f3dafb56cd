//! Errors that stop a parse, and the diagnostics a parse returns beside its data.

use std::fmt;

use serde::Serialize;

use crate::isco::Lang;

/// A file that cannot be read at all: broken CSV, a missing column, no rows.
#[derive(Debug, thiserror::Error)]
pub enum LabourError {
    #[error("{file}: {source}")]
    Csv {
        file: String,
        #[source]
        source: csv::Error,
    },
    #[error("{file}: the header has no column `{column}`")]
    MissingColumn { file: String, column: &'static str },
    #[error("{file}: no rows")]
    Empty { file: String },
}

/// What is wrong with one row or line; the row is skipped or kept as the variant says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The code is not 1 to 4 digits, or its level does not match its length (row skipped).
    BadCode { code: String, level: String },
    /// A code seen before (row skipped).
    DuplicateCode { code: String },
    /// The parent column is not the code without its last digit (row skipped).
    ParentMismatch { code: String, parent: String },
    /// The parent is not in the structure (group kept).
    UnknownParent { code: String, parent: String },
    /// A code that is not in the structure (row skipped).
    UnknownCode { code: String },
    /// A lexicon code that is not a 4-digit unit group (line skipped).
    NotAUnitGroup { code: String },
    /// An empty title (kept as missing).
    MissingTitle { code: String, language: Lang },
    /// A translated title without its source (kept).
    MissingSource { code: String },
    /// A lexicon line that is not `CODE LANG: phrase; phrase` (skipped).
    MalformedLine { text: String },
    /// A lexicon language other than en, ru, kk (line skipped).
    UnknownLanguage { language: String },
    /// A phrase with no word left after normalisation (skipped).
    EmptyPhrase { code: String, phrase: String },
    /// The same words already propose another unit group (the later phrase is skipped).
    AmbiguousPhrase { phrase: String, kept: String, skipped: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::BadCode { code, level } => write!(f, "code `{code}` does not fit level `{level}`"),
            Problem::DuplicateCode { code } => write!(f, "code `{code}` appears twice"),
            Problem::ParentMismatch { code, parent } => {
                write!(f, "code `{code}` names parent `{parent}`, not its own prefix")
            }
            Problem::UnknownParent { code, parent } => {
                write!(f, "parent `{parent}` of `{code}` is not in the structure")
            }
            Problem::UnknownCode { code } => write!(f, "code `{code}` is not in the structure"),
            Problem::NotAUnitGroup { code } => write!(f, "code `{code}` is not a unit group"),
            Problem::MissingTitle { code, language } => write!(f, "code `{code}` has no {} title", language.code()),
            Problem::MissingSource { code } => write!(f, "code `{code}` has titles without a source"),
            Problem::MalformedLine { text } => write!(f, "line `{text}` is not `CODE LANG: phrase; phrase`"),
            Problem::UnknownLanguage { language } => write!(f, "language `{language}` is not en, ru or kk"),
            Problem::EmptyPhrase { code, phrase } => write!(f, "phrase `{phrase}` of `{code}` has no word left"),
            Problem::AmbiguousPhrase { phrase, kept, skipped } => {
                write!(f, "phrase `{phrase}` already proposes `{kept}`; not added to `{skipped}`")
            }
        }
    }
}

/// One problem, where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based line of the file.
    pub line: u64,
    pub problem: Problem,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.problem)
    }
}

/// Data read from text, with every problem met on the way.
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    pub value: T,
    pub diagnostics: Vec<Diagnostic>,
}
