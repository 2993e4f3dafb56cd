//! `koshi export`: a dataflow's figures as SDMX (SDMX-CSV 2.0 or 1.0, SDMX-ML structure-specific
//! or generic, SDMX-JSON) or as plain CSV/JSON, streamed to a file or standard output.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::ValueEnum;
use koshi_app::App;
use koshi_app::sdmx::{DataFormat, DataRequest};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// SDMX-CSV 2.0 (with the ACTION column).
    SdmxCsv,
    /// SDMX-CSV 1.0.
    SdmxCsv1,
    /// SDMX-ML 2.1 structure-specific data.
    SdmxMl,
    /// SDMX-ML 2.1 generic data.
    SdmxMlGeneric,
    /// SDMX-JSON 1.0 data.
    SdmxJson,
    /// Plain CSV: dimensions, TIME_PERIOD, OBS_VALUE and the attributes by name.
    Csv,
    /// A plain JSON array of figures.
    Json,
}

impl ExportFormat {
    fn data_format(self) -> DataFormat {
        match self {
            ExportFormat::SdmxCsv => DataFormat::Csv2,
            ExportFormat::SdmxCsv1 => DataFormat::Csv1,
            ExportFormat::SdmxMl => DataFormat::StructureSpecificXml,
            ExportFormat::SdmxMlGeneric => DataFormat::GenericXml,
            ExportFormat::SdmxJson => DataFormat::Json,
            ExportFormat::Csv => DataFormat::PlainCsv,
            ExportFormat::Json => DataFormat::PlainJson,
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(long_about = "Export a dataflow's figures for another system: SDMX-CSV, SDMX-ML or SDMX-JSON (what \
statistics offices exchange, read by SDMX clients and by `koshi ingest`), or plain CSV/JSON. The output is written \
series by series, so a dataflow of any size streams in bounded memory.\n\nBy default every source's figures are \
exported, each with its SOURCE, DEFINITION, RELEASE, RELEASE_DATE, UNIT_MEASURE, UNIT_MULT, OBS_STATUS, CITATION, \
NOTE and DEFECT attributes: importing the file into another bank gives the same observations and releases. \
--harmonised exports one figure per key and period instead (HARMONISED_REASON says why); --source keeps one or \
more sources.\n\nExamples:\n  koshi export MIG_EXT --key KAZ.WLD._T._T.NET --format sdmx-csv\n  koshi export POP \
--format sdmx-ml --output pop.xml\n  koshi export MIG_STOCK --harmonised --as-of 2021-01-01 --format sdmx-json")]
pub struct ExportArgs {
    pub dataflow: String,
    /// A dotted SDMX key (`+` for several codes, an empty part for any).
    #[arg(long)]
    pub key: Option<String>,
    /// Only these sources (repeat the option for several).
    #[arg(long, conflicts_with = "harmonised")]
    pub source: Vec<String>,
    /// One figure per key and period, chosen by the dataflow's reconciliation policy.
    #[arg(long)]
    pub harmonised: bool,
    /// What was known on this date (YYYY-MM-DD).
    #[arg(long)]
    pub as_of: Option<String>,
    /// First period.
    #[arg(long)]
    pub from: Option<String>,
    /// Last period.
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long, value_enum, default_value_t = ExportFormat::SdmxCsv)]
    pub format: ExportFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub fn export(app: &App, args: &ExportArgs) -> Result<()> {
    let mut request = DataRequest::new(&args.dataflow, args.format.data_format());
    request.key = args.key.clone().unwrap_or_default();
    request.providers = args.source.clone();
    request.all_sources = !args.harmonised && args.source.is_empty();
    request.as_of = args.as_of.clone();
    request.start_period = args.from.clone();
    request.end_period = args.to.clone();
    let summary = match &args.output {
        Some(path) => {
            // Written beside the target and renamed when complete: no half-written file is left,
            // and the file gets the permissions any new file gets (a temporary file's are private).
            let partial = partial_path(path);
            let written = (|| -> Result<_> {
                let file =
                    std::fs::File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
                let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
                let summary = app.sdmx_data(&request, &mut out)?;
                out.flush()?;
                std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))?;
                Ok(summary)
            })();
            if written.is_err() {
                let _ = std::fs::remove_file(&partial);
            }
            written?
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            let summary = app.sdmx_data(&request, &mut out)?;
            out.flush()?;
            summary
        }
    };
    eprintln!(
        "{}: {} observations in {} series, {} data set(s)",
        summary.dataflow, summary.observations, summary.series, summary.datasets
    );
    Ok(())
}

/// `dir/.name.partial`: where an export is written before it is complete.
fn partial_path(path: &std::path::Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export".into());
    path.with_file_name(format!(".{name}.partial"))
}
