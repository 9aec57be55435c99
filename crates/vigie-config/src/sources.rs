//! Network sources: Mastodon, Bluesky, feeds (RSS/Atom/JSON Feed), Reddit, X, Meta webhooks
//! and the generic webhook. Raw (serde) structs, validated structs, and their validation.
//!
//! Secrets (`access_token`, `bearer_token`, `app_secret`, `secret`, `token`, `verify_token`)
//! are written either in clear or as `env:NAME` (read from the environment when the source
//! starts). They are never printed: [`Secret`] shows and serializes as `***`.

use crate::config::SourceConfig;
use crate::duration::parse_duration;
use crate::error::ConfigErrorKind as Kind;
use crate::raw::SourceForSerialization;
use serde::{Deserialize, Serialize, Serializer};
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

/// A secret from the configuration: a literal or `env:NAME`. Debug and serialization show
/// `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret as written in the file.
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The value: the literal, or the environment variable named after `env:`.
    pub fn resolve(&self) -> Result<String, String> {
        match self.0.strip_prefix("env:") {
            Some(name) => match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
                Ok(_) => Err(format!("environment variable {name} is empty")),
                Err(_) => Err(format!("environment variable {name} is not set")),
            },
            None => Ok(self.0.clone()),
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

fn serialize_duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::duration::format_duration(*d))
}

/// Which Mastodon stream to follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stream", rename_all = "snake_case")]
pub enum MastodonStream {
    /// The federated public timeline (`public`; `local` restricts to the instance).
    Public {
        /// Only the instance's own posts.
        local: bool,
    },
    /// A hashtag (without `#`).
    Hashtag {
        /// The tag.
        tag: String,
    },
    /// A list of the token's account (needs a token).
    List {
        /// The list id.
        list: String,
    },
}

/// `type = "mastodon"`: one stream of one instance (use several sources for several
/// instances).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MastodonSource {
    /// Slug.
    pub id: String,
    /// Base URL of the instance, without trailing slash (`https://mastodon.social`).
    pub instance: String,
    /// The stream.
    #[serde(flatten)]
    pub stream: MastodonStream,
    /// Access token (optional for public streams on most instances).
    pub access_token: Option<Secret>,
    /// Pages of 40 statuses fetched from the REST timeline after each (re)connection to fill
    /// the gap since the cursor. 0 disables backfill.
    pub backfill_pages: u32,
}

/// `type = "bluesky"`: the Jetstream firehose, plus the public search API for backfill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlueskySource {
    /// Slug.
    pub id: String,
    /// Jetstream subscribe URL (`wss://…/subscribe`).
    pub jetstream: String,
    /// `wantedCollections`.
    pub collections: Vec<String>,
    /// `wantedDids` (empty: every account).
    pub dids: Vec<String>,
    /// Query for the public search API at start (backfill), if any.
    pub search: Option<String>,
    /// Base URL of the public AppView API.
    pub search_api: String,
}

/// `type = "feed"`: RSS, Atom or JSON Feed documents, polled with conditional GET.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedSource {
    /// Slug.
    pub id: String,
    /// Feed URLs.
    pub urls: Vec<String>,
    /// An OPML file whose feeds are added to `urls` when the source starts.
    pub opml: Option<PathBuf>,
    /// Time between two polls of each feed.
    #[serde(serialize_with = "serialize_duration")]
    pub interval: Duration,
    /// Largest body accepted, bytes.
    pub max_bytes: u64,
}

/// `type = "reddit"`: subreddit listings and/or a search listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedditSource {
    /// Slug.
    pub id: String,
    /// Subreddits (without `r/`), read through `/r/NAME/new.json`.
    pub subreddits: Vec<String>,
    /// A search query, read through `/search.json?sort=new`.
    pub query: Option<String>,
    /// Time between two polls.
    #[serde(serialize_with = "serialize_duration")]
    pub interval: Duration,
    /// Base URL (`https://www.reddit.com`).
    pub base_url: String,
    /// `User-Agent` sent (Reddit requires a descriptive one).
    pub user_agent: String,
}

/// One filtered-stream rule of the X API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XRule {
    /// The rule text (`orsane lang:fr -is:retweet`).
    pub value: String,
    /// Its tag.
    pub tag: String,
}

