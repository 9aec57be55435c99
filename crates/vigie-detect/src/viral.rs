//! Viral post early warning: forecast a post's final number of reshares from its first ones
//! (SEISMIC, Zhao, Erdogdu, He, Rajaraman and Leskovec, KDD 2015), written from the paper.
//!
//! A post and its reshares (reposts and quotes pointing at it through `repost_of` /
//! `quote_of`) form a cascade. Each reshare i at time tᵢ by an author with nᵢ followers
//! (the post itself is i = 0) exposes nᵢ people, who reshare at a rate following the human
//! reaction-time kernel
//!
//! ```text
//! φ(s) = c            for 0 ≤ s ≤ s₀
//! φ(s) = c (s/s₀)^−(1+θ) for s > s₀,   c = θ / (s₀ (1+θ)) so that ∫φ = 1
//! ```
//!
//! (s₀ = 5 min and θ = 0.242 in the paper). At time t, with Rₜ reshares so far and Φ the
//! integral of φ, the infectiousness is estimated as
//! `pₜ = Rₜ / Σᵢ nᵢ Φ(t − tᵢ)` and the final size as
//!
//! ```text
//! N∞ = Rₜ + α · pₜ · Σᵢ nᵢ (1 − Φ(t − tᵢ)) / (1 − γ · pₜ · n*)
//! ```
//!
//! where the numerator is the reshares still expected from people already exposed, the
//! denominator sums all later generations (n* is the mean audience of a resharer in this
//! cascade, capped by [`ViralConfig::follower_cap`]) and α, γ are the paper's correction
//! factors ([`ViralConfig::alpha`], [`ViralConfig::gamma`]). When γ·pₜ·n* ≥ 1 the cascade is
//! supercritical and the forecast is unbounded ([`MAX_FORECAST`]).
//!
//! Cascades are evaluated when a bucket closes, if they received a reshare in it. A cascade
//! with at least [`ViralConfig::min_reshares`] reshares whose forecast reaches
//! [`ViralConfig::threshold`] raises one [`SignalKind::ViralPost`] (again only if its forecast
//! later doubles). Its tone is the post's sentiment, or the majority of its quotes and
//! replies when the post itself was not seen. Memory is bounded by [`ViralConfig::max_posts`],
//! [`ViralConfig::max_cascades`] and [`ViralConfig::max_events`].

use crate::clock::{BucketClock, Cadence, MAX_FILL_BUCKETS};
use crate::hll::stable_hash;
use crate::{DetectError, Detector};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use vigie_model::{
    DetectionSettings, Engagement, EnrichedMention, SentimentLabel, Signal, SignalKind, Timestamp,
    WatchId, WorkspaceId,
};

/// The forecast given to a supercritical cascade.
pub const MAX_FORECAST: f64 = 1e9;

/// Settings of the viral-post detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViralConfig {
    /// s₀: the kernel's constant part, in minutes.
    pub s0_minutes: f64,
    /// θ: the power-law exponent of the kernel's tail.
    pub theta: f64,
    /// α: the correction factor of the first-generation forecast.
    pub alpha: f64,
    /// γ: the correction factor of the later generations.
    pub gamma: f64,
    /// Fewest reshares before a forecast is trusted.
    pub min_reshares: u64,
    /// Forecast final reshares from which a post is flagged.
    pub threshold: f64,
    /// Audience used for an author whose follower count is unknown.
    pub default_followers: u64,
    /// Cap of a resharer's audience in n* (one celebrity does not make every resharer one).
    pub follower_cap: u64,
    /// Recent posts remembered as possible cascade roots.
    pub max_posts: usize,
    /// Cascades followed at once (the least recently active is dropped).
    pub max_cascades: usize,
    /// Reshare events kept per cascade (older ones are merged pairwise beyond it).
    pub max_events: usize,
    /// A cascade without a reshare for this long is forgotten, in minutes.
    pub forget_minutes: i64,
    /// z of the one-sided bound on the infectiousness used for flagging: a cascade is
    /// flagged when the forecast made with `p · (1 − z / √Rₜ)` reaches the threshold, so
    /// that 20 reshares of luck do not flag a post (0: flag on the point forecast).
    pub flag_z: f64,
}

