//! Bluesky: Jetstream (JSON over WebSocket: posts, reposts, likes, deletes) for live
//! events, and the public search API (`app.bsky.feed.searchPosts`) for backfill at start.
//!
//! The cursor is the `time_us` of the last event handled. On (re)connection the connector
//! asks Jetstream to replay from a few seconds before it ([`REWIND_US`]: Jetstream's own
//! advice for gapless playback) and skips events not newer than the cursor, so nothing is
//! lost and nothing delivered twice. Posts become mentions; likes and reposts add to the
//! engagement of the stored post; deletes of posts tombstone it; edits (`update`) of posts
//! replace its text. A socket silent for [`IDLE_TIMEOUT`] is reconnected.

use crate::format::RecordError;
use crate::http;
use crate::http::encode;
use crate::{Connector, ConnectorError, PollOutcome};
use async_trait::async_trait;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use vigie_config::BlueskySource;
use vigie_model::{Author, ChangeKind, Clock, Engagement, Mention, MentionChange, Timestamp};

/// Reconnect when nothing arrived for this long.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Replay this much before the cursor on reconnection (µs).
pub const REWIND_US: i64 = 5_000_000;
const POLL_WAIT: Duration = Duration::from_secs(5);
/// Most pages of 100 the search backfill reads after a restart.
pub const SEARCH_PAGES: usize = 10;
const BATCH_WAIT: Duration = Duration::from_millis(100);
const MAX_BATCH: usize = 500;
/// Largest WebSocket message accepted.
const MAX_MESSAGE: usize = 1024 * 1024;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Follows Jetstream.
pub struct BlueskyConnector {
    id: String,
    cfg: BlueskySource,
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
    cursor_us: Option<i64>,
    socket: Option<Socket>,
    searched: bool,
    handles: HashMap<String, String>,
    changes: Vec<MentionChange>,
    idle_timeout: Duration,
    messages: u64,
}

impl std::fmt::Debug for BlueskyConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlueskyConnector")
            .field("id", &self.id)
            .field("cursor_us", &self.cursor_us)
            .finish_non_exhaustive()
    }
}

impl BlueskyConnector {
    /// A connector for `cfg`.
    pub fn new(cfg: BlueskySource, clock: Arc<dyn Clock>) -> Result<Self, ConnectorError> {
        Ok(Self {
            id: cfg.id.clone(),
            client: http::client(http::USER_AGENT)?,
            clock,
            cursor_us: None,
            socket: None,
            searched: false,
            handles: HashMap::new(),
            changes: Vec::new(),
            idle_timeout: IDLE_TIMEOUT,
            messages: 0,
            cfg,
        })
    }

    /// Overrides the idle timeout (tests).
    pub fn with_idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    fn url(&self) -> String {
        let mut url = self.cfg.jetstream.clone();
        let mut sep = if url.contains('?') { '&' } else { '?' };
        let mut push = |k: &str, v: &str| {
            url.push(sep);
            url.push_str(k);
            url.push('=');
            url.push_str(v);
            sep = '&';
        };
        for c in &self.cfg.collections {
            push("wantedCollections", c);
        }
        for d in &self.cfg.dids {
            push("wantedDids", d);
        }
        push("maxMessageSizeBytes", &MAX_MESSAGE.to_string());
        if let Some(c) = self.cursor_us {
            push("cursor", &(c - REWIND_US).max(0).to_string());
        }
        url
    }

    async fn connect(&mut self) -> Result<(), ConnectorError> {
        http::install_crypto();
        let url = self.url();
        let (socket, _) = tokio_tungstenite::connect_async(&url).await.map_err(|e| {
            use tokio_tungstenite::tungstenite::Error as E;
            match e {
                E::Http(resp) => {
                    let status = resp.status().as_u16();
                    // Retry-After (seconds or a date) or the rate-limit headers, if sent.
                    let wait = http::retry_after(resp.headers(), self.clock.now());
                    if status == 429 {
                        ConnectorError::RateLimited {
                            target: self.cfg.jetstream.clone(),
                            retry_after: wait.unwrap_or(Duration::from_secs(60)),
                        }
                    } else {
                        ConnectorError::Http {
                            target: self.cfg.jetstream.clone(),
                            status,
                            reason: "WebSocket upgrade refused".into(),
                            retry_after: wait,
                        }
                    }
                }
                other => ConnectorError::Network {
                    target: self.cfg.jetstream.clone(),
                    reason: other.to_string(),
                },
            }
        })?;
        self.socket = Some(socket);
        Ok(())
    }

