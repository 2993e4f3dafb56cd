//! Runs every case of every vector file. A file names its policy, may override parameters and
//! rules inline (`[overrides]`, written like a policy file) and add treaties (`[[treaty]]`); each
//! `[[case]]` has a date, a request, the facts and what is expected.

use std::path::{Path, PathBuf};

use koshi_rules::{Date, Decision, Facts, Request, StepStatus, Treaties, decide, parse_treaties, shipped_policy};

fn vector_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/vectors exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn date_of(value: &toml::Value) -> Date {
    let text = match value {
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::String(s) => s.clone(),
        other => panic!("not a date: {other}"),
    };
    text.parse().expect("a date YYYY-MM-DD")
}

/// Every difference between the decision and the expectation, in words.
fn compare(decision: &Decision, expect: &toml::Table) -> Vec<String> {
    let mut wrong = Vec::new();
    let all_figures = |lang: &str| -> Vec<String> {
        decision
            .steps
            .iter()
            .map(|s| match lang {
                "ru" => s.figures.ru.clone(),
                "kk" => s.figures.kk.clone(),
                _ => s.figures.en.clone(),
            })
            .collect()
    };
    for (key, want) in expect {
        match key.as_str() {
            "outcome" => {
                if Some(decision.outcome.name()) != want.as_str() {
                    wrong.push(format!("outcome {} ≠ expected {want}", decision.outcome.name()));
                }
            }
            "grounds" => {
                let mut got: Vec<String> = decision.ground_ids().iter().map(|g| g.to_string()).collect();
                let mut expected: Vec<String> = want
                    .as_array()
                    .expect("grounds list")
                    .iter()
                    .map(|g| g.as_str().expect("text").to_string())
                    .collect();
                got.sort();
                expected.sort();
                if got != expected {
                    wrong.push(format!("grounds {got:?} ≠ expected {expected:?}"));
                }
            }
            "figures" | "figures_ru" | "figures_kk" => {
                let lang = key.strip_prefix("figures_").unwrap_or("en");
                let figures = all_figures(lang);
                for needle in want.as_array().expect("figures list") {
                    let needle = needle.as_str().expect("text");
                    if !figures.iter().any(|f| f.contains(needle)) {
                        wrong.push(format!("no step's {lang} figures contain {needle:?}; they are {figures:#?}"));
                    }
                }
            }
            "fee_total" => {
                let want = want.as_float().or(want.as_integer().map(|i| i as f64)).expect("a number");
                if (decision.fee_total - want).abs() > 0.5 {
                    wrong.push(format!("fee_total {} ≠ expected {want}", decision.fee_total));
                }
            }
            "monthly_fee" => {
                let want = want.as_float().or(want.as_integer().map(|i| i as f64)).expect("a number");
                let got: f64 = decision.fees.iter().filter(|f| f.monthly).map(|f| f.amount).sum();
                if (got - want).abs() > 0.5 {
                    wrong.push(format!("monthly fees {got} ≠ expected {want}"));
                }
            }
            "term_months" => {
                let got = decision.permit.as_ref().map(|p| i64::from(p.term_months));
                if got != want.as_integer() {
                    wrong.push(format!("term {got:?} ≠ expected {want}"));
                }
            }
            "valid_until" => {
                let got = decision.permit.as_ref().map(|p| p.valid_until);
                if got != Some(date_of(want)) {
                    wrong.push(format!("valid until {got:?} ≠ expected {want}"));
                }
            }
            "deadlines" => {
                let got: Vec<Date> = decision.deadlines.iter().map(|d| d.due).collect();
                let expected: Vec<Date> = want.as_array().expect("list").iter().map(date_of).collect();
                if got != expected {
                    wrong.push(format!("deadlines {got:?} ≠ expected {expected:?}"));
                }
            }
            "consumes" => {
                let got: Vec<String> = decision
                    .consumes
                    .iter()
                    .map(|c| format!("{}/{}/{}/{}", c.line, c.region, c.category, c.places))
                    .collect();
                let expected: Vec<String> = want
                    .as_array()
                    .expect("list")
                    .iter()
                    .map(|c| c.as_str().expect("line/region/category/places").to_string())
                    .collect();
                if got != expected {
                    wrong.push(format!("consumes {got:?} ≠ expected {expected:?}"));
                }
            }
            "not_applicable" | "passed" | "failed" | "applied" => {
                let status = match key.as_str() {
                    "not_applicable" => StepStatus::NotApplicable,
                    "passed" => StepStatus::Passed,
                    "failed" => StepStatus::Failed,
                    _ => StepStatus::Applied,
                };
                for rule in want.as_array().expect("list of rule ids") {
                    let rule = rule.as_str().expect("text");
                    if !decision.steps.iter().any(|s| s.rule == rule && s.status == status) {
                        let seen: Vec<String> =
                            decision.steps.iter().map(|s| format!("{}={:?}", s.rule, s.status)).collect();
                        wrong.push(format!("rule {rule} is not {status:?}; steps: {seen:?}"));
                    }
                }
            }
            "not_run" => {
                for rule in want.as_array().expect("list of rule ids") {
                    let rule = rule.as_str().expect("text");
                    if let Some(step) = decision.steps.iter().find(|s| s.rule == rule) {
                        wrong.push(format!(
                            "rule {rule} ran ({:?}) though it is not in effect or does not match",
                            step.status
                        ));
                    }
                }
            }
            "exempt_by" => {
                let last = decision.steps.last().map(|s| s.rule.as_str());
                if last != want.as_str() || decision.outcome.name() != "exempt" {
                    wrong.push(format!("exempt by {last:?} ({}) ≠ expected {want}", decision.outcome.name()));
                }
            }
            "lottery_weight" => {
                let want = want.as_float().or(want.as_integer().map(|i| i as f64));
                if decision.lottery_weight != want {
                    wrong.push(format!("lottery weight {:?} ≠ expected {want:?}", decision.lottery_weight));
                }
            }
            "uncertain" => {
                let needle = want.as_str().expect("text");
                if !decision.steps.iter().any(|s| s.uncertain.iter().any(|u| u.contains(needle))) {
                    wrong.push(format!("no step is marked uncertain with {needle:?}"));
                }
            }
            other => wrong.push(format!("unknown expectation `{other}`")),
        }
    }
    // Every decision explains itself in three languages.
    for lang in [&decision.summary.en, &decision.summary.ru, &decision.summary.kk] {
        if lang.is_empty() {
            wrong.push("empty summary".into());
        }
    }
    for s in &decision.steps {
        if s.figures.en.is_empty() || s.figures.ru.is_empty() || s.figures.kk.is_empty() || s.legal.act.is_empty() {
            wrong.push(format!("step {} lacks figures in a language or a legal reference", s.rule));
        }
    }
    wrong
}

