//! The regional vacancy database's workflows, on SQLite and on PostgreSQL: posting and changing
//! vacancies with their dated states, importing a job portal's page and an employment centre's
//! export, joining postings of one vacancy across sources, closing what a snapshot no longer
//! lists, the coding review queue, job seekers' counts, and who may do what.

use koshi_app::AppError;
use koshi_app::registry::{
    ApplicationStatus, CodeRequest, DecideRequest, DemandRequest, ImportFormat, SeekerInput, SeekersRequest,
    ShortageListRequest, ShortageRequest, VacancyChange, VacancyImport, VacancyInput, VacancySearch,
};
use koshi_registry::{CodingState, VacancyStatus};

use super::registry::{Backend, Fixture, application, fixture, is_not_found};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/labour/vacancies/examples");

fn example(name: &str) -> Vec<u8> {
    std::fs::read(format!("{EXAMPLES}/{name}")).unwrap()
}

fn portal_import(snapshot: bool) -> VacancyImport {
    VacancyImport {
        source: "national-portal".into(),
        file_name: "portal_shymkent.html".into(),
        format: ImportFormat::Jsonld,
        as_of: Some("2026-02-28".into()),
        snapshot,
        ..VacancyImport::default()
    }
}

fn centre_import() -> VacancyImport {
    VacancyImport {
        source: "centre-shymkent".into(),
        file_name: "centre_shymkent.csv".into(),
        format: ImportFormat::Table,
        mapping: Some(String::from_utf8(example("centre_export.toml")).unwrap()),
        as_of: Some("2026-02-28".into()),
        snapshot: true,
    }
}

fn all(f: &Fixture, search: VacancySearch) -> Vec<koshi_app::registry::VacancyView> {
    f.registry().vacancies(&koshi_app::registry::Actor::public(), &search).unwrap().items
}

fn posting(f: &Fixture) -> VacancyInput {
    let _ = f;
    VacancyInput {
        title: "Сварщик".into(),
        region: "KZ-79".into(),
        occupation: Some("7212".into()),
        openings: Some(2),
        wage_min: Some(350_000.0),
        posted: Some("2026-02-20".into()),
        ..VacancyInput::default()
    }
}

fn entered_and_changed(backend: Backend) {
    let f = fixture(backend, 10);
    let r = f.registry();
    // An employer posts for itself: its name comes from its record, whatever it writes.
    let mut input = posting(&f);
    input.employer_name = Some("Somebody Else".into());
    let v = r.post_vacancy(&f.employer_a, &input).unwrap();
    assert_eq!(v.record.employer_name.as_deref(), Some("Shymkent Cement"));
    assert_eq!(v.employer, Some(f.a));
    assert_eq!(v.coding, CodingState::Given);
    assert_eq!(v.status, VacancyStatus::Open);
    // Anyone finds it by region and by a word of its title.
    let found = all(&f, VacancySearch { region: Some("KZ-79".into()), q: Some("сварщ".into()), ..Default::default() });
    assert_eq!(found.iter().map(|x| x.id).collect::<Vec<_>>(), vec![v.id]);
    assert!(all(&f, VacancySearch { region: Some("KZ-23".into()), ..Default::default() }).is_empty());
    // Who may not change it is told it does not exist; the analyst and the public may not post.
    let fill =
        VacancyChange { status: Some(VacancyStatus::Filled), as_of: Some("2026-02-27".into()), ..Default::default() };
    assert!(is_not_found(&r.change_vacancy(&f.employer_b, v.id, &fill).unwrap_err()));
    assert!(is_not_found(&r.change_vacancy(&f.other_officer, v.id, &fill).unwrap_err()));
    assert!(matches!(r.post_vacancy(&f.analyst, &posting(&f)), Err(AppError::Forbidden(_))));
    assert!(matches!(
        r.post_vacancy(&koshi_app::registry::Actor::public(), &posting(&f)),
        Err(AppError::Unauthenticated(_))
    ));
    // An officer posts only in its own region.
    let mut elsewhere = posting(&f);
    elsewhere.region = "KZ-23".into();
    assert!(matches!(r.post_vacancy(&f.officer, &elsewhere), Err(AppError::Forbidden(_))));
    // A date before the posting is refused; the region's officer fills it on the day asked.
    let early =
        VacancyChange { status: Some(VacancyStatus::Filled), as_of: Some("2026-02-01".into()), ..Default::default() };
    assert!(matches!(r.change_vacancy(&f.officer, v.id, &early), Err(AppError::Invalid { .. })));
    let filled = r.change_vacancy(&f.officer, v.id, &fill).unwrap();
    assert_eq!(filled.status, VacancyStatus::Filled);
    let detail = r.vacancy(&koshi_app::registry::Actor::public(), v.id).unwrap();
    let changes: Vec<(&str, &str)> = detail.history.iter().map(|s| (s.change.as_str(), s.as_of.as_str())).collect();
    assert_eq!(changes, vec![("posted", "2026-02-20"), ("filled", "2026-02-27")]);
    assert_eq!(detail.history[0].record.status, VacancyStatus::Open);
    assert_eq!(detail.history[1].record.filled.as_deref(), Some("2026-02-27"));
    // The public sees what changed and when, not who changed it; the region's officer sees who.
    assert!(detail.history.iter().all(|s| s.actor.is_none()));
    let seen = r.vacancy(&f.officer, v.id).unwrap().history;
    assert_eq!(seen[0].actor.as_deref(), Some("cement"));
    // Every write left its audit entry.
    let log = r.audit_log(&f.admin, None, Some(500)).unwrap().items;
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"post_vacancy") && actions.contains(&"change_vacancy"), "{actions:?}");
    assert!(r.verify(&f.admin).unwrap().valid);
}

