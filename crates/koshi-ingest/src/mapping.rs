//! The declarative mapping: which columns or cells are which dimensions, which source,
//! definition and release the figures belong to, how numbers are printed.
//!
//! ```toml
//! [file]
//! format = "csv"          # csv | tsv | xlsx
//! header_rows = 1         # header rows; blank (merged) header cells inherit from the left
//! skip_rows = 0           # rows above the header
//! decimal = "auto"        # auto | dot | comma; under auto, `1,234` and `1.234` follow the
//!                         # file's other figures (`19.2`, `464,8`) or are refused as ambiguous
//! missing = ["NaN"]       # further text that means "missing" in this file
//! short_rows = "error"    # error | pad
//! extra_fields = "error"  # error | drop_empty
//!
//! [release]
//! label = "International Migrant Stock 2019"
//! date = "2019-09-17"
//!
//! [fields]                # each: { value = "…" } | { column = "…" } | { template = "…" } | { melt = true }
//! DATAFLOW = { value = "MIG_STOCK" }
//! REF_AREA = { column = "Dest" }
//! COUNTERPART = { melt = true }
//! TIME_PERIOD = { column = "Year" }
//! OBS_VALUE = { melt = true }
//! SOURCE = { value = "UN_DESA" }
//! DEFINITION = { value = "international migrant stock (foreign-born)" }
//! UNIT = { value = "PERS" }
//!
//! [melt]                  # the columns whose header is a code and whose cells are values
//! from = "Afghanistan"
//! ```
//!
//! ## A field built from several columns
//!
//! `template` builds a field's text from the row's cells: each `{name}` is replaced by the
//! (trimmed) cell of the column with that header (or `{#3}`, the third column), and any other
//! text is kept. A period spread over two columns, `year` and `quarter`, is
//! `TIME_PERIOD = { template = "{year}-{quarter}" }` (`2001-Q1`). `map`, `bands`, `truncate`
//! and `prefix` then apply to the built text as they do to a column's; a template must name at
//! least one column, and a column that is not in the header is an error naming the field and
//! the column, as for `column`.
//!
//! ## Rows whose field count differs from the header's
//!
//! A CSV/TSV record with more or fewer fields than the header has is an error (`RAGGED_ROW`,
//! naming the file, the row and both counts) and the row is not read: an unquoted separator
//! inside a value (`12 345,6`, `(-) 2,234`) splits it in two, and reading the first part would
//! store a wrong figure. In a sheet, a value to the right of the header's last column is the
//! same error. Two repairs can be declared in `[file]`, for exporters known to do so:
//!
//! - `short_rows = "pad"`: a record with fewer fields is padded with empty fields (exporters
//!   that omit trailing empty cells). Sheets are always read this way: an absent cell is empty.
//! - `extra_fields = "drop_empty"`: fields beyond the header's are dropped when all of them are
//!   empty (exporters that end every line with a separator). A record whose extra fields hold
//!   any text is never repaired.

use std::collections::BTreeMap;

use koshi_core::number::DecimalMark;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    pub file: FileSpec,
    #[serde(default)]
    pub release: ReleaseSpec,
    pub fields: BTreeMap<String, FieldSpec>,
    #[serde(default)]
    pub melt: Option<MeltSpec>,
    #[serde(default)]
    pub skip: Vec<SkipRule>,
    /// Rows whose codes do not resolve are skipped with a note instead of being errors
    /// (for files that mix countries with regional aggregates).
    #[serde(default)]
    pub skip_unknown_codes: bool,
    /// Sum the values of rows that fall on the same key and period (microdata extracts,
    /// with `OBS_VALUE = { count = true }`).
    #[serde(default)]
    pub aggregate: bool,
    /// Sources declared by the mapping (`[[source]]` tables shaped as in
    /// `data/structure/sources.toml`), for a file whose agency koshi does not know: checked
    /// like the bundled sources and declared in the bank in the same transaction as the figures.
    #[serde(default, rename = "source")]
    pub sources: Vec<DeclaredSource>,
}

