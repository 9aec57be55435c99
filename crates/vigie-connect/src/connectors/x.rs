//! X API v2 filtered stream: bearer token, rules kept in sync with the configuration
//! (`GET`/`POST /2/tweets/search/stream/rules`), newline-delimited JSON with `\r\n`
//! keep-alives, and reconnection per the documented protocol: linear backoff for network
//! errors, exponential for HTTP errors, exponential from a minute for 429 (see
//! [`crate::backoff`]); a stream silent for more than [`IDLE_TIMEOUT`] (keep-alives come
//! every 20 s) is reconnected.
//!
//! The filtered stream has no replay on the basic tiers, so the cursor is the highest tweet
//! id delivered: tweets not newer are skipped (no duplicates after a reconnection); tweets
//! posted while disconnected are not recovered (see docs/connectors/x.md).

use crate::format::RecordError;
use crate::http;
use crate::{Connector, ConnectorError, PollOutcome};
use async_trait::async_trait;
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use vigie_config::XSource;
use vigie_model::{Author, Clock, Engagement, Mention, Timestamp};

/// Reconnect when neither data nor a keep-alive arrived for this long.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_WAIT: Duration = Duration::from_secs(5);
const BATCH_WAIT: Duration = Duration::from_millis(100);
const MAX_BATCH: usize = 200;
const MAX_LINE: usize = 1024 * 1024;

type Body = Pin<Box<dyn Stream<Item = Result<Vec<u8>, String>> + Send>>;

/// Follows the filtered stream.
pub struct XConnector {
    id: String,
    cfg: XSource,
    token: String,
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
    newest: Option<String>,
    body: Option<Body>,
    buf: Vec<u8>,
    rules_synced: bool,
    idle_timeout: Duration,
    lines: u64,
    last_data: Option<tokio::time::Instant>,
}

impl std::fmt::Debug for XConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XConnector")
            .field("id", &self.id)
            .field("newest", &self.newest)
            .finish_non_exhaustive()
    }
}

fn newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

impl XConnector {
    /// A connector for `cfg`; the bearer token is resolved now.
    pub fn new(cfg: XSource, clock: Arc<dyn Clock>) -> Result<Self, ConnectorError> {
        let token = cfg
            .bearer_token
            .resolve()
            .map_err(|reason| ConnectorError::Setup {
                source_id: cfg.id.clone(),
                reason,
            })?;
        Ok(Self {
            id: cfg.id.clone(),
            token,
            client: http::client(http::USER_AGENT)?,
            clock,
            newest: None,
            body: None,
            buf: Vec::new(),
            rules_synced: false,
            idle_timeout: IDLE_TIMEOUT,
            lines: 0,
            last_data: None,
            cfg,
        })
    }

    /// Overrides the idle timeout (tests).
    pub fn with_idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Makes the stream's rules equal to the configured ones (matched by value and tag).
    async fn sync_rules(&mut self) -> Result<(), ConnectorError> {
        let url = format!("{}/2/tweets/search/stream/rules", self.cfg.base_url);
        let resp = self
            .client
            .get(&url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| http::network(&url, &e))?;
        let resp = http::check(resp, &url, self.clock.now()).await?;
        let current: Rules = http::json(resp, 1024 * 1024, &url).await?;
        let current = current.data.unwrap_or_default();
        let stale: Vec<String> = current
            .iter()
            .filter(|r| {
                !self
                    .cfg
                    .rules
                    .iter()
                    .any(|c| c.value == r.value && Some(&c.tag) == r.tag.as_ref())
            })
            .map(|r| r.id.clone())
            .collect();
        let missing: Vec<serde_json::Value> = self
            .cfg
            .rules
            .iter()
            .filter(|c| {
                !current
                    .iter()
                    .any(|r| c.value == r.value && Some(&c.tag) == r.tag.as_ref())
            })
            .map(|c| serde_json::json!({ "value": c.value, "tag": c.tag }))
            .collect();
        if !stale.is_empty() {
            self.post_rules(&url, serde_json::json!({ "delete": { "ids": stale } }))
                .await?;
        }
        if !missing.is_empty() {
            self.post_rules(&url, serde_json::json!({ "add": missing }))
                .await?;
        }
        Ok(())
    }

