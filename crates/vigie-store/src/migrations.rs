//! Versioned SQL migrations, embedded in the binary.
//!
//! Each backend has its own folder (`migrations/sqlite`, `migrations/postgres`) with the same
//! numbered files describing the same logical schema. They are embedded with `include_str!`
//! and handed to a hand-built sqlx [`Migrator`] (the sqlx `macros` feature, and so
//! `migrate!`, is off on purpose: see STACK.md). sqlx records each applied version with a
//! checksum in `_sqlx_migrations`, so running them again is a no-op and an edited, already
//! applied file is refused. To change the schema, add a new numbered file to both folders
//! and one line to each list below.

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// `(version, description, sql)` of the SQLite migrations, in order.
const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "notify",
        include_str!("../migrations/sqlite/0002_notify.sql"),
    ),
    (
        3,
        "accounts",
        include_str!("../migrations/sqlite/0003_accounts.sql"),
    ),
    (
        4,
        "mention_edits",
        include_str!("../migrations/sqlite/0004_mention_edits.sql"),
    ),
    (
        5,
        "scale",
        include_str!("../migrations/sqlite/0005_scale.sql"),
    ),
    (
        6,
        "responding",
        include_str!("../migrations/sqlite/0006_responding.sql"),
    ),
    (
        7,
        "totp_replay",
        include_str!("../migrations/sqlite/0007_totp_replay.sql"),
    ),
    (
        8,
        "digests",
        include_str!("../migrations/sqlite/0008_digests.sql"),
    ),
];

/// `(version, description, sql)` of the PostgreSQL migrations, in order.
const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "notify",
        include_str!("../migrations/postgres/0002_notify.sql"),
    ),
    (
        3,
        "accounts",
        include_str!("../migrations/postgres/0003_accounts.sql"),
    ),
    (
        4,
        "mention_edits",
        include_str!("../migrations/postgres/0004_mention_edits.sql"),
    ),
    (
        5,
        "scale",
        include_str!("../migrations/postgres/0005_scale.sql"),
    ),
    (
        6,
        "responding",
        include_str!("../migrations/postgres/0006_responding.sql"),
    ),
    (
        7,
        "totp_replay",
        include_str!("../migrations/postgres/0007_totp_replay.sql"),
    ),
    (
        8,
        "digests",
        include_str!("../migrations/postgres/0008_digests.sql"),
    ),
];

fn migrator(list: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        list.iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// The migrations of the SQLite backend.
pub(crate) fn sqlite() -> Migrator {
    migrator(SQLITE)
}

/// The migrations of the PostgreSQL backend.
pub(crate) fn postgres() -> Migrator {
    migrator(POSTGRES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_versions() {
        let versions = |m: Migrator| m.iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(versions(sqlite()), versions(postgres()));
        let v = versions(sqlite());
        assert!(
            v.windows(2).all(|w| w[0] < w[1]),
            "versions must be sorted: {v:?}"
        );
        assert!(v.contains(&1) && v.contains(&6), "{v:?}");
    }

    #[test]
    fn both_schemas_define_the_same_tables() {
        let tables = |sql: &str| {
            let mut t: Vec<String> = sql
                .lines()
                .filter_map(|l| l.strip_prefix("CREATE TABLE "))
                .filter_map(|l| l.split_whitespace().next())
                .map(str::to_owned)
                .collect();
            t.sort();
            t
        };
        let sqlite = tables(SQLITE[0].2);
        assert_eq!(sqlite, tables(POSTGRES[0].2));
        assert!(sqlite.contains(&"mentions".to_owned()));
        assert_eq!(sqlite.len(), 10);
    }
}