/// `type = "x"`: the X API v2 filtered stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XSource {
    /// Slug.
    pub id: String,
    /// App bearer token.
    pub bearer_token: Secret,
    /// Rules kept on the stream (others are deleted at start).
    pub rules: Vec<XRule>,
    /// API base URL (`https://api.x.com`).
    pub base_url: String,
}

/// `type = "meta_webhook"`: Facebook page and Instagram comments/mentions pushed by Meta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetaWebhookSource {
    /// Slug (the endpoint is `/hooks/WORKSPACE/ID`).
    pub id: String,
    /// The verify token typed in the Meta app dashboard.
    pub verify_token: Secret,
    /// The app secret (signs `X-Hub-Signature-256`).
    pub app_secret: Secret,
    /// Access token of the Instagram professional account (`instagram_basic`,
    /// `instagram_manage_comments`): when set, Instagram `mentions` notifications, which carry
    /// only ids, are completed from the Graph API; without it they are skipped with a reason.
    pub access_token: Option<Secret>,
    /// Graph API base URL (`https://graph.facebook.com/v21.0`).
    pub graph_api: String,
}

/// `type = "webhook"`: any tool pushes canonical mention JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookSource {
    /// Slug (the endpoint is `/hooks/WORKSPACE/ID`).
    pub id: String,
    /// HMAC-SHA256 key for `X-Vigie-Signature: sha256=HEX`.
    pub secret: Option<Secret>,
    /// Bearer token accepted in `Authorization`.
    pub token: Option<Secret>,
    /// Largest body accepted, bytes.
    pub max_bytes: u64,
}

// ---------------------------------------------------------------------------------------
// Raw forms.

/// `type = "mastodon"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MastodonForSerialization {
    pub id: String,
    pub instance: String,
    #[serde(default = "default_mastodon_stream")]
    pub stream: String,
    pub tag: Option<String>,
    pub list: Option<String>,
    pub access_token: Option<String>,
    #[serde(default = "default_backfill_pages")]
    pub backfill_pages: u32,
}

fn default_mastodon_stream() -> String {
    "public".into()
}
fn default_backfill_pages() -> u32 {
    5
}

/// `type = "bluesky"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BlueskyForSerialization {
    pub id: String,
    #[serde(default = "default_jetstream")]
    pub jetstream: String,
    #[serde(default = "default_collections")]
    pub collections: Vec<String>,
    #[serde(default)]
    pub dids: Vec<String>,
    pub search: Option<String>,
    #[serde(default = "default_search_api")]
    pub search_api: String,
}

fn default_jetstream() -> String {
    "wss://jetstream2.us-east.bsky.network/subscribe".into()
}
fn default_collections() -> Vec<String> {
    vec![
        "app.bsky.feed.post".into(),
        "app.bsky.feed.repost".into(),
        "app.bsky.feed.like".into(),
    ]
}
fn default_search_api() -> String {
    "https://public.api.bsky.app".into()
}

/// `type = "feed"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedForSerialization {
    pub id: String,
    #[serde(default)]
    pub urls: Vec<String>,
    pub opml: Option<PathBuf>,
    #[serde(default = "default_feed_interval")]
    pub interval: String,
    #[serde(default = "default_feed_max_bytes")]
    pub max_bytes: u64,
}

fn default_feed_interval() -> String {
    "10m".into()
}
fn default_feed_max_bytes() -> u64 {
    5 * 1024 * 1024
}

/// `type = "reddit"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RedditForSerialization {
    pub id: String,
    #[serde(default)]
    pub subreddits: Vec<String>,
    pub query: Option<String>,
    #[serde(default = "default_reddit_interval")]
    pub interval: String,
    #[serde(default = "default_reddit_base")]
    pub base_url: String,
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
}

fn default_reddit_interval() -> String {
    "2m".into()
}
fn default_reddit_base() -> String {
    "https://www.reddit.com".into()
}
fn default_user_agent() -> String {
    "vigie/0.1 (crisis monitoring; +https://github.com/vigie)".into()
}

/// One X rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct XRuleForSerialization {
    pub value: String,
    #[serde(default)]
    pub tag: Option<String>,
}

/// `type = "x"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct XForSerialization {
    pub id: String,
    pub bearer_token: String,
    #[serde(default)]
    pub rules: Vec<XRuleForSerialization>,
    #[serde(default = "default_x_base")]
    pub base_url: String,
}

