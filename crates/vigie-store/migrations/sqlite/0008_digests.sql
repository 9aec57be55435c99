-- Digest e-mails (issue #7): the last period sent for each workspace's digest, so that a
-- restart neither sends a period again nor skips one.
CREATE TABLE digest_sends (
    workspace    TEXT NOT NULL,
    digest       TEXT NOT NULL,
    period_end   BIGINT NOT NULL,
    sent_at      BIGINT NOT NULL,
    PRIMARY KEY (workspace, digest)
);
