//! The JSON-LD reader on the project's test pages (`tests/fixtures/`), on its limits, and on
//! arbitrary input.

use koshi_labour::jsonld::{MAX_INPUT_BYTES, MAX_POSTINGS, Parsed, Problem, Severity, parse_job_postings};
use koshi_labour::vacancy::{Date, EducationLevel, EmploymentType, PayPeriod, Region};
use proptest::prelude::*;

const LISTING: &str = include_str!("../fixtures/portal_listing_several.html");
const GRAPH: &str = include_str!("../fixtures/portal_graph.html");
const BROKEN: &str = include_str!("../fixtures/portal_broken_json.html");
const MISSING: &str = include_str!("../fixtures/portal_missing_fields.html");
const BARE: &str = include_str!("../fixtures/posting_bare.jsonld");

fn date(text: &str) -> Date {
    Date::parse(text).unwrap()
}

fn show(parsed: &Parsed) -> String {
    parsed.diagnostics.iter().map(|d| format!("  {d}\n")).collect()
}

#[test]
fn a_listing_page_gives_every_posting_and_place() {
    let parsed = parse_job_postings(LISTING, "national-portal");
    assert!(parsed.diagnostics.is_empty(), "{}", show(&parsed));
    let ids: Vec<&str> = parsed.postings.iter().map(|v| v.source_id.as_str()).collect();
    assert_eq!(ids, ["NP-100234", "100251", "NP-100260", "NP-100260#2"]);

    let welder = &parsed.postings[0];
    assert_eq!(welder.source, "national-portal");
    assert_eq!(welder.title, "Электрогазосварщик");
    assert_eq!(welder.url.as_deref(), Some("https://portal.example/vacancy/NP-100234"));
    let description = welder.description.as_ref().unwrap().as_str();
    assert!(
        description.starts_with("Сварка металлоконструкций") && description.contains("\nОпыт от 2 лет"),
        "{description}"
    );
    assert!(!description.contains('<') && !description.contains("&lt;"));
    assert_eq!(welder.employer.name.as_deref(), Some("ТОО «Алтын Құрылыс»"));
    assert_eq!(welder.employer.bin.as_ref().map(|b| b.as_str()), Some("000040424458"));
    assert_eq!(
        (welder.region.as_deref(), welder.region_code, welder.settlement.as_deref()),
        (Some("г. Алматы"), Some(Region::Almaty), Some("Алматы"))
    );
    assert_eq!(welder.occupation.map(|c| c.as_str().to_string()).as_deref(), Some("7212"));
    let wage = welder.wage.as_ref().unwrap();
    assert_eq!((wage.min, wage.max, wage.period), (Some(350_000.0), Some(450_000.0), Some(PayPeriod::Month)));
    assert_eq!(wage.currency.map(|c| c.as_str().to_string()).as_deref(), Some("KZT"));
    assert_eq!((welder.posted, welder.valid_through), (date("2024-04-02"), Some(date("2024-05-02"))));
    assert_eq!(welder.education.as_ref().and_then(|e| e.level), Some(EducationLevel::Vocational));
    assert_eq!((welder.experience_months, welder.openings), (Some(24), Some(3)));
    assert_eq!(welder.employment_type, [EmploymentType::FullTime]);

    let seller = &parsed.postings[1];
    assert_eq!(seller.region_code, Some(Region::Turkestan));
    assert_eq!(seller.employment_type, [EmploymentType::FullTime, EmploymentType::PartTime]);
    assert_eq!((seller.experience_months, seller.openings, seller.occupation), (Some(0), Some(2), None));
    assert_eq!(seller.posted, date("2024-04-03"));
    assert_eq!(seller.education.as_ref().and_then(|e| e.level), Some(EducationLevel::Secondary));

    // The Kazakh posting with two places: one record per place, each knowing there were two.
    let (astana, karaganda) = (&parsed.postings[2], &parsed.postings[3]);
    assert_eq!((astana.region_code, karaganda.region_code), (Some(Region::Astana), Some(Region::Karaganda)));
    assert_eq!((astana.location_count, karaganda.location_count), (2, 2));
    assert_eq!(astana.title, "Мейіргер (медбике)");
    let hourly = astana.wage.as_ref().unwrap();
    assert_eq!((hourly.min, hourly.period), (Some(1500.0), Some(PayPeriod::Hour)));
    assert!((hourly.monthly_min.unwrap() - 260_000.0).abs() < 1.0);
    assert_eq!(astana.experience_months, Some(12));
    assert_eq!(astana.occupation.map(|c| c.as_str().to_string()).as_deref(), Some("3221"));
    // Nothing from the commented-out block or the ordinary script.
    assert!(parsed.postings.iter().all(|v| v.title != "Не читать"));
}

