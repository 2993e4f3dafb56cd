//! Occupation coding on ISCO-08 for the regional vacancy database.
//!
//! Kazakhstan has no mechanism for assessing the demand for skilled labour region by region: the
//! vacancies exist as free-text job titles on job portals and in employers' notices, in Russian,
//! Kazakh and English. Counting demand by occupation needs each title on one classification. This
//! crate puts it on ISCO-08, whose codes the national classifier НК РК 01-2017 follows, so regional
//! counts can be compared with each other, with the quota's occupations and with other countries.
//!
//! * [`Isco`]: the four levels of ISCO-08 (10 major, 43 sub-major, 130 minor, 436 unit groups) with
//!   the ILO's English titles, and Russian and Kazakh titles for every major and sub-major group
//!   (and a few more), each with its source.
//! * [`Coder`]: a free-text title to a 4-digit unit group with a confidence in [0, 1], the deepest
//!   level it is sure of and up to three alternatives. Titles are normalised (case, `ё`, mixed
//!   alphabets, abbreviations, licence categories, noise such as "срочно" or "вахта") and stemmed,
//!   then matched against a lexicon of job titles per unit group written by the project and the
//!   ILO titles. A confidence below [`REVIEW_THRESHOLD`] sends the title to the review queue of
//!   the regional officers ([`Coder::triage`]).
//! * [`Vacancy`]: a typed vacancy posting (employer and BIN, region and KATO code, occupation,
//!   requirements, wage normalised to a month, openings, dates); [`jsonld`] reads the schema.org
//!   `JobPosting` JSON-LD that job portals embed in their pages into vacancies with diagnostics;
//!   [`dedup`] joins the postings of one vacancy within and across sources; [`generate`] streams
//!   synthetic Kazakhstan-shaped postings for scale tests.
//!
//! The crate is pure: the data are compiled in, nothing is read from files or the network and no
//! clock is consulted; parsers return their data with diagnostics. Its accuracy on a labelled
//! sample of job titles is measured by the crate's tests and reported in
//! `data/labour/isco08/README.md`; the deduplication's precision and recall on a labelled sample of
//! postings in `data/labour/vacancies/README.md`.

mod coder;
pub mod coordination;
pub mod dedup;
pub mod demand;
mod error;
pub mod generate;
mod isco;
pub mod jsonld;
mod lexicon;
pub mod shortage;
mod text;
pub mod vacancy;

pub use coder::{Alternative, Coder, Coding, REVIEW_THRESHOLD, Triage};
pub use error::{Diagnostic, LabourError, Parsed, Problem};
pub use isco::{Group, Isco, Lang, Level, STRUCTURE_CSV, TITLES_CSV};
pub use lexicon::{Entry, LEXICON_TXT, Lexicon};
pub use text::{detect_language, stems};
pub use vacancy::Vacancy;