    /// Public search, once per start: every post newer than the cursor (following the search
    /// API's `cursor`, at most [`SEARCH_PAGES`] pages of 100), or the latest 100 on a first
    /// start.
    async fn search(
        &mut self,
        out: &mut Vec<Mention>,
        rejected: &mut Vec<RecordError>,
    ) -> Result<(), ConnectorError> {
        let Some(q) = self.cfg.search.clone() else {
            return Ok(());
        };
        let mut base = format!(
            "{}/xrpc/app.bsky.feed.searchPosts?sort=latest&limit=100&q={}",
            self.cfg.search_api,
            encode(&q)
        );
        let pages = match self.cursor_us {
            Some(c) => {
                let since = Timestamp::from_millis(c / 1000).to_rfc3339();
                base.push_str(&format!("&since={}", encode(&since)));
                SEARCH_PAGES
            }
            None => 1,
        };
        let mut posts: Vec<Mention> = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..pages {
            let url = match &next {
                Some(c) => format!("{base}&cursor={}", encode(c)),
                None => base.clone(),
            };
            let resp = self
                .client
                .get(&url)
                .send()
                .await
                .map_err(|e| http::network(&url, &e))?;
            let resp = http::check(resp, &url, self.clock.now()).await?;
            let page: SearchPage = http::json(resp, 8 * 1024 * 1024, &url).await?;
            let empty = page.posts.is_empty();
            for p in page.posts {
                match serde_json::from_value::<PostView>(p) {
                    Ok(p) => posts.push(self.view_to_mention(p)),
                    Err(e) => rejected.push(RecordError {
                        line: 0,
                        reason: format!("search result skipped: {e}"),
                    }),
                }
            }
            match page.cursor {
                Some(c) if !empty && !c.is_empty() => next = Some(c),
                _ => break,
            }
        }
        // Pages can overlap when posts arrive while paging.
        let mut seen = std::collections::HashSet::new();
        posts.retain(|m| seen.insert(m.external_id.clone()));
        posts.sort_by_key(|m| m.published_at);
        out.extend(posts);
        Ok(())
    }

    fn view_to_mention(&self, p: PostView) -> Mention {
        let rkey = p.uri.rsplit('/').next().unwrap_or_default().to_owned();
        Mention {
            source: "bluesky".into(),
            url: Some(format!(
                "https://bsky.app/profile/{}/post/{rkey}",
                p.author.handle
            )),
            external_id: p.uri,
            author: Author {
                handle: p.author.handle,
                name: p.author.display_name.filter(|n| !n.is_empty()),
                followers: p.author.followers_count,
                verified: p
                    .author
                    .verification
                    .as_ref()
                    .is_some_and(|v| v.verified_status.as_deref() == Some("valid")),
            },
            published_at: Timestamp::parse_rfc3339(&p.record.created_at)
                .unwrap_or_else(|_| self.clock.now()),
            received_at: Some(self.clock.now()),
            title: None,
            text: p.record.text,
            lang: p.record.langs.first().cloned().filter(|l| l.len() == 2),
            engagement: Engagement {
                reposts: p.repost_count,
                likes: p.like_count,
                replies: p.reply_count,
                quotes: p.quote_count,
            },
            reply_to: p.record.reply.map(|r| r.parent.uri),
            quote_of: p.record.embed.and_then(Embed::quoted),
            repost_of: None,
            country: None,
        }
    }

