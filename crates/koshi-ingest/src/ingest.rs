//! Applying a mapping to a table: observations grouped into releases, plus every problem found,
//! each naming file, sheet, row and column.

use std::collections::{HashMap, HashSet};
use std::fmt;

use koshi_core::number::{DecimalMark, Parsed, decimal_evidence, format_plain, parse_number};
use koshi_core::observation::{ObsStatus, validate_time_period};
use koshi_core::structure::Dataflow;
use koshi_core::validate::{self, Severity};
use koshi_core::{Catalogue, Date, Observation};
use koshi_store::{BatchDefect, ReleaseBatch, StoreError};
use serde::Serialize;

use crate::figures::{
    AmbiguousCell, FigureTally, MissingKind, PERCENT_UNIT, number_error_message, percent_in_level_message,
    summed_ambiguous_message,
};
use crate::mapping::{ATTRIBUTE_FIELDS, FieldSpec, Mapping};
use crate::table::{Header, Input, RaggedRow, TableError, TableLimits, column_letter, read_table};

#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: String,
    pub file: String,
    pub sheet: Option<String>,
    pub row: Option<usize>,
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "note",
        };
        write!(f, "{sev}[{}]: {}", self.code, self.file)?;
        if let Some(s) = &self.sheet {
            write!(f, ", sheet \"{s}\"")?;
        }
        if let Some(r) = self.row {
            write!(f, ", row {r}")?;
        }
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Store rows with problems, flagged with defect codes, instead of rejecting the file.
    pub allow_defects: bool,
    pub limits: IngestLimits,
    /// The date codes are valid on when a figure's period gives none (a release without a
    /// stated date); the system date when absent. The application passes its clock's.
    pub today: Option<Date>,
    /// Read every row through the general row path, even where the aggregate fast path
    /// applies (tests prove the two give the same observations).
    #[doc(hidden)]
    pub general_path_only: bool,
}

/// Bounds on what one ingest holds in memory, whatever the file (defaults:
/// [`IngestLimits::DEFAULT`]). A plan is built whole before it is written in one transaction,
/// so it holds every observation of the file: at most `max_observations`, each taking a fixed
/// [`OBSERVATION_BYTES`] or so while planned and written, plus at most `max_text_bytes` of
/// text of their own (printed forms, citations, notes, unresolved codes). Diagnostics and
/// caches are bounded by count and by the length of what they keep. Beyond a limit the ingest
/// stops with an error naming it; nothing is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestLimits {
    pub table: TableLimits,
    /// Observations one ingest holds (a file larger than this is split and ingested in parts).
    pub max_observations: usize,
    /// Bytes of text held by the observations beyond their fixed size.
    pub max_text_bytes: usize,
    /// Diagnostics kept; further ones are only counted.
    pub max_diagnostics: usize,
    /// Characters of one diagnostic's message (longer ones, quoting long cells, are cut).
    pub max_message_chars: usize,
    /// Spellings whose code resolution is remembered, each at most `MAX_CACHED_SPELLING_BYTES`.
    pub max_cached_spellings: usize,
}

impl IngestLimits {
    pub const DEFAULT: IngestLimits = IngestLimits {
        table: TableLimits::DEFAULT,
        max_observations: 2_000_000,
        max_text_bytes: 256 << 20,
        max_diagnostics: 10_000,
        max_message_chars: 500,
        max_cached_spellings: 100_000,
    };
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits::DEFAULT
    }
}

/// Bytes one observation takes at most besides its own text, from planning to the end of the
/// write: peak RSS of `koshi ingest` (release build) over observations, measured at 1.36 KB for
/// junk stored flagged with three defects (1.87 million rows of `bench_ingest junk`, 2.54 GB)
/// and 0.7 KB for clean counted ones (`bench/databank`). With the default limits an ingest
/// stays within about 2,000,000 × 1,400 B + 256 MiB ≈ 3.1 GB, whatever the file size.
pub const OBSERVATION_BYTES: usize = 1_400;

/// Spellings longer than this are resolved every time rather than remembered.
pub const MAX_CACHED_SPELLING_BYTES: usize = 256;

/// What a file would write, and what is wrong with it.
#[derive(Debug, Clone, Default)]
pub struct IngestPlan {
    pub batches: Vec<ReleaseBatch>,
    pub diagnostics: Vec<Diagnostic>,
    /// Diagnostics beyond the retained ones, counted only.
    pub diagnostics_dropped: usize,
    /// How many of the dropped diagnostics are errors.
    pub errors_dropped: usize,
    pub rows_read: usize,
    pub rows_skipped: usize,
    pub observations: usize,
    pub allow_defects: bool,
    /// Whether the rows were counted by the aggregate fast path (tests check it was taken).
    #[doc(hidden)]
    pub fast_path: bool,
}

impl IngestPlan {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count() + self.errors_dropped
    }

    /// Whether the plan may be written: no errors, or errors stored as flagged defects.
    pub fn writable(&self) -> bool {
        self.error_count() == 0 || self.allow_defects
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Mapping(#[from] crate::mapping::MappingError),
    #[error("{file}: {}", .problems.join("; "))]
    Columns { file: String, problems: Vec<String> },
    /// The file holds more than one ingest may keep in memory; nothing was written.
    #[error(
        "{file}: stopped at row {row}: more than {limit} {what} (IngestLimits::{name}); nothing was written. \
         Split the file (by year, region or rows) and ingest the parts one by one"
    )]
    TooLarge { file: String, row: usize, limit: usize, what: &'static str, name: &'static str },
    /// A reference figure for the plausibility rules could not be read from the bank.
    #[error("{file}: reading a reference figure for the plausibility check failed; nothing was written: {source}")]
    Reference {
        file: String,
        #[source]
        source: StoreError,
    },
}

/// The reference figures the plausibility rules compare against (e.g. an area's GDP in a
/// period, in base units), by dataflow, measure, area and period: `Ok(None)` when there is
/// none, an error when it cannot be read.
pub type ReferenceLookup<'r> = dyn Fn(&str, &str, &str, &str) -> Result<Option<f64>, StoreError> + 'r;

/// The citation of a figure summed from rows of `file` when the mapping gives none.
fn aggregate_citation(file: &str) -> String {
    format!("{file}, sum of the rows with this key")
}

/// Where each observation came from, to point diagnostics at cells.
#[derive(Clone, Copy)]
struct Origin {
    row: usize,
    column: Option<u32>,
}

/// Diagnostics kept up to a count, the rest counted by severity.
struct Diagnostics {
    kept: Vec<Diagnostic>,
    dropped: usize,
    errors_dropped: usize,
    max: usize,
    max_message_chars: usize,
}

impl Diagnostics {
    fn new(limits: &IngestLimits) -> Self {
        Diagnostics {
            kept: Vec::new(),
            dropped: 0,
            errors_dropped: 0,
            max: limits.max_diagnostics,
            max_message_chars: limits.max_message_chars,
        }
    }

    fn push(&mut self, mut d: Diagnostic) {
        if self.kept.len() >= self.max {
            self.dropped += 1;
            self.errors_dropped += usize::from(d.severity == Severity::Error);
            return;
        }
        if let Some((cut, _)) = d.message.char_indices().nth(self.max_message_chars) {
            d.message.truncate(cut);
            d.message.push('…');
        }
        self.kept.push(d);
    }

