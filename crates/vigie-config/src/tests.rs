//! Crate-level tests: the golden file, the embedded default, the shipped example, and one
//! test per kind of mistake asserting where it points.

use super::*;
use std::path::PathBuf;

fn manifest_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A minimal valid file with `extra` appended inside the first watch.
fn with_watch(extra: &str) -> String {
    format!(
        "version = 1\n\n[[workspaces]]\nid = \"acme\"\nname = \"ACME\"\n\n[[workspaces.watches]]\nid = \"brand\"\nname = \"Brand\"\nquery = \"acme\"\n{extra}"
    )
}

fn errors(src: &str) -> Vec<ConfigError> {
    match parse(src, "vigie.toml") {
        Ok(_) => panic!("expected errors for:\n{src}"),
        Err(e) => e.into_vec(),
    }
}

fn one_error(src: &str) -> ConfigError {
    let mut all = errors(src);
    assert_eq!(all.len(), 1, "expected one error, got {all:#?}");
    all.remove(0)
}

fn column_of(src: &str, line: usize, needle: &str) -> usize {
    let text = src.lines().nth(line - 1).unwrap();
    text[..text.find(needle).unwrap()].chars().count() + 1
}

#[test]
fn golden_v1() {
    let src = std::fs::read_to_string(manifest_path("testdata/v1.toml")).unwrap();
    let config = parse(&src, "v1.toml").unwrap();
    let actual = serde_json::to_string_pretty(&config).unwrap() + "\n";
    let expected_path = manifest_path("testdata/v1.expected.json");
    if std::env::var_os("VIGIE_BLESS").is_some() {
        std::fs::write(&expected_path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap();
    assert_eq!(
        actual, expected,
        "set VIGIE_BLESS=1 to update the golden file"
    );
    assert!(
        !actual.contains("s3cret"),
        "the database password must not be serialized"
    );
}

#[test]
fn defaults_fill_every_omitted_field() {
    let config = parse(&with_watch(""), "vigie.toml").unwrap();
    assert_eq!(config.storage.database, "vigie-data/vigie.db");
    assert_eq!(config.storage.backend(), StorageBackend::Sqlite);
    assert_eq!(config.server.listen, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(config.server.max_body_bytes, 1_048_576);
    assert_eq!(config.server.request_timeout.as_secs(), 30);
    assert_eq!(config.detection, vigie_model::DetectionSettings::default());
    let watch = &config.workspaces[0].watches[0];
    assert!(watch.languages.is_empty() && watch.own_accounts.is_empty());
    assert!(config.workspaces[0].sources.is_empty());
}

#[test]
fn embedded_default_is_the_demo_workspace() {
    assert!(parse(EMBEDDED_DEFAULT_TOML, "default.toml").is_ok());
    let config = Config::embedded_default();
    assert_eq!(config.storage.backend(), StorageBackend::Sqlite);
    assert_eq!(config.workspaces.len(), 1);
    let ws = &config.workspaces[0];
    assert_eq!(ws.id.as_str(), "orsane");
    assert_eq!(ws.name, "Orsane (démo)");
    assert!(ws.sources.is_empty());
    let ids: Vec<&str> = ws.watches.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(ids, ["orsane", "kalia"]);
    let orsane = &ws.watches[0];
    assert_eq!(orsane.name, "Orsane");
    assert_eq!(
        orsane.query.source(),
        r#"orsane OR "cafés orsane" OR #orsane OR #boycottorsane OR @orsane"#
    );
    assert!(orsane.languages.is_empty());
    assert_eq!(orsane.own_accounts, ["orsane", "orsane_service"]);
    let kalia = &ws.watches[1];
    assert_eq!(kalia.name, "Brûlerie Kalia (concurrent)");
    assert_eq!(kalia.query.source(), "kalia OR #kalia OR @brulerie_kalia");
    assert!(kalia.languages.is_empty() && kalia.own_accounts.is_empty());
}

#[test]
fn shipped_example_validates() {
    let path = manifest_path("../../config/vigie.example.toml");
    let config = load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(!config.workspaces.is_empty());
    assert!(config.workspaces.iter().any(|w| !w.sources.is_empty()));
}

#[test]
fn load_reads_a_file_and_names_unreadable_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigie.toml");
    std::fs::write(&path, with_watch("")).unwrap();
    assert_eq!(load(&path).unwrap().workspaces[0].id.as_str(), "acme");

    let missing = dir.path().join("missing.toml");
    let e = load(&missing).unwrap_err().into_vec().remove(0);
    assert_eq!(e.kind, ConfigErrorKind::Read);
    let text = e.to_string();
    assert!(text.starts_with(&missing.display().to_string()), "{text}");
    assert!(
        text.contains("cannot read the configuration file"),
        "{text}"
    );

    std::fs::write(&path, [0xff, 0xfe, b'\n']).unwrap();
    assert_eq!(
        load(&path).unwrap_err().into_vec()[0].kind,
        ConfigErrorKind::Read
    );
}

#[test]
fn responsibilities_are_checked_and_looked_up() {
    let c = parse(&with_watch(""), "vigie.toml").unwrap();
    assert!(c.workspaces[0].responsibilities.is_empty());
    let src = "version = 1\n[[workspaces]]\nid = \"acme\"\nname = \"A\"\nresponsibilities = { legal = [\"mona\"], ceo = [\"pat\", \"mona\"] }\n";
    let c = parse(src, "vigie.toml").unwrap();
    assert_eq!(
        c.workspaces[0].responsibilities_of("mona"),
        ["ceo", "legal"]
    );
    assert_eq!(c.workspaces[0].responsibilities_of("pat"), ["ceo"]);
    assert!(c.workspaces[0].responsibilities_of("rick").is_empty());
    let e = one_error(&src.replace("ceo =", "\"Chief Exec\" ="));
    assert_eq!(e.kind, ConfigErrorKind::Value);
    assert_eq!(e.line, 5);
    assert!(e.to_string().contains("Chief Exec"), "{e}");
    let e = one_error(&src.replace("[\"mona\"]", "[\" \"]"));
    assert_eq!(e.line, 5);
    assert!(e.to_string().contains("legal[0]"), "{e}");
}

#[test]
fn policies_and_publishing_accounts_are_checked() {
    let base = "version = 1\n[[workspaces]]\nid = \"acme\"\nname = \"A\"\n";
    let c = parse(
        &format!("{base}policy = {{ forbidden_terms = [\"rival*\"] }}\n[[workspaces.publish_accounts]]\nid = \"m\"\ntype = \"mastodon\"\ninstance = \"https://m.example\"\ntoken = \"env:T\"\n"),
        "vigie.toml",
    )
    .unwrap();
    assert_eq!(c.workspaces[0].policy.forbidden_terms, ["rival*"]);
    assert_eq!(c.workspaces[0].publish_accounts[0].id(), "m");
    // The secret never shows.
    assert!(!format!("{:?}", c.workspaces[0].publish_accounts).contains("env:T"));

    let e = errors(&format!(
        "{base}policy = {{ sensitive_terms = [\" \"] }}\n[[workspaces.publish_accounts]]\nid = \"m\"\ntype = \"mastodon\"\ninstance = \"ftp://x\"\n[[workspaces.publish_accounts]]\nid = \"b\"\ntype = \"bluesky\"\npds = \"https://bsky.social\"\ntoken = \"x\"\n[[workspaces.publish_accounts]]\nid = \"b\"\ntype = \"telegram\"\n"
    ));
    let text: Vec<String> = e.iter().map(ToString::to_string).collect();
    let all = text.join("\n");
    assert!(all.contains("sensitive_terms[0]"), "{all}");
    assert!(all.contains("needs `token`"), "{all}");
    assert!(
        all.contains("`token` is not a field of a bluesky account"),
        "{all}"
    );
    assert!(all.contains("needs `identifier`"), "{all}");
    assert!(all.contains("defined twice"), "{all}");
    assert!(e.iter().all(|e| e.line > 0), "{all}");
}

#[test]
fn syntax_error_points_at_the_line() {
    let e = one_error("version = 1\n[server\nlisten = \"x\"\n");
    assert_eq!(e.kind, ConfigErrorKind::Syntax);
    assert_eq!(e.line, 2);
    assert!(e.to_string().starts_with("vigie.toml:2:"), "{e}");
}

#[test]
fn unknown_field_names_the_field_path() {
    let src = with_watch("quer = \"acme\"\n");
    let e = one_error(&src);
    assert_eq!(e.kind, ConfigErrorKind::Schema);
    assert_eq!((e.line, e.column), (11, 1), "{e}");
    assert_eq!(e.path, "workspaces[0].watches[0].quer");
    assert!(e.message.contains("unknown field `quer`"), "{e}");
}

#[test]
fn wrong_type_names_the_field_path() {
    let src = "version = 1\n[server]\nmax_body_bytes = \"big\"\n";
    let e = one_error(src);
    assert_eq!(e.kind, ConfigErrorKind::Schema);
    assert_eq!(e.line, 3, "{e}");
    assert_eq!(e.path, "server.max_body_bytes");
}

#[test]
fn missing_field_names_the_table() {
    let src = "version = 1\n[[workspaces]]\nid = \"acme\"\n";
    let e = one_error(src);
    assert_eq!(e.kind, ConfigErrorKind::Schema);
    assert!(e.message.contains("missing field `name`"), "{e}");
    assert!(e.path.starts_with("workspaces"), "{e}");
}

#[test]
fn missing_or_unsupported_version() {
    let e = one_error("[server]\nlisten = \"127.0.0.1:1\"\n");
    assert_eq!(e.kind, ConfigErrorKind::Version);
    assert_eq!((e.line, e.column), (1, 1));
    assert!(e.message.contains("supported versions: 1"), "{e}");

    let e = one_error("version = 2\n[server]\nunknown_in_v1 = true\n");
    assert_eq!(e.kind, ConfigErrorKind::Version);
    assert_eq!(
        e.to_string(),
        "vigie.toml:1:11: version: unsupported configuration version 2 (supported versions: 1)"
    );
    let e = one_error("version = \"1\"\n");
    assert_eq!(e.kind, ConfigErrorKind::Version);
}

#[test]
fn bad_query_points_inside_the_query() {
    let query = "acme AND (boycott OR";
    let src = with_watch("").replace("query = \"acme\"", &format!("query = \"{query}\""));
    let e = one_error(&src);
    let q = vigie_query::parse(query).unwrap_err();
    assert_eq!(e.kind, ConfigErrorKind::Query);
    assert_eq!(e.path, "workspaces[0].watches[0].query");
    assert_eq!(e.line, 10);
    let value_start = column_of(&src, 10, "\"acme AND");
    assert_eq!(e.column, value_start + 1 + q.position, "{e}");
    assert!(e.message.starts_with(&q.message), "{e}");
    assert!(e.message.contains(&format!("at {}", q.position)), "{e}");
}

#[test]
fn duplicate_watch_id_points_at_the_second_one() {
    let src =
        with_watch("\n[[workspaces.watches]]\nid = \"brand\"\nname = \"Again\"\nquery = \"x\"\n");
    let e = one_error(&src);
    assert_eq!(e.kind, ConfigErrorKind::Duplicate);
    assert_eq!((e.line, e.column), (13, 6));
    assert_eq!(e.path, "workspaces[0].watches[1].id");
    assert!(e.message.contains("first defined on line 8"), "{e}");
}

#[test]
fn bad_slug_is_reported_with_the_rule() {
    let src = with_watch("").replace("id = \"brand\"", "id = \"My Brand\"");
    let e = one_error(&src);
    assert_eq!(e.kind, ConfigErrorKind::Id);
    assert_eq!((e.line, e.column), (8, 6));
    assert_eq!(e.path, "workspaces[0].watches[0].id");
    assert!(e.message.contains("lowercase letters"), "{e}");
}

#[test]
fn bad_duration_and_minute_rules() {
    let src = format!("{}\n[detection]\nbucket = \"5 minutes\"\n", with_watch(""));
    let e = one_error(&src);
    assert_eq!(e.kind, ConfigErrorKind::Duration);
    assert_eq!((e.line, e.column), (13, 10));
    assert_eq!(e.path, "detection.bucket");
    assert!(e.message.contains("unknown unit"), "{e}");

    let src = format!("{}\n[detection]\nwarmup = \"90s\"\n", with_watch(""));
    assert!(one_error(&src).message.contains("whole number of minutes"));
    let src = format!("{}\n[detection]\nbucket = \"0m\"\n", with_watch(""));
    assert!(one_error(&src).message.contains("at least 1m"));
}

#[test]
fn window_must_be_a_multiple_of_bucket() {
    let src = format!(
        "{}\n[detection]\nbucket = \"10m\"\nwindow = \"45m\"\n",
        with_watch("")
    );
    let e = one_error(&src);
    assert_eq!(e.kind, ConfigErrorKind::Value);
    assert_eq!((e.line, e.path.as_str()), (14, "detection.window"));
    assert!(
        e.message
            .contains("window 45m is not a multiple of bucket 10m (e.g. 40m or 50m)"),
        "{e}"
    );
}

#[test]
fn bad_language_suggests_the_fix() {
    let e = one_error(&with_watch("languages = [\"fr\", \"EN\"]\n"));
    assert_eq!(e.kind, ConfigErrorKind::Language);
    assert_eq!(e.path, "workspaces[0].watches[0].languages[1]");
    assert_eq!((e.line, e.column), (11, 20));
    assert!(e.message.contains("lowercase: \"en\""), "{e}");
    let all = errors(&with_watch("languages = [\"fra\", \"fr\", \"fr\"]\n"));
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].kind, ConfigErrorKind::Language);
    assert_eq!(all[1].kind, ConfigErrorKind::Duplicate);
}

