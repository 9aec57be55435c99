//! Sentiment: the [`SentimentEngine`] trait and [`LexiconSentiment`], a VADER-style engine for
//! French and English.
//!
//! The rules follow Hutto & Gilbert's VADER (`vaderSentiment` 3.3): each lexicon word brings
//! its valence; up to three preceding boosters (`very`, `vraiment`) add ±0.293 (×0.95 and ×0.9
//! for the 2nd and 3rd), an ALL-CAPS word among mixed case adds ±0.733, a negation among the
//! three preceding tokens multiplies by −0.74 (once), words before the contrast word
//! (`but`/`mais`) count ×0.5 and after it ×1.5, `!` (up to 4) and repeated `?` amplify, and
//! the sum `x` is normalised to the compound score `x/√(x²+15)`. Emojis bring the valence
//! of their description.

mod explain;
mod lexicon;

pub use explain::SentimentExplanation;
use explain::Trace;
use lexicon::Lexicon;
use vigie_model::{Sentiment, SentimentLabel};
use vigie_query::text::{Token, TokenKind, tokenize};

/// ALL-CAPS emphasis.
const C_INCR: f32 = 0.733;
/// Negation scalar.
pub(crate) const N_SCALAR: f32 = -0.74;
/// Normalisation constant of the compound score.
const ALPHA: f32 = 15.0;

/// The default engine: the trained model embedded in the binary ([`crate::TrainedSentiment`],
/// more accurate on every validation split, see `docs/QUALITY.md`), or [`LexiconSentiment`]
/// if the embedded model cannot be read.
pub fn default_engine() -> Box<dyn SentimentEngine> {
    match crate::TrainedSentiment::embedded() {
        Ok(model) => Box::new(model),
        Err(_) => Box::new(LexiconSentiment::default()),
    }
}

/// Tells how positive or negative a text is.
pub trait SentimentEngine: Send + Sync {
    /// The sentiment of `text`, written in language `lang` (ISO 639-1, or `und`).
    fn analyze(&self, text: &str, lang: &str) -> Sentiment;

    /// The same, for a text already tokenized with [`vigie_query::text::tokenize`]
    /// (offsets into `text`). Engines that work on tokens override it to skip a second pass.
    fn analyze_tokens(&self, text: &str, tokens: &[Token], lang: &str) -> Sentiment {
        let _ = tokens;
        self.analyze(text, lang)
    }
}

/// Compound-score cut-offs between the labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// A compound ≤ `-negative` is negative.
    pub negative: f32,
    /// A compound ≥ `positive` is positive.
    pub positive: f32,
}

impl Thresholds {
    /// VADER's published cut-offs: ±0.05.
    pub const VADER: Thresholds = Thresholds {
        negative: 0.05,
        positive: 0.05,
    };

    /// The label of a compound score.
    pub fn label(&self, compound: f32) -> SentimentLabel {
        if compound >= self.positive {
            SentimentLabel::Positive
        } else if compound <= -self.negative {
            SentimentLabel::Negative
        } else {
            SentimentLabel::Neutral
        }
    }
}

/// A VADER-style lexicon engine for French (`fr`) and English (`en`); other languages get a
/// neutral sentiment with confidence 0 (no lexicon is applied across languages).
///
/// Confidence: for a positive or negative label, `|compound|` (it grows with the amount and
/// strength of the evidence); for a neutral label, `0.5 × (1 − |compound| / threshold)` —
/// neutral is what remains when evidence is weak, so it never claims more than 0.5.
///
/// ```
/// use vigie_enrich::{LexiconSentiment, SentimentEngine};
/// use vigie_model::SentimentLabel;
/// let engine = LexiconSentiment::default();
/// let s = engine.analyze("Merci pour votre réponse rapide, super service !", "fr");
/// assert_eq!(s.label, SentimentLabel::Positive);
/// assert_eq!(engine.analyze("This is not good at all", "en").label, SentimentLabel::Negative);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LexiconSentiment {
    french: Thresholds,
    english: Thresholds,
}

impl Default for LexiconSentiment {
    /// Thresholds tuned for macro-F1 on the UMSAB train splits (see docs/design/enrichment.md).
    fn default() -> Self {
        Self {
            french: Thresholds {
                negative: 0.06,
                positive: 0.12,
            },
            english: Thresholds {
                negative: 0.01,
                positive: 0.43,
            },
        }
    }
}

