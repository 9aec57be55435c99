-- Responding together (issue #7): scenarios edited through the API, crisis rooms, tasks,
-- drafts and inbox items (JSON documents with a few indexed columns), and the append-only
-- audit log. Timestamps are BIGINT epoch milliseconds; JSON documents are JSONB.

CREATE TABLE respond_scenarios (
    workspace  TEXT NOT NULL,
    id         TEXT NOT NULL,
    doc        JSONB NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace, id)
);

CREATE TABLE respond_records (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    room_id    BIGINT,
    key        TEXT,
    status     TEXT NOT NULL,
    doc        JSONB NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX respond_records_by_room ON respond_records (workspace, kind, room_id, id);
CREATE UNIQUE INDEX respond_records_by_key ON respond_records (workspace, kind, key)
    WHERE key IS NOT NULL;

CREATE TABLE respond_audit (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace    TEXT NOT NULL,
    room_id      BIGINT,
    at           BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id   TEXT,
    before_doc   JSONB,
    after_doc    JSONB
);

CREATE INDEX respond_audit_by_room ON respond_audit (workspace, room_id, id);

-- The audit log is append-only: the database itself refuses to change or remove a line.
CREATE FUNCTION respond_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'respond_audit is append-only';
END
$$;

CREATE TRIGGER respond_audit_no_change BEFORE UPDATE OR DELETE ON respond_audit
    FOR EACH ROW EXECUTE FUNCTION respond_audit_append_only();

CREATE TRIGGER respond_audit_no_truncate BEFORE TRUNCATE ON respond_audit
    FOR EACH STATEMENT EXECUTE FUNCTION respond_audit_append_only();
