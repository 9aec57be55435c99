//! Who speaks: distinct authors, negative voices other than the organization's own, and
//! influential authors joining ("others speak for you").

use crate::clock::{BucketClock, Cadence, MAX_FILL_BUCKETS};
use crate::hll::{Hll, stable_hash};
use crate::stats::rare_event_score;
use crate::volume::{SIGNAL_MIN_SCORE, Series};
use crate::{DetectError, Detector};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use vigie_model::{
    DetectionSettings, EnrichedMention, SentimentLabel, Signal, SignalKind, Timestamp, WatchId,
    WorkspaceId,
};

/// Fewest distinct negative voices (not own accounts) in a window for `OthersSpeakForYou`.
pub const MIN_OTHERS_AUTHORS: u64 = 10;
/// Lowest share of mentions from others for `OthersSpeakForYou`.
pub const MIN_OTHERS_SHARE: f64 = 0.5;
/// An influential author is signalled again only after this long without a signal for them.
pub const INFLUENCER_QUIET_MINUTES: i64 = 360;
/// Floor of the expected number of negative influencer posts per window (caps the score at 3).
const MIN_INFLUENCER_RATE: f64 = 0.001;

/// Figures of the last closed window of an [`AudienceDetector`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AudienceStats {
    /// End of the window.
    pub at: Timestamp,
    /// Mentions in the window.
    pub mentions: u64,
    /// Distinct authors in the window (HyperLogLog estimate, near-exact when small).
    pub distinct_authors: u64,
    /// Distinct authors of negative mentions in their own words (plain reposts and own
    /// accounts excluded).
    pub negative_voices: u64,
    /// Negative voices expected from the baseline.
    pub expected_negative_voices: f64,
    /// −log10 P(negative voices or more).
    pub voices_score: f64,
    /// Share of mentions not written by own accounts, in [0, 1] (0 for an empty window).
    pub others_share: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct AudienceBucket {
    authors: Hll,
    negative_voices: Hll,
    mentions: u64,
    others: u64,
    influencer_negative: u64,
}

