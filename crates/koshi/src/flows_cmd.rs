//! `koshi flows` commands. Being wired to the model crate.

use std::path::Path;

use anyhow::{bail, Result};

/// Arguments (placeholder until the command is wired).
#[derive(clap::Args)]
pub struct Args {
    /// Remaining arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

pub fn run(_db: &Path, _args: &Args) -> Result<std::process::ExitCode> {
    bail!("this command is not wired yet")
}
