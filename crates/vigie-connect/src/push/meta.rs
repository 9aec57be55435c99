//! Meta webhooks (Graph API, `page` and `instagram` objects): the `GET` verification
//! handshake (`hub.mode=subscribe`, `hub.verify_token`, answer `hub.challenge`) and signed
//! `POST`s (`X-Hub-Signature-256: sha256=HMAC-SHA256(app secret, raw body)`, checked in
//! constant time). Facebook `feed` changes (comments and posts added, edited, removed;
//! reactions) and Instagram `comments`/`live_comments` become mentions, edits, deletions
//! and engagement. Instagram `mentions` (the account @mentioned in someone's comment or
//! caption) carry only ids: with an `access_token`, their comment or media is read from the
//! Graph API (`mentioned_comment` / `mentioned_media` of the account) before the request is
//! answered; without one they are reported as skipped.

use super::{Pushed, Rejection, deny, reject, signature_ok};
use crate::format::RecordError;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;
use vigie_model::{Author, ChangeKind, Engagement, Mention, MentionChange, Timestamp};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

pub(crate) fn verify(verify_token: &str, q: &HashMap<String, String>) -> Response {
    use subtle::ConstantTimeEq;
    if q.get("hub.mode").map(String::as_str) != Some("subscribe") {
        return reject(StatusCode::BAD_REQUEST, "hub.mode must be subscribe");
    }
    let given = q.get("hub.verify_token").map(String::as_str).unwrap_or("");
    if !bool::from(given.as_bytes().ct_eq(verify_token.as_bytes())) {
        return reject(StatusCode::FORBIDDEN, "hub.verify_token does not match");
    }
    match q.get("hub.challenge") {
        Some(c) => (StatusCode::OK, c.clone()).into_response(),
        None => reject(StatusCode::BAD_REQUEST, "hub.challenge is missing"),
    }
}

pub(crate) fn accept(
    app_secret: &str,
    graph: bool,
    headers: &HeaderMap,
    body: &[u8],
    now: Timestamp,
) -> Result<Pushed, Rejection> {
    let sig = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    signature_ok(app_secret, sig, body).map_err(|why| {
        deny(
            StatusCode::UNAUTHORIZED,
            format!("{SIGNATURE_HEADER}: {why}"),
        )
    })?;
    let payload: Payload = serde_json::from_slice(body).map_err(|e| {
        deny(
            StatusCode::BAD_REQUEST,
            format!("not a Meta webhook payload: {e}"),
        )
    })?;
    let mut pushed = Pushed::default();
    let source = match payload.object.as_str() {
        "page" => "facebook",
        "instagram" => "instagram",
        other => {
            return Err(deny(
                StatusCode::BAD_REQUEST,
                format!("unsupported object {other:?}: page or instagram"),
            ));
        }
    };
    for entry in payload.entry {
        let at = entry.time.map_or(now, seconds_or_millis);
        for change in entry.changes {
            if source == "instagram" && change.field == "mentions" {
                instagram_mention(entry.id.as_deref(), &change.value, graph, &mut pushed);
            } else {
                map_change(source, &change, at, now, &mut pushed);
            }
        }
    }
    Ok(pushed)
}

fn seconds_or_millis(t: i64) -> Timestamp {
    // Meta sends `time` in seconds, sometimes in milliseconds.
    Timestamp::from_millis(if t > 100_000_000_000 { t } else { t * 1000 })
}

