//! The checks every backend must pass. Each takes a fresh, migrated, empty store.

use super::data::{
    T0, at, full_mention, incident, level_change, sample_mention, signal, watch, ws,
};
use crate::{MentionFilter, Store, StoreError, StoredMention, WatchRecord};
use std::collections::HashSet;
use std::sync::Arc;
use vigie_model::{
    CrisisLevel, EnrichedMention, IncidentEvent, IncidentEventKind, SentimentLabel, SignalKind,
    Timestamp, WorkspaceId,
};

type S = Arc<dyn Store>;

fn batch(workspace: &WorkspaceId, range: std::ops::Range<u64>) -> Vec<EnrichedMention> {
    range.map(|i| sample_mention(workspace, i)).collect()
}

/// Every page of `filter`, walked with the cursors.
async fn walk(store: &S, mut filter: MentionFilter) -> Vec<StoredMention> {
    let mut all = Vec::new();
    loop {
        let page = store.list_mentions(&filter).await.unwrap();
        assert!(page.items.len() <= filter.limit as usize);
        all.extend(page.items);
        match page.next_cursor {
            Some(c) => filter.cursor = Some(c),
            None => return all,
        }
    }
}

/// External ids, in order.
fn ids(items: &[StoredMention]) -> Vec<String> {
    items
        .iter()
        .map(|m| m.mention.mention.external_id.clone())
        .collect()
}

/// The expected order: published_at DESC, then store id DESC.
fn assert_newest_first(items: &[StoredMention]) {
    for pair in items.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let ka = (a.mention.mention.published_at, a.id);
        let kb = (b.mention.mention.published_at, b.id);
        assert!(ka > kb, "{ka:?} should come before {kb:?}");
    }
}

pub(crate) async fn migrate_twice_is_fine(store: S) {
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert!(["sqlite", "postgres"].contains(&store.backend()));
    assert!(store.list_workspaces().await.unwrap().is_empty());
    assert_eq!(store.count_mentions(&ws("acme")).await.unwrap(), 0);
}

pub(crate) async fn insert_is_idempotent(store: S) {
    let a = ws("acme");
    let mentions = batch(&a, 0..20);
    assert_eq!(
        store.insert_mentions(&mentions).await.unwrap(),
        vec![true; 20]
    );
    assert_eq!(
        store.insert_mentions(&mentions).await.unwrap(),
        vec![false; 20]
    );
    assert_eq!(store.count_mentions(&a).await.unwrap(), 20);
    // A changed copy under the same key is a duplicate and leaves the stored row alone.
    let mut changed = mentions[3].clone();
    changed.mention.text = "edited".into();
    assert_eq!(
        store.insert_mentions(&[changed]).await.unwrap(),
        vec![false]
    );
    let all = walk(&store, MentionFilter::workspace(a.clone())).await;
    assert_eq!(all.len(), 20);
    let stored = all
        .iter()
        .find(|m| m.mention.mention.external_id == "m3")
        .unwrap();
    assert_eq!(stored.mention, mentions[3]);
    assert_eq!(
        store.insert_mentions(&[]).await.unwrap(),
        Vec::<bool>::new()
    );
}

pub(crate) async fn duplicates_inside_one_batch_count_once(store: S) {
    let a = ws("acme");
    let (m0, m1, m2) = (
        sample_mention(&a, 0),
        sample_mention(&a, 1),
        sample_mention(&a, 2),
    );
    let mut m0_again = m0.clone();
    m0_again.mention.text = "second copy".into();
    let mut other_source = m1.clone();
    other_source.mention.source = "bluesky".into();
    let got = store
        .insert_mentions(&[
            m0.clone(),
            m1.clone(),
            m0_again,
            m2,
            m1.clone(),
            other_source,
        ])
        .await
        .unwrap();
    assert_eq!(got, vec![true, true, false, true, false, true]);
    assert_eq!(store.count_mentions(&a).await.unwrap(), 4);
    let all = walk(&store, MentionFilter::workspace(a)).await;
    let first = all
        .iter()
        .find(|m| m.mention == m0)
        .map(|m| m.mention.mention.text.clone());
    assert_eq!(first.as_deref(), Some(m0.mention.text.as_str()));
}