/// One unit of text the rules look at.
#[derive(Debug, Clone, Copy)]
struct Item<'a> {
    /// Folded word (hashtags without `#`).
    word: &'a str,
    /// Written in capitals.
    upper: bool,
    /// Valence of an emoji, taken as is.
    emoji: Option<f32>,
}

impl LexiconSentiment {
    /// An engine with explicit thresholds for French and English.
    pub fn with_thresholds(french: Thresholds, english: Thresholds) -> Self {
        Self { french, english }
    }

    /// The compound score in [-1, 1] of a tokenized text, or `None` for an unsupported language.
    pub fn compound(&self, text: &str, tokens: &[Token], lang: &str) -> Option<f32> {
        self.compound_traced(text, tokens, lang, None)
    }

    fn compound_traced(
        &self,
        text: &str,
        tokens: &[Token],
        lang: &str,
        mut trace: Option<&mut Trace>,
    ) -> Option<f32> {
        let lex = lexicon_for(lang)?;
        let items = items(text, tokens, lex);
        let sum = valence_sum(&items, lex, trace.as_deref_mut());
        Some(normalize(sum, text, trace))
    }

    fn thresholds(&self, lang: &str) -> Thresholds {
        if lang == "fr" {
            self.french
        } else {
            self.english
        }
    }
}

impl SentimentEngine for LexiconSentiment {
    fn analyze(&self, text: &str, lang: &str) -> Sentiment {
        if lexicon_for(lang).is_none() {
            return Sentiment::default();
        }
        self.analyze_tokens(text, &tokenize(text), lang)
    }

    fn analyze_tokens(&self, text: &str, tokens: &[Token], lang: &str) -> Sentiment {
        let Some(compound) = self.compound(text, tokens, lang) else {
            return Sentiment {
                label: SentimentLabel::Neutral,
                score: 0.0,
                confidence: 0.0,
            };
        };
        let th = self.thresholds(lang);
        let label = th.label(compound);
        let confidence = match label {
            SentimentLabel::Neutral => {
                let limit = if compound >= 0.0 {
                    th.positive
                } else {
                    th.negative
                };
                0.5 * (1.0 - (compound.abs() / limit.max(f32::EPSILON)).min(1.0))
            }
            _ => compound.abs(),
        };
        Sentiment {
            label,
            score: compound,
            confidence,
        }
    }
}

fn lexicon_for(lang: &str) -> Option<&'static Lexicon> {
    match lang {
        "fr" => Some(lexicon::french()),
        "en" => Some(lexicon::english()),
        _ => None,
    }
}

fn is_upper(s: &str) -> bool {
    s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_lowercase)
}

fn items<'a>(text: &str, tokens: &'a [Token], lex: &Lexicon) -> Vec<Item<'a>> {
    let mut out = Vec::with_capacity(tokens.len());
    for t in tokens {
        let original = text.get(t.start..t.end).unwrap_or_default();
        match t.kind {
            TokenKind::Word | TokenKind::Number => {
                // VADER drops one-character tokens; here that also drops elided `l'`, `j'`…
                // except `n'`, a negation.
                if t.text.chars().nth(1).is_some() || t.text == "n" {
                    out.push(Item {
                        word: &t.text,
                        upper: is_upper(original),
                        emoji: None,
                    });
                }
            }
            TokenKind::Hashtag => out.push(Item {
                word: t.text.get(1..).unwrap_or_default(),
                upper: is_upper(original),
                emoji: None,
            }),
            TokenKind::Emoji => {
                let v = lex.valence(&t.text).or_else(|| emoji_valence(lex, &t.text));
                out.push(Item {
                    word: &t.text,
                    upper: false,
                    emoji: Some(v.unwrap_or(0.0)),
                });
            }
            TokenKind::Handle | TokenKind::Url => {}
        }
    }
    out
}

/// An emoji's valence, trying the exact sequence, then without variation selector, then its
/// first character (skin tones, unknown ZWJ sequences).
fn emoji_valence(lex: &Lexicon, emoji: &str) -> Option<f32> {
    lex.emojis
        .get(emoji)
        .or_else(|| lex.emojis.get(emoji.trim_end_matches('\u{FE0F}')))
        .or_else(|| {
            let first = emoji.chars().next()?;
            lex.emojis.get(emoji.get(..first.len_utf8())?)
        })
        .copied()
}