    /// Problems known only by their number (beyond a list kept elsewhere), of one severity.
    fn count_unlisted(&mut self, severity: Severity, n: usize) {
        self.dropped += n;
        if severity == Severity::Error {
            self.errors_dropped += n;
        }
    }
}

enum Resolved {
    Constant(String),
    Column(usize),
    /// A text built from cells ([`crate::mapping::FieldSpec::template`]).
    Template(Vec<TemplateCell>),
    Melted,
    Count,
}

/// A piece of a bound template: text, or the cell of a column.
#[derive(Clone)]
enum TemplateCell {
    Text(String),
    Column(usize),
}

/// The text a bound template builds from a row's cells (each trimmed), and the first column it
/// reads (where a problem with the text is reported).
fn build_template(parts: &[TemplateCell], cells: &[&str]) -> (String, Option<usize>) {
    let mut text = String::new();
    let mut first = None;
    for part in parts {
        match part {
            TemplateCell::Text(t) => text.push_str(t),
            TemplateCell::Column(i) => {
                text.push_str(cells.get(*i).copied().unwrap_or("").trim());
                first = first.or(Some(*i));
            }
        }
    }
    (text, first)
}

struct FieldPlan<'m> {
    name: String,
    spec: &'m FieldSpec,
    resolved: Resolved,
}

/// Read `input` through `mapping` and build the releases it holds. Nothing is written here.
pub fn plan_ingest(
    catalogue: &Catalogue,
    mapping: &Mapping,
    file_name: &str,
    input: Input<'_>,
    options: &IngestOptions,
    reference: &ReferenceLookup<'_>,
    progress: &mut dyn FnMut(usize),
) -> Result<IngestPlan, IngestError> {
    let mut plan = IngestPlan { allow_defects: options.allow_defects, ..Default::default() };
    let mut ctx = RowContext::new(catalogue, mapping, file_name, options.limits);
    if let Some(today) = options.today {
        ctx.today = today;
    }
    ctx.fast_allowed = !options.general_path_only;
    ctx.allow_defects = options.allow_defects;
    let header = {
        let mut sink = Sink { ctx: &mut ctx, options, progress, column_problems: Vec::new() };
        let header = read_table(file_name, input, &mapping.file, &options.limits.table, &mut sink)?;
        if !sink.column_problems.is_empty() {
            return Err(IngestError::Columns { file: file_name.to_string(), problems: sink.column_problems });
        }
        header
    };
    plan.fast_path = ctx.fast.is_some();
    ctx.finish_fast();
    if let Some(too_large) = ctx.too_large.take() {
        return Err(too_large);
    }
    ctx.finish_figures(options);
    let sheet = header.sheet.clone();
    let labels: Vec<String> = (0..ctx.header.len()).map(|c| ctx.column_label(c)).collect();
    let column_label = |c: Option<u32>| c.and_then(|c| labels.get(c as usize).cloned());
    let RowContext {
        observations,
        origins,
        mut diagnostics,
        rows_read,
        rows_skipped,
        release_of,
        releases,
        aggregate_index: _,
        ..
    } = ctx;
    plan.rows_read = rows_read;
    plan.rows_skipped = rows_skipped;
    for d in &mut diagnostics.kept {
        d.sheet.clone_from(&sheet);
    }

    // Group into releases: (dataflow, source, label).
    let mut batch_index: HashMap<(koshi_core::Text, koshi_core::Text, String), usize> = HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, o) in observations.iter().enumerate() {
        let (label, date) = &releases[release_of[i] as usize];
        let k = (o.dataflow.clone(), o.source.clone(), label.clone());
        let b = *batch_index.entry(k).or_insert_with(|| {
            plan.batches.push(ReleaseBatch {
                dataflow: o.dataflow.to_string(),
                source: o.source.to_string(),
                label: label.clone(),
                release_date: *date,
                origin: file_name.to_string(),
                note: mapping.release.note.clone(),
                observations: Vec::new(),
                defects: Vec::new(),
            });
            members.push(Vec::new());
            plan.batches.len() - 1
        });
        if plan.batches[b].release_date != *date {
            diagnostics.push(Diagnostic {
                severity: Severity::Error,
                code: "RELEASE_DATE_CONFLICT".into(),
                file: file_name.into(),
                sheet: sheet.clone(),
                row: Some(origins[i].row),
                column: None,
                message: format!("release `{label}` is dated both {} and {date}", plan.batches[b].release_date),
            });
        }
        members[b].push(i);
    }
    // Move each observation into its release; `members` keeps file order within a release.
    let mut batch_of = vec![0usize; observations.len()];
    for (b, idx) in members.iter().enumerate() {
        for &i in idx {
            batch_of[i] = b;
        }
    }
    for (o, b) in observations.into_iter().zip(batch_of) {
        plan.batches[b].observations.push(o);
    }

    // Rules: duplicates and identities within each release; magnitudes against the bank.
    // A reference that cannot be read stops the ingest: the first failure is kept and the
    // rule sees no further references.
    let failure = std::cell::RefCell::new(None);
    let reference = |flow: &str, measure: &str, area: &str, period: &str| -> Option<f64> {
        if failure.borrow().is_some() {
            return None;
        }
        reference(flow, measure, area, period).unwrap_or_else(|e| {
            *failure.borrow_mut() = Some(e);
            None
        })
    };
    for (b, batch) in plan.batches.iter_mut().enumerate() {
        let Some(df) = catalogue.dataflow(&batch.dataflow) else { continue };
        let mut defects = validate::check_batch(std::slice::from_ref(df), &batch.observations);
        defects.extend(validate::check_plausibility(df, &batch.observations, &reference));
        if let Some(source) = failure.borrow_mut().take() {
            return Err(IngestError::Reference { file: file_name.to_string(), source });
        }
        for d in defects {
            let declared = d.observations.iter().all(|&i| !batch.observations[i].defects.is_empty());
            let severity = if declared { Severity::Warning } else { d.severity };
            let first = d.observations[0];
            let origin = &origins[members[b][first]];
            let message =
                if declared { format!("{} (the file declares this defect)", d.message) } else { d.message.clone() };
            diagnostics.push(Diagnostic {
                severity,
                code: d.rule.clone(),
                file: file_name.into(),
                sheet: sheet.clone(),
                row: Some(origin.row),
                column: column_label(origin.column),
                message,
            });
            if options.allow_defects && !declared {
                for &i in &d.observations {
                    if !batch.observations[i].defects.contains(&d.rule) {
                        batch.observations[i].defects.push(d.rule.clone());
                    }
                }
            }
            batch.defects.push(BatchDefect { rule: d.rule, severity, message: d.message, observation: Some(first) });
        }
    }
    diagnostics.kept.sort_by_key(|d| (d.row.unwrap_or(0), d.column.clone()));
    plan.observations = plan.batches.iter().map(|b| b.observations.len()).sum();
    plan.diagnostics = diagnostics.kept;
    plan.diagnostics_dropped = diagnostics.dropped;
    plan.errors_dropped = diagnostics.errors_dropped;
    Ok(plan)
}

struct Sink<'c, 'a, 'p> {
    ctx: &'c mut RowContext<'a>,
    options: &'c IngestOptions,
    progress: &'p mut dyn FnMut(usize),
    column_problems: Vec<String>,
}