fn imported_joined_and_closed(backend: Backend) {
    let f = fixture(backend, 10);
    let r = f.registry();
    // The portal's page: three postings, coded from their titles.
    let page = r.import_vacancies(&f.officer, &portal_import(false), &example("portal_shymkent.html")).unwrap();
    assert_eq!((page.read, page.inserted, page.updated, page.duplicates), (3, 3, 0, 0), "{page:?}");
    let portal = all(&f, VacancySearch { region: Some("KZ-79".into()), ..Default::default() });
    assert_eq!(portal.len(), 3);
    let welder = portal.iter().find(|v| v.record.source_id == "NP-2026-0101").unwrap();
    assert_eq!(welder.record.occupation.as_deref(), Some("7212"), "{:?}", welder.record);
    assert_eq!(welder.record.openings, 2);
    assert_eq!(welder.record.wage_min_month, Some(300_000.0));
    // The same page again changes nothing.
    let again = r.import_vacancies(&f.officer, &portal_import(false), &example("portal_shymkent.html")).unwrap();
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 3));
    // The centre's export: its welder is the portal's welder (same employer, title, days).
    let centre = r.import_vacancies(&f.officer, &centre_import(), &example("centre_shymkent.csv")).unwrap();
    assert_eq!((centre.read, centre.inserted, centre.duplicates), (4, 4, 1), "{centre:?}");
    let every = all(&f, VacancySearch { with_duplicates: true, ..Default::default() });
    let repeat = every.iter().find(|v| v.record.source_id == "C-0001").unwrap();
    assert_eq!(repeat.duplicate_of, Some(welder.id));
    // Unique listings leave the repeat out; the closed bookkeeper is listed as closed.
    let unique = all(&f, VacancySearch::default());
    assert_eq!(unique.len(), 6);
    let bookkeeper = unique.iter().find(|v| v.record.source_id == "C-0003").unwrap();
    assert_eq!((bookkeeper.status, bookkeeper.record.closed.as_deref()), (VacancyStatus::Closed, Some("2026-02-20")));
    // A snapshot of the portal without the nurse: the nurse is closed on the snapshot's day,
    // not deleted, and its history says why.
    let html = String::from_utf8(example("portal_shymkent.html")).unwrap();
    let start = html.find(",\n  {\n    \"@context\": \"https://schema.org\",\n    \"@type\": \"JobPosting\",\n    \"identifier\": {\"@type\": \"PropertyValue\", \"name\": \"Портал\", \"value\": \"NP-2026-0103\"}").unwrap();
    let end = html[start..].find("\n]").unwrap() + start;
    let without_nurse = format!("{}{}", &html[..start], &html[end..]);
    let mut snapshot = portal_import(true);
    snapshot.as_of = Some("2026-03-01".into());
    let closed = r.import_vacancies(&f.officer, &snapshot, without_nurse.as_bytes()).unwrap();
    assert_eq!((closed.read, closed.closed, closed.unchanged), (2, 1, 2), "{closed:?}");
    let nurse = all(&f, VacancySearch { q: Some("медицинская".into()), ..Default::default() });
    assert_eq!(nurse.len(), 1);
    assert_eq!((nurse[0].status, nurse[0].record.closed.as_deref()), (VacancyStatus::Closed, Some("2026-03-01")));
    let history = r.vacancy(&f.officer, nurse[0].id).unwrap().history;
    assert_eq!(history.iter().map(|s| s.change.as_str()).collect::<Vec<_>>(), vec!["posted", "disappeared"]);
    // An officer cannot import another region's postings: every such row is named, nothing written.
    let before = all(&f, VacancySearch { with_duplicates: true, limit: Some(500), ..Default::default() }).len();
    let err = r.import_vacancies(&f.other_officer, &centre_import(), &example("centre_shymkent.csv")).unwrap_err();
    let text = err.to_string();
    for row in ["row 2", "row 3", "row 4", "row 5"] {
        assert!(text.contains(row), "{text}");
    }
    assert_eq!(all(&f, VacancySearch { with_duplicates: true, limit: Some(500), ..Default::default() }).len(), before);
}

