//! Reading a CSV, TSV or XLSX sheet as a header plus a stream of rows of text cells.
//!
//! Every data row has exactly as many cells as the header has columns: a CSV/TSV record with
//! more or fewer fields, or a sheet cell to the right of the header, is reported as a
//! [`RaggedRow`] (unless the mapping declares a repair, see [`crate::mapping`]) and never passed
//! on shifted or cut.
//!
//! Nothing a file holds can make the reader allocate without bound: [`TableLimits`] bounds the
//! file, its decompressed parts, its rows, columns, cells and the length of a cell, checked
//! before reading (zip entry sizes) or while streaming (cells), each refused with a
//! [`TableError::Limit`] naming the file, sheet and limit.

use std::cell::Cell;
use std::io::{BufRead, Read, Seek};
use std::rc::Rc;

use calamine::{Data, DataRef, Reader, Xlsx};

use crate::mapping::{ExtraFields, FileSpec, ShortRows};

/// Where the bytes of a table come from.
pub enum Input<'a> {
    Path(&'a std::path::Path),
    Bytes(&'a [u8]),
    /// A table already read (an SDMX message's observations): its header and rows, each row
    /// with its number (the line it came from) and as many cells as the header has columns.
    Rows(&'a Rows),
}

/// A table read from a message that is not a table: the columns, and each row with its number
/// and its cells (shared texts: a message repeats its codes, sources and definitions; a row
/// may be shorter than the header, the missing cells being empty).
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<(usize, Vec<std::sync::Arc<str>>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{file}: cannot read: {message}")]
    Read { file: String, message: String },
    #[error("{file}{sheet}: {message}")]
    Shape { file: String, sheet: String, message: String },
    /// The file exceeds one of the [`TableLimits`]; nothing of it is used.
    #[error("{file}{sheet}: {message}")]
    Limit { file: String, sheet: String, message: String },
}

/// Bounds on what the table readers accept, so that no file, however crafted, makes them
/// allocate without bound. The defaults are [`TableLimits::DEFAULT`]; tests lower them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableLimits {
    /// Largest XLSX file as stored (compressed).
    pub max_xlsx_file_bytes: u64,
    /// Largest decompressed worksheet part. The sheet is streamed cell by cell, so this bounds
    /// reading time rather than memory.
    pub max_sheet_part_bytes: u64,
    /// Largest decompressed size of any other XML part (shared strings, styles, workbook,
    /// relationships): the XLSX reader holds these in memory whole.
    pub max_part_bytes: u64,
    /// Largest decompressed size of all XML parts of a workbook together.
    pub max_decompressed_bytes: u64,
    /// Rows of a sheet (Excel's own limit).
    pub max_rows: usize,
    /// Columns of a sheet, fields of a CSV/TSV record (Excel's own limit).
    pub max_columns: usize,
    /// Non-empty cells of a sheet.
    pub max_cells: usize,
    /// Characters of one cell, in any format (Excel's own limit).
    pub max_cell_chars: usize,
    /// Bytes of one CSV/TSV record (a line, or several when a quoted field holds line breaks).
    pub max_record_bytes: usize,
}

impl TableLimits {
    pub const DEFAULT: TableLimits = TableLimits {
        max_xlsx_file_bytes: 256 << 20,
        max_sheet_part_bytes: 2 << 30,
        max_part_bytes: 128 << 20,
        max_decompressed_bytes: 4 << 30,
        max_rows: 1_048_576,
        max_columns: 16_384,
        max_cells: 50_000_000,
        max_cell_chars: 32_767,
        max_record_bytes: 4 << 20,
    };
}

impl Default for TableLimits {
    fn default() -> Self {
        TableLimits::DEFAULT
    }
}

/// A data row whose number of fields differs from the header's, which the mapping does not
/// repair. It is not passed to [`RowSink::row`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaggedRow {
    /// 1-based row number in the file.
    pub row_number: usize,
    /// Columns of the header.
    pub expected: usize,
    /// Fields of the row (for a sheet: up to its last non-empty cell).
    pub found: usize,
    /// For a sheet, the first non-empty cell beyond the header, e.g. `K7`.
    pub cell_beyond_header: Option<String>,
    /// For a long CSV/TSV record: whether all its extra fields are empty.
    pub extra_fields_empty: bool,
}