/// A source a mapping declares (see [`Mapping::sources`]).
pub type DeclaredSource = koshi_core::structure::Source;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    #[serde(default = "default_format")]
    pub format: String,
    #[serde(default)]
    pub delimiter: Option<char>,
    #[serde(default)]
    pub sheet: Option<String>,
    #[serde(default = "one")]
    pub header_rows: usize,
    #[serde(default)]
    pub skip_rows: usize,
    #[serde(default)]
    pub decimal: DecimalMark,
    /// Further text that marks a missing value in this file.
    #[serde(default)]
    pub missing: Vec<String>,
    /// What a CSV/TSV record with fewer fields than the header is: an error, or padded.
    #[serde(default)]
    pub short_rows: ShortRows,
    /// What a CSV/TSV record with more fields than the header is: an error, or cut when the
    /// extra fields are all empty.
    #[serde(default)]
    pub extra_fields: ExtraFields,
}

/// See the module documentation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortRows {
    #[default]
    Error,
    Pad,
}

/// See the module documentation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtraFields {
    #[default]
    Error,
    DropEmpty,
}

impl Default for FileSpec {
    fn default() -> Self {
        FileSpec {
            format: default_format(),
            delimiter: None,
            sheet: None,
            header_rows: 1,
            skip_rows: 0,
            decimal: DecimalMark::Auto,
            missing: Vec::new(),
            short_rows: ShortRows::Error,
            extra_fields: ExtraFields::Error,
        }
    }
}

