//! HTTP plumbing shared by the pulled connectors: the client (rustls with *ring*), status
//! and rate-limit handling (`Retry-After`, `X-RateLimit-*`), and size-limited bodies.

use crate::ConnectorError;
use futures_util::StreamExt;
use reqwest::header::HeaderMap;
use std::time::Duration;
use vigie_model::Timestamp;

/// Installs the *ring* crypto provider for rustls (once per process; later calls are no-ops).
/// A reqwest client built before this panics (see STACK.md).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client with Vigie's user agent, connect and read timeouts suited to long streams.
pub fn client(user_agent: &str) -> Result<reqwest::Client, ConnectorError> {
    install_crypto();
    reqwest::Client::builder()
        .user_agent(user_agent)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| ConnectorError::Setup {
            source_id: String::new(),
            reason: format!("cannot build the HTTP client: {e}"),
        })
}

/// The default user agent.
pub const USER_AGENT: &str = concat!("vigie/", env!("CARGO_PKG_VERSION"));

/// A transport failure as a retryable network error.
pub fn network(target: &str, e: &reqwest::Error) -> ConnectorError {
    ConnectorError::Network {
        target: target.to_owned(),
        reason: e.to_string(),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters (for query values and
/// path segments).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// How long the server asks us to wait: `Retry-After` (seconds or an HTTP date), else a
/// rate-limit reset header when the remaining budget is exhausted (`X-RateLimit-Reset` /
/// `X-Rate-Limit-Reset` as seconds from now, epoch seconds, or an RFC 3339 time).
pub fn retry_after(headers: &HeaderMap, now: Timestamp) -> Option<Duration> {
    if let Some(v) = header(headers, "retry-after") {
        if let Ok(secs) = v.trim().parse::<f64>() {
            return Some(Duration::from_secs_f64(secs.clamp(0.0, 1e6)));
        }
        if let Ok(t) = chrono::DateTime::parse_from_rfc2822(v.trim()) {
            let ms = t.timestamp_millis() - now.as_millis();
            return Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0)));
        }
    }
    let remaining = ["x-ratelimit-remaining", "x-rate-limit-remaining"]
        .iter()
        .find_map(|h| header(headers, h))
        .and_then(|v| v.trim().parse::<f64>().ok())?;
    if remaining >= 1.0 {
        return None;
    }
    let reset = ["x-ratelimit-reset", "x-rate-limit-reset"]
        .iter()
        .find_map(|h| header(headers, h))?;
    reset_delay(reset.trim(), now)
}

fn reset_delay(v: &str, now: Timestamp) -> Option<Duration> {
    if let Ok(n) = v.parse::<f64>() {
        // Epoch seconds (X) or seconds from now (Reddit).
        let secs = if n > 1e9 {
            n - now.as_millis() as f64 / 1000.0
        } else {
            n
        };
        return Some(Duration::from_secs_f64(secs.clamp(0.0, 1e6)));
    }
    let t = chrono::DateTime::parse_from_rfc3339(v).ok()?;
    let ms = t.timestamp_millis() - now.as_millis();
    Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Turns a non-success response into the matching error (429 → [`ConnectorError::RateLimited`]).
pub async fn check(
    resp: reqwest::Response,
    target: &str,
    now: Timestamp,
) -> Result<reqwest::Response, ConnectorError> {
    let status = resp.status();
    if status.is_success() || status == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(resp);
    }
    let wait = retry_after(resp.headers(), now);
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(ConnectorError::RateLimited {
            target: target.to_owned(),
            retry_after: wait.unwrap_or(Duration::from_secs(60)),
        });
    }
    let body = read_limited(resp, 4096, target).await.unwrap_or_default();
    let mut reason: String = String::from_utf8_lossy(&body).chars().take(200).collect();
    if reason.trim().is_empty() {
        reason = status.canonical_reason().unwrap_or("error").to_owned();
    }
    Err(ConnectorError::Http {
        target: target.to_owned(),
        status: status.as_u16(),
        reason,
        retry_after: wait,
    })
}

/// Reads a body, refusing more than `max` bytes (checked on `Content-Length` first, then
/// while streaming, so a huge body is never held in memory).
pub async fn read_limited(
    resp: reqwest::Response,
    max: u64,
    target: &str,
) -> Result<Vec<u8>, ConnectorError> {
    let too_big = |n: u64| ConnectorError::Protocol {
        target: target.to_owned(),
        reason: format!("body larger than the {max}-byte limit ({n} bytes or more)"),
    };
    if let Some(n) = resp.content_length()
        && n > max
    {
        return Err(too_big(n));
    }
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| network(target, &e))?;
        if (out.len() + chunk.len()) as u64 > max {
            return Err(too_big((out.len() + chunk.len()) as u64));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Reads and decodes a JSON body of at most `max` bytes.
pub async fn json<T: serde::de::DeserializeOwned>(
    resp: reqwest::Response,
    max: u64,
    target: &str,
) -> Result<T, ConnectorError> {
    let body = read_limited(resp, max, target).await?;
    serde_json::from_slice(&body).map_err(|e| ConnectorError::Protocol {
        target: target.to_owned(),
        reason: format!("invalid JSON: {e}"),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn reads_retry_after_and_rate_limit_headers() {
        let now = Timestamp::parse_rfc3339("2026-03-01T10:00:00Z").unwrap();
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Sun, 01 Mar 2026 10:00:30 GMT")]),
                now
            ),
            Some(Duration::from_secs(30))
        );
        // Reddit: seconds until reset, only when the budget is spent.
        let reddit = [
            ("x-ratelimit-remaining", "0.0"),
            ("x-ratelimit-reset", "42"),
        ];
        assert_eq!(
            retry_after(&headers(&reddit), now),
            Some(Duration::from_secs(42))
        );
        let fine = [
            ("x-ratelimit-remaining", "57.0"),
            ("x-ratelimit-reset", "42"),
        ];
        assert_eq!(retry_after(&headers(&fine), now), None);
        // X: epoch seconds.
        let reset = (now.as_millis() / 1000 + 90).to_string();
        let x = [
            ("x-rate-limit-remaining", "0"),
            ("x-rate-limit-reset", reset.as_str()),
        ];
        assert_eq!(
            retry_after(&headers(&x), now),
            Some(Duration::from_secs(90))
        );
        // Mastodon: an RFC 3339 time.
        let m = [
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "2026-03-01T10:05:00.000Z"),
        ];
        assert_eq!(
            retry_after(&headers(&m), now),
            Some(Duration::from_secs(300))
        );
        assert_eq!(retry_after(&headers(&[]), now), None);
    }
}