impl RaggedRow {
    pub fn message(&self) -> String {
        let counts = format!("expected {} fields as the header has, found {}", self.expected, self.found);
        match &self.cell_beyond_header {
            Some(cell) => {
                format!("cell {cell} holds a value to the right of the header ({counts}); the row is not read")
            }
            None if self.found > self.expected && self.extra_fields_empty => format!(
                "{counts}; the extra fields are empty, and a mapping may declare `extra_fields = \"drop_empty\"`; \
                 the row is not read"
            ),
            None if self.found > self.expected => format!(
                "{counts}: an unquoted separator inside a value (`12 345,6`, `(-) 2,234`) splits it in two; \
                 the row is not read"
            ),
            None => format!("{counts}; the row is not read (a mapping may declare `short_rows = \"pad\"`)"),
        }
    }
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
    /// Called for every data row with its 1-based row number in the file and exactly as many
    /// cells as the header has columns; returning false stops reading.
    fn row(&mut self, row_number: usize, cells: &[&str]) -> bool;
    /// Called instead of `row` for a row whose field count differs from the header's;
    /// returning false stops reading.
    fn ragged_row(&mut self, ragged: &RaggedRow) -> bool;
}

/// Read the table into `sink`. Returns the header.
pub fn read_table(
    file_name: &str,
    input: Input<'_>,
    spec: &FileSpec,
    limits: &TableLimits,
    sink: &mut dyn RowSink,
) -> Result<Header, TableError> {
    let read_err = |message: String| TableError::Read { file: file_name.to_string(), message };
    if let Input::Rows(table) = input {
        let header = Header { columns: table.columns.clone(), first_data_row: 2, sheet: None };
        if sink.header(&header) {
            let width = header.columns.len();
            for (number, cells) in &table.rows {
                let mut cells: Vec<&str> = cells.iter().map(|c| &**c).collect();
                cells.resize(width, "");
                if !sink.row(*number, &cells) {
                    break;
                }
            }
        }
        return Ok(header);
    }
    match spec.format.as_str() {
        // The spreadsheet library is fed untrusted bytes: should it panic on a malformed part that the
        // checks before it did not foresee, the file is refused instead of the process dying.
        "xlsx" => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match input {
            Input::Path(p) => {
                let file = std::fs::File::open(p).map_err(|e| read_err(e.to_string()))?;
                let size = file.metadata().map_err(|e| read_err(e.to_string()))?.len();
                check_xlsx_file_size(file_name, size, limits)?;
                read_xlsx(file_name, std::io::BufReader::new(file), spec, limits, sink)
            }
            Input::Bytes(b) => {
                check_xlsx_file_size(file_name, b.len() as u64, limits)?;
                read_xlsx(file_name, std::io::Cursor::new(b), spec, limits, sink)
            }
            Input::Rows(_) => Err(read_err("a table already read is no workbook".into())),
        }))
        .unwrap_or_else(|_| {
            Err(read_err("the workbook is malformed: the spreadsheet reader failed on one of its parts".into()))
        }),
        "csv" | "tsv" => {
            let reader: Box<dyn Read + '_> = match input {
                Input::Path(p) => Box::new(std::fs::File::open(p).map_err(|e| read_err(e.to_string()))?),
                Input::Bytes(b) => Box::new(b),
                Input::Rows(_) => return Err(read_err("a table already read is no CSV file".into())),
            };
            read_delimited(file_name, reader, spec, limits, sink)
        }
        other => Err(read_err(format!("unknown format {other}"))),
    }
}

fn limit_error(file_name: &str, sheet: Option<&str>, message: String) -> TableError {
    TableError::Limit {
        file: file_name.to_string(),
        sheet: sheet.map(|s| format!(", sheet \"{s}\"")).unwrap_or_default(),
        message,
    }
}

/// Whether `text` is longer than `max` characters (counting only when the bytes say it may be).
fn too_long(text: &str, max: usize) -> bool {
    text.len() > max && text.chars().count() > max
}