fn default_x_base() -> String {
    "https://api.x.com".into()
}

/// `type = "meta_webhook"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetaWebhookForSerialization {
    pub id: String,
    pub verify_token: String,
    pub app_secret: String,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default = "default_graph_api")]
    pub graph_api: String,
}

fn default_graph_api() -> String {
    "https://graph.facebook.com/v21.0".into()
}

/// `type = "webhook"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookForSerialization {
    pub id: String,
    pub secret: Option<String>,
    pub token: Option<String>,
    #[serde(default = "default_webhook_max_bytes")]
    pub max_bytes: u64,
}

fn default_webhook_max_bytes() -> u64 {
    1024 * 1024
}

// ---------------------------------------------------------------------------------------
// Validation.

/// One problem: span, field path, kind, message.
pub(crate) type Problem = (Range<usize>, String, Kind, String);

/// Validation context handed over by `validate.rs`: where each field is, and the problems.
pub(crate) struct Checker<'a> {
    /// Span and path of a field of this source.
    pub field: &'a dyn Fn(&'static str) -> (Range<usize>, String),
    /// Problems found.
    pub problems: Vec<Problem>,
}

impl Checker<'_> {
    fn err(&mut self, field: &'static str, kind: Kind, message: String) {
        let (span, path) = (self.field)(field);
        self.problems.push((span, path, kind, message));
    }

    fn url(&mut self, field: &'static str, value: &str, schemes: &[&str]) -> Option<String> {
        let v = value.trim().trim_end_matches('/');
        let ok = v.split_once("://").is_some_and(|(s, rest)| {
            schemes.contains(&s) && !rest.is_empty() && !rest.contains(char::is_whitespace)
        });
        if ok {
            Some(v.to_owned())
        } else {
            self.err(
                field,
                Kind::Value,
                format!(
                    "{value:?} is not a valid URL: expected {}://HOST…",
                    schemes.join("://… or ")
                ),
            );
            None
        }
    }

    fn nonempty(&mut self, field: &'static str, value: &str, what: &str) -> Option<String> {
        let v = value.trim();
        if v.is_empty() {
            self.err(field, Kind::Value, format!("{what} must not be empty"));
            None
        } else {
            Some(v.to_owned())
        }
    }

    fn secret(&mut self, field: &'static str, value: &str) -> Option<Secret> {
        let v = value.trim();
        if v.is_empty() || v == "env:" {
            self.err(
                field,
                Kind::Value,
                "secret must not be empty: write it or `env:VARIABLE`".into(),
            );
            None
        } else {
            Some(Secret::new(v))
        }
    }

    fn interval(&mut self, field: &'static str, value: &str, min: Duration) -> Option<Duration> {
        match parse_duration(value) {
            Ok(d) if d < min => {
                self.err(
                    field,
                    Kind::Duration,
                    format!(
                        "{value} is too short: at least {} (the network's rate limits)",
                        crate::duration::format_duration(min)
                    ),
                );
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.err(field, Kind::Duration, e.to_string());
                None
            }
        }
    }
}

/// The `id` of a network source (`None` for file sources).
pub(crate) fn network_id(raw: &SourceForSerialization) -> Option<&str> {
    Some(match raw {
        SourceForSerialization::Mastodon(s) => &s.id,
        SourceForSerialization::Bluesky(s) => &s.id,
        SourceForSerialization::Feed(s) => &s.id,
        SourceForSerialization::Reddit(s) => &s.id,
        SourceForSerialization::X(s) => &s.id,
        SourceForSerialization::MetaWebhook(s) => &s.id,
        SourceForSerialization::Webhook(s) => &s.id,
        _ => return None,
    })
}

