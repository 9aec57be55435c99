//! The generic webhook: canonical mention JSON (one object, or an array of them; see
//! `docs/formats/mention.md`), authenticated by an HMAC-SHA256 signature in
//! `X-Vigie-Signature: sha256=HEX` or a bearer token. All or nothing: one invalid mention
//! rejects the request (400) with every reason, and nothing is queued.

use super::{Pushed, Rejection, deny, signature_ok};
use crate::format::validate_mention;
use axum::http::{HeaderMap, StatusCode};
use subtle::ConstantTimeEq;
use vigie_model::{Mention, Timestamp};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-vigie-signature";
/// Largest number of mentions in one request.
pub const MAX_MENTIONS: usize = 1000;

pub(crate) fn accept(
    secret: Option<&str>,
    token: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    now: Timestamp,
) -> Result<Pushed, Rejection> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signature = header(SIGNATURE_HEADER);
    let bearer = header("authorization").and_then(|a| a.strip_prefix("Bearer "));
    match (secret, signature, token, bearer) {
        (Some(key), Some(_), _, _) => {
            signature_ok(key, signature, body).map_err(|why| deny(StatusCode::UNAUTHORIZED, why))?
        }
        (_, _, Some(expected), Some(given)) => {
            if !bool::from(expected.as_bytes().ct_eq(given.trim().as_bytes())) {
                return Err(deny(StatusCode::UNAUTHORIZED, "invalid bearer token"));
            }
        }
        _ => {
            let how = match (secret.is_some(), token.is_some()) {
                (true, true) => {
                    "an X-Vigie-Signature header (HMAC-SHA256) or Authorization: Bearer"
                }
                (true, false) => "an X-Vigie-Signature header (sha256=HMAC-SHA256 of the body)",
                _ => "Authorization: Bearer TOKEN",
            };
            return Err(deny(
                StatusCode::UNAUTHORIZED,
                format!("missing credentials: send {how}"),
            ));
        }
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| deny(StatusCode::BAD_REQUEST, format!("body is not JSON: {e}")))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        obj @ serde_json::Value::Object(_) => vec![obj],
        _ => {
            return Err(deny(
                StatusCode::BAD_REQUEST,
                "body must be a mention object or an array of mentions",
            ));
        }
    };
    if items.is_empty() {
        return Err(deny(
            StatusCode::BAD_REQUEST,
            "empty array: no mention to store",
        ));
    }
    if items.len() > MAX_MENTIONS {
        return Err(deny(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "{} mentions in one request; at most {MAX_MENTIONS}",
                items.len()
            ),
        ));
    }
    let mut mentions = Vec::with_capacity(items.len());
    let mut problems = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match serde_json::from_value::<Mention>(item) {
            Ok(mut m) => match validate_mention(&m) {
                Ok(()) => {
                    m.received_at.get_or_insert(now);
                    mentions.push(m);
                }
                Err(why) => problems.push(format!("mention {i}: {why}")),
            },
            Err(e) => problems.push(format!("mention {i}: {e}")),
        }
    }
    if !problems.is_empty() {
        let n = problems.len();
        problems.truncate(10);
        return Err(deny(
            StatusCode::BAD_REQUEST,
            format!(
                "{n} invalid mention(s), nothing stored: {}",
                problems.join("; ")
            ),
        ));
    }
    Ok(Pushed {
        mentions,
        ..Pushed::default()
    })
}
