//! Policy (charte) checks on any outgoing text.
//!
//! [`check`] runs every rule of a [`Policy`] on a text and returns a [`PolicyReport`]:
//! the verdict (`pass`, `warn` or `block`) and one [`Finding`] per problem, with the rule,
//! a message in the asked language and the character span. Rules:
//!
//! | rule | verdict |
//! |---|---|
//! | forbidden term | block |
//! | confidential term (project names, figures) | block |
//! | unresolved template variable `{{x}}` | block |
//! | over the channel's length limit (X 280, Bluesky 300 graphemes, Mastodon 500) | block |
//! | legally sensitive word (rappel, intoxication, plainte…) | warn, and approval required |
//! | blaming the customer / aggressive wording | warn (block when `block_blame`) |
//! | aggressive tone from sentiment (strongly negative reply) | warn |
//! | crisis reply without an empathy marker | warn |
//!
//! Spans are in Unicode scalar values (`chars`), `[start, end)`, so that a UI can highlight
//! them. Terms match whole words, ignoring case and accents; a trailing `*` matches any
//! ending (`intox*`).

use crate::scenario::{Lang, find_term, fold};
use crate::template::placeholders;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use unicode_segmentation::UnicodeSegmentation;
use vigie_enrich::SentimentEngine;

/// Where a text will be published (decides the length limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// X (Twitter): 280 characters.
    X,
    /// Bluesky: 300 graphemes.
    Bluesky,
    /// Mastodon: 500 characters (the default instance limit).
    Mastodon,
    /// Facebook: 63 206 characters.
    Facebook,
    /// A press release or website statement: no limit.
    Press,
    /// An internal message: no limit.
    Internal,
}

impl Channel {
    /// The name used in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::X => "x",
            Self::Bluesky => "bluesky",
            Self::Mastodon => "mastodon",
            Self::Facebook => "facebook",
            Self::Press => "press",
            Self::Internal => "internal",
        }
    }

    /// The length limit and how it is counted, if any.
    pub fn limit(self) -> Option<(usize, LengthUnit)> {
        match self {
            Self::X => Some((280, LengthUnit::Chars)),
            Self::Bluesky => Some((300, LengthUnit::Graphemes)),
            Self::Mastodon => Some((500, LengthUnit::Chars)),
            Self::Facebook => Some((63_206, LengthUnit::Chars)),
            Self::Press | Self::Internal => None,
        }
    }
}

/// How a length limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LengthUnit {
    /// Unicode scalar values.
    Chars,
    /// User-perceived characters (extended grapheme clusters).
    Graphemes,
}

