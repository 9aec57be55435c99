//! Parses arbitrary UTF-8; when it parses, the normalized form must parse back to the same
//! query, and evaluating, explaining and linting must not panic.
//!
//! Run from `crates/vigie-query`: `RUSTC_BOOTSTRAP=1 cargo fuzz run parse`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_query::{Document, QuerySet, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match parse(src) {
        Err(e) => assert!(e.position <= src.chars().count(), "{e} in {src:?}"),
        Ok(q) => {
            let normalized = q.explain();
            let again = parse(&normalized).unwrap_or_else(|e| {
                panic!("explain {normalized:?} of {src:?} does not parse: {e}")
            });
            assert_eq!(
                again, q,
                "explain {normalized:?} of {src:?} parses differently"
            );
            let _ = q.lint();
            let doc = Document::new(src);
            let set = QuerySet::new(vec![q.clone()]);
            let one = q.matches(&doc);
            assert_eq!(set.matches(&doc), if one { vec![0] } else { vec![] });
            assert_eq!(q.explain_match(&doc).is_some(), one);
        }
    }
});
