//! The dashboard's data: `GET /api/v1/workspaces/{ws}/dashboard` (volume and sentiment over
//! time, level changes, top terms, hashtags and authors, share of voice) and the live feed
//! `GET /api/v1/workspaces/{ws}/live` (Server-Sent Events, one `update` event at once and
//! then whenever the mention count or a level changes).

use super::query::path_workspace;
use super::{known_watches, query_rejection};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;
use vigie_model::{CrisisLevel, SentimentLabel, Timestamp, WatchId, WorkspaceId};
use vigie_query::TokenKind;
use vigie_store::MentionFilter;

/// Most mentions read to draw one dashboard (the newest ones in the window).
pub(crate) const MAX_SCAN: usize = 20_000;
/// Mentions per store page while scanning.
const PAGE: u32 = 1000;
/// Entries in each top list.
const TOP: usize = 10;
/// How often the live feed looks for changes.
pub(crate) const LIVE_POLL: Duration = Duration::from_secs(3);

/// Words too common to be "top terms" (folded: lowercase, no accents).
const STOPWORDS: &[&str] = &[
    "avec", "dans", "pour", "plus", "mais", "sont", "cette", "tout", "tous", "etre", "fait",
    "faire", "comme", "vous", "nous", "elle", "ils", "leur", "leurs", "sans", "sur", "chez",
    "encore", "apres", "avant", "depuis", "rien", "bien", "tres", "deja", "quand", "alors",
    "aussi", "meme", "donc", "that", "this", "with", "from", "have", "they", "your", "what",
    "just", "about", "their", "there", "would", "been", "were", "will", "when", "than", "then",
    "them", "into", "more", "some", "only", "also", "after", "again", "https", "http", "votre",
    "notre", "ceux", "celle", "cela", "ceci", "avoir", "suis", "sont", "etait",
];

/// `?hours=`: the length of the window, ending at the newest mention (default 168).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DashboardParams {
    hours: Option<String>,
}

/// One entry of a top list.
#[derive(Debug, Serialize, Clone, PartialEq)]
pub(crate) struct Ranked {
    pub key: String,
    pub count: u64,
    /// For authors: their largest estimated reach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reach: Option<u64>,
}

/// A watch's share of the matched mentions.
#[derive(Debug, Serialize, Clone)]
pub(crate) struct Share {
    pub watch: WatchId,
    pub name: String,
    pub count: u64,
    /// From 0 to 1.
    pub share: f64,
}

/// A level change, for the chart markers.
#[derive(Debug, Serialize, Clone)]
pub(crate) struct Marker {
    pub watch: WatchId,
    pub at: Timestamp,
    pub from: u8,
    pub to: u8,
    pub summary: String,
}

/// A watch's current level.
#[derive(Debug, Serialize, Clone)]
pub(crate) struct WatchStatus {
    pub watch: WatchId,
    pub name: String,
    pub level: CrisisLevel,
    pub level_value: u8,
    pub since: Option<Timestamp>,
    pub summary: Option<String>,
}

/// Everything the dashboard draws.
#[derive(Debug, Serialize, Clone)]
pub(crate) struct DashboardData {
    pub workspace: WorkspaceId,
    /// Start of the window (inclusive), ms.
    pub from: Option<Timestamp>,
    /// End of the window (the newest mention), ms.
    pub to: Option<Timestamp>,
    pub bucket_ms: i64,
    /// Start of each bucket, epoch seconds (what uPlot wants).
    pub times: Vec<i64>,
    pub volume: Vec<u64>,
    pub negative: Vec<u64>,
    pub positive: Vec<u64>,
    /// Mean sentiment score of each bucket in [-1, 1] (`null` when empty).
    pub mean_score: Vec<Option<f64>>,
    pub levels: Vec<WatchStatus>,
    pub level_changes: Vec<Marker>,
    pub top_terms: Vec<Ranked>,
    pub top_hashtags: Vec<Ranked>,
    pub top_authors: Vec<Ranked>,
    pub share_of_voice: Vec<Share>,
    /// Mentions read; `truncated` when the window held more than [`MAX_SCAN`].
    pub scanned: usize,
    pub truncated: bool,
    /// All mentions stored for the workspace.
    pub total_mentions: u64,
}

