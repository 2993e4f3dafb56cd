use koshi_labour::{Coder, Isco, Lang, Level, Lexicon, Problem, REVIEW_THRESHOLD, detect_language, stems};
use proptest::prelude::*;

use crate::coder;

fn code_of(text: &str) -> String {
    coder().code(text).code.unwrap_or_else(|| panic!("no code for {text:?}"))
}

#[test]
fn russian_inflected_forms_code_like_the_base_form() {
    let families: &[&[&str]] = &[
        &["водитель", "водителя", "водители", "водителей", "водителем"],
        &["сварщик", "сварщика", "сварщики", "сварщиков"],
        &["повар", "повара", "поваров", "поварами"],
        &["бухгалтер", "бухгалтера", "бухгалтеры", "бухгалтеров"],
        &["продавец", "продавца", "продавцы", "продавцов"],
        &["уборщица", "уборщицы", "уборщицей"],
        &["учитель математики", "учителя математики", "учителей математики"],
    ];
    for family in families {
        let base = coder().code(family[0]);
        assert!(!base.needs_review, "{}: {base:?}", family[0]);
        for form in &family[1..] {
            let coding = coder().code(form);
            assert_eq!(coding.code, base.code, "{form} vs {}", family[0]);
            assert!(!coding.needs_review, "{form}: {coding:?}");
        }
    }
}

#[test]
fn empty_or_garbage_text_goes_to_review_with_low_confidence() {
    for text in ["", "   ", "!!!", "12345", "-- // --", "asdfgh qwerty", "ыврапоыв", "zzzz", "срочно требуется", "🙂🙂"]
    {
        let coding = coder().code(text);
        assert!(coding.needs_review, "{text:?}: {coding:?}");
        assert!(coding.confidence < 0.2, "{text:?}: {coding:?}");
        assert_eq!(coding.level, 0, "{text:?}");
    }
}

#[test]
fn licence_categories_abbreviations_and_mixed_alphabets_are_read() {
    assert_eq!(code_of("Водитель кат. С"), "8332");
    assert_eq!(code_of("Водитель категории D"), "8331");
    assert_eq!(code_of("Водитель категории B, C, E"), "8332");
    assert_eq!(code_of("Водитель"), "8322");
    assert_eq!(stems("Водитель кат. С, СЕ"), ["водител", "catce"]);
    assert_eq!(stems("Зав. складом"), stems("заведующий складом"));
    // A Latin "o" inside a Russian word.
    assert_eq!(code_of("Boдитель"), "8322");
    assert_eq!(stems("C# / .NET developer"), ["csharp", "dotnet", "developer"]);
    assert_eq!(code_of("разработчик ПО"), "2512");
    assert_eq!(detect_language("Жүргізуші"), Lang::Kk);
    assert_eq!(detect_language("Водитель"), Lang::Ru);
    assert_eq!(detect_language("Driver"), Lang::En);
}

#[test]
fn a_more_specific_phrase_wins_over_its_head_word() {
    assert_eq!(code_of("повар"), "5120");
    assert_eq!(code_of("помощник повара"), "9412");
    assert_eq!(code_of("врач"), "2211");
    assert_eq!(code_of("главный врач"), "1342");
    assert_eq!(code_of("кассир"), "5230");
    assert_eq!(code_of("кассир в банк"), "4211");
}

#[test]
fn codings_are_deterministic_and_consistent() {
    let coding = coder().code("Старший продавец-консультант в бутик");
    assert_eq!(coding, coder().code("Старший продавец-консультант в бутик"));
    let code = coding.code.as_deref().unwrap();
    assert_eq!(coding.code_at(Level::SubMajor), Some(&code[..2]));
    assert_eq!(coding.title_en.as_deref(), coder().isco().title(code, Lang::En));
    let triage = coder().triage(["Сварщик", "ыврапоыв", "Cashier"]);
    assert_eq!(triage.accepted.len(), 2);
    assert_eq!(triage.review.len(), 1);
    assert_eq!(triage.review[0].text, "ыврапоыв");
}

#[test]
fn a_broken_lexicon_is_reported_line_by_line() {
    let lexicon = Lexicon::parse(
        "# comment\n\
         7212 en: welder; ~fitter\n\
         garbage\n\
         12 en: x\n\
         7212 xx: y\n\
         9999 en: nothing\n\
         5120 en: welder\n\
         7411 en: !!!\n",
    );
    let problems: Vec<&Problem> = lexicon.diagnostics.iter().map(|d| &d.problem).collect();
    assert_eq!(lexicon.diagnostics[0].line, 3);
    assert!(matches!(problems[0], Problem::MalformedLine { .. }), "{problems:?}");
    assert!(problems.contains(&&Problem::NotAUnitGroup { code: "12".into() }));
    assert!(problems.contains(&&Problem::UnknownLanguage { language: "xx".into() }));
    assert!(lexicon.value.entries.iter().any(|e| e.weak && e.phrase == "fitter"));

    let coder = Coder::new(Isco::bundled().unwrap().value, &lexicon.value);
    let problems: Vec<&Problem> = coder.diagnostics.iter().map(|d| &d.problem).collect();
    assert!(problems.contains(&&Problem::UnknownCode { code: "9999".into() }), "{problems:?}");
    assert!(problems.contains(&&Problem::AmbiguousPhrase {
        phrase: "welder".into(),
        kept: "7212".into(),
        skipped: "5120".into()
    }));
    assert!(problems.contains(&&Problem::EmptyPhrase { code: "7411".into(), phrase: "!!!".into() }));
    assert_eq!(coder.value.code("welder").code.as_deref(), Some("7212"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_text_codes_without_panic_and_with_sound_confidences(text in "\\PC{0,40}") {
        let coding = coder().code(&text);
        prop_assert!((0.0..=1.0).contains(&coding.confidence));
        prop_assert_eq!(coding.needs_review, coding.confidence < REVIEW_THRESHOLD);
        prop_assert!(coding.confidence_by_level.windows(2).all(|w| w[0] + 1e-12 >= w[1]));
        prop_assert!(coding.alternatives.len() <= 3);
        if let Some(code) = &coding.code {
            prop_assert_eq!(code.len(), 4);
            prop_assert!(coding.alternatives.iter().all(|a| &a.code != code));
        } else {
            prop_assert!(coding.alternatives.is_empty() && coding.needs_review);
        }
    }

    #[test]
    fn phrases_of_the_lexicon_in_any_case_and_punctuation_code_to_a_unit_group(
        i in 0usize..2000, upper in any::<bool>(), punct in "[ .,!()/-]{0,3}"
    ) {
        let entries = &Lexicon::bundled().value.entries;
        let entry = &entries[i % entries.len()];
        let text = format!("{punct}{}{punct}", if upper { entry.phrase.to_uppercase() } else { entry.phrase.clone() });
        let coding = coder().code(&text);
        prop_assert_eq!(coding.code.as_deref().map(str::len), Some(4), "{}", text);
    }
}
