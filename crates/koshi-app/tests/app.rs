//! The use cases in process, over one bank with every bundled dataset loaded once for the
//! whole test binary through the application itself, on a fixed "today".

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use koshi_app::{App, AppConfig, Date, FixedClock};

#[path = "app/bank.rs"]
mod bank;
#[path = "app/flows.rs"]
mod flows;
#[path = "app/forecast.rs"]
mod forecast;
#[path = "app/gravity.rs"]
mod gravity;
#[path = "app/indicators.rs"]
mod indicators;
#[path = "app/monitor.rs"]
mod monitor;
#[path = "app/quota.rs"]
mod quota;
#[path = "app/registry.rs"]
mod registry;
#[path = "app/sdmx.rs"]
mod sdmx;

/// The day the tests run on, whatever the system clock says.
pub(crate) const TODAY: Date = Date { year: 2026, month: 12, day: 1 };

/// The application over a bank with every bundled dataset, built once.
pub(crate) fn bundled() -> &'static App {
    static APP: OnceLock<(tempfile::TempDir, App)> = OnceLock::new();
    let (_, app) = APP.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let app = fresh(dir.path().join("bank.db"));
        app.load_bundled(&mut |_| {}).expect("the bundled datasets load");
        (dir, app)
    });
    app
}

/// The application over a new empty bank at `path`.
pub(crate) fn fresh(path: PathBuf) -> App {
    App::open(&path, AppConfig { clock: Arc::new(FixedClock(TODAY)), ..AppConfig::default() }).unwrap()
}
