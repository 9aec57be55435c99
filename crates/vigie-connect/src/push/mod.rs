//! Pushed sources: the generic webhook and Meta (Facebook pages / Instagram) webhooks.
//!
//! Each configured webhook source registers an endpoint `/hooks/{workspace}/{source}` in a
//! [`WebhookHub`] and gets a [`PushConnector`] that the pipeline runs like any other
//! connector: requests that pass their check (HMAC signature or bearer token, size limit,
//! valid payload) are queued to it and answered **once their mentions are stored** (202; or
//! 503 when they could not be, within [`STORE_WAIT`], so the sender retries — a retry is
//! de-duplicated); rejected ones get 400/401/403/413 with the reason and nothing is queued. [`webhook_router`] serves every registered endpoint; vigie-web mounts
//! it (`Router::merge`).

mod generic;
mod meta;

use crate::format::RecordError;
use crate::{Connector, ConnectorError, PollOutcome};
use async_trait::async_trait;
use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::mpsc;
use vigie_config::{MetaWebhookSource, WebhookSource};
use vigie_model::{Clock, Mention, MentionChange, WorkspaceId};

/// Batches queued per endpoint before requests get 503.
pub const QUEUE: usize = 64;

/// How long a request waits for its mentions to be stored before it is answered 503.
pub const STORE_WAIT: Duration = Duration::from_secs(30);

/// What one accepted request carries.
#[derive(Debug, Default)]
pub(crate) struct Pushed {
    pub mentions: Vec<Mention>,
    pub changes: Vec<MentionChange>,
    pub skipped: Vec<RecordError>,
    /// Instagram mentions whose text must be fetched from the Graph API before queueing.
    pub lookups: Vec<meta::IgLookup>,
    /// Told when the batch is stored (set by the endpoint).
    pub receipt: Option<tokio::sync::oneshot::Sender<()>>,
}

#[derive(Debug, Clone)]
pub(crate) enum Auth {
    Generic {
        secret: Option<String>,
        token: Option<String>,
        max_bytes: u64,
    },
    Meta {
        verify_token: String,
        app_secret: String,
        /// Graph API access for Instagram mentions (`access_token` configured).
        graph: Option<meta::Graph>,
    },
}

#[derive(Debug, Clone)]
struct Endpoint {
    auth: Auth,
    tx: mpsc::Sender<Pushed>,
    clock: Arc<dyn Clock>,
}

/// The registered webhook endpoints, shared by the connectors and the router.
#[derive(Debug, Clone, Default)]
pub struct WebhookHub {
    endpoints: Arc<RwLock<HashMap<(String, String), Endpoint>>>,
}

impl WebhookHub {
    fn register(
        &self,
        workspace: &WorkspaceId,
        id: &str,
        auth: Auth,
        clock: Arc<dyn Clock>,
    ) -> PushConnector {
        let (tx, rx) = mpsc::channel(QUEUE);
        let key = (workspace.as_str().to_owned(), id.to_owned());
        let endpoint = Endpoint { auth, tx, clock };
        match self.endpoints.write() {
            Ok(mut map) => map.insert(key, endpoint),
            Err(poisoned) => poisoned.into_inner().insert(key, endpoint),
        };
        PushConnector {
            id: id.to_owned(),
            rx,
            received: 0,
            run: fastrand::u64(..),
            changes: Vec::new(),
            receipts: Vec::new(),
        }
    }

    /// Registers a generic webhook source; secrets are resolved now.
    pub fn register_generic(
        &self,
        workspace: &WorkspaceId,
        cfg: &WebhookSource,
        clock: Arc<dyn Clock>,
    ) -> Result<PushConnector, ConnectorError> {
        let resolve = |s: &Option<vigie_config::Secret>| {
            s.as_ref()
                .map(|s| {
                    s.resolve().map_err(|reason| ConnectorError::Setup {
                        source_id: cfg.id.clone(),
                        reason,
                    })
                })
                .transpose()
        };
        let auth = Auth::Generic {
            secret: resolve(&cfg.secret)?,
            token: resolve(&cfg.token)?,
            max_bytes: cfg.max_bytes,
        };
        Ok(self.register(workspace, &cfg.id, auth, clock))
    }