/// Validates a network source (the id's syntax and uniqueness are checked by the caller).
pub(crate) fn validate_network(
    raw: &SourceForSerialization,
    ck: &mut Checker<'_>,
) -> Option<SourceConfig> {
    let before = ck.problems.len();
    let built = match raw {
        SourceForSerialization::Mastodon(s) => mastodon(s, ck).map(SourceConfig::Mastodon),
        SourceForSerialization::Bluesky(s) => bluesky(s, ck).map(SourceConfig::Bluesky),
        SourceForSerialization::Feed(s) => feed(s, ck).map(SourceConfig::Feed),
        SourceForSerialization::Reddit(s) => reddit(s, ck).map(SourceConfig::Reddit),
        SourceForSerialization::X(s) => x(s, ck).map(SourceConfig::X),
        SourceForSerialization::MetaWebhook(s) => {
            let verify_token = ck.secret("verify_token", &s.verify_token);
            let app_secret = ck.secret("app_secret", &s.app_secret);
            let access_token = s
                .access_token
                .as_ref()
                .map(|t| ck.secret("access_token", t));
            let graph_api = ck.url("graph_api", &s.graph_api, &["https", "http"]);
            Some(SourceConfig::MetaWebhook(MetaWebhookSource {
                id: s.id.clone(),
                verify_token: verify_token?,
                app_secret: app_secret?,
                access_token: access_token
                    .map_or(Ok(None), |t| t.map(Some).ok_or(()))
                    .ok()?,
                graph_api: graph_api?,
            }))
        }
        SourceForSerialization::Webhook(s) => webhook(s, ck).map(SourceConfig::Webhook),
        _ => None,
    };
    (ck.problems.len() == before).then_some(built).flatten()
}

fn mastodon(s: &MastodonForSerialization, ck: &mut Checker<'_>) -> Option<MastodonSource> {
    let instance = ck.url("instance", &s.instance, &["https", "http"]);
    let token = match &s.access_token {
        Some(t) => Some(ck.secret("access_token", t)?),
        None => None,
    };
    let stream = match s.stream.as_str() {
        "public" => Some(MastodonStream::Public { local: false }),
        "public:local" | "public_local" => Some(MastodonStream::Public { local: true }),
        "hashtag" => match &s.tag {
            Some(t) if !t.trim().trim_start_matches('#').is_empty() => {
                Some(MastodonStream::Hashtag {
                    tag: t.trim().trim_start_matches('#').to_owned(),
                })
            }
            _ => {
                ck.err(
                    "tag",
                    Kind::Value,
                    "stream \"hashtag\" needs `tag = \"…\"`".into(),
                );
                None
            }
        },
        "list" => {
            if token.is_none() {
                ck.err(
                    "access_token",
                    Kind::Value,
                    "stream \"list\" needs an access_token (lists belong to an account)".into(),
                );
            }
            match &s.list {
                Some(l) if !l.trim().is_empty() => Some(MastodonStream::List {
                    list: l.trim().to_owned(),
                }),
                _ => {
                    ck.err(
                        "list",
                        Kind::Value,
                        "stream \"list\" needs `list = \"ID\"`".into(),
                    );
                    None
                }
            }
        }
        other => {
            ck.err(
                "stream",
                Kind::Value,
                format!("unknown stream {other:?}: use public, public:local, hashtag or list"),
            );
            None
        }
    };
    if s.backfill_pages > 100 {
        ck.err(
            "backfill_pages",
            Kind::Value,
            "backfill_pages must be at most 100".into(),
        );
    }
    Some(MastodonSource {
        id: s.id.clone(),
        instance: instance?,
        stream: stream?,
        access_token: token,
        backfill_pages: s.backfill_pages,
    })
}

fn bluesky(s: &BlueskyForSerialization, ck: &mut Checker<'_>) -> Option<BlueskySource> {
    let jetstream = ck.url("jetstream", &s.jetstream, &["wss", "ws"]);
    let search_api = ck.url("search_api", &s.search_api, &["https", "http"]);
    const KNOWN: [&str; 3] = [
        "app.bsky.feed.post",
        "app.bsky.feed.repost",
        "app.bsky.feed.like",
    ];
    if s.collections.is_empty() {
        ck.err(
            "collections",
            Kind::Value,
            "collections must not be empty".into(),
        );
    }
    for c in &s.collections {
        if !KNOWN.contains(&c.as_str()) {
            ck.err(
                "collections",
                Kind::Value,
                format!("unsupported collection {c:?}: use {}", KNOWN.join(", ")),
            );
        }
    }
    for d in &s.dids {
        if !d.starts_with("did:") {
            ck.err(
                "dids",
                Kind::Value,
                format!("{d:?} is not a DID (did:plc:…)"),
            );
        }
    }
    let search = match &s.search {
        Some(q) => Some(ck.nonempty("search", q, "search")?),
        None => None,
    };
    Some(BlueskySource {
        id: s.id.clone(),
        jetstream: jetstream?,
        collections: s.collections.clone(),
        dids: s.dids.clone(),
        search,
        search_api: search_api?,
    })
}

