//! Accounts and access control: password hashing (Argon2id), random secrets, sessions and
//! their cookies, CSRF tokens, API tokens, login throttling, TOTP, and the layer that guards
//! every `/api/v1` route and every workspace page.
//!
//! The guard is generic: a route whose path has a `{ws}` parameter is only reachable by a
//! member of that workspace (anyone else gets the same 404 as for a workspace that does not
//! exist), so routes merged by other modules are protected without doing anything. Handlers
//! that need a minimum role take a [`CurrentUser`] and call [`CurrentUser::require`].

pub mod guard;
pub mod totp;

use crate::error::{ApiError, ErrorCode};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest;
use std::net::IpAddr;
use std::time::Duration;
use vigie_model::{Timestamp, WorkspaceId};
use vigie_store::{AccountStore, UserRecord};
pub use vigie_store::{Role, TokenScope};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "vigie_session";
/// Name of the cookie holding the CSRF token of the login form (before any session exists).
pub const LOGIN_CSRF_COOKIE: &str = "vigie_login_csrf";
/// Header carrying the CSRF token on cookie-authenticated JSON mutations.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";
/// Prefix of API tokens (makes leaked tokens easy to grep for).
pub const API_TOKEN_PREFIX: &str = "vgt_";
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Security settings of the web application (from `[server]`, see
/// [`AuthSettings::from_server`]).
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// How long a session lives after login (default 12 hours).
    pub session_ttl: Duration,
    /// Failed logins allowed per login name within [`AuthSettings::throttle_window`] before
    /// further attempts are refused (default 5).
    pub max_failures: u32,
    /// Failed logins allowed per client address, whatever the logins tried, within the
    /// window (default 20): stops one client from trying a few passwords on many logins.
    pub max_failures_per_address: u32,
    /// The counting window of failed logins (default 15 minutes).
    pub throttle_window: Duration,
    /// `Some(true)`: always mark cookies `Secure`; `Some(false)`: never; `None` (default):
    /// always, except for plain HTTP to a loopback host (see [`secure_for`]).
    pub secure_cookies: Option<bool>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (default loopback).
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self::from_server(&vigie_config::Config::embedded_default().server)
    }
}

impl AuthSettings {
    /// The settings of `[server]`.
    pub fn from_server(server: &vigie_config::ServerConfig) -> Self {
        Self {
            session_ttl: server.session_ttl,
            max_failures: server.login_max_failures,
            max_failures_per_address: server.login_max_failures_per_address,
            throttle_window: server.login_throttle_window,
            secure_cookies: match server.secure_cookies {
                vigie_config::SecureCookies::Auto => None,
                vigie_config::SecureCookies::Always => Some(true),
                vigie_config::SecureCookies::Never => Some(false),
            },
            trusted_proxies: server.trusted_proxies.clone(),
        }
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy, the last
    /// address in `X-Forwarded-For` that is not itself a trusted proxy (the one the nearest
    /// proxy saw; earlier entries are whatever the client claimed).
    /// Addresses are canonical (`::ffff:127.0.0.1` is `127.0.0.1`), and `X-Forwarded-For`
    /// entries may carry a port (`203.0.113.9:5123`, `[2001:db8::1]:443`).
    pub fn client_address(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?.to_canonical();
        let trusted = |a: &IpAddr| self.trusted_proxies.iter().any(|t| t.to_canonical() == *a);
        if !trusted(&peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| {
                let a = a.trim();
                a.parse::<IpAddr>()
                    .ok()
                    .or_else(|| a.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
                    .map(|ip| ip.to_canonical())
            })
            .collect();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|a| !trusted(a))
                .unwrap_or(peer),
        )
    }

    /// The throttling key of a client address: the address itself, or its /64 for IPv6
    /// (one subscriber usually holds a whole /64).
    pub fn address_key(ip: IpAddr) -> String {
        match ip.to_canonical() {
            IpAddr::V4(v4) => format!("addr:{v4}"),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("addr:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

/// Errors of the account helpers.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The operating system gave no random bytes.
    #[error("no randomness available: {0}")]
    Random(String),
    /// Argon2 failed (bad parameters or a corrupt stored hash).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// A password that is too short.
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
}

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, AuthError> {
    let mut buf = vec![0_u8; n];
    getrandom::fill(&mut buf).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(buf)
}

/// A random URL-safe secret of 32 bytes (256 bits).
pub fn random_secret() -> Result<String, AuthError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes(32)?))
}