/// The system date, for callers that give none ([`IngestOptions::today`]); the application
/// always passes its clock's.
fn system_today() -> Date {
    let secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    Date::from_days_since_epoch(secs.div_euclid(86_400))
}

/// Why a field's text gives no value (a code that is not in its list, a band it falls outside):
/// the message of the diagnostic the row gets.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldProblem(String);

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl crate::table::RowSink for Sink<'_, '_, '_> {
    fn header(&mut self, header: &Header) -> bool {
        match self.ctx.bind(header) {
            Ok(()) => true,
            Err(problems) => {
                self.column_problems = problems;
                false
            }
        }
    }

    fn row(&mut self, row_number: usize, cells: &[&str]) -> bool {
        self.ctx.row(row_number, cells, self.options);
        if row_number.is_multiple_of(100_000) {
            (self.progress)(row_number);
        }
        self.ctx.too_large.is_none()
    }

    fn ragged_row(&mut self, ragged: &RaggedRow) -> bool {
        // Never stored, not even flagged: which field holds which value is unknown.
        self.ctx.rows_read += 1;
        self.ctx.diag(Severity::Error, "RAGGED_ROW", ragged.row_number, None, ragged.message());
        true
    }
}

struct RowContext<'a> {
    catalogue: &'a Catalogue,
    mapping: &'a Mapping,
    file: &'a str,
    header: Vec<String>,
    fields: Vec<FieldPlan<'a>>,
    melted: Vec<usize>,
    skip: Vec<(usize, &'a [String])>,
    observations: Vec<Observation>,
    origins: Vec<Origin>,
    /// Per observation, its index in `releases` (label and date).
    release_of: Vec<u32>,
    releases: Vec<(String, Date)>,
    diagnostics: Diagnostics,
    rows_read: usize,
    rows_skipped: usize,
    code_cache: HashMap<(String, String, String), Result<String, FieldProblem>>,
    aggregate_index: HashMap<(String, Vec<String>, String), usize>,
    skipped_spellings: HashSet<String>,
    today: Date,
    fast: Option<FastAggregate>,
    /// Whether the fast path may be taken where it applies.
    fast_allowed: bool,
    /// Rows with errors are stored flagged ([`IngestOptions::allow_defects`]).
    allow_defects: bool,
    texts: HashSet<koshi_core::Text>,
    limits: IngestLimits,
    /// Bytes of text held by the observations beyond their fixed size.
    text_bytes: usize,
    /// Set when a limit is reached; reading stops.
    too_large: Option<IngestError>,
    /// Missing marks and decimal-mark evidence of the value cells, decided at the end of the file.
    figures: FigureTally,
}

/// The microdata path (`aggregate = true` with constant attributes): rows are counted into
/// cells keyed by interned codes, without building an observation per row.
struct FastAggregate {
    dataflow: Dataflow,
    /// Per dimension: where its text comes from, and the spelling → code-number cache.
    dims: Vec<(FastSource, FieldSpec, HashMap<String, Option<u16>>)>,
    codes: Vec<Vec<koshi_core::Text>>,
    period: (FastSource, FieldSpec),
    periods: HashMap<String, Option<u32>>,
    period_texts: Vec<koshi_core::Text>,
    value: FastSource,
    /// Per key and period: the sum of its figures (`None` while every row was a missing mark) and its first row.
    cells: HashMap<u128, (Option<f64>, usize)>,
    template: Observation,
    release: (String, Date),
    /// The templates of the fields built from several cells ([`FastSource::Template`]).
    built: Vec<Vec<TemplateCell>>,
}

#[derive(Clone, Copy)]
enum FastSource {
    Constant,
    Column(usize),
    /// A text built from cells: the index of its template in [`FastAggregate::built`].
    Template(usize),
    Count,
}

impl FastSource {
    /// The text a row gives the field, before `map` and the other transforms.
    fn text(self, spec: &FieldSpec, cells: &[&str], built: &[Vec<TemplateCell>]) -> String {
        match self {
            FastSource::Constant => spec.value.clone().unwrap_or_default(),
            FastSource::Column(i) => cells.get(i).copied().unwrap_or("").trim().to_string(),
            FastSource::Template(t) => build_template(&built[t], cells).0,
            FastSource::Count => "1".into(),
        }
    }

    /// What the field's text is remembered by between rows: the cell, or the built text.
    fn cache_key<'c>(self, cells: &[&'c str], built: &[Vec<TemplateCell>]) -> std::borrow::Cow<'c, str> {
        match self {
            FastSource::Column(i) => cells.get(i).copied().unwrap_or("").trim().into(),
            FastSource::Template(t) => build_template(&built[t], cells).0.into(),
            FastSource::Constant | FastSource::Count => "".into(),
        }
    }

    /// The column a problem with the field's text is reported at.
    fn column(self, built: &[Vec<TemplateCell>]) -> Option<usize> {
        match self {
            FastSource::Column(i) => Some(i),
            FastSource::Template(t) => {
                built[t].iter().find_map(|p| if let TemplateCell::Column(i) = p { Some(*i) } else { None })
            }
            FastSource::Constant | FastSource::Count => None,
        }
    }
}

impl<'a> RowContext<'a> {
    fn new(catalogue: &'a Catalogue, mapping: &'a Mapping, file: &'a str, limits: IngestLimits) -> Self {
        RowContext {
            catalogue,
            mapping,
            file,
            header: Vec::new(),
            fields: Vec::new(),
            melted: Vec::new(),
            skip: Vec::new(),
            observations: Vec::new(),
            origins: Vec::new(),
            release_of: Vec::new(),
            releases: Vec::new(),
            diagnostics: Diagnostics::new(&limits),
            rows_read: 0,
            rows_skipped: 0,
            code_cache: HashMap::new(),
            aggregate_index: HashMap::new(),
            skipped_spellings: HashSet::new(),
            today: system_today(),
            fast: None,
            fast_allowed: true,
            allow_defects: false,
            texts: HashSet::new(),
            limits,
            text_bytes: 0,
            too_large: None,
            figures: FigureTally::default(),
        }
    }

    /// Whether one more observation (with `text_bytes` of its own text) fits the limits;
    /// if not, records why and reading stops.
    fn admit(&mut self, row: usize, observations: usize, text_bytes: usize) -> bool {
        if self.too_large.is_some() {
            return false;
        }
        let file = self.file.to_string();
        if observations >= self.limits.max_observations {
            let (limit, what, name) = (self.limits.max_observations, "observations", "max_observations");
            self.too_large = Some(IngestError::TooLarge { file, row, limit, what, name });
            return false;
        }
        if self.text_bytes + text_bytes > self.limits.max_text_bytes {
            let (limit, what, name) = (self.limits.max_text_bytes, "bytes of text in observations", "max_text_bytes");
            self.too_large = Some(IngestError::TooLarge { file, row, limit, what, name });
            return false;
        }
        self.text_bytes += text_bytes;
        true
    }

    /// The header's columns, quoted, for an error about a column that is not there.
    fn known_columns(&self) -> String {
        const SHOWN: usize = 40;
        let mut names: Vec<String> = self.header.iter().take(SHOWN).map(|h| format!("\"{h}\"")).collect();
        if self.header.len() > SHOWN {
            names.push(format!("… ({} columns)", self.header.len()));
        }
        if names.is_empty() { "the header is empty".into() } else { format!("the header has {}", names.join(", ")) }
    }

