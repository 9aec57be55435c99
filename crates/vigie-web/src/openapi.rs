//! The OpenAPI 3.1 document of `/api/v1`, written by hand in `openapi/openapi.json` and
//! served at `/api/v1/openapi.json`. A test checks that it lists exactly the routes of the
//! router (see `tests.rs`).

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The document, as JSON text.
pub const OPENAPI_JSON: &str = include_str!("../openapi/openapi.json");

/// `GET /api/v1/openapi.json` (public).
pub(crate) async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

/// Every `(METHOD, path)` the document describes, e.g. `("GET", "/api/v1/workspaces")`.
pub fn documented_operations() -> Result<Vec<(String, String)>, serde_json::Error> {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON)?;
    let mut out = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) {
        for (path, item) in paths {
            if let Some(ops) = item.as_object() {
                for method in ops.keys() {
                    if ["get", "put", "post", "delete", "patch", "head", "options"]
                        .contains(&method.as_str())
                    {
                        out.push((method.to_uppercase(), path.clone()));
                    }
                }
            }
        }
    }
    out.sort();
    Ok(out)
}