/// The SHA-256 hex digest under which a session or API token is stored.
pub fn digest(secret: &str) -> String {
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// Hashes a password with Argon2id (default parameters: 19 MiB, 2 passes) and a random salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::WeakPassword);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` matches the stored PHC string (constant time inside argon2).
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

/// A new API token: the secret to show once, and its digest to store.
pub fn new_api_token() -> Result<(String, String), AuthError> {
    let secret = format!("{API_TOKEN_PREFIX}{}", random_secret()?);
    let hash = digest(&secret);
    Ok((secret, hash))
}

/// Constant-time string comparison (CSRF tokens).
pub fn same_secret(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}

/// The value of cookie `name` in the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, `Secure` when asked.
pub fn set_cookie(name: &str, value: &str, max_age: Option<Duration>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={}", age.as_secs()));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// Whether cookies must be `Secure` for this request. By default (`secure_cookies` unset):
/// yes, unless the request is plain HTTP (no `X-Forwarded-Proto: https`) to a loopback host
/// (`localhost`, `127.0.0.0/8`, `[::1]`), which browsers treat as a secure context anyway.
/// A plain-HTTP request to any other host gets `Secure` cookies that the browser will not
/// keep: the login page says so ([`plain_http_elsewhere`]).
pub fn secure_for(settings: &AuthSettings, headers: &HeaderMap) -> bool {
    settings
        .secure_cookies
        .unwrap_or_else(|| forwarded_https(headers) || !loopback_host(headers))
}

/// A plain-HTTP request to a host that is not loopback while cookies are `Secure`: the
/// browser will drop the session cookie, so the login page explains what to do.
pub fn plain_http_elsewhere(settings: &AuthSettings, headers: &HeaderMap) -> bool {
    secure_for(settings, headers) && !forwarded_https(headers) && !loopback_host(headers)
}

fn forwarded_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// Whether the `Host` header names a loopback host (`localhost`, `*.localhost`,
/// `127.0.0.0/8`, `[::1]`), with or without a port.
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// How the request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A browser session; mutations must carry its CSRF token.
    Session {
        /// Digest of the cookie value (to log out).
        token_hash: String,
        /// The CSRF token of the session.
        csrf: String,
    },
    /// An API token.
    Token {
        /// Its id.
        id: i64,
        /// What it may do.
        scope: TokenScope,
    },
}

/// The authenticated user of a request, with their role in the workspace of the path (when
/// the path has one). Inserted into the request extensions by the guard; extract it in
/// handlers.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The user.
    pub user: UserRecord,
    /// Their workspaces and roles.
    pub roles: Vec<(WorkspaceId, Role)>,
    /// How they authenticated.
    pub credential: Credential,
    /// The workspace named in the path and the user's role there.
    pub workspace: Option<(WorkspaceId, Role)>,
}

impl CurrentUser {
    /// The user's role in the workspace of the path; 403 `forbidden` when it is below
    /// `minimum` (or when the route has no workspace).
    pub fn require(&self, minimum: Role) -> Result<Role, ApiError> {
        match &self.workspace {
            Some((_, role)) if role.at_least(minimum) => Ok(*role),
            Some((ws, role)) => Err(ApiError::forbidden(format!(
                "this needs the {} role in workspace {ws}; you are {}",
                minimum.as_str(),
                role.as_str()
            ))),
            None => Err(ApiError::forbidden("this route names no workspace")),
        }
    }

    /// The user's role in `ws`, if a member.
    pub fn role_in(&self, ws: &WorkspaceId) -> Option<Role> {
        self.roles.iter().find(|(w, _)| w == ws).map(|(_, r)| *r)
    }

    /// Whether the user is admin of at least one workspace.
    pub fn is_admin_somewhere(&self) -> bool {
        self.roles.iter().any(|(_, r)| *r == Role::Admin)
    }

    /// The CSRF token to put in forms (empty for token-authenticated requests).
    pub fn csrf(&self) -> &str {
        match &self.credential {
            Credential::Session { csrf, .. } => csrf,
            Credential::Token { .. } => "",
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(|| ApiError {
                code: ErrorCode::Unauthorized,
                message: "authentication required".into(),
            })
    }
}

/// Why a request could not be authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No cookie and no `Authorization` header.
    Missing,
    /// The session expired or was logged out.
    SessionExpired,
    /// Unknown, revoked or malformed API token.
    BadToken,
}