#[test]
fn every_vector_gives_the_expected_decision() {
    let standard = Treaties::standard().expect("treaties.toml loads");
    let mut failures = Vec::new();
    let mut cases = 0;
    let files = vector_files();
    assert!(files.len() >= 10, "{} vector files", files.len());
    for path in &files {
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let text = std::fs::read_to_string(path).expect("vector file reads");
        let file: toml::Table = text.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
        let policy_name = file["policy"].as_str().expect("policy name");
        let mut policy = shipped_policy(policy_name).expect("a shipped policy").expect("it parses");
        if let Some(overrides) = file.get("overrides") {
            let text = toml::to_string(overrides).expect("overrides serialise");
            policy = policy.with_overrides(&format!("{name} [overrides]"), &text).unwrap_or_else(|e| panic!("{e}"));
        }
        let treaties = match file.get("treaty") {
            Some(list) => {
                let mut extra = toml::Table::new();
                extra.insert("treaty".into(), list.clone());
                let text = toml::to_string(&extra).expect("treaties serialise");
                standard.with(parse_treaties(&name, &text).unwrap_or_else(|e| panic!("{e}")))
            }
            None => standard.clone(),
        };
        for (i, case) in file["case"].as_array().expect("[[case]]").iter().enumerate() {
            cases += 1;
            let case = case.as_table().expect("case table");
            let label = format!("{name} case {i} ({})", case.get("name").and_then(|n| n.as_str()).unwrap_or(""));
            let date = date_of(&case["date"]);
            let request: Request =
                case["request"].clone().try_into().unwrap_or_else(|e| panic!("{label}: request: {e}"));
            let facts: Facts = match case.get("facts") {
                Some(f) => f.clone().try_into().unwrap_or_else(|e| panic!("{label}: facts: {e}")),
                None => Facts::default(),
            };
            let decision = decide(&policy, &treaties, &request, &facts, date);
            let expect = case["expect"].as_table().expect("expect table");
            let wrong = compare(&decision, expect);
            if !wrong.is_empty() {
                failures.push(format!("{label}:\n  {}\n  summary: {}", wrong.join("\n  "), decision.summary.en));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {cases} cases fail:\n{}", failures.len(), failures.join("\n"));
    eprintln!("{cases} vector cases in {} files pass", files.len());
}
