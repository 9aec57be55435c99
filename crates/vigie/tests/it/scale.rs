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
                // The reference run is in-process with the fast engine: same sentiment.
                "--fast-sentiment",
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

/// What both scale tests share: the demo stream, the single-process reference outcome,
/// and a PostgreSQL schema, a bus namespace and a configuration following `feed.jsonl`.
struct Setup {
    mentions: Vec<vigie_model::Mention>,
    ws: WorkspaceId,
    reference: (Vec<LevelChange>, Vec<Incident>),
    store: Arc<PostgresStore>,
    db: String,
    ns: String,
    feed: PathBuf,
}

impl Setup {
    async fn new(dir: &Path, pg: &str) -> Self {
        let mentions = generate(&DemoOptions {
            chatter_days: 2,
            ..DemoOptions::default()
        })
        .mentions;
        let ws = WorkspaceId::new("orsane").unwrap();

        // The reference: the same stream through the single process, into SQLite.
        std::fs::write(dir.join("all.jsonl"), to_jsonl(&mentions)).unwrap();
        let out = vigie(dir, &["import", "all.jsonl", "--database", "reference.db"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let reference_store =
            vigie_store::open_store(&dir.join("reference.db").display().to_string())
                .await
                .unwrap();
        let reference = outcome(reference_store.as_ref(), &ws).await;
        assert!(!reference.0.is_empty(), "the story must change levels");

        // The scaled-out run: its own PostgreSQL schema and NATS namespace.
        let schema = unique("vigie_scale").replace('-', "_");
        let store = Arc::new(PostgresStore::connect_temporary(pg, &schema).await.unwrap());
        store.migrate().await.unwrap();
        let sep = if pg.contains('?') { '&' } else { '?' };
        let db = format!("{pg}{sep}options=-c%20search_path%3D{schema}");
        let ns = schema.replace('_', "-");
        let config = format!(
            "{}\n[[workspaces.sources]]\ntype = \"jsonl\"\nid = \"feed\"\npath = \"feed.jsonl\"\npoll_interval = \"100ms\"\n",
            vigie_config::EMBEDDED_DEFAULT_TOML
        );
        std::fs::write(dir.join("vigie.toml"), config).unwrap();
        Self {
            mentions,
            ws,
            reference,
            store,
            db,
            ns,
            feed: dir.join("feed.jsonl"),
        }
    }

    async fn count(&self) -> usize {
        self.store.count_mentions(&self.ws).await.unwrap() as usize
    }

    /// Appends `range` of the stream to the followed file.
    fn feed(&self, range: std::ops::Range<usize>) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.feed)
            .unwrap();
        f.write_all(to_jsonl(&self.mentions[range]).as_bytes())
            .unwrap();
    }

