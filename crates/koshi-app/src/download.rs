//! Downloads: a selection of a dataflow as one ZIP file a user can cite — `data.csv` (one row per
//! figure, codes and their English labels, plain numbers in the unit itself, source, definition,
//! release and citation), `metadata.json` (the selection, the dataflow's structure, the sources
//! and releases the figures came from, the bank's state) and `README.md` (what the file holds, how
//! to cite it and the terms each source's figures come under).

use std::collections::BTreeMap;
use std::io::Write;

use koshi_core::{Catalogue, Labels};
use serde::Serialize;

use crate::App;
use crate::bank::{Figures, QueryRequest};
use crate::error::{AppError, Result};

/// More rows than this is not one download: narrower selections are asked for instead.
pub const MAX_DOWNLOAD_ROWS: usize = 200_000;

/// A file ready to be saved.
#[derive(Debug, Clone)]
pub struct Download {
    /// A file name that says what is inside (`koshi-MIG_EXT-KAZ.WLD._T._T.NET.zip`).
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// Figures in `data.csv`.
    pub rows: usize,
}

/// What a figure's code stands for.
fn code_labels(catalogue: &Catalogue, dataflow: &str, codelist: &str, code: &str) -> Labels {
    let list = if codelist == "MEASURE" { format!("MEASURE:{dataflow}") } else { codelist.to_string() };
    catalogue.codelist(&list).and_then(|l| l.get(code)).map(|c| c.labels.clone()).unwrap_or_else(|| Labels {
        en: code.into(),
        ru: code.into(),
        kk: code.into(),
    })
}

#[derive(Serialize)]
struct SourceUsed {
    id: String,
    name: Labels,
    url: Option<String>,
    licence: Option<String>,
    releases: Vec<ReleaseUsed>,
}

#[derive(Serialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ReleaseUsed {
    label: String,
    release_date: String,
}

#[derive(Serialize)]
struct Column {
    name: String,
    meaning: String,
}

#[derive(Serialize)]
struct Metadata<'a> {
    dataflow: &'a str,
    name: &'a Labels,
    description: &'a str,
    selection: &'a QueryRequest,
    rows: usize,
    /// When the file was made, by the application's clock (seconds since 1970, UTC).
    made_at: i64,
    /// The bank's state the figures were read in.
    bank_generation: String,
    columns: Vec<Column>,
    sources: Vec<SourceUsed>,
}

