//! What the application layer adds to a one-series read: the same requests through
//! `App::query` and straight through the store, on a bank given as the argument.
//!
//! usage: cargo run --release -p koshi-app --example query_overhead BANK.db

use std::time::Instant;

use koshi_app::bank::QueryRequest;
use koshi_app::{App, AppConfig, PageRequest};
use koshi_store::{Bank, Query, QueryText};

fn main() {
    let path = std::env::args().nth(1).expect("usage: query_overhead BANK.db");
    let path = std::path::Path::new(&path);
    let app = App::open(path, AppConfig::single_use()).unwrap();
    let bank = Bank::open_read_only(path).unwrap();
    let countries = bank.catalogue().country_codes();
    let keys: Vec<String> = countries.iter().map(|c| format!("{c}.WLD._T.STOCK")).collect();
    for round in 0..3 {
        let start = Instant::now();
        let mut rows = 0;
        for key in &keys {
            let query = Query::checked(
                bank.catalogue(),
                "MIG_STOCK",
                &QueryText { keys: vec![key.clone()], ..QueryText::default() },
            )
            .unwrap();
            bank.read_snapshot(|b| {
                b.generation()?;
                b.for_each_row(&query, &mut |_| {
                    rows += 1;
                    true
                })
            })
            .unwrap();
        }
        let store = start.elapsed().as_secs_f64() * 1e6 / keys.len() as f64;
        let start = Instant::now();
        let mut app_rows = 0;
        for key in &keys {
            let report = app
                .query(&QueryRequest {
                    dataflow: "MIG_STOCK".into(),
                    keys: vec![key.clone()],
                    page: Some(PageRequest { offset: 0, limit: 1000 }),
                    ..QueryRequest::default()
                })
                .unwrap();
            app_rows += report.items.len();
        }
        let through_app = start.elapsed().as_secs_f64() * 1e6 / keys.len() as f64;
        println!("round {round}: store {store:.1} µs, app {through_app:.1} µs per series ({rows} / {app_rows} rows)");
    }
}