fn cell_too_long(file_name: &str, sheet: Option<&str>, row: usize, column: usize, limits: &TableLimits) -> TableError {
    limit_error(
        file_name,
        sheet,
        format!(
            "row {row}, column {}: the cell is longer than {} characters (TableLimits::max_cell_chars)",
            column_letter(column),
            limits.max_cell_chars
        ),
    )
}

/// Counts the bytes read since the last record boundary, and fails the read once one record
/// has taken more than `limit` bytes, before the CSV reader buffers it whole.
struct RecordBudget<R> {
    inner: R,
    since_record: Rc<Cell<u64>>,
    limit: u64,
}

impl<R: Read> Read for RecordBudget<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.since_record.get() > self.limit {
            return Err(std::io::Error::other("record too long"));
        }
        let n = self.inner.read(buf)?;
        self.since_record.set(self.since_record.get() + n as u64);
        Ok(n)
    }
}

const CSV_BUFFER_BYTES: usize = 1 << 20;

fn read_delimited(
    file_name: &str,
    reader: Box<dyn Read + '_>,
    spec: &FileSpec,
    limits: &TableLimits,
    sink: &mut dyn RowSink,
) -> Result<Header, TableError> {
    let read_err = |message: String| TableError::Read { file: file_name.to_string(), message };
    let delimiter = spec.delimiter.unwrap_or(if spec.format == "tsv" { '\t' } else { ',' });
    let delimiter = u8::try_from(delimiter)
        .ok()
        .filter(u8::is_ascii)
        .ok_or_else(|| read_err(format!("the delimiter `{delimiter}` is not a single ASCII character")))?;
    let since_record = Rc::new(Cell::new(0u64));
    // The reader's look-ahead buffer counts towards the bytes read since a record started.
    let budget_bytes = (limits.max_record_bytes + CSV_BUFFER_BYTES) as u64;
    let budget = RecordBudget { inner: reader, since_record: since_record.clone(), limit: budget_bytes };
    let mut csv_reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(CSV_BUFFER_BYTES)
        .from_reader(budget);
    let mut record = csv::StringRecord::new();
    let mut row_number = 0usize;
    // One record, checked against the limits; Ok(false) at the end of the file.
    let mut next_record = |record: &mut csv::StringRecord, row_number: usize| -> Result<bool, TableError> {
        let more = csv_reader.read_record(record).map_err(|e| {
            if since_record.get() > budget_bytes {
                limit_error(
                    file_name,
                    None,
                    format!(
                        "row {row_number}: a record longer than {} bytes (TableLimits::max_record_bytes)",
                        limits.max_record_bytes
                    ),
                )
            } else {
                read_err(format!("row {row_number}: {e}"))
            }
        })?;
        since_record.set(0);
        if !more {
            return Ok(false);
        }
        if record.len() > limits.max_columns {
            return Err(limit_error(
                file_name,
                None,
                format!(
                    "row {row_number}: {} fields, more than {} (TableLimits::max_columns)",
                    record.len(),
                    limits.max_columns
                ),
            ));
        }
        if let Some(column) = record.iter().position(|c| too_long(c, limits.max_cell_chars)) {
            return Err(cell_too_long(file_name, None, row_number, column, limits));
        }
        Ok(true)
    };
    let mut header_rows = Vec::new();
    while header_rows.len() < spec.header_rows {
        if !next_record(&mut record, row_number + 1)? {
            return Err(read_err("the file ends before its header".into()));
        }
        row_number += 1;
        if row_number <= spec.skip_rows {
            continue;
        }
        let mut cells: Vec<String> = record.iter().map(String::from).collect();
        if row_number == 1
            && let Some(first) = cells.first_mut()
        {
            *first = first.trim_start_matches('\u{feff}').to_string();
        }
        header_rows.push(cells);
    }
    let header = Header { columns: combine_header_rows(&header_rows), first_data_row: row_number + 1, sheet: None };
    if !sink.header(&header) {
        return Ok(header);
    }
    let width = header.columns.len();
    while next_record(&mut record, row_number + 1)? {
        row_number += 1;
        let mut cells: Vec<&str> = record.iter().collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let repaired = match cells.len().cmp(&width) {
            std::cmp::Ordering::Equal => true,
            std::cmp::Ordering::Less => spec.short_rows == ShortRows::Pad,
            std::cmp::Ordering::Greater => {
                spec.extra_fields == ExtraFields::DropEmpty && cells[width..].iter().all(|c| c.trim().is_empty())
            }
        };
        let go_on = if repaired {
            cells.resize(width, "");
            sink.row(row_number, &cells)
        } else {
            let extra_fields_empty = cells.len() > width && cells[width..].iter().all(|c| c.trim().is_empty());
            let found = cells.len();
            sink.ragged_row(&RaggedRow {
                row_number,
                expected: width,
                found,
                cell_beyond_header: None,
                extra_fields_empty,
            })
        };
        if !go_on {
            break;
        }
    }
    Ok(header)
}

