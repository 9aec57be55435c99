//! The in-process bus: bounded topics in memory with the same delivery rules as the NATS
//! one (sequence numbers, durable named consumers, explicit acknowledgements, redelivery,
//! de-duplication ids, dead letters). Nothing survives the process.

use crate::{
    Acker, Bus, BusError, BusResult, Consumer, ConsumerStats, DeadLetter, Delivery, Published,
    Topic,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// De-duplication ids remembered per topic.
const DEDUP_WINDOW: usize = 100_000;

/// An in-process [`Bus`].
#[derive(Debug, Clone)]
pub struct MemoryBus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    capacity: usize,
    state: Mutex<BTreeMap<Topic, TopicState>>,
    notify: Notify,
}

#[derive(Debug)]
struct TopicState {
    next_seq: u64,
    log: BTreeMap<u64, Vec<u8>>,
    dedup: HashMap<String, u64>,
    dedup_order: VecDeque<String>,
    consumers: BTreeMap<String, ConsumerState>,
    dead: Vec<DeadLetter>,
}

#[derive(Debug, Default)]
struct ConsumerState {
    /// The next sequence never delivered to this consumer.
    next: u64,
    /// Sequences to deliver again, now.
    ready: BTreeSet<u64>,
    /// Delivered, not acknowledged: sequence → deliveries so far.
    in_flight: BTreeMap<u64, u64>,
    /// Deliveries so far of messages handed back for redelivery.
    counts: BTreeMap<u64, u64>,
    /// Acknowledged sequences still in the log (fan-out topics).
    acked: BTreeSet<u64>,
    redelivered: u64,
}

impl TopicState {
    fn new() -> Self {
        Self {
            next_seq: 1,
            log: BTreeMap::new(),
            dedup: HashMap::new(),
            dedup_order: VecDeque::new(),
            consumers: BTreeMap::new(),
            dead: Vec::new(),
        }
    }

    /// Drops a message from the log once every consumer acknowledged it.
    fn collect(&mut self, seq: u64) {
        if self.consumers.values().all(|c| c.acked.contains(&seq)) {
            self.log.remove(&seq);
            for c in self.consumers.values_mut() {
                c.acked.remove(&seq);
            }
        }
    }
}

impl MemoryBus {
    /// A bus whose topics hold at most `capacity` unacknowledged messages each; publishing
    /// beyond that fails with [`BusError::Full`].
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                capacity: capacity.max(1),
                state: Mutex::new(BTreeMap::new()),
                notify: Notify::new(),
            }),
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<Topic, TopicState>> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than losing the bus; keep going with the data.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn requeue(&self, topic: Topic, name: &str, seq: u64) {
        let mut state = self.lock();
        if let Some(c) = state
            .get_mut(&topic)
            .and_then(|t| t.consumers.get_mut(name))
            && let Some(n) = c.in_flight.remove(&seq)
        {
            c.counts.insert(seq, n);
            c.ready.insert(seq);
        }
        drop(state);
        self.notify.notify_waiters();
    }
}

#[async_trait::async_trait]
impl Bus for MemoryBus {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn publish(
        &self,
        topic: Topic,
        dedup_id: &str,
        payload: Vec<u8>,
    ) -> BusResult<Published> {
        if payload.len() > crate::MAX_PAYLOAD {
            // As a NATS server with its default `max_payload` answers.
            return Err(BusError::Fatal(format!(
                "max payload size exceeded: {} bytes > {}",
                payload.len(),
                crate::MAX_PAYLOAD
            )));
        }
        let mut state = self.inner.lock();
        let t = state.entry(topic).or_insert_with(TopicState::new);
        if let Some(&seq) = t.dedup.get(dedup_id) {
            return Ok(Published {
                seq,
                duplicate: true,
            });
        }
        if t.log.len() >= self.inner.capacity {
            return Err(BusError::Full {
                topic: topic.as_str(),
                detail: format!("{} messages", self.inner.capacity),
            });
        }
        let seq = t.next_seq;
        t.next_seq += 1;
        t.log.insert(seq, payload);
        t.dedup.insert(dedup_id.to_owned(), seq);
        t.dedup_order.push_back(dedup_id.to_owned());
        if t.dedup_order.len() > DEDUP_WINDOW
            && let Some(old) = t.dedup_order.pop_front()
        {
            t.dedup.remove(&old);
        }
        drop(state);
        self.inner.notify.notify_waiters();
        Ok(Published {
            seq,
            duplicate: false,
        })
    }

