//! Post-crisis reports (HTML with inline SVG charts, PDF), in French and English, computed
//! from the incident, its crisis room, the audit log and the mentions. Digest e-mails are
//! in [`crate::digest`].
//!
//! Measured delays (see `docs/responding.md`):
//! - **time to detect** = incident opening − publication of the earliest post cited as
//!   evidence by the level change that opened it;
//! - **time to acknowledge** = first of (an `incident.acknowledged` audit line, an
//!   acknowledgement given to the mobilizer — API or signed link — on a mobilization of the
//!   same watch, the crisis room's activation) − incident opening;
//! - **time to first answer** = first publication (or "sent by hand") of a room draft −
//!   incident opening.
//!
//! The timeline also shows what the mobilizer did for the incident: notifications sent, held
//! or failed, escalation steps, acknowledgements and SLA events, from the mobilization
//! incidents of the same watch opened while the incident was open (or up to
//! [`MOBILIZATION_SLACK_MS`] before it: the mobilizer runs on the clock, detection on event
//! time).

use crate::engine::Engine;
use crate::error::{RespondError, RespondResult};
use crate::model::{CrisisRoom, Draft, Task, TaskStatus};
use crate::pdf::Layout;
use crate::scenario::Lang;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use vigie_model::{Incident, SentimentLabel, Timestamp, WorkspaceId};
use vigie_notify::{EntryKind, MobilizedIncident};
use vigie_store::{MentionFilter, Store};

/// Most mentions read for one report.
const MAX_MENTIONS: usize = 200_000;

/// How long before a detector incident's opening a mobilization of its watch may open and
/// still count as the same crisis (15 minutes).
pub const MOBILIZATION_SLACK_MS: i64 = 15 * 60_000;

/// The three measured delays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Delays {
    /// Publication of the earliest evidence post.
    pub first_evidence_at: Option<Timestamp>,
    /// Opening − first evidence, in ms.
    pub detect_ms: Option<i64>,
    /// First acknowledgement (audit line, mobilizer acknowledgement) or activation.
    pub acknowledged_at: Option<Timestamp>,
    /// Who gave it and how (`camille (link)`, `camille (activation)`).
    pub acknowledged_by: Option<String>,
    /// Acknowledgement − opening, in ms.
    pub acknowledge_ms: Option<i64>,
    /// First publication.
    pub first_answer_at: Option<Timestamp>,
    /// First answer − opening, in ms.
    pub first_answer_ms: Option<i64>,
}

/// Volumes and sentiment over a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PeriodStats {
    /// Start (inclusive).
    pub from: Timestamp,
    /// End (exclusive).
    pub to: Timestamp,
    /// Mentions.
    pub mentions: u64,
    /// Negative ones.
    pub negative: u64,
    /// Positive ones.
    pub positive: u64,
    /// Mean sentiment score (−1 to 1), 0 without mentions.
    pub mean_sentiment: f64,
}

/// One bar of the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    /// Start of the bucket.
    pub start: Timestamp,
    /// Mentions.
    pub total: u64,
    /// Negative mentions.
    pub negative: u64,
}

/// An author who weighed in the crisis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Voice {
    /// Handle.
    pub handle: String,
    /// Followers.
    pub followers: u64,
    /// Mentions during the incident.
    pub mentions: u64,
    /// Sum of estimated reach.
    pub reach: u64,
}

/// A line of the report's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineLine {
    /// When.
    pub at: Timestamp,
    /// Who (empty for detection events).
    pub who: String,
    /// What.
    pub text: String,
}

/// Everything a post-crisis report shows.
#[derive(Debug, Clone, Serialize)]
pub struct ReportData {
    /// Workspace.
    pub workspace: WorkspaceId,
    /// Language.
    pub lang: Lang,
    /// When it was generated.
    pub generated_at: Timestamp,
    /// The incident.
    pub incident: Incident,
    /// Its crisis room, if one was opened.
    pub room: Option<CrisisRoom>,
    /// The delays.
    pub delays: Delays,
    /// Before, during, after.
    pub periods: [PeriodStats; 3],
    /// Bucket width in minutes.
    pub bucket_minutes: i64,
    /// The chart's bars.
    pub buckets: Vec<Bucket>,
    /// Top voices during the incident (by reach).
    pub top_voices: Vec<Voice>,
    /// What was published.
    pub published: Vec<Draft>,
    /// Tasks done late or still open past their deadline.
    pub late_tasks: Vec<Task>,
    /// Tasks in total.
    pub tasks_total: usize,
    /// Timeline (detection, notifications, acknowledgements and actions).
    pub timeline: Vec<TimelineLine>,
    /// Notifications the mobilizer delivered for the incident.
    pub notifications_sent: usize,
    /// Acknowledgements given to the mobilizer, oldest first.
    pub acknowledgements: Vec<vigie_notify::Acknowledgement>,
    /// Set when the incident's span held more mentions than a report reads: the figures
    /// cover those published from this time on.
    pub partial_from: Option<Timestamp>,
}

