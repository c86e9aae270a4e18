//! Queries over login sessions and their refresh tokens.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::db::{query, query_as, query_scalar};
use crate::domain::roles::Role;

/// Everything a request needs to know about its caller, read in one query.
#[derive(Debug, Clone, FromRow, serde::Serialize, serde::Deserialize)]
pub struct SessionUser {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    pub ventana_id: Option<Uuid>,
    /// `users.banca_id`, else the ventana's banca.
    pub banca_id: Option<Uuid>,
    pub user_active: bool,
    pub session_revoked: bool,
    /// When the session ends (the cached session check re-reads after it).
    pub expires_at: DateTime<Utc>,
}

/// The caller of an access token: its user and whether its session still stands.
pub async fn session_user(
    conn: &mut PgConnection,
    session_id: Uuid,
    user_id: Uuid,
) -> Result<Option<SessionUser>, sqlx::Error> {
    query_as(
        "SELECT u.id AS user_id, u.username::text AS username, u.role, u.ventana_id,
                COALESCE(v.banca_id, u.banca_id) AS banca_id,
                (u.is_active AND u.deleted_at IS NULL
                 AND COALESCE(v.is_active AND v.deleted_at IS NULL, true)
                 AND (u.role = 'ADMIN' OR COALESCE(b.is_active AND b.deleted_at IS NULL, true)))
                    AS user_active,
                (s.revoked_at IS NOT NULL OR s.expires_at < now()) AS session_revoked,
                s.expires_at
         FROM auth_sessions s
         JOIN users u ON u.id = s.user_id
         LEFT JOIN ventanas v ON v.id = u.ventana_id
         LEFT JOIN bancas b ON b.id = COALESCE(v.banca_id, u.banca_id)
         WHERE s.id = $1 AND s.user_id = $2",
    )
    .bind(session_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// A new session's device details.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub device_id: Option<String>,
    pub device_name: Option<String>,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
}

pub async fn insert_session(
    conn: &mut PgConnection,
    user_id: Uuid,
    banca_id: Option<Uuid>,
    device: &Device,
    expires_at: DateTime<Utc>,
) -> Result<Uuid, sqlx::Error> {
    query_scalar(
        "INSERT INTO auth_sessions (user_id, banca_id, device_id, device_name, user_agent, ip_address, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(user_id)
    .bind(banca_id)
    .bind(&device.device_id)
    .bind(&device.device_name)
    .bind(&device.user_agent)
    .bind(&device.ip_address)
    .bind(expires_at)
    .fetch_one(conn)
    .await
}

pub async fn insert_refresh_token(
    conn: &mut PgConnection,
    token_id: Uuid,
    session_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    query("INSERT INTO refresh_tokens (id, session_id, expires_at) VALUES ($1, $2, $3)")
        .bind(token_id)
        .bind(session_id)
        .bind(expires_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// A refresh token with its session, locked for the rest of the transaction.
#[derive(Debug, Clone, FromRow)]
pub struct LockedToken {
    pub token_id: Uuid,
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub token_expires_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub session_revoked: bool,
    pub session_banca_id: Option<Uuid>,
}

/// Loads a refresh token and locks its session row (concurrent refreshes of one session queue).
pub async fn lock_refresh_token(
    conn: &mut PgConnection,
    token_id: Uuid,
) -> Result<Option<LockedToken>, sqlx::Error> {
    query_as(
        "SELECT t.id AS token_id, t.session_id, s.user_id, t.expires_at AS token_expires_at,
                t.rotated_at, (s.revoked_at IS NOT NULL) AS session_revoked,
                s.banca_id AS session_banca_id
         FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id
         WHERE t.id = $1
         FOR UPDATE OF s",
    )
    .bind(token_id)
    .fetch_optional(conn)
    .await
}

/// The newest token of a session that has not been rotated, with its expiry.
pub async fn current_token(
    conn: &mut PgConnection,
    session_id: Uuid,
) -> Result<Option<(Uuid, DateTime<Utc>)>, sqlx::Error> {
    query_as(
        "SELECT id, expires_at FROM refresh_tokens
         WHERE session_id = $1 AND rotated_at IS NULL
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(session_id)
    .fetch_optional(conn)
    .await
}

/// Marks a token rotated, only if it was not already; returns false when another request
/// rotated it first (the caller then serves the session's current pair).
pub async fn mark_rotated(
    conn: &mut PgConnection,
    token_id: Uuid,
    replaced_by: Uuid,
) -> Result<bool, sqlx::Error> {
    let n = query(
        "UPDATE refresh_tokens SET rotated_at = now(), replaced_by = $2
         WHERE id = $1 AND rotated_at IS NULL",
    )
    .bind(token_id)
    .bind(replaced_by)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn touch_session(
    conn: &mut PgConnection,
    session_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    query("UPDATE auth_sessions SET last_used_at = now(), expires_at = $2 WHERE id = $1")
        .bind(session_id)
        .bind(expires_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes one session; returns false when it was already revoked or does not exist.
pub async fn revoke_session(
    conn: &mut PgConnection,
    session_id: Uuid,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let user: Option<Uuid> = query_scalar(
        "UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2
         WHERE id = $1 AND revoked_at IS NULL RETURNING user_id",
    )
    .bind(session_id)
    .bind(reason)
    .fetch_optional(conn)
    .await?;
    if let Some(u) = user {
        crate::cache::touch(crate::cache::Gen::User(u));
    }
    Ok(user.is_some())
}

/// Revokes every open session of a user; returns how many.
pub async fn revoke_user_sessions(
    conn: &mut PgConnection,
    user_id: Uuid,
    reason: &str,
) -> Result<u64, sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::User(user_id));
    Ok(query(
        "UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2
         WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(reason)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Revokes the open sessions of a user on one device; returns how many.
pub async fn revoke_device_sessions(
    conn: &mut PgConnection,
    user_id: Uuid,
    device_id: &str,
    reason: &str,
) -> Result<u64, sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::User(user_id));
    Ok(query(
        "UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $3
         WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(device_id)
    .bind(reason)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Open, unexpired sessions of a user, oldest use first.
pub async fn active_session_ids(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    query_scalar(
        "SELECT id FROM auth_sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
         ORDER BY last_used_at ASC, created_at ASC",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// Open, unexpired sessions attached to a banca (every role counts).
pub async fn count_banca_sessions(
    conn: &mut PgConnection,
    banca_id: Uuid,
) -> Result<i64, sqlx::Error> {
    query_scalar(
        "SELECT count(*) FROM auth_sessions
         WHERE banca_id = $1 AND revoked_at IS NULL AND expires_at > now()",
    )
    .bind(banca_id)
    .fetch_one(conn)
    .await
}

/// A session as listed to its owner or an administrator.
#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub device_id: Option<String>,
    pub device_name: Option<String>,
    pub ip_address: Option<String>,
    pub last_used_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The owner's banca (profile, else ventana's), for BANCA administrators.
    pub owner_banca_id: Option<Uuid>,
}

const SESSION_SELECT: &str = "SELECT s.id, s.user_id, s.device_id, s.device_name, s.ip_address,
        s.last_used_at, s.created_at, s.revoked_at,
        COALESCE(v.banca_id, u.banca_id) AS owner_banca_id
    FROM auth_sessions s JOIN users u ON u.id = s.user_id
    LEFT JOIN ventanas v ON v.id = u.ventana_id";

pub async fn list_active(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    query_as(&format!(
        "{SESSION_SELECT} WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
         ORDER BY s.last_used_at DESC"
    ))
    .bind(user_id)
    .fetch_all(conn)
    .await
}

pub async fn find(
    conn: &mut PgConnection,
    session_id: Uuid,
) -> Result<Option<SessionRow>, sqlx::Error> {
    query_as(&format!("{SESSION_SELECT} WHERE s.id = $1"))
        .bind(session_id)
        .fetch_optional(conn)
        .await
}