pub(crate) async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Result<Query<DashboardParams>, QueryRejection>,
) -> Result<Json<DashboardData>, ApiError> {
    let Query(params) = params.map_err(query_rejection)?;
    let ws = path_workspace(&user)?;
    let hours = match params.hours.as_deref().filter(|s| !s.is_empty()) {
        None => 168,
        Some(h) => match h.parse::<i64>() {
            Ok(n) if (1..=24 * 90).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "invalid hours: expected a whole number from 1 to 2160, got {h:?}"
                )));
            }
        },
    };
    Ok(Json(dashboard_data(&state, &ws, hours).await?))
}

/// Computes the dashboard of `ws` over the `hours` before its newest mention.
pub(crate) async fn dashboard_data(
    state: &AppState,
    ws: &WorkspaceId,
    hours: i64,
) -> Result<DashboardData, ApiError> {
    let watches = known_watches(state, ws).await?;
    let levels_now = state.store.current_levels(ws).await?;
    let levels: Vec<WatchStatus> = watches
        .iter()
        .map(|w| {
            let current = levels_now.iter().find(|l| l.watch == w.id);
            let level = current.map_or(CrisisLevel::Calm, |l| l.level);
            WatchStatus {
                watch: w.id.clone(),
                name: w.name.clone(),
                level,
                level_value: level.as_u8(),
                since: current.map(|l| l.since),
                summary: current.map(|l| l.explanation.summary.clone()),
            }
        })
        .collect();
    let total_mentions = state.store.count_mentions(ws).await?;
    let mut newest = MentionFilter::workspace(ws.clone());
    newest.limit = 1;
    let to = state
        .store
        .list_mentions(&newest)
        .await?
        .items
        .first()
        .map(|m| m.mention.mention.published_at);
    let window_ms = hours * 3_600_000;
    let bucket_ms: i64 = if hours >= 48 { 3_600_000 } else { 900_000 };
    let mut data = DashboardData {
        workspace: ws.clone(),
        from: None,
        to,
        bucket_ms,
        times: Vec::new(),
        volume: Vec::new(),
        negative: Vec::new(),
        positive: Vec::new(),
        mean_score: Vec::new(),
        levels,
        level_changes: Vec::new(),
        top_terms: Vec::new(),
        top_hashtags: Vec::new(),
        top_authors: Vec::new(),
        share_of_voice: Vec::new(),
        scanned: 0,
        truncated: false,
        total_mentions,
    };
    let Some(to) = to else {
        return Ok(data);
    };
    let end = (to.as_millis().div_euclid(bucket_ms) + 1) * bucket_ms;
    let from = end - window_ms;
    data.from = Some(Timestamp::from_millis(from));
    let n = usize::try_from((end - from) / bucket_ms).unwrap_or(0);
    data.times = (0..n)
        .map(|i| (from + i64::try_from(i).unwrap_or(0) * bucket_ms) / 1000)
        .collect();
    data.volume = vec![0; n];
    data.negative = vec![0; n];
    data.positive = vec![0; n];
    let mut score_sum = vec![0.0_f64; n];
    let mut terms: HashMap<String, u64> = HashMap::new();
    let mut hashtags: HashMap<String, u64> = HashMap::new();
    let mut authors: HashMap<String, (u64, u64)> = HashMap::new();
    let mut per_watch: HashMap<WatchId, u64> = HashMap::new();
    let mut filter = MentionFilter::workspace(ws.clone());
    filter.since = Some(Timestamp::from_millis(from));
    filter.limit = PAGE;
    loop {
        let page = state.store.list_mentions(&filter).await?;
        for m in &page.items {
            let em = &m.mention;
            let t = em.mention.published_at.as_millis();
            let Ok(i) = usize::try_from((t - from) / bucket_ms) else {
                continue;
            };
            if i >= n {
                continue;
            }
            data.scanned += 1;
            data.volume[i] += 1;
            match em.enrichment.sentiment.label {
                SentimentLabel::Negative => data.negative[i] += 1,
                SentimentLabel::Positive => data.positive[i] += 1,
                SentimentLabel::Neutral => {}
            }
            score_sum[i] += f64::from(em.enrichment.sentiment.score);
            for h in &em.enrichment.hashtags {
                *hashtags.entry(h.clone()).or_default() += 1;
            }
            for tok in vigie_query::text::tokenize(&em.mention.text) {
                if tok.kind == TokenKind::Word
                    && tok.text.chars().count() >= 4
                    && !STOPWORDS.contains(&tok.text.as_str())
                {
                    *terms.entry(tok.text).or_default() += 1;
                }
            }
            let a = authors.entry(em.mention.author.handle.clone()).or_default();
            a.0 += 1;
            a.1 = a.1.max(em.enrichment.reach);
            for w in &em.enrichment.matched_watches {
                *per_watch.entry(w.clone()).or_default() += 1;
            }
        }
        if data.scanned >= MAX_SCAN {
            data.truncated = page.next_cursor.is_some();
            break;
        }
        match page.next_cursor {
            Some(c) => filter.cursor = Some(c),
            None => break,
        }
    }
    data.mean_score = score_sum
        .iter()
        .zip(&data.volume)
        .map(|(s, &v)| {
            (v > 0).then(|| {
                (s / f64::from(u32::try_from(v).unwrap_or(u32::MAX)) * 1000.0).round() / 1000.0
            })
        })
        .collect();
    data.top_terms = top(terms.into_iter().map(|(k, c)| (k, c, None)));
    data.top_hashtags = top(hashtags
        .into_iter()
        .map(|(k, c)| (format!("#{k}"), c, None)));
    let mut by_reach: Vec<Ranked> = authors
        .into_iter()
        .map(|(key, (count, reach))| Ranked {
            key,
            count,
            reach: Some(reach),
        })
        .collect();
    by_reach.sort_by(|a, b| b.reach.cmp(&a.reach).then(a.key.cmp(&b.key)));
    by_reach.truncate(TOP);
    data.top_authors = by_reach;
    let matched: u64 = per_watch.values().sum();
    data.share_of_voice = watches
        .iter()
        .map(|w| {
            let count = per_watch.get(&w.id).copied().unwrap_or(0);
            Share {
                watch: w.id.clone(),
                name: w.name.clone(),
                count,
                share: if matched == 0 {
                    0.0
                } else {
                    (count as f64 / matched as f64 * 1000.0).round() / 1000.0
                },
            }
        })
        .collect();
    data.level_changes = state
        .store
        .level_history(ws, None)
        .await?
        .into_iter()
        .filter(|c| c.at.as_millis() >= from)
        .map(|c| Marker {
            watch: c.watch,
            at: c.at,
            from: c.from.as_u8(),
            to: c.to.as_u8(),
            summary: c.explanation.summary,
        })
        .collect();
    Ok(data)
}

