//! Turning a text into hashed sparse features for the trained engine.
//!
//! Features (all hashed with 64-bit FNV-1a into `2^bits` buckets):
//! - folded word unigrams (hashtags without `#`), marked `¬` when inside a negation scope
//!   (after a negator, up to the next `.`, `,`, `!`, `?`, `;` or `:`);
//! - word bigrams (with `<s>` at the start);
//! - character 2- to 5-grams of each folded word padded with `^` and `$`;
//! - emoji tokens (the whole sequence and its first character), one feature per handle,
//!   URL and number kind;
//! - surface cues: `!`, repeated `?`, ALL-CAPS words, elongated words (`soooo`);
//! - the language as a bias feature;
//! - lexicon features (French and English): the VADER compound score and the number of
//!   positive and negative contributions, alone and per language.
//!
//! Sparse text features are scaled to unit L2 norm, so that long reviews and short tweets
//! weigh alike; the lexicon and bias features keep their raw values.

use crate::sentiment::LexiconSentiment;
use vigie_query::text::{Token, TokenKind};

/// One feature: a bucket and a value.
pub(crate) type Feature = (u32, f32);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Negators that are not in the lexicons' lists (other UMSAB languages).
const EXTRA_NEGATORS: &[&str] = &[
    "not", "no", "never", "ne", "pas", "jamais", "rien", "nicht", "kein", "keine", "nie", "nein",
    "non", "nao", "nunca", "nada", "ni", "sin", "mai", "senza", "nem", "sem",
];

/// Hashes `parts` (with a separator between them) with FNV-1a.
fn hash_parts(kind: u8, parts: &[&str]) -> u64 {
    let mut h = FNV_OFFSET;
    h = step(h, kind);
    for p in parts {
        for &b in p.as_bytes() {
            h = step(h, b);
        }
        h = step(h, 0xff);
    }
    h
}

#[inline]
fn step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
}

/// Mixes a 64-bit hash into a bucket of `2^bits`.
#[inline]
fn bucket(h: u64, bits: u32) -> u32 {
    // Fold the high bits in: FNV's low bits are weak for short keys.
    let mixed = h ^ (h >> 29) ^ (h >> 47);
    (mixed & ((1u64 << bits) - 1)) as u32
}

/// Extracts the features of one text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Featurizer {
    /// Buckets are `0..2^bits`.
    pub bits: u32,
}

impl Featurizer {
    /// Appends the features of `text` (tokenized into `tokens`) in language `lang` to `out`
    /// (cleared first).
    pub fn features(&self, text: &str, tokens: &[Token], lang: &str, out: &mut Vec<Feature>) {
        out.clear();
        let mut sparse: Vec<u64> = Vec::with_capacity(tokens.len() * 24);
        self.text_features(text, tokens, &mut sparse);
        let norm = 1.0 / (sparse.len().max(1) as f32).sqrt();
        out.extend(sparse.iter().map(|&h| (bucket(h, self.bits), norm)));

        let lang = if lang.len() == 2 { lang } else { "und" };
        out.push((bucket(hash_parts(b'B', &[]), self.bits), 1.0));
        out.push((bucket(hash_parts(b'L', &[lang]), self.bits), 1.0));
        if let Some((compound, pos, neg)) =
            LexiconSentiment::default().lexicon_features(text, tokens, lang)
        {
            let pos = (pos as f32).min(6.0) / 3.0;
            let neg = (neg as f32).min(6.0) / 3.0;
            for (name, v) in [("compound", compound), ("pos", pos), ("neg", neg)] {
                out.push((bucket(hash_parts(b'X', &[name]), self.bits), v));
                out.push((bucket(hash_parts(b'X', &[name, lang]), self.bits), v));
            }
        }
    }