/// The note shown when a report or a digest read only the newest mentions.
pub(crate) fn partial_note(lang: Lang, max: usize, from: &str) -> String {
    if lang == Lang::Fr {
        format!(
            "Chiffres partiels : la période compte plus de {max} mentions ; seules celles publiées depuis {from} sont comptées."
        )
    } else {
        format!(
            "Partial figures: the period holds more than {max} mentions; only those published from {from} on are counted."
        )
    }
}

fn tr(lang: Lang, key: &str) -> &'static str {
    let fr = lang == Lang::Fr;
    match key {
        "title" if fr => "Rapport post-crise",
        "title" => "Post-crisis report",
        "summary" if fr => "Synthèse",
        "summary" => "Summary",
        "watch" if fr => "Veille",
        "watch" => "Watch",
        "opened" if fr => "Ouverture de l'incident",
        "opened" => "Incident opened",
        "closed" if fr => "Clôture",
        "closed" => "Closed",
        "ongoing" if fr => "en cours",
        "ongoing" => "ongoing",
        "peak" if fr => "Niveau maximal",
        "peak" => "Peak level",
        "scenario" if fr => "Scénario activé",
        "scenario" => "Scenario activated",
        "none" if fr => "aucun",
        "none" => "none",
        "delays" if fr => "Délais mesurés",
        "delays" => "Measured delays",
        "detect" if fr => "Délai de détection",
        "detect" => "Time to detect",
        "ack" if fr => "Délai de prise en compte",
        "ack" => "Time to acknowledge",
        "ack_by" if fr => "Première prise en compte par",
        "ack_by" => "First acknowledged by",
        "acks" if fr => "Prises en compte (astreinte)",
        "acks" => "On-call acknowledgements",
        "notifications" if fr => "Notifications envoyées",
        "notifications" => "Notifications sent",
        "answer" if fr => "Délai de première réponse",
        "answer" => "Time to first answer",
        "not_measured" if fr => "non mesuré",
        "not_measured" => "not measured",
        "volumes" if fr => "Volumes et sentiment",
        "volumes" => "Volumes and sentiment",
        "before" if fr => "Avant",
        "before" => "Before",
        "during" if fr => "Pendant",
        "during" => "During",
        "after" if fr => "Après",
        "after" => "After",
        "mentions" if fr => "Mentions",
        "mentions" => "Mentions",
        "negative" if fr => "Négatives",
        "negative" => "Negative",
        "mean" if fr => "Sentiment moyen",
        "mean" => "Mean sentiment",
        "chart" if fr => "Mentions par tranche (rouge : négatives)",
        "chart" => "Mentions per bucket (red: negative)",
        "voices" if fr => "Principales voix",
        "voices" => "Top voices",
        "followers" if fr => "abonnés",
        "followers" => "followers",
        "reach" if fr => "portée",
        "reach" => "reach",
        "published" if fr => "Ce qui a été publié",
        "published" => "What was published",
        "nothing_published" if fr => "Rien n'a été publié.",
        "nothing_published" => "Nothing was published.",
        "late" if fr => "Tâches en retard",
        "late" => "Tasks done late",
        "no_late" if fr => "Aucune tâche en retard.",
        "no_late" => "No task was late.",
        "due" if fr => "échéance",
        "due" => "due",
        "done" if fr => "faite",
        "done" => "done",
        "not_done" if fr => "non faite",
        "not_done" => "not done",
        "timeline" if fr => "Chronologie",
        "timeline" => "Timeline",
        "lessons" if fr => "Enseignements",
        "lessons" => "Lessons",
        "lessons_todo" if fr => {
            "À compléter : ce qui a bien marché, ce qui a manqué, ce que nous changeons (scénario, charte, astreinte)."
        }
        "lessons_todo" => {
            "To fill in: what worked, what was missing, what we change (scenario, policy, on-call)."
        }
        "generated" if fr => "Généré le",
        "generated" => "Generated on",
        "closing" if fr => "Note de clôture",
        "closing" => "Closing note",
        _ => "",
    }
}

