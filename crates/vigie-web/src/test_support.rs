//! Shared test fixtures: a seeded SQLite store, request helpers, and a broken store.

use crate::{AppState, router};
use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use metrics_exporter_prometheus::PrometheusBuilder;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use vigie_config::Config;
use vigie_model::{
    Author, CrisisLevel, Engagement, EnrichedMention, Enrichment, Explanation, Incident,
    IncidentEvent, IncidentEventKind, LanguageGuess, LevelChange, Mention, Sentiment,
    SentimentLabel, Signal, SignalKind, Timestamp, WatchId, WorkspaceId,
};
use vigie_store::{
    ApiTokenRecord, MentionFilter, MentionPage, NewUser, Role, Store, StoreError, StoreResult,
    TokenScope, WatchLevel, WatchRecord,
};

pub(crate) const CONFIG: &str = r#"
version = 1
[server]
max_body_bytes = 64
request_timeout = "200ms"

[[workspaces]]
id = "acme"
name = "ACME"
[[workspaces.watches]]
id = "brand"
name = "Brand"
query = "acme"
[[workspaces.watches]]
id = "ceo"
name = "CEO"
query = '"jane doe"'

[[workspaces]]
id = "globex"
name = "Globex"
[[workspaces.watches]]
id = "main"
name = "Main"
query = "globex"
"#;

pub(crate) fn config() -> Arc<Config> {
    Arc::new(vigie_config::parse(CONFIG, "test.toml").unwrap())
}

pub(crate) fn at(minute: i64) -> Timestamp {
    Timestamp::parse_rfc3339("2026-03-01T10:00:00Z")
        .unwrap()
        .plus_minutes(minute)
}

pub(crate) fn ws(id: &str) -> WorkspaceId {
    WorkspaceId::new(id).unwrap()
}

pub(crate) fn watch(id: &str) -> WatchId {
    WatchId::new(id).unwrap()
}

pub(crate) fn mention(
    workspace: &str,
    id: &str,
    minute: i64,
    label: SentimentLabel,
    lang: &str,
    watch_id: &str,
) -> EnrichedMention {
    EnrichedMention {
        workspace: ws(workspace),
        mention: Mention {
            source: "test".into(),
            external_id: id.into(),
            url: None,
            author: Author {
                handle: format!("author_{id}"),
                ..Author::default()
            },
            published_at: at(minute),
            received_at: Some(at(minute)),
            title: None,
            text: format!("text of {id}"),
            lang: None,
            engagement: Engagement::default(),
            reply_to: None,
            quote_of: None,
            repost_of: None,
            country: None,
        },
        enrichment: Enrichment {
            language: Some(LanguageGuess {
                code: lang.into(),
                confidence: 0.9,
            }),
            sentiment: Sentiment {
                label,
                score: 0.0,
                confidence: 0.8,
            },
            matched_watches: vec![watch(watch_id)],
            ..Enrichment::default()
        },
    }
}

fn record(id: &str, name: &str, query: &str) -> WatchRecord {
    WatchRecord {
        id: watch(id),
        name: name.into(),
        query: query.into(),
        languages: Vec::new(),
        own_accounts: Vec::new(),
        active: true,
    }
}

fn signal(watch_id: &str, minute: i64, kind: SignalKind) -> Signal {
    Signal {
        workspace: ws("acme"),
        watch: watch(watch_id),
        at: at(minute),
        kind,
        score: 4.0,
        observed: 12.0,
        expected: 2.0,
        detail: "window 10:00-10:30".into(),
    }
}