fn check_xlsx_file_size(file_name: &str, size: u64, limits: &TableLimits) -> Result<(), TableError> {
    if size > limits.max_xlsx_file_bytes {
        return Err(limit_error(
            file_name,
            None,
            format!(
                "the workbook has {size} bytes, more than {} (TableLimits::max_xlsx_file_bytes)",
                limits.max_xlsx_file_bytes
            ),
        ));
    }
    Ok(())
}

/// Check the declared sizes of the workbook's XML parts before any is decompressed. The zip
/// reader refuses to inflate an entry beyond its declared size, so these bound what follows.
fn check_xlsx_parts<RS: Read + Seek>(file_name: &str, reader: &mut RS, limits: &TableLimits) -> Result<(), TableError> {
    let read_err = |message: String| TableError::Read { file: file_name.to_string(), message };
    let mut archive =
        zip::ZipArchive::new(reader).map_err(|e| read_err(format!("not an XLSX workbook (a zip archive): {e}")))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| read_err(format!("not an XLSX workbook: {e}")))?;
        let name = entry.name().map(|n| n.to_ascii_lowercase()).unwrap_or_default();
        // Pictures and other binary parts are never read.
        if !(name.ends_with(".xml") || name.ends_with(".rels")) {
            continue;
        }
        let size = entry.size();
        let (limit, what) = if name.contains("worksheets/") {
            (limits.max_sheet_part_bytes, "max_sheet_part_bytes")
        } else {
            (limits.max_part_bytes, "max_part_bytes")
        };
        if size > limit {
            return Err(limit_error(
                file_name,
                None,
                format!(
                    "part `{name}` decompresses to {size} bytes ({} stored), more than {limit} (TableLimits::{what})",
                    entry.compressed_size()
                ),
            ));
        }
        total = total.saturating_add(size);
        if total > limits.max_decompressed_bytes {
            return Err(limit_error(
                file_name,
                None,
                format!(
                    "the workbook's parts decompress to more than {} bytes (TableLimits::max_decompressed_bytes)",
                    limits.max_decompressed_bytes
                ),
            ));
        }
    }
    // The spreadsheet reader computes positions from cell references without checking their
    // length, so an absurd reference (`AAAAAAAAA1`) would land a cell somewhere wrong: refuse it.
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| read_err(format!("not an XLSX workbook: {e}")))?;
        let name = entry.name().map(|n| n.to_ascii_lowercase()).unwrap_or_default();
        if !(name.contains("worksheets/") && name.ends_with(".xml")) {
            continue;
        }
        match check_cell_references(&mut entry) {
            Ok(None) => {}
            Ok(Some(bad)) => return Err(read_err(format!("part `{name}`: {bad}"))),
            Err(io) => return Err(read_err(format!("part `{name}`: {io}"))),
        }
    }
    Ok(())
}

