//! Shared complaints: several distinct negative voices writing the same uncommon term or
//! hashtag within the window.
//!
//! A wave of complaints about one thing shows in its words before it weighs on the watch's
//! whole negative volume: in a busy watch a medium crisis may only double the negative
//! mentions, while the word it is about ("facturé", "#boycottbrand") goes from almost never
//! to every other negative post. For each negative mention in its author's own words (not a
//! plain repost, not the organization's own accounts), every term (the detector tokenizer's
//! folded words, stop words dropped) and hashtag is recorded with its author, per bucket
//! (at most `max_terms` terms and `max_authors` authors each). When a bucket closes:
//!
//! - each term's distinct negative voices over the window are counted (`v`), and all the
//!   window's distinct negative voices (`N`);
//! - its expectation is `λ = (N − v) · share` (the other negative voices of the window: a
//!   wave about the term must not raise its own expectation), where `share` is the term's
//!   learned share of the
//!   negative voices: its rate of voices per bucket over the rate of all negative voices
//!   per bucket (exponentially weighted means with the baseline's half-life; the terms'
//!   rates in a hashed table of `2^table_bits` cells, two cells per term, the smaller read,
//!   sparse so that a quiet watch stores little), at least `floor_share`. A term used by
//!   more than `max_share` of the negative voices (the brand's own name) is skipped: it is
//!   the negative volume itself, which the volume detector judges with its seasonality;
//! - `score = −log10 P(Poisson(λ) ≥ v) − log10(number of terms tested)` (the best of many
//!   terms is not surprising by itself);
//! - the best term with `v ≥ min_voices` is the window's shared complaint; a
//!   [`SignalKind::SharedComplaint`] is raised when its score reaches
//!   [`SIGNAL_MIN_SCORE`](crate::SIGNAL_MIN_SCORE) after the warm-up, once per term and
//!   window. After the warm-up (where everything is learned), a term that is a shared
//!   complaint does not enter the learned rates while it is one.
//!
//! The level rules use the window's best term (see `level.rs`).

use crate::audience::author_hash;
use crate::bursty::term_hash;
use crate::clock::{BucketClock, Cadence, MAX_FILL_BUCKETS};
use crate::hll::mix64;
use crate::stats::poisson_upper_tail_ln;
use crate::text::for_each_term;
use crate::{DetectError, Detector, SIGNAL_MIN_SCORE};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use vigie_model::{
    DetectionSettings, EnrichedMention, SentimentLabel, Signal, SignalKind, Timestamp, WatchId,
    WorkspaceId,
};

const STATE_VERSION: u64 = 1;
/// Learned rates below this are dropped from the table.
const MIN_RATE: f32 = 1e-5;

/// Settings of the shared-complaint detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComplaintConfig {
    /// Look for shared complaints at all.
    pub enabled: bool,
    /// Fewest distinct negative voices on one term for a shared complaint.
    pub min_voices: u32,
    /// log2 of the number of cells of the learned-rate table.
    pub table_bits: u32,
    /// Terms recorded per bucket.
    pub max_terms: usize,
    /// Authors recorded per term and bucket.
    pub max_authors: usize,
    /// Smallest share of the negative voices expected to use any term.
    pub floor_share: f64,
    /// Terms used by more than this share of the negative voices (the brand's own name, the
    /// watch's query words) are never a shared complaint.
    pub max_share: f64,
}

impl Default for ComplaintConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            min_voices: 5,
            table_bits: 12,
            max_terms: 256,
            max_authors: 16,
            floor_share: 0.01,
            max_share: 0.3,
        }
    }
}

impl ComplaintConfig {
    /// Checks the ranges; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(2..=1000).contains(&self.min_voices) {
            return Err(format!(
                "min_voices must be between 2 and 1000, got {}",
                self.min_voices
            ));
        }
        if !(6..=20).contains(&self.table_bits) {
            return Err(format!(
                "table_bits must be between 6 and 20, got {}",
                self.table_bits
            ));
        }
        if self.max_terms == 0 || self.max_terms > 10_000 {
            return Err(format!(
                "max_terms must be between 1 and 10000, got {}",
                self.max_terms
            ));
        }
        if self.max_authors < self.min_voices as usize || self.max_authors > 10_000 {
            return Err(format!(
                "max_authors must be between min_voices and 10000, got {}",
                self.max_authors
            ));
        }
        if !(self.floor_share > 0.0 && self.floor_share < self.max_share && self.max_share <= 1.0) {
            return Err(format!(
                "floor_share and max_share must satisfy 0 < floor_share < max_share <= 1, got {} and {}",
                self.floor_share, self.max_share
            ));
        }
        Ok(())
    }
}

