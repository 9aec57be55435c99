//! The [`Enricher`]: every stage run on one mention, against a workspace's watches.

use crate::entities::{Entities, normalize_handle, reach};
use crate::language::{LanguageDetector, WhatlangDetector, normalize_declared};
use crate::neural::NeuralSentiment;
use crate::sentiment::SentimentEngine;
use std::fmt;
use std::sync::Arc;
use vigie_model::{EnrichedMention, Enrichment, LanguageGuess, Mention, WatchId, WorkspaceId};
use vigie_query::{Document, Query, QuerySet};

/// What enrichment needs to know about a watch.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchSpec {
    /// The watch.
    pub id: WatchId,
    /// Its boolean query, matched against the mention's title and text.
    pub query: Query,
    /// ISO 639-1 codes the watch is limited to; empty means every language.
    pub languages: Vec<String>,
    /// The organization's own accounts (handles, compared case-insensitively without `@`).
    pub own_accounts: Vec<String>,
}

/// A watch with its lists normalized once.
#[derive(Debug)]
struct PreparedWatch {
    id: WatchId,
    languages: Vec<String>,
    own_accounts: Vec<String>,
}

/// Runs language detection, entity extraction, sentiment, reach and watch matching.
///
/// The mention's text is tokenized once; the same tokens serve query matching, entities,
/// language detection and sentiment. The text itself is never changed.
///
/// - **language**: the source's declared language (normalized, `fr-CA` → `fr`) with
///   confidence 1, else the detector's guess on the text (on the title when the text has no
///   words).
/// - **sentiment**: on the text (on the title when the text has no tokens), in the language
///   found (`und` when none).
/// - **matched_watches**: a watch matches when its query matches the title and text AND its
///   language list is empty or holds the language found (an unknown language matches only
///   watches without a language list).
/// - **own_account**: the author's handle is among the own accounts of a *matched* watch.
///
/// ```
/// use vigie_enrich::{Enricher, WatchSpec};
/// use vigie_model::*;
/// let enricher = Enricher::new(vec![WatchSpec {
///     id: WatchId::new("brand").unwrap(),
///     query: vigie_query::parse("brand OR @brand").unwrap(),
///     languages: vec!["fr".into()],
///     own_accounts: vec!["@Brand".into()],
/// }]);
/// let mention: Mention = serde_json::from_str(r#"{"source":"import","external_id":"1",
///     "author":{"handle":"marie"},"published_at":"2026-03-01T10:00:00Z",
///     "text":"Je suis vraiment déçu par @Brand, service client nul 😡 #boycott"}"#).unwrap();
/// let e = Enricher::enrich(&enricher, &WorkspaceId::new("acme").unwrap(), mention).enrichment;
/// assert_eq!(e.language.unwrap().code, "fr");
/// assert_eq!(e.sentiment.label, SentimentLabel::Negative);
/// assert_eq!((e.hashtags, e.handles), (vec!["boycott".to_owned()], vec!["brand".to_owned()]));
/// assert_eq!(e.matched_watches, [WatchId::new("brand").unwrap()]);
/// assert!(!e.own_account);
/// ```
pub struct Enricher {
    watches: Vec<PreparedWatch>,
    /// The watches' queries, compiled together (same order as `watches`).
    queries: QuerySet,
    detector: Box<dyn LanguageDetector>,
    sentiment: Box<dyn SentimentEngine>,
    /// The engine for mentions that match a watch, when installed.
    neural: Option<Arc<NeuralSentiment>>,
}

impl fmt::Debug for Enricher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Enricher")
            .field("watches", &self.watches)
            .finish_non_exhaustive()
    }
}

impl Enricher {
    /// An enricher with the default stages: [`WhatlangDetector`] and the trained sentiment
    /// model ([`crate::sentiment::default_engine`]).
    pub fn new(watches: Vec<WatchSpec>) -> Self {
        Self::with_engines(
            watches,
            Box::new(WhatlangDetector::default()),
            crate::sentiment::default_engine(),
        )
    }

