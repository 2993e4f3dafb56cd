//! Job postings in schema.org JSON-LD, the structured data job portals embed in their pages
//! (Kazakhstan's national job portal among them), read into [`Vacancy`] records.
//!
//! [`parse_job_postings`] takes an HTML page or a bare JSON-LD document. In a page it reads every
//! `<script type="application/ld+json">` block (skipping HTML comments and other scripts); in a
//! block it finds the `JobPosting` objects at the top level, in arrays, in `@graph`, in an
//! `ItemList`'s elements and under `mainEntity`; objects of other types are passed over without a
//! word. A reference to another node of the block (`"hiringOrganization": {"@id": "#org"}`, a
//! `jobLocation` naming a `Place` of the `@graph`) is replaced by that node. Of a posting it reads:
//!
//! | property | into |
//! |---|---|
//! | `identifier` (`PropertyValue` value, text or number), else `url` | `source_id` (else a hash of the content, with a warning) |
//! | `title` (else `name`), **required** | `title` (HTML entities decoded, tags dropped) |
//! | `description` | `description` (tags dropped, at most [`MAX_DESCRIPTION_CHARS`]) |
//! | `datePosted` (date or date-time), **required** | `posted` |
//! | `validThrough` (date or date-time) | `valid_through` |
//! | `hiringOrganization` (`Organization` name or legalName, `identifier`/`taxID` as BIN; or text) | `employer` |
//! | `jobLocation` (`Place` → `PostalAddress` `addressRegion`, `addressLocality`; a `PropertyValue` identifier named KATO; text; several places) | `region`, `region_code`, `settlement`, `kato` — one record per place |
//! | `baseSalary` (`MonetaryAmount` with `currency` and `value` a number or a `QuantitativeValue` with `value`/`minValue`/`maxValue` and `unitText` HOUR, DAY, WEEK, MONTH, YEAR; or a bare amount with `salaryCurrency`) | `wage` |
//! | `employmentType` (text or list) | `employment_type` |
//! | `educationRequirements` (text or `EducationalOccupationalCredential` `credentialCategory`) | `education` |
//! | `experienceRequirements` (text or `OccupationalExperienceRequirements` `monthsOfExperience`) | `experience_months` |
//! | `totalJobOpenings` | `openings` |
//! | `occupationalCategory` (text or `CategoryCode` `codeValue`; used only when it starts with a 4-digit code and is not said to be of another code set) | `occupation` |
//! | `url` (absolute http or https) | `url` |
//!
//! Every problem is a [`Diagnostic`] naming the block, the posting (its number on the page and its
//! identifier), the property and what was wrong; a page's problems are all listed, up to
//! [`MAX_DIAGNOSTICS`]. An [`Severity::Error`] means the block or posting was not read (broken
//! JSON, no title, no posting date); a [`Severity::Warning`] means a value was dropped or read with
//! an assumption and the posting kept. The parser never panics: inputs over [`MAX_INPUT_BYTES`]
//! are refused, at most [`MAX_BLOCKS`] blocks, [`MAX_POSTINGS`] postings and [`MAX_LOCATIONS`]
//! places per posting are read, and JSON nesting is bounded by the JSON reader (128 levels).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::vacancy::{
    Bin, Currency, Date, Description, Education, EmploymentType, IscoCode, Kato, MAX_DESCRIPTION_CHARS,
    MAX_TITLE_CHARS, PayPeriod, Region, Vacancy, Wage, clip, experience_months,
};

/// The largest input read, in bytes (8 MiB).
pub const MAX_INPUT_BYTES: usize = 8 << 20;
/// The most JSON-LD blocks read from one page.
pub const MAX_BLOCKS: usize = 200;
/// The most job postings read from one page.
pub const MAX_POSTINGS: usize = 1_000;
/// The most places read from one posting.
pub const MAX_LOCATIONS: usize = 50;
/// The most diagnostics listed for one page.
pub const MAX_DIAGNOSTICS: usize = 5_000;
/// The most openings believed of one posting.
pub const MAX_OPENINGS: u32 = 10_000;
/// Monthly wages in tenge outside this range are reported as implausible (and kept).
pub const PLAUSIBLE_MONTHLY_KZT: (f64, f64) = (10_000.0, 50_000_000.0);

/// How deep in a block's JSON postings are looked for.
const MAX_DEPTH: usize = 16;

/// The postings of a page, with every problem met.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Parsed {
    pub postings: Vec<Vacancy>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// The diagnostics of one posting (by its number on the page).
    pub fn diagnostics_of(&self, posting: usize) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(move |d| d.posting == Some(posting))
    }
}

/// Whether the thing a diagnostic is about was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The page, block or posting was not read.
    Error,
    /// A value was dropped or read with an assumption; the posting was kept.
    Warning,
}