fn bad_rows_all_named_nothing_written(backend: Backend) {
    let f = fixture(backend, 10);
    let r = f.registry();
    let csv = "Номер,Должность,Работодатель,Регион,Населённый пункт,Код НКЗ,Образование,Стаж,Зарплата от,Зарплата до,Мест,Дата размещения,Действует до,Дата закрытия\n\
               B-1,Повар,ТОО А,г. Шымкент,,,,,200 000,,1,01.02.2026,,\n\
               B-2,Повар,ТОО Б,Марс,,,,,200 000,,1,01.02.2026,,\n\
               B-3,,ТОО В,г. Шымкент,,,,,,,1,01.02.2026,,\n\
               B-4,Повар,ТОО Г,г. Шымкент,,12,,,сто,,0,31.02.2026,,\n\
               B-5,Повар,ТОО Д,г. Шымкент,,,,,400 000,300 000,1,01.02.2026,,\n";
    let err = r.import_vacancies(&f.officer, &centre_import(), csv.as_bytes()).unwrap_err();
    let text = err.to_string();
    for needle in [
        "row 3, column `Регион`",
        "row 4, column `Должность`",
        "row 5, column `Код НКЗ`",
        "row 5, column `Зарплата от`",
        "row 5, column `Мест`",
        "row 5, column `Дата размещения`",
        "row 6, column `Зарплата от`",
    ] {
        assert!(text.contains(needle), "{needle} not in {text}");
    }
    assert!(!text.contains("row 2,"), "{text}");
    assert!(all(&f, VacancySearch { with_duplicates: true, ..Default::default() }).is_empty());
    // A mapping naming a column the file lacks is refused before any row is read.
    let mut import = centre_import();
    import.mapping = Some(import.mapping.unwrap().replace("\"Мест\"", "\"Вакансий\""));
    let err = r.import_vacancies(&f.officer, &import, &example("centre_shymkent.csv")).unwrap_err();
    assert!(err.to_string().contains("column `Вакансий`"), "{err}");
}

fn coding_queue_and_seekers(backend: Backend) {
    let f = fixture(backend, 10);
    let r = f.registry();
    // A title the coder cannot place with confidence waits for the region's officer.
    let mut vague = posting(&f);
    vague.title = "Специалист".into();
    vague.occupation = None;
    let v = r.post_vacancy(&f.officer, &vague).unwrap();
    assert_ne!(v.coding, CodingState::Auto, "{:?}", v.record);
    if v.coding == CodingState::Review {
        let queue = r.coding_queue(&f.officer, None, None).unwrap().items;
        assert!(queue.iter().any(|x| x.id == v.id));
        assert!(r.coding_queue(&f.other_officer, None, None).unwrap().items.is_empty());
    }
    assert!(is_not_found(
        &r.code_vacancy(&f.other_officer, v.id, &CodeRequest { occupation: "2421".into() }).unwrap_err()
    ));
    assert!(matches!(
        r.code_vacancy(&f.officer, v.id, &CodeRequest { occupation: "9999".into() }),
        Err(AppError::Invalid { .. })
    ));
    let coded = r.code_vacancy(&f.officer, v.id, &CodeRequest { occupation: "2421".into() }).unwrap();
    assert_eq!((coded.coding, coded.record.occupation.as_deref()), (CodingState::Confirmed, Some("2421")));
    assert!(r.coding_queue(&f.officer, None, None).unwrap().items.iter().all(|x| x.id != v.id));
    // A clear title is coded without a person.
    let mut clear = posting(&f);
    clear.title = "Водитель автобуса".into();
    clear.occupation = None;
    let bus = r.post_vacancy(&f.officer, &clear).unwrap();
    assert_eq!((bus.coding, bus.record.occupation.as_deref()), (CodingState::Auto, Some("8331")), "{:?}", bus.record);

    // Job seekers: an officer reports its own region only; bad rows are all named.
    let seekers = |region: &str, occupation: &str, month: &str, n: i64| SeekerInput {
        region: region.into(),
        occupation: occupation.into(),
        education: "_T".into(),
        month: month.into(),
        seekers: n,
    };
    let report = r
        .put_seekers(
            &f.officer,
            &SeekersRequest {
                source: "centre-shymkent".into(),
                rows: vec![seekers("KZ-79", "7212", "2026-02", 37), seekers("KZ-79", "_T", "2026-02", 5120)],
            },
        )
        .unwrap();
    assert_eq!((report.rows, report.replaced), (2, 0));
    let again = r
        .put_seekers(
            &f.officer,
            &SeekersRequest { source: "centre-shymkent".into(), rows: vec![seekers("KZ-79", "7212", "2026-02", 40)] },
        )
        .unwrap();
    assert_eq!(again.replaced, 1);
    let err = r
        .put_seekers(
            &f.officer,
            &SeekersRequest {
                source: "centre-shymkent".into(),
                rows: vec![
                    seekers("KZ-23", "7212", "2026-02", 3),
                    seekers("KZ-79", "72X", "2026-02", 3),
                    seekers("KZ-79", "7212", "2026-13", 3),
                    seekers("KZ-79", "7212", "2026-01", -1),
                ],
            },
        )
        .unwrap_err()
        .to_string();
    for needle in
        ["row 1, column `region`", "row 2, column `occupation`", "row 3, column `month`", "row 4, column `seekers`"]
    {
        assert!(err.contains(needle), "{needle} not in {err}");
    }
    assert!(matches!(
        r.put_seekers(
            &f.employer_a,
            &SeekersRequest { source: "x".into(), rows: vec![seekers("KZ-79", "_T", "2026-02", 1)] }
        ),
        Err(AppError::Forbidden(_))
    ));
}

