//! `vigie serve` end to end: a JSON Lines source followed live, the HTTP API, and a graceful
//! stop on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vigie_connect::demo::{DemoOptions, generate, to_jsonl};

/// Sends one raw HTTP/1.1 request (the test needs no HTTP client dependency) and returns
/// the status and the body.
fn exchange(addr: &str, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A GET, with an API token when one is given.
fn get_as(addr: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    exchange(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"),
    )
}

/// A POST of a JSON body with extra header lines.
fn post(addr: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    exchange(
        addr,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn mention_count(addr: &str, token: &str) -> usize {
    let (status, body) = get_as(
        addr,
        "/api/v1/workspaces/acme/mentions?limit=1000",
        Some(token),
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["items"].as_array().unwrap().len()
}

fn wait_for(addr: &str, token: &str, n: usize) {
    let start = Instant::now();
    while mention_count(addr, token) < n {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {n} mentions"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A news site on 127.0.0.1 speaking plain HTTP/1.1: `/good.xml` is an RSS 2.0 feed of two
/// articles, `/bad.xml` a broken document. Returns its address.
fn news_site() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head);
            let body = if head.starts_with("GET /good.xml") {
                r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>La Gazette</title><link>http://news.test/</link>
<item><title>Orsane : un client en fauteuil refusé</title><link>http://news.test/a1</link>
<description>La chaîne Orsane est critiquée après le refus de servir un client.</description>
<pubDate>Sun, 01 Mar 2026 19:00:00 GMT</pubDate></item>
<item><title>Orsane présente ses excuses</title><link>http://news.test/a2</link>
<description>Le directeur d'Orsane s'excuse publiquement.</description>
<pubDate>Sun, 01 Mar 2026 21:00:00 GMT</pubDate></item>
</channel></rss>"#
            } else {
                "<rss><channel><item><title>broken &bogus; <link>"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

#[test]
fn serve_follows_a_source_answers_the_api_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mentions = generate(&DemoOptions {
        chatter_days: 2,
        ..DemoOptions::default()
    })
    .mentions;
    std::fs::write(dir.path().join("feed.jsonl"), to_jsonl(&mentions[..50])).unwrap();
    let config = "version = 1\n[storage]\ndatabase = \"v.db\"\n[server]\nlisten = \"127.0.0.1:0\"\n\n\
                  [[workspaces]]\nid = \"acme\"\nname = \"Acme\"\n\n\
                  [[workspaces.watches]]\nid = \"orsane\"\nname = \"Orsane\"\nquery = 'orsane'\n\n\
                  [[workspaces.sources]]\ntype = \"jsonl\"\nid = \"feed\"\npath = \"feed.jsonl\"\npoll_interval = \"100ms\"\n\n\
                  [[workspaces.sources]]\ntype = \"webhook\"\nid = \"crm\"\ntoken = \"tok-crm-1234\"\n";
    // A news source over HTTP with a broken feed next to a good one: the broken one is
    // reported and skipped, the good one's articles arrive.
    let site = news_site();
    let config = format!(
        "{config}\n[[workspaces.sources]]\ntype = \"feed\"\nid = \"press\"\nurls = [\"http://{site}/bad.xml\", \"http://{site}/good.xml\"]\n"
    );
    std::fs::write(dir.path().join("vigie.toml"), config).unwrap();
    // The API needs an account: a viewer of acme and a read token, from the CLI.
    let vigie = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
            .args(args)
            .args(["--config", "vigie.toml"])
            .current_dir(dir.path())
            .env_remove("VIGIE_DATABASE_URL")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    vigie(&["user", "add", "ops", "--role", "viewer"]);
    let token = vigie(&["token", "create", "--user", "ops"])
        .trim()
        .to_owned();
    assert!(!token.is_empty());

    let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["serve", "--config", "vigie.toml"])
        .current_dir(dir.path())
        .env_remove("VIGIE_DATABASE_URL")
        .env("RUST_LOG", "error")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();

    let (status, body) = get_as(&addr, "/health", None);
    assert_eq!(status, 200, "{body}");
    let (status, body) = get_as(&addr, "/api/v1/workspaces/acme/mentions", None);
    assert_eq!(status, 401, "no token: {body}");
    let (status, _) = get_as(&addr, "/api/v1/workspaces/acme/mentions", Some("vgt_wrong"));
    assert_eq!(status, 401, "wrong token");
    wait_for(&addr, &token, 52);
    // Lines appended to the followed file arrive without a restart.
    let mut doc = std::fs::read_to_string(dir.path().join("feed.jsonl")).unwrap();
    doc.push_str(&to_jsonl(&mentions[50..80]));
    std::fs::write(dir.path().join("feed.jsonl"), doc).unwrap();
    wait_for(&addr, &token, 82);
    // A webhook source of the same process: refused without its token, stored with it.
    let one = r#"{"source":"crm","external_id":"T-1042","author":{"handle":"client-88"},"published_at":"2026-03-01T10:00:00Z","text":"Orsane: colis jamais arrivé"}"#;
    let (status, body) = post(
        &addr,
        "/hooks/acme/crm",
        "Authorization: Bearer nope\r\n",
        one,
    );
    assert_eq!(status, 401, "{body}");
    let (status, body) = post(&addr, "/hooks/acme/crm", "", "{not json");
    assert!(status == 400 || status == 401, "{status} {body}");
    let (status, body) = post(
        &addr,
        "/hooks/acme/crm",
        "Authorization: Bearer tok-crm-1234\r\n",
        one,
    );
    assert_eq!(status, 202, "{body}");
    // 202 is answered once the mention is stored: no waiting.
    assert_eq!(mention_count(&addr, &token), 83);
    // Each source's health, from the API.
    let (status, body) = get_as(
        &addr,
        "/api/v1/workspaces/acme/sources/health",
        Some(&token),
    );
    assert_eq!(status, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    let feed = health["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["source"] == "feed")
        .unwrap_or_else(|| panic!("no feed in {body}"));
    assert_eq!(feed["mentions_total"], 80, "{body}");
    assert!(feed["last_event_at"].is_string(), "{body}");
    let press = health["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["source"] == "press")
        .unwrap_or_else(|| panic!("no press in {body}"));
    assert_eq!(press["mentions_total"], 2, "{body}");
    // The broken feed is counted as rejected or as an error, with its reason kept.
    assert!(
        press["rejected_total"].as_u64().unwrap() + press["errors_total"].as_u64().unwrap() >= 1,
        "the broken feed is reported: {body}"
    );
    let (status, body) = get_as(
        &addr,
        "/api/v1/workspaces/acme/mentions?limit=1000",
        Some(&token),
    );
    assert_eq!(status, 200);
    assert!(
        body.contains("http://news.test/a1"),
        "the article is stored: {body}"
    );
    let (status, _) = get_as(&addr, "/api/v1/workspaces/other/mentions", Some(&token));
    assert_eq!(status, 404);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{rest}");
    assert!(
        rest.contains("stopped (83 mentions received, 83 stored"),
        "{rest}"
    );
}
