//! The NATS JetStream bus.
//!
//! | topic | subject | stream | retention | consumer(s) |
//! |---|---|---|---|---|
//! | raw | `vigie.raw` | `VIGIE_RAW` | work queue, bounded, discard new | durable `workers`, shared |
//! | detect | `vigie.detect` | `VIGIE_DETECT` | interest, bounded, discard new | durable `detector-<p>`, one per partition |
//! | dead letters | `vigie.dead.<topic>` | `VIGIE_DEAD` | limits, 30 days, discard old | read by operators |
//!
//! All consumers are pull consumers with explicit acknowledgement and unlimited
//! redeliveries (a message that can never succeed is dead-lettered by the application,
//! with its reason, rather than dropped silently by the server). Publishes carry a
//! `Nats-Msg-Id` so a publisher retrying after a lost acknowledgement adds nothing.

use crate::{
    Acker, Bus, BusError, BusResult, Consumer, ConsumerStats, DeadLetter, Delivery, Published,
    Topic,
};
use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use std::time::Duration;

/// Header carrying the reason of a dead letter.
const REASON_HEADER: &str = "Vigie-Reason";
/// Header carrying the original sequence of a dead letter.
const SEQ_HEADER: &str = "Vigie-Seq";

/// Limits and timings of the NATS bus (see `[bus]` in the configuration).
#[derive(Debug, Clone)]
pub struct NatsSettings {
    /// Server URL(s), comma-separated (`nats://127.0.0.1:4222`).
    pub url: String,
    /// Most messages a topic holds before publishers must wait.
    pub max_messages: i64,
    /// Most bytes a topic holds before publishers must wait.
    pub max_bytes: i64,
    /// How long a raw batch may wait in the bus.
    pub max_age: Duration,
    /// How long a delivered message may stay unacknowledged before redelivery.
    pub ack_wait: Duration,
    /// Most unacknowledged messages per consumer.
    pub max_ack_pending: i64,
    /// Window in which a re-published message id is recognised as a duplicate.
    pub duplicate_window: Duration,
    /// JetStream replicas (1 on a single server, 3 in a cluster).
    pub replicas: usize,
    /// Prefix of subjects and stream names (`vigie`: `vigie.raw`, `VIGIE_RAW`), so that
    /// several installations (or test runs) can share one NATS server.
    pub namespace: String,
}

impl NatsSettings {
    /// Defaults for `url`: 1,000,000 messages / 1 GiB per topic, 7 days, 60 s ack wait.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_messages: 1_000_000,
            max_bytes: 1 << 30,
            max_age: Duration::from_secs(7 * 24 * 3600),
            ack_wait: Duration::from_secs(60),
            max_ack_pending: 20_000,
            duplicate_window: Duration::from_secs(120),
            replicas: 1,
            namespace: "vigie".to_owned(),
        }
    }
}

/// A [`Bus`] over NATS JetStream.
#[derive(Debug, Clone)]
pub struct NatsBus {
    js: jetstream::Context,
    settings: NatsSettings,
}

impl NatsBus {
    fn subject(&self, topic: Topic) -> String {
        format!("{}.{}", self.settings.namespace, topic.as_str())
    }

    fn stream_name(&self, topic: &str) -> String {
        format!("{}_{}", self.settings.namespace, topic).to_uppercase()
    }

    fn dead_subject(&self, topic: Topic) -> String {
        format!("{}.dead.{}", self.settings.namespace, topic.as_str())
    }
}

fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(e.to_string())
}

