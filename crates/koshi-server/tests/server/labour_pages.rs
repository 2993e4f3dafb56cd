//! The labour-market pages (`/vacancies`, `/shortage`): served as the other observatory pages
//! are, in English, Russian and Kazakh (the page names its title by a key every language has), the
//! address's parameters left to the page, linked from the navigation, and asking the API only for
//! endpoints it lists. What they show is tested in headless Chromium (`tests/browser/vacancies.test.mjs`).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use koshi_server::observatory::{OBSERVATORY_JS, OBSERVATORY_WORDS, PAGES};

use crate::{fixture, send};

/// Each page, the key of its title and the key naming it in the navigation.
const LABOUR_PAGES: &[(&str, &str, &str)] =
    &[("/vacancies", "vacancies_title", "vacancies_nav"), ("/shortage", "shortage_title", "shortage_nav")];

fn page(path: &str) -> &'static str {
    PAGES.iter().find(|(p, _)| *p == path).unwrap_or_else(|| panic!("{path} is not an observatory page")).1
}

fn words() -> BTreeMap<String, BTreeMap<String, String>> {
    serde_json::from_str(OBSERVATORY_WORDS).unwrap()
}

#[tokio::test]
async fn each_page_answers_html_in_three_languages_with_its_title_translated() {
    let f = fixture();
    let words = words();
    for (path, title, nav) in LABOUR_PAGES {
        let text = page(path);
        // The heading and the window's title are the title's words in the page's language.
        assert!(text.contains(&format!("<h1 data-t=\"{title}\"></h1>")), "{path}");
        assert!(text.contains(&format!("document.title = `koshi — ${{t(\"{title}\")}}`")), "{path}");
        for key in [title, nav] {
            let english = &words["en"][*key];
            assert!(!english.trim().is_empty(), "{key}");
            for lang in ["ru", "kk"] {
                let translated = words[lang].get(*key).unwrap_or_else(|| panic!("{lang}: {key} is missing"));
                assert!(!translated.trim().is_empty() && translated != english, "{lang}: {key} = {translated:?}");
            }
        }
        assert_ne!(words["ru"][*title], words["kk"][*title], "{title}");
        for lang in ["en", "ru", "kk"] {
            let uri = format!("{path}?lang={lang}");
            let answer = send(&f.app, Request::get(&uri).body(Body::empty()).unwrap()).await;
            assert_eq!(answer.status, StatusCode::OK, "{uri}");
            assert!(answer.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"), "{uri}");
            assert_eq!(answer.bytes.as_ref(), text.as_bytes(), "{uri}");
            let html = std::str::from_utf8(&answer.bytes).unwrap();
            assert!(html.starts_with("<!doctype html>") && html.contains("<main id=\"content\""), "{uri}");
            assert!(html.contains(&format!("KOSHI.start(\"{path}\", render)")), "{uri}");
        }
    }
}

#[tokio::test]
async fn unknown_query_parameters_are_handled_as_the_other_pages_do() {
    let f = fixture();
    // A page keeps its view in its address and reads it in the browser: the server answers the
    // page whatever the parameters, as it does for the region page.
    for query in
        ["?nonsense=1", "?lang=xx&region=KZ-99&after=abc&limit=-1", "?q=%D1%81%D0%B2%D0%B0%D1%80%D1%89%D0%B8%D0%BA&q=2"]
    {
        let reference = send(&f.app, Request::get(format!("/region{query}")).body(Body::empty()).unwrap()).await;
        for (path, _, _) in LABOUR_PAGES {
            let uri = format!("{path}{query}");
            let answer = send(&f.app, Request::get(&uri).body(Body::empty()).unwrap()).await;
            assert_eq!(answer.status, reference.status, "{uri}");
            assert_eq!(answer.status, StatusCode::OK, "{uri}");
            assert_eq!(answer.bytes.as_ref(), page(path).as_bytes(), "{uri}");
        }
    }
    // Paths below a page are not pages: one JSON error, as for the other pages.
    for uri in ["/vacancies/12", "/shortage/latest", "/region/KZ-75"] {
        let answer = send(&f.app, Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(answer.json()["error"]["code"], "NOT_FOUND", "{uri}");
    }
}

#[tokio::test]
async fn the_pages_are_in_the_navigation_of_the_observatory_and_the_dashboard() {
    for (path, _, nav) in LABOUR_PAGES {
        assert!(OBSERVATORY_JS.contains(&format!("[\"{path}\", \"{nav}\"]")), "{path} in the observatory's header");
    }
    let f = fixture();
    let dashboard = send(&f.app, Request::get("/").body(Body::empty()).unwrap()).await;
    let html = std::str::from_utf8(&dashboard.bytes).unwrap();
    for (path, _, _) in LABOUR_PAGES {
        assert!(html.contains(&format!("<a href=\"{path}\" data-page")), "{path} on the dashboard");
    }
    for (lang, words) in [("en", "nav_vacancies: \"Vacancies\""), ("ru", "nav_shortage: \"Дефицитные профессии\"")]
    {
        assert!(html.contains(words), "{lang}: {words}");
    }
}

/// The API paths a page's script names (`/api/…` up to a query, a quote or an interpolation).
fn api_paths(text: &str) -> Vec<String> {
    text.match_indices("/api/")
        .map(|(at, _)| {
            let rest = &text[at..];
            let end = rest.find(['?', '"', '`', '\'', ' ']).unwrap_or(rest.len());
            // An interpolated segment (`/${id}`) stands for any value; an interpolation after
            // the path is its query.
            let path = &rest[..end];
            match path.find("${") {
                Some(i) if path[..i].ends_with('/') => format!("{}{{value}}", &path[..i]),
                Some(i) => path[..i].to_string(),
                None => path.to_string(),
            }
        })
        .collect()
}

#[test]
fn the_pages_ask_only_for_endpoints_the_api_lists() {
    for (path, _, _) in LABOUR_PAGES {
        let asked = api_paths(page(path));
        assert!(asked.len() >= 3, "{path}: {asked:?}");
        for url in &asked {
            let parts: Vec<&str> = url.split('/').collect();
            let listed = koshi_server::ENDPOINTS.iter().any(|e| {
                let pattern: Vec<&str> = e.path.split('/').collect();
                pattern.len() == parts.len() && pattern.iter().zip(&parts).all(|(p, q)| p.starts_with('{') || p == q)
            });
            assert!(listed, "{path} asks for {url}, which the API does not list");
        }
    }
    assert!(api_paths(page("/shortage")).iter().any(|p| p == "/api/labour-demand"));
    assert!(api_paths(page("/shortage")).iter().any(|p| p == "/api/shortage/lists/latest"));
    assert!(api_paths(page("/vacancies")).iter().any(|p| p == "/api/vacancies/{value}"));
}

#[test]
fn every_word_the_pages_name_has_the_same_placeholders_in_three_languages() {
    let words = words();
    for (path, _, _) in LABOUR_PAGES {
        let text = page(path);
        let mut keys: Vec<&str> = Vec::new();
        for opener in ["t(\"", "data-t=\"", "data-t-label=\""] {
            for (at, _) in text.match_indices(opener) {
                // `t(` the function, not the end of another name (`start(`, `set(`).
                if opener == "t(\""
                    && text[..at].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                {
                    continue;
                }
                let rest = &text[at + opener.len()..];
                let end = rest.find('"').unwrap();
                keys.push(&rest[..end]);
            }
        }
        assert!(keys.len() >= 30, "{path}: {keys:?}");
        for key in keys {
            let english = words["en"].get(key).unwrap_or_else(|| panic!("{path}: `{key}` has no words"));
            let placeholders: Vec<&str> =
                english.split('{').skip(1).filter_map(|rest| rest.split_once('}')).map(|(name, _)| name).collect();
            for lang in ["ru", "kk"] {
                let translated = &words[lang][key];
                for p in &placeholders {
                    assert!(translated.contains(&format!("{{{p}}}")), "{lang}: `{key}` lost {{{p}}}");
                }
                let count = translated.matches('{').count();
                assert_eq!(count, placeholders.len(), "{lang}: `{key}` has other placeholders: {translated}");
            }
        }
    }
}
