//! Property tests: boolean laws on random documents, `parse(explain(q)) == q`, and no panic
//! on arbitrary input.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use proptest::prelude::*;
use vigie_query::text::{TokenKind, fold, tokenize};
use vigie_query::{Document, parse};

const TERMS: [&str; 12] = [
    "avion",
    "Hôpital",
    "l'avion",
    "#greve",
    "@brand",
    "retard",
    "x",
    "y",
    "aujourd'hui",
    "\"service client\"",
    "😡",
    "2024",
];

const WORDS: [&str; 16] = [
    "avion",
    "hopital",
    "L'AVION",
    "#Grève",
    "@Brand",
    "retard",
    "x",
    "y",
    "aujourd’hui",
    "service",
    "client",
    "😡",
    "2024",
    "grève",
    "et",
    "!",
];

/// Random query text built from known terms, operators, groups and negations.
fn query_text() -> impl Strategy<Value = String> {
    let leaf = proptest::sample::select(TERMS.to_vec()).prop_map(str::to_owned);
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} OR {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND NOT {b}")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.prop_map(|a| format!("NOT ({a})")),
        ]
    })
}

fn doc_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(WORDS.to_vec()), 0..12)
        .prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parser_never_panics(s in "\\PC{0,60}") {
        let _ = parse(&s);
    }

    #[test]
    fn parser_never_panics_on_query_like_noise(
        parts in proptest::collection::vec(
            proptest::sample::select(vec!["AND", "OR", "NOT", "(", ")", "\"", "-", "a", "#b", "@c", " ", "é", "'"]),
            0..20,
        )
    ) {
        let s: String = parts.concat();
        if let Err(e) = parse(&s) {
            prop_assert!(e.position <= s.chars().count());
        }
    }

    #[test]
    fn explain_round_trips(q in query_text()) {
        if let Ok(parsed) = parse(&q) {
            let again = parse(&parsed.explain());
            prop_assert_eq!(again.as_ref(), Ok(&parsed), "explain = {}", parsed.explain());
        }
    }

    #[test]
    fn and_distributes_over_or(a in query_text(), b in query_text(), c in query_text(), d in doc_text()) {
        let lhs = parse(&format!("({a}) AND (({b}) OR ({c}))"));
        let rhs = parse(&format!("(({a}) AND ({b})) OR (({a}) AND ({c}))"));
        if let (Ok(lhs), Ok(rhs)) = (lhs, rhs) {
            let doc = Document::new(&d);
            prop_assert_eq!(lhs.matches(&doc), rhs.matches(&doc));
        }
    }

    #[test]
    fn double_negation_and_de_morgan(x in query_text(), a in query_text(), b in query_text(), d in doc_text()) {
        let doc = Document::new(&d);
        if let (Ok(p), Ok(nn)) = (parse(&x), parse(&format!("NOT NOT ({x})"))) {
            prop_assert_eq!(p.matches(&doc), nn.matches(&doc));
        }
        let lhs = parse(&format!("({x}) AND NOT (({a}) OR ({b}))"));
        let rhs = parse(&format!("({x}) AND (NOT ({a}) AND NOT ({b}))"));
        if let (Ok(lhs), Ok(rhs)) = (lhs, rhs) {
            prop_assert_eq!(lhs.matches(&doc), rhs.matches(&doc));
        }
    }

    #[test]
    fn implicit_and_is_and(a in query_text(), b in query_text(), d in doc_text()) {
        if let (Ok(x), Ok(y)) = (parse(&format!("({a}) ({b})")), parse(&format!("({a}) AND ({b})"))) {
            prop_assert_eq!(&x, &y);
            prop_assert_eq!(x.matches(&Document::new(&d)), y.matches(&Document::new(&d)));
        }
    }

    #[test]
    fn tokens_point_into_the_text(s in "\\PC{0,80}") {
        for t in tokenize(&s) {
            prop_assert!(t.start < t.end && t.end <= s.len());
            let slice = s.get(t.start..t.end);
            prop_assert!(slice.is_some(), "not on char boundaries: {t:?}");
            if t.kind != TokenKind::Emoji {
                prop_assert_eq!(fold(slice.unwrap_or_default()), t.text.clone());
            }
        }
        let _ = Document::new(&s);
    }
}

