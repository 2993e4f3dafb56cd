//! The regional vacancy database's use cases: employers and regional officers post vacancies and
//! change them, officers import employment centres' exports (CSV or XLSX through a mapping) and
//! job portals' pages (schema.org `JobPosting` JSON-LD), titles are coded on ISCO-08 with the
//! uncertain ones queued for the region's officers, postings of the same vacancy are joined, and
//! a vacancy that disappears from a full export is closed, never deleted. Every change is a new
//! state with the date it took effect; every write is one transaction with its audit entry.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use koshi_labour::dedup::{DedupConfig, deduplicate};
use koshi_labour::vacancy::{
    Bin, Currency, Date as LDate, Education, EducationLevel, EmploymentType, IscoCode, Kato, PayPeriod, Region, Wage,
    experience_months,
};
use koshi_labour::{Coder, REVIEW_THRESHOLD, Vacancy};
use koshi_registry::{CodingState, Role, SeekerCountRow, Tx, VacancyFilter, VacancyRow, VacancyState, VacancyStatus};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::RegistryService;
use super::auth::Actor;
use super::cases::{Page, audit, json, list_limit, not_found, parse_json, text_field};
use crate::error::{AppError, Result};

/// The source name of vacancies entered in the registry itself.
pub const REGISTRY_VACANCY_SOURCE: &str = "registry";
/// The most problems one import's error lists.
const MAX_LISTED_PROBLEMS: usize = 200;
/// The largest file one import reads.
pub const MAX_IMPORT_BYTES: usize = 64 << 20;

/// The bundled ISCO-08 coder, built once.
pub(crate) fn coder() -> Result<&'static Coder> {
    static CODER: OnceLock<std::result::Result<Coder, String>> = OnceLock::new();
    CODER
        .get_or_init(|| Coder::bundled().map(|p| p.value).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| AppError::Unanswerable(format!("the occupation coder's data do not read: {e}")))
}

// ---------------------------------------------------------------- records

/// A vacancy as the database keeps it (the `record` column), in plain values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VacancyRecord {
    pub source: String,
    pub source_id: String,
    pub url: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub employer_name: Option<String>,
    pub employer_bin: Option<String>,
    /// ISO 3166-2 code of the region (2022 layout).
    pub region: String,
    pub settlement: Option<String>,
    pub kato: Option<String>,
    /// ISCO-08 unit group.
    pub occupation: Option<String>,
    pub occupation_title: Option<String>,
    pub coding: CodingState,
    /// The coder's confidence in `occupation` when it proposed it.
    pub coding_confidence: Option<f64>,
    /// The coder's other proposals, best first.
    pub coding_alternatives: Vec<String>,
    pub education: Option<EducationLevel>,
    pub education_text: Option<String>,
    pub experience_months: Option<u32>,
    /// The wage offered for a month of full-time work.
    pub wage_min_month: Option<f64>,
    pub wage_max_month: Option<f64>,
    pub currency: Option<String>,
    pub openings: u32,
    pub employment_type: Vec<EmploymentType>,
    pub posted: String,
    pub valid_through: Option<String>,
    pub filled: Option<String>,
    pub closed: Option<String>,
    pub status: VacancyStatus,
}

impl VacancyRecord {
    fn ended(&self) -> Option<&str> {
        self.filled.as_deref().or(self.closed.as_deref())
    }

    /// The same vacancy as the labour crate's type, for deduplication.
    fn to_labour(&self) -> Option<Vacancy> {
        let posted = LDate::parse(&self.posted).ok()?;
        let mut v = Vacancy::new(&self.source, &self.source_id, &self.title, posted).ok()?;
        v.employer.name = self.employer_name.clone();
        v.employer.bin = self.employer_bin.as_deref().and_then(|b| Bin::parse(b).ok());
        v.region_code = Region::from_code(&self.region).ok();
        v.settlement = self.settlement.clone();
        v.kato = self.kato.as_deref().and_then(|k| Kato::parse(k).ok());
        v.occupation = self.occupation.as_deref().and_then(|o| IscoCode::parse(o).ok());
        v.openings = Some(self.openings);
        v.valid_through = self.valid_through.as_deref().and_then(|d| LDate::parse(d).ok());
        if self.wage_min_month.is_some() || self.wage_max_month.is_some() {
            v.wage = Wage::new(
                self.wage_min_month,
                self.wage_max_month,
                self.currency.as_deref().and_then(|c| Currency::parse(c).ok()),
                Some(PayPeriod::Month),
            )
            .ok();
        }
        Some(v)
    }
}

/// A vacancy as listings show it.
#[derive(Debug, Clone, Serialize)]
pub struct VacancyView {
    pub id: i64,
    pub status: VacancyStatus,
    pub coding: CodingState,
    /// The vacancy this posting repeats, when it is a repeat.
    pub duplicate_of: Option<i64>,
    /// The registered employer who posted it here.
    pub employer: Option<i64>,
    pub region_name: RegionName,
    pub record: VacancyRecord,
    /// How many states it has had.
    pub states: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegionName {
    pub en: &'static str,
    pub ru: &'static str,
    pub kk: &'static str,
}

fn region_name(code: &str) -> RegionName {
    match Region::from_code(code) {
        Ok(r) => RegionName { en: r.name_en(), ru: r.name_ru(), kk: r.name_kk() },
        Err(_) => RegionName { en: "", ru: "", kk: "" },
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VacancyStateView {
    pub seq: i64,
    pub as_of: String,
    pub at: i64,
    /// Who made the change: shown to those who may change the vacancy, not to the public.
    pub actor: Option<String>,
    pub change: String,
    pub record: VacancyRecord,
}

#[derive(Debug, Clone, Serialize)]
pub struct VacancyDetail {
    pub vacancy: VacancyView,
    pub history: Vec<VacancyStateView>,
}

fn vacancy_view(row: &VacancyRow) -> Result<VacancyView> {
    Ok(VacancyView {
        id: row.id,
        status: row.status,
        coding: row.coding,
        duplicate_of: row.duplicate_of,
        employer: row.employer,
        region_name: region_name(&row.region),
        record: parse_json("vacancy", &row.record)?,
        states: row.state_seq,
        updated_at: row.updated_at,
    })
}

// ---------------------------------------------------------------- requests

/// A vacancy entered by an employer or a regional officer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VacancyInput {
    pub title: String,
    pub description: Option<String>,
    /// The employer's name and BIN; an employer's own are taken from its record.
    pub employer_name: Option<String>,
    pub employer_bin: Option<String>,
    /// ISO 3166-2 code (`KZ-ALA`) or a region's name.
    pub region: String,
    pub settlement: Option<String>,
    pub kato: Option<String>,
    /// ISCO-08 unit group; coded from the title when not given.
    pub occupation: Option<String>,
    pub education: Option<String>,
    pub experience: Option<String>,
    pub wage_min: Option<f64>,
    pub wage_max: Option<f64>,
    /// `month` (the default), `week`, `day` or `hour`.
    pub wage_period: Option<String>,
    pub openings: Option<u32>,
    /// The day it was posted (today when not given), ISO `YYYY-MM-DD`.
    pub posted: Option<String>,
    pub valid_through: Option<String>,
}

/// A change to a vacancy: filled, closed, reopened, or its terms.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VacancyChange {
    pub status: Option<VacancyStatus>,
    /// The day the change took effect (today when not given).
    pub as_of: Option<String>,
    pub openings: Option<u32>,
    pub valid_through: Option<String>,
    pub wage_min: Option<f64>,
    pub wage_max: Option<f64>,
}

/// A search of the vacancies; public.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VacancySearch {
    pub region: Option<String>,
    /// An ISCO-08 code of 1 to 4 digits.
    pub occupation: Option<String>,
    /// Words of the title, employer or settlement.
    pub q: Option<String>,
    pub status: Option<VacancyStatus>,
    pub coding: Option<CodingState>,
    /// Also list postings that repeat another (left out by default).
    pub with_duplicates: bool,
    pub after: Option<i64>,
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    /// A web page (or a JSON document) with schema.org `JobPosting` JSON-LD.
    #[default]
    Jsonld,
    /// A CSV, TSV or XLSX export read through a mapping.
    Table,
}

