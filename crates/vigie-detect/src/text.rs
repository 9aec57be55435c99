//! Text helpers for explanations: a small allocation-free tokenizer with case and accent
//! folding, French and English stop words, and number formatting.
//!
//! `vigie-query`'s tokenizer was not available when this was written; this one only serves
//! "top terms", so it is deliberately simple: words are runs of letters and digits, split at
//! apostrophes (French elisions), folded to lowercase without accents; links, hashtags,
//! handles, numbers, one-letter words and stop words are skipped.

/// Accent folding for the Latin letters of French and English texts (and neighbours).
fn fold_char(c: char) -> Option<char> {
    let folded = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        _ => return None,
    };
    Some(folded)
}

/// English and French stop words, folded (no accents), sorted for binary search.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "ai",
    "ainsi",
    "all",
    "alors",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "au",
    "aucun",
    "aujourdhui",
    "aussi",
    "autre",
    "aux",
    "avec",
    "avez",
    "avoir",
    "be",
    "because",
    "been",
    "before",
    "being",
    "but",
    "by",
    "c",
    "ca",
    "can",
    "ce",
    "cela",
    "celle",
    "ces",
    "cet",
    "cette",
    "ceux",
    "chez",
    "comme",
    "comment",
    "could",
    "d",
    "dans",
    "de",
    "des",
    "did",
    "do",
    "does",
    "doing",
    "dont",
    "du",
    "each",
    "elle",
    "elles",
    "en",
    "encore",
    "est",
    "et",
    "etaient",
    "etait",
    "ete",
    "etre",
    "eu",
    "eux",
    "for",
    "from",
    "get",
    "got",
    "had",
    "has",
    "have",
    "he",
    "her",
    "here",
    "him",
    "his",
    "how",
    "i",
    "if",
    "il",
    "ils",
    "in",
    "into",
    "is",
    "it",
    "its",
    "j",
    "je",
    "just",
    "l",
    "la",
    "le",
    "les",
    "leur",
    "leurs",
    "lui",
    "m",
    "ma",
    "mais",
    "me",
    "meme",
    "mes",
    "moi",
    "mon",
    "more",
    "most",
    "my",
    "n",
    "ne",
    "ni",
    "no",
    "nos",
    "not",
    "notre",
    "nous",
    "now",
    "of",
    "on",
    "ont",
    "or",
    "ou",
    "our",
    "out",
    "par",
    "parce",
    "pas",
    "peu",
    "plus",
    "pour",
    "pourquoi",
    "qu",
    "quand",
    "que",
    "quel",
    "quelle",
    "qui",
    "s",
    "sa",
    "sans",
    "se",
    "ses",
    "she",
    "si",
    "so",
    "son",
    "sont",
    "sous",
    "still",
    "sur",
    "t",
    "ta",
    "te",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "to",
    "toi",
    "ton",
    "tous",
    "tout",
    "tres",
    "tu",
    "un",
    "une",
    "up",
    "us",
    "very",
    "via",
    "vos",
    "votre",
    "vous",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "with",
    "would",
    "y",
    "you",
    "your",
];

/// Whether a folded word is a stop word.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// Calls `f` with each folded, non-stop-word term of `text`, reusing `buf` (no allocation once
/// `buf` has grown to the longest word).
pub fn for_each_term(text: &str, buf: &mut String, mut f: impl FnMut(&str)) {
    for word in text.split_whitespace() {
        let skip = word.starts_with('#')
            || word.starts_with('@')
            || word.starts_with("http")
            || word.starts_with("www.")
            || word.contains("://");
        if skip {
            continue;
        }
        buf.clear();
        let mut flush = |buf: &mut String| {
            let letters = buf.chars().count() >= 2 && !buf.chars().all(|c| c.is_ascii_digit());
            if letters && !is_stop_word(buf) {
                f(buf);
            }
            buf.clear();
        };
        for c in word.chars() {
            if c.is_alphanumeric() {
                match fold_char(c) {
                    Some(folded) => buf.push(folded),
                    None => buf.extend(c.to_lowercase()),
                }
            } else if matches!(c, '\'' | '’') && buf == "aujourd" {
                // "aujourd'hui" is one word, not an elision.
            } else {
                // Apostrophes, hyphens and punctuation end a term ("l'usine" → "usine").
                flush(buf);
            }
        }
        flush(buf);
    }
}

/// `12`, `12.3k`, `1.2M`.
pub fn compact_number(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{:.1}M", n as f64 / 1_000_000.0)
    } else if n >= 10_000 {
        format!("{:.0}k", n as f64 / 1_000.0)
    } else if n >= 1_000 {
        format!("{:.1}k", n as f64 / 1_000.0)
    } else {
        n.to_string()
    }
}

/// The first `max` characters of `s`, with `…` when cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => {
            let mut t = s.get(..cut).unwrap_or(s).to_owned();
            // Keep the result within `max` characters including the ellipsis.
            if let Some((last, _)) = t.char_indices().last() {
                t.truncate(last);
            }
            t.push('…');
            t
        }
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aujourd_hui_is_one_stop_word() {
        assert_eq!(terms("Aujourd'hui Orsane, aujourd’hui encore"), ["orsane"]);
    }

    fn terms(text: &str) -> Vec<String> {
        let mut v = Vec::new();
        let mut buf = String::new();
        for_each_term(text, &mut buf, |t| v.push(t.to_owned()));
        v
    }

    #[test]
    fn stop_words_are_sorted() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_stop_word("the") && is_stop_word("etait") && !is_stop_word("greve"));
    }

    #[test]
    fn tokenizes_french_and_english() {
        assert_eq!(
            terms("L'usine de Lyon est en GRÈVE, c'est grave! #boycott @acme https://x.io/a 2026"),
            vec!["usine", "lyon", "greve", "grave"]
        );
        assert_eq!(
            terms("The refund was NOT paid — scam?"),
            vec!["refund", "paid", "scam"]
        );
    }

    #[test]
    fn formats_and_truncates() {
        assert_eq!(compact_number(999), "999");
        assert_eq!(compact_number(1_234), "1.2k");
        assert_eq!(compact_number(56_000), "56k");
        assert_eq!(compact_number(1_200_000), "1.2M");
        assert_eq!(truncate_chars("héhé", 10), "héhé");
        let t = truncate_chars(&"é".repeat(300), 280);
        assert_eq!(t.chars().count(), 280);
        assert!(t.ends_with('…'));
    }
}
