//! Turning "who says what, when" into a [`Mention`]: per-network identifiers and URLs,
//! reception delay, engagement.

use super::authors::{BASE32, Network, Persona, fold};
use super::rng::Rng;
use std::collections::BTreeSet;
use vigie_model::{Engagement, Mention, Timestamp};

/// Which strand of the story a mention belongs to (kept for the tests and the phases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strand {
    /// Ordinary talk about Orsane.
    Chatter,
    /// Talk about the competitor.
    Kalia,
    /// Coffee talk that names neither brand.
    Unrelated,
    /// The brand's own accounts, in ordinary times.
    Brand,
    /// Everything caused by the incident, from the trigger post on.
    Crisis,
}

/// A generated mention and its strand.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tagged {
    /// The strand.
    pub strand: Strand,
    /// The mention.
    pub mention: Mention,
}

/// How a post relates to an earlier one (same network only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Parent {
    /// A post of its own.
    #[default]
    None,
    /// A reply.
    Reply(String),
    /// A quote post.
    Quote(String),
    /// A repost (boost, retweet).
    Repost(String),
}

/// What to publish.
#[derive(Debug, Clone, Default)]
pub(crate) struct Draft {
    /// Publication time.
    pub at: Timestamp,
    /// The text.
    pub text: String,
    /// Title (Reddit posts, articles).
    pub title: Option<String>,
    /// Declared language, if the source declares one.
    pub lang: Option<&'static str>,
    /// Interaction counts when seen.
    pub engagement: Engagement,
    /// The parent post.
    pub parent: Parent,
    /// Reddit: a submission (`t3_`) rather than a comment.
    pub submission: bool,
    /// News: the site section in the URL.
    pub section: &'static str,
}

/// The story being written: mentions so far and the identifiers already used.
#[derive(Debug)]
pub(crate) struct Story {
    /// Randomness for identifiers and delays.
    pub rng: Rng,
    /// Everything generated, in generation order.
    pub out: Vec<Tagged>,
    used: BTreeSet<(Network, String)>,
    mastodon_seq: u64,
    reddit_next: u64,
    reddit_threads: Vec<u64>,
}

const SUBREDDITS: &[&str] = &["france", "bordeaux", "Lyon", "paris", "AskFrance"];

impl Story {
    /// An empty story.
    pub(crate) fn new(mut rng: Rng) -> Self {
        let reddit_next = 1_900_000_000 + rng.below(50_000_000);
        let reddit_threads = (0..8).map(|i| reddit_next - 400_000 + i * 37_219).collect();
        Self {
            rng,
            out: Vec::new(),
            used: BTreeSet::new(),
            mastodon_seq: 0,
            reddit_next,
            reddit_threads,
        }
    }

    /// Publishes `draft` as `who` on `who.network`; returns the new external id.
    pub(crate) fn publish(&mut self, strand: Strand, who: &Persona, draft: Draft) -> String {
        let (external_id, url) = self.identify(who, &draft);
        let delay_ms = match who.network {
            Network::Rss => self.rng.range(20_000, 240_000),
            _ => self.rng.range(800, 25_000),
        };
        let (reply_to, quote_of, repost_of) = match draft.parent {
            Parent::None => (None, None, None),
            Parent::Reply(p) => (Some(p), None, None),
            Parent::Quote(p) => (None, Some(p), None),
            Parent::Repost(p) => (None, None, Some(p)),
        };
        let country = match (who.network, who.english) {
            (Network::Rss, false) => Some("FR".to_owned()),
            _ => None,
        };
        self.out.push(Tagged {
            strand,
            mention: Mention {
                source: who.network.as_str().to_owned(),
                external_id: external_id.clone(),
                url: Some(url),
                author: who.author(),
                published_at: draft.at,
                received_at: Some(draft.at.plus_millis(delay_ms)),
                title: draft.title,
                text: draft.text,
                lang: draft.lang.map(str::to_owned),
                engagement: draft.engagement,
                reply_to,
                quote_of,
                repost_of,
                country,
            },
        });
        external_id
    }

