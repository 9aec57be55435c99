//! Accounts: users, their role in each workspace, browser sessions, API tokens and login
//! throttling ([`AccountStore`], implemented by both backends; schema in migration 0003).
//!
//! The store never sees a secret in clear: passwords arrive as Argon2id PHC strings, session
//! and API tokens as digests of the random value that only the client holds. Hashing,
//! verification and the policies (expiry, throttling limits) live in `vigie-web`.

use crate::StoreResult;
use async_trait::async_trait;
use serde::Serialize;
use vigie_model::{Timestamp, WorkspaceId};

/// What a user may do in one workspace, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users, roles and tokens of the workspace.
    Admin,
    /// Watches, scenarios, incidents; not users.
    Manager,
    /// Answers: inbox, drafts, acknowledgements.
    Responder,
    /// Reads only.
    Viewer,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Manager, Role::Responder, Role::Viewer];

    /// `admin`, `manager`, `responder` or `viewer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Manager => "manager",
            Self::Responder => "responder",
            Self::Viewer => "viewer",
        }
    }

    /// The role named `s` (as written by [`Role::as_str`]).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role includes the rights of `other` (admin ⊇ manager ⊇ responder ⊇
    /// viewer).
    pub fn at_least(self, other: Role) -> bool {
        self <= other
    }
}

/// The scope of an API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// `GET`/`HEAD` only.
    Read,
    /// Every method the user's roles allow.
    Write,
}

impl TokenScope {
    /// `read` or `write`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
    /// The scope named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            _ => None,
        }
    }
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Store-assigned id.
    pub id: i64,
    /// The unique login (an e-mail address or a short name).
    pub login: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// `fr` or `en`.
    pub locale: String,
    /// IANA time zone name, e.g. `Europe/Paris`.
    pub time_zone: String,
    /// Base32 TOTP secret when the second factor is on.
    pub totp_secret: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Unique login.
    pub login: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// `fr` or `en`.
    pub locale: String,
    /// IANA time zone name.
    pub time_zone: String,
}

/// A browser session. The cookie holds the token; the store holds its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Digest of the cookie value.
    pub token_hash: String,
    /// Whose session.
    pub user_id: i64,
    /// The CSRF token every form and cookie-authenticated mutation must echo.
    pub csrf_token: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// After this instant the session is refused.
    pub expires_at: Timestamp,
}

/// An API token (the secret itself is shown once and never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiTokenRecord {
    /// Store-assigned id.
    pub id: i64,
    /// Digest of the secret.
    #[serde(skip)]
    pub token_hash: String,
    /// Owner.
    pub user_id: i64,
    /// A label chosen by the owner.
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last time it authenticated a request.
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked; a revoked token authenticates nothing.
    pub revoked_at: Option<Timestamp>,
}

/// Failed login attempts counted for one key (a login or a client address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    /// Failures since `window_start`.
    pub failures: u32,
    /// When the current counting window began.
    pub window_start: Timestamp,
}

