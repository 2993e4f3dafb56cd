//! The observatory's pages: every word the pages use exists in English, Russian and Kazakh (and is
//! translated, not copied), the pages and their assets are served, and the profiles' endpoints
//! answer with the application's reports or one error shape.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use koshi_server::observatory::{OBSERVATORY_JS, OBSERVATORY_WORDS, PAGES};

use crate::{fixture, get, send};

/// The keys a page's text asks for: `t("key")`, `data-t="key"` and `data-t-label="key"`.
fn keys_used(text: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for opener in ["t(\"", "data-t=\"", "data-t-label=\""] {
        for (at, _) in text.match_indices(opener) {
            // `t(` must be the function itself, not the end of another name (`port(`, `split(`).
            if opener == "t(\""
                && text[..at].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
            {
                continue;
            }
            let rest = &text[at + opener.len()..];
            let key: String =
                rest.chars().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_').collect();
            if rest[key.len()..].starts_with('"') && !key.is_empty() {
                keys.insert(key);
            }
        }
    }
    keys
}

#[test]
fn every_word_the_pages_use_is_there_in_three_languages_and_translated() {
    let words: BTreeMap<String, BTreeMap<String, String>> = serde_json::from_str(OBSERVATORY_WORDS).unwrap();
    assert_eq!(words.keys().collect::<Vec<_>>(), ["en", "kk", "ru"]);
    let english = &words["en"];
    let mut problems = Vec::new();
    for lang in ["ru", "kk"] {
        let other = &words[lang];
        for (key, text) in english {
            match other.get(key) {
                None => problems.push(format!("{lang}: `{key}` is missing")),
                Some(t) if t.trim().is_empty() => problems.push(format!("{lang}: `{key}` is empty")),
                Some(t) if t == text => problems.push(format!("{lang}: `{key}` is the English text")),
                Some(_) => {}
            }
        }
        for key in other.keys().filter(|k| !english.contains_key(*k)) {
            problems.push(format!("{lang}: `{key}` has no English"));
        }
    }
    let mut used = keys_used(OBSERVATORY_JS);
    for (path, page) in PAGES {
        let keys = keys_used(page);
        assert!(keys.len() >= 10, "{path}: {keys:?}");
        used.extend(keys);
    }
    for key in used.iter().filter(|k| !english.contains_key(*k)) {
        problems.push(format!("`{key}` is used by a page but has no words"));
    }
    // Placeholders (`{year}`, `{measure}` …) survive translation.
    for (key, text) in english {
        let placeholders = text.split('{').skip(1).filter_map(|rest| rest.split_once('}')).map(|(name, _)| name);
        for placeholder in placeholders
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()))
        {
            for lang in ["ru", "kk"] {
                if !words[lang][key].contains(&format!("{{{placeholder}}}")) {
                    problems.push(format!("{lang}: `{key}` lost {{{placeholder}}}"));
                }
            }
        }
    }
    // The explorer names every dimension of every dataflow in the page's language.
    let catalogue = koshi_core::Catalogue::standard().unwrap();
    for df in &catalogue.dataflows {
        for d in &df.dimensions {
            let key = format!("dim_{}", d.id.to_ascii_lowercase());
            if !english.contains_key(&key) {
                problems.push(format!("`{key}` (a dimension of {}) has no words", df.id));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The scanner itself finds keys (a check over nothing would pass).
    assert!(used.contains("provenance") && used.contains("credits") && used.contains("net_rank"), "{used:?}");
}

#[tokio::test]
async fn a_download_is_a_zip_file_named_for_its_selection() {
    let f = fixture();
    let answer = send(
        &f.app,
        Request::get("/api/download/MIG_EXT?key=REF_AREA%3DKAZ&harmonised=true").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/zip");
    assert_eq!(answer.headers[header::CONTENT_DISPOSITION], "attachment; filename=\"koshi-MIG_EXT-REF_AREA_KAZ.zip\"");
    assert_eq!(&answer.bytes[..4], b"PK\x03\x04", "a ZIP file");
    let (status, body) = get(&f.app, "/api/download/MIG_EXT?key=REF_AREA%3DNOWHERE").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, codes) = get(&f.app, "/api/dataflows/MIG_EXT/codes").await;
    assert_eq!(status, StatusCode::OK, "{codes}");
    assert_eq!(codes["dimensions"][0]["codes"][0]["id"], "KAZ");
    let (status, body) = get(&f.app, "/api/dataflows/NOPE/codes").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn the_pages_and_their_assets_are_served() {
    let f = fixture();
    for (path, page) in PAGES {
        let answer = send(&f.app, Request::get(*path).body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(answer.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        assert_eq!(answer.bytes.as_ref(), page.as_bytes());
        for asset in ["/assets/observatory.js", "/assets/observatory.css", "/assets/echarts-6.1.0.min.js"] {
            assert!(page.contains(asset), "{path} loads {asset}");
        }
    }
    for (asset, kind) in [
        ("/assets/observatory.js", "text/javascript"),
        ("/assets/observatory.css", "text/css"),
        ("/assets/observatory-i18n.json", "application/json"),
    ] {
        let answer = send(&f.app, Request::get(asset).body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK, "{asset}");
        assert!(answer.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with(kind), "{asset}");
    }
}

#[tokio::test]
async fn the_profiles_answer_with_the_application_s_reports_or_one_error_shape() {
    let f = fixture();
    let (status, profile) = get(&f.app, "/api/profiles/country/KAZ?horizon=3&top=5").await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["country"], "KAZ");
    assert_eq!(profile["name"]["kk"], "Қазақстан");
    // This bank holds two figures of Kazakhstan's net migration, one per source.
    let sources: Vec<&str> =
        profile["net_migration"].as_array().unwrap().iter().map(|l| l["source"].as_str().unwrap()).collect();
    assert_eq!(sources, ["KZ_BNS", "UN_WPP"]);
    let (status, region) = get(&f.app, "/api/profiles/region/KZ-79").await;
    assert_eq!(status, StatusCode::OK, "{region}");
    assert_eq!(region["predecessors"][0]["code"], "KZ-YUZ");
    for (uri, code) in [
        ("/api/profiles/country/XXX", "BAD_PARAMETER"),
        ("/api/profiles/country/KAZ?top=0", "BAD_PARAMETER"),
        ("/api/profiles/country/KAZ?horizon=ten", "BAD_PARAMETER"),
        ("/api/profiles/region/KAZ", "BAD_PARAMETER"),
        ("/api/profiles/region/KZ-75?as_of=yesterday", "BAD_PARAMETER"),
    ] {
        let (status, body) = get(&f.app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["code"], code, "{uri}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{uri}: {body}");
    }
}

#[tokio::test]
async fn large_assets_are_gzipped_for_browsers_that_ask_and_plain_for_the_rest() {
    use std::io::Read;
    let f = fixture();
    for asset in ["/assets/kz-regions-2022.geojson", "/assets/echarts-6.1.0.min.js"] {
        let plain = send(&f.app, Request::get(asset).body(Body::empty()).unwrap()).await;
        assert_eq!(plain.status, StatusCode::OK);
        assert!(plain.headers.get(header::CONTENT_ENCODING).is_none(), "{asset}");
        for accept in ["gzip, deflate, br", "br;q=1.0, gzip;q=0.8"] {
            let zipped =
                send(&f.app, Request::get(asset).header(header::ACCEPT_ENCODING, accept).body(Body::empty()).unwrap())
                    .await;
            assert_eq!(zipped.headers[header::CONTENT_ENCODING], "gzip", "{asset} {accept}");
            assert_eq!(zipped.headers.get_all(header::CONTENT_ENCODING).iter().count(), 1, "compressed once");
            assert!(
                zipped.bytes.len() * 2 < plain.bytes.len(),
                "{asset}: {} of {}",
                zipped.bytes.len(),
                plain.bytes.len()
            );
            let mut unzipped = Vec::new();
            flate2::read::GzDecoder::new(zipped.bytes.as_ref()).read_to_end(&mut unzipped).unwrap();
            assert_eq!(unzipped, plain.bytes.as_ref(), "{asset}");
        }
        let refused =
            send(&f.app, Request::get(asset).header(header::ACCEPT_ENCODING, "gzip;q=0").body(Body::empty()).unwrap())
                .await;
        assert!(refused.headers.get(header::CONTENT_ENCODING).is_none(), "{asset}: gzip;q=0 refuses gzip");
    }
}

#[tokio::test]
async fn changes_need_a_vintage_and_name_what_is_wrong() {
    let f = fixture();
    // This bank holds one key and period from two sources, released in 2018 and 2024; the
    // national figure is the harmonised one once it exists.
    let (status, body) = get(&f.app, "/api/changes/MIG_EXT?since=2018-01-01").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["counts"]["added"], 1, "{body}");
    assert_eq!(body["items"][0]["kind"], "added", "{body}");
    assert_eq!(body["items"][0]["now"]["source"], "KZ_BNS", "{body}");
    let (_, body) = get(&f.app, "/api/changes/MIG_EXT?since=2020-01-01").await;
    assert_eq!(body["counts"]["unchanged"], 1, "the 2024 release did not change the harmonised figure: {body}");
    assert_eq!(body["total"], 0, "{body}");
    for uri in [
        "/api/changes/MIG_EXT",
        "/api/changes/MIG_EXT?since=soon",
        "/api/changes?latest=0",
        "/api/changes/NOPE?since=2020-01-01",
    ] {
        let (status, body) = get(&f.app, uri).await;
        assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND, "{uri}: {status} {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{uri}: {body}");
    }
    let (status, latest) = get(&f.app, "/api/changes?latest=2").await;
    assert_eq!(status, StatusCode::OK, "{latest}");
    assert_eq!(latest.as_array().unwrap().len(), 2);
}

#[test]
fn what_is_warmed_up_is_what_the_api_lists() {
    assert!(koshi_server::observatory::WARM_URLS.len() >= 10);
    for url in koshi_server::observatory::WARM_URLS {
        let path = url.split('?').next().unwrap();
        let listed = koshi_server::ENDPOINTS.iter().any(|e| {
            let pattern: Vec<&str> = e.path.split('/').collect();
            let parts: Vec<&str> = path.split('/').collect();
            pattern.len() == parts.len() && pattern.iter().zip(&parts).all(|(p, q)| p.starts_with('{') || p == q)
        });
        assert!(listed, "{url} is not an endpoint of the API");
    }
}