    /// A fresh `(external_id, url)` for a post by `who`.
    fn identify(&mut self, who: &Persona, draft: &Draft) -> (String, String) {
        loop {
            let (id, url) = match who.network {
                Network::Mastodon => {
                    // Mastodon ids: milliseconds since the epoch shifted by 16 bits, plus a sequence.
                    self.mastodon_seq = self.mastodon_seq.wrapping_add(1);
                    let ms = u64::try_from(draft.at.as_millis()).unwrap_or(0);
                    let id = (ms << 16 | (self.mastodon_seq & 0xffff)).to_string();
                    let local = who.short.split('@').next().unwrap_or(&who.short);
                    let url = format!("https://{}/@{local}/{id}", who.home);
                    (id, url)
                }
                Network::Bluesky => {
                    let micros = u64::try_from(draft.at.as_millis()).unwrap_or(0) * 1000
                        + self.rng.below(1000);
                    let rkey = tid(micros, self.rng.below(1024));
                    let did = if who.home.is_empty() {
                        "did:plc:orsane"
                    } else {
                        &who.home
                    };
                    let id = format!("at://{did}/app.bsky.feed.post/{rkey}");
                    let url = format!("https://bsky.example/profile/{}/post/{rkey}", who.handle);
                    (id, url)
                }
                Network::Reddit => {
                    let sub = self.rng.pick(SUBREDDITS);
                    self.reddit_next += 1 + self.rng.below(40);
                    let own = base36(self.reddit_next);
                    if draft.submission {
                        let slug = slug(draft.title.as_deref().unwrap_or("post"), 6);
                        let url = format!("https://reddit.example/r/{sub}/comments/{own}/{slug}/");
                        (format!("t3_{own}"), url)
                    } else {
                        let thread = base36(self.rng.pick(&self.reddit_threads));
                        let url = format!(
                            "https://reddit.example/r/{sub}/comments/{thread}/comment/{own}/"
                        );
                        (format!("t1_{own}"), url)
                    }
                }
                Network::Rss => {
                    let d = draft.at.to_datetime().format("%Y/%m/%d");
                    let title = slug(draft.title.as_deref().unwrap_or(&draft.text), 10);
                    let section = if draft.section.is_empty() {
                        "actualite"
                    } else {
                        draft.section
                    };
                    let url = format!("https://{}/{section}/{d}/{title}", who.home);
                    (url.clone(), url)
                }
            };
            if self.used.insert((who.network, id.clone())) {
                return (id, url);
            }
            if who.network == Network::Rss {
                // Same title twice on one day: the site adds a suffix.
                let n = self.rng.range(2, 99);
                let id = format!("{id}-{n}");
                if self.used.insert((who.network, id.clone())) {
                    return (id.clone(), id);
                }
            }
        }
    }
}

/// A Bluesky TID: 13 sortable base32 characters of `micros << 10 | clock`.
fn tid(micros: u64, clock: u64) -> String {
    let v = (micros & ((1 << 53) - 1)) << 10 | (clock & 0x3ff);
    (0..13)
        .rev()
        .map(|i| {
            let digit = ((v >> (i * 5)) & 31) as usize;
            char::from(BASE32.get(digit).copied().unwrap_or(b'2'))
        })
        .collect()
}

/// Lowercase base 36, as Reddit writes its ids.
fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS.get((n % 36) as usize).copied().unwrap_or(b'0'));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A URL slug of the first `words` words of `title`.
pub(crate) fn slug(title: &str, words: usize) -> String {
    let folded = fold(title);
    let parts: Vec<&str> = folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(words)
        .collect();
    parts.join("-")
}

/// Interactions a post gathers: grows with the audience and with `heat` (1 = ordinary).
pub(crate) fn engagement(rng: &mut Rng, followers: u64, heat: f64) -> Engagement {
    let base = (followers as f64).sqrt() * 0.25 * heat;
    let likes = rng.log_normal(base.max(0.2), 1.0);
    let reposts = likes * rng.log_normal(0.25, 0.5);
    let replies = likes * rng.log_normal(0.12, 0.5);
    let quotes = reposts * rng.log_normal(0.08, 0.5);
    Engagement {
        reposts: reposts as u64,
        likes: likes as u64,
        replies: replies as u64,
        quotes: quotes as u64,
    }
}