/// One term of one bucket and the negative voices who wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Term {
    hash: u64,
    text: String,
    authors: Vec<u64>,
}

/// One bucket: its terms, and every negative voice in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Bucket {
    terms: Vec<Term>,
    voices: Vec<u64>,
}

/// The window's shared complaint: its best term.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComplaintStats {
    /// The term (a hashtag with its `#`), empty when none has `min_voices` voices.
    pub term: String,
    /// Distinct negative voices who wrote it in the window.
    pub voices: u64,
    /// Voices expected from its learned share of the window's negative voices.
    pub expected: f64,
    /// −log10 of the tail probability, corrected for the number of terms tested.
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ComplaintState {
    version: u64,
    bucket_minutes: u32,
    window_buckets: usize,
    clock: BucketClock,
    open: Bucket,
    window: VecDeque<Bucket>,
    /// Learned distinct negative voices per bucket (same weights as `rates`, so that their
    /// ratio is a share).
    all_rate: f64,
    /// Learned negative voices per bucket using a term, by cell (only cells above
    /// [`MIN_RATE`] times `weight`).
    rates: BTreeMap<u32, f32>,
    /// Sum of the decayed weights of the buckets learned (0 at the start, → 1), for pruning.
    weight: f64,
    /// Terms signalled, until when they stay quiet.
    hushed: Vec<(u64, i64)>,
    stats: ComplaintStats,
}

/// The shared-complaint detector of one watch (see the module documentation).
#[derive(Debug, Clone)]
pub struct ComplaintDetector {
    workspace: WorkspaceId,
    watch: WatchId,
    cadence: Cadence,
    config: ComplaintConfig,
    state: ComplaintState,
    buf: String,
    seen: Vec<u64>,
}

impl ComplaintDetector {
    /// A detector for one watch.
    pub fn new(
        workspace: WorkspaceId,
        watch: WatchId,
        settings: &DetectionSettings,
        config: &ComplaintConfig,
    ) -> Self {
        let cadence = Cadence::new(settings);
        Self {
            workspace,
            watch,
            state: ComplaintState {
                version: STATE_VERSION,
                bucket_minutes: cadence.bucket_minutes,
                window_buckets: cadence.window_buckets,
                clock: BucketClock::new(cadence.bucket_minutes),
                open: Bucket::default(),
                window: VecDeque::new(),
                all_rate: 0.0,
                rates: BTreeMap::new(),
                weight: 0.0,
                hushed: Vec::new(),
                stats: ComplaintStats::default(),
            },
            cadence,
            config: config.clone(),
            buf: String::new(),
            seen: Vec::new(),
        }
    }

    /// The shared complaint of the last closed window.
    pub fn window_stats(&self) -> &ComplaintStats {
        &self.state.stats
    }

    fn cells(&self, h: u64) -> [u32; 2] {
        let mask = (1u64 << self.config.table_bits) - 1;
        let h2 = mix64(h) | 1;
        [(h & mask) as u32, (h.wrapping_add(h2) & mask) as u32]
    }

    /// The learned share of the negative voices that use the term hashed to `h` (0 before
    /// any was learned).
    fn share(&self, h: u64) -> f64 {
        if self.state.all_rate <= 0.0 {
            return 0.0;
        }
        self.cells(h)
            .iter()
            .map(|c| f64::from(self.state.rates.get(c).copied().unwrap_or(0.0)))
            .fold(f64::INFINITY, f64::min)
            / self.state.all_rate
    }

    fn record(&mut self, prefix: Option<u8>, term: &str, author: u64) {
        let h = term_hash(prefix, term.as_bytes());
        if self.seen.contains(&h) {
            return;
        }
        self.seen.push(h);
        let max_authors = self.config.max_authors;
        if let Some(t) = self.state.open.terms.iter_mut().find(|t| t.hash == h) {
            if !t.authors.contains(&author) && t.authors.len() < max_authors {
                t.authors.push(author);
            }
        } else if self.state.open.terms.len() < self.config.max_terms {
            let text = match prefix {
                Some(p) => format!("{}{term}", char::from(p)),
                None => term.to_owned(),
            };
            self.state.open.terms.push(Term {
                hash: h,
                text,
                authors: vec![author],
            });
        }
    }

