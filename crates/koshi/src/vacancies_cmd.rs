//! `koshi vacancies …`, `koshi labour-demand` and `koshi shortage …`: the regional vacancy
//! database from the command line, as its operator (the person with the registry's file or
//! database in hand, who has every role's rights): importing job portals' pages and employment
//! centres' exports, searching, the review queue, job seekers' counts, the labour-demand
//! indicators and the shortage assessment and list. The use cases live in
//! `koshi_app::registry` (vacancies and demand); the server offers the same to signed-in users
//! under `/api/vacancies`, `/api/labour-demand` and `/api/shortage`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use koshi_app::registry::{
    Actor, AdjustmentInput, AssessmentView, CodeRequest, CodingState, DemandRequest, ImportFormat, MAX_IMPORT_BYTES,
    SeekerInput, SeekersRequest, ShortageListRequest, ShortageReport, ShortageRequest, VacancyDetail, VacancyImport,
    VacancySearch, VacancyStatus, VacancyView,
};
use koshi_app::{App, AppError};

use crate::output::{Format, Printable, num, print, print_json};

// ---------------------------------------------------------------- koshi vacancies

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
koshi vacancies import data/labour/vacancies/examples/portal_shymkent.html --source national-portal\n  \
koshi vacancies import data/labour/vacancies/examples/centre_shymkent.csv --source centre-shymkent \\\n      \
--mapping data/labour/vacancies/examples/centre_export.toml --snapshot --as-of 2026-02-28\n  \
koshi vacancies search --region KZ-79 --q сварщик\n  \
koshi vacancies show 1\n  \
koshi vacancies seekers data/labour/vacancies/examples/seekers_shymkent.csv --source centre-shymkent\n\n\
The vacancies live in the work-permit registry (koshi.registry.db beside the bank, or --registry).")]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Import a job portal's page (schema.org JobPosting JSON-LD) or an employment centre's
    /// CSV/TSV/XLSX export (through a mapping); one transaction, a file with a problem writes nothing.
    #[command(long_about = "Import one file of postings from one source, in one transaction.\n\n\