    fn find_column(&self, name: &str) -> Option<usize> {
        if let Some(n) = name.strip_prefix('#') {
            return n.parse::<usize>().ok().filter(|&n| n >= 1 && n <= self.header.len()).map(|n| n - 1);
        }
        self.header
            .iter()
            .position(|h| h == name)
            .or_else(|| self.header.iter().position(|h| h.trim().eq_ignore_ascii_case(name.trim())))
    }

    /// Match the mapping's columns to the header; every problem is listed at once.
    fn bind(&mut self, header: &Header) -> Result<(), Vec<String>> {
        self.header = header.columns.clone();
        if self.header.is_empty() {
            return Err(vec!["the header is empty (check skip_rows and header_rows)".into()]);
        }
        let mut problems = Vec::new();
        let mut used = Vec::new();
        for (name, spec) in &self.mapping.fields {
            let resolved = if let Some(v) = &spec.value {
                Resolved::Constant(v.clone())
            } else if let Some(col) = &spec.column {
                match self.find_column(col) {
                    Some(i) => {
                        used.push(i);
                        Resolved::Column(i)
                    }
                    None => {
                        problems.push(format!("field {name}: column \"{col}\" is not in the header"));
                        continue;
                    }
                }
            } else if let Some(template) = &spec.template {
                let parts = match crate::mapping::template_parts(template) {
                    Ok(parts) => parts,
                    Err(e) => {
                        problems.push(format!("field {name}: template \"{template}\": {e}"));
                        continue;
                    }
                };
                let mut cells = Vec::with_capacity(parts.len());
                let mut unknown = false;
                for part in parts {
                    match part {
                        crate::mapping::TemplatePart::Text(t) => cells.push(TemplateCell::Text(t)),
                        crate::mapping::TemplatePart::Column(col) => match self.find_column(&col) {
                            Some(i) => {
                                used.push(i);
                                cells.push(TemplateCell::Column(i));
                            }
                            None => {
                                problems.push(format!(
                                    "field {name}: template \"{template}\" names column \"{col}\", which is not in the header"
                                ));
                                unknown = true;
                            }
                        },
                    }
                }
                if unknown {
                    continue;
                }
                Resolved::Template(cells)
            } else if spec.count {
                Resolved::Count
            } else {
                Resolved::Melted
            };
            self.fields.push(FieldPlan { name: name.clone(), spec, resolved });
        }
        for rule in &self.mapping.skip {
            match self.find_column(&rule.column) {
                Some(i) => self.skip.push((i, &rule.values)),
                None => problems.push(format!("skip rule: column \"{}\" is not in the header", rule.column)),
            }
        }
        if let Some(melt) = &self.mapping.melt {
            if !melt.columns.is_empty() {
                for c in &melt.columns {
                    match self.find_column(c) {
                        Some(i) => self.melted.push(i),
                        None => problems.push(format!("melt: column \"{c}\" is not in the header")),
                    }
                }
            } else {
                let from = match &melt.from {
                    Some(f) => self.find_column(f).unwrap_or_else(|| {
                        problems.push(format!("melt: column \"{f}\" is not in the header"));
                        0
                    }),
                    None => (0..self.header.len()).find(|i| !used.contains(i)).unwrap_or(self.header.len()),
                };
                let to = match &melt.to {
                    Some(t) => self.find_column(t).unwrap_or_else(|| {
                        problems.push(format!("melt: column \"{t}\" is not in the header"));
                        0
                    }),
                    None => self.header.len().saturating_sub(1),
                };
                self.melted =
                    (from..=to).filter(|i| !used.contains(i) && !melt.exclude.contains(&self.header[*i])).collect();
            }
            if self.melted.is_empty() && problems.is_empty() {
                problems.push("melt: no columns to melt".into());
            }
        }
        // A dataflow given as a constant can be checked now: every dimension must be mapped.
        if let Some(FieldPlan { resolved: Resolved::Constant(df_id), .. }) =
            self.fields.iter().find(|f| f.name == "DATAFLOW")
        {
            match self.catalogue.dataflow(df_id) {
                None => problems.push(format!("DATAFLOW: unknown dataflow `{df_id}`")),
                Some(df) if !self.fields.iter().any(|f| f.name == "KEY") => {
                    for d in &df.dimensions {
                        if !self.fields.iter().any(|f| f.name == d.id) {
                            problems.push(format!("dimension {} of {} is not mapped", d.id, df.id));
                        }
                    }
                    for f in &self.fields {
                        if !ATTRIBUTE_FIELDS.contains(&f.name.as_str()) && df.dimension_index(&f.name).is_none() {
                            problems
                                .push(format!("field {} is neither a dimension of {} nor an attribute", f.name, df.id));
                        }
                    }
                }
                Some(_) => {}
            }
        } else if !self.fields.iter().any(|f| f.name == "DATAFLOW") {
            problems.push("DATAFLOW is not mapped".into());
        }
        for required in ["TIME_PERIOD", "SOURCE", "DEFINITION", "UNIT"] {
            if !self.fields.iter().any(|f| f.name == required) {
                problems.push(format!("{required} is not mapped"));
            }
        }
        if problems.is_empty() {
            self.fast = if self.fast_allowed { self.fast_plan() } else { None };
            Ok(())
        } else {
            if problems.iter().any(|p| p.contains("is not in the header")) {
                problems.push(self.known_columns());
            }
            Err(problems)
        }
    }

