//! What a notification says, in French or English, as text and HTML.

use serde::{Deserialize, Serialize};
use vigie_config::MessageLanguage;
use vigie_model::{CrisisLevel, Explanation, Timestamp};

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// A watch reached a level (routing).
    Alert,
    /// Nobody acknowledged: an escalation step (1-based) reaches its targets.
    Escalation {
        /// Step number, from 1.
        step: u32,
        /// Round number, from 1.
        round: u32,
    },
    /// The first public answer deadline is about to pass.
    SlaWarning,
    /// The incident was resolved.
    Resolved,
    /// A crisis room opened on the incident and the recipient holds one of its roles (the
    /// summary says which scenario, which roles and what to do; no acknowledgement).
    RoomOpened,
}

/// One notification, independent of the channel that carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Why it is sent.
    pub kind: MessageKind,
    /// Mobilization incident id.
    pub incident_id: i64,
    /// Workspace slug.
    pub workspace: String,
    /// Watch slug.
    pub watch: String,
    /// Current level.
    pub level: CrisisLevel,
    /// When it happened.
    pub at: Timestamp,
    /// The level's explanation (figures, signals, sample posts).
    pub explanation: Explanation,
    /// Deadline of the first public answer, when one runs.
    pub sla_deadline: Option<Timestamp>,
    /// Signed acknowledgement link (`None` when no acknowledgement is expected).
    pub ack_url: Option<String>,
    /// Link to the incident's timeline.
    pub incident_url: String,
    /// Language.
    pub language: MessageLanguage,
    /// Name of the person it is addressed to, if any.
    pub recipient_name: Option<String>,
}

fn level_name(level: CrisisLevel, lang: MessageLanguage) -> &'static str {
    match (lang, level) {
        (MessageLanguage::Fr, CrisisLevel::Calm) => "calme",
        (MessageLanguage::Fr, CrisisLevel::Vigilance) => "vigilance",
        (MessageLanguage::Fr, CrisisLevel::Alert) => "alerte",
        (MessageLanguage::Fr, CrisisLevel::Crisis) => "crise",
        (MessageLanguage::En, l) => l.as_str(),
    }
}

impl Message {
    /// `true` for French.
    fn fr(&self) -> bool {
        self.language == MessageLanguage::Fr
    }

    /// One line: `[Vigie] CRISIS (3) — acme/brand`.
    pub fn title(&self) -> String {
        let level = level_name(self.level, self.language).to_uppercase();
        let n = self.level.as_u8();
        let prefix = match (self.kind, self.fr()) {
            (MessageKind::Alert, _) => String::new(),
            (MessageKind::Escalation { step, .. }, false) => format!("Escalation step {step}: "),
            (MessageKind::Escalation { step, .. }, true) => format!("Escalade étape {step} : "),
            (MessageKind::SlaWarning, false) => "Answer deadline close: ".into(),
            (MessageKind::SlaWarning, true) => "Échéance de réponse proche : ".into(),
            (MessageKind::Resolved, false) => "Resolved: ".into(),
            (MessageKind::Resolved, true) => "Résolu : ".into(),
            (MessageKind::RoomOpened, false) => "Crisis room opened: ".into(),
            (MessageKind::RoomOpened, true) => "Cellule de crise ouverte : ".into(),
        };
        format!(
            "[Vigie] {prefix}{level} ({n}) — {}/{}",
            self.workspace, self.watch
        )
    }

    /// The figures, one per line, in the message's language (none for a crisis-room notice,
    /// which carries its text in the summary).
    pub fn figures(&self) -> Vec<String> {
        let e = &self.explanation;
        let mut out = Vec::new();
        if self.kind == MessageKind::RoomOpened {
            return out;
        }
        if self.fr() {
            out.push(format!(
                "{} mentions en {} min (attendu ≈ {:.0}), dont {} négatives (attendu ≈ {:.0})",
                e.mentions, e.window_minutes, e.expected_mentions, e.negative, e.expected_negative
            ));
            out.push(format!(
                "{} auteurs distincts, {:.0} % hors de vos comptes",
                e.distinct_authors,
                e.others_share * 100.0
            ));
        } else {
            out.push(format!(
                "{} mentions in {} min (expected ≈ {:.0}), {} negative (expected ≈ {:.0})",
                e.mentions, e.window_minutes, e.expected_mentions, e.negative, e.expected_negative
            ));
            out.push(format!(
                "{} distinct authors, {:.0}% not from your own accounts",
                e.distinct_authors,
                e.others_share * 100.0
            ));
        }
        if !e.top_hashtags.is_empty() {
            let tags: Vec<String> = e
                .top_hashtags
                .iter()
                .take(5)
                .map(|t| t.term.clone())
                .collect();
            out.push(format!(
                "{} {}",
                if self.fr() { "Hashtags :" } else { "Hashtags:" },
                tags.join(" ")
            ));
        }
        for s in e.signals.iter().take(5) {
            out.push(format!("signal {}: {}", s.kind.as_str(), s.detail));
        }
        if let Some(d) = self.sla_deadline {
            out.push(if self.fr() {
                format!("Première réponse publique attendue avant {d}")
            } else {
                format!("First public answer due by {d}")
            });
        }
        out
    }

    /// Sample posts as `@author: text` lines (at most 3).
    pub fn samples(&self) -> Vec<String> {
        self.explanation
            .samples
            .iter()
            .take(3)
            .map(|s| format!("@{} ({}): {}", s.author, s.source, s.text))
            .collect()
    }

