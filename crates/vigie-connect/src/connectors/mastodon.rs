//! Mastodon: the streaming API (Server-Sent Events: `update`, `delete`, `status.update`) for
//! live posts, and the REST timelines for backfill after each (re)connection.
//!
//! The cursor is the highest status id delivered (Mastodon ids are snowflakes: larger is
//! newer). After a restart or a dropped stream, the connector first pages the REST timeline
//! with `since_id = cursor` (newest first, then `max_id` to page down, at most
//! `backfill_pages` pages of 40), delivers the gap oldest first, and only then reopens the
//! stream, so nothing published while disconnected is lost. A stream that sends neither an
//! event nor a keep-alive comment for [`IDLE_TIMEOUT`] is treated as dropped.

use crate::format::RecordError;
use crate::http;
use crate::http::encode;
use crate::text::html_to_text;
use crate::{Connector, ConnectorError, PollOutcome};
use async_trait::async_trait;
use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use vigie_config::{MastodonSource, MastodonStream};
use vigie_model::{Author, ChangeKind, Clock, Engagement, Mention, MentionChange, Timestamp};

/// A stream silent (no event, no keep-alive) for this long is reconnected. Mastodon sends a
/// `:thump` comment every few seconds.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest time one poll waits for the first event before returning (so the source task
/// can report health).
const POLL_WAIT: Duration = Duration::from_secs(5);
/// Once an event arrived, more are gathered for this long into the same batch.
const BATCH_WAIT: Duration = Duration::from_millis(100);
/// Largest batch.
const MAX_BATCH: usize = 200;
/// Largest REST page body.
const MAX_PAGE_BYTES: u64 = 8 * 1024 * 1024;
/// Remembered local id → URI mappings (to resolve `delete` events, which carry only the id).
const MAX_REMEMBERED: usize = 50_000;

type SseStream = Pin<
    Box<
        dyn Stream<
                Item = Result<
                    eventsource_stream::Event,
                    eventsource_stream::EventStreamError<StreamFailure>,
                >,
            > + Send,
    >,
>;

/// Largest server-sent event accepted: a status with its media descriptions is a few
/// kilobytes; a stream sending more without a blank line is hostile or broken and is
/// dropped (then reconnected with backoff) instead of filling memory.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// Bytes since the last blank line (the end of an SSE event). Lines end with CRLF, LF or CR.
#[derive(Debug, Default, Clone, Copy)]
struct EventSize {
    since_boundary: usize,
    /// The previous byte ended a line.
    line_start: bool,
    /// The previous byte was a CR (a LF right after it belongs to the same line end).
    after_cr: bool,
}

