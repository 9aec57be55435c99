//! `[notify]`: who is told, on which channel, who is on call, and how alerts escalate.
//!
//! The raw structs mirror the TOML (`deny_unknown_fields`, spans kept for positioned errors);
//! [`validate_notify`] turns them into the typed [`NotifyConfig`] or reports every mistake.
//! The runtime (notifiers, rotations, escalation) lives in the `vigie-notify` crate; the file
//! format is described in `docs/notifications.md` and `docs/oncall.md`.

use crate::duration::parse_duration;
use crate::error::{ConfigError, ConfigErrorKind as Kind};
use crate::locate::Locator;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::time::Duration;
use toml::Spanned;

// ---------------------------------------------------------------------------------------
// Raw (as written)
// ---------------------------------------------------------------------------------------

/// `[notify]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotifyForSerialization {
    /// Base URL of this server as people reach it, used in acknowledgement links
    /// (default `http://127.0.0.1:8080`).
    #[serde(default)]
    pub public_url: Option<Spanned<String>>,
    /// Environment variable holding the key that signs acknowledgement links
    /// (default `VIGIE_ACK_SECRET`).
    #[serde(default)]
    pub ack_secret_env: Option<Spanned<String>>,
    /// How long an acknowledgement link stays valid (default `24h`).
    #[serde(default)]
    pub ack_link_ttl: Option<Spanned<String>>,
    /// A level reached again within this time of a notification for the same watch and
    /// level is not notified again (default `30m`).
    #[serde(default)]
    pub dedup_window: Option<Spanned<String>>,
    /// Deadline for the first public answer of an incident at level ≥ 2 (default `30m`).
    #[serde(default)]
    pub first_answer_sla: Option<Spanned<String>>,
    /// Escalate this long before the SLA deadline when nobody answered (default `5m`).
    #[serde(default)]
    pub sla_warning: Option<Spanned<String>>,
    /// Delivery retries.
    #[serde(default)]
    pub retry: RetryForSerialization,
    /// Channels (notifier instances).
    #[serde(default)]
    pub channels: Vec<ChannelForSerialization>,
    /// People who can be notified or be on call.
    #[serde(default)]
    pub people: Vec<PersonForSerialization>,
    /// On-call rotations.
    #[serde(default)]
    pub rotations: Vec<RotationForSerialization>,
    /// Escalation policies.
    #[serde(default)]
    pub policies: Vec<PolicyForSerialization>,
    /// Routing rules.
    #[serde(default)]
    pub routes: Vec<RouteForSerialization>,
}

/// `[notify.retry]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetryForSerialization {
    /// Attempts per delivery, first included (default 4).
    #[serde(default)]
    pub attempts: Option<Spanned<u32>>,
    /// Wait before the first retry; doubles each time (default `1s`).
    #[serde(default)]
    pub initial_backoff: Option<Spanned<String>>,
    /// Longest wait between two attempts (default `1m`).
    #[serde(default)]
    pub max_backoff: Option<Spanned<String>>,
}

/// `[[notify.channels]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelForSerialization {
    /// Slug naming the channel in routes and people.
    pub id: Spanned<String>,
    /// `webhook`, `slack`, `mattermost`, `teams`, `email`, `ntfy` or `log`.
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    /// Endpoint URL (webhook, slack, mattermost, teams, ntfy server).
    #[serde(default)]
    pub url: Option<Spanned<String>>,
    /// Environment variable holding the secret (webhook HMAC key, ntfy token, SMTP password).
    #[serde(default)]
    pub secret_env: Option<Spanned<String>>,
    /// SMTP server host (email).
    #[serde(default)]
    pub smtp_host: Option<Spanned<String>>,
    /// SMTP port (default 587 for starttls, 465 for tls, 25 for none).
    #[serde(default)]
    pub smtp_port: Option<Spanned<u16>>,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default)]
    pub tls: Option<Spanned<String>>,
    /// SMTP user name (email).
    #[serde(default)]
    pub username: Option<Spanned<String>>,
    /// Sender address (email), e.g. `Vigie <vigie@example.org>`.
    #[serde(default)]
    pub from: Option<Spanned<String>>,
    /// Recipients told on every message of this channel (email), besides people.
    #[serde(default)]
    pub to: Vec<Spanned<String>>,
    /// Topic (ntfy) when the message is not for one person.
    #[serde(default)]
    pub topic: Option<Spanned<String>>,
}

/// `[[notify.people]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersonForSerialization {
    /// Slug.
    pub id: Spanned<String>,
    /// Display name.
    pub name: Spanned<String>,
    /// `fr` or `en` (default `en`): language of their messages.
    #[serde(default)]
    pub language: Option<Spanned<String>>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<Spanned<String>>,
    /// ntfy topic of their phone.
    #[serde(default)]
    pub ntfy_topic: Option<Spanned<String>>,
    /// Channels used to reach them personally (escalation).
    #[serde(default)]
    pub channels: Vec<Spanned<String>>,
    /// Their Vigie login (default: the person's id): links the functional roles a login
    /// holds (`[workspaces] responsibilities`) to the person to notify.
    #[serde(default)]
    pub login: Option<Spanned<String>>,
}

