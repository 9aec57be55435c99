//! One conformance suite for every [`Store`] backend (quickwit's `metastore_test_suite!`).
//!
//! `store_conformance_suite!(name, async { … })` expands into a module `name` holding one
//! `#[tokio::test]` per check in [`checks`]. The async block builds a fresh, migrated store
//! for each test and evaluates to anything [`IntoFixture`] accepts: a store, a
//! `(store, guard)` pair (the guard, e.g. a temporary directory, lives as long as the test),
//! or an `Option` of those, where `None` skips the test (the block prints why).
//!
//! Instantiated below for SQLite (a temporary file, and in memory) and PostgreSQL (a fresh
//! schema per test, dropped afterwards; skipped unless `VIGIE_TEST_POSTGRES_URL` is set).

pub(crate) mod checks;
mod data;

pub(crate) use data::{T0, sample_mention};

use crate::{PostgresStore, SqliteStore, Store};
use std::any::Any;
use std::sync::Arc;

/// A store for one test, plus whatever must outlive it.
pub(crate) struct Fixture {
    /// The store under test.
    pub store: Arc<dyn Store>,
    /// Dropped after the test (temporary directory…).
    _guard: Box<dyn Any + Send>,
}

/// What a suite's async block may evaluate to.
pub(crate) trait IntoFixture {
    /// `None` skips the test.
    fn into_fixture(self) -> Option<Fixture>;
}

impl IntoFixture for Arc<dyn Store> {
    fn into_fixture(self) -> Option<Fixture> {
        Some(Fixture {
            store: self,
            _guard: Box::new(()),
        })
    }
}

impl IntoFixture for SqliteStore {
    fn into_fixture(self) -> Option<Fixture> {
        (Arc::new(self) as Arc<dyn Store>).into_fixture()
    }
}

impl IntoFixture for PostgresStore {
    fn into_fixture(self) -> Option<Fixture> {
        (Arc::new(self) as Arc<dyn Store>).into_fixture()
    }
}

impl<T: IntoFixture, G: Send + 'static> IntoFixture for (T, G) {
    fn into_fixture(self) -> Option<Fixture> {
        let mut fixture = self.0.into_fixture()?;
        fixture._guard = Box::new((fixture._guard, self.1));
        Some(fixture)
    }
}

impl<T: IntoFixture> IntoFixture for Option<T> {
    fn into_fixture(self) -> Option<Fixture> {
        self.and_then(IntoFixture::into_fixture)
    }
}

/// Expands into one `#[tokio::test]` per named check, each on a fresh fixture.
macro_rules! conformance_tests {
    ($fixture:ident; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let Some(fixture) = $fixture().await else { return };
                $crate::conformance::checks::$check(Arc::clone(&fixture.store)).await;
            }
        )*
    };
}

/// `store_conformance_suite!(name, async { /* a migrated store */ })`: see the module doc.
macro_rules! store_conformance_suite {
    ($name:ident, $make:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use std::sync::Arc;

            async fn fixture() -> Option<$crate::conformance::Fixture> {
                $crate::conformance::IntoFixture::into_fixture($make.await)
            }

            $crate::conformance::conformance_tests!(fixture;
                migrate_twice_is_fine,
                insert_is_idempotent,
                duplicates_inside_one_batch_count_once,
                workspaces_are_isolated,
                list_mentions_filters_and_orders,
                pagination_walks_every_mention_once,
                bad_cursor_and_limits,
                sync_watches_marks_removed_ones_inactive,
                signals_round_trip,
                level_changes_and_current_levels,
                incidents_insert_update_list,
                checkpoints_and_detector_states_upsert,
                full_mention_round_trips,
                failing_batch_stores_nothing,
                concurrent_inserts_count_each_mention_once,
            );
        }
    };
}

pub(crate) use conformance_tests;

/// A schema name no other test run uses.
fn unique_schema() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!(
        "vigie_test_{}_{}_{:x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        random & 0xffff_ffff
    )
}

store_conformance_suite!(sqlite_file, async {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("vigie.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (store, dir)
});

store_conformance_suite!(sqlite_memory, async {
    let store = SqliteStore::open_in_memory().await.unwrap();
    store.migrate().await.unwrap();
    store
});

store_conformance_suite!(postgres, async {
    let Ok(url) = std::env::var("VIGIE_TEST_POSTGRES_URL") else {
        println!("skipping: VIGIE_TEST_POSTGRES_URL not set");
        return None;
    };
    let store = PostgresStore::connect_temporary(&url, &unique_schema())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    Some(store)
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_unique_and_valid() {
        let a = unique_schema();
        let b = unique_schema();
        assert_ne!(a, b);
        assert!(a.len() <= 63);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        );
    }

    #[tokio::test]
    async fn a_none_fixture_skips() {
        let none: Option<SqliteStore> = None;
        assert!(none.into_fixture().is_none());
        let some = Some(SqliteStore::open_in_memory().await.unwrap());
        let fixture = (some, 7_u8).into_fixture().unwrap();
        assert_eq!(fixture.store.backend(), "sqlite");
    }
}