    /// Registers a Meta webhook source; secrets are resolved now.
    pub fn register_meta(
        &self,
        workspace: &WorkspaceId,
        cfg: &MetaWebhookSource,
        clock: Arc<dyn Clock>,
    ) -> Result<PushConnector, ConnectorError> {
        let setup = |reason| ConnectorError::Setup {
            source_id: cfg.id.clone(),
            reason,
        };
        let graph = match &cfg.access_token {
            Some(token) => Some(meta::Graph {
                base: cfg.graph_api.clone(),
                token: token.resolve().map_err(setup)?,
                client: crate::http::client("vigie (meta webhook)")?,
            }),
            None => None,
        };
        let auth = Auth::Meta {
            verify_token: cfg.verify_token.resolve().map_err(setup)?,
            app_secret: cfg.app_secret.resolve().map_err(setup)?,
            graph,
        };
        Ok(self.register(workspace, &cfg.id, auth, clock))
    }

    fn get(&self, workspace: &str, source: &str) -> Option<Endpoint> {
        let key = (workspace.to_owned(), source.to_owned());
        match self.endpoints.read() {
            Ok(map) => map.get(&key).cloned(),
            Err(poisoned) => poisoned.into_inner().get(&key).cloned(),
        }
    }
}

/// Meta's webhooks send up to this much; generic webhooks have their own `max_bytes`.
const META_MAX_BYTES: u64 = 1024 * 1024;

/// The router serving `GET` (Meta verification) and `POST` on `/hooks/{workspace}/{source}`.
pub fn webhook_router(hub: WebhookHub) -> Router {
    Router::new()
        .route("/hooks/{workspace}/{source}", get(verify).post(receive))
        .with_state(hub)
}

/// A rejection: status plus a JSON `{"error": reason}`.
pub(crate) fn reject(status: StatusCode, reason: impl Into<String>) -> Response {
    let reason = reason.into();
    tracing::warn!(%status, %reason, "webhook request rejected");
    metrics::counter!("vigie_webhook_rejected_total", "status" => status.as_u16().to_string())
        .increment(1);
    (status, Json(serde_json::json!({ "error": reason }))).into_response()
}

async fn verify(
    State(hub): State<WebhookHub>,
    Path((workspace, source)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(ep) = hub.get(&workspace, &source) else {
        return reject(StatusCode::NOT_FOUND, "no webhook source here");
    };
    match &ep.auth {
        Auth::Meta { verify_token, .. } => meta::verify(verify_token, &q),
        Auth::Generic { .. } => reject(
            StatusCode::METHOD_NOT_ALLOWED,
            "this endpoint accepts POST only",
        ),
    }
}

async fn receive(
    State(hub): State<WebhookHub>,
    Path((workspace, source)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(ep) = hub.get(&workspace, &source) else {
        return reject(StatusCode::NOT_FOUND, "no webhook source here");
    };
    let max = match &ep.auth {
        Auth::Generic { max_bytes, .. } => *max_bytes,
        Auth::Meta { .. } => META_MAX_BYTES,
    };
    if let Some(len) = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > max
    {
        return reject(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body of {len} bytes exceeds the {max}-byte limit"),
        );
    }
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return reject(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("body exceeds the {max}-byte limit"),
            );
        }
    };
    let now = ep.clock.now();
    let pushed = match &ep.auth {
        Auth::Generic { secret, token, .. } => {
            generic::accept(secret.as_deref(), token.as_deref(), &headers, &bytes, now)
        }
        Auth::Meta {
            app_secret, graph, ..
        } => meta::accept(app_secret, graph.is_some(), &headers, &bytes, now),
    };
    let mut pushed = match pushed {
        Ok(p) => p,
        Err(Rejection(status, reason)) => return reject(status, reason),
    };
    // Instagram mentions carry only ids: their text comes from the Graph API now, so a
    // failure answers 503 and Meta delivers the notification again.
    if let Auth::Meta {
        graph: Some(graph), ..
    } = &ep.auth
        && !pushed.lookups.is_empty()
    {
        let lookups = std::mem::take(&mut pushed.lookups);
        match meta::resolve(graph, &lookups, now, &mut pushed.skipped).await {
            Ok(found) => pushed.mentions.extend(found),
            Err(reason) => return retry_later(&reason),
        }
    }
    let accepted = pushed.mentions.len() + pushed.changes.len();
    let skipped = pushed.skipped.len();
    let (stored_tx, stored) = tokio::sync::oneshot::channel();
    pushed.receipt = Some(stored_tx);
    match ep.tx.try_send(pushed) {
        Ok(()) => match tokio::time::timeout(STORE_WAIT, stored).await {
            Ok(Ok(())) => {
                metrics::counter!("vigie_webhook_accepted_total").increment(accepted as u64);
                let body = serde_json::json!({ "accepted": accepted, "skipped": skipped });
                (StatusCode::ACCEPTED, Json(body)).into_response()
            }
            Ok(Err(_)) => retry_later("the batch could not be stored: retry later"),
            Err(_) => retry_later(&format!(
                "not stored within {} s: retry later (a retry is de-duplicated)",
                STORE_WAIT.as_secs()
            )),
        },
        Err(mpsc::error::TrySendError::Full(_)) => retry_later("queue full: retry shortly"),
        Err(mpsc::error::TrySendError::Closed(_)) => {
            reject(StatusCode::SERVICE_UNAVAILABLE, "source stopped")
        }
    }
}

