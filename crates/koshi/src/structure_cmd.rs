//! `koshi source add` and `koshi dataflow add`: sources and dataflows of a user's own, checked
//! as the bundled ones are and kept in the bank (its catalogue includes them from then on).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use koshi_core::Labels;
use koshi_core::structure::{Declarations, Source};
use koshi_store::{Bank, DeclareOutcome, Declared};

use crate::output::{Format, Printable, print};

#[derive(Args)]
pub struct SourceArgs {
    #[command(subcommand)]
    action: SourceAction,
}

#[derive(Subcommand)]
enum SourceAction {
    /// Declare a source: the agency or publication a file's figures come from (e.g. a ministry).
    #[command(
        after_help = "Example:\n  koshi source add --id KZ_MINTRUD_ALA --name \"Ministry of Labour, Almaty office\" \
--kind ministry\n\nThe id (capitals, digits and _) is what a mapping's SOURCE names. A declared source cannot be changed \
later; declaring it again with the same fields does nothing."
    )]
    Add {
        /// Identifier, e.g. KZ_MINTRUD_ALA (capitals, digits and `_`).
        #[arg(long)]
        id: String,
        /// Name in English.
        #[arg(long)]
        name: String,
        /// Name in Russian.
        #[arg(long)]
        name_ru: Option<String>,
        /// Name in Kazakh.
        #[arg(long)]
        name_kk: Option<String>,
        /// What kind of source: ministry, national statistics office, international organisation, paper…
        #[arg(long)]
        kind: String,
        /// Where its publications are.
        #[arg(long)]
        url: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Args)]
pub struct DataflowArgs {
    #[command(subcommand)]
    action: DataflowAction,
}

#[derive(Subcommand)]
enum DataflowAction {
    /// Declare the dataflows (and sources) of a TOML file with [[dataflow]] (and [[source]]) tables shaped as in
    /// data/structure/dataflows.toml (and sources.toml).
    Add {
        /// The TOML file.
        file: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub fn run_source(db: &Path, args: &SourceArgs) -> Result<std::process::ExitCode> {
    let SourceAction::Add { id, name, name_ru, name_kk, kind, url, format } = &args.action;
    let source = Source {
        id: id.clone(),
        name: Labels {
            en: name.clone(),
            ru: name_ru.clone().unwrap_or_default(),
            kk: name_kk.clone().unwrap_or_default(),
        },
        kind: kind.clone(),
        url: url.clone(),
        file: None,
    };
    let declarations = Declarations { sources: vec![source], dataflows: Vec::new() };
    let mut bank = open(db)?;
    let outcomes = bank.declare("koshi source add", &declarations)?;
    print_outcomes(*format, &outcomes)?;
    Ok(std::process::ExitCode::SUCCESS)
}

pub fn run_dataflow(db: &Path, args: &DataflowArgs) -> Result<std::process::ExitCode> {
    let DataflowAction::Add { file, format } = &args.action;
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut bank = open(db)?;
    let outcomes = bank.declare_toml(&file.display().to_string(), &text)?;
    print_outcomes(*format, &outcomes)?;
    Ok(std::process::ExitCode::SUCCESS)
}

fn open(db: &Path) -> Result<Bank> {
    Bank::open(db).with_context(|| format!("opening the data bank {}", db.display()))
}

fn print_outcomes(format: Format, outcomes: &[DeclareOutcome]) -> Result<()> {
    let rows = outcomes
        .iter()
        .map(|o| {
            let outcome = match o.outcome {
                Declared::Created => "created",
                Declared::Unchanged => "unchanged",
            };
            vec![outcome.to_string(), o.kind.to_string(), o.id.clone(), o.name.clone()]
        })
        .collect();
    print(format, &Printable { columns: vec!["outcome", "kind", "id", "name"], rows, items: outcomes })
}