/// The mobilization incidents of `incident`'s watch opened between
/// [`MOBILIZATION_SLACK_MS`] before its opening and `end`, oldest first.
async fn mobilizations_of(
    store: &dyn Store,
    incident: &Incident,
    end: Timestamp,
) -> RespondResult<Vec<MobilizedIncident>> {
    let Some(notify) = store.notify() else {
        return Ok(Vec::new());
    };
    let from = incident.opened_at.plus_millis(-MOBILIZATION_SLACK_MS);
    let mut out = notify
        .list_mobilizations(&incident.workspace, 10_000)
        .await?
        .iter()
        .filter(|r| r.watch == incident.watch && r.opened_at >= from && r.opened_at <= end)
        .map(|r| MobilizedIncident::from_record(r).map_err(RespondError::from))
        .collect::<RespondResult<Vec<_>>>()?;
    out.sort_by_key(|m| (m.opened_at, m.id));
    Ok(out)
}

/// Mobilizer timeline entries the report shows. Opening, signals and level changes are
/// already in the detector incident's own timeline.
fn shows_in_report(kind: EntryKind) -> bool {
    !matches!(
        kind,
        EntryKind::Opened | EntryKind::Signal | EntryKind::LevelChange
    )
}

/// `1 h 05 min`, `12 min`, `45 s`.
pub fn human_duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", s / 60)
    } else {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    }
}