/// The first cell reference (`r="…"` or `ref="…"` attribute) of a worksheet's XML that cannot be
/// a cell of a worksheet: more than 3 column letters or more than 7 row digits.
fn check_cell_references(xml: &mut dyn Read) -> std::io::Result<Option<String>> {
    const MAX_REFERENCE: usize = 64;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, xml);
    let mut window = [0u8; 6]; // the last bytes seen, to spot ` r="` and ` ref="`
    let mut value: Option<Vec<u8>> = None;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        let n = buf.len();
        for &b in buf {
            if let Some(v) = value.as_mut() {
                if b == b'"' {
                    let text = String::from_utf8_lossy(v).into_owned();
                    if let Some(bad) = text.split([':', ' ']).find(|part| !plausible_reference(part)) {
                        return Ok(Some(format!("cell reference `{bad}` lies outside any worksheet")));
                    }
                    value = None;
                } else if v.len() >= MAX_REFERENCE {
                    return Ok(Some("a cell reference longer than 64 characters".into()));
                } else {
                    v.push(b);
                }
                continue;
            }
            window.rotate_left(1);
            window[5] = b;
            let at_attribute = |name: &[u8]| {
                let start = window.len() - name.len() - 3; // whitespace, the name, `="`
                window[start].is_ascii_whitespace()
                    && &window[start + 1..start + 1 + name.len()] == name
                    && &window[start + 1 + name.len()..] == b"=\""
            };
            if at_attribute(b"r") || at_attribute(b"ref") {
                value = Some(Vec::new());
            }
        }
        reader.consume(n);
    }
}

/// Whether `part` (`B12`, `$B$12`, `12`, `B`) fits a worksheet's 3 column letters and 7 row digits;
/// text of another shape is left to the reader to refuse.
fn plausible_reference(part: &str) -> bool {
    let part = part.replace('$', "");
    let letters = part.bytes().take_while(u8::is_ascii_alphabetic).count();
    let digits = part.bytes().skip(letters).take_while(u8::is_ascii_digit).count();
    if letters + digits != part.len() {
        return true;
    }
    letters <= 3 && digits <= 7
}

fn cell_text(cell: DataRef<'_>) -> String {
    match cell {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s,
        DataRef::SharedString(s) => s.to_string(),
        other => excel_cell_text(&Data::from(other)),
    }
}

fn read_xlsx<RS: Read + Seek>(
    file_name: &str,
    mut reader: RS,
    spec: &FileSpec,
    limits: &TableLimits,
    sink: &mut dyn RowSink,
) -> Result<Header, TableError> {
    let read_err = |message: String| TableError::Read { file: file_name.to_string(), message };
    check_xlsx_parts(file_name, &mut reader, limits)?;
    reader.seek(std::io::SeekFrom::Start(0)).map_err(|e| read_err(e.to_string()))?;
    let mut workbook: Xlsx<RS> = Xlsx::new(reader).map_err(|e| read_err(e.to_string()))?;
    let names = workbook.sheet_names();
    let sheet = match &spec.sheet {
        Some(s) if names.contains(s) => s.clone(),
        Some(s) => {
            let known: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
            return Err(read_err(format!("no sheet \"{s}\"; the workbook has {}", known.join(", "))));
        }
        None => names.first().cloned().ok_or_else(|| read_err("the workbook has no sheet".into()))?,
    };
    let shape_err = |message: String| TableError::Shape {
        file: file_name.to_string(),
        sheet: format!(", sheet \"{sheet}\""),
        message,
    };
    let mut cells = workbook.worksheet_cells_reader(&sheet).map_err(|e| shape_err(e.to_string()))?;
    let mut rows = SheetRows::new(&sheet, spec, sink);
    let mut row: Option<u32> = None;
    let mut buffer: Vec<String> = Vec::new();
    let mut cell_count = 0usize;
    while let Some(cell) = cells.next_cell().map_err(|e| shape_err(e.to_string()))? {
        let (r, c) = cell.get_position();
        let text = cell_text(cell.get_value().clone());
        if text.is_empty() {
            continue;
        }
        let (r_index, c_index) = (r as usize, c as usize);
        if r_index >= limits.max_rows {
            return Err(limit_error(
                file_name,
                Some(&sheet),
                format!("a cell in row {}, beyond {} rows (TableLimits::max_rows)", r_index + 1, limits.max_rows),
            ));
        }
        if c_index >= limits.max_columns {
            return Err(limit_error(
                file_name,
                Some(&sheet),
                format!(
                    "a cell in row {}, column {}, beyond {} columns (TableLimits::max_columns)",
                    r_index + 1,
                    c_index + 1,
                    limits.max_columns
                ),
            ));
        }
        cell_count += 1;
        if cell_count > limits.max_cells {
            return Err(limit_error(
                file_name,
                Some(&sheet),
                format!("more than {} non-empty cells (TableLimits::max_cells)", limits.max_cells),
            ));
        }
        if too_long(&text, limits.max_cell_chars) {
            return Err(cell_too_long(file_name, Some(&sheet), r_index + 1, c_index, limits));
        }
        match row {
            Some(current) if current == r => {}
            Some(current) if r < current => {
                return Err(shape_err(format!(
                    "row {} comes after row {} in the sheet's data; rows must be in order",
                    r_index + 1,
                    current as usize + 1
                )));
            }
            Some(current) => {
                if !rows.row(current as usize, std::mem::take(&mut buffer))? {
                    return Ok(rows.into_header());
                }
                row = Some(r);
            }
            None => row = Some(r),
        }
        if buffer.len() <= c_index {
            buffer.resize(c_index + 1, String::new());
        }
        buffer[c_index] = text;
    }
    if let Some(current) = row
        && !rows.row(current as usize, buffer)?
    {
        return Ok(rows.into_header());
    }
    rows.finish().ok_or_else(|| shape_err("fewer rows than the mapping's skip_rows + header_rows".into()))
}

