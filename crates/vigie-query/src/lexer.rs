//! The query lexer: operators, parentheses, quoted phrases and bare terms, with their
//! character positions.

use crate::QueryError;
use crate::field::RawValue;

/// What a lexeme is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lexeme {
    /// `AND` (uppercase only).
    And,
    /// `OR` (uppercase only).
    Or,
    /// `NOT` (uppercase only).
    Not,
    /// `NEAR/n` (any order) or `NEAR/nf` (in order).
    Near {
        /// Most words between the two sides.
        distance: u32,
        /// `f`: the left side first.
        ordered: bool,
    },
    /// A `-` glued to the start of a term, a phrase or a parenthesis: `-spam`.
    Minus,
    /// `(`.
    Open,
    /// `)`.
    Close,
    /// A run of characters other than spaces, parentheses and quotes.
    Bare(String),
    /// The inside of `"…"`, and the `~n` after it.
    Quoted(String, Option<u32>),
    /// The inside of `{…}`: a case-sensitive term.
    Braced(String),
    /// `name:value`.
    Field {
        /// The field name as written.
        name: String,
        /// Its value.
        value: RawValue,
    },
}

impl Lexeme {
    /// How the lexeme is named in error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Lexeme::And => "AND".into(),
            Lexeme::Or => "OR".into(),
            Lexeme::Not => "NOT".into(),
            Lexeme::Near { .. } => "NEAR".into(),
            Lexeme::Minus => "-".into(),
            Lexeme::Open => "(".into(),
            Lexeme::Close => ")".into(),
            Lexeme::Bare(s) => format!("term {s:?}"),
            Lexeme::Quoted(s, _) => format!("phrase \"{s}\""),
            Lexeme::Braced(s) => format!("{{{s}}}"),
            Lexeme::Field { name, .. } => format!("field {name}:"),
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
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | '{')
}

