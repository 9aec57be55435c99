//! Lint warnings: queries that parse but probably do not say what their author meant.

use crate::ast::Expr;
use crate::text::TokenKind;
use crate::{Field, Query};
use std::fmt;

/// Words so common in French or English posts that a query on one of them alone matches
/// almost everything.
const STOP_WORDS: [&str; 48] = [
    "a", "au", "aux", "c", "ce", "d", "dans", "de", "des", "du", "en", "est", "et", "il", "j",
    "je", "l", "la", "le", "les", "ne", "pas", "pour", "qu", "que", "qui", "sur", "un", "une",
    "an", "and", "are", "be", "for", "i", "in", "is", "it", "of", "on", "or", "the", "this", "to",
    "was", "with", "you", "not",
];

/// Lowercase words that look like operators.
const OPERATOR_WORDS: [&str; 4] = ["and", "or", "not", "near"];

/// One warning about a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    /// What looks wrong, in lowercase.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning: {} (hint: {})", self.message, self.hint)
    }
}

fn push(out: &mut Vec<Lint>, message: String, hint: &str) {
    if !out.iter().any(|l| l.message == message) {
        out.push(Lint {
            message,
            hint: hint.to_owned(),
        });
    }
}

/// Walks the tree, knowing whether each node is under a `NOT`.
fn visit(e: &Expr, negated: bool, out: &mut Vec<Lint>) {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => {
            visit(a, negated, out);
            visit(b, negated, out);
        }
        Expr::Near { left, right, .. } => {
            visit(left, negated, out);
            visit(right, negated, out);
        }
        Expr::Not(inner) => {
            if let Expr::Field(f) = inner.as_ref()
                && f.may_be_unknown()
            {
                push(
                    out,
                    format!("NOT {f} also keeps mentions where this field is unknown"),
                    "add the positive form too if you mean only known values, e.g. lang:en instead of NOT lang:fr",
                );
            }
            visit(inner, !negated, out);
        }
        Expr::Term(t) if t.kind == TokenKind::Word => {
            if OPERATOR_WORDS.contains(&t.text.as_str()) {
                push(
                    out,
                    format!("lowercase {:?} is searched as a word", t.text),
                    "operators are uppercase: AND, OR, NOT, NEAR/n",
                );
            } else if !negated && STOP_WORDS.contains(&t.text.as_str()) {
                push(
                    out,
                    format!(
                        "{:?} is a very common word and matches almost every post",
                        t.text
                    ),
                    "put it in a \"phrase\" with the words around it, or remove it",
                );
            }
        }
        Expr::Wildcard(w) => {
            let prefix = w.literal_prefix().trim_start_matches(['#', '@']);
            if prefix.chars().count() < 3 && !negated {
                push(
                    out,
                    format!(
                        "wildcard {:?} has fewer than 3 characters before * or ? and matches too many words",
                        w.pattern
                    ),
                    "write at least 3 letters before the wildcard, e.g. grev*",
                );
            }
        }
        _ => {}
    }
}

/// Whether the query contains something searched in the text (not only fields).
fn has_text_part(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |n| {
        found |= matches!(
            n,
            Expr::Term(_)
                | Expr::Phrase(_)
                | Expr::Proximity { .. }
                | Expr::Wildcard(_)
                | Expr::Exact(_)
                | Expr::Field(Field::Title(_))
        );
    });
    found
}

/// The warnings for `q`, in query order, without repeats.
pub(crate) fn lint(q: &Query) -> Vec<Lint> {
    let mut out = Vec::new();
    visit(q.expr(), false, &mut out);
    if !has_text_part(q.expr()) {
        push(
            &mut out,
            "the query has no word to look for and matches every mention with these fields".into(),
            "add the words, #hashtags or @handles the watch is about",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::parse;

    fn lints(q: &str) -> Vec<String> {
        parse(q)
            .unwrap()
            .lint()
            .into_iter()
            .map(|l| l.message)
            .collect()
    }

    #[test]
    fn warns_about_likely_mistakes() {
        assert!(lints("brand AND (retard OR \"service client\")").is_empty());
        assert_eq!(
            lints("brand OR le"),
            ["\"le\" is a very common word and matches almost every post"]
        );
        assert!(lints("brand -le").is_empty());
        assert_eq!(
            lints("brand and retard"),
            ["lowercase \"and\" is searched as a word"]
        );
        assert_eq!(
            lints("gr* OR brand*"),
            [
                "wildcard \"gr*\" has fewer than 3 characters before * or ? and matches too many words"
            ]
        );
        assert_eq!(
            lints("brand NOT lang:fr"),
            ["NOT lang:fr also keeps mentions where this field is unknown"]
        );
        assert!(lints("brand NOT is:repost").is_empty());
        assert_eq!(
            lints("author:brand"),
            ["the query has no word to look for and matches every mention with these fields"]
        );
        let l = parse("brand OR the").unwrap().lint();
        assert!(
            l[0].to_string()
                .starts_with("warning: \"the\" is a very common word")
        );
    }
}