/// The whole chain: a portal's page and a centre's export in, repeats joined, titles coded,
/// indicators, a shortage list adopted, and two permit applications decided by it: one for an
/// occupation in demand passes the labour-market test, one for an occupation with many local
/// seekers and few vacancies is refused with the reason.
fn shortage_list_decides_the_labour_market_test(backend: Backend) {
    let f = fixture(backend, 10);
    let r = f.registry();
    r.import_vacancies(&f.officer, &portal_import(false), &example("portal_shymkent.html")).unwrap();
    r.import_vacancies(&f.officer, &centre_import(), &example("centre_shymkent.csv")).unwrap();
    for day in 1..=10 {
        let mut p = posting(&f);
        p.title = "Программист".into();
        p.occupation = None;
        p.openings = Some(1);
        p.posted = Some(format!("2026-02-{:02}", day + 10));
        let v = r.post_vacancy(&f.employer_a, &p).unwrap();
        assert_eq!(v.record.occupation.as_deref(), Some("2514"), "{:?}", v.record);
    }
    let seekers = [("7212", 400), ("2514", 1), ("8331", 10), ("2411", 50), ("5223", 100), ("2221", 5)];
    r.put_seekers(
        &f.officer,
        &SeekersRequest {
            source: "centre-shymkent".into(),
            // A year earlier the welders registered were half as many; the others as many.
            rows: seekers
                .iter()
                .flat_map(|(o, n)| {
                    let before = if *o == "7212" { n / 2 } else { *n };
                    [("2026-02", *n), ("2025-02", before)].map(|(month, seekers)| SeekerInput {
                        region: "KZ-79".into(),
                        occupation: o.to_string(),
                        education: "_T".into(),
                        month: month.into(),
                        seekers,
                    })
                })
                .collect(),
        },
    )
    .unwrap();
    // Indicators: the welders' row of February 2026 (the centre's repeat not counted twice).
    let demand = r
        .labour_demand(
            &koshi_app::registry::Actor::public(),
            &DemandRequest {
                level: Some(4),
                from: Some("2026-01".into()),
                to: Some("2026-02".into()),
                region: Some("KZ-79".into()),
                occupation: Some("7212".into()),
                ..DemandRequest::default()
            },
        )
        .unwrap();
    let feb = demand.cells.iter().find(|c| c.month == "2026-02").unwrap();
    assert_eq!((feb.stock, feb.inflow, feb.seekers), (2, 2, Some(400)), "{feb:?}");
    assert_eq!(feb.tightness, Some(2.0 / 400.0));
    // The assessment, then the adopted list.
    let request = ShortageRequest { month: Some("2026-02".into()), ..ShortageRequest::default() };
    assert!(matches!(r.adopt_shortage_list(&f.officer, &request), Err(AppError::Forbidden(_))));
    let adopted = r.adopt_shortage_list(&f.admin, &request).unwrap();
    let status_of = |occupation: &str| {
        adopted.assessments.iter().find(|a| a.region == "KZ-79" && a.occupation == occupation).map(|a| a.status)
    };
    use koshi_labour::shortage::Status;
    assert_eq!(status_of("2514"), Some(Status::InDemand), "{:#?}", adopted.assessments);
    assert_eq!(status_of("7212"), Some(Status::NotInDemand), "{:#?}", adopted.assessments);
    let listed = r
        .shortage_list(
            &koshi_app::registry::Actor::public(),
            &ShortageListRequest { occupation: Some("7212".into()), ..ShortageListRequest::default() },
        )
        .unwrap();
    assert_eq!(listed.list.id, adopted.list.unwrap());
    assert_eq!(listed.entries.len(), 1);
    assert_eq!(listed.next_after, None);
    // The whole list, page by page, is the list asked for at once.
    let public = koshi_app::registry::Actor::public();
    let whole = r.shortage_list(&public, &ShortageListRequest::default()).unwrap();
    assert!(whole.entries.len() >= 3 && whole.next_after.is_none(), "{}", whole.entries.len());
    let (mut paged, mut after) = (Vec::new(), None);
    loop {
        let page = r
            .shortage_list(&public, &ShortageListRequest { limit: Some(2), after: after.clone(), ..Default::default() })
            .unwrap();
        assert!(page.entries.len() <= 2);
        paged.extend(page.entries);
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, whole.entries);
    for bad in [
        ShortageListRequest { limit: Some(20_001), ..Default::default() },
        ShortageListRequest { after: Some("KZ-79".into()), ..Default::default() },
    ] {
        assert!(matches!(r.shortage_list(&public, &bad), Err(AppError::Invalid { .. })), "{bad:?}");
    }
    assert!(listed.entries[0]["reasons"]["ru"].as_array().is_some_and(|a| !a.is_empty()));
    // The list published into the bank: by region and major group, recounted from the list.
    assert!(matches!(f.app.publish_shortage_list(&f.officer, None), Err(AppError::Forbidden(_))));
    let publication = f.app.publish_shortage_list(&f.admin, None).unwrap();
    assert_eq!((publication.list, publication.period.as_str()), (adopted.list.unwrap(), "2026-02"));
    let report = f
        .app
        .query(&koshi_app::bank::QueryRequest {
            dataflow: "LAB_SHORTAGE".into(),
            source: Some("KOSHI_VACANCIES".into()),
            ..Default::default()
        })
        .unwrap();
    let koshi_app::bank::Figures::Observations(rows) = report.items else { panic!("observations") };
    let bank: std::collections::BTreeMap<String, f64> =
        rows.into_iter().map(|o| (format!("{}@{}", o.key.join("."), o.time_period), o.value.unwrap())).collect();
    assert_eq!(bank.len(), publication.figures);
    let count = |major: char, status: Status| {
        adopted.assessments.iter().filter(|a| a.occupation.starts_with(major) && a.status == status).count() as f64
    };
    assert_eq!(bank["KZ-79.OC7.OCC_NOT_IN_DEMAND@2026-02"], count('7', Status::NotInDemand));
    assert!(bank["KZ-79.OC7.OCC_NOT_IN_DEMAND@2026-02"] >= 1.0);
    assert_eq!(bank["KZ-79.OC2.OCC_IN_DEMAND@2026-02"], count('2', Status::InDemand));
    assert!(bank["KZ-79.OC2.VAC_IN_DEMAND@2026-02"] >= 11.0, "{bank:?}");
    assert!(bank["KZ-79.OC7.SEEKERS_NOT_IN_DEMAND@2026-02"] >= 400.0, "{bank:?}");
    let all_in_demand = adopted.assessments.iter().filter(|a| a.status == Status::InDemand).count() as f64;
    assert_eq!(bank["KZ-79._T.OCC_IN_DEMAND@2026-02"], all_in_demand);
    // Publishing the same list again changes nothing.
    assert_eq!(f.app.publish_shortage_list(&f.admin, None).unwrap().outcome, "unchanged");
    // Two applications of the same employer, deciding by the list.
    let mut welder = application("KZ-79", "UZ");
    welder.request.occupation = Some("7212".into());
    welder.request.category = "4".into();
    let mut developer = application("KZ-79", "UZ");
    developer.request.occupation = Some("2514".into());
    let welder = r.submit(&f.employer_a, &welder).unwrap();
    let developer = r.submit(&f.employer_a, &developer).unwrap();
    let refused = r.decide(&f.officer, welder.id, &DecideRequest::default()).unwrap();
    assert_eq!(refused.application.status, ApplicationStatus::Refused, "{:#?}", refused.decision.steps);
    assert_eq!(refused.application.grounds, vec!["local_candidates".to_string()]);
    let step = refused.decision.steps.iter().find(|s| s.rule == "LABOUR_MARKET_TEST").unwrap();
    assert!(step.figures.en.contains("400 local job seekers"), "{}", step.figures.en);
    assert!(step.figures.en.contains(&format!("shortage list {}", adopted.list.unwrap())), "{}", step.figures.en);
    let granted = r.decide(&f.officer, developer.id, &DecideRequest::default()).unwrap();
    assert_eq!(granted.application.status, ApplicationStatus::Granted, "{:#?}", granted.decision.steps);
    assert!(
        granted.decision.steps.iter().any(|s| s.rule == "LABOUR_MARKET_TEST" && s.figures.en.contains("in_demand"))
    );
    // An occupation code the classification lacks is refused at submission.
    let mut unknown = application("KZ-79", "UZ");
    unknown.request.occupation = Some("9999".into());
    assert!(matches!(r.submit(&f.employer_a, &unknown), Err(AppError::Invalid { .. })));
}

