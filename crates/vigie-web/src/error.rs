//! API errors: the single place where an error kind becomes an HTTP status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use vigie_store::StoreError;

/// What kind of failure an [`ApiError`] is; serialized as `code` in the JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed (bad parameter, bad cursor): 400.
    BadRequest,
    /// No credentials, an expired session or an unknown/revoked API token: 401.
    Unauthorized,
    /// Authenticated but not allowed (role too low, read-only token, missing or wrong CSRF
    /// token): 403.
    Forbidden,
    /// No such workspace, watch or route (or one the user is not a member of): 404.
    NotFound,
    /// Something with the same name already exists: 409.
    Conflict,
    /// The body is not JSON when JSON is expected: 415.
    UnsupportedMediaType,
    /// Too many failed logins; try later: 429.
    TooManyRequests,
    /// The route exists but not for this method: 405.
    MethodNotAllowed,
    /// The request body is larger than `server.max_body_bytes`: 413.
    PayloadTooLarge,
    /// The request took longer than `server.request_timeout`: 503.
    Timeout,
    /// A dependency (the store) does not answer: 503.
    Unavailable,
    /// A bug or a store failure; details are logged, never returned: 500.
    Internal,
}

impl ErrorCode {
    /// The HTTP status of this kind of error.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout | Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error answered as JSON `{"code": "...", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The kind, which decides the status.
    pub code: ErrorCode,
    /// A message for the API user; never internal details for 5xx errors.
    pub message: String,
}

impl ApiError {
    /// A 400 with a message saying what to fix.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::BadRequest,
            message: message.into(),
        }
    }
    /// A 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::NotFound,
            message: message.into(),
        }
    }
    /// A 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Unauthorized,
            message: message.into(),
        }
    }
    /// A 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Forbidden,
            message: message.into(),
        }
    }
    /// A 500. The detail is logged (with the request's span, hence its request id) and
    /// replaced by a generic message.
    pub fn internal(detail: &dyn std::error::Error) -> Self {
        tracing::error!(error = %detail, "request failed");
        Self {
            code: ErrorCode::Internal,
            message: "internal error; the details are in the server log".into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid { what, detail } => {
                Self::bad_request(format!("invalid {what}: {detail}"))
            }
            other => Self::internal(&other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.code.status(), Json(self)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_statuses() {
        assert_eq!(ErrorCode::BadRequest.status(), StatusCode::BAD_REQUEST);
        assert_eq!(ErrorCode::NotFound.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            ErrorCode::PayloadTooLarge.status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(ErrorCode::Timeout.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            ErrorCode::Internal.status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn store_errors_hide_internals_but_keep_bad_input() {
        let e = ApiError::from(StoreError::Invalid {
            what: "cursor",
            detail: "not base64".into(),
        });
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert_eq!(e.message, "invalid cursor: not base64");
        let e = ApiError::from(StoreError::Corrupt {
            what: "mention",
            detail: "secret table layout".into(),
        });
        assert_eq!(e.code, ErrorCode::Internal);
        assert!(!e.message.contains("secret"));
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["code"], "internal");
    }
}
