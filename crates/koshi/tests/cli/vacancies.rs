//! `koshi vacancies`, `koshi labour-demand` and `koshi shortage` as adapters: a portal's page and
//! a centre's export imported into the registry beside the bank and found again (JSON with plain
//! numbers), a bad export or seekers file refused whole with every problem named by row and
//! column, and `--help` that teaches by example. The use cases themselves are tested in the
//! application crate.

use std::path::{Path, PathBuf};

use crate::{document, koshi, run};

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/labour/vacancies/examples").join(name).display().to_string()
}

/// A bank of its own, and so a registry of its own beside it.
fn bank() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bank.db");
    (dir, db)
}

fn fails(db: &Path, args: &[&str]) -> String {
    let out = koshi().arg("--db").arg(db).args(args).output().unwrap();
    assert!(!out.status.success(), "koshi {args:?} succeeded: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn import_centre(db: &Path) -> serde_json::Value {
    document(
        db,
        &[
            "vacancies",
            "import",
            &example("centre_shymkent.csv"),
            "--source",
            "centre-shymkent",
            "--mapping",
            &example("centre_export.toml"),
            "--as-of",
            "2026-02-28",
        ],
    )
}

#[test]
fn an_import_is_found_again_with_plain_numbers() {
    let (_dir, db) = bank();
    let page = document(&db, &["vacancies", "import", &example("portal_shymkent.html"), "--source", "national-portal"]);
    assert_eq!((page["read"].as_u64(), page["inserted"].as_u64()), (Some(3), Some(3)), "{page}");
    assert!(db.with_extension("registry.db").exists(), "the vacancies live in the registry beside the bank");
    let centre = import_centre(&db);
    assert_eq!((centre["inserted"].as_u64(), centre["duplicates"].as_u64()), (Some(4), Some(1)), "{centre}");
    assert_eq!(centre["as_of"], "2026-02-28");

    // The welder: one vacancy, posted on the portal and repeated by the centre.
    let found = document(&db, &["vacancies", "search", "--region", "KZ-79", "--q", "сварщик"]);
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "the centre's repeat is left out: {found}");
    let welder = &items[0];
    assert_eq!(welder["record"]["occupation"], "7212");
    assert_eq!(welder["record"]["openings"], 2);
    assert_eq!(welder["record"]["wage_min_month"], 300_000.0);
    assert_eq!(welder["status"], "open");
    let all = document(&db, &["vacancies", "search", "--q", "сварщик", "--with-duplicates"]);
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "{all}");
    // CSV carries the same plain numbers; the table is for people.
    let csv = String::from_utf8(
        run(&db, &["vacancies", "search", "--region", "Шымкент", "--occupation", "72", "--format", "csv"]).stdout,
    )
    .unwrap();
    assert!(csv.starts_with("id,status,"), "{csv}");
    assert!(csv.contains(",300000,380000,") && !csv.contains("300,000"), "{csv}");
    let table = String::from_utf8(run(&db, &["vacancies", "search", "--status", "closed"]).stdout).unwrap();
    assert!(table.contains("Бухгалтер") && !table.contains("Водитель"), "{table}");

    // A vacancy with its history.
    let id = welder["id"].as_i64().unwrap().to_string();
    let detail = document(&db, &["vacancies", "show", &id]);
    assert_eq!(detail["vacancy"]["record"]["source_id"], "NP-2026-0101");
    assert_eq!(detail["history"][0]["change"], "posted");
    assert_eq!(detail["history"][0]["as_of"], "2026-02-10");

    // Job seekers, then the indicators and the assessment that read them.
    let seekers =
        document(&db, &["vacancies", "seekers", &example("seekers_shymkent.csv"), "--source", "centre-shymkent"]);
    assert_eq!(seekers["rows"], 14, "{seekers}");
    let demand = document(
        &db,
        &[
            "labour-demand",
            "--region",
            "KZ-79",
            "--level",
            "4",
            "--occupation",
            "7212",
            "--from",
            "2026-01",
            "--to",
            "2026-02",
        ],
    );
    let feb = demand["cells"].as_array().unwrap().iter().find(|c| c["month"] == "2026-02").unwrap().clone();
    assert_eq!((feb["stock"].as_u64(), feb["inflow"].as_u64(), feb["seekers"].as_u64()), (Some(2), Some(2), Some(400)));
    assert_eq!(feb["tightness"], 2.0 / 400.0);
    let assessed = document(&db, &["shortage", "assess", "--month", "2026-02"]);
    let status = |report: &serde_json::Value, occupation: &str| {
        report["assessments"].as_array().unwrap().iter().find(|a| a["occupation"] == occupation).unwrap()["status"]
            .clone()
    };
    assert_eq!(status(&assessed, "7212"), "not_in_demand", "{assessed}");
    assert!(assessed["list"].is_null(), "an assessment stores nothing");
    let adopted = document(&db, &["shortage", "adopt", "--month", "2026-02"]);
    let list = adopted["list"].as_i64().unwrap();
    let listed = document(&db, &["shortage", "list", "--region", "KZ-79", "--status", "not_in_demand"]);
    assert_eq!(listed["list"]["id"], list);
    assert!(listed["entries"].as_array().unwrap().iter().all(|e| e["status"] == "not_in_demand"), "{listed}");
    assert!(listed["entries"].as_array().unwrap().iter().any(|e| e["occupation"] == "7212"), "{listed}");
}

