//! The synthetic demo crisis: a seeded, deterministic story of a social-media crisis at
//! **Orsane**, a fictional French chain of coffee shops, for `vigie demo`.
//!
//! [`generate`] writes the whole story as [`Mention`]s, sorted by publication time:
//!
//! 1. **chatter**: ordinary days (a Paris daily rhythm, 6–20 mentions an hour about Orsane in
//!    the day, a promotion day, the competitor Brûlerie Kalia, the brand's own posts);
//! 2. **trigger**: at 19:40 Paris time the evening after the chatter days, a customer posts a
//!    video of a barista refusing to serve a man in a wheelchair and mocking him;
//! 3. **spread**: reposts and outrage, `#BoycottOrsane` (+30 min), an influencer (+50 min),
//!    a disability-rights group, the press (+90 min), English echoes (+2 h); several hundred
//!    mentions an hour at the peak;
//! 4. **response**: `@orsane` apologizes (+2 h 30), `@orsane_service` answers complaints;
//! 5. **aftermath**: the volume decays over about 36 hours and sentiment recovers.
//!
//! Same options, same bytes: there is no clock read, no hash-map iteration, the generator
//! is our own (xoshiro256**), and the float maths uses only exactly-rounded operations.
//! See `docs/demo.md`.
//!
//! ```
//! use vigie_connect::demo::{generate, to_jsonl, DemoOptions};
//! let scenario = generate(&DemoOptions { chatter_days: 2, ..DemoOptions::default() });
//! assert_eq!(scenario.onset.to_rfc3339(), "2026-03-04T18:40:00Z");
//! let trigger = scenario.mentions.iter().find(|m| m.published_at == scenario.onset).unwrap();
//! assert!(trigger.text.contains("fauteuil roulant"));
//! assert_eq!(to_jsonl(&scenario.mentions).lines().count(), scenario.mentions.len());
//! ```

mod authors;
mod calendar;
mod chatter;
mod crisis;
mod crisis_texts;
mod post;
mod rng;
mod texts;

use post::{Story, Tagged};
use rng::Rng;
use vigie_model::{Mention, Timestamp};

/// 2026-03-02T00:00:00Z, a Monday.
const DEFAULT_START_MS: i64 = 1_772_409_600_000;
/// Generated French-speaking accounts.
const FRENCH_ACCOUNTS: usize = 3_000;
/// Generated English-speaking accounts.
const ENGLISH_ACCOUNTS: usize = 400;

/// Independent random streams, one per part of the story.
const STREAM_ACCOUNTS: u64 = 1;
const STREAM_IDS: u64 = 2;
const STREAM_CHATTER: u64 = 3;
const STREAM_CRISIS: u64 = 4;

/// What story to tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOptions {
    /// The seed: the same seed gives the same mentions, byte for byte. Default 42.
    pub seed: u64,
    /// The first instant of the ordinary chatter. Default 2026-03-02T00:00:00Z (a Monday).
    pub start: Timestamp,
    /// Days of ordinary chatter before the trigger (2 or more for detectors to learn a
    /// baseline). Default 6, so that the trigger falls on a Sunday evening.
    pub chatter_days: u32,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            seed: 42,
            start: Timestamp::from_millis(DEFAULT_START_MS),
            chatter_days: 6,
        }
    }
}

/// One chapter of the story, as the demo prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPhase {
    /// Short name: `chatter`, `trigger`, `spread`, `response`, `aftermath`.
    pub name: &'static str,
    /// When it begins.
    pub start: Timestamp,
    /// One line on what happens.
    pub description: &'static str,
}

/// A generated story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoScenario {
    /// Every mention, sorted by `published_at`, then `external_id`.
    pub mentions: Vec<Mention>,
    /// The phases, in order.
    pub phases: Vec<DemoPhase>,
    /// The trigger post's publication time.
    pub onset: Timestamp,
}

/// Generates the story described by `opts` (a few thousand mentions, in milliseconds).
pub fn generate(opts: &DemoOptions) -> DemoScenario {
    let (scenario, _) = generate_tagged(opts);
    scenario
}