    /// Waits until the levels and incidents equal the single-process run's.
    async fn wait_for_reference(&self, dir: &Path) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let got = outcome(self.store.as_ref(), &self.ws).await;
            if got == self.reference {
                return;
            }
            if Instant::now() > deadline {
                let brief = |o: &(Vec<LevelChange>, Vec<Incident>)| {
                    let levels: Vec<String> =
                        o.0.iter()
                            .map(|c| {
                                format!("{} {} {}→{}", c.watch, c.at, c.from.as_u8(), c.to.as_u8())
                            })
                            .collect();
                    let incidents: Vec<String> = o
                        .1
                        .iter()
                        .map(|i| format!("{} {} {} events", i.watch, i.opened_at, i.timeline.len()))
                        .collect();
                    format!("levels {levels:#?}\nincidents {incidents:#?}")
                };
                panic!(
                    "the scaled-out run does not match the reference\nscaled: {}\nreference: {}\n{}",
                    brief(&got),
                    brief(&self.reference),
                    all_logs(dir)
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Exactly once: the unique key holds every mention once, nothing is missing, and the
    /// outcome is the reference's. Then the test's streams are released.
    async fn finish(&self, bus_url: &str) {
        assert_eq!(self.count().await, self.mentions.len());
        assert_eq!(outcome(self.store.as_ref(), &self.ws).await, self.reference);
        let mut settings = vigie_bus::NatsSettings::new(bus_url);
        settings.namespace.clone_from(&self.ns);
        settings.max_bytes = 67_108_864;
        let bus = vigie_bus::NatsBus::connect(settings).await.unwrap();
        bus.delete_streams().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_over_nats_and_postgres_survive_kills_and_match_the_single_process_run() {
    let (Some(pg), Some(nats)) = (postgres_url(), nats_url()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let s = Setup::new(dir.path(), &pg).await;
    let total = s.mentions.len();
    let cut = [total * 2 / 5, total * 7 / 10];
    s.feed(0..cut[0]);

    let ready = Duration::from_secs(120);
    let start = |role: &str, n: usize| {
        let mut r = Role::start(dir.path(), role, n, &s.db, &nats, &s.ns);
        r.wait_ready(ready);
        r
    };
    let mut detector = start("detector", 0);
    let mut workers: Vec<Role> = (0..3).map(|i| start("worker", i)).collect();
    let mut ingest = start("ingest", 0);

    {
        let mut roles: Vec<&mut Role> = workers.iter_mut().collect();
        roles.push(&mut detector);
        roles.push(&mut ingest);
        wait_until(
            "the first mentions",
            Duration::from_secs(90),
            &mut roles,
            dir.path(),
            || async { s.count().await > cut[0] / 4 },
        )
        .await;
    }
    // A worker dies mid-stream and comes back.
    workers.remove(0).kill();
    s.feed(cut[0]..cut[1]);
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
            || async { s.count().await > cut[0] },
        )
        .await;
    }
    // The detector dies mid-stream and comes back (restored from its checkpoint).
    detector.kill();
    s.feed(cut[1]..total);
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
            || async { s.count().await >= total },
        )
        .await;
    }
    s.wait_for_reference(dir.path()).await;

    let ingest_log = ingest.stop();
    assert!(ingest_log.contains("ingest role stopped"), "{ingest_log}");
    for w in workers {
        w.stop();
    }
    detector.stop();
    s.finish(&nats).await;
}

/// A NATS server of the test's own, stopped and started again on the same port and store.
struct OwnNats {
    bin: String,
    port: u16,
    store: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl OwnNats {
    fn start(bin: &str, dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut n = Self {
            bin: bin.to_owned(),
            port,
            store: dir.join("nats-store"),
            log: dir.join("nats-server.txt"),
            child: None,
        };
        n.up();
        n
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn up(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(&self.bin)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "nats-server did not listen: {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM (a restart, as an operator does it), then waits for the exit.
    fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One detector, one worker and one ingest role over `bus` and `db`, fed the first third
/// of the stream: what the outage tests run, break and check.
struct Trio {
    detector: Role,
    worker: Role,
    ingest: Role,
    cut: usize,
}

impl Trio {
    async fn start(dir: &Path, s: &Setup, db: &str, bus: &str) -> Self {
        let cut = s.mentions.len() / 3;
        s.feed(0..cut);
        let start = |role: &str| {
            let mut r = Role::start(dir, role, 0, db, bus, &s.ns);
            r.wait_ready(Duration::from_secs(120));
            r
        };
        let mut t = Self {
            detector: start("detector"),
            worker: start("worker"),
            ingest: start("ingest"),
            cut,
        };
        t.wait(dir, s, "the first mentions", cut / 4).await;
        t
    }

    /// Waits until more than `n` mentions are stored, every role alive.
    async fn wait(&mut self, dir: &Path, s: &Setup, what: &str, n: usize) {
        wait_until(
            what,
            Duration::from_secs(150),
            &mut [&mut self.detector, &mut self.worker, &mut self.ingest],
            dir,
            || async { s.count().await > n },
        )
        .await;
    }

    /// Feeds the rest of the stream while the outage lasts `hold`, checks that every role
    /// lived through it, and returns the count stored meanwhile (from before to after).
    async fn through_outage(&mut self, s: &Setup, hold: Duration, what: &str) -> (usize, usize) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = s.count().await;
        s.feed(self.cut..s.mentions.len());
        tokio::time::sleep(hold).await;
        for r in [&mut self.detector, &mut self.worker, &mut self.ingest] {
            if let Some(why) = r.exited() {
                panic!("a role died while {what}: {why}");
            }
        }
        (before, s.count().await)
    }

    /// Once everything is stored and the outcome is the reference's, stops the roles
    /// cleanly; returns the worker's log.
    async fn finish(mut self, dir: &Path, s: &Setup) -> String {
        let total = s.mentions.len();
        self.wait(dir, s, "every mention after the outage", total - 1)
            .await;
        s.wait_for_reference(dir).await;
        let ingest_log = self.ingest.stop();
        assert!(ingest_log.contains("ingest role stopped"), "{ingest_log}");
        let worker_log = self.worker.stop();
        self.detector.stop();
        worker_log
    }
}

/// NATS restarted mid-stream (issue 9): the roles reconnect by themselves and resume, the
/// ingest role holds what the followed file brings meanwhile, and nothing is lost or
/// stored twice. Needs `VIGIE_TEST_NATS_SERVER` (a nats-server ≥ 2.10 binary; `.ci/run`
/// points it at the one `scripts/nats-test-server.sh` installs) and PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_reconnect_after_nats_restarts_and_lose_nothing() {
    let Some(pg) = postgres_url() else {
        return;
    };
    let Some(bin) = std::env::var("VIGIE_TEST_NATS_SERVER")
        .ok()
        .filter(|b| !b.is_empty())
    else {
        eprintln!("skipping: VIGIE_TEST_NATS_SERVER (a nats-server binary) not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let s = Setup::new(dir.path(), &pg).await;
    let mut nats = OwnNats::start(&bin, dir.path());
    let url = nats.url();
    let mut trio = Trio::start(dir.path(), &s, &s.db, &url).await;

    // NATS goes away mid-stream; the source keeps bringing mentions meanwhile.
    nats.down();
    trio.through_outage(&s, Duration::from_secs(3), "NATS was down")
        .await;
    nats.up();

    trio.finish(dir.path(), &s).await;
    s.finish(&url).await;
}

/// A TCP proxy in front of PostgreSQL that the test can cut: while down, it closes every
/// connection it carries and refuses new ones, as a database that went away does.
struct PgProxy {
    port: u16,
    up: tokio::sync::watch::Sender<bool>,
}

impl PgProxy {
    /// A proxy in front of the PostgreSQL server that `url` names.
    async fn in_front_of(url: &str) -> Self {
        let (_, rest) = url.split_once("://").unwrap();
        let (authority, _) = split_authority(rest);
        let host = authority.rsplit('@').next().unwrap();
        let target = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:5432")
        };
        Self::start(target).await
    }

    async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, _) = tokio::sync::watch::channel(true);
        let watcher = up.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !*watcher.borrow() {
                    continue; // dropped: connection closed at once
                }
                let mut down = watcher.subscribe();
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = down.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { port, up }
    }

    fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }

