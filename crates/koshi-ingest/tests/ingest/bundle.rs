//! The bundled load is one transaction, recorded in the bank when complete. The whole bundle
//! is loaded once per test binary ([`bundled_bank`]); the tests that need it read that bank
//! or a copy of its file.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::OnceLock;

use koshi_ingest::{
    IngestOptions, Input, LoadError, Loaded, bundle_state, bundled, load_bundled, load_file, parse_mapping,
};
use koshi_store::{Bank, BundleState, WriteOutcome};

use super::sqlite;

/// A bank file holding the whole bundle, built as a bank of an older koshi is finished: its
/// first dataset was loaded alone (one file at a time, no bundle record), then the whole
/// bundle was loaded over it.
pub(crate) struct BundledBank {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    /// The bundle state after the first dataset alone.
    pub state_after_first: BundleState,
    /// What loading the whole bundle over it did, file by file.
    pub loaded: Vec<Loaded>,
}

/// The bank with the whole bundle, loaded on first use. Read it (opening the file does not
/// write); a test that writes copies the file first ([`BundledBank::copy`]).
pub(crate) fn bundled_bank() -> &'static BundledBank {
    static BANK: OnceLock<BundledBank> = OnceLock::new();
    BANK.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundled.db");
        let mut bank = Bank::open(&path).unwrap();
        let first = &bundled::datasets()[0];
        let mapping = parse_mapping(first.mapping_name, first.mapping).unwrap();
        let bytes = first.bytes().unwrap();
        load_file(&mut bank, &mapping, first.file_name, Input::Bytes(&bytes), &IngestOptions::default(), &mut |_| {})
            .unwrap();
        let state_after_first = bundle_state(&mut bank).unwrap();
        let loaded = load_bundled(&mut bank, &mut |_, _, _| ControlFlow::Continue(())).unwrap();
        // Closed: every commit is in the file itself, which can be copied.
        drop(bank);
        BundledBank { _dir: dir, path, state_after_first, loaded }
    })
}

impl BundledBank {
    /// A copy of the bank file in `dir`, for a test that writes.
    pub fn copy(&self, dir: &std::path::Path) -> PathBuf {
        let copy = dir.join("bundled-copy.db");
        std::fs::copy(&self.path, &copy).unwrap();
        copy
    }
}

#[test]
fn a_bundled_load_is_all_or_nothing() {
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
}

#[test]
fn a_partial_bank_is_finished_recorded_when_complete_and_loading_again_creates_nothing() {
    // A bank holding part of the bundle without the record (an older koshi, one file at a
    // time) is finished: only what is missing is written.
    let bundled_bank = bundled_bank();
    assert_eq!(bundled_bank.state_after_first, BundleState::NotLoaded);
    let loaded = &bundled_bank.loaded;
    assert_eq!(loaded.len(), bundled::datasets().len());
    assert!(loaded[0].outcomes.iter().all(|o| matches!(o, WriteOutcome::Unchanged { .. })), "{:?}", loaded[0].outcomes);
    assert!(loaded[1..].iter().flat_map(|l| &l.outcomes).all(|o| matches!(o, WriteOutcome::Created { .. })));

    let dir = tempfile::tempdir().unwrap();
    let path = bundled_bank.copy(dir.path());
    let mut bank = Bank::open(&path).unwrap();
    let state = bundle_state(&mut bank).unwrap();
    assert!(
        matches!(&state, BundleState::Complete { fingerprint, .. } if fingerprint == bundled::fingerprint()),
        "the record survives reopening: {state:?}"
    );
    let counts = bank.counts().unwrap();
    // The trade table's implausible 2010 exports are flagged: the plausibility check read the
    // reference GDP written earlier in the same transaction.
    let flagged: i64 = sqlite(&path)
        .query_row("SELECT COUNT(*) FROM defect WHERE rule = 'IMPLAUSIBLE_MAGNITUDE'", [], |r| r.get(0))
        .unwrap();
    assert!(flagged > 0);

    // Loading again creates nothing.
    let again = load_bundled(&mut bank, &mut |_, _, _| ControlFlow::Continue(())).unwrap();
    assert!(again.iter().flat_map(|l| &l.outcomes).all(|o| matches!(o, WriteOutcome::Unchanged { .. })));
    assert_eq!(bank.counts().unwrap(), counts);

    // A bank that recorded another bundle is stale for this koshi.
    bank.record_bundle_complete("an older bundle").unwrap();
    assert!(matches!(bundle_state(&mut bank).unwrap(), BundleState::Stale { .. }));
}
