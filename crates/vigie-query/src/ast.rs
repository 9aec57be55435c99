//! The query tree and its normalized, fully parenthesized rendering.

use crate::text::TokenKind;
use std::fmt;

/// One searchable unit: a folded token text and its kind (see [`crate::text::tokenize`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Term {
    /// What to look for (folded; `#` and `@` kept for hashtags and handles).
    pub text: String,
    /// The kind of token the term was read as.
    pub kind: TokenKind,
}

impl Term {
    /// Whether this term matches one document token: same text and kind, except that a bare
    /// word or number `x` also matches the hashtag `#x`.
    pub fn matches_token(&self, token_text: &str, token_kind: TokenKind) -> bool {
        match self.kind {
            TokenKind::Word | TokenKind::Number => {
                (token_kind == TokenKind::Hashtag
                    && token_text.strip_prefix('#') == Some(&self.text))
                    || (token_text == self.text && token_kind != TokenKind::Hashtag)
            }
            kind => kind == token_kind && token_text == self.text,
        }
    }
}

/// A boolean query expression. Binary nodes keep the grouping of the source, so
/// [`Expr::explain`] followed by parsing gives back the same tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    /// A single term.
    Term(Term),
    /// Consecutive terms (`"service client"`); always two terms or more.
    Phrase(Vec<Term>),
    /// Both sides match.
    And(Box<Expr>, Box<Expr>),
    /// Either side matches.
    Or(Box<Expr>, Box<Expr>),
    /// The inner expression does not match.
    Not(Box<Expr>),
}

impl Expr {
    /// The normalized, fully parenthesized form: `((a AND b) OR NOT "c d")`.
    pub fn explain(&self) -> String {
        self.to_string()
    }

    /// Walks the tree depth-first, parents before children.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Term(_) | Expr::Phrase(_) => {}
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Not(e) => e.walk(f),
        }
    }
}

fn write_term(f: &mut fmt::Formatter<'_>, t: &Term) -> fmt::Result {
    // URLs may hold parentheses, which would end a bare term: quote them.
    if t.kind == TokenKind::Url && t.text.contains(['(', ')']) {
        write!(f, "\"{}\"", t.text)
    } else {
        f.write_str(&t.text)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Term(t) => write_term(f, t),
            Expr::Phrase(terms) => {
                f.write_str("\"")?;
                for (i, t) in terms.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    f.write_str(&t.text)?;
                }
                f.write_str("\"")
            }
            Expr::And(a, b) => write!(f, "({a} AND {b})"),
            Expr::Or(a, b) => write!(f, "({a} OR {b})"),
            Expr::Not(e) => write!(f, "NOT {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(s: &str) -> Expr {
        Expr::Term(Term {
            text: s.to_owned(),
            kind: TokenKind::Word,
        })
    }

    #[test]
    fn explains_fully_parenthesized() {
        let e = Expr::Or(
            Box::new(Expr::And(Box::new(word("a")), Box::new(word("b")))),
            Box::new(Expr::Not(Box::new(Expr::Phrase(vec![
                Term {
                    text: "c".into(),
                    kind: TokenKind::Word,
                },
                Term {
                    text: "#d".into(),
                    kind: TokenKind::Hashtag,
                },
            ])))),
        );
        assert_eq!(e.explain(), "((a AND b) OR NOT \"c #d\")");
        let mut n = 0;
        e.walk(&mut |_| n += 1);
        assert_eq!(n, 6);
    }

    #[test]
    fn word_terms_match_hashtags_but_not_the_reverse() {
        let w = Term {
            text: "boycott".into(),
            kind: TokenKind::Word,
        };
        let h = Term {
            text: "#boycott".into(),
            kind: TokenKind::Hashtag,
        };
        assert!(w.matches_token("boycott", TokenKind::Word));
        assert!(w.matches_token("#boycott", TokenKind::Hashtag));
        assert!(h.matches_token("#boycott", TokenKind::Hashtag));
        assert!(!h.matches_token("boycott", TokenKind::Word));
        assert!(!w.matches_token("boycotts", TokenKind::Word));
        let at = Term {
            text: "@brand".into(),
            kind: TokenKind::Handle,
        };
        assert!(at.matches_token("@brand", TokenKind::Handle));
        assert!(!w.matches_token("@boycott", TokenKind::Handle));
    }
}
