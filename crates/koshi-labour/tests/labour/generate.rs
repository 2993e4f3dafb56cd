//! The synthetic generator: reproducible, shaped as configured, streaming.

use std::collections::HashMap;
use std::time::Instant;

use koshi_labour::Lang;
use koshi_labour::generate::{
    GeneratorConfig, Origin, Rng, Sector, expected_region_shares, generate, occupation_shares, sector_of, titles,
};
use koshi_labour::vacancy::{Bin, Region, Vacancy};

use crate::coder;

#[test]
fn the_same_seed_gives_the_same_postings() {
    let config = GeneratorConfig { seed: 42, ..GeneratorConfig::default() };
    let a: Vec<_> = generate(config.clone()).take(3000).collect();
    let b: Vec<_> = generate(config).take(3000).collect();
    assert_eq!(a, b);
    let c: Vec<_> = generate(GeneratorConfig { seed: 43, ..GeneratorConfig::default() }).take(3000).collect();
    assert_ne!(a, c);
    // The random numbers themselves are fixed by the seed, on every platform.
    let mut rng = Rng::new(1);
    let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
    let mut again = Rng::new(1);
    assert_eq!(first, (0..3).map(|_| again.next_u64()).collect::<Vec<_>>());
    let mut rng = Rng::new(7);
    let mean = (0..100_000).map(|_| rng.uniform()).sum::<f64>() / 100_000.0;
    assert!((mean - 0.5).abs() < 0.01, "{mean}");
}

#[test]
fn postings_have_the_configured_shapes() {
    let config = GeneratorConfig::default();
    let n = 200_000;
    let mut origins: HashMap<Origin, usize> = HashMap::new();
    let mut regions: HashMap<Region, usize> = HashMap::new();
    let mut codes: HashMap<String, usize> = HashMap::new();
    let mut construction_by_month = [0usize; 12];
    let mut agriculture_by_month = [0usize; 12];
    let mut kazakh = 0usize;
    for s in generate(config.clone()).take(n) {
        *origins.entry(s.origin).or_default() += 1;
        if s.origin != Origin::Original {
            continue;
        }
        let v = &s.vacancy;
        *regions.entry(v.region_code.unwrap()).or_default() += 1;
        let code = v.occupation.unwrap_or_else(|| occupation_of(v));
        *codes.entry(code.as_str().to_string()).or_default() += 1;
        let month = v.posted.month() as usize - 1;
        match sector_of(code) {
            Some(Sector::Construction) => construction_by_month[month] += 1,
            Some(Sector::Agriculture) => agriculture_by_month[month] += 1,
            _ => {}
        }
        kazakh += (s.language == Lang::Kk) as usize;
        assert_eq!(v.posted.year(), config.first_year);
    }
    let originals = origins[&Origin::Original] as f64;
    let share = |o: Origin| origins.get(&o).copied().unwrap_or(0) as f64 / originals;
    let cross = share(Origin::CrossPost);
    let renewed = share(Origin::Repost) + share(Origin::Readvertised);
    println!(
        "\n{n} synthetic postings: {originals} originals; cross-posted {cross:.3} (configured {}), renewed {renewed:.3} \
         (configured {} of those not filled), late renewals {:.3} of renewals; Kazakh titles {:.3}",
        config.cross_post_share,
        config.repost_share,
        share(Origin::Readvertised) / renewed,
        kazakh as f64 / originals
    );
    assert!((cross - config.cross_post_share).abs() < 0.01, "{cross}");
    // Filled vacancies (about 30 %) are not renewed.
    assert!(renewed > config.repost_share * 0.6 && renewed < config.repost_share, "{renewed}");
    assert!((share(Origin::Readvertised) / renewed - config.late_repost_share).abs() < 0.03);
    assert!((kazakh as f64 / originals - config.kazakh_share).abs() < 0.01);
    for (region, expected) in expected_region_shares() {
        let got = regions.get(&region).copied().unwrap_or(0) as f64 / originals;
        assert!((got - expected).abs() < 0.006, "{region:?}: {got:.4} vs {expected:.4}");
    }
    assert_eq!(regions.len(), 20);
    // Almaty and Turkestan are the largest, Ulytau the smallest.
    let most = regions.iter().max_by_key(|(_, n)| **n).map(|(r, _)| *r).unwrap();
    assert!(matches!(most, Region::Almaty | Region::Turkestan), "{most:?}");
    assert_eq!(regions.iter().min_by_key(|(_, n)| **n).map(|(r, _)| *r), Some(Region::Ulytau));
    for (code, expected) in occupation_shares() {
        let got = codes.get(code.as_str()).copied().unwrap_or(0) as f64 / originals;
        assert!((got - expected).abs() < 0.004, "{code}: {got:.4} vs {expected:.4}");
    }
    // Construction and agriculture peak in spring and summer.
    assert!(construction_by_month[4] as f64 > 2.5 * construction_by_month[0] as f64, "{construction_by_month:?}");
    assert!(agriculture_by_month[4] as f64 > 4.0 * agriculture_by_month[11] as f64, "{agriculture_by_month:?}");
}

fn occupation_of(v: &Vacancy) -> koshi_labour::vacancy::IscoCode {
    titles().into_iter().find(|(_, t)| *t == v.title).map(|(c, _)| c).unwrap()
}

#[test]
fn a_million_postings_stream_and_are_valid() {
    let started = Instant::now();
    let mut count = 0usize;
    let mut wages = 0usize;
    let mut ids = std::collections::HashSet::new();
    for s in generate(GeneratorConfig { seed: 5, ..GeneratorConfig::default() }).take(1_000_000) {
        count += 1;
        let v = &s.vacancy;
        if count.is_multiple_of(1000) {
            if let Some(bin) = &v.employer.bin {
                assert!(bin.as_str().starts_with("0000") && Bin::parse(bin.as_str()).is_ok());
            }
            assert!(v.inconsistencies().is_empty(), "{v:?}");
            assert_eq!(v.resolved_region(), v.region_code);
            assert_eq!(v.region.as_deref().and_then(Region::resolve), v.region_code, "{:?}", v.region);
            ids.insert((v.source.clone(), v.source_id.clone()));
        }
        wages += v.wage.is_some() as usize;
    }
    assert_eq!(count, 1_000_000);
    assert_eq!(ids.len(), 1000, "source ids are unique");
    assert!((wages as f64 / count as f64 - 0.85).abs() < 0.02);
    println!("\n1,000,000 synthetic postings streamed in {:.1} s (this build)", started.elapsed().as_secs_f64());
}

#[test]
fn generated_occupations_exist_and_their_titles_code_back() {
    let isco = coder().isco();
    let shares = occupation_shares();
    assert!((shares.iter().map(|(_, s)| s).sum::<f64>() - 1.0).abs() < 1e-9);
    for (code, _) in &shares {
        assert!(isco.get(code.as_str()).is_some(), "{code} is not an ISCO-08 unit group");
    }
    let all = titles();
    let agree = all.iter().filter(|(code, title)| coder().code(title).code.as_deref() == Some(code.as_str())).count();
    let share = agree as f64 / all.len() as f64;
    println!(
        "\ngenerator titles coded back to their unit group by the coder: {agree} of {} ({:.1} %)",
        all.len(),
        100.0 * share
    );
    assert!(share >= 0.85, "{share}");
}
