//! `vigie import`: idempotent on SQLite and PostgreSQL, strict mode stores nothing.

use crate::support::{postgres_url, stderr, stdout, unique, vigie};
use std::path::Path;
use vigie_connect::demo::{DemoOptions, generate, to_jsonl};
use vigie_model::WorkspaceId;

fn write_config(dir: &Path, workspace: &str) -> String {
    let toml = format!(
        "version = 1\n\n[[workspaces]]\nid = \"{workspace}\"\nname = \"Test\"\n\n\
         [[workspaces.watches]]\nid = \"orsane\"\nname = \"Orsane\"\n\
         query = 'orsane OR #boycottorsane OR @orsane'\nown_accounts = [\"orsane\"]\n"
    );
    std::fs::write(dir.join("vigie.toml"), toml).unwrap();
    "vigie.toml".to_owned()
}

fn sample_jsonl(n: usize) -> String {
    let s = generate(&DemoOptions {
        chatter_days: 2,
        ..DemoOptions::default()
    });
    to_jsonl(&s.mentions[..n])
}

async fn count(database: &str, workspace: &str) -> u64 {
    let store = vigie_store::open_store(database).await.unwrap();
    store
        .count_mentions(&WorkspaceId::new(workspace).unwrap())
        .await
        .unwrap()
}

fn import_twice_stores_once(database: &str, workspace: &str) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), workspace);
    std::fs::write(dir.path().join("m.jsonl"), sample_jsonl(400)).unwrap();
    let args = [
        "import",
        "m.jsonl",
        "--config",
        &config,
        "--database",
        database,
    ];
    let o = vigie(dir.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("400 stored, 0 already stored"),
        "{}",
        stdout(&o)
    );
    let o = vigie(dir.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("0 stored, 400 already stored"),
        "{}",
        stdout(&o)
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    assert_eq!(rt.block_on(count(database, workspace)), 400);
}

#[test]
fn import_is_idempotent_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db").display().to_string();
    import_twice_stores_once(&db, "acme");
}

#[test]
fn import_is_idempotent_on_postgres() {
    let Some(url) = postgres_url() else { return };
    // A throw-away schema, dropped at the end, so the shared test database stays clean.
    let schema = unique("it_import").replace('-', "_");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let guard = rt
        .block_on(vigie_store::PostgresStore::connect_temporary(&url, &schema))
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options[search_path]={schema}");
    import_twice_stores_once(&scoped, "acme");
    drop(guard);
}

#[test]
fn strict_import_with_a_bad_line_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "acme");
    let mut doc = sample_jsonl(50);
    doc.push_str("{\"source\":\"x\",\"external_id\":\n");
    doc.push_str(
        &sample_jsonl(60)
            .lines()
            .skip(50)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    std::fs::write(dir.path().join("m.jsonl"), &doc).unwrap();
    let o = vigie(
        dir.path(),
        &[
            "import",
            "m.jsonl",
            "--strict",
            "--config",
            &config,
            "--database",
            "v.db",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("m.jsonl:51: column"), "{err}");
    assert!(err.contains("nothing was stored"), "{err}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = dir.path().join("v.db").display().to_string();
    assert_eq!(rt.block_on(count(&db, "acme")), 0);

    // Without --strict the 60 good lines are stored and the exit code says "partial".
    let o = vigie(
        dir.path(),
        &[
            "import",
            "m.jsonl",
            "--config",
            &config,
            "--database",
            "v.db",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("m.jsonl:51:"));
    assert_eq!(rt.block_on(count(&db, "acme")), 60);
}

#[test]
fn csv_import_reports_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "acme");
    let csv = "source,external_id,author_handle,author_followers,published_at,text\n\
               rss,1,journal,1200,2026-03-01T10:00:00Z,\"Orsane ouvre à Lyon, enfin\"\n\
               rss,2,journal,lots,2026-03-01T10:05:00Z,Orsane encore\n\
               rss,3,journal,10,2026-03-01T10:06:00Z,Orsane toujours\n";
    std::fs::write(dir.path().join("m.csv"), csv).unwrap();
    let o = vigie(
        dir.path(),
        &[
            "import",
            "m.csv",
            "--strict",
            "--config",
            &config,
            "--database",
            "v.db",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("m.csv:3: field 4"), "{}", stderr(&o));
    let o = vigie(
        dir.path(),
        &["import", "m.csv", "--config", &config, "--database", "v.db"],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("2 stored"), "{}", stdout(&o));
}

#[test]
fn unknown_workspace_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "acme");
    std::fs::write(dir.path().join("m.jsonl"), sample_jsonl(5)).unwrap();
    let o = vigie(
        dir.path(),
        &[
            "import",
            "m.jsonl",
            "-w",
            "nope",
            "--config",
            &config,
            "--database",
            "v.db",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unknown workspace \"nope\""),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("v.db").exists());
}

#[test]
fn empty_file_is_an_error_and_creates_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "acme");
    std::fs::write(dir.path().join("m.jsonl"), "\n\n").unwrap();
    let o = vigie(
        dir.path(),
        &[
            "import",
            "m.jsonl",
            "--config",
            &config,
            "--database",
            "v.db",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no records to import"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("v.db").exists());
}
