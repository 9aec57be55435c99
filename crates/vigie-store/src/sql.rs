//! The SQL text shared by both backends (`$N` placeholders work in SQLite too).
//!
//! Dynamic queries (filters, multi-row inserts) are assembled with `sqlx::QueryBuilder` in
//! `backend.rs`; their fixed fragments are here as well.

pub(crate) const ENSURE_WORKSPACE: &str =
    "INSERT INTO workspaces (id) VALUES ($1) ON CONFLICT (id) DO NOTHING";

pub(crate) const DEACTIVATE_WATCHES: &str =
    "UPDATE watches SET active = FALSE WHERE workspace = $1";

pub(crate) const UPSERT_WATCH: &str = "INSERT INTO watches \
     (workspace, id, position, name, query, languages, own_accounts, active) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (workspace, id) DO UPDATE SET \
     position = excluded.position, name = excluded.name, query = excluded.query, \
     languages = excluded.languages, own_accounts = excluded.own_accounts, \
     active = excluded.active";

pub(crate) const LIST_WORKSPACES: &str = "SELECT id FROM workspaces";

/// Configured watches in configuration order, then the retired ones.
pub(crate) const LIST_WATCHES: &str = "SELECT id, name, query, languages, own_accounts, \
     active FROM watches WHERE workspace = $1 ORDER BY active DESC, position, id";

pub(crate) const INSERT_MENTIONS_HEAD: &str = "INSERT INTO mentions (workspace, source, \
     external_id, published_at, received_at, author_handle, author_followers, author_verified, \
     lang, sentiment, sentiment_score, sentiment_confidence, reach, own_account, text, url, doc) ";

pub(crate) const INSERT_MENTIONS_TAIL: &str = " ON CONFLICT (workspace, source, external_id) \
     DO NOTHING RETURNING id, workspace, source, external_id";

pub(crate) const INSERT_LINKS_HEAD: &str =
    "INSERT INTO mention_watches (workspace, watch, mention_id, published_at) ";

pub(crate) const INSERT_LINKS_TAIL: &str = " ON CONFLICT DO NOTHING";

pub(crate) const COUNT_MENTIONS: &str = "SELECT COUNT(*) FROM mentions WHERE workspace = $1";

pub(crate) const INSERT_SIGNAL: &str = "INSERT INTO signals \
     (workspace, watch, occurred_at, kind, score, observed, expected, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (workspace, watch, occurred_at, kind, detail) DO NOTHING";

/// The most recent signals (the caller adds filters and `LIMIT`, then [`LIST_SIGNALS_TAIL`]).
pub(crate) const LIST_SIGNALS_HEAD: &str = "SELECT id, watch, occurred_at, kind, score, \
     observed, expected, detail FROM (SELECT id, watch, occurred_at, kind, score, observed, \
     expected, detail FROM signals WHERE workspace = ";

pub(crate) const LIST_SIGNALS_TAIL: &str = ") recent ORDER BY occurred_at, id";

pub(crate) const INSERT_LEVEL_CHANGE: &str = "INSERT INTO level_changes \
     (workspace, watch, occurred_at, from_level, to_level, explanation) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (workspace, watch, occurred_at, from_level, to_level) DO NOTHING";

/// A late, older change (a replay) must not overwrite a newer current level.
pub(crate) const UPSERT_WATCH_LEVEL: &str = "INSERT INTO watch_levels \
     (workspace, watch, level, since, explanation) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (workspace, watch) DO UPDATE SET level = excluded.level, \
     since = excluded.since, explanation = excluded.explanation \
     WHERE excluded.since >= watch_levels.since";

pub(crate) const CURRENT_LEVELS: &str =
    "SELECT watch, level, since, explanation FROM watch_levels WHERE workspace = $1";

pub(crate) const LEVEL_HISTORY_HEAD: &str = "SELECT watch, occurred_at, from_level, to_level, \
     explanation FROM level_changes WHERE workspace = ";

/// Upsert on the opening: a detector that replays after a crash finds the incident it had
/// opened (unique index of migration 0005) instead of opening a second one.
pub(crate) const INSERT_INCIDENT: &str = "INSERT INTO incidents \
     (workspace, watch, opened_at, closed_at, peak_level, level, timeline) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (workspace, watch, opened_at) DO UPDATE SET closed_at = excluded.closed_at, \
     peak_level = excluded.peak_level, level = excluded.level, timeline = excluded.timeline \
     RETURNING id";

pub(crate) const UPDATE_INCIDENT: &str = "UPDATE incidents SET watch = $3, opened_at = $4, \
     closed_at = $5, peak_level = $6, level = $7, timeline = $8 \
     WHERE id = $1 AND workspace = $2";

pub(crate) const LIST_INCIDENTS: &str = "SELECT id, watch, opened_at, closed_at, peak_level, \
     level, timeline FROM incidents WHERE workspace = $1 ORDER BY opened_at DESC, id DESC";

pub(crate) const LOAD_CHECKPOINT: &str =
    "SELECT cursor FROM checkpoints WHERE workspace = $1 AND source = $2";

pub(crate) const SAVE_CHECKPOINT: &str = "INSERT INTO checkpoints (workspace, source, cursor) \
     VALUES ($1, $2, $3) ON CONFLICT (workspace, source) DO UPDATE SET cursor = excluded.cursor";

pub(crate) const SAVE_DETECTOR_STATE: &str = "INSERT INTO detector_states \
     (workspace, watch, state) VALUES ($1, $2, $3) \
     ON CONFLICT (workspace, watch) DO UPDATE SET state = excluded.state";

pub(crate) const LOAD_DETECTOR_STATE: &str =
    "SELECT state FROM detector_states WHERE workspace = $1 AND watch = $2";
