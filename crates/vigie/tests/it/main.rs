//! The one integration-test binary of Vigie: the CLI end to end (demo, import, config
//! checks) on real SQLite files and, when `VIGIE_TEST_POSTGRES_URL` is set, PostgreSQL.

mod cli;
mod import;
mod support;
