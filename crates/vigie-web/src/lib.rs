//! Vigie's HTTP server: `/health`, `/metrics` (Prometheus) and the JSON API under `/api/v1`.
//!
//! [`router`] builds the axum [`Router`] from an [`AppState`] (store, configuration, metrics
//! handle); [`serve`] runs it on a listener until a shutdown future resolves, then finishes
//! the requests in flight. Every error is JSON `{"code", "message"}` ([`ApiError`]); the
//! mapping from error kind to HTTP status lives in `error.rs` only. Every request gets an
//! `x-request-id` header (kept if the client sent one), is logged in a tracing span carrying
//! it, is counted in `vigie_http_requests_total{route,method,status}`, is bounded in body size
//! (`server.max_body_bytes`) and in time (`server.request_timeout`).
//!
//! Every `/api/v1` route but the OpenAPI document, and every page but the login page and the
//! assets, is behind one access guard ([`auth::guard`]): API token or session cookie, CSRF
//! token on cookie-authenticated mutations, and membership of the `{ws}` workspace of the
//! path. Handlers read the [`CurrentUser`]. The UI ([`ui`]) is server-rendered (askama) in
//! French and English. The routes are described in `docs/api.md`, `docs/web.md` and the
//! OpenAPI document ([`openapi`]).
//!
//! ```no_run
//! # async fn example(store: std::sync::Arc<dyn vigie_store::Store>) -> std::io::Result<()> {
//! use std::sync::Arc;
//! use vigie_model::{Clock, SystemClock};
//!
//! let config = Arc::new(vigie_config::Config::embedded_default());
//! let metrics = vigie_web::install_metrics_recorder().ok();
//! let state = vigie_web::AppState::new(store, config.clone(), metrics, SystemClock.now());
//! let listener = tokio::net::TcpListener::bind(config.server.listen).await?;
//! vigie_web::serve(listener, state, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await
//! # }
//! ```

mod api;
pub mod auth;
mod error;
mod middleware;
pub mod openapi;
mod state;
pub mod ui;

#[cfg(test)]
mod test_support;

pub use api::respond::{MobilizerRoles, process_engine};
pub use auth::{AuthSettings, CurrentUser};
pub use error::{ApiError, ErrorCode};
pub use middleware::HTTP_REQUESTS_TOTAL;
pub use state::AppState;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{BuildError, PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use std::future::Future;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Installs the process-wide Prometheus recorder and returns the handle that renders it.
/// Call it once per process (a second call fails); tests build a handle with
/// `PrometheusBuilder::new().build_recorder().handle()` instead.
pub fn install_metrics_recorder() -> Result<PrometheusHandle, BuildError> {
    PrometheusBuilder::new().install_recorder()
}

/// The application: every route, the JSON fallbacks, and the middleware stack.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.server.max_body_bytes;
    let request_timeout = state.config.server.request_timeout;
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics_text))
        .nest(
            "/api/v1",
            api::routes().route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                auth::guard::api_guard,
            )),
        )
        .merge(ui::public_routes())
        .merge(api::mobilize::ack_routes())
        .merge(
            ui::private_routes().route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                auth::guard::ui_guard,
            )),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            request_timeout,
            middleware::timeout,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(
            max_body,
            middleware::limit_body,
        ))
        .layer(axum::middleware::from_fn(middleware::count_requests))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!("http", method = %req.method(), uri = %req.uri(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
            ),
        ))
        .with_state(state)
}

/// Serves `router(state)` on `listener` until `shutdown` resolves, then lets the requests in
/// flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, Services::default(), shutdown).await
}

/// The long-lived services a process hands to the routes that need them. Without the
/// mobilizer, the `/mobilize` routes answer 503; without the engine, the respond routes
/// build one per request that cannot publish.
#[derive(Debug, Clone, Default)]
pub struct Services {
    /// Incidents, notifications, on-call and escalation (`vigie_notify`).
    pub mobilizer: Option<vigie_notify::Mobilizer>,
    /// Scenarios, crisis rooms, inbox, drafts and publication (`vigie_respond`).
    pub engine: Option<vigie_respond::Engine>,
    /// Routes merged at the root, outside the API guard: the webhook endpoints
    /// (`/hooks/{workspace}/{source}`), which check their own signatures and sizes.
    pub routes: Option<Router>,
}

/// [`router`] with the process's [`Services`].
pub fn router_with(state: AppState, services: Services) -> Router {
    let mut app = router(state);
    if let Some(m) = services.mobilizer {
        app = app.layer(axum::Extension(m));
    }
    if let Some(e) = services.engine {
        app = app.layer(axum::Extension(e));
    }
    if let Some(routes) = services.routes {
        app = app.merge(routes);
    }
    app
}

/// [`serve`] with the process's [`Services`].
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    services: Services,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Connect info gives the login throttle the client's address.
    axum::serve(
        listener,
        router_with(state, services).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// `GET /health`: 200 when the store answers, 503 otherwise.
async fn health(State(state): State<AppState>) -> Response {
    let body = |status: &str| {
        json!({
            "status": status,
            "store": state.store.backend(),
            "version": env!("CARGO_PKG_VERSION"),
            "started_at": state.started_at,
        })
    };
    match state.store.list_workspaces().await {
        Ok(_) => (StatusCode::OK, axum::Json(body("ok"))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: the store does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(body("unavailable")),
            )
                .into_response()
        }
    }
}

/// `GET /metrics`: the Prometheus text exposition format.
async fn metrics_text(State(state): State<AppState>) -> Result<Response, ApiError> {
    let handle = state
        .metrics
        .as_ref()
        .ok_or_else(|| ApiError::not_found("metrics are not enabled in this process"))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response())
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError {
        code: ErrorCode::MethodNotAllowed,
        message: format!("method {method} is not allowed on {}", uri.path()),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_auth;
#[cfg(test)]
mod tests_respond_ui;
