//! Text folding and tokenizing, and the Brandwatch-compatible query language used by watches.
//!
//! Four parts, used by the config validator (to reject bad queries with a position and a
//! hint), by enrichment (to tell which watches a mention belongs to) and by `vigie query`:
//!
//! - [`text`]: [`text::fold`] (lowercase, accents removed, ligatures expanded) and
//!   [`text::tokenize`] (words with French elisions split, `#hashtags`, `@handles`, URLs,
//!   numbers, emojis), shared by queries and documents so that both sides agree.
//! - [`parse`]: a lexer and a recursive-descent parser from query text to a [`Query`]
//!   (an [`Expr`] tree). Operators: `AND`, `OR`, `NOT` (also `AND NOT` and a leading `-`),
//!   parentheses, `"exact phrases"`, `a NEAR/n b` and ordered `a NEAR/nf b`, `"a b"~n`,
//!   wildcards `term*` and `te?m`, case-sensitive `{Term}` / `raw:Term`, fields
//!   (`author:`, `lang:`, `site:`, `url:`, `links:`, `title:`, `country:`, `followers:>N`,
//!   `verified:`, `is:reply|repost|quote`, see [`Field`]) and `<<<comments>>>`. Precedence
//!   is `NEAR` > `NOT` > `AND` > `OR`; two terms side by side are joined by an implicit
//!   `AND`. Errors ([`QueryError`]) carry a position in characters and a hint;
//!   [`Query::lint`] warns about valid but suspicious queries. The user reference is
//!   `docs/query-language.md`.
//! - [`Document`] and [`Query::matches`]: a mention is tokenized and indexed once
//!   ([`Document::from_mention`], or [`Document::new`] for a bare text), then every query is
//!   evaluated on it. Matching is on whole folded tokens (`avion` does not match `avions`;
//!   `avion*` does); `#x` matches only the hashtag `#x`, while the bare word `x` matches
//!   the word `x` and the hashtag `#x`; `@x` matches only the handle `@x`.
//!   [`Query::explain_match`] says which parts matched.
//! - [`QuerySet`]: many queries compiled into one index from anchor terms to queries, so
//!   that matching a mention costs a lookup per token plus the exact evaluation of the few
//!   candidate queries, whatever the number of watches.
//!
//! ```
//! use vigie_query::{parse, Document, QuerySet};
//!
//! let q = parse("(Brand OR @brand) AND (retard OR \"service client\") AND NOT concours").unwrap();
//! assert_eq!(q.explain(), "((brand OR @brand) AND (retard OR \"service client\") AND NOT concours)");
//!
//! let doc = Document::new("Encore un retard chez BRAND, merci le Service Client 😡 #boycott");
//! assert!(q.matches(&doc));
//! assert_eq!(q.explain_match(&doc).unwrap(), ["brand", "retard", "\"service client\""]);
//! assert!(!q.matches(&Document::new("Gagnez un vélo avec Brand : concours, retard accepté")));
//!
//! let near = parse("(vol OR avion) NEAR/3 annul* -is:repost <<<flights>>>").unwrap();
//! assert!(near.matches(&Document::new("Mon vol a été annulé")));
//!
//! let set = QuerySet::new(vec![q, near]);
//! assert_eq!(set.matches(&Document::new("avion annulé, retard chez brand")), [0, 1]);
//!
//! let err = parse("(retard OR vol").unwrap_err();
//! assert_eq!(err.to_string(), "unbalanced parenthesis at 0");
//! let err = parse("autor:marie").unwrap_err();
//! assert_eq!(err.to_string(), "unknown field \"autor\" at 0");
//! assert!(err.hint.unwrap().starts_with("did you mean author?"));
//! ```

pub mod ast;
pub mod eval;
pub mod field;
mod lexer;
pub mod lint;
pub mod parser;
pub mod set;
pub mod text;

