//! Deduplication: pairwise precision and recall on the labelled sample
//! (`data/labour/vacancies/dedup_sample.csv`) and on synthetic postings, and the method's
//! behaviour. `cargo test -p koshi-labour -- --nocapture dedup` prints the figures.

use std::collections::{BTreeMap, HashMap};

use koshi_labour::dedup::{DedupConfig, Reason, deduplicate, normalise_employer, pairwise_scores, title_similarity};
use koshi_labour::generate::{GeneratorConfig, generate};
use koshi_labour::vacancy::{Bin, Currency, Date, IscoCode, PayPeriod, Region, Vacancy, Wage};

use crate::coder;

const SAMPLE: &str = include_str!("../../../../data/labour/vacancies/dedup_sample.csv");

struct Labelled {
    group: String,
    case: String,
    vacancy: Vacancy,
}

fn opt(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

fn sample() -> Vec<Labelled> {
    let mut rdr = csv::Reader::from_reader(SAMPLE.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let c: HashMap<&str, usize> = [
        "group",
        "case",
        "source",
        "source_id",
        "title",
        "employer",
        "employer_bin",
        "region",
        "settlement",
        "posted",
        "valid_through",
        "filled",
        "closed",
        "wage_min",
        "wage_max",
        "period",
        "openings",
        "isco",
    ]
    .into_iter()
    .map(|n| (n, col(n)))
    .collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let f = |n: &str| &r[c[n]];
            let date = |n: &str| opt(f(n)).map(|d| Date::parse(d).unwrap());
            let mut v = Vacancy::new(f("source"), f("source_id"), f("title"), date("posted").unwrap()).unwrap();
            v.employer.name = opt(f("employer")).map(str::to_string);
            v.employer.bin = opt(f("employer_bin")).map(|b| Bin::parse(b).unwrap());
            v.region = opt(f("region")).map(str::to_string);
            v.settlement = opt(f("settlement")).map(str::to_string);
            v.region_code = v.region.as_deref().and_then(Region::resolve);
            v.valid_through = date("valid_through");
            v.filled = date("filled");
            v.closed = date("closed");
            let amount = |n: &str| opt(f(n)).map(|x| x.parse::<f64>().unwrap());
            if amount("wage_min").is_some() || amount("wage_max").is_some() {
                let period = opt(f("period")).and_then(PayPeriod::parse);
                v.wage = Some(Wage::new(amount("wage_min"), amount("wage_max"), Some(Currency::KZT), period).unwrap());
            }
            v.openings = opt(f("openings")).map(|x| x.parse().unwrap());
            v.occupation = opt(f("isco")).map(|x| IscoCode::parse(x).unwrap());
            Labelled { group: f("group").to_string(), case: f("case").to_string(), vacancy: v }
        })
        .collect()
}

/// Per case: true pairs found and missed, and false pairs made.
fn by_case(rows: &[Labelled], representative: &[usize]) -> BTreeMap<String, (usize, usize, usize)> {
    let mut table: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for row in rows {
        table.entry(row.case.clone()).or_default();
    }
    for i in 0..rows.len() {
        for j in i + 1..rows.len() {
            let truth = rows[i].group == rows[j].group;
            let predicted = representative[i] == representative[j];
            let entry = table.get_mut(&rows[i].case).unwrap();
            match (truth, predicted) {
                (true, true) => entry.0 += 1,
                (true, false) => {
                    entry.1 += 1;
                    println!(
                        "  missed pair: {} {:?} ~ {:?} ({})",
                        rows[i].group, rows[i].vacancy.title, rows[j].vacancy.title, rows[i].case
                    );
                }
                (false, true) => {
                    entry.2 += 1;
                    println!(
                        "  false pair: {} {:?} ({}) ~ {} {:?} ({})",
                        rows[i].group,
                        rows[i].vacancy.title,
                        rows[i].case,
                        rows[j].group,
                        rows[j].vacancy.title,
                        rows[j].case
                    );
                }
                (false, false) => {}
            }
        }
    }
    table
}

fn report(name: &str, rows: &[Labelled], config: &DedupConfig) -> (f64, f64) {
    let postings: Vec<Vacancy> = rows.iter().map(|r| r.vacancy.clone()).collect();
    let dedup = deduplicate(&postings, config);
    let labels: Vec<&str> = rows.iter().map(|r| r.group.as_str()).collect();
    let scores = pairwise_scores(&labels, &dedup.representative);
    println!(
        "\n{name}: {} postings, {} vacancies labelled, {} found",
        rows.len(),
        {
            let mut g: Vec<&str> = labels.clone();
            g.sort_unstable();
            g.dedup();
            g.len()
        },
        dedup.unique()
    );
    println!(
        "pairs: true {}, predicted {}, correct {}; precision {:.3}, recall {:.3}, F1 {:.3}",
        scores.true_pairs,
        scores.predicted_pairs,
        scores.correct_pairs,
        scores.precision(),
        scores.recall(),
        scores.f1()
    );
    println!("{:<30} {:>6} {:>6} {:>6}", "case", "found", "missed", "false");
    for (case, (found, missed, wrong)) in by_case(rows, &dedup.representative) {
        println!("{case:<30} {found:>6} {missed:>6} {wrong:>6}");
    }
    (scores.precision(), scores.recall())
}