/// Internal-migration coordination: the Bureau's 2022 and 2023 internal migration in the bank,
/// vacancies and seekers of one month in three regions; the surplus region's seekers are sent
/// to the two shortage regions, each receiving its gap, along the modelled routes.
fn coordination_sends_surplus_seekers_where_the_vacancies_are(backend: Backend) {
    use koshi_app::coordination::CoordinationRequest;
    use koshi_app::load::IngestRequest;
    let f = fixture(backend, 10);
    let r = f.registry();
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/kazakhstan");
    let mappings = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/bundled/mappings");
    for year in [2022, 2023] {
        let request = IngestRequest {
            file: format!("{shared}/internal_migration_{year}.csv").into(),
            mapping: Some(format!("{mappings}/kz_internal_migration_{year}.toml").into()),
            structure: None,
            allow_defects: false,
            dry_run: false,
        };
        f.app.ingest(&request, &mut |_| {}).unwrap();
    }
    // Welders (major group 7): Shymkent has 60 seekers and 10 vacancies; Atyrau and Almaty have
    // vacancies no seeker takes (30 and 20).
    let post = |region: &str, openings: u32| {
        let mut p = posting(&f);
        p.region = region.into();
        p.openings = Some(openings);
        p.posted = Some("2026-02-02".into());
        p
    };
    r.post_vacancy(&f.officer, &post("KZ-79", 10)).unwrap();
    r.post_vacancy(&f.other_officer, &post("KZ-23", 30)).unwrap();
    r.post_vacancy(&f.admin, &post("KZ-75", 20)).unwrap();
    let seekers = |region: &str, n: i64| SeekerInput {
        region: region.into(),
        occupation: "7".into(),
        education: "_T".into(),
        month: "2026-02".into(),
        seekers: n,
    };
    r.put_seekers(
        &f.admin,
        &SeekersRequest {
            source: "centres".into(),
            rows: vec![seekers("KZ-79", 60), seekers("KZ-23", 0), seekers("KZ-75", 0)],
        },
    )
    .unwrap();
    let report = f
        .app
        .coordination(&CoordinationRequest { month: "2026-02".into(), decay: Some(1.2), ..Default::default() })
        .unwrap();
    assert_eq!(report.flows_year, "2023");
    assert_eq!(report.decay.from, "given");
    let welders = report.occupations.iter().find(|o| o.occupation == "7").unwrap();
    assert!((welders.movers - 50.0).abs() < 1e-6, "{welders:#?}");
    assert!((welders.surplus_left).abs() < 1e-6 && (welders.gap_left).abs() < 1e-6);
    let to = |region: &str| welders.routes.iter().filter(|m| m.to == region).map(|m| m.persons).sum::<f64>();
    assert!((to("KZ-23") - 30.0).abs() < 1e-6 && (to("KZ-75") - 20.0).abs() < 1e-6, "{:?}", welders.routes);
    assert!(welders.routes.iter().all(|m| m.from == "KZ-79" && m.modelled_moves > 0.0));
    assert!(report.cost.is_none());
    // A year without every region's figures is refused, naming the regions.
    let err = f
        .app
        .coordination(&CoordinationRequest {
            month: "2026-02".into(),
            flows_year: Some("2019".into()),
            decay: Some(1.2),
            ..Default::default()
        })
        .unwrap_err();
    assert!(err.to_string().contains("KZ-10"), "{err}");
    // A package's amounts must be sums of money with a source; anything else is refused by name.
    let package = koshi_app::coordination::Package {
        currency: "KZT".into(),
        transport: 100_000.0,
        housing_per_month: 80_000.0,
        housing_months: 6.0,
        microcredit: 500_000.0,
        source: "a programme's rules".into(),
    };
    let ask = |package: koshi_app::coordination::Package| {
        f.app.coordination(&CoordinationRequest {
            month: "2026-02".into(),
            decay: Some(1.2),
            package: Some(package),
            ..Default::default()
        })
    };
    let costed = ask(package.clone()).unwrap();
    let cost = costed.cost.unwrap();
    assert!((cost.total - costed.movers * (100_000.0 + 6.0 * 80_000.0 + 500_000.0)).abs() < 1e-6, "{cost:?}");
    for (bad, field) in [
        (koshi_app::coordination::Package { transport: f64::NAN, ..package.clone() }, "transport"),
        (koshi_app::coordination::Package { housing_months: -1.0, ..package.clone() }, "housing_months"),
        (koshi_app::coordination::Package { source: " ".into(), ..package.clone() }, "package_source"),
        (koshi_app::coordination::Package { currency: "tenge".into(), ..package.clone() }, "currency"),
    ] {
        match ask(bad) {
            Err(AppError::Invalid { field: named, .. }) => assert_eq!(named, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name(super::Backend::Sqlite) })*
        }
        mod postgres {
            $(#[test] fn $name() { super::$name(super::Backend::Postgres) })*
        }
    };
}

