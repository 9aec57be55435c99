//! RSS 0.9–2.0, Atom and JSON Feed documents (feed-rs), polled with conditional GET
//! (`If-None-Match` / `If-Modified-Since`), each feed on its own interval, bodies capped at
//! `max_bytes`, any encoding declared in the XML prolog (ISO-8859-1, Windows-1252…).
//!
//! The cursor is a JSON object per feed URL: the validators (`ETag`, `Last-Modified`) and
//! the entries already delivered (a hash of their id with their `updated` time, the most
//! recent [`SEEN_PER_FEED`]), so a restart neither re-delivers nor misses entries. An entry
//! seen again with a later `updated` time becomes an edit. A feed that fails (HTTP error,
//! malformed XML, too big) is reported and retried at its next turn; the other feeds go on.

use crate::format::RecordError;
use crate::http;
use crate::text::html_to_text;
use crate::{Connector, ConnectorError, PollOutcome};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use vigie_config::FeedSource;
use vigie_model::{Author, ChangeKind, Clock, Mention, MentionChange, Timestamp};

/// Entries remembered per feed.
pub const SEEN_PER_FEED: usize = 500;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
struct FeedState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
    /// `(hash of entry id, updated ms)`, oldest first.
    #[serde(default)]
    seen: VecDeque<(String, i64)>,
}

/// Polls a list of feeds.
pub struct FeedConnector {
    id: String,
    cfg: FeedSource,
    urls: Vec<String>,
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
    state: BTreeMap<String, FeedState>,
    due: Vec<Instant>,
    next: usize,
    changes: Vec<MentionChange>,
}

impl std::fmt::Debug for FeedConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedConnector")
            .field("id", &self.id)
            .field("urls", &self.urls)
            .finish_non_exhaustive()
    }
}

/// Feed URLs listed in an OPML document (`<outline xmlUrl="…">`, nested or not).
pub fn parse_opml(xml: &str) -> Result<Vec<String>, String> {
    if !xml.contains("<opml") {
        return Err("not an OPML document (no <opml> element)".into());
    }
    let mut urls = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find("<outline") {
        let tag_end = rest[i..]
            .find('>')
            .ok_or("unterminated <outline> element")?
            + i;
        let tag = &rest[i..tag_end];
        for attr in ["xmlUrl=\"", "xmlurl=\"", "xmlUrl='"] {
            if let Some(a) = tag.find(attr) {
                let start = a + attr.len();
                let quote = attr.chars().last().unwrap_or('"');
                if let Some(len) = tag[start..].find(quote) {
                    let url = crate::text::decode_entities(&tag[start..start + len]);
                    if url.starts_with("http://") || url.starts_with("https://") {
                        urls.push(url);
                    }
                }
                break;
            }
        }
        rest = &rest[tag_end..];
    }
    if urls.is_empty() {
        return Err("the OPML document lists no feed (no outline with an http(s) xmlUrl)".into());
    }
    Ok(urls)
}

