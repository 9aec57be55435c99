//! End to end in headless Chromium: `vigie demo --serve`, then sign in, see the dashboard of
//! the demo crisis, open a mention and its sentiment explanation, open the crisis room the
//! story's on-call manager activated and the inbox, edit a watch (with the
//! query checked as you type), sign out. Screenshots at phone (390×844) and desktop
//! (1366×900) sizes go to `$VIGIE_ARTIFACTS_DIR` (default `target/browser-artifacts`).
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without `chromedriver` on the `PATH` the
//! test is skipped with a message, unless `VIGIE_REQUIRE_BROWSER=1` (CI), where it fails.

use fantoccini::{Client, ClientBuilder, Locator};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills a child process when dropped (the test may fail half-way).
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("VIGIE_ARTIFACTS_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-artifacts"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `vigie demo --serve` and reads the dashboard address and password it prints; returns when
/// the replay is over and the dashboard is served.
fn start_demo(dir: &Path) -> (Guard, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["demo", "--database", "demo.db", "--serve", "--port", "0"])
        .current_dir(dir)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vigie demo --serve");
    let stdout = child.stdout.take().unwrap();
    let guard = Guard(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut base, mut password) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(remaining)
            .expect("vigie demo --serve did not finish its replay in time");
        if let Some(rest) = line.strip_prefix("Dashboard: ") {
            // http://127.0.0.1:PORT/w/WS
            base = Some(rest.trim().to_owned());
        }
        if let Some(p) = line.strip_prefix("Password:") {
            password = Some(p.trim().to_owned());
        }
        if line.contains("still served") {
            break;
        }
    }
    (guard, base.unwrap(), password.unwrap())
}

fn start_chromedriver(driver: &Path) -> (Guard, u16) {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let guard = Guard(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    (guard, port)
}

async fn connect(port: u16, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=fr-FR",
        &format!("--user-data-dir={}", profile.display()),
    ];
    let mut chrome = serde_json::json!({ "args": args });
    if let Some(bin) = find_on_path("chromium") {
        chrome["binary"] = serde_json::Value::String(bin.display().to_string());
    }
    caps.insert("goog:chromeOptions".into(), chrome);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("connect to chromedriver")
}

async fn screenshot(client: &Client, dir: &Path, name: &str) {
    for (label, w, h) in [("desktop", 1366, 900), ("phone", 390, 844)] {
        client.set_window_size(w, h).await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        let png = client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
        std::fs::write(dir.join(format!("{name}-{label}.png")), png).unwrap();
    }
    client.set_window_size(1366, 900).await.unwrap();
}