/// Storage of accounts. Obtain it with [`Store::accounts`](crate::Store::accounts).
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates a user; [`StoreError::Invalid`](crate::StoreError::Invalid) if the login is
    /// taken.
    async fn create_user(&self, user: &NewUser, now: Timestamp) -> StoreResult<i64>;
    /// The user with this login.
    async fn user_by_login(&self, login: &str) -> StoreResult<Option<UserRecord>>;
    /// The user with this id.
    async fn user_by_id(&self, id: i64) -> StoreResult<Option<UserRecord>>;
    /// Every user, by login.
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>>;
    /// Replaces the password hash.
    async fn set_password_hash(&self, user: i64, hash: &str) -> StoreResult<()>;
    /// Sets the language and time zone.
    async fn set_preferences(&self, user: i64, locale: &str, time_zone: &str) -> StoreResult<()>;
    /// Turns the second factor on (`Some(secret)`) or off.
    async fn set_totp_secret(&self, user: i64, secret: Option<&str>) -> StoreResult<()>;
    /// Records that a TOTP code of time step `step` was accepted for `user`: `true` if no
    /// code of this step or a later one was accepted before (atomic, so two requests racing
    /// with the same code cannot both win), `false` for a replay. Changing the secret forgets
    /// the steps used.
    async fn use_totp_step(&self, user: i64, step: i64) -> StoreResult<bool>;

    /// Gives `user` the `role` in `workspace` (replacing a previous role).
    async fn set_role(&self, user: i64, workspace: &WorkspaceId, role: Role) -> StoreResult<()>;
    /// Removes the user from the workspace; `false` if they were not a member.
    async fn remove_role(&self, user: i64, workspace: &WorkspaceId) -> StoreResult<bool>;
    /// The user's role in each of their workspaces, by workspace.
    async fn roles_of(&self, user: i64) -> StoreResult<Vec<(WorkspaceId, Role)>>;
    /// The members of a workspace with their role, by login.
    async fn members_of(&self, workspace: &WorkspaceId) -> StoreResult<Vec<(UserRecord, Role)>>;

    /// Stores a new session.
    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// The session with this digest if it has not expired at `now`.
    async fn session(&self, token_hash: &str, now: Timestamp)
    -> StoreResult<Option<SessionRecord>>;
    /// Deletes a session (log out); `false` if there was none.
    async fn delete_session(&self, token_hash: &str) -> StoreResult<bool>;
    /// Deletes every session of a user (password change); returns how many.
    async fn delete_sessions_of(&self, user: i64) -> StoreResult<u64>;
    /// Deletes the sessions expired at `now`; returns how many.
    async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<u64>;

    /// Stores a new API token (its `id` is ignored) and returns its id.
    async fn create_api_token(&self, token: &ApiTokenRecord) -> StoreResult<i64>;
    /// The token with this digest, revoked or not.
    async fn api_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<ApiTokenRecord>>;
    /// The tokens of a user, newest first.
    async fn list_api_tokens(&self, user: i64) -> StoreResult<Vec<ApiTokenRecord>>;
    /// Revokes a token of `user`; `false` if it does not exist, is another user's or was
    /// already revoked.
    async fn revoke_api_token(&self, user: i64, id: i64, now: Timestamp) -> StoreResult<bool>;
    /// Records that the token authenticated a request.
    async fn touch_api_token(&self, id: i64, now: Timestamp) -> StoreResult<()>;

    /// The failures counted for `key`.
    async fn throttle_state(&self, key: &str) -> StoreResult<Option<ThrottleState>>;
    /// Counts one failure for `key`: a window older than `window_ms` restarts at `now`.
    /// Returns the new state.
    async fn record_login_failure(
        &self,
        key: &str,
        now: Timestamp,
        window_ms: i64,
    ) -> StoreResult<ThrottleState>;
    /// Forgets the failures of `key` (after a successful login).
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;
}

/// `id, login, display_name, password_hash, locale, time_zone, totp_secret, created_at`.
pub(crate) type UserRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
);