    /// An enricher with the given language detector and sentiment engine.
    pub fn with_engines(
        watches: Vec<WatchSpec>,
        detector: Box<dyn LanguageDetector>,
        sentiment: Box<dyn SentimentEngine>,
    ) -> Self {
        let queries = QuerySet::new(watches.iter().map(|w| w.query.clone()).collect());
        let watches = watches
            .into_iter()
            .map(|w| PreparedWatch {
                id: w.id,
                languages: w
                    .languages
                    .iter()
                    .filter_map(|l| normalize_declared(l))
                    .collect(),
                own_accounts: w.own_accounts.iter().map(|h| normalize_handle(h)).collect(),
            })
            .collect();
        Self {
            watches,
            queries,
            detector,
            sentiment,
            neural: None,
        }
    }

    /// Scores the sentiment of mentions that match a watch with `neural` (its head combined
    /// with the fast engine, see [`crate::neural`]; the fast engine alone keeps the others).
    /// Pass [`crate::neural::shared`]'s engine to share one copy of the weights between
    /// workspaces.
    pub fn with_neural(mut self, neural: Option<Arc<NeuralSentiment>>) -> Self {
        self.neural = neural;
        self
    }

    /// Whether mentions that match a watch get the neural engine.
    pub fn has_neural(&self) -> bool {
        self.neural.is_some()
    }

    /// Enriches a batch of mentions of `workspace`, in order. Same result as [`Enricher::enrich`]
    /// on each, but the mentions that match a watch go through the neural engine together
    /// (one batched forward pass instead of one per mention).
    pub fn enrich_batch(
        &self,
        workspace: &WorkspaceId,
        mentions: Vec<Mention>,
    ) -> Vec<EnrichedMention> {
        let mut out: Vec<EnrichedMention> = mentions
            .into_iter()
            .map(|mention| EnrichedMention {
                workspace: workspace.clone(),
                enrichment: self.enrichment_with(&mention, false),
                mention,
            })
            .collect();
        if let Some(neural) = &self.neural {
            let picked: Vec<usize> = (0..out.len())
                .filter(|&i| !out[i].enrichment.matched_watches.is_empty())
                .collect();
            let texts: Vec<(&str, &str)> = picked
                .iter()
                .map(|&i| {
                    let e = &out[i];
                    let lang = e
                        .enrichment
                        .language
                        .as_ref()
                        .map_or("und", |l| l.code.as_str());
                    (main_text(&e.mention), lang)
                })
                .collect();
            let scores = neural.analyze_batch(&texts);
            for (i, s) in picked.into_iter().zip(scores) {
                out[i].enrichment.sentiment = s;
            }
        }
        out
    }

    /// The watches, in configuration order.
    pub fn watch_ids(&self) -> impl Iterator<Item = &WatchId> {
        self.watches.iter().map(|w| &w.id)
    }

    /// Enriches one mention of `workspace`.
    pub fn enrich(&self, workspace: &WorkspaceId, mention: Mention) -> EnrichedMention {
        let enrichment = self.enrichment(&mention);
        EnrichedMention {
            workspace: workspace.clone(),
            mention,
            enrichment,
        }
    }

    /// What enrichment adds to `mention`.
    pub fn enrichment(&self, mention: &Mention) -> Enrichment {
        self.enrichment_with(mention, true)
    }