fn scalar_inc_dec(item: &Item<'_>, valence: f32, cap_diff: bool, lex: &Lexicon) -> f32 {
    let Some(&b) = lex.boosters.get(item.word) else {
        return 0.0;
    };
    let mut scalar = if valence < 0.0 { -b } else { b };
    if item.upper && cap_diff {
        scalar += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    scalar
}

fn valence_sum(items: &[Item<'_>], lex: &Lexicon, mut trace: Option<&mut Trace>) -> f32 {
    let uppers = items.iter().filter(|i| i.upper).count();
    let cap_diff = uppers > 0 && uppers < items.len();
    let contrast = items.iter().position(|i| i.word == lex.contrast);
    let mut sum = 0.0;
    let mut skip_next = false;
    for i in 0..items.len() {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        let mut v = match item_valence(items, i, lex, cap_diff, trace.as_deref_mut()) {
            Some((v, bigram)) => {
                skip_next = bigram;
                v
            }
            None => continue,
        };
        if let Some(c) = contrast {
            if i < c {
                v *= 0.5;
            } else if i > c {
                v *= 1.5;
            }
        }
        if let Some(t) = trace.as_deref_mut() {
            let word = match (skip_next, items.get(i + 1)) {
                (true, Some(next)) => Trace::join(items.get(i).map_or("", |x| x.word), next.word),
                _ => items.get(i).map_or_else(String::new, |x| x.word.to_owned()),
            };
            t.contribution(word, v);
        }
        sum += v;
    }
    if let (Some(t), Some(c)) = (trace, contrast.and_then(|c| items.get(c))) {
        t.rule(|| format!("contrast: {} (before ×0.5, after ×1.5)", c.word));
    }
    sum
}

/// The valence of item `i` after the VADER rules, and whether it consumed item `i + 1`.
fn item_valence(
    items: &[Item<'_>],
    i: usize,
    lex: &Lexicon,
    cap_diff: bool,
    mut trace: Option<&mut Trace>,
) -> Option<(f32, bool)> {
    let item = items.get(i)?;
    let next = items.get(i + 1);
    let (base, bigram) = match (item.emoji, next.and_then(|n| lex.bigram(item.word, n.word))) {
        (Some(v), _) => (v, false),
        (None, Some(v)) => (v, true),
        (None, None) if lex.boosters.contains_key(item.word) => return None,
        (None, None) => (lex.valence(item.word)?, false),
    };
    if base == 0.0 {
        return None;
    }
    let mut v = base;
    if lex.english_rules && item.word == "no" && next.is_some_and(|n| lex.valence(n.word).is_some())
    {
        return None;
    }
    if item.upper && cap_diff {
        v += if v > 0.0 { C_INCR } else { -C_INCR };
        if let Some(t) = trace.as_deref_mut() {
            t.rule(|| format!("caps: {}", item.word.to_uppercase()));
        }
    }
    let before = |k: usize| i.checked_sub(k).and_then(|j| items.get(j));
    for (k, damp) in [(1, 1.0), (2, 0.95), (3, 0.9)] {
        if let Some(prev) = before(k)
            && lex.valence(prev.word).is_none()
        {
            let delta = damp * scalar_inc_dec(prev, v, cap_diff, lex);
            if delta != 0.0 {
                v += delta;
                if let Some(t) = trace.as_deref_mut() {
                    t.rule(|| format!("booster: {} → {}", prev.word, item.word));
                }
            }
        }
    }
    // Bigram idioms that start with a negation (`pas terrible`) already carry it.
    let negator = (1..=3)
        .filter_map(before)
        .find(|p| lex.is_negation(p.word))
        .filter(|_| !bigram && !lex.no_negate.contains(item.word));
    if let Some(neg) = negator {
        let never_so = lex.english_rules
            && before(2).is_some_and(|p| p.word == "never")
            && before(1).is_some_and(|p| p.word == "so" || p.word == "this");
        v *= if never_so { 1.25 } else { N_SCALAR };
        if let Some(t) = trace.as_deref_mut() {
            t.rule(|| format!("negation: {} → {}", neg.word, item.word));
        }
    }
    if lex.english_rules && before(1).is_some_and(|p| p.word == "least") {
        let at_least = before(2).is_some_and(|p| p.word == "at" || p.word == "very");
        if !at_least {
            v *= N_SCALAR;
            if let Some(t) = trace {
                t.rule(|| format!("negation: least → {}", item.word));
            }
        }
    }
    Some((v, bigram))
}

/// Punctuation emphasis, then `x/√(x²+15)` clamped to [-1, 1].
fn normalize(mut sum: f32, text: &str, trace: Option<&mut Trace>) -> f32 {
    if sum == 0.0 {
        return 0.0;
    }
    let bangs = text.matches('!').count().min(4) as f32;
    let questions = text.matches('?').count();
    let mut amp = bangs * 0.292;
    if questions > 1 {
        amp += if questions <= 3 {
            questions as f32 * 0.18
        } else {
            0.96
        };
    }
    if let Some(t) = trace {
        if bangs > 0.0 {
            t.rule(|| format!("{}: {:+.3}", "!".repeat(bangs as usize), bangs * 0.292));
        }
        if questions > 1 {
            t.rule(|| {
                format!(
                    "{}: {:+.3}",
                    "?".repeat(questions.min(4)),
                    amp - bangs * 0.292
                )
            });
        }
    }
    sum += if sum > 0.0 { amp } else { -amp };
    (sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyze(text: &str, lang: &str) -> Sentiment {
        LexiconSentiment::default().analyze(text, lang)
    }

    fn label(text: &str, lang: &str) -> SentimentLabel {
        analyze(text, lang).label
    }

    #[test]
    fn french_examples() {
        use SentimentLabel::*;
        assert_eq!(
            label(
                "Je suis vraiment déçu par @Brand, service client nul 😡 #boycott",
                "fr"
            ),
            Negative
        );
        assert_eq!(
            label("Merci pour votre réponse rapide, super service !", "fr"),
            Positive
        );
        assert_eq!(label("Le colis est arrivé mardi.", "fr"), Neutral);
        assert_eq!(label("C'est pas terrible", "fr"), Negative);
        assert_eq!(label("Je n'aime pas ce produit", "fr"), Negative);
        assert_eq!(label("J'aime ce produit", "fr"), Positive);
        assert_eq!(label("Je suis en colère", "fr"), Negative);
    }

    #[test]
    fn english_examples() {
        use SentimentLabel::*;
        assert_eq!(label("The support was great, thanks!", "en"), Positive);
        assert_eq!(label("not good", "en"), Negative);
        assert_eq!(label("good", "en"), Positive);
        assert_eq!(label("The parcel arrived on Tuesday.", "en"), Neutral);
        assert_eq!(label("Worst airline ever 😡", "en"), Negative);
    }

    #[test]
    fn vader_rules_change_intensity() {
        let s = |t: &str| analyze(t, "en").score;
        assert!(s("very good") > s("good"));
        assert!(s("good!!!") > s("good"));
        assert!(s("GOOD service") > s("good service"));
        assert!(s("slightly good") < s("good"));
        assert!(s("good but bad") < 0.0, "after `but` weighs more");
        assert!(s("bad but good") > 0.0);
        assert!(s("😍") > 0.0 && s("😭") < 0.0);
        assert!(
            (s("good") - 0.4404).abs() < 0.001,
            "VADER gives 0.4404 for `good`: {}",
            s("good")
        );
    }

    #[test]
    fn french_negation_only_once() {
        let s = |t: &str| analyze(t, "fr").score;
        assert!(s("je ne suis pas heureux") < 0.0);
        assert!(s("je suis heureux") > 0.0);
        assert!(
            s("le plus beau jour") > 0.0,
            "`plus` alone is not a negation"
        );
    }

    #[test]
    fn other_languages_are_neutral_with_no_confidence() {
        let s = analyze("Das ist wirklich schlecht", "de");
        assert_eq!(
            (s.label, s.score, s.confidence),
            (SentimentLabel::Neutral, 0.0, 0.0)
        );
        assert_eq!(analyze("good", "und").confidence, 0.0);
    }

    #[test]
    fn confidence_follows_the_label() {
        let strong = analyze("Horrible, honteux, scandaleux !!!", "fr");
        assert_eq!(strong.label, SentimentLabel::Negative);
        assert!((strong.confidence - strong.score.abs()).abs() < 1e-6);
        let neutral = analyze("Le colis arrive mardi", "fr");
        assert!((neutral.confidence - 0.5).abs() < 1e-6);
        assert!((-1.0..=1.0).contains(&strong.score));
    }
}
