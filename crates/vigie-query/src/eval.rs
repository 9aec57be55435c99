//! Evaluation: a [`Document`] is tokenized and indexed once, then any number of queries are
//! evaluated against it.

use crate::ast::{Expr, Term, Wildcard};
use crate::field::{Field, host_of};
use crate::text::{Token, TokenKind, fold, tokenize_into};

/// What the field filters look at: the mention's metadata, normalized once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// Author handle, folded, without `@`.
    pub author: Option<String>,
    /// Language code (lowercase).
    pub lang: Option<String>,
    /// Country code (lowercase).
    pub country: Option<String>,
    /// The mention's URL, folded.
    pub url: Option<String>,
    /// Links found in the title and text, folded.
    pub links: Vec<String>,
    /// Hosts (lowercase, without `www.`) of the URL and of the links.
    pub sites: Vec<String>,
    /// Author's followers, when known.
    pub followers: Option<u64>,
    /// Verified author.
    pub verified: bool,
    /// The mention replies to a post.
    pub reply: bool,
    /// The mention is a repost.
    pub repost: bool,
    /// The mention quotes a post.
    pub quote: bool,
}

/// A text prepared for matching: its folded tokens, an index from token text to position,
/// the original title and text (for case-sensitive terms) and the metadata fields use.
///
/// Build it once per mention and evaluate every watch's query on it.
///
/// ```
/// use vigie_query::{parse, Document};
/// let doc = Document::new("Encore un RETARD à l'hôpital #Grève");
/// assert!(parse("retard AND hopital").unwrap().matches(&doc));
/// assert!(parse("greve").unwrap().matches(&doc));      // a word also matches the hashtag
/// assert!(!parse("#retard").unwrap().matches(&doc));   // a hashtag only matches hashtags
/// assert!(parse("{RETARD} NEAR/2 hop*").unwrap().matches(&doc));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// Title tokens (offsets into the title) then text tokens (offsets into the text).
    tokens: Vec<Token>,
    /// Index of the first text token.
    text_start: usize,
    /// `(hash of a lookup key, token index)`, sorted. Hashtags are indexed under `#tag` and `tag`.
    index: Vec<(u64, u32)>,
    /// The original title (empty when none).
    title: String,
    /// The original text.
    text: String,
    /// Metadata for field filters.
    meta: Meta,
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
        let mut meta = Meta::default();
        for t in &tokens {
            if t.kind == TokenKind::Url {
                meta.links.push(t.text.clone());
                meta.sites.extend(host_of(&t.text));
            }
        }
        Self {
            tokens,
            text_start,
            index,
            title: title.unwrap_or_default().to_owned(),
            text: text.to_owned(),
            meta,
        }
    }

    /// A document for a mention: its title and text, plus what the fields look at (author,
    /// URL and links, country, followers, verified, reply / repost / quote) and `lang`, the
    /// language found for it (declared or detected; see [`Document::set_lang`]).
    pub fn from_mention(m: &vigie_model::Mention, lang: Option<&str>) -> Self {
        let mut doc = Self::with_title(m.title.as_deref(), &m.text);
        let meta = &mut doc.meta;
        let handle = m.author.handle.trim();
        meta.author = Some(fold(handle.strip_prefix('@').unwrap_or(handle)));
        meta.country = m.country.as_deref().map(|c| c.trim().to_ascii_lowercase());
        if let Some(url) = &m.url {
            meta.url = Some(fold(url));
            if let Some(host) = host_of(url) {
                meta.sites.insert(0, host);
            }
        }
        meta.followers = m.author.followers;
        meta.verified = m.author.verified;
        meta.reply = m.reply_to.is_some();
        meta.repost = m.repost_of.is_some();
        meta.quote = m.quote_of.is_some();
        doc.set_lang(lang);
        doc
    }

    /// Sets the language `lang:` compares with (`fr-CA` is kept as `fr`).
    pub fn set_lang(&mut self, lang: Option<&str>) {
        self.meta.lang = lang
            .map(|l| {
                l.trim()
                    .split(['-', '_'])
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase()
            })
            .filter(|l| !l.is_empty());
    }

    /// The metadata the field filters look at.
    pub fn meta(&self) -> &Meta {
        &self.meta
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

    /// The original spelling of token `i`.
    fn raw(&self, i: usize) -> Option<&str> {
        let t = self.tokens.get(i)?;
        let src = if i < self.text_start {
            &self.title
        } else {
            &self.text
        };
        src.get(t.start..t.end)
    }

    /// End (exclusive) of the segment (title or text) token `i` lies in.
    fn segment_end(&self, i: usize) -> usize {
        if i < self.text_start {
            self.text_start
        } else {
            self.tokens.len()
        }
    }

    /// Whether the expression matches this document.
    pub fn matches_expr(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Term(t) => self.positions(t).next().is_some(),
            Expr::And(a, b) => self.matches_expr(a) && self.matches_expr(b),
            Expr::Or(a, b) => self.matches_expr(a) || self.matches_expr(b),
            Expr::Not(e) => !self.matches_expr(e),
            Expr::Field(Field::Title(terms)) => {
                self.phrase_starts(terms).any(|s| s < self.text_start)
            }
            Expr::Field(f) => f.holds(&self.meta),
            Expr::Phrase(_)
            | Expr::Proximity { .. }
            | Expr::Near { .. }
            | Expr::Wildcard(_)
            | Expr::Exact(_) => !self.spans(expr).is_empty(),
        }
    }

    /// The token spans `(first, last)` where a positional expression matches (empty for
    /// other expressions).
    pub(crate) fn spans(&self, expr: &Expr) -> Vec<(usize, usize)> {
        match expr {
            Expr::Term(t) => self.positions(t).map(|i| (i, i)).collect(),
            Expr::Phrase(terms) => {
                let len = terms.len().saturating_sub(1);
                self.phrase_starts(terms).map(|s| (s, s + len)).collect()
            }
            Expr::Wildcard(w) => self.wildcard_positions(w).map(|i| (i, i)).collect(),
            Expr::Exact(words) => self.exact_spans(words),
            Expr::Proximity { terms, slop } => self.proximity_spans(terms, *slop),
            Expr::Or(a, b) => {
                let mut v = self.spans(a);
                v.extend(self.spans(b));
                v
            }
            Expr::Near {
                left,
                right,
                distance,
                ordered,
            } => {
                let (ls, rs) = (self.spans(left), self.spans(right));
                let mut out = Vec::new();
                for &(a0, a1) in &ls {
                    for &(b0, b1) in &rs {
                        if self.segment_end(a0) != self.segment_end(b0) {
                            continue;
                        }
                        let gap = if a1 < b0 {
                            Some(b0 - a1 - 1)
                        } else if b1 < a0 && !ordered {
                            Some(a0 - b1 - 1)
                        } else {
                            None
                        };
                        if gap.is_some_and(|g| g <= *distance as usize) {
                            out.push((a0.min(b0), a1.max(b1)));
                        }
                    }
                }
                out
            }
            Expr::And(..) | Expr::Not(_) | Expr::Field(_) => Vec::new(),
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

    fn wildcard_positions<'a>(&'a self, w: &'a Wildcard) -> impl Iterator<Item = usize> + 'a {
        self.tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| w.matches_token(&t.text, t.kind))
            .map(|(i, _)| i)
    }

    /// Where the consecutive `terms` start (never across title and text).
    fn phrase_starts<'a>(&'a self, terms: &'a [Term]) -> impl Iterator<Item = usize> + 'a {
        let (first, rest) = match terms.split_first() {
            Some((f, r)) => (Some(f), r),
            None => (None, &[][..]),
        };
        first
            .into_iter()
            .flat_map(|f| self.positions(f))
            .filter(move |&start| {
                let limit = self.segment_end(start);
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

    fn exact_spans(&self, words: &[String]) -> Vec<(usize, usize)> {
        if words.is_empty() {
            return Vec::new();
        }
        let len = words.len() - 1;
        (0..self.tokens.len())
            .filter(|&s| {
                s + len < self.segment_end(s)
                    && words
                        .iter()
                        .enumerate()
                        .all(|(k, w)| self.raw(s + k) == Some(w.as_str()))
            })
            .map(|s| (s, s + len))
            .collect()
    }

    /// Windows holding every term with at most `slop` other tokens among them.
    fn proximity_spans(&self, terms: &[Term], slop: u32) -> Vec<(usize, usize)> {
        let lists: Vec<Vec<usize>> = terms.iter().map(|t| self.positions(t).collect()).collect();
        let width = terms.len() + slop as usize;
        let mut starts: Vec<usize> = lists.iter().flatten().copied().collect();
        starts.sort_unstable();
        starts.dedup();
        let mut out = Vec::new();
        for s in starts {
            let end = (s + width).min(self.segment_end(s));
            let mut used: Vec<usize> = Vec::with_capacity(terms.len());
            let all = lists.iter().all(|list| {
                match list
                    .iter()
                    .find(|&&p| p >= s && p < end && !used.contains(&p))
                {
                    Some(&p) => {
                        used.push(p);
                        true
                    }
                    None => false,
                }
            });
            if all {
                let last = used.iter().copied().max().unwrap_or(s);
                out.push((s, last));
            }
        }
        out
    }
}

/// Why a query matched: the positive parts (terms, phrases, patterns, fields, NEARs) found
/// in the document, in query order; `None` when it does not match.
pub(crate) fn explain_match(expr: &Expr, doc: &Document) -> Option<Vec<String>> {
    if !doc.matches_expr(expr) {
        return None;
    }
    let mut out = Vec::new();
    collect_hits(expr, doc, &mut out);
    Some(out)
}

fn collect_hits(expr: &Expr, doc: &Document, out: &mut Vec<String>) {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            collect_hits(a, doc, out);
            collect_hits(b, doc, out);
        }
        Expr::Not(_) => {}
        e if doc.matches_expr(e) => {
            let s = e.to_string();
            if !out.contains(&s) {
                out.push(s);
            }
        }
        _ => {}
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

    fn mention(text: &str) -> vigie_model::Mention {
        serde_json::from_value(serde_json::json!({
            "source": "t", "external_id": "1", "published_at": "2026-03-01T10:00:00Z",
            "author": {"handle": "@Marie_L", "followers": 1500, "verified": true},
            "url": "https://www.example.com/p/1", "text": text, "title": "Grève à la SNCF",
            "reply_to": "0", "country": "FR"
        }))
        .unwrap()
    }

    #[test]
    fn near_proximity_and_wildcards() {
        assert!(m("avion NEAR/2 retard", "retard de mon avion"));
        assert!(!m("avion NEAR/1 retard", "retard de mon avion"));
        assert!(m("avion NEAR/0 retard", "avion retard"));
        assert!(!m("avion NEAR/5f retard", "retard de mon avion"));
        assert!(m("retard NEAR/5f avion", "retard de mon avion"));
        assert!(m(
            "(avion OR vol) NEAR/3 (retard OR annule)",
            "le vol est annulé"
        ));
        assert!(m("\"vol annule\"~1", "vol encore annulé"));
        assert!(m("\"vol annule\"~1", "annulé, mon vol"));
        assert!(!m("\"vol annule\"~1", "vol a encore été annulé"));
        assert!(!m("\"avion avion\"~3", "un avion"));
        assert!(m("\"avion avion\"~3", "avion et avion"));
        assert!(m("grev*", "les grévistes"));
        assert!(m("grev*", "#GreveGenerale"));
        assert!(!m("#grev*", "grève"));
        assert!(m("b?te", "quelle bête"));
        assert!(!m("b?te", "quelle bte"));
    }

    #[test]
    fn case_sensitive_terms_use_the_original_text() {
        assert!(m("{Orange}", "Mon forfait Orange"));
        assert!(!m("{Orange}", "une orange pressée"));
        assert!(!m("raw:Orange", "ORANGE"));
        assert!(m("{Air France}", "vol Air France annulé"));
        assert!(!m("{Air France}", "vol air France annulé"));
        assert!(m("{Hôpital}", "l'Hôpital"));
        assert!(!m("{Hôpital}", "l'Hopital"));
    }

    #[test]
    fn fields_look_at_the_mention() {
        let doc = Document::from_mention(
            &mention("Voir https://blog.lemonde.fr/x merci"),
            Some("fr-FR"),
        );
        let yes = |q: &str| parse(q).unwrap().matches(&doc);
        assert!(yes("author:marie_l") && yes("author:@MARIE*") && !yes("merci author:bob"));
        assert!(yes("lang:fr") && !yes("merci lang:en"));
        assert!(yes("site:lemonde.fr") && yes("site:example.com") && !yes("merci site:monde.fr"));
        assert!(yes("url:example.com/p") && yes("links:lemonde") && !yes("merci links:example"));
        assert!(yes("title:greve") && yes("title:\"la sncf\"") && !yes("title:merci"));
        assert!(yes("country:fr") && yes("followers:>1000") && yes("followers:[1500 TO 1500]"));
        assert!(!yes("merci followers:<1000"));
        assert!(yes("verified:true") && yes("is:reply") && !yes("merci is:repost"));
        assert!(yes("merci -is:repost"));
        assert_eq!(doc.meta().lang.as_deref(), Some("fr"));
        let text_only = Document::new("merci");
        assert!(!parse("merci author:marie_l").unwrap().matches(&text_only));
    }

    #[test]
    fn explains_what_matched() {
        let q = parse("(retard OR annule) AND NOT concours AND (avion NEAR/2 retard)").unwrap();
        let doc = Document::new("avion en retard");
        assert_eq!(
            q.explain_match(&doc),
            Some(vec![
                "retard".to_owned(),
                "(avion NEAR/2 retard)".to_owned()
            ])
        );
        assert_eq!(
            q.explain_match(&Document::new("concours avion retard")),
            None
        );
    }
}
