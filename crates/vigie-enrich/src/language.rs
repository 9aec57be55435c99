//! Language detection: the [`LanguageDetector`] trait and [`WhatlangDetector`].

use vigie_model::LanguageGuess;
use vigie_query::text::{Token, TokenKind, tokenize};
use whatlang::{Detector, Lang};

/// Guesses the language of a text.
pub trait LanguageDetector: Send + Sync {
    /// The language of `text`, or `None` when the text holds nothing to judge by.
    fn detect(&self, text: &str) -> Option<LanguageGuess>;

    /// The same, for a text already tokenized with [`vigie_query::text::tokenize`]
    /// (offsets into `text`). Detectors that work on tokens override it to skip a second pass.
    fn detect_tokens(&self, text: &str, tokens: &[Token]) -> Option<LanguageGuess> {
        let _ = tokens;
        self.detect(text)
    }
}

/// The languages [`WhatlangDetector::default`] chooses from, as ISO 639-1 codes.
pub const DEFAULT_LANGUAGES: [&str; 7] = ["fr", "en", "de", "es", "it", "nl", "pt"];

/// Trigram detection with `whatlang`, restricted to a list of languages.
///
/// URLs and handles are removed and hashtags lose their `#` before detection. Short texts
/// get whatever whatlang answers, with its (then low) confidence.
///
/// ```
/// use vigie_enrich::{LanguageDetector, WhatlangDetector};
/// let d = WhatlangDetector::default();
/// assert_eq!(d.detect("Le service client ne répond jamais").unwrap().code, "fr");
/// assert_eq!(d.detect("https://x.example @someone").map(|g| g.code), None);
/// ```
#[derive(Debug)]
pub struct WhatlangDetector {
    detector: Detector,
}

impl Default for WhatlangDetector {
    fn default() -> Self {
        Self::with_languages(&DEFAULT_LANGUAGES)
    }
}

impl WhatlangDetector {
    /// A detector choosing among the given ISO 639-1 codes (unknown codes are ignored; an
    /// empty or fully unknown list means every language whatlang knows).
    pub fn with_languages(codes: &[&str]) -> Self {
        let langs: Vec<Lang> = codes.iter().filter_map(|c| lang_from_iso639_1(c)).collect();
        let detector = if langs.is_empty() {
            Detector::new()
        } else {
            Detector::with_allowlist(langs)
        };
        Self { detector }
    }
}

impl LanguageDetector for WhatlangDetector {
    fn detect(&self, text: &str) -> Option<LanguageGuess> {
        self.detect_tokens(text, &tokenize(text))
    }

    fn detect_tokens(&self, text: &str, tokens: &[Token]) -> Option<LanguageGuess> {
        let mut clean = String::with_capacity(text.len());
        for t in tokens {
            let original = text.get(t.start..t.end).unwrap_or_default();
            let part = match t.kind {
                TokenKind::Word => original,
                TokenKind::Hashtag => original.get(1..).unwrap_or_default(),
                _ => continue,
            };
            if !clean.is_empty() {
                clean.push(' ');
            }
            clean.push_str(part);
        }
        if !clean.chars().any(char::is_alphabetic) {
            return None;
        }
        let info = self.detector.detect(&clean)?;
        Some(LanguageGuess {
            code: iso639_1(info.lang()).to_owned(),
            confidence: info.confidence() as f32,
        })
    }
}

/// The ISO 639-1 code of a whatlang language, or its ISO 639-3 code when it has none here.
pub fn iso639_1(lang: Lang) -> &'static str {
    match lang {
        Lang::Fra => "fr",
        Lang::Eng => "en",
        Lang::Deu => "de",
        Lang::Spa => "es",
        Lang::Ita => "it",
        Lang::Nld => "nl",
        Lang::Por => "pt",
        Lang::Pol => "pl",
        Lang::Swe => "sv",
        Lang::Dan => "da",
        Lang::Nob => "nb",
        Lang::Fin => "fi",
        Lang::Rus => "ru",
        Lang::Ukr => "uk",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Tur => "tr",
        Lang::Ron => "ro",
        Lang::Ces => "cs",
        Lang::Hun => "hu",
        Lang::Ell => "el",
        Lang::Cat => "ca",
        Lang::Jpn => "ja",
        Lang::Cmn => "zh",
        Lang::Kor => "ko",
        other => other.code(),
    }
}

fn lang_from_iso639_1(code: &str) -> Option<Lang> {
    let three = match code {
        "fr" => "fra",
        "en" => "eng",
        "de" => "deu",
        "es" => "spa",
        "it" => "ita",
        "nl" => "nld",
        "pt" => "por",
        "pl" => "pol",
        "sv" => "swe",
        "da" => "dan",
        "nb" | "no" => "nob",
        "fi" => "fin",
        "ru" => "rus",
        "uk" => "ukr",
        "ar" => "ara",
        "hi" => "hin",
        "tr" => "tur",
        "ro" => "ron",
        "cs" => "ces",
        "hu" => "hun",
        "el" => "ell",
        "ca" => "cat",
        "ja" => "jpn",
        "zh" => "cmn",
        "ko" => "kor",
        other => other,
    };
    Lang::from_code(three)
}

/// A language declared by a source (`fr`, `FR`, `fr-CA`, `en_US`) as an ISO 639-1 code, or
/// `None` when it does not look like one.
pub fn normalize_declared(lang: &str) -> Option<String> {
    let primary = lang.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    let ok = (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
    (ok && primary != "und").then_some(primary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> Option<String> {
        WhatlangDetector::default().detect(text).map(|g| g.code)
    }

    #[test]
    fn short_french_and_english() {
        assert_eq!(
            code("Je suis vraiment déçu par le service client").as_deref(),
            Some("fr")
        );
        assert_eq!(
            code("Merci pour votre réponse rapide, super service !").as_deref(),
            Some("fr")
        );
        assert_eq!(
            code("Worst customer service I have ever seen").as_deref(),
            Some("en")
        );
        assert_eq!(
            code("Thanks for the quick answer, great support!").as_deref(),
            Some("en")
        );
    }

    #[test]
    fn urls_handles_and_hashtag_signs_are_ignored() {
        assert_eq!(code("@brand_officiel https://t.co/abc 😡").as_deref(), None);
        assert_eq!(code("").as_deref(), None);
        let g = WhatlangDetector::default()
            .detect("@airline_support https://example.com/thread #Grève les avions ne partent pas aujourd'hui")
            .unwrap();
        assert_eq!(g.code, "fr");
        assert!((0.0..=1.0).contains(&g.confidence));
    }

    #[test]
    fn allowlist_restricts_choices() {
        let only_en = WhatlangDetector::with_languages(&["en"]);
        assert_eq!(only_en.detect("Bonjour tout le monde").unwrap().code, "en");
        assert_eq!(lang_from_iso639_1("fr"), Some(Lang::Fra));
        assert_eq!(iso639_1(Lang::Deu), "de");
    }

    #[test]
    fn declared_languages_are_normalized() {
        assert_eq!(normalize_declared("fr-CA").as_deref(), Some("fr"));
        assert_eq!(normalize_declared(" EN_us ").as_deref(), Some("en"));
        assert_eq!(normalize_declared("und"), None);
        assert_eq!(normalize_declared("12"), None);
        assert_eq!(normalize_declared(""), None);
    }
}