#[test]
fn dedup_precision_and_recall_on_the_labelled_sample() {
    let rows = sample();
    assert!(rows.len() >= 300, "{} rows", rows.len());
    let config = DedupConfig::default();
    let (precision, recall) = report("labelled sample, codes as the sources give them", &rows, &config);
    assert!(precision >= 0.97, "precision {precision:.3}");
    assert!(recall >= 0.90, "recall {recall:.3}");

    // The pipeline as it will run: the coder fills the codes the sources leave out (accepted
    // codings only).
    let coded: Vec<Labelled> = rows
        .into_iter()
        .map(|mut r| {
            if r.vacancy.occupation.is_none() {
                let coding = coder().code(&r.vacancy.title);
                if !coding.needs_review {
                    r.vacancy.occupation = coding.code.as_deref().and_then(|c| IscoCode::parse(c).ok());
                }
            }
            r
        })
        .collect();
    let (precision, recall) = report("labelled sample, missing codes filled by the coder", &coded, &config);
    assert!(precision >= 0.97, "precision {precision:.3}");
    assert!(recall >= 0.93, "recall {recall:.3}");
}

#[test]
fn dedup_precision_and_recall_on_synthetic_postings() {
    let records: Vec<_> = generate(GeneratorConfig { seed: 11, ..GeneratorConfig::default() }).take(30_000).collect();
    let postings: Vec<Vacancy> = records.iter().map(|s| s.vacancy.clone()).collect();
    let labels: Vec<u64> = records.iter().map(|s| s.vacancy_id).collect();
    let dedup = deduplicate(&postings, &DedupConfig::default());
    let scores = pairwise_scores(&labels, &dedup.representative);
    println!(
        "\nsynthetic postings: {} postings, {} vacancies, {} found; pairs true {}, predicted {}, correct {}; \
         precision {:.3}, recall {:.3}",
        postings.len(),
        {
            let mut l = labels.clone();
            l.sort_unstable();
            l.dedup();
            l.len()
        },
        dedup.unique(),
        scores.true_pairs,
        scores.predicted_pairs,
        scores.correct_pairs,
        scores.precision(),
        scores.recall()
    );
    // How each kind of copy fared: joined to the vacancy's first posting or not.
    let mut first_of: HashMap<u64, usize> = HashMap::new();
    let mut by_origin: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (i, s) in records.iter().enumerate() {
        let first = *first_of.entry(s.vacancy_id).or_insert(i);
        if first != i {
            let entry = by_origin.entry(format!("{:?}", s.origin)).or_default();
            entry.0 += 1;
            entry.1 += (dedup.representative[i] == dedup.representative[first]) as usize;
        }
    }
    for (origin, (n, joined)) in by_origin {
        println!("  {origin:<12} {n:>6} copies, {:.1} % joined to their vacancy", 100.0 * joined as f64 / n as f64);
    }
    assert!(scores.precision() >= 0.97, "{scores:?}");
    assert!(scores.recall() >= 0.77, "{scores:?}");
}

fn posting(source: &str, id: &str, title: &str, employer: &str, posted: &str) -> Vacancy {
    let mut v = Vacancy::new(source, id, title, Date::parse(posted).unwrap()).unwrap();
    v.employer.name = Some(employer.to_string());
    v.region = Some("г. Алматы".to_string());
    v
}

#[test]
fn titles_and_employers_are_compared_normalised() {
    assert_eq!(title_similarity("Продавец-консультант", "продавец консультант"), 1.0);
    assert_eq!(title_similarity("Продавца-консультанта", "Консультант-продавец"), 1.0);
    assert!(title_similarity("Продавец-консультант", "Продавец консультант в магазин одежды") >= 0.6);
    assert!(title_similarity("Учитель математики", "Учитель физики") < 0.6);
    assert!(title_similarity("Водитель категории С", "Водитель категории Е") < 0.6);
    assert!(title_similarity("Повар", "Бухгалтер") == 0.0);
    assert_eq!(title_similarity("", "Повар"), 0.0);
    assert_eq!(normalise_employer("ТОО «Алтын-Строй»"), normalise_employer("Алтын Строй, TOO"));
    assert_eq!(normalise_employer("ТОО \"БАТЫС ЭНЕРГО\""), normalise_employer("Батыс Энерго ТОО"));
    assert_eq!(
        normalise_employer("ГКП на ПХВ «Городская поликлиника №5»"),
        normalise_employer("Городская поликлиника №5")
    );
    assert_ne!(normalise_employer("ТОО «Жулдыз Маркет»"), normalise_employer("ТОО «Жулдыз Строй»"));
}