/// One problem, where it was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// 1-based number of the JSON-LD block on the page; 0 for a bare JSON document or the page.
    pub block: usize,
    /// 1-based line of the page: of the fault in broken JSON, else where the block's JSON begins.
    pub line: usize,
    /// 1-based number of the job posting on the page, when the problem is in one.
    pub posting: Option<usize>,
    /// The posting's identifier (or URL), when it has one.
    pub id: Option<String>,
    /// The property, with its path: `baseSalary.value.unitText`, `jobLocation[2].address`.
    pub field: String,
    pub problem: Problem,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: block {} line {}", self.block, self.line)?;
        if let Some(p) = self.posting {
            write!(f, ", posting {p}")?;
        }
        if let Some(id) = &self.id {
            write!(f, " ({id})")?;
        }
        if !self.field.is_empty() {
            write!(f, ", {}", self.field)?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// What was wrong.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    #[error("the input is {bytes} bytes, over the limit of {limit}; nothing is read")]
    TooLarge { bytes: usize, limit: usize },
    #[error("the source name is empty; nothing is read")]
    NoSource,
    #[error("the page has no JSON-LD block")]
    NoJsonLd,
    #[error("the JSON-LD block has no closing </script>; it is not read")]
    Unclosed,
    #[error("more than {limit} JSON-LD blocks; the rest are not read")]
    TooManyBlocks { limit: usize },
    #[error("broken JSON at column {column}: {message}; the block is not read")]
    BadJson { column: usize, message: String },
    #[error("{found} job postings, over the limit of {limit}; the rest are not read")]
    TooManyPostings { found: usize, limit: usize },
    #[error("more than {limit} places; the rest are not read")]
    TooManyLocations { limit: usize },
    #[error("required property missing; the posting is not read")]
    MissingRequired,
    #[error("property missing")]
    Missing,
    #[error("expected {expected}, found {found}; dropped")]
    WrongType { expected: &'static str, found: &'static str },
    #[error("`{value}` is not {expected}")]
    BadValue { value: String, expected: &'static str },
    #[error("`{value}` is not an ISO 8601 date; read as day.month.year")]
    NonIsoDate { value: String },
    #[error("{count} values where one is expected; the first is kept")]
    SeveralValues { count: usize },
    #[error("{chars} characters, cut to {limit}")]
    Truncated { chars: usize, limit: usize },
    #[error("valid-through date {valid_through} is before the posting date {posted}")]
    DateOrder { posted: String, valid_through: String },
    #[error("`{text}` is not a known region or town of Kazakhstan")]
    UnknownPlace { text: String },
    #[error("region `{region}` ({region_code}) and {other} `{text}` ({other_code}) disagree; the region is kept")]
    PlaceMismatch {
        region: String,
        region_code: &'static str,
        other: &'static str,
        text: String,
        other_code: &'static str,
    },
    #[error("no identifier; `{used}` is used as the posting's id")]
    NoIdentifier { used: String },
    #[error("minimum {min} is above maximum {max}; swapped")]
    WageSwapped { min: f64, max: f64 },
    #[error("{monthly:.0} tenge a month is implausible; kept")]
    ImplausibleWage { monthly: f64 },
    #[error("more than {limit} problems; the rest are not listed")]
    TooManyDiagnostics { limit: usize },
}

// ---------------------------------------------------------------------------------------------
// Diagnostics sink and context
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Sink {
    diagnostics: Vec<Diagnostic>,
    full: bool,
}

impl Sink {
    fn push(&mut self, d: Diagnostic) {
        if self.diagnostics.len() < MAX_DIAGNOSTICS {
            self.diagnostics.push(d);
        } else if !self.full {
            self.full = true;
            self.diagnostics.push(Diagnostic {
                problem: Problem::TooManyDiagnostics { limit: MAX_DIAGNOSTICS },
                field: String::new(),
                posting: None,
                id: None,
                ..d
            });
        }
    }

    fn page(&mut self, severity: Severity, block: usize, line: usize, problem: Problem) {
        self.push(Diagnostic { severity, block, line, posting: None, id: None, field: String::new(), problem });
    }
}

/// Where the reader is: which block and posting, to name them in diagnostics.
struct Ctx<'s> {
    sink: &'s mut Sink,
    block: usize,
    line: usize,
    posting: usize,
    id: Option<String>,
}

impl Ctx<'_> {
    fn report(&mut self, severity: Severity, field: &str, problem: Problem) {
        let d = Diagnostic {
            severity,
            block: self.block,
            line: self.line,
            posting: Some(self.posting),
            id: self.id.clone(),
            field: field.to_string(),
            problem,
        };
        self.sink.push(d);
    }

    fn warn(&mut self, field: &str, problem: Problem) {
        self.report(Severity::Warning, field, problem);
    }

    fn error(&mut self, field: &str, problem: Problem) {
        self.report(Severity::Error, field, problem);
    }

    fn bad(&mut self, field: &str, value: &str, expected: &'static str) {
        self.warn(field, Problem::BadValue { value: clip(value, 80), expected });
    }
}

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

struct Block<'a> {
    number: usize,
    /// Line of the page where the text begins.
    line: usize,
    text: &'a str,
}

