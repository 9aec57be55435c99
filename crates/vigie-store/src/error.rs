//! Store errors.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Could not open or reach the database.
    #[error("cannot open database {target}: {source}")]
    Connect {
        /// Path or URL (password redacted).
        target: String,
        /// The driver error.
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error during {operation}: {source}")]
    Query {
        /// What we were doing (`insert mentions`, …).
        operation: &'static str,
        /// The driver error.
        #[source]
        source: sqlx::Error,
    },
    /// A stored value could not be decoded (corrupt row or incompatible version).
    #[error("corrupt stored {what}: {detail}")]
    Corrupt {
        /// Which kind of record.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A caller-supplied value is invalid (bad cursor, bad URL).
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// Which input.
        what: &'static str,
        /// Why.
        detail: String,
    },
}

impl StoreError {
    /// `true` when the caller's input is at fault (a bad cursor, a bad URL, an unknown id):
    /// the HTTP layer answers 400 and retrying the same call cannot succeed. Everything else
    /// (connection, query, migration, corrupt row) is the server's problem.
    pub fn is_client_error(&self) -> bool {
        matches!(self, Self::Invalid { .. })
    }

    /// `true` when the database could not be reached or went away (connection refused or
    /// reset, pool timed out, server shutting down or starting): the same call can succeed
    /// later, so a message that failed only for this must never be treated as poison.
    pub fn is_unavailable(&self) -> bool {
        let source = match self {
            Self::Connect { .. } => return true,
            Self::Query { source, .. } => source,
            _ => return false,
        };
        match source {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|c| {
                // Class 08: connection exception; 57P01-57P03: shutdown, crash, starting up.
                c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")
            }),
            _ => false,
        }
    }

    /// Wraps a driver error with the operation that failed.
    pub(crate) fn query(operation: &'static str) -> impl Fn(sqlx::Error) -> Self + Copy {
        move |source| Self::Query { operation, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_invalid_is_a_client_error() {
        let invalid = StoreError::Invalid {
            what: "cursor",
            detail: "x".into(),
        };
        assert!(invalid.is_client_error());
        assert_eq!(invalid.to_string(), "invalid cursor: x");
        let corrupt = StoreError::Corrupt {
            what: "mention",
            detail: "y".into(),
        };
        assert!(!corrupt.is_client_error());
        let query = StoreError::query("count mentions")(sqlx::Error::RowNotFound);
        assert!(!query.is_client_error());
        assert!(
            query
                .to_string()
                .starts_with("database error during count mentions")
        );
    }

    #[test]
    fn only_an_unreachable_database_is_unavailable() {
        let io = StoreError::query("insert mentions")(sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(io.is_unavailable());
        assert!(StoreError::query("insert mentions")(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(!StoreError::query("count mentions")(sqlx::Error::RowNotFound).is_unavailable());
        let corrupt = StoreError::Corrupt {
            what: "mention",
            detail: "y".into(),
        };
        assert!(!corrupt.is_unavailable());
    }
}
