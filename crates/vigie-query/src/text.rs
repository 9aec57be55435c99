//! Folding and tokenizing: the one place where text becomes comparable tokens.
//!
//! Queries and documents go through the same functions, so a query term matches a document
//! token exactly when their folded texts (and compatible kinds) are equal.
//!
//! - [`fold`] lowercases, decomposes (NFKD) and drops combining marks, expands the ligatures
//!   `œ`, `æ`, `ß`, and turns typographic apostrophes into `'`.
//! - [`tokenize`] cuts on Unicode word boundaries (UAX #29) and recognizes hashtags,
//!   handles (`@user` and `@user@instance.social`), URLs, numbers, emojis and a few ASCII
//!   emoticons; French elisions (`l'`, `d'`, `qu'`, `jusqu'`…) are split from the word.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A word (letters, possibly with inner apostrophes, dots or digits).
    Word,
    /// `#hashtag`; the token text keeps the `#`.
    Hashtag,
    /// `@handle` or `@user@instance`; the token text keeps the leading `@`.
    Handle,
    /// `http://…`, `https://…` or `www.…`.
    Url,
    /// Digits, possibly with inner `.` or `,` (`3,5`, `10.000`).
    Number,
    /// An emoji (including ZWJ sequences and flags) or an ASCII emoticon such as `:)`.
    Emoji,
}

/// One token of a text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Token {
    /// The folded text (see [`fold`]); hashtags keep `#`, handles keep `@`.
    pub text: String,
    /// Byte offset of the first byte in the original text.
    pub start: usize,
    /// Byte offset just past the last byte in the original text.
    pub end: usize,
    /// What the token is.
    pub kind: TokenKind,
}

/// Lowercases and removes accents: `"Hôpital"` → `"hopital"`, `"Œuvre"` → `"oeuvre"`,
/// `"l’avion"` → `"l'avion"`.
///
/// ```
/// assert_eq!(vigie_query::text::fold("Déçu À L’HÔPITAL"), "decu a l'hopital");
/// ```
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    out
}

/// [`fold`] appending to `out` (no allocation when `out` has room).
pub fn fold_into(s: &str, out: &mut String) {
    if s.is_ascii() {
        out.extend(s.chars().map(|c| c.to_ascii_lowercase()));
        return;
    }
    for c in s.chars() {
        match c {
            'œ' | 'Œ' => out.push_str("oe"),
            'æ' | 'Æ' => out.push_str("ae"),
            'ß' | 'ẞ' => out.push_str("ss"),
            '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{2032}' | '\u{FF07}' => out.push('\''),
            c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
            c => {
                for l in c.to_lowercase() {
                    // Compatibility decompositions may add a space or punctuation (`¸` →
                    // ` ̧`, `Ŀ` → `l·`): a letter or digit keeps only letters and digits, and
                    // nothing gains a space, so that folding never splits a word.
                    // Decomposition may give back a capital (`ϓ` → `Υ` + accent): lowercase
                    // again, so that folding is idempotent.
                    let kept = l.nfkd().filter(|d| {
                        !is_combining_mark(*d)
                            && (c.is_whitespace() || !d.is_whitespace())
                            && (!c.is_alphanumeric() || d.is_alphanumeric())
                    });
                    out.extend(
                        kept.flat_map(char::to_lowercase)
                            .filter(|e| !is_combining_mark(*e)),
                    );
                }
            }
        }
    }
}

/// French elided prefixes that are split from the following word (`l'avion` → `l`, `avion`).
const ELISIONS: [&str; 12] = [
    "l", "d", "qu", "j", "n", "s", "c", "m", "t", "jusqu", "lorsqu", "puisqu",
];

/// ASCII emoticons recognized as [`TokenKind::Emoji`] when they stand alone.
const EMOTICONS: [&str; 30] = [
    ":'(", ":-)", ":-(", ":-d", ":-/", ":-p", ";-)", "^_^", ":))", ":((", ":)", ":(", ":d", ":p",
    ";)", ":/", ":o", ":|", ":]", ":[", "=)", "=(", "<3", "xd", "^^", ":*", ";(", ":')", "-_-",
    "</3",
];