/// Types `text` into the element with id `id`.
async fn type_into(client: &Client, id: &str, text: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no #{id}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

/// Empties the field with id `id`.
async fn clear(client: &Client, id: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no #{id}: {e}"))
        .clear()
        .await
        .unwrap();
}

/// Clicks the element with id `id`.
async fn click(client: &Client, id: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no #{id}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Waits until the text of `css` contains `needle`.
async fn wait_text(client: &Client, css: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = text_of(client, css).await;
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never contained {needle:?}: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_see_the_demo_crisis_open_a_mention_edit_a_watch_sign_out() {
    let Some(driver) = find_on_path("chromedriver") else {
        if std::env::var("VIGIE_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "VIGIE_REQUIRE_BROWSER=1 but chromedriver is not on the PATH (apt-get install chromium chromium-driver)"
            );
        }
        eprintln!("skipping: chromedriver not found (apt-get install chromium chromium-driver)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let artifacts = artifacts_dir();
    let (_demo, dashboard, password) = start_demo(dir.path());
    let base = dashboard[..dashboard.find("/w/").unwrap()].to_owned();
    let (_driver, port) = start_chromedriver(&driver);
    let client = connect(port, &dir.path().join("profile")).await;
    let result = async {
        // A wrong password first: a clear message, still on the login page.
        client.goto(&dashboard).await.unwrap();
        assert!(
            client
                .current_url()
                .await
                .unwrap()
                .path()
                .starts_with("/login")
        );
        type_into(&client, "login", "demo").await;
        type_into(&client, "password", "not the password").await;
        click(&client, "sign-in").await;
        let message = text_of(&client, "#login-message").await;
        assert!(!message.is_empty());
        screenshot(&client, &artifacts, "login-error").await;

        clear(&client, "login").await;
        type_into(&client, "login", "demo").await;
        type_into(&client, "password", &password).await;
        click(&client, "sign-in").await;

        // The dashboard of the demo: every watch with its current level (the story ends
        // calm again), and the level changes of the crisis, up to level 3, in the history.
        let levels = text_of(&client, "#levels").await;
        assert!(
            levels.contains("Orsane") && levels.contains("Calme"),
            "watches and their levels: {levels}"
        );
        let changes = text_of(&client, "#changes").await;
        assert!(
            changes.contains("Alerte → Crise") && changes.contains("→ Calme"),
            "the crisis is in the level history: {changes}"
        );
        // The chart is drawn (uPlot creates a canvas) and the live feed is connected.
        client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("#chart canvas"))
            .await
            .expect("the chart is drawn");
        wait_text(&client, "#changes", "→").await;
        screenshot(&client, &artifacts, "dashboard").await;

        // The on-call and responding sides are served too (not 503): the story's incident
        // with its escalation, and the scenario library, through the signed-in session.
        let api = dashboard.replace("/w/orsane", "/api/v1/workspaces/orsane");
        client
            .goto(&format!("{api}/mobilize/incidents"))
            .await
            .unwrap();
        let body = text_of(&client, "body").await;
        assert!(
            body.contains("\"watch\":\"orsane\"") && body.contains("escalation"),
            "the demo incident is served: {body}"
        );
        client.goto(&format!("{api}/scenarios")).await.unwrap();
        let body = text_of(&client, "body").await;
        assert!(
            body.contains("\"items\""),
            "the scenario library is served: {body}"
        );
        client.goto(&dashboard).await.unwrap();

        // The mention explorer: open one mention and its sentiment explanation.
        client
            .find(Locator::LinkText("Mentions"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let first = client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("#mention-list details summary"))
            .await
            .unwrap();
        first.click().await.unwrap();
        let detail = wait_text(&client, "#mention-list details[open] .detail", "Pourquoi").await;
        assert!(detail.contains("score"), "{detail}");
        screenshot(&client, &artifacts, "mentions").await;

        // Edit a watch: a bad query is pointed at as you type, a good one is saved.
        client.goto(&dashboard).await.unwrap();
        client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::LinkText("Modifier la veille"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let query = client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Id("query"))
            .await
            .unwrap();
        let original = query.prop("value").await.unwrap().unwrap_or_default();
        query.send_keys(" AND (").await.unwrap();
        wait_text(&client, "#query-status", "Erreur").await;
        query.clear().await.unwrap();
        query
            .send_keys(&format!("{original} OR grève"))
            .await
            .unwrap();
        wait_text(&client, "#query-status", "Requête valide").await;
        wait_text(&client, "#preview-count", "/").await;
        screenshot(&client, &artifacts, "watch-editor").await;
        let name = client.find(Locator::Id("name")).await.unwrap();
        name.clear().await.unwrap();
        name.send_keys("Veille modifiée").await.unwrap();
        click(&client, "save-watch").await;
        wait_text(&client, "#watch-message", "Enregistré").await;
        assert_eq!(
            client
                .find(Locator::Id("name"))
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some("Veille modifiée")
        );

        // Respond: in the story, the on-call manager activated the scenario Vigie proposed
        // for the crisis; its room shows the tasks, the policy-checked drafts and the
        // timeline, and the shared inbox ranks the negative mentions with the formula shown.
        client
            .goto(&dashboard.replace("/w/orsane", "/w/orsane/incidents"))
            .await
            .unwrap();
        text_of(&client, "#incidents").await;
        screenshot(&client, &artifacts, "incidents").await;
        client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("#incident-1 a.room-link"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !client
            .current_url()
            .await
            .unwrap()
            .path()
            .contains("/rooms/")
        {
            assert!(
                Instant::now() < deadline,
                "the room link did not open a room"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(!text_of(&client, "#tasks tbody").await.is_empty());
        wait_text(&client, "#timeline", "room.opened").await;
        text_of(&client, "#drafts-h").await;
        screenshot(&client, &artifacts, "crisis-room").await;
        click(&client, "nav-inbox").await;
        wait_text(&client, "#formula", "reach").await;
        text_of(&client, "#inbox-items li").await;
        screenshot(&client, &artifacts, "inbox").await;

        // Settings, then sign out: back to the login page, and the dashboard is closed.
        client.goto(&format!("{base}/settings")).await.unwrap();
        text_of(&client, "#tokens-h").await;
        screenshot(&client, &artifacts, "settings").await;
        click(&client, "logout").await;
        client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Id("sign-in"))
            .await
            .unwrap();
        client.goto(&dashboard).await.unwrap();
        assert!(
            client
                .current_url()
                .await
                .unwrap()
                .path()
                .starts_with("/login")
        );
    }
    .await;
    let _ = client.close().await;
    result
}
