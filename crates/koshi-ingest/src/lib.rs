//! Bringing figures into the koshi data bank: CSV and XLSX files read through declarative
//! mappings into observations grouped by release, with every problem reported at once by
//! file, sheet, row and column; and the datasets bundled with koshi.

pub mod bundled;
mod figures;
pub mod ingest;
pub mod mapping;
pub mod sdmx;
pub mod table;

use std::ops::ControlFlow;

use koshi_core::structure::Declarations;
use koshi_store::{Bank, BundleState, DeclareOutcome, StoreError, WriteOutcome};

pub use ingest::{Diagnostic, IngestError, IngestOptions, IngestPlan, ReferenceLookup, plan_ingest};
pub use mapping::{Mapping, parse_mapping};
pub use table::{Input, Rows};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read through its mapping (a bank failure while planning is
    /// [`LoadError::Store`] instead, see the `From` conversion).
    #[error(transparent)]
    Ingest(IngestError),
    #[error(transparent)]
    Mapping(#[from] mapping::MappingError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{file}: {errors} error(s); nothing was written (allowing defects stores the rows flagged instead)")]
    Rejected { file: String, errors: usize, plan: Box<IngestPlan> },
    #[error("the bundled load was stopped before {file}; nothing of the bundle was written")]
    Interrupted { file: String },
    #[error("{0}")]
    Io(String),
}

/// A bank that failed while a file was planned (its plausibility references could not be
/// read) is a store failure, not a problem of the file.
impl From<IngestError> for LoadError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Reference { source, .. } => LoadError::Store(source),
            e => LoadError::Ingest(e),
        }
    }
}

/// The result of loading one file.
#[derive(Debug)]
pub struct Loaded {
    pub file: String,
    pub plan: IngestPlan,
    pub outcomes: Vec<WriteOutcome>,
    /// What declaring the mapping's own sources did.
    pub declared: Vec<DeclareOutcome>,
}

/// The sources a mapping declares, to be checked before its file is read.
fn mapping_declarations(mapping: &Mapping) -> Declarations {
    Declarations { sources: mapping.sources.clone(), dataflows: Vec::new() }
}

fn declaration_origin(file_name: &str) -> String {
    format!("the mapping of {file_name}")
}