/// Cuts a text into tokens (see the module documentation).
///
/// ```
/// use vigie_query::text::{tokenize, TokenKind};
/// let t = tokenize("L'avion de @Air_FR est en retard #Grève https://x.example/a 😡");
/// let texts: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
/// assert_eq!(texts, ["l", "avion", "de", "@air_fr", "est", "en", "retard", "#greve",
///                    "https://x.example/a", "😡"]);
/// assert_eq!(t[3].kind, TokenKind::Handle);
/// assert_eq!(t[9].kind, TokenKind::Emoji);
/// ```
pub fn tokenize(s: &str) -> Vec<Token> {
    let mut out = Vec::new();
    tokenize_into(s, &mut out);
    out
}

/// [`tokenize`] appending to `out`.
pub fn tokenize_into(s: &str, out: &mut Vec<Token>) {
    let segments: Vec<(usize, &str)> = s.split_word_bound_indices().collect();
    let mut i = 0;
    while let Some(&(start, seg)) = segments.get(i) {
        let prev_is_space = start == 0
            || s[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_whitespace() || is_opening(c));
        let rest = &s[start..];
        // URLs: from a scheme or `www.` up to whitespace, minus trailing punctuation.
        if prev_is_space
            && let Some(scheme) = starts_url(rest)
            && url_len(rest) > scheme
        {
            // (A URL needs something after `www.` or `https://`.)
            let len = url_len(rest);
            let end = start + len;
            out.push(Token {
                text: fold(&s[start..end]),
                start,
                end,
                kind: TokenKind::Url,
            });
            i = skip_to(&segments, i, end);
            continue;
        }
        // Emoticons: only at a space boundary, followed by a space, the end or punctuation.
        if prev_is_space && let Some(len) = emoticon_len(rest) {
            let end = start + len;
            out.push(Token {
                text: fold(&s[start..end]),
                start,
                end,
                kind: TokenKind::Emoji,
            });
            i = skip_to(&segments, i, end);
            continue;
        }
        if seg == "#" || seg == "@" {
            let next = segments.get(i + 1).copied();
            // A word that folds to nothing (a lone combining mark) makes no hashtag or handle.
            if let Some((_, word)) = next.filter(|(_, w)| is_wordlike(w) && !fold(w).is_empty()) {
                if seg == "#" {
                    let end = start + 1 + word.len();
                    let mut text = String::with_capacity(word.len() + 1);
                    text.push('#');
                    fold_into(word, &mut text);
                    out.push(Token {
                        text,
                        start,
                        end,
                        kind: TokenKind::Hashtag,
                    });
                    i += 2;
                    continue;
                }
                if prev_is_space
                    || !s[..start]
                        .chars()
                        .next_back()
                        .is_some_and(char::is_alphanumeric)
                {
                    // `@user` or `@user@instance.social`.
                    let mut end = start + 1 + word.len();
                    let mut j = i + 2;
                    if let (Some((_, "@")), Some((_, host))) =
                        (segments.get(j).copied(), segments.get(j + 1).copied())
                        && is_wordlike(host)
                    {
                        end += 1 + host.len();
                        j += 2;
                    }
                    out.push(Token {
                        text: fold(&s[start..end]),
                        start,
                        end,
                        kind: TokenKind::Handle,
                    });
                    i = j;
                    continue;
                }
            }
            i += 1;
            continue;
        }
        if is_emoji_segment(seg) {
            out.push(Token {
                text: seg.to_owned(),
                start,
                end: start + seg.len(),
                kind: TokenKind::Emoji,
            });
        } else if is_wordlike(seg) {
            push_word(seg, start, out);
        }
        i += 1;
    }
}

/// Index of the first segment starting at or after byte `end`.
fn skip_to(segments: &[(usize, &str)], from: usize, end: usize) -> usize {
    let mut j = from;
    while segments.get(j).is_some_and(|(st, _)| *st < end) {
        j += 1;
    }
    j
}

fn is_opening(c: char) -> bool {
    matches!(c, '(' | '[' | '{' | '"' | '\'' | '«' | '“' | '‘' | '<')
}

fn is_wordlike(seg: &str) -> bool {
    seg.chars().next().is_some_and(char::is_alphanumeric)
}