/// The job postings of an HTML page or a JSON-LD document, each as a [`Vacancy`] from `source`,
/// with every problem met. See the module documentation for what is read and the bounds.
pub fn parse_job_postings(html_or_json: &str, source: &str) -> Parsed {
    let mut sink = Sink::default();
    let mut postings = Vec::new();
    if html_or_json.len() > MAX_INPUT_BYTES {
        sink.page(Severity::Error, 0, 1, Problem::TooLarge { bytes: html_or_json.len(), limit: MAX_INPUT_BYTES });
        return Parsed { postings, diagnostics: sink.diagnostics };
    }
    if source.trim().is_empty() {
        sink.page(Severity::Error, 0, 1, Problem::NoSource);
        return Parsed { postings, diagnostics: sink.diagnostics };
    }
    let text = html_or_json.trim_start_matches('\u{feff}');
    let bare = text.trim_start().starts_with(['{', '[']);
    let blocks = if bare {
        let skipped = text.len() - text.trim_start().len();
        vec![Block { number: 0, line: 1 + count_lines(&text[..skipped]), text: text.trim_start() }]
    } else {
        scan_html(text, &mut sink)
    };
    if blocks.is_empty() && sink.diagnostics.is_empty() {
        sink.page(Severity::Warning, 0, 1, Problem::NoJsonLd);
    }
    let mut found = 0usize;
    for block in &blocks {
        let (json, offset) = unwrap_block(block.text);
        let line = block.line + count_lines(&block.text[..offset]);
        if json.trim().is_empty() {
            continue;
        }
        let value: Value = match serde_json::from_str(json) {
            Ok(v) => v,
            Err(e) => {
                let message = e.to_string();
                let message = message.split(" at line ").next().unwrap_or("").to_string();
                let problem = Problem::BadJson { column: e.column(), message };
                sink.page(Severity::Error, block.number, line + e.line().saturating_sub(1), problem);
                continue;
            }
        };
        let mut objects = Vec::new();
        collect(&value, 0, &mut objects);
        let mut nodes = Nodes::new();
        if !objects.is_empty() {
            index_nodes(&value, 0, &mut nodes);
        }
        for object in objects {
            found += 1;
            if found > MAX_POSTINGS {
                continue;
            }
            let mut cx = Ctx { sink: &mut sink, block: block.number, line, posting: found, id: None };
            postings.extend(read_posting(object, &nodes, source, &mut cx));
        }
    }
    if found > MAX_POSTINGS {
        sink.page(Severity::Error, 0, 1, Problem::TooManyPostings { found, limit: MAX_POSTINGS });
    }
    Parsed { postings, diagnostics: sink.diagnostics }
}

fn count_lines(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

fn find_ci(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    (from..hay.len()).find(|&i| starts_with_ci(&hay[i..], needle))
}

/// The `<script type="application/ld+json">` blocks of a page, in order.
fn scan_html<'a>(page: &'a str, sink: &mut Sink) -> Vec<Block<'a>> {
    let b = page.as_bytes();
    let mut blocks = Vec::new();
    let mut number = 0usize;
    let (mut line_at, mut line) = (0usize, 1usize);
    let mut line_of = |offset: usize| {
        line += count_lines(&page[line_at..offset]);
        line_at = offset;
        line
    };
    let mut i = 0usize;
    while let Some(rel) = b[i..].iter().position(|&c| c == b'<') {
        let at = i + rel;
        if starts_with_ci(&b[at..], b"<!--") {
            i = find_ci(b, at + 4, b"-->").map_or(b.len(), |e| e + 3);
            continue;
        }
        let is_script = starts_with_ci(&b[at..], b"<script")
            && b.get(at + 7).is_none_or(|c| c.is_ascii_whitespace() || *c == b'>' || *c == b'/');
        if !is_script {
            i = at + 1;
            continue;
        }
        let Some((content, is_ld)) = open_tag(b, at + 7) else { break };
        let close = find_ci(b, content, b"</script");
        if is_ld {
            number += 1;
            let line = line_of(content);
            if number > MAX_BLOCKS {
                if number == MAX_BLOCKS + 1 {
                    sink.page(Severity::Error, number, line, Problem::TooManyBlocks { limit: MAX_BLOCKS });
                }
            } else if let Some(end) = close {
                blocks.push(Block { number, line, text: &page[content..end] });
            } else {
                sink.page(Severity::Error, number, line, Problem::Unclosed);
            }
        }
        match close {
            Some(end) => i = end + 8,
            None => break,
        }
    }
    blocks
}

/// Reads a script tag's attributes from just after `<script`; the offset after its `>` and whether
/// its type is JSON-LD. `None` when the tag never ends.
fn open_tag(b: &[u8], mut j: usize) -> Option<(usize, bool)> {
    let mut is_ld = false;
    loop {
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        match b.get(j)? {
            b'>' => return Some((j + 1, is_ld)),
            b'/' => {
                j += 1;
                continue;
            }
            _ => {}
        }
        let name_start = j;
        while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>' | b'/') {
            j += 1;
        }
        let name = &b[name_start..j];
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if b.get(j) != Some(&b'=') {
            continue;
        }
        j += 1;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let (value, next) = match b.get(j)? {
            &q @ (b'"' | b'\'') => {
                let end = j + 1 + b[j + 1..].iter().position(|&c| c == q)?;
                (&b[j + 1..end], end + 1)
            }
            _ => {
                let start = j;
                while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                    j += 1;
                }
                (&b[start..j], j)
            }
        };
        j = next;
        if name.eq_ignore_ascii_case(b"type") {
            let v = String::from_utf8_lossy(value).to_ascii_lowercase();
            is_ld = v.split(';').next().is_some_and(|t| t.trim() == "application/ld+json");
        }
    }
}

/// A block's JSON without the comment or CDATA wrappers some pages put around it, and the byte
/// offset where it begins.
fn unwrap_block(text: &str) -> (&str, usize) {
    let mut start = text.len() - text.trim_start().len();
    let mut t = text.trim();
    for prefix in ["<!--", "//<![CDATA[", "<![CDATA["] {
        if let Some(rest) = t.strip_prefix(prefix) {
            start += prefix.len() + (rest.len() - rest.trim_start().len());
            t = rest.trim_start();
        }
    }
    for suffix in ["-->", "//]]>", "]]>"] {
        if let Some(rest) = t.strip_suffix(suffix) {
            t = rest.trim_end();
        }
    }
    (t, start)
}

fn type_is(m: &Map<String, Value>, name: &str) -> bool {
    let matches = |v: &Value| {
        v.as_str().is_some_and(|t| {
            let t = t.trim();
            let t = t
                .strip_prefix("https://schema.org/")
                .or_else(|| t.strip_prefix("http://schema.org/"))
                .or_else(|| t.strip_prefix("schema:"))
                .unwrap_or(t);
            t == name
        })
    };
    match m.get("@type") {
        Some(Value::Array(items)) => items.iter().any(matches),
        Some(v) => matches(v),
        None => false,
    }
}