impl NatsBus {
    /// Connects (retrying in the background while the server is away) and creates the
    /// streams if they do not exist.
    pub async fn connect(settings: NatsSettings) -> BusResult<Self> {
        let client = async_nats::ConnectOptions::new()
            .name("vigie")
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(5))
            .connect(settings.url.as_str())
            .await
            .map_err(|e| BusError::Fatal(format!("connecting to {}: {e}", settings.url)))?;
        let ns_ok = !settings.namespace.is_empty()
            && settings
                .namespace
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ns_ok {
            return Err(BusError::Fatal(format!(
                "bus namespace {:?}: use letters, digits, '_' or '-'",
                settings.namespace
            )));
        }
        let js = jetstream::new(client);
        let bus = Self { js, settings };
        for topic in [Topic::Raw, Topic::Detect] {
            bus.stream(topic).await?;
        }
        bus.dead_stream().await?;
        Ok(bus)
    }

    /// Deletes this namespace's streams (raw, detection, dead letters) and everything in
    /// them, releasing the storage JetStream reserved for them. For tests and for
    /// decommissioning an installation; a stream that is already gone is not an error.
    pub async fn delete_streams(&self) -> BusResult<()> {
        for topic in ["raw", "detect", "dead"] {
            let name = self.stream_name(topic);
            match self.js.delete_stream(&name).await {
                Ok(_) => {}
                Err(e) if e.to_string().contains("not found") => {}
                Err(e) => return Err(unavailable(format!("deleting stream {name}: {e}"))),
            }
        }
        Ok(())
    }

    async fn stream(&self, topic: Topic) -> BusResult<stream::Stream> {
        let s = &self.settings;
        let retention = if topic.is_work_queue() {
            stream::RetentionPolicy::WorkQueue
        } else {
            stream::RetentionPolicy::Interest
        };
        let name = self.stream_name(topic.as_str());
        self.js
            .get_or_create_stream(stream::Config {
                name: name.clone(),
                subjects: vec![self.subject(topic)],
                retention,
                max_messages: s.max_messages,
                max_bytes: s.max_bytes,
                max_age: s.max_age,
                discard: stream::DiscardPolicy::New,
                duplicate_window: s.duplicate_window,
                storage: stream::StorageType::File,
                num_replicas: s.replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| unavailable(format!("stream {name}: {e}")))
    }

    async fn dead_stream(&self) -> BusResult<stream::Stream> {
        let name = self.stream_name("dead");
        self.js
            .get_or_create_stream(stream::Config {
                name: name.clone(),
                subjects: vec![format!("{}.dead.>", self.settings.namespace)],
                retention: stream::RetentionPolicy::Limits,
                max_messages: 100_000,
                max_age: Duration::from_secs(30 * 24 * 3600),
                discard: stream::DiscardPolicy::Old,
                storage: stream::StorageType::File,
                num_replicas: self.settings.replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| unavailable(format!("stream {name}: {e}")))
    }
}

#[async_trait::async_trait]
impl Bus for NatsBus {
    fn kind(&self) -> &'static str {
        "nats"
    }

    async fn publish(
        &self,
        topic: Topic,
        dedup_id: &str,
        payload: Vec<u8>,
    ) -> BusResult<Published> {
        let message = jetstream::message::PublishMessage::build()
            .payload(payload.into())
            .message_id(dedup_id);
        let ack = self
            .js
            .send_publish(self.subject(topic), message)
            .await
            .map_err(|e| {
                let text = e.to_string();
                // Retrying a message the server can never take would block its sequence.
                if text.contains("max payload") {
                    BusError::Fatal(text)
                } else {
                    unavailable(text)
                }
            })?
            .await
            .map_err(|e| {
                let text = e.to_string();
                // JetStream answers "maximum messages/bytes exceeded" on a full stream with
                // the discard-new policy.
                if text.contains("maximum") || text.contains("exceeded") {
                    BusError::Full {
                        topic: topic.as_str(),
                        detail: text,
                    }
                } else {
                    unavailable(text)
                }
            })?;
        Ok(Published {
            seq: ack.sequence,
            duplicate: ack.duplicate,
        })
    }

    async fn consumer(&self, topic: Topic, name: &str) -> BusResult<Box<dyn Consumer>> {
        let stream = self.stream(topic).await?;
        let consumer: consumer::PullConsumer = stream
            .get_or_create_consumer(
                name,
                consumer::pull::Config {
                    durable_name: Some(name.to_owned()),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: self.settings.ack_wait,
                    max_deliver: -1,
                    max_ack_pending: self.settings.max_ack_pending,
                    deliver_policy: consumer::DeliverPolicy::All,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| unavailable(format!("consumer {name}: {e}")))?;
        Ok(Box::new(NatsConsumer { consumer }))
    }

    async fn dead_letter(
        &self,
        topic: Topic,
        seq: u64,
        payload: &[u8],
        reason: &str,
    ) -> BusResult<()> {
        let mut headers = async_nats::HeaderMap::new();
        // Header values cannot hold line breaks.
        let reason: String = reason
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(1000)
            .collect();
        headers.insert(REASON_HEADER, reason.as_str());
        headers.insert(SEQ_HEADER, seq.to_string().as_str());
        let message = jetstream::message::PublishMessage::build()
            .payload(payload.to_vec().into())
            .headers(headers)
            .message_id(format!("dead-{}-{seq}", topic.as_str()));
        self.js
            .send_publish(self.dead_subject(topic), message)
            .await
            .map_err(unavailable)?
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn dead_letters(&self, topic: Topic, max: usize) -> BusResult<Vec<DeadLetter>> {
        let mut stream = self.dead_stream().await?;
        let info = stream.info().await.map_err(unavailable)?;
        let (first, last) = (info.state.first_sequence, info.state.last_sequence);
        let wanted = self.dead_subject(topic);
        let mut out = Vec::new();
        for seq in first..=last {
            if out.len() >= max || last == 0 {
                break;
            }
            let Ok(m) = stream.get_raw_message(seq).await else {
                continue;
            };
            if m.subject.as_str() != wanted {
                continue;
            }
            let header = |name: &str| {
                m.headers
                    .get(name)
                    .map(|v| v.as_str().to_owned())
                    .unwrap_or_default()
            };
            out.push(DeadLetter {
                seq: header(SEQ_HEADER).parse().unwrap_or(0),
                reason: header(REASON_HEADER),
                payload: m.payload.to_vec(),
            });
        }
        Ok(out)
    }
}

#[derive(Debug)]
struct NatsConsumer {
    consumer: consumer::PullConsumer,
}

impl std::fmt::Debug for NatsAcker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsAcker").finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Consumer for NatsConsumer {
    async fn fetch(&mut self, max: usize, wait: Duration) -> BusResult<Vec<Delivery>> {
        let mut batch = self
            .consumer
            .fetch()
            .max_messages(max.max(1))
            .expires(wait.max(Duration::from_millis(10)))
            .messages()
            .await
            .map_err(unavailable)?;
        let mut out = Vec::new();
        while let Some(message) = batch.next().await {
            let message = message.map_err(unavailable)?;
            let (seq, delivered) = match message.info() {
                Ok(info) => (
                    info.stream_sequence,
                    u64::try_from(info.delivered).unwrap_or(1),
                ),
                Err(e) => return Err(BusError::Fatal(format!("message without info: {e}"))),
            };
            let payload = message.message.payload.to_vec();
            out.push(Delivery::new(
                seq,
                delivered,
                payload,
                Box::new(NatsAcker { message }),
            ));
        }
        Ok(out)
    }

    async fn stats(&mut self) -> BusResult<ConsumerStats> {
        let info = self.consumer.info().await.map_err(unavailable)?;
        Ok(ConsumerStats {
            pending: info.num_pending,
            ack_pending: info.num_ack_pending as u64,
            redelivered: info.num_redelivered as u64,
        })
    }
}

struct NatsAcker {
    message: jetstream::Message,
}

#[async_trait::async_trait]
impl Acker for NatsAcker {
    async fn ack(&self) -> BusResult<()> {
        // A double ack makes sure the server recorded it before we move on (otherwise a
        // crash right after could still redeliver; the application tolerates that too).
        self.message.double_ack().await.map_err(unavailable)
    }

    async fn nak(&self, delay: Duration) -> BusResult<()> {
        self.message
            .ack_with(jetstream::AckKind::Nak(Some(delay)))
            .await
            .map_err(unavailable)
    }

    async fn progress(&self) -> BusResult<()> {
        self.message
            .ack_with(jetstream::AckKind::Progress)
            .await
            .map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    async fn bus(test: &str) -> Option<NatsBus> {
        let Ok(url) = std::env::var("VIGIE_TEST_NATS_URL") else {
            eprintln!("skipped: VIGIE_TEST_NATS_URL is not set (scripts/nats-test-server.sh)");
            return None;
        };
        let mut settings = NatsSettings::new(url);
        settings.namespace = format!("t{}_{test}", std::process::id());
        settings.max_messages = 3;
        // JetStream reserves max_bytes per stream: keep test streams small.
        settings.max_bytes = 1 << 20;
        settings.ack_wait = Duration::from_secs(2);
        Some(NatsBus::connect(settings).await.unwrap())
    }

    #[tokio::test]
    async fn jetstream_work_queue_acks_redelivery_and_limits() {
        let Some(bus) = bus("wq").await else { return };
        let p1 = bus.publish(Topic::Raw, "a", b"1".to_vec()).await.unwrap();
        let again = bus.publish(Topic::Raw, "a", b"1".to_vec()).await.unwrap();
        assert!(again.duplicate);
        assert_eq!(again.seq, p1.seq);
        bus.publish(Topic::Raw, "b", b"2".to_vec()).await.unwrap();
        bus.publish(Topic::Raw, "c", b"3".to_vec()).await.unwrap();
        // Bounded: the fourth message waits for room.
        let full = bus
            .publish(Topic::Raw, "d", b"4".to_vec())
            .await
            .unwrap_err();
        assert!(matches!(full, BusError::Full { .. }), "{full}");

        let mut c = bus.consumer(Topic::Raw, "workers").await.unwrap();
        let got = c.fetch(10, Duration::from_secs(1)).await.unwrap();
        assert_eq!(
            got.iter().map(|d| d.payload.clone()).collect::<Vec<_>>(),
            [b"1", b"2", b"3"]
        );
        let mut got = got.into_iter();
        got.next().unwrap().ack().await.unwrap();
        got.next()
            .unwrap()
            .retry_later(Duration::ZERO)
            .await
            .unwrap();
        got.next().unwrap().ack().await.unwrap();
        let back = c.fetch(10, Duration::from_secs(2)).await.unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(
            (back[0].payload.as_slice(), back[0].delivered),
            (&b"2"[..], 2)
        );
        let stats = c.stats().await.unwrap();
        assert_eq!(stats.ack_pending, 1);
        for d in back {
            d.ack().await.unwrap();
        }
        // Room again.
        bus.publish(Topic::Raw, "d", b"4".to_vec()).await.unwrap();
        bus.delete_streams().await.unwrap();
        // Deleting twice is fine.
        bus.delete_streams().await.unwrap();
    }

    #[tokio::test]
    async fn jetstream_dead_letters_keep_the_reason() {
        let Some(bus) = bus("dead").await else { return };
        bus.dead_letter(
            Topic::Raw,
            12,
            b"{oops",
            "malformed payload: line 1\ncolumn 2",
        )
        .await
        .unwrap();
        let dead = bus.dead_letters(Topic::Raw, 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].seq, 12);
        assert_eq!(dead[0].payload, b"{oops");
        assert_eq!(dead[0].reason, "malformed payload: line 1 column 2");
        bus.delete_streams().await.unwrap();
    }
}
