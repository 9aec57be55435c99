-- Vigie storage schema, version 1 (SQLite).
-- Every timestamp is INTEGER epoch milliseconds (UTC), like vigie_model::Timestamp.
-- JSON documents are TEXT. Keep this file byte-for-byte stable once released: sqlx checks
-- its checksum; schema changes go into a new numbered file.

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY NOT NULL
);

CREATE TABLE watches (
    workspace    TEXT NOT NULL,
    id           TEXT NOT NULL,
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    query        TEXT NOT NULL,
    languages    TEXT NOT NULL,
    own_accounts TEXT NOT NULL,
    active       BOOLEAN NOT NULL,
    PRIMARY KEY (workspace, id)
);

CREATE TABLE mentions (
    id                   INTEGER PRIMARY KEY,
    workspace            TEXT NOT NULL,
    source               TEXT NOT NULL CHECK (length(source) > 0),
    external_id          TEXT NOT NULL CHECK (length(external_id) > 0),
    published_at         INTEGER NOT NULL,
    received_at          INTEGER,
    author_handle        TEXT NOT NULL,
    author_followers     INTEGER,
    author_verified      BOOLEAN NOT NULL,
    lang                 TEXT,
    sentiment            TEXT NOT NULL,
    sentiment_score      REAL,
    sentiment_confidence REAL,
    reach                INTEGER NOT NULL,
    own_account          BOOLEAN NOT NULL,
    text                 TEXT NOT NULL,
    url                  TEXT,
    doc                  TEXT NOT NULL,
    UNIQUE (workspace, source, external_id)
);

CREATE INDEX mentions_by_time ON mentions (workspace, published_at DESC, id DESC);

CREATE TABLE mention_watches (
    workspace    TEXT NOT NULL,
    watch        TEXT NOT NULL,
    mention_id   INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (workspace, watch, mention_id)
);

CREATE INDEX mention_watches_by_time
    ON mention_watches (workspace, watch, published_at DESC, mention_id DESC);
CREATE INDEX mention_watches_by_mention ON mention_watches (mention_id);

CREATE TABLE signals (
    id          INTEGER PRIMARY KEY,
    workspace   TEXT NOT NULL,
    watch       TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    score       REAL,
    observed    REAL,
    expected    REAL,
    detail      TEXT NOT NULL,
    UNIQUE (workspace, watch, occurred_at, kind, detail)
);

CREATE INDEX signals_by_time ON signals (workspace, occurred_at, id);
CREATE INDEX signals_by_watch ON signals (workspace, watch, occurred_at, id);

CREATE TABLE level_changes (
    id          INTEGER PRIMARY KEY,
    workspace   TEXT NOT NULL,
    watch       TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    from_level  SMALLINT NOT NULL,
    to_level    SMALLINT NOT NULL,
    explanation TEXT NOT NULL,
    UNIQUE (workspace, watch, occurred_at, from_level, to_level)
);

CREATE INDEX level_changes_by_time ON level_changes (workspace, occurred_at, id);

CREATE TABLE watch_levels (
    workspace   TEXT NOT NULL,
    watch       TEXT NOT NULL,
    level       SMALLINT NOT NULL,
    since       INTEGER NOT NULL,
    explanation TEXT NOT NULL,
    PRIMARY KEY (workspace, watch)
);

CREATE TABLE incidents (
    id         INTEGER PRIMARY KEY,
    workspace  TEXT NOT NULL,
    watch      TEXT NOT NULL,
    opened_at  INTEGER NOT NULL,
    closed_at  INTEGER,
    peak_level SMALLINT NOT NULL,
    level      SMALLINT NOT NULL,
    timeline   TEXT NOT NULL
);

CREATE INDEX incidents_by_opening ON incidents (workspace, opened_at DESC, id DESC);

CREATE TABLE checkpoints (
    workspace TEXT NOT NULL,
    source    TEXT NOT NULL,
    cursor    TEXT NOT NULL,
    PRIMARY KEY (workspace, source)
);

CREATE TABLE detector_states (
    workspace TEXT NOT NULL,
    watch     TEXT NOT NULL,
    state     TEXT NOT NULL,
    PRIMARY KEY (workspace, watch)
);
