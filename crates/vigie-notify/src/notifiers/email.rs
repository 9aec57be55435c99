//! E-mail over SMTP (lettre): STARTTLS by default, SMTPS or plain for local relays; every
//! message is `multipart/alternative` with a text and an HTML part in the recipient's language.

use crate::notifiers::{Notifier, Recipient};
use crate::{Message, NotifyError};
use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;
use vigie_config::SmtpTls;

/// Where and how to send.
#[derive(Clone)]
pub struct SmtpSettings {
    /// Server host.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Transport security.
    pub tls: SmtpTls,
    /// User name and password.
    pub credentials: Option<(String, String)>,
    /// Sender.
    pub from: String,
    /// Fixed recipients (added to the person's address, if any).
    pub to: Vec<String>,
    /// Per-command timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// Sends e-mail through one SMTP server.
#[derive(Debug)]
pub struct EmailNotifier {
    settings: SmtpSettings,
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

fn smtp_error(e: lettre::transport::smtp::Error) -> NotifyError {
    if e.is_permanent() {
        NotifyError::Permanent(format!("smtp: {e}"))
    } else {
        NotifyError::Retryable(format!("smtp: {e}"))
    }
}

impl EmailNotifier {
    /// Builds the transport (no connection is made yet).
    pub fn new(settings: SmtpSettings) -> Result<Self, NotifyError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| NotifyError::Permanent(format!("sender {:?}: {e}", settings.from)))?;
        let builder = match settings.tls {
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
                    .map_err(smtp_error)?
            }
            SmtpTls::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host).map_err(smtp_error)?
            }
            SmtpTls::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            }
        };
        let mut builder = builder.port(settings.port).timeout(Some(settings.timeout));
        if let Some((user, password)) = &settings.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            from,
            transport: builder.build(),
            settings,
        })
    }

    /// The notifier of a configured `email` channel; `secret` resolves the password's
    /// environment variable. Another kind of channel is refused.
    pub fn from_channel(
        channel: &vigie_config::ChannelConfig,
        secret: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, NotifyError> {
        let vigie_config::ChannelKind::Email {
            host,
            port,
            tls,
            username,
            password,
            from,
            to,
        } = &channel.kind
        else {
            return Err(NotifyError::Permanent(format!(
                "channel {} is not an email channel",
                channel.id
            )));
        };
        let password = match password {
            None => None,
            Some(r) => Some(secret(&r.env).filter(|s| !s.is_empty()).ok_or_else(|| {
                NotifyError::Permanent(format!(
                    "channel {}: environment variable {} is not set",
                    channel.id, r.env
                ))
            })?),
        };
        Self::new(SmtpSettings {
            host: host.clone(),
            port: *port,
            tls: *tls,
            credentials: match (username, password) {
                (Some(u), Some(p)) => Some((u.clone(), p)),
                _ => None,
            },
            from: from.clone(),
            to: to.clone(),
            timeout: Duration::from_secs(20),
        })
    }

    /// Sends one e-mail that is not an alert (a digest): `multipart/alternative` with `text`
    /// and `html`, to `to` (the channel's fixed recipients are not added).
    pub async fn send_mail(
        &self,
        subject: &str,
        to: &[String],
        text: &str,
        html: &str,
    ) -> Result<(), NotifyError> {
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .subject(subject);
        for address in to {
            let mailbox: Mailbox = address
                .parse()
                .map_err(|e| NotifyError::Permanent(format!("recipient {address:?}: {e}")))?;
            builder = builder.to(mailbox);
        }
        if to.is_empty() {
            return Err(NotifyError::Permanent("no recipient".into()));
        }
        let email = builder
            .multipart(MultiPart::alternative_plain_html(
                text.to_owned(),
                html.to_owned(),
            ))
            .map_err(|e| NotifyError::Permanent(format!("e-mail: {e}")))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(smtp_error)
    }

    /// The e-mail for a message (exposed for tests and previews).
    pub fn build_email(
        &self,
        message: &Message,
        to: &Recipient,
    ) -> Result<lettre::Message, NotifyError> {
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .subject(message.title());
        let mut any = false;
        for address in to.email.iter().chain(self.settings.to.iter()) {
            let mailbox: Mailbox = address
                .parse()
                .map_err(|e| NotifyError::Permanent(format!("recipient {address:?}: {e}")))?;
            builder = builder.to(mailbox);
            any = true;
        }
        if !any {
            return Err(NotifyError::Permanent(
                "no e-mail address for this recipient".into(),
            ));
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                message.text(),
                message.html(),
            ))
            .map_err(|e| NotifyError::Permanent(format!("e-mail: {e}")))
    }
}

#[async_trait]
impl Notifier for EmailNotifier {
    fn kind(&self) -> &'static str {
        "email"
    }

    async fn send(&self, message: &Message, to: &Recipient) -> Result<(), NotifyError> {
        let email = self.build_email(message, to)?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(smtp_error)
    }

    async fn healthcheck(&self) -> Result<(), NotifyError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(NotifyError::Retryable(format!(
                "smtp {}:{} did not answer NOOP",
                self.settings.host, self.settings.port
            ))),
            Err(e) => Err(smtp_error(e)),
        }
    }
}