    async fn consumer(&self, topic: Topic, name: &str) -> BusResult<Box<dyn Consumer>> {
        let mut state = self.inner.lock();
        let t = state.entry(topic).or_insert_with(TopicState::new);
        let first = t.log.keys().next().copied().unwrap_or(t.next_seq);
        t.consumers
            .entry(name.to_owned())
            .or_insert_with(|| ConsumerState {
                next: first,
                ..ConsumerState::default()
            });
        Ok(Box::new(MemoryConsumer {
            inner: self.inner.clone(),
            topic,
            name: name.to_owned(),
        }))
    }

    async fn dead_letter(
        &self,
        topic: Topic,
        seq: u64,
        payload: &[u8],
        reason: &str,
    ) -> BusResult<()> {
        let mut state = self.inner.lock();
        let t = state.entry(topic).or_insert_with(TopicState::new);
        t.dead.push(DeadLetter {
            seq,
            reason: reason.to_owned(),
            payload: payload.to_vec(),
        });
        Ok(())
    }

    async fn dead_letters(&self, topic: Topic, max: usize) -> BusResult<Vec<DeadLetter>> {
        let state = self.inner.lock();
        Ok(state
            .get(&topic)
            .map(|t| t.dead.iter().take(max).cloned().collect())
            .unwrap_or_default())
    }
}

#[derive(Debug)]
struct MemoryConsumer {
    inner: Arc<Inner>,
    topic: Topic,
    name: String,
}

impl MemoryConsumer {
    fn take(&self, max: usize) -> Vec<Delivery> {
        let mut state = self.inner.lock();
        let Some(t) = state.get_mut(&self.topic) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let Some(c) = t.consumers.get_mut(&self.name) else {
            return Vec::new();
        };
        while out.len() < max {
            let (seq, delivered) = if let Some(seq) = c.ready.pop_first() {
                let n = c.counts.remove(&seq).unwrap_or(0) + 1;
                c.redelivered += 1;
                (seq, n)
            } else if c.next < t.next_seq {
                let seq = c.next;
                c.next += 1;
                (seq, 1)
            } else {
                break;
            };
            // A message may already be gone (acknowledged through another name of a work
            // queue is impossible: one name only; or dropped by capacity): skip it.
            let Some(payload) = t.log.get(&seq).cloned() else {
                continue;
            };
            c.in_flight.insert(seq, delivered);
            out.push(Delivery::new(
                seq,
                delivered,
                payload,
                Box::new(MemoryAcker {
                    inner: self.inner.clone(),
                    topic: self.topic,
                    name: self.name.clone(),
                    seq,
                    done: std::sync::atomic::AtomicBool::new(false),
                }),
            ));
        }
        out
    }
}

#[async_trait::async_trait]
impl Consumer for MemoryConsumer {
    async fn fetch(&mut self, max: usize, wait: Duration) -> BusResult<Vec<Delivery>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.inner.notify.notified();
            let got = self.take(max.max(1));
            if !got.is_empty() {
                return Ok(got);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    async fn stats(&mut self) -> BusResult<ConsumerStats> {
        let state = self.inner.lock();
        let Some(t) = state.get(&self.topic) else {
            return Ok(ConsumerStats::default());
        };
        let Some(c) = t.consumers.get(&self.name) else {
            return Ok(ConsumerStats::default());
        };
        Ok(ConsumerStats {
            pending: t.next_seq.saturating_sub(c.next) + c.ready.len() as u64,
            ack_pending: c.in_flight.len() as u64,
            redelivered: c.redelivered,
        })
    }
}

#[derive(Debug)]
struct MemoryAcker {
    inner: Arc<Inner>,
    topic: Topic,
    name: String,
    seq: u64,
    done: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl Acker for MemoryAcker {
    async fn ack(&self) -> BusResult<()> {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut state = self.inner.lock();
        if let Some(t) = state.get_mut(&self.topic) {
            if let Some(c) = t.consumers.get_mut(&self.name) {
                c.in_flight.remove(&self.seq);
                c.acked.insert(self.seq);
            }
            t.collect(self.seq);
        }
        Ok(())
    }

    async fn nak(&self, delay: Duration) -> BusResult<()> {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
        let (inner, topic, name, seq) =
            (self.inner.clone(), self.topic, self.name.clone(), self.seq);
        if delay.is_zero() {
            inner.requeue(topic, &name, seq);
        } else {
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                inner.requeue(topic, &name, seq);
            });
        }
        Ok(())
    }

