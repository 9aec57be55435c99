//! Pure validation: raw structs in, typed [`Config`] or every mistake found out.

use crate::config::{
    Config, FileSourceConfig, SecureCookies, ServerConfig, SourceConfig, StorageConfig,
    WatchConfig, WorkspaceConfig, is_postgres_url,
};
use crate::duration::{format_duration, parse_duration};
use crate::error::{ConfigError, ConfigErrorKind as Kind};
use crate::languages::is_iso_639_1;
use crate::locate::{Locator, Step};
use crate::raw::{
    ConfigForSerialization, DetectionForSerialization, FileSourceForSerialization,
    ServerForSerialization, SourceForSerialization, StorageForSerialization, WatchForSerialization,
    WorkspaceForSerialization,
};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::time::Duration;
use toml::Spanned;
use vigie_model::{DetectionSettings, WatchId, WorkspaceId};

/// Validates a deserialized file. Collects every mistake rather than stopping at the first.
pub(crate) fn validate(
    raw: ConfigForSerialization,
    loc: &Locator<'_>,
) -> Result<Config, Vec<ConfigError>> {
    let mut v = Validator {
        loc,
        errors: Vec::new(),
    };
    let version = u32::try_from(*raw.version.get_ref()).unwrap_or(1);
    let storage = v.storage(&raw.storage);
    let server = v.server(&raw.server);
    let detection = v.detection(&raw.detection);
    let mut workspaces = Vec::new();
    if raw.workspaces.is_empty() {
        v.push(
            0..0,
            "workspaces".into(),
            Kind::Value,
            "no workspace configured: add a [[workspaces]] table with an id and a name".into(),
        );
    }
    let notify = crate::notify::validate_notify(&raw.notify, loc, &mut v.errors);
    let email_channels: Vec<String> = notify
        .channels
        .iter()
        .filter(|c| matches!(c.kind, crate::ChannelKind::Email { .. }))
        .map(|c| c.id.clone())
        .collect();
    let mut seen = HashMap::new();
    for (i, ws) in raw.workspaces.iter().enumerate() {
        let path = format!("workspaces[{i}]");
        let id = v.slug(&ws.id, &format!("{path}.id"), WorkspaceId::new);
        v.unique(&mut seen, &ws.id, &format!("{path}.id"), "workspace id");
        let workspace = v.workspace(i, ws, &path);
        let responsibilities = v.responsibilities(ws, &path);
        let policy = crate::respond::validate_policy(ws.policy.as_ref(), &path, loc, &mut v.errors);
        let publish_accounts =
            crate::respond::validate_accounts(&ws.publish_accounts, &path, loc, &mut v.errors);
        let digests = crate::respond::validate_digests(
            &ws.digests,
            &path,
            &email_channels,
            loc,
            &mut v.errors,
        );
        if let (Some(id), Some((name, watches, sources))) = (id, workspace) {
            workspaces.push(WorkspaceConfig {
                id,
                name,
                watches,
                sources,
                responsibilities,
                policy,
                publish_accounts,
                digests,
            });
        }
    }
    match (storage, server, detection) {
        (Some(storage), Some(server), Some(detection)) if v.errors.is_empty() => Ok(Config {
            version,
            storage,
            server,
            detection,
            workspaces,
            notify,
        }),
        _ => Err(v.errors),
    }
}

struct Validator<'a, 'i> {
    loc: &'a Locator<'i>,
    errors: Vec<ConfigError>,
}

type WorkspaceParts = (String, Vec<WatchConfig>, Vec<SourceConfig>);

impl Validator<'_, '_> {
    fn push(&mut self, span: Range<usize>, path: String, kind: Kind, message: String) {
        self.errors.push(self.loc.error(span, path, kind, message));
    }

