//! The occupation classification, ISCO-08 (which Kazakhstan's НК РК 01-2017 follows code for code),
//! with its titles in English, Russian and Kazakh: for choosing an occupation and reading a
//! vacancy's or a shortage list's codes in the reader's language.

use serde::{Deserialize, Serialize};

use crate::App;
use crate::error::{AppError, Result};

/// Where the classification and its English titles come from.
pub const ISCO_SOURCE: &str = "ISCO-08, International Labour Organization";

/// Which groups to list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OccupationsRequest {
    /// Only groups of this level: ISCO-08 digits, 1 to 4.
    pub level: Option<usize>,
    /// Only this group and the groups inside it (a code of 1 to 4 digits).
    pub under: Option<String>,
    /// Words any of the three titles contains (case does not matter).
    pub q: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OccupationView {
    pub code: String,
    /// Digits: 1 major, 2 sub-major, 3 minor, 4 unit group.
    pub level: usize,
    pub parent: Option<String>,
    pub title_en: String,
    /// `None` where the project has no Russian or Kazakh title of the group yet (every major and
    /// sub-major group has one).
    pub title_ru: Option<String>,
    pub title_kk: Option<String>,
    /// Where the Russian and Kazakh titles come from.
    pub title_source: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OccupationsReport {
    pub source: &'static str,
    /// Every group asked for, in the classification's order (at most the 619 groups of ISCO-08).
    pub items: Vec<OccupationView>,
}

impl App {
    /// ISCO-08 groups with their titles in three languages; public.
    pub fn occupations(&self, request: &OccupationsRequest) -> Result<OccupationsReport> {
        let isco = crate::registry::coder()?.isco();
        if let Some(level) = request.level
            && !(1..=4).contains(&level)
        {
            return Err(AppError::invalid("level", "ISCO-08 digits: 1, 2, 3 or 4"));
        }
        let under = request.under.as_deref().map(str::trim).filter(|u| !u.is_empty());
        if let Some(u) = under
            && isco.get(u).is_none()
        {
            return Err(AppError::invalid("under", format!("`{u}` is not an ISCO-08 group")));
        }
        let words: Vec<String> = request.q.as_deref().unwrap_or("").split_whitespace().map(str::to_lowercase).collect();
        let items = isco
            .groups()
            .iter()
            .filter(|g| request.level.is_none_or(|l| g.level.digits() == l))
            .filter(|g| under.is_none_or(|u| g.code.starts_with(u)))
            .filter(|g| {
                let titles = [Some(&g.title_en), g.title_ru.as_ref(), g.title_kk.as_ref()]
                    .into_iter()
                    .flatten()
                    .map(|t| t.to_lowercase())
                    .collect::<Vec<_>>()
                    .join(" ");
                words.iter().all(|w| titles.contains(w.as_str()) || g.code == *w)
            })
            .map(|g| OccupationView {
                code: g.code.clone(),
                level: g.level.digits(),
                parent: g.parent.clone(),
                title_en: g.title_en.clone(),
                title_ru: g.title_ru.clone(),
                title_kk: g.title_kk.clone(),
                title_source: g.title_source.clone(),
            })
            .collect();
        Ok(OccupationsReport { source: ISCO_SOURCE, items })
    }
}
