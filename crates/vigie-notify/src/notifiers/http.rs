//! Notifiers that POST to an HTTP endpoint: generic webhook, Slack, Mattermost, Microsoft
//! Teams and ntfy. Each builds the payload format its receiver documents.

use crate::notifiers::{Notifier, Recipient};
use crate::sign::sign_hex;
use crate::{Message, NotifyError};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::time::Duration;
use vigie_model::CrisisLevel;

/// Which receiver format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flavor {
    /// Generic JSON, HMAC-signed.
    Webhook,
    /// Slack incoming webhook.
    Slack,
    /// Mattermost incoming webhook.
    Mattermost,
    /// Microsoft Teams incoming webhook (Workflows / connector), Adaptive Card.
    Teams,
    /// ntfy server; `topic` is used when the recipient has none.
    Ntfy {
        /// Default topic.
        topic: Option<String>,
    },
}

/// The signature header of the generic webhook: `sha256=<hex HMAC-SHA256(secret, body)>`.
pub const SIGNATURE_HEADER: &str = "x-vigie-signature";
/// The event header of the generic webhook.
pub const EVENT_HEADER: &str = "x-vigie-event";

/// One HTTP endpoint.
pub struct HttpNotifier {
    flavor: Flavor,
    url: String,
    secret: Option<String>,
    token: Option<String>,
    client: reqwest::Client,
}

impl std::fmt::Debug for HttpNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpNotifier")
            .field("flavor", &self.flavor)
            .field("url", &self.url)
            .field("signed", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

fn color(level: CrisisLevel) -> &'static str {
    match level {
        CrisisLevel::Calm => "#2e7d32",
        CrisisLevel::Vigilance => "#f9a825",
        CrisisLevel::Alert => "#ef6c00",
        CrisisLevel::Crisis => "#c62828",
    }
}

impl HttpNotifier {
    /// A notifier posting to `url` (10 s timeout per attempt).
    pub fn new(
        flavor: Flavor,
        url: &str,
        secret: Option<String>,
        token: Option<String>,
    ) -> Result<Self, NotifyError> {
        // reqwest is built without a default crypto provider (see STACK.md); installing ring
        // twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("vigie/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| NotifyError::Permanent(format!("http client: {e}")))?;
        Ok(Self {
            flavor,
            url: url.trim_end_matches('/').to_owned(),
            secret,
            token,
            client,
        })
    }

    /// The JSON body sent to Slack, Mattermost, Teams or a generic webhook.
    pub fn payload(&self, m: &Message) -> Value {
        match self.flavor {
            Flavor::Webhook | Flavor::Ntfy { .. } => json!({
                "event": "vigie.notification",
                "title": m.title(),
                "text": m.text(),
                "message": m,
            }),
            Flavor::Slack => slack_payload(m),
            Flavor::Mattermost => mattermost_payload(m),
            Flavor::Teams => teams_payload(m),
        }
    }

    fn endpoint(&self, to: &Recipient) -> Result<String, NotifyError> {
        match &self.flavor {
            Flavor::Ntfy { topic } => {
                let topic = to.ntfy_topic.as_ref().or(topic.as_ref()).ok_or_else(|| {
                    NotifyError::Permanent("no ntfy topic for this recipient".into())
                })?;
                Ok(format!("{}/{topic}", self.url))
            }
            _ => Ok(self.url.clone()),
        }
    }
}

/// Maps an HTTP status to the outcome of an attempt.
pub(crate) fn classify(status: reqwest::StatusCode, body: &str) -> Result<(), NotifyError> {
    if status.is_success() {
        return Ok(());
    }
    let detail = format!(
        "HTTP {status}: {}",
        body.chars().take(200).collect::<String>()
    );
    if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
        Err(NotifyError::Retryable(detail))
    } else {
        Err(NotifyError::Permanent(detail))
    }
}

