//! The typed, validated configuration that the rest of Vigie reads.

use crate::duration::format_duration;
use serde::{Serialize, Serializer};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use vigie_model::{DetectionSettings, WatchId, WorkspaceId};

/// The environment variable that overrides `storage.database` (see
/// [`StorageConfig::override_database`]).
pub const DATABASE_URL_ENV: &str = "VIGIE_DATABASE_URL";

/// A validated configuration. Build it with [`crate::load`], [`crate::parse`] or
/// [`Config::embedded_default`].
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// Format version of the file it came from (always 1 today).
    pub version: u32,
    /// Where data is kept.
    pub storage: StorageConfig,
    /// The HTTP server.
    pub server: ServerConfig,
    /// Detector settings shared by every watch.
    pub detection: DetectionSettings,
    /// Organizations or client brands, in file order.
    pub workspaces: Vec<WorkspaceConfig>,
    /// Notifications, on-call rotations and escalation (`[notify]`).
    #[serde(skip_serializing_if = "crate::notify::NotifyConfig::is_default")]
    pub notify: crate::notify::NotifyConfig,
}

impl Config {
    /// The workspace with this id.
    pub fn workspace(&self, id: &WorkspaceId) -> Option<&WorkspaceConfig> {
        self.workspaces.iter().find(|w| &w.id == id)
    }

    /// Applies the environment overrides: `VIGIE_DATABASE_URL`, when set and not empty,
    /// replaces `storage.database`.
    pub fn apply_env_overrides(&mut self) {
        self.storage
            .override_database(std::env::var(DATABASE_URL_ENV).ok());
    }
}

/// Which database backend a [`StorageConfig`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageBackend {
    /// A SQLite file (the default).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// `[storage]`: where data is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct StorageConfig {
    /// A SQLite file path (or `sqlite://` URL) or a `postgres://` URL, as given to
    /// `vigie_store::open_store`. May contain a password: print it with [`StorageConfig::redacted`].
    pub database: String,
}

impl StorageConfig {
    /// SQLite or PostgreSQL, from the form of `database`.
    pub fn backend(&self) -> StorageBackend {
        if is_postgres_url(&self.database) {
            StorageBackend::Postgres
        } else {
            StorageBackend::Sqlite
        }
    }

    /// Replaces `database` with `value` when it is `Some` and not blank (pass
    /// `std::env::var("VIGIE_DATABASE_URL").ok()`). Returns whether it did.
    pub fn override_database(&mut self, value: Option<String>) -> bool {
        match value {
            Some(v) if !v.trim().is_empty() => {
                self.database = v.trim().to_owned();
                true
            }
            _ => false,
        }
    }

    /// `database` with the password of a URL replaced by `***`, for logs and messages.
    pub fn redacted(&self) -> String {
        redact_url(&self.database)
    }
}

impl fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageConfig")
            .field("database", &self.redacted())
            .finish()
    }
}

impl Serialize for StorageConfig {
    /// Serialized with the password redacted: serialized configurations are for display.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("StorageConfig", 2)?;
        st.serialize_field("database", &self.redacted())?;
        st.serialize_field("backend", &self.backend())?;
        st.end()
    }
}

pub(crate) fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// A URL with the password of its user info replaced by `***`.
pub(crate) fn redact_url(target: &str) -> String {
    let Some(scheme_end) = target.find("://").map(|i| i + 3) else {
        return target.to_owned();
    };
    let rest = target.get(scheme_end..).unwrap_or_default();
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = rest.get(..authority_end).unwrap_or_default();
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = authority.get(..at).unwrap_or_default();
            match userinfo.split_once(':') {
                Some((user, _)) => format!(
                    "{}{user}:***{}",
                    target.get(..scheme_end).unwrap_or_default(),
                    rest.get(at..).unwrap_or_default()
                ),
                None => target.to_owned(),
            }
        }
        None => target.to_owned(),
    }
}

/// `[server]`: the HTTP server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerConfig {
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Largest accepted request body, in bytes. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Time allowed to answer one request. Default 30 s.
    #[serde(serialize_with = "serialize_duration")]
    pub request_timeout: Duration,
    /// How long a login session lasts. Default 12 hours.
    #[serde(serialize_with = "serialize_duration")]
    pub session_ttl: Duration,
    /// When cookies carry the `Secure` flag. Default [`SecureCookies::Auto`].
    pub secure_cookies: SecureCookies,
    /// Failed logins per login name within the window before every attempt is refused
    /// (429) until the window ends. Default 5.
    pub login_max_failures: u32,
    /// Failed logins per client address (whatever the login names tried) within the
    /// window before refusing. Default 20.
    pub login_max_failures_per_address: u32,
    /// The window failed logins are counted in. Default 15 minutes.
    #[serde(serialize_with = "serialize_duration")]
    pub login_throttle_window: Duration,
    /// Reverse proxies whose `X-Forwarded-For` header names the client. Default loopback.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// `server.secure_cookies`: when the session and login cookies are marked `Secure` (sent
/// over HTTPS only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SecureCookies {
    /// Always, except for plain HTTP to a loopback host (`localhost`, `127.0.0.1`, `[::1]`),
    /// which browsers treat as a secure context: the demo and a laptop work, and any other
    /// plain-HTTP address cannot carry a session.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never (plain HTTP on a trusted network; sessions can then be sniffed).
    Never,
}