/// [`generate`], also returning the strand of each mention (same order).
fn generate_tagged(opts: &DemoOptions) -> (DemoScenario, Vec<post::Strand>) {
    let timeline = calendar::Timeline::new(opts);
    let pool = authors::Pool::generate(
        &mut Rng::new(opts.seed, STREAM_ACCOUNTS),
        FRENCH_ACCOUNTS,
        ENGLISH_ACCOUNTS,
    );
    let mut story = Story::new(Rng::new(opts.seed, STREAM_IDS));
    chatter::generate(
        &mut story,
        &mut Rng::new(opts.seed, STREAM_CHATTER),
        &pool,
        &timeline,
        opts.chatter_days,
    );
    let onset = crisis::generate(
        &mut story,
        &mut Rng::new(opts.seed, STREAM_CRISIS),
        &pool,
        &timeline,
    );
    let mut tagged: Vec<Tagged> = story
        .out
        .into_iter()
        .filter(|t| t.mention.published_at < timeline.end)
        .collect();
    tagged.sort_by(|a, b| {
        (a.mention.published_at, &a.mention.external_id)
            .cmp(&(b.mention.published_at, &b.mention.external_id))
    });
    let strands = tagged.iter().map(|t| t.strand).collect();
    let scenario = DemoScenario {
        mentions: tagged.into_iter().map(|t| t.mention).collect(),
        phases: timeline.phases(),
        onset,
    };
    (scenario, strands)
}