/// Replaces every `<<<comment>>>` by spaces, so that positions stay those of the source.
fn blank_comments(chars: &mut [char]) -> Result<(), QueryError> {
    let mut i = 0;
    while i + 2 < chars.len() {
        if chars.get(i..i + 3) == Some(&['<', '<', '<']) {
            let start = i;
            let close = (i + 3..chars.len().saturating_sub(2))
                .find(|&j| chars.get(j..j + 3) == Some(&['>', '>', '>']));
            let Some(close) = close else {
                return Err(QueryError::new(
                    start,
                    "unterminated comment",
                    Some("close the comment with >>>"),
                ));
            };
            for c in chars.get_mut(start..close + 3).unwrap_or_default() {
                *c = ' ';
            }
            i = close + 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// Index of the closing `close` after `from`, or an error at `start`.
fn find_close(
    chars: &[char],
    from: usize,
    close: char,
    start: usize,
    what: &str,
    hint: &str,
) -> Result<usize, QueryError> {
    chars
        .get(from..)
        .unwrap_or_default()
        .iter()
        .position(|&c| c == close)
        .map(|len| from + len)
        .ok_or_else(|| QueryError::new(start, format!("unterminated {what}"), Some(hint)))
}

fn collect(chars: &[char], from: usize, to: usize) -> String {
    chars.get(from..to).unwrap_or_default().iter().collect()
}

/// `NEAR/3`, `NEAR/3f`; `None` when the word is not a NEAR at all.
fn near(word: &str, pos: usize) -> Option<Result<Lexeme, QueryError>> {
    let rest = word.strip_prefix("NEAR")?;
    let bad = || {
        QueryError::new(
            pos,
            "NEAR needs a distance",
            Some("write a NEAR/3 b (at most 3 words between, any order) or a NEAR/3f b (a first)"),
        )
    };
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    let spec = rest.strip_prefix('/').unwrap_or_default();
    let (digits, ordered) = match spec.strip_suffix(['f', 'F']) {
        Some(d) => (d, true),
        None => (spec, false),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Some(Err(bad()));
    }
    Some(match digits.parse::<u32>() {
        Ok(distance) if distance <= MAX_DISTANCE => Ok(Lexeme::Near { distance, ordered }),
        _ => Err(QueryError::new(
            pos,
            format!("NEAR distance is too large (at most {MAX_DISTANCE})"),
            None,
        )),
    })
}

/// Largest `NEAR/n` or `~n` accepted.
pub(crate) const MAX_DISTANCE: u32 = 1000;

/// Length of `name` in `name:value` at `i` (ASCII letters then `:`, not `://`), if any.
fn field_name_len(chars: &[char], i: usize) -> Option<usize> {
    let len = chars
        .get(i..)?
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let after = chars.get(i + len + 1).copied();
    (len >= 2 && chars.get(i + len) == Some(&':') && after != Some('/')).then_some(len)
}

/// Cuts a query into lexemes. Fails on unterminated quotes, braces, ranges and comments,
/// and on malformed `NEAR` and `~n`.
pub(crate) fn lex(src: &str) -> Result<Vec<Spanned>, QueryError> {
    let mut chars: Vec<char> = src.chars().collect();
    blank_comments(&mut chars)?;
    let chars = chars;
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        let lexeme = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => {
                i += 1;
                Lexeme::Open
            }
            ')' => {
                i += 1;
                Lexeme::Close
            }
            '"' => {
                let close = find_close(
                    &chars,
                    i + 1,
                    '"',
                    start,
                    "quote",
                    "close the phrase with a second \"",
                )?;
                let inner = collect(&chars, i + 1, close);
                i = close + 1;
                let slop = if chars.get(i) == Some(&'~') {
                    let digits: String = chars
                        .get(i + 1..)
                        .unwrap_or_default()
                        .iter()
                        .take_while(|c| c.is_ascii_digit())
                        .collect();
                    let n = digits.parse::<u32>().ok().filter(|n| *n <= MAX_DISTANCE).ok_or_else(|| {
                        QueryError::new(i, "proximity needs a distance", Some("write \"a b\"~3: at most 3 other words among the phrase's words"))
                    })?;
                    i += 1 + digits.chars().count();
                    Some(n)
                } else {
                    None
                };
                Lexeme::Quoted(inner, slop)
            }
            '{' => {
                let close = find_close(
                    &chars,
                    i + 1,
                    '}',
                    start,
                    "case-sensitive term",
                    "close it with }",
                )?;
                let inner = collect(&chars, i + 1, close);
                i = close + 1;
                Lexeme::Braced(inner)
            }
            '-' if chars
                .get(i + 1)
                .is_some_and(|n| !n.is_whitespace() && *n != ')' && *n != '-') =>
            {
                i += 1;
                Lexeme::Minus
            }
            _ => {
                if let Some(len) = field_name_len(&chars, i) {
                    let name = collect(&chars, i, i + len);
                    i += len + 1;
                    let value = match chars.get(i) {
                        Some('"') => {
                            let close = find_close(
                                &chars,
                                i + 1,
                                '"',
                                i,
                                "quote",
                                "close the value with a second \"",
                            )?;
                            let v = collect(&chars, i + 1, close);
                            i = close + 1;
                            RawValue::Quoted(v)
                        }
                        Some('[') => {
                            let close = find_close(
                                &chars,
                                i + 1,
                                ']',
                                i,
                                "range",
                                "write followers:[1000 TO 50000]",
                            )?;
                            let v = collect(&chars, i + 1, close);
                            i = close + 1;
                            RawValue::Range(v)
                        }
                        _ => {
                            let from = i;
                            while chars.get(i).is_some_and(|c| !ends_bare(*c)) {
                                i += 1;
                            }
                            RawValue::Bare(collect(&chars, from, i))
                        }
                    };
                    Lexeme::Field { name, value }
                } else {
                    while chars.get(i).is_some_and(|c| !ends_bare(*c)) {
                        i += 1;
                    }
                    let word = collect(&chars, start, i);
                    match word.as_str() {
                        "AND" => Lexeme::And,
                        "OR" => Lexeme::Or,
                        "NOT" => Lexeme::Not,
                        _ => match near(&word, start) {
                            Some(near) => near?,
                            None => Lexeme::Bare(word),
                        },
                    }
                }
            }
        };
        out.push(Spanned { lexeme, pos: start });
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
                (Lexeme::Quoted("b c".into(), None), 6),
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

    #[test]
    fn lexes_near_fields_braces_comments() {
        assert_eq!(
            lexemes("a NEAR/3 b NEAR/10f c"),
            [
                (Lexeme::Bare("a".into()), 0),
                (
                    Lexeme::Near {
                        distance: 3,
                        ordered: false
                    },
                    2
                ),
                (Lexeme::Bare("b".into()), 9),
                (
                    Lexeme::Near {
                        distance: 10,
                        ordered: true
                    },
                    11
                ),
                (Lexeme::Bare("c".into()), 20),
            ]
        );
        assert_eq!(
            lex("a NEAR b").unwrap_err().to_string(),
            "NEAR needs a distance at 2"
        );
        assert_eq!(
            lex("a NEAR/x b").unwrap_err().to_string(),
            "NEAR needs a distance at 2"
        );
        assert_eq!(lexemes("NEARBY")[0].0, Lexeme::Bare("NEARBY".into()));
        assert_eq!(
            lexemes("\"a b\"~4 {Air France} title:\"x y\" followers:[1 TO 2] url:https://x.fr/a"),
            [
                (Lexeme::Quoted("a b".into(), Some(4)), 0),
                (Lexeme::Braced("Air France".into()), 8),
                (
                    Lexeme::Field {
                        name: "title".into(),
                        value: RawValue::Quoted("x y".into())
                    },
                    21
                ),
                (
                    Lexeme::Field {
                        name: "followers".into(),
                        value: RawValue::Range("1 TO 2".into())
                    },
                    33
                ),
                (
                    Lexeme::Field {
                        name: "url".into(),
                        value: RawValue::Bare("https://x.fr/a".into())
                    },
                    52
                ),
            ]
        );
        assert_eq!(
            lexemes("https://x.fr")[0].0,
            Lexeme::Bare("https://x.fr".into())
        );
        assert_eq!(
            lexemes("a <<<note (x>>> b"),
            [
                (Lexeme::Bare("a".into()), 0),
                (Lexeme::Bare("b".into()), 16)
            ]
        );
        assert_eq!(
            lex("a <<<oops").unwrap_err().to_string(),
            "unterminated comment at 2"
        );
        assert_eq!(
            lex("{Air").unwrap_err().to_string(),
            "unterminated case-sensitive term at 0"
        );
        assert_eq!(
            lex("\"a b\"~").unwrap_err().to_string(),
            "proximity needs a distance at 5"
        );
        assert_eq!(
            lex("a NEAR/5000 b").unwrap_err().message,
            "NEAR distance is too large (at most 1000)"
        );
    }
}
