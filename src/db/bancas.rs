//! Queries over bancas and the user↔banca links.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{query_as, query_scalar};

/// True when the banca exists, is active and not deleted.
pub async fn is_active(conn: &mut PgConnection, banca_id: Uuid) -> Result<bool, sqlx::Error> {
    query_scalar(
        "SELECT EXISTS (SELECT 1 FROM bancas WHERE id = $1 AND is_active AND deleted_at IS NULL)",
    )
    .bind(banca_id)
    .fetch_one(conn)
    .await
}

/// Active bancas linked to a user, the default first.
pub async fn assigned_to(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    query_scalar(
        "SELECT ub.banca_id FROM user_bancas ub JOIN bancas b ON b.id = ub.banca_id
         WHERE ub.user_id = $1 AND b.is_active AND b.deleted_at IS NULL
         ORDER BY ub.is_default DESC, ub.created_at ASC",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// `{id, name, code}` of a banca.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct BancaRef {
    pub id: Uuid,
    pub name: String,
    pub code: String,
}

/// The limits a VENDEDOR login checks, with the banca row locked.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionLimits {
    pub vendor_limit: Option<i32>,
    pub max_sessions_per_vendedor: i32,
}

pub async fn lock_session_limits(
    conn: &mut PgConnection,
    banca_id: Uuid,
) -> Result<Option<SessionLimits>, sqlx::Error> {
    query_as("SELECT vendor_limit, max_sessions_per_vendedor FROM bancas WHERE id = $1 FOR UPDATE")
        .bind(banca_id)
        .fetch_optional(conn)
        .await
}

/// Active bancas by name: every one (`ids = None`) or those listed.
pub async fn refs(
    conn: &mut PgConnection,
    ids: Option<&[Uuid]>,
) -> Result<Vec<BancaRef>, sqlx::Error> {
    query_as(
        "SELECT id, name, code FROM bancas
         WHERE is_active AND deleted_at IS NULL AND ($1::uuid[] IS NULL OR id = ANY($1))
         ORDER BY name",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
}