/// 503 with `Retry-After: 1`.
fn retry_later(reason: &str) -> Response {
    let mut r = reject(StatusCode::SERVICE_UNAVAILABLE, reason);
    r.headers_mut()
        .insert("retry-after", axum::http::HeaderValue::from_static("1"));
    r
}

/// A refused request: status and reason (turned into a response by [`reject`]).
#[derive(Debug)]
pub(crate) struct Rejection(StatusCode, String);

pub(crate) fn deny(status: StatusCode, reason: impl Into<String>) -> Rejection {
    Rejection(status, reason.into())
}

/// Checks `sha256=HEX` against the HMAC-SHA256 of `body` under `key`, in constant time.
pub(crate) fn signature_ok(key: &str, header: Option<&str>, body: &[u8]) -> Result<(), String> {
    let Some(h) = header else {
        return Err("missing signature header".into());
    };
    let Some(hex_sig) = h.trim().strip_prefix("sha256=") else {
        return Err("signature must look like sha256=HEX".into());
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return Err("signature is not hexadecimal".into());
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return Err("unusable key".into());
    };
    mac.update(body);
    mac.verify_slice(&sig)
        .map_err(|_| "signature does not match the body".to_owned())
}

/// `sha256=HEX` signature of `body` under `key` (for senders and tests).
pub fn sign(key: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The connector side of a webhook: what the endpoint accepted, in order.
#[derive(Debug)]
pub struct PushConnector {
    id: String,
    rx: mpsc::Receiver<Pushed>,
    received: u64,
    /// Random id of this connector's run (see `cursor`).
    run: u64,
    changes: Vec<MentionChange>,
    /// The requests of the batches returned since the last `take_receipts`.
    receipts: Vec<tokio::sync::oneshot::Sender<()>>,
}

#[async_trait]
impl Connector for PushConnector {
    fn id(&self) -> &str {
        &self.id
    }

    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn seek(&mut self, cursor: &str) -> Result<(), ConnectorError> {
        // Senders retry what was not acknowledged; the count only feeds the health report.
        let count = cursor.split_once('@').map_or(cursor, |(n, _)| n);
        self.received = count.parse().unwrap_or(0);
        Ok(())
    }

    /// `COUNT@RUN`: the items received, and this process's run id. Scaled out, the cursor
    /// is the bus's de-duplication id of the batch: after a restart the count starts again
    /// from the last saved checkpoint, and the run id keeps a new batch from being taken
    /// for one published before the restart.
    fn cursor(&self) -> String {
        format!("{}@{:016x}", self.received, self.run)
    }

    fn take_changes(&mut self) -> Vec<MentionChange> {
        std::mem::take(&mut self.changes)
    }

    fn take_receipts(&mut self) -> crate::Receipts {
        crate::Receipts::new(std::mem::take(&mut self.receipts))
    }

    async fn poll(
        &mut self,
        out: &mut Vec<Mention>,
        rejected: &mut Vec<RecordError>,
    ) -> Result<PollOutcome, ConnectorError> {
        let first = match tokio::time::timeout(Duration::from_secs(5), self.rx.recv()).await {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(PollOutcome::Finished),
            Err(_) => return Ok(PollOutcome::Idle(Duration::ZERO)),
        };
        let mut batch = vec![first];
        while batch.len() < 32
            && let Ok(p) = self.rx.try_recv()
        {
            batch.push(p);
        }
        for p in batch {
            self.received += (p.mentions.len() + p.changes.len()) as u64;
            out.extend(p.mentions);
            self.changes.extend(p.changes);
            rejected.extend(p.skipped);
            self.receipts.extend(p.receipt);
        }
        Ok(PollOutcome::Ready)
    }
}
