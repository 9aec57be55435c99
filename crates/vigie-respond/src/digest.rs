//! Digest e-mails for calm periods: a workspace summarised over a day or a week, per watch
//! (mentions, share negative, change against the period before, peak level, top hashtags
//! and terms, top authors by reach, incidents opened and closed with links), written as
//! plain text and HTML in French or English, and the schedule that sends each configured
//! digest once per period ([`DigestScheduler`]).
//!
//! A period ends at the configured local `hour` (and `weekday` for a weekly digest) and
//! covers the 24 hours or 7 days before. The end of the last period sent is kept in the
//! store ([`vigie_store::RespondStore::record_digest_sent`]): after a restart, a period
//! already sent is not sent again and the latest one missed while stopped is sent once. The
//! period is claimed there before the e-mail goes out, so two web processes send it once.

use crate::engine::Engine;
use crate::error::{RespondError, RespondResult};
use crate::report::esc;
use crate::scenario::Lang;
use chrono::{Datelike, TimeZone};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use unicode_segmentation::UnicodeSegmentation;
use vigie_config::{DigestConfig, DigestPeriod, MessageLanguage, WorkspaceConfig};
use vigie_model::{CrisisLevel, Incident, SentimentLabel, Timestamp, WatchId, WorkspaceId};
use vigie_notify::notifiers::email::EmailNotifier;
use vigie_store::MentionFilter;

/// Most mentions read for one digest (both periods).
/// Most mentions a digest reads (the period and the one before, newest first).
pub const MAX_DIGEST_MENTIONS: usize = 500_000;
/// Entries in each top list.
const TOP: usize = 5;

/// A count with its label (hashtag, term or author).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranked {
    /// The hashtag, term or handle.
    pub label: String,
    /// Mentions (terms, hashtags) or summed reach (authors).
    pub value: u64,
}

/// An incident of the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigestIncident {
    /// The incident.
    pub incident: Incident,
    /// Opened in the period (else only closed in it).
    pub opened_in_period: bool,
    /// Link to its report.
    pub url: String,
}

/// One watch over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchDigest {
    /// Watch id.
    pub watch: WatchId,
    /// Display name.
    pub name: String,
    /// Mentions in the period.
    pub mentions: u64,
    /// Negative ones.
    pub negative: u64,
    /// Mentions in the period before (same length).
    pub previous_mentions: u64,
    /// Negative ones in the period before.
    pub previous_negative: u64,
    /// Highest level reached in the period (the level at its start included).
    pub peak_level: CrisisLevel,
    /// Top hashtags.
    pub top_hashtags: Vec<Ranked>,
    /// Top terms of the texts (stop words left out).
    pub top_terms: Vec<Ranked>,
    /// Top authors by summed reach (the organisation's own accounts left out).
    pub top_authors: Vec<Ranked>,
    /// Incidents opened or closed in the period.
    pub incidents: Vec<DigestIncident>,
}

impl WatchDigest {
    /// Share of negative mentions, in percent (0 without mentions).
    pub fn negative_percent(&self) -> f64 {
        percent(self.negative, self.mentions)
    }

    /// Change of the mention count against the period before, in percent (`None` when the
    /// period before had none).
    pub fn change_percent(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        (self.previous_mentions > 0).then(|| {
            ((self.mentions as f64 - self.previous_mentions as f64) / self.previous_mentions as f64
                * 1000.0)
                .round()
                / 10.0
        })
    }
}

fn percent(part: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let p = part as f64 / total as f64 * 1000.0;
    p.round() / 10.0
}

/// A digest of one workspace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    /// Workspace.
    pub workspace: WorkspaceId,
    /// Its display name.
    pub workspace_name: String,
    /// Daily or weekly.
    pub period: DigestPeriod,
    /// Language.
    pub lang: Lang,
    /// Start of the period (inclusive).
    pub from: Timestamp,
    /// End of the period (exclusive).
    pub to: Timestamp,
    /// Time zone the times are shown in (the digest's `time_zone`, else `UTC`).
    pub time_zone: String,
    /// One entry per configured watch, in configuration order.
    pub watches: Vec<WatchDigest>,
    /// Set when the two periods held more mentions than a digest reads
    /// ([`MAX_DIGEST_MENTIONS`]): the figures cover those published from this time on.
    pub partial_from: Option<Timestamp>,
    /// The cap the digest was read with.
    pub max_mentions: usize,
}