/// The rules of a workspace. [`Policy::default`] is a reasonable French/English starting
/// point; workspaces add their own terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Terms never to publish (block).
    pub forbidden_terms: Vec<String>,
    /// Confidential terms: project code names, unpublished figures (block).
    pub confidential_terms: Vec<String>,
    /// Legally sensitive words: publishing needs an approval (warn).
    pub sensitive_terms: Vec<String>,
    /// Phrases that blame the customer or sound aggressive (warn).
    pub blame_patterns: Vec<String>,
    /// Words that show empathy; a crisis reply should contain one.
    pub empathy_markers: Vec<String>,
    /// Blaming phrases block instead of warning.
    pub block_blame: bool,
    /// Sentiment compound score (−1 to 1) under which a reply's tone is called aggressive.
    pub aggressive_sentiment: f32,
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            forbidden_terms: strings(&[
                "connard*",
                "abruti*",
                "débile*",
                "idiot*",
                "stupid*",
                "moron*",
                "shut up",
                "ta gueule",
                "fuck*",
                "merde*",
            ]),
            confidential_terms: Vec::new(),
            sensitive_terms: strings(&[
                "rappel*",
                "recall*",
                "intoxication*",
                "intoxiqué*",
                "poisoning",
                "poisoned",
                "plainte*",
                "lawsuit*",
                "procès",
                "tribunal",
                "court",
                "avocat*",
                "lawyer*",
                "responsabilité",
                "liability",
                "faute",
                "négligence",
                "negligence",
                "indemnisation",
                "compensation",
                "décès",
                "death*",
                "blessé*",
                "injur*",
                "contamin*",
                "listeria",
                "salmonell*",
                "fuite de données",
                "data breach",
                "cnil",
                "gdpr",
                "rgpd",
            ]),
            blame_patterns: strings(&[
                "vous auriez dû",
                "vous auriez du",
                "c'est de votre faute",
                "votre faute",
                "vous n'avez pas lu",
                "lisez les conditions",
                "comme déjà indiqué",
                "comme nous l'avons déjà dit",
                "mauvaise utilisation",
                "vous avez mal",
                "you should have",
                "your fault",
                "you failed to",
                "read the terms",
                "as we already said",
                "as already stated",
                "user error",
                "misuse",
                "you did not read",
                "you didn't read",
                "calm down",
                "calmez-vous",
            ]),
            empathy_markers: strings(&[
                "désolé*",
                "excuse*",
                "regrett*",
                "comprend*",
                "compren*",
                "pardon",
                "navré*",
                "sincèrement",
                "inquiétude*",
                "sorry",
                "apolog*",
                "regret*",
                "understand*",
                "concern*",
                "sincerely",
                "we hear you",
                "nous entendons",
            ]),
            block_blame: false,
            aggressive_sentiment: -0.6,
        }
    }
}

impl Policy {
    /// Checks that the lists hold usable terms (no empty entries).
    pub fn validate(&self) -> Result<(), String> {
        let lists = [
            ("forbidden_terms", &self.forbidden_terms),
            ("confidential_terms", &self.confidential_terms),
            ("sensitive_terms", &self.sensitive_terms),
            ("blame_patterns", &self.blame_patterns),
            ("empathy_markers", &self.empathy_markers),
        ];
        for (name, list) in lists {
            if let Some(i) = list
                .iter()
                .position(|t| t.trim().trim_end_matches('*').is_empty())
            {
                return Err(format!("{name}[{i}] is empty"));
            }
        }
        if !(-1.0..=1.0).contains(&self.aggressive_sentiment) {
            return Err("aggressive_sentiment must be from -1 to 1".into());
        }
        Ok(())
    }
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing to say.
    Pass,
    /// Publishable after a human looked at the findings.
    Warn,
    /// Must be changed before publication.
    Block,
}

/// Which rule found a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A forbidden term.
    ForbiddenTerm,
    /// A confidential term.
    ConfidentialTerm,
    /// A legally sensitive word.
    SensitiveTerm,
    /// Blaming the customer or aggressive wording.
    BlamingTone,
    /// Strongly negative sentiment.
    AggressiveTone,
    /// No empathy in a crisis reply.
    MissingEmpathy,
    /// Over the channel's limit.
    TooLong,
    /// A `{{variable}}` left in the text.
    UnresolvedVariable,
}

/// A `[start, end)` range of chars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// First char.
    pub start: usize,
    /// One past the last char.
    pub end: usize,
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// Its effect.
    pub verdict: Verdict,
    /// Why, in the asked language.
    pub message: String,
    /// Where (none for whole-text findings such as missing empathy).
    pub span: Option<Span>,
    /// The text under the span.
    pub excerpt: Option<String>,
}

/// The result of [`check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyReport {
    /// The worst verdict of the findings (`pass` without findings).
    pub verdict: Verdict,
    /// A human must approve before publication (sensitive words, or any warning).
    pub requires_approval: bool,
    /// Length as the channel counts it.
    pub length: usize,
    /// The channel's limit, if any.
    pub limit: Option<usize>,
    /// The problems, in text order (whole-text findings last).
    pub findings: Vec<Finding>,
}

/// What is checked besides the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckContext {
    /// Where it will be published.
    pub channel: Channel,
    /// Language of the messages (and a hint for sentiment).
    pub lang: Lang,
    /// A reply in a crisis (empathy is expected).
    pub crisis: bool,
}

