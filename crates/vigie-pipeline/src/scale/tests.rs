//! The scaled-out roles over the in-process bus and a real SQLite file: the same levels and
//! incidents as the single-process pipeline, through worker and detector crashes, and a
//! poison message that goes to the dead letters without blocking anything.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::{Envelope, PipelineBuilder};
use vigie_bus::MemoryBus;
use vigie_connect::demo::{DemoOptions, generate};
use vigie_model::{Incident, LevelChange, SystemClock};
use vigie_store::{ScaleHandles, open_scale_store};

fn config() -> Arc<Config> {
    Arc::new(Config::embedded_default())
}

fn ws() -> WorkspaceId {
    WorkspaceId::new("orsane").unwrap()
}

fn batches() -> Vec<Vec<Mention>> {
    let mentions = generate(&DemoOptions {
        chatter_days: 2,
        ..DemoOptions::default()
    })
    .mentions;
    // The first batch is a whole file read at once: its enriched form is larger than one
    // bus message, so raw and detection batches must be split.
    let (first, rest) = mentions.split_at(2000);
    std::iter::once(first.to_vec())
        .chain(rest.chunks(100).map(<[Mention]>::to_vec))
        .collect()
}

/// What must be identical between runs: level changes and incidents (ids aside).
async fn outcome(store: &dyn Store) -> (Vec<LevelChange>, Vec<Incident>) {
    let levels = store.level_history(&ws(), None).await.unwrap();
    let mut incidents = store.list_incidents(&ws()).await.unwrap();
    for i in &mut incidents {
        i.id = 0;
    }
    incidents.sort_by(|a, b| (a.watch.as_str(), a.opened_at).cmp(&(b.watch.as_str(), b.opened_at)));
    (levels, incidents)
}

async fn single_process(dir: &tempfile::TempDir, batches: &[Vec<Mention>]) -> Arc<dyn Store> {
    let store = vigie_store::open_store(&dir.path().join("single.db").display().to_string())
        .await
        .unwrap();
    let pipeline = PipelineBuilder::new(config(), store.clone())
        .start()
        .await
        .unwrap();
    let ingest = pipeline.ingest();
    for b in batches {
        ingest
            .send(Envelope {
                workspace: ws(),
                source: None,
                mentions: b.clone(),
                cursor: None,
                receipts: Default::default(),
            })
            .await
            .unwrap();
    }
    drop(ingest);
    pipeline.shutdown().await.unwrap();
    store
}

fn ctx(bus: &Arc<dyn Bus>, h: &ScaleHandles) -> RoleContext {
    RoleContext {
        bus: bus.clone(),
        store: h.store.clone(),
        scale: h.scale.clone(),
        config: config(),
        clock: Arc::new(SystemClock),
    }
}

fn spawn_worker(
    bus: &Arc<dyn Bus>,
    h: &ScaleHandles,
    stop: &watch::Receiver<bool>,
) -> JoinHandle<Result<WorkerReport, PipelineError>> {
    tokio::spawn(run_worker(
        ctx(bus, h),
        WorkerOptions {
            fetch: 4,
            concurrency: 2,
            max_deliveries: 20,
            detector_partitions: 2,
            neural: None,
        },
        stop.clone(),
    ))
}

fn spawn_detector(
    bus: &Arc<dyn Bus>,
    h: &ScaleHandles,
    partition: Partition,
    stop: &watch::Receiver<bool>,
) -> JoinHandle<Result<PipelineReport, PipelineError>> {
    tokio::spawn(run_detector(
        ctx(bus, h),
        DetectorOptions {
            partition,
            checkpoint_batches: 7,
            ..DetectorOptions::default()
        },
        None,
        stop.clone(),
    ))
}