fn top(items: impl Iterator<Item = (String, u64, Option<u64>)>) -> Vec<Ranked> {
    let mut v: Vec<Ranked> = items
        .map(|(key, count, reach)| Ranked { key, count, reach })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    v.truncate(TOP);
    v
}

/// What the live feed sends: enough for the page to know it must redraw.
#[derive(Debug, Serialize, PartialEq)]
struct LiveUpdate {
    total_mentions: u64,
    levels: Vec<(WatchId, u8, Option<Timestamp>)>,
}

async fn live_snapshot(state: &AppState, ws: &WorkspaceId) -> Result<LiveUpdate, ApiError> {
    let total_mentions = state.store.count_mentions(ws).await?;
    let current = state.store.current_levels(ws).await?;
    let levels = known_watches(state, ws)
        .await?
        .into_iter()
        .map(|w| {
            let l = current.iter().find(|l| l.watch == w.id);
            (w.id, l.map_or(0, |l| l.level.as_u8()), l.map(|l| l.since))
        })
        .collect();
    Ok(LiveUpdate {
        total_mentions,
        levels,
    })
}

/// The SSE feed.
pub(crate) async fn live(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let ws = path_workspace(&user)?;
    // Fail before streaming when the store does not answer.
    let first = live_snapshot(&state, &ws).await?;
    let stream = futures_util::stream::unfold(
        (state, ws, Some(first), None::<LiveUpdate>),
        |(state, ws, pending, last)| async move {
            let mut pending = pending;
            let mut last = last;
            loop {
                let snap = match pending.take() {
                    Some(s) => s,
                    None => {
                        tokio::time::sleep(LIVE_POLL).await;
                        match live_snapshot(&state, &ws).await {
                            Ok(s) => s,
                            Err(_) => continue,
                        }
                    }
                };
                if last.as_ref() != Some(&snap) {
                    let event = Event::default()
                        .event("update")
                        .json_data(&snap)
                        .unwrap_or_else(|_| Event::default().event("update"));
                    last = Some(snap);
                    return Some((Ok(event), (state, ws, None, last)));
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
