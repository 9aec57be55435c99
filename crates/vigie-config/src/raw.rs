//! The configuration file as written: version 1 of the format.
//!
//! These structs mirror the TOML exactly (`deny_unknown_fields`, named defaults) and keep the
//! span of each value so that validation can point at the line of a mistake. They are turned
//! into the typed [`crate::Config`] by [`crate::validate`]; nothing else reads them.

use serde::Deserialize;
use std::path::PathBuf;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigForSerialization {
    /// Format version; only `1` exists. Required.
    pub version: Spanned<i64>,
    /// Where data is kept.
    #[serde(default)]
    pub storage: StorageForSerialization,
    /// The HTTP server.
    #[serde(default)]
    pub server: ServerForSerialization,
    /// Detector settings, shared by every watch.
    #[serde(default)]
    pub detection: DetectionForSerialization,
    /// Organizations or client brands. At least one.
    #[serde(default)]
    pub workspaces: Vec<WorkspaceForSerialization>,
    /// Notifications, on-call and escalation (`docs/notifications.md`).
    #[serde(default)]
    pub notify: crate::notify::NotifyForSerialization,
}

/// `[storage]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StorageForSerialization {
    /// A SQLite file path (created if missing) or a `postgres://` URL.
    /// Default `vigie-data/vigie.db`. The `VIGIE_DATABASE_URL` environment variable overrides it.
    #[serde(default = "default_database")]
    pub database: Spanned<String>,
}

impl Default for StorageForSerialization {
    fn default() -> Self {
        Self {
            database: default_database(),
        }
    }
}

/// The default SQLite file.
pub(crate) const DEFAULT_DATABASE: &str = "vigie-data/vigie.db";

fn default_database() -> Spanned<String> {
    Spanned::new(0..0, DEFAULT_DATABASE.to_owned())
}

/// `[server]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerForSerialization {
    /// Socket address to listen on, `host:port`. Default `127.0.0.1:8080` (loopback only).
    #[serde(default = "default_listen")]
    pub listen: Spanned<String>,
    /// Largest accepted request body, in bytes. Default 1048576 (1 MiB).
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: Spanned<u64>,
    /// Time allowed to answer one request (duration). Default `30s`.
    #[serde(default = "default_request_timeout")]
    pub request_timeout: Spanned<String>,
    /// How long a login session lasts (duration). Default `12h`.
    #[serde(default = "default_session_ttl")]
    pub session_ttl: Spanned<String>,
    /// `auto` (default), `always` or `never`: when cookies carry the `Secure` flag.
    #[serde(default = "default_secure_cookies")]
    pub secure_cookies: Spanned<String>,
    /// Failed logins per login name within the window before refusing. Default 5.
    #[serde(default = "default_login_max_failures")]
    pub login_max_failures: Spanned<u64>,
    /// Failed logins per client address within the window before refusing. Default 20.
    #[serde(default = "default_login_max_failures_per_address")]
    pub login_max_failures_per_address: Spanned<u64>,
    /// The window failed logins are counted in (duration). Default `15m`.
    #[serde(default = "default_login_throttle_window")]
    pub login_throttle_window: Spanned<String>,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed. Default loopback.
    #[serde(default = "default_trusted_proxies")]
    pub trusted_proxies: Spanned<Vec<Spanned<String>>>,
}

impl Default for ServerForSerialization {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            max_body_bytes: default_max_body_bytes(),
            request_timeout: default_request_timeout(),
            session_ttl: default_session_ttl(),
            secure_cookies: default_secure_cookies(),
            login_max_failures: default_login_max_failures(),
            login_max_failures_per_address: default_login_max_failures_per_address(),
            login_throttle_window: default_login_throttle_window(),
            trusted_proxies: default_trusted_proxies(),
        }
    }
}

/// The default listen address: loopback (expose it through an HTTPS reverse proxy).
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The default request body limit: 1 MiB.
pub(crate) const DEFAULT_MAX_BODY_BYTES: u64 = 1_048_576;