pub use ast::{Expr, Term, Wildcard};
pub use eval::Document;
pub use field::{Compare, Field, PostKind};
pub use lint::Lint;
pub use parser::parse;
pub use set::QuerySet;
pub use text::{Token, TokenKind};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A query that cannot be parsed, with the position of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {position}")]
pub struct QueryError {
    /// Where the problem is, in characters from the start of the query (0-based).
    pub position: usize,
    /// What is wrong, in lowercase (`unbalanced parenthesis`).
    pub message: String,
    /// How to fix it, when there is an obvious way.
    pub hint: Option<String>,
}

impl QueryError {
    pub(crate) fn new(position: usize, message: impl Into<String>, hint: Option<&str>) -> Self {
        Self {
            position,
            message: message.into(),
            hint: hint.map(str::to_owned),
        }
    }
}

/// A parsed boolean query: its source text and its expression tree.
///
/// Two queries are equal when their trees are equal, whatever their spelling:
/// `parse("a  and b")` equals `parse("(a AND and) AND b")`. It serializes as its source text
/// and deserializes by parsing.
#[derive(Debug, Clone)]
pub struct Query {
    source: String,
    expr: Expr,
}

impl Query {
    /// Whether the query matches the document.
    pub fn matches(&self, doc: &Document) -> bool {
        doc.matches_expr(&self.expr)
    }

    /// The normalized, fully parenthesized form, e.g. `((a AND b) OR NOT c)`. Parsing it gives
    /// back an equal query.
    pub fn explain(&self) -> String {
        self.expr.explain()
    }

    /// Why the query matches the document: the positive parts found (terms, phrases,
    /// patterns, NEARs, fields, in their normalized form, without repeats); `None` when it
    /// does not match.
    ///
    /// ```
    /// let q = vigie_query::parse("(retard OR annulé) AND NOT concours").unwrap();
    /// let doc = vigie_query::Document::new("Vol annulé, encore");
    /// assert_eq!(q.explain_match(&doc), Some(vec!["annule".to_owned()]));
    /// ```
    pub fn explain_match(&self, doc: &Document) -> Option<Vec<String>> {
        eval::explain_match(&self.expr, doc)
    }

    /// Warnings about parts of the query that are valid but probably not what was meant
    /// (see [`Lint`]).
    pub fn lint(&self) -> Vec<Lint> {
        lint::lint(self)
    }

    /// The text the query was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The expression tree.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Every term the query mentions (in phrases too), in order, with repeats.
    pub fn terms(&self) -> Vec<&Term> {
        let mut out = Vec::new();
        self.expr.walk(&mut |e| match e {
            Expr::Term(t) => out.push(t),
            Expr::Phrase(ts) => out.extend(ts.iter()),
            _ => {}
        });
        out
    }
}

impl PartialEq for Query {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr
    }
}

impl Eq for Query {}

impl fmt::Display for Query {
    /// The normalized form (as [`Query::explain`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.expr, f)
    }
}

impl std::str::FromStr for Query {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<Self, QueryError> {
        parse(s)
    }
}

impl Serialize for Query {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Query {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_ignores_spelling() {
        let a = parse("A  b").unwrap();
        let b = parse("(a AND b)").unwrap();
        assert_eq!(a, b);
        assert_ne!(a.source(), b.source());
        assert_eq!(a.to_string(), "(a AND b)");
        assert_ne!(a, parse("b a").unwrap());
    }

    #[test]
    fn lists_terms() {
        let q = parse("#x OR (\"y z\" AND NOT @w)").unwrap();
        let t: Vec<&str> = q.terms().iter().map(|t| t.text.as_str()).collect();
        assert_eq!(t, ["#x", "y", "z", "@w"]);
    }

    #[test]
    fn from_str_and_error_fields() {
        let e = "a AND".parse::<Query>().unwrap_err();
        assert_eq!(
            (e.position, e.message.as_str()),
            (5, "expected a term after AND")
        );
        assert!(e.hint.is_some());
    }
}
