//! Reading a CSV, TSV or XLSX sheet as a header plus a stream of rows of text cells.

use std::io::Read;

use calamine::{open_workbook_auto_from_rs, Data, Reader};

use crate::mapping::FileSpec;

/// Where the bytes of a table come from.
pub enum Input<'a> {
    Path(&'a std::path::Path),
    Bytes(&'a [u8]),
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{file}: cannot read: {message}")]
    Read { file: String, message: String },
    #[error("{file}{sheet}: {message}")]
    Shape { file: String, sheet: String, message: String },
}

/// The header of a table and where its data rows start.
#[derive(Debug, Clone)]
pub struct Header {
    /// One name per column; multi-row headers are joined with " / ".
    pub columns: Vec<String>,
    /// 1-based number of the first data row in the file.
    pub first_data_row: usize,
    pub sheet: Option<String>,
}

/// Column letters as spreadsheets show them (0 → A, 27 → AB).
pub fn column_letter(mut index: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Build column names from header rows: blank cells of the upper rows inherit from the left
/// (merged group headers), blank cells of the last row stay blank, parts join with " / ".
pub fn combine_header_rows(rows: &[Vec<String>]) -> Vec<String> {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut filled: Vec<Vec<String>> = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        let mut out = Vec::with_capacity(width);
        let mut last = String::new();
        for c in 0..width {
            let cell = row.get(c).map(|s| s.trim().to_string()).unwrap_or_default();
            if cell.is_empty() && r + 1 < rows.len() {
                out.push(last.clone());
            } else {
                last = cell.clone();
                out.push(cell);
            }
        }
        filled.push(out);
    }
    (0..width)
        .map(|c| {
            let mut parts: Vec<&str> = Vec::new();
            for row in &filled {
                let p = row[c].as_str();
                if !p.is_empty() && parts.last() != Some(&p) {
                    parts.push(p);
                }
            }
            if parts.is_empty() { format!("#{}", c + 1) } else { parts.join(" / ") }
        })
        .collect()
}

fn excel_cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                format!("{f}")
            }
        }
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// What a table is read into.
pub trait RowSink {
    /// Called once with the header; returning false stops reading.
    fn header(&mut self, header: &Header) -> bool;
    /// Called for every data row with its 1-based row number in the file.
    fn row(&mut self, row_number: usize, cells: &[&str]);
}

/// Read the table into `sink`. Returns the header.
pub fn read_table(file_name: &str, input: Input<'_>, spec: &FileSpec, sink: &mut dyn RowSink) -> Result<Header, TableError> {
    let read_err = |message: String| TableError::Read { file: file_name.to_string(), message };
    match spec.format.as_str() {
        "xlsx" => {
            let bytes = match input {
                Input::Path(p) => std::fs::read(p).map_err(|e| read_err(e.to_string()))?,
                Input::Bytes(b) => b.to_vec(),
            };
            let mut workbook =
                open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|e| read_err(e.to_string()))?;
            let sheet = match &spec.sheet {
                Some(s) => s.clone(),
                None => workbook.sheet_names().first().cloned().ok_or_else(|| read_err("the workbook has no sheet".into()))?,
            };
            let range = workbook.worksheet_range(&sheet).map_err(|e| TableError::Shape {
                file: file_name.to_string(),
                sheet: format!(", sheet \"{sheet}\""),
                message: e.to_string(),
            })?;
            let start_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
            let start_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
            let rows: Vec<Vec<String>> = range
                .rows()
                .map(|r| {
                    let mut cells = vec![String::new(); start_col];
                    cells.extend(r.iter().map(excel_cell_text));
                    cells
                })
                .collect();
            // Rows above the used range count as skipped rows too.
            let skip = spec.skip_rows.saturating_sub(start_row);
            if rows.len() < skip + spec.header_rows {
                return Err(TableError::Shape {
                    file: file_name.to_string(),
                    sheet: format!(", sheet \"{sheet}\""),
                    message: "fewer rows than the mapping's skip_rows + header_rows".into(),
                });
            }
            let header = Header {
                columns: combine_header_rows(&rows[skip..skip + spec.header_rows]),
                first_data_row: start_row + skip + spec.header_rows + 1,
                sheet: Some(sheet),
            };
            if !sink.header(&header) {
                return Ok(header);
            }
            let mut cells: Vec<&str> = Vec::new();
            for (i, row) in rows[skip + spec.header_rows..].iter().enumerate() {
                cells.clear();
                cells.extend(row.iter().map(String::as_str));
                if cells.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                sink.row(header.first_data_row + i, &cells);
            }
            Ok(header)
        }
        "csv" | "tsv" => {
            let delimiter = spec.delimiter.unwrap_or(if spec.format == "tsv" { '\t' } else { ',' });
            let reader: Box<dyn Read + '_> = match input {
                Input::Path(p) => Box::new(std::fs::File::open(p).map_err(|e| read_err(e.to_string()))?),
                Input::Bytes(b) => Box::new(b),
            };
            let mut csv_reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delimiter as u8)
                .buffer_capacity(1 << 20)
                .from_reader(reader);
            let mut record = csv::StringRecord::new();
            let mut header_rows = Vec::new();
            let mut row_number = 0usize;
            while header_rows.len() < spec.header_rows {
                let more = csv_reader.read_record(&mut record).map_err(|e| read_err(e.to_string()))?;
                if !more {
                    return Err(read_err("the file ends before its header".into()));
                }
                row_number += 1;
                if row_number <= spec.skip_rows {
                    continue;
                }
                let mut cells: Vec<String> = record.iter().map(String::from).collect();
                if row_number == 1
                    && let Some(first) = cells.first_mut() {
                        *first = first.trim_start_matches('\u{feff}').to_string();
                    }
                header_rows.push(cells);
            }
            let header = Header { columns: combine_header_rows(&header_rows), first_data_row: row_number + 1, sheet: None };
            if !sink.header(&header) {
                return Ok(header);
            }
            loop {
                match csv_reader.read_record(&mut record) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => return Err(read_err(format!("row {}: {e}", row_number + 1))),
                }
                row_number += 1;
                let cells: Vec<&str> = record.iter().collect();
                if cells.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                sink.row(row_number, &cells);
            }
            Ok(header)
        }
        other => Err(read_err(format!("unknown format {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_group_headers_are_inherited() {
        let rows = vec![
            vec!["Level".into(), "CIS countries".into(), "".into(), "Other".into(), "".into()],
            vec!["".into(), "Balance".into(), "Arrived".into(), "Balance".into(), "Arrived".into()],
        ];
        assert_eq!(
            combine_header_rows(&rows),
            vec!["Level", "CIS countries / Balance", "CIS countries / Arrived", "Other / Balance", "Other / Arrived"]
        );
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(27), "AB");
    }
}
