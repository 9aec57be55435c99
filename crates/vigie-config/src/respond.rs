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