    /// Label of the acknowledgement button.
    pub fn ack_label(&self) -> &'static str {
        if self.fr() {
            "J'ai pris en charge"
        } else {
            "Acknowledge"
        }
    }

    /// Label of the timeline link.
    pub fn open_label(&self) -> &'static str {
        if self.kind == MessageKind::RoomOpened {
            return if self.fr() {
                "Ouvrir la cellule de crise"
            } else {
                "Open the crisis room"
            };
        }
        if self.fr() {
            "Voir l'incident"
        } else {
            "Open the incident"
        }
    }

    /// The plain-text body.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if let Some(name) = &self.recipient_name {
            out.push_str(&if self.fr() {
                format!("Bonjour {name},\n\n")
            } else {
                format!("Hello {name},\n\n")
            });
        }
        out.push_str(&self.title());
        out.push_str("\n\n");
        if !self.explanation.summary.is_empty() {
            out.push_str(&self.explanation.summary);
            out.push_str("\n\n");
        }
        for f in self.figures() {
            out.push_str("- ");
            out.push_str(&f);
            out.push('\n');
        }
        let samples = self.samples();
        if !samples.is_empty() {
            out.push_str(if self.fr() {
                "\nExemples :\n"
            } else {
                "\nExamples:\n"
            });
            for s in samples {
                out.push_str("> ");
                out.push_str(&s);
                out.push('\n');
            }
        }
        out.push('\n');
        if let Some(url) = &self.ack_url {
            out.push_str(&format!("{}: {url}\n", self.ack_label()));
        }
        out.push_str(&format!("{}: {}\n", self.open_label(), self.incident_url));
        out
    }

    /// The HTML body (e-mail), every interpolated value escaped.
    pub fn html(&self) -> String {
        let mut out = String::from("<!doctype html><html><body style=\"font-family:sans-serif\">");
        if let Some(name) = &self.recipient_name {
            out.push_str(&format!(
                "<p>{} {},</p>",
                if self.fr() { "Bonjour" } else { "Hello" },
                escape(name)
            ));
        }
        out.push_str(&format!("<h2>{}</h2>", escape(&self.title())));
        if !self.explanation.summary.is_empty() {
            out.push_str(&format!("<p>{}</p>", escape(&self.explanation.summary)));
        }
        out.push_str("<ul>");
        for f in self.figures() {
            out.push_str(&format!("<li>{}</li>", escape(&f)));
        }
        out.push_str("</ul>");
        for s in self.samples() {
            out.push_str(&format!("<blockquote>{}</blockquote>", escape(&s)));
        }
        if let Some(url) = &self.ack_url {
            out.push_str(&format!(
                "<p><a href=\"{}\" style=\"background:#c0392b;color:#fff;padding:8px 14px;text-decoration:none\">{}</a></p>",
                escape(url),
                self.ack_label()
            ));
        }
        out.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p></body></html>",
            escape(&self.incident_url),
            self.open_label()
        ));
        out
    }
}

/// Escapes `& < > " '` for HTML text and attributes.
pub fn escape(s: &str) -> String {
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

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use vigie_model::SamplePost;

    pub(crate) fn sample(lang: MessageLanguage) -> Message {
        Message {
            kind: MessageKind::Alert,
            incident_id: 4,
            workspace: "acme".into(),
            watch: "brand".into(),
            level: CrisisLevel::Crisis,
            at: Timestamp::from_millis(0),
            explanation: Explanation {
                summary: "Others speak for you <fast>".into(),
                window_minutes: 60,
                mentions: 420,
                expected_mentions: 12.0,
                negative: 300,
                expected_negative: 3.0,
                distinct_authors: 250,
                others_share: 0.98,
                samples: vec![SamplePost {
                    source: "mastodon".into(),
                    external_id: "1".into(),
                    author: "marie".into(),
                    published_at: Timestamp::from_millis(0),
                    sentiment: vigie_model::SentimentLabel::Negative,
                    reach: 1000,
                    text: "Colis jamais arrivé".into(),
                }],
                ..Explanation::default()
            },
            sla_deadline: Some(Timestamp::from_millis(1_800_000)),
            ack_url: Some("http://vigie.test/ack/abc".into()),
            incident_url: "http://vigie.test/incidents/4".into(),
            language: lang,
            recipient_name: Some("Alice".into()),
        }
    }

    #[test]
    fn french_and_english_bodies_say_what_and_why() {
        let en = sample(MessageLanguage::En);
        assert_eq!(en.title(), "[Vigie] CRISIS (3) — acme/brand");
        let text = en.text();
        assert!(
            text.contains("420 mentions in 60 min (expected ≈ 12)"),
            "{text}"
        );
        assert!(
            text.contains("Acknowledge: http://vigie.test/ack/abc"),
            "{text}"
        );
        assert!(
            text.contains("@marie (mastodon): Colis jamais arrivé"),
            "{text}"
        );
        let fr = sample(MessageLanguage::Fr);
        assert_eq!(fr.title(), "[Vigie] CRISE (3) — acme/brand");
        let text = fr.text();
        assert!(text.starts_with("Bonjour Alice,"), "{text}");
        assert!(text.contains("dont 300 négatives"), "{text}");
        assert!(
            text.contains("J'ai pris en charge: http://vigie.test/ack/abc"),
            "{text}"
        );
        let html = fr.html();
        assert!(html.contains("Others speak for you &lt;fast&gt;"), "{html}");
        assert!(!html.contains("<fast>"));
    }
}