/// `id, token_hash, user_id, name, scope, created_at, last_used_at, revoked_at`.
pub(crate) type TokenRow = (
    i64,
    String,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

pub(crate) fn user_from_row(row: UserRow) -> UserRecord {
    let (id, login, display_name, password_hash, locale, time_zone, totp_secret, created_at) = row;
    UserRecord {
        id,
        login,
        display_name,
        password_hash,
        locale,
        time_zone,
        totp_secret,
        created_at: Timestamp::from_millis(created_at),
    }
}

pub(crate) fn token_from_row(row: TokenRow) -> StoreResult<ApiTokenRecord> {
    let (id, token_hash, user_id, name, scope, created_at, last_used_at, revoked_at) = row;
    Ok(ApiTokenRecord {
        id,
        token_hash,
        user_id,
        name,
        scope: TokenScope::parse(&scope).ok_or_else(|| crate::StoreError::Corrupt {
            what: "token scope",
            detail: format!("unknown scope {scope:?}"),
        })?,
        created_at: Timestamp::from_millis(created_at),
        last_used_at: last_used_at.map(Timestamp::from_millis),
        revoked_at: revoked_at.map(Timestamp::from_millis),
    })
}

pub(crate) fn role_from_str(s: &str) -> StoreResult<Role> {
    Role::parse(s).ok_or_else(|| crate::StoreError::Corrupt {
        what: "role",
        detail: format!("unknown role {s:?}"),
    })
}

/// Whether a driver error is a unique-constraint violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Expands into `impl AccountStore for $store`, using `self.pool`. Invoked in `sqlite.rs`
/// and `postgres.rs` (where the private `pool` field is visible); the SQL is the same for
/// both databases.
macro_rules! impl_account_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl $crate::accounts::AccountStore for $store {
            async fn create_user(
                &self,
                user: &$crate::accounts::NewUser,
                now: ::vigie_model::Timestamp,
            ) -> $crate::StoreResult<i64> {
                let r: Result<(i64,), ::sqlx::Error> = ::sqlx::query_as(
                    "INSERT INTO users (login, display_name, password_hash, locale, time_zone, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(&user.login)
                .bind(&user.display_name)
                .bind(&user.password_hash)
                .bind(&user.locale)
                .bind(&user.time_zone)
                .bind(now.as_millis())
                .fetch_one(&self.pool)
                .await;
                match r {
                    Ok((id,)) => Ok(id),
                    Err(e) if $crate::accounts::is_unique_violation(&e) => {
                        Err($crate::StoreError::Invalid {
                            what: "login",
                            detail: format!("a user named {:?} already exists", user.login),
                        })
                    }
                    Err(e) => Err($crate::StoreError::query("create user")(e)),
                }
            }

            async fn user_by_login(
                &self,
                login: &str,
            ) -> $crate::StoreResult<Option<$crate::accounts::UserRecord>> {
                let row: Option<$crate::accounts::UserRow> = ::sqlx::query_as(
                    "SELECT id, login, display_name, password_hash, locale, time_zone, totp_secret, created_at \
                     FROM users WHERE login = $1",
                )
                .bind(login)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::StoreError::query("find user"))?;
                Ok(row.map($crate::accounts::user_from_row))
            }

            async fn user_by_id(
                &self,
                id: i64,
            ) -> $crate::StoreResult<Option<$crate::accounts::UserRecord>> {
                let row: Option<$crate::accounts::UserRow> = ::sqlx::query_as(
                    "SELECT id, login, display_name, password_hash, locale, time_zone, totp_secret, created_at \
                     FROM users WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::StoreError::query("find user"))?;
                Ok(row.map($crate::accounts::user_from_row))
            }

            async fn list_users(
                &self,
            ) -> $crate::StoreResult<Vec<$crate::accounts::UserRecord>> {
                let rows: Vec<$crate::accounts::UserRow> = ::sqlx::query_as(
                    "SELECT id, login, display_name, password_hash, locale, time_zone, totp_secret, created_at \
                     FROM users ORDER BY login",
                )
                .fetch_all(&self.pool)
                .await
                .map_err($crate::StoreError::query("list users"))?;
                Ok(rows.into_iter().map($crate::accounts::user_from_row).collect())
            }

            async fn set_password_hash(&self, user: i64, hash: &str) -> $crate::StoreResult<()> {
                ::sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(user)
                    .bind(hash)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("set password"))?;
                Ok(())
            }

            async fn set_preferences(
                &self,
                user: i64,
                locale: &str,
                time_zone: &str,
            ) -> $crate::StoreResult<()> {
                ::sqlx::query("UPDATE users SET locale = $2, time_zone = $3 WHERE id = $1")
                    .bind(user)
                    .bind(locale)
                    .bind(time_zone)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("set preferences"))?;
                Ok(())
            }

            async fn set_totp_secret(
                &self,
                user: i64,
                secret: Option<&str>,
            ) -> $crate::StoreResult<()> {
                ::sqlx::query(
                    "UPDATE users SET totp_secret = $2, totp_last_step = NULL WHERE id = $1",
                )
                .bind(user)
                .bind(secret)
                .execute(&self.pool)
                .await
                .map_err($crate::StoreError::query("set totp secret"))?;
                Ok(())
            }

            async fn use_totp_step(&self, user: i64, step: i64) -> $crate::StoreResult<bool> {
                let done = ::sqlx::query(
                    "UPDATE users SET totp_last_step = $2 \
                     WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                )
                .bind(user)
                .bind(step)
                .execute(&self.pool)
                .await
                .map_err($crate::StoreError::query("use totp step"))?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_role(
                &self,
                user: i64,
                workspace: &::vigie_model::WorkspaceId,
                role: $crate::accounts::Role,
            ) -> $crate::StoreResult<()> {
                ::sqlx::query(
                    "INSERT INTO memberships (user_id, workspace, role) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id, workspace) DO UPDATE SET role = excluded.role",
                )
                .bind(user)
                .bind(workspace.as_str())
                .bind(role.as_str())
                .execute(&self.pool)
                .await
                .map_err($crate::StoreError::query("set role"))?;
                Ok(())
            }

            async fn remove_role(
                &self,
                user: i64,
                workspace: &::vigie_model::WorkspaceId,
            ) -> $crate::StoreResult<bool> {
                let r = ::sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND workspace = $2")
                    .bind(user)
                    .bind(workspace.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("remove role"))?;
                Ok(r.rows_affected() > 0)
            }

            async fn roles_of(
                &self,
                user: i64,
            ) -> $crate::StoreResult<Vec<(::vigie_model::WorkspaceId, $crate::accounts::Role)>> {
                let rows: Vec<(String, String)> = ::sqlx::query_as(
                    "SELECT workspace, role FROM memberships WHERE user_id = $1 ORDER BY workspace",
                )
                .bind(user)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::StoreError::query("list roles"))?;
                rows.into_iter()
                    .map(|(ws, role)| {
                        Ok((
                            $crate::codec::parse_id("workspace id", ws)?,
                            $crate::accounts::role_from_str(&role)?,
                        ))
                    })
                    .collect()
            }

            async fn members_of(
                &self,
                workspace: &::vigie_model::WorkspaceId,
            ) -> $crate::StoreResult<Vec<($crate::accounts::UserRecord, $crate::accounts::Role)>> {
                let rows: Vec<(i64, String, String, String, String, String, Option<String>, i64, String)> =
                    ::sqlx::query_as(
                        "SELECT u.id, u.login, u.display_name, u.password_hash, u.locale, u.time_zone, \
                         u.totp_secret, u.created_at, m.role \
                         FROM memberships m JOIN users u ON u.id = m.user_id \
                         WHERE m.workspace = $1 ORDER BY u.login",
                    )
                    .bind(workspace.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("list members"))?;
                rows.into_iter()
                    .map(|(a, b, c, d, e, f, g, h, role)| {
                        Ok((
                            $crate::accounts::user_from_row((a, b, c, d, e, f, g, h)),
                            $crate::accounts::role_from_str(&role)?,
                        ))
                    })
                    .collect()
            }

            async fn create_session(
                &self,
                s: &$crate::accounts::SessionRecord,
            ) -> $crate::StoreResult<()> {
                ::sqlx::query(
                    "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&s.token_hash)
                .bind(s.user_id)
                .bind(&s.csrf_token)
                .bind(s.created_at.as_millis())
                .bind(s.expires_at.as_millis())
                .execute(&self.pool)
                .await
                .map_err($crate::StoreError::query("create session"))?;
                Ok(())
            }

            async fn session(
                &self,
                token_hash: &str,
                now: ::vigie_model::Timestamp,
            ) -> $crate::StoreResult<Option<$crate::accounts::SessionRecord>> {
                let row: Option<(String, i64, String, i64, i64)> = ::sqlx::query_as(
                    "SELECT token_hash, user_id, csrf_token, created_at, expires_at \
                     FROM sessions WHERE token_hash = $1 AND expires_at > $2",
                )
                .bind(token_hash)
                .bind(now.as_millis())
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::StoreError::query("find session"))?;
                Ok(row.map(|(token_hash, user_id, csrf_token, c, e)| {
                    $crate::accounts::SessionRecord {
                        token_hash,
                        user_id,
                        csrf_token,
                        created_at: ::vigie_model::Timestamp::from_millis(c),
                        expires_at: ::vigie_model::Timestamp::from_millis(e),
                    }
                }))
            }

            async fn delete_session(&self, token_hash: &str) -> $crate::StoreResult<bool> {
                let r = ::sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("delete session"))?;
                Ok(r.rows_affected() > 0)
            }

            async fn delete_sessions_of(&self, user: i64) -> $crate::StoreResult<u64> {
                let r = ::sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("delete sessions"))?;
                Ok(r.rows_affected())
            }

            async fn delete_expired_sessions(
                &self,
                now: ::vigie_model::Timestamp,
            ) -> $crate::StoreResult<u64> {
                let r = ::sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                    .bind(now.as_millis())
                    .execute(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("delete expired sessions"))?;
                Ok(r.rows_affected())
            }

            async fn create_api_token(
                &self,
                t: &$crate::accounts::ApiTokenRecord,
            ) -> $crate::StoreResult<i64> {
                let (id,): (i64,) = ::sqlx::query_as(
                    "INSERT INTO api_tokens (token_hash, user_id, name, scope, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(&t.token_hash)
                .bind(t.user_id)
                .bind(&t.name)
                .bind(t.scope.as_str())
                .bind(t.created_at.as_millis())
                .fetch_one(&self.pool)
                .await
                .map_err($crate::StoreError::query("create api token"))?;
                Ok(id)
            }

            async fn api_token_by_hash(
                &self,
                token_hash: &str,
            ) -> $crate::StoreResult<Option<$crate::accounts::ApiTokenRecord>> {
                let row: Option<$crate::accounts::TokenRow> = ::sqlx::query_as(
                    "SELECT id, token_hash, user_id, name, scope, created_at, last_used_at, revoked_at \
                     FROM api_tokens WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::StoreError::query("find api token"))?;
                row.map($crate::accounts::token_from_row).transpose()
            }

            async fn list_api_tokens(
                &self,
                user: i64,
            ) -> $crate::StoreResult<Vec<$crate::accounts::ApiTokenRecord>> {
                let rows: Vec<$crate::accounts::TokenRow> = ::sqlx::query_as(
                    "SELECT id, token_hash, user_id, name, scope, created_at, last_used_at, revoked_at \
                     FROM api_tokens WHERE user_id = $1 ORDER BY id DESC",
                )
                .bind(user)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::StoreError::query("list api tokens"))?;
                rows.into_iter().map($crate::accounts::token_from_row).collect()
            }

            async fn revoke_api_token(
                &self,
                user: i64,
                id: i64,
                now: ::vigie_model::Timestamp,
            ) -> $crate::StoreResult<bool> {
                let r = ::sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $3 \
                     WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(user)
                .bind(now.as_millis())
                .execute(&self.pool)
                .await
                .map_err($crate::StoreError::query("revoke api token"))?;
                Ok(r.rows_affected() > 0)
            }

            async fn touch_api_token(
                &self,
                id: i64,
                now: ::vigie_model::Timestamp,
            ) -> $crate::StoreResult<()> {
                ::sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(now.as_millis())
                    .execute(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("touch api token"))?;
                Ok(())
            }

            async fn throttle_state(
                &self,
                key: &str,
            ) -> $crate::StoreResult<Option<$crate::accounts::ThrottleState>> {
                let row: Option<(i64, i64)> = ::sqlx::query_as(
                    "SELECT failures, window_start FROM login_throttle WHERE key = $1",
                )
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::StoreError::query("read login throttle"))?;
                Ok(row.map(|(f, w)| $crate::accounts::ThrottleState {
                    failures: u32::try_from(f).unwrap_or(u32::MAX),
                    window_start: ::vigie_model::Timestamp::from_millis(w),
                }))
            }

            async fn record_login_failure(
                &self,
                key: &str,
                now: ::vigie_model::Timestamp,
                window_ms: i64,
            ) -> $crate::StoreResult<$crate::accounts::ThrottleState> {
                let (f, w): (i64, i64) = ::sqlx::query_as(
                    "INSERT INTO login_throttle (key, failures, window_start) VALUES ($1, 1, $2) \
                     ON CONFLICT (key) DO UPDATE SET \
                     failures = CASE WHEN login_throttle.window_start <= $2 - $3 THEN 1 \
                                     ELSE login_throttle.failures + 1 END, \
                     window_start = CASE WHEN login_throttle.window_start <= $2 - $3 THEN $2 \
                                     ELSE login_throttle.window_start END \
                     RETURNING failures, window_start",
                )
                .bind(key)
                .bind(now.as_millis())
                .bind(window_ms)
                .fetch_one(&self.pool)
                .await
                .map_err($crate::StoreError::query("record login failure"))?;
                Ok($crate::accounts::ThrottleState {
                    failures: u32::try_from(f).unwrap_or(u32::MAX),
                    window_start: ::vigie_model::Timestamp::from_millis(w),
                })
            }

            async fn clear_login_failures(&self, key: &str) -> $crate::StoreResult<()> {
                ::sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                    .bind(key)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::StoreError::query("clear login failures"))?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_account_store;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::{PostgresStore, SqliteStore, Store, StoreError};

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn new_user(login: &str) -> NewUser {
        NewUser {
            login: login.into(),
            display_name: login.to_uppercase(),
            password_hash: "$argon2id$v=19$fake".into(),
            locale: "fr".into(),
            time_zone: "Europe/Paris".into(),
        }
    }

    /// The whole account lifecycle, run against each backend.
    async fn lifecycle(store: &dyn Store) {
        let a = store.accounts();
        let ws = WorkspaceId::new("acme").unwrap();
        let other = WorkspaceId::new("globex").unwrap();
        let alice = a.create_user(&new_user("alice"), t(1)).await.unwrap();
        let bob = a.create_user(&new_user("bob"), t(2)).await.unwrap();
        assert_ne!(alice, bob);
        let dup = a.create_user(&new_user("alice"), t(3)).await.unwrap_err();
        assert!(
            matches!(dup, StoreError::Invalid { what: "login", .. }),
            "{dup}"
        );
        let found = a.user_by_login("alice").await.unwrap().unwrap();
        assert_eq!(found.id, alice);
        assert_eq!(found.display_name, "ALICE");
        assert_eq!(found.created_at, t(1));
        assert!(a.user_by_login("carol").await.unwrap().is_none());
        assert_eq!(a.list_users().await.unwrap().len(), 2);

        a.set_preferences(alice, "en", "America/New_York")
            .await
            .unwrap();
        a.set_totp_secret(alice, Some("JBSWY3DPEHPK3PXP"))
            .await
            .unwrap();
        a.set_password_hash(alice, "$argon2id$new").await.unwrap();
        let u = a.user_by_id(alice).await.unwrap().unwrap();
        assert_eq!(
            (
                u.locale.as_str(),
                u.time_zone.as_str(),
                u.totp_secret.as_deref(),
                u.password_hash.as_str()
            ),
            (
                "en",
                "America/New_York",
                Some("JBSWY3DPEHPK3PXP"),
                "$argon2id$new"
            )
        );
        // Each TOTP step is accepted once; earlier steps are refused; a new secret resets.
        assert!(a.use_totp_step(alice, 100).await.unwrap());
        assert!(!a.use_totp_step(alice, 100).await.unwrap(), "replay");
        assert!(!a.use_totp_step(alice, 99).await.unwrap(), "older step");
        assert!(a.use_totp_step(alice, 101).await.unwrap());
        assert!(a.use_totp_step(bob, 100).await.unwrap(), "per user");
        a.set_totp_secret(alice, Some("KRSXG5CTMVRXEZLU"))
            .await
            .unwrap();
        assert!(a.use_totp_step(alice, 50).await.unwrap(), "new secret");
        a.set_totp_secret(alice, None).await.unwrap();
        assert!(
            a.user_by_id(alice)
                .await
                .unwrap()
                .unwrap()
                .totp_secret
                .is_none()
        );

        // Roles: one per workspace, replaced on update, scoped.
        a.set_role(alice, &ws, Role::Viewer).await.unwrap();
        a.set_role(alice, &ws, Role::Admin).await.unwrap();
        a.set_role(bob, &other, Role::Responder).await.unwrap();
        assert_eq!(
            a.roles_of(alice).await.unwrap(),
            vec![(ws.clone(), Role::Admin)]
        );
        let members = a.members_of(&ws).await.unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!((members[0].0.id, members[0].1), (alice, Role::Admin));
        assert!(a.remove_role(bob, &other).await.unwrap());
        assert!(!a.remove_role(bob, &other).await.unwrap());
        assert!(a.roles_of(bob).await.unwrap().is_empty());

        // Sessions expire.
        let s = SessionRecord {
            token_hash: "h1".into(),
            user_id: alice,
            csrf_token: "c1".into(),
            created_at: t(100),
            expires_at: t(200),
        };
        a.create_session(&s).await.unwrap();
        assert_eq!(a.session("h1", t(150)).await.unwrap(), Some(s.clone()));
        assert_eq!(a.session("h1", t(200)).await.unwrap(), None);
        assert_eq!(a.session("nope", t(150)).await.unwrap(), None);
        assert_eq!(a.delete_expired_sessions(t(250)).await.unwrap(), 1);
        a.create_session(&SessionRecord {
            token_hash: "h2".into(),
            expires_at: t(10_000),
            ..s.clone()
        })
        .await
        .unwrap();
        assert!(a.delete_session("h2").await.unwrap());
        assert!(!a.delete_session("h2").await.unwrap());
        a.create_session(&SessionRecord {
            token_hash: "h3".into(),
            expires_at: t(10_000),
            ..s
        })
        .await
        .unwrap();
        assert_eq!(a.delete_sessions_of(alice).await.unwrap(), 1);

        // API tokens: revocable by their owner only.
        let tok = ApiTokenRecord {
            id: 0,
            token_hash: "th".into(),
            user_id: alice,
            name: "ci".into(),
            scope: TokenScope::Read,
            created_at: t(5),
            last_used_at: None,
            revoked_at: None,
        };
        let id = a.create_api_token(&tok).await.unwrap();
        a.touch_api_token(id, t(6)).await.unwrap();
        let got = a.api_token_by_hash("th").await.unwrap().unwrap();
        assert_eq!(
            (got.id, got.last_used_at, got.scope),
            (id, Some(t(6)), TokenScope::Read)
        );
        assert!(!a.revoke_api_token(bob, id, t(7)).await.unwrap());
        assert!(a.revoke_api_token(alice, id, t(7)).await.unwrap());
        assert!(!a.revoke_api_token(alice, id, t(8)).await.unwrap());
        assert_eq!(
            a.list_api_tokens(alice).await.unwrap()[0].revoked_at,
            Some(t(7))
        );
        assert!(a.list_api_tokens(bob).await.unwrap().is_empty());

        // Throttling: failures counted inside a window, restarted after it.
        assert!(a.throttle_state("alice").await.unwrap().is_none());
        assert_eq!(
            a.record_login_failure("alice", t(1000), 100)
                .await
                .unwrap()
                .failures,
            1
        );
        assert_eq!(
            a.record_login_failure("alice", t(1050), 100)
                .await
                .unwrap()
                .failures,
            2
        );
        let st = a.record_login_failure("alice", t(1200), 100).await.unwrap();
        assert_eq!((st.failures, st.window_start), (1, t(1200)));
        a.clear_login_failures("alice").await.unwrap();
        assert!(a.throttle_state("alice").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn sqlite_account_lifecycle() {
        let store = SqliteStore::open_in_memory().await.unwrap();
        store.migrate().await.unwrap();
        lifecycle(&store).await;
    }

    #[tokio::test]
    async fn postgres_account_lifecycle() {
        let Ok(url) = std::env::var("VIGIE_TEST_POSTGRES_URL") else {
            println!("skipping: VIGIE_TEST_POSTGRES_URL not set");
            return;
        };
        let schema = format!("vigie_accounts_{}", std::process::id());
        let store = PostgresStore::connect_temporary(&url, &schema)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        lifecycle(&store).await;
    }

    #[test]
    fn roles_are_ordered_and_named() {
        assert!(Role::Admin.at_least(Role::Viewer));
        assert!(Role::Manager.at_least(Role::Responder));
        assert!(!Role::Viewer.at_least(Role::Responder));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(TokenScope::parse("write"), Some(TokenScope::Write));
        assert_eq!(TokenScope::parse("all"), None);
    }
}