/// The length of a period, in milliseconds.
pub fn period_ms(period: DigestPeriod) -> i64 {
    match period {
        DigestPeriod::Daily => 24 * 3_600_000,
        DigestPeriod::Weekly => 7 * 24 * 3_600_000,
    }
}

/// The end of the latest complete period at `now`: the last configured local `hour` (on
/// the configured `weekday` for a weekly digest) at or before `now`.
pub fn last_period_end(config: &DigestConfig, now: Timestamp) -> Timestamp {
    let tz = config.time_zone;
    let local = now.to_datetime().with_timezone(&tz);
    let mut day = local.date_naive();
    // At most 8 days back finds the weekday; the extra days cover DST gaps.
    for _ in 0..10 {
        let wanted_day = match config.period {
            DigestPeriod::Daily => true,
            DigestPeriod::Weekly => day.weekday() == config.weekday,
        };
        // A local hour skipped by a daylight-saving change means the first valid instant
        // after it (02:00 on the spring-forward day is 03:00).
        if wanted_day
            && let Some(at) = day.and_hms_opt(config.hour, 0, 0)
            && let Some(at) = tz.from_local_datetime(&at).earliest().or_else(|| {
                tz.from_local_datetime(&(at + chrono::Duration::hours(1)))
                    .earliest()
            })
        {
            let at = Timestamp::from_datetime(at.with_timezone(&chrono::Utc));
            if at <= now {
                return at;
            }
        }
        match day.pred_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    now
}

fn lang_of(l: MessageLanguage) -> Lang {
    match l {
        MessageLanguage::Fr => Lang::Fr,
        MessageLanguage::En => Lang::En,
    }
}

const STOP_WORDS: &[&str] = &[
    "avec", "dans", "pour", "plus", "mais", "sont", "cette", "tout", "tous", "nous", "vous",
    "leur", "leurs", "elle", "elles", "avait", "être", "fait", "faire", "comme", "encore", "aussi",
    "très", "sans", "chez", "après", "avant", "depuis", "entre", "votre", "notre", "quand",
    "alors", "même", "rien", "that", "this", "with", "have", "from", "they", "their", "there",
    "what", "when", "your", "about", "would", "been", "were", "will", "just", "than", "then",
    "them", "into", "more", "some", "only", "over", "also", "because", "after", "https", "http",
];

#[derive(Default)]
struct Tally {
    mentions: u64,
    negative: u64,
    previous_mentions: u64,
    previous_negative: u64,
    hashtags: HashMap<String, u64>,
    terms: HashMap<String, u64>,
    authors: HashMap<String, u64>,
}

fn top(map: HashMap<String, u64>) -> Vec<Ranked> {
    let mut v: Vec<Ranked> = map
        .into_iter()
        .map(|(label, value)| Ranked { label, value })
        .collect();
    v.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.label.cmp(&b.label)));
    v.truncate(TOP);
    v
}

/// Gathers the digest of `workspace` for the period `[to − period, to)`. `base_url` is
/// Vigie's public address, for the incidents' links.
pub async fn build(
    engine: &Engine,
    workspace: &WorkspaceConfig,
    period: DigestPeriod,
    to: Timestamp,
    lang: Lang,
    base_url: &str,
) -> RespondResult<Digest> {
    build_capped(
        engine,
        workspace,
        (period, to, lang),
        base_url,
        MAX_DIGEST_MENTIONS,
    )
    .await
}

