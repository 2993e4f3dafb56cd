//! A weighted selection for a capped number of places (the H-1B registration draw): each entry's
//! chance at every draw is proportional to its weight, drawn without replacement, reproducible
//! from a seed.

use serde::Serialize;

/// A small, well-mixed 64-bit generator (SplitMix64): the same seed gives the same draw on every machine.
#[derive(Debug, Clone)]
pub struct SeededRandom {
    state: u64,
}

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        SeededRandom { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1): never exactly 0, so logarithms stay finite.
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LotteryEntry {
    pub id: String,
    pub weight: f64,
    /// Eligible for the second stage (the advanced-degree places).
    pub second_stage: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LotteryResult {
    /// Selected in the first stage, in the order drawn.
    pub first_stage: Vec<String>,
    /// Selected in the second stage from the eligible entries not selected first.
    pub second_stage: Vec<String>,
    /// Entries skipped because their weight is not a positive finite number.
    pub invalid: Vec<String>,
}

/// Draws `first_cap` entries from all, then `second_cap` from the eligible rest.
///
/// Sampling by exponential keys (key = −ln(u) / weight, the smallest keys win) is the same as drawing
/// one entry at a time with probability proportional to weight among those left.
pub fn draw(entries: &[LotteryEntry], first_cap: usize, second_cap: usize, seed: u64) -> LotteryResult {
    let mut random = SeededRandom::new(seed);
    let mut invalid = Vec::new();
    let mut keyed: Vec<(f64, usize)> = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        if e.weight.is_finite() && e.weight > 0.0 {
            keyed.push((-random.unit().ln() / e.weight, i));
        } else {
            invalid.push(e.id.clone());
        }
    }
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let first: Vec<usize> = keyed.iter().take(first_cap).map(|k| k.1).collect();
    // The key order among the rest is again a weighted draw, so the second stage follows it.
    let second: Vec<usize> =
        keyed.iter().skip(first_cap).filter(|k| entries[k.1].second_stage).take(second_cap).map(|k| k.1).collect();
    LotteryResult {
        first_stage: first.iter().map(|&i| entries[i].id.clone()).collect(),
        second_stage: second.iter().map(|&i| entries[i].id.clone()).collect(),
        invalid,
    }
}
