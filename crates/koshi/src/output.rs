//! Printing results as an aligned table, CSV or JSON (`--format`).

use std::io::Write;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for reading in a terminal.
    #[default]
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON array of objects, with every field.
    Json,
}

/// Rows to print: column names, one text row per item, and the items for JSON.
pub struct Printable<'a, T: Serialize> {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    pub items: &'a [T],
}

pub fn print<T: Serialize>(format: Format, p: &Printable<'_, T>) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, p.items)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&p.columns)?;
            for r in &p.rows {
                w.write_record(r)?;
            }
            w.flush()?;
        }
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
            writeln!(out, "{}", line(widths.iter().map(|w| "─".repeat(*w)).collect::<Vec<_>>().iter().map(String::as_str).collect()))?;
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
