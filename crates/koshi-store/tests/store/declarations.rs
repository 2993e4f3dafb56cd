//! Sources and dataflows declared by users: checked like the bundled ones, kept in the bank,
//! part of its catalogue whenever it opens.

use koshi_core::Observation;
use koshi_store::{Bank, Declared, Query};

use super::{NET, batch, obs};

const MINISTRY: &str = r#"
[[source]]
id = "KZ_MINTRUD_REG"
name = { en = "Ministry of Labour, regional office", ru = "Министерство труда, областное управление" }
kind = "ministry"
url = "https://www.gov.kz/memleket/entities/enbek"
"#;

#[test]
fn a_declared_source_takes_figures_and_is_kept_in_the_bank() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    {
        let mut bank = Bank::open(&path).unwrap();
        let figures = batch(
            "KZ_MINTRUD_REG",
            "quarterly report",
            "2025-04-01",
            vec![obs(&NET, "2025-Q1", 12.0, "KZ_MINTRUD_REG", "work permits issued, own count")],
        );
        let before = bank.write_releases(std::slice::from_ref(&figures)).unwrap_err();
        assert!(before.to_string().contains("unknown source KZ_MINTRUD_REG"), "{before}");

        let outcomes = bank.declare_toml("ministry.toml", MINISTRY).unwrap();
        assert_eq!(outcomes.len(), 1);
        assert_eq!(
            (outcomes[0].outcome, outcomes[0].kind, outcomes[0].id.as_str()),
            (Declared::Created, "source", "KZ_MINTRUD_REG")
        );
        bank.write_releases(&[figures]).unwrap();
    }
    let mut bank = Bank::open(&path).unwrap();
    let source = bank.catalogue().source("KZ_MINTRUD_REG").expect("the declaration joins the catalogue on open");
    assert_eq!(source.kind, "ministry");
    let rows = bank
        .query(&Query { dataflow: "MIG_EXT".into(), source: Some("KZ_MINTRUD_REG".into()), ..Default::default() })
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].definition, "work permits issued, own count", "a definition is free text, nothing to declare");
    assert!(bank.sources().unwrap().iter().any(|s| s.id == "KZ_MINTRUD_REG" && s.releases == 1));

    // Declaring it again changes nothing; other content under the same id is refused.
    assert_eq!(bank.declare_toml("ministry.toml", MINISTRY).unwrap()[0].outcome, Declared::Unchanged);
    let renamed = MINISTRY.replace("regional office", "city office");
    let err = bank.declare_toml("other.toml", &renamed).unwrap_err().to_string();
    assert!(
        err.contains("KZ_MINTRUD_REG") && err.contains("cannot be changed") && err.contains("ministry.toml"),
        "{err}"
    );
}

#[test]
fn a_declaration_clashing_with_the_bundled_catalogue_or_malformed_is_refused_and_nothing_is_kept() {
    let mut bank = Bank::open_in_memory().unwrap();
    let declarations = |bank: &Bank| -> i64 { bank.declaration_count().unwrap() };
    let clash = "[[source]]\nid = \"KZ_BNS\"\nname = { en = \"My statistics office\" }\n";
    let err = bank.declare_toml("mine.toml", clash).unwrap_err().to_string();
    assert!(err.contains("mine.toml") && err.contains("KZ_BNS") && err.contains("already taken"), "{err}");

    let cases = [
        (
            "[[source]]\nid = \"A_NEW\"\nname = { en = \"x\" }\n[[source]]\nid = \"A_NEW\"\nname = { en = \"y\" }\n",
            "declared twice",
        ),
        ("[[source]]\nid = \"lower case\"\nname = { en = \"x\" }\n", "capitals"),
        ("[[source]]\nid = \"NO_NAME\"\n", "name"),
        ("[[source]]\nid = \"TYPO\"\nname = { en = \"x\" }\nulr = \"https://example.org\"\n", "ulr"),
        (
            "[[dataflow]]\nid = \"MIG_EXT\"\nname = { en = \"mine\" }\ndimensions = [{ id = \"REF_AREA\", codelist = \"AREA\" }]\n",
            "already taken",
        ),
        (
            "[[dataflow]]\nid = \"MY_FLOW\"\nname = { en = \"mine\" }\ndimensions = [{ id = \"REF_AREA\", codelist = \"NOPE\" }]\n",
            "unknown code list NOPE",
        ),
        (
            "[[dataflow]]\nid = \"MY_FLOW\"\nname = { en = \"mine\" }\ndimensions = [{ id = \"REF_AREA\", codelist = \"AREA\" }]\nreconciliation = { priority = [\"NOBODY\"] }\n",
            "unknown source NOBODY",
        ),
        (
            "[[dataflow]]\nid = \"MY_FLOW\"\nname = { en = \"mine\" }\ndimensions = [{ id = \"MEASURE\", codelist = \"MEASURE\" }]\n",
            "list of measures",
        ),
        ("# nothing\n", "declares no"),
    ];
    for (text, expected) in cases {
        let err = bank.declare_toml("mine.toml", text).unwrap_err().to_string();
        assert!(err.contains(expected) && err.contains("mine.toml"), "{text}: {err}");
    }
    assert_eq!(declarations(&bank), 0);
    assert_eq!(bank.catalogue().dataflow("MY_FLOW").map(|d| d.id.clone()), None);
}

