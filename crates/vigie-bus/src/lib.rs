//! The message bus between Vigie's process roles (see `docs/operations/scaling.md`).
//!
//! Two topics carry the work of a scaled-out installation:
//!
//! - [`Topic::Raw`]: batches of raw mentions published by the **ingest** role; a *work
//!   queue* shared by every **worker** (each message goes to one of them);
//! - [`Topic::Detect`]: what the workers stored for the first time, published for the
//!   **detector** role; every consumer (one per detector partition) sees every message.
//!
//! Every message has a per-topic sequence number given by the bus, is delivered at least
//! once, and stays until the consumer acknowledges it ([`Delivery::ack`]); a consumer that
//! cannot handle it yet asks for a later redelivery ([`Delivery::retry_later`]); one that
//! will never handle it (a malformed payload) sends it to the dead-letter topic with the
//! reason ([`Bus::dead_letter`]) and acknowledges it, so the stream is not blocked.
//!
//! Implementations: [`MemoryBus`] (in-process, the default, for tests and a single process)
//! and, with the `nats` feature, `NatsBus` over NATS JetStream (durable pull consumers,
//! explicit acknowledgements, bounded streams, de-duplication of re-published batches).

mod memory;
#[cfg(feature = "nats")]
mod nats;

pub use memory::MemoryBus;
#[cfg(feature = "nats")]
pub use nats::{NatsBus, NatsSettings};

use std::time::Duration;

/// The topics of the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Raw mention batches, ingest → workers (work queue: one worker per message).
    Raw,
    /// Newly stored mentions, workers → detectors (every consumer sees every message).
    Detect,
}

impl Topic {
    /// A short name (`raw`, `detect`), used in subjects, metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Detect => "detect",
        }
    }

    /// Whether each message goes to one consumer only (work queue).
    pub fn is_work_queue(self) -> bool {
        matches!(self, Self::Raw)
    }
}

/// What can go wrong on the bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The bus refused a message because the topic is at its configured limit: the
    /// publisher must wait and retry (this is how a backlog stays bounded).
    #[error("the {topic} topic is full ({detail})")]
    Full {
        /// The topic.
        topic: &'static str,
        /// The limit reached.
        detail: String,
    },
    /// The bus cannot be reached (connection lost, timeout): retry later.
    #[error("bus unavailable: {0}")]
    Unavailable(String),
    /// A configuration or protocol error that retrying will not fix.
    #[error("bus error: {0}")]
    Fatal(String),
}

impl BusError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        !matches!(self, Self::Fatal(_))
    }
}

/// Largest payload a bus accepts: a NATS server's default `max_payload` (1 MiB), which the
/// in-process bus enforces too so that tests meet the same limit.
pub const MAX_PAYLOAD: usize = 1 << 20;

/// Result of bus operations.
pub type BusResult<T> = Result<T, BusError>;

/// The outcome of a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Sequence number of the message in its topic.
    pub seq: u64,
    /// The bus already had a message with this de-duplication id: nothing was added.
    pub duplicate: bool,
}

/// Counters of one consumer, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerStats {
    /// Messages not yet delivered to this consumer (its lag).
    pub pending: u64,
    /// Messages delivered but not acknowledged yet.
    pub ack_pending: u64,
    /// Messages delivered more than once so far.
    pub redelivered: u64,
}

/// The bus: publish to a topic, consume a topic through a named durable consumer.
#[async_trait::async_trait]
pub trait Bus: Send + Sync + std::fmt::Debug {
    /// Which implementation (`memory`, `nats`).
    fn kind(&self) -> &'static str;

    /// Publishes `payload` and waits until the bus has it (persisted, for JetStream).
    /// `dedup_id` identifies the message: publishing the same id again within the bus's
    /// de-duplication window adds nothing (a publisher retrying after a lost reply).
    async fn publish(&self, topic: Topic, dedup_id: &str, payload: Vec<u8>)
    -> BusResult<Published>;

    /// Opens (creating it if needed) the durable consumer `name` of `topic`. Consumers of
    /// the same name share the messages (work queue); distinct names each see everything
    /// on [`Topic::Detect`].
    async fn consumer(&self, topic: Topic, name: &str) -> BusResult<Box<dyn Consumer>>;

    /// Puts a message on the dead-letter topic of `topic` with the reason it cannot be
    /// handled. The caller then acknowledges the original.
    async fn dead_letter(
        &self,
        topic: Topic,
        seq: u64,
        payload: &[u8],
        reason: &str,
    ) -> BusResult<()>;

    /// The dead letters of `topic` (payload, reason), oldest first, at most `max`.
    async fn dead_letters(&self, topic: Topic, max: usize) -> BusResult<Vec<DeadLetter>>;
}

/// A message that could not be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Sequence of the original message in its topic.
    pub seq: u64,
    /// Why it was set aside.
    pub reason: String,
    /// The original payload.
    pub payload: Vec<u8>,
}

/// A durable consumer.
#[async_trait::async_trait]
pub trait Consumer: Send + std::fmt::Debug {
    /// Up to `max` messages, waiting at most `wait` for the first one. An empty vector
    /// means nothing arrived in time.
    async fn fetch(&mut self, max: usize, wait: Duration) -> BusResult<Vec<Delivery>>;

    /// Lag and redelivery counters.
    async fn stats(&mut self) -> BusResult<ConsumerStats>;
}

/// One delivered message. Dropping it without acknowledging lets the bus redeliver it
/// after its acknowledgement deadline.
#[derive(Debug)]
pub struct Delivery {
    /// Sequence number of the message in its topic.
    pub seq: u64,
    /// How many times it has been delivered (1 the first time).
    pub delivered: u64,
    /// The payload.
    pub payload: Vec<u8>,
    acker: Box<dyn Acker>,
}

impl Delivery {
    /// Builds a delivery (for implementations).
    pub(crate) fn new(seq: u64, delivered: u64, payload: Vec<u8>, acker: Box<dyn Acker>) -> Self {
        Self {
            seq,
            delivered,
            payload,
            acker,
        }
    }

    /// Done with it: the bus will not deliver it again.
    pub async fn ack(self) -> BusResult<()> {
        self.acker.ack().await
    }

    /// Not now: deliver it again after `delay` (to this or another consumer of the name).
    pub async fn retry_later(self, delay: Duration) -> BusResult<()> {
        self.acker.nak(delay).await
    }

    /// Tells the bus the work is still going on (pushes the acknowledgement deadline back).
    pub async fn in_progress(&self) -> BusResult<()> {
        self.acker.progress().await
    }
}

/// How a delivery is acknowledged (one implementation per bus).
#[async_trait::async_trait]
pub(crate) trait Acker: Send + Sync + std::fmt::Debug {
    async fn ack(&self) -> BusResult<()>;
    async fn nak(&self, delay: Duration) -> BusResult<()>;
    async fn progress(&self) -> BusResult<()>;
}

/// The delay before the `delivered`-th redelivery of a message that failed: 1 s, 2 s, 4 s…
/// up to 30 s.
pub fn redelivery_backoff(delivered: u64) -> Duration {
    let exp = delivered.saturating_sub(1).min(5);
    Duration::from_secs((1u64 << exp).min(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_caps() {
        assert_eq!(redelivery_backoff(1), Duration::from_secs(1));
        assert_eq!(redelivery_backoff(2), Duration::from_secs(2));
        assert_eq!(redelivery_backoff(5), Duration::from_secs(16));
        assert_eq!(redelivery_backoff(6), Duration::from_secs(30));
        assert_eq!(redelivery_backoff(100), Duration::from_secs(30));
    }
}
