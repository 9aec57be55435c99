-- Vigie storage schema, version 5 (PostgreSQL): scale-out (several processes over a bus).
-- See docs/operations/scaling.md. Keep byte-for-byte stable once released.

-- Which bus message first claimed a mention: a worker that stored a batch and died before
-- acknowledging it gets the same answer ("new for this message") when the batch comes back,
-- so the detectors see each mention exactly once.
CREATE TABLE bus_claims (
    workspace   TEXT NOT NULL,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (workspace, source, external_id)
);

-- Where each detector partition is in the detection topic, saved in the same transaction
-- as its watches' states.
CREATE TABLE bus_offsets (
    consumer TEXT PRIMARY KEY NOT NULL,
    next_seq BIGINT NOT NULL
);

-- One incident per watch and opening time: a detector replaying after a crash updates the
-- incident it had opened instead of opening a second one (alerts de-duplicated by incident).
CREATE UNIQUE INDEX incidents_one_per_opening ON incidents (workspace, watch, opened_at);

-- Mentions arrive roughly in time order: a BRIN index on the publication time is a few
-- pages for millions of rows and serves time-range scans and retention deletes.
CREATE INDEX mentions_published_brin ON mentions USING brin (published_at)
    WITH (pages_per_range = 32);

-- Full-text search in the mention's language (French or English stemming).
ALTER TABLE mentions ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector(
        CASE WHEN lang = 'fr' THEN 'french'::regconfig ELSE 'english'::regconfig END,
        text
    )
) STORED;
CREATE INDEX mentions_search ON mentions USING gin (search) WITH (fastupdate = on);

-- Insert-heavy tables: vacuum (visibility map, BRIN summaries) after 5% new rows.
ALTER TABLE mentions SET (autovacuum_vacuum_insert_scale_factor = 0.05);
ALTER TABLE mention_watches SET (autovacuum_vacuum_insert_scale_factor = 0.05);