pub(crate) async fn workspaces_are_isolated(store: S) {
    let (a, b) = (ws("acme"), ws("globex"));
    let brand = watch("brand");
    let record = WatchRecord {
        id: brand.clone(),
        name: "Brand".into(),
        query: "acme".into(),
        languages: vec![],
        own_accounts: vec![],
        active: true,
    };
    store.sync_watches(&a, &[record]).await.unwrap();
    store.insert_mentions(&batch(&a, 0..10)).await.unwrap();
    store
        .insert_signals(&[signal(&a, "brand", 1000, SignalKind::VolumeSpike)])
        .await
        .unwrap();
    let change = level_change(&a, "brand", 1000, CrisisLevel::Calm, CrisisLevel::Alert);
    store.record_level_change(&change).await.unwrap();
    let a_incident = incident(&a, "brand", 1000);
    let id = store.save_incident(&a_incident).await.unwrap();
    store.save_checkpoint(&a, "mastodon", "42").await.unwrap();
    store
        .save_detector_state(&a, &brand, &serde_json::json!({"n": 1}))
        .await
        .unwrap();

    assert!(store.list_watches(&b).await.unwrap().is_empty());
    assert_eq!(store.count_mentions(&b).await.unwrap(), 0);
    assert!(
        store
            .list_mentions(&MentionFilter::workspace(b.clone()))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let mut by_watch = MentionFilter::workspace(b.clone());
    by_watch.watch = Some(brand.clone());
    assert!(
        store
            .list_mentions(&by_watch)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(store.list_signals(&b, None, 100).await.unwrap().is_empty());
    assert!(
        store
            .list_signals(&b, Some(&brand), 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.current_levels(&b).await.unwrap().is_empty());
    assert!(store.level_history(&b, None).await.unwrap().is_empty());
    assert!(store.list_incidents(&b).await.unwrap().is_empty());
    assert_eq!(store.load_checkpoint(&b, "mastodon").await.unwrap(), None);
    assert_eq!(store.load_detector_state(&b, &brand).await.unwrap(), None);

    // The same (source, external_id) is a different mention in another workspace.
    assert_eq!(
        store.insert_mentions(&batch(&b, 0..3)).await.unwrap(),
        vec![true; 3]
    );
    assert_eq!(store.count_mentions(&a).await.unwrap(), 10);
    assert_eq!(store.count_mentions(&b).await.unwrap(), 3);
    assert_eq!(
        store.list_workspaces().await.unwrap(),
        vec![a.clone(), b.clone()]
    );

    // B cannot overwrite A's incident by guessing its id.
    let mut hijack = incident(&b, "brand", 5000);
    hijack.id = id;
    let err = store.save_incident(&hijack).await.unwrap_err();
    assert!(err.is_client_error(), "{err}");
    let mut expected = a_incident;
    expected.id = id;
    assert_eq!(store.list_incidents(&a).await.unwrap(), vec![expected]);
}

pub(crate) async fn list_mentions_filters_and_orders(store: S) {
    let a = ws("acme");
    let all_mentions = batch(&a, 0..30);
    store.insert_mentions(&all_mentions).await.unwrap();
    let expect = |pred: &dyn Fn(u64) -> bool| -> Vec<String> {
        (0..30u64)
            .rev()
            .filter(|&i| pred(i))
            .map(|i| format!("m{i}"))
            .collect()
    };
    let run = |f: MentionFilter| {
        let store = Arc::clone(&store);
        async move {
            let items = walk(&store, f).await;
            assert_newest_first(&items);
            ids(&items)
        }
    };
    let base = || {
        let mut f = MentionFilter::workspace(a.clone());
        f.limit = 7;
        f
    };
    assert_eq!(run(base()).await, expect(&|_| true));

    let mut f = base();
    f.watch = Some(watch("ceo"));
    assert_eq!(run(f).await, expect(&|i| i % 3 == 0));

    let mut f = base();
    f.watch = Some(watch("nobody"));
    assert_eq!(run(f).await, Vec::<String>::new());

    let mut f = base();
    f.since = Some(at(10_000));
    f.until = Some(at(20_000));
    assert_eq!(
        run(f).await,
        expect(&|i| (10..20).contains(&i)),
        "since inclusive, until exclusive"
    );

    let mut f = base();
    f.sentiment = Some(SentimentLabel::Negative);
    assert_eq!(run(f).await, expect(&|i| i % 3 == 0));

    let mut f = base();
    f.language = Some("en".into());
    assert_eq!(run(f).await, expect(&|i| i % 2 == 1));

    let mut f = base();
    f.watch = Some(watch("ceo"));
    f.language = Some("fr".into());
    f.sentiment = Some(SentimentLabel::Negative);
    f.since = Some(at(6_000));
    assert_eq!(run(f).await, expect(&|i| i % 6 == 0 && i >= 6));

    let mut f = base();
    f.sentiment = Some(SentimentLabel::Positive);
    f.until = Some(at(0));
    assert_eq!(run(f).await, Vec::<String>::new());
}

pub(crate) async fn pagination_walks_every_mention_once(store: S) {
    let a = ws("acme");
    // 57 mentions, five per second: many share a timestamp, so the id breaks ties.
    let mut mentions = batch(&a, 0..57);
    for (i, m) in mentions.iter_mut().enumerate() {
        m.mention.published_at = at((i as i64 / 5) * 1000);
    }
    // Inserted out of time order, in two batches.
    mentions.reverse();
    store.insert_mentions(&mentions[..30]).await.unwrap();
    store.insert_mentions(&mentions[30..]).await.unwrap();

    for limit in [1, 5, 10, 19, 57, 100] {
        let mut f = MentionFilter::workspace(a.clone());
        f.limit = limit;
        let items = walk(&store, f).await;
        assert_eq!(items.len(), 57, "limit {limit}");
        assert_newest_first(&items);
        let unique: HashSet<i64> = items.iter().map(|m| m.id).collect();
        assert_eq!(unique.len(), 57, "no duplicates with limit {limit}");
    }

    // A page that ends exactly at the last mention has no next cursor.
    let mut f = MentionFilter::workspace(a.clone());
    f.limit = 57;
    assert_eq!(store.list_mentions(&f).await.unwrap().next_cursor, None);
    f.limit = 56;
    let page = store.list_mentions(&f).await.unwrap();
    f.cursor = page.next_cursor;
    let last = store.list_mentions(&f).await.unwrap();
    assert_eq!(last.items.len(), 1);
    assert_eq!(last.next_cursor, None);

    // Same with a watch filter (19 of the 57 match `ceo`).
    let mut f = MentionFilter::workspace(a);
    f.watch = Some(watch("ceo"));
    f.limit = 4;
    let items = walk(&store, f).await;
    assert_eq!(items.len(), 19);
    assert_newest_first(&items);
}

pub(crate) async fn bad_cursor_and_limits(store: S) {
    let a = ws("acme");
    store.insert_mentions(&batch(&a, 0..1001)).await.unwrap();
    for bad in ["garbage", "12", "1:x", ""] {
        let mut f = MentionFilter::workspace(a.clone());
        f.cursor = Some(bad.into());
        let err = store.list_mentions(&f).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid { what: "cursor", .. }),
            "{err}"
        );
        assert!(err.is_client_error());
    }
    let mut f = MentionFilter::workspace(a.clone());
    f.limit = 0;
    let page = store.list_mentions(&f).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(page.next_cursor.is_some());
    f.limit = 5000;
    let page = store.list_mentions(&f).await.unwrap();
    assert_eq!(page.items.len(), 1000);
    f.cursor = page.next_cursor;
    let page = store.list_mentions(&f).await.unwrap();
    assert_eq!(ids(&page.items), vec!["m0".to_owned()]);
    assert_eq!(page.next_cursor, None);
}

pub(crate) async fn sync_watches_marks_removed_ones_inactive(store: S) {
    let a = ws("acme");
    let record = |id: &str, name: &str| WatchRecord {
        id: watch(id),
        name: name.into(),
        query: format!("\"{name}\" OR #{id}"),
        languages: vec!["fr".into(), "en".into()],
        own_accounts: vec![format!("{id}@mastodon.example")],
        active: true,
    };
    let (brand, ceo, rival) = (
        record("brand", "Brand"),
        record("ceo", "CEO"),
        record("rival", "Rival"),
    );
    store
        .sync_watches(&a, &[brand.clone(), ceo.clone(), rival.clone()])
        .await
        .unwrap();
    assert_eq!(
        store.list_watches(&a).await.unwrap(),
        vec![brand.clone(), ceo.clone(), rival.clone()]
    );
    assert_eq!(store.list_workspaces().await.unwrap(), vec![a.clone()]);

    let renamed = record("rival", "Rival Corp ✓");
    store
        .sync_watches(&a, &[renamed.clone(), brand.clone()])
        .await
        .unwrap();
    let retired = WatchRecord {
        active: false,
        ..ceo.clone()
    };
    assert_eq!(
        store.list_watches(&a).await.unwrap(),
        vec![renamed.clone(), brand.clone(), retired]
    );

    store
        .sync_watches(&a, std::slice::from_ref(&ceo))
        .await
        .unwrap();
    let got = store.list_watches(&a).await.unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0], ceo);
    assert!(got[1..].iter().all(|w| !w.active));

    store.sync_watches(&a, &[]).await.unwrap();
    assert!(
        store
            .list_watches(&a)
            .await
            .unwrap()
            .iter()
            .all(|w| !w.active)
    );
}

