//! Printing results as an aligned table, CSV or JSON (`--format`).

use std::io::Write;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for reading in a terminal.
    #[default]
    Table,
    /// Comma-separated values with a header row: the JSON fields flattened (nested objects as
    /// `field.sub`, keys joined with `.`, lists with `|`), plain numbers, units in their own columns.
    Csv,
    /// The use case's whole report as one JSON document: the same document the HTTP API
    /// answers (lists carry `total` and `items`; the API adds its paging fields).
    Json,
}

/// What to print: column names and one text row per item for the table, the items for CSV,
/// and the whole report for JSON.
pub struct Printable<'a, R: Serialize + ?Sized, T: Serialize> {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    pub report: &'a R,
    pub items: &'a [T],
}

/// A report as pretty JSON on standard output.
pub fn print_json<R: Serialize + ?Sized>(report: &R) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer_pretty(&mut out, report)?;
    writeln!(out)?;
    Ok(())
}

pub fn print<R: Serialize + ?Sized, T: Serialize>(format: Format, p: &Printable<'_, R, T>) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => {
            drop(out);
            print_json(p.report)?;
        }
        Format::Csv => write_csv(out, p.items)?,
        Format::Table => {
            let widths: Vec<usize> = (0..p.columns.len())
                .map(|c| {
                    p.rows
                        .iter()
                        .map(|r| r.get(c).map(|s| s.chars().count()).unwrap_or(0))
                        .chain(std::iter::once(p.columns[c].chars().count()))
                        .max()
                        .unwrap_or(0)
                        .min(60)
                })
                .collect();
            let line = |cells: Vec<&str>| {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| {
                        let truncated: String = if c.chars().count() > *w {
                            c.chars().take(w.saturating_sub(1)).chain(std::iter::once('…')).collect()
                        } else {
                            c.to_string()
                        };
                        format!("{truncated:<w$}", w = *w)
                    })
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            writeln!(out, "{}", line(p.columns.clone()))?;
            writeln!(
                out,
                "{}",
                line(widths.iter().map(|w| "─".repeat(*w)).collect::<Vec<_>>().iter().map(String::as_str).collect())
            )?;
            for r in &p.rows {
                writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
            }
            if p.rows.is_empty() {
                writeln!(out, "(nothing)")?;
            }
        }
    }
    Ok(())
}

/// CSV for programs: every item's JSON fields, flattened, so the CSV carries exactly what the JSON
/// carries (plain numbers, no thousands separators, unit and unit multiplier in their own columns).
fn write_csv<T: Serialize>(out: impl Write, items: &[T]) -> anyhow::Result<()> {
    let mut columns: Vec<String> = Vec::new();
    let mut records: Vec<Vec<(String, String)>> = Vec::with_capacity(items.len());
    for item in items {
        let mut cells = Vec::new();
        flatten("", &serde_json::to_value(item)?, &mut cells);
        for (name, _) in &cells {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
        records.push(cells);
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&columns)?;
    for cells in records {
        let row: Vec<&str> =
            columns.iter().map(|c| cells.iter().find(|(n, _)| n == c).map(|(_, v)| v.as_str()).unwrap_or("")).collect();
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

fn flatten(prefix: &str, value: &serde_json::Value, cells: &mut Vec<(String, String)>) {
    use serde_json::Value;
    let name = |key: &str| if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&name(k), v, cells);
            }
        }
        Value::Array(list) if list.iter().all(|v| !v.is_object() && !v.is_array()) => {
            // An SDMX key reads as its dotted form; other lists as `a|b`.
            let sep = if prefix == "key" || prefix.ends_with(".key") { "." } else { "|" };
            let parts: Vec<String> = list.iter().map(scalar_text).collect();
            cells.push((prefix.to_string(), parts.join(sep)));
        }
        Value::Array(_) => cells.push((prefix.to_string(), value.to_string())),
        scalar => {
            cells.push((if prefix.is_empty() { "value".into() } else { prefix.to_string() }, scalar_text(scalar)))
        }
    }
}

fn scalar_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => match n.as_f64() {
            // Whole floats print without `.0`, as the figure was published.
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// A figure for people: thousands separated, no spurious decimals.
pub fn num(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) => koshi_core::validate::fmt_num(v),
    }
}

/// Notes go under the table, or to stderr when stdout is CSV or JSON for a program.
pub fn print_notes(format: Format, notes: &[String]) -> anyhow::Result<()> {
    if notes.is_empty() {
        return Ok(());
    }
    if format == Format::Table {
        let mut out = std::io::stdout().lock();
        writeln!(out)?;
        for n in notes {
            writeln!(out, "• {n}")?;
        }
    } else {
        for n in notes {
            eprintln!("{n}");
        }
    }
    Ok(())
}

/// An application error as this command line says it: the request field it names becomes the
/// flag that sets it (`conf_level` → `--conf-level`; `renamed` for flags spelled otherwise, and
/// `positional` fields keep their name).
pub fn with_flags(e: koshi_app::AppError, renamed: &[(&str, &str)], positional: &[&str]) -> anyhow::Error {
    match e {
        koshi_app::AppError::Invalid { field, message } => {
            let flag = match renamed.iter().find(|(f, _)| *f == field) {
                Some((_, flag)) => flag.to_string(),
                None if positional.contains(&field.as_str()) => field,
                None => format!("--{}", field.replace('_', "-")),
            };
            anyhow::anyhow!("{flag}: {message}")
        }
        koshi_app::AppError::Unanswerable(message) if message.contains("load the bundled datasets") => {
            anyhow::anyhow!("{message} (`koshi load-bundled`)")
        }
        other => other.into(),
    }
}
