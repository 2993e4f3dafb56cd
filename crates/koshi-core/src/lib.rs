//! The pure domain core of koshi: what a dataflow, a code, an observation, a release and a
//! defect are; how printed numbers and series keys read; which identities and plausibility
//! rules hold; how the harmonised view is chosen; the indicator formulas; the Russian and Kazakh
//! renderings of the texts shown with the figures. Nothing here touches files, databases or the
//! network: the other crates bring data in and out.

pub mod catalogue;
pub mod codelist;
pub mod date;
pub mod geography;
pub mod indicators;
pub mod key;
pub mod monitor;
pub mod number;
pub mod observation;
pub mod reconcile;
pub mod structure;
pub mod translations;
pub mod validate;

pub use catalogue::Catalogue;
pub use codelist::{Codelist, Labels, Lang};
pub use date::Date;
pub use geography::Geography;
pub use key::{KeyError, KeyFilter};
pub use observation::{ObsStatus, Observation, Text};
pub use translations::Translations;