/// An import of one file of postings from one source.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VacancyImport {
    /// The source's name (`enbek-portal`, `centre-almaty`): postings are keyed by it and their id.
    pub source: String,
    pub file_name: String,
    pub format: ImportFormat,
    /// For a table: the mapping (TOML) saying which column holds what.
    pub mapping: Option<String>,
    /// The day the file shows (today when not given): the date of changes it brings.
    pub as_of: Option<String>,
    /// The file lists every open vacancy of the source: those it no longer lists are closed.
    pub snapshot: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub source: String,
    pub file_name: String,
    pub as_of: String,
    /// Postings read from the file.
    pub read: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Open vacancies of the source that a snapshot no longer lists, now closed.
    pub closed: usize,
    /// New postings found to repeat a vacancy already known (kept, marked as repeats).
    pub duplicates: usize,
    /// New postings whose occupation waits for an officer.
    pub to_review: usize,
    pub uncoded: usize,
    /// Values dropped or read with an assumption (the postings were kept).
    pub warnings: Vec<String>,
    /// The audit entry of the import.
    pub audit_seq: i64,
}

/// An officer's coding of a vacancy's occupation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub occupation: String,
}

/// Job seekers registered at the employment centres, as reported.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeekersRequest {
    pub source: String,
    pub rows: Vec<SeekerInput>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeekerInput {
    pub region: String,
    /// `_T` or an ISCO-08 code of 1 to 4 digits.
    #[serde(default = "total")]
    pub occupation: String,
    #[serde(default = "total")]
    pub education: String,
    /// `YYYY-MM`.
    pub month: String,
    pub seekers: i64,
}

fn total() -> String {
    "_T".to_string()
}

#[derive(Debug, Clone, Serialize)]
pub struct SeekersReport {
    pub rows: usize,
    /// Rows that replaced an earlier count.
    pub replaced: usize,
    pub audit_seq: i64,
}

// ---------------------------------------------------------------- a table export's mapping

/// Which column of an export holds what; see `data/labour/vacancies/centre_export.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableMapping {
    #[serde(default)]
    file: Option<koshi_ingest::mapping::FileSpec>,
    columns: MappedColumns,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappedColumns {
    source_id: String,
    title: String,
    region: Option<String>,
    kato: Option<String>,
    settlement: Option<String>,
    employer: Option<String>,
    bin: Option<String>,
    occupation: Option<String>,
    education: Option<String>,
    experience: Option<String>,
    wage_min: Option<String>,
    wage_max: Option<String>,
    openings: Option<String>,
    posted: String,
    valid_through: Option<String>,
    filled: Option<String>,
    closed: Option<String>,
    url: Option<String>,
}

/// One problem of an input, where it is.
#[derive(Debug, Clone)]
struct Problem {
    row: usize,
    column: String,
    message: String,
}

fn problems_error(file: &str, problems: &[Problem]) -> AppError {
    let mut listed: Vec<String> = problems
        .iter()
        .take(MAX_LISTED_PROBLEMS)
        .map(|p| {
            if p.column.is_empty() {
                format!("row {}: {}", p.row, p.message)
            } else {
                format!("row {}, column `{}`: {}", p.row, p.column, p.message)
            }
        })
        .collect();
    if problems.len() > MAX_LISTED_PROBLEMS {
        listed.push(format!("… and {} more", problems.len() - MAX_LISTED_PROBLEMS));
    }
    AppError::invalid(file, format!("{} problem(s), nothing was written: {}", problems.len(), listed.join("; ")))
}

/// `2024-03-05`, `2024-03-05T10:00:00+05:00` or `05.03.2024`.
fn parse_day(text: &str) -> std::result::Result<LDate, String> {
    let t = text.trim();
    if let [d, m, y] = t.split('.').collect::<Vec<_>>()[..]
        && d.len() <= 2
        && m.len() <= 2
        && y.len() == 4
    {
        let n = |s: &str| s.parse::<u16>().map_err(|_| format!("`{t}` is not a date"));
        let (d, m, y) = (n(d)?, n(m)?, n(y)?);
        return LDate::new(y, m as u8, d as u8).map_err(|e| e.to_string());
    }
    LDate::parse_date_or_datetime(t).map_err(|e| e.to_string())
}