fn fmt_time(t: Timestamp) -> String {
    t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Gathers the report of an incident.
pub async fn build(
    engine: &Engine,
    ws: &WorkspaceId,
    incident_id: i64,
    lang: Lang,
) -> RespondResult<ReportData> {
    let incident = engine.incident(ws, incident_id).await?;
    let now = engine.now();
    let room = engine.room_of_incident(ws, incident_id).await?;
    let store = engine.store();

    // Time to detect: the earliest evidence post of the opening level change.
    let history = store.level_history(ws, Some(&incident.watch)).await?;
    let opening = history
        .iter()
        .filter(|c| c.at >= incident.opened_at)
        .min_by_key(|c| c.at);
    let first_evidence_at =
        opening.and_then(|c| c.explanation.samples.iter().map(|s| s.published_at).min());
    let mut delays = Delays {
        first_evidence_at,
        detect_ms: first_evidence_at.map(|t| incident.opened_at.millis_since(t)),
        ..Delays::default()
    };
    let audit = engine.audit_log(ws, None, 0, 10_000).await?;
    let mobilizations =
        mobilizations_of(store.as_ref(), &incident, incident.closed_at.unwrap_or(now)).await?;
    let mut acknowledgements: Vec<vigie_notify::Acknowledgement> = mobilizations
        .iter()
        .flat_map(|m| m.acknowledgements.iter().cloned())
        .collect();
    acknowledgements.sort_by_key(|a| a.at);
    let first_ack = audit
        .iter()
        .filter(|e| {
            e.entry.action == "incident.acknowledged"
                && e.entry.subject_id.as_deref() == Some(incident_id.to_string().as_str())
        })
        .map(|e| (e.entry.at, format!("{} (vigie)", e.entry.actor)))
        .chain(
            acknowledgements
                .iter()
                .map(|a| (a.at, format!("{} ({})", a.by, a.via))),
        )
        .chain(
            room.as_ref()
                .map(|r| (r.opened_at, format!("{} (activation)", r.opened_by))),
        )
        .min_by_key(|(at, _)| *at);
    delays.acknowledge_ms = first_ack
        .as_ref()
        .map(|(t, _)| t.millis_since(incident.opened_at));
    delays.acknowledged_at = first_ack.as_ref().map(|(t, _)| *t);
    delays.acknowledged_by = first_ack.map(|(_, by)| by);

    let (mut published, mut late_tasks, mut tasks_total, mut timeline) =
        (Vec::new(), Vec::new(), 0, Vec::new());
    for e in &incident.timeline {
        timeline.push(TimelineLine {
            at: e.at,
            who: String::new(),
            text: e.text.clone(),
        });
    }
    let mut notifications_sent = 0;
    for m in &mobilizations {
        for e in &m.timeline {
            notifications_sent += usize::from(e.kind == EntryKind::NotificationSent);
            if shows_in_report(e.kind) {
                timeline.push(TimelineLine {
                    at: e.at,
                    who: e.actor.clone().unwrap_or_default(),
                    text: e.text.clone(),
                });
            }
        }
    }
    if let Some(room) = &room {
        let drafts = engine.drafts(ws, Some(room.id)).await?;
        published = drafts.into_iter().filter(|d| d.status.is_out()).collect();
        published.sort_by_key(|d| d.published.as_ref().map(|p| p.at));
        let first = published
            .iter()
            .filter_map(|d| d.published.as_ref().map(|p| p.at))
            .min();
        delays.first_answer_at = first;
        delays.first_answer_ms = first.map(|t| t.millis_since(incident.opened_at));
        let tasks: Vec<Task> = engine.room_view(ws, room.id).await?.tasks;
        tasks_total = tasks.len();
        late_tasks = tasks.into_iter().filter(|t| t.is_late(now)).collect();
        for e in audit.iter().filter(|e| e.entry.room == Some(room.id)) {
            timeline.push(TimelineLine {
                at: e.entry.at,
                who: e.entry.actor.clone(),
                text: describe_action(
                    &e.entry.action,
                    e.entry.subject_kind.as_str(),
                    e.entry.subject_id.as_deref(),
                ),
            });
        }
    }
    timeline.sort_by_key(|l| l.at);

    // Periods: the incident's span, the same span before, and after if it closed.
    let end = incident
        .closed_at
        .unwrap_or(now)
        .max(incident.opened_at.plus_minutes(60));
    let span = end.millis_since(incident.opened_at).min(7 * 24 * 3_600_000);
    let before_start = incident.opened_at.plus_millis(-span);
    let after_end = incident
        .closed_at
        .map_or(end, |_| end.plus_millis(span))
        .min(now.max(end));
    let periods_bounds = [
        (before_start, incident.opened_at),
        (incident.opened_at, end),
        (end, after_end),
    ];
    let total_span = after_end.millis_since(before_start).max(1);
    let bucket_minutes = ((total_span / 60_000) / 96).max(15);
    let bucket_ms = bucket_minutes * 60_000;
    #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
    let n_buckets = (total_span / bucket_ms + 1) as usize;
    let mut buckets: Vec<Bucket> = (0..n_buckets)
        .map(|i| Bucket {
            start: before_start.plus_millis(bucket_ms * i64::try_from(i).unwrap_or(0)),
            total: 0,
            negative: 0,
        })
        .collect();
    let mut periods: [PeriodStats; 3] = Default::default();
    for (p, (from, to)) in periods.iter_mut().zip(periods_bounds) {
        p.from = from;
        p.to = to;
    }
    let mut sums = [0.0_f64; 3];
    let mut voices: HashMap<String, Voice> = HashMap::new();
    let mut filter = MentionFilter::workspace(ws.clone());
    filter.watch = Some(incident.watch.clone());
    filter.since = Some(before_start);
    filter.until = Some(after_end);
    let visited = for_each_mention(store.as_ref(), filter, MAX_MENTIONS, |e| {
        let t = e.mention.published_at;
        let negative = e.enrichment.sentiment.label == SentimentLabel::Negative;
        if let Ok(i) = usize::try_from(t.millis_since(before_start) / bucket_ms)
            && let Some(b) = buckets.get_mut(i)
        {
            b.total += 1;
            b.negative += u64::from(negative);
        }
        for (k, p) in periods.iter_mut().enumerate() {
            if t >= p.from && t < p.to {
                p.mentions += 1;
                p.negative += u64::from(negative);
                p.positive += u64::from(e.enrichment.sentiment.label == SentimentLabel::Positive);
                sums[k] += f64::from(e.enrichment.sentiment.score);
            }
        }
        if t >= incident.opened_at && t < end && !e.enrichment.own_account {
            let v = voices
                .entry(e.mention.author.handle.clone())
                .or_insert_with(|| Voice {
                    handle: e.mention.author.handle.clone(),
                    followers: 0,
                    mentions: 0,
                    reach: 0,
                });
            v.followers = v.followers.max(e.mention.author.followers.unwrap_or(0));
            v.mentions += 1;
            v.reach += e.enrichment.reach;
        }
    })
    .await?;
    for (p, sum) in periods.iter_mut().zip(sums) {
        if p.mentions > 0 {
            #[allow(clippy::cast_precision_loss)]
            let mean = sum / p.mentions as f64;
            p.mean_sentiment = (mean * 100.0).round() / 100.0;
        }
    }
    let mut top_voices: Vec<Voice> = voices.into_values().collect();
    top_voices.sort_by(|a, b| b.reach.cmp(&a.reach).then(a.handle.cmp(&b.handle)));
    top_voices.truncate(10);
    let partial_from = (!visited.complete).then_some(visited.oldest).flatten();
    Ok(ReportData {
        partial_from,
        workspace: ws.clone(),
        lang,
        generated_at: now,
        incident,
        room,
        delays,
        periods,
        bucket_minutes,
        buckets,
        top_voices,
        published,
        late_tasks,
        tasks_total,
        timeline,
        notifications_sent,
        acknowledgements,
    })
}

fn describe_action(action: &str, kind: &str, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("{action} ({kind} {id})"),
        None => format!("{action} ({kind})"),
    }
}

