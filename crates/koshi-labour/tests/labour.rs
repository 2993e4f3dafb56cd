//! Tests of koshi-labour: the ISCO-08 structure and its translated titles, the coder's behaviour,
//! and the coder's accuracy on the labelled sample of job titles.

#[path = "labour/accuracy.rs"]
mod accuracy;
#[path = "labour/coding.rs"]
mod coding;
#[path = "labour/coordination.rs"]
mod coordination;
#[path = "labour/dedup.rs"]
mod dedup;
#[path = "labour/demand.rs"]
mod demand;
#[path = "labour/generate.rs"]
mod generate;
#[path = "labour/jsonld.rs"]
mod jsonld;
#[path = "labour/shortage.rs"]
mod shortage;
#[path = "labour/structure.rs"]
mod structure;
#[path = "labour/vacancy.rs"]
mod vacancy;

use std::sync::OnceLock;

use koshi_labour::Coder;

/// The bundled coder, built once for all tests.
pub fn coder() -> &'static Coder {
    static CODER: OnceLock<Coder> = OnceLock::new();
    CODER.get_or_init(|| {
        let parsed = Coder::bundled().expect("bundled data parse");
        assert!(parsed.diagnostics.is_empty(), "bundled data have problems: {:#?}", parsed.diagnostics);
        parsed.value
    })
}