/// Plan one file against the bank, writing nothing: its catalogue with the sources the mapping
/// declares, and its figures as references for the plausibility checks. [`load_file`] writes
/// what this plans; a dry run stops here.
pub fn plan_file(
    bank: &Bank,
    mapping: &Mapping,
    file_name: &str,
    input: Input<'_>,
    options: &IngestOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<IngestPlan, LoadError> {
    let declared = mapping_declarations(mapping);
    let with_declared =
        if declared.is_empty() { None } else { Some(bank.catalogue_with(&declaration_origin(file_name), &declared)?) };
    let catalogue = with_declared.as_ref().unwrap_or(bank.catalogue());
    let reference =
        |flow: &str, measure: &str, area: &str, period: &str| bank.reference_value(flow, measure, area, period);
    Ok(plan_ingest(catalogue, mapping, file_name, input, options, &reference, progress)?)
}

/// Plan and write one file in one transaction. A file with errors writes nothing unless
/// `allow_defects` is set. Sources the mapping declares are checked before the file is read
/// and declared in the bank in the transaction that writes the figures.
pub fn load_file(
    bank: &mut Bank,
    mapping: &Mapping,
    file_name: &str,
    input: Input<'_>,
    options: &IngestOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<Loaded, LoadError> {
    let plan = plan_file(bank, mapping, file_name, input, options, progress)?;
    write_plan(bank, plan, &mapping_declarations(mapping), file_name)
}

/// An SDMX message to read: its kind, the structures it is read against (the bank's own and
/// any other agency's), and the mapping a message of another agency's dataflow needs.
#[derive(Clone, Copy)]
pub struct SdmxMessage<'a> {
    pub kind: sdmx::SdmxKind,
    pub structures: &'a koshi_sdmx::Structures,
    pub mapping: Option<&'a Mapping>,
}

/// Plan an SDMX message against the bank (see [`sdmx`]), writing nothing: koshi's own messages
/// imply their mapping.
pub fn plan_sdmx_file(
    bank: &Bank,
    message: SdmxMessage<'_>,
    file_name: &str,
    input: Input<'_>,
    options: &IngestOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<IngestPlan, LoadError> {
    let declared = message.mapping.map(mapping_declarations).unwrap_or_default();
    let with_declared =
        if declared.is_empty() { None } else { Some(bank.catalogue_with(&declaration_origin(file_name), &declared)?) };
    let catalogue = with_declared.as_ref().unwrap_or(bank.catalogue());
    let reference =
        |flow: &str, measure: &str, area: &str, period: &str| bank.reference_value(flow, measure, area, period);
    let failure = std::cell::RefCell::new(None);
    let series_of = |dataflow: &str| {
        bank.series_with_periods(dataflow).unwrap_or_else(|e| {
            *failure.borrow_mut() = Some(e);
            Vec::new()
        })
    };
    let context =
        sdmx::SdmxContext { catalogue, structures: message.structures, series_of: &series_of, reference: &reference };
    let plan = sdmx::plan_sdmx(&context, message.mapping, file_name, input, message.kind, options, progress)?;
    match failure.into_inner() {
        Some(e) => Err(LoadError::Store(e)),
        None => Ok(plan),
    }
}

/// Plan and write an SDMX message in one transaction: every data set of the message, in its
/// order, or nothing.
pub fn load_sdmx_file(
    bank: &mut Bank,
    message: SdmxMessage<'_>,
    file_name: &str,
    input: Input<'_>,
    options: &IngestOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<Loaded, LoadError> {
    let plan = plan_sdmx_file(bank, message, file_name, input, options, progress)?;
    let declared = message.mapping.map(mapping_declarations).unwrap_or_default();
    write_plan(bank, plan, &declared, file_name)
}

/// Write a plan (and the sources its mapping declares) in one transaction, or refuse it whole.
fn write_plan(
    bank: &mut Bank,
    plan: IngestPlan,
    declared: &Declarations,
    file_name: &str,
) -> Result<Loaded, LoadError> {
    if !plan.writable() {
        return Err(LoadError::Rejected {
            file: file_name.to_string(),
            errors: plan.error_count(),
            plan: Box::new(plan),
        });
    }
    let origin = declaration_origin(file_name);
    let (declared, outcomes) = bank.atomically(|bank| {
        let declared = if declared.is_empty() { Vec::new() } else { bank.declare(&origin, declared)? };
        Ok::<_, StoreError>((declared, bank.write_releases(&plan.batches)?))
    })?;
    Ok(Loaded { file: file_name.to_string(), plan, outcomes, declared })
}

/// Load every bundled dataset in one transaction: either the whole bundle is written and
/// recorded as complete (see [`bundle_state`]), or nothing of it is. Identical content is
/// skipped, so loading again creates nothing and finishing an older or interrupted load
/// writes only what is missing. `on_file` is told of each file before it is read and may
/// stop the load (`ControlFlow::Break`), which leaves the bank as it was.
pub fn load_bundled(
    bank: &mut Bank,
    on_file: &mut dyn FnMut(&str, usize, usize) -> ControlFlow<()>,
) -> Result<Vec<Loaded>, LoadError> {
    load_bundled_with(bank, &IngestOptions::default(), on_file)
}

/// [`load_bundled`] with the options every file is read with (the date "today" is, limits).
pub fn load_bundled_with(
    bank: &mut Bank,
    options: &IngestOptions,
    on_file: &mut dyn FnMut(&str, usize, usize) -> ControlFlow<()>,
) -> Result<Vec<Loaded>, LoadError> {
    let all = bundled::datasets();
    let total = all.len();
    let fingerprint = bundled::fingerprint();
    bank.expect_bundle(fingerprint);
    bank.atomically(|bank| {
        let mut loaded = Vec::new();
        for (i, ds) in all.iter().enumerate() {
            if on_file(ds.file_name, i, total).is_break() {
                return Err(LoadError::Interrupted { file: ds.file_name.to_string() });
            }
            let mapping = parse_mapping(ds.mapping_name, ds.mapping)?;
            let bytes = ds.bytes().map_err(|e| LoadError::Io(format!("{}: {e}", ds.file_name)))?;
            // Later files' plausibility checks read reference figures written by earlier ones:
            // this connection sees them inside the transaction.
            loaded.push(load_file(bank, &mapping, ds.file_name, Input::Bytes(&bytes), options, &mut |_| {})?);
        }
        bank.record_bundle_complete(fingerprint)?;
        Ok(loaded)
    })
}

/// Whether the bank holds the bundle this koshi ships, another one, or none.
pub fn bundle_state(bank: &mut Bank) -> Result<BundleState, StoreError> {
    bank.expect_bundle(bundled::fingerprint());
    bank.bundle_state()
}
