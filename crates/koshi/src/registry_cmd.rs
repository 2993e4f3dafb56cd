//! `koshi registry …`: setting up and checking the work-permit registry from the command line,
//! as its operator (the person with the registry's file or database in hand): users, employers,
//! the quota, the audit chain, expiry and the monthly figures. The use cases live in
//! `koshi_app::registry`; the server offers the same to signed-in users.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use koshi_app::registry::{
    Actor, EmployerRequest, NewUserRequest, PublishRequest, QuotaCellInput, Role, SetPolicyRequest, SetQuotaRequest,
};
use koshi_app::{App, AppError};

use crate::output::{Format, Printable, num, print};

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
KOSHI_PASSWORD='a long passphrase' koshi registry add-user --name minister --role admin\n  \
koshi registry add-employer --name 'Shymkent Cement' --bin 123456789012 --region KZ-79\n  \
koshi registry set-quota --year 2026 --file data/examples/registry_quota_2026.csv\n  \
koshi registry quota --year 2026\n  \
koshi registry verify")]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Create a user: admin (ministry), officer (one region), employer (one employer) or analyst.
    #[command(long_about = "Create a user of the registry. The password is read from the KOSHI_PASSWORD \
environment variable or, if it is not set, from the first line of standard input (at least 12 characters); it is \
stored as an argon2 hash. An officer decides the applications of one region (--region, an ISO 3166-2 code such as \
KZ-79); an employer user applies for one employer (--employer, the id `add-employer` printed).")]
    AddUser {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "officer", "employer", "analyst"])]
        role: String,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        employer: Option<i64>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Register an employer (its business identification number, region, and optionally its facts as JSON).
    AddEmployer {
        #[arg(long)]
        name: String,
        /// The business identification number (12 digits).
        #[arg(long)]
        bin: String,
        #[arg(long)]
        region: String,
        /// A JSON file with what the rules need to know: {"employer": {...}, "staff": [...], "violations": [...]}.
        #[arg(long)]
        facts: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Set a year's quota cells from a CSV file with the columns line,region,category,allocated (one transaction).
    SetQuota {
        #[arg(long)]
        year: i32,
        #[arg(long)]
        file: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// A year's quota: allocated, used and left by line, region and category.
    Quota {
        #[arg(long)]
        year: i32,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Walk the audit log's hash chain; names the first broken entry (exit status 1 if any).
    Verify {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Mark the permits whose term has ended as expired.
    Expire {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Put a policy in force: a whole policy file, or a variant of a shipped one (`policy = "kz"`
    /// and `[overrides]`, e.g. the year's new monthly calculation index once its budget law is out).
    SetPolicy {
        /// The policy file (TOML); see data/examples/kz_local_content_80.toml for a variant.
        #[arg(long)]
        file: PathBuf,
        /// The name it is kept under (default: the file's stem).
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Publish a year's monthly figures into the bank, as a revision of the release
    /// `permit registry YEAR` of the dataflow LAB_PERMIT_REG (then `koshi query LAB_PERMIT_REG`).
    Publish {
        #[arg(long)]
        year: i32,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The registry's monthly figures: workers issued, extended, refused by ground, revoked, expired.
    Statistics {
        #[arg(long)]
        year: i32,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

fn password() -> Result<String> {
    if let Ok(p) = std::env::var("KOSHI_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().take(4096).read_to_string(&mut line).context("reading the password from standard input")?;
    let first = line.lines().next().unwrap_or("").to_string();
    if first.is_empty() {
        bail!("give the password in KOSHI_PASSWORD or on the first line of standard input");
    }
    Ok(first)
}

/// The cells of a quota file, and the line each starts on.
fn read_quota_csv(path: &PathBuf) -> Result<(Vec<QuotaCellInput>, Vec<u64>)> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("{}", path.display()))?;
    let headers = reader.headers().with_context(|| format!("{}", path.display()))?.clone();
    let mut cells = Vec::new();
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    let mut rows = reader.deserialize::<QuotaCellInput>();
    loop {
        let line = rows.reader().position().line();
        let Some(row) = rows.next() else { break };
        match row {
            Ok(cell) => {
                cells.push(cell);
                lines.push(line);
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                // Name the column when the reader knows which field failed.
                let column = match e.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => {
                        err.field().and_then(|f| headers.get(f as usize)).map(|h| format!(", column `{h}`"))
                    }
                    _ => None,
                };
                problems.push(format!("{}: line {line}{}: {e}", path.display(), column.unwrap_or_default()));
            }
        }
    }
    if !problems.is_empty() {
        bail!("{} problem(s), nothing written:\n{}", problems.len(), problems.join("\n"));
    }
    Ok((cells, lines))
}

/// A refusal of the quota's `cells[i].column` said at the file's line and column.
fn at_file_line(error: AppError, path: &Path, lines: &[u64]) -> anyhow::Error {
    if let AppError::Invalid { field, message } = &error
        && let Some(rest) = field.strip_prefix("cells[")
        && let Some((index, column)) = rest.split_once("].")
        && let Some(line) = index.parse::<usize>().ok().and_then(|i| lines.get(i))
    {
        return anyhow::anyhow!("{}: line {line}, column `{column}`: {message}; nothing written", path.display());
    }
    error.into()
}

pub fn run(app: &App, args: &Args) -> Result<std::process::ExitCode> {
    let registry = app.registry()?;
    let operator = Actor::operator();
    match &args.command {
        Sub::AddUser { name, role, region, employer, format } => {
            let role = Role::parse(role).context("unknown role")?;
            let user = registry.create_user(
                &operator,
                &NewUserRequest {
                    name: name.clone(),
                    password: password()?,
                    role,
                    region: region.clone(),
                    employer: *employer,
                },
            )?;
            let rows = vec![vec![
                user.id.to_string(),
                user.name.clone(),
                user.role.name().to_string(),
                user.region.clone().unwrap_or_default(),
                user.employer.map(|e| e.to_string()).unwrap_or_default(),
            ]];
            let columns = vec!["id", "name", "role", "region", "employer"];
            print(*format, &Printable { columns, rows, report: &user, items: std::slice::from_ref(&user) })?;
        }
        Sub::AddEmployer { name, bin, region, facts, format } => {
            let facts = match facts {
                Some(path) => {
                    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
                    serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?
                }
                None => Default::default(),
            };
            let employer = registry.create_employer(
                &operator,
                &EmployerRequest { name: name.clone(), bin: bin.clone(), region: region.clone(), facts },
            )?;
            let rows = vec![vec![
                employer.id.to_string(),
                employer.name.clone(),
                employer.bin.clone(),
                employer.region.clone(),
            ]];
            let columns = vec!["id", "name", "bin", "region"];
            print(*format, &Printable { columns, rows, report: &employer, items: std::slice::from_ref(&employer) })?;
        }
        Sub::SetQuota { year, file, format } => {
            let (cells, lines) = read_quota_csv(file)?;
            let view = registry
                .set_quota(&operator, &SetQuotaRequest { year: *year, cells })
                .map_err(|e| at_file_line(e, file, &lines))?;
            print_quota(*format, &view)?;
        }
        Sub::Quota { year, format } => {
            let view = registry.quota(&operator, *year)?;
            print_quota(*format, &view)?;
        }
        Sub::Verify { format } => {
            let report = registry.verify(&operator)?;
            let status = match &report.broken {
                None => format!("the chain of {} entries is intact", report.entries),
                Some(b) => format!("entry {} is broken: {}", b.seq, b.reason),
            };
            let rows = vec![vec![num(Some(report.entries as f64)), report.valid.to_string(), status]];
            let columns = vec!["entries", "valid", "finding"];
            print(*format, &Printable { columns, rows, report: &report, items: std::slice::from_ref(&report) })?;
            if !report.valid {
                return Ok(std::process::ExitCode::from(1));
            }
        }
        Sub::Expire { format } => {
            let report = registry.expire(&operator)?;
            let rows = report.expired.iter().map(|id| vec![id.to_string(), report.date.to_string()]).collect();
            let columns = vec!["permit", "expired_on"];
            print(*format, &Printable { columns, rows, report: &report, items: &report.expired })?;
        }
        Sub::SetPolicy { file, name, format } => {
            let text = std::fs::read_to_string(file).with_context(|| format!("{}", file.display()))?;
            let name = match name {
                Some(n) => n.clone(),
                None => file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
            };
            let view = registry.set_policy(&operator, &SetPolicyRequest { name, text })?;
            let rows = vec![vec![view.name.clone(), view.id.clone(), view.title.clone()]];
            let columns = vec!["name", "id", "title"];
            print(*format, &Printable { columns, rows, report: &view, items: std::slice::from_ref(&view) })?;
        }
        Sub::Publish { year, format } => {
            let report = app.publish_registry_figures(&operator, &PublishRequest { year: *year })?;
            let rows = vec![vec![
                report.dataflow.clone(),
                report.label.clone(),
                report.release_date.clone(),
                report.outcome.clone(),
                report.release_id.to_string(),
                report.revision.map(|r| r.to_string()).unwrap_or_default(),
                num(Some(report.figures as f64)),
                num(Some(report.withdrawn as f64)),
            ]];
            let columns =
                vec!["dataflow", "release", "date", "outcome", "release_id", "revision", "figures", "withdrawn"];
            print(*format, &Printable { columns, rows, report: &report, items: std::slice::from_ref(&report) })?;
        }
        Sub::Statistics { year, format } => {
            let rows_data = registry.monthly(&operator, *year)?;
            let rows = rows_data
                .iter()
                .map(|r| {
                    vec![
                        r.month.clone(),
                        r.region.clone(),
                        r.category.clone(),
                        r.nationality.clone(),
                        r.measure.clone(),
                        r.ground.clone(),
                        num(Some(r.workers as f64)),
                    ]
                })
                .collect();
            let columns = vec!["month", "region", "category", "nationality", "measure", "ground", "workers"];
            print(*format, &Printable { columns, rows, report: &rows_data, items: &rows_data })?;
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn print_quota(format: Format, view: &koshi_app::registry::QuotaView) -> Result<()> {
    let rows = view
        .cells
        .iter()
        .map(|c| {
            vec![
                c.line.clone(),
                c.region.clone(),
                c.category.clone(),
                num(Some(c.allocated as f64)),
                num(Some(c.used as f64)),
                num(Some(c.left as f64)),
            ]
        })
        .collect();
    let columns = vec!["line", "region", "category", "allocated", "used", "left"];
    print(format, &Printable { columns, rows, report: view, items: &view.cells })
}