#[test]
fn source_fields_are_located_inside_tagged_tables() {
    let src = format!(
        "{}\n[[workspaces.sources]]\ntype = \"jsonl\"\nid = \"feed\"\npath = \"a.jsonl\"\npoll_interval = \"0s\"\n\n[[workspaces.sources]]\ntype = \"csv\"\nid = \"feed\"\npath = \"b.csv\"\n",
        with_watch("")
    );
    let all = errors(&src);
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[0].path, "workspaces[0].sources[0].poll_interval");
    assert_eq!((all[0].line, all[0].column), (16, 17));
    assert_eq!(all[1].kind, ConfigErrorKind::Duplicate);
    assert_eq!(all[1].path, "workspaces[0].sources[1].id");
    assert_eq!(all[1].line, 20);

    let e = one_error(&format!(
        "{}\n[[workspaces.sources]]\ntype = \"ftp\"\nid = \"x\"\npath = \"y\"\n",
        with_watch("")
    ));
    assert_eq!(e.kind, ConfigErrorKind::Schema);
    assert!(e.message.contains("ftp"), "{e}");
}

#[test]
fn collects_every_mistake_in_file_order() {
    let src = "version = 1\n\n[server]\nlisten = \"nowhere\"\n\n[detection]\nwindow = \"soon\"\n\n[[workspaces]]\nid = \"Bad Id\"\nname = \"\"\n\n[[workspaces.watches]]\nid = \"w\"\nname = \"W\"\nquery = \"a\"\nlanguages = [\"zz\"]\n";
    let all = errors(src);
    let paths: Vec<&str> = all.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "server.listen",
            "detection.window",
            "workspaces[0].id",
            "workspaces[0].name",
            "workspaces[0].watches[0].languages[0]"
        ]
    );
    let text = parse(src, "vigie.toml").unwrap_err().to_string();
    assert_eq!(text.lines().count(), 5);
    assert!(text.lines().all(|l| l.starts_with("vigie.toml:")), "{text}");
}

