//! The access-control layers: [`api_guard`] on every `/api/v1` route and [`ui_guard`] on
//! every page that needs a signed-in user.
//!
//! Both are installed with `route_layer` after all routes are added, so they run after
//! routing: the matched route pattern and its path parameters are known. A `{ws}` parameter
//! is checked generically against the user's memberships.

use super::{
    AuthFailure, CSRF_FIELD, CSRF_HEADER, Credential, CurrentUser, Role, TokenScope, authenticate,
    same_secret,
};
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use vigie_model::WorkspaceId;

/// `/api/v1` routes reachable without credentials: the OpenAPI document, and signed
/// acknowledgement links (the signature in the link is the credential; see the
/// mobilizing module).
pub const PUBLIC_API_ROUTES: &[&str] = &["/api/v1/openapi.json"];
/// Route prefixes under `/api/v1` reachable without credentials.
pub const PUBLIC_API_PREFIXES: &[&str] = &["/api/v1/ack/"];

/// Whether the matched route pattern is public.
pub fn is_public_api_route(pattern: &str) -> bool {
    PUBLIC_API_ROUTES.contains(&pattern)
        || PUBLIC_API_PREFIXES.iter().any(|p| pattern.starts_with(p))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// What a guard decided.
enum Decision {
    Allow(Box<CurrentUser>),
    Deny(Denial),
}

enum Denial {
    Unauthenticated(AuthFailure),
    NotMember(String),
    Forbidden(String),
    Csrf,
    Error(ApiError),
}

/// Authenticates, checks the token scope, and checks membership of the `{ws}` of the path.
/// CSRF is checked by the callers (they know where the token travels).
async fn decide(state: &AppState, parts: &mut axum::http::request::Parts) -> Decision {
    let now = state.clock.now();
    let mut user = match authenticate(state.store.accounts(), &parts.headers, now).await {
        Err(e) => return Decision::Deny(Denial::Error(e)),
        Ok(Err(failure)) => return Decision::Deny(Denial::Unauthenticated(failure)),
        Ok(Ok(user)) => user,
    };
    let safe = is_safe(&parts.method);
    if let Credential::Token {
        scope: TokenScope::Read,
        ..
    } = user.credential
        && !safe
    {
        return Decision::Deny(Denial::Forbidden(
            "this API token is read-only (scope read)".into(),
        ));
    }
    let params = RawPathParams::from_request_parts(parts, state).await.ok();
    let ws_raw = params.as_ref().and_then(|p| {
        p.iter()
            .find(|(k, _)| *k == "ws")
            .map(|(_, v)| v.to_owned())
    });
    if let Some(raw) = ws_raw {
        let role = WorkspaceId::new(&raw)
            .ok()
            .and_then(|ws| user.role_in(&ws).map(|r| (ws, r)));
        match role {
            None => return Decision::Deny(Denial::NotMember(raw)),
            Some((ws, role)) => {
                if !safe && !role.at_least(Role::Responder) {
                    return Decision::Deny(Denial::Forbidden(format!(
                        "viewers cannot change anything in workspace {ws}"
                    )));
                }
                user.workspace = Some((ws, role));
            }
        }
    }
    Decision::Allow(Box::new(user))
}

/// The guard of `/api/v1`: 401 without valid credentials, 404 for a workspace the user is
/// not a member of (the same answer as for one that does not exist), 403 for a read-only
/// token or a viewer trying to change something, 403 for a cookie-authenticated mutation
/// without the session's CSRF token in `X-CSRF-Token`.
pub async fn api_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let pattern = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    if is_public_api_route(&pattern) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let user = match decide(&state, &mut parts).await {
        Decision::Allow(user) => user,
        Decision::Deny(d) => return api_denial(d),
    };
    if let Credential::Session { csrf, .. } = &user.credential
        && !is_safe(&parts.method)
    {
        let given = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !same_secret(given, csrf) {
            return api_denial(Denial::Csrf);
        }
    }
    parts.extensions.insert(*user);
    next.run(Request::from_parts(parts, body)).await
}

fn api_denial(d: Denial) -> Response {
    match d {
        Denial::Unauthenticated(AuthFailure::Missing) => ApiError::unauthorized(
            "authentication required: send `Authorization: Bearer <token>` or sign in",
        ),
        Denial::Unauthenticated(AuthFailure::SessionExpired) => {
            ApiError::unauthorized("the session has expired; sign in again")
        }
        Denial::Unauthenticated(AuthFailure::BadToken) => {
            ApiError::unauthorized("unknown or revoked API token")
        }
        Denial::NotMember(raw) => ApiError::not_found(format!("unknown workspace {raw:?}")),
        Denial::Forbidden(m) => ApiError::forbidden(m),
        Denial::Csrf => ApiError::forbidden(format!(
            "missing or wrong CSRF token: send the session's token in the {CSRF_HEADER} header"
        )),
        Denial::Error(e) => e,
    }
    .into_response()
}

/// The guard of the pages: signs in first (redirect to `/login`, saying when the session
/// expired), 404 page for a workspace the user is not a member of, and for every `POST` the
/// `_csrf` form field (or `X-CSRF-Token` header) must equal the session's CSRF token.
pub async fn ui_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let user = match decide(&state, &mut parts).await {
        Decision::Allow(user) => user,
        Decision::Deny(Denial::Unauthenticated(f)) => {
            let next_path = parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            let mut target = format!("/login?next={}", crate::ui::url_encode(&next_path));
            if f == AuthFailure::SessionExpired {
                target.push_str("&expired=1");
            }
            return Redirect::to(&target).into_response();
        }
        Decision::Deny(Denial::NotMember(_)) => {
            return crate::ui::error_page(StatusCode::NOT_FOUND, "Not found / Introuvable");
        }
        Decision::Deny(Denial::Forbidden(m)) => {
            return crate::ui::error_page(StatusCode::FORBIDDEN, &m);
        }
        Decision::Deny(Denial::Csrf) => {
            return crate::ui::error_page(StatusCode::FORBIDDEN, "CSRF");
        }
        Decision::Deny(Denial::Error(e)) => return e.into_response(),
    };
    if is_safe(&parts.method) {
        parts.extensions.insert(*user);
        return next.run(Request::from_parts(parts, body)).await;
    }
    // A form post: read the (size-limited) body to find the CSRF field, then hand the same
    // bytes on.
    let limit = state.config.server.max_body_bytes;
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return crate::ui::error_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("The form is larger than {limit} bytes."),
        );
    };
    let from_header = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let from_form = form_field(&bytes, CSRF_FIELD);
    let given = from_header.or(from_form).unwrap_or_default();
    if !same_secret(&given, user.csrf()) {
        return crate::ui::error_page(
            StatusCode::FORBIDDEN,
            "Missing or expired form token (CSRF): reload the page and try again. / Jeton de formulaire absent ou expiré : rechargez la page.",
        );
    }
    parts.extensions.insert(*user);
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The value of `name` in an `application/x-www-form-urlencoded` body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| crate::ui::url_decode(v))
}