#[test]
fn a_graph_page_resolves_its_references() {
    let parsed = parse_job_postings(GRAPH, "national-portal");
    assert!(parsed.diagnostics.is_empty(), "{}", show(&parsed));
    assert_eq!(parsed.postings.len(), 2);
    let truck = &parsed.postings[0];
    assert_eq!(truck.title, "Жүк көлігінің жүргізушісі (С санаты)");
    assert_eq!(truck.employer.name.as_deref(), Some("ТОО «Сарыарка Логистик»"));
    assert_eq!(truck.employer.bin.as_ref().map(|b| b.as_str()), Some("000040853194"));
    assert_eq!(truck.region_code, Some(Region::Kostanay));
    assert_eq!(truck.settlement.as_deref(), Some("Рудный қ."));
    assert_eq!(truck.kato.as_ref().map(|k| k.as_str()), Some("395600000"));
    assert_eq!((truck.posted, truck.valid_through), (date("2024-06-11"), Some(date("2024-07-11"))));
    assert_eq!((truck.openings, truck.experience_months), (Some(2), Some(12)));
    assert_eq!(truck.occupation.map(|c| c.as_str().to_string()).as_deref(), Some("8332"));
    assert_eq!(truck.description.as_ref().unwrap().as_str(), "Облыс бойынша жүк тасымалдау. Жалақы уақытылы төленеді.");
    let loader = &parsed.postings[1];
    assert_eq!(loader.region_code, Some(Region::Shymkent));
    assert_eq!(loader.occupation, None, "an O*NET code is not taken for ISCO");
    assert_eq!(loader.employment_type, [EmploymentType::Rotation]);
    let wage = loader.wage.as_ref().unwrap();
    assert_eq!((wage.min, wage.max), (Some(250_000.0), Some(300_000.0)));
}

#[test]
fn broken_json_is_reported_with_its_line_and_the_rest_is_read() {
    let parsed = parse_job_postings(BROKEN, "national-portal");
    assert_eq!(parsed.postings.len(), 1);
    assert_eq!(parsed.postings[0].title, "Повар горячего цеха");
    assert_eq!(parsed.postings[0].region_code, Some(Region::Mangystau));
    assert_eq!(parsed.diagnostics.len(), 1, "{}", show(&parsed));
    let d = &parsed.diagnostics[0];
    assert_eq!((d.severity, d.block, d.line, d.posting), (Severity::Error, 1, 12, None));
    assert!(matches!(&d.problem, Problem::BadJson { message, .. } if message.contains("trailing comma")), "{d}");
}

#[test]
fn every_problem_of_a_page_is_listed_at_once() {
    let parsed = parse_job_postings(MISSING, "national-portal");
    let kept: Vec<&str> = parsed.postings.iter().map(|v| v.title.as_str()).collect();
    assert_eq!(kept, ["Разнорабочий", "Водитель категории С", "Учитель математики"]);
    let found: Vec<(usize, Severity, &str, &str)> = parsed
        .diagnostics
        .iter()
        .map(|d| {
            let kind = match &d.problem {
                Problem::MissingRequired => "missing required",
                Problem::Missing => "missing",
                Problem::BadValue { .. } => "bad value",
                Problem::NonIsoDate { .. } => "non-ISO date",
                Problem::WageSwapped { .. } => "wage swapped",
                Problem::DateOrder { .. } => "date order",
                Problem::UnknownPlace { .. } => "unknown place",
                Problem::NoIdentifier { .. } => "no identifier",
                Problem::PlaceMismatch { .. } => "place mismatch",
                other => panic!("unexpected {other}"),
            };
            (d.posting.unwrap(), d.severity, d.field.as_str(), kind)
        })
        .collect();
    use Severity::{Error, Warning};
    let expected = [
        (1, Error, "title", "missing required"),
        (1, Warning, "hiringOrganization.identifier", "bad value"),
        (2, Error, "datePosted", "missing required"),
        (3, Warning, "datePosted", "non-ISO date"),
        (3, Warning, "hiringOrganization", "missing"),
        (3, Warning, "jobLocation", "missing"),
        (3, Warning, "baseSalary.value", "wage swapped"),
        (3, Warning, "baseSalary.value.unitText", "bad value"),
        (4, Warning, "validThrough", "date order"),
        (4, Warning, "jobLocation.address", "unknown place"),
        (4, Warning, "totalJobOpenings", "bad value"),
        (4, Warning, "identifier", "no identifier"),
        (5, Warning, "url", "bad value"),
        (5, Warning, "validThrough", "bad value"),
        (5, Warning, "hiringOrganization.identifier", "bad value"),
        (5, Warning, "jobLocation.address", "place mismatch"),
        (5, Warning, "baseSalary.value.unitText", "missing"),
        (5, Warning, "baseSalary.currency", "missing"),
        (5, Warning, "experienceRequirements", "bad value"),
        (5, Warning, "occupationalCategory", "bad value"),
    ];
    assert_eq!(found, expected, "{}", show(&parsed));
    // Diagnostics name the posting by its identifier when it has one.
    assert!(parsed.diagnostics.iter().filter(|d| d.posting == Some(5)).all(|d| d.id.as_deref() == Some("MF-5")));
    assert_eq!(parsed.diagnostics_of(1).next().and_then(|d| d.id.as_deref()), Some("MF-1"));
    // What was kept of the broken postings.
    let labourer = &parsed.postings[0];
    assert_eq!(labourer.posted, date("2024-04-15"));
    let wage = labourer.wage.as_ref().unwrap();
    assert_eq!((wage.min, wage.max, wage.period, wage.monthly_min), (Some(200_000.0), Some(250_000.0), None, None));
    let driver = &parsed.postings[1];
    assert!(driver.source_id.starts_with('h') && driver.source_id.len() == 17, "{}", driver.source_id);
    assert_eq!((driver.region.as_deref(), driver.region_code, driver.openings), (Some("Москва"), None, None));
    let teacher = &parsed.postings[2];
    assert_eq!(
        (teacher.url.as_deref(), teacher.region_code, teacher.employer.bin.as_ref()),
        (None, Some(Region::NorthKazakhstan), None)
    );
    // The same page parses to the same result every time.
    assert_eq!(parse_job_postings(MISSING, "national-portal"), parsed);
}