fn delay_text(lang: Lang, ms: Option<i64>) -> String {
    ms.map_or_else(|| tr(lang, "not_measured").to_owned(), human_duration)
}

/// The chart as an inline SVG (bars of all mentions, negative ones in red, the incident
/// span shaded).
pub fn svg_chart(data: &ReportData) -> String {
    let (w, h) = (720.0_f64, 180.0_f64);
    let n = data.buckets.len().max(1);
    #[allow(clippy::cast_precision_loss)]
    let slot = w / n as f64;
    #[allow(clippy::cast_precision_loss)]
    let max = data
        .buckets
        .iter()
        .map(|b| b.total)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {}\" width=\"100%\" role=\"img\" aria-label=\"{}\">",
        h + 20.0,
        esc(tr(data.lang, "chart"))
    );
    let x_of = |t: Timestamp| {
        let first = data.buckets.first().map_or(t, |b| b.start);
        #[allow(clippy::cast_precision_loss)]
        let x = t.millis_since(first) as f64 / (data.bucket_minutes as f64 * 60_000.0) * slot;
        x.clamp(0.0, w)
    };
    let (a, b) = (x_of(data.periods[1].from), x_of(data.periods[1].to));
    let _ = write!(
        svg,
        "<rect x=\"{a:.1}\" y=\"0\" width=\"{:.1}\" height=\"{h}\" fill=\"#fff3e0\"/>",
        (b - a).max(1.0)
    );
    for (i, bucket) in data.buckets.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let (x, ht, hn) = (
            slot * i as f64,
            bucket.total as f64 / max * (h - 10.0),
            bucket.negative as f64 / max * (h - 10.0),
        );
        let bw = (slot * 0.8).max(0.5);
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{ht:.1}\" fill=\"#8ca6cc\"><title>{} — {} / {}</title></rect>\
             <rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{hn:.1}\" fill=\"#d64d4d\"/>",
            h - ht,
            fmt_time(bucket.start),
            bucket.total,
            bucket.negative,
            h - hn
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"0\" y1=\"{h}\" x2=\"{w}\" y2=\"{h}\" stroke=\"#555\"/>\
         <text x=\"0\" y=\"{}\" font-size=\"10\">{}</text><text x=\"{w}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text></svg>",
        h + 14.0,
        esc(&data
            .buckets
            .first()
            .map(|b| fmt_time(b.start))
            .unwrap_or_default()),
        h + 14.0,
        esc(&data
            .buckets
            .last()
            .map(|b| fmt_time(b.start))
            .unwrap_or_default()),
    );
    svg
}