/// [`build`], reading at most `max_mentions` mentions (newest first); beyond, the digest
/// says its figures are partial ([`Digest::partial_from`]).
pub async fn build_capped(
    engine: &Engine,
    workspace: &WorkspaceConfig,
    (period, to, lang): (DigestPeriod, Timestamp, Lang),
    base_url: &str,
    max_mentions: usize,
) -> RespondResult<Digest> {
    let store = engine.store();
    let ws = &workspace.id;
    let len = period_ms(period);
    // A scheduled period starts where the previous one ended, so that a daylight-saving
    // change neither counts an hour twice nor leaves one out; otherwise it is `len` long.
    let from = match workspace.digests.iter().find(|d| d.period == period) {
        Some(d) if last_period_end(d, to) == to => last_period_end(d, to.plus_millis(-1)),
        _ => to.plus_millis(-len),
    };
    let previous_from = from.plus_millis(-len);
    let mut tallies: HashMap<WatchId, Tally> = workspace
        .watches
        .iter()
        .map(|w| (w.id.clone(), Tally::default()))
        .collect();
    let mut filter = MentionFilter::workspace(ws.clone());
    filter.since = Some(previous_from);
    filter.until = Some(to);
    let visited = crate::report::for_each_mention(store.as_ref(), filter, max_mentions, |e| {
        let t = e.mention.published_at;
        let current = t >= from;
        let negative = e.enrichment.sentiment.label == SentimentLabel::Negative;
        for w in &e.enrichment.matched_watches {
            let Some(tally) = tallies.get_mut(w) else {
                continue;
            };
            if !current {
                tally.previous_mentions += 1;
                tally.previous_negative += u64::from(negative);
                continue;
            }
            tally.mentions += 1;
            tally.negative += u64::from(negative);
            for h in &e.enrichment.hashtags {
                *tally
                    .hashtags
                    .entry(format!("#{}", h.trim_start_matches('#').to_lowercase()))
                    .or_default() += 1;
            }
            let mut words: Vec<String> = e
                .mention
                .text
                .unicode_words()
                .map(str::to_lowercase)
                .filter(|w| {
                    w.chars().count() >= 4
                        && !w.chars().all(|c| c.is_ascii_digit())
                        && !STOP_WORDS.contains(&w.as_str())
                })
                .collect();
            words.sort();
            words.dedup();
            for w in words {
                *tally.terms.entry(w).or_default() += 1;
            }
            if !e.enrichment.own_account {
                *tally
                    .authors
                    .entry(format!("@{}", e.mention.author.handle))
                    .or_default() += e.enrichment.reach;
            }
        }
    })
    .await?;
    let history = store.level_history(ws, None).await?;
    let incidents = store.list_incidents(ws).await?;
    let base = base_url.trim_end_matches('/');
    let mut watches = Vec::new();
    for w in &workspace.watches {
        let tally = tallies.remove(&w.id).unwrap_or_default();
        let mut changes: Vec<_> = history.iter().filter(|c| c.watch == w.id).collect();
        changes.sort_by_key(|c| c.at);
        let at_start = changes
            .iter()
            .rev()
            .find(|c| c.at < from)
            .map_or(CrisisLevel::Calm, |c| c.to);
        let peak_level = changes
            .iter()
            .filter(|c| c.at >= from && c.at < to)
            .map(|c| c.to)
            .fold(at_start, CrisisLevel::max);
        let mut list: Vec<DigestIncident> = incidents
            .iter()
            .filter(|i| i.watch == w.id)
            .filter_map(|i| {
                let opened = i.opened_at >= from && i.opened_at < to;
                let closed = i.closed_at.is_some_and(|c| c >= from && c < to);
                (opened || closed).then(|| DigestIncident {
                    incident: i.clone(),
                    opened_in_period: opened,
                    url: format!(
                        "{base}/api/v1/workspaces/{ws}/incidents/{}/report?lang={}",
                        i.id,
                        lang.as_str()
                    ),
                })
            })
            .collect();
        list.sort_by_key(|d| (d.incident.opened_at, d.incident.id));
        watches.push(WatchDigest {
            watch: w.id.clone(),
            name: w.name.clone(),
            mentions: tally.mentions,
            negative: tally.negative,
            previous_mentions: tally.previous_mentions,
            previous_negative: tally.previous_negative,
            peak_level,
            top_hashtags: top(tally.hashtags),
            top_terms: top(tally.terms),
            top_authors: top(tally.authors),
            incidents: list,
        });
    }
    let time_zone = workspace
        .digests
        .iter()
        .find(|d| d.period == period)
        .map_or_else(|| "UTC".to_owned(), |d| d.time_zone.name().to_owned());
    Ok(Digest {
        partial_from: (!visited.complete).then_some(visited.oldest).flatten(),
        max_mentions,
        workspace: ws.clone(),
        workspace_name: workspace.name.clone(),
        period,
        lang,
        from,
        to,
        time_zone,
        watches,
    })
}

