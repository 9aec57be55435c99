//! `[workspaces.policy]` and `[[workspaces.publish_accounts]]`: what the responding side
//! needs per workspace (issue 7) — the policy (charte) terms added to the built-in rules,
//! and the accounts replies and statements are published with.
//!
//! ```toml
//! [workspaces.policy]
//! forbidden_terms = ["concurrent*"]          # block, added to the built-in list
//! confidential_terms = ["projet aurore"]     # block (code names, unpublished figures)
//! sensitive_terms = ["indemnisation"]        # need an approval, added to the built-in list
//! block_blame = true                         # blaming the customer blocks instead of warning
//!
//! [[workspaces.publish_accounts]]
//! id = "mastodon-main"
//! type = "mastodon"
//! instance = "https://mastodon.example"
//! token = "env:ORSANE_MASTODON_TOKEN"
//!
//! [[workspaces.digests]]                     # digest e-mails for calm periods
//! period = "weekly"                          # or "daily"
//! to = ["direction@orsane.example"]
//! channel = "mail"                           # an `email` channel of [notify]
//! language = "fr"                            # default "fr"
//! hour = 8                                   # local hour it is sent, default 8
//! weekday = "monday"                         # weekly only, default "monday"
//! time_zone = "Europe/Paris"                 # default "UTC"
//! ```

use crate::ConfigError;
use crate::error::ConfigErrorKind as Kind;
use crate::locate::Locator;
use crate::sources::Secret;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use toml::Spanned;

/// `[workspaces.policy]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyForSerialization {
    #[serde(default)]
    pub forbidden_terms: Vec<Spanned<String>>,
    #[serde(default)]
    pub confidential_terms: Vec<Spanned<String>>,
    #[serde(default)]
    pub sensitive_terms: Vec<Spanned<String>>,
    #[serde(default)]
    pub block_blame: bool,
}

/// `[[workspaces.publish_accounts]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PublishAccountForSerialization {
    pub id: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    #[serde(default)]
    pub instance: Option<Spanned<String>>,
    #[serde(default)]
    pub token: Option<Spanned<String>>,
    #[serde(default)]
    pub pds: Option<Spanned<String>>,
    #[serde(default)]
    pub identifier: Option<Spanned<String>>,
    #[serde(default)]
    pub password: Option<Spanned<String>>,
}

/// `[[workspaces.digests]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DigestForSerialization {
    /// `daily` or `weekly`. Required, one digest per period in a workspace.
    pub period: Spanned<String>,
    /// Recipients' addresses. Required, at least one.
    pub to: Spanned<Vec<Spanned<String>>>,
    /// Id of an `email` channel of `[notify]` (its SMTP server and sender). Required.
    pub channel: Spanned<String>,
    /// `fr` or `en`. Default `fr`.
    #[serde(default)]
    pub language: Option<Spanned<String>>,
    /// Local hour (0–23) at which it is sent; the period ends then. Default 8.
    #[serde(default)]
    pub hour: Option<Spanned<i64>>,
    /// Day of a weekly digest (`monday` … `sunday`). Default `monday`.
    #[serde(default)]
    pub weekday: Option<Spanned<String>>,
    /// IANA time zone of `hour` and `weekday`. Default `UTC`.
    #[serde(default)]
    pub time_zone: Option<Spanned<String>>,
}

/// How often a digest is sent, and the span it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestPeriod {
    /// Every day, covering the 24 hours before.
    Daily,
    /// Every week, covering the 7 days before.
    Weekly,
}

impl DigestPeriod {
    /// `daily` or `weekly`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
        }
    }

    /// `daily` or `weekly`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "daily" => Some(Self::Daily),
            "weekly" => Some(Self::Weekly),
            _ => None,
        }
    }
}

