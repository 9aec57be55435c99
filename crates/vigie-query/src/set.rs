//! [`QuerySet`]: many queries matched together, at a cost that grows with the text rather
//! than with the number of queries.
//!
//! Each query gets an *anchor set*: folded terms of which at least one must be in a
//! document for the query to match. `a OR b` needs an anchor of either side (the union);
//! `a AND b` and `a NEAR/n b` need both sides, so the anchors of one side are enough (the
//! smaller set is kept); a phrase needs each of its words (the one held by the fewest queries is kept, the longest on ties). `NOT`,
//! fields and wildcards with fewer than 3 characters before the `*` give no anchor; other
//! wildcards are anchored by the first 3 characters of a token (a prefix index), and
//! case-sensitive terms by their folded text. A query with no anchor set is *always
//! verified*. The set keeps an index from anchor term to queries. Matching a
//! document looks each of its tokens up once, then runs the exact evaluator only on the
//! queries found plus the always-verified ones.

use crate::Query;
use crate::ast::Expr;
use crate::eval::Document;
use crate::field::Field;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a as a `Hasher`: fast on the short keys of the index, deterministic.
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// Many queries compiled into one index (see the module documentation).
///
/// ```
/// use vigie_query::{parse, Document, QuerySet};
/// let set = QuerySet::new(vec![
///     parse("avion AND retard").unwrap(),
///     parse("#greve OR grève").unwrap(),
///     parse("brand -is:repost").unwrap(),
/// ]);
/// assert_eq!(set.matches(&Document::new("Retard de l'avion, grève")), [0, 1]);
/// assert_eq!(set.matches(&Document::new("rien à voir")), Vec::<usize>::new());
/// ```
#[derive(Debug, Clone, Default)]
pub struct QuerySet {
    queries: Vec<Query>,
    /// Anchor term → queries (ascending) that hold it in their anchor set.
    index: FnvMap<String, Vec<u32>>,
    /// Anchor prefix (of wildcards) → queries (ascending).
    prefixes: FnvMap<String, Vec<u32>>,
    /// Queries without an anchor set (ascending).
    always: Vec<u32>,
}

/// How many queries of the set hold each term (the cost of anchoring on it: a common term
/// sends many queries to verification).
type TermCounts = FnvMap<String, u32>;

/// Characters a wildcard needs before its first `*` or `?` to be indexed by prefix.
const PREFIX_CHARS: usize = 3;

/// An anchor: a whole folded token, or the first [`PREFIX_CHARS`] characters of one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Anchor {
    Token(String),
    Prefix(String),
}

fn cost(keys: &[Anchor], counts: &TermCounts) -> u64 {
    keys.iter()
        .map(|k| match k {
            Anchor::Token(t) => u64::from(counts.get(t.as_str()).copied().unwrap_or(0)) + 1,
            // A prefix matches many more tokens than a word.
            Anchor::Prefix(_) => 16,
        })
        .sum()
}

/// The first [`PREFIX_CHARS`] characters of `s`, if it has that many.
fn prefix(s: &str) -> Option<&str> {
    let end = s
        .char_indices()
        .nth(PREFIX_CHARS)
        .map_or(s.len(), |(i, _)| i);
    (s.chars().count() >= PREFIX_CHARS)
        .then(|| s.get(..end))
        .flatten()
}

