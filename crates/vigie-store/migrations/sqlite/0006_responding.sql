-- Responding together (issue #7): scenarios edited through the API, crisis rooms, tasks,
-- drafts and inbox items (JSON documents with a few indexed columns), and the append-only
-- audit log. Timestamps are INTEGER epoch milliseconds; JSON documents are TEXT.

CREATE TABLE respond_scenarios (
    workspace  TEXT NOT NULL,
    id         TEXT NOT NULL,
    doc        TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (workspace, id)
);

CREATE TABLE respond_records (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    room_id    INTEGER,
    key        TEXT,
    status     TEXT NOT NULL,
    doc        TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX respond_records_by_room ON respond_records (workspace, kind, room_id, id);
CREATE UNIQUE INDEX respond_records_by_key ON respond_records (workspace, kind, key)
    WHERE key IS NOT NULL;

CREATE TABLE respond_audit (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace    TEXT NOT NULL,
    room_id      INTEGER,
    at           INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id   TEXT,
    before_doc   TEXT,
    after_doc    TEXT
);

CREATE INDEX respond_audit_by_room ON respond_audit (workspace, room_id, id);

-- The audit log is append-only: the database itself refuses to change or remove a line.
CREATE TRIGGER respond_audit_no_update BEFORE UPDATE ON respond_audit
BEGIN
    SELECT RAISE(ABORT, 'respond_audit is append-only');
END;

CREATE TRIGGER respond_audit_no_delete BEFORE DELETE ON respond_audit
BEGIN
    SELECT RAISE(ABORT, 'respond_audit is append-only');
END;
