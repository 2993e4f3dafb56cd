//! `koshi source add` and `koshi dataflow add`: sources and dataflows of a user's own, checked
//! as the bundled ones are and kept in the bank (its catalogue includes them from then on).

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use koshi_app::App;
use koshi_app::load::{DeclareOutcome, Declared, SourceDeclaration};

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

pub fn run_source(app: &App, args: &SourceArgs) -> Result<std::process::ExitCode> {
    let SourceAction::Add { id, name, name_ru, name_kk, kind, url, format } = &args.action;
    let declaration = SourceDeclaration {
        id: id.clone(),
        name: name.clone(),
        name_ru: name_ru.clone(),
        name_kk: name_kk.clone(),
        kind: kind.clone(),
        url: url.clone(),
    };
    let outcomes = app.declare_source(&declaration)?;
    print_outcomes(*format, &outcomes)?;
    Ok(std::process::ExitCode::SUCCESS)
}

pub fn run_dataflow(app: &App, args: &DataflowArgs) -> Result<std::process::ExitCode> {
    let DataflowAction::Add { file, format } = &args.action;
    let outcomes = app.declare_dataflows(file)?;
    print_outcomes(*format, &outcomes)?;
    Ok(std::process::ExitCode::SUCCESS)
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
    print(
        format,
        &Printable { columns: vec!["outcome", "kind", "id", "name"], rows, report: &outcomes, items: outcomes },
    )
}
