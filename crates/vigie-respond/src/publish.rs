//! Publication of approved drafts to Mastodon and Bluesky through their HTTP APIs.
//!
//! - **Mastodon**: `POST {instance}/api/v1/statuses` with `Authorization: Bearer {token}` and
//!   an `Idempotency-Key` (the draft's id and version), so that a retried publication never
//!   posts twice; the answer's `id` and `url` are kept.
//! - **Bluesky**: `POST {pds}/xrpc/com.atproto.server.createSession` with the handle and an
//!   app password, then `POST {pds}/xrpc/com.atproto.repo.createRecord` of an
//!   `app.bsky.feed.post`; the post's link is built from the returned `at://` URI.
//!
//! Secrets are never logged nor put in error messages.

use crate::error::{RespondError, RespondResult};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use vigie_model::Timestamp;

/// Where a publishing account lives.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AccountKind {
    /// A Mastodon account (or any server speaking its API).
    Mastodon {
        /// Base URL of the instance (`https://mastodon.example`).
        instance: String,
        /// OAuth access token with the `write:statuses` scope.
        #[serde(skip_serializing)]
        token: String,
    },
    /// A Bluesky account.
    Bluesky {
        /// Base URL of the PDS (`https://bsky.social`).
        pds: String,
        /// Handle or DID.
        identifier: String,
        /// App password.
        #[serde(skip_serializing)]
        password: String,
    },
}

impl std::fmt::Debug for AccountKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Mastodon { instance, .. } => f
                .debug_struct("Mastodon")
                .field("instance", instance)
                .field("token", &"***")
                .finish(),
            Self::Bluesky {
                pds, identifier, ..
            } => f
                .debug_struct("Bluesky")
                .field("pds", pds)
                .field("identifier", identifier)
                .field("password", &"***")
                .finish(),
        }
    }
}

/// An account the organization publishes with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishAccount {
    /// Id used in the API (`mastodon-main`).
    pub id: String,
    /// Workspace it belongs to.
    pub workspace: String,
    /// Where and how.
    #[serde(flatten)]
    pub kind: AccountKind,
}

/// What a publication produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// `mastodon`, `bluesky` or `manual`.
    pub target: String,
    /// The account used (none when sent by hand).
    pub account: Option<String>,
    /// Id of the post at the platform.
    pub remote_id: Option<String>,
    /// Link to the post.
    pub url: Option<String>,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
}

/// One text to publish.
#[derive(Debug, Clone, Copy)]
pub struct Post<'a> {
    /// The text.
    pub text: &'a str,
    /// Its language (`fr`, `en`).
    pub lang: &'a str,
    /// Same key, same post: retries never publish twice (Mastodon).
    pub idempotency_key: &'a str,
    /// Platform id of the post answered (Mastodon), if any.
    pub in_reply_to: Option<&'a str>,
    /// When.
    pub at: Timestamp,
    /// Who publishes.
    pub by: &'a str,
}

/// Publishes texts; one HTTP client shared by all accounts.
#[derive(Debug, Clone)]
pub struct Publisher {
    http: reqwest::Client,
}

fn upstream(target: &str, message: impl Into<String>) -> RespondError {
    RespondError::Publish {
        target: target.to_owned(),
        message: message.into(),
    }
}

/// The error of a non-2xx answer: status and the start of the body (never the request).
async fn status_error(target: &str, resp: reqwest::Response) -> RespondError {
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    let body: String = body.chars().take(300).collect();
    upstream(target, format!("HTTP {status}: {body}"))
}

impl Publisher {
    /// A publisher with a 20-second timeout per request. The rustls crypto provider must be
    /// installed in the process first (see STACK.md).
    pub fn new() -> RespondResult<Self> {
        // reqwest is built without a default crypto provider (see STACK.md); installing ring
        // twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("vigie/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| upstream("http", format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { http })
    }

    /// Publishes a post with `account`.
    pub async fn publish(
        &self,
        account: &PublishAccount,
        post: &Post<'_>,
    ) -> RespondResult<Published> {
        let Post {
            text,
            lang,
            idempotency_key,
            in_reply_to,
            at,
            by,
        } = *post;
        let (remote_id, url, target) = match &account.kind {
            AccountKind::Mastodon { instance, token } => {
                let (id, url) = self
                    .mastodon(instance, token, text, lang, idempotency_key, in_reply_to)
                    .await?;
                (id, url, "mastodon")
            }
            AccountKind::Bluesky {
                pds,
                identifier,
                password,
            } => {
                let (id, url) = self
                    .bluesky(pds, identifier, password, text, lang, at)
                    .await?;
                (id, url, "bluesky")
            }
        };
        Ok(Published {
            target: target.to_owned(),
            account: Some(account.id.clone()),
            remote_id: Some(remote_id),
            url,
            at,
            by: by.to_owned(),
        })
    }

