//! `vigie digest`: the digest of stored mentions, printed; `--send` without a configured
//! digest is refused with the reason.

use crate::support::{stderr, stdout, vigie};

#[test]
fn digest_prints_the_stored_figures_and_send_needs_a_configured_digest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vigie.toml"),
        "version = 1\n\n[[workspaces]]\nid = \"acme\"\nname = \"Acme\"\n\n\
         [[workspaces.watches]]\nid = \"orsane\"\nname = \"Orsane\"\nquery = 'orsane'\n",
    )
    .unwrap();
    // Six mentions published in the last hours (the digest's period ends now).
    let now = chrono::Utc::now();
    let mut lines = String::new();
    for (i, text) in [
        "Orsane a perdu mon colis, scandaleux #colisperdu",
        "Toujours aucune réponse d'Orsane, c'est honteux #colisperdu",
        "Orsane livreur odieux, je suis furieux",
        "Orsane : service client catastrophique, arnaque",
        "Commande Orsane reçue ce matin",
        "Orsane ouvre un nouvel entrepôt à Lyon",
    ]
    .iter()
    .enumerate()
    {
        let at = (now - chrono::Duration::minutes(30 + 10 * i as i64)).to_rfc3339();
        lines.push_str(
            &serde_json::json!({"source": "test", "external_id": format!("d{i}"),
                "author": {"handle": format!("client{i}"), "followers": 100 * (i + 1)},
                "published_at": at, "text": text})
            .to_string(),
        );
        lines.push('\n');
    }
    std::fs::write(dir.path().join("m.jsonl"), lines).unwrap();
    let common = ["--config", "vigie.toml", "--database", "v.db"];
    let o = vigie(dir.path(), &[&["import", "m.jsonl"][..], &common].concat());
    assert!(o.status.success(), "{}", stderr(&o));

    let o = vigie(
        dir.path(),
        &[&["digest", "--period", "daily"][..], &common].concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("[Vigie] "), "{text}");
    assert!(text.contains("== Orsane (orsane) =="), "{text}");
    assert!(text.contains("Mentions: 6"), "{text}");
    assert!(text.contains("#colisperdu (2)"), "{text}");

    let o = vigie(
        dir.path(),
        &[&["digest", "--lang", "en", "--format", "html"][..], &common].concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("<html"), "{}", stdout(&o));

    let o = vigie(dir.path(), &[&["digest", "--send"][..], &common].concat());
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("has no daily digest in [[workspaces.digests]]"),
        "{}",
        stderr(&o)
    );
}
