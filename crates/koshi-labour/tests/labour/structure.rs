use koshi_labour::{Isco, Lang, Level, Problem};

const KAZAKH_LETTERS: &str = "әғқңөұүһіӘҒҚҢӨҰҮҺІ";

#[test]
fn the_structure_has_every_level_and_every_parent() {
    let parsed = Isco::bundled().unwrap();
    assert!(parsed.diagnostics.is_empty(), "{:#?}", parsed.diagnostics);
    let isco = parsed.value;
    let counts: Vec<usize> = Level::ALL.iter().map(|&l| isco.count(l)).collect();
    assert_eq!(counts, [10, 43, 130, 436], "groups per level");
    for group in isco.groups() {
        assert_eq!(group.code.len(), group.level.digits(), "{}", group.code);
        match group.level {
            Level::Major => assert!(group.parent.is_none()),
            _ => {
                let parent = isco.parent(&group.code).unwrap_or_else(|| panic!("{} has no parent", group.code));
                assert_eq!(parent.level.digits() + 1, group.level.digits());
                assert!(group.code.starts_with(&parent.code));
            }
        }
        assert!(!group.title_en.is_empty());
    }
    // Armed forces keep their leading zero.
    assert_eq!(isco.title("0110", Lang::En), Some("Commissioned Armed Forces Officers"));
    assert_eq!(isco.get("7212").unwrap().level, Level::Unit);
}

#[test]
fn major_and_sub_major_groups_have_russian_and_kazakh_titles_with_sources() {
    let isco = Isco::bundled().unwrap().value;
    let mut checked = 0;
    for group in isco.groups().iter().filter(|g| g.level <= Level::SubMajor) {
        let ru = group.title_ru.as_deref().unwrap_or_else(|| panic!("{} has no Russian title", group.code));
        let kk = group.title_kk.as_deref().unwrap_or_else(|| panic!("{} has no Kazakh title", group.code));
        let source = group.title_source.as_deref().unwrap_or_else(|| panic!("{} has no source", group.code));
        assert!(ru.chars().any(|c| ('а'..='я').contains(&c)), "{}: {ru}", group.code);
        assert!(
            kk.chars().any(|c| KAZAKH_LETTERS.contains(c)),
            "{}: the Kazakh title has no Kazakh letter: {kk}",
            group.code
        );
        assert_ne!(ru, kk, "{}", group.code);
        assert!(source.contains("ru: ") && source.contains("kk: "), "{}: {source}", group.code);
        assert_eq!(group.title(Lang::Ru), ru);
        assert_eq!(group.title(Lang::Kk), kk);
        checked += 1;
    }
    assert_eq!(checked, 53);
    // A group without translations falls back to English.
    let unit = isco.get("2512").unwrap();
    assert_eq!(unit.title(Lang::Kk), "Software Developers");
}

#[test]
fn a_broken_structure_is_reported_row_by_row() {
    let structure = "code,level,level_name,parent_code,title_en\n\
        1,1,major,,Managers\n\
        11,2,sub-major,1,Chief Executives\n\
        11,2,sub-major,1,Again\n\
        123,3,minor,13,Wrong parent\n\
        21,2,sub-major,2,Orphan\n\
        1x,2,sub-major,1,Not digits\n";
    let titles = "code,title_ru,title_kk,source\n1,Руководители,Басшылар,\n99,Нет,Жоқ,x\n";
    let parsed = Isco::parse(structure, titles).unwrap();
    let problems: Vec<&Problem> = parsed.diagnostics.iter().map(|d| &d.problem).collect();
    assert!(problems.contains(&&Problem::DuplicateCode { code: "11".into() }), "{problems:?}");
    assert!(problems.contains(&&Problem::ParentMismatch { code: "123".into(), parent: "13".into() }));
    assert!(problems.contains(&&Problem::UnknownParent { code: "21".into(), parent: "2".into() }));
    assert!(problems.contains(&&Problem::BadCode { code: "1x".into(), level: "2".into() }));
    assert!(problems.contains(&&Problem::MissingSource { code: "1".into() }));
    assert!(problems.contains(&&Problem::UnknownCode { code: "99".into() }));
    assert_eq!(parsed.value.groups().len(), 3);
    assert_eq!(parsed.diagnostics[0].line, 4, "{}", parsed.diagnostics[0]);

    let missing_column = Isco::parse("code,level,title_en\n1,1,Managers\n", titles);
    assert!(missing_column.is_err());
    assert!(Isco::parse("code,level,parent_code,title_en\n", titles).is_err(), "no rows");
}