/// A digest e-mail of a workspace for calm periods (`docs/responding.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestConfig {
    /// Daily or weekly.
    pub period: DigestPeriod,
    /// Recipients.
    pub to: Vec<String>,
    /// The `email` channel of `[notify]` it is sent through.
    pub channel: String,
    /// Language of the e-mail.
    pub language: crate::MessageLanguage,
    /// Local hour it is sent at (0–23).
    pub hour: u32,
    /// Day of a weekly digest.
    #[serde(serialize_with = "crate::notify::ser_weekday")]
    pub weekday: chrono::Weekday,
    /// Time zone of `hour` and `weekday`.
    #[serde(serialize_with = "crate::notify::ser_tz")]
    pub time_zone: chrono_tz::Tz,
}

/// A workspace's policy additions: the terms are added to the built-in lists of the
/// policy checker (`vigie_respond::Policy`); empty lists keep the built-in rules only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WorkspacePolicyConfig {
    /// Terms never to publish (block); `*` at the end matches any ending.
    pub forbidden_terms: Vec<String>,
    /// Confidential terms: project code names, unpublished figures (block).
    pub confidential_terms: Vec<String>,
    /// Legally sensitive words: publishing needs an approval (warn).
    pub sensitive_terms: Vec<String>,
    /// Blaming the customer blocks instead of warning.
    pub block_blame: bool,
}

/// An account replies and statements are published with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PublishAccountConfig {
    /// A Mastodon account (or any server speaking its API).
    Mastodon {
        /// Id used in the API (`mastodon-main`), unique in the workspace.
        id: String,
        /// Base URL of the instance.
        instance: String,
        /// OAuth access token with the `write:statuses` scope.
        token: Secret,
    },
    /// A Bluesky account.
    Bluesky {
        /// Id used in the API, unique in the workspace.
        id: String,
        /// Base URL of the PDS (`https://bsky.social`).
        pds: String,
        /// Handle or DID.
        identifier: String,
        /// App password.
        password: Secret,
    },
}

impl PublishAccountConfig {
    /// The account's id.
    pub fn id(&self) -> &str {
        match self {
            Self::Mastodon { id, .. } | Self::Bluesky { id, .. } => id,
        }
    }
}

