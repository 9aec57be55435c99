//! Field filters (`author:`, `lang:`, `site:`, `followers:>N`…): parsing their values,
//! rendering them back, and testing them against a document's metadata.

use crate::QueryError;
use crate::ast::{Term, Wildcard};
use crate::eval::Meta;
use crate::text::fold;
use std::fmt;

/// The field names the language knows, in the order the hints list them.
pub const FIELD_NAMES: [&str; 11] = [
    "author",
    "lang",
    "site",
    "url",
    "links",
    "title",
    "country",
    "followers",
    "verified",
    "is",
    "raw",
];

/// A comparison on a count (`followers:>1000`, `followers:[10 TO 500]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compare {
    /// `>n`.
    Gt(u64),
    /// `>=n`.
    Ge(u64),
    /// `<n`.
    Lt(u64),
    /// `<=n`.
    Le(u64),
    /// `n`.
    Eq(u64),
    /// `[a TO b]`, both ends included.
    Range(u64, u64),
}

impl Compare {
    /// Whether `v` satisfies the comparison.
    pub fn holds(self, v: u64) -> bool {
        match self {
            Compare::Gt(n) => v > n,
            Compare::Ge(n) => v >= n,
            Compare::Lt(n) => v < n,
            Compare::Le(n) => v <= n,
            Compare::Eq(n) => v == n,
            Compare::Range(a, b) => a <= v && v <= b,
        }
    }
}

impl fmt::Display for Compare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Compare::Gt(n) => write!(f, ">{n}"),
            Compare::Ge(n) => write!(f, ">={n}"),
            Compare::Lt(n) => write!(f, "<{n}"),
            Compare::Le(n) => write!(f, "<={n}"),
            Compare::Eq(n) => write!(f, "{n}"),
            Compare::Range(a, b) => write!(f, "[{a} TO {b}]"),
        }
    }
}

/// What kind of post `is:` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PostKind {
    /// `is:reply`: the mention replies to another post.
    Reply,
    /// `is:repost`: the mention is a repost (boost, retweet).
    Repost,
    /// `is:quote`: the mention quotes another post.
    Quote,
}

/// A filter on one field of the mention.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// `author:handle`: the author's handle (folded, without `@`; `*` and `?` allowed).
    Author(Wildcard),
    /// `lang:fr`: the language of the mention (declared or detected).
    Lang(String),
    /// `site:example.com`: the domain of the mention's URL or of one of its links, or a
    /// subdomain of it.
    Site(String),
    /// `url:text`: the mention's URL contains the text (case-insensitive).
    Url(String),
    /// `links:text`: one of the links in the mention contains the text (case-insensitive).
    Links(String),
    /// `title:word` or `title:"a phrase"`: in the title only.
    Title(Vec<Term>),
    /// `country:fr`: ISO 3166-1 alpha-2 code of the author or publication.
    Country(String),
    /// `followers:>1000`: the author's follower count (unknown counts never match).
    Followers(Compare),
    /// `verified:true` / `verified:false`.
    Verified(bool),
    /// `is:reply`, `is:repost`, `is:quote`.
    Is(PostKind),
}

/// A raw field value as the lexer read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawValue {
    /// Up to the next space or parenthesis.
    Bare(String),
    /// Between quotes.
    Quoted(String),
    /// Between `[` and `]`.
    Range(String),
}

impl RawValue {
    fn text(&self) -> &str {
        match self {
            RawValue::Bare(s) | RawValue::Quoted(s) | RawValue::Range(s) => s,
        }
    }
}

/// Edit distance, for "did you mean" hints (short strings only).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// The error for a field name the language does not know, with the closest known name.
pub(crate) fn unknown_field(name: &str, pos: usize) -> QueryError {
    let list = FIELD_NAMES.join(", ");
    let closest = FIELD_NAMES
        .iter()
        .map(|f| (distance(&name.to_ascii_lowercase(), f), *f))
        .min()
        .filter(|(d, _)| *d <= 2);
    let hint = match closest {
        Some((_, f)) => {
            format!("did you mean {f}? known fields: {list}; quote the term to search it as text")
        }
        None => format!("known fields: {list}; quote the term to search it as text"),
    };
    QueryError::new(pos, format!("unknown field {name:?}"), Some(&hint))
}