pub(crate) async fn signals_round_trip(store: S) {
    let a = ws("acme");
    let mut signals = vec![
        signal(&a, "brand", 3000, SignalKind::NegativeSurge),
        signal(&a, "brand", 1000, SignalKind::VolumeSpike),
        signal(&a, "ceo", 2000, SignalKind::InfluencerJoined),
        signal(&a, "brand", 4000, SignalKind::ViralPost),
    ];
    signals[1].score = f64::INFINITY;
    signals[2].expected = 0.0;
    store.insert_signals(&signals).await.unwrap();
    store.insert_signals(&signals[..2]).await.unwrap(); // a replay keeps one copy
    store.insert_signals(&[]).await.unwrap();

    let mut oldest_first = signals.clone();
    oldest_first.sort_by_key(|s| s.at);
    assert_eq!(
        store.list_signals(&a, None, 100).await.unwrap(),
        oldest_first
    );
    let brand_only: Vec<_> = oldest_first
        .iter()
        .filter(|s| s.watch.as_str() == "brand")
        .cloned()
        .collect();
    assert_eq!(
        store
            .list_signals(&a, Some(&watch("brand")), 100)
            .await
            .unwrap(),
        brand_only
    );
    // `limit` keeps the most recent ones, still oldest first.
    assert_eq!(
        store.list_signals(&a, None, 2).await.unwrap(),
        oldest_first[2..].to_vec()
    );
    assert!(store.list_signals(&a, None, 0).await.unwrap().is_empty());
}

