//! Fills an embedding cache with the texts of TSV files (`label<TAB>text`).
//!
//! `cargo run --release -p vigie-neural --example embed_tsv -- MODEL.bin CACHE THREADS LIMIT FILE...`
//! (`LIMIT` rows per file, 0 = all).

use vigie_neural::{EmbeddingCache, Encoder, Prefix};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: embed_tsv MODEL.bin CACHE THREADS LIMIT FILE...");
        std::process::exit(2);
    }
    let threads: usize = args[3].parse().unwrap_or(1);
    let limit: usize = args[4].parse().unwrap_or(0);
    let run = || -> Result<(), vigie_neural::NeuralError> {
        let enc = Encoder::load(args[1].as_ref())?.with_threads(threads);
        let mut cache = EmbeddingCache::open(args[2].as_ref(), enc.dim())?;
        for file in &args[5..] {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let rows: Vec<&str> = text
                .lines()
                .filter_map(|l| l.split_once('\t').map(|(_, t)| t))
                .take(if limit == 0 { usize::MAX } else { limit })
                .collect();
            cache.fill(&enc, Prefix::Query, &rows, 64, |d, n| {
                eprintln!("{file}: {d}/{n}")
            })?;
        }
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
