//! Tests of the rules engine: the test vectors in `tests/vectors/*.toml`, the shipped policies and
//! treaties, quota sizing against the Bureau of National Statistics labour force, the weighted
//! lottery's statistics, and fuzzing of the policy parser.

#[path = "rules/fuzz.rs"]
mod fuzz;
#[path = "rules/lottery.rs"]
mod lottery;
#[path = "rules/policies.rs"]
mod policies;
#[path = "rules/quota.rs"]
mod quota;
#[path = "rules/vectors.rs"]
mod vectors;