    pub(crate) fn close_one(&mut self, out: &mut Vec<Signal>) {
        let Some(start) = self.state.clock.open_ms else {
            return;
        };
        let end = start.saturating_add(self.cadence.bucket_ms);
        let closed = std::mem::take(&mut self.state.open);
        self.state.window.push_back(closed);
        while self.state.window.len() > self.cadence.window_buckets {
            self.state.window.pop_front();
        }
        // Distinct voices per term over the window.
        let mut voices: HashMap<u64, (&str, Vec<u64>)> = HashMap::new();
        let mut all: Vec<u64> = Vec::new();
        for bucket in &self.state.window {
            for a in &bucket.voices {
                if !all.contains(a) {
                    all.push(*a);
                }
            }
            for t in &bucket.terms {
                let e = voices
                    .entry(t.hash)
                    .or_insert_with(|| (t.text.as_str(), Vec::new()));
                for a in &t.authors {
                    if !e.1.contains(a) {
                        e.1.push(*a);
                    }
                }
            }
        }
        let tested = voices.len().max(1) as f64;
        let n = all.len() as f64;
        let mut best = ComplaintStats::default();
        let mut best_hash = 0;
        let mut improbable: Vec<u64> = Vec::new();
        for (&h, (text, authors)) in &voices {
            let v = authors.len() as u64;
            // The term's learned share of the negative voices: a word most complaints use
            // (the brand's name) is never news.
            let share = self.share(h);
            if share > self.config.max_share {
                continue;
            }
            // Against the other negative voices of the window: a wave about this term must
            // not raise its own expectation.
            let others = (n - v as f64).max(1.0);
            let expected = others * share.max(self.config.floor_share);
            let score = (-poisson_upper_tail_ln(v, expected) / std::f64::consts::LN_10
                - tested.log10())
            .clamp(0.0, crate::stats::MAX_SCORE);
            if score >= SIGNAL_MIN_SCORE && v >= u64::from(self.config.min_voices) {
                improbable.push(h);
            }
            // Ties go to the longer word (it says more), then the first in order.
            let better = score > best.score
                || (score == best.score
                    && (text.chars().count(), std::cmp::Reverse(*text))
                        > (
                            best.term.chars().count(),
                            std::cmp::Reverse(best.term.as_str()),
                        ));
            if v >= u64::from(self.config.min_voices) && better {
                best = ComplaintStats {
                    term: (*text).to_owned(),
                    voices: v,
                    expected,
                    score,
                };
                best_hash = h;
            }
        }
        let warm = self.state.clock.is_warm(end, self.cadence.warmup_ms);
        self.state.hushed.retain(|(_, until)| *until > end);
        if warm
            && best.score >= SIGNAL_MIN_SCORE
            && !self.state.hushed.iter().any(|(h, _)| *h == best_hash)
        {
            self.state
                .hushed
                .push((best_hash, end.saturating_add(self.cadence.window_ms)));
            out.push(Signal {
                workspace: self.workspace.clone(),
                watch: self.watch.clone(),
                at: Timestamp::from_millis(end),
                kind: SignalKind::SharedComplaint,
                score: best.score,
                observed: best.voices as f64,
                expected: best.expected,
                detail: format!(
                    "{} distinct negative voices wrote “{}” in {} min vs {:.2} expected",
                    best.voices, best.term, self.cadence.window_minutes, best.expected
                ),
            });
        }
        if !warm {
            // Everything is new during the warm-up: all of it is learned.
            best.score = 0.0;
            improbable.clear();
        }
        self.state.stats = best;
        self.learn(&improbable);
        self.state.clock.advance();
    }

    /// The closed bucket enters the learned rates, except the terms that are improbable now.
    fn learn(&mut self, improbable: &[u64]) {
        let hl_buckets = (self.cadence.half_life_ms / self.cadence.bucket_ms as f64).max(1.0);
        let alpha = 1.0 - 0.5f64.powf(1.0 / hl_buckets);
        let keep = (1.0 - alpha) as f32;
        self.state.weight = self.state.weight * (1.0 - alpha) + alpha;
        let voices = self.state.window.back().map_or(0, |b| b.voices.len()) as f64;
        self.state.all_rate = self.state.all_rate * (1.0 - alpha) + alpha * voices;
        let floor = MIN_RATE * self.state.weight as f32;
        self.state.rates.retain(|_, r| {
            *r *= keep;
            *r >= floor
        });
        let Some(bucket) = self.state.window.back() else {
            return;
        };
        let adds: Vec<([u32; 2], f32)> = bucket
            .terms
            .iter()
            .filter(|t| !improbable.contains(&t.hash))
            .map(|t| (self.cells(t.hash), (alpha * t.authors.len() as f64) as f32))
            .collect();
        for (cells, add) in adds {
            for c in cells {
                *self.state.rates.entry(c).or_insert(0.0) += add;
            }
        }
    }

