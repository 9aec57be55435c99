//! Entities (hashtags, handles, links) from tokens, and the reach estimate.

use vigie_model::Mention;
use vigie_query::text::{Token, TokenKind};

/// Followers assumed when the source does not say.
pub const DEFAULT_FOLLOWERS: u64 = 100;
/// Audience added per repost (and per quote): a typical follower count of a resharer.
pub const PER_REPOST: u64 = 150;
/// Audience added per quote.
pub const PER_QUOTE: u64 = 150;
/// Audience added per like (likes surface posts in some timelines).
pub const PER_LIKE: u64 = 5;
/// Audience added per reply (replies pull the post into other threads).
pub const PER_REPLY: u64 = 20;

/// Estimated number of people who may have seen a mention:
/// `followers (or 100 if unknown) + 150 × reposts + 150 × quotes + 5 × likes + 20 × replies`,
/// saturating. No bonus for verified accounts: their followers already say it.
///
/// ```
/// use vigie_model::{Author, Engagement, Mention, Timestamp};
/// let mut m = Mention {
///     source: "import".into(), external_id: "1".into(), url: None,
///     author: Author { handle: "a".into(), name: None, followers: Some(1_000), verified: false },
///     published_at: Timestamp::from_millis(0), received_at: None, title: None,
///     text: "x".into(), lang: None, engagement: Engagement::default(),
///     reply_to: None, quote_of: None, repost_of: None, country: None,
/// };
/// assert_eq!(vigie_enrich::reach(&m), 1_000);
/// m.engagement.reposts = 2;
/// m.engagement.likes = 10;
/// assert_eq!(vigie_enrich::reach(&m), 1_000 + 300 + 50);
/// ```
pub fn reach(m: &Mention) -> u64 {
    let e = &m.engagement;
    m.author
        .followers
        .unwrap_or(DEFAULT_FOLLOWERS)
        .saturating_add(e.reposts.saturating_mul(PER_REPOST))
        .saturating_add(e.quotes.saturating_mul(PER_QUOTE))
        .saturating_add(e.likes.saturating_mul(PER_LIKE))
        .saturating_add(e.replies.saturating_mul(PER_REPLY))
}

/// Hashtags, handles and links of a text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entities {
    /// Folded hashtags without `#`, first occurrence order, no repeats.
    pub hashtags: Vec<String>,
    /// Folded handles without the leading `@`, first occurrence order, no repeats.
    pub handles: Vec<String>,
    /// Links as written, first occurrence order, no repeats.
    pub links: Vec<String>,
}

impl Entities {
    /// Adds the entities of `tokens`, whose offsets point into `text`.
    pub fn add(&mut self, text: &str, tokens: &[Token]) {
        for t in tokens {
            match t.kind {
                TokenKind::Hashtag => push_unique(&mut self.hashtags, t.text.get(1..)),
                TokenKind::Handle => push_unique(&mut self.handles, t.text.get(1..)),
                TokenKind::Url => push_unique(&mut self.links, text.get(t.start..t.end)),
                _ => {}
            }
        }
    }
}

fn push_unique(list: &mut Vec<String>, item: Option<&str>) {
    if let Some(item) = item.filter(|s| !s.is_empty())
        && !list.iter().any(|x| x == item)
    {
        list.push(item.to_owned());
    }
}

/// A handle compared case-insensitively, without surrounding spaces or a leading `@`.
pub fn normalize_handle(handle: &str) -> String {
    handle.trim().trim_start_matches('@').to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_query::text::tokenize;

    #[test]
    fn extracts_deduplicated_entities() {
        let text = "#Grève chez @Brand et @marie@mastodon.social : https://Ex.com/A?b=1, #greve #SAV @brand";
        let mut e = Entities::default();
        e.add(text, &tokenize(text));
        assert_eq!(e.hashtags, ["greve", "sav"]);
        assert_eq!(e.handles, ["brand", "marie@mastodon.social"]);
        assert_eq!(e.links, ["https://Ex.com/A?b=1"]);
    }

    #[test]
    fn normalizes_handles() {
        assert_eq!(normalize_handle(" @Brand_FR "), "brand_fr");
        assert_eq!(
            normalize_handle("Marie@Mastodon.social"),
            "marie@mastodon.social"
        );
    }
}