#[async_trait]
impl Notifier for HttpNotifier {
    fn kind(&self) -> &'static str {
        match self.flavor {
            Flavor::Webhook => "webhook",
            Flavor::Slack => "slack",
            Flavor::Mattermost => "mattermost",
            Flavor::Teams => "teams",
            Flavor::Ntfy { .. } => "ntfy",
        }
    }

    async fn send(&self, m: &Message, to: &Recipient) -> Result<(), NotifyError> {
        let url = self.endpoint(to)?;
        let request = match &self.flavor {
            Flavor::Ntfy { .. } => {
                let priority = match m.level {
                    CrisisLevel::Crisis => "5",
                    CrisisLevel::Alert => "4",
                    _ => "3",
                };
                let mut actions = Vec::new();
                if let Some(ack) = &m.ack_url {
                    actions.push(format!("view, {}, {ack}, clear=true", m.ack_label()));
                }
                actions.push(format!("view, {}, {}", m.open_label(), m.incident_url));
                let mut r = self
                    .client
                    .post(&url)
                    .header("Title", header_safe(&m.title()))
                    .header("Priority", priority)
                    .header("Tags", format!("rotating_light,level{}", m.level.as_u8()))
                    .header("Click", m.incident_url.clone())
                    .header("Actions", header_safe(&actions.join("; ")))
                    .body(m.text());
                if let Some(token) = &self.token {
                    r = r.bearer_auth(token);
                }
                r
            }
            _ => {
                let body = serde_json::to_vec(&self.payload(m))
                    .map_err(|e| NotifyError::Permanent(format!("payload: {e}")))?;
                let mut r = self
                    .client
                    .post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json");
                if self.flavor == Flavor::Webhook {
                    r = r.header(EVENT_HEADER, "notification");
                    if let Some(secret) = &self.secret {
                        r = r.header(
                            SIGNATURE_HEADER,
                            format!("sha256={}", sign_hex(secret.as_bytes(), &body)),
                        );
                    }
                }
                r.body(body)
            }
        };
        let response = request.send().await.map_err(|e| {
            NotifyError::Retryable(format!("{}: {}", endpoint(&url), e.without_url()))
        })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        classify(status, &text)
    }

    async fn healthcheck(&self) -> Result<(), NotifyError> {
        // Webhooks rarely accept GET, so a 4xx answer (405, 404, 400) still means the
        // endpoint is there; a 5xx answer means the receiver is broken right now.
        let response = self.client.get(&self.url).send().await.map_err(|e| {
            NotifyError::Retryable(format!("{}: {}", endpoint(&self.url), e.without_url()))
        })?;
        let status = response.status();
        if status.is_server_error() {
            return Err(NotifyError::Retryable(format!(
                "{}: HTTP {} to a GET",
                endpoint(&self.url),
                status.as_u16()
            )));
        }
        Ok(())
    }
}

/// The scheme and host of an endpoint, for errors: incoming-webhook URLs (Slack, Teams,
/// Mattermost) and ntfy topics carry their secret in the path, and errors are shown in the
/// API and the logs.
fn endpoint(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match u.host_str() {
            Some(host) => match u.port() {
                Some(port) => format!("{}://{host}:{port}/…", u.scheme()),
                None => format!("{}://{host}/…", u.scheme()),
            },
            None => "(endpoint)".to_owned(),
        },
        Err(_) => "(endpoint)".to_owned(),
    }
}

/// HTTP header values must be visible ASCII: other characters become `?`… except common
/// accented letters, which are folded (`é` → `e`), so French titles stay readable.
fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'É' | 'È' => 'E',
            'à' | 'â' => 'a',
            'ç' => 'c',
            'ô' => 'o',
            'î' | 'ï' => 'i',
            'ù' | 'û' => 'u',
            '—' => '-',
            '≈' => '~',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '?',
        })
        .collect()
}

fn slack_payload(m: &Message) -> Value {
    let mut figures = String::new();
    if !m.explanation.summary.is_empty() {
        figures.push_str(&format!("*{}*\n", m.explanation.summary));
    }
    for f in m.figures() {
        figures.push_str(&format!("• {f}\n"));
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": m.title(), "emoji": true}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": figures}}),
    ];
    let samples = m.samples();
    if !samples.is_empty() {
        blocks.push(json!({
            "type": "context",
            "elements": samples.iter().map(|s| json!({"type": "mrkdwn", "text": format!("> {s}")})).collect::<Vec<_>>(),
        }));
    }
    let mut buttons = Vec::new();
    if let Some(ack) = &m.ack_url {
        buttons.push(json!({
            "type": "button",
            "text": {"type": "plain_text", "text": m.ack_label()},
            "url": ack,
            "style": "danger",
            "action_id": "vigie_ack",
        }));
    }
    buttons.push(json!({
        "type": "button",
        "text": {"type": "plain_text", "text": m.open_label()},
        "url": m.incident_url,
        "action_id": "vigie_open",
    }));
    blocks.push(json!({"type": "actions", "elements": buttons}));
    json!({"text": m.title(), "blocks": blocks})
}