#[test]
fn clusters_have_a_representative_and_a_reason_for_each_member() {
    let mut a = posting("national-portal", "1", "Повар", "ТОО «Самал Фуд»", "2024-03-01");
    a.valid_through = Some(Date::parse("2024-03-31").unwrap());
    let b = posting("private-portal", "9", "Повар", "Самал Фуд ТОО", "2024-03-01");
    let c = posting("national-portal", "2", "Повар горячего цеха", "ТОО «Самал Фуд»", "2024-04-03");
    let mut d = posting("national-portal", "1", "Повар", "ТОО «Самал Фуд»", "2024-03-01");
    d.valid_through = a.valid_through;
    let other = posting("national-portal", "3", "Повар", "ТОО «Гранд Фуд»", "2024-03-01");
    let dedup = deduplicate(&[a, b, c, d, other], &DedupConfig::default());
    assert_eq!(dedup.representative, [0, 0, 0, 0, 4]);
    assert_eq!((dedup.unique(), dedup.duplicates()), (2, 3));
    let [cluster] = dedup.clusters.as_slice() else { panic!("{:?}", dedup.clusters) };
    assert_eq!(cluster.representative, 0);
    let links: Vec<_> = cluster.members.iter().map(|m| m.link.as_ref().map(|l| (l.with, l.reason.clone()))).collect();
    assert_eq!(links[0], None);
    assert_eq!(links[1], Some((0, Reason::ExactKey)));
    assert!(matches!(links[2], Some((_, Reason::Repost { days_after_expiry: 3, .. }))), "{:?}", links[2]);
    assert_eq!(links[3], Some((0, Reason::SameSourceId)));
}

#[test]
fn filled_vacancies_different_wages_and_other_regions_stay_apart() {
    let mut a = posting("national-portal", "1", "Водитель", "ТОО «Тениз Транс»", "2024-07-01");
    a.filled = Some(Date::parse("2024-07-08").unwrap());
    let b = posting("national-portal", "2", "Водитель", "ТОО «Тениз Транс»", "2024-07-15");
    let dedup = deduplicate(&[a, b], &DedupConfig::default());
    assert_eq!(dedup.unique(), 2);

    let wage = |x: f64| Some(Wage::new(Some(x), Some(x), Some(Currency::KZT), Some(PayPeriod::Month)).unwrap());
    let mut a = posting("national-portal", "1", "Программист", "ТОО «Мерей»", "2024-03-11");
    a.wage = wage(400_000.0);
    let mut b = posting("private-portal", "2", "Программист", "ТОО «Мерей»", "2024-03-11");
    b.wage = wage(900_000.0);
    let mut c = posting("private-portal", "3", "Программист", "ТОО «Мерей»", "2024-03-11");
    c.region = Some("Астана".into());
    let dedup = deduplicate(&[a, b, c], &DedupConfig::default());
    assert_eq!(dedup.unique(), 3);

    // The same vacancy in Kazakh and Russian: joined by the unit group, the date and the wage.
    let mut kk = posting("national-portal", "1", "Сатушы-кеңесші", "ТОО «Коктем»", "2024-03-11");
    let mut ru = posting("employment-centre", "2", "Продавец-консультант", "ТОО «Коктем»", "2024-03-12");
    for v in [&mut kk, &mut ru] {
        v.occupation = Some(IscoCode::parse("5223").unwrap());
        v.wage = wage(180_000.0);
    }
    let dedup = deduplicate(&[kk.clone(), ru.clone()], &DedupConfig::default());
    assert_eq!(dedup.unique(), 1);
    assert!(matches!(dedup.clusters[0].members[1].link.as_ref().unwrap().reason, Reason::Reworded { days_apart: 1 }));
    ru.occupation = None;
    assert_eq!(deduplicate(&[kk, ru], &DedupConfig::default()).unique(), 2);
}

#[test]
fn deduplication_does_not_depend_on_input_order() {
    let rows = sample();
    let postings: Vec<Vacancy> = rows.iter().map(|r| r.vacancy.clone()).collect();
    let forward = deduplicate(&postings, &DedupConfig::default());
    assert_eq!(deduplicate(&postings, &DedupConfig::default()), forward, "deterministic");
    let reversed: Vec<Vacancy> = postings.iter().rev().cloned().collect();
    let backward = deduplicate(&reversed, &DedupConfig::default());
    let n = postings.len();
    // The same partition: two postings share a cluster in one order iff they do in the other.
    for i in 0..n {
        for j in i + 1..n {
            let same_forward = forward.representative[i] == forward.representative[j];
            let same_backward = backward.representative[n - 1 - i] == backward.representative[n - 1 - j];
            assert_eq!(same_forward, same_backward, "{} / {}", postings[i].title, postings[j].title);
        }
    }
}
