//! The incident and everything it causes: the trigger post, the spread, the press, the
//! brand's response and the slow aftermath.
//!
//! The crowd's volume follows [`crowd_rate`]; what each post says depends on the minute
//! (the hashtag from +30 min, silence complaints from +1 h, English from +2 h, reactions
//! to the apology from +2 h 30).

use super::authors::{Network, Persona, Pool};
use super::calendar::{DECAY_AT_MIN, END_AT_MIN, RESPONSE_AT_MIN, Timeline, paris_hour};
use super::chatter::{Brand, RHYTHM, declared_lang};
use super::crisis_texts as ct;
use super::post::{Draft, Parent, Story, Strand, engagement, viral};
use super::rng::Rng;
use super::texts::{self, Mood};
use vigie_model::Timestamp;

/// Crowd posts per minute at `m` minutes after the trigger, before the night and decay
/// adjustments: a slow start, a jump when the influencer joins (+50), the peak after the
/// press (+90 to +150), about 540 an hour.
const KNOTS: &[(f64, f64)] = &[
    (0.0, 0.15),
    (10.0, 0.5),
    (30.0, 1.5),
    (50.0, 2.5),
    (60.0, 4.0),
    (90.0, 6.0),
    (120.0, 8.5),
    (150.0, 9.0),
    (210.0, 6.5),
];
/// Time constant of the decay after +3 h 30, in minutes.
const DECAY_MINUTES: f64 = 300.0;

/// Crowd posts per minute at `m` minutes after the onset, `hour` being the Paris hour.
pub(crate) fn crowd_rate(m: f64, hour: u32) -> f64 {
    if m < 0.0 {
        return 0.0;
    }
    let decay_at = DECAY_AT_MIN as f64;
    if m <= decay_at {
        let mut prev = (0.0, 0.0);
        for &(x, y) in KNOTS {
            if m <= x {
                let (x0, y0) = prev;
                return y0 + (y - y0) * (m - x0) / (x - x0).max(1e-9);
            }
            prev = (x, y);
        }
        return prev.1;
    }
    let peak = KNOTS.last().map_or(6.5, |k| k.1);
    let decayed = peak * super::rng::exp(-(m - decay_at) / DECAY_MINUTES);
    // Night and day take over progressively during the two hours after the decay starts.
    // A viral story keeps some night owls busy: the night floor is a third of the day.
    let daily = 0.35 + 0.65 * RHYTHM.get(hour as usize).copied().unwrap_or(10.0) / 12.0;
    let w = ((m - decay_at) / 120.0).clamp(0.0, 1.0);
    decayed * ((1.0 - w) + w * daily)
}

/// A post others may repost.
#[derive(Debug, Clone)]
struct Target {
    network: Network,
    id: String,
    at: Timestamp,
    short: String,
    text: String,
    weight: f64,
}

/// The characters and the state of the spread.
struct Crisis<'a> {
    story: &'a mut Story,
    rng: &'a mut Rng,
    pool: &'a Pool,
    onset: Timestamp,
    brand: Brand,
    customer: Persona,
    trigger_id: String,
    reddit_thread: Option<(String, Timestamp)>,
    apologies: Vec<(Network, String)>,
    targets: Vec<Target>,
    complaints: Vec<(Network, String, String, Timestamp)>,
}

/// Writes the crisis into `story`; returns the trigger post's time (the onset).
pub(crate) fn generate(story: &mut Story, rng: &mut Rng, pool: &Pool, tl: &Timeline) -> Timestamp {
    let customer = Persona::named(
        Network::Mastodon,
        "camille_rives",
        "Camille Rives",
        1_140,
        false,
    );
    let mut c = Crisis {
        story,
        rng,
        pool,
        onset: tl.onset,
        brand: Brand::new(),
        customer,
        trigger_id: String::new(),
        reddit_thread: None,
        apologies: Vec::new(),
        targets: Vec::new(),
        complaints: Vec::new(),
    };
    c.trigger();
    let mut next_key = 0;
    for minute in 0..END_AT_MIN {
        while let Some(event) = KEY_EVENTS.get(next_key).filter(|e| e.0 <= minute) {
            c.key_post(event.1);
            next_key += 1;
        }
        c.articles_at(minute);
        let at = tl.onset.plus_minutes(minute);
        let m = minute as f64;
        let rate = crowd_rate(m, paris_hour(at));
        for _ in 0..c.rng.poisson(rate) {
            let at = at.plus_secs(c.rng.range(1, 60));
            c.crowd_post(m, at);
        }
        for _ in 0..c.rng.poisson(service_rate(m, paris_hour(at))) {
            let at = at.plus_secs(c.rng.range(1, 60));
            c.service_answer(at);
        }
    }
    tl.onset
}