fn default_listen() -> Spanned<String> {
    Spanned::new(0..0, DEFAULT_LISTEN.to_owned())
}
fn default_max_body_bytes() -> Spanned<u64> {
    Spanned::new(0..0, DEFAULT_MAX_BODY_BYTES)
}
fn default_request_timeout() -> Spanned<String> {
    Spanned::new(0..0, "30s".to_owned())
}
fn default_session_ttl() -> Spanned<String> {
    Spanned::new(0..0, "12h".to_owned())
}
fn default_secure_cookies() -> Spanned<String> {
    Spanned::new(0..0, "auto".to_owned())
}
fn default_login_max_failures() -> Spanned<u64> {
    Spanned::new(0..0, 5)
}
fn default_login_max_failures_per_address() -> Spanned<u64> {
    Spanned::new(0..0, 20)
}
fn default_login_throttle_window() -> Spanned<String> {
    Spanned::new(0..0, "15m".to_owned())
}
fn default_trusted_proxies() -> Spanned<Vec<Spanned<String>>> {
    Spanned::new(
        0..0,
        vec![
            Spanned::new(0..0, "127.0.0.1".to_owned()),
            Spanned::new(0..0, "::1".to_owned()),
        ],
    )
}

/// `[detection]`. Durations are whole minutes at least (`5m`, `1h`, `3d`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DetectionForSerialization {
    /// Width of a counting bucket. Default `5m`.
    #[serde(default = "default_bucket")]
    pub bucket: Spanned<String>,
    /// Width of the sliding observation window; a multiple of `bucket`. Default `30m`.
    #[serde(default = "default_window")]
    pub window: Spanned<String>,
    /// Half-life of the learned baseline. Default `3d`.
    #[serde(default = "default_baseline_half_life")]
    pub baseline_half_life: Spanned<String>,
    /// History needed before any level above calm. Default `1d`.
    #[serde(default = "default_warmup")]
    pub warmup: Spanned<String>,
    /// Time at a level without supporting signals before stepping down. Default `1h`.
    #[serde(default = "default_cool_down")]
    pub cool_down: Spanned<String>,
    /// Negative mentions in the window needed for level 2 (alert). Default 10.
    #[serde(default = "default_min_negative_for_alert")]
    pub min_negative_for_alert: Spanned<u32>,
    /// Distinct authors in the window needed for level 3 (crisis). Default 30.
    #[serde(default = "default_min_authors_for_crisis")]
    pub min_authors_for_crisis: Spanned<u32>,
    /// Followers from which an author counts as influential. Default 50000.
    #[serde(default = "default_influencer_followers")]
    pub influencer_followers: Spanned<u64>,
}

impl Default for DetectionForSerialization {
    fn default() -> Self {
        Self {
            bucket: default_bucket(),
            window: default_window(),
            baseline_half_life: default_baseline_half_life(),
            warmup: default_warmup(),
            cool_down: default_cool_down(),
            min_negative_for_alert: default_min_negative_for_alert(),
            min_authors_for_crisis: default_min_authors_for_crisis(),
            influencer_followers: default_influencer_followers(),
        }
    }
}

fn spanned_str(s: &str) -> Spanned<String> {
    Spanned::new(0..0, s.to_owned())
}
fn default_bucket() -> Spanned<String> {
    spanned_str("5m")
}
fn default_window() -> Spanned<String> {
    spanned_str("30m")
}
fn default_baseline_half_life() -> Spanned<String> {
    spanned_str("3d")
}
fn default_warmup() -> Spanned<String> {
    spanned_str("1d")
}
fn default_cool_down() -> Spanned<String> {
    spanned_str("1h")
}
/// Default of `min_negative_for_alert`.
const DEFAULT_MIN_NEGATIVE_FOR_ALERT: u32 = 10;
/// Default of `min_authors_for_crisis`.
const DEFAULT_MIN_AUTHORS_FOR_CRISIS: u32 = 30;
/// Default of `influencer_followers`.
const DEFAULT_INFLUENCER_FOLLOWERS: u64 = 50_000;