#[test]
fn a_declared_dataflow_with_its_own_source_takes_figures() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    let text = r#"
[[source]]
id = "KZ_AKIMAT_ALA"
name = { en = "Akimat of Almaty" }
kind = "local government"

[[dataflow]]
id = "MIG_PERMITS"
name = { en = "Residence permits issued", ru = "Выданные разрешения на проживание" }
description = "Permits issued by a local government, by citizenship."
dimensions = [
  { id = "REF_AREA", codelist = "AREA" },
  { id = "COUNTERPART", codelist = "AREA", role = "citizenship" },
  { id = "MEASURE", codelist = "MEASURE" },
]
measures = [{ code = "ISSUED", unit = "PERS", en = "Permits issued" }]
reconciliation = { priority = ["KZ_AKIMAT_ALA"] }
"#;
    {
        let mut bank = Bank::open(&path).unwrap();
        let outcomes = bank.declare_toml("permits.toml", text).unwrap();
        assert_eq!(outcomes.iter().map(|o| o.kind).collect::<Vec<_>>(), ["source", "dataflow"]);
        let permit = Observation {
            dataflow: "MIG_PERMITS".into(),
            key: vec!["KZ-75".into(), "UZB".into(), "ISSUED".into()],
            ..obs(&NET, "2024", 1_234.0, "KZ_AKIMAT_ALA", "permits issued in the year")
        };
        let mut b = batch("KZ_AKIMAT_ALA", "annual report 2024", "2025-02-01", vec![permit]);
        b.dataflow = "MIG_PERMITS".into();
        bank.write_releases(&[b]).unwrap();
    }
    let bank = Bank::open(&path).unwrap();
    let df = bank.catalogue().dataflow("MIG_PERMITS").expect("declared dataflow after reopening");
    assert!(bank.catalogue().is_valid_code(df, "MEASURE", "ISSUED"));
    let h = bank.harmonised(&Query { dataflow: "MIG_PERMITS".into(), ..Default::default() }).unwrap();
    assert_eq!((h.len(), h[0].value, h[0].source.as_str()), (1, Some(1_234.0), "KZ_AKIMAT_ALA"));
    assert!(bank.dataflow_summaries().unwrap().iter().any(|d| d.id == "MIG_PERMITS" && d.observations == 1));
}

#[test]
fn a_bank_open_elsewhere_sees_declarations_made_meanwhile_on_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    let mut server = Bank::open(&path).unwrap();
    let mut cli = Bank::open(&path).unwrap();
    cli.declare_toml("koshi source add", MINISTRY).unwrap();
    assert!(server.catalogue().source("KZ_MINTRUD_REG").is_none());
    assert!(server.refresh_declarations().unwrap());
    assert!(server.catalogue().source("KZ_MINTRUD_REG").is_some());
    assert!(!server.refresh_declarations().unwrap(), "nothing new the second time");
    // A declaration through the refreshed bank knows of the other's: the same again is unchanged.
    assert_eq!(server.declare_toml("again", MINISTRY).unwrap()[0].outcome, Declared::Unchanged);
    // And a bank that declares without refreshing first still joins the other's declarations.
    let other = MINISTRY.replace("KZ_MINTRUD_REG", "KZ_MINTRUD_AST").replace("regional", "Astana");
    cli.declare_toml("koshi source add", &other).unwrap();
    let third = MINISTRY.replace("KZ_MINTRUD_REG", "KZ_MINTRUD_SHY").replace("regional", "Shymkent");
    server.declare_toml("koshi source add", &third).unwrap();
    for id in ["KZ_MINTRUD_REG", "KZ_MINTRUD_AST", "KZ_MINTRUD_SHY"] {
        assert!(server.catalogue().source(id).is_some(), "{id}");
    }
}
