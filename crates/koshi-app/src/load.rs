//! Writing to the data bank: a file through a mapping (planned first, then written in one
//! transaction), the bundled datasets (one transaction for all of them), and sources and
//! dataflows of a user's own. Writes are command-line only until users and roles exist.

use std::ops::ControlFlow;
use std::path::PathBuf;

use koshi_core::Labels;
use koshi_core::structure::{Declarations, Source};
use koshi_ingest::{Diagnostic, IngestOptions, IngestPlan, Input, LoadError, SdmxMessage};
use serde::{Deserialize, Serialize};

pub use koshi_store::{DeclareOutcome, Declared, WriteOutcome};

use crate::error::{AppError, Result};
use crate::{App, BundleState};

/// Load one file: a CSV, TSV or XLSX file through a mapping, or an SDMX message (SDMX-CSV 1.0
/// or 2.0, SDMX-ML 2.1 generic or structure-specific data), which needs a mapping only when its
/// dataflow is another agency's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestRequest {
    pub file: PathBuf,
    pub mapping: Option<PathBuf>,
    /// An SDMX structure message (SDMX-ML 2.1) with the data structure of a message from
    /// another agency: structure-specific data cannot be read without it.
    #[serde(default)]
    pub structure: Option<PathBuf>,
    /// Store rows with problems, flagged as defects, instead of rejecting the file.
    pub allow_defects: bool,
    /// Read and check only: nothing is written.
    pub dry_run: bool,
}

/// What became of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestOutcome {
    /// Written (or found identical to what the bank holds).
    Written,
    /// Read and checked, not written (a dry run).
    Planned,
    /// It has errors: nothing was written.
    Rejected,
}

#[derive(Debug, Clone, Serialize)]
pub struct IngestReport {
    pub file: String,
    pub outcome: IngestOutcome,
    pub rows_read: usize,
    pub rows_skipped: usize,
    pub observations: usize,
    pub errors: usize,
    /// Every problem, note and warning kept (all errors first come first), by file, sheet, row, column.
    pub diagnostics: Vec<Diagnostic>,
    /// Diagnostics beyond those kept, counted only.
    pub diagnostics_dropped: usize,
    /// The releases the file makes, as planned (written or not).
    pub planned: Vec<PlannedRelease>,
    /// Per release written: created, or unchanged (the bank already held this content).
    pub releases: Vec<WriteOutcome>,
    /// Sources the mapping declared.
    pub declared: Vec<DeclareOutcome>,
}

/// A release a file makes: its stream, stated date and size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedRelease {
    pub dataflow: String,
    pub source: String,
    pub label: String,
    pub release_date: String,
    pub observations: usize,
    /// Rows stored flagged with defects.
    pub defects: usize,
}

impl IngestReport {
    fn of(file: &str, outcome: IngestOutcome, plan: &IngestPlan) -> Self {
        IngestReport {
            file: file.to_string(),
            outcome,
            rows_read: plan.rows_read,
            rows_skipped: plan.rows_skipped,
            observations: plan.observations,
            errors: plan.error_count(),
            diagnostics: plan.diagnostics.clone(),
            diagnostics_dropped: plan.diagnostics_dropped,
            planned: plan
                .batches
                .iter()
                .map(|b| PlannedRelease {
                    dataflow: b.dataflow.clone(),
                    source: b.source.clone(),
                    label: b.label.clone(),
                    release_date: b.release_date.to_string(),
                    observations: b.observations.len(),
                    defects: b.defects.len(),
                })
                .collect(),
            releases: Vec::new(),
            declared: Vec::new(),
        }
    }
}