#[test]
fn a_bad_file_writes_nothing_and_names_rows_and_columns() {
    let (dir, db) = bank();
    let header = std::fs::read_to_string(example("centre_shymkent.csv")).unwrap().lines().next().unwrap().to_string();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "{header}\n\
             B-1,Повар,ТОО А,г. Шымкент,,,,,200 000,,1,01.02.2026,,\n\
             B-2,Повар,ТОО Б,Марс,,,,,200 000,,1,01.02.2026,,\n\
             B-3,Повар,ТОО Г,г. Шымкент,,12,,,сто,,0,31.02.2026,,\n"
        ),
    )
    .unwrap();
    let bad = bad.display().to_string();
    let mapping = example("centre_export.toml");
    let stderr = fails(&db, &["vacancies", "import", &bad, "--source", "centre-shymkent", "--mapping", &mapping]);
    for needle in [
        "bad.csv",
        "nothing was written",
        "row 3, column `Регион`",
        "row 4, column `Код НКЗ`",
        "row 4, column `Зарплата от`",
        "row 4, column `Мест`",
        "row 4, column `Дата размещения`",
    ] {
        assert!(stderr.contains(needle), "{needle} not in {stderr}");
    }
    assert!(!stderr.contains("row 2,"), "{stderr}");
    let nothing = document(&db, &["vacancies", "search", "--with-duplicates"]);
    assert_eq!(nothing["items"].as_array().unwrap().len(), 0, "{nothing}");
    // A table without its mapping, and a file of no known kind, are refused before reading.
    assert!(fails(&db, &["vacancies", "import", &bad, "--source", "x"]).contains("needs --mapping"));
    let odd = dir.path().join("postings.txt");
    std::fs::write(&odd, "").unwrap();
    assert!(fails(&db, &["vacancies", "import", odd.to_str().unwrap(), "--source", "x"]).contains(".jsonld"));

    // Seekers: a value that is not a number, and values the application refuses, each at its row.
    let seekers = dir.path().join("seekers.csv");
    std::fs::write(
        &seekers,
        "region,occupation,education,month,seekers\nKZ-79,7212,_T,2026-02,40\nKZ-79,7212,_T,2026-03,many\n",
    )
    .unwrap();
    let stderr = fails(&db, &["vacancies", "seekers", seekers.to_str().unwrap(), "--source", "centre-shymkent"]);
    assert!(stderr.contains("row 3, column `seekers`"), "{stderr}");
    std::fs::write(
        &seekers,
        "region,occupation,education,month,seekers\nKZ-79,7212,_T,2026-02,40\nМарс,7212,_T,2026-02,1\n\
         KZ-79,72X,_T,2026-13,3\n",
    )
    .unwrap();
    let stderr = fails(&db, &["vacancies", "seekers", seekers.to_str().unwrap(), "--source", "centre-shymkent"]);
    for needle in ["row 3, column `region`", "row 4, column `occupation`", "row 4, column `month`"] {
        assert!(stderr.contains(needle), "{needle} not in {stderr}");
    }
    // Nothing was written: the first, good row is not among the indicators' seekers.
    let demand = document(&db, &["labour-demand", "--region", "KZ-79", "--from", "2026-02", "--to", "2026-02"]);
    assert!(demand["cells"].as_array().unwrap().iter().all(|c| c["seekers"].is_null()), "{demand}");
    // A flag's value the application refuses is named by the flag.
    assert!(fails(&db, &["labour-demand", "--level", "5"]).contains("--level: "));
}

#[test]
fn help_teaches_by_example() {
    for (args, says) in [
        (&["vacancies", "--help"][..], "koshi vacancies import data/labour/vacancies/examples/portal_shymkent.html"),
        (&["vacancies", "import", "--help"][..], "--mapping data/labour/vacancies/examples/centre_export.toml"),
        (&["vacancies", "seekers", "--help"][..], "region,occupation,education,month,seekers"),
        (&["labour-demand", "--help"][..], "koshi labour-demand --region KZ-79"),
        (&["shortage", "--help"][..], "koshi shortage assess --month 2026-02"),
        (&["shortage", "adopt", "--help"][..], "Example:"),
    ] {
        let out = koshi().args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains(says), "{args:?} does not say {says}: {text}");
    }
}
