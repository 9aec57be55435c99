//! Recursive-descent parser: lexemes → [`Expr`], with errors that point at a position.
//!
//! ```text
//! query    := or_expr
//! or_expr  := and_expr ( "OR" and_expr )*
//! and_expr := unary ( "AND"? unary )*          -- adjacency is an implicit AND
//! unary    := "NOT" unary | "-" near | near
//! near     := primary ( NEAR/n[f] primary )*   -- both sides positional
//! primary  := TERM | WILDCARD | "PHRASE" | "PHRASE"~n | {Exact} | field:value
//!           | "(" or_expr ")"
//! ```

use crate::ast::{Expr, Term, Wildcard};
use crate::field::{self, RawValue};
use crate::lexer::{Lexeme, Spanned, lex};
use crate::text::{fold, tokenize};
use crate::{Query, QueryError};

/// Deepest nesting of parentheses and `NOT`s accepted (keeps the stack bounded).
const MAX_DEPTH: usize = 64;

/// Parses a boolean query.
///
/// ```
/// let q = vigie_query::parse("(avion OR vol) AND NOT \"bon voyage\"").unwrap();
/// assert_eq!(q.explain(), "((avion OR vol) AND NOT \"bon voyage\")");
/// let e = vigie_query::parse("retard AND").unwrap_err();
/// assert_eq!(e.to_string(), "expected a term after AND at 10");
/// ```
pub fn parse(src: &str) -> Result<Query, QueryError> {
    let lexemes = lex(src)?;
    if lexemes.is_empty() {
        return Err(QueryError::new(
            0,
            "empty query",
            Some("write at least one term, e.g. `brand` or `\"service client\"`"),
        ));
    }
    let mut p = Parser {
        lexemes: &lexemes,
        i: 0,
        end: src.chars().count(),
    };
    let expr = p.or_expr(0)?;
    if let Some(extra) = p.peek() {
        return Err(match extra.lexeme {
            Lexeme::Close => QueryError::new(
                extra.pos,
                "unbalanced parenthesis",
                Some("this `)` closes nothing; remove it or add a `(` before"),
            ),
            _ => QueryError::new(
                extra.pos,
                format!("unexpected {}", extra.lexeme.describe()),
                None,
            ),
        });
    }
    if expr.matches_nothing_present() {
        let pos = lexemes
            .iter()
            .find(|l| matches!(l.lexeme, Lexeme::Not | Lexeme::Minus))
            .map_or(0, |l| l.pos);
        return Err(QueryError::new(
            pos,
            "query has no positive part",
            Some(
                "a query must say what to look for: write `brand AND NOT spam`, not `NOT spam` alone",
            ),
        ));
    }
    Ok(Query {
        source: src.to_owned(),
        expr,
    })
}