/// The mentions as JSON Lines (the interchange format: one `serde_json` object of
/// [`Mention`] per line, each ending with `\n`), ready for `vigie import`.
pub fn to_jsonl(mentions: &[Mention]) -> String {
    let mut out = String::with_capacity(mentions.len() * 400);
    for m in mentions {
        // A Mention has only string keys and finite numbers: serializing it cannot fail.
        if let Ok(line) = serde_json::to_string(m) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::post::Strand;
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn default_tagged() -> (DemoScenario, Vec<Strand>) {
        generate_tagged(&DemoOptions::default())
    }

    fn crisis(s: &DemoScenario, strands: &[Strand]) -> Vec<Mention> {
        s.mentions
            .iter()
            .zip(strands)
            .filter(|(_, st)| **st == Strand::Crisis)
            .map(|(m, _)| m.clone())
            .collect()
    }

    fn minutes_after(m: &Mention, onset: Timestamp) -> i64 {
        m.published_at.millis_since(onset).div_euclid(60_000)
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_story() {
        let a = generate(&DemoOptions::default());
        let b = generate(&DemoOptions::default());
        assert_eq!(a, b);
        assert_eq!(to_jsonl(&a.mentions), to_jsonl(&b.mentions));
        let c = generate(&DemoOptions {
            seed: 43,
            ..DemoOptions::default()
        });
        assert_ne!(to_jsonl(&a.mentions), to_jsonl(&c.mentions));
        // The story keeps its shape whatever the seed.
        assert_eq!(a.onset, c.onset);
        assert_eq!(a.phases, c.phases);
    }

    #[test]
    fn mentions_are_sorted_and_unique_per_source() {
        let s = generate(&DemoOptions::default());
        assert!(s.mentions.len() > 3_000, "{} mentions", s.mentions.len());
        assert!(s.mentions.windows(2).all(|w| {
            (w[0].published_at, &w[0].external_id) <= (w[1].published_at, &w[1].external_id)
        }));
        let keys: BTreeSet<_> = s.mentions.iter().map(Mention::key).collect();
        assert_eq!(keys.len(), s.mentions.len());
        let sources: BTreeSet<&str> = s.mentions.iter().map(|m| m.source.as_str()).collect();
        assert_eq!(
            sources,
            BTreeSet::from(["bluesky", "mastodon", "reddit", "rss"])
        );
        for m in &s.mentions {
            assert!(m.received_at.unwrap() > m.published_at);
            assert!(m.url.as_deref().unwrap().starts_with("https://"));
            assert!(!m.text.trim().is_empty());
        }
        let first = s.mentions.first().unwrap().published_at;
        assert!(first >= DemoOptions::default().start);
    }

    #[test]
    fn every_crisis_mention_names_orsane_and_the_trigger_comes_first() {
        let (s, strands) = default_tagged();
        let crisis = crisis(&s, &strands);
        assert!(crisis.len() > 1_500, "{} crisis mentions", crisis.len());
        for m in &crisis {
            let all = format!("{} {}", m.title.as_deref().unwrap_or(""), m.text).to_lowercase();
            assert!(all.contains("orsane"), "{}: {}", m.external_id, m.text);
        }
        let first = &crisis[0];
        assert_eq!(first.published_at, s.onset);
        assert!(first.text.contains("fauteuil roulant"));
        assert!(first.author.followers.unwrap() < 5_000, "a modest audience");
        assert!(crisis[1..].iter().all(|m| m.published_at > s.onset));
        assert_eq!(s.phases[1].name, "trigger");
        assert_eq!(s.phases[1].start, s.onset);
        // Nothing of the crisis before the onset.
        let before: Vec<_> = s
            .mentions
            .iter()
            .filter(|m| m.published_at < s.onset)
            .collect();
        assert!(
            before
                .iter()
                .all(|m| !m.text.to_lowercase().contains("boycott"))
        );
    }

    #[test]
    fn the_peak_hour_is_at_least_ten_times_a_median_chatter_hour() {
        let s = generate(&DemoOptions::default());
        let mut per_hour: BTreeMap<i64, usize> = BTreeMap::new();
        for m in &s.mentions {
            *per_hour
                .entry(m.published_at.as_millis().div_euclid(3_600_000))
                .or_default() += 1;
        }
        let onset_hour = s.onset.as_millis().div_euclid(3_600_000);
        let start_hour = s.phases[0].start.as_millis().div_euclid(3_600_000);
        let mut chatter: Vec<usize> = (start_hour..onset_hour)
            .map(|h| per_hour.get(&h).copied().unwrap_or(0))
            .collect();
        chatter.sort_unstable();
        let median = chatter[chatter.len() / 2];
        let (peak_hour, peak) = per_hour.iter().max_by_key(|(_, n)| **n).unwrap();
        assert!(*peak >= 10 * median.max(1), "peak {peak}, median {median}");
        assert!(*peak >= 300, "several hundred an hour at the peak: {peak}");
        assert!((onset_hour + 1..=onset_hour + 4).contains(peak_hour));
        // Back to ordinary volume by the end.
        let last: usize = per_hour
            .range(onset_hour + 34..)
            .map(|(_, n)| *n)
            .max()
            .unwrap();
        assert!(last < peak / 10, "{last} an hour at the end");
    }

    #[test]
    fn the_spread_is_negative_and_the_aftermath_recovers() {
        let (s, strands) = default_tagged();
        let crisis = crisis(&s, &strands);
        const WORDS: &[&str] = &[
            "honte",
            "scandaleux",
            "inadmissible",
            "dégoût",
            "boycott",
            "discrimination",
            "honteux",
            "révoltant",
            "indigne",
            "lamentable",
            "inacceptable",
            "écœurant",
            "disgrace",
            "disgusting",
            "shameful",
            "awful",
            "horrible",
            "unacceptable",
        ];
        let negative_share = |from: i64, to: i64| {
            let window: Vec<_> = crisis
                .iter()
                .filter(|m| (from..to).contains(&minutes_after(m, s.onset)))
                .filter(|m| m.repost_of.is_none())
                .collect();
            let neg = window
                .iter()
                .filter(|m| {
                    let t = strip(&m.text.to_lowercase());
                    WORDS.iter().any(|w| t.contains(&strip(w)))
                })
                .count();
            neg as f64 / window.len().max(1) as f64
        };
        let spread = negative_share(15, 150);
        let late = negative_share(20 * 60, 40 * 60);
        assert!(spread > 0.6, "spread negative share {spread}");
        assert!(late < spread - 0.2, "aftermath {late} vs spread {spread}");
    }

    fn strip(s: &str) -> String {
        s.replace(['é', 'è', 'ê'], "e")
            .replace('û', "u")
            .replace('œ', "oe")
    }

    #[test]
    fn the_story_beats_happen_on_time() {
        let (s, strands) = default_tagged();
        let crisis = crisis(&s, &strands);
        let first = |pred: &dyn Fn(&Mention) -> bool| {
            crisis
                .iter()
                .find(|m| pred(m))
                .map(|m| minutes_after(m, s.onset))
        };
        let hashtag = first(&|m| m.text.to_lowercase().contains("#boycottorsane")).unwrap();
        assert!((30..=32).contains(&hashtag), "hashtag at +{hashtag}");
        let influencer = crisis
            .iter()
            .find(|m| m.author.verified && m.author.followers.unwrap_or(0) >= 200_000)
            .unwrap();
        assert_eq!(minutes_after(influencer, s.onset), 50);
        let press = first(&|m| m.source == "rss").unwrap();
        assert_eq!(press, 90);
        let article = crisis.iter().find(|m| m.source == "rss").unwrap();
        assert!(article.title.as_deref().unwrap().contains("Orsane"));
        assert_eq!(article.lang.as_deref(), Some("fr"));
        let english = first(&|m| m.text.contains("wheelchair")).unwrap();
        assert!((110..=135).contains(&english), "English at +{english}");
        let apology = crisis
            .iter()
            .find(|m| m.author.handle == "orsane" && m.text.contains("excuses"))
            .unwrap();
        assert_eq!(minutes_after(apology, s.onset), 150);
        let answers = crisis
            .iter()
            .filter(|m| m.author.handle == "orsane_service")
            .count();
        assert!(answers > 50, "{answers} customer-care answers");
        assert!(
            crisis
                .iter()
                .any(|m| m.source == "reddit" && m.title.is_some())
        );
        assert!(crisis.iter().filter(|m| m.repost_of.is_some()).count() > 200);
        assert!(crisis.iter().filter(|m| m.quote_of.is_some()).count() > 20);
        assert!(crisis.iter().filter(|m| m.reply_to.is_some()).count() > 200);
        let authors: BTreeSet<&str> = crisis.iter().map(|m| m.author.handle.as_str()).collect();
        assert!(authors.len() > 1_000, "{} distinct authors", authors.len());
    }

    #[test]
    fn parents_exist_earlier_on_the_same_source() {
        let s = generate(&DemoOptions::default());
        let index: BTreeMap<(&str, &str), Timestamp> = s
            .mentions
            .iter()
            .map(|m| ((m.source.as_str(), m.external_id.as_str()), m.published_at))
            .collect();
        for m in &s.mentions {
            for parent in [&m.reply_to, &m.quote_of, &m.repost_of]
                .into_iter()
                .flatten()
            {
                let at = index.get(&(m.source.as_str(), parent.as_str()));
                assert!(
                    at.is_some_and(|t| *t <= m.published_at),
                    "{} -> {parent}",
                    m.external_id
                );
            }
        }
    }

    #[test]
    fn texts_do_not_repeat_too_often() {
        let (s, strands) = default_tagged();
        let crisis = crisis(&s, &strands);
        let own: Vec<&Mention> = crisis
            .iter()
            .filter(|m| !m.text.starts_with("RT @"))
            .collect();
        let distinct: BTreeSet<&str> = own.iter().map(|m| m.text.as_str()).collect();
        assert!(
            distinct.len() * 2 > own.len(),
            "{} distinct of {}",
            distinct.len(),
            own.len()
        );
    }

    #[test]
    fn jsonl_round_trips_through_serde() {
        let s = generate(&DemoOptions {
            chatter_days: 2,
            ..DemoOptions::default()
        });
        let jsonl = to_jsonl(&s.mentions);
        let back: Vec<Mention> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(back, s.mentions);
        assert!(jsonl.ends_with('\n'));
        assert_eq!(to_jsonl(&[]), "");
    }

    #[test]
    fn short_chatter_still_tells_the_whole_story() {
        for days in [2, 3] {
            let opts = DemoOptions {
                chatter_days: days,
                seed: 7,
                ..DemoOptions::default()
            };
            let (s, strands) = generate_tagged(&opts);
            let chatter_end = opts.start.plus_millis(i64::from(days) * 86_400_000);
            assert!(s.onset >= chatter_end && s.onset < chatter_end.plus_millis(86_400_000));
            assert_eq!(crisis(&s, &strands)[0].published_at, s.onset);
            assert!(s.phases.windows(2).all(|w| w[0].start < w[1].start));
        }
    }
}
