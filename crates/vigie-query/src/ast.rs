//! The query tree and its normalized, fully parenthesized rendering.

use crate::field::Field;
use crate::text::TokenKind;
use std::fmt;

/// A folded pattern with `*` (any run of characters, possibly empty) and `?` (exactly one
/// character): `grev*`, `b?te`, `#boycott*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Wildcard {
    /// The folded pattern.
    pub pattern: String,
}

impl Wildcard {
    /// A pattern (already folded).
    pub fn new(pattern: String) -> Self {
        Self { pattern }
    }

    /// Characters before the first wildcard (`gr` for `gr*ve`).
    pub fn literal_prefix(&self) -> &str {
        let end = self.pattern.find(['*', '?']).unwrap_or(self.pattern.len());
        self.pattern.get(..end).unwrap_or_default()
    }

    /// Whether the whole of `s` matches the pattern (linear-time glob with one backtrack
    /// point, as shells do).
    pub fn matches(&self, s: &str) -> bool {
        if !s.starts_with(self.literal_prefix()) {
            return false;
        }
        let p: Vec<char> = self.pattern.chars().collect();
        let t: Vec<char> = s.chars().collect();
        let (mut pi, mut ti) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            match p.get(pi) {
                Some('*') => {
                    star = Some((pi, ti));
                    pi += 1;
                }
                Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                    pi += 1;
                    ti += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        pi = sp + 1;
                        ti = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        p.get(pi..).unwrap_or_default().iter().all(|c| *c == '*')
    }

    /// Whether this pattern matches one document token, with the same kind rules as
    /// [`Term::matches_token`]: a pattern without `#`/`@` matches words, numbers and the
    /// body of hashtags; `#…` matches hashtags; `@…` matches handles.
    pub fn matches_token(&self, token_text: &str, token_kind: TokenKind) -> bool {
        if self.pattern.starts_with('#') {
            token_kind == TokenKind::Hashtag && self.matches(token_text)
        } else if self.pattern.starts_with('@') {
            token_kind == TokenKind::Handle && self.matches(token_text)
        } else {
            match token_kind {
                TokenKind::Word | TokenKind::Number => self.matches(token_text),
                TokenKind::Hashtag => token_text
                    .strip_prefix('#')
                    .is_some_and(|b| self.matches(b)),
                _ => false,
            }
        }
    }
}

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
    /// `"a b c"~n`: all the terms, in any order, with at most `n` other words among them.
    Proximity {
        /// The terms (two or more).
        terms: Vec<Term>,
        /// How many other words may stand among them.
        slop: u32,
    },
    /// `a NEAR/n b` (any order) or `a NEAR/nf b` (`a` first): at most `n` words between an
    /// occurrence of each side. Both sides are positional: terms, phrases, wildcards,
    /// case-sensitive terms, OR groups of those, or other NEARs.
    Near {
        /// The left side.
        left: Box<Expr>,
        /// The right side.
        right: Box<Expr>,
        /// The most words allowed between the two.
        distance: u32,
        /// Whether `left` must come before `right`.
        ordered: bool,
    },
    /// `term*`, `te?m`: a pattern on folded tokens.
    Wildcard(Wildcard),
    /// `{Term}` or `raw:Term`: consecutive tokens whose original (unfolded) text is exactly
    /// this; several strings for a case-sensitive phrase.
    Exact(Vec<String>),
    /// A field filter (`author:`, `lang:`, `followers:>N`…).
    Field(Field),
}

impl Expr {
    /// The normalized, fully parenthesized form: `((a AND b) OR NOT "c d")`.
    pub fn explain(&self) -> String {
        self.to_string()
    }

    /// Whether the expression is positional (usable on a side of `NEAR`): terms, phrases,
    /// wildcards, case-sensitive terms, and `OR`s or `NEAR`s of those.
    pub fn is_positional(&self) -> bool {
        match self {
            Expr::Term(_)
            | Expr::Phrase(_)
            | Expr::Proximity { .. }
            | Expr::Wildcard(_)
            | Expr::Exact(_) => true,
            Expr::Or(a, b)
            | Expr::Near {
                left: a, right: b, ..
            } => a.is_positional() && b.is_positional(),
            Expr::And(..) | Expr::Not(_) | Expr::Field(_) => false,
        }
    }

