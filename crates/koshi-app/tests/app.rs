//! The use cases in process, over one bank with every bundled dataset loaded once for the
//! whole test binary through the application itself, on a fixed "today".

use std::path::{Path, PathBuf};
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
#[path = "app/search.rs"]
mod search;

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

/// A directory for a bank kept for the whole test process. A static is never dropped, so a
/// temporary directory would outlive the process: it lives under the target directory instead,
/// named by process, and those of processes that have ended are removed first.
pub(crate) fn process_dir(prefix: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.strip_prefix(prefix).and_then(|p| p.strip_prefix('-')).and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = root.join(format!("{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The application over a new empty bank at `path`.
pub(crate) fn fresh(path: PathBuf) -> App {
    App::open(&path, AppConfig { clock: Arc::new(FixedClock(TODAY)), ..AppConfig::default() }).unwrap()
}