/// `[[notify.rotations]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotationForSerialization {
    /// Slug.
    pub id: Spanned<String>,
    /// IANA time zone of the hand-off, e.g. `Europe/Paris`.
    pub time_zone: Spanned<String>,
    /// `daily` or `weekly`.
    pub every: Spanned<String>,
    /// Local hand-off time, `HH:MM`.
    pub handoff: Spanned<String>,
    /// Weekday of the hand-off for weekly rotations (default `monday`).
    #[serde(default)]
    pub handoff_day: Option<Spanned<String>>,
    /// First day of the rotation (`YYYY-MM-DD`): the first member starts at its hand-off.
    pub start: Spanned<String>,
    /// People, in turn order.
    pub members: Vec<Spanned<String>>,
    /// Holidays and swaps.
    #[serde(default)]
    pub overrides: Vec<OverrideForSerialization>,
}

/// `[[notify.rotations.overrides]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OverrideForSerialization {
    /// Start (RFC 3339).
    pub from: Spanned<String>,
    /// End, excluded (RFC 3339).
    pub until: Spanned<String>,
    /// Who is on call instead.
    pub person: Spanned<String>,
    /// Why (holiday, swap…).
    #[serde(default)]
    pub reason: Option<String>,
}

/// `[[notify.policies]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyForSerialization {
    /// Slug.
    pub id: Spanned<String>,
    /// Rounds through all steps before giving up (default 3).
    #[serde(default)]
    pub rounds: Option<Spanned<u32>>,
    /// Steps, in order.
    pub steps: Vec<StepForSerialization>,
}

/// `[[notify.policies.steps]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepForSerialization {
    /// `rotation:<id>` or `person:<id>`.
    pub targets: Vec<Spanned<String>>,
    /// Wait for an acknowledgement this long before the next step (default `10m`).
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
}

/// `[[notify.routes]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteForSerialization {
    /// Only this workspace (default: all).
    #[serde(default)]
    pub workspace: Option<Spanned<String>>,
    /// Only this watch (default: all).
    #[serde(default)]
    pub watch: Option<Spanned<String>>,
    /// Lowest level that matches, 1 to 3 (default 1).
    #[serde(default)]
    pub min_level: Option<Spanned<u8>>,
    /// Channels told (broadcast).
    #[serde(default)]
    pub channels: Vec<Spanned<String>>,
    /// Escalation policy started for matching incidents.
    #[serde(default)]
    pub policy: Option<Spanned<String>>,
    /// Quiet hours (a level-3 crisis is still told).
    #[serde(default)]
    pub quiet_hours: Option<QuietForSerialization>,
}

/// `quiet_hours = { start, end, time_zone }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuietForSerialization {
    /// Local start, `HH:MM`.
    pub start: Spanned<String>,
    /// Local end, `HH:MM` (may be after midnight).
    pub end: Spanned<String>,
    /// IANA time zone.
    pub time_zone: Spanned<String>,
}

// ---------------------------------------------------------------------------------------
// Typed
// ---------------------------------------------------------------------------------------

/// The validated `[notify]` section. Empty (no channel, no route) when the file has none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotifyConfig {
    /// Base URL used in acknowledgement links, without a trailing slash.
    pub public_url: String,
    /// Environment variable holding the acknowledgement link key.
    pub ack_secret_env: String,
    /// Validity of an acknowledgement link.
    #[serde(serialize_with = "ser_duration")]
    pub ack_link_ttl: Duration,
    /// De-duplication window for the same watch and level.
    #[serde(serialize_with = "ser_duration")]
    pub dedup_window: Duration,
    /// Deadline of the first public answer (incidents at level ≥ 2).
    #[serde(serialize_with = "ser_duration")]
    pub first_answer_sla: Duration,
    /// Escalate this long before the SLA deadline.
    #[serde(serialize_with = "ser_duration")]
    pub sla_warning: Duration,
    /// Retries.
    pub retry: RetryConfig,
    /// Channels.
    pub channels: Vec<ChannelConfig>,
    /// People.
    pub people: Vec<PersonConfig>,
    /// Rotations.
    pub rotations: Vec<RotationConfig>,
    /// Escalation policies.
    pub policies: Vec<PolicyConfig>,
    /// Routes, in file order.
    pub routes: Vec<RouteConfig>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            ack_secret_env: "VIGIE_ACK_SECRET".into(),
            ack_link_ttl: Duration::from_secs(24 * 3600),
            dedup_window: Duration::from_secs(30 * 60),
            first_answer_sla: Duration::from_secs(30 * 60),
            sla_warning: Duration::from_secs(5 * 60),
            retry: RetryConfig::default(),
            channels: Vec::new(),
            people: Vec::new(),
            rotations: Vec::new(),
            policies: Vec::new(),
            routes: Vec::new(),
        }
    }
}

