//! Real receivers on 127.0.0.1: an HTTP server (axum) that records every request and can be
//! told to fail, and a minimal SMTP server that records every message.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use vigie_config::{
    ChannelConfig, ChannelKind, MessageLanguage, NotifyConfig, PersonConfig, PolicyConfig,
    RetryConfig, RotationConfig, RotationEvery, RouteConfig, SmtpTls, StepConfig, Target,
};
use vigie_model::{
    CrisisLevel, Explanation, LevelChange, ManualClock, Timestamp, WatchId, WorkspaceId,
};
use vigie_notify::{AckSigner, Mobilizer, Notifier, build_notifier};
use vigie_store::{SqliteStore, Store};

/// One request received by the HTTP receiver.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

#[derive(Default)]
struct HttpState {
    received: Vec<Received>,
    /// Per path: statuses to answer next (then 200).
    script: HashMap<String, Vec<u16>>,
    /// Paths that always fail with this status.
    always: HashMap<String, u16>,
}

/// An HTTP receiver on 127.0.0.1.
#[derive(Clone)]
pub struct HttpReceiver {
    pub base: String,
    state: Arc<Mutex<HttpState>>,
}

async fn record(
    State(state): State<Arc<Mutex<HttpState>>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut s = state.lock().unwrap();
    let path = format!("/{path}");
    s.received.push(Received {
        path: path.clone(),
        headers,
        body,
    });
    if let Some(code) = s.always.get(&path) {
        return StatusCode::from_u16(*code).unwrap();
    }
    if let Some(list) = s.script.get_mut(&path)
        && !list.is_empty()
    {
        return StatusCode::from_u16(list.remove(0)).unwrap();
    }
    StatusCode::OK
}

/// A GET (a health check) is not recorded; a path told to always fail fails it too, any
/// other answers 405 as most webhook receivers do.
async fn probe(State(state): State<Arc<Mutex<HttpState>>>, Path(path): Path<String>) -> StatusCode {
    let s = state.lock().unwrap();
    match s.always.get(&format!("/{path}")) {
        Some(code) => StatusCode::from_u16(*code).unwrap(),
        None => StatusCode::METHOD_NOT_ALLOWED,
    }
}

impl HttpReceiver {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(HttpState::default()));
        let app = Router::new()
            .route("/{*path}", post(record).get(probe))
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, state }
    }
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    pub fn fail_next(&self, path: &str, statuses: &[u16]) {
        self.state
            .lock()
            .unwrap()
            .script
            .insert(path.into(), statuses.to_vec());
    }
    pub fn always_fail(&self, path: &str, status: u16) {
        self.state
            .lock()
            .unwrap()
            .always
            .insert(path.into(), status);
    }
    pub fn received(&self, path: &str) -> Vec<Received> {
        self.state
            .lock()
            .unwrap()
            .received
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

/// One message received by the SMTP server.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

/// A minimal SMTP server on 127.0.0.1 (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).
#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    pub mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let store = mails.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 localhost ESMTP test\r\n").await.ok();
                    let mut mail = Mail {
                        from: String::new(),
                        to: Vec::new(),
                        data: String::new(),
                    };
                    while let Ok(Some(line)) = lines.next_line().await {
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") {
                            b"250-localhost\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
                        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                            b"250 OK\r\n"
                        } else if upper.starts_with("RSET") {
                            mail.to.clear();
                            b"250 OK\r\n"
                        } else if upper.starts_with("MAIL FROM:") {
                            mail.from = line[10..].trim().to_owned();
                            b"250 OK\r\n"
                        } else if upper.starts_with("RCPT TO:") {
                            mail.to.push(line[8..].trim().to_owned());
                            b"250 OK\r\n"
                        } else if upper.starts_with("DATA") {
                            write.write_all(b"354 go ahead\r\n").await.ok();
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            mail.data = data;
                            store.lock().unwrap().push(mail.clone());
                            mail.to.clear();
                            b"250 OK queued\r\n"
                        } else if upper.starts_with("QUIT") {
                            write.write_all(b"221 bye\r\n").await.ok();
                            return;
                        } else {
                            b"502 not implemented\r\n"
                        };
                        write.write_all(reply).await.ok();
                    }
                });
            }
        });
        Self { port, mails }
    }
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

