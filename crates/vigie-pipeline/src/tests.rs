//! The pipeline end to end on a real SQLite file: de-duplication of replays, draining on
//! shutdown, checkpoints and resume of a file source.

use crate::{Envelope, PipelineBuilder, PipelineEvent, PipelineReport};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use vigie_config::Config;
use vigie_connect::connectors::FileConnector;
use vigie_connect::demo::{DemoOptions, generate, to_jsonl};
use vigie_connect::format::Format;
use vigie_model::{LevelChange, Mention, WorkspaceId};
use vigie_store::Store;

fn config() -> Arc<Config> {
    Arc::new(Config::embedded_default())
}

fn ws() -> WorkspaceId {
    WorkspaceId::new("orsane").unwrap()
}

async fn store(dir: &tempfile::TempDir, name: &str) -> Arc<dyn Store> {
    vigie_store::open_store(&dir.path().join(name).display().to_string())
        .await
        .unwrap()
}

fn story() -> Vec<Mention> {
    generate(&DemoOptions {
        chatter_days: 2,
        ..DemoOptions::default()
    })
    .mentions
}

/// Feeds `batches` in order and returns the report and the level changes.
async fn run(
    store: Arc<dyn Store>,
    batches: Vec<Vec<Mention>>,
) -> (PipelineReport, Vec<LevelChange>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let pipeline = PipelineBuilder::new(config(), store)
        .channel_capacity(2)
        .events(tx)
        .start()
        .await
        .unwrap();
    let ingest = pipeline.ingest();
    for mentions in batches {
        ingest
            .send(Envelope {
                workspace: ws(),
                source: None,
                mentions,
                cursor: None,
                receipts: Default::default(),
            })
            .await
            .unwrap();
    }
    drop(ingest);
    let report = pipeline.shutdown().await.unwrap();
    let mut changes = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let PipelineEvent::LevelChanged(c) = e {
            changes.push(c);
        }
    }
    (report, changes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivered_batches_are_stored_and_detected_once() {
    let dir = tempfile::tempdir().unwrap();
    let mentions = story();
    let n = mentions.len() as u64;
    let once: Vec<Vec<Mention>> = mentions.chunks(100).map(<[Mention]>::to_vec).collect();
    // At-least-once delivery: every batch arrives twice (a source retrying after a crash).
    let twice: Vec<Vec<Mention>> = once.iter().flat_map(|b| [b.clone(), b.clone()]).collect();

    let (r1, levels1) = run(store(&dir, "a.db").await, once).await;
    let (r2, levels2) = run(store(&dir, "b.db").await, twice).await;
    assert_eq!((r1.stored, r1.duplicates), (n, 0));
    assert_eq!((r2.stored, r2.duplicates), (n, n));
    assert!(!levels1.is_empty(), "the story should raise levels");
    assert_eq!(levels1, levels2, "replays must not change detection");
    assert_eq!(r1.signals, r2.signals);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_every_in_flight_mention() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, "v.db").await;
    let mentions = story();
    let n = mentions.len() as u64;
    // Small batches and a capacity of 2: most are still queued when shutdown starts.
    let batches = mentions.chunks(7).map(<[Mention]>::to_vec).collect();
    let (report, _) = run(store.clone(), batches).await;
    assert_eq!(report.received, n);
    assert_eq!(store.count_mentions(&ws()).await.unwrap(), n);
    // The detector state was saved on shutdown and is restored by the next pipeline.
    let watch = vigie_model::WatchId::new("orsane").unwrap();
    assert!(
        store
            .load_detector_state(&ws(), &watch)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_workspace_is_rejected_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, "v.db").await;
    let pipeline = PipelineBuilder::new(config(), store.clone())
        .start()
        .await
        .unwrap();
    let other = WorkspaceId::new("elsewhere").unwrap();
    pipeline
        .ingest()
        .send(Envelope {
            workspace: other.clone(),
            source: None,
            mentions: story(),
            cursor: None,
            receipts: Default::default(),
        })
        .await
        .unwrap();
    let report = pipeline.shutdown().await.unwrap();
    assert_eq!((report.rejected, report.stored), (1, 0));
    assert_eq!(store.count_mentions(&other).await.unwrap(), 0);
}

