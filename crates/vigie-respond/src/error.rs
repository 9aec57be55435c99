//! Errors of the responding engine.

use vigie_store::StoreError;

/// What kind of failure a [`RespondError`] is (the HTTP layer maps it to a status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller's input is wrong: 400.
    BadRequest,
    /// No such scenario, room, draft or item: 404.
    NotFound,
    /// The action is not allowed in the current state (approving a blocked draft): 409.
    Conflict,
    /// The actor may not do this (not an approver, or approving their own draft): 403.
    Forbidden,
    /// A remote service (Mastodon, Bluesky) failed: 502.
    Upstream,
    /// A store failure or a bug: 500.
    Internal,
}

/// Errors of scenario loading, the engine and publication.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    /// A scenario file or document is invalid.
    #[error("invalid scenario {origin}: {message}")]
    Scenario {
        /// File path or scenario id.
        origin: String,
        /// Every mistake, one per line.
        message: String,
    },
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
    /// Something does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Not allowed now.
    #[error("{0}")]
    Conflict(String),
    /// Not allowed to this actor.
    #[error("{0}")]
    Forbidden(String),
    /// A publication failed.
    #[error("publication to {target} failed: {message}")]
    Publish {
        /// `mastodon`, `bluesky`.
        target: String,
        /// What went wrong (never a token).
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading a file failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// Path.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

impl RespondError {
    /// The kind, which decides the HTTP status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Scenario { .. } | Self::Invalid(_) => ErrorKind::BadRequest,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::Forbidden(_) => ErrorKind::Forbidden,
            Self::Publish { .. } => ErrorKind::Upstream,
            Self::Store(e) if e.is_client_error() => ErrorKind::BadRequest,
            Self::Store(_) | Self::Io { .. } => ErrorKind::Internal,
        }
    }
}

/// Result alias.
pub type RespondResult<T> = Result<T, RespondError>;