fn mattermost_payload(m: &Message) -> Value {
    let mut text = String::new();
    if !m.explanation.summary.is_empty() {
        text.push_str(&format!("**{}**\n", m.explanation.summary));
    }
    for f in m.figures() {
        text.push_str(&format!("- {f}\n"));
    }
    for s in m.samples() {
        text.push_str(&format!("> {s}\n"));
    }
    let mut links = Vec::new();
    if let Some(ack) = &m.ack_url {
        links.push(format!("[{}]({ack})", m.ack_label()));
    }
    links.push(format!("[{}]({})", m.open_label(), m.incident_url));
    text.push_str(&format!("\n{}", links.join(" · ")));
    json!({
        "username": "Vigie",
        "text": m.title(),
        "attachments": [{
            "fallback": m.text(),
            "color": color(m.level),
            "title": m.title(),
            "title_link": m.incident_url,
            "text": text,
            "fields": [
                {"short": true, "title": "Level", "value": m.level.to_string()},
                {"short": true, "title": "Watch", "value": format!("{}/{}", m.workspace, m.watch)},
            ],
        }],
    })
}

fn teams_payload(m: &Message) -> Value {
    let mut body = vec![json!({
        "type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": true,
        "color": if m.level >= CrisisLevel::Alert { "Attention" } else { "Warning" },
        "text": m.title(),
    })];
    if !m.explanation.summary.is_empty() {
        body.push(json!({"type": "TextBlock", "wrap": true, "text": m.explanation.summary}));
    }
    body.push(json!({
        "type": "FactSet",
        "facts": m.figures().iter().enumerate().map(|(i, f)| json!({"title": format!("{}.", i + 1), "value": f})).collect::<Vec<_>>(),
    }));
    for s in m.samples() {
        body.push(json!({"type": "TextBlock", "wrap": true, "isSubtle": true, "text": s}));
    }
    let mut actions = Vec::new();
    if let Some(ack) = &m.ack_url {
        actions.push(json!({"type": "Action.OpenUrl", "title": m.ack_label(), "url": ack, "style": "destructive"}));
    }
    actions.push(json!({"type": "Action.OpenUrl", "title": m.open_label(), "url": m.incident_url}));
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": actions,
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::message::tests::sample;
    use vigie_config::MessageLanguage;

    #[test]
    fn errors_name_the_host_never_the_secret_path() {
        assert_eq!(
            endpoint("https://hooks.slack.com/services/T000/B000/XXXXSECRET"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            endpoint("http://127.0.0.1:9/topic-secret"),
            "http://127.0.0.1:9/…"
        );
        assert_eq!(endpoint("not a url"), "(endpoint)");
    }

    #[tokio::test]
    async fn a_refused_connection_does_not_leak_the_url() {
        // Port 9 (discard) is closed on the test machines: the request fails to connect.
        let n = HttpNotifier::new(
            Flavor::Slack,
            "http://127.0.0.1:9/services/T000/B000/XXXXSECRET",
            None,
            None,
        )
        .unwrap();
        let err = n.healthcheck().await.unwrap_err().to_string();
        assert!(!err.contains("XXXXSECRET"), "{err}");
        assert!(err.contains("127.0.0.1:9"), "{err}");
    }

    #[test]
    fn payloads_follow_each_receivers_format() {
        let m = sample(MessageLanguage::En);
        let n = |f| HttpNotifier::new(f, "http://x", None, None).unwrap();
        let slack = n(Flavor::Slack).payload(&m);
        assert_eq!(slack["blocks"][0]["type"], "header");
        let actions = slack["blocks"].as_array().unwrap().last().unwrap();
        assert_eq!(actions["elements"][0]["url"], "http://vigie.test/ack/abc");
        let teams = n(Flavor::Teams).payload(&m);
        let card = &teams["attachments"][0]["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
        let mm = n(Flavor::Mattermost).payload(&m);
        assert!(
            mm["attachments"][0]["text"]
                .as_str()
                .unwrap()
                .contains("[Acknowledge](http://vigie.test/ack/abc)")
        );
        assert_eq!(mm["attachments"][0]["color"], "#c62828");
        assert_eq!(header_safe("Échéance ≈ é"), "Echeance ~ e");
    }

    #[test]
    fn statuses_are_classified() {
        assert!(classify(reqwest::StatusCode::OK, "").is_ok());
        assert!(
            classify(reqwest::StatusCode::INTERNAL_SERVER_ERROR, "")
                .unwrap_err()
                .is_retryable()
        );
        assert!(
            classify(reqwest::StatusCode::TOO_MANY_REQUESTS, "")
                .unwrap_err()
                .is_retryable()
        );
        assert!(
            !classify(reqwest::StatusCode::NOT_FOUND, "")
                .unwrap_err()
                .is_retryable()
        );
    }
}
