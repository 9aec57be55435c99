//! Enrichment stages: language, lexicon sentiment, entities, reach and watch matching.
//!
//! The pipeline holds one [`Enricher`] per workspace, built from the workspace's watches
//! ([`WatchSpec`]), and calls [`Enricher::enrich`] on every mention. The mention is
//! tokenized once ([`vigie_query::Document`]); the same tokens feed every stage:
//!
//! 1. **language** ([`LanguageDetector`], default [`WhatlangDetector`]): the source's
//!    declared language when present, else a trigram guess among fr, en, de, es, it, nl, pt;
//! 2. **sentiment** ([`SentimentEngine`], default [`TrainedSentiment`]): a linear model over
//!    word, character n-gram, emoji, negation and lexicon features, trained by
//!    `vigie train sentiment` and embedded in the binary ([`model`]); [`LexiconSentiment`]
//!    (VADER rules with the English VADER and French VADER-FR lexicons) is the alternative
//!    and gives explanations ([`LexiconSentiment::explain`]);
//! 3. **entities**: hashtags, handles and links from the tokens;
//! 4. **reach**: followers plus engagement-based amplification ([`reach`]);
//! 5. **watches**: every watch query evaluated on the document, filtered by language, and
//!    the own-account flag.
//!
//! The stages are traits so that later work (a neural sentiment model, another detector)
//! can replace them with [`Enricher::with_engines`]. [`evaluate`] measures a sentiment
//! engine on labelled data (see `docs/design/enrichment.md` for the figures).
//!
//! ```
//! use vigie_enrich::{Enricher, WatchSpec};
//! use vigie_model::{Author, Engagement, Mention, SentimentLabel, Timestamp, WatchId, WorkspaceId};
//!
//! let enricher = Enricher::new(vec![WatchSpec {
//!     id: WatchId::new("air").unwrap(),
//!     query: vigie_query::parse("(avion OR vol) AND (retard OR annulé)").unwrap(),
//!     languages: vec![],
//!     own_accounts: vec!["air_fr".into()],
//! }]);
//! let mention = Mention {
//!     source: "mastodon".into(),
//!     external_id: "42".into(),
//!     url: None,
//!     author: Author { handle: "paul".into(), name: None, followers: Some(250), verified: false },
//!     published_at: Timestamp::from_millis(0),
//!     received_at: None,
//!     title: None,
//!     text: "Encore un vol ANNULÉ, l'avion est cloué au sol. Honteux ! #AirFail https://x.example/p".into(),
//!     lang: None,
//!     engagement: Engagement { reposts: 3, likes: 10, replies: 1, quotes: 0 },
//!     reply_to: None,
//!     quote_of: None,
//!     repost_of: None,
//!     country: None,
//! };
//! let e = enricher.enrich(&WorkspaceId::new("acme").unwrap(), mention).enrichment;
//! assert_eq!(e.language.as_ref().map(|l| l.code.as_str()), Some("fr"));
//! assert_eq!(e.sentiment.label, SentimentLabel::Negative);
//! assert_eq!(e.reach, 250 + 3 * 150 + 10 * 5 + 20);
//! assert_eq!(e.hashtags, ["airfail"]);
//! assert_eq!(e.links, ["https://x.example/p"]);
//! assert_eq!(e.matched_watches, [WatchId::new("air").unwrap()]);
//! ```

mod enricher;
pub mod entities;
mod eval;
pub mod language;
pub mod model;
pub mod neural;
pub mod sentiment;

pub use enricher::{Enricher, WatchSpec};
pub use entities::{Entities, reach};
pub use eval::{ClassMetrics, EvalReport, LABELS, evaluate, read_labelled_tsv};
pub use language::{LanguageDetector, WhatlangDetector};
pub use model::{ModelError, TrainedSentiment};
pub use neural::NeuralSentiment;
pub use sentiment::{LexiconSentiment, SentimentEngine, SentimentExplanation, Thresholds};
/// The encoder crate, re-exported for the binary (`vigie model`, training, evaluation).
pub use vigie_neural;
