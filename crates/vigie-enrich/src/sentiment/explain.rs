//! Why the lexicon engine gave its score: the words and emojis that counted and the rules
//! that fired.

use super::{LexiconSentiment, SentimentEngine};
use vigie_model::Sentiment;
use vigie_query::text::{Token, tokenize};

/// What drove a lexicon sentiment ([`LexiconSentiment::explain`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SentimentExplanation {
    /// The sentiment itself, as [`SentimentEngine::analyze`] gives it.
    pub sentiment: Sentiment,
    /// Each word, two-word idiom or emoji that counted, folded, in text order, with its
    /// valence after the rules (negation, boosters, caps, contrast), before normalisation.
    pub contributions: Vec<(String, f32)>,
    /// The rules that fired, in the order met: `negation: pas → terrible`,
    /// `booster: tres → bien`, `caps: NUL`, `contrast: mais (before ×0.5, after ×1.5)`,
    /// `!!!: +0.876`, `??: +0.360`.
    pub rules: Vec<String>,
}

/// What the rules record while scoring.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    /// Record the words and rules (strings), not only the counts.
    detailed: bool,
    contributions: Vec<(String, f32)>,
    rules: Vec<String>,
    positive: u32,
    negative: u32,
}

impl Trace {
    /// `first second`, for two-word idioms.
    pub fn join(first: &str, second: &str) -> String {
        format!("{first} {second}")
    }

    /// One word's final valence.
    pub fn contribution(&mut self, word: String, valence: f32) {
        if valence > 0.0 {
            self.positive += 1;
        } else if valence < 0.0 {
            self.negative += 1;
        }
        if self.detailed {
            self.contributions.push((word, valence));
        }
    }

    /// A rule that fired (the text is only built when details are wanted).
    pub fn rule(&mut self, describe: impl FnOnce() -> String) {
        if self.detailed {
            self.rules.push(describe());
        }
    }
}

impl LexiconSentiment {
    /// The sentiment of `text` in `lang` with what drove it. Languages without a lexicon
    /// (other than `fr` and `en`) get a neutral sentiment and an empty explanation.
    ///
    /// ```
    /// use vigie_enrich::LexiconSentiment;
    /// use vigie_model::SentimentLabel;
    /// let e = LexiconSentiment::default().explain("Ce n'est pas terrible, mais le personnel est TRÈS gentil !", "fr");
    /// assert_eq!(e.sentiment.label, SentimentLabel::Positive);
    /// assert!(e.contributions.iter().any(|(w, v)| w == "pas terrible" && *v < 0.0));
    /// assert!(e.rules.iter().any(|r| r.starts_with("contrast: mais")));
    /// assert!(e.rules.iter().any(|r| r == "booster: tres → gentil"));
    /// ```
    pub fn explain(&self, text: &str, lang: &str) -> SentimentExplanation {
        let tokens = tokenize(text);
        let mut trace = Trace {
            detailed: true,
            ..Trace::default()
        };
        let _ = self.compound_traced(text, &tokens, lang, Some(&mut trace));
        SentimentExplanation {
            sentiment: self.analyze_tokens(text, &tokens, lang),
            contributions: trace.contributions,
            rules: trace.rules,
        }
    }

    /// The compound score and the numbers of positive and negative contributions, for
    /// languages with a lexicon (features of the trained engine).
    pub(crate) fn lexicon_features(
        &self,
        text: &str,
        tokens: &[Token],
        lang: &str,
    ) -> Option<(f32, u32, u32)> {
        let mut trace = Trace::default();
        let compound = self.compound_traced(text, tokens, lang, Some(&mut trace))?;
        Some((compound, trace.positive, trace.negative))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_model::SentimentLabel;

    fn explain(text: &str, lang: &str) -> SentimentExplanation {
        LexiconSentiment::default().explain(text, lang)
    }

    #[test]
    fn names_negation_booster_caps_and_punctuation() {
        let e = explain(
            "This is not good. The staff is very helpful and GREAT!!!",
            "en",
        );
        assert!(
            e.rules.contains(&"negation: not → good".to_owned()),
            "{:?}",
            e.rules
        );
        assert!(e.rules.contains(&"booster: very → helpful".to_owned()));
        assert!(e.rules.contains(&"caps: GREAT".to_owned()));
        assert!(e.rules.iter().any(|r| r.starts_with("!!!: +0.876")));
        let good = e.contributions.iter().find(|(w, _)| w == "good");
        assert!(
            good.is_some_and(|(_, v)| *v < 0.0),
            "negated: {:?}",
            e.contributions
        );
        assert!(
            e.contributions
                .iter()
                .any(|(w, v)| w == "helpful" && *v > 0.0)
        );
    }

    #[test]
    fn emojis_and_contrast() {
        let e = explain("Bon produit mais livraison catastrophique 😡", "fr");
        assert_eq!(e.sentiment.label, SentimentLabel::Negative);
        assert!(e.contributions.iter().any(|(w, v)| w == "😡" && *v < 0.0));
        assert!(e.rules.iter().any(|r| r.starts_with("contrast: mais")));
        // Before `mais`, half weight; after, ×1.5.
        let bon = e
            .contributions
            .iter()
            .find(|(w, _)| w == "bon")
            .map(|c| c.1);
        let alone = explain("bon", "fr").contributions.first().map(|c| c.1);
        assert!(matches!((bon, alone), (Some(b), Some(a)) if (b - a * 0.5).abs() < 1e-5));
    }

    #[test]
    fn matches_analyze_and_counts() {
        let engine = LexiconSentiment::default();
        let text = "Super accueil, vraiment génial, mais repas froid";
        let e = engine.explain(text, "fr");
        assert_eq!(e.sentiment, engine.analyze(text, "fr"));
        let (compound, pos, neg) = engine
            .lexicon_features(text, &tokenize(text), "fr")
            .unwrap_or_default();
        assert_eq!(compound, e.sentiment.score);
        let positives = e.contributions.iter().filter(|c| c.1 > 0.0).count();
        let negatives = e.contributions.iter().filter(|c| c.1 < 0.0).count();
        assert_eq!((pos as usize, neg as usize), (positives, negatives));
        assert!(pos >= 1 && neg >= 1, "{:?}", e.contributions);
    }

    #[test]
    fn other_languages_explain_nothing() {
        let e = explain("Das ist schlecht", "de");
        assert!(e.contributions.is_empty() && e.rules.is_empty());
        assert_eq!(e.sentiment.confidence, 0.0);
    }
}