/// Fixed counts of a story's key post, with a little seeded noise (±10 %).
pub(crate) fn viral(
    rng: &mut Rng,
    reposts: u64,
    likes: u64,
    replies: u64,
    quotes: u64,
) -> Engagement {
    let mut jitter = |n: u64| (n as f64 * (0.9 + 0.2 * rng.unit())) as u64;
    Engagement {
        reposts: jitter(reposts),
        likes: jitter(likes),
        replies: jitter(replies),
        quotes: jitter(quotes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn persona(network: Network) -> Persona {
        Persona::named(network, "lea_martin", "Léa Martin", 300, false)
    }

    #[test]
    fn identifiers_and_urls_follow_each_network() {
        let mut story = Story::new(Rng::new(1, 1));
        let at = Timestamp::parse_rfc3339("2026-03-07T18:40:00Z").unwrap();
        let draft = Draft {
            at,
            text: "x".into(),
            ..Draft::default()
        };
        let m = story.publish(Strand::Chatter, &persona(Network::Mastodon), draft.clone());
        assert_eq!(m.parse::<u64>().unwrap() >> 16, at.as_millis() as u64);
        let b = story.publish(Strand::Chatter, &persona(Network::Bluesky), draft.clone());
        assert!(
            b.starts_with("at://did:plc:") && b.contains("/app.bsky.feed.post/"),
            "{b}"
        );
        let r = story.publish(Strand::Chatter, &persona(Network::Reddit), draft.clone());
        assert!(r.starts_with("t1_"), "{r}");
        let news = Persona::outlet(
            "courrier-bordeaux",
            "Le Courrier",
            "courrier-bordeaux.example",
            1,
        );
        let article = Draft {
            title: Some("Polémique chez Cafés Orsane".into()),
            section: "societe",
            ..draft.clone()
        };
        let a = story.publish(Strand::Crisis, &news, article.clone());
        assert_eq!(
            a,
            "https://courrier-bordeaux.example/societe/2026/03/07/polemique-chez-cafes-orsane"
        );
        let again = story.publish(Strand::Crisis, &news, article);
        assert_ne!(a, again);
        let m0 = &story.out[0].mention;
        assert!(
            m0.url
                .as_deref()
                .unwrap()
                .starts_with("https://mastodon.example/@lea_martin/")
        );
        assert!(m0.received_at.unwrap() > m0.published_at);
        assert_eq!(story.out[3].mention.country.as_deref(), Some("FR"));
    }

    #[test]
    fn tids_sort_like_time() {
        let a = tid(1_772_900_000_000_000, 5);
        let b = tid(1_772_900_000_000_001, 0);
        assert_eq!(a.len(), 13);
        assert!(a < b);
        assert_eq!(base36(0), "0");
        assert_eq!(base36(36 * 36 + 35), "10z");
        assert_eq!(
            slug("Bordeaux : un client refusé !", 3),
            "bordeaux-un-client"
        );
    }

    #[test]
    fn engagement_grows_with_audience_and_heat() {
        let mut rng = Rng::new(3, 3);
        let mean = |rng: &mut Rng, f: u64, heat: f64| {
            (0..2000)
                .map(|_| engagement(rng, f, heat).total())
                .sum::<u64>()
                / 2000
        };
        let small = mean(&mut rng, 100, 1.0);
        let big = mean(&mut rng, 40_000, 1.0);
        let hot = mean(&mut rng, 100, 8.0);
        assert!(big > 5 * small.max(1), "{small} vs {big}");
        assert!(hot > 4 * small.max(1), "{small} vs {hot}");
        let v = viral(&mut rng, 1000, 2000, 300, 100);
        assert!((900..=1100).contains(&v.reposts) && (1800..=2200).contains(&v.likes));
    }
}
