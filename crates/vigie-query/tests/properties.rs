//! Property tests: boolean laws on random documents, `parse(explain(q)) == q`, and no panic
//! on arbitrary input.

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