fn number(s: &str, pos: usize, field: &str) -> Result<u64, QueryError> {
    let digits: String = s.chars().filter(|c| *c != '_').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(QueryError::new(
            pos,
            format!("{field} needs a number"),
            Some("write followers:>1000, followers:<=500 or followers:[1000 TO 50000]"),
        ));
    }
    digits
        .parse()
        .map_err(|_| QueryError::new(pos, format!("{field} number is too large"), None))
}

fn compare(value: &RawValue, pos: usize) -> Result<Compare, QueryError> {
    let s = value.text().trim();
    if let RawValue::Range(inner) = value {
        let parts: Vec<&str> = inner.split_whitespace().collect();
        let [a, to, b] = parts.as_slice() else {
            return Err(QueryError::new(
                pos,
                "followers range needs two numbers",
                Some("write followers:[1000 TO 50000]"),
            ));
        };
        if *to != "TO" {
            return Err(QueryError::new(
                pos,
                "followers range needs TO between the numbers",
                Some("write followers:[1000 TO 50000]"),
            ));
        }
        let (a, b) = (number(a, pos, "followers")?, number(b, pos, "followers")?);
        if a > b {
            return Err(QueryError::new(
                pos,
                "followers range is empty",
                Some("put the smaller number first"),
            ));
        }
        return Ok(Compare::Range(a, b));
    }
    let (ctor, rest): (fn(u64) -> Compare, &str) = if let Some(r) = s.strip_prefix(">=") {
        (Compare::Ge, r)
    } else if let Some(r) = s.strip_prefix("<=") {
        (Compare::Le, r)
    } else if let Some(r) = s.strip_prefix('>') {
        (Compare::Gt, r)
    } else if let Some(r) = s.strip_prefix('<') {
        (Compare::Lt, r)
    } else {
        (Compare::Eq, s)
    };
    Ok(ctor(number(rest, pos, "followers")?))
}

/// `lemonde.fr` from `https://www.LeMonde.fr/a/b`: lowercase host without `www.`.
pub(crate) fn host_of(url: &str) -> Option<String> {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower.split_once("://").map_or(lower.as_str(), |(_, r)| r);
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .split(':')
        .next()
        .unwrap_or_default();
    let host = host
        .strip_prefix("www.")
        .unwrap_or(host)
        .trim_end_matches('.');
    (!host.is_empty()).then(|| host.to_owned())
}

