-- Accounts (PostgreSQL): users, workspace roles, sessions, API tokens, login throttling.
-- Secrets are never stored in clear: passwords are Argon2id PHC strings, session and API
-- tokens are SHA-256 hex digests of the random value the client holds. Times are epoch ms.

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE CHECK (length(login) > 0),
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    locale        TEXT NOT NULL,
    time_zone     TEXT NOT NULL,
    totp_secret   TEXT,
    created_at    BIGINT NOT NULL
);

CREATE TABLE memberships (
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'responder', 'viewer')),
    PRIMARY KEY (user_id, workspace)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE login_throttle (
    key          TEXT PRIMARY KEY NOT NULL,
    failures     BIGINT NOT NULL,
    window_start BIGINT NOT NULL
);