/// Validates `[[workspaces.digests]]`. `email_channels` are the ids of `[notify]`'s
/// channels of type `email`.
pub(crate) fn validate_digests(
    raw: &[DigestForSerialization],
    path: &str,
    email_channels: &[String],
    loc: &Locator<'_>,
    errors: &mut Vec<ConfigError>,
) -> Vec<DigestConfig> {
    let mut v = V { loc, errors };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, d) in raw.iter().enumerate() {
        let p = format!("{path}.digests[{i}]");
        let errors_before = v.errors.len();
        let period = DigestPeriod::parse(d.period.get_ref().trim());
        match period {
            None => v.push(
                d.period.span(),
                format!("{p}.period"),
                format!(
                    "unknown period {:?}: use \"daily\" or \"weekly\"",
                    d.period.get_ref()
                ),
            ),
            Some(period) if !seen.insert(period) => v.push(
                d.period.span(),
                format!("{p}.period"),
                format!(
                    "a {} digest is already configured for this workspace",
                    period.as_str()
                ),
            ),
            Some(_) => {}
        }
        if d.to.get_ref().is_empty() {
            v.push(
                d.to.span(),
                format!("{p}.to"),
                "give at least one recipient address".into(),
            );
        }
        let mut to = Vec::new();
        for (j, a) in d.to.get_ref().iter().enumerate() {
            let address = a.get_ref().trim();
            match address.split_once('@') {
                Some((user, host)) if !user.is_empty() && host.contains('.') => {
                    to.push(address.to_owned());
                }
                _ => v.push(
                    a.span(),
                    format!("{p}.to[{j}]"),
                    format!("invalid address {address:?}: expected name@domain.example"),
                ),
            }
        }
        let channel = d.channel.get_ref().trim().to_owned();
        if !email_channels.contains(&channel) {
            v.push(
                d.channel.span(),
                format!("{p}.channel"),
                format!(
                    "{channel:?} is not an email channel of [notify] (email channels: {email_channels:?})"
                ),
            );
        }
        let language = match d.language.as_ref().map(|l| l.get_ref().trim()) {
            None | Some("fr") => crate::MessageLanguage::Fr,
            Some("en") => crate::MessageLanguage::En,
            Some(other) => {
                if let Some(l) = &d.language {
                    v.push(
                        l.span(),
                        format!("{p}.language"),
                        format!("unsupported language {other:?}: use \"fr\" or \"en\""),
                    );
                }
                crate::MessageLanguage::Fr
            }
        };
        let hour = match &d.hour {
            None => 8,
            Some(h) => match u32::try_from(*h.get_ref()) {
                Ok(h) if h < 24 => h,
                _ => {
                    v.push(
                        h.span(),
                        format!("{p}.hour"),
                        format!("hour {} is out of range: expected 0 to 23", h.get_ref()),
                    );
                    0
                }
            },
        };
        let weekday = match &d.weekday {
            None => chrono::Weekday::Mon,
            Some(w) => {
                if period == Some(DigestPeriod::Daily) {
                    v.push(
                        w.span(),
                        format!("{p}.weekday"),
                        "`weekday` is only for a weekly digest".into(),
                    );
                }
                w.get_ref()
                    .trim()
                    .parse::<chrono::Weekday>()
                    .unwrap_or_else(|_| {
                        v.push(
                            w.span(),
                            format!("{p}.weekday"),
                            format!(
                                "unknown day {:?}: use monday, tuesday … sunday",
                                w.get_ref()
                            ),
                        );
                        chrono::Weekday::Mon
                    })
            }
        };
        let time_zone = match &d.time_zone {
            None => chrono_tz::UTC,
            Some(z) => z
                .get_ref()
                .trim()
                .parse::<chrono_tz::Tz>()
                .unwrap_or_else(|_| {
                    v.push(
                        z.span(),
                        format!("{p}.time_zone"),
                        format!(
                            "unknown time zone {:?}: use an IANA name such as \"Europe/Paris\"",
                            z.get_ref()
                        ),
                    );
                    chrono_tz::UTC
                }),
        };
        if let Some(period) = period
            && v.errors.len() == errors_before
        {
            out.push(DigestConfig {
                period,
                to,
                channel,
                language,
                hour,
                weekday,
                time_zone,
            });
        }
    }
    out
}

struct V<'a, 'i, 'e> {
    loc: &'a Locator<'i>,
    errors: &'e mut Vec<ConfigError>,
}

impl V<'_, '_, '_> {
    fn push(&mut self, span: std::ops::Range<usize>, path: String, message: String) {
        self.errors
            .push(self.loc.error(span, path, Kind::Value, message));
    }

    fn terms(&mut self, raw: &[Spanned<String>], path: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (i, t) in raw.iter().enumerate() {
            let term = t.get_ref().trim();
            if term.is_empty() || term == "*" {
                self.push(
                    t.span(),
                    format!("{path}[{i}]"),
                    "a term cannot be empty (or only `*`)".into(),
                );
            } else if !out.iter().any(|o| o == term) {
                out.push(term.to_owned());
            }
        }
        out
    }

    fn required<'s>(
        &mut self,
        value: Option<&'s Spanned<String>>,
        at: &Spanned<String>,
        path: &str,
        field: &str,
        kind: &str,
    ) -> Option<&'s Spanned<String>> {
        match value {
            Some(v) if !v.get_ref().trim().is_empty() => Some(v),
            Some(v) => {
                self.push(
                    v.span(),
                    format!("{path}.{field}"),
                    format!("{field} cannot be empty"),
                );
                None
            }
            None => {
                self.push(
                    at.span(),
                    format!("{path}.{field}"),
                    format!("a {kind} account needs `{field}`"),
                );
                None
            }
        }
    }

    fn url(&mut self, v: &Spanned<String>, path: &str) -> Option<String> {
        let u = v.get_ref().trim().trim_end_matches('/');
        if (u.starts_with("https://") || u.starts_with("http://")) && u.len() > "http://".len() + 1
        {
            Some(u.to_owned())
        } else {
            self.push(
                v.span(),
                path.to_owned(),
                format!("{u:?}: expected an http(s) URL such as https://mastodon.example"),
            );
            None
        }
    }

    fn refuse(&mut self, v: Option<&Spanned<String>>, path: &str, field: &str, kind: &str) {
        if let Some(v) = v {
            self.push(
                v.span(),
                format!("{path}.{field}"),
                format!("`{field}` is not a field of a {kind} account"),
            );
        }
    }
}