What the file is comes from its extension: .html, .htm, .json and .jsonld are read for schema.org `JobPosting` \
JSON-LD (the format Kazakhstan's national job portal embeds in its pages); .csv, .tsv and .xlsx are tables read \
through a mapping (TOML) that says which column holds the posting's number, title, region or KATO code, the day \
it was posted, and the rest (see data/labour/vacancies/examples/centre_export.toml); a TSV's mapping says \
`format = \"tsv\"` in its [file] part.\n\n\
Postings are keyed by --source and their id there: a posting seen before is updated when it changed (a new state \
dated --as-of, or the day it was filled or closed), a new one is added, a repeat of a vacancy already known from \
another source is kept and marked as a repeat. Titles without an ISCO-08 code are coded; the uncertain ones wait \
in the region's review queue (`koshi vacancies queue`). With --snapshot the file lists every open vacancy of the \
source: those it no longer lists are closed on --as-of, never deleted.\n\n\
Every problem of the file is named by row (the file's line) and column, and nothing is written until the whole \
file is good; the largest file read is 64 MiB.\n\n\
Examples:\n  koshi vacancies import data/labour/vacancies/examples/portal_shymkent.html --source national-portal\n  \
koshi vacancies import data/labour/vacancies/examples/centre_shymkent.csv --source centre-shymkent \\\n      \
--mapping data/labour/vacancies/examples/centre_export.toml --snapshot --as-of 2026-02-28")]
    Import {
        /// The file: .html/.htm/.json/.jsonld (JSON-LD), or .csv/.tsv/.xlsx (a table, with --mapping).
        file: PathBuf,
        /// The source's name, a code such as national-portal or centre-almaty (not `registry`).
        #[arg(long)]
        source: String,
        /// For a table: the mapping (TOML) saying which column holds what.
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// The file lists every open vacancy of the source: close those it no longer lists.
        #[arg(long)]
        snapshot: bool,
        /// The day the file shows, YYYY-MM-DD (today by default): the date of the changes it brings.
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Find vacancies by region, occupation, words of the title, employer or settlement, and status.
    #[command(long_about = "Find vacancies, oldest first. Repeats of a vacancy posted on another source are left \
out unless --with-duplicates. A page holds --limit vacancies (at most 500); ask for the next with --after the id \
the table's note gives.\n\n\
Examples:\n  koshi vacancies search --region KZ-79\n  koshi vacancies search --occupation 72 --q сварщик\n  \
koshi vacancies search --region Шымкент --status open --format json")]
    Search {
        /// The region: an ISO 3166-2 code (KZ-79) or a name (Шымкент, Shymkent).
        #[arg(long)]
        region: Option<String>,
        /// An ISCO-08 code of 1 to 4 digits (72: metal workers; 7212: welders).
        #[arg(long)]
        occupation: Option<String>,
        /// Words that must all appear in the title, employer or settlement.
        #[arg(long)]
        q: Option<String>,
        #[arg(long, value_parser = ["open", "filled", "closed"])]
        status: Option<String>,
        /// How the occupation was found.
        #[arg(long, value_parser = ["given", "auto", "review", "confirmed", "uncoded"])]
        coding: Option<String>,
        /// Also list the postings that repeat another.
        #[arg(long)]
        with_duplicates: bool,
        /// Only vacancies with an id above this (the next page).
        #[arg(long)]
        after: Option<i64>,
        /// How many at most (100 by default, at most 500).
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// One vacancy and every state it has had (posted, updated, filled, closed, coded), each with its date.
    #[command(long_about = "One vacancy and its history: every state it has had, with the day the change took \
effect, when it was recorded and by whom. The table lists the history; --format json gives the whole record.\n\n\
Example:\n  koshi vacancies show 1")]
    Show {
        id: i64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The vacancies whose occupation waits for a person (coded with too little confidence).
    #[command(long_about = "The review queue: vacancies whose title the coder placed with too little confidence, \
each with the coder's proposal and alternatives. Confirm or correct one with `koshi vacancies code ID CODE`.\n\n\
Example:\n  koshi vacancies queue")]
    Queue {
        #[arg(long)]
        after: Option<i64>,
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Confirm or correct a vacancy's occupation (an ISCO-08 unit group, 4 digits).
    #[command(long_about = "Confirm or correct a vacancy's occupation with an ISCO-08 unit group: a new state of \
the vacancy, kept through the source's later exports.\n\nExample:\n  koshi vacancies code 4 5223")]
    Code {
        id: i64,
        /// The ISCO-08 unit group (4 digits), e.g. 7212.
        occupation: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Job seekers registered at the employment centres, from a CSV with the columns
    /// region,occupation,education,month,seekers (one transaction).
    #[command(long_about = "Record the job seekers registered at the employment centres, as a centre reports them: \
a CSV with a header and the columns region (ISO 3166-2 code or name), occupation (an ISCO-08 code of 1 to 4 digits, \
or _T for all), education (_T, or a level such as higher, vocational, secondary), month (YYYY-MM) and seekers (a \
whole number). A count replaces what the same region, occupation, education and month had. The labour-demand \
indicators and the shortage assessment read the counts with education _T.\n\n\
Every problem is named by the file's row and column; nothing is written until the whole file is good.\n\n\
A file:\n  region,occupation,education,month,seekers\n  KZ-79,_T,_T,2026-02,5120\n  KZ-79,7212,_T,2026-02,400\n\n\
Example:\n  koshi vacancies seekers data/labour/vacancies/examples/seekers_shymkent.csv --source centre-shymkent")]
    Seekers {
        file: PathBuf,
        /// Who reports the counts (centre-shymkent).
        #[arg(long)]
        source: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// How an import reads a file, from its extension.
fn import_format(file: &Path) -> Result<ImportFormat> {
    let extension = file.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "html" | "htm" | "json" | "jsonld" => Ok(ImportFormat::Jsonld),
        "csv" | "tsv" | "xlsx" => Ok(ImportFormat::Table),
        other => bail!(
            "{}: `.{other}` is not a format koshi reads postings from: .html, .htm, .json or .jsonld (schema.org \
             JobPosting JSON-LD), or .csv, .tsv or .xlsx with --mapping",
            file.display()
        ),
    }
}

/// An application error said with this command line's words: a request field becomes its flag,
/// a file's problems are listed one a line under the file's path.
fn said(error: AppError, flags: &[(&str, &str)], file: Option<(&str, &Path)>) -> anyhow::Error {
    match error {
        AppError::Invalid { field, message } => {
            if let Some((name, path)) = file
                && field == name
            {
                return anyhow::anyhow!("{}: {}", path.display(), message.replace("; row ", "\n  row "));
            }
            match flags.iter().find(|(f, _)| *f == field) {
                Some((_, flag)) => anyhow::anyhow!("{flag}: {message}"),
                None => anyhow::anyhow!("{field}: {message}"),
            }
        }
        other => other.into(),
    }
}

/// A snake_case name of the application's (a status, a coding state) as its JSON spells it.
fn named<T: serde::de::DeserializeOwned>(flag: &str, text: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).with_context(|| format!("{flag} {text}"))
}

fn name_of<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn wage(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (None, None) => String::new(),
        (Some(a), Some(b)) if a == b => num(Some(a)),
        (Some(a), None) => format!("from {}", num(Some(a))),
        (None, Some(b)) => format!("up to {}", num(Some(b))),
        (a, b) => format!("{}–{}", num(a), num(b)),
    }
}

fn vacancy_rows(items: &[VacancyView]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|v| {
            let r = &v.record;
            vec![
                v.id.to_string(),
                name_of(&v.status),
                r.region.clone(),
                r.occupation.clone().unwrap_or_default(),
                name_of(&v.coding),
                r.title.clone(),
                r.employer_name.clone().unwrap_or_default(),
                r.posted.clone(),
                r.openings.to_string(),
                wage(r.wage_min_month, r.wage_max_month),
                format!("{}:{}", r.source, r.source_id),
                v.duplicate_of.map(|d| d.to_string()).unwrap_or_default(),
            ]
        })
        .collect()
}

const VACANCY_COLUMNS: [&str; 12] = [
    "id",
    "status",
    "region",
    "isco",
    "coding",
    "title",
    "employer",
    "posted",
    "openings",
    "wage/month",
    "source",
    "repeat of",
];

fn print_page(format: Format, page: &koshi_app::registry::Page<VacancyView>) -> Result<()> {
    print(
        format,
        &Printable {
            columns: VACANCY_COLUMNS.to_vec(),
            rows: vacancy_rows(&page.items),
            report: page,
            items: &page.items,
        },
    )?;
    if format == Format::Table
        && let Some(after) = page.next_after
    {
        eprintln!("note: more vacancies follow: ask again with --after {after}");
    }
    Ok(())
}

/// The counts of a seekers file, and the line each starts on.
fn read_seekers_csv(path: &Path) -> Result<(Vec<SeekerInput>, Vec<u64>)> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("{}", path.display()))?;
    let headers = reader.headers().with_context(|| format!("{}", path.display()))?.clone();
    for needed in ["region", "month", "seekers"] {
        if !headers.iter().any(|h| h == needed) {
            bail!(
                "{}: row 1: the header has no column `{needed}` (it has: {}); the columns are \
                 region,occupation,education,month,seekers",
                path.display(),
                headers.iter().collect::<Vec<_>>().join(", ")
            );
        }
    }
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    let mut records = reader.deserialize::<SeekerInput>();
    loop {
        let line = records.reader().position().line();
        let Some(row) = records.next() else { break };
        match row {
            Ok(r) => {
                rows.push(r);
                lines.push(line);
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                let column = match e.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => {
                        err.field().and_then(|f| headers.get(f as usize)).map(|h| format!(", column `{h}`"))
                    }
                    _ => None,
                };
                let reason = match e.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
                    _ => e.to_string(),
                };
                problems.push(format!("row {line}{}: {reason}", column.unwrap_or_default()));
            }
        }
    }
    if !problems.is_empty() {
        bail!("{}: {} problem(s), nothing was written:\n  {}", path.display(), problems.len(), problems.join("\n  "));
    }
    if rows.is_empty() {
        bail!("{}: no rows under the header", path.display());
    }
    Ok((rows, lines))
}

