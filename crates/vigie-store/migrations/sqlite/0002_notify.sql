-- Mobilizing (issue #6): mobilization incidents with their timeline, dead letters of
-- notifications that could not be delivered, and acknowledgement links already used.

CREATE TABLE mobilizations (
    id         INTEGER PRIMARY KEY,
    workspace  TEXT NOT NULL,
    watch      TEXT NOT NULL,
    opened_at  INTEGER NOT NULL,
    closed_at  INTEGER,
    status     TEXT NOT NULL,
    doc        TEXT NOT NULL
);

CREATE INDEX mobilizations_by_opening ON mobilizations (workspace, opened_at DESC, id DESC);
CREATE INDEX mobilizations_open ON mobilizations (status);

CREATE TABLE notify_dead_letters (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    workspace   TEXT NOT NULL,
    incident_id INTEGER,
    channel     TEXT NOT NULL,
    recipient   TEXT,
    attempts    INTEGER NOT NULL,
    error       TEXT NOT NULL,
    message     TEXT NOT NULL
);

CREATE INDEX notify_dead_letters_by_time ON notify_dead_letters (workspace, at DESC, id DESC);

CREATE TABLE notify_used_links (
    nonce       TEXT PRIMARY KEY,
    incident_id INTEGER NOT NULL,
    used_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