// ---- The extended language: NEAR, proximity, wildcards, fields, case-sensitive terms ----

use vigie_query::QuerySet;

const RICH_TERMS: [&str; 22] = [
    "avion",
    "retard",
    "#greve",
    "@brand",
    "x",
    "\"service client\"",
    "\"vol annule\"~2",
    "grev*",
    "av?on",
    "{Avion}",
    "raw:Retard",
    "author:marie",
    "author:bo*",
    "lang:fr",
    "site:lemonde.fr",
    "links:lemonde",
    "title:greve",
    "country:fr",
    "followers:>100",
    "followers:[10 TO 1000]",
    "verified:true",
    "is:reply",
];

const POSITIONAL: [&str; 7] = [
    "avion",
    "retard",
    "#greve",
    "\"service client\"",
    "grev*",
    "{Avion}",
    "(vol OR x)",
];

const RICH_WORDS: [&str; 16] = [
    "avion",
    "Avion",
    "retard",
    "Retard",
    "#Grève",
    "grévistes",
    "@Brand",
    "x",
    "vol",
    "annulé",
    "service",
    "client",
    "le",
    "https://blog.lemonde.fr/a",
    "😡",
    "et",
];

fn positional() -> impl Strategy<Value = String> {
    proptest::sample::select(POSITIONAL.to_vec()).prop_map(str::to_owned)
}

fn rich_query() -> impl Strategy<Value = String> {
    let near = (positional(), 0u32..4, any::<bool>(), positional())
        .prop_map(|(a, n, f, b)| format!("({a} NEAR/{n}{} {b})", if f { "f" } else { "" }));
    let leaf = prop_oneof![
        4 => proptest::sample::select(RICH_TERMS.to_vec()).prop_map(str::to_owned),
        1 => near,
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} OR {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND NOT {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} -{b} <<<note>>>")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.prop_map(|a| format!("NOT ({a})")),
        ]
    })
}

