//! Query matching throughput with 1, 100 and 10,000 watches (ignored by default; run in
//! release):
//!
//! ```text
//! cargo test -p vigie-query --release --test bench -- --ignored --nocapture
//! ```
//!
//! Watches and mentions are generated deterministically: each watch is about one brand
//! (a made-up name such as `kalomi`, as a word, `@kalomi` or `#KALOMI`) with a complaint part and exclusions, in a few
//! shapes (phrases, NEAR, wildcards, fields); mentions are tweet-sized French and English
//! texts, a third of them naming one of the brands. One watch in a hundred has no whole-word
//! term (only a wildcard and a case-sensitive term): it is found through the prefix index.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::hint::black_box;
use std::time::Instant;
use vigie_query::{Document, Query, QuerySet, parse};

/// A small deterministic generator (64-bit LCG, high bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items
            .get(self.next() % items.len())
            .copied()
            .unwrap_or_default()
    }
}

const COMPLAINTS: [&str; 12] = [
    "retard",
    "panne",
    "annulé",
    "\"service client\"",
    "rembours*",
    "arnaque",
    "honte",
    "delay",
    "refund",
    "\"customer service\"",
    "broken",
    "scam",
];
const EXCLUDE: [&str; 5] = [
    "concours",
    "giveaway",
    "\"offre d'emploi\"",
    "recrut*",
    "pub",
];
const WORDS: [&str; 40] = [
    "le",
    "la",
    "mon",
    "vol",
    "train",
    "encore",
    "une",
    "fois",
    "depuis",
    "heures",
    "merci",
    "vraiment",
    "the",
    "my",
    "order",
    "again",
    "still",
    "waiting",
    "for",
    "days",
    "service",
    "client",
    "retard",
    "panne",
    "nul",
    "super",
    "top",
    "colis",
    "livraison",
    "jamais",
    "reçu",
    "appli",
    "bug",
    "😡",
    "👍",
    "#fail",
    "aujourd'hui",
    "l'avion",
    "why",
    "help",
];

const SYLLABLES: [&str; 20] = [
    "ka", "lo", "mi", "ne", "su", "ta", "vo", "ri", "be", "do", "fa", "gu", "ho", "ji", "ze", "pa",
    "xo", "ye", "wa", "qu",
];

/// A distinct, pronounceable brand name per index (`kalomi`, `lolomi`…).
fn brand(i: usize) -> String {
    let s = |k: usize| SYLLABLES.get(k % SYLLABLES.len()).copied().unwrap_or("a");
    let mut name = format!("{}{}{}", s(i), s(i / 20), s(i / 400));
    if i >= 8000 {
        name.push_str(&(i / 8000).to_string());
    }
    name
}

fn watch(i: usize, rng: &mut Lcg) -> String {
    let b = brand(i);
    let c1 = rng.pick(&COMPLAINTS);
    let c2 = rng.pick(&COMPLAINTS);
    let ex = rng.pick(&EXCLUDE);
    if i % 100 == 99 {
        // 1 % of watches have no anchor term (wildcard and case-sensitive only): always verified.
        return format!("({b}* OR {{{}}}) lang:fr", b.to_uppercase());
    }
    match i % 5 {
        0 => format!("({b} OR @{b} OR #{b}) AND ({c1} OR {c2}) AND NOT {ex}"),
        1 => format!(
            "\"{b} france\" OR ({b} NEAR/3 {})",
            c1.trim_matches('"').split(' ').next().unwrap_or("x")
        ),
        2 => format!("(@{b} OR #{b}) -is:repost followers:>100"),
        3 => format!("{b} AND ({c1} OR {c2}) lang:fr <<<watch {i}>>>"),
        _ => format!("({b} OR {b}app) AND NOT ({ex} OR author:{b})"),
    }
}

fn mention(n: usize, brands: usize, rng: &mut Lcg) -> String {
    let len = 8 + rng.next() % 18;
    let mut words: Vec<String> = (0..len).map(|_| rng.pick(&WORDS).to_owned()).collect();
    if n.is_multiple_of(3) {
        let b = rng.next() % brands.max(1);
        let at = rng.next() % words.len();
        let b = brand(b);
        let form = match rng.next() % 3 {
            0 => b,
            1 => format!("@{b}"),
            _ => format!("#{}", b.to_uppercase()),
        };
        if let Some(w) = words.get_mut(at) {
            *w = form;
        }
    }
    words.join(" ")
}

fn measure(watches: usize) {
    let mut rng = Lcg(42);
    let queries: Vec<Query> = (0..watches)
        .map(|i| parse(&watch(i, &mut rng)).unwrap_or_else(|e| panic!("watch {i}: {e}")))
        .collect();
    let texts: Vec<String> = (0..20_000).map(|n| mention(n, watches, &mut rng)).collect();
    let docs: Vec<Document> = texts.iter().map(|t| Document::new(t)).collect();
    let set = QuerySet::new(queries.clone());

    let start = Instant::now();
    let mut hits = 0usize;
    for t in &texts {
        let doc = Document::new(t);
        hits += black_box(set.matches(&doc)).len();
    }
    let with_doc = texts.len() as f64 / start.elapsed().as_secs_f64();

    let start = Instant::now();
    for doc in &docs {
        black_box(set.matches(doc));
    }
    let set_only = docs.len() as f64 / start.elapsed().as_secs_f64();

    // One by one, on fewer documents when there are many watches.
    let sample = if watches > 1000 { 500 } else { docs.len() };
    let start = Instant::now();
    let mut naive_hits = 0usize;
    for doc in docs.iter().take(sample) {
        naive_hits += queries.iter().filter(|q| q.matches(doc)).count();
    }
    let naive = sample as f64 / start.elapsed().as_secs_f64();
    let set_hits: usize = docs.iter().take(sample).map(|d| set.matches(d).len()).sum();
    assert_eq!(
        set_hits, naive_hits,
        "the set and the one-by-one loop disagree"
    );
    println!(
        "{watches:>6} watches ({} always verified): {with_doc:>9.0} mentions/s with tokenizing, {set_only:>9.0} matching only, {naive:>9.0} one by one; {hits} matches in {} mentions",
        set.always_verified(),
        texts.len()
    );
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn query_matching_throughput() {
    for n in [1, 100, 10_000] {
        measure(n);
    }
}
