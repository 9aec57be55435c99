//! The demo and the configuration checker, end to end.

use crate::support::{stderr, stdout, vigie};

fn level_line_minutes(out: &str, level: &str) -> Option<i64> {
    // "  level 3 (crisis) reached 58 min after the onset (…)" or "1h05 after"
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("level {level}")) && l.contains("reached"))?;
    let rel = line.split("reached ").nth(1)?.split(" after").next()?;
    if let Some((h, m)) = rel.split_once('h') {
        return Some(h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?);
    }
    rel.trim_end_matches(" min").parse().ok()
}

#[test]
fn demo_reaches_crisis_after_onset_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let run = |db: &str| {
        let o = vigie(dir.path(), &["demo", "--days", "3", "--database", db]);
        assert!(o.status.success(), "demo failed: {}", stderr(&o));
        stdout(&o)
    };
    let first = run("a.db");
    assert!(
        first.contains("highest level before the onset: 0 (calm)"),
        "false alarm before the onset:\n{first}"
    );
    let crisis =
        level_line_minutes(&first, "3 (crisis)").unwrap_or_else(|| panic!("no level 3:\n{first}"));
    assert!(
        (0..=180).contains(&crisis),
        "level 3 after {crisis} min:\n{first}"
    );
    let alert = level_line_minutes(&first, "2 (alert)").expect("level 2");
    assert!(alert <= crisis);
    assert!(
        first.contains("#boycottorsane"),
        "the hashtag should be in the explanation:\n{first}"
    );
    // The people side on the story's clock: escalation through three steps until the
    // executive acknowledges.
    for step in [
        "escalation step 1 (round 1): notifying Camille",
        "escalation step 2 (round 1): notifying Nadia",
        "escalation step 3 (round 1): notifying Paul",
        "acknowledged by paul via link",
        "escalation stopped: acknowledged by paul",
    ] {
        assert!(first.contains(step), "{step:?} missing:\n{first}");
    }
    // Same seed, another file: the same text except the database name.
    let second = run("b.db");
    assert_eq!(first.replace("a.db", "X"), second.replace("b.db", "X"));
    // Another seed tells another story.
    let o = vigie(
        dir.path(),
        &["demo", "--days", "3", "--seed", "7", "--database", "c.db"],
    );
    assert!(o.status.success());
    assert_ne!(stdout(&o).replace("c.db", "X"), first.replace("a.db", "X"));
}

#[test]
fn demo_refuses_to_overwrite_a_foreign_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.db"), b"data").unwrap();
    let o = vigie(dir.path(), &["demo", "--database", "precious.db"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--force"));
    assert_eq!(
        std::fs::read(dir.path().join("precious.db")).unwrap(),
        b"data"
    );
}

#[test]
fn check_config_reports_lines_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "version = 1\n\n[[workspaces]]\nid = \"acme\"\nname = \"Acme\"\n\n[[workspaces.watches]]\nid = \"brand\"\nname = \"Brand\"\nquery = \"acme AND (recall\"\n";
    std::fs::write(dir.path().join("bad.toml"), bad).unwrap();
    let o = vigie(dir.path(), &["check-config", "bad.toml"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("bad.toml:10:"), "{err}");
    assert!(err.contains("workspaces[0].watches[0].query"), "{err}");

    let typo = "version = 1\n[server]\nlisten = \"127.0.0.1:8080\"\nlistne = 3\n";
    std::fs::write(dir.path().join("typo.toml"), typo).unwrap();
    let o = vigie(dir.path(), &["check-config", "typo.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("typo.toml:4:"), "{}", stderr(&o));

    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/vigie.example.toml"
    );
    let o = vigie(dir.path(), &["check-config", example]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn query_check_points_at_the_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let o = vigie(
        dir.path(),
        &["query", "check", "orsane AND (boycott OR honte"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains('^'));
    let o = vigie(
        dir.path(),
        &["query", "check", "orsane AND (boycott OR honte)"],
    );
    assert!(o.status.success());
    assert!(stdout(&o).starts_with("ok: "));
}