    fn on_message(&mut self, text: &str, out: &mut Vec<Mention>, rejected: &mut Vec<RecordError>) {
        self.messages += 1;
        let line = self.messages;
        let ev: Event = match serde_json::from_str(text) {
            Ok(ev) => ev,
            Err(e) => {
                rejected.push(RecordError {
                    line,
                    reason: format!("Jetstream message skipped: {e}"),
                });
                return;
            }
        };
        if self.cursor_us.is_some_and(|c| ev.time_us <= c) {
            return; // replayed after a reconnection: already handled
        }
        self.cursor_us = Some(ev.time_us);
        let at = Timestamp::from_millis(ev.time_us / 1000);
        if let Some(identity) = &ev.identity
            && let Some(h) = &identity.handle
        {
            self.handles.insert(ev.did.clone(), h.clone());
        }
        let Some(commit) = ev.commit else { return };
        let uri = format!("at://{}/{}/{}", ev.did, commit.collection, commit.rkey);
        match (commit.collection.as_str(), commit.operation.as_str()) {
            ("app.bsky.feed.post", "create" | "update") => {
                let record: PostRecord = match commit.record.map(serde_json::from_value).transpose()
                {
                    Ok(Some(r)) => r,
                    Ok(None) => {
                        rejected.push(RecordError {
                            line,
                            reason: format!("{uri}: post without a record"),
                        });
                        return;
                    }
                    Err(e) => {
                        rejected.push(RecordError {
                            line,
                            reason: format!("{uri}: invalid post record: {e}"),
                        });
                        return;
                    }
                };
                if commit.operation == "update" {
                    self.changes.push(MentionChange {
                        source: "bluesky".into(),
                        external_id: uri.clone(),
                        at,
                        kind: ChangeKind::Edited {
                            text: record.text.clone(),
                            title: None,
                            engagement: None,
                        },
                    });
                }
                let handle = self
                    .handles
                    .get(&ev.did)
                    .cloned()
                    .unwrap_or_else(|| ev.did.clone());
                out.push(Mention {
                    source: "bluesky".into(),
                    url: Some(format!(
                        "https://bsky.app/profile/{}/post/{}",
                        ev.did, commit.rkey
                    )),
                    external_id: uri,
                    author: Author {
                        handle,
                        name: None,
                        followers: None,
                        verified: false,
                    },
                    published_at: Timestamp::parse_rfc3339(&record.created_at).unwrap_or(at),
                    received_at: Some(self.clock.now()),
                    title: None,
                    text: record.text,
                    lang: record.langs.first().cloned().filter(|l| l.len() == 2),
                    engagement: Engagement::default(),
                    reply_to: record.reply.map(|r| r.parent.uri),
                    quote_of: record.embed.and_then(Embed::quoted),
                    repost_of: None,
                    country: None,
                });
            }
            ("app.bsky.feed.post", "delete") => {
                self.changes
                    .push(MentionChange::deleted("bluesky", uri, at));
            }
            (c @ ("app.bsky.feed.like" | "app.bsky.feed.repost"), "create") => {
                let subject = commit
                    .record
                    .and_then(|r| serde_json::from_value::<Subjected>(r).ok())
                    .map(|s| s.subject.uri);
                match subject {
                    Some(s) => {
                        let like = c == "app.bsky.feed.like";
                        self.changes.push(MentionChange {
                            source: "bluesky".into(),
                            external_id: s,
                            at,
                            kind: ChangeKind::Engaged {
                                reposts: u64::from(!like),
                                likes: u64::from(like),
                            },
                        });
                    }
                    None => rejected.push(RecordError {
                        line,
                        reason: format!("{uri}: {c} without a subject"),
                    }),
                }
            }
            _ => {} // un-likes, un-reposts, other collections
        }
    }
}

#[async_trait]
impl Connector for BlueskyConnector {
    fn id(&self) -> &str {
        &self.id
    }