    fn storage(&mut self, raw: &StorageForSerialization) -> Option<StorageConfig> {
        let database = raw.database.get_ref().trim();
        let path = "storage.database".to_owned();
        if database.is_empty() {
            self.push(
                raw.database.span(),
                path,
                Kind::Value,
                "database must not be empty: give a SQLite file path or a postgres:// URL".into(),
            );
            return None;
        }
        if let Some((scheme, _)) = database.split_once("://")
            && scheme != "sqlite"
            && !is_postgres_url(database)
        {
            self.push(
                raw.database.span(),
                path,
                Kind::Value,
                format!(
                    "unsupported database URL scheme {scheme:?}: use a SQLite file path, sqlite://, postgres:// or postgresql://"
                ),
            );
            return None;
        }
        Some(StorageConfig {
            database: database.to_owned(),
        })
    }

    fn server(&mut self, raw: &ServerForSerialization) -> Option<ServerConfig> {
        let listen = parse_listen(raw.listen.get_ref());
        if listen.is_none() {
            self.push(
                raw.listen.span(),
                "server.listen".into(),
                Kind::Value,
                format!(
                    "invalid listen address {:?}: expected an IP address and a port, e.g. \"127.0.0.1:8080\" or \"[::1]:8080\"",
                    raw.listen.get_ref()
                ),
            );
        }
        let max_body_bytes = match usize::try_from(*raw.max_body_bytes.get_ref()) {
            Ok(n) if n > 0 => Some(n),
            _ => {
                self.push(
                    raw.max_body_bytes.span(),
                    "server.max_body_bytes".into(),
                    Kind::Value,
                    "max_body_bytes must be at least 1 (bytes)".into(),
                );
                None
            }
        };
        let request_timeout =
            self.positive_duration(&raw.request_timeout, "server.request_timeout");
        let session_ttl = self.positive_duration(&raw.session_ttl, "server.session_ttl");
        let secure_cookies = match raw.secure_cookies.get_ref().as_str() {
            "auto" => Some(SecureCookies::Auto),
            "always" => Some(SecureCookies::Always),
            "never" => Some(SecureCookies::Never),
            other => {
                self.push(
                    raw.secure_cookies.span(),
                    "server.secure_cookies".into(),
                    Kind::Value,
                    format!("unknown value {other:?}: expected \"auto\", \"always\" or \"never\""),
                );
                None
            }
        };
        let login_max_failures =
            self.count_at_least_one(&raw.login_max_failures, "server.login_max_failures");
        let login_max_failures_per_address = self.count_at_least_one(
            &raw.login_max_failures_per_address,
            "server.login_max_failures_per_address",
        );
        let login_throttle_window =
            self.positive_duration(&raw.login_throttle_window, "server.login_throttle_window");
        let mut trusted_proxies = Some(Vec::new());
        for (i, p) in raw.trusted_proxies.get_ref().iter().enumerate() {
            match p.get_ref().trim().parse::<std::net::IpAddr>() {
                Ok(ip) => {
                    if let Some(list) = trusted_proxies.as_mut() {
                        list.push(ip);
                    }
                }
                Err(_) => {
                    self.push(
                        p.span(),
                        format!("server.trusted_proxies[{i}]"),
                        Kind::Value,
                        format!(
                            "{:?} is not an IP address (e.g. \"127.0.0.1\" or \"::1\")",
                            p.get_ref()
                        ),
                    );
                    trusted_proxies = None;
                }
            }
        }
        Some(ServerConfig {
            listen: listen?,
            max_body_bytes: max_body_bytes?,
            request_timeout: request_timeout?,
            session_ttl: session_ttl?,
            secure_cookies: secure_cookies?,
            login_max_failures: login_max_failures?,
            login_max_failures_per_address: login_max_failures_per_address?,
            login_throttle_window: login_throttle_window?,
            trusted_proxies: trusted_proxies?,
        })
    }