/// The indicators read monthly sums that every vacancy write keeps; they must agree, cell by
/// cell, with the indicators computed from the vacancies themselves after postings, imports with
/// a repeat, a fill, a close, a snapshot's disappearance, a change of openings and a recoding; and
/// a registry from before the sums gets them when it is opened.
fn monthly_sums_follow_every_change(backend: Backend) {
    use koshi_labour::demand::{DemandConfig, Month, Spell, indicators};
    use koshi_labour::vacancy::{Date, IscoCode, Region};
    let f = fixture(backend, 10);
    let r = f.registry();
    r.import_vacancies(&f.officer, &portal_import(false), &example("portal_shymkent.html")).unwrap();
    r.import_vacancies(&f.officer, &centre_import(), &example("centre_shymkent.csv")).unwrap();
    let mut posted = Vec::new();
    for (month, occupation, openings) in [("2025-11", "7212", 3), ("2025-12", "2221", 1), ("2026-01", "7212", 2)] {
        let mut p = posting(&f);
        p.posted = Some(format!("{month}-15"));
        p.occupation = Some(occupation.into());
        p.openings = Some(openings);
        p.title = format!("Вакансия {month} {occupation}");
        posted.push(r.post_vacancy(&f.employer_a, &p).unwrap());
    }
    let change = |status, as_of: &str| VacancyChange {
        status: Some(status),
        as_of: Some(as_of.into()),
        ..VacancyChange::default()
    };
    r.change_vacancy(&f.officer, posted[0].id, &change(VacancyStatus::Filled, "2026-01-10")).unwrap();
    r.change_vacancy(&f.employer_a, posted[1].id, &change(VacancyStatus::Closed, "2025-12-31")).unwrap();
    let more = VacancyChange { openings: Some(5), ..VacancyChange::default() };
    r.change_vacancy(&f.employer_a, posted[2].id, &more).unwrap();
    r.code_vacancy(&f.officer, posted[2].id, &CodeRequest { occupation: "7213".into() }).unwrap();
    let mut snapshot = portal_import(true);
    snapshot.as_of = Some("2026-03-01".into());
    r.import_vacancies(&f.officer, &snapshot, b"<html></html>").unwrap();

    // The indicators from the vacancies as anyone can list them.
    let listed = all(&f, VacancySearch { limit: Some(500), ..Default::default() });
    assert!(listed.len() >= 9, "{}", listed.len());
    let spells: Vec<Spell> = listed
        .iter()
        .filter_map(|v| {
            let rec = &v.record;
            let day = |d: &str| Date::parse(d).unwrap();
            Some(Spell {
                region: Region::from_code(&rec.region).unwrap(),
                occupation: IscoCode::parse(rec.occupation.as_deref()?).unwrap(),
                posted: day(&rec.posted),
                ended: rec.filled.as_deref().or(rec.closed.as_deref()).map(day),
                filled: v.status == VacancyStatus::Filled,
                openings: rec.openings,
            })
        })
        .collect();
    assert!(spells.iter().any(|s| s.ended.is_some()) && spells.iter().any(|s| s.ended.is_none()));
    let config =
        DemandConfig { level: 4, from: Month::parse("2025-12").unwrap(), to: Month::parse("2026-03").unwrap() };
    let expected = indicators(&spells, &[], &config).unwrap().value;
    let request = DemandRequest {
        level: Some(4),
        from: Some("2025-12".into()),
        to: Some("2026-03".into()),
        ..DemandRequest::default()
    };
    let key = |c: &koshi_app::registry::DemandCellView| {
        format!(
            "{} {} {} stock {} in {} out {} hires {} days {:?}",
            c.region, c.occupation, c.month, c.stock, c.inflow, c.outflow, c.hires, c.mean_duration_days
        )
    };
    let want: Vec<String> = expected
        .cells()
        .map(|c| {
            format!(
                "{} {} {} stock {} in {} out {} hires {} days {:?}",
                c.region.as_str(),
                c.occupation,
                c.month,
                c.stock,
                c.inflow,
                c.outflow,
                c.hires,
                c.mean_duration_days
            )
        })
        .collect();
    let operator = koshi_app::registry::Actor::operator();
    let got = r.labour_demand(&operator, &request).unwrap();
    assert_eq!(got.cells.iter().map(key).collect::<Vec<_>>(), want);
    assert_eq!(got.vacancies, listed.len());
    // The recoded vacancy counts under its new code only; the filled welder's opening stock and
    // its hire are there.
    let welders = |month: &str, code: &str| {
        got.cells.iter().find(|c| c.region == "KZ-79" && c.occupation == code && c.month == month).unwrap().clone()
    };
    assert!(got.cells.iter().all(|c| !(c.occupation == "7212" && c.month == "2026-01" && c.inflow > 0)));
    assert_eq!(welders("2026-01", "7213").inflow, 5);
    assert!(welders("2026-01", "7212").hires >= 3);

    // Paging: the same cells, page by page, and a page larger than allowed is refused.
    let public = koshi_app::registry::Actor::public();
    let mut paged = Vec::new();
    let mut offset = Some(0);
    while let Some(at) = offset {
        let page =
            r.labour_demand(&public, &DemandRequest { offset: Some(at), limit: Some(100), ..request.clone() }).unwrap();
        assert_eq!(page.total_cells, want.len());
        paged.extend(page.cells.iter().map(key));
        offset = page.next_offset;
    }
    assert_eq!(paged, want);
    let too_many = DemandRequest { limit: Some(50_001), ..request.clone() };
    assert!(matches!(r.labour_demand(&public, &too_many), Err(AppError::Invalid { .. })));

    // A registry from before the monthly sums: they are computed when it is opened.
    match &f.location {
        koshi_registry::Location::Sqlite(path) => {
            let db = rusqlite::Connection::open(path).unwrap();
            db.execute_batch(
                "DELETE FROM vacancy_month; UPDATE registry_meta SET value = '2' WHERE key = 'schema_version'; \
                 DROP INDEX vacancy_by_employer_bin; DROP INDEX vacancy_by_employer_name; \
                 ALTER TABLE vacancy DROP COLUMN employer_bin; ALTER TABLE vacancy DROP COLUMN employer_name;",
            )
            .unwrap();
        }
        koshi_registry::Location::Postgres(url) => {
            let mut db = ::postgres::Client::connect(url, ::postgres::NoTls).unwrap();
            db.batch_execute(
                "SELECT set_config('koshi.role', 'system', false); DELETE FROM vacancy_month; \
                 UPDATE registry_meta SET value = '2' WHERE key = 'schema_version'; \
                 UPDATE vacancy SET employer_bin = NULL, employer_name = NULL",
            )
            .unwrap();
        }
    }
    assert!(r.labour_demand(&operator, &request).unwrap().cells.iter().all(|c| c.inflow == 0 && c.stock == 0));
    let reopened = f.reopen();
    let again = reopened.registry().unwrap().labour_demand(&operator, &request).unwrap();
    assert_eq!(again.cells.iter().map(key).collect::<Vec<_>>(), want);
    // Its vacancies carry no employer keys, yet a new source's posting of one is still found.
    let second = VacancyImport { source: "centre-shymkent-2".into(), ..centre_import() };
    let report =
        reopened.registry().unwrap().import_vacancies(&f.officer, &second, &example("centre_shymkent.csv")).unwrap();
    assert!(report.duplicates >= 1, "{report:?}");
    let every = all(&f, VacancySearch { with_duplicates: true, limit: Some(500), ..Default::default() });
    let id_of = |source: &str, id: &str| every.iter().find(|v| v.record.source == source && v.record.source_id == id);
    let repeats: Vec<(&str, Option<i64>)> = every
        .iter()
        .filter(|v| v.record.source == "centre-shymkent-2" && v.duplicate_of.is_some())
        .map(|v| (v.record.source_id.as_str(), v.duplicate_of))
        .collect();
    assert_eq!(repeats.len(), report.duplicates, "{repeats:?}");
    for (source_id, target) in repeats {
        assert_eq!(target, id_of("centre-shymkent", source_id).map(|v| v.id), "{source_id}");
    }
}