fn tr(lang: Lang, key: &str) -> &'static str {
    let fr = lang == Lang::Fr;
    match key {
        "daily" if fr => "Synthèse quotidienne",
        "daily" => "Daily digest",
        "weekly" if fr => "Synthèse hebdomadaire",
        "weekly" => "Weekly digest",
        "period" if fr => "Période",
        "period" => "Period",
        "mentions" if fr => "Mentions",
        "mentions" => "Mentions",
        "negative" if fr => "Part négative",
        "negative" => "Negative share",
        "previous" if fr => "Période précédente",
        "previous" => "Previous period",
        "no_previous" if fr => "aucune mention",
        "no_previous" => "no mention",
        "peak" if fr => "Niveau maximal",
        "peak" => "Peak level",
        "hashtags" if fr => "Hashtags principaux",
        "hashtags" => "Top hashtags",
        "terms" if fr => "Termes principaux",
        "terms" => "Top terms",
        "authors" if fr => "Auteurs principaux (portée)",
        "authors" => "Top authors (reach)",
        "incidents" if fr => "Incidents",
        "incidents" => "Incidents",
        "no_incident" if fr => "Aucun incident : période calme.",
        "no_incident" => "No incident: a calm period.",
        "opened" if fr => "ouvert le",
        "opened" => "opened",
        "closed" if fr => "clos le",
        "closed" => "closed",
        "still_open" if fr => "toujours ouvert",
        "still_open" => "still open",
        "none" if fr => "aucun",
        "none" => "none",
        "level" if fr => "niveau",
        "level" => "level",
        _ => "",
    }
}