    async fn post_rules(
        &mut self,
        url: &str,
        body: serde_json::Value,
    ) -> Result<(), ConnectorError> {
        let resp = self
            .client
            .post(url)
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| http::network(url, &e))?;
        let resp = http::check(resp, url, self.clock.now()).await?;
        let answer: serde_json::Value = http::json(resp, 1024 * 1024, url).await?;
        if let Some(errors) = answer.get("errors").and_then(|e| e.as_array())
            && !errors.is_empty()
        {
            return Err(ConnectorError::Protocol {
                target: url.to_owned(),
                reason: format!("rules refused: {}", serde_json::Value::from(errors.clone())),
            });
        }
        Ok(())
    }

    async fn connect(&mut self) -> Result<(), ConnectorError> {
        let url = format!(
            "{}/2/tweets/search/stream?tweet.fields=created_at,lang,public_metrics,referenced_tweets,author_id\
             &expansions=author_id&user.fields=username,name,verified,public_metrics",
            self.cfg.base_url
        );
        let resp = self
            .client
            .get(&url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| http::network(&url, &e))?;
        let resp = http::check(resp, &url, self.clock.now()).await?;
        self.body = Some(Box::pin(
            resp.bytes_stream()
                .map(|r| r.map(|b| b.to_vec()).map_err(|e| e.to_string())),
        ));
        self.buf.clear();
        self.last_data = Some(tokio::time::Instant::now());
        Ok(())
    }

    fn on_line(&mut self, line: &[u8], out: &mut Vec<Mention>, rejected: &mut Vec<RecordError>) {
        self.lines += 1;
        let msg: StreamMessage = match serde_json::from_slice(line) {
            Ok(m) => m,
            Err(e) => {
                rejected.push(RecordError {
                    line: self.lines,
                    reason: format!("stream message skipped: {e}"),
                });
                return;
            }
        };
        let Some(t) = msg.data else {
            if let Some(errors) = msg.errors {
                rejected.push(RecordError {
                    line: self.lines,
                    reason: format!("stream error message: {errors}"),
                });
            }
            return;
        };
        if self.newest.as_deref().is_some_and(|n| !newer(&t.id, n)) {
            return;
        }
        self.newest = Some(t.id.clone());
        let user = msg.includes.and_then(|i| {
            i.users
                .into_iter()
                .find(|u| Some(&u.id) == t.author_id.as_ref())
        });
        let reference = |kind: &str| {
            t.referenced_tweets
                .iter()
                .find(|r| r.kind == kind)
                .map(|r| r.id.clone())
        };
        let m = t.public_metrics.unwrap_or_default();
        let handle = user
            .as_ref()
            .map(|u| u.username.clone())
            .or(t.author_id.clone())
            .unwrap_or_default();
        out.push(Mention {
            source: "x".into(),
            url: Some(format!("https://x.com/{handle}/status/{}", t.id)),
            external_id: t.id.clone(),
            author: Author {
                handle,
                name: user.as_ref().map(|u| u.name.clone()),
                followers: user
                    .as_ref()
                    .and_then(|u| u.public_metrics.as_ref())
                    .map(|p| p.followers_count),
                verified: user.as_ref().is_some_and(|u| u.verified),
            },
            published_at: t
                .created_at
                .as_deref()
                .and_then(|c| Timestamp::parse_rfc3339(c).ok())
                .unwrap_or_else(|| self.clock.now()),
            received_at: Some(self.clock.now()),
            title: None,
            lang: t.lang.clone().filter(|l| l.len() == 2),
            engagement: Engagement {
                reposts: m.retweet_count,
                likes: m.like_count,
                replies: m.reply_count,
                quotes: m.quote_count,
            },
            reply_to: reference("replied_to"),
            quote_of: reference("quoted"),
            repost_of: reference("retweeted"),
            text: t.text,
            country: None,
        });
    }
}

#[async_trait]
impl Connector for XConnector {
    fn id(&self) -> &str {
        &self.id
    }

