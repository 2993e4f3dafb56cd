//! `koshi flows` and `koshi indices`.

use std::path::Path;

use anyhow::{bail, Result};

#[derive(clap::Args)]
pub struct Args {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

#[derive(clap::Args)]
pub struct IndicesArgs {
    dataflow: String,
}

pub fn run(_db: &Path, _args: &Args) -> Result<std::process::ExitCode> {
    bail!("this command is not wired yet")
}

pub fn run_indices(_db: &Path, _args: &IndicesArgs) -> Result<std::process::ExitCode> {
    bail!("this command is not wired yet")
}