pub(crate) fn validate_policy(
    raw: Option<&PolicyForSerialization>,
    path: &str,
    loc: &Locator<'_>,
    errors: &mut Vec<ConfigError>,
) -> WorkspacePolicyConfig {
    let Some(raw) = raw else {
        return WorkspacePolicyConfig::default();
    };
    let mut v = V { loc, errors };
    WorkspacePolicyConfig {
        forbidden_terms: v.terms(
            &raw.forbidden_terms,
            &format!("{path}.policy.forbidden_terms"),
        ),
        confidential_terms: v.terms(
            &raw.confidential_terms,
            &format!("{path}.policy.confidential_terms"),
        ),
        sensitive_terms: v.terms(
            &raw.sensitive_terms,
            &format!("{path}.policy.sensitive_terms"),
        ),
        block_blame: raw.block_blame,
    }
}

pub(crate) fn validate_accounts(
    raw: &[PublishAccountForSerialization],
    path: &str,
    loc: &Locator<'_>,
    errors: &mut Vec<ConfigError>,
) -> Vec<PublishAccountConfig> {
    let mut v = V { loc, errors };
    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (i, a) in raw.iter().enumerate() {
        let p = format!("{path}.publish_accounts[{i}]");
        let id = a.id.get_ref().trim().to_owned();
        let id_ok = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            v.push(
                a.id.span(),
                format!("{p}.id"),
                format!("{id:?}: use 1 to 64 of a-z 0-9 - _"),
            );
            continue;
        }
        if !seen.insert(id.clone()) {
            v.push(
                a.id.span(),
                format!("{p}.id"),
                format!("publishing account {id:?} is defined twice in this workspace"),
            );
            continue;
        }
        match a.kind.get_ref().as_str() {
            "mastodon" => {
                v.refuse(a.pds.as_ref(), &p, "pds", "mastodon");
                v.refuse(a.identifier.as_ref(), &p, "identifier", "mastodon");
                v.refuse(a.password.as_ref(), &p, "password", "mastodon");
                let instance = v.required(a.instance.as_ref(), &a.id, &p, "instance", "mastodon");
                let token = v.required(a.token.as_ref(), &a.id, &p, "token", "mastodon");
                if let (Some(instance), Some(token)) = (instance, token)
                    && let Some(instance) = v.url(instance, &format!("{p}.instance"))
                {
                    out.push(PublishAccountConfig::Mastodon {
                        id,
                        instance,
                        token: Secret::new(token.get_ref().trim()),
                    });
                }
            }
            "bluesky" => {
                v.refuse(a.instance.as_ref(), &p, "instance", "bluesky");
                v.refuse(a.token.as_ref(), &p, "token", "bluesky");
                let pds = v.required(a.pds.as_ref(), &a.id, &p, "pds", "bluesky");
                let identifier =
                    v.required(a.identifier.as_ref(), &a.id, &p, "identifier", "bluesky");
                let password = v.required(a.password.as_ref(), &a.id, &p, "password", "bluesky");
                if let (Some(pds), Some(identifier), Some(password)) = (pds, identifier, password)
                    && let Some(pds) = v.url(pds, &format!("{p}.pds"))
                {
                    out.push(PublishAccountConfig::Bluesky {
                        id,
                        pds,
                        identifier: identifier.get_ref().trim().to_owned(),
                        password: Secret::new(password.get_ref().trim()),
                    });
                }
            }
            other => v.push(
                a.kind.span(),
                format!("{p}.type"),
                format!("unknown publishing account type {other:?}: expected mastodon or bluesky"),
            ),
        }
    }
    out
}