/// The length of the URL prefix (`http://`, `https://`, `www.`) `rest` starts with, if any.
fn starts_url(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let has = |p: &[u8]| b.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    if !matches!(b.first(), Some(b'h' | b'H' | b'w' | b'W')) {
        return None;
    }
    [&b"http://"[..], b"https://", b"www."]
        .into_iter()
        .find(|p| has(p))
        .map(<[u8]>::len)
}

fn url_len(rest: &str) -> usize {
    let raw = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>' | '«' | '»'))
        .unwrap_or(rest.len());
    let mut url = &rest[..raw];
    // Trailing punctuation belongs to the sentence, except a `)` closing a `(` inside the URL.
    while let Some(c) = url.chars().next_back() {
        let strip = matches!(
            c,
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '…' | ']' | '}'
        ) || (c == ')' && url.matches('(').count() < url.matches(')').count());
        if !strip {
            break;
        }
        url = &url[..url.len() - c.len_utf8()];
    }
    url.len()
}

fn emoticon_len(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    if !matches!(
        b.first(),
        Some(b':' | b';' | b'=' | b'<' | b'^' | b'x' | b'X' | b'-')
    ) {
        return None;
    }
    EMOTICONS
        .iter()
        .filter(|e| {
            b.get(..e.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(e.as_bytes()))
        })
        .map(|e| e.len())
        .max()
        .filter(|len| {
            rest.get(*len..)
                .and_then(|r| r.chars().next())
                .is_none_or(|c| c.is_whitespace() || matches!(c, '.' | ',' | '!' | '?' | ';'))
        })
}

/// Emoji presentation: pictographs, dingbats, symbols, flags, keycaps.
fn is_emoji_char(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2300..=0x23FF | 0x2B00..=0x2BFF
        | 0x2190..=0x21FF | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0x203C | 0x2049)
}

fn is_emoji_segment(seg: &str) -> bool {
    seg.chars().next().is_some_and(is_emoji_char)
}