/// The report as a standalone HTML page.
pub fn render_html(data: &ReportData) -> String {
    let l = data.lang;
    let i = &data.incident;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} — {}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}\
         .delay{{font-size:1.4rem;font-weight:bold}}.lessons{{border:1px dashed #999;padding:1rem;min-height:4rem}}</style></head><body>",
        l.as_str(),
        esc(tr(l, "title")),
        esc(i.watch.as_str())
    );
    let _ = write!(
        h,
        "<h1>{} — {} #{}</h1><p>{} {}</p>",
        esc(tr(l, "title")),
        esc(i.watch.as_str()),
        i.id,
        esc(tr(l, "generated")),
        esc(&fmt_time(data.generated_at))
    );
    let _ = write!(h, "<h2>{}</h2><table>", esc(tr(l, "summary")));
    let closed = i
        .closed_at
        .map_or_else(|| tr(l, "ongoing").to_owned(), fmt_time);
    let scenario = data.room.as_ref().map_or_else(
        || tr(l, "none").to_owned(),
        |r| format!("{} ({})", r.scenario.name.get(l), r.scenario.id),
    );
    for (k, v) in [
        (tr(l, "watch"), i.watch.as_str().to_owned()),
        (tr(l, "opened"), fmt_time(i.opened_at)),
        (tr(l, "closed"), closed),
        (tr(l, "peak"), i.peak_level.to_string()),
        (tr(l, "scenario"), scenario),
    ] {
        let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
    }
    h.push_str("</table>");
    let d = &data.delays;
    let _ = write!(h, "<h2>{}</h2><table>", esc(tr(l, "delays")));
    for (k, v, id) in [
        (tr(l, "detect"), d.detect_ms, "detect"),
        (tr(l, "ack"), d.acknowledge_ms, "acknowledge"),
        (tr(l, "answer"), d.first_answer_ms, "first-answer"),
    ] {
        let _ = write!(
            h,
            "<tr><th>{}</th><td class=\"delay\" id=\"delay-{id}\">{}</td></tr>",
            esc(k),
            esc(&delay_text(l, v))
        );
    }
    for (k, v, id) in mobilizing_rows(data) {
        let _ = write!(
            h,
            "<tr><th>{}</th><td id=\"{id}\">{}</td></tr>",
            esc(k),
            esc(&v)
        );
    }
    h.push_str("</table>");
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th></th><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(tr(l, "volumes")),
        esc(tr(l, "mentions")),
        esc(tr(l, "negative")),
        esc(tr(l, "mean"))
    );
    if let Some(t) = data.partial_from {
        let note = partial_note(l, MAX_MENTIONS, &fmt_time(t));
        let _ = write!(
            h,
            "<p class=\"partial\"><strong>{}</strong></p>",
            esc(&note)
        );
    }
    for (name, p) in [tr(l, "before"), tr(l, "during"), tr(l, "after")]
        .into_iter()
        .zip(&data.periods)
    {
        let _ = write!(
            h,
            "<tr><th>{}</th><td>{}</td><td>{}</td><td>{:.2}</td></tr>",
            esc(name),
            p.mentions,
            p.negative,
            p.mean_sentiment
        );
    }
    let _ = write!(
        h,
        "</table><figure>{}<figcaption>{}</figcaption></figure>",
        svg_chart(data),
        esc(tr(l, "chart"))
    );
    let _ = write!(h, "<h2>{}</h2><ol>", esc(tr(l, "voices")));
    for v in &data.top_voices {
        let _ = write!(
            h,
            "<li>@{} — {} {}, {} {}, {} {}</li>",
            esc(&v.handle),
            v.followers,
            esc(tr(l, "followers")),
            v.mentions,
            esc(tr(l, "mentions")).to_lowercase(),
            v.reach,
            esc(tr(l, "reach"))
        );
    }
    let _ = write!(h, "</ol><h2>{}</h2>", esc(tr(l, "published")));
    if data.published.is_empty() {
        let _ = write!(h, "<p>{}</p>", esc(tr(l, "nothing_published")));
    } else {
        h.push_str("<ul>");
        for d in &data.published {
            let p = d.published.as_ref();
            let link = p.and_then(|p| p.url.clone()).unwrap_or_default();
            let _ = write!(
                h,
                "<li><strong>{}</strong> {} — {} ({})<blockquote>{}</blockquote>{}</li>",
                esc(&p.map(|p| fmt_time(p.at)).unwrap_or_default()),
                esc(d.channel.as_str()),
                esc(&p.map(|p| p.by.clone()).unwrap_or_default()),
                esc(&p.map(|p| p.target.clone()).unwrap_or_default()),
                esc(&d.text),
                if link.is_empty() {
                    String::new()
                } else {
                    format!("<a href=\"{0}\">{0}</a>", esc(&link))
                }
            );
        }
        h.push_str("</ul>");
    }
    let _ = write!(h, "<h2>{}</h2>", esc(tr(l, "late")));
    if data.late_tasks.is_empty() {
        let _ = write!(h, "<p>{}</p>", esc(tr(l, "no_late")));
    } else {
        h.push_str("<ul>");
        for t in &data.late_tasks {
            let _ = write!(h, "<li>{}</li>", esc(&task_line(l, t)));
        }
        h.push_str("</ul>");
    }
    let _ = write!(h, "<h2>{}</h2><table>", esc(tr(l, "timeline")));
    for line in &data.timeline {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&fmt_time(line.at)),
            esc(&line.who),
            esc(&line.text)
        );
    }
    h.push_str("</table>");
    if let Some(note) = data.room.as_ref().and_then(|r| r.closing_note.as_deref()) {
        let _ = write!(h, "<h2>{}</h2><p>{}</p>", esc(tr(l, "closing")), esc(note));
    }
    let lessons = data
        .room
        .as_ref()
        .and_then(|r| r.lessons.clone())
        .unwrap_or_else(|| tr(l, "lessons_todo").to_owned());
    let _ = write!(
        h,
        "<h2>{}</h2><div class=\"lessons\">{}</div></body></html>",
        esc(tr(l, "lessons")),
        esc(&lessons)
    );
    h
}

