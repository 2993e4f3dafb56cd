//! The dependency invariants of ARCHITECTURE.md, read from `cargo metadata`: a crate that starts to
//! depend on what its layer must never know fails here, not in review.

use std::collections::BTreeMap;

/// Crates no pure crate may use: files, databases, the network, async runtimes, the command line.
const IO_CRATES: &[&str] =
    &["rusqlite", "axum", "tokio", "tower-http", "hyper", "calamine", "zip", "flate2", "clap", "indicatif", "anyhow"];

/// Per crate: the koshi crates it may depend on, and further crates it must not use.
const RULES: &[(&str, &[&str], &[&str])] = &[
    ("koshi-core", &[], IO_CRATES),
    ("koshi-numeric", &[], IO_CRATES),
    ("koshi-gravity", &["koshi-core", "koshi-numeric"], IO_CRATES),
    ("koshi-forecast", &["koshi-core", "koshi-numeric"], IO_CRATES),
    ("koshi-flows", &["koshi-core", "koshi-numeric"], IO_CRATES),
    // SDMX messages: a format library that knows no koshi crate, files or clock.
    ("koshi-sdmx", &[], IO_CRATES),
    ("koshi-rules", &["koshi-core"], IO_CRATES),
    ("koshi-labour", &[], IO_CRATES),
    // The registry's records on SQLite or PostgreSQL: no rules, no users' requests, no HTTP.
    (
        "koshi-registry",
        &[],
        &["axum", "tokio", "tower-http", "hyper", "calamine", "zip", "clap", "indicatif", "anyhow", "argon2"],
    ),
    (
        "koshi-store",
        &["koshi-core"],
        &["axum", "tokio", "tower-http", "calamine", "zip", "clap", "indicatif", "anyhow"],
    ),
    (
        "koshi-ingest",
        &["koshi-core", "koshi-store", "koshi-sdmx"],
        &["axum", "tokio", "tower-http", "clap", "indicatif", "anyhow"],
    ),
    (
        "koshi-app",
        &[
            "koshi-core",
            "koshi-store",
            "koshi-ingest",
            "koshi-gravity",
            "koshi-forecast",
            "koshi-flows",
            "koshi-sdmx",
            "koshi-rules",
            "koshi-labour",
            "koshi-registry",
        ],
        &["axum", "tokio", "tower-http", "hyper", "clap", "indicatif", "anyhow"],
    ),
    // The adapters reach the bank and the engines only through the application.
    ("koshi-server", &["koshi-app"], &["rusqlite", "postgres", "clap", "indicatif", "anyhow", "calamine"]),
    ("koshi", &["koshi-app", "koshi-server", "koshi-core"], &["rusqlite", "postgres", "axum", "calamine", "zip"]),
];

/// Each workspace crate's normal (non-dev, non-build) dependencies.
fn dependencies() -> BTreeMap<String, Vec<String>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_string())
                .collect();
            (p["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

fn violations(deps: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut found = Vec::new();
    for (krate, allowed_koshi, forbidden) in RULES {
        let Some(used) = deps.get(*krate) else {
            found.push(format!("{krate} is not in the workspace"));
            continue;
        };
        for d in used {
            if d.starts_with("koshi") && !allowed_koshi.contains(&d.as_str()) {
                found.push(format!("{krate} depends on {d}; it may depend only on {allowed_koshi:?}"));
            }
            if forbidden.contains(&d.as_str()) {
                found.push(format!("{krate} depends on {d}, which its layer must never use"));
            }
        }
    }
    found
}

#[test]
fn crates_keep_the_dependency_invariants_of_the_architecture() {
    let deps = dependencies();
    let found = violations(&deps);
    assert!(found.is_empty(), "ARCHITECTURE.md invariants broken:\n{}", found.join("\n"));
}

#[test]
fn a_forbidden_edge_is_caught() {
    let mut deps = dependencies();
    deps.get_mut("koshi-gravity").unwrap().push("rusqlite".into());
    deps.get_mut("koshi-store").unwrap().push("koshi-ingest".into());
    let found = violations(&deps);
    assert_eq!(found.len(), 2, "{found:?}");
}
