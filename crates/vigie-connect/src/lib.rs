//! Sources of mentions: the [`Connector`] trait, the file connectors (JSON Lines and CSV,
//! read once and then followed), the interchange [formats](mod@format), and the synthetic
//! [`demo`] crisis.
//!
//! A connector delivers batches of [`Mention`]s and, after each batch, a cursor. The
//! pipeline saves the cursor only once the batch is stored, so a restart resumes from the
//! last stored position (at-least-once delivery; the store de-duplicates).
//!
//! ```
//! use vigie_connect::format::{parse, Format};
//! let line = br#"{"source":"rss","external_id":"1","author":{"handle":"a"},"published_at":"2026-03-01T10:00:00Z","text":"Orsane"}"#;
//! let parsed = parse(Format::Jsonl, line);
//! assert_eq!(parsed[0].as_ref().unwrap().text, "Orsane");
//! ```

pub mod backoff;
pub mod connectors;
pub mod demo;
pub mod format;
pub mod health;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "push")]
pub mod push;
pub mod registry;
pub mod text;

#[cfg(test)]
mod compliance;

use async_trait::async_trait;
use std::time::Duration;
use vigie_model::{Mention, MentionChange};

pub use format::RecordError;

/// What a poll produced besides the mentions it appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOutcome {
    /// More may be available right away: poll again.
    Ready,
    /// Nothing new: poll again after this delay.
    Idle(Duration),
    /// The source is exhausted (a finite import): stop.
    Finished,
}

/// A failure of a connector.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// I/O on the source failed (retryable).
    #[error("cannot read {target}: {source}")]
    Io {
        /// What was read (path, URL).
        target: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A saved cursor cannot be used.
    #[error("invalid cursor {cursor:?}: {reason}")]
    BadCursor {
        /// The cursor.
        cursor: String,
        /// Why.
        reason: String,
    },
    /// The network failed: connection refused or reset, timeout, stream dropped.
    #[error("network error on {target}: {reason}")]
    Network {
        /// The URL.
        target: String,
        /// Why.
        reason: String,
    },
    /// The server answered with an error status (other than 429).
    #[error("{target} answered HTTP {status}: {reason}")]
    Http {
        /// The URL.
        target: String,
        /// The status code.
        status: u16,
        /// The reason or the start of the body.
        reason: String,
        /// `Retry-After`, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// The server asked us to slow down (HTTP 429 or an exhausted rate-limit budget).
    #[error("rate limited by {target}; retry in {retry_after:?}")]
    RateLimited {
        /// The URL.
        target: String,
        /// How long to wait, from `Retry-After` or the rate-limit reset header.
        retry_after: Duration,
    },
    /// The server spoke, but not the expected protocol (a body that is not a feed, too big…).
    #[error("unexpected answer from {target}: {reason}")]
    Protocol {
        /// The URL.
        target: String,
        /// Why.
        reason: String,
    },
    /// The connector cannot be built from its configuration (missing secret…).
    #[error("cannot start source {source_id}: {reason}")]
    Setup {
        /// The source id.
        source_id: String,
        /// Why.
        reason: String,
    },
}

/// How a failure should be retried (after the X API's documented reconnect tiers, which fit
/// every network): see [`backoff::BackoffPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// TCP/TLS/stream failures: retry soon, growing linearly.
    Network,
    /// HTTP errors and protocol errors: exponential from seconds.
    Http,
    /// 429 / exhausted budget: exponential from a minute (or what the server said).
    RateLimited,
}

impl ConnectorError {
    /// The retry class of this failure.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Io { .. } | Self::Network { .. } => ErrorClass::Network,
            Self::RateLimited { .. } => ErrorClass::RateLimited,
            Self::Http { status: 429, .. } => ErrorClass::RateLimited,
            Self::Http { .. }
            | Self::Protocol { .. }
            | Self::BadCursor { .. }
            | Self::Setup { .. } => ErrorClass::Http,
        }
    }

    /// The delay the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => Some(*retry_after),
            Self::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// One account, feed or file on one platform.
#[async_trait]
pub trait Connector: Send {
    /// The source id from the configuration (checkpoints are saved under it).
    fn id(&self) -> &str;
    /// Resumes after a saved cursor.
    fn seek(&mut self, cursor: &str) -> Result<(), ConnectorError>;
    /// Appends new mentions to `out`; records that could not be parsed go to `rejected`.
    async fn poll(
        &mut self,
        out: &mut Vec<Mention>,
        rejected: &mut Vec<RecordError>,
    ) -> Result<PollOutcome, ConnectorError>;
    /// The position after everything returned so far.
    fn cursor(&self) -> String;
    /// Edits and deletions seen since the last call, in source order. The source task applies
    /// them to the stored mentions. Sources without edits keep the default (none).
    fn take_changes(&mut self) -> Vec<MentionChange> {
        Vec::new()
    }
    /// The network name (`mastodon`, `rss`, `jsonl`…) for health and metrics.
    fn kind(&self) -> &'static str {
        "file"
    }
    /// Whoever waits for the batch just returned to be stored (pushed sources: the
    /// webhook requests it came from). The source task hands them to the pipeline with
    /// the batch; pulled sources keep the default (nobody).
    fn take_receipts(&mut self) -> Receipts {
        Receipts::default()
    }
}

/// Waiters told when a batch is safely stored (or, in a scaled-out installation, persisted
/// by the bus): [`Receipts::confirm`]. Dropped unconfirmed — the batch was lost or the
/// pipeline stopped — each waiter learns it failed, so a webhook answers 503 and its sender
/// retries instead of believing a mention stored that is not.
#[derive(Debug, Default, Clone)]
pub struct Receipts(std::sync::Arc<std::sync::Mutex<Vec<tokio::sync::oneshot::Sender<()>>>>);

impl Receipts {
    /// Receipts for these waiters.
    pub fn new(waiters: Vec<tokio::sync::oneshot::Sender<()>>) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(waiters)))
    }

    /// No waiter.
    pub fn is_empty(&self) -> bool {
        lock(&self.0).is_empty()
    }

    /// Tells every waiter its batch is stored.
    pub fn confirm(&self) {
        for w in std::mem::take(&mut *lock(&self.0)) {
            let _ = w.send(());
        }
    }

    /// Tells every waiter its batch was not stored (as dropping the last clone does).
    pub fn fail(&self) {
        lock(&self.0).clear();
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