#[test]
fn no_workspace_is_an_error() {
    let e = one_error("version = 1\n");
    assert_eq!(e.path, "workspaces");
    assert!(e.message.contains("[[workspaces]]"), "{e}");
}

#[test]
fn own_accounts_are_normalised_and_checked() {
    let config = parse(
        &with_watch("own_accounts = [\"@Orsane\", \"orsane_service\"]\n"),
        "v",
    )
    .unwrap();
    assert_eq!(
        config.workspaces[0].watches[0].own_accounts,
        ["orsane", "orsane_service"]
    );
    let e = one_error(&with_watch("own_accounts = [\"a b\"]\n"));
    assert_eq!(e.path, "workspaces[0].watches[0].own_accounts[0]");
}

#[test]
fn storage_rejects_unknown_schemes() {
    let src = format!(
        "{}\n[storage]\ndatabase = \"mysql://h/db\"\n",
        with_watch("")
    );
    let e = one_error(&src);
    assert_eq!(e.path, "storage.database");
    assert!(e.message.contains("\"mysql\""), "{e}");
}

#[test]
fn unknown_field_inside_a_source_is_located() {
    let src = format!(
        "{}\n[[workspaces.sources]]\ntype = \"jsonl\"\nid = \"x\"\npath = \"y\"\npol_interval = \"5s\"\n",
        with_watch("")
    );
    let e = one_error(&src);
    assert_eq!(e.kind, ConfigErrorKind::Schema);
    assert!(e.message.contains("pol_interval"), "{e}");
    assert!(e.path.starts_with("workspaces[0].sources[0]"), "{e}");
    assert!(e.line >= 12, "{e}");
}