impl NotifyConfig {
    /// `true` when the file has no `[notify]` settings (all defaults).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The channel with this id.
    pub fn channel(&self, id: &str) -> Option<&ChannelConfig> {
        self.channels.iter().find(|c| c.id == id)
    }
    /// The person with this id.
    pub fn person(&self, id: &str) -> Option<&PersonConfig> {
        self.people.iter().find(|p| p.id == id)
    }
    /// The rotation with this id.
    pub fn rotation(&self, id: &str) -> Option<&RotationConfig> {
        self.rotations.iter().find(|r| r.id == id)
    }
    /// The policy with this id.
    pub fn policy(&self, id: &str) -> Option<&PolicyConfig> {
        self.policies.iter().find(|p| p.id == id)
    }
}

/// Delivery retries: exponential backoff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryConfig {
    /// Attempts, the first included (≥ 1).
    pub attempts: u32,
    /// Wait before the first retry.
    #[serde(serialize_with = "ser_duration")]
    pub initial_backoff: Duration,
    /// Cap on the wait.
    #[serde(serialize_with = "ser_duration")]
    pub max_backoff: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            attempts: 4,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// A secret named by the environment variable that holds it (never the value itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretRef {
    /// The environment variable.
    pub env: String,
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required).
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption (local relays and tests only).
    None,
}

/// What a channel is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChannelKind {
    /// Generic JSON webhook, HMAC-SHA256 signed when a secret is set.
    Webhook {
        /// Endpoint.
        url: String,
        /// Signing key.
        secret: Option<SecretRef>,
    },
    /// Slack incoming webhook (Block Kit).
    Slack {
        /// Webhook URL.
        url: String,
    },
    /// Mattermost incoming webhook (attachments).
    Mattermost {
        /// Webhook URL.
        url: String,
    },
    /// Microsoft Teams incoming webhook (Adaptive Card).
    Teams {
        /// Webhook URL.
        url: String,
    },
    /// E-mail over SMTP.
    Email {
        /// Server host.
        host: String,
        /// Server port.
        port: u16,
        /// Transport security.
        tls: SmtpTls,
        /// User name, if the server needs authentication.
        username: Option<String>,
        /// Password.
        password: Option<SecretRef>,
        /// Sender.
        from: String,
        /// Fixed recipients.
        to: Vec<String>,
    },
    /// ntfy-style push (`POST {url}/{topic}`).
    Ntfy {
        /// Server base URL.
        url: String,
        /// Default topic.
        topic: Option<String>,
        /// Access token.
        token: Option<SecretRef>,
    },
    /// Writes the message to the log (always available).
    Log,
}

impl ChannelKind {
    /// `webhook`, `slack`, … as in the file.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Webhook { .. } => "webhook",
            Self::Slack { .. } => "slack",
            Self::Mattermost { .. } => "mattermost",
            Self::Teams { .. } => "teams",
            Self::Email { .. } => "email",
            Self::Ntfy { .. } => "ntfy",
            Self::Log => "log",
        }
    }
}

/// A channel (one notifier instance).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelConfig {
    /// Slug.
    pub id: String,
    /// Kind and settings.
    pub kind: ChannelKind,
}

/// Language of a person's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageLanguage {
    /// English.
    #[default]
    En,
    /// French.
    Fr,
}

/// Someone who can be told or be on call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonConfig {
    /// Slug.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Language of their messages.
    pub language: MessageLanguage,
    /// E-mail address.
    pub email: Option<String>,
    /// ntfy topic.
    pub ntfy_topic: Option<String>,
    /// Channels that reach them personally.
    pub channels: Vec<String>,
    /// Their Vigie login (the person's id unless `login` is given).
    pub login: String,
}

/// How often the turn changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RotationEvery {
    /// Every day at the hand-off time.
    Daily,
    /// Every week on the hand-off day at the hand-off time.
    Weekly,
}

/// A replacement on call for a period (holiday, swap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverrideConfig {
    /// Start (included).
    pub from: DateTime<Utc>,
    /// End (excluded).
    pub until: DateTime<Utc>,
    /// Who is on call instead.
    pub person: String,
    /// Why.
    pub reason: Option<String>,
}

/// An on-call rotation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RotationConfig {
    /// Slug.
    pub id: String,
    /// Time zone of the hand-off.
    #[serde(serialize_with = "ser_tz")]
    pub time_zone: chrono_tz::Tz,
    /// Daily or weekly.
    pub every: RotationEvery,
    /// Local hand-off time.
    pub handoff: NaiveTime,
    /// Hand-off weekday (weekly).
    #[serde(serialize_with = "ser_weekday")]
    pub handoff_day: Weekday,
    /// First day.
    pub start: NaiveDate,
    /// People in turn order (at least one).
    pub members: Vec<String>,
    /// Overrides, in file order (the last matching one wins).
    pub overrides: Vec<OverrideConfig>,
}

fn ser_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::duration::format_duration(*d))
}

pub(crate) fn ser_tz<S: serde::Serializer>(tz: &chrono_tz::Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

pub(crate) fn ser_weekday<S: serde::Serializer>(d: &Weekday, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

/// Whom a step notifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Whoever is on call in the rotation at that time.
    Rotation(String),
    /// A named person.
    Person(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rotation(id) => write!(f, "rotation:{id}"),
            Self::Person(id) => write!(f, "person:{id}"),
        }
    }
}