/// `[[workspaces]]`: one organization or client brand.
#[derive(Debug, Clone, Serialize)]
pub struct WorkspaceConfig {
    /// Slug.
    pub id: WorkspaceId,
    /// Display name.
    pub name: String,
    /// Monitoring targets, in file order.
    pub watches: Vec<WatchConfig>,
    /// Where mentions come from, in file order.
    pub sources: Vec<SourceConfig>,
    /// Functional roles of the crisis organisation (`legal`, `ceo`, `head_of_communication`…)
    /// → the logins that hold them. Scenarios name these roles as approvers, task owners and
    /// spokespeople; the server grants them from here, never from what a client claims.
    pub responsibilities: std::collections::BTreeMap<String, Vec<String>>,
    /// Policy (charte) terms of this workspace, added to the built-in rules.
    pub policy: crate::WorkspacePolicyConfig,
    /// Accounts replies and statements are published with.
    pub publish_accounts: Vec<crate::PublishAccountConfig>,
    /// Digest e-mails for calm periods (at most one daily and one weekly).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub digests: Vec<crate::DigestConfig>,
}

impl WorkspaceConfig {
    /// The functional roles `login` holds in this workspace, sorted.
    pub fn responsibilities_of(&self, login: &str) -> Vec<String> {
        self.responsibilities
            .iter()
            .filter(|(_, logins)| logins.iter().any(|l| l == login))
            .map(|(role, _)| role.clone())
            .collect()
    }

    /// The watch with this id.
    pub fn watch(&self, id: &WatchId) -> Option<&WatchConfig> {
        self.watches.iter().find(|w| &w.id == id)
    }
}

/// `[[workspaces.watches]]`: a named monitoring target.
#[derive(Debug, Clone, Serialize)]
pub struct WatchConfig {
    /// Slug, unique in its workspace.
    pub id: WatchId,
    /// Display name.
    pub name: String,
    /// The parsed boolean query (`query.source()` is the text as written; it serializes as
    /// that text).
    #[serde(serialize_with = "serialize_query")]
    pub query: vigie_query::Query,
    /// ISO 639-1 codes, lowercase; empty means every language.
    pub languages: Vec<String>,
    /// The organization's own handles: lowercase, without a leading `@`.
    pub own_accounts: Vec<String>,
}

/// `[[workspaces.sources]]`: where mentions come from. A closed set: each connector is one
/// variant, chosen by the `type` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourceConfig {
    /// A JSON Lines file (one mention per line), read once and then followed.
    Jsonl(FileSourceConfig),
    /// A CSV file with a header line, read once and then followed.
    Csv(FileSourceConfig),
    /// A Mastodon stream with REST backfill.
    Mastodon(crate::sources::MastodonSource),
    /// Bluesky Jetstream with search backfill.
    Bluesky(crate::sources::BlueskySource),
    /// RSS / Atom / JSON Feed documents.
    Feed(crate::sources::FeedSource),
    /// Reddit listings.
    Reddit(crate::sources::RedditSource),
    /// X API v2 filtered stream.
    X(crate::sources::XSource),
    /// Meta (Facebook pages / Instagram) webhooks.
    MetaWebhook(crate::sources::MetaWebhookSource),
    /// Generic webhook (canonical mention JSON).
    Webhook(crate::sources::WebhookSource),
}

impl SourceConfig {
    /// The source's slug.
    pub fn id(&self) -> &str {
        match self {
            Self::Jsonl(f) | Self::Csv(f) => &f.id,
            Self::Mastodon(s) => &s.id,
            Self::Bluesky(s) => &s.id,
            Self::Feed(s) => &s.id,
            Self::Reddit(s) => &s.id,
            Self::X(s) => &s.id,
            Self::MetaWebhook(s) => &s.id,
            Self::Webhook(s) => &s.id,
        }
    }
    /// The `type` name: `jsonl`, `csv`, `mastodon`, `bluesky`, `feed`, `reddit`, `x`,
    /// `meta_webhook` or `webhook`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Jsonl(_) => "jsonl",
            Self::Csv(_) => "csv",
            Self::Mastodon(_) => "mastodon",
            Self::Bluesky(_) => "bluesky",
            Self::Feed(_) => "feed",
            Self::Reddit(_) => "reddit",
            Self::X(_) => "x",
            Self::MetaWebhook(_) => "meta_webhook",
            Self::Webhook(_) => "webhook",
        }
    }
}

/// A file read once and then followed for appended lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileSourceConfig {
    /// Slug, unique among the workspace's sources; it keys the saved read position.
    pub id: String,
    /// The file, as written (relative paths are relative to the working directory).
    pub path: PathBuf,
    /// How often to look for appended lines. Default 5 s.
    #[serde(serialize_with = "serialize_duration")]
    pub poll_interval: Duration,
}

fn serialize_duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

fn serialize_query<S: Serializer>(q: &vigie_query::Query, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(q.source())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("postgres://h/db?x=a@b"), "postgres://h/db?x=a@b");
        assert_eq!(redact_url("vigie.db"), "vigie.db");
        let storage = StorageConfig {
            database: "postgres://vigie:hunter2@db:5432/vigie".into(),
        };
        assert!(!format!("{storage:?}").contains("hunter2"));
        let json = serde_json::to_string(&storage).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        assert!(json.contains("\"backend\":\"postgres\""), "{json}");
    }

    #[test]
    fn database_override_ignores_blank_values() {
        let mut storage = StorageConfig {
            database: "a.db".into(),
        };
        assert!(!storage.override_database(None));
        assert!(!storage.override_database(Some("  ".into())));
        assert_eq!(storage.backend(), StorageBackend::Sqlite);
        assert!(storage.override_database(Some("postgresql://h/db".into())));
        assert_eq!(storage.database, "postgresql://h/db");
        assert_eq!(storage.backend(), StorageBackend::Postgres);
    }
}