/// Who acknowledged first, the notifications sent and the on-call acknowledgements:
/// `(label, value, html id)`.
fn mobilizing_rows(data: &ReportData) -> Vec<(&'static str, String, &'static str)> {
    let l = data.lang;
    let mut rows = Vec::new();
    if let Some(by) = &data.delays.acknowledged_by {
        rows.push((tr(l, "ack_by"), by.clone(), "acknowledged-by"));
    }
    rows.push((
        tr(l, "notifications"),
        data.notifications_sent.to_string(),
        "notifications-sent",
    ));
    let acks = if data.acknowledgements.is_empty() {
        tr(l, "none").to_owned()
    } else {
        data.acknowledgements
            .iter()
            .map(|a| format!("{} {} ({})", fmt_time(a.at), a.by, a.via))
            .collect::<Vec<_>>()
            .join(", ")
    };
    rows.push((tr(l, "acks"), acks, "acknowledgements"));
    rows
}

fn task_line(l: Lang, t: &Task) -> String {
    let done = match (t.status, t.done_at) {
        (TaskStatus::Done, Some(at)) => format!("{} {}", tr(l, "done"), fmt_time(at)),
        _ => tr(l, "not_done").to_owned(),
    };
    format!(
        "{} [{}] — {} {} — {}",
        t.title.get(l),
        t.role,
        tr(l, "due"),
        fmt_time(t.due_at),
        done
    )
}