#[test]
fn a_bare_json_ld_document_is_read() {
    let parsed = parse_job_postings(BARE, "employment-centre");
    assert!(parsed.diagnostics.is_empty(), "{}", show(&parsed));
    let [v] = parsed.postings.as_slice() else { panic!("{:?}", parsed.postings) };
    assert_eq!(v.source_id, "EC-2024-0042");
    assert_eq!(v.employer.name.as_deref(), Some("АО «Эверест Строй Сервис»"));
    assert_eq!(v.kato.as_ref().map(|k| k.as_str()), Some("711210000"));
    assert_eq!(v.region_code, Some(Region::Astana));
    let wage = v.wage.as_ref().unwrap();
    assert_eq!(
        (wage.period, wage.monthly_min, wage.monthly_max),
        (Some(PayPeriod::Year), Some(500_000.0), Some(600_000.0))
    );
    assert_eq!(v.education.as_ref().and_then(|e| e.level), Some(EducationLevel::Higher));
    assert_eq!(v.experience_months, Some(36));
    assert!(v.description.as_ref().unwrap().as_str().contains('\n'));
    let json = serde_json::to_value(v).unwrap();
    assert_eq!(json["region_code"], "KZ-71");
    assert_eq!(json["posted"], "2024-03-18");
    assert_eq!(json["employer"]["bin"], "000040063285");
}

#[test]
fn other_types_are_ignored_without_a_word_and_a_page_without_json_ld_is_said_to_be_so() {
    let page = r#"<script type="application/ld+json">{"@type": "Organization", "name": "X"}</script>
        <script type="application/ld+json">[{"@type": ["Product"], "name": "Y"}, {"@type": "Event"}]</script>"#;
    let parsed = parse_job_postings(page, "p");
    assert!(parsed.postings.is_empty() && parsed.diagnostics.is_empty(), "{}", show(&parsed));
    let parsed = parse_job_postings("<html><body>Нет вакансий</body></html>", "p");
    assert_eq!(parsed.diagnostics.len(), 1);
    assert_eq!(parsed.diagnostics[0].problem, Problem::NoJsonLd);
    // A posting listed in an ItemList, with a schema.org URL as its type.
    let page = r#"{"@type": "ItemList", "itemListElement": [{"@type": "ListItem", "item": {"@type": "https://schema.org/JobPosting",
        "title": "Курьер", "datePosted": "2024-01-05", "identifier": "1", "hiringOrganization": "ИП Ким",
        "jobLocation": "Астана", "baseSalary": "200 000 ₸", "salaryCurrency": "KZT"}}]}"#;
    let parsed = parse_job_postings(page, "p");
    assert_eq!(parsed.postings.len(), 1, "{}", show(&parsed));
    assert_eq!(parsed.postings[0].region_code, Some(Region::Astana));
    assert_eq!(parsed.postings[0].wage.as_ref().and_then(|w| w.min), Some(200_000.0));
}