    async fn progress(&self) -> BusResult<()> {
        Ok(())
    }
}

impl Drop for MemoryAcker {
    /// A delivery dropped without an answer is delivered again (as when a process dies).
    fn drop(&mut self) {
        if !self.done.load(std::sync::atomic::Ordering::SeqCst) {
            self.inner.requeue(self.topic, &self.name, self.seq);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const NOW: Duration = Duration::from_millis(10);

    #[tokio::test]
    async fn work_queue_delivers_each_message_once_until_acknowledged() {
        let bus = MemoryBus::new(10);
        let mut a = bus.consumer(Topic::Raw, "workers").await.unwrap();
        let mut b = bus.consumer(Topic::Raw, "workers").await.unwrap();
        for i in 0..3 {
            let p = bus
                .publish(Topic::Raw, &format!("m{i}"), vec![i])
                .await
                .unwrap();
            assert_eq!(p.seq, u64::from(i) + 1);
        }
        let first = a.fetch(2, NOW).await.unwrap();
        let second = b.fetch(5, NOW).await.unwrap();
        assert_eq!(first.iter().map(|d| d.seq).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(second.iter().map(|d| d.seq).collect::<Vec<_>>(), [3]);
        // A dropped delivery comes back, counted as a redelivery.
        let mut first = first.into_iter();
        first.next().unwrap().ack().await.unwrap();
        drop(first);
        let again = b.fetch(5, NOW).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!((again[0].seq, again[0].delivered), (2, 2));
        assert_eq!(b.stats().await.unwrap().redelivered, 1);
    }

    #[tokio::test]
    async fn duplicates_and_limits() {
        let bus = MemoryBus::new(2);
        assert!(
            !bus.publish(Topic::Raw, "x", vec![1])
                .await
                .unwrap()
                .duplicate
        );
        let dup = bus.publish(Topic::Raw, "x", vec![1]).await.unwrap();
        assert!(dup.duplicate);
        assert_eq!(dup.seq, 1);
        bus.publish(Topic::Raw, "y", vec![2]).await.unwrap();
        let full = bus.publish(Topic::Raw, "z", vec![3]).await.unwrap_err();
        assert!(matches!(full, BusError::Full { .. }), "{full}");
        assert!(full.is_transient());
        // Acknowledging frees room.
        let mut c = bus.consumer(Topic::Raw, "w").await.unwrap();
        for d in c.fetch(1, NOW).await.unwrap() {
            d.ack().await.unwrap();
        }
        bus.publish(Topic::Raw, "z", vec![3]).await.unwrap();
    }

    #[tokio::test]
    async fn fan_out_consumers_each_see_everything_and_retry_later_redelivers() {
        let bus = MemoryBus::new(10);
        let mut p0 = bus.consumer(Topic::Detect, "p0").await.unwrap();
        let mut p1 = bus.consumer(Topic::Detect, "p1").await.unwrap();
        bus.publish(Topic::Detect, "a", b"a".to_vec())
            .await
            .unwrap();
        let d0 = p0.fetch(10, NOW).await.unwrap();
        let d1 = p1.fetch(10, NOW).await.unwrap();
        assert_eq!((d0.len(), d1.len()), (1, 1));
        for d in d1 {
            d.ack().await.unwrap();
        }
        for d in d0 {
            d.retry_later(Duration::ZERO).await.unwrap();
        }
        let again = p0.fetch(10, NOW).await.unwrap();
        assert_eq!(again[0].payload, b"a");
        assert_eq!(again[0].delivered, 2);
        assert!(p1.fetch(10, NOW).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn dead_letters_keep_the_reason() {
        let bus = MemoryBus::new(10);
        bus.dead_letter(Topic::Raw, 7, b"{", "invalid JSON")
            .await
            .unwrap();
        let dead = bus.dead_letters(Topic::Raw, 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!((dead[0].seq, dead[0].reason.as_str()), (7, "invalid JSON"));
    }
}
