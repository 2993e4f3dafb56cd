//! Plain words in the three languages of the observatory, and numbers written the way each
//! language writes them (a decimal point in English, a comma in Russian and Kazakh).

use serde::Serialize;

/// One statement in English, Russian and Kazakh.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Text {
    pub en: String,
    pub ru: String,
    pub kk: String,
}

impl Text {
    pub fn new(en: impl Into<String>, ru: impl Into<String>, kk: impl Into<String>) -> Self {
        Text { en: en.into(), ru: ru.into(), kk: kk.into() }
    }

    /// Builds the three languages from one template function, called once per language.
    pub fn build(mut write: impl FnMut(Lang) -> String) -> Self {
        Text { en: write(Lang::En), ru: write(Lang::Ru), kk: write(Lang::Kk) }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ru => &self.ru,
            Lang::Kk => &self.kk,
        }
    }

    /// Joins two statements language by language.
    pub fn join(&self, separator: &str, other: &Text) -> Text {
        Text::build(|l| {
            if self.get(l).is_empty() {
                other.get(l).to_string()
            } else if other.get(l).is_empty() {
                self.get(l).to_string()
            } else {
                format!("{}{separator}{}", self.get(l), other.get(l))
            }
        })
    }
}

pub use koshi_core::Lang;

/// A share as a percentage with one decimal: `63.6` / `63,6`.
pub fn percent(share: f64, lang: Lang) -> String {
    let text = format!("{:.1}", share * 100.0);
    decimal_mark(text, lang)
}

/// A number with up to `decimals` decimals, trailing zeros dropped: `0.23`, `0,5`, `70`.
pub fn decimal(value: f64, decimals: usize, lang: Lang) -> String {
    let mut text = format!("{value:.decimals$}");
    if text.contains('.') {
        while text.ends_with('0') {
            text.pop();
        }
        if text.ends_with('.') {
            text.pop();
        }
    }
    decimal_mark(text, lang)
}

/// A whole amount with thousands grouped: `458,338` in English, `458 338` in Russian and Kazakh.
pub fn amount(value: f64, lang: Lang) -> String {
    let rounded = value.round();
    let negative = rounded < 0.0;
    let digits = format!("{:.0}", rounded.abs());
    let separator = if lang == Lang::En { ',' } else { '\u{a0}' };
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(separator);
        }
        out.push(ch);
    }
    if negative { format!("-{out}") } else { out }
}

fn decimal_mark(text: String, lang: Lang) -> String {
    if lang == Lang::En { text } else { text.replace('.', ",") }
}

/// "categories 1–2" in each language (nominative), from the category codes.
pub fn categories(codes: &[String], lang: Lang) -> String {
    let list = span(codes);
    match lang {
        Lang::En if codes.len() == 1 => format!("category {list}"),
        Lang::En => format!("categories {list}"),
        Lang::Ru if codes.len() == 1 => format!("категория {list}"),
        Lang::Ru => format!("категории {list}"),
        Lang::Kk if codes.len() == 1 => format!("{list} санат"),
        Lang::Kk => format!("{list} санаттар"),
    }
}

/// `1–2` for consecutive numbers, otherwise `1, 3`.
fn span(codes: &[String]) -> String {
    let numbers: Option<Vec<u32>> = codes.iter().map(|c| c.parse().ok()).collect();
    if let Some(n) = numbers
        && n.len() > 1
        && n.windows(2).all(|w| w[1] == w[0] + 1)
    {
        return format!("{}–{}", n[0], n[n.len() - 1]);
    }
    codes.join(", ")
}

/// The comparison sign for "x meets the bound" or not.
pub fn sign(holds: bool, at_least: bool) -> &'static str {
    match (holds, at_least) {
        (true, true) => "≥",
        (false, true) => "<",
        (true, false) => "≤",
        (false, false) => ">",
    }
}