/// The application's problems of `rows` (numbered from 1) said at the file's rows (its lines).
fn at_file_rows(error: AppError, path: &Path, lines: &[u64]) -> anyhow::Error {
    let AppError::Invalid { field, message } = &error else { return error.into() };
    if field != "rows" {
        return said(error, &[("source", "--source")], None);
    }
    // "row 3, column `region`: …; row 4: …": each `row N` becomes the row of the file it came from.
    let mut out = String::with_capacity(message.len());
    let mut rest = message.as_str();
    while let Some(at) = rest.find("row ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 4..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        match after[..digits].parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| lines.get(i)) {
            Some(line) if after[digits..].starts_with([',', ':']) => {
                out.push_str(&format!("row {line}"));
                rest = &after[digits..];
            }
            _ => {
                out.push_str("row ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    anyhow::anyhow!("{}: {}", path.display(), out.replace("; row ", "\n  row "))
}

pub fn run(app: &App, args: &Args) -> Result<std::process::ExitCode> {
    let registry = app.registry()?;
    let operator = Actor::operator();
    match &args.command {
        Sub::Import { file, source, mapping, snapshot, as_of, format } => {
            let kind = import_format(file)?;
            let mapping = match (kind, mapping) {
                (ImportFormat::Table, None) => bail!(
                    "{}: a table needs --mapping, a TOML file saying which column holds what \
                     (see data/labour/vacancies/examples/centre_export.toml)",
                    file.display()
                ),
                (ImportFormat::Jsonld, Some(_)) => {
                    bail!("{}: --mapping is for tables (.csv, .tsv, .xlsx), not JSON-LD", file.display())
                }
                (_, Some(m)) => Some(std::fs::read_to_string(m).with_context(|| format!("{}", m.display()))?),
                (_, None) => None,
            };
            let size = std::fs::metadata(file).with_context(|| format!("{}", file.display()))?.len();
            if size > MAX_IMPORT_BYTES as u64 {
                bail!(
                    "{}: {size} bytes, more than the {MAX_IMPORT_BYTES} one import reads: split the file",
                    file.display()
                );
            }
            let bytes = std::fs::read(file).with_context(|| format!("{}", file.display()))?;
            let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let request = VacancyImport {
                source: source.clone(),
                file_name: file_name.clone(),
                format: kind,
                mapping,
                as_of: as_of.clone(),
                snapshot: *snapshot,
            };
            let report = registry.import_vacancies(&operator, &request, &bytes).map_err(|e| {
                said(
                    e,
                    &[("source", "--source"), ("as_of", "--as-of"), ("mapping", "--mapping")],
                    Some((&file_name, file)),
                )
            })?;
            if *format == Format::Table {
                for w in &report.warnings {
                    eprintln!("warning: {w}");
                }
            }
            let rows = vec![vec![
                report.source.clone(),
                report.as_of.clone(),
                num(Some(report.read as f64)),
                num(Some(report.inserted as f64)),
                num(Some(report.updated as f64)),
                num(Some(report.unchanged as f64)),
                num(Some(report.closed as f64)),
                num(Some(report.duplicates as f64)),
                num(Some(report.to_review as f64)),
                num(Some(report.uncoded as f64)),
            ]];
            let columns = vec![
                "source",
                "as of",
                "read",
                "inserted",
                "updated",
                "unchanged",
                "closed",
                "repeats",
                "to review",
                "uncoded",
            ];
            print(*format, &Printable { columns, rows, report: &report, items: std::slice::from_ref(&report) })?;
        }
        Sub::Search { region, occupation, q, status, coding, with_duplicates, after, limit, format } => {
            let search = VacancySearch {
                region: region.clone(),
                occupation: occupation.clone(),
                q: q.clone(),
                status: status.as_deref().map(|s| named::<VacancyStatus>("--status", s)).transpose()?,
                coding: coding.as_deref().map(|c| named::<CodingState>("--coding", c)).transpose()?,
                with_duplicates: *with_duplicates,
                after: *after,
                limit: *limit,
            };
            let flags = [("region", "--region"), ("occupation", "--occupation"), ("q", "--q"), ("limit", "--limit")];
            let page = registry.vacancies(&operator, &search).map_err(|e| said(e, &flags, None))?;
            print_page(*format, &page)?;
        }
        Sub::Show { id, format } => {
            let detail = registry.vacancy(&operator, *id)?;
            print_detail(*format, &detail)?;
        }
        Sub::Queue { after, limit, format } => {
            let page =
                registry.coding_queue(&operator, *after, *limit).map_err(|e| said(e, &[("limit", "--limit")], None))?;
            print_page(*format, &page)?;
        }
        Sub::Code { id, occupation, format } => {
            let view = registry
                .code_vacancy(&operator, *id, &CodeRequest { occupation: occupation.clone() })
                .map_err(|e| said(e, &[], None))?;
            let items = std::slice::from_ref(&view);
            print(
                *format,
                &Printable { columns: VACANCY_COLUMNS.to_vec(), rows: vacancy_rows(items), report: &view, items },
            )?;
        }
        Sub::Seekers { file, source, format } => {
            let (rows, lines) = read_seekers_csv(file)?;
            let report = registry
                .put_seekers(&operator, &SeekersRequest { source: source.clone(), rows })
                .map_err(|e| at_file_rows(e, file, &lines))?;
            let table = vec![vec![
                source.clone(),
                num(Some(report.rows as f64)),
                num(Some(report.replaced as f64)),
                report.audit_seq.to_string(),
            ]];
            let columns = vec!["source", "rows", "replaced", "audit entry"];
            print(*format, &Printable { columns, rows: table, report: &report, items: std::slice::from_ref(&report) })?;
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn print_detail(format: Format, detail: &VacancyDetail) -> Result<()> {
    if format == Format::Json {
        return print_json(detail);
    }
    if format == Format::Table {
        let v = &detail.vacancy;
        let r = &v.record;
        println!(
            "vacancy {}: {} — {} ({}, {}), {}",
            v.id,
            r.title,
            r.employer_name.as_deref().unwrap_or("employer not given"),
            r.settlement.as_deref().unwrap_or(v.region_name.en),
            r.region,
            name_of(&v.status)
        );
        println!(
            "occupation {} {} ({}{}); source {} {}{}",
            r.occupation.as_deref().unwrap_or("–"),
            r.occupation_title.as_deref().unwrap_or(""),
            name_of(&v.coding),
            r.coding_confidence.map(|c| format!(", confidence {c:.2}")).unwrap_or_default(),
            r.source,
            r.source_id,
            v.duplicate_of.map(|d| format!("; repeats vacancy {d}")).unwrap_or_default()
        );
        println!();
    }
    let rows = detail
        .history
        .iter()
        .map(|s| {
            vec![
                s.seq.to_string(),
                s.as_of.clone(),
                s.change.clone(),
                name_of(&s.record.status),
                s.record.openings.to_string(),
                s.record.occupation.clone().unwrap_or_default(),
                wage(s.record.wage_min_month, s.record.wage_max_month),
                s.record.valid_through.clone().unwrap_or_default(),
                s.actor.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let columns = vec!["state", "as of", "change", "status", "openings", "isco", "wage/month", "valid through", "by"];
    print(format, &Printable { columns, rows, report: detail, items: &detail.history })
}

// ---------------------------------------------------------------- koshi labour-demand

#[derive(clap::Args)]
#[command(after_help = "The labour-demand indicators from the vacancy database and the job seekers' counts, by \
region × occupation × month: the vacancy stock (openings open at the end of the month), inflow (openings posted), \
outflow and hires (openings that ended, and those filled), the mean duration of the vacancies that ended, the \
seekers registered, seekers per vacancy and tightness (vacancies per seeker). Repeats of a vacancy on another \
source are counted once; vacancies without an occupation are left out of the occupations. Every region is listed, \
and every occupation the vacancies or the seekers name at --level digits, with `_T` for all occupations.\n\n\
One answer holds at most 50,000 cells: ask for one region, an occupation, fewer months or a coarser level.\n\n\
Examples:\n  koshi labour-demand --region KZ-79 --level 4 --from 2026-01 --to 2026-03\n  \
koshi labour-demand --level 1 --from 2025-01 --to 2025-12 --format csv")]
pub struct DemandArgs {
    /// ISCO-08 digits of the occupations, 1 to 4 (2 by default).
    #[arg(long)]
    level: Option<usize>,
    /// The first month, YYYY-MM (11 months before --to by default).
    #[arg(long)]
    from: Option<String>,
    /// The last month, YYYY-MM (this month by default).
    #[arg(long)]
    to: Option<String>,
    /// One region: an ISO 3166-2 code (KZ-79) or a name.
    #[arg(long)]
    region: Option<String>,
    /// One occupation: an ISCO-08 code of --level digits, or _T for all.
    #[arg(long)]
    occupation: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

const DEMAND_FLAGS: [(&str, &str); 5] =
    [("level", "--level"), ("from", "--from"), ("to", "--to"), ("region", "--region"), ("occupation", "--occupation")];

pub fn run_demand(app: &App, args: &DemandArgs) -> Result<std::process::ExitCode> {
    let registry = app.registry()?;
    let request = DemandRequest {
        level: args.level,
        from: args.from.clone(),
        to: args.to.clone(),
        region: args.region.clone(),
        occupation: args.occupation.clone(),
        ..DemandRequest::default()
    };
    let report = registry.labour_demand(&Actor::operator(), &request).map_err(|e| said(e, &DEMAND_FLAGS, None))?;
    let ratio = |v: Option<f64>, decimals: usize| v.map(|x| format!("{x:.decimals$}")).unwrap_or_else(|| "–".into());
    let rows = report
        .cells
        .iter()
        .map(|c| {
            vec![
                c.region.clone(),
                c.occupation.clone(),
                c.month.clone(),
                num(Some(c.stock as f64)),
                num(Some(c.inflow as f64)),
                num(Some(c.outflow as f64)),
                num(Some(c.hires as f64)),
                c.mean_duration_days.map(|d| format!("{d:.1}")).unwrap_or_else(|| "–".into()),
                num(c.seekers.map(|s| s as f64)),
                ratio(c.seekers_per_vacancy, 2),
                ratio(c.tightness, 3),
            ]
        })
        .collect();
    let columns = vec![
        "region",
        "isco",
        "month",
        "stock",
        "inflow",
        "outflow",
        "hires",
        "mean days",
        "seekers",
        "seekers/vacancy",
        "tightness",
    ];
    print(args.format, &Printable { columns, rows, report: &report, items: &report.cells })?;
    if args.format == Format::Table {
        eprintln!(
            "{} … {}, ISCO-08 level {}: {} vacancies read (repeats left out), {} without an occupation, {} inputs \
             skipped",
            report.from, report.to, report.level, report.vacancies, report.uncoded, report.skipped
        );
    }
    Ok(std::process::ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- koshi shortage

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
koshi shortage assess --month 2026-02\n  \
koshi shortage adopt --month 2026-02\n  \
koshi shortage list --region KZ-79 --status in_demand\n\n\
The rules, their weights, thresholds and sources: data/labour/shortage/rules.toml.")]
pub struct ShortageArgs {
    #[command(subcommand)]
    command: ShortageSub,
}

/// The options of an assessment (and of its adoption).
#[derive(clap::Args)]
struct AssessOptions {
    /// The reference month, YYYY-MM (the last complete month by default).
    #[arg(long)]
    month: Option<String>,
    /// The composite index (kz-demand-decline by default; see data/labour/shortage/rules.toml).
    #[arg(long)]
    rule: Option<String>,
    /// ISCO-08 digits of the occupations assessed, 1 to 4 (4 by default).
    #[arg(long)]
    level: Option<usize>,
    /// Show the reasons in English, Russian or Kazakh.
    #[arg(long, default_value = "en", value_parser = ["en", "ru", "kk"])]
    lang: String,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(clap::Subcommand)]
enum ShortageSub {
    /// Assess every occupation in every region for a month by a composite index; nothing is stored.
    #[command(long_about = "Assess every occupation in every region for a month: in demand, balanced, not in demand \
or insufficient data, by a composite index of the vacancies and the registered job seekers (stock, inflow and its \
change on the year, seekers per vacancy and their change, duration) whose weights and thresholds are dated, cited \
data (data/labour/shortage/rules.toml). Each line carries its figures and the reasons (--format json has them all). \
Nothing is stored: `koshi shortage adopt` adopts it as the list the permit decisions read.\n\n\
Examples:\n  koshi shortage assess --month 2026-02\n  koshi shortage assess --month 2026-02 --lang ru --format json")]
    Assess(AssessOptions),
    /// Adopt the assessment as the shortage list the work-permit decisions' labour-market test reads.
    #[command(long_about = "Adopt the month's assessment as the shortage list (one transaction with its audit entry, \
as the operator, who has an administrator's rights). From then on a permit application for an occupation the list \
finds not in demand in its region, with local seekers registered, is refused on the labour-market test with the \
figures. --adjustments gives officials' adjustments, applied after the rule and shown as such: a CSV with the \
columns region,occupation,status,reason (status: in_demand, balanced, not_in_demand, excluded, insufficient_data).\n\n\
Example:\n  koshi shortage adopt --month 2026-02")]
    Adopt {
        #[command(flatten)]
        options: AssessOptions,
        /// A CSV of adjustments: region,occupation,status,reason.
        #[arg(long)]
        adjustments: Option<PathBuf>,
    },
    /// The adopted shortage list's entries (the newest list by default).
    #[command(long_about = "The entries of an adopted shortage list (the newest by default), each with its status, \
the seekers and vacancies it was decided on and the reasons.\n\n\
Examples:\n  koshi shortage list\n  koshi shortage list --region KZ-79 --status in_demand --lang kk")]
    List {
        /// An adopted list's id (the newest by default).
        #[arg(long)]
        list: Option<i64>,
        #[arg(long)]
        region: Option<String>,
        /// An ISCO-08 code.
        #[arg(long)]
        occupation: Option<String>,
        #[arg(long, value_parser = ["in_demand", "balanced", "not_in_demand", "excluded", "insufficient_data"])]
        status: Option<String>,
        /// How many entries at most (1,000 by default, at most 20,000).
        #[arg(long)]
        limit: Option<usize>,
        /// The entries after this one, REGION/CODE (printed at the end of a page that has more).
        #[arg(long)]
        after: Option<String>,
        #[arg(long, default_value = "en", value_parser = ["en", "ru", "kk"])]
        lang: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

const ASSESS_FLAGS: [(&str, &str); 4] =
    [("month", "--month"), ("rule", "--rule"), ("level", "--level"), ("adjustments", "--adjustments")];

fn read_adjustments(path: &Path) -> Result<Vec<AdjustmentInput>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("{}", path.display()))?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for row in reader.deserialize::<AdjustmentInput>() {
        match row {
            Ok(a) => out.push(a),
            Err(e) => problems.push(format!("row {}: {e}", e.position().map_or(0, |p| p.line()))),
        }
    }
    if !problems.is_empty() {
        bail!("{}: {} problem(s), nothing was written:\n  {}", path.display(), problems.len(), problems.join("\n  "));
    }
    Ok(out)
}

/// The conclusion of an assessment's reasons in a language (the combined score and the status it
/// gives); `--format json` and `csv` carry every reason.
fn conclusion(value: &serde_json::Value, lang: &str) -> String {
    value["reasons"][lang].as_array().and_then(|a| a.last()).and_then(|r| r.as_str()).unwrap_or_default().to_string()
}

/// One line of an assessment or a list for the table, from its JSON.
fn assessment_row(a: &serde_json::Value, lang: &str) -> Vec<String> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let count = |v: &serde_json::Value| num(v.as_f64());
    let status = if a["adjusted"].as_bool() == Some(true) {
        format!("{} (adjusted; rule: {})", text(&a["status"]), text(&a["rule_status"]))
    } else {
        text(&a["status"])
    };
    vec![
        text(&a["region"]),
        text(&a["occupation"]),
        status,
        a["figures"]["score"].as_f64().map(|s| format!("{s:.3}")).unwrap_or_else(|| "–".into()),
        count(&a["seekers"]),
        count(&a["vacancies"]),
        conclusion(a, lang),
    ]
}

const ASSESSMENT_COLUMNS: [&str; 7] = ["region", "isco", "status", "score", "seekers", "vacancies", "conclusion"];

fn print_assessment(options: &AssessOptions, report: &ShortageReport) -> Result<()> {
    let rows = report
        .assessments
        .iter()
        .map(|a: &AssessmentView| Ok(assessment_row(&serde_json::to_value(a)?, &options.lang)))
        .collect::<Result<Vec<_>>>()?;
    print(
        options.format,
        &Printable { columns: ASSESSMENT_COLUMNS.to_vec(), rows, report, items: &report.assessments },
    )?;
    if options.format == Format::Table {
        let counts: Vec<String> = report.counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
        eprintln!(
            "{} at ISCO-08 level {} by {} (version of {}, {}): {}{}",
            report.month,
            report.level,
            report.rule.id,
            report.rule.version_from,
            report.rule.source,
            if counts.is_empty() { "nothing assessed".to_string() } else { counts.join(", ") },
            report.list.map(|l| format!("; adopted as shortage list {l}")).unwrap_or_default()
        );
    }
    Ok(())
}

pub fn run_shortage(app: &App, args: &ShortageArgs) -> Result<std::process::ExitCode> {
    let registry = app.registry()?;
    let operator = Actor::operator();
    let request = |o: &AssessOptions, adjustments: Vec<AdjustmentInput>| ShortageRequest {
        rule: o.rule.clone(),
        month: o.month.clone(),
        level: o.level,
        adjustments,
    };
    match &args.command {
        ShortageSub::Assess(options) => {
            let report = registry
                .assess_shortage(&operator, &request(options, Vec::new()))
                .map_err(|e| said(e, &ASSESS_FLAGS, None))?;
            print_assessment(options, &report)?;
        }
        ShortageSub::Adopt { options, adjustments } => {
            let adjustments = match adjustments {
                Some(path) => read_adjustments(path)?,
                None => Vec::new(),
            };
            let report = registry
                .adopt_shortage_list(&operator, &request(options, adjustments))
                .map_err(|e| said(e, &ASSESS_FLAGS, None))?;
            print_assessment(options, &report)?;
        }
        ShortageSub::List { list, region, occupation, status, limit, after, lang, format } => {
            // The list's status filter is the labour crate's type: read from its JSON name.
            let request: ShortageListRequest = serde_json::from_value(serde_json::json!({
                "list": list, "region": region, "occupation": occupation, "status": status, "limit": limit,
                "after": after,
            }))
            .context("--status")?;
            let view = registry.shortage_list(&operator, &request).map_err(|e| said(e, &[], None))?;
            let rows = view.entries.iter().map(|e| assessment_row(e, lang)).collect();
            if *format == Format::Table {
                println!(
                    "shortage list {} of {} by {}, adopted by {}",
                    view.list.id, view.list.as_of, view.list.rule, view.list.adopted_by
                );
                println!();
            }
            print(
                *format,
                &Printable { columns: ASSESSMENT_COLUMNS.to_vec(), rows, report: &view, items: &view.entries },
            )?;
            if let (Some(next), Format::Table) = (&view.next_after, format) {
                eprintln!("more entries follow: --after {next}");
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
