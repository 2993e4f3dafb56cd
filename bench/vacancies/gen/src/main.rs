//! `gen POSTINGS OUT_DIR [FIRST_YEAR YEARS SEED]`: the first POSTINGS synthetic postings of
//! `koshi_labour::generate` (Kazakhstan-shaped, nothing real), written as CSV exports in
//! OUT_DIR, one file per month posted and source (`2024-03_national-portal_1.csv`), a file rolled
//! over to the next part before it reaches 60 MiB (one import reads at most 64 MiB). The columns
//! are those of `mapping.toml` beside this program. Prints what it wrote.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use koshi_labour::generate::{GeneratorConfig, generate};
use koshi_labour::vacancy::EducationLevel;

const MAX_FILE_BYTES: u64 = 60 << 20;
const HEADER: [&str; 16] = [
    "id",
    "title",
    "employer",
    "bin",
    "region",
    "settlement",
    "isco",
    "education",
    "experience",
    "wage_from",
    "wage_to",
    "openings",
    "posted",
    "valid_through",
    "filled",
    "closed",
];

struct Part {
    writer: csv::Writer<BufWriter<File>>,
    part: u32,
    rows: u64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gen POSTINGS OUT_DIR [FIRST_YEAR YEARS SEED]");
        std::process::exit(2);
    }
    let postings: usize = args[1].parse().expect("POSTINGS is a number");
    let out = PathBuf::from(&args[2]);
    let first_year: u16 = args.get(3).map_or(2023, |a| a.parse().expect("FIRST_YEAR"));
    let years: u16 = args.get(4).map_or(3, |a| a.parse().expect("YEARS"));
    let seed: u64 = args.get(5).map_or(2024, |a| a.parse().expect("SEED"));
    std::fs::create_dir_all(&out).expect("the output directory");
    let started = std::time::Instant::now();
    let config = GeneratorConfig { seed, first_year, years, ..GeneratorConfig::default() };
    let mut files: BTreeMap<(String, String), Part> = BTreeMap::new();
    let mut bytes_total = 0u64;
    let mut by_source: BTreeMap<String, u64> = BTreeMap::new();
    let open = |month: &str, source: &str, part: u32| {
        let path = out.join(format!("{month}_{source}_{part}.csv"));
        let mut writer =
            csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, File::create(&path).expect("a file")));
        writer.write_record(HEADER).expect("write");
        writer
    };
    for s in generate(config).take(postings) {
        let v = &s.vacancy;
        let posted = v.posted.to_string();
        let month = posted[..7].to_string();
        let key = (month.clone(), v.source.clone());
        let part =
            files.entry(key.clone()).or_insert_with(|| Part { writer: open(&month, &v.source, 1), part: 1, rows: 0 });
        // Roll over before the file could pass the limit (rows are well under 2 KiB).
        if part.rows % 1024 == 0 && part.rows > 0 {
            part.writer.flush().expect("flush");
            let path = out.join(format!("{month}_{}_{}.csv", v.source, part.part));
            if std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) > MAX_FILE_BYTES - (4 << 20) {
                part.part += 1;
                part.writer = open(&month, &v.source, part.part);
            }
        }
        let date = |d: Option<koshi_labour::vacancy::Date>| d.map(|d| d.to_string()).unwrap_or_default();
        let amount = |a: Option<f64>| a.map(|a| format!("{}", a.round() as i64)).unwrap_or_default();
        let (wage_from, wage_to) = match &v.wage {
            Some(w) => (amount(w.monthly_min), amount(w.monthly_max)),
            None => (String::new(), String::new()),
        };
        let experience = match v.experience_months {
            None => String::new(),
            Some(0) => "без опыта".to_string(),
            Some(n) => format!("{n} мес."),
        };
        let education = v.education.as_ref().map(|e| match e.level {
            Some(EducationLevel::None) => String::new(),
            _ => e.text.clone(),
        });
        part.writer
            .write_record([
                v.source_id.as_str(),
                v.title.as_str(),
                v.employer.name.as_deref().unwrap_or(""),
                v.employer.bin.as_ref().map(|b| b.as_str()).unwrap_or(""),
                v.region.as_deref().unwrap_or(""),
                v.settlement.as_deref().unwrap_or(""),
                v.occupation.as_ref().map(|o| o.as_str()).unwrap_or(""),
                education.as_deref().unwrap_or(""),
                experience.as_str(),
                wage_from.as_str(),
                wage_to.as_str(),
                &v.openings.map(|n| n.to_string()).unwrap_or_default(),
                posted.as_str(),
                &date(v.valid_through),
                &date(v.filled),
                &date(v.closed),
            ])
            .expect("write");
        part.rows += 1;
        *by_source.entry(v.source.clone()).or_default() += 1;
    }
    let mut count = 0;
    for ((month, source), mut part) in files {
        part.writer.flush().expect("flush");
        for p in 1..=part.part {
            bytes_total +=
                std::fs::metadata(out.join(format!("{month}_{source}_{p}.csv"))).map(|m| m.len()).unwrap_or(0);
            count += 1;
        }
    }
    let sources: Vec<String> = by_source.iter().map(|(s, n)| format!("{s} {n}")).collect();
    println!(
        "generated {postings} postings ({}) in {count} files, {:.1} MiB, in {:.1} s",
        sources.join(", "),
        bytes_total as f64 / (1 << 20) as f64,
        started.elapsed().as_secs_f64()
    );
}