/// The `JobPosting` objects of a JSON-LD value.
fn collect<'v>(v: &'v Value, depth: usize, out: &mut Vec<&'v Map<String, Value>>) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Array(items) => items.iter().for_each(|item| collect(item, depth + 1, out)),
        Value::Object(m) => {
            if type_is(m, "JobPosting") {
                out.push(m);
                return;
            }
            for key in ["@graph", "itemListElement", "item", "mainEntity"] {
                if let Some(inner) = m.get(key) {
                    collect(inner, depth + 1, out);
                }
            }
        }
        _ => {}
    }
}

/// The objects of a block that have an `@id`, to resolve references such as
/// `"hiringOrganization": {"@id": "#org"}` to a node of the `@graph`.
type Nodes<'v> = HashMap<&'v str, &'v Value>;

fn index_nodes<'v>(v: &'v Value, depth: usize, out: &mut Nodes<'v>) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Array(items) => items.iter().for_each(|item| index_nodes(item, depth + 1, out)),
        Value::Object(m) => {
            if let Some(Value::String(id)) = m.get("@id")
                && m.len() > 1
            {
                out.entry(id.as_str()).or_insert(v);
            }
            m.values().for_each(|inner| index_nodes(inner, depth + 1, out));
        }
        _ => {}
    }
}

/// A reference (an object with only an `@id`) replaced by the node it names, when the block has it.
fn resolve<'v>(v: &'v Value, nodes: &Nodes<'v>) -> &'v Value {
    if let Value::Object(m) = v
        && m.len() == 1
        && let Some(Value::String(id)) = m.get("@id")
        && let Some(node) = nodes.get(id.as_str())
    {
        node
    } else {
        v
    }
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A property's value, `None` for null, an empty text or an empty list.
fn get<'v>(m: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    match m.get(key)? {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::Array(a) if a.iter().all(|v| v.is_null()) => None,
        v => Some(v),
    }
}

/// One value where one is expected: the first of a list, with a warning when the list has more.
fn one<'v>(v: &'v Value, field: &str, cx: &mut Ctx) -> Option<&'v Value> {
    match v {
        Value::Array(items) => {
            let values: Vec<&Value> = items.iter().filter(|v| !v.is_null()).collect();
            if values.len() > 1 {
                cx.warn(field, Problem::SeveralValues { count: values.len() });
            }
            values.first().copied()
        }
        Value::Null => None,
        v => Some(v),
    }
}

fn list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().filter(|v| !v.is_null()).collect(),
        Value::Null => Vec::new(),
        v => vec![v],
    }
}

/// The text of a value: a string, a number, or an object's `@value` or `name`.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(m) => m.get("@value").or_else(|| m.get("name")).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }),
        _ => None,
    }
}

/// A text property, cleaned (entities decoded, tags dropped, spaces collapsed); a warning when
/// it is of another kind.
fn text_field(m: &Map<String, Value>, key: &str, path: &str, cx: &mut Ctx) -> Option<String> {
    let v = one(get(m, key)?, path, cx)?;
    match text_of(v) {
        Some(t) => Some(clean_text(&t, false)).filter(|t| !t.is_empty()),
        None => {
            cx.warn(path, Problem::WrongType { expected: "text", found: kind(v) });
            None
        }
    }
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "laquo" => '«',
        "raquo" => '»',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "bull" => '•',
        "middot" => '·',
        "ldquo" => '“',
        "rdquo" => '”',
        _ => return None,
    })
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let end = after.char_indices().take(12).find(|(_, c)| *c == ';').map(|(i, _)| i);
        match end.and_then(|e| decode_entity(&after[..e]).map(|c| (c, e))) {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

const BLOCK_TAGS: &[&str] = &["p", "br", "li", "ul", "ol", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table"];

/// HTML in a text value made plain: entities decoded (twice over, as pages often escape their
/// HTML), tags dropped (block tags as line breaks when `lines`), spaces collapsed.
fn clean_text(text: &str, lines: bool) -> String {
    let decoded = decode_entities(text);
    let mut plain = String::with_capacity(decoded.len());
    let mut rest = decoded.as_str();
    while let Some(pos) = rest.find('<') {
        plain.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let is_tag = after.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        match (is_tag, after.find('>')) {
            (true, Some(end)) => {
                let name: String =
                    after.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                let block = BLOCK_TAGS.contains(&name.to_ascii_lowercase().as_str());
                plain.push(if block && lines { '\n' } else { ' ' });
                rest = &after[end + 1..];
            }
            _ => {
                plain.push('<');
                rest = after;
            }
        }
    }
    plain.push_str(rest);
    let plain = if plain.contains('&') { decode_entities(&plain) } else { plain };
    if lines {
        plain
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        plain.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// An amount: a JSON number, or text such as "250 000", "250000.00", "1,5", "250 000 ₸".
fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|x| x.is_finite()),
        Value::String(s) => {
            // The digits from the first token with one to the last; words between them ("от 200 до
            // 300") or a range ("200-300") make it no single amount. The last token may carry a
            // currency ("250000₸").
            let tokens: Vec<&str> = s.split_whitespace().collect();
            let numeric = |t: &str| t.starts_with(|c: char| c.is_ascii_digit());
            let first = tokens.iter().position(|t| numeric(t))?;
            let last = tokens.iter().rposition(|t| numeric(t))?;
            let mut kept = String::new();
            for (i, t) in tokens[first..=last].iter().enumerate() {
                let digits: String = t.chars().take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ',')).collect();
                if digits.len() != t.len() && first + i != last {
                    return None;
                }
                if first + i == last && t[digits.len()..].starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                    return None;
                }
                kept.push_str(&digits);
            }
            let kept = kept.trim_end_matches(['.', ',']);
            if kept.is_empty() || kept.len() > 30 || tokens[..first].iter().any(|t| t.ends_with('-')) {
                return None;
            }
            let normal = match (kept.contains('.'), kept.rfind(',')) {
                (false, Some(pos)) if kept.len() - pos - 1 == 3 => kept.replace(',', ""),
                (false, Some(_)) => kept.replace(',', "."),
                (true, _) => kept.replace(',', ""),
                (false, None) => kept.to_string(),
            };
            normal.parse::<f64>().ok().filter(|x| x.is_finite())
        }
        _ => None,
    }
}