impl App {
    /// The figures a query selects (all of them, not a page) as a ZIP of CSV, metadata and README.
    pub fn download(&self, request: &QueryRequest) -> Result<Download> {
        let request = QueryRequest { page: None, ..request.clone() };
        let catalogue = self.catalogue()?;
        let generation = self.generation()?;
        let report = self.query(&QueryRequest {
            page: Some(crate::PageRequest { offset: 0, limit: MAX_DOWNLOAD_ROWS + 1 }),
            ..request.clone()
        })?;
        if report.total > MAX_DOWNLOAD_ROWS {
            return Err(AppError::invalid(
                "key",
                format!(
                    "the selection holds {} figures, more than {MAX_DOWNLOAD_ROWS} in one download: choose fewer codes or periods",
                    report.total
                ),
            ));
        }
        let dataflow = catalogue
            .dataflow(&report.dataflow)
            .ok_or_else(|| AppError::invalid("dataflow", format!("no dataflow `{}`", report.dataflow)))?;

        // One row per figure: the key's codes with their labels, the value in the unit itself.
        let mut csv = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = Vec::new();
        for d in &dataflow.dimensions {
            header.push(d.id.clone());
            header.push(format!("{}_label", d.id));
        }
        let tail = [
            "time_period",
            "value",
            "unit",
            "status",
            "source",
            "definition",
            "release",
            "release_date",
            "citation",
            "defects_or_reason",
        ];
        header.extend(tail.iter().map(|s| s.to_string()));
        let write_error = |e: csv::Error| AppError::Unanswerable(format!("writing the CSV: {e}"));
        csv.write_record(&header).map_err(write_error)?;
        let mut used: BTreeMap<String, Vec<ReleaseUsed>> = BTreeMap::new();
        let mut row = |r: CsvRow<'_>| -> Result<()> {
            let mut record: Vec<String> = Vec::with_capacity(header.len());
            for (d, code) in dataflow.dimensions.iter().zip(r.key) {
                record.push(code.clone());
                record.push(code_labels(&catalogue, &dataflow.id, &d.codelist, code).en);
            }
            record.push(r.period.to_string());
            // Plain numbers: no separators, full precision, empty when missing.
            record.push(r.value.map(|v| v.to_string()).unwrap_or_default());
            for text in [r.unit, r.status, r.source, r.definition, r.release, r.release_date, r.citation.unwrap_or("")]
            {
                record.push(text.to_string());
            }
            record.push(r.defects_or_reason);
            csv.write_record(&record).map_err(write_error)?;
            let releases = used.entry(r.source.to_string()).or_default();
            let release = ReleaseUsed { label: r.release.to_string(), release_date: r.release_date.to_string() };
            if !releases.contains(&release) {
                releases.push(release);
            }
            Ok(())
        };
        let rows = report.items.len();
        match &report.items {
            Figures::Observations(items) => {
                for o in items {
                    row(CsvRow {
                        key: &o.key,
                        period: &o.time_period,
                        value: o.value_base,
                        unit: &o.unit,
                        status: &o.status,
                        source: &o.source,
                        definition: &o.definition,
                        release: &o.release_label,
                        release_date: &o.release_date,
                        citation: o.citation.as_deref(),
                        defects_or_reason: o.defects.join(" "),
                    })?;
                }
            }
            Figures::Harmonised(items) => {
                for h in items {
                    row(CsvRow {
                        key: &h.key,
                        period: &h.time_period,
                        value: h.value_base,
                        unit: &h.unit,
                        status: &h.status,
                        source: &h.source,
                        definition: &h.definition,
                        release: &h.release_label,
                        release_date: &h.release_date,
                        citation: h.citation.as_deref(),
                        defects_or_reason: h.reason.clone(),
                    })?;
                }
            }
        }
        let csv = csv.into_inner().map_err(|e| AppError::Unanswerable(format!("writing the CSV: {e}")))?;

        let sources: Vec<SourceUsed> = used
            .into_iter()
            .map(|(id, mut releases)| {
                releases.sort();
                let known = catalogue.source(&id);
                SourceUsed {
                    name: known
                        .map(|s| s.name.clone())
                        .unwrap_or_else(|| Labels { en: id.clone(), ..Labels::default() }),
                    url: known.and_then(|s| s.url.clone()),
                    licence: known.and_then(|s| s.licence.clone()),
                    id,
                    releases,
                }
            })
            .collect();
        let mut columns: Vec<Column> = Vec::new();
        for d in &dataflow.dimensions {
            columns.push(Column { name: d.id.clone(), meaning: format!("code of the {} code list", d.codelist) });
            columns.push(Column {
                name: format!("{}_label", d.id),
                meaning: "what the code stands for, in English".into(),
            });
        }
        for (name, meaning) in [
            ("time_period", "year (YYYY), month (YYYY-MM), day or span, as the source dates it"),
            ("value", "the figure in the unit itself (persons, not thousands); empty when the source gives none"),
            ("unit", "the unit of value"),
            ("status", "SDMX observation status (A normal, E estimated, P provisional, …)"),
            ("source", "who published the figure (see sources below)"),
            ("definition", "what the source counts, in its own terms"),
            ("release", "the release (vintage) the figure was read from"),
            ("release_date", "when that release was published"),
            ("citation", "where in the release the figure stands"),
            (
                "defects_or_reason",
                "defects found or declared (all figures), or why this figure was chosen (harmonised view)",
            ),
        ] {
            columns.push(Column { name: name.into(), meaning: meaning.into() });
        }
        let metadata = Metadata {
            dataflow: &dataflow.id,
            name: &dataflow.name,
            description: &dataflow.description,
            selection: &request,
            rows,
            made_at: self.clock_seconds(),
            bank_generation: format!("{generation:?}"),
            columns,
            sources,
        };
        let metadata_json = serde_json::to_vec_pretty(&metadata).map_err(|e| AppError::Unanswerable(e.to_string()))?;
        let readme = readme(&metadata, &self.today().to_string());