const DIGEST_NOTIFY: &str = "\n[[notify.channels]]\nid = \"mail\"\ntype = \"email\"\nsmtp_host = \"smtp.example.org\"\nfrom = \"vigie@example.org\"\n\n[[notify.channels]]\nid = \"hook\"\ntype = \"webhook\"\nurl = \"https://hooks.example.org/x\"\n";

#[test]
fn digests_are_validated_with_defaults() {
    let src = with_watch(&format!(
        "[[workspaces.digests]]\nperiod = \"weekly\"\nto = [\"dir@acme.example\", \"cm@acme.example\"]\nchannel = \"mail\"\nhour = 7\nweekday = \"friday\"\ntime_zone = \"Europe/Paris\"\nlanguage = \"en\"\n\n[[workspaces.digests]]\nperiod = \"daily\"\nto = [\"cm@acme.example\"]\nchannel = \"mail\"\n{DIGEST_NOTIFY}"
    ));
    let c = parse(&src, "vigie.toml").unwrap();
    let d = &c.workspaces[0].digests;
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].period, DigestPeriod::Weekly);
    assert_eq!(d[0].to, ["dir@acme.example", "cm@acme.example"]);
    assert_eq!(
        (d[0].hour, d[0].weekday, d[0].time_zone),
        (7, chrono::Weekday::Fri, chrono_tz::Europe::Paris)
    );
    assert_eq!(d[0].language, MessageLanguage::En);
    // Defaults: French, 08:00, Monday, UTC.
    assert_eq!(d[1].period, DigestPeriod::Daily);
    assert_eq!(
        (d[1].hour, d[1].language, d[1].time_zone),
        (8, MessageLanguage::Fr, chrono_tz::UTC)
    );
}

