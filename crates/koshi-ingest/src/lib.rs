//! Bringing figures into the koshi data bank: CSV and XLSX files read through declarative
//! mappings into observations grouped by release, with every problem reported at once by
//! file, sheet, row and column; and the datasets bundled with koshi.

pub mod bundled;
mod figures;
pub mod ingest;
pub mod mapping;
pub mod table;

use koshi_store::{Bank, StoreError, WriteOutcome};

pub use ingest::{plan_ingest, Diagnostic, IngestError, IngestOptions, IngestPlan};
pub use mapping::{parse_mapping, Mapping};
pub use table::Input;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Mapping(#[from] mapping::MappingError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{file}: {errors} error(s); nothing was written (use --allow-defects to store the rows flagged)")]
    Rejected { file: String, errors: usize, plan: Box<IngestPlan> },
    #[error("{0}")]
    Io(String),
}

/// The result of loading one file.
#[derive(Debug)]
pub struct Loaded {
    pub file: String,
    pub plan: IngestPlan,
    pub outcomes: Vec<WriteOutcome>,
}

/// Plan and write one file in one transaction. A file with errors writes nothing unless
/// `allow_defects` is set.
pub fn load_file(
    bank: &mut Bank,
    mapping: &Mapping,
    file_name: &str,
    input: Input<'_>,
    options: &IngestOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<Loaded, LoadError> {
    let plan = {
        let reference = |flow: &str, measure: &str, area: &str, period: &str| bank.reference_value(flow, measure, area, period);
        plan_ingest(bank.catalogue(), mapping, file_name, input, options, &reference, progress)?
    };
    if !plan.writable() {
        return Err(LoadError::Rejected { file: file_name.to_string(), errors: plan.error_count(), plan: Box::new(plan) });
    }
    let outcomes = bank.write_releases(&plan.batches)?;
    Ok(Loaded { file: file_name.to_string(), plan, outcomes })
}

/// Load every bundled dataset (each file one transaction). Identical content is skipped.
pub fn load_bundled(bank: &mut Bank, on_file: &mut dyn FnMut(&str, usize, usize)) -> Result<Vec<Loaded>, LoadError> {
    let all = bundled::datasets();
    let total = all.len();
    let mut loaded = Vec::new();
    for (i, ds) in all.iter().enumerate() {
        on_file(ds.file_name, i, total);
        let mapping = parse_mapping(ds.mapping_name, ds.mapping)?;
        let bytes = ds.bytes().map_err(|e| LoadError::Io(format!("{}: {e}", ds.file_name)))?;
        loaded.push(load_file(bank, &mapping, ds.file_name, Input::Bytes(&bytes), &IngestOptions::default(), &mut |_| {})?);
    }
    Ok(loaded)
}
