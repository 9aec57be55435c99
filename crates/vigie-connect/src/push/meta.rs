//! Meta webhooks (Graph API, `page` and `instagram` objects): the `GET` verification
//! handshake (`hub.mode=subscribe`, `hub.verify_token`, answer `hub.challenge`) and signed
//! `POST`s (`X-Hub-Signature-256: sha256=HMAC-SHA256(app secret, raw body)`, checked in
//! constant time). Facebook `feed` changes (comments and posts added, edited, removed;
//! reactions) and Instagram `comments`/`live_comments` become mentions, edits, deletions
//! and engagement; Instagram `mentions` carry only ids (their text needs a Graph API call,
//! not made here) and are reported as skipped.

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
            map_change(source, &change, at, now, &mut pushed);
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
                        kind: ChangeKind::Engaged { reposts: 0, likes: 1 },
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
                    let name = from.and_then(|f| f.get("name")).and_then(|x| x.as_str()).map(str::to_owned);
                    let published = v
                        .get("created_time")
                        .and_then(serde_json::Value::as_i64)
                        .map_or(at, seconds_or_millis);
                    if verb == "edited" {
                        out.changes.push(MentionChange {
                            source: source.into(),
                            external_id: id.clone(),
                            at,
                            kind: ChangeKind::Edited { text: text.clone(), title: None, engagement: None },
                        });
                    }
                    let parent = s("parent_id").filter(|p| Some(p) != s("post_id").as_ref());
                    out.mentions.push(Mention {
                        source: source.into(),
                        url: s("post").or_else(|| Some(format!("https://www.facebook.com/{id}"))),
                        external_id: id,
                        author: Author { handle, name, followers: None, verified: false },
                        published_at: published,
                        received_at: Some(now),
                        title: None,
                        text,
                        lang: None,
                        engagement: Engagement::default(),
                        reply_to: parent.or_else(|| if item == "comment" { s("post_id") } else { None }),
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
                author: Author { handle, name: None, followers: None, verified: false },
                published_at: at,
                received_at: Some(now),
                title: None,
                text,
                lang: None,
                engagement: Engagement::default(),
                reply_to: s("parent_id").or_else(|| v.get("media").and_then(|m| m.get("id")).and_then(|x| x.as_str()).map(str::to_owned)),
                quote_of: None,
                repost_of: None,
                country: None,
            });
        }
        ("instagram", "mentions") => skip(
            out,
            "instagram mention carries only ids (media_id/comment_id); fetching its text needs the Graph API".into(),
        ),
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