/// Reads an OPML file.
pub fn read_opml(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_opml(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn hash(s: &str) -> String {
    // FNV-1a 64: stable across runs and versions (the hash goes into saved cursors).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl FeedConnector {
    /// A connector for `cfg`: its URLs plus those of its OPML file.
    pub fn new(cfg: FeedSource, clock: Arc<dyn Clock>) -> Result<Self, ConnectorError> {
        let mut urls = cfg.urls.clone();
        if let Some(path) = &cfg.opml {
            let more = read_opml(path).map_err(|reason| ConnectorError::Setup {
                source_id: cfg.id.clone(),
                reason,
            })?;
            for u in more {
                if !urls.contains(&u) {
                    urls.push(u);
                }
            }
        }
        let now = Instant::now();
        Ok(Self {
            id: cfg.id.clone(),
            due: vec![now; urls.len()],
            urls,
            client: http::client(http::USER_AGENT)?,
            clock,
            state: BTreeMap::new(),
            next: 0,
            changes: Vec::new(),
            cfg,
        })
    }

    async fn fetch(
        &mut self,
        url: &str,
        out: &mut Vec<Mention>,
        rejected: &mut Vec<RecordError>,
    ) -> Result<(), ConnectorError> {
        let st = self.state.entry(url.to_owned()).or_default().clone();
        let mut req = self.client.get(url).header(
            "accept",
            "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.8",
        );
        if let Some(e) = &st.etag {
            req = req.header("if-none-match", e);
        }
        if let Some(lm) = &st.last_modified {
            req = req.header("if-modified-since", lm);
        }
        let resp = req.send().await.map_err(|e| http::network(url, &e))?;
        let resp = http::check(resp, url, self.clock.now()).await?;
        if resp.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(());
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (etag, last_modified) = (header("etag"), header("last-modified"));
        let body = http::read_limited(resp, self.cfg.max_bytes, url).await?;
        let feed =
            feed_rs::parser::parse(body.as_slice()).map_err(|e| ConnectorError::Protocol {
                target: url.to_owned(),
                reason: format!("not a valid RSS/Atom/JSON feed: {e}"),
            })?;
        let st = self.state.entry(url.to_owned()).or_default();
        st.etag = etag;
        st.last_modified = last_modified;
        let feed_lang = feed.language.clone();
        let feed_title = feed.title.as_ref().map(|t| t.content.clone());
        let mut entries = feed.entries;
        // Oldest first.
        entries.sort_by_key(|e| e.published.or(e.updated));
        let now = self.clock.now();
        for entry in entries {
            let link = entry.links.first().map(|l| l.href.clone());
            let key = hash(&entry.id);
            let updated_ms = entry
                .updated
                .or(entry.published)
                .map_or(0, |d| d.timestamp_millis());
            let title = entry.title.as_ref().map(|t| html_to_text(&t.content));
            let body = entry
                .content
                .as_ref()
                .and_then(|c| c.body.clone())
                .or_else(|| entry.summary.as_ref().map(|s| s.content.clone()))
                .unwrap_or_default();
            let text = html_to_text(&body);
            if text.is_empty() && title.as_deref().is_none_or(str::is_empty) {
                rejected.push(RecordError {
                    line: 0,
                    reason: format!("{url}: entry {:?} has neither title nor text", entry.id),
                });
                continue;
            }
            let external_id = link.clone().unwrap_or_else(|| entry.id.clone());
            match st.seen.iter_mut().find(|(k, _)| *k == key) {
                Some(seen) => {
                    if updated_ms > seen.1 {
                        seen.1 = updated_ms;
                        self.changes.push(MentionChange {
                            source: "rss".into(),
                            external_id,
                            at: Timestamp::from_millis(updated_ms),
                            kind: ChangeKind::Edited {
                                text,
                                title,
                                engagement: None,
                            },
                        });
                    }
                    continue;
                }
                None => {
                    st.seen.push_back((key, updated_ms));
                    while st.seen.len() > SEEN_PER_FEED {
                        st.seen.pop_front();
                    }
                }
            }
            let author = entry
                .authors
                .first()
                .and_then(|a| a.name.clone())
                .filter(|n| !n.trim().is_empty())
                .or_else(|| feed_title.clone())
                .unwrap_or_else(|| url.to_owned());
            out.push(Mention {
                source: "rss".into(),
                external_id,
                url: link,
                author: Author {
                    handle: author.clone(),
                    name: Some(author),
                    followers: None,
                    verified: false,
                },
                published_at: entry
                    .published
                    .or(entry.updated)
                    .map_or(now, |d| Timestamp::from_millis(d.timestamp_millis())),
                received_at: Some(now),
                title,
                text,
                lang: entry
                    .language
                    .clone()
                    .or_else(|| feed_lang.clone())
                    .map(|l| l.chars().take(2).collect::<String>().to_ascii_lowercase())
                    .filter(|l| l.len() == 2),
                engagement: Default::default(),
                reply_to: None,
                quote_of: None,
                repost_of: None,
                country: None,
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Connector for FeedConnector {
    fn id(&self) -> &str {
        &self.id
    }

    fn kind(&self) -> &'static str {
        "feed"
    }

    fn seek(&mut self, cursor: &str) -> Result<(), ConnectorError> {
        self.state = serde_json::from_str(cursor).map_err(|e| ConnectorError::BadCursor {
            cursor: cursor.chars().take(80).collect(),
            reason: format!("expected the JSON state of the feeds: {e}"),
        })?;
        Ok(())
    }

    fn cursor(&self) -> String {
        serde_json::to_string(&self.state).unwrap_or_default()
    }

    fn take_changes(&mut self) -> Vec<MentionChange> {
        std::mem::take(&mut self.changes)
    }

    async fn poll(
        &mut self,
        out: &mut Vec<Mention>,
        rejected: &mut Vec<RecordError>,
    ) -> Result<PollOutcome, ConnectorError> {
        if self.urls.is_empty() {
            return Ok(PollOutcome::Finished);
        }
        let now = Instant::now();
        // Round robin over the feeds that are due.
        let n = self.urls.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            if self.due[i] <= now {
                self.next = (i + 1) % n;
                self.due[i] = now + self.cfg.interval;
                let url = self.urls[i].clone();
                if let Err(e) = self.fetch(&url, out, rejected).await {
                    // One bad feed does not stop the others; a rate limit delays this feed.
                    if let Some(wait) = e.retry_after() {
                        self.due[i] = now + wait.max(self.cfg.interval);
                    }
                    if n == 1 {
                        return Err(e);
                    }
                    rejected.push(RecordError {
                        line: 0,
                        reason: e.to_string(),
                    });
                }
                return Ok(PollOutcome::Ready);
            }
        }
        let soonest = self.due.iter().min().copied().unwrap_or(now);
        Ok(PollOutcome::Idle(
            soonest
                .saturating_duration_since(now)
                .max(Duration::from_millis(10)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opml_lists_nested_outlines_and_rejects_other_documents() {
        let opml = r#"<?xml version="1.0"?><opml version="2.0"><body>
            <outline text="News"><outline type="rss" text="A" xmlUrl="https://a.example/rss?x=1&amp;y=2"/>
            <outline text="B" xmlUrl="http://b.example/atom.xml"></outline></outline>
            <outline text="no feed"/></body></opml>"#;
        assert_eq!(
            parse_opml(opml).unwrap_or_default(),
            ["https://a.example/rss?x=1&y=2", "http://b.example/atom.xml"]
        );
        assert!(parse_opml("<html></html>").is_err());
        assert!(parse_opml("<opml><body></body></opml>").is_err());
    }
}