fn sentiment_engine() -> &'static dyn SentimentEngine {
    static ENGINE: OnceLock<Box<dyn SentimentEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| match vigie_enrich::TrainedSentiment::embedded() {
            Ok(model) => Box::new(model),
            Err(_) => Box::new(vigie_enrich::LexiconSentiment::default()),
        })
        .as_ref()
}

fn message(lang: Lang, rule: Rule, detail: &str) -> String {
    let fr = lang == Lang::Fr;
    match rule {
        Rule::ForbiddenTerm if fr => format!("terme interdit par la charte : « {detail} »"),
        Rule::ForbiddenTerm => format!("term forbidden by the policy: \"{detail}\""),
        Rule::ConfidentialTerm if fr => format!("information confidentielle : « {detail} »"),
        Rule::ConfidentialTerm => format!("confidential information: \"{detail}\""),
        Rule::SensitiveTerm if fr => {
            format!("mot juridiquement sensible : « {detail} » ; une validation est nécessaire")
        }
        Rule::SensitiveTerm => {
            format!("legally sensitive word: \"{detail}\"; an approval is required")
        }
        Rule::BlamingTone if fr => {
            format!("ton qui accuse le client ou agressif : « {detail} »")
        }
        Rule::BlamingTone => {
            format!("wording that blames the customer or sounds aggressive: \"{detail}\"")
        }
        Rule::AggressiveTone if fr => format!("ton très négatif (sentiment {detail})"),
        Rule::AggressiveTone => format!("very negative tone (sentiment {detail})"),
        Rule::MissingEmpathy if fr => {
            "réponse de crise sans marque d'empathie (désolés, nous comprenons…)".to_owned()
        }
        Rule::MissingEmpathy => {
            "crisis reply without a word of empathy (sorry, we understand…)".to_owned()
        }
        Rule::TooLong if fr => format!("trop long pour ce canal : {detail}"),
        Rule::TooLong => format!("too long for this channel: {detail}"),
        Rule::UnresolvedVariable if fr => format!("variable non remplie : {detail}"),
        Rule::UnresolvedVariable => format!("unfilled template variable: {detail}"),
    }
}

/// The length of `text` as `channel` counts it.
pub fn channel_length(text: &str, channel: Channel) -> usize {
    match channel.limit() {
        Some((_, LengthUnit::Graphemes)) => text.graphemes(true).count(),
        _ => text.chars().count(),
    }
}

