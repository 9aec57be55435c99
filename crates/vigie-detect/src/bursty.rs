//! Bursty terms and hashtags in fixed memory, grouped into emerging topics (SigniTrend,
//! Schubert, Weiler and Kriegel, KDD 2014).
//!
//! Every term (folded, stop words dropped) and hashtag of a mention is hashed by
//! [`BurstConfig::hashes`] hash functions into one table of 2^[`BurstConfig::table_bits`]
//! cells. A cell holds the count of mentions containing one of its terms in the open bucket,
//! and an exponentially weighted moving average and variance of that count over past buckets
//! (half-life [`BurstConfig::half_life_buckets`]). A term's significance is, as in the paper,
//!
//! ```text
//! sig = (count − max(avg, β)) / (sqrt(var) + β)
//! ```
//!
//! taken as the minimum over its cells (count-min style: collisions only make a cell look
//! busier and less surprising). It is checked on the fly as counts grow; a term crossing
//! [`BurstConfig::threshold`] with at least [`BurstConfig::min_count`] mentions becomes a
//! candidate and keeps its text (the only strings stored). Co-occurrences among candidates are
//! counted per mention; when the bucket closes, candidates that appear together in at least
//! [`BurstConfig::min_cooccurrence`] of the smaller one's mentions are merged (union–find)
//! into one topic, reported as one [`SignalKind::BurstyTopic`] signal. A topic whose terms were
//! all reported within the last window is not repeated.
//!
//! Memory: 12 bytes per cell plus at most [`BurstConfig::max_candidates`] candidates and their
//! pairs, whatever the stream.

use crate::clock::{BucketClock, Cadence, MAX_FILL_BUCKETS};
use crate::hll::mix64;
use crate::text::for_each_term;
use crate::{DetectError, Detector};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;
use vigie_model::{
    DetectionSettings, EnrichedMention, Signal, SignalKind, Timestamp, WatchId, WorkspaceId,
};

/// Settings of the bursty-topic detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurstConfig {
    /// log2 of the number of hashed cells (13 → 8,192 cells, 96 KiB). 8 to 24.
    pub table_bits: u32,
    /// Cells per term (hash functions), 1 to 8.
    pub hashes: u32,
    /// Half-life of the moving average and variance, in buckets.
    pub half_life_buckets: f64,
    /// β: the noise floor of the significance, in mentions per bucket.
    pub beta: f64,
    /// Significance from which a term is bursty.
    pub threshold: f64,
    /// Fewest mentions containing the term in the bucket.
    pub min_count: u32,
    /// Candidates kept per bucket (the first to cross the threshold).
    pub max_candidates: usize,
    /// Two candidates belong to one topic when they co-occur in at least this share of the
    /// rarer one's mentions.
    pub min_cooccurrence: f64,
    /// Terms listed per topic.
    pub max_topic_terms: usize,
}

impl Default for BurstConfig {
    fn default() -> Self {
        Self {
            table_bits: 13,
            hashes: 3,
            half_life_buckets: 12.0,
            beta: 1.5,
            threshold: 4.0,
            min_count: 6,
            max_candidates: 64,
            min_cooccurrence: 0.3,
            max_topic_terms: 8,
        }
    }
}