pub(crate) async fn level_changes_and_current_levels(store: S) {
    use CrisisLevel::*;
    let a = ws("acme");
    let c1 = level_change(&a, "brand", 1000, Calm, Vigilance);
    let c2 = level_change(&a, "brand", 2000, Vigilance, Alert);
    let c3 = level_change(&a, "ceo", 1500, Calm, Vigilance);
    for c in [&c1, &c2, &c3, &c2] {
        store.record_level_change(c).await.unwrap();
    }
    // A late, older change goes into the history but does not override the current level.
    let late = level_change(&a, "brand", 500, Calm, Crisis);
    store.record_level_change(&late).await.unwrap();

    let levels = store.current_levels(&a).await.unwrap();
    assert_eq!(levels.len(), 2);
    assert_eq!(
        (levels[0].watch.as_str(), levels[0].level),
        ("brand", Alert)
    );
    assert_eq!(levels[0].since, c2.at);
    assert_eq!(levels[0].explanation, c2.explanation);
    assert_eq!(
        (levels[1].watch.as_str(), levels[1].level),
        ("ceo", Vigilance)
    );

    let history = store.level_history(&a, None).await.unwrap();
    assert_eq!(history, vec![late.clone(), c1.clone(), c3, c2.clone()]);
    assert_eq!(
        store
            .level_history(&a, Some(&watch("brand")))
            .await
            .unwrap(),
        vec![late, c1, c2]
    );

    let back = level_change(&a, "brand", 9000, Alert, Calm);
    store.record_level_change(&back).await.unwrap();
    assert_eq!(store.current_levels(&a).await.unwrap()[0].level, Calm);
}

