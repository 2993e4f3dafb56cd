//! Benchmark driver: reads the synthetic panel CSV, fits PPML with origin-year, destination-year
//! and pair fixed effects clustered by pair, prints one JSON line.
//! Usage: bench_ppml FILE [--no-rectifier]

use koshi_gravity::{DataTable, FitOptions, SeparationOptions, VcovSpec, ppml};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).ok_or("usage: bench_ppml FILE [--no-rectifier]")?;
    let rectifier = !args.iter().any(|a| a == "--no-rectifier");
    let t0 = Instant::now();
    let mut reader = csv::Reader::from_path(path)?;
    let headers: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); headers.len()];
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record)? {
        for (j, field) in record.iter().enumerate() {
            cols[j].push(std::str::from_utf8(field)?.parse::<f64>()?);
        }
    }
    let mut table = DataTable::new();
    for (h, c) in headers.into_iter().zip(cols) {
        table.add_numeric(h, c)?;
    }
    let t1 = Instant::now();
    let options = FitOptions {
        vcov: Some(VcovSpec::parse("cluster(pair)")?),
        tol: 1e-10,
        separation: SeparationOptions { rectifier, ..SeparationOptions::default() },
        fixed_effects: false,
        ..FitOptions::default()
    };
    let fit = ppml(&table, "y ~ fta + ln_tariff | exp^year + imp^year + pair", &options)?;
    let t2 = Instant::now();
    eprintln!("{fit}");
    let c = |n: &str| fit.coefficient(n).map(|c| (c.estimate, c.std_error)).unwrap_or((f64::NAN, f64::NAN));
    let (fta, fta_se) = c("fta");
    let (tar, tar_se) = c("ln_tariff");
    println!(
        "{{\"tool\": \"koshi\", \"read_seconds\": {:.4}, \"fit_seconds\": {:.4}, \"nobs\": {}, \"iterations\": {}, \"separated\": {}, \"fe_all_zero\": {}, \"coef\": {{\"fta\": {:.12}, \"ln_tariff\": {:.12}}}, \"se\": {{\"fta\": {:.12}, \"ln_tariff\": {:.12}}}}}",
        (t1 - t0).as_secs_f64(),
        (t2 - t1).as_secs_f64(),
        fit.n_obs,
        fit.iterations,
        fit.dropped.separated,
        fit.dropped.fixed_effect_all_zero,
        fta,
        tar,
        fta_se,
        tar_se
    );
    Ok(())
}