fn date_of(text: &str) -> Option<(Date, bool)> {
    if let Ok(d) = Date::parse_date_or_datetime(text) {
        return Some((d, true));
    }
    // DD.MM.YYYY, as Russian-language pages sometimes write it.
    let head: String = text.trim().chars().take(10).collect();
    let parts: Vec<&str> = head.split('.').collect();
    if let [d, m, y] = parts[..]
        && d.len() <= 2
        && m.len() <= 2
        && y.len() == 4
    {
        let (d, m, y) = (d.parse::<u8>().ok()?, m.parse::<u8>().ok()?, y.parse::<u16>().ok()?);
        return Date::new(y, m, d).ok().map(|date| (date, false));
    }
    None
}

fn date_field(m: &Map<String, Value>, key: &str, cx: &mut Ctx, required: bool) -> Option<Date> {
    let Some(v) = get(m, key) else {
        if required {
            cx.error(key, Problem::MissingRequired);
        }
        return None;
    };
    let Some(text) = one(v, key, cx).and_then(text_of) else {
        let problem = Problem::WrongType { expected: "a date", found: kind(v) };
        if required {
            cx.error(key, problem)
        } else {
            cx.warn(key, problem)
        }
        return None;
    };
    match date_of(&text) {
        Some((d, true)) => Some(d),
        Some((d, false)) => {
            cx.warn(key, Problem::NonIsoDate { value: clip(&text, 40) });
            Some(d)
        }
        None => {
            let problem = Problem::BadValue { value: clip(&text, 80), expected: "a date (YYYY-MM-DD or a date-time)" };
            if required {
                cx.error(key, problem)
            } else {
                cx.warn(key, problem)
            }
            None
        }
    }
}

/// The value of an `identifier`: a `PropertyValue`'s value, or text, or a number.
fn identifier_of(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => m.get("value").or_else(|| m.get("@id")).or_else(|| m.get("name")).and_then(text_of),
        v => text_of(v),
    }
    .map(|t| t.trim().to_string())
    .filter(|t| !t.is_empty())
}

fn property_id(v: &Value) -> Option<String> {
    v.as_object()?.get("propertyID")?.as_str().map(|s| s.trim().to_lowercase())
}

fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0x1f)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

// ---------------------------------------------------------------------------------------------
// The posting
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
struct Place {
    region: Option<String>,
    settlement: Option<String>,
    code: Option<Region>,
    kato: Option<Kato>,
}

fn read_posting<'v>(m: &'v Map<String, Value>, nodes: &Nodes<'v>, source: &str, cx: &mut Ctx) -> Vec<Vacancy> {
    let identifier = get(m, "identifier").and_then(|v| one(v, "identifier", cx)).and_then(identifier_of);
    cx.id = identifier.clone();
    let url = text_field(m, "url", "url", cx);
    let url = match url {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => Some(u),
        Some(u) => {
            cx.bad("url", &u, "an absolute http or https URL");
            None
        }
        None => None,
    };
    cx.id = identifier.clone().or_else(|| url.clone());

    let title = text_field(m, "title", "title", cx).or_else(|| text_field(m, "name", "name", cx));
    if title.is_none() {
        cx.error("title", Problem::MissingRequired);
    }
    if let Some(t) = &title {
        let chars = t.chars().count();
        if chars > MAX_TITLE_CHARS {
            cx.warn("title", Problem::Truncated { chars, limit: MAX_TITLE_CHARS });
        }
    }
    let posted = date_field(m, "datePosted", cx, true);
    let valid_through = date_field(m, "validThrough", cx, false);
    if let (Some(p), Some(v)) = (posted, valid_through)
        && v < p
    {
        cx.warn("validThrough", Problem::DateOrder { posted: p.to_string(), valid_through: v.to_string() });
    }
    let description = get(m, "description").and_then(|v| one(v, "description", cx)).and_then(|v| match text_of(v) {
        Some(t) => {
            let (d, cut) = Description::new(&clean_text(&t, true));
            if cut {
                let chars = clean_text(&t, true).chars().count();
                cx.warn("description", Problem::Truncated { chars, limit: MAX_DESCRIPTION_CHARS });
            }
            Some(d).filter(|d| !d.as_str().is_empty())
        }
        None => {
            cx.warn("description", Problem::WrongType { expected: "text", found: kind(v) });
            None
        }
    });
    let employer = read_employer(m, nodes, cx);
    let places = read_places(m, nodes, cx);
    let wage = read_wage(m, cx);
    let employment_type = read_employment(m, cx);
    let education = read_education(m, cx);
    let experience = read_experience(m, cx);
    let openings = read_openings(m, cx);
    let occupation = read_occupation(m, cx);

    let (Some(title), Some(posted)) = (title, posted) else { return Vec::new() };
    let source_id = match (&identifier, &url) {
        (Some(id), _) => id.clone(),
        (None, Some(u)) => {
            cx.warn("identifier", Problem::NoIdentifier { used: clip(u, 80) });
            u.clone()
        }
        (None, None) => {
            let region =
                places.first().and_then(|p| p.region.clone().or_else(|| p.settlement.clone())).unwrap_or_default();
            let posted_text = posted.to_string();
            let name = employer.name.clone().unwrap_or_default();
            let id = format!("h{:016x}", fnv1a(&[&title, &name, &region, &posted_text]));
            cx.warn("identifier", Problem::NoIdentifier { used: id.clone() });
            id
        }
    };
    let Ok(mut base) = Vacancy::new(source, &source_id, &title, posted) else {
        cx.error("title", Problem::MissingRequired);
        return Vec::new();
    };
    base.url = url;
    base.description = description;
    base.employer = employer;
    base.occupation = occupation;
    base.education = education;
    base.experience_months = experience;
    base.wage = wage;
    base.openings = openings;
    base.employment_type = employment_type;
    base.valid_through = valid_through;
    if places.is_empty() {
        return vec![base];
    }
    let count = places.len() as u16;
    places
        .into_iter()
        .enumerate()
        .map(|(i, place)| {
            let mut v = base.clone();
            if i > 0 {
                v.source_id = format!("{source_id}#{}", i + 1);
            }
            v.region = place.region;
            v.settlement = place.settlement;
            v.region_code = place.code;
            v.kato = place.kato;
            v.location_count = count;
            v
        })
        .collect()
}

