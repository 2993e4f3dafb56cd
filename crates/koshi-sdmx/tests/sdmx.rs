//! Integration tests of the SDMX messages: the official samples and real messages read
//! without loss, koshi's own messages written and read back, and the readers fuzzed.

#[path = "sdmx/csv.rs"]
mod csv;
#[path = "sdmx/json.rs"]
mod json;
#[path = "sdmx/xml.rs"]
mod xml;
