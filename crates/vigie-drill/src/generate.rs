//! The stream generator: ordinary chatter with daily and weekly rhythm, plus one injected
//! event (a crisis of a given size, or a hard negative) at a seeded time.

use crate::rng::Rng;
use crate::texts::{self, CrisisStory};
use serde::{Deserialize, Serialize};
use std::fmt;
use vigie_model::{Author, Engagement, Mention, Timestamp};

/// 2026-03-02T00:00:00Z, a Monday.
pub const DEFAULT_START_MS: i64 = 1_772_409_600_000;
const MINUTE: i64 = 60_000;
const DAY: i64 = 1_440 * MINUTE;
/// Accounts in the generated population.
const POOL: usize = 8_000;
/// Mean audience of the population (lognormal, median 250, σ = 1.6).
const MEAN_FOLLOWERS: f64 = 900.0;

/// Hourly rhythm (Paris time, mean 1).
const RHYTHM: [f64; 24] = [
    0.22, 0.13, 0.08, 0.06, 0.06, 0.1, 0.3, 0.7, 1.1, 1.3, 1.3, 1.3, 1.4, 1.3, 1.2, 1.2, 1.3, 1.4,
    1.5, 1.6, 1.5, 1.25, 0.85, 0.45,
];

/// How big a crisis is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrisisSize {
    /// Tens of angry posts over hours; a short repost cascade.
    Small,
    /// Hundreds of posts, a hashtag, some press.
    Medium,
    /// Thousands of posts, a hashtag, influencers, press.
    Large,
}

impl CrisisSize {
    /// `small`, `medium`, `large`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Large => "large",
        }
    }
}

/// What a drill stream contains besides ordinary chatter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Nothing: ordinary chatter only.
    Calm,
    /// A crisis of this size.
    Crisis(CrisisSize),
    /// A positive post that goes viral (hard negative).
    PositiveViral,
    /// A burst of spam from a bot network (hard negative).
    BotBurst,
    /// A complaint by one large account that does not spread (hard negative).
    LoneComplaint,
    /// A product launch: more volume, a new hashtag, press (hard negative).
    ProductLaunch,
}

impl Scenario {
    /// Every scenario, crises first.
    pub const ALL: [Scenario; 8] = [
        Scenario::Crisis(CrisisSize::Small),
        Scenario::Crisis(CrisisSize::Medium),
        Scenario::Crisis(CrisisSize::Large),
        Scenario::Calm,
        Scenario::PositiveViral,
        Scenario::BotBurst,
        Scenario::LoneComplaint,
        Scenario::ProductLaunch,
    ];

    /// A short name (`crisis_large`, `bot_burst`…).
    pub fn name(self) -> &'static str {
        match self {
            Self::Calm => "calm",
            Self::Crisis(CrisisSize::Small) => "crisis_small",
            Self::Crisis(CrisisSize::Medium) => "crisis_medium",
            Self::Crisis(CrisisSize::Large) => "crisis_large",
            Self::PositiveViral => "positive_viral",
            Self::BotBurst => "bot_burst",
            Self::LoneComplaint => "lone_complaint",
            Self::ProductLaunch => "product_launch",
        }
    }

    /// Whether the scenario is a crisis (which should reach level 2).
    pub fn is_crisis(self) -> bool {
        matches!(self, Self::Crisis(_))
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrillSpec {
    /// Same seed and scenario, same mentions.
    pub seed: u64,
    /// The injected event.
    pub scenario: Scenario,
    /// Length of the stream in days (at least 4).
    pub days: u32,
    /// First instant of the stream.
    pub start: Timestamp,
}

impl DrillSpec {
    /// A 7-day stream starting on Monday 2026-03-02.
    pub fn new(seed: u64, scenario: Scenario) -> Self {
        Self {
            seed,
            scenario,
            days: 7,
            start: Timestamp::from_millis(DEFAULT_START_MS),
        }
    }
}

/// A generated stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drill {
    /// What was asked.
    pub spec: DrillSpec,
    /// Every mention, sorted by publication time then id.
    pub mentions: Vec<Mention>,
    /// When the injected event starts (the trigger post, the first spam, the launch).
    pub event_at: Timestamp,
    /// The crisis onset, for crisis scenarios.
    pub onset: Option<Timestamp>,
    /// Which story was told.
    pub story: &'static str,
    /// Mentions belonging to the injected event.
    pub event_mentions: usize,
    /// For each mention (same order), whether it belongs to the injected event.
    pub in_event: Vec<bool>,
    /// End of the stream.
    pub end: Timestamp,
}

