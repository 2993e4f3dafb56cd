//! The ISCO-08 structure: 10 major, 43 sub-major, 130 minor and 436 unit groups with English titles,
//! and Russian and Kazakh titles where the project has them.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::{Diagnostic, LabourError, Parsed, Problem};

/// The bundled structure (ILO titles, compiled by Ben Jann's `crosswalk`, MIT).
pub const STRUCTURE_CSV: &str = include_str!("../../../data/labour/isco08/isco08_structure_en.csv");
/// The bundled Russian and Kazakh titles, each row with its source.
pub const TITLES_CSV: &str = include_str!("../../../data/labour/isco08/titles_ru_kk.csv");

const STRUCTURE_FILE: &str = "isco08_structure_en.csv";
const TITLES_FILE: &str = "titles_ru_kk.csv";

/// A level of the classification, named by its number of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Major = 1,
    SubMajor = 2,
    Minor = 3,
    Unit = 4,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Major, Level::SubMajor, Level::Minor, Level::Unit];

    /// Number of digits of a code at this level.
    pub fn digits(self) -> usize {
        self as usize
    }

    pub fn from_digits(digits: usize) -> Option<Level> {
        Level::ALL.get(digits.checked_sub(1)?).copied()
    }

    /// The name the ILO uses: major, sub-major, minor, unit.
    pub fn name(self) -> &'static str {
        match self {
            Level::Major => "major",
            Level::SubMajor => "sub-major",
            Level::Minor => "minor",
            Level::Unit => "unit",
        }
    }
}

/// A language of titles and job texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Ru,
    Kk,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
            Lang::Kk => "kk",
        }
    }

    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim() {
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            "kk" => Some(Lang::Kk),
            _ => None,
        }
    }
}

/// One group of the classification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Digits as text: "0110" keeps its leading zero.
    pub code: String,
    pub level: Level,
    pub parent: Option<String>,
    pub title_en: String,
    pub title_ru: Option<String>,
    pub title_kk: Option<String>,
    /// Where the Russian and Kazakh titles come from.
    pub title_source: Option<String>,
}

impl Group {
    /// The title in a language, or the English one where that language has none.
    pub fn title(&self, lang: Lang) -> &str {
        let translated = match lang {
            Lang::En => None,
            Lang::Ru => self.title_ru.as_deref(),
            Lang::Kk => self.title_kk.as_deref(),
        };
        translated.unwrap_or(&self.title_en)
    }
}

/// The classification: groups in file order, found by code.
#[derive(Debug, Clone)]
pub struct Isco {
    groups: Vec<Group>,
    index: HashMap<String, usize>,
}

fn column(headers: &csv::StringRecord, name: &'static str, file: &str) -> Result<usize, LabourError> {
    headers
        .iter()
        .position(|h| h.trim() == name)
        .ok_or_else(|| LabourError::MissingColumn { file: file.to_string(), column: name })
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes())
}

fn csv_error(file: &'static str) -> impl Fn(csv::Error) -> LabourError {
    move |source| LabourError::Csv { file: file.to_string(), source }
}

fn line_of(record: &csv::StringRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}

impl Isco {
    /// The structure and titles compiled into the crate.
    pub fn bundled() -> Result<Parsed<Isco>, LabourError> {
        Isco::parse(STRUCTURE_CSV, TITLES_CSV)
    }