fn feed(s: &FeedForSerialization, ck: &mut Checker<'_>) -> Option<FeedSource> {
    if s.urls.is_empty() && s.opml.is_none() {
        ck.err(
            "urls",
            Kind::Value,
            "give feed `urls`, an `opml` file, or both".into(),
        );
    }
    let mut urls = Vec::new();
    for u in &s.urls {
        if let Some(u) = ck.url("urls", u, &["https", "http"]) {
            urls.push(u);
        }
    }
    if s.opml.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
        ck.err("opml", Kind::Value, "opml must not be empty".into());
    }
    if !(1024..=100 * 1024 * 1024).contains(&s.max_bytes) {
        ck.err(
            "max_bytes",
            Kind::Value,
            "max_bytes must be between 1024 and 104857600".into(),
        );
    }
    let interval = ck.interval("interval", &s.interval, Duration::from_secs(30));
    Some(FeedSource {
        id: s.id.clone(),
        urls,
        opml: s.opml.clone(),
        interval: interval?,
        max_bytes: s.max_bytes,
    })
}

fn reddit(s: &RedditForSerialization, ck: &mut Checker<'_>) -> Option<RedditSource> {
    if s.subreddits.is_empty() && s.query.is_none() {
        ck.err(
            "subreddits",
            Kind::Value,
            "give `subreddits`, a `query`, or both".into(),
        );
    }
    for r in &s.subreddits {
        let name = r.trim_start_matches("r/");
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            ck.err(
                "subreddits",
                Kind::Value,
                format!("{r:?} is not a subreddit name"),
            );
        }
    }
    let query = match &s.query {
        Some(q) => Some(ck.nonempty("query", q, "query")?),
        None => None,
    };
    let base_url = ck.url("base_url", &s.base_url, &["https", "http"]);
    let user_agent = ck.nonempty("user_agent", &s.user_agent, "user_agent");
    let interval = ck.interval("interval", &s.interval, Duration::from_secs(10));
    Some(RedditSource {
        id: s.id.clone(),
        subreddits: s
            .subreddits
            .iter()
            .map(|r| r.trim_start_matches("r/").to_owned())
            .collect(),
        query,
        interval: interval?,
        base_url: base_url?,
        user_agent: user_agent?,
    })
}

fn x(s: &XForSerialization, ck: &mut Checker<'_>) -> Option<XSource> {
    let token = ck.secret("bearer_token", &s.bearer_token);
    let base_url = ck.url("base_url", &s.base_url, &["https", "http"]);
    let mut rules = Vec::new();
    for (i, r) in s.rules.iter().enumerate() {
        let value = r.value.trim();
        if value.is_empty() || value.len() > 1024 {
            ck.err(
                "rules",
                Kind::Value,
                format!("rule {i}: value must be 1 to 1024 characters"),
            );
            continue;
        }
        rules.push(XRule {
            value: value.to_owned(),
            tag: r
                .tag
                .clone()
                .unwrap_or_else(|| format!("vigie-{}-{i}", s.id)),
        });
    }
    if s.rules.is_empty() {
        ck.err(
            "rules",
            Kind::Value,
            "the filtered stream needs at least one rule".into(),
        );
    }
    Some(XSource {
        id: s.id.clone(),
        bearer_token: token?,
        rules,
        base_url: base_url?,
    })
}

