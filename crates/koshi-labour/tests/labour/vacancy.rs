//! The vacancy record's types: dates, BINs, KATO and ISCO codes, regions, wages, requirements.

use koshi_labour::vacancy::{
    Bin, BinKind, Currency, Date, EducationLevel, EmploymentType, IscoCode, Kato, PayPeriod, Region, Vacancy,
    VacancyError, Wage, experience_months,
};
use proptest::prelude::*;

fn date(text: &str) -> Date {
    Date::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn dates_are_checked_and_count_days() {
    assert_eq!(date("1970-01-01").days(), 0);
    assert_eq!(date("2024-02-29").days(), 19_782);
    assert_eq!(date("2024-03-01").days() - date("2024-02-28").days(), 2);
    assert_eq!(date("2023-03-01").days() - date("2023-02-28").days(), 1);
    assert_eq!(date("2000-02-29").to_string(), "2000-02-29");
    for bad in [
        "2023-02-29",
        "1900-02-29",
        "2024-13-01",
        "2024-00-10",
        "2024-04-31",
        "24-01-01",
        "2024-1-1",
        "2024/01/01",
        "",
        "2200-01-01",
    ] {
        assert!(matches!(Date::parse(bad), Err(VacancyError::BadDate(_))), "{bad}");
    }
    assert_eq!(Date::parse_date_or_datetime("2024-05-02T23:59:59+05:00").unwrap(), date("2024-05-02"));
    assert_eq!(Date::parse_date_or_datetime("2024-05-02 08:00").unwrap(), date("2024-05-02"));
    assert!(Date::parse_date_or_datetime("2024-05-02X").is_err());
    assert!(Date::parse_date_or_datetime("2024-05-0٣").is_err());
    assert_eq!(date("2024-12-31").add_days(1), Some(date("2025-01-01")));
    assert_eq!(date("1900-01-01").add_days(-1), None);
    assert!(date("2024-01-31") < date("2024-02-01"));
}

proptest! {
    #[test]
    fn days_and_dates_round_trip(days in -25_567i32..84_000) {
        let d = Date::from_days(days).expect("in range");
        prop_assert_eq!(d.days(), days);
        prop_assert_eq!(Date::parse(&d.to_string()).unwrap(), d);
    }

    #[test]
    fn date_parsing_never_panics(text in "\\PC{0,24}") {
        let _ = Date::parse(&text);
        let _ = Date::parse_date_or_datetime(&text);
    }
}

#[test]
fn bins_have_twelve_digits_and_a_check_digit() {
    let bin = Bin::parse("000040424458").unwrap();
    assert_eq!(bin.as_str(), "000040424458");
    assert_eq!(bin.kind(), BinKind::LegalEntity);
    assert_eq!(Bin::parse("0000 4085 3194").unwrap().as_str(), "000040853194");
    assert_eq!(Bin::parse("000060123458").unwrap().kind(), BinKind::LegalEntity);
    assert!(matches!(Bin::parse("000040424459"), Err(VacancyError::BinCheckDigit(_))));
    for bad in ["12345", "0000404244580", "00004042445a", ""] {
        assert!(matches!(Bin::parse(bad), Err(VacancyError::BinFormat(_))), "{bad}");
    }
    // The second weighting, used when the first sum leaves 10.
    let mut found_second = false;
    for serial in 0..2000u32 {
        let mut d = [0u8; 11];
        d[4] = 4;
        for (i, slot) in d.iter_mut().skip(6).enumerate() {
            *slot = ((serial / 10u32.pow(4 - i as u32)) % 10) as u8;
        }
        let first: u32 = d.iter().enumerate().map(|(i, &x)| x as u32 * (i as u32 + 1)).sum::<u32>() % 11;
        if first == 10
            && let Some(check) = Bin::check_digit(&d)
        {
            let weights = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];
            let second: u32 = d.iter().zip(weights).map(|(&x, w)| x as u32 * w).sum::<u32>() % 11;
            assert_eq!(check as u32, second);
            found_second = true;
        }
    }
    assert!(found_second);
}

