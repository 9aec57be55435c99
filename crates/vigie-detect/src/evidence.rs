//! The evidence window: what people are saying, in bounded memory, for explanations.
//!
//! Per bucket: Misra–Gries summaries of terms and hashtags (at most [`TERMS_PER_BUCKET`] /
//! [`HASHTAGS_PER_BUCKET`] counters, each count under-estimated by at most n/(k+1)), the
//! [`AUTHORS_PER_BUCKET`] authors with the most followers, and the [`SAMPLES_PER_BUCKET`] best
//! sample posts. The window is the last closed buckets; summaries are merged only when an
//! explanation is written.

use crate::hll::stable_hash;
use crate::text::{for_each_term, truncate_chars};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, VecDeque};
use vigie_model::{AuthorReach, EnrichedMention, SamplePost, SentimentLabel, TermCount};

/// Counters kept per bucket for terms.
pub const TERMS_PER_BUCKET: usize = 200;
/// Counters kept per bucket for hashtags.
pub const HASHTAGS_PER_BUCKET: usize = 100;
/// Authors kept per bucket (largest audiences).
pub const AUTHORS_PER_BUCKET: usize = 10;
/// Sample posts kept per bucket.
pub const SAMPLES_PER_BUCKET: usize = 5;
/// Entries of each list in an explanation.
pub const TOP_N: usize = 10;
/// Sample posts in an explanation.
pub const MAX_SAMPLES: usize = 5;
/// Authors in an explanation.
pub const MAX_AUTHORS: usize = 5;
/// Characters of a sample post's text.
pub const SAMPLE_CHARS: usize = 280;

/// A Misra–Gries frequent-items summary with string keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct TopCounter {
    counts: HashMap<String, u64>,
}