impl Default for ViralConfig {
    fn default() -> Self {
        Self {
            s0_minutes: 5.0,
            theta: 0.242,
            alpha: 1.0,
            gamma: 1.0,
            min_reshares: 20,
            threshold: 300.0,
            default_followers: 200,
            follower_cap: 5_000,
            max_posts: 4_096,
            max_cascades: 1_024,
            max_events: 512,
            forget_minutes: 2_880,
            flag_z: 0.0,
        }
    }
}

impl ViralConfig {
    /// Checks the ranges; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.s0_minutes) || !positive(self.theta) {
            return Err("s0_minutes and theta must be positive".into());
        }
        if !positive(self.alpha) || !positive(self.gamma) || !positive(self.threshold) {
            return Err("alpha, gamma and threshold must be positive".into());
        }
        if !(self.flag_z.is_finite() && self.flag_z >= 0.0) {
            return Err("flag_z must be a finite number ≥ 0".into());
        }
        if self.max_posts == 0 || self.max_cascades == 0 || self.max_events < 8 {
            return Err("max_posts and max_cascades must be positive, max_events ≥ 8".into());
        }
        Ok(())
    }

    /// Φ(τ): the share of a person's reaction-time mass within τ minutes.
    pub fn kernel_integral(&self, minutes: f64) -> f64 {
        let s0 = self.s0_minutes;
        let theta = self.theta;
        let c = theta / (s0 * (1.0 + theta));
        if minutes <= 0.0 {
            0.0
        } else if minutes <= s0 {
            c * minutes
        } else {
            c * s0 + c * s0 / theta * (1.0 - (minutes / s0).powf(-theta))
        }
    }
}

/// A post that may become a cascade root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Post {
    at_ms: i64,
    followers: u64,
    label: SentimentLabel,
    handle: String,
    external_id: String,
    engagement: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cascade {
    root: Post,
    /// The root was not seen: its time and audience are guesses.
    root_seen: bool,
    /// (time ms, summed followers) of reshares, oldest first; merged pairwise when full.
    events: Vec<(i64, f64)>,
    reshares: u64,
    /// Sum of resharers' capped audiences (for n*).
    capped_followers: f64,
    negative_reactions: u64,
    positive_reactions: u64,
    last_event_ms: i64,
    /// Forecast when last flagged.
    flagged: Option<f64>,
    /// A reshare arrived in the open bucket.
    dirty: bool,
}

impl Cascade {
    fn tone(&self) -> SentimentLabel {
        if self.root_seen && self.root.label != SentimentLabel::Neutral {
            return self.root.label;
        }
        match self.negative_reactions.cmp(&self.positive_reactions) {
            std::cmp::Ordering::Greater => SentimentLabel::Negative,
            std::cmp::Ordering::Less => SentimentLabel::Positive,
            std::cmp::Ordering::Equal => self.root.label,
        }
    }
}

/// A forecast of one cascade.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Reshares so far (Rₜ).
    pub reshares: u64,
    /// Estimated infectiousness pₜ.
    pub infectiousness: f64,
    /// Mean capped audience of a resharer, n*.
    pub mean_audience: f64,
    /// Forecast final reshares N∞ ([`MAX_FORECAST`] when supercritical).
    pub final_size: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ViralState {
    version: u64,
    bucket_minutes: u32,
    clock: BucketClock,
    posts: BTreeMap<u64, Post>,
    post_order: VecDeque<u64>,
    cascades: BTreeMap<u64, Cascade>,
    /// (flag time, negative tone) of flagged cascades in the last window, oldest first.
    recent_flags: Vec<(i64, bool)>,
}

const STATE_VERSION: u64 = 1;

