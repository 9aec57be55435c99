//! `vigie serve` end to end: a JSON Lines source followed live, the HTTP API, and a graceful
//! stop on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vigie_connect::demo::{DemoOptions, generate, to_jsonl};

/// A minimal HTTP/1.1 GET (the test needs no HTTP client dependency).
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn mention_count(addr: &str) -> usize {
    let (status, body) = get(addr, "/api/v1/workspaces/acme/mentions?limit=1000");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["items"].as_array().unwrap().len()
}

fn wait_for(addr: &str, n: usize) {
    let start = Instant::now();
    while mention_count(addr) < n {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {n} mentions"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
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
                  [[workspaces.sources]]\ntype = \"jsonl\"\nid = \"feed\"\npath = \"feed.jsonl\"\npoll_interval = \"100ms\"\n";
    std::fs::write(dir.path().join("vigie.toml"), config).unwrap();

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

    let (status, body) = get(&addr, "/health");
    assert_eq!(status, 200, "{body}");
    wait_for(&addr, 50);
    // Lines appended to the followed file arrive without a restart.
    let mut doc = std::fs::read_to_string(dir.path().join("feed.jsonl")).unwrap();
    doc.push_str(&to_jsonl(&mentions[50..80]));
    std::fs::write(dir.path().join("feed.jsonl"), doc).unwrap();
    wait_for(&addr, 80);
    let (status, _) = get(&addr, "/api/v1/workspaces/other/mentions");
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
        rest.contains("stopped (80 mentions received, 80 stored"),
        "{rest}"
    );
}