/// The report as a PDF document.
pub fn render_pdf(data: &ReportData) -> Vec<u8> {
    let l = data.lang;
    let i = &data.incident;
    let mut p = Layout::new();
    p.title(&format!("{} — {} #{}", tr(l, "title"), i.watch, i.id));
    p.paragraph(&format!(
        "{} {}",
        tr(l, "generated"),
        fmt_time(data.generated_at)
    ));
    p.heading(tr(l, "summary"));
    p.field(tr(l, "watch"), i.watch.as_str());
    p.field(tr(l, "opened"), &fmt_time(i.opened_at));
    p.field(
        tr(l, "closed"),
        &i.closed_at
            .map_or_else(|| tr(l, "ongoing").to_owned(), fmt_time),
    );
    p.field(tr(l, "peak"), &i.peak_level.to_string());
    p.field(
        tr(l, "scenario"),
        &data.room.as_ref().map_or_else(
            || tr(l, "none").to_owned(),
            |r| format!("{} ({})", r.scenario.name.get(l), r.scenario.id),
        ),
    );
    p.heading(tr(l, "delays"));
    p.field(tr(l, "detect"), &delay_text(l, data.delays.detect_ms));
    p.field(tr(l, "ack"), &delay_text(l, data.delays.acknowledge_ms));
    p.field(tr(l, "answer"), &delay_text(l, data.delays.first_answer_ms));
    for (k, v, _) in mobilizing_rows(data) {
        p.field(k, &v);
    }
    p.heading(tr(l, "volumes"));
    if let Some(t) = data.partial_from {
        p.paragraph(&partial_note(l, MAX_MENTIONS, &fmt_time(t)));
    }
    for (name, s) in [tr(l, "before"), tr(l, "during"), tr(l, "after")]
        .into_iter()
        .zip(&data.periods)
    {
        p.field(
            name,
            &format!(
                "{} {} · {} {} · {} {:.2}",
                s.mentions,
                tr(l, "mentions").to_lowercase(),
                s.negative,
                tr(l, "negative").to_lowercase(),
                tr(l, "mean").to_lowercase(),
                s.mean_sentiment
            ),
        );
    }
    #[allow(clippy::cast_precision_loss)]
    let bars: Vec<(String, f64, f64)> = data
        .buckets
        .iter()
        .map(|b| (fmt_time(b.start), b.total as f64, b.negative as f64))
        .collect();
    p.bars(tr(l, "chart"), &bars);
    p.heading(tr(l, "voices"));
    for v in &data.top_voices {
        p.bullet(&format!(
            "@{} — {} {}, {} {}, {} {}",
            v.handle,
            v.followers,
            tr(l, "followers"),
            v.mentions,
            tr(l, "mentions").to_lowercase(),
            v.reach,
            tr(l, "reach")
        ));
    }
    p.heading(tr(l, "published"));
    if data.published.is_empty() {
        p.paragraph(tr(l, "nothing_published"));
    }
    for d in &data.published {
        let pub_ = d.published.as_ref();
        p.bullet(&format!(
            "{} {} — {} ({}) {}",
            pub_.map(|x| fmt_time(x.at)).unwrap_or_default(),
            d.channel.as_str(),
            pub_.map(|x| x.by.clone()).unwrap_or_default(),
            pub_.map(|x| x.target.clone()).unwrap_or_default(),
            pub_.and_then(|x| x.url.clone()).unwrap_or_default()
        ));
        p.paragraph(&d.text);
    }
    p.heading(tr(l, "late"));
    if data.late_tasks.is_empty() {
        p.paragraph(tr(l, "no_late"));
    }
    for t in &data.late_tasks {
        p.bullet(&task_line(l, t));
    }
    p.heading(tr(l, "timeline"));
    for line in &data.timeline {
        p.bullet(&format!("{} {} {}", fmt_time(line.at), line.who, line.text));
    }
    if let Some(note) = data.room.as_ref().and_then(|r| r.closing_note.as_deref()) {
        p.heading(tr(l, "closing"));
        p.paragraph(note);
    }
    p.heading(tr(l, "lessons"));
    p.paragraph(
        &data
            .room
            .as_ref()
            .and_then(|r| r.lessons.clone())
            .unwrap_or_else(|| tr(l, "lessons_todo").to_owned()),
    );
    p.finish()
}

/// What [`for_each_mention`] visited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Visited {
    /// Mentions visited.
    pub count: usize,
    /// Every selected mention was visited (the cap was not reached).
    pub complete: bool,
    /// Publication time of the oldest mention visited.
    pub oldest: Option<Timestamp>,
}

/// Visits the mentions `filter` selects, newest first, a page of 1,000 at a time, until none
/// is left or `max` were visited (the last page may pass it). The report and the digests
/// read the store this way; when the cap is reached, their figures cover only the mentions
/// published from [`Visited::oldest`] on, and they say so.
pub(crate) async fn for_each_mention(
    store: &dyn Store,
    mut filter: MentionFilter,
    max: usize,
    mut visit: impl FnMut(&vigie_model::EnrichedMention),
) -> RespondResult<Visited> {
    filter.limit = u32::try_from(max.clamp(1, 1000)).unwrap_or(1000);
    let mut seen = Visited {
        count: 0,
        complete: true,
        oldest: None,
    };
    loop {
        let page = store.list_mentions(&filter).await?;
        for m in &page.items {
            visit(&m.mention);
            let t = m.mention.mention.published_at;
            seen.oldest = Some(seen.oldest.map_or(t, |o| o.min(t)));
        }
        seen.count += page.items.len();
        match page.next_cursor {
            Some(c) if seen.count < max => filter.cursor = Some(c),
            Some(_) => {
                seen.complete = false;
                return Ok(seen);
            }
            None => return Ok(seen),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(45_000), "45 s");
        assert_eq!(human_duration(12 * 60_000 + 5_000), "12 min");
        assert_eq!(human_duration(65 * 60_000), "1 h 05 min");
        assert_eq!(
            esc("<a href='x'>&</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"
        );
    }
}
