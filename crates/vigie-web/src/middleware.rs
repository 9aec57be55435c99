//! Cross-cutting request handling: request counting, body size limit, timeout.

use crate::error::{ApiError, ErrorCode};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// Counter of answered HTTP requests, labelled `route` (the route pattern, or `unmatched`),
/// `method` and `status`.
pub const HTTP_REQUESTS_TOTAL: &str = "vigie_http_requests_total";

/// Counts every request by route pattern, method and status ([`HTTP_REQUESTS_TOTAL`]).
pub(crate) async fn count_requests(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS_TOTAL, "route" => route, "method" => method, "status" => status)
        .increment(1);
    response
}

/// Keeps the `method` label bounded: extension methods are counted as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Rejects, before reading it, a body announced larger than the limit (413, JSON). Bodies
/// without `Content-Length` are capped by axum's `DefaultBodyLimit` when extracted.
pub(crate) async fn limit_body(State(max): State<usize>, req: Request, next: Next) -> Response {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = announced
        && len > u64::try_from(max).unwrap_or(u64::MAX)
    {
        return ApiError {
            code: ErrorCode::PayloadTooLarge,
            message: format!("request body of {len} bytes is larger than the limit of {max} bytes"),
        }
        .into_response();
    }
    next.run(req).await
}

/// Answers 503 `timeout` when a request takes longer than the configured time.
pub(crate) async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError {
            code: ErrorCode::Timeout,
            message: format!("the request took longer than {} ms", limit.as_millis()),
        }
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_labels_are_bounded() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