/// Customer-care answers per minute: busy right after the apology, then office hours.
fn service_rate(m: f64, hour: u32) -> f64 {
    let response = RESPONSE_AT_MIN as f64;
    if m < response + 5.0 {
        0.0
    } else if m < response + 150.0 {
        0.8
    } else if (8..21).contains(&hour) {
        0.25 * super::rng::exp(-(m - response) / 1200.0)
    } else {
        0.0
    }
}

/// The story's key posts after the trigger, by minute.
#[derive(Debug, Clone, Copy)]
enum Key {
    HashtagLaunch,
    TriggerUpdate,
    Influencer,
    RedditThread,
    Association,
    Apology,
    ApologyShort,
    AssociationAfter,
}

const KEY_EVENTS: &[(i64, Key)] = &[
    (31, Key::HashtagLaunch),
    (40, Key::TriggerUpdate),
    (50, Key::Influencer),
    (58, Key::RedditThread),
    (68, Key::Association),
    (RESPONSE_AT_MIN, Key::Apology),
    (RESPONSE_AT_MIN + 2, Key::ApologyShort),
    (200, Key::AssociationAfter),
];

impl Crisis<'_> {
    fn at(&mut self, minute: i64) -> Timestamp {
        self.onset
            .plus_minutes(minute)
            .plus_secs(self.rng.range(0, 50))
    }

    /// `at`, or a little after `parent` if that is later (an answer comes after its post).
    fn after(&mut self, at: Timestamp, parent: Timestamp) -> Timestamp {
        let earliest = parent.plus_secs(self.rng.range(5, 90));
        at.max(earliest)
    }

    fn publish(&mut self, who: &Persona, draft: Draft, repost_weight: f64) -> String {
        let text = draft.text.clone();
        let at = draft.at;
        let id = self.story.publish(Strand::Crisis, who, draft);
        if repost_weight > 0.0 {
            self.targets.push(Target {
                network: who.network,
                id: id.clone(),
                at,
                short: who.short.clone(),
                text,
                weight: repost_weight,
            });
        }
        id
    }

    fn trigger(&mut self) {
        let customer = self.customer.clone();
        let draft = Draft {
            at: self.onset,
            text: ct::TRIGGER.to_owned(),
            engagement: viral(self.rng, 2_300, 5_400, 820, 410),
            ..Draft::default()
        };
        self.trigger_id = self.publish(&customer, draft, 6.0);
    }

    fn key_post(&mut self, key: Key) {
        let (who, minute, text, eng, parent, weight) = match key {
            Key::HashtagLaunch => (
                Persona::named(
                    Network::Bluesky,
                    "julien_cazenave",
                    "Julien Cazenave",
                    3_900,
                    false,
                ),
                31,
                ct::HASHTAG_LAUNCH,
                viral(self.rng, 640, 1_100, 90, 60),
                Parent::None,
                2.0,
            ),
            Key::TriggerUpdate => (
                self.customer.clone(),
                40,
                ct::TRIGGER_UPDATE,
                viral(self.rng, 380, 1_200, 150, 20),
                Parent::Reply(self.trigger_id.clone()),
                1.0,
            ),
            Key::Influencer => (
                Persona::named(
                    Network::Bluesky,
                    "ines_marchal",
                    "Inès Marchal",
                    248_300,
                    true,
                ),
                50,
                ct::INFLUENCER,
                viral(self.rng, 6_100, 19_800, 1_450, 900),
                Parent::None,
                8.0,
            ),
            Key::RedditThread => {
                let op = Persona::named(
                    Network::Reddit,
                    "bordelais_du_33",
                    "bordelais_du_33",
                    0,
                    false,
                );
                let at = self.at(58);
                let draft = Draft {
                    at,
                    title: Some(ct::REDDIT_TITLE.to_owned()),
                    text: ct::REDDIT_TEXT.to_owned(),
                    engagement: viral(self.rng, 0, 3_400, 560, 0),
                    submission: true,
                    ..Draft::default()
                };
                self.reddit_thread = Some((self.publish(&op, draft, 0.0), at));
                return;
            }
            Key::Association => (
                Persona::named(
                    Network::Mastodon,
                    "accespourtous",
                    "Collectif Accès pour tous",
                    18_400,
                    true,
                ),
                68,
                ct::ASSOCIATION,
                viral(self.rng, 1_200, 2_900, 240, 130),
                Parent::None,
                3.0,
            ),
            Key::Apology | Key::ApologyShort => {
                let (i, text, minute) = match key {
                    Key::Apology => (0, ct::APOLOGY, RESPONSE_AT_MIN),
                    _ => (1, ct::APOLOGY_SHORT, RESPONSE_AT_MIN + 2),
                };
                let who = self
                    .brand
                    .main
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| self.customer.clone());
                let eng = viral(self.rng, 900, 2_600, 1_900, 700);
                let draft = Draft {
                    at: self.onset.plus_minutes(minute),
                    text: text.to_owned(),
                    lang: Some("fr"),
                    engagement: eng,
                    ..Draft::default()
                };
                let id = self.publish(&who, draft, 3.0);
                self.apologies.push((who.network, id));
                return;
            }
            Key::AssociationAfter => (
                Persona::named(
                    Network::Mastodon,
                    "accespourtous",
                    "Collectif Accès pour tous",
                    18_450,
                    true,
                ),
                200,
                ct::ASSOCIATION_AFTER,
                viral(self.rng, 300, 900, 60, 20),
                Parent::None,
                1.0,
            ),
        };
        let draft = Draft {
            at: self.at(minute),
            text: text.to_owned(),
            lang: declared_lang(self.rng, &who),
            engagement: eng,
            parent,
            ..Draft::default()
        };
        self.publish(&who, draft, weight);
    }

    fn articles_at(&mut self, minute: i64) {
        for &(outlet, at, title, summary, section) in ct::ARTICLES.iter().filter(|a| a.1 == minute)
        {
            let Some(&(slug, name, domain, audience)) = ct::OUTLETS.get(outlet) else {
                continue;
            };
            let english = domain.starts_with("retail");
            let mut who = Persona::outlet(slug, name, domain, audience);
            who.english = english;
            let draft = Draft {
                at: self.at(at),
                title: Some(title.to_owned()),
                text: summary.to_owned(),
                lang: Some(if english { "en" } else { "fr" }),
                section,
                ..Draft::default()
            };
            self.publish(&who, draft, 0.0);
        }
    }

    /// The hashtags a crowd post ends with at minute `m`.
    fn tags(&mut self, m: f64) -> String {
        let boycott = if m < 31.0 {
            0.0
        } else if m < 150.0 {
            ((m - 31.0) / 60.0 * 0.7).min(0.7)
        } else {
            (0.5 - (m - 150.0) / 2000.0).max(0.15)
        };
        let mut tags = Vec::new();
        if self.rng.chance(boycott) {
            tags.push(self.rng.pick(&[
                "#BoycottOrsane",
                "#BoycottOrsane",
                "#boycottorsane",
                "#BOYCOTTORSANE",
            ]));
        } else if self.rng.chance(0.12) {
            tags.push("#Orsane");
        }
        if self.rng.chance(0.12) {
            tags.push(self.rng.pick(&[
                "#handicap",
                "#discrimination",
                "#accessibilité",
                "#Bordeaux",
            ]));
        }
        tags.join(" ")
    }

    fn render(&mut self, template: &str, m: f64, h: &str) -> String {
        let tags = self.tags(m);
        let rng = &mut *self.rng;
        let text = texts::fill(template, |slot| match slot {
            "tags" => Some(tags.clone()),
            "h" => Some(h.to_owned()),
            "adj" => Some(rng.pick(ct::ADJ).to_owned()),
            "Adj" => Some(capitalize(rng.pick(ct::ADJ))),
            other => texts::common_slot(rng, other),
        });
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn crowd_post(&mut self, m: f64, at: Timestamp) {
        let response = RESPONSE_AT_MIN as f64;
        let english_w = if m < 110.0 {
            0.0
        } else if m < response {
            0.12
        } else {
            0.06
        };
        let english = self.rng.chance(english_w);
        let who = if english {
            self.pool.any_english(self.rng)
        } else {
            self.pool.any_french(self.rng)
        };
        let Some(who) = who.cloned() else { return };
        // Reposts, replies and quotes must stay on the author's network.
        if !english
            && self.rng.chance(if m < 15.0 { 0.45 } else { 0.22 })
            && self.repost(&who, m, at)
        {
            return;
        }
        let mut parent = Parent::None;
        let (table, mood, negative): (&[&str], Mood, bool) = if english {
            (ct::ENGLISH, Mood::Angry, true)
        } else if m < response {
            let w = [
                if m < 30.0 { 0.35 } else { 0.06 },        // reply to the trigger
                0.5,                                       // outrage
                ((m - 31.0) / 60.0 * 0.3).clamp(0.0, 0.3), // boycott
                if m >= 60.0 { 0.1 } else { 0.0 },         // silence
                0.1,                                       // questions
            ];
            match self.rng.weighted(&w) {
                0 if who.network == Network::Mastodon => {
                    parent = Parent::Reply(self.trigger_id.clone());
                    (ct::REPLIES_TO_TRIGGER, Mood::Plain, true)
                }
                0 | 1 => (ct::OUTRAGE, Mood::Angry, true),
                2 => (ct::BOYCOTT, Mood::Angry, true),
                3 => (ct::SILENCE, Mood::Angry, true),
                _ => (ct::QUESTIONS, Mood::Plain, false),
            }
        } else {
            // After the apology: reactions, slowly less negative.
            let p = ((m - response) / 1650.0).clamp(0.0, 1.0);
            let w = [
                if m < response + 90.0 { 0.18 } else { 0.03 }, // reply to the apology
                0.45 - 0.2 * p,                                // negative reaction
                0.3,                                           // neutral
                0.1 + 0.3 * p,                                 // positive
                (0.15 - 0.1 * p).max(0.0),                     // late outrage
                0.02,                                          // Kalia fans
            ];
            match self.rng.weighted(&w) {
                0 => match self.apologies.iter().find(|a| a.0 == who.network) {
                    Some((_, id)) => {
                        parent = Parent::Reply(id.clone());
                        (ct::APOLOGY_REPLIES, Mood::Plain, true)
                    }
                    None => (ct::AFTER_NEUTRAL, Mood::Plain, false),
                },
                1 => (ct::AFTER_NEGATIVE, Mood::Angry, true),
                2 => (ct::AFTER_NEUTRAL, Mood::Plain, false),
                3 => (ct::AFTER_POSITIVE, Mood::Happy, false),
                4 => (ct::OUTRAGE, Mood::Angry, true),
                _ => (ct::KALIA_DURING, Mood::Plain, false),
            }
        };
        let mut at = at;
        if who.network == Network::Reddit
            && parent == Parent::None
            && let Some((thread, thread_at)) = self.reddit_thread.clone()
        {
            parent = Parent::Reply(thread);
            at = self.after(at, thread_at);
        }
        let h = match &parent {
            Parent::Reply(id) if *id == self.trigger_id => self.customer.short.clone(),
            _ => "orsane".to_owned(),
        };
        let template = self.rng.pick(table);
        let text = self.render(template, m, &h);
        let text = texts::vary(self.rng, &text, mood);
        let heat = 1.0 + 6.0 * crowd_rate(m, paris_hour(at)) / 9.0;
        let draft = Draft {
            at,
            text,
            lang: declared_lang(self.rng, &who),
            engagement: engagement(self.rng, who.followers, heat),
            parent,
            ..Draft::default()
        };
        let weight = if who.followers > 5_000 { 0.5 } else { 0.0 };
        let id = self.publish(&who, draft, weight);
        if negative && matches!(who.network, Network::Mastodon | Network::Bluesky) {
            self.complaints
                .push((who.network, id, who.short.clone(), at));
        }
    }

    /// A repost (an "RT" copy or a short comment) or a quote of a popular post on `who`'s network.
    fn repost(&mut self, who: &Persona, m: f64, at: Timestamp) -> bool {
        let weights: Vec<f64> = self
            .targets
            .iter()
            .map(|t| {
                if t.network == who.network {
                    t.weight
                } else {
                    0.0
                }
            })
            .collect();
        if weights.iter().all(|w| *w <= 0.0) {
            return false;
        }
        let Some(target) = self.targets.get(self.rng.weighted(&weights)).cloned() else {
            return false;
        };
        // Most reposts copy the original ("RT"), some add a word; a few are quote posts.
        let roll = self.rng.unit();
        let (text, parent, heat) = if roll < 0.6 {
            let copy = format!("RT @{}: {}", target.short, target.text);
            (copy, Parent::Repost(target.id), 0.3)
        } else {
            let template = self.rng.pick(ct::REPOST_COMMENTS);
            let comment = self.render(template, m, "orsane");
            if roll < 0.85 {
                (comment, Parent::Repost(target.id), 0.3)
            } else {
                (comment, Parent::Quote(target.id), 2.0)
            }
        };
        let at = self.after(at, target.at);
        let draft = Draft {
            at,
            text,
            lang: declared_lang(self.rng, who),
            engagement: engagement(self.rng, who.followers, heat),
            parent,
            ..Draft::default()
        };
        self.story.publish(Strand::Crisis, who, draft);
        true
    }

    /// `@orsane_service` answers one earlier complaint.
    fn service_answer(&mut self, at: Timestamp) {
        if self.complaints.is_empty() {
            return;
        }
        let i = self.rng.below(self.complaints.len() as u64) as usize;
        let (network, id, short, complained_at) = self.complaints.swap_remove(i);
        let at = self.after(at, complained_at.plus_minutes(1));
        let Some(service) = self.brand.service_on(network).cloned() else {
            return;
        };
        let template = self.rng.pick(ct::SERVICE_CRISIS);
        let text = texts::fill(template, |slot| (slot == "h").then(|| short.clone()));
        let draft = Draft {
            at,
            text,
            lang: declared_lang(self.rng, &service),
            engagement: engagement(self.rng, 200, 1.0),
            parent: Parent::Reply(id),
            ..Draft::default()
        };
        self.story.publish(Strand::Crisis, &service, draft);
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crowd_builds_up_peaks_and_decays() {
        assert_eq!(crowd_rate(-1.0, 19), 0.0);
        assert!(crowd_rate(5.0, 19) < 0.5);
        assert!(crowd_rate(45.0, 20) > 2.0 * crowd_rate(15.0, 19));
        let peak = crowd_rate(150.0, 22);
        assert!((8.0..=10.0).contains(&peak), "{peak}");
        assert!(crowd_rate(600.0, 5) < peak / 10.0);
        assert!(crowd_rate(2000.0, 12) < 0.05, "{}", crowd_rate(2000.0, 12));
        // Continuous where the decay starts.
        let before = crowd_rate(DECAY_AT_MIN as f64, 23);
        let after = crowd_rate(DECAY_AT_MIN as f64 + 0.01, 23);
        assert!((before - after).abs() < 0.01);
    }

    #[test]
    fn customer_care_works_after_the_apology() {
        assert_eq!(service_rate(100.0, 21), 0.0);
        assert!(service_rate(200.0, 22) > 0.5);
        assert_eq!(service_rate(600.0, 3), 0.0);
        assert!(service_rate(900.0, 10) > 0.0);
        assert_eq!(capitalize("écœurant"), "Écœurant");
    }
}