        let file_stem = download_stem(&dataflow.id, &request.keys);
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let zip_error = |e: zip::result::ZipError| AppError::Unanswerable(format!("writing the ZIP file: {e}"));
        for (name, bytes) in
            [("data.csv", &csv), ("metadata.json", &metadata_json), ("README.md", &readme.into_bytes())]
        {
            zip.start_file(format!("{file_stem}/{name}"), options).map_err(zip_error)?;
            zip.write_all(bytes).map_err(|e| AppError::Unanswerable(format!("writing the ZIP file: {e}")))?;
        }
        let bytes = zip.finish().map_err(zip_error)?.into_inner();
        Ok(Download { file_name: format!("{file_stem}.zip"), bytes, rows })
    }
}

/// `koshi-<dataflow>[-<key>]`, with only characters safe in a file name.
/// One line of the download's `data.csv`: an observation or a harmonised figure, whichever was asked.
struct CsvRow<'a> {
    key: &'a [String],
    period: &'a str,
    value: Option<f64>,
    unit: &'a str,
    status: &'a str,
    source: &'a str,
    definition: &'a str,
    release: &'a str,
    release_date: &'a str,
    citation: Option<&'a str>,
    /// The observation's defect codes, or why the harmonised figure was chosen.
    defects_or_reason: String,
}

fn download_stem(dataflow: &str, keys: &[String]) -> String {
    let mut stem = format!("koshi-{dataflow}");
    if !keys.is_empty() {
        stem.push('-');
        stem.push_str(&keys.join("_"));
    }
    let safe: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .take(120)
        .collect();
    safe
}

fn readme(m: &Metadata<'_>, today: &str) -> String {
    let mut text = format!(
        "# {} ({})\n\n{}\n\n{} figures, made by koshi on {today}.\n\n",
        m.name.en, m.dataflow, m.description, m.rows
    );
    text.push_str("## Selection\n\n");
    text.push_str(&format!(
        "- keys: {}\n- as known on: {}\n- view: {}\n- periods: {} to {}\n\n",
        if m.selection.keys.is_empty() { "all".to_string() } else { m.selection.keys.join(" AND ") },
        m.selection.as_of.as_deref().unwrap_or("the latest releases"),
        if m.selection.harmonised {
            "harmonised (one figure per key and period, chosen by the dataflow's policy)"
        } else {
            "every source's figures side by side"
        },
        m.selection.from.as_deref().unwrap_or("the first"),
        m.selection.to.as_deref().unwrap_or("the last"),
    ));
    text.push_str("## Files\n\n- `data.csv`: one row per figure; `metadata.json` lists what each column means.\n");
    text.push_str("- `metadata.json`: the selection, the dataflow, the sources and releases, the columns.\n\n");
    text.push_str("## How to cite\n\nCite the sources below (each figure's `source`, `release` and `citation` columns say where it stands), and this compilation as: koshi migration data bank, ");
    text.push_str(&format!("dataflow {}, retrieved {today}.\n\n## Sources and their terms\n\n", m.dataflow));
    for s in &m.sources {
        text.push_str(&format!("- **{}** — {}", s.id, s.name.en));
        if let Some(url) = &s.url {
            text.push_str(&format!(" ({url})"));
        }
        text.push_str(&format!(
            ". Terms: {}. Releases: {}.\n",
            s.licence.as_deref().unwrap_or("as stated by the source"),
            s.releases.iter().map(|r| format!("{} ({})", r.label, r.release_date)).collect::<Vec<_>>().join("; ")
        ));
    }
    text
}
