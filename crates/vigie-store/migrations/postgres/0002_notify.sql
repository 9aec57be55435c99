-- Mobilizing (issue #6): mobilization incidents with their timeline, dead letters of
-- notifications that could not be delivered, and acknowledgement links already used.

CREATE TABLE mobilizations (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace  TEXT NOT NULL,
    watch      TEXT NOT NULL,
    opened_at  BIGINT NOT NULL,
    closed_at  BIGINT,
    status     TEXT NOT NULL,
    doc        JSONB NOT NULL
);

CREATE INDEX mobilizations_by_opening ON mobilizations (workspace, opened_at DESC, id DESC);
CREATE INDEX mobilizations_open ON mobilizations (status);

CREATE TABLE notify_dead_letters (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    workspace   TEXT NOT NULL,
    incident_id BIGINT,
    channel     TEXT NOT NULL,
    recipient   TEXT,
    attempts    BIGINT NOT NULL,
    error       TEXT NOT NULL,
    message     JSONB NOT NULL
);

CREATE INDEX notify_dead_letters_by_time ON notify_dead_letters (workspace, at DESC, id DESC);

CREATE TABLE notify_used_links (
    nonce       TEXT PRIMARY KEY,
    incident_id BIGINT NOT NULL,
    used_at     BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