pub(crate) async fn incidents_insert_update_list(store: S) {
    let a = ws("acme");
    let first = incident(&a, "brand", 1000);
    let second = incident(&a, "ceo", 5000);
    let id1 = store.save_incident(&first).await.unwrap();
    let id2 = store.save_incident(&second).await.unwrap();
    assert!(id1 > 0 && id2 > 0 && id1 != id2);
    let (mut first, mut second) = (first, second);
    first.id = id1;
    second.id = id2;
    assert_eq!(
        store.list_incidents(&a).await.unwrap(),
        vec![second.clone(), first.clone()]
    );

    first.level = CrisisLevel::Calm;
    first.peak_level = CrisisLevel::Crisis;
    first.closed_at = Some(at(60_000));
    first.timeline.push(IncidentEvent {
        at: at(60_000),
        kind: IncidentEventKind::Resolved,
        text: "retour au calme ✅".into(),
    });
    assert_eq!(store.save_incident(&first).await.unwrap(), id1);
    assert_eq!(
        store.list_incidents(&a).await.unwrap(),
        vec![second, first.clone()]
    );

    let mut unknown = first;
    unknown.id = id1.max(id2) + 1000;
    let err = store.save_incident(&unknown).await.unwrap_err();
    assert!(err.is_client_error(), "{err}");
    assert_eq!(store.list_incidents(&a).await.unwrap().len(), 2);
}

pub(crate) async fn checkpoints_and_detector_states_upsert(store: S) {
    let a = ws("acme");
    let brand = watch("brand");
    assert_eq!(store.load_checkpoint(&a, "mastodon").await.unwrap(), None);
    store
        .save_checkpoint(&a, "mastodon", "cursor-1")
        .await
        .unwrap();
    store
        .save_checkpoint(&a, "rss", "etag \"é\"")
        .await
        .unwrap();
    store
        .save_checkpoint(&a, "mastodon", "cursor-2")
        .await
        .unwrap();
    assert_eq!(
        store
            .load_checkpoint(&a, "mastodon")
            .await
            .unwrap()
            .as_deref(),
        Some("cursor-2")
    );
    assert_eq!(
        store.load_checkpoint(&a, "rss").await.unwrap().as_deref(),
        Some("etag \"é\"")
    );

    assert_eq!(store.load_detector_state(&a, &brand).await.unwrap(), None);
    let v1 = serde_json::json!({"buckets": [1, 2, 3], "baseline": 2.5, "terms": {"grève": 4}});
    let v2 = serde_json::json!({
        "buckets": [], "note": "réinitialisé 🔄", "nested": {"a": [true, null]}
    });
    store.save_detector_state(&a, &brand, &v1).await.unwrap();
    assert_eq!(
        store.load_detector_state(&a, &brand).await.unwrap(),
        Some(v1)
    );
    store.save_detector_state(&a, &brand, &v2).await.unwrap();
    assert_eq!(
        store.load_detector_state(&a, &brand).await.unwrap(),
        Some(v2)
    );
    assert_eq!(
        store.load_detector_state(&a, &watch("ceo")).await.unwrap(),
        None
    );
}