/// One escalation step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepConfig {
    /// Who is notified.
    pub targets: Vec<Target>,
    /// Wait this long for an acknowledgement before the next step.
    #[serde(serialize_with = "ser_duration")]
    pub timeout: Duration,
}

/// An escalation policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyConfig {
    /// Slug.
    pub id: String,
    /// Rounds through all steps before giving up (≥ 1).
    pub rounds: u32,
    /// Steps (at least one).
    pub steps: Vec<StepConfig>,
}

/// Quiet hours of a route.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuietHours {
    /// Local start.
    pub start: NaiveTime,
    /// Local end (may be earlier than start: spans midnight).
    pub end: NaiveTime,
    /// Time zone.
    #[serde(serialize_with = "ser_tz")]
    pub time_zone: chrono_tz::Tz,
}

/// A routing rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteConfig {
    /// Only this workspace.
    pub workspace: Option<String>,
    /// Only this watch.
    pub watch: Option<String>,
    /// Lowest matching level (1–3).
    pub min_level: u8,
    /// Channels told.
    pub channels: Vec<String>,
    /// Escalation policy.
    pub policy: Option<String>,
    /// Quiet hours.
    pub quiet_hours: Option<QuietHours>,
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

struct V<'a, 'i> {
    loc: &'a Locator<'i>,
    errors: &'a mut Vec<ConfigError>,
}

impl V<'_, '_> {
    fn push(&mut self, span: Range<usize>, path: &str, kind: Kind, message: String) {
        self.errors
            .push(self.loc.error(span, path.to_owned(), kind, message));
    }

    fn duration(
        &mut self,
        raw: &Option<Spanned<String>>,
        path: &str,
        default: Duration,
    ) -> Duration {
        let Some(raw) = raw else { return default };
        match parse_duration(raw.get_ref()) {
            Ok(d) if !d.is_zero() => d,
            Ok(_) => {
                self.push(
                    raw.span(),
                    path,
                    Kind::Duration,
                    "must be longer than 0s".into(),
                );
                default
            }
            Err(e) => {
                self.push(raw.span(), path, Kind::Duration, e.to_string());
                default
            }
        }
    }

    fn slug(
        &mut self,
        raw: &Spanned<String>,
        path: &str,
        seen: &mut HashSet<String>,
        what: &str,
    ) -> String {
        let s = raw.get_ref().clone();
        if vigie_model::WatchId::new(s.clone()).is_err() {
            self.push(
                raw.span(),
                path,
                Kind::Id,
                format!(
                    "invalid {what} id {s:?}: use 1 to 64 lowercase letters, digits, '-' or '_'"
                ),
            );
        } else if !seen.insert(s.clone()) {
            self.push(
                raw.span(),
                path,
                Kind::Duplicate,
                format!("{what} id {s:?} is used twice"),
            );
        }
        s
    }

    fn tz(&mut self, raw: &Spanned<String>, path: &str) -> chrono_tz::Tz {
        raw.get_ref()
            .trim()
            .parse::<chrono_tz::Tz>()
            .unwrap_or_else(|_| {
                self.push(
                    raw.span(),
                    path,
                    Kind::Value,
                    format!(
                        "unknown time zone {:?}: use an IANA name such as \"Europe/Paris\"",
                        raw.get_ref()
                    ),
                );
                chrono_tz::UTC
            })
    }

    fn time(&mut self, raw: &Spanned<String>, path: &str) -> NaiveTime {
        NaiveTime::parse_from_str(raw.get_ref().trim(), "%H:%M").unwrap_or_else(|_| {
            self.push(
                raw.span(),
                path,
                Kind::Value,
                format!(
                    "invalid time {:?}: expected HH:MM, e.g. \"09:00\"",
                    raw.get_ref()
                ),
            );
            NaiveTime::MIN
        })
    }

    fn reference(
        &mut self,
        raw: &Spanned<String>,
        path: &str,
        known: &HashSet<String>,
        what: &str,
    ) {
        if !known.contains(raw.get_ref()) {
            let mut names: Vec<&String> = known.iter().collect();
            names.sort();
            self.push(
                raw.span(),
                path,
                Kind::Value,
                format!("unknown {what} {:?} (known: {names:?})", raw.get_ref()),
            );
        }
    }

    fn url(&mut self, raw: &Option<Spanned<String>>, span: Range<usize>, path: &str) -> String {
        match raw {
            Some(u)
                if u.get_ref().starts_with("http://") || u.get_ref().starts_with("https://") =>
            {
                u.get_ref().trim_end_matches('/').to_owned()
            }
            Some(u) => {
                self.push(
                    u.span(),
                    path,
                    Kind::Value,
                    format!(
                        "invalid URL {:?}: expected http:// or https://",
                        u.get_ref()
                    ),
                );
                String::new()
            }
            None => {
                self.push(span, path, Kind::Schema, "missing field `url`".into());
                String::new()
            }
        }
    }
}

