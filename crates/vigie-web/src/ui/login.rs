//! Signing in and out: `GET/POST /login`, `POST /logout`.
//!
//! The login form carries a CSRF token that is also set in a short-lived cookie (double
//! submit: there is no session yet). Failed attempts are counted per login name and per
//! client address; after `max_failures` for the login (or `max_failures_per_address` for the
//! address) within the window, further attempts are refused (429) until the window ends,
//! even with the right password. A user with TOTP must give a valid code, once.

use super::{Lang, Nav, Tr, render};
use crate::auth::{
    AuthSettings, Credential, CurrentUser, LOGIN_CSRF_COOKIE, SESSION_COOKIE, cookie, digest,
    plain_http_elsewhere, random_secret, same_secret, secure_for, set_cookie, totp,
    verify_password,
};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::ConnectInfo;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use vigie_model::Timestamp;
use vigie_store::SessionRecord;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr,
    nav: Nav,
    csrf: String,
    next: String,
    login: String,
    message: String,
    /// Plain HTTP to a non-loopback host while cookies are `Secure`: sign-in cannot work.
    insecure_warning: String,
}

/// `?next=&expired=1`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

/// Only local paths are followed after login (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    login: &str,
    message_key: Option<&str>,
) -> Response {
    let tr = Tr(Lang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    ));
    let csrf = match random_secret() {
        Ok(c) => c,
        Err(e) => return ApiError::internal(&e).into_response(),
    };
    let page = LoginPage {
        tr,
        nav: Nav {
            time_zone: "UTC".into(),
            ..Nav::default()
        },
        csrf: csrf.clone(),
        next: next.to_owned(),
        login: login.to_owned(),
        message: message_key.map(|k| tr.s(k).to_owned()).unwrap_or_default(),
        insecure_warning: if plain_http_elsewhere(&state.auth, headers) {
            tr.s("plain_http_warning").to_owned()
        } else {
            String::new()
        },
    };
    let mut response = (status, render(&page)).into_response();
    let c = set_cookie(
        LOGIN_CSRF_COOKIE,
        &csrf,
        Some(Duration::from_secs(3600)),
        secure_for(&state.auth, headers),
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

pub(crate) async fn login_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let message = q.expired.is_some().then_some("session_expired");
    login_page(
        &state,
        &headers,
        StatusCode::OK,
        &safe_next(q.next.as_deref()),
        "",
        message,
    )
}

/// The login form.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    totp: String,
}

/// The outcome of a login attempt, before any cookie is written.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LoginOutcome {
    /// Signed in: the session cookie value and the user id.
    Success { cookie_value: String, user: i64 },
    /// Wrong login, password or code (counted).
    Rejected,
    /// Too many failures: not even checked.
    Throttled,
}

