//! Vigie's configuration: one versioned TOML file, validated with errors that point at the
//! line, the column and the field.
//!
//! Loading goes in three steps, each in its own module:
//! 1. **Parse** the TOML (syntax errors, all of them, with their position) and check
//!    `version = 1` first, so that a file written for another version gets one clear message.
//! 2. **Deserialize** into the raw `*ForSerialization` structs (`raw.rs`), which mirror the file
//!    exactly: unknown fields are rejected, defaults are named functions, and values keep their
//!    span.
//! 3. **Validate** (`validate.rs`, pure): durations, slugs, languages, queries (parsed with
//!    [`vigie_query::parse`]), uniqueness, window/bucket consistency — collecting *every*
//!    mistake — into the typed [`Config`].
//!
//! Each mistake is a [`ConfigError`] displayed as `file:line:column: field.path: message`;
//! [`ConfigErrors`] displays them one per line, in file order. The reference of every field is
//! `docs/configuration.md`; a commented example is `config/vigie.example.toml`.
//!
//! [`Config::embedded_default`] is the configuration compiled into the binary from
//! `crates/vigie-config/default.toml`: the demo workspace `orsane` with SQLite storage.
//!
//! ```
//! let src = r#"
//! version = 1
//!
//! [detection]
//! window = "1h"
//!
//! [[workspaces]]
//! id = "acme"
//! name = "ACME"
//!
//! [[workspaces.watches]]
//! id = "brand"
//! name = "ACME brand"
//! query = 'acme OR "acme corp"'
//! languages = ["fr", "en"]
//! "#;
//! let config = vigie_config::parse(src, "vigie.toml").unwrap();
//! assert_eq!(config.detection.window_minutes, 60);
//! assert_eq!(config.workspaces[0].watches[0].query.source(), r#"acme OR "acme corp""#);
//! assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
//!
//! let errors = vigie_config::parse(&src.replace("\"1h\"", "\"45s\""), "vigie.toml").unwrap_err();
//! assert_eq!(
//!     errors.to_string(),
//!     "vigie.toml:5:10: detection.window: 45s is not a whole number of minutes (detection works in minutes)"
//! );
//! ```

mod config;
mod duration;
mod error;
mod languages;
mod locate;
mod notify;
mod raw;
mod respond;
mod sources;
mod validate;

pub use config::{
    Config, DATABASE_URL_ENV, FileSourceConfig, SecureCookies, ServerConfig, SourceConfig,
    StorageBackend, StorageConfig, WatchConfig, WorkspaceConfig,
};
pub use duration::{DurationError, format_duration, parse_duration};
pub use error::{ConfigError, ConfigErrorKind, ConfigErrors};
pub use notify::{
    ChannelConfig, ChannelKind, MessageLanguage, NotifyConfig, OverrideConfig, PersonConfig,
    PolicyConfig, QuietHours, RetryConfig, RotationConfig, RotationEvery, RouteConfig, SecretRef,
    SmtpTls, StepConfig, Target,
};
pub use respond::{DigestConfig, DigestPeriod, PublishAccountConfig, WorkspacePolicyConfig};
pub use sources::{
    BlueskySource, FeedSource, MastodonSource, MastodonStream, MetaWebhookSource, RedditSource,
    Secret, WebhookSource, XRule, XSource,
};

use locate::Locator;
use std::path::Path;
use toml::de::{DeTable, DeValue};

/// The configuration format versions this build reads.
pub const SUPPORTED_VERSIONS: &[u32] = &[1];

/// The embedded default configuration (the demo workspace), as TOML text.
pub const EMBEDDED_DEFAULT_TOML: &str = include_str!("../default.toml");

/// Reads and validates the configuration file at `path`. A file that cannot be read is
/// reported as one [`ConfigErrorKind::Read`] error naming the file.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(src) => parse(&src, &file),
        Err(e) => Err(ConfigErrors::new(vec![ConfigError {
            file,
            line: 0,
            column: 0,
            path: String::new(),
            kind: ConfigErrorKind::Read,
            message: format!("cannot read the configuration file: {e}"),
        }])),
    }
}

