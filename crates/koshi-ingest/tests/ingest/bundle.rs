//! The bundled load is one transaction, recorded in the bank when complete.

use std::ops::ControlFlow;

use koshi_ingest::{IngestOptions, Input, LoadError, bundle_state, bundled, load_bundled, load_file, parse_mapping};
use koshi_store::{Bank, BundleState, WriteOutcome};

#[test]
fn a_bundled_load_is_all_or_nothing_recorded_when_complete_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    let mut bank = Bank::open(&path).unwrap();
    assert_eq!(bundle_state(&mut bank).unwrap(), BundleState::NotLoaded);

    // Stopped after ten files (a crash, Ctrl-C): nothing of the bundle is in the bank.
    let total = bundled::datasets().len();
    assert!(total > 12);
    let mut seen = 0;
    let err = load_bundled(&mut bank, &mut |_, i, _| {
        seen = i;
        if i == 10 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })
    .unwrap_err();
    assert!(matches!(err, LoadError::Interrupted { .. }), "{err}");
    assert!(err.to_string().contains("nothing of the bundle was written"), "{err}");
    assert_eq!(seen, 10);
    drop(bank);
    let mut bank = Bank::open(&path).unwrap();
    let counts = bank.counts().unwrap();
    assert_eq!((counts["release"], counts["observation"], counts["series"]), (0, 0, 0), "{counts:?}");
    assert_eq!(bundle_state(&mut bank).unwrap(), BundleState::NotLoaded);

    // A bank holding part of the bundle without the record (an older koshi, one file at a
    // time) is finished: only what is missing is written.
    let first = &bundled::datasets()[0];
    let mapping = parse_mapping(first.mapping_name, first.mapping).unwrap();
    let bytes = first.bytes().unwrap();
    load_file(&mut bank, &mapping, first.file_name, Input::Bytes(&bytes), &IngestOptions::default(), &mut |_| {})
        .unwrap();
    assert_eq!(bundle_state(&mut bank).unwrap(), BundleState::NotLoaded);

    let loaded = load_bundled(&mut bank, &mut |_, _, _| ControlFlow::Continue(())).unwrap();
    assert_eq!(loaded.len(), total);
    assert!(loaded[0].outcomes.iter().all(|o| matches!(o, WriteOutcome::Unchanged { .. })), "{:?}", loaded[0].outcomes);
    assert!(loaded[1..].iter().flat_map(|l| &l.outcomes).all(|o| matches!(o, WriteOutcome::Created { .. })));
    let state = bundle_state(&mut bank).unwrap();
    assert!(
        matches!(&state, BundleState::Complete { fingerprint, .. } if fingerprint == bundled::fingerprint()),
        "{state:?}"
    );
    let counts = bank.counts().unwrap();
    // The trade table's implausible 2010 exports are flagged: the plausibility check read the
    // reference GDP written earlier in the same transaction.
    let flagged: i64 = bank
        .connection()
        .query_row("SELECT COUNT(*) FROM defect WHERE rule = 'IMPLAUSIBLE_MAGNITUDE'", [], |r| r.get(0))
        .unwrap();
    assert!(flagged > 0);

    // Loading again creates nothing.
    drop(bank);
    let mut bank = Bank::open(&path).unwrap();
    assert!(bundle_state(&mut bank).unwrap().is_complete(), "the record survives reopening");
    let again = load_bundled(&mut bank, &mut |_, _, _| ControlFlow::Continue(())).unwrap();
    assert!(again.iter().flat_map(|l| &l.outcomes).all(|o| matches!(o, WriteOutcome::Unchanged { .. })));
    assert_eq!(bank.counts().unwrap(), counts);

    // A bank that recorded another bundle is stale for this koshi.
    bank.record_bundle_complete("an older bundle").unwrap();
    assert!(matches!(bundle_state(&mut bank).unwrap(), BundleState::Stale { .. }));
}