struct Parser<'a> {
    lexemes: &'a [Spanned],
    i: usize,
    /// Length of the query in characters (the position of "the end").
    end: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Spanned> {
        self.lexemes.get(self.i)
    }

    fn peek_pos(&self) -> usize {
        self.peek().map_or(self.end, |l| l.pos)
    }

    fn bump(&mut self) {
        self.i += 1;
    }

    fn or_expr(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut left = self.and_expr(depth)?;
        while self.peek().is_some_and(|l| l.lexeme == Lexeme::Or) {
            self.bump();
            let right = self.and_expr_after(depth, Some("OR"))?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self, depth: usize) -> Result<Expr, QueryError> {
        self.and_expr_after(depth, None)
    }

    fn and_expr_after(&mut self, depth: usize, after: Option<&str>) -> Result<Expr, QueryError> {
        let mut left = self.unary(depth, after)?;
        loop {
            let after = match self.peek().map(|l| &l.lexeme) {
                Some(Lexeme::And) => {
                    self.bump();
                    Some("AND")
                }
                Some(
                    Lexeme::Bare(_)
                    | Lexeme::Quoted(..)
                    | Lexeme::Braced(_)
                    | Lexeme::Field { .. }
                    | Lexeme::Open
                    | Lexeme::Not
                    | Lexeme::Minus,
                ) => None,
                _ => break,
            };
            let right = self.unary(depth, after)?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize, after: Option<&str>) -> Result<Expr, QueryError> {
        self.check_depth(depth)?;
        match self.peek().map(|l| &l.lexeme) {
            Some(Lexeme::Not) => {
                self.bump();
                let inner = self.unary(depth + 1, Some("NOT"))?;
                Ok(Expr::Not(Box::new(inner)))
            }
            Some(Lexeme::Minus) => {
                self.bump();
                let inner = self.near(depth + 1, Some("-"))?;
                Ok(Expr::Not(Box::new(inner)))
            }
            _ => self.near(depth, after),
        }
    }

    fn near(&mut self, depth: usize, after: Option<&str>) -> Result<Expr, QueryError> {
        let left_pos = self.peek_pos();
        let mut left = self.primary(depth, after)?;
        while let Some(&Spanned {
            lexeme: Lexeme::Near { distance, ordered },
            pos,
        }) = self.peek()
        {
            self.bump();
            let right_pos = self.peek_pos();
            let right = self.primary(depth, Some("NEAR"))?;
            for (side, at) in [(&left, left_pos), (&right, right_pos)] {
                if !side.is_positional() {
                    return Err(QueryError::new(
                        at,
                        "NEAR works on terms, phrases and OR groups",
                        Some(&format!(
                            "each side of the NEAR at {pos} must be a term, a \"phrase\", a wildcard or an (a OR b) group; no AND, NOT or field inside"
                        )),
                    ));
                }
            }
            left = Expr::Near {
                left: Box::new(left),
                right: Box::new(right),
                distance,
                ordered,
            };
        }
        Ok(left)
    }

    fn primary(&mut self, depth: usize, after: Option<&str>) -> Result<Expr, QueryError> {
        self.check_depth(depth)?;
        let Some(current) = self.peek().cloned() else {
            return Err(expected_term(self.end, after, None));
        };
        match current.lexeme {
            Lexeme::Bare(text) => {
                self.bump();
                if is_wildcard(&text) {
                    wildcard_expr(&text, current.pos)
                } else {
                    terms_expr(&text, current.pos, false)
                }
            }
            Lexeme::Quoted(text, None) => {
                self.bump();
                terms_expr(&text, current.pos, true)
            }
            Lexeme::Quoted(text, Some(slop)) => {
                self.bump();
                match terms_expr(&text, current.pos, true)? {
                    Expr::Phrase(terms) => Ok(Expr::Proximity { terms, slop }),
                    _ => Err(QueryError::new(
                        current.pos,
                        "proximity needs two words or more",
                        Some("write \"a b\"~3; a single word needs no ~"),
                    )),
                }
            }
            Lexeme::Braced(text) => {
                self.bump();
                exact_expr(&text, current.pos)
            }
            Lexeme::Field { name, value } => {
                self.bump();
                if name == "raw" {
                    if matches!(value, RawValue::Range(_)) {
                        return Err(QueryError::new(
                            current.pos,
                            "raw needs a term",
                            Some("write raw:Term or raw:\"Air France\""),
                        ));
                    }
                    let (RawValue::Bare(v) | RawValue::Quoted(v) | RawValue::Range(v)) = value;
                    return exact_expr(&v, current.pos);
                }
                field::build(&name, &value, current.pos).map(Expr::Field)
            }
            Lexeme::Open => {
                self.bump();
                if self.peek().is_some_and(|l| l.lexeme == Lexeme::Close) {
                    return Err(QueryError::new(
                        current.pos,
                        "empty parentheses",
                        Some("put terms inside the parentheses or remove them"),
                    ));
                }
                let inner = self.or_expr(depth + 1)?;
                if self.peek().is_some_and(|l| l.lexeme == Lexeme::Close) {
                    self.bump();
                    Ok(inner)
                } else if let Some(l) = self.peek().filter(|l| l.lexeme != Lexeme::Close) {
                    Err(QueryError::new(
                        l.pos,
                        format!("unexpected {}", l.lexeme.describe()),
                        None,
                    ))
                } else {
                    Err(QueryError::new(
                        current.pos,
                        "unbalanced parenthesis",
                        Some("this `(` is never closed; add a `)`"),
                    ))
                }
            }
            other => Err(expected_term(current.pos, after, Some(&other))),
        }
    }

    fn check_depth(&self, depth: usize) -> Result<(), QueryError> {
        if depth > MAX_DEPTH {
            Err(QueryError::new(
                self.peek_pos(),
                format!("query nested too deeply (more than {MAX_DEPTH} levels)"),
                None,
            ))
        } else {
            Ok(())
        }
    }
}

fn expected_term(pos: usize, after: Option<&str>, found: Option<&Lexeme>) -> QueryError {
    match (after, found) {
        (Some(op), _) => QueryError::new(
            pos,
            format!("expected a term after {op}"),
            Some("an operator needs a term, a \"phrase\" or a (group) on each side"),
        ),
        (None, Some(Lexeme::Close)) => QueryError::new(
            pos,
            "unbalanced parenthesis",
            Some("this `)` closes nothing; remove it or add a `(` before"),
        ),
        (None, Some(op)) => QueryError::new(
            pos,
            format!("expected a term before {}", op.describe()),
            Some("an operator needs a term, a \"phrase\" or a (group) on each side"),
        ),
        (None, None) => QueryError::new(pos, "expected a term", None),
    }
}

/// A bare word holding `*` or `?` (URLs keep their `?`).
fn is_wildcard(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    text.contains(['*', '?'])
        && !lower.starts_with("http://")
        && !lower.starts_with("https://")
        && !lower.starts_with("www.")
}

/// `grev*`, `#boycott*`, `b?te`: one folded token pattern.
fn wildcard_expr(text: &str, pos: usize) -> Result<Expr, QueryError> {
    let pattern = fold(text);
    let body = pattern.strip_prefix(['#', '@']).unwrap_or(&pattern);
    let literal: String = body.chars().filter(|c| !matches!(c, '*' | '?')).collect();
    if !literal.chars().any(char::is_alphanumeric) {
        return Err(QueryError::new(
            pos,
            "wildcard needs at least one letter",
            Some("write grev* or b?te; a lone * would match every word"),
        ));
    }
    if !literal
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '\'' | '.' | '-'))
    {
        return Err(QueryError::new(
            pos,
            format!("wildcard {text:?} spans several words"),
            Some("a wildcard matches one word: write grev* or \"air france\""),
        ));
    }
    if body
        .chars()
        .next()
        .is_some_and(|c| !c.is_alphanumeric() && c != '*' && c != '?')
    {
        return Err(QueryError::new(
            pos,
            format!("wildcard {text:?} must start with a letter, a digit, * or ?"),
            Some("write grev* or b?te"),
        ));
    }
    Ok(Expr::Wildcard(Wildcard::new(pattern)))
}

