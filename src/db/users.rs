//! Queries over users, bancas, ventanas and their links used by the admin commands.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::roles::Role;

/// A user row to insert.
pub struct NewUser<'a> {
    pub name: &'a str,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub password_hash: &'a str,
    pub role: Role,
    pub ventana_id: Option<Uuid>,
    pub banca_id: Option<Uuid>,
}

pub async fn username_exists(conn: &mut PgConnection, username: &str) -> Result<bool, sqlx::Error> {
    crate::db::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE username = $1::citext)")
        .bind(username)
        .fetch_one(conn)
        .await
}

pub async fn insert_user(conn: &mut PgConnection, u: &NewUser<'_>) -> Result<Uuid, sqlx::Error> {
    crate::db::query_scalar(
        "INSERT INTO users (name, username, email, password_hash, role, ventana_id, banca_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(u.name)
    .bind(u.username)
    .bind(u.email)
    .bind(u.password_hash)
    .bind(u.role)
    .bind(u.ventana_id)
    .bind(u.banca_id)
    .fetch_one(conn)
    .await
}

/// Inserts or refreshes a user by username (demo data); returns its id.
pub async fn upsert_user(conn: &mut PgConnection, u: &NewUser<'_>) -> Result<Uuid, sqlx::Error> {
    crate::db::query_scalar(
        "INSERT INTO users (name, username, email, password_hash, role, ventana_id, banca_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (username) DO UPDATE SET
             name = EXCLUDED.name, password_hash = EXCLUDED.password_hash, role = EXCLUDED.role,
             ventana_id = EXCLUDED.ventana_id, banca_id = EXCLUDED.banca_id,
             is_active = true, deleted_at = NULL, updated_at = now()
         RETURNING id",
    )
    .bind(u.name)
    .bind(u.username)
    .bind(u.email)
    .bind(u.password_hash)
    .bind(u.role)
    .bind(u.ventana_id)
    .bind(u.banca_id)
    .fetch_one(conn)
    .await
}

/// Inserts or re-activates a banca by code; returns its id.
pub async fn upsert_banca(
    conn: &mut PgConnection,
    name: &str,
    code: &str,
) -> Result<Uuid, sqlx::Error> {
    crate::db::query_scalar(
        "INSERT INTO bancas (name, code) VALUES ($1, $2)
         ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, is_active = true,
             deleted_at = NULL, updated_at = now()
         RETURNING id",
    )
    .bind(name)
    .bind(code)
    .fetch_one(conn)
    .await
}

/// Inserts or re-activates a ventana by code; returns its id.
pub async fn upsert_ventana(
    conn: &mut PgConnection,
    banca_id: Uuid,
    name: &str,
    code: &str,
) -> Result<Uuid, sqlx::Error> {
    crate::db::query_scalar(
        "INSERT INTO ventanas (banca_id, name, code) VALUES ($1, $2, $3)
         ON CONFLICT (code) DO UPDATE SET banca_id = EXCLUDED.banca_id, name = EXCLUDED.name,
             is_active = true, deleted_at = NULL, updated_at = now()
         RETURNING id",
    )
    .bind(banca_id)
    .bind(name)
    .bind(code)
    .fetch_one(conn)
    .await
}

/// Links a user to a banca as its default banca.
pub async fn link_default_banca(
    conn: &mut PgConnection,
    user_id: Uuid,
    banca_id: Uuid,
) -> Result<(), sqlx::Error> {
    crate::db::query("UPDATE user_bancas SET is_default = false, updated_at = now() WHERE user_id = $1 AND banca_id <> $2")
        .bind(user_id)
        .bind(banca_id)
        .execute(&mut *conn)
        .await?;
    crate::db::query(
        "INSERT INTO user_bancas (user_id, banca_id, is_default) VALUES ($1, $2, true)
         ON CONFLICT (user_id, banca_id) DO UPDATE SET is_default = true, updated_at = now()",
    )
    .bind(user_id)
    .bind(banca_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// `(id, username)` of the oldest active ADMIN (DISABLE_AUTH in development).
pub async fn oldest_active_admin(
    conn: &mut PgConnection,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    crate::db::query_as(
        "SELECT id, username::text FROM users
         WHERE role = 'ADMIN' AND is_active AND deleted_at IS NULL ORDER BY created_at LIMIT 1",
    )
    .fetch_optional(conn)
    .await
}

/// What login needs of a user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginUser {
    pub id: Uuid,
    pub role: Role,
    pub password_hash: String,
    pub is_active: bool,
    pub deleted: bool,
    pub ventana_id: Option<Uuid>,
    /// Profile banca, else the ventana's banca.
    pub banca_id: Option<Uuid>,
    pub max_sessions_per_vendedor: Option<i32>,
}

pub async fn find_for_login(
    conn: &mut PgConnection,
    username: &str,
) -> Result<Option<LoginUser>, sqlx::Error> {
    crate::db::query_as(
        "SELECT u.id, u.role, u.password_hash, u.is_active, (u.deleted_at IS NOT NULL) AS deleted,
                u.ventana_id, COALESCE(v.banca_id, u.banca_id) AS banca_id, u.max_sessions_per_vendedor
         FROM users u LEFT JOIN ventanas v ON v.id = u.ventana_id
         WHERE u.username = $1::citext",
    )
    .bind(username)
    .fetch_optional(conn)
    .await
}

pub async fn find_for_login_by_id(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<LoginUser>, sqlx::Error> {
    crate::db::query_as(
        "SELECT u.id, u.role, u.password_hash, u.is_active, (u.deleted_at IS NOT NULL) AS deleted,
                u.ventana_id, COALESCE(v.banca_id, u.banca_id) AS banca_id, u.max_sessions_per_vendedor
         FROM users u LEFT JOIN ventanas v ON v.id = u.ventana_id
         WHERE u.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn set_password_hash(
    conn: &mut PgConnection,
    id: Uuid,
    hash: &str,
) -> Result<(), sqlx::Error> {
    crate::db::query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_client_info(
    conn: &mut PgConnection,
    id: Uuid,
    platform: Option<&str>,
    app_version: Option<&str>,
) -> Result<(), sqlx::Error> {
    crate::db::query(
        "UPDATE users SET platform = COALESCE($2, platform), app_version = COALESCE($3, app_version)
         WHERE id = $1",
    )
    .bind(id)
    .bind(platform)
    .bind(app_version)
    .execute(conn)
    .await?;
    Ok(())
}

/// A user as shown by the API (never the password hash), with its ventana and banca.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub name: String,
    pub username: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub code: Option<String>,
    pub ventana_id: Option<Uuid>,
    /// The profile banca (`users.banca_id`).
    pub profile_banca_id: Option<Uuid>,
    /// Profile banca, else the ventana's banca.
    pub banca_id: Option<Uuid>,
    pub is_active: bool,
    pub settings: Option<serde_json::Value>,
    pub platform: Option<String>,
    pub app_version: Option<String>,
    pub max_sessions_per_vendedor: Option<i32>,
    pub commission_policy_json: Option<serde_json::Value>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub ventana_name: Option<String>,
    pub ventana_code: Option<String>,
    pub ventana_banca_id: Option<Uuid>,
    pub banca_name: Option<String>,
    pub banca_code: Option<String>,
}

/// The SELECT list and joins for `UserRow`; append a WHERE clause.
pub const USER_SELECT: &str =
    "SELECT u.id, u.name, u.username::text AS username, u.email::text AS email,
        u.phone, u.role, u.code, u.ventana_id, u.banca_id AS profile_banca_id,
        COALESCE(u.banca_id, v.banca_id) AS banca_id, u.is_active, u.settings, u.platform,
        u.app_version, u.max_sessions_per_vendedor, u.commission_policy_json, u.created_at,
        u.updated_at, u.deleted_at, v.name AS ventana_name, v.code AS ventana_code,
        v.banca_id AS ventana_banca_id, b.name AS banca_name, b.code AS banca_code
    FROM users u
    LEFT JOIN ventanas v ON v.id = u.ventana_id
    LEFT JOIN bancas b ON b.id = COALESCE(u.banca_id, v.banca_id)";

pub async fn find_row(conn: &mut PgConnection, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    crate::db::query_as(&format!("{USER_SELECT} WHERE u.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}
