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

pub mod connectors;
pub mod demo;
pub mod format;

use async_trait::async_trait;
use std::time::Duration;
use vigie_model::Mention;

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
}