/// Decodes the MIME parts of a mail (base64, quoted-printable, 7bit/8bit) and joins them.
pub fn decoded_parts(data: &str) -> Vec<(String, String)> {
    use base64::Engine;
    let mut out = Vec::new();
    for part in data.split("\n--") {
        let Some((head, body)) = part.split_once("\n\n") else {
            continue;
        };
        let head_l = head.to_ascii_lowercase();
        let Some(ct) = head_l
            .lines()
            .find_map(|l| l.strip_prefix("content-type: "))
            .map(|s| s.split(';').next().unwrap_or("").trim().to_owned())
        else {
            continue;
        };
        if !ct.starts_with("text/") {
            continue;
        }
        let body = body.rsplit_once("\n--").map_or(body, |(b, _)| b).to_owned();
        let text = if head_l.contains("content-transfer-encoding: base64") {
            let compact: String = body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .unwrap(),
            )
            .unwrap()
        } else if head_l.contains("content-transfer-encoding: quoted-printable") {
            decode_qp(&body)
        } else {
            body
        };
        out.push((ct, text));
    }
    out
}

fn decode_qp(s: &str) -> String {
    let joined = s.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 3 <= bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

pub fn person(id: &str, name: &str, lang: MessageLanguage, channels: &[&str]) -> PersonConfig {
    PersonConfig {
        login: id.into(),
        id: id.into(),
        name: name.into(),
        language: lang,
        email: Some(format!("{id}@example.org")),
        ntfy_topic: Some(format!("vigie-{id}")),
        channels: channels.iter().map(|c| (*c).to_owned()).collect(),
    }
}

pub fn webhook(id: &str, url: String, secret_env: Option<&str>) -> ChannelConfig {
    ChannelConfig {
        id: id.into(),
        kind: ChannelKind::Webhook {
            url,
            secret: secret_env.map(|e| vigie_config::SecretRef { env: e.into() }),
        },
    }
}

pub fn email_channel(id: &str, port: u16) -> ChannelConfig {
    ChannelConfig {
        id: id.into(),
        kind: ChannelKind::Email {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "Vigie <vigie@example.org>".into(),
            to: Vec::new(),
        },
    }
}

pub fn base_config() -> NotifyConfig {
    NotifyConfig {
        public_url: "http://vigie.test".into(),
        retry: RetryConfig {
            attempts: 3,
            initial_backoff: std::time::Duration::from_millis(5),
            max_backoff: std::time::Duration::from_millis(20),
        },
        ..NotifyConfig::default()
    }
}

pub fn route(channels: &[&str], policy: Option<&str>, min_level: u8) -> RouteConfig {
    RouteConfig {
        workspace: Some("acme".into()),
        watch: None,
        min_level,
        channels: channels.iter().map(|c| (*c).to_owned()).collect(),
        policy: policy.map(str::to_owned),
        quiet_hours: None,
    }
}

pub fn rotation(members: &[&str]) -> RotationConfig {
    RotationConfig {
        id: "cm".into(),
        time_zone: chrono_tz::Europe::Paris,
        every: RotationEvery::Weekly,
        handoff: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        handoff_day: chrono::Weekday::Mon,
        start: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
        members: members.iter().map(|m| (*m).to_owned()).collect(),
        overrides: Vec::new(),
    }
}

pub fn three_step_policy(rounds: u32) -> PolicyConfig {
    let step = |t: Target| StepConfig {
        targets: vec![t],
        timeout: std::time::Duration::from_secs(600),
    };
    PolicyConfig {
        id: "default".into(),
        rounds,
        steps: vec![
            step(Target::Rotation("cm".into())),
            step(Target::Person("bob".into())),
            step(Target::Person("carol".into())),
        ],
    }
}

pub const SECRET: &str = "webhook-secret-for-tests";

/// A mobilizer on a fresh in-memory store, with notifiers built from the config (the
/// webhook secret env var resolves to [`SECRET`]).
pub async fn mobilizer(
    config: NotifyConfig,
    clock: Arc<ManualClock>,
) -> (Mobilizer, Arc<dyn Store>) {
    let store = SqliteStore::open_in_memory().await.unwrap();
    store.migrate().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let env = |_: &str| Some(SECRET.to_owned());
    let notifiers: HashMap<String, Arc<dyn Notifier>> = config
        .channels
        .iter()
        .map(|c| (c.id.clone(), build_notifier(c, &env).unwrap()))
        .collect();
    let m = Mobilizer::new(
        config,
        store.clone(),
        clock,
        AckSigner::new(b"ack-key-for-tests-0123456789".to_vec()),
        notifiers,
    )
    .unwrap();
    (m, store)
}

pub fn change(at: Timestamp, from: u8, to: u8) -> LevelChange {
    LevelChange {
        workspace: WorkspaceId::new("acme").unwrap(),
        watch: WatchId::new("brand").unwrap(),
        at,
        from: CrisisLevel::from_u8(from),
        to: CrisisLevel::from_u8(to),
        explanation: Explanation {
            summary: "Others speak for you: 250 authors, mostly negative".into(),
            window_minutes: 60,
            mentions: 420,
            expected_mentions: 12.0,
            negative: 300,
            expected_negative: 3.0,
            distinct_authors: 250,
            others_share: 0.97,
            ..Explanation::default()
        },
    }
}