/// A number as exports write them: `150 000`, `150000,50`, `150 000 ₸`.
fn parse_amount(text: &str) -> std::result::Result<f64, String> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{202f}' | '₸'))
        .collect::<String>()
        .replace(',', ".");
    let cleaned = cleaned.trim_end_matches("KZT").trim_end_matches("тг").trim_end_matches("тенге");
    match cleaned.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{}` is not an amount", text.trim())),
    }
}

pub(crate) fn parse_region(text: &str) -> std::result::Result<Region, String> {
    Region::from_code(text.trim())
        .ok()
        .or_else(|| Region::resolve(text))
        .ok_or_else(|| format!("`{}` is not a region of Kazakhstan (2022 layout) by code or name", text.trim()))
}

/// The postings of a file, each with its row, and every problem met.
type RowsRead = (Vec<(usize, Vacancy)>, Vec<Problem>);

/// Reads a table export into postings, with every problem at once.
fn read_table_postings(bytes: &[u8], file_name: &str, source: &str, mapping_text: &str) -> Result<RowsRead> {
    let mapping: TableMapping =
        toml::from_str(mapping_text).map_err(|e| AppError::invalid("mapping", e.message().to_string()))?;
    let spec = match mapping.file.clone() {
        Some(spec) => spec,
        None => toml::from_str::<koshi_ingest::mapping::FileSpec>(if file_name.ends_with(".xlsx") {
            "format = \"xlsx\""
        } else {
            "format = \"csv\""
        })
        .map_err(|e| AppError::invalid("mapping", e.message().to_string()))?,
    };
    struct Sink {
        columns: Vec<String>,
        rows: Vec<(usize, Vec<String>)>,
        ragged: Vec<Problem>,
    }
    impl koshi_ingest::table::RowSink for Sink {
        fn header(&mut self, header: &koshi_ingest::table::Header) -> bool {
            self.columns = header.columns.clone();
            true
        }
        fn row(&mut self, row_number: usize, cells: &[&str]) -> bool {
            self.rows.push((row_number, cells.iter().map(|c| c.to_string()).collect()));
            true
        }
        fn ragged_row(&mut self, ragged: &koshi_ingest::table::RaggedRow) -> bool {
            self.ragged.push(Problem { row: ragged.row_number, column: String::new(), message: ragged.message() });
            true
        }
    }
    let mut sink = Sink { columns: Vec::new(), rows: Vec::new(), ragged: Vec::new() };
    koshi_ingest::table::read_table(
        file_name,
        koshi_ingest::Input::Bytes(bytes),
        &spec,
        &koshi_ingest::table::TableLimits::DEFAULT,
        &mut sink,
    )
    .map_err(|e| AppError::invalid(file_name, e.to_string()))?;
    let c = &mapping.columns;
    let mut problems = sink.ragged;
    let index = |name: &Option<String>, problems: &mut Vec<Problem>| -> Option<usize> {
        let name = name.as_ref()?;
        let found = sink.columns.iter().position(|h| h.trim() == name.trim());
        if found.is_none() {
            problems.push(Problem {
                row: 1,
                column: name.clone(),
                message: format!("the header has no such column (it has: {})", sink.columns.join(", ")),
            });
        }
        found
    };
    let col_source_id = index(&Some(c.source_id.clone()), &mut problems);
    let col_title = index(&Some(c.title.clone()), &mut problems);
    let col_posted = index(&Some(c.posted.clone()), &mut problems);
    let col_region = index(&c.region, &mut problems);
    let col_kato = index(&c.kato, &mut problems);
    let col_settlement = index(&c.settlement, &mut problems);
    let col_employer = index(&c.employer, &mut problems);
    let col_bin = index(&c.bin, &mut problems);
    let col_occupation = index(&c.occupation, &mut problems);
    let col_education = index(&c.education, &mut problems);
    let col_experience = index(&c.experience, &mut problems);
    let col_wage_min = index(&c.wage_min, &mut problems);
    let col_wage_max = index(&c.wage_max, &mut problems);
    let col_openings = index(&c.openings, &mut problems);
    let col_valid = index(&c.valid_through, &mut problems);
    let col_filled = index(&c.filled, &mut problems);
    let col_closed = index(&c.closed, &mut problems);
    let col_url = index(&c.url, &mut problems);
    if c.region.is_none() && c.kato.is_none() {
        problems.push(Problem {
            row: 0,
            column: String::new(),
            message: "the mapping names neither a region nor a KATO column".into(),
        });
    }
    if !problems.is_empty() {
        return Ok((Vec::new(), problems));
    }
    let mut out = Vec::with_capacity(sink.rows.len());
    for (row, cells) in &sink.rows {
        let row = *row;
        let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).map(|s| s.trim()).filter(|s| !s.is_empty());
        let problems_before = problems.len();
        for (i, name) in [(col_source_id, &c.source_id), (col_title, &c.title), (col_posted, &c.posted)] {
            if cell(i).is_none() {
                problems.push(Problem {
                    row,
                    column: name.clone(),
                    message: "empty, and every posting needs it".into(),
                });
            }
        }
        // A row with a bad required value is still read to the end, so that all its problems
        // are reported at once; it is not kept.
        let placeholder = LDate::new(LDate::MIN_YEAR, 1, 1).map_err(|e| AppError::Unanswerable(e.to_string()))?;
        let posted = match cell(col_posted).map(parse_day) {
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                problems.push(Problem { row, column: c.posted.clone(), message: e });
                placeholder
            }
            None => placeholder,
        };
        let mut v =
            match Vacancy::new(source, cell(col_source_id).unwrap_or("?"), cell(col_title).unwrap_or("?"), posted) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(Problem { row, column: c.title.clone(), message: e.to_string() });
                    continue;
                }
            };
        let mut bad = |column: &Option<String>, message: String| {
            problems.push(Problem { row, column: column.clone().unwrap_or_default(), message })
        };
        if let Some(t) = cell(col_region) {
            match parse_region(t) {
                Ok(r) => v.region_code = Some(r),
                Err(e) => bad(&c.region, e),
            }
            v.region = Some(t.to_string());
        }
        if let Some(t) = cell(col_kato) {
            match Kato::parse(t) {
                Ok(k) => v.kato = Some(k),
                Err(e) => bad(&c.kato, e.to_string()),
            }
        }
        v.settlement = cell(col_settlement).map(str::to_string);
        v.employer.name = cell(col_employer).map(str::to_string);
        if let Some(t) = cell(col_bin) {
            match Bin::parse(t) {
                Ok(b) => v.employer.bin = Some(b),
                Err(e) => bad(&c.bin, e.to_string()),
            }
        }
        if let Some(t) = cell(col_occupation) {
            match IscoCode::parse(t) {
                Ok(o) => v.occupation = Some(o),
                Err(e) => bad(&c.occupation, e.to_string()),
            }
        }
        v.education = cell(col_education).map(Education::from_text);
        v.experience_months = cell(col_experience).and_then(experience_months);
        let mut amount = |i: Option<usize>, column: &Option<String>| match cell(i).map(parse_amount) {
            Some(Ok(a)) => Some(a),
            Some(Err(e)) => {
                problems.push(Problem { row, column: column.clone().unwrap_or_default(), message: e });
                None
            }
            None => None,
        };
        let (lo, hi) = (amount(col_wage_min, &c.wage_min), amount(col_wage_max, &c.wage_max));
        if lo.is_some() || hi.is_some() {
            match Wage::new(lo, hi, Some(Currency::KZT), Some(PayPeriod::Month)) {
                Ok(w) => v.wage = Some(w),
                Err(e) => problems.push(Problem {
                    row,
                    column: c.wage_min.clone().unwrap_or_default(),
                    message: e.to_string(),
                }),
            }
        }
        if let Some(t) = cell(col_openings) {
            match t.parse::<u32>() {
                Ok(n) if n > 0 => v.openings = Some(n),
                _ => problems.push(Problem {
                    row,
                    column: c.openings.clone().unwrap_or_default(),
                    message: format!("`{t}` is not a number of openings (a whole number above 0)"),
                }),
            }
        }
        for (i, column, slot) in [
            (col_valid, &c.valid_through, &mut v.valid_through),
            (col_filled, &c.filled, &mut v.filled),
            (col_closed, &c.closed, &mut v.closed),
        ] {
            if let Some(t) = cell(i) {
                match parse_day(t) {
                    Ok(d) => *slot = Some(d),
                    Err(e) => problems.push(Problem { row, column: column.clone().unwrap_or_default(), message: e }),
                }
            }
        }
        v.url = cell(col_url).map(str::to_string);
        if problems.len() == problems_before {
            out.push((row, v));
        }
    }
    Ok((out, problems))
}

// ---------------------------------------------------------------- from a posting to a record

/// Checks a posting and codes its occupation; the record, or what is wrong with it.
fn to_record(v: &Vacancy, today: LDate) -> std::result::Result<VacancyRecord, Vec<(String, String)>> {
    let mut problems: Vec<(String, String)> = Vec::new();
    let region = v.resolved_region();
    if region.is_none() {
        problems.push((
            "region".into(),
            "no region of Kazakhstan could be read from the region, KATO code or settlement".into(),
        ));
    }
    for e in v.inconsistencies() {
        problems.push(("dates".into(), e.to_string()));
    }
    if v.filled.is_some() && v.closed.is_some() {
        problems.push(("closed".into(), "a vacancy is either filled or closed, not both".into()));
    }
    if v.posted > today {
        problems.push(("posted".into(), format!("{} is after today ({today})", v.posted)));
    }
    let Some(region) = region else { return Err(problems) };
    if !problems.is_empty() {
        return Err(problems);
    }
    let (occupation, occupation_title, coding, confidence, alternatives) = match &v.occupation {
        Some(code) => (Some(code.as_str().to_string()), None, CodingState::Given, None, Vec::new()),
        None => match coder() {
            Ok(coder) => {
                let c = coder.code(&v.title);
                let state = match &c.code {
                    None => CodingState::Uncoded,
                    Some(_) if c.confidence >= REVIEW_THRESHOLD && !c.needs_review => CodingState::Auto,
                    Some(_) => CodingState::Review,
                };
                (
                    c.code.clone(),
                    c.title_en.clone(),
                    state,
                    Some(c.confidence),
                    c.alternatives.iter().map(|a| a.code.clone()).collect(),
                )
            }
            Err(_) => (None, None, CodingState::Uncoded, None, Vec::new()),
        },
    };
    let status = if v.filled.is_some() {
        VacancyStatus::Filled
    } else if v.closed.is_some() {
        VacancyStatus::Closed
    } else {
        VacancyStatus::Open
    };
    let (wage_min_month, wage_max_month) = match &v.wage {
        Some(w) => (w.monthly_min, w.monthly_max),
        None => (None, None),
    };
    Ok(VacancyRecord {
        source: v.source.clone(),
        source_id: v.source_id.clone(),
        url: v.url.clone(),
        title: v.title.clone(),
        description: v.description.as_ref().map(|d| d.as_str().to_string()),
        employer_name: v.employer.name.clone(),
        employer_bin: v.employer.bin.as_ref().map(|b| b.as_str().to_string()),
        region: region.as_str().to_string(),
        settlement: v.settlement.clone(),
        kato: v.kato.as_ref().map(|k| k.as_str().to_string()),
        occupation,
        occupation_title,
        coding,
        coding_confidence: confidence,
        coding_alternatives: alternatives,
        education: v.education.as_ref().and_then(|e| e.level),
        education_text: v.education.as_ref().map(|e| e.text.clone()),
        experience_months: v.experience_months,
        wage_min_month,
        wage_max_month,
        currency: v.wage.as_ref().and_then(|w| w.currency).map(|c| c.as_str().to_string()),
        openings: v.openings.unwrap_or(1).max(1),
        employment_type: v.employment_type.clone(),
        posted: v.posted.to_string(),
        valid_through: v.valid_through.map(|d| d.to_string()),
        filled: v.filled.map(|d| d.to_string()),
        closed: v.closed.map(|d| d.to_string()),
        status,
    })
}

fn search_text(r: &VacancyRecord) -> String {
    let mut s = r.title.to_lowercase();
    for part in [&r.employer_name, &r.settlement].into_iter().flatten() {
        s.push(' ');
        s.push_str(&part.to_lowercase());
    }
    s
}

fn new_row(record: &VacancyRecord, employer: Option<i64>, duplicate_of: Option<i64>, now: i64) -> Result<VacancyRow> {
    Ok(VacancyRow {
        id: 0,
        source: record.source.clone(),
        source_id: record.source_id.clone(),
        employer,
        region: record.region.clone(),
        occupation: record.occupation.clone(),
        coding: record.coding,
        title: record.title.clone(),
        search_text: search_text(record),
        posted: record.posted.clone(),
        ended: record.ended().map(str::to_string),
        status: record.status,
        openings: i64::from(record.openings),
        duplicate_of,
        record: json(record)?,
        state_seq: 1,
        created_at: now,
        updated_at: now,
        employer_bin: record.employer_bin.clone(),
        employer_name: Some(employer_name_key(record)),
    })
}

/// The employer's name as the repeat finder compares it (`""` for none).
fn employer_name_key(record: &VacancyRecord) -> String {
    record.employer_name.as_deref().map(koshi_labour::dedup::normalise_employer).unwrap_or_default()
}

/// The current row with `record` as its new content.
fn changed_row(old: &VacancyRow, record: &VacancyRecord, now: i64) -> Result<VacancyRow> {
    Ok(VacancyRow {
        region: record.region.clone(),
        occupation: record.occupation.clone(),
        coding: record.coding,
        title: record.title.clone(),
        search_text: search_text(record),
        posted: record.posted.clone(),
        ended: record.ended().map(str::to_string),
        status: record.status,
        openings: i64::from(record.openings),
        record: json(record)?,
        state_seq: old.state_seq + 1,
        updated_at: now,
        employer_bin: record.employer_bin.clone(),
        employer_name: Some(employer_name_key(record)),
        ..old.clone()
    })
}

/// What kind of change takes `old` to `new`.
fn change_name(old: &VacancyRecord, new: &VacancyRecord) -> &'static str {
    match (old.status, new.status) {
        (VacancyStatus::Open, VacancyStatus::Filled) => "filled",
        (VacancyStatus::Open, VacancyStatus::Closed) => "closed",
        (s, VacancyStatus::Open) if s != VacancyStatus::Open => "reopened",
        _ => "updated",
    }
}

fn state(as_of: &str, at: i64, actor: &Actor, change: &str, record: &VacancyRecord) -> Result<VacancyState> {
    Ok(VacancyState {
        vacancy: 0,
        seq: 0,
        as_of: as_of.to_string(),
        at,
        actor: actor.audit_name(),
        change: change.to_string(),
        record: json(record)?,
    })
}

pub(crate) fn to_labour_date(d: koshi_core::Date) -> Result<LDate> {
    LDate::parse(&d.to_string()).map_err(|e| AppError::Unanswerable(format!("today is out of range: {e}")))
}

fn day_field(field: &str, text: Option<&str>, today: LDate) -> Result<LDate> {
    match text {
        None => Ok(today),
        Some(t) => parse_day(t).map_err(|e| AppError::invalid(field, e)),
    }
}

/// Whether the actor may change vacancies of this employer (registered) in this region.
fn may_change(actor: &Actor, employer: Option<i64>, region: &str) -> bool {
    if actor.is_operator() {
        return true;
    }
    match &actor.user {
        Some(u) => match u.role {
            Role::Admin => true,
            Role::Officer => u.region.as_deref() == Some(region),
            Role::Employer => employer.is_some() && u.employer == employer,
            Role::Analyst => false,
        },
        None => false,
    }
}

fn random_id() -> Result<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Unanswerable(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

// ---------------------------------------------------------------- use cases

impl RegistryService {
    /// An employer (for itself) or a regional officer (in its region) posts a vacancy.
    pub fn post_vacancy(&self, actor: &Actor, input: &VacancyInput) -> Result<VacancyView> {
        actor.require(&[Role::Employer, Role::Officer, Role::Admin], "post vacancies")?;
        let now = self.now();
        let today = to_labour_date(self.today())?;
        let title = text_field("title", &input.title, koshi_labour::vacancy::MAX_TITLE_CHARS)?;
        let region = parse_region(&input.region).map_err(|e| AppError::invalid("region", e))?;
        let posted = day_field("posted", input.posted.as_deref(), today)?;
        let source_id = random_id()?;
        let mut v = Vacancy::new(REGISTRY_VACANCY_SOURCE, &source_id, &title, posted)
            .map_err(|e| AppError::invalid("title", e.to_string()))?;
        v.region_code = Some(region);
        v.settlement = input.settlement.as_deref().map(|s| text_field("settlement", s, 200)).transpose()?;
        v.kato = input
            .kato
            .as_deref()
            .map(|k| Kato::parse(k).map_err(|e| AppError::invalid("kato", e.to_string())))
            .transpose()?;
        v.occupation = input
            .occupation
            .as_deref()
            .map(|o| IscoCode::parse(o).map_err(|e| AppError::invalid("occupation", e.to_string())))
            .transpose()?;
        if let Some(o) = &v.occupation
            && coder()?.isco().get(o.as_str()).is_none()
        {
            return Err(AppError::invalid("occupation", format!("`{}` is not an ISCO-08 unit group", o.as_str())));
        }
        v.description = input.description.as_deref().map(|d| koshi_labour::vacancy::Description::new(d).0);
        v.education = input.education.as_deref().map(Education::from_text);
        v.experience_months = input.experience.as_deref().and_then(experience_months);
        if input.wage_min.is_some() || input.wage_max.is_some() {
            let period = match input.wage_period.as_deref() {
                None => PayPeriod::Month,
                Some(p) => PayPeriod::parse(p)
                    .ok_or_else(|| AppError::invalid("wage_period", format!("`{p}` is not a pay period")))?,
            };
            v.wage = Some(
                Wage::new(input.wage_min, input.wage_max, Some(Currency::KZT), Some(period))
                    .map_err(|e| AppError::invalid("wage_min", e.to_string()))?,
            );
        }
        v.openings = match input.openings {
            Some(0) => return Err(AppError::invalid("openings", "at least 1")),
            o => o,
        };
        v.valid_through = input
            .valid_through
            .as_deref()
            .map(|d| parse_day(d).map_err(|e| AppError::invalid("valid_through", e)))
            .transpose()?;
        self.store.write(&actor.scope(), |tx| {
            let mut employer_id = None;
            if let Some(u) = &actor.user
                && u.role == Role::Employer
            {
                let id = u.employer.ok_or_else(|| AppError::Forbidden("this user has no employer".into()))?;
                let e = tx.employer(id)?.ok_or_else(|| not_found("employer", id))?;
                v.employer.name = Some(e.name.clone());
                v.employer.bin = Bin::parse(&e.bin).ok();
                employer_id = Some(id);
            } else {
                v.employer.name =
                    input.employer_name.as_deref().map(|n| text_field("employer_name", n, 300)).transpose()?;
                v.employer.bin = input
                    .employer_bin
                    .as_deref()
                    .map(|b| Bin::parse(b).map_err(|e| AppError::invalid("employer_bin", e.to_string())))
                    .transpose()?;
            }
            if !may_change(actor, employer_id, region.as_str()) {
                return Err(AppError::Forbidden(format!(
                    "an officer posts vacancies in its own region, not {}",
                    region.as_str()
                )));
            }
            let record = to_record(&v, today).map_err(|p| {
                AppError::invalid(
                    p.first().map(|x| x.0.clone()).unwrap_or_default(),
                    p.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; "),
                )
            })?;
            let row = new_row(&record, employer_id, None, now)?;
            let st = state(&record.posted, now, actor, "posted", &record)?;
            let id = tx.insert_vacancy(&row, &st)?;
            audit(tx, actor, now, "post_vacancy", format!("vacancy/{id}"), None, Some(json(&record)?))?;
            let row = tx.vacancy(id, false)?.ok_or_else(|| not_found("vacancy", id))?;
            vacancy_view(&row)
        })
    }

    /// Fills, closes, reopens or changes the terms of a vacancy: a new state dated `as_of`.
    pub fn change_vacancy(&self, actor: &Actor, id: i64, change: &VacancyChange) -> Result<VacancyView> {
        actor.require(&[Role::Employer, Role::Officer, Role::Admin], "change vacancies")?;
        let now = self.now();
        let today = to_labour_date(self.today())?;
        let as_of = day_field("as_of", change.as_of.as_deref(), today)?;
        if as_of > today {
            return Err(AppError::invalid("as_of", format!("{as_of} is after today ({today})")));
        }
        self.store.write(&actor.scope(), |tx| {
            let row = tx.vacancy(id, true)?.ok_or_else(|| not_found("vacancy", id))?;
            if !may_change(actor, row.employer, &row.region) {
                return Err(not_found("vacancy", id));
            }
            let old: VacancyRecord = parse_json("vacancy", &row.record)?;
            let mut new = old.clone();
            if let Some(status) = change.status {
                let posted = LDate::parse(&old.posted).map_err(|e| AppError::Unanswerable(e.to_string()))?;
                if status != VacancyStatus::Open && as_of < posted {
                    return Err(AppError::invalid(
                        "as_of",
                        format!("{as_of} is before the vacancy was posted ({posted})"),
                    ));
                }
                new.status = status;
                new.filled = (status == VacancyStatus::Filled).then(|| as_of.to_string());
                new.closed = (status == VacancyStatus::Closed).then(|| as_of.to_string());
            }
            if let Some(n) = change.openings {
                if n == 0 {
                    return Err(AppError::invalid("openings", "at least 1; close the vacancy instead"));
                }
                new.openings = n;
            }
            if let Some(d) = &change.valid_through {
                new.valid_through = Some(parse_day(d).map_err(|e| AppError::invalid("valid_through", e))?.to_string());
            }
            if change.wage_min.is_some() || change.wage_max.is_some() {
                let w = Wage::new(change.wage_min, change.wage_max, Some(Currency::KZT), Some(PayPeriod::Month))
                    .map_err(|e| AppError::invalid("wage_min", e.to_string()))?;
                new.wage_min_month = w.monthly_min;
                new.wage_max_month = w.monthly_max;
            }
            if new == old {
                return vacancy_view(&row);
            }
            let next = changed_row(&row, &new, now)?;
            let name = change_name(&old, &new);
            if !tx.update_vacancy(&next, &state(&as_of.to_string(), now, actor, name, &new)?)? {
                return Err(AppError::Conflict(format!("vacancy {id} changed meanwhile; try again")));
            }
            audit(tx, actor, now, "change_vacancy", format!("vacancy/{id}"), Some(json(&old)?), Some(json(&new)?))?;
            vacancy_view(&next)
        })
    }

    /// Imports a file of postings from one source: new postings are added, known ones updated
    /// when they changed, repeats of known vacancies marked, and with `snapshot` the source's
    /// open vacancies the file no longer lists closed. All of it or nothing.
    pub fn import_vacancies(&self, actor: &Actor, request: &VacancyImport, bytes: &[u8]) -> Result<ImportReport> {
        actor.require(&[Role::Officer, Role::Admin], "import vacancies")?;
        let source = super::cases::code_field("source", &request.source)?;
        if source == REGISTRY_VACANCY_SOURCE {
            return Err(AppError::invalid(
                "source",
                "`registry` names the vacancies entered here; name the file's source",
            ));
        }
        if bytes.len() > MAX_IMPORT_BYTES {
            return Err(AppError::TooLarge(format!("{} is larger than {MAX_IMPORT_BYTES} bytes", request.file_name)));
        }
        let file = if request.file_name.trim().is_empty() { "upload".to_string() } else { request.file_name.clone() };
        let now = self.now();
        let today = to_labour_date(self.today())?;
        let as_of = day_field("as_of", request.as_of.as_deref(), today)?;
        let mut warnings = Vec::new();
        let (postings, mut problems): RowsRead = match request.format {
            ImportFormat::Jsonld => {
                let text =
                    std::str::from_utf8(bytes).map_err(|e| AppError::invalid(&file, format!("not UTF-8: {e}")))?;
                let parsed = koshi_labour::jsonld::parse_job_postings(text, &source);
                let mut problems = Vec::new();
                for d in &parsed.diagnostics {
                    match d.severity {
                        koshi_labour::jsonld::Severity::Error => {
                            problems.push(Problem { row: d.line, column: d.field.clone(), message: d.to_string() })
                        }
                        koshi_labour::jsonld::Severity::Warning => {
                            if warnings.len() < MAX_LISTED_PROBLEMS {
                                warnings.push(format!("line {}: {d}", d.line));
                            }
                        }
                    }
                }
                (parsed.postings.into_iter().enumerate().map(|(i, v)| (i + 1, v)).collect(), problems)
            }
            ImportFormat::Table => {
                let mapping = request.mapping.as_deref().ok_or_else(|| {
                    AppError::invalid("mapping", "a table needs a mapping saying which column holds what")
                })?;
                read_table_postings(bytes, &file, &source, mapping)?
            }
        };
        let officer_region = actor.user.as_ref().filter(|u| u.role == Role::Officer).and_then(|u| u.region.clone());
        let mut records = Vec::with_capacity(postings.len());
        let mut seen = HashSet::new();
        for (row, v) in &postings {
            if !seen.insert(v.source_id.clone()) {
                problems.push(Problem {
                    row: *row,
                    column: "source_id".into(),
                    message: format!("`{}` appears twice in the file", v.source_id),
                });
                continue;
            }
            match to_record(v, today) {
                Ok(r) => {
                    if let Some(region) = &officer_region
                        && &r.region != region
                    {
                        problems.push(Problem {
                            row: *row,
                            column: "region".into(),
                            message: format!("{} is not the officer's region ({region})", r.region),
                        });
                        continue;
                    }
                    records.push((*row, v.clone(), r));
                }
                Err(ps) => {
                    problems.extend(ps.into_iter().map(|(column, message)| Problem { row: *row, column, message }))
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems_error(&file, &problems));
        }
        if records.is_empty() && !request.snapshot {
            return Err(AppError::invalid(&file, "no job postings in the file"));
        }
        let digest = sha2::Sha256::digest(bytes);
        let file_hash: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.store.write(&actor.scope(), |tx| {
            let mut report = ImportReport {
                source: source.clone(),
                file_name: file.clone(),
                as_of: as_of.to_string(),
                read: records.len(),
                warnings: warnings.clone(),
                ..ImportReport::default()
            };
            let mut fresh = Vec::new();
            for (_, v, record) in &records {
                match tx.vacancy_by_source(&source, &v.source_id)? {
                    Some(old_row) => {
                        let old: VacancyRecord = parse_json("vacancy", &old_row.record)?;
                        let mut new = record.clone();
                        // An officer's coding outlives the source's next export.
                        if matches!(old.coding, CodingState::Confirmed) && new.coding != CodingState::Given {
                            new.occupation = old.occupation.clone();
                            new.occupation_title = old.occupation_title.clone();
                            new.coding = old.coding;
                            new.coding_confidence = old.coding_confidence;
                            new.coding_alternatives = old.coding_alternatives.clone();
                        }
                        if new == old {
                            report.unchanged += 1;
                            continue;
                        }
                        let next = changed_row(&old_row, &new, now)?;
                        let name = change_name(&old, &new);
                        let at = new.ended().map(str::to_string).unwrap_or_else(|| as_of.to_string());
                        if !tx.update_vacancy(&next, &state(&at, now, actor, name, &new)?)? {
                            return Err(AppError::Conflict(format!(
                                "vacancy {} changed meanwhile; import again",
                                old_row.id
                            )));
                        }
                        report.updated += 1;
                    }
                    None => fresh.push((v, record)),
                }
            }
            // Repeats of vacancies already known (from other sources) or within the file.
            let duplicates = find_repeats(tx, &fresh)?;
            let mut ids: Vec<i64> = Vec::with_capacity(fresh.len());
            for (i, (_, record)) in fresh.iter().enumerate() {
                let duplicate_of = match duplicates[i] {
                    Some(Repeat::Known(id)) => Some(id),
                    Some(Repeat::InFile(j)) if j < i => Some(ids[j]),
                    _ => None,
                };
                if duplicate_of.is_some() {
                    report.duplicates += 1;
                }
                match record.coding {
                    CodingState::Review => report.to_review += 1,
                    CodingState::Uncoded => report.uncoded += 1,
                    _ => {}
                }
                let row = new_row(record, None, duplicate_of, now)?;
                let change = if duplicate_of.is_some() { "posted (repeat)" } else { "posted" };
                let id = tx.insert_vacancy(&row, &state(&record.posted, now, actor, change, record)?)?;
                ids.push(id);
                report.inserted += 1;
            }
            if request.snapshot {
                let listed: HashSet<&str> = records.iter().map(|(_, v, _)| v.source_id.as_str()).collect();
                let mut after = 0;
                loop {
                    let open = tx.open_vacancies_of_source(&source, after, 5_000)?;
                    let Some(last) = open.last() else { break };
                    after = last.id;
                    for old_row in &open {
                        if listed.contains(old_row.source_id.as_str()) || ids.contains(&old_row.id) {
                            continue;
                        }
                        if let Some(region) = &officer_region
                            && &old_row.region != region
                        {
                            continue;
                        }
                        let old: VacancyRecord = parse_json("vacancy", &old_row.record)?;
                        let mut new = old.clone();
                        new.status = VacancyStatus::Closed;
                        new.closed = Some(as_of.to_string());
                        let next = changed_row(old_row, &new, now)?;
                        if !tx.update_vacancy(&next, &state(&as_of.to_string(), now, actor, "disappeared", &new)?)? {
                            return Err(AppError::Conflict(format!(
                                "vacancy {} changed meanwhile; import again",
                                old_row.id
                            )));
                        }
                        report.closed += 1;
                    }
                }
            }
            let summary = serde_json::json!({
                "file": file, "sha256": file_hash, "as_of": report.as_of, "read": report.read,
                "inserted": report.inserted, "updated": report.updated, "unchanged": report.unchanged,
                "closed": report.closed, "duplicates": report.duplicates, "to_review": report.to_review,
            });
            let entry =
                audit(tx, actor, now, "import_vacancies", format!("source/{source}"), None, Some(json(&summary)?))?;
            report.audit_seq = entry.seq;
            Ok(report)
        })
    }

    /// Vacancies by region, occupation and words; public (measure 21: awareness of openings).
    pub fn vacancies(&self, actor: &Actor, search: &VacancySearch) -> Result<Page<VacancyView>> {
        let limit = list_limit(search.limit)?;
        let region = match &search.region {
            Some(r) if !r.trim().is_empty() => {
                Some(parse_region(r).map_err(|e| AppError::invalid("region", e))?.as_str().to_string())
            }
            _ => None,
        };
        let occupation = match &search.occupation {
            Some(o) if !o.trim().is_empty() => {
                let o = o.trim();
                if o.len() > 4 || !o.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(AppError::invalid(
                        "occupation",
                        format!("`{o}` is not an ISCO-08 code of 1 to 4 digits"),
                    ));
                }
                Some(o.to_string())
            }
            _ => None,
        };
        let words: Vec<String> = search
            .q
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .filter(|w| !w.is_empty())
            .take(8)
            .collect();
        if words.iter().any(|w| w.chars().count() > 100) {
            return Err(AppError::invalid("q", "words of at most 100 characters"));
        }
        let filter = VacancyFilter {
            region,
            occupation,
            status: search.status,
            coding: search.coding,
            employer: None,
            words,
            unique_only: !search.with_duplicates,
            after: search.after,
            limit: limit + 1,
        };
        let rows = self.store.read(&actor.scope(), |tx| Ok::<_, AppError>(tx.vacancies(&filter)?))?;
        let more = rows.len() > limit;
        let items = rows.iter().take(limit).map(vacancy_view).collect::<Result<Vec<_>>>()?;
        let next_after = if more { items.last().map(|v| v.id) } else { None };
        Ok(Page { items, next_after })
    }

    /// One vacancy with every state it has had.
    pub fn vacancy(&self, actor: &Actor, id: i64) -> Result<VacancyDetail> {
        self.store.read(&actor.scope(), |tx| {
            let row = tx.vacancy(id, false)?.ok_or_else(|| not_found("vacancy", id))?;
            let show_actor = may_change(actor, row.employer, &row.region);
            let history = tx
                .vacancy_states(id, 1_000)?
                .into_iter()
                .map(|s| {
                    Ok(VacancyStateView {
                        seq: s.seq,
                        as_of: s.as_of,
                        at: s.at,
                        actor: show_actor.then_some(s.actor),
                        change: s.change,
                        record: parse_json("vacancy state", &s.record)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(VacancyDetail { vacancy: vacancy_view(&row)?, history })
        })
    }

    /// The vacancies of the officer's region whose occupation waits for a person.
    pub fn coding_queue(&self, actor: &Actor, after: Option<i64>, limit: Option<usize>) -> Result<Page<VacancyView>> {
        actor.require(&[Role::Officer, Role::Admin], "review occupation codes")?;
        let region = actor.user.as_ref().filter(|u| u.role == Role::Officer).and_then(|u| u.region.clone());
        self.vacancies(
            actor,
            &VacancySearch {
                region,
                coding: Some(CodingState::Review),
                with_duplicates: true,
                after,
                limit,
                ..VacancySearch::default()
            },
        )
    }

    /// An officer confirms or corrects a vacancy's occupation.
    pub fn code_vacancy(&self, actor: &Actor, id: i64, request: &CodeRequest) -> Result<VacancyView> {
        actor.require(&[Role::Officer, Role::Admin], "code occupations")?;
        let code =
            IscoCode::parse(request.occupation.trim()).map_err(|e| AppError::invalid("occupation", e.to_string()))?;
        let group = coder()?.isco().get(code.as_str()).ok_or_else(|| {
            AppError::invalid("occupation", format!("`{}` is not an ISCO-08 unit group", code.as_str()))
        })?;
        let title = group.title_en.clone();
        let now = self.now();
        let today = self.today().to_string();
        self.store.write(&actor.scope(), |tx| {
            let row = tx.vacancy(id, true)?.ok_or_else(|| not_found("vacancy", id))?;
            if !may_change(actor, None, &row.region) {
                return Err(not_found("vacancy", id));
            }
            let old: VacancyRecord = parse_json("vacancy", &row.record)?;
            let mut new = old.clone();
            new.occupation = Some(code.as_str().to_string());
            new.occupation_title = Some(title.clone());
            new.coding = CodingState::Confirmed;
            let next = changed_row(&row, &new, now)?;
            if !tx.update_vacancy(&next, &state(&today, now, actor, "coded", &new)?)? {
                return Err(AppError::Conflict(format!("vacancy {id} changed meanwhile; try again")));
            }
            audit(
                tx,
                actor,
                now,
                "code_vacancy",
                format!("vacancy/{id}"),
                Some(json(&serde_json::json!({"occupation": old.occupation, "coding": old.coding}))?),
                Some(json(&serde_json::json!({"occupation": new.occupation, "coding": new.coding}))?),
            )?;
            vacancy_view(&next)
        })
    }

    /// A regional officer reports the job seekers registered at its region's centres.
    pub fn put_seekers(&self, actor: &Actor, request: &SeekersRequest) -> Result<SeekersReport> {
        actor.require(&[Role::Officer, Role::Admin], "report job seekers")?;
        let source = super::cases::code_field("source", &request.source)?;
        if request.rows.is_empty() {
            return Err(AppError::invalid("rows", "no rows"));
        }
        if request.rows.len() > 100_000 {
            return Err(AppError::TooLarge("at most 100,000 rows at once".into()));
        }
        let officer_region = actor.user.as_ref().filter(|u| u.role == Role::Officer).and_then(|u| u.region.clone());
        let mut problems = Vec::new();
        let mut rows = Vec::with_capacity(request.rows.len());
        let mut keys = HashSet::new();
        let isco = coder()?.isco();
        for (i, r) in request.rows.iter().enumerate() {
            let row = i + 1;
            let mut bad =
                |column: &str, message: String| problems.push(Problem { row, column: column.into(), message });
            let region = match parse_region(&r.region) {
                Ok(x) => x.as_str().to_string(),
                Err(e) => {
                    bad("region", e);
                    continue;
                }
            };
            if let Some(own) = &officer_region
                && own != &region
            {
                bad("region", format!("{region} is not the officer's region ({own})"));
            }
            let occupation = r.occupation.trim().to_string();
            if occupation != "_T" && isco.get(&occupation).is_none() {
                bad("occupation", format!("`{occupation}` is neither `_T` nor an ISCO-08 code"));
            }
            let education = r.education.trim().to_string();
            if education != "_T" && EducationLevel::classify(&education).is_none() && !is_education_code(&education) {
                bad("education", format!("`{education}` is neither `_T` nor an education level"));
            }
            if koshi_labour::demand::Month::parse(&r.month).is_err() {
                bad("month", format!("`{}` is not a month YYYY-MM", r.month));
            }
            if r.seekers < 0 {
                bad("seekers", format!("{} is below 0", r.seekers));
            }
            if !keys.insert((region.clone(), occupation.clone(), education.clone(), r.month.clone())) {
                bad("month", "the same region, occupation, education and month appear twice".into());
            }
            rows.push(SeekerCountRow {
                region,
                occupation,
                education,
                month: r.month.trim().to_string(),
                seekers: r.seekers,
                source: source.clone(),
                recorded_at: 0,
            });
        }
        if !problems.is_empty() {
            return Err(problems_error("rows", &problems));
        }
        let now = self.now();
        self.store.write(&actor.scope(), |tx| {
            let mut replaced = 0;
            for r in &mut rows {
                r.recorded_at = now;
                if tx.put_seeker_count(r)?.is_some() {
                    replaced += 1;
                }
            }
            let entry = audit(
                tx,
                actor,
                now,
                "put_seekers",
                format!("seekers/{source}"),
                None,
                Some(json(&serde_json::json!({"rows": rows.len(), "replaced": replaced}))?),
            )?;
            Ok(SeekersReport { rows: rows.len(), replaced, audit_seq: entry.seq })
        })
    }
}

/// Education levels as codes (`higher`, `vocational` …).
fn is_education_code(text: &str) -> bool {
    serde_json::from_value::<EducationLevel>(serde_json::Value::String(text.to_string())).is_ok()
}

enum Repeat {
    Known(i64),
    InFile(usize),
}

/// The most known vacancies of one region a file's postings are compared with (the newest).
const MAX_REPEAT_CANDIDATES: usize = 100_000;

/// For each new posting, the known vacancy or the earlier posting of the file it repeats.
fn find_repeats(tx: &mut Tx<'_>, fresh: &[(&Vacancy, &VacancyRecord)]) -> Result<Vec<Option<Repeat>>> {
    let config = DedupConfig::default();
    let mut out: Vec<Option<Repeat>> = (0..fresh.len()).map(|_| None).collect();
    let mut by_region: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (_, r)) in fresh.iter().enumerate() {
        by_region.entry(r.region.as_str()).or_default().push(i);
    }
    for (region, members) in by_region {
        let first = members.iter().map(|&i| fresh[i].0.posted).min();
        let last = members.iter().map(|&i| fresh[i].0.posted).max();
        let (Some(first), Some(last)) = (first, last) else { continue };
        let from = first.add_days(-(config.max_active_days as i32)).unwrap_or(first);
        // Only a posting of the same employer can be a repeat, so only those are read.
        let mut bins: Vec<&str> = members.iter().filter_map(|&i| fresh[i].1.employer_bin.as_deref()).collect();
        let mut names: Vec<String> =
            members.iter().map(|&i| employer_name_key(fresh[i].1)).filter(|n| !n.is_empty()).collect();
        bins.sort_unstable();
        bins.dedup();
        names.sort_unstable();
        names.dedup();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let (from, last) = (from.to_string(), last.to_string());
        let known_rows =
            tx.open_vacancies_of_employers(region, (&from, &last), &bins, &names, MAX_REPEAT_CANDIDATES)?;
        let known: Vec<(i64, Vacancy)> = known_rows
            .iter()
            .filter_map(|row| {
                let rec: VacancyRecord = serde_json::from_str(&row.record).ok()?;
                Some((row.id, rec.to_labour()?))
            })
            .collect();
        let mut all: Vec<Vacancy> = known.iter().map(|(_, v)| v.clone()).collect();
        all.extend(members.iter().map(|&i| fresh[i].0.clone()));
        // Oldest first: the earliest posting of a vacancy represents it.
        let mut order: Vec<usize> = (0..all.len()).collect();
        order.sort_by_key(|&k| (all[k].posted, k));
        let sorted: Vec<Vacancy> = order.iter().map(|&k| all[k].clone()).collect();
        let found = deduplicate(&sorted, &config);
        // The postings of one vacancy: a known one stands for it (the earliest stored); else the
        // first of the file's.
        let mut groups: BTreeMap<usize, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        for (pos, &k) in order.iter().enumerate() {
            let group = groups.entry(found.representative[pos]).or_default();
            if k < known.len() { group.0.push(k) } else { group.1.push(members[k - known.len()]) }
        }
        for (known_members, mut new_members) in groups.into_values() {
            new_members.sort_unstable();
            let target = known_members.iter().map(|&k| known[k].0).min().map(Repeat::Known);
            for (n, &i) in new_members.iter().enumerate() {
                out[i] = match target {
                    Some(Repeat::Known(id)) => Some(Repeat::Known(id)),
                    _ if n > 0 => Some(Repeat::InFile(new_members[0])),
                    _ => None,
                };
            }
        }
    }
    Ok(out)
}

/// What the newest adopted shortage list says about `occupation` in `region`: the entry of the
/// unit group, or of the finest group above it the list assesses. `None` when no list has been
/// adopted.
pub(crate) fn labour_market_facts(
    tx: &mut Tx<'_>,
    region: &str,
    occupation: &str,
) -> Result<Option<koshi_rules::LabourMarket>> {
    let Some(list) = tx.latest_shortage_list()? else { return Ok(None) };
    let name = format!("shortage list {} of {} ({})", list.id, list.as_of, list.rule);
    for digits in (1..=occupation.len().min(4)).rev() {
        let code = &occupation[..digits];
        let entries = tx.shortage_entries(list.id, Some(region), Some(code), None, None, 1_000)?;
        if let Some(e) = entries.iter().find(|e| e.occupation == code) {
            return Ok(Some(koshi_rules::LabourMarket {
                list: name,
                status: e.status.clone(),
                local_seekers: e.seekers.map(|s| s.max(0) as u64),
                vacancies: e.vacancies.map(|v| v.max(0) as u64),
            }));
        }
    }
    Ok(Some(koshi_rules::LabourMarket { list: name, status: "unlisted".into(), local_seekers: None, vacancies: None }))
}
