//! `koshi export`: a file written whole or not at all, with the permissions any new file gets,
//! and read back by `koshi ingest` into another bank.

use std::os::unix::fs::PermissionsExt;

use super::{bundled_bank, koshi, run};

#[test]
fn an_export_is_written_whole_readable_as_any_new_file_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("net.csv");
    run(
        bundled_bank(),
        &[
            "export",
            "MIG_EXT",
            "--key",
            "KAZ.WLD._T._T.NET",
            "--format",
            "sdmx-csv",
            "--output",
            file.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("STRUCTURE,STRUCTURE_ID,ACTION,"), "{text}");
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "").unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), mode(&plain), "the export has the permissions any new file gets");

    // A failed export leaves neither the file nor its partial copy.
    let failed = dir.path().join("none.csv");
    let out = koshi()
        .arg("--db")
        .arg(bundled_bank())
        .args([
            "export",
            "MIG_EXT",
            "--key",
            "KAZ.WLD._T._T.NET",
            "--from",
            "2090",
            "--output",
            failed.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 2, "only the first export and the plain file: {left:?}");

    // Into an empty bank: the same figures.
    let other = dir.path().join("other.db");
    run(&other, &["ingest", file.to_str().unwrap()]);
    let figures = |db: &std::path::Path| {
        let mut report = super::document(db, &["query", "MIG_EXT", "--key", "KAZ.WLD._T._T.NET"])["items"]
            .as_array()
            .unwrap()
            .clone();
        // Release ids are the bank's own; everything else is the figure.
        for item in &mut report {
            item.as_object_mut().unwrap().remove("release_id");
        }
        report
    };
    assert_eq!(figures(&other), figures(bundled_bank()));
}
