//! The [`Notifier`] trait and the channels behind it.
//!
//! | type | module | payload |
//! |---|---|---|
//! | `webhook` | [`http`] | JSON `{event, message}`, `X-Vigie-Signature: sha256=<hex HMAC>` |
//! | `slack` | [`http`] | Block Kit: header, figures, samples, buttons |
//! | `mattermost` | [`http`] | attachment with colour, fields and markdown links |
//! | `teams` | [`http`] | Adaptive Card 1.4 with `Action.OpenUrl` buttons |
//! | `ntfy` | [`http`] | text body, `Title`, `Priority`, `Tags`, `Click`, `Actions` headers |
//! | `email` | [`email`] | SMTP (STARTTLS, TLS or plain), `multipart/alternative` text + HTML |
//! | `log` | [`log`] | a `tracing` event |

pub mod email;
pub mod http;
pub mod log;

use crate::{Message, NotifyError};
use async_trait::async_trait;
use std::sync::Arc;
use vigie_config::{ChannelConfig, ChannelKind};

/// Who a message is for, beyond the channel itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipient {
    /// Person id (`None`: the channel's own audience).
    pub person: Option<String>,
    /// Their e-mail address.
    pub email: Option<String>,
    /// Their ntfy topic.
    pub ntfy_topic: Option<String>,
}

/// A way to tell people. Implementations do one attempt; retries, backoff and dead letters
/// are the [`crate::Mobilizer`]'s job (its delivery tasks).
#[async_trait]
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// `webhook`, `slack`, `email`, … (the config's `type`).
    fn kind(&self) -> &'static str;
    /// One delivery attempt.
    async fn send(&self, message: &Message, to: &Recipient) -> Result<(), NotifyError>;
    /// Whether the endpoint is reachable now (sends nothing to people).
    async fn healthcheck(&self) -> Result<(), NotifyError>;
}

/// Builds the notifier of a configured channel. `secret` resolves a secret's environment
/// variable (pass `|name| std::env::var(name).ok()` in production).
pub fn build_notifier(
    channel: &ChannelConfig,
    secret: &dyn Fn(&str) -> Option<String>,
) -> Result<Arc<dyn Notifier>, NotifyError> {
    let resolve = |r: &Option<vigie_config::SecretRef>| -> Result<Option<String>, NotifyError> {
        match r {
            None => Ok(None),
            Some(r) => secret(&r.env)
                .filter(|s| !s.is_empty())
                .map(Some)
                .ok_or_else(|| {
                    NotifyError::Permanent(format!(
                        "channel {}: environment variable {} is not set",
                        channel.id, r.env
                    ))
                }),
        }
    };
    Ok(match &channel.kind {
        ChannelKind::Webhook { url, secret } => Arc::new(http::HttpNotifier::new(
            http::Flavor::Webhook,
            url,
            resolve(secret)?,
            None,
        )?),
        ChannelKind::Slack { url } => Arc::new(http::HttpNotifier::new(
            http::Flavor::Slack,
            url,
            None,
            None,
        )?),
        ChannelKind::Mattermost { url } => Arc::new(http::HttpNotifier::new(
            http::Flavor::Mattermost,
            url,
            None,
            None,
        )?),
        ChannelKind::Teams { url } => Arc::new(http::HttpNotifier::new(
            http::Flavor::Teams,
            url,
            None,
            None,
        )?),
        ChannelKind::Ntfy { url, topic, token } => Arc::new(http::HttpNotifier::new(
            http::Flavor::Ntfy {
                topic: topic.clone(),
            },
            url,
            None,
            resolve(token)?,
        )?),
        ChannelKind::Email { .. } => Arc::new(email::EmailNotifier::from_channel(channel, secret)?),
        ChannelKind::Log => Arc::new(log::LogNotifier),
    })
}