fn push_word(seg: &str, start: usize, out: &mut Vec<Token>) {
    let kind = if seg.chars().all(|c| c.is_numeric() || c == '.' || c == ',') {
        TokenKind::Number
    } else {
        TokenKind::Word
    };
    if kind == TokenKind::Word
        && let Some((idx, apo)) = seg.char_indices().find(|(_, c)| is_apostrophe(*c))
    {
        let prefix = &seg[..idx];
        let folded_prefix = fold(prefix);
        let after = idx + apo.len_utf8();
        if ELISIONS.contains(&folded_prefix.as_str()) && after < seg.len() {
            out.push(Token {
                text: folded_prefix,
                start,
                end: start + idx,
                kind: TokenKind::Word,
            });
            // The rest may itself start with an elision (`qu'aujourd'hui` stays whole after).
            push_word(&seg[after..], start + after, out);
            return;
        }
    }
    let text = fold(seg);
    // A lone combining mark folds to nothing: it is not a token.
    if text.is_empty() {
        return;
    }
    // The kind follows the folded text, so that a query term written with that text reads
    // back the same (`8` + a combining mark is the number `8`).
    let kind = if text.chars().all(|c| c.is_numeric() || c == '.' || c == ',') {
        TokenKind::Number
    } else {
        TokenKind::Word
    };
    out.push(Token {
        text,
        start,
        end: start + seg.len(),
        kind,
    });
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokenize(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn folds_accents_ligatures_and_apostrophes() {
        assert_eq!(fold("Hôpital"), "hopital");
        assert_eq!(fold("ŒUVRE cœur"), "oeuvre coeur");
        assert_eq!(fold("Ægis straße"), "aegis strasse");
        assert_eq!(fold("aujourd’hui"), "aujourd'hui");
        assert_eq!(fold("ÉTÉ à Noël"), "ete a noel");
        assert_eq!(fold("ﬁn"), "fin");
        assert_eq!(fold("plain ascii"), "plain ascii");
        assert_eq!(fold("n\u{b8}"), "n"); // found by fuzzing: NFKD of ¸ starts with a space
        assert_eq!(fold("a\u{a0}b"), "a b");
        assert_eq!(fold("\u{13f}2"), "l2"); // Ŀ → l, not l·
        assert_eq!(fold("\u{3d3}"), "\u{3c5}"); // ϓ → υ (NFKD gives a capital Υ)
        for s in ["\u{3d3}", "Ŀ", "İstanbul", "ﬁn ½ ㎏", "Ǆ"] {
            assert_eq!(fold(&fold(s)), fold(s), "{s}");
        }
    }

    #[test]
    fn splits_french_elisions_but_not_aujourdhui() {
        assert_eq!(texts("l'avion"), ["l", "avion"]);
        assert_eq!(texts("L’Hôpital"), ["l", "hopital"]);
        assert_eq!(
            texts("jusqu'au bout, qu'il dit"),
            ["jusqu", "au", "bout", "qu", "il", "dit"]
        );
        assert_eq!(texts("aujourd'hui j'adore"), ["aujourd'hui", "j", "adore"]);
        assert_eq!(texts("don't stop"), ["don't", "stop"]);
        assert_eq!(
            texts("c'est n'importe quoi"),
            ["c", "est", "n", "importe", "quoi"]
        );
    }

    #[test]
    fn offsets_point_into_the_original() {
        let s = "Déçu par l’avion";
        for t in tokenize(s) {
            assert_eq!(fold(&s[t.start..t.end]), t.text);
        }
        let t = tokenize(s);
        assert_eq!(&s[t[3].start..t[3].end], "avion");
    }

    #[test]
    fn hashtags_handles_urls() {
        let t = tokenize(
            "Merci @Brand et @marie@mastodon.social #SAV_Nul, voir https://ex.com/a?b=1. ok",
        );
        let kinds: Vec<TokenKind> = t.iter().map(|t| t.kind).collect();
        assert_eq!(
            texts("Merci @Brand et @marie@mastodon.social #SAV_Nul, voir https://ex.com/a?b=1. ok"),
            [
                "merci",
                "@brand",
                "et",
                "@marie@mastodon.social",
                "#sav_nul",
                "voir",
                "https://ex.com/a?b=1",
                "ok"
            ]
        );
        assert_eq!(kinds[1], TokenKind::Handle);
        assert_eq!(kinds[3], TokenKind::Handle);
        assert_eq!(kinds[4], TokenKind::Hashtag);
        assert_eq!(kinds[6], TokenKind::Url);
        assert_eq!(
            texts("(voir www.Example.org/x)"),
            ["voir", "www.example.org/x"]
        );
        assert_eq!(
            texts("https://en.wikipedia.org/wiki/A_(b) fin"),
            ["https://en.wikipedia.org/wiki/a_(b)", "fin"]
        );
    }

    #[test]
    fn emails_are_not_handles() {
        let t = tokenize("contact@brand.com");
        assert!(t.iter().all(|t| t.kind != TokenKind::Handle), "{t:?}");
    }

    #[test]
    fn numbers_emojis_emoticons() {
        let t = tokenize("3,5 millions 😡😡 👍🏽 :) top <3");
        let got: Vec<(&str, TokenKind)> = t.iter().map(|t| (t.text.as_str(), t.kind)).collect();
        assert_eq!(
            got,
            [
                ("3,5", TokenKind::Number),
                ("millions", TokenKind::Word),
                ("😡", TokenKind::Emoji),
                ("😡", TokenKind::Emoji),
                ("👍🏽", TokenKind::Emoji),
                (":)", TokenKind::Emoji),
                ("top", TokenKind::Word),
                ("<3", TokenKind::Emoji),
            ]
        );
        assert!(tokenize("a:b").iter().all(|t| t.kind != TokenKind::Emoji));
    }

    #[test]
    fn marks_that_fold_to_nothing_make_no_token() {
        // Found by fuzzing: U+0656 alone is "alphabetic" but folds to "".
        assert_eq!(texts("\u{656}'D #\u{656} @\u{656}"), ["d"]);
        assert!(tokenize("\u{656}").is_empty());
        assert_eq!(tokenize("8\u{350}")[0].kind, TokenKind::Number);
        // Also from fuzzing: a bare `www.` is a word, not a URL.
        assert_eq!(tokenize("www.")[0].kind, TokenKind::Word);
        assert_eq!(tokenize("https:// x")[0].kind, TokenKind::Word);
    }

    #[test]
    fn lone_signs_are_dropped() {
        assert_eq!(texts("# @ !! -- ..."), Vec::<String>::new());
        assert_eq!(texts(""), Vec::<String>::new());
    }
}