/// Builds the filter for `name:value`. `pos` is where the field name starts.
pub(crate) fn build(name: &str, value: &RawValue, pos: usize) -> Result<Field, QueryError> {
    let text = value.text().trim();
    let needs =
        |what: &str, hint: &str| QueryError::new(pos, format!("{name} needs {what}"), Some(hint));
    if text.is_empty() {
        return Err(QueryError::new(
            pos,
            format!("{name} needs a value"),
            Some("write the value right after the colon, e.g. author:brand"),
        ));
    }
    if matches!(value, RawValue::Range(_)) && name != "followers" {
        return Err(needs("a single value", "ranges [a TO b] are for followers"));
    }
    match name {
        "author" => {
            let h = fold(text.trim_start_matches('@'));
            if h.is_empty() || h.chars().any(char::is_whitespace) {
                return Err(needs("a handle", "write author:brand or author:@brand"));
            }
            Ok(Field::Author(Wildcard::new(h)))
        }
        "lang" | "country" => {
            let code = text.to_ascii_lowercase();
            let ok_len = if name == "lang" { 2..=3 } else { 2..=2 };
            if !ok_len.contains(&code.len()) || !code.chars().all(|c| c.is_ascii_lowercase()) {
                return Err(if name == "lang" {
                    needs("a language code", "write lang:fr or lang:en (ISO 639-1)")
                } else {
                    needs(
                        "a country code",
                        "write country:fr or country:us (ISO 3166-1 alpha-2)",
                    )
                });
            }
            Ok(if name == "lang" {
                Field::Lang(code)
            } else {
                Field::Country(code)
            })
        }
        "site" => {
            let host = host_of(text)
                .filter(|h| {
                    h.chars()
                        .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
                })
                .ok_or_else(|| needs("a domain", "write site:lemonde.fr"))?;
            Ok(Field::Site(fold(&host)))
        }
        "url" => Ok(Field::Url(fold(text))),
        "links" => Ok(Field::Links(fold(text))),
        "title" => {
            let terms: Vec<Term> = crate::parser::query_terms(text);
            if terms.is_empty() {
                return Err(needs(
                    "a word or a \"phrase\"",
                    "write title:greve or title:\"service client\"",
                ));
            }
            Ok(Field::Title(terms))
        }
        "followers" => Ok(Field::Followers(compare(value, pos)?)),
        "verified" => match text.to_ascii_lowercase().as_str() {
            "true" => Ok(Field::Verified(true)),
            "false" => Ok(Field::Verified(false)),
            _ => Err(needs(
                "true or false",
                "write verified:true or verified:false",
            )),
        },
        "is" => match text.to_ascii_lowercase().as_str() {
            "reply" => Ok(Field::Is(PostKind::Reply)),
            "repost" | "retweet" => Ok(Field::Is(PostKind::Repost)),
            "quote" => Ok(Field::Is(PostKind::Quote)),
            _ => Err(needs(
                "reply, repost or quote",
                "write is:reply, is:repost or is:quote",
            )),
        },
        _ => Err(unknown_field(name, pos)),
    }
}

impl Field {
    /// Whether the metadata satisfies the filter (`Title` is evaluated on tokens, by the
    /// caller, and is `false` here).
    pub(crate) fn holds(&self, meta: &Meta) -> bool {
        match self {
            Field::Author(p) => meta.author.as_deref().is_some_and(|a| p.matches(a)),
            Field::Lang(l) => meta.lang.as_deref() == Some(l.as_str()),
            Field::Country(c) => meta.country.as_deref() == Some(c.as_str()),
            Field::Site(s) => meta
                .sites
                .iter()
                .any(|h| h == s || h.strip_suffix(s.as_str()).is_some_and(|p| p.ends_with('.'))),
            Field::Url(u) => meta.url.as_deref().is_some_and(|m| m.contains(u.as_str())),
            Field::Links(u) => meta.links.iter().any(|l| l.contains(u.as_str())),
            Field::Followers(c) => meta.followers.is_some_and(|f| c.holds(f)),
            Field::Verified(v) => meta.verified == *v,
            Field::Is(PostKind::Reply) => meta.reply,
            Field::Is(PostKind::Repost) => meta.repost,
            Field::Is(PostKind::Quote) => meta.quote,
            Field::Title(_) => false,
        }
    }

    /// Whether the value may be unknown for some mentions (then `NOT field:x` also keeps
    /// the mentions where it is unknown).
    pub fn may_be_unknown(&self) -> bool {
        matches!(
            self,
            Field::Author(_)
                | Field::Lang(_)
                | Field::Country(_)
                | Field::Followers(_)
                | Field::Url(_)
                | Field::Site(_)
        )
    }
}