/// A time in the digest's time zone (`2026-03-04 08:00 CET`), UTC when it has none.
fn fmt_time(t: Timestamp, time_zone: &str) -> String {
    match time_zone.parse::<chrono_tz::Tz>() {
        Ok(tz) if time_zone != "UTC" => t
            .to_datetime()
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string(),
        _ => t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

fn number(lang: Lang, x: f64) -> String {
    let s = format!("{x:.1}");
    if lang == Lang::Fr {
        s.replace('.', ",")
    } else {
        s
    }
}

/// The lines of one watch: `(label, value)`.
fn watch_rows(l: Lang, w: &WatchDigest) -> Vec<(&'static str, String)> {
    let change = w.change_percent().map_or_else(
        || tr(l, "no_previous").to_owned(),
        |c| format!("{}{} %", if c >= 0.0 { "+" } else { "" }, number(l, c)),
    );
    let list = |v: &[Ranked]| {
        if v.is_empty() {
            tr(l, "none").to_owned()
        } else {
            v.iter()
                .map(|r| format!("{} ({})", r.label, r.value))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    vec![
        (tr(l, "mentions"), w.mentions.to_string()),
        (
            tr(l, "negative"),
            format!("{} % ({})", number(l, w.negative_percent()), w.negative),
        ),
        (
            tr(l, "previous"),
            format!("{} ({change})", w.previous_mentions),
        ),
        (tr(l, "peak"), w.peak_level.to_string()),
        (tr(l, "hashtags"), list(&w.top_hashtags)),
        (tr(l, "terms"), list(&w.top_terms)),
        (tr(l, "authors"), list(&w.top_authors)),
    ]
}

fn incident_line(l: Lang, i: &DigestIncident, time_zone: &str) -> String {
    let inc = &i.incident;
    let closed = inc.closed_at.map_or_else(
        || tr(l, "still_open").to_owned(),
        |c| format!("{} {}", tr(l, "closed"), fmt_time(c, time_zone)),
    );
    format!(
        "#{} — {} {} — {} {} — {closed}",
        inc.id,
        tr(l, "opened"),
        fmt_time(inc.opened_at, time_zone),
        tr(l, "level"),
        inc.peak_level
    )
}

/// The e-mail's subject.
pub fn subject(d: &Digest) -> String {
    format!(
        "[Vigie] {} — {} — {}",
        tr(d.lang, d.period.as_str()),
        d.workspace_name,
        match d.time_zone.parse::<chrono_tz::Tz>() {
            Ok(tz) => d.to.to_datetime().with_timezone(&tz).format("%Y-%m-%d"),
            Err(_) => d.to.to_datetime().format("%Y-%m-%d"),
        }
    )
}

/// The digest as plain text.
pub fn render_text(d: &Digest) -> String {
    let l = d.lang;
    let mut t = format!(
        "{}\n{}: {} → {}\n",
        subject(d),
        tr(l, "period"),
        fmt_time(d.from, &d.time_zone),
        fmt_time(d.to, &d.time_zone)
    );
    if let Some(from) = d.partial_from {
        let _ = writeln!(
            t,
            "{}",
            crate::report::partial_note(l, d.max_mentions, &fmt_time(from, &d.time_zone))
        );
    }
    for w in &d.watches {
        let _ = write!(t, "\n== {} ({}) ==\n", w.name, w.watch);
        for (k, v) in watch_rows(l, w) {
            let _ = writeln!(t, "{k}: {v}");
        }
        let _ = writeln!(t, "{}:", tr(l, "incidents"));
        if w.incidents.is_empty() {
            let _ = writeln!(t, "  {}", tr(l, "no_incident"));
        }
        for i in &w.incidents {
            let _ = writeln!(t, "  {}\n    {}", incident_line(l, i, &d.time_zone), i.url);
        }
    }
    t
}

/// The digest as an HTML e-mail body (inline styles only, as mail clients need).
pub fn render_html(d: &Digest) -> String {
    let l = d.lang;
    let mut h = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:Arial,sans-serif;color:#222\"><h1 style=\"font-size:20px\">{}</h1>\
         <p>{} : {} → {}</p>",
        l.as_str(),
        esc(&subject(d)),
        esc(&subject(d)),
        esc(tr(l, "period")),
        esc(&fmt_time(d.from, &d.time_zone)),
        esc(&fmt_time(d.to, &d.time_zone))
    );
    if let Some(from) = d.partial_from {
        let note = crate::report::partial_note(l, d.max_mentions, &fmt_time(from, &d.time_zone));
        let _ = write!(h, "<p><strong>{}</strong></p>", esc(&note));
    }
    for w in &d.watches {
        let _ = write!(
            h,
            "<h2 style=\"font-size:17px\">{} <small>({})</small></h2>\
             <table style=\"border-collapse:collapse\" cellpadding=\"5\">",
            esc(&w.name),
            esc(w.watch.as_str())
        );
        for (k, v) in watch_rows(l, w) {
            let _ = write!(
                h,
                "<tr><th style=\"text-align:left;border-bottom:1px solid #ddd\">{}</th>\
                 <td style=\"border-bottom:1px solid #ddd\">{}</td></tr>",
                esc(k),
                esc(&v)
            );
        }
        let _ = write!(
            h,
            "</table><h3 style=\"font-size:15px\">{}</h3>",
            esc(tr(l, "incidents"))
        );
        if w.incidents.is_empty() {
            let _ = write!(h, "<p>{}</p>", esc(tr(l, "no_incident")));
        } else {
            h.push_str("<ul>");
            for i in &w.incidents {
                let _ = write!(
                    h,
                    "<li><a href=\"{}\">{}</a></li>",
                    esc(&i.url),
                    esc(&incident_line(l, i, &d.time_zone))
                );
            }
            h.push_str("</ul>");
        }
    }
    h.push_str("</body></html>");
    h
}

/// Sends each configured digest once per period, through the `email` channels of
/// `[notify]`.
#[derive(Clone)]
pub struct DigestScheduler {
    engine: Engine,
    config: Arc<vigie_config::Config>,
    mailers: HashMap<String, Arc<EmailNotifier>>,
}

impl std::fmt::Debug for DigestScheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestScheduler")
            .field("channels", &self.mailers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// What one pass sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestSent {
    /// Workspace.
    pub workspace: WorkspaceId,
    /// Daily or weekly.
    pub period: DigestPeriod,
    /// End of the period sent.
    pub period_end: Timestamp,
}

impl DigestScheduler {
    /// A scheduler for the digests of `config`; `mailers` are its e-mail notifiers by
    /// channel id (see [`mailers_from_config`]).
    pub fn new(
        engine: Engine,
        config: Arc<vigie_config::Config>,
        mailers: HashMap<String, Arc<EmailNotifier>>,
    ) -> Self {
        Self {
            engine,
            config,
            mailers,
        }
    }

    /// Whether any workspace has a digest.
    pub fn is_empty(&self) -> bool {
        self.config.workspaces.iter().all(|w| w.digests.is_empty())
    }

    /// Sends the digest of `workspace` for the period ending at `period_end` now, without
    /// recording it (`vigie digest --send`).
    pub async fn send(
        &self,
        workspace: &WorkspaceConfig,
        digest: &DigestConfig,
        period_end: Timestamp,
    ) -> RespondResult<Digest> {
        let d = build(
            &self.engine,
            workspace,
            digest.period,
            period_end,
            lang_of(digest.language),
            &self.config.notify.public_url,
        )
        .await?;
        let mailer = self.mailers.get(&digest.channel).ok_or_else(|| {
            RespondError::Invalid(format!("no email channel {:?}", digest.channel))
        })?;
        mailer
            .send_mail(&subject(&d), &digest.to, &render_text(&d), &render_html(&d))
            .await
            .map_err(|e| RespondError::Invalid(format!("digest e-mail: {e}")))?;
        Ok(d)
    }

    /// One pass: sends every digest whose latest complete period was not sent yet. The
    /// period is claimed in the store before the e-mail goes out, so that two processes
    /// serving the same workspaces (two web replicas) send it once; a failed e-mail gives
    /// the claim back and is retried at the next pass. A process that stops between the
    /// claim and the e-mail loses that period's digest (at most once, never twice).
    pub async fn run_due(&self) -> Vec<DigestSent> {
        let now = self.engine.now();
        let mut sent = Vec::new();
        let Some(rs) = self.engine.store().respond() else {
            return sent;
        };
        for ws in &self.config.workspaces {
            for digest in &ws.digests {
                let key = digest.period.as_str();
                let end = last_period_end(digest, now);
                let previous = match rs.last_digest_sent(&ws.id, key).await {
                    Ok(Some(last)) if last >= end => continue,
                    Ok(previous) => previous,
                    Err(e) => {
                        tracing::warn!(workspace = %ws.id, digest = key, error = %e, "digest state unreadable");
                        continue;
                    }
                };
                match rs.record_digest_sent(&ws.id, key, end, now).await {
                    Ok(true) => {}
                    // Another process claimed this period first.
                    Ok(false) => continue,
                    Err(e) => {
                        tracing::warn!(workspace = %ws.id, digest = key, error = %e, "digest period not claimed");
                        continue;
                    }
                }
                match self.send(ws, digest, end).await {
                    Ok(_) => {
                        tracing::info!(workspace = %ws.id, digest = key, period_end = %end, "digest sent");
                        sent.push(DigestSent {
                            workspace: ws.id.clone(),
                            period: digest.period,
                            period_end: end,
                        });
                    }
                    Err(e) => {
                        tracing::warn!(workspace = %ws.id, digest = key, error = %e, "digest not sent");
                        if let Err(e) = rs.release_digest(&ws.id, key, end, previous).await {
                            tracing::warn!(workspace = %ws.id, digest = key, error = %e, "digest claim not released");
                        }
                    }
                }
            }
        }
        sent
    }

    /// Runs [`Self::run_due`] every `every` until the task is aborted.
    pub fn spawn(self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                self.run_due().await;
            }
        })
    }
}