fn default_format() -> String {
    "csv".into()
}
fn one() -> usize {
    1
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSpec {
    pub label: Option<String>,
    pub date: Option<String>,
    pub note: Option<String>,
}

/// Where a field's value comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// A constant.
    pub value: Option<String>,
    /// A column, by header text (or `#3` for the third column).
    pub column: Option<String>,
    /// Text built from several columns: `"{year}-{quarter}"` (see the module documentation).
    pub template: Option<String>,
    /// The melted column headers (see `[melt]`).
    #[serde(default)]
    pub melt: bool,
    /// Each row counts 1 (microdata).
    #[serde(default)]
    pub count: bool,
    /// Text → code replacements applied before code-list resolution.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// How a code is looked up: `name` (labels and known spellings, the default), `code`
    /// (exact), `m49` (UN numeric), `alpha2`.
    pub lookup: Option<String>,
    /// `year` or `month`: cut a date (`2024-03-17`) down to its period.
    pub truncate: Option<String>,
    /// Numeric bands → code, e.g. ages: `[[0, 15, "Y0T15"], [16, 62, "Y16T62"]]`.
    #[serde(default)]
    pub bands: Vec<(f64, f64, String)>,
    /// A prefix put before the text (e.g. a year before a month number).
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeltSpec {
    /// First melted column header (inclusive); default: the first column not used by a field.
    pub from: Option<String>,
    /// Last melted column header (inclusive); default: the last column.
    pub to: Option<String>,
    /// Headers inside the range that are not values.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Only these headers.
    #[serde(default)]
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipRule {
    pub column: String,
    pub values: Vec<String>,
    /// Why these rows are skipped (shown in the report).
    pub reason: String,
}

/// The fields every observation needs besides the dataflow's dimensions.
pub const ATTRIBUTE_FIELDS: &[&str] = &[
    "DATAFLOW",
    "KEY",
    "TIME_PERIOD",
    "OBS_VALUE",
    "SOURCE",
    "ORIGINAL_SOURCE",
    "DEFINITION",
    "UNIT",
    "UNIT_MULT",
    "OBS_STATUS",
    "CITATION",
    "PRINTED",
    "NOTE",
    "DEFECT",
    "RELEASE",
    "RELEASE_DATE",
];

#[derive(Debug, thiserror::Error)]
#[error("mapping {file}: {message}")]
pub struct MappingError {
    pub file: String,
    pub message: String,
}

pub fn parse_mapping(file: &str, text: &str) -> Result<Mapping, MappingError> {
    let mapping: Mapping =
        toml::from_str(text).map_err(|e| MappingError { file: file.to_string(), message: e.to_string() })?;
    let err = |message: String| MappingError { file: file.to_string(), message };
    for (name, spec) in &mapping.fields {
        let sources = [spec.value.is_some(), spec.column.is_some(), spec.template.is_some(), spec.melt, spec.count]
            .iter()
            .filter(|b| **b)
            .count();
        if sources != 1 {
            return Err(err(format!("field {name} needs exactly one of value, column, template, melt or count")));
        }
        if let Some(template) = &spec.template {
            template_parts(template).map_err(|e| err(format!("field {name}: template \"{template}\": {e}")))?;
        }
    }
    let melted = mapping.fields.values().filter(|f| f.melt).count();
    if melted > 0 && mapping.melt.is_none() && !mapping.fields.get("OBS_VALUE").is_some_and(|f| f.melt) {
        return Err(err("fields use melt = true but there is no [melt] section".into()));
    }
    if melted == 1 {
        return Err(err("melt needs two fields: the one the headers become and OBS_VALUE".into()));
    }
    if !mapping.fields.contains_key("OBS_VALUE") {
        return Err(err("OBS_VALUE is not mapped".into()));
    }
    if !["csv", "tsv", "xlsx"].contains(&mapping.file.format.as_str()) {
        return Err(err(format!("unknown file format `{}` (csv, tsv, xlsx)", mapping.file.format)));
    }
    Ok(mapping)
}

/// A piece of a field's [`FieldSpec::template`]: text kept as written, or a column's cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    Text(String),
    Column(String),
}

/// The pieces of a template (`"{year}-{quarter}"`: the column `year`, the text `-`, the
/// column `quarter`). An unclosed `{`, a `}` that closes nothing, an empty `{}` and a template
/// that names no column are errors.
pub fn template_parts(template: &str) -> Result<Vec<TemplatePart>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        let open = rest.find('{');
        match (open, rest.find('}')) {
            (_, Some(c)) if open.is_none_or(|o| c < o) => {
                return Err(format!("`}}` at \"{}\" closes no `{{`", &rest[c..]));
            }
            (None, _) => {
                parts.push(TemplatePart::Text(rest.to_string()));
                rest = "";
            }
            (Some(o), _) => {
                if o > 0 {
                    parts.push(TemplatePart::Text(rest[..o].to_string()));
                }
                let after = &rest[o + 1..];
                let end = after.find('}').ok_or_else(|| format!("`{{` at \"{}\" is not closed", &rest[o..]))?;
                let name = after[..end].trim();
                if name.contains('{') {
                    return Err(format!("`{{` inside `{{{name}}}`"));
                }
                if name.is_empty() {
                    return Err("`{}` names no column".into());
                }
                parts.push(TemplatePart::Column(name.to_string()));
                rest = &after[end + 1..];
            }
        }
    }
    if !parts.iter().any(|p| matches!(p, TemplatePart::Column(_))) {
        return Err("names no column (a text without columns is a `value`)".into());
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &str = r#"
[fields]
DATAFLOW = { value = "LAB_MKT" }
OBS_VALUE = { column = "rate" }
"#;

    #[test]
    fn a_template_is_split_into_columns_and_text() {
        use TemplatePart::{Column, Text};
        assert_eq!(
            template_parts("{year}-{quarter}").unwrap(),
            [Column("year".into()), Text("-".into()), Column("quarter".into())]
        );
        assert_eq!(
            template_parts("FY { #2 }/Q{q}").unwrap(),
            [Text("FY ".into()), Column("#2".into()), Text("/Q".into()), Column("q".into())]
        );
        let m = parse_mapping("m.toml", &format!("{FIELDS}TIME_PERIOD = {{ template = \"{{year}}-{{quarter}}\" }}\n"))
            .unwrap();
        assert_eq!(m.fields["TIME_PERIOD"].template.as_deref(), Some("{year}-{quarter}"));
    }

    #[test]
    fn a_malformed_template_is_refused_with_the_reason() {
        for (template, reason) in [
            ("{year-{quarter}", "inside"),
            ("{year}-{quarter", "is not closed"),
            ("year}-{quarter}", "closes no"),
            ("{}-{quarter}", "names no column"),
            ("2001-Q1", "names no column"),
        ] {
            let text = format!("{FIELDS}TIME_PERIOD = {{ template = \"{template}\" }}\n");
            let e = parse_mapping("m.toml", &text).unwrap_err().to_string();
            assert!(e.contains("field TIME_PERIOD: template") && e.contains(reason), "{template}: {e}");
        }
        // A template is one way to fill a field, not a second one beside a column.
        let both = format!("{FIELDS}TIME_PERIOD = {{ column = \"year\", template = \"{{year}}\" }}\n");
        let e = parse_mapping("m.toml", &both).unwrap_err().to_string();
        assert!(e.contains("exactly one of value, column, template, melt or count"), "{e}");
    }
}
