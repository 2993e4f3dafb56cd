//! Ingest benchmark: a synthetic migration-registration extract (date, region, citizenship,
//! sex, age, purpose), one row per registered person, aggregated into MIG_REG observations.
//!
//! `bench_ingest generate FILE ROWS` writes the extract (seeded, reproducible);
//! `bench_ingest junk FILE MB` writes about MB megabytes of rows that resolve to nothing
//! (region, year, arrivals of random text) to measure peak memory of
//! `koshi ingest FILE --mapping bench/databank/junk.toml --allow-defects`;
//! `bench_ingest ingest FILE MAPPING DB` plans and writes it in one transaction and prints
//! rows per second and peak memory as JSON. `bench/databank/run.sh` runs it beside
//! `sqlite3 .import` of the same file.

use std::io::Write;
use std::time::Instant;

const REGIONS: &[&str] = &[
    "Abay",
    "Aqmola",
    "Aqtobe",
    "Almaty region",
    "Atyrau",
    "West Kazakhstan",
    "Zhambyl",
    "Zhetisu",
    "Karaganda",
    "Kostanay",
    "Kyzylorda",
    "Mangystau",
    "Pavlodar",
    "North Kazakhstan",
    "Turkistan",
    "Ulytau",
    "East Kazakhstan",
    "Astana",
    "Almaty",
    "Shymkent",
];
const CITIZENSHIPS: &[&str] = &[
    "UZB", "RUS", "CHN", "KGZ", "TJK", "TUR", "AZE", "UKR", "BLR", "DEU", "IND", "KOR", "USA", "GBR", "MNG", "TKM",
    "ARM", "GEO", "IRN", "AFG", "PAK", "FRA", "ITA", "JPN", "VNM", "POL", "ISR", "CAN", "ESP", "NLD",
];
const PURPOSES: &[&str] = &["work", "study", "family", "private", "tourism", "business", "transit"];

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        // Skewed: the first items are far more common, as in real registrations.
        let a = self.next() as usize % items.len();
        let b = self.next() as usize % items.len();
        items[a.min(b)]
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(String::from))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn generate(path: &str, rows: usize) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(out, "date,region,citizenship,sex,age,purpose")?;
    let mut rng = Lcg(20_261_123);
    for _ in 0..rows {
        let year = 2022 + rng.next() % 3;
        let month = 1 + rng.next() % 12;
        let day = 1 + rng.next() % 28;
        let sex = if rng.next().is_multiple_of(3) { "F" } else { "M" };
        let age = 16 + (rng.next() % 50 + rng.next() % 20) as u32;
        writeln!(
            out,
            "{year}-{month:02}-{day:02},{},{},{sex},{age},{}",
            rng.pick(REGIONS),
            rng.pick(CITIZENSHIPS),
            rng.pick(PURPOSES)
        )?;
    }
    out.flush()
}

/// Rows of random text in a file shaped like a flows table: every code, period and number is junk.
fn junk(path: &str, megabytes: usize) -> std::io::Result<()> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-";
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(out, "region,year,arrivals")?;
    let mut rng = Lcg(8);
    let mut written = 0usize;
    let mut line = Vec::new();
    while written < megabytes << 20 {
        line.clear();
        for field in 0..3 {
            if field > 0 {
                line.push(b',');
            }
            let len = 4 + rng.next() as usize % 17;
            line.extend((0..len).map(|_| ALPHABET[rng.next() as usize % ALPHABET.len()]));
        }
        line.push(b'\n');
        out.write_all(&line)?;
        written += line.len();
    }
    out.flush()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") => {
            let rows: usize = args[3].parse().expect("ROWS");
            generate(&args[2], rows).expect("write the extract");
        }
        Some("junk") => {
            let megabytes: usize = args[3].parse().expect("MB");
            junk(&args[2], megabytes).expect("write the junk file");
        }
        Some("ingest") => {
            let (file, mapping_path, db) = (&args[2], &args[3], &args[4]);
            let _ = std::fs::remove_file(db);
            let mapping =
                koshi_ingest::parse_mapping(mapping_path, &std::fs::read_to_string(mapping_path).unwrap()).unwrap();
            let mut bank = koshi_store::Bank::open(std::path::Path::new(db)).unwrap();
            let start = Instant::now();
            let plan = koshi_ingest::plan_ingest(
                bank.catalogue(),
                &mapping,
                file,
                koshi_ingest::Input::Path(std::path::Path::new(file)),
                &koshi_ingest::IngestOptions::default(),
                &|_, _, _, _| Ok(None),
                &mut |_| {},
            )
            .unwrap_or_else(|e| panic!("{e}"));
            assert!(plan.writable(), "{:?}", plan.diagnostics.first());
            let planned = start.elapsed().as_secs_f64();
            eprintln!("peak after plan {:.0} MB", peak_rss_mb());
            bank.write_releases(&plan.batches).unwrap();
            let seconds = start.elapsed().as_secs_f64();
            eprintln!("plan {planned:.2} s, write {:.2} s", seconds - planned);
            let loaded = koshi_ingest::Loaded { file: file.clone(), plan, outcomes: Vec::new(), declared: Vec::new() };
            println!(
                "{{\"rows\": {}, \"observations\": {}, \"seconds\": {seconds:.3}, \"rows_per_second\": {:.0}, \"peak_rss_mb\": {:.1}}}",
                loaded.plan.rows_read,
                loaded.plan.observations,
                loaded.plan.rows_read as f64 / seconds,
                peak_rss_mb()
            );
        }
        _ => eprintln!("usage: bench_ingest generate FILE ROWS | junk FILE MB | ingest FILE MAPPING DB"),
    }
}