/// Progress of a long write, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress<'a> {
    /// Rows read so far of one file.
    Rows(usize),
    /// Starting file `index` of `of` (the bundled load).
    File { name: &'a str, index: usize, of: usize },
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadBundledReport {
    pub files: usize,
    pub rows_read: usize,
    pub observations: usize,
    pub releases_created: usize,
    pub releases_unchanged: usize,
    /// Notes and warnings (declared defects, skipped aggregates) over all files.
    pub diagnostics: usize,
    pub releases: Vec<WriteOutcome>,
    pub bundle: BundleState,
}

/// Declare a source of a user's own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceDeclaration {
    pub id: String,
    pub name: String,
    pub name_ru: Option<String>,
    pub name_kk: Option<String>,
    pub kind: String,
    pub url: Option<String>,
}

/// How many files the bundled load reads (for a progress bar).
pub fn bundled_file_count() -> usize {
    koshi_ingest::bundled::datasets().len()
}

/// Whether a file is an SDMX message, from its first kilobytes.
fn sdmx_kind(path: &std::path::Path) -> Result<Option<koshi_ingest::sdmx::SdmxKind>> {
    use std::io::Read;
    let file = |source| AppError::File { path: path.display().to_string(), source };
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path).map_err(file)?.take(4096).read_to_end(&mut head).map_err(file)?;
    Ok(koshi_ingest::sdmx::sniff(&head))
}

fn read_text(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| AppError::File { path: path.display().to_string(), source })
}