on_both!(
    entered_and_changed,
    imported_joined_and_closed,
    bad_rows_all_named_nothing_written,
    coding_queue_and_seekers,
    shortage_list_decides_the_labour_market_test,
    coordination_sends_surplus_seekers_where_the_vacancies_are,
    monthly_sums_follow_every_change,
);

/// A process that wrote to a SQLite registry leaves no write-ahead log behind when it closes it:
/// otherwise the next process would copy the whole log into the database again on its first
/// commit, a cost that grows with every import.
#[test]
fn a_closed_sqlite_registry_leaves_no_write_ahead_log() {
    let f = fixture(Backend::Sqlite, 10);
    let koshi_registry::Location::Sqlite(path) = f.location.clone() else { unreachable!("SQLite") };
    let wal = path.with_file_name("registry.db-wal");
    let app = f.reopen();
    let registry = app.registry().unwrap();
    registry.import_vacancies(&f.officer, &portal_import(false), &example("portal_shymkent.html")).unwrap();
    // A read on one of the read-only connections, so that they have been used too.
    let public = koshi_app::registry::Actor::public();
    assert_eq!(registry.vacancies(&public, &VacancySearch::default()).unwrap().items.len(), 3);
    drop(f.app);
    assert!(std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0), "the log is in use while the registry is open");
    drop(app);
    assert!(!wal.exists(), "{} is left behind", wal.display());
}

/// The coordination's distance decay is the bank's gravity fit's distance elasticity, with its
/// interval, the sign turned.
#[test]
fn the_distance_decay_comes_from_the_bank_s_gravity_fit() {
    use koshi_app::coordination::{GRAVITY_DATA, GRAVITY_FORMULA};
    use koshi_app::gravity::{FitRequest, GravityData, GravityModel};
    let app = super::bundled();
    let decay = app.distance_decay().unwrap();
    let fit = app
        .gravity_fit(&FitRequest::new(GravityModel::new(GRAVITY_FORMULA, GravityData::named(GRAVITY_DATA, None))))
        .unwrap();
    let distance = fit.coefficients.iter().find(|c| c.term == "log(dist)").unwrap();
    assert_eq!(decay.decay, -distance.estimate);
    assert_eq!((decay.ci_low, decay.ci_high), (Some(-distance.ci_high), Some(-distance.ci_low)));
    assert!(decay.decay > 0.3 && decay.decay < 3.0, "{decay:?}");
    assert_eq!(decay.from, "gravity fit");
}