#[test]
fn digest_mistakes_point_at_their_line() {
    // Line 10 is the first digest's `period`.
    let src = with_watch(&format!(
        "[[workspaces.digests]]\nperiod = \"monthly\"\nto = []\nchannel = \"hook\"\nhour = 24\n\n[[workspaces.digests]]\nperiod = \"daily\"\nto = [\"nobody\"]\nchannel = \"mail\"\nweekday = \"friday\"\ntime_zone = \"Mars/Olympus\"\nlanguage = \"de\"\n\n[[workspaces.digests]]\nperiod = \"daily\"\nto = [\"a@b.example\"]\nchannel = \"mail\"\n{DIGEST_NOTIFY}"
    ));
    let all = errors(&src);
    let find = |path: &str| {
        all.iter()
            .find(|e| e.path == path)
            .unwrap_or_else(|| panic!("no error at {path} in {all:#?}"))
    };
    let line = |needle: &str| src.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let e = find("workspaces[0].digests[0].period");
    assert_eq!((e.line, e.column), (line("\"monthly\""), 10), "{e}");
    assert!(e.message.contains("\"daily\" or \"weekly\""), "{e}");
    assert_eq!(find("workspaces[0].digests[0].to").line, line("to = []"));
    let e = find("workspaces[0].digests[0].channel");
    assert_eq!(e.line, line("channel = \"hook\""));
    assert!(e.message.contains("not an email channel"), "{e}");
    assert_eq!(
        find("workspaces[0].digests[0].hour").line,
        line("hour = 24")
    );
    assert_eq!(
        find("workspaces[0].digests[1].to[0]").line,
        line("\"nobody\"")
    );
    assert!(
        find("workspaces[0].digests[1].weekday")
            .message
            .contains("only for a weekly")
    );
    assert_eq!(
        find("workspaces[0].digests[1].time_zone").line,
        line("Mars/Olympus")
    );
    assert_eq!(
        find("workspaces[0].digests[1].language").line,
        line("\"de\"")
    );
    let e = find("workspaces[0].digests[2].period");
    assert!(e.message.contains("already configured"), "{e}");
    assert_eq!(all.len(), 9, "{all:#?}");
}