impl TopCounter {
    fn add(&mut self, key: &str, capacity: usize) {
        if let Some(c) = self.counts.get_mut(key) {
            *c += 1;
        } else if self.counts.len() < capacity {
            self.counts.insert(key.to_owned(), 1);
        } else {
            // Decrement every counter (the new key's 1 cancels out): amortized O(1), since
            // each decrement pass removes at least as many units as were added.
            self.counts.retain(|_, c| {
                *c -= 1;
                *c > 0
            });
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AuthorEntry {
    hash: u64,
    reach: AuthorReach,
}

/// Sort key of a sample: negative first, then most reach, then oldest, then id.
fn sample_order(a: &SamplePost, b: &SamplePost) -> Ordering {
    let neg = |s: &SamplePost| s.sentiment != SentimentLabel::Negative;
    neg(a)
        .cmp(&neg(b))
        .then(b.reach.cmp(&a.reach))
        .then(a.published_at.cmp(&b.published_at))
        .then(a.external_id.cmp(&b.external_id))
        .then(a.source.cmp(&b.source))
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct EvidenceBucket {
    terms: TopCounter,
    hashtags: TopCounter,
    authors: Vec<AuthorEntry>,
    samples: Vec<SamplePost>,
}

impl EvidenceBucket {
    fn add_author(&mut self, m: &EnrichedMention) {
        let a = &m.mention.author;
        let hash = stable_hash(a.handle.as_bytes());
        let followers = a.followers.unwrap_or(0);
        if let Some(e) = self.authors.iter_mut().find(|e| e.hash == hash) {
            e.reach.mentions += 1;
            e.reach.followers = e.reach.followers.max(followers);
            return;
        }
        let entry = || AuthorEntry {
            hash,
            reach: AuthorReach {
                handle: a.handle.clone(),
                followers,
                verified: a.verified,
                mentions: 1,
            },
        };
        if self.authors.len() < AUTHORS_PER_BUCKET {
            self.authors.push(entry());
        } else if let Some(min) = self.authors.iter_mut().min_by(|x, y| {
            x.reach
                .followers
                .cmp(&y.reach.followers)
                .then(y.hash.cmp(&x.hash))
        }) && followers > min.reach.followers
        {
            *min = entry();
        }
    }

    fn add_sample(&mut self, m: &EnrichedMention) {
        if m.enrichment.own_account {
            // Samples show what others say; the organization knows its own posts.
            return;
        }
        let negative = m.enrichment.sentiment.label == SentimentLabel::Negative;
        let reach = m.enrichment.reach;
        if self.samples.len() >= SAMPLES_PER_BUCKET
            && let Some(worst) = self.samples.last()
        {
            // Cheap pre-check before building a post: is it better than the worst kept?
            let worst_negative = worst.sentiment == SentimentLabel::Negative;
            let better = (negative && !worst_negative)
                || (negative == worst_negative && reach > worst.reach);
            if !better {
                return;
            }
        }
        let text = if m.mention.text.trim().is_empty() {
            m.mention.title.as_deref().unwrap_or("")
        } else {
            &m.mention.text
        };
        let post = SamplePost {
            source: m.mention.source.clone(),
            external_id: m.mention.external_id.clone(),
            author: m.mention.author.handle.clone(),
            published_at: m.mention.published_at,
            sentiment: m.enrichment.sentiment.label,
            reach,
            text: truncate_chars(text, SAMPLE_CHARS),
        };
        self.samples.push(post);
        self.samples.sort_by(sample_order);
        self.samples.truncate(SAMPLES_PER_BUCKET);
    }
}

/// What the explanation shows of the window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvidenceSnapshot {
    /// Most frequent terms.
    pub top_terms: Vec<TermCount>,
    /// Most frequent hashtags (with `#`).
    pub top_hashtags: Vec<TermCount>,
    /// Largest audiences.
    pub top_authors: Vec<AuthorReach>,
    /// Sample posts, negative first then by reach.
    pub samples: Vec<SamplePost>,
}

/// The evidence of a watch over the last window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    window_buckets: usize,
    open: EvidenceBucket,
    window: VecDeque<EvidenceBucket>,
    #[serde(skip)]
    term_buf: String,
    #[serde(skip)]
    seen: Vec<u64>,
}

impl Evidence {
    /// An empty evidence window of `window_buckets` buckets.
    pub fn new(window_buckets: usize) -> Self {
        Self {
            window_buckets: window_buckets.max(1),
            open: EvidenceBucket::default(),
            window: VecDeque::new(),
            term_buf: String::new(),
            seen: Vec::new(),
        }
    }

    /// Number of buckets in the window.
    pub fn window_buckets(&self) -> usize {
        self.window_buckets
    }

    /// Adds a mention to the open bucket.
    pub fn observe(&mut self, m: &EnrichedMention) {
        let open = &mut self.open;
        let seen = &mut self.seen;
        seen.clear();
        // Each term counts once per post (document frequency), so repetition is not news.
        for text in [
            m.mention.title.as_deref().unwrap_or(""),
            m.mention.text.as_str(),
        ] {
            for_each_term(text, &mut self.term_buf, |term| {
                let h = stable_hash(term.as_bytes());
                if !seen.contains(&h) {
                    seen.push(h);
                    open.terms.add(term, TERMS_PER_BUCKET);
                }
            });
        }
        seen.clear();
        for tag in &m.enrichment.hashtags {
            let h = stable_hash(tag.as_bytes());
            if !seen.contains(&h) {
                seen.push(h);
                open.hashtags.add(tag, HASHTAGS_PER_BUCKET);
            }
        }
        if !m.enrichment.own_account {
            open.add_author(m);
        }
        open.add_sample(m);
    }

    /// Closes the open bucket into the window.
    pub fn close_one(&mut self) {
        let closed = std::mem::take(&mut self.open);
        self.window.push_back(closed);
        while self.window.len() > self.window_buckets {
            self.window.pop_front();
        }
    }

    /// Merges the window's buckets into the lists an explanation shows.
    pub fn snapshot(&self) -> EvidenceSnapshot {
        let top = |pick: fn(&EvidenceBucket) -> &TopCounter, prefix: &str| {
            let mut merged: BTreeMap<&str, u64> = BTreeMap::new();
            for b in &self.window {
                for (k, c) in &pick(b).counts {
                    *merged.entry(k.as_str()).or_default() += c;
                }
            }
            let mut v: Vec<(&str, u64)> = merged.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            v.into_iter()
                .take(TOP_N)
                .map(|(t, count)| TermCount {
                    term: format!("{prefix}{t}"),
                    count,
                })
                .collect::<Vec<_>>()
        };
        let mut authors: BTreeMap<u64, AuthorReach> = BTreeMap::new();
        for e in self.window.iter().flat_map(|b| &b.authors) {
            authors
                .entry(e.hash)
                .and_modify(|a| {
                    a.mentions += e.reach.mentions;
                    a.followers = a.followers.max(e.reach.followers);
                    a.verified |= e.reach.verified;
                })
                .or_insert_with(|| e.reach.clone());
        }
        let mut top_authors: Vec<AuthorReach> = authors.into_values().collect();
        top_authors.sort_by(|a, b| {
            b.followers
                .cmp(&a.followers)
                .then(b.mentions.cmp(&a.mentions))
                .then(a.handle.cmp(&b.handle))
        });
        top_authors.truncate(MAX_AUTHORS);
        let mut samples: Vec<SamplePost> = self
            .window
            .iter()
            .flat_map(|b| b.samples.iter().cloned())
            .collect();
        samples.sort_by(sample_order);
        samples.truncate(MAX_SAMPLES);
        EvidenceSnapshot {
            top_terms: top(|b| &b.terms, ""),
            top_hashtags: top(|b| &b.hashtags, "#"),
            top_authors,
            samples,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::mention;

    fn post(
        i: i64,
        author: &str,
        text: &str,
        tags: &[&str],
        neg: bool,
        reach: u64,
    ) -> EnrichedMention {
        let label = if neg {
            SentimentLabel::Negative
        } else {
            SentimentLabel::Neutral
        };
        let mut m = mention(i * 1000, author, label, reach);
        m.mention.text = text.into();
        m.enrichment.hashtags = tags.iter().map(|t| t.to_string()).collect();
        m
    }

    #[test]
    fn top_lists_rank_the_window() {
        let mut e = Evidence::new(2);
        for i in 0..30 {
            e.observe(&post(
                i,
                &format!("u{i}"),
                "Grève grève à l'usine de Lyon",
                &["boycott"],
                i % 3 == 0,
                i as u64,
            ));
        }
        e.observe(&post(
            40,
            "bigmedia",
            "Le scandale de l'usine",
            &["boycott", "scandale"],
            false,
            2_000_000,
        ));
        e.close_one();
        let s = e.snapshot();
        assert_eq!(
            s.top_terms[0],
            TermCount {
                term: "usine".into(),
                count: 31
            }
        );
        // "greve" twice in a post counts once.
        assert!(s.top_terms.contains(&TermCount {
            term: "greve".into(),
            count: 30
        }));
        assert_eq!(
            s.top_hashtags[0],
            TermCount {
                term: "#boycott".into(),
                count: 31
            }
        );
        assert_eq!(s.top_authors[0].handle, "bigmedia");
        assert_eq!(s.top_authors.len(), MAX_AUTHORS);
        // Negative first, then reach: u27 (27, negative) leads, bigmedia is not negative.
        assert_eq!(s.samples.len(), MAX_SAMPLES);
        assert_eq!(s.samples[0].author, "u27");
        assert!(
            s.samples
                .iter()
                .all(|p| p.sentiment == SentimentLabel::Negative)
        );
    }

    #[test]
    fn window_slides_and_memory_is_bounded() {
        let mut e = Evidence::new(2);
        for i in 0..5_000 {
            e.observe(&post(i, "a", &format!("word{i} common"), &[], false, 1));
        }
        assert!(e.open.terms.counts.len() <= TERMS_PER_BUCKET);
        e.close_one();
        assert!(
            e.snapshot()
                .top_terms
                .iter()
                .any(|t| t.term == "common" && t.count > 4_000)
        );
        e.close_one();
        e.close_one();
        let s = e.snapshot();
        assert!(s.top_terms.is_empty() && s.samples.is_empty());
    }

    #[test]
    fn state_round_trips() {
        let mut e = Evidence::new(3);
        e.observe(&post(1, "a", "panne générale", &["panne"], true, 5));
        e.close_one();
        let v = serde_json::to_value(&e).unwrap();
        let back: Evidence = serde_json::from_value(v).unwrap();
        assert_eq!(back.snapshot(), e.snapshot());
    }
}