async fn wait_for_count(store: &dyn Store, n: u64) {
    for _ in 0..200 {
        if store.count_mentions(&ws()).await.unwrap() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {n} mentions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_source_checkpoints_and_resumes_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, "v.db").await;
    let mentions = story();
    let path = dir.path().join("feed.jsonl");
    std::fs::write(&path, to_jsonl(&mentions[..300])).unwrap();
    let connector = || {
        Box::new(FileConnector::new(
            "feed",
            path.clone(),
            Format::Jsonl,
            Duration::from_millis(20),
        ))
    };

    let mut pipeline = PipelineBuilder::new(config(), store.clone())
        .start()
        .await
        .unwrap();
    pipeline.spawn_source(connector(), ws());
    wait_for_count(store.as_ref(), 300).await;
    let report = pipeline.shutdown().await.unwrap();
    assert_eq!((report.received, report.stored), (300, 300));
    let cursor = store
        .load_checkpoint(&ws(), "feed")
        .await
        .unwrap()
        .expect("checkpoint saved");
    assert!(
        cursor.starts_with(&format!("{}:", std::fs::metadata(&path).unwrap().len())),
        "{cursor}"
    );

    // Lines appended while Vigie was down are delivered after the restart, and only those.
    let mut doc = std::fs::read_to_string(&path).unwrap();
    doc.push_str(&to_jsonl(&mentions[300..450]));
    std::fs::write(&path, doc).unwrap();
    let mut pipeline = PipelineBuilder::new(config(), store.clone())
        .start()
        .await
        .unwrap();
    pipeline.spawn_source(connector(), ws());
    wait_for_count(store.as_ref(), 450).await;
    let report = pipeline.shutdown().await.unwrap();
    assert_eq!(
        (report.received, report.stored, report.duplicates),
        (150, 150, 0)
    );
}

/// A source that delivered every minute and then stops raises one `SourceSilent` signal on
/// a clock tick, once its silence exceeds four usual intervals (floor 15 min).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_stops_delivering_raises_source_silent() {
    use vigie_model::{ManualClock, SignalKind, Timestamp};
    let toml = format!(
        "{}\n[[workspaces.sources]]\ntype = \"jsonl\"\nid = \"feed\"\npath = \"feed.jsonl\"\n",
        vigie_config::EMBEDDED_DEFAULT_TOML
    );
    let config = Arc::new(vigie_config::parse(&toml, "test.toml").unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, "silence.db").await;
    let t0 = Timestamp::parse_rfc3339("2026-03-10T08:00:00Z").unwrap();
    let clock = Arc::new(ManualClock::new(t0));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let pipeline = PipelineBuilder::new(config, store.clone())
        .clock(clock.clone())
        .tick_mode(crate::TickMode::Clock {
            clock: clock.clone(),
            every: Duration::from_millis(20),
        })
        .events(tx)
        .start()
        .await
        .unwrap();
    let ingest = pipeline.ingest();
    let mentions = story();
    let silent = |rx: &mut mpsc::UnboundedReceiver<PipelineEvent>| {
        let mut n = 0;
        while let Ok(e) = rx.try_recv() {
            if let PipelineEvent::Signal(s) = e
                && s.kind == SignalKind::SourceSilent
            {
                assert!(s.detail.contains("feed"), "{}", s.detail);
                n += 1;
            }
        }
        n
    };
    // Twelve deliveries a minute apart: the usual interval is learnt.
    for (i, m) in mentions.iter().take(12).enumerate() {
        ingest
            .send(Envelope {
                workspace: ws(),
                source: Some("feed".into()),
                mentions: vec![m.clone()],
                cursor: Some(i.to_string()),
                receipts: Default::default(),
            })
            .await
            .unwrap();
        wait_for_count(store.as_ref(), i as u64 + 1).await;
        clock.set(t0.plus_minutes(i as i64 + 1));
    }
    // Ten quiet minutes are not a silence yet (floor 15 min).
    clock.set(t0.plus_minutes(21));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(silent(&mut rx), 0);
    // Half an hour without anything is.
    clock.set(t0.plus_minutes(45));
    let mut found = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        found += silent(&mut rx);
        if found > 0 {
            break;
        }
    }
    assert_eq!(found, 1, "one SourceSilent signal");
    drop(ingest);
    pipeline.shutdown().await.unwrap();
}