#[test]
fn kato_and_isco_codes_are_checked() {
    let kato = Kato::parse("395600000").unwrap();
    assert_eq!(kato.region(), Some(Region::Kostanay));
    assert_eq!(Kato::parse("751110000").unwrap().region(), Some(Region::Almaty));
    assert_eq!(Kato::parse("990000000").unwrap().region(), None);
    assert!(Kato::parse("39560000").is_err());
    let code = IscoCode::parse("7212").unwrap();
    assert_eq!((code.major(), code.prefix(2), code.as_str()), (7, "72", "7212"));
    assert_eq!(IscoCode::parse("0310").unwrap().major(), 0);
    for bad in ["721", "72120", "72a2", ""] {
        assert!(IscoCode::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn there_are_twenty_regions_with_their_iso_codes() {
    let codes: Vec<&str> = Region::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(codes.len(), 20);
    let expected = [
        "KZ-10", "KZ-11", "KZ-15", "KZ-19", "KZ-23", "KZ-27", "KZ-31", "KZ-33", "KZ-35", "KZ-39", "KZ-43", "KZ-47",
        "KZ-55", "KZ-59", "KZ-61", "KZ-62", "KZ-63", "KZ-71", "KZ-75", "KZ-79",
    ];
    assert_eq!(codes, expected);
    for r in Region::ALL {
        assert_eq!(Region::from_code(r.as_str()).unwrap(), r);
        assert_eq!(Region::from_kato_prefix(r.kato_prefix()), Some(r));
        assert!(r.towns().next().is_some(), "{r:?} has no town");
        // Every region's own names resolve to it.
        for name in [r.name_ru(), r.name_kk(), r.name_en()] {
            assert_eq!(Region::resolve(name), Some(r), "{name}");
        }
    }
    assert!(Region::from_code("KZ-20").is_err());
    assert_eq!(Region::ALL.iter().filter(|r| r.is_city()).count(), 3);
}

#[test]
fn place_names_resolve_to_regions() {
    let cases = [
        ("г. Алматы", Some(Region::Almaty)),
        ("Алматы", Some(Region::Almaty)),
        ("Алматы қаласы", Some(Region::Almaty)),
        ("Алматинская область", Some(Region::AlmatyRegion)),
        ("Алматы облысы", Some(Region::AlmatyRegion)),
        ("Алматинская обл.", Some(Region::AlmatyRegion)),
        ("Туркестанская область", Some(Region::Turkestan)),
        ("Туркестанской области", Some(Region::Turkestan)),
        ("Түркістан облысы", Some(Region::Turkestan)),
        ("г. Туркестан", Some(Region::Turkestan)),
        ("Астана", Some(Region::Astana)),
        ("Нур-Султан", Some(Region::Astana)),
        ("Нұр-Сұлтан қ.", Some(Region::Astana)),
        ("Shymkent", Some(Region::Shymkent)),
        ("Республика Казахстан, г. Шымкент", Some(Region::Shymkent)),
        ("Шымкент, Енбекшинский район", Some(Region::Shymkent)),
        ("Қарағанды қ.", Some(Region::Karaganda)),
        ("Экибастуз", Some(Region::Pavlodar)),
        ("г. Усть-Каменогорск", Some(Region::EastKazakhstan)),
        ("Өскемен", Some(Region::EastKazakhstan)),
        ("Семей", Some(Region::Abai)),
        ("Абайская область", Some(Region::Abai)),
        ("Жетісу облысы", Some(Region::Zhetysu)),
        ("г. Талдыкорган", Some(Region::Zhetysu)),
        ("Ұлытау облысы", Some(Region::Ulytau)),
        ("Жезказган", Some(Region::Ulytau)),
        ("ЗКО", Some(Region::WestKazakhstan)),
        ("Западно-Казахстанская область", Some(Region::WestKazakhstan)),
        ("Мангистауская обл., г. Жанаозен", Some(Region::Mangystau)),
        ("Kazakhstan", None),
        ("Москва", None),
        ("", None),
    ];
    for (text, expected) in cases {
        assert_eq!(Region::resolve(text), expected, "{text}");
    }
}

#[test]
fn wages_keep_the_offer_and_give_a_month() {
    let w = Wage::new(Some(1500.0), Some(2000.0), Some(Currency::KZT), Some(PayPeriod::Hour)).unwrap();
    assert_eq!((w.min, w.max, w.period), (Some(1500.0), Some(2000.0), Some(PayPeriod::Hour)));
    assert!((w.monthly_min.unwrap() - 260_000.0).abs() < 1.0);
    let y = Wage::new(Some(6_000_000.0), None, None, Some(PayPeriod::Year)).unwrap();
    assert_eq!(y.monthly_range(), Some((500_000.0, 500_000.0)));
    let unknown = Wage::new(Some(300_000.0), None, None, None).unwrap();
    assert_eq!(unknown.monthly_min, None);
    assert!(matches!(Wage::new(None, None, None, None), Err(VacancyError::NoWage)));
    assert!(matches!(Wage::new(Some(5.0), Some(1.0), None, None), Err(VacancyError::WageOrder { .. })));
    assert!(matches!(Wage::new(Some(-5.0), None, None, None), Err(VacancyError::BadAmount(_))));
    assert!(matches!(Wage::new(Some(f64::NAN), None, None, None), Err(VacancyError::BadAmount(_))));
    assert_eq!(PayPeriod::parse("MONTH"), Some(PayPeriod::Month));
    assert_eq!(PayPeriod::parse("в месяц"), Some(PayPeriod::Month));
    assert_eq!(PayPeriod::parse("сағат"), Some(PayPeriod::Hour));
    assert_eq!(PayPeriod::parse("PER_SHIFT"), None);
    for (text, code) in [("₸", "KZT"), ("тенге", "KZT"), ("kzt", "KZT"), ("$", "USD"), ("руб.", "RUB"), ("EUR", "EUR")]
    {
        assert_eq!(Currency::parse(text).unwrap().as_str(), code, "{text}");
    }
    assert!(Currency::parse("тугрики").is_err());
}

#[test]
fn education_and_experience_are_read_from_text() {
    let cases = [
        ("Высшее", Some(EducationLevel::Higher)),
        ("высшее или среднее специальное", Some(EducationLevel::Vocational)),
        ("Среднее специальное", Some(EducationLevel::Vocational)),
        ("Техническое и профессиональное", Some(EducationLevel::Vocational)),
        ("Высшее техническое", Some(EducationLevel::Higher)),
        ("Неоконченное высшее", Some(EducationLevel::IncompleteHigher)),
        ("Среднее", Some(EducationLevel::Secondary)),
        ("Орта арнаулы білім", Some(EducationLevel::Vocational)),
        ("Жоғары білім", Some(EducationLevel::Higher)),
        ("bachelor degree", Some(EducationLevel::Higher)),
        ("high school", Some(EducationLevel::Secondary)),
        ("postgraduate degree", Some(EducationLevel::Postgraduate)),
        ("Образование не требуется", Some(EducationLevel::None)),
        ("опыт приветствуется", None),
    ];
    for (text, level) in cases {
        assert_eq!(EducationLevel::classify(text), level, "{text}");
    }
    let cases = [
        ("Без опыта", Some(0)),
        ("опыт не требуется", Some(0)),
        ("От 1 года", Some(12)),
        ("от года", Some(12)),
        ("1-3 года", Some(12)),
        ("от 1 до 3 лет", Some(12)),
        ("не менее 3 лет", Some(36)),
        ("Опыт работы от 2-х лет", Some(24)),
        ("более 5 лет", Some(60)),
        ("6 месяцев", Some(6)),
        ("полгода", Some(6)),
        ("1,5 года", Some(18)),
        ("3+ years", Some(36)),
        ("2 жыл", Some(24)),
        ("1 жылдан бастап", Some(12)),
        ("тәжірибесіз", Some(0)),
        ("желателен", None),
        ("", None),
    ];
    for (text, months) in cases {
        assert_eq!(experience_months(text), months, "{text}");
    }
    let cases = [
        ("FULL_TIME", Some(EmploymentType::FullTime)),
        ("full-time", Some(EmploymentType::FullTime)),
        ("Полная занятость", Some(EmploymentType::FullTime)),
        ("Частичная занятость", Some(EmploymentType::PartTime)),
        ("Вахтовый метод", Some(EmploymentType::Rotation)),
        ("Толық жұмыс күні", Some(EmploymentType::FullTime)),
        ("Сезонная работа", Some(EmploymentType::Temporary)),
        ("INTERN", Some(EmploymentType::Intern)),
        ("whatever", None),
    ];
    for (text, kind) in cases {
        assert_eq!(EmploymentType::parse(text), kind, "{text}");
    }
}

#[test]
fn a_vacancy_needs_its_required_fields_and_reports_inconsistencies() {
    assert!(matches!(Vacancy::new("", "1", "Повар", date("2024-01-01")), Err(VacancyError::Empty("source"))));
    assert!(matches!(Vacancy::new("s", " ", "Повар", date("2024-01-01")), Err(VacancyError::Empty("source id"))));
    assert!(matches!(Vacancy::new("s", "1", "  ", date("2024-01-01")), Err(VacancyError::Empty("title"))));
    let long = "Повар ".repeat(100);
    let v = Vacancy::new("s", "1", &long, date("2024-01-01")).unwrap();
    assert!(v.title.chars().count() <= koshi_labour::vacancy::MAX_TITLE_CHARS);
    let mut v = Vacancy::new("s", "1", "Повар", date("2024-03-10")).unwrap();
    assert!(v.inconsistencies().is_empty());
    v.valid_through = Some(date("2024-03-01"));
    v.region_code = Some(Region::Astana);
    v.kato = Some(Kato::parse("751110000").unwrap());
    let problems = v.inconsistencies();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().any(|p| matches!(p, VacancyError::DateOrder { field: "valid-through date", .. })));
    assert!(problems.iter().any(|p| matches!(p, VacancyError::KatoRegion { .. })));
    v.region_code = None;
    assert_eq!(v.resolved_region(), Some(Region::Almaty));
    let (d, cut) = koshi_labour::vacancy::Description::new(&"а".repeat(20_000));
    assert!(cut);
    assert_eq!(d.as_str().chars().count(), koshi_labour::vacancy::MAX_DESCRIPTION_CHARS);
}
