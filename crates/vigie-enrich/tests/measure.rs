//! Measurements, ignored by default (they need data files or a release build):
//!
//! ```text
//! cargo test -p vigie-enrich --test measure -- --ignored --nocapture sentiment
//! cargo test -p vigie-enrich --release --test measure -- --ignored --nocapture throughput
//! ```
//!
//! The UMSAB data directory defaults to `/work/shared/data/sentiment/umsab`; set
//! `VIGIE_UMSAB_DIR` to use another.

use std::path::PathBuf;
use std::time::Instant;
use vigie_enrich::{
    Enricher, EvalReport, LexiconSentiment, SentimentEngine, Thresholds, WatchSpec, evaluate,
    read_labelled_tsv,
};
use vigie_model::{Author, Engagement, Mention, SentimentLabel, Timestamp, WatchId, WorkspaceId};
use vigie_query::text::tokenize;

fn umsab(lang_dir: &str, split: &str) -> Option<Vec<(SentimentLabel, String)>> {
    let dir = std::env::var_os("VIGIE_UMSAB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/data/sentiment/umsab"));
    let path = dir.join(lang_dir).join(format!("{split}.tsv"));
    match std::fs::read_to_string(&path) {
        Ok(data) => Some(read_labelled_tsv(&data)),
        Err(e) => {
            println!("skipped: {}: {e}", path.display());
            None
        }
    }
}

/// Macro-F1 and accuracy on the validation splits (never used for tuning).
#[test]
#[ignore = "needs the UMSAB data files"]
fn sentiment_validation_figures() {
    let engine = LexiconSentiment::default();
    for (lang, dir) in [("fr", "french"), ("en", "english")] {
        if let Some(rows) = umsab(dir, "val") {
            let report = evaluate(&engine, lang, rows.into_iter());
            println!("umsab/{dir}/val.tsv ({lang}): {report}");
            assert!(report.n > 300);
        }
        if let Some(rows) = umsab(dir, "train") {
            let report = evaluate(&engine, lang, rows.into_iter());
            println!("umsab/{dir}/train.tsv ({lang}): {report}");
        }
    }
}

/// Threshold search on the TRAIN splits only: prints the cut-offs that maximise macro-F1.
#[test]
#[ignore = "needs the UMSAB data files"]
fn sentiment_tune_thresholds_on_train() {
    let engine = LexiconSentiment::default();
    for (lang, dir) in [("fr", "french"), ("en", "english")] {
        let Some(rows) = umsab(dir, "train") else {
            continue;
        };
        let scored: Vec<(SentimentLabel, f32)> = rows
            .iter()
            .map(|(gold, text)| {
                let c = engine.compound(text, &tokenize(text), lang).unwrap_or(0.0);
                (*gold, c)
            })
            .collect();
        let mut best = (f64::MIN, Thresholds::VADER);
        for n in 0..=60 {
            for p in 0..=60 {
                let th = Thresholds {
                    negative: n as f32 / 100.0,
                    positive: p as f32 / 100.0,
                };
                let mut confusion = [[0u64; 3]; 3];
                for (gold, c) in &scored {
                    confusion[idx(*gold)][idx(th.label(*c))] += 1;
                }
                let f1 = EvalReport::from_confusion(confusion).macro_f1;
                if f1 > best.0 {
                    best = (f1, th);
                }
            }
        }
        println!(
            "{lang}: best train macro-F1 {:.3} with {:?}",
            best.0, best.1
        );
    }
}

fn idx(l: SentimentLabel) -> usize {
    match l {
        SentimentLabel::Negative => 0,
        SentimentLabel::Neutral => 1,
        SentimentLabel::Positive => 2,
    }
}

fn mention(i: usize, text: &str) -> Mention {
    Mention {
        source: "bench".into(),
        external_id: i.to_string(),
        url: None,
        author: Author {
            handle: format!("user{}", i % 97),
            name: None,
            followers: Some((i as u64 * 37) % 5000),
            verified: false,
        },
        published_at: Timestamp::from_millis(i as i64 * 1000),
        received_at: None,
        title: None,
        text: text.to_owned(),
        lang: None,
        engagement: Engagement {
            reposts: (i % 7) as u64,
            likes: (i % 31) as u64,
            replies: (i % 3) as u64,
            quotes: 0,
        },
        reply_to: None,
        quote_of: None,
        repost_of: None,
        country: None,
    }
}