    /// Reads the structure (`code, level, parent_code, title_en`; other columns ignored) and the
    /// translated titles (`code, title_ru, title_kk, source`).
    pub fn parse(structure_csv: &str, titles_csv: &str) -> Result<Parsed<Isco>, LabourError> {
        let mut diagnostics = Vec::new();
        let mut isco = Isco { groups: Vec::new(), index: HashMap::new() };

        let mut rdr = reader(structure_csv);
        let headers = rdr.headers().map_err(csv_error(STRUCTURE_FILE))?.clone();
        let (c_code, c_level, c_parent, c_title) = (
            column(&headers, "code", STRUCTURE_FILE)?,
            column(&headers, "level", STRUCTURE_FILE)?,
            column(&headers, "parent_code", STRUCTURE_FILE)?,
            column(&headers, "title_en", STRUCTURE_FILE)?,
        );
        for record in rdr.records() {
            let record = record.map_err(csv_error(STRUCTURE_FILE))?;
            let line = line_of(&record);
            let field = |i: usize| record.get(i).unwrap_or("").to_string();
            let (code, level_text, parent, title) = (field(c_code), field(c_level), field(c_parent), field(c_title));
            let mut report = |problem| diagnostics.push(Diagnostic { file: STRUCTURE_FILE.into(), line, problem });
            let level = level_text.parse::<usize>().ok().and_then(Level::from_digits);
            let level = match level {
                Some(level) if code.len() == level.digits() && code.bytes().all(|b| b.is_ascii_digit()) => level,
                _ => {
                    report(Problem::BadCode { code, level: level_text });
                    continue;
                }
            };
            if isco.index.contains_key(&code) {
                report(Problem::DuplicateCode { code });
                continue;
            }
            let parent = if level == Level::Major {
                None
            } else {
                let own = &code[..code.len() - 1];
                if parent != own {
                    report(Problem::ParentMismatch { code, parent });
                    continue;
                }
                Some(parent)
            };
            if title.is_empty() {
                report(Problem::MissingTitle { code: code.clone(), language: Lang::En });
            }
            isco.index.insert(code.clone(), isco.groups.len());
            isco.groups.push(Group {
                code,
                level,
                parent,
                title_en: title,
                title_ru: None,
                title_kk: None,
                title_source: None,
            });
        }
        if isco.groups.is_empty() {
            return Err(LabourError::Empty { file: STRUCTURE_FILE.into() });
        }
        for group in &isco.groups {
            if let Some(parent) = &group.parent
                && !isco.index.contains_key(parent)
            {
                let problem = Problem::UnknownParent { code: group.code.clone(), parent: parent.clone() };
                diagnostics.push(Diagnostic { file: STRUCTURE_FILE.into(), line: 0, problem });
            }
        }

        let mut rdr = reader(titles_csv);
        let headers = rdr.headers().map_err(csv_error(TITLES_FILE))?.clone();
        let (c_code, c_ru, c_kk, c_source) = (
            column(&headers, "code", TITLES_FILE)?,
            column(&headers, "title_ru", TITLES_FILE)?,
            column(&headers, "title_kk", TITLES_FILE)?,
            column(&headers, "source", TITLES_FILE)?,
        );
        for record in rdr.records() {
            let record = record.map_err(csv_error(TITLES_FILE))?;
            let line = line_of(&record);
            let field = |i: usize| Some(record.get(i).unwrap_or("").to_string()).filter(|s| !s.is_empty());
            let code = field(c_code).unwrap_or_default();
            let mut report = |problem| diagnostics.push(Diagnostic { file: TITLES_FILE.into(), line, problem });
            let Some(&at) = isco.index.get(&code) else {
                report(Problem::UnknownCode { code });
                continue;
            };
            let (ru, kk, source) = (field(c_ru), field(c_kk), field(c_source));
            if ru.is_none() {
                report(Problem::MissingTitle { code: code.clone(), language: Lang::Ru });
            }
            if kk.is_none() {
                report(Problem::MissingTitle { code: code.clone(), language: Lang::Kk });
            }
            if source.is_none() {
                report(Problem::MissingSource { code });
            }
            let group = &mut isco.groups[at];
            group.title_ru = ru;
            group.title_kk = kk;
            group.title_source = source;
        }
        Ok(Parsed { value: isco, diagnostics })
    }

    pub fn get(&self, code: &str) -> Option<&Group> {
        self.index.get(code).map(|&i| &self.groups[i])
    }

    /// Every group, in the order of the structure file (each parent before its children).
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    pub fn at_level(&self, level: Level) -> impl Iterator<Item = &Group> {
        self.groups.iter().filter(move |g| g.level == level)
    }

    pub fn count(&self, level: Level) -> usize {
        self.at_level(level).count()
    }

    pub fn parent(&self, code: &str) -> Option<&Group> {
        self.get(code)?.parent.as_deref().and_then(|p| self.get(p))
    }

    /// The title of a code in a language (English where the language has none).
    pub fn title(&self, code: &str, lang: Lang) -> Option<&str> {
        self.get(code).map(|g| g.title(lang))
    }
}