impl EventSize {
    fn feed(&mut self, chunk: &[u8]) -> Result<(), StreamFailure> {
        for &b in chunk {
            if b == b'\n' && self.after_cr {
                self.after_cr = false;
                continue;
            }
            self.after_cr = b == b'\r';
            if b == b'\n' || b == b'\r' {
                if self.line_start {
                    self.since_boundary = 0;
                    continue;
                }
                self.line_start = true;
            } else {
                self.line_start = false;
            }
            self.since_boundary += 1;
            if self.since_boundary > MAX_EVENT_BYTES {
                return Err(StreamFailure(format!(
                    "an event of more than {MAX_EVENT_BYTES} bytes: stream dropped"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod event_size_tests {
    #![allow(clippy::unwrap_used)]
    use super::{EventSize, MAX_EVENT_BYTES};

    #[test]
    fn blank_lines_end_events_whatever_the_line_endings() {
        for sep in ["\n", "\r\n", "\r"] {
            let mut size = EventSize::default();
            let line = format!("data: {}{sep}", "x".repeat(1000));
            // 2,000 events of about 1 KB, each ended by a blank line: never too big.
            for _ in 0..2_000 {
                size.feed(line.as_bytes()).unwrap();
                size.feed(sep.as_bytes()).unwrap();
            }
            // One event of more than 1 MiB, even split in small chunks: refused as soon as
            // it passes the limit.
            let mut size = EventSize::default();
            let mut fed = 0;
            let err = loop {
                match size.feed(line.as_bytes()) {
                    Ok(()) => fed += line.len(),
                    Err(e) => break e,
                }
                // (A CRLF counts as one byte of the event.)
                assert!(
                    fed <= MAX_EVENT_BYTES + 2 * line.len(),
                    "{sep:?}: not refused"
                );
            };
            assert!(err.to_string().contains("more than"), "{err}");
        }
    }
}

/// Why the byte stream under the SSE parser ended.
#[derive(Debug)]
pub struct StreamFailure(String);

impl std::fmt::Display for StreamFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Follows one stream of one instance.
pub struct MastodonConnector {
    id: String,
    cfg: MastodonSource,
    token: Option<String>,
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
    /// Highest status id delivered.
    since_id: Option<String>,
    stream: Option<SseStream>,
    changes: Vec<MentionChange>,
    uris: HashMap<String, String>,
    idle_timeout: Duration,
    events_seen: u64,
    page_limit: usize,
}

impl std::fmt::Debug for MastodonConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MastodonConnector")
            .field("id", &self.id)
            .field("instance", &self.cfg.instance)
            .field("since_id", &self.since_id)
            .finish_non_exhaustive()
    }
}

/// `a` is a newer id than `b` (numeric strings compared by length, then digits).
fn newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

impl MastodonConnector {
    /// A connector for `cfg`; the token (if any) is resolved from the environment now.
    pub fn new(cfg: MastodonSource, clock: Arc<dyn Clock>) -> Result<Self, ConnectorError> {
        let token = match &cfg.access_token {
            Some(s) => Some(s.resolve().map_err(|reason| ConnectorError::Setup {
                source_id: cfg.id.clone(),
                reason,
            })?),
            None => None,
        };
        Ok(Self {
            id: cfg.id.clone(),
            token,
            client: http::client(http::USER_AGENT)?,
            clock,
            since_id: None,
            stream: None,
            changes: Vec::new(),
            uris: HashMap::new(),
            idle_timeout: IDLE_TIMEOUT,
            events_seen: 0,
            page_limit: 40,
            cfg,
        })
    }

    /// Overrides the REST page size (40, Mastodon's maximum; tests use less).
    pub fn with_page_limit(mut self, n: usize) -> Self {
        self.page_limit = n.max(1);
        self
    }

    /// Overrides the idle timeout (tests).
    pub fn with_idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    fn host(&self) -> &str {
        let rest = self
            .cfg
            .instance
            .split_once("://")
            .map_or(self.cfg.instance.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }

    fn stream_url(&self) -> String {
        let base = format!("{}/api/v1/streaming", self.cfg.instance);
        match &self.cfg.stream {
            MastodonStream::Public { local: false } => format!("{base}/public"),
            MastodonStream::Public { local: true } => format!("{base}/public/local"),
            MastodonStream::Hashtag { tag } => format!("{base}/hashtag?tag={}", encode(tag)),
            MastodonStream::List { list } => format!("{base}/list?list={}", encode(list)),
        }
    }

    fn timeline_url(&self) -> String {
        let base = format!("{}/api/v1/timelines", self.cfg.instance);
        let limit = self.page_limit;
        match &self.cfg.stream {
            MastodonStream::Public { local: false } => format!("{base}/public?limit={limit}"),
            MastodonStream::Public { local: true } => {
                format!("{base}/public?local=true&limit={limit}")
            }
            MastodonStream::Hashtag { tag } => format!("{base}/tag/{}?limit={limit}", encode(tag)),
            MastodonStream::List { list } => format!("{base}/list/{}?limit={limit}", encode(list)),
        }
    }

    fn get(&self, url: &str) -> reqwest::RequestBuilder {
        let req = self.client.get(url);
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Pages the REST timeline newer than the cursor; returns statuses oldest first.
    async fn backfill(
        &mut self,
        rejected: &mut Vec<RecordError>,
    ) -> Result<Vec<Mention>, ConnectorError> {
        let pages = self.cfg.backfill_pages;
        let mut all = Vec::new();
        let mut max_id: Option<String> = None;
        for _ in 0..pages {
            let mut url = self.timeline_url();
            if let Some(s) = &self.since_id {
                url.push_str(&format!("&since_id={}", encode(s)));
            }
            if let Some(m) = &max_id {
                url.push_str(&format!("&max_id={}", encode(m)));
            }
            let resp = self
                .get(&url)
                .send()
                .await
                .map_err(|e| http::network(&url, &e))?;
            let resp = http::check(resp, &url, self.clock.now()).await?;
            let page: Vec<serde_json::Value> = http::json(resp, MAX_PAGE_BYTES, &url).await?;
            if page.is_empty() {
                break;
            }
            let n = page.len();
            for v in page {
                match serde_json::from_value::<Status>(v) {
                    Ok(s) => {
                        if max_id.as_ref().is_none_or(|m| newer(m, &s.id)) {
                            max_id = Some(s.id.clone());
                        }
                        all.push(s);
                    }
                    Err(e) => rejected.push(RecordError {
                        line: 0,
                        reason: format!("status skipped: {e}"),
                    }),
                }
            }
            if n < self.page_limit {
                break;
            }
        }
        all.sort_by(|a, b| (a.id.len(), &a.id).cmp(&(b.id.len(), &b.id)));
        all.dedup_by(|a, b| a.id == b.id);
        let mut out = Vec::new();
        for s in all {
            self.advance(&s.id);
            out.push(self.status_mention(s));
        }
        Ok(out)
    }

    fn advance(&mut self, id: &str) {
        if self.since_id.as_deref().is_none_or(|c| newer(id, c)) {
            self.since_id = Some(id.to_owned());
        }
    }

    async fn connect(&mut self) -> Result<(), ConnectorError> {
        let url = self.stream_url();
        let resp = self
            .get(&url)
            .header("accept", "text/event-stream")
            .send()
            .await
            .map_err(|e| http::network(&url, &e))?;
        let resp = http::check(resp, &url, self.clock.now()).await?;
        let idle = self.idle_timeout;
        let bytes = resp.bytes_stream();
        // A byte stream that fails when nothing (not even a keep-alive) arrives in time, or
        // when one event grows past MAX_EVENT_BYTES (the SSE parser would buffer it all).
        let guarded = futures_util::stream::unfold(
            Some((bytes, EventSize::default())),
            move |state| async move {
                let (mut s, mut size) = state?;
                match tokio::time::timeout(idle, s.next()).await {
                    Ok(Some(Ok(b))) => match size.feed(&b) {
                        Ok(()) => Some((Ok(b), Some((s, size)))),
                        Err(e) => Some((Err(e), None)),
                    },
                    Ok(Some(Err(e))) => Some((Err(StreamFailure(e.to_string())), None)),
                    Ok(None) => None,
                    Err(_) => Some((
                        Err(StreamFailure(format!(
                            "no data nor keep-alive for {idle:?}"
                        ))),
                        None,
                    )),
                }
            },
        );
        self.stream = Some(Box::pin(guarded.eventsource()));
        Ok(())
    }

    fn status_mention(&mut self, s: Status) -> Mention {
        let host = self.host().to_owned();
        let handle = |acct: &str| {
            if acct.contains('@') {
                acct.to_owned()
            } else {
                format!("{acct}@{host}")
            }
        };
        let (text_src, repost_of, lang) = match &s.reblog {
            Some(r) => (r.as_ref(), Some(r.uri.clone()), r.language.clone()),
            None => (&s, None, s.language.clone()),
        };
        let mut text = html_to_text(&text_src.content);
        if !text_src.spoiler_text.is_empty() {
            text = format!("{}\n{text}", text_src.spoiler_text);
        }
        if self.uris.len() >= MAX_REMEMBERED {
            self.uris.clear();
        }
        self.uris.insert(s.id.clone(), s.uri.clone());
        let reply_to = s.in_reply_to_id.as_ref().map(|id| {
            self.uris
                .get(id)
                .cloned()
                .unwrap_or_else(|| format!("{host}:{id}"))
        });
        Mention {
            source: "mastodon".into(),
            external_id: s.uri.clone(),
            url: s.url.clone().or(Some(s.uri.clone())),
            author: Author {
                handle: handle(&s.account.acct),
                name: Some(s.account.display_name.clone()).filter(|n| !n.is_empty()),
                followers: Some(s.account.followers_count),
                verified: s.account.fields.iter().any(|f| f.verified_at.is_some()),
            },
            published_at: Timestamp::parse_rfc3339(&s.created_at)
                .unwrap_or_else(|_| self.clock.now()),
            received_at: Some(self.clock.now()),
            title: None,
            text,
            lang: lang.filter(|l| l.len() == 2),
            engagement: Engagement {
                reposts: s.reblogs_count,
                likes: s.favourites_count,
                replies: s.replies_count,
                quotes: s.quotes_count.unwrap_or(0),
            },
            reply_to,
            quote_of: s
                .quote
                .as_ref()
                .and_then(|q| q.quoted_status.as_ref())
                .map(|q| q.uri.clone()),
            repost_of,
            country: None,
        }
    }

    fn on_event(
        &mut self,
        event: &str,
        data: &str,
        out: &mut Vec<Mention>,
        rejected: &mut Vec<RecordError>,
    ) {
        self.events_seen += 1;
        let line = self.events_seen;
        match event {
            "update" | "status.update" => match serde_json::from_str::<Status>(data) {
                Ok(s) => {
                    let is_edit = event == "status.update";
                    if !is_edit && self.since_id.as_deref().is_some_and(|c| !newer(&s.id, c)) {
                        return; // already delivered by the backfill
                    }
                    let edited_at = s
                        .edited_at
                        .as_deref()
                        .and_then(|t| Timestamp::parse_rfc3339(t).ok());
                    self.advance(&s.id);
                    let m = self.status_mention(s);
                    if is_edit {
                        self.changes.push(MentionChange {
                            source: m.source.clone(),
                            external_id: m.external_id.clone(),
                            at: edited_at.unwrap_or_else(|| self.clock.now()),
                            kind: ChangeKind::Edited {
                                text: m.text.clone(),
                                title: None,
                                engagement: Some(m.engagement),
                            },
                        });
                    }
                    out.push(m);
                }
                Err(e) => rejected.push(RecordError {
                    line,
                    reason: format!("{event} event skipped: {e}"),
                }),
            },
            "delete" => {
                let id = data.trim().trim_matches('"');
                if id.is_empty() {
                    rejected.push(RecordError {
                        line,
                        reason: "delete event without a status id".into(),
                    });
                    return;
                }
                let external_id = self
                    .uris
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| format!("https://{}/statuses/{id}", self.host()));
                self.changes.push(MentionChange::deleted(
                    "mastodon",
                    external_id,
                    self.clock.now(),
                ));
            }
            _ => {} // notifications, filters_changed, conversation…: not mentions
        }
    }
}

#[async_trait]
impl Connector for MastodonConnector {
    fn id(&self) -> &str {
        &self.id
    }

    fn kind(&self) -> &'static str {
        "mastodon"
    }

    fn seek(&mut self, cursor: &str) -> Result<(), ConnectorError> {
        if cursor.is_empty() || !cursor.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConnectorError::BadCursor {
                cursor: cursor.to_owned(),
                reason: "expected a Mastodon status id (digits)".into(),
            });
        }
        self.since_id = Some(cursor.to_owned());
        Ok(())
    }

    fn cursor(&self) -> String {
        self.since_id.clone().unwrap_or_default()
    }

    fn take_changes(&mut self) -> Vec<MentionChange> {
        std::mem::take(&mut self.changes)
    }

    async fn poll(
        &mut self,
        out: &mut Vec<Mention>,
        rejected: &mut Vec<RecordError>,
    ) -> Result<PollOutcome, ConnectorError> {
        if self.stream.is_none() {
            let gap = self.backfill(rejected).await?;
            if !gap.is_empty() {
                // Deliver the gap first; the stream opens on the next poll.
                out.extend(gap);
                return Ok(PollOutcome::Ready);
            }
            self.connect().await?;
        }
        let mut deadline = tokio::time::Instant::now() + POLL_WAIT;
        let mut got_one = false;
        while out.len() < MAX_BATCH {
            let Some(stream) = self.stream.as_mut() else {
                break;
            };
            let next = match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(n) => n,
                Err(_) => break, // quiet: return what we have
            };
            match next {
                Some(Ok(ev)) => {
                    self.on_event(&ev.event, &ev.data, out, rejected);
                    if !got_one {
                        got_one = true;
                        deadline = tokio::time::Instant::now() + BATCH_WAIT;
                    }
                }
                Some(Err(e)) => {
                    self.stream = None;
                    if out.is_empty() && self.changes.is_empty() {
                        return Err(ConnectorError::Network {
                            target: self.stream_url(),
                            reason: format!("stream broken: {e}"),
                        });
                    }
                }
                None => {
                    self.stream = None;
                    if out.is_empty() && self.changes.is_empty() {
                        return Err(ConnectorError::Network {
                            target: self.stream_url(),
                            reason: "stream closed by the server".into(),
                        });
                    }
                }
            }
        }
        Ok(if out.is_empty() && self.changes.is_empty() {
            PollOutcome::Idle(Duration::ZERO)
        } else {
            PollOutcome::Ready
        })
    }
}

// ---- payloads (documented shapes: https://docs.joinmastodon.org/entities/Status/) ----

#[derive(Debug, Deserialize)]
struct Status {
    id: String,
    uri: String,
    #[serde(default)]
    url: Option<String>,
    created_at: String,
    #[serde(default)]
    edited_at: Option<String>,
    #[serde(default)]
    in_reply_to_id: Option<String>,
    #[serde(default)]
    content: String,
    #[serde(default)]
    spoiler_text: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    reblogs_count: u64,
    #[serde(default)]
    favourites_count: u64,
    #[serde(default)]
    replies_count: u64,
    #[serde(default)]
    quotes_count: Option<u64>,
    #[serde(default)]
    reblog: Option<Box<Status>>,
    #[serde(default)]
    quote: Option<Quote>,
    account: Account,
}

#[derive(Debug, Deserialize)]
struct Quote {
    #[serde(default)]
    quoted_status: Option<Box<Status>>,
}

#[derive(Debug, Deserialize)]
struct Account {
    acct: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    followers_count: u64,
    #[serde(default)]
    fields: Vec<Field>,
}

#[derive(Debug, Deserialize)]
struct Field {
    #[serde(default)]
    verified_at: Option<String>,
}
