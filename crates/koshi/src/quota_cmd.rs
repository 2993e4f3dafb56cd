//! `koshi quota compute` (the national foreign-labour quota from the rate and the labour force,
//! beside the published figures, and its distribution by region and category) and `koshi quota
//! simulate` (two policies on the same demand): arguments into the application's requests, its
//! reports into a table, CSV or JSON. The use cases live in `koshi_app::quota`.

use std::path::PathBuf;

use anyhow::Result;
use koshi_app::App;
use koshi_app::quota::{
    self, PolicyChoice, QuotaComputeReport, QuotaComputeRequest, QuotaSimulateReport, QuotaSimulateRequest,
};
use serde::Serialize;

use crate::output::{Format, Printable, num, print, print_json, print_notes, with_flags};

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  koshi quota compute --year 2024\n  \
koshi quota compute --year 2025 --requests data/examples/quota_requests_2025.csv\n  \
koshi quota simulate --policy kz --policy data/examples/kz_local_content_80.toml --demand data/examples/quota_demand.toml")]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// The national quota of a year (rate × labour force) beside the published figures, and its distribution by region and category.
    #[command(
        long_about = "The national foreign-labour quota of a year, sized as the policy sizes it: its rate \
(quota_rate, a share of the labour force) times the labour force of the base year (quota_base_lag years before the \
quota year: for Kazakhstan two years, the last full labour-force survey year when the quota is drafted — not stated \
by the sources, the best fit to the published quotas). The labour force is the Bureau of National Statistics' \
annual average (population 15 and older) bundled with koshi; the report cites the file, line and figure used.\n\n\
Every published figure of the year is shown beside the computed one with the gap. Where a published figure is \
not rate × labour force (2014's 108,000, 2025's first 14,800, 2023's redistributed 18,000) it is marked so with \
the reason, not forced to match.\n\n\
With --requests (a CSV file with the columns region,category,places: employers' requested places by region, \
ISO 3166-2 codes, and category 1–4 or seasonal) the national figure is shared among them: a reserve is kept back \
(--reserve-share, by default the policy's quota_reserve_share, 5% for Kazakhstan), the rest pro rata to the \
requests in whole places by largest remainder, never more than a cell asked for. The official formula was not \
found: this method is the project's assumption, and the report says so.\n\n\
The policy is a shipped one (kz, sg, us_h1b) or a policy file (TOML): a whole policy, or a variant of a shipped \
one (see data/examples/kz_local_content_80.toml). --format csv prints the published figures beside the computed \
one (with --requests: the allocations); json the whole report.",
        after_help = "Examples:\n  koshi quota compute --year 2024                    # 0.23% × labour force 2022 = 21,689; published 22,000\n  \
koshi quota compute --year 2014                    # 108,000 published: marked as not rate × labour force\n  \
koshi quota compute --year 2025 --requests data/examples/quota_requests_2025.csv\n  \
koshi quota compute --year 2024 --format json"
    )]
    Compute(ComputeArgs),
    /// Compare two policies on the same demand: permits by region/category, exemptions, refusals by ground, fees.
    #[command(
        long_about = "Run the same applications, in the same order, through two policies and compare what each \
makes of them: permits granted by region and category, applications exempt, refused (and on which grounds), \
undetermined, and the fees. Each policy starts from the demand's quota and consumes its own copy as it grants.\n\n\
--policy is given twice, A then B: a shipped policy (kz, sg, us_h1b) or a policy file (TOML), either whole or a \
variant of a shipped one: `policy = \"kz\"` and an [overrides] table with the parameters, grounds and rules that \
change (data/examples/kz_local_content_80.toml lowers the floor of citizens in categories 3–4 from 90% to 80%).\n\n\
--demand is a TOML or JSON file (JSON when it ends in .json): the date, the quota cells (line, region, category, \
allocated, used) and the applications, each a request, the employer's facts and how many times it arrives (see \
data/examples/quota_demand.toml). A mistake in it is named with its file and line. --date decides on another day \
than the demand's.",
        after_help = "Examples:\n  \
koshi quota simulate --policy kz --policy data/examples/kz_local_content_80.toml --demand data/examples/quota_demand.toml\n  \
koshi quota simulate --policy kz --policy data/examples/kz_local_content_80.toml --demand data/examples/quota_demand.toml \\\n      \
--date 2024-03-01           # before the variant's change: both policies agree\n  \
koshi quota simulate --policy kz --policy my_policy.toml --demand demand.json --format csv"
    )]
    Simulate(SimulateArgs),
}