/// The e-mail notifiers of the `email` channels that digests use. `secret` resolves a
/// password's environment variable.
pub fn mailers_from_config(
    config: &vigie_config::Config,
    secret: &dyn Fn(&str) -> Option<String>,
) -> RespondResult<HashMap<String, Arc<EmailNotifier>>> {
    let used: Vec<&str> = config
        .workspaces
        .iter()
        .flat_map(|w| w.digests.iter().map(|d| d.channel.as_str()))
        .collect();
    let mut out = HashMap::new();
    for c in &config.notify.channels {
        if used.contains(&c.id.as_str()) {
            let mailer = EmailNotifier::from_channel(c, secret)
                .map_err(|e| RespondError::Invalid(format!("channel {}: {e}", c.id)))?;
            out.insert(c.id.clone(), Arc::new(mailer));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(period: DigestPeriod, hour: u32) -> DigestConfig {
        DigestConfig {
            period,
            to: vec!["a@b.example".into()],
            channel: "mail".into(),
            language: MessageLanguage::Fr,
            hour,
            weekday: chrono::Weekday::Mon,
            time_zone: chrono_tz::Europe::Paris,
        }
    }

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap_or(Timestamp::from_millis(0))
    }

    #[test]
    fn periods_end_at_the_local_hour() {
        // Paris is UTC+1 in March before the 29th: 08:00 local = 07:00 UTC.
        let daily = cfg(DigestPeriod::Daily, 8);
        assert_eq!(
            last_period_end(&daily, ts("2026-03-04T07:00:00Z")),
            ts("2026-03-04T07:00:00Z")
        );
        assert_eq!(
            last_period_end(&daily, ts("2026-03-04T06:59:59Z")),
            ts("2026-03-03T07:00:00Z")
        );
        // Summer time: 08:00 local = 06:00 UTC.
        assert_eq!(
            last_period_end(&daily, ts("2026-07-01T12:00:00Z")),
            ts("2026-07-01T06:00:00Z")
        );
        // Weekly, Monday 08:00: 2026-03-02 is a Monday.
        let weekly = cfg(DigestPeriod::Weekly, 8);
        assert_eq!(
            last_period_end(&weekly, ts("2026-03-08T20:00:00Z")),
            ts("2026-03-02T07:00:00Z")
        );
        assert_eq!(
            last_period_end(&weekly, ts("2026-03-09T07:00:00Z")),
            ts("2026-03-09T07:00:00Z")
        );
    }

    #[test]
    fn consecutive_periods_meet_across_daylight_saving_changes() {
        // Paris springs forward on 2026-03-29 (02:00 → 03:00) and falls back on 2026-10-25.
        let daily = cfg(DigestPeriod::Daily, 8);
        let end = last_period_end(&daily, ts("2026-03-29T12:00:00Z"));
        assert_eq!(end, ts("2026-03-29T06:00:00Z"));
        // The period ending then starts where the previous one ended: 23 hours, not 24.
        let start = last_period_end(&daily, end.plus_millis(-1));
        assert_eq!(start, ts("2026-03-28T07:00:00Z"));
        let end = last_period_end(&daily, ts("2026-10-25T12:00:00Z"));
        let start = last_period_end(&daily, end.plus_millis(-1));
        assert_eq!(end.millis_since(start), 25 * 3_600_000);
        // 02:00 does not exist on 2026-03-29 in Paris: that day's period ends at 03:00.
        let two = cfg(DigestPeriod::Daily, 2);
        assert_eq!(
            last_period_end(&two, ts("2026-03-29T12:00:00Z")),
            ts("2026-03-29T01:00:00Z")
        );
    }
}