fn read_employer<'v>(m: &'v Map<String, Value>, nodes: &Nodes<'v>, cx: &mut Ctx) -> crate::vacancy::Employer {
    let mut employer = crate::vacancy::Employer::default();
    let Some(v) = get(m, "hiringOrganization") else {
        cx.warn("hiringOrganization", Problem::Missing);
        return employer;
    };
    let Some(v) = one(v, "hiringOrganization", cx) else { return employer };
    match resolve(v, nodes) {
        Value::String(s) => employer.name = Some(clean_text(s, false)).filter(|s| !s.is_empty()),
        Value::Object(org) => {
            employer.name = text_field(org, "name", "hiringOrganization.name", cx)
                .or_else(|| text_field(org, "legalName", "hiringOrganization.legalName", cx));
            if employer.name.is_none() {
                cx.warn("hiringOrganization.name", Problem::Missing);
            }
            // A BIN may be the identifier (text, number, PropertyValue, a list of them) or taxID.
            let mut candidates: Vec<(String, String)> = Vec::new();
            for key in ["taxID", "identifier"] {
                for item in get(org, key).map(list).unwrap_or_default() {
                    let named = property_id(item);
                    let is_other = named
                        .as_deref()
                        .is_some_and(|p| !matches!(p, "bin" | "бин" | "бсн" | "iin" | "иин" | "жсн" | "taxid"));
                    if let (Some(text), false) = (identifier_of(item), is_other) {
                        candidates.push((format!("hiringOrganization.{key}"), text));
                    }
                }
            }
            for (field, text) in candidates {
                match Bin::parse(&text) {
                    Ok(bin) => {
                        employer.bin.get_or_insert(bin);
                    }
                    Err(_) => cx.bad(&field, &text, "a BIN (12 digits with a valid check digit)"),
                }
            }
        }
        other => cx
            .warn("hiringOrganization", Problem::WrongType { expected: "an Organization or text", found: kind(other) }),
    }
    employer
}

fn kato_of(m: &Map<String, Value>) -> Option<String> {
    list(get(m, "identifier")?).into_iter().find_map(|item| {
        let named = property_id(item)?;
        matches!(named.as_str(), "kato" | "като" | "қато").then(|| identifier_of(item)).flatten()
    })
}