/// Mentions per second on one core, tweet-sized texts, 10 watches. Run in release.
#[test]
#[ignore = "timing: run with --release"]
fn throughput() {
    const TEXTS: [&str; 8] = [
        "Je suis vraiment déçu par @Brand, service client nul 😡 #boycott https://t.co/xyz",
        "Merci pour votre réponse rapide, super service ! Je recommande @Brand",
        "Encore un vol annulé, l'avion est cloué au sol depuis 3 heures. Honteux ! #AirFail",
        "Worst customer service ever, @brand_support never answers. Not good at all 👎",
        "Great flight today with Brand, thanks to the crew! #travel ✈️",
        "Le nouveau produit de Brand sort aujourd'hui, quelqu'un l'a testé ?",
        "Grève à l'aéroport : retards en cascade, personne ne nous informe #greve",
        "Is the Brand app down again? Can't log in since this morning...",
    ];
    let queries = [
        "brand OR @brand",
        "(avion OR vol) AND (retard OR annule OR annulation)",
        "\"service client\" OR sav OR #sav",
        "#boycott OR boycott",
        "greve AND aeroport",
        "(app OR application) AND (down OR panne OR bug)",
        "brand AND NOT concours",
        "\"customer service\" AND (worst OR bad OR never)",
        "@brand_support OR @brand",
        "produit AND (nouveau OR lancement) AND NOT promo",
    ];
    let watches: Vec<WatchSpec> = queries
        .iter()
        .enumerate()
        .map(|(i, q)| WatchSpec {
            id: WatchId::new(format!("w{i}")).unwrap(),
            query: vigie_query::parse(q).unwrap(),
            languages: if i % 3 == 0 {
                vec!["fr".into()]
            } else {
                vec![]
            },
            own_accounts: vec!["brand".into()],
        })
        .collect();
    let enricher = Enricher::new(watches);
    let ws = WorkspaceId::new("bench").unwrap();
    let n = 100_000;
    let mentions: Vec<Mention> = (0..n).map(|i| mention(i, TEXTS[i % TEXTS.len()])).collect();
    // Warm the lexicons.
    let _ = LexiconSentiment::default().analyze("ok", "fr");
    let _ = LexiconSentiment::default().analyze("ok", "en");
    let start = Instant::now();
    let mut matched = 0;
    for m in mentions {
        matched += enricher.enrich(&ws, m).enrichment.matched_watches.len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "throughput: {n} mentions in {secs:.3} s = {:.0} mentions/s on one core, 10 watches ({matched} matches)",
        n as f64 / secs
    );
    assert!(matched > 0);

    // Where the time goes, per stage, on the same texts.
    let reps = 20_000;
    let stage = |name: &str, f: &dyn Fn(&str)| {
        let t = Instant::now();
        for i in 0..reps {
            f(TEXTS[i % TEXTS.len()]);
        }
        let us = t.elapsed().as_secs_f64() * 1e6 / reps as f64;
        println!("  {name}: {us:.2} µs per mention");
    };
    let detector = vigie_enrich::WhatlangDetector::default();
    let engine = LexiconSentiment::default();
    stage("tokenize + index (Document)", &|t| {
        std::hint::black_box(vigie_query::Document::new(t));
    });
    stage("language (whatlang, tokens given)", &|t| {
        let tokens = tokenize(t);
        std::hint::black_box(vigie_enrich::LanguageDetector::detect_tokens(
            &detector, t, &tokens,
        ));
    });
    stage("sentiment (tokens given)", &|t| {
        let tokens = tokenize(t);
        std::hint::black_box(engine.analyze_tokens(t, &tokens, "fr"));
    });
    stage("tokenize alone", &|t| {
        std::hint::black_box(tokenize(t));
    });
}