    fn kind(&self) -> &'static str {
        "bluesky"
    }

    fn seek(&mut self, cursor: &str) -> Result<(), ConnectorError> {
        let us = cursor
            .parse::<i64>()
            .map_err(|_| ConnectorError::BadCursor {
                cursor: cursor.to_owned(),
                reason: "expected Jetstream time_us (microseconds)".into(),
            })?;
        self.cursor_us = Some(us);
        Ok(())
    }

    fn cursor(&self) -> String {
        self.cursor_us.map(|c| c.to_string()).unwrap_or_default()
    }

    fn take_changes(&mut self) -> Vec<MentionChange> {
        std::mem::take(&mut self.changes)
    }

    async fn poll(
        &mut self,
        out: &mut Vec<Mention>,
        rejected: &mut Vec<RecordError>,
    ) -> Result<PollOutcome, ConnectorError> {
        if !self.searched {
            // A refused search (429, network) is retried at the next poll, after backoff.
            self.search(out, rejected).await?;
            self.searched = true;
            if !out.is_empty() {
                return Ok(PollOutcome::Ready);
            }
        }
        if self.socket.is_none() {
            self.connect().await?;
        }
        let mut deadline = tokio::time::Instant::now() + POLL_WAIT.min(self.idle_timeout);
        let mut quiet_since = tokio::time::Instant::now();
        let mut got_one = false;
        while out.len() + self.changes.len() < MAX_BATCH {
            let Some(socket) = self.socket.as_mut() else {
                break;
            };
            let next = match tokio::time::timeout_at(deadline, socket.next()).await {
                Ok(n) => n,
                Err(_) => {
                    if !got_one && quiet_since.elapsed() >= self.idle_timeout {
                        self.socket = None;
                        return Err(ConnectorError::Network {
                            target: self.cfg.jetstream.clone(),
                            reason: format!("no message for {:?}", self.idle_timeout),
                        });
                    }
                    break;
                }
            };
            let failure = match next {
                Some(Ok(Message::Text(t))) => {
                    quiet_since = tokio::time::Instant::now();
                    self.on_message(t.as_str(), out, rejected);
                    if !got_one {
                        got_one = true;
                        deadline = tokio::time::Instant::now() + BATCH_WAIT;
                    }
                    continue;
                }
                Some(Ok(Message::Ping(p))) => {
                    let _ = socket.send(Message::Pong(p)).await;
                    continue;
                }
                Some(Ok(Message::Close(frame))) => format!("closed by the server ({frame:?})"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => e.to_string(),
                None => "connection ended".to_owned(),
            };
            self.socket = None;
            if out.is_empty() && self.changes.is_empty() {
                return Err(ConnectorError::Network {
                    target: self.cfg.jetstream.clone(),
                    reason: failure,
                });
            }
        }
        Ok(
            if out.is_empty() && self.changes.is_empty() && rejected.is_empty() {
                PollOutcome::Idle(Duration::ZERO)
            } else {
                PollOutcome::Ready
            },
        )
    }
}

// ---- payloads (Jetstream README; lexicons app.bsky.feed.*) ----

#[derive(Debug, Deserialize)]
struct Event {
    did: String,
    time_us: i64,
    #[serde(default)]
    commit: Option<Commit>,
    #[serde(default)]
    identity: Option<Identity>,
}

#[derive(Debug, Deserialize)]
struct Identity {
    #[serde(default)]
    handle: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Commit {
    operation: String,
    collection: String,
    rkey: String,
    #[serde(default)]
    record: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostRecord {
    #[serde(default)]
    text: String,
    created_at: String,
    #[serde(default)]
    langs: Vec<String>,
    #[serde(default)]
    reply: Option<Reply>,
    #[serde(default)]
    embed: Option<Embed>,
}

#[derive(Debug, Deserialize)]
struct Reply {
    parent: StrongRef,
}

#[derive(Debug, Deserialize)]
struct StrongRef {
    uri: String,
}

#[derive(Debug, Deserialize)]
struct Subjected {
    subject: StrongRef,
}

#[derive(Debug, Deserialize)]
struct Embed {
    #[serde(rename = "$type", default)]
    kind: String,
    #[serde(default)]
    record: Option<serde_json::Value>,
}

impl Embed {
    /// The quoted post of `app.bsky.embed.record` / `recordWithMedia`.
    fn quoted(self) -> Option<String> {
        let r = self.record?;
        let uri = if self.kind.starts_with("app.bsky.embed.recordWithMedia") {
            r.get("record")?.get("uri")?
        } else {
            r.get("uri")?
        };
        uri.as_str().map(str::to_owned)
    }
}

#[derive(Debug, Deserialize)]
struct SearchPage {
    #[serde(default)]
    posts: Vec<serde_json::Value>,
    /// Where the next page starts (absent on the last page).
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostView {
    uri: String,
    author: ProfileView,
    record: PostRecord,
    #[serde(default)]
    reply_count: u64,
    #[serde(default)]
    repost_count: u64,
    #[serde(default)]
    like_count: u64,
    #[serde(default)]
    quote_count: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileView {
    handle: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    followers_count: Option<u64>,
    #[serde(default)]
    verification: Option<Verification>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Verification {
    #[serde(default)]
    verified_status: Option<String>,
}