/// `{Air France}`: the original token texts, case and accents kept.
fn exact_expr(text: &str, pos: usize) -> Result<Expr, QueryError> {
    let words: Vec<String> = tokenize(text)
        .into_iter()
        .filter_map(|t| text.get(t.start..t.end).map(str::to_owned))
        .collect();
    if words.is_empty() {
        return Err(QueryError::new(
            pos,
            "empty case-sensitive term",
            Some("write {Orange} or raw:Orange to match this exact spelling"),
        ));
    }
    Ok(Expr::Exact(words))
}

/// The terms of a query word or phrase. Each token's kind is the one its folded text has on
/// its own (`!www.x` holds the word `www.x`, which alone reads as a URL), so that the
/// normalized form, where terms stand alone, parses back to the same terms.
/// A token whose folded text would tokenize differently on its own is replaced by the
/// tokens of its folded text.
pub(crate) fn query_terms(text: &str) -> Vec<Term> {
    let mut out = Vec::new();
    for t in tokenize(text) {
        match tokenize(&t.text).as_slice() {
            [alone] if alone.text == t.text => out.push(Term {
                text: t.text,
                kind: alone.kind,
            }),
            [] => {}
            several => out.extend(several.iter().map(|a| Term {
                text: a.text.clone(),
                kind: a.kind,
            })),
        }
    }
    out
}

