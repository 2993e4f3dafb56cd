//! The occupation lexicon: job titles as vacancies write them, each proposing a unit group.

use crate::error::{Diagnostic, Parsed, Problem};
use crate::isco::Lang;

/// The bundled lexicon (written by the project, see `data/labour/isco08/README.md`).
pub const LEXICON_TXT: &str = include_str!("../../../data/labour/isco08/lexicon.txt");

const LEXICON_FILE: &str = "lexicon.txt";

/// One phrase of the lexicon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The unit group the phrase proposes.
    pub code: String,
    pub lang: Lang,
    pub phrase: String,
    /// A generic phrase ("manager"): it proposes its code with a low confidence.
    pub weak: bool,
    /// 1-based line in the lexicon file.
    pub line: u64,
}

/// The phrases of a lexicon file, in file order.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    pub entries: Vec<Entry>,
}

impl Lexicon {
    pub fn bundled() -> Parsed<Lexicon> {
        Lexicon::parse(LEXICON_TXT)
    }

    /// Reads lines `CODE LANG: phrase; phrase; ~phrase`; a line starting with `#` is a comment. Whether a code
    /// exists is checked when a coder is built from the lexicon and a structure.
    pub fn parse(text: &str) -> Parsed<Lexicon> {
        let mut entries = Vec::new();
        let mut diagnostics = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = n as u64 + 1;
            let content = raw.trim();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let mut report = |problem| diagnostics.push(Diagnostic { file: LEXICON_FILE.into(), line, problem });
            let Some((head, phrases)) = content.split_once(':') else {
                report(Problem::MalformedLine { text: content.to_string() });
                continue;
            };
            let mut head = head.split_whitespace();
            let (Some(code), Some(lang_text), None) = (head.next(), head.next(), head.next()) else {
                report(Problem::MalformedLine { text: content.to_string() });
                continue;
            };
            if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_digit()) {
                report(Problem::NotAUnitGroup { code: code.to_string() });
                continue;
            }
            let Some(lang) = Lang::parse(lang_text) else {
                report(Problem::UnknownLanguage { language: lang_text.to_string() });
                continue;
            };
            for phrase in phrases.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                let (weak, phrase) = match phrase.strip_prefix('~') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, phrase),
                };
                entries.push(Entry { code: code.to_string(), lang, phrase: phrase.to_string(), weak, line });
            }
        }
        Parsed { value: Lexicon { entries }, diagnostics }
    }
}
