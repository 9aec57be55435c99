//! The log notifier: always available, writes each message as a `tracing` event.

use crate::notifiers::{Notifier, Recipient};
use crate::{Message, NotifyError};
use async_trait::async_trait;

/// Writes messages to the log at `warn` level (target `vigie::notify`).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    fn kind(&self) -> &'static str {
        "log"
    }

    async fn send(&self, message: &Message, to: &Recipient) -> Result<(), NotifyError> {
        tracing::warn!(
            target: "vigie::notify",
            incident = message.incident_id,
            person = to.person.as_deref().unwrap_or("-"),
            ack = message.ack_url.as_deref().unwrap_or("-"),
            "{}",
            message.title()
        );
        Ok(())
    }

    async fn healthcheck(&self) -> Result<(), NotifyError> {
        Ok(())
    }
}