/// Writes a value, quoted when it holds characters that would end a bare value.
fn write_value(f: &mut fmt::Formatter<'_>, v: &str) -> fmt::Result {
    if v.is_empty()
        || v.contains(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '"' | '[' | '{'))
    {
        write!(f, "\"{v}\"")
    } else {
        f.write_str(v)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Author(p) => write!(f, "author:{}", p.pattern),
            Field::Lang(l) => write!(f, "lang:{l}"),
            Field::Country(c) => write!(f, "country:{c}"),
            Field::Site(s) => write!(f, "site:{s}"),
            Field::Url(u) => {
                f.write_str("url:")?;
                write_value(f, u)
            }
            Field::Links(u) => {
                f.write_str("links:")?;
                write_value(f, u)
            }
            Field::Title(terms) => {
                let words: Vec<&str> = terms.iter().map(|t| t.text.as_str()).collect();
                if words.len() == 1 {
                    f.write_str("title:")?;
                    write_value(f, &words.join(" "))
                } else {
                    write!(f, "title:\"{}\"", words.join(" "))
                }
            }
            Field::Followers(c) => write!(f, "followers:{c}"),
            Field::Verified(v) => write!(f, "verified:{v}"),
            Field::Is(PostKind::Reply) => f.write_str("is:reply"),
            Field::Is(PostKind::Repost) => f.write_str("is:repost"),
            Field::Is(PostKind::Quote) => f.write_str("is:quote"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(name: &str, v: &str) -> Result<Field, QueryError> {
        build(name, &RawValue::Bare(v.into()), 0)
    }

    #[test]
    fn parses_and_renders_values() {
        assert_eq!(b("author", "@Marie").unwrap().to_string(), "author:marie");
        assert_eq!(b("lang", "FR").unwrap(), Field::Lang("fr".into()));
        assert_eq!(
            b("site", "https://www.LeMonde.fr/x").unwrap(),
            Field::Site("lemonde.fr".into())
        );
        assert_eq!(
            b("followers", ">=1_000").unwrap(),
            Field::Followers(Compare::Ge(1000))
        );
        assert_eq!(b("followers", "<5").unwrap().to_string(), "followers:<5");
        let r = build("followers", &RawValue::Range("10 TO 20".into()), 0).unwrap();
        assert_eq!(r.to_string(), "followers:[10 TO 20]");
        assert_eq!(b("verified", "TRUE").unwrap(), Field::Verified(true));
        assert_eq!(b("is", "repost").unwrap().to_string(), "is:repost");
        let t = build("title", &RawValue::Quoted("Grève SNCF".into()), 0).unwrap();
        assert_eq!(t.to_string(), "title:\"greve sncf\"");
    }

    #[test]
    fn value_errors_have_hints() {
        let e = b("followers", ">lots").unwrap_err();
        assert_eq!(e.to_string(), "followers needs a number at 0");
        assert!(e.hint.is_some());
        assert_eq!(
            b("lang", "french").unwrap_err().message,
            "lang needs a language code"
        );
        assert_eq!(
            b("verified", "yes").unwrap_err().message,
            "verified needs true or false"
        );
        assert_eq!(
            b("is", "post").unwrap_err().message,
            "is needs reply, repost or quote"
        );
        let r = build("followers", &RawValue::Range("20 TO 10".into()), 3).unwrap_err();
        assert_eq!(r.to_string(), "followers range is empty at 3");
        let u = unknown_field("autor", 0);
        assert_eq!(u.to_string(), "unknown field \"autor\" at 0");
        assert!(
            u.hint
                .as_deref()
                .is_some_and(|h| h.starts_with("did you mean author?"))
        );
        assert!(b("author", "").is_err());
    }

    #[test]
    fn site_matches_domain_and_subdomains_only() {
        let meta = Meta {
            sites: vec!["news.lemonde.fr".into()],
            ..Meta::default()
        };
        assert!(Field::Site("lemonde.fr".into()).holds(&meta));
        assert!(Field::Site("news.lemonde.fr".into()).holds(&meta));
        assert!(!Field::Site("monde.fr".into()).holds(&meta));
        assert_eq!(
            host_of("http://user@Example.COM:8080/a"),
            Some("example.com".into())
        );
        assert_eq!(host_of("www.x.org"), Some("x.org".into()));
    }

    #[test]
    fn unknown_counts_never_compare() {
        let meta = Meta::default();
        assert!(!Field::Followers(Compare::Lt(10)).holds(&meta));
        let known = Meta {
            followers: Some(10),
            ..Meta::default()
        };
        assert!(Field::Followers(Compare::Range(10, 10)).holds(&known));
        assert!(!Field::Followers(Compare::Gt(10)).holds(&known));
    }
}
