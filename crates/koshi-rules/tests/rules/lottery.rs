//! The weighted H-1B selection: reproducible from a seed, and selection frequencies in proportion
//! to the weights 4/3/2/1 the policy gives the wage levels.

use koshi_rules::{Date, LotteryEntry, draw, shipped_policy};

fn weights_on(date: &str) -> [f64; 4] {
    let policy = shipped_policy("us_h1b").expect("shipped").expect("parses");
    let date: Date = date.parse().expect("date");
    let table = &policy.param("selection_weights", date).expect("weights in force").value;
    [1, 2, 3, 4]
        .map(|level| table.lookup(&[level.to_string()]).and_then(|v| v.as_number()).expect("a weight per level"))
}

fn entries(per_level: usize, weights: [f64; 4]) -> Vec<LotteryEntry> {
    let mut out = Vec::new();
    for (level, weight) in weights.iter().enumerate() {
        for i in 0..per_level {
            out.push(LotteryEntry { id: format!("L{}-{i}", level + 1), weight: *weight, second_stage: i % 3 == 0 });
        }
    }
    out
}

#[test]
fn the_same_seed_draws_the_same_and_another_seed_differs() {
    let all = entries(500, weights_on("2026-03-10"));
    let a = draw(&all, 100, 30, 2027);
    let b = draw(&all, 100, 30, 2027);
    let c = draw(&all, 100, 30, 2028);
    assert_eq!(a, b);
    assert_ne!(a.first_stage, c.first_stage);
    assert_eq!(a.first_stage.len(), 100);
    assert_eq!(a.second_stage.len(), 30);
    // Nobody is selected twice, and the second stage takes only eligible entries.
    for id in &a.second_stage {
        assert!(!a.first_stage.contains(id));
        let index: usize = id.rsplit('-').next().and_then(|n| n.parse().ok()).expect("index");
        assert_eq!(index % 3, 0);
    }
}

#[test]
fn invalid_weights_are_skipped_not_drawn() {
    let mut all = entries(10, [1.0, 2.0, 3.0, 4.0]);
    all.push(LotteryEntry { id: "nan".into(), weight: f64::NAN, second_stage: false });
    all.push(LotteryEntry { id: "zero".into(), weight: 0.0, second_stage: true });
    let result = draw(&all, 1000, 1000, 1);
    assert_eq!(result.invalid, vec!["nan".to_string(), "zero".to_string()]);
    assert_eq!(result.first_stage.len(), 40);
}

/// With few places among many entries, each draw picks a level with probability weight × count /
/// Σ weight × count: 0.4, 0.3, 0.2, 0.1 for equal counts. Chi-squared with 3 degrees of freedom
/// stays below 16.27 (p = 0.001) for a correct draw; reversed or equal weights exceed it by far.
#[test]
fn selection_frequencies_follow_the_weights_4_3_2_1() {
    let weights = weights_on("2026-03-10");
    assert_eq!(weights, [1.0, 2.0, 3.0, 4.0]);
    let all = entries(10_000, weights);
    let mut selected = [0u64; 4];
    let seeds = 50;
    for seed in 0..seeds {
        for id in draw(&all, 200, 0, seed).first_stage {
            let level: usize = id[1..2].parse().expect("level digit");
            selected[level - 1] += 1;
        }
    }
    let total: u64 = selected.iter().sum();
    let weight_sum: f64 = weights.iter().sum();
    let chi2: f64 = (0..4)
        .map(|i| {
            let expected = total as f64 * weights[i] / weight_sum;
            (selected[i] as f64 - expected).powi(2) / expected
        })
        .sum();
    eprintln!("H-1B weighted draw: selected by level I..IV {selected:?} of {total}; chi² = {chi2:.2}");
    assert!(chi2 < 16.27, "selections {selected:?} do not follow 1:2:3:4 (chi² {chi2:.2})");
    for i in 0..4 {
        let share = selected[i] as f64 / total as f64;
        assert!((share - weights[i] / weight_sum).abs() < 0.02, "level {} share {share}", i + 1);
    }
    // Before the weighted rule, equal chances.
    assert_eq!(weights_on("2026-02-26"), [1.0, 1.0, 1.0, 1.0]);
}