#[derive(Debug, Clone)]
struct Account {
    handle: String,
    followers: u64,
    verified: bool,
}

/// The generator's working state.
struct Gen {
    rng: Rng,
    pool: Vec<Account>,
    out: Vec<(Mention, bool)>,
    next_id: u64,
    end_ms: i64,
    event_count: usize,
    counting: bool,
}

/// Parent of a post.
#[derive(Debug, Clone, Copy)]
enum Parent<'a> {
    None,
    Reply(&'a str),
    Quote(&'a str),
    Repost(&'a str),
}

impl Gen {
    fn new(seed: u64, end_ms: i64) -> Self {
        let mut rng = Rng::new(seed, 1);
        let pool = (0..POOL)
            .map(|i| {
                let followers = (250f64.ln() + 1.6 * rng.normal()).exp().clamp(0.0, 3e6) as u64;
                let verified = followers > 100_000 && rng.chance(0.5);
                Account {
                    handle: format!("user{i}"),
                    followers,
                    verified,
                }
            })
            .collect();
        Self {
            rng: Rng::new(seed, 2),
            pool,
            out: Vec::new(),
            next_id: 0,
            end_ms,
            event_count: 0,
            counting: false,
        }
    }

    /// A frequent poster (activity is heavy-tailed).
    fn regular(&mut self) -> Account {
        let u = self.rng.uniform();
        let i = ((u * u) * POOL as f64) as usize;
        self.pool.get(i).cloned().unwrap_or_else(|| self.anyone())
    }

    /// Anyone in the population.
    fn anyone(&mut self) -> Account {
        let i = self.rng.below(POOL);
        self.pool.get(i).cloned().unwrap_or(Account {
            handle: "someone".into(),
            followers: 100,
            verified: false,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn post(
        &mut self,
        at_ms: i64,
        who: &Account,
        source: &str,
        title: Option<String>,
        text: String,
        parent: Parent<'_>,
    ) -> Option<String> {
        if at_ms >= self.end_ms {
            return None;
        }
        self.next_id += 1;
        let id = format!("p{}", self.next_id);
        let (reply_to, quote_of, repost_of) = match parent {
            Parent::None => (None, None, None),
            Parent::Reply(p) => (Some(p.to_owned()), None, None),
            Parent::Quote(p) => (None, Some(p.to_owned()), None),
            Parent::Repost(p) => (None, None, Some(p.to_owned())),
        };
        self.out.push((
            Mention {
                source: source.to_owned(),
                external_id: id.clone(),
                url: None,
                author: Author {
                    handle: who.handle.clone(),
                    name: None,
                    followers: Some(who.followers),
                    verified: who.verified,
                },
                published_at: Timestamp::from_millis(at_ms),
                received_at: None,
                title,
                text,
                lang: None,
                engagement: Engagement::default(),
                reply_to,
                quote_of,
                repost_of,
                country: None,
            },
            self.counting,
        ));
        if self.counting {
            self.event_count += 1;
        }
        Some(id)
    }

    /// Reposts of a post: a branching process where a post by an author with n followers
    /// gets Poisson(b · (n / mean)^0.6) reposts (engagement per follower falls with
    /// audience), each after a SEISMIC reaction delay, up to `cap` reposts.
    fn cascade(&mut self, root: &str, at_ms: i64, who: &Account, text: &str, b: f64, cap: usize) {
        let rt = format!("RT @{}: {text}", who.handle);
        let mut queue = vec![(at_ms, who.followers)];
        let mut made = 0;
        while let Some((t, n)) = queue.pop() {
            let mean = b * (n as f64 / MEAN_FOLLOWERS).max(0.01).powf(0.6);
            let k = self.rng.poisson(mean);
            for _ in 0..k {
                if made >= cap {
                    return;
                }
                let delay = self.rng.reaction_delay(5.0, 0.242, 2_880.0);
                let child_t = t + (delay * MINUTE as f64) as i64;
                let child = self.anyone();
                if self
                    .post(
                        child_t,
                        &child,
                        "bluesky",
                        None,
                        rt.clone(),
                        Parent::Repost(root),
                    )
                    .is_some()
                {
                    made += 1;
                    queue.push((child_t, child.followers));
                }
            }
        }
    }

    fn background(&mut self, start_ms: i64, days: u32) {
        let daily = self.rng.log_range(150.0, 1_500.0);
        let mut day_factor = 1.0;
        let mut hour_factor = 1.0;
        for minute in 0..i64::from(days) * 1_440 {
            let t = start_ms + minute * MINUTE;
            // Paris time (UTC+1 in March).
            let local = minute + 60;
            if local % 1_440 == 0 || minute == 0 {
                day_factor = (0.15 * self.rng.normal()).exp();
            }
            if local % 60 == 0 || minute == 0 {
                hour_factor = (0.2 * self.rng.normal()).exp();
            }
            let hour = ((local / 60) % 24) as usize;
            let weekday = (local / 1_440) % 7; // 0 = Monday
            let weekend = if weekday >= 5 { 0.75 } else { 1.0 };
            let rate = daily / 1_440.0
                * RHYTHM.get(hour).copied().unwrap_or(1.0)
                * weekend
                * day_factor
                * hour_factor;
            let n = self.rng.poisson(rate);
            for _ in 0..n {
                let at = t + (self.rng.uniform() * MINUTE as f64) as i64;
                self.chatter(at);
            }
            // The brand posts three times a working day.
            if weekday < 5 && matches!(local % 1_440, 570 | 810 | 1_050) {
                let tpl = self.rng.pick(texts::BRAND_POSTS).copied().unwrap_or("");
                let text = texts::render(&mut self.rng, tpl, "");
                let brand = brand_account();
                if let Some(id) = self.post(t, &brand, "bluesky", None, text.clone(), Parent::None)
                {
                    self.cascade(&id, t, &brand, &text, 0.3, 50);
                }
            }
        }
    }

    fn chatter(&mut self, at: i64) {
        let who = self.regular();
        let r = self.rng.uniform();
        let (list, negative) = if r < 0.6 {
            (texts::NEUTRAL, false)
        } else if r < 0.82 {
            (texts::POSITIVE, false)
        } else {
            (texts::NEGATIVE, true)
        };
        let tpl = self.rng.pick(list).copied().unwrap_or("");
        let text = texts::render(&mut self.rng, tpl, "");
        let Some(id) = self.post(at, &who, "bluesky", None, text.clone(), Parent::None) else {
            return;
        };
        if negative && self.rng.chance(0.3) {
            let delay = self.rng.exp(40.0) as i64 * MINUTE;
            self.service_answer(at + delay, &id);
        }
        self.cascade(&id, at, &who, &text, 0.25, 30);
    }

    fn service_answer(&mut self, at: i64, to: &str) {
        let tpl = self.rng.pick(texts::SERVICE_ANSWERS).copied().unwrap_or("");
        let service = Account {
            handle: texts::SERVICE_ACCOUNT.into(),
            followers: 12_000,
            verified: true,
        };
        let text = format!("@brevia_service {tpl}");
        self.post(at, &service, "bluesky", None, text, Parent::Reply(to));
    }

    /// Rate of a crowd reaction `x` = t / time-to-peak after the start: rises as x² e^{2(1−x)}
    /// to 1 at the peak, then decays as a power law x^−1.5.
    fn crowd_shape(x: f64) -> f64 {
        if x <= 0.0 {
            0.0
        } else if x <= 1.0 {
            x * x * (2.0 * (1.0 - x)).exp()
        } else {
            x.powf(-1.5)
        }
    }

    fn crisis(&mut self, onset: i64, size: CrisisSize) -> &'static str {
        let story: CrisisStory = self
            .rng
            .pick(texts::CRISES)
            .copied()
            .unwrap_or(texts::CRISES[0]);
        let (followers, b, peak, hashtag_p, press, influencers) = match size {
            CrisisSize::Small => (
                self.rng.log_range(300.0, 3_000.0),
                0.6,
                self.rng.log_range(0.08, 0.25),
                0.3,
                0,
                0,
            ),
            CrisisSize::Medium => (
                self.rng.log_range(2_000.0, 20_000.0),
                0.85,
                self.rng.log_range(0.5, 1.5),
                1.0,
                1 + self.rng.below(2),
                usize::from(self.rng.chance(0.3)),
            ),
            CrisisSize::Large => (
                self.rng.log_range(5_000.0, 50_000.0),
                0.95,
                self.rng.log_range(2.0, 8.0),
                1.0,
                3 + self.rng.below(3),
                1 + self.rng.below(2),
            ),
        };
        // Time to peak of the crowd: 30 min to 3 h (CrisisLexT26's sudden-onset events:
        // 20 to 220 min from onset to peak).
        let tp = self.rng.log_range(30.0, 180.0);
        let hashtag_at = onset + (self.rng.range(10.0, 40.0) * MINUTE as f64) as i64;
        let has_hashtag = self.rng.chance(hashtag_p);
        let trigger_author = Account {
            handle: format!("witness{}", self.rng.below(1_000)),
            followers: followers as u64,
            verified: false,
        };
        self.counting = true;
        let trigger_text = story.trigger.to_owned();
        let Some(trigger) = self.post(
            onset,
            &trigger_author,
            "bluesky",
            None,
            trigger_text.clone(),
            Parent::None,
        ) else {
            return story.name;
        };
        self.cascade(&trigger, onset, &trigger_author, &trigger_text, b, 3_000);
        // The crowd, for a day.
        for minute in 0..1_440i64 {
            let rate = peak * Self::crowd_shape(minute as f64 / tp);
            let n = self.rng.poisson(rate);
            for _ in 0..n {
                let at = onset + minute * MINUTE + (self.rng.uniform() * MINUTE as f64) as i64;
                let who = self.anyone();
                let r = self.rng.uniform();
                let issue = self.rng.pick(story.issue).copied().unwrap_or("");
                let mut text = if r < 0.1 {
                    self.rng
                        .pick(texts::CRISIS_QUESTIONS)
                        .copied()
                        .unwrap_or("")
                        .to_owned()
                } else {
                    let outrage = self.rng.pick(texts::OUTRAGE).copied().unwrap_or("");
                    format!("{issue}. {outrage}")
                };
                let tag_share = ((at - hashtag_at) as f64 / (60.0 * MINUTE as f64)).clamp(0.0, 0.6);
                if has_hashtag && at >= hashtag_at && self.rng.chance(tag_share) {
                    text.push_str(" #");
                    text.push_str(story.hashtag);
                }
                let parent = if r > 0.9 {
                    Parent::Quote(&trigger)
                } else {
                    Parent::None
                };
                let id = self.post(at, &who, "bluesky", None, text.clone(), parent);
                if let Some(id) = id {
                    if self.rng.chance(0.05) {
                        let d = self.rng.exp(30.0) as i64 * MINUTE;
                        self.service_answer(at + d, &id);
                    }
                    self.cascade(&id, at, &who, &text, 0.3, 40);
                }
            }
        }
        for _ in 0..influencers {
            let at = onset + (self.rng.range(20.0, 70.0) * MINUTE as f64) as i64;
            let who = Account {
                handle: format!("influencer{}", self.rng.below(100)),
                followers: self.rng.log_range(80_000.0, 900_000.0) as u64,
                verified: true,
            };
            let issue = self.rng.pick(story.issue).copied().unwrap_or("");
            let text = texts::render(&mut self.rng, texts::INFLUENCER, issue);
            if let Some(id) = self.post(at, &who, "bluesky", None, text.clone(), Parent::None) {
                self.cascade(&id, at, &who, &text, 0.8, 1_500);
            }
        }
        for i in 0..press {
            let at = onset + (self.rng.range(60.0, 180.0) * MINUTE as f64) as i64 + i as i64;
            let media = Account {
                handle: format!("media{}", self.rng.below(20)),
                followers: self.rng.log_range(100_000.0, 2_000_000.0) as u64,
                verified: true,
            };
            let text = format!(
                "{}. Le groupe Brevia fait face à une vague de critiques et d'appels au boycott sur les réseaux sociaux.",
                story.headline
            );
            self.post(
                at,
                &media,
                "rss",
                Some(story.headline.to_owned()),
                text,
                Parent::None,
            );
        }
        let apology_at = onset + (self.rng.range(90.0, 240.0) * MINUTE as f64) as i64;
        self.post(
            apology_at,
            &brand_account(),
            "bluesky",
            None,
            texts::APOLOGY.to_owned(),
            Parent::None,
        );
        self.counting = false;
        story.name
    }

    fn positive_viral(&mut self, at: i64) {
        self.counting = true;
        let who = Account {
            handle: format!("fan{}", self.rng.below(1_000)),
            followers: self.rng.log_range(2_000.0, 20_000.0) as u64,
            verified: false,
        };
        let text = texts::CAMPAIGN_TRIGGER.to_owned();
        if let Some(id) = self.post(at, &who, "bluesky", None, text.clone(), Parent::None) {
            self.cascade(&id, at, &who, &text, 1.0, 2_500);
            let peak = self.rng.log_range(0.5, 2.5);
            let tp = self.rng.log_range(60.0, 180.0);
            for minute in 0..1_440i64 {
                let n = self
                    .rng
                    .poisson(peak * Self::crowd_shape(minute as f64 / tp));
                for _ in 0..n {
                    let t = at + minute * MINUTE + (self.rng.uniform() * MINUTE as f64) as i64;
                    let fan = self.anyone();
                    let tpl = self
                        .rng
                        .pick(texts::CAMPAIGN_REACTIONS)
                        .copied()
                        .unwrap_or("");
                    let mut text = tpl.to_owned();
                    if self.rng.chance(0.4) {
                        text.push_str(" #MerciBrevia");
                    }
                    let parent = if self.rng.chance(0.2) {
                        Parent::Quote(&id)
                    } else {
                        Parent::None
                    };
                    self.post(t, &fan, "bluesky", None, text, parent);
                }
            }
        }
        self.counting = false;
    }

    fn bot_burst(&mut self, at: i64) {
        self.counting = true;
        let bots: Vec<Account> = (0..15 + self.rng.below(26))
            .map(|i| Account {
                handle: format!("promo_{i}_{}", self.rng.below(100_000)),
                followers: self.rng.below(30) as u64,
                verified: false,
            })
            .collect();
        let posts = 150 + self.rng.below(251);
        let span = self.rng.range(10.0, 30.0) * MINUTE as f64;
        for _ in 0..posts {
            let t = at + (self.rng.uniform() * span) as i64;
            let who = self.rng.pick(&bots).cloned();
            let tpl = self.rng.pick(texts::BOT_SPAM).copied().unwrap_or("");
            if let Some(who) = who {
                self.post(t, &who, "bluesky", None, tpl.to_owned(), Parent::None);
            }
        }
        self.counting = false;
    }

    fn lone_complaint(&mut self, at: i64) {
        self.counting = true;
        let who = Account {
            handle: format!("star{}", self.rng.below(100)),
            followers: self.rng.log_range(100_000.0, 800_000.0) as u64,
            verified: true,
        };
        let text = self
            .rng
            .pick(texts::LONE_COMPLAINTS)
            .copied()
            .unwrap_or("")
            .to_owned();
        if let Some(id) = self.post(at, &who, "bluesky", None, text.clone(), Parent::None) {
            self.cascade(&id, at, &who, &text, 0.5, 400);
            let replies = 5 + self.rng.below(15);
            for _ in 0..replies {
                let t = at + (self.rng.exp(90.0) * MINUTE as f64) as i64;
                let fan = self.anyone();
                let tpl = self.rng.pick(texts::LONE_REACTIONS).copied().unwrap_or("");
                self.post(t, &fan, "bluesky", None, tpl.to_owned(), Parent::Reply(&id));
            }
            let d = (self.rng.range(20.0, 120.0) * MINUTE as f64) as i64;
            self.service_answer(at + d, &id);
        }
        self.counting = false;
    }

    fn product_launch(&mut self, at: i64) {
        self.counting = true;
        let brand = brand_account();
        let mut roots = Vec::new();
        for (i, tpl) in texts::LAUNCH_POSTS.iter().enumerate() {
            let t = at + i as i64 * 45 * MINUTE;
            if let Some(id) = self.post(t, &brand, "bluesky", None, (*tpl).to_owned(), Parent::None)
            {
                self.cascade(&id, t, &brand, tpl, 0.7, 800);
                roots.push(id);
            }
        }
        let peak = self.rng.log_range(0.5, 2.0);
        let tp = self.rng.log_range(60.0, 240.0);
        for minute in 0..1_440i64 {
            let n = self
                .rng
                .poisson(peak * Self::crowd_shape(minute as f64 / tp));
            for _ in 0..n {
                let t = at + minute * MINUTE + (self.rng.uniform() * MINUTE as f64) as i64;
                let who = self.anyone();
                let tpl = self
                    .rng
                    .pick(texts::LAUNCH_REACTIONS)
                    .copied()
                    .unwrap_or("");
                let parent = match roots.first() {
                    Some(r) if self.rng.chance(0.15) => Parent::Quote(r),
                    _ => Parent::None,
                };
                self.post(t, &who, "bluesky", None, tpl.to_owned(), parent);
            }
        }
        for i in 0..2 + self.rng.below(3) {
            let t = at + (self.rng.range(30.0, 300.0) * MINUTE as f64) as i64 + i as i64;
            let media = Account {
                handle: format!("media{}", self.rng.below(20)),
                followers: self.rng.log_range(100_000.0, 2_000_000.0) as u64,
                verified: true,
            };
            let text = format!(
                "{}. Le nouveau boîtier sera disponible en boutique dès aujourd'hui.",
                texts::LAUNCH_HEADLINE
            );
            self.post(
                t,
                &media,
                "rss",
                Some(texts::LAUNCH_HEADLINE.to_owned()),
                text,
                Parent::None,
            );
        }
        self.counting = false;
    }
}

fn brand_account() -> Account {
    Account {
        handle: texts::BRAND_ACCOUNT.into(),
        followers: 85_000,
        verified: true,
    }
}

/// Generates the stream described by `spec` (deterministic).
pub fn generate(spec: &DrillSpec) -> Drill {
    let days = spec.days.max(4);
    let start = spec.start.as_millis();
    let end = start + i64::from(days) * DAY;
    let mut g = Gen::new(spec.seed, end);
    g.background(start, days);
    // The event: between day 2.5 and 1.5 days before the end, at a time drawn with the
    // daily rhythm (people post, and crises start, more in the day).
    let mut er = Rng::new(spec.seed, 3 + scenario_stream(spec.scenario));
    let lo = start + 5 * DAY / 2;
    let hi = end - 3 * DAY / 2;
    let event_at = loop {
        let t = lo + ((hi - lo) as f64 * er.uniform()) as i64;
        let hour = (((t - start) / MINUTE + 60) / 60 % 24) as usize;
        if er.uniform() * 1.6 < RHYTHM.get(hour).copied().unwrap_or(1.0) {
            break t - t.rem_euclid(MINUTE);
        }
    };
    g.rng = Rng::new(spec.seed, 100 + scenario_stream(spec.scenario));
    let story = match spec.scenario {
        Scenario::Calm => "ordinary chatter",
        Scenario::Crisis(size) => g.crisis(event_at, size),
        Scenario::PositiveViral => {
            g.positive_viral(event_at);
            "positive viral campaign"
        }
        Scenario::BotBurst => {
            g.bot_burst(event_at);
            "bot burst"
        }
        Scenario::LoneComplaint => {
            g.lone_complaint(event_at);
            "lone high-follower complaint"
        }
        Scenario::ProductLaunch => {
            g.product_launch(event_at);
            "product launch"
        }
    };
    let mut tagged = g.out;
    tagged.sort_by(|(a, _), (b, _)| {
        (a.published_at, &a.external_id).cmp(&(b.published_at, &b.external_id))
    });
    let in_event = tagged.iter().map(|(_, e)| *e).collect();
    let mentions = tagged.into_iter().map(|(m, _)| m).collect();
    Drill {
        spec: *spec,
        mentions,
        event_at: Timestamp::from_millis(event_at),
        onset: spec
            .scenario
            .is_crisis()
            .then_some(Timestamp::from_millis(event_at)),
        story,
        event_mentions: g.event_count,
        in_event,
        end: Timestamp::from_millis(end),
    }
}

fn scenario_stream(s: Scenario) -> u64 {
    Scenario::ALL.iter().position(|x| *x == s).unwrap_or(0) as u64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn deterministic_sorted_and_sized() {
        let spec = DrillSpec::new(7, Scenario::Crisis(CrisisSize::Large));
        let a = generate(&spec);
        let b = generate(&spec);
        assert_eq!(a, b);
        assert!(
            a.mentions
                .windows(2)
                .all(|w| w[0].published_at <= w[1].published_at)
        );
        let onset = a.onset.unwrap();
        assert!(a.mentions.iter().any(|m| m.published_at == onset));
        let small = generate(&DrillSpec::new(7, Scenario::Crisis(CrisisSize::Small)));
        assert!(a.event_mentions > 5 * small.event_mentions.max(1));
        // Background of the same seed is the same stream whatever the event.
        let calm = generate(&DrillSpec::new(7, Scenario::Calm));
        assert_eq!(calm.event_mentions, 0);
        assert_eq!(calm.mentions.len() + a.event_mentions, a.mentions.len());
    }

    #[test]
    fn background_has_a_daily_rhythm() {
        let d = generate(&DrillSpec::new(3, Scenario::Calm));
        let mut by_hour = [0u64; 24];
        for m in &d.mentions {
            let h = ((m.published_at.as_millis() / MINUTE + 60) / 60 % 24) as usize;
            by_hour[h] += 1;
        }
        assert!(by_hour[19] > 5 * by_hour[4], "{by_hour:?}");
    }
}
