//! The one integration-test binary of Vigie: the CLI end to end (demo, import, config
//! checks) on real SQLite files and, when `VIGIE_TEST_POSTGRES_URL` is set, PostgreSQL.

// Test code: failing loudly is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod browser;
mod cli;
mod digest;
mod import;
mod scale;
mod serve;
mod support;