/// Puts a sheet's rows, which arrive in order with gaps, into header and data rows the way
/// the mapping's `skip_rows` and `header_rows` say. Rows above the first non-empty one count
/// as skipped rows too.
struct SheetRows<'s, 'k> {
    sheet: &'s str,
    spec: &'s FileSpec,
    sink: &'k mut dyn RowSink,
    /// 0-based row index of the first header row, once the first non-empty row is known.
    header_start: Option<usize>,
    header_rows: Vec<Vec<String>>,
    header: Option<Header>,
}

impl<'s, 'k> SheetRows<'s, 'k> {
    fn new(sheet: &'s str, spec: &'s FileSpec, sink: &'k mut dyn RowSink) -> Self {
        SheetRows { sheet, spec, sink, header_start: None, header_rows: Vec::new(), header: None }
    }

    fn into_header(self) -> Header {
        self.header.unwrap_or(Header { columns: Vec::new(), first_data_row: 0, sheet: Some(self.sheet.to_string()) })
    }

    /// Emit the header; false if the sink wants no rows.
    fn emit_header(&mut self) -> bool {
        self.header_rows.resize(self.spec.header_rows, Vec::new());
        let start = self.header_start.unwrap_or(0);
        let header = Header {
            columns: combine_header_rows(&self.header_rows),
            first_data_row: start + self.spec.header_rows + 1,
            sheet: Some(self.sheet.to_string()),
        };
        let go_on = self.sink.header(&header);
        self.header = Some(header);
        go_on
    }

    /// One non-empty row (0-based index, cells up to its last non-empty one); Ok(false) stops.
    fn row(&mut self, index: usize, cells: Vec<String>) -> Result<bool, TableError> {
        let start = *self.header_start.get_or_insert(index.max(self.spec.skip_rows));
        if index < start {
            return Ok(true);
        }
        if index < start + self.spec.header_rows {
            self.header_rows.resize(index - start, Vec::new());
            self.header_rows.push(cells);
            return Ok(true);
        }
        if self.header.is_none() && !self.emit_header() {
            return Ok(false);
        }
        if cells.iter().all(|c| c.trim().is_empty()) {
            return Ok(true);
        }
        let width = self.header.as_ref().map_or(0, |h| h.columns.len());
        let row_number = index + 1;
        if cells.len() > width {
            let beyond = (width..cells.len()).find(|&c| !cells[c].trim().is_empty()).unwrap_or(width);
            let ragged = RaggedRow {
                row_number,
                expected: width,
                found: cells.len(),
                cell_beyond_header: Some(format!("{}{row_number}", column_letter(beyond))),
                extra_fields_empty: false,
            };
            return Ok(self.sink.ragged_row(&ragged));
        }
        let mut refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        refs.resize(width, "");
        Ok(self.sink.row(row_number, &refs))
    }

    /// The header once every row is in; none when the sheet is shorter than its header.
    fn finish(mut self) -> Option<Header> {
        if self.header.is_none() {
            if self.header_start.is_none() || self.header_rows.len() < self.spec.header_rows {
                return None;
            }
            self.emit_header();
        }
        Some(self.into_header())
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