/// A bare term or a phrase: tokenized like documents; one token is a term, several a phrase.
fn terms_expr(text: &str, pos: usize, quoted: bool) -> Result<Expr, QueryError> {
    let mut terms = query_terms(text);
    match terms.len() {
        0 if quoted => Err(QueryError::new(
            pos,
            "empty phrase",
            Some("put words between the quotes or remove them"),
        )),
        0 => Err(QueryError::new(
            pos,
            format!("term {text:?} has no searchable text"),
            Some("terms are words, numbers, #hashtags, @handles, URLs or emojis"),
        )),
        1 => Ok(Expr::Term(terms.remove(0))),
        _ => Ok(Expr::Phrase(terms)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        parse(s).unwrap_err().to_string()
    }

    fn explain(s: &str) -> String {
        parse(s).unwrap().explain()
    }

    #[test]
    fn precedence_not_and_or() {
        assert_eq!(explain("a OR b AND c"), "(a OR (b AND c))");
        assert_eq!(explain("a AND b OR c"), "((a AND b) OR c)");
        assert_eq!(explain("a AND NOT b OR c"), "((a AND NOT b) OR c)");
        assert_eq!(explain("NOT b AND a"), "(NOT b AND a)");
        assert_eq!(explain("a AND (b OR c)"), "(a AND (b OR c))");
        assert_eq!(explain("a OR b OR c"), "(a OR b OR c)");
    }

    #[test]
    fn adjacency_is_and_and_minus_is_not() {
        assert_eq!(explain("a b"), "(a AND b)");
        assert_eq!(explain("a -b -(c OR d)"), "(a AND NOT b AND NOT (c OR d))");
        assert_eq!(explain("a and b"), "(a AND and AND b)");
    }

    #[test]
    fn terms_are_folded_and_split_like_documents() {
        assert_eq!(explain("Hôpital"), "hopital");
        assert_eq!(explain("l'Avion"), "\"l avion\"");
        assert_eq!(
            explain("\"Service   Client\" OR #SAV OR @Brand"),
            "(\"service client\" OR #sav OR @brand)"
        );
        assert_eq!(explain("\"avion\""), "avion");
        assert_eq!(explain("aujourd'hui"), "aujourd'hui");
    }

    #[test]
    fn errors_point_at_the_position() {
        assert_eq!(err(""), "empty query at 0");
        assert_eq!(err("   "), "empty query at 0");
        assert_eq!(err("(avion OR vol"), "unbalanced parenthesis at 0");
        assert_eq!(err("avion OR vol)"), "unbalanced parenthesis at 12");
        assert_eq!(err("(avion OR vol) AND (x"), "unbalanced parenthesis at 19");
        assert_eq!(err("avion AND"), "expected a term after AND at 9");
        assert_eq!(err("avion AND OR vol"), "expected a term after AND at 10");
        assert_eq!(err("avion OR )"), "expected a term after OR at 9");
        assert_eq!(err("OR vol"), "expected a term before OR at 0");
        assert_eq!(err("a AND \"b"), "unterminated quote at 6");
        assert_eq!(err("a AND \"\""), "empty phrase at 6");
        assert_eq!(err("a ()"), "empty parentheses at 2");
        assert_eq!(err("a AND !!"), "term \"!!\" has no searchable text at 6");
        assert_eq!(err("été AND"), "expected a term after AND at 7");
        assert_eq!(err("avion NEAR retard"), "NEAR needs a distance at 6");
        assert_eq!(err("((a OR b) AND c"), "unbalanced parenthesis at 0");
        assert_eq!(err("a AND (b OR c))"), "unbalanced parenthesis at 14");
        assert_eq!(err("autor:marie"), "unknown field \"autor\" at 0");
        assert_eq!(
            err("brand followers:>many"),
            "followers needs a number at 6"
        );
        assert_eq!(err("a <<<x"), "unterminated comment at 2");
        assert_eq!(err("a {}"), "empty case-sensitive term at 2");
        assert_eq!(err("a AND *"), "wildcard needs at least one letter at 6");
        // Found by fuzzing: `΅` folds to nothing, leaving `-?`.
        assert_eq!(
            err("a \u{385}-?"),
            "wildcard needs at least one letter at 2"
        );
        assert_eq!(
            err("a _b*"),
            "wildcard \"_b*\" must start with a letter, a digit, * or ? at 2"
        );
        assert_eq!(
            err("a AND b NEAR/2 lang:fr"),
            "NEAR works on terms, phrases and OR groups at 15"
        );
        assert_eq!(
            err("(a AND b) NEAR/2 c"),
            "NEAR works on terms, phrases and OR groups at 0"
        );
        assert_eq!(err("a NEAR/2"), "expected a term after NEAR at 8");
        assert_eq!(err("\"a\"~2"), "proximity needs two words or more at 0");
    }

    #[test]
    fn brandwatch_syntax_round_trips() {
        for (q, want) in [
            ("avion NEAR/3 retard", "(avion NEAR/3 retard)"),
            (
                "(avion OR vol) NEAR/5f (retard OR annule)",
                "((avion OR vol) NEAR/5f (retard OR annule))",
            ),
            ("\"vol annulé\"~2", "\"vol annule\"~2"),
            ("Grèv*", "grev*"),
            ("b?te", "b?te"),
            (
                "{Orange} OR raw:\"Air France\"",
                "({Orange} OR {Air France})",
            ),
            (
                "brand author:@Marie lang:FR",
                "(brand AND author:marie AND lang:fr)",
            ),
            (
                "brand site:www.lemonde.fr -is:repost",
                "(brand AND site:lemonde.fr AND NOT is:repost)",
            ),
            (
                "brand followers:[10 TO 500] verified:true",
                "(brand AND followers:[10 TO 500] AND verified:true)",
            ),
            (
                "title:\"Grève SNCF\" <<<the strike>>> OR url:blog",
                "(title:\"greve sncf\" OR url:blog)",
            ),
            ("NOT a NEAR/2 b c", "(NOT (a NEAR/2 b) AND c)"),
            ("\"note:bien\"", "\"note:bien\""),
        ] {
            let parsed = parse(q).unwrap();
            assert_eq!(parsed.explain(), want, "{q}");
            assert_eq!(parse(&parsed.explain()).unwrap(), parsed, "{q}");
        }
        assert!(parse("verified:false").is_ok());
        assert!(parse("NOT verified:true").is_err());
        assert!(parse("https://x.fr/a?b=1").is_ok_and(|q| !matches!(q.expr(), Expr::Wildcard(_))));
    }

    #[test]
    fn queries_need_a_positive_part() {
        let e = parse("NOT spam").unwrap_err();
        assert_eq!(e.to_string(), "query has no positive part at 0");
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("AND NOT")));
        assert!(parse("-spam").is_err());
        assert!(parse("a OR NOT b").is_err());
        // NOT (a OR NOT b) is b AND NOT a: it has a positive part.
        assert!(parse("NOT (a OR NOT b)").is_ok());
        assert!(parse("NOT NOT a").is_ok());
        assert!(parse("a AND NOT b").is_ok());
        assert!(parse("NOT b a").is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}a{}", "(".repeat(500), ")".repeat(500));
        assert!(
            parse(&deep)
                .unwrap_err()
                .message
                .contains("nested too deeply")
        );
        let nots = format!("{}a", "NOT ".repeat(500));
        assert!(parse(&nots).is_err());
        // Found by fuzzing: a long chain is not deep; its normalized form stays flat.
        let long = vec!["x"; 200].join(" ");
        let q = parse(&long).unwrap();
        assert_eq!(parse(&q.explain()).unwrap(), q);
        let ok = format!("{}a{}", "(".repeat(20), ")".repeat(20));
        assert_eq!(parse(&ok).unwrap().explain(), "a");
    }
}