    /// The value of the expression when no term, pattern or field matches: `true` means the
    /// query has no positive part (it would match a post that says nothing it looks for).
    pub fn matches_nothing_present(&self) -> bool {
        match self {
            Expr::And(a, b) => a.matches_nothing_present() && b.matches_nothing_present(),
            Expr::Or(a, b) => a.matches_nothing_present() || b.matches_nothing_present(),
            Expr::Not(e) => !e.matches_nothing_present(),
            _ => false,
        }
    }

    /// Walks the tree depth-first, parents before children.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Term(_)
            | Expr::Phrase(_)
            | Expr::Proximity { .. }
            | Expr::Wildcard(_)
            | Expr::Exact(_)
            | Expr::Field(_) => {}
            Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Near {
                left: a, right: b, ..
            } => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Not(e) => e.walk(f),
        }
    }
}

fn write_term(f: &mut fmt::Formatter<'_>, t: &Term) -> fmt::Result {
    // Characters that the lexer reads as syntax (parentheses ending a term, `:` making a
    // field, wildcards, braces, a leading `-`): quote the term.
    if t.text
        .contains(['(', ')', ':', '*', '?', '{', '}', '[', '~'])
        || t.text.starts_with('-')
        || t.text.starts_with("<<<")
    {
        write!(f, "\"{}\"", t.text)
    } else {
        f.write_str(&t.text)
    }
}

/// Writes a left-nested chain of one operator flat (`a AND b AND c` for
/// `((a AND b) AND c)`), which parses back to the same tree and keeps the normalized form of
/// a long query from nesting deeper than the parser accepts.
fn write_chain(f: &mut fmt::Formatter<'_>, e: &Expr) -> fmt::Result {
    let (a, b, op) = match e {
        Expr::And(a, b) => (a, b, "AND"),
        Expr::Or(a, b) => (a, b, "OR"),
        other => return write!(f, "{other}"),
    };
    if std::mem::discriminant(a.as_ref()) == std::mem::discriminant(e) {
        write_chain(f, a)?;
    } else {
        write!(f, "{a}")?;
    }
    write!(f, " {op} {b}")
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
            Expr::And(..) | Expr::Or(..) => {
                f.write_str("(")?;
                write_chain(f, self)?;
                f.write_str(")")
            }
            Expr::Not(e) => write!(f, "NOT {e}"),
            Expr::Proximity { terms, slop } => {
                let words: Vec<&str> = terms.iter().map(|t| t.text.as_str()).collect();
                write!(f, "\"{}\"~{slop}", words.join(" "))
            }
            Expr::Near {
                left,
                right,
                distance,
                ordered,
            } => {
                let f_ = if *ordered { "f" } else { "" };
                write!(f, "({left} NEAR/{distance}{f_} {right})")
            }
            Expr::Wildcard(w) => f.write_str(&w.pattern),
            Expr::Exact(words) => write!(f, "{{{}}}", words.join(" ")),
            Expr::Field(field) => write!(f, "{field}"),
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
    fn wildcards_glob_on_whole_tokens() {
        let w = Wildcard::new("grev*".into());
        assert!(w.matches("greve") && w.matches("grev") && w.matches("greviste"));
        assert!(!w.matches("agreve"));
        let q = Wildcard::new("b?te".into());
        assert!(q.matches("bete") && q.matches("bote") && !q.matches("bte"));
        let m = Wildcard::new("*a*b?".into());
        assert!(m.matches("xxaxxbc") && !m.matches("xxaxxb"));
        assert!(w.matches_token("#greve", TokenKind::Hashtag));
        assert!(!Wildcard::new("#grev*".into()).matches_token("greve", TokenKind::Word));
        assert!(Wildcard::new("@bra*".into()).matches_token("@brand", TokenKind::Handle));
        assert_eq!(Wildcard::new("gr?v*".into()).literal_prefix(), "gr");
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