/// A temporary SQLite store seeded through the `Store` trait:
/// - acme: watches brand, ceo; mentions m1..m5 (minutes 0, 10, 20, 30, 40; m5 is ceo's,
///   negative: m1, m3, m5; English: m2, m5); 3 signals (2 brand); brand calm → alert at
///   minute 35; one incident for brand.
/// - globex: watch main; one mention g1.
pub(crate) async fn seeded_store() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigie.db");
    let store = vigie_store::open_store(path.to_str().unwrap())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    seed_users(store.as_ref()).await;
    store
        .sync_watches(
            &ws("acme"),
            &[
                record("brand", "Brand", "acme"),
                record("ceo", "CEO", "\"jane doe\""),
            ],
        )
        .await
        .unwrap();
    store
        .sync_watches(&ws("globex"), &[record("main", "Main", "globex")])
        .await
        .unwrap();
    use SentimentLabel::{Negative, Neutral, Positive};
    let batch = vec![
        mention("acme", "m1", 0, Negative, "fr", "brand"),
        mention("acme", "m2", 10, Positive, "en", "brand"),
        mention("acme", "m3", 20, Negative, "fr", "brand"),
        mention("acme", "m4", 30, Neutral, "fr", "brand"),
        mention("acme", "m5", 40, Negative, "en", "ceo"),
        mention("globex", "g1", 5, Negative, "fr", "main"),
    ];
    assert!(
        store
            .insert_mentions(&batch)
            .await
            .unwrap()
            .iter()
            .all(|new| *new)
    );
    store
        .insert_signals(&[
            signal("brand", 30, SignalKind::VolumeSpike),
            signal("brand", 35, SignalKind::NegativeSurge),
            signal("ceo", 40, SignalKind::InfluencerJoined),
        ])
        .await
        .unwrap();
    let explanation = Explanation {
        summary: "12 mentions in 30 min, 6× the usual".into(),
        window_minutes: 30,
        mentions: 12,
        expected_mentions: 2.0,
        ..Explanation::default()
    };
    store
        .record_level_change(&LevelChange {
            workspace: ws("acme"),
            watch: watch("brand"),
            at: at(35),
            from: CrisisLevel::Calm,
            to: CrisisLevel::Alert,
            explanation,
        })
        .await
        .unwrap();
    store
        .save_incident(&Incident {
            id: 0,
            workspace: ws("acme"),
            watch: watch("brand"),
            opened_at: at(35),
            closed_at: None,
            peak_level: CrisisLevel::Alert,
            level: CrisisLevel::Alert,
            timeline: vec![IncidentEvent {
                at: at(35),
                kind: IncidentEventKind::Opened,
                text: "brand left calm".into(),
            }],
        })
        .await
        .unwrap();
    (store, dir)
}

/// The router over a seeded store, with a non-installed metrics handle.
pub(crate) async fn seeded_app() -> (Router, Arc<dyn Store>, tempfile::TempDir) {
    let (store, dir) = seeded_store().await;
    let handle = PrometheusBuilder::new().build_recorder().handle();
    let state = AppState::new(store.clone(), config(), Some(handle), at(0));
    (router(state), store, dir)
}

/// The router over a seeded store with a manual clock (starting at minute 60).
pub(crate) async fn seeded_app_with_clock() -> (
    Router,
    Arc<dyn Store>,
    tempfile::TempDir,
    Arc<vigie_model::ManualClock>,
) {
    let (store, dir) = seeded_store().await;
    let clock = Arc::new(vigie_model::ManualClock::new(at(60)));
    // Forms with a CSRF token are larger than the 64 bytes of `CONFIG`.
    let config = Arc::new(
        vigie_config::parse(
            &CONFIG
                .replace("max_body_bytes = 64", "max_body_bytes = 65536")
                .replace("request_timeout = \"200ms\"", "request_timeout = \"20s\""),
            "test.toml",
        )
        .unwrap(),
    );
    let state = AppState::new(store.clone(), config, None, at(0)).with_clock(clock.clone());
    (router(state), store, dir, clock)
}

/// Sends a request and returns the status, the headers and the body as JSON (or as a JSON
/// string when it is not JSON).
pub(crate) async fn send(
    app: &Router,
    mut req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    if !req.headers().contains_key("authorization") && !req.headers().contains_key("cookie") {
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {}", token_of("ada")).parse().unwrap(),
        );
    }
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, body)
}

/// The test users: `(login, password, API token, [(workspace, role)])`. Each has a write
/// API token whose secret is `vgt_test_<login>`, and `vera_read` a read token.
pub(crate) const USERS: &[(&str, &[(&str, Role)])] = &[
    // Member of both workspaces: the default identity of `get` and `send`.
    ("ada", &[("acme", Role::Admin), ("globex", Role::Admin)]),
    ("alice", &[("acme", Role::Admin)]),
    ("mona", &[("acme", Role::Manager)]),
    ("rick", &[("acme", Role::Responder)]),
    ("vera", &[("acme", Role::Viewer)]),
    ("gus", &[("globex", Role::Admin)]),
    ("nobody", &[]),
];

/// The password of every test user.
pub(crate) const PASSWORD: &str = "correct horse battery";

/// The bearer token of a test user.
pub(crate) fn token_of(login: &str) -> String {
    format!("vgt_test_{login}")
}

/// Creates [`USERS`] with their roles and tokens.
pub(crate) async fn seed_users(store: &dyn Store) {
    let accounts = store.accounts();
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = HASH
        .get_or_init(|| crate::auth::hash_password(PASSWORD).unwrap())
        .clone();
    for (login, roles) in USERS {
        let id = accounts
            .create_user(
                &NewUser {
                    login: (*login).into(),
                    display_name: login.to_uppercase(),
                    password_hash: hash.clone(),
                    locale: "en".into(),
                    time_zone: "Europe/Paris".into(),
                },
                at(0),
            )
            .await
            .unwrap();
        for (w, role) in *roles {
            accounts.set_role(id, &ws(w), *role).await.unwrap();
        }
        for (suffix, scope) in [("", TokenScope::Write), ("_read", TokenScope::Read)] {
            accounts
                .create_api_token(&ApiTokenRecord {
                    id: 0,
                    token_hash: crate::auth::digest(&format!("{}{suffix}", token_of(login))),
                    user_id: id,
                    name: format!("test{suffix}"),
                    scope,
                    created_at: at(0),
                    last_used_at: None,
                    revoked_at: None,
                })
                .await
                .unwrap();
        }
    }
}