    fn detection(&mut self, raw: &DetectionForSerialization) -> Option<DetectionSettings> {
        let bucket = self.minutes(&raw.bucket, "detection.bucket", false);
        let window = self.minutes(&raw.window, "detection.window", false);
        let half_life = self.minutes(
            &raw.baseline_half_life,
            "detection.baseline_half_life",
            false,
        );
        let warmup = self.minutes(&raw.warmup, "detection.warmup", true);
        let cool_down = self.minutes(&raw.cool_down, "detection.cool_down", true);
        if let (Some(b), Some(w)) = (bucket, window)
            && w % b != 0
        {
            let below = (w / b).max(1) * b;
            self.push(
                raw.window.span(),
                "detection.window".into(),
                Kind::Value,
                format!(
                    "window {} is not a multiple of bucket {} (e.g. {} or {})",
                    raw.window.get_ref().trim(),
                    raw.bucket.get_ref().trim(),
                    minutes_text(below),
                    minutes_text(below.saturating_add(b))
                ),
            );
            return None;
        }
        let min_negative = self.at_least_one(
            &raw.min_negative_for_alert,
            "detection.min_negative_for_alert",
        );
        let min_authors = self.at_least_one(
            &raw.min_authors_for_crisis,
            "detection.min_authors_for_crisis",
        );
        let influencer = if *raw.influencer_followers.get_ref() == 0 {
            self.push(
                raw.influencer_followers.span(),
                "detection.influencer_followers".into(),
                Kind::Value,
                "influencer_followers must be at least 1".into(),
            );
            None
        } else {
            Some(*raw.influencer_followers.get_ref())
        };
        Some(DetectionSettings {
            bucket_minutes: bucket?,
            window_minutes: window?,
            baseline_half_life_minutes: half_life?,
            warmup_minutes: warmup?,
            cool_down_minutes: cool_down?,
            min_negative_for_alert: min_negative?,
            min_authors_for_crisis: min_authors?,
            influencer_followers: influencer?,
        })
    }

    fn workspace(
        &mut self,
        index: usize,
        raw: &WorkspaceForSerialization,
        path: &str,
    ) -> Option<WorkspaceParts> {
        let name = self.name(&raw.name, &format!("{path}.name"));
        let mut watches = Vec::new();
        let mut seen = HashMap::new();
        for (j, watch) in raw.watches.iter().enumerate() {
            let watch_path = format!("{path}.watches[{j}]");
            self.unique(
                &mut seen,
                &watch.id,
                &format!("{watch_path}.id"),
                "watch id",
            );
            if let Some(w) = self.watch(watch, &watch_path) {
                watches.push(w);
            }
        }
        let mut sources = Vec::new();
        let mut seen_sources: HashMap<String, usize> = HashMap::new();
        for (j, source) in raw.sources.iter().enumerate() {
            let base = [
                Step::Key("workspaces"),
                Step::Index(index),
                Step::Key("sources"),
                Step::Index(j),
            ];
            if let Some(s) = self.source(source, &base, &mut seen_sources) {
                sources.push(s);
            }
        }
        Some((name?, watches, sources))
    }

    /// `responsibilities = { legal = ["mona"], ceo = ["pat"] }`: role names are lowercase
    /// `a-z 0-9 _` (as scenarios write them), logins are non-empty.
    fn responsibilities(
        &mut self,
        raw: &WorkspaceForSerialization,
        path: &str,
    ) -> std::collections::BTreeMap<String, Vec<String>> {
        let mut out = std::collections::BTreeMap::new();
        let Some(map) = &raw.responsibilities else {
            return out;
        };
        for (role, logins) in map.get_ref() {
            let role_ok = !role.is_empty()
                && role.len() <= 64
                && role
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !role_ok {
                let span = logins.first().map_or_else(|| map.span(), Spanned::span);
                self.push(
                    span,
                    format!("{path}.responsibilities.{role}"),
                    Kind::Value,
                    format!(
                        "role {role:?}: use 1 to 64 lowercase letters, digits or '_' (e.g. legal, head_of_communication)"
                    ),
                );
                continue;
            }
            let mut held = Vec::new();
            for (k, login) in logins.iter().enumerate() {
                let l = login.get_ref().trim();
                if l.is_empty() {
                    self.push(
                        login.span(),
                        format!("{path}.responsibilities.{role}[{k}]"),
                        Kind::Value,
                        "a login cannot be empty".to_owned(),
                    );
                } else if !held.iter().any(|h: &String| h == l) {
                    held.push(l.to_owned());
                }
            }
            out.insert(role.clone(), held);
        }
        out
    }

