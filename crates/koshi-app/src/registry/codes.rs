//! The registry's codes checked against the bank's code lists, so that no application, quota
//! cell, employer or officer names a region or citizenship the bank (and so the published
//! figures) cannot know.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use koshi_core::{Catalogue, Date};

use crate::error::{AppError, Result};

struct Known {
    /// ISO 3166-1 alpha-2 codes of countries.
    alpha2: BTreeSet<String>,
    /// Kazakhstan's regions and cities of republican significance, with their validity.
    regions: Vec<(String, Option<Date>, Option<Date>)>,
}

fn known() -> Result<&'static Known> {
    static KNOWN: OnceLock<std::result::Result<Known, String>> = OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        let catalogue = Catalogue::standard().map_err(|e| e.to_string())?;
        let area = catalogue.codelist("AREA").ok_or("the standard catalogue has no AREA code list")?;
        let kind = |c: &koshi_core::codelist::Code| c.properties.get("kind").cloned().unwrap_or_default();
        Ok(Known {
            alpha2: area
                .codes
                .iter()
                .filter(|c| kind(c) == "country")
                .filter_map(|c| c.properties.get("alpha2").filter(|a| !a.is_empty()).cloned())
                .collect(),
            regions: area
                .codes
                .iter()
                .filter(|c| kind(c).starts_with("kz_"))
                .map(|c| (c.id.clone(), c.valid_from, c.valid_to))
                .collect(),
        })
    });
    known.as_ref().map_err(|e| AppError::Unanswerable(format!("the code lists do not read: {e}")))
}

/// A citizenship: an ISO 3166-1 alpha-2 code of a country.
pub(crate) fn check_citizenship(field: &str, code: &str) -> Result<()> {
    if known()?.alpha2.contains(code) {
        return Ok(());
    }
    Err(AppError::invalid(field, format!("`{code}` is not an ISO 3166-1 alpha-2 country code (such as CN or UZ)")))
}

/// A region of Kazakhstan (`KZ-75`) that existed on some day from `first` to `last`; `*` (any
/// region) where `wildcard`.
pub(crate) fn check_region(field: &str, code: &str, (first, last): (Date, Date), wildcard: bool) -> Result<()> {
    if wildcard && code == "*" {
        return Ok(());
    }
    let regions = &known()?.regions;
    let when = if first == last { format!("on {first}") } else { format!("between {first} and {last}") };
    match regions.iter().find(|(id, _, _)| id == code) {
        Some((_, from, to)) if from.is_none_or(|f| f <= last) && to.is_none_or(|t| first <= t) => Ok(()),
        Some((_, from, to)) => Err(AppError::invalid(
            field,
            format!(
                "the region `{code}` did not exist {when} (valid {} to {})",
                from.map_or("before any data".to_string(), |d| d.to_string()),
                to.map_or("today".to_string(), |d| d.to_string())
            ),
        )),
        None => Err(AppError::invalid(
            field,
            format!("`{code}` is not a region of Kazakhstan (an ISO 3166-2:KZ code such as KZ-75)"),
        )),
    }
}