/// Checks credentials with throttling and, on success, creates a session.
pub(crate) async fn attempt_login(
    state: &AppState,
    client: Option<IpAddr>,
    login: &str,
    password: &str,
    code: &str,
) -> Result<LoginOutcome, ApiError> {
    let accounts = state.store.accounts();
    let now = state.clock.now();
    let settings: &AuthSettings = &state.auth;
    let window = i64::try_from(settings.throttle_window.as_millis()).unwrap_or(i64::MAX);
    let key = format!("login:{}", login.trim().to_lowercase());
    let address_key = client.map(crate::auth::AuthSettings::address_key);
    let mut keys = vec![(key.as_str(), settings.max_failures)];
    if let Some(k) = &address_key {
        keys.push((k.as_str(), settings.max_failures_per_address));
    }
    for (k, max) in &keys {
        if let Some(t) = accounts.throttle_state(k).await?
            && t.failures >= *max
            && t.window_start.as_millis() > now.as_millis() - window
        {
            return Ok(LoginOutcome::Throttled);
        }
    }
    let user = accounts.user_by_login(login.trim()).await?;
    // Argon2 takes tens of milliseconds of CPU: off the async threads. Unknown logins are
    // verified against a fixed hash so that timing does not reveal which logins exist.
    let phc = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.to_owned(), |u| u.password_hash.clone());
    let given = password.to_owned();
    let password_ok = tokio::task::spawn_blocking(move || verify_password(&given, &phc))
        .await
        .unwrap_or(false);
    let ok = match &user {
        None => false,
        Some(_) if !password_ok => false,
        Some(u) => match u.totp_secret.as_deref() {
            None => true,
            // A code is good once: a code seen on the wire or over a shoulder cannot open a
            // second session within its 90 s of validity.
            Some(secret) => match totp::verify_step(secret, code, now) {
                None => false,
                Some(step) => {
                    accounts
                        .use_totp_step(u.id, i64::try_from(step).unwrap_or(i64::MAX))
                        .await?
                }
            },
        },
    };
    let Some(user) = user.filter(|_| ok) else {
        for (k, _) in &keys {
            accounts.record_login_failure(k, now, window).await?;
        }
        return Ok(LoginOutcome::Rejected);
    };
    // Only the login's counter is cleared: one valid account must not let a client reset the
    // count of its attempts on other logins.
    accounts.clear_login_failures(&key).await?;
    let secret = random_secret().map_err(|e| ApiError::internal(&e))?;
    let csrf = random_secret().map_err(|e| ApiError::internal(&e))?;
    let ttl = i64::try_from(settings.session_ttl.as_millis()).unwrap_or(i64::MAX);
    accounts.delete_expired_sessions(now).await?;
    accounts
        .create_session(&SessionRecord {
            token_hash: digest(&secret),
            user_id: user.id,
            csrf_token: csrf,
            created_at: now,
            expires_at: Timestamp::from_millis(now.as_millis().saturating_add(ttl)),
        })
        .await?;
    Ok(LoginOutcome::Success {
        cookie_value: secret,
        user: user.id,
    })
}

/// An Argon2id hash of a random password, verified when the login is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0Gk2Hcn5/1YpC9RbKVPbh+6d5dwE8V6dJ3HtR0dKW8s";

pub(crate) async fn login_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    // The peer address is there when the server runs with connect info (`serve_with`);
    // in-process tests have none and count per login only.
    let client = state
        .auth
        .client_address(peer.map(|axum::Extension(ConnectInfo(a))| a.ip()), &headers);
    let Ok(Form(form)) = form else {
        return login_page(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            "/",
            "",
            Some("bad_login"),
        );
    };
    let next = safe_next(form.next.as_deref());
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(&form.csrf, expected) {
        return login_page(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            &next,
            &form.login,
            Some("csrf_login"),
        );
    }
    match attempt_login(&state, client, &form.login, &form.password, &form.totp).await {
        Err(e) => e.into_response(),
        Ok(LoginOutcome::Throttled) => login_page(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            &form.login,
            Some("throttled"),
        ),
        Ok(LoginOutcome::Rejected) => login_page(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            &next,
            &form.login,
            Some("bad_login"),
        ),
        Ok(LoginOutcome::Success { cookie_value, .. }) => {
            let mut response = super::see_other(&next);
            let secure = secure_for(&state.auth, &headers);
            let c = set_cookie(
                SESSION_COOKIE,
                &cookie_value,
                Some(state.auth.session_ttl),
                secure,
            );
            if let Ok(v) = HeaderValue::from_str(&c) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            let clear = set_cookie(LOGIN_CSRF_COOKIE, "", Some(Duration::ZERO), secure);
            if let Ok(v) = HeaderValue::from_str(&clear) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            response
        }
    }
}

/// `POST /logout`: deletes the session server-side and clears the cookie.
pub(crate) async fn logout_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: CurrentUser,
) -> Response {
    if let Credential::Session { token_hash, .. } = &user.credential
        && let Err(e) = state.store.accounts().delete_session(token_hash).await
    {
        return ApiError::from(e).into_response();
    }
    let mut response = super::see_other("/login");
    let clear = set_cookie(
        SESSION_COOKIE,
        "",
        Some(Duration::ZERO),
        secure_for(&state.auth, &headers),
    );
    if let Ok(v) = HeaderValue::from_str(&clear) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/w/acme")), "/w/acme");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn the_dummy_hash_parses() {
        assert!(argon2::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("anything", DUMMY_HASH));
    }
}
