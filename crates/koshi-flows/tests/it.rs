//! Acceptance tests for koshi-flows (one binary; modules below).

mod it {
    pub mod korea;
    pub mod migest_examples;
    pub mod properties;
    pub mod world;
}
