//! Shared by the test binaries that keep one bundled bank for the whole process.

use std::path::{Path, PathBuf};

/// A directory for a bank kept for the whole test process. A static is never dropped, so a
/// temporary directory would outlive the process: it lives under the target directory instead,
/// named by process, and those of processes that have ended are removed first.
pub fn process_dir(prefix: &str) -> PathBuf {
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