/// Runs every rule of `policy` on `text`.
pub fn check(policy: &Policy, text: &str, cx: CheckContext) -> PolicyReport {
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = fold(text).chars().collect();
    let excerpt = |s: usize, e: usize| chars[s..e].iter().collect::<String>();
    let mut findings = Vec::new();
    let terms = |list: &[String], rule: Rule, verdict: Verdict, findings: &mut Vec<Finding>| {
        for term in list {
            for (s, e) in find_term(&folded, term) {
                let ex = excerpt(s, e);
                findings.push(Finding {
                    rule,
                    verdict,
                    message: message(cx.lang, rule, &ex),
                    span: Some(Span { start: s, end: e }),
                    excerpt: Some(ex),
                });
            }
        }
    };
    terms(
        &policy.forbidden_terms,
        Rule::ForbiddenTerm,
        Verdict::Block,
        &mut findings,
    );
    terms(
        &policy.confidential_terms,
        Rule::ConfidentialTerm,
        Verdict::Block,
        &mut findings,
    );
    terms(
        &policy.sensitive_terms,
        Rule::SensitiveTerm,
        Verdict::Warn,
        &mut findings,
    );
    let blame = if policy.block_blame {
        Verdict::Block
    } else {
        Verdict::Warn
    };
    terms(
        &policy.blame_patterns,
        Rule::BlamingTone,
        blame,
        &mut findings,
    );

    for p in placeholders(text) {
        let s = text[..p.start].chars().count();
        let e = s + text[p.start..p.end].chars().count();
        findings.push(Finding {
            rule: Rule::UnresolvedVariable,
            verdict: Verdict::Block,
            message: message(
                cx.lang,
                Rule::UnresolvedVariable,
                &format!("{{{{{}}}}}", p.name),
            ),
            span: Some(Span { start: s, end: e }),
            excerpt: Some(excerpt(s, e)),
        });
    }

    let length = channel_length(text, cx.channel);
    let limit = cx.channel.limit().map(|(n, _)| n);
    if let Some((max, unit)) = cx.channel.limit()
        && length > max
    {
        // The span covers what goes past the limit.
        let start = match unit {
            LengthUnit::Chars => max,
            LengthUnit::Graphemes => text
                .grapheme_indices(true)
                .nth(max)
                .map_or(chars.len(), |(b, _)| text[..b].chars().count()),
        };
        let unit_name = match (unit, cx.lang) {
            (LengthUnit::Chars, Lang::Fr) => "caractères",
            (LengthUnit::Chars, Lang::En) => "characters",
            (LengthUnit::Graphemes, Lang::Fr) => "graphèmes",
            (LengthUnit::Graphemes, Lang::En) => "graphemes",
        };
        findings.push(Finding {
            rule: Rule::TooLong,
            verdict: Verdict::Block,
            message: message(
                cx.lang,
                Rule::TooLong,
                &format!("{length} / {max} {unit_name} ({})", cx.channel.as_str()),
            ),
            span: Some(Span {
                start,
                end: chars.len(),
            }),
            excerpt: None,
        });
    }
    findings.sort_by_key(|f| f.span.map_or(usize::MAX, |s| s.start));

    // A very negative text that shows no empathy reads as aggressive; an empathic reply
    // naturally uses negative words ("worry", "sorry") and is not flagged.
    let empathic = policy
        .empathy_markers
        .iter()
        .any(|m| !find_term(&folded, m).is_empty());
    let sentiment = sentiment_engine().analyze(text, cx.lang.as_str());
    if !empathic && sentiment.score <= policy.aggressive_sentiment {
        findings.push(Finding {
            rule: Rule::AggressiveTone,
            verdict: Verdict::Warn,
            message: message(
                cx.lang,
                Rule::AggressiveTone,
                &format!("{:.2}", sentiment.score),
            ),
            span: None,
            excerpt: None,
        });
    }
    if cx.crisis && cx.channel != Channel::Internal && !empathic {
        findings.push(Finding {
            rule: Rule::MissingEmpathy,
            verdict: Verdict::Warn,
            message: message(cx.lang, Rule::MissingEmpathy, ""),
            span: None,
            excerpt: None,
        });
    }
    let verdict = findings
        .iter()
        .map(|f| f.verdict)
        .max()
        .unwrap_or(Verdict::Pass);
    PolicyReport {
        verdict,
        requires_approval: verdict != Verdict::Pass,
        length,
        limit,
        findings,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn cx(channel: Channel, lang: Lang, crisis: bool) -> CheckContext {
        CheckContext {
            channel,
            lang,
            crisis,
        }
    }

    fn spans(r: &PolicyReport, rule: Rule) -> Vec<(usize, usize)> {
        r.findings
            .iter()
            .filter(|f| f.rule == rule)
            .filter_map(|f| f.span.map(|s| (s.start, s.end)))
            .collect()
    }

    #[test]
    fn french_sensitive_words_need_approval_with_spans() {
        let text = "Nous sommes désolés. Le rappel des yaourts concerne les lots du 3 mars.";
        let r = check(&Policy::default(), text, cx(Channel::X, Lang::Fr, true));
        assert_eq!(r.verdict, Verdict::Warn, "{r:?}");
        assert!(r.requires_approval);
        let s = spans(&r, Rule::SensitiveTerm);
        assert_eq!(s.len(), 1);
        let (a, b) = s[0];
        assert_eq!(
            text.chars().skip(a).take(b - a).collect::<String>(),
            "rappel"
        );
        assert!(r.findings[0].message.contains("validation"));
        assert!(spans(&r, Rule::MissingEmpathy).is_empty());
    }

    #[test]
    fn english_blame_and_missing_empathy() {
        let text = "You should have read the manual. This is user error.";
        let r = check(
            &Policy::default(),
            text,
            cx(Channel::Mastodon, Lang::En, true),
        );
        assert_eq!(r.verdict, Verdict::Warn);
        assert_eq!(spans(&r, Rule::BlamingTone), vec![(0, 15), (41, 51)]);
        assert!(r.findings.iter().any(|f| f.rule == Rule::MissingEmpathy));
        let strict = Policy {
            block_blame: true,
            ..Policy::default()
        };
        assert_eq!(
            check(&strict, text, cx(Channel::Mastodon, Lang::En, true)).verdict,
            Verdict::Block
        );
    }

    #[test]
    fn forbidden_confidential_and_variables_block() {
        let policy = Policy {
            confidential_terms: vec!["projet Héron".into(), "4,2 M€".into()],
            ..Policy::default()
        };
        let text = "Le projet heron avance. Infos : {{contact_url}}";
        let r = check(&policy, text, cx(Channel::Bluesky, Lang::Fr, false));
        assert_eq!(r.verdict, Verdict::Block);
        assert_eq!(spans(&r, Rule::ConfidentialTerm), vec![(3, 15)]);
        assert_eq!(spans(&r, Rule::UnresolvedVariable), vec![(32, 47)]);
        let r = check(
            &policy,
            "Quel idiot ce client",
            cx(Channel::X, Lang::Fr, false),
        );
        assert_eq!(spans(&r, Rule::ForbiddenTerm), vec![(5, 10)]);
        assert_eq!(r.verdict, Verdict::Block);
    }

    #[test]
    fn channel_limits_count_chars_or_graphemes() {
        let family = "👨\u{200d}👩\u{200d}👧";
        let text = format!("Sorry. {}", family.repeat(295));
        // 7 + 295 graphemes = 302 > 300 on Bluesky, but many more chars.
        let r = check(
            &Policy::default(),
            &text,
            cx(Channel::Bluesky, Lang::En, true),
        );
        assert_eq!(r.length, 302);
        assert_eq!(r.limit, Some(300));
        assert!(r.findings.iter().any(|f| f.rule == Rule::TooLong));
        let ok = format!("Sorry. {}", "a".repeat(273));
        let r = check(&Policy::default(), &ok, cx(Channel::X, Lang::En, true));
        assert_eq!(r.length, 280);
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        let long = format!("Sorry. {}", "a".repeat(274));
        let r = check(&Policy::default(), &long, cx(Channel::X, Lang::En, true));
        assert_eq!(spans(&r, Rule::TooLong), vec![(280, 281)]);
        assert!(r.findings.iter().any(|f| f.message.contains("281 / 280")));
    }

    #[test]
    fn a_clean_empathic_reply_passes() {
        let r = check(
            &Policy::default(),
            "Nous comprenons votre inquiétude et revenons vers vous en message privé.",
            cx(Channel::X, Lang::Fr, true),
        );
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        assert!(!r.requires_approval);
    }

    #[test]
    fn a_hostile_reply_without_empathy_is_flagged_aggressive() {
        let r = check(
            &Policy::default(),
            "This is pathetic and ridiculous. Your complaint is a joke, terrible nonsense.",
            cx(Channel::X, Lang::En, false),
        );
        assert!(
            r.findings.iter().any(|f| f.rule == Rule::AggressiveTone),
            "{r:?}"
        );
        assert_eq!(r.verdict, Verdict::Warn);
    }

    #[test]
    fn empty_policy_terms_are_refused() {
        let mut p = Policy::default();
        p.forbidden_terms.push("*".into());
        assert!(p.validate().unwrap_err().contains("forbidden_terms"));
        assert!(Policy::default().validate().is_ok());
    }
}