    async fn mastodon(
        &self,
        instance: &str,
        token: &str,
        text: &str,
        lang: &str,
        key: &str,
        in_reply_to: Option<&str>,
    ) -> RespondResult<(String, Option<String>)> {
        #[derive(Serialize)]
        struct Body<'a> {
            status: &'a str,
            language: &'a str,
            visibility: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            in_reply_to_id: Option<&'a str>,
        }
        #[derive(Deserialize)]
        struct Status {
            id: String,
            url: Option<String>,
        }
        let endpoint = format!("{}/api/v1/statuses", instance.trim_end_matches('/'));
        let resp = self
            .http
            .post(&endpoint)
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&Body {
                status: text,
                language: lang,
                visibility: "public",
                in_reply_to_id: in_reply_to,
            })
            .send()
            .await
            .map_err(|e| upstream("mastodon", format!("{endpoint}: {e}")))?;
        if !resp.status().is_success() {
            return Err(status_error("mastodon", resp).await);
        }
        let status: Status = resp
            .json()
            .await
            .map_err(|e| upstream("mastodon", format!("unexpected answer: {e}")))?;
        Ok((status.id, status.url))
    }

    async fn bluesky(
        &self,
        pds: &str,
        identifier: &str,
        password: &str,
        text: &str,
        lang: &str,
        at: Timestamp,
    ) -> RespondResult<(String, Option<String>)> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Session {
            access_jwt: String,
            did: String,
        }
        #[derive(Deserialize)]
        struct Created {
            uri: String,
        }
        let base = pds.trim_end_matches('/');
        let resp = self
            .http
            .post(format!("{base}/xrpc/com.atproto.server.createSession"))
            .json(&serde_json::json!({"identifier": identifier, "password": password}))
            .send()
            .await
            .map_err(|e| upstream("bluesky", format!("{base}: {e}")))?;
        if !resp.status().is_success() {
            return Err(status_error("bluesky", resp).await);
        }
        let session: Session = resp
            .json()
            .await
            .map_err(|e| upstream("bluesky", format!("unexpected session answer: {e}")))?;
        let record = serde_json::json!({
            "repo": session.did,
            "collection": "app.bsky.feed.post",
            "record": {
                "$type": "app.bsky.feed.post",
                "text": text,
                "langs": [lang],
                "createdAt": at.to_rfc3339(),
            }
        });
        let resp = self
            .http
            .post(format!("{base}/xrpc/com.atproto.repo.createRecord"))
            .bearer_auth(&session.access_jwt)
            .json(&record)
            .send()
            .await
            .map_err(|e| upstream("bluesky", format!("{base}: {e}")))?;
        if !resp.status().is_success() {
            return Err(status_error("bluesky", resp).await);
        }
        let created: Created = resp
            .json()
            .await
            .map_err(|e| upstream("bluesky", format!("unexpected record answer: {e}")))?;
        // at://did:plc:xyz/app.bsky.feed.post/3k… → https://bsky.app/profile/did:plc:xyz/post/3k…
        let url = created.uri.strip_prefix("at://").and_then(|rest| {
            let mut parts = rest.split('/');
            let did = parts.next()?;
            let _collection = parts.next()?;
            let rkey = parts.next()?;
            Some(format!("https://bsky.app/profile/{did}/post/{rkey}"))
        });
        Ok((created.uri, url))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_do_not_leak_through_debug_or_json() {
        let a = PublishAccount {
            id: "main".into(),
            workspace: "acme".into(),
            kind: AccountKind::Bluesky {
                pds: "https://pds.example".into(),
                identifier: "acme.example".into(),
                password: "app-pass-1234".into(),
            },
        };
        assert!(!format!("{a:?}").contains("app-pass"));
        assert!(!serde_json::to_string(&a).unwrap().contains("app-pass"));
        let m = AccountKind::Mastodon {
            instance: "https://m.example".into(),
            token: "tok-secret".into(),
        };
        assert!(!format!("{m:?}").contains("tok-secret"));
    }
}
