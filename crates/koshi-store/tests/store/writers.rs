//! Writers queue for the bank: immediate transactions, a busy timeout, and a writer that must
//! give up says so and has written nothing. Several writes made one transaction.

use std::time::Duration;

use koshi_store::{Bank, BundleState, StoreError, WriteOutcome};

use super::{NET, batch, obs};

fn many_batches(source: &str, writer: &str, n: usize) -> Vec<koshi_store::ReleaseBatch> {
    (0..n)
        .map(|i| {
            let observations =
                (1990..2020).map(|year| obs(&NET, &year.to_string(), (i * 1000 + year) as f64, source, "d")).collect();
            batch(source, &format!("{writer} {i}"), "2020-01-01", observations)
        })
        .collect()
}

#[test]
fn two_writers_at_once_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    let banks = [Bank::open(&path).unwrap(), Bank::open(&path).unwrap()];
    let handles: Vec<_> = banks
        .into_iter()
        .zip(["KZ_BNS", "UN_WPP"])
        .map(|(mut bank, source)| {
            std::thread::spawn(move || {
                for b in many_batches(source, source, 40) {
                    let outcome = bank.write_releases(&[b])?;
                    assert!(matches!(outcome[0], WriteOutcome::Created { .. }));
                    // Each writer reads between its writes too.
                    bank.counts()?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let bank = Bank::open(&path).unwrap();
    assert_eq!(bank.counts().unwrap()["release"], 80);
    assert_eq!(bank.counts().unwrap()["observation"], 80 * 30);
}

#[test]
fn a_writer_that_cannot_get_the_bank_gives_up_with_busy_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    let mut bank = Bank::open(&path).unwrap();
    bank.set_busy_timeout(Duration::from_millis(300)).unwrap();
    assert_eq!(bank.busy_timeout(), Duration::from_millis(300));

    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE; INSERT INTO definition(text) VALUES ('held by another writer');").unwrap();
    let b = batch("KZ_BNS", "a", "2018-03-01", vec![obs(&NET, "2017", 1.0, "KZ_BNS", "d")]);
    let err = bank.write_releases(std::slice::from_ref(&b)).unwrap_err();
    let StoreError::Busy { waited } = err else { panic!("expected Busy, got {err:?}") };
    assert!(waited >= Duration::from_millis(250), "it waited for the other writer: {waited:?}");
    let message = StoreError::Busy { waited }.to_string();
    assert!(message.contains("another writer") && message.contains("nothing was written"), "{message}");
    other.execute_batch("ROLLBACK").unwrap();

    let counts = bank.counts().unwrap();
    assert_eq!((counts["release"], counts["observation"], counts["series"]), (0, 0, 0), "the bank is unchanged");
    // Once the other writer is gone, the same write goes through.
    assert!(matches!(bank.write_releases(&[b]).unwrap()[0], WriteOutcome::Created { .. }));
}

#[test]
fn writes_made_one_transaction_commit_together_or_not_at_all() {
    let mut bank = Bank::open_in_memory().unwrap();
    let first = batch("KZ_BNS", "a", "2018-03-01", vec![obs(&NET, "2017", 1.0, "KZ_BNS", "d")]);
    let twice = obs(&NET, "2016", 1.0, "KZ_BNS", "d");
    let bad = batch("KZ_BNS", "b", "2018-03-01", vec![twice.clone(), twice]);
    let declared = r#"
[[source]]
id = "KZ_MINTRUD_REG"
name = { en = "Ministry of Labour, regional office" }
kind = "ministry"
"#;
    let result: Result<(), StoreError> = bank.atomically(|bank| {
        bank.declare_toml("test", declared)?;
        bank.write_releases(std::slice::from_ref(&first))?;
        // Inside the transaction the first write is visible.
        assert_eq!(bank.counts()?["release"], 1);
        bank.write_releases(&[bad])?;
        bank.record_bundle_complete("abc")?;
        Ok(())
    });
    assert!(result.is_err());
    assert_eq!(bank.counts().unwrap()["release"], 0, "the first write was undone with the failing one");
    assert!(bank.catalogue().source("KZ_MINTRUD_REG").is_none(), "the declaration was undone too");
    assert_eq!(bank.bundle_state().unwrap(), BundleState::NotLoaded);

    bank.atomically(|bank| {
        bank.write_releases(std::slice::from_ref(&first))?;
        bank.record_bundle_complete("abc")
    })
    .unwrap();
    assert_eq!(bank.counts().unwrap()["release"], 1);
    assert!(
        matches!(bank.bundle_state().unwrap(), BundleState::Complete { ref fingerprint, .. } if fingerprint == "abc")
    );
    bank.expect_bundle("def");
    assert!(matches!(bank.bundle_state().unwrap(), BundleState::Stale { ref loaded, ref current, .. }
        if loaded == "abc" && current == "def"));
}