/// Waits (up to 60 s) until `done` holds.
async fn wait_for<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1200 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_over_a_bus_match_the_single_process_run_through_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let batches = batches();
    let total: usize = batches.iter().map(Vec::len).sum();
    let reference = outcome(single_process(&dir, &batches).await.as_ref()).await;
    assert!(!reference.0.is_empty(), "the story must change levels");

    let h = open_scale_store(&dir.path().join("scaled.db").display().to_string())
        .await
        .unwrap();
    let bus: Arc<dyn Bus> = Arc::new(MemoryBus::new(100_000));
    let (stop_tx, stop) = watch::channel(false);
    let parts = [
        Partition { index: 0, count: 2 },
        Partition { index: 1, count: 2 },
    ];
    // Consumers exist before anything is published (the workers make sure too).
    for p in parts {
        bus.consumer(Topic::Detect, &p.consumer_name())
            .await
            .unwrap();
    }
    let publisher = start_ingest(bus.clone(), h.store.clone(), Arc::new(SystemClock), 4);
    let ingest = publisher.ingest();
    let feeder = tokio::spawn(async move {
        for (i, b) in batches.into_iter().enumerate() {
            ingest
                .send(Envelope {
                    workspace: ws(),
                    source: Some("file".into()),
                    mentions: b,
                    cursor: Some(i.to_string()),
                    receipts: Default::default(),
                })
                .await
                .unwrap();
        }
    });
    // A poison message in the middle of the stream.
    bus.publish(Topic::Raw, "poison", b"{not json".to_vec())
        .await
        .unwrap();

    let w1 = spawn_worker(&bus, &h, &stop);
    let w2 = spawn_worker(&bus, &h, &stop);
    let d0 = spawn_detector(&bus, &h, parts[0], &stop);
    let d1 = spawn_detector(&bus, &h, parts[1], &stop);

    // Crash a worker and a detector mid-stream (their unacknowledged messages come back),
    // then start replacements.
    let store = h.store.clone();
    wait_for("a third of the mentions", || {
        let store = store.clone();
        async move { store.count_mentions(&ws()).await.unwrap() as usize > total / 3 }
    })
    .await;
    w1.abort();
    d0.abort();
    let _ = (w1.await, d0.await);
    let w3 = spawn_worker(&bus, &h, &stop);
    let d0 = spawn_detector(&bus, &h, parts[0], &stop);

    feeder.await.unwrap();
    let published = publisher.finish().await.unwrap();
    assert_eq!(published as usize, total);
    // An empty batch closes the stream: its sequence is the last one, whatever number of
    // parts the batches were split into. Every raw message (the batches, their parts and
    // the poison one) must be applied by both partitions.
    let end = RawBatch {
        workspace: ws(),
        source: None,
        mentions: Vec::new(),
        published_ms: 0,
    };
    let last = bus
        .publish(Topic::Raw, "end", serde_json::to_vec(&end).unwrap())
        .await
        .unwrap()
        .seq;
    let scale = h.scale.clone();
    wait_for("both partitions to apply everything", || {
        let scale = scale.clone();
        async move {
            let mut done = true;
            for p in parts {
                let next = scale
                    .load_detector_offset(&p.consumer_name())
                    .await
                    .unwrap();
                done &= next == Some(last + 1);
            }
            done
        }
    })
    .await;
    stop_tx.send_replace(true);
    // The poison message may have been handled by the worker that crashed.
    let mut dead = 0;
    for w in [w2, w3] {
        dead += w.await.unwrap().unwrap().dead_letters;
    }
    assert!(dead <= 1);
    for d in [d0, d1] {
        d.await.unwrap().unwrap();
    }

    assert_eq!(h.store.count_mentions(&ws()).await.unwrap() as usize, total);
    assert_eq!(outcome(h.store.as_ref()).await, reference);
    let letters = bus.dead_letters(Topic::Raw, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert!(
        letters[0].reason.starts_with("malformed payload"),
        "{}",
        letters[0].reason
    );
    assert_eq!(letters[0].payload, b"{not json");
}

#[test]
fn partitions_split_watches_and_parse() {
    let p = Partition::parse("1/3").unwrap();
    assert_eq!((p.index, p.count), (1, 3));
    for bad in ["3/3", "1", "a/2", "0/0"] {
        assert!(Partition::parse(bad).is_err(), "{bad}");
    }
    let w = WorkspaceId::new("orsane").unwrap();
    for name in ["brand", "ceo", "product", "x1", "x2"] {
        let watch = WatchId::new(name).unwrap();
        let owners = (0..3)
            .filter(|&i| Partition { index: i, count: 3 }.owns(&w, &watch))
            .count();
        assert_eq!(owners, 1, "{name} must have exactly one owner");
        assert!(Partition::ALL.owns(&w, &watch));
    }
}

#[test]
fn batches_split_into_parts_that_fit_in_order() {
    let items: Vec<u32> = (0..1000).collect();
    let size = |p: &[u32]| p.len() * 10;
    let ranges = split_to_fit(&items, 2_000, &size);
    assert!(ranges.len() > 1);
    // Consecutive, complete, each within the limit, and the same split every time.
    let mut next = 0;
    for r in &ranges {
        assert_eq!(r.start, next);
        assert!(size(&items[r.clone()]) <= 2_000, "{r:?}");
        next = r.end;
    }
    assert_eq!(next, items.len());
    assert_eq!(ranges, split_to_fit(&items, 2_000, &size));
    // Nothing to send is one empty part (the sequence still moves on); a lone item over
    // the limit comes back alone, for the caller to refuse.
    assert_eq!(split_to_fit(&items[..0], 10, &size), vec![0..0]);
    assert_eq!(split_to_fit(&items[..2], 5, &size), vec![0..1, 1..2]);
}