    /// `url` with its host and port replaced by the proxy's.
    fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (authority, path) = split_authority(rest);
        let user = authority.rsplit_once('@').map(|(u, _)| format!("{u}@"));
        format!(
            "{scheme}://{}127.0.0.1:{}{path}",
            user.unwrap_or_default(),
            self.port
        )
    }
}

/// PostgreSQL unavailable for 30 s mid-stream (issue 9): the roles keep running, ingestion
/// backs up in the bus (nothing is stored meanwhile), then everything drains: every mention
/// stored once, the outcome equal to the single-process run's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_away_for_30_s_backs_up_in_the_bus_then_drains() {
    let (Some(pg), Some(nats)) = (postgres_url(), nats_url()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let s = Setup::new(dir.path(), &pg).await;
    let proxy = PgProxy::in_front_of(&pg).await;
    let db = proxy.url(&s.db);
    let mut trio = Trio::start(dir.path(), &s, &db, &nats).await;

    proxy.set_up(false);
    let (before, after) = trio
        .through_outage(&s, Duration::from_secs(30), "PostgreSQL was away")
        .await;
    assert_eq!(before, after, "nothing can be stored while it is away");
    proxy.set_up(true);

    let worker_log = trio.finish(dir.path(), &s).await;
    assert!(
        worker_log.contains("cannot store a batch; it will come back"),
        "the worker must have met the outage: {worker_log}"
    );
    s.finish(&nats).await;
}

/// `user@host:port/db?x` → (`user@host:port`, `/db?x`).
fn split_authority(rest: &str) -> (&str, &str) {
    rest.split_at(rest.find('/').unwrap_or(rest.len()))
}