fn post_key(source: &str, external_id: &str) -> u64 {
    let mut bytes = Vec::with_capacity(source.len() + external_id.len() + 1);
    bytes.extend_from_slice(source.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(external_id.as_bytes());
    stable_hash(&bytes)
}

/// The SEISMIC viral-post detector of one watch (see the module documentation).
#[derive(Debug, Clone)]
pub struct ViralDetector {
    workspace: WorkspaceId,
    watch: WatchId,
    cadence: Cadence,
    config: ViralConfig,
    state: ViralState,
}

impl ViralDetector {
    /// A detector for one watch.
    pub fn new(
        workspace: WorkspaceId,
        watch: WatchId,
        settings: &DetectionSettings,
        config: &ViralConfig,
    ) -> Self {
        let cadence = Cadence::new(settings);
        Self {
            workspace,
            watch,
            state: ViralState {
                version: STATE_VERSION,
                bucket_minutes: cadence.bucket_minutes,
                clock: BucketClock::new(cadence.bucket_minutes),
                posts: BTreeMap::new(),
                post_order: VecDeque::new(),
                cascades: BTreeMap::new(),
                recent_flags: Vec::new(),
            },
            cadence,
            config: config.clone(),
        }
    }

    /// Forecast of a cascade at `now_ms` (see the module documentation).
    fn forecast(&self, c: &Cascade, now_ms: i64) -> Forecast {
        self.forecast_with(c, now_ms, 0.0)
    }

    /// The forecast with the infectiousness lowered to `p · (1 − z / √Rₜ)` (z = 0: the
    /// point forecast).
    fn forecast_with(&self, c: &Cascade, now_ms: i64, z: f64) -> Forecast {
        let cfg = &self.config;
        let minutes = |t: i64| (now_ms.saturating_sub(t)) as f64 / 60_000.0;
        let n0 = c.root.followers.max(1) as f64;
        let mut exposed = n0 * cfg.kernel_integral(minutes(c.root.at_ms));
        let mut remaining = n0 - exposed;
        for &(t, n) in &c.events {
            let phi = cfg.kernel_integral(minutes(t));
            exposed += n * phi;
            remaining += n * (1.0 - phi);
        }
        let reshares = c.reshares.max(c.root.engagement);
        let r = reshares as f64;
        let p = if exposed > 0.0 {
            (r / exposed).min(1.0)
        } else {
            0.0
        };
        let p = if z > 0.0 && r > 0.0 {
            p * (1.0 - z / r.sqrt()).max(0.0)
        } else {
            p
        };
        let n_star = if c.reshares > 0 {
            c.capped_followers / c.reshares as f64
        } else {
            cfg.default_followers as f64
        };
        let branching = cfg.gamma * p * n_star;
        let final_size = if branching >= 1.0 {
            MAX_FORECAST
        } else {
            (r + cfg.alpha * p * remaining.max(0.0) / (1.0 - branching)).min(MAX_FORECAST)
        };
        Forecast {
            reshares,
            infectiousness: p,
            mean_audience: n_star,
            final_size,
        }
    }

    /// The forecast of the cascade of the post `(source, external_id)` at `now`, if followed.
    pub fn forecast_of(&self, source: &str, external_id: &str, now: Timestamp) -> Option<Forecast> {
        let c = self.state.cascades.get(&post_key(source, external_id))?;
        Some(self.forecast(c, now.as_millis()))
    }

    /// The forecast with which the cascade of `(source, external_id)` was last flagged, if it
    /// was (and is still followed).
    pub fn flagged_forecast(&self, source: &str, external_id: &str) -> Option<f64> {
        self.state
            .cascades
            .get(&post_key(source, external_id))?
            .flagged
    }

    /// An engagement update of a post (a connector refreshing counts): its reposts and quotes
    /// become a floor for the cascade's reshare count.
    pub fn observe_engagement(&mut self, source: &str, external_id: &str, e: &Engagement) {
        let key = post_key(source, external_id);
        let n = e.reposts.saturating_add(e.quotes);
        if let Some(p) = self.state.posts.get_mut(&key) {
            p.engagement = p.engagement.max(n);
        }
        if let Some(c) = self.state.cascades.get_mut(&key) {
            c.root.engagement = c.root.engagement.max(n);
            c.dirty = true;
        }
    }

    /// Flagged viral posts within the window ending at `end_ms`: (any, of negative tone).
    pub fn recent_flags(&self, end_ms: i64) -> (bool, bool) {
        let horizon = end_ms.saturating_sub(self.cadence.window_ms);
        let mut any = false;
        let mut negative = false;
        for &(t, neg) in &self.state.recent_flags {
            if t > horizon {
                any = true;
                negative |= neg;
            }
        }
        (any, negative)
    }

    fn remember_post(&mut self, key: u64, m: &EnrichedMention) {
        let st = &mut self.state;
        if st.posts.contains_key(&key) {
            return;
        }
        let a = &m.mention.author;
        st.posts.insert(
            key,
            Post {
                at_ms: m.event_time().as_millis(),
                followers: a.followers.unwrap_or(self.config.default_followers),
                label: m.enrichment.sentiment.label,
                handle: a.handle.clone(),
                external_id: m.mention.external_id.clone(),
                engagement: m
                    .mention
                    .engagement
                    .reposts
                    .saturating_add(m.mention.engagement.quotes),
            },
        );
        st.post_order.push_back(key);
        while st.post_order.len() > self.config.max_posts {
            if let Some(old) = st.post_order.pop_front() {
                st.posts.remove(&old);
            }
        }
    }

    fn add_reshare(&mut self, root_key: u64, root_id: &str, m: &EnrichedMention) {
        let t = m.event_time().as_millis();
        let cfg = &self.config;
        let followers = m.mention.author.followers.unwrap_or(cfg.default_followers) as f64;
        let st = &mut self.state;
        if !st.cascades.contains_key(&root_key) {
            if st.cascades.len() >= cfg.max_cascades
                && let Some((&oldest, _)) = st
                    .cascades
                    .iter()
                    .min_by_key(|(k, c)| (c.last_event_ms, **k))
            {
                st.cascades.remove(&oldest);
            }
            let (root, seen) = match st.posts.get(&root_key) {
                Some(p) => (p.clone(), true),
                None => (
                    Post {
                        at_ms: t,
                        followers: cfg.default_followers,
                        label: SentimentLabel::Neutral,
                        handle: String::new(),
                        external_id: root_id.to_owned(),
                        engagement: 0,
                    },
                    false,
                ),
            };
            st.cascades.insert(
                root_key,
                Cascade {
                    root,
                    root_seen: seen,
                    events: Vec::new(),
                    reshares: 0,
                    capped_followers: 0.0,
                    negative_reactions: 0,
                    positive_reactions: 0,
                    last_event_ms: t,
                    flagged: None,
                    dirty: false,
                },
            );
        }
        let Some(c) = st.cascades.get_mut(&root_key) else {
            return;
        };
        c.reshares += 1;
        c.capped_followers += followers.min(cfg.follower_cap as f64);
        c.events.push((t.max(c.root.at_ms), followers));
        c.last_event_ms = c.last_event_ms.max(t);
        c.dirty = true;
        if c.events.len() > cfg.max_events {
            // Merge the older half pairwise (audience summed, time weighted by audience).
            let half = c.events.len() / 2;
            let mut merged = Vec::with_capacity(c.events.len());
            let mut i = 0;
            while i < half {
                match (c.events.get(i), c.events.get(i + 1)) {
                    (Some(&(t1, n1)), Some(&(t2, n2))) if i + 1 < half => {
                        let w = n1 + n2;
                        let t = if w > 0.0 {
                            ((t1 as f64 * n1 + t2 as f64 * n2) / w) as i64
                        } else {
                            t1
                        };
                        merged.push((t, w));
                        i += 2;
                    }
                    (Some(&e), _) => {
                        merged.push(e);
                        i += 1;
                    }
                    _ => break,
                }
            }
            merged.extend(c.events.iter().skip(i).copied());
            c.events = merged;
        }
    }

    fn note_reaction(&mut self, root_key: u64, label: SentimentLabel) {
        if let Some(c) = self.state.cascades.get_mut(&root_key) {
            match label {
                SentimentLabel::Negative => c.negative_reactions += 1,
                SentimentLabel::Positive => c.positive_reactions += 1,
                SentimentLabel::Neutral => {}
            }
        }
    }

    /// Closes the open bucket: forecasts the cascades that moved in it.
    pub(crate) fn close_one(&mut self, out: &mut Vec<Signal>) {
        let Some(start) = self.state.clock.open_ms else {
            return;
        };
        let end = start.saturating_add(self.cadence.bucket_ms);
        let warm = self.state.clock.is_warm(end, self.cadence.warmup_ms);
        let dirty: Vec<u64> = self
            .state
            .cascades
            .iter()
            .filter(|(_, c)| c.dirty)
            .map(|(k, _)| *k)
            .collect();
        for key in dirty {
            let Some(c) = self.state.cascades.get(&key) else {
                continue;
            };
            let f = self.forecast(c, end);
            let bound = if self.config.flag_z > 0.0 {
                self.forecast_with(c, end, self.config.flag_z).final_size
            } else {
                f.final_size
            };
            let due = f.reshares >= self.config.min_reshares
                && bound >= self.config.threshold
                && c.flagged.is_none_or(|prev| f.final_size >= 2.0 * prev);
            let tone = c.tone();
            let signal = (warm && due).then(|| {
                let minutes = end.saturating_sub(c.root.at_ms) / 60_000;
                let who = if c.root.handle.is_empty() {
                    String::new()
                } else {
                    format!(" by @{}", c.root.handle)
                };
                let forecast = if f.final_size >= MAX_FORECAST {
                    "unbounded (supercritical)".to_owned()
                } else {
                    format!("{:.0}", f.final_size)
                };
                Signal {
                    workspace: self.workspace.clone(),
                    watch: self.watch.clone(),
                    at: Timestamp::from_millis(end),
                    kind: SignalKind::ViralPost,
                    score: (3.0 + (f.final_size / self.config.threshold).log2()).min(20.0),
                    observed: f.reshares as f64,
                    expected: f.final_size,
                    detail: format!(
                        "post {}{who} ({} tone): {} reshares in {minutes} min, forecast {forecast} (threshold {:.0}), infectiousness {:.2e}",
                        c.root.external_id,
                        tone.as_str(),
                        f.reshares,
                        self.config.threshold,
                        f.infectiousness
                    ),
                }
            });
            if let Some(c) = self.state.cascades.get_mut(&key) {
                c.dirty = false;
                if let Some(s) = signal {
                    c.flagged = Some(f.final_size);
                    self.state
                        .recent_flags
                        .push((end, tone == SentimentLabel::Negative));
                    out.push(s);
                }
            }
        }
        let horizon = end.saturating_sub(self.cadence.window_ms);
        self.state.recent_flags.retain(|(t, _)| *t > horizon);
        let forget = end.saturating_sub(self.config.forget_minutes.saturating_mul(60_000));
        self.state.cascades.retain(|_, c| c.last_event_ms > forget);
        self.state.clock.advance();
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
}

impl Detector for ViralDetector {
    fn name(&self) -> &'static str {
        "viral"
    }

    fn observe(&mut self, m: &EnrichedMention, out: &mut Vec<Signal>) {
        let t = m.event_time();
        if !self.state.clock.start(t) {
            self.advance_to(t, out);
        }
        let source = m.mention.source.as_str();
        let label = m.enrichment.sentiment.label;
        if let Some(root) = &m.mention.repost_of {
            let key = post_key(source, root);
            self.add_reshare(key, root, m);
            return;
        }
        let key = post_key(source, &m.mention.external_id);
        self.remember_post(key, m);
        if let Some(root) = &m.mention.quote_of {
            let root_key = post_key(source, root);
            self.add_reshare(root_key, root, m);
            self.note_reaction(root_key, label);
        } else if let Some(parent) = &m.mention.reply_to {
            self.note_reaction(post_key(source, parent), label);
        }
    }

    fn on_tick(&mut self, now: Timestamp, out: &mut Vec<Signal>) {
        self.advance_to(now, out);
    }

    fn state(&self) -> serde_json::Value {
        serde_json::to_value(&self.state).unwrap_or_default()
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), DetectError> {
        let st = ViralState::deserialize(state).map_err(|e| DetectError::InvalidState {
            detector: "viral",
            reason: e.to_string(),
        })?;
        let well_formed = st.post_order.len() == st.posts.len();
        self.cadence.check_saved(
            "viral",
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

    const MIN: i64 = 60_000;

    fn det() -> ViralDetector {
        let s = DetectionSettings {
            warmup_minutes: 0,
            ..settings()
        };
        ViralDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &s,
            &ViralConfig::default(),
        )
    }

    fn root(t: i64, label: SentimentLabel, followers: u64) -> EnrichedMention {
        let mut m = mention(t, "marie", label, followers);
        m.mention.external_id = "root".into();
        m
    }

    fn repost(t: i64, i: u64, followers: u64) -> EnrichedMention {
        let mut m = mention(t, &format!("r{i}"), SentimentLabel::Neutral, followers);
        m.mention.external_id = format!("rp{i}");
        m.mention.repost_of = Some("root".into());
        m
    }

    /// A cascade drawn from the model itself: each exposed person reshares with probability
    /// `p`, after a delay drawn from φ; returns reshare times (ms) up to `horizon_min`.
    /// Subcritical: p × followers < 1.
    fn simulate(
        rng: &mut Rng,
        p: f64,
        root_followers: u64,
        followers: u64,
        horizon_min: f64,
    ) -> Vec<i64> {
        let cfg = ViralConfig::default();
        let delay = |rng: &mut Rng| -> f64 {
            // Inverse of Φ normalised to 1.
            let u = rng.uniform();
            let c = cfg.theta / (cfg.s0_minutes * (1.0 + cfg.theta));
            if u <= c * cfg.s0_minutes {
                u / c
            } else {
                let rest = (u - c * cfg.s0_minutes) * cfg.theta / (c * cfg.s0_minutes);
                cfg.s0_minutes * (1.0 - rest).max(1e-9).powf(-1.0 / cfg.theta)
            }
        };
        let mut times = Vec::new();
        let mut queue = vec![(0.0f64, root_followers)];
        while let Some((t, audience)) = queue.pop() {
            let mut k = 0;
            for _ in 0..audience {
                if rng.uniform() < p {
                    k += 1;
                }
            }
            for _ in 0..k {
                let child = t + delay(rng);
                if child <= horizon_min && times.len() < 5_000 {
                    times.push((child * 60_000.0) as i64);
                    queue.push((child, followers));
                }
            }
        }
        times.sort_unstable();
        times
    }

    /// Flag precision, recall and lead time on cascades drawn from the model itself, for
    /// the point forecast (z = 0) and the default bound. Run with
    /// `cargo test -p vigie-detect --release --lib -- --ignored --nocapture flag_quality`.
    #[test]
    #[ignore = "a measurement (docs/QUALITY.md), not a check"]
    fn flag_quality_on_simulated_cascades() {
        for z in [0.0, 1.645] {
            let cfg = ViralConfig {
                flag_z: z,
                ..ViralConfig::default()
            };
            let (mut tp, mut fp, mut fneg, mut tn) = (0, 0, 0, 0);
            let mut leads = Vec::new();
            let mut rng = Rng(2026);
            for k in 0..400u64 {
                // Children per reshare from 0.2 to 1.8 (p × 200 followers).
                let p = 0.001 + 0.008 * (k % 40) as f64 / 39.0;
                let times = simulate(&mut rng, p, 2_000, 200, 1_440.0);
                let explosive = times.len() as f64 >= cfg.threshold;
                let reached = times.get(cfg.threshold as usize - 1).copied();
                let s = DetectionSettings {
                    warmup_minutes: 0,
                    ..settings()
                };
                let mut d = ViralDetector::new(
                    WorkspaceId::new("w").unwrap(),
                    WatchId::new("x").unwrap(),
                    &s,
                    &cfg,
                );
                let mut out = Vec::new();
                d.observe(&root(0, SentimentLabel::Negative, 2_000), &mut out);
                let mut flagged = None;
                for (i, &t) in times.iter().enumerate() {
                    d.observe(&repost(t, i as u64, 200), &mut out);
                    if flagged.is_none() && !out.is_empty() {
                        flagged = Some(out[0].at.as_millis());
                    }
                }
                d.on_tick(Timestamp::from_millis(1_500 * MIN), &mut out);
                if flagged.is_none() && !out.is_empty() {
                    flagged = Some(out[0].at.as_millis());
                }
                match (flagged, explosive) {
                    (Some(f), true) => {
                        tp += 1;
                        if let Some(r) = reached {
                            leads.push((r - f) as f64 / MIN as f64);
                        }
                    }
                    (Some(_), false) => fp += 1,
                    (None, true) => fneg += 1,
                    (None, false) => tn += 1,
                }
            }
            leads.sort_by(f64::total_cmp);
            let median = leads.get(leads.len() / 2).copied().unwrap_or(f64::NAN);
            println!(
                "flag_z {z}: {tp} true flags, {fp} false, {fneg} missed, {tn} quiet; precision {:.2}, recall {:.2}; median lead {median:.0} min before the {}th reshare",
                f64::from(tp) / f64::from((tp + fp).max(1)),
                f64::from(tp) / f64::from((tp + fneg).max(1)),
                cfg.threshold
            );
        }
    }

    #[test]
    fn flag_z_is_checked_and_a_bound_only_lowers_the_forecast() {
        let bad = ViralConfig {
            flag_z: -1.0,
            ..ViralConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("flag_z"));
        let mut d = det();
        let mut out = Vec::new();
        d.observe(&root(0, SentimentLabel::Negative, 2_000), &mut out);
        for i in 0..40 {
            d.observe(&repost(i * MIN, i as u64, 200), &mut out);
        }
        let c = d.state.cascades.values().next().unwrap();
        let point = d.forecast_with(c, 40 * MIN, 0.0).final_size;
        let low = d.forecast_with(c, 40 * MIN, 1.645).final_size;
        assert!(low <= point, "{low} > {point}");
        assert!(low >= 40.0, "never below the reshares seen: {low}");
    }

    #[test]
    fn kernel_integrates_to_one() {
        let c = ViralConfig::default();
        assert_eq!(c.kernel_integral(0.0), 0.0);
        // The constant part holds θ/(1+θ) of the mass; the power-law tail the rest.
        let at_s0 = c.kernel_integral(5.0);
        assert!((at_s0 - 0.242 / 1.242).abs() < 1e-9, "{at_s0}");
        assert!(c.kernel_integral(1e12) > 0.998);
        assert!(c.kernel_integral(60.0) < c.kernel_integral(600.0));
    }

    #[test]
    fn a_lone_complaint_that_spreads_is_flagged_and_one_that_does_not_is_not() {
        let mut rng = Rng(9);
        // Supercritical-ish: 200 followers each, p = 0.008 → about 1.6 children per reshare.
        let times = simulate(&mut rng, 0.008, 5_000, 200, 1_440.0);
        assert!(times.len() > 600, "{}", times.len());
        let mut d = det();
        let mut out = Vec::new();
        d.observe(&root(0, SentimentLabel::Negative, 5_000), &mut out);
        let mut flagged_at = None;
        for (i, &t) in times.iter().enumerate() {
            d.observe(&repost(t, i as u64, 200), &mut out);
            if flagged_at.is_none() && !out.is_empty() {
                flagged_at = Some((t, i));
                assert_eq!(d.recent_flags(out[0].at.as_millis()), (true, true));
            }
        }
        let (t, i) = flagged_at.expect("flagged");
        // Flagged while the cascade is still small compared with what it becomes.
        assert!(
            i * 4 < times.len(),
            "flagged after {i} of {} reshares",
            times.len()
        );
        assert!(t < 120 * MIN, "flagged after {} min", t / MIN);
        let s = &out[0];
        assert_eq!(s.kind, SignalKind::ViralPost);
        assert!(
            s.expected >= 300.0 && s.detail.contains("negative tone"),
            "{s:?}"
        );

        // Subcritical: p = 0.002 (0.4 children per reshare) from a 5,000-follower account.
        let mut rng = Rng(4);
        let mut small = det();
        let mut out = Vec::new();
        small.observe(&root(0, SentimentLabel::Negative, 5_000), &mut out);
        let times = simulate(&mut rng, 0.002, 5_000, 200, 600.0);
        for (i, &t) in times.iter().enumerate() {
            small.observe(&repost(t, i as u64, 200), &mut out);
        }
        small.on_tick(Timestamp::from_millis(700 * MIN), &mut out);
        assert!(out.is_empty(), "{} reshares: {out:?}", times.len());
    }

    #[test]
    fn forecast_is_close_for_a_known_cascade() {
        // 40 reshares by 1,000-follower accounts in the first 20 minutes of a post by a
        // 10,000-follower account.
        let mut d = det();
        let mut out = Vec::new();
        d.observe(&root(0, SentimentLabel::Positive, 10_000), &mut out);
        for i in 0..40 {
            d.observe(&repost(i * 30_000, i as u64, 1_000), &mut out);
        }
        let f = d
            .forecast_of("test", "root", Timestamp::from_millis(20 * MIN))
            .unwrap();
        assert_eq!(f.reshares, 40);
        let cfg = ViralConfig::default();
        let exposed: f64 = 10_000.0 * cfg.kernel_integral(20.0)
            + (0..40)
                .map(|i| 1_000.0 * cfg.kernel_integral(20.0 - i as f64 * 0.5))
                .sum::<f64>();
        assert!((f.infectiousness - 40.0 / exposed).abs() < 1e-12);
        assert!(f.final_size > 40.0 && f.final_size.is_finite());
    }

    #[test]
    fn quotes_and_replies_give_the_tone_of_an_unseen_post() {
        let mut d = det();
        let mut out = Vec::new();
        for i in 0..30 {
            let mut m = mention(
                i * 20_000,
                &format!("q{i}"),
                SentimentLabel::Positive,
                5_000,
            );
            m.mention.external_id = format!("q{i}");
            m.mention.quote_of = Some("unseen".into());
            d.observe(&m, &mut out);
        }
        d.on_tick(Timestamp::from_millis(15 * MIN), &mut out);
        let c = d.state.cascades.values().next().unwrap();
        assert!(!c.root_seen);
        assert_eq!(c.tone(), SentimentLabel::Positive);
        assert_eq!(c.reshares, 30);
    }

    #[test]
    fn engagement_updates_and_bounded_memory() {
        let cfg = ViralConfig {
            max_posts: 8,
            max_cascades: 4,
            max_events: 16,
            ..ViralConfig::default()
        };
        let mut d = ViralDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &settings(),
            &cfg,
        );
        let mut out = Vec::new();
        for i in 0..20 {
            let mut m = mention(i * 1000, &format!("p{i}"), SentimentLabel::Neutral, 10);
            m.mention.external_id = format!("p{i}");
            d.observe(&m, &mut out);
        }
        assert_eq!(d.state.posts.len(), 8);
        for i in 0..100u64 {
            let mut m = repost(30_000 + i as i64 * 1000, i, 10);
            m.mention.repost_of = Some(format!("p{}", 12 + i % 8));
            d.observe(&m, &mut out);
        }
        assert!(d.state.cascades.len() <= 4);
        assert!(d.state.cascades.values().all(|c| c.events.len() <= 16));
        d.observe_engagement(
            "test",
            "p15",
            &Engagement {
                reposts: 900,
                ..Engagement::default()
            },
        );
        let f = d
            .forecast_of("test", "p15", Timestamp::from_millis(200_000))
            .unwrap();
        assert_eq!(f.reshares, 900);
        let saved = d.state();
        let mut e = ViralDetector::new(
            WorkspaceId::new("w").unwrap(),
            WatchId::new("x").unwrap(),
            &settings(),
            &cfg,
        );
        e.restore(&saved).unwrap();
        assert_eq!(e.state, d.state);
        assert!(e.restore(&serde_json::json!("x")).is_err());
    }
}
