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
