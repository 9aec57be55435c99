//! The registry: one line per connector, from a validated [`SourceConfig`] to a running
//! [`Connector`]. A connector whose cargo feature is off fails to build with a clear reason.

use crate::connectors::FileConnector;
use crate::format::Format;
use crate::{Connector, ConnectorError};
use std::sync::Arc;
use vigie_config::SourceConfig;
use vigie_model::{Clock, SystemClock, WorkspaceId};

/// What building a connector may need besides its configuration.
#[derive(Debug, Clone)]
pub struct BuildContext {
    /// The workspace the source belongs to (webhook endpoints are per workspace).
    pub workspace: WorkspaceId,
    /// Time source (received_at, rate-limit resets).
    pub clock: Arc<dyn Clock>,
    /// Where pushed sources (webhooks) register their endpoint.
    #[cfg(feature = "push")]
    pub hub: crate::push::WebhookHub,
}

impl BuildContext {
    /// A context with the wall clock and a fresh webhook hub.
    pub fn new(workspace: WorkspaceId) -> Self {
        Self {
            workspace,
            clock: Arc::new(SystemClock),
            #[cfg(feature = "push")]
            hub: crate::push::WebhookHub::default(),
        }
    }

    /// Registers webhook sources in `hub` (share one hub across workspaces and serve it
    /// with [`crate::push::webhook_router`]).
    #[cfg(feature = "push")]
    pub fn with_hub(mut self, hub: crate::push::WebhookHub) -> Self {
        self.hub = hub;
        self
    }
}

#[allow(dead_code)] // used only when some connector feature is off
fn disabled(source: &SourceConfig, feature: &str) -> ConnectorError {
    ConnectorError::Setup {
        source_id: source.id().to_owned(),
        reason: format!(
            "this vigie binary was built without the `{feature}` connector (cargo feature `vigie-connect/{feature}`)"
        ),
    }
}

/// Builds the connector of a configured source.
pub fn build_connector(
    source: &SourceConfig,
    cx: &BuildContext,
) -> Result<Box<dyn Connector>, ConnectorError> {
    Ok(match source {
        SourceConfig::Jsonl(f) => Box::new(FileConnector::new(
            f.id.clone(),
            f.path.clone(),
            Format::Jsonl,
            f.poll_interval,
        )),
        SourceConfig::Csv(f) => Box::new(FileConnector::new(
            f.id.clone(),
            f.path.clone(),
            Format::Csv,
            f.poll_interval,
        )),
        #[cfg(feature = "mastodon")]
        SourceConfig::Mastodon(c) => Box::new(crate::connectors::mastodon::MastodonConnector::new(
            c.clone(),
            cx.clock.clone(),
        )?),
        #[cfg(feature = "bluesky")]
        SourceConfig::Bluesky(c) => Box::new(crate::connectors::bluesky::BlueskyConnector::new(
            c.clone(),
            cx.clock.clone(),
        )?),
        #[cfg(feature = "feed")]
        SourceConfig::Feed(c) => Box::new(crate::connectors::feed::FeedConnector::new(
            c.clone(),
            cx.clock.clone(),
        )?),
        #[cfg(feature = "reddit")]
        SourceConfig::Reddit(c) => Box::new(crate::connectors::reddit::RedditConnector::new(
            c.clone(),
            cx.clock.clone(),
        )?),
        #[cfg(feature = "x")]
        SourceConfig::X(c) => Box::new(crate::connectors::x::XConnector::new(
            c.clone(),
            cx.clock.clone(),
        )?),
        #[cfg(feature = "meta")]
        SourceConfig::MetaWebhook(c) => {
            Box::new(cx.hub.register_meta(&cx.workspace, c, cx.clock.clone())?)
        }
        #[cfg(feature = "webhook")]
        SourceConfig::Webhook(c) => Box::new(cx.hub.register_generic(
            &cx.workspace,
            c,
            cx.clock.clone(),
        )?),
        #[allow(unreachable_patterns)]
        other => return Err(disabled(other, other.kind())),
    })
}