impl App {
    /// Plan a file and, unless it is a dry run or it has errors (without `allow_defects`),
    /// write it in one transaction. A rejected file is a report with every problem, not an error.
    pub fn ingest(&self, request: &IngestRequest, progress: &mut dyn FnMut(Progress<'_>)) -> Result<IngestReport> {
        let mapping = match &request.mapping {
            Some(path) => {
                let text = read_text(path)?;
                Some(koshi_ingest::parse_mapping(&path.display().to_string(), &text).map_err(LoadError::from)?)
            }
            None => None,
        };
        let name = request.file.display().to_string();
        if !request.file.is_file() {
            return Err(AppError::File {
                path: name,
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let sdmx = sdmx_kind(&request.file)?;
        if sdmx.is_none() && mapping.is_none() {
            return Err(AppError::invalid(
                "mapping",
                format!("{name} is not an SDMX message: a CSV, TSV or XLSX file needs a mapping"),
            ));
        }
        let structures = match sdmx {
            Some(_) => Some(self.import_structures(request.structure.as_deref())?),
            None => None,
        };
        let options =
            IngestOptions { allow_defects: request.allow_defects, today: Some(self.today()), ..Default::default() };
        let input = Input::Path(&request.file);
        let mut rows = |rows| progress(Progress::Rows(rows));
        if request.dry_run {
            // Reading only: a connection of the read pool, no write lock.
            let plan = self.read(|bank| {
                Ok(match (sdmx, &structures, &mapping) {
                    (Some(kind), Some(structures), _) => {
                        let message = SdmxMessage { kind, structures, mapping: mapping.as_ref() };
                        koshi_ingest::plan_sdmx_file(bank, message, &name, input, &options, &mut rows)?
                    }
                    (_, _, Some(mapping)) => koshi_ingest::plan_file(bank, mapping, &name, input, &options, &mut rows)?,
                    _ => unreachable!("a file without a mapping is an SDMX message"),
                })
            })?;
            let outcome = if plan.writable() { IngestOutcome::Planned } else { IngestOutcome::Rejected };
            return Ok(IngestReport::of(&name, outcome, &plan));
        }
        let mut bank = self.writer()?;
        let loaded = match (sdmx, &structures, &mapping) {
            (Some(kind), Some(structures), _) => {
                let message = SdmxMessage { kind, structures, mapping: mapping.as_ref() };
                koshi_ingest::load_sdmx_file(&mut bank, message, &name, input, &options, &mut rows)
            }
            (_, _, Some(mapping)) => koshi_ingest::load_file(&mut bank, mapping, &name, input, &options, &mut rows),
            _ => unreachable!("a file without a mapping is an SDMX message"),
        };
        match loaded {
            Ok(loaded) => {
                let mut report = IngestReport::of(&name, IngestOutcome::Written, &loaded.plan);
                report.releases = loaded.outcomes;
                report.declared = loaded.declared;
                Ok(report)
            }
            Err(LoadError::Rejected { plan, .. }) => Ok(IngestReport::of(&name, IngestOutcome::Rejected, &plan)),
            Err(e) => Err(e.into()),
        }
    }

    /// The structures an SDMX message is read against: the bank's own, and those of another
    /// agency's structure message.
    fn import_structures(&self, foreign: Option<&std::path::Path>) -> Result<koshi_sdmx::Structures> {
        let mut structures = (*self.sdmx_structures()?).clone();
        if let Some(path) = foreign {
            let file = std::fs::File::open(path)
                .map_err(|source| AppError::File { path: path.display().to_string(), source })?;
            let name = path.display().to_string();
            let (theirs, report) = koshi_sdmx::xml::read_structure(
                &name,
                std::io::BufReader::new(file),
                koshi_sdmx::ReadLimits::default(),
            )
            .map_err(|e| AppError::invalid("structure", e.to_string()))?;
            if report.has_errors() {
                let problems: Vec<String> =
                    report.diagnostics.iter().map(|d| format!("{}: {}", d.position, d.message)).collect();
                return Err(AppError::invalid("structure", problems.join("; ")));
            }
            structures.dataflows.extend(theirs.dataflows);
            structures.data_structures.extend(theirs.data_structures);
            structures.codelists.extend(theirs.codelists);
            structures.concept_schemes.extend(theirs.concept_schemes);
        }
        Ok(structures)
    }

    /// (Re)load every bundled dataset in one transaction.
    pub fn load_bundled(&self, progress: &mut dyn FnMut(Progress<'_>)) -> Result<LoadBundledReport> {
        let mut bank = self.writer()?;
        let options = IngestOptions { today: Some(self.today()), ..Default::default() };
        let loaded = koshi_ingest::load_bundled_with(&mut bank, &options, &mut |name, index, of| {
            progress(Progress::File { name, index, of });
            ControlFlow::Continue(())
        })?;
        let releases: Vec<WriteOutcome> = loaded.iter().flat_map(|l| l.outcomes.clone()).collect();
        let created = releases.iter().filter(|o| matches!(o, WriteOutcome::Created { .. })).count();
        Ok(LoadBundledReport {
            files: loaded.len(),
            rows_read: loaded.iter().map(|l| l.plan.rows_read).sum(),
            observations: loaded.iter().map(|l| l.plan.observations).sum(),
            releases_created: created,
            releases_unchanged: releases.len() - created,
            diagnostics: loaded.iter().map(|l| l.plan.diagnostics.len()).sum(),
            releases,
            bundle: koshi_ingest::bundle_state(&mut bank)?,
        })
    }

    /// Whether the bank holds the bundle this koshi ships (the read connections know its fingerprint).
    pub fn bundle_state(&self) -> Result<BundleState> {
        self.read_quick(|bank| Ok(bank.bundle_state()?))
    }

    /// Declare a source of a user's own (kept in the bank; declaring it again the same way does nothing).
    pub fn declare_source(&self, declaration: &SourceDeclaration) -> Result<Vec<DeclareOutcome>> {
        let source = Source {
            id: declaration.id.clone(),
            name: Labels {
                en: declaration.name.clone(),
                ru: declaration.name_ru.clone().unwrap_or_default(),
                kk: declaration.name_kk.clone().unwrap_or_default(),
            },
            kind: declaration.kind.clone(),
            url: declaration.url.clone(),
            file: None,
            licence: None,
        };
        let declarations = Declarations { sources: vec![source], dataflows: Vec::new() };
        Ok(self.writer()?.declare("a source declaration", &declarations)?)
    }

    /// Declare the dataflows (and sources) of a TOML file shaped as `data/structure/dataflows.toml`.
    pub fn declare_dataflows(&self, file: &std::path::Path) -> Result<Vec<DeclareOutcome>> {
        let text = read_text(file)?;
        Ok(self.writer()?.declare_toml(&file.display().to_string(), &text)?)
    }
}
