//! Errors of notifiers and of the mobilizer.

/// A delivery that did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Worth trying again later (network error, timeout, HTTP 429 or 5xx, SMTP 4xx).
    #[error("temporary delivery failure: {0}")]
    Retryable(String),
    /// Trying again cannot help (HTTP 4xx, bad address, missing secret, SMTP 5xx).
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
}

impl NotifyError {
    /// Whether another attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable(_))
    }
}

/// What the mobilizer's operations can fail with.
#[derive(Debug, thiserror::Error)]
pub enum MobilizeError {
    /// No such incident (or not in this workspace).
    #[error("no incident {0}")]
    NotFound(i64),
    /// The request is invalid (empty note, unknown person, already resolved…).
    #[error("{0}")]
    Invalid(String),
    /// An acknowledgement link is malformed, forged, expired or already used.
    #[error("acknowledgement link refused: {0}")]
    Link(&'static str),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] vigie_store::StoreError),
}

impl MobilizeError {
    /// `true` when the caller is at fault (HTTP 4xx).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, Self::Store(e) if !e.is_client_error())
    }
}
