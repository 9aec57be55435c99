//! The web UI: server-rendered askama pages, one module per screen, with progressive
//! enhancement (forms work without JavaScript; `assets/app.js` adds live query checking,
//! local times and the charts; `assets/dashboard.js` follows the SSE feed).
//!
//! Pages of a workspace live under `/w/{ws}`; the [`ui_guard`](crate::auth::guard::ui_guard)
//! checks the session, the membership and the CSRF token of every form before any handler
//! runs.

mod assets;
pub mod i18n;
mod login;
mod pages;
mod respond;
mod settings;
mod watch;

use crate::auth::CurrentUser;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
pub use i18n::{Lang, Tr};

/// Pages reachable without signing in.
pub(crate) fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::login_get).post(login::login_post))
        .route("/assets/{*path}", get(assets::asset_get))
}

/// Pages that need a signed-in user (guarded by `ui_guard`).
pub(crate) fn private_routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home_get))
        .route("/logout", post(login::logout_post))
        .route("/w/{ws}", get(pages::dashboard_get))
        .route("/w/{ws}/mentions", get(pages::mentions_get))
        .route(
            "/w/{ws}/watches/{watch}",
            get(watch::watch_edit_get).post(watch::watch_edit_post),
        )
        .route("/w/{ws}/incidents", get(respond::incidents_get))
        .route(
            "/w/{ws}/incidents/{id}/activate",
            post(respond::activate_post),
        )
        .route(
            "/w/{ws}/rooms/{id}",
            get(respond::room_get).post(respond::room_post),
        )
        .route("/w/{ws}/inbox", get(respond::inbox_get))
        .route("/w/{ws}/inbox/{id}", post(respond::inbox_post))
        .route("/w/{ws}/settings", get(settings::workspace_settings_get))
        .route(
            "/w/{ws}/settings/members",
            post(settings::workspace_members_post),
        )
        .route("/settings", get(settings::settings_get))
        .route("/settings/preferences", post(settings::preferences_post))
        .route("/settings/password", post(settings::password_post))
        .route("/settings/totp", post(settings::totp_enable_post))
        .route("/settings/totp/disable", post(settings::totp_disable_post))
        .route("/settings/tokens", post(settings::token_create_post))
        .route(
            "/settings/tokens/{id}/revoke",
            post(settings::token_revoke_post),
        )
}

/// What the layout needs: who is signed in, their workspaces, the CSRF token.
#[derive(Debug, Clone, Default)]
pub struct Nav {
    /// Signed in (shows the menu).
    pub signed_in: bool,
    /// Display name.
    pub user: String,
    /// `(id, name)` of the user's workspaces.
    pub workspaces: Vec<(String, String)>,
    /// The workspace of the page, or empty.
    pub current: String,
    /// The session's CSRF token for forms.
    pub csrf: String,
    /// The user's IANA time zone (the browser formats times in it).
    pub time_zone: String,
}

impl Nav {
    /// The layout data for `user` on a page of workspace `current` (may be empty).
    pub(crate) fn for_user(state: &AppState, user: &CurrentUser, current: &str) -> Self {
        Self {
            signed_in: true,
            user: user.user.display_name.clone(),
            workspaces: user
                .roles
                .iter()
                .map(|(ws, _)| {
                    let name = state
                        .config
                        .workspace(ws)
                        .map_or_else(|| ws.to_string(), |w| w.name.clone());
                    (ws.to_string(), name)
                })
                .collect(),
            current: current.to_owned(),
            csrf: user.csrf().to_owned(),
            time_zone: user.user.time_zone.clone(),
        }
    }
}

/// The user's language.
pub(crate) fn tr_for(user: &CurrentUser) -> Tr {
    Tr(Lang::from_code(&user.user.locale))
}

/// Renders a template into a response (500 with a logged error if rendering fails).
pub(crate) fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    tr: Tr,
    nav: Nav,
    status: u16,
    message: &'a str,
}

/// A bare HTML error page.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let page = ErrorPage {
        tr: Tr(Lang::En),
        nav: Nav::default(),
        status: status.as_u16(),
        message,
    };
    (status, render(&page)).into_response()
}

/// Percent-encodes everything but unreserved characters (for query strings).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space); invalid escapes are
/// kept as written.
pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A redirect after a form post (303 See Other).
pub(crate) fn see_other(to: &str) -> Response {
    axum::response::Redirect::to(to).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_and_decode() {
        assert_eq!(url_encode("/w/acme?x=1 2"), "/w/acme%3Fx%3D1%202");
        assert_eq!(url_decode("a+b%20c%C3%A9"), "a b cé");
        assert_eq!(url_decode("100%"), "100%");
        assert_eq!(url_decode("%zz"), "%zz");
        assert_eq!(url_decode(&url_encode("é & ü")), "é & ü");
    }
}