    fn watch(&mut self, raw: &WatchForSerialization, path: &str) -> Option<WatchConfig> {
        let id = self.slug(&raw.id, &format!("{path}.id"), WatchId::new);
        let name = self.name(&raw.name, &format!("{path}.name"));
        let query = self.query(&raw.query, &format!("{path}.query"));
        let languages = self.languages(&raw.languages, &format!("{path}.languages"));
        let own_accounts = self.own_accounts(&raw.own_accounts, &format!("{path}.own_accounts"));
        Some(WatchConfig {
            id: id?,
            name: name?,
            query: query?,
            languages: languages?,
            own_accounts: own_accounts?,
        })
    }

    fn query(&mut self, raw: &Spanned<String>, path: &str) -> Option<vigie_query::Query> {
        match vigie_query::parse(raw.get_ref()) {
            Ok(query) => Some(query),
            Err(e) => {
                let span = raw.span();
                let at = self.loc.offset_in_string(&span, raw.get_ref(), e.position);
                let mut message = format!("{} at {}", e.message, e.position);
                if let Some(hint) = &e.hint {
                    message.push_str(&format!(" (hint: {hint})"));
                }
                self.push(at..span.end, path.to_owned(), Kind::Query, message);
                None
            }
        }
    }

    fn languages(&mut self, raw: &[Spanned<String>], path: &str) -> Option<Vec<String>> {
        let before = self.errors.len();
        let mut out: Vec<String> = Vec::new();
        for (k, lang) in raw.iter().enumerate() {
            let code = lang.get_ref().trim();
            let item = format!("{path}[{k}]");
            if !is_iso_639_1(code) {
                let lower = code.to_ascii_lowercase();
                let hint = if is_iso_639_1(&lower) {
                    format!(" (write it in lowercase: {lower:?})")
                } else {
                    " (use two-letter ISO 639-1 codes such as \"fr\" or \"en\")".to_owned()
                };
                self.push(
                    lang.span(),
                    item,
                    Kind::Language,
                    format!("unknown language {code:?}{hint}"),
                );
            } else if out.iter().any(|c| c == code) {
                self.push(
                    lang.span(),
                    item,
                    Kind::Duplicate,
                    format!("language {code:?} is listed twice"),
                );
            } else {
                out.push(code.to_owned());
            }
        }
        (self.errors.len() == before).then_some(out)
    }

    fn own_accounts(&mut self, raw: &[Spanned<String>], path: &str) -> Option<Vec<String>> {
        let before = self.errors.len();
        let mut out: Vec<String> = Vec::new();
        for (k, account) in raw.iter().enumerate() {
            let handle = account.get_ref().trim();
            let handle = handle.strip_prefix('@').unwrap_or(handle).to_lowercase();
            let item = format!("{path}[{k}]");
            if handle.is_empty() || handle.chars().any(char::is_whitespace) {
                self.push(
                    account.span(),
                    item,
                    Kind::Value,
                    format!(
                        "invalid handle {:?}: write the account's handle, e.g. \"orsane\" or \"orsane@mastodon.social\"",
                        account.get_ref()
                    ),
                );
            } else if out.contains(&handle) {
                self.push(
                    account.span(),
                    item,
                    Kind::Duplicate,
                    format!("own account {handle:?} is listed twice"),
                );
            } else {
                out.push(handle);
            }
        }
        (self.errors.len() == before).then_some(out)
    }