#[derive(clap::Args)]
struct ComputeArgs {
    /// The quota year.
    #[arg(long)]
    year: i32,
    /// A shipped policy (kz, sg, us_h1b) or a policy file (TOML).
    #[arg(long, default_value = "kz")]
    policy: String,
    /// Employers' requests: a CSV file with the columns region,category,places (`#` lines are comments).
    #[arg(long)]
    requests: Option<PathBuf>,
    /// The share kept in reserve, from 0 to below 1 (default: the policy's quota_reserve_share).
    #[arg(long)]
    reserve_share: Option<f64>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// A policy to compare: give it twice, A then B; a shipped name (kz, sg, us_h1b) or a policy file (TOML).
    #[arg(long = "policy", required = true)]
    policies: Vec<String>,
    /// The demand: a TOML or JSON file of applications and the quota they start from.
    #[arg(long)]
    demand: PathBuf,
    /// Decide on this day (YYYY-MM-DD) instead of the demand's date.
    #[arg(long)]
    date: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(app: &App, args: &Args) -> Result<std::process::ExitCode> {
    match &args.command {
        Sub::Compute(a) => compute(app, a)?,
        Sub::Simulate(a) => simulate(app, a)?,
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// A policy argument: a file when it names one (or looks like a path), else a shipped name.
fn policy_choice(text: &str) -> PolicyChoice {
    let path = PathBuf::from(text);
    let shipped = quota::SHIPPED_POLICIES.iter().any(|(name, _)| *name == text);
    if !shipped && (path.exists() || text.ends_with(".toml") || text.contains('/') || text.contains('\\')) {
        PolicyChoice::File(path)
    } else {
        PolicyChoice::Shipped(text.to_string())
    }
}

/// The application's request fields as this command's flags.
fn flagged(e: koshi_app::AppError) -> anyhow::Error {
    with_flags(e, &[("policy_a", "--policy (A, the first)"), ("policy_b", "--policy (B, the second)")], &[])
}

// ---------------------------------------------------------------------------------------------
// koshi quota compute

fn compute(app: &App, a: &ComputeArgs) -> Result<()> {
    let requests = match &a.requests {
        Some(path) => Some(quota::read_requests(path).map_err(flagged)?),
        None => None,
    };
    let request = QuotaComputeRequest {
        year: a.year,
        policy: policy_choice(&a.policy),
        requests,
        reserve_share: a.reserve_share,
    };
    let report = app.quota_compute(&request).map_err(flagged)?;
    match a.format {
        Format::Json => print_json(&report)?,
        Format::Csv => {
            match &report.distribution {
                Some(d) => print(
                    a.format,
                    &Printable {
                        columns: Vec::new(),
                        rows: Vec::new(),
                        report: &report,
                        items: &d.distribution.allocations,
                    },
                )?,
                None => {
                    let rows = sizing_rows(&report);
                    print(
                        a.format,
                        &Printable { columns: Vec::new(), rows: Vec::new(), report: &report, items: &rows },
                    )?
                }
            }
            print_notes(a.format, &report.notes)?;
        }
        Format::Table => {
            print_pairs(&summary_rows(&report))?;
            println!();
            let published: Vec<Vec<String>> = report
                .computation
                .published
                .iter()
                .map(|p| {
                    vec![
                        p.label.clone(),
                        num(Some(p.figure)),
                        num(Some(report.computation.computed)),
                        format!("{:+.2}%", p.gap_percent),
                        if p.rate_based { "yes".into() } else { "no (see below)".into() },
                    ]
                })
                .collect();
            print(
                a.format,
                &Printable {
                    columns: vec!["published", "figure", "computed", "gap", "rate × labour force"],
                    rows: published,
                    report: &report,
                    items: &[(); 0],
                },
            )?;
            if let Some(d) = &report.distribution {
                println!();
                let mut rows: Vec<Vec<String>> = d
                    .distribution
                    .allocations
                    .iter()
                    .map(|x| {
                        vec![
                            x.region.clone(),
                            x.category.clone(),
                            num(Some(x.requested as f64)),
                            num(Some(x.allocated as f64)),
                        ]
                    })
                    .collect();
                rows.push(vec![
                    "all".into(),
                    String::new(),
                    num(Some(d.requested as f64)),
                    num(Some(d.allocated as f64)),
                ]);
                rows.push(vec![
                    "reserve".into(),
                    String::new(),
                    String::new(),
                    num(Some(d.distribution.reserve as f64)),
                ]);
                print(
                    a.format,
                    &Printable {
                        columns: vec!["region", "category", "requested", "allocated"],
                        rows,
                        report: &report,
                        items: &[(); 0],
                    },
                )?;
            }
            print_notes(a.format, &report.notes)?;
        }
    }
    Ok(())
}

fn summary_rows(r: &QuotaComputeReport) -> Vec<(&'static str, String)> {
    let c = &r.computation;
    let source = &r.labour_force_source;
    vec![
        ("policy", format!("{} ({}: {})", r.policy.argument, r.policy.id, r.policy.title)),
        ("year", c.year.to_string()),
        ("rate", format!("{}% of the labour force ({})", trim(c.rate * 100.0), c.legal)),
        ("base", r.base.clone()),
        (
            "labour force",
            format!(
                "{} persons in {} ({} thousand: {} line {}, source {})",
                num(Some(c.labour_force)),
                source.year,
                source.printed,
                source.file,
                source.line,
                source.source
            ),
        ),
        ("national quota", format!("{} (rate × labour force)", num(Some(c.computed)))),
    ]
}

/// Label and value lines, the labels aligned, the values whole.
fn print_pairs(rows: &[(&str, String)]) -> Result<()> {
    use std::io::Write;
    let width = rows.iter().map(|(label, _)| label.chars().count()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for (label, value) in rows {
        writeln!(out, "{label:<width$}  {value}")?;
    }
    Ok(())
}

fn trim(v: f64) -> String {
    let text = format!("{v:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// One row of the sizing as CSV: the computation beside one published figure.
#[derive(Serialize)]
struct SizingRow<'a> {
    year: i32,
    rate: f64,
    base_year: i32,
    labour_force: f64,
    computed: f64,
    published: Option<f64>,
    label: &'a str,
    rate_based: Option<bool>,
    gap_percent: Option<f64>,
    note: Option<&'a str>,
    labour_force_file: &'a str,
    labour_force_line: usize,
}

fn sizing_rows(r: &QuotaComputeReport) -> Vec<SizingRow<'_>> {
    let c = &r.computation;
    if c.published.is_empty() {
        vec![sizing_row(r, None)]
    } else {
        c.published.iter().map(|p| sizing_row(r, Some(p))).collect()
    }
}

fn sizing_row<'a>(r: &'a QuotaComputeReport, p: Option<&'a quota::PublishedComparison>) -> SizingRow<'a> {
    let c = &r.computation;
    SizingRow {
        year: c.year,
        rate: c.rate,
        base_year: c.base_year,
        labour_force: c.labour_force,
        computed: c.computed,
        published: p.map(|p| p.figure),
        label: p.map(|p| p.label.as_str()).unwrap_or(""),
        rate_based: p.map(|p| p.rate_based),
        gap_percent: p.map(|p| p.gap_percent),
        note: p.and_then(|p| p.note.as_deref()),
        labour_force_file: &r.labour_force_source.file,
        labour_force_line: r.labour_force_source.line,
    }
}

// ---------------------------------------------------------------------------------------------
// koshi quota simulate

fn simulate(app: &App, a: &SimulateArgs) -> Result<()> {
    let [policy_a, policy_b] = a.policies.as_slice() else {
        anyhow::bail!(
            "--policy: give exactly two policies to compare, A then B (`--policy kz --policy FILE.toml`), not {}",
            a.policies.len()
        );
    };
    let demand = quota::read_demand(&a.demand).map_err(flagged)?;
    let request = QuotaSimulateRequest {
        policy_a: policy_choice(policy_a),
        policy_b: policy_choice(policy_b),
        demand,
        date: a.date.clone(),
    };
    let report = app.quota_simulate(&request).map_err(flagged)?;
    print_simulation(a.format, &report)
}

fn print_simulation(format: Format, report: &QuotaSimulateReport) -> Result<()> {
    if format == Format::Json {
        return print_json(report);
    }
    let signed = |v: f64| if v > 0.0 { format!("+{}", num(Some(v))) } else { num(Some(v)) };
    let rows = report
        .rows
        .iter()
        .map(|r| {
            vec![
                r.measure.clone(),
                r.key.clone(),
                num(Some(r.a)),
                num(Some(r.b)),
                signed(r.difference),
                r.label.clone(),
            ]
        })
        .collect();
    print(
        format,
        &Printable {
            columns: vec!["measure", "key", "A", "B", "B − A", "meaning"], rows, report, items: &report.rows
        },
    )?;
    print_notes(format, &report.notes)
}
