//! `koshi registry` as an adapter: the operator sets the registry up beside the bank, a bad
//! quota file is refused whole with every problem named by line and column, and `verify` walks
//! the audit chain. The use cases themselves are tested in the application crate.

use std::path::Path;

use crate::{document, koshi, run};

fn quota_file(dir: &Path, text: &str) -> String {
    let path = dir.join("quota.csv");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_bad_quota_file_writes_nothing_and_names_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bank.db");
    let good = quota_file(dir.path(), "line,region,category,allocated\ngeneral,KZ-79,*,147\n");
    run(&db, &["registry", "set-quota", "--year", "2026", "--file", &good]);
    assert!(dir.path().join("bank.registry.db").exists(), "the registry lives beside the bank");
    let bad = quota_file(
        dir.path(),
        "line,region,category,allocated\ngeneral,KZ-79,*,12x\ngeneral,KZ-75,*,5\ngeneral,KZ-71\n",
    );
    let out = koshi()
        .arg("--db")
        .arg(&db)
        .args(["registry", "set-quota", "--year", "2026", "--file", &bad])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 problem(s), nothing written"), "{stderr}");
    assert!(stderr.contains("line 2, column `allocated`"), "{stderr}");
    assert!(stderr.contains("line 4"), "{stderr}");
    // The cells are as the good file left them: KZ-75 was not added, KZ-79 kept its 147.
    let quota = document(&db, &["registry", "quota", "--year", "2026"]);
    let cells = quota["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1, "{quota}");
    assert_eq!(cells[0]["allocated"], 147);
    // One write went in (the refused file wrote nothing, not even a log entry): one entry.
    let verified = document(&db, &["registry", "verify"]);
    assert_eq!((verified["entries"].as_u64(), verified["valid"].as_bool()), (Some(1), Some(true)), "{verified}");
}
