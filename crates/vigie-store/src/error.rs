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
