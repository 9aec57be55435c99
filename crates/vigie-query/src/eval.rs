//! Evaluation: a [`Document`] is tokenized and indexed once, then any number of queries are
//! evaluated against it.

use crate::ast::{Expr, Term};
use crate::text::{Token, tokenize_into};

/// A text prepared for matching: its folded tokens and an index from token text to position.
///
/// Build it once per mention and evaluate every watch's query on it.
///
/// ```
/// use vigie_query::{parse, Document};
/// let doc = Document::new("Encore un RETARD à l'hôpital #Grève");
/// assert!(parse("retard AND hopital").unwrap().matches(&doc));
/// assert!(parse("greve").unwrap().matches(&doc));      // a word also matches the hashtag
/// assert!(!parse("#retard").unwrap().matches(&doc));   // a hashtag only matches hashtags
/// ```
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// Title tokens (offsets into the title) then text tokens (offsets into the text).
    tokens: Vec<Token>,
    /// Index of the first text token.
    text_start: usize,
    /// `(hash of a lookup key, token index)`, sorted. Hashtags are indexed under `#tag` and `tag`.
    index: Vec<(u64, u32)>,
}

impl Document {
    /// A document made of one text.
    pub fn new(text: &str) -> Self {
        Self::with_title(None, text)
    }

    /// A document made of an optional title and a text; phrases do not span the two.
    pub fn with_title(title: Option<&str>, text: &str) -> Self {
        let mut tokens = Vec::new();
        if let Some(title) = title {
            tokenize_into(title, &mut tokens);
        }
        let text_start = tokens.len();
        tokenize_into(text, &mut tokens);
        let mut index = Vec::with_capacity(tokens.len() + 4);
        for (i, t) in tokens.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            index.push((key_hash(&t.text), i));
            if let Some(body) = t.text.strip_prefix('#') {
                index.push((key_hash(body), i));
            }
        }
        index.sort_unstable();
        Self {
            tokens,
            text_start,
            index,
        }
    }

    /// All tokens: the title's (offsets into the title), then the text's (offsets into the text).
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// The title's tokens (byte offsets into the title).
    pub fn title_tokens(&self) -> &[Token] {
        self.tokens.get(..self.text_start).unwrap_or_default()
    }

    /// The text's tokens (byte offsets into the text).
    pub fn text_tokens(&self) -> &[Token] {
        self.tokens.get(self.text_start..).unwrap_or_default()
    }

    /// Whether the expression matches this document.
    pub fn matches_expr(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Term(t) => self.positions(t).next().is_some(),
            Expr::Phrase(terms) => self.matches_phrase(terms),
            Expr::And(a, b) => self.matches_expr(a) && self.matches_expr(b),
            Expr::Or(a, b) => self.matches_expr(a) || self.matches_expr(b),
            Expr::Not(e) => !self.matches_expr(e),
        }
    }

    /// Token indexes where `term` matches.
    fn positions<'a>(&'a self, term: &'a Term) -> impl Iterator<Item = usize> + 'a {
        let h = key_hash(&term.text);
        let from = self.index.partition_point(|(k, _)| *k < h);
        self.index
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(move |(k, _)| *k == h)
            .map(|(_, i)| *i as usize)
            .filter(move |i| {
                self.tokens
                    .get(*i)
                    .is_some_and(|t| term.matches_token(&t.text, t.kind))
            })
    }

    fn matches_phrase(&self, terms: &[Term]) -> bool {
        let Some((first, rest)) = terms.split_first() else {
            return false;
        };
        self.positions(first).any(|start| {
            let limit = if start < self.text_start {
                self.text_start
            } else {
                self.tokens.len()
            };
            rest.iter().enumerate().all(|(k, term)| {
                let i = start + 1 + k;
                i < limit
                    && self
                        .tokens
                        .get(i)
                        .is_some_and(|t| term.matches_token(&t.text, t.kind))
            })
        })
    }
}

/// FNV-1a: tiny, fast on short keys, deterministic.
fn key_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn m(q: &str, text: &str) -> bool {
        parse(q).unwrap().matches(&Document::new(text))
    }

    #[test]
    fn whole_tokens_case_and_accent_insensitive() {
        assert!(m("hopital", "À L'HÔPITAL"));
        assert!(m("Hôpital", "hopital"));
        assert!(m("avion", "l'avion est en retard"));
        assert!(!m("avion", "les avions"));
        assert!(!m("avion", "avionique"));
    }

    #[test]
    fn phrases_are_consecutive_tokens() {
        assert!(m("\"service client\"", "Le SERVICE-client est nul"));
        assert!(m("\"service client\"", "le service client"));
        assert!(!m("\"service client\"", "le service du client"));
        assert!(!m("\"service client\"", "client service"));
        assert!(m("l'avion", "dans l’avion"));
        assert!(m("\"annule mon vol\"", "Air truc annule mon vol #honte"));
    }

    #[test]
    fn hashtags_and_handles() {
        assert!(m("#boycott", "je dis #Boycott"));
        assert!(!m("#boycott", "je dis boycott"));
        assert!(m("boycott", "je dis #BOYCOTT"));
        assert!(m("@brand", "merci @Brand"));
        assert!(!m("@brand", "merci brand"));
        assert!(!m("brand", "merci @brand"));
        assert!(m("\"#boycott brand\"", "#boycott brand now"));
        assert!(m("@marie@mastodon.social", "cc @Marie@mastodon.social"));
    }

    #[test]
    fn boolean_operators() {
        let q = parse("(retard OR annulation) AND NOT \"bon voyage\"").unwrap();
        assert!(q.matches(&Document::new("encore un retard")));
        assert!(q.matches(&Document::new("annulation du vol")));
        assert!(!q.matches(&Document::new("retard mais bon voyage")));
        assert!(!q.matches(&Document::new("tout va bien")));
    }

    #[test]
    fn title_and_text_are_searched_but_phrases_do_not_span_them() {
        let doc = Document::with_title(Some("Grève chez Brand"), "service client absent");
        assert!(parse("greve AND absent").unwrap().matches(&doc));
        assert!(!parse("\"brand service\"").unwrap().matches(&doc));
        assert_eq!(doc.title_tokens().len(), 3);
        assert_eq!(doc.text_tokens().len(), 3);
        assert_eq!(doc.text_tokens()[0].start, 0);
        assert_eq!(doc.tokens().len(), 6);
    }

    #[test]
    fn repeated_tokens_and_empty_documents() {
        assert!(m("\"a b\"", "a a a b"));
        assert!(!m("x", ""));
        assert!(Document::new("").tokens().is_empty());
    }
}