    fn enrichment_with(&self, mention: &Mention, use_neural: bool) -> Enrichment {
        let title = mention.title.as_deref();
        let mut doc = Document::from_mention(mention, None);
        let (main_text, main_tokens) = match (doc.text_tokens().is_empty(), title) {
            (true, Some(t)) => (t, doc.title_tokens()),
            _ => (mention.text.as_str(), doc.text_tokens()),
        };

        let language = mention
            .lang
            .as_deref()
            .and_then(normalize_declared)
            .map(|code| LanguageGuess {
                code,
                confidence: 1.0,
            })
            .or_else(|| self.detector.detect_tokens(main_text, main_tokens))
            .or_else(|| title.and_then(|t| self.detector.detect_tokens(t, doc.title_tokens())));
        let lang = language.as_ref().map_or("und", |l| l.code.as_str());

        let mut sentiment = self.sentiment.analyze_tokens(main_text, main_tokens, lang);

        let mut entities = Entities::default();
        if let Some(t) = title {
            entities.add(t, doc.title_tokens());
        }
        entities.add(&mention.text, doc.text_tokens());

        let author = normalize_handle(&mention.author.handle);
        let mut own_account = false;
        doc.set_lang(language.as_ref().map(|l| l.code.as_str()));
        let matched_watches = self
            .queries
            .matches(&doc)
            .into_iter()
            .filter_map(|i| self.watches.get(i))
            .filter(|w| w.languages.is_empty() || w.languages.iter().any(|l| l == lang))
            .map(|w| {
                own_account |= w.own_accounts.contains(&author);
                w.id.clone()
            })
            .collect::<Vec<_>>();
        if use_neural
            && !matched_watches.is_empty()
            && let Some(neural) = &self.neural
        {
            sentiment = neural.analyze(main_text, lang);
        }

        Enrichment {
            language,
            sentiment,
            reach: reach(mention),
            hashtags: entities.hashtags,
            handles: entities.handles,
            links: entities.links,
            matched_watches,
            own_account,
        }
    }
}