    pub(crate) fn jump_to(&mut self, now: Timestamp) {
        self.state.clock.jump_to(now);
    }

    pub(crate) fn start_at(&mut self, clock: BucketClock) {
        self.state.clock = clock;
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
}

impl Detector for ComplaintDetector {
    fn name(&self) -> &'static str {
        "complaint"
    }

    fn observe(&mut self, m: &EnrichedMention, out: &mut Vec<Signal>) {
        let t = m.event_time();
        if !self.state.clock.start(t) {
            self.advance_to(t, out);
        }
        if !self.config.enabled
            || m.enrichment.sentiment.label != SentimentLabel::Negative
            || m.enrichment.own_account
            || m.mention.repost_of.is_some()
        {
            return;
        }
        let author = author_hash(&m.mention.author.handle);
        let open = &mut self.state.open.voices;
        if !open.contains(&author) && open.len() < self.config.max_terms * 8 {
            open.push(author);
        }
        self.seen.clear();
        let mut buf = std::mem::take(&mut self.buf);
        for_each_term(&m.mention.text, &mut buf, |term| {
            self.record(None, term, author);
        });
        self.buf = buf;
        for tag in &m.enrichment.hashtags {
            let tag = tag.trim_start_matches('#').to_lowercase();
            self.record(Some(b'#'), &tag, author);
        }
    }

    fn on_tick(&mut self, now: Timestamp, out: &mut Vec<Signal>) {
        self.advance_to(now, out);
    }

    fn state(&self) -> serde_json::Value {
        serde_json::to_value(&self.state).unwrap_or_default()
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), DetectError> {
        let st = ComplaintState::deserialize(state).map_err(|e| DetectError::InvalidState {
            detector: "complaint",
            reason: e.to_string(),
        })?;
        let cells = 1u32 << self.config.table_bits;
        self.cadence.check_saved(
            "complaint",
            (st.version, STATE_VERSION),
            (st.bucket_minutes, st.window_buckets),
            st.rates.keys().all(|c| *c < cells),
        )?;
        self.state = st;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Rng, mention, settings};

    const MIN: i64 = 60_000;
    const WORDS: [&str; 12] = [
        "livraison",
        "retard",
        "colis",
        "attente",
        "remboursement",
        "commande",
        "appli",
        "facture",
        "conseiller",
        "magasin",
        "produit",
        "garantie",
    ];