/// Who is making the request: from `Authorization: Bearer vgt_…` or the session cookie.
pub async fn authenticate(
    accounts: &dyn AccountStore,
    headers: &HeaderMap,
    now: Timestamp,
) -> Result<Result<CurrentUser, AuthFailure>, ApiError> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let (user_id, credential) = if let Some(secret) = bearer {
        let Some(token) = accounts.api_token_by_hash(&digest(secret.trim())).await? else {
            return Ok(Err(AuthFailure::BadToken));
        };
        if token.revoked_at.is_some() {
            return Ok(Err(AuthFailure::BadToken));
        }
        accounts.touch_api_token(token.id, now).await?;
        (
            token.user_id,
            Credential::Token {
                id: token.id,
                scope: token.scope,
            },
        )
    } else if let Some(value) = cookie(headers, SESSION_COOKIE) {
        let hash = digest(value);
        let Some(session) = accounts.session(&hash, now).await? else {
            return Ok(Err(AuthFailure::SessionExpired));
        };
        (
            session.user_id,
            Credential::Session {
                token_hash: hash,
                csrf: session.csrf_token,
            },
        )
    } else {
        return Ok(Err(AuthFailure::Missing));
    };
    let Some(user) = accounts.user_by_id(user_id).await? else {
        return Ok(Err(AuthFailure::SessionExpired));
    };
    let roles = accounts.roles_of(user.id).await?;
    Ok(Ok(CurrentUser {
        user,
        roles,
        credential,
        workspace: None,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("x", "not a phc string"));
        assert!(matches!(
            hash_password("short"),
            Err(AuthError::WeakPassword)
        ));
        // Salted: the same password hashes differently.
        assert_ne!(h, hash_password("correct horse battery").unwrap());
    }

    #[test]
    fn secrets_are_random_and_stored_as_digests() {
        let a = random_secret().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_secret().unwrap());
        let (token, hash) = new_api_token().unwrap();
        assert!(token.starts_with("vgt_"));
        assert_eq!(hash, digest(&token));
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&token));
    }

    #[test]
    fn cookies_parse_and_render() {
        let mut h = HeaderMap::new();
        h.insert("cookie", "a=1; vigie_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
        let c = set_cookie("s", "v", Some(Duration::from_secs(60)), true);
        assert_eq!(c, "s=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure");
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd"));
    }

    fn host(h: &str, proto: Option<&str>) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert("host", h.parse().unwrap());
        if let Some(p) = proto {
            m.insert("x-forwarded-proto", p.parse().unwrap());
        }
        m
    }

    #[test]
    fn cookies_are_secure_except_plain_http_to_loopback() {
        let auto = AuthSettings::default();
        for loopback in [
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:3000",
            "app.localhost:80",
            "[::1]:8080",
            "127.1.2.3",
        ] {
            assert!(!secure_for(&auto, &host(loopback, None)), "{loopback}");
            assert!(!plain_http_elsewhere(&auto, &host(loopback, None)));
            assert!(
                secure_for(&auto, &host(loopback, Some("https"))),
                "{loopback}"
            );
        }
        for elsewhere in ["vigie.example.org", "192.168.1.20:8080", "[2001:db8::1]:80"] {
            assert!(secure_for(&auto, &host(elsewhere, None)), "{elsewhere}");
            assert!(plain_http_elsewhere(&auto, &host(elsewhere, None)));
            assert!(!plain_http_elsewhere(
                &auto,
                &host(elsewhere, Some("https"))
            ));
        }
        // No Host header at all: secure.
        assert!(secure_for(&auto, &HeaderMap::new()));
        let never = AuthSettings {
            secure_cookies: Some(false),
            ..AuthSettings::default()
        };
        assert!(!secure_for(&never, &host("vigie.example.org", None)));
        assert!(!plain_http_elsewhere(
            &never,
            &host("vigie.example.org", None)
        ));
        let always = AuthSettings {
            secure_cookies: Some(true),
            ..AuthSettings::default()
        };
        assert!(secure_for(&always, &host("localhost", None)));
    }

    #[test]
    fn client_address_believes_only_trusted_proxies() {
        let settings = AuthSettings::default();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6, 203.0.113.9".parse().unwrap());
        // A direct client cannot choose its address with the header.
        assert_eq!(
            settings.client_address(Some(ip("198.51.100.7")), &h),
            Some(ip("198.51.100.7"))
        );
        // Behind the local proxy: the address the proxy saw (the last entry).
        assert_eq!(
            settings.client_address(Some(ip("127.0.0.1")), &h),
            Some(ip("203.0.113.9"))
        );
        // Chained trusted proxies are skipped.
        h.insert("x-forwarded-for", "203.0.113.9, ::1".parse().unwrap());
        assert_eq!(
            settings.client_address(Some(ip("::1")), &h),
            Some(ip("203.0.113.9"))
        );
        // No header: the proxy itself.
        assert_eq!(
            settings.client_address(Some(ip("127.0.0.1")), &HeaderMap::new()),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(settings.client_address(None, &h), None);
        // A mapped IPv4 peer is the IPv4 proxy; entries with a port are read.
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9:5123, [2001:db8::1]:443".parse().unwrap(),
        );
        assert_eq!(
            settings.client_address(Some(ip("::ffff:127.0.0.1")), &h),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(
            AuthSettings::address_key(ip("2001:db8:1:2:aaaa::1")),
            AuthSettings::address_key(ip("2001:db8:1:2:bbbb::9")),
            "one IPv6 /64, one key"
        );
        assert_eq!(
            AuthSettings::address_key(ip("::ffff:10.0.0.1")),
            "addr:10.0.0.1"
        );
    }
}