fn read_places<'v>(m: &'v Map<String, Value>, nodes: &Nodes<'v>, cx: &mut Ctx) -> Vec<Place> {
    let Some(v) = get(m, "jobLocation") else {
        let remote =
            get(m, "jobLocationType").and_then(text_of).is_some_and(|t| t.to_ascii_uppercase().contains("TELECOMMUTE"));
        if !remote {
            cx.warn("jobLocation", Problem::Missing);
        }
        return Vec::new();
    };
    let items = list(v);
    if items.len() > MAX_LOCATIONS {
        cx.warn("jobLocation", Problem::TooManyLocations { limit: MAX_LOCATIONS });
    }
    let several = items.len() > 1;
    let mut places: Vec<Place> = Vec::new();
    for (i, item) in items.into_iter().take(MAX_LOCATIONS).enumerate() {
        let path = if several { format!("jobLocation[{}]", i + 1) } else { "jobLocation".to_string() };
        let mut place = Place::default();
        let mut kato_text = None;
        let item = resolve(item, nodes);
        match item {
            Value::String(s) => place.region = Some(clean_text(s, false)),
            Value::Object(p) => {
                kato_text = kato_of(p);
                let address = get(p, "address")
                    .map(|a| resolve(a, nodes))
                    .or_else(|| type_is(p, "PostalAddress").then_some(item));
                match address {
                    Some(Value::String(s)) => place.region = Some(clean_text(s, false)),
                    Some(Value::Object(a)) => {
                        place.region = text_field(a, "addressRegion", &format!("{path}.address.addressRegion"), cx);
                        place.settlement =
                            text_field(a, "addressLocality", &format!("{path}.address.addressLocality"), cx);
                        kato_text = kato_text.or_else(|| kato_of(a));
                        if place.region.is_none() && place.settlement.is_none() {
                            place.region = text_field(a, "streetAddress", &format!("{path}.address.streetAddress"), cx);
                        }
                    }
                    Some(other) => cx.warn(
                        &format!("{path}.address"),
                        Problem::WrongType { expected: "a PostalAddress or text", found: kind(other) },
                    ),
                    None => {
                        place.region = text_field(p, "name", &format!("{path}.name"), cx);
                    }
                }
            }
            other => cx.warn(&path, Problem::WrongType { expected: "a Place or text", found: kind(other) }),
        }
        if let Some(k) = kato_text {
            match Kato::parse(&k) {
                Ok(kato) => place.kato = Some(kato),
                Err(_) => cx.bad(&format!("{path}.identifier"), &k, "a 9-digit KATO code"),
            }
        }
        if place.region.is_none() && place.settlement.is_none() && place.kato.is_none() {
            cx.warn(&format!("{path}.address"), Problem::Missing);
            continue;
        }
        let by_region = place.region.as_deref().and_then(Region::resolve);
        let by_town = place.settlement.as_deref().and_then(Region::resolve);
        let by_kato = place.kato.as_ref().and_then(Kato::region);
        for (text, code) in [(&place.region, by_region), (&place.settlement, by_town)] {
            if let (Some(t), None) = (text, code) {
                cx.warn(&format!("{path}.address"), Problem::UnknownPlace { text: clip(t, 80) });
            }
        }
        if let (Some(r), Some(t)) = (by_region, by_town)
            && r != t
        {
            cx.warn(
                &format!("{path}.address"),
                Problem::PlaceMismatch {
                    region: place.region.clone().unwrap_or_default(),
                    region_code: r.as_str(),
                    other: "settlement",
                    text: place.settlement.clone().unwrap_or_default(),
                    other_code: t.as_str(),
                },
            );
        }
        place.code = by_region.or(by_town);
        if let (Some(r), Some(k)) = (place.code, by_kato)
            && r != k
        {
            cx.warn(
                &format!("{path}.identifier"),
                Problem::PlaceMismatch {
                    region: place.region.clone().or_else(|| place.settlement.clone()).unwrap_or_default(),
                    region_code: r.as_str(),
                    other: "KATO code",
                    text: place.kato.as_ref().map(|k| k.as_str().to_string()).unwrap_or_default(),
                    other_code: k.as_str(),
                },
            );
        }
        place.code = place.code.or(by_kato);
        if !places.contains(&place) {
            places.push(place);
        }
    }
    places
}

fn amount(v: Option<&Value>, path: &str, cx: &mut Ctx) -> Option<f64> {
    let v = one(v?, path, cx)?;
    match number_of(v) {
        Some(x) if x > 0.0 => Some(x),
        _ => {
            let shown = text_of(v).unwrap_or_else(|| kind(v).to_string());
            cx.bad(path, &shown, "a positive amount");
            None
        }
    }
}

fn read_wage(m: &Map<String, Value>, cx: &mut Ctx) -> Option<Wage> {
    let v = one(get(m, "baseSalary")?, "baseSalary", cx)?;
    let (mut unit, mut currency_text) = (None, None);
    let (mut min, mut max) = match v {
        Value::Number(_) | Value::String(_) => {
            let x = amount(Some(v), "baseSalary", cx);
            (x, x)
        }
        Value::Object(money) => {
            currency_text = text_field(money, "currency", "baseSalary.currency", cx);
            unit = text_field(money, "unitText", "baseSalary.unitText", cx);
            match get(money, "value").and_then(|v| one(v, "baseSalary.value", cx)) {
                Some(Value::Object(q)) => {
                    let single = amount(get(q, "value"), "baseSalary.value.value", cx);
                    let lo = amount(get(q, "minValue"), "baseSalary.value.minValue", cx).or(single);
                    let hi = amount(get(q, "maxValue"), "baseSalary.value.maxValue", cx).or(single);
                    unit = text_field(q, "unitText", "baseSalary.value.unitText", cx).or(unit);
                    (lo, hi)
                }
                Some(x) => {
                    let single = amount(Some(x), "baseSalary.value", cx);
                    (single, single)
                }
                None => {
                    let lo = amount(get(money, "minValue"), "baseSalary.minValue", cx);
                    let hi = amount(get(money, "maxValue"), "baseSalary.maxValue", cx);
                    if lo.is_none() && hi.is_none() {
                        cx.warn("baseSalary.value", Problem::Missing);
                    }
                    (lo, hi)
                }
            }
        }
        other => {
            cx.warn("baseSalary", Problem::WrongType { expected: "a MonetaryAmount", found: kind(other) });
            return None;
        }
    };
    if min.is_none() && max.is_none() {
        return None;
    }
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        cx.warn("baseSalary.value", Problem::WageSwapped { min: lo, max: hi });
        (min, max) = (Some(hi), Some(lo));
    }
    let period = match &unit {
        Some(u) => {
            let p = PayPeriod::parse(u);
            if p.is_none() {
                cx.bad("baseSalary.value.unitText", u, "HOUR, DAY, WEEK, MONTH or YEAR");
            }
            p
        }
        None => {
            cx.warn("baseSalary.value.unitText", Problem::Missing);
            None
        }
    };
    let currency_text = currency_text.or_else(|| text_field(m, "salaryCurrency", "salaryCurrency", cx));
    let currency = match &currency_text {
        Some(c) => match Currency::parse(c) {
            Ok(c) => Some(c),
            Err(_) => {
                cx.bad("baseSalary.currency", c, "a currency code");
                None
            }
        },
        None => {
            cx.warn("baseSalary.currency", Problem::Missing);
            None
        }
    };
    let wage = Wage::new(min, max, currency, period).ok()?;
    if currency == Some(Currency::KZT)
        && let Some((lo, hi)) = wage.monthly_range()
    {
        for x in [lo, hi] {
            if x < PLAUSIBLE_MONTHLY_KZT.0 || x > PLAUSIBLE_MONTHLY_KZT.1 {
                cx.warn("baseSalary.value", Problem::ImplausibleWage { monthly: x });
                break;
            }
        }
    }
    Some(wage)
}