#[test]
fn the_reader_is_bounded() {
    let huge = " ".repeat(MAX_INPUT_BYTES + 1);
    let parsed = parse_job_postings(&huge, "p");
    assert!(matches!(parsed.diagnostics[..], [ref d] if matches!(d.problem, Problem::TooLarge { .. })));
    let parsed = parse_job_postings(BARE, " ");
    assert_eq!(parsed.diagnostics[0].problem, Problem::NoSource);

    let one = r#"{"@type":"JobPosting","title":"Грузчик","datePosted":"2024-01-01","identifier":"ID","hiringOrganization":"ТОО «А»","jobLocation":"Алматы"}"#;
    let many = format!("[{}]", vec![one; MAX_POSTINGS + 5].join(","));
    let parsed = parse_job_postings(&many, "p");
    assert_eq!(parsed.postings.len(), MAX_POSTINGS);
    let last = parsed.diagnostics.last().unwrap();
    assert_eq!(last.problem, Problem::TooManyPostings { found: MAX_POSTINGS + 5, limit: MAX_POSTINGS });

    let unclosed = format!(r#"<script type="application/ld+json">{one}"#);
    let parsed = parse_job_postings(&unclosed, "p");
    assert!(parsed.postings.is_empty());
    assert_eq!(parsed.diagnostics[0].problem, Problem::Unclosed);

    let blocks =
        format!(r#"<script type="application/ld+json">{one}</script>"#).repeat(koshi_labour::jsonld::MAX_BLOCKS + 3);
    let parsed = parse_job_postings(&blocks, "p");
    assert_eq!(parsed.postings.len(), koshi_labour::jsonld::MAX_BLOCKS);
    assert!(parsed.diagnostics.iter().any(|d| matches!(d.problem, Problem::TooManyBlocks { .. })));

    // Nesting deeper than the JSON reader allows is broken JSON, not a crash.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let parsed = parse_job_postings(&deep, "p");
    assert!(matches!(parsed.diagnostics[0].problem, Problem::BadJson { .. }));
}

/// Any JSON value a page could hold, shaped around the properties the reader looks at.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let keys = prop::sample::select(vec![
        "@type",
        "@graph",
        "@id",
        "title",
        "name",
        "datePosted",
        "validThrough",
        "hiringOrganization",
        "jobLocation",
        "address",
        "addressRegion",
        "addressLocality",
        "baseSalary",
        "value",
        "minValue",
        "maxValue",
        "unitText",
        "currency",
        "identifier",
        "propertyID",
        "employmentType",
        "educationRequirements",
        "credentialCategory",
        "experienceRequirements",
        "monthsOfExperience",
        "totalJobOpenings",
        "occupationalCategory",
        "codeValue",
        "inCodeSet",
        "url",
        "description",
        "taxID",
        "itemListElement",
        "item",
        "mainEntity",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_map(|x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)),
        any::<i64>().prop_map(|x| Value::Number(x.into())),
        prop::sample::select(vec![
            "JobPosting",
            "Place",
            "PostalAddress",
            "MONTH",
            "HOUR",
            "KZT",
            "2024-02-30",
            "2024-01-01T10:00",
            "15.04.2024",
            "г. Алматы",
            "Түркістан облысы",
            "000040424458",
            "7212",
            "&lt;p&gt;",
            "<b>x</b>",
            "",
            "1 500",
            "-5",
            "1e400",
        ])
        .prop_map(|s| Value::String(s.to_string())),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..8).prop_map(|pairs| {
                let mut map: serde_json::Map<String, Value> =
                    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                map.insert("@type".into(), Value::String("JobPosting".into()));
                Value::Object(map)
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = parse_job_postings(&text, "p");
        let _ = parse_job_postings(&format!("<script type=\"application/ld+json\">{text}</script>"), "p");
    }

    #[test]
    fn damaged_pages_never_panic(cut in 0usize..6000, insert in "\\PC{0,8}", at in 0usize..6000) {
        for page in [LISTING, GRAPH, MISSING, BARE] {
            let mut boundary = cut.min(page.len());
            while !page.is_char_boundary(boundary) {
                boundary -= 1;
            }
            let _ = parse_job_postings(&page[..boundary], "p");
            let mut at = at.min(page.len());
            while !page.is_char_boundary(at) {
                at -= 1;
            }
            let damaged = format!("{}{insert}{}", &page[..at], &page[at..]);
            let _ = parse_job_postings(&damaged, "p");
        }
    }

    #[test]
    fn arbitrary_json_ld_never_panics(value in json_value()) {
        let text = value.to_string();
        let parsed = parse_job_postings(&text, "p");
        for v in &parsed.postings {
            prop_assert!(!v.title.is_empty() && !v.source_id.is_empty());
        }
    }
}