/// Sends a request without adding any credential.
pub(crate) async fn send_raw(
    app: &Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, body)
}

/// `GET uri` as `login`: status and JSON body.
pub(crate) async fn get_as(app: &Router, login: &str, uri: &str) -> (StatusCode, Value) {
    let req = Request::get(uri)
        .header("authorization", format!("Bearer {}", token_of(login)))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send_raw(app, req).await;
    (status, body)
}

/// `GET uri` as `ada` (member of both workspaces): status and JSON body.
pub(crate) async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    let req = Request::get(uri).body(Body::empty()).unwrap();
    let (status, _, body) = send(app, req).await;
    (status, body)
}

/// A store whose every call fails (after `delay`, when set): for 500, 503 and timeouts.
#[derive(Debug)]
pub(crate) struct BrokenStore {
    pub delay: Option<Duration>,
    /// Accounts work (so requests get past authentication and reach the broken calls).
    pub accounts: vigie_store::SqliteStore,
}

impl BrokenStore {
    async fn fail<T>(&self) -> StoreResult<T> {
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        Err(StoreError::Corrupt {
            what: "page",
            detail: "secret detail: checksum mismatch in vigie.db".into(),
        })
    }
}

#[async_trait]
impl Store for BrokenStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }
    fn accounts(&self) -> &dyn vigie_store::AccountStore {
        &self.accounts
    }
    fn edits(&self) -> &dyn vigie_store::EditStore {
        &self.accounts
    }
    async fn migrate(&self) -> StoreResult<()> {
        self.fail().await
    }
    async fn sync_watches(&self, _: &WorkspaceId, _: &[WatchRecord]) -> StoreResult<()> {
        self.fail().await
    }
    async fn list_workspaces(&self) -> StoreResult<Vec<WorkspaceId>> {
        self.fail().await
    }
    async fn list_watches(&self, _: &WorkspaceId) -> StoreResult<Vec<WatchRecord>> {
        self.fail().await
    }
    async fn insert_mentions(&self, _: &[EnrichedMention]) -> StoreResult<Vec<bool>> {
        self.fail().await
    }
    async fn list_mentions(&self, _: &MentionFilter) -> StoreResult<MentionPage> {
        self.fail().await
    }
    async fn count_mentions(&self, _: &WorkspaceId) -> StoreResult<u64> {
        self.fail().await
    }
    async fn insert_signals(&self, _: &[Signal]) -> StoreResult<()> {
        self.fail().await
    }
    async fn list_signals(
        &self,
        _: &WorkspaceId,
        _: Option<&WatchId>,
        _: u32,
    ) -> StoreResult<Vec<Signal>> {
        self.fail().await
    }
    async fn record_level_change(&self, _: &LevelChange) -> StoreResult<()> {
        self.fail().await
    }
    async fn current_levels(&self, _: &WorkspaceId) -> StoreResult<Vec<WatchLevel>> {
        self.fail().await
    }
    async fn level_history(
        &self,
        _: &WorkspaceId,
        _: Option<&WatchId>,
    ) -> StoreResult<Vec<LevelChange>> {
        self.fail().await
    }
    async fn save_incident(&self, _: &Incident) -> StoreResult<i64> {
        self.fail().await
    }
    async fn list_incidents(&self, _: &WorkspaceId) -> StoreResult<Vec<Incident>> {
        self.fail().await
    }
    async fn load_checkpoint(&self, _: &WorkspaceId, _: &str) -> StoreResult<Option<String>> {
        self.fail().await
    }
    async fn save_checkpoint(&self, _: &WorkspaceId, _: &str, _: &str) -> StoreResult<()> {
        self.fail().await
    }
    async fn save_detector_state(
        &self,
        _: &WorkspaceId,
        _: &WatchId,
        _: &serde_json::Value,
    ) -> StoreResult<()> {
        self.fail().await
    }
    async fn load_detector_state(
        &self,
        _: &WorkspaceId,
        _: &WatchId,
    ) -> StoreResult<Option<serde_json::Value>> {
        self.fail().await
    }
}

/// The router over a [`BrokenStore`].
pub(crate) async fn broken_app(delay: Option<Duration>) -> Router {
    let accounts = vigie_store::SqliteStore::open_in_memory().await.unwrap();
    accounts.migrate().await.unwrap();
    seed_users(&accounts).await;
    let state = AppState::new(
        Arc::new(BrokenStore { delay, accounts }),
        config(),
        None,
        at(0),
    );
    router(state)
}