    fn text_features(&self, text: &str, tokens: &[Token], out: &mut Vec<u64>) {
        let mut negated = false;
        let mut prev_end = 0;
        let mut prev_word = "<s>";
        let mut caps = 0u32;
        for t in tokens {
            let between = text.get(prev_end..t.start).unwrap_or_default();
            if between.contains(['.', ',', '!', '?', ';', ':']) {
                negated = false;
                prev_word = "<s>";
            }
            prev_end = t.end;
            match t.kind {
                TokenKind::Word | TokenKind::Hashtag => {
                    let word = t.text.strip_prefix('#').unwrap_or(&t.text);
                    let original = text.get(t.start..t.end).unwrap_or_default();
                    if original.chars().filter(|c| c.is_alphabetic()).count() > 1
                        && !original.chars().any(char::is_lowercase)
                    {
                        caps += 1;
                    }
                    let mark = if negated { "¬" } else { "" };
                    out.push(hash_parts(b'W', &[mark, word]));
                    out.push(hash_parts(b'G', &[prev_word, word]));
                    if t.kind == TokenKind::Hashtag {
                        out.push(hash_parts(b'H', &[word]));
                    }
                    char_ngrams(word, out);
                    if is_negator(word) {
                        negated = true;
                    }
                    if has_elongation(word) {
                        out.push(hash_parts(b'S', &["elongated"]));
                    }
                    prev_word = word;
                }
                TokenKind::Emoji => {
                    out.push(hash_parts(b'E', &[&t.text]));
                    if let Some(first) = t.text.chars().next() {
                        let mut buf = [0u8; 4];
                        out.push(hash_parts(b'E', &[first.encode_utf8(&mut buf)]));
                    }
                    prev_word = &t.text;
                }
                TokenKind::Handle => out.push(hash_parts(b'S', &["handle"])),
                TokenKind::Url => out.push(hash_parts(b'S', &["url"])),
                TokenKind::Number => out.push(hash_parts(b'S', &["number"])),
            }
        }
        let bangs = text.matches('!').count();
        if bangs > 0 {
            out.push(hash_parts(b'S', &["!"]));
        }
        if bangs > 1 {
            out.push(hash_parts(b'S', &["!!"]));
        }
        if text.matches('?').count() > 1 {
            out.push(hash_parts(b'S', &["??"]));
        }
        if caps > 0 {
            out.push(hash_parts(b'S', &["caps"]));
        }
    }
}

/// Whether `word` (folded) negates what follows it.
fn is_negator(word: &str) -> bool {
    word.ends_with("n't") || EXTRA_NEGATORS.contains(&word)
}

/// Three identical letters in a row (`soooo`, `nooon`).
fn has_elongation(word: &str) -> bool {
    let mut run = 0;
    let mut last = '\0';
    for c in word.chars() {
        if c == last && c.is_alphabetic() {
            run += 1;
            if run >= 2 {
                return true;
            }
        } else {
            run = 0;
            last = c;
        }
    }
    false
}

/// Character 2- to 5-grams of `^word$`.
fn char_ngrams(word: &str, out: &mut Vec<u64>) {
    let mut chars: Vec<char> = Vec::with_capacity(word.len() + 2);
    chars.push('^');
    chars.extend(word.chars());
    chars.push('$');
    for start in 0..chars.len() {
        let mut h = step(FNV_OFFSET, b'C');
        for (n, &c) in chars.iter().skip(start).take(5).enumerate() {
            let mut buf = [0u8; 4];
            for &b in c.encode_utf8(&mut buf).as_bytes() {
                h = step(h, b);
            }
            if n >= 1 {
                out.push(h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_query::text::tokenize;

    fn feats(text: &str, lang: &str) -> Vec<Feature> {
        let mut out = Vec::new();
        Featurizer { bits: 18 }.features(text, &tokenize(text), lang, &mut out);
        out
    }

    #[test]
    fn same_text_same_features_and_buckets_in_range() {
        let a = feats("Service client NUL 😡 #boycott @brand", "fr");
        assert_eq!(a, feats("Service client NUL 😡 #boycott @brand", "fr"));
        assert!(a.iter().all(|&(b, _)| b < 1 << 18));
        assert!(a.len() > 30);
    }

    #[test]
    fn negation_marks_words_until_punctuation() {
        let word =
            |w: &str, neg: bool| bucket(hash_parts(b'W', &[if neg { "¬" } else { "" }, w]), 18);
        let has = |f: &[Feature], b: u32| f.iter().any(|&(x, _)| x == b);
        let f = feats("je n'aime pas ce film, super acteurs", "fr");
        assert!(has(&f, word("film", true)));
        assert!(has(&f, word("super", false)));
        assert!(!has(&f, word("super", true)));
        let g = feats("je aime ce film", "fr");
        assert!(has(&g, word("film", false)) && !has(&g, word("film", true)));
    }

    #[test]
    fn sparse_part_has_unit_norm() {
        let f = feats("good movie", "de");
        // No lexicon for German: only the sparse part plus two bias features of value 1.
        let sq: f32 = f.iter().map(|&(_, v)| v * v).sum();
        assert!((sq - 3.0).abs() < 1e-4, "{sq}");
    }

    #[test]
    fn lexicon_features_for_french_and_english() {
        let count = |t: &str, l: &str| feats(t, l).len();
        // Six lexicon features (three, alone and per language) on top of the rest.
        assert_eq!(count("good movie", "en"), count("good movie", "de") + 6);
    }

    #[test]
    fn elongation_and_char_ngrams() {
        assert!(has_elongation("soooo") && !has_elongation("soo"));
        let mut out = Vec::new();
        char_ngrams("ab", &mut out);
        // ^ab$: 2-grams ^a ab b$, 3-grams ^ab ab$, 4-gram ^ab$.
        assert_eq!(out.len(), 6);
    }
}
