//! Russian and Kazakh renderings of the English texts the bank stores with its figures:
//! definitions, notes and the messages of declared defects, from
//! `data/structure/translations.toml`; and the messages koshi itself writes (harmonisation
//! reasons, validation findings), rendered from their templates in each language.
//!
//! The bank keeps the English text as the figure's own; a translation is looked up by that
//! exact text, so a text without an entry stays English in every language.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::codelist::Labels;
use crate::reconcile::Reason;
use crate::validate::DefectMessage;

/// The translations file shipped with koshi: its path under `data/structure/` and its text.
pub fn standard_text() -> (&'static str, &'static str) {
    crate::catalogue::translations_text()
}

/// A translations file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslationsError {
    #[error("{file}, line {line}: {message}")]
    Syntax { file: String, line: usize, message: String },
    #[error("{file}, line {line}: {message}")]
    Entry { file: String, line: usize, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TranslationsFile {
    #[serde(default)]
    text: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    en: toml::Spanned<String>,
    ru: String,
    kk: String,
}

/// English text → its labels in English, Russian and Kazakh.
#[derive(Debug, Clone, Default)]
pub struct Translations {
    by_english: HashMap<String, Labels>,
}

/// The line (from 1) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

impl Translations {
    /// The translations compiled into koshi.
    pub fn standard() -> Result<Self, TranslationsError> {
        let (file, text) = standard_text();
        Self::parse(file, text)
    }

    /// The translations compiled into koshi, read once. A file that does not read (the unit
    /// tests make sure the shipped one does) gives no translations: every text stays English.
    pub fn shared() -> &'static Translations {
        static SHARED: OnceLock<Translations> = OnceLock::new();
        SHARED.get_or_init(|| Translations::standard().unwrap_or_default())
    }

    /// Read `[[text]]` entries with `en`, `ru` and `kk`. Every entry needs all three, none
    /// empty, and an English text may appear only once.
    pub fn parse(file: &str, text: &str) -> Result<Self, TranslationsError> {
        let parsed: TranslationsFile = toml::from_str(text).map_err(|e| TranslationsError::Syntax {
            file: file.to_string(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: e.message().to_string(),
        })?;
        let mut by_english: HashMap<String, Labels> = HashMap::with_capacity(parsed.text.len());
        let mut lines: HashMap<String, usize> = HashMap::with_capacity(parsed.text.len());
        for entry in parsed.text {
            let line = line_of(text, entry.en.span().start);
            let en = entry.en.into_inner();
            let invalid = |message: String| TranslationsError::Entry { file: file.to_string(), line, message };
            if en.trim().is_empty() {
                return Err(invalid("`en` is empty".into()));
            }
            for (lang, value) in [("ru", &entry.ru), ("kk", &entry.kk)] {
                if value.trim().is_empty() {
                    return Err(invalid(format!("`{lang}` is empty for \"{en}\"")));
                }
            }
            if let Some(first) = lines.get(&en) {
                return Err(invalid(format!("\"{en}\" is translated already at line {first}")));
            }
            lines.insert(en.clone(), line);
            by_english.insert(en.clone(), Labels { en, ru: entry.ru, kk: entry.kk });
        }
        Ok(Translations { by_english })
    }

    /// How many texts are translated.
    pub fn len(&self) -> usize {
        self.by_english.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_english.is_empty()
    }

    /// The English texts translated, in no particular order.
    pub fn english_texts(&self) -> impl Iterator<Item = &str> {
        self.by_english.keys().map(String::as_str)
    }

    /// The labels of a stored text, if it is translated.
    pub fn labels(&self, english: &str) -> Option<Labels> {
        self.by_english.get(english).cloned()
    }

    /// The labels of a stored text; English in all three languages when it is not translated.
    pub fn labels_or_english(&self, english: &str) -> Labels {
        self.labels(english).unwrap_or_else(|| untranslated(english))
    }

    /// A harmonisation reason ([`crate::reconcile::choose`]'s English text) in the three
    /// languages, if it reads as one of the reasons koshi gives.
    pub fn reason_labels(&self, english: &str) -> Option<Labels> {
        Reason::parse(english).map(|r| r.labels())
    }

    /// A defect message in the three languages: a validation rule's message (with the
    /// definition it names translated), a defect declared by a source file (with the
    /// figure's note translated), or a message of the catalogue. Parts of a message that
    /// have no translation stay English; `None` when the message is none of these.
    pub fn message_labels(&self, rule: &str, english: &str) -> Option<Labels> {
        if let Some(labels) = self.labels(english) {
            return Some(labels);
        }
        DefectMessage::parse(rule, english).map(|m| m.labels(&|text: &str| self.labels_or_english(text)))
    }
}

/// English in all three languages: what a text without a translation shows.
pub fn untranslated(english: &str) -> Labels {
    Labels { en: english.to_string(), ru: english.to_string(), kk: english.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_translations_parse_with_every_text_in_three_languages() {
        let (file, text) = standard_text();
        let t = Translations::standard().unwrap_or_else(|e| panic!("{e}"));
        assert!(t.len() >= 100, "{} texts in {file}", t.len());
        // No duplicates: the parser refuses them, and the entries all arrived.
        let entries = text.lines().filter(|l| l.trim() == "[[text]]").count();
        assert_eq!(entries, t.len(), "{file}: every [[text]] is a distinct English text");
        for en in t.english_texts() {
            let labels = t.labels(en).unwrap();
            assert_eq!(labels.en, en);
            for (lang, value) in [("ru", &labels.ru), ("kk", &labels.kk)] {
                assert!(!value.trim().is_empty(), "{file}: no {lang} for \"{en}\"");
                assert_eq!(value.trim(), value, "{file}: {lang} of \"{en}\" has surrounding blanks");
            }
        }
    }

    #[test]
    fn duplicates_and_empty_translations_are_refused_with_their_line() {
        let dup = "[[text]]\nen = \"a\"\nru = \"б\"\nkk = \"ә\"\n\n[[text]]\nen = \"a\"\nru = \"в\"\nkk = \"г\"\n";
        let e = Translations::parse("t.toml", dup).unwrap_err();
        assert_eq!(
            e,
            TranslationsError::Entry {
                file: "t.toml".into(),
                line: 7,
                message: "\"a\" is translated already at line 2".into()
            }
        );
        let empty = "[[text]]\nen = \"a\"\nru = \"\"\nkk = \"ә\"\n";
        let e = Translations::parse("t.toml", empty).unwrap_err().to_string();
        assert_eq!(e, "t.toml, line 2: `ru` is empty for \"a\"");
        let missing = "[[text]]\nen = \"a\"\nru = \"б\"\n";
        let e = Translations::parse("t.toml", missing).unwrap_err();
        assert!(matches!(e, TranslationsError::Syntax { line: 1, .. }), "{e}");
        assert!(e.to_string().contains("kk"), "{e}");
        let unknown = "[[text]]\nen = \"a\"\nru = \"б\"\nkk = \"ә\"\nde = \"x\"\n";
        let e = Translations::parse("t.toml", unknown).unwrap_err();
        assert!(matches!(e, TranslationsError::Syntax { line: 5, .. }), "{e}");
    }

    #[test]
    fn an_untranslated_text_is_english_in_every_language() {
        let t = Translations::parse("t.toml", "").unwrap();
        assert!(t.labels("x").is_none());
        assert_eq!(t.labels_or_english("x"), Labels { en: "x".into(), ru: "x".into(), kk: "x".into() });
    }

    #[test]
    fn messages_are_rendered_with_their_parts_translated() {
        let t = Translations::parse("t.toml", "[[text]]\nen = \"a note\"\nru = \"примечание\"\nkk = \"ескертпе\"\n")
            .unwrap();
        let declared = t.message_labels("OTHER", "declared by the source file: OTHER — a note").unwrap();
        assert_eq!(declared.ru, "заявлено в файле источника: OTHER — примечание");
        assert_eq!(declared.kk, "дереккөз файлында мәлімделген: OTHER — ескертпе");
        let reason = t.reason_labels("only source: KZ_BNS").unwrap();
        assert_eq!(reason.ru, "единственный источник: KZ_BNS");
        assert!(t.message_labels("OTHER", "something else").is_none());
        assert!(t.reason_labels("something else").is_none());
    }
}
