//! The PostgreSQL backend, for scale-out: several Vigie processes share one database.

use crate::{StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Postgres};
use std::str::FromStr;
use std::time::Duration;

/// Connections in the pool.
const POOL_SIZE: u32 = 8;

/// How long a call waits for a free connection (or for the server) before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`Store`](crate::Store) in a PostgreSQL database, optionally inside one schema.
pub struct PostgresStore {
    pub(crate) pool: PgPool,
    /// The URL with its password replaced by `***`.
    target: String,
    /// The schema every connection uses (`search_path`), if not the default.
    schema: Option<String>,
    /// Set for throw-away test schemas: how to reach the server to drop it on drop.
    drop_on_drop: Option<PgConnectOptions>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// `url` with the password (if any) replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let password = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{password}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// Checks that `schema` is a plain lowercase SQL identifier we can quote safely.
fn check_schema(schema: &str) -> StoreResult<()> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && schema.bytes().next().is_some_and(|b| !b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what: "schema name",
            detail: format!("{schema:?}: use 1 to 63 lowercase letters, digits or '_'"),
        })
    }
}

impl PostgresStore {
    /// Connects a pool to the database at `url` (`postgres://user:pass@host/db`). Errors never
    /// show the password. Call [`Store::migrate`](crate::Store::migrate) before use.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = Self::parse(url)?;
        Self::with_options(url, options, None).await
    }

    /// Like [`PostgresStore::connect`], but every connection works in `schema` (created if
    /// missing) through its `search_path`: tables, and sqlx's migration table, live there.
    /// Lets parallel test runs, or several Vigie installations, share one database.
    pub async fn connect_with_schema(url: &str, schema: &str) -> StoreResult<Self> {
        check_schema(schema)?;
        let options = Self::parse(url)?;
        let target = redact_url(url);
        let connect_err = |source| StoreError::Connect {
            target: target.clone(),
            source,
        };
        let mut conn = options.connect().await.map_err(connect_err)?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
        )))
        .execute(&mut conn)
        .await
        .map_err(StoreError::query("create schema"))?;
        conn.close().await.map_err(connect_err)?;
        let options = options.options([("search_path", schema)]);
        Self::with_options(url, options, Some(schema.to_owned())).await
    }

    /// A store in a fresh schema that is dropped (with everything in it) when the store is
    /// dropped. For tests: each test gets its own empty database.
    pub async fn connect_temporary(url: &str, schema: &str) -> StoreResult<Self> {
        let mut store = Self::connect_with_schema(url, schema).await?;
        store.drop_on_drop = Some(Self::parse(url)?);
        Ok(store)
    }

    fn parse(url: &str) -> StoreResult<PgConnectOptions> {
        PgConnectOptions::from_str(url).map_err(|e| StoreError::Invalid {
            what: "database url",
            // The parser's messages do not echo the URL; we add the redacted form.
            detail: format!("{}: {e}", redact_url(url)),
        })
    }

    async fn with_options(
        url: &str,
        options: PgConnectOptions,
        schema: Option<String>,
    ) -> StoreResult<Self> {
        let target = redact_url(url);
        // One direct attempt first: the pool would retry a refused connection until its
        // acquire timeout and then report only "timed out"; this reports the real cause.
        let probe = options
            .connect()
            .await
            .map_err(|source| StoreError::Connect {
                target: target.clone(),
                source,
            })?;
        let _ = probe.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Connect {
                target: target.clone(),
                source,
            })?;
        Ok(Self {
            pool,
            target,
            schema,
            drop_on_drop: None,
        })
    }

    /// The URL it was opened with, password redacted.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The schema it works in, if one was given.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Closes every connection. Later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Drop for PostgresStore {
    /// Drops a temporary schema. The pool belongs to the runtime being torn down, so this
    /// opens one fresh connection on a short-lived runtime in its own thread.
    fn drop(&mut self) {
        let (Some(options), Some(schema)) = (self.drop_on_drop.take(), self.schema.clone()) else {
            return;
        };
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let Ok(runtime) = runtime else { return };
            runtime.block_on(async move {
                if let Ok(mut conn) = options.connect().await {
                    let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                    if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await
                    {
                        tracing::warn!(error = %e, schema, "could not drop temporary schema");
                    }
                    let _ = conn.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

crate::backend::impl_store!(
    PostgresStore,
    Postgres,
    "postgres",
    crate::migrations::postgres
);
crate::accounts::impl_account_store!(PostgresStore);
crate::edits::impl_edit_store!(PostgresStore);
crate::notify::impl_notify_store!(PostgresStore);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://vigie:s3cr3t@db.example:5432/vigie?sslmode=require"),
            "postgres://vigie:***@db.example:5432/vigie?sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://u:p@ss:w@host/db"),
            "postgresql://u:***@host/db"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(redact_url("postgres://host/db"), "postgres://host/db");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn schema_names_are_checked() {
        assert!(check_schema("vigie_test_1").is_ok());
        for bad in ["", "1abc", "a-b", "A", "x\"; DROP TABLE y; --"] {
            assert!(check_schema(bad).unwrap_err().is_client_error(), "{bad}");
        }
    }

    #[tokio::test]
    async fn connection_errors_hide_the_password() {
        // Nothing listens on port 1; the error must name the host but not the password.
        let err = PostgresStore::connect("postgres://vigie:hunter2@127.0.0.1:1/vigie")
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("127.0.0.1:1"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!format!("{err:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn bad_urls_are_client_errors() {
        let err = PostgresStore::connect("postgres://u:hunter2@host:notaport/db")
            .await
            .unwrap_err();
        assert!(err.is_client_error(), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
