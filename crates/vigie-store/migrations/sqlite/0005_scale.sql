-- Vigie storage schema, version 5 (SQLite): scale-out tables, kept aligned with the
-- PostgreSQL version (its BRIN index, tsvector column and autovacuum settings have no SQLite
-- equivalent; the single-process default does not need them). Keep byte-for-byte stable.

CREATE TABLE bus_claims (
    workspace   TEXT NOT NULL,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (workspace, source, external_id)
);

CREATE TABLE bus_offsets (
    consumer TEXT PRIMARY KEY NOT NULL,
    next_seq INTEGER NOT NULL
);

CREATE UNIQUE INDEX incidents_one_per_opening ON incidents (workspace, watch, opened_at);