    fn kind(&self) -> &'static str {
        "x"
    }

    fn seek(&mut self, cursor: &str) -> Result<(), ConnectorError> {
        if cursor.is_empty() || !cursor.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConnectorError::BadCursor {
                cursor: cursor.to_owned(),
                reason: "expected a tweet id (digits)".into(),
            });
        }
        self.newest = Some(cursor.to_owned());
        Ok(())
    }

    fn cursor(&self) -> String {
        self.newest.clone().unwrap_or_default()
    }

    async fn poll(
        &mut self,
        out: &mut Vec<Mention>,
        rejected: &mut Vec<RecordError>,
    ) -> Result<PollOutcome, ConnectorError> {
        if !self.rules_synced {
            self.sync_rules().await?;
            self.rules_synced = true;
        }
        if self.body.is_none() {
            self.connect().await?;
        }
        let mut deadline = tokio::time::Instant::now() + POLL_WAIT.min(self.idle_timeout);
        let mut got_one = false;
        while out.len() < MAX_BATCH {
            // Complete lines first.
            if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=nl).collect();
                let trimmed = line.trim_ascii();
                if !trimmed.is_empty() {
                    self.on_line(trimmed, out, rejected);
                    if !got_one {
                        got_one = true;
                        deadline = tokio::time::Instant::now() + BATCH_WAIT;
                    }
                }
                continue;
            }
            if self.buf.len() > MAX_LINE {
                self.buf.clear();
                rejected.push(RecordError {
                    line: self.lines,
                    reason: format!("line longer than {MAX_LINE} bytes skipped"),
                });
            }
            let Some(body) = self.body.as_mut() else {
                break;
            };
            let chunk = match tokio::time::timeout_at(deadline, body.next()).await {
                Ok(c) => c,
                Err(_) => {
                    let idle = self
                        .last_data
                        .is_some_and(|t| t.elapsed() >= self.idle_timeout);
                    if idle {
                        self.body = None;
                        if out.is_empty() && rejected.is_empty() {
                            return Err(ConnectorError::Network {
                                target: format!("{}/2/tweets/search/stream", self.cfg.base_url),
                                reason: format!(
                                    "no data nor keep-alive for {:?}",
                                    self.idle_timeout
                                ),
                            });
                        }
                    }
                    break; // quiet for this poll
                }
            };
            let failure = match chunk {
                Some(Ok(bytes)) => {
                    self.buf.extend_from_slice(&bytes);
                    self.last_data = Some(tokio::time::Instant::now());
                    continue;
                }
                Some(Err(e)) => e,
                None => "stream closed by the server".to_owned(),
            };
            self.body = None;
            if out.is_empty() {
                return Err(ConnectorError::Network {
                    target: format!("{}/2/tweets/search/stream", self.cfg.base_url),
                    reason: failure,
                });
            }
            break;
        }
        Ok(if out.is_empty() && rejected.is_empty() {
            PollOutcome::Idle(Duration::ZERO)
        } else {
            PollOutcome::Ready
        })
    }
}

// ---- payloads (X API v2: filtered stream and rules) ----

#[derive(Debug, Deserialize)]
struct Rules {
    #[serde(default)]
    data: Option<Vec<Rule>>,
}

#[derive(Debug, Deserialize)]
struct Rule {
    id: String,
    value: String,
    #[serde(default)]
    tag: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StreamMessage {
    #[serde(default)]
    data: Option<Tweet>,
    #[serde(default)]
    includes: Option<Includes>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Tweet {
    id: String,
    text: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    author_id: Option<String>,
    #[serde(default)]
    public_metrics: Option<Metrics>,
    #[serde(default)]
    referenced_tweets: Vec<Reference>,
}

#[derive(Debug, Default, Deserialize)]
struct Metrics {
    #[serde(default)]
    retweet_count: u64,
    #[serde(default)]
    reply_count: u64,
    #[serde(default)]
    like_count: u64,
    #[serde(default)]
    quote_count: u64,
}

#[derive(Debug, Deserialize)]
struct Reference {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

#[derive(Debug, Deserialize)]
struct Includes {
    #[serde(default)]
    users: Vec<User>,
}

#[derive(Debug, Deserialize)]
struct User {
    id: String,
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    verified: bool,
    #[serde(default)]
    public_metrics: Option<UserMetrics>,
}

#[derive(Debug, Deserialize)]
struct UserMetrics {
    #[serde(default)]
    followers_count: u64,
}
