//! Query benchmark: one series out of a bank of 10 million observations, through the library
//! call the CLI uses and through the HTTP API.
//!
//! `bench_query BANK` builds the bank on first use (100,000 series × 100 years of synthetic
//! migrant stock), then times 2,000 random single-series queries each way and prints p50/p95.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use koshi_core::{ObsStatus, Observation, Text};
use koshi_store::{Bank, Query, ReleaseBatch};

const SERIES_AREAS: usize = 250;
const SERIES_PARTNERS: usize = 200;
const YEARS: usize = 100;

fn build(bank: &mut Bank, areas: &[String]) {
    let periods: Vec<Text> = (0..YEARS).map(|y| format!("{}", 1925 + y).into()).collect();
    let (flow, unit, source, definition): (Text, Text, Text, Text) =
        ("MIG_STOCK".into(), "PERS".into(), "UN_DESA".into(), "synthetic stock for the query benchmark".into());
    let sexes: [Text; 2] = ["M".into(), "F".into()];
    let measure: Text = "STOCK".into();
    let codes: Vec<Text> = areas.iter().map(|a| a.as_str().into()).collect();
    let mut chunk = 0;
    for dest in 0..SERIES_AREAS {
        let mut observations = Vec::with_capacity(SERIES_PARTNERS * 2 * YEARS);
        for orig in 0..SERIES_PARTNERS {
            for sex in &sexes {
                for (y, period) in periods.iter().enumerate() {
                    observations.push(Observation {
                        dataflow: flow.clone(),
                        key: vec![codes[dest].clone(), codes[orig].clone(), sex.clone(), measure.clone()],
                        time_period: period.clone(),
                        value: Some(((dest * 7 + orig * 3 + y) % 1000) as f64),
                        printed: None,
                        unit: unit.clone(),
                        unit_mult: 0,
                        status: ObsStatus::Normal,
                        source: source.clone(),
                        definition: definition.clone(),
                        citation: None,
                        note: None,
                        defects: Vec::new(),
                    });
                }
            }
        }
        chunk += 1;
        let batch = ReleaseBatch {
            dataflow: "MIG_STOCK".into(),
            source: "UN_DESA".into(),
            label: format!("query benchmark part {chunk}"),
            release_date: "2020-01-01".parse().unwrap(),
            origin: "bench_query".into(),
            note: None,
            observations,
            defects: Vec::new(),
        };
        bank.write_releases(&[batch]).unwrap();
        if dest % 25 == 24 {
            eprintln!("built {} of {SERIES_AREAS} destinations", dest + 1);
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, usize) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut body = Vec::new();
    stream.read_to_end(&mut body).unwrap();
    let status = std::str::from_utf8(&body[9..12]).unwrap().parse().unwrap();
    (status, body.len())
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: bench_query BANK.db");
    let mut bank = Bank::open(std::path::Path::new(&path)).unwrap();
    let areas = bank.catalogue().country_codes();
    if bank.counts().unwrap()["observation"] < (SERIES_AREAS * SERIES_PARTNERS * 2 * YEARS) as i64 {
        let start = Instant::now();
        build(&mut bank, &areas);
        eprintln!("bank built in {:.1} s", start.elapsed().as_secs_f64());
    }
    let total = bank.counts().unwrap()["observation"];
    let mut rng = Rng(7);
    let keys: Vec<[String; 4]> = (0..2000)
        .map(|_| {
            let sex = if rng.below(2) == 0 { "M" } else { "F" };
            [
                areas[rng.below(SERIES_AREAS)].clone(),
                areas[rng.below(SERIES_PARTNERS)].clone(),
                sex.into(),
                "STOCK".into(),
            ]
        })
        .collect();

    let mut library = Vec::new();
    for k in &keys {
        let q = Query {
            dataflow: "MIG_STOCK".into(),
            filters: ["REF_AREA", "COUNTERPART", "SEX", "MEASURE"]
                .iter()
                .zip(k)
                .map(|(d, c)| (d.to_string(), vec![c.clone()]))
                .collect(),
            ..Default::default()
        };
        let start = Instant::now();
        let rows = bank.query(&q).unwrap();
        library.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(rows.len(), YEARS);
    }

    drop(bank);
    let app = koshi_server::Server::open(std::path::Path::new(&path), &koshi_server::ServerConfig::default()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let app = koshi_server::router(app);
    runtime.spawn(async move { axum::serve(listener, app).await });
    let mut http = Vec::new();
    for k in &keys {
        let url = format!("/api/data/MIG_STOCK?key={}", k.join("."));
        let start = Instant::now();
        let (status, bytes) = http_get(addr, &url);
        http.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, 200);
        assert!(bytes > 1000);
    }
    library.sort_by(f64::total_cmp);
    http.sort_by(f64::total_cmp);
    println!(
        "{{\"observations\": {total}, \"queries\": {}, \"library_p50_ms\": {:.3}, \"library_p95_ms\": {:.3}, \"http_p50_ms\": {:.3}, \"http_p95_ms\": {:.3}}}",
        keys.len(),
        percentile(&library, 0.5),
        percentile(&library, 0.95),
        percentile(&http, 0.5),
        percentile(&http, 0.95)
    );
}
