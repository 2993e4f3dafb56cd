//! The use cases in process, over one bank with every bundled dataset loaded once for the
//! whole test binary through the application itself, on a fixed "today".

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use koshi_app::{App, AppConfig, Date, FixedClock};

#[path = "support/process_dir.rs"]
mod process_dir;
use process_dir::process_dir;

#[path = "app/bank.rs"]
mod bank;
#[path = "app/catalogue_text.rs"]
mod catalogue_text;
#[path = "app/changes.rs"]
mod changes;
#[path = "app/corridor.rs"]
mod corridor;
#[path = "app/explore.rs"]
mod explore;
#[path = "app/flows.rs"]
mod flows;
#[path = "app/forecast.rs"]
mod forecast;
#[path = "app/gravity.rs"]
mod gravity;
#[path = "app/indicators.rs"]
mod indicators;
#[path = "app/labour_market.rs"]
mod labour_market;
#[path = "app/lasting.rs"]
mod lasting;
#[path = "app/monitor.rs"]
mod monitor;
#[path = "app/profile.rs"]
mod profile;
#[path = "app/quota.rs"]
mod quota;
#[path = "app/regions.rs"]
mod regions;
#[path = "app/registry.rs"]
mod registry;
#[path = "app/sdmx.rs"]
mod sdmx;
#[path = "app/search.rs"]
mod search;
#[path = "app/vacancies.rs"]
mod vacancies;

/// The day the tests run on, whatever the system clock says.
pub(crate) const TODAY: Date = Date { year: 2026, month: 12, day: 1 };

/// The application over a bank with every bundled dataset, built once.
pub(crate) fn bundled() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let app = fresh(process_dir("app-bundled-bank").join("bank.db"));
        app.load_bundled(&mut |_| {}).expect("the bundled datasets load");
        app
    })
}

/// The application over a new empty bank at `path`.
pub(crate) fn fresh(path: PathBuf) -> App {
    App::open(&path, AppConfig { clock: Arc::new(FixedClock(TODAY)), ..AppConfig::default() }).unwrap()
}

/// The Bureau's region codes in its tidied files (`../shared/data/kazakhstan/bns/`) as ISO 3166-2
/// (the country as ISO 3166-1): YKO is the former South Kazakhstan Region, TRK and SHM Turkistan
/// Region and Shymkent (the population file's TRK before 2017 is South Kazakhstan: see regions.rs).
pub(crate) fn bureau_region(code: &str) -> &'static str {
    match code {
        "KZ" => "KAZ",
        "ABY" => "KZ-10",
        "AKM" => "KZ-11",
        "AKT" => "KZ-15",
        "ALM" => "KZ-19",
        "ATY" => "KZ-23",
        "ZKO" => "KZ-27",
        "ZHM" => "KZ-31",
        "ZHT" => "KZ-33",
        "KRG" => "KZ-35",
        "KST" => "KZ-39",
        "KZL" => "KZ-43",
        "MNG" => "KZ-47",
        "PVL" => "KZ-55",
        "SKO" => "KZ-59",
        "TRK" => "KZ-61",
        "ULT" => "KZ-62",
        "VKO" => "KZ-63",
        "AST" => "KZ-71",
        "ALA" => "KZ-75",
        "SHM" => "KZ-79",
        "YKO" => "KZ-YUZ",
        other => panic!("a region code the files did not have: {other}"),
    }
}