    fn source(
        &mut self,
        raw: &Spanned<SourceForSerialization>,
        base: &[Step<'_>],
        seen: &mut HashMap<String, usize>,
    ) -> Option<SourceConfig> {
        let (file, make): (
            &FileSourceForSerialization,
            fn(FileSourceConfig) -> SourceConfig,
        ) = match raw.get_ref() {
            SourceForSerialization::Jsonl(f) => (f, SourceConfig::Jsonl),
            SourceForSerialization::Csv(f) => (f, SourceConfig::Csv),
            other => return self.network_source(other, raw, base, seen),
        };
        let loc = self.loc;
        let field = |name: &'static str| {
            let mut steps = base.to_vec();
            steps.push(Step::Key(name));
            let span = loc.span_of(&steps).unwrap_or_else(|| raw.span());
            (span, crate::locate::render_path(&steps))
        };
        let (id_span, id_path) = field("id");
        let id = self.slug(
            &Spanned::new(id_span.clone(), file.id.clone()),
            &id_path,
            WorkspaceId::new,
        );
        if let Some(first) = seen.get(&file.id) {
            let (line, _) = self.loc.line_column(*first);
            self.push(
                id_span,
                id_path,
                Kind::Duplicate,
                format!(
                    "duplicate source id {:?} (first defined on line {line})",
                    file.id
                ),
            );
        } else {
            seen.insert(file.id.clone(), id_span.start);
        }
        let (path_span, path_path) = field("path");
        let path_ok = !file.path.as_os_str().is_empty();
        if !path_ok {
            self.push(
                path_span,
                path_path,
                Kind::Value,
                "path must not be empty".into(),
            );
        }
        let (poll_span, poll_path) = field("poll_interval");
        let poll = self.positive_duration(
            &Spanned::new(poll_span, file.poll_interval.clone()),
            &poll_path,
        );
        id?;
        path_ok.then_some(())?;
        Some(make(FileSourceConfig {
            id: file.id.clone(),
            path: file.path.clone(),
            poll_interval: poll?,
        }))
    }

    /// A network source (`sources.rs`): the id checks of [`Self::source`], then its own.
    fn network_source(
        &mut self,
        other: &SourceForSerialization,
        raw: &Spanned<SourceForSerialization>,
        base: &[Step<'_>],
        seen: &mut HashMap<String, usize>,
    ) -> Option<SourceConfig> {
        let loc = self.loc;
        let field = |name: &'static str| {
            let mut steps = base.to_vec();
            steps.push(Step::Key(name));
            let span = loc.span_of(&steps).unwrap_or_else(|| raw.span());
            (span, crate::locate::render_path(&steps))
        };
        let id = crate::sources::network_id(other)
            .unwrap_or_default()
            .to_owned();
        let (id_span, id_path) = field("id");
        let slug = self.slug(
            &Spanned::new(id_span.clone(), id.clone()),
            &id_path,
            WorkspaceId::new,
        );
        if let Some(first) = seen.get(&id) {
            let (line, _) = self.loc.line_column(*first);
            let message = format!("duplicate source id {id:?} (first defined on line {line})");
            self.push(id_span, id_path, Kind::Duplicate, message);
        } else {
            seen.insert(id, id_span.start);
        }
        let mut checker = crate::sources::Checker {
            field: &field,
            problems: Vec::new(),
        };
        let built = crate::sources::validate_network(other, &mut checker);
        for (span, path, kind, message) in checker.problems {
            self.push(span, path, kind, message);
        }
        slug?;
        built
    }

    fn slug<T, E: std::fmt::Display>(
        &mut self,
        raw: &Spanned<String>,
        path: &str,
        make: fn(String) -> Result<T, E>,
    ) -> Option<T> {
        match make(raw.get_ref().clone()) {
            Ok(id) => Some(id),
            Err(e) => {
                self.push(raw.span(), path.to_owned(), Kind::Id, e.to_string());
                None
            }
        }
    }