fn webhook(s: &WebhookForSerialization, ck: &mut Checker<'_>) -> Option<WebhookSource> {
    if s.secret.is_none() && s.token.is_none() {
        ck.err(
            "secret",
            Kind::Value,
            "a webhook needs a `secret` (HMAC signature) or a `token` (bearer), or both".into(),
        );
    }
    let secret = match &s.secret {
        Some(v) => Some(ck.secret("secret", v)?),
        None => None,
    };
    let token = match &s.token {
        Some(v) => Some(ck.secret("token", v)?),
        None => None,
    };
    if !(256..=16 * 1024 * 1024).contains(&s.max_bytes) {
        ck.err(
            "max_bytes",
            Kind::Value,
            "max_bytes must be between 256 and 16777216".into(),
        );
    }
    Some(WebhookSource {
        id: s.id.clone(),
        secret,
        token,
        max_bytes: s.max_bytes,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use crate::SourceConfig;

    fn parse(sources: &str) -> Result<Vec<SourceConfig>, String> {
        let text = format!(
            "version = 1\n[storage]\ndatabase = \"x.db\"\n[[workspaces]]\nid = \"acme\"\nname = \"Acme\"\n{sources}"
        );
        crate::parse(&text, "test.toml")
            .map(|c| c.workspaces[0].sources.clone())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn parses_every_network_source() {
        let s = parse(
            r##"
[[workspaces.sources]]
type = "mastodon"
id = "masto"
instance = "https://mastodon.social/"
stream = "hashtag"
tag = "#orsane"
access_token = "env:MASTO_TOKEN"
[[workspaces.sources]]
type = "bluesky"
id = "bsky"
search = "orsane"
[[workspaces.sources]]
type = "feed"
id = "news"
urls = ["https://example.org/rss.xml"]
interval = "5m"
[[workspaces.sources]]
type = "reddit"
id = "reddit"
subreddits = ["r/france"]
query = "orsane"
[[workspaces.sources]]
type = "x"
id = "x"
bearer_token = "AAAA"
rules = [{ value = "orsane lang:fr" }]
[[workspaces.sources]]
type = "meta_webhook"
id = "meta"
verify_token = "v"
app_secret = "s3cr3t"
[[workspaces.sources]]
type = "webhook"
id = "hook"
secret = "k"
"##,
        )
        .unwrap();
        let kinds: Vec<_> = s.iter().map(|s| s.kind()).collect();
        assert_eq!(
            kinds,
            [
                "mastodon",
                "bluesky",
                "feed",
                "reddit",
                "x",
                "meta_webhook",
                "webhook"
            ]
        );
        let SourceConfig::Mastodon(m) = &s[0] else {
            panic!()
        };
        assert_eq!(m.instance, "https://mastodon.social");
        assert_eq!(
            m.stream,
            super::MastodonStream::Hashtag {
                tag: "orsane".into()
            }
        );
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("s3cr3t") && !json.contains("AAAA"), "{json}");
        assert!(!format!("{s:?}").contains("s3cr3t"));
    }

    #[test]
    fn reports_positioned_mistakes() {
        let err = parse(
            r#"
[[workspaces.sources]]
type = "mastodon"
id = "masto"
instance = "mastodon.social"
stream = "list"
[[workspaces.sources]]
type = "webhook"
id = "hook"
[[workspaces.sources]]
type = "feed"
id = "news"
urls = ["https://example.org/rss.xml"]
interval = "1s"
"#,
        )
        .unwrap_err();
        assert!(
            err.contains("test.toml:10:1") || err.contains("instance"),
            "{err}"
        );
        assert!(err.contains("is not a valid URL"), "{err}");
        assert!(err.contains("needs an access_token"), "{err}");
        assert!(err.contains("needs a `secret`"), "{err}");
        assert!(err.contains("too short"), "{err}");
        assert!(err.contains("workspaces[0].sources[0].instance"), "{err}");
    }

    #[test]
    fn meta_webhook_graph_access_is_optional_and_checked() {
        let s = parse(
            r#"
[[workspaces.sources]]
type = "meta_webhook"
id = "meta"
verify_token = "v"
app_secret = "s"
access_token = "env:IG_TOKEN"
graph_api = "http://127.0.0.1:9/v21.0/"
[[workspaces.sources]]
type = "meta_webhook"
id = "fb"
verify_token = "v"
app_secret = "s"
"#,
        )
        .unwrap();
        let (SourceConfig::MetaWebhook(ig), SourceConfig::MetaWebhook(fb)) = (&s[0], &s[1]) else {
            panic!()
        };
        assert!(ig.access_token.is_some());
        assert_eq!(ig.graph_api, "http://127.0.0.1:9/v21.0");
        assert!(fb.access_token.is_none());
        assert_eq!(fb.graph_api, "https://graph.facebook.com/v21.0");
        let err = parse(
            r#"
[[workspaces.sources]]
type = "meta_webhook"
id = "meta"
verify_token = "v"
app_secret = "s"
access_token = " "
graph_api = "graph.facebook.com"
"#,
        )
        .unwrap_err();
        assert!(err.contains("sources[0].access_token"), "{err}");
        assert!(err.contains("sources[0].graph_api"), "{err}");
    }
}