impl AudienceBucket {
    fn reset(&mut self) {
        self.authors.clear();
        self.negative_voices.clear();
        self.mentions = 0;
        self.others = 0;
        self.influencer_negative = 0;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AudienceState {
    version: u64,
    bucket_minutes: u32,
    window_buckets: usize,
    clock: BucketClock,
    open: AudienceBucket,
    window: VecDeque<AudienceBucket>,
    voices: Series,
    influencer_rate: Series,
    /// Author hash → time of the last `InfluencerJoined` for them.
    influencers: BTreeMap<u64, i64>,
    stats: AudienceStats,
}

const STATE_VERSION: u64 = 1;

/// Hash of a handle, ASCII case folded, without allocating.
pub(crate) fn author_hash(handle: &str) -> u64 {
    let mut buf = [0u8; 64];
    let bytes = handle.as_bytes();
    if bytes.len() <= buf.len() {
        for (d, s) in buf.iter_mut().zip(bytes) {
            *d = s.to_ascii_lowercase();
        }
        stable_hash(buf.get(..bytes.len()).unwrap_or(bytes))
    } else {
        stable_hash(handle.to_ascii_lowercase().as_bytes())
    }
}

/// A first version of "others speak for you": distinct authors, distinct negative voices
/// other than the organization's own accounts, their share, and influential authors.
///
/// - `InfluencerJoined`, at the mention's time: a negative mention, not from an own account,
///   by an author with at least `influencer_followers` followers or a verified account; once
///   per author per [`INFLUENCER_QUIET_MINUTES`](crate::INFLUENCER_QUIET_MINUTES). Score: −log10 P(at least one such post in a
///   window) under the learned rate of negative influencer posts.
/// - `OthersSpeakForYou`, on a closed bucket: the window's distinct negative voices are
///   improbable under their baseline (score ≥ [`SIGNAL_MIN_SCORE`](crate::SIGNAL_MIN_SCORE)), at least
///   [`MIN_OTHERS_AUTHORS`](crate::MIN_OTHERS_AUTHORS) of them, and others write at least [`MIN_OTHERS_SHARE`](crate::MIN_OTHERS_SHARE).
#[derive(Debug, Clone)]
pub struct AudienceDetector {
    workspace: WorkspaceId,
    watch: WatchId,
    cadence: Cadence,
    influencer_followers: u64,
    state: AudienceState,
    scratch: Hll,
}

impl AudienceDetector {
    /// A detector for one watch.
    pub fn new(workspace: WorkspaceId, watch: WatchId, settings: &DetectionSettings) -> Self {
        let cadence = Cadence::new(settings);
        Self {
            workspace,
            watch,
            influencer_followers: settings.influencer_followers,
            state: AudienceState {
                version: STATE_VERSION,
                bucket_minutes: cadence.bucket_minutes,
                window_buckets: cadence.window_buckets,
                clock: BucketClock::new(cadence.bucket_minutes),
                open: AudienceBucket::default(),
                window: VecDeque::with_capacity(cadence.window_buckets + 1),
                voices: Series::default(),
                influencer_rate: Series::default(),
                influencers: BTreeMap::new(),
                stats: AudienceStats::default(),
            },
            cadence,
            scratch: Hll::default(),
        }
    }

    /// Figures of the last closed window.
    pub fn window_stats(&self) -> &AudienceStats {
        &self.state.stats
    }

    fn union_count(&mut self, pick: fn(&AudienceBucket) -> &Hll) -> u64 {
        // Quiet windows (most of them) cost nothing: no sketch to merge or estimate.
        let mut busy = self.state.window.iter().filter(|b| b.mentions > 0);
        let Some(first) = busy.next() else {
            return 0;
        };
        self.scratch.clone_from(pick(first));
        for b in busy {
            self.scratch.merge(pick(b));
        }
        self.scratch.count()
    }

    /// Closes the open bucket and evaluates the window ending with it.
    pub(crate) fn close_one(&mut self, out: &mut Vec<Signal>) {
        let Some(start) = self.state.clock.open_ms else {
            return;
        };
        let end = start.saturating_add(self.cadence.bucket_ms);
        // Recycle the oldest bucket's sketches for the next open bucket.
        let recycled = if self.state.window.len() >= self.cadence.window_buckets {
            self.state.window.pop_front()
        } else {
            None
        };
        let mut next = recycled.unwrap_or_default();
        next.reset();
        let closed = std::mem::replace(&mut self.state.open, next);
        let influencer_negative = closed.influencer_negative;
        self.state.window.push_back(closed);
        while self.state.window.len() > self.cadence.window_buckets {
            self.state.window.pop_front();
        }

        let distinct_authors = self.union_count(|b| &b.authors);
        let negative_voices = self.union_count(|b| &b.negative_voices);
        let (mentions, others) = self
            .state
            .window
            .iter()
            .fold((0u64, 0u64), |(m, o), b| (m + b.mentions, o + b.others));
        let others_share = if mentions == 0 {
            0.0
        } else {
            others as f64 / mentions as f64
        };
        let st = &mut self.state;
        let warm = st.clock.is_warm(end, self.cadence.warmup_ms);
        let expected = st.voices.model.expected(start).max(0.0);
        let voices_score = st.voices.score(negative_voices, expected);
        if warm
            && voices_score >= SIGNAL_MIN_SCORE
            && negative_voices >= MIN_OTHERS_AUTHORS
            && others_share >= MIN_OTHERS_SHARE
        {
            st.voices.active_until_ms = Some(end.saturating_add(self.cadence.window_ms));
            out.push(Signal {
                workspace: self.workspace.clone(),
                watch: self.watch.clone(),
                at: Timestamp::from_millis(end),
                kind: SignalKind::OthersSpeakForYou,
                score: voices_score,
                observed: negative_voices as f64,
                expected,
                detail: format!(
                    "{negative_voices} distinct negative voices in {} min vs {expected:.1} expected; {:.0}% of mentions from others",
                    self.cadence.window_minutes,
                    others_share * 100.0
                ),
            });
        }
        let hl = self.cadence.half_life_ms;
        st.voices.learn(negative_voices, expected, start, end, hl);
        let expected_rate = st.influencer_rate.model.expected(start).max(0.0);
        st.influencer_rate
            .learn(influencer_negative, expected_rate, start, end, hl);
        let horizon = end.saturating_sub(INFLUENCER_QUIET_MINUTES * 60_000);
        st.influencers.retain(|_, last| *last > horizon);
        st.stats = AudienceStats {
            at: Timestamp::from_millis(end),
            mentions,
            distinct_authors,
            negative_voices,
            expected_negative_voices: expected,
            voices_score,
            others_share,
        };
        st.clock.advance();
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

    fn check_influencer(&mut self, m: &EnrichedMention, hash: u64, out: &mut Vec<Signal>) {
        let author = &m.mention.author;
        let followers = author.followers.unwrap_or(0);
        if !(author.verified || followers >= self.influencer_followers) {
            return;
        }
        self.state.open.influencer_negative += 1;
        let t = m.event_time().as_millis();
        if !self.state.clock.is_warm(t, self.cadence.warmup_ms) {
            return;
        }
        let quiet_ms = INFLUENCER_QUIET_MINUTES * 60_000;
        if let Some(last) = self.state.influencers.get(&hash)
            && t.saturating_sub(*last) < quiet_ms
        {
            return;
        }
        self.state.influencers.insert(hash, t);
        let open = self.state.clock.open_ms.unwrap_or(t);
        let per_window = self.state.influencer_rate.model.expected(open).max(0.0)
            * self.cadence.window_buckets as f64;
        let rate = per_window.max(MIN_INFLUENCER_RATE);
        let verified = if author.verified { ", verified" } else { "" };
        out.push(Signal {
            workspace: self.workspace.clone(),
            watch: self.watch.clone(),
            at: m.event_time(),
            kind: SignalKind::InfluencerJoined,
            score: rare_event_score(rate),
            observed: followers as f64,
            expected: per_window,
            detail: format!(
                "@{} ({} followers{verified}) posted a negative mention",
                author.handle,
                crate::text::compact_number(followers)
            ),
        });
    }
}

impl Detector for AudienceDetector {
    fn name(&self) -> &'static str {
        "audience"
    }

    fn observe(&mut self, m: &EnrichedMention, out: &mut Vec<Signal>) {
        let t = m.event_time();
        if !self.state.clock.start(t) {
            self.advance_to(t, out);
        }
        let hash = author_hash(&m.mention.author.handle);
        let own = m.enrichment.own_account;
        let negative = m.enrichment.sentiment.label == SentimentLabel::Negative;
        let open = &mut self.state.open;
        open.mentions += 1;
        open.authors.insert(hash);
        if !own {
            open.others += 1;
            if negative {
                // A plain repost amplifies someone else's words: the reposter is reach, not
                // a voice (the viral detector judges amplification).
                if m.mention.repost_of.is_none() {
                    open.negative_voices.insert(hash);
                }
                self.check_influencer(m, hash, out);
            }
        }
    }

    fn on_tick(&mut self, now: Timestamp, out: &mut Vec<Signal>) {
        self.advance_to(now, out);
    }

    fn state(&self) -> serde_json::Value {
        serde_json::to_value(&self.state).unwrap_or_default()
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), DetectError> {
        let st = AudienceState::deserialize(state).map_err(|e| DetectError::InvalidState {
            detector: "audience",
            reason: e.to_string(),
        })?;
        self.cadence.check_saved(
            "audience",
            (st.version, STATE_VERSION),
            (st.bucket_minutes, st.window_buckets),
            st.voices.model.is_well_formed() && st.influencer_rate.model.is_well_formed(),
        )?;
        self.state = st;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{mention, settings};

    fn det() -> AudienceDetector {
        AudienceDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &settings(),
        )
    }

    const DAY: i64 = 86_400_000;

    /// A day and a bit of 2 mentions per bucket from a pool of 50 authors, one in 5 negative.
    fn background(d: &mut AudienceDetector, until_ms: i64, out: &mut Vec<Signal>) {
        let mut t = 0;
        let mut i = 0u64;
        while t < until_ms {
            let label = if i.is_multiple_of(5) {
                SentimentLabel::Negative
            } else {
                SentimentLabel::Neutral
            };
            d.observe(&mention(t, &format!("u{}", i % 50), label, 100), out);
            t += 150_000;
            i += 1;
        }
    }

    #[test]
    fn counts_distinct_authors_and_others_share() {
        let mut d = det();
        let mut out = Vec::new();
        for i in 0..20 {
            let mut m = mention(
                i * 1000,
                &format!("a{}", i % 7),
                SentimentLabel::Negative,
                5,
            );
            m.enrichment.own_account = i % 4 == 0;
            d.observe(&m, &mut out);
        }
        d.on_tick(Timestamp::from_millis(300_000), &mut out);
        let s = d.window_stats();
        assert_eq!(s.mentions, 20);
        assert_eq!(s.distinct_authors, 7);
        assert!((s.others_share - 15.0 / 20.0).abs() < 1e-12);
        // a0 and a4 only wrote own-account mentions at i = 0, 4, 8, 12, 16 → still voices
        // through other posts (i = 7, 11 …) except when every post was own.
        assert!(s.negative_voices <= 7 && s.negative_voices >= 5);
        assert!(out.is_empty(), "warm-up: {out:?}");
    }

    #[test]
    fn influencer_signalled_once_per_quiet_period() {
        let mut d = det();
        let mut out = Vec::new();
        background(&mut d, DAY + 3_600_000, &mut out);
        assert!(out.is_empty(), "{out:?}");
        let t = DAY + 3_600_000;
        let big = |dt: i64| mention(t + dt, "BigMedia", SentimentLabel::Negative, 1_200_000);
        d.observe(&big(0), &mut out);
        d.observe(&big(60_000), &mut out);
        d.observe(
            &mention(t + 90_000, "bigmedia", SentimentLabel::Negative, 1_200_000),
            &mut out,
        );
        // Positive posts or small authors never count.
        d.observe(
            &mention(t + 100_000, "star", SentimentLabel::Positive, 9_000_000),
            &mut out,
        );
        d.observe(
            &mention(t + 110_000, "small", SentimentLabel::Negative, 10),
            &mut out,
        );
        let joined: Vec<_> = out
            .iter()
            .filter(|s| s.kind == SignalKind::InfluencerJoined)
            .collect();
        assert_eq!(joined.len(), 1, "{out:?}");
        assert_eq!(joined[0].at, Timestamp::from_millis(t));
        assert!(joined[0].detail.contains("@BigMedia (1.2M followers)"));
        assert!(joined[0].score > 2.9);
        // After the quiet period the same author is signalled again.
        out.clear();
        let later = t + (INFLUENCER_QUIET_MINUTES + 10) * 60_000;
        d.observe(
            &mention(later, "bigmedia", SentimentLabel::Negative, 1_200_000),
            &mut out,
        );
        assert_eq!(
            out.iter()
                .filter(|s| s.kind == SignalKind::InfluencerJoined)
                .count(),
            1
        );
    }

    #[test]
    fn many_negative_voices_speak_for_you() {
        let mut d = det();
        let mut out = Vec::new();
        let start = DAY + 3_600_000;
        background(&mut d, start, &mut out);
        for i in 0..60 {
            let m = mention(
                start + i * 4_000,
                &format!("angry{i}"),
                SentimentLabel::Negative,
                50,
            );
            d.observe(&m, &mut out);
        }
        d.on_tick(Timestamp::from_millis(start + 300_000), &mut out);
        let voices: Vec<_> = out
            .iter()
            .filter(|s| s.kind == SignalKind::OthersSpeakForYou)
            .collect();
        assert_eq!(voices.len(), 1, "{out:?}");
        assert!(voices[0].observed >= 60.0 && voices[0].expected < 10.0);
        assert!(d.window_stats().distinct_authors >= 60);
    }

    #[test]
    fn state_round_trips() {
        let mut d = det();
        let mut out = Vec::new();
        background(&mut d, 3_600_000, &mut out);
        let v = d.state();
        let mut e = det();
        e.restore(&v).unwrap();
        assert_eq!(e.state, d.state);
        assert!(e.restore(&serde_json::Value::Null).is_err());
    }
}
