//! `koshi report`: a self-contained page carrying the profile the API gives, written whole or not
//! at all, and a clear error for a code that is no country or region.

use crate::{bundled_bank, koshi, process_dir, run};

/// The JSON the page carries for `url` (`window.KOSHI_EMBEDDED`).
fn embedded(page: &str, url: &str) -> serde_json::Value {
    let start =
        page.find("window.KOSHI_EMBEDDED = ").expect("the page carries its answers") + "window.KOSHI_EMBEDDED = ".len();
    let end = start + page[start..].find(";</script>").expect("the answers end");
    let all: serde_json::Value = serde_json::from_str(&page[start..end].replace("<\\/", "</")).expect("JSON");
    all.get(url).cloned().unwrap_or_else(|| panic!("{url} is not in the page: {:?}", all.as_object().unwrap().keys()))
}

#[test]
fn a_report_is_one_page_with_its_charts_and_the_profile_inside() {
    let dir = process_dir("cli-report");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("kaz.html");
    run(bundled_bank(), &["report", "country", "KAZ", "--lang", "kk", "--out", out.to_str().unwrap()]);
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(!page.contains("<script src="), "no script is fetched");
    assert!(!page.contains("<link rel=\"stylesheet\""), "no style is fetched");
    assert!(page.contains("echarts"), "the chart library is inside");
    assert!(page.contains("\"lang\":\"kk\""), "the view is Kazakh");
    let profile = embedded(&page, "/api/profiles/country/KAZ");
    assert_eq!(profile["name"]["kk"], "Қазақстан");
    assert_eq!(profile["top_origins"][0]["partner"], "RUS");
    assert!(!dir.join("kaz.html.partial").exists());

    let region = dir.join("KZ-75.html");
    let status =
        koshi().current_dir(&dir).arg("--db").arg(bundled_bank()).args(["report", "region", "kz-75"]).status().unwrap();
    assert!(status.success());
    let page = std::fs::read_to_string(&region).unwrap();
    assert_eq!(embedded(&page, "/api/profiles/region/KZ-75")["region"], "KZ-75");
    assert!(embedded(&page, "/assets/kz-regions-2022.geojson")["features"].as_array().unwrap().len() >= 20);

    for args in [["report", "country", "XXX"], ["report", "region", "KAZ"]] {
        let failed = koshi().current_dir(&dir).arg("--db").arg(bundled_bank()).args(args).output().unwrap();
        assert!(!failed.status.success(), "{args:?}");
        let message = String::from_utf8_lossy(&failed.stderr);
        assert!(message.contains(args[2]), "{args:?}: {message}");
        assert!(!dir.join(format!("{}.html", args[2])).exists(), "nothing written for {args:?}");
    }
}