impl BurstConfig {
    /// Checks the ranges; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(8..=24).contains(&self.table_bits) {
            return Err(format!(
                "table_bits must be 8 to 24, not {}",
                self.table_bits
            ));
        }
        if !(1..=8).contains(&self.hashes) {
            return Err(format!("hashes must be 1 to 8, not {}", self.hashes));
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.half_life_buckets) || !positive(self.beta) || !positive(self.threshold) {
            return Err("half_life_buckets, beta and threshold must be positive".into());
        }
        if self.max_candidates == 0 || self.max_candidates > 1024 {
            return Err("max_candidates must be 1 to 1024".into());
        }
        if !(0.0..=1.0).contains(&self.min_cooccurrence) {
            return Err("min_cooccurrence must be in [0, 1]".into());
        }
        Ok(())
    }

    /// Bytes of the hashed table (counts, averages, variances).
    pub fn table_bytes(&self) -> usize {
        (1usize << self.table_bits) * 12
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Candidate {
    hash: u64,
    term: String,
    /// Mentions containing the term since it became a candidate.
    mentions: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct BurstState {
    version: u64,
    bucket_minutes: u32,
    table_bits: u32,
    hashes: u32,
    clock: BucketClock,
    counts: Vec<u32>,
    avg: Vec<f32>,
    var: Vec<f32>,
    /// Empty buckets whose (closed-form) decay is not yet applied to `avg` and `var`.
    pending_empty: u64,
    /// Mentions in the open bucket.
    open_mentions: u32,
    candidates: Vec<Candidate>,
    /// Mentions with both candidates `a < b`, at `a * max_candidates + b` (empty until the
    /// bucket has two candidates).
    #[serde(default)]
    pairs: Vec<u32>,
    /// Term hash → end of its report's quiet period.
    reported: BTreeMap<u64, i64>,
}

const STATE_VERSION: u64 = 1;

/// A term's figures at bucket close.
#[derive(Debug, Clone, PartialEq)]
struct Scored {
    slot: usize,
    sig: f64,
    count: u32,
    avg: f64,
}

/// FNV-1a over the bytes, with an optional leading `#`, then splitmix64.
pub(crate) fn term_hash(prefix: Option<u8>, bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in prefix.iter().chain(bytes) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix64(h)
}

/// The SigniTrend bursty-topic detector of one watch (see the module documentation).
#[derive(Debug, Clone)]
pub struct BurstDetector {
    workspace: WorkspaceId,
    watch: WatchId,
    cadence: Cadence,
    config: BurstConfig,
    alpha: f64,
    state: BurstState,
    /// Per mention: term hashes seen (dedupe) and candidate slots present.
    seen: Vec<u64>,
    slots: Vec<usize>,
    buf: String,
}

impl BurstDetector {
    /// A detector for one watch; `config` must have passed [`BurstConfig::validate`] (out of
    /// range values are clamped).
    pub fn new(
        workspace: WorkspaceId,
        watch: WatchId,
        settings: &DetectionSettings,
        config: &BurstConfig,
    ) -> Self {
        let cadence = Cadence::new(settings);
        let mut config = config.clone();
        config.table_bits = config.table_bits.clamp(8, 24);
        config.hashes = config.hashes.clamp(1, 8);
        config.max_candidates = config.max_candidates.clamp(1, 1024);
        let cells = 1usize << config.table_bits;
        let alpha = 1.0 - 0.5f64.powf(1.0 / config.half_life_buckets.max(0.01));
        Self {
            workspace,
            watch,
            alpha,
            state: BurstState {
                version: STATE_VERSION,
                bucket_minutes: cadence.bucket_minutes,
                table_bits: config.table_bits,
                hashes: config.hashes,
                clock: BucketClock::new(cadence.bucket_minutes),
                counts: vec![0; cells],
                avg: vec![0.0; cells],
                var: vec![0.0; cells],
                pending_empty: 0,
                open_mentions: 0,
                candidates: Vec::new(),
                pairs: Vec::new(),
                reported: BTreeMap::new(),
            },
            cadence,
            config,
            seen: Vec::new(),
            slots: Vec::new(),
            buf: String::new(),
        }
    }

    /// Applies the decay of the empty buckets not yet folded in: after n buckets of zeros,
    /// avg·(1−a)^n and var·(1−a)^n + avg²·(1−a)^n·(1 − (1−a)^n) (the recurrence summed).
    fn settle(&mut self) {
        let n = std::mem::take(&mut self.state.pending_empty);
        if n == 0 {
            return;
        }
        let keep = (1.0 - self.alpha).powf(n as f64);
        for (a, v) in self.state.avg.iter_mut().zip(self.state.var.iter_mut()) {
            let (a0, v0) = (f64::from(*a), f64::from(*v));
            if a0 == 0.0 && v0 == 0.0 {
                continue;
            }
            *v = (v0 * keep + a0 * a0 * keep * (1.0 - keep)) as f32;
            *a = (a0 * keep) as f32;
        }
    }

    /// Observes one mention's terms and hashtags (no allocation unless a term becomes a new
    /// candidate).
    fn count_mention(&mut self, m: &EnrichedMention) {
        self.settle();
        self.state.open_mentions = self.state.open_mentions.saturating_add(1);
        self.seen.clear();
        self.slots.clear();
        let mut buf = std::mem::take(&mut self.buf);
        for_each_term(&m.mention.text, &mut buf, |term| {
            self.count_term(None, term);
        });
        self.buf = buf;
        for tag in &m.enrichment.hashtags {
            self.count_term(Some(b'#'), tag);
        }
        let st = &mut self.state;
        for &s in &self.slots {
            if let Some(c) = st.candidates.get_mut(s) {
                c.mentions = c.mentions.saturating_add(1);
            }
        }
        if self.slots.len() < 2 {
            return;
        }
        let n = self.config.max_candidates;
        if st.pairs.len() != n * n {
            st.pairs = vec![0; n * n];
        }
        for (i, &a) in self.slots.iter().enumerate() {
            for &b in self.slots.iter().skip(i + 1) {
                let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                if let Some(c) = st.pairs.get_mut(lo * n + hi) {
                    *c += 1;
                }
            }
        }
    }

    fn cells(&self, h: u64) -> impl Iterator<Item = usize> + use<> {
        let mask = (1u64 << self.state.table_bits) - 1;
        let h2 = mix64(h) | 1;
        (0..u64::from(self.state.hashes))
            .map(move |i| (h.wrapping_add(i.wrapping_mul(h2)) & mask) as usize)
    }

    /// Significance of the term hashed to `h` with the open bucket's counts.
    fn significance(&self, h: u64) -> (f64, u32, f64) {
        let beta = self.config.beta;
        let mut best = (f64::INFINITY, u32::MAX, 0.0);
        for c in self.cells(h) {
            let count = self.state.counts.get(c).copied().unwrap_or(0);
            let avg = f64::from(self.state.avg.get(c).copied().unwrap_or(0.0));
            let var = f64::from(self.state.var.get(c).copied().unwrap_or(0.0)).max(0.0);
            let sig = (f64::from(count) - avg.max(beta)) / (var.sqrt() + beta);
            if sig < best.0 {
                best = (sig, count, avg);
            }
            best.1 = best.1.min(count);
        }
        best
    }

    fn count_term(&mut self, prefix: Option<u8>, term: &str) {
        let h = term_hash(prefix, term.as_bytes());
        if self.seen.contains(&h) {
            return;
        }
        self.seen.push(h);
        let mut min_count = u32::MAX;
        for c in self.cells(h) {
            if let Some(x) = self.state.counts.get_mut(c) {
                *x = x.saturating_add(1);
                min_count = min_count.min(*x);
            }
        }
        if min_count < self.config.min_count {
            return;
        }
        if let Some(slot) = self.state.candidates.iter().position(|c| c.hash == h) {
            self.slots.push(slot);
            return;
        }
        if self.state.candidates.len() >= self.config.max_candidates {
            return;
        }
        let (sig, _, _) = self.significance(h);
        if sig >= self.config.threshold {
            let mut text = String::with_capacity(term.len() + 1);
            if let Some(p) = prefix {
                text.push(char::from(p));
            }
            text.push_str(term);
            self.slots.push(self.state.candidates.len());
            self.state.candidates.push(Candidate {
                hash: h,
                term: text,
                mentions: 0,
            });
        }
    }

    /// Groups the scored candidates into topics (union–find on co-occurrence).
    fn topics(&self, scored: &[Scored]) -> Vec<Vec<Scored>> {
        let n = self.state.candidates.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(p: &mut [usize], mut x: usize) -> usize {
            while let Some(&up) = p.get(x) {
                if up == x {
                    break;
                }
                let grand = p.get(up).copied().unwrap_or(up);
                if let Some(slot) = p.get_mut(x) {
                    *slot = grand;
                }
                x = up;
            }
            x
        }
        let stride = self.config.max_candidates;
        for (key, &both) in self.state.pairs.iter().enumerate() {
            if both == 0 {
                continue;
            }
            let (a, b) = (key / stride, key % stride);
            let ma = self.state.candidates.get(a).map_or(0, |c| c.mentions);
            let mb = self.state.candidates.get(b).map_or(0, |c| c.mentions);
            let rarer = f64::from(ma.min(mb).max(1));
            if both >= 2 && f64::from(both) >= self.config.min_cooccurrence * rarer {
                let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                if ra != rb
                    && let Some(p) = parent.get_mut(ra.max(rb))
                {
                    *p = ra.min(rb);
                }
            }
        }
        let mut groups: BTreeMap<usize, Vec<Scored>> = BTreeMap::new();
        for s in scored {
            let root = find(&mut parent, s.slot);
            groups.entry(root).or_default().push(s.clone());
        }
        groups.into_values().collect()
    }

    /// Closes the open bucket: reports topics, then learns the bucket.
    pub(crate) fn close_one(&mut self, out: &mut Vec<Signal>) {
        let Some(start) = self.state.clock.open_ms else {
            return;
        };
        let end = start.saturating_add(self.cadence.bucket_ms);
        if self.state.open_mentions == 0 {
            self.state.pending_empty = self.state.pending_empty.saturating_add(1);
            self.state.reported.retain(|_, until| *until > end);
            self.state.clock.advance();
            return;
        }
        self.settle();
        let warm = self.state.clock.is_warm(end, self.cadence.warmup_ms);
        if warm && !self.state.candidates.is_empty() {
            let scored: Vec<Scored> = self
                .state
                .candidates
                .iter()
                .enumerate()
                .filter_map(|(slot, c)| {
                    let (sig, count, avg) = self.significance(c.hash);
                    (sig >= self.config.threshold).then_some(Scored {
                        slot,
                        sig,
                        count,
                        avg,
                    })
                })
                .collect();
            for mut topic in self.topics(&scored) {
                topic.sort_by(|a, b| b.sig.total_cmp(&a.sig).then(a.slot.cmp(&b.slot)));
                let fresh = topic.iter().any(|s| {
                    self.state
                        .candidates
                        .get(s.slot)
                        .is_some_and(|c| !self.state.reported.contains_key(&c.hash))
                });
                if !fresh {
                    continue;
                }
                topic.truncate(self.config.max_topic_terms);
                let mut detail = String::new();
                for (i, s) in topic.iter().enumerate() {
                    let term = self
                        .state
                        .candidates
                        .get(s.slot)
                        .map_or("?", |c| c.term.as_str());
                    let sep = if i == 0 { "" } else { ", " };
                    let _ = write!(
                        detail,
                        "{sep}{term} ({} vs {:.1}, sig {:.1})",
                        s.count, s.avg, s.sig
                    );
                }
                let _ = write!(
                    detail,
                    " in {} min out of {} mentions",
                    self.cadence.bucket_minutes, self.state.open_mentions
                );
                let Some(top) = topic.first() else {
                    continue;
                };
                out.push(Signal {
                    workspace: self.workspace.clone(),
                    watch: self.watch.clone(),
                    at: Timestamp::from_millis(end),
                    kind: SignalKind::BurstyTopic,
                    score: top.sig,
                    observed: f64::from(top.count),
                    expected: top.avg,
                    detail,
                });
                let until = end.saturating_add(self.cadence.window_ms);
                for s in &topic {
                    if let Some(c) = self.state.candidates.get(s.slot) {
                        self.state.reported.insert(c.hash, until);
                    }
                }
            }
        }
        self.state.reported.retain(|_, until| *until > end);
        let a = self.alpha;
        let st = &mut self.state;
        for ((x, avg), var) in st
            .counts
            .iter_mut()
            .zip(st.avg.iter_mut())
            .zip(st.var.iter_mut())
        {
            let (x0, a0, v0) = (f64::from(*x), f64::from(*avg), f64::from(*var));
            if x0 == 0.0 && a0 == 0.0 && v0 == 0.0 {
                continue;
            }
            let d = x0 - a0;
            let (na, nv) = (a0 + a * d, (1.0 - a) * (v0 + a * d * d));
            // Flush what has decayed to nothing, so that quiet cells are skipped again.
            let tiny = na < 1e-4 && nv < 1e-4;
            *avg = if tiny { 0.0 } else { na as f32 };
            *var = if tiny { 0.0 } else { nv as f32 };
            *x = 0;
        }
        st.open_mentions = 0;
        st.candidates.clear();
        st.pairs.clear();
        st.clock.advance();
    }

    /// Takes over a monitor's clock (a state saved before this detector existed).
    pub(crate) fn start_at(&mut self, clock: BucketClock) {
        self.state.clock = clock;
    }

    /// Jumps over a long gap to the bucket containing `now`.
    pub(crate) fn jump_to(&mut self, now: Timestamp) {
        self.state.clock.jump_to(now);
    }

    fn advance_to(&mut self, now: Timestamp, out: &mut Vec<Signal>) {
        let due = self.state.clock.due(now);
        let steps = due.min(MAX_FILL_BUCKETS);
        for _ in 0..steps {
            self.close_one(out);
        }
        if due > steps {
            self.jump_to(now);
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &BurstConfig {
        &self.config
    }
}

impl Detector for BurstDetector {
    fn name(&self) -> &'static str {
        "bursty"
    }

    fn observe(&mut self, m: &EnrichedMention, out: &mut Vec<Signal>) {
        let t = m.event_time();
        if !self.state.clock.start(t) {
            self.advance_to(t, out);
        }
        self.count_mention(m);
    }

    fn on_tick(&mut self, now: Timestamp, out: &mut Vec<Signal>) {
        self.advance_to(now, out);
    }

    fn state(&self) -> serde_json::Value {
        serde_json::to_value(&self.state).unwrap_or_default()
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), DetectError> {
        let st = BurstState::deserialize(state).map_err(|e| DetectError::InvalidState {
            detector: "bursty",
            reason: e.to_string(),
        })?;
        let cells = 1usize << self.config.table_bits;
        if st.table_bits != self.config.table_bits || st.hashes != self.config.hashes {
            return Err(DetectError::IncompatibleSettings {
                detector: "bursty",
                reason: format!(
                    "saved with table_bits {} and hashes {}, configured {} and {}",
                    st.table_bits, st.hashes, self.config.table_bits, self.config.hashes
                ),
            });
        }
        let well_formed = st.counts.len() == cells
            && st.avg.len() == cells
            && st.var.len() == cells
            && st.candidates.len() <= self.config.max_candidates
            && (st.pairs.is_empty()
                || st.pairs.len() == self.config.max_candidates * self.config.max_candidates);
        self.cadence.check_saved(
            "bursty",
            (st.version, STATE_VERSION),
            (st.bucket_minutes, self.cadence.window_buckets),
            well_formed,
        )?;
        self.state = st;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::testutil::{Rng, mention, settings};
    use vigie_model::SentimentLabel;

    const WORDS: &[&str] = &[
        "cafe",
        "latte",
        "matin",
        "service",
        "appli",
        "commande",
        "boutique",
        "client",
        "prix",
        "menu",
        "gateau",
        "terrasse",
        "equipe",
        "livraison",
        "carte",
        "fidelite",
        "croissant",
        "the",
        "chocolat",
        "sucre",
    ];

    fn det() -> BurstDetector {
        BurstDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &settings(),
            &BurstConfig::default(),
        )
    }

    /// Background: `per_bucket` mentions per 5 minutes of 4 random words each, for `buckets`.
    fn background(d: &mut BurstDetector, rng: &mut Rng, from: i64, buckets: i64) -> Vec<Signal> {
        let mut out = Vec::new();
        for b in 0..buckets {
            let n = 2 + rng.poisson(6.0);
            for j in 0..n {
                let t = from + b * 300_000 + (j as i64 * 300_000) / (n as i64 + 1);
                let mut m = mention(t, &format!("u{j}"), SentimentLabel::Neutral, 10);
                let words: Vec<&str> = (0..4)
                    .map(|_| WORDS[(rng.next_u64() % WORDS.len() as u64) as usize])
                    .collect();
                m.mention.text = format!("Orsane {}", words.join(" "));
                d.observe(&m, &mut out);
            }
        }
        out
    }

    #[test]
    fn background_is_quiet_and_a_new_topic_is_one_signal() {
        let mut d = det();
        let mut rng = Rng(11);
        let quiet = background(&mut d, &mut rng, 0, 600);
        assert!(quiet.is_empty(), "{quiet:?}");
        let t0 = 600 * 300_000;
        let mut out = Vec::new();
        for i in 0..40 {
            let mut m = mention(
                t0 + i * 5_000,
                &format!("a{i}"),
                SentimentLabel::Negative,
                10,
            );
            m.mention.text = "Orsane lait contaminé, rappel produit, honte".into();
            m.enrichment.hashtags = vec!["boycottorsane".into()];
            d.observe(&m, &mut out);
        }
        d.on_tick(Timestamp::from_millis(t0 + 300_000), &mut out);
        let topics: Vec<_> = out
            .iter()
            .filter(|s| s.kind == SignalKind::BurstyTopic)
            .collect();
        assert_eq!(topics.len(), 1, "{out:?}");
        let t = topics[0];
        for term in ["#boycottorsane", "lait", "contamine", "rappel", "honte"] {
            assert!(t.detail.contains(term), "{}", t.detail);
        }
        assert!(t.score > 10.0 && t.observed >= 40.0, "{t:?}");
        // Next bucket, same topic: not repeated within the window.
        out.clear();
        for i in 0..40 {
            let mut m = mention(t0 + 300_000 + i * 5_000, "b", SentimentLabel::Negative, 10);
            m.mention.text = "lait contaminé rappel honte".into();
            d.observe(&m, &mut out);
        }
        d.on_tick(Timestamp::from_millis(t0 + 600_000), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn unrelated_bursts_are_separate_topics() {
        let mut d = det();
        let mut rng = Rng(5);
        background(&mut d, &mut rng, 0, 400);
        let t0 = 400 * 300_000;
        let mut out = Vec::new();
        for i in 0..30 {
            let mut m = mention(t0 + i * 5_000, "a", SentimentLabel::Neutral, 10);
            m.mention.text = if i % 2 == 0 {
                "grève transports métro".into()
            } else {
                "concert stade billets".into()
            };
            d.observe(&m, &mut out);
        }
        d.on_tick(Timestamp::from_millis(t0 + 300_000), &mut out);
        assert_eq!(out.len(), 2, "{out:?}");
    }

    #[test]
    fn empty_buckets_decay_like_zeros() {
        let mut a = det();
        let mut b = det();
        let mut rng = Rng(3);
        background(&mut a, &mut rng, 0, 50);
        let mut rng = Rng(3);
        background(&mut b, &mut rng, 0, 50);
        // a: ten explicit empty buckets learned one by one; b: folded in closed form.
        let alpha = a.alpha;
        let end = 50 * 300_000;
        a.on_tick(Timestamp::from_millis(end), &mut Vec::new());
        let (avg0, var0) = (a.state.avg.clone(), a.state.var.clone());
        b.on_tick(Timestamp::from_millis(end + 10 * 300_000), &mut Vec::new());
        b.settle();
        for i in 0..avg0.len() {
            let (mut x, mut v) = (f64::from(avg0[i]), f64::from(var0[i]));
            for _ in 0..10 {
                let d = -x;
                x += alpha * d;
                v = (1.0 - alpha) * (v + alpha * d * d);
            }
            assert!((f64::from(b.state.avg[i]) - x).abs() < 1e-4);
            assert!((f64::from(b.state.var[i]) - v).abs() < 1e-3);
        }
    }

    #[test]
    fn state_round_trips_and_rejects_other_tables() {
        let mut d = det();
        let mut rng = Rng(1);
        background(&mut d, &mut rng, 0, 20);
        let saved = d.state();
        let mut e = det();
        e.restore(&saved).unwrap();
        assert_eq!(e.state, d.state);
        let small = BurstConfig {
            table_bits: 10,
            ..BurstConfig::default()
        };
        let mut f = BurstDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &settings(),
            &small,
        );
        assert!(matches!(
            f.restore(&saved),
            Err(DetectError::IncompatibleSettings { .. })
        ));
        assert!(e.restore(&serde_json::json!({"version": 1})).is_err());
        assert_eq!(e.state, d.state);
    }

    #[test]
    fn config_validation_names_the_field() {
        assert!(BurstConfig::default().validate().is_ok());
        let bad = BurstConfig {
            hashes: 0,
            ..BurstConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("hashes"));
        assert_eq!(BurstConfig::default().table_bytes(), 8192 * 12);
    }
}
