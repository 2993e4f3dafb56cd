//! Every text the observatory shows beside a figure of the bundled bank — the definitions, the
//! notes, the messages of declared and found defects, the harmonisation reasons — is given in
//! Russian and Kazakh, not only in English. A text without a translation (in
//! `data/structure/translations.toml`, or in the wording of koshi's own messages) is named.

use std::collections::{BTreeMap, BTreeSet};

use koshi_app::App;
use koshi_app::bank::{DiscrepanciesRequest, Figures, Observation, QueryRequest, ReleasesRequest};
use koshi_core::Labels;
use koshi_core::validate::DefectMessage;

use crate::bundled;

/// Texts written the same in every language: a text that is only a code or a proper name.
const SAME_IN_EVERY_LANGUAGE: &[&str] = &["KZ_BNS", "UN_DESA", "UN_WPP", "WB_WDI"];

/// The texts lacking a translation: what they are and the text → what is wrong, where first seen.
#[derive(Default)]
struct Gaps {
    seen: BTreeSet<(&'static str, String)>,
    missing: BTreeMap<(&'static str, String), String>,
}

impl Gaps {
    /// Check `labels`, the three renderings of the English `text` (a `kind` of text shown in
    /// `place`): both translations present, non-empty and not English.
    fn check(&mut self, kind: &'static str, text: &str, labels: Option<&Labels>, place: &str) {
        if !self.seen.insert((kind, text.to_string())) {
            return;
        }
        let Some(labels) = labels else {
            self.missing.insert((kind, text.to_string()), format!("no labels at all ({place})"));
            return;
        };
        assert_eq!(labels.en, text, "the English label of a {kind} is the stored text ({place})");
        let mut problems = Vec::new();
        for (lang, value) in [("ru", &labels.ru), ("kk", &labels.kk)] {
            if value.trim().is_empty() {
                problems.push(format!("{lang} empty"));
            } else if value == text && !SAME_IN_EVERY_LANGUAGE.contains(&text) {
                problems.push(format!("{lang} is the English"));
            }
        }
        if !problems.is_empty() {
            self.missing.insert((kind, text.to_string()), format!("{} ({place})", problems.join(", ")));
        }
    }

    /// A note carried inside a declared defect's message is checked as the note it is.
    fn check_declared_note(&mut self, rule: &str, message: &str, place: &str) {
        if let Some(DefectMessage::Declared { note: Some(note), .. }) = DefectMessage::parse(rule, message) {
            let labels = koshi_core::Translations::shared().labels(&note);
            self.check("note of a declared defect", &note, labels.as_ref(), place);
        }
    }
}

/// The observations of `request`.
fn observations(app: &App, request: &QueryRequest) -> Vec<Observation> {
    match app.query(request).unwrap_or_else(|e| panic!("{request:?}: {e}")).items {
        Figures::Observations(rows) => rows,
        Figures::Harmonised(_) => panic!("{request:?}: asked for observations"),
    }
}

/// The dates on which a dataflow's figures looked otherwise than today: the release dates of
/// releases a later release of the same source superseded (a corrected table, a new edition).
fn superseded_dates(app: &App, dataflow: &str) -> BTreeSet<String> {
    let releases = app.releases(&ReleasesRequest { dataflow: Some(dataflow.into()), page: None }).unwrap().items;
    releases
        .iter()
        .filter(|r| releases.iter().any(|later| later.source == r.source && later.release_date > r.release_date))
        .map(|r| r.release_date.clone())
        .collect()
}

#[test]
fn every_definition_note_defect_and_reason_is_in_russian_and_kazakh() {
    let app = bundled();
    let mut gaps = Gaps::default();
    let mut shown = BTreeMap::<&'static str, usize>::new();
    for df in app.dataflows(None).unwrap().items {
        let request = QueryRequest { dataflow: df.id.clone(), ..QueryRequest::default() };
        // Today's figures, and those that were current before a later release replaced them.
        let as_of = superseded_dates(app, &df.id).into_iter().map(Some);
        for as_of in std::iter::once(None).chain(as_of) {
            let rows = observations(app, &QueryRequest { as_of: as_of.clone(), ..request.clone() });
            for o in &rows {
                let place =
                    format!("{} {} {} {} {}", o.dataflow, o.key.join("."), o.time_period, o.source, o.release_label);
                gaps.check("definition", &o.definition, Some(&o.definition_labels), &place);
                if let Some(note) = &o.note {
                    gaps.check("note", note, o.note_labels.as_ref(), &place);
                } else {
                    assert_eq!(o.note_labels, None, "{place}: labels of no note");
                }
            }
            *shown.entry("observations").or_default() += rows.len();
        }
        let request = QueryRequest { harmonised: true, ..request };
        match app.query(&request).unwrap_or_else(|e| panic!("{} harmonised: {e}", df.id)).items {
            Figures::Harmonised(rows) => {
                for h in &rows {
                    let place = format!("{} {} {}, harmonised", h.dataflow, h.key.join("."), h.time_period);
                    gaps.check("definition", &h.definition, Some(&h.definition_labels), &place);
                    gaps.check("harmonisation reason", &h.reason, Some(&h.reason_labels), &place);
                }
                *shown.entry("harmonised figures").or_default() += rows.len();
            }
            Figures::Observations(_) => panic!("{}: asked for harmonised figures", df.id),
        }
    }
    let discrepancies = app.discrepancies(&DiscrepanciesRequest::default()).unwrap();
    for d in &discrepancies.items {
        let place = format!("{} {} {}, discrepancy", d.dataflow, d.key.join("."), d.time_period);
        gaps.check("definition", &d.definition_a, Some(&d.definition_a_labels), &place);
        gaps.check("definition", &d.definition_b, Some(&d.definition_b_labels), &place);
    }
    let findings = app.check(None).unwrap();
    for f in &findings.items {
        let place = format!("{} {} {} {} {}, {} defect", f.rule, f.dataflow, f.key, f.time_period, f.source, f.origin);
        gaps.check("defect message", &f.message, Some(&f.message_labels), &place);
        gaps.check_declared_note(&f.rule, &f.message, &place);
    }
    let kinds = |kind: &str| gaps.seen.iter().filter(|(k, _)| *k == kind).count();
    // The bundled bank has all of these to show (a query that lost them would check nothing).
    assert!(kinds("definition") >= 60, "{} definitions", kinds("definition"));
    assert!(kinds("note") >= 70, "{} notes", kinds("note"));
    assert!(kinds("harmonisation reason") >= 4, "{} reasons", kinds("harmonisation reason"));
    let rules: BTreeSet<&str> = findings.items.iter().map(|f| f.rule.as_str()).collect();
    assert!(rules.contains("IMPLAUSIBLE_MAGNITUDE") && rules.contains("UNIT_MISLABELLED"), "{rules:?}");
    assert!(shown.values().all(|&n| n > 0), "{shown:?}");
    let report: Vec<String> =
        gaps.missing.iter().map(|((kind, text), problem)| format!("  {kind} \"{text}\": {problem}")).collect();
    assert!(
        report.is_empty(),
        "{} texts shown with the bundled figures have no Russian or Kazakh translation; add them to \
         data/structure/translations.toml (stored texts) or to the wording of koshi's messages:\n{}",
        report.len(),
        report.join("\n")
    );
}