    fn det() -> ComplaintDetector {
        ComplaintDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &settings(),
            &ComplaintConfig::default(),
        )
    }

    fn said(t: i64, author: &str, text: &str, label: SentimentLabel) -> EnrichedMention {
        let mut m = mention(t, author, label, 100);
        m.mention.text = text.into();
        m
    }

    /// Two days of chatter: about two mentions per 5 minutes, one in three negative, each
    /// about two of twelve everyday words and the brand, from a pool of 400 authors.
    fn chatter(d: &mut ComplaintDetector, rng: &mut Rng, days: i64) -> Vec<Signal> {
        let mut out = Vec::new();
        let mut t = 0;
        while t < days * 1_440 * MIN {
            let a = WORDS[(rng.next_u64() % 12) as usize];
            let b = WORDS[(rng.next_u64() % 12) as usize];
            let label = if rng.uniform() < 0.33 {
                SentimentLabel::Negative
            } else {
                SentimentLabel::Neutral
            };
            let who = format!("u{}", rng.next_u64() % 400);
            d.observe(&said(t, &who, &format!("Brevia {a} {b}"), label), &mut out);
            t += (rng.uniform() * 5.0 * MIN as f64) as i64 + 1;
        }
        out
    }

    #[test]
    fn everyday_complaints_are_not_shared_ones() {
        for seed in 1..=3 {
            let mut d = det();
            let mut rng = Rng(seed);
            // Over four days of twelve words in every window a chance signal may pass 3 (one
            // in a thousand): none reaches vigilance.
            let out = chatter(&mut d, &mut rng, 4);
            assert!(out.iter().all(|s| s.score < 4.0), "seed {seed}: {out:?}");
            assert!(out.len() <= 2, "seed {seed}: {out:?}");
        }
    }

    #[test]
    fn voices_on_a_new_word_are_a_shared_complaint() {
        let mut d = det();
        let mut rng = Rng(7);
        chatter(&mut d, &mut rng, 2);
        let t0 = 2 * 1_440 * MIN;
        let mut out = Vec::new();
        // Five people in 20 minutes: "prélevé deux fois", some with a hashtag; a plain
        // repost, the brand's own account and a positive post on the same word add nothing.
        for i in 0..5i64 {
            let mut m = said(
                t0 + i * 4 * MIN,
                &format!("angry{i}"),
                "Brevia m'a prélevé deux fois ce mois-ci",
                SentimentLabel::Negative,
            );
            if i % 2 == 0 {
                m.enrichment.hashtags = vec!["doubleprelevement".into()];
            }
            d.observe(&m, &mut out);
        }
        let mut rt = said(
            t0 + MIN,
            "fan",
            "RT prélevé deux fois",
            SentimentLabel::Negative,
        );
        rt.mention.repost_of = Some("x".into());
        d.observe(&rt, &mut out);
        let mut own = said(
            t0 + 2 * MIN,
            "brevia",
            "prélevé : on regarde",
            SentimentLabel::Negative,
        );
        own.enrichment.own_account = true;
        d.observe(&own, &mut out);
        d.observe(
            &said(
                t0 + 3 * MIN,
                "happy",
                "jamais prélevé deux fois moi",
                SentimentLabel::Positive,
            ),
            &mut out,
        );
        d.on_tick(Timestamp::from_millis(t0 + 25 * MIN), &mut out);
        let s = d.window_stats();
        assert_eq!(s.voices, 5, "{s:?}");
        assert_eq!(s.term, "preleve", "{s:?}");
        assert!(s.score >= 6.0 && s.expected < 0.5, "{s:?}");
        let signals: Vec<_> = out
            .iter()
            .filter(|x| x.kind == SignalKind::SharedComplaint)
            .collect();
        assert_eq!(signals.len(), 1, "{out:?}");
        assert!(
            signals[0].detail.contains("5 distinct negative voices"),
            "{}",
            signals[0].detail
        );
        // Four voices are not enough.
        let mut d = det();
        let mut rng = Rng(7);
        chatter(&mut d, &mut rng, 2);
        let mut out = Vec::new();
        for i in 0..4i64 {
            d.observe(
                &said(
                    t0 + i * 4 * MIN,
                    &format!("angry{i}"),
                    "prélevé deux fois",
                    SentimentLabel::Negative,
                ),
                &mut out,
            );
        }
        d.on_tick(Timestamp::from_millis(t0 + 25 * MIN), &mut out);
        assert!(
            out.iter().all(|x| x.kind != SignalKind::SharedComplaint),
            "{out:?}"
        );
    }

    #[test]
    fn nothing_during_the_warm_up_and_state_round_trips() {
        let mut d = det();
        let mut out = Vec::new();
        for i in 0..8i64 {
            d.observe(
                &said(
                    i * MIN,
                    &format!("a{i}"),
                    "coupure géante",
                    SentimentLabel::Negative,
                ),
                &mut out,
            );
        }
        d.on_tick(Timestamp::from_millis(40 * MIN), &mut out);
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(d.window_stats().score, 0.0);
        let mut rng = Rng(3);
        chatter(&mut d, &mut rng, 2);
        let v = d.state();
        let mut copy = det();
        copy.restore(&v).unwrap();
        assert_eq!(copy.state, d.state);
        let bytes = serde_json::to_vec(&v).unwrap().len();
        assert!(bytes < 64_000, "{bytes} bytes");
        let other = DetectionSettings {
            bucket_minutes: 10,
            ..settings()
        };
        let mut wrong = ComplaintDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &other,
            &ComplaintConfig::default(),
        );
        assert!(matches!(
            wrong.restore(&v),
            Err(DetectError::IncompatibleSettings { .. })
        ));
        assert!(copy.restore(&serde_json::json!({"version": 1})).is_err());
        assert_eq!(copy.state, d.state);
    }

    #[test]
    fn config_is_validated() {
        assert!(ComplaintConfig::default().validate().is_ok());
        let bad = ComplaintConfig {
            min_voices: 1,
            ..ComplaintConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("min_voices"));
        let bad = ComplaintConfig {
            max_authors: 3,
            ..ComplaintConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("max_authors"));
    }
}