fn read_employment(m: &Map<String, Value>, cx: &mut Ctx) -> Vec<EmploymentType> {
    let mut out = Vec::new();
    for item in get(m, "employmentType").map(list).unwrap_or_default() {
        let Some(text) = text_of(item) else {
            cx.warn("employmentType", Problem::WrongType { expected: "text", found: kind(item) });
            continue;
        };
        // "FULL_TIME, PART_TIME" in one text.
        for part in text.split([',', ';', '/']).map(str::trim).filter(|p| !p.is_empty()) {
            let t = EmploymentType::parse(part).unwrap_or_else(|| {
                cx.bad("employmentType", part, "an employment type (FULL_TIME, PART_TIME, …)");
                EmploymentType::Other
            });
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

fn read_education(m: &Map<String, Value>, cx: &mut Ctx) -> Option<Education> {
    let mut texts = Vec::new();
    for item in get(m, "educationRequirements").map(list).unwrap_or_default() {
        let text = match item {
            Value::Object(c) => ["credentialCategory", "educationalLevel", "name", "description"]
                .iter()
                .find_map(|k| get(c, k).and_then(|v| one(v, "educationRequirements", cx)).and_then(text_of)),
            v => text_of(v),
        };
        match text {
            Some(t) => texts.push(clean_text(&t, false)),
            None => cx.warn(
                "educationRequirements",
                Problem::WrongType { expected: "text or an EducationalOccupationalCredential", found: kind(item) },
            ),
        }
    }
    texts.retain(|t| !t.is_empty());
    if texts.is_empty() {
        return None;
    }
    let education = Education::from_text(&texts.join("; "));
    if education.level.is_none() {
        cx.bad("educationRequirements", &education.text, "an education level");
    }
    Some(education)
}

fn read_experience(m: &Map<String, Value>, cx: &mut Ctx) -> Option<u32> {
    let v = one(get(m, "experienceRequirements")?, "experienceRequirements", cx)?;
    let months = match v {
        Value::Object(req) => match get(req, "monthsOfExperience") {
            Some(x) => match number_of(x) {
                Some(n) if n >= 0.0 => Some(n.round()),
                _ => {
                    let shown = text_of(x).unwrap_or_else(|| kind(x).to_string());
                    cx.bad("experienceRequirements.monthsOfExperience", &shown, "a number of months");
                    return None;
                }
            },
            None => {
                let text = text_field(req, "description", "experienceRequirements.description", cx)?;
                let months = experience_months(&text);
                if months.is_none() {
                    cx.bad("experienceRequirements.description", &text, "an amount of experience");
                }
                months.map(f64::from)
            }
        },
        Value::Number(n) => n.as_f64().map(f64::round),
        v => {
            let Some(text) = text_of(v) else {
                cx.warn("experienceRequirements", Problem::WrongType { expected: "text", found: kind(v) });
                return None;
            };
            let months = experience_months(&text);
            if months.is_none() {
                cx.bad("experienceRequirements", &text, "an amount of experience");
            }
            months.map(f64::from)
        }
    }?;
    if months > 600.0 {
        cx.bad("experienceRequirements", &months.to_string(), "at most 600 months");
        return None;
    }
    Some(months as u32)
}

fn read_openings(m: &Map<String, Value>, cx: &mut Ctx) -> Option<u32> {
    let v = one(get(m, "totalJobOpenings")?, "totalJobOpenings", cx)?;
    match number_of(v) {
        Some(n) if n >= 1.0 && n <= MAX_OPENINGS as f64 && n.fract() == 0.0 => Some(n as u32),
        _ => {
            let shown = text_of(v).unwrap_or_else(|| kind(v).to_string());
            cx.bad("totalJobOpenings", &shown, "a whole number of openings from 1 to 10000");
            None
        }
    }
}

fn read_occupation(m: &Map<String, Value>, cx: &mut Ctx) -> Option<IscoCode> {
    for item in get(m, "occupationalCategory").map(list).unwrap_or_default() {
        let (text, code_set) = match item {
            Value::Object(c) => (
                get(c, "codeValue").or_else(|| get(c, "name")).and_then(text_of),
                get(c, "inCodeSet").and_then(text_of),
            ),
            v => (text_of(v), None),
        };
        let Some(text) = text else { continue };
        let says_isco = code_set.as_deref().map(|s| s.to_ascii_lowercase().contains("isco"));
        if says_isco == Some(false) {
            continue;
        }
        let t = text.trim();
        let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
        let next = t[digits.len()..].chars().next();
        let looks_like = digits.len() == 4 && !matches!(next, Some('-' | '.' | ',' | '/'));
        match (looks_like, says_isco) {
            (true, _) => {
                if let Ok(code) = IscoCode::parse(&digits) {
                    return Some(code);
                }
            }
            (false, Some(true)) => cx.bad("occupationalCategory", t, "a 4-digit ISCO-08 unit group"),
            _ => {}
        }
    }
    None
}
