//! Helpers shared by the integration tests.

use std::path::Path;
use std::process::{Command, Output};

/// Runs the `vigie` binary with `args` in `dir`.
pub fn vigie(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(args)
        .current_dir(dir)
        .env_remove("VIGIE_DATABASE_URL")
        .env_remove("VIGIE_CONFIG")
        .env("RUST_LOG", "error")
        .output()
        .expect("run vigie")
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The PostgreSQL URL for tests, or `None` (with a printed reason) to skip.
pub fn postgres_url() -> Option<String> {
    match std::env::var("VIGIE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipping: VIGIE_TEST_POSTGRES_URL not set");
            None
        }
    }
}

/// A name unique to this test run (for Postgres workspaces shared by concurrent runs).
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{nanos}", std::process::id())
}
