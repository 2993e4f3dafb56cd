//! Integration tests: published results (fixest trade, Korea migration), separation cases,
//! equivalence of absorbed and dummy fixed effects.

#![allow(clippy::needless_range_loop)]

mod common {
    use koshi_gravity::DataTable;

    /// Reads a CSV into a table, inferring numeric vs categorical columns.
    pub fn read_csv(path: &str) -> DataTable {
        let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
        let headers: Vec<String> = reader.headers().expect("header").iter().map(str::to_string).collect();
        let mut cols: Vec<Vec<String>> = vec![Vec::new(); headers.len()];
        for rec in reader.records() {
            let rec = rec.expect("record");
            for (j, v) in rec.iter().enumerate() {
                cols[j].push(v.to_string());
            }
        }
        let mut t = DataTable::new();
        for (h, c) in headers.iter().zip(&cols) {
            t.add_inferred(h.clone(), c).expect("column");
        }
        t
    }

    pub fn close(got: f64, want: f64, abs_tol: f64) -> bool {
        (got - want).abs() <= abs_tol
    }
}

#[path = "it/api.rs"]
mod api;
#[path = "it/equivalence.rs"]
mod equivalence;
#[path = "it/fixest_trade.rs"]
mod fixest_trade;
#[path = "it/korea.rs"]
mod korea;
#[path = "it/separation.rs"]
mod separation;
