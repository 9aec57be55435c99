//! The query lexer: operators, parentheses, quoted phrases and bare terms, with their
//! character positions.

use crate::QueryError;

/// What a lexeme is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lexeme {
    /// `AND` (uppercase only).
    And,
    /// `OR` (uppercase only).
    Or,
    /// `NOT` (uppercase only).
    Not,
    /// A `-` glued to the start of a term, a phrase or a parenthesis: `-spam`.
    Minus,
    /// `(`.
    Open,
    /// `)`.
    Close,
    /// A run of characters other than spaces, parentheses and quotes.
    Bare(String),
    /// The inside of `"…"`.
    Quoted(String),
}

impl Lexeme {
    /// How the lexeme is named in error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Lexeme::And => "AND".into(),
            Lexeme::Or => "OR".into(),
            Lexeme::Not => "NOT".into(),
            Lexeme::Minus => "-".into(),
            Lexeme::Open => "(".into(),
            Lexeme::Close => ")".into(),
            Lexeme::Bare(s) => format!("term {s:?}"),
            Lexeme::Quoted(s) => format!("phrase \"{s}\""),
        }
    }
}

/// A lexeme and where it starts, in characters from the start of the query (0-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spanned {
    /// The lexeme.
    pub lexeme: Lexeme,
    /// Character offset of its first character.
    pub pos: usize,
}

fn ends_bare(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"')
}

/// Cuts a query into lexemes. Fails only on an unterminated quote.
pub(crate) fn lex(src: &str) -> Result<Vec<Spanned>, QueryError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Spanned {
                    lexeme: Lexeme::Open,
                    pos: i,
                });
                i += 1;
            }
            ')' => {
                out.push(Spanned {
                    lexeme: Lexeme::Close,
                    pos: i,
                });
                i += 1;
            }
            '"' => {
                let start = i;
                let Some(len) = chars[i + 1..].iter().position(|&c| c == '"') else {
                    return Err(QueryError::new(
                        start,
                        "unterminated quote",
                        Some("close the phrase with a second \""),
                    ));
                };
                let inner: String = chars[i + 1..i + 1 + len].iter().collect();
                out.push(Spanned {
                    lexeme: Lexeme::Quoted(inner),
                    pos: start,
                });
                i += len + 2;
            }
            '-' if chars
                .get(i + 1)
                .is_some_and(|n| !n.is_whitespace() && *n != ')' && *n != '-') =>
            {
                out.push(Spanned {
                    lexeme: Lexeme::Minus,
                    pos: i,
                });
                i += 1;
            }
            _ => {
                let start = i;
                while chars.get(i).is_some_and(|c| !ends_bare(*c)) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let lexeme = match word.as_str() {
                    "AND" => Lexeme::And,
                    "OR" => Lexeme::Or,
                    "NOT" => Lexeme::Not,
                    _ => Lexeme::Bare(word),
                };
                out.push(Spanned { lexeme, pos: start });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexemes(s: &str) -> Vec<(Lexeme, usize)> {
        lex(s)
            .unwrap()
            .into_iter()
            .map(|s| (s.lexeme, s.pos))
            .collect()
    }

    #[test]
    fn lexes_operators_terms_phrases() {
        assert_eq!(
            lexemes("(a OR \"b c\") AND NOT -d and"),
            [
                (Lexeme::Open, 0),
                (Lexeme::Bare("a".into()), 1),
                (Lexeme::Or, 3),
                (Lexeme::Quoted("b c".into()), 6),
                (Lexeme::Close, 11),
                (Lexeme::And, 13),
                (Lexeme::Not, 17),
                (Lexeme::Minus, 21),
                (Lexeme::Bare("d".into()), 22),
                (Lexeme::Bare("and".into()), 24),
            ]
        );
    }

    #[test]
    fn positions_are_characters_not_bytes() {
        assert_eq!(lexemes("été OR x")[2], (Lexeme::Bare("x".into()), 7));
    }

    #[test]
    fn inner_dashes_stay_in_terms() {
        assert_eq!(lexemes("e-mail"), [(Lexeme::Bare("e-mail".into()), 0)]);
        assert_eq!(lexemes("- x")[0], (Lexeme::Bare("-".into()), 0));
    }

    #[test]
    fn unterminated_quote_points_at_the_quote() {
        let e = lex("a AND \"b c").unwrap_err();
        assert_eq!(e.position, 6);
        assert_eq!(e.to_string(), "unterminated quote at 6");
    }
}