/// Validates `[notify]`, adding every mistake to `errors` (positioned) and returning the
/// typed section (meaningful only when no error was added).
pub(crate) fn validate_notify(
    raw: &NotifyForSerialization,
    loc: &Locator<'_>,
    errors: &mut Vec<ConfigError>,
) -> NotifyConfig {
    let mut v = V { loc, errors };
    let d = NotifyConfig::default();
    let public_url = match &raw.public_url {
        Some(u) => v.url(&Some(u.clone()), u.span(), "notify.public_url"),
        None => d.public_url.clone(),
    };
    let ack_secret_env = raw
        .ack_secret_env
        .as_ref()
        .map_or(d.ack_secret_env.clone(), |s| s.get_ref().clone());
    let ack_link_ttl = v.duration(&raw.ack_link_ttl, "notify.ack_link_ttl", d.ack_link_ttl);
    let dedup_window = v.duration(&raw.dedup_window, "notify.dedup_window", d.dedup_window);
    let first_answer_sla = v.duration(
        &raw.first_answer_sla,
        "notify.first_answer_sla",
        d.first_answer_sla,
    );
    let sla_warning = v.duration(&raw.sla_warning, "notify.sla_warning", d.sla_warning);
    if sla_warning >= first_answer_sla
        && let Some(w) = &raw.sla_warning
    {
        v.push(
            w.span(),
            "notify.sla_warning",
            Kind::Value,
            "sla_warning must be shorter than first_answer_sla".into(),
        );
    }
    let retry = RetryConfig {
        attempts: match &raw.retry.attempts {
            Some(a) if *a.get_ref() == 0 => {
                v.push(
                    a.span(),
                    "notify.retry.attempts",
                    Kind::Value,
                    "attempts must be at least 1".into(),
                );
                1
            }
            Some(a) => *a.get_ref(),
            None => d.retry.attempts,
        },
        initial_backoff: v.duration(
            &raw.retry.initial_backoff,
            "notify.retry.initial_backoff",
            d.retry.initial_backoff,
        ),
        max_backoff: v.duration(
            &raw.retry.max_backoff,
            "notify.retry.max_backoff",
            d.retry.max_backoff,
        ),
    };

    let mut channel_ids = HashSet::new();
    let mut channels = Vec::new();
    for (i, c) in raw.channels.iter().enumerate() {
        let path = format!("notify.channels[{i}]");
        let id = v.slug(&c.id, &format!("{path}.id"), &mut channel_ids, "channel");
        let secret = c.secret_env.as_ref().map(|s| SecretRef {
            env: s.get_ref().clone(),
        });
        let kind = match c.kind.get_ref().as_str() {
            "webhook" => ChannelKind::Webhook {
                url: v.url(&c.url, c.id.span(), &format!("{path}.url")),
                secret,
            },
            "slack" => ChannelKind::Slack {
                url: v.url(&c.url, c.id.span(), &format!("{path}.url")),
            },
            "mattermost" => ChannelKind::Mattermost {
                url: v.url(&c.url, c.id.span(), &format!("{path}.url")),
            },
            "teams" => ChannelKind::Teams {
                url: v.url(&c.url, c.id.span(), &format!("{path}.url")),
            },
            "ntfy" => ChannelKind::Ntfy {
                url: v.url(&c.url, c.id.span(), &format!("{path}.url")),
                topic: c.topic.as_ref().map(|t| t.get_ref().clone()),
                token: secret,
            },
            "log" => ChannelKind::Log,
            "email" => {
                let tls = match c.tls.as_ref().map(|t| t.get_ref().as_str()) {
                    None | Some("starttls") => SmtpTls::Starttls,
                    Some("tls") => SmtpTls::Tls,
                    Some("none") => SmtpTls::None,
                    Some(other) => {
                        if let Some(t) = &c.tls {
                            v.push(t.span(), &format!("{path}.tls"), Kind::Value, format!("unknown tls mode {other:?}: use \"starttls\", \"tls\" or \"none\""));
                        }
                        SmtpTls::Starttls
                    }
                };
                let host = match &c.smtp_host {
                    Some(h) if !h.get_ref().trim().is_empty() => h.get_ref().trim().to_owned(),
                    _ => {
                        v.push(
                            c.id.span(),
                            &format!("{path}.smtp_host"),
                            Kind::Schema,
                            "an email channel needs smtp_host".into(),
                        );
                        String::new()
                    }
                };
                let from = match &c.from {
                    Some(f) if f.get_ref().contains('@') => f.get_ref().clone(),
                    Some(f) => {
                        v.push(
                            f.span(),
                            &format!("{path}.from"),
                            Kind::Value,
                            format!("invalid sender {:?}: expected an address", f.get_ref()),
                        );
                        String::new()
                    }
                    None => {
                        v.push(
                            c.id.span(),
                            &format!("{path}.from"),
                            Kind::Schema,
                            "an email channel needs from".into(),
                        );
                        String::new()
                    }
                };
                for (j, t) in c.to.iter().enumerate() {
                    if !t.get_ref().contains('@') {
                        v.push(
                            t.span(),
                            &format!("{path}.to[{j}]"),
                            Kind::Value,
                            format!("invalid address {:?}", t.get_ref()),
                        );
                    }
                }
                ChannelKind::Email {
                    host,
                    port: c.smtp_port.as_ref().map_or(
                        match tls {
                            SmtpTls::Starttls => 587,
                            SmtpTls::Tls => 465,
                            SmtpTls::None => 25,
                        },
                        |p| *p.get_ref(),
                    ),
                    tls,
                    username: c.username.as_ref().map(|u| u.get_ref().clone()),
                    password: secret,
                    from,
                    to: c.to.iter().map(|t| t.get_ref().clone()).collect(),
                }
            }
            other => {
                v.push(
                    c.kind.span(),
                    &format!("{path}.type"),
                    Kind::Value,
                    format!("unknown channel type {other:?}: use webhook, slack, mattermost, teams, email, ntfy or log"),
                );
                ChannelKind::Log
            }
        };
        channels.push(ChannelConfig { id, kind });
    }

    let mut person_ids = HashSet::new();
    let mut people = Vec::new();
    for (i, p) in raw.people.iter().enumerate() {
        let path = format!("notify.people[{i}]");
        let id = v.slug(&p.id, &format!("{path}.id"), &mut person_ids, "person");
        let language = match p.language.as_ref().map(|l| l.get_ref().as_str()) {
            None | Some("en") => MessageLanguage::En,
            Some("fr") => MessageLanguage::Fr,
            Some(other) => {
                if let Some(l) = &p.language {
                    v.push(
                        l.span(),
                        &format!("{path}.language"),
                        Kind::Language,
                        format!("unsupported message language {other:?}: use \"fr\" or \"en\""),
                    );
                }
                MessageLanguage::En
            }
        };
        for (j, c) in p.channels.iter().enumerate() {
            v.reference(c, &format!("{path}.channels[{j}]"), &channel_ids, "channel");
        }
        if let Some(e) = &p.email
            && !e.get_ref().contains('@')
        {
            v.push(
                e.span(),
                &format!("{path}.email"),
                Kind::Value,
                format!("invalid address {:?}", e.get_ref()),
            );
        }
        let login = match &p.login {
            Some(l) if l.get_ref().trim().is_empty() => {
                v.push(
                    l.span(),
                    &format!("{path}.login"),
                    Kind::Value,
                    "login must not be empty (leave it out to use the person's id)".into(),
                );
                String::new()
            }
            Some(l) => l.get_ref().trim().to_owned(),
            None => id.clone(),
        };
        people.push(PersonConfig {
            login,
            id,
            name: p.name.get_ref().clone(),
            language,
            email: p.email.as_ref().map(|e| e.get_ref().clone()),
            ntfy_topic: p.ntfy_topic.as_ref().map(|e| e.get_ref().clone()),
            channels: p.channels.iter().map(|c| c.get_ref().clone()).collect(),
        });
    }

    let mut rotation_ids = HashSet::new();
    let mut rotations = Vec::new();
    for (i, r) in raw.rotations.iter().enumerate() {
        let path = format!("notify.rotations[{i}]");
        let id = v.slug(&r.id, &format!("{path}.id"), &mut rotation_ids, "rotation");
        let time_zone = v.tz(&r.time_zone, &format!("{path}.time_zone"));
        let every = match r.every.get_ref().as_str() {
            "daily" => RotationEvery::Daily,
            "weekly" => RotationEvery::Weekly,
            other => {
                v.push(
                    r.every.span(),
                    &format!("{path}.every"),
                    Kind::Value,
                    format!("unknown period {other:?}: use \"daily\" or \"weekly\""),
                );
                RotationEvery::Daily
            }
        };
        let handoff = v.time(&r.handoff, &format!("{path}.handoff"));
        let handoff_day = match &r.handoff_day {
            None => Weekday::Mon,
            Some(d) => d.get_ref().parse::<Weekday>().unwrap_or_else(|_| {
                v.push(
                    d.span(),
                    &format!("{path}.handoff_day"),
                    Kind::Value,
                    format!("unknown weekday {:?}: use e.g. \"monday\"", d.get_ref()),
                );
                Weekday::Mon
            }),
        };
        let start =
            NaiveDate::parse_from_str(r.start.get_ref().trim(), "%Y-%m-%d").unwrap_or_else(|_| {
                v.push(
                    r.start.span(),
                    &format!("{path}.start"),
                    Kind::Value,
                    format!("invalid date {:?}: expected YYYY-MM-DD", r.start.get_ref()),
                );
                NaiveDate::MIN
            });
        if r.members.is_empty() {
            v.push(
                r.id.span(),
                &format!("{path}.members"),
                Kind::Value,
                "a rotation needs at least one member".into(),
            );
        }
        for (j, m) in r.members.iter().enumerate() {
            v.reference(m, &format!("{path}.members[{j}]"), &person_ids, "person");
        }
        let mut overrides = Vec::new();
        for (j, o) in r.overrides.iter().enumerate() {
            let opath = format!("{path}.overrides[{j}]");
            let mut instant = |s: &Spanned<String>, field: &str| {
                DateTime::parse_from_rfc3339(s.get_ref().trim())
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|_| {
                        v.push(s.span(), &format!("{opath}.{field}"), Kind::Value, format!("invalid date-time {:?}: expected RFC 3339, e.g. 2026-12-24T18:00:00+01:00", s.get_ref()));
                    })
                    .ok()
            };
            let from = instant(&o.from, "from");
            let until = instant(&o.until, "until");
            v.reference(&o.person, &format!("{opath}.person"), &person_ids, "person");
            if let (Some(from), Some(until)) = (from, until) {
                if until <= from {
                    v.push(
                        o.until.span(),
                        &format!("{opath}.until"),
                        Kind::Value,
                        "until must be after from".into(),
                    );
                }
                overrides.push(OverrideConfig {
                    from,
                    until,
                    person: o.person.get_ref().clone(),
                    reason: o.reason.clone(),
                });
            }
        }
        rotations.push(RotationConfig {
            id,
            time_zone,
            every,
            handoff,
            handoff_day,
            start,
            members: r.members.iter().map(|m| m.get_ref().clone()).collect(),
            overrides,
        });
    }

    let mut policy_ids = HashSet::new();
    let mut policies = Vec::new();
    for (i, p) in raw.policies.iter().enumerate() {
        let path = format!("notify.policies[{i}]");
        let id = v.slug(&p.id, &format!("{path}.id"), &mut policy_ids, "policy");
        if p.steps.is_empty() {
            v.push(
                p.id.span(),
                &format!("{path}.steps"),
                Kind::Value,
                "a policy needs at least one step".into(),
            );
        }
        let rounds = match &p.rounds {
            Some(r) if *r.get_ref() == 0 => {
                v.push(
                    r.span(),
                    &format!("{path}.rounds"),
                    Kind::Value,
                    "rounds must be at least 1".into(),
                );
                1
            }
            Some(r) => *r.get_ref(),
            None => 3,
        };
        let mut steps = Vec::new();
        for (j, s) in p.steps.iter().enumerate() {
            let spath = format!("{path}.steps[{j}]");
            let mut targets = Vec::new();
            if s.targets.is_empty() {
                v.push(
                    p.id.span(),
                    &format!("{spath}.targets"),
                    Kind::Value,
                    "a step needs at least one target".into(),
                );
            }
            for (k, t) in s.targets.iter().enumerate() {
                let tpath = format!("{spath}.targets[{k}]");
                match t.get_ref().split_once(':') {
                    Some(("rotation", id)) => {
                        if !rotation_ids.contains(id) {
                            v.push(
                                t.span(),
                                &tpath,
                                Kind::Value,
                                format!("unknown rotation {id:?}"),
                            );
                        }
                        targets.push(Target::Rotation(id.to_owned()));
                    }
                    Some(("person", id)) => {
                        if !person_ids.contains(id) {
                            v.push(
                                t.span(),
                                &tpath,
                                Kind::Value,
                                format!("unknown person {id:?}"),
                            );
                        }
                        targets.push(Target::Person(id.to_owned()));
                    }
                    _ => v.push(
                        t.span(),
                        &tpath,
                        Kind::Value,
                        format!(
                            "invalid target {:?}: use \"rotation:<id>\" or \"person:<id>\"",
                            t.get_ref()
                        ),
                    ),
                }
            }
            let timeout = v.duration(
                &s.timeout,
                &format!("{spath}.timeout"),
                Duration::from_secs(600),
            );
            steps.push(StepConfig { targets, timeout });
        }
        policies.push(PolicyConfig { id, rounds, steps });
    }

    let mut routes = Vec::new();
    for (i, r) in raw.routes.iter().enumerate() {
        let path = format!("notify.routes[{i}]");
        let min_level = match &r.min_level {
            Some(l) if !(1..=3).contains(l.get_ref()) => {
                v.push(
                    l.span(),
                    &format!("{path}.min_level"),
                    Kind::Value,
                    "min_level must be 1, 2 or 3".into(),
                );
                1
            }
            Some(l) => *l.get_ref(),
            None => 1,
        };
        for (j, c) in r.channels.iter().enumerate() {
            v.reference(c, &format!("{path}.channels[{j}]"), &channel_ids, "channel");
        }
        if let Some(p) = &r.policy {
            v.reference(p, &format!("{path}.policy"), &policy_ids, "policy");
        }
        let quiet_hours = r.quiet_hours.as_ref().map(|q| QuietHours {
            start: v.time(&q.start, &format!("{path}.quiet_hours.start")),
            end: v.time(&q.end, &format!("{path}.quiet_hours.end")),
            time_zone: v.tz(&q.time_zone, &format!("{path}.quiet_hours.time_zone")),
        });
        routes.push(RouteConfig {
            workspace: r.workspace.as_ref().map(|w| w.get_ref().clone()),
            watch: r.watch.as_ref().map(|w| w.get_ref().clone()),
            min_level,
            channels: r.channels.iter().map(|c| c.get_ref().clone()).collect(),
            policy: r.policy.as_ref().map(|p| p.get_ref().clone()),
            quiet_hours,
        });
    }

    NotifyConfig {
        public_url,
        ack_secret_env,
        ack_link_ttl,
        dedup_window,
        first_answer_sla,
        sla_warning,
        retry,
        channels,
        people,
        rotations,
        policies,
        routes,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use crate::{ConfigErrorKind, parse};

    const HEAD: &str = "version = 1\n\n[[workspaces]]\nid = \"acme\"\nname = \"ACME\"\n\n";

    /// The example of `docs/notifications.md`.
    pub(crate) const EXAMPLE: &str = r#"
[notify]
public_url = "https://vigie.example.org/"
first_answer_sla = "20m"

[notify.retry]
attempts = 5
initial_backoff = "2s"

[[notify.channels]]
id = "ops-slack"
type = "slack"
url = "https://hooks.slack.com/services/T000/B000/XXXX"

[[notify.channels]]
id = "hook"
type = "webhook"
url = "https://example.org/vigie"
secret_env = "VIGIE_HOOK_SECRET"

[[notify.channels]]
id = "mail"
type = "email"
smtp_host = "smtp.example.org"
username = "vigie"
secret_env = "VIGIE_SMTP_PASSWORD"
from = "Vigie <vigie@example.org>"

[[notify.channels]]
id = "push"
type = "ntfy"
url = "https://ntfy.sh"

[[notify.people]]
id = "alice"
name = "Alice Martin"
language = "fr"
email = "alice@example.org"
ntfy_topic = "vigie-alice"
channels = ["mail", "push"]

[[notify.people]]
id = "bob"
name = "Bob Smith"
email = "bob@example.org"
channels = ["mail"]

[[notify.rotations]]
id = "community"
time_zone = "Europe/Paris"
every = "weekly"
handoff = "09:00"
handoff_day = "monday"
start = "2026-01-05"
members = ["alice", "bob"]

[[notify.rotations.overrides]]
from = "2026-12-24T18:00:00+01:00"
until = "2026-12-26T09:00:00+01:00"
person = "bob"
reason = "Christmas swap"

[[notify.policies]]
id = "default"
rounds = 3

[[notify.policies.steps]]
targets = ["rotation:community"]
timeout = "10m"

[[notify.policies.steps]]
targets = ["person:bob"]
timeout = "15m"

[[notify.routes]]
workspace = "acme"
min_level = 2
channels = ["ops-slack", "hook"]
policy = "default"
quiet_hours = { start = "22:00", end = "07:00", time_zone = "Europe/Paris" }
"#;

    #[test]
    fn a_full_notify_section_validates() {
        let config = parse(&format!("{HEAD}{EXAMPLE}"), "vigie.toml").unwrap();
        let n = &config.notify;
        assert_eq!(n.public_url, "https://vigie.example.org");
        assert_eq!(n.first_answer_sla.as_secs(), 1200);
        assert_eq!(n.retry.attempts, 5);
        assert_eq!(n.channels.len(), 4);
        assert!(matches!(
            n.channel("mail").unwrap().kind,
            super::ChannelKind::Email {
                port: 587,
                tls: super::SmtpTls::Starttls,
                ..
            }
        ));
        assert_eq!(
            n.person("alice").unwrap().language,
            super::MessageLanguage::Fr
        );
        let r = n.rotation("community").unwrap();
        assert_eq!(r.time_zone, chrono_tz::Europe::Paris);
        assert_eq!(r.overrides[0].person, "bob");
        assert_eq!(n.policy("default").unwrap().steps[1].timeout.as_secs(), 900);
        assert_eq!(n.routes[0].min_level, 2);
        // Durations serialize in the file's own form.
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["notify"]["first_answer_sla"], "20m");
    }

    #[test]
    fn notify_mistakes_are_positioned() {
        let src = format!(
            "{HEAD}[[notify.rotations]]\nid = \"r\"\ntime_zone = \"Europe/Pariss\"\nevery = \"daily\"\nhandoff = \"9h\"\nstart = \"2026-01-05\"\nmembers = [\"ghost\"]\n\n[[notify.routes]]\nchannels = [\"nope\"]\nmin_level = 4\n"
        );
        let errors = match parse(&src, "vigie.toml") {
            Ok(_) => panic!("expected errors"),
            Err(e) => e.into_vec(),
        };
        let find = |path: &str| {
            errors
                .iter()
                .find(|e| e.path == path)
                .unwrap_or_else(|| panic!("no error at {path}: {errors:#?}"))
        };
        let tz = find("notify.rotations[0].time_zone");
        assert_eq!((tz.line, tz.column), (9, 13));
        assert!(tz.message.contains("Europe/Pariss"));
        assert_eq!(find("notify.rotations[0].handoff").line, 11);
        assert_eq!(find("notify.rotations[0].members[0]").line, 13);
        assert_eq!(
            find("notify.routes[0].channels[0]").kind,
            ConfigErrorKind::Value
        );
        assert_eq!(find("notify.routes[0].min_level").line, 17);
        assert_eq!(errors.len(), 5, "{errors:#?}");
    }
}