fn default_min_negative_for_alert() -> Spanned<u32> {
    Spanned::new(0..0, DEFAULT_MIN_NEGATIVE_FOR_ALERT)
}
fn default_min_authors_for_crisis() -> Spanned<u32> {
    Spanned::new(0..0, DEFAULT_MIN_AUTHORS_FOR_CRISIS)
}
fn default_influencer_followers() -> Spanned<u64> {
    Spanned::new(0..0, DEFAULT_INFLUENCER_FOLLOWERS)
}

/// `[[workspaces]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkspaceForSerialization {
    /// Slug: 1 to 64 of `a-z 0-9 - _`, starting with a letter or digit. Required, unique.
    pub id: Spanned<String>,
    /// Display name. Required.
    pub name: Spanned<String>,
    /// Monitoring targets.
    #[serde(default)]
    pub watches: Vec<WatchForSerialization>,
    /// Where mentions come from.
    #[serde(default)]
    pub sources: Vec<Spanned<SourceForSerialization>>,
    /// Functional roles of the crisis organisation (`legal`, `ceo`…) → the logins holding
    /// them. Default none.
    #[serde(default)]
    pub responsibilities: Option<Spanned<std::collections::BTreeMap<String, Vec<Spanned<String>>>>>,
    /// Policy (charte) terms added to the built-in rules. Default none.
    #[serde(default)]
    pub policy: Option<crate::respond::PolicyForSerialization>,
    /// Accounts replies are published with. Default none.
    #[serde(default)]
    pub publish_accounts: Vec<crate::respond::PublishAccountForSerialization>,
    /// Digest e-mails for calm periods. Default none.
    #[serde(default)]
    pub digests: Vec<crate::respond::DigestForSerialization>,
}

/// `[[workspaces.watches]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WatchForSerialization {
    /// Slug, unique in the workspace. Required.
    pub id: Spanned<String>,
    /// Display name. Required.
    pub name: Spanned<String>,
    /// Boolean query. Required.
    pub query: Spanned<String>,
    /// ISO 639-1 codes; empty (the default) for all languages.
    #[serde(default)]
    pub languages: Vec<Spanned<String>>,
    /// The organization's own handles on the networks. Default none.
    #[serde(default)]
    pub own_accounts: Vec<Spanned<String>>,
}

/// `[[workspaces.sources]]`, chosen by `type`.
///
/// Fields inside an internally tagged enum cannot carry spans (serde buffers them), so
/// validation finds their position from the parsed document instead.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum SourceForSerialization {
    /// A JSON Lines file, read once and then followed.
    Jsonl(FileSourceForSerialization),
    /// A CSV file with a header line, read once and then followed.
    Csv(FileSourceForSerialization),
    /// A Mastodon stream (see `sources.rs`).
    Mastodon(crate::sources::MastodonForSerialization),
    /// Bluesky Jetstream.
    Bluesky(crate::sources::BlueskyForSerialization),
    /// RSS / Atom / JSON Feed.
    #[serde(alias = "rss")]
    Feed(crate::sources::FeedForSerialization),
    /// Reddit listings.
    Reddit(crate::sources::RedditForSerialization),
    /// X API v2 filtered stream.
    X(crate::sources::XForSerialization),
    /// Meta (Facebook/Instagram) webhooks.
    MetaWebhook(crate::sources::MetaWebhookForSerialization),
    /// Generic webhook.
    Webhook(crate::sources::WebhookForSerialization),
}

/// A file source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileSourceForSerialization {
    /// Slug, unique among the workspace's sources (it keys the saved read position). Required.
    pub id: String,
    /// The file to read. Required.
    pub path: PathBuf,
    /// How often to look for appended lines (duration). Default `5s`.
    #[serde(default = "default_poll_interval")]
    pub poll_interval: String,
}

fn default_poll_interval() -> String {
    "5s".to_owned()
}