/// The anchor set of `e`: terms at least one of which a matching document holds; `None`
/// when there is no such set. Where a choice exists (`AND`, `NEAR`, phrases), the cheaper
/// anchors are kept: the terms held by the fewest queries of the set.
fn anchors(e: &Expr, counts: &TermCounts) -> Option<Vec<Anchor>> {
    let rarest = |terms: &[crate::Term]| {
        terms
            .iter()
            .min_by_key(|t| {
                (
                    counts.get(t.text.as_str()).copied().unwrap_or(0),
                    usize::MAX - t.text.len(),
                )
            })
            .map(|t| vec![Anchor::Token(t.text.clone())])
    };
    match e {
        Expr::Term(t) => Some(vec![Anchor::Token(t.text.clone())]),
        // A token matching `gre*` starts with `gre` (a hashtag `#gre…` is also looked up
        // without its `#`, as for terms).
        Expr::Wildcard(w) => prefix(w.literal_prefix()).map(|p| vec![Anchor::Prefix(p.to_owned())]),
        // The original spelling `w` of a token folds to its text (emojis keep theirs).
        Expr::Exact(words) => words.first().map(|w| {
            let folded = crate::text::fold(w);
            let mut v = vec![Anchor::Token(w.clone())];
            if folded != *w {
                v.push(Anchor::Token(folded));
            }
            v
        }),
        Expr::Phrase(terms) | Expr::Proximity { terms, .. } | Expr::Field(Field::Title(terms)) => {
            rarest(terms)
        }
        Expr::Or(a, b) => {
            let (mut a, b) = (anchors(a, counts)?, anchors(b, counts)?);
            a.extend(b);
            a.sort_unstable();
            a.dedup();
            Some(a)
        }
        Expr::And(a, b)
        | Expr::Near {
            left: a, right: b, ..
        } => match (anchors(a, counts), anchors(b, counts)) {
            (Some(a), Some(b)) => Some(if cost(&b, counts) < cost(&a, counts) {
                b
            } else {
                a
            }),
            (a, b) => a.or(b),
        },
        Expr::Not(_) | Expr::Field(_) => None,
    }
}

