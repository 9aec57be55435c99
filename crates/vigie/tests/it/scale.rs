//! Scale-out end to end with real processes, NATS JetStream and PostgreSQL: 1 ingest, 3
//! workers and 1 detector (`vigie serve --role …`), a worker and the detector killed with
//! SIGKILL mid-stream and restarted; every mention stored exactly once, and the levels and
//! incidents equal to the single-process run (`vigie import`) on the same stream.
//!
//! Needs `VIGIE_TEST_NATS_URL` (a nats-server ≥ 2.10 with JetStream:
//! `scripts/nats-test-server.sh` → nats://127.0.0.1:4223) and `VIGIE_TEST_POSTGRES_URL`;
//! skipped with a printed reason otherwise.

use crate::support::{postgres_url, stderr, unique, vigie};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigie_connect::demo::{DemoOptions, generate, to_jsonl};
use vigie_model::{Incident, LevelChange, WorkspaceId};
use vigie_store::{PostgresStore, Store};

fn nats_url() -> Option<String> {
    match std::env::var("VIGIE_TEST_NATS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipping: VIGIE_TEST_NATS_URL not set (see scripts/nats-test-server.sh)");
            None
        }
    }
}

/// One `vigie serve --role …` process, its stderr in a file.
struct Role {
    child: Child,
    log: PathBuf,
}

