//! A ministry's own file: its source unknown to koshi until declared in the bank or in the mapping.

use koshi_ingest::{IngestOptions, Input, LoadError, load_file, parse_mapping};
use koshi_store::{Bank, Declared, Query, WriteOutcome};

const PERMITS: &str = include_str!("../fixtures/ministry/permits.csv");

/// The ministry's file, its mapping and its source are fixture files, for every test that needs them.
const MAPPING: &str = include_str!("../fixtures/ministry/permits.toml");

const DECLARATION: &str = include_str!("../fixtures/ministry/source.toml");

fn load(bank: &mut Bank, mapping_text: &str, data: &str) -> Result<koshi_ingest::Loaded, LoadError> {
    let mapping = parse_mapping("permits.toml", mapping_text).unwrap();
    load_file(bank, &mapping, "permits.csv", Input::Bytes(data.as_bytes()), &IngestOptions::default(), &mut |_| {})
}

fn figures(bank: &Bank) -> Vec<(String, Option<f64>)> {
    let q = Query { dataflow: "MIG_INT".into(), source: Some("KZ_MINTRUD_ALA".into()), ..Default::default() };
    bank.query(&q).unwrap().into_iter().map(|r| (r.key[0].clone(), r.value)).collect()
}

#[test]
fn a_ministry_file_is_refused_on_its_unknown_source_until_the_source_is_declared() {
    let mut bank = Bank::open_in_memory().unwrap();
    let Err(LoadError::Rejected { plan, .. }) = load(&mut bank, MAPPING, PERMITS) else {
        panic!("an unknown source is an error")
    };
    assert!(plan.diagnostics.iter().any(|d| d.code == "UNKNOWN_SOURCE"), "{:#?}", plan.diagnostics);
    assert_eq!(bank.counts().unwrap()["observation"], 0);

    assert_eq!(bank.declare_toml("koshi source add", DECLARATION).unwrap()[0].outcome, Declared::Created);
    let loaded = load(&mut bank, MAPPING, PERMITS).unwrap();
    assert!(matches!(loaded.outcomes[0], WriteOutcome::Created { .. }));
    assert_eq!(figures(&bank), [("KZ-71".to_string(), Some(388.0)), ("KZ-75".to_string(), Some(1_204.0))]);
}

#[test]
fn a_mapping_declares_the_source_of_its_file_in_the_same_transaction() {
    let mut bank = Bank::open_in_memory().unwrap();
    let with_source = format!("{MAPPING}\n{DECLARATION}");
    let declarations = |bank: &Bank| -> i64 { bank.declaration_count().unwrap() };

    // A file with errors writes nothing: not its figures, not its mapping's source.
    let broken = "region,year,issued\nKZ-75,2024,1 204\nNOWHERE,2024,12\n";
    assert!(matches!(load(&mut bank, &with_source, broken), Err(LoadError::Rejected { .. })));
    assert_eq!(declarations(&bank), 0);
    assert!(bank.catalogue().source("KZ_MINTRUD_ALA").is_none());

    let loaded = load(&mut bank, &with_source, PERMITS).unwrap();
    assert!(matches!(loaded.outcomes[0], WriteOutcome::Created { .. }));
    assert_eq!((loaded.declared.len(), loaded.declared[0].outcome), (1, Declared::Created));
    assert_eq!(declarations(&bank), 1);
    assert_eq!(bank.catalogue().source("KZ_MINTRUD_ALA").unwrap().kind, "ministry");
    assert_eq!(figures(&bank).len(), 2);
    // The same mapping again: the declaration and the figures are unchanged.
    let again = load(&mut bank, &with_source, PERMITS).unwrap();
    assert!(matches!(again.outcomes[0], WriteOutcome::Unchanged { .. }));
    assert_eq!(again.declared[0].outcome, Declared::Unchanged);
    assert_eq!(declarations(&bank), 1);

    // A mapping may not redefine a bundled source.
    let clash = format!(
        "{}\n[[source]]\nid = \"KZ_BNS\"\nname = {{ en = \"Not the bureau\" }}\n",
        MAPPING.replace("KZ_MINTRUD_ALA", "KZ_BNS")
    );
    let err = load(&mut bank, &clash, PERMITS).unwrap_err().to_string();
    assert!(err.contains("KZ_BNS") && err.contains("already taken") && err.contains("permits.csv"), "{err}");
    assert_eq!(bank.releases(Some("MIG_INT")).unwrap().len(), 1);
}