    fn unique(
        &mut self,
        seen: &mut HashMap<String, usize>,
        raw: &Spanned<String>,
        path: &str,
        what: &str,
    ) {
        let id = raw.get_ref();
        if let Some(first) = seen.get(id) {
            let (line, _) = self.loc.line_column(*first);
            self.push(
                raw.span(),
                path.to_owned(),
                Kind::Duplicate,
                format!("duplicate {what} {id:?} (first defined on line {line})"),
            );
        } else {
            seen.insert(id.clone(), raw.span().start);
        }
    }

    fn name(&mut self, raw: &Spanned<String>, path: &str) -> Option<String> {
        let name = raw.get_ref().trim();
        if name.is_empty() {
            self.push(
                raw.span(),
                path.to_owned(),
                Kind::Value,
                "name must not be empty".into(),
            );
            return None;
        }
        Some(name.to_owned())
    }

    fn duration(&mut self, raw: &Spanned<String>, path: &str) -> Option<Duration> {
        match parse_duration(raw.get_ref()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.push(raw.span(), path.to_owned(), Kind::Duration, e.to_string());
                None
            }
        }
    }

    fn count_at_least_one(&mut self, raw: &Spanned<u64>, path: &str) -> Option<u32> {
        match u32::try_from(*raw.get_ref()) {
            Ok(n) if n > 0 => Some(n),
            _ => {
                self.push(
                    raw.span(),
                    path.to_owned(),
                    Kind::Value,
                    "expected a whole number from 1 to 4294967295".into(),
                );
                None
            }
        }
    }

    fn positive_duration(&mut self, raw: &Spanned<String>, path: &str) -> Option<Duration> {
        let d = self.duration(raw, path)?;
        if d.is_zero() {
            self.push(
                raw.span(),
                path.to_owned(),
                Kind::Duration,
                "duration must be longer than zero".into(),
            );
            return None;
        }
        Some(d)
    }

    fn minutes(&mut self, raw: &Spanned<String>, path: &str, allow_zero: bool) -> Option<u32> {
        let d = self.duration(raw, path)?;
        let message = if d.as_millis() % 60_000 != 0 {
            format!(
                "{} is not a whole number of minutes (detection works in minutes)",
                format_duration(d)
            )
        } else if d.is_zero() && !allow_zero {
            "duration must be at least 1m".to_owned()
        } else {
            match u32::try_from(d.as_secs() / 60) {
                Ok(m) => return Some(m),
                Err(_) => "duration is too long".to_owned(),
            }
        };
        self.push(raw.span(), path.to_owned(), Kind::Duration, message);
        None
    }

    fn at_least_one(&mut self, raw: &Spanned<u32>, path: &str) -> Option<u32> {
        if *raw.get_ref() == 0 {
            self.push(
                raw.span(),
                path.to_owned(),
                Kind::Value,
                "must be at least 1".into(),
            );
            return None;
        }
        Some(*raw.get_ref())
    }
}

/// `host:port` with an IP address; `localhost:PORT` is read as `127.0.0.1:PORT`.
fn parse_listen(s: &str) -> Option<SocketAddr> {
    let s = s.trim();
    if let Ok(addr) = s.parse() {
        return Some(addr);
    }
    let port = s.strip_prefix("localhost:")?.parse().ok()?;
    Some(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

fn minutes_text(minutes: u32) -> String {
    format_duration(Duration::from_secs(u64::from(minutes) * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_accepts_ip_and_localhost() {
        assert_eq!(
            parse_listen("localhost:9000"),
            Some(SocketAddr::from(([127, 0, 0, 1], 9000)))
        );
        assert_eq!(parse_listen("[::1]:80"), Some("[::1]:80".parse().unwrap()));
        assert_eq!(parse_listen("example.com:80"), None);
        assert_eq!(parse_listen("127.0.0.1"), None);
    }

    #[test]
    fn suggests_minutes_in_their_own_unit() {
        assert_eq!(minutes_text(60), "1h");
        assert_eq!(minutes_text(45), "45m");
    }
}
