//! The policy parser never panics: mutated versions of the shipped policy files either parse or
//! fail with a typed error, and deciding under a policy that parsed never panics either.
//! Case counts are modest; `PROPTEST_CASES` raises them.

use koshi_rules::{Date, Facts, Request, SHIPPED_POLICIES, StaffGroup, Treaties, decide, parse_policy, parse_treaties};
use proptest::prelude::*;

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// A small policy that exercises every rule kind, so mutations reach every reader path quickly.
const SMALL: &str = r#"
[policy]
id = "T"
title = "t"
currency = "X"
[legal.a]
act = "A"
[[params.n]]
from = 2020-01-01
value = 0.5
legal = "a"
[[params.list]]
from = 2020-01-01
value = ["AA", "s"]
legal = "a"
[[params.table]]
from = 2020-01-01
value = { "1" = { initial = [12], extension = [12], max_extensions = 1 }, g = { "1" = 3 } }
legal = "a"
[grounds.1]
legal = "a"
en = "e"
ru = "р"
kk = "қ"
[[rules]]
id = "E"
kind = "exemption"
nationalities = "list"
statuses = "list"
legal = "a"
[[rules]]
id = "Q"
kind = "quota_available"
line = "general"
ground = "1"
legal = "a"
[[rules]]
id = "M"
kind = "min_local_share"
categories = ["1"]
min_share = "n"
legal = "a"
[[rules]]
id = "F"
kind = "max_foreign_share"
share = "n"
counted = { local = false }
legal = "a"
[[rules]]
id = "V"
kind = "validity"
table = "table"
legal = "a"
[[rules]]
id = "FEE"
kind = "fee"
amounts = "table"
keyed_by = ["activity_group", "category"]
unit = "n"
label = { en = "f", ru = "ф", kk = "ф" }
legal = "a"
"#;

fn mutate(text: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(position, op, byte) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = position % bytes.len();
        match op % 4 {
            0 => bytes[at] = byte,
            1 => {
                bytes.remove(at);
            }
            2 => bytes.insert(at, byte),
            _ => {
                // Duplicate a short run: repeated keys and tables.
                let end = (at + 1 + usize::from(byte) % 40).min(bytes.len());
                let run: Vec<u8> = bytes[at..end].to_vec();
                bytes.splice(at..at, run);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn sample_request() -> (Request, Facts) {
    let request =
        Request { nationality: "UZ".into(), category: "1".into(), regions: vec!["R".into()], ..Request::default() };
    let facts = Facts {
        staff: vec![StaffGroup { category: "1".into(), local: true, count: 3, ..StaffGroup::default() }],
        ..Facts::default()
    };
    (request, facts)
}

fn source_strategy() -> impl Strategy<Value = String> {
    let mut texts: Vec<String> = SHIPPED_POLICIES.iter().map(|(_, t)| t.to_string()).collect();
    texts.push(SMALL.to_string());
    prop::sample::select(texts)
}

proptest! {
    #![proptest_config(cases(48))]

    #[test]
    fn fuzz_policy_parser_never_panics(
        source in source_strategy(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), prop::sample::select(b"=[]{}\"'.,#\n 0123456789-abcz_".to_vec())), 1..6),
    ) {
        let text = mutate(&source, &edits);
        let treaties = Treaties::standard().expect("treaties load");
        let (request, facts) = sample_request();
        if let Ok(policy) = parse_policy("fuzz.toml", &text) {
            for date in ["2019-12-31", "2020-06-01", "2024-03-01"] {
                let date: Date = date.parse().expect("date");
                let _ = decide(&policy, &treaties, &request, &facts, date);
            }
        } else if let Err(e) = parse_policy("fuzz.toml", &text) {
            prop_assert!(e.to_string().starts_with("fuzz.toml"), "{e}");
        }
        let _ = parse_treaties("fuzz.toml", &text);
    }

    #[test]
    fn fuzz_policy_parser_arbitrary_text(text in "\\PC{0,300}") {
        let _ = parse_policy("fuzz.toml", &text);
        let _ = parse_treaties("fuzz.toml", &text);
    }
}
