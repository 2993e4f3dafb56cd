//! `koshi quota compute` and `koshi quota simulate` as adapters: flags into the request, the
//! report out as a table, CSV or the whole JSON document, bad files named with their line. The
//! use cases themselves are tested in the application crate.

use std::path::{Path, PathBuf};

use crate::{document, koshi, run};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example(name: &str) -> String {
    root().join("data/examples").join(name).display().to_string()
}

/// A bank of its own: the quota commands read none of it.
fn bank() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bank.db");
    (dir, db)
}

fn fails(db: &Path, args: &[&str]) -> String {
    let out = koshi().arg("--db").arg(db).args(args).output().unwrap();
    assert!(!out.status.success(), "koshi {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn quota_compute_sizes_2024_from_the_labour_force_of_2022() {
    let (_dir, db) = bank();
    let r = document(&db, &["quota", "compute", "--year", "2024"]);
    let c = &r["computation"];
    assert_eq!(c["year"], 2024);
    assert_eq!(c["base_year"], 2022);
    assert_eq!(c["rate"], 0.0023);
    // 0.23% of 9,429.809 thousand (BNS, 2022).
    assert_eq!(c["labour_force"], 9_429_809.0);
    assert_eq!(c["computed"], (0.0023_f64 * 9_429_809.0).round());
    let published = c["published"].as_array().unwrap();
    let p = published.iter().find(|p| p["figure"] == 22000.0).expect("the published 22,000");
    assert_eq!(p["rate_based"], true);
    assert!(p["gap_percent"].as_f64().unwrap().abs() < 3.0, "{p}");
    assert!(r["base"].as_str().unwrap().contains("labour force of 2022"), "{}", r["base"]);
    assert_eq!(r["labour_force_source"]["file"], "data/bundled/kz_labour_force_by_region_2001_2025.csv");
    assert_eq!(r["labour_force_source"]["printed"], "9429.809");
    assert!(r["distribution"].is_null(), "no requests, no distribution");

    // The table says where the figure comes from; CSV carries plain numbers.
    let table = String::from_utf8(run(&db, &["quota", "compute", "--year", "2024"]).stdout).unwrap();
    assert!(
        table.contains("labour force of 2022") && table.contains("9,429,809") && table.contains("22,000"),
        "{table}"
    );
    let csv = String::from_utf8(run(&db, &["quota", "compute", "--year", "2025", "--format", "csv"]).stdout).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("year,rate,base_year,labour_force,computed,published,label,rate_based"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3, "three published 2025 figures: {csv}");
    assert!(rows.iter().any(|r| r.starts_with("2025,0.002,2023,9534114,19068,14800,") && r.contains(",false,")));
    assert!(rows.iter().any(|r| r.starts_with("2025,0.002,2023,9534114,19068,19400,") && r.contains(",true,")));
}

#[test]
fn quota_compute_distributes_requests_by_region_and_category() {
    let (_dir, db) = bank();
    let requests = example("quota_requests_2025.csv");
    let r = document(&db, &["quota", "compute", "--year", "2025", "--requests", &requests]);
    let d = &r["distribution"];
    let allocated: u64 = d["allocations"].as_array().unwrap().iter().map(|a| a["allocated"].as_u64().unwrap()).sum();
    assert_eq!(allocated + d["reserve"].as_u64().unwrap(), r["computation"]["computed"].as_f64().unwrap() as u64);
    let csv = String::from_utf8(
        run(&db, &["quota", "compute", "--year", "2025", "--requests", &requests, "--format", "csv"]).stdout,
    )
    .unwrap();
    assert!(csv.starts_with("region,category,requested,allocated\n"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 27);
    let with_share =
        document(&db, &["quota", "compute", "--year", "2025", "--requests", &requests, "--reserve-share", "0.1"]);
    assert_eq!(with_share["distribution"]["reserve_share"], 0.1);
    assert!(
        fails(&db, &["quota", "compute", "--year", "2025", "--reserve-share", "2", "--requests", &requests])
            .contains("--reserve-share")
    );
}

#[test]
fn quota_simulate_compares_the_example_policies() {
    let (_dir, db) = bank();
    let (variant, demand) = (example("kz_local_content_80.toml"), example("quota_demand.toml"));
    let args = ["quota", "simulate", "--policy", "kz", "--policy", &variant, "--demand", &demand];
    let r = document(&db, &args);
    assert_eq!(r["date"], "2025-03-01");
    assert_eq!(r["policy_a"]["id"], "KZ");
    assert_eq!(r["policy_b"]["id"], "KZ_LC80");
    let (a, b) = (&r["comparison"]["a"], &r["comparison"]["b"]);
    assert_eq!(a["refusals_by_ground"]["4"], 12);
    assert_eq!(b["permits"]["KZ-23/3"], 12);
    assert_eq!(b["refusals_by_ground"]["2"], 5);
    let table = String::from_utf8(run(&db, &args).stdout).unwrap();
    assert!(table.contains("B − A") && table.contains("KZ-23/3") && table.contains("+12"), "{table}");
    let mut csv_args = args.to_vec();
    csv_args.extend(["--format", "csv"]);
    let csv = String::from_utf8(run(&db, &csv_args).stdout).unwrap();
    assert!(csv.starts_with("measure,key,a,b,difference,label\n"), "{csv}");
    assert!(csv.contains("\nrefusals,4,12,0,-12,"), "{csv}");
}

#[test]
fn quota_errors_name_the_flag_the_file_and_the_line() {
    let (dir, db) = bank();
    let demand = dir.path().join("demand.toml");
    std::fs::write(
        &demand,
        "date = \"2025-03-01\"\n\n[[items]]\nrequest = { nationality = \"TR\", categroy = \"3\" }\n",
    )
    .unwrap();
    let demand = demand.display().to_string();
    let e = fails(&db, &["quota", "simulate", "--policy", "kz", "--policy", "kz", "--demand", &demand]);
    assert!(e.contains("--demand") && e.contains(&format!("{demand}, line 4")) && e.contains("categroy"), "{e}");
    let e = fails(&db, &["quota", "simulate", "--policy", "kz", "--demand", &example("quota_demand.toml")]);
    assert!(e.contains("exactly two"), "{e}");
    let e = fails(
        &db,
        &["quota", "simulate", "--policy", "kz", "--policy", "ch", "--demand", &example("quota_demand.toml")],
    );
    assert!(e.contains("unknown policy `ch`") && e.contains("us_h1b"), "{e}");
    let requests = dir.path().join("requests.csv");
    std::fs::write(&requests, "region,category,places\nKZ-23,3,many\n").unwrap();
    let requests = requests.display().to_string();
    let e = fails(&db, &["quota", "compute", "--year", "2024", "--requests", &requests]);
    assert!(e.contains("--requests") && e.contains(&format!("{requests}, line 2")), "{e}");
    let e = fails(&db, &["quota", "compute", "--year", "2017"]);
    assert!(e.contains("2015"), "{e}");
    let help = String::from_utf8(koshi().args(["quota", "simulate", "--help"]).output().unwrap().stdout).unwrap();
    assert!(help.contains("kz_local_content_80.toml") && help.contains("Examples:"), "{help}");
}
