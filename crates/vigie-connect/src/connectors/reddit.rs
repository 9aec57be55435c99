//! Reddit: subreddit listings (`/r/NAME/new.json`) and a search listing
//! (`/search.json?sort=new`), paged with the `after` cursor until the newest post already
//! delivered, respecting `X-Ratelimit-Remaining` / `X-Ratelimit-Reset`.
//!
//! The cursor is a JSON object per listing: the creation time of the newest post delivered
//! and the fullnames (`t3_…`) of the most recent ones, so a restart skips what was
//! delivered and fetches what was missed (up to [`MAX_PAGES`] pages of 100).

use crate::format::RecordError;
use crate::http;
use crate::http::encode;
use crate::{Connector, ConnectorError, PollOutcome};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use vigie_config::RedditSource;
use vigie_model::{Author, Clock, Engagement, Mention, Timestamp};

/// Pages fetched per listing and poll at most.
pub const MAX_PAGES: usize = 5;
const SEEN: usize = 300;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct ListingState {
    newest_ms: i64,
    seen: VecDeque<String>,
}

/// Polls Reddit listings.
pub struct RedditConnector {
    id: String,
    cfg: RedditSource,
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
    listings: Vec<String>,
    state: BTreeMap<String, ListingState>,
    next: usize,
    /// Set when the rate-limit budget is spent: wait this long before the next request.
    pause: Option<Duration>,
}

impl std::fmt::Debug for RedditConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedditConnector")
            .field("id", &self.id)
            .field("listings", &self.listings)
            .finish_non_exhaustive()
    }
}

impl RedditConnector {
    /// A connector for `cfg`.
    pub fn new(cfg: RedditSource, clock: Arc<dyn Clock>) -> Result<Self, ConnectorError> {
        let mut listings: Vec<String> = cfg
            .subreddits
            .iter()
            .map(|s| format!("{}/r/{s}/new.json?limit=100&raw_json=1", cfg.base_url))
            .collect();
        if let Some(q) = &cfg.query {
            listings.push(format!(
                "{}/search.json?sort=new&limit=100&raw_json=1&q={}",
                cfg.base_url,
                encode(q)
            ));
        }
        Ok(Self {
            id: cfg.id.clone(),
            client: http::client(&cfg.user_agent)?,
            clock,
            listings,
            state: BTreeMap::new(),
            next: 0,
            pause: None,
            cfg,
        })
    }

    async fn fetch(
        &mut self,
        listing: &str,
        out: &mut Vec<Mention>,
        rejected: &mut Vec<RecordError>,
    ) -> Result<(), ConnectorError> {
        let st = self.state.get(listing).cloned().unwrap_or_default();
        let mut fresh = Vec::new();
        let mut after: Option<String> = None;
        'pages: for _ in 0..MAX_PAGES {
            let url = match &after {
                Some(a) => format!("{listing}&after={a}"),
                None => listing.to_owned(),
            };
            let resp = self
                .client
                .get(&url)
                .send()
                .await
                .map_err(|e| http::network(&url, &e))?;
            let resp = http::check(resp, &url, self.clock.now()).await?;
            self.pause = http::retry_after(resp.headers(), self.clock.now());
            let page: Listing = http::json(resp, 16 * 1024 * 1024, &url).await?;
            let n = page.data.children.len();
            for child in page.data.children {
                let post = match serde_json::from_value::<Thing>(child) {
                    Ok(t) => t.data,
                    Err(e) => {
                        rejected.push(RecordError {
                            line: 0,
                            reason: format!("listing item skipped: {e}"),
                        });
                        continue;
                    }
                };
                let created_ms = (post.created_utc * 1000.0) as i64;
                if st.seen.contains(&post.name) || (created_ms < st.newest_ms && st.newest_ms > 0) {
                    break 'pages; // reached what was already delivered
                }
                fresh.push(post);
            }
            match page.data.after {
                Some(a) if n > 0 && self.pause.is_none() => after = Some(a),
                _ => break,
            }
        }
        fresh.reverse(); // oldest first
        let now = self.clock.now();
        let st = self.state.entry(listing.to_owned()).or_default();
        for p in fresh {
            if st.seen.contains(&p.name) {
                continue;
            }
            let created_ms = (p.created_utc * 1000.0) as i64;
            st.newest_ms = st.newest_ms.max(created_ms);
            st.seen.push_back(p.name.clone());
            while st.seen.len() > SEEN {
                st.seen.pop_front();
            }
            out.push(Mention {
                source: "reddit".into(),
                external_id: p.name,
                url: Some(format!("https://www.reddit.com{}", p.permalink)),
                author: Author {
                    handle: p.author,
                    name: None,
                    followers: None,
                    verified: false,
                },
                published_at: Timestamp::from_millis(created_ms),
                received_at: Some(now),
                title: Some(p.title).filter(|t| !t.is_empty()),
                text: p.selftext,
                lang: None,
                engagement: Engagement {
                    reposts: p.num_crossposts,
                    likes: u64::try_from(p.score).unwrap_or(0),
                    replies: p.num_comments,
                    quotes: 0,
                },
                reply_to: None,
                quote_of: None,
                repost_of: p.crosspost_parent,
                country: None,
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Connector for RedditConnector {
    fn id(&self) -> &str {
        &self.id
    }

    fn kind(&self) -> &'static str {
        "reddit"
    }

    fn seek(&mut self, cursor: &str) -> Result<(), ConnectorError> {
        self.state = serde_json::from_str(cursor).map_err(|e| ConnectorError::BadCursor {
            cursor: cursor.chars().take(80).collect(),
            reason: format!("expected the JSON state of the listings: {e}"),
        })?;
        Ok(())
    }

    fn cursor(&self) -> String {
        serde_json::to_string(&self.state).unwrap_or_default()
    }

    async fn poll(
        &mut self,
        out: &mut Vec<Mention>,
        rejected: &mut Vec<RecordError>,
    ) -> Result<PollOutcome, ConnectorError> {
        if self.listings.is_empty() {
            return Ok(PollOutcome::Finished);
        }
        let listing = self.listings[self.next].clone();
        self.fetch(&listing, out, rejected).await?;
        self.next = (self.next + 1) % self.listings.len();
        let spacing = self.cfg.interval / u32::try_from(self.listings.len()).unwrap_or(1).max(1);
        Ok(PollOutcome::Idle(match self.pause.take() {
            Some(p) => p.max(spacing),
            None => spacing,
        }))
    }
}

#[derive(Debug, Deserialize)]
struct Listing {
    data: ListingData,
}

#[derive(Debug, Deserialize)]
struct ListingData {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    children: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Thing {
    data: Post,
}

#[derive(Debug, Deserialize)]
struct Post {
    name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    selftext: String,
    author: String,
    created_utc: f64,
    permalink: String,
    #[serde(default)]
    score: i64,
    #[serde(default)]
    num_comments: u64,
    #[serde(default)]
    num_crossposts: u64,
    #[serde(default)]
    crosspost_parent: Option<String>,
}