/// The text sentiment is scored on: the text, or the title when the text has no words.
fn main_text(mention: &Mention) -> &str {
    match &mention.title {
        Some(t) if vigie_query::text::tokenize(&mention.text).is_empty() => t,
        _ => &mention.text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_model::{Author, Engagement, Sentiment, SentimentLabel, Timestamp};

    fn mention(handle: &str, text: &str) -> Mention {
        Mention {
            source: "test".into(),
            external_id: "1".into(),
            url: None,
            author: Author {
                handle: handle.into(),
                name: None,
                followers: None,
                verified: false,
            },
            published_at: Timestamp::from_millis(0),
            received_at: None,
            title: None,
            text: text.into(),
            lang: None,
            engagement: Engagement::default(),
            reply_to: None,
            quote_of: None,
            repost_of: None,
            country: None,
        }
    }

    fn watch(id: &str, q: &str, langs: &[&str], own: &[&str]) -> WatchSpec {
        WatchSpec {
            id: WatchId::new(id).unwrap(),
            query: vigie_query::parse(q).unwrap(),
            languages: langs.iter().map(|s| s.to_string()).collect(),
            own_accounts: own.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn ids(e: &Enrichment) -> Vec<&str> {
        e.matched_watches.iter().map(WatchId::as_str).collect()
    }

    #[test]
    fn matches_watches_with_accents_elisions_and_hashtags_in_order() {
        let enricher = Enricher::new(vec![
            watch("hopital", "hôpital AND urgences", &[], &[]),
            watch("avion", "\"l'avion\" OR #airfail", &[], &[]),
            watch("greve", "#greve", &[], &[]),
            watch("none", "banane", &[], &[]),
        ]);
        let e = enricher.enrichment(&mention(
            "x",
            "Aux URGENCES de l’Hopital, l’avion sanitaire attend #AirFail grève",
        ));
        assert_eq!(ids(&e), ["hopital", "avion"]);
        assert_eq!(e.hashtags, ["airfail"]);
    }

    #[test]
    fn language_filter_and_declared_language() {
        let enricher = Enricher::new(vec![
            watch("fr", "service", &["fr"], &[]),
            watch("en", "service", &["EN"], &[]),
            watch("all", "service", &[], &[]),
        ]);
        let fr = enricher.enrichment(&mention(
            "x",
            "Le service client ne répond jamais, quelle honte",
        ));
        assert_eq!(fr.language.as_ref().map(|l| l.code.as_str()), Some("fr"));
        assert_eq!(ids(&fr), ["fr", "all"]);
        let en = enricher.enrichment(&mention(
            "x",
            "The customer service never answers, what a shame",
        ));
        assert_eq!(ids(&en), ["en", "all"]);
        let mut declared = mention("x", "service");
        declared.lang = Some("en-GB".into());
        let d = enricher.enrichment(&declared);
        assert_eq!(
            d.language,
            Some(LanguageGuess {
                code: "en".into(),
                confidence: 1.0
            })
        );
        assert_eq!(ids(&d), ["en", "all"]);
        let unknown = enricher.enrichment(&mention("x", "service 2024"));
        assert!(ids(&unknown).contains(&"all"));
    }

    #[test]
    fn own_account_is_for_matched_watches() {
        let enricher = Enricher::new(vec![
            watch("brand", "brand", &[], &["@Brand_FR"]),
            watch("other", "concurrent", &[], &["rival"]),
        ]);
        let own = enricher.enrichment(&mention("brand_fr", "Brand vous répond"));
        assert!(own.own_account);
        let rival_on_brand = enricher.enrichment(&mention("RIVAL", "Brand est en panne"));
        assert!(
            !rival_on_brand.own_account,
            "rival is own only for the other watch"
        );
        let rival_on_own = enricher.enrichment(&mention("@rival", "notre concurrent"));
        assert!(rival_on_own.own_account);
    }

    #[test]
    fn title_is_matched_and_used_when_text_is_empty() {
        let enricher = Enricher::new(vec![watch("brand", "brand AND scandale", &[], &[])]);
        let mut m = mention("journal", "");
        m.title = Some("Scandale chez Brand : les clients furieux".into());
        let e = enricher.enrichment(&m);
        assert_eq!(ids(&e), ["brand"]);
        assert_eq!(e.sentiment.label, SentimentLabel::Negative);
        assert_eq!(e.language.map(|l| l.code), Some("fr".into()));
        assert_eq!(e.reach, 100);
    }

    #[test]
    fn keeps_the_text_and_fills_entities() {
        let enricher = Enricher::new(vec![]);
        let text = "  Voir https://ex.com/a  @Marie #SAV  ";
        let out = enricher.enrich(&WorkspaceId::new("ws").unwrap(), mention("x", text));
        assert_eq!(out.mention.text, text);
        assert_eq!(out.workspace.as_str(), "ws");
        assert_eq!(out.enrichment.links, ["https://ex.com/a"]);
        assert_eq!(out.enrichment.handles, ["marie"]);
        assert_eq!(out.enrichment.hashtags, ["sav"]);
        assert!(out.enrichment.matched_watches.is_empty());
    }

    /// Stages can be replaced.
    struct Always(&'static str);
    impl LanguageDetector for Always {
        fn detect(&self, _text: &str) -> Option<LanguageGuess> {
            Some(LanguageGuess {
                code: self.0.into(),
                confidence: 0.3,
            })
        }
    }
    struct Positive;
    impl SentimentEngine for Positive {
        fn analyze(&self, _text: &str, _lang: &str) -> Sentiment {
            Sentiment {
                label: SentimentLabel::Positive,
                score: 1.0,
                confidence: 1.0,
            }
        }
    }

    #[test]
    fn custom_engines_are_used() {
        let enricher = Enricher::with_engines(
            vec![watch("de", "x", &["de"], &[])],
            Box::new(Always("de")),
            Box::new(Positive),
        );
        let e = enricher.enrichment(&mention("a", "x y z"));
        assert_eq!(e.language.as_ref().map(|l| l.code.as_str()), Some("de"));
        assert_eq!(e.sentiment.label, SentimentLabel::Positive);
        assert_eq!(ids(&e).len(), 1);
        fn assert_send_sync<T: Send + Sync>(_: &T) {}
        assert_send_sync(&enricher);
        assert_eq!(enricher.watch_ids().count(), 1);
    }

    #[test]
    fn watch_queries_see_mention_fields_and_language() {
        let enricher = Enricher::new(vec![
            watch("replies", "service is:reply -author:brand", &[], &[]),
            watch("fr", "service lang:fr", &[], &[]),
            watch("en", "service lang:en", &[], &[]),
        ]);
        let mut m = mention("marie", "Le service client ne répond jamais, quelle honte");
        m.reply_to = Some("0".into());
        assert_eq!(ids(&enricher.enrichment(&m)), ["replies", "fr"]);
        m.author.handle = "@Brand".into();
        assert_eq!(ids(&enricher.enrichment(&m)), ["fr"]);
    }
}