/// A random mention: text from a small vocabulary, a title sometimes, random metadata.
fn rich_doc() -> impl Strategy<Value = Document> {
    (
        proptest::collection::vec(proptest::sample::select(RICH_WORDS.to_vec()), 0..14),
        proptest::option::of(proptest::collection::vec(
            proptest::sample::select(RICH_WORDS.to_vec()),
            1..4,
        )),
        proptest::sample::select(vec!["marie", "bob", "Bob_2", "@Brand"]),
        proptest::option::of(0u64..2000),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(proptest::sample::select(vec!["fr", "en"])),
        proptest::option::of(proptest::sample::select(vec![
            "https://www.lemonde.fr/x",
            "https://x.org",
        ])),
    )
        .prop_map(
            |(words, title, handle, followers, verified, reply, lang, url)| {
                let mention: vigie_model::Mention = serde_json::from_value(serde_json::json!({
                    "source": "t", "external_id": "1", "published_at": "2026-03-01T10:00:00Z",
                    "author": {"handle": handle, "followers": followers, "verified": verified},
                    "text": words.join(" "), "title": title.map(|t| t.join(" ")),
                    "url": url, "reply_to": if reply { Some("0") } else { None },
                    "country": if verified { Some("FR") } else { None },
                }))
                .unwrap_or_else(|e| panic!("bad mention: {e}"));
                Document::from_mention(&mention, lang)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The key correctness test of the index: a `QuerySet` finds exactly the queries that
    /// match when evaluated one by one.
    #[test]
    fn query_set_equals_one_by_one(qs in proptest::collection::vec(rich_query(), 1..40), docs in proptest::collection::vec(rich_doc(), 1..6)) {
        let queries: Vec<_> = qs.iter().filter_map(|q| parse(q).ok()).collect();
        let set = QuerySet::new(queries.clone());
        for doc in &docs {
            let expected: Vec<usize> = queries.iter().enumerate().filter(|(_, q)| q.matches(doc)).map(|(i, _)| i).collect();
            prop_assert_eq!(set.matches(doc), expected);
        }
    }

    #[test]
    fn rich_explain_round_trips(q in rich_query()) {
        if let Ok(parsed) = parse(&q) {
            let again = parse(&parsed.explain());
            prop_assert_eq!(again.as_ref(), Ok(&parsed), "explain = {}", parsed.explain());
        }
    }

    #[test]
    fn rich_laws(x in rich_query(), a in rich_query(), b in rich_query(), doc in rich_doc()) {
        if let (Ok(p), Ok(nn)) = (parse(&x), parse(&format!("NOT NOT ({x})"))) {
            prop_assert_eq!(p.matches(&doc), nn.matches(&doc));
        }
        let lhs = parse(&format!("({x}) AND NOT (({a}) OR ({b}))"));
        let rhs = parse(&format!("({x}) AND (NOT ({a}) AND NOT ({b}))"));
        if let (Ok(lhs), Ok(rhs)) = (lhs, rhs) {
            prop_assert_eq!(lhs.matches(&doc), rhs.matches(&doc));
        }
        let lhs = parse(&format!("({x}) AND NOT (({a}) AND ({b}))"));
        let rhs = parse(&format!("({x}) AND (NOT ({a}) OR NOT ({b}))"));
        if let (Ok(lhs), Ok(rhs)) = (lhs, rhs) {
            prop_assert_eq!(lhs.matches(&doc), rhs.matches(&doc));
        }
        if let Ok(q) = parse(&x) {
            // explain_match is Some exactly when the query matches.
            prop_assert_eq!(q.explain_match(&doc).is_some(), q.matches(&doc));
        }
    }

    #[test]
    fn near_is_symmetric_and_proximity_is_near(a in positional(), b in positional(), n in 0u32..5, doc in rich_doc()) {
        let ab = parse(&format!("{a} NEAR/{n} {b}")).unwrap_or_else(|e| panic!("{e}"));
        let ba = parse(&format!("{b} NEAR/{n} {a}")).unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(ab.matches(&doc), ba.matches(&doc));
        // Ordered NEAR in either direction is the unordered NEAR.
        let f1 = parse(&format!("{a} NEAR/{n}f {b}")).unwrap_or_else(|e| panic!("{e}"));
        let f2 = parse(&format!("{b} NEAR/{n}f {a}")).unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(f1.matches(&doc) || f2.matches(&doc), ab.matches(&doc));
    }

    #[test]
    fn proximity_of_two_words_is_near(a in proptest::sample::select(vec!["avion", "retard", "vol", "x"]), b in proptest::sample::select(vec!["annule", "client", "le", "avion"]), n in 0u32..5, doc in rich_doc()) {
        prop_assume!(a != b);
        let prox = parse(&format!("\"{a} {b}\"~{n}")).unwrap_or_else(|e| panic!("{e}"));
        let near = parse(&format!("{a} NEAR/{n} {b}")).unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(prox.matches(&doc), near.matches(&doc));
    }

    #[test]
    fn parser_never_panics_on_rich_noise(
        parts in proptest::collection::vec(
            proptest::sample::select(vec!["AND", "OR", "NOT", "NEAR/2", "NEAR", "NEAR/1f", "(", ")", "\"", "~2", "-", "a", "*", "?", "{", "}", "<<<", ">>>", "author:", "followers:", "[1 TO 2]", ">", "title:", "raw:", ":", " ", "é", "'"]),
            0..24,
        )
    ) {
        let s: String = parts.concat();
        match parse(&s) {
            Err(e) => prop_assert!(e.position <= s.chars().count(), "{e} in {s:?}"),
            Ok(q) => {
                let again = parse(&q.explain());
                prop_assert_eq!(again.as_ref(), Ok(&q), "explain = {}", q.explain());
                let _ = q.lint();
                let _ = q.matches(&Document::new(&s));
            }
        }
    }
}
