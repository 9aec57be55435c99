-- Edits and deletions reported by sources (Mastodon status.update/delete, Bluesky deletes, …).
-- A deleted mention stays as a tombstone: its text is blanked and deleted_at is set, so counts
-- and incident timelines keep their history while the author's words are gone.
ALTER TABLE mentions ADD COLUMN edited_at BIGINT;
ALTER TABLE mentions ADD COLUMN deleted_at BIGINT;

CREATE TABLE mention_changes (
    id          BIGSERIAL PRIMARY KEY,
    workspace   TEXT NOT NULL,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    changed_at  BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    text        TEXT,
    title       TEXT,
    outcome     TEXT NOT NULL
);

CREATE INDEX mention_changes_by_mention
    ON mention_changes (workspace, source, external_id, changed_at);