fn map_change(source: &str, change: &Change, at: Timestamp, now: Timestamp, out: &mut Pushed) {
    let v = &change.value;
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let skip = |out: &mut Pushed, why: String| {
        out.skipped.push(RecordError {
            line: 0,
            reason: why,
        })
    };
    match (source, change.field.as_str()) {
        ("facebook", "feed") => {
            let item = s("item").unwrap_or_default();
            let verb = s("verb").unwrap_or_default();
            let id = match item.as_str() {
                "comment" => s("comment_id"),
                _ => s("post_id"),
            };
            let Some(id) = id else {
                return skip(out, format!("feed {item} without an id"));
            };
            match (item.as_str(), verb.as_str()) {
                ("reaction", "add") => match s("post_id") {
                    Some(post) => out.changes.push(MentionChange {
                        source: source.into(),
                        external_id: post,
                        at,
                        kind: ChangeKind::Engaged {
                            reposts: 0,
                            likes: 1,
                        },
                    }),
                    None => skip(out, "reaction without post_id".into()),
                },
                ("comment" | "post" | "status" | "photo" | "video", "remove") => {
                    out.changes.push(MentionChange::deleted(source, id, at));
                }
                ("comment" | "post" | "status" | "photo" | "video", "add" | "edited") => {
                    let Some(text) = s("message").filter(|m| !m.trim().is_empty()) else {
                        return skip(out, format!("{item} {id} without a message"));
                    };
                    let from = v.get("from");
                    let handle = from
                        .and_then(|f| f.get("id"))
                        .and_then(|x| x.as_str())
                        .unwrap_or("unknown")
                        .to_owned();
                    let name = from
                        .and_then(|f| f.get("name"))
                        .and_then(|x| x.as_str())
                        .map(str::to_owned);
                    let published = v
                        .get("created_time")
                        .and_then(serde_json::Value::as_i64)
                        .map_or(at, seconds_or_millis);
                    if verb == "edited" {
                        out.changes.push(MentionChange {
                            source: source.into(),
                            external_id: id.clone(),
                            at,
                            kind: ChangeKind::Edited {
                                text: text.clone(),
                                title: None,
                                engagement: None,
                            },
                        });
                    }
                    let parent = s("parent_id").filter(|p| Some(p) != s("post_id").as_ref());
                    out.mentions.push(Mention {
                        source: source.into(),
                        url: s("post").or_else(|| Some(format!("https://www.facebook.com/{id}"))),
                        external_id: id,
                        author: Author {
                            handle,
                            name,
                            followers: None,
                            verified: false,
                        },
                        published_at: published,
                        received_at: Some(now),
                        title: None,
                        text,
                        lang: None,
                        engagement: Engagement::default(),
                        reply_to: parent.or_else(|| {
                            if item == "comment" {
                                s("post_id")
                            } else {
                                None
                            }
                        }),
                        quote_of: None,
                        repost_of: None,
                        country: None,
                    });
                }
                _ => {} // likes on comments, shares…: not mentions
            }
        }
        ("instagram", "comments" | "live_comments") => {
            let (Some(id), Some(text)) = (s("id"), s("text")) else {
                return skip(out, "instagram comment without id or text".into());
            };
            let from = v.get("from");
            let handle = from
                .and_then(|f| f.get("username"))
                .or_else(|| from.and_then(|f| f.get("id")))
                .and_then(|x| x.as_str())
                .unwrap_or("unknown")
                .to_owned();
            out.mentions.push(Mention {
                source: source.into(),
                url: None,
                external_id: id,
                author: Author {
                    handle,
                    name: None,
                    followers: None,
                    verified: false,
                },
                published_at: at,
                received_at: Some(now),
                title: None,
                text,
                lang: None,
                engagement: Engagement::default(),
                reply_to: s("parent_id").or_else(|| {
                    v.get("media")
                        .and_then(|m| m.get("id"))
                        .and_then(|x| x.as_str())
                        .map(str::to_owned)
                }),
                quote_of: None,
                repost_of: None,
                country: None,
            });
        }
        (_, field) => skip(out, format!("{source} field {field:?} is not handled")),
    }
}

#[derive(Debug, Deserialize)]
struct Payload {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    /// The page or Instagram account id.
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    time: Option<i64>,
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct Change {
    field: String,
    #[serde(default)]
    value: serde_json::Value,
}

/// Graph API access of a Meta webhook source.
#[derive(Clone)]
pub(crate) struct Graph {
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// An Instagram mention to complete: the account mentioned, the media, and the comment when
/// the mention is in a comment (else it is in the media's caption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IgLookup {
    pub account: String,
    pub media_id: String,
    pub comment_id: Option<String>,
}

fn instagram_mention(
    account: Option<&str>,
    value: &serde_json::Value,
    graph: bool,
    out: &mut Pushed,
) {
    let s = |k: &str| value.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let skip = |out: &mut Pushed, reason: String| out.skipped.push(RecordError { line: 0, reason });
    if !graph {
        return skip(
            out,
            "instagram mention carries only ids (media_id/comment_id): set the source's access_token to fetch its text from the Graph API".into(),
        );
    }
    match (account, s("media_id")) {
        (Some(account), Some(media_id)) => out.lookups.push(IgLookup {
            account: account.to_owned(),
            media_id,
            comment_id: s("comment_id"),
        }),
        (None, _) => skip(
            out,
            "instagram mention without the account id (entry.id)".into(),
        ),
        (_, None) => skip(out, "instagram mention without media_id".into()),
    }
}

/// All the lookups of one delivery must finish within this (Meta gives up on slow
/// endpoints and delivers again).
pub(crate) const LOOKUP_BUDGET: std::time::Duration = std::time::Duration::from_secs(15);

/// Reads each mention's comment or caption from the Graph API. A mention the Graph API
/// refuses (4xx: deleted, hidden, comments disabled) or answers without text is skipped with
/// its reason; a network error, a 5xx or the [`LOOKUP_BUDGET`] running out fails the whole
/// request, to be delivered again by Meta.
pub(crate) async fn resolve(
    graph: &Graph,
    lookups: &[IgLookup],
    now: Timestamp,
    skipped: &mut Vec<RecordError>,
) -> Result<Vec<Mention>, String> {
    match tokio::time::timeout(LOOKUP_BUDGET, resolve_all(graph, lookups, now, skipped)).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "Graph API lookups took more than {} s",
            LOOKUP_BUDGET.as_secs()
        )),
    }
}