impl Role {
    fn start(dir: &Path, role: &str, n: usize, db: &str, bus: &str, ns: &str) -> Self {
        let log = dir.join(format!("{role}-{n}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_vigie"))
            .args([
                "serve",
                "--config",
                "vigie.toml",
                "--database",
                db,
                "--role",
                role,
                "--bus",
                bus,
                "--bus-namespace",
                ns,
                // JetStream reserves max-bytes per stream: keep the test's streams small.
                "--bus-max-bytes",
                "67108864",
                // A killed worker's or detector's batches come back after this.
                "--bus-ack-wait",
                "20s",
                "--listen",
                "127.0.0.1:0",
                "--event-time",
            ])
            .current_dir(dir)
            .env_remove("VIGIE_DATABASE_URL")
            // VIGIE_TEST_ROLE_LOG=info shows what each role did when the test fails
            .env(
                "RUST_LOG",
                std::env::var("VIGIE_TEST_ROLE_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        Self { child, log }
    }

    /// Waits until the role says it serves (its bus and store are connected), failing with
    /// its log if it exits or takes longer than `limit`.
    fn wait_ready(&mut self, limit: Duration) {
        let start = Instant::now();
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.contains(" role on http://") {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "{} exited ({status}) before serving:\n{log}",
                    self.log.display()
                );
            }
            assert!(
                start.elapsed() < limit,
                "{} not ready after {limit:?}:\n{log}",
                self.log.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `None` while running, or how it ended and its log.
    fn exited(&mut self) -> Option<String> {
        let status = self.child.try_wait().unwrap()?;
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        Some(format!("{} exited ({status}):\n{log}", self.log.display()))
    }

    /// SIGKILL: no clean shutdown, no last checkpoint.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then the exit status must be a success.
    fn stop(mut self) -> String {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let status = self.child.wait().unwrap();
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        assert!(status.success(), "{}: {log}", self.log.display());
        log
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What must be identical: level changes and incidents (store ids aside).
async fn outcome(store: &dyn Store, ws: &WorkspaceId) -> (Vec<LevelChange>, Vec<Incident>) {
    let levels = store.level_history(ws, None).await.unwrap();
    let mut incidents = store.list_incidents(ws).await.unwrap();
    for i in &mut incidents {
        i.id = 0;
    }
    incidents.sort_by(|a, b| (a.watch.as_str(), a.opened_at).cmp(&(b.watch.as_str(), b.opened_at)));
    (levels, incidents)
}

/// Every role's log, for failure messages.
fn all_logs(dir: &Path) -> String {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            let log = std::fs::read_to_string(p).unwrap_or_default();
            format!("--- {}\n{log}\n", p.display())
        })
        .collect()
}

/// Polls `done` until it holds; fails with every role's log when a role has died or
/// `limit` has passed.
async fn wait_until<F, Fut>(
    what: &str,
    limit: Duration,
    roles: &mut [&mut Role],
    dir: &Path,
    mut done: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !done().await {
        for r in roles.iter_mut() {
            if let Some(why) = r.exited() {
                panic!("waiting for {what}: a role died: {why}\n{}", all_logs(dir));
            }
        }
        assert!(
            start.elapsed() < limit,
            "timed out waiting for {what} after {limit:?}\n{}",
            all_logs(dir)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_over_nats_and_postgres_survive_kills_and_match_the_single_process_run() {
    let (Some(pg), Some(nats)) = (postgres_url(), nats_url()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mentions = generate(&DemoOptions {
        chatter_days: 2,
        ..DemoOptions::default()
    })
    .mentions;
    let total = mentions.len();
    let ws = WorkspaceId::new("orsane").unwrap();

    // The reference: the same stream through the single process, into SQLite.
    std::fs::write(dir.path().join("all.jsonl"), to_jsonl(&mentions)).unwrap();
    let out = vigie(
        dir.path(),
        &["import", "all.jsonl", "--database", "reference.db"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let reference_store =
        vigie_store::open_store(&dir.path().join("reference.db").display().to_string())
            .await
            .unwrap();
    let reference = outcome(reference_store.as_ref(), &ws).await;
    assert!(!reference.0.is_empty(), "the story must change levels");

    // The scaled-out run: its own PostgreSQL schema and NATS namespace.
    let schema = unique("vigie_scale").replace('-', "_");
    let store = Arc::new(
        PostgresStore::connect_temporary(&pg, &schema)
            .await
            .unwrap(),
    );
    store.migrate().await.unwrap();
    let sep = if pg.contains('?') { '&' } else { '?' };
    let db = format!("{pg}{sep}options=-c%20search_path%3D{schema}");
    let ns = schema.replace('_', "-");
    let config = format!(
        "{}\n[[workspaces.sources]]\ntype = \"jsonl\"\nid = \"feed\"\npath = \"feed.jsonl\"\npoll_interval = \"100ms\"\n",
        vigie_config::EMBEDDED_DEFAULT_TOML
    );
    std::fs::write(dir.path().join("vigie.toml"), config).unwrap();
    let feed = dir.path().join("feed.jsonl");
    let cut = [total * 2 / 5, total * 7 / 10];
    std::fs::write(&feed, to_jsonl(&mentions[..cut[0]])).unwrap();

    let ready = Duration::from_secs(120);
    let start = |role: &str, n: usize| {
        let mut r = Role::start(dir.path(), role, n, &db, &nats, &ns);
        r.wait_ready(ready);
        r
    };
    let mut detector = start("detector", 0);
    let mut workers: Vec<Role> = (0..3).map(|i| start("worker", i)).collect();
    let mut ingest = start("ingest", 0);

    let count = || {
        let store = store.clone();
        let ws = ws.clone();
        async move { store.count_mentions(&ws).await.unwrap() as usize }
    };
    {
        let mut roles: Vec<&mut Role> = workers.iter_mut().collect();
        roles.push(&mut detector);
        roles.push(&mut ingest);
        wait_until(
            "the first mentions",
            Duration::from_secs(90),
            &mut roles,
            dir.path(),
            || async { count().await > cut[0] / 4 },
        )
        .await;
    }
    // A worker dies mid-stream and comes back.
    workers.remove(0).kill();
    let mut file = std::fs::read_to_string(&feed).unwrap();
    file.push_str(&to_jsonl(&mentions[cut[0]..cut[1]]));
    std::fs::write(&feed, &file).unwrap();
    workers.push(start("worker", 3));

    {
        let mut roles: Vec<&mut Role> = workers.iter_mut().collect();
        roles.push(&mut detector);
        roles.push(&mut ingest);
        wait_until(
            "more mentions",
            Duration::from_secs(90),
            &mut roles,
            dir.path(),
            || async { count().await > cut[0] },
        )
        .await;
    }
    // The detector dies mid-stream and comes back (restored from its checkpoint).
    detector.kill();
    file.push_str(&to_jsonl(&mentions[cut[1]..]));
    std::fs::write(&feed, &file).unwrap();
    let mut detector = start("detector", 1);

    {
        let mut roles: Vec<&mut Role> = workers.iter_mut().collect();
        roles.push(&mut detector);
        roles.push(&mut ingest);
        wait_until(
            "every mention",
            Duration::from_secs(120),
            &mut roles,
            dir.path(),
            || async { count().await >= total },
        )
        .await;
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let got = outcome(store.as_ref(), &ws).await;
        if got == reference {
            break;
        }
        if Instant::now() > deadline {
            let brief = |o: &(Vec<LevelChange>, Vec<Incident>)| {
                let levels: Vec<String> = o
                    .0
                    .iter()
                    .map(|c| format!("{} {} {}→{}", c.watch, c.at, c.from.as_u8(), c.to.as_u8()))
                    .collect();
                let incidents: Vec<String> =
                    o.1.iter()
                        .map(|i| format!("{} {} {} events", i.watch, i.opened_at, i.timeline.len()))
                        .collect();
                format!("levels {levels:#?}\nincidents {incidents:#?}")
            };
            let logs = all_logs(dir.path());
            panic!(
                "the scaled-out run does not match the reference\nscaled: {}\nreference: {}\n{logs}",
                brief(&got),
                brief(&reference)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let ingest_log = ingest.stop();
    assert!(ingest_log.contains("ingest role stopped"), "{ingest_log}");
    for w in workers {
        w.stop();
    }
    detector.stop();
    // Exactly once: the unique key holds every mention once, and nothing is missing.
    assert_eq!(count().await, total);
    assert_eq!(outcome(store.as_ref(), &ws).await, reference);

    // Release the test's streams on the shared server.
    let mut settings = vigie_bus::NatsSettings::new(nats);
    settings.namespace = ns;
    settings.max_bytes = 67_108_864;
    let bus = vigie_bus::NatsBus::connect(settings).await.unwrap();
    bus.delete_streams().await.unwrap();
}
