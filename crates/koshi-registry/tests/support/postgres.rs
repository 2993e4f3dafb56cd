//! A PostgreSQL cluster for the tests: the one `KOSHI_TEST_POSTGRES` names (a `postgres://`
//! address of an ordinary role with CREATEDB, as `.ci/postgres.sh` makes), or else a throw-away
//! cluster started by `.ci/postgres.sh` on 127.0.0.1 for this test process and stopped by a
//! watchdog when the process ends. Each caller gets a new database of its own.

#![allow(dead_code)]

use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

fn script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/postgres.sh")
}

/// The address of the cluster's `koshi` database.
pub fn cluster_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("KOSHI_TEST_POSTGRES")
            && !url.is_empty()
        {
            return url;
        }
        let dir = std::env::temp_dir().join(format!("koshi-test-pg-{}", std::process::id()));
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(&dir)
            .stderr(Stdio::inherit())
            .output()
            .expect("run .ci/postgres.sh");
        assert!(out.status.success(), ".ci/postgres.sh start failed: the PostgreSQL tests need a cluster");
        let stdout = String::from_utf8(out.stdout).unwrap();
        let url = stdout.lines().last().expect("the script prints the address").trim().to_string();
        // Stop the cluster once this test process has gone.
        let watchdog = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; bash '{script}' stop --remove '{dir}'",
            pid = std::process::id(),
            script = script().display(),
            dir = dir.display()
        );
        // Left running on purpose: it outlives this process to stop the cluster after it.
        #[allow(clippy::zombie_processes)]
        let _watchdog = Command::new("setsid")
            .args(["sh", "-c", &watchdog])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the cluster's watchdog");
        url
    })
}

/// A new, empty database on the cluster, owned by the test role; its address.
pub fn fresh_database() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let base = cluster_url();
    let name = format!("koshi_t_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
    let mut client = postgres::Client::connect(base, postgres::NoTls).expect("connect to the test cluster");
    client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
    let slash = base.rfind('/').expect("the address names a database");
    format!("{}/{name}", &base[..slash])
}
