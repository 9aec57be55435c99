//! `GET /` (to the first workspace), `GET /w/{ws}` (dashboard) and `GET /w/{ws}/mentions`
//! (the mention explorer with the query language, filters and sentiment explanations).

use super::{Nav, Tr, render, see_other, tr_for};
use crate::api::{DashboardData, dashboard_data};
use crate::auth::{CurrentUser, Role};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::OnceLock;
use vigie_enrich::LexiconSentiment;
use vigie_model::{SentimentLabel, Timestamp, WorkspaceId};
use vigie_store::MentionFilter;

/// Stored mentions one explorer page may examine while filtering with a query.
const EXPLORER_SCAN: usize = 5_000;
/// Mentions shown per page.
const EXPLORER_PAGE: usize = 50;

pub(crate) fn page_workspace(user: &CurrentUser) -> Result<WorkspaceId, ApiError> {
    crate::api::path_workspace(user)
}

fn workspace_name(state: &AppState, ws: &WorkspaceId) -> String {
    state
        .config
        .workspace(ws)
        .map_or_else(|| ws.to_string(), |w| w.name.clone())
}

pub(crate) async fn home_get(user: CurrentUser) -> Response {
    match user.roles.first() {
        Some((ws, _)) => see_other(&format!("/w/{ws}")),
        None => see_other("/settings"),
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    tr: Tr,
    nav: Nav,
    ws_name: String,
    data: DashboardData,
    data_json: String,
    can_edit: bool,
}

pub(crate) async fn dashboard_get(State(state): State<AppState>, user: CurrentUser) -> Response {
    let result = async {
        let ws = page_workspace(&user)?;
        let data = dashboard_data(&state, &ws, 168).await?;
        // `</` cannot end the script element early once escaped.
        let data_json = serde_json::to_string(&data)
            .map_err(|e| ApiError::internal(&e))?
            .replace("</", "<\\/");
        Ok::<_, ApiError>(DashboardPage {
            tr: tr_for(&user),
            nav: Nav::for_user(&state, &user, ws.as_str()),
            ws_name: workspace_name(&state, &ws),
            can_edit: user.require(Role::Manager).is_ok(),
            data,
            data_json,
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => e.into_response(),
    }
}

/// `?q=&watch=&sentiment=&lang=&cursor=`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ExplorerParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    watch: String,
    #[serde(default)]
    sentiment: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    cursor: String,
}

/// One mention as the explorer shows it.
#[derive(Debug)]
struct MentionView {
    author: String,
    published_at: Timestamp,
    text: String,
    label: &'static str,
    label_text: &'static str,
    score: String,
    confidence: String,
    reach: u64,
    followers: String,
    lang: String,
    source: String,
    url: Option<String>,
    watches: String,
    /// `(word, valence, valence as text)`.
    contributions: Vec<(String, f32, String)>,
    rules: String,
    matched: String,
}

#[derive(Template)]
#[template(path = "mentions.html")]
struct MentionsPage {
    tr: Tr,
    nav: Nav,
    ws: String,
    ws_name: String,
    q: String,
    query_error: String,
    watch: String,
    sentiment: String,
    lang: String,
    watches: Vec<(String, String)>,
    items: Vec<MentionView>,
    next_url: Option<String>,
}

fn lexicon() -> &'static LexiconSentiment {
    static LEXICON: OnceLock<LexiconSentiment> = OnceLock::new();
    LEXICON.get_or_init(LexiconSentiment::default)
}

pub(crate) async fn mentions_get(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Result<Query<ExplorerParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let result = async {
        let Query(p) = params.map_err(crate::api::query_rejection)?;
        let ws = page_workspace(&user)?;
        let tr = tr_for(&user);
        let watches = crate::api::known_watches(&state, &ws).await?;
        let mut filter = MentionFilter::workspace(ws.clone());
        filter.watch = crate::api::watch_param(&state, &ws, Some(&p.watch)).await?;
        filter.sentiment = match p.sentiment.as_str() {
            "" => None,
            s => Some(
                SentimentLabel::parse(s)
                    .ok_or_else(|| ApiError::bad_request(format!("invalid sentiment {s:?}")))?,
            ),
        };
        filter.language = (!p.lang.trim().is_empty()).then(|| p.lang.trim().to_lowercase());
        filter.cursor = (!p.cursor.is_empty()).then(|| p.cursor.clone());
        let mut query_error = String::new();
        let query = match crate::api::mentions::query_param(Some(&p.q)) {
            Ok(q) => q,
            Err(e) => {
                query_error = e.message;
                None
            }
        };
        let mut items = Vec::new();
        let mut next_cursor = None;
        if query_error.is_empty() {
            // With a query, the explorer filters the listing further: `search` resumes right
            // after the last mention it examined, so paging skips no match.
            let found = match &query {
                None => {
                    filter.limit = u32::try_from(EXPLORER_PAGE).unwrap_or(50);
                    let page = state.store.list_mentions(&filter).await?;
                    next_cursor = page.next_cursor;
                    page.items.into_iter().map(|m| (m, Vec::new())).collect()
                }
                Some(q) => {
                    let page = crate::api::mentions::search(
                        &state,
                        filter,
                        q,
                        EXPLORER_PAGE,
                        EXPLORER_SCAN,
                    )
                    .await?;
                    next_cursor = page.next_cursor;
                    page.items
                }
            };
            for (m, matched) in found {
                let em = &m.mention;
                let lang = em
                    .enrichment
                    .language
                    .as_ref()
                    .map_or("und", |l| l.code.as_str());
                let explanation = lexicon().explain(&em.mention.text, lang);
                let s = &em.enrichment.sentiment;
                let (label, label_text) = match s.label {
                    SentimentLabel::Negative => ("negative", tr.s("negative")),
                    SentimentLabel::Neutral => ("neutral", tr.s("neutral")),
                    SentimentLabel::Positive => ("positive", tr.s("positive")),
                };
                items.push(MentionView {
                    author: em.mention.author.handle.clone(),
                    published_at: em.mention.published_at,
                    text: em.mention.text.clone(),
                    label,
                    label_text,
                    score: format!("{:+.2}", s.score),
                    confidence: format!("{:.2}", s.confidence),
                    reach: em.enrichment.reach,
                    followers: em
                        .mention
                        .author
                        .followers
                        .map_or_else(|| "?".into(), |f| f.to_string()),
                    lang: lang.to_owned(),
                    source: em.mention.source.clone(),
                    url: em
                        .mention
                        .url
                        .clone()
                        .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
                    watches: em
                        .enrichment
                        .matched_watches
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    contributions: explanation
                        .contributions
                        .into_iter()
                        .map(|(w, v)| {
                            let text = format!("{v:+.1}");
                            (w, v, text)
                        })
                        .collect(),
                    rules: explanation.rules.join("; "),
                    matched: matched.join(", "),
                });
            }
        }
        let next_url = next_cursor.map(|c| {
            format!(
                "/w/{ws}/mentions?q={}&watch={}&sentiment={}&lang={}&cursor={}",
                super::url_encode(&p.q),
                super::url_encode(&p.watch),
                super::url_encode(&p.sentiment),
                super::url_encode(&p.lang),
                super::url_encode(&c)
            )
        });
        Ok::<_, ApiError>(MentionsPage {
            tr,
            nav: Nav::for_user(&state, &user, ws.as_str()),
            ws_name: workspace_name(&state, &ws),
            ws: ws.to_string(),
            q: p.q,
            query_error,
            watch: p.watch,
            sentiment: p.sentiment,
            lang: p.lang,
            watches: watches
                .into_iter()
                .map(|w| (w.id.to_string(), w.name))
                .collect(),
            items,
            next_url,
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => e.into_response(),
    }
}