pub(crate) async fn full_mention_round_trips(store: S) {
    let a = ws("acme");
    let m = full_mention(&a);
    assert_eq!(
        store
            .insert_mentions(std::slice::from_ref(&m))
            .await
            .unwrap(),
        vec![true]
    );
    let page = store
        .list_mentions(&MentionFilter::workspace(a.clone()))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].mention, m);
    assert!(page.items[0].id > 0);
    let mut f = MentionFilter::workspace(a);
    f.watch = Some(watch("ceo"));
    f.language = Some("fr".into());
    f.sentiment = Some(SentimentLabel::Negative);
    f.since = Some(Timestamp::from_millis(T0 + 123));
    f.until = Some(Timestamp::from_millis(T0 + 124));
    assert_eq!(store.list_mentions(&f).await.unwrap().items[0].mention, m);
}

pub(crate) async fn failing_batch_stores_nothing(store: S) {
    let a = ws("acme");
    // 300 good mentions (more than one multi-row insert), then one a buggy connector made:
    // an empty external id, which the schema rejects. Nothing of the batch may remain.
    let mut mentions = batch(&a, 0..300);
    let mut bad = sample_mention(&a, 300);
    bad.mention.external_id = String::new();
    mentions.push(bad);
    let err = store.insert_mentions(&mentions).await.unwrap_err();
    assert!(matches!(err, StoreError::Query { .. }), "{err}");
    assert_eq!(store.count_mentions(&a).await.unwrap(), 0);
    let mut f = MentionFilter::workspace(a.clone());
    f.watch = Some(watch("brand"));
    assert!(store.list_mentions(&f).await.unwrap().items.is_empty());
    mentions.pop();
    assert_eq!(
        store.insert_mentions(&mentions).await.unwrap(),
        vec![true; 300]
    );
    assert_eq!(walk(&store, f).await.len(), 300);
}

pub(crate) async fn concurrent_inserts_count_each_mention_once(store: S) {
    let a = ws("acme");
    let mentions = Arc::new(batch(&a, 0..200));
    let tasks: Vec<_> = (0..4)
        .map(|k| {
            let (store, mentions) = (Arc::clone(&store), Arc::clone(&mentions));
            tokio::spawn(async move {
                // Each writer sends the batch in a different order and chunking.
                let mut flags = vec![false; mentions.len()];
                let size = 30 + 17 * k;
                let order: Vec<usize> = if k % 2 == 0 {
                    (0..200).collect()
                } else {
                    (0..200).rev().collect()
                };
                for chunk in order.chunks(size) {
                    let part: Vec<_> = chunk.iter().map(|&i| mentions[i].clone()).collect();
                    let got = store.insert_mentions(&part).await.unwrap();
                    for (&i, new) in chunk.iter().zip(got) {
                        flags[i] = new;
                    }
                }
                flags
            })
        })
        .collect();
    let mut times_new = vec![0; 200];
    for task in tasks {
        for (i, new) in task.await.unwrap().into_iter().enumerate() {
            times_new[i] += usize::from(new);
        }
    }
    assert!(times_new.iter().all(|&n| n == 1), "{times_new:?}");
    assert_eq!(store.count_mentions(&a).await.unwrap(), 200);
}
