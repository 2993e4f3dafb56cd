//! World benchmark: demographic-accounting flows (stayer assumption,
//! closed-world rescale, natural change from birthplace totals) for the UN
//! DESA 2019 stocks, one period and all six. With `--dump DIR` the inputs of
//! each period are written as raw little-endian f64 for the NumPy peer.
//!
//! `cargo run --release -p koshi-flows --example bench_world -- [--dump DIR] [--repeat N]`

use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;

use koshi_flows::world::{StockSnapshot, period_stocks};
use koshi_flows::*;

const STOCKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/undesa/migrant_stock_od_2019.csv");
const POPULATION: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/undesa/population_totals_2019.csv");
const YEARS: [&str; 7] = ["1990", "1995", "2000", "2005", "2010", "2015", "2019"];

fn parse_cell(s: &str) -> Option<f64> {
    s.trim().replace(',', "").parse().ok()
}

/// Country codes and the stock snapshot of each year.
type World = (Vec<String>, HashMap<String, StockSnapshot>);

fn load() -> Result<World, Box<dyn std::error::Error>> {
    let mut reader = csv::Reader::from_path(STOCKS)?;
    let origins: Vec<String> = reader.headers()?.iter().skip(2).map(str::to_string).collect();
    let mut snapshots: HashMap<String, StockSnapshot> = HashMap::new();
    for record in reader.records() {
        let record = record?;
        let values = record.iter().skip(2).map(parse_cell).collect();
        snapshots.entry(record[0].to_string()).or_default().destinations.push((record[1].to_string(), values));
    }
    let mut reader = csv::Reader::from_path(POPULATION)?;
    let headers = reader.headers()?.clone();
    for record in reader.records() {
        let record = record?;
        for (col, year) in headers.iter().enumerate().skip(1) {
            if let (Some(snap), Some(p)) = (snapshots.get_mut(year), parse_cell(&record[col])) {
                snap.population.insert(record[0].to_string(), p);
            }
        }
    }
    Ok((origins, snapshots))
}

struct PeriodInput {
    label: String,
    start: Matrix,
    end: Matrix,
    births: Vec<f64>,
    deaths: Vec<f64>,
}

fn write_f64(path: &std::path::Path, values: &[f64]) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for v in values {
        f.write_all(&v.to_le_bytes())?;
    }
    Ok(())
}

fn estimate(p: &PeriodInput, options: &DemographicOptions) -> DemographicEstimate {
    demographic_accounting(&p.start, &p.end, Some(&p.births), Some(&p.deaths), None, options).expect("estimate")
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dump = args.iter().position(|a| a == "--dump").and_then(|i| args.get(i + 1)).map(std::path::PathBuf::from);
    let repeat: usize = args
        .iter()
        .position(|a| a == "--repeat")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);

    let (origins, snapshots) = load()?;
    let mut periods = Vec::new();
    for w in YEARS.windows(2) {
        let p = period_stocks(&origins, &snapshots[w[0]], &snapshots[w[1]])?;
        let (births, deaths) = births_deaths_from_birthplace_totals(&p.start, &p.end);
        periods.push(PeriodInput { label: format!("{}-{}", w[0], w[1]), start: p.start, end: p.end, births, deaths });
    }
    if let Some(dir) = &dump {
        std::fs::create_dir_all(dir)?;
        for (i, p) in periods.iter().enumerate() {
            write_f64(&dir.join(format!("p{i}_start.f64")), p.start.as_slice())?;
            write_f64(&dir.join(format!("p{i}_end.f64")), p.end.as_slice())?;
            write_f64(&dir.join(format!("p{i}_births.f64")), &p.births)?;
            write_f64(&dir.join(format!("p{i}_deaths.f64")), &p.deaths)?;
            std::fs::write(dir.join(format!("p{i}_meta.txt")), format!("{} {}\n", p.label, p.start.rows()))?;
        }
    }

    let options = DemographicOptions { death_method: DeathMethod::NativeBorn, ..Default::default() };
    // Warm-up, and the figures to compare with the peer.
    for (i, p) in periods.iter().enumerate() {
        let e = estimate(p, &options);
        println!("rust period {} n={} movers={:.4}", p.label, p.start.rows(), e.total_movers());
        if let Some(dir) = &dump {
            write_f64(&dir.join(format!("p{i}_od_rust.f64")), e.od_flows.as_slice())?;
        }
    }
    let one: Vec<f64> = (0..repeat)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(estimate(&periods[0], &options));
            t.elapsed().as_secs_f64()
        })
        .collect();
    let all: Vec<f64> = (0..repeat)
        .map(|_| {
            let t = Instant::now();
            for p in &periods {
                std::hint::black_box(estimate(p, &options));
            }
            t.elapsed().as_secs_f64()
        })
        .collect();
    println!("rust one_period_s={:.6} all_periods_s={:.6} repeat={repeat}", median(one), median(all));
    Ok(())
}
