//! `koshi` — the command line of the koshi migration observatory.

/// mimalloc rather than the system allocator: an ingest allocates and frees millions of small
/// texts, and glibc's allocator spent more time consolidating them than the ingest spent reading
/// (bench/sdmx/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod flows_cmd;
mod forecast_cmd;
mod gravity_cmd;
mod output;
mod quota_cmd;
mod registry_cmd;
mod sdmx_cmd;
mod structure_cmd;
mod vacancies_cmd;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use koshi_app::bank::{DiscrepanciesRequest, Figures, QueryRequest, ReleasesRequest};
use koshi_app::indicators::IndicatorRequest;
use koshi_app::load::{Declared, IngestOutcome, IngestRequest, LoadBundledReport, Progress, WriteOutcome};
use koshi_app::monitor::AlertsRequest;
use koshi_app::search::SearchRequest;
use koshi_app::{App, AppConfig, AppError, BundleState, LoadError};
use output::{Format, Printable, num, print, print_json, with_flags};

#[derive(Parser)]
#[command(
    name = "koshi",
    version,
    about = "An open migration observatory: a data bank of migration statistics with sources, definitions and releases",
    long_about = "koshi keeps every agency's migration figures side by side — each with its source, its definition of \
what is counted and its release (vintage) — flags defects and discrepancies, and gives a harmonised view whose every \
number can be traced back to its origin.\n\nStart with `koshi serve` (creates ./koshi.db, loads the bundled datasets, \
serves the API on 127.0.0.1:8080), or `koshi load-bundled` and then `koshi dataflows`, `koshi query MIG_EXT --key \
REF_AREA=KAZ`, `koshi discrepancies`, `koshi check`.",
    after_help = "Examples:\n  koshi load-bundled\n  koshi query MIG_STOCK --key REF_AREA=KAZ --key COUNTERPART=WLD\n  \
koshi query TRADE --key REF_AREA=BLR --as-of 2021-01-01\n  koshi query MIG_EXT --key KAZ.WLD._T._T.NET --harmonised\n  \
koshi discrepancies MIG_STOCK --tolerance 1\n  \
koshi ingest data/examples/kz_external_migration.xlsx --mapping data/examples/kz_external_migration.toml"
)]
struct Cli {
    /// The data bank file (SQLite); created if missing.
    #[arg(long, global = true, default_value = "koshi.db", env = "KOSHI_DB")]
    db: PathBuf,
    /// Seconds a write waits for another writer holding the bank before giving up (nothing is written then).
    #[arg(long, global = true, default_value_t = 30.0, env = "KOSHI_BUSY_TIMEOUT")]
    busy_timeout: f64,
    /// The work-permit registry: an SQLite file, or a postgres://user:password@host:port/database
    /// address (the role must not be a superuser nor bypass row-level security). By default the
    /// bank's file name with `.registry.db` (koshi.registry.db beside koshi.db).
    #[arg(long, global = true, env = "KOSHI_REGISTRY")]
    registry: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an empty data bank (does nothing if it exists).
    Init,
    /// Load a CSV, TSV or XLSX file through a mapping, or an SDMX message (one transaction: a file with errors writes nothing).
    #[command(
        long_about = "Load a CSV, TSV or XLSX file through a declarative mapping (TOML) that says which columns \
are which dimensions, how numbers are printed, and which source, definition and release the figures belong to.\n\n\
SDMX messages are read too: SDMX-CSV 1.0 and 2.0, and SDMX-ML 2.1 generic and structure-specific data. koshi's own \
(from `koshi export` or another koshi's /sdmx/rest/data) need no mapping; a message of another agency's dataflow \
needs a mapping whose `column`s name its components, and for structure-specific data its structure \
(--structure, an SDMX-ML structure message with the DSD). Actions are honoured in order: I, A, M and R give \
figures, D withdraws figures in a release of its own (what was known before stays known).\n\n\
Every problem in the file is listed at once with its file, sheet, row (the line, in an SDMX-ML message) and \
column. A file with errors writes nothing; --allow-defects stores the rows with problems flagged as defects (never \
silently). Loading the same content again creates nothing; changed content creates a new release.\n\n\
See data/bundled/mappings/ for real mappings."
    )]
    Ingest {
        /// The data file (.csv, .tsv, .txt, .xlsx, or an SDMX-CSV / SDMX-ML message).
        file: PathBuf,
        /// The mapping (TOML); not needed for koshi's own SDMX messages.
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// An SDMX-ML structure message with the data structure of another agency's message.
        #[arg(long)]
        structure: Option<PathBuf>,
        /// Store rows with problems, flagged as defects, instead of rejecting the file.
        #[arg(long)]
        allow_defects: bool,
        /// Read and check the file, list every problem, write nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// (Re)load every bundled dataset: the papers' tables and the real public datasets.
    LoadBundled {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Observations of a dataflow, with source, definition, release and citation.
    #[command(long_about = "Observations of a dataflow. Each row is one source's figure under one definition, from \
the latest release (or the latest on or before --as-of). --harmonised picks one figure per key and period by the \
dataflow's reconciliation policy and says which source won and why.\n\nKeys (the same grammar in every command and in the HTTP API): an SDMX key with codes in dimension order, \
--key KAZ.WLD._T._T.NET (an empty part means any code, `+` means or: KAZ+RUS), or DIM=CODE items joined by `,`: \
--key REF_AREA=KAZ,MEASURE=NET+ARR. Repeated --key options combine with AND: a dimension constrained twice keeps \
the codes both allow. Every code is checked against its code list; a mistyped one is named with near codes \
(`koshi codelist AREA` lists them).")]
    Query {
        dataflow: String,
        /// A dotted SDMX key or DIM=CODE[+CODE…] items; repeated keys combine with AND.
        #[arg(long)]
        key: Vec<String>,
        /// What was known on this date (YYYY-MM-DD): releases dated later are ignored.
        #[arg(long)]
        as_of: Option<String>,
        /// Only this source's figures (e.g. UN_DESA, KZ_BNS, PAPER_003).
        #[arg(long, conflicts_with = "harmonised")]
        source: Option<String>,
        /// One figure per key and period, chosen by the reconciliation policy.
        #[arg(long)]
        harmonised: bool,
        /// First period (e.g. 2010).
        #[arg(long)]
        from: Option<String>,
        /// Last period (e.g. 2019).
        #[arg(long)]
        to: Option<String>,
        /// Also show regions that ceased to exist and whose territory passed to the requested
        /// REF_AREA (South Kazakhstan region before 2018 for Turkistan region and Shymkent).
        #[arg(long)]
        predecessors: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The sources (agencies, papers) with their releases and observations.
    Sources {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Releases (vintages), optionally of one dataflow.
    Releases {
        dataflow: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The dataflows, their dimensions and sizes.
    Dataflows {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// A code list with labels in English, Russian and Kazakh (AREA, SEX, AGE, EDUCATION, QUANTILE, MEASURE:<dataflow>).
    Codelist {
        name: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Keys where sources or definitions disagree, with both figures, both definitions and the gap.
    Discrepancies {
        dataflow: Option<String>,
        /// Report gaps larger than this many per cent (0 or more).
        #[arg(long, default_value_t = 0.0, value_parser = non_negative_percent)]
        tolerance: f64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The monitoring rules (data/monitoring/alerts.toml) over the harmonised figures: balances
    /// turning negative, changes on the year past a threshold, series leaving the band of their
    /// recent past (a CUSUM chart calibrated for a stated false-alarm rate). Latest first.
    #[command(long_about = "The monitoring rules (data/monitoring/alerts.toml) over the bank's harmonised figures, \
latest alert first: a balance turning negative or positive, a change on the previous period past a threshold, \
a series leaving the band of its recent past (a two-sided CUSUM chart on values standardised by the window before \
them, calibrated so that a series without change alarms once in `arl0` periods on average). Each alert carries \
its figures, the source and release they came from, and its message in English, Russian and Kazakh.\n\n\
Examples:\n  koshi alerts\n  koshi alerts --since 2020 --format json\n  koshi alerts --rule REGION_DEPARTURES_UP_20")]
    Alerts {
        /// Only this rule's alerts (an id from data/monitoring/alerts.toml).
        #[arg(long)]
        rule: Option<String>,
        /// Only alerts at this period or later (2020, 2024-03).
        #[arg(long)]
        since: Option<String>,
        /// What was known on this date (YYYY-MM-DD).
        #[arg(long)]
        as_of: Option<String>,
        /// The message's language in the table.
        #[arg(long, default_value = "en", value_parser = ["en", "ru", "kk"])]
        lang: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// An indicator computed from the bank's harmonised figures, each value with the figures it
    /// came from (`--format json` shows them): NET, GROSS, EFFECTIVENESS, NET_RATE, GROSS_RATE,
    /// ARR_GROWTH, DEP_GROWTH, TRADE_TURNOVER, TRADE_BALANCE. Without arguments, the list.
    #[command(long_about = "An indicator computed when asked from the bank's harmonised figures (so a new release of \
an input is in the next answer), by every dimension of its dataflow but the measure; each value carries its \
lineage: the input figures with their source and release (`--format json`). Without arguments: the indicators, \
their formulas and the dataflows each applies to.\n\nExamples:\n  koshi indicator\n  koshi indicator NET MIG_INT \
--key REF_AREA=KZ-75\n  koshi indicator TRADE_TURNOVER TRADE --key REF_AREA=BLR --format json")]
    Indicator {
        /// The indicator (NET, EFFECTIVENESS, NET_RATE …); none lists them.
        id: Option<String>,
        /// The dataflow whose measures it is computed from (MIG_INT, MIG_EXT, TRADE).
        dataflow: Option<String>,
        /// Narrow the inputs: a dotted key without the measure or DIM=CODE[+CODE…]; repeated keys combine with AND.
        #[arg(long)]
        key: Vec<String>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        /// What was known on this date (YYYY-MM-DD).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Find series by words in English, Russian or Kazakh; each hit is a dataflow and a key for `koshi query`.
    #[command(long_about = "Find series by words in English, Russian or Kazakh. Each word is matched against the \
dataflows' names and the labels of the codes the bank holds (inflected forms by their stem); a hit is a dataflow \
with the codes that took the words, as a key `koshi query` and the data API read.\n\nExamples:\n  \
koshi search Kazakhstan net migration\n  koshi search чистая миграция Казахстан\n  koshi search Almaty arrivals")]
    Search {
        /// The words.
        #[arg(required = true)]
        words: Vec<String>,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// A printable profile of a country or a region of Kazakhstan: one self-contained HTML page,
    /// charts included, that opens and prints without koshi running.
    #[command(long_about = "A printable profile of a country (stocks in and out, net migration beside the UN's, \
the largest corridors, the forecast with its calibrated fan chart and scenarios) or of a region of Kazakhstan \
(internal arrivals, departures and net by year and month, rates, population, the map). One self-contained HTML \
file: charts, tables and the provenance of every number are inside it; open it in a browser and print it.\n\n\
Examples:\n  koshi report country KAZ\n  koshi report region KZ-75 --lang ru --out almaty.html")]
    Report {
        #[arg(value_enum)]
        subject: ReportKind,
        /// ISO 3166-1 alpha-3 for a country (KAZ), ISO 3166-2 for a region (KZ-75).
        code: String,
        /// Where to write the page (default: the code, `.html`, in the current directory).
        #[arg(long)]
        out: Option<PathBuf>,
        /// en, ru or kk (the reader can switch inside the page).
        #[arg(long, default_value = "en")]
        lang: String,
        /// What was known on this date (YYYY-MM-DD).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Run the validation rules over the bank and list every defect (declared by sources or found).
    Check {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Gravity models of migration: PPML with high-dimensional fixed effects, push–pull, counterfactuals.
    Gravity(gravity_cmd::Args),
    /// Forecasts with calibrated intervals and scenarios.
    Forecast(forecast_cmd::Args),
    /// Flows estimated from stocks, and migration indices.
    Flows(flows_cmd::Args),
    /// Rolling-origin evaluation of the forecasting models: sMAPE, MASE, MSIS and interval coverage.
    Backtest(forecast_cmd::BacktestArgs),
    /// Migration indices (Bell et al.) of an origin–destination table, or of regional arrivals and departures.
    Indices(flows_cmd::IndicesArgs),
    /// Declare a source of your own (an agency or publication koshi does not know), kept in the bank.
    Source(structure_cmd::SourceArgs),
    /// Declare dataflows (and sources) of your own from a TOML file shaped as data/structure/dataflows.toml.
    Dataflow(structure_cmd::DataflowArgs),
    /// Export a dataflow as SDMX-CSV, SDMX-ML or SDMX-JSON (or plain CSV/JSON), streamed.
    Export(sdmx_cmd::ExportArgs),
    /// The foreign-labour quota: the national figure from the rate and the labour force, its distribution, two policies compared.
    Quota(quota_cmd::Args),
    /// The work-permit registry: users, employers, the quota, the audit chain (the server offers the rest).
    Registry(registry_cmd::Args),
    /// The regional vacancy database: import portals' pages and centres' exports, search, review, job seekers.
    Vacancies(vacancies_cmd::Args),
    /// Labour-demand indicators by region × occupation × month: vacancy stock and flows, seekers, tightness.
    LabourDemand(vacancies_cmd::DemandArgs),
    /// The occupational shortage assessment by a cited composite index, its adoption as the list, the list.
    Shortage(vacancies_cmd::ShortageArgs),
    /// Serve the JSON API; creates the bank and loads (or finishes, or refreshes) the bundled datasets first.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
    },
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            // `koshi query … | head` closes the pipe early: not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return std::process::ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

/// The application over the bank the command line names, with the busy timeout it asks for.
fn open_app(cli: &Cli) -> Result<App> {
    let busy_timeout = std::time::Duration::try_from_secs_f64(cli.busy_timeout)
        .ok()
        .filter(|t| *t <= std::time::Duration::from_secs(24 * 3600))
        .with_context(|| {
            format!("--busy-timeout {} is not a number of seconds between 0 and 86400", cli.busy_timeout)
        })?;
    App::open(&cli.db, AppConfig { busy_timeout, ..AppConfig::single_use() })
        .with_context(|| format!("opening the data bank {}", cli.db.display()))
}

/// Where the registry is: `--registry`, or beside the bank.
fn registry_config(cli: &Cli) -> koshi_app::registry::RegistryConfig {
    let location = match &cli.registry {
        Some(text) => koshi_app::registry::Location::parse(text),
        None => koshi_app::registry::Location::Sqlite(cli.db.with_extension("registry.db")),
    };
    koshi_app::registry::RegistryConfig::new(location)
}

fn registry_location_text(location: &koshi_app::registry::Location) -> String {
    match location {
        koshi_app::registry::Location::Sqlite(path) => path.display().to_string(),
        // Not the password.
        koshi_app::registry::Location::Postgres(_) => "a PostgreSQL database".to_string(),
    }
}

fn run() -> Result<std::process::ExitCode> {
    let cli = Cli::parse();
    let app = open_app(&cli)?;
    match &cli.command {
        Command::Init => {
            let health = app.health()?;
            println!(
                "data bank {} ready ({} observations)",
                cli.db.display(),
                health.counts.get("observation").copied().unwrap_or(0)
            );
        }
        Command::Ingest { file, mapping, structure, allow_defects, dry_run, format } => {
            let request = IngestRequest {
                file: file.clone(),
                mapping: mapping.clone(),
                structure: structure.clone(),
                allow_defects: *allow_defects,
                dry_run: *dry_run,
            };
            return ingest(&app, &request, *format);
        }
        Command::Export(args) => sdmx_cmd::export(&app, args)?,
        Command::LoadBundled { format } => {
            load_bundled(&app, *format, true)?;
        }
        Command::Query { dataflow, key, as_of, source, harmonised, from, to, predecessors, format } => {
            let request = QueryRequest {
                dataflow: dataflow.clone(),
                keys: key.clone(),
                as_of: as_of.clone(),
                source: source.clone(),
                from: from.clone(),
                to: to.clone(),
                harmonised: *harmonised,
                predecessors: *predecessors,
                page: None,
            };
            query(&app, &request, *format).map_err(|e| match e.downcast::<AppError>() {
                Ok(e) => with_flags(e, &[("keys", "--key")], &["dataflow"]),
                Err(e) => e,
            })?;
        }
        Command::Sources { format } => {
            let list = app.sources(None)?;
            let rows = list
                .items
                .iter()
                .map(|s| {
                    vec![
                        s.id.clone(),
                        s.kind.clone(),
                        s.releases.to_string(),
                        s.observations.to_string(),
                        s.name.clone(),
                    ]
                })
                .collect();
            print(
                *format,
                &Printable {
                    columns: vec!["source", "kind", "releases", "observations", "name"],
                    rows,
                    report: &list,
                    items: &list.items,
                },
            )?;
        }
        Command::Releases { dataflow, format } => {
            let list = app.releases(&ReleasesRequest { dataflow: dataflow.clone(), page: None })?;
            let rows = list
                .items
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.dataflow.clone(),
                        r.source.clone(),
                        r.label.clone(),
                        r.release_date.clone(),
                        r.revision.to_string(),
                        r.observations.to_string(),
                        r.origin.clone(),
                    ]
                })
                .collect();
            print(
                *format,
                &Printable {
                    columns: vec!["id", "dataflow", "source", "release", "date", "revision", "observations", "origin"],
                    rows,
                    report: &list,
                    items: &list.items,
                },
            )?;
        }
        Command::Dataflows { format } => {
            let list = app.dataflows(None)?;
            // CSV: one flat row per dataflow (its dimensions in key order, its English name).
            let flat: Vec<FlatDataflow> = list
                .items
                .iter()
                .map(|d| FlatDataflow {
                    id: &d.id,
                    name: &d.name.en,
                    dimensions: d.dimensions.iter().map(|x| x.id.as_str()).collect::<Vec<_>>().join("."),
                    series: d.series,
                    observations: d.observations,
                })
                .collect();
            let rows = flat
                .iter()
                .map(|d| {
                    vec![
                        d.id.to_string(),
                        d.dimensions.clone(),
                        d.series.to_string(),
                        d.observations.to_string(),
                        d.name.to_string(),
                    ]
                })
                .collect();
            print(
                *format,
                &Printable {
                    columns: vec!["dataflow", "dimensions", "series", "observations", "name"],
                    rows,
                    report: &list,
                    items: &flat,
                },
            )?;
        }
        Command::Codelist { name, format } => {
            let list = app.codelist(name)?;
            let rows = list
                .codes
                .iter()
                .map(|c| {
                    let validity = match (c.valid_from, c.valid_to) {
                        (None, None) => String::new(),
                        (f, t) => format!(
                            "{}…{}",
                            f.map(|d| d.to_string()).unwrap_or_default(),
                            t.map(|d| d.to_string()).unwrap_or_default()
                        ),
                    };
                    vec![
                        c.id.clone(),
                        c.labels.en.clone(),
                        c.labels.ru.clone(),
                        c.labels.kk.clone(),
                        validity,
                        c.successors.join(" "),
                    ]
                })
                .collect();
            print(
                *format,
                &Printable {
                    columns: vec!["code", "en", "ru", "kk", "valid", "successors"],
                    rows,
                    report: &list,
                    items: &list.codes,
                },
            )?;
        }
        Command::Discrepancies { dataflow, tolerance, format } => {
            let list = app
                .discrepancies(&DiscrepanciesRequest {
                    dataflow: dataflow.clone(),
                    tolerance_pct: *tolerance,
                    page: None,
                })
                .map_err(|e| with_flags(e, &[], &["dataflow"]))?;
            let rows = list
                .items
                .iter()
                .map(|d| {
                    vec![
                        d.dataflow.clone(),
                        d.key.join("."),
                        d.time_period.clone(),
                        d.source_a.clone(),
                        num(Some(d.value_a)),
                        d.source_b.clone(),
                        num(Some(d.value_b)),
                        format!("{:.2}%", d.relative_gap_pct),
                        d.definition_a.clone(),
                        d.definition_b.clone(),
                    ]
                })
                .collect();
            print(
                *format,
                &Printable {
                    columns: vec![
                        "dataflow",
                        "key",
                        "period",
                        "source A",
                        "value A",
                        "source B",
                        "value B",
                        "gap",
                        "definition A",
                        "definition B",
                    ],
                    rows,
                    report: &list,
                    items: &list.items,
                },
            )?;
        }
        Command::Alerts { rule, since, as_of, lang, format } => {
            let report = app.alerts(&AlertsRequest {
                rule: rule.clone(),
                since: since.clone(),
                as_of: as_of.clone(),
                page: None,
            })?;
            let rows = report
                .items
                .iter()
                .map(|a| {
                    let message = match lang.as_str() {
                        "ru" => &a.message.ru,
                        "kk" => &a.message.kk,
                        _ => &a.message.en,
                    };
                    vec![
                        a.period.clone(),
                        a.rule.clone(),
                        a.key.clone(),
                        num(Some(a.value)),
                        num(a.previous),
                        a.change_pct.map(|c| format!("{c:+.1}%")).unwrap_or_default(),
                        a.change_began.clone().unwrap_or_default(),
                        message.clone(),
                        format!("{} “{}”", a.source, a.release),
                    ]
                })
                .collect();
            print(
                *format,
                &Printable {
                    columns: vec!["period", "rule", "key", "value", "previous", "change", "began", "message", "source"],
                    rows,
                    report: &report,
                    items: &report.items,
                },
            )?;
            notes_to_stderr(*format, &report.notes);
        }
        Command::Indicator { id, dataflow, key, from, to, as_of, format } => match (id, dataflow) {
            (None, _) => {
                let all = app.indicators()?;
                let rows = all
                    .iter()
                    .map(|i| vec![i.id.to_string(), i.name.en.clone(), i.formula.to_string(), i.dataflows.join(" ")])
                    .collect();
                print(
                    *format,
                    &Printable {
                        columns: vec!["indicator", "name", "formula", "dataflows"],
                        rows,
                        report: &all,
                        items: &all,
                    },
                )?;
            }
            (Some(_), None) => anyhow::bail!("name the dataflow too, e.g. `koshi indicator NET MIG_INT`"),
            (Some(id), Some(dataflow)) => {
                let report = app.indicator(&IndicatorRequest {
                    indicator: id.clone(),
                    dataflow: dataflow.clone(),
                    keys: key.clone(),
                    from: from.clone(),
                    to: to.clone(),
                    as_of: as_of.clone(),
                    page: None,
                })?;
                let rows = report
                    .items
                    .iter()
                    .map(|v| {
                        let inputs =
                            v.inputs.iter().map(|i| format!("{} {} {}", i.key, i.period, i.source)).collect::<Vec<_>>();
                        vec![v.key.clone(), v.period.clone(), num(Some(v.value)), inputs.join("; ")]
                    })
                    .collect();
                print(
                    *format,
                    &Printable {
                        columns: vec!["key", "period", "value", "inputs"],
                        rows,
                        report: &report,
                        items: &report.items,
                    },
                )?;
                notes_to_stderr(*format, &report.notes);
            }
        },
        Command::Search { words, limit, format } => {
            let report = app.search(&SearchRequest { q: words.join(" "), limit: Some(*limit) })?;
            let rows = report
                .items
                .iter()
                .map(|h| vec![h.dataflow.clone(), h.key.clone(), h.name.en.clone(), format!("{:.2}", h.score)])
                .collect();
            print(
                *format,
                &Printable {
                    columns: vec!["dataflow", "key", "name", "score"],
                    rows,
                    report: &report,
                    items: &report.items,
                },
            )?;
        }
        Command::Report { subject, code, out, lang, as_of } => {
            let subject = match subject {
                ReportKind::Country => koshi_server::observatory::ReportSubject::Country(code.clone()),
                ReportKind::Region => koshi_server::observatory::ReportSubject::Region(code.clone()),
            };
            let page = koshi_server::observatory::report(&app, &subject, as_of.as_deref(), lang)?;
            let out =
                out.clone().unwrap_or_else(|| PathBuf::from(format!("{}.html", code.trim().to_ascii_uppercase())));
            // Written beside and renamed, so a failed write never leaves half a page.
            let partial = out.with_extension("html.partial");
            std::fs::write(&partial, page.as_bytes()).with_context(|| format!("writing {}", partial.display()))?;
            std::fs::rename(&partial, &out).with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {} ({} KB)", out.display(), page.len() / 1024);
        }
        Command::Check { format } => {
            let list = app.check(None)?;
            let rows = list
                .items
                .iter()
                .map(|f| {
                    vec![
                        f.severity.clone(),
                        f.rule.clone(),
                        f.origin.clone(),
                        f.dataflow.clone(),
                        f.key.clone(),
                        f.time_period.clone(),
                        f.source.clone(),
                        f.message.clone(),
                    ]
                })
                .collect();
            print(
                *format,
                &Printable {
                    columns: vec!["severity", "rule", "origin", "dataflow", "key", "period", "source", "message"],
                    rows,
                    report: &list,
                    items: &list.items,
                },
            )?;
        }
        Command::Gravity(args) => return gravity_cmd::run(&app, args),
        Command::Forecast(args) => return forecast_cmd::run(&app, args),
        Command::Flows(args) => return flows_cmd::run(&app, args),
        Command::Backtest(args) => return forecast_cmd::run_backtest(&app, args),
        Command::Indices(args) => return flows_cmd::run_indices(&app, args),
        Command::Source(args) => return structure_cmd::run_source(&app, args),
        Command::Dataflow(args) => return structure_cmd::run_dataflow(&app, args),
        Command::Quota(args) => return quota_cmd::run(&app, args),
        Command::Registry(args) => {
            let app = app.with_registry(&registry_config(&cli)).context("opening the work-permit registry")?;
            return registry_cmd::run(&app, args);
        }
        Command::Vacancies(args) => {
            let app = app.with_registry(&registry_config(&cli)).context("opening the work-permit registry")?;
            return vacancies_cmd::run(&app, args);
        }
        Command::LabourDemand(args) => {
            let app = app.with_registry(&registry_config(&cli)).context("opening the work-permit registry")?;
            return vacancies_cmd::run_demand(&app, args);
        }
        Command::Shortage(args) => {
            let app = app.with_registry(&registry_config(&cli)).context("opening the work-permit registry")?;
            return vacancies_cmd::run_shortage(&app, args);
        }
        Command::Serve { addr } => {
            let db = cli.db.display();
            let needs_load = match app.bundle_state()? {
                BundleState::Complete { fingerprint, completed_at } => {
                    eprintln!(
                        "the bundled datasets are complete in {db} (bundle {fingerprint}, loaded {completed_at})"
                    );
                    false
                }
                BundleState::NotLoaded if app.health()?.counts.get("observation").copied().unwrap_or(0) == 0 => {
                    eprintln!("the data bank {db} is empty: loading the bundled datasets (one transaction)");
                    true
                }
                BundleState::NotLoaded => {
                    eprintln!("the bundled datasets are not completely in {db}: finishing them (one transaction)");
                    true
                }
                BundleState::Stale { loaded, current, .. } => {
                    eprintln!("{db} holds bundle {loaded}; this koshi ships {current}: refreshing (one transaction)");
                    true
                }
            };
            if needs_load {
                load_bundled(&app, Format::Table, false)?;
            }
            // The server opens its own pool of read connections on the file, and the registry.
            drop(app);
            let registry = registry_config(&cli);
            let server = koshi_server::open(&cli.db, Some(&registry))?;
            // Say now, not at the first refused decision, when the policy in force stops knowing a
            // yearly figure (the monthly calculation index of the next budget law) within 60 days,
            // or stopped in the last 60 (earlier ends are parameters that ended on purpose).
            let today = server.app().today().days_since_epoch();
            let near = |d: koshi_core::Date| (today - 60..=today + 60).contains(&d.days_since_epoch());
            for end in server.app().registry()?.policy().known_until.iter().filter(|e| near(e.known_until)) {
                eprintln!(
                    "warning: the registry's policy knows `{}` only until {}: decisions after that day which need it are \
                     undetermined until a policy carrying the next value is put in force (koshi registry set-policy)",
                    end.parameter, end.known_until
                );
            }
            eprintln!("the work-permit registry is {}", registry_location_text(&registry.location));
            eprintln!(
                "working out what the pages ask for first (after a load: the defect report, the models' fits …, \
                 seconds; kept in the bank, so a restart is quick)"
            );
            let started = std::time::Instant::now();
            let ready = move || {
                eprintln!(
                    "ready in {:.1} s: serving the koshi dashboard on http://{addr}/ and the API under \
                     http://{addr}/api/ (Ctrl-C stops)",
                    started.elapsed().as_secs_f64()
                )
            };
            tokio::runtime::Runtime::new()?.block_on(koshi_server::serve(server, *addr, ready))?;
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn progress_bar(len: u64, what: &str) -> ProgressBar {
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::new(len)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

fn show_progress(bar: &ProgressBar, progress: Progress<'_>) {
    match progress {
        Progress::Rows(rows) => bar.set_position(rows as u64),
        Progress::File { name, index, .. } => {
            bar.set_position(index as u64);
            bar.set_message(name.to_string());
        }
    }
}

fn outcome_rows(outcomes: &[WriteOutcome]) -> Vec<Vec<String>> {
    outcomes
        .iter()
        .map(|o| match o {
            WriteOutcome::Created { release_id, dataflow, source, label, observations } => vec![
                "created".into(),
                release_id.to_string(),
                dataflow.clone(),
                source.clone(),
                label.clone(),
                observations.to_string(),
            ],
            WriteOutcome::Unchanged { release_id, dataflow, source, label } => {
                vec![
                    "unchanged".into(),
                    release_id.to_string(),
                    dataflow.clone(),
                    source.clone(),
                    label.clone(),
                    "0".into(),
                ]
            }
        })
        .collect()
}

fn load_summary(r: &LoadBundledReport) -> String {
    format!(
        "{} files, {} rows read, {} observations; {} releases created, {} unchanged; {} notes and warnings (declared \
defects, skipped aggregates); the bundle is complete",
        r.files, r.rows_read, r.observations, r.releases_created, r.releases_unchanged, r.diagnostics
    )
}

/// Load the bundled datasets, listing the releases (`list`) and summing up.
fn load_bundled(app: &App, format: Format, list: bool) -> Result<()> {
    let bar = progress_bar(koshi_app::load::bundled_file_count() as u64, "loading bundled datasets");
    let report = app.load_bundled(&mut |p| show_progress(&bar, p));
    bar.finish_and_clear();
    let report = match report {
        Ok(r) => r,
        Err(AppError::Load(LoadError::Rejected { file, errors, plan })) => {
            for d in plan.diagnostics.iter().take(50) {
                eprintln!("{d}");
            }
            bail!("bundled file {file} has {errors} error(s)");
        }
        Err(e) => return Err(e.into()),
    };
    if list {
        let rows = outcome_rows(&report.releases);
        print(
            format,
            &Printable {
                columns: vec!["outcome", "release", "dataflow", "source", "label", "observations"],
                rows,
                report: &report,
                items: &report.releases,
            },
        )?;
    }
    eprintln!("{}", load_summary(&report));
    Ok(())
}

fn ingest(app: &App, request: &IngestRequest, format: Format) -> Result<std::process::ExitCode> {
    let size = std::fs::metadata(&request.file).map(|m| m.len()).unwrap_or(0);
    let bar = progress_bar(size / 40, "reading"); // rows, roughly: a progress estimate only
    let report = app.ingest(request, &mut |p| show_progress(&bar, p));
    bar.finish_and_clear();
    let report = report?;
    for d in &report.diagnostics {
        eprintln!("{d}");
    }
    if report.diagnostics_dropped > 0 {
        eprintln!("… and {} more", report.diagnostics_dropped);
    }
    for d in report.declared.iter().filter(|d| d.outcome == Declared::Created) {
        eprintln!("declared {} {} ({}) from the mapping", d.kind, d.id, d.name);
    }
    match report.outcome {
        IngestOutcome::Rejected => {
            if format == Format::Json {
                print_json(&report)?;
            }
            eprintln!(
                "{}: {} error(s) in {} rows; nothing was written (use --allow-defects to store the rows flagged)",
                report.file, report.errors, report.rows_read
            );
            return Ok(std::process::ExitCode::from(2));
        }
        IngestOutcome::Planned => {
            let rows = report
                .planned
                .iter()
                .map(|p| {
                    vec![
                        p.dataflow.clone(),
                        p.source.clone(),
                        p.label.clone(),
                        p.release_date.clone(),
                        p.observations.to_string(),
                        p.defects.to_string(),
                    ]
                })
                .collect();
            print(
                format,
                &Printable {
                    columns: vec!["dataflow", "source", "release", "date", "observations", "defects"],
                    rows,
                    report: &report,
                    items: &report.planned,
                },
            )?;
            eprintln!(
                "{}: {} rows read, {} skipped, {} observations, {} diagnostics; a dry run: nothing was written",
                report.file,
                report.rows_read,
                report.rows_skipped,
                report.observations,
                report.diagnostics.len()
            );
        }
        IngestOutcome::Written => {
            let rows = outcome_rows(&report.releases);
            print(
                format,
                &Printable {
                    columns: vec!["outcome", "release", "dataflow", "source", "label", "observations"],
                    rows,
                    report: &report,
                    items: &report.releases,
                },
            )?;
            eprintln!(
                "{}: {} rows read, {} skipped, {} observations, {} diagnostics",
                report.file,
                report.rows_read,
                report.rows_skipped,
                report.observations,
                report.diagnostics.len()
            );
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn query(app: &App, request: &QueryRequest, format: Format) -> Result<()> {
    let report = app.query(request)?;
    match &report.items {
        Figures::Harmonised(items) => {
            let rows = items
                .iter()
                .map(|h| {
                    vec![
                        h.key.join("."),
                        h.time_period.clone(),
                        num(h.value),
                        unit_label(&h.unit, h.unit_mult),
                        h.source.clone(),
                        h.candidates.to_string(),
                        h.reason.clone(),
                        h.citation.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            print(
                format,
                &Printable {
                    columns: vec!["key", "period", "value", "unit", "source", "of", "why", "citation"],
                    rows,
                    report: &report,
                    items,
                },
            )
        }
        Figures::Observations(items) => {
            let rows = items
                .iter()
                .map(|o| {
                    vec![
                        o.key.join("."),
                        o.time_period.clone(),
                        num(o.value),
                        unit_label(&o.unit, o.unit_mult),
                        o.status.clone(),
                        o.source.clone(),
                        format!("{} ({})", o.release_label, o.release_date),
                        o.defects.join("|"),
                        o.citation.clone().unwrap_or_default(),
                        match &o.territory {
                            Some(t) => format!("{} [{t}]", o.definition),
                            None => o.definition.clone(),
                        },
                    ]
                })
                .collect();
            print(
                format,
                &Printable {
                    columns: vec![
                        "key",
                        "period",
                        "value",
                        "unit",
                        "status",
                        "source",
                        "release",
                        "defects",
                        "citation",
                        "definition",
                    ],
                    rows,
                    report: &report,
                    items,
                },
            )
        }
    }
}

#[derive(serde::Serialize)]
struct FlatDataflow<'a> {
    id: &'a str,
    name: &'a str,
    dimensions: String,
    series: i64,
    observations: i64,
}

fn non_negative_percent(text: &str) -> std::result::Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{text}` is not a percentage of 0 or more")),
    }
}

fn unit_label(unit: &str, mult: i32) -> String {
    match mult {
        0 => unit.to_string(),
        3 => format!("{unit} thousands"),
        6 => format!("{unit} millions"),
        9 => format!("{unit} billions"),
        m => format!("{unit} ×10^{m}"),
    }
}

/// A table's notes go to standard error, so the table itself stays clean to pipe; CSV and JSON
/// carry them in the report (JSON) or leave them out (CSV).
fn notes_to_stderr(format: Format, notes: &[String]) {
    if format == Format::Table {
        for note in notes {
            eprintln!("note: {note}");
        }
    }
}

/// What `koshi report` profiles.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum ReportKind {
    /// A country of the AREA code list (ISO 3166-1 alpha-3).
    Country,
    /// A region of Kazakhstan (ISO 3166-2).
    Region,
}