impl QuerySet {
    /// Compiles the queries; their indices in `queries` are the ones
    /// [`QuerySet::matches`] returns.
    pub fn new(queries: Vec<Query>) -> Self {
        let mut counts = TermCounts::default();
        for q in &queries {
            let mut terms: Vec<&str> = q.terms().into_iter().map(|t| t.text.as_str()).collect();
            terms.sort_unstable();
            terms.dedup();
            for t in terms {
                *counts.entry(t.to_owned()).or_default() += 1;
            }
        }
        let mut index: FnvMap<String, Vec<u32>> = FnvMap::default();
        let mut prefixes: FnvMap<String, Vec<u32>> = FnvMap::default();
        let mut always = Vec::new();
        for (i, q) in queries.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            match anchors(q.expr(), &counts) {
                Some(keys) => {
                    for k in keys {
                        let map = match &k {
                            Anchor::Token(_) => &mut index,
                            Anchor::Prefix(_) => &mut prefixes,
                        };
                        let (Anchor::Token(k) | Anchor::Prefix(k)) = k;
                        let ids = map.entry(k).or_default();
                        if ids.last() != Some(&i) {
                            ids.push(i);
                        }
                    }
                }
                None => always.push(i),
            }
        }
        Self {
            queries,
            index,
            prefixes,
            always,
        }
    }

    /// The queries, in the order given.
    pub fn queries(&self) -> &[Query] {
        &self.queries
    }

    /// How many queries the set holds.
    pub fn len(&self) -> usize {
        self.queries.len()
    }

    /// Whether the set holds no query.
    pub fn is_empty(&self) -> bool {
        self.queries.is_empty()
    }

    /// How many queries have no anchor set and are evaluated on every document.
    pub fn always_verified(&self) -> usize {
        self.always.len()
    }

    /// The queries worth evaluating on `doc` (ascending): those with an anchor in it, and
    /// the always-verified ones.
    pub fn candidates(&self, doc: &Document) -> Vec<usize> {
        let mut out: Vec<u32> = self.always.clone();
        for t in doc.tokens() {
            if let Some(ids) = self.index.get(t.text.as_str()) {
                out.extend_from_slice(ids);
            }
            let body = t.text.strip_prefix('#');
            if let Some(ids) = body.and_then(|b| self.index.get(b)) {
                out.extend_from_slice(ids);
            }
            if !self.prefixes.is_empty() {
                for s in [Some(t.text.as_str()), body].into_iter().flatten() {
                    if let Some(ids) = prefix(s).and_then(|p| self.prefixes.get(p)) {
                        out.extend_from_slice(ids);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out.into_iter().map(|i| i as usize).collect()
    }

    /// The indices (ascending) of the queries that match `doc`; the same as evaluating every
    /// query with [`Query::matches`], faster when there are many.
    pub fn matches(&self, doc: &Document) -> Vec<usize> {
        self.candidates(doc)
            .into_iter()
            .filter(|&i| self.queries.get(i).is_some_and(|q| q.matches(doc)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn set(qs: &[&str]) -> QuerySet {
        QuerySet::new(qs.iter().map(|q| parse(q).unwrap()).collect())
    }

    #[test]
    fn anchor_sets_follow_the_operators() {
        let a = |q: &str| anchors(parse(q).unwrap().expr(), &TermCounts::default());
        let t = |s: &str| Anchor::Token(s.into());
        assert_eq!(a("a OR b"), Some(vec![t("a"), t("b")]));
        assert_eq!(a("a AND (b OR c)"), Some(vec![t("a")]));
        assert_eq!(a("(b OR c) AND a"), Some(vec![t("a")]));
        assert_eq!(a("\"service client\" -x"), Some(vec![t("service")]));
        assert_eq!(
            a("a OR grev*"),
            Some(vec![t("a"), Anchor::Prefix("gre".into())])
        );
        assert_eq!(a("a OR gr*"), None);
        assert_eq!(a("grev* AND a"), Some(vec![t("a")]));
        assert_eq!(a("{Été} OR {x}"), Some(vec![t("ete"), t("x"), t("Été")]));
        assert_eq!(a("author:x lang:fr"), None);
        assert_eq!(a("title:greve OR #x"), Some(vec![t("#x"), t("greve")]));
        assert_eq!(a("(a OR b) NEAR/3 c"), Some(vec![t("c")]));
        // With counts, the terms held by fewer queries win.
        let mut counts = TermCounts::default();
        counts.insert("retard".into(), 50);
        counts.insert("panne".into(), 40);
        let q = parse("(brand OR @brand OR #brand) AND (retard OR panne)").unwrap();
        assert_eq!(anchors(q.expr(), &counts).map(|a| a.len()), Some(3));
        assert_eq!(
            anchors(parse("\"le service\"").unwrap().expr(), &counts),
            Some(vec![Anchor::Token("service".into())])
        );
    }

    #[test]
    fn only_candidates_are_verified_and_results_are_exact() {
        let s = set(&[
            "avion AND retard",
            "#greve",
            "grev* AND sncf",
            "lang:fr brand",
            "x",
        ]);
        assert_eq!(s.len(), 5);
        assert_eq!(s.always_verified(), 0);
        let doc = Document::new("avion sans souci #greve");
        assert_eq!(s.candidates(&doc), [0, 1]);
        assert_eq!(s.matches(&doc), [1]);
        let doc = Document::new("Les grévistes de la SNCF");
        assert_eq!(s.matches(&doc), [2]);
        assert!(s.matches(&Document::new("greve")).is_empty());
        assert_eq!(
            set(&["NOT a AND b", "{Orange}", "ab* OR x", "lang:fr"]).always_verified(),
            2
        );
        let w = set(&["grev*", "#grev*", "{Grève}"]);
        assert_eq!(w.matches(&Document::new("#GrèveGénérale")), [0, 1]);
        assert_eq!(w.matches(&Document::new("les grévistes, la Grève")), [0, 2]);
        assert!(QuerySet::default().is_empty());
    }

    #[test]
    fn hashtag_bodies_reach_word_queries() {
        let s = set(&["greve", "#greve", "@brand"]);
        assert_eq!(s.matches(&Document::new("#Grève")), [0, 1]);
        assert_eq!(s.matches(&Document::new("grève @Brand")), [0, 2]);
    }
}