    /// The fast path applies to aggregating mappings whose attributes are all valid constants,
    /// when rows with errors are not to be stored: it gives the plan the general row path
    /// gives (the tests compare them), and leaves every other case to the general path.
    fn fast_plan(&self) -> Option<FastAggregate> {
        if !self.mapping.aggregate || !self.melted.is_empty() || self.allow_defects {
            return None;
        }
        // An attribute as the general path reads it: mapped, and empty text is no value.
        let constant = |name: &str| match self.field(name) {
            None => Some(None),
            Some(FieldPlan { resolved: Resolved::Constant(v), spec, .. }) => {
                Some(Some(spec.map.get(v).cloned().unwrap_or_else(|| v.clone())).filter(|t| !t.is_empty()))
            }
            Some(_) => None,
        };
        let mut built: Vec<Vec<TemplateCell>> = Vec::new();
        let mut source_of = |f: &FieldPlan<'_>| match &f.resolved {
            Resolved::Constant(_) => Some(FastSource::Constant),
            Resolved::Column(i) => Some(FastSource::Column(*i)),
            Resolved::Template(parts) => {
                built.push(parts.clone());
                Some(FastSource::Template(built.len() - 1))
            }
            Resolved::Count => Some(FastSource::Count),
            Resolved::Melted => None,
        };
        let df = self.catalogue.dataflow(&constant("DATAFLOW")??)?.clone();
        // Codes pack into 16 bits per dimension beside a 24-bit period: six dimensions at most.
        if self.field("KEY").is_some() || df.dimensions.len() > 6 {
            return None;
        }
        let mut values = HashMap::new();
        for name in [
            "SOURCE",
            "DEFINITION",
            "UNIT",
            "UNIT_MULT",
            "OBS_STATUS",
            "RELEASE",
            "RELEASE_DATE",
            "NOTE",
            "CITATION",
            "DEFECT",
            "ORIGINAL_SOURCE",
        ] {
            values.insert(name, constant(name)?);
        }
        let source = values["SOURCE"].clone()?;
        self.catalogue.source(&source)?;
        let release_date = match values["RELEASE_DATE"].clone().or_else(|| self.mapping.release.date.clone()) {
            Some(d) => Date::parse_loose(&d).ok()?,
            None => self.today,
        };
        let label = values["RELEASE"]
            .clone()
            .or_else(|| self.mapping.release.label.clone())
            .unwrap_or_else(|| self.file.to_string());
        let mut dims = Vec::new();
        for d in &df.dimensions {
            let f = self.field(&d.id)?;
            dims.push((source_of(f)?, f.spec.clone(), HashMap::new()));
        }
        let pf = self.field("TIME_PERIOD")?;
        let value = source_of(self.field("OBS_VALUE")?)?;
        // A constant figure, a figure built from several cells, and constants the general path
        // would refuse on every row, are left to it.
        if matches!(value, FastSource::Constant | FastSource::Template(_)) {
            return None;
        }
        let status = match values["OBS_STATUS"].as_deref() {
            Some(s) => ObsStatus::from_code(s)?,
            None => ObsStatus::Normal,
        };
        let unit_mult = match values["UNIT_MULT"].as_deref() {
            Some(m) => m.parse().ok()?,
            None => 0,
        };
        let mut citation = values["CITATION"].clone().unwrap_or_else(|| aggregate_citation(self.file));
        if let Some(o) = &values["ORIGINAL_SOURCE"] {
            citation.push_str(&format!("; original source: {o}"));
        }
        let template = Observation {
            dataflow: df.id.as_str().into(),
            key: Vec::new(),
            time_period: "".into(),
            value: None,
            printed: None,
            unit: values["UNIT"].clone().unwrap_or_default().into(),
            unit_mult,
            status,
            source: source.into(),
            definition: values["DEFINITION"].clone()?.into(),
            citation: Some(citation.into()),
            note: values["NOTE"].clone(),
            defects: values["DEFECT"]
                .as_deref()
                .map(|d| d.split('|').map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).collect())
                .unwrap_or_default(),
        };
        let period = (source_of(pf)?, pf.spec.clone());
        Some(FastAggregate {
            codes: vec![Vec::new(); df.dimensions.len()],
            dims,
            period,
            periods: HashMap::new(),
            period_texts: Vec::new(),
            value,
            cells: HashMap::new(),
            template,
            release: (label, release_date),
            dataflow: df,
            built,
        })
    }

    fn fast_row(&mut self, row: usize, cells: &[&str]) {
        let Some(mut fast) = self.fast.take() else { return };
        let mut packed: u128 = 0;
        let mut ok = true;
        // As the general path: every problem of the row, then the row skipped or reported.
        let mut errors: Vec<(&'static str, Option<usize>, String)> = Vec::new();
        for d in 0..fast.dims.len() {
            let cell = fast.dims[d].0.cache_key(cells, &fast.built);
            let cell = cell.as_ref();
            let hit = fast.dims[d].2.get(cell).copied();
            let number = match hit {
                Some(Some(n)) => Some(n),
                // Not seen yet, or seen and refused: resolved again (the code cache keeps the
                // refusal), so that every row with it is reported as the general path does.
                Some(None) | None => {
                    let raw = fast.dims[d].0.text(&fast.dims[d].1, cells, &fast.built);
                    let dim_id = fast.dataflow.dimensions[d].id.clone();
                    let spec = fast.dims[d].1.clone();
                    let resolved = self.resolve_code(&fast.dataflow, &dim_id, &spec, &raw);
                    let n = match resolved {
                        Ok(code) => {
                            let list = &mut fast.codes[d];
                            let n = list.iter().position(|c| **c == *code).unwrap_or_else(|| {
                                list.push(code.into());
                                list.len() - 1
                            });
                            u16::try_from(n).ok()
                        }
                        Err(e) => {
                            errors.push(("UNKNOWN_CODE", fast.dims[d].0.column(&fast.built), e.0));
                            None
                        }
                    };
                    if hit.is_none()
                        && cell.len() <= MAX_CACHED_SPELLING_BYTES
                        && fast.dims[d].2.len() < self.limits.max_cached_spellings
                    {
                        fast.dims[d].2.insert(cell.to_string(), n);
                    }
                    n
                }
            };
            match number {
                Some(n) => packed = (packed << 16) | u128::from(n),
                None => ok = false,
            }
        }
        let period_cell = fast.period.0.cache_key(cells, &fast.built);
        let period_cell = period_cell.as_ref();
        let period = match fast.periods.get(period_cell) {
            Some(Some(p)) => Some(*p),
            hit => {
                let raw = fast.period.0.text(&fast.period.1, cells, &fast.built);
                let p = match Self::transform(&fast.period.1, &raw)
                    .and_then(|p| validate_time_period(&p).map(|_| p).map_err(|e| FieldProblem(e.to_string())))
                {
                    // Many cell texts (days) fall in one period (month): intern the period.
                    Ok(p) => Some(match fast.period_texts.iter().position(|t| **t == *p) {
                        Some(i) => i as u32,
                        None => {
                            fast.period_texts.push(p.into());
                            (fast.period_texts.len() - 1) as u32
                        }
                    }),
                    Err(e) => {
                        errors.push(("BAD_PERIOD", fast.period.0.column(&fast.built), e.0));
                        None
                    }
                };
                if hit.is_none()
                    && period_cell.len() <= MAX_CACHED_SPELLING_BYTES
                    && fast.periods.len() < self.limits.max_cached_spellings
                {
                    fast.periods.insert(period_cell.to_string(), p);
                }
                p
            }
        };
        let value = match fast.value {
            FastSource::Count => Some(Some(1.0)),
            FastSource::Column(i) => {
                let text = cells.get(i).copied().unwrap_or("");
                match self.fast_value(row, i, text, &fast.template.unit) {
                    Ok(v) => Some(v),
                    Err((code, message)) => {
                        errors.push((code, Some(i), message));
                        None
                    }
                }
            }
            // Not taken: [`RowContext::fast_plan`] leaves a constant figure, or one built from
            // several cells, to the general path.
            FastSource::Constant | FastSource::Template(_) => None,
        };
        if !errors.is_empty() {
            if self.mapping.skip_unknown_codes && errors.iter().all(|(code, _, _)| *code == "UNKNOWN_CODE") {
                self.skip_row(row, errors.into_iter().map(|(_, col, message)| (col, message)));
                self.rows_skipped += 1;
            } else {
                for (code, col, message) in errors {
                    self.diag(Severity::Error, code, row, col, message);
                }
            }
        } else if let (true, Some(p), Some(v)) = (ok, period, value) {
            let packed = (packed << 24) | u128::from(p);
            if let Some(cell) = fast.cells.get_mut(&packed) {
                cell.0 = match (cell.0, v) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                };
            } else if self.admit(row, fast.cells.len(), 0) {
                fast.cells.insert(packed, (v, row));
            }
        }
        self.fast = Some(fast);
    }

    /// A row whose only problems are codes the mapping skips (`skip_unknown_codes`: aggregates
    /// mixed into a country table): noted once per spelling.
    fn skip_row(&mut self, row: usize, problems: impl IntoIterator<Item = (Option<usize>, String)>) {
        for (col, message) in problems {
            if self.skipped_spellings.contains(&message) {
                continue;
            }
            // Beyond the cap a spelling may be noted again; the notes themselves are capped.
            if self.skipped_spellings.len() < self.limits.max_cached_spellings
                && message.len() <= MAX_CACHED_SPELLING_BYTES * 2
            {
                self.skipped_spellings.insert(message.clone());
            }
            self.diag(Severity::Info, "SKIPPED_UNKNOWN_CODE", row, col, format!("{message}; rows with it are skipped"));
        }
    }

    /// One value cell of the microdata path: `Ok(Some(v))` a figure, `Ok(None)` a missing mark
    /// (it adds nothing, and a key whose every row is a mark stays missing rather than 0), an
    /// error (code and message) for a rejected cell. An ambiguous figure cannot wait for the
    /// end of the file (it is summed at once), so it is an error.
    fn fast_value(
        &mut self,
        row: usize,
        column: usize,
        text: &str,
        unit: &str,
    ) -> Result<Option<f64>, (&'static str, String)> {
        if self.mapping.file.missing.iter().any(|m| m == text.trim()) {
            self.figures.missing(MissingKind::Declared, text, row, Some(column));
            return Ok(None);
        }
        match parse_number(text, self.mapping.file.decimal) {
            Ok(Parsed::Value { ambiguous: Some(comma), value, .. }) => {
                Err(("AMBIGUOUS_NUMBER", summed_ambiguous_message(text, value, comma)))
            }
            Ok(Parsed::Value { percent: true, .. }) if unit != PERCENT_UNIT => {
                Err(("PERCENT_IN_LEVEL", percent_in_level_message(text, unit)))
            }
            Ok(Parsed::Value { value, .. }) => Ok(Some(value)),
            Ok(Parsed::Missing(mark)) => {
                self.figures.missing(MissingKind::Mark(mark), text, row, Some(column));
                Ok(None)
            }
            Err(e) => Err(("MALFORMED_NUMBER", number_error_message(&e))),
        }
    }

    /// The end of the file for its value cells: notes on missing marks, and every ambiguous
    /// figure read with the decimal mark the other figures show, or reported.
    fn finish_figures(&mut self, options: &IngestOptions) {
        let finished = std::mem::take(&mut self.figures).finish(self.mapping.aggregate, !self.melted.is_empty());
        for (code, row, column, message) in finished.notes {
            self.diag(Severity::Info, code, row, column, message);
        }
        for (i, value, text) in finished.revalued {
            let o = &mut self.observations[i];
            o.value = Some(value);
            o.printed = (text.trim() != format_plain(value)).then(|| text.trim().to_string());
        }
        let severity = if options.allow_defects { Severity::Warning } else { Severity::Error };
        for ((code, row, column, message), observation) in finished.unresolved {
            self.diag(severity, code, row, column, message);
            if let Some(o) =
                observation.and_then(|i| self.observations.get_mut(i)).filter(|o| !o.defects.iter().any(|d| d == code))
            {
                o.defects.push(code.to_string());
            }
        }
        self.diagnostics.count_unlisted(severity, finished.unresolved_unlisted);
    }

    /// Turn the counted cells into observations.
    fn finish_fast(&mut self) {
        let Some(fast) = self.fast.take() else { return };
        let value_column = match fast.value {
            FastSource::Column(i) => Some(i as u32),
            _ => None,
        };
        let n = fast.dims.len();
        let mut cells: Vec<(u128, (Option<f64>, usize))> = fast.cells.into_iter().collect();
        cells.sort_unstable_by_key(|(_, (_, row))| *row);
        for (packed, (value, row)) in cells {
            let period = (packed & 0xFF_FFFF) as usize;
            let mut key: Vec<koshi_core::Text> = vec!["".into(); n];
            let mut rest = packed >> 24;
            for d in (0..n).rev() {
                key[d] = fast.codes[d][(rest & 0xFFFF) as usize].clone();
                rest >>= 16;
            }
            let mut o = fast.template.clone();
            o.key = key;
            o.time_period = fast.period_texts[period].clone();
            o.value = value;
            if value.is_none() {
                o.status = ObsStatus::Missing;
            }
            self.observations.push(o);
            self.origins.push(Origin { row, column: value_column });
            let release = self.release_index(&fast.release.0, fast.release.1);
            self.release_of.push(release);
        }
    }

    fn release_index(&mut self, label: &str, date: Date) -> u32 {
        match self.releases.iter().position(|(l, d)| l == label && *d == date) {
            Some(i) => i as u32,
            None => {
                self.releases.push((label.to_string(), date));
                (self.releases.len() - 1) as u32
            }
        }
    }

    /// One shared copy of each repeated text (codes, units, sources, definitions).
    fn intern(&mut self, text: &str) -> koshi_core::Text {
        if let Some(t) = self.texts.get(text) {
            return t.clone();
        }
        let t: koshi_core::Text = text.into();
        self.text_bytes += text.len();
        self.texts.insert(t.clone());
        t
    }

    fn diag(&mut self, severity: Severity, code: &str, row: usize, column: Option<usize>, message: String) {
        if self.diagnostics.kept.len() >= self.diagnostics.max {
            // Counted without building the diagnostic.
            self.diagnostics.dropped += 1;
            self.diagnostics.errors_dropped += usize::from(severity == Severity::Error);
            return;
        }
        let column = column.map(|c| self.column_label(c));
        self.diagnostics.push(Diagnostic {
            severity,
            code: code.into(),
            file: self.file.into(),
            sheet: None,
            row: Some(row),
            column,
            message,
        });
    }

    fn column_label(&self, c: usize) -> String {
        let name = self.header.get(c).cloned().unwrap_or_default();
        if self.mapping.file.format == "xlsx" {
            format!("{} (\"{name}\")", column_letter(c))
        } else {
            format!("\"{name}\"")
        }
    }

    /// The raw text of a field for this row (and melted column), with its column index.
    fn raw<'c>(&self, field: &FieldPlan<'_>, cells: &[&'c str], melted: Option<usize>) -> (String, Option<usize>)
    where
        'a: 'c,
    {
        match &field.resolved {
            Resolved::Constant(v) => (v.clone(), None),
            Resolved::Column(i) => (cells.get(*i).copied().unwrap_or("").trim().to_string(), Some(*i)),
            Resolved::Template(parts) => build_template(parts, cells),
            Resolved::Melted => match melted {
                Some(m) if field.name == "OBS_VALUE" => (cells.get(m).copied().unwrap_or("").to_string(), Some(m)),
                Some(m) => (self.header[m].clone(), Some(m)),
                None => (String::new(), None),
            },
            Resolved::Count => ("1".into(), None),
        }
    }

    fn field(&self, name: &str) -> Option<&FieldPlan<'a>> {
        self.fields.iter().find(|f| f.name == name)
    }

    fn row(&mut self, row_number: usize, cells: &[&str], options: &IngestOptions) {
        self.rows_read += 1;
        for (col, values) in &self.skip {
            if values.iter().any(|v| cells.get(*col).is_some_and(|c| c.trim() == v)) {
                self.rows_skipped += 1;
                return;
            }
        }
        if self.fast.is_some() {
            self.fast_row(row_number, cells);
        } else if self.melted.is_empty() {
            self.observation(row_number, cells, None, options);
        } else {
            for m in self.melted.clone() {
                if self.too_large.is_some() {
                    break;
                }
                self.observation(row_number, cells, Some(m), options);
            }
        }
    }

    /// Transform a field's text: `map`, `bands`, `truncate`, `prefix`.
    fn transform(spec: &FieldSpec, text: &str) -> Result<String, FieldProblem> {
        let mut t = spec.map.get(text).cloned().unwrap_or_else(|| text.to_string());
        if !spec.bands.is_empty() {
            let x: f64 = t.trim().parse().map_err(|_| FieldProblem(format!("`{t}` is not a number to band")))?;
            t = spec
                .bands
                .iter()
                .find(|(lo, hi, _)| *lo <= x && x <= *hi)
                .map(|(_, _, code)| code.clone())
                .ok_or_else(|| FieldProblem(format!("{x} falls in no band")))?;
        }
        if let Some(unit) = &spec.truncate {
            let n = match unit.as_str() {
                "year" => 4,
                "month" => 7,
                other => return Err(FieldProblem(format!("cannot truncate to `{other}`"))),
            };
            t = t.get(..n).map(String::from).ok_or_else(|| FieldProblem(format!("`{t}` is too short for a {unit}")))?;
        }
        if let Some(p) = &spec.prefix {
            t = format!("{p}{t}");
        }
        Ok(t)
    }

    fn resolve_code(&mut self, df: &Dataflow, dim: &str, spec: &FieldSpec, text: &str) -> Result<String, FieldProblem> {
        let cacheable = text.len() <= MAX_CACHED_SPELLING_BYTES;
        let cache_key = (df.id.clone(), dim.to_string(), if cacheable { text.to_string() } else { String::new() });
        if cacheable && let Some(r) = self.code_cache.get(&cache_key) {
            return r.clone();
        }
        let result = (|| {
            let t = Self::transform(spec, text)?;
            if t == "_T" || t == "_Z" {
                return Ok(t);
            }
            let list =
                self.catalogue.codelist_for(df, dim).ok_or_else(|| FieldProblem(format!("no code list for {dim}")))?;
            let found = match spec.lookup.as_deref().unwrap_or("name") {
                "code" => list.get(&t).map(|c| c.id.clone()),
                "m49" => list.by_property("m49", &t).map(|c| c.id.clone()),
                "alpha2" => list.by_property("alpha2", &t).map(|c| c.id.clone()),
                _ => list.resolve(&t).map(String::from),
            };
            found.ok_or_else(|| FieldProblem(format!("`{t}` is not a code of {} (dimension {dim})", list.id)))
        })();
        if cacheable && self.code_cache.len() < self.limits.max_cached_spellings {
            self.code_cache.insert(cache_key, result.clone());
        }
        result
    }

    fn observation(&mut self, row: usize, cells: &[&str], melted: Option<usize>, options: &IngestOptions) {
        let mut errors: Vec<(String, Option<usize>, String)> = Vec::new(); // (code, column, message)
        let mut defects: Vec<String> = Vec::new();
        let text_of = |ctx: &Self, name: &str| ctx.field(name).map(|f| ctx.raw(f, cells, melted));

        let Some((df_text, df_col)) = text_of(self, "DATAFLOW") else { return };
        let Some(df) = self.catalogue.dataflow(&df_text).cloned() else {
            self.diag(Severity::Error, "UNKNOWN_DATAFLOW", row, df_col, format!("unknown dataflow `{df_text}`"));
            return;
        };

        // Key: a `DIM=CODE;…` column, or one field per dimension.
        let mut key = vec![String::new(); df.dimensions.len()];
        if let Some((key_text, key_col)) = text_of(self, "KEY") {
            let mut seen = vec![false; key.len()];
            for part in key_text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                let Some((dim, code)) = part.split_once('=') else {
                    errors.push(("BAD_KEY".into(), key_col, format!("`{part}` is not DIM=CODE")));
                    continue;
                };
                let (dim, code) = (dim.trim(), code.trim());
                match df.dimension_index(dim) {
                    Some(i) => {
                        seen[i] = true;
                        let spec = FieldSpec { lookup: Some("code".into()), ..Default::default() };
                        match self.resolve_code(&df, dim, &spec, code) {
                            Ok(c) => key[i] = c,
                            Err(e) => {
                                key[i] = code.to_string();
                                errors.push(("UNKNOWN_CODE".into(), key_col, e.0));
                            }
                        }
                    }
                    None => errors.push(("BAD_KEY".into(), key_col, format!("{} has no dimension {dim}", df.id))),
                }
            }
            for (i, s) in seen.iter().enumerate() {
                if !s {
                    errors.push(("BAD_KEY".into(), key_col, format!("key lacks dimension {}", df.dimensions[i].id)));
                }
            }
        } else {
            for (i, d) in df.dimensions.iter().enumerate() {
                let Some(field) = self.field(&d.id) else {
                    errors.push(("BAD_KEY".into(), None, format!("dimension {} is not mapped", d.id)));
                    continue;
                };
                let spec = field.spec;
                let (text, col) = self.raw(field, cells, melted);
                match self.resolve_code(&df, &d.id, spec, &text) {
                    Ok(c) => key[i] = c,
                    Err(e) => {
                        key[i] = text.clone();
                        errors.push(("UNKNOWN_CODE".into(), col, e.0));
                    }
                }
            }
        }

        let (period_text, period_col) = text_of(self, "TIME_PERIOD").unwrap_or_default();
        let period = match self.field("TIME_PERIOD").map(|f| Self::transform(f.spec, &period_text)) {
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                errors.push(("BAD_PERIOD".into(), period_col, e.0));
                period_text.clone()
            }
            None => period_text.clone(),
        };
        if let Err(e) = validate_time_period(&period) {
            errors.push(("BAD_PERIOD".into(), period_col, e.to_string()));
        }

        let attr = |ctx: &Self, name: &str| {
            let (text, _) = text_of(ctx, name)?;
            let spec = ctx.field(name)?.spec;
            Some(spec.map.get(&text).cloned().unwrap_or(text)).filter(|t| !t.is_empty())
        };
        if let Some(declared) = attr(self, "DEFECT") {
            defects.extend(declared.split('|').map(|d| d.trim().to_string()).filter(|d| !d.is_empty()));
        }

        let (value_text, value_col) = text_of(self, "OBS_VALUE").unwrap_or_default();
        let mut status = match attr(self, "OBS_STATUS") {
            Some(s) => ObsStatus::from_code(&s).unwrap_or_else(|| {
                errors.push((
                    "BAD_STATUS".into(),
                    None,
                    format!("`{s}` is not an observation status (A, E, P, B, M, F, or W for a withdrawn figure)"),
                ));
                ObsStatus::Normal
            }),
            None => ObsStatus::Normal,
        };
        let is_missing_mark = self.mapping.file.missing.iter().any(|m| m == value_text.trim());
        let mut percent = false;
        let mut ambiguous = None;
        let value = if is_missing_mark {
            self.figures.missing(MissingKind::Declared, &value_text, row, value_col);
            None
        } else {
            match parse_number(&value_text, self.mapping.file.decimal) {
                Ok(Parsed::Value { value, percent: p, ambiguous: other, .. }) => {
                    percent = p;
                    match other {
                        // Summed at once: the end of the file comes too late to decide it.
                        Some(comma) if self.mapping.aggregate => {
                            errors.push((
                                "AMBIGUOUS_NUMBER".into(),
                                value_col,
                                summed_ambiguous_message(&value_text, value, comma),
                            ));
                        }
                        Some(comma) => ambiguous = Some((value, comma)),
                        None if self.mapping.file.decimal == DecimalMark::Auto => {
                            self.figures.evidence(decimal_evidence(&value_text), &value_text);
                        }
                        None => {}
                    }
                    Some(value)
                }
                Ok(Parsed::Missing(mark)) => {
                    self.figures.missing(MissingKind::Mark(mark), &value_text, row, value_col);
                    None
                }
                Err(e) => {
                    if defects.iter().any(|d| d == "MALFORMED_NUMBER") {
                        // The file declares the defect: keep the lenient reading, flagged.
                        e.lenient
                    } else {
                        errors.push(("MALFORMED_NUMBER".into(), value_col, number_error_message(&e)));
                        e.lenient
                    }
                }
            }
        };
        // Kept until the end of the file, which decides it from the other figures.
        let ambiguous = ambiguous.map(|(dot, comma)| AmbiguousCell {
            row,
            column: value_col,
            observation: None,
            text: value_text.trim().to_string(),
            dot,
            comma,
        });
        if status == ObsStatus::Withdrawn && value.is_some() {
            errors.push((
                "BAD_STATUS".into(),
                value_col,
                format!("`{}` is withdrawn (status W) and carries a value: a withdrawal has none", value_text.trim()),
            ));
        }
        if value.is_none() && status != ObsStatus::Withdrawn {
            status = ObsStatus::Missing;
        }
        let unit = attr(self, "UNIT").unwrap_or_default();
        if percent && unit != PERCENT_UNIT {
            errors.push(("PERCENT_IN_LEVEL".into(), value_col, percent_in_level_message(&value_text, &unit)));
        }
        let unit_mult = match attr(self, "UNIT_MULT").map(|m| m.parse::<i32>()) {
            Some(Ok(m)) => m,
            Some(Err(_)) => {
                errors.push(("BAD_UNIT_MULT".into(), None, "UNIT_MULT must be a whole power of ten".into()));
                0
            }
            None => 0,
        };
        let source = attr(self, "SOURCE").unwrap_or_default();
        if self.catalogue.source(&source).is_none() {
            errors.push((
                "UNKNOWN_SOURCE".into(),
                self.field("SOURCE").and_then(|f| self.raw(f, cells, melted).1),
                format!("unknown source `{source}`"),
            ));
        }
        let definition = attr(self, "DEFINITION").unwrap_or_default();
        if definition.is_empty() {
            errors.push(("NO_DEFINITION".into(), None, "every figure needs a definition of what is counted".into()));
        }
        let original = attr(self, "ORIGINAL_SOURCE");
        // The cell's own location is the citation unless the file gives one.
        let location = || match (melted.or(value_col), &self.mapping.file.sheet) {
            (Some(c), Some(s)) => format!("{}, sheet \"{s}\", row {row}, column {}", self.file, self.column_label(c)),
            (Some(c), None) => format!("{}, row {row}, column {}", self.file, self.column_label(c)),
            (None, _) => format!("{}, row {row}", self.file),
        };
        let mut citation = attr(self, "CITATION").unwrap_or_else(location);
        if let Some(o) = &original {
            citation.push_str(&format!("; original source: {o}"));
        }
        let note = attr(self, "NOTE");
        let release_label = attr(self, "RELEASE")
            .or_else(|| self.mapping.release.label.clone())
            .unwrap_or_else(|| self.file.to_string());
        let release_date_text = attr(self, "RELEASE_DATE").or_else(|| self.mapping.release.date.clone());
        let release_date = match release_date_text.as_deref().map(Date::parse_loose) {
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                errors.push(("BAD_DATE".into(), None, e.to_string()));
                self.today
            }
            None => self.today,
        };

        if self.mapping.skip_unknown_codes
            && !errors.is_empty()
            && errors.iter().all(|(code, _, _)| code == "UNKNOWN_CODE")
        {
            // Aggregates mixed into a country table: skipped, and said once per spelling.
            self.skip_row(row, errors.into_iter().map(|(_, col, message)| (col, message)));
            self.rows_skipped += usize::from(melted.is_none() || melted == self.melted.first().copied());
            return;
        }
        let fatal = !errors.is_empty();
        for (code, col, message) in errors {
            let severity = if options.allow_defects { Severity::Warning } else { Severity::Error };
            self.diag(severity, &code, row, col, message);
            if !defects.contains(&code) {
                defects.push(code);
            }
        }
        if fatal && (!options.allow_defects || self.catalogue.source(&source).is_none() || df.dimensions.is_empty()) {
            // The file will be rejected (keep reading to report everything), or the row cannot be
            // stored even flagged (no valid source); an ambiguous figure is still decided at the end.
            if let Some(cell) = ambiguous {
                self.figures.ambiguous(cell);
            }
            return;
        }

        if self.mapping.aggregate {
            let k = (df.id.clone(), key.clone(), period.clone());
            if let Some(&i) = self.aggregate_index.get(&k) {
                let o = &mut self.observations[i];
                o.value = match (o.value, value) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                };
                // Missing while every row so far was a missing mark; a figure makes it a sum.
                if value.is_some() && o.status == ObsStatus::Missing {
                    o.status = status;
                }
                return;
            }
        }
        // A sum was not printed by anyone; its citation is the file's rows (or the mapping's).
        // A file that carries the printed form itself (an SDMX message koshi exported) gives it;
        // otherwise the cell is the printed form where it differs from the plain figure.
        let printed = value.filter(|_| !self.mapping.aggregate).and_then(|v| match attr(self, "PRINTED") {
            Some(given) => Some(given),
            None => (value_text.trim() != format_plain(v)).then(|| value_text.trim().to_string()),
        });
        let citation = match (self.mapping.aggregate, attr(self, "CITATION")) {
            (true, None) => {
                let mut citation = aggregate_citation(self.file);
                if let Some(o) = &original {
                    citation.push_str(&format!("; original source: {o}"));
                }
                citation
            }
            _ => citation,
        };
        // Text of this observation's own; interned texts are counted once, when first seen.
        let own_text = citation.len()
            + printed.as_ref().map_or(0, String::len)
            + note.as_ref().map_or(0, String::len)
            + defects.iter().map(String::len).sum::<usize>();
        if !self.admit(row, self.observations.len(), own_text) {
            return;
        }
        if self.mapping.aggregate {
            self.aggregate_index.insert((df.id.clone(), key.clone(), period.clone()), self.observations.len());
        }
        let observation = Observation {
            dataflow: self.intern(&df.id),
            key: key.iter().map(|c| self.intern(c)).collect(),
            time_period: self.intern(&period),
            value,
            printed,
            unit: self.intern(&unit),
            unit_mult,
            status,
            source: self.intern(&source),
            definition: self.intern(&definition),
            citation: Some(citation.into()),
            note,
            defects,
        };
        if let Some(cell) = ambiguous {
            self.figures.ambiguous(AmbiguousCell { observation: Some(self.observations.len()), ..cell });
        }
        self.observations.push(observation);
        self.origins.push(Origin { row, column: melted.or(value_col).map(|c| c as u32) });
        let release = self.release_index(&release_label, release_date);
        self.release_of.push(release);
    }
}