async fn resolve_all(
    graph: &Graph,
    lookups: &[IgLookup],
    now: Timestamp,
    skipped: &mut Vec<RecordError>,
) -> Result<Vec<Mention>, String> {
    let mut out = Vec::with_capacity(lookups.len());
    let mut skip = |reason: String| skipped.push(RecordError { line: 0, reason });
    for l in lookups {
        let (edge, fields) = match &l.comment_id {
            Some(c) => (
                "mentioned_comment",
                format!(
                    "mentioned_comment.comment_id({c}){{id,text,timestamp,username,like_count,media{{id,permalink}}}}"
                ),
            ),
            None => (
                "mentioned_media",
                format!(
                    "mentioned_media.media_id({}){{id,caption,timestamp,username,permalink,like_count,comments_count}}",
                    l.media_id
                ),
            ),
        };
        let url = format!(
            "{}/{}?fields={}&access_token={}",
            graph.base,
            crate::http::encode(&l.account),
            crate::http::encode(&fields),
            crate::http::encode(&graph.token)
        );
        let what = format!("Graph API {edge} of {}", l.account);
        let resp = graph
            .client
            .get(&url)
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| format!("{what}: {}", e.without_url()))?;
        let status = resp.status();
        if status.is_client_error() && status.as_u16() != 429 {
            skip(format!(
                "instagram mention skipped: {what} answered HTTP {}",
                status.as_u16()
            ));
            continue;
        }
        if !status.is_success() {
            return Err(format!("{what}: HTTP {}", status.as_u16()));
        }
        let body: serde_json::Value = resp
            .json()
            .await
            .map_err(|e| format!("{what}: unexpected answer: {}", e.without_url()))?;
        let Some(node) = body.get(edge) else {
            skip(format!("instagram mention skipped: {what} has no {edge}"));
            continue;
        };
        let s = |k: &str| node.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        let n = |k: &str| node.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
        let Some(text) = if l.comment_id.is_some() {
            s("text")
        } else {
            s("caption")
        }
        .filter(|t| !t.trim().is_empty()) else {
            skip(format!("instagram mention skipped: {what} has no text"));
            continue;
        };
        let id =
            s("id").unwrap_or_else(|| l.comment_id.clone().unwrap_or_else(|| l.media_id.clone()));
        let permalink = if l.comment_id.is_some() {
            node.get("media")
                .and_then(|m| m.get("permalink"))
                .and_then(|x| x.as_str())
                .map(str::to_owned)
        } else {
            s("permalink")
        };
        out.push(Mention {
            source: "instagram".into(),
            external_id: id,
            url: permalink.filter(|u| u.starts_with("https://") || u.starts_with("http://")),
            author: Author {
                handle: s("username").unwrap_or_else(|| "unknown".into()),
                name: None,
                followers: None,
                verified: false,
            },
            published_at: s("timestamp")
                .and_then(|t| graph_time(t.as_str()))
                .unwrap_or(now),
            received_at: Some(now),
            title: None,
            text,
            lang: None,
            engagement: Engagement {
                likes: n("like_count"),
                replies: n("comments_count"),
                ..Engagement::default()
            },
            reply_to: l.comment_id.as_ref().map(|_| l.media_id.clone()),
            quote_of: None,
            repost_of: None,
            country: None,
        });
    }
    Ok(out)
}

/// The Graph API writes `2026-03-01T09:40:00+0000` (no colon in the offset).
fn graph_time(t: &str) -> Option<Timestamp> {
    Timestamp::parse_rfc3339(t).ok().or_else(|| {
        let idx = t.len().checked_sub(5)?;
        if !t.is_char_boundary(idx) || !t[idx..].is_ascii() {
            return None;
        }
        let (head, offset) = t.split_at(idx);
        let fixed = format!("{head}{}:{}", &offset[..3], &offset[3..]);
        Timestamp::parse_rfc3339(&fixed).ok()
    })
}

#[cfg(test)]
mod graph_tests {
    #![allow(clippy::unwrap_used)]
    use super::graph_time;
    use vigie_model::Timestamp;

    #[test]
    fn graph_timestamps_without_a_colon_in_the_offset() {
        let want = Timestamp::parse_rfc3339("2026-03-01T09:40:00Z").unwrap();
        assert_eq!(graph_time("2026-03-01T09:40:00+0000"), Some(want));
        assert_eq!(graph_time("2026-03-01T10:40:00+0100"), Some(want));
        assert_eq!(graph_time("2026-03-01T09:40:00Z"), Some(want));
        assert_eq!(graph_time("x"), None);
        assert_eq!(graph_time("2026-03-01T09:40:00+00é0"), None);
    }
}