/// Validates configuration text. `file_name` is only used in messages.
pub fn parse(src: &str, file_name: &str) -> Result<Config, ConfigErrors> {
    let (doc, syntax_errors) = DeTable::parse_recoverable(src);
    if !syntax_errors.is_empty() {
        let loc = Locator::new(file_name, src, None);
        return Err(ConfigErrors::new(
            syntax_errors
                .iter()
                .map(|e| {
                    loc.error(
                        e.span().unwrap_or(0..0),
                        String::new(),
                        ConfigErrorKind::Syntax,
                        first_line(e.message()),
                    )
                })
                .collect(),
        ));
    }
    let loc = Locator::new(file_name, src, Some(doc));
    check_version(&loc, src)?;
    let raw: raw::ConfigForSerialization = toml::from_str(src).map_err(|e| {
        ConfigErrors::new(vec![loc.error_at(
            e.span().unwrap_or(0..0),
            ConfigErrorKind::Schema,
            first_line(e.message()),
        )])
    })?;
    validate::validate(raw, &loc).map_err(ConfigErrors::new)
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().trim().to_owned()
}

/// Checks `version` on the parsed document, before the rest of the file is read with the
/// rules of that version.
fn check_version(loc: &Locator<'_>, src: &str) -> Result<(), ConfigErrors> {
    let supported = SUPPORTED_VERSIONS
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let fail = |span, message: String| {
        Err(ConfigErrors::new(vec![loc.error(
            span,
            "version".into(),
            ConfigErrorKind::Version,
            message,
        )]))
    };
    let Some(version) = loc.top_level("version") else {
        return fail(
            0..0,
            format!(
                "missing version: put `version = 1` at the top of the file (supported versions: {supported})"
            ),
        );
    };
    let number = match version.get_ref() {
        DeValue::Integer(i) => i.as_str().replace('_', "").parse::<u32>().ok(),
        _ => None,
    };
    match number {
        Some(n) if SUPPORTED_VERSIONS.contains(&n) => Ok(()),
        _ => {
            let written = src.get(version.span()).unwrap_or_default();
            fail(
                version.span(),
                format!(
                    "unsupported configuration version {written} (supported versions: {supported})"
                ),
            )
        }
    }
}

impl Config {
    /// The configuration compiled into the binary ([`EMBEDDED_DEFAULT_TOML`], from
    /// `crates/vigie-config/default.toml`): SQLite storage at `vigie-data/vigie.db`, the server
    /// on loopback, default detection settings, and the demo workspace `orsane` with the
    /// watches `orsane` and `kalia` and no sources (the demo feeds the pipeline itself).
    ///
    /// The file is validated by this crate's tests; should it ever fail to validate, the
    /// result is the built-in defaults without any workspace.
    pub fn embedded_default() -> Config {
        match parse(EMBEDDED_DEFAULT_TOML, "<embedded default.toml>") {
            Ok(config) => config,
            Err(_) => Config {
                version: 1,
                storage: StorageConfig {
                    database: raw::DEFAULT_DATABASE.to_owned(),
                },
                server: ServerConfig {
                    listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
                    max_body_bytes: 1_048_576,
                    request_timeout: std::time::Duration::from_secs(30),
                    session_ttl: std::time::Duration::from_secs(12 * 3600),
                    secure_cookies: SecureCookies::Auto,
                    login_max_failures: 5,
                    login_max_failures_per_address: 20,
                    login_throttle_window: std::time::Duration::from_secs(15 * 60),
                    trusted_proxies: vec![
                        std::net::IpAddr::from([127, 0, 0, 1]),
                        std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
                    ],
                },
                detection: vigie_model::DetectionSettings::default(),
                workspaces: Vec::new(),
                notify: notify::NotifyConfig::default(),
            },
        }
    }
}

#[cfg(test)]
mod tests;
