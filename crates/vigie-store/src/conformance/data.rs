//! Test data for the conformance suite.

use vigie_model::{
    Author, AuthorReach, CrisisLevel, Engagement, EnrichedMention, Enrichment, Explanation,
    Incident, IncidentEvent, IncidentEventKind, LanguageGuess, LevelChange, Mention, SamplePost,
    Sentiment, SentimentLabel, Signal, SignalKind, TermCount, Timestamp, WatchId, WorkspaceId,
};

/// 2026-03-01T00:00:00Z.
pub(crate) const T0: i64 = 1_772_323_200_000;

pub(crate) fn ws(s: &str) -> WorkspaceId {
    WorkspaceId::new(s).unwrap()
}

pub(crate) fn watch(s: &str) -> WatchId {
    WatchId::new(s).unwrap()
}

pub(crate) fn at(offset_ms: i64) -> Timestamp {
    Timestamp::from_millis(T0 + offset_ms)
}

/// Mention number `i`: published `i` seconds after [`T0`], sentiment cycling
/// negative/neutral/positive, language alternating fr/en, matched to `brand`, and to `ceo`
/// when `i` is a multiple of 3.
pub(crate) fn sample_mention(workspace: &WorkspaceId, i: u64) -> EnrichedMention {
    let n = i64::try_from(i).unwrap();
    let label = [
        SentimentLabel::Negative,
        SentimentLabel::Neutral,
        SentimentLabel::Positive,
    ][(i % 3) as usize];
    let code = if i.is_multiple_of(2) { "fr" } else { "en" };
    let mut matched_watches = vec![watch("brand")];
    if i.is_multiple_of(3) {
        matched_watches.push(watch("ceo"));
    }
    EnrichedMention {
        workspace: workspace.clone(),
        mention: Mention {
            source: "mastodon".into(),
            external_id: format!("m{i}"),
            url: Some(format!("https://mastodon.example/@u{}/{i}", i % 50)),
            author: Author {
                handle: format!("u{}@mastodon.example", i % 50),
                name: None,
                followers: Some(i * 10),
                verified: false,
            },
            published_at: at(n * 1000),
            received_at: Some(at(n * 1000 + 500)),
            title: None,
            text: format!("mention {i} about the brand #outage"),
            lang: None,
            engagement: Engagement::default(),
            reply_to: None,
            quote_of: None,
            repost_of: None,
            country: None,
        },
        enrichment: Enrichment {
            language: Some(LanguageGuess {
                code: code.into(),
                confidence: 0.9,
            }),
            sentiment: Sentiment {
                label,
                score: -0.5,
                confidence: 0.75,
            },
            reach: i * 3,
            hashtags: vec!["outage".into()],
            handles: Vec::new(),
            links: Vec::new(),
            matched_watches,
            own_account: false,
        },
    }
}

/// A mention with every optional field set, unicode and emojis in the text.
pub(crate) fn full_mention(workspace: &WorkspaceId) -> EnrichedMention {
    EnrichedMention {
        workspace: workspace.clone(),
        mention: Mention {
            source: "bluesky".into(),
            external_id: "at://did:plc:abc/app.bsky.feed.post/3k…é".into(),
            url: Some("https://bsky.app/profile/x/post/3k?q=é&r=1".into()),
            author: Author {
                handle: "zoé.bsky.social".into(),
                name: Some("Zoé « Ψ » Dupré 🇫🇷".into()),
                followers: Some(1_234_567),
                verified: true,
            },
            published_at: Timestamp::from_millis(T0 + 123),
            received_at: Some(Timestamp::from_millis(T0 + 4_567)),
            title: Some("Grève : le colis n'arrivera pas".into()),
            text: concat!(
                "Colis perdu 😡🔥 — « inadmissible » !\n",
                "Ligne 2\t日本語 ✓ \u{1F600} 'quote' \"dq\" \\"
            )
            .into(),
            lang: Some("fr".into()),
            engagement: Engagement {
                reposts: 12,
                likes: 345,
                replies: 6,
                quotes: 7,
            },
            reply_to: Some("at://did:plc:abc/app.bsky.feed.post/parent".into()),
            quote_of: Some("at://did:plc:def/app.bsky.feed.post/quoted".into()),
            repost_of: Some("at://did:plc:ghi/app.bsky.feed.post/orig".into()),
            country: Some("FR".into()),
        },
        enrichment: Enrichment {
            language: Some(LanguageGuess {
                code: "fr".into(),
                confidence: 0.987_654_3,
            }),
            sentiment: Sentiment {
                label: SentimentLabel::Negative,
                score: -0.812_345_6,
                confidence: 0.333_333_34,
            },
            reach: 9_876_543_210,
            hashtags: vec!["grève".into(), "colis".into()],
            handles: vec!["laposte".into()],
            links: vec!["https://example.org/a?b=c".into()],
            matched_watches: vec![watch("brand"), watch("ceo")],
            own_account: true,
        },
    }
}

pub(crate) fn signal(workspace: &WorkspaceId, w: &str, offset_ms: i64, kind: SignalKind) -> Signal {
    Signal {
        workspace: workspace.clone(),
        watch: watch(w),
        at: at(offset_ms),
        kind,
        score: 3.5,
        observed: 42.0,
        expected: 7.25,
        detail: format!("{} on {w} 🚨", kind.as_str()),
    }
}

/// A fully populated explanation.
pub(crate) fn explanation(workspace: &WorkspaceId, summary: &str) -> Explanation {
    Explanation {
        summary: summary.into(),
        window_minutes: 30,
        mentions: 120,
        expected_mentions: 12.5,
        negative: 80,
        expected_negative: 3.25,
        distinct_authors: 95,
        others_share: 0.97,
        signals: vec![signal(workspace, "brand", 1000, SignalKind::NegativeSurge)],
        top_terms: vec![TermCount {
            term: "colis".into(),
            count: 40,
        }],
        top_hashtags: vec![TermCount {
            term: "#grève".into(),
            count: 31,
        }],
        top_authors: vec![AuthorReach {
            handle: "journaliste".into(),
            followers: 250_000,
            verified: true,
            mentions: 2,
        }],
        samples: vec![SamplePost {
            source: "mastodon".into(),
            external_id: "m1".into(),
            author: "journaliste".into(),
            published_at: at(900),
            sentiment: SentimentLabel::Negative,
            reach: 250_000,
            text: "Encore un colis perdu 😤".into(),
        }],
    }
}

pub(crate) fn level_change(
    workspace: &WorkspaceId,
    w: &str,
    offset_ms: i64,
    from: CrisisLevel,
    to: CrisisLevel,
) -> LevelChange {
    LevelChange {
        workspace: workspace.clone(),
        watch: watch(w),
        at: at(offset_ms),
        from,
        to,
        explanation: explanation(workspace, &format!("{w}: {from} → {to}")),
    }
}

pub(crate) fn incident(workspace: &WorkspaceId, w: &str, opened_ms: i64) -> Incident {
    Incident {
        id: 0,
        workspace: workspace.clone(),
        watch: watch(w),
        opened_at: at(opened_ms),
        closed_at: None,
        peak_level: CrisisLevel::Alert,
        level: CrisisLevel::Alert,
        timeline: vec![IncidentEvent {
            at: at(opened_ms),
            kind: IncidentEventKind::Opened,
            text: "ouvert : vague négative 🌊".into(),
        }],
    }
}
